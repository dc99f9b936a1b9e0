/* vcm-bench: the benchmark of the service's costs (issues 4 and 8). Runs
 * inside a private mount namespace that holds a private system bus, the real
 * polkitd and vcmountd (set up by bench-world.py, started by scripts/bench),
 * measures each operation (median, min, max after warm-up) and prints one
 * table with the ratios the issues set as targets. Not a test: it asserts
 * nothing but that the operations succeed.
 *
 * Also its own worker: `vcm-bench --worker pairs|idle ...` is one client
 * process (as root or as the unprivileged test user) spawned by the main run. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <malloc.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <gio/gio.h>
#include <gio/gunixfdlist.h>
#include <glib/gstdio.h>
#include <polkit/polkit.h>

#include "vcm-bench-stats.h"
#include "vcm-generated.h"
#include "vcm-mounttable.h"
#include "vcm-query.h"
#include "vcm-sys.h"
#include "vcm-testing.h"
#include "vcm-watch.h"

extern char **environ;

#define ACTION_MANAGE_ROOTFS "org.vc.mount.manage-rootfs"
#define LONG_TIMEOUT_MS      (30 * 60 * 1000)

/* ---- options ------------------------------------------------------------ */

static char *opt_bus;
static char *opt_shared_dir;
static char *opt_sysfs_root;
static char *opt_rootfs;
static char *opt_scratch;
static int opt_daemon_pid;
static int opt_polkitd_pid;
static int opt_busd_pid;
static int opt_uid = 4242;
static int opt_clients = 8;
static int opt_max_mounts = 10000;
static gboolean opt_quick;
static char *opt_only;
static char *opt_worker;
static int opt_worker_uid;
static char *opt_worker_sandbox;
static int opt_worker_iterations;
static int opt_worker_warmup;

static GOptionEntry entries[] = {
  { "bus", 0, 0, G_OPTION_ARG_STRING, &opt_bus, "Address of the (test) system bus", "ADDRESS" },
  { "shared-dir", 0, 0, G_OPTION_ARG_FILENAME, &opt_shared_dir, "vcmountd's shared dir", "DIR" },
  { "sysfs-root", 0, 0, G_OPTION_ARG_FILENAME, &opt_sysfs_root, "vcmountd's sysfs root", "DIR" },
  { "rootfs", 0, 0, G_OPTION_ARG_FILENAME, &opt_rootfs, "A directory to mount as rootfs", "DIR" },
  { "scratch", 0, 0, G_OPTION_ARG_FILENAME, &opt_scratch, "An empty directory outside the shared dir",
    "DIR" },
  { "daemon-pid", 0, 0, G_OPTION_ARG_INT, &opt_daemon_pid, "vcmountd's pid (for its RSS)", "PID" },
  { "polkitd-pid", 0, 0, G_OPTION_ARG_INT, &opt_polkitd_pid, "polkitd's pid (for its CPU use)", "PID" },
  { "bus-pid", 0, 0, G_OPTION_ARG_INT, &opt_busd_pid, "dbus-daemon's pid (for its CPU use)", "PID" },
  { "uid", 0, 0, G_OPTION_ARG_INT, &opt_uid, "The unprivileged uid a polkit rule allows", "UID" },
  { "clients", 0, 0, G_OPTION_ARG_INT, &opt_clients, "Concurrent clients (default 8)", "N" },
  { "max-mounts", 0, 0, G_OPTION_ARG_INT, &opt_max_mounts, "Largest mount count (default 10000)", "N" },
  { "quick", 0, 0, G_OPTION_ARG_NONE, &opt_quick, "Fewer iterations, at most 1000 mounts", NULL },
  { "only", 0, 0, G_OPTION_ARG_STRING, &opt_only,
    "Run only these cases, e.g. raw,ping,root,fd,user,concurrent,queries,cpu,many (no summary)",
    "LIST" },
  { "worker", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &opt_worker, NULL, NULL },
  { "worker-uid", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT, &opt_worker_uid, NULL, NULL },
  { "worker-sandbox", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &opt_worker_sandbox, NULL, NULL },
  { "worker-iterations", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT, &opt_worker_iterations, NULL, NULL },
  { "worker-warmup", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT, &opt_worker_warmup, NULL, NULL },
  G_OPTION_ENTRY_NULL
};

/* Iteration counts: (warm-up, measured). */
typedef struct {
  guint warm, n;
} Iter;

typedef struct {
  Iter raw;   /* syscall pairs */
  Iter spawn; /* mount/umount processes */
  Iter ping;
  Iter pair_root;
  Iter polkit;
  Iter pair_user;
  Iter concurrent;  /* per client */
  Iter query_small; /* queries at the small mount counts */
  Iter query_big;   /* queries at the largest mount count */
  Iter parse_small; /* findmnt, full table parses */
  Iter parse_big;
  Iter pair_big;   /* pairs with max_mounts rootfs */
  Iter cpu_rounds; /* case 9: rounds (warm, measured) of cpu_pairs pairs */
  guint cpu_pairs;
} Plan;

static Plan
make_plan (gboolean quick)
{
  if (quick)
    return (Plan){
      .raw = { 50, 300 },
      .spawn = { 5, 30 },
      .ping = { 50, 300 },
      .pair_root = { 20, 200 },
      .polkit = { 10, 100 },
      .pair_user = { 10, 60 },
      .concurrent = { 5, 30 },
      .query_small = { 30, 200 },
      .query_big = { 20, 100 },
      .parse_small = { 5, 30 },
      .parse_big = { 3, 15 },
      .pair_big = { 10, 60 },
      .cpu_rounds = { 1, 3 },
      .cpu_pairs = 50,
    };
  return (Plan){
    .raw = { 200, 3000 },
    .spawn = { 10, 200 },
    .ping = { 200, 3000 },
    .pair_root = { 50, 1000 },
    .polkit = { 20, 500 },
    .pair_user = { 20, 300 },
    .concurrent = { 10, 250 },
    .query_small = { 100, 1000 },
    .query_big = { 50, 300 },
    .parse_small = { 10, 100 },
    .parse_big = { 3, 25 },
    .pair_big = { 20, 500 },
    .cpu_rounds = { 1, 5 },
    .cpu_pairs = 200,
  };
}

/* ---- results ------------------------------------------------------------ */

typedef struct {
  Plan plan;
  VcmBenchTable *table;
  GHashTable *stats;  /* key -> VcmBenchStats* */
  GHashTable *values; /* key -> double* (rates, RSS, totals) */
  GDBusConnection *conn;
  VcmDBusMount *proxy;
  char *self_exe;
  char *mount_prog, *umount_prog, *findmnt_prog;
  char *rss_idle_breakdown, *rss_big_breakdown;
} Bench;

static void
set_value (Bench *b, const char *key, double v)
{
  g_hash_table_replace (b->values, g_strdup (key), g_memdup2 (&v, sizeof v));
}

static double
get_value (Bench *b, const char *key)
{
  double *v = g_hash_table_lookup (b->values, key);

  return v ? *v : 0;
}

static double
median_of (Bench *b, const char *key)
{
  VcmBenchStats *st = g_hash_table_lookup (b->stats, key);

  return st ? st->median : 0;
}

/* Adds a row (label, n, median, min, max) and keeps the stats under @key. */
static void
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
static void
record_note (Bench *b, const char *label, const char *text)
{
  g_autofree char *line = g_strdup_printf ("%s: %s", label, text);

  vcm_bench_table_add_title (b->table, line);
  g_printerr ("  %s\n", line);
}

static void
record_text (Bench *b, const char *label, const char *n, const char *value)
{
  vcm_bench_table_add (b->table, label, n, value, NULL, NULL);
  g_printerr ("  %-58s %s\n", label, value);
}

static G_GNUC_NORETURN void
die (const char *what, const GError *error)
{
  g_printerr ("vcm-bench: %s: %s\n", what, error ? error->message : g_strerror (errno));
  exit (1);
}

/* ---- small helpers ------------------------------------------------------ */

static gboolean
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

static gboolean
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
static gboolean
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

static char *
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
static double
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
static char *
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

/* utime + stime of @pid in clock ticks. */
static guint64
cpu_ticks (int pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", pid);
  g_autofree char *text = NULL;
  g_auto (GStrv) fields = NULL;
  const char *p;

  if (pid <= 0 || !g_file_get_contents (path, &text, NULL, NULL))
    return 0;
  p = strrchr (text, ')');
  if (p == NULL)
    return 0;
  fields = g_strsplit (p + 2, " ", 0);
  if (g_strv_length (fields) < 13)
    return 0;
  /* after ")": state(0) ... utime is field 14 overall = index 11 here, stime 12 */
  return g_ascii_strtoull (fields[11], NULL, 10) + g_ascii_strtoull (fields[12], NULL, 10);
}

/* Busy and total jiffies of the whole machine, from /proc/stat. */
static void
machine_ticks (guint64 *busy, guint64 *total)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) f = NULL;

  *busy = *total = 0;
  if (!g_file_get_contents ("/proc/stat", &text, NULL, NULL) || !g_str_has_prefix (text, "cpu "))
    return;
  *strchr (text, '\n') = '\0';
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
static void
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
static guint
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

/* ---- case 1 and 6: raw mounts, in a child of its own mount namespace ------- */

static void
raw_series_write (int fd, GArray *s)
{
  guint32 n = s->len;

  if (!write_full (fd, &n, sizeof n) || !write_full (fd, s->data, n * sizeof (double)))
    _exit (3);
}

