/* vcm-rootfs-manager: the rootfs domain: the mounter and the watch, and the
 * bookkeeping between them (what changed behind the service's back reported
 * before the service acts, its own changes noted after, Generation kept). */
#include "config.h"

#include <errno.h>
#include <unistd.h>
#include <sys/resource.h>

#include "vcm-error.h"
#include "vcm-identity.h"
#include "vcm-layout.h"
#include "vcm-rootfs-manager.h"
#include "vcm-testing.h"
#include "vcm-validate.h"

struct _VcmRootfsManager {
  GObject parent;
  VcmMounter *mounter;
  VcmWatch *watch;
  gulong changed_id;
  guint release_source;       /* a hold of the watch taken by a table read, let go when idle */
  GHashTable *busy_sandboxes; /* sandbox_id -> GQueue of GTask: the operation running
                               * on it first, then those waiting their turn */
};

G_DEFINE_FINAL_TYPE (VcmRootfsManager, vcm_rootfs_manager, G_TYPE_OBJECT)

enum {
  SIGNAL_CHANGED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

static void
vcm_rootfs_manager_dispose (GObject *object)
{
  VcmRootfsManager *self = VCM_ROOTFS_MANAGER (object);

  g_clear_handle_id (&self->release_source, g_source_remove);
  if (self->mounter != NULL)
    {
      /* a request prepared in a worker thread may hold the mounter longer */
      vcm_mounter_set_table_source (self->mounter, NULL, NULL);
      vcm_mounter_set_subtree_source (self->mounter, NULL, NULL);
      vcm_mounter_set_targets_source (self->mounter, NULL, NULL);
    }
  g_clear_signal_handler (&self->changed_id, self->watch);
  if (self->watch != NULL)
    vcm_watch_stop (self->watch); /* its work in threads may hold it a while */
  g_clear_object (&self->watch);
  g_clear_object (&self->mounter);
  G_OBJECT_CLASS (vcm_rootfs_manager_parent_class)->dispose (object);
}

static void
vcm_rootfs_manager_finalize (GObject *object)
{
  VcmRootfsManager *self = VCM_ROOTFS_MANAGER (object);

  /* every operation holds the manager: none is left */
  g_assert (g_hash_table_size (self->busy_sandboxes) == 0);
  g_hash_table_unref (self->busy_sandboxes);
  G_OBJECT_CLASS (vcm_rootfs_manager_parent_class)->finalize (object);
}

static void
vcm_rootfs_manager_class_init (VcmRootfsManagerClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = vcm_rootfs_manager_dispose;
  G_OBJECT_CLASS (klass)->finalize = vcm_rootfs_manager_finalize;

  /**
   * VcmRootfsManager::changed:
   * @change: (type gpointer): the VcmChange, valid during the emission
   *
   * A rootfs change, made by the service or not: every one, in order, never
   * in the middle of a call of the manager.
   */
  signals[SIGNAL_CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                          NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
}

static void
vcm_rootfs_manager_init (VcmRootfsManager *self)
{
  self->busy_sandboxes =
    g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_queue_free);
}

static void
on_watch_changed (VcmWatch *watch, const VcmChange *change, gpointer user_data)
{
  g_signal_emit (user_data, signals[SIGNAL_CHANGED], 0, change);
}

VcmRootfsManager *
vcm_rootfs_manager_new (const char *shared_dir, VcmMounterFlags flags, GError **error)
{
  g_autoptr (VcmRootfsManager) self = g_object_new (VCM_TYPE_ROOTFS_MANAGER, NULL);
  g_autofree char *normalized = NULL;

  if (!vcm_validate_absolute_path ("shared-dir", shared_dir, error))
    return NULL;
  normalized = vcm_path_normalize (shared_dir);
  /* the mounter first: it makes the shared dir the watch reads beneath */
  self->mounter = vcm_mounter_new (normalized, flags, error);
  if (self->mounter == NULL)
    return NULL;
  /* the path the mounter resolved: the mount table's name of the shared dir */
  self->watch = vcm_watch_new (vcm_mounter_get_shared_dir (self->mounter), error);
  if (self->watch == NULL)
    return NULL;
  self->changed_id = g_signal_connect (self->watch, "changed", G_CALLBACK (on_watch_changed), self);
  /* only while the manager holds the watch: see run() */
  vcm_mounter_set_table_source (self->mounter, vcm_watch_get_table, self->watch);
  vcm_mounter_set_subtree_source (self->mounter, vcm_watch_get_subtree, self->watch);
  vcm_mounter_set_targets_source (self->mounter, vcm_watch_get_targets, self->watch);
  return g_steal_pointer (&self);
}

const char *
vcm_rootfs_manager_get_shared_dir (VcmRootfsManager *self)
{
  return vcm_mounter_get_shared_dir (self->mounter);
}

guint64
vcm_rootfs_manager_get_generation (VcmRootfsManager *self)
{
  return vcm_watch_get_generation (self->watch);
}

gboolean
vcm_rootfs_manager_uses_notifications (VcmRootfsManager *self)
{
  return vcm_watch_uses_notifications (self->watch);
}

VcmMounter *
vcm_rootfs_manager_get_mounter (VcmRootfsManager *self)
{
  return self->mounter;
}

VcmWatch *
vcm_rootfs_manager_get_watch (VcmRootfsManager *self)
{
  return self->watch;
}

static gboolean
on_release (gpointer user_data)
{
  VcmRootfsManager *self = user_data;

  self->release_source = 0;
  vcm_watch_release (self->watch);
  return G_SOURCE_REMOVE;
}

VcmMountTable *
vcm_rootfs_manager_get_table (gpointer manager, gboolean force_refresh)
{
  VcmRootfsManager *self = manager;

  /* The caller is in the middle of its work: what the read brings up to
   * date is told once the main loop is back, not now. */
  if (self->release_source == 0)
    {
      vcm_watch_hold (self->watch);
      self->release_source = g_idle_add (on_release, self);
    }
  return vcm_watch_get_table (self->watch, force_refresh);
}

/* Every call of the manager holds the watch: changes are told once the call
 * has done its work. Those a table read of the queries left are told first. */
static void
hold (VcmRootfsManager *self)
{
  if (self->release_source != 0)
    {
      g_clear_handle_id (&self->release_source, g_source_remove);
      vcm_watch_release (self->watch);
    }
  vcm_watch_hold (self->watch);
}

/* ---- operations -------------------------------------------------------------
 * A mutating operation runs in three steps. On the main loop, what changed
 * behind the service's back at each rootfs it acts on is reported, as far as
 * the watch can tell without walking a path that may wait for a filesystem,
 * and the watch is told that the service is changing it. In a worker thread
 * (the service's calls; inline for vcm_rootfs_manager_*() without _async),
 * the paths are walked: the probes the watch could not make, and the
 * mounter's run. On the main loop again, what the probes found is reported,
 * then what the operation did. A path on a filesystem that never answers
 * thus holds up that thread and the operations queued behind it on the same
 * sandbox (one at a time per sandbox: two calls never race on one rootfs),
 * never the main loop. */

typedef enum {
  OP_MOUNT_ROOTFS,
  OP_UNMOUNT_ROOTFS,
  OP_UNMOUNT_SANDBOX,
  OP_BIND,
  OP_UNMOUNT,
} OpKind;

/* One rootfs (or general mount) an operation acts on. */
typedef struct {
  VcmMountRequest *req; /* borrowed (owned_req: owned) */
  VcmMountRequest *owned_req;
  gboolean rootfs;      /* sandbox_id/container_id name a rootfs the watch tracks */
  gboolean probe;       /* the watch could not say what is there: probe in the work */
  gboolean probed;      /* the probe answered (else: the table is read instead) */
  VcmRootfsRecord *now; /* what the probe found */
  GHashTable *now_sub;  /* and its submounts */
  gboolean done;        /* the work got to it */
  VcmRootfsRecord *mounted;
  GStrv detached;
  GArray *detached_ids; /* their mountinfo IDs, read before the detach */
  char *mount_point;
  guint64 old_id, unique_id; /* of the mount made, read where it was made */
} Item;

typedef struct {
  OpKind kind;
  char *sandbox_id; /* serialized per sandbox (NULL: not) */
  GPtrArray *items; /* Item */
  gboolean off_main_loop;
  VcmCredentials *creds; /* UnmountSandbox: the caller's (NULL: root) */
  GError *error;         /* set before the work: nothing is done */
} Op;

static void
item_free (gpointer data)
{
  Item *item = data;

  vcm_mount_request_free (item->owned_req);
  vcm_rootfs_record_free (item->now);
  g_clear_pointer (&item->now_sub, g_hash_table_unref);
  vcm_rootfs_record_free (item->mounted);
  g_strfreev (item->detached);
  g_clear_pointer (&item->detached_ids, g_array_unref);
  g_free (item->mount_point);
  g_free (item);
}

static void
op_free (Op *op)
{
  g_free (op->sandbox_id);
  g_ptr_array_unref (op->items);
  vcm_credentials_free (op->creds);
  g_clear_error (&op->error);
  g_free (op);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Op, op_free)

static Op *
op_new (OpKind kind, const char *sandbox_id)
{
  Op *op = g_new0 (Op, 1);

  op->kind = kind;
  op->sandbox_id = g_strdup (sandbox_id);
  op->items = g_ptr_array_new_with_free_func (item_free);
  return op;
}

static Item *
op_add (Op *op, VcmMountRequest *req, VcmMountRequest *owned_req)
{
  Item *item = g_new0 (Item, 1);

  item->req = req != NULL ? req : owned_req;
  item->owned_req = owned_req;
  item->rootfs =
    op->kind == OP_MOUNT_ROOTFS || op->kind == OP_UNMOUNT_ROOTFS || op->kind == OP_UNMOUNT_SANDBOX;
  g_ptr_array_add (op->items, item);
  return item;
}

static void op_list_sandbox (VcmRootfsManager *self, Op *op);

/* Main loop, before the work: what changed behind the service's back at
 * each rootfs is reported (what the watch can say at once); the watch knows
 * the service is changing them. */
static void
op_begin (VcmRootfsManager *self, Op *op)
{
  vcm_watch_hold (self->watch);
  if (op->kind == OP_UNMOUNT_SANDBOX)
    op_list_sandbox (self, op);
  for (guint i = 0; i < op->items->len; i++)
    {
      Item *item = op->items->pdata[i];

      item->req->off_main_loop = op->off_main_loop;
      if (!item->rootfs)
        continue;
      item->probe = !vcm_watch_sync_live (self->watch, item->req->sandbox_id, item->req->container_id);
      if (item->req->op == VCM_MOUNT_OP_UNMOUNT_ROOTFS && op->off_main_loop)
        item->req->subtree_hint =
          vcm_watch_get_rootfs_subtree (self->watch, item->req->sandbox_id, item->req->container_id);
      /* without statmount, the mount points the watch knows: the run need
       * not read the whole table to name what it detached */
      if (item->req->op == VCM_MOUNT_OP_UNMOUNT_ROOTFS && op->off_main_loop &&
          item->req->subtree_hint == NULL)
        item->req->targets_hint = vcm_watch_get_rootfs_targets (
          self->watch, item->req->sandbox_id, item->req->container_id, &item->req->targets_hint_id);
      vcm_watch_begin_local (self->watch, item->req->sandbox_id, item->req->container_id,
                             op->off_main_loop);
    }
  vcm_watch_release (self->watch);
}

/* What is mounted at @req's rootfs mount point, from a read of the kernel's
 * table (which asks no filesystem), where the kernel cannot be asked about
 * that one mount (no statmount(2) and listmount(2)). Thread-safe. */
static gboolean
probe_by_table (VcmMounter *mounter,
                const VcmMountRequest *req,
                VcmRootfsRecord **out_now,
                GHashTable **out_subs)
{
  g_autoptr (VcmMountTable) table = vcm_mount_table_new_from_kernel (NULL);
  g_autoptr (GPtrArray) listed = NULL;

  if (table == NULL)
    return FALSE;
  listed = vcm_rootfs_list_in_table (vcm_mounter_get_shared_dir (mounter), table, req->sandbox_id);
  vcm_rootfs_fill_unique_ids (listed);
  for (guint i = 0; i < listed->len; i++)
    {
      VcmRootfsRecord *r = listed->pdata[i];
      g_autoptr (GPtrArray) below = NULL;

      if (!g_str_equal (r->container_id, req->container_id))
        continue;
      below = vcm_mount_table_get_descendants (table, r->mount_id);
      if (below->len > 0)
        {
          *out_subs = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
          for (guint j = 0; j < below->len; j++)
            {
              const VcmMountEntry *e = below->pdata[j];

              g_hash_table_add (*out_subs, g_memdup2 (&e->id, sizeof e->id));
            }
        }
      *out_now = g_ptr_array_steal_index (listed, i);
      break;
    }
  return TRUE;
}

/* The identities recorded on the mount points of @op's unmounts that ask
 * for it (req->read_identity), read before any of them goes: a walk to each
 * mount point for its ID, then one clone of the shared dir's mount for the
 * records. In the work, so that a filesystem that never answers holds up
 * only this operation. */
static void
read_identities (VcmMounter *mounter, Op *op)
{
  g_autoptr (GPtrArray) rels = g_ptr_array_new ();
  g_autoptr (GPtrArray) reqs = g_ptr_array_new ();
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (VcmSysMountIds));
  g_autoptr (GPtrArray) found = NULL;

