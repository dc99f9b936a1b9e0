/* test-mounter: in-process tests of vcm-mounter against real mounts: attacks
 * that must be refused without touching anything outside the shared dir,
 * the success paths, rollback of what a failed call created, and read-only
 * mounts that must never be writable, with the fd-based mount API and with
 * the classic mount(2) fallback. The binary enters a private mount namespace
 * first and every test gets its own tmpfs "world". Needs root. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "vcm-error.h"
#include "vcm-fd.h"
#include "vcm-mount-policy.h"
#include "vcm-mounter.h"
#include "vcm-mounttable.h"
#include "vcm-sys.h"
#include "vcm-test-util.h"
#include "vcm-testing.h"

/* set by meson for the run of every case on the classic mount(2) path */
#define LEGACY_ENV "VCM_TEST_LEGACY_MOUNT_API"

typedef struct {
  VcmTestWorld *w;
  VcmMounter *m;
  gboolean legacy;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->legacy = GPOINTER_TO_INT (data);
  f->w = vcm_test_world_new ();
  /* main() registered the tests under the API that LEGACY_ENV selects
   * (meson runs this binary once per API) */
  f->m = vcm_mounter_new (f->w->shared,
                          f->legacy ? VCM_MOUNTER_FLAGS_LEGACY_API : VCM_MOUNTER_FLAGS_NONE, &error);
  g_assert_no_error (error);
  g_assert_nonnull (f->m);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  (void) data;
  g_clear_object (&f->m);
  g_clear_pointer (&f->w, vcm_test_world_free);
}

static char *
in (const char *dir, const char *rel)
{
  return g_build_filename (dir, rel, NULL);
}

/* ---- snapshots: nothing changed outside (and, unless told, inside) ---------- */

typedef struct {
  char *mounts;  /* mountinfo lines beneath the world */
  char *outside; /* the outside dir's tree */
  char *shared;  /* the shared dir's tree */
} Snap;

/* A snapshot is a value (g_auto(Snap)): its strings are all it owns. */
static Snap
snap_take (Fixture *f)
{
  Snap s = {
    .mounts = vcm_test_mountinfo_beneath (f->w->root),
    .outside = vcm_test_list_tree (f->w->outside),
    .shared = vcm_test_list_tree (f->w->shared),
  };

  return s;
}

static void
snap_clear (Snap *s)
{
  g_clear_pointer (&s->mounts, g_free);
  g_clear_pointer (&s->outside, g_free);
  g_clear_pointer (&s->shared, g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Snap, snap_clear)

static void
soft_same (const char *what, const char *before, const char *after)
{
  if (g_strcmp0 (before, after) != 0)
    {
      g_test_message ("FAIL: %s changed:\n--- before\n%s--- after\n%s", what, before, after);
      g_test_fail_printf ("%s changed", what);
    }
}

static void
snap_assert_same (Fixture *f, Snap *before)
{
  g_auto (Snap) after = snap_take (f);

  /* Not fatal: every difference is reported, and the world goes away anyway. */
  soft_same ("the mount table beneath the world", before->mounts, after.mounts);
  soft_same ("the outside dir", before->outside, after.outside);
  /* A refused call leaves no directory or file behind it either. */
  soft_same ("the shared dir", before->shared, after.shared);
}

/* A call that should have been refused succeeded: say where it mounted, and
 * detach that again so that the rest of the test still means something. */
static void
unexpected_success (Fixture *f, Snap *before, const char *call)
{
  g_autoptr (GPtrArray) targets = vcm_test_new_mount_targets (before->mounts, f->w->root);

  g_test_message ("FAIL: %s was not refused; it mounted %u mount(s)", call, targets->len);
  g_test_fail_printf ("%s was not refused; it mounted %u mount(s)", call, targets->len);
  for (guint i = targets->len; i > 0; i--)
    {
      const char *t = targets->pdata[i - 1];
      g_autofree char *rel_shared = g_strconcat (f->w->shared, "/", NULL);

      g_test_message ("  unexpected mount at %s%s", t,
                      g_str_has_prefix (t, rel_shared) ? "" : "  <== OUTSIDE THE SHARED DIR");
      if (umount2 (t, MNT_DETACH | UMOUNT_NOFOLLOW) != 0)
        g_test_message ("  cannot detach %s: %s", t, g_strerror (errno));
    }
}

static void
refused_rootfs (
  Fixture *f, const char *sbx, const char *cid, const char *rootfs, int code, const char *arg)
{
  g_auto (Snap) before = snap_take (f);
  g_autoptr (GError) error = NULL;
  g_autoptr (VcmRootfsRecord) r = vcm_mounter_mount_rootfs (f->m, sbx, cid, rootfs, FALSE, NULL, &error);
  g_autofree char *call = g_strdup_printf ("MountRootfs(%s, %s, %s)", sbx, cid, rootfs);

  g_test_message ("%s: %s", call, error ? error->message : "OK");
  if (r != NULL)
    unexpected_success (f, &before, call);
  else
    vcm_test_assert_error (error, code, arg);
  snap_assert_same (f, &before);
}

static void
refused_bind (Fixture *f, const char *source, const char *dest, int code, const char *arg)
{
  for (int ro = 0; ro <= 1; ro++)
    {
      g_auto (Snap) before = snap_take (f);
      g_autoptr (GError) error = NULL;
      g_autofree char *p = vcm_mounter_bind_mount (f->m, source, dest, ro, NULL, &error);
      g_autofree char *call = g_strdup_printf ("BindMount(%s, %s, ro=%d)", source, dest, ro);

      g_test_message ("%s: %s", call, error ? error->message : "OK");
      if (p != NULL)
        unexpected_success (f, &before, call);
      else
        vcm_test_assert_error (error, code, arg);
      snap_assert_same (f, &before);
    }
}

static void
refused_unmount (Fixture *f, const char *mount_point, int code)
{
  g_auto (Snap) before = snap_take (f);
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) d = vcm_mounter_unmount (f->m, mount_point, &error);

  g_test_message ("Unmount(%s): %s", mount_point, error ? error->message : "OK");
  if (d != NULL)
    g_test_fail_printf ("Unmount(%s) was not refused", mount_point);
  else
    vcm_test_assert_error (error, code, "mount_point");
  snap_assert_same (f, &before);
}

