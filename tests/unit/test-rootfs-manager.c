/* test-rootfs-manager: the rootfs domain without a bus: real mounts in a
 * private mount namespace, the changes the manager tells (their order,
 * their generations, that none is told in the middle of a table read), the
 * bookkeeping around its own mounts and those made behind its back, and its
 * lifetime while the watch has work in worker threads. Runs on the
 * notification path and (variant) with fanotify refused. */
#include "config.h"

#include <sys/mount.h>

#include "vcm-error.h"
#include "vcm-rootfs-manager.h"
#include "vcm-test-main.h"
#include "vcm-test-util.h"
#include "vcm-testing.h"

#define TIMEOUT_S 30 /* generous: a busy machine, a sanitizer build */

typedef struct {
  VcmTestWorld *w;
  VcmRootfsManager *m;
  GPtrArray *seen; /* HeldChange-like copies: "KIND sbx/cid gen" */
  guint64 last_generation;
} Fixture;

static void
on_changed (VcmRootfsManager *m, const VcmChange *change, gpointer user_data)
{
  Fixture *f = user_data;

  /* one at a time, each one more than the last */
  g_assert_cmpuint (change->generation, ==, f->last_generation + 1);
  f->last_generation = change->generation;
  g_ptr_array_add (f->seen,
                   g_strdup_printf ("%s %s/%s", vcm_change_kind_to_string (change->kind),
                                    change->rootfs->sandbox_id, change->rootfs->container_id));
}

static void
setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->w = vcm_test_world_new ();
  f->seen = g_ptr_array_new_with_free_func (g_free);
  f->m = vcm_rootfs_manager_new (f->w->shared, VCM_MOUNTER_FLAGS_NONE, &error);
  g_assert_no_error (error);
  f->last_generation = vcm_rootfs_manager_get_generation (f->m);
  g_signal_connect (f->m, "changed", G_CALLBACK (on_changed), f);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->m);
  g_clear_pointer (&f->seen, g_ptr_array_unref);
  g_clear_pointer (&f->w, vcm_test_world_free);
}

