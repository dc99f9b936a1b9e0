/* test-mounter-paths: the mounter's success paths (rootfs, binds of
 * directories and files, stacked and busy rootfs, submounts) and the
 * rollback of what a failed call created. */
#include "config.h"

#include "test-mounter.h"

/* ---- success paths ------------------------------------------------------------ */

static guint64
mnt_id_of (const char *path)
{
  guint64 id = 0;

  g_assert_cmpint (vcm_sys_stat_mount (AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, &id, NULL, NULL, NULL, NULL),
                   ==, 0);
  return id;
}

static void
assert_mounted (const char *path, gboolean ro)
{
  g_autofree char *prop = NULL;
  gboolean is_ro = FALSE;
  struct statvfs sv;

  g_assert_true (vcm_test_is_mount_root (path));
  g_assert_true (vcm_test_mount_info (path, &is_ro, &prop));
  g_assert_cmpint (is_ro, ==, ro);
  /* The world is a shared mount: the mounter must have made its own private. */
  g_assert_cmpstr (prop, ==, "private");
  g_assert_cmpint (statvfs (path, &sv), ==, 0);
  g_assert_cmpint ((sv.f_flag & ST_RDONLY) != 0, ==, ro);
}

static void
assert_write (const char *dir, const char *name, gboolean ro, const char *src_dir)
{
  g_autofree char *p = in (dir, name);
  g_autofree char *in_src = in (src_dir, name);
  int fd = open (p, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);

  if (ro)
    {
      g_assert_cmpint (fd, ==, -1);
      g_assert_cmpint (errno, ==, EROFS);
      g_assert_false (vcm_test_exists (in_src));
    }
  else
    {
      g_assert_cmpint (fd, >=, 0);
      close (fd);
      g_assert_true (vcm_test_exists (in_src)); /* a bind mount: it is the source */
      g_assert_cmpint (g_unlink (in_src), ==, 0);
    }
}

static void
rootfs_cycle (Fixture *f, gboolean ro)
{
  g_autofree char *sbx = in (f->w->shared, "sbx");
  g_autofree char *cdir = in (sbx, "c");
  g_autofree char *want = in (cdir, "rootfs");
  g_autofree char *hello = in (want, "hello");
  g_autofree char *outside_before = vcm_test_list_tree (f->w->outside);
  g_autofree char *outside_after = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (VcmRootfsRecord) r = NULL;
  g_auto (GStrv) detached = NULL;

  r = vcm_mounter_mount_rootfs (f->m, "sbx", "c", f->w->src, ro, NULL, &error);
  vcm_test_require_no_error (error);
  g_assert_nonnull (r);
  g_assert_cmpstr (r->sandbox_id, ==, "sbx");
  g_assert_cmpstr (r->container_id, ==, "c");
  g_assert_cmpstr (r->mount_point, ==, want);
  g_assert_cmpint (r->read_only, ==, ro);
  g_assert_cmpuint (r->mount_id, ==, mnt_id_of (want));
  assert_mounted (want, ro);
  g_assert_true (g_file_test (hello, G_FILE_TEST_IS_REGULAR));
  assert_write (want, "written", ro, f->w->src);

  detached = vcm_mounter_unmount_rootfs (f->m, "sbx", "c", &error);
  vcm_test_require_no_error (error);
  g_assert_cmpuint (g_strv_length (detached), ==, 1);
  g_assert_cmpstr (detached[0], ==, want);
  g_assert_cmpuint (vcm_test_count_mounts_at (want), ==, 0);
  /* The layout it made is gone again, the source untouched. */
  g_assert_false (vcm_test_exists (want));
  g_assert_false (vcm_test_exists (cdir));
  g_assert_false (vcm_test_exists (sbx));
  g_assert_true (g_file_test (f->w->src, G_FILE_TEST_IS_DIR));
  outside_after = vcm_test_list_tree (f->w->outside);
  g_assert_cmpstr (outside_after, ==, outside_before);
}

static void
test_rootfs_rw (Fixture *f, gconstpointer data)
{
  (void) data;
  rootfs_cycle (f, FALSE);
  rootfs_cycle (f, FALSE); /* and again, on the same names */
}

