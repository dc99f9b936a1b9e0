/* vcm-watch-fanotify-private: what the fanotify source's files share: its
 * state (vcm-watch-fanotify.c follows the events, owns the state, and uses
 * the two others), the remount checker (vcm-watch-check.c, which probes) and
 * the probes of a rootfs mount point by path (vcm-watch-probe.c, which asks
 * for a full read where a probe cannot tell). Not for anyone else. */
#pragma once

#include "vcm-mntnotify.h"
#include "vcm-watch-check.h"
#include "vcm-watch-private.h"

G_BEGIN_DECLS

#define MAX_PROBES 8 /* probes by path in worker threads at once */

typedef struct {
  VcmMntNotify *notify;
  guint notify_source;
  guint coalesce_source;     /* events wait this long to be read in a batch */
  guint coalesce_ms;         /* the batch's delay now */
  guint batch_events;        /* events read since the batch began */
  GArray *events;            /* VcmMntEvent, reused */
  gboolean wakeup_pending;   /* a mountinfo wake-up not yet handled */
  gboolean events_seen;      /* mount events since the last mountinfo wake-up */
  gboolean reread_wanted;    /* a full read is needed (overflow, lost track) */
  gboolean events_uncertain; /* the next batch may hold changes a read saw */
  GHashTable *by_unique;     /* unique ID (guint64 *, borrowed) -> VcmTracked: every
                           * tracked rootfs and submount with a known one */
  GHashTable *parents;       /* unique ID (guint64 *) -> PARENT_*: where a parent
                           * mount lies, so its children need no path read */
  GHashTable *old_ids;       /* unique ID -> mountinfo ID (both direct) of the
                           * mounts seen attached: what a detach drops */
  GArray *table_changes;     /* VcmMountChange: the mounts attached or detached
                           * since the table was read, to patch it with */
  guint patch_count;
  VcmRemountCheck *check;
  GHashTable *covers;     /* unique IDs (guint64 *) of mounts seen on a sandbox's or
                           * container's directory: their going may uncover rootfs */
  GHashTable *probes;     /* "sbx/cid" -> ProbeState: probes by path in worker threads */
  GQueue *probes_waiting; /* of "sbx/cid": probes waiting for a thread */
  guint probes_in_flight;
} Fanotify;

#define F(w)         ((Fanotify *) (w)->fanotify_state)
/* whether the watch still follows the events (not fallen back to re-reads) */
#define FOLLOWING(w) ((w)->source->notifications)

/* ---- vcm-watch-probe.c ---- */

/* Events may have been lost, or cannot say: the table is read in full
 * (soon, and before it is next used); @why goes to the debug log. */
void vcm_watch_fanotify_want_reread (VcmWatch *watch, const char *why);

/* What a probe by path found. */
typedef enum {
  PROBE_FOUND,       /* *now (NULL: nothing there) and its submounts */
  PROBE_GONE,        /* detached meanwhile: its event follows */
  PROBE_REREAD,      /* the kernel would not say: a full read is needed */
  PROBE_WOULD_BLOCK, /* only a walk that may wait for a filesystem could say */
} ProbeResult;

/* Takes what a probe found at @key, emitting the differences. */
void vcm_watch_probe_apply (
  VcmWatch *self, const char *key, ProbeResult result, const VcmRootfsRecord *now, GHashTable *subs);

/* What is mounted at @path (the rootfs mount point of @sandbox_id/
 * @container_id) now, from the path (open, statx, statmount) and, when it
 * has submounts, their IDs (listmount, statmount). With @cached the path is
 * walked only as far as the kernel's caches know it, never waiting for a
 * filesystem (a FUSE server of a caller's may never answer): for the main
 * loop; else the walk may wait, in a worker thread. Touches nothing of the
 * watch. */
ProbeResult vcm_watch_probe_path (const char *path,
                                  const char *sandbox_id,
                                  const char *container_id,
                                  gboolean cached,
                                  VcmRootfsRecord **out_now,
                                  GHashTable **out_subs);

/* Probes the rootfs @t stands for (copies of its IDs: the probe may free it). */
void vcm_watch_probe_tracked (VcmWatch *self, VcmTracked *t);

G_END_DECLS
