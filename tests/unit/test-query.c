/* test-query: in-process tests of vcm-query against real mounts. The binary
 * enters a private mount namespace first (unshare(CLONE_NEWNS) + a recursive
 * MS_PRIVATE on "/"), so nothing it mounts is seen outside it. Needs root. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "vcm-ascaller.h"
#include "vcm-error.h"
#include "vcm-query.h"
#include "vcm-test-main.h"
#include "vcm-test-util.h"
#include "vcm-testing.h"
#include "vcm-validate.h"

#define NOBODY_UID 65534

/* The credentials the bus reports for a process of @uid started with
 * setpriv --clear-groups: the uid and its one group. */
static VcmCredentials *
creds_of (uid_t uid, GError **error)
{
  const gid_t gid = uid;

  (void) error;
  return vcm_credentials_new (uid, &gid, 1);
}

/* The mounts and files every test uses; made once in main(). */
static struct {
  char *tmp;        /* the temp dir, 0755 */
  char *t;          /* tmpfs "vcmtest-src" */
  char *b;          /* bind mount of t/sub */
  char *s;          /* tmpfs "stack1", then tmpfs "stack2" on top */
  char *ro;         /* read-only bind mount of t/sub */
  char *sysfs;      /* fake sysfs tree */
  gboolean dev_shm; /* a tmpfs of our own is mounted on /dev/shm */
  guint stack1_major, stack1_minor;
  GPtrArray *mounts; /* mount points to detach at the end, in mount order */
} fx;

/* ---- helpers ----------------------------------------------------------- */

static void
do_mount (
  const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)
{
  if (mount (source, target, fstype, flags, data) != 0)
    g_error ("mount %s on %s: %s", source ? source : "(null)", target, g_strerror (errno));
  if (!(flags & (MS_REMOUNT | MS_SHARED | MS_PRIVATE | MS_SLAVE)))
    g_ptr_array_add (fx.mounts, g_strdup (target));
}

static void
make_dir (const char *path, int mode)
{
  if (g_mkdir_with_parents (path, mode) != 0)
    g_error ("mkdir %s: %s", path, g_strerror (errno));
  if (chmod (path, mode) != 0)
    g_error ("chmod %s: %s", path, g_strerror (errno));
}

static void
make_file (const char *path, int mode)
{
  g_autoptr (GError) error = NULL;

  if (!g_file_set_contents (path, "vcm\n", -1, &error))
    g_error ("%s", error->message);
  if (chmod (path, mode) != 0)
    g_error ("chmod %s: %s", path, g_strerror (errno));
}

static void
stat_dev (const char *path, guint *major_out, guint *minor_out, guint64 *mnt_id_out)
{
  struct statx stx = { 0 };

  g_assert_cmpint (statx (AT_FDCWD, path, 0, STATX_BASIC_STATS | 0x1000U /* STATX_MNT_ID */, &stx), ==,
                   0);
  *major_out = stx.stx_dev_major;
  *minor_out = stx.stx_dev_minor;
  if (mnt_id_out != NULL)
    *mnt_id_out = stx.stx_mnt_id;
}

/* findmnt's view of the mount holding @path: columns (raw, space separated). */
static char **
findmnt (const char *columns, const char *path)
{
  const char *argv[] = { "findmnt", "-n", "-r", "-v", "-o", columns, "-T", path, NULL };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr (GError) error = NULL;
  int status = 0;

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &status,
                     &error))
    g_error ("findmnt: %s", error->message);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_strchomp (out);
  /* With stacked mounts findmnt -T may print more than one line: keep the last. */
  {
    char *last = strrchr (out, '\n');
    return g_strsplit (last != NULL ? last + 1 : out, " ", -1);
  }
}

static VcmQuery *
kernel_query (void)
{
  return vcm_query_new (fx.sysfs, vcm_mount_table_source_kernel, NULL, NULL);
}

static void
assert_error_names (GError *error, int code, const char *arg_name)
{
  g_assert_error (error, VCM_ERROR, code);
  g_assert_true (g_str_has_prefix (error->message, arg_name));
  g_assert_true (error->message[strlen (arg_name)] == ':');
}

static char *
status_line (const char *key)
{
  g_autofree char *contents = NULL;
  g_auto (GStrv) lines = NULL;

  g_assert_true (g_file_get_contents ("/proc/thread-self/status", &contents, NULL, NULL));
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], key))
      return g_strdup (lines[i]);
  g_assert_not_reached ();
}

