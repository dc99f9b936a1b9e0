/* test-prompt: the details and the authentication prompt computed from a
 * resolved request (vcm-prompt): one name per concept, values as resolved,
 * each value quoted, escaped and shortened so that a caller cannot write
 * text of its own into an administrator's prompt. */
#include "config.h"

#include <string.h>

#include "vcm-mounter.h"
#include "vcm-prompt.h"
#include "vcm-test-main.h"

VCM_TEST ("/prompt/quote/plain", test_quote_plain)
{
  g_autofree char *q = vcm_prompt_quote ("/srv/alice/data");

  g_assert_cmpstr (q, ==, "'/srv/alice/data'");
}

VCM_TEST ("/prompt/quote/escapes", test_quote_escapes)
{
  struct {
    const char *in, *out;
  } cases[] = {
    { "a\nb", "'a\\x0ab'" },
    { "a\rb\tc", "'a\\x0db\\x09c'" },
    { "it's", "'it\\'s'" },
    { "back\\slash", "'back\\\\slash'" },
    { "$(read_only)", "'\\x24(read_only)'" },
    { "\x7f", "'\\x7f'" },
    { "a\u202eb", "'a\\u{202e}b'" },               /* right-to-left override */
    { "a\u2028b", "'a\\u{2028}b'" },               /* line separator */
    { "a\u200bb", "'a\\u{200b}b'" },               /* zero-width space (format) */
    { "a\u3164b", "'a\\u{3164}b'" },               /* Hangul filler: a letter that shows nothing */
    { "a\u2003b", "'a\\u{2003}b'" },               /* em space */
    { "etc\u2044passwd", "'etc\\u{2044}passwd'" }, /* fraction slash, a look-alike of '/' */
    { "caf\u00e9", "'caf\\u{00e9}'" },             /* every character beyond ASCII */
    { "\xff\xfe", "'\\u{fffd}\\u{fffd}'" },        /* not UTF-8: replacement characters */
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *q = vcm_prompt_quote (cases[i].in);

      g_assert_cmpstr (q, ==, cases[i].out);
      g_assert_null (strchr (q, '\n'));
    }
}

VCM_TEST ("/prompt/quote/shortens", test_quote_shortens)
{
  g_autoptr (GString) long_value = g_string_new ("/start");
  g_autofree char *q = NULL;

  for (int i = 0; i < 100; i++)
    g_string_append (long_value, "/middle");
  g_string_append (long_value, "/end");
  q = vcm_prompt_quote (long_value->str);
  g_assert_cmpint (g_utf8_strlen (q, -1), ==, VCM_PROMPT_MAX_VALUE + 2);
  g_assert_true (g_str_has_prefix (q, "'/start/middle"));
  g_assert_true (g_str_has_suffix (q, "/middle/end'"));
  g_assert_nonnull (strstr (q, "\u2026"));
}

static VcmMountRequest *
request (VcmMountOp op,
         const char *sandbox_id,
         const char *container_id,
         const char *source,
         const char *mount_point,
         gboolean read_only)
{
  VcmMountRequest *req = g_new0 (VcmMountRequest, 1);

  req->op = op;
  req->source_fd = -1;
  req->sandbox_id = g_strdup (sandbox_id);
  req->container_id = g_strdup (container_id);
  req->source = g_strdup (source);
  req->mount_point = g_strdup (mount_point);
  req->read_only = read_only;
  return req;
}

