/* vcm-creds: who a caller is on the filesystem, and this thread taking its
 * identity for a while. The credentials come from the bus
 * (GetConnectionCredentials: UnixUserID and UnixGroupIDs), never from the
 * user database: a caller that dropped a group does not get its access
 * back, and nothing blocks on NSS. A switch changes this thread's
 * filesystem credentials (fsuid, fsgid, groups, with the raw per-thread
 * syscalls) to the caller's and back, so the kernel's own permission checks
 * decide. The bottom layer: path resolution (vcm-fdpath) and the as-caller
 * operations (vcm-ascaller) build on it. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/types.h>

#include "vcm-creds.h"

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
