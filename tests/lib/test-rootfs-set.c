/* test-rootfs-set: VcmRootfsSet against the scripted fake service on a
 * private bus. Each test makes the set follow changes with signals lost,
 * generations skipped, listings overtaken by signals, the service restarted
 * or replaced, or a burst of 1,000 changes, and then proves that the set
 * equals what the service's ListRootfs answers (through the bus) at the
 * set's generation, and that its added/removed/changed signals and its
 * items-changed each describe the same set. */
#include "client-fixture.h"

typedef struct {
  ClientFixture c;
  VcmRootfsSet *set;
  GHashTable *by_signals;      /* key -> "mount_point ro|rw", from added/removed/changed */
  GPtrArray *by_items_changed; /* VcmRootfs, from items-changed */
  guint n_added, n_removed, n_changed, n_resynced;
  GString *log; /* "added sb/c rw; changed sb/c remounted; ..." */
} Fixture;

static char *
key_of (VcmRootfs *r)
{
  return g_strdup_printf ("%s/%s", vcm_rootfs_get_sandbox_id (r), vcm_rootfs_get_container_id (r));
}

static char *
value_of (VcmRootfs *r)
{
  return g_strdup_printf ("%s %s", vcm_rootfs_get_mount_point (r),
                          vcm_rootfs_get_read_only (r) ? "ro" : "rw");
}

static void
on_added (VcmRootfsSet *set, VcmRootfs *r, Fixture *fx)
{
  char *key = key_of (r);

  g_assert_false (g_hash_table_contains (fx->by_signals, key));
  g_hash_table_insert (fx->by_signals, key, value_of (r));
  g_assert_true (
    vcm_rootfs_set_lookup (set, vcm_rootfs_get_sandbox_id (r), vcm_rootfs_get_container_id (r)) == r);
  g_string_append_printf (fx->log, "added %s; ", key);
  fx->n_added++;
}

static void
on_removed (VcmRootfsSet *set, VcmRootfs *r, const char *const *detached, Fixture *fx)
{
  g_autofree char *key = key_of (r);

  g_assert_true (g_hash_table_remove (fx->by_signals, key));
  g_assert_null (
    vcm_rootfs_set_lookup (set, vcm_rootfs_get_sandbox_id (r), vcm_rootfs_get_container_id (r)));
  if (detached != NULL)
    g_assert_cmpstr (detached[0], ==, vcm_rootfs_get_mount_point (r));
  g_string_append_printf (fx->log, "removed %s%s; ", key, detached != NULL ? " detached" : "");
  fx->n_removed++;
}

static void
on_changed (VcmRootfsSet *set, VcmRootfs *r, const char *change, Fixture *fx)
{
  char *key = key_of (r);

  g_assert_true (g_hash_table_contains (fx->by_signals, key));
  g_hash_table_replace (fx->by_signals, key, value_of (r));
  g_string_append_printf (fx->log, "changed %s %s; ", key, change);
  fx->n_changed++;
}

static void
on_resynced (VcmRootfsSet *set, Fixture *fx)
{
  g_assert_true (vcm_rootfs_set_get_synced (set));
  fx->n_resynced++;
}

static void
on_items_changed (GListModel *model, guint position, guint removed, guint added, Fixture *fx)
{
  g_assert_cmpuint (position + removed, <=, fx->by_items_changed->len);
  g_ptr_array_remove_range (fx->by_items_changed, position, removed);
  for (guint i = 0; i < added; i++)
    g_ptr_array_insert (fx->by_items_changed, (int) (position + i),
                        g_list_model_get_item (model, position + i));
  g_assert_cmpuint (fx->by_items_changed->len, ==, g_list_model_get_n_items (model));
}

static void
fixture_set_up (Fixture *fx, gconstpointer data)
{
  client_fixture_set_up (&fx->c, data);
  fx->by_signals = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  fx->by_items_changed = g_ptr_array_new_with_free_func (g_object_unref);
  fx->log = g_string_new ("");
}

