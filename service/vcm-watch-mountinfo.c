/* vcm-watch-mountinfo: the change source without mount notifications
 * (before Linux 6.15, or where a filter refuses fanotify or statmount(2)):
 * libmount's monitor of mountinfo, which wakes on every change of the table
 * and says nothing of which. The service knows its own changes (it made
 * them; the ledger notes them) and does not read the table to learn them:
 * the wake-up its own change raises is taken at once, as it returns, and
 * only a read some time later (VERIFY_MS) makes sure nothing foreign came
 * in the same moment. Any other wake-up is a foreign change: it costs a full
 * read in a worker thread, a few milliseconds later, paced so that reads
 * cost at most a tenth of a core however fast the table changes (the
 * reader's schedule_paced_read); its changes are told within a second, in
 * order. A call of the service on a rootfs while a foreign change is pending
 * reads the table first (through the manager's probe), so what changed there
 * is reported before the service acts; with none pending it reads nothing.
 * Queries get the table re-read when it lacks any change, so answers are
 * never older than the call. A change the service makes in a worker thread
 * takes the change mark there, as the change returns
 * (vcm_watch_own_change_end); a mark seen while such a change is being made
 * is taken as the service's own too, and checked by the later read. */
#include "config.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include "vcm-watch-private.h"

#define COALESCE_MS 10
#define VERIFY_MS   500 /* a read after the service's own changes, within a second */

typedef struct {
  gboolean foreign;         /* a change not of the service's own since the last read began */
  gboolean verify;          /* the service changed the table since the last read began */
  gboolean reading_foreign; /* the read in a worker began with a foreign change pending */
  int fd;                   /* mountinfo, polled by this file alone: see changed_since_look() */
} Mountinfo;

#define M(w) ((Mountinfo *) (w)->mountinfo_state)

/* Whether the table changed since this was last asked. The kernel keeps, per
 * open mountinfo file, the last change a poll of it reported: a file of our
 * own, which nothing else polls (libmount's monitor and the main loop poll
 * theirs), says exactly what changed since each point the watch accounts
 * for: a read begun, a change of the service's own, a foreign one seen. */
static gboolean
mark_taken (int fd)
{
  struct pollfd pfd = { .fd = fd, .events = POLLPRI };

  return fd >= 0 ? poll (&pfd, 1, 0) > 0 && (pfd.revents & (POLLPRI | POLLERR)) != 0 : TRUE;
}

/* The service changed the table in a worker thread, or is changing it: the
 * cached table lacks it, and a read later makes sure nothing foreign came
 * in the same moment. */
static void
own_in_worker (VcmWatch *self)
{
  self->stale = TRUE;
  M (self)->verify = TRUE;
  vcm_watch_schedule_paced_read (self, VERIFY_MS);
}

/* Whether the table changed since this was last asked, but for the
 * service's own changes in worker threads (in the order their end sets
 * them: the mark taken, then own_taken, then the count). */
static gboolean
changed_since_look (VcmWatch *self)
{
  gboolean changed = mark_taken (M (self)->fd);
  gboolean in_flight = g_atomic_int_get (&self->own_in_flight) > 0;
  gboolean taken = g_atomic_int_compare_and_exchange (&self->own_taken, 1, 0);

  if (taken || (in_flight && changed))
    own_in_worker (self);
  /* a change seen while one of the service's own is being made: its own,
   * or, if foreign, found by that read (within a second) */
  return changed && !in_flight;
}

void
vcm_watch_mountinfo_take_own (VcmWatch *self)
{
  Mountinfo *m = g_atomic_pointer_get (&self->mountinfo_state);

  if (m != NULL)
    mark_taken (m->fd);
}

/* Foreign changes pending: read before the next call acts, and soon. */
static void
owe_read (VcmWatch *self)
{
  M (self)->foreign = TRUE;
  self->stale = TRUE;
  vcm_watch_schedule_paced_read (self, COALESCE_MS);
}

/* Whether a foreign change may be pending (seen, or in a read that has not
 * landed); one seen here is remembered. */
static gboolean
foreign_pending (VcmWatch *self)
{
  if (!M (self)->foreign && changed_since_look (self))
    owe_read (self);
  return M (self)->foreign || (self->read_in_flight && M (self)->reading_foreign);
}

static void
mi_nothing (VcmWatch *self)
{
}

/* A wake-up: unless all of it was the service's own, a read is owed; the
 * monitor's fd is then watched again when it begins (one wake-up per read,
 * however fast the table changes). */
static gboolean
mi_on_wakeup (VcmWatch *self)
{
  if (!foreign_pending (self))
    return G_SOURCE_CONTINUE; /* the service's own change, accounted for */
  self->monitor_source = 0;
  return G_SOURCE_REMOVE;
}

static void
mi_read_begun (VcmWatch *self)
{
  /* the read has every change so far, the service's own ones made in
   * worker threads too (one being made now ends with own_taken set after
   * this, and is checked by a read of its own) */
  M (self)->reading_foreign = M (self)->foreign;
  M (self)->foreign = FALSE;
  M (self)->verify = FALSE;
  g_atomic_int_set (&self->own_taken, 0);
  mark_taken (M (self)->fd);
  if (!g_cancellable_is_cancelled (self->cancellable))
    vcm_watch_watch_monitor (self);
}

