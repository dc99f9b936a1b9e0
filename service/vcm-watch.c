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
#include <libmount/libmount.h>
#include <glib-unix.h>

#include "vcm-error.h"
#include "vcm-watch.h"

#define COALESCE_MS 10

typedef struct {
  VcmRootfs  *rootfs;
  GHashTable *submounts;   /* mount ID (guint64 *) set */
} Tracked;

struct _VcmWatch {
  char                 *shared_dir;
  VcmWatchFunc          func;
  gpointer              user_data;
  struct libmnt_monitor *monitor;
  int                   monitor_fd;
  guint                 monitor_source;
  guint                 refresh_source;
  gboolean              stale;
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
  g_hash_table_unref (t->submounts);
  g_free (t);
}

static char *
rootfs_key (const char *sandbox_id, const char *container_id)
{
  return g_strconcat (sandbox_id, "/", container_id, NULL);
}

static GHashTable *
submount_set (VcmMountTable *table, guint64 id)
{
  g_autoptr(GPtrArray) below = vcm_mount_table_get_descendants (table, id);
  GHashTable *set = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);

  for (guint i = 0; i < below->len; i++)
    {
      const VcmMountEntry *e = below->pdata[i];
      g_hash_table_add (set, g_memdup2 (&e->id, sizeof e->id));
    }
  return set;
}

static void
emit (VcmWatch *self, VcmChangeKind kind, const VcmRootfs *rootfs, const char * const *detached)
{
  VcmChange change = { .generation = ++self->generation, .kind = kind,
                       .rootfs = rootfs, .detached = detached };

  if (self->func)
    self->func (&change, self->user_data);
}

static void
track (VcmWatch *self, VcmRootfs *rootfs, GHashTable *submounts)
{
  Tracked *t = g_new0 (Tracked, 1);

  t->rootfs = rootfs;
  t->submounts = submounts;
  g_hash_table_replace (self->tracked, rootfs_key (rootfs->sandbox_id, rootfs->container_id), t);
}

/* Emits one change per difference between the snapshot and @table. */
static void
diff_against (VcmWatch *self, VcmMountTable *table, gboolean emit_changes)
{
  g_autoptr(GPtrArray) now = vcm_mounter_list_rootfs_in (self->shared_dir, table, NULL);
  g_autoptr(GHashTable) now_by_key = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GPtrArray) gone = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter iter;
  gpointer key, value;

  for (guint i = 0; i < now->len; i++)
    {
      VcmRootfs *r = now->pdata[i];
      g_hash_table_insert (now_by_key, rootfs_key (r->sandbox_id, r->container_id), r);
    }

  /* vanished (or replaced by another mount) first */
  g_hash_table_iter_init (&iter, self->tracked);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      Tracked *t = value;
      VcmRootfs *r = g_hash_table_lookup (now_by_key, key);

      if (r == NULL || r->mount_id != t->rootfs->mount_id)
        g_ptr_array_add (gone, g_strdup (key));
    }
  g_ptr_array_sort (gone, (GCompareFunc) g_strcmp0);   /* deterministic order */
  for (guint i = 0; i < gone->len; i++)
    {
      Tracked *t = g_hash_table_lookup (self->tracked, gone->pdata[i]);

      if (emit_changes)
        emit (self, VCM_CHANGE_VANISHED, t->rootfs, NULL);
      g_hash_table_remove (self->tracked, gone->pdata[i]);
    }

  for (guint i = 0; i < now->len; i++)
    {
      VcmRootfs *r = now->pdata[i];
      g_autofree char *k = rootfs_key (r->sandbox_id, r->container_id);
      Tracked *t = g_hash_table_lookup (self->tracked, k);
      g_autoptr(GHashTable) subs = submount_set (table, r->mount_id);

      if (t == NULL)
        {
          now->pdata[i] = NULL;   /* ownership moves to the snapshot */
          track (self, r, g_steal_pointer (&subs));
          if (emit_changes)
            emit (self, VCM_CHANGE_MOUNTED, r, NULL);
          continue;
        }

      if (t->rootfs->read_only != r->read_only)
        {
          t->rootfs->read_only = r->read_only;
          if (emit_changes)
            emit (self, VCM_CHANGE_REMOUNTED, t->rootfs, NULL);
        }

      g_hash_table_iter_init (&iter, subs);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        if (!g_hash_table_contains (t->submounts, key) && emit_changes)
          emit (self, VCM_CHANGE_SUBMOUNT_ADDED, t->rootfs, NULL);
      g_hash_table_iter_init (&iter, t->submounts);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        if (!g_hash_table_contains (subs, key) && emit_changes)
          emit (self, VCM_CHANGE_SUBMOUNT_REMOVED, t->rootfs, NULL);
      g_hash_table_unref (t->submounts);
      t->submounts = g_steal_pointer (&subs);
    }
}