static GArray *
raw_series_read (int fd)
{
  guint32 n = 0;
  GArray *s = vcm_bench_samples_new ();

  if (!read_full (fd, &n, sizeof n))
    return NULL;
  g_array_set_size (s, n);
  if (n > 0 && !read_full (fd, s->data, n * sizeof (double)))
    return NULL;
  return s;
}

static void
raw_child (Bench *b, int out_fd)
{
  g_autofree char *src = g_build_filename (opt_scratch, "raw-src", NULL);
  g_autofree char *dst = g_build_filename (opt_scratch, "raw-dst", NULL);
  g_autoptr (GArray) classic = vcm_bench_samples_new ();
  g_autoptr (GArray) newapi = vcm_bench_samples_new ();
  g_autoptr (GArray) spawned = vcm_bench_samples_new ();
  char *mount_argv[] = { b->mount_prog, (char *) "--bind", src, dst, NULL };
  char *umount_argv[] = { b->umount_prog, (char *) "-l", dst, NULL };
  Iter it = b->plan.raw, sp = b->plan.spawn;

  /* A namespace of its own: the daemon's table watch is not woken by these. */
  if (unshare (CLONE_NEWNS) < 0 || mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    {
      perror ("vcm-bench: unshare");
      _exit (2);
    }
  for (guint i = 0; i < it.warm + it.n; i++)
    {
      gint64 t0 = vcm_bench_now_ns ();
      if (mount (src, dst, NULL, MS_BIND, NULL) < 0 || umount2 (dst, MNT_DETACH) < 0)
        {
          perror ("vcm-bench: mount(2)");
          _exit (2);
        }
      if (i >= it.warm)
        vcm_bench_samples_add (classic, (double) (vcm_bench_now_ns () - t0));
    }
  for (guint i = 0; i < it.warm + it.n; i++)
    {
      gint64 t0 = vcm_bench_now_ns ();
      int fd = open_tree (AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
      if (fd < 0 || move_mount (fd, "", AT_FDCWD, dst, MOVE_MOUNT_F_EMPTY_PATH) < 0)
        {
          perror ("vcm-bench: open_tree/move_mount");
          _exit (2);
        }
      close (fd);
      if (umount2 (dst, MNT_DETACH) < 0)
        {
          perror ("vcm-bench: umount2");
          _exit (2);
        }
      if (i >= it.warm)
        vcm_bench_samples_add (newapi, (double) (vcm_bench_now_ns () - t0));
    }
  for (guint i = 0; i < sp.warm + sp.n; i++)
    {
      gint64 t0 = vcm_bench_now_ns ();
      if (!spawn_wait (mount_argv) || !spawn_wait (umount_argv))
        {
          g_printerr ("vcm-bench: mount --bind / umount -l failed\n");
          _exit (2);
        }
      if (i >= sp.warm)
        vcm_bench_samples_add (spawned, (double) (vcm_bench_now_ns () - t0));
    }
  raw_series_write (out_fd, classic);
  raw_series_write (out_fd, newapi);
  raw_series_write (out_fd, spawned);
  _exit (0);
}

/* Runs before any thread exists (unshare(CLONE_NEWNS) needs a single-threaded
 * process, and so does a fork that goes on running GLib code). */
static void
bench_raw (Bench *b, GArray **classic, GArray **newapi, GArray **spawned)
{
  g_autofree char *src = g_build_filename (opt_scratch, "raw-src", NULL);
  g_autofree char *dst = g_build_filename (opt_scratch, "raw-dst", NULL);
  int fds[2];
  pid_t pid;
  int status = 0;

  if (g_mkdir_with_parents (src, 0755) < 0 || g_mkdir_with_parents (dst, 0755) < 0)
    die ("mkdir raw-src/raw-dst", NULL);
  if (pipe (fds) < 0)
    die ("pipe", NULL);
  pid = fork ();
  if (pid < 0)
    die ("fork", NULL);
  if (pid == 0)
    {
      close (fds[0]);
      raw_child (b, fds[1]);
    }
  close (fds[1]);
  *classic = raw_series_read (fds[0]);
  *newapi = raw_series_read (fds[0]);
  *spawned = raw_series_read (fds[0]);
  close (fds[0]);
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0 || !*classic || !*newapi || !*spawned)
    {
      g_printerr ("vcm-bench: the raw-mount child failed (status %d)\n", status);
      exit (1);
    }
}

/* ---- D-Bus clients ------------------------------------------------------ */

static GDBusConnection *
connect_bus (GError **error)
{
  return g_dbus_connection_new_for_address_sync (opt_bus,
                                                 G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                   G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                 NULL, NULL, error);
}

static VcmDBusMount *
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
static gboolean
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
static gboolean
pair_fd (
  VcmDBusMount *proxy, const char *sandbox, const char *container, double *out_mount_ns, GError **error)
{
  g_autofree char *mp = NULL;
  g_autoptr (GVariant) info = NULL;
  g_auto (GStrv) detached = NULL;
  g_autoptr (GUnixFDList) fds = g_unix_fd_list_new ();
  gint64 t0 = vcm_bench_now_ns ();
  int fd = open (opt_rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int index;

  if (fd < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "open %s: %s", opt_rootfs,
                   g_strerror (errno));
      return FALSE;
    }
  index = g_unix_fd_list_append (fds, fd, error);
  close (fd);
  if (index < 0 ||
      !vcm_dbus_mount_call_mount_rootfs_fd_sync (proxy, sandbox, container, g_variant_new_handle (index),
                                                 g_variant_new ("a{sv}", NULL), fds, &mp, &info, NULL,
                                                 NULL, error))
    return FALSE;
  if (out_mount_ns)
    *out_mount_ns = (double) (vcm_bench_now_ns () - t0);
  return vcm_dbus_mount_call_unmount_rootfs_sync (proxy, sandbox, container, &detached, NULL, error);
}

/* ---- the worker (a child process: one client) ------------------------------ */

static void
drop_privileges (uid_t uid)
{
  if (uid == 0)
    return;
  if (setgroups (0, NULL) < 0 || setresgid (uid, uid, uid) < 0 || setresuid (uid, uid, uid) < 0)
    {
      perror ("vcm-bench worker: dropping privileges");
      exit (2);
    }
}

static int
worker_main (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDBusConnection) conn = NULL;
  g_autoptr (VcmDBusMount) proxy = NULL;
  g_autoptr (GArray) pairs = vcm_bench_samples_new ();
  g_autoptr (GArray) mounts = vcm_bench_samples_new ();
  gint64 start, end;
  char go;

  drop_privileges ((uid_t) opt_worker_uid);
  conn = connect_bus (&error);
  if (conn == NULL)
    die ("worker: connecting to the bus", error);

  if (g_strcmp0 (opt_worker, "idle") == 0)
    {
      /* A subject for the in-process polkit checks: tell who we are, then wait. */
      printf ("ready %s %d\n", g_dbus_connection_get_unique_name (conn), (int) getpid ());
      fflush (stdout);
      while (read (0, &go, 1) > 0)
        ;
      return 0;
    }
  if (g_strcmp0 (opt_worker, "pairs") != 0 || opt_worker_sandbox == NULL)
    {
      g_printerr ("vcm-bench: bad worker arguments\n");
      return 2;
    }

  proxy = new_proxy (conn, &error);
  if (proxy == NULL)
    die ("worker: proxy", error);
  for (int i = 0; i < opt_worker_warmup; i++)
    if (!pair (proxy, opt_worker_sandbox, "c", NULL, &error))
      die ("worker: warm-up MountRootfs/UnmountRootfs", error);
  printf ("ready\n");
  fflush (stdout);
  if (read (0, &go, 1) != 1)
    return 2;

  start = vcm_bench_now_ns ();
  for (int i = 0; i < opt_worker_iterations; i++)
    {
      gint64 t0 = vcm_bench_now_ns ();
      double m = 0;

      if (!pair (proxy, opt_worker_sandbox, "c", &m, &error))
        die ("worker: MountRootfs/UnmountRootfs", error);
      vcm_bench_samples_add (pairs, (double) (vcm_bench_now_ns () - t0));
      vcm_bench_samples_add (mounts, m);
    }
  end = vcm_bench_now_ns ();
  printf ("%" G_GINT64_FORMAT " %" G_GINT64_FORMAT "\n", start, end);
  for (guint i = 0; i < pairs->len; i++)
    printf ("%.0f %.0f\n", g_array_index (pairs, double, i), g_array_index (mounts, double, i));
  fflush (stdout);
  return 0;
}

typedef struct {
  GPid pid;
  int in_fd;
  FILE *out;
  char *ready_line;
} Worker;

static void
worker_spawn (
  Bench *b, Worker *w, const char *mode, guint uid, const char *sandbox, guint iterations, guint warmup)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *uid_s = g_strdup_printf ("%u", uid);
  g_autofree char *n_s = g_strdup_printf ("%u", iterations);
  g_autofree char *w_s = g_strdup_printf ("%u", warmup);
  const char *argv[] = { b->self_exe,
                         "--worker",
                         mode,
                         "--bus",
                         opt_bus,
                         "--rootfs",
                         opt_rootfs,
                         "--worker-uid",
                         uid_s,
                         "--worker-sandbox",
                         sandbox ? sandbox : "none",
                         "--worker-iterations",
                         n_s,
                         "--worker-warmup",
                         w_s,
                         NULL };
  int out_fd = -1;

  memset (w, 0, sizeof *w);
  if (!g_spawn_async_with_pipes ("/", (char **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                                 &w->pid, &w->in_fd, &out_fd, NULL, &error))
    die ("spawning a worker", error);
  w->out = fdopen (out_fd, "r");
  if (w->out == NULL)
    die ("fdopen", NULL);
}

