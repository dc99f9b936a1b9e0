/* vcm-client-queries: VcmClient's queries (devices, filesystems, paths,
 * the service's properties): a trio each (async, finish, sync), each a row
 * of the call table in vcm-client-call.c. */
#include "vcm-client-private.h"

/**
 * vcm_client_get_device_for_path:
 * @self: a #VcmClient
 * @path: an absolute path
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the call is done
 * @user_data: (closure): data for @callback
 *
 * Asks which device holds @path and on which mount point.
 *
 * Asynchronous: @callback is called in the thread-default main context of the
 * caller; call vcm_client_get_device_for_path_finish() there.
 */
void
vcm_client_get_device_for_path (VcmClient *self,
                                const char *path,
                                VcmCallFlags flags,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data)
{
  _vcm_client_call (self, VCM_CALL_GET_DEVICE_FOR_PATH, flags, cancellable, callback, user_data, path);
}

/**
 * vcm_client_get_device_for_path_finish:
 * @self: a #VcmClient
 * @result: the #GAsyncResult given to the callback
 * @error: return location for an error
 *
 * Finishes vcm_client_get_device_for_path().
 *
 * Returns: (transfer full): the device and mount point, or %NULL on error
 */
VcmDeviceInfo *
vcm_client_get_device_for_path_finish (VcmClient *self, GAsyncResult *result, GError **error)
{
  VcmDeviceInfo *value = NULL;

  _vcm_client_finish (self, result, VCM_CALL_GET_DEVICE_FOR_PATH, &value, NULL, error);
  return value;
}

/**
 * vcm_client_get_device_for_path_sync:
 * @self: a #VcmClient
 * @path: an absolute path
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * The synchronous form of vcm_client_get_device_for_path(): blocks the calling
 * thread until the service answers.
 *
 * Returns: (transfer full): the device and mount point, or %NULL on error
 */
VcmDeviceInfo *
vcm_client_get_device_for_path_sync (
  VcmClient *self, const char *path, VcmCallFlags flags, GCancellable *cancellable, GError **error)
{
  g_autoptr (GAsyncResult) result =
    _vcm_client_call_sync (self, VCM_CALL_GET_DEVICE_FOR_PATH, flags, cancellable, path);

  return vcm_client_get_device_for_path_finish (self, result, error);
}

/**
 * vcm_client_get_device_path_and_fs_type:
 * @self: a #VcmClient
 * @mount_point: the mount point of a mount
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the call is done
 * @user_data: (closure): data for @callback
 *
 * Asks for the source device and filesystem type of the mount at @mount_point.
 *
 * Asynchronous: @callback is called in the thread-default main context of the
 * caller; call vcm_client_get_device_path_and_fs_type_finish() there.
 */
void
vcm_client_get_device_path_and_fs_type (VcmClient *self,
                                        const char *mount_point,
                                        VcmCallFlags flags,
                                        GCancellable *cancellable,
                                        GAsyncReadyCallback callback,
                                        gpointer user_data)
{
  _vcm_client_call (self, VCM_CALL_GET_DEVICE_PATH_AND_FS_TYPE, flags, cancellable, callback, user_data,
                    mount_point);
}

/**
 * vcm_client_get_device_path_and_fs_type_finish:
 * @self: a #VcmClient
 * @result: the #GAsyncResult given to the callback
 * @error: return location for an error
 *
 * Finishes vcm_client_get_device_path_and_fs_type().
 *
 * Returns: (transfer full): the device and filesystem type, or %NULL on error
 */
VcmFsInfo *
vcm_client_get_device_path_and_fs_type_finish (VcmClient *self, GAsyncResult *result, GError **error)
{
  VcmFsInfo *value = NULL;

  _vcm_client_finish (self, result, VCM_CALL_GET_DEVICE_PATH_AND_FS_TYPE, &value, NULL, error);
  return value;
}

