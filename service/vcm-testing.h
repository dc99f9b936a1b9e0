/* vcm-testing: what only the tests and the benchmarks call: counters,
 * a switch of the query path, and operations in one step that authorize
 * nothing. The daemon's own code calls none of it; the parts that define
 * these include this header for their prototypes. */
#pragma once

#include <glib.h>

#include "vcm-creds.h"
#include "vcm-mounter.h"
#include "vcm-query.h"
#include "vcm-rootfs-manager.h"
#include "vcm-rootfs.h"
#include "vcm-watch.h"

G_BEGIN_DECLS

/* ---- vcm-mounter: prepare + run in one ------------------------------------- */

VcmRootfsRecord *vcm_mounter_mount_rootfs (VcmMounter *mounter,
                                           const char *sandbox_id,
                                           const char *container_id,
                                           const char *rootfs,
                                           gboolean read_only,
                                           const VcmCredentials *creds,
                                           GError **error);

/* UnmountRootfs: returns the mount points detached, the rootfs first. */
GStrv vcm_mounter_unmount_rootfs (VcmMounter *mounter,
                                  const char *sandbox_id,
                                  const char *container_id,
                                  GError **error);

/* BindMount: returns the (normalized) mount point. @source is opened with
 * @creds (the caller's; NULL: the service's own). */
char *vcm_mounter_bind_mount (VcmMounter *mounter,
                              const char *source,
                              const char *destination,
                              gboolean read_only,
                              const VcmCredentials *creds,
                              GError **error);

/* Unmount: returns the mount points detached, @mount_point first. */
GStrv vcm_mounter_unmount (VcmMounter *mounter, const char *mount_point, GError **error);

/* ---- vcm-rootfs-manager ----------------------------------------------------- */

/* MountRootfs and UnmountRootfs on requests prepared by the mounter: as
 * vcm_mounter_run_*(), with the bookkeeping, on the calling thread (nothing
 * here waits for a main loop). The service uses
 * vcm_rootfs_manager_run_async(), which walks no path on the main loop. */
VcmRootfsRecord *
vcm_rootfs_manager_mount_rootfs (VcmRootfsManager *manager, const VcmMountRequest *req, GError **error);
GStrv vcm_rootfs_manager_unmount_rootfs (VcmRootfsManager *manager,
                                         const VcmMountRequest *req,
                                         GError **error);

/* The manager's watch. */
VcmWatch *vcm_rootfs_manager_get_watch (VcmRootfsManager *manager);

/* ---- counters and switches -------------------------------------------------- */

/* Number of full table reads the watch made so far. */
guint vcm_watch_get_refresh_count (VcmWatch *watch);

/* How many memory trims have run. */
guint vcm_memory_get_trim_count (void);

/* Whether mounts are looked up live with statmount(2) where the kernel has
 * it (the default) or always in the table from the source (the service
 * takes the table path by itself where statmount fails). */
void vcm_query_set_live (VcmQuery *query, gboolean live);

G_END_DECLS