  if (op->kind != OP_UNMOUNT_ROOTFS && op->kind != OP_UNMOUNT && op->kind != OP_UNMOUNT_SANDBOX)
    return;
  for (guint i = 0; i < op->items->len; i++)
    {
      VcmMountRequest *req = ((Item *) op->items->pdata[i])->req;
      VcmSysMountIds live = { 0, 0 };

      if (!req->read_identity || req->relpath == NULL || *req->relpath == '\0' ||
          !vcm_mounter_mount_ids_at (mounter, req->relpath, &live.old_id, &live.unique_id))
        continue;
      g_ptr_array_add (rels, req->relpath);
      g_ptr_array_add (reqs, req);
      g_array_append_val (ids, live);
    }
  if (rels->len == 0)
    return;
  found = vcm_identity_recover (vcm_mounter_get_shared_fd (mounter),
                                vcm_mounter_get_shared_dir (mounter), (const char *const *) rels->pdata,
                                (const VcmSysMountIds *) ids->data, rels->len);
  for (guint i = 0; i < reqs->len; i++)
    {
      VcmMountRequest *req = reqs->pdata[i];

      g_clear_pointer (&req->identity, g_variant_unref);
      if (found->pdata[i] != NULL)
        req->identity = g_variant_ref (found->pdata[i]);
    }
}