/* Reads the worker's "ready" line (after its warm-up). */
static void
worker_wait_ready (Worker *w)
{
  char line[512];

  if (fgets (line, sizeof line, w->out) == NULL || !g_str_has_prefix (line, "ready"))
    {
      g_printerr ("vcm-bench: a worker failed before it was ready\n");
      exit (1);
    }
  g_strchomp (line);
  w->ready_line = g_strdup (line);
}

static void
worker_go (Worker *w)
{
  if (!write_full (w->in_fd, "g", 1))
    die ("starting a worker", NULL);
}

/* Collects a pairs worker's results; @pairs/@mounts get its samples. */
static void
worker_finish (Worker *w, GArray *pairs, GArray *mounts, gint64 *start, gint64 *end)
{
  char line[256];
  int status = 0;

  if (fgets (line, sizeof line, w->out) == NULL ||
      sscanf (line, "%" G_GINT64_FORMAT " %" G_GINT64_FORMAT, start, end) != 2)
    {
      g_printerr ("vcm-bench: a worker failed\n");
      exit (1);
    }
  while (fgets (line, sizeof line, w->out) != NULL)
    {
      double p, m;
      if (sscanf (line, "%lf %lf", &p, &m) == 2)
        {
          vcm_bench_samples_add (pairs, p);
          if (mounts)
            vcm_bench_samples_add (mounts, m);
        }
    }
  fclose (w->out);
  close (w->in_fd);
  waitpid (w->pid, &status, 0);
  g_free (w->ready_line);
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    {
      g_printerr ("vcm-bench: a worker exited with status %d\n", status);
      exit (1);
    }
}

/* @n_clients workers as @uid, started together; returns pairs per second
 * over the whole run (first start to last end). */
static double
run_clients (
  Bench *b, guint uid, guint n_clients, Iter it, const char *prefix, GArray *pairs, GArray *mounts)
{
  g_autofree Worker *w = g_new0 (Worker, n_clients);
  gint64 first = G_MAXINT64, last = 0;
  int pids[3] = { opt_daemon_pid, opt_polkitd_pid, opt_busd_pid };
  guint64 ticks[3];
  gint64 t0;
  double hz = (double) sysconf (_SC_CLK_TCK);
  guint64 m_busy, m_total, m_busy2, m_total2;

  for (guint i = 0; i < n_clients; i++)
    {
      g_autofree char *sandbox = g_strdup_printf ("%s-%u", prefix, i);
      worker_spawn (b, &w[i], "pairs", uid, sandbox, it.n, it.warm);
    }
  for (guint i = 0; i < n_clients; i++)
    worker_wait_ready (&w[i]);
  for (int i = 0; i < 3; i++)
    ticks[i] = cpu_ticks (pids[i]);
  machine_ticks (&m_busy, &m_total);
  t0 = vcm_bench_now_ns ();
  for (guint i = 0; i < n_clients; i++)
    worker_go (&w[i]);
  for (guint i = 0; i < n_clients; i++)
    {
      gint64 s = 0, e = 0;
      worker_finish (&w[i], pairs, mounts, &s, &e);
      first = MIN (first, s);
      last = MAX (last, e);
    }
  {
    double secs = (double) (vcm_bench_now_ns () - t0) / 1e9;
    g_autofree char *label =
      g_strdup_printf ("    CPU use, %u %s client(s)", n_clients, uid == 0 ? "root" : "unprivileged");
    g_autofree char *v = NULL;

    machine_ticks (&m_busy2, &m_total2);
    v = g_strdup_printf (
      "vcmountd %.0f%%, polkitd %.0f%%, dbus-daemon %.0f%% of a core; "
      "all %ld cores %.0f%% busy",
      (double) (cpu_ticks (pids[0]) - ticks[0]) / hz / secs * 100,
      (double) (cpu_ticks (pids[1]) - ticks[1]) / hz / secs * 100,
      (double) (cpu_ticks (pids[2]) - ticks[2]) / hz / secs * 100, sysconf (_SC_NPROCESSORS_ONLN),
      m_total2 > m_total ? (double) (m_busy2 - m_busy) / (double) (m_total2 - m_total) * 100 : 0.0);
    record_note (b, label, v);
  }
  return (double) n_clients * it.n / ((double) (last - first) / 1e9);
}

/* ---- the cases ---------------------------------------------------------- */

static void
bench_ping (Bench *b)
{
  g_autoptr (GArray) ping = vcm_bench_samples_new ();
  g_autoptr (GArray) getid = vcm_bench_samples_new ();
  Iter it = b->plan.ping;

  for (guint i = 0; i < it.warm + it.n; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GVariant) r = NULL;
      gint64 t0 = vcm_bench_now_ns ();

      r = g_dbus_connection_call_sync (b->conn, VCM_BUS_NAME, VCM_OBJECT_PATH,
                                       "org.freedesktop.DBus.Peer", "Ping", NULL, NULL,
                                       G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, NULL, &error);
      if (r == NULL)
        die ("Peer.Ping", error);
      if (i >= it.warm)
        vcm_bench_samples_add (ping, (double) (vcm_bench_now_ns () - t0));
    }
  for (guint i = 0; i < it.warm + it.n; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GVariant) r = NULL;
      gint64 t0 = vcm_bench_now_ns ();

      r = g_dbus_connection_call_sync (b->conn, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "GetConnectionCredentials",
                                       g_variant_new ("(s)", VCM_BUS_NAME), NULL, G_DBUS_CALL_FLAGS_NONE,
                                       -1, NULL, &error);
      if (r == NULL)
        die ("GetConnectionCredentials", error);
      if (i >= it.warm)
        vcm_bench_samples_add (getid, (double) (vcm_bench_now_ns () - t0));
    }
  g_autoptr (GArray) noop = vcm_bench_samples_new ();
  for (guint i = 0; i < it.warm + it.n; i++)
    {
      g_autoptr (GError) error = NULL;
      gboolean res = FALSE;
      gint64 t0 = vcm_bench_now_ns ();

      if (!vcm_dbus_mount_call_is_system_mount_sync (b->proxy, "/proc", &res, NULL, &error))
        die ("IsSystemMount", error);
      if (i >= it.warm)
        vcm_bench_samples_add (noop, (double) (vcm_bench_now_ns () - t0));
    }
  record (b, "ping", "(2) Peer.Ping to org.vc.Mount (empty round trip)", ping);
  record (b, "noop", "    IsSystemMount(/proc): a method doing nothing (dispatch+auth)", noop);
  record (b, "busrt", "    bus round trip: GetConnectionCredentials to the bus", getid);
}

static void
bench_pairs_root (Bench *b)
{
  g_autoptr (GArray) pairs = vcm_bench_samples_new ();
  g_autoptr (GArray) mounts = vcm_bench_samples_new ();
  g_autoptr (GArray) unmounts = vcm_bench_samples_new ();
  Iter it = b->plan.pair_root;

  for (guint i = 0; i < it.warm + it.n; i++)
    {
      g_autoptr (GError) error = NULL;
      double m = 0;
      gint64 t0 = vcm_bench_now_ns ();

      if (!pair (b->proxy, "bench-root", "c", &m, &error))
        die ("MountRootfs/UnmountRootfs as root", error);
      if (i >= it.warm)
        {
          double p = (double) (vcm_bench_now_ns () - t0);
          vcm_bench_samples_add (pairs, p);
          vcm_bench_samples_add (mounts, m);
          vcm_bench_samples_add (unmounts, p - m);
        }
    }
  record (b, "pair_root", "(3) MountRootfs+UnmountRootfs, root, sequential", pairs);
  record (b, "mount_root", "    of which MountRootfs", mounts);
  record (b, "unmount_root", "    of which UnmountRootfs", unmounts);
}

/* Case 11: the fd-based pair against the path-based one, root, alternating
 * in one run (so both see the same machine). */
static void
bench_fd_pairs (Bench *b)
{
  g_autoptr (GArray) by_path = vcm_bench_samples_new ();
  g_autoptr (GArray) by_fd = vcm_bench_samples_new ();
  g_autoptr (GArray) mount_path = vcm_bench_samples_new ();
  g_autoptr (GArray) mount_fd = vcm_bench_samples_new ();
  Iter it = b->plan.pair_root;
  g_autofree char *ratio = NULL;

  for (guint i = 0; i < it.warm + it.n; i++)
    for (int fd = 0; fd < 2; fd++)
      {
        g_autoptr (GError) error = NULL;
        double m = 0;
        gint64 t0 = vcm_bench_now_ns ();

        if (!(fd ? pair_fd (b->proxy, "bench-fd", "c", &m, &error)
                 : pair (b->proxy, "bench-fd", "c", &m, &error)))
          die (fd ? "MountRootfsFd/UnmountRootfs as root" : "MountRootfs/UnmountRootfs as root", error);
        if (i >= it.warm)
          {
            vcm_bench_samples_add (fd ? by_fd : by_path, (double) (vcm_bench_now_ns () - t0));
            vcm_bench_samples_add (fd ? mount_fd : mount_path, m);
          }
      }
  record (b, "pair_path", "(11) MountRootfs+UnmountRootfs, root, alternating with the fd pair", by_path);
  record (b, "pair_fd", "(11) MountRootfsFd+UnmountRootfs, root (the fd opened by the client)", by_fd);
  record (b, "mount_path", "    of which MountRootfs", mount_path);
  record (b, "mount_fd", "    of which MountRootfsFd (open included)", mount_fd);
  ratio = g_strdup_printf ("%.2f (target: at most 1.10)",
                           median_of (b, "pair_fd") / median_of (b, "pair_path"));
  record_text (b, "(11) fd pair / path pair, medians", NULL, ratio);
}

