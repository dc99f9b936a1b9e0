/* vcm-watch: the service's view of the kernel's mount table. Owns the cached
 * table, the rootfs snapshot that changes are diffed against, and the
 * Generation counter: every rootfs change, made by the service or not, bumps
 * it once. It follows the kernel in one of two ways, chosen at start:
 *
 * With mount notifications (Linux 6.15; vcm-mntnotify), each attach or detach
 * names one mount by its unique ID. An attach costs one statmount(2) of that
 * mount: without its path when its parent is tracked (a submount) or lies
 * neither beneath the shared dir nor on the way to it (the parent's place is
 * remembered), with it otherwise; only a mount at a rootfs mount point costs
 * more (the rootfs is probed by path). A detach costs a hash lookup: only
 * tracked rootfs and their submounts matter. Events are read in batches,
 * COALESCE_MS after the first (up to COALESCE_MAX_MS in a burst). The service's own calls ask the watch (sync_live,
 * get_subtree) instead of listing submounts with listmount(2), which walks
 * the whole table. Remounts raise no such event, only libmount's mountinfo
 * wake-up: a wake-up with no mount event since the last one statmounts the
 * tracked rootfs at once (in a worker thread); one that came with mount
 * events (a remount may hide among them) does so a little later, at most
 * every CHECK_MS, or CHECK_FACTOR times as long as the last check took. Either way the
 * cost follows the rootfs tracked, not the mount table. The table cache
 * follows the events too: the mounts they name are kept, and when a caller
 * asks for the table it is patched with those alone (vcm_mount_table_patch:
 * one statmount per mount named). It is read in full at start, after a queue
 * overflow, after a change no event explains (a wake-up without mount
 * events: a remount, a change of propagation), after more changes than a
 * quarter of the table, and when a caller forces it.
 *
 * Without them, every libmount wake-up marks the cached table stale and
 * schedules one full re-read a few milliseconds later (the kernel coalesces
 * events and so does this file), diffed against the snapshot. A caller that
 * needs the table before then gets it re-read at once, so answers are never
 * older than the call. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <libmount/libmount.h>
#include <glib-unix.h>
#include <gio/gio.h>

#include "vcm-error.h"
#include "vcm-fd.h"
#include "vcm-memory.h"
#include "vcm-mntnotify.h"
#include "vcm-sys.h"
#include "vcm-validate.h"
#include "vcm-watch.h"

#define COALESCE_MS      10
#define COALESCE_MAX_MS  40 /* in a burst: a batch of BATCH_LARGE events or more doubles it */
#define BATCH_LARGE      16
#define CHECK_MS         200 /* at least; CHECK_FACTOR times as long as the last check took */
#define CHECK_FACTOR     50  /* ~2 % of a core at most, however many rootfs */
#define CHECK_MAX_MS     2000
#define CHECK_SYNC_MAX   64   /* fewer tracked rootfs are checked in the main thread */
#define MAX_PARENTS      4096 /* parents remembered; forgotten all at once beyond */
#define PARENT_UNRELATED 1    /* its mount point is neither beneath nor above the shared dir */
#define PARENT_RELATED   2

typedef struct _Tracked Tracked;

struct _Tracked {
  VcmRootfs *rootfs;
  GHashTable *submounts;  /* mount ID (guint64 *) set; NULL when empty (the usual case) */
  VcmWatch *watch;        /* set while indexed by unique ID (mount notifications) */
  GHashTable *sub_unique; /* SubId set of the submounts, by unique ID; NULL when none */
  char key[];             /* "sbx/cid", the key in VcmWatch.tracked */
};

/* A submount by unique ID (the hash key: the first 64 bits) with its mountinfo ID. */
typedef struct {
  guint64 unique;
  guint64 old;
} SubId;

/* One read of the kernel's table and what it says about the rootfs set:
 * computed in a worker thread (it only reads), applied in the main thread. */
typedef struct {
  guint64 seq;
  VcmMountTable *table;
  GPtrArray *rootfs;    /* VcmRootfs, sorted */
  GPtrArray *submounts; /* parallel to rootfs: GHashTable sets of mount IDs, or NULL */
} Reading;

struct _VcmWatch {
  GObject parent;
  char *shared_dir;
  GCancellable *cancellable; /* cancelled at dispose: work in threads is void */
  guint hold;                /* vcm_watch_hold() depth */
  GPtrArray *held;           /* HeldChange told at the last vcm_watch_release() */
  struct libmnt_monitor *monitor;
  int monitor_fd;
  guint monitor_source;
  guint refresh_source;
  gboolean stale; /* the kernel changed since the last read began */
  gboolean read_in_flight;
  guint64 read_seq;          /* sequence of the last read begun */
  guint64 applied_seq;       /* of the last reading applied */
  GHashTable *local_changes; /* "sbx/cid" -> read_seq (guint64 *) when the service
                                           * last changed or probed that rootfs: a reading
                                           * begun no later is older than that, for that key */
  VcmMountTable *table;
  GHashTable *tracked; /* "sbx/cid" -> Tracked */
  guint64 generation;
  guint refresh_count;

  /* mount notifications; NULL: the libmount monitor + full re-read path */
  VcmMntNotify *notify;
  guint notify_source;
  GHashTable *by_unique;  /* unique ID (guint64 *, borrowed) -> Tracked: every
                                           * tracked rootfs and submount with a known one */
  gboolean reread_wanted; /* a full read is needed (overflow, lost track) */
  gboolean events_seen;   /* mount events since the last mountinfo wake-up */
  gboolean check_owed;    /* the tracked rootfs must be statmount'ed */
  guint check_source;
  guint coalesce_source;     /* events wait this long to be read in a batch */
  GHashTable *parents;       /* unique ID (guint64 *) -> PARENT_*: where a parent
                                           * mount lies, so its children need no path read */
  gboolean check_in_flight;  /* a check of the tracked rootfs in a worker thread */
  gboolean check_again;      /* another was asked for meanwhile */
  guint check_interval;      /* ms between checks owed to mount events */
  guint check_epoch;         /* bumped by a check in the main thread: older
                                           * results from a worker are void */
  gboolean wakeup_pending;   /* a mountinfo wake-up not yet handled */
  GArray *events;            /* VcmMntEvent, reused */
  guint batch_events;        /* events read since the batch began */
  guint coalesce_ms;         /* the batch's delay now */
  GArray *table_changes;     /* VcmMountChange: the mounts attached or detached
                                           * since the table was read, to patch it with */
  GHashTable *old_ids;       /* unique ID -> mountinfo ID (both direct) of the
                                           * mounts seen attached: what a detach drops */
  gboolean events_uncertain; /* the next batch may hold changes a read saw */
  guint patch_count;
};

G_DEFINE_FINAL_TYPE (VcmWatch, vcm_watch, G_TYPE_OBJECT)

