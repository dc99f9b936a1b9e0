/* vcm-bench: what the benchmark's files share: its options, the plan of
 * iterations, the results (Bench), the helpers and D-Bus clients
 * (vcm-bench-common.c), and each case's entry point (vcm-bench-cases.c,
 * vcm-bench-queries.c, vcm-bench-cpu.c). */
#pragma once

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

#include "vcm-bench-proc.h"
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

/* ---- options (vcm-bench.c) ----------------------------------------------- */

extern char *opt_bus;
extern char *opt_shared_dir;
extern char *opt_sysfs_root;
extern char *opt_rootfs;
extern char *opt_scratch;
extern int opt_daemon_pid;
extern int opt_polkitd_pid;
extern int opt_busd_pid;
extern int opt_uid;
extern int opt_clients;
extern int opt_max_mounts;
extern gboolean opt_quick;
extern char *opt_only;
extern char *opt_worker;
extern int opt_worker_uid;
extern char *opt_worker_sandbox;
extern int opt_worker_iterations;
extern int opt_worker_warmup;

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

/* A worker process (vcm-bench --worker): one client, spawned by the run. */
typedef struct {
  GPid pid;
  int in_fd;
  FILE *out;
  char *ready_line;
} Worker;

/* @n_clients workers as @uid, started together; returns pairs per second
 * over the whole run (first start to last end). */
double run_clients (
  Bench *b, guint uid, guint n_clients, Iter it, const char *prefix, GArray *pairs, GArray *mounts);

void target_row (VcmBenchTable *t,
                 const char *what,
                 double value,
                 const char *value_fmt_unit,
                 const char *target_text,
                 gboolean met);

gboolean want (const char *name);

void worker_spawn (
  Bench *b, Worker *w, const char *mode, guint uid, const char *sandbox, guint iterations, guint warmup);

/* Reads the worker's "ready" line (after its warm-up). */
void worker_wait_ready (Worker *w);

GDBusConnection *connect_bus (GError **error);

/* utime + stime of @pid in clock ticks. */
guint64 cpu_ticks (int pid);

G_GNUC_NORETURN void die (const char *what, const GError *error);

char *find_program (const char *name);

double get_value (Bench *b, const char *key);

/* Busy and total jiffies of the whole machine, from /proc/stat. */
void machine_ticks (guint64 *busy, guint64 *total);

double median_of (Bench *b, const char *key);

VcmDBusMount *new_proxy (GDBusConnection *conn, GError **error);

/* One MountRootfs + UnmountRootfs; the time of the mount alone in @out_mount_ns. */
gboolean pair (
  VcmDBusMount *proxy, const char *sandbox, const char *container, double *out_mount_ns, GError **error);

/* One MountRootfsFd (of a directory fd of opt_rootfs, opened here) +
 * UnmountRootfs; the time of the mount alone (the open included) in
 * @out_mount_ns. */
gboolean pair_fd (
  VcmDBusMount *proxy, const char *sandbox, const char *container, double *out_mount_ns, GError **error);

/* Reads /proc/self/mountinfo and splits it into lines and fields: the floor
 * of what any full re-read costs. Returns the number of lines. */
guint parse_mountinfo_plain (void);

gboolean read_full (int fd, void *buf, gsize len);

/* Adds a row (label, n, median, min, max) and keeps the stats under @key. */
void record (Bench *b, const char *key, const char *label, GArray *samples);

/* A line of its own below the row it explains (does not widen the columns). */
void record_note (Bench *b, const char *label, const char *text);

void record_text (Bench *b, const char *label, const char *n, const char *value);

/* "RssAnon X, RssFile Y" of @pid in MiB, from /proc/PID/status. */
char *rss_breakdown (int pid);

/* VmRSS of @pid in KiB, from /proc/PID/status; 0 if unknown. */
double rss_kib (int pid);

void set_value (Bench *b, const char *key, double v);

/* Lets the daemon catch up with mount-table changes and come to rest: a call
 * that reads the table, then wait until it has used no CPU in two 200 ms
 * windows in a row (at most 60 s), so that what it does a moment after its
 * last call (table re-read, heap trim) is done. */
void settle (Bench *b);

/* posix_spawn + waitpid, output to /dev/null: the cost of running a tool. */
gboolean spawn_wait (char *const argv[]);

gboolean write_full (int fd, const void *buf, gsize len);

void bench_concurrent (Bench *b);
/* Case 12: 20 and 50 MountRootfs of one unprivileged user at once. */
void bench_parallel (Bench *b);

/* Case 11: the fd-based pair against the path-based one, root, alternating
 * in one run (so both see the same machine). */
void bench_fd_pairs (Bench *b);

void bench_pairs_root (Bench *b);

void bench_pairs_user (Bench *b);

void bench_ping (Bench *b);

/* An in-process CheckAuthorization round trip by root for the unprivileged
 * subject, as the daemon makes it (system-bus-name subject), and with a
 * unix-process subject for comparison. */
void bench_polkit (Bench *b);

/* Runs before any thread exists (unshare(CLONE_NEWNS) needs a single-threaded
 * process, and so does a fork that goes on running GLib code). */
void bench_raw (Bench *b, GArray **classic, GArray **newapi, GArray **spawned);

/* Case 8: a pair's latency with @small and with @big other rootfs listed.
 * Measured A-B-A: half of the @small pairs before the build-up, half after
 * the teardown (and the @small rootfs mounted again), so that a machine
 * getting slower or faster over the run (a VM's neighbours) weighs on both
 * levels alike; the @small median is that of both halves. */
void bench_many_rootfs (Bench *b, guint small, guint big);

void bench_queries (Bench *b, guint small, guint medium, guint big);

/* Case 9: vcmountd's CPU per MountRootfs+UnmountRootfs with few and with
 * many foreign mounts present, and to follow a burst of foreign mounts,
 * against what one statmount(2) per mount costs in-process. */
void bench_cpu (Bench *b, guint small, guint big);

/* The targets of case 9 (and 8's second one), printed when case 9 ran. */
void print_cpu_summary (Bench *b, guint small, guint big);
