/* vcm-bench-proc: processes' CPU times and bind mounts for the benchmarks. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <glib/gstdio.h>

#include "vcm-bench-proc.h"

gboolean
vcm_bench_proc_cpu_ticks (int pid, guint64 *utime, guint64 *stime)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", pid);
  g_autofree char *text = NULL;
  g_auto (GStrv) fields = NULL;
  const char *p;

  if (pid <= 0 || !g_file_get_contents (path, &text, NULL, NULL) || (p = strrchr (text, ')')) == NULL)
    return FALSE;
  fields = g_strsplit (p + 2, " ", 0);
  if (g_strv_length (fields) < 13)
    return FALSE;
  /* after ")": state(0) ... utime is field 14 overall = index 11 here, stime 12 */
  *utime = g_ascii_strtoull (fields[11], NULL, 10);
  *stime = g_ascii_strtoull (fields[12], NULL, 10);
  return TRUE;
}

void
vcm_bench_mount_binds (const char *dir, guint *mounted, guint level)
{
  g_autofree char *src = g_build_filename (dir, "src", NULL);

  for (; *mounted < level; (*mounted)++)
    {
      g_autofree char *d = g_strdup_printf ("%s/d%06u", dir, *mounted);

      if (g_mkdir (d, 0755) < 0 || mount (src, d, NULL, MS_BIND, NULL) < 0)
        {
          g_printerr ("%s: %s: %s\n", g_get_prgname (), d, g_strerror (errno));
          exit (1);
        }
    }
}
