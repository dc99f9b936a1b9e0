/* vcm-watch: the service's view of the kernel's mount table, as one object
 * the rootfs manager holds. It puts the parts together: the ledger
 * (vcm-ledger: the rootfs snapshot, Generation, changes held while the owner
 * works), the table cache with its full reads and libmount's monitor of
 * mountinfo (vcm-watch-reader.c: a wake-up on every change, remounts
 * included) and one change source, chosen at start: mount notifications
 * (vcm-watch-fanotify.c, Linux 6.15, with statmount(2) and listmount(2)
 * allowed) or mountinfo re-reads (vcm-watch-mountinfo.c). The notification
 * source falls back to re-reads if its events can no longer be read. */
#include "config.h"

#include "vcm-testing.h"
#include "vcm-watch-private.h"

G_DEFINE_FINAL_TYPE (VcmWatch, vcm_watch, G_TYPE_OBJECT)

enum {
  SIGNAL_CHANGED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

static void
tell (const VcmChange *change, gpointer user_data)
{
  g_signal_emit (user_data, signals[SIGNAL_CHANGED], 0, change);
}

void
vcm_watch_stop (VcmWatch *self)
{
  /* work in worker threads holds a reference: it lands after this and does
   * nothing, the cancellable being cancelled; the object goes after it (its
   * last reference may then be dropped in that worker thread) */
  g_cancellable_cancel (self->cancellable);
  if (self->source != NULL)
    self->source->stop (self);
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
  g_clear_pointer (&self->table_text, g_bytes_unref);
  g_clear_pointer (&self->ledger, vcm_ledger_free); /* unindexes: before the source goes */
  g_clear_pointer (&self->fanotify_state, vcm_watch_fanotify_free);
  g_clear_pointer (&self->mountinfo_state, vcm_watch_mountinfo_free);
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
  self->ledger = vcm_ledger_new (tell, self);
}

/* Mount notifications if this kernel (and filter) has them; said once in the
 * log, in words a reader of the journal can match on: "Mount watch: ...". */
static void
choose_source (VcmWatch *self)
{
  g_autoptr (GError) why = NULL;

  if (vcm_watch_fanotify_start (self, &why))
    {
      g_message ("Mount watch: following mount notifications (fanotify), reading only the "
                 "mounts they name");
      return;
    }
  vcm_watch_mountinfo_start (self);
  if (g_error_matches (why, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED))
    g_message ("Mount watch: no mount notifications here (%s); re-reading the mount table "
               "on every change not its own",
               why->message);
  else
    g_warning ("Mount watch: cannot use mount notifications (%s); re-reading the mount table "
               "on every change not its own",
               why->message);
}

VcmWatch *
vcm_watch_new (const char *shared_dir, GError **error)
{
  g_autoptr (VcmWatch) self = g_object_new (VCM_TYPE_WATCH, NULL);

  self->shared_dir = g_strdup (shared_dir);
  /* mount notifications first: nothing that happens during the first read is missed */
  choose_source (self);
  if (!vcm_watch_monitor_start (self, error))
    return NULL;
  if (!vcm_watch_read_first (self, error))
    return NULL;
  return g_steal_pointer (&self);
}

void
vcm_watch_hold (VcmWatch *self)
{
  vcm_ledger_hold (self->ledger);
}

void
vcm_watch_release (VcmWatch *self)
{
  vcm_ledger_release (self->ledger);
}

VcmMountTable *
vcm_watch_get_table (gpointer watch, gboolean force_refresh)
{
  VcmWatch *self = watch;

  return self->source->get_table (self, force_refresh);
}

guint64
vcm_watch_get_generation (VcmWatch *self)
{
  return vcm_ledger_get_generation (self->ledger);
}

guint
vcm_watch_get_refresh_count (VcmWatch *self)
{
  return self->refresh_count;
}

static void noted_own (VcmWatch *self, const char *key);

void
vcm_watch_note_mounted (VcmWatch *self, const VcmRootfsRecord *rootfs)
{
  g_autofree char *k = vcm_ledger_key (rootfs->sandbox_id, rootfs->container_id);

  vcm_ledger_note_mounted (self->ledger, rootfs);
  vcm_watch_record_local (self, k);
  noted_own (self, k);
}

void
vcm_watch_note_submounts_unknown (VcmWatch *self)
{
  if (self->source->submounts_unknown != NULL)
    self->source->submounts_unknown (self);
}

void
vcm_watch_note_unmounted (VcmWatch *self,
                          const char *sandbox_id,
                          const char *container_id,
                          const char *const *detached)
{
  g_autofree char *k = vcm_ledger_key (sandbox_id, container_id);
  VcmTracked *t = vcm_ledger_lookup (self->ledger, k);
  guint64 mount_id = t != NULL ? t->rootfs->mount_id : 0;

  vcm_ledger_note_unmounted (self->ledger, sandbox_id, container_id, detached);
  vcm_watch_record_local (self, k);
  if (self->source->noted_unmounted != NULL)
    self->source->noted_unmounted (self, sandbox_id, container_id, mount_id);
  noted_own (self, k);
}

void
vcm_watch_sync_rootfs (VcmWatch *self,
                       const char *sandbox_id,
                       const char *container_id,
                       const VcmRootfsRecord *now,
                       GHashTable *submounts)
{
  g_autofree char *k = vcm_ledger_key (sandbox_id, container_id);

  vcm_ledger_diff_one (self->ledger, k, now, submounts, TRUE);
  vcm_watch_record_local (self, k); /* readings begun before this are older, for this rootfs */
}

GPtrArray *
vcm_watch_list_rootfs (VcmWatch *self, const char *sandbox_id)
{
  return self->source->list_rootfs (self, sandbox_id);
}

gboolean
vcm_watch_uses_notifications (VcmWatch *self)
{
  return self->source->notifications;
}

gboolean
vcm_watch_sync_live (VcmWatch *self, const char *sandbox_id, const char *container_id)
{
  /* without notifications, a read in flight may hold a change at this
   * rootfs the snapshot lacks, and will leave the rootfs alone while the
   * service changes it: the caller probes */
  if (self->read_in_flight && !self->source->notifications)
    return FALSE;
  return self->source->sync_live != NULL && self->source->sync_live (self, sandbox_id, container_id);
}

GArray *
vcm_watch_get_subtree (gpointer watch, guint64 unique_id)
{
  VcmWatch *self = watch;

  return self->source->get_subtree != NULL ? self->source->get_subtree (self, unique_id) : NULL;
}

GStrv
vcm_watch_get_targets (gpointer watch, guint64 mount_id)
{
  VcmWatch *self = watch;

  return self->source->get_targets != NULL ? self->source->get_targets (self, mount_id) : NULL;
}

void
vcm_watch_begin_local (VcmWatch *self, const char *sandbox_id, const char *container_id, gboolean late)
{
  g_autofree char *k = vcm_ledger_key (sandbox_id, container_id);

  vcm_ledger_begin_local (self->ledger, k, late);
}

/* The service's own change is noted: a change source that takes the wake-up
 * it raised as its own may do so only when it is noted as it returns; one
 * made in a worker thread (@key begun late) is noted after the main loop
 * may have seen other changes with it, so its wake-up stays, and is read. */
static void
noted_own (VcmWatch *self, const char *key)
{
  if (self->source->noted_own != NULL && !vcm_ledger_late (self->ledger, key))
    self->source->noted_own (self);
}

void
vcm_watch_end_local (VcmWatch *self, const char *sandbox_id, const char *container_id)
{
  g_autofree char *k = vcm_ledger_key (sandbox_id, container_id);

  if (!vcm_ledger_end_local (self->ledger, k) || g_cancellable_is_cancelled (self->cancellable))
    return;
  /* something was seen there meanwhile (a read that landed left it alone):
   * what is there now, before the next call acts on it; the table is read
   * from the kernel, asking no filesystem */
  if (self->source->notifications)
    vcm_watch_fanotify_probe (self, sandbox_id, container_id);
  else
    {
      g_autoptr (GError) error = NULL;

      self->stale = TRUE;
      if (!vcm_watch_refresh_now (self, &error))
        g_warning ("Cannot re-read the mount table: %s", error->message);
    }
}

void
vcm_watch_own_change_begin (VcmWatch *self)
{
  g_atomic_int_inc (&self->own_in_flight);
}

void
vcm_watch_own_change_end (VcmWatch *self)
{
  /* the mark is taken before the count drops: the main loop, seeing the
   * count at 0, then sees own_taken set */
  vcm_watch_mountinfo_take_own (self);
  g_atomic_int_set (&self->own_taken, 1);
  g_atomic_int_dec_and_test (&self->own_in_flight);
}

GStrv
vcm_watch_get_rootfs_targets (VcmWatch *self,
                              const char *sandbox_id,
                              const char *container_id,
                              guint64 *out_mount_id)
{
  g_autofree char *k = vcm_ledger_key (sandbox_id, container_id);
  VcmTracked *t = vcm_ledger_lookup (self->ledger, k);

  if (t == NULL || t->rootfs->mount_id == 0)
    return NULL;
  *out_mount_id = t->rootfs->mount_id;
  return vcm_watch_get_targets (self, t->rootfs->mount_id);
}

GArray *
vcm_watch_get_rootfs_subtree (VcmWatch *self, const char *sandbox_id, const char *container_id)
{
  g_autofree char *k = vcm_ledger_key (sandbox_id, container_id);
  VcmTracked *t = vcm_ledger_lookup (self->ledger, k);

  if (t == NULL || t->rootfs->unique_id == 0)
    return NULL;
  return vcm_watch_get_subtree (self, t->rootfs->unique_id);
}
