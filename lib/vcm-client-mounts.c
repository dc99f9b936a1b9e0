/* vcm-client-mounts: VcmClient's methods that make, remove and list rootfs
 * and general bind mounts by path: a trio each (async, finish, sync),
 * defined by one macro over its row of the call table in vcm-client-call.c. */
#include "vcm-client-private.h"

/**
 * vcm_client_mount_rootfs:
 * @self: a #VcmClient
 * @sandbox_id: the sandbox ID
 * @container_id: the container ID
 * @rootfs: absolute path of the root filesystem on the host
 * @read_only: whether the mount is read-only (never writable, not even for a moment)
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the call is done
 * @user_data: (closure): data for @callback
 *
 * Bind-mounts @rootfs at `SHARED_DIR/@sandbox_id/@container_id/rootfs`.
 *
 * Asynchronous: @callback is called in the thread-default main context of the
 * caller; call vcm_client_mount_rootfs_finish() there.
 */

/**
 * vcm_client_mount_rootfs_finish:
 * @self: a #VcmClient
 * @result: the #GAsyncResult given to the callback
 * @error: return location for an error
 *
 * Finishes vcm_client_mount_rootfs().
 *
 * Returns: (transfer full): the mount point, or %NULL on error
 */

/**
 * vcm_client_mount_rootfs_sync:
 * @self: a #VcmClient
 * @sandbox_id: the sandbox ID
 * @container_id: the container ID
 * @rootfs: absolute path of the root filesystem on the host
 * @read_only: whether the mount is read-only (never writable, not even for a moment)
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * The synchronous form of vcm_client_mount_rootfs(): blocks the calling thread
 * until the service answers.
 *
 * Returns: (transfer full): the mount point, or %NULL on error
 */
VCM_CLIENT_TRIO (
  mount_rootfs,
  VCM_CALL_MOUNT_ROOTFS,
  char *,
  NULL,
  (, const char *sandbox_id, const char *container_id, const char *rootfs, gboolean read_only),
  (, sandbox_id, container_id, rootfs, read_only))

/**
 * vcm_client_unmount_rootfs:
 * @self: a #VcmClient
 * @sandbox_id: the sandbox ID
 * @container_id: the container ID
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the call is done
 * @user_data: (closure): data for @callback
 *
 * Lazily unmounts the container's rootfs and everything mounted below it.
 *
 * Asynchronous: @callback is called in the thread-default main context of the
 * caller; call vcm_client_unmount_rootfs_finish() there.
 */

/**
 * vcm_client_unmount_rootfs_finish:
 * @self: a #VcmClient
 * @result: the #GAsyncResult given to the callback
 * @error: return location for an error
 *
 * Finishes vcm_client_unmount_rootfs().
 *
 * Returns: (transfer full) (array zero-terminated=1): the mount points detached, the rootfs first, or %NULL on error
 */

/**
 * vcm_client_unmount_rootfs_sync:
 * @self: a #VcmClient
 * @sandbox_id: the sandbox ID
 * @container_id: the container ID
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * The synchronous form of vcm_client_unmount_rootfs(): blocks the calling
 * thread until the service answers.
 *
 * Returns: (transfer full) (array zero-terminated=1): the mount points detached, the rootfs first, or %NULL on error
 */
VCM_CLIENT_TRIO (unmount_rootfs,
                 VCM_CALL_UNMOUNT_ROOTFS,
                 char **,
                 NULL,
                 (, const char *sandbox_id, const char *container_id),
                 (, sandbox_id, container_id))

/**
 * vcm_client_unmount_sandbox:
 * @self: a #VcmClient
 * @sandbox_id: the sandbox ID
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the call is done
 * @user_data: (closure): data for @callback
 *
 * Unmounts the rootfs of every container of @sandbox_id.
 *
 * Asynchronous: @callback is called in the thread-default main context of the
 * caller; call vcm_client_unmount_sandbox_finish() there.
 */

/**
 * vcm_client_unmount_sandbox_finish:
 * @self: a #VcmClient
 * @result: the #GAsyncResult given to the callback
 * @error: return location for an error
 *
 * Finishes vcm_client_unmount_sandbox().
 *
 * Returns: (transfer full) (array zero-terminated=1): the container IDs whose rootfs was unmounted, or %NULL on error
 */

/**
 * vcm_client_unmount_sandbox_sync:
 * @self: a #VcmClient
 * @sandbox_id: the sandbox ID
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * The synchronous form of vcm_client_unmount_sandbox(): blocks the calling
 * thread until the service answers.
 *
 * Returns: (transfer full) (array zero-terminated=1): the container IDs whose rootfs was unmounted, or %NULL on error
 */
