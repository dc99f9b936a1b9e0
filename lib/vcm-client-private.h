/* vcm-client-private: what the library's files share and do not export. */
#pragma once

#include "vcmount.h"
#include "vcm-generated.h"

G_BEGIN_DECLS

#define VCM_BUS_NAME    "org.vc.Mount"
#define VCM_OBJECT_PATH "/org/vc/Mount"
#define VCM_INTERFACE   "org.vc.Mount"

/* Moves a remote org.vc.Mount.Error.* into VCM_CLIENT_ERROR (message without
 * the D-Bus name); other errors are left as they are. */
void _vcm_client_error_fixup (GError *error);

VcmDBusMount *_vcm_client_get_proxy (VcmClient *self);

void _vcm_client_call (VcmClient *self,
                       const char *interface,
                       const char *method,
                       GVariant *parameters,
                       const char *reply_type,
                       VcmCallFlags flags,
                       GCancellable *cancellable,
                       GAsyncReadyCallback callback,
                       gpointer user_data,
                       gpointer source_tag);
GVariant *
_vcm_client_call_finish (VcmClient *self, GAsyncResult *result, gpointer source_tag, GError **error);
GVariant *_vcm_client_call_sync (VcmClient *self,
                                 const char *interface,
                                 const char *method,
                                 GVariant *parameters,
                                 const char *reply_type,
                                 VcmCallFlags flags,
                                 GCancellable *cancellable,
                                 GError **error);

/* ListRootfs's reply "(ta(sssb))" as VcmRootfs items sorted by (sandbox ID,
 * container ID), duplicates dropped. */
GPtrArray *_vcm_rootfs_array_from_variant (GVariant *reply, guint64 *out_generation);

void _vcm_rootfs_set_read_only (VcmRootfs *self, gboolean read_only);
int _vcm_rootfs_compare_key (VcmRootfs *self, const char *sandbox_id, const char *container_id);

VcmDeviceInfo *_vcm_device_info_new_from_variant (GVariant *reply);
VcmFsInfo *_vcm_fs_info_new_from_variant (GVariant *reply);
VcmPathInfo *_vcm_path_info_new_from_variant (GVariant *reply);
VcmServiceInfo *_vcm_service_info_new_from_variant (GVariant *reply);

G_END_DECLS