enum {
  SIGNAL_CHANGED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

/* A change told later: the change and copies of what it points to. */
typedef struct {
  VcmChange change;
  VcmRootfs *rootfs;
  GStrv detached;
} HeldChange;

static void
held_change_free (gpointer data)
{
  HeldChange *h = data;

  vcm_rootfs_free (h->rootfs);
  g_strfreev (h->detached);
  g_free (h);
}

static void unindex (Tracked *t);
static void forget_local_changes_if_idle (VcmWatch *self);
static gboolean on_monitor_event (int fd, GIOCondition condition, gpointer user_data);
static void index_subs (VcmWatch *self, Tracked *t);
static void want_reread (VcmWatch *self, const char *why);

const char *
vcm_change_kind_to_string (VcmChangeKind kind)
{
  switch (kind)
    {
    case VCM_CHANGE_MOUNTED:
      return "mounted";
    case VCM_CHANGE_UNMOUNTED:
      return "unmounted";
    case VCM_CHANGE_SUBMOUNT_ADDED:
      return "submount-added";
    case VCM_CHANGE_SUBMOUNT_REMOVED:
      return "submount-removed";
    case VCM_CHANGE_REMOUNTED:
      return "remounted";
    case VCM_CHANGE_VANISHED:
      return "vanished";
    default:
      g_assert_not_reached ();
    }
}

static void
tracked_free (gpointer data)
{
  Tracked *t = data;

  unindex (t);
  vcm_rootfs_free (t->rootfs);
  g_clear_pointer (&t->submounts, g_hash_table_unref);
  g_free (t);
}

static char *
rootfs_key (const char *sandbox_id, const char *container_id)
{
  return g_strconcat (sandbox_id, "/", container_id, NULL);
}

/* The IDs of the mounts below mount @id, or NULL when there are none: with
 * thousands of rootfs, empty sets would cost more than the table itself. */
static GHashTable *
submount_set (VcmMountTable *table, guint64 id)
{
  g_autoptr (GPtrArray) below = vcm_mount_table_get_descendants (table, id);
  GHashTable *set;

  if (below->len == 0)
    return NULL;
  set = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  for (guint i = 0; i < below->len; i++)
    {
      const VcmMountEntry *e = below->pdata[i];
      g_hash_table_add (set, g_memdup2 (&e->id, sizeof e->id));
    }
  return set;
}

static void
set_unref (gpointer set)
{
  if (set != NULL)
    g_hash_table_unref (set);
}

static GHashTable *
set_ref (GHashTable *set)
{
  return set != NULL ? g_hash_table_ref (set) : NULL;
}

/* A private copy of a submount set (mutated in place by mount events). */
static GHashTable *
set_copy (GHashTable *set)
{
  GHashTable *copy;
  GHashTableIter iter;
  gpointer id;

  if (set == NULL || g_hash_table_size (set) == 0)
    return NULL;
  copy = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  g_hash_table_iter_init (&iter, set);
  while (g_hash_table_iter_next (&iter, &id, NULL))
    g_hash_table_add (copy, g_memdup2 (id, sizeof (guint64)));
  return copy;
}

static void
reading_free (gpointer data)
{
  Reading *r = data;

  g_clear_pointer (&r->table, vcm_mount_table_unref);
  g_clear_pointer (&r->rootfs, g_ptr_array_unref);
  g_clear_pointer (&r->submounts, g_ptr_array_unref);
  g_free (r);
}

/* Reads the kernel's table and derives the rootfs set. Thread-safe. */
static Reading *
reading_take (const char *shared_dir, guint64 seq, GError **error)
{
  Reading *r;
  VcmMountTable *table = vcm_mount_table_new_from_kernel (error);

  if (table == NULL)
    return NULL;
  r = g_new0 (Reading, 1);
  r->seq = seq;
  r->table = table;
  r->rootfs = vcm_rootfs_list_in_table (shared_dir, table, NULL);
  vcm_rootfs_fill_unique_ids (r->rootfs);
  r->submounts = g_ptr_array_new_full (r->rootfs->len, (GDestroyNotify) set_unref);
  for (guint i = 0; i < r->rootfs->len; i++)
    g_ptr_array_add (r->submounts, submount_set (table, ((VcmRootfs *) r->rootfs->pdata[i])->mount_id));
  return r;
}

static void
emit (VcmWatch *self, VcmChangeKind kind, const VcmRootfs *rootfs, const char *const *detached)
{
  VcmChange change = {
    .generation = ++self->generation, .kind = kind, .rootfs = rootfs, .detached = detached
  };
  HeldChange *h;

  if (self->hold == 0)
    {
      g_signal_emit (self, signals[SIGNAL_CHANGED], 0, &change);
      return;
    }
  h = g_new0 (HeldChange, 1);
  h->rootfs = vcm_rootfs_copy (rootfs);
  h->detached = g_strdupv ((char **) detached);
  h->change = change;
  h->change.rootfs = h->rootfs;
  h->change.detached = (const char *const *) h->detached;
  g_ptr_array_add (self->held, h);
}

void
vcm_watch_hold (VcmWatch *self)
{
  self->hold++;
}

void
vcm_watch_release (VcmWatch *self)
{
  g_autoptr (GPtrArray) held = NULL;

  g_return_if_fail (self->hold > 0);
  if (--self->hold > 0 || self->held->len == 0)
    return;
  held = g_steal_pointer (&self->held);
  self->held = g_ptr_array_new_with_free_func (held_change_free);
  for (guint i = 0; i < held->len; i++)
    g_signal_emit (self, signals[SIGNAL_CHANGED], 0, &((HeldChange *) held->pdata[i])->change);
}

/* Emits @kind once for each ID in @a that is not in @b (either may be NULL). */
static void
emit_difference (VcmWatch *self,
                 GHashTable *a,
                 GHashTable *b,
                 VcmChangeKind kind,
                 const VcmRootfs *rootfs,
                 gboolean emit_changes)
{
  GHashTableIter iter;
  gpointer id;

  if (a == NULL || !emit_changes)
    return;
  g_hash_table_iter_init (&iter, a);
  while (g_hash_table_iter_next (&iter, &id, NULL))
    if (b == NULL || !g_hash_table_contains (b, id))
      emit (self, kind, rootfs, NULL);
}

static void
track (VcmWatch *self, VcmRootfs *rootfs, GHashTable *submounts)
{
  gsize ls = strlen (rootfs->sandbox_id), lc = strlen (rootfs->container_id);
  Tracked *t = g_malloc (sizeof *t + ls + lc + 2);

  t->rootfs = rootfs;
  t->submounts = submounts;
  t->watch = NULL;
  t->sub_unique = NULL;
  memcpy (t->key, rootfs->sandbox_id, ls);
  t->key[ls] = '/';
  memcpy (t->key + ls + 1, rootfs->container_id, lc + 1);
  /* replace, not insert: the key lives in @t, the entry it replaces is freed */
  g_hash_table_replace (self->tracked, t->key, t);
  if (self->notify != NULL)
    {
      t->watch = self;
      if (rootfs->unique_id != 0)
        g_hash_table_replace (self->by_unique, &rootfs->unique_id, t);
      if (submounts != NULL)
        index_subs (self, t);
    }
}

static gboolean
same_mount (const VcmRootfs *a, const VcmRootfs *b)
{
  /* mountinfo IDs are reused at once; the unique ones never are */
  if (a->unique_id != 0 && b->unique_id != 0)
    return a->unique_id == b->unique_id;
  return a->mount_id == b->mount_id;
}

/* Emits one change per difference between what is tracked at @key and what
 * is mounted there now (@now NULL: nothing), and tracks the latter. */
static void
diff_one (VcmWatch *self, const char *key, const VcmRootfs *now, GHashTable *subs, gboolean emit_changes)
{
  Tracked *t = g_hash_table_lookup (self->tracked, key);

  if (t != NULL && (now == NULL || !same_mount (t->rootfs, now)))
    {
      if (emit_changes)
        emit (self, VCM_CHANGE_VANISHED, t->rootfs, NULL);
      g_hash_table_remove (self->tracked, key);
      t = NULL;
    }
  if (now == NULL)
    return;

  if (t == NULL)
    {
      VcmRootfs *copy = vcm_rootfs_new (now->sandbox_id, now->container_id, now->mount_point,
                                        now->mount_id, now->read_only);

      copy->unique_id = now->unique_id;
      track (self, copy, self->notify != NULL ? set_copy (subs) : set_ref (subs));
      if (emit_changes)
        emit (self, VCM_CHANGE_MOUNTED, copy, NULL);
      return;
    }

  if (t->rootfs->unique_id == 0 && now->unique_id != 0)
    {
      t->rootfs->unique_id = now->unique_id;
      if (t->watch != NULL)
        g_hash_table_replace (self->by_unique, &t->rootfs->unique_id, t);
    }
  if (t->rootfs->read_only != now->read_only)
    {
      t->rootfs->read_only = now->read_only;
      if (emit_changes)
        emit (self, VCM_CHANGE_REMOUNTED, t->rootfs, NULL);
    }
  emit_difference (self, subs, t->submounts, VCM_CHANGE_SUBMOUNT_ADDED, t->rootfs, emit_changes);
  emit_difference (self, t->submounts, subs, VCM_CHANGE_SUBMOUNT_REMOVED, t->rootfs, emit_changes);
  set_unref (t->submounts);
  if (self->notify == NULL)
    {
      t->submounts = set_ref (subs);
      return;
    }
  t->submounts = set_copy (subs);
  if (t->submounts != NULL || t->sub_unique != NULL)
    index_subs (self, t);
}

/* Whether the service changed (or probed) the rootfs at @key after @r began:
 * then it knows better than @r, which must leave that key alone. */
static gboolean
changed_since (VcmWatch *self, const char *key, const Reading *r)
{
  const guint64 *seq = g_hash_table_lookup (self->local_changes, key);

  return seq != NULL && r->seq <= *seq;
}

static void
record_local_change (VcmWatch *self, const char *key)
{
  /* with mount notifications only a read or a check in flight can be older */
  if (self->notify != NULL && !self->read_in_flight && !self->check_in_flight)
    return;
  g_hash_table_replace (self->local_changes, g_strdup (key),
                        g_memdup2 (&self->read_seq, sizeof self->read_seq));
}

/* Forgets the local changes every reading from now on includes. */
static void
prune_local_changes (VcmWatch *self)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->local_changes);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (*(guint64 *) value < self->applied_seq)
      g_hash_table_iter_remove (&iter);
}