/* The work: in a worker thread (or inline); touches nothing of the manager
 * but the mounter, and the watch's thread-safe note of its own changes. */
static void
op_work (VcmRootfsManager *self, Op *op)
{
  VcmMounter *mounter = self->mounter;

  if (op->error != NULL)
    return;
  read_identities (mounter, op);
  for (guint i = 0; i < op->items->len; i++)
    {
      Item *item = op->items->pdata[i];
      const VcmMountRequest *req = item->req;
      g_autoptr (GError) error = NULL;

      /* what was there before it acts: the watch could not say without a
       * walk of the path, or without reading the whole table */
      if (item->probe)
        item->probed = vcm_mounter_probe_rootfs (mounter, req->sandbox_id, req->container_id, &item->now,
                                                 &item->now_sub) ||
          probe_by_table (mounter, req, &item->now, &item->now_sub);
      item->done = TRUE;
      if (item->rootfs && op->off_main_loop)
        vcm_watch_own_change_begin (self->watch);
      switch (op->kind)
        {
        case OP_MOUNT_ROOTFS:
          item->mounted = vcm_mounter_run_mount_rootfs (mounter, req, &error);
          if (item->mounted != NULL)
            {
              item->old_id = item->mounted->mount_id;
              item->unique_id = item->mounted->unique_id;
            }
          break;
        case OP_UNMOUNT_ROOTFS:
        case OP_UNMOUNT_SANDBOX:
          item->detached = vcm_mounter_run_unmount_rootfs (mounter, req, &item->detached_ids, &error);
          break;
        case OP_BIND:
          item->mount_point = vcm_mounter_run_bind (mounter, req, &error);
          if (item->mount_point != NULL &&
              !vcm_mounter_mount_ids_at (mounter, req->relpath, &item->old_id, &item->unique_id))
            item->old_id = item->unique_id = 0;
          break;
        case OP_UNMOUNT:
          item->detached = vcm_mounter_run_unmount (mounter, req, &item->detached_ids, &error);
          break;
        default:
          g_assert_not_reached ();
        }
      if (item->rootfs && op->off_main_loop)
        vcm_watch_own_change_end (self->watch);
      if (op->kind == OP_UNMOUNT_SANDBOX && g_error_matches (error, VCM_ERROR, VCM_ERROR_NOT_MOUNTED))
        continue; /* gone since the list was made: already as asked */
      if (error != NULL)
        {
          if (op->kind == OP_UNMOUNT_SANDBOX)
            {
              g_autoptr (GString) before = g_string_new (NULL);

              for (guint j = 0; j < i; j++)
                {
                  const Item *d = op->items->pdata[j];

                  if (d->detached != NULL)
                    g_string_append_printf (before, "%s%s", before->len ? ", " : "",
                                            d->req->container_id);
                }
              g_prefix_error (&error, "container %s (unmounted before it: %s): ", req->container_id,
                              before->len ? before->str : "none");
            }
          op->error = g_steal_pointer (&error);
          return;
        }
    }
}

