/* vcm-watch-reader: the watch's table cache and its full reads of the
 * kernel's mount table (mountinfo, parsed by libmount), at once or in a
 * worker thread, each diffed into the ledger; libmount's monitor, whose
 * wake-ups say the cache may be stale (each handed to the change source). Every read has a sequence
 * number: a reading lands only if nothing newer did, and leaves alone the
 * rootfs the service changed after it began. Both change sources use it:
 * the mountinfo one for every change, the fanotify one at start and when
 * events cannot say (an overflow, a change no event explains). A read whose
 * text is that of the table cached (the read after the service's own mount
 * and unmount, say) takes that table again instead of parsing it. */
#include "config.h"

#include <poll.h>
#include <time.h>
#include <glib-unix.h>

#include "vcm-error.h"
#include "vcm-memory.h"
#include "vcm-watch-private.h"

#define COALESCE_MS 10
#define PACE_FACTOR 12     /* a paced read waits 12 times the CPU the last one took */
#define PACE_MAX_US 800000 /* but no longer: a foreign change is told within a second */

/* One read of the kernel's table and what it says about the rootfs set:
 * computed in a worker thread (it only reads), applied in the main thread. */
typedef struct {
  guint64 seq;
  GBytes *text; /* what the kernel said */
  VcmMountTable *table;
  GPtrArray *rootfs;    /* VcmRootfsRecord, sorted */
  GPtrArray *submounts; /* parallel to rootfs: GHashTable sets of mount IDs, or NULL */
  gint64 cpu_us;        /* the reading thread's CPU time for it */
} Reading;

typedef struct {
  char *shared_dir;
  guint64 seq;
  GBytes *last_text;         /* the text of the table cached, or NULL */
  VcmMountTable *last_table; /* that table */
} ReadArgs;

