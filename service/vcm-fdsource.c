/* vcm-fdsource: a source passed as an fd: its kind and identity, the
 * caller's access to it, and the clone of its mount (in the caller's mount
 * namespace through a helper process where it must be). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "vcm-callerproc.h"
#include "vcm-child.h"
#include "vcm-error.h"
#include "vcm-fd.h"
#include "vcm-fdpath.h"
#include "vcm-fdsource.h"
#include "vcm-fsgate.h"
#include "vcm-privileges.h"
#include "vcm-sys.h"
#include "vcm-validate.h"

#ifndef __NR_faccessat2
#define __NR_faccessat2 439
#endif

void
vcm_fd_source_clear (VcmFdSource *source)
{
  g_clear_pointer (&source->path, g_free);
}

static const char *
kind_of (mode_t mode)
{
  switch (mode & S_IFMT)
    {
    case S_IFDIR:
      return "a directory";
    case S_IFREG:
      return "a regular file";
    case S_IFSOCK:
      return "a socket";
    case S_IFCHR:
      return "a character device";
    case S_IFBLK:
      return "a block device";
    case S_IFIFO:
      return "a FIFO";
    case S_IFLNK:
      return "a symbolic link";
    case 0:
      return "an anonymous inode (a pidfd, eventfd, epoll or the like)";
    default:
      return "of an unknown kind";
    }
}

/* @fd's kind, identity and owner as the kernel last saw them
 * (AT_STATX_DONT_SYNC): a FUSE or network filesystem is not asked, so this
 * may run on the main loop. For root, whose attributes decide nothing but
 * the identity shown. */
static int
stat_cached (int fd, struct stat *st)
{
  struct statx stx = { 0 };

  if (statx (fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC,
             STATX_TYPE | STATX_MODE | STATX_NLINK | STATX_UID | STATX_INO, &stx) < 0)
    return -1;
  *st = (struct stat){ 0 };
  st->st_mode = stx.stx_mode;
  st->st_nlink = stx.stx_nlink;
  st->st_uid = stx.stx_uid;
  st->st_ino = stx.stx_ino;
  st->st_dev = makedev (stx.stx_dev_major, stx.stx_dev_minor);
  return 0;
}

gboolean
vcm_fd_source_inspect (
  int fd, const char *arg_name, gboolean allow_file, gboolean root, VcmFdSource *out, GError **error)
{
  g_autofree char *proc = NULL;
  g_autofree char *path = NULL;
  struct statfs sfs;
  struct stat st;
  int flags;

  *out = (VcmFdSource){ 0 };
  /* what is asked of the fd next is its filesystem's to answer */
  if (!vcm_fsgate_reach (fd))
    {
      vcm_fsgate_set_error (error, arg_name, "the file descriptor");
      return FALSE;
    }
  flags = fcntl (fd, F_GETFL);
  if (flags < 0 || (root ? stat_cached (fd, &st) : fstat (fd, &st)) < 0)
    {
      g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT, "%s: not a usable file descriptor: %s",
                   arg_name, g_strerror (errno));
      return FALSE;
    }
  if ((flags & O_PATH) && !root)
    {
      g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT,
                   "%s: an O_PATH file descriptor proves nothing; open the %s for reading", arg_name,
                   S_ISDIR (st.st_mode) ? "directory" : "file");
      return FALSE;
    }
  if (!S_ISDIR (st.st_mode) && !(allow_file && S_ISREG (st.st_mode)))
    {
      g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT, "%s: the file descriptor is %s, not %s",
                   arg_name, kind_of (st.st_mode),
                   allow_file ? "a directory or a regular file" : "a directory");
      return FALSE;
    }
  /* as for a path (vcm-creds.c): whatever the fd's path says, even a bind
   * of /proc the caller made in a mount namespace of its own */
  if (!root && fstatfs (fd, &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC)
    {
      g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT,
                   "%s: the file descriptor lies on /proc, which only root may mount", arg_name);
      return FALSE;
    }
  proc = vcm_fdpath_proc_path (fd);
  path = g_file_read_link (proc, NULL);
  /* a memfd, a deleted file or an object of no mount the kernel can name */
  if (path == NULL || path[0] != '/' || st.st_nlink == 0 || g_str_has_prefix (path, "/memfd:"))
    {
      g_autofree char *quoted = vcm_validate_quote (path != NULL ? path : "");
      g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT,
                   "%s: the file descriptor is not of a file or directory that has a path "
                   "(a memfd, a deleted file or the like: '%s')",
                   arg_name, quoted);
      return FALSE;
    }
  out->path = g_steal_pointer (&path);
  out->major = major (st.st_dev);
  out->minor = minor (st.st_dev);
  out->inode = st.st_ino;
  out->owner = st.st_uid;
  out->is_dir = S_ISDIR (st.st_mode);
  return TRUE;
}

