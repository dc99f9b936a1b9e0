/* test-validate: unit tests of vcm-validate (IDs, absolute paths,
 * normalization, prefix rules, the system-mount and host-device rules). */
#include "config.h"

#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <glib.h>

#include "vcm-error.h"
#include "vcm-test-main.h"
#include "vcm-validate.h"

static void
assert_invalid (gboolean ok, GError *error, const char *arg_name)
{
  g_assert_false (ok);
  g_assert_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT);
  g_assert_true (g_str_has_prefix (error->message, arg_name));
  g_assert_true (error->message[strlen (arg_name)] == ':');
  g_assert_true (g_utf8_validate (error->message, -1, NULL));
}

VCM_TEST ("/validate/id/good", test_id_good)
{
  const char *good[] = { "a", "A", "0", "abc", "a.b", "a-b", "a_b", "a..", "0-._x", "sandbox-1234.5_X" };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_true (vcm_validate_id ("sandbox_id", good[i], &error));
      g_assert_no_error (error);
    }
}

VCM_TEST ("/validate/id/bad", test_id_bad)
{
  const char *bad[] = { "",    ".",    "..",   "a/b",         "/a",
                        "a/",  "-a",   ".a",   "_a",          "a b",
                        " a",  "a\tb", "a\nb", "caf\xc3\xa9", "\xc3\xa9t\xc3\xa9",
                        "a:b", "a*",   "\xff" };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      gboolean ok = vcm_validate_id ("container_id", bad[i], &error);
      assert_invalid (ok, error, "container_id");
    }
}

VCM_TEST ("/validate/id/null", test_id_null)
{
  g_autoptr (GError) error = NULL;
  gboolean ok = vcm_validate_id ("sandbox_id", NULL, &error);
  assert_invalid (ok, error, "sandbox_id");
}

VCM_TEST ("/validate/id/length", test_id_length)
{
  g_autofree char *id128 = g_strnfill (128, 'x');
  g_autofree char *id129 = g_strnfill (129, 'x');
  g_autoptr (GError) error = NULL;
  gboolean ok;

  g_assert_true (vcm_validate_id ("sandbox_id", id128, &error));
  g_assert_no_error (error);
  ok = vcm_validate_id ("sandbox_id", id129, &error);
  assert_invalid (ok, error, "sandbox_id");
}

VCM_TEST ("/validate/id/message", test_id_message)
{
  g_autoptr (GError) error = NULL;

  g_assert_false (vcm_validate_id ("sandbox_id", "x/y", &error));
  g_assert_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "sandbox_id: "));
  g_assert_nonnull (strstr (error->message, "'x/y'"));
}

VCM_TEST ("/validate/id/huge-input", test_id_huge_input_truncated)
{
  g_autoptr (GError) error = NULL;
  gsize len = 1024 * 1024;
  g_autofree char *huge = g_strnfill (len, 'y');

  huge[10] = '/';
  g_assert_false (vcm_validate_id ("sandbox_id", huge, &error));
  g_assert_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT);
  g_assert_cmpuint (strlen (error->message), <, 256);
}

VCM_TEST ("/validate/quote", test_quote)
{
  g_autofree char *q1 = vcm_validate_quote ("short");
  g_autofree char *q2 = NULL;
  g_autofree char *q3 = NULL;
  g_autofree char *long_utf8 = NULL;
  g_autoptr (GString) s = g_string_new (NULL);

  g_assert_cmpstr (q1, ==, "short");

  q2 = vcm_validate_quote ("ab\xff\xfe"
                           "cd");
  g_assert_true (g_utf8_validate (q2, -1, NULL));
  g_assert_true (g_str_has_prefix (q2, "ab"));
  g_assert_true (g_str_has_suffix (q2, "cd"));

  for (guint i = 0; i < 100; i++)
    g_string_append (s, "\xc3\xa9");
  long_utf8 = g_string_free (g_steal_pointer (&s), FALSE);
  q3 = vcm_validate_quote (long_utf8);
  g_assert_true (g_utf8_validate (q3, -1, NULL));
  g_assert_true (g_str_has_suffix (q3, "..."));
  g_assert_cmpint (g_utf8_strlen (q3, -1), ==, 64 + 3);
}

VCM_TEST ("/validate/path/valid", test_path_valid)
{
  const char *good[] = { "/", "/a", "/a/b/", "//x", "/a/../b", "/caf\xc3\xa9" };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_true (vcm_validate_absolute_path ("path", good[i], &error));
      g_assert_no_error (error);
    }
}

VCM_TEST ("/validate/path/invalid", test_path_invalid)
{
  const char *bad[] = { "", "a", "a/b", "./a", "../a", " /a", "/a\xff" };
  g_autofree char *too_long = g_strnfill (PATH_MAX, 'p');
  g_autofree char *max_ok = g_strnfill (PATH_MAX - 1, 'p');

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      gboolean ok = vcm_validate_absolute_path ("mount_point", bad[i], &error);
      assert_invalid (ok, error, "mount_point");
    }

  {
    g_autoptr (GError) error = NULL;
    gboolean ok = vcm_validate_absolute_path ("path", NULL, &error);
    assert_invalid (ok, error, "path");
  }

  too_long[0] = '/';
  max_ok[0] = '/';
  {
    g_autoptr (GError) error = NULL;
    gboolean ok = vcm_validate_absolute_path ("path", too_long, &error);
    assert_invalid (ok, error, "path");
    g_assert_cmpuint (strlen (error->message), <, 256);
  }
  {
    g_autoptr (GError) error = NULL;
    g_assert_true (vcm_validate_absolute_path ("path", max_ok, &error));
    g_assert_no_error (error);
  }
}

