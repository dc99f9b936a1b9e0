/* vcm-seccomp: a seccomp filter for the tests that refuses chosen syscalls
 * with ENOSYS or EPERM (raw classic BPF: no library needed for a handful of
 * syscall numbers). */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "vcm-seccomp.h"

#if defined(__x86_64__)
#define VCM_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define VCM_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif

/* The numbers of the syscalls since 424 are the same on x86_64 and on the
 * generic table (arm64); older ones differ (fanotify_* below). */
#if defined(__x86_64__)
#define VCM_NR_FANOTIFY_INIT 300
#define VCM_NR_FANOTIFY_MARK 301
#else
#define VCM_NR_FANOTIFY_INIT 262
#define VCM_NR_FANOTIFY_MARK 263
#endif

static const struct {
  const char *name;
  guint32 nr;
} known[] = {
  { "fanotify_init", VCM_NR_FANOTIFY_INIT },
  { "fanotify_mark", VCM_NR_FANOTIFY_MARK },
  { "open_tree", 428 },
  { "move_mount", 429 },
  { "openat2", 437 },
  { "mount_setattr", 442 },
  { "statmount", 457 },
  { "listmount", 458 },
};

static gboolean
lookup (const char *name, guint32 *out_nr)
{
  for (gsize i = 0; i < G_N_ELEMENTS (known); i++)
    if (g_str_equal (known[i].name, name))
      {
        *out_nr = known[i].nr;
        return TRUE;
      }
  return FALSE;
}

gboolean
vcm_seccomp_refuse (const char *const *names, int errsv, GError **error)
{
#ifndef VCM_AUDIT_ARCH
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "no seccomp filter for this architecture");
  return FALSE;
#else
  g_autoptr (GArray) prog = g_array_new (FALSE, FALSE, sizeof (struct sock_filter));
  struct sock_fprog fprog;
  const struct sock_filter head[] = {
    BPF_STMT (BPF_LD | BPF_W | BPF_ABS, offsetof (struct seccomp_data, arch)),
    BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, VCM_AUDIT_ARCH, 1, 0),
    BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    BPF_STMT (BPF_LD | BPF_W | BPF_ABS, offsetof (struct seccomp_data, nr)),
  };
  const struct sock_filter allow = BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_ALLOW);

  g_array_append_vals (prog, head, G_N_ELEMENTS (head));
  for (gsize i = 0; names[i] != NULL; i++)
    {
      guint32 nr;
      struct sock_filter pair[] = {
        BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),
        BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ((guint32) errsv & SECCOMP_RET_DATA)),
      };

      if (!lookup (names[i], &nr))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "unknown syscall '%s'", names[i]);
          return FALSE;
        }
      pair[0].k = nr;
      g_array_append_vals (prog, pair, G_N_ELEMENTS (pair));
    }
  g_array_append_val (prog, allow);

  fprog.len = (unsigned short) prog->len;
  fprog.filter = (struct sock_filter *) (void *) prog->data;
  /* Root may install a filter as it is; others need no_new_privs first. */
  if (prctl (PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog) != 0 &&
      (errno != EACCES || prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
       prctl (PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog) != 0))
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "cannot install the seccomp filter: %s",
                   g_strerror (e));
      return FALSE;
    }
  return TRUE;
#endif
}

gboolean
vcm_seccomp_refuse_spec (const char *spec, GError **error)
{
  const char *colon = strchr (spec, ':');
  g_autofree char *errname = colon ? g_strndup (spec, (gsize) (colon - spec)) : NULL;
  g_auto (GStrv) names = NULL;
  int errsv;

  if (g_strcmp0 (errname, "ENOSYS") == 0)
    errsv = ENOSYS;
  else if (g_strcmp0 (errname, "EPERM") == 0)
    errsv = EPERM;
  else
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "'%s': expected ENOSYS:NAME[,NAME...] or EPERM:NAME[,NAME...]", spec);
      return FALSE;
    }
  names = g_strsplit (colon + 1, ",", -1);
  return vcm_seccomp_refuse ((const char *const *) names, errsv, error);
}