gboolean
vcm_fd_source_check_access (
  int fd, const VcmFdSource *source, const VcmCredentials *creds, const char *arg_name, GError **error)
{
  VcmSavedCreds saved;
  int rc = -1;
  int errsv;

  if (vcm_credentials_is_root (creds) || source->owner == creds->uid)
    return TRUE;
  if (vcm_credentials_enter (creds, &saved))
    rc = (int) syscall (__NR_faccessat2, fd, "", source->is_dir ? R_OK | X_OK : R_OK,
                        AT_EMPTY_PATH | AT_EACCESS);
  errsv = errno;
  vcm_credentials_leave (&saved);
  if (rc < 0)
    {
      g_autofree char *quoted = vcm_validate_quote (source->path);
      g_set_error (error, VCM_ERROR, VCM_ERROR_NOT_AUTHORIZED,
                   "%s: the caller cannot read '%s' with its own credentials (%s); holding a file "
                   "descriptor someone else opened is not enough",
                   arg_name, quoted, g_strerror (errsv));
      return FALSE;
    }
  return TRUE;
}

/* ---- the clone ------------------------------------------------------------ */

typedef struct {
  int pidfd; /* clone_in_namespace: whose namespace */
  int fd;
  unsigned int flags;
} CloneJob;

static int
join_and_clone (gpointer user_data)
{
  const CloneJob *job = user_data;

  vcm_privileges_raise_dormant (); /* this process only, and it exits */
  if (setns (job->pidfd, CLONE_NEWNS) < 0)
    return -1;
  return open_tree (job->fd, "", job->flags);
}

/* In a helper process: joins the mount namespace of @pidfd's process and
 * clones @fd's mount there. -1 with errno. */
static int
clone_in_namespace (int pidfd, int fd, unsigned int flags)
{
  CloneJob job = { .pidfd = pidfd, .fd = fd, .flags = flags };

  return vcm_child_run (join_and_clone, &job, NULL);
}

static int
unshare_and_clone (gpointer user_data)
{
  const CloneJob *job = user_data;

  if (fchdir (job->fd) < 0 || unshare (CLONE_NEWUSER | CLONE_NEWNS) < 0)
    return -1;
  return open_tree (AT_FDCWD, ".", job->flags & ~AT_EMPTY_PATH);
}

/* In a helper process: the clone of @fd's mount (a directory of the
 * service's mount namespace) made from a mount namespace of a user namespace
 * of the helper's own. The kernel copies the namespace's mounts locked
 * together (MNT_LOCKED), as it does for anyone's unprivileged namespace, so
 * the submounts that come with the clone cannot be unmounted on their own
 * wherever it is attached: not even where the caller holds every
 * capability, in a namespace of its own. fchdir first: the copy of the
 * namespace takes the working directory along to its copy of the mount.
 * -1 with errno. */
static int
clone_locked (int fd, unsigned int flags)
{
  CloneJob job = { .pidfd = -1, .fd = fd, .flags = flags };

  return vcm_child_run (unshare_and_clone, &job, NULL);
}

