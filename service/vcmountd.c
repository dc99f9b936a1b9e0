/* vcmountd: the daemon's entry point. Options and configuration, the bus
 * name, signals and exit codes; the service itself is vcm-service. */
#include "config.h"

#include <locale.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <glib-unix.h>
#include <gio/gio.h>

#include "vcm-config.h"
#include "vcm-error.h"
#include "vcm-notify.h"
#include "vcm-privileges.h"
#include "vcm-service.h"

typedef struct {
  GMainLoop *loop;
  VcmConfig *config;
  VcmService *service;
  GDBusConnection *connection; /* the callers' */
  GDBusConnection *questions;  /* the bus's shared one: the service's own questions */
  gulong questions_closed_id;  /* its "closed": a failure */
  int exit_code;
} Daemon;

static void
quit (Daemon *d, int code)
{
  d->exit_code = code;
  g_main_loop_quit (d->loop);
}

static void
on_name_acquired (GDBusConnection *connection, const char *name, gpointer user_data)
{
  Daemon *d = user_data;

  g_message ("vcmountd %s serving %s, shared dir %s", VCM_VERSION, name, d->config->shared_dir);
}

static void
on_name_lost (GDBusConnection *connection, const char *name, gpointer user_data)
{
  Daemon *d = user_data;

  if (connection == NULL || g_dbus_connection_is_closed (connection))
    g_printerr ("vcmountd: lost the connection to the bus\n");
  else
    g_printerr ("vcmountd: the name %s was taken or could not be owned\n", name);
  quit (d, EXIT_FAILURE); /* non-zero: a supervisor restarts us */
}

/* The connection the service asks its questions on closed: no caller can be
 * identified or checked any more, so the service must not stay on the bus
 * refusing all but root; it fails, to be started again, as when it loses the
 * callers' connection (on_name_lost()). */
static void
on_questions_closed (GDBusConnection *connection,
                     gboolean remote_peer_vanished,
                     GError *error,
                     gpointer user_data)
{
  Daemon *d = user_data;

  g_printerr ("vcmountd: lost its connection for its own questions to the bus%s%s\n",
              error != NULL ? ": " : "", error != NULL ? error->message : "");
  quit (d, EXIT_FAILURE); /* non-zero: a supervisor restarts us */
}

static gboolean
on_terminate (gpointer user_data)
{
  Daemon *d = user_data;

  g_message ("Terminating on signal");
  quit (d, EXIT_SUCCESS);
  return G_SOURCE_REMOVE;
}

