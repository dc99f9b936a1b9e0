/* test-idmap: ID maps on the real kernel: malformed maps refused naming the
 * argument; host IDs checked against the caller's own and its subordinate
 * ranges (a /etc/subuid and /etc/subgid of the test's own, on an overlay of
 * /etc in the test's private mount namespace, read through libsubid); user
 * namespaces built from a map, and read back from an fd with their owner
 * checked; a tmpfs clone ID-mapped and seen with the mapped owners; a
 * filesystem that cannot be ID-mapped refused by name. Needs root. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <grp.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <glib/gstdio.h>

#include "vcm-error.h"
#include "vcm-fd.h"
#include "vcm-fdpath.h"
#include "vcm-idmap.h"
#include "vcm-test-main.h"
#include "vcm-test-util.h"

/* A user of the test's own /etc/passwd, with subordinate ranges in its own
 * /etc/subuid and /etc/subgid. */
#define TEST_USER "vcmidmaptest"
#define TEST_UID  4242
#define TEST_GID  4343
#define OTHER_UID 4244
#define SUB_START 300000
#define SUB_COUNT 65536

static VcmIdMap *
map_new (const char *uid_map, const char *gid_map)
{
  g_autoptr (GError) error = NULL;
  VcmIdMap *map = vcm_idmap_new ();
  g_autoptr (GVariant) u = g_variant_ref_sink (g_variant_new_parsed (uid_map));
  g_autoptr (GVariant) g = g_variant_ref_sink (g_variant_new_parsed (gid_map));

  g_assert_true (vcm_idmap_add_ranges_from_variant (map, VCM_ID_UID, u, "uid-map", &error));
  g_assert_no_error (error);
  g_assert_true (vcm_idmap_add_ranges_from_variant (map, VCM_ID_GID, g, "gid-map", &error));
  g_assert_no_error (error);
  return map;
}

static VcmCredentials *
test_user_creds (uid_t uid)
{
  gid_t groups[] = { TEST_GID, 27 };

  return vcm_credentials_new (uid, groups, G_N_ELEMENTS (groups));
}

/* ---- form ---------------------------------------------------------------- */

static void
expect_invalid (const char *uid_map, const char *gid_map, const char *why)
{
  g_autoptr (VcmIdMap) map = map_new (uid_map, gid_map);
  g_autoptr (GError) error = NULL;

  g_test_message ("%s: %s / %s", why, uid_map, gid_map);
  g_assert_false (vcm_idmap_validate (map, VCM_IDMAP_MAX_RANGES, "options.idmap", &error));
  vcm_test_assert_error (error, VCM_ERROR_INVALID_ARGUMENT, "options.idmap");
}

VCM_TEST ("/idmap/malformed", test_malformed)
{
  const char *ok = "[(uint32 0, uint32 1000, uint32 1)]";

  expect_invalid ("@a(uuu) []", ok, "no uid range");
  expect_invalid (ok, "@a(uuu) []", "no gid range");
  expect_invalid ("[(uint32 0, uint32 1000, uint32 0)]", ok, "count 0");
  expect_invalid ("[(uint32 4294967295, uint32 1000, uint32 1)]", ok, "inside is (uid_t) -1");
  expect_invalid ("[(uint32 0, uint32 4294967295, uint32 1)]", ok, "host is (uid_t) -1");
  expect_invalid ("[(uint32 1, uint32 1000, uint32 4294967295)]", ok, "inside wraps");
  expect_invalid ("[(uint32 4294967200, uint32 1000, uint32 200)]", ok, "inside past the end");
  expect_invalid ("[(uint32 0, uint32 4294967200, uint32 200)]", ok, "host past the end");
  expect_invalid (ok, "[(uint32 0, uint32 1000, uint32 10), (uint32 5, uint32 2000, uint32 10)]",
                  "inside ranges overlap");
  expect_invalid (ok, "[(uint32 0, uint32 1000, uint32 10), (uint32 50, uint32 1009, uint32 10)]",
                  "host ranges overlap");

  /* the last IDs there are, and adjacent ranges, are fine */
  {
    g_autoptr (VcmIdMap) map =
      map_new ("[(uint32 4294967294, uint32 0, uint32 1), (uint32 0, uint32 1, uint32 4294967293)]",
               "[(uint32 0, uint32 1000, uint32 10), (uint32 10, uint32 1010, uint32 10)]");
    g_autoptr (GError) error = NULL;
    g_autofree char *s = NULL;

    g_assert_true (vcm_idmap_validate (map, VCM_IDMAP_MAX_RANGES, "options.idmap", &error));
    g_assert_no_error (error);
    s = vcm_idmap_to_string (map);
    g_assert_cmpstr (s, ==, "u:4294967294:0:1,u:0:1:4294967293,g:0:1000:10,g:10:1010:10");
  }
}

