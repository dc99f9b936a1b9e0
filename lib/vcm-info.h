/* vcm-info: D-Bus-free value types for what the service's queries return:
 * VcmDeviceInfo (GetDeviceForPath), VcmFsInfo (GetDevicePathAndFsType),
 * VcmPathInfo (DescribePath) and VcmServiceInfo (the service's properties). */
#pragma once

#if !defined(VCMOUNT_INSIDE) && !defined(VCMOUNT_COMPILATION)
#error "Only <vcmount.h> can be included directly."
#endif

#include <glib-object.h>

G_BEGIN_DECLS

#define VCM_TYPE_DEVICE_INFO (vcm_device_info_get_type ())
G_DECLARE_FINAL_TYPE (VcmDeviceInfo, vcm_device_info, VCM, DEVICE_INFO, GObject)

guint vcm_device_info_get_major (VcmDeviceInfo *self);
guint vcm_device_info_get_minor (VcmDeviceInfo *self);
const char *vcm_device_info_get_mount_point (VcmDeviceInfo *self);

#define VCM_TYPE_FS_INFO (vcm_fs_info_get_type ())
G_DECLARE_FINAL_TYPE (VcmFsInfo, vcm_fs_info, VCM, FS_INFO, GObject)

const char *vcm_fs_info_get_device (VcmFsInfo *self);
const char *vcm_fs_info_get_fs_type (VcmFsInfo *self);

/**
 * VcmPathFlags:
 * @VCM_PATH_FLAGS_NONE: none of the below
 * @VCM_PATH_FLAGS_READ_ONLY: the mount holding the path is read-only
 * @VCM_PATH_FLAGS_DEVICE_MAPPER: the device is a device-mapper device
 * @VCM_PATH_FLAGS_SYSTEM_MOUNT: the path is `/proc`, `/sys` or below them
 * @VCM_PATH_FLAGS_HOST_DEVICE: the path is `/dev`, or below it and not a regular file
 *
 * The yes/no answers of vcm_client_describe_path().
 */
typedef enum /*< flags >*/ {
  VCM_PATH_FLAGS_NONE = 0,
  VCM_PATH_FLAGS_READ_ONLY = 1 << 0,
  VCM_PATH_FLAGS_DEVICE_MAPPER = 1 << 1,
  VCM_PATH_FLAGS_SYSTEM_MOUNT = 1 << 2,
  VCM_PATH_FLAGS_HOST_DEVICE = 1 << 3,
} VcmPathFlags;

#define VCM_TYPE_PATH_INFO (vcm_path_info_get_type ())
G_DECLARE_FINAL_TYPE (VcmPathInfo, vcm_path_info, VCM, PATH_INFO, GObject)

guint vcm_path_info_get_major (VcmPathInfo *self);
guint vcm_path_info_get_minor (VcmPathInfo *self);
const char *vcm_path_info_get_mount_point (VcmPathInfo *self);
const char *vcm_path_info_get_device (VcmPathInfo *self);
const char *vcm_path_info_get_fs_type (VcmPathInfo *self);
guint64 vcm_path_info_get_mount_id (VcmPathInfo *self);
const char *vcm_path_info_get_propagation (VcmPathInfo *self);
VcmPathFlags vcm_path_info_get_flags (VcmPathInfo *self);

#define VCM_TYPE_SERVICE_INFO (vcm_service_info_get_type ())
G_DECLARE_FINAL_TYPE (VcmServiceInfo, vcm_service_info, VCM, SERVICE_INFO, GObject)

const char *vcm_service_info_get_version (VcmServiceInfo *self);
const char *vcm_service_info_get_shared_dir (VcmServiceInfo *self);
guint64 vcm_service_info_get_default_shm_size (VcmServiceInfo *self);
guint64 vcm_service_info_get_generation (VcmServiceInfo *self);

G_END_DECLS