VCM_TEST ("/validate/path/normalize", test_normalize)
{
  const struct {
    const char *in, *out;
  } cases[] = {
    { "/", "/" },
    { "///", "/" },
    { "/sys//", "/sys" },
    { "/sys/", "/sys" },
    { "/../dev/block", "/dev/block" },
    { "/a/./b/../c/", "/a/c" },
    { "/a/b/c/../../..", "/" },
    { "/a/b/c/../../../../..", "/" },
    { "/./.", "/" },
    { "/a/..b/.c/...", "/a/..b/.c/..." },
    { "//proc///self/", "/proc/self" },
    { "/dev/shm/../null", "/dev/null" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *out = vcm_path_normalize (cases[i].in);
      g_assert_cmpstr (out, ==, cases[i].out);
    }
}

VCM_TEST ("/validate/path/prefix", test_prefix)
{
  g_assert_true (vcm_path_has_prefix ("/a/b", "/a/b"));
  g_assert_true (vcm_path_has_prefix ("/a/b/c", "/a/b"));
  g_assert_false (vcm_path_has_prefix ("/a/bc", "/a/b"));
  g_assert_false (vcm_path_has_prefix ("/a", "/a/b"));
  g_assert_true (vcm_path_has_prefix ("/anything", "/"));
  g_assert_true (vcm_path_has_prefix ("/", "/"));

  g_assert_cmpstr (vcm_path_relative_to ("/a/b", "/a/b"), ==, "");
  g_assert_cmpstr (vcm_path_relative_to ("/a/b/c/d", "/a/b"), ==, "c/d");
  g_assert_null (vcm_path_relative_to ("/a/bc", "/a/b"));
  g_assert_cmpstr (vcm_path_relative_to ("/x/y", "/"), ==, "x/y");
  g_assert_cmpstr (vcm_path_relative_to ("/", "/"), ==, "");
}

VCM_TEST ("/validate/system-mount", test_system_mount)
{
  g_assert_true (vcm_path_is_system_mount ("/proc"));
  g_assert_true (vcm_path_is_system_mount ("/proc/x"));
  g_assert_true (vcm_path_is_system_mount ("/proc/self/fd"));
  g_assert_true (vcm_path_is_system_mount ("/sys"));
  g_assert_true (vcm_path_is_system_mount ("/sys/x"));
  g_assert_false (vcm_path_is_system_mount ("/procfoo"));
  g_assert_false (vcm_path_is_system_mount ("/sysfoo"));
  g_assert_false (vcm_path_is_system_mount ("/"));
  g_assert_false (vcm_path_is_system_mount ("/dev"));
  g_assert_false (vcm_path_is_system_mount ("/a/proc"));
}

VCM_TEST ("/validate/host-device/rule", test_host_device_rule)
{
  /* The rule itself, on made-up stat results. */
  g_assert_true (vcm_path_host_device_rule ("/dev", TRUE, S_IFDIR | 0755));
  g_assert_true (vcm_path_host_device_rule ("/dev", FALSE, 0));
  g_assert_true (vcm_path_host_device_rule ("/dev/sda", TRUE, S_IFBLK | 0660));
  g_assert_true (vcm_path_host_device_rule ("/dev/null", TRUE, S_IFCHR | 0666));
  g_assert_true (vcm_path_host_device_rule ("/dev/pts", TRUE, S_IFDIR | 0755));
  g_assert_true (vcm_path_host_device_rule ("/dev/log", TRUE, S_IFSOCK | 0666));
  g_assert_true (vcm_path_host_device_rule ("/dev/initctl", TRUE, S_IFIFO | 0600));
  g_assert_false (vcm_path_host_device_rule ("/dev/shm/file", TRUE, S_IFREG | 0644));
  g_assert_false (vcm_path_host_device_rule ("/dev/missing", FALSE, 0));
  g_assert_false (vcm_path_host_device_rule ("/devfoo", TRUE, S_IFCHR | 0666));
  g_assert_false (vcm_path_host_device_rule ("/tmp/sda", TRUE, S_IFBLK | 0666));
  g_assert_false (vcm_path_host_device_rule ("/", TRUE, S_IFDIR | 0755));
}

VCM_TEST ("/validate/host-device/real", test_host_device_real)
{
  /* The stat'ing variant, on this system's /dev. */
  g_assert_true (vcm_path_is_host_device ("/dev"));
  g_assert_true (vcm_path_is_host_device ("/dev/null"));
  g_assert_false (vcm_path_is_host_device ("/devfoo"));
  g_assert_false (vcm_path_is_host_device ("/dev/nonexistent-vcm-test"));
  g_assert_false (vcm_path_is_host_device ("/proc"));
  g_assert_false (vcm_path_is_host_device ("/"));
}

VCM_TEST ("/validate/error-domain", test_error_domain)
{
  g_autoptr (GError) error = NULL;

  g_assert_false (vcm_validate_absolute_path ("destination", "relative/dir", &error));
  g_assert_true (error->domain == VCM_ERROR);
  g_assert_cmpint (error->code, ==, VCM_ERROR_INVALID_ARGUMENT);
  g_assert_true (g_str_has_prefix (error->message, "destination: "));
  g_assert_nonnull (strstr (error->message, "relative/dir"));
}

VCM_TEST_MAIN (NULL, NULL, NULL);