VCM_TEST ("/idmap/wrong-type-and-too-many", test_wrong_type_and_too_many)
{
  g_autoptr (VcmIdMap) map = vcm_idmap_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) wrong = g_variant_ref_sink (g_variant_new_parsed ("[(0, 1000)]"));
  g_autoptr (GVariantBuilder) b = g_variant_builder_new (G_VARIANT_TYPE ("a(uuu)"));
  g_autoptr (GVariant) many = NULL;

  g_assert_false (
    vcm_idmap_add_ranges_from_variant (map, VCM_ID_UID, wrong, "options.idmap.uid-map", &error));
  vcm_test_assert_error (error, VCM_ERROR_INVALID_ARGUMENT, "options.idmap.uid-map");
  g_clear_error (&error);

  for (guint i = 0; i <= VCM_IDMAP_MAX_RANGES; i++)
    g_variant_builder_add (b, "(uuu)", i * 10, 100000 + i * 10, 10);
  many = g_variant_ref_sink (g_variant_builder_end (b));
  g_assert_false (
    vcm_idmap_add_ranges_from_variant (map, VCM_ID_GID, many, "options.idmap.gid-map", &error));
  vcm_test_assert_error (error, VCM_ERROR_INVALID_ARGUMENT, "options.idmap.gid-map");
  g_assert_cmpuint (map->ranges[VCM_ID_GID]->len, ==, 0);
}

/* ---- who may map what ------------------------------------------------------ */

/* The test's own /etc: an overlay on the real one (in this private mount
 * namespace only), with the test user and its subordinate ranges. */
static void
setup_etc (void)
{
  g_autofree char *tmp = g_dir_make_tmp ("vcm-idmap-etc-XXXXXX", NULL);
  g_autofree char *upper = g_build_filename (tmp, "upper", NULL);
  g_autofree char *work = g_build_filename (tmp, "work", NULL);
  g_autofree char *opts = NULL;
  g_autofree char *passwd = NULL;
  g_autofree char *group = NULL;
  g_autofree char *subuid = g_strdup_printf ("other:100000:65536\n%s:%u:%u\n%u:500000:10\n", TEST_USER,
                                             SUB_START, SUB_COUNT, TEST_UID);
  g_autofree char *subgid = g_strdup_printf ("%s:%u:%u\n", TEST_USER, SUB_START, SUB_COUNT);

  vcm_test_mount ("tmpfs", tmp, "tmpfs", 0, "mode=0700");
  vcm_test_make_dir (upper);
  vcm_test_make_dir (work);
  opts = g_strdup_printf ("lowerdir=/etc,upperdir=%s,workdir=%s", upper, work);
  vcm_test_mount ("overlay", "/etc", "overlay", 0, opts);

  g_assert_true (g_file_get_contents ("/etc/passwd", &passwd, NULL, NULL));
  g_assert_true (g_file_get_contents ("/etc/group", &group, NULL, NULL));
  {
    g_autofree char *p = g_strdup_printf ("%s%s:x:%u:%u::/nonexistent:/usr/sbin/nologin\n", passwd,
                                          TEST_USER, TEST_UID, TEST_GID);
    g_autofree char *g = g_strdup_printf ("%s%s:x:%u:\n", group, TEST_USER, TEST_GID);

    vcm_test_make_file ("/etc/passwd", p);
    vcm_test_make_file ("/etc/group", g);
  }
  vcm_test_make_file ("/etc/subuid", subuid);
  vcm_test_make_file ("/etc/subgid", subgid);
}