static void
assert_thread_fsids_root (void)
{
  g_autofree char *uid = status_line ("Uid:");
  g_autofree char *gid = status_line ("Gid:");
  g_auto (GStrv) u = g_strsplit_set (uid, " \t", -1);
  g_auto (GStrv) g = g_strsplit_set (gid, " \t", -1);
  g_autoptr (GPtrArray) uf = g_ptr_array_new ();
  g_autoptr (GPtrArray) gf = g_ptr_array_new ();

  for (guint i = 0; u[i] != NULL; i++)
    if (u[i][0] != '\0')
      g_ptr_array_add (uf, u[i]);
  for (guint i = 0; g[i] != NULL; i++)
    if (g[i][0] != '\0')
      g_ptr_array_add (gf, g[i]);

  /* "Uid:  real effective saved fs" */
  g_assert_cmpuint (uf->len, ==, 5);
  g_assert_cmpstr (g_ptr_array_index (uf, 4), ==, "0");
  g_assert_cmpuint (gf->len, ==, 5);
  g_assert_cmpstr (g_ptr_array_index (gf, 4), ==, "0");
}

/* ---- GetDeviceForPath ---------------------------------------------------- */

static void
check_device_for_path (const char *path, const char *expected_mount_point)
{
  g_autoptr (VcmQuery) query = kernel_query ();
  g_autoptr (GError) error = NULL;
  g_autofree char *mount_point = NULL;
  g_autofree char *normalized = vcm_path_normalize (path);
  g_autofree char *majmin = NULL;
  g_auto (GStrv) fm = NULL;
  guint maj = 0, min = 0, smaj, smin;

  g_assert_true (vcm_query_device_for_path (query, path, NULL, &maj, &min, &mount_point, &error));
  g_assert_no_error (error);

  stat_dev (normalized, &smaj, &smin, NULL);
  g_assert_cmpuint (maj, ==, smaj);
  g_assert_cmpuint (min, ==, smin);
  g_assert_cmpstr (mount_point, ==, expected_mount_point);

  fm = findmnt ("TARGET,MAJ:MIN", normalized);
  g_assert_cmpuint (g_strv_length (fm), ==, 2);
  majmin = g_strdup_printf ("%u:%u", maj, min);
  g_assert_cmpstr (fm[0], ==, mount_point);
  g_assert_cmpstr (fm[1], ==, majmin);
}

VCM_TEST ("/query/device-for-path/tmpfs", test_device_for_path_tmpfs)
{
  g_autofree char *f = g_build_filename (fx.t, "sub", "f", NULL);
  check_device_for_path (f, fx.t);
  check_device_for_path (fx.t, fx.t);
}

VCM_TEST ("/query/device-for-path/bind", test_device_for_path_bind)
{
  g_autofree char *f = g_build_filename (fx.b, "f", NULL);
  guint tmaj, tmin, bmaj, bmin;

  /* Same filesystem, same st_dev: a parent walk would say fx.t's parent. */
  stat_dev (fx.t, &tmaj, &tmin, NULL);
  stat_dev (fx.b, &bmaj, &bmin, NULL);
  g_assert_cmpuint (tmaj, ==, bmaj);
  g_assert_cmpuint (tmin, ==, bmin);

  check_device_for_path (f, fx.b);
  check_device_for_path (fx.b, fx.b);
}

VCM_TEST ("/query/device-for-path/stacked", test_device_for_path_stacked)
{
  guint maj, min;

  check_device_for_path (fx.s, fx.s);
  stat_dev (fx.s, &maj, &min, NULL);
  g_assert_false (maj == fx.stack1_major && min == fx.stack1_minor);
}

VCM_TEST ("/query/device-for-path/normalized", test_device_for_path_normalized)
{
  g_autofree char *messy = g_strdup_printf ("%s//t/./sub/../sub/f/", fx.tmp);
  g_autofree char *link = g_build_filename (fx.t, "link", "f", NULL);

  check_device_for_path (messy, fx.t);
  /* A symlink into the bind mount is followed. */
  check_device_for_path (link, fx.b);
  check_device_for_path ("/", "/");
}