static void
refused_unmount_rootfs (Fixture *f, const char *sbx, const char *cid, int code, const char *arg)
{
  g_auto (Snap) before = snap_take (f);
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) d = vcm_mounter_unmount_rootfs (f->m, sbx, cid, &error);

  g_test_message ("UnmountRootfs(%s, %s): %s", sbx, cid, error ? error->message : "OK");
  if (d != NULL)
    g_test_fail_printf ("UnmountRootfs(%s, %s) was not refused", sbx, cid);
  else
    vcm_test_assert_error (error, code, arg);
  snap_assert_same (f, &before);
}

/* ---- static attacks --------------------------------------------------------- */

static void
test_attack_sandbox_symlink (Fixture *f, gconstpointer data)
{
  g_autofree char *l1 = in (f->w->shared, "sbx");
  g_autofree char *l2 = in (f->w->shared, "dangling");
  g_autofree char *l3 = in (f->w->shared, "relative");
  g_autofree char *missing = in (f->w->outside, "missing");

  (void) data;
  vcm_test_make_symlink (f->w->escape, l1);
  vcm_test_make_symlink (missing, l2);
  vcm_test_make_symlink ("../outside/escape", l3);
  refused_rootfs (f, "sbx", "c", f->w->src, VCM_ERROR_INVALID_ARGUMENT, "sandbox_id/container_id");
  refused_rootfs (f, "dangling", "c", f->w->src, VCM_ERROR_INVALID_ARGUMENT, "sandbox_id/container_id");
  refused_rootfs (f, "relative", "c", f->w->src, VCM_ERROR_INVALID_ARGUMENT, "sandbox_id/container_id");
}

static void
test_attack_container_symlink (Fixture *f, gconstpointer data)
{
  g_autofree char *sbx = in (f->w->shared, "sbx");
  g_autofree char *l1 = in (sbx, "c");
  g_autofree char *l2 = in (sbx, "dangling");
  g_autofree char *missing = in (f->w->outside, "missing");

  (void) data;
  vcm_test_make_dir (sbx);
  vcm_test_make_symlink (f->w->escape, l1);
  vcm_test_make_symlink (missing, l2);
  refused_rootfs (f, "sbx", "c", f->w->src, VCM_ERROR_INVALID_ARGUMENT, "sandbox_id/container_id");
  refused_rootfs (f, "sbx", "dangling", f->w->src, VCM_ERROR_INVALID_ARGUMENT,
                  "sandbox_id/container_id");
}

static void
test_attack_rootfs_leaf_symlink (Fixture *f, gconstpointer data)
{
  g_autofree char *cdir = g_build_filename (f->w->shared, "sbx", "c", NULL);
  g_autofree char *ddir = g_build_filename (f->w->shared, "sbx", "d", NULL);
  g_autofree char *l1 = in (cdir, "rootfs");
  g_autofree char *l2 = in (ddir, "rootfs");
  g_autofree char *missing = in (f->w->outside, "missing");

  (void) data;
  vcm_test_make_dir (cdir);
  vcm_test_make_dir (ddir);
  vcm_test_make_symlink (f->w->escape, l1);
  vcm_test_make_symlink (missing, l2);
  refused_rootfs (f, "sbx", "c", f->w->src, VCM_ERROR_INVALID_ARGUMENT, "sandbox_id/container_id");
  refused_rootfs (f, "sbx", "d", f->w->src, VCM_ERROR_INVALID_ARGUMENT, "sandbox_id/container_id");
}

static void
test_attack_bind_symlink_first (Fixture *f, gconstpointer data)
{
  g_autofree char *l = in (f->w->shared, "l");
  g_autofree char *d1 = g_build_filename (f->w->shared, "l", "x", NULL);
  g_autofree char *d2 = g_build_filename (f->w->shared, "l", "new", "x", NULL);

  (void) data;
  vcm_test_make_symlink (f->w->escape, l);
  refused_bind (f, f->w->src, d1, VCM_ERROR_INVALID_ARGUMENT, "destination");
  refused_bind (f, f->w->src_file, d1, VCM_ERROR_INVALID_ARGUMENT, "destination");
  refused_bind (f, f->w->src, d2, VCM_ERROR_INVALID_ARGUMENT, "destination");
}

static void
test_attack_bind_symlink_middle (Fixture *f, gconstpointer data)
{
  g_autofree char *a = in (f->w->shared, "a");
  g_autofree char *l = in (a, "l");
  g_autofree char *d1 = g_build_filename (a, "l", "x", NULL);
  g_autofree char *d2 = g_build_filename (a, "l", "b", "x", NULL);
  g_autofree char *d3 = g_build_filename (f->w->shared, "new", "..", "a", "l", "x", NULL);

  (void) data;
  vcm_test_make_dir (a);
  vcm_test_make_symlink (f->w->escape, l);
  refused_bind (f, f->w->src, d1, VCM_ERROR_INVALID_ARGUMENT, "destination");
  refused_bind (f, f->w->src_file, d2, VCM_ERROR_INVALID_ARGUMENT, "destination");
  refused_bind (f, f->w->src, d3, VCM_ERROR_INVALID_ARGUMENT, "destination");
}

