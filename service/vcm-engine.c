/* vcm-engine: the service's domain behind one object (see the header). This
 * file owns the engine's life and a request's way through it: admitted
 * (callers that are not root, under the per-user bounds of vcm-admission),
 * through the gate of resolver threads, prepared, and once authorized
 * through the gate of runs, run; and the signals that tell what changed.
 * The methods themselves are vcm-engine-methods.c's and vcm-engine-runs.c's. */
#include "config.h"

#include "vcm-engine-private.h"
#include "vcm-holdings.h"
#include "vcm-fd.h"
#include "vcm-fsgate.h"
#include "vcm-memory.h"

/* A request of a user that is not root is admitted (at most
 * VCM_ADMISSION_MAX_CALLS_PER_UID of a user's at once, queued or worked on;
 * beyond, refused at once with LimitsExceeded), then passes the gates of
 * the stages whose work is scarce, each letting through at most so many of
 * a user's requests at once and so many in all, the rest waiting their turn
 * in order, users served in turn and those polkit has granted something
 * first:
 * - resolving a caller's paths in worker threads, so that paths on a
 *   filesystem that never answers hold up at most that many threads;
 * - running an authorized mount or unmount in a worker thread (its paths
 *   walked, its mounts made): what one user's filesystem that never answers
 *   can hold up there.
 * (The gate of polkit checks is the D-Bus layer's, beside the checks.) */
#define MAX_RESOLVING_PER_UID 4
#define MAX_RESOLVING         32
#define RESERVED_RESOLVING    8 /* for users with a grant */
#define MAX_RUNNING_PER_UID   4
#define MAX_RUNNING           32 /* (every request there is authorized: none kept) */

typedef Engine VcmEnginePrivate;

G_DEFINE_TYPE_WITH_PRIVATE (VcmEngine, vcm_engine, G_TYPE_OBJECT)

