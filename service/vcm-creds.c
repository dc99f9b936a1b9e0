/* vcm-creds: who a caller is on the filesystem, and doing things as that
 * caller. The credentials come from the bus (GetConnectionCredentials:
 * UnixUserID and UnixGroupIDs), never from the user database: a caller that
 * dropped a group does not get its access back, and nothing blocks on NSS.
 * Each operation switches this thread's filesystem credentials (fsuid,
 * fsgid, groups, with the raw per-thread syscalls) to the caller's for the
 * call and back, so the kernel's own permission checks decide. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/xattr.h>

#include "vcm-creds.h"
#include "vcm-error.h"
#include "vcm-fd.h"
#include "vcm-fdpath.h"
#include "vcm-validate.h"

#ifndef __NR_faccessat2
#define __NR_faccessat2 439
#endif

VcmCredentials *
vcm_credentials_new (uid_t uid, const gid_t *groups, guint n_groups)
{
  VcmCredentials *creds;

  g_return_val_if_fail (n_groups > 0, NULL);
  creds = g_new0 (VcmCredentials, 1);
  creds->uid = uid;
  creds->gid = groups[0];
  creds->n_groups = n_groups;
  creds->groups = g_memdup2 (groups, sizeof (gid_t) * n_groups);
  return creds;
}

VcmCredentials *
vcm_credentials_copy (const VcmCredentials *creds)
{
  VcmCredentials *copy;

  if (creds == NULL)
    return NULL;
  copy = g_new0 (VcmCredentials, 1);
  *copy = *creds;
  copy->groups = g_memdup2 (creds->groups, sizeof (gid_t) * creds->n_groups);
  return copy;
}

void
vcm_credentials_free (VcmCredentials *creds)
{
  if (creds == NULL)
    return;
  g_free (creds->groups);
  g_free (creds);
}

gboolean
vcm_credentials_is_root (const VcmCredentials *creds)
{
  return creds == NULL || creds->uid == 0;
}

/* ---- switching this thread's filesystem credentials -------------------- */

/* This thread's filesystem credentials, to put back after a switch. The raw
 * syscalls act on the calling thread only; glibc's wrappers of setgroups()
 * (and setfsuid on some libcs) would change every thread of the process. */

static uid_t
current_fsuid (void)
{
  return (uid_t) syscall (SYS_setfsuid, (uid_t) -1);
}

static gid_t
current_fsgid (void)
{
  return (gid_t) syscall (SYS_setfsgid, (gid_t) -1);
}

/* Puts this thread's credentials back. Failing to do so would leave a
 * thread of a root daemon running with a caller's identity: abort. errno is
 * kept. */
void
vcm_credentials_leave (VcmSavedCreds *saved)
{
  int errsv = errno;

  if (!saved->switched)
    return;
  syscall (SYS_setfsuid, saved->fsuid);
  if (current_fsuid () != saved->fsuid)
    g_error ("Cannot restore the filesystem uid %u", (guint) saved->fsuid);
  syscall (SYS_setfsgid, saved->fsgid);
  if (current_fsgid () != saved->fsgid)
    g_error ("Cannot restore the filesystem gid %u", (guint) saved->fsgid);
  if (syscall (SYS_setgroups, (size_t) saved->n_groups, saved->groups) != 0)
    g_error ("Cannot restore the supplementary groups: %s", g_strerror (errno));
  g_clear_pointer (&saved->groups, g_free);
  saved->switched = FALSE;
  errno = errsv;
}

/* Switches to @creds (nothing to do for root). FALSE with errno set. */
gboolean
vcm_credentials_enter (const VcmCredentials *creds, VcmSavedCreds *saved)
{
  int n;

  memset (saved, 0, sizeof *saved);
  if (vcm_credentials_is_root (creds))
    return TRUE;

  saved->fsuid = current_fsuid ();
  saved->fsgid = current_fsgid ();
  n = getgroups (0, NULL);
  if (n < 0)
    return FALSE;
  saved->groups = g_new0 (gid_t, (gsize) n + 1);
  saved->n_groups = getgroups (n, saved->groups);
  if (saved->n_groups < 0)
    {
      g_clear_pointer (&saved->groups, g_free);
      return FALSE;
    }
  saved->switched = TRUE;

  if (syscall (SYS_setgroups, (size_t) creds->n_groups, creds->groups) != 0)
    goto fail;
  syscall (SYS_setfsgid, creds->gid);
  if (current_fsgid () != creds->gid)
    goto fail;
  syscall (SYS_setfsuid, creds->uid);
  if (current_fsuid () != creds->uid)
    goto fail;
  return TRUE;

fail:
  vcm_credentials_leave (saved);
  errno = EPERM;
  return FALSE;
}

static gboolean
errno_is_unreachable (int errsv)
{
  return errsv == EACCES || errsv == EPERM || errsv == ENOENT || errsv == ENOTDIR || errsv == ELOOP ||
    errsv == ENAMETOOLONG;
}

/* The error for @path that could not be reached: missing and unreachable
 * look the same, so an unprivileged caller learns nothing about paths it
 * could not reach itself. */
