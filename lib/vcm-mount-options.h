/* vcm-mount-options: VcmMountOptions, the options of the fd-based methods
 * (read-only, recursive, nosuid, nodev, noexec, propagation, an ID map or a
 * user namespace), set one by one; only what is set is sent. */
#pragma once

#if !defined(VCMOUNT_INSIDE) && !defined(VCMOUNT_COMPILATION)
#error "Only <vcmount.h> can be included directly."
#endif

#include <glib-object.h>

G_BEGIN_DECLS

#define VCM_TYPE_MOUNT_OPTIONS (vcm_mount_options_get_type ())
G_DECLARE_FINAL_TYPE (VcmMountOptions, vcm_mount_options, VCM, MOUNT_OPTIONS, GObject)

VcmMountOptions *vcm_mount_options_new (void);
void vcm_mount_options_set_read_only (VcmMountOptions *self, gboolean read_only);
void vcm_mount_options_set_recursive (VcmMountOptions *self, gboolean recursive);
void vcm_mount_options_set_nosuid (VcmMountOptions *self, gboolean nosuid);
void vcm_mount_options_set_nodev (VcmMountOptions *self, gboolean nodev);
void vcm_mount_options_set_noexec (VcmMountOptions *self, gboolean noexec);
void vcm_mount_options_set_propagation (VcmMountOptions *self, const char *propagation);
void vcm_mount_options_add_uid_map (VcmMountOptions *self, guint inside, guint outside, guint count);
void vcm_mount_options_add_gid_map (VcmMountOptions *self, guint inside, guint outside, guint count);
gboolean vcm_mount_options_set_userns_fd (VcmMountOptions *self, int userns_fd, GError **error);
gboolean vcm_mount_options_set_idmap (VcmMountOptions *self, const char *idmap, GError **error);

G_END_DECLS
