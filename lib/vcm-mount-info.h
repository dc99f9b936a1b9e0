/* vcm-mount-info: VcmMountInfo, what identifies a mount the service made
 * (the mount info of the fd-based methods, ListMounts and MountAdded):
 * where, what kind, the kernel's mount ID, the source, the options, who. */
#pragma once

#if !defined(VCMOUNT_INSIDE) && !defined(VCMOUNT_COMPILATION)
#error "Only <vcmount.h> can be included directly."
#endif

#include <glib-object.h>

G_BEGIN_DECLS

#define VCM_TYPE_MOUNT_INFO (vcm_mount_info_get_type ())
G_DECLARE_FINAL_TYPE (VcmMountInfo, vcm_mount_info, VCM, MOUNT_INFO, GObject)

VcmMountInfo *vcm_mount_info_new_from_variant (GVariant *mount_info);
const char *vcm_mount_info_get_mount_point (VcmMountInfo *self);
const char *vcm_mount_info_get_kind (VcmMountInfo *self);
const char *vcm_mount_info_get_sandbox_id (VcmMountInfo *self);
const char *vcm_mount_info_get_container_id (VcmMountInfo *self);
guint64 vcm_mount_info_get_mount_id (VcmMountInfo *self);
gboolean vcm_mount_info_get_mount_id_unique (VcmMountInfo *self);
const char *vcm_mount_info_get_source (VcmMountInfo *self);
guint vcm_mount_info_get_caller_uid (VcmMountInfo *self);
gboolean vcm_mount_info_get_recovered (VcmMountInfo *self);
GVariant *vcm_mount_info_get_options (VcmMountInfo *self);
GVariant *vcm_mount_info_get_variant (VcmMountInfo *self);

G_END_DECLS
