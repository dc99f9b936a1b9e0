/* vcm-creds: whose view a path is resolved with. A path named by an
 * unprivileged caller is opened with that caller's filesystem credentials
 * (per-thread fsuid, fsgid and groups), so the service never reaches, for
 * them, what they could not reach themselves. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>

#include "vcm-creds.h"
#include "vcm-error.h"
#include "vcm-validate.h"

VcmCredentials *
vcm_credentials_new_for_uid (uid_t    uid,
                             GError **error)
{
  g_autoptr(VcmCredentials) creds = NULL;
  g_autofree char *buf = NULL;
  struct passwd pw, *result = NULL;
  long size_hint;
  gsize buf_size;
  int ngroups;
  int rc;

  size_hint = sysconf (_SC_GETPW_R_SIZE_MAX);
  buf_size = size_hint > 0 ? (gsize) size_hint : 1024;

  for (;;)
    {
      buf = g_malloc (buf_size);
      rc = getpwuid_r (uid, &pw, buf, buf_size, &result);
      if (rc != ERANGE)
        break;
      g_clear_pointer (&buf, g_free);
      if (buf_size >= 1024 * 1024)
        break;
      buf_size *= 2;
    }

  if (rc != 0)
    {
      g_set_error (error, VCM_ERROR, VCM_ERROR_FAILED,
                   "uid %u: cannot read the user database: %s",
                   (guint) uid, g_strerror (rc));
      return NULL;
    }
  if (result == NULL)
    {
      g_set_error (error, VCM_ERROR, VCM_ERROR_FAILED,
                   "uid %u: no such user in the user database", (guint) uid);
      return NULL;
    }

  creds = g_new0 (VcmCredentials, 1);
  creds->uid = uid;
  creds->gid = pw.pw_gid;

  ngroups = 16;
  for (;;)
    {
      int n = ngroups;

      creds->groups = g_renew (gid_t, creds->groups, (gsize) n);
      if (getgrouplist (pw.pw_name, pw.pw_gid, creds->groups, &n) >= 0)
        {
          ngroups = n;
          break;
        }
      /* On -1, @n holds the number needed. */
      if (n <= ngroups || n > 65536)
        {
          g_set_error (error, VCM_ERROR, VCM_ERROR_FAILED,
                       "uid %u: cannot read the group list of '%s'",
                       (guint) uid, pw.pw_name);
          return NULL;
        }
      ngroups = n;
    }
  creds->n_groups = (guint) ngroups;

  return g_steal_pointer (&creds);
}

void
vcm_credentials_free (VcmCredentials *creds)
{
  if (creds == NULL)
    return;
  g_free (creds->groups);
  g_free (creds);
}

/* ---- opening a path as the caller ------------------------------------- */

/* This thread's filesystem credentials, to put back after a switch. The raw
 * syscalls act on the calling thread only; glibc's wrappers of setgroups()
 * (and setfsuid on some libcs) would change every thread of the process. */
typedef struct {
  uid_t  fsuid;
  gid_t  fsgid;
  int    n_groups;
  gid_t *groups;
} SavedFsCreds;

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

static gboolean
save_fs_creds (SavedFsCreds *saved,
               GError      **error)
{
  int n;

  saved->fsuid = current_fsuid ();
  saved->fsgid = current_fsgid ();
  saved->groups = NULL;

  n = getgroups (0, NULL);
  if (n < 0)
    return vcm_error_set_errno (error, errno, "getgroups", "(credentials)");
  saved->groups = g_new0 (gid_t, (gsize) n + 1);
  n = getgroups (n, saved->groups);
  if (n < 0)
    {
      int errsv = errno;
      g_clear_pointer (&saved->groups, g_free);
      return vcm_error_set_errno (error, errsv, "getgroups", "(credentials)");
    }
  saved->n_groups = n;
  return TRUE;
}

/* Puts this thread's credentials back. Failing to do so would leave a
 * thread of a root daemon running with a caller's identity: abort. */
static void
restore_fs_creds (SavedFsCreds *saved)
{
  syscall (SYS_setfsuid, saved->fsuid);
  if (current_fsuid () != saved->fsuid)
    g_error ("Cannot restore the filesystem uid %u", (guint) saved->fsuid);

  syscall (SYS_setfsgid, saved->fsgid);
  if (current_fsgid () != saved->fsgid)
    g_error ("Cannot restore the filesystem gid %u", (guint) saved->fsgid);

  if (syscall (SYS_setgroups, (size_t) saved->n_groups, saved->groups) != 0)
    g_error ("Cannot restore the supplementary groups: %s", g_strerror (errno));

  g_clear_pointer (&saved->groups, g_free);
}

static gboolean
switch_fs_creds (const VcmCredentials *creds,
                 GError              **error)
{
  if (syscall (SYS_setgroups, (size_t) creds->n_groups, creds->groups) != 0)
    return vcm_error_set_errno (error, errno, "setgroups", "(caller credentials)");

  syscall (SYS_setfsgid, creds->gid);
  if (current_fsgid () != creds->gid)
    {
      g_set_error (error, VCM_ERROR, VCM_ERROR_FAILED,
                   "cannot switch the filesystem gid to %u", (guint) creds->gid);
      return FALSE;
    }

  syscall (SYS_setfsuid, creds->uid);
  if (current_fsuid () != creds->uid)
    {
      g_set_error (error, VCM_ERROR, VCM_ERROR_FAILED,
                   "cannot switch the filesystem uid to %u", (guint) creds->uid);
      return FALSE;
    }

  return TRUE;
}

static gboolean
errno_is_unreachable (int errsv)
{
  return errsv == EACCES || errsv == ENOENT || errsv == ENOTDIR || errsv == ELOOP;
}

int
vcm_open_path_as (const char           *arg_name,
                  const char           *path,
                  const VcmCredentials *creds,
                  GError              **error)
{
  SavedFsCreds saved = { 0, };
  gboolean switched = FALSE;
  int fd;
  int errsv;

  g_return_val_if_fail (arg_name != NULL, -1);
  g_return_val_if_fail (path != NULL, -1);

  if (creds != NULL && creds->uid != 0)
    {
      if (!save_fs_creds (&saved, error))
        return -1;
      if (!switch_fs_creds (creds, error))
        {
          restore_fs_creds (&saved);
          return -1;
        }
      switched = TRUE;
    }

  fd = open (path, O_PATH | O_CLOEXEC);
  errsv = errno;

  if (switched)
    restore_fs_creds (&saved);

  if (fd >= 0)
    return fd;

  if (errno_is_unreachable (errsv))
    {
      /* The same answer for missing and unreachable: an unprivileged caller
       * must not learn about paths it could not reach itself. */
      g_autofree char *quoted = vcm_validate_quote (path);
      g_set_error (error, VCM_ERROR, VCM_ERROR_NOT_FOUND,
                   "%s: no such file or directory: '%s'", arg_name, quoted);
    }
  else
    {
      g_autofree char *quoted = vcm_validate_quote (path);
      g_set_error (error, VCM_ERROR, VCM_ERROR_FAILED,
                   "%s: cannot open '%s': %s", arg_name, quoted, g_strerror (errsv));
    }
  return -1;
}