static gboolean
refresh (VcmWatch *self, GError **error)
{
  VcmMountTable *table;

  g_clear_handle_id (&self->refresh_source, g_source_remove);
  /* Drain first: a change after this point raises a new event. */
  if (self->monitor != NULL)
    mnt_monitor_event_cleanup (self->monitor);
  table = vcm_mount_table_new_from_kernel (error);
  if (table == NULL)
    return FALSE;
  self->refresh_count++;
  g_clear_pointer (&self->table, vcm_mount_table_unref);
  self->table = table;
  self->stale = FALSE;
  diff_against (self, table, TRUE);
  return TRUE;
}

static gboolean
on_refresh_timeout (gpointer user_data)
{
  VcmWatch *self = user_data;
  g_autoptr(GError) error = NULL;

  self->refresh_source = 0;
  if (!refresh (self, &error))
    g_warning ("Cannot re-read the mount table: %s", error->message);
  return G_SOURCE_REMOVE;
}

static gboolean
on_monitor_event (int fd, GIOCondition condition, gpointer user_data)
{
  VcmWatch *self = user_data;

  mnt_monitor_event_cleanup (self->monitor);
  self->stale = TRUE;
  if (self->refresh_source == 0)
    self->refresh_source = g_timeout_add (COALESCE_MS, on_refresh_timeout, self);
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
  int r;

  self->shared_dir = g_strdup (shared_dir);
  self->func = func;
  self->user_data = user_data;
  self->monitor_fd = -1;
  self->tracked = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, tracked_free);

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

  self->table = vcm_mount_table_new_from_kernel (error);
  if (self->table == NULL)
    return NULL;
  self->refresh_count = 1;
  diff_against (self, self->table, FALSE);   /* what is mounted at start is known, not news */
  return g_steal_pointer (&self);
}

void
vcm_watch_free (VcmWatch *self)
{
  if (self == NULL)
    return;
  g_clear_handle_id (&self->monitor_source, g_source_remove);
  g_clear_handle_id (&self->refresh_source, g_source_remove);
  g_clear_pointer (&self->monitor, mnt_unref_monitor);
  g_clear_pointer (&self->table, vcm_mount_table_unref);
  g_clear_pointer (&self->tracked, g_hash_table_unref);
  g_free (self->shared_dir);
  g_free (self);
}

VcmMountTable *
vcm_watch_get_table (gpointer watch, gboolean force_refresh)
{
  VcmWatch *self = watch;
  g_autoptr(GError) error = NULL;

  if ((force_refresh || self->stale || monitor_pending (self)) && !refresh (self, &error))
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

  /* One that vanished behind our back and was not yet seen: report it first. */
  if (old != NULL && old->rootfs->mount_id != rootfs->mount_id)
    {
      emit (self, VCM_CHANGE_VANISHED, old->rootfs, NULL);
      g_hash_table_remove (self->tracked, k);
    }
  copy = vcm_rootfs_new (rootfs->sandbox_id, rootfs->container_id, rootfs->mount_point,
                         rootfs->mount_id, rootfs->read_only);
  track (self, copy, g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL));
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
  emit (self, VCM_CHANGE_UNMOUNTED, gone, detached);
}