enum {
  SIGNAL_ROOTFS_CHANGED,
  SIGNAL_MOUNT_ADDED,
  SIGNAL_MOUNT_REMOVED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

#define ENGINE(object) ((Engine *) vcm_engine_get_instance_private (object))

/* ---- requests ------------------------------------------------------------------ */

VcmRequest *
vcm_request_new (
  const char *method, GVariant *params, GUnixFDList *fds, VcmCaller *caller, gboolean granted)
{
  VcmRequest *request = g_new0 (VcmRequest, 1);

  request->ref_count = 1;
  request->method = g_strdup (method);
  request->params = g_variant_ref_sink (params);
  request->fds = fds != NULL ? g_object_ref (fds) : NULL;
  request->caller = vcm_caller_ref (caller);
  request->granted = granted;
  return request;
}

VcmRequest *
vcm_request_ref (VcmRequest *request)
{
  g_atomic_int_inc (&request->ref_count);
  return request;
}

void
vcm_request_unref (VcmRequest *request)
{
  if (request == NULL || !g_atomic_int_dec_and_test (&request->ref_count))
    return;
  if (request->engine_data_free != NULL)
    request->engine_data_free (request->engine_data);
  g_clear_pointer (&request->details, g_hash_table_unref);
  g_free (request->message);
  g_clear_pointer (&request->caller, vcm_caller_unref);
  g_clear_object (&request->fds);
  g_variant_unref (request->params);
  g_free (request->method);
  g_free (request);
}

Prepared *
prepared_new (VcmRequest *request)
{
  Prepared *prep = g_new0 (Prepared, 1);

  prep->fds = request->fds != NULL ? g_object_ref (request->fds) : NULL;
  prep->caller = vcm_caller_ref (request->caller);
  prep->mount_fd = -1;
  return prep;
}

void
prepared_free (Prepared *prep)
{
  g_clear_object (&prep->fds);
  g_clear_pointer (&prep->caller, vcm_caller_unref);
  vcm_clear_fd (&prep->mount_fd);
  g_clear_pointer (&prep->info, g_variant_dict_unref);
  g_clear_pointer (&prep->req, vcm_mount_request_free);
  g_clear_pointer (&prep->details, g_hash_table_unref);
  g_free (prep->path);
  g_free (prep->message);
  g_free (prep);
}

void
known_free (Known *known)
{
  g_variant_unref (known->info);
  g_free (known);
}

/* The engine's state of a request: it leaves the gates and the admission
 * when the request goes. */
static void
op_free (gpointer data)
{
  Op *op = data;
  Engine *self = op->self;

  if (op->resolving.queued)
    vcm_gate_cancel (self->resolving, &op->resolving);
  if (op->resolving.inside)
    vcm_gate_leave (self->resolving, &op->resolving);
  if (op->running.queued)
    vcm_gate_cancel (self->running, &op->running);
  if (op->running.inside)
    vcm_gate_leave (self->running, &op->running);
  if (op->admitted)
    vcm_admission_leave (self->admission, op->caller->uid, op->n_fds, op->request->granted);
  g_clear_pointer (&op->prep, prepared_free);
  g_clear_object (&op->reply_fds);
  g_object_unref (op->engine);
  g_free (op);
}

static Op *
op_of (Engine *self, VcmRequest *request)
{
  Op *op = request->engine_data;

  if (op == NULL)
    {
      op = g_new0 (Op, 1);
      op->self = self;
      op->engine = g_object_ref (self->object);
      op->request = request;
      op->caller = request->caller;
      op->params = request->params;
      op->entry = vcm_engine_lookup_method (request->method);
      request->engine_data = op;
      request->engine_data_free = op_free;
    }
  return op;
}

/* A task of @op's: its task data holds the request. */
static GTask *
op_task (Op *op, GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (op->engine, cancellable, callback, user_data);

  g_task_set_task_data (task, vcm_request_ref (op->request), (GDestroyNotify) vcm_request_unref);
  return task;
}

/* Answers @op "stopping", which ends its task. */
static void
op_return_stopping (Op *op)
{
  g_task_return_new_error (op->task, VCM_ERROR, VCM_ERROR_FAILED, "the service is stopping");
  g_clear_object (&op->task);
}

/* ---- gates ------------------------------------------------------------------------ */

/* The Op whose gate entry @entry (its member @member) is. */
#define OP_OF(entry, member) ((Op *) ((guint8 *) (entry) -G_STRUCT_OFFSET (Op, member)))

/* @op's caller left while it waited its turn at @gate: out of the queue,
 * its task ended cancelled. */
static void
on_queued_cancelled (GCancellable *cancellable, gpointer user_data)
{
  Op *op = user_data;
  VcmGateEntry *entry = op->resolving.queued ? &op->resolving : &op->running;
  VcmGate *gate = op->resolving.queued ? op->self->resolving : op->self->running;

  if (!entry->queued)
    return;
  vcm_gate_cancel (gate, entry);
  g_task_return_error_if_cancelled (op->task);
  g_clear_object (&op->task);
}

/* Queues @op at @gate (@entry its place there): FALSE when it must wait,
 * its task then ended if its cancellable is cancelled meanwhile. */
static gboolean
op_enter_gate (Op *op, VcmGate *gate, VcmGateEntry *entry, gboolean granted)
{
  GCancellable *cancellable = g_task_get_cancellable (op->task);

  if (op->caller->uid == 0)
    return TRUE;
  entry->uid = op->caller->uid;
  entry->granted = granted;
  if (vcm_gate_enter (gate, entry))
    return TRUE;
  if (cancellable != NULL)
    op->cancel_id = g_cancellable_connect (cancellable, G_CALLBACK (on_queued_cancelled), op, NULL);
  return FALSE;
}

/* @op went through a gate it waited at. */
static void
op_through_gate (Op *op)
{
  if (op->cancel_id != 0)
    g_cancellable_disconnect (g_task_get_cancellable (op->task), op->cancel_id);
  op->cancel_id = 0;
}

/* ---- prepare --------------------------------------------------------------------- */

typedef struct {
  const MethodEntry *entry;
  VcmMounter *mounter;   /* a reference: the engine may stop meanwhile */
  GVariant *params;      /* a reference */
  VcmCredentials *creds; /* a copy; NULL for root */
  Prepared *prep;        /* its inputs filled: the result */
} PrepareJob;

static void
prepare_job_free (PrepareJob *job)
{
  g_clear_pointer (&job->prep, prepared_free);
  g_object_unref (job->mounter);
  g_variant_unref (job->params);
  vcm_credentials_free (job->creds);
  g_free (job);
}

static void
prepare_in_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  PrepareJob *job = task_data;
  GError *error = NULL;
  gboolean counted = !vcm_credentials_is_root (job->creds);
  gboolean ok;

