/* vcm-client-queries: VcmClient's queries (devices, filesystems, paths,
 * the service's properties): a trio each (async, finish, sync), defined by
 * one macro over its row of the call table in vcm-client-call.c. */
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
VCM_CLIENT_TRIO (get_device_for_path,
                 VCM_CALL_GET_DEVICE_FOR_PATH,
                 VcmDeviceInfo *,
                 NULL,
                 (, const char *path),
                 (, path))

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
VCM_CLIENT_TRIO (get_device_path_and_fs_type,
                 VCM_CALL_GET_DEVICE_PATH_AND_FS_TYPE,
                 VcmFsInfo *,
                 NULL,
                 (, const char *mount_point),
                 (, mount_point))

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
VCM_CLIENT_TRIO_BOOL (is_device_mapper,
                      VCM_CALL_IS_DEVICE_MAPPER,
                      (, guint major, guint minor),
                      (, major, minor))

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
VCM_CLIENT_TRIO_BOOL (is_system_mount, VCM_CALL_IS_SYSTEM_MOUNT, (, const char *path), (, path))

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
VCM_CLIENT_TRIO_BOOL (is_host_device, VCM_CALL_IS_HOST_DEVICE, (, const char *path), (, path))

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
VCM_CLIENT_TRIO (
  describe_path, VCM_CALL_DESCRIBE_PATH, VcmPathInfo *, NULL, (, const char *path), (, path))

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
VCM_CLIENT_TRIO (
  get_service_info, VCM_CALL_GET_SERVICE_INFO, VcmServiceInfo *, NULL, (), (, VCM_INTERFACE))