static void
test_rootfs_ro (Fixture *f, gconstpointer data)
{
  (void) data;
  rootfs_cycle (f, TRUE);
  rootfs_cycle (f, TRUE);
}

/* A read-only bind keeps what the source's mount forbids: with the classic
 * API the read-only remount must repeat nosuid, nodev and noexec, or a
 * setuid file of a nosuid mount (a USB stick) would work again through it. */
static void
test_rootfs_ro_keeps_source_flags (Fixture *f, gconstpointer data)
{
  g_autofree char *src = in (f->w->root, "nosuid-src");
  g_autoptr (GError) error = NULL;
  g_autoptr (VcmRootfsRecord) r = NULL;
  g_auto (GStrv) detached = NULL;
  struct statvfs sv;

  (void) data;
  vcm_test_make_dir (src);
  vcm_test_mount ("vcm-test", src, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755");
  for (int ro = 0; ro <= 1; ro++)
    {
      r = vcm_mounter_mount_rootfs (f->m, "sbf", "c", src, ro, NULL, &error);
      vcm_test_require_no_error (error);
      g_assert_cmpint (statvfs (r->mount_point, &sv), ==, 0);
      g_assert_cmpint ((sv.f_flag & ST_RDONLY) != 0, ==, ro);
      g_assert_true (sv.f_flag & ST_NOSUID);
      g_assert_true (sv.f_flag & ST_NODEV);
      g_assert_true (sv.f_flag & ST_NOEXEC);
      detached = vcm_mounter_unmount_rootfs (f->m, "sbf", "c", &error);
      vcm_test_require_no_error (error);
      g_clear_pointer (&detached, g_strfreev);
      g_clear_pointer (&r, vcm_rootfs_record_free);
    }
}

/* However many mounts an unmount detaches, and however long their names,
 * the list it returns stays under a megabyte (a bus message has a limit),
 * cut where it ends with "". */
static void
test_detached_list_bounded (Fixture *f, gconstpointer data)
{
  g_autoptr (GString) dest = g_string_new (f->w->shared);
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) detached = NULL;
  g_autofree char *sub = NULL;
  gsize bytes = 0;
  guint n;

  (void) data;
  /* long names: a long path within VCM_MAX_DESTINATION_DEPTH components */
  while (dest->len < 3900)
    {
      g_autofree char *name = g_strnfill (200, 'n');
      g_string_append_printf (dest, "/%s", name);
    }
  sub = in (dest->str, "sub");
  {
    g_autofree char *p = vcm_mounter_bind_mount (f->m, f->w->src, dest->str, TRUE, NULL, &error);
    vcm_test_require_no_error (error);
    g_assert_cmpstr (p, ==, dest->str);
  }
  for (int i = 0; i < 300; i++) /* 300 binds below it on one long path: 1.2 MB of names */
    {
      vcm_test_mount (f->w->src, sub, NULL, MS_BIND, NULL);
      vcm_test_mount (NULL, sub, NULL, MS_PRIVATE, NULL); /* no propagation among them */
    }
  detached = vcm_mounter_unmount (f->m, dest->str, &error);
  vcm_test_require_no_error (error);
  n = g_strv_length (detached);
  for (guint i = 0; i < n; i++)
    bytes += strlen (detached[i]);
  g_assert_cmpuint (bytes, <=, 1024 * 1024);
  g_assert_cmpuint (n, >, 200);
  g_assert_cmpuint (n, <, 301);
  g_assert_cmpstr (detached[n - 1], ==, "");
  g_assert_cmpstr (detached[0], ==, dest->str);
  while (vcm_test_is_mount_root (dest->str))
    g_assert_cmpint (umount2 (dest->str, MNT_DETACH), ==, 0);
}