  /* a caller's walks count against the share of the filesystems they reach */
  if (counted)
    vcm_fsgate_begin ();
  ok = job->entry->prepare (job->mounter, job->params, job->creds, job->prep, &error);
  if (counted)
    vcm_fsgate_end ();
  if (!ok)
    {
      g_task_return_error (task, error);
      return;
    }
  g_task_return_pointer (task, g_steal_pointer (&job->prep), (GDestroyNotify) prepared_free);
}

/* @op prepared: what polkit must be asked and shown goes into its request. */
static void
op_prepared (Op *op, Prepared *prep)
{
  VcmRequest *request = op->request;

  guint n = 0;

  op->prep = prep;
  request->actions[n++] = op->entry->action;
  /* what the mount logic decided of the request needs these as well, each
   * asked once the one before allowed it: a mount in a rootfs, a writable
   * mount of what the caller does not own */
  if (prep->req != NULL && prep->req->manage_rootfs)
    request->actions[n++] = ACTION_MANAGE_ROOTFS;
  if (prep->req != NULL && prep->req->write_foreign)
    request->actions[n++] = ACTION_WRITE_FOREIGN;
  request->actions[n] = NULL;
  request->details = prep->details != NULL ? g_hash_table_ref (prep->details) : NULL;
  request->message = g_strdup (prep->message);
}

/* The descriptors @prep keeps that the service opened (the source, the
 * clone of its mount, a configured detached mount): they count against the
 * caller's descriptors as those sent with the call do, for as long as the
 * call waits. FALSE (@prep's descriptors still to be closed by the caller)
 * beyond the bound. */
static gboolean
op_count_opened (Op *op, Prepared *prep, GError **error)
{
  guint n = 0;

  if (!op->admitted)
    return TRUE;
  if (prep->req != NULL)
    n += (prep->req->source_fd >= 0) + (prep->req->tree_fd >= 0);
  n += prep->mount_fd >= 0;
  if (n == 0)
    return TRUE;
  if (!vcm_admission_add_fds (op->self->admission, op->caller->uid, n, error))
    return FALSE;
  op->n_fds += n;
  return TRUE;
}

static void
on_prepared_in_thread (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Op *op = user_data;
  /* taken first: its callback may go on to run the request at once, with
   * a task of its own */
  g_autoptr (GTask) task = g_steal_pointer (&op->task);
  g_autoptr (GError) error = NULL;
  Prepared *prep;

  if (op->resolving.inside)
    vcm_gate_leave (op->self->resolving, &op->resolving);
  prep = g_task_propagate_pointer (G_TASK (result), &error);
  if (op->self->stopping)
    {
      g_clear_pointer (&prep, prepared_free);
      g_task_return_new_error (task, VCM_ERROR, VCM_ERROR_FAILED, "the service is stopping");
    }
  else if (prep == NULL || !op_count_opened (op, prep, &error))
    {
      g_clear_pointer (&prep, prepared_free); /* (what it opened closed at once) */
      g_task_return_error (task, g_steal_pointer (&error));
    }
  else
    {
      op_prepared (op, prep);
      g_task_return_boolean (task, TRUE);
    }
}