static void
fixture_follow (Fixture *fx, const char *sandbox_id)
{
  fx->set = vcm_rootfs_set_new (fx->c.client, sandbox_id);
  g_signal_connect (fx->set, "added", G_CALLBACK (on_added), fx);
  g_signal_connect (fx->set, "removed", G_CALLBACK (on_removed), fx);
  g_signal_connect (fx->set, "changed", G_CALLBACK (on_changed), fx);
  g_signal_connect (fx->set, "resynced", G_CALLBACK (on_resynced), fx);
  g_signal_connect (fx->set, "items-changed", G_CALLBACK (on_items_changed), fx);
}

static void
fixture_tear_down (Fixture *fx, gconstpointer data)
{
  if (fx->set != NULL)
    {
      g_signal_handlers_disconnect_by_data (fx->set, fx);
      /* A listing under way holds the set: let it finish. */
      g_object_add_weak_pointer (G_OBJECT (fx->set), (gpointer *) &fx->set);
      g_object_unref (fx->set);
      WAIT_UNTIL (fx->set == NULL);
    }
  client_fixture_tear_down (&fx->c, data);
  g_hash_table_unref (fx->by_signals);
  g_ptr_array_unref (fx->by_items_changed);
  g_string_free (fx->log, TRUE);
}

/* Waits until the set holds every change the service made, then checks it
 * against the service's ListRootfs, the signals and items-changed. */
static void
assert_set_is_service (Fixture *fx)
{
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GPtrArray) listed = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) table = NULL;
  g_autoptr (GVariant) table_items = NULL;
  const char *filter = vcm_rootfs_set_get_sandbox_id (fx->set);
  guint64 generation = 0;
  guint n;

  WAIT_UNTIL (vcm_rootfs_set_get_synced (fx->set) &&
              vcm_rootfs_set_get_generation (fx->set) == fx->c.fake->generation);
  n = g_list_model_get_n_items (G_LIST_MODEL (fx->set));

  vcm_client_list_rootfs (fx->c.client, filter, VCM_CALL_FLAGS_NONE, NULL, on_done, &res);
  WAIT_UNTIL (res != NULL);
  listed = vcm_client_list_rootfs_finish (fx->c.client, res, &generation, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (generation, ==, vcm_rootfs_set_get_generation (fx->set));
  g_assert_cmpuint (n, ==, listed->len);
  g_assert_cmpuint (n, ==, g_hash_table_size (fx->by_signals));
  g_assert_cmpuint (n, ==, fx->by_items_changed->len);
  /* and the fake's own table, read without the bus */
  table = fake_service_list (fx->c.fake, filter != NULL ? filter : "");
  table_items = g_variant_get_child_value (table, 1);
  g_assert_cmpuint (g_variant_n_children (table_items), ==, n);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (VcmRootfs) item = g_list_model_get_item (G_LIST_MODEL (fx->set), i);
      VcmRootfs *want = listed->pdata[i];
      g_autofree char *key = key_of (item);
      g_autofree char *value = value_of (item);

      g_assert_cmpstr (vcm_rootfs_get_sandbox_id (item), ==, vcm_rootfs_get_sandbox_id (want));
      g_assert_cmpstr (vcm_rootfs_get_container_id (item), ==, vcm_rootfs_get_container_id (want));
      g_assert_cmpstr (vcm_rootfs_get_mount_point (item), ==, vcm_rootfs_get_mount_point (want));
      g_assert_cmpint (vcm_rootfs_get_read_only (item), ==, vcm_rootfs_get_read_only (want));
      g_assert_cmpstr (g_hash_table_lookup (fx->by_signals, key), ==, value);
      g_assert_true (fx->by_items_changed->pdata[i] == item);
    }
}

static void
test_initial (Fixture *fx, gconstpointer data)
{
  fake_service_mount (fx->c.fake, "sb1", "c1", FALSE, TRUE);
  fake_service_mount (fx->c.fake, "sb1", "c2", TRUE, TRUE);
  fake_service_mount (fx->c.fake, "sb0", "c9", FALSE, TRUE);
  fixture_follow (fx, NULL);
  g_assert_false (vcm_rootfs_set_get_synced (fx->set));
  assert_set_is_service (fx);
  g_assert_cmpuint (fx->n_added, ==, 3);
  g_assert_cmpuint (fx->n_resynced, ==, 1);
  g_assert_cmpuint (vcm_rootfs_set_get_generation (fx->set), ==, 3);
  g_assert_cmpuint (fx->c.fake->n_list_calls, ==, 2); /* the set's and the check's */
}

