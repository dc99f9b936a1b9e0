/* vcm-bench-common: the benchmark's results (series, values, the table
 * rows), small helpers (processes, RSS, CPU ticks, settling), a plain
 * mountinfo parse, and its D-Bus clients. */
#include "config.h"

#include "vcm-bench.h"

void
set_value (Bench *b, const char *key, double v)
{
  g_hash_table_replace (b->values, g_strdup (key), g_memdup2 (&v, sizeof v));
}

double
get_value (Bench *b, const char *key)
{
  double *v = g_hash_table_lookup (b->values, key);

  return v ? *v : 0;
}

double
median_of (Bench *b, const char *key)
{
  VcmBenchStats *st = g_hash_table_lookup (b->stats, key);

  return st ? st->median : 0;
}

/* Adds a row (label, n, median, min, max) and keeps the stats under @key. */
void
record (Bench *b, const char *key, const char *label, GArray *samples)
{
  VcmBenchStats st = vcm_bench_stats_of (samples);
  g_autofree char *n = g_strdup_printf ("%u", st.n);
  g_autofree char *med = vcm_bench_format_ns (st.median);
  g_autofree char *min = vcm_bench_format_ns (st.min);
  g_autofree char *max = vcm_bench_format_ns (st.max);

  g_hash_table_replace (b->stats, g_strdup (key), g_memdup2 (&st, sizeof st));
  vcm_bench_table_add (b->table, label, n, med, min, max);
  g_printerr ("  %-58s median %s\n", label, med);
}

/* A line of its own below the row it explains (does not widen the columns). */
void
record_note (Bench *b, const char *label, const char *text)
{
  g_autofree char *line = g_strdup_printf ("%s: %s", label, text);

  vcm_bench_table_add_title (b->table, line);
  g_printerr ("  %s\n", line);
}

void
record_text (Bench *b, const char *label, const char *n, const char *value)
{
  vcm_bench_table_add (b->table, label, n, value, NULL, NULL);
  g_printerr ("  %-58s %s\n", label, value);
}

G_GNUC_NORETURN void
die (const char *what, const GError *error)
{
  g_printerr ("vcm-bench: %s: %s\n", what, error ? error->message : g_strerror (errno));
  exit (1);
}

/* ---- small helpers ------------------------------------------------------ */

gboolean
write_full (int fd, const void *buf, gsize len)
{
  const char *p = buf;

  while (len > 0)
    {
      gssize w = write (fd, p, len);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        return FALSE;
      p += w;
      len -= (gsize) w;
    }
  return TRUE;
}

gboolean
read_full (int fd, void *buf, gsize len)
{
  char *p = buf;

  while (len > 0)
    {
      gssize r = read (fd, p, len);
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0)
        return FALSE;
      p += r;
      len -= (gsize) r;
    }
  return TRUE;
}