/* Resolves @op's paths in a worker thread, with the caller's credentials. */
static void
start_preparing (Op *op)
{
  Engine *self = op->self;
  g_autoptr (GTask) task = NULL;
  PrepareJob *job;

  job = g_new0 (PrepareJob, 1);
  job->entry = op->entry;
  job->mounter = g_object_ref (vcm_rootfs_manager_get_mounter (self->rootfs));
  job->params = g_variant_ref (op->params);
  job->creds = vcm_credentials_copy (op->caller->creds);
  job->prep = prepared_new (op->request);
  task = g_task_new (self->object, self->cancellable, on_prepared_in_thread, op);
  g_task_set_task_data (task, job, (GDestroyNotify) prepare_job_free);
  g_task_run_in_thread (task, prepare_in_thread);
}

/* A request waiting for a worker thread goes through the gate. */
static void
on_resolving_open (VcmGateEntry *entry, gpointer user_data)
{
  Op *op = OP_OF (entry, resolving);

  op_through_gate (op);
  start_preparing (op);
}

static gboolean
engine_validate (VcmEngine *engine, const char *method, GVariant *params, GError **error)
{
  const MethodEntry *entry = vcm_engine_lookup_method (method);

  if (entry == NULL)
    {
      g_set_error (error, VCM_ERROR, VCM_ERROR_NOT_AUTHORIZED,
                   "%s: no authorization is defined for this method", method);
      return FALSE;
    }
  return entry->validate (params, error);
}

/* Prepares @op (root's) here and now where nothing need wait: a method that
 * looks at nothing of the caller's, or root's fd (engine_prepare_at_once).
 * TRUE when it was tried (prepared, or refused with @error); FALSE: in a
 * worker thread it is. */
static gboolean
op_prepare_now (Op *op, GError **error)
{
  Engine *self = op->self;
  g_autoptr (Prepared) prep = prepared_new (op->request);
  VcmMounter *mounter = vcm_rootfs_manager_get_mounter (self->rootfs);
  g_autoptr (GError) local = NULL;
  gboolean ok;

  if (op->tried_now)
    return FALSE;
  op->tried_now = TRUE;
  ok = op->entry->resolves ? engine_prepare_at_once (op->entry, mounter, op->params, prep, &local)
                           : op->entry->prepare (mounter, op->params, op->caller->creds, prep, &local);
  if (ok && op_count_opened (op, prep, &local))
    op_prepared (op, g_steal_pointer (&prep));
  else if (ok)
    g_propagate_error (error, g_steal_pointer (&local)); /* (what it opened closed at once) */
  else if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
    return FALSE;
  else
    g_propagate_error (error, g_steal_pointer (&local));
  return TRUE;
}

static gboolean
engine_prepare_now (VcmEngine *engine, VcmRequest *request, GError **error)
{
  Engine *self = ENGINE (engine);
  Op *op = op_of (self, request);

  if (self->stopping || op->entry == NULL || op->caller->uid != 0)
    return FALSE;
  return op_prepare_now (op, error) && (error == NULL || *error == NULL);
}

static void
engine_prepare_async (VcmEngine *engine,
                      VcmRequest *request,
                      GCancellable *cancellable,
                      GAsyncReadyCallback callback,
                      gpointer user_data)
{
  Engine *self = ENGINE (engine);
  Op *op = op_of (self, request);
  g_autoptr (GError) error = NULL;

  op->task = op_task (op, cancellable, callback, user_data);
  if (self->stopping || op->entry == NULL)
    {
      op_return_stopping (op);
      return;
    }
  if (op->caller->uid != 0)
    {
      op->n_fds = request->fds != NULL ? (guint) g_unix_fd_list_get_length (request->fds) : 0;
      if (!vcm_admission_enter (self->admission, op->caller->uid, op->n_fds, request->granted, &error))
        {
          g_task_return_error (op->task, g_steal_pointer (&error));
          g_clear_object (&op->task);
          return;
        }
      op->admitted = TRUE;
    }
  if ((!op->entry->resolves || op->caller->uid == 0) && op_prepare_now (op, &error))
    {
      /* nothing of the caller's to look at, or root's fd whose filesystem
       * need not be asked: prepared here and now */
      if (error != NULL)
        g_task_return_error (op->task, g_steal_pointer (&error));
      else
        g_task_return_boolean (op->task, TRUE);
      g_clear_object (&op->task);
      return;
    }
  if (op_enter_gate (op, self->resolving, &op->resolving, request->granted))
    start_preparing (op);
}

