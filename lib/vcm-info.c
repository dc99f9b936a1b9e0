/* vcm-info: the value types of query answers, each made from the service's
 * reply by the client (the _vcm_*_new_from_variant() functions that
 * VCM_DEFINE_VALUE_TYPE() makes from the type's fields: GetDeviceForPath's
 * "(uus)" and GetDevicePathAndFsType's "(ss)" by position, DescribePath's
 * and GetAll's "(a{sv})" by key) and read-only afterwards. */
#include "vcm-client-private.h"
#include "vcm-value-type.h"

/**
 * VcmDeviceInfo:
 *
 * The device holding a path and the mount point it is on: the answer of
 * vcm_client_get_device_for_path().
 */
/**
 * VcmDeviceInfoClass:
 * @parent_class: the parent class
 *
 * The class of #VcmDeviceInfo; final, nothing to override.
 */
#define VCM_DEVICE_INFO_FIELDS(X, T, t) \
  X (T, t, UINT, major, "major") \
  X (T, t, UINT, minor, "minor") \
  X (T, t, STRING, mount_point, "mount-point")

VCM_DEFINE_VALUE_TYPE (VcmDeviceInfo, vcm_device_info, VCM_DEVICE_INFO_FIELDS)

/**
 * vcm_device_info_get_major:
 * @self: a #VcmDeviceInfo
 *
 * Gets the major number of the device that holds the path.
 *
 * Returns: the device's major number (as glibc's major() decodes it)
 */

/**
 * vcm_device_info_get_minor:
 * @self: a #VcmDeviceInfo
 *
 * Gets the minor number of the device that holds the path.
 *
 * Returns: the device's minor number (as glibc's minor() decodes it)
 */

/**
 * vcm_device_info_get_mount_point:
 * @self: a #VcmDeviceInfo
 *
 * Gets the mount point of the mount that holds the path, found by mount ID.
 *
 * Returns: the mount point of the mount holding the path
 */

/**
 * VcmFsInfo:
 *
 * The source device and filesystem type of a mount: the answer of
 * vcm_client_get_device_path_and_fs_type().
 */
/**
 * VcmFsInfoClass:
 * @parent_class: the parent class
 *
 * The class of #VcmFsInfo; final, nothing to override.
 */
#define VCM_FS_INFO_FIELDS(X, T, t) \
  X (T, t, STRING, device, "device") \
  X (T, t, STRING, fs_type, "fs-type")

VCM_DEFINE_VALUE_TYPE (VcmFsInfo, vcm_fs_info, VCM_FS_INFO_FIELDS)

/**
 * vcm_fs_info_get_device:
 * @self: a #VcmFsInfo
 *
 * Gets the source of the mount, as the mount table has it.
 *
 * Returns: the mount's source (a device path, or what the filesystem calls its source)
 */

/**
 * vcm_fs_info_get_fs_type:
 * @self: a #VcmFsInfo
 *
 * Gets the type of the mount's filesystem.
 *
 * Returns: the filesystem type, e.g. `ext4`
 */

/**
 * VcmPathInfo:
 *
 * All the service knows about a path: the answer of vcm_client_describe_path().
 */
/**
 * VcmPathInfoClass:
 * @parent_class: the parent class
 *
 * The class of #VcmPathInfo; final, nothing to override.
 */
/* The flags, a kind of field of its own: four booleans of the reply. */
static VcmPathFlags
flag_if (GVariantDict *dict, const char *key, VcmPathFlags flag)
{
  gboolean b = FALSE;

  return g_variant_dict_lookup (dict, key, "b", &b) && b ? flag : 0;
}

static void
read_path_flags (gpointer member, GVariantDict *dict)
{
  *(VcmPathFlags *) member = flag_if (dict, "read-only", VCM_PATH_FLAGS_READ_ONLY) |
    flag_if (dict, "device-mapper", VCM_PATH_FLAGS_DEVICE_MAPPER) |
    flag_if (dict, "system-mount", VCM_PATH_FLAGS_SYSTEM_MOUNT) |
    flag_if (dict, "host-device", VCM_PATH_FLAGS_HOST_DEVICE);
}

