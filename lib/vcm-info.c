/* vcm-info: the value types of query answers, each made from the service's
 * reply by the client (the _vcm_*_new_from_variant() functions) and read-only
 * afterwards. */
#include "vcm-client-private.h"

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
struct _VcmDeviceInfo {
  GObject parent_instance;
  guint major;
  guint minor;
  char *mount_point;
};

G_DEFINE_FINAL_TYPE (VcmDeviceInfo, vcm_device_info, G_TYPE_OBJECT)

static void
vcm_device_info_finalize (GObject *object)
{
  g_free (VCM_DEVICE_INFO (object)->mount_point);
  G_OBJECT_CLASS (vcm_device_info_parent_class)->finalize (object);
}

static void
vcm_device_info_class_init (VcmDeviceInfoClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = vcm_device_info_finalize;
}

static void
vcm_device_info_init (VcmDeviceInfo *self)
{
}

VcmDeviceInfo *
_vcm_device_info_new_from_variant (GVariant *reply)
{
  VcmDeviceInfo *self = g_object_new (VCM_TYPE_DEVICE_INFO, NULL);

  g_variant_get (reply, "(uus)", &self->major, &self->minor, &self->mount_point);
  return self;
}

/**
 * vcm_device_info_get_major:
 * @self: a #VcmDeviceInfo
 *
 * Gets the major number of the device that holds the path.
 *
 * Returns: the device's major number (as glibc's major() decodes it)
 */
guint
vcm_device_info_get_major (VcmDeviceInfo *self)
{
  g_return_val_if_fail (VCM_IS_DEVICE_INFO (self), 0);
  return self->major;
}

/**
 * vcm_device_info_get_minor:
 * @self: a #VcmDeviceInfo
 *
 * Gets the minor number of the device that holds the path.
 *
 * Returns: the device's minor number (as glibc's minor() decodes it)
 */
guint
vcm_device_info_get_minor (VcmDeviceInfo *self)
{
  g_return_val_if_fail (VCM_IS_DEVICE_INFO (self), 0);
  return self->minor;
}

/**
 * vcm_device_info_get_mount_point:
 * @self: a #VcmDeviceInfo
 *
 * Gets the mount point of the mount that holds the path, found by mount ID.
 *
 * Returns: the mount point of the mount holding the path
 */
const char *
vcm_device_info_get_mount_point (VcmDeviceInfo *self)
{
  g_return_val_if_fail (VCM_IS_DEVICE_INFO (self), NULL);
  return self->mount_point;
}

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
struct _VcmFsInfo {
  GObject parent_instance;
  char *device;
  char *fs_type;
};

G_DEFINE_FINAL_TYPE (VcmFsInfo, vcm_fs_info, G_TYPE_OBJECT)

static void
vcm_fs_info_finalize (GObject *object)
{
  VcmFsInfo *self = VCM_FS_INFO (object);

  g_free (self->device);
  g_free (self->fs_type);
  G_OBJECT_CLASS (vcm_fs_info_parent_class)->finalize (object);
}

static void
vcm_fs_info_class_init (VcmFsInfoClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = vcm_fs_info_finalize;
}

static void
vcm_fs_info_init (VcmFsInfo *self)
{
}

VcmFsInfo *
_vcm_fs_info_new_from_variant (GVariant *reply)
{
  VcmFsInfo *self = g_object_new (VCM_TYPE_FS_INFO, NULL);

  g_variant_get (reply, "(ss)", &self->device, &self->fs_type);
  return self;
}

/**
 * vcm_fs_info_get_device:
 * @self: a #VcmFsInfo
 *
 * Gets the source of the mount, as the mount table has it.
 *
 * Returns: the mount's source (a device path, or what the filesystem calls its source)
 */
const char *
vcm_fs_info_get_device (VcmFsInfo *self)
{
  g_return_val_if_fail (VCM_IS_FS_INFO (self), NULL);
  return self->device;
}

/**
 * vcm_fs_info_get_fs_type:
 * @self: a #VcmFsInfo
 *
 * Gets the type of the mount's filesystem.
 *
 * Returns: the filesystem type, e.g. `ext4`
 */
const char *
vcm_fs_info_get_fs_type (VcmFsInfo *self)
{
  g_return_val_if_fail (VCM_IS_FS_INFO (self), NULL);
  return self->fs_type;
}

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
struct _VcmPathInfo {
  GObject parent_instance;
  guint major;
  guint minor;
  char *mount_point;
  char *device;
  char *fs_type;
  guint64 mount_id;
  char *propagation;
  VcmPathFlags flags;
};