static void
set_unref (gpointer set)
{
  if (set != NULL)
    g_hash_table_unref (set);
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
reading_free (gpointer data)
{
  Reading *r = data;

  g_clear_pointer (&r->table, vcm_mount_table_unref);
  g_clear_pointer (&r->text, g_bytes_unref);
  g_clear_pointer (&r->rootfs, g_ptr_array_unref);
  g_clear_pointer (&r->submounts, g_ptr_array_unref);
  g_free (r);
}

/* Reads the kernel's table and derives the rootfs set. Thread-safe. When
 * the kernel's text is @last_text, @last_table is taken instead of parsing it. */
static Reading *
reading_take (
  const char *shared_dir, guint64 seq, GBytes *last_text, VcmMountTable *last_table, GError **error)
{
  g_autoptr (GBytes) text = NULL;
  VcmMountTable *table;
  Reading *r;

  if (!vcm_mount_table_read_kernel_text (&text, error))
    return NULL;
  if (last_text != NULL && last_table != NULL && g_bytes_equal (text, last_text))
    table = vcm_mount_table_ref (last_table);
  else if ((table = vcm_mount_table_new_from_text (text, error)) == NULL)
    return NULL;
  r = g_new0 (Reading, 1);
  r->seq = seq;
  r->text = g_steal_pointer (&text);
  r->table = table;
  r->rootfs = vcm_rootfs_list_in_table (shared_dir, table, NULL);
  vcm_rootfs_fill_unique_ids (r->rootfs);
  r->submounts = g_ptr_array_new_full (r->rootfs->len, (GDestroyNotify) set_unref);
  for (guint i = 0; i < r->rootfs->len; i++)
    g_ptr_array_add (r->submounts,
                     submount_set (table, ((VcmRootfsRecord *) r->rootfs->pdata[i])->mount_id));
  return r;
}

static void
take_table (VcmWatch *self, Reading *r)
{
  /* a large reading, or the large table it replaces, leaves megabytes of
   * freed heap behind: given back once the burst is over */
  if (vcm_mount_table_get_size (r->table) >= VCM_MEMORY_LARGE_WORK ||
      (self->table != NULL && vcm_mount_table_get_size (self->table) >= VCM_MEMORY_LARGE_WORK))
    vcm_memory_trim_soon ();
  g_clear_pointer (&self->table, vcm_mount_table_unref);
  self->table = vcm_mount_table_ref (r->table);
  g_clear_pointer (&self->table_text, g_bytes_unref);
  /* kept where reads are frequent (a megabyte at 10,000 mounts) */
  if (!self->source->notifications)
    self->table_text = g_bytes_ref (r->text);
  self->applied_seq = r->seq;
  self->refresh_count++;
}

static void
apply (VcmWatch *self, Reading *r)
{
  take_table (self, r);
  vcm_ledger_diff_all (self->ledger, r->seq, r->rootfs, r->submounts, TRUE);
  vcm_ledger_prune_local (self->ledger, self->applied_seq);
}

/* ---- libmount's monitor: a wake-up on every change of the table --------- */

static gboolean
on_monitor_event (int fd, GIOCondition condition, gpointer user_data)
{
  VcmWatch *self = user_data;

  mnt_monitor_event_cleanup (self->monitor);
  return self->source->on_wakeup (self);
}

void
vcm_watch_watch_monitor (VcmWatch *self)
{
  if (self->monitor_source == 0)
    self->monitor_source = g_unix_fd_add (self->monitor_fd, G_IO_IN, on_monitor_event, self);
}

gboolean
vcm_watch_monitor_pending (VcmWatch *self)
{
  struct pollfd pfd = { .fd = self->monitor_fd, .events = POLLIN };

  return poll (&pfd, 1, 0) > 0;
}

gboolean
vcm_watch_monitor_start (VcmWatch *self, GError **error)
{
  int r;

  self->monitor = mnt_new_monitor ();
  if (self->monitor == NULL)
    {
      g_set_error (error, VCM_ERROR, VCM_ERROR_FAILED, "cannot create a libmount monitor");
      return FALSE;
    }
  r = mnt_monitor_enable_kernel (self->monitor, TRUE);
  if (r == 0)
    self->monitor_fd = mnt_monitor_get_fd (self->monitor);
  if (r < 0 || self->monitor_fd < 0)
    {
      g_set_error (error, VCM_ERROR, VCM_ERROR_FAILED, "cannot watch the kernel's mount table: %s",
                   g_strerror (r < 0 ? -r : -self->monitor_fd));
      return FALSE;
    }
  vcm_watch_watch_monitor (self);
  return TRUE;
}

/* ---- reads ---------------------------------------------------------------- */

void
vcm_watch_record_local (VcmWatch *self, const char *key)
{
  if (self->source->older_work_pending (self))
    vcm_ledger_note_local (self->ledger, key, self->read_seq);
}

/* Begins a read: wake-ups drained first, so a change after this point raises a new one. */
guint64
vcm_watch_begin_read (VcmWatch *self)
{
  g_clear_handle_id (&self->refresh_source, g_source_remove);
  if (self->monitor != NULL)
    mnt_monitor_event_cleanup (self->monitor);
  self->stale = FALSE;
  if (self->source != NULL)
    self->source->read_begun (self);
  return ++self->read_seq;
}

gboolean
vcm_watch_refresh_now (VcmWatch *self, GError **error)
{
  Reading *r =
    reading_take (self->shared_dir, vcm_watch_begin_read (self), self->table_text, self->table, error);

  if (r == NULL)
    return FALSE;
  apply (self, r);
  reading_free (r);
  return TRUE;
}

gboolean
vcm_watch_read_first (VcmWatch *self, GError **error)
{
  Reading *first = reading_take (self->shared_dir, vcm_watch_begin_read (self), NULL, NULL, error);

  if (first == NULL)
    return FALSE;
  take_table (self, first);
  vcm_ledger_diff_all (self->ledger, first->seq, first->rootfs, first->submounts, FALSE);
  reading_free (first);
  return TRUE;
}

static void
read_args_free (gpointer data)
{
  ReadArgs *args = data;

  g_free (args->shared_dir);
  g_clear_pointer (&args->last_text, g_bytes_unref);
  g_clear_pointer (&args->last_table, vcm_mount_table_unref);
  g_free (args);
}

static gint64
thread_cpu_us (void)
{
  struct timespec ts;

  if (clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts) < 0)
    return 0;
  return (gint64) ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}

