/* vcm-client-fd: VcmClient's fd-based methods, for callers in their own
 * mount and user namespaces: a source as a descriptor, the options as a
 * VcmMountOptions, the answer a VcmMountInfo (and, for OpenMount, the
 * detached mount's descriptor); a trio each, rows of vcm-client-call.c. */
#include "vcm-client-private.h"

/**
 * vcm_client_mount_rootfs_fd:
 * @self: a #VcmClient
 * @sandbox_id: the sandbox ID
 * @container_id: the container ID
 * @rootfs_fd: a file descriptor of the root filesystem's directory, opened by
 *   the caller (a real open, not `O_PATH`); it may live in the caller's own
 *   mount and user namespaces. The caller keeps it.
 * @options: (nullable): the mount's options, or %NULL for the service's defaults
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the call is done
 * @user_data: (closure): data for @callback
 *
 * The rootless form of vcm_client_mount_rootfs(): the service clones the
 * mount of @rootfs_fd (in the caller's mount namespace, walking no path as
 * the caller), applies @options, and attaches it at
 * `SHARED_DIR/@sandbox_id/@container_id/rootfs`.
 *
 * Asynchronous: @callback is called in the thread-default main context of the
 * caller; call vcm_client_mount_rootfs_fd_finish() there.
 */

/**
 * vcm_client_mount_rootfs_fd_finish:
 * @self: a #VcmClient
 * @result: the #GAsyncResult given to the callback
 * @error: return location for an error
 *
 * Finishes vcm_client_mount_rootfs_fd().
 *
 * Returns: (transfer full): the new mount (its mount point, mount ID, source,
 *   options), or %NULL on error
 */

/**
 * vcm_client_mount_rootfs_fd_sync:
 * @self: a #VcmClient
 * @sandbox_id: the sandbox ID
 * @container_id: the container ID
 * @rootfs_fd: a file descriptor of the root filesystem's directory (the
 *   caller keeps it)
 * @options: (nullable): the mount's options, or %NULL for the service's defaults
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * The synchronous form of vcm_client_mount_rootfs_fd(): blocks the calling
 * thread until the service answers.
 *
 * Returns: (transfer full): the new mount, or %NULL on error
 */
VCM_CLIENT_TRIO (
  mount_rootfs_fd,
  VCM_CALL_MOUNT_ROOTFS_FD,
  VcmMountInfo *,
  NULL,
  (, const char *sandbox_id, const char *container_id, int rootfs_fd, VcmMountOptions *options),
  (, sandbox_id, container_id, rootfs_fd, options))

/**
 * vcm_client_bind_mount_fd:
 * @self: a #VcmClient
 * @source_fd: a file descriptor of a directory or regular file, opened by the
 *   caller (not `O_PATH`); it may live in the caller's own namespaces. The
 *   caller keeps it.
 * @destination: absolute path beneath the shared directory
 * @options: (nullable): the mount's options, or %NULL for the service's defaults
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the call is done
 * @user_data: (closure): data for @callback
 *
 * The rootless form of vcm_client_bind_mount(): the service clones the mount
 * of @source_fd, applies @options and attaches it at @destination.
 *
 * Asynchronous: @callback is called in the thread-default main context of the
 * caller; call vcm_client_bind_mount_fd_finish() there.
 */

/**
 * vcm_client_bind_mount_fd_finish:
 * @self: a #VcmClient
 * @result: the #GAsyncResult given to the callback
 * @error: return location for an error
 *
 * Finishes vcm_client_bind_mount_fd().
 *
 * Returns: (transfer full): the new mount, or %NULL on error
 */

/**
 * vcm_client_bind_mount_fd_sync:
 * @self: a #VcmClient
 * @source_fd: a file descriptor of a directory or regular file (the caller
 *   keeps it)
 * @destination: absolute path beneath the shared directory
 * @options: (nullable): the mount's options, or %NULL for the service's defaults
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * The synchronous form of vcm_client_bind_mount_fd(): blocks the calling
 * thread until the service answers.
 *
 * Returns: (transfer full): the new mount, or %NULL on error
 */
VCM_CLIENT_TRIO (bind_mount_fd,
                 VCM_CALL_BIND_MOUNT_FD,
                 VcmMountInfo *,
                 NULL,
                 (, int source_fd, const char *destination, VcmMountOptions *options),
                 (, source_fd, destination, options))

