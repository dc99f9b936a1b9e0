/* test-mounter-attacks: attacks on the mounter (symlinks, "..", the shared
 * dir itself, unmounts outside) refused without changing anything. */
#include "config.h"

#include "test-mounter.h"

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

/* A destination deeper than VCM_MAX_DESTINATION_DEPTH is refused before any
 * directory of it is made; one at the bound is made, and taken away again. */
static void
test_attack_dest_too_deep (Fixture *f, gconstpointer data)
{
  g_autoptr (GString) deep = g_string_new (f->w->shared);
  g_autoptr (GError) error = NULL;
  g_autofree char *p = NULL;
  g_auto (GStrv) detached = NULL;

  (void) data;
  for (guint i = 0; i < VCM_MAX_DESTINATION_DEPTH; i++)
    g_string_append (deep, "/d");
  p = vcm_mounter_bind_mount (f->m, f->w->src, deep->str, TRUE, NULL, &error);
  vcm_test_require_no_error (error);
  detached = vcm_mounter_unmount (f->m, p, &error);
  vcm_test_require_no_error (error);
  g_assert_cmpuint (g_strv_length (detached), ==, 1);
  g_string_append (deep, "/d");
  refused_bind (f, f->w->src, deep->str, VCM_ERROR_INVALID_ARGUMENT, "destination");
  for (guint i = 0; i < 2000; i++)
    g_string_append (deep, "/d");
  refused_bind (f, f->w->src, deep->str, VCM_ERROR_INVALID_ARGUMENT, "destination");
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

void
test_mounter_add_attacks (void)
{
  test_mounter_add ("/attack/sandbox-symlink", test_attack_sandbox_symlink);
  test_mounter_add ("/attack/container-symlink", test_attack_container_symlink);
  test_mounter_add ("/attack/rootfs-leaf-symlink", test_attack_rootfs_leaf_symlink);
  test_mounter_add ("/attack/bind-symlink-first", test_attack_bind_symlink_first);
  test_mounter_add ("/attack/bind-symlink-middle", test_attack_bind_symlink_middle);
  test_mounter_add ("/attack/bind-symlink-leaf", test_attack_bind_symlink_leaf);
  test_mounter_add ("/attack/dotdot-escape", test_attack_dotdot_escape);
  test_mounter_add ("/attack/dest-is-shared", test_attack_dest_is_shared);
  test_mounter_add ("/attack/dest-too-deep", test_attack_dest_too_deep);
  test_mounter_add ("/attack/unmount-outside", test_attack_unmount_outside);
  test_mounter_add ("/attack/unmount-leaf-symlink", test_attack_unmount_leaf_symlink);
  test_mounter_add ("/attack/unmount-rootfs-symlink", test_attack_unmount_rootfs_symlink);
  test_mounter_add ("/attack/ids", test_attack_ids);
  test_mounter_add ("/ok/bind-dotdot-inside", test_bind_dotdot_inside);
}