static void
expect_allowed (
  uid_t uid, const char *uid_map, const char *gid_map, gboolean check_shown, gboolean allowed)
{
  g_autoptr (VcmIdMap) map = map_new (uid_map, gid_map);
  g_autoptr (VcmCredentials) creds = test_user_creds (uid);
  g_autoptr (GError) error = NULL;
  gboolean ok;

  g_test_message ("uid %u: %s / %s%s: %s", (guint) uid, uid_map, gid_map,
                  check_shown ? " (both sides)" : "", allowed ? "allowed" : "refused");
  ok = vcm_idmap_check_allowed (map, creds, check_shown, "options.idmap", &error);
  if (allowed)
    {
      g_assert_no_error (error);
      g_assert_true (ok);
    }
  else
    {
      g_assert_false (ok);
      vcm_test_assert_error (error, VCM_ERROR_NOT_AUTHORIZED, "options.idmap");
      g_test_message ("  %s", error->message);
    }
}

/* (ID on the filesystem, ID shown, count) */
#define R(f, s, c) "[(uint32 " #f ", uint32 " #s ", uint32 " #c ")]"

VCM_TEST ("/idmap/ranges", test_ranges)
{
  const char *own_gid = R (4343, 0, 1);

  /* files of its own uid and gid, or of its subordinate ranges (whole or
   * in parts), shown as anyone's */
  expect_allowed (TEST_UID, R (4242, 0, 1), own_gid, FALSE, TRUE);
  expect_allowed (TEST_UID, R (300000, 0, 65536), R (300000, 0, 65536), FALSE, TRUE);
  expect_allowed (TEST_UID,
                  "[(uint32 4242, uint32 0, uint32 1), (uint32 300000, uint32 1, uint32 1000),"
                  " (uint32 365535, uint32 5000, uint32 1)]",
                  R (27, 1, 1), FALSE, TRUE);
  /* a line that names the owner by uid counts too (libsubid reads both) */
  expect_allowed (TEST_UID, R (500000, 0, 10), own_gid, FALSE, TRUE);

  /* files of others: one ID beyond the range; the range of another user;
   * root's files (shown as the caller's own uid: the attack); a group the
   * caller is not in; another caller with no ranges at all */
  expect_allowed (TEST_UID, R (300000, 0, 65537), own_gid, FALSE, FALSE);
  expect_allowed (TEST_UID, R (100000, 0, 1), own_gid, FALSE, FALSE);
  expect_allowed (TEST_UID, R (0, 4242, 1), own_gid, FALSE, FALSE);
  expect_allowed (TEST_UID, R (4242, 0, 1), R (0, 4343, 1), FALSE, FALSE);
  expect_allowed (TEST_UID, R (4242, 0, 1), R (4344, 0, 1), FALSE, FALSE);
  expect_allowed (TEST_UID, R (4242, 0, 2), own_gid, FALSE, FALSE);
  expect_allowed (OTHER_UID, R (300000, 0, 1), own_gid, FALSE, FALSE);
  expect_allowed (OTHER_UID, R (4244, 0, 1), own_gid, FALSE, TRUE);

  /* both sides (a namespace the caller passes): shown as its own too */
  expect_allowed (TEST_UID, R (300000, 4242, 1), R (300000, 4343, 1), TRUE, TRUE);
  expect_allowed (TEST_UID, R (300000, 0, 1), own_gid, TRUE, FALSE);

  /* root maps anything */
  {
    g_autoptr (VcmIdMap) map = map_new (R (0, 0, 65536), R (0, 0, 65536));
    g_autoptr (GError) error = NULL;

    g_assert_true (vcm_idmap_check_allowed (map, NULL, TRUE, "options.idmap", &error));
    g_assert_no_error (error);
  }
}

VCM_TEST ("/idmap/subid-file-changes", test_subid_file_changes)
{
  g_autofree char *saved = NULL;

  /* libsubid reads the file at each lookup: a range taken away is gone */
  g_assert_true (g_file_get_contents ("/etc/subuid", &saved, NULL, NULL));
  expect_allowed (TEST_UID, R (300000, 0, 10), R (4343, 0, 1), FALSE, TRUE);
  vcm_test_make_file ("/etc/subuid", "other:100000:65536\n");
  expect_allowed (TEST_UID, R (300000, 0, 10), R (4343, 0, 1), FALSE, FALSE);
  vcm_test_make_file ("/etc/subuid", saved);
}

/* ---- user namespaces ------------------------------------------------------- */