int
vcm_fd_source_clone_here (int fd, gboolean recursive)
{
  return open_tree (
    fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0));
}

int
vcm_fd_source_clone (int fd,
                     gboolean recursive,
                     gboolean lock,
                     pid_t pid,
                     uid_t uid,
                     const char *arg_name,
                     gboolean *out_in_caller_ns,
                     GError **error)
{
  unsigned int flags =
    OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0);
  vcm_autofd int pidfd = -1;
  struct stat st;
  int tree;
  int errsv = 0;

  if (lock && recursive && fstat (fd, &st) == 0 && S_ISDIR (st.st_mode))
    {
      tree = clone_locked (fd, flags);
      *out_in_caller_ns = FALSE;
      if (tree >= 0)
        return tree;
      errsv = errno;
      if (errsv != EINVAL)
        {
          g_set_error (error, VCM_ERROR, VCM_ERROR_FAILED,
                       "%s: cannot clone the mount with its submounts locked: %s", arg_name,
                       g_strerror (errsv));
          return -1;
        }
      /* not in the service's mount namespace: in the caller's, below */
      errno = EINVAL;
    }
  else
    tree = vcm_fd_source_clone_here (fd, recursive);
  *out_in_caller_ns = FALSE;
  if (tree >= 0)
    return tree;
  if (errno != EINVAL)
    {
      g_set_error (error, VCM_ERROR, VCM_ERROR_FAILED, "%s: cannot clone the mount: %s", arg_name,
                   g_strerror (errno));
      return -1;
    }
  /* the fd's mount is not in the service's mount namespace: the caller's? */
  pidfd = vcm_caller_pidfd_open (pid, uid, error);
  if (pidfd < 0)
    return -1;
  tree = clone_in_namespace (pidfd, fd, flags);
  if (tree < 0)
    {
      errsv = errno;
      g_set_error (error, VCM_ERROR, errsv == EINVAL ? VCM_ERROR_INVALID_ARGUMENT : VCM_ERROR_FAILED,
                   "%s: cannot clone the mount%s: %s", arg_name,
                   errsv == EINVAL ? " (it is in neither the service's nor the caller's mount namespace)"
                                   : " in the caller's mount namespace",
                   g_strerror (errsv));
      return -1;
    }
  *out_in_caller_ns = TRUE;
  return tree;
}

gboolean
vcm_fd_source_configure (int tree_fd, const VcmMountOpts *options, const char *arg_name, GError **error)
{
  struct mount_attr attr = { 0 };

  if (options->read_only)
    attr.attr_set |= MOUNT_ATTR_RDONLY;
  if (options->nosuid)
    attr.attr_set |= MOUNT_ATTR_NOSUID;
  if (options->nodev)
    attr.attr_set |= MOUNT_ATTR_NODEV;
  if (options->noexec)
    attr.attr_set |= MOUNT_ATTR_NOEXEC;
  attr.propagation = vcm_mount_opts_propagation_flag (options);
  if (mount_setattr (tree_fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
    {
      g_set_error (error, VCM_ERROR, VCM_ERROR_FAILED, "%s: cannot set the mount's options: %s",
                   arg_name, g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

gboolean
vcm_fd_source_submounts_read_only (int tree_fd, const char *arg_name, GError **error)
{
  struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };
  struct mount_attr rw = { .attr_clr = MOUNT_ATTR_RDONLY };
  struct statvfs sv;

  if (fstatvfs (tree_fd, &sv) < 0 ||
      mount_setattr (tree_fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &ro, sizeof ro) < 0 ||
      (!(sv.f_flag & ST_RDONLY) && mount_setattr (tree_fd, "", AT_EMPTY_PATH, &rw, sizeof rw) < 0))
    {
      g_set_error (error, VCM_ERROR, VCM_ERROR_FAILED,
                   "%s: cannot make the mounts below the source read-only: %s", arg_name,
                   g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}
