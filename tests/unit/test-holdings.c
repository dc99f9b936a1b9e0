/* test-holdings: the count of the mounts each user that is not root holds
 * through the service: the bound per user, users apart, a mount point
 * counted once, and given back only for the mount that was counted. */
#include "config.h"

#include <glib.h>

#include "vcm-holdings.h"

static void
test_bound_per_user (void)
{
  VcmHoldings *h = vcm_holdings_new ();
  guint held = 0;
  guint per = 256;

  for (guint i = 0; i < VCM_MAX_MOUNTS_HELD / per; i++)
    {
      g_autofree char *point = g_strdup_printf ("/s/a/c%u/rootfs", i);

      g_assert_true (vcm_holdings_take (h, 1000, point, i + 1, per, &held));
      g_assert_cmpuint (held, ==, i * per);
    }
  g_assert_cmpuint (vcm_holdings_held (h, 1000), ==, VCM_MAX_MOUNTS_HELD);
  /* at the bound: not one more, and nothing counted */
  g_assert_false (vcm_holdings_take (h, 1000, "/s/a/x/rootfs", 99, 1, &held));
  g_assert_cmpuint (held, ==, VCM_MAX_MOUNTS_HELD);
  g_assert_cmpuint (vcm_holdings_lookup (h, "/s/a/x/rootfs"), ==, 0);
  g_assert_cmpuint (vcm_holdings_held (h, 1000), ==, VCM_MAX_MOUNTS_HELD);
  /* another user is counted apart */
  g_assert_true (vcm_holdings_take (h, 1001, "/s/b/c0/rootfs", 7, per, &held));
  g_assert_cmpuint (held, ==, 0);
  /* more than the bound at once is refused even to a user holding none */
  g_assert_false (vcm_holdings_take (h, 1002, "/s/c/c0/rootfs", 8, VCM_MAX_MOUNTS_HELD + 1, NULL));
  /* an unmount gives back what its mount held */
  vcm_holdings_drop (h, "/s/a/c0/rootfs", 0);
  g_assert_cmpuint (vcm_holdings_held (h, 1000), ==, VCM_MAX_MOUNTS_HELD - per);
  g_assert_true (vcm_holdings_take (h, 1000, "/s/a/x/rootfs", 100, per, NULL));
  vcm_holdings_free (h);
}

static void
test_drop_only_that_mount (void)
{
  VcmHoldings *h = vcm_holdings_new ();

  g_assert_true (vcm_holdings_take (h, 1000, "/s/a/c/rootfs", 10, 3, NULL));
  /* a mount at the same place counts in place of the earlier one */
  g_assert_true (vcm_holdings_take (h, 1000, "/s/a/c/rootfs", 11, 5, NULL));
  g_assert_cmpuint (vcm_holdings_held (h, 1000), ==, 5);
  /* the earlier mount's going gives back nothing of the later one's */
  vcm_holdings_drop (h, "/s/a/c/rootfs", 10);
  g_assert_cmpuint (vcm_holdings_lookup (h, "/s/a/c/rootfs"), ==, 5);
  vcm_holdings_drop (h, "/s/a/c/rootfs", 11);
  g_assert_cmpuint (vcm_holdings_held (h, 1000), ==, 0);
  /* a mount point never counted */
  vcm_holdings_drop (h, "/s/a/none", 0);
  g_assert_cmpuint (vcm_holdings_held (h, 1000), ==, 0);
  /* nothing to read back: loaded once, empty */
  g_assert_false (vcm_holdings_loaded (h));
  vcm_holdings_load (h, -1, "/s", NULL);
  g_assert_true (vcm_holdings_loaded (h));
  vcm_holdings_free (h);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/holdings/bound-per-user", test_bound_per_user);
  g_test_add_func ("/holdings/drop-only-that-mount", test_drop_only_that_mount);
  return g_test_run ();
}
