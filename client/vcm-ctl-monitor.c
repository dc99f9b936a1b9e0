/* vcm-ctl-monitor: `vcmountctl monitor`: one line per org.vc.Mount signal
 * (text or JSON lines) until SIGINT or SIGTERM. */
#include <signal.h>
#include <stdio.h>

#include <glib-unix.h>

#include "vcm-ctl.h"
#include "vcm-ctl-output.h"

typedef struct {
  VcmCtl    *ctl;
  GMainLoop *loop;
  VcmCtlExit code;
} Monitor;

/* Starts a JSON line {"signal": NAME, "generation": N, "sandbox-id": …,
 * "container-id": …, "mount-point": …, leaving the object open. */
static JsonBuilder *
json_begin_signal (const char *name,
                   guint64     generation,
                   const char *sandbox_id,
                   const char *container_id,
                   const char *mount_point)
{
  JsonBuilder *b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "signal");
  json_builder_add_string_value (b, name);
  json_builder_set_member_name (b, "generation");
  json_builder_add_int_value (b, (gint64) generation);
  json_builder_set_member_name (b, "sandbox-id");
  json_builder_add_string_value (b, sandbox_id);
  json_builder_set_member_name (b, "container-id");
  json_builder_add_string_value (b, container_id);
  json_builder_set_member_name (b, "mount-point");
  json_builder_add_string_value (b, mount_point);
  return b;
}

static void
on_rootfs_mounted (VcmDBusMount *proxy,
                   guint64       generation,
                   const char   *sandbox_id,
                   const char   *container_id,
                   const char   *mount_point,
                   gboolean      read_only,
                   Monitor      *m)
{
  if (m->ctl->json)
    {
      g_autoptr(JsonBuilder) b = json_begin_signal ("RootfsMounted", generation,
                                                    sandbox_id, container_id, mount_point);
      json_builder_set_member_name (b, "read-only");
      json_builder_add_boolean_value (b, read_only);
      json_builder_end_object (b);
      vcm_ctl_print_json (b);
      return;
    }
  printf ("RootfsMounted generation=%" G_GUINT64_FORMAT " sandbox=%s container=%s mount-point=%s read-only=%s\n",
          generation, sandbox_id, container_id, mount_point, vcm_ctl_yes_no (read_only));
  fflush (stdout);
}

static void
on_rootfs_unmounted (VcmDBusMount      *proxy,
                     guint64            generation,
                     const char        *sandbox_id,
                     const char        *container_id,
                     const char        *mount_point,
                     const char *const *detached,
                     Monitor           *m)
{
  if (m->ctl->json)
    {
      g_autoptr(JsonBuilder) b = json_begin_signal ("RootfsUnmounted", generation,
                                                    sandbox_id, container_id, mount_point);
      json_builder_set_member_name (b, "detached");
      json_builder_begin_array (b);
      for (gsize i = 0; detached != NULL && detached[i] != NULL; i++)
        json_builder_add_string_value (b, detached[i]);
      json_builder_end_array (b);
      json_builder_end_object (b);
      vcm_ctl_print_json (b);
      return;
    }
  {
    g_autofree char *list = g_strjoinv (",", (char **) detached);
    printf ("RootfsUnmounted generation=%" G_GUINT64_FORMAT " sandbox=%s container=%s mount-point=%s detached=%s\n",
            generation, sandbox_id, container_id, mount_point, list);
    fflush (stdout);
  }
}

static void
on_rootfs_changed (VcmDBusMount *proxy,
                   guint64       generation,
                   const char   *sandbox_id,
                   const char   *container_id,
                   const char   *mount_point,
                   const char   *change,
                   Monitor      *m)
{
  if (m->ctl->json)
    {
      g_autoptr(JsonBuilder) b = json_begin_signal ("RootfsChanged", generation,
                                                    sandbox_id, container_id, mount_point);
      json_builder_set_member_name (b, "change");
      json_builder_add_string_value (b, change);
      json_builder_end_object (b);
      vcm_ctl_print_json (b);
      return;
    }
  printf ("RootfsChanged generation=%" G_GUINT64_FORMAT " sandbox=%s container=%s mount-point=%s change=%s\n",
          generation, sandbox_id, container_id, mount_point, change);
  fflush (stdout);
}

/* The service came or went: said on stderr, so stdout keeps one line per signal. */
static void
on_name_owner (GObject *object, GParamSpec *pspec, Monitor *m)
{
  g_autofree char *owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (object));

  if (owner != NULL)
    g_printerr ("vcmountctl: the service is running (%s)\n", owner);
  else
    g_printerr ("vcmountctl: the service is not running; waiting for it\n");
}

static void
on_bus_closed (GDBusConnection *bus,
               gboolean         remote_peer_vanished,
               GError          *error,
               Monitor         *m)
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

VcmCtlExit
vcm_ctl_cmd_monitor (VcmCtl *ctl, char **args)
{
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(GVariant) round_trip = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *owner = NULL;
  Monitor m = { ctl, loop, VCM_CTL_EXIT_OK };
  guint sigint_id, sigterm_id;
  gulong handlers[5];

  handlers[0] = g_signal_connect (ctl->proxy, "rootfs-mounted", G_CALLBACK (on_rootfs_mounted), &m);
  handlers[1] = g_signal_connect (ctl->proxy, "rootfs-unmounted", G_CALLBACK (on_rootfs_unmounted), &m);
  handlers[2] = g_signal_connect (ctl->proxy, "rootfs-changed", G_CALLBACK (on_rootfs_changed), &m);
  handlers[3] = g_signal_connect (ctl->proxy, "notify::g-name-owner", G_CALLBACK (on_name_owner), &m);
  handlers[4] = g_signal_connect (ctl->bus, "closed", G_CALLBACK (on_bus_closed), &m);
  g_dbus_connection_set_exit_on_close (ctl->bus, FALSE);
  sigint_id = g_unix_signal_add (SIGINT, on_quit_signal, &m);
  sigterm_id = g_unix_signal_add (SIGTERM, on_quit_signal, &m);

  /* The proxy sent its AddMatch when it was made; one round trip to the bus
   * makes sure the bus has applied it before we say we are listening. */
  round_trip = g_dbus_connection_call_sync (ctl->bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                            "org.freedesktop.DBus", "GetId", NULL,
                                            G_VARIANT_TYPE ("(s)"), G_DBUS_CALL_FLAGS_NONE,
                                            ctl->timeout_msec, NULL, &error);
  if (round_trip == NULL)
    {
      m.code = vcm_ctl_report_error (error, "cannot subscribe to the service's signals");
      goto out;
    }

  owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (ctl->proxy));
  if (owner == NULL)
    g_printerr ("vcmountctl: the service is not running; waiting for it\n");
  g_printerr ("Monitoring %s signals. Press Ctrl+C to stop.\n",
              g_dbus_proxy_get_interface_name (G_DBUS_PROXY (ctl->proxy)));

  g_main_loop_run (loop);

out:
  g_source_remove (sigint_id);
  g_source_remove (sigterm_id);
  for (gsize i = 0; i < 4; i++)
    g_signal_handler_disconnect (ctl->proxy, handlers[i]);
  g_signal_handler_disconnect (ctl->bus, handlers[4]);
  return m.code;
}