static gboolean
on_timeout (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the main loop until @f has seen @n changes (or the timeout). */
static void
wait_for_changes (Fixture *f, guint n)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (TIMEOUT_S, on_timeout, &timed_out);

  while (f->seen->len < n && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  g_assert_cmpuint (f->seen->len, >=, n);
}

static char *
seen_text (Fixture *f)
{
  g_ptr_array_add (f->seen, NULL);
  g_autofree char *s = g_strjoinv ("; ", (char **) f->seen->pdata);
  g_ptr_array_remove_index (f->seen, f->seen->len - 1);
  return g_steal_pointer (&s);
}

static VcmRootfsRecord *
mount_rootfs (Fixture *f, const char *sbx, const char *cid, GError **error)
{
  g_autoptr (VcmMountRequest) req = vcm_mounter_prepare_mount_rootfs (
    vcm_rootfs_manager_get_mounter (f->m), sbx, cid, f->w->src, FALSE, NULL, error);

  return req != NULL ? vcm_rootfs_manager_mount_rootfs (f->m, req, error) : NULL;
}

static GStrv
unmount_rootfs (Fixture *f, const char *sbx, const char *cid, GError **error)
{
  g_autoptr (VcmMountRequest) req =
    vcm_mounter_prepare_unmount_rootfs (vcm_rootfs_manager_get_mounter (f->m), sbx, cid, NULL, error);

  return req != NULL ? vcm_rootfs_manager_unmount_rootfs (f->m, req, error) : NULL;
}

/* Its own mount and unmount: one change each, told by the time the call
 * returns, listed with the Generation they reached. */
VCM_TEST_FIXTURE ("/rootfs-manager/own-changes", test_own_changes, Fixture, setup, teardown)
{
  g_autoptr (GError) error = NULL;
  guint64 gen0 = f->last_generation, gen = 0;
  g_autoptr (VcmRootfsRecord) r = mount_rootfs (f, "s1", "c1", &error);
  g_autoptr (GPtrArray) list = NULL;
  g_auto (GStrv) detached = NULL;
  g_autofree char *text = NULL;

  g_assert_no_error (error);
  g_assert_cmpuint (f->seen->len, ==, 1);
  list = vcm_rootfs_manager_list_rootfs (f->m, "s1", &gen);
  g_assert (list->len == 1 && r != NULL);
  g_assert_cmpstr (((VcmRootfsRecord *) list->pdata[0])->mount_point, ==, r->mount_point);
  g_assert_cmpuint (gen, ==, gen0 + 1);
  detached = unmount_rootfs (f, "s1", "c1", &error);
  g_assert_no_error (error);
  g_assert (detached != NULL);
  g_assert_cmpstr (detached[0], ==, r->mount_point);
  text = seen_text (f);
  g_assert_cmpstr (text, ==, "mounted s1/c1; unmounted s1/c1");
  g_assert_cmpuint (vcm_rootfs_manager_get_generation (f->m), ==, gen0 + 2);
  g_clear_pointer (&list, g_ptr_array_unref);
  list = vcm_rootfs_manager_list_rootfs (f->m, NULL, &gen);
  g_assert_cmpuint (list->len, ==, 0);
  g_assert_cmpuint (gen, ==, gen0 + 2);
}

/* A rootfs detached behind the service's back is reported before the
 * service's own mount there, in that order, without the main loop running. */
VCM_TEST_FIXTURE ("/rootfs-manager/foreign-change-reported-first",
                  test_foreign_change_reported_first,
                  Fixture,
                  setup,
                  teardown)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (VcmRootfsRecord) r = mount_rootfs (f, "s1", "c1", &error);
  g_autoptr (VcmRootfsRecord) again = NULL;
  g_autofree char *text = NULL;

  g_assert_no_error (error);
  g_assert (r != NULL);
  g_assert_cmpint (umount2 (r->mount_point, MNT_DETACH), ==, 0);
  again = mount_rootfs (f, "s1", "c1", &error);
  g_assert_no_error (error);
  g_assert (again != NULL);
  text = seen_text (f);
  g_assert_cmpstr (text, ==, "mounted s1/c1; vanished s1/c1; mounted s1/c1");
}

/* A table read (the queries' source) in the middle of someone's work tells
 * nothing then: what it brought up to date is told from the main loop. */
VCM_TEST_FIXTURE ("/rootfs-manager/table-read-tells-nothing-at-once",
                  test_table_read_tells_nothing_at_once,
                  Fixture,
                  setup,
                  teardown)
{
  g_autofree char *rootfs = g_build_filename (f->w->shared, "s2", "c9", "rootfs", NULL);
  g_autoptr (VcmMountTable) table = NULL;
  g_autofree char *text = NULL;

  vcm_test_make_dir (rootfs);
  vcm_test_mount ("foreign", rootfs, "tmpfs", 0, NULL); /* made behind its back */
  table = vcm_rootfs_manager_get_table (f->m, TRUE);
  g_assert_nonnull (vcm_mount_table_lookup_target (table, rootfs));
  g_assert_cmpuint (f->seen->len, ==, 0);
  wait_for_changes (f, 1);
  text = seen_text (f);
  g_assert_cmpstr (text, ==, "mounted s2/c9");
}

/* UnmountSandbox: each rootfs of the sandbox, in order, another sandbox's
 * left alone; one detached meanwhile is skipped, not an error. */
