/* vcm-client: a client of the vc-mount service (org.vc.Mount): every method,
 * synchronous and asynchronous, with its errors in VCM_CLIENT_ERROR. */
#pragma once

#if !defined(VCMOUNT_INSIDE) && !defined(VCMOUNT_COMPILATION)
#error "Only <vcmount.h> can be included directly."
#endif

#include <gio/gio.h>

#include "vcm-info.h"
#include "vcm-mount-info.h"
#include "vcm-mount-options.h"
#include "vcm-rootfs.h"

G_BEGIN_DECLS

/**
 * VcmCallFlags:
 * @VCM_CALL_FLAGS_NONE: no flags
 * @VCM_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION: polkit may ask the user
 *   (a password, through an authentication agent) before it answers; without
 *   it a call that polkit would allow after authentication fails with
 *   %VCM_CLIENT_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED (call again with
 *   this flag to let polkit ask). Give the call a long timeout (see
 *   #VcmClient:timeout-msec): a person types the password.
 *
 * Flags of a call to the service.
 */
typedef enum /*< flags >*/ {
  VCM_CALL_FLAGS_NONE = 0,
  VCM_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION = 1 << 0,
} VcmCallFlags;

#define VCM_TYPE_CLIENT (vcm_client_get_type ())
G_DECLARE_FINAL_TYPE (VcmClient, vcm_client, VCM, CLIENT, GObject)

void vcm_client_new (GDBusConnection *connection,
                     GCancellable *cancellable,
                     GAsyncReadyCallback callback,
                     gpointer user_data);
VcmClient *vcm_client_new_finish (GAsyncResult *result, GError **error);
VcmClient *vcm_client_new_sync (GDBusConnection *connection, GCancellable *cancellable, GError **error);

GDBusConnection *vcm_client_get_connection (VcmClient *self);
char *vcm_client_dup_name_owner (VcmClient *self);
int vcm_client_get_timeout_msec (VcmClient *self);
void vcm_client_set_timeout_msec (VcmClient *self, int timeout_msec);

void vcm_client_mount_rootfs (VcmClient *self,
                              const char *sandbox_id,
                              const char *container_id,
                              const char *rootfs,
                              gboolean read_only,
                              VcmCallFlags flags,
                              GCancellable *cancellable,
                              GAsyncReadyCallback callback,
                              gpointer user_data);
char *vcm_client_mount_rootfs_finish (VcmClient *self, GAsyncResult *result, GError **error);
char *vcm_client_mount_rootfs_sync (VcmClient *self,
                                    const char *sandbox_id,
                                    const char *container_id,
                                    const char *rootfs,
                                    gboolean read_only,
                                    VcmCallFlags flags,
                                    GCancellable *cancellable,
                                    GError **error);

void vcm_client_unmount_rootfs (VcmClient *self,
                                const char *sandbox_id,
                                const char *container_id,
                                VcmCallFlags flags,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data);
char **vcm_client_unmount_rootfs_finish (VcmClient *self, GAsyncResult *result, GError **error);
char **vcm_client_unmount_rootfs_sync (VcmClient *self,
                                       const char *sandbox_id,
                                       const char *container_id,
                                       VcmCallFlags flags,
                                       GCancellable *cancellable,
                                       GError **error);

void vcm_client_unmount_sandbox (VcmClient *self,
                                 const char *sandbox_id,
                                 VcmCallFlags flags,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data);
char **vcm_client_unmount_sandbox_finish (VcmClient *self, GAsyncResult *result, GError **error);
char **vcm_client_unmount_sandbox_sync (VcmClient *self,
                                        const char *sandbox_id,
                                        VcmCallFlags flags,
                                        GCancellable *cancellable,
                                        GError **error);

void vcm_client_list_rootfs (VcmClient *self,
                             const char *sandbox_id,
                             VcmCallFlags flags,
                             GCancellable *cancellable,
                             GAsyncReadyCallback callback,
                             gpointer user_data);