VCM_TEST ("/query/device-for-path/errors", test_device_for_path_errors)
{
  g_autoptr (VcmQuery) query = kernel_query ();
  g_autofree char *missing = g_build_filename (fx.t, "missing", NULL);
  g_autofree char *under_file = g_build_filename (fx.t, "sub", "f", "x", NULL);
  const char *invalid[] = { "", "relative/path", "." };

  {
    g_autoptr (GError) error = NULL;
    g_assert_false (vcm_query_device_for_path (query, missing, NULL, NULL, NULL, NULL, &error));
    assert_error_names (error, VCM_ERROR_NOT_FOUND, "path");
  }
  {
    g_autoptr (GError) error = NULL;
    g_assert_false (vcm_query_device_for_path (query, under_file, NULL, NULL, NULL, NULL, &error));
    assert_error_names (error, VCM_ERROR_NOT_FOUND, "path");
  }
  for (guint i = 0; i < G_N_ELEMENTS (invalid); i++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_false (vcm_query_device_for_path (query, invalid[i], NULL, NULL, NULL, NULL, &error));
      assert_error_names (error, VCM_ERROR_INVALID_ARGUMENT, "path");
    }
  {
    g_autoptr (GError) error = NULL;
    g_assert_false (vcm_query_device_for_path (query, NULL, NULL, NULL, NULL, NULL, &error));
    assert_error_names (error, VCM_ERROR_INVALID_ARGUMENT, "path");
  }
}

/* A table source that first hands out a table without the mount asked for. */
typedef struct {
  char *stale_path;
  guint calls;
  guint forced;
  gboolean always_stale;
  gboolean fail;
} StaleSource;

static VcmMountTable *
stale_source (gpointer user_data, gboolean force_refresh)
{
  StaleSource *src = user_data;
  g_autoptr (GError) error = NULL;
  VcmMountTable *table;

  src->calls++;
  if (force_refresh)
    src->forced++;
  if (src->fail)
    return NULL;
  if (force_refresh && !src->always_stale)
    return vcm_mount_table_source_kernel (NULL, TRUE);
  table = vcm_mount_table_new_from_file (src->stale_path, &error);
  g_assert_no_error (error);
  return table;
}