/* Main loop, after the work: what the probes found, then what was done. */
static void
op_end (VcmRootfsManager *self, Op *op)
{
  vcm_watch_hold (self->watch);
  for (guint i = 0; i < op->items->len; i++)
    {
      Item *item = op->items->pdata[i];
      const VcmMountRequest *req = item->req;

      if (!item->rootfs)
        continue;
      if (item->probe && item->done)
        {
          if (item->probed)
            vcm_watch_sync_rootfs (self->watch, req->sandbox_id, req->container_id, item->now,
                                   item->now_sub);
          else if (vcm_validate_id ("sandbox_id", req->sandbox_id, NULL) &&
                   vcm_validate_id ("container_id", req->container_id, NULL))
            vcm_mount_table_unref (vcm_watch_get_table (self->watch, FALSE));
        }
      if (item->mounted != NULL)
        vcm_watch_note_mounted (self->watch, item->mounted);
      if (item->mounted != NULL && req->recursive)
        vcm_watch_note_submounts_unknown (self->watch);
      if (item->detached != NULL)
        vcm_watch_note_unmounted (self->watch, req->sandbox_id, req->container_id,
                                  (const char *const *) item->detached);
    }
  for (guint i = 0; i < op->items->len; i++)
    {
      const Item *item = op->items->pdata[i];

      if (item->rootfs)
        vcm_watch_end_local (self->watch, item->req->sandbox_id, item->req->container_id);
    }
  vcm_watch_release (self->watch);
}

