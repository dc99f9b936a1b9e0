/* vcm-watch-private: how the watch's parts meet, and who owns what. Not for
 * the rest of the service. The parts, each calling only those below it:
 *
 *   vcm-watch.c             VcmWatch: puts the parts together, chooses the
 *                           change source, the public API
 *   vcm-watch-fanotify.c    source: mount notifications, the table patched;
 *                           falls back to the mountinfo source
 *   vcm-watch-check.c       its remount checker
 *   vcm-watch-probe.c       its probes of a rootfs by path, and the full read
 *                           it asks for where neither can tell
 *   vcm-watch-mountinfo.c   source: mountinfo wake-ups and re-reads
 *   vcm-watch-reader.c      the table cache, its full reads (diffed into the
 *                           ledger), libmount's monitor of mountinfo, the
 *                           service's own changes remembered against reads
 *   vcm-ledger.c            the rootfs snapshot, Generation, hold/release
 *
 * A part calls up only through VcmWatchSource, the source that vcm-watch.c
 * chose (its state in source_state); the fanotify source's parts share
 * vcm-watch-fanotify-private.h. */
#pragma once

#include <libmount/libmount.h>
#include <gio/gio.h>

#include "vcm-ledger.h"
#include "vcm-watch.h"

G_BEGIN_DECLS

/* A change source: how the watch learns what the kernel changed. Each
 * function is called in the main thread with the watch. */
typedef struct {
  const char *name;
  /* follows mount notifications (a table patched from events); without,
   * every foreign change costs a full read */
  gboolean notifications;
  /* the kernel's events pending now, read (not the checks they owe) */
  void (*drain) (VcmWatch *watch);
  /* everything pending followed: the snapshot and Generation are current */
  void (*follow) (VcmWatch *watch);
  /* a wake-up of libmount's monitor (the table changed): whether to keep
   * watching its fd now */
  gboolean (*on_wakeup) (VcmWatch *watch);
  /* a full read begins (what the source knows up to now is in it) */
  void (*read_begun) (VcmWatch *watch);
  /* a read in a worker thread landed (applied or not) */
  void (*read_landed) (VcmWatch *watch);
  /* whether a change the service made must be remembered against older
   * reads (some read or check may be older than it) */
  gboolean (*older_work_pending) (VcmWatch *watch);
  VcmMountTable *(*get_table) (VcmWatch *watch, gboolean force_refresh);
  GPtrArray *(*list_rootfs) (VcmWatch *watch, const char *sandbox_id);
  /* may be NULL: the manager then probes the rootfs itself */
  gboolean (*sync_live) (VcmWatch *watch, const char *sandbox_id, const char *container_id);
  GArray *(*get_subtree) (VcmWatch *watch, guint64 unique_id);
  /* after the ledger noted the service's unmount of the rootfs with
   * mountinfo ID @mount_id (0: not tracked) (may be NULL) */
  void (*noted_unmounted) (VcmWatch *watch,
                           const char *sandbox_id,
                           const char *container_id,
                           guint64 mount_id);
  /* after the ledger noted a change the service made (may be NULL) */
  void (*noted_own) (VcmWatch *watch);
  /* see vcm_watch_note_submounts_unknown (may be NULL) */
  void (*submounts_unknown) (VcmWatch *watch);
  /* see vcm_watch_get_targets (may be NULL) */
  GStrv (*get_targets) (VcmWatch *watch, guint64 mount_id);
  void (*stop) (VcmWatch *watch);
  void (*free) (gpointer state);
} VcmWatchSource;

struct _VcmWatch {
  GObject parent;
  char *shared_dir;
  GCancellable *cancellable; /* cancelled at stop: work in threads is void */
  VcmLedger *ledger;

  /* the table cache and its full reads (vcm-watch-reader.c) */
  VcmMountTable *table;
  GBytes *table_text; /* the mountinfo text @table was parsed from; NULL once patched */
  guint refresh_count;
  gboolean stale; /* the kernel changed since the last read began */
  gboolean read_in_flight;
  guint refresh_source;
  guint64 read_seq;    /* of the last read begun (a check counts as one) */
  guint64 applied_seq; /* of the last reading applied */
  gint64 refresh_due;  /* monotonic us when refresh_source fires */
  gint64 paced_until;  /* monotonic us before which a paced read waits */
  gint64 read_cpu_us;  /* the CPU time the last read in a worker took */

  /* libmount's monitor: a wake-up on every change of the table */
  struct libmnt_monitor *monitor;
  int monitor_fd;
  guint monitor_source;

  /* the service's own changes in worker threads (atomics): how many are
   * being made, and whether one took the kernel's change mark since the
   * main loop last looked (vcm_watch_own_change_begin/end) */
  gint own_in_flight;
  gint own_taken;

  const VcmWatchSource *source;
  gpointer source_state;
  gpointer fanotify_state; /* kept after a fall back to mountinfo re-reads */
  gpointer mountinfo_state;
};

/* vcm-watch-fanotify.c: makes the fanotify source the watch's, or FALSE
 * with why not (G_IO_ERROR_NOT_SUPPORTED: not on this kernel, or filtered). */
gboolean vcm_watch_fanotify_start (VcmWatch *watch, GError **error);
void vcm_watch_fanotify_free (gpointer state);

/* vcm-watch-probe.c: what is mounted at that rootfs's mount point now,
 * emitting what changed (with mount notifications only). */
void vcm_watch_fanotify_probe (VcmWatch *watch, const char *sandbox_id, const char *container_id);

/* vcm-watch-mountinfo.c: makes the mountinfo source the watch's */
void vcm_watch_mountinfo_start (VcmWatch *watch);
/* In a worker thread, after the service's own change: takes the change mark
 * of the source's own mountinfo fd (none: nothing to do). Thread-safe. */
void vcm_watch_mountinfo_take_own (VcmWatch *watch);
void vcm_watch_mountinfo_free (gpointer state);

/* vcm-watch-reader.c: the table cache and full reads, diffed into the ledger */
guint64 vcm_watch_begin_read (VcmWatch *watch);
gboolean vcm_watch_refresh_now (VcmWatch *watch, GError **error);
void vcm_watch_schedule_refresh (VcmWatch *watch);
/* A full read in a worker thread no sooner than @delay_ms from now, nor
 * before the last read in a worker has had twelve times its CPU time to rest:
 * reads so paced cost at most a tenth of a core, however large the table. */
void vcm_watch_schedule_paced_read (VcmWatch *watch, guint delay_ms);
/* The first read, at start: what is mounted then is known, not news. */
gboolean vcm_watch_read_first (VcmWatch *watch, GError **error);
/* The cached table, read again first when a change may not be in it. */
VcmMountTable *vcm_watch_reader_get_table (VcmWatch *watch, gboolean force_refresh);
/* libmount's monitor: made and watched at start; whether a wake-up is
 * pending; its fd watched again (each wake-up goes to the source's on_wakeup) */
gboolean vcm_watch_monitor_start (VcmWatch *watch, GError **error);
gboolean vcm_watch_monitor_pending (VcmWatch *watch);
void vcm_watch_watch_monitor (VcmWatch *watch);
/* Remembers that the service changed or probed @key now, against the reads
 * (and checks) begun before (see the ledger). */
void vcm_watch_record_local (VcmWatch *watch, const char *key);

G_END_DECLS