G_DEFINE_FINAL_TYPE (VcmPathInfo, vcm_path_info, G_TYPE_OBJECT)

static void
vcm_path_info_finalize (GObject *object)
{
  VcmPathInfo *self = VCM_PATH_INFO (object);

  g_free (self->mount_point);
  g_free (self->device);
  g_free (self->fs_type);
  g_free (self->propagation);
  G_OBJECT_CLASS (vcm_path_info_parent_class)->finalize (object);
}

static void
vcm_path_info_class_init (VcmPathInfoClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = vcm_path_info_finalize;
}

static void
vcm_path_info_init (VcmPathInfo *self)
{
}

static char *
dict_dup_string (GVariantDict *dict, const char *key)
{
  const char *s = NULL;

  if (!g_variant_dict_lookup (dict, key, "&s", &s))
    return g_strdup ("");
  return g_strdup (s);
}

static VcmPathFlags
dict_flag (GVariantDict *dict, const char *key, VcmPathFlags flag)
{
  gboolean b = FALSE;

  return g_variant_dict_lookup (dict, key, "b", &b) && b ? flag : 0;
}

VcmPathInfo *
_vcm_path_info_new_from_variant (GVariant *reply)
{
  VcmPathInfo *self = g_object_new (VCM_TYPE_PATH_INFO, NULL);
  g_autoptr (GVariant) description = g_variant_get_child_value (reply, 0);
  g_auto (GVariantDict) dict = G_VARIANT_DICT_INIT (description);

  g_variant_dict_lookup (&dict, "major", "u", &self->major);
  g_variant_dict_lookup (&dict, "minor", "u", &self->minor);
  g_variant_dict_lookup (&dict, "mount-id", "t", &self->mount_id);
  self->mount_point = dict_dup_string (&dict, "mount-point");
  self->device = dict_dup_string (&dict, "device");
  self->fs_type = dict_dup_string (&dict, "fs-type");
  self->propagation = dict_dup_string (&dict, "propagation");
  self->flags = dict_flag (&dict, "read-only", VCM_PATH_FLAGS_READ_ONLY) |
    dict_flag (&dict, "device-mapper", VCM_PATH_FLAGS_DEVICE_MAPPER) |
    dict_flag (&dict, "system-mount", VCM_PATH_FLAGS_SYSTEM_MOUNT) |
    dict_flag (&dict, "host-device", VCM_PATH_FLAGS_HOST_DEVICE);
  return self;
}

/**
 * vcm_path_info_get_major:
 * @self: a #VcmPathInfo
 *
 * Gets the major number of the device that holds the path.
 *
 * Returns: the major number of the device holding the path
 */
guint
vcm_path_info_get_major (VcmPathInfo *self)
{
  g_return_val_if_fail (VCM_IS_PATH_INFO (self), 0);
  return self->major;
}

/**
 * vcm_path_info_get_minor:
 * @self: a #VcmPathInfo
 *
 * Gets the minor number of the device that holds the path.
 *
 * Returns: the minor number of the device holding the path
 */
guint
vcm_path_info_get_minor (VcmPathInfo *self)
{
  g_return_val_if_fail (VCM_IS_PATH_INFO (self), 0);
  return self->minor;
}

/**
 * vcm_path_info_get_mount_point:
 * @self: a #VcmPathInfo
 *
 * Gets the mount point of the mount that holds the path.
 *
 * Returns: the mount point of the mount holding the path
 */
const char *
vcm_path_info_get_mount_point (VcmPathInfo *self)
{
  g_return_val_if_fail (VCM_IS_PATH_INFO (self), NULL);
  return self->mount_point;
}

/**
 * vcm_path_info_get_device:
 * @self: a #VcmPathInfo
 *
 * Gets the source of the mount that holds the path.
 *
 * Returns: the source of that mount ("" when the service did not say)
 */
const char *
vcm_path_info_get_device (VcmPathInfo *self)
{
  g_return_val_if_fail (VCM_IS_PATH_INFO (self), NULL);
  return self->device;
}

/**
 * vcm_path_info_get_fs_type:
 * @self: a #VcmPathInfo
 *
 * Gets the type of the filesystem that holds the path.
 *
 * Returns: the filesystem type of that mount ("" when the service did not say)
 */
const char *
vcm_path_info_get_fs_type (VcmPathInfo *self)
{
  g_return_val_if_fail (VCM_IS_PATH_INFO (self), NULL);
  return self->fs_type;
}

