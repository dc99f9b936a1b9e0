/* vcm-rootfs-set: a live GListModel of the rootfs mounts, kept equal to the
 * kernel's set by following the service's signals and generations. */
#pragma once

#if !defined(VCMOUNT_INSIDE) && !defined(VCMOUNT_COMPILATION)
#error "Only <vcmount.h> can be included directly."
#endif

#include <gio/gio.h>

#include "vcm-client.h"
#include "vcm-rootfs.h"

G_BEGIN_DECLS

#define VCM_TYPE_ROOTFS_SET (vcm_rootfs_set_get_type ())
G_DECLARE_FINAL_TYPE (VcmRootfsSet, vcm_rootfs_set, VCM, ROOTFS_SET, GObject)

VcmRootfsSet *vcm_rootfs_set_new (VcmClient *client, const char *sandbox_id);
VcmClient *vcm_rootfs_set_get_client (VcmRootfsSet *self);
const char *vcm_rootfs_set_get_sandbox_id (VcmRootfsSet *self);
guint64 vcm_rootfs_set_get_generation (VcmRootfsSet *self);
gboolean vcm_rootfs_set_get_synced (VcmRootfsSet *self);
VcmRootfs *vcm_rootfs_set_lookup (VcmRootfsSet *self, const char *sandbox_id, const char *container_id);
void vcm_rootfs_set_refresh (VcmRootfsSet *self);

G_END_DECLS