static gboolean
engine_prepare_finish (VcmEngine *engine, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- run -------------------------------------------------------------------------- */

void
op_return (Op *call, GVariant *reply)
{
  g_task_return_pointer (call->task, g_variant_ref_sink (reply), (GDestroyNotify) g_variant_unref);
}

void
op_return_error (Op *call, GError *error)
{
  g_task_return_error (call->task, g_error_copy (error));
}

void
op_start_running (Op *call, void (*start) (Op *call))
{
  call->start_run = start;
  /* (authorized: it may use the share kept for users with a grant) */
  if (op_enter_gate (call, call->self->running, &call->running, TRUE))
    start (call);
}

gboolean
op_done_running (Op *call)
{
  if (call->running.inside)
    vcm_gate_leave (call->self->running, &call->running);
  if (!call->self->stopping)
    return TRUE;
  op_return_stopping (call);
  return FALSE;
}

/* An authorized request waiting for a worker thread to run it goes through
 * the gate. */
static void
on_running_open (VcmGateEntry *entry, gpointer user_data)
{
  Op *op = OP_OF (entry, running);

  op_through_gate (op);
  op->start_run (op);
}

static void
engine_run_async (VcmEngine *engine,
                  VcmRequest *request,
                  GCancellable *cancellable,
                  GAsyncReadyCallback callback,
                  gpointer user_data)
{
  Engine *self = ENGINE (engine);
  Op *op = op_of (self, request);

  g_return_if_fail (op->prep != NULL);
  op->task = op_task (op, cancellable, callback, user_data);
  if (self->stopping)
    {
      op_return_stopping (op);
      return;
    }
  /* what an unmount's end gives back was counted before this: not the
   * count of a mount made at the same place while it ran */
  if (self->rootfs != NULL)
    op->holdings_mark =
      vcm_holdings_mark (vcm_mounter_get_holdings (vcm_rootfs_manager_get_mounter (self->rootfs)));
  if (!op->entry->run (self, op, op->params))
    g_clear_object (&op->task); /* answered already */
}

static GVariant *
engine_run_finish (VcmEngine *engine, GAsyncResult *result, GUnixFDList **out_fds, GError **error)
{
  VcmRequest *request = g_task_get_task_data (G_TASK (result));
  GVariant *reply = g_task_propagate_pointer (G_TASK (result), error);
  Op *op = request->engine_data;

  if (out_fds != NULL)
    *out_fds = reply != NULL && op->reply_fds != NULL ? g_steal_pointer (&op->reply_fds) : NULL;
  return reply;
}

/* ---- changes --------------------------------------------------------------------- */

void
engine_emit_mount_added (Engine *self, GVariant *info)
{
  g_signal_emit (self->object, signals[SIGNAL_MOUNT_ADDED], 0, info);
}

void
engine_emit_mount_removed (Engine *self, GVariant *info, GStrv detached)
{
  g_signal_emit (self->object, signals[SIGNAL_MOUNT_REMOVED], 0, info, detached);
}

static void
on_change (VcmRootfsManager *rootfs, const VcmChange *change, gpointer user_data)
{
  Engine *self = user_data;
  const VcmRootfsRecord *r = change->rootfs;

  /* a rootfs gone behind the service's back: what its caller held there
   * is given back (that mount's, not one made at its place since) */
  if (change->kind == VCM_CHANGE_VANISHED && r->mount_id != 0)
    vcm_holdings_drop (vcm_mounter_get_holdings (vcm_rootfs_manager_get_mounter (rootfs)),
                       r->mount_point, r->mount_id, r->unique_id);
  if (change->kind != VCM_CHANGE_MOUNTED && change->kind != VCM_CHANGE_UNMOUNTED)
    vcm_log_op (G_LOG_LEVEL_INFO, MSGID_FOREIGN, NULL,
                "rootfs %s/%s at %s: %s (not made by this service)", r->sandbox_id, r->container_id,
                r->mount_point, vcm_change_kind_to_string (change->kind));
  g_signal_emit (self->object, signals[SIGNAL_ROOTFS_CHANGED], 0, change);
}

/* ---- properties and life cycle ------------------------------------------------ */

static const char *
engine_get_shared_dir (VcmEngine *engine)
{
  Engine *self = ENGINE (engine);

  return self->rootfs != NULL ? vcm_rootfs_manager_get_shared_dir (self->rootfs) : NULL;
}

static guint64
engine_get_generation (VcmEngine *engine)
{
  Engine *self = ENGINE (engine);

  return self->rootfs != NULL ? vcm_rootfs_manager_get_generation (self->rootfs) : 0;
}

static guint64
engine_get_default_shm_size (VcmEngine *engine)
{
  return DEFAULT_SHM_SIZE;
}

static void
engine_shutdown (VcmEngine *engine)
{
  Engine *self = ENGINE (engine);
  VcmGateEntry *entry;

  if (self->stopping)
    return;
  self->stopping = TRUE;
  /* requests waiting for a thread are answered now; those in flight land
   * "stopping", cancelled */
  while ((entry = vcm_gate_pop_queued (self->resolving)) != NULL)
    {
      Op *op = OP_OF (entry, resolving);

      op_through_gate (op);
      op_return_stopping (op);
    }
  while ((entry = vcm_gate_pop_queued (self->running)) != NULL)
    {
      Op *op = OP_OF (entry, running);

      op_through_gate (op);
      op_return_stopping (op);
    }
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->query);
  g_clear_signal_handler (&self->changed_id, self->rootfs);
  g_clear_object (&self->rootfs);
}

