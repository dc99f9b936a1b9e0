/* vcm-watch-probe: the fanotify source's look at a rootfs mount point by
 * its path (what is mounted there, and below it): on the main loop only as
 * far as the kernel's caches know the path; where a filesystem would have to
 * be asked, in a worker thread, at most one per rootfs and MAX_PROBES in
 * all, the result landing later. Where neither the events nor a probe can
 * tell, the source asks for a full read (vcm_watch_fanotify_want_reread). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "vcm-fd.h"
#include "vcm-sys.h"
#include "vcm-watch-fanotify-private.h"

static void probe_async (VcmWatch *self, const char *key);

/* The mountinfo IDs of the mounts below the mount @unique (listmount,
 * statmount); NULL when there are none (the usual rootfs: one listmount). */
static GHashTable *
submounts_live (guint64 unique)
{
  g_autoptr (GArray) todo = NULL;
  GHashTable *subs;
  guint64 child;

  if (vcm_sys_listmount (unique, 0, &child, 1) <= 0)
    return NULL;
  todo = g_array_new (FALSE, FALSE, sizeof (guint64));
  subs = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  g_array_append_val (todo, unique);
  for (guint i = 0; i < todo->len; i++)
    {
      g_autoptr (GArray) children = vcm_sys_listmount_all (g_array_index (todo, guint64, i));

      for (guint j = 0; children != NULL && j < children->len; j++)
        {
          guint64 id = g_array_index (children, guint64, j);
          VcmSysMountBrief m;
          int errsv = 0;

          if (vcm_sys_statmount_brief (id, &m, NULL, &errsv) &&
              !g_hash_table_contains (subs, &m.mnt_id_old))
            {
              g_hash_table_add (subs, g_memdup2 (&m.mnt_id_old, sizeof m.mnt_id_old));
              g_array_append_val (todo, id);
            }
        }
    }
  return subs;
}

/* What is mounted at @path (the rootfs mount point of @sandbox_id/
 * @container_id) now, from the path (open, statx, statmount) and, when it
 * has submounts, their IDs (listmount, statmount). With @cached the path is
 * walked only as far as the kernel's caches know it, never waiting for a
 * filesystem (a FUSE server of a caller's may never answer): for the main
 * loop; else the walk may wait, in a worker thread. Touches nothing of the
 * watch. */
ProbeResult
vcm_watch_probe_path (const char *path,
                      const char *sandbox_id,
                      const char *container_id,
                      gboolean cached,
                      VcmRootfsRecord **out_now,
                      GHashTable **out_subs)
{
  g_autofree char *point = NULL;
  g_autoptr (VcmRootfsRecord) now = NULL;
  vcm_autofd int fd = -1;
  guint64 old = 0, unique = 0;
  gboolean root = FALSE;
  VcmSysMountBrief m;
  int errsv = 0;

  *out_now = NULL;
  *out_subs = NULL;
  fd = cached ? vcm_sys_open_cached (path) : open (path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == EAGAIN)
    return PROBE_WOULD_BLOCK;
  if (fd >= 0 && vcm_sys_stat_mount (fd, "", AT_EMPTY_PATH, &old, NULL, NULL, &root, NULL) == 0 &&
      root && vcm_sys_unique_mount_id (fd, &unique) == 0)
    {
      if (!vcm_sys_statmount_brief (unique, &m, &point, &errsv))
        return errsv == ENOENT ? PROBE_GONE : PROBE_REREAD;
      if (g_str_equal (point, path))
        now = vcm_rootfs_record_new (sandbox_id, container_id, point, old, m.read_only);
    }
  else if (fd < 0 && errno != ENOENT && errno != ENOTDIR && errno != ELOOP)
    return PROBE_REREAD;
  if (now != NULL)
    {
      now->unique_id = unique;
      *out_subs = submounts_live (unique);
    }
  *out_now = g_steal_pointer (&now);
  return PROBE_FOUND;
}

void
vcm_watch_fanotify_want_reread (VcmWatch *self, const char *why)
{
  Fanotify *f = F (self);

  g_debug ("Mount watch: a full read of the mount table: %s", why);
  /* events may have been lost: where parents lie may have changed unseen */
  g_hash_table_remove_all (f->parents);
  g_hash_table_remove_all (f->old_ids);
  f->reread_wanted = TRUE;
  self->stale = TRUE;
  vcm_watch_schedule_refresh (self);
}

/* Takes what a probe found at @key, emitting the differences. */
void
vcm_watch_probe_apply (
  VcmWatch *self, const char *key, ProbeResult result, const VcmRootfsRecord *now, GHashTable *subs)
{
  if (result == PROBE_REREAD)
    vcm_watch_fanotify_want_reread (self, "a rootfs mount point cannot be probed");
  if (result != PROBE_FOUND)
    return; /* PROBE_GONE: detached meanwhile, its event follows */
  vcm_ledger_diff_one (self->ledger, key, now, subs, TRUE);
  vcm_watch_record_local (self, key); /* a full read begun before this is older, for this rootfs */
}

/* What is mounted at @sandbox_id/@container_id's rootfs mount point now:
 * emits the differences, as a service-side probe does. The main loop walks
 * the path only as far as the caches know it; where a filesystem would have
 * to be asked, the probe is made in a worker thread and lands later. A
 * rootfs the service is changing is looked at when it is done. */