/* An in-process CheckAuthorization round trip by root for the unprivileged
 * subject, as the daemon makes it (system-bus-name subject), and with a
 * unix-process subject for comparison. */
static void
bench_polkit (Bench *b)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PolkitAuthority) authority = NULL;
  g_autoptr (PolkitSubject) by_name = NULL;
  g_autoptr (PolkitSubject) by_pid = NULL;
  g_autoptr (PolkitDetails) details = polkit_details_new ();
  g_autoptr (GArray) s_name = vcm_bench_samples_new ();
  g_autoptr (GArray) s_pid = vcm_bench_samples_new ();
  g_auto (GStrv) parts = NULL;
  Worker w;
  Iter it = b->plan.polkit;
  int status = 0;

  worker_spawn (b, &w, "idle", (guint) opt_uid, NULL, 0, 0);
  worker_wait_ready (&w);
  parts = g_strsplit (w.ready_line, " ", 3);
  if (g_strv_length (parts) != 3)
    die ("the idle worker's ready line", NULL);

  authority = polkit_authority_get_sync (NULL, &error);
  if (authority == NULL)
    die ("polkit_authority_get_sync", error);
  by_name = polkit_system_bus_name_new (parts[1]);
  by_pid = polkit_unix_process_new_for_owner ((int) g_ascii_strtoll (parts[2], NULL, 10), 0, opt_uid);
  polkit_details_insert (details, "sandbox_id", "bench-user");
  polkit_details_insert (details, "container_id", "c");
  polkit_details_insert (details, "polkit.message",
                         "Mount a root filesystem for container c of sandbox bench-user");

  for (int which = 0; which < 2; which++)
    for (guint i = 0; i < it.warm + it.n; i++)
      {
        g_autoptr (PolkitAuthorizationResult) res = NULL;
        gint64 t0 = vcm_bench_now_ns ();

        res = polkit_authority_check_authorization_sync (
          authority, which == 0 ? by_name : by_pid, ACTION_MANAGE_ROOTFS, details,
          POLKIT_CHECK_AUTHORIZATION_FLAGS_NONE, NULL, &error);
        if (res == NULL)
          die ("CheckAuthorization", error);
        if (!polkit_authorization_result_get_is_authorized (res))
          {
            g_printerr ("vcm-bench: polkit does not authorize uid %d for %s: is the rule in place?\n",
                        opt_uid, ACTION_MANAGE_ROOTFS);
            exit (1);
          }
        if (i >= it.warm)
          vcm_bench_samples_add (which == 0 ? s_name : s_pid, (double) (vcm_bench_now_ns () - t0));
      }
  close (w.in_fd);
  fclose (w.out);
  waitpid (w.pid, &status, 0);
  g_free (w.ready_line);
  record (b, "polkit", "    polkit CheckAuthorization in-process (bus-name subject)", s_name);
  record (b, "polkit_pid", "    polkit CheckAuthorization in-process (unix-process subject)", s_pid);
}

static void
bench_pairs_user (Bench *b)
{
  g_autoptr (GArray) pairs = vcm_bench_samples_new ();
  g_autoptr (GArray) mounts = vcm_bench_samples_new ();
  g_autoptr (GArray) unmounts = NULL;
  double rate = run_clients (b, (guint) opt_uid, 1, b->plan.pair_user, "bench-user", pairs, mounts);

  unmounts = vcm_bench_samples_new ();
  for (guint i = 0; i < pairs->len; i++)
    vcm_bench_samples_add (unmounts,
                           g_array_index (pairs, double, i) - g_array_index (mounts, double, i));
  record (b, "pair_user", "(4) MountRootfs+UnmountRootfs, unprivileged (polkit rule)", pairs);
  record (b, "mount_user", "    of which MountRootfs", mounts);
  record (b, "unmount_user", "    of which UnmountRootfs", unmounts);
  set_value (b, "rate_user_seq", rate);
}

static void
bench_concurrent (Bench *b)
{
  for (int which = 0; which < 2; which++)
    {
      guint uid = which == 0 ? 0 : (guint) opt_uid;
      g_autoptr (GArray) pairs = vcm_bench_samples_new ();
      g_autoptr (GArray) one = vcm_bench_samples_new ();
      double seq, conc;
      g_autofree char *label = NULL;
      g_autofree char *v = NULL;
      g_autofree char *n = NULL;

      seq =
        run_clients (b, uid, 1, b->plan.concurrent, which == 0 ? "bench-seqr" : "bench-sequ", one, NULL);
      conc = run_clients (b, uid, (guint) opt_clients, b->plan.concurrent,
                          which == 0 ? "bench-concr" : "bench-concu", pairs, NULL);
      set_value (b, which == 0 ? "rate_root_seq" : "rate_user_seq1", seq);
      set_value (b, which == 0 ? "rate_root_conc" : "rate_user_conc", conc);

      label = g_strdup_printf ("(5) %s: 1 client, pairs/s", which == 0 ? "root" : "unprivileged");
      n = g_strdup_printf ("%u", one->len);
      v = g_strdup_printf ("%.0f /s", seq);
      record_text (b, label, n, v);
      g_free (label);
      g_free (n);
      g_free (v);
      label = g_strdup_printf ("(5) %s: %d concurrent clients, pairs/s",
                               which == 0 ? "root" : "unprivileged", opt_clients);
      n = g_strdup_printf ("%u", pairs->len);
      v = g_strdup_printf ("%.0f /s", conc);
      record_text (b, label, n, v);
      g_free (label);
      label = g_strdup_printf ("    %s: latency of one pair under %d clients",
                               which == 0 ? "root" : "unprivileged", opt_clients);
      record (b, which == 0 ? "pair_root_conc" : "pair_user_conc", label, pairs);
    }
}

/* Times @n + @warm calls of @fn. */
typedef gboolean (*OpFunc) (Bench *b, gpointer data);

static GArray *
time_op (Bench *b, Iter it, OpFunc fn, gpointer data)
{
  GArray *s = vcm_bench_samples_new ();

  for (guint i = 0; i < it.warm + it.n; i++)
    {
      gint64 t0 = vcm_bench_now_ns ();

      if (!fn (b, data))
        exit (1);
      if (i >= it.warm)
        vcm_bench_samples_add (s, (double) (vcm_bench_now_ns () - t0));
    }
  return s;
}

typedef struct {
  const char *path;
  VcmQuery *cached;
  VcmQuery *kernel;
} QueryCtx;

static gboolean
op_dbus_device (Bench *b, gpointer data)
{
  QueryCtx *q = data;
  g_autoptr (GError) error = NULL;
  g_autofree char *mp = NULL;
  guint maj, min;

  if (!vcm_dbus_mount_call_get_device_for_path_sync (b->proxy, q->path, &maj, &min, &mp, NULL, &error))
    die ("GetDeviceForPath", error);
  return TRUE;
}

static gboolean
op_dbus_describe (Bench *b, gpointer data)
{
  QueryCtx *q = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) v = NULL;

  if (!vcm_dbus_mount_call_describe_path_sync (b->proxy, q->path, &v, NULL, &error))
    die ("DescribePath", error);
  return TRUE;
}

static gboolean
query_device (VcmQuery *query, const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *mp = NULL;
  guint maj, min;

  if (!vcm_query_device_for_path (query, path, NULL, &maj, &min, &mp, &error))
    die ("vcm_query_device_for_path", error);
  return TRUE;
}

static gboolean
query_describe (VcmQuery *query, const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (VcmPathFacts) info = vcm_query_describe_path (query, path, NULL, &error);

  if (info == NULL)
    die ("vcm_query_describe_path", error);
  return TRUE;
}

static gboolean
op_inproc_device (Bench *b, gpointer data)
{
  return query_device (((QueryCtx *) data)->cached, ((QueryCtx *) data)->path);
}

static gboolean
op_inproc_describe (Bench *b, gpointer data)
{
  return query_describe (((QueryCtx *) data)->cached, ((QueryCtx *) data)->path);
}

static gboolean
op_kernel_device (Bench *b, gpointer data)
{
  return query_device (((QueryCtx *) data)->kernel, ((QueryCtx *) data)->path);
}

static gboolean
op_findmnt (Bench *b, gpointer data)
{
  QueryCtx *q = data;
  char *argv[] = { b->findmnt_prog, (char *) "-T", (char *) q->path, NULL };

  if (!spawn_wait (argv))
    {
      g_printerr ("vcm-bench: findmnt -T %s failed\n", q->path);
      return FALSE;
    }
  return TRUE;
}

static gboolean
op_parse_plain (Bench *b, gpointer data)
{
  return parse_mountinfo_plain () > 0;
}