static void
test_attack_bind_symlink_leaf (Fixture *f, gconstpointer data)
{
  g_autofree char *a = in (f->w->shared, "a");
  g_autofree char *leaf_dir = in (a, "leafdir");
  g_autofree char *leaf_file = in (a, "leaffile");
  g_autofree char *leaf_dangling = in (a, "dangling");
  g_autofree char *victim = in (f->w->outside, "victim-file");
  g_autofree char *missing = in (f->w->outside, "missing");

  (void) data;
  vcm_test_make_dir (a);
  vcm_test_make_file (victim, "victim\n");
  vcm_test_make_symlink (f->w->escape, leaf_dir);
  vcm_test_make_symlink (victim, leaf_file);
  vcm_test_make_symlink (missing, leaf_dangling);
  refused_bind (f, f->w->src, leaf_dir, VCM_ERROR_INVALID_ARGUMENT, "destination");
  refused_bind (f, f->w->src_file, leaf_file, VCM_ERROR_INVALID_ARGUMENT, "destination");
  refused_bind (f, f->w->src_file, leaf_dangling, VCM_ERROR_INVALID_ARGUMENT, "destination");
  refused_bind (f, f->w->src, leaf_dangling, VCM_ERROR_INVALID_ARGUMENT, "destination");
}

static void
test_attack_dotdot_escape (Fixture *f, gconstpointer data)
{
  g_autofree char *d1 = g_strdup_printf ("%s/../outside/x", f->w->shared);
  g_autofree char *d2 = g_strdup_printf ("%s/a/../../outside/escape", f->w->shared);
  g_autofree char *d3 = g_strdup_printf ("%s/..", f->w->shared);
  g_autofree char *d4 = g_strdup_printf ("%s/../shared-not/x", f->w->shared);

  (void) data;
  refused_bind (f, f->w->src, d1, VCM_ERROR_INVALID_ARGUMENT, "destination");
  refused_bind (f, f->w->src_file, d1, VCM_ERROR_INVALID_ARGUMENT, "destination");
  refused_bind (f, f->w->src, d2, VCM_ERROR_INVALID_ARGUMENT, "destination");
  refused_bind (f, f->w->src, d3, VCM_ERROR_INVALID_ARGUMENT, "destination");
  refused_bind (f, f->w->src, d4, VCM_ERROR_INVALID_ARGUMENT, "destination");
  refused_bind (f, f->w->src, "relative/x", VCM_ERROR_INVALID_ARGUMENT, "destination");
  refused_bind (f, f->w->src, "", VCM_ERROR_INVALID_ARGUMENT, "destination");
  g_assert_false (vcm_test_exists (d1));
}

static void
test_bind_dotdot_inside (Fixture *f, gconstpointer data)
{
  g_autofree char *dest = g_strdup_printf ("%s/a/../b", f->w->shared);
  g_autofree char *want = in (f->w->shared, "b");
  g_autofree char *a = in (f->w->shared, "a");
  g_autofree char *via = g_strdup_printf ("%s/./c/../b/", f->w->shared);
  g_autofree char *hello = in (want, "hello");
  g_autofree char *outside_before = vcm_test_list_tree (f->w->outside);
  g_autofree char *outside_after = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *p = NULL;
  g_auto (GStrv) detached = NULL;

  (void) data;
  p = vcm_mounter_bind_mount (f->m, f->w->src, dest, TRUE, NULL, &error);
  vcm_test_require_no_error (error);
  g_assert_cmpstr (p, ==, want);
  g_assert_true (vcm_test_is_mount_root (want));
  g_assert_cmpuint (vcm_test_count_mounts_at (want), ==, 1);
  g_assert_true (g_file_test (hello, G_FILE_TEST_IS_REGULAR));
  g_assert_false (vcm_test_exists (a)); /* ".." is lexical: "a" is never made */

  detached = vcm_mounter_unmount (f->m, via, &error);
  vcm_test_require_no_error (error);
  g_assert_cmpuint (g_strv_length (detached), ==, 1);
  g_assert_cmpstr (detached[0], ==, want);
  g_assert_cmpuint (vcm_test_count_mounts_at (want), ==, 0);
  outside_after = vcm_test_list_tree (f->w->outside);
  g_assert_cmpstr (outside_after, ==, outside_before);
}

static void
test_attack_dest_is_shared (Fixture *f, gconstpointer data)
{
  g_autofree char *d1 = g_strdup_printf ("%s/", f->w->shared);
  g_autofree char *d2 = g_strdup_printf ("%s/.", f->w->shared);
  g_autofree char *d3 = g_strdup_printf ("%s/a/..", f->w->shared);
  g_autofree char *d4 = g_strdup_printf ("%s//", f->w->shared);

  (void) data;
  refused_bind (f, f->w->src, f->w->shared, VCM_ERROR_INVALID_ARGUMENT, "destination");
  refused_bind (f, f->w->src, d1, VCM_ERROR_INVALID_ARGUMENT, "destination");
  refused_bind (f, f->w->src, d2, VCM_ERROR_INVALID_ARGUMENT, "destination");
  refused_bind (f, f->w->src, d3, VCM_ERROR_INVALID_ARGUMENT, "destination");
  refused_bind (f, f->w->src, d4, VCM_ERROR_INVALID_ARGUMENT, "destination");
}