VCM_TEST_FIXTURE ("/rootfs-manager/unmount-sandbox", test_unmount_sandbox, Fixture, setup, teardown)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) done = g_ptr_array_new_with_free_func ((GDestroyNotify) vcm_unmounted_free);
  g_autoptr (VcmRootfsRecord) a = mount_rootfs (f, "s1", "a", &error);
  g_autoptr (VcmRootfsRecord) b = mount_rootfs (f, "s1", "b", &error);
  g_autoptr (VcmRootfsRecord) c = mount_rootfs (f, "s1", "c", &error);
  g_autoptr (VcmRootfsRecord) other = mount_rootfs (f, "s2", "a", &error);
  g_autoptr (GPtrArray) left = NULL;

  g_assert_no_error (error);
  g_assert (a != NULL && b != NULL && c != NULL && other != NULL);
  g_assert_cmpint (umount2 (b->mount_point, MNT_DETACH), ==, 0);
  g_assert_true (vcm_rootfs_manager_unmount_sandbox (f->m, "s1", NULL, done, &error));
  g_assert_no_error (error);
  g_assert (done->len == 2);
  g_assert_cmpstr (((VcmUnmounted *) done->pdata[0])->container_id, ==, "a");
  g_assert_cmpstr (((VcmUnmounted *) done->pdata[0])->detached[0], ==, a->mount_point);
  g_assert_cmpstr (((VcmUnmounted *) done->pdata[1])->container_id, ==, "c");
  g_assert_cmpstr (((VcmUnmounted *) done->pdata[1])->detached[0], ==, c->mount_point);
  left = vcm_rootfs_manager_list_rootfs (f->m, NULL, NULL);
  g_assert (left->len == 1);
  g_assert_cmpstr (((VcmRootfsRecord *) left->pdata[0])->sandbox_id, ==, "s2");
  g_assert_cmpuint (vcm_test_count_mounts_at (other->mount_point), ==, 1);
}

/* Bad input leaves the table as it was and tells nothing. */
VCM_TEST_FIXTURE (
  "/rootfs-manager/failures-change-nothing", test_failures_change_nothing, Fixture, setup, teardown)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *before = vcm_test_mountinfo_beneath (f->w->root);
  g_autofree char *after = NULL;
  g_auto (GStrv) detached = unmount_rootfs (f, "s1", "none", &error);
  g_autoptr (GPtrArray) done = g_ptr_array_new_with_free_func ((GDestroyNotify) vcm_unmounted_free);
  g_autoptr (VcmRootfsRecord) r = NULL;

  g_assert_null (detached);
  g_assert_error (error, VCM_ERROR, VCM_ERROR_NOT_MOUNTED);
  g_clear_error (&error);
  r = mount_rootfs (f, "s1", "../x", &error);
  g_assert_null (r);
  vcm_test_assert_error (error, VCM_ERROR_INVALID_ARGUMENT, "container_id");
  g_clear_error (&error);
  g_assert_true (vcm_rootfs_manager_unmount_sandbox (f->m, "empty", NULL, done, &error));
  g_assert_cmpuint (done->len, ==, 0);
  after = vcm_test_mountinfo_beneath (f->w->root);
  g_assert_cmpstr (before, ==, after);
  g_assert_cmpuint (f->seen->len, ==, 0);
}

static void
on_watch_gone (gpointer data, GObject *where_the_object_was)
{
  g_atomic_int_set ((int *) data, TRUE);
  g_main_context_wakeup (NULL); /* the last reference may go in a worker thread */
}

/* The last unref returns at once, whatever the watch has in worker threads:
 * that work holds the watch, lands (doing nothing) and lets it go. */
