/* vcm-watch: the service's view of the kernel's mount table. Owns the cached
 * table (refreshed only when libmount's monitor says the kernel's changed),
 * the rootfs snapshot that changes are diffed against, and the Generation
 * counter: every rootfs change, made by the service or not, bumps it once.
 *
 * The kernel coalesces mount-table events and so does this file: an event
 * only marks the cache stale and schedules one re-read a few milliseconds
 * later. A caller that needs the table before then gets it re-read at once,
 * so answers are never older than the call. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <libmount/libmount.h>
#include <glib-unix.h>
#include <gio/gio.h>

#include "vcm-error.h"
#include "vcm-memory.h"
#include "vcm-watch.h"

#define COALESCE_MS 10

typedef struct {
  VcmRootfs  *rootfs;
  GHashTable *submounts;   /* mount ID (guint64 *) set; NULL when empty (the usual case) */
  char        key[];       /* "sbx/cid", the key in VcmWatch.tracked */
} Tracked;

/* One read of the kernel's table and what it says about the rootfs set:
 * computed in a worker thread (it only reads), applied in the main thread. */
typedef struct {
  guint64        seq;
  VcmMountTable *table;
  GPtrArray     *rootfs;      /* VcmRootfs, sorted */
  GPtrArray     *submounts;   /* parallel to rootfs: GHashTable sets of mount IDs, or NULL */
} Reading;

struct _VcmWatch {
  char                 *shared_dir;
  VcmWatchFunc          func;
  gpointer              user_data;
  struct libmnt_monitor *monitor;
  int                   monitor_fd;
  guint                 monitor_source;
  guint                 refresh_source;
  gboolean              stale;            /* the kernel changed since the last read began */
  gboolean              read_in_flight;
  guint64               read_seq;         /* sequence of the last read begun */
  guint64               applied_seq;      /* of the last reading applied */
  GHashTable           *local_changes;    /* "sbx/cid" -> read_seq (guint64 *) when the service
                                           * last changed or probed that rootfs: a reading
                                           * begun no later is older than that, for that key */
  VcmMountTable        *table;
  GHashTable           *tracked;     /* "sbx/cid" -> Tracked */
  guint64               generation;
  guint                 refresh_count;
};

const char *
vcm_change_kind_to_string (VcmChangeKind kind)
{
  switch (kind)
    {
    case VCM_CHANGE_MOUNTED:          return "mounted";
    case VCM_CHANGE_UNMOUNTED:        return "unmounted";
    case VCM_CHANGE_SUBMOUNT_ADDED:   return "submount-added";
    case VCM_CHANGE_SUBMOUNT_REMOVED: return "submount-removed";
    case VCM_CHANGE_REMOUNTED:        return "remounted";
    case VCM_CHANGE_VANISHED:         return "vanished";
    default:                          g_assert_not_reached ();
    }
}

static void
tracked_free (gpointer data)
{
  Tracked *t = data;

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
  g_autoptr(GPtrArray) below = vcm_mount_table_get_descendants (table, id);
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
  r->rootfs = vcm_mounter_list_rootfs_in (shared_dir, table, NULL);
  vcm_mounter_fill_unique_ids (r->rootfs);
  r->submounts = g_ptr_array_new_full (r->rootfs->len, (GDestroyNotify) set_unref);
  for (guint i = 0; i < r->rootfs->len; i++)
    g_ptr_array_add (r->submounts,
                     submount_set (table, ((VcmRootfs *) r->rootfs->pdata[i])->mount_id));
  return r;
}

static void
emit (VcmWatch *self, VcmChangeKind kind, const VcmRootfs *rootfs, const char * const *detached)
{
  VcmChange change = { .generation = ++self->generation, .kind = kind,
                       .rootfs = rootfs, .detached = detached };

  if (self->func)
    self->func (&change, self->user_data);
}

/* Emits @kind once for each ID in @a that is not in @b (either may be NULL). */
static void
emit_difference (VcmWatch *self, GHashTable *a, GHashTable *b, VcmChangeKind kind,
                 const VcmRootfs *rootfs, gboolean emit_changes)
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
  memcpy (t->key, rootfs->sandbox_id, ls);
  t->key[ls] = '/';
  memcpy (t->key + ls + 1, rootfs->container_id, lc + 1);
  /* replace, not insert: the key lives in @t, the entry it replaces is freed */
  g_hash_table_replace (self->tracked, t->key, t);
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
diff_one (VcmWatch *self, const char *key, const VcmRootfs *now, GHashTable *subs,
          gboolean emit_changes)
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
      track (self, copy, set_ref (subs));
      if (emit_changes)
        emit (self, VCM_CHANGE_MOUNTED, copy, NULL);
      return;
    }

  if (t->rootfs->unique_id == 0)
    t->rootfs->unique_id = now->unique_id;
  if (t->rootfs->read_only != now->read_only)
    {
      t->rootfs->read_only = now->read_only;
      if (emit_changes)
        emit (self, VCM_CHANGE_REMOUNTED, t->rootfs, NULL);
    }
  emit_difference (self, subs, t->submounts, VCM_CHANGE_SUBMOUNT_ADDED, t->rootfs, emit_changes);
  emit_difference (self, t->submounts, subs, VCM_CHANGE_SUBMOUNT_REMOVED, t->rootfs, emit_changes);
  set_unref (t->submounts);
  t->submounts = set_ref (subs);
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
  g_autoptr(GHashTable) now_by_key = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GPtrArray) gone = g_ptr_array_new_with_free_func (g_free);
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
  g_ptr_array_sort (gone, (GCompareFunc) g_strcmp0);   /* deterministic order */
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

