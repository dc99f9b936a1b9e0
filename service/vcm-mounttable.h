/* vcm-mounttable: an immutable snapshot of a mount table (mountinfo format),
 * parsed with libmount and indexed by mount ID and by target. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  guint64 id;        /* mountinfo field 1 (statx STATX_MNT_ID) */
  guint64 parent_id; /* mountinfo field 2 */
  guint major;       /* device, as the kernel encodes it today */
  guint minor;
  char *root;   /* root of the mount within its filesystem */
  char *target; /* mount point, escapes (\040 ...) decoded */
  char *source; /* mount source (device path), "none" if absent */
  char *fstype;
  char *vfs_options;       /* per-mount options: "rw,nosuid,..." */
  char *fs_options;        /* superblock options */
  gboolean read_only;      /* per-mount "ro" */
  const char *propagation; /* "shared", "slave", "private" or "unbindable" (static string) */
} VcmMountEntry;

typedef struct _VcmMountTable VcmMountTable;

/* Parses @path in /proc/self/mountinfo format. */
VcmMountTable *vcm_mount_table_new_from_file (const char *path, GError **error);

/* Parses this process's /proc/self/mountinfo. */
VcmMountTable *vcm_mount_table_new_from_kernel (GError **error);

/* The kernel's table in two steps: its text (/proc/self/mountinfo, read
 * whole), then the table parsed from it. A reader that kept the text of its
 * last read can tell a table that did not change without parsing it. */
gboolean vcm_mount_table_read_kernel_text (GBytes **out_text, GError **error);
VcmMountTable *vcm_mount_table_new_from_text (GBytes *text, GError **error);

VcmMountTable *vcm_mount_table_ref (VcmMountTable *table);
void vcm_mount_table_unref (VcmMountTable *table);

guint vcm_mount_table_get_size (VcmMountTable *table);

/* The entries in table (mountinfo) order; borrowed. */
const VcmMountEntry *vcm_mount_table_get_nth (VcmMountTable *table, guint n);

/* By mount ID; NULL if absent. O(1). */
const VcmMountEntry *vcm_mount_table_lookup_id (VcmMountTable *table, guint64 id);

/* The top-most mount on @target (the last one mounted there, i.e. the one
 * whose parent is not also on @target); NULL if none. O(1). */
const VcmMountEntry *vcm_mount_table_lookup_target (VcmMountTable *table, const char *target);

/* Every mount below the mount @id (children, grandchildren, ...), parents
 * before children; @id itself not included. Borrowed pointers. */
GPtrArray *vcm_mount_table_get_descendants (VcmMountTable *table, guint64 id);

/* Every entry whose target is @prefix or lies beneath it, table order. Borrowed pointers. */
GPtrArray *vcm_mount_table_get_beneath (VcmMountTable *table, const char *prefix);

/* A mount attached, detached or moved since the table was read, named by
 * its unique ID (statmount(2)); @old_id is its ID in the table when known
 * (needed to drop a mount already gone), @not_in_table says it was attached
 * after the table was read (gone again, there is nothing to drop). */
typedef struct {
  guint64 unique_id;
  guint64 old_id;
  gboolean not_in_table;
} VcmMountChange;

/* Brings @table up to date for the mounts @changes name: each is read with
 * statmount(2) and added, changed in place or dropped (a moved mount's
 * submounts are read again too); the top-most mount of every target touched
 * is decided again. The rest of the table is not read again: the cost
 * follows the changes, not the table. @table is patched in place when the
 * caller holds its only reference, else copied first. Consumes the caller's
 * reference to @table and returns one to the result. NULL with @error when a
 * mount cannot be read or placed (the caller then reads the whole table):
 * then @table is unchanged and the caller keeps its reference. A mount named
 * several times counts once: its first change says whether the table can
 * have it, any that knows its ID gives it. */
VcmMountTable *vcm_mount_table_patch (VcmMountTable *table,
                                      const VcmMountChange *changes,
                                      guint n_changes,
                                      GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VcmMountTable, vcm_mount_table_unref)

G_END_DECLS

G_BEGIN_DECLS

/* Where the service's logic gets a mount table from: returns a new reference
 * to a table that reflects the kernel at least as of the call. With
 * @force_refresh the table is re-read even if the provider thinks it is current
 * (used when a mount ID just seen by statx is missing from it). */
typedef VcmMountTable *(*VcmMountTableSource) (gpointer user_data, gboolean force_refresh);

/* The entry with mount ID @id from @source, asking @source once more with
 * force_refresh when the first table lacks it (the mount may be newer than
 * the table). *@out_table is the table the entry borrows from, NULL when the
 * source could not read one; the entry is NULL when it is not in it. With
 * @refresh_first the first table is already a fresh one. */
const VcmMountEntry *vcm_mount_table_source_lookup_id (VcmMountTableSource source,
                                                       gpointer source_data,
                                                       guint64 id,
                                                       gboolean refresh_first,
                                                       VcmMountTable **out_table);

/* A source that reads /proc/self/mountinfo on every call (tests, tools). */
VcmMountTable *vcm_mount_table_source_kernel (gpointer user_data, gboolean force_refresh);

G_END_DECLS