static void
vcm_engine_dispose (GObject *object)
{
  vcm_engine_shutdown (VCM_ENGINE (object));
  G_OBJECT_CLASS (vcm_engine_parent_class)->dispose (object);
}

static void
vcm_engine_finalize (GObject *object)
{
  Engine *self = ENGINE (VCM_ENGINE (object));

  g_clear_pointer (&self->identities, g_hash_table_unref);
  g_clear_pointer (&self->resolving, vcm_gate_free);
  g_clear_pointer (&self->running, vcm_gate_free);
  g_clear_pointer (&self->admission, vcm_admission_free);
  g_clear_object (&self->cancellable);
  G_OBJECT_CLASS (vcm_engine_parent_class)->finalize (object);
}

static void
vcm_engine_class_init (VcmEngineClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = vcm_engine_dispose;
  object_class->finalize = vcm_engine_finalize;
  klass->validate = engine_validate;
  klass->prepare_async = engine_prepare_async;
  klass->prepare_finish = engine_prepare_finish;
  klass->prepare_now = engine_prepare_now;
  klass->run_async = engine_run_async;
  klass->run_finish = engine_run_finish;
  klass->get_shared_dir = engine_get_shared_dir;
  klass->get_generation = engine_get_generation;
  klass->get_default_shm_size = engine_get_default_shm_size;
  klass->shutdown = engine_shutdown;

  signals[SIGNAL_ROOTFS_CHANGED] =
    g_signal_new ("rootfs-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_POINTER);
  signals[SIGNAL_MOUNT_ADDED] =
    g_signal_new ("mount-added", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_VARIANT);
  signals[SIGNAL_MOUNT_REMOVED] =
    g_signal_new ("mount-removed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_VARIANT, G_TYPE_STRV);
}

static void
vcm_engine_init (VcmEngine *engine)
{
  Engine *self = ENGINE (engine);

  self->object = engine;
  self->cancellable = g_cancellable_new ();
  self->identities =
    g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) known_free);
  self->admission = vcm_admission_new ();
  self->resolving =
    vcm_gate_new (MAX_RESOLVING_PER_UID, MAX_RESOLVING, RESERVED_RESOLVING, on_resolving_open, self);
  self->running = vcm_gate_new (MAX_RUNNING_PER_UID, MAX_RUNNING, 0, on_running_open, self);
}

