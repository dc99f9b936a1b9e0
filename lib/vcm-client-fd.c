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
void
vcm_client_mount_rootfs_fd (VcmClient *self,
                            const char *sandbox_id,
                            const char *container_id,
                            int rootfs_fd,
                            VcmMountOptions *options,
                            VcmCallFlags flags,
                            GCancellable *cancellable,
                            GAsyncReadyCallback callback,
                            gpointer user_data)
{
  g_return_if_fail (options == NULL || VCM_IS_MOUNT_OPTIONS (options));
  _vcm_client_call (self, VCM_CALL_MOUNT_ROOTFS_FD, flags, cancellable, callback, user_data, sandbox_id,
                    container_id, rootfs_fd, options);
}

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
VcmMountInfo *
vcm_client_mount_rootfs_fd_finish (VcmClient *self, GAsyncResult *result, GError **error)
{
  VcmMountInfo *value = NULL;

  _vcm_client_finish (self, result, VCM_CALL_MOUNT_ROOTFS_FD, &value, NULL, error);
  return value;
}

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
VcmMountInfo *
vcm_client_mount_rootfs_fd_sync (VcmClient *self,
                                 const char *sandbox_id,
                                 const char *container_id,
                                 int rootfs_fd,
                                 VcmMountOptions *options,
                                 VcmCallFlags flags,
                                 GCancellable *cancellable,
                                 GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  g_return_val_if_fail (options == NULL || VCM_IS_MOUNT_OPTIONS (options), NULL);
  result = _vcm_client_call_sync (self, VCM_CALL_MOUNT_ROOTFS_FD, flags, cancellable, sandbox_id,
                                  container_id, rootfs_fd, options);
  return vcm_client_mount_rootfs_fd_finish (self, result, error);
}

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
void
vcm_client_bind_mount_fd (VcmClient *self,
                          int source_fd,
                          const char *destination,
                          VcmMountOptions *options,
                          VcmCallFlags flags,
                          GCancellable *cancellable,
                          GAsyncReadyCallback callback,
                          gpointer user_data)
{
  g_return_if_fail (options == NULL || VCM_IS_MOUNT_OPTIONS (options));
  _vcm_client_call (self, VCM_CALL_BIND_MOUNT_FD, flags, cancellable, callback, user_data, source_fd,
                    destination, options);
}

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
VcmMountInfo *
vcm_client_bind_mount_fd_finish (VcmClient *self, GAsyncResult *result, GError **error)
{
  VcmMountInfo *value = NULL;

  _vcm_client_finish (self, result, VCM_CALL_BIND_MOUNT_FD, &value, NULL, error);
  return value;
}

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
VcmMountInfo *
vcm_client_bind_mount_fd_sync (VcmClient *self,
                               int source_fd,
                               const char *destination,
                               VcmMountOptions *options,
                               VcmCallFlags flags,
                               GCancellable *cancellable,
                               GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  g_return_val_if_fail (options == NULL || VCM_IS_MOUNT_OPTIONS (options), NULL);
  result = _vcm_client_call_sync (self, VCM_CALL_BIND_MOUNT_FD, flags, cancellable, source_fd,
                                  destination, options);
  return vcm_client_bind_mount_fd_finish (self, result, error);
}

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
void
vcm_client_open_mount (VcmClient *self,
                       int source_fd,
                       VcmMountOptions *options,
                       VcmCallFlags flags,
                       GCancellable *cancellable,
                       GAsyncReadyCallback callback,
                       gpointer user_data)
{
  g_return_if_fail (options == NULL || VCM_IS_MOUNT_OPTIONS (options));
  _vcm_client_call (self, VCM_CALL_OPEN_MOUNT, flags, cancellable, callback, user_data, source_fd,
                    options);
}

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
int
vcm_client_open_mount_finish (VcmClient *self,
                              GAsyncResult *result,
                              VcmMountInfo **out_info,
                              GError **error)
{
  int fd = -1;

  _vcm_client_finish (self, result, VCM_CALL_OPEN_MOUNT, &fd, out_info, error);
  return fd;
}

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
int
vcm_client_open_mount_sync (VcmClient *self,
                            int source_fd,
                            VcmMountOptions *options,
                            VcmCallFlags flags,
                            GCancellable *cancellable,
                            VcmMountInfo **out_info,
                            GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  g_return_val_if_fail (options == NULL || VCM_IS_MOUNT_OPTIONS (options), -1);
  result = _vcm_client_call_sync (self, VCM_CALL_OPEN_MOUNT, flags, cancellable, source_fd, options);
  return vcm_client_open_mount_finish (self, result, out_info, error);
}

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
void
vcm_client_list_mounts (VcmClient *self,
                        const char *sandbox_id,
                        const char *kind,
                        VcmCallFlags flags,
                        GCancellable *cancellable,
                        GAsyncReadyCallback callback,
                        gpointer user_data)
{
  _vcm_client_call (self, VCM_CALL_LIST_MOUNTS, flags, cancellable, callback, user_data,
                    mounts_filter (sandbox_id, kind));
}

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
GPtrArray *
vcm_client_list_mounts_finish (VcmClient *self,
                               GAsyncResult *result,
                               guint64 *out_generation,
                               GError **error)
{
  GPtrArray *value = NULL;

  _vcm_client_finish (self, result, VCM_CALL_LIST_MOUNTS, &value, out_generation, error);
  return value;
}

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
GPtrArray *
vcm_client_list_mounts_sync (VcmClient *self,
                             const char *sandbox_id,
                             const char *kind,
                             VcmCallFlags flags,
                             GCancellable *cancellable,
                             guint64 *out_generation,
                             GError **error)
{
  g_autoptr (GAsyncResult) result = _vcm_client_call_sync (
    self, VCM_CALL_LIST_MOUNTS, flags, cancellable, mounts_filter (sandbox_id, kind));

  return vcm_client_list_mounts_finish (self, result, out_generation, error);
}
