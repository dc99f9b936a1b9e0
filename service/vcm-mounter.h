/* vcm-mounter: the mount operations (rootfs and general bind mounts, lazy
 * unmounts) confined beneath the shared dir, and the rootfs layout read back
 * from a mount table. Knows nothing of D-Bus. */
#pragma once

#include <glib.h>

#include "vcm-creds.h"
#include "vcm-mounttable.h"

G_BEGIN_DECLS

/* One allocation: the strings follow the struct (thousands are kept). */
typedef struct {
  const char *sandbox_id;
  const char *container_id;
  const char *mount_point;
  guint64  mount_id;
  guint64  unique_id;   /* statx STATX_MNT_ID_UNIQUE, never reused; 0 = unknown */
  gboolean read_only;
} VcmRootfs;

VcmRootfs *vcm_rootfs_new  (const char *sandbox_id, const char *container_id,
                            const char *mount_point, guint64 mount_id, gboolean read_only);
void       vcm_rootfs_free (VcmRootfs *rootfs);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VcmRootfs, vcm_rootfs_free)

typedef struct _VcmMounter VcmMounter;

/* Creates @shared_dir if missing (absolute path, from the administrator's
 * configuration) and opens it; every later path operation works beneath that fd. */
VcmMounter *vcm_mounter_new  (const char          *shared_dir,
                              VcmMountTableSource  source,
                              gpointer             source_data,
                              GError             **error);
void        vcm_mounter_free (VcmMounter *mounter);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VcmMounter, vcm_mounter_free)

const char *vcm_mounter_get_shared_dir (VcmMounter *mounter);

/* The rootfs mounts in @table (top-most mount at SHARED/SBX/CID/rootfs with
 * valid IDs), optionally of one sandbox (NULL or "" = all). Sorted by
 * sandbox, container. Element type VcmRootfs. */
GPtrArray *vcm_mounter_list_rootfs_in (const char    *shared_dir,
                                       VcmMountTable *table,
                                       const char    *sandbox_id);

/* MountRootfs: returns the new mount (its mount_point and mount_id).
 * @rootfs is opened with @creds (the caller's; NULL: the service's own). */
VcmRootfs *vcm_mounter_mount_rootfs (VcmMounter           *mounter,
                                     const char           *sandbox_id,
                                     const char           *container_id,
                                     const char           *rootfs,
                                     gboolean              read_only,
                                     const VcmCredentials *creds,
                                     GError              **error);

/* What is mounted at the rootfs mount point of @sandbox_id/@container_id right
 * now, read live from the kernel (statx, listmount, statmount: a cost that
 * does not grow with the mount table). Returns FALSE when the kernel cannot
 * say so cheaply (the caller then reads the whole table) or the IDs are
 * invalid. *@out_rootfs is NULL when nothing is mounted there; else
 * *@out_submounts is the set of mountinfo IDs below it (guint64 keys). */
gboolean vcm_mounter_probe_rootfs (VcmMounter  *mounter,
                                   const char  *sandbox_id,
                                   const char  *container_id,
                                   VcmRootfs  **out_rootfs,
                                   GHashTable **out_submounts);

/* The unique mount IDs of the rootfs in @rootfs (a list from
 * vcm_mounter_list_rootfs_in), looked up by path; left 0 where the path no
 * longer leads to the listed mount. */
void vcm_mounter_fill_unique_ids (GPtrArray *rootfs);

/* UnmountRootfs: returns the mount points detached, the rootfs first. */
GStrv vcm_mounter_unmount_rootfs (VcmMounter  *mounter,
                                  const char  *sandbox_id,
                                  const char  *container_id,
                                  GError     **error);

/* BindMount: returns the (normalized) mount point. @source is opened with
 * @creds (the caller's; NULL: the service's own). */
char *vcm_mounter_bind_mount (VcmMounter           *mounter,
                              const char           *source,
                              const char           *destination,
                              gboolean              read_only,
                              const VcmCredentials *creds,
                              GError              **error);

/* Unmount: returns the mount points detached, @mount_point first. */
GStrv vcm_mounter_unmount (VcmMounter  *mounter,
                           const char  *mount_point,
                           GError     **error);

G_END_DECLS