VcmEngine *
vcm_engine_new (const VcmConfig *config, GError **error)
{
  g_autoptr (VcmEngine) engine = g_object_new (VCM_TYPE_ENGINE, NULL);
  Engine *self = ENGINE (engine);

  self->rootfs = vcm_rootfs_manager_new (config->shared_dir, VCM_MOUNTER_FLAGS_NONE, error);
  if (self->rootfs == NULL)
    return NULL;
  self->changed_id = g_signal_connect (self->rootfs, "changed", G_CALLBACK (on_change), self);
  self->query = vcm_query_new (config->sysfs_root, vcm_rootfs_manager_get_table,
                               g_object_ref (self->rootfs), g_object_unref);
  return g_steal_pointer (&engine);
}

/* ---- the class's calls ------------------------------------------------------- */

gboolean
vcm_engine_validate (VcmEngine *engine, const char *method, GVariant *params, GError **error)
{
  return VCM_ENGINE_GET_CLASS (engine)->validate (engine, method, params, error);
}

void
vcm_engine_prepare_async (VcmEngine *engine,
                          VcmRequest *request,
                          GCancellable *cancellable,
                          GAsyncReadyCallback callback,
                          gpointer user_data)
{
  VCM_ENGINE_GET_CLASS (engine)->prepare_async (engine, request, cancellable, callback, user_data);
}

gboolean
vcm_engine_prepare_finish (VcmEngine *engine, GAsyncResult *result, GError **error)
{
  return VCM_ENGINE_GET_CLASS (engine)->prepare_finish (engine, result, error);
}

gboolean
vcm_engine_prepare_now (VcmEngine *engine, VcmRequest *request, GError **error)
{
  VcmEngineClass *klass = VCM_ENGINE_GET_CLASS (engine);

  return klass->prepare_now != NULL && klass->prepare_now (engine, request, error);
}

void
vcm_engine_run_async (VcmEngine *engine,
                      VcmRequest *request,
                      GCancellable *cancellable,
                      GAsyncReadyCallback callback,
                      gpointer user_data)
{
  VCM_ENGINE_GET_CLASS (engine)->run_async (engine, request, cancellable, callback, user_data);
}

GVariant *
vcm_engine_run_finish (VcmEngine *engine, GAsyncResult *result, GUnixFDList **out_fds, GError **error)
{
  return VCM_ENGINE_GET_CLASS (engine)->run_finish (engine, result, out_fds, error);
}

const char *
vcm_engine_get_shared_dir (VcmEngine *engine)
{
  return VCM_ENGINE_GET_CLASS (engine)->get_shared_dir (engine);
}

guint64
vcm_engine_get_generation (VcmEngine *engine)
{
  return VCM_ENGINE_GET_CLASS (engine)->get_generation (engine);
}

guint64
vcm_engine_get_default_shm_size (VcmEngine *engine)
{
  return VCM_ENGINE_GET_CLASS (engine)->get_default_shm_size (engine);
}

void
vcm_engine_shutdown (VcmEngine *engine)
{
  VCM_ENGINE_GET_CLASS (engine)->shutdown (engine);
}
