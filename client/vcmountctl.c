/* vcmountctl: the command-line client of org.vc.Mount. This file owns the
 * command line: global options, the table of commands, their option parsing
 * and argument counts, connecting to the bus and dispatching. */
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vcm-ctl.h"

/* Global options (accepted before the command, and after it too). */
static gboolean opt_system;
static gboolean opt_session;
static char *opt_address;
static gboolean opt_json;
static gboolean opt_no_ask_password;
static char *opt_timeout;
static gboolean opt_version;

static const GOptionEntry global_entries[] = {
  { "system", 0, 0, G_OPTION_ARG_NONE, &opt_system,
    "Talk to the service on the system bus (the default)", NULL },
  { "session", 0, 0, G_OPTION_ARG_NONE, &opt_session, "Talk to the service on the session bus", NULL },
  { "address", 0, 0, G_OPTION_ARG_STRING, &opt_address, "Talk to the service on the bus at ADDRESS",
    "ADDRESS" },
  { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json,
    "Print each answer as one JSON document (monitor: one per line)", NULL },
  { "no-ask-password", 0, 0, G_OPTION_ARG_NONE, &opt_no_ask_password,
    "Never ask for a password to authorize a call", NULL },
  { "timeout", 0, 0, G_OPTION_ARG_STRING, &opt_timeout, "Give up on a call after SECONDS (0: never)",
    "SECONDS" },
  G_OPTION_ENTRY_NULL
};

static const GOptionEntry version_entries[] = { { "version", 0, 0, G_OPTION_ARG_NONE, &opt_version,
                                                  "Print the version and exit", NULL },
                                                G_OPTION_ENTRY_NULL };

static const GOptionEntry read_only_entries[] = {
  { "read-only", 'r', 0, G_OPTION_ARG_NONE, &vcm_ctl_opt_read_only,
    "Make the mount read-only (never writable, not even for a moment)", NULL },
  G_OPTION_ENTRY_NULL
};

static const GOptionEntry fd_entries[] = {
  { "read-only", 'r', 0, G_OPTION_ARG_NONE, &vcm_ctl_opt_read_only, "Make the mount read-only", NULL },
  { "option", 'o', 0, G_OPTION_ARG_STRING_ARRAY, &vcm_ctl_opt_options,
    "Set a mount option: read-only, recursive, nosuid, nodev, noexec (=true or false), "
    "propagation (=private, slave, shared or unbindable); repeatable",
    "KEY=VALUE" },
  { "idmap", 0, 0, G_OPTION_ARG_STRING, &vcm_ctl_opt_idmap,
    "ID-map the mount: u:INSIDE:OUTSIDE:COUNT and g:… ranges (b: for both), comma-separated", "MAP" },
  { "userns", 0, 0, G_OPTION_ARG_FILENAME, &vcm_ctl_opt_userns,
    "ID-map the mount with the maps of the user namespace at PATH (/proc/PID/ns/user)", "PATH" },
  G_OPTION_ENTRY_NULL
};

static const GOptionEntry open_mount_entries[] = {
  { "attach", 0, 0, G_OPTION_ARG_FILENAME, &vcm_ctl_opt_attach,
    "Attach the mount at TARGET in vcmountctl's own mount namespace", "TARGET" },
  { "fd-out", 0, 0, G_OPTION_ARG_INT, &vcm_ctl_opt_fd_out,
    "Run COMMAND with the mount's descriptor as descriptor N", "N" },
  G_OPTION_ENTRY_NULL
};

static const GOptionEntry mounts_entries[] = { { "kind", 0, 0, G_OPTION_ARG_STRING, &vcm_ctl_opt_kind,
                                                 "Only mounts of KIND: rootfs or bind", "KIND" },
                                               G_OPTION_ENTRY_NULL };

typedef struct {
  const char *name;
  const char *params;  /* positional arguments, for the usage line */
  const char *brief;   /* one line, for the list of commands */
  const char *summary; /* for the command's own --help */
  guint min_args;
  guint max_args;
  const GOptionEntry *entries; /* the command's own options, or NULL */
  gboolean needs_signals;
  VcmCtlCommandFunc func;
  VcmCtlCheckFunc check;            /* checks the arguments before connecting, or NULL */
  const GOptionEntry *more_entries; /* more options of its own, or NULL */
} Command;