static gboolean
op_parse_table (Bench *b, gpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (VcmMountTable) t = vcm_mount_table_new_from_kernel (&error);

  if (t == NULL)
    die ("vcm_mount_table_new_from_kernel", error);
  return TRUE;
}

/* Case 7: mounts @level - (already mounted) binds of one dir under a tmpfs,
 * then times every query. */
static void
bench_queries_at (
  Bench *b, QueryCtx *q, const char *binds_dir, guint *mounted, guint level, gboolean biggest)
{
  g_autofree char *src = g_build_filename (binds_dir, "src", NULL);
  Iter iq = biggest ? b->plan.query_big : b->plan.query_small;
  Iter ip = biggest ? b->plan.parse_big : b->plan.parse_small;
  struct {
    const char *key, *label;
    OpFunc fn;
    gboolean parse;
  } ops[] = {
    { "q_dbus_dev", "(7) GetDeviceForPath over D-Bus", op_dbus_device, FALSE },
    { "q_dbus_desc", "(7) DescribePath over D-Bus", op_dbus_describe, FALSE },
    { "q_inproc_dev", "(7) vcm_query_device_for_path in-process (cached table)", op_inproc_device,
      FALSE },
    { "q_inproc_desc", "(7) vcm_query_describe_path in-process (cached table)", op_inproc_describe,
      FALSE },
    { "q_kernel_dev", "    vcm_query_device_for_path, table read per call", op_kernel_device, TRUE },
    { "q_findmnt", "(7) findmnt -T PATH (spawned)", op_findmnt, TRUE },
    { "q_parse_plain", "(7) read+split /proc/self/mountinfo in-process", op_parse_plain, TRUE },
    { "q_parse_table", "    vcm_mount_table_new_from_kernel (a daemon refresh)", op_parse_table, TRUE },
  };
  g_autofree char *title = NULL;

  for (; *mounted < level; (*mounted)++)
    {
      g_autofree char *d = g_strdup_printf ("%s/d%06u", binds_dir, *mounted);

      if (g_mkdir (d, 0755) < 0 || mount (src, d, NULL, MS_BIND, NULL) < 0)
        die (d, NULL);
    }
  settle (b);
  title = g_strdup_printf ("-- (7) queries of SCRATCH/binds/d000005 (a bind mount) with %u bind mounts "
                           "present (%u lines in mountinfo)",
                           level, parse_mountinfo_plain ());
  vcm_bench_table_add_title (b->table, title);
  g_printerr ("%s\n", title);
  {
    g_autoptr (GError) error = NULL;
    struct mallinfo2 before = mallinfo2 (), after;
    g_autoptr (VcmMountTable) t = vcm_mount_table_new_from_kernel (&error);
    g_autofree char *note = NULL;
    guint n;

    if (t == NULL)
      die ("vcm_mount_table_new_from_kernel", error);
    after = mallinfo2 ();
    n = vcm_mount_table_get_size (t);
    note = g_strdup_printf ("%.2f MiB for %u entries (%.0f bytes each)",
                            (double) (after.uordblks - before.uordblks) / 1048576.0, n,
                            (double) (after.uordblks - before.uordblks) / n);
    record_note (b, "    heap held by one VcmMountTable", note);
  }
  for (gsize i = 0; i < G_N_ELEMENTS (ops); i++)
    {
      g_autofree char *key = g_strdup_printf ("%s@%u", ops[i].key, level);
      g_autoptr (GArray) s = time_op (b, ops[i].parse ? ip : iq, ops[i].fn, q);

      record (b, key, ops[i].label, s);
    }
}

static void
bench_queries (Bench *b, guint small, guint medium, guint big)
{
  g_autofree char *binds_dir = g_build_filename (opt_scratch, "binds", NULL);
  g_autofree char *src = g_build_filename (binds_dir, "src", NULL);
  g_autofree char *path = g_build_filename (binds_dir, "d000005", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (VcmWatch) watch = NULL;
  g_autoptr (VcmQuery) cached = NULL;
  g_autoptr (VcmQuery) kernel = NULL;
  QueryCtx q = { 0 };
  guint mounted = 0;

  if (g_mkdir_with_parents (binds_dir, 0755) < 0 ||
      mount ("tmpfs", binds_dir, "tmpfs", 0, "mode=0755") < 0 ||
      mount (NULL, binds_dir, NULL, MS_PRIVATE, NULL) < 0 || g_mkdir (src, 0755) < 0)
    die ("the tmpfs for the bind mounts", NULL);

  watch = vcm_watch_new (opt_shared_dir, &error);
  if (watch == NULL)
    die ("vcm_watch_new", error);
  cached = vcm_query_new (opt_sysfs_root, vcm_watch_get_table, watch, NULL);
  kernel = vcm_query_new (opt_sysfs_root, vcm_mount_table_source_kernel, NULL, NULL);
  q.path = path;
  q.cached = cached;
  q.kernel = kernel;

  bench_queries_at (b, &q, binds_dir, &mounted, small, FALSE);
  bench_queries_at (b, &q, binds_dir, &mounted, medium, FALSE);
  bench_queries_at (b, &q, binds_dir, &mounted, big, TRUE);

  g_printerr ("  (in-process cached table: %u full reads in all)\n",
              vcm_watch_get_refresh_count (watch));
  /* Detaches the tmpfs and every bind beneath it at once. */
  if (umount2 (binds_dir, MNT_DETACH) < 0)
    die ("unmounting the bind mounts", NULL);
  settle (b);
}

/* Case 8: the pair with @small, then @big other rootfs mounted by the service. */
/* Mounts rootfs c<mounted>.. of sandbox bench-other until @level are there;
 * the time of each call into @builds when not NULL. */
static void
build_other_rootfs (Bench *b, guint *mounted, guint level, GArray *builds, gboolean progress)
{
  for (; *mounted < level; (*mounted)++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *cid = g_strdup_printf ("c%05u", *mounted);
      g_autofree char *mp = NULL;
      gint64 t0 = vcm_bench_now_ns ();

      if (!vcm_dbus_mount_call_mount_rootfs_sync (b->proxy, "bench-other", cid, opt_rootfs, FALSE, &mp,
                                                  NULL, &error))
        die ("MountRootfs (building up)", error);
      if (builds != NULL)
        vcm_bench_samples_add (builds, (double) (vcm_bench_now_ns () - t0));
      if (progress && *mounted % 1000 == 999)
        g_printerr ("  ... %u rootfs mounted\n", *mounted + 1);
    }
}

/* @it's pairs, appended to the samples. */
static void
many_rootfs_pairs (Bench *b, Iter it, GArray *pairs, GArray *mounts, GArray *unmounts)
{
  for (guint i = 0; i < it.warm + it.n; i++)
    {
      g_autoptr (GError) error = NULL;
      double m = 0;
      gint64 t0 = vcm_bench_now_ns ();

      if (!pair (b->proxy, "bench-root", "c", &m, &error))
        die ("MountRootfs/UnmountRootfs with many rootfs", error);
      if (i >= it.warm)
        {
          double p = (double) (vcm_bench_now_ns () - t0);
          vcm_bench_samples_add (pairs, p);
          vcm_bench_samples_add (mounts, m);
          vcm_bench_samples_add (unmounts, p - m);
        }
    }
}

static void
unmount_other_rootfs (Bench *b, guint *mounted, gboolean report)
{
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) ids = NULL;
  gint64 t0 = vcm_bench_now_ns ();

  if (!vcm_dbus_mount_call_unmount_sandbox_sync (b->proxy, "bench-other", &ids, NULL, &error))
    die ("UnmountSandbox", error);
  if (report)
    {
      g_autofree char *total = vcm_bench_format_ns ((double) (vcm_bench_now_ns () - t0));
      g_autofree char *label =
        g_strdup_printf ("(8) UnmountSandbox of the %u other rootfs (one call)", *mounted);
      g_autofree char *n = g_strdup_printf ("%u", g_strv_length (ids));

      record_text (b, label, n, total);
    }
  *mounted = 0;
  settle (b);
}

/* Case 8: a pair's latency with @small and with @big other rootfs listed.
 * Measured A-B-A: half of the @small pairs before the build-up, half after
 * the teardown (and the @small rootfs mounted again), so that a machine
 * getting slower or faster over the run (a VM's neighbours) weighs on both
 * levels alike; the @small median is that of both halves. */