static void
test_follow (Fixture *fx, gconstpointer data)
{
  fixture_follow (fx, NULL);
  assert_set_is_service (fx);
  fake_service_mount (fx->c.fake, "sb1", "c1", FALSE, TRUE);
  assert_set_is_service (fx);
  fake_service_mount (fx->c.fake, "sb1", "c2", TRUE, TRUE);
  assert_set_is_service (fx);
  fake_service_change (fx->c.fake, "sb1", "c1", "submount-added", TRUE);
  assert_set_is_service (fx);
  fake_service_change (fx->c.fake, "sb1", "c1", "submount-removed", TRUE);
  assert_set_is_service (fx);
  fake_service_change (fx->c.fake, "sb1", "c2", "remounted", TRUE);
  assert_set_is_service (fx);
  g_assert_false (vcm_rootfs_get_read_only (vcm_rootfs_set_lookup (fx->set, "sb1", "c2")));
  fake_service_unmount (fx->c.fake, "sb1", "c1", TRUE);
  assert_set_is_service (fx);
  fake_service_change (fx->c.fake, "sb1", "c2", "vanished", TRUE);
  assert_set_is_service (fx);
  g_assert_cmpstr (fx->log->str, ==,
                   "added sb1/c1; added sb1/c2; changed sb1/c1 submount-added; "
                   "changed sb1/c1 submount-removed; changed sb1/c2 remounted; "
                   "removed sb1/c1 detached; removed sb1/c2; ");
}

static void
test_lost_signals (Fixture *fx, gconstpointer data)
{
  guint lists;

  fixture_follow (fx, NULL);
  fake_service_mount (fx->c.fake, "sb1", "c1", FALSE, TRUE);
  fake_service_mount (fx->c.fake, "sb1", "c2", FALSE, TRUE);
  assert_set_is_service (fx);
  lists = fx->c.fake->n_list_calls;

  /* A lost mount, found by the gap before the next signal. */
  fake_service_mount (fx->c.fake, "sb2", "lost", TRUE, FALSE);
  fake_service_mount (fx->c.fake, "sb2", "seen", FALSE, TRUE);
  assert_set_is_service (fx);
  g_assert_nonnull (vcm_rootfs_set_lookup (fx->set, "sb2", "lost"));
  g_assert_cmpuint (fx->c.fake->n_list_calls, >, lists);

  /* A lost unmount, a lost remount and a lost vanish in a row. */
  fake_service_unmount (fx->c.fake, "sb1", "c1", FALSE);
  fake_service_change (fx->c.fake, "sb2", "lost", "remounted", FALSE);
  fake_service_change (fx->c.fake, "sb1", "c2", "vanished", FALSE);
  fake_service_change (fx->c.fake, "sb2", "seen", "submount-added", TRUE);
  assert_set_is_service (fx);
  g_assert_null (vcm_rootfs_set_lookup (fx->set, "sb1", "c1"));
  g_assert_false (vcm_rootfs_get_read_only (vcm_rootfs_set_lookup (fx->set, "sb2", "lost")));

  /* The generation jumps with no change to the table at all. */
  fake_service_skip (fx->c.fake, 7);
  fake_service_unmount (fx->c.fake, "sb2", "seen", TRUE);
  assert_set_is_service (fx);

  /* A lost last signal: nothing shows it; a refresh does. */
  fake_service_mount (fx->c.fake, "sb3", "last", FALSE, FALSE);
  vcm_rootfs_set_refresh (fx->set);
  assert_set_is_service (fx);
  g_assert_nonnull (vcm_rootfs_set_lookup (fx->set, "sb3", "last"));
}