static void
test_attack_unmount_outside (Fixture *f, gconstpointer data)
{
  g_autofree char *mnt = in (f->w->outside, "mnt");
  g_autofree char *esc_mnt = in (f->w->escape, "x");
  g_autofree char *link = in (f->w->shared, "l");
  g_autofree char *via_link = g_build_filename (f->w->shared, "l", "x", NULL);
  g_autofree char *via_dotdot = g_strdup_printf ("%s/../outside/mnt", f->w->shared);
  g_autofree char *leaf_link = in (f->w->shared, "leaf");

  (void) data;
  vcm_test_make_dir (mnt);
  vcm_test_mount ("vcmtest-victim", mnt, "tmpfs", 0, NULL);
  vcm_test_make_dir (esc_mnt);
  vcm_test_mount ("vcmtest-victim2", esc_mnt, "tmpfs", 0, NULL);
  vcm_test_make_symlink (f->w->escape, link);
  vcm_test_make_symlink (esc_mnt, leaf_link);
  /* The shared dir itself is a mount point here: it must not be unmounted either. */
  vcm_test_mount ("vcmtest-shared", f->w->shared, "tmpfs", 0, NULL);
  vcm_test_make_symlink (f->w->escape, link);
  vcm_test_make_symlink (esc_mnt, leaf_link);

  refused_unmount (f, "/proc", VCM_ERROR_INVALID_ARGUMENT);
  refused_unmount (f, "/", VCM_ERROR_INVALID_ARGUMENT);
  refused_unmount (f, mnt, VCM_ERROR_INVALID_ARGUMENT);
  refused_unmount (f, via_dotdot, VCM_ERROR_INVALID_ARGUMENT);
  refused_unmount (f, f->w->root, VCM_ERROR_INVALID_ARGUMENT);
  refused_unmount (f, f->w->shared, VCM_ERROR_INVALID_ARGUMENT);
  refused_unmount (f, "relative", VCM_ERROR_INVALID_ARGUMENT);
  refused_unmount (f, "", VCM_ERROR_INVALID_ARGUMENT);
  /* Through a symlink beneath the shared dir: the mount at its target stays. */
  refused_unmount (f, via_link, VCM_ERROR_INVALID_ARGUMENT);
  g_assert_true (vcm_test_is_mount_root (esc_mnt));
  g_assert_true (vcm_test_is_mount_root (mnt));
  g_assert_true (vcm_test_is_mount_root (f->w->shared));
}

/* A leaf symlink beneath the shared dir pointing at a mount outside. */
static void
test_attack_unmount_leaf_symlink (Fixture *f, gconstpointer data)
{
  g_autofree char *esc_mnt = in (f->w->escape, "x");
  g_autofree char *leaf_link = in (f->w->shared, "leaf");
  g_auto (Snap) before = { 0 };
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) d = NULL;

  (void) data;
  vcm_test_make_dir (esc_mnt);
  vcm_test_mount ("vcmtest-victim2", esc_mnt, "tmpfs", 0, NULL);
  vcm_test_make_symlink (esc_mnt, leaf_link);
  before = snap_take (f);
  d = vcm_mounter_unmount (f->m, leaf_link, &error);
  g_test_message ("Unmount(%s): %s", leaf_link, error ? error->message : "OK");
  g_assert_null (d);
  g_assert_nonnull (error);
  /* INVALID_ARGUMENT (a symlink) or NOT_MOUNTED (nothing mounted on the link): both refuse. */
  g_assert_true (g_error_matches (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT) ||
                 g_error_matches (error, VCM_ERROR, VCM_ERROR_NOT_MOUNTED));
  vcm_test_assert_error (error, error->code, "mount_point");
  snap_assert_same (f, &before);
  g_assert_true (vcm_test_is_mount_root (esc_mnt));
}

static void
test_attack_unmount_rootfs_symlink (Fixture *f, gconstpointer data)
{
  g_autofree char *victim_rootfs = g_build_filename (f->w->outside, "victim", "c", "rootfs", NULL);
  g_autofree char *victim = in (f->w->outside, "victim");
  g_autofree char *victim_c = g_build_filename (f->w->outside, "victim", "c", NULL);
  g_autofree char *l1 = in (f->w->shared, "sbx");
  g_autofree char *sbx2 = in (f->w->shared, "sbx2");
  g_autofree char *l2 = in (sbx2, "c");
  g_autofree char *c3 = g_build_filename (f->w->shared, "sbx3", "c", NULL);
  g_autofree char *l3 = in (c3, "rootfs");

  (void) data;
  vcm_test_make_dir (victim_rootfs);
  vcm_test_mount ("vcmtest-victim", victim_rootfs, "tmpfs", 0, NULL);
  vcm_test_make_symlink (victim, l1);
  vcm_test_make_dir (sbx2);
  vcm_test_make_symlink (victim_c, l2);
  vcm_test_make_dir (c3);
  vcm_test_make_symlink (victim_rootfs, l3);

  refused_unmount_rootfs (f, "sbx", "c", VCM_ERROR_INVALID_ARGUMENT, "sandbox_id/container_id");
  refused_unmount_rootfs (f, "sbx2", "c", VCM_ERROR_INVALID_ARGUMENT, "sandbox_id/container_id");
  {
    /* The leaf "rootfs" is a symlink to the mount: refused one way or another. */
    g_auto (Snap) before = snap_take (f);
    g_autoptr (GError) error = NULL;
    g_auto (GStrv) d = vcm_mounter_unmount_rootfs (f->m, "sbx3", "c", &error);

    g_test_message ("UnmountRootfs(sbx3, c): %s", error ? error->message : "OK");
    g_assert_null (d);
    g_assert_true (g_error_matches (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT) ||
                   g_error_matches (error, VCM_ERROR, VCM_ERROR_NOT_MOUNTED));
    snap_assert_same (f, &before);
  }
  g_assert_true (vcm_test_is_mount_root (victim_rootfs));
}