static void
set_unreachable_error (GError **error, int errsv, const char *arg_name, const char *path)
{
  g_autofree char *quoted = vcm_validate_quote (path);

  if (errno_is_unreachable (errsv))
    g_set_error (error, VCM_ERROR, VCM_ERROR_NOT_FOUND, "%s: no such file or directory: '%s'", arg_name,
                 quoted);
  else
    g_set_error (error, VCM_ERROR, VCM_ERROR_FAILED, "%s: cannot open '%s': %s", arg_name, quoted,
                 g_strerror (errsv));
}

int
vcm_open_path_as (const char *arg_name, const char *path, const VcmCredentials *creds, GError **error)
{
  VcmSavedCreds saved;
  int fd = -1;
  int errsv;

  g_return_val_if_fail (arg_name != NULL, -1);
  g_return_val_if_fail (path != NULL, -1);

  if (vcm_credentials_enter (creds, &saved))
    fd = vcm_fdpath_open_following (path);
  errsv = errno;
  vcm_credentials_leave (&saved);
  if (fd < 0)
    set_unreachable_error (error, errsv, arg_name, path);
  return fd;
}

/* 0 if the caller (whose credentials are in force) may read @fd, else -1
 * with errno. */
static int
check_readable (int fd, mode_t mode)
{
  g_autofree char *proc = NULL;
  int rfd;

  if (S_ISDIR (mode))
    rfd = openat (fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  else if (S_ISREG (mode))
    {
      /* reopening through the magic link of our own fd checks the
       * caller's permission on the inode, as open(2) of the path would */
      proc = vcm_fdpath_proc_path (fd);
      rfd = open (proc, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    }
  else /* a device, FIFO or socket: never opened, only asked */
    return (int) syscall (__NR_faccessat2, fd, "", R_OK, AT_EMPTY_PATH | AT_EACCESS);
  if (rfd < 0)
    return -1;
  close (rfd);
  return 0;
}

int
vcm_open_source_as (const char *arg_name,
                    const char *path,
                    const VcmCredentials *creds,
                    char **out_canonical,
                    gboolean *out_is_dir,
                    GError **error)
{
  g_autofree char *proc = NULL;
  g_autofree char *canonical = NULL;
  vcm_autofd int fd = -1;
  VcmSavedCreds saved;
  struct stat st;
  struct statfs sfs;
  int errsv;
  int rc = -1;

  if (vcm_credentials_enter (creds, &saved))
    {
      fd = vcm_fdpath_open_following (path);
      if (fd >= 0 && fstat (fd, &st) == 0)
        rc = vcm_credentials_is_root (creds) ? 0 : check_readable (fd, st.st_mode);
    }
  errsv = errno;
  vcm_credentials_leave (&saved);
  if (rc < 0)
    {
      set_unreachable_error (error, errsv, arg_name, path);
      return -1;
    }

  proc = vcm_fdpath_proc_path (fd);
  canonical = g_file_read_link (proc, NULL);
  if (canonical == NULL || canonical[0] != '/')
    {
      g_autofree char *quoted = vcm_validate_quote (path);
      g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT,
                   "%s: '%s' has no path in the service's view", arg_name, quoted);
      return -1;
    }
  if (!g_utf8_validate (canonical, -1, NULL))
    {
      g_autofree char *quoted = vcm_validate_quote (path);
      g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT,
                   "%s: '%s' leads to a path that is not valid UTF-8 (a rule could not be "
                   "shown it)",
                   arg_name, quoted);
      return -1;
    }
  if (!vcm_credentials_is_root (creds) && fstatfs (fd, &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC)
    {
      /* /proc/self is the service: its fds and maps are not a caller's to mount */
      g_autofree char *quoted = vcm_validate_quote (path);
      g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT,
                   "%s: '%s' lies on /proc, which only root may mount", arg_name, quoted);
      return -1;
    }
  if (out_canonical)
    *out_canonical = g_steal_pointer (&canonical);
  if (out_is_dir)
    *out_is_dir = S_ISDIR (st.st_mode);
  return g_steal_fd (&fd);
}

int
vcm_create_as (const VcmCredentials *creds, int dir_fd, const char *name, gboolean as_file, mode_t mode)
{
  VcmSavedCreds saved;
  int rc = -1;

  if (vcm_credentials_enter (creds, &saved))
    {
      if (as_file)
        {
          int fd = openat (dir_fd, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, mode);

          if (fd >= 0)
            {
              close (fd);
              rc = 0;
            }
        }
      else
        rc = mkdirat (dir_fd, name, mode);
    }
  vcm_credentials_leave (&saved);
  return rc;
}

gboolean
vcm_dir_is_roots_alone (int dir_fd, gboolean *out_fixed, GError **error)
{
  g_autofree char *proc = vcm_fdpath_proc_path (dir_fd);
  struct stat st;

  if (fstat (dir_fd, &st) < 0)
    return vcm_error_set_errno (error, errno, "cannot stat", "a directory of the mount point's path");
  /* Not the caller's own permissions now: an owner can chmod, another
   * process of the same user may hold a group the caller dropped. */
  *out_fixed = st.st_uid == 0 && (st.st_mode & (S_IWGRP | S_IWOTH)) == 0 &&
    getxattr (proc, "system.posix_acl_access", NULL, 0) < 0;
  return TRUE;
}