static void
bench_many_rootfs (Bench *b, guint small, guint big)
{
  g_autoptr (GArray) builds = vcm_bench_samples_new ();
  g_autoptr (GArray) pairs_small = vcm_bench_samples_new ();
  g_autoptr (GArray) mounts_small = vcm_bench_samples_new ();
  g_autoptr (GArray) unmounts_small = vcm_bench_samples_new ();
  g_autoptr (GArray) pairs_big = vcm_bench_samples_new ();
  g_autoptr (GArray) mounts_big = vcm_bench_samples_new ();
  g_autoptr (GArray) unmounts_big = vcm_bench_samples_new ();
  GArray *pairs[2] = { pairs_small, pairs_big };
  GArray *mounts[2] = { mounts_small, mounts_big };
  GArray *unmounts[2] = { unmounts_small, unmounts_big };
  Iter half = { b->plan.pair_root.warm, (b->plan.pair_root.n + 1) / 2 };
  guint mounted = 0;
  gint64 t_build0;
  double before, after;

  /* A: @small */
  build_other_rootfs (b, &mounted, small, NULL, FALSE);
  settle (b);
  many_rootfs_pairs (b, half, pairs[0], mounts[0], unmounts[0]);
  before = vcm_bench_stats_of (pairs[0]).median;

  /* B: @big */
  t_build0 = vcm_bench_now_ns ();
  build_other_rootfs (b, &mounted, big, builds, TRUE);
  {
    g_autofree char *total = vcm_bench_format_ns ((double) (vcm_bench_now_ns () - t_build0));
    g_autofree char *l = g_strdup_printf ("(8) MountRootfs %u -> %u other rootfs (each)", small, big);
    g_autofree char *lt = g_strdup_printf ("(8) MountRootfs %u -> %u other rootfs (total)", small, big);

    record (b, "build", l, builds);
    record_text (b, lt, NULL, total);
  }
  settle (b);
  set_value (b, "rss_big", rss_kib (opt_daemon_pid));
  b->rss_big_breakdown = rss_breakdown (opt_daemon_pid);
  many_rootfs_pairs (b, b->plan.pair_big, pairs[1], mounts[1], unmounts[1]);
  unmount_other_rootfs (b, &mounted, TRUE);
  set_value (b, "rss_after", rss_kib (opt_daemon_pid));

  /* A again */
  build_other_rootfs (b, &mounted, small, NULL, FALSE);
  settle (b);
  {
    g_autoptr (GArray) again = vcm_bench_samples_new ();

    many_rootfs_pairs (b, half, again, mounts[0], unmounts[0]);
    after = vcm_bench_stats_of (again).median;
    g_array_append_vals (pairs[0], again->data, again->len);
  }
  unmount_other_rootfs (b, &mounted, FALSE);

  for (int phase = 0; phase < 2; phase++)
    {
      guint level = phase == 0 ? small : big;
      g_autofree char *key = g_strdup_printf ("pair8@%u", level);
      g_autofree char *label = g_strdup_printf ("(8) MountRootfs+UnmountRootfs, %u other rootfs", level);
      g_autofree char *mkey = g_strdup_printf ("mount8@%u", level);
      g_autofree char *ukey = g_strdup_printf ("unmount8@%u", level);

      record (b, key, label, pairs[phase]);
      if (phase == 0)
        {
          g_autofree char *before_s = vcm_bench_format_ns (before);
          g_autofree char *after_s = vcm_bench_format_ns (after);
          g_autofree char *note =
            g_strdup_printf ("median %s before the build-up, %s after the teardown", before_s, after_s);

          record_note (b, "    measured around the other level", note);
        }
      record (b, mkey, "    of which MountRootfs", mounts[phase]);
      record (b, ukey, "    of which UnmountRootfs", unmounts[phase]);
    }
}

static gboolean want (const char *name);
static void target_row (VcmBenchTable *t,
                        const char *what,
                        double value,
                        const char *value_fmt_unit,
                        const char *target_text,
                        gboolean met);

/* ---- case 9: vcmountd's CPU per change ----------------------------------- */

/* Waits until vcmountd has used no CPU in two 200 ms windows in a row (at
 * most 60 s), without calling it: what it does after the last change (a
 * table re-read, a check, a heap trim) is done. Returns its CPU ticks then. */
static guint64
wait_daemon_quiet (void)
{
  gint64 deadline = vcm_bench_now_ns () + G_GINT64_CONSTANT (60000000000);
  guint64 before = cpu_ticks (opt_daemon_pid), now = before;
  guint quiet = 0;

  while (vcm_bench_now_ns () < deadline && quiet < 2)
    {
      g_usleep (200000);
      now = cpu_ticks (opt_daemon_pid);
      quiet = now == before ? quiet + 1 : 0;
      before = now;
    }
  return now;
}

static void
mount_binds (const char *dir, guint *mounted, guint level)
{
  g_autofree char *src = g_build_filename (dir, "src", NULL);

  for (; *mounted < level; (*mounted)++)
    {
      g_autofree char *d = g_strdup_printf ("%s/d%06u", dir, *mounted);

      if (g_mkdir (d, 0755) < 0 || mount (src, d, NULL, MS_BIND, NULL) < 0)
        die (d, NULL);
    }
}

/* Rounds of pairs; per round vcmountd's CPU (utime + stime from
 * /proc/PID/stat, from a quiet daemon to a quiet daemon) per pair. */
static void
cpu_pairs_at (Bench *b, guint level)
{
  g_autoptr (GArray) cpu = vcm_bench_samples_new ();
  g_autoptr (GArray) lat = vcm_bench_samples_new ();
  double hz = (double) sysconf (_SC_CLK_TCK);
  g_autofree char *key = NULL;
  g_autofree char *label = NULL;

  settle (b);
  for (guint round = 0; round < b->plan.cpu_rounds.warm + b->plan.cpu_rounds.n; round++)
    {
      guint64 t0 = wait_daemon_quiet (), t1;

      for (guint i = 0; i < b->plan.cpu_pairs; i++)
        {
          g_autoptr (GError) error = NULL;
          gint64 s = vcm_bench_now_ns ();

          if (!pair (b->proxy, "bench-cpu", "c", NULL, &error))
            die ("MountRootfs/UnmountRootfs (case 9)", error);
          if (round >= b->plan.cpu_rounds.warm)
            vcm_bench_samples_add (lat, (double) (vcm_bench_now_ns () - s));
        }
      t1 = wait_daemon_quiet ();
      if (round >= b->plan.cpu_rounds.warm)
        vcm_bench_samples_add (cpu, (double) (t1 - t0) / hz * 1e9 / b->plan.cpu_pairs);
    }
  key = g_strdup_printf ("cpu_pair@%u", level);
  label = g_strdup_printf ("(9) vcmountd CPU per pair, %u binds present (per round of %u)", level,
                           b->plan.cpu_pairs);
  record (b, key, label, cpu);
  g_free (key);
  key = g_strdup_printf ("lat_pair9@%u", level);
  record (b, key, "    pair latency in those rounds", lat);
}

#define BURST_REPS  3
#define BURST_BATCH 64

/* CPU time of the process behind @clock (clock_getcpuclockid), in ns. */
static guint64
process_cpu_ns (clockid_t clock)
{
  struct timespec ts;

  if (clock_gettime (clock, &ts) != 0)
    die ("clock_gettime of vcmountd's CPU clock", NULL);
  return (guint64) ts.tv_sec * G_GUINT64_CONSTANT (1000000000) + (guint64) ts.tv_nsec;
}

/* The baseline of the burst: a thread that, as the daemon does, follows the
 * mounts from beside the one making them: it takes each batch of unique IDs
 * the burst made and statmount(2)s each (with the mount point) while the
 * burst goes on, contending for the namespace lock as the daemon does. Only
 * the CPU of its statmount calls is counted. */
#define BURST_END GINT_TO_POINTER (1)

static gpointer
burst_follower (gpointer queue)
{
  guint64 *ns = g_new0 (guint64, 1);
  GArray *ids;

  while ((ids = g_async_queue_pop (queue)) != BURST_END)
    {
      struct timespec c0, c1;

      clock_gettime (CLOCK_THREAD_CPUTIME_ID, &c0);
      for (guint i = 0; i < ids->len; i++)
        {
          VcmSysMountBrief m;
          g_autofree char *point = NULL;
          int errsv = 0;

          if (!vcm_sys_statmount_brief (g_array_index (ids, guint64, i), &m, &point, &errsv))
            {
              errno = errsv;
              die ("statmount", NULL);
            }
        }
      clock_gettime (CLOCK_THREAD_CPUTIME_ID, &c1);
      *ns +=
        (guint64) ((c1.tv_sec - c0.tv_sec) * G_GINT64_CONSTANT (1000000000) + (c1.tv_nsec - c0.tv_nsec));
      g_array_unref (ids);
    }
  return ns;
}

/* Case 9: vcmountd's CPU per MountRootfs+UnmountRootfs with few and with
 * many foreign mounts present, and to follow a burst of foreign mounts,
 * against what one statmount(2) per mount costs in-process. */
