/* vcm-mounter-shared: the mounter's hold on the shared dir: the directory
 * opened once at start, the path the kernel names it by (the configured
 * path may go through symlinks), and whether that path still leads to it. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "vcm-error.h"
#include "vcm-fd.h"
#include "vcm-fdpath.h"
#include "vcm-mounter-private.h"
#include "vcm-sys.h"
#include "vcm-validate.h"

/* Whether @fd and @shared_fd are the same directory on the same mount. */
static gboolean
same_place (int fd, int shared_fd)
{
  struct stat a, b;
  guint64 a_id = 0, b_id = 1;

  return fd >= 0 && fstat (fd, &a) == 0 && fstat (shared_fd, &b) == 0 && a.st_dev == b.st_dev &&
    a.st_ino == b.st_ino &&
    vcm_sys_stat_mount (fd, "", AT_EMPTY_PATH, &a_id, NULL, NULL, NULL, NULL) == 0 &&
    vcm_sys_stat_mount (shared_fd, "", AT_EMPTY_PATH, &b_id, NULL, NULL, NULL, NULL) == 0 &&
    a_id == b_id;
}

/* The path of the shared dir as the kernel names the directory opened (the
 * mount table's name for it): the configured path may go through symlinks
 * (/var/run -> /run), and every comparison with the mount table's paths,
 * every mount point handed out and the watch use that name. The configured
 * one stays an alias that arguments may name. Refused when the kernel's
 * name does not lead back to the directory opened (a directory of another
 * mount namespace's or one deleted). */
static gboolean
resolve_shared_dir (VcmMounter *self, GError **error)
{
  g_autofree char *proc = vcm_fdpath_proc_path (self->shared_fd);
  g_autofree char *real = g_file_read_link (proc, NULL);
  vcm_autofd int fd = -1;

  if (real != NULL && real[0] == '/')
    fd = open (real, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (!same_place (fd, self->shared_fd))
    {
      g_autofree char *quoted = vcm_validate_quote (real != NULL ? real : "");
      g_set_error (error, VCM_ERROR, VCM_ERROR_FAILED,
                   "shared-dir: the kernel names the directory %s leads to '%s', which does not "
                   "lead back to it (a symlink changed meanwhile, or a directory this mount "
                   "namespace cannot reach); configure the shared dir by a path without symlinks",
                   self->shared_dir, quoted);
      return FALSE;
    }
  if (!g_str_equal (real, self->shared_dir))
    {
      g_message ("The shared dir %s is %s (through a symlink): mount points are named by the "
                 "latter",
                 self->shared_dir, real);
      self->shared_dir_alias = g_steal_pointer (&self->shared_dir);
      self->shared_dir = g_steal_pointer (&real);
    }
  return TRUE;
}

gboolean
vcm_mounter_open_shared_dir (VcmMounter *self, GError **error)
{
  self->shared_fd = open (self->shared_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (self->shared_fd < 0)
    return vcm_error_set_errno (error, errno, "cannot open the shared dir", self->shared_dir);
  return resolve_shared_dir (self, error);
}

/* Whether the shared dir's path still leads to the directory opened at
 * start, on the same mount. A mount made since on the shared dir or on a
 * directory above it covers it: the service would still mount beneath the
 * directory it holds open, but the path it hands out (and every client
 * uses) would lead into that mount instead. New mounts are refused while
 * it is there (unmounts go on: they only remove what the service made);
 * said once in the log when it begins and when it ends. */
gboolean
vcm_mounter_shared_dir_reachable (VcmMounter *self, GError **error)
{
  vcm_autofd int fd = open (self->shared_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  gboolean ok = same_place (fd, self->shared_fd);
  /* runs are in worker threads: the flag only decides what is logged */
  if (g_atomic_int_compare_and_exchange (&self->shared_dir_covered, ok, !ok))
    {
      if (ok)
        g_message ("The shared dir %s leads to the directory opened at start again: "
                   "mounting again",
                   self->shared_dir);
      else
        g_warning ("The shared dir %s no longer leads to the directory opened at start: "
                   "a mount made since covers it (on it or on a directory above it). "
                   "MountRootfs and BindMount are refused until that mount is gone or the "
                   "service is restarted",
                   self->shared_dir);
    }
  if (!ok)
    g_set_error (error, VCM_ERROR, VCM_ERROR_FAILED,
                 "the shared dir %s is covered by a mount made after the service started "
                 "(on it or on a directory above it): a mount made now could not be reached "
                 "by its path; remove that mount or restart the service",
                 self->shared_dir);
  return ok;
}