static void
test_signals_during_listing (Fixture *fx, gconstpointer data)
{
  gboolean as_asked = GPOINTER_TO_INT (data);

  fake_service_mount (fx->c.fake, "sb", "before", FALSE, TRUE);
  fx->c.fake->hold_lists = TRUE;
  fixture_follow (fx, NULL);
  WAIT_UNTIL (fx->c.fake->held->len == 1);
  /* Changes after the listing was asked for, while its answer is held. */
  fake_service_mount (fx->c.fake, "sb", "during1", FALSE, TRUE);
  fake_service_unmount (fx->c.fake, "sb", "before", TRUE);
  fake_service_mount (fx->c.fake, "sb", "during2", TRUE, TRUE);
  fake_service_change (fx->c.fake, "sb", "during1", "submount-added", TRUE);
  /* Their signals reach the client before the answer does (one connection). */
  fx->c.fake->hold_lists = FALSE;
  /* as asked: the signals come after the answer's generation and must be
   * applied; as now: they are at or below it and must not be applied twice. */
  fake_service_release_lists (fx->c.fake, as_asked);
  assert_set_is_service (fx);
  g_assert_cmpuint (fx->n_resynced, ==, 1);
  if (as_asked)
    g_assert_cmpstr (fx->log->str, ==,
                     "added sb/before; added sb/during1; removed sb/before detached; "
                     "added sb/during2; changed sb/during1 submount-added; ");
  else
    g_assert_cmpstr (fx->log->str, ==, "added sb/during1; added sb/during2; ");
}

static void
test_restart (Fixture *fx, gconstpointer data)
{
  gboolean replace = GPOINTER_TO_INT (data);

  fixture_follow (fx, NULL);
  for (guint i = 0; i < 10; i++)
    {
      g_autofree char *c = g_strdup_printf ("c%u", i);
      fake_service_mount (fx->c.fake, "sb", c, i % 2, TRUE);
    }
  assert_set_is_service (fx);
  g_assert_cmpuint (vcm_rootfs_set_get_generation (fx->set), ==, 10);

  if (!replace)
    {
      fake_service_stop (fx->c.fake);
      WAIT_UNTIL (!vcm_rootfs_set_get_synced (fx->set));
      /* The kernel keeps the mounts; the set keeps what it knew. */
      g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (fx->set)), ==, 10);
    }
  /* Behind the back of any service: changes while it is down. */
  fake_service_unmount (fx->c.fake, "sb", "c0", FALSE);
  fake_service_mount (fx->c.fake, "sb", "new", FALSE, FALSE);
  fake_service_change (fx->c.fake, "sb", "c1", "remounted", FALSE);
  g_string_truncate (fx->log, 0);
  fake_service_start (fx->c.fake, replace);
  g_assert_cmpuint (fx->c.fake->generation, ==, 0);
  assert_set_is_service (fx);
  g_assert_cmpuint (vcm_rootfs_set_get_generation (fx->set), ==, 0);
  g_assert_cmpstr (fx->log->str, ==, "removed sb/c0; changed sb/c1 remounted; added sb/new; ");
  g_assert_null (vcm_rootfs_set_lookup (fx->set, "ghost", "ghost"));

  /* The new instance counts from 0: generations the old one had used. */
  fake_service_mount (fx->c.fake, "sb", "after1", FALSE, TRUE);
  fake_service_unmount (fx->c.fake, "sb", "c2", TRUE);
  assert_set_is_service (fx);
  g_assert_cmpuint (vcm_rootfs_set_get_generation (fx->set), ==, 2);
}

static void
test_service_absent (Fixture *fx, gconstpointer data)
{
  fake_service_mount (fx->c.fake, "sb", "c1", FALSE, FALSE);
  fake_service_stop (fx->c.fake);
  fixture_follow (fx, NULL);
  g_assert_false (vcm_rootfs_set_get_synced (fx->set));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (fx->set)), ==, 0);
  /* The first listing fails too: the set tries again. */
  fx->c.fake->fail_lists = 1;
  fake_service_start (fx->c.fake, FALSE);
  assert_set_is_service (fx);
  g_assert_cmpuint (fx->n_added, ==, 1);
  g_assert_cmpuint (fx->c.fake->fail_lists, ==, 0);
}

static void
test_connection_closed (Fixture *fx, gconstpointer data)
{
  fake_service_mount (fx->c.fake, "sb", "c1", FALSE, TRUE);
  fixture_follow (fx, NULL);
  assert_set_is_service (fx);
  g_dbus_connection_close_sync (fx->c.conn, NULL, NULL);
  WAIT_UNTIL (!vcm_rootfs_set_get_synced (fx->set));
  /* what it knew stays; nothing more comes */
  fake_service_mount (fx->c.fake, "sb", "c2", FALSE, TRUE);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (fx->set)), ==, 1);
  g_assert_false (vcm_rootfs_set_get_synced (fx->set));
}