static void
test_attack_ids (Fixture *f, gconstpointer data)
{
  const char *bad[] = { ".", "..", "a/b", "", "../x", "/abs", "-x", NULL };

  (void) data;
  for (guint i = 0; bad[i] != NULL; i++)
    {
      refused_rootfs (f, bad[i], "c", f->w->src, VCM_ERROR_INVALID_ARGUMENT, "sandbox_id");
      refused_rootfs (f, "s", bad[i], f->w->src, VCM_ERROR_INVALID_ARGUMENT, "container_id");
      refused_unmount_rootfs (f, bad[i], "c", VCM_ERROR_INVALID_ARGUMENT, "sandbox_id");
      refused_unmount_rootfs (f, "s", bad[i], VCM_ERROR_INVALID_ARGUMENT, "container_id");
    }
}

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
  while (dest->len < 3900)
    g_string_append (dest, "/0123456789abcdef0123456789abcdef");
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

/* ---- read-only is never writable -------------------------------------------------- */

typedef struct {
  const char *target; /* SHARED/sbx/c/rootfs */
  char *probe;        /* target/probe */
  int src_fd;         /* the source dir */
  gint stop;
  guint64 attempts;
  guint64 in_source; /* a file created through the mount point landed in the source */
  guint64 elsewhere; /* created in the (unmounted) directory beneath */
  guint64 erofs;
  guint64 rw_root_seen; /* the mount point was a mount root and not read-only */
  guint64 ro_root_seen;
  gint rounds; /* write + look rounds completed (atomic) */
} Writer;

