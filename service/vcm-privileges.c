/* vcm-privileges: what vcmountd may do as a process, narrowed at start to
 * what it needs (raw capget/capset and prctl: a handful of bits, no library
 * needed). */
#include "config.h"

#include <errno.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/capability.h>

#include "vcm-error.h"
#include "vcm-privileges.h"

static const int kept[] = {
  CAP_SYS_ADMIN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_SETUID, CAP_SETGID, CAP_SETFCAP,
};

/* Permitted but not effective: raised by one thread (or a helper process)
 * for one step. A source fd of a caller in a mount namespace of its own is
 * cloned there: the caller's namespace is looked at (/proc/PID/ns/mnt)
 * and joined (setns). Kept effective, CAP_SYS_PTRACE would let a thread
 * switched to a caller's credentials follow /proc links of other users'
 * processes. */
static const int dormant[] = {
  CAP_SYS_PTRACE,
  CAP_SYS_CHROOT,
};

static gboolean
is_dormant (int cap)
{
  for (gsize i = 0; i < G_N_ELEMENTS (dormant); i++)
    if (dormant[i] == cap)
      return TRUE;
  return FALSE;
}

static gboolean
is_kept (int cap)
{
  if (is_dormant (cap))
    return TRUE;
  for (gsize i = 0; i < G_N_ELEMENTS (kept); i++)
    if (kept[i] == cap)
      return TRUE;
  return FALSE;
}

static int
last_cap (void)
{
  g_autofree char *text = NULL;

  if (g_file_get_contents ("/proc/sys/kernel/cap_last_cap", &text, NULL, NULL))
    return (int) g_ascii_strtoll (text, NULL, 10);
  return CAP_LAST_CAP;
}

gboolean
vcm_privileges_drop (GError **error)
{
  struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
  struct __user_cap_data_struct data[2] = { { 0 } };
  guint32 mask[2] = { 0, 0 };
  guint32 permitted[2] = { 0, 0 };
  int last = last_cap ();

  for (gsize i = 0; i < G_N_ELEMENTS (kept); i++)
    mask[kept[i] / 32] |= 1U << (kept[i] % 32);
  permitted[0] = mask[0];
  permitted[1] = mask[1];
  for (gsize i = 0; i < G_N_ELEMENTS (dormant); i++)
    permitted[dormant[i] / 32] |= 1U << (dormant[i] % 32);

  if (prctl (PR_CAPBSET_READ, CAP_SETPCAP, 0, 0, 0) >= 0)
    for (int cap = 0; cap <= last; cap++)
      if (!is_kept (cap) && prctl (PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
        {
          if (errno == EPERM)
            break; /* no CAP_SETPCAP: the bounding set stays as it is */
          return vcm_error_set_errno (error, errno, "cannot drop a capability from", "the bounding set");
        }

  if (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
    return vcm_error_set_errno (error, errno, "cannot clear", "the ambient capabilities");

  if (syscall (SYS_capget, &header, data) < 0)
    return vcm_error_set_errno (error, errno, "cannot read", "the capabilities");
  for (int i = 0; i < 2; i++)
    {
      data[i].effective &= mask[i];
      data[i].permitted &= permitted[i];
      data[i].inheritable = 0;
    }
  if (syscall (SYS_capset, &header, data) < 0)
    return vcm_error_set_errno (error, errno, "cannot set", "the capabilities");

  if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return vcm_error_set_errno (error, errno, "cannot set", "no_new_privs");
  return TRUE;
}

/* Sets this thread's dormant capabilities effective (@raise, where
 * permitted) or not. */
static gboolean
set_dormant (gboolean raise)
{
  struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
  struct __user_cap_data_struct data[2] = { { 0 } };

  if (syscall (SYS_capget, &header, data) < 0)
    return FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS (dormant); i++)
    {
      guint32 bit = 1U << (dormant[i] % 32);

      if (raise && (data[dormant[i] / 32].permitted & bit))
        data[dormant[i] / 32].effective |= bit;
      else
        data[dormant[i] / 32].effective &= ~bit;
    }
  return syscall (SYS_capset, &header, data) == 0;
}

void
vcm_privileges_raise_dormant (void)
{
  int errsv = errno;

  (void) set_dormant (TRUE); /* where it fails, the step that needs them says so */
  errno = errsv;
}

void
vcm_privileges_lower_dormant (void)
{
  int errsv = errno;

  if (!set_dormant (FALSE))
    g_error ("Cannot lower this thread's capabilities again: %s", g_strerror (errno));
  errno = errsv;
}