/**
 * vcm_client_get_device_path_and_fs_type_sync:
 * @self: a #VcmClient
 * @mount_point: the mount point of a mount
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * The synchronous form of vcm_client_get_device_path_and_fs_type(): blocks the
 * calling thread until the service answers.
 *
 * Returns: (transfer full): the device and filesystem type, or %NULL on error
 */
VcmFsInfo *
vcm_client_get_device_path_and_fs_type_sync (VcmClient *self,
                                             const char *mount_point,
                                             VcmCallFlags flags,
                                             GCancellable *cancellable,
                                             GError **error)
{
  g_autoptr (GAsyncResult) result =
    _vcm_client_call_sync (self, VCM_CALL_GET_DEVICE_PATH_AND_FS_TYPE, flags, cancellable, mount_point);

  return vcm_client_get_device_path_and_fs_type_finish (self, result, error);
}

/**
 * vcm_client_is_device_mapper:
 * @self: a #VcmClient
 * @major: the major number of a block device
 * @minor: its minor number
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the call is done
 * @user_data: (closure): data for @callback
 *
 * Asks whether the block device @major:@minor is a device-mapper device.
 *
 * Asynchronous: @callback is called in the thread-default main context of the
 * caller; call vcm_client_is_device_mapper_finish() there.
 */
void
vcm_client_is_device_mapper (VcmClient *self,
                             guint major,
                             guint minor,
                             VcmCallFlags flags,
                             GCancellable *cancellable,
                             GAsyncReadyCallback callback,
                             gpointer user_data)
{
  _vcm_client_call (self, VCM_CALL_IS_DEVICE_MAPPER, flags, cancellable, callback, user_data, major,
                    minor);
}

/**
 * vcm_client_is_device_mapper_finish:
 * @self: a #VcmClient
 * @result: the #GAsyncResult given to the callback
 * @out_result: (out): the answer
 * @error: return location for an error
 *
 * Finishes vcm_client_is_device_mapper().
 *
 * Returns: %TRUE on success, %FALSE on error
 */
gboolean
vcm_client_is_device_mapper_finish (VcmClient *self,
                                    GAsyncResult *result,
                                    gboolean *out_result,
                                    GError **error)
{
  return _vcm_client_finish (self, result, VCM_CALL_IS_DEVICE_MAPPER, out_result, NULL, error);
}

/**
 * vcm_client_is_device_mapper_sync:
 * @self: a #VcmClient
 * @major: the major number of a block device
 * @minor: its minor number
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @out_result: (out): the answer
 * @error: return location for an error
 *
 * The synchronous form of vcm_client_is_device_mapper(): blocks the calling
 * thread until the service answers.
 *
 * Returns: %TRUE on success, %FALSE on error
 */
gboolean
vcm_client_is_device_mapper_sync (VcmClient *self,
                                  guint major,
                                  guint minor,
                                  VcmCallFlags flags,
                                  GCancellable *cancellable,
                                  gboolean *out_result,
                                  GError **error)
{
  g_autoptr (GAsyncResult) result =
    _vcm_client_call_sync (self, VCM_CALL_IS_DEVICE_MAPPER, flags, cancellable, major, minor);

  return vcm_client_is_device_mapper_finish (self, result, out_result, error);
}

/**
 * vcm_client_is_system_mount:
 * @self: a #VcmClient
 * @path: an absolute path
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the call is done
 * @user_data: (closure): data for @callback
 *
 * Asks whether @path is `/proc`, `/sys` or below them.
 *
 * Asynchronous: @callback is called in the thread-default main context of the
 * caller; call vcm_client_is_system_mount_finish() there.
 */
void
vcm_client_is_system_mount (VcmClient *self,
                            const char *path,
                            VcmCallFlags flags,
                            GCancellable *cancellable,
                            GAsyncReadyCallback callback,
                            gpointer user_data)
{
  _vcm_client_call (self, VCM_CALL_IS_SYSTEM_MOUNT, flags, cancellable, callback, user_data, path);
}

