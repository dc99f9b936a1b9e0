/* vcm-rootfs: one container root filesystem mount, as the service lists it
 * (an item of VcmRootfsSet and of vcm_client_list_rootfs()). */
#pragma once

#if !defined(VCMOUNT_INSIDE) && !defined(VCMOUNT_COMPILATION)
#error "Only <vcmount.h> can be included directly."
#endif

#include <glib-object.h>

G_BEGIN_DECLS

#define VCM_TYPE_ROOTFS (vcm_rootfs_get_type ())
G_DECLARE_FINAL_TYPE (VcmRootfs, vcm_rootfs, VCM, ROOTFS, GObject)

VcmRootfs *vcm_rootfs_new (const char *sandbox_id,
                           const char *container_id,
                           const char *mount_point,
                           gboolean read_only);
const char *vcm_rootfs_get_sandbox_id (VcmRootfs *self);
const char *vcm_rootfs_get_container_id (VcmRootfs *self);
const char *vcm_rootfs_get_mount_point (VcmRootfs *self);
gboolean vcm_rootfs_get_read_only (VcmRootfs *self);

G_END_DECLS
