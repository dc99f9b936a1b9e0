/* vcm-bench-cpu: case 9, vcmountd's CPU per change (its own, polkitd's
 * and the bus daemon's), pairs at growing mount counts and bursts of
 * foreign changes. */
#include "config.h"

#include "vcm-bench.h"

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

/* A fresh private tmpfs at @dir with an empty @src directory in it. */
static void
cpu_tmpfs_fresh (const char *dir, const char *src, const char *what)
{
  if (mount ("tmpfs", dir, "tmpfs", 0, "mode=0755") < 0 ||
      mount (NULL, dir, NULL, MS_PRIVATE, NULL) < 0 || g_mkdir (src, 0755) < 0)
    die (what, NULL);
}

/* Bind mounts of @src up to @until in @dir, BURST_BATCH at a time, each
 * batch's unique IDs handed to the follower through @queue. */
static void
burst_mounts (const char *dir, const char *src, guint *mounted, guint until, GAsyncQueue *queue)
{
  while (*mounted < until)
    {
      guint want = MIN (BURST_BATCH, until - *mounted);
      GArray *ids = g_array_sized_new (FALSE, FALSE, sizeof (guint64), want);

      for (guint end = *mounted + want; *mounted < end; (*mounted)++)
        {
          g_autofree char *d = g_strdup_printf ("%s/d%06u", dir, *mounted);
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
}

/* One burst from @small binds to @small + @burst: the daemon's CPU, the
 * follower thread's statmount CPU and the wall time, in ns. */
static void
burst_once (Bench *b,
            const char *dir,
            const char *src,
            guint small,
            guint burst,
            guint *mounted,
            clockid_t daemon_clock,
            double *out_daemon,
            double *out_stat,
            double *out_wall)
{
  guint64 d0, d1, *st_ns;
  gint64 w0, w1;
  GAsyncQueue *queue;
  GThread *follower;

  settle (b);
  wait_daemon_quiet ();
  queue = g_async_queue_new ();
  follower = g_thread_new ("burst-follower", burst_follower, queue);
  d0 = process_cpu_ns (daemon_clock);
  w0 = vcm_bench_now_ns ();
  burst_mounts (dir, src, mounted, small + burst, queue);
  g_async_queue_push (queue, BURST_END);
  st_ns = g_thread_join (follower);
  *out_stat = (double) *st_ns;
  g_free (st_ns);
  g_async_queue_unref (queue);
  w1 = vcm_bench_now_ns ();
  wait_daemon_quiet ();
  d1 = process_cpu_ns (daemon_clock);
  *out_daemon = (double) (d1 - d0);
  *out_wall = (double) (w1 - w0);
}

/* The burst, BURST_REPS times: @burst foreign bind mounts, as fast as this
 * process makes them, under the same conditions for both sides: the
 * daemon's CPU (all its threads, those that exited too, in ns: the process
 * CPU clock) from a quiet daemon to a quiet daemon, against the CPU a thread
 * of this process spends on one statmount(2) with the mount point of each
 * mount, following the burst in batches of BURST_BATCH from beside it as
 * the daemon does (the table grows, the namespace lock is contended by the
 * mounts being made). Between repetitions the tmpfs is detached and made
 * again. */
static void
bench_burst (Bench *b, const char *dir, const char *src, guint small, guint burst, guint *mounted)
{
  g_autoptr (GArray) daemon_ns = vcm_bench_samples_new ();
  g_autoptr (GArray) stat_ns = vcm_bench_samples_new ();
  g_autoptr (GArray) ratio = vcm_bench_samples_new ();
  g_autoptr (GArray) wall_ns = vcm_bench_samples_new ();
  g_autofree char *label =
    g_strdup_printf ("(9) vcmountd CPU to follow %u foreign mounts (per burst)", burst);
  g_autofree char *label2 = g_strdup_printf ("(9) %u statmount(2), a thread following the burst", burst);
  g_autofree char *each = g_strdup (""), *note = NULL;
  clockid_t daemon_clock;

  if (clock_getcpuclockid (opt_daemon_pid, &daemon_clock) != 0)
    die ("clock_getcpuclockid of vcmountd", NULL);
  for (guint rep = 0; rep < BURST_REPS; rep++)
    {
      double d, st, wall;

      if (rep > 0)
        {
          /* back to @small binds on a fresh tmpfs */
          wait_daemon_quiet ();
          if (umount2 (dir, MNT_DETACH) < 0)
            die ("the tmpfs for case 9 (again)", NULL);
          cpu_tmpfs_fresh (dir, src, "the tmpfs for case 9 (again)");
          *mounted = 0;
          vcm_bench_mount_binds (dir, mounted, small);
        }
      burst_once (b, dir, src, small, burst, mounted, daemon_clock, &d, &st, &wall);
      vcm_bench_samples_add (daemon_ns, d);
      vcm_bench_samples_add (stat_ns, st);
      vcm_bench_samples_add (ratio, d / st);
      vcm_bench_samples_add (wall_ns, wall);
    }
  record (b, "cpu_burst", label, daemon_ns);
  record (b, "cpu_statmount", label2, stat_ns);
  record (b, "burst_wall", "    the burst took (wall, this process)", wall_ns);
  for (guint i = 0; i < ratio->len; i++)
    {
      char *more = g_strdup_printf ("%s%s%.2f", each, i ? " " : "", g_array_index (ratio, double, i));
      g_free (each);
      each = more;
    }
  note = g_strdup_printf ("%s (median %.2f)", each, vcm_bench_stats_of (ratio).median);
  set_value (b, "burst_ratio", vcm_bench_stats_of (ratio).median);
  record_note (b, "    ratio per burst, daemon / statmount", note);
}

/* The same statmount(2) calls as the burst's follower on a quiet table, in
 * a tight loop, for comparison: with the mount point and without. */
static void
bench_statmount_loop (Bench *b, const char *dir, guint burst)
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

          if (!vcm_sys_statmount_brief (g_array_index (ids, guint64, i), &m, with_point ? &point : NULL,
                                        &errsv))
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

/* Case 9: vcmountd's CPU per MountRootfs+UnmountRootfs with few and with
 * many foreign mounts present, and to follow a burst of foreign mounts,
 * against what one statmount(2) per mount costs in-process. */
void
bench_cpu (Bench *b, guint small, guint big)
{
  g_autofree char *dir = g_build_filename (opt_scratch, "cpu-binds", NULL);
  g_autofree char *src = g_build_filename (dir, "src", NULL);
  double hz = (double) sysconf (_SC_CLK_TCK);
  guint mounted = 0;
  guint burst = big;

  if (g_mkdir_with_parents (dir, 0755) < 0)
    die ("the tmpfs for case 9", NULL);
  cpu_tmpfs_fresh (dir, src, "the tmpfs for case 9");
  vcm_bench_mount_binds (dir, &mounted, small);
  cpu_pairs_at (b, small);
  bench_burst (b, dir, src, small, burst, &mounted);
  bench_statmount_loop (b, dir, burst);
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
void
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
