/* vcm-error: registers the org.vc.Mount.Error.* D-Bus error domain once
 * (with the bus's InteractiveAuthorizationRequired in it). */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <gio/gio.h>

#include "vcm-error.h"

static const GDBusErrorEntry vcm_error_entries[] = {
  { VCM_ERROR_INVALID_ARGUMENT, "org.vc.Mount.Error.InvalidArgument" },
  { VCM_ERROR_NOT_AUTHORIZED, "org.vc.Mount.Error.NotAuthorized" },
  { VCM_ERROR_NOT_FOUND, "org.vc.Mount.Error.NotFound" },
  { VCM_ERROR_ALREADY_MOUNTED, "org.vc.Mount.Error.AlreadyMounted" },
  { VCM_ERROR_NOT_MOUNTED, "org.vc.Mount.Error.NotMounted" },
  { VCM_ERROR_FAILED, "org.vc.Mount.Error.Failed" },
  { VCM_ERROR_LIMITS_EXCEEDED, "org.vc.Mount.Error.LimitsExceeded" },
  /* the D-Bus specification's name, as systemd replies it: clients retry
   * with ALLOW_INTERACTIVE_AUTHORIZATION */
  { VCM_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED,
    "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired" },
  { VCM_ERROR_FOREIGN_MOUNT_NAMESPACE, "org.vc.Mount.Error.ForeignMountNamespace" },
};

G_STATIC_ASSERT (G_N_ELEMENTS (vcm_error_entries) == VCM_ERROR_N_ERRORS);

GQuark
vcm_error_quark (void)
{
  static gsize quark = 0;

  g_dbus_error_register_error_domain ("vcm-error-quark", &quark, vcm_error_entries,
                                      G_N_ELEMENTS (vcm_error_entries));
  return (GQuark) quark;
}

gboolean
vcm_error_set_errno (GError **error, int errsv, const char *what, const char *path)
{
  g_set_error (error, VCM_ERROR, errsv == ENOENT ? VCM_ERROR_NOT_FOUND : VCM_ERROR_FAILED, "%s %s: %s",
               what, path, g_strerror (errsv));
  return FALSE;
}