static const Command commands[] = {
  { "mount-rootfs", "SANDBOX CONTAINER ROOTFS", "Mount a container's root filesystem",
    "Bind-mount ROOTFS as the root filesystem of container CONTAINER of sandbox SANDBOX,\n"
    "at SHARED_DIR/SANDBOX/CONTAINER/rootfs, and print that mount point.",
    3, 3, read_only_entries, FALSE, vcm_ctl_cmd_mount_rootfs, NULL, NULL },
  { "unmount-rootfs", "SANDBOX CONTAINER", "Unmount a container's root filesystem",
    "Lazily unmount the container's rootfs and everything mounted below it;\n"
    "print the mount points detached, the rootfs first.",
    2, 2, NULL, FALSE, vcm_ctl_cmd_unmount_rootfs, NULL, NULL },
  { "unmount-sandbox", "SANDBOX", "Unmount the root filesystems of a sandbox",
    "Unmount the rootfs of every container of SANDBOX; print the container IDs.", 1, 1, NULL, FALSE,
    vcm_ctl_cmd_unmount_sandbox, NULL, NULL },
  { "list", "[SANDBOX]", "List the mounted root filesystems",
    "List the rootfs mounts (of SANDBOX only, if given), as the kernel's mount table has them.", 0, 1,
    NULL, FALSE, vcm_ctl_cmd_list, NULL, NULL },
  { "bind", "SOURCE DEST", "Bind-mount a file or directory beneath the shared directory",
    "Bind-mount SOURCE at DEST, which must lie beneath the service's shared directory;\n"
    "print the mount point.",
    2, 2, read_only_entries, FALSE, vcm_ctl_cmd_bind, NULL, NULL },
  { "unmount", "MOUNTPOINT", "Unmount a mount beneath the shared directory",
    "Lazily unmount a mount beneath the shared directory; print the mount points detached.", 1, 1, NULL,
    FALSE, vcm_ctl_cmd_unmount, NULL, NULL },
  { "device", "PATH", "Show the device holding a path",
    "Print the device holding PATH and the mount point it is on, as MAJOR:MINOR MOUNTPOINT.", 1, 1, NULL,
    FALSE, vcm_ctl_cmd_device, NULL, NULL },
  { "fs", "MOUNTPOINT", "Show the device and filesystem type of a mount",
    "Print the source device and filesystem type of the mount at MOUNTPOINT.", 1, 1, NULL, FALSE,
    vcm_ctl_cmd_fs, NULL, NULL },
  { "is-devicemapper", "MAJOR:MINOR", "Tell whether a block device is a device-mapper device",
    "Print yes if the block device MAJOR:MINOR is a device-mapper device, else no.", 1, 1, NULL, FALSE,
    vcm_ctl_cmd_is_device_mapper, vcm_ctl_check_is_device_mapper, NULL },
  { "is-system-mount", "PATH", "Tell whether a path is /proc, /sys or below them",
    "Print yes if PATH is /proc, /sys or below them, else no.", 1, 1, NULL, FALSE,
    vcm_ctl_cmd_is_system_mount, NULL, NULL },
  { "is-host-device", "PATH", "Tell whether a path is a host device",
    "Print yes if PATH is /dev, or below it and not a regular file, else no.", 1, 1, NULL, FALSE,
    vcm_ctl_cmd_is_host_device, NULL, NULL },
  { "describe", "PATH", "Show all the service knows about a path",
    "Print everything the service knows about PATH: device, mount, flags, propagation.", 1, 1, NULL,
    FALSE, vcm_ctl_cmd_describe, NULL, NULL },
  { "mount-rootfs-fd", "SANDBOX CONTAINER ROOTFS",
    "Mount a container's root filesystem opened here (rootless)",
    "Open ROOTFS here, in vcmountctl's own mount and user namespaces, and have the\n"
    "service mount what the descriptor refers to at SHARED_DIR/SANDBOX/CONTAINER/rootfs,\n"
    "with the options given; print the mount point (--json: the mount's identity).",
    3, 3, fd_entries, FALSE, vcm_ctl_cmd_mount_rootfs_fd, vcm_ctl_check_mount_rootfs_fd, NULL },
  { "bind-fd", "SOURCE DEST", "Bind-mount a file or directory opened here (rootless)",
    "Open SOURCE here and have the service bind-mount it at DEST, beneath the shared\n"
    "directory, with the options given; print the mount point.",
    2, 2, fd_entries, FALSE, vcm_ctl_cmd_bind_fd, vcm_ctl_check_bind_fd, NULL },
  { "open-mount", "SOURCE [COMMAND [ARGUMENT…]]", "Get a detached mount of a directory opened here",
    "Open SOURCE here and have the service make a detached, configured mount of it\n"
    "(typically ID-mapped); attach it at TARGET here (--attach), or run COMMAND with\n"
    "it as descriptor N (--fd-out N).",
    1, G_MAXUINT, fd_entries, FALSE, vcm_ctl_cmd_open_mount, vcm_ctl_check_open_mount,
    open_mount_entries },
  { "mounts", "[SANDBOX]", "List the service's mounts with their identity",
    "List every mount the service made (of SANDBOX only, if given): mount point, kind,\n"
    "the kernel's mount ID (* when only the reusable 32-bit one), caller uid, options, source.",
    0, 1, mounts_entries, FALSE, vcm_ctl_cmd_mounts, NULL, NULL },
  { "monitor", "", "Follow the service's signals",
    "Print one line per signal of the service (mounts, unmounts, foreign changes)\n"
    "until interrupted.",
    0, 0, NULL, TRUE, vcm_ctl_cmd_monitor, NULL, NULL },
  { "status", "", "Show the service's properties",
    "Print the service's properties: Version, SharedDir, DefaultShmSize, Generation.", 0, 0, NULL, FALSE,
    vcm_ctl_cmd_status, NULL, NULL },
};

