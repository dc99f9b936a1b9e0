/* vcm-fdsource: a mount source a caller passed as a file descriptor. What
 * kind of fd it is (a real open of a directory, or of a regular file where
 * allowed: never O_PATH for a caller that is not root, never a socket,
 * device, FIFO, memfd, pidfd or other anonymous inode), what identifies it
 * (the path the kernel gives it, device, inode, owner), whether the caller
 * could read it with its own credentials, and the clone of its mount: made
 * here with open_tree(2) where the fd's mount is in the service's mount
 * namespace, else by a short-lived helper process that joins the caller's
 * mount namespace (through its pidfd) and hands the detached clone back
 * over a socketpair. Never walks a path of the caller's. */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "vcm-creds.h"
#include "vcm-mountopts.h"

G_BEGIN_DECLS

typedef struct {
  char *path; /* as the kernel names the object (readlink of /proc/self/fd/N) */
  guint major, minor;
  guint64 inode;
  uid_t owner;
  gboolean is_dir;
} VcmFdSource;

void vcm_fd_source_clear (VcmFdSource *source);

/* Checks @fd (@arg_name in errors) and fills @out. A directory always
 * passes the kind check; a regular file only with @allow_file; O_PATH only
 * for @root. Anything else is VCM_ERROR_INVALID_ARGUMENT naming @arg_name and
 * what the fd is. For @root it asks the fd's filesystem nothing (its
 * attributes as the kernel last saw them): it may run on the main loop. */
gboolean vcm_fd_source_inspect (
  int fd, const char *arg_name, gboolean allow_file, gboolean root, VcmFdSource *out, GError **error);

/* Whether @creds (a caller that is not root) could read @fd's object itself
 * (and search it, a directory): holding an fd someone else opened is not
 * enough, unless the caller owns the object. VCM_ERROR_NOT_AUTHORIZED
 * otherwise. */
gboolean vcm_fd_source_check_access (
  int fd, const VcmFdSource *source, const VcmCredentials *creds, const char *arg_name, GError **error);

/* The clone of vcm_fd_source_clone() without a lock, where @fd's mount
 * lies in the service's mount namespace: asks no filesystem anything and
 * starts no helper. -1 with errno (EINVAL: @fd's mount lies in another
 * mount namespace). */
int vcm_fd_source_clone_here (int fd, gboolean recursive);

/* A detached clone (OPEN_TREE_CLONE; with @recursive its submounts too) of
 * the mount at @fd. With @lock (a clone handed to a caller that is not
 * root), the submounts are locked to it as the kernel locks the mounts of
 * an unprivileged namespace: the caller, even with every capability in a
 * user namespace of its own, cannot unmount one to uncover what it hides.
 * Where @fd's mount lies in another mount namespace, the clone is made in
 * the namespace of the caller's process (@pid of @uid, as the bus reported
 * them; that namespace's own locks hold there), and *@out_in_caller_ns
 * says so: the fd's path is then a path of the caller's namespace, where the
 * caller may have bound any tree it can read at any path it likes. Returns
 * the mount fd or -1 with @error. */
int vcm_fd_source_clone (int fd,
                         gboolean recursive,
                         gboolean lock,
                         pid_t pid,
                         uid_t uid,
                         const char *arg_name,
                         gboolean *out_in_caller_ns,
                         GError **error);

/* The prefix of a source's path in what polkit is shown (the "source"
 * detail, the prompt) and in the mount's identity where the path is one of
 * the caller's mount namespace: such a path proves nothing about which
 * object it names, so it must never match a rule written for the host's
 * paths (which start with "/"). */
#define VCM_FD_SOURCE_CALLER_NS_PREFIX "caller-mntns:"

/* Applies @options (read-only, nosuid, nodev, noexec, propagation; to every
 * mount of the clone) to the detached @tree_fd, before anyone can see it.
 * A flag left off keeps what the source's mount had. The idmap option is
 * not applied here: see vcm_fd_source_configure's caller. */
gboolean
vcm_fd_source_configure (int tree_fd, const VcmMountOpts *options, const char *arg_name, GError **error);

/* For a writable mount of a caller that is not root, judged writable by
 * the ownership of the top of its source alone: every mount below the top
 * of the detached @tree_fd made read-only (the top keeps what it had).
 * What came along below the top is not the caller's by that judgement: in a
 * mount namespace of its own the caller can bind any tree it can read
 * there, root's /etc say, and what uses the shared dir writes with root's
 * rights. */
gboolean vcm_fd_source_submounts_read_only (int tree_fd, const char *arg_name, GError **error);

G_END_DECLS
