/* vcm-fdpath: resolving (and creating) paths beneath the shared dir by fd,
 * component by component, never following a symlink and never leaving it. */
#pragma once

#include <glib.h>

#include "vcm-creds.h"

G_BEGIN_DECLS

typedef enum {
  VCM_RESOLVE_EXISTING = 0,       /* everything must exist */
  VCM_RESOLVE_CREATE = 1 << 0,    /* create missing directories (and the leaf) */
  VCM_RESOLVE_LEAF_FILE = 1 << 1, /* with CREATE: a missing leaf is created as an empty file */
} VcmResolveFlags;

/* What a call created, so that a failure can undo it and in reverse order. */
typedef struct _VcmCreated VcmCreated;
VcmCreated *vcm_created_new (void);
void vcm_created_free (VcmCreated *created);
/* Removes everything recorded (files unlinked, directories removed when empty). */
void vcm_created_rollback (VcmCreated *created);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VcmCreated, vcm_created_free)

/* Resolves @relpath (relative to @root_fd, normalized: no "", "." or ".."
 * components) one component at a time, with openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS), or openat(O_NOFOLLOW) and
 * fstat() where openat2 is refused (old kernel, seccomp filter), and returns
 * an O_PATH fd of the last component (or -1).
 * @root_path and @arg_name are for messages.
 * A symlink or escape gives VCM_ERROR_INVALID_ARGUMENT, a missing component
 * (without CREATE) VCM_ERROR_NOT_FOUND. Each component is looked up with
 * @creator's credentials (NULL: the service's), so nothing is found for a
 * caller where it could not look itself. With CREATE, a missing component
 * on @root_fd's own mount (the service's layout) is made by the service,
 * and marked as its own (vcm_layout_mark_made: only what it made is ever
 * removed), and one inside any mount below it with @creator's credentials,
 * so a caller never has made what it could not make itself. With
 * @out_parent_fd the fd of the leaf's parent directory is returned too
 * (caller closes it). */
int vcm_fdpath_resolve (int root_fd,
                        const char *root_path,
                        const char *relpath,
                        VcmResolveFlags flags,
                        const char *arg_name,
                        const VcmCredentials *creator,
                        VcmCreated *created,
                        int *out_parent_fd,
                        GError **error);

/* For a caller that is not root (@creds), checks that it could never move
 * the leaf of @relpath (an existing path beneath @root_fd) elsewhere: every
 * directory from @root_fd down to the leaf's parent lies on a filesystem
 * no unprivileged user controls (not FUSE, not a network filesystem:
 * vcm_mount_policy_users_fs), is root's alone (vcm_dir_is_roots_alone) and
 * on no ID-mapped mount (where a caller's directory can look like root's),
 * so no component of the path can be renamed but by root, nor vanish at a
 * server's whim. VCM_ERROR_INVALID_ARGUMENT naming @arg_name otherwise. Nothing to
 * check for root (@creds NULL or uid 0). */
gboolean vcm_fdpath_check_immovable (int root_fd,
                                     const char *root_path,
                                     const char *relpath,
                                     const VcmCredentials *creds,
                                     const char *arg_name,
                                     GError **error);

/* Opens the absolute @path with O_PATH as the calling thread's filesystem
 * credentials allow, one component at a time from "/", following symlinks
 * (the last one too) by their text, at most 40 (and 4096 lookups in all),
 * none the kernel would refuse to follow (nosymfollow mounts,
 * fs.protected_symlinks) for the thread's filesystem uid. A /proc magic link is thus
 * never followed as a jump to the object it stands for, only as the path it
 * reads as, which the same credentials must reach. -1 with errno. */
int vcm_fdpath_open_following (const char *path);

/* "/proc/self/fd/N" for @fd, to hand an fd to path-only syscalls (umount2). */
char *vcm_fdpath_proc_path (int fd);

/* Removes the directory @name beneath @dir_fd if it is empty; silent when it
 * is not empty, busy or already gone (the caller's cleanup is best effort by
 * design: another mount or file there is somebody else's). */
void vcm_fdpath_rmdir_if_empty (int dir_fd, const char *name);

G_END_DECLS