static void
test_bind_dir (Fixture *f, gconstpointer data)
{
  g_autofree char *dest = g_build_filename (f->w->shared, "x", "y", "d", NULL);
  g_autofree char *hello = in (dest, "hello");
  g_autoptr (GError) error = NULL;

  (void) data;
  for (int ro = 0; ro <= 1; ro++)
    {
      g_autofree char *p = vcm_mounter_bind_mount (f->m, f->w->src, dest, ro, NULL, &error);
      g_auto (GStrv) detached = NULL;

      vcm_test_require_no_error (error);
      g_assert_cmpstr (p, ==, dest);
      assert_mounted (dest, ro);
      g_assert_true (g_file_test (hello, G_FILE_TEST_IS_REGULAR));
      assert_write (dest, "written", ro, f->w->src);
      detached = vcm_mounter_unmount (f->m, dest, &error);
      vcm_test_require_no_error (error);
      g_assert_cmpuint (g_strv_length (detached), ==, 1);
      g_assert_cmpstr (detached[0], ==, dest);
      g_assert_false (vcm_test_is_mount_root (dest));
      /* what the unmount left empty of the layout goes, up to the shared dir */
      g_assert_false (vcm_test_exists (dest));
      g_assert_true (g_file_test (f->w->shared, G_FILE_TEST_IS_DIR));
      {
        g_autofree char *x = g_build_filename (f->w->shared, "x", NULL);
        g_assert_false (vcm_test_exists (x));
      }
    }
}

/* A destination beneath a read-only mount (a read-only rootfs) cannot be
 * created: refused with the reason, nothing created or mounted anywhere. */
static void
test_bind_beneath_read_only (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (VcmRootfsRecord) r = NULL;
  g_auto (Snap) before = { 0 };
  g_auto (GStrv) detached = NULL;
  g_autofree char *new_in_src = NULL;

  (void) data;
  r = vcm_mounter_mount_rootfs (f->m, "rosb", "c1", f->w->src, TRUE, NULL, &error);
  vcm_test_require_no_error (error);
  before = snap_take (f);
  for (int as_file = 0; as_file <= 1; as_file++)
    {
      g_autofree char *dest = g_build_filename (r->mount_point, "new", "dir", NULL);
      g_autofree char *p =
        vcm_mounter_bind_mount (f->m, as_file ? f->w->src_file : f->w->src, dest, FALSE, NULL, &error);

      if (p != NULL)
        unexpected_success (f, &before, "BindMount beneath a read-only rootfs");
      g_assert_error (error, VCM_ERROR, VCM_ERROR_FAILED);
      g_assert_nonnull (strstr (error->message, "destination: cannot create"));
      g_assert_nonnull (strstr (error->message, g_strerror (EROFS)));
      g_clear_error (&error);
      snap_assert_same (f, &before);
    }
  new_in_src = g_build_filename (f->w->src, "new", NULL);
  g_assert_false (vcm_test_exists (new_in_src));
  detached = vcm_mounter_unmount_rootfs (f->m, "rosb", "c1", &error);
  vcm_test_require_no_error (error);
  g_assert_nonnull (detached);
}

static void
test_bind_file (Fixture *f, gconstpointer data)
{
  g_autofree char *dest = g_build_filename (f->w->shared, "x", "etc", "resolv.conf", NULL);
  g_autoptr (GError) error = NULL;

  (void) data;
  g_assert_false (vcm_test_exists (dest));
  for (int ro = 0; ro <= 1; ro++)
    {
      g_autofree char *p = vcm_mounter_bind_mount (f->m, f->w->src_file, dest, ro, NULL, &error);
      g_autofree char *contents = NULL;
      g_auto (GStrv) detached = NULL;
      int fd;

      vcm_test_require_no_error (error);
      g_assert_cmpstr (p, ==, dest);
      assert_mounted (dest, ro);
      g_assert_true (g_file_get_contents (dest, &contents, NULL, NULL));
      g_assert_cmpstr (contents, ==, "a file source\n");
      fd = open (dest, O_WRONLY | O_APPEND | O_CLOEXEC);
      if (ro)
        {
          g_assert_cmpint (fd, ==, -1);
          g_assert_cmpint (errno, ==, EROFS);
        }
      else
        {
          g_assert_cmpint (fd, >=, 0);
          close (fd);
        }
      detached = vcm_mounter_unmount (f->m, dest, &error);
      vcm_test_require_no_error (error);
      g_assert_cmpstrv (detached, ((const char *const[]){ dest, NULL }));
      g_assert_false (vcm_test_is_mount_root (dest));
      /* The empty file BindMount created as the mount point goes with it. */
      g_assert_false (vcm_test_exists (dest));
    }
}