VCM_TEST_FIXTURE (
  "/rootfs-manager/unref-with-work-in-flight", test_unref_with_work_in_flight, Fixture, setup, teardown)
{
  g_autofree char *rootfs = g_build_filename (f->w->shared, "s3", "c1", "rootfs", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (VcmRootfsRecord) r = mount_rootfs (f, "s3", "c0", &error);
  VcmWatch *watch = vcm_rootfs_manager_get_watch (f->m);
  gboolean timed_out = FALSE;
  int gone = FALSE;
  guint id;

  g_assert_no_error (error);
  g_assert_nonnull (r);
  g_object_weak_ref (G_OBJECT (watch), on_watch_gone, &gone);
  vcm_test_make_dir (rootfs);
  for (guint i = 0; i < 50; i++) /* changes the watch follows, some in its threads */
    {
      vcm_test_mount ("foreign", rootfs, "tmpfs", 0, NULL);
      g_main_context_iteration (NULL, FALSE);
      g_assert_cmpint (umount2 (rootfs, MNT_DETACH), ==, 0);
      g_main_context_iteration (NULL, FALSE);
    }
  g_clear_object (&f->m);
  id = g_timeout_add_seconds (TIMEOUT_S, on_timeout, &timed_out);
  while (!g_atomic_int_get (&gone) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  g_assert_true (g_atomic_int_get (&gone));
}

/* The asynchronous forms (the service's): each operation's work lands in
 * a worker thread; its own change is told once (never also as a change
 * behind its back, though the watch sees the mount before the work lands),
 * in the order the operations on one sandbox were asked for. */
typedef struct {
  Fixture *f;
  guint done;
  GPtrArray *order; /* what each callback found, in the order they came */
} AsyncState;

static void
on_ran (GObject *source, GAsyncResult *result, gpointer user_data)
{
  AsyncState *st = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (VcmRootfsRecord) mounted = NULL;
  g_auto (GStrv) detached = NULL;

  if (!vcm_rootfs_manager_run_finish (VCM_ROOTFS_MANAGER (source), result, &mounted, NULL, &detached,
                                      NULL, NULL, NULL, &error))
    g_ptr_array_add (st->order, g_strdup_printf ("error %s", error->message));
  else if (mounted != NULL)
    g_ptr_array_add (st->order, g_strdup_printf ("mounted %s", mounted->container_id));
  else
    g_ptr_array_add (st->order, g_strdup_printf ("unmounted %s", detached[0]));
  st->done++;
}

VCM_TEST_FIXTURE ("/rootfs-manager/async", test_async, Fixture, setup, teardown)
{
  g_autoptr (GError) error = NULL;
  VcmMounter *mounter = vcm_rootfs_manager_get_mounter (f->m);
  g_autoptr (VcmMountRequest) m1 =
    vcm_mounter_prepare_mount_rootfs (mounter, "s1", "c1", f->w->src, FALSE, NULL, &error);
  g_autoptr (VcmMountRequest) u1 =
    vcm_mounter_prepare_unmount_rootfs (mounter, "s1", "c1", NULL, &error);
  g_autoptr (VcmMountRequest) m2 =
    vcm_mounter_prepare_mount_rootfs (mounter, "s1", "c1", f->w->src, TRUE, NULL, &error);
  g_autoptr (GPtrArray) order = g_ptr_array_new_with_free_func (g_free);
  AsyncState st = { f, 0, order };
  g_autofree char *seen = NULL;
  g_autoptr (GPtrArray) list = NULL;
  gboolean timed_out = FALSE;
  guint id;

  g_assert_no_error (error);
  /* asked for at once: run one after the other, in this order */
  vcm_rootfs_manager_run_async (f->m, m1, NULL, on_ran, &st);
  vcm_rootfs_manager_run_async (f->m, u1, NULL, on_ran, &st);
  vcm_rootfs_manager_run_async (f->m, m2, NULL, on_ran, &st);
  id = g_timeout_add_seconds (TIMEOUT_S, on_timeout, &timed_out);
  while (st.done < 3 && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  g_assert_cmpuint (st.done, ==, 3);
  g_assert_cmpstr (order->pdata[0], ==, "mounted c1");
  g_assert_true (g_str_has_prefix (order->pdata[1], "unmounted "));
  g_assert_cmpstr (order->pdata[2], ==, "mounted c1");
  /* let the watch follow the kernel's events of all that: nothing more */
  g_usleep (100 * 1000);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  list = vcm_rootfs_manager_list_rootfs (f->m, "s1", NULL);
  seen = seen_text (f);
  g_assert_cmpstr (seen, ==, "mounted s1/c1; unmounted s1/c1; mounted s1/c1");
  g_assert_cmpuint (list->len, ==, 1);
  g_assert_true (((VcmRootfsRecord *) list->pdata[0])->read_only);
  g_strfreev (unmount_rootfs (f, "s1", "c1", &error));
  g_assert_no_error (error);
}

VCM_TEST_MAIN (vcm_test_enter_private_mount_ns, NULL, NULL);
