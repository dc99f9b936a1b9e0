/* vcm-bench-fallback: case 10 of scripts/bench (issue 23): the
 * MountRootfs+UnmountRootfs pair by root and vcmountd's CPU per pair (user
 * and total) with 10 and with 10,000 foreign bind mounts present, and the
 * CPU vcmountd spends following a continuous churn of foreign mounts with
 * 10,000 present. bench-world runs it once against each vcmountd it starts:
 * the event path, then the fallback path (seccomp refusing statmount(2) and
 * listmount(2) with EPERM, as the unit's filter does, and with ENOSYS, as an
 * old kernel does). Prints one "key value" line per measure on stdout;
 * bench-world compares them across the runs and prints the targets. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mount.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "vcm-bench-proc.h"
#include "vcm-bench-stats.h"
#include "vcm-generated.h"

static char *opt_bus;
static char *opt_rootfs;
static char *opt_scratch;
static int opt_daemon_pid;
static int opt_max_mounts = 10000;
static gboolean opt_quick;

static GOptionEntry entries[] = {
  { "bus", 0, 0, G_OPTION_ARG_STRING, &opt_bus, "Address of the (test) system bus", "ADDRESS" },
  { "rootfs", 0, 0, G_OPTION_ARG_FILENAME, &opt_rootfs, "A directory to mount as rootfs", "DIR" },
  { "scratch", 0, 0, G_OPTION_ARG_FILENAME, &opt_scratch, "An empty directory outside the shared dir",
    "DIR" },
  { "daemon-pid", 0, 0, G_OPTION_ARG_INT, &opt_daemon_pid, "vcmountd's pid", "PID" },
  { "max-mounts", 0, 0, G_OPTION_ARG_INT, &opt_max_mounts, "Foreign mounts (default 10000)", "N" },
  { "quick", 0, 0, G_OPTION_ARG_NONE, &opt_quick, "Fewer iterations", NULL },
  G_OPTION_ENTRY_NULL
};

G_GNUC_NORETURN static void
die (const char *what, const GError *error)
{
  g_printerr ("vcm-bench-fallback: %s: %s\n", what, error ? error->message : g_strerror (errno));
  exit (1);
}

/* utime and utime + stime of vcmountd, in ns (from clock ticks). */
static void
daemon_times (guint64 *user, guint64 *total)
{
  double tick = 1e9 / (double) sysconf (_SC_CLK_TCK);
  guint64 utime, stime;

  if (!vcm_bench_proc_cpu_ticks (opt_daemon_pid, &utime, &stime))
    die ("/proc/PID/stat of vcmountd", NULL);
  *user = (guint64) ((double) utime * tick);
  *total = (guint64) ((double) (utime + stime) * tick);
}

/* The process CPU clock of vcmountd (all threads), in ns. */
static guint64
daemon_cpu_ns (void)
{
  clockid_t clock;
  struct timespec ts;

  if (clock_getcpuclockid (opt_daemon_pid, &clock) != 0 || clock_gettime (clock, &ts) != 0)
    die ("vcmountd's CPU clock", NULL);
  return (guint64) ts.tv_sec * G_GUINT64_CONSTANT (1000000000) + (guint64) ts.tv_nsec;
}

/* Waits until vcmountd used no CPU tick in two 200 ms windows in a row (at
 * most 60 s): what it does after the last change counts, nothing else does. */
static void
wait_daemon_quiet (guint64 *user, guint64 *total)
{
  gint64 deadline = vcm_bench_now_ns () + G_GINT64_CONSTANT (60000000000);
  guint64 u0, t0;
  guint quiet = 0;

  daemon_times (&u0, &t0);
  while (vcm_bench_now_ns () < deadline && quiet < 2)
    {
      g_usleep (200000);
      daemon_times (user, total);
      quiet = *total == t0 ? quiet + 1 : 0;
      u0 = *user;
      t0 = *total;
    }
  *user = u0;
  *total = t0;
}

static void
print_value (const char *key, guint level, double v)
{
  printf ("%s@%u %.6g\n", key, level, v);
  fflush (stdout);
}

/* Rounds of pairs: the latency of each pair, and per round vcmountd's user
 * and total CPU per pair, from a quiet daemon to a quiet daemon. */