static const char exit_status_text[] =
  "Exit status:\n"
  "  0  success (also for a \"no\" from the is-* commands)\n"
  "  1  failure\n"
  "  2  usage error\n"
  "  3  not authorized\n"
  "  4  not found, or not mounted\n"
  "  5  authentication required: run it again from a terminal, without\n"
  "     --no-ask-password\n";

static const char command_description[] =
  "The global options (see --help-global) may also follow the command.\n\n"
  "Exit status:\n"
  "  0  success (also for a \"no\" from the is-* commands)\n"
  "  1  failure\n"
  "  2  usage error\n"
  "  3  not authorized\n"
  "  4  not found, or not mounted\n"
  "  5  authentication required: run it again from a terminal, without\n"
  "     --no-ask-password\n";

static const Command *
find_command (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (commands[i].name, name))
      return &commands[i];
  return NULL;
}

static GOptionContext *
global_context_new (void)
{
  GOptionContext *ctx = g_option_context_new ("COMMAND [ARGUMENT…]");
  g_autoptr (GString) text = g_string_new ("Commands:\n");

  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      const Command *c = &commands[i];
      g_string_append_printf (text, "  %s%s%s%s\n      %s\n", c->name, c->params[0] != '\0' ? " " : "",
                              c->params, c->entries == read_only_entries ? " [--read-only]" : "",
                              c->brief);
    }
  g_string_append (text, "  help [COMMAND]\n      Show the help of vcmountctl or of COMMAND.\n\n");
  g_string_append (text,
                   "Global options go before the command (or after it).\n"
                   "See 'vcmountctl COMMAND --help' for each command.\n\n");
  g_string_append (text, exit_status_text);

  g_option_context_set_summary (ctx,
                                "Mount container root filesystems through the vc-mount service\n"
                                "(org.vc.Mount) and ask it about devices and mounts.");
  g_option_context_set_description (ctx, text->str);
  g_option_context_set_strict_posix (ctx, TRUE);
  g_option_context_add_main_entries (ctx, global_entries, NULL);
  g_option_context_add_main_entries (ctx, version_entries, NULL);
  return ctx;
}

static GOptionContext *
command_context_new (const Command *c)
{
  g_autofree char *params =
    g_strdup_printf ("%s%s%s", c->name, c->params[0] != '\0' ? " " : "", c->params);
  GOptionContext *ctx = g_option_context_new (params);
  GOptionGroup *global =
    g_option_group_new ("global", "Global options:", "Show the global options", NULL, NULL);

  g_option_context_set_summary (ctx, c->summary);
  g_option_context_set_description (ctx, command_description);
  if (c->entries != NULL)
    g_option_context_add_main_entries (ctx, c->entries, NULL);
  if (c->more_entries != NULL)
    g_option_context_add_main_entries (ctx, c->more_entries, NULL);
  g_option_group_add_entries (global, global_entries);
  g_option_context_add_group (ctx, global);
  return ctx;
}

static void
print_help (GOptionContext *ctx)
{
  g_autofree char *help = g_option_context_get_help (ctx, TRUE, NULL);

  fputs (help, stdout);
  fflush (stdout);
}

/* `help [COMMAND]`. */
static VcmCtlExit
run_help (GOptionContext *global_ctx, int argc, char **argv)
{
  const Command *c;
  g_autoptr (GOptionContext) ctx = NULL;

  if (argc == 1)
    {
      print_help (global_ctx);
      return VCM_CTL_EXIT_OK;
    }
  if (argc > 2)
    return vcm_ctl_usage_error ("help", "too many arguments");
  c = find_command (argv[1]);
  if (c == NULL)
    return vcm_ctl_usage_error (NULL, "unknown command '%s'", argv[1]);
  ctx = command_context_new (c);
  print_help (ctx);
  return VCM_CTL_EXIT_OK;
}