typedef struct {
  char   *shared_dir;
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
  VcmWatch *self = user_data;
  g_autoptr(GError) error = NULL;
  Reading *r = g_task_propagate_pointer (G_TASK (result), &error);

  self->read_in_flight = FALSE;
  if (r == NULL)
    g_warning ("Cannot re-read the mount table: %s", error->message);
  else if (reading_is_current (self, r))
    apply (self, r);
  g_clear_pointer (&r, reading_free);
  if (self->stale)
    schedule_refresh (self);
}

static void
start_async_read (VcmWatch *self)
{
  GTask *task;
  ReadArgs *args;

  if (self->read_in_flight)
    return;   /* its completion looks at self->stale */
  args = g_new0 (ReadArgs, 1);
  args->shared_dir = g_strdup (self->shared_dir);
  args->seq = begin_read (self);
  self->read_in_flight = TRUE;
  task = g_task_new (NULL, NULL, on_read_done, self);
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

static gboolean
on_monitor_event (int fd, GIOCondition condition, gpointer user_data)
{
  VcmWatch *self = user_data;

  mnt_monitor_event_cleanup (self->monitor);
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

VcmWatch *
vcm_watch_new (const char   *shared_dir,
               VcmWatchFunc  func,
               gpointer      user_data,
               GError      **error)
{
  g_autoptr(VcmWatch) self = g_new0 (VcmWatch, 1);
  Reading *first;
  int r;

  self->shared_dir = g_strdup (shared_dir);
  self->func = func;
  self->user_data = user_data;
  self->monitor_fd = -1;
  self->tracked = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, tracked_free);
  self->local_changes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

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
      g_set_error (error, VCM_ERROR, VCM_ERROR_FAILED,
                   "cannot watch the kernel's mount table: %s",
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
  diff_against (self, first, FALSE);   /* what is mounted at start is known, not news */
  reading_free (first);
  return g_steal_pointer (&self);
}

void
vcm_watch_free (VcmWatch *self)
{
  if (self == NULL)
    return;
  /* a read in a worker thread calls back into us: let it land first */
  while (self->read_in_flight)
    g_main_context_iteration (NULL, TRUE);
  g_clear_handle_id (&self->monitor_source, g_source_remove);
  g_clear_handle_id (&self->refresh_source, g_source_remove);
  g_clear_pointer (&self->monitor, mnt_unref_monitor);
  g_clear_pointer (&self->table, vcm_mount_table_unref);
  g_clear_pointer (&self->tracked, g_hash_table_unref);
  g_clear_pointer (&self->local_changes, g_hash_table_unref);
  g_free (self->shared_dir);
  g_free (self);
}

VcmMountTable *
vcm_watch_get_table (gpointer watch, gboolean force_refresh)
{
  VcmWatch *self = watch;
  g_autoptr(GError) error = NULL;

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
  copy = vcm_rootfs_new (rootfs->sandbox_id, rootfs->container_id, rootfs->mount_point,
                         rootfs->mount_id, rootfs->read_only);
  copy->unique_id = rootfs->unique_id;
  track (self, copy, NULL);   /* cloned without its submounts: none */
  record_local_change (self, k);
  emit (self, VCM_CHANGE_MOUNTED, copy, NULL);
}

void
vcm_watch_note_unmounted (VcmWatch *self, const char *sandbox_id,
                          const char *container_id, const char * const *detached)
{
  g_autofree char *k = rootfs_key (sandbox_id, container_id);
  g_autoptr(VcmRootfs) gone = NULL;
  Tracked *t = g_hash_table_lookup (self->tracked, k);

  if (t != NULL)
    {
      gone = g_steal_pointer (&t->rootfs);
      t->rootfs = NULL;
      g_hash_table_remove (self->tracked, k);
    }
  else
    gone = vcm_rootfs_new (sandbox_id, container_id, detached[0], 0, FALSE);
  record_local_change (self, k);
  emit (self, VCM_CHANGE_UNMOUNTED, gone, detached);
}

void
vcm_watch_sync_rootfs (VcmWatch   *self,
                       const char *sandbox_id,
                       const char *container_id,
                       const VcmRootfs *now,
                       GHashTable *submounts)
{
  g_autofree char *k = rootfs_key (sandbox_id, container_id);

  diff_one (self, k, now, submounts, TRUE);
  record_local_change (self, k);   /* readings begun before this are older, for this rootfs */
}
