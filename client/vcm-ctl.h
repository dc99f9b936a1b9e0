/* vcm-ctl: the state shared by vcmountctl's commands (bus connection, client,
 * output mode) and the one way they call the service and report its errors. */
#pragma once

#include <gio/gio.h>

#include "vcm-ctl-parse.h"
#include <vcmount.h>

G_BEGIN_DECLS

#define VCM_CTL_INTERFACE "org.vc.Mount"

typedef struct {
  GDBusConnection *bus;
  VcmClient *client; /* libvcmount: the service, its owner, the rootfs set */
  gboolean json;
  gboolean no_ask_password;
  int timeout_msec; /* -1: the D-Bus default */
} VcmCtl;

/* Calls @method of org.vc.Mount with @parameters (floating refs are sunk),
 * allowing interactive authorization (and running pkttyagent) when the user
 * can be asked. On failure prints `vcmountctl: WHAT: MESSAGE` to stderr,
 * stores the exit code in @exit_out and returns NULL. */
GVariant *vcm_ctl_call (VcmCtl *ctl,
                        const char *method,
                        GVariant *parameters,
                        VcmCtlExit *exit_out,
                        const char *what_format,
                        ...) G_GNUC_PRINTF (5, 6);

/* Around one call through libvcmount: vcm_ctl_auth_begin() says whether
 * the call may ask for a password (then it starts the agent and lifts the
 * client's timeout, unless the user gave one); the call puts its error in
 * @error. vcm_ctl_auth_end() undoes what began; when the call failed it
 * prints `vcmountctl: WHAT: MESSAGE`, keeps the exit code in @code and
 * returns FALSE. */
typedef struct {
  VcmCtl *ctl;
  gpointer agent;
  int saved_timeout_msec;
  GError *error;   /* the call's */
  VcmCtlExit code; /* set by vcm_ctl_auth_end() */
} VcmCtlAuth;

VcmCallFlags vcm_ctl_auth_begin (VcmCtl *ctl, VcmCtlAuth *auth);
gboolean vcm_ctl_auth_end (VcmCtlAuth *auth, const char *what_format, ...) G_GNUC_PRINTF (2, 3);

/* Reads every property of org.vc.Mount (Properties.GetAll, not the cache),
 * as an a{sv}; errors as for vcm_ctl_call(). */
GVariant *vcm_ctl_get_all_properties (VcmCtl *ctl, VcmCtlExit *exit_out);

/* Prints `vcmountctl: WHAT: MESSAGE` for a D-Bus error (remote prefix stripped)
 * and returns its exit code. */
VcmCtlExit vcm_ctl_report_error (GError *error, const char *what);

/* Prints `vcmountctl: PROBLEM; see 'vcmountctl [CMD ]--help'` and returns 2. */
VcmCtlExit vcm_ctl_usage_error (const char *command, const char *problem_format, ...)
  G_GNUC_PRINTF (2, 3);

/* The commands: each gets the positional arguments after its name (already
 * counted) and returns an exit code. */
typedef VcmCtlExit (*VcmCtlCommandFunc) (VcmCtl *ctl, char **args);

/* Checks a command's arguments before the bus is touched: exit 0 if fine,
 * else reports the usage error and returns 2. */
typedef VcmCtlExit (*VcmCtlCheckFunc) (char **args);

/* A command: its row lies in the table of the file that runs it (the
 * handlers are that file's own), a table ended by a row without a name;
 * vcmountctl.c reads the tables, in its order. */
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
} VcmCtlCommand;

extern const VcmCtlCommand vcm_ctl_mounts_commands[];  /* vcm-ctl-mounts.c */
extern const VcmCtlCommand vcm_ctl_query_commands[];   /* vcm-ctl-query.c */
extern const VcmCtlCommand vcm_ctl_fd_commands[];      /* vcm-ctl-fd.c */
extern const VcmCtlCommand vcm_ctl_monitor_commands[]; /* vcm-ctl-monitor.c */

/* --read-only alone (mount-rootfs, bind): --help shows it with the command. */
extern const GOptionEntry vcm_ctl_read_only_entries[];

/* The --read-only flag of mount-rootfs, bind and the fd-based commands. */
extern gboolean vcm_ctl_opt_read_only;
/* The options of the fd-based commands: --idmap MAP, --userns PATH, each
 * --option KEY=VALUE, --attach TARGET and --fd-out N (open-mount), --kind
 * (mounts). */
extern char *vcm_ctl_opt_idmap;
extern char *vcm_ctl_opt_userns;
extern char **vcm_ctl_opt_options;
extern char *vcm_ctl_opt_attach;
extern int vcm_ctl_opt_fd_out;
extern char *vcm_ctl_opt_kind;

G_END_DECLS
