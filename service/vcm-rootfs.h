/* vcm-rootfs: what a rootfs is (VcmRootfsRecord: sandbox, container, mount point,
 * mount IDs, read-only) and the layout that names it,
 * SHARED/SANDBOX/CONTAINER/rootfs; the rootfs set read from a mount table.
 * Shared by the mounter, which makes them, and the watch, which follows
 * them; knows neither. */
#pragma once

#include <glib.h>

#include "vcm-mounttable.h"

G_BEGIN_DECLS

/* The last component of a rootfs mount point. */
#define VCM_ROOTFS_DIR "rootfs"

/* One allocation: the strings follow the struct (thousands are kept). */
typedef struct {
  const char *sandbox_id;
  const char *container_id;
  const char *mount_point;
  guint64 mount_id;
  guint64 unique_id; /* statx STATX_MNT_ID_UNIQUE, never reused; 0 = unknown */
  gboolean read_only;
} VcmRootfsRecord;

VcmRootfsRecord *vcm_rootfs_record_new (const char *sandbox_id,
                                        const char *container_id,
                                        const char *mount_point,
                                        guint64 mount_id,
                                        gboolean read_only);
VcmRootfsRecord *vcm_rootfs_record_copy (const VcmRootfsRecord *rootfs);
void vcm_rootfs_record_free (VcmRootfsRecord *rootfs);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VcmRootfsRecord, vcm_rootfs_record_free)

/* Orders a GPtrArray of VcmRootfsRecord by sandbox, then container. */
gint vcm_rootfs_record_compare (gconstpointer a, gconstpointer b);

/* SANDBOX/CONTAINER/rootfs: the mount point relative to the shared dir. */
char *vcm_rootfs_relpath (const char *sandbox_id, const char *container_id);

/* The rootfs mounts in @table (top-most mount at SHARED/SBX/CID/rootfs with
 * valid IDs, whose path leads to it: one covered by a mount made since on
 * SHARED/SBX or SHARED/SBX/CID is out of reach, and not listed), optionally
 * of one sandbox (NULL or "" = all). Sorted by sandbox, container. Element
 * type VcmRootfsRecord. */
GPtrArray *
vcm_rootfs_list_in_table (const char *shared_dir, VcmMountTable *table, const char *sandbox_id);

/* The unique mount IDs of the rootfs in @rootfs (a list from
 * vcm_rootfs_list_in_table), looked up by path as far as the kernel's caches
 * know it (never waiting for a filesystem); left 0 where the path no longer
 * leads to the listed mount or cannot be walked without asking. */
void vcm_rootfs_fill_unique_ids (GPtrArray *rootfs);

G_END_DECLS