/* posix_spawn + waitpid, output to /dev/null: the cost of running a tool. */
gboolean
spawn_wait (char *const argv[])
{
  posix_spawn_file_actions_t fa;
  pid_t pid;
  int status = 0, r;

  posix_spawn_file_actions_init (&fa);
  posix_spawn_file_actions_addopen (&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen (&fa, 2, "/dev/null", O_WRONLY, 0);
  r = posix_spawn (&pid, argv[0], &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy (&fa);
  if (r != 0)
    {
      errno = r;
      return FALSE;
    }
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return FALSE;
  return WIFEXITED (status) && WEXITSTATUS (status) == 0;
}

char *
find_program (const char *name)
{
  char *p = g_find_program_in_path (name);

  if (p == NULL)
    {
      g_printerr ("vcm-bench: %s is not on PATH\n", name);
      exit (1);
    }
  return p;
}

/* VmRSS of @pid in KiB, from /proc/PID/status; 0 if unknown. */
double
rss_kib (int pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/status", pid);
  g_autofree char *text = NULL;
  const char *p;

  if (pid <= 0 || !g_file_get_contents (path, &text, NULL, NULL))
    return 0;
  p = strstr (text, "\nVmRSS:");
  return p ? g_ascii_strtod (p + 7, NULL) : 0;
}

/* "RssAnon X, RssFile Y" of @pid in MiB, from /proc/PID/status. */
char *
rss_breakdown (int pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/status", pid);
  g_autofree char *text = NULL;
  const char *anon, *file;

  if (pid <= 0 || !g_file_get_contents (path, &text, NULL, NULL))
    return g_strdup ("?");
  g_autofree char *rollup_path = g_strdup_printf ("/proc/%d/smaps_rollup", pid);
  g_autofree char *rollup = NULL;
  const char *pss = NULL;

  anon = strstr (text, "\nRssAnon:");
  file = strstr (text, "\nRssFile:");
  if (g_file_get_contents (rollup_path, &rollup, NULL, NULL))
    pss = strstr (rollup, "\nPss:");
  return g_strdup_printf ("RssAnon %.2f + RssFile %.2f MiB (file = shared libraries); Pss %.2f MiB",
                          anon ? g_ascii_strtod (anon + 9, NULL) / 1024 : 0,
                          file ? g_ascii_strtod (file + 9, NULL) / 1024 : 0,
                          pss ? g_ascii_strtod (pss + 5, NULL) / 1024 : 0);
}

/* utime + stime of @pid in clock ticks (0 when /proc says nothing). */
guint64
cpu_ticks (int pid)
{
  guint64 utime, stime;

  return vcm_bench_proc_cpu_ticks (pid, &utime, &stime) ? utime + stime : 0;
}

/* Busy and total jiffies of the whole machine, from /proc/stat. */
void
machine_ticks (guint64 *busy, guint64 *total)
{
  g_autofree char *text = NULL;
  char *nl;
  g_auto (GStrv) f = NULL;

  *busy = *total = 0;
  if (!g_file_get_contents ("/proc/stat", &text, NULL, NULL) || !g_str_has_prefix (text, "cpu "))
    return;
  nl = strchr (text, '\n');
  if (nl != NULL)
    *nl = '\0';
  f = g_strsplit_set (text + 4, " ", 0);
  for (guint i = 0, col = 0; f[i] != NULL; i++)
    {
      guint64 v;

      if (*f[i] == '\0')
        continue;
      v = g_ascii_strtoull (f[i], NULL, 10);
      *total += v;
      if (col != 3 && col != 4) /* idle, iowait */
        *busy += v;
      col++;
    }
}

/* Lets the daemon catch up with mount-table changes and come to rest: a call
 * that reads the table, then wait until it has used no CPU in two 200 ms
 * windows in a row (at most 60 s), so that what it does a moment after its
 * last call (table re-read, heap trim) is done. */
void
settle (Bench *b)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) list = NULL;
  guint64 gen = 0;
  gint64 deadline = vcm_bench_now_ns () + G_GINT64_CONSTANT (60000000000);
  guint64 before;
  guint quiet = 0;

  if (!vcm_dbus_mount_call_list_rootfs_sync (b->proxy, "", &gen, &list, NULL, &error))
    die ("ListRootfs", error);
  before = cpu_ticks (opt_daemon_pid);
  while (vcm_bench_now_ns () < deadline && quiet < 2)
    {
      guint64 now;

      g_usleep (200000);
      now = cpu_ticks (opt_daemon_pid);
      quiet = now == before ? quiet + 1 : 0;
      before = now;
    }
}

/* ---- the mount table, parsed the plain way --------------------------------- */

/* Reads /proc/self/mountinfo and splits it into lines and fields: the floor
 * of what any full re-read costs. Returns the number of lines. */
