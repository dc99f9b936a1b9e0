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

#include "vcm-bench.h"

/* ---- options ------------------------------------------------------------ */

char *opt_bus;
char *opt_shared_dir;
char *opt_sysfs_root;
char *opt_rootfs;
char *opt_scratch;
int opt_daemon_pid;
int opt_polkitd_pid;
int opt_busd_pid;
int opt_uid = 4242;
int opt_clients = 8;
int opt_max_mounts = 10000;
gboolean opt_quick;
char *opt_only;
char *opt_worker;
int opt_worker_uid;
char *opt_worker_sandbox;
int opt_worker_iterations;
int opt_worker_warmup;

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

/* A burst worker's calls in flight: how many answered, how many ok. */
typedef struct {
  guint left;
  guint ok;
  GMainLoop *loop;
} Burst;

static void
on_burst_mounted (GObject *source, GAsyncResult *res, gpointer user_data)
{
  Burst *burst = user_data;

  if (vcm_dbus_mount_call_mount_rootfs_finish (VCM_DBUS_MOUNT (source), NULL, res, NULL))
    burst->ok++;
  if (--burst->left == 0)
    g_main_loop_quit (burst->loop);
}

static void
on_burst_unmounted (GObject *source, GAsyncResult *res, gpointer user_data)
{
  Burst *burst = user_data;

  if (vcm_dbus_mount_call_unmount_rootfs_finish (VCM_DBUS_MOUNT (source), NULL, res, NULL))
    burst->ok++;
  if (--burst->left == 0)
    g_main_loop_quit (burst->loop);
}

/* Case 12's client: @n MountRootfs of containers c0..c(n-1) of @sandbox on
 * one connection at once, as a runtime starting @n containers; then as many
 * UnmountRootfs. Prints "MOUNTED UNMOUNTED NS" (the calls that succeeded,
 * the time until every MountRootfs was answered). */
static int
worker_burst (VcmDBusMount *proxy, const char *sandbox, guint n)
{
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  Burst mounted = { .left = n, .loop = loop }, unmounted = { .left = n, .loop = loop };
  gint64 t0;
  double ns;
  char go;

  printf ("ready\n");
  fflush (stdout);
  if (read (0, &go, 1) != 1)
    return 2;
  t0 = vcm_bench_now_ns ();
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *c = g_strdup_printf ("c%u", i);
      vcm_dbus_mount_call_mount_rootfs (proxy, sandbox, c, opt_rootfs, TRUE, NULL, on_burst_mounted,
                                        &mounted);
    }
  g_main_loop_run (loop);
  ns = (double) (vcm_bench_now_ns () - t0);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *c = g_strdup_printf ("c%u", i);
      vcm_dbus_mount_call_unmount_rootfs (proxy, sandbox, c, NULL, on_burst_unmounted, &unmounted);
    }
  g_main_loop_run (loop);
  printf ("%u %u %.0f\n", mounted.ok, unmounted.ok, ns);
  fflush (stdout);
  return 0;
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
  if ((g_strcmp0 (opt_worker, "pairs") != 0 && g_strcmp0 (opt_worker, "burst") != 0) ||
      opt_worker_sandbox == NULL)
    {
      g_printerr ("vcm-bench: bad worker arguments\n");
      return 2;
    }

  proxy = new_proxy (conn, &error);
  if (proxy == NULL)
    die ("worker: proxy", error);
  if (g_strcmp0 (opt_worker, "burst") == 0)
    return worker_burst (proxy, opt_worker_sandbox, (guint) opt_worker_iterations);
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

void
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
  FILE *out;

  memset (w, 0, sizeof *w);
  if (!g_spawn_async_with_pipes ("/", (char **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                                 &w->pid, &w->in_fd, &out_fd, NULL, &error))
    die ("spawning a worker", error);
  out = fdopen (out_fd, "r");
  if (out == NULL)
    die ("fdopen", NULL);
  w->out = out;
}