/* Emits one change per difference between the snapshot and @r (vanished
 * ones first), and takes @r's rootfs set as the new snapshot, except for the
 * rootfs the service changed after @r began. */
static void
diff_against (VcmWatch *self, Reading *r, gboolean emit_changes)
{
  g_autoptr (GHashTable) now_by_key = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GPtrArray) gone = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter iter;
  gpointer key, value;

  for (guint i = 0; i < r->rootfs->len; i++)
    {
      VcmRootfs *rootfs = r->rootfs->pdata[i];
      g_hash_table_insert (now_by_key, rootfs_key (rootfs->sandbox_id, rootfs->container_id), rootfs);
    }

  g_hash_table_iter_init (&iter, self->tracked);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      VcmRootfs *now = g_hash_table_lookup (now_by_key, key);

      if (changed_since (self, key, r))
        continue;
      if (now == NULL || !same_mount (((Tracked *) value)->rootfs, now))
        g_ptr_array_add (gone, g_strdup (key));
    }
  g_ptr_array_sort (gone, (GCompareFunc) g_strcmp0); /* deterministic order */
  for (guint i = 0; i < gone->len; i++)
    diff_one (self, gone->pdata[i], NULL, NULL, emit_changes);

  for (guint i = 0; i < r->rootfs->len; i++)
    {
      VcmRootfs *now = r->rootfs->pdata[i];
      g_autofree char *k = rootfs_key (now->sandbox_id, now->container_id);

      if (!changed_since (self, k, r))
        diff_one (self, k, now, r->submounts->pdata[i], emit_changes);
    }
}

static void
apply (VcmWatch *self, Reading *r)
{
  /* a large reading, or the large table it replaces, leaves megabytes of
   * freed heap behind: given back once the burst is over */
  if (vcm_mount_table_get_size (r->table) >= VCM_MEMORY_LARGE_WORK ||
      (self->table != NULL && vcm_mount_table_get_size (self->table) >= VCM_MEMORY_LARGE_WORK))
    vcm_memory_trim_soon ();
  g_clear_pointer (&self->table, vcm_mount_table_unref);
  self->table = vcm_mount_table_ref (r->table);
  self->applied_seq = r->seq;
  self->refresh_count++;
  diff_against (self, r, TRUE);
  prune_local_changes (self);
}

/* Begins a read: events drained first, so a change after this point raises a new one. */
static guint64
begin_read (VcmWatch *self)
{
  g_clear_handle_id (&self->refresh_source, g_source_remove);
  if (self->monitor != NULL)
    mnt_monitor_event_cleanup (self->monitor);
  self->stale = FALSE;
  self->reread_wanted = FALSE;
  /* the read has what the events so far say; those of changes made while it
   * reads may or may not be in it */
  if (self->table_changes != NULL)
    g_array_set_size (self->table_changes, 0);
  self->events_uncertain = TRUE;
  return ++self->read_seq;
}

/* A reading is applied only if nothing newer was (the rootfs the service
 * changed after it began are left alone by the diff). */
static gboolean
reading_is_current (VcmWatch *self, Reading *r)
{
  return r->seq > self->applied_seq;
}

static gboolean
refresh_now (VcmWatch *self, GError **error)
{
  Reading *r = reading_take (self->shared_dir, begin_read (self), error);

  if (r == NULL)
    return FALSE;
  apply (self, r);
  reading_free (r);
  return TRUE;
}

static void schedule_refresh (VcmWatch *self);
static void drain_events (VcmWatch *self);

typedef struct {
  char *shared_dir;
  guint64 seq;
} ReadArgs;

static void
read_args_free (gpointer data)
{
  ReadArgs *args = data;

  g_free (args->shared_dir);
  g_free (args);
}

static void
read_in_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  const ReadArgs *args = task_data;
  GError *error = NULL;
  Reading *r = reading_take (args->shared_dir, args->seq, &error);

  if (r == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, r, reading_free);
}

static void
on_read_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  VcmWatch *self = VCM_WATCH (source);
  g_autoptr (GError) error = NULL;
  Reading *r = g_task_propagate_pointer (G_TASK (result), &error);

  self->read_in_flight = FALSE;
  if (g_cancellable_is_cancelled (self->cancellable))
    {
      g_clear_pointer (&r, reading_free);
      return; /* disposed meanwhile */
    }
  if (r == NULL)
    g_warning ("Cannot re-read the mount table: %s", error->message);
  else if (reading_is_current (self, r))
    apply (self, r);
  g_clear_pointer (&r, reading_free);
  if (self->notify != NULL ? self->reread_wanted : self->stale)
    schedule_refresh (self);
  forget_local_changes_if_idle (self);
}

static void
start_async_read (VcmWatch *self)
{
  GTask *task;
  ReadArgs *args;

  if (self->read_in_flight)
    return;            /* its completion looks at self->stale */
  drain_events (self); /* what the events said so far is in the read */
  args = g_new0 (ReadArgs, 1);
  args->shared_dir = g_strdup (self->shared_dir);
  args->seq = begin_read (self);
  self->read_in_flight = TRUE;
  task = g_task_new (self, self->cancellable, on_read_done, NULL); /* holds self */
  g_task_set_task_data (task, args, read_args_free);
  g_task_run_in_thread (task, read_in_thread);
  g_object_unref (task);
}

static gboolean
on_refresh_timeout (gpointer user_data)
{
  VcmWatch *self = user_data;

  self->refresh_source = 0;
  start_async_read (self);
  return G_SOURCE_REMOVE;
}

static void
schedule_refresh (VcmWatch *self)
{
  if (self->refresh_source == 0 && !self->read_in_flight)
    self->refresh_source = g_timeout_add (COALESCE_MS, on_refresh_timeout, self);
}

/* ---- mount notifications ------------------------------------------------- */

static void
want_reread (VcmWatch *self, const char *why)
{
  g_debug ("Mount watch: a full read of the mount table: %s", why);
  /* events may have been lost: where parents lie may have changed unseen */
  g_hash_table_remove_all (self->parents);
  g_hash_table_remove_all (self->old_ids);
  self->reread_wanted = TRUE;
  self->stale = TRUE;
  schedule_refresh (self);
}

/* A mount's mountinfo ID, learnt from a statmount of it (for the table's patches). */
static void
note_old_id (VcmWatch *self, guint64 unique, guint64 old)
{
  g_hash_table_insert (self->old_ids, GSIZE_TO_POINTER (unique), GSIZE_TO_POINTER (old));
}

static void
unindex (Tracked *t)
{
  GHashTableIter iter;
  gpointer key;

  if (t->watch == NULL)
    return;
  if (t->rootfs != NULL && t->rootfs->unique_id != 0 &&
      g_hash_table_lookup (t->watch->by_unique, &t->rootfs->unique_id) == t)
    g_hash_table_remove (t->watch->by_unique, &t->rootfs->unique_id);
  if (t->sub_unique != NULL)
    {
      g_hash_table_iter_init (&iter, t->sub_unique);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        if (g_hash_table_lookup (t->watch->by_unique, key) == t)
          g_hash_table_remove (t->watch->by_unique, key);
    }
  g_clear_pointer (&t->sub_unique, g_hash_table_unref);
  t->watch = NULL;
}

static void
add_sub_unique (VcmWatch *self, Tracked *t, guint64 unique, guint64 old)
{
  SubId *sub = g_new (SubId, 1);

  sub->unique = unique;
  sub->old = old;
  if (t->sub_unique == NULL)
    t->sub_unique = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  g_hash_table_add (t->sub_unique, sub);
  g_hash_table_replace (self->by_unique, &sub->unique, t);
}