static gpointer
writer_thread (gpointer data)
{
  Writer *wr = data;

  while (!g_atomic_int_get (&wr->stop))
    {
      int fd;

      wr->attempts++;
      fd = open (wr->probe, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
      if (fd >= 0)
        {
          struct stat st, st2;

          g_assert_cmpint (fstat (fd, &st), ==, 0);
          close (fd);
          if (fstatat (wr->src_fd, "probe", &st2, AT_SYMLINK_NOFOLLOW) == 0 && st2.st_ino == st.st_ino &&
              st2.st_dev == st.st_dev)
            {
              wr->in_source++;
              unlinkat (wr->src_fd, "probe", 0);
            }
          else
            {
              wr->elsewhere++;
              unlink (wr->probe); /* best effort: it may be covered by now */
            }
        }
      else if (errno == EROFS)
        wr->erofs++;

      fd = open (wr->target, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd >= 0)
        {
          gboolean root = FALSE;
          struct statvfs sv;

          if (vcm_sys_stat_mount (fd, "", AT_EMPTY_PATH, NULL, NULL, NULL, &root, NULL) == 0 && root &&
              fstatvfs (fd, &sv) == 0)
            {
              if (sv.f_flag & ST_RDONLY)
                wr->ro_root_seen++;
              else
                wr->rw_root_seen++;
            }
          close (fd);
        }
      g_atomic_int_inc (&wr->rounds);
    }
  return NULL;
}

static void
test_ro_never_writable (Fixture *f, gconstpointer data)
{
  guint n = vcm_test_iterations ("VCM_RO_ITERATIONS", 2000);
  g_autofree char *target = g_build_filename (f->w->shared, "sbx", "c", "rootfs", NULL);
  g_autofree char *probe_in_src = in (f->w->src, "probe");
  Writer wr = { 0 };
  guint failed_cycles = 0;
  GThread *thread;
  g_autoptr (GPtrArray) left = NULL;
  g_autofree char *outside_before = vcm_test_list_tree (f->w->outside);
  g_autofree char *outside_after = NULL;

  (void) data;
  wr.target = target;
  wr.probe = in (target, "probe");
  wr.src_fd = open (f->w->src, O_PATH | O_DIRECTORY | O_CLOEXEC);
  g_assert_cmpint (wr.src_fd, >=, 0);
  thread = g_thread_new ("writer", writer_thread, &wr);
  /* The writer is running before the first mount. */
  vcm_test_wait_for_count (&wr.rounds, 1, 60, "the writer's first round");

  for (guint i = 0; i <= n; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (VcmRootfsRecord) r =
        vcm_mounter_mount_rootfs (f->m, "sbx", "c", f->w->src, TRUE, NULL, &error);

      /* The last cycle holds the mount until the writer has done a whole
       * round on it, so that it meets the mount however the threads were
       * scheduled in the cycles before. */
      if (r != NULL && i == n)
        vcm_test_wait_for_count (&wr.rounds, g_atomic_int_get (&wr.rounds) + 2, 60,
                                 "a round of the writer on the mounted rootfs");
      if (r != NULL)
        g_strfreev (vcm_mounter_unmount_rootfs (f->m, "sbx", "c", &error));
      if (error != NULL)
        {
          /* Go on: the point is what the writer manages meanwhile. */
          if (failed_cycles++ < 3)
            g_test_message ("FAIL: cycle %u: %s", i, error->message);
        }
    }
  g_atomic_int_set (&wr.stop, 1);
  g_thread_join (thread);

  g_test_message ("%s API: %u read-only cycles, %" G_GUINT64_FORMAT " write attempts, "
                  "%" G_GUINT64_FORMAT " EROFS, %" G_GUINT64_FORMAT " created beneath the mount point "
                  "(not in the source), %" G_GUINT64_FORMAT " written INTO THE SOURCE; mount root seen "
                  "read-only %" G_GUINT64_FORMAT " times, WRITABLE %" G_GUINT64_FORMAT " times",
                  f->legacy ? "legacy mount(2)" : "fd-based", n + 1, wr.attempts, wr.erofs, wr.elsewhere,
                  wr.in_source, wr.ro_root_seen, wr.rw_root_seen);
  close (wr.src_fd);
  g_free (wr.probe);
  left = vcm_test_mount_targets_beneath (f->w->shared);
  g_assert_cmpuint (left->len, ==, 0);
  outside_after = vcm_test_list_tree (f->w->outside);
  g_assert_cmpstr (outside_after, ==, outside_before);
  vcm_test_check (failed_cycles == 0, "%u of %u read-only MountRootfs/UnmountRootfs cycles failed",
                  failed_cycles, n + 1);
  vcm_test_check (!vcm_test_exists (probe_in_src), "a probe file is left in the source");
  vcm_test_check (wr.in_source == 0,
                  "%" G_GUINT64_FORMAT " files were written into the source "
                  "through a read-only MountRootfs",
                  wr.in_source);
  vcm_test_check (wr.rw_root_seen == 0,
                  "the read-only rootfs was seen mounted writable %" G_GUINT64_FORMAT " times",
                  wr.rw_root_seen);
  /* The writer must actually have met the mount, or the test proves nothing
   * (the last cycle waited for it to). */
  if (!g_test_failed ())
    g_assert_cmpuint (wr.erofs + wr.ro_root_seen, >, 0);
}

/* ---- unique mount IDs of the listed rootfs ---------------------------------------- */

/* @n rootfs are mounted; the table is read; three of them are unmounted
 * behind its back; vcm_rootfs_fill_unique_ids must give every listed rootfs
 * the unique ID of the mount now at its mount point, and 0 to those gone. */
static void
check_unique_ids (Fixture *f, guint n)
{
  g_autoptr (VcmMountTable) table = NULL;
  g_autoptr (GPtrArray) listed = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) gone = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  guint checked = 0;

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *cid = g_strdup_printf ("c%03u", i);
      g_autoptr (VcmRootfsRecord) r =
        vcm_mounter_mount_rootfs (f->m, "uniq", cid, f->w->src, FALSE, NULL, &error);

      g_assert_no_error (error);
      g_assert_nonnull (r);
    }
  table = vcm_mount_table_new_from_kernel (&error);
  g_assert_no_error (error);
  listed = vcm_rootfs_list_in_table (f->w->shared, table, "uniq");
  g_assert_cmpuint (listed->len, ==, n);

  for (guint i = 0; i < n; i += n / 2 - 1)
    {
      const VcmRootfsRecord *r = listed->pdata[i];

      g_assert_cmpint (umount2 (r->mount_point, MNT_DETACH), ==, 0);
      g_hash_table_add (gone, g_strdup (r->mount_point));
    }
  g_assert_cmpuint (g_hash_table_size (gone), ==, 3);

  vcm_rootfs_fill_unique_ids (listed);
  for (guint i = 0; i < listed->len; i++)
    {
      const VcmRootfsRecord *r = listed->pdata[i];
      vcm_autofd int fd = -1;
      guint64 expected = 0;

      if (g_hash_table_contains (gone, r->mount_point))
        {
          g_assert_cmpuint (r->unique_id, ==, 0);
          continue;
        }
      fd = open (r->mount_point, O_PATH | O_CLOEXEC);
      g_assert_cmpint (fd, >=, 0);
      if (vcm_sys_unique_mount_id (fd, &expected) < 0)
        {
          g_test_skip ("the kernel has no unique mount IDs (Linux < 6.8)");
          return;
        }
      g_assert_cmpuint (r->unique_id, ==, expected);
      checked++;
    }
  g_assert_cmpuint (checked, ==, n - 3);
}

static void
test_unique_ids (Fixture *f, gconstpointer data)
{
  check_unique_ids (f, 100);
}

/* ---- what a caller that is not root gets (vcm-mount-policy) ------------------- */

#define CALLER_UID 4242

static VcmCredentials *
caller_creds (void)
{
  gid_t gid = CALLER_UID;

  return vcm_credentials_new (CALLER_UID, &gid, 1);
}

/* A bind of a caller's brings the mounts below its source with it, so what
 * they hide stays hidden, and is nosuid and nodev; root's bind through the
 * path-based methods is as it always was (not recursive). */