/* The operation on the calling thread, for callers that authorize nothing
 * and run no main loop of their own (tests, benchmarks). */
static Op *
op_run (VcmRootfsManager *self, Op *op)
{
  op_begin (self, op);
  op_work (self, op);
  op_end (self, op);
  return op;
}

/* ---- in worker threads ---- */

static void
op_in_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  op_work (VCM_ROOTFS_MANAGER (source_object), task_data);
  g_task_return_boolean (task, TRUE);
}

/* A caller's operation (not root's) runs in a thread of its own, at a lower
 * scheduling priority (CALLER_NICE more): what one caller makes the service
 * do (directories made and taken away, mounts walked) yields the CPU to the
 * cheap calls of others, so however fast it calls, it cannot raise their
 * latency much; on an idle machine it runs as fast as before. A thread of
 * its own, because one whose priority was lowered cannot raise it again
 * without CAP_SYS_NICE (the shared pool's threads serve everyone). */
#define CALLER_NICE 10

static gboolean
op_of_caller (const Op *op)
{
  if (op->creds != NULL)
    return TRUE;
  for (guint i = 0; i < op->items->len; i++)
    if (((const Item *) op->items->pdata[i])->req->creds != NULL)
      return TRUE;
  return FALSE;
}

static gpointer
op_in_caller_thread (gpointer data)
{
  g_autoptr (GTask) task = data;
  pid_t tid = gettid ();
  int nice_now;

  errno = 0;
  nice_now = getpriority (PRIO_PROCESS, (id_t) tid);
  if (errno == 0 && setpriority (PRIO_PROCESS, (id_t) tid, MIN (nice_now + CALLER_NICE, 19)) < 0)
    g_debug ("Cannot lower the priority of a caller's operation: %s", g_strerror (errno));
  op_work (VCM_ROOTFS_MANAGER (g_task_get_source_object (task)), g_task_get_task_data (task));
  g_task_return_boolean (task, TRUE);
  return NULL;
}