/* The unique IDs of the mounts below @t's rootfs, walking down with
 * listmount(2) (only rootfs with submounts come here). */
static void
index_subs (VcmWatch *self, Tracked *t)
{
  g_autoptr (GArray) todo = g_array_new (FALSE, FALSE, sizeof (guint64));
  GHashTableIter iter;
  gpointer key;

  if (t->sub_unique != NULL)
    {
      g_hash_table_iter_init (&iter, t->sub_unique);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        if (g_hash_table_lookup (self->by_unique, key) == t)
          g_hash_table_remove (self->by_unique, key);
      g_clear_pointer (&t->sub_unique, g_hash_table_unref);
    }
  if (t->submounts == NULL || t->rootfs->unique_id == 0)
    return;
  g_array_append_val (todo, t->rootfs->unique_id);
  for (guint i = 0; i < todo->len; i++)
    {
      guint64 batch[64];
      guint64 last = 0;
      gssize n;

      do
        {
          n = vcm_sys_listmount (g_array_index (todo, guint64, i), last, batch, G_N_ELEMENTS (batch));
          if (n < 0)
            {
              int e = errno;
              if (e == ENOENT)
                break; /* gone meanwhile: its detach event follows */
              g_warning ("Mount watch: cannot list the submounts of %s: %s", t->rootfs->mount_point,
                         g_strerror (e));
              want_reread (self, "a rootfs's submounts cannot be listed");
              return;
            }
          for (gssize j = 0; j < n; j++)
            {
              VcmSysMountBrief m;
              int errsv = 0;

              if (g_hash_table_contains (self->by_unique, &batch[j]))
                continue; /* seen (a kernel that lists grandchildren too) */
              if (!vcm_sys_statmount_brief (batch[j], &m, NULL, &errsv))
                continue; /* gone meanwhile */
              add_sub_unique (self, t, batch[j], m.mnt_id_old);
              g_array_append_val (todo, batch[j]);
            }
          if (n > 0)
            last = batch[n - 1];
        }
      while (n == G_N_ELEMENTS (batch));
    }
}

/* What is mounted at @sandbox_id/@container_id's rootfs mount point now,
 * from the path (open, statx, statmount) and, when it has submounts, their
 * IDs (listmount, statmount): emits the differences, as a service-side probe
 * does. */
static void
probe_key (VcmWatch *self, const char *sandbox_id, const char *container_id)
{
  g_autofree char *key = rootfs_key (sandbox_id, container_id);
  g_autofree char *path =
    g_build_filename (self->shared_dir, sandbox_id, container_id, VCM_ROOTFS_DIR, NULL);
  g_autofree char *point = NULL;
  g_autoptr (VcmRootfs) now = NULL;
  g_autoptr (GHashTable) subs = NULL;
  vcm_autofd int fd = open (path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  guint64 old = 0, unique = 0;
  gboolean root = FALSE;
  VcmSysMountBrief m;
  int errsv = 0;

  if (fd >= 0 && vcm_sys_stat_mount (fd, "", AT_EMPTY_PATH, &old, NULL, NULL, &root, NULL) == 0 &&
      root && vcm_sys_unique_mount_id (fd, &unique) == 0)
    {
      if (!vcm_sys_statmount_brief (unique, &m, &point, &errsv))
        {
          if (errsv != ENOENT)
            want_reread (self, "statmount of a rootfs failed");
          return; /* ENOENT: detached meanwhile, its event follows */
        }
      if (g_str_equal (point, path))
        now = vcm_rootfs_new (sandbox_id, container_id, point, old, m.read_only);
    }
  else if (fd < 0 && errno != ENOENT && errno != ENOTDIR && errno != ELOOP)
    {
      want_reread (self, "a rootfs mount point cannot be opened");
      return;
    }
  if (now != NULL)
    {
      guint64 child;

      now->unique_id = unique;
      /* submounts: the usual rootfs has none, one listmount says so */
      if (vcm_sys_listmount (unique, 0, &child, 1) > 0)
        {
          g_autoptr (GArray) todo = g_array_new (FALSE, FALSE, sizeof (guint64));

          subs = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
          g_array_append_val (todo, unique);
          for (guint i = 0; i < todo->len; i++)
            {
              guint64 batch[64];
              guint64 last = 0;
              gssize n;

              do
                {
                  n = vcm_sys_listmount (g_array_index (todo, guint64, i), last, batch,
                                         G_N_ELEMENTS (batch));
                  for (gssize j = 0; j < n; j++)
                    if (vcm_sys_statmount_brief (batch[j], &m, NULL, &errsv) &&
                        !g_hash_table_contains (subs, &m.mnt_id_old))
                      {
                        g_hash_table_add (subs, g_memdup2 (&m.mnt_id_old, sizeof m.mnt_id_old));
                        g_array_append_val (todo, batch[j]);
                      }
                  if (n > 0)
                    last = batch[n - 1];
                }
              while (n == G_N_ELEMENTS (batch));
            }
        }
    }
  diff_one (self, key, now, subs, TRUE);
  record_local_change (self, key); /* a full read begun before this is older, for this rootfs */
}

/* @point relative to the shared dir split in components, or NULL when not beneath it. */
static GStrv
split_beneath_shared (VcmWatch *self, const char *point)
{
  const char *rel = vcm_path_relative_to (point, self->shared_dir);

  if (rel == NULL)
    return NULL;
  if (*rel == '\0')
    return g_new0 (char *, 1);
  return g_strsplit (rel, "/", -1);
}

/* Whether a tracked rootfs lies beneath @point (a mount there may hide it). */
static gboolean
tracked_beneath (VcmWatch *self, const char *point)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->tracked);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (vcm_path_has_prefix (((Tracked *) value)->rootfs->mount_point, point))
      return TRUE;
  return FALSE;
}

/* Whether mount @parent lies neither beneath the shared dir nor on the way
 * to it: then no mount attached to it can be beneath the shared dir, and
 * the path of such a mount need not be read. Remembered per parent. */
static gboolean
parent_unrelated (VcmWatch *self, guint64 parent)
{
  gpointer cls = g_hash_table_lookup (self->parents, &parent);
  g_autofree char *pp = NULL;
  int errsv = 0;

  if (cls == NULL)
    {
      pp = vcm_sys_statmount_point (parent, &errsv);
      if (pp == NULL)
        return FALSE; /* gone or unknown: read the child's own path */
      if (g_hash_table_size (self->parents) >= MAX_PARENTS)
        g_hash_table_remove_all (self->parents);
      cls = GINT_TO_POINTER (vcm_path_has_prefix (pp, self->shared_dir) ||
                                 vcm_path_has_prefix (self->shared_dir, pp)
                               ? PARENT_RELATED
                               : PARENT_UNRELATED);
      g_hash_table_insert (self->parents, g_memdup2 (&parent, sizeof parent), cls);
    }
  return GPOINTER_TO_INT (cls) == PARENT_UNRELATED;
}