VCM_TEST ("/query/device-for-path/refresh", test_device_for_path_refresh)
{
  StaleSource src = {
    0,
  };
  g_autofree char *mount_point = NULL;
  g_autofree char *f = g_build_filename (fx.t, "sub", "f", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) error2 = NULL;
  g_autoptr (GError) error3 = NULL;
  VcmQuery *query;
  guint maj, min;

  src.stale_path = g_build_filename (fx.tmp, "stale-mountinfo", NULL);
  g_assert_true (g_file_set_contents (src.stale_path, "1 0 8:1 / / rw - ext4 /dev/sda1 rw\n", -1, NULL));
  query = vcm_query_new (fx.sysfs, stale_source, &src, NULL);
  vcm_query_set_live (query, FALSE); /* the table path, as on kernels without statmount */

  g_assert_true (vcm_query_device_for_path (query, f, NULL, &maj, &min, &mount_point, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (mount_point, ==, fx.t);
  g_assert_cmpuint (src.calls, ==, 2);
  g_assert_cmpuint (src.forced, ==, 1);

  src.always_stale = TRUE;
  g_assert_false (vcm_query_device_for_path (query, f, NULL, &maj, &min, NULL, &error2));
  assert_error_names (error2, VCM_ERROR_FAILED, "path");

  src.fail = TRUE;
  g_assert_false (vcm_query_device_for_path (query, f, NULL, &maj, &min, NULL, &error3));
  assert_error_names (error3, VCM_ERROR_FAILED, "path");

  g_object_unref (query);
  g_unlink (src.stale_path);
  g_free (src.stale_path);
}

/* ---- GetDevicePathAndFsType -------------------------------------------------- */

static void
check_device_and_type (const char *mount_point, const char *device, const char *fs_type)
{
  g_autoptr (VcmQuery) query = kernel_query ();
  g_autoptr (GError) error = NULL;
  g_autofree char *out_device = NULL;
  g_autofree char *out_type = NULL;

  g_assert_true (
    vcm_query_device_path_and_fs_type (query, mount_point, NULL, &out_device, &out_type, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (out_device, ==, device);
  g_assert_cmpstr (out_type, ==, fs_type);
}

VCM_TEST ("/query/device-path-and-fs-type/ok", test_device_path_and_fs_type)
{
  g_autofree char *t_slash = g_strconcat (fx.t, "//", NULL);
  g_auto (GStrv) fm = findmnt ("SOURCE,FSTYPE", "/proc");

  check_device_and_type (fx.t, "vcmtest-src", "tmpfs");
  check_device_and_type (t_slash, "vcmtest-src", "tmpfs");
  check_device_and_type (fx.b, "vcmtest-src", "tmpfs");
  check_device_and_type (fx.s, "stack2", "tmpfs");
  check_device_and_type ("/proc", fm[0], fm[1]);
}

VCM_TEST ("/query/device-path-and-fs-type/errors", test_device_path_and_fs_type_errors)
{
  g_autoptr (VcmQuery) query = kernel_query ();
  g_autofree char *plain = g_build_filename (fx.t, "plain", NULL);
  g_autofree char *file = g_build_filename (fx.t, "sub", "f", NULL);
  g_autofree char *missing = g_build_filename (fx.t, "missing", NULL);
  const char *invalid[] = { "", "relative" };

  {
    g_autoptr (GError) error = NULL;
    g_autofree char *expected = g_strdup_printf ("mount_point: nothing is mounted at '%s'", plain);
    g_assert_false (vcm_query_device_path_and_fs_type (query, plain, NULL, NULL, NULL, &error));
    assert_error_names (error, VCM_ERROR_NOT_MOUNTED, "mount_point");
    g_assert_cmpstr (error->message, ==, expected);
  }
  {
    g_autoptr (GError) error = NULL;
    g_assert_false (vcm_query_device_path_and_fs_type (query, file, NULL, NULL, NULL, &error));
    assert_error_names (error, VCM_ERROR_NOT_MOUNTED, "mount_point");
  }
  {
    g_autoptr (GError) error = NULL;
    g_assert_false (vcm_query_device_path_and_fs_type (query, missing, NULL, NULL, NULL, &error));
    assert_error_names (error, VCM_ERROR_NOT_FOUND, "mount_point");
  }
  for (guint i = 0; i < G_N_ELEMENTS (invalid); i++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_false (vcm_query_device_path_and_fs_type (query, invalid[i], NULL, NULL, NULL, &error));
      assert_error_names (error, VCM_ERROR_INVALID_ARGUMENT, "mount_point");
    }
}

/* ---- IsDeviceMapper, IsSystemMount, IsHostDevice ------------------------------ */

VCM_TEST ("/query/device-mapper", test_device_mapper)
{
  g_autoptr (VcmQuery) query = kernel_query ();
  g_autoptr (VcmQuery) elsewhere = vcm_query_new (fx.tmp, vcm_mount_table_source_kernel, NULL, NULL);

  g_assert_true (vcm_query_is_device_mapper (query, 253, 0));
  g_assert_false (vcm_query_is_device_mapper (query, 8, 0));
  g_assert_false (vcm_query_is_device_mapper (query, 253, 1));
  g_assert_false (vcm_query_is_device_mapper (query, 4096, 1048576));
  /* The sysfs root is honoured: no tree there, no device mapper. */
  g_assert_false (vcm_query_is_device_mapper (elsewhere, 253, 0));
}

VCM_TEST ("/query/system-mount", test_system_mount)
{
  const struct {
    const char *path;
    gboolean expected;
  } cases[] = {
    { "/proc", TRUE },         { "/proc/x", TRUE },   { "/sys//", TRUE }, { "/sys/x", TRUE },
    { "/procfoo", FALSE },     { "/sysfoo", FALSE },  { "/", FALSE },     { "///", FALSE },
    { "/../proc/self", TRUE }, { "/proc/..", FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      gboolean result = !cases[i].expected;

      g_assert_true (vcm_query_is_system_mount (cases[i].path, &result, &error));
      g_assert_no_error (error);
      g_assert_cmpint (result, ==, cases[i].expected);
    }

  {
    g_autoptr (GError) error = NULL;
    gboolean result;
    g_assert_false (vcm_query_is_system_mount ("proc", &result, &error));
    assert_error_names (error, VCM_ERROR_INVALID_ARGUMENT, "path");
  }
}

static gboolean
host_device (const char *path, const VcmCredentials *creds)
{
  g_autoptr (GError) error = NULL;
  gboolean result = FALSE;

  g_assert_true (vcm_query_is_host_device (path, creds, &result, &error));
  g_assert_no_error (error);
  return result;
}

VCM_TEST ("/query/host-device", test_host_device)
{
  g_autoptr (VcmCredentials) nobody = creds_of (NOBODY_UID, NULL);

  g_assert_true (host_device ("/dev", NULL));
  g_assert_true (host_device ("/dev/", NULL));
  g_assert_true (host_device ("/dev/null", NULL));
  g_assert_true (host_device ("/dev/shm/../null", NULL));
  g_assert_false (host_device ("/devfoo", NULL));
  g_assert_false (host_device ("/dev/nonexistent-vcm", NULL));
  g_assert_false (host_device ("/proc", NULL));
  g_assert_false (host_device (fx.t, NULL));

  if (fx.dev_shm)
    {
      /* Our own tmpfs on /dev/shm (this namespace only): a regular file
       * below /dev is not a host device, a directory is. */
      g_assert_false (host_device ("/dev/shm/vcm-regular", NULL));
      g_assert_false (vcm_path_is_host_device ("/dev/shm/vcm-regular"));
      g_assert_true (host_device ("/dev/shm/vcm-dir", NULL));
      g_assert_true (vcm_path_is_host_device ("/dev/shm/vcm-dir"));
      g_assert_true (host_device ("/dev/shm/vcm-secret/dir", NULL));
      /* Unreachable for the caller: FALSE, like a missing path. */
      g_assert_nonnull (nobody);
      g_assert_false (host_device ("/dev/shm/vcm-secret/dir", nobody));
      g_assert_true (host_device ("/dev/shm/vcm-dir", nobody));
    }
  else
    g_test_message ("no /dev/shm: regular-file case not exercised");

  {
    g_autoptr (GError) error = NULL;
    gboolean result;
    g_assert_false (vcm_query_is_host_device ("", NULL, &result, &error));
    assert_error_names (error, VCM_ERROR_INVALID_ARGUMENT, "path");
  }
}

/* ---- credentials ----------------------------------------------------------- */

VCM_TEST ("/query/credentials/new", test_credentials_new)
{
  const gid_t groups[] = { 4321, 100, 200 };
  g_autoptr (VcmCredentials) c = vcm_credentials_new (4242, groups, G_N_ELEMENTS (groups));
  g_autoptr (VcmCredentials) copy = vcm_credentials_copy (c);

  /* as the bus reports them: the first group is the filesystem gid */
  g_assert_cmpuint (c->uid, ==, 4242);
  g_assert_cmpuint (c->gid, ==, 4321);
  g_assert_cmpuint (c->n_groups, ==, 3);
  g_assert_cmpuint (c->groups[2], ==, 200);
  g_assert_cmpuint (copy->uid, ==, 4242);
  g_assert_cmpuint (copy->n_groups, ==, 3);
  g_assert_true (copy->groups != c->groups);
  g_assert_false (vcm_credentials_is_root (c));
  g_assert_true (vcm_credentials_is_root (NULL));
}

VCM_TEST ("/query/credentials/open", test_credentials_open)
{
  g_autoptr (VcmCredentials) nobody = creds_of (NOBODY_UID, NULL);
  g_autoptr (VcmCredentials) root = creds_of (0, NULL);
  g_autofree char *secret = g_build_filename (fx.t, "secret", "file", NULL);
  g_autofree char *missing = g_build_filename (fx.t, "secret-not-there", NULL);
  g_autofree char *pub = g_build_filename (fx.t, "sub", "f", NULL);
  g_autofree char *groups_before = status_line ("Groups:");
  g_autofree char *groups_after = NULL;
  g_autoptr (GError) e_secret = NULL;
  g_autoptr (GError) e_missing = NULL;
  g_autofree char *m_secret = NULL;
  g_autofree char *m_missing = NULL;
  int fd;

  g_assert_nonnull (nobody);
  g_assert_nonnull (root);

  fd = vcm_open_path_as ("path", secret, nobody, &e_secret);
  g_assert_cmpint (fd, ==, -1);
  assert_error_names (e_secret, VCM_ERROR_NOT_FOUND, "path");
  assert_thread_fsids_root ();

  fd = vcm_open_path_as ("path", missing, nobody, &e_missing);
  g_assert_cmpint (fd, ==, -1);
  assert_error_names (e_missing, VCM_ERROR_NOT_FOUND, "path");

  /* Unreachable and missing say the same thing, but for the path itself. */
  m_secret = g_strdup (e_secret->message);
  m_missing = g_strdup (e_missing->message);
  g_assert_nonnull (strstr (m_secret, secret));
  g_assert_nonnull (strstr (m_missing, missing));
  *strstr (m_secret, secret) = '\0';
  *strstr (m_missing, missing) = '\0';
  g_assert_cmpstr (m_secret, ==, m_missing);

  /* A path nobody can reach is opened. */
  fd = vcm_open_path_as ("path", pub, nobody, NULL);
  g_assert_cmpint (fd, >=, 0);
  close (fd);

  /* With root's credentials, or none, the secret is reachable: and this
   * thread is root again after the switches above. */
  fd = vcm_open_path_as ("path", secret, root, NULL);
  g_assert_cmpint (fd, >=, 0);
  close (fd);
  fd = vcm_open_path_as ("path", secret, NULL, NULL);
  g_assert_cmpint (fd, >=, 0);
  close (fd);

  assert_thread_fsids_root ();
  groups_after = status_line ("Groups:");
  g_assert_cmpstr (groups_before, ==, groups_after);
  g_assert_cmpint (access (secret, R_OK), ==, 0);
}

VCM_TEST ("/query/credentials/queries", test_credentials_queries)
{
  g_autoptr (VcmQuery) query = kernel_query ();
  g_autoptr (VcmCredentials) nobody = creds_of (NOBODY_UID, NULL);
  g_autofree char *secret = g_build_filename (fx.t, "secret", "file", NULL);
  g_autofree char *secret_dir = g_build_filename (fx.t, "secret", NULL);
  g_autoptr (GError) e1 = NULL;
  g_autoptr (GError) e2 = NULL;
  g_autoptr (VcmPathFacts) info = NULL;
  g_autoptr (VcmPathFacts) info_root = NULL;

  g_assert_false (vcm_query_device_for_path (query, secret, nobody, NULL, NULL, NULL, &e1));
  assert_error_names (e1, VCM_ERROR_NOT_FOUND, "path");
  info = vcm_query_describe_path (query, secret, nobody, &e2);
  g_assert_null (info);
  assert_error_names (e2, VCM_ERROR_NOT_FOUND, "path");

  /* The 0700 directory itself is reachable (its parent is searchable). */
  info = vcm_query_describe_path (query, secret_dir, nobody, NULL);
  g_assert_nonnull (info);
  info_root = vcm_query_describe_path (query, secret, NULL, NULL);
  g_assert_nonnull (info_root);
  assert_thread_fsids_root ();
}

/* A thread switching its credentials does not change another's. */
static gpointer
switching_thread (gpointer data)
{
  const VcmCredentials *nobody = data;
  g_autofree char *pub = g_build_filename (fx.t, "sub", "f", NULL);

  for (guint i = 0; i < 2000; i++)
    {
      int fd = vcm_open_path_as ("path", pub, nobody, NULL);
      g_assert_cmpint (fd, >=, 0);
      close (fd);
    }
  return NULL;
}

VCM_TEST ("/query/credentials/per-thread", test_credentials_per_thread)
{
  g_autoptr (VcmCredentials) nobody = creds_of (NOBODY_UID, NULL);
  g_autofree char *secret = g_build_filename (fx.t, "secret", "file", NULL);
  GThread *thread = g_thread_new ("switcher", switching_thread, nobody);

  for (guint i = 0; i < 2000; i++)
    {
      int fd = vcm_open_path_as ("path", secret, NULL, NULL);
      g_assert_cmpint (fd, >=, 0);
      close (fd);
    }
  g_thread_join (thread);
  assert_thread_fsids_root ();
}

/* ---- DescribePath ------------------------------------------------------------ */

VCM_TEST ("/query/describe/ok", test_describe)
{
  g_autoptr (VcmQuery) query = kernel_query ();
  g_autoptr (GError) error = NULL;
  g_autofree char *f = g_build_filename (fx.b, "f", NULL);
  g_autofree char *ro_f = g_build_filename (fx.ro, "f", NULL);
  g_autofree char *expected_id = NULL;
  g_autofree char *dm_dir = NULL;
  g_auto (GStrv) fm = NULL;
  g_autoptr (VcmPathFacts) info = NULL;
  g_autoptr (VcmPathFacts) ro = NULL;
  g_autoptr (VcmPathFacts) proc = NULL;
  g_autoptr (VcmPathFacts) null = NULL;
  guint maj, min;
  guint64 mnt_id;

  /* Make fx.t's device look device-mapper backed in the fake sysfs. */
  stat_dev (f, &maj, &min, &mnt_id);
  dm_dir = g_strdup_printf ("%s/dev/block/%u:%u/dm", fx.sysfs, maj, min);
  make_dir (dm_dir, 0755);

  info = vcm_query_describe_path (query, f, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (info->major, ==, maj);
  g_assert_cmpuint (info->minor, ==, min);
  g_assert_cmpuint (info->mount_id, ==, mnt_id);
  g_assert_cmpstr (info->mount_point, ==, fx.b);
  g_assert_cmpstr (info->device, ==, "vcmtest-src");
  g_assert_cmpstr (info->fs_type, ==, "tmpfs");
  g_assert_false (info->read_only);
  g_assert_cmpstr (info->propagation, ==, "shared");
  g_assert_true (info->device_mapper);
  g_assert_false (info->system_mount);
  g_assert_false (info->host_device);

  fm = findmnt ("ID,TARGET,SOURCE,FSTYPE,PROPAGATION", f);
  expected_id = g_strdup_printf ("%" G_GUINT64_FORMAT, info->mount_id);
  g_assert_cmpstr (fm[0], ==, expected_id);
  g_assert_cmpstr (fm[1], ==, info->mount_point);
  g_assert_cmpstr (fm[2], ==, info->device);
  g_assert_cmpstr (fm[3], ==, info->fs_type);
  g_assert_cmpstr (fm[4], ==, info->propagation);

  ro = vcm_query_describe_path (query, ro_f, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ro->read_only);
  g_assert_cmpstr (ro->mount_point, ==, fx.ro);
  g_assert_cmpstr (ro->propagation, ==, "private");

  proc = vcm_query_describe_path (query, "/proc/self/", NULL, &error);
  g_assert_no_error (error);
  g_assert_true (proc->system_mount);
  g_assert_false (proc->host_device);
  g_assert_cmpstr (proc->fs_type, ==, "proc");

  null = vcm_query_describe_path (query, "/dev/null", NULL, &error);
  g_assert_no_error (error);
  g_assert_true (null->host_device);
  g_assert_false (null->system_mount);

  g_assert_cmpint (g_rmdir (dm_dir), ==, 0);
}

VCM_TEST ("/query/describe/errors", test_describe_errors)
{
  g_autoptr (VcmQuery) query = kernel_query ();
  g_autofree char *missing = g_build_filename (fx.t, "missing", NULL);
  g_autoptr (GError) e1 = NULL;
  g_autoptr (GError) e2 = NULL;

  g_assert_null (vcm_query_describe_path (query, missing, NULL, &e1));
  assert_error_names (e1, VCM_ERROR_NOT_FOUND, "path");
  g_assert_null (vcm_query_describe_path (query, "x", NULL, &e2));
  assert_error_names (e2, VCM_ERROR_INVALID_ARGUMENT, "path");
}

/* ---- the mount table against the kernel ------------------------------------- */

VCM_TEST ("/query/kernel-table", test_kernel_table)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (VcmMountTable) table = vcm_mount_table_new_from_kernel (&error);
  g_autoptr (GPtrArray) beneath = NULL;
  g_autoptr (GPtrArray) below_t = NULL;
  const VcmMountEntry *top;
  const VcmMountEntry *t;

  g_assert_no_error (error);

  top = vcm_mount_table_lookup_target (table, fx.s);
  g_assert_nonnull (top);
  g_assert_cmpstr (top->source, ==, "stack2");
  g_assert_false (top->major == fx.stack1_major && top->minor == fx.stack1_minor);

  t = vcm_mount_table_lookup_target (table, fx.t);
  g_assert_nonnull (t);
  g_assert_cmpstr (t->root, ==, "/");
  g_assert_cmpstr (vcm_mount_table_lookup_target (table, fx.b)->root, ==, "/sub");

  /* t, b, s (twice), ro; the fake sysfs is no mount. */
  beneath = vcm_mount_table_get_beneath (table, fx.tmp);
  g_assert_cmpuint (beneath->len, ==, 5);

  below_t = vcm_mount_table_get_descendants (table, t->id);
  g_assert_cmpuint (below_t->len, ==, 0);
}

/* ---- setup ------------------------------------------------------------------- */

static int
remove_entry (const char *path, const struct stat *st, int type, struct FTW *ftw)
{
  if (remove (path) != 0)
    g_warning ("remove %s: %s", path, g_strerror (errno));
  return 0;
}

static void
setup_fixture (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *sub = NULL;
  char *p;

  fx.mounts = g_ptr_array_new_with_free_func (g_free);
  fx.tmp = g_dir_make_tmp ("vcm-query-XXXXXX", &error);
  g_assert_no_error (error);
  make_dir (fx.tmp, 0755);

  fx.t = g_build_filename (fx.tmp, "t", NULL);
  fx.b = g_build_filename (fx.tmp, "b", NULL);
  fx.s = g_build_filename (fx.tmp, "s", NULL);
  fx.ro = g_build_filename (fx.tmp, "ro", NULL);
  fx.sysfs = g_build_filename (fx.tmp, "sysfs", NULL);

  make_dir (fx.t, 0755);
  do_mount ("vcmtest-src", fx.t, "tmpfs", 0, "mode=0755");
  sub = g_build_filename (fx.t, "sub", NULL);
  make_dir (sub, 0755);
  p = g_build_filename (sub, "f", NULL);
  make_file (p, 0644);
  g_free (p);
  p = g_build_filename (fx.t, "plain", NULL);
  make_dir (p, 0755);
  g_free (p);
  p = g_build_filename (fx.t, "secret", NULL);
  make_dir (p, 0700);
  g_free (p);
  p = g_build_filename (fx.t, "secret", "file", NULL);
  make_file (p, 0644);
  g_free (p);
  p = g_build_filename (fx.t, "link", NULL);
  if (symlink (fx.b, p) != 0)
    g_error ("symlink: %s", g_strerror (errno));
  g_free (p);

  make_dir (fx.b, 0755);
  do_mount (sub, fx.b, NULL, MS_BIND, NULL);
  do_mount (NULL, fx.b, NULL, MS_SHARED, NULL);

  make_dir (fx.ro, 0755);
  do_mount (sub, fx.ro, NULL, MS_BIND, NULL);
  do_mount (NULL, fx.ro, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL);

  make_dir (fx.s, 0755);
  do_mount ("stack1", fx.s, "tmpfs", 0, "mode=0755");
  stat_dev (fx.s, &fx.stack1_major, &fx.stack1_minor, NULL);
  do_mount ("stack2", fx.s, "tmpfs", 0, "mode=0755");

  p = g_build_filename (fx.sysfs, "dev", "block", "253:0", "dm", NULL);
  make_dir (p, 0755);
  g_free (p);
  p = g_build_filename (fx.sysfs, "dev", "block", "8:0", NULL);
  make_dir (p, 0755);
  g_free (p);

  if (g_file_test ("/dev/shm", G_FILE_TEST_IS_DIR))
    {
      do_mount ("vcmtest-shm", "/dev/shm", "tmpfs", 0, "mode=0755");
      make_file ("/dev/shm/vcm-regular", 0644);
      make_dir ("/dev/shm/vcm-dir", 0755);
      make_dir ("/dev/shm/vcm-secret", 0700);
      make_dir ("/dev/shm/vcm-secret/dir", 0755);
      fx.dev_shm = TRUE;
    }
}

static void
teardown_fixture (void)
{
  for (guint i = fx.mounts->len; i > 0; i--)
    {
      const char *target = g_ptr_array_index (fx.mounts, i - 1);
      if (umount2 (target, MNT_DETACH) != 0)
        g_warning ("umount %s: %s", target, g_strerror (errno));
    }
  /* Nothing is mounted below fx.tmp now; FTW_MOUNT keeps it that way. */
  nftw (fx.tmp, remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);

  g_ptr_array_unref (fx.mounts);
  g_free (fx.tmp);
  g_free (fx.t);
  g_free (fx.b);
  g_free (fx.s);
  g_free (fx.ro);
  g_free (fx.sysfs);
}

VCM_TEST_MAIN (vcm_test_enter_private_mount_ns, setup_fixture, teardown_fixture);