static gboolean
maps_equal (const VcmIdMap *a, const VcmIdMap *b)
{
  g_autofree char *sa = vcm_idmap_to_string (a);
  g_autofree char *sb = vcm_idmap_to_string (b);

  g_test_message ("%s vs %s", sa, sb);
  return g_str_equal (sa, sb);
}

VCM_TEST ("/idmap/make-and-read-userns", test_make_and_read_userns)
{
  g_autoptr (VcmIdMap) map =
    map_new ("[(uint32 0, uint32 300000, uint32 65536), (uint32 70000, uint32 4242, uint32 1)]",
             R (0, 300000, 65536));
  g_autoptr (VcmIdMap) back = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (VcmCredentials) creds = test_user_creds (TEST_UID);
  vcm_autofd int fd = vcm_idmap_make_userns (map, &error);

  g_assert_no_error (error);
  g_assert_cmpint (fd, >=, 0);

  back = vcm_idmap_read_userns (fd, NULL, "options.idmap.userns", &error);
  g_assert_no_error (error);
  g_assert_true (maps_equal (map, back));

  /* made by the service (root): not the caller's */
  g_clear_pointer (&back, vcm_idmap_free);
  back = vcm_idmap_read_userns (fd, creds, "options.idmap.userns", &error);
  g_assert_null (back);
  vcm_test_assert_error (error, VCM_ERROR_NOT_AUTHORIZED, "options.idmap.userns");
  g_clear_error (&error);

  /* no child is left behind */
  g_assert_cmpint (waitpid (-1, NULL, WNOHANG), ==, -1);
  g_assert_cmpint (errno, ==, ECHILD);
}

/* A user namespace made by a process of @uid with "@inside @uid 1" and
 * "0 TEST_GID 1" (@inside 0) or "TEST_GID TEST_GID 1" as its maps (what an unprivileged user may write
 * itself), or no maps with !@write_maps. Returns its fd. */
static int
userns_of_user (uid_t uid, guint inside, gboolean write_maps)
{
  int ready[2], done[2];
  pid_t pid;
  char c = 0;
  g_autofree char *path = NULL;
  int fd;

  g_assert_cmpint (pipe2 (ready, O_CLOEXEC), ==, 0);
  g_assert_cmpint (pipe2 (done, O_CLOEXEC), ==, 0);
  pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      char buf[64];
      int n, mfd;

      close (ready[0]);
      close (done[1]);
      if (setgroups (0, NULL) < 0 || setresgid (TEST_GID, TEST_GID, TEST_GID) < 0 ||
          setresuid (uid, uid, uid) < 0 || prctl (PR_SET_DUMPABLE, 1) < 0 || unshare (CLONE_NEWUSER) < 0)
        _exit (1);
      if (write_maps)
        {
          mfd = open ("/proc/self/setgroups", O_WRONLY);
          if (mfd < 0 || write (mfd, "deny", 4) != 4)
            _exit (2);
          close (mfd);
          n = snprintf (buf, sizeof buf, "%u %u 1\n", inside == 0 ? 0 : (guint) TEST_GID,
                        (guint) TEST_GID);
          mfd = open ("/proc/self/gid_map", O_WRONLY);
          if (mfd < 0 || write (mfd, buf, n) != n)
            _exit (3);
          close (mfd);
          n = snprintf (buf, sizeof buf, "%u %u 1\n", inside, (guint) uid);
          mfd = open ("/proc/self/uid_map", O_WRONLY);
          if (mfd < 0 || write (mfd, buf, n) != n)
            _exit (4);
          close (mfd);
        }
      if (write (ready[1], "x", 1) != 1)
        _exit (5);
      (void) !read (done[0], &c, 1);
      _exit (0);
    }
  close (ready[1]);
  close (done[0]);
  if (read (ready[0], &c, 1) != 1)
    {
      int status = 0;

      g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
      g_error ("the namespace's maker failed: status %d", status);
    }
  path = g_strdup_printf ("/proc/%d/ns/user", (int) pid);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  g_assert_cmpint (fd, >=, 0);
  close (done[1]);
  close (ready[0]);
  g_assert_cmpint (waitpid (pid, NULL, 0), ==, pid);
  return fd;
}