static void op_start (VcmRootfsManager *self, GTask *outer);

/* The work landed: its results told, the caller's callback called, and the
 * next operation on the same sandbox started. */
static void
on_op_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  VcmRootfsManager *self = VCM_ROOTFS_MANAGER (source);
  g_autoptr (GTask) outer = user_data;
  Op *op = g_task_get_task_data (outer);
  GQueue *queue =
    op->sandbox_id != NULL ? g_hash_table_lookup (self->busy_sandboxes, op->sandbox_id) : NULL;
  GTask *next = NULL;

  op_end (self, op);
  if (queue != NULL)
    {
      g_assert (g_queue_peek_head (queue) == outer);
      g_queue_pop_head (queue);
      next = g_queue_peek_head (queue);
      if (next == NULL)
        g_hash_table_remove (self->busy_sandboxes, op->sandbox_id);
    }
  g_task_return_boolean (outer, TRUE);
  if (next != NULL)
    op_start (self, next);
}

static void
op_start (VcmRootfsManager *self, GTask *outer)
{
  Op *op = g_task_get_task_data (outer);
  g_autoptr (GTask) inner = NULL;

  if (g_task_return_error_if_cancelled (outer))
    {
      /* stopping: not begun; the next one is told the same */
      GQueue *queue =
        op->sandbox_id != NULL ? g_hash_table_lookup (self->busy_sandboxes, op->sandbox_id) : NULL;
      GTask *next = NULL;

      if (queue != NULL)
        {
          g_queue_pop_head (queue);
          next = g_queue_peek_head (queue);
          if (next == NULL)
            g_hash_table_remove (self->busy_sandboxes, op->sandbox_id);
        }
      g_object_unref (outer);
      if (next != NULL)
        op_start (self, next);
      return;
    }
  op_begin (self, op);
  inner = g_task_new (self, NULL, on_op_done, outer); /* holds self; outer held until done */
  g_task_set_task_data (inner, op, NULL);
  if (op_of_caller (op))
    {
      GThread *thread =
        g_thread_try_new ("vcm-caller-op", op_in_caller_thread, g_object_ref (inner), NULL);

      if (thread != NULL)
        {
          g_thread_unref (thread);
          return;
        }
      g_object_unref (inner); /* the thread's; the shared pool, then */
    }
  g_task_run_in_thread (inner, op_in_thread);
}

/* Queues @op (taken) behind the operations on the same sandbox, or starts it. */
static void
op_run_async (VcmRootfsManager *self,
              Op *op,
              GCancellable *cancellable,
              GAsyncReadyCallback callback,
              gpointer user_data)
{
  GTask *outer = g_task_new (self, cancellable, callback, user_data); /* the queue's, then the work's */
  GQueue *queue;

  op->off_main_loop = TRUE;
  g_task_set_task_data (outer, op, (GDestroyNotify) op_free);
  if (op->sandbox_id != NULL)
    {
      queue = g_hash_table_lookup (self->busy_sandboxes, op->sandbox_id);
      if (queue == NULL)
        {
          queue = g_queue_new ();
          g_hash_table_insert (self->busy_sandboxes, g_strdup (op->sandbox_id), queue);
        }
      g_queue_push_tail (queue, outer); /* the head is the one running */
      if (queue->length > 1)
        return;
    }
  op_start (self, outer);
}

