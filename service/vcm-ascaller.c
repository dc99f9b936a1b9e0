/* vcm-ascaller: opening what a caller names as that caller: its
 * credentials switched in for the walk (vcm-creds), the path followed
 * component by component (vcm-fdpath), missing and unreachable told apart
 * from nothing. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <linux/magic.h>

#include "vcm-ascaller.h"
#include "vcm-error.h"
#include "vcm-fd.h"
#include "vcm-fdpath.h"
#include "vcm-fsgate.h"
#include "vcm-validate.h"

#ifndef __NR_faccessat2
#define __NR_faccessat2 439
#endif

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

  if (vcm_fsgate_turned_away ())
    vcm_fsgate_set_error (error, arg_name, quoted);
  else if (errno_is_unreachable (errsv))
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
