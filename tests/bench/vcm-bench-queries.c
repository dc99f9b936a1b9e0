/* vcm-bench-queries: the device queries (over D-Bus, in process, the
 * kernel, findmnt, table parses) at growing mount counts, and pairs with many
 * rootfs mounted. */
#include "config.h"

#include "vcm-bench.h"

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

void
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
void
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
