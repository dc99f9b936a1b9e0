/* test-ledger: the watch's ledger without a kernel: changes told once each,
 * in order, with Generation bumped by one per change; held changes told at
 * the last release; a table's rootfs set diffed against the snapshot; the
 * rootfs the service changed after a read began left alone by that read. */
#include "config.h"

#include "vcm-ledger.h"
#include "vcm-test-main.h"

typedef struct {
  GPtrArray *told; /* "kind sbx/cid gen" */
  VcmLedger *ledger;
} Fixture;

static void
on_tell (const VcmChange *change, gpointer user_data)
{
  Fixture *f = user_data;

  g_ptr_array_add (f->told,
                   g_strdup_printf ("%s %s/%s %" G_GUINT64_FORMAT,
                                    vcm_change_kind_to_string (change->kind), change->rootfs->sandbox_id,
                                    change->rootfs->container_id, change->generation));
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  f->told = g_ptr_array_new_with_free_func (g_free);
  f->ledger = vcm_ledger_new (on_tell, f);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  vcm_ledger_free (f->ledger);
  g_ptr_array_unref (f->told);
}

/* The changes told so far, one line each, then forgotten. */
static char *
told (Fixture *f)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < f->told->len; i++)
    g_string_append_printf (s, "%s%s", i ? "; " : "", (char *) f->told->pdata[i]);
  g_ptr_array_set_size (f->told, 0);
  return g_string_free (s, FALSE);
}

/* The changes told since the last look are @want (a macro: a failure
 * names the line of the check). */
#define assert_told(f, want) \
  G_STMT_START \
  { \
    g_autofree char *told_ = told (f); \
    g_assert_cmpstr (told_, ==, (want)); \
  } \
  G_STMT_END

static VcmRootfsRecord *
rootfs (const char *sbx, const char *cid, guint64 id, guint64 unique, gboolean ro)
{
  g_autofree char *point = g_strdup_printf ("/shared/%s/%s/rootfs", sbx, cid);
  VcmRootfsRecord *r = vcm_rootfs_record_new (sbx, cid, point, id, ro);

  r->unique_id = unique;
  return r;
}

static GHashTable *
ids (guint n, ...)
{
  GHashTable *set = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  va_list ap;

  va_start (ap, n);
  for (guint i = 0; i < n; i++)
    {
      guint64 id = va_arg (ap, guint64);
      g_hash_table_add (set, g_memdup2 (&id, sizeof id));
    }
  va_end (ap);
  return set;
}

VCM_TEST_FIXTURE ("/ledger/own-changes", test_own_changes, Fixture, fixture_set_up, fixture_tear_down)
{
  g_autoptr (VcmRootfsRecord) a = rootfs ("s1", "c1", 40, 1000, FALSE);
  const char *const detached[] = { "/shared/s1/c1/rootfs", NULL };

  vcm_ledger_note_mounted (f->ledger, a);
  assert_told (f, "mounted s1/c1 1");
  g_assert_cmpuint (vcm_ledger_get_size (f->ledger), ==, 1);
  g_assert_true (vcm_ledger_find_mount (f->ledger, 40) == vcm_ledger_lookup (f->ledger, "s1/c1"));
  g_assert_null (vcm_ledger_find_mount (f->ledger, 41));
  /* mounted again while one is still tracked: the old one vanished first */
  vcm_ledger_note_mounted (f->ledger, a);
  assert_told (f, "vanished s1/c1 2; mounted s1/c1 3");
  vcm_ledger_note_unmounted (f->ledger, "s1", "c1", detached);
  assert_told (f, "unmounted s1/c1 4");
  g_assert_cmpuint (vcm_ledger_get_size (f->ledger), ==, 0);
  g_assert_cmpuint (vcm_ledger_get_generation (f->ledger), ==, 4);
}

VCM_TEST_FIXTURE ("/ledger/hold", test_hold, Fixture, fixture_set_up, fixture_tear_down)
{
  g_autoptr (VcmRootfsRecord) a = rootfs ("s1", "c1", 40, 1000, FALSE);
  g_autoptr (VcmRootfsRecord) b = rootfs ("s1", "c2", 41, 1001, FALSE);

  vcm_ledger_hold (f->ledger);
  vcm_ledger_hold (f->ledger);
  vcm_ledger_note_mounted (f->ledger, a);
  vcm_ledger_release (f->ledger);
  vcm_ledger_note_mounted (f->ledger, b);
  g_assert_cmpuint (f->told->len, ==, 0);
  /* Generation is counted at once, told later */
  g_assert_cmpuint (vcm_ledger_get_generation (f->ledger), ==, 2);
  vcm_ledger_release (f->ledger);
  assert_told (f, "mounted s1/c1 1; mounted s1/c2 2");
}

