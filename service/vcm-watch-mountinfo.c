/* vcm-watch-mountinfo: the change source without mount notifications
 * (before Linux 6.15, or where a filter refuses fanotify or statmount(2)).
 * Every wake-up of libmount's mountinfo monitor marks the cached table stale
 * and schedules one full re-read a few milliseconds later, diffed against
 * the snapshot. A caller that needs the table before then gets it re-read at
 * once, so answers are never older than the call. */
#include "config.h"

#include "vcm-watch-private.h"

static void
mi_nothing (VcmWatch *self)
{
}

static gboolean
mi_on_wakeup (VcmWatch *self)
{
  self->stale = TRUE;
  vcm_watch_schedule_refresh (self);
  return G_SOURCE_CONTINUE;
}

static void
mi_read_landed (VcmWatch *self)
{
  if (self->stale)
    vcm_watch_schedule_refresh (self);
}

static gboolean
mi_older_work_pending (VcmWatch *self)
{
  return TRUE; /* a read may begin, and land, at any time */
}

static GPtrArray *
mi_list_rootfs (VcmWatch *self, const char *sandbox_id)
{
  g_autoptr (VcmMountTable) table = vcm_watch_reader_get_table (self, FALSE);

  return vcm_rootfs_list_in_table (self->shared_dir, table, sandbox_id);
}

static void
mi_free (gpointer state)
{
}

const VcmWatchSource vcm_watch_source_mountinfo = {
  .name = "mountinfo",
  .drain = mi_nothing,
  .follow = mi_nothing,
  .on_wakeup = mi_on_wakeup,
  .read_begun = mi_nothing,
  .read_landed = mi_read_landed,
  .older_work_pending = mi_older_work_pending,
  .get_table = vcm_watch_reader_get_table,
  .list_rootfs = mi_list_rootfs,
  .sync_live = NULL,
  .get_subtree = NULL,
  .noted_unmounted = NULL,
  .stop = mi_nothing,
  .free = mi_free,
};