#define VCM_FIELD_CTYPE_PATH_FLAGS VcmPathFlags
#define VCM_FIELD_GTYPE_PATH_FLAGS VcmPathFlags
#define VCM_FIELD_VTYPE_PATH_FLAGS NULL
#define VCM_FIELD_NONE_PATH_FLAGS  VCM_PATH_FLAGS_NONE
#define VCM_FIELD_READ_PATH_FLAGS  read_path_flags

#define VCM_PATH_INFO_FIELDS(X, T, t) \
  X (T, t, UINT, major, "major") \
  X (T, t, UINT, minor, "minor") \
  X (T, t, STRING, mount_point, "mount-point") \
  X (T, t, STRING, device, "device") \
  X (T, t, STRING, fs_type, "fs-type") \
  X (T, t, UINT64, mount_id, "mount-id") \
  X (T, t, STRING, propagation, "propagation") \
  X (T, t, PATH_FLAGS, flags, NULL)

VCM_DEFINE_VALUE_TYPE (VcmPathInfo, vcm_path_info, VCM_PATH_INFO_FIELDS)

/**
 * vcm_path_info_get_major:
 * @self: a #VcmPathInfo
 *
 * Gets the major number of the device that holds the path.
 *
 * Returns: the major number of the device holding the path
 */

/**
 * vcm_path_info_get_minor:
 * @self: a #VcmPathInfo
 *
 * Gets the minor number of the device that holds the path.
 *
 * Returns: the minor number of the device holding the path
 */

/**
 * vcm_path_info_get_mount_point:
 * @self: a #VcmPathInfo
 *
 * Gets the mount point of the mount that holds the path.
 *
 * Returns: the mount point of the mount holding the path
 */

/**
 * vcm_path_info_get_device:
 * @self: a #VcmPathInfo
 *
 * Gets the source of the mount that holds the path.
 *
 * Returns: the source of that mount ("" when the service did not say)
 */

/**
 * vcm_path_info_get_fs_type:
 * @self: a #VcmPathInfo
 *
 * Gets the type of the filesystem that holds the path.
 *
 * Returns: the filesystem type of that mount ("" when the service did not say)
 */

/**
 * vcm_path_info_get_mount_id:
 * @self: a #VcmPathInfo
 *
 * Gets the kernel's ID of the mount that holds the path.
 *
 * Returns: the kernel's ID of that mount (0 when the service did not say)
 */

/**
 * vcm_path_info_get_propagation:
 * @self: a #VcmPathInfo
 *
 * Gets the propagation type of the mount that holds the path.
 *
 * Returns: the mount's propagation: `shared`, `private`, `slave` or `unbindable`
 */

/**
 * vcm_path_info_get_flags:
 * @self: a #VcmPathInfo
 *
 * Gets the yes/no answers about the path: read-only, device-mapper, system
 * mount, host device.
 *
 * Returns: the yes/no facts about the path
 */

/**
 * VcmServiceInfo:
 *
 * The service's properties, read in one call: the answer of
 * vcm_client_get_service_info().
 */
/**
 * VcmServiceInfoClass:
 * @parent_class: the parent class
 *
 * The class of #VcmServiceInfo; final, nothing to override.
 */
#define VCM_SERVICE_INFO_FIELDS(X, T, t) \
  X (T, t, STRING, version, "Version") \
  X (T, t, STRING, shared_dir, "SharedDir") \
  X (T, t, UINT64, default_shm_size, "DefaultShmSize") \
  X (T, t, UINT64, generation, "Generation")

VCM_DEFINE_VALUE_TYPE (VcmServiceInfo, vcm_service_info, VCM_SERVICE_INFO_FIELDS)

/**
 * vcm_service_info_get_version:
 * @self: a #VcmServiceInfo
 *
 * Gets the service's `Version` property.
 *
 * Returns: the version of the running service
 */

/**
 * vcm_service_info_get_shared_dir:
 * @self: a #VcmServiceInfo
 *
 * Gets the service's `SharedDir` property: every mount it makes lies beneath
 * it.
 *
 * Returns: the absolute path of the shared directory
 */

/**
 * vcm_service_info_get_default_shm_size:
 * @self: a #VcmServiceInfo
 *
 * Gets the service's `DefaultShmSize` property.
 *
 * Returns: the shm size in bytes used when host IPC is shared
 */

/**
 * vcm_service_info_get_generation:
 * @self: a #VcmServiceInfo
 *
 * Gets the service's `Generation` property as it was when the service
 * answered.
 *
 * Returns: the service's rootfs generation when it answered
 */