static void
test_policy_caller_binds_recursive (Fixture *f, gconstpointer data)
{
  g_autoptr (VcmCredentials) creds = caller_creds ();
  g_autofree char *sub = in (f->w->src, "sub");
  g_autofree char *hidden = in (sub, "hidden");
  g_autofree char *dest = g_build_filename (f->w->shared, "c", NULL);
  g_autofree char *seen_hidden = g_build_filename (dest, "sub", "hidden", NULL);
  g_autofree char *seen_top = g_build_filename (dest, "sub", "top", NULL);
  g_autofree char *top = in (sub, "top");
  g_autoptr (GError) error = NULL;
  struct statvfs sv;

  (void) data;
  vcm_test_make_file (hidden, "what the submount hides\n");
  vcm_test_mount ("vcm-test", sub, "tmpfs", 0, "mode=0755");
  vcm_test_make_file (top, "on the submount\n");

  for (int root = 0; root <= 1; root++)
    {
      g_autoptr (VcmMountRequest) req =
        vcm_mounter_prepare_bind (f->m, f->w->src, dest, TRUE, root ? NULL : creds, &error);
      g_autofree char *p = NULL;
      g_auto (GStrv) detached = NULL;

      vcm_test_require_no_error (error);
      g_assert_cmpint (req->recursive, ==, !root);
      g_assert_cmpint (req->nosuid, ==, !root);
      g_assert_cmpint (req->nodev, ==, !root);
      p = vcm_mounter_run_bind (f->m, req, &error);
      vcm_test_require_no_error (error);
      g_assert_cmpstr (p, ==, dest);
      g_assert_cmpint (vcm_test_exists (seen_top), ==, !root);
      g_assert_cmpint (vcm_test_exists (seen_hidden), ==, root);
      g_assert_cmpint (statvfs (dest, &sv), ==, 0);
      g_assert_cmpint ((sv.f_flag & ST_NOSUID) != 0, ==, !root);
      g_assert_cmpint ((sv.f_flag & ST_NODEV) != 0, ==, !root);
      g_assert_true (sv.f_flag & ST_RDONLY);
      if (!root)
        {
          /* the submount that came along is read-only, nosuid, nodev too */
          g_autofree char *seen_sub = g_build_filename (dest, "sub", NULL);

          g_assert_true (vcm_test_is_mount_root (seen_sub));
          g_assert_cmpint (statvfs (seen_sub, &sv), ==, 0);
          g_assert_true (sv.f_flag & ST_RDONLY);
          g_assert_true (sv.f_flag & ST_NOSUID);
          g_assert_true (sv.f_flag & ST_NODEV);
        }
      {
        /* the submount that came along is not the caller's to unmount on
         * its own: that would uncover what it hides */
        g_autofree char *seen_sub = g_build_filename (dest, "sub", NULL);
        g_autoptr (VcmMountRequest) un = NULL;

        if (!root)
          {
            un = vcm_mounter_prepare_unmount (f->m, seen_sub, creds, &error);
            vcm_test_require_no_error (error);
            g_assert_null (vcm_mounter_run_unmount (f->m, un, &error));
            vcm_test_assert_error (error, VCM_ERROR_INVALID_ARGUMENT, "mount_point");
            g_clear_error (&error);
            g_assert_false (vcm_test_exists (seen_hidden));
          }
      }
      if (!root)
        {
          /* its own bind, the caller may unmount */
          g_autoptr (VcmMountRequest) un = vcm_mounter_prepare_unmount (f->m, dest, creds, &error);

          vcm_test_require_no_error (error);
          detached = vcm_mounter_run_unmount (f->m, un, &error);
        }
      else
        detached = vcm_mounter_unmount (f->m, dest, &error);
      vcm_test_require_no_error (error);
      g_assert_cmpuint (g_strv_length (detached), ==, root ? 1 : 2);
    }
}

/* Writable only by ownership: a caller's writable mount of a tree whose top
 * it does not own is write_foreign; read-only, or of its own tree, it is
 * not; root's never is. */
static void
test_policy_write_foreign (Fixture *f, gconstpointer data)
{
  g_autoptr (VcmCredentials) creds = caller_creds ();
  g_autofree char *dest = g_build_filename (f->w->shared, "c", NULL);
  static const struct {
    gboolean caller, owned, read_only, foreign;
  } cases[] = {
    { TRUE, FALSE, FALSE, TRUE }, { TRUE, FALSE, TRUE, FALSE },   { TRUE, TRUE, FALSE, FALSE },
    { TRUE, TRUE, TRUE, FALSE },  { FALSE, FALSE, FALSE, FALSE },
  };

  (void) data;
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (VcmMountRequest) req = NULL;

      g_assert_cmpint (chown (f->w->src, cases[i].owned ? CALLER_UID : 0, 0), ==, 0);
      req = vcm_mounter_prepare_bind (f->m, f->w->src, dest, cases[i].read_only,
                                      cases[i].caller ? creds : NULL, &error);
      vcm_test_require_no_error (error);
      g_assert_cmpint (req->write_foreign, ==, cases[i].foreign);
      g_assert_cmpint (req->source_owned, ==, cases[i].owned || !cases[i].caller);
    }
}

/* A caller's mount is never placed on another mount: what the mount point
 * is would be that mount's filesystem's word. Root may stack. */