static gboolean
on_finish_timeout (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Stops serving, and lets the calls in flight (cancelled now) land and be
 * answered "stopping", for a few seconds at most: a worker thread held up by
 * a filesystem that does not answer is not waited for. */
static void
finish_calls (VcmService *service)
{
  gboolean timed_out = FALSE;
  guint timeout = g_timeout_add_seconds (5, on_finish_timeout, &timed_out);

  vcm_service_shutdown (service);
  while (vcm_service_get_calls_in_flight (service) > 0 && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (timeout);
}

/* The soft limit on descriptors raised to the hard one: systemd's default
 * soft limit (1024) is there for select(), which nothing here uses. What
 * callers can make the service hold is bounded (see vcm-service.c) far
 * below it, so the rest is root's calls' and the service's own. */
static void
raise_fd_limit (void)
{
  struct rlimit rl;

  if (getrlimit (RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= rl.rlim_max)
    return;
  rl.rlim_cur = rl.rlim_max;
  if (setrlimit (RLIMIT_NOFILE, &rl) < 0)
    g_warning ("Cannot raise the limit on open files to %llu: %s", (unsigned long long) rl.rlim_max,
               g_strerror (errno));
}

/* The configuration file (@config_file, else the default), overridden by
 * the command line's options. */
static gboolean
load_config (VcmConfig *config,
             const char *config_file,
             char **shared_dir,
             char **sysfs_root,
             gboolean verbose,
             GError **error)
{
  if (!vcm_config_load (config, config_file ? config_file : VCM_DEFAULT_CONFIG, error))
    return FALSE;
  if (*shared_dir != NULL)
    {
      g_free (config->shared_dir);
      config->shared_dir = g_steal_pointer (shared_dir);
    }
  if (*sysfs_root != NULL)
    {
      g_free (config->sysfs_root);
      config->sysfs_root = g_steal_pointer (sysfs_root);
    }
  config->verbose = config->verbose || verbose;
  if (config->verbose)
    g_log_set_debug_enabled (TRUE);
  return TRUE;
}

/* Two connections to the bus: callers call on one of its own, and the
 * service asks its questions (who is calling, polkit) on the shared one,
 * where the answers do not queue behind callers' calls, however many a
 * flood sends. */
static gboolean
connect_bus (Daemon *d, GBusType type, GError **error)
{
  g_autofree char *address = g_dbus_address_get_for_bus_sync (type, NULL, error);

  if (address == NULL)
    return FALSE;
  d->connection = g_dbus_connection_new_for_address_sync (
    address,
    G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION, NULL,
    NULL, error);
  if (d->connection == NULL)
    return FALSE;
  d->questions = g_bus_get_sync (type, NULL, error);
  if (d->questions == NULL)
    return FALSE;
  /* GLib's default on a closed bus is to raise SIGTERM, which would look
   * like a clean stop; a lost bus is a failure (on_name_lost() for the
   * callers' connection, on_questions_closed() for this one). */
  g_dbus_connection_set_exit_on_close (d->questions, FALSE);
  d->questions_closed_id =
    g_signal_connect (d->questions, "closed", G_CALLBACK (on_questions_closed), d);
  if (g_dbus_connection_is_closed (d->questions))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CLOSED, "the connection to the bus closed");
      return FALSE;
    }
  return TRUE;
}

/* Owns the bus name and serves until SIGTERM or SIGINT; then the calls in
 * flight land and the last replies go out. Returns the exit status. */
static int
serve (VcmConfig *config, gboolean session, gboolean replace)
{
  Daemon d = { 0 };
  g_autoptr (GError) error = NULL;
  guint owner_id;

  d.loop = g_main_loop_new (NULL, FALSE);
  d.config = config;
  if (!connect_bus (&d, session ? G_BUS_TYPE_SESSION : G_BUS_TYPE_SYSTEM, &error) ||
      (d.service = vcm_service_new (d.connection, d.questions, config, &error)) == NULL)
    {
      g_printerr ("vcmountd: %s\n", error->message);
      g_clear_object (&d.connection);
      if (d.questions != NULL)
        g_clear_signal_handler (&d.questions_closed_id, d.questions);
      g_clear_object (&d.questions);
      g_main_loop_unref (d.loop);
      return EXIT_FAILURE;
    }
  g_unix_signal_add (SIGTERM, on_terminate, &d);
  g_unix_signal_add (SIGINT, on_terminate, &d);

  owner_id = g_bus_own_name_on_connection (d.connection, VCM_BUS_NAME,
                                           G_BUS_NAME_OWNER_FLAGS_ALLOW_REPLACEMENT |
                                             (replace ? G_BUS_NAME_OWNER_FLAGS_REPLACE : 0),
                                           on_name_acquired, on_name_lost, &d, NULL);
  /* Pings come from this main loop: if it stops turning, they stop. */
  vcm_notify_watchdog_start ();
  g_main_loop_run (d.loop);

  g_bus_unown_name (owner_id);
  if (d.service != NULL)
    finish_calls (d.service);
  g_clear_object (&d.service);
  /* the last replies ("stopping") go out before the process does */
  if (d.connection != NULL && !g_dbus_connection_is_closed (d.connection))
    g_dbus_connection_flush_sync (d.connection, NULL, NULL);
  g_clear_object (&d.connection);
  g_clear_signal_handler (&d.questions_closed_id, d.questions);
  g_clear_object (&d.questions);
  g_main_loop_unref (d.loop);
  return d.exit_code;
}

int
main (int argc, char **argv)
{
  g_autofree char *config_file = NULL;
  g_autofree char *shared_dir = NULL;
  g_autofree char *sysfs_root = NULL;
  gboolean replace = FALSE, session = FALSE, verbose = FALSE, version = FALSE;
  const GOptionEntry entries[] = {
    { "shared-dir", 0, 0, G_OPTION_ARG_FILENAME, &shared_dir,
      "Directory beneath which every mount is made (default " VCM_DEFAULT_SHARED_DIR ")", "DIR" },
    { "config", 0, 0, G_OPTION_ARG_FILENAME, &config_file,
      "Configuration file (default " VCM_DEFAULT_CONFIG ")", "FILE" },
    { "sysfs-root", 0, 0, G_OPTION_ARG_FILENAME, &sysfs_root,
      "Root of sysfs for device-mapper queries (default /sys)", "DIR" },
    { "replace", 'r', 0, G_OPTION_ARG_NONE, &replace, "Replace a running instance", NULL },
    { "session", 0, 0, G_OPTION_ARG_NONE, &session, "Use the session bus (for demos)", NULL },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "Log debug messages", NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (VcmConfig) config = vcm_config_new ();

  setlocale (LC_ALL, "");
  context = g_option_context_new ("- container rootfs mount service");
  g_option_context_set_summary (context, "Serves org.vc.Mount on the system bus.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("vcmountd: %s\n", error->message);
      return 2;
    }
  if (version)
    {
      g_print ("vcmountd %s\n", VCM_VERSION);
      return EXIT_SUCCESS;
    }
  if (argc > 1)
    {
      g_printerr ("vcmountd: unexpected argument '%s'\n", argv[1]);
      return 2;
    }

  if (!load_config (config, config_file, &shared_dir, &sysfs_root, verbose, &error))
    {
      g_printerr ("vcmountd: %s\n", error->message);
      return EXIT_FAILURE;
    }

  vcm_error_quark (); /* register the D-Bus error names before any call */

  /* Whoever started us, with whatever umask: the directories the service
   * makes in the shared dir's layout are 0755, so that callers can look
   * their mount points up with their own credentials (a umask of 077 would
   * make them 0700), and root's alone. */
  umask (0022);

  raise_fd_limit ();

  /* Whoever started us, with whatever capabilities: only those needed. */
  if (!vcm_privileges_drop (&error))
    {
      g_printerr ("vcmountd: %s\n", error->message);
      return EXIT_FAILURE;
    }

  return serve (config, session, replace);
}
