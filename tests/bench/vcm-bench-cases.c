/* vcm-bench-cases: cases 1 and 6 (raw mounts in a child of its own
 * mount namespace) and the D-Bus cases: ping, pairs as root, with fds, polkit
 * checks, pairs as a user, concurrent clients. */
#include "config.h"

#include "vcm-bench.h"

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
void
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

/* ---- the cases ---------------------------------------------------------- */

void
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

void
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
void
bench_fd_pairs (Bench *b)
{
  g_autoptr (GArray) by_path = vcm_bench_samples_new ();
  g_autoptr (GArray) by_fd = vcm_bench_samples_new ();
  g_autoptr (GArray) mount_path = vcm_bench_samples_new ();
  g_autoptr (GArray) mount_fd = vcm_bench_samples_new ();
  Iter it = b->plan.pair_root;
  g_autofree char *ratio = NULL;
  double r;

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
  /* issue 21: the fd pair no slower than the path pair */
  r = median_of (b, "pair_fd") / median_of (b, "pair_path");
  ratio = g_strdup_printf ("%.2f (target: at most 1.00, %s)", r, r <= 1.0 ? "met" : "NOT MET");
  record_text (b, "(11) fd pair / path pair, medians", NULL, ratio);
}

/* An in-process CheckAuthorization round trip by root for the unprivileged
 * subject, as the daemon makes it (system-bus-name subject), and with a
 * unix-process subject for comparison. */
void
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

void
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

void
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

/* Case 12 (issue 23): a runtime starting 20 and 50 containers at once as a
 * user a rule allows, on one connection: how many MountRootfs succeed
 * (target: all), how long until all are answered, and as many
 * UnmountRootfs. */
void
bench_parallel (Bench *b)
{
  static const guint sizes[] = { 20, 50 };

  for (gsize i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_autofree char *sandbox = g_strdup_printf ("bench-burst-%u", sizes[i]);
      g_autofree char *label = NULL;
      g_autofree char *n = NULL;
      g_autofree char *v = NULL;
      char line[256];
      guint mounted = 0, unmounted = 0;
      double ns = 0;
      int status = 0;
      Worker w;

      worker_spawn (b, &w, "burst", (guint) opt_uid, sandbox, sizes[i], 0);
      worker_wait_ready (&w);
      if (write (w.in_fd, "g", 1) != 1)
        die ("starting a worker", NULL);
      if (fgets (line, sizeof line, w.out) == NULL ||
          sscanf (line, "%u %u %lf", &mounted, &unmounted, &ns) != 3)
        {
          g_printerr ("vcm-bench: a burst worker failed\n");
          exit (1);
        }
      fclose (w.out);
      close (w.in_fd);
      waitpid (w.pid, &status, 0);
      g_free (w.ready_line);
      label = g_strdup_printf ("(12) %u MountRootfs at once, unprivileged: succeeded", sizes[i]);
      n = g_strdup_printf ("%u", sizes[i]);
      v = g_strdup_printf ("%u of %u in %.0f ms, then %u of %u UnmountRootfs (target: all, %s)", mounted,
                           sizes[i], ns / 1e6, unmounted, sizes[i],
                           mounted == sizes[i] && unmounted == sizes[i] ? "met" : "NOT MET");
      record_text (b, label, n, v);
    }
}
