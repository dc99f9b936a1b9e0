/* vcm-client-error: the VCM_CLIENT_ERROR domain, mapped from the service's
 * org.vc.Mount.Error.* D-Bus errors and its
 * org.freedesktop.DBus.Error.InteractiveAuthorizationRequired. */
#pragma once

#if !defined(VCMOUNT_INSIDE) && !defined(VCMOUNT_COMPILATION)
#error "Only <vcmount.h> can be included directly."
#endif

#include <glib.h>

G_BEGIN_DECLS

/**
 * VCM_CLIENT_ERROR:
 *
 * The error domain of the errors the vc-mount service returns. Errors that
 * are not the service's (the bus is gone, a timeout, a cancelled call) keep
 * their own domains (%G_DBUS_ERROR, %G_IO_ERROR).
 */
#define VCM_CLIENT_ERROR (vcm_client_error_quark ())

/**
 * VcmClientError:
 * @VCM_CLIENT_ERROR_FAILED: the kernel refused (org.vc.Mount.Error.Failed), or
 *   an org.vc.Mount.Error this library does not know yet
 * @VCM_CLIENT_ERROR_INVALID_ARGUMENT: a malformed argument (org.vc.Mount.Error.InvalidArgument)
 * @VCM_CLIENT_ERROR_NOT_AUTHORIZED: polkit said no, no authentication agent
 *   answered an interactive check, or polkit could not be asked in time
 *   (org.vc.Mount.Error.NotAuthorized)
 * @VCM_CLIENT_ERROR_NOT_FOUND: the source or path does not exist (org.vc.Mount.Error.NotFound)
 * @VCM_CLIENT_ERROR_ALREADY_MOUNTED: the rootfs is already mounted (org.vc.Mount.Error.AlreadyMounted)
 * @VCM_CLIENT_ERROR_NOT_MOUNTED: nothing is mounted there (org.vc.Mount.Error.NotMounted)
 * @VCM_CLIENT_ERROR_LIMITS_EXCEEDED: too many pending authorizations
 *   (org.vc.Mount.Error.LimitsExceeded); try again later
 * @VCM_CLIENT_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED: polkit would allow
 *   the call after authentication, and the call did not allow interactive
 *   authorization (org.freedesktop.DBus.Error.InteractiveAuthorizationRequired):
 *   call again with %VCM_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION, with an
 *   authentication agent running, to let polkit ask the user
 * @VCM_CLIENT_ERROR_FOREIGN_MOUNT_NAMESPACE: a method that takes a source
 *   path was called from another mount namespace than the service's, where
 *   the path would name the service's object, not the caller's
 *   (org.vc.Mount.Error.ForeignMountNamespace): pass a file descriptor with
 *   the fd-based method the message names (vcm_client_mount_rootfs_fd(),
 *   vcm_client_bind_mount_fd())
 *
 * The errors of %VCM_CLIENT_ERROR. The message is the service's, without
 * the D-Bus error name.
 */
typedef enum {
  VCM_CLIENT_ERROR_FAILED,
  VCM_CLIENT_ERROR_INVALID_ARGUMENT,
  VCM_CLIENT_ERROR_NOT_AUTHORIZED,
  VCM_CLIENT_ERROR_NOT_FOUND,
  VCM_CLIENT_ERROR_ALREADY_MOUNTED,
  VCM_CLIENT_ERROR_NOT_MOUNTED,
  VCM_CLIENT_ERROR_LIMITS_EXCEEDED,
  VCM_CLIENT_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED,
  VCM_CLIENT_ERROR_FOREIGN_MOUNT_NAMESPACE,
} VcmClientError;

GQuark vcm_client_error_quark (void);

G_END_DECLS
