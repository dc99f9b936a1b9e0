/* vcm-layout: the shared dir's layout, SHARED/SANDBOX/CONTAINER/rootfs, as
 * the rootfs methods' own. Where a general bind or unmount may act (never on
 * a sandbox's or container's directory, nor on a rootfs's mount point; in a
 * rootfs only with the right to manage that sandbox's rootfs as well), and
 * the mark on each directory (or file) the service made on the shared dir's
 * own filesystem, a trusted.* extended attribute that survives a restart, so
 * that an unmount removes what the service made and nothing an administrator
 * made. Knows nothing of D-Bus. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Set (to "1") on what the service made; only root can write trusted.*. */
#define VCM_LAYOUT_MADE_XATTR "trusted.vc-mount.made"

/* Where a path relative to the shared dir lies in the layout (the IDs as
 * vcm_validate_id() takes them). */
typedef enum {
  VCM_LAYOUT_FREE,          /* none of the below: general binds may go there */
  VCM_LAYOUT_SANDBOX_DIR,   /* SANDBOX */
  VCM_LAYOUT_CONTAINER_DIR, /* SANDBOX/CONTAINER */
  VCM_LAYOUT_ROOTFS,        /* SANDBOX/CONTAINER/rootfs: a rootfs's mount point */
  VCM_LAYOUT_IN_ROOTFS,     /* below SANDBOX/CONTAINER/rootfs */
} VcmLayoutPlace;

VcmLayoutPlace vcm_layout_place (const char *relpath);

/* Whether a general bind (@unmount FALSE) or an Unmount (@unmount TRUE)
 * may act at @relpath (@mount_point and @arg_name for the message), for
 * root (@is_root) or another caller: the rootfs's mount point is the rootfs
 * methods' alone (for everybody); a sandbox's or container's directory too
 * for a caller that is not root (root may, while no rootfs lies below: the
 * mounter checks that when it acts). VCM_ERROR_INVALID_ARGUMENT naming
 * @arg_name otherwise. *@out_manage_rootfs: a caller that is not root needs
 * the right to manage the rootfs of the sandbox as well (the mount point
 * lies in a rootfs). */
gboolean vcm_layout_check_general (const char *relpath,
                                   const char *mount_point,
                                   gboolean is_root,
                                   gboolean unmount,
                                   const char *arg_name,
                                   gboolean *out_manage_rootfs,
                                   GError **error);

/* Marks @name beneath @dir_fd (just made by the service) as the service's.
 * Best effort: where the filesystem keeps no trusted.* attributes it is
 * only said in the log, and the entry is then never removed. */
void vcm_layout_mark_made (int dir_fd, const char *name, gboolean is_dir);

/* After an unmount at @relpath: what it leaves empty of the layout on the
 * shared dir's own mount (@shared_fd's), from the mount point up to the
 * shared dir (kept), goes, as far as the service made it (marked): an
 * empty directory, or an empty file of root's that was a mount point.
 * Anything not made by the service, not empty, mounted on or in another
 * mount stays, and what is above it too. */
void vcm_layout_remove_emptied (int shared_fd, const char *relpath);

G_END_DECLS
