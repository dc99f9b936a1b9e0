/* vcm-client: a client of the vc-mount service (org.vc.Mount): every method,
 * synchronous and asynchronous, with its errors in VCM_CLIENT_ERROR. The
 * methods' trios are declared in vcm-client-methods.h, generated from the
 * interface's XML; here are the object and the calls written by hand. */
#pragma once

#if !defined(VCMOUNT_INSIDE) && !defined(VCMOUNT_COMPILATION)
#error "Only <vcmount.h> can be included directly."
#endif

#include <gio/gio.h>

#include "vcm-info.h"
#include "vcm-mount-info.h"
#include "vcm-mount-options.h"
#include "vcm-rootfs.h"

G_BEGIN_DECLS

/**
 * VcmCallFlags:
 * @VCM_CALL_FLAGS_NONE: no flags
 * @VCM_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION: polkit may ask the user
 *   (a password, through an authentication agent) before it answers; without
 *   it a call that polkit would allow after authentication fails with
 *   %VCM_CLIENT_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED (call again with
 *   this flag to let polkit ask). Give the call a long timeout (see
 *   #VcmClient:timeout-msec): a person types the password.
 *
 * Flags of a call to the service.
 */
typedef enum /*< flags >*/ {
  VCM_CALL_FLAGS_NONE = 0,
  VCM_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION = 1 << 0,
} VcmCallFlags;

#define VCM_TYPE_CLIENT (vcm_client_get_type ())
G_DECLARE_FINAL_TYPE (VcmClient, vcm_client, VCM, CLIENT, GObject)

void vcm_client_new (GDBusConnection *connection,
                     GCancellable *cancellable,
                     GAsyncReadyCallback callback,
                     gpointer user_data);
VcmClient *vcm_client_new_finish (GAsyncResult *result, GError **error);
VcmClient *vcm_client_new_sync (GDBusConnection *connection, GCancellable *cancellable, GError **error);

GDBusConnection *vcm_client_get_connection (VcmClient *self);
char *vcm_client_dup_name_owner (VcmClient *self);
int vcm_client_get_timeout_msec (VcmClient *self);
void vcm_client_set_timeout_msec (VcmClient *self, int timeout_msec);

void vcm_client_get_service_info (VcmClient *self,
                                  VcmCallFlags flags,
                                  GCancellable *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data);
VcmServiceInfo *
vcm_client_get_service_info_finish (VcmClient *self, GAsyncResult *result, GError **error);
VcmServiceInfo *vcm_client_get_service_info_sync (VcmClient *self,
                                                  VcmCallFlags flags,
                                                  GCancellable *cancellable,
                                                  GError **error);

void vcm_client_list_mounts (VcmClient *self,
                             const char *sandbox_id,
                             const char *kind,
                             VcmCallFlags flags,
                             GCancellable *cancellable,
                             GAsyncReadyCallback callback,
                             gpointer user_data);
GPtrArray *vcm_client_list_mounts_finish (VcmClient *self,
                                          GAsyncResult *result,
                                          guint64 *out_generation,
                                          GError **error);
GPtrArray *vcm_client_list_mounts_sync (VcmClient *self,
                                        const char *sandbox_id,
                                        const char *kind,
                                        VcmCallFlags flags,
                                        GCancellable *cancellable,
                                        guint64 *out_generation,
                                        GError **error);
G_END_DECLS

/* The trio of every method of the interface, generated from its XML. */
#include "vcm-client-methods.h"