VCM_CLIENT_TRIO (
  unmount_sandbox, VCM_CALL_UNMOUNT_SANDBOX, char **, NULL, (, const char *sandbox_id), (, sandbox_id))

/**
 * vcm_client_list_rootfs:
 * @self: a #VcmClient
 * @sandbox_id: (nullable): the sandbox ID, or %NULL for every sandbox
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the call is done
 * @user_data: (closure): data for @callback
 *
 * Lists the rootfs mounts as the kernel's mount table holds them. To follow them, use a #VcmRootfsSet.
 *
 * Asynchronous: @callback is called in the thread-default main context of the
 * caller; call vcm_client_list_rootfs_finish() there.
 */

/**
 * vcm_client_list_rootfs_finish:
 * @self: a #VcmClient
 * @result: the #GAsyncResult given to the callback
 * @out_generation: (out) (optional): the generation the answer is valid for
 * @error: return location for an error
 *
 * Finishes vcm_client_list_rootfs().
 *
 * Returns: (transfer container) (element-type VcmRootfs): the rootfs mounts, or %NULL on error
 */

/**
 * vcm_client_list_rootfs_sync:
 * @self: a #VcmClient
 * @sandbox_id: (nullable): the sandbox ID, or %NULL for every sandbox
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @out_generation: (out) (optional): the generation the answer is valid for
 * @error: return location for an error
 *
 * The synchronous form of vcm_client_list_rootfs(): blocks the calling thread
 * until the service answers.
 *
 * Returns: (transfer container) (element-type VcmRootfs): the rootfs mounts, or %NULL on error
 */
VCM_CLIENT_TRIO_OUT (list_rootfs,
                     VCM_CALL_LIST_ROOTFS,
                     GPtrArray *,
                     NULL,
                     guint64 *,
                     out_generation,
                     (, const char *sandbox_id),
                     (, sandbox_id != NULL ? sandbox_id : ""))

/**
 * vcm_client_bind_mount:
 * @self: a #VcmClient
 * @source: absolute path of an existing file or directory
 * @destination: absolute path beneath the shared directory
 * @read_only: whether the mount is read-only
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the call is done
 * @user_data: (closure): data for @callback
 *
 * Bind-mounts @source at @destination, beneath the service's shared directory.
 *
 * Asynchronous: @callback is called in the thread-default main context of the
 * caller; call vcm_client_bind_mount_finish() there.
 */

/**
 * vcm_client_bind_mount_finish:
 * @self: a #VcmClient
 * @result: the #GAsyncResult given to the callback
 * @error: return location for an error
 *
 * Finishes vcm_client_bind_mount().
 *
 * Returns: (transfer full): the mount point, or %NULL on error
 */

/**
 * vcm_client_bind_mount_sync:
 * @self: a #VcmClient
 * @source: absolute path of an existing file or directory
 * @destination: absolute path beneath the shared directory
 * @read_only: whether the mount is read-only
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * The synchronous form of vcm_client_bind_mount(): blocks the calling thread
 * until the service answers.
 *
 * Returns: (transfer full): the mount point, or %NULL on error
 */
VCM_CLIENT_TRIO (bind_mount,
                 VCM_CALL_BIND_MOUNT,
                 char *,
                 NULL,
                 (, const char *source, const char *destination, gboolean read_only),
                 (, source, destination, read_only))

/**
 * vcm_client_unmount:
 * @self: a #VcmClient
 * @mount_point: absolute path of a mount beneath the shared directory
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the call is done
 * @user_data: (closure): data for @callback
 *
 * Lazily unmounts the mount at @mount_point and everything below it.
 *
 * Asynchronous: @callback is called in the thread-default main context of the
 * caller; call vcm_client_unmount_finish() there.
 */

/**
 * vcm_client_unmount_finish:
 * @self: a #VcmClient
 * @result: the #GAsyncResult given to the callback
 * @error: return location for an error
 *
 * Finishes vcm_client_unmount().
 *
 * Returns: (transfer full) (array zero-terminated=1): the mount points detached, @mount_point first, or %NULL on error
 */

/**
 * vcm_client_unmount_sync:
 * @self: a #VcmClient
 * @mount_point: absolute path of a mount beneath the shared directory
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * The synchronous form of vcm_client_unmount(): blocks the calling thread
 * until the service answers.
 *
 * Returns: (transfer full) (array zero-terminated=1): the mount points detached, @mount_point first, or %NULL on error
 */
VCM_CLIENT_TRIO (unmount, VCM_CALL_UNMOUNT, char **, NULL, (, const char *mount_point), (, mount_point))