VCM_TEST ("/idmap/userns-of-caller", test_userns_of_caller)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (VcmCredentials) creds = test_user_creds (TEST_UID);
  g_autoptr (VcmCredentials) other = test_user_creds (OTHER_UID);
  vcm_autofd int fd = userns_of_user (TEST_UID, TEST_UID, TRUE);
  vcm_autofd int as_root = userns_of_user (TEST_UID, 0, TRUE);
  vcm_autofd int empty = userns_of_user (TEST_UID, 0, FALSE);
  g_autoptr (VcmIdMap) map = NULL;
  g_autoptr (VcmIdMap) want = map_new (R (4242, 4242, 1), R (4343, 4343, 1));

  /* its owner: read back (kept alive by the fd alone) and allowed */
  map = vcm_idmap_read_userns (fd, creds, "options.idmap.userns", &error);
  g_assert_no_error (error);
  g_assert_true (maps_equal (map, want));
  g_assert_true (vcm_idmap_check_allowed (map, creds, TRUE, "options.idmap.userns", &error));
  g_assert_no_error (error);

  /* another user's */
  g_clear_pointer (&map, vcm_idmap_free);
  map = vcm_idmap_read_userns (fd, other, "options.idmap.userns", &error);
  g_assert_null (map);
  vcm_test_assert_error (error, VCM_ERROR_NOT_AUTHORIZED, "options.idmap.userns");
  g_clear_error (&error);

  /* its own, the usual "0 UID 1": as an ID map it would show root's files
   * as the caller's */
  map = vcm_idmap_read_userns (as_root, creds, "options.idmap.userns", &error);
  g_assert_no_error (error);
  g_assert_false (vcm_idmap_check_allowed (map, creds, TRUE, "options.idmap.userns", &error));
  vcm_test_assert_error (error, VCM_ERROR_NOT_AUTHORIZED, "options.idmap.userns");
  g_clear_error (&error);
  g_clear_pointer (&map, vcm_idmap_free);

  /* a namespace without maps yet */
  map = vcm_idmap_read_userns (empty, creds, "options.idmap.userns", &error);
  g_assert_null (map);
  vcm_test_assert_error (error, VCM_ERROR_INVALID_ARGUMENT, "options.idmap.userns");
}

/* As in the service: not dumpable (a thread took a caller's fsuid) and
 * without CAP_SYS_PTRACE, it must still make and read namespaces. */
VCM_TEST ("/idmap/userns-without-ptrace", test_userns_without_ptrace)
{
  pid_t pid = fork ();
  int status = 0;

  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
      struct __user_cap_data_struct data[2] = { { 0 } };
      g_autoptr (VcmIdMap) map = map_new (R (300000, 0, 65536), R (300000, 0, 65536));
      g_autoptr (VcmIdMap) back = NULL;
      int fd;

      if (syscall (SYS_capget, &hdr, data) < 0)
        _exit (10);
      data[CAP_TO_INDEX (CAP_SYS_PTRACE)].effective &= ~CAP_TO_MASK (CAP_SYS_PTRACE);
      if (syscall (SYS_capset, &hdr, data) < 0 || prctl (PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
        _exit (11);
      fd = vcm_idmap_make_userns (map, NULL);
      if (fd < 0)
        _exit (12);
      back = vcm_idmap_read_userns (fd, NULL, "fd", NULL);
      _exit (back != NULL && maps_equal (map, back) ? 0 : 13);
    }
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);
}

VCM_TEST ("/idmap/not-a-userns", test_not_a_userns)
{
  const char *paths[] = { "/proc/self/ns/mnt", "/proc/self/ns/user", "/etc/passwd", "/" };

  for (gsize i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      g_autoptr (GError) error = NULL;
      vcm_autofd int fd = open (paths[i], O_RDONLY | O_CLOEXEC);
      g_autoptr (VcmIdMap) map = NULL;

      g_assert_cmpint (fd, >=, 0);
      map = vcm_idmap_read_userns (fd, NULL, "options.idmap.userns", &error);
      g_test_message ("%s: %s", paths[i], error ? error->message : "(accepted)");
      g_assert_null (map);
      vcm_test_assert_error (error, VCM_ERROR_INVALID_ARGUMENT, "options.idmap.userns");
    }
}

/* ---- the option -------------------------------------------------------------- */

