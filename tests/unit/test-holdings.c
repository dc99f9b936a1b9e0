/* test-holdings: the count of the mounts each user that is not root holds
 * through the service: the bound per user, users apart, a mount point
 * counted once, and given back only for the mount that was counted; what
 * went behind the service's back given back against a mount table. */
#include "config.h"

#include <glib.h>
#include <string.h>

#include "vcm-holdings.h"
#include "vcm-mounttable.h"
#include "vcm-test-main.h"

VCM_TEST ("/holdings/bound-per-user", test_bound_per_user)
{
  VcmHoldings *h = vcm_holdings_new ();
  guint held = 0;
  guint per = 256;

  for (guint i = 0; i < VCM_MAX_MOUNTS_HELD / per; i++)
    {
      g_autofree char *point = g_strdup_printf ("/s/a/c%u/rootfs", i);

      g_assert_true (vcm_holdings_take (h, 1000, point, i + 1, 0, per, &held));
      g_assert_cmpuint (held, ==, i * per);
    }
  g_assert_cmpuint (vcm_holdings_held (h, 1000), ==, VCM_MAX_MOUNTS_HELD);
  /* at the bound: not one more, and nothing counted */
  g_assert_false (vcm_holdings_take (h, 1000, "/s/a/x/rootfs", 99, 0, 1, &held));
  g_assert_cmpuint (held, ==, VCM_MAX_MOUNTS_HELD);
  g_assert_cmpuint (vcm_holdings_lookup (h, "/s/a/x/rootfs"), ==, 0);
  g_assert_cmpuint (vcm_holdings_held (h, 1000), ==, VCM_MAX_MOUNTS_HELD);
  /* another user is counted apart */
  g_assert_true (vcm_holdings_take (h, 1001, "/s/b/c0/rootfs", 7, 0, per, &held));
  g_assert_cmpuint (held, ==, 0);
  /* more than the bound at once is refused even to a user holding none */
  g_assert_false (vcm_holdings_take (h, 1002, "/s/c/c0/rootfs", 8, 0, VCM_MAX_MOUNTS_HELD + 1, NULL));
  /* an unmount gives back what its mount held */
  vcm_holdings_drop (h, "/s/a/c0/rootfs", 0, 0);
  g_assert_cmpuint (vcm_holdings_held (h, 1000), ==, VCM_MAX_MOUNTS_HELD - per);
  g_assert_true (vcm_holdings_take (h, 1000, "/s/a/x/rootfs", 100, 0, per, NULL));
  vcm_holdings_free (h);
}

VCM_TEST ("/holdings/drop-only-that-mount", test_drop_only_that_mount)
{
  VcmHoldings *h = vcm_holdings_new ();

  g_assert_true (vcm_holdings_take (h, 1000, "/s/a/c/rootfs", 10, 0, 3, NULL));
  /* a mount at the same place counts in place of the earlier one */
  g_assert_true (vcm_holdings_take (h, 1000, "/s/a/c/rootfs", 11, 0, 5, NULL));
  g_assert_cmpuint (vcm_holdings_held (h, 1000), ==, 5);
  /* the earlier mount's going gives back nothing of the later one's */
  vcm_holdings_drop (h, "/s/a/c/rootfs", 10, 0);
  g_assert_cmpuint (vcm_holdings_lookup (h, "/s/a/c/rootfs"), ==, 5);
  vcm_holdings_drop (h, "/s/a/c/rootfs", 11, 0);
  g_assert_cmpuint (vcm_holdings_held (h, 1000), ==, 0);
  /* a mount point never counted */
  vcm_holdings_drop (h, "/s/a/none", 0, 0);
  g_assert_cmpuint (vcm_holdings_held (h, 1000), ==, 0);
  /* nothing to read back: loaded once, empty */
  g_assert_false (vcm_holdings_loaded (h));
  vcm_holdings_load (h, -1, "/s", NULL);
  g_assert_true (vcm_holdings_loaded (h));
  vcm_holdings_free (h);
}

/* An unmount racing a bind at the same path, on a kernel without unique
 * mount IDs: the bind's new mount gets the lowest free mountinfo ID, the
 * one the unmount just freed, so the IDs cannot tell the two apart. What
 * was counted after the unmount began is never what it detached. */
VCM_TEST ("/holdings/drop-spares-what-came-after-the-mark", test_drop_spares_after_mark)
{
  VcmHoldings *h = vcm_holdings_new ();
  guint64 mark;

  g_assert_true (vcm_holdings_take (h, 1000, "/s/a/b", 10, 0, 200, NULL));
  mark = vcm_holdings_mark (h); /* the Unmount of /s/a/b begins */
  /* its detach freed ID 10; a BindMount at the same path got it again */
  g_assert_true (vcm_holdings_take (h, 1000, "/s/a/b", 10, 0, 256, NULL));
  /* the Unmount's end: the new mount keeps its count (and is told new) */
  g_assert_true (vcm_holdings_counted_since (h, "/s/a/b", mark));
  g_assert_false (vcm_holdings_counted_since (h, "/s/a/b", vcm_holdings_mark (h)));
  g_assert_false (vcm_holdings_counted_since (h, "/s/a/none", mark));
  vcm_holdings_drop_taken_by (h, "/s/a/b", 10, 0, mark);
  g_assert_cmpuint (vcm_holdings_lookup (h, "/s/a/b"), ==, 256);
  g_assert_cmpuint (vcm_holdings_held (h, 1000), ==, 256);
  /* its own Unmount, begun after it was counted, gives it back */
  vcm_holdings_drop_taken_by (h, "/s/a/b", 10, 0, vcm_holdings_mark (h));
  g_assert_cmpuint (vcm_holdings_held (h, 1000), ==, 0);
  /* with unique IDs both tell: a mark taken later still spares another mount */
  g_assert_true (vcm_holdings_take (h, 1000, "/s/a/b", 10, 77, 3, NULL));
  vcm_holdings_drop_taken_by (h, "/s/a/b", 10, 76, vcm_holdings_mark (h));
  g_assert_cmpuint (vcm_holdings_held (h, 1000), ==, 3);
  vcm_holdings_free (h);
}

