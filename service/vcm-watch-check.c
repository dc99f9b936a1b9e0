/* vcm-watch-check: the remount checker (see vcm-watch-check.h). */
#include "config.h"

#include <errno.h>

#include "vcm-memory.h"
#include "vcm-sys.h"
#include "vcm-watch-fanotify-private.h"

#define CHECK_MS       200 /* at least; CHECK_FACTOR times as long as the last check took */
#define CHECK_FACTOR   50  /* ~2 % of a core at most, however many rootfs */
#define CHECK_MAX_MS   2000
#define CHECK_SYNC_MAX 64 /* fewer tracked rootfs are checked in the main thread */

struct _VcmRemountCheck {
  VcmWatch *watch; /* owns the check */
  guint source;
  gboolean owed;      /* the tracked rootfs must be statmount'ed */
  gboolean in_flight; /* a check of the tracked rootfs in a worker thread */
  gboolean again;     /* another was asked for meanwhile */
  guint interval;     /* ms between checks owed to mount events */
  guint epoch;        /* bumped by a check in the main thread: older results
                       * from a worker are void */
};

/* The check in a worker thread (statmount only reads): with thousands of
 * rootfs it takes milliseconds the main loop should not wait for. */
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

VcmRemountCheck *
vcm_remount_check_new (VcmWatch *watch)
{
  VcmRemountCheck *self = g_new0 (VcmRemountCheck, 1);

  self->watch = watch;
  self->interval = CHECK_MS;
  return self;
}

void
vcm_remount_check_stop (VcmRemountCheck *self)
{
  g_clear_handle_id (&self->source, g_source_remove);
}

void
vcm_remount_check_free (VcmRemountCheck *self)
{
  if (self == NULL)
    return;
  vcm_remount_check_stop (self);
  g_free (self);
}

gboolean
vcm_remount_check_pending (VcmRemountCheck *self)
{
  return self->owed || self->in_flight;
}

gboolean
vcm_remount_check_older_work_pending (VcmRemountCheck *self)
{
  /* with mount notifications only a read or a check in flight can be older */
  return self->watch->read_in_flight || self->in_flight;
}

void
vcm_remount_check_forget_local_if_idle (VcmRemountCheck *self)
{
  if (FOLLOWING (self->watch) && !vcm_remount_check_older_work_pending (self))
    vcm_ledger_forget_local (self->watch->ledger);
}

static void
probe_keys (VcmWatch *watch, GPtrArray *keys)
{
  for (guint i = 0; i < keys->len; i++)
    {
      g_auto (GStrv) ids = g_strsplit (keys->pdata[i], "/", 2);

      vcm_watch_fanotify_probe (watch, ids[0], ids[1]);
    }
}

void
vcm_remount_check_now (VcmRemountCheck *self)
{
  g_autoptr (GPtrArray) probe = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GList) tracked = vcm_ledger_get_tracked (self->watch->ledger);

  g_clear_handle_id (&self->source, g_source_remove);
  self->owed = FALSE;
  self->epoch++; /* a check in flight began earlier: its results are void */
  for (GList *l = tracked; l != NULL; l = l->next)
    {
      VcmTracked *t = l->data;
      VcmSysMountBrief m;
      int errsv = 0;

      if (t->rootfs->unique_id == 0 || !vcm_sys_statmount_brief (t->rootfs->unique_id, &m, NULL, &errsv))
        g_ptr_array_add (probe, g_strdup (t->key));
      else if (m.read_only != t->rootfs->read_only)
        {
          t->rootfs->read_only = m.read_only;
          vcm_ledger_emit (self->watch->ledger, VCM_CHANGE_REMOUNTED, t->rootfs, NULL);
        }
    }
  g_ptr_array_sort (probe, (GCompareFunc) g_strcmp0);
  probe_keys (self->watch, probe);
}

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

static gboolean
on_check_timeout (gpointer user_data)
{
  VcmRemountCheck *self = user_data;
  VcmWatch *watch = self->watch;

  self->source = 0;
  watch->source->drain (watch);
  if (FOLLOWING (watch))
    vcm_remount_check_start (self);
  return G_SOURCE_REMOVE;
}

