/* vcm-watch-fanotify: the change source with mount notifications (Linux
 * 6.15; vcm-mntnotify). Each attach or detach names one mount by its unique
 * ID. An attach costs one statmount(2) of that mount: without its path when
 * its parent is tracked (a submount) or lies neither beneath the shared dir
 * nor on the way to it (the parent's place is remembered), with it
 * otherwise; only a mount at a rootfs mount point costs more (the rootfs is
 * probed by path: vcm-watch-probe.c). A detach costs a hash lookup: only tracked rootfs and
 * their submounts matter. Events are read in batches, COALESCE_MS after the
 * first (up to COALESCE_MAX_MS in a burst). The service's own calls ask the
 * source (sync_live, get_subtree) instead of listing submounts with
 * listmount(2), which walks the whole table. Remounts raise no such event,
 * only libmount's mountinfo wake-up: the remount checker (vcm-watch-check)
 * follows them. The table cache follows the events too: the mounts they name
 * are kept, and when a caller asks for the table it is patched with those
 * alone (vcm_mount_table_patch: one statmount per mount named). It is read in
 * full at start, after a queue overflow, after a change no event explains (a
 * wake-up without mount events: a remount, a change of propagation), after
 * more changes than a quarter of the table, and when a caller forces it. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <glib-unix.h>

#include "vcm-fd.h"
#include "vcm-mntnotify.h"
#include "vcm-sys.h"
#include "vcm-validate.h"
#include "vcm-watch-fanotify-private.h"

#define COALESCE_MS      10
#define COALESCE_MAX_MS  40 /* in a burst: a batch of BATCH_LARGE events or more doubles it */
#define BATCH_LARGE      16
#define MAX_PARENTS      4096 /* parents remembered; forgotten all at once beyond */
#define PARENT_UNRELATED 1    /* its mount point is neither beneath nor above the shared dir */
#define PARENT_RELATED   2

/* A submount by unique ID (the hash key: the first 64 bits) with its mountinfo ID. */
typedef struct {
  guint64 unique;
  guint64 old;
} SubId;

static gboolean on_notify_event (int fd, GIOCondition condition, gpointer user_data);
static void index_subs (VcmWatch *self, VcmTracked *t);

/* ---- the index of tracked rootfs and submounts by unique ID -------------- */

/* Forgets the unique IDs of @t's submounts (those that still name @t). */
static void
unindex_subs (Fanotify *f, VcmTracked *t)
{
  GHashTable *sub_unique = t->source_data;
  GHashTableIter iter;
  gpointer key;

  if (sub_unique == NULL)
    return;
  g_hash_table_iter_init (&iter, sub_unique);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (g_hash_table_lookup (f->by_unique, key) == t)
      g_hash_table_remove (f->by_unique, key);
  g_clear_pointer ((GHashTable **) &t->source_data, g_hash_table_unref);
}

static void
unindex (gpointer data, VcmTracked *t)
{
  Fanotify *f = F ((VcmWatch *) data);

  if (t->rootfs->unique_id != 0 && g_hash_table_lookup (f->by_unique, &t->rootfs->unique_id) == t)
    g_hash_table_remove (f->by_unique, &t->rootfs->unique_id);
  unindex_subs (f, t);
}

static void
index_tracked (gpointer data, VcmTracked *t)
{
  VcmWatch *self = data;

  if (t->rootfs->unique_id != 0)
    g_hash_table_replace (F (self)->by_unique, &t->rootfs->unique_id, t);
  if (t->submounts != NULL || t->source_data != NULL)
    index_subs (self, t);
}

static const VcmLedgerIndex fanotify_index = {
  .indexed = index_tracked,
  .unindexed = unindex,
};

static void
add_sub_unique (VcmWatch *self, VcmTracked *t, guint64 unique, guint64 old)
{
  SubId *sub = g_new (SubId, 1);

  sub->unique = unique;
  sub->old = old;
  if (t->source_data == NULL)
    t->source_data = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  g_hash_table_add (t->source_data, sub);
  g_hash_table_replace (F (self)->by_unique, &sub->unique, t);
}