/**
 * vcm_client_is_system_mount_finish:
 * @self: a #VcmClient
 * @result: the #GAsyncResult given to the callback
 * @out_result: (out): the answer
 * @error: return location for an error
 *
 * Finishes vcm_client_is_system_mount().
 *
 * Returns: %TRUE on success, %FALSE on error
 */
gboolean
vcm_client_is_system_mount_finish (VcmClient *self,
                                   GAsyncResult *result,
                                   gboolean *out_result,
                                   GError **error)
{
  return _vcm_client_finish (self, result, VCM_CALL_IS_SYSTEM_MOUNT, out_result, NULL, error);
}

/**
 * vcm_client_is_system_mount_sync:
 * @self: a #VcmClient
 * @path: an absolute path
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @out_result: (out): the answer
 * @error: return location for an error
 *
 * The synchronous form of vcm_client_is_system_mount(): blocks the calling
 * thread until the service answers.
 *
 * Returns: %TRUE on success, %FALSE on error
 */
gboolean
vcm_client_is_system_mount_sync (VcmClient *self,
                                 const char *path,
                                 VcmCallFlags flags,
                                 GCancellable *cancellable,
                                 gboolean *out_result,
                                 GError **error)
{
  g_autoptr (GAsyncResult) result =
    _vcm_client_call_sync (self, VCM_CALL_IS_SYSTEM_MOUNT, flags, cancellable, path);

  return vcm_client_is_system_mount_finish (self, result, out_result, error);
}

/**
 * vcm_client_is_host_device:
 * @self: a #VcmClient
 * @path: an absolute path
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the call is done
 * @user_data: (closure): data for @callback
 *
 * Asks whether @path is `/dev`, or below it and not a regular file.
 *
 * Asynchronous: @callback is called in the thread-default main context of the
 * caller; call vcm_client_is_host_device_finish() there.
 */
void
vcm_client_is_host_device (VcmClient *self,
                           const char *path,
                           VcmCallFlags flags,
                           GCancellable *cancellable,
                           GAsyncReadyCallback callback,
                           gpointer user_data)
{
  _vcm_client_call (self, VCM_CALL_IS_HOST_DEVICE, flags, cancellable, callback, user_data, path);
}

/**
 * vcm_client_is_host_device_finish:
 * @self: a #VcmClient
 * @result: the #GAsyncResult given to the callback
 * @out_result: (out): the answer
 * @error: return location for an error
 *
 * Finishes vcm_client_is_host_device().
 *
 * Returns: %TRUE on success, %FALSE on error
 */
gboolean
vcm_client_is_host_device_finish (VcmClient *self,
                                  GAsyncResult *result,
                                  gboolean *out_result,
                                  GError **error)
{
  return _vcm_client_finish (self, result, VCM_CALL_IS_HOST_DEVICE, out_result, NULL, error);
}

/**
 * vcm_client_is_host_device_sync:
 * @self: a #VcmClient
 * @path: an absolute path
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @out_result: (out): the answer
 * @error: return location for an error
 *
 * The synchronous form of vcm_client_is_host_device(): blocks the calling
 * thread until the service answers.
 *
 * Returns: %TRUE on success, %FALSE on error
 */
gboolean
vcm_client_is_host_device_sync (VcmClient *self,
                                const char *path,
                                VcmCallFlags flags,
                                GCancellable *cancellable,
                                gboolean *out_result,
                                GError **error)
{
  g_autoptr (GAsyncResult) result =
    _vcm_client_call_sync (self, VCM_CALL_IS_HOST_DEVICE, flags, cancellable, path);

  return vcm_client_is_host_device_finish (self, result, out_result, error);
}