static int
option_fd (const char *text, const int *fds, int n_fds, uid_t uid, VcmIdMap **out_map, GError **error)
{
  g_autoptr (GVariant) value = g_variant_ref_sink (g_variant_new_parsed (text));
  g_autoptr (VcmCredentials) creds = uid == 0 ? NULL : test_user_creds (uid);

  g_test_message ("%s", text);
  return vcm_idmap_from_option (value, fds, n_fds, creds, "options.idmap", out_map, error);
}

static void
expect_option_error (const char *text, const int *fds, int n_fds, int code, const char *arg)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (VcmIdMap) map = NULL;
  int fd = option_fd (text, fds, n_fds, TEST_UID, &map, &error);

  g_assert_cmpint (fd, ==, -1);
  g_assert_null (map);
  vcm_test_assert_error (error, code, arg);
  if (error != NULL)
    g_test_message ("  %s", error->message);
}

VCM_TEST ("/idmap/option", test_option)
{
  vcm_autofd int own = userns_of_user (TEST_UID, TEST_UID, TRUE);
  vcm_autofd int usual = userns_of_user (TEST_UID, 0, TRUE);
  int fds[] = { own, usual };
  const int inval = VCM_ERROR_INVALID_ARGUMENT;

  /* malformed */
  expect_option_error ("{'uid-map': <[(uint32 4242, uint32 0, uint32 1)]>, 'gid': <0>}", fds, 2, inval,
                       "options.idmap.gid");
  expect_option_error ("{'uid-map': <[(uint32 4242, uint32 0, uint32 1)]>}", fds, 2, inval,
                       "options.idmap");
  expect_option_error ("@a{sv} {}", fds, 2, inval, "options.idmap");
  expect_option_error ("{'uid-map': <[(uint32 4242, uint32 0, uint32 1)]>, 'gid-map': <[(uint32 4343, "
                       "uint32 0, uint32 1)]>, 'userns': <handle 0>}",
                       fds, 2, inval, "options.idmap");
  expect_option_error ("{'userns': <0>}", fds, 2, inval, "options.idmap.userns");
  expect_option_error ("{'userns': <handle 2>}", fds, 2, inval, "options.idmap.userns");
  expect_option_error ("{'uid-map': <[(0, 1)]>, 'gid-map': <[(uint32 4343, uint32 0, uint32 1)]>}", fds,
                       2, inval, "options.idmap.uid-map");
  expect_option_error ("{'uid-map': <[(uint32 4242, uint32 0, uint32 0)]>, 'gid-map': <[(uint32 4343, "
                       "uint32 0, uint32 1)]>}",
                       fds, 2, inval, "options.idmap");
  /* not the caller's */
  expect_option_error ("{'uid-map': <[(uint32 0, uint32 4242, uint32 1)]>, 'gid-map': <[(uint32 4343, "
                       "uint32 0, uint32 1)]>}",
                       fds, 2, VCM_ERROR_NOT_AUTHORIZED, "options.idmap");
  expect_option_error ("{'userns': <handle 1>}", fds, 2, VCM_ERROR_NOT_AUTHORIZED,
                       "options.idmap.userns");

  /* a map: a namespace of the service's own that carries it */
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (VcmIdMap) map = NULL;
    g_autofree char *s = NULL;
    vcm_autofd int fd =
      option_fd ("{'uid-map': <[(uint32 4242, uint32 0, uint32 1), (uint32 300000, "
                 "uint32 1, uint32 65536)]>, 'gid-map': <[(uint32 4343, uint32 0, uint32 1)]>}",
                 fds, 2, TEST_UID, &map, &error);
    g_autoptr (VcmIdMap) back = NULL;

    g_assert_no_error (error);
    g_assert_cmpint (fd, >=, 0);
    s = vcm_idmap_to_string (map);
    g_assert_cmpstr (s, ==, "u:4242:0:1,u:300000:1:65536,g:4343:0:1");
    back = vcm_idmap_read_userns (fd, NULL, "fd", &error);
    g_assert_no_error (error);
    g_assert_true (maps_equal (map, back));
  }
  /* the caller's own namespace, with its maps as read */
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (VcmIdMap) map = NULL;
    g_autofree char *s = NULL;
    vcm_autofd int fd = option_fd ("{'userns': <handle 0>}", fds, 2, TEST_UID, &map, &error);
    struct stat a, b;

    g_assert_no_error (error);
    g_assert_cmpint (fd, >=, 0);
    g_assert_cmpint (fd, !=, own);
    s = vcm_idmap_to_string (map);
    g_assert_cmpstr (s, ==, "u:4242:4242:1,g:4343:4343:1");
    g_assert_cmpint (fstat (fd, &a), ==, 0);
    g_assert_cmpint (fstat (own, &b), ==, 0);
    g_assert_cmpuint (a.st_ino, ==, b.st_ino);
  }
  /* root may pass any namespace */
  {
    g_autoptr (GError) error = NULL;
    vcm_autofd int fd = option_fd ("{'userns': <handle 1>}", fds, 2, 0, NULL, &error);

    g_assert_no_error (error);
    g_assert_cmpint (fd, >=, 0);
  }
}

