/* vcm-ctl-parse: the client's pure helpers (no bus): exit codes, the mapping
 * of D-Bus error names to them, and the parsing of MAJOR:MINOR arguments,
 * timeouts and mount options. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Exit codes of vcmountctl; documented in --help and vcmountctl(1). */
typedef enum {
  VCM_CTL_EXIT_OK = 0,
  VCM_CTL_EXIT_FAILED = 1,
  VCM_CTL_EXIT_USAGE = 2,
  VCM_CTL_EXIT_NOT_AUTHORIZED = 3,
  VCM_CTL_EXIT_NOT_FOUND = 4,
  VCM_CTL_EXIT_AUTHENTICATION_REQUIRED = 5, /* polkit would ask: call again interactively */
} VcmCtlExit;

/* The exit code for a D-Bus error name (NULL = not a remote error): 3 for
 * NotAuthorized and the bus's AccessDenied, 5 for the bus's
 * InteractiveAuthorizationRequired, 4 for NotFound and NotMounted, 1 for
 * everything else. */
VcmCtlExit vcm_ctl_exit_for_error_name (const char *error_name);

/* The exit code for an error returned by a D-Bus call. */
VcmCtlExit vcm_ctl_exit_for_error (const GError *error);

/* What the user can do about an error of exit code @code, as a line to
 * print after the error; NULL when there is nothing to add. */
const char *vcm_ctl_hint_for_exit (VcmCtlExit code);

/* What the user can do about the D-Bus error @error_name (NULL when the
 * error carries none) with @message, as a line to print after the error;
 * NULL when there is nothing to add. Knows how each system bus says that it
 * could not start the service because its unit is not enabled: dbus-daemon
 * passes on systemd's NoSuchUnit ("Unit dbus-org.vc.Mount.service not
 * found."; without the name when GDBus's StartServiceByName failed),
 * dbus-broker answers NameHasNoOwner "activation request failed: unknown
 * unit". */
const char *vcm_ctl_hint_for_error_name (const char *error_name, const char *message);

/* Parses "MAJOR:MINOR" (decimal, each fitting in 32 bits, nothing else).
 * Returns FALSE and sets @error (G_OPTION_ERROR_BAD_VALUE) when malformed. */
gboolean vcm_ctl_parse_devnum (const char *text, guint32 *major_out, guint32 *minor_out, GError **error);

/* Parses a --timeout value in seconds: 0 = no timeout (G_MAXINT ms);
 * 1..2147483 seconds become milliseconds. Anything else is an error. */
gboolean vcm_ctl_parse_timeout (const char *text, int *timeout_msec_out, GError **error);

/* Parses a --option KEY=VALUE of the fd-based commands: the boolean keys
 * read-only, recursive, nosuid, nodev, noexec (VALUE true/false, yes/no,
 * 1/0) and propagation (private, slave, shared, unbindable). Sets *key_out
 * (static) and *value_out (a floating GVariant); FALSE and @error
 * (G_OPTION_ERROR_BAD_VALUE, naming the key) when malformed or unknown. */
gboolean vcm_ctl_parse_mount_option (const char *text,
                                     const char **key_out,
                                     GVariant **value_out,
                                     GError **error);

G_END_DECLS