GPtrArray *vcm_client_list_rootfs_finish (VcmClient *self,
                                          GAsyncResult *result,
                                          guint64 *out_generation,
                                          GError **error);
GPtrArray *vcm_client_list_rootfs_sync (VcmClient *self,
                                        const char *sandbox_id,
                                        VcmCallFlags flags,
                                        GCancellable *cancellable,
                                        guint64 *out_generation,
                                        GError **error);

void vcm_client_bind_mount (VcmClient *self,
                            const char *source,
                            const char *destination,
                            gboolean read_only,
                            VcmCallFlags flags,
                            GCancellable *cancellable,
                            GAsyncReadyCallback callback,
                            gpointer user_data);
char *vcm_client_bind_mount_finish (VcmClient *self, GAsyncResult *result, GError **error);
char *vcm_client_bind_mount_sync (VcmClient *self,
                                  const char *source,
                                  const char *destination,
                                  gboolean read_only,
                                  VcmCallFlags flags,
                                  GCancellable *cancellable,
                                  GError **error);

void vcm_client_unmount (VcmClient *self,
                         const char *mount_point,
                         VcmCallFlags flags,
                         GCancellable *cancellable,
                         GAsyncReadyCallback callback,
                         gpointer user_data);
char **vcm_client_unmount_finish (VcmClient *self, GAsyncResult *result, GError **error);
char **vcm_client_unmount_sync (VcmClient *self,
                                const char *mount_point,
                                VcmCallFlags flags,
                                GCancellable *cancellable,
                                GError **error);

void vcm_client_get_device_for_path (VcmClient *self,
                                     const char *path,
                                     VcmCallFlags flags,
                                     GCancellable *cancellable,
                                     GAsyncReadyCallback callback,
                                     gpointer user_data);
VcmDeviceInfo *
vcm_client_get_device_for_path_finish (VcmClient *self, GAsyncResult *result, GError **error);
VcmDeviceInfo *vcm_client_get_device_for_path_sync (
  VcmClient *self, const char *path, VcmCallFlags flags, GCancellable *cancellable, GError **error);

void vcm_client_get_device_path_and_fs_type (VcmClient *self,
                                             const char *mount_point,
                                             VcmCallFlags flags,
                                             GCancellable *cancellable,
                                             GAsyncReadyCallback callback,
                                             gpointer user_data);
VcmFsInfo *
vcm_client_get_device_path_and_fs_type_finish (VcmClient *self, GAsyncResult *result, GError **error);
VcmFsInfo *vcm_client_get_device_path_and_fs_type_sync (VcmClient *self,
                                                        const char *mount_point,
                                                        VcmCallFlags flags,
                                                        GCancellable *cancellable,
                                                        GError **error);

void vcm_client_is_device_mapper (VcmClient *self,
                                  guint major,
                                  guint minor,
                                  VcmCallFlags flags,
                                  GCancellable *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data);
gboolean vcm_client_is_device_mapper_finish (VcmClient *self,
                                             GAsyncResult *result,
                                             gboolean *out_result,
                                             GError **error);
gboolean vcm_client_is_device_mapper_sync (VcmClient *self,
                                           guint major,
                                           guint minor,
                                           VcmCallFlags flags,
                                           GCancellable *cancellable,
                                           gboolean *out_result,
                                           GError **error);

void vcm_client_is_system_mount (VcmClient *self,
                                 const char *path,
                                 VcmCallFlags flags,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data);
gboolean vcm_client_is_system_mount_finish (VcmClient *self,
                                            GAsyncResult *result,
                                            gboolean *out_result,
                                            GError **error);
gboolean vcm_client_is_system_mount_sync (VcmClient *self,
                                          const char *path,
                                          VcmCallFlags flags,
                                          GCancellable *cancellable,
                                          gboolean *out_result,
                                          GError **error);

void vcm_client_is_host_device (VcmClient *self,
                                const char *path,
                                VcmCallFlags flags,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data);