static void
read_in_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  const ReadArgs *args = task_data;
  GError *error = NULL;
  gint64 begun = thread_cpu_us ();
  Reading *r = reading_take (args->shared_dir, args->seq, args->last_text, args->last_table, &error);

  if (r == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  r->cpu_us = thread_cpu_us () - begun;
  g_task_return_pointer (task, r, reading_free);
}

static void
on_read_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  VcmWatch *self = VCM_WATCH (source);
  g_autoptr (GError) error = NULL;
  Reading *r = g_task_propagate_pointer (G_TASK (result), &error);
  gint64 cpu_us = r != NULL ? r->cpu_us : 0;

  self->read_in_flight = FALSE;
  if (g_cancellable_is_cancelled (self->cancellable))
    {
      g_clear_pointer (&r, reading_free);
      return; /* stopped meanwhile */
    }
  if (r == NULL)
    g_warning ("Cannot re-read the mount table: %s", error->message);
  else
    {
      gint64 begun = thread_cpu_us ();

      if (r->seq > self->applied_seq) /* nothing newer landed */
        apply (self, r);
      g_clear_pointer (&r, reading_free); /* (the table it replaced goes here too) */
      /* the read's cost, here and in the worker, paces the next one */
      self->read_cpu_us = cpu_us + thread_cpu_us () - begun;
      self->paced_until = g_get_monotonic_time () + MIN (PACE_FACTOR * self->read_cpu_us, PACE_MAX_US);
    }
  self->source->read_landed (self);
}

static void
start_async_read (VcmWatch *self)
{
  GTask *task;
  ReadArgs *args;

  if (self->read_in_flight)
    return;                   /* its landing looks again */
  self->source->drain (self); /* what the events said so far is in the read */
  args = g_new0 (ReadArgs, 1);
  args->shared_dir = g_strdup (self->shared_dir);
  args->seq = vcm_watch_begin_read (self);
  if (self->table_text != NULL)
    {
      args->last_text = g_bytes_ref (self->table_text);
      args->last_table = vcm_mount_table_ref (self->table);
    }
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

/* One full read in a worker thread a few milliseconds from now (the kernel
 * coalesces wake-ups, and so does this). */
void
vcm_watch_schedule_refresh (VcmWatch *self)
{
  if (self->refresh_source == 0 && !self->read_in_flight)
    {
      self->refresh_due = g_get_monotonic_time () + COALESCE_MS * 1000;
      self->refresh_source = g_timeout_add (COALESCE_MS, on_refresh_timeout, self);
    }
}

void
vcm_watch_schedule_paced_read (VcmWatch *self, guint delay_ms)
{
  gint64 now = g_get_monotonic_time ();
  gint64 due = MAX (now + (gint64) delay_ms * 1000, self->paced_until);

  if (self->read_in_flight)
    return; /* its landing looks again */
  if (self->refresh_source != 0 && self->refresh_due <= due)
    return; /* one comes sooner */
  g_clear_handle_id (&self->refresh_source, g_source_remove);
  self->refresh_due = due;
  self->refresh_source = g_timeout_add ((guint) ((due - now + 999) / 1000), on_refresh_timeout, self);
}

VcmMountTable *
vcm_watch_reader_get_table (VcmWatch *self, gboolean force_refresh)
{
  g_autoptr (GError) error = NULL;

  /* A read in flight began before this call but has not landed: the cached
   * table may miss a change the caller has seen, so read now. */
  if ((force_refresh || self->stale || self->read_in_flight || vcm_watch_monitor_pending (self)) &&
      !vcm_watch_refresh_now (self, &error))
    g_warning ("Cannot re-read the mount table, answering from the last one: %s", error->message);
  return vcm_mount_table_ref (self->table);
}