/* Walks down from @t's rootfs with listmount(2), indexing what it finds;
 * FALSE when it cannot (a full read is wanted then). */
static gboolean
index_subs_below (VcmWatch *self, VcmTracked *t)
{
  g_autoptr (GArray) todo = g_array_new (FALSE, FALSE, sizeof (guint64));

  g_array_append_val (todo, t->rootfs->unique_id);
  for (guint i = 0; i < todo->len; i++)
    {
      g_autoptr (GArray) children = vcm_sys_listmount_all (g_array_index (todo, guint64, i));

      if (children == NULL && errno == ENOENT)
        continue; /* gone meanwhile: its detach event follows */
      if (children == NULL)
        {
          g_warning ("Mount watch: cannot list the submounts of %s: %s", t->rootfs->mount_point,
                     g_strerror (errno));
          return FALSE;
        }
      for (guint j = 0; j < children->len; j++)
        {
          guint64 child = g_array_index (children, guint64, j);
          VcmSysMountBrief m;
          int errsv = 0;

          if (g_hash_table_contains (F (self)->by_unique, &child))
            continue; /* seen (a kernel that lists grandchildren too) */
          if (!vcm_sys_statmount_brief (child, &m, NULL, &errsv))
            continue; /* gone meanwhile */
          add_sub_unique (self, t, child, m.mnt_id_old);
          g_array_append_val (todo, child);
        }
    }
  return TRUE;
}

/* The unique IDs of the mounts below @t's rootfs (only rootfs with
 * submounts come here). */