VCM_TEST_FIXTURE ("/ledger/diff-one", test_diff_one, Fixture, fixture_set_up, fixture_tear_down)
{
  g_autoptr (VcmRootfsRecord) a = rootfs ("s1", "c1", 40, 1000, FALSE);
  g_autoptr (VcmRootfsRecord) a_ro = rootfs ("s1", "c1", 40, 1000, TRUE);
  g_autoptr (VcmRootfsRecord) other = rootfs ("s1", "c1", 40, 2000, TRUE); /* its ID reused */
  g_autoptr (GHashTable) two = ids (2, (guint64) 50, (guint64) 51);
  g_autoptr (GHashTable) one = ids (1, (guint64) 51);

  vcm_ledger_diff_one (f->ledger, "s1/c1", a, NULL, TRUE);
  assert_told (f, "mounted s1/c1 1");
  vcm_ledger_diff_one (f->ledger, "s1/c1", a, two, TRUE);
  assert_told (f, "submount-added s1/c1 2; submount-added s1/c1 3");
  vcm_ledger_diff_one (f->ledger, "s1/c1", a_ro, one, TRUE);
  assert_told (f, "remounted s1/c1 4; submount-removed s1/c1 5");
  vcm_ledger_diff_one (f->ledger, "s1/c1", other, NULL, TRUE);
  assert_told (f, "vanished s1/c1 6; mounted s1/c1 7");
  vcm_ledger_diff_one (f->ledger, "s1/c1", NULL, NULL, TRUE);
  assert_told (f, "vanished s1/c1 8");
  /* taken in silently: nothing told, Generation as it was */
  vcm_ledger_diff_one (f->ledger, "s1/c1", a, NULL, FALSE);
  g_assert_cmpuint (f->told->len, ==, 0);
  g_assert_cmpuint (vcm_ledger_get_generation (f->ledger), ==, 8);
  g_assert_nonnull (vcm_ledger_lookup (f->ledger, "s1/c1"));
}

VCM_TEST_FIXTURE ("/ledger/diff-all", test_diff_all, Fixture, fixture_set_up, fixture_tear_down)
{
  g_autoptr (GPtrArray) first = g_ptr_array_new_with_free_func ((GDestroyNotify) vcm_rootfs_record_free);
  g_autoptr (GPtrArray) subs1 = g_ptr_array_new ();
  g_autoptr (GPtrArray) second =
    g_ptr_array_new_with_free_func ((GDestroyNotify) vcm_rootfs_record_free);
  g_autoptr (GPtrArray) subs2 = g_ptr_array_new ();
  g_autoptr (GPtrArray) list = NULL;

  g_ptr_array_add (first, rootfs ("a", "1", 40, 0, FALSE));
  g_ptr_array_add (first, rootfs ("b", "1", 41, 0, FALSE));
  g_ptr_array_add (first, rootfs ("c", "1", 42, 0, FALSE));
  g_ptr_array_set_size (subs1, 3);
  vcm_ledger_diff_all (f->ledger, 1, first, subs1, FALSE); /* at start: known, not news */
  g_assert_cmpuint (f->told->len, ==, 0);

  /* the service unmounts a/1 after read 2 began: read 2 (which still has
   * it) leaves it alone; b/1 went behind its back; d/1 came */
  vcm_ledger_note_local (f->ledger, "a/1", 2);
  vcm_ledger_note_unmounted (f->ledger, "a", "1", (const char *const[]){ "/shared/a/1/rootfs", NULL });
  g_ptr_array_add (second, rootfs ("a", "1", 40, 0, FALSE));
  g_ptr_array_add (second, rootfs ("c", "1", 42, 0, FALSE));
  g_ptr_array_add (second, rootfs ("d", "1", 43, 0, FALSE));
  g_ptr_array_set_size (subs2, 3);
  vcm_ledger_diff_all (f->ledger, 2, second, subs2, TRUE);
  assert_told (f, "unmounted a/1 1; vanished b/1 2; mounted d/1 3");
  list = vcm_ledger_list (f->ledger, NULL);
  g_assert_cmpuint (list->len, ==, 2);
  g_assert_cmpstr (((VcmRootfsRecord *) list->pdata[0])->sandbox_id, ==, "c");
  g_assert_cmpstr (((VcmRootfsRecord *) list->pdata[1])->sandbox_id, ==, "d");

  /* once every read includes the change, it is forgotten */
  g_assert_true (vcm_ledger_changed_since (f->ledger, "a/1", 2));
  vcm_ledger_prune_local (f->ledger, 3);
  g_assert_false (vcm_ledger_changed_since (f->ledger, "a/1", 2));
}