static void
on_attached (VcmWatch *self, guint64 id)
{
  Tracked *known = g_hash_table_lookup (self->by_unique, &id);
  g_auto (GStrv) parts = NULL;
  VcmSysMountBrief m;
  Tracked *owner;
  int errsv = 0;
  guint n;

  if (known == NULL)
    {
      /* most mounts are foreign and far from the shared dir: the parent tells */
      if (!vcm_sys_statmount_brief (id, &m, NULL, &errsv))
        {
          if (errsv != ENOENT)
            want_reread (self, "statmount of an attached mount failed");
          return; /* ENOENT: detached again already; nothing to follow */
        }
      note_old_id (self, id, m.mnt_id_old);
      owner = g_hash_table_lookup (self->by_unique, &m.parent_id);
      if (owner != NULL && owner->rootfs->unique_id == m.parent_id)
        {
          /* on the rootfs itself: stacked on it (a new top: by path) or below it */
          g_autofree char *top = vcm_sys_statmount_point (id, &errsv);

          if (top == NULL || g_str_equal (top, owner->rootfs->mount_point))
            {
              g_autofree char *sbx = g_strdup (owner->rootfs->sandbox_id);
              g_autofree char *cid = g_strdup (owner->rootfs->container_id);

              probe_key (self, sbx, cid);
              return;
            }
        }
      if (owner != NULL)
        {
          /* below a tracked rootfs or one of its submounts: a submount */
          if (owner->submounts == NULL)
            owner->submounts = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
          add_sub_unique (self, owner, id, m.mnt_id_old);
          if (g_hash_table_add (owner->submounts, g_memdup2 (&m.mnt_id_old, sizeof m.mnt_id_old)))
            emit (self, VCM_CHANGE_SUBMOUNT_ADDED, owner->rootfs, NULL);
          return;
        }
      if (parent_unrelated (self, m.parent_id))
        return;
    }

  /* Declared here, where it is first filled: gcc 12's -fanalyzer takes
   * it for uninitialized in its cleanup on the returns above. */
  g_autofree char *point = NULL;

  if (!vcm_sys_statmount_brief (id, &m, &point, &errsv))
    {
      if (errsv != ENOENT)
        want_reread (self, "statmount of an attached mount failed");
      return; /* ENOENT: detached again already; nothing to follow */
    }
  note_old_id (self, id, m.mnt_id_old);
  if (known != NULL && known->rootfs->unique_id == id)
    {
      if (!g_str_equal (point, known->rootfs->mount_point)) /* moved away */
        probe_key (self, known->rootfs->sandbox_id, known->rootfs->container_id);
      return; /* the service's own mount, or one seen by a probe */
    }
  if (known != NULL)
    return; /* a submount already known (a probe came first) */

  /* a mount on the shared dir or above it may hide rootfs: read the table */
  if (vcm_path_has_prefix (self->shared_dir, point))
    {
      /* the shared dir's path leads into this mount now: the service
       * refuses new mounts while it is there (vcm-mounter) */
      g_warning ("Mount watch: a mount on %s covers the shared dir %s", point, self->shared_dir);
      if (tracked_beneath (self, self->shared_dir))
        want_reread (self, "a mount on or above the shared dir");
      return;
    }
  parts = split_beneath_shared (self, point);
  if (parts == NULL)
    return; /* elsewhere: the usual foreign mount, one statmount was all */
  n = g_strv_length (parts);
  if (n < 3 || !g_str_equal (parts[2], VCM_ROOTFS_DIR) ||
      !vcm_validate_id ("sandbox_id", parts[0], NULL) ||
      !vcm_validate_id ("container_id", parts[1], NULL))
    {
      /* on a sandbox or container dir it may hide rootfs below it */
      if (n < 3 && tracked_beneath (self, point))
        want_reread (self, "a mount above a rootfs");
      return;
    }
  /* a rootfs, one stacked on it, or something below a rootfs path whose
   * parent is not tracked (its rootfs not yet seen): what is there now */
  probe_key (self, parts[0], parts[1]);
}

static void
on_detached (VcmWatch *self, guint64 id)
{
  Tracked *t = g_hash_table_lookup (self->by_unique, &id);
  SubId *sub;
  VcmSysMountBrief m;
  int errsv = 0;

  g_hash_table_remove (self->parents, &id); /* it may come back elsewhere (a move) */
  if (t == NULL)
    return; /* not a rootfs or a submount of one: nothing to report */
  if (t->rootfs->unique_id == id)
    {
      g_autofree char *sbx = g_strdup (t->rootfs->sandbox_id);
      g_autofree char *cid = g_strdup (t->rootfs->container_id);

      probe_key (self, sbx, cid); /* vanished, or uncovered another */
      return;
    }
  /* a submount: if its rootfs went with it (a lazy unmount of the tree
   * reports every mount of it), that is one change, reported by the rootfs */
  if (t->rootfs->unique_id != 0 && !vcm_sys_statmount_brief (t->rootfs->unique_id, &m, NULL, &errsv))
    {
      g_autofree char *sbx = g_strdup (t->rootfs->sandbox_id);
      g_autofree char *cid = g_strdup (t->rootfs->container_id);

      probe_key (self, sbx, cid);
      return;
    }
  sub = g_hash_table_lookup (t->sub_unique, &id);
  g_hash_table_remove (self->by_unique, &id);
  if (sub != NULL)
    {
      guint64 old = sub->old;

      g_hash_table_remove (t->sub_unique, &id);
      if (t->submounts != NULL && g_hash_table_remove (t->submounts, &old))
        emit (self, VCM_CHANGE_SUBMOUNT_REMOVED, t->rootfs, NULL);
      if (t->submounts != NULL && g_hash_table_size (t->submounts) == 0)
        g_clear_pointer (&t->submounts, g_hash_table_unref);
    }
}

/* The table cache follows the events: each attach or detach is kept to
 * patch the table with when it is next asked for (one statmount(2) per
 * mount then, none now). Beyond a quarter of the table a full read is
 * cheaper: the changes are dropped and the table marked stale. */
static void
note_table_change (VcmWatch *self, const VcmMntEvent *ev)
{
  gpointer id = GSIZE_TO_POINTER (ev->mnt_id);
  VcmMountChange c = { .unique_id = ev->mnt_id };

  if (ev->kind == VCM_MNT_DETACHED)
    {
      c.old_id = GPOINTER_TO_SIZE (g_hash_table_lookup (self->old_ids, id));
      g_hash_table_remove (self->old_ids, id);
    }
  else
    {
      c.old_id = GPOINTER_TO_SIZE (g_hash_table_lookup (self->old_ids, id));
      /* attached after the table was read: it cannot be in it (unless a read
       * in flight, or just landed, saw it) */
      c.not_in_table = !self->events_uncertain && !self->read_in_flight;
    }
  if (self->stale || self->table_changes == NULL)
    return; /* a full read comes anyway */
  g_array_append_val (self->table_changes, c);
  if (self->table_changes->len > MAX (256, vcm_mount_table_get_size (self->table) / 4))
    {
      g_array_set_size (self->table_changes, 0);
      self->stale = TRUE;
    }
}

/* Reads and follows every mount event pending. */
static void
drain_events (VcmWatch *self)
{
  g_autoptr (GError) error = NULL;

  if (self->notify == NULL)
    return;
  g_array_set_size (self->events, 0);
  if (!vcm_mnt_notify_read (self->notify, self->events, &error))
    {
      /* cannot follow the events any more: the full re-read path from now on */
      g_warning ("Mount watch: %s; following the mount table with full re-reads from now on",
                 error->message);
      g_clear_handle_id (&self->notify_source, g_source_remove);
      g_clear_handle_id (&self->check_source, g_source_remove);
      g_clear_handle_id (&self->coalesce_source, g_source_remove);
      g_clear_pointer (&self->notify, vcm_mnt_notify_free);
      self->wakeup_pending = FALSE;
      if (self->monitor_source == 0)
        self->monitor_source = g_unix_fd_add (self->monitor_fd, G_IO_IN, on_monitor_event, self);
      self->stale = TRUE;
      schedule_refresh (self);
      return;
    }
  for (guint i = 0; i < self->events->len; i++)
    {
      const VcmMntEvent *ev = &g_array_index (self->events, VcmMntEvent, i);

      switch (ev->kind)
        {
        case VCM_MNT_OVERFLOW:
          g_message (
            "Mount watch: the kernel's mount event queue overflowed; re-reading the mount table");
          want_reread (self, "queue overflow");
          break;
        case VCM_MNT_ATTACHED:
          on_attached (self, ev->mnt_id);
          note_table_change (self, ev);
          break;
        case VCM_MNT_DETACHED:
          note_table_change (self, ev);
          on_detached (self, ev->mnt_id);
          break;
        default:
          g_assert_not_reached ();
        }
    }
  self->batch_events += self->events->len;
  if (self->events->len > 0)
    self->events_seen = TRUE;
  if (!self->read_in_flight)
    self->events_uncertain = FALSE;
}

static gboolean on_notify_event (int fd, GIOCondition condition, gpointer user_data);
static void on_wakeup (VcmWatch *self);

/* The batch: events and wake-ups of the last COALESCE_MS, handled at once.
 * Each batch costs a few wake-ups and thread switches whatever its size: in
 * a burst (a batch of BATCH_LARGE events or more) the next one waits twice
 * as long, up to COALESCE_MAX_MS; a smaller batch brings it back to
 * COALESCE_MS. The service's own calls read the events pending first, so
 * only the signals of foreign changes may come that much later. */