guint
parse_mountinfo_plain (void)
{
  g_autofree char *text = NULL;
  gsize len = 0;
  guint lines = 0, fields = 0;
  g_autoptr (GError) error = NULL;

  if (!g_file_get_contents ("/proc/self/mountinfo", &text, &len, &error))
    die ("reading /proc/self/mountinfo", error);
  for (char *line = text; line < text + len;)
    {
      char *end = memchr (line, '\n', (gsize) (text + len - line));
      if (end == NULL)
        end = text + len;
      *end = '\0';
      lines++;
      for (char *f = line; f != NULL; f = strchr (f, ' '))
        {
          *f = '\0';
          f++;
          fields++;
          if (f >= end)
            break;
        }
      line = end + 1;
    }
  g_assert (fields >= lines);
  return lines;
}

/* ---- D-Bus clients ------------------------------------------------------ */

GDBusConnection *
connect_bus (GError **error)
{
  return g_dbus_connection_new_for_address_sync (opt_bus,
                                                 G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                   G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                 NULL, NULL, error);
}

VcmDBusMount *
new_proxy (GDBusConnection *conn, GError **error)
{
  VcmDBusMount *proxy = vcm_dbus_mount_proxy_new_sync (conn,
                                                       G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES |
                                                         G_DBUS_PROXY_FLAGS_DO_NOT_CONNECT_SIGNALS |
                                                         G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START,
                                                       VCM_BUS_NAME, VCM_OBJECT_PATH, NULL, error);
  if (proxy != NULL)
    g_dbus_proxy_set_default_timeout (G_DBUS_PROXY (proxy), LONG_TIMEOUT_MS);
  return proxy;
}

/* One MountRootfs + UnmountRootfs; the time of the mount alone in @out_mount_ns. */
gboolean
pair (
  VcmDBusMount *proxy, const char *sandbox, const char *container, double *out_mount_ns, GError **error)
{
  g_autofree char *mp = NULL;
  g_auto (GStrv) detached = NULL;
  gint64 t0 = vcm_bench_now_ns ();

  if (!vcm_dbus_mount_call_mount_rootfs_sync (proxy, sandbox, container, opt_rootfs, FALSE, &mp, NULL,
                                              error))
    return FALSE;
  if (out_mount_ns)
    *out_mount_ns = (double) (vcm_bench_now_ns () - t0);
  return vcm_dbus_mount_call_unmount_rootfs_sync (proxy, sandbox, container, &detached, NULL, error);
}

/* One MountRootfsFd (of a directory fd of opt_rootfs, opened here) +
 * UnmountRootfs; the time of the mount alone (the open included) in
 * @out_mount_ns. */
/* One MountRootfsFd of a directory fd of opt_rootfs, opened here. (The
 * reply's values are freed by hand: gcc 12's analyzer takes an autofree
 * out-parameter here for uninitialized.) */
static gboolean
mount_fd_once (VcmDBusMount *proxy, const char *sandbox, const char *container, GError **error)
{
  g_autoptr (GUnixFDList) fds = g_unix_fd_list_new ();
  char *mp = NULL;
  GVariant *info = NULL;
  gboolean ok;
  int fd;
  int index;

  fd = open (opt_rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "open %s: %s", opt_rootfs,
                   g_strerror (errno));
      return FALSE;
    }
  index = g_unix_fd_list_append (fds, fd, error);
  close (fd);
  ok = index >= 0 &&
    vcm_dbus_mount_call_mount_rootfs_fd_sync (proxy, sandbox, container, g_variant_new_handle (index),
                                              g_variant_new ("a{sv}", NULL), fds, &mp, &info, NULL, NULL,
                                              error);
  g_free (mp);
  if (info != NULL)
    g_variant_unref (info);
  return ok;
}

gboolean
pair_fd (
  VcmDBusMount *proxy, const char *sandbox, const char *container, double *out_mount_ns, GError **error)
{
  g_auto (GStrv) detached = NULL;
  gint64 t0 = vcm_bench_now_ns ();

  if (!mount_fd_once (proxy, sandbox, container, error))
    return FALSE;
  if (out_mount_ns)
    *out_mount_ns = (double) (vcm_bench_now_ns () - t0);
  return vcm_dbus_mount_call_unmount_rootfs_sync (proxy, sandbox, container, &detached, NULL, error);
}