/**
 * vcm_client_describe_path:
 * @self: a #VcmClient
 * @path: an absolute path
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the call is done
 * @user_data: (closure): data for @callback
 *
 * Asks for all the service knows about @path in one call.
 *
 * Asynchronous: @callback is called in the thread-default main context of the
 * caller; call vcm_client_describe_path_finish() there.
 */
void
vcm_client_describe_path (VcmClient *self,
                          const char *path,
                          VcmCallFlags flags,
                          GCancellable *cancellable,
                          GAsyncReadyCallback callback,
                          gpointer user_data)
{
  _vcm_client_call (self, VCM_CALL_DESCRIBE_PATH, flags, cancellable, callback, user_data, path);
}

/**
 * vcm_client_describe_path_finish:
 * @self: a #VcmClient
 * @result: the #GAsyncResult given to the callback
 * @error: return location for an error
 *
 * Finishes vcm_client_describe_path().
 *
 * Returns: (transfer full): what the service knows, or %NULL on error
 */
VcmPathInfo *
vcm_client_describe_path_finish (VcmClient *self, GAsyncResult *result, GError **error)
{
  VcmPathInfo *value = NULL;

  _vcm_client_finish (self, result, VCM_CALL_DESCRIBE_PATH, &value, NULL, error);
  return value;
}

/**
 * vcm_client_describe_path_sync:
 * @self: a #VcmClient
 * @path: an absolute path
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * The synchronous form of vcm_client_describe_path(): blocks the calling
 * thread until the service answers.
 *
 * Returns: (transfer full): what the service knows, or %NULL on error
 */
VcmPathInfo *
vcm_client_describe_path_sync (
  VcmClient *self, const char *path, VcmCallFlags flags, GCancellable *cancellable, GError **error)
{
  g_autoptr (GAsyncResult) result =
    _vcm_client_call_sync (self, VCM_CALL_DESCRIBE_PATH, flags, cancellable, path);

  return vcm_client_describe_path_finish (self, result, error);
}

/**
 * vcm_client_get_service_info:
 * @self: a #VcmClient
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the call is done
 * @user_data: (closure): data for @callback
 *
 * Reads the service's properties (Version, SharedDir, DefaultShmSize, Generation) in one call.
 *
 * Asynchronous: @callback is called in the thread-default main context of the
 * caller; call vcm_client_get_service_info_finish() there.
 */
void
vcm_client_get_service_info (VcmClient *self,
                             VcmCallFlags flags,
                             GCancellable *cancellable,
                             GAsyncReadyCallback callback,
                             gpointer user_data)
{
  _vcm_client_call (self, VCM_CALL_GET_SERVICE_INFO, flags, cancellable, callback, user_data,
                    VCM_INTERFACE);
}

/**
 * vcm_client_get_service_info_finish:
 * @self: a #VcmClient
 * @result: the #GAsyncResult given to the callback
 * @error: return location for an error
 *
 * Finishes vcm_client_get_service_info().
 *
 * Returns: (transfer full): the properties, or %NULL on error
 */
VcmServiceInfo *
vcm_client_get_service_info_finish (VcmClient *self, GAsyncResult *result, GError **error)
{
  VcmServiceInfo *value = NULL;

  _vcm_client_finish (self, result, VCM_CALL_GET_SERVICE_INFO, &value, NULL, error);
  return value;
}

/**
 * vcm_client_get_service_info_sync:
 * @self: a #VcmClient
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * The synchronous form of vcm_client_get_service_info(): blocks the calling
 * thread until the service answers.
 *
 * Returns: (transfer full): the properties, or %NULL on error
 */
VcmServiceInfo *
vcm_client_get_service_info_sync (VcmClient *self,
                                  VcmCallFlags flags,
                                  GCancellable *cancellable,
                                  GError **error)
{
  g_autoptr (GAsyncResult) result =
    _vcm_client_call_sync (self, VCM_CALL_GET_SERVICE_INFO, flags, cancellable, VCM_INTERFACE);

  return vcm_client_get_service_info_finish (self, result, error);
}