static gboolean
on_coalesce_timeout (gpointer user_data)
{
  VcmWatch *self = user_data;

  self->coalesce_source = 0;
  if (self->notify != NULL && self->notify_source == 0)
    self->notify_source =
      g_unix_fd_add (vcm_mnt_notify_get_fd (self->notify), G_IO_IN, on_notify_event, self);
  if (self->monitor_source == 0)
    self->monitor_source = g_unix_fd_add (self->monitor_fd, G_IO_IN, on_monitor_event, self);
  if (self->wakeup_pending)
    on_wakeup (self);
  else
    drain_events (self);
  self->coalesce_ms =
    self->batch_events >= BATCH_LARGE ? MIN (self->coalesce_ms * 2, COALESCE_MAX_MS) : COALESCE_MS;
  self->batch_events = 0;
  return G_SOURCE_REMOVE;
}

/* Events or a wake-up arrived: read them a moment from now, with whatever
 * follows meanwhile (a burst is then read in few batches, not one wake-up
 * per mount). The fd is not watched until then (it stays readable). */
static void
coalesce (VcmWatch *self)
{
  g_clear_handle_id (&self->notify_source, g_source_remove);
  g_clear_handle_id (&self->monitor_source, g_source_remove);
  if (self->coalesce_source == 0)
    self->coalesce_source = g_timeout_add (self->coalesce_ms, on_coalesce_timeout, self);
}

static gboolean
on_notify_event (int fd, GIOCondition condition, gpointer user_data)
{
  VcmWatch *self = user_data;

  self->notify_source = 0;
  coalesce (self);
  return G_SOURCE_REMOVE;
}

/* Remounts raise no mount event: statmount every tracked rootfs (one call
 * each, no string) and report those whose read-only flag changed; those
 * gone or never identified by unique ID are probed by path. */
static void
check_tracked (VcmWatch *self)
{
  g_autoptr (GPtrArray) probe = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter iter;
  gpointer value;

  g_clear_handle_id (&self->check_source, g_source_remove);
  self->check_owed = FALSE;
  self->check_epoch++; /* a check in flight began earlier: its results are void */
  g_hash_table_iter_init (&iter, self->tracked);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Tracked *t = value;
      VcmSysMountBrief m;
      int errsv = 0;

      if (t->rootfs->unique_id == 0 || !vcm_sys_statmount_brief (t->rootfs->unique_id, &m, NULL, &errsv))
        g_ptr_array_add (probe, g_strdup (t->key));
      else if (m.read_only != t->rootfs->read_only)
        {
          t->rootfs->read_only = m.read_only;
          emit (self, VCM_CHANGE_REMOUNTED, t->rootfs, NULL);
        }
    }
  g_ptr_array_sort (probe, (GCompareFunc) g_strcmp0);
  for (guint i = 0; i < probe->len; i++)
    {
      g_auto (GStrv) ids = g_strsplit (probe->pdata[i], "/", 2);

      probe_key (self, ids[0], ids[1]);
    }
}

/* The same check in a worker thread (statmount only reads): with thousands
 * of rootfs it takes milliseconds the main loop should not wait for. */
typedef struct {
  char *key;
  guint64 unique;
  int state; /* from the worker: 0 read-write, 1 read-only, -1 gone, -2 error */
} CheckItem;

typedef struct {
  guint64 seq; /* as a read's: local changes from then on win */
  guint epoch;
  gint64 begun;  /* monotonic, us */
  GArray *items; /* CheckItem */
} Check;

static void
check_free (gpointer data)
{
  Check *c = data;

  for (guint i = 0; i < c->items->len; i++)
    g_free (g_array_index (c->items, CheckItem, i).key);
  g_array_unref (c->items);
  g_free (c);
}

static void
check_in_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  Check *c = task_data;

  for (guint i = 0; i < c->items->len; i++)
    {
      CheckItem *it = &g_array_index (c->items, CheckItem, i);
      VcmSysMountBrief m;
      int errsv = 0;

      if (vcm_sys_statmount_brief (it->unique, &m, NULL, &errsv))
        it->state = m.read_only ? 1 : 0;
      else
        it->state = errsv == ENOENT ? -1 : -2;
    }
  g_task_return_boolean (task, TRUE);
}

static void start_check (VcmWatch *self);
static gboolean on_check_timeout (gpointer user_data);

static void
forget_local_changes_if_idle (VcmWatch *self)
{
  if (self->notify != NULL && !self->read_in_flight && !self->check_in_flight)
    g_hash_table_remove_all (self->local_changes);
}

static void
on_check_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  VcmWatch *self = VCM_WATCH (source);
  Check *c = g_task_get_task_data (G_TASK (result));
  g_autoptr (GPtrArray) probe = g_ptr_array_new_with_free_func (g_free);

  self->check_in_flight = FALSE;
  if (g_cancellable_is_cancelled (self->cancellable))
    return; /* disposed meanwhile */
  /* checks owed to mount events come at most this often: at most ~2 % of
   * the time goes to them, however many rootfs there are */
  self->check_interval =
    (guint) CLAMP ((g_get_monotonic_time () - c->begun) / 1000 * CHECK_FACTOR, CHECK_MS, CHECK_MAX_MS);
  if (c->epoch == self->check_epoch && self->notify != NULL)
    for (guint i = 0; i < c->items->len; i++)
      {
        const CheckItem *it = &g_array_index (c->items, CheckItem, i);
        const guint64 *changed = g_hash_table_lookup (self->local_changes, it->key);
        Tracked *t = g_hash_table_lookup (self->tracked, it->key);

        if ((changed != NULL && c->seq <= *changed) || t == NULL || t->rootfs->unique_id != it->unique)
          continue; /* changed since the check began: the newer knowledge stands */
        if (it->state == -1)
          g_ptr_array_add (probe, g_strdup (it->key));
        else if (it->state == -2)
          want_reread (self, "statmount of a tracked rootfs failed");
        else if ((it->state == 1) != t->rootfs->read_only)
          {
            t->rootfs->read_only = it->state == 1;
            emit (self, VCM_CHANGE_REMOUNTED, t->rootfs, NULL);
          }
      }
  for (guint i = 0; i < probe->len; i++)
    {
      g_auto (GStrv) ids = g_strsplit (probe->pdata[i], "/", 2);

      probe_key (self, ids[0], ids[1]);
    }
  if (c->items->len >= VCM_MEMORY_LARGE_WORK)
    vcm_memory_trim_soon ();
  forget_local_changes_if_idle (self);
  if (self->check_again && self->notify != NULL)
    {
      self->check_again = FALSE;
      self->check_owed = TRUE;
      if (self->check_source == 0)
        self->check_source = g_timeout_add (self->check_interval, on_check_timeout, self);
    }
}

static void
start_check (VcmWatch *self)
{
  g_autoptr (GPtrArray) probe = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter iter;
  gpointer value;
  Check *c;
  GTask *task;

  if (self->check_in_flight)
    {
      self->check_again = TRUE; /* this one may have begun before the change */
      return;
    }
  if (g_hash_table_size (self->tracked) < CHECK_SYNC_MAX)
    {
      /* a few statmounts: cheaper here than two thread switches */
      check_tracked (self);
      return;
    }
  g_clear_handle_id (&self->check_source, g_source_remove);
  self->check_owed = FALSE;
  c = g_new0 (Check, 1);
  c->seq = ++self->read_seq;
  c->epoch = self->check_epoch;
  c->begun = g_get_monotonic_time ();
  c->items = g_array_sized_new (FALSE, FALSE, sizeof (CheckItem), g_hash_table_size (self->tracked));
  g_hash_table_iter_init (&iter, self->tracked);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Tracked *t = value;
      CheckItem it = { .key = g_strdup (t->key), .unique = t->rootfs->unique_id, .state = -2 };

      if (t->rootfs->unique_id == 0)
        {
          g_ptr_array_add (probe, it.key); /* never identified: by path, now */
          continue;
        }
      g_array_append_val (c->items, it);
    }
  self->check_in_flight = TRUE;
  task = g_task_new (self, self->cancellable, on_check_done, NULL); /* holds self */
  g_task_set_task_data (task, c, check_free);
  g_task_run_in_thread (task, check_in_thread);
  g_object_unref (task);
  for (guint i = 0; i < probe->len; i++)
    {
      g_auto (GStrv) ids = g_strsplit (probe->pdata[i], "/", 2);

      probe_key (self, ids[0], ids[1]);
    }
}

static gboolean
on_check_timeout (gpointer user_data)
{
  VcmWatch *self = user_data;

  self->check_source = 0;
  drain_events (self);
  if (self->notify != NULL)
    start_check (self);
  return G_SOURCE_REMOVE;
}

