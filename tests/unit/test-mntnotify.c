/* test-mntnotify: the kernel's mount notifications as vcm-mntnotify reads
 * them, in a private mount namespace: a bind mount gives one attach event and
 * its unmount one detach event, both naming the unique ID statx reports for
 * that mount; a lazy unmount of a tree names every mount of it. Where the
 * kernel lacks them (before 6.15) or VCM_TEST_REFUSE_SYSCALLS refuses
 * fanotify, vcm_mnt_notify_new must say NOT_SUPPORTED, so the watch falls back. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/utsname.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "vcm-fd.h"
#include "vcm-mntnotify.h"
#include "vcm-sys.h"
#include "vcm-test-util.h"

#define EVENT_TIMEOUT_S 30   /* times VCM_TEST_TIMEOUT_MULTIPLIER */

/* Whether mount notifications must work here: Linux 6.15 or later and no
 * filter of this test's refusing fanotify. */
static gboolean
notifications_expected (void)
{
  struct utsname u;
  guint major = 0, minor = 0;
  const char *refused = g_getenv ("VCM_TEST_REFUSE_SYSCALLS");

  if (uname (&u) < 0 || sscanf (u.release, "%u.%u", &major, &minor) != 2)
    return FALSE;
  return (major > 6 || (major == 6 && minor >= 15)) &&
         (refused == NULL || strstr (refused, "fanotify") == NULL);
}

static guint64
unique_id_of (const char *path)
{
  vcm_autofd int fd = open (path, O_PATH | O_CLOEXEC);
  guint64 id = 0;

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (vcm_sys_unique_mount_id (fd, &id), ==, 0);
  return id;
}

/* Reads events until one of @kind naming @id is in @seen (every event read
 * so far, in order), waiting for the fd at most EVENT_TIMEOUT_S in all. */
static void
wait_for_event (VcmMntNotify *n, VcmMntEventKind kind, guint64 id, GArray *seen)
{
  gint64 limit = vcm_test_timeout_us (EVENT_TIMEOUT_S);
  gint64 deadline = g_get_monotonic_time () + limit;

  for (;;)
    {
      g_autoptr(GError) error = NULL;
      struct pollfd pfd = { .fd = vcm_mnt_notify_get_fd (n), .events = POLLIN };
      gint64 left = (deadline - g_get_monotonic_time ()) / 1000;

      g_assert_true (vcm_mnt_notify_read (n, seen, &error));
      g_assert_no_error (error);
      for (guint i = 0; i < seen->len; i++)
        {
          const VcmMntEvent *ev = &g_array_index (seen, VcmMntEvent, i);

          g_assert_cmpint (ev->kind, !=, VCM_MNT_OVERFLOW);
          if (ev->kind == kind && ev->mnt_id == id)
            return;
        }
      if (left <= 0)
        {
          for (guint i = 0; i < seen->len; i++)
            g_test_message ("seen: %d %" G_GUINT64_FORMAT, g_array_index (seen, VcmMntEvent, i).kind,
                            g_array_index (seen, VcmMntEvent, i).mnt_id);
        }
      if (left <= 0)
        g_error ("no %s event for mount %" G_GUINT64_FORMAT " within %.0f s",
                 kind == VCM_MNT_ATTACHED ? "attach" : "detach", id, limit / 1e6);
      g_assert_cmpint (poll (&pfd, 1, (int) left), >=, 0);
    }
}

static void
test_unsupported_is_said (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(VcmMntNotify) n = NULL;

  if (notifications_expected ())
    {
      g_test_skip ("this kernel has mount notifications and nothing refuses them");
      return;
    }
  n = vcm_mnt_notify_new (&error);
  g_assert_null (n);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
}

static void
test_attach_and_detach (void)
{
  g_autoptr(VcmTestWorld) w = vcm_test_world_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(VcmMntNotify) n = NULL;
  g_autoptr(GArray) seen = g_array_new (FALSE, FALSE, sizeof (VcmMntEvent));
  g_autofree char *target = g_build_filename (w->root, "bind", NULL);
  g_autofree char *below = g_build_filename (target, "sub", NULL);
  guint64 id, sub_id;

  if (!notifications_expected ())
    {
      g_test_skip ("no mount notifications here (Linux before 6.15, or refused by the test's filter)");
      return;
    }
  n = vcm_mnt_notify_new (&error);
  g_assert_no_error (error);
  g_assert_nonnull (n);

  vcm_test_make_dir (target);
  vcm_test_mount (w->src, target, NULL, MS_BIND, NULL);
  id = unique_id_of (target);
  wait_for_event (n, VCM_MNT_ATTACHED, id, seen);

  /* a mount below it (the world is shared: it propagates to the source's
   * peer too), then the tree lazily: every mount of it is named */
  vcm_test_mount (w->src, below, NULL, MS_BIND, NULL);
  sub_id = unique_id_of (below);
  g_assert_cmpuint (sub_id, !=, id);
  wait_for_event (n, VCM_MNT_ATTACHED, sub_id, seen);
  g_assert_cmpint (umount2 (target, MNT_DETACH), ==, 0);
  wait_for_event (n, VCM_MNT_DETACHED, id, seen);
  wait_for_event (n, VCM_MNT_DETACHED, sub_id, seen);
}

int
main (int argc, char **argv)
{
  int rc = vcm_test_enter_private_mount_ns ("test-mntnotify");

  if (rc >= 0)
    return rc;
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/mntnotify/unsupported-is-said", test_unsupported_is_said);
  g_test_add_func ("/mntnotify/attach-and-detach", test_attach_and_detach);
  return g_test_run ();
}