/**
 * vcm_client_open_mount:
 * @self: a #VcmClient
 * @source_fd: a file descriptor of a directory or regular file, opened by the
 *   caller (not `O_PATH`); the caller keeps it
 * @options: (nullable): the mount's options (typically an ID map), or %NULL
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the call is done
 * @user_data: (closure): data for @callback
 *
 * Asks for a detached, configured mount of @source_fd, as systemd-mountfsd's
 * `MountDirectory` gives one: the caller attaches it where it likes in its
 * own mount namespace (`move_mount(2)`), or closes it. The service attaches
 * nothing and keeps nothing.
 *
 * Asynchronous: @callback is called in the thread-default main context of the
 * caller; call vcm_client_open_mount_finish() there.
 */

/**
 * vcm_client_open_mount_finish:
 * @self: a #VcmClient
 * @result: the #GAsyncResult given to the callback
 * @out_info: (out) (optional) (transfer full): what identifies the mount
 * @error: return location for an error
 *
 * Finishes vcm_client_open_mount().
 *
 * Returns: the mount's file descriptor, which the caller closes, or -1 on error
 */

/**
 * vcm_client_open_mount_sync:
 * @self: a #VcmClient
 * @source_fd: a file descriptor of a directory or regular file (the caller
 *   keeps it)
 * @options: (nullable): the mount's options, or %NULL
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @out_info: (out) (optional) (transfer full): what identifies the mount
 * @error: return location for an error
 *
 * The synchronous form of vcm_client_open_mount(): blocks the calling
 * thread until the service answers.
 *
 * Returns: the mount's file descriptor, which the caller closes, or -1 on error
 */
VCM_CLIENT_TRIO_OUT (open_mount,
                     VCM_CALL_OPEN_MOUNT,
                     int,
                     -1,
                     VcmMountInfo **,
                     out_info,
                     (, int source_fd, VcmMountOptions *options),
                     (, source_fd, options))

/* ListMounts's filter: the keys given, no key for NULL. */
static GVariant *
mounts_filter (const char *sandbox_id, const char *kind)
{
  g_auto (GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);

  if (sandbox_id != NULL)
    g_variant_dict_insert (&dict, "sandbox-id", "s", sandbox_id);
  if (kind != NULL)
    g_variant_dict_insert (&dict, "kind", "s", kind);
  return g_variant_dict_end (&dict);
}

/**
 * vcm_client_list_mounts:
 * @self: a #VcmClient
 * @sandbox_id: (nullable): only the mounts of this sandbox, or %NULL for all
 * @kind: (nullable): only mounts of this kind (`rootfs` or `bind`), or %NULL for both
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the call is done
 * @user_data: (closure): data for @callback
 *
 * Lists what the service mounted, where, from what and for whom, as the
 * kernel's mount table and the service's records hold it (also after a
 * restart: see vcm_mount_info_get_recovered()).
 *
 * Asynchronous: @callback is called in the thread-default main context of the
 * caller; call vcm_client_list_mounts_finish() there.
 */

/**
 * vcm_client_list_mounts_finish:
 * @self: a #VcmClient
 * @result: the #GAsyncResult given to the callback
 * @out_generation: (out) (optional): the generation the answer is valid for
 * @error: return location for an error
 *
 * Finishes vcm_client_list_mounts().
 *
 * Returns: (transfer container) (element-type VcmMountInfo): the mounts, or %NULL on error
 */

/**
 * vcm_client_list_mounts_sync:
 * @self: a #VcmClient
 * @sandbox_id: (nullable): only the mounts of this sandbox, or %NULL for all
 * @kind: (nullable): only mounts of this kind (`rootfs` or `bind`), or %NULL for both
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @out_generation: (out) (optional): the generation the answer is valid for
 * @error: return location for an error
 *
 * The synchronous form of vcm_client_list_mounts(): blocks the calling
 * thread until the service answers.
 *
 * Returns: (transfer container) (element-type VcmMountInfo): the mounts, or %NULL on error
 */
VCM_CLIENT_TRIO_OUT (list_mounts,
                     VCM_CALL_LIST_MOUNTS,
                     GPtrArray *,
                     NULL,
                     guint64 *,
                     out_generation,
                     (, const char *sandbox_id, const char *kind),
                     (, mounts_filter (sandbox_id, kind)))
