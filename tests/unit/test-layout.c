/* test-layout: where general binds and unmounts may act in the rootfs
 * layout (vcm-layout), without a kernel: the places, and what each asks. */
#include "config.h"

#include <string.h>

#include "vcm-error.h"
#include "vcm-layout.h"
#include "vcm-test-main.h"

VCM_TEST ("/layout/places", test_places)
{
  static const struct {
    const char *relpath;
    VcmLayoutPlace place;
  } cases[] = {
    { "sb1", VCM_LAYOUT_SANDBOX_DIR },
    { "sb1/c1", VCM_LAYOUT_CONTAINER_DIR },
    { "sb1/c1/rootfs", VCM_LAYOUT_ROOTFS },
    { "sb1/c1/rootfs/usr", VCM_LAYOUT_IN_ROOTFS },
    { "sb1/c1/rootfs/usr/bin", VCM_LAYOUT_IN_ROOTFS },
    { "sb1/c1/vol", VCM_LAYOUT_FREE },
    { "sb1/c1/vol/rootfs", VCM_LAYOUT_FREE },
    { "sb1/c1/rootfs2", VCM_LAYOUT_FREE },
    { "_area", VCM_LAYOUT_FREE }, /* not a sandbox ID */
    { "_area/x/rootfs", VCM_LAYOUT_FREE },
    { "sb1/-x", VCM_LAYOUT_FREE }, /* not a container ID */
    { "sb1/-x/rootfs", VCM_LAYOUT_FREE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_test_message ("%s", cases[i].relpath);
      g_assert_cmpint (vcm_layout_place (cases[i].relpath), ==, cases[i].place);
    }
}

VCM_TEST ("/layout/general-calls", test_general_calls)
{
  static const struct {
    const char *relpath;
    gboolean root;
    gboolean ok;
    gboolean manage_rootfs;
  } cases[] = {
    { "sb1", FALSE, FALSE, FALSE },
    { "sb1", TRUE, TRUE, FALSE }, /* root: while no rootfs is below (the mounter) */
    { "sb1/c1", FALSE, FALSE, FALSE },
    { "sb1/c1", TRUE, TRUE, FALSE },
    { "sb1/c1/rootfs", FALSE, FALSE, FALSE },
    { "sb1/c1/rootfs", TRUE, FALSE, FALSE },
    { "sb1/c1/rootfs/mnt", FALSE, TRUE, TRUE },
    { "sb1/c1/rootfs/mnt", TRUE, TRUE, FALSE },
    { "sb1/c1/vol", FALSE, TRUE, FALSE },
    { "_area/x", FALSE, TRUE, FALSE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    for (int unmount = 0; unmount <= 1; unmount++)
      {
        const char *arg = unmount ? "mount_point" : "destination";
        g_autofree char *mp = g_strconcat ("/run/vc/shared/", cases[i].relpath, NULL);
        g_autoptr (GError) error = NULL;
        gboolean manage = !cases[i].manage_rootfs;
        gboolean ok;

        g_test_message ("%s root=%d unmount=%d", cases[i].relpath, cases[i].root, unmount);
        ok =
          vcm_layout_check_general (cases[i].relpath, mp, cases[i].root, unmount, arg, &manage, &error);
        g_assert_cmpint (ok, ==, cases[i].ok);
        if (ok)
          {
            g_assert_no_error (error);
            g_assert_cmpint (manage, ==, cases[i].manage_rootfs);
          }
        else
          {
            g_assert_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT);
            g_assert_true (g_str_has_prefix (error->message, arg));
            g_assert_nonnull (strstr (error->message, mp));
          }
      }
}

VCM_TEST_MAIN (NULL, NULL, NULL);