static void
test_rootfs_stacked (Fixture *f, gconstpointer data)
{
  g_autofree char *want = g_build_filename (f->w->shared, "sbx", "c", "rootfs", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (VcmRootfsRecord) r = NULL;
  g_autoptr (VcmRootfsRecord) r2 = NULL;
  g_auto (Snap) before = { 0 };
  g_auto (GStrv) detached = NULL;

  (void) data;
  r = vcm_mounter_mount_rootfs (f->m, "sbx", "c", f->w->src, FALSE, NULL, &error);
  vcm_test_require_no_error (error);
  g_assert_nonnull (r);
  before = snap_take (f);
  for (int ro = 0; ro <= 1; ro++)
    {
      r2 = vcm_mounter_mount_rootfs (f->m, "sbx", "c", f->w->src, ro, NULL, &error);
      g_assert_null (r2);
      vcm_test_assert_error (error, VCM_ERROR_ALREADY_MOUNTED, "sandbox_id/container_id");
      g_clear_error (&error);
      snap_assert_same (f, &before);
    }
  g_assert_cmpuint (vcm_test_count_mounts_at (want), ==, 1);
  detached = vcm_mounter_unmount_rootfs (f->m, "sbx", "c", &error);
  vcm_test_require_no_error (error);
  g_assert_cmpuint (g_strv_length (detached), ==, 1);
}

static void
test_rootfs_submounts (Fixture *f, gconstpointer data)
{
  g_autofree char *sbx = in (f->w->shared, "sbx");
  g_autofree char *cdir = in (sbx, "c");
  g_autofree char *rootfs = in (cdir, "rootfs");
  g_autofree char *sub = in (rootfs, "sub");
  g_autofree char *hostname = g_build_filename (rootfs, "etc", "hostname", NULL);
  g_autofree char *deep = in (sub, "hello");
  g_autoptr (GError) error = NULL;
  g_autoptr (VcmRootfsRecord) r = NULL;
  g_autofree char *p1 = NULL;
  g_autofree char *p2 = NULL;
  g_autofree char *p3 = NULL;
  g_auto (GStrv) detached = NULL;
  g_autoptr (GPtrArray) left = NULL;

  (void) data;
  r = vcm_mounter_mount_rootfs (f->m, "sbx", "c", f->w->src, TRUE, NULL, &error);
  vcm_test_require_no_error (error);
  g_assert_nonnull (r);
  /* Into the read-only rootfs: the mount points exist in the source. */
  p1 = vcm_mounter_bind_mount (f->m, f->w->src, sub, TRUE, NULL, &error);
  vcm_test_require_no_error (error);
  g_assert_nonnull (p1);
  p2 = vcm_mounter_bind_mount (f->m, f->w->src_file, hostname, FALSE, NULL, &error);
  vcm_test_require_no_error (error);
  g_assert_nonnull (p2);
  p3 = vcm_mounter_bind_mount (f->m, f->w->src_file, deep, TRUE, NULL, &error); /* a grandchild */
  vcm_test_require_no_error (error);
  g_assert_nonnull (p3);
  g_assert_true (vcm_test_is_mount_root (sub));
  g_assert_true (vcm_test_is_mount_root (hostname));
  g_assert_true (vcm_test_is_mount_root (deep));
  detached = vcm_mounter_unmount_rootfs (f->m, "sbx", "c", &error);
  vcm_test_require_no_error (error);
  for (guint i = 0; detached[i] != NULL; i++)
    g_test_message ("detached[%u] = %s", i, detached[i]);
  g_assert_cmpstr (detached[0], ==, rootfs);
  {
    /* Each detached mount point once, parents before children. */
    const char *want[] = { rootfs, sub, hostname, deep };
    guint pos[G_N_ELEMENTS (want)] = { 0 };

    for (guint k = 0; k < G_N_ELEMENTS (want); k++)
      {
        guint seen = 0;

        for (guint i = 0; detached[i] != NULL; i++)
          if (g_str_equal (detached[i], want[k]))
            {
              seen++;
              pos[k] = i;
            }
        if (seen != 1)
          {
            g_test_message ("FAIL: %s is reported %u times (want once)", want[k], seen);
            g_test_fail_printf ("UnmountRootfs reports %s %u times", want[k], seen);
          }
      }
    if (g_strv_length (detached) != G_N_ELEMENTS (want))
      g_test_fail_printf ("UnmountRootfs reports %u mount points, not %u", g_strv_length (detached),
                          (guint) G_N_ELEMENTS (want));
    g_assert_cmpuint (pos[1], <, pos[3]); /* sub before sub/hello */
  }

  left = vcm_test_mount_targets_beneath (f->w->shared);
  g_assert_cmpuint (left->len, ==, 0);
  g_assert_false (vcm_test_exists (sbx));
  /* The source never saw the mount points: it is the source, untouched. */
  g_assert_true (g_file_test (f->w->src, G_FILE_TEST_IS_DIR));
}

static void
test_rootfs_busy_sandbox (Fixture *f, gconstpointer data)
{
  g_autofree char *sbx = in (f->w->shared, "sbx");
  g_autofree char *c1 = in (sbx, "c1");
  g_autofree char *c2 = in (sbx, "c2");
  g_autoptr (GError) error = NULL;
  g_autoptr (VcmRootfsRecord) r1 = NULL;
  g_autoptr (VcmRootfsRecord) r2 = NULL;
  g_auto (GStrv) d1 = NULL;
  g_auto (GStrv) d2 = NULL;

  (void) data;
  r1 = vcm_mounter_mount_rootfs (f->m, "sbx", "c1", f->w->src, TRUE, NULL, &error);
  vcm_test_require_no_error (error);
  g_assert_nonnull (r1);
  r2 = vcm_mounter_mount_rootfs (f->m, "sbx", "c2", f->w->src, FALSE, NULL, &error);
  vcm_test_require_no_error (error);
  d1 = vcm_mounter_unmount_rootfs (f->m, "sbx", "c1", &error);
  vcm_test_require_no_error (error);
  g_assert_nonnull (d1);
  g_assert_false (vcm_test_exists (c1));
  g_assert_true (g_file_test (sbx, G_FILE_TEST_IS_DIR));
  g_assert_true (vcm_test_is_mount_root (r2->mount_point));
  d2 = vcm_mounter_unmount_rootfs (f->m, "sbx", "c2", &error);
  vcm_test_require_no_error (error);
  g_assert_nonnull (d2);
  g_assert_false (vcm_test_exists (c2));
  g_assert_false (vcm_test_exists (sbx));
}

/* A directory the service did not make stays, with what the admin put in it. */
static void
test_rootfs_keeps_foreign_files (Fixture *f, gconstpointer data)
{
  g_autofree char *cdir = g_build_filename (f->w->shared, "sbx", "c", NULL);
  g_autofree char *note = in (cdir, "config.json");
  g_autoptr (GError) error = NULL;
  g_autoptr (VcmRootfsRecord) r = NULL;
  g_auto (GStrv) d = NULL;

  (void) data;
  vcm_test_make_dir (cdir);
  vcm_test_make_file (note, "{}\n");
  r = vcm_mounter_mount_rootfs (f->m, "sbx", "c", f->w->src, TRUE, NULL, &error);
  vcm_test_require_no_error (error);
  d = vcm_mounter_unmount_rootfs (f->m, "sbx", "c", &error);
  vcm_test_require_no_error (error);
  g_assert_nonnull (d);
  g_assert_true (g_file_test (note, G_FILE_TEST_IS_REGULAR));
  g_assert_false (vcm_test_exists (r->mount_point));
}

static void
test_not_mounted (Fixture *f, gconstpointer data)
{
  g_autofree char *plain = in (f->w->shared, "plain");
  g_autofree char *plain_rootfs = g_build_filename (f->w->shared, "s2", "c", "rootfs", NULL);
  g_autofree char *missing = g_build_filename (f->w->shared, "no", "such", NULL);
  g_autofree char *file = in (f->w->shared, "file");

  (void) data;
  vcm_test_make_dir (plain);
  vcm_test_make_dir (plain_rootfs);
  vcm_test_make_file (file, "x");
  refused_unmount_rootfs (f, "never", "c", VCM_ERROR_NOT_MOUNTED, "sandbox_id/container_id");
  refused_unmount_rootfs (f, "s2", "c", VCM_ERROR_NOT_MOUNTED, "sandbox_id/container_id");
  refused_unmount (f, plain, VCM_ERROR_NOT_MOUNTED);
  refused_unmount (f, missing, VCM_ERROR_NOT_MOUNTED);
  refused_unmount (f, file, VCM_ERROR_NOT_MOUNTED);
}

static void
test_source_removed (Fixture *f, gconstpointer data)
{
  g_autofree char *gone = in (f->w->root, "gone");
  g_autofree char *gone_file = in (gone, "f");
  g_autofree char *parent = in (f->w->root, "parent");
  g_autofree char *parent2 = in (f->w->root, "parent-renamed");
  g_autofree char *moved = in (parent, "src");
  g_autofree char *bind_dest = g_build_filename (f->w->shared, "b", "moved", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (VcmRootfsRecord) r = NULL;
  g_autofree char *p = NULL;
  g_auto (GStrv) d1 = NULL;
  g_auto (GStrv) d2 = NULL;
  g_autoptr (GPtrArray) left = NULL;

  (void) data;
  vcm_test_make_dir (gone);
  vcm_test_make_file (gone_file, "x");
  vcm_test_make_dir (moved);

  r = vcm_mounter_mount_rootfs (f->m, "sbx", "c", gone, FALSE, NULL, &error);
  vcm_test_require_no_error (error);
  p = vcm_mounter_bind_mount (f->m, moved, bind_dest, TRUE, NULL, &error);
  vcm_test_require_no_error (error);
  g_assert_nonnull (p);

  /* Emptied and removed, and renamed away, while mounted. */
  g_assert_cmpint (g_unlink (gone_file), ==, 0);
  g_assert_cmpint (g_rmdir (gone), ==, 0);
  g_assert_cmpint (g_rename (parent, parent2), ==, 0);

  d1 = vcm_mounter_unmount_rootfs (f->m, "sbx", "c", &error);
  vcm_test_require_no_error (error);
  g_assert_cmpstrv (d1, ((const char *const[]){ r->mount_point, NULL }));
  d2 = vcm_mounter_unmount (f->m, bind_dest, &error);
  vcm_test_require_no_error (error);
  g_assert_cmpstrv (d2, ((const char *const[]){ bind_dest, NULL }));
  left = vcm_test_mount_targets_beneath (f->w->shared);
  g_assert_cmpuint (left->len, ==, 0);
}

/* ---- rollback ------------------------------------------------------------------- */

static void
test_rollback_type_mismatch (Fixture *f, gconstpointer data)
{
  g_autofree char *dir_leaf = g_build_filename (f->w->shared, "a", "dir", NULL);
  g_autofree char *file_leaf = g_build_filename (f->w->shared, "a", "file", NULL);

  (void) data;
  vcm_test_make_dir (dir_leaf);
  vcm_test_make_file (file_leaf, "x");
  refused_bind (f, f->w->src_file, dir_leaf, VCM_ERROR_INVALID_ARGUMENT, "destination");
  refused_bind (f, f->w->src, file_leaf, VCM_ERROR_INVALID_ARGUMENT, "destination");
  /* a file where a directory component is expected */
  {
    g_autofree char *under_file = g_build_filename (file_leaf, "new", "x", NULL);
    refused_bind (f, f->w->src, under_file, VCM_ERROR_INVALID_ARGUMENT, "destination");
  }
}

static void
test_rollback_rootfs_not_dir (Fixture *f, gconstpointer data)
{
  g_autofree char *missing = in (f->w->root, "no-such-rootfs");
  g_autofree char *dest = in (f->w->shared, "n");

  (void) data;
  refused_rootfs (f, "sbx", "c", f->w->src_file, VCM_ERROR_INVALID_ARGUMENT, "rootfs");
  refused_rootfs (f, "sbx", "c", missing, VCM_ERROR_NOT_FOUND, "rootfs");
  refused_rootfs (f, "sbx", "c", "relative", VCM_ERROR_INVALID_ARGUMENT, "rootfs");
  refused_bind (f, missing, dest, VCM_ERROR_NOT_FOUND, "source");
}

/* Parents are made, then the leaf cannot be: they are removed again. */
static void
test_rollback_leaf_fails (Fixture *f, gconstpointer data)
{
  g_autofree char *long_name = g_strnfill (300, 'x');
  g_autofree char *dest = g_build_filename (f->w->shared, "n1", "n2", long_name, NULL);
  g_auto (Snap) before = { 0 };

  (void) data;
  for (int file = 0; file <= 1; file++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *p = NULL;

      before = snap_take (f);
      p = vcm_mounter_bind_mount (f->m, file ? f->w->src_file : f->w->src, dest, TRUE, NULL, &error);
      g_test_message ("BindMount(%s): %s", dest, error ? error->message : "OK");
      g_assert_null (p);
      g_assert_nonnull (error);
      g_assert_true (error->domain == VCM_ERROR);
      snap_assert_same (f, &before);
      snap_clear (&before);
    }
}

static char *
make_unbindable_source (Fixture *f)
{
  char *unb = in (f->w->root, "unbindable");
  g_autofree char *hello = in (unb, "hello");

  vcm_test_make_dir (unb);
  vcm_test_mount ("vcmtest-unbindable", unb, "tmpfs", 0, NULL);
  vcm_test_make_file (hello, "x");
  vcm_test_mount (NULL, unb, NULL, MS_UNBINDABLE, NULL);
  return unb;
}

/* The attach itself fails (an unbindable source cannot be cloned or bound). */
static void
test_rollback_attach_fails (Fixture *f, gconstpointer data)
{
  g_autofree char *unb = make_unbindable_source (f);
  g_autofree char *dest = g_build_filename (f->w->shared, "n1", "n2", "d", NULL);
  g_autofree char *other = g_build_filename (f->w->shared, "sbx", "other", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (VcmRootfsRecord) r = NULL;

  (void) data;
  refused_bind (f, unb, dest, VCM_ERROR_FAILED, NULL);
  refused_rootfs (f, "sbx", "c", unb, VCM_ERROR_FAILED, NULL);
  /* With the sandbox dir in use by another container: it stays, "c" goes. */
  r = vcm_mounter_mount_rootfs (f->m, "sbx", "other", f->w->src, TRUE, NULL, &error);
  vcm_test_require_no_error (error);
  refused_rootfs (f, "sbx", "c", unb, VCM_ERROR_FAILED, NULL);
  g_assert_true (vcm_test_is_mount_root (r->mount_point));
  g_assert_true (g_file_test (other, G_FILE_TEST_IS_DIR));
}

void
test_mounter_add_paths (void)
{
  test_mounter_add ("/refuse/bind-beneath-read-only", test_bind_beneath_read_only);
  test_mounter_add ("/ok/rootfs-rw", test_rootfs_rw);
  test_mounter_add ("/ok/rootfs-ro", test_rootfs_ro);
  test_mounter_add ("/ok/rootfs-ro-keeps-source-flags", test_rootfs_ro_keeps_source_flags);
  test_mounter_add ("/ok/detached-list-bounded", test_detached_list_bounded);
  test_mounter_add ("/ok/bind-dir", test_bind_dir);
  test_mounter_add ("/ok/bind-file", test_bind_file);
  test_mounter_add ("/ok/rootfs-stacked", test_rootfs_stacked);
  test_mounter_add ("/ok/rootfs-submounts", test_rootfs_submounts);
  test_mounter_add ("/ok/rootfs-busy-sandbox", test_rootfs_busy_sandbox);
  test_mounter_add ("/ok/rootfs-keeps-foreign-files", test_rootfs_keeps_foreign_files);
  test_mounter_add ("/ok/not-mounted", test_not_mounted);
  test_mounter_add ("/ok/source-removed", test_source_removed);
  test_mounter_add ("/rollback/type-mismatch", test_rollback_type_mismatch);
  test_mounter_add ("/rollback/rootfs-not-dir", test_rollback_rootfs_not_dir);
  test_mounter_add ("/rollback/leaf-fails", test_rollback_leaf_fails);
  test_mounter_add ("/rollback/attach-fails", test_rollback_attach_fails);
}