/* vcmountctl's own connection, also to --address. It authenticates with
 * an empty identity (EXTERNAL, as sd-bus does, and as g_bus_get() does for
 * the system and session buses): the bus then takes the caller's uid from
 * the socket, which also works from inside a user namespace, where the uid
 * vcmountctl sees is not the one the bus sees. GLib 2.74's
 * g_dbus_connection_new_for_address_sync() refuses the flag for that (its
 * check of the known flags predates it); set as the "flags" property it
 * works. */
static GDBusConnection *
connect_bus (GError **error)
{
  g_autofree char *address = NULL;

  if (opt_address != NULL)
    address = g_strdup (opt_address);
  else
    address = g_dbus_address_get_for_bus_sync (opt_session ? G_BUS_TYPE_SESSION : G_BUS_TYPE_SYSTEM,
                                               NULL, error);
  if (address == NULL)
    return NULL;
  return g_initable_new (G_TYPE_DBUS_CONNECTION, NULL, error, "address", address, "flags",
                         G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                           G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION |
                           G_DBUS_CONNECTION_FLAGS_CROSS_NAMESPACE,
                         NULL);
}

static const char *
bus_description (void)
{
  if (opt_address != NULL)
    return opt_address;
  return opt_session ? "the session bus" : "the system bus";
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) global_ctx = NULL;
  g_autoptr (GOptionContext) cmd_ctx = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GDBusConnection) bus = NULL;
  g_autoptr (VcmClient) client = NULL;
  const Command *c;
  VcmCtl ctl = { 0 };
  int cmd_argc;
  char **cmd_argv;
  guint n_args;

  setlocale (LC_ALL, "");
  g_set_prgname ("vcmountctl");

  global_ctx = global_context_new ();
  if (!g_option_context_parse (global_ctx, &argc, &argv, &error))
    return vcm_ctl_usage_error (NULL, "%s", error->message);
  if (opt_version)
    {
      printf ("vcmountctl %s\n", VCM_VERSION);
      return VCM_CTL_EXIT_OK;
    }
  if (argc >= 2 && g_str_equal (argv[1], "--"))
    {
      argv++;
      argc--;
    }
  if (argc < 2)
    return vcm_ctl_usage_error (NULL, "no command given");

  cmd_argc = argc - 1;
  cmd_argv = argv + 1;
  if (g_str_equal (cmd_argv[0], "help"))
    return run_help (global_ctx, cmd_argc, cmd_argv);

  c = find_command (cmd_argv[0]);
  if (c == NULL)
    return vcm_ctl_usage_error (NULL, "unknown command '%s'", cmd_argv[0]);

  cmd_ctx = command_context_new (c);
  if (!g_option_context_parse (cmd_ctx, &cmd_argc, &cmd_argv, &error))
    return vcm_ctl_usage_error (c->name, "%s", error->message);

  /* GOption leaves the "--" that ends the options in argv: drop the first one. */
  for (int i = 1; i < cmd_argc; i++)
    if (g_str_equal (cmd_argv[i], "--"))
      {
        memmove (&cmd_argv[i], &cmd_argv[i + 1], (gsize) (cmd_argc - i) * sizeof (char *));
        cmd_argc--;
        break;
      }

  n_args = (guint) cmd_argc - 1;
  if (n_args < c->min_args)
    return vcm_ctl_usage_error (c->name, "%s: missing argument (expected %s)", c->name, c->params);
  if (n_args > c->max_args)
    return vcm_ctl_usage_error (c->name, "%s: too many arguments (expected %s)", c->name,
                                c->params[0] != '\0' ? c->params : "none");

  if (c->check != NULL)
    {
      VcmCtlExit code = c->check (cmd_argv + 1);
      if (code != VCM_CTL_EXIT_OK)
        return code;
    }

  if ((opt_system ? 1 : 0) + (opt_session ? 1 : 0) + (opt_address != NULL ? 1 : 0) > 1)
    return vcm_ctl_usage_error (NULL, "--system, --session and --address exclude each other");
  ctl.timeout_msec = -1;
  if (opt_timeout != NULL && !vcm_ctl_parse_timeout (opt_timeout, &ctl.timeout_msec, &error))
    return vcm_ctl_usage_error (NULL, "%s", error->message);
  ctl.json = opt_json;
  ctl.no_ask_password = opt_no_ask_password;

  bus = connect_bus (&error);
  if (bus == NULL)
    {
      g_autofree char *what = g_strdup_printf ("cannot connect to %s", bus_description ());
      return vcm_ctl_report_error (error, what);
    }
  client = vcm_client_new_sync (bus, NULL, &error);
  if (client == NULL)
    return vcm_ctl_report_error (error, "cannot reach the service");
  if (ctl.timeout_msec >= 0)
    vcm_client_set_timeout_msec (client, ctl.timeout_msec);

  ctl.bus = bus;
  ctl.client = client;
  return c->func (&ctl, cmd_argv + 1);
}
