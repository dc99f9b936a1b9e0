/* vcm-ctl-monitor: `vcmountctl monitor`: one line per change of the rootfs
 * set (text or JSON lines, in the form of the service's signals) until SIGINT
 * or SIGTERM. It follows a VcmRootfsSet, so a lost signal or a restart of the
 * service shows as the changes it hid, not as nothing. */
#include <signal.h>
#include <stdio.h>

#include <glib-unix.h>

#include "vcm-ctl.h"
#include "vcm-ctl-output.h"

typedef struct {
  VcmCtl *ctl;
  GMainLoop *loop;
  VcmRootfsSet *set;
  gboolean listed; /* the first listing is in */
  gboolean said_monitoring;
  VcmCtlExit code;
} Monitor;

/* One line for a signal about @rootfs: "NAME generation=N sandbox=…
 * container=… mount-point=… KEY=TEXT", or in JSON {"signal": NAME,
 * "generation": N, "sandbox-id": …, "container-id": …, "mount-point": …,
 * KEY: VALUE} (@value: a floating reference is sunk). */
static void
print_signal (
  Monitor *m, const char *name, VcmRootfs *rootfs, const char *key, GVariant *value, const char *text)
{
  guint64 generation = vcm_rootfs_set_get_generation (m->set);
  const char *sandbox_id = vcm_rootfs_get_sandbox_id (rootfs);
  const char *container_id = vcm_rootfs_get_container_id (rootfs);
  const char *mount_point = vcm_rootfs_get_mount_point (rootfs);

  vcm_ctl_print_answer (
    m->ctl->json,
    g_variant_new_parsed ("{'signal': <%s>, 'generation': <%t>, 'sandbox-id': <%s>, "
                          "'container-id': <%s>, 'mount-point': <%s>, %s: %v}",
                          name, generation, sandbox_id, container_id, mount_point, key, value),
    "%s generation=%" G_GUINT64_FORMAT " sandbox=%s container=%s mount-point=%s %s=%s\n", name,
    generation, sandbox_id, container_id, mount_point, key, text);
}

static void
print_mounted (Monitor *m, VcmRootfs *rootfs)
{
  gboolean read_only = vcm_rootfs_get_read_only (rootfs);

  print_signal (m, "RootfsMounted", rootfs, "read-only", g_variant_new_boolean (read_only),
                vcm_ctl_yes_no (read_only));
}

static void
print_unmounted (Monitor *m, VcmRootfs *rootfs, const char *const *detached)
{
  g_autofree char *list = g_strjoinv (",", (char **) detached);

  print_signal (m, "RootfsUnmounted", rootfs, "detached", g_variant_new_strv (detached, -1), list);
}

static void
print_changed (Monitor *m, VcmRootfs *rootfs, const char *change)
{
  print_signal (m, "RootfsChanged", rootfs, "change", g_variant_new_string (change), change);
}

/* The set's changes, as the service's signals: a rootfs that left the set
 * without an unmount by the service (gone behind its back, or missing from a
 * new listing) is a RootfsChanged "vanished". Nothing is printed for the
 * first listing: it is the state, not a change. */
static void
on_added (VcmRootfsSet *set, VcmRootfs *rootfs, Monitor *m)
{
  if (m->listed)
    print_mounted (m, rootfs);
}

static void
on_removed (VcmRootfsSet *set, VcmRootfs *rootfs, const char *const *detached, Monitor *m)
{
  if (!m->listed)
    return;
  if (detached != NULL)
    print_unmounted (m, rootfs, detached);
  else
    print_changed (m, rootfs, "vanished");
}

static void
on_changed (VcmRootfsSet *set, VcmRootfs *rootfs, const char *change, Monitor *m)
{
  if (m->listed)
    print_changed (m, rootfs, change);
}

static void
say_monitoring (Monitor *m)
{
  g_printerr ("Monitoring %s signals. Press Ctrl+C to stop.\n", VCM_CTL_INTERFACE);
}