/* Reads the worker's "ready" line (after its warm-up). */
void
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
double
run_clients (
  Bench *b, guint uid, guint n_clients, Iter it, const char *prefix, GArray *pairs, GArray *mounts)
{
  g_autoptr (GPtrArray) w = g_ptr_array_new_with_free_func (g_free);
  gint64 first = G_MAXINT64, last = 0;
  int pids[3] = { opt_daemon_pid, opt_polkitd_pid, opt_busd_pid };
  guint64 ticks[3];
  gint64 t0;
  double hz = (double) sysconf (_SC_CLK_TCK);
  guint64 m_busy, m_total, m_busy2, m_total2;

  for (guint i = 0; i < n_clients; i++)
    {
      g_autofree char *sandbox = g_strdup_printf ("%s-%u", prefix, i);
      Worker *one = g_new0 (Worker, 1);

      g_ptr_array_add (w, one);
      worker_spawn (b, one, "pairs", uid, sandbox, it.n, it.warm);
    }
  for (guint i = 0; i < n_clients; i++)
    worker_wait_ready (w->pdata[i]);
  for (int i = 0; i < 3; i++)
    ticks[i] = cpu_ticks (pids[i]);
  machine_ticks (&m_busy, &m_total);
  t0 = vcm_bench_now_ns ();
  for (guint i = 0; i < n_clients; i++)
    worker_go (w->pdata[i]);
  for (guint i = 0; i < n_clients; i++)
    {
      gint64 s = 0, e = 0;
      worker_finish (w->pdata[i], pairs, mounts, &s, &e);
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

/* ---- the summary -------------------------------------------------------- */

void
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

gboolean
want (const char *name)
{
  g_auto (GStrv) names = NULL;

  if (opt_only == NULL)
    return TRUE;
  names = g_strsplit (opt_only, ",", 0);
  return g_strv_contains ((const char *const *) names, name);
}

/* The results' store and the programs the cases spawn. */
static void
bench_init (Bench *b)
{
  g_autoptr (GError) error = NULL;

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
  vcm_bench_table_add (b->table, "operation", "n", "median", "min", "max");
}

static void
bench_clear (Bench *b)
{
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
}

/* The cases over D-Bus, those --only asks for (all without it). */
static void
run_bus_cases (Bench *b, GArray *spawned, guint small, guint medium, guint big)
{
  g_autoptr (GError) error = NULL;

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
  if (want ("parallel"))
    {
      g_printerr ("vcm-bench: one user's calls at once (case 12)\n");
      bench_parallel (b);
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
}

/* Issue 23's per-call target: one MountRootfs against what it cannot do
 * without (a round trip, half the kernel's pair), with raw, ping and root. */
static void
print_call_summary (Bench *b)
{
  g_autoptr (VcmBenchTable) t = vcm_bench_table_new (4);
  double raw = median_of (b, "raw_classic");
  double ping = median_of (b, "ping");
  double mount = median_of (b, "mount_root");
  double unmount = median_of (b, "unmount_root");
  double noop = median_of (b, "noop");
  double r;

  vcm_bench_table_add (t, "ratio (per call)", "value", "target", "");
  r = mount / (ping + raw / 2);
  target_row (t, "MountRootfs / ((2) + (1) classic / 2)", r, "", "<= 1.50", r <= 1.5);
  r = unmount / (ping + raw / 2);
  vcm_bench_table_add (t, "    UnmountRootfs / ((2) + (1) classic / 2)", NULL, "(no target)", "");
  {
    g_autofree char *v = g_strdup_printf ("%.2f", r);
    vcm_bench_table_set_last (t, 1, v);
  }
  r = noop / ping;
  vcm_bench_table_add (t, "    IsSystemMount / (2)  (dispatch and check)", NULL, "(no target)", "");
  {
    g_autofree char *v = g_strdup_printf ("%.2f", r);
    vcm_bench_table_set_last (t, 1, v);
  }
  printf ("\nTarget of issue 23, item 4 (medians)\n");
  vcm_bench_table_print (t, stdout);
}

/* The daemon's memory, the table and the summaries, on stdout. */
static void
print_results (Bench *b, gint64 t_start, guint small, guint medium, guint big)
{
  g_autoptr (GDateTime) dt = g_date_time_new_now_local ();
  g_autofree char *now = g_date_time_format (dt, "%Y-%m-%d %H:%M %Z");
  g_autofree char *rss = NULL;

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
  if (want ("raw") && want ("ping") && want ("root"))
    print_call_summary (b);
  if (want ("cpu"))
    print_cpu_summary (b, small, big);
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
  bench_init (b);

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
  run_bus_cases (b, spawned, small, medium, big);
  print_results (b, t_start, small, medium, big);
  bench_clear (b);
  return 0;
}