static void
bench_cpu (Bench *b, guint small, guint big)
{
  g_autofree char *dir = g_build_filename (opt_scratch, "cpu-binds", NULL);
  g_autofree char *src = g_build_filename (dir, "src", NULL);
  double hz = (double) sysconf (_SC_CLK_TCK);
  guint mounted = 0;
  guint burst = big;

  if (g_mkdir_with_parents (dir, 0755) < 0 || mount ("tmpfs", dir, "tmpfs", 0, "mode=0755") < 0 ||
      mount (NULL, dir, NULL, MS_PRIVATE, NULL) < 0 || g_mkdir (src, 0755) < 0)
    die ("the tmpfs for case 9", NULL);

  mount_binds (dir, &mounted, small);
  cpu_pairs_at (b, small);

  /* The burst, BURST_REPS times: @burst foreign bind mounts, as fast as
   * this process makes them, under the same conditions for both sides: the
   * daemon's CPU (all its threads, those that exited too, in ns: the process
   * CPU clock) from a quiet daemon to a quiet daemon, against the CPU a
   * thread of this process spends on one statmount(2) with the mount point
   * of each mount, following the burst in batches of BURST_BATCH from beside
   * it as the daemon does (the table grows, the namespace lock is contended
   * by the mounts being made). Between repetitions the tmpfs is detached
   * and made again. */
  {
    g_autoptr (GArray) daemon_ns = vcm_bench_samples_new ();
    g_autoptr (GArray) stat_ns = vcm_bench_samples_new ();
    g_autoptr (GArray) ratio = vcm_bench_samples_new ();
    g_autoptr (GArray) wall_ns = vcm_bench_samples_new ();
    g_autofree char *label =
      g_strdup_printf ("(9) vcmountd CPU to follow %u foreign mounts (per burst)", burst);
    g_autofree char *label2 =
      g_strdup_printf ("(9) %u statmount(2), a thread following the burst", burst);
    clockid_t daemon_clock;

    if (clock_getcpuclockid (opt_daemon_pid, &daemon_clock) != 0)
      die ("clock_getcpuclockid of vcmountd", NULL);
    for (guint rep = 0; rep < BURST_REPS; rep++)
      {
        guint64 d0, d1, st = 0, *st_ns;
        gint64 w0, w1;
        GAsyncQueue *queue;
        GThread *follower;

        if (rep > 0)
          {
            /* back to @small binds on a fresh tmpfs */
            wait_daemon_quiet ();
            if (umount2 (dir, MNT_DETACH) < 0 || mount ("tmpfs", dir, "tmpfs", 0, "mode=0755") < 0 ||
                mount (NULL, dir, NULL, MS_PRIVATE, NULL) < 0 || g_mkdir (src, 0755) < 0)
              die ("the tmpfs for case 9 (again)", NULL);
            mounted = 0;
            mount_binds (dir, &mounted, small);
          }
        settle (b);
        wait_daemon_quiet ();
        queue = g_async_queue_new ();
        follower = g_thread_new ("burst-follower", burst_follower, queue);
        d0 = process_cpu_ns (daemon_clock);
        w0 = vcm_bench_now_ns ();
        while (mounted < small + burst)
          {
            guint want = MIN (BURST_BATCH, small + burst - mounted);
            GArray *ids = g_array_sized_new (FALSE, FALSE, sizeof (guint64), want);

            for (guint end = mounted + want; mounted < end; mounted++)
              {
                g_autofree char *d = g_strdup_printf ("%s/d%06u", dir, mounted);
                guint64 id = 0;
                int fd;

                if (g_mkdir (d, 0755) < 0 || mount (src, d, NULL, MS_BIND, NULL) < 0 ||
                    (fd = open (d, O_PATH | O_CLOEXEC)) < 0)
                  die (d, NULL);
                if (vcm_sys_unique_mount_id (fd, &id) < 0)
                  die ("the unique ID of a burst mount", NULL);
                close (fd);
                g_array_append_val (ids, id);
              }
            g_async_queue_push (queue, ids);
          }
        g_async_queue_push (queue, BURST_END);
        st_ns = g_thread_join (follower);
        st = *st_ns;
        g_free (st_ns);
        g_async_queue_unref (queue);
        w1 = vcm_bench_now_ns ();
        wait_daemon_quiet ();
        d1 = process_cpu_ns (daemon_clock);
        vcm_bench_samples_add (daemon_ns, (double) (d1 - d0));
        vcm_bench_samples_add (stat_ns, (double) st);
        vcm_bench_samples_add (ratio, (double) (d1 - d0) / (double) st);
        vcm_bench_samples_add (wall_ns, (double) (w1 - w0));
      }
    record (b, "cpu_burst", label, daemon_ns);
    record (b, "cpu_statmount", label2, stat_ns);
    record (b, "burst_wall", "    the burst took (wall, this process)", wall_ns);
    {
      g_autofree char *each = g_strdup (""), *note = NULL;

      for (guint i = 0; i < ratio->len; i++)
        {
          char *more =
            g_strdup_printf ("%s%s%.2f", each, i ? " " : "", g_array_index (ratio, double, i));
          g_free (each);
          each = more;
        }
      note = g_strdup_printf ("%s (median %.2f)", each, vcm_bench_stats_of (ratio).median);
      set_value (b, "burst_ratio", vcm_bench_stats_of (ratio).median);
      record_note (b, "    ratio per burst, daemon / statmount", note);
    }
  }

  /* the same statmount(2) calls on a quiet table, in a tight loop, for comparison */
  {
    g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (guint64));
    g_autofree char *n = g_strdup_printf ("%u", burst);
    g_autofree char *cpu = NULL;
    struct timespec c0, c1;
    int fd = open (dir, O_PATH | O_CLOEXEC);
    guint64 root = 0, last = 0;
    gssize got;

    if (fd < 0 || vcm_sys_unique_mount_id (fd, &root) < 0)
      die ("the unique ID of the case 9 tmpfs", NULL);
    close (fd);
    do
      {
        guint64 batch[512];

        got = vcm_sys_listmount (root, last, batch, G_N_ELEMENTS (batch));
        if (got < 0)
          die ("listmount", NULL);
        g_array_append_vals (ids, batch, (guint) got);
        if (got > 0)
          last = batch[got - 1];
      }
    while (got == 512);
    for (int with_point = 1; with_point >= 0; with_point--)
      {
        clock_gettime (CLOCK_THREAD_CPUTIME_ID, &c0);
        for (guint i = 0; i < MIN (ids->len, burst); i++)
          {
            VcmSysMountBrief m;
            g_autofree char *point = NULL;
            int errsv = 0;

            if (!vcm_sys_statmount_brief (g_array_index (ids, guint64, i), &m,
                                          with_point ? &point : NULL, &errsv))
              {
                errno = errsv;
                die ("statmount", NULL);
              }
          }
        clock_gettime (CLOCK_THREAD_CPUTIME_ID, &c1);
        g_free (cpu);
        cpu = vcm_bench_format_ns ((double) (c1.tv_sec - c0.tv_sec) * 1e9 +
                                   (double) (c1.tv_nsec - c0.tv_nsec));
        record_text (b,
                     with_point ? "    the same statmount(2) on a quiet table, tight loop"
                                : "    the same without the mount point (MNT_BASIC only)",
                     n, cpu);
      }
  }

  cpu_pairs_at (b, small + burst);

  /* and all of them detached at once */
  {
    guint64 t0 = wait_daemon_quiet (), t1;
    g_autofree char *label =
      g_strdup_printf ("    vcmountd CPU to follow %u mounts detached at once", mounted + 1);
    g_autofree char *cpu = NULL;

    if (umount2 (dir, MNT_DETACH) < 0)
      die ("unmounting the case 9 binds", NULL);
    t1 = wait_daemon_quiet ();
    cpu = vcm_bench_format_ns ((double) (t1 - t0) / hz * 1e9);
    record_text (b, label, NULL, cpu);
  }
  settle (b);
}

/* The targets of case 9 (and 8's second one), printed when case 9 ran. */
static void
print_cpu_summary (Bench *b, guint small, guint big)
{
  g_autoptr (VcmBenchTable) t = vcm_bench_table_new (4);
  g_autofree char *ks = g_strdup_printf ("cpu_pair@%u", small);
  g_autofree char *kb = g_strdup_printf ("cpu_pair@%u", small + big);
  g_autofree char *what = g_strdup_printf ("(9) CPU per pair @%u / @%u binds", small + big, small);
  g_autofree char *what2 = g_strdup_printf ("(9) CPU to follow %u mounts / %u statmount", big, big);
  double r;

  vcm_bench_table_add (t, "ratio", "value", "target", "");
  r = median_of (b, kb) / median_of (b, ks);
  target_row (t, what, r, "", "<= 1.50", r <= 1.5);
  r = get_value (b, "burst_ratio");
  target_row (t, what2, r, "", "<= 2.00", r <= 2);
  if (want ("many"))
    {
      g_autofree char *k_small = g_strdup_printf ("pair8@%u", small);
      g_autofree char *k_big = g_strdup_printf ("pair8@%u", big);
      g_autofree char *w = g_strdup_printf ("(8) pair @%u / @%u rootfs (issue 15)", big, small);

      r = median_of (b, k_big) / median_of (b, k_small);
      target_row (t, w, r, "", "<= 1.20", r <= 1.2);
    }
  printf ("\nTargets of case 9 (medians)\n");
  vcm_bench_table_print (t, stdout);
}

/* ---- the summary -------------------------------------------------------- */

static void
target_row (VcmBenchTable *t,
            const char *what,
            double value,
            const char *value_fmt_unit,
            const char *target_text,
            gboolean met)
{
  g_autofree char *v = g_strdup_printf ("%.2f%s", value, value_fmt_unit);

  vcm_bench_table_add (t, what, v, target_text, met ? "met" : "NOT MET");
}