static void
on_resynced (VcmRootfsSet *set, Monitor *m)
{
  if (!m->listed)
    {
      m->listed = TRUE;
      if (!m->said_monitoring)
        {
          m->said_monitoring = TRUE;
          say_monitoring (m);
        }
      return;
    }
  g_printerr ("vcmountctl: in step with the service again (generation %" G_GUINT64_FORMAT ")\n",
              vcm_rootfs_set_get_generation (set));
}

/* The service came or went: said on stderr, so stdout keeps one line per signal. */
static void
on_name_owner (GObject *object, GParamSpec *pspec, Monitor *m)
{
  g_autofree char *owner = vcm_client_dup_name_owner (VCM_CLIENT (object));

  if (owner != NULL)
    g_printerr ("vcmountctl: the service is running (%s)\n", owner);
  else
    g_printerr ("vcmountctl: the service is not running; waiting for it\n");
}

static void
on_bus_closed (GDBusConnection *bus, gboolean remote_peer_vanished, GError *error, Monitor *m)
{
  g_printerr ("vcmountctl: the bus connection was closed: %s\n",
              error != NULL ? error->message : "no reason given");
  m->code = VCM_CTL_EXIT_FAILED;
  g_main_loop_quit (m->loop);
}

static gboolean
on_quit_signal (gpointer user_data)
{
  Monitor *m = user_data;

  g_main_loop_quit (m->loop);
  return G_SOURCE_CONTINUE;
}

static VcmCtlExit
vcm_ctl_cmd_monitor (VcmCtl *ctl, char **args)
{
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr (VcmRootfsSet) set = NULL;
  g_autofree char *owner = NULL;
  Monitor m = { ctl, loop, NULL, FALSE, FALSE, VCM_CTL_EXIT_OK };
  guint sigint_id, sigterm_id;
  gulong owner_handler, closed_handler;

  /* The set subscribes, then lists; "Monitoring" is said once the first
   * listing is in (or at once when the service is not running), so that
   * every change after it is printed. */
  set = vcm_rootfs_set_new (ctl->client, NULL);
  m.set = set;
  g_signal_connect (set, "added", G_CALLBACK (on_added), &m);
  g_signal_connect (set, "removed", G_CALLBACK (on_removed), &m);
  g_signal_connect (set, "changed", G_CALLBACK (on_changed), &m);
  g_signal_connect (set, "resynced", G_CALLBACK (on_resynced), &m);
  owner_handler = g_signal_connect (ctl->client, "notify::name-owner", G_CALLBACK (on_name_owner), &m);
  closed_handler = g_signal_connect (ctl->bus, "closed", G_CALLBACK (on_bus_closed), &m);
  g_dbus_connection_set_exit_on_close (ctl->bus, FALSE);
  sigint_id = g_unix_signal_add (SIGINT, on_quit_signal, &m);
  sigterm_id = g_unix_signal_add (SIGTERM, on_quit_signal, &m);

  owner = vcm_client_dup_name_owner (ctl->client);
  if (owner == NULL)
    {
      g_printerr ("vcmountctl: the service is not running; waiting for it\n");
      m.said_monitoring = TRUE;
      say_monitoring (&m);
    }

  g_main_loop_run (loop);

  g_source_remove (sigint_id);
  g_source_remove (sigterm_id);
  g_signal_handlers_disconnect_by_data (set, &m);
  g_signal_handler_disconnect (ctl->client, owner_handler);
  g_signal_handler_disconnect (ctl->bus, closed_handler);
  return m.code;
}

const VcmCtlCommand vcm_ctl_monitor_commands[] = {
  { "monitor", "", "Follow the service's signals",
    "Print one line per signal of the service (mounts, unmounts, foreign changes)\n"
    "until interrupted.",
    0, 0, NULL, TRUE, vcm_ctl_cmd_monitor, NULL, NULL },
  { .name = NULL },
};