static void
index_subs (VcmWatch *self, VcmTracked *t)
{
  unindex_subs (F (self), t);
  if (t->submounts == NULL || t->rootfs->unique_id == 0)
    return;
  if (!index_subs_below (self, t))
    vcm_watch_fanotify_want_reread (self, "a rootfs's submounts cannot be listed");
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

/* Whether mount @parent lies neither beneath the shared dir nor on the way
 * to it: then no mount attached to it can be beneath the shared dir, and
 * the path of such a mount need not be read. Remembered per parent. */
static gboolean
parent_unrelated (VcmWatch *self, guint64 parent)
{
  Fanotify *f = F (self);
  gpointer cls = g_hash_table_lookup (f->parents, &parent);
  g_autofree char *pp = NULL;
  int errsv = 0;

  if (cls == NULL)
    {
      pp = vcm_sys_statmount_point (parent, &errsv);
      if (pp == NULL)
        return FALSE; /* gone or unknown: read the child's own path */
      if (g_hash_table_size (f->parents) >= MAX_PARENTS)
        g_hash_table_remove_all (f->parents);
      cls = GINT_TO_POINTER (vcm_path_has_prefix (pp, self->shared_dir) ||
                                 vcm_path_has_prefix (self->shared_dir, pp)
                               ? PARENT_RELATED
                               : PARENT_UNRELATED);
      g_hash_table_insert (f->parents, g_memdup2 (&parent, sizeof parent), cls);
    }
  return GPOINTER_TO_INT (cls) == PARENT_UNRELATED;
}

/* A mount's mountinfo ID, learnt from a statmount of it (for the table's patches). */
static void
note_old_id (VcmWatch *self, guint64 unique, guint64 old)
{
  g_hash_table_insert (F (self)->old_ids, GSIZE_TO_POINTER (unique), GSIZE_TO_POINTER (old));
}

/* An attached mount not yet known, seen without its path: TRUE when that
 * was enough (a submount of a tracked rootfs, or far from the shared dir). */
static gboolean
attached_by_parent (VcmWatch *self, guint64 id)
{
  VcmTracked *owner;
  VcmSysMountBrief m;
  int errsv = 0;

  if (!vcm_sys_statmount_brief (id, &m, NULL, &errsv))
    {
      if (errsv != ENOENT)
        vcm_watch_fanotify_want_reread (self, "statmount of an attached mount failed");
      return TRUE; /* ENOENT: detached again already; nothing to follow */
    }
  note_old_id (self, id, m.mnt_id_old);
  owner = g_hash_table_lookup (F (self)->by_unique, &m.parent_id);
  if (owner != NULL && owner->rootfs->unique_id == m.parent_id)
    {
      /* on the rootfs itself: stacked on it (a new top: by path) or below it */
      g_autofree char *top = vcm_sys_statmount_point (id, &errsv);

      if (top == NULL || g_str_equal (top, owner->rootfs->mount_point))
        {
          vcm_watch_probe_tracked (self, owner);
          return TRUE;
        }
    }
  if (owner != NULL)
    {
      /* below a tracked rootfs or one of its submounts: a submount */
      if (owner->submounts == NULL)
        owner->submounts = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
      add_sub_unique (self, owner, id, m.mnt_id_old);
      if (g_hash_table_add (owner->submounts, g_memdup2 (&m.mnt_id_old, sizeof m.mnt_id_old)))
        vcm_ledger_emit (self->ledger, VCM_CHANGE_SUBMOUNT_ADDED, owner->rootfs, NULL);
      return TRUE;
    }
  return parent_unrelated (self, m.parent_id);
}

/* A mount at @point beneath or above the shared dir, not tracked. */
static void
attached_near_shared (VcmWatch *self, guint64 id, const char *point)
{
  g_auto (GStrv) parts = NULL;
  guint n;

  /* a mount on the shared dir or above it may hide rootfs: read the table */
  if (vcm_path_has_prefix (self->shared_dir, point))
    {
      /* the shared dir's path leads into this mount now: the service
       * refuses new mounts while it is there (vcm-mounter) */
      g_warning ("Mount watch: a mount on %s covers the shared dir %s", point, self->shared_dir);
      if (vcm_ledger_any_beneath (self->ledger, self->shared_dir))
        vcm_watch_fanotify_want_reread (self, "a mount on or above the shared dir");
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
      /* on a sandbox or container dir it may hide rootfs below it (which
       * are then out of reach, reported gone), and uncover them again when
       * it goes */
      if (n < 3 && vcm_validate_id ("sandbox_id", parts[0], NULL) &&
          (n == 1 || vcm_validate_id ("container_id", parts[1], NULL)))
        {
          Fanotify *f = F (self);

          if (g_hash_table_size (f->covers) >= MAX_PARENTS)
            g_hash_table_remove_all (f->covers);
          g_hash_table_add (f->covers, g_memdup2 (&id, sizeof id));
          if (vcm_ledger_any_beneath (self->ledger, point))
            vcm_watch_fanotify_want_reread (self, "a mount above a rootfs");
        }
      return;
    }
  /* a rootfs, one stacked on it, or something below a rootfs path whose
   * parent is not tracked (its rootfs not yet seen): what is there now */
  vcm_watch_fanotify_probe (self, parts[0], parts[1]);
}

/* An attached mount @id, statmount's @m and @point, seen: what it is. */
static void
attached_seen (
  VcmWatch *self, guint64 id, VcmTracked *known, const VcmSysMountBrief *m, const char *point)
{
  note_old_id (self, id, m->mnt_id_old);
  if (known != NULL && known->rootfs->unique_id == id)
    {
      if (!g_str_equal (point, known->rootfs->mount_point)) /* moved away */
        vcm_watch_probe_tracked (self, known);
      return; /* the service's own mount, or one seen by a probe */
    }
  if (known != NULL)
    return; /* a submount already known (a probe came first) */
  attached_near_shared (self, id, point);
}

static void
on_attached (VcmWatch *self, guint64 id)
{
  VcmTracked *known = g_hash_table_lookup (F (self)->by_unique, &id);
  char *point = NULL;
  VcmSysMountBrief m;
  int errsv = 0;

  /* most mounts are foreign and far from the shared dir: the parent tells */
  if (known == NULL && attached_by_parent (self, id))
    return;
  if (!vcm_sys_statmount_brief (id, &m, &point, &errsv))
    {
      if (errsv != ENOENT)
        vcm_watch_fanotify_want_reread (self, "statmount of an attached mount failed");
      return; /* ENOENT: detached again already; nothing to follow */
    }
  attached_seen (self, id, known, &m, point);
  g_free (point);
}

static void
on_detached (VcmWatch *self, guint64 id)
{
  Fanotify *f = F (self);
  VcmTracked *t = g_hash_table_lookup (f->by_unique, &id);
  SubId *sub;
  VcmSysMountBrief m;
  int errsv = 0;

  g_hash_table_remove (f->parents, &id); /* it may come back elsewhere (a move) */
  if (g_hash_table_remove (f->covers, &id))
    vcm_watch_fanotify_want_reread (self, "a mount above the rootfs layout went");
  if (t == NULL)
    return; /* not a rootfs or a submount of one: nothing to report */
  /* the rootfs itself (vanished, or uncovered another); or a submount whose
   * rootfs went with it (a lazy unmount of the tree reports every mount of
   * it): one change, reported by the rootfs */
  if (t->rootfs->unique_id == id ||
      (t->rootfs->unique_id != 0 && !vcm_sys_statmount_brief (t->rootfs->unique_id, &m, NULL, &errsv)))
    {
      vcm_watch_probe_tracked (self, t);
      return;
    }
  sub = t->source_data != NULL ? g_hash_table_lookup (t->source_data, &id) : NULL;
  g_hash_table_remove (f->by_unique, &id);
  if (sub != NULL)
    {
      guint64 old = sub->old;

      g_hash_table_remove (t->source_data, &id);
      if (t->submounts != NULL && g_hash_table_remove (t->submounts, &old))
        vcm_ledger_emit (self->ledger, VCM_CHANGE_SUBMOUNT_REMOVED, t->rootfs, NULL);
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
  Fanotify *f = F (self);
  gpointer id = GSIZE_TO_POINTER (ev->mnt_id);
  VcmMountChange c = { .unique_id = ev->mnt_id };

  c.old_id = GPOINTER_TO_SIZE (g_hash_table_lookup (f->old_ids, id));
  if (ev->kind == VCM_MNT_DETACHED)
    g_hash_table_remove (f->old_ids, id);
  else
    /* attached after the table was read: it cannot be in it (unless a read
     * in flight, or just landed, saw it) */
    c.not_in_table = !f->events_uncertain && !self->read_in_flight;
  if (self->stale)
    return; /* a full read comes anyway */
  g_array_append_val (f->table_changes, c);
  if (f->table_changes->len > MAX (256, vcm_mount_table_get_size (self->table) / 4))
    {
      g_array_set_size (f->table_changes, 0);
      self->stale = TRUE;
    }
}

/* ---- batches of events and wake-ups ------------------------------------- */

static void
follow_event (VcmWatch *self, const VcmMntEvent *ev)
{
  switch (ev->kind)
    {
    case VCM_MNT_OVERFLOW:
      g_message ("Mount watch: the kernel's mount event queue overflowed; re-reading the mount table");
      vcm_watch_fanotify_want_reread (self, "queue overflow");
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

static void fa_stop (VcmWatch *self);

/* Leaves this source for mountinfo re-reads (its events cannot be read). */
static void
fall_back (VcmWatch *self)
{
  fa_stop (self);
  vcm_ledger_set_index (self->ledger, NULL, NULL);
  vcm_watch_mountinfo_start (self);
  vcm_watch_watch_monitor (self);
  self->stale = TRUE;
  vcm_watch_schedule_refresh (self);
}

/* Reads and follows every mount event pending. */
static void
fa_drain (VcmWatch *self)
{
  g_autoptr (GError) error = NULL;
  Fanotify *f = F (self);

  g_array_set_size (f->events, 0);
  if (!vcm_mnt_notify_read (f->notify, f->events, &error))
    {
      /* cannot follow the events any more: the full re-read path from now on */
      g_warning ("Mount watch: %s; following the mount table with full re-reads from now on",
                 error->message);
      fall_back (self);
      return;
    }
  for (guint i = 0; i < f->events->len; i++)
    follow_event (self, &g_array_index (f->events, VcmMntEvent, i));
  f->batch_events += f->events->len;
  if (f->events->len > 0)
    f->events_seen = TRUE;
  if (!self->read_in_flight)
    f->events_uncertain = FALSE;
}

/* A mountinfo wake-up: something changed. Mount events explain attaches and
 * detaches; if there were none, it was a remount (or the like): check now.
 * If there were, a remount may have come with them: check a little later. */
static void
handle_wakeup (VcmWatch *self)
{
  Fanotify *f = F (self);

  f->wakeup_pending = FALSE;
  fa_drain (self);
  if (!FOLLOWING (self))
    return;
  if (!f->events_seen)
    {
      /* a change no attach or detach explains (a remount, a change of
       * propagation): which mount it touched is unknown, the table is
       * read in full when next asked for */
      self->stale = TRUE;
      vcm_remount_check_start (f->check);
      return;
    }
  f->events_seen = FALSE;
  vcm_remount_check_owe (f->check);
}

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
  Fanotify *f = F (self);

  f->coalesce_source = 0;
  if (f->notify_source == 0)
    f->notify_source = g_unix_fd_add (vcm_mnt_notify_get_fd (f->notify), G_IO_IN, on_notify_event, self);
  vcm_watch_watch_monitor (self);
  if (f->wakeup_pending)
    handle_wakeup (self);
  else
    fa_drain (self);
  f->coalesce_ms =
    f->batch_events >= BATCH_LARGE ? MIN (f->coalesce_ms * 2, COALESCE_MAX_MS) : COALESCE_MS;
  f->batch_events = 0;
  return G_SOURCE_REMOVE;
}

/* Events or a wake-up arrived: read them a moment from now, with whatever
 * follows meanwhile (a burst is then read in few batches, not one wake-up
 * per mount). The fds are not watched until then (they stay readable). */
static void
coalesce (VcmWatch *self)
{
  Fanotify *f = F (self);

  g_clear_handle_id (&f->notify_source, g_source_remove);
  g_clear_handle_id (&self->monitor_source, g_source_remove);
  if (f->coalesce_source == 0)
    f->coalesce_source = g_timeout_add (f->coalesce_ms, on_coalesce_timeout, self);
}

static gboolean
on_notify_event (int fd, GIOCondition condition, gpointer user_data)
{
  VcmWatch *self = user_data;

  F (self)->notify_source = 0;
  coalesce (self);
  return G_SOURCE_REMOVE;
}

static gboolean
fa_on_wakeup (VcmWatch *self)
{
  F (self)->wakeup_pending = TRUE;
  self->monitor_source = 0; /* watched again once the batch is handled */
  coalesce (self);
  return G_SOURCE_REMOVE;
}

/* Follows the events pending and owes no check of the tracked rootfs, so
 * the snapshot and Generation are as of this call. */
static void
fa_follow (VcmWatch *self)
{
  Fanotify *f = F (self);

  fa_drain (self);
  if (FOLLOWING (self) && vcm_watch_monitor_pending (self))
    {
      mnt_monitor_event_cleanup (self->monitor);
      f->wakeup_pending = TRUE;
    }
  if (FOLLOWING (self) && f->wakeup_pending)
    handle_wakeup (self);
  /* a check owed or still in a worker: done here, its result is needed now */
  if (FOLLOWING (self) && vcm_remount_check_pending (f->check))
    vcm_remount_check_now (f->check);
}

/* ---- the source's interface ---------------------------------------------- */

static void
fa_read_begun (VcmWatch *self)
{
  Fanotify *f = F (self);

  f->reread_wanted = FALSE;
  /* the read has what the events so far say; those of changes made while it
   * reads may or may not be in it */
  g_array_set_size (f->table_changes, 0);
  f->events_uncertain = TRUE;
}

static gboolean
fa_older_work_pending (VcmWatch *self)
{
  return vcm_remount_check_older_work_pending (F (self)->check);
}

static void
fa_read_landed (VcmWatch *self)
{
  if (F (self)->reread_wanted)
    vcm_watch_schedule_refresh (self);
  vcm_remount_check_forget_local_if_idle (F (self)->check);
}

/* The table follows the events: patched with the mounts they named since,
 * read in full only when they cannot say (an overflow, a change no event
 * explains, too many changes). */
static VcmMountTable *
fa_get_table (VcmWatch *self, gboolean force_refresh)
{
  g_autoptr (GError) error = NULL;
  Fanotify *f = F (self);

  fa_follow (self);
  if (FOLLOWING (self) && !force_refresh && !self->stale && !f->reread_wanted && !self->read_in_flight &&
      f->table_changes->len > 0)
    {
      VcmMountTable *patched = vcm_mount_table_patch (
        self->table, (const VcmMountChange *) f->table_changes->data, f->table_changes->len, &error);

      g_array_set_size (f->table_changes, 0);
      if (patched != NULL)
        {
          self->table = patched;
          g_clear_pointer (&self->table_text, g_bytes_unref);
          f->patch_count++;
        }
      else
        {
          g_debug ("Mount watch: reading the whole table: %s", error->message);
          self->stale = TRUE;
        }
    }
  return vcm_watch_reader_get_table (self, force_refresh);
}

static GPtrArray *
fa_list_rootfs (VcmWatch *self, const char *sandbox_id)
{
  g_autoptr (GError) error = NULL;

  fa_follow (self);
  if (!FOLLOWING (self))
    return self->source->list_rootfs (self, sandbox_id);
  /* lost events (an overflow): the snapshot is right only after a full read */
  if ((F (self)->reread_wanted || self->read_in_flight) && !vcm_watch_refresh_now (self, &error))
    g_warning ("Cannot re-read the mount table, listing from the last one: %s", error->message);
  return vcm_ledger_list (self->ledger, sandbox_id);
}

/* TRUE: @t's mount is still where it was (its read-only flag taken again,
 * a remount raises no event). */
static gboolean
fa_tracked_still_there (VcmWatch *self, VcmTracked *t)
{
  g_autofree char *point = NULL;
  VcmSysMountBrief m;
  int errsv = 0;

  if (t == NULL || t->rootfs->unique_id == 0 ||
      !vcm_sys_statmount_brief (t->rootfs->unique_id, &m, &point, &errsv) ||
      !g_str_equal (point, t->rootfs->mount_point))
    return FALSE;
  if (m.read_only != t->rootfs->read_only)
    {
      t->rootfs->read_only = m.read_only;
      vcm_ledger_emit (self->ledger, VCM_CHANGE_REMOUNTED, t->rootfs, NULL);
    }
  return TRUE;
}

static gboolean
fa_sync_live (VcmWatch *self, const char *sandbox_id, const char *container_id)
{
  g_autofree char *k = NULL;
  g_autofree char *path = NULL;
  g_autoptr (VcmRootfsRecord) now = NULL;
  g_autoptr (GHashTable) subs = NULL;
  ProbeResult result;

  if (!vcm_validate_id ("sandbox_id", sandbox_id, NULL) ||
      !vcm_validate_id ("container_id", container_id, NULL))
    return FALSE;
  /* the kernel queues a mount's event before the syscall returns: with the
   * queue drained, what is known of this rootfs's mounts is current */
  fa_drain (self);
  if (!FOLLOWING (self) || F (self)->reread_wanted)
    return FALSE;
  k = vcm_ledger_key (sandbox_id, container_id);
  if (fa_tracked_still_there (self, vcm_ledger_lookup (self->ledger, k)))
    {
      vcm_watch_record_local (self, k);
      return TRUE;
    }
  /* not tracked, or gone: by path, only as far as the caches know it; else
   * the manager probes off the main loop */
  path = g_build_filename (self->shared_dir, sandbox_id, container_id, VCM_ROOTFS_DIR, NULL);
  result = vcm_watch_probe_path (path, sandbox_id, container_id, TRUE, &now, &subs);
  if (result == PROBE_WOULD_BLOCK)
    return FALSE;
  vcm_watch_probe_apply (self, k, result, now, subs);
  return TRUE;
}

static gint
compare_u64 (gconstpointer a, gconstpointer b)
{
  guint64 x = *(const guint64 *) a, y = *(const guint64 *) b;

  return x < y ? -1 : (x > y ? 1 : 0);
}

static GArray *
fa_get_subtree (VcmWatch *self, guint64 unique_id)
{
  g_autoptr (GArray) ids = NULL;
  VcmTracked *t;
  GHashTableIter iter;
  gpointer key;

  fa_drain (self);
  if (!FOLLOWING (self) || F (self)->reread_wanted)
    return NULL;
  t = g_hash_table_lookup (F (self)->by_unique, &unique_id);
  if (t == NULL || t->rootfs->unique_id != unique_id)
    return NULL;
  ids = g_array_new (FALSE, FALSE, sizeof (guint64));
  if (t->source_data != NULL)
    {
      g_hash_table_iter_init (&iter, t->source_data);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        g_array_append_val (ids, ((SubId *) key)->unique);
      g_array_sort (ids, compare_u64);
    }
  g_array_prepend_val (ids, unique_id);
  return g_steal_pointer (&ids);
}

static void
fa_noted_unmounted (VcmWatch *self, const char *sandbox_id, const char *container_id, guint64 mount_id)
{
  /* a mount stacked below the one detached is a rootfs now: its mount raised
   * no event just now, so look (one open(2) when nothing is there) */
  vcm_watch_fanotify_probe (self, sandbox_id, container_id);
}

static void
fa_stop (VcmWatch *self)
{
  Fanotify *f = F (self);

  g_clear_handle_id (&f->notify_source, g_source_remove);
  g_clear_handle_id (&f->coalesce_source, g_source_remove);
  vcm_remount_check_stop (f->check);
  f->wakeup_pending = FALSE;
}

void
vcm_watch_fanotify_free (gpointer state)
{
  Fanotify *f = state;

  if (f == NULL)
    return;
  g_clear_handle_id (&f->notify_source, g_source_remove);
  g_clear_handle_id (&f->coalesce_source, g_source_remove);
  vcm_remount_check_free (f->check);
  g_clear_pointer (&f->notify, vcm_mnt_notify_free);
  g_hash_table_unref (f->by_unique);
  g_hash_table_unref (f->parents);
  g_hash_table_unref (f->covers);
  g_hash_table_unref (f->old_ids);
  g_array_unref (f->events);
  g_array_unref (f->table_changes);
  g_hash_table_unref (f->probes);
  g_queue_free_full (f->probes_waiting, g_free);
  g_free (f);
}

static const VcmWatchSource fanotify_source = {
  .name = "fanotify",
  .notifications = TRUE,
  .drain = fa_drain,
  .follow = fa_follow,
  .on_wakeup = fa_on_wakeup,
  .read_begun = fa_read_begun,
  .read_landed = fa_read_landed,
  .older_work_pending = fa_older_work_pending,
  .get_table = fa_get_table,
  .list_rootfs = fa_list_rootfs,
  .sync_live = fa_sync_live,
  .get_subtree = fa_get_subtree,
  .noted_unmounted = fa_noted_unmounted,
  .stop = fa_stop,
  .free = vcm_watch_fanotify_free,
};

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

gboolean
vcm_watch_fanotify_start (VcmWatch *self, GError **error)
{
  g_autoptr (VcmMntNotify) notify = NULL;
  Fanotify *f;

  if (!statmount_works (error))
    return FALSE;
  notify = vcm_mnt_notify_new (error);
  if (notify == NULL)
    return FALSE;
  f = g_new0 (Fanotify, 1);
  f->notify = g_steal_pointer (&notify);
  f->coalesce_ms = COALESCE_MS;
  f->events = g_array_new (FALSE, FALSE, sizeof (VcmMntEvent));
  f->by_unique = g_hash_table_new (g_int64_hash, g_int64_equal);
  f->parents = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  f->covers = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  f->old_ids = g_hash_table_new (g_direct_hash, g_direct_equal);
  f->table_changes = g_array_new (FALSE, FALSE, sizeof (VcmMountChange));
  f->check = vcm_remount_check_new (self);
  f->probes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  f->probes_waiting = g_queue_new ();
  f->notify_source = g_unix_fd_add (vcm_mnt_notify_get_fd (f->notify), G_IO_IN, on_notify_event, self);
  self->fanotify_state = f;
  self->source_state = f;
  self->source = &fanotify_source;
  vcm_ledger_set_index (self->ledger, &fanotify_index, self);
  return TRUE;
}