/* The operation of a finished task, or NULL with its error. */
static Op *
op_finish (VcmRootfsManager *self, GAsyncResult *result, GError **error)
{
  Op *op;

  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  if (!g_task_propagate_boolean (G_TASK (result), error))
    return NULL;
  op = g_task_get_task_data (G_TASK (result));
  if (op->error != NULL)
    {
      g_propagate_error (error, g_error_copy (op->error));
      return NULL;
    }
  return op;
}

/* Which sandbox's operations @req waits its turn behind: a rootfs's, and
 * a general one at a sandbox's or container's directory (root's alone),
 * which must find no rootfs below it when it acts (vcm-layout). */
static const char *
serialized_by (OpKind kind, const VcmMountRequest *req)
{
  VcmLayoutPlace place;

  if (kind == OP_MOUNT_ROOTFS || kind == OP_UNMOUNT_ROOTFS)
    return req->sandbox_id;
  place = vcm_layout_place (req->relpath);
  return place == VCM_LAYOUT_SANDBOX_DIR || place == VCM_LAYOUT_CONTAINER_DIR ? req->sandbox_id : NULL;
}

static Op *
op_for_request (OpKind kind, VcmMountRequest *req)
{
  Op *op = op_new (kind, serialized_by (kind, req));

  op_add (op, req, NULL);
  return op;
}

/* UnmountSandbox: one item per rootfs of its sandbox the watch knows of
 * when its turn comes. */
static void
op_list_sandbox (VcmRootfsManager *self, Op *op)
{
  g_autoptr (GPtrArray) rootfs = vcm_watch_list_rootfs (self->watch, op->sandbox_id);

  for (guint i = 0; i < rootfs->len; i++)
    {
      const VcmRootfsRecord *r = rootfs->pdata[i];
      g_autoptr (GError) local = NULL;
      VcmMountRequest *req = vcm_mounter_prepare_unmount_rootfs (self->mounter, r->sandbox_id,
                                                                 r->container_id, op->creds, &local);

      if (req == NULL)
        {
          g_prefix_error (&local, "container %s: ", r->container_id);
          op->error = g_steal_pointer (&local);
          return;
        }
      req->read_identity = TRUE;
      op_add (op, NULL, req);
    }
}

static Op *
op_for_sandbox (const char *sandbox_id, const VcmCredentials *creds)
{
  Op *op = op_new (OP_UNMOUNT_SANDBOX, sandbox_id);

  op->creds = vcm_credentials_is_root (creds) ? NULL : vcm_credentials_copy (creds);
  return op;
}

static Item *
op_item (Op *op)
{
  return op->items->pdata[0];
}

/* ---- the synchronous forms ---- */

/* Whether @op, run, succeeded; if not, its error moves to @error. */
static gboolean
op_succeeded (Op *op, GError **error)
{
  if (op->error == NULL)
    return TRUE;
  g_propagate_error (error, g_steal_pointer (&op->error));
  return FALSE;
}

VcmRootfsRecord *
vcm_rootfs_manager_mount_rootfs (VcmRootfsManager *self, const VcmMountRequest *req, GError **error)
{
  g_autoptr (Op) op = op_run (self, op_for_request (OP_MOUNT_ROOTFS, (VcmMountRequest *) req));

  return op_succeeded (op, error) ? g_steal_pointer (&op_item (op)->mounted) : NULL;
}

GStrv
vcm_rootfs_manager_unmount_rootfs (VcmRootfsManager *self, const VcmMountRequest *req, GError **error)
{
  g_autoptr (Op) op = op_run (self, op_for_request (OP_UNMOUNT_ROOTFS, (VcmMountRequest *) req));

  return op_succeeded (op, error) ? g_steal_pointer (&op_item (op)->detached) : NULL;
}

void
vcm_unmounted_free (VcmUnmounted *unmounted)
{
  if (unmounted == NULL)
    return;
  g_free (unmounted->container_id);
  g_strfreev (unmounted->detached);
  g_clear_pointer (&unmounted->detached_ids, g_array_unref);
  g_clear_pointer (&unmounted->identity, g_variant_unref);
  g_free (unmounted);
}