/* A mountinfo wake-up: something changed. Mount events explain attaches and
 * detaches; if there were none, it was a remount (or the like): check now.
 * If there were, a remount may have come with them: check a little later,
 * at most once per CHECK_MS however many wake-ups come meanwhile. */
static void
on_wakeup (VcmWatch *self)
{
  self->wakeup_pending = FALSE;
  drain_events (self);
  if (self->notify == NULL)
    return;
  if (!self->events_seen)
    {
      /* a change no attach or detach explains (a remount, a change of
       * propagation): which mount it touched is unknown, the table is
       * read in full when next asked for */
      self->stale = TRUE;
      start_check (self);
      return;
    }
  self->events_seen = FALSE;
  self->check_owed = TRUE;
  if (self->check_in_flight)
    self->check_again = TRUE; /* it may have begun before the change */
  else if (self->check_source == 0)
    self->check_source = g_timeout_add (MAX (self->check_interval, CHECK_MS), on_check_timeout, self);
}

/* Whether the kernel answers statmount(2) (and listmount(2)) here: the
 * notification path needs them. */
static gboolean
statmount_works (GError **error)
{
  vcm_autofd int fd = open ("/", O_PATH | O_CLOEXEC);
  guint64 id = 0, child;
  VcmSysMountBrief m;
  int errsv = 0;

  if (fd < 0 || vcm_sys_unique_mount_id (fd, &id) < 0)
    errsv = errno;
  else if (!vcm_sys_statmount_brief (id, &m, NULL, &errsv))
    ;
  else if (vcm_sys_listmount (id, 0, &child, 1) < 0)
    errsv = errno;
  if (errsv == 0)
    return TRUE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "no statmount(2)/listmount(2): %s",
               g_strerror (errsv));
  return FALSE;
}

static gboolean
on_monitor_event (int fd, GIOCondition condition, gpointer user_data)
{
  VcmWatch *self = user_data;

  mnt_monitor_event_cleanup (self->monitor);
  if (self->notify != NULL)
    {
      self->wakeup_pending = TRUE;
      self->monitor_source = 0; /* watched again once the batch is handled */
      coalesce (self);
      return G_SOURCE_REMOVE;
    }
  self->stale = TRUE;
  schedule_refresh (self);
  return G_SOURCE_CONTINUE;
}

static gboolean
monitor_pending (VcmWatch *self)
{
  struct pollfd pfd = { .fd = self->monitor_fd, .events = POLLIN };

  return poll (&pfd, 1, 0) > 0;
}

void
vcm_watch_stop (VcmWatch *self)
{
  /* work in worker threads holds a reference: it lands after this and does
   * nothing, the cancellable being cancelled; the object goes after it (its
   * last reference may then be dropped in that worker thread) */
  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->notify_source, g_source_remove);
  g_clear_handle_id (&self->check_source, g_source_remove);
  g_clear_handle_id (&self->coalesce_source, g_source_remove);
  g_clear_handle_id (&self->monitor_source, g_source_remove);
  g_clear_handle_id (&self->refresh_source, g_source_remove);
}

static void
vcm_watch_dispose (GObject *object)
{
  vcm_watch_stop (VCM_WATCH (object));
  G_OBJECT_CLASS (vcm_watch_parent_class)->dispose (object);
}

static void
vcm_watch_finalize (GObject *object)
{
  VcmWatch *self = VCM_WATCH (object);

  g_clear_pointer (&self->monitor, mnt_unref_monitor);
  g_clear_pointer (&self->table, vcm_mount_table_unref);
  g_clear_pointer (&self->tracked, g_hash_table_unref); /* unindexes: before by_unique */
  g_clear_pointer (&self->by_unique, g_hash_table_unref);
  g_clear_pointer (&self->parents, g_hash_table_unref);
  g_clear_pointer (&self->notify, vcm_mnt_notify_free);
  g_clear_pointer (&self->events, g_array_unref);
  g_clear_pointer (&self->table_changes, g_array_unref);
  g_clear_pointer (&self->old_ids, g_hash_table_unref);
  g_clear_pointer (&self->local_changes, g_hash_table_unref);
  g_clear_pointer (&self->held, g_ptr_array_unref);
  g_clear_object (&self->cancellable);
  g_free (self->shared_dir);
  G_OBJECT_CLASS (vcm_watch_parent_class)->finalize (object);
}

static void
vcm_watch_class_init (VcmWatchClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = vcm_watch_dispose;
  object_class->finalize = vcm_watch_finalize;

  /**
   * VcmWatch::changed:
   * @change: (type gpointer): the VcmChange, valid during the emission
   *
   * A rootfs change, made by the service or not: every one, in order.
   */
  signals[SIGNAL_CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                          NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
}

static void
vcm_watch_init (VcmWatch *self)
{
  self->monitor_fd = -1;
  self->cancellable = g_cancellable_new ();
  self->held = g_ptr_array_new_with_free_func (held_change_free);
  self->tracked = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, tracked_free);
  self->local_changes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->by_unique = g_hash_table_new (g_int64_hash, g_int64_equal);
  self->check_interval = CHECK_MS;
  self->coalesce_ms = COALESCE_MS;
  self->parents = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  self->events = g_array_new (FALSE, FALSE, sizeof (VcmMntEvent));
  self->table_changes = g_array_new (FALSE, FALSE, sizeof (VcmMountChange));
  self->old_ids = g_hash_table_new (g_direct_hash, g_direct_equal);
}

VcmWatch *
vcm_watch_new (const char *shared_dir, GError **error)
{
  g_autoptr (VcmWatch) self = g_object_new (VCM_TYPE_WATCH, NULL);
  Reading *first;
  int r;

  self->shared_dir = g_strdup (shared_dir);

  /* mount notifications first: nothing that happens during the first read is missed */
  {
    g_autoptr (GError) why = NULL;

    if (statmount_works (&why))
      self->notify = vcm_mnt_notify_new (&why);
    if (self->notify != NULL)
      {
        self->notify_source =
          g_unix_fd_add (vcm_mnt_notify_get_fd (self->notify), G_IO_IN, on_notify_event, self);
        g_message ("Mount watch: following mount notifications (fanotify), reading only the "
                   "mounts they name");
      }
    else if (g_error_matches (why, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED))
      g_message ("Mount watch: no mount notifications here (%s); re-reading the mount table "
                 "on every change",
                 why->message);
    else
      g_warning ("Mount watch: cannot use mount notifications (%s); re-reading the mount table "
                 "on every change",
                 why->message);
  }

  self->monitor = mnt_new_monitor ();
  if (self->monitor == NULL)
    {
      g_set_error (error, VCM_ERROR, VCM_ERROR_FAILED, "cannot create a libmount monitor");
      return NULL;
    }
  r = mnt_monitor_enable_kernel (self->monitor, TRUE);
  if (r == 0)
    self->monitor_fd = mnt_monitor_get_fd (self->monitor);
  if (r < 0 || self->monitor_fd < 0)
    {
      g_set_error (error, VCM_ERROR, VCM_ERROR_FAILED, "cannot watch the kernel's mount table: %s",
                   g_strerror (r < 0 ? -r : -self->monitor_fd));
      return NULL;
    }
  self->monitor_source = g_unix_fd_add (self->monitor_fd, G_IO_IN, on_monitor_event, self);

  first = reading_take (self->shared_dir, begin_read (self), error);
  if (first == NULL)
    return NULL;
  self->table = vcm_mount_table_ref (first->table);
  self->applied_seq = first->seq;
  self->refresh_count = 1;
  diff_against (self, first, FALSE); /* what is mounted at start is known, not news */
  reading_free (first);
  return g_steal_pointer (&self);
}

/* With mount notifications: follows the events pending and owes no check of
 * the tracked rootfs, so the snapshot and Generation are as of this call. */
static void
bring_up_to_date (VcmWatch *self)
{
  if (self->notify == NULL)
    return;
  drain_events (self);
  if (self->notify != NULL && monitor_pending (self))
    {
      mnt_monitor_event_cleanup (self->monitor);
      self->wakeup_pending = TRUE;
    }
  if (self->notify != NULL && self->wakeup_pending)
    on_wakeup (self);
  /* a check owed or still in a worker: done here, its result is needed now */
  if (self->notify != NULL && (self->check_owed || self->check_in_flight))
    check_tracked (self);
}

