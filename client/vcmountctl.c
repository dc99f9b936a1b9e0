/* vcmountctl: the command-line client of org.vc.Mount. This file owns the
 * command line: global options, the list of the tables of commands (each
 * command's row lies beside its handler), their option parsing and
 * argument counts, connecting to the bus and dispatching. */
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

/* The commands, each in the table of the file that runs it: the one list,
 * read in this order (for --help). */
static const VcmCtlCommand *const command_tables[] = {
  vcm_ctl_mounts_commands,
  vcm_ctl_query_commands,
  vcm_ctl_fd_commands,
  vcm_ctl_monitor_commands,
};

#define EXIT_STATUS_TEXT \
  "Exit status:\n" \
  "  0  success (also for a \"no\" from the is-* commands)\n" \
  "  1  failure\n" \
  "  2  usage error\n" \
  "  3  not authorized\n" \
  "  4  not found, or not mounted\n" \
  "  5  authentication required: run it again from a terminal, without\n" \
  "     --no-ask-password\n"

static const char exit_status_text[] = EXIT_STATUS_TEXT;

static const char command_description[] =
  "The global options (see --help-global) may also follow the command.\n\n" EXIT_STATUS_TEXT;

static const VcmCtlCommand *
find_command (const char *name)
{
  for (gsize t = 0; t < G_N_ELEMENTS (command_tables); t++)
    for (const VcmCtlCommand *c = command_tables[t]; c->name != NULL; c++)
      if (g_str_equal (c->name, name))
        return c;
  return NULL;
}

static GOptionContext *
global_context_new (void)
{
  GOptionContext *ctx = g_option_context_new ("COMMAND [ARGUMENT…]");
  g_autoptr (GString) text = g_string_new ("Commands:\n");

  for (gsize t = 0; t < G_N_ELEMENTS (command_tables); t++)
    for (const VcmCtlCommand *c = command_tables[t]; c->name != NULL; c++)
      g_string_append_printf (text, "  %s%s%s%s\n      %s\n", c->name, c->params[0] != '\0' ? " " : "",
                              c->params, c->entries == vcm_ctl_read_only_entries ? " [--read-only]" : "",
                              c->brief);
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
command_context_new (const VcmCtlCommand *c)
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
  const VcmCtlCommand *c;
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
  const VcmCtlCommand *c;
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
