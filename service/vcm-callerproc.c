/* vcm-callerproc: the caller's process (pidfd checked against the bus's
 * uid) and its mount namespace. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vcm-callerproc.h"
#include "vcm-error.h"
#include "vcm-fd.h"
#include "vcm-privileges.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

/* Whether the process of @pidfd still runs (a pidfd polls readable once it
 * has exited; no permission to signal it is needed). */
static gboolean
pidfd_alive (int pidfd)
{
  struct pollfd p = { .fd = pidfd, .events = POLLIN };

  return poll (&p, 1, 0) == 0;
}

/* Whether the "Uid:" line of @status (the text of /proc/PID/status; NULL:
 * unreadable) names @uid as the real or the effective uid. */
static gboolean
status_has_uid (const char *status, pid_t pid, uid_t uid, GError **error)
{
  const char *line;
  unsigned int real, effective;

  if (status == NULL || (line = strstr (status, "\nUid:")) == NULL ||
      sscanf (line + 5, "%u %u", &real, &effective) != 2)
    {
      g_set_error (error, VCM_ERROR, VCM_ERROR_FAILED,
                   "cannot read the credentials of the caller's process %d", (int) pid);
      return FALSE;
    }
  if (real != uid && effective != uid)
    {
      g_set_error (error, VCM_ERROR, VCM_ERROR_FAILED,
                   "the caller's process %d is no longer the caller's (uid %u, not %u)", (int) pid,
                   effective, (unsigned) uid);
      return FALSE;
    }
  return TRUE;
}

/* Whether /proc/PID/status names @uid as the real or the effective uid. */
static gboolean
process_has_uid (pid_t pid, uid_t uid, GError **error)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/status", (int) pid);
  g_autofree char *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return status_has_uid (NULL, pid, uid, error);
  return status_has_uid (text, pid, uid, error);
}

int
vcm_caller_pidfd_open (pid_t pid, uid_t uid, GError **error)
{
  vcm_autofd int pidfd = -1;

  if (pid <= 0)
    {
      g_set_error (error, VCM_ERROR, VCM_ERROR_FAILED, "the bus did not say which process called");
      return -1;
    }
  pidfd = (int) syscall (SYS_pidfd_open, pid, 0);
  if (pidfd < 0)
    {
      g_set_error (error, VCM_ERROR, VCM_ERROR_FAILED, "the caller's process %d is gone: %s", (int) pid,
                   g_strerror (errno));
      return -1;
    }
  if (!process_has_uid (pid, uid, error))
    return -1;
  /* still alive: /proc/PID above was that process, not a later one */
  if (!pidfd_alive (pidfd))
    {
      g_set_error (error, VCM_ERROR, VCM_ERROR_FAILED, "the caller's process %d is gone", (int) pid);
      return -1;
    }
  return g_steal_fd (&pidfd);
}

/* Whether the mount namespace @path names beneath @dirfd (an entry of the
 * caller's process @pid in /proc, read with the dormant privileges) is the
 * service's own. */
static gboolean
mount_namespace_is_ours (int dirfd, const char *path, pid_t pid, gboolean *out_same, GError **error)
{
  struct stat theirs, ours;
  int rc;

  vcm_privileges_raise_dormant ();
  rc = fstatat (dirfd, path, &theirs, 0);
  vcm_privileges_lower_dormant ();
  if (rc < 0 || stat ("/proc/self/ns/mnt", &ours) < 0)
    {
      g_set_error (error, VCM_ERROR, VCM_ERROR_FAILED,
                   "cannot tell the mount namespace of the caller's process %d: %s", (int) pid,
                   g_strerror (errno));
      return FALSE;
    }
  *out_same = theirs.st_dev == ours.st_dev && theirs.st_ino == ours.st_ino;
  return TRUE;
}

gboolean
vcm_caller_same_mount_namespace (int pidfd, pid_t pid, gboolean *out_same, GError **error)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/ns/mnt", (int) pid);

  if (!mount_namespace_is_ours (AT_FDCWD, path, pid, out_same, error))
    return FALSE;
  /* the namespace read belonged to the pidfd's process if it still lives */
  if (!pidfd_alive (pidfd))
    {
      g_set_error (error, VCM_ERROR, VCM_ERROR_FAILED, "the caller's process %d is gone", (int) pid);
      return FALSE;
    }
  return TRUE;
}

/* Whether this kernel (or what runs the service) lacks pidfd_open(2);
 * asked once. */
static gboolean
pidfd_open_missing (void)
{
  static gint missing = -1; /* not asked yet */
  gint known = g_atomic_int_get (&missing);

  if (known < 0)
    {
      int fd = (int) syscall (SYS_pidfd_open, getpid (), 0);

      known = fd < 0 && errno == ENOSYS;
      if (fd >= 0)
        close (fd);
      g_atomic_int_set (&missing, known);
    }
  return known;
}

/* Where pidfd_open(2) is not there (kernels before 5.3, seccomp filters,
 * emulators): the same question through a directory fd of /proc/PID. Such an
 * fd stays bound to the process it was opened for: once that process is
 * gone, nothing can be opened beneath it, even where its pid is reused, so
 * the uid and the namespace read through it are both that process's. */
static gboolean
same_mount_namespace_by_procfd (pid_t pid, uid_t uid, gboolean *out_same, GError **error)
{
  g_autofree char *dir = g_strdup_printf ("/proc/%d", (int) pid);
  vcm_autofd int procfd = -1;
  vcm_autofd int statusfd = -1;
  char text[4096];
  gsize len = 0;

  procfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (procfd >= 0)
    statusfd = openat (procfd, "status", O_RDONLY | O_CLOEXEC);
  if (statusfd < 0)
    {
      g_set_error (error, VCM_ERROR, VCM_ERROR_FAILED, "the caller's process %d is gone: %s", (int) pid,
                   g_strerror (errno));
      return FALSE;
    }
  while (len < sizeof text - 1)
    {
      ssize_t n = read (statusfd, text + len, sizeof text - 1 - len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      len += (gsize) n;
    }
  text[len] = '\0';
  return status_has_uid (text, pid, uid, error) &&
    mount_namespace_is_ours (procfd, "ns/mnt", pid, out_same, error);
}

gboolean
vcm_caller_check_mount_namespace (
  pid_t pid, uid_t uid, const char *method, const char *fd_method, GError **error)
{
  vcm_autofd int pidfd = -1;
  gboolean same = TRUE;

  if (pid <= 0)
    return TRUE;
  if (pidfd_open_missing ())
    {
      if (!same_mount_namespace_by_procfd (pid, uid, &same, error))
        return FALSE;
    }
  else
    {
      pidfd = vcm_caller_pidfd_open (pid, uid, error);
      if (pidfd < 0 || !vcm_caller_same_mount_namespace (pidfd, pid, &same, error))
        return FALSE;
    }
  if (!same)
    {
      g_set_error (error, VCM_ERROR, VCM_ERROR_FOREIGN_MOUNT_NAMESPACE,
                   "%s: the caller is in another mount namespace than the service's, where its "
                   "path would name the service's object, not the caller's; open the source and "
                   "pass the file descriptor to %s instead",
                   method, fd_method);
      return FALSE;
    }
  return TRUE;
}
