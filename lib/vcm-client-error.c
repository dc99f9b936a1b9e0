/* vcm-client-error: the one table from org.vc.Mount.Error.* names to
 * VcmClientError codes, registered with GDBus so that remote errors arrive in
 * the VCM_CLIENT_ERROR domain. A new error of the service is one line here and
 * one enum value in vcm-client-error.h. The bus's
 * InteractiveAuthorizationRequired, which the service also replies, is mapped
 * in _vcm_client_error_fixup() only, for the service's replies: registering
 * it would move every such error of the process (systemd's too) into this
 * domain. */
#include "vcm-client-private.h"

#include <string.h>

#include <gio/gio.h>

#define VCM_ERROR_PREFIX                   "org.vc.Mount.Error."
#define INTERACTIVE_AUTHORIZATION_REQUIRED "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired"

static const GDBusErrorEntry error_entries[] = {
  { VCM_CLIENT_ERROR_FAILED, VCM_ERROR_PREFIX "Failed" },
  { VCM_CLIENT_ERROR_INVALID_ARGUMENT, VCM_ERROR_PREFIX "InvalidArgument" },
  { VCM_CLIENT_ERROR_NOT_AUTHORIZED, VCM_ERROR_PREFIX "NotAuthorized" },
  { VCM_CLIENT_ERROR_NOT_FOUND, VCM_ERROR_PREFIX "NotFound" },
  { VCM_CLIENT_ERROR_ALREADY_MOUNTED, VCM_ERROR_PREFIX "AlreadyMounted" },
  { VCM_CLIENT_ERROR_NOT_MOUNTED, VCM_ERROR_PREFIX "NotMounted" },
  { VCM_CLIENT_ERROR_LIMITS_EXCEEDED, VCM_ERROR_PREFIX "LimitsExceeded" },
  { VCM_CLIENT_ERROR_FOREIGN_MOUNT_NAMESPACE, VCM_ERROR_PREFIX "ForeignMountNamespace" },
};

/**
 * vcm_client_error_quark:
 *
 * The quark of the %VCM_CLIENT_ERROR domain. Its first use registers the
 * service's D-Bus error names, so that a #GError of this domain passed on
 * over D-Bus keeps its name.
 *
 * Returns: the error domain
 */
GQuark
vcm_client_error_quark (void)
{
  static gsize quark = 0;

  g_dbus_error_register_error_domain ("vcm-client-error-quark", &quark, error_entries,
                                      G_N_ELEMENTS (error_entries));
  return (GQuark) quark;
}

void
_vcm_client_error_fixup (GError *error)
{
  g_autofree char *remote = NULL;

  if (error == NULL)
    return;
  if (error->domain == VCM_CLIENT_ERROR)
    {
      g_dbus_error_strip_remote_error (error);
      return;
    }
  remote = g_dbus_error_get_remote_error (error);
  if (g_strcmp0 (remote, INTERACTIVE_AUTHORIZATION_REQUIRED) == 0)
    {
      /* Whatever domain GLib (or another library) gave it. */
      g_dbus_error_strip_remote_error (error);
      error->domain = VCM_CLIENT_ERROR;
      error->code = VCM_CLIENT_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED;
      return;
    }
  /* An org.vc.Mount.Error this version does not list: still the service's. */
  if (remote != NULL && g_str_has_prefix (remote, VCM_ERROR_PREFIX))
    {
      /* Keep the name in the message: "org.vc.Mount.Error.X: text". */
      if (g_str_has_prefix (error->message, "GDBus.Error:"))
        {
          char *message = g_strdup (error->message + strlen ("GDBus.Error:"));
          g_free (error->message);
          error->message = message;
        }
      error->domain = VCM_CLIENT_ERROR;
      error->code = VCM_CLIENT_ERROR_FAILED;
    }
}
