/* vcm-rootfs-manager: the rootfs domain. Owns the mounter, the watch and the
 * rootfs bookkeeping: before acting on a rootfs it has what changed there
 * behind the service's back reported, after it the change noted, and
 * Generation kept; it tells each change once, in order, never in the middle
 * of one of its calls. Knows nothing of D-Bus. */
#pragma once

#include <gio/gio.h>

#include "vcm-mounter.h"
#include "vcm-mounttable.h"
#include "vcm-rootfs.h"
#include "vcm-watch.h"

G_BEGIN_DECLS

#define VCM_TYPE_ROOTFS_MANAGER (vcm_rootfs_manager_get_type ())
G_DECLARE_FINAL_TYPE (VcmRootfsManager, vcm_rootfs_manager, VCM, ROOTFS_MANAGER, GObject)

/* Opens (makes if missing) @shared_dir and reads the rootfs mounted beneath
 * it now. The signal "changed" (a const VcmChange *) tells every rootfs
 * change, made by the service or not, in order. */
VcmRootfsManager *vcm_rootfs_manager_new (const char *shared_dir, VcmMounterFlags flags, GError **error);

const char *vcm_rootfs_manager_get_shared_dir (VcmRootfsManager *manager);
guint64 vcm_rootfs_manager_get_generation (VcmRootfsManager *manager);
gboolean vcm_rootfs_manager_uses_notifications (VcmRootfsManager *manager);

/* The mounter, for preparing requests (in worker threads: a reference). */
VcmMounter *vcm_rootfs_manager_get_mounter (VcmRootfsManager *manager);

/* A VcmMountTableSource (@manager as its user data) for the queries: the
 * watch's cached table, brought up to date; changes this finds are told
 * after the caller's work, from the main loop. */
VcmMountTable *vcm_rootfs_manager_get_table (gpointer manager, gboolean force_refresh);

/* One rootfs UnmountSandbox detached. */
typedef struct {
  char *container_id;
  GStrv detached;       /* the rootfs mount point first */
  GArray *detached_ids; /* their mountinfo IDs, in order (guint64; 0: not known) */
  GVariant *identity;   /* its recorded identity, read before it went (NULL: none) */
} VcmUnmounted;

void vcm_unmounted_free (VcmUnmounted *unmounted);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VcmUnmounted, vcm_unmounted_free)

/* Unmounts every rootfs of @sandbox_id, as @creds (NULL: root) asks. The
 * rootfs done, in order, are added to @done (VcmUnmounted, with the
 * identity recorded on each, read before it went; also those done before an
 * error). A rootfs gone meanwhile is skipped. On an error the message names
 * the container and those done before it. */
gboolean vcm_rootfs_manager_unmount_sandbox (VcmRootfsManager *manager,
                                             const char *sandbox_id,
                                             const VcmCredentials *creds,
                                             GPtrArray *done,
                                             GError **error);

/* The same operations with every walk of a path (probes, the mounter's
 * run) in a worker thread: a filesystem that never answers holds up that
 * thread, and the operations on the same sandbox after it (they run one at
 * a time, in order), not the main loop. @req (any op) is the caller's until
 * the callback; the finish gives what the op gives: the rootfs mounted
 * (MountRootfs), the mount point (BindMount) or the mount points detached
 * (the unmounts) with their mountinfo IDs (@out_detached_ids, guint64, in
 * the same order, 0 where not known), and the mountinfo and unique IDs of a
 * mount made (read in the worker thread; 0 when not known); each out
 * argument may be NULL. An operation not yet begun
 * when @cancellable is cancelled fails with G_IO_ERROR_CANCELLED. */
void vcm_rootfs_manager_run_async (VcmRootfsManager *manager,
                                   VcmMountRequest *req,
                                   GCancellable *cancellable,
                                   GAsyncReadyCallback callback,
                                   gpointer user_data);
gboolean vcm_rootfs_manager_run_finish (VcmRootfsManager *manager,
                                        GAsyncResult *result,
                                        VcmRootfsRecord **out_mounted,
                                        char **out_mount_point,
                                        GStrv *out_detached,
                                        GArray **out_detached_ids,
                                        guint64 *out_old_id,
                                        guint64 *out_unique_id,
                                        GError **error);
void vcm_rootfs_manager_unmount_sandbox_async (VcmRootfsManager *manager,
                                               const char *sandbox_id,
                                               const VcmCredentials *creds,
                                               GCancellable *cancellable,
                                               GAsyncReadyCallback callback,
                                               gpointer user_data);
/* The rootfs done are added to @done, also on an error (as above). */
gboolean vcm_rootfs_manager_unmount_sandbox_finish (VcmRootfsManager *manager,
                                                    GAsyncResult *result,
                                                    GPtrArray *done,
                                                    GError **error);

/* The rootfs mounted now (VcmRootfsRecord, sorted by sandbox, container) of one
 * sandbox or of all (NULL or ""), and the Generation as of that list:
 * changes not yet told are told first. */
GPtrArray *vcm_rootfs_manager_list_rootfs (VcmRootfsManager *manager,
                                           const char *sandbox_id,
                                           guint64 *out_generation);

G_END_DECLS