/* The rootfs UnmountSandbox detached, in order, into @done. */
static void
sandbox_done (Op *op, GPtrArray *done)
{
  for (guint i = 0; i < op->items->len; i++)
    {
      Item *item = op->items->pdata[i];
      VcmUnmounted *u;

      if (item->detached == NULL)
        continue;
      u = g_new0 (VcmUnmounted, 1);
      u->container_id = g_strdup (item->req->container_id);
      u->detached = g_steal_pointer (&item->detached);
      u->detached_ids = g_steal_pointer (&item->detached_ids);
      u->identity = g_steal_pointer (&item->req->identity);
      g_ptr_array_add (done, u);
    }
}

gboolean
vcm_rootfs_manager_unmount_sandbox (VcmRootfsManager *self,
                                    const char *sandbox_id,
                                    const VcmCredentials *creds,
                                    GPtrArray *done,
                                    GError **error)
{
  g_autoptr (Op) op = op_run (self, op_for_sandbox (sandbox_id, creds));

  sandbox_done (op, done);
  return op_succeeded (op, error);
}

/* ---- the asynchronous forms ---- */

void
vcm_rootfs_manager_run_async (VcmRootfsManager *self,
                              VcmMountRequest *req,
                              GCancellable *cancellable,
                              GAsyncReadyCallback callback,
                              gpointer user_data)
{
  static const OpKind kinds[] = {
    [VCM_MOUNT_OP_MOUNT_ROOTFS] = OP_MOUNT_ROOTFS,
    [VCM_MOUNT_OP_UNMOUNT_ROOTFS] = OP_UNMOUNT_ROOTFS,
    [VCM_MOUNT_OP_BIND] = OP_BIND,
    [VCM_MOUNT_OP_UNMOUNT] = OP_UNMOUNT,
  };

  g_return_if_fail (req->op < G_N_ELEMENTS (kinds));
  op_run_async (self, op_for_request (kinds[req->op], req), cancellable, callback, user_data);
}

gboolean
vcm_rootfs_manager_run_finish (VcmRootfsManager *self,
                               GAsyncResult *result,
                               VcmRootfsRecord **out_mounted,
                               char **out_mount_point,
                               GStrv *out_detached,
                               GArray **out_detached_ids,
                               guint64 *out_old_id,
                               guint64 *out_unique_id,
                               GError **error)
{
  Op *op = op_finish (self, result, error);
  Item *item;

  if (op == NULL)
    return FALSE;
  item = op_item (op);
  if (out_mounted != NULL)
    *out_mounted = g_steal_pointer (&item->mounted);
  if (out_mount_point != NULL)
    *out_mount_point = g_steal_pointer (&item->mount_point);
  if (out_detached != NULL)
    *out_detached = g_steal_pointer (&item->detached);
  if (out_detached_ids != NULL)
    *out_detached_ids = g_steal_pointer (&item->detached_ids);
  if (out_old_id != NULL)
    *out_old_id = item->old_id;
  if (out_unique_id != NULL)
    *out_unique_id = item->unique_id;
  return TRUE;
}

void
vcm_rootfs_manager_unmount_sandbox_async (VcmRootfsManager *self,
                                          const char *sandbox_id,
                                          const VcmCredentials *creds,
                                          GCancellable *cancellable,
                                          GAsyncReadyCallback callback,
                                          gpointer user_data)
{
  op_run_async (self, op_for_sandbox (sandbox_id, creds), cancellable, callback, user_data);
}

gboolean
vcm_rootfs_manager_unmount_sandbox_finish (VcmRootfsManager *self,
                                           GAsyncResult *result,
                                           GPtrArray *done,
                                           GError **error)
{
  Op *op;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;
  op = g_task_get_task_data (G_TASK (result));
  sandbox_done (op, done);
  if (op->error != NULL)
    {
      g_propagate_error (error, g_error_copy (op->error));
      return FALSE;
    }
  return TRUE;
}

GPtrArray *
vcm_rootfs_manager_list_rootfs (VcmRootfsManager *self, const char *sandbox_id, guint64 *out_generation)
{
  GPtrArray *rootfs;

  hold (self);
  rootfs = vcm_watch_list_rootfs (self->watch, sandbox_id); /* brings Generation up to date */
  vcm_watch_release (self->watch);
  if (out_generation != NULL)
    *out_generation = vcm_watch_get_generation (self->watch);
  return rootfs;
}