static void
mi_read_landed (VcmWatch *self)
{
  if (M (self)->foreign)
    vcm_watch_schedule_paced_read (self, COALESCE_MS);
  else if (M (self)->verify)
    vcm_watch_schedule_paced_read (self, VERIFY_MS);
}

static gboolean
mi_older_work_pending (VcmWatch *self)
{
  return TRUE; /* a read may begin, and land, at any time */
}

static GPtrArray *
mi_list_rootfs (VcmWatch *self, const char *sandbox_id)
{
  g_autoptr (GError) error = NULL;

  /* the snapshot is current unless a foreign change is pending */
  if ((foreign_pending (self) || self->read_in_flight) && !vcm_watch_refresh_now (self, &error))
    g_warning ("Cannot re-read the mount table, listing from the last one: %s", error->message);
  return vcm_ledger_list (self->ledger, sandbox_id);
}

static gboolean
mi_sync_live (VcmWatch *self, const char *sandbox_id, const char *container_id)
{
  g_autofree char *k = NULL;

  if (foreign_pending (self))
    return FALSE; /* the manager probes, or reads the table */
  k = vcm_ledger_key (sandbox_id, container_id);
  vcm_watch_record_local (self, k); /* a read in flight is older, for this rootfs */
  return TRUE;
}

/* The service's own change is done: the wake-up it raised is taken now, and
 * a read later makes sure no foreign change hid in it. */
static void
mi_noted_own (VcmWatch *self)
{
  if (!M (self)->foreign)
    changed_since_look (self);
  self->stale = TRUE; /* the cached table lacks it */
  M (self)->verify = TRUE;
  vcm_watch_schedule_paced_read (self, VERIFY_MS);
}

/* The service detached the top-most mount at a rootfs mount point: one
 * stacked below it there is a rootfs now, and raised no change of its own.
 * The table says whether there was one below (a mount the service made
 * since the table was read went where nothing was mounted: none). */
static void
mi_noted_unmounted (VcmWatch *self, const char *sandbox_id, const char *container_id, guint64 mount_id)
{
  const VcmMountEntry *e = mount_id != 0 ? vcm_mount_table_lookup_id (self->table, mount_id) : NULL;
  const VcmMountEntry *parent = e != NULL ? vcm_mount_table_lookup_id (self->table, e->parent_id) : NULL;

  if (mount_id == 0 || (parent != NULL && parent != e && g_str_equal (parent->target, e->target)))
    owe_read (self);
}

static GStrv
mi_get_targets (VcmWatch *self, guint64 mount_id)
{
  g_autoptr (GStrvBuilder) builder = NULL;
  g_autoptr (GPtrArray) below = NULL;
  VcmTracked *t;

  if (foreign_pending (self))
    return NULL;
  t = vcm_ledger_find_mount (self->ledger, mount_id);
  if (t == NULL)
    return NULL;
  builder = g_strv_builder_new ();
  g_strv_builder_add (builder, t->rootfs->mount_point);
  if (t->submounts == NULL)
    return g_strv_builder_end (builder);
  /* submounts were seen by a read: the cached table names them, if it still
   * has them all and nothing else below */
  if (vcm_mount_table_lookup_id (self->table, mount_id) == NULL)
    return NULL;
  below = vcm_mount_table_get_descendants (self->table, mount_id);
  if (below->len != g_hash_table_size (t->submounts))
    return NULL;
  for (guint i = 0; i < below->len; i++)
    {
      const VcmMountEntry *e = below->pdata[i];

      if (!g_hash_table_contains (t->submounts, &e->id))
        return NULL;
      g_strv_builder_add (builder, e->target);
    }
  return g_strv_builder_end (builder);
}

static const VcmWatchSource mountinfo_source = {
  .name = "mountinfo",
  .notifications = FALSE,
  .drain = mi_nothing,
  .follow = mi_nothing,
  .on_wakeup = mi_on_wakeup,
  .read_begun = mi_read_begun,
  .read_landed = mi_read_landed,
  .older_work_pending = mi_older_work_pending,
  .get_table = vcm_watch_reader_get_table,
  .list_rootfs = mi_list_rootfs,
  .sync_live = mi_sync_live,
  .get_subtree = NULL,
  .noted_unmounted = mi_noted_unmounted,
  .noted_own = mi_noted_own,
  .submounts_unknown = owe_read,
  .get_targets = mi_get_targets,
  .stop = mi_nothing,
  .free = vcm_watch_mountinfo_free,
};

void
vcm_watch_mountinfo_start (VcmWatch *self)
{
  if (self->mountinfo_state == NULL)
    {
      self->mountinfo_state = g_new0 (Mountinfo, 1);
      /* without it (no fd left?) every look counts as a foreign change */
      M (self)->fd = open ("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
    }
  M (self)->foreign = TRUE; /* until the first read */
  self->source = &mountinfo_source;
  self->source_state = self->mountinfo_state;
}

void
vcm_watch_mountinfo_free (gpointer state)
{
  Mountinfo *m = state;

  if (m == NULL)
    return;
  if (m->fd >= 0)
    close (m->fd);
  g_free (m);
}
