/* vcm-error: the org.vc.Mount.Error.* error domain, shared by every layer,
 * and the bus's InteractiveAuthorizationRequired, which GLib 2.74's
 * G_DBUS_ERROR does not have. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  VCM_ERROR_INVALID_ARGUMENT,
  VCM_ERROR_NOT_AUTHORIZED,
  VCM_ERROR_NOT_FOUND,
  VCM_ERROR_ALREADY_MOUNTED,
  VCM_ERROR_NOT_MOUNTED,
  VCM_ERROR_FAILED,
  VCM_ERROR_LIMITS_EXCEEDED, /* too many authorizations waiting: refused at once */
  /* polkit would allow it after authentication, and the call did not allow
   * interactive authorization: org.freedesktop.DBus.Error.InteractiveAuthorizationRequired */
  VCM_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED,
  /* a source path from a caller in another mount namespace: the message
   * names the fd-based method to call instead */
  VCM_ERROR_FOREIGN_MOUNT_NAMESPACE,
  VCM_ERROR_N_ERRORS /*< skip >*/
} VcmError;

#define VCM_ERROR (vcm_error_quark ())
GQuark vcm_error_quark (void);

/* Sets @error to VCM_ERROR_FAILED (or NOT_FOUND for ENOENT) with strerror(@errsv),
 * naming @what and @path. Always returns FALSE. */
gboolean vcm_error_set_errno (GError **error, int errsv, const char *what, const char *path);

G_END_DECLS
