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
 * client's timeout, unless the user gave one), vcm_ctl_auth_end() undoes it. */
typedef struct {
  gpointer agent;
  int saved_timeout_msec;
} VcmCtlAuth;

VcmCallFlags vcm_ctl_auth_begin (VcmCtl *ctl, VcmCtlAuth *auth);
void vcm_ctl_auth_end (VcmCtl *ctl, VcmCtlAuth *auth);

/* Prints `vcmountctl: WHAT: MESSAGE` for the error of a library call and
 * returns its exit code. */
VcmCtlExit vcm_ctl_report_call_error (GError *error, const char *what_format, ...) G_GNUC_PRINTF (2, 3);

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

VcmCtlExit vcm_ctl_check_is_device_mapper (char **args);

VcmCtlExit vcm_ctl_cmd_mount_rootfs (VcmCtl *ctl, char **args);
VcmCtlExit vcm_ctl_cmd_unmount_rootfs (VcmCtl *ctl, char **args);
VcmCtlExit vcm_ctl_cmd_unmount_sandbox (VcmCtl *ctl, char **args);
VcmCtlExit vcm_ctl_cmd_list (VcmCtl *ctl, char **args);
VcmCtlExit vcm_ctl_cmd_bind (VcmCtl *ctl, char **args);
VcmCtlExit vcm_ctl_cmd_unmount (VcmCtl *ctl, char **args);
VcmCtlExit vcm_ctl_cmd_device (VcmCtl *ctl, char **args);
VcmCtlExit vcm_ctl_cmd_fs (VcmCtl *ctl, char **args);
VcmCtlExit vcm_ctl_cmd_is_device_mapper (VcmCtl *ctl, char **args);
VcmCtlExit vcm_ctl_cmd_is_system_mount (VcmCtl *ctl, char **args);
VcmCtlExit vcm_ctl_cmd_is_host_device (VcmCtl *ctl, char **args);
VcmCtlExit vcm_ctl_cmd_describe (VcmCtl *ctl, char **args);
VcmCtlExit vcm_ctl_cmd_status (VcmCtl *ctl, char **args);
VcmCtlExit vcm_ctl_cmd_monitor (VcmCtl *ctl, char **args);

VcmCtlExit vcm_ctl_cmd_mount_rootfs_fd (VcmCtl *ctl, char **args);
VcmCtlExit vcm_ctl_cmd_bind_fd (VcmCtl *ctl, char **args);
VcmCtlExit vcm_ctl_cmd_open_mount (VcmCtl *ctl, char **args);
VcmCtlExit vcm_ctl_check_mount_rootfs_fd (char **args);
VcmCtlExit vcm_ctl_check_bind_fd (char **args);
VcmCtlExit vcm_ctl_check_open_mount (char **args);
VcmCtlExit vcm_ctl_cmd_mounts (VcmCtl *ctl, char **args);

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
