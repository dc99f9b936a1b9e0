/* test-client-signals: VcmClient's mount-added and mount-removed (the
 * service's MountAdded and MountRemoved, with the mount's identity) against
 * the scripted fake service; only the signals of the name's owner. */
#include <fcntl.h>
#include <unistd.h>

#include "client-fixture.h"

typedef ClientFixture Fixture;

/* What the client's mount-added and mount-removed handlers saw, in order. */
typedef struct {
  GPtrArray *seen; /* of "added|removed GEN MOUNT_POINT KIND ..." */
  VcmMountInfo *last;
} MountSignals;

static void
on_mount_added (VcmClient *client, guint64 generation, VcmMountInfo *info, MountSignals *ms)
{
  g_assert_true (VCM_IS_MOUNT_INFO (info));
  g_ptr_array_add (ms->seen,
                   g_strdup_printf ("added %" G_GUINT64_FORMAT " %s %s", generation,
                                    vcm_mount_info_get_mount_point (info),
                                    vcm_mount_info_get_kind (info)));
  g_set_object (&ms->last, info);
}

static void
on_mount_removed (VcmClient *client,
                  guint64 generation,
                  VcmMountInfo *info,
                  const char *const *detached,
                  MountSignals *ms)
{
  g_autofree char *joined = g_strjoinv (",", (char **) detached);

  g_ptr_array_add (ms->seen,
                   g_strdup_printf ("removed %" G_GUINT64_FORMAT " %s %s %s recovered=%d", generation,
                                    vcm_mount_info_get_mount_point (info),
                                    vcm_mount_info_get_kind (info), joined,
                                    vcm_mount_info_get_recovered (info)));
  g_set_object (&ms->last, info);
}

/* MountAdded and MountRemoved as the client's signals, with the identity;
 * those of a process that does not own the service's name are not passed
 * on. */
static void
test_mount_signals (Fixture *fx, gconstpointer data)
{
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (VcmMountInfo) info = NULL;
  g_autoptr (GDBusConnection) other = NULL;
  g_auto (GStrv) detached = NULL;
  MountSignals ms = { g_ptr_array_new_with_free_func (g_free), NULL };
  VcmClient *c = fx->client;
  int fd = open ("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  gulong added_id, removed_id;

  g_assert_cmpint (fd, >=, 0);
  added_id = g_signal_connect (c, "mount-added", G_CALLBACK (on_mount_added), &ms);
  removed_id = g_signal_connect (c, "mount-removed", G_CALLBACK (on_mount_removed), &ms);

  /* someone else on the bus says a mount was added: not the service */
  other = fake_bus_connect (fx->fake->address);
  g_assert_true (g_dbus_connection_emit_signal (
    other, NULL, "/org/vc/Mount", "org.vc.Mount", "MountAdded",
    g_variant_new_parsed ("(uint64 99, {'mount-point': <'/forged'>, 'kind': <'rootfs'>})"), &error));
  g_assert_no_error (error);
  g_dbus_connection_flush_sync (other, NULL, &error);
  g_assert_no_error (error);

  RUN_ASYNC (
    res, vcm_client_mount_rootfs_fd (c, "sb", "c3", fd, NULL, VCM_CALL_FLAGS_NONE, NULL, on_done, &res));
  info = vcm_client_mount_rootfs_fd_finish (c, res, &error);
  g_assert_no_error (error);
  WAIT_UNTIL (ms.seen->len >= 1);
  g_assert_cmpstr (ms.seen->pdata[0], ==, "added 1 /run/fake/shared/sb/c3/rootfs rootfs");
  g_assert_cmpstr (vcm_mount_info_get_sandbox_id (ms.last), ==, "sb");
  g_assert_cmpstr (vcm_mount_info_get_container_id (ms.last), ==, "c3");
  g_assert_cmpuint (vcm_mount_info_get_mount_id (ms.last), ==, vcm_mount_info_get_mount_id (info));
  g_assert_true (vcm_mount_info_get_mount_id_unique (ms.last));
  g_assert_cmpstr (vcm_mount_info_get_source (ms.last), ==, "/fake/source");
  g_assert_cmpuint (vcm_mount_info_get_caller_uid (ms.last), ==, getuid ());
  g_assert_true (
    g_variant_equal (vcm_mount_info_get_options (ms.last), vcm_mount_info_get_options (info)));

  RUN_ASYNC (res,
             vcm_client_unmount (c, "/run/fake/shared/x", VCM_CALL_FLAGS_NONE, NULL, on_done, &res));
  detached = vcm_client_unmount_finish (c, res, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (detached), ==, 2);
  WAIT_UNTIL (ms.seen->len >= 2);
  g_assert_cmpstr (ms.seen->pdata[1], ==,
                   "removed 1 /run/fake/shared/x bind /run/fake/shared/x,/run/fake/shared/below "
                   "recovered=1");
  g_assert_cmpuint (ms.seen->len, ==, 2);

  g_signal_handler_disconnect (c, added_id);
  g_signal_handler_disconnect (c, removed_id);
  g_clear_object (&ms.last);
  g_ptr_array_unref (ms.seen);
  close (fd);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/client/mount-signals", Fixture, NULL, client_fixture_set_up, test_mount_signals,
              client_fixture_tear_down);
  return g_test_run ();
}