VCM_TEST ("/prompt/request", test_request_details)
{
  VcmMountRequest *bind =
    request (VCM_MOUNT_OP_BIND, "alice", "d1", "/srv/alice/data", "/run/vc/shared/alice/d1", TRUE);
  VcmMountRequest *rootfs = request (VCM_MOUNT_OP_MOUNT_ROOTFS, "sb1", "c1", "/var/lib/r1",
                                     "/run/vc/shared/sb1/c1/rootfs", FALSE);
  VcmMountRequest *unmount =
    request (VCM_MOUNT_OP_UNMOUNT, NULL, NULL, NULL, "/run/vc/shared/x y", FALSE);
  VcmMountRequest *foreign =
    request (VCM_MOUNT_OP_MOUNT_ROOTFS, "sb1", "c2", "/etc", "/run/vc/shared/sb1/c2/rootfs", FALSE);
  g_autofree char *m1 = NULL, *m2 = NULL, *m3 = NULL, *m4 = NULL;
  g_autoptr (GHashTable) d1 = NULL, d2 = NULL, d3 = NULL, d4 = NULL;

  bind->source_owned = TRUE;
  rootfs->source_owned = TRUE;
  foreign->write_foreign = TRUE;
  d1 = vcm_prompt_request (bind, &m1);
  d2 = vcm_prompt_request (rootfs, &m2);
  d3 = vcm_prompt_request (unmount, &m3);
  d4 = vcm_prompt_request (foreign, &m4);

  /* Only what the prompt made of them is looked at below. */
  vcm_mount_request_free (bind);
  vcm_mount_request_free (rootfs);
  vcm_mount_request_free (unmount);
  vcm_mount_request_free (foreign);

  g_assert_cmpstr (g_hash_table_lookup (d1, "source"), ==, "/srv/alice/data");
  g_assert_cmpstr (g_hash_table_lookup (d1, "mount_point"), ==, "/run/vc/shared/alice/d1");
  g_assert_cmpstr (g_hash_table_lookup (d1, "sandbox_id"), ==, "alice");
  g_assert_cmpstr (g_hash_table_lookup (d1, "container_id"), ==, "d1");
  g_assert_cmpstr (g_hash_table_lookup (d1, "read_only"), ==, "true");
  g_assert_cmpstr (g_hash_table_lookup (d1, "source_owned"), ==, "true");
  g_assert_cmpuint (g_hash_table_size (d1), ==, 6);
  g_assert_cmpstr (m1, ==,
                   "Bind-mount a file or directory\n"
                   "Source: '/srv/alice/data'\n"
                   "Mount point: '/run/vc/shared/alice/d1'\n"
                   "Sandbox: 'alice'\n"
                   "Container: 'd1'\n"
                   "Access: read-only");

  /* the same names for MountRootfs: its rootfs is the "source" */
  g_assert_cmpstr (g_hash_table_lookup (d2, "source"), ==, "/var/lib/r1");
  g_assert_cmpstr (g_hash_table_lookup (d2, "mount_point"), ==, "/run/vc/shared/sb1/c1/rootfs");
  g_assert_cmpstr (g_hash_table_lookup (d2, "read_only"), ==, "false");
  g_assert_false (g_hash_table_contains (d2, "rootfs"));
  g_assert_true (g_str_has_suffix (m2, "\nAccess: writable"));

  /* writable, of what the caller does not own: said in the prompt and the details */
  g_assert_cmpstr (g_hash_table_lookup (d4, "source_owned"), ==, "false");
  g_assert_cmpstr (g_hash_table_lookup (d4, "read_only"), ==, "false");
  g_assert_true (g_str_has_suffix (m4, "\nAccess: writable, of what the caller does not own"));

  /* an unmount: where, and no source; no sandbox is "" */
  g_assert_false (g_hash_table_contains (d3, "source"));
  g_assert_false (g_hash_table_contains (d3, "read_only"));
  g_assert_cmpstr (g_hash_table_lookup (d3, "sandbox_id"), ==, "");
  g_assert_cmpstr (m3, ==,
                   "Unmount a mount, with everything mounted below it\n"
                   "Mount point: '/run/vc/shared/x y'");
}

VCM_TEST ("/prompt/sandbox-and-query", test_sandbox_and_query)
{
  g_autofree char *m1 = NULL, *m2 = NULL, *m3 = NULL;
  g_autoptr (GHashTable) d1 = vcm_prompt_sandbox ("sb1", &m1);
  g_autoptr (GHashTable) d2 = vcm_prompt_query ("/dev/sda", &m2);
  g_autoptr (GHashTable) d3 = vcm_prompt_query (NULL, &m3);

  g_assert_cmpstr (g_hash_table_lookup (d1, "sandbox_id"), ==, "sb1");
  g_assert_cmpstr (m1, ==,
                   "Unmount the root filesystems of every container of a sandbox\nSandbox: 'sb1'");
  g_assert_cmpstr (g_hash_table_lookup (d2, "path"), ==, "/dev/sda");
  g_assert_cmpstr (m2, ==, "Query mounts and devices\nPath: '/dev/sda'");
  g_assert_cmpuint (g_hash_table_size (d3), ==, 0);
  g_assert_cmpstr (m3, ==, "Query mounts and devices");
}

VCM_TEST_MAIN (NULL, NULL, NULL);