/**
 * vcm_path_info_get_mount_id:
 * @self: a #VcmPathInfo
 *
 * Gets the kernel's ID of the mount that holds the path.
 *
 * Returns: the kernel's ID of that mount (0 when the service did not say)
 */
guint64
vcm_path_info_get_mount_id (VcmPathInfo *self)
{
  g_return_val_if_fail (VCM_IS_PATH_INFO (self), 0);
  return self->mount_id;
}

/**
 * vcm_path_info_get_propagation:
 * @self: a #VcmPathInfo
 *
 * Gets the propagation type of the mount that holds the path.
 *
 * Returns: the mount's propagation: `shared`, `private`, `slave` or `unbindable`
 */
const char *
vcm_path_info_get_propagation (VcmPathInfo *self)
{
  g_return_val_if_fail (VCM_IS_PATH_INFO (self), NULL);
  return self->propagation;
}

/**
 * vcm_path_info_get_flags:
 * @self: a #VcmPathInfo
 *
 * Gets the yes/no answers about the path: read-only, device-mapper, system
 * mount, host device.
 *
 * Returns: the yes/no facts about the path
 */
VcmPathFlags
vcm_path_info_get_flags (VcmPathInfo *self)
{
  g_return_val_if_fail (VCM_IS_PATH_INFO (self), VCM_PATH_FLAGS_NONE);
  return self->flags;
}

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
struct _VcmServiceInfo {
  GObject parent_instance;
  char *version;
  char *shared_dir;
  guint64 default_shm_size;
  guint64 generation;
};

G_DEFINE_FINAL_TYPE (VcmServiceInfo, vcm_service_info, G_TYPE_OBJECT)

static void
vcm_service_info_finalize (GObject *object)
{
  VcmServiceInfo *self = VCM_SERVICE_INFO (object);

  g_free (self->version);
  g_free (self->shared_dir);
  G_OBJECT_CLASS (vcm_service_info_parent_class)->finalize (object);
}

static void
vcm_service_info_class_init (VcmServiceInfoClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = vcm_service_info_finalize;
}

static void
vcm_service_info_init (VcmServiceInfo *self)
{
}

VcmServiceInfo *
_vcm_service_info_new_from_variant (GVariant *reply)
{
  VcmServiceInfo *self = g_object_new (VCM_TYPE_SERVICE_INFO, NULL);
  g_autoptr (GVariant) props = g_variant_get_child_value (reply, 0);
  g_auto (GVariantDict) dict = G_VARIANT_DICT_INIT (props);

  self->version = dict_dup_string (&dict, "Version");
  self->shared_dir = dict_dup_string (&dict, "SharedDir");
  g_variant_dict_lookup (&dict, "DefaultShmSize", "t", &self->default_shm_size);
  g_variant_dict_lookup (&dict, "Generation", "t", &self->generation);
  return self;
}

/**
 * vcm_service_info_get_version:
 * @self: a #VcmServiceInfo
 *
 * Gets the service's `Version` property.
 *
 * Returns: the version of the running service
 */
const char *
vcm_service_info_get_version (VcmServiceInfo *self)
{
  g_return_val_if_fail (VCM_IS_SERVICE_INFO (self), NULL);
  return self->version;
}

/**
 * vcm_service_info_get_shared_dir:
 * @self: a #VcmServiceInfo
 *
 * Gets the service's `SharedDir` property: every mount it makes lies beneath
 * it.
 *
 * Returns: the absolute path of the shared directory
 */
const char *
vcm_service_info_get_shared_dir (VcmServiceInfo *self)
{
  g_return_val_if_fail (VCM_IS_SERVICE_INFO (self), NULL);
  return self->shared_dir;
}

/**
 * vcm_service_info_get_default_shm_size:
 * @self: a #VcmServiceInfo
 *
 * Gets the service's `DefaultShmSize` property.
 *
 * Returns: the shm size in bytes used when host IPC is shared
 */
guint64
vcm_service_info_get_default_shm_size (VcmServiceInfo *self)
{
  g_return_val_if_fail (VCM_IS_SERVICE_INFO (self), 0);
  return self->default_shm_size;
}

/**
 * vcm_service_info_get_generation:
 * @self: a #VcmServiceInfo
 *
 * Gets the service's `Generation` property as it was when the service
 * answered.
 *
 * Returns: the service's rootfs generation when it answered
 */
guint64
vcm_service_info_get_generation (VcmServiceInfo *self)
{
  g_return_val_if_fail (VCM_IS_SERVICE_INFO (self), 0);
  return self->generation;
}