static VcmMountTable *
table_of (const char *text)
{
  g_autoptr (GBytes) bytes = g_bytes_new (text, strlen (text));
  g_autoptr (GError) error = NULL;
  VcmMountTable *table = vcm_mount_table_new_from_text (bytes, &error);

  g_assert_no_error (error);
  return table;
}

#define ROOT_LINE        "1 0 8:1 / / rw - ext4 /dev/sda1 rw\n"
#define LINE(id, target) #id " 1 0:5 / " target " rw - tmpfs t rw\n"

VCM_TEST ("/holdings/prune-what-went-behind-the-back", test_prune_what_went_behind_the_back)
{
  VcmHoldings *h = vcm_holdings_new ();
  g_autoptr (VcmMountTable) before = NULL;
  g_autoptr (VcmMountTable) after = NULL;
  guint64 mark;

  g_assert_true (vcm_holdings_take (h, 1000, "/s/a/v/one", 10, 0, 3, NULL));
  g_assert_true (vcm_holdings_take (h, 1000, "/s/a/v/two", 11, 0, 4, NULL));
  g_assert_true (vcm_holdings_take (h, 1001, "/s/b/v/one", 12, 0, 5, NULL));
  /* all there: nothing given back */
  mark = vcm_holdings_mark (h);
  before = table_of (ROOT_LINE LINE (10, "/s/a/v/one") LINE (11, "/s/a/v/two") LINE (12, "/s/b/v/one"));
  g_assert_cmpuint (vcm_holdings_prune (h, 1000, before, mark), ==, 0);
  g_assert_cmpuint (vcm_holdings_held (h, 1000), ==, 7);
  /* "two" unmounted behind the service's back, "one" now another mount at
   * its place; the other user's mount gone too, but only 1000 is pruned */
  mark = vcm_holdings_mark (h);
  after = table_of (ROOT_LINE LINE (20, "/s/a/v/one"));
  g_assert_cmpuint (vcm_holdings_prune (h, 1000, after, mark), ==, 7);
  g_assert_cmpuint (vcm_holdings_held (h, 1000), ==, 0);
  g_assert_cmpuint (vcm_holdings_lookup (h, "/s/a/v/two"), ==, 0);
  g_assert_cmpuint (vcm_holdings_held (h, 1001), ==, 5);
  vcm_holdings_free (h);
}

VCM_TEST ("/holdings/prune-leaves-what-came-after-the-table",
          test_prune_leaves_what_came_after_the_table)
{
  VcmHoldings *h = vcm_holdings_new ();
  g_autoptr (VcmMountTable) table = NULL;
  guint64 mark;

  g_assert_true (vcm_holdings_take (h, 1000, "/s/a/v/gone", 10, 0, 2, NULL));
  mark = vcm_holdings_mark (h);
  table = table_of (ROOT_LINE);
  /* counted after the table was read: not in it, yet not gone */
  g_assert_true (vcm_holdings_take (h, 1000, "/s/a/v/new", 30, 0, 6, NULL));
  g_assert_cmpuint (vcm_holdings_prune (h, 1000, table, mark), ==, 2);
  g_assert_cmpuint (vcm_holdings_held (h, 1000), ==, 6);
  g_assert_cmpuint (vcm_holdings_lookup (h, "/s/a/v/new"), ==, 6);
  vcm_holdings_free (h);
}

VCM_TEST ("/holdings/prune-at-most-once-a-second", test_prune_at_most_once_a_second)
{
  VcmHoldings *h = vcm_holdings_new ();
  gint64 t = 1000 * G_USEC_PER_SEC;

  g_assert_true (vcm_holdings_prune_due (h, 1000, t));
  /* the same user's next calls at the bound: not before a second passed */
  g_assert_false (vcm_holdings_prune_due (h, 1000, t + 1));
  g_assert_false (vcm_holdings_prune_due (h, 1000, t + VCM_HOLDINGS_PRUNE_INTERVAL_US - 1));
  /* another user is apart */
  g_assert_true (vcm_holdings_prune_due (h, 1001, t + 1));
  g_assert_true (vcm_holdings_prune_due (h, 1000, t + VCM_HOLDINGS_PRUNE_INTERVAL_US));
  g_assert_false (vcm_holdings_prune_due (h, 1000, t + VCM_HOLDINGS_PRUNE_INTERVAL_US + 1));
  vcm_holdings_free (h);
}

VCM_TEST_MAIN (NULL, NULL, NULL);