gboolean vcm_client_is_host_device_finish (VcmClient *self,
                                           GAsyncResult *result,
                                           gboolean *out_result,
                                           GError **error);
gboolean vcm_client_is_host_device_sync (VcmClient *self,
                                         const char *path,
                                         VcmCallFlags flags,
                                         GCancellable *cancellable,
                                         gboolean *out_result,
                                         GError **error);

void vcm_client_describe_path (VcmClient *self,
                               const char *path,
                               VcmCallFlags flags,
                               GCancellable *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer user_data);
VcmPathInfo *vcm_client_describe_path_finish (VcmClient *self, GAsyncResult *result, GError **error);
VcmPathInfo *vcm_client_describe_path_sync (
  VcmClient *self, const char *path, VcmCallFlags flags, GCancellable *cancellable, GError **error);

void vcm_client_get_service_info (VcmClient *self,
                                  VcmCallFlags flags,
                                  GCancellable *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data);
VcmServiceInfo *
vcm_client_get_service_info_finish (VcmClient *self, GAsyncResult *result, GError **error);
VcmServiceInfo *vcm_client_get_service_info_sync (VcmClient *self,
                                                  VcmCallFlags flags,
                                                  GCancellable *cancellable,
                                                  GError **error);
void vcm_client_mount_rootfs_fd (VcmClient *self,
                                 const char *sandbox_id,
                                 const char *container_id,
                                 int rootfs_fd,
                                 VcmMountOptions *options,
                                 VcmCallFlags flags,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data);
VcmMountInfo *vcm_client_mount_rootfs_fd_finish (VcmClient *self, GAsyncResult *result, GError **error);
VcmMountInfo *vcm_client_mount_rootfs_fd_sync (VcmClient *self,
                                               const char *sandbox_id,
                                               const char *container_id,
                                               int rootfs_fd,
                                               VcmMountOptions *options,
                                               VcmCallFlags flags,
                                               GCancellable *cancellable,
                                               GError **error);

void vcm_client_bind_mount_fd (VcmClient *self,
                               int source_fd,
                               const char *destination,
                               VcmMountOptions *options,
                               VcmCallFlags flags,
                               GCancellable *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer user_data);
VcmMountInfo *vcm_client_bind_mount_fd_finish (VcmClient *self, GAsyncResult *result, GError **error);
VcmMountInfo *vcm_client_bind_mount_fd_sync (VcmClient *self,
                                             int source_fd,
                                             const char *destination,
                                             VcmMountOptions *options,
                                             VcmCallFlags flags,
                                             GCancellable *cancellable,
                                             GError **error);

void vcm_client_open_mount (VcmClient *self,
                            int source_fd,
                            VcmMountOptions *options,
                            VcmCallFlags flags,
                            GCancellable *cancellable,
                            GAsyncReadyCallback callback,
                            gpointer user_data);
int vcm_client_open_mount_finish (VcmClient *self,
                                  GAsyncResult *result,
                                  VcmMountInfo **out_info,
                                  GError **error);
int vcm_client_open_mount_sync (VcmClient *self,
                                int source_fd,
                                VcmMountOptions *options,
                                VcmCallFlags flags,
                                GCancellable *cancellable,
                                VcmMountInfo **out_info,
                                GError **error);

void vcm_client_list_mounts (VcmClient *self,
                             const char *sandbox_id,
                             const char *kind,
                             VcmCallFlags flags,
                             GCancellable *cancellable,
                             GAsyncReadyCallback callback,
                             gpointer user_data);
GPtrArray *vcm_client_list_mounts_finish (VcmClient *self,
                                          GAsyncResult *result,
                                          guint64 *out_generation,
                                          GError **error);
GPtrArray *vcm_client_list_mounts_sync (VcmClient *self,
                                        const char *sandbox_id,
                                        const char *kind,
                                        VcmCallFlags flags,
                                        GCancellable *cancellable,
                                        guint64 *out_generation,
                                        GError **error);
G_END_DECLS