/* ---- applying one ------------------------------------------------------------ */

static void
stat_owner (int dir_fd, const char *name, uid_t *uid, gid_t *gid)
{
  struct stat st;

  g_assert_cmpint (fstatat (dir_fd, name, &st, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH), ==, 0);
  *uid = st.st_uid;
  *gid = st.st_gid;
}

VCM_TEST ("/idmap/apply-tmpfs", test_apply_tmpfs)
{
  g_autoptr (VcmTestWorld) w = vcm_test_world_new ();
  g_autoptr (VcmIdMap) map = map_new (R (300000, 0, 65536), R (300000, 0, 65536));
  g_autoptr (GError) error = NULL;
  g_autofree char *file = g_build_filename (w->src, "owned", NULL);
  g_autofree char *target = g_build_filename (w->root, "target", NULL);
  vcm_autofd int userns = -1;
  vcm_autofd int tree = -1;
  vcm_autofd int target_fd = -1;
  gboolean idmapped = TRUE;
  uid_t uid;
  gid_t gid;

  vcm_test_make_file (file, "x");
  g_assert_cmpint (chown (file, 300005, 300007), ==, 0);
  g_assert_cmpint (chown (w->src, 300000, 300000), ==, 0);
  vcm_test_make_dir (target);

  userns = vcm_idmap_make_userns (map, &error);
  g_assert_no_error (error);
  tree = open_tree (AT_FDCWD, w->src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
  g_assert_cmpint (tree, >=, 0);
  g_assert_true (vcm_idmap_apply (tree, userns, TRUE, w->src, &error));
  g_assert_no_error (error);

  /* the detached clone shows the mapped owners; the source does not */
  stat_owner (tree, "owned", &uid, &gid);
  g_assert_cmpuint (uid, ==, 5);
  g_assert_cmpuint (gid, ==, 7);
  stat_owner (tree, "", &uid, &gid);
  g_assert_cmpuint (uid, ==, 0);
  stat_owner (AT_FDCWD, file, &uid, &gid);
  g_assert_cmpuint (uid, ==, 300005);
  /* an owner outside the map shows as the overflow ID */
  stat_owner (tree, "hello", &uid, &gid);
  g_assert_cmpuint (uid, ==, 65534);

  /* attached, so do stat(2) and the mount table */
  target_fd = open (target, O_PATH | O_CLOEXEC);
  g_assert_cmpint (
    move_mount (tree, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH), ==, 0);
  {
    g_autofree char *p = g_build_filename (target, "owned", NULL);

    stat_owner (AT_FDCWD, p, &uid, &gid);
    g_assert_cmpuint (uid, ==, 5);
  }
  vcm_clear_fd (&target_fd);
  target_fd = open (target, O_PATH | O_CLOEXEC);
  g_assert_true (vcm_idmap_fd_is_idmapped (target_fd, &idmapped, &error));
  g_assert_no_error (error);
  g_assert_true (idmapped);
  {
    vcm_autofd int src_fd = open (w->src, O_PATH | O_CLOEXEC);

    g_assert_true (vcm_idmap_fd_is_idmapped (src_fd, &idmapped, &error));
    g_assert_false (idmapped);
  }

  /* a file made through the mount by root is stored as the mapped host ID */
  {
    g_autofree char *made = g_build_filename (target, "made", NULL);
    g_autofree char *stored = g_build_filename (w->src, "made", NULL);

    vcm_test_make_file (made, "y");
    stat_owner (AT_FDCWD, stored, &uid, &gid);
    g_assert_cmpuint (uid, ==, 300000);
    g_assert_cmpuint (gid, ==, 300000);
  }
  g_assert_cmpint (umount2 (target, MNT_DETACH), ==, 0);
}

VCM_TEST ("/idmap/apply-refused", test_apply_refused)
{
  g_autoptr (VcmIdMap) map = map_new (R (0, 300000, 65536), R (0, 300000, 65536));
  g_autoptr (GError) error = NULL;
  vcm_autofd int userns = vcm_idmap_make_userns (map, &error);
  vcm_autofd int tree = -1;

  g_assert_no_error (error);
  /* proc cannot be ID-mapped: said by name */
  tree = open_tree (AT_FDCWD, "/proc", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  g_assert_cmpint (tree, >=, 0);
  g_assert_false (vcm_idmap_apply (tree, userns, FALSE, "/proc", &error));
  vcm_test_assert_error (error, VCM_ERROR_FAILED, "/proc");
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "(proc)"));
  g_assert_nonnull (strstr (error->message, "does not support ID-mapped mounts"));
  g_clear_error (&error);

  /* an attached mount cannot be ID-mapped afterwards */
  vcm_clear_fd (&tree);
  tree = open_tree (AT_FDCWD, "/tmp", OPEN_TREE_CLOEXEC);
  g_assert_cmpint (tree, >=, 0);
  g_assert_false (vcm_idmap_apply (tree, userns, FALSE, "/tmp", &error));
  g_assert_nonnull (error);
}