/* A rootfs the service is changing off the main loop is left alone by a
 * read that sees it half done (its own mount, not yet noted); the end says
 * whether anything was seen there meanwhile, once. */
VCM_TEST_FIXTURE ("/ledger/busy", test_busy, Fixture, fixture_set_up, fixture_tear_down)
{
  g_autoptr (GPtrArray) none = g_ptr_array_new_with_free_func ((GDestroyNotify) vcm_rootfs_record_free);
  g_autoptr (GPtrArray) subs0 = g_ptr_array_new ();
  g_autoptr (GPtrArray) read = g_ptr_array_new_with_free_func ((GDestroyNotify) vcm_rootfs_record_free);
  g_autoptr (GPtrArray) subs1 = g_ptr_array_new ();
  g_autoptr (VcmRootfsRecord) mine = rootfs ("a", "1", 40, 400, FALSE);

  vcm_ledger_diff_all (f->ledger, 1, none, subs0, FALSE);
  g_assert_false (vcm_ledger_busy (f->ledger, "a/1"));
  vcm_ledger_begin_local (f->ledger, "a/1", TRUE);
  vcm_ledger_begin_local (f->ledger, "a/1", FALSE); /* they nest */
  g_assert_true (vcm_ledger_late (f->ledger, "a/1"));
  /* a read lands while the mount is made: a/1 is the service's, b/1 foreign */
  g_ptr_array_add (read, rootfs ("a", "1", 40, 400, FALSE));
  g_ptr_array_add (read, rootfs ("b", "1", 41, 0, FALSE));
  g_ptr_array_set_size (subs1, 2);
  vcm_ledger_diff_all (f->ledger, 2, read, subs1, TRUE);
  assert_told (f, "mounted b/1 1");
  g_assert_false (vcm_ledger_end_local (f->ledger, "a/1"));
  /* then the service notes it: told once, as its own */
  vcm_ledger_note_mounted (f->ledger, mine);
  g_assert_true (vcm_ledger_end_local (f->ledger, "a/1")); /* the read saw it: look again */
  assert_told (f, "mounted a/1 2");
  g_assert_false (vcm_ledger_busy (f->ledger, "a/1"));
}

/* An index (as the fanotify source keeps by unique ID) sees every rootfs
 * tracked and every one that goes, and gets private submount sets. */
static void
on_indexed (gpointer data, VcmTracked *t)
{
  g_hash_table_add (data, g_strdup (t->key));
}

static void
on_unindexed (gpointer data, VcmTracked *t)
{
  g_assert_nonnull (t->rootfs);
  g_assert_true (g_hash_table_remove (data, t->key));
}

static const VcmLedgerIndex test_index = { on_indexed, on_unindexed };

VCM_TEST_FIXTURE ("/ledger/index", test_index_hooks, Fixture, fixture_set_up, fixture_tear_down)
{
  g_autoptr (GHashTable) indexed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (VcmRootfsRecord) a = rootfs ("s1", "c1", 40, 1000, FALSE);
  g_autoptr (VcmRootfsRecord) b = rootfs ("s1", "c2", 41, 1001, FALSE);
  g_autoptr (GHashTable) subs = ids (1, (guint64) 60);

  vcm_ledger_note_mounted (f->ledger, a);
  vcm_ledger_set_index (f->ledger, &test_index, indexed);
  g_assert_true (g_hash_table_contains (indexed, "s1/c1"));
  vcm_ledger_diff_one (f->ledger, "s1/c2", b, subs, TRUE);
  g_assert_true (g_hash_table_contains (indexed, "s1/c2"));
  g_assert_true (vcm_ledger_lookup (f->ledger, "s1/c2")->submounts != subs);
  vcm_ledger_note_unmounted (f->ledger, "s1", "c1",
                             (const char *const[]){ "/shared/s1/c1/rootfs", NULL });
  g_assert_false (g_hash_table_contains (indexed, "s1/c1"));
  vcm_ledger_set_index (f->ledger, NULL, NULL);
  g_assert_cmpuint (g_hash_table_size (indexed), ==, 0);
}

VCM_TEST_MAIN (NULL, NULL, NULL);