static void
test_sandbox_filter (Fixture *fx, gconstpointer data)
{
  fake_service_mount (fx->c.fake, "sbA", "c1", FALSE, TRUE);
  fake_service_mount (fx->c.fake, "sbB", "c1", FALSE, TRUE);
  fixture_follow (fx, "sbA");
  assert_set_is_service (fx);
  fake_service_mount (fx->c.fake, "sbB", "c2", FALSE, TRUE);
  fake_service_mount (fx->c.fake, "sbA", "c2", FALSE, TRUE);
  fake_service_change (fx->c.fake, "sbB", "c1", "remounted", TRUE);
  fake_service_unmount (fx->c.fake, "sbB", "c1", TRUE);
  assert_set_is_service (fx);
  fake_service_unmount (fx->c.fake, "sbB", "c2", FALSE); /* lost, in another sandbox */
  fake_service_unmount (fx->c.fake, "sbA", "c1", TRUE);
  assert_set_is_service (fx);
  g_assert_cmpstr (fx->log->str, ==, "added sbA/c1; added sbA/c2; removed sbA/c1; ");
}

/* 1,000 changes over 5 sandboxes x 20 containers, as fast as the fake can
 * emit them: with every signal delivered the set must follow without a single
 * new listing; with @lossy, every 37th signal is lost and remounts are mixed in. */
static void
test_burst (Fixture *fx, gconstpointer data)
{
  gboolean lossy = GPOINTER_TO_INT (data);
  g_autoptr (GRand) rand = g_rand_new_with_seed (lossy ? 16 : 61);
  guint lists;

  fixture_follow (fx, NULL);
  assert_set_is_service (fx);
  lists = fx->c.fake->n_list_calls;
  for (guint i = 0; i < 1000; i++)
    {
      g_autofree char *sb = g_strdup_printf ("sb%d", g_rand_int_range (rand, 0, 5));
      g_autofree char *c = g_strdup_printf ("c%d", g_rand_int_range (rand, 0, 20));
      g_autofree char *key = g_strconcat (sb, "\n", c, NULL);
      gboolean emit = !lossy || i % 37 != 36;

      if (!g_hash_table_contains (fx->c.fake->mounts, key))
        fake_service_mount (fx->c.fake, sb, c, g_rand_boolean (rand), emit);
      else
        switch (g_rand_int_range (rand, 0, lossy ? 4 : 3))
          {
          case 0:
            fake_service_unmount (fx->c.fake, sb, c, emit);
            break;
          case 1:
            fake_service_change (fx->c.fake, sb, c, "submount-added", emit);
            break;
          case 2:
            fake_service_change (fx->c.fake, sb, c, "vanished", emit);
            break;
          default:
            fake_service_change (fx->c.fake, sb, c, "remounted", emit);
          }
    }
  /* The last signal goes through, so that a loss before it shows. */
  fake_service_mount (fx->c.fake, "last", "c", FALSE, TRUE);
  assert_set_is_service (fx);
  if (!lossy)
    g_assert_cmpuint (fx->c.fake->n_list_calls, ==, lists + 1); /* the check's own */
  g_assert_cmpuint (vcm_rootfs_set_get_generation (fx->set), ==, 1001);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func, data) \
  g_test_add ("/rootfs-set/" path, Fixture, data, fixture_set_up, func, fixture_tear_down)
  ADD ("initial", test_initial, NULL);
  ADD ("follow", test_follow, NULL);
  ADD ("lost-signals", test_lost_signals, NULL);
  ADD ("signals-during-listing/answer-as-asked", test_signals_during_listing, GINT_TO_POINTER (TRUE));
  ADD ("signals-during-listing/answer-as-now", test_signals_during_listing, GINT_TO_POINTER (FALSE));
  ADD ("restart/new-owner", test_restart, GINT_TO_POINTER (FALSE));
  ADD ("restart/owner-replaced", test_restart, GINT_TO_POINTER (TRUE));
  ADD ("service-absent", test_service_absent, NULL);
  ADD ("sandbox-filter", test_sandbox_filter, NULL);
  ADD ("connection-closed", test_connection_closed, NULL);
  ADD ("burst/1000", test_burst, GINT_TO_POINTER (FALSE));
  ADD ("burst/1000-lossy", test_burst, GINT_TO_POINTER (TRUE));
#undef ADD
  return g_test_run ();
}