static void
test_policy_caller_never_stacks (Fixture *f, gconstpointer data)
{
  g_autoptr (VcmCredentials) creds = caller_creds ();
  g_autofree char *dest = g_build_filename (f->w->shared, "c", NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *first = NULL;
  g_autofree char *again = NULL;
  g_auto (GStrv) detached = NULL;

  (void) data;
  first = vcm_mounter_bind_mount (f->m, f->w->src, dest, TRUE, creds, &error);
  vcm_test_require_no_error (error);
  g_assert_cmpstr (first, ==, dest);
  g_assert_null (vcm_mounter_bind_mount (f->m, f->w->src, dest, TRUE, creds, &error));
  vcm_test_assert_error (error, VCM_ERROR_INVALID_ARGUMENT, "destination");
  g_clear_error (&error);
  g_assert_cmpuint (vcm_test_count_mounts_at (dest), ==, 1);
  again = vcm_mounter_bind_mount (f->m, f->w->src, dest, TRUE, NULL, &error);
  vcm_test_require_no_error (error);
  g_assert_cmpstr (again, ==, dest);
  g_assert_cmpuint (vcm_test_count_mounts_at (dest), ==, 2);
  detached = vcm_mounter_unmount (f->m, dest, &error);
  vcm_test_require_no_error (error);
  g_clear_pointer (&detached, g_strfreev);
  detached = vcm_mounter_unmount (f->m, dest, &error);
  vcm_test_require_no_error (error);
}

/* What only root may have, asked for a caller (as an fd-based method's
 * options could), is refused naming the option. */
static void
test_policy_refuses_for_callers (Fixture *f, gconstpointer data)
{
  g_autoptr (VcmCredentials) creds = caller_creds ();
  g_autofree char *dest = g_build_filename (f->w->shared, "c", NULL);
  static const char *const options[] = { "recursive", "nosuid", "nodev" };

  (void) data;
  for (gsize i = 0; i < G_N_ELEMENTS (options); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (VcmMountRequest) req =
        vcm_mounter_prepare_bind (f->m, f->w->src, dest, TRUE, creds, &error);

      vcm_test_require_no_error (error);
      req->recursive = i != 0;
      req->nosuid = i != 1;
      req->nodev = i != 2;
      g_assert_false (vcm_mount_policy_check (req, &error));
      vcm_test_assert_error (error, VCM_ERROR_INVALID_ARGUMENT, options[i]);
      /* root may */
      g_clear_pointer (&req->creds, vcm_credentials_free);
      g_clear_error (&error);
      g_assert_true (vcm_mount_policy_check (req, &error));
      vcm_test_require_no_error (error);
    }
}

/* ---- main ------------------------------------------------------------------------ */

typedef void (*FixtureFunc) (Fixture *, gconstpointer);

static gboolean legacy_api;

static void
add (const char *path, FixtureFunc fn)
{
  g_autofree char *p = g_strdup_printf ("/mounter/%s%s", legacy_api ? "legacy-api" : "fd-api", path);

  g_test_add (p, Fixture, GINT_TO_POINTER (legacy_api), fixture_setup, fn, fixture_teardown);
}

int
main (int argc, char **argv)
{
  int rc = vcm_test_enter_private_mount_ns ("test-mounter");

  if (rc >= 0)
    return rc;
  g_test_init (&argc, &argv, NULL);
  /* VCM_TEST_LEGACY_MOUNT_API=1: every test runs on the classic mount(2) path. */
  legacy_api = g_strcmp0 (g_getenv (LEGACY_ENV), "1") == 0;
  vcm_test_tolerate_rollback_warnings ();

  add ("/attack/sandbox-symlink", test_attack_sandbox_symlink);
  add ("/attack/container-symlink", test_attack_container_symlink);
  add ("/attack/rootfs-leaf-symlink", test_attack_rootfs_leaf_symlink);
  add ("/attack/bind-symlink-first", test_attack_bind_symlink_first);
  add ("/attack/bind-symlink-middle", test_attack_bind_symlink_middle);
  add ("/attack/bind-symlink-leaf", test_attack_bind_symlink_leaf);
  add ("/attack/dotdot-escape", test_attack_dotdot_escape);
  add ("/attack/dest-is-shared", test_attack_dest_is_shared);
  add ("/attack/unmount-outside", test_attack_unmount_outside);
  add ("/attack/unmount-leaf-symlink", test_attack_unmount_leaf_symlink);
  add ("/attack/unmount-rootfs-symlink", test_attack_unmount_rootfs_symlink);
  add ("/attack/ids", test_attack_ids);
  add ("/rootfs/unique-ids", test_unique_ids);

  add ("/refuse/bind-beneath-read-only", test_bind_beneath_read_only);
  add ("/ok/bind-dotdot-inside", test_bind_dotdot_inside);
  add ("/ok/rootfs-rw", test_rootfs_rw);
  add ("/ok/rootfs-ro", test_rootfs_ro);
  add ("/ok/rootfs-ro-keeps-source-flags", test_rootfs_ro_keeps_source_flags);
  add ("/ok/detached-list-bounded", test_detached_list_bounded);
  add ("/ok/bind-dir", test_bind_dir);
  add ("/ok/bind-file", test_bind_file);
  add ("/ok/rootfs-stacked", test_rootfs_stacked);
  add ("/ok/rootfs-submounts", test_rootfs_submounts);
  add ("/ok/rootfs-busy-sandbox", test_rootfs_busy_sandbox);
  add ("/ok/rootfs-keeps-foreign-files", test_rootfs_keeps_foreign_files);
  add ("/ok/not-mounted", test_not_mounted);
  add ("/ok/source-removed", test_source_removed);

  add ("/rollback/type-mismatch", test_rollback_type_mismatch);
  add ("/rollback/rootfs-not-dir", test_rollback_rootfs_not_dir);
  add ("/rollback/leaf-fails", test_rollback_leaf_fails);
  add ("/rollback/attach-fails", test_rollback_attach_fails);

  add ("/ro-never-writable", test_ro_never_writable);

  add ("/policy/caller-binds-recursive", test_policy_caller_binds_recursive);
  add ("/policy/write-foreign", test_policy_write_foreign);
  add ("/policy/caller-never-stacks", test_policy_caller_never_stacks);
  add ("/policy/refuses-for-callers", test_policy_refuses_for_callers);

  return g_test_run ();
}
