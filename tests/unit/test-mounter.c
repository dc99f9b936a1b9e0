/* test-mounter: in-process tests of vcm-mounter against real mounts: attacks
 * that must be refused without touching anything outside the shared dir,
 * the success paths, rollback of what a failed call created, and read-only
 * mounts that must never be writable, with the fd-based mount API and with
 * the classic mount(2) fallback. The binary enters a private mount namespace
 * first and every test gets its own tmpfs "world". Needs root. */
#include "config.h"

#include "test-mounter.h"
#include "vcm-test-main.h"

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

char *
in (const char *dir, const char *rel)
{
  return g_build_filename (dir, rel, NULL);
}

/* ---- snapshots: nothing changed outside (and, unless told, inside) ---------- */

/* A snapshot is a value (g_auto(Snap)): its strings are all it owns. */
Snap
snap_take (Fixture *f)
{
  Snap s = {
    .mounts = vcm_test_mountinfo_beneath (f->w->root),
    .outside = vcm_test_list_tree (f->w->outside),
    .shared = vcm_test_list_tree (f->w->shared),
  };

  return s;
}

void
snap_clear (Snap *s)
{
  g_clear_pointer (&s->mounts, g_free);
  g_clear_pointer (&s->outside, g_free);
  g_clear_pointer (&s->shared, g_free);
}

static void
soft_same (const char *what, const char *before, const char *after)
{
  if (g_strcmp0 (before, after) != 0)
    {
      g_test_message ("FAIL: %s changed:\n--- before\n%s--- after\n%s", what, before, after);
      g_test_fail_printf ("%s changed", what);
    }
}

void
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
void
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

void
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

void
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

void
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

void
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

/* ---- main ------------------------------------------------------------------------ */

static gboolean legacy_api;

void
test_mounter_add (const char *path, FixtureFunc fn)
{
  g_autofree char *p = g_strdup_printf ("/mounter/%s%s", legacy_api ? "legacy-api" : "fd-api", path);

  g_test_add (p, Fixture, GINT_TO_POINTER (legacy_api), fixture_setup, fn, fixture_teardown);
}

/* After g_test_init(): the legacy flag names every test's path. */
static void
add_tests (void)
{
  /* VCM_TEST_LEGACY_MOUNT_API=1: every test runs on the classic mount(2) path. */
  legacy_api = g_strcmp0 (g_getenv (LEGACY_ENV), "1") == 0;
  vcm_test_tolerate_rollback_warnings ();
  test_mounter_add_attacks ();
  test_mounter_add_paths ();
  test_mounter_add_policy ();
  test_mounter_add_ids ();
}

VCM_TEST_MAIN (vcm_test_enter_private_mount_ns, add_tests, NULL);