VcmMountTable *
vcm_watch_get_table (gpointer watch, gboolean force_refresh)
{
  VcmWatch *self = watch;
  g_autoptr (GError) error = NULL;

  bring_up_to_date (self);
  /* With mount notifications the table follows the events: patched with
   * the mounts they named since, read in full only when they cannot say
   * (an overflow, a change no event explains, too many changes). */
  if (self->notify != NULL && !force_refresh && !self->stale && !self->reread_wanted &&
      !self->read_in_flight && self->table_changes->len > 0)
    {
      VcmMountTable *patched =
        vcm_mount_table_patch (self->table, (const VcmMountChange *) self->table_changes->data,
                               self->table_changes->len, &error);

      g_array_set_size (self->table_changes, 0);
      if (patched != NULL)
        {
          self->table = patched;
          self->patch_count++;
        }
      else
        {
          g_debug ("Mount watch: reading the whole table: %s", error->message);
          g_clear_error (&error);
          self->stale = TRUE;
        }
    }
  /* A read in flight began before this call but has not landed: the cached
   * table may miss a change the caller has seen, so read now. */
  if ((force_refresh || self->stale || self->read_in_flight || monitor_pending (self)) &&
      !refresh_now (self, &error))
    g_warning ("Cannot re-read the mount table, answering from the last one: %s", error->message);
  return vcm_mount_table_ref (self->table);
}

guint64
vcm_watch_get_generation (VcmWatch *self)
{
  return self->generation;
}

guint
vcm_watch_get_refresh_count (VcmWatch *self)
{
  return self->refresh_count;
}

void
vcm_watch_note_mounted (VcmWatch *self, const VcmRootfs *rootfs)
{
  g_autofree char *k = rootfs_key (rootfs->sandbox_id, rootfs->container_id);
  Tracked *old = g_hash_table_lookup (self->tracked, k);
  VcmRootfs *copy;

  /* One that vanished behind our back and was not yet seen: report it first.
   * (The service mounts only where nothing is mounted, so a tracked rootfs
   * here is gone, even if the kernel gave the new mount its reused ID.) */
  if (old != NULL)
    {
      emit (self, VCM_CHANGE_VANISHED, old->rootfs, NULL);
      g_hash_table_remove (self->tracked, k);
    }
  copy = vcm_rootfs_new (rootfs->sandbox_id, rootfs->container_id, rootfs->mount_point, rootfs->mount_id,
                         rootfs->read_only);
  copy->unique_id = rootfs->unique_id;
  track (self, copy, NULL); /* cloned without its submounts: none */
  record_local_change (self, k);
  emit (self, VCM_CHANGE_MOUNTED, copy, NULL);
}

void
vcm_watch_note_unmounted (VcmWatch *self,
                          const char *sandbox_id,
                          const char *container_id,
                          const char *const *detached)
{
  g_autofree char *k = rootfs_key (sandbox_id, container_id);
  g_autoptr (VcmRootfs) gone = NULL;
  Tracked *t = g_hash_table_lookup (self->tracked, k);

  if (t != NULL)
    {
      unindex (t); /* while it still has its rootfs */
      gone = g_steal_pointer (&t->rootfs);
      t->rootfs = NULL;
      g_hash_table_remove (self->tracked, k);
    }
  else
    gone = vcm_rootfs_new (sandbox_id, container_id, detached[0], 0, FALSE);
  record_local_change (self, k);
  emit (self, VCM_CHANGE_UNMOUNTED, gone, detached);
  /* a mount stacked below the one detached is a rootfs now: its mount raised
   * no event just now, so look (one open(2) when nothing is there) */
  if (self->notify != NULL)
    probe_key (self, sandbox_id, container_id);
}

void
vcm_watch_sync_rootfs (VcmWatch *self,
                       const char *sandbox_id,
                       const char *container_id,
                       const VcmRootfs *now,
                       GHashTable *submounts)
{
  g_autofree char *k = rootfs_key (sandbox_id, container_id);

  diff_one (self, k, now, submounts, TRUE);
  record_local_change (self, k); /* readings begun before this are older, for this rootfs */
}

GPtrArray *
vcm_watch_list_rootfs (VcmWatch *self, const char *sandbox_id)
{
  g_autoptr (GPtrArray) result = NULL;
  g_autoptr (GError) error = NULL;
  GHashTableIter iter;
  gpointer value;

  if (self->notify == NULL)
    {
      g_autoptr (VcmMountTable) table = vcm_watch_get_table (self, FALSE);

      return vcm_rootfs_list_in_table (self->shared_dir, table, sandbox_id);
    }
  bring_up_to_date (self);
  /* lost events (an overflow): the snapshot is right only after a full read */
  if ((self->reread_wanted || self->read_in_flight) && !refresh_now (self, &error))
    g_warning ("Cannot re-read the mount table, listing from the last one: %s", error->message);
  result = g_ptr_array_new_with_free_func ((GDestroyNotify) vcm_rootfs_free);
  g_hash_table_iter_init (&iter, self->tracked);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      const VcmRootfs *r = ((Tracked *) value)->rootfs;
      VcmRootfs *copy;

      if (sandbox_id != NULL && *sandbox_id != '\0' && !g_str_equal (r->sandbox_id, sandbox_id))
        continue;
      copy = vcm_rootfs_new (r->sandbox_id, r->container_id, r->mount_point, r->mount_id, r->read_only);
      copy->unique_id = r->unique_id;
      g_ptr_array_add (result, copy);
    }
  g_ptr_array_sort (result, vcm_rootfs_compare);
  return g_steal_pointer (&result);
}

gboolean
vcm_watch_uses_notifications (VcmWatch *self)
{
  return self->notify != NULL;
}

gboolean
vcm_watch_sync_live (VcmWatch *self, const char *sandbox_id, const char *container_id)
{
  g_autofree char *k = NULL;
  g_autofree char *point = NULL;
  Tracked *t;
  VcmSysMountBrief m;
  int errsv = 0;

  if (self->notify == NULL || !vcm_validate_id ("sandbox_id", sandbox_id, NULL) ||
      !vcm_validate_id ("container_id", container_id, NULL))
    return FALSE;
  /* the kernel queues a mount's event before the syscall returns: with the
   * queue drained, what is known of this rootfs's mounts is current */
  drain_events (self);
  if (self->notify == NULL || self->reread_wanted)
    return FALSE;
  k = rootfs_key (sandbox_id, container_id);
  t = g_hash_table_lookup (self->tracked, k);
  if (t != NULL && t->rootfs->unique_id != 0 &&
      vcm_sys_statmount_brief (t->rootfs->unique_id, &m, &point, &errsv) &&
      g_str_equal (point, t->rootfs->mount_point))
    {
      /* still there; a remount raises no event: its flag, read now */
      if (m.read_only != t->rootfs->read_only)
        {
          t->rootfs->read_only = m.read_only;
          emit (self, VCM_CHANGE_REMOUNTED, t->rootfs, NULL);
        }
      record_local_change (self, k);
      return TRUE;
    }
  probe_key (self, sandbox_id, container_id);
  return TRUE;
}

static gint
compare_u64 (gconstpointer a, gconstpointer b)
{
  guint64 x = *(const guint64 *) a, y = *(const guint64 *) b;

  return x < y ? -1 : (x > y ? 1 : 0);
}

GArray *
vcm_watch_get_subtree (gpointer watch, guint64 unique_id)
{
  VcmWatch *self = watch;
  g_autoptr (GArray) ids = NULL;
  Tracked *t;
  GHashTableIter iter;
  gpointer key;

  if (self->notify == NULL)
    return NULL;
  drain_events (self);
  if (self->notify == NULL || self->reread_wanted)
    return NULL;
  t = g_hash_table_lookup (self->by_unique, &unique_id);
  if (t == NULL || t->rootfs->unique_id != unique_id)
    return NULL;
  ids = g_array_new (FALSE, FALSE, sizeof (guint64));
  if (t->sub_unique != NULL)
    {
      g_hash_table_iter_init (&iter, t->sub_unique);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        g_array_append_val (ids, ((SubId *) key)->unique);
      g_array_sort (ids, compare_u64);
    }
  g_array_prepend_val (ids, unique_id);
  return g_steal_pointer (&ids);
}