void
vcm_watch_fanotify_probe (VcmWatch *self, const char *sandbox_id, const char *container_id)
{
  g_autofree char *key = vcm_ledger_key (sandbox_id, container_id);
  g_autofree char *path =
    g_build_filename (self->shared_dir, sandbox_id, container_id, VCM_ROOTFS_DIR, NULL);
  g_autoptr (VcmRootfsRecord) now = NULL;
  g_autoptr (GHashTable) subs = NULL;
  ProbeResult result;

  if (vcm_ledger_busy (self->ledger, key))
    return;
  result = vcm_watch_probe_path (path, sandbox_id, container_id, TRUE, &now, &subs);
  if (result == PROBE_WOULD_BLOCK)
    probe_async (self, key);
  else
    vcm_watch_probe_apply (self, key, result, now, subs);
}

/* ---- probes that may wait, in worker threads --------------------------------
 * At most one per rootfs at a time (asked again meanwhile: once more after
 * it) and MAX_PROBES in all (the rest wait their turn): a filesystem that
 * never answers holds up that many threads and the probes of the rootfs in
 * it, nothing else. */

typedef struct {
  gboolean in_flight;
  gboolean again;  /* asked for while in flight */
  gboolean queued; /* waiting for a thread */
} ProbeState;

typedef struct {
  char *key;
  char *sandbox_id;
  char *container_id;
  char *path;
  ProbeResult result;
  VcmRootfsRecord *now;
  GHashTable *subs;
} ProbeJob;

static void
probe_job_free (gpointer data)
{
  ProbeJob *job = data;

  g_free (job->key);
  g_free (job->sandbox_id);
  g_free (job->container_id);
  g_free (job->path);
  g_clear_pointer (&job->now, vcm_rootfs_record_free);
  g_clear_pointer (&job->subs, g_hash_table_unref);
  g_free (job);
}

static void
probe_in_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  ProbeJob *job = task_data;

  job->result =
    vcm_watch_probe_path (job->path, job->sandbox_id, job->container_id, FALSE, &job->now, &job->subs);
  g_task_return_boolean (task, TRUE);
}

static void start_probe (VcmWatch *self, const char *key, ProbeState *state);

static void
on_probe_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  VcmWatch *self = VCM_WATCH (source);
  ProbeJob *job = g_task_get_task_data (G_TASK (result));
  Fanotify *f;
  ProbeState *state;
  char *next;

  if (g_cancellable_is_cancelled (self->cancellable) || self->fanotify_state == NULL)
    return; /* stopped meanwhile */
  f = F (self);
  f->probes_in_flight--;
  state = g_hash_table_lookup (f->probes, job->key);
  g_assert (state != NULL && state->in_flight);
  state->in_flight = FALSE;
  if (state->again)
    {
      /* asked again meanwhile: this one may be older than what was seen */
      state->again = FALSE;
      start_probe (self, job->key, state);
    }
  else
    {
      g_hash_table_remove (f->probes, job->key);
      if (FOLLOWING (self) && !vcm_ledger_busy (self->ledger, job->key))
        vcm_watch_probe_apply (self, job->key, job->result, job->now, job->subs);
    }
  while (f->probes_in_flight < MAX_PROBES && (next = g_queue_pop_head (f->probes_waiting)) != NULL)
    {
      ProbeState *s = g_hash_table_lookup (f->probes, next);

      s->queued = FALSE;
      start_probe (self, next, s);
      g_free (next);
    }
}

static void
start_probe (VcmWatch *self, const char *key, ProbeState *state)
{
  Fanotify *f = F (self);
  g_auto (GStrv) ids = g_strsplit (key, "/", 2);
  ProbeJob *job;
  GTask *task;

  if (f->probes_in_flight >= MAX_PROBES)
    {
      if (!state->queued)
        g_queue_push_tail (f->probes_waiting, g_strdup (key));
      state->queued = TRUE;
      return;
    }
  job = g_new0 (ProbeJob, 1);
  job->key = g_strdup (key);
  job->sandbox_id = g_strdup (ids[0]);
  job->container_id = g_strdup (ids[1]);
  job->path = g_build_filename (self->shared_dir, ids[0], ids[1], VCM_ROOTFS_DIR, NULL);
  state->in_flight = TRUE;
  f->probes_in_flight++;
  task = g_task_new (self, self->cancellable, on_probe_done, NULL); /* holds self */
  g_task_set_task_data (task, job, probe_job_free);
  g_task_run_in_thread (task, probe_in_thread);
  g_object_unref (task);
}

static void
probe_async (VcmWatch *self, const char *key)
{
  Fanotify *f = F (self);
  ProbeState *state = g_hash_table_lookup (f->probes, key);

  if (state != NULL)
    {
      if (state->in_flight)
        state->again = TRUE;
      return; /* in flight (once more after it) or waiting for a thread */
    }
  state = g_new0 (ProbeState, 1);
  g_hash_table_insert (f->probes, g_strdup (key), state);
  start_probe (self, key, state);
}

/* Probes the rootfs @t stands for (copies of its IDs: the probe may free it). */
void
vcm_watch_probe_tracked (VcmWatch *self, VcmTracked *t)
{
  g_autofree char *sbx = g_strdup (t->rootfs->sandbox_id);
  g_autofree char *cid = g_strdup (t->rootfs->container_id);

  vcm_watch_fanotify_probe (self, sbx, cid);
}