/* Applies what a worker's check found, unless newer knowledge stands. */
static void
apply_check (VcmRemountCheck *self, Check *c, GPtrArray *probe)
{
  VcmLedger *ledger = self->watch->ledger;

  for (guint i = 0; i < c->items->len; i++)
    {
      const CheckItem *it = &g_array_index (c->items, CheckItem, i);
      VcmTracked *t = vcm_ledger_lookup (ledger, it->key);

      if (vcm_ledger_changed_since (ledger, it->key, c->seq) || t == NULL ||
          t->rootfs->unique_id != it->unique)
        continue; /* changed since the check began: the newer knowledge stands */
      if (it->state == -1)
        g_ptr_array_add (probe, g_strdup (it->key));
      else if (it->state == -2)
        vcm_watch_fanotify_want_reread (self->watch, "statmount of a tracked rootfs failed");
      else if ((it->state == 1) != t->rootfs->read_only)
        {
          t->rootfs->read_only = it->state == 1;
          vcm_ledger_emit (ledger, VCM_CHANGE_REMOUNTED, t->rootfs, NULL);
        }
    }
}

static void
on_check_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  VcmRemountCheck *self = user_data;
  VcmWatch *watch = VCM_WATCH (source);
  Check *c = g_task_get_task_data (G_TASK (result));
  g_autoptr (GPtrArray) probe = g_ptr_array_new_with_free_func (g_free);

  self->in_flight = FALSE;
  if (g_cancellable_is_cancelled (watch->cancellable))
    return; /* stopped meanwhile */
  /* checks owed to mount events come at most this often: at most ~2 % of
   * the time goes to them, however many rootfs there are */
  self->interval =
    (guint) CLAMP ((g_get_monotonic_time () - c->begun) / 1000 * CHECK_FACTOR, CHECK_MS, CHECK_MAX_MS);
  if (c->epoch == self->epoch && FOLLOWING (watch))
    apply_check (self, c, probe);
  probe_keys (watch, probe);
  if (c->items->len >= VCM_MEMORY_LARGE_WORK)
    vcm_memory_trim_soon ();
  vcm_remount_check_forget_local_if_idle (self);
  if (self->again && FOLLOWING (watch))
    {
      self->again = FALSE;
      self->owed = TRUE;
      if (self->source == 0)
        self->source = g_timeout_add (self->interval, on_check_timeout, self);
    }
}

void
vcm_remount_check_start (VcmRemountCheck *self)
{
  g_autoptr (GPtrArray) probe = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GList) tracked = NULL;
  VcmWatch *watch = self->watch;
  Check *c;
  GTask *task;

  if (self->in_flight)
    {
      self->again = TRUE; /* this one may have begun before the change */
      return;
    }
  if (vcm_ledger_get_size (watch->ledger) < CHECK_SYNC_MAX)
    {
      /* a few statmounts: cheaper here than two thread switches */
      vcm_remount_check_now (self);
      return;
    }
  g_clear_handle_id (&self->source, g_source_remove);
  self->owed = FALSE;
  c = g_new0 (Check, 1);
  c->seq = ++watch->read_seq;
  c->epoch = self->epoch;
  c->begun = g_get_monotonic_time ();
  c->items = g_array_sized_new (FALSE, FALSE, sizeof (CheckItem), vcm_ledger_get_size (watch->ledger));
  tracked = vcm_ledger_get_tracked (watch->ledger);
  for (GList *l = tracked; l != NULL; l = l->next)
    {
      VcmTracked *t = l->data;
      CheckItem it = { .key = g_strdup (t->key), .unique = t->rootfs->unique_id, .state = -2 };

      if (t->rootfs->unique_id == 0)
        {
          g_ptr_array_add (probe, it.key); /* never identified: by path, now */
          continue;
        }
      g_array_append_val (c->items, it);
    }
  self->in_flight = TRUE;
  task = g_task_new (watch, watch->cancellable, on_check_done, self); /* holds the watch */
  g_task_set_task_data (task, c, check_free);
  g_task_run_in_thread (task, check_in_thread);
  g_object_unref (task);
  probe_keys (watch, probe);
}

void
vcm_remount_check_owe (VcmRemountCheck *self)
{
  self->owed = TRUE;
  if (self->in_flight)
    self->again = TRUE; /* it may have begun before the change */
  else if (self->source == 0)
    self->source = g_timeout_add (MAX (self->interval, CHECK_MS), on_check_timeout, self);
}