/* A caller's own directories, ID-mapped to show as root's (0755, uid 0),
 * must not pass for root's alone: the caller can rename them through its
 * own path, and a mount beneath them would drop out of sight. */
VCM_TEST ("/idmap/mount-point-on-idmapped-mount", test_mount_point_on_idmapped_mount)
{
  g_autoptr (VcmTestWorld) w = vcm_test_world_new ();
  g_autoptr (VcmIdMap) map = map_new (R (4242, 0, 1), R (4343, 0, 1));
  g_autoptr (VcmCredentials) creds = test_user_creds (TEST_UID);
  g_autoptr (GError) error = NULL;
  g_autofree char *own = g_build_filename (w->root, "alice", NULL);
  g_autofree char *deep = g_build_filename (own, "d", "e", NULL);
  g_autofree char *target = g_build_filename (w->shared, "x", NULL);
  g_autofree char *shown = g_build_filename (target, "d", NULL);
  vcm_autofd int userns = -1;
  vcm_autofd int tree = -1;
  vcm_autofd int target_fd = -1;
  vcm_autofd int shared_fd = -1;
  struct stat st;

  vcm_test_make_dir (deep);
  g_assert_cmpint (chown (own, TEST_UID, TEST_GID), ==, 0);
  g_assert_cmpint (chown (deep, TEST_UID, TEST_GID), ==, 0);
  {
    g_autofree char *d = g_build_filename (own, "d", NULL);

    g_assert_cmpint (chown (d, TEST_UID, TEST_GID), ==, 0);
  }
  vcm_test_make_dir (target);

  userns = vcm_idmap_make_userns (map, &error);
  g_assert_no_error (error);
  tree = open_tree (AT_FDCWD, own, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  g_assert_cmpint (tree, >=, 0);
  g_assert_true (vcm_idmap_apply (tree, userns, FALSE, own, &error));
  g_assert_no_error (error);
  target_fd = open (target, O_PATH | O_CLOEXEC);
  g_assert_cmpint (
    move_mount (tree, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH), ==, 0);

  /* it does look like root's */
  g_assert_cmpint (stat (shown, &st), ==, 0);
  g_assert_cmpuint (st.st_uid, ==, 0);
  g_assert_cmpuint (st.st_mode & 0022, ==, 0);

  shared_fd = open (w->shared, O_PATH | O_DIRECTORY | O_CLOEXEC);
  g_assert_false (
    vcm_fdpath_check_immovable (shared_fd, w->shared, "x/d/e/leaf", creds, "destination", &error));
  vcm_test_assert_error (error, VCM_ERROR_INVALID_ARGUMENT, "destination");
  g_test_message ("%s", error ? error->message : "(accepted)");
  g_clear_error (&error);
  g_assert_cmpint (umount2 (target, MNT_DETACH), ==, 0);
}

VCM_TEST_MAIN (vcm_test_enter_private_mount_ns, setup_etc, NULL);
