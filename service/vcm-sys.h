/* vcm-sys: thin wrappers for the syscalls glibc 2.36 or the distribution's
 * kernel headers may lack (openat2, open_tree, move_mount, mount_setattr,
 * statx mount IDs). Each returns -1 with errno set, like the syscall. */
#pragma once

#include <glib.h>
#include <fcntl.h>
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/mount.h>
#include <linux/openat2.h>

G_BEGIN_DECLS

#ifndef STATX_MNT_ID
#define STATX_MNT_ID 0x00001000U
#endif
#ifndef STATX_ATTR_MOUNT_ROOT
#define STATX_ATTR_MOUNT_ROOT 0x00002000
#endif

int vcm_sys_openat2 (int dirfd, const char *path, guint64 flags, guint64 mode, guint64 resolve);

/* A clone of the mount @mount_fd is on, without its submounts
 * (OPEN_TREE_CLONE: paths in it lead to what mounts on that mount cover), as
 * a descriptor of the caller's to close. The clone is made once and handed
 * out again (a dup) while @mount_fd names the same mount (its unique ID and
 * root) with the same attributes (a remount read-only makes a new one, read-
 * only as well; a mount detached from this namespace gets none): the last close of a detached mount dissolves it, which waits for an
 * RCU grace period (0.3-0.5 ms on a busy VM), and the identity records and
 * the markers of the directories made are read and written through such a
 * clone on every mount and unmount. Thread-safe. -1 with errno. */
int vcm_sys_clone_mount_cached (int mount_fd);

/* Opens the absolute @path O_PATH (not following a last symlink) only as far
 * as the kernel's caches already know it (openat2 RESOLVE_CACHED): a walk that
 * would have to ask a filesystem (a lookup not cached, a FUSE or network
 * entry to revalidate) fails with EAGAIN instead of waiting for it. For the
 * main loop. Where openat2 or RESOLVE_CACHED is not there (Linux < 5.12, a
 * seccomp filter), a plain open(2), which may wait. */
int vcm_sys_open_cached (const char *path);

/* statx(@dirfd, @path, @flags, STATX_MNT_ID|STATX_TYPE): mount ID, device and
 * whether the path is the root of a mount. Returns 0 or -1 with errno. */
int vcm_sys_stat_mount (int dirfd,
                        const char *path,
                        int flags,
                        guint64 *out_mnt_id,
                        guint *out_major,
                        guint *out_minor,
                        gboolean *out_mount_root,
                        mode_t *out_mode);

G_END_DECLS

G_BEGIN_DECLS

/* listmount(2)/statmount(2) (Linux 6.8): the children of a mount, and a
 * mount's point, without reading the whole mount table. IDs here are the
 * unique 64-bit mount IDs (statx STATX_MNT_ID_UNIQUE). -1/ENOSYS on older kernels. */

/* The unique mount ID of the mount holding @fd. */
int vcm_sys_unique_mount_id (int fd, guint64 *out_id);

/* The kernel's IDs of one mount: the mountinfo one (statx STATX_MNT_ID),
 * which the kernel gives to the next mount made once the mount is freed,
 * and the unique one, never reused (0 where not known). */
typedef struct {
  guint64 old_id;
  guint64 unique_id;
} VcmSysMountIds;

/* Whether @a and @b may name the same mount: by the unique IDs where both
 * have one, else by the mountinfo IDs where both have one, else (nothing
 * to tell them apart by) TRUE. */
gboolean vcm_sys_mount_ids_match (const VcmSysMountIds *a, const VcmSysMountIds *b);

/* Up to @n child mount IDs of @parent_id after @last_id (0 = from the start). */
gssize vcm_sys_listmount (guint64 parent_id, guint64 last_id, guint64 *ids, gsize n);

/* Every child mount ID of @parent_id (listmount(2) called until it has
 * told them all); NULL with errno. */
GArray *vcm_sys_listmount_all (guint64 parent_id);

/* The mount point of mount @id (as seen from this process's root). */
char *vcm_sys_statmount_point (guint64 id, int *out_errno);

/* What statmount(2) says of mount @id, read live from the kernel. */
typedef struct {
  guint64 mnt_id_old; /* the ID in mountinfo and statx STATX_MNT_ID */
  char *mnt_point;
  char *fs_type;
  char *sb_source; /* NULL where the kernel predates STATMOUNT_SB_SOURCE (6.14) */
  gboolean read_only;
  const char *propagation; /* "shared", "slave", "unbindable" or "private" */
} VcmSysMount;

gboolean vcm_sys_statmount (guint64 id, VcmSysMount *out, int *out_errno);
void vcm_sys_mount_clear (VcmSysMount *mount);

/* The little the mount watch needs of mount @id per mount event: where it
 * is, its parent (a unique ID) and its mountinfo ID; one statmount(2) call
 * with one string. @out_point is NULL or receives a new string. */
typedef struct {
  guint64 parent_id; /* unique ID of the parent mount */
  guint64 mnt_id_old;
  gboolean read_only;
  guint64 mnt_attr; /* MOUNT_ATTR_* */
} VcmSysMountBrief;

gboolean vcm_sys_statmount_brief (guint64 id, VcmSysMountBrief *out, char **out_point, int *out_errno);

/* The magic number of the filesystem holding @fd (f_type of statfs(2)),
 * read where the kernel can say it without asking the filesystem (statmount
 * of the mount, Linux 6.8), so a FUSE server that does not answer holds
 * nothing up; else with fstatfs(2). 0, or -1 with errno. */
int vcm_sys_fs_magic (int fd, guint64 *out_magic);

/* Everything a mountinfo line says of mount @id (for a mount table entry),
 * raw: the options as the kernel's flags and its fs-specific option string.
 * Fails with ENOSYS where the kernel lacks a field (sb_source before 6.14). */
typedef struct {
  guint64 mnt_id_old;
  guint64 parent_id_old;
  guint dev_major;
  guint dev_minor;
  guint32 sb_flags;        /* SB_RDONLY, SB_SYNCHRONOUS, SB_DIRSYNC, SB_LAZYTIME */
  guint64 mnt_attr;        /* MOUNT_ATTR_* */
  const char *propagation; /* as VcmSysMount's */
  char *root;
  char *point;
  char *fs_type; /* "type" or "type.subtype", as in mountinfo */
  char *sb_source;
  char *mnt_opts; /* the filesystem's own options, "" when none */
} VcmSysMountFull;

gboolean vcm_sys_statmount_full (guint64 id, VcmSysMountFull *out, int *out_errno);
void vcm_sys_mount_full_clear (VcmSysMountFull *mount);

G_END_DECLS