static void
print_summary (Bench *b, guint small, guint medium, guint big)
{
  g_autoptr (VcmBenchTable) t = vcm_bench_table_new (4);
  double raw = median_of (b, "raw_classic");
  double ping = median_of (b, "ping");
  double p3 = median_of (b, "pair_root");
  double p4 = median_of (b, "pair_user");
  double pk = median_of (b, "polkit");
  double p6 = median_of (b, "spawn");
  double seq_rate = get_value (b, "rate_user_seq1");
  double conc_rate = get_value (b, "rate_user_conc");
  double rss_idle = get_value (b, "rss_idle") / 1024, rss_big = get_value (b, "rss_big") / 1024;
  g_autofree char *k_small = g_strdup_printf ("pair8@%u", small);
  g_autofree char *k_big = g_strdup_printf ("pair8@%u", big);
  double r;

  vcm_bench_table_add (t, "ratio", "value", "target", "");
  r = p3 / (raw + ping);
  target_row (t, "(3) / ((1) classic + (2))", r, "", "<= 1.50", r <= 1.5);
  r = p3 / (raw + 2 * ping);
  vcm_bench_table_add (t, "    (3) / ((1) + 2 x (2))  (a pair is two calls)", NULL, "(no target)", "");
  {
    g_autofree char *v = g_strdup_printf ("%.2f", r);
    vcm_bench_table_set_last (t, 1, v);
  }
  r = p4 / p3;
  {
    double limit = (p3 + 2 * pk) * 1.2 / p3;
    g_autofree char *tt = g_strdup_printf ("<= %.2f  ((3)+2 polkit)*1.2/(3)", limit);
    target_row (t, "(4) / (3)", r, "", tt, r <= limit);
  }
  r = p6 / p3;
  target_row (t, "(6) / (3)", r, "", ">= 5.00", r >= 5);
  r = median_of (b, k_big) / median_of (b, k_small);
  {
    g_autofree char *what = g_strdup_printf ("(8) pair @%u / @%u rootfs", big, small);
    target_row (t, what, r, "", "<= 1.50", r <= 1.5);
  }
  {
    const char *qs[][2] = {
      { "q_dbus_dev", "(7) GetDeviceForPath D-Bus" },
      { "q_dbus_desc", "(7) DescribePath D-Bus" },
      { "q_inproc_dev", "(7) device_for_path in-process" },
      { "q_inproc_desc", "(7) describe_path in-process" },
    };
    for (gsize i = 0; i < G_N_ELEMENTS (qs); i++)
      {
        g_autofree char *kb = g_strdup_printf ("%s@%u", qs[i][0], big);
        g_autofree char *ks = g_strdup_printf ("%s@%u", qs[i][0], small);
        g_autofree char *what = g_strdup_printf ("%s @%u / @%u", qs[i][1], big, small);
        r = median_of (b, kb) / median_of (b, ks);
        target_row (t, what, r, "", "<= 1.50", r <= 1.5);
      }
  }
  r = conc_rate / seq_rate;
  {
    g_autofree char *what = g_strdup_printf ("(5) unprivileged %d clients / 1 client", opt_clients);
    target_row (t, what, r, "", ">= 2.00", r >= 2);
  }
  r = get_value (b, "rate_root_conc") / get_value (b, "rate_root_seq");
  {
    g_autofree char *what = g_strdup_printf ("    root %d clients / 1 client", opt_clients);
    g_autofree char *v = g_strdup_printf ("%.2f", r);
    vcm_bench_table_add (t, what, v, "(no target)", "");
  }
  target_row (t, "vcmountd RSS idle", rss_idle, " MiB", "<= 4 MiB", rss_idle <= 4);
  {
    g_autofree char *what = g_strdup_printf ("vcmountd RSS, %u rootfs mounted", big);
    target_row (t, what, rss_big, " MiB", "<= 16 MiB", rss_big <= 16);
  }
  {
    g_autofree char *v = g_strdup_printf ("%.2f MiB", get_value (b, "rss_after") / 1024);
    vcm_bench_table_add (t, "vcmountd RSS after UnmountSandbox", v, "(no target)", "");
  }

  printf ("\nTargets (medians; ratios of the rows above)\n");
  vcm_bench_table_print (t, stdout);
}

static gboolean
want (const char *name)
{
  g_auto (GStrv) names = NULL;

  if (opt_only == NULL)
    return TRUE;
  names = g_strsplit (opt_only, ",", 0);
  return g_strv_contains ((const char *const *) names, name);
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- benchmark vcmountd");
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) classic = NULL;
  g_autoptr (GArray) newapi = NULL;
  g_autoptr (GArray) spawned = NULL;
  Bench bench = { 0 }, *b = &bench;
  guint small = 10, medium = 1000, big;
  gint64 t_start = vcm_bench_now_ns ();
  g_autofree char *rss = NULL;
  g_autofree char *now = NULL;
  g_autoptr (GDateTime) dt = NULL;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    die ("options", error);
  if (opt_bus == NULL)
    {
      g_printerr ("vcm-bench: --bus is required (run it through scripts/bench)\n");
      return 2;
    }
  if (opt_worker != NULL)
    return worker_main ();
  if (opt_shared_dir == NULL || opt_sysfs_root == NULL || opt_rootfs == NULL || opt_scratch == NULL ||
      opt_daemon_pid <= 0)
    {
      g_printerr (
        "vcm-bench: --shared-dir, --sysfs-root, --rootfs, --scratch and --daemon-pid are required\n");
      return 2;
    }
  if (opt_quick && opt_max_mounts > 1000)
    opt_max_mounts = 1000;
  big = (guint) MAX (opt_max_mounts, 20);
  medium = MIN (medium, big / 2);
  g_setenv ("DBUS_SYSTEM_BUS_ADDRESS", opt_bus, TRUE); /* polkit's authority uses the system bus */

  b->plan = make_plan (opt_quick);
  b->table = vcm_bench_table_new (5);
  b->stats = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  b->values = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  b->self_exe = g_file_read_link ("/proc/self/exe", &error);
  if (b->self_exe == NULL)
    die ("/proc/self/exe", error);
  b->mount_prog = find_program ("mount");
  b->umount_prog = find_program ("umount");
  b->findmnt_prog = find_program ("findmnt");

  dt = g_date_time_new_now_local ();
  now = g_date_time_format (dt, "%Y-%m-%d %H:%M %Z");
  vcm_bench_table_add (b->table, "operation", "n", "median", "min", "max");

  /* 1 and 6 first: they fork, which must happen before any thread exists. */
  set_value (b, "rss_idle", rss_kib (opt_daemon_pid));
  b->rss_idle_breakdown = rss_breakdown (opt_daemon_pid);
  if (want ("raw"))
    {
      g_printerr ("vcm-bench: raw mounts (cases 1, 6)\n");
      bench_raw (b, &classic, &newapi, &spawned);
      record (b, "raw_classic", "(1) bind mount + lazy unmount, mount(2)", classic);
      record (b, "raw_newapi", "(1) bind mount + lazy unmount, open_tree/move_mount", newapi);
    }

  b->conn = connect_bus (&error);
  if (b->conn == NULL)
    die ("connecting to the bus", error);
  b->proxy = new_proxy (b->conn, &error);
  if (b->proxy == NULL)
    die ("the org.vc.Mount proxy", error);

  g_printerr ("vcm-bench: D-Bus round trips (cases 2, 3)\n");
  if (want ("ping"))
    bench_ping (b);
  if (want ("root"))
    bench_pairs_root (b);
  if (want ("fd"))
    {
      g_printerr ("vcm-bench: the fd-based pair against the path-based pair (case 11)\n");
      bench_fd_pairs (b);
    }
  if (want ("user"))
    {
      g_printerr ("vcm-bench: unprivileged caller (case 4)\n");
      bench_polkit (b);
      bench_pairs_user (b);
    }
  if (want ("raw"))
    record (b, "spawn", "(6) mount --bind + umount -l, spawned", spawned);
  if (want ("concurrent"))
    {
      g_printerr ("vcm-bench: concurrent clients (case 5)\n");
      bench_concurrent (b);
    }
  if (want ("queries"))
    {
      g_printerr ("vcm-bench: queries with many mounts (case 7)\n");
      bench_queries (b, small, medium, big);
    }
  if (want ("cpu"))
    {
      g_printerr ("vcm-bench: vcmountd's CPU per change (case 9)\n");
      bench_cpu (b, small, big);
    }
  if (want ("many"))
    {
      g_printerr ("vcm-bench: many rootfs (case 8)\n");
      bench_many_rootfs (b, small, big);
    }

  vcm_bench_table_add_title (b->table, "-- vcmountd memory");
  rss = g_strdup_printf ("%.2f MiB", get_value (b, "rss_idle") / 1024);
  record_text (b, "vcmountd VmRSS idle (after start)", NULL, rss);
  record_note (b, "    of which (idle)", b->rss_idle_breakdown);
  if (want ("many"))
    {
      g_autofree char *l = g_strdup_printf ("vcmountd VmRSS with %u rootfs mounted", big);
      g_free (rss);
      rss = g_strdup_printf ("%.2f MiB", get_value (b, "rss_big") / 1024);
      record_text (b, l, NULL, rss);
      record_note (b, "    of which", b->rss_big_breakdown);
    }

  printf ("vc-mount benchmark, %s%s; %u..%u mounts; %d concurrent clients; run took %.0f s\n", now,
          opt_quick ? " (--quick)" : "", small, big, opt_clients,
          (double) (vcm_bench_now_ns () - t_start) / 1e9);
  printf ("Times per operation, after warm-up; (n) = measured iterations.\n\n");
  vcm_bench_table_print (b->table, stdout);
  if (opt_only == NULL)
    print_summary (b, small, medium, big);
  if (want ("cpu"))
    print_cpu_summary (b, small, big);

  g_hash_table_unref (b->stats);
  g_hash_table_unref (b->values);
  vcm_bench_table_free (b->table);
  g_object_unref (b->proxy);
  g_object_unref (b->conn);
  g_free (b->self_exe);
  g_free (b->mount_prog);
  g_free (b->umount_prog);
  g_free (b->findmnt_prog);
  g_free (b->rss_idle_breakdown);
  g_free (b->rss_big_breakdown);
  return 0;
}