static void
pairs_at (VcmDBusMount *proxy, guint level)
{
  g_autoptr (GArray) lat = vcm_bench_samples_new ();
  g_autoptr (GArray) user = vcm_bench_samples_new ();
  g_autoptr (GArray) total = vcm_bench_samples_new ();
  guint rounds = opt_quick ? 3 : 5, pairs = opt_quick ? 50 : 200, warm = 20;

  for (guint round = 0; round < rounds; round++)
    {
      guint64 u0, t0, u1, t1;

      for (guint i = 0; i < (round == 0 ? warm : 0) + pairs; i++)
        {
          g_autoptr (GError) error = NULL;
          g_autofree char *mp = NULL;
          g_auto (GStrv) detached = NULL;
          gint64 s;

          if (i == (round == 0 ? warm : 0))
            wait_daemon_quiet (&u0, &t0);
          s = vcm_bench_now_ns ();
          if (!vcm_dbus_mount_call_mount_rootfs_sync (proxy, "bench-fb", "c", opt_rootfs, FALSE, &mp,
                                                      NULL, &error) ||
              !vcm_dbus_mount_call_unmount_rootfs_sync (proxy, "bench-fb", "c", &detached, NULL, &error))
            die ("MountRootfs/UnmountRootfs", error);
          vcm_bench_samples_add (lat, (double) (vcm_bench_now_ns () - s));
        }
      wait_daemon_quiet (&u1, &t1);
      vcm_bench_samples_add (user, (double) (u1 - u0) / pairs);
      vcm_bench_samples_add (total, (double) (t1 - t0) / pairs);
    }
  print_value ("pair", level, vcm_bench_stats_of (lat).median);
  print_value ("pair_min", level, vcm_bench_stats_of (lat).min);
  print_value ("pair_max", level, vcm_bench_stats_of (lat).max);
  print_value ("user", level, vcm_bench_stats_of (user).median);
  print_value ("cpu", level, vcm_bench_stats_of (total).median);
  g_printerr ("  %u mounts: pair %.0f us, vcmountd user %.0f us, total %.0f us per pair\n", level,
              vcm_bench_stats_of (lat).median / 1e3, vcm_bench_stats_of (user).median / 1e3,
              vcm_bench_stats_of (total).median / 1e3);
}

/* A continuous churn of foreign mounts (a bind mount and its lazy unmount,
 * as fast as this process makes them) for some seconds: vcmountd's CPU
 * (process clock, all threads) over the wall time, its share of one core. */
static void
churn_at (const char *dir, guint level)
{
  g_autofree char *src = g_build_filename (dir, "src", NULL);
  g_autofree char *point = g_build_filename (dir, "churn", NULL);
  gint64 seconds = opt_quick ? 2 : 5, w0, w1;
  guint64 c0, c1, u, t, changes = 0;

  if (g_mkdir (point, 0755) < 0)
    die (point, NULL);
  wait_daemon_quiet (&u, &t);
  c0 = daemon_cpu_ns ();
  w0 = vcm_bench_now_ns ();
  while (vcm_bench_now_ns () - w0 < seconds * G_GINT64_CONSTANT (1000000000))
    {
      if (mount (src, point, NULL, MS_BIND, NULL) < 0 || umount2 (point, MNT_DETACH) < 0)
        die ("the churn's mount", NULL);
      changes += 2;
    }
  c1 = daemon_cpu_ns ();
  w1 = vcm_bench_now_ns ();
  print_value ("churn_core", level, (double) (c1 - c0) / (double) (w1 - w0));
  print_value ("churn_changes_per_s", level, (double) changes * 1e9 / (double) (w1 - w0));
  g_printerr ("  churn at %u mounts: %.0f changes/s, vcmountd %.1f %% of a core\n", level,
              (double) changes * 1e9 / (double) (w1 - w0),
              100.0 * (double) (c1 - c0) / (double) (w1 - w0));
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- case 10 of the benchmark");
  g_autoptr (GError) error = NULL;
  g_autoptr (GDBusConnection) conn = NULL;
  g_autoptr (VcmDBusMount) proxy = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *src = NULL;
  guint mounted = 0, small = 10, big;
  guint64 u, t;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    die ("options", error);
  if (opt_bus == NULL || opt_rootfs == NULL || opt_scratch == NULL || opt_daemon_pid <= 0)
    {
      g_printerr ("vcm-bench-fallback: --bus, --rootfs, --scratch and --daemon-pid are required\n");
      return 2;
    }
  big = (guint) MAX (opt_max_mounts, 20);
  conn = g_dbus_connection_new_for_address_sync (opt_bus,
                                                 G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                   G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                 NULL, NULL, &error);
  if (conn == NULL)
    die ("connecting to the bus", error);
  proxy = vcm_dbus_mount_proxy_new_sync (
    conn, G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES | G_DBUS_PROXY_FLAGS_DO_NOT_CONNECT_SIGNALS,
    VCM_BUS_NAME, VCM_OBJECT_PATH, NULL, &error);
  if (proxy == NULL)
    die ("the org.vc.Mount proxy", error);
  g_dbus_proxy_set_default_timeout (G_DBUS_PROXY (proxy), 30 * 60 * 1000);

  dir = g_build_filename (opt_scratch, "fallback-binds", NULL);
  src = g_build_filename (dir, "src", NULL);
  if (g_mkdir_with_parents (dir, 0755) < 0 || mount ("tmpfs", dir, "tmpfs", 0, "mode=0755") < 0 ||
      mount (NULL, dir, NULL, MS_PRIVATE, NULL) < 0 || g_mkdir (src, 0755) < 0)
    die ("the tmpfs for case 10", NULL);
  vcm_bench_mount_binds (dir, &mounted, small);
  pairs_at (proxy, small);
  g_printerr ("  mounting %u foreign binds\n", big);
  vcm_bench_mount_binds (dir, &mounted, small + big);
  pairs_at (proxy, small + big);
  churn_at (dir, small + big);
  if (umount2 (dir, MNT_DETACH) < 0)
    die ("unmounting the case 10 binds", NULL);
  wait_daemon_quiet (&u, &t);
  return 0;
}
