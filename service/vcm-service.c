/* vcm-service: the D-Bus layer. Exports org.vc.Mount and takes every call
 * through one pipeline, whatever the method: the arguments checked by the
 * engine, the caller identified and every action the engine names checked
 * through the authorizer (polkit), the engine's request prepared and run,
 * its answer sent; the engine's changes become signals and the Generation
 * property. It knows no method: the engine (vcm-engine) does, and nothing
 * here touches a mount or a path. */
#include "config.h"

#include <gio/gunixfdlist.h>

#include "vcm-admission.h"
#include "vcm-authorizer.h"
#include "vcm-engine.h"
#include "vcm-error.h"
#include "vcm-generated.h"
#include "vcm-intake.h"
#include "vcm-log.h"
#include "vcm-senders.h"
#include "vcm-service.h"

/* Polkit checks of users that are not root at once, per user and in all
 * (of which RESERVED_CHECKING for users with a grant); beyond, a call waits
 * its turn, in order, users served in turn: polkit is never asked more than
 * it can answer. */
#define MAX_CHECKING_PER_UID VCM_AUTH_MAX_PENDING_PER_UID
#define MAX_CHECKING         VCM_AUTH_MAX_PENDING
#define RESERVED_CHECKING    16

struct _VcmService {
  GObject parent;
  GDBusConnection *connection;
  GDBusConnection *questions; /* where the bus says who left it */
  VcmDBusMount *skeleton;
  VcmEngine *engine; /* the domain: what each method does */
  gulong engine_ids[3];
  VcmAuthorizer *auth;
  VcmIntake *intake;           /* bounds what waits for the main loop */
  gboolean stopping;           /* shut down: calls still in flight are refused */
  GCancellable *cancellable;   /* cancelled at shutdown */
  GHashTable *calls;           /* set of Call in flight */
  GHashTable *calls_by_sender; /* unique name -> GQueue of its Calls */
  VcmSenders *senders;         /* who left the bus, as soon as the bus says so */
  guint name_lost_sub;
  VcmGate *checking; /* calls of users that are not root being checked by polkit */
};

G_DEFINE_FINAL_TYPE (VcmService, vcm_service, G_TYPE_OBJECT)

/* One call on its way: validated, identified, prepared, authorized, run. */
typedef struct {
  VcmService *self; /* a reference */
  GDBusMethodInvocation *invocation;
  VcmCaller *caller;
  VcmRequest *request;       /* the engine's, once identified */
  GCancellable *cancellable; /* cancelled when its sender leaves the bus */
  guint action;              /* the request's action being checked */
  VcmGateEntry checking;     /* at the gate of polkit checks */
  gboolean gone;             /* its sender left the bus: nobody to answer */
  GList by_sender;           /* in calls_by_sender */
} Call;

static void
return_error (GDBusMethodInvocation *invocation, VcmCaller *caller, GError *error)
{
  const char *method = g_dbus_method_invocation_get_method_name (invocation);

  if (g_error_matches (error, VCM_ERROR, VCM_ERROR_NOT_AUTHORIZED) ||
      g_error_matches (error, VCM_ERROR, VCM_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED))
    vcm_log_op (G_LOG_LEVEL_MESSAGE, MSGID_REFUSED, caller, "%s refused: %s", method, error->message);
  else
    vcm_log_op (G_LOG_LEVEL_DEBUG, MSGID_FAILED, caller, "%s failed: %s", method, error->message);
  g_dbus_method_invocation_return_gerror (invocation, error);
}

/* ---- changes → signals -------------------------------------------------------- */

static void
on_rootfs_changed (VcmEngine *engine, const VcmChange *change, gpointer user_data)
{
  VcmService *self = user_data;
  const VcmRootfsRecord *r = change->rootfs;

  vcm_dbus_mount_set_generation (self->skeleton, change->generation);
  switch (change->kind)
    {
    case VCM_CHANGE_MOUNTED:
      vcm_dbus_mount_emit_rootfs_mounted (self->skeleton, change->generation, r->sandbox_id,
                                          r->container_id, r->mount_point, r->read_only);
      break;
    case VCM_CHANGE_UNMOUNTED:
      vcm_dbus_mount_emit_rootfs_unmounted (self->skeleton, change->generation, r->sandbox_id,
                                            r->container_id, r->mount_point, change->detached);
      break;
    case VCM_CHANGE_SUBMOUNT_ADDED:
    case VCM_CHANGE_SUBMOUNT_REMOVED:
    case VCM_CHANGE_REMOUNTED:
    case VCM_CHANGE_VANISHED:
    default:
      vcm_dbus_mount_emit_rootfs_changed (self->skeleton, change->generation, r->sandbox_id,
                                          r->container_id, r->mount_point,
                                          vcm_change_kind_to_string (change->kind));
      break;
    }
}

static void
on_mount_added (VcmEngine *engine, GVariant *info, gpointer user_data)
{
  VcmService *self = user_data;

  vcm_dbus_mount_emit_mount_added (self->skeleton, vcm_engine_get_generation (engine), info);
}

static void
on_mount_removed (VcmEngine *engine, GVariant *info, GStrv detached, gpointer user_data)
{
  VcmService *self = user_data;

  vcm_dbus_mount_emit_mount_removed (self->skeleton, vcm_engine_get_generation (engine), info,
                                     (const char *const *) detached);
}

/* ---- the pipeline ---------------------------------------------------------------- */

static void
call_free (Call *call)
{
  const char *sender = g_dbus_method_invocation_get_sender (call->invocation);
  GQueue *same = sender != NULL ? g_hash_table_lookup (call->self->calls_by_sender, sender) : NULL;

  if (same != NULL)
    {
      g_queue_unlink (same, &call->by_sender);
      if (g_queue_is_empty (same))
        g_hash_table_remove (call->self->calls_by_sender, sender);
    }
  if (call->checking.queued)
    vcm_gate_cancel (call->self->checking, &call->checking);
  if (call->checking.inside)
    vcm_gate_leave (call->self->checking, &call->checking);
  g_hash_table_remove (call->self->calls, call);
  g_clear_pointer (&call->request, vcm_request_unref);
  g_object_unref (call->self);
  g_clear_object (&call->invocation);
  g_clear_object (&call->cancellable);
  g_clear_pointer (&call->caller, vcm_caller_unref);
  g_free (call);
}

/* A call whose sender left the bus ends unanswered: the reference an
 * answer would have taken is dropped with it. */
static void
call_drop (Call *call)
{
  g_object_unref (call->invocation);
  call_free (call);
}

/* FALSE (and the call answered and freed) when the service was shut down
 * meanwhile: its parts are gone; or (freed unanswered) when its sender left
 * the bus. */
static gboolean
call_still_served (Call *call)
{
  if (call->gone)
    {
      call_drop (call);
      return FALSE;
    }
  if (!call->self->stopping)
    return TRUE;
  g_dbus_method_invocation_return_error (call->invocation, VCM_ERROR, VCM_ERROR_FAILED,
                                         "the service is stopping");
  call_free (call);
  return FALSE;
}

/* Answers @call with @error, or drops it where its sender left (the engine
 * ended its work cancelled) or polkit found it gone. */
static void
call_fail (Call *call, GError *error)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CLOSED) ||
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    call_drop (call);
  else
    {
      return_error (call->invocation, call->caller, error);
      call_free (call);
    }
}

static void
on_ran (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Call *call = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GUnixFDList) fds = NULL;
  g_autoptr (GVariant) reply = vcm_engine_run_finish (VCM_ENGINE (source), result, &fds, &error);

  if (!call_still_served (call))
    return;
  if (reply == NULL)
    {
      call_fail (call, error);
      return;
    }
  g_dbus_method_invocation_return_value_with_unix_fd_list (call->invocation, reply, fds);
  call_free (call);
}

static void check (Call *call);

static void
on_authorized (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Call *call = user_data;
  g_autoptr (GError) error = NULL;

  if (call->checking.inside)
    vcm_gate_leave (call->self->checking, &call->checking);
  if (!call_still_served (call))
    return;
  if (!vcm_authorizer_check_finish (call->self->auth, result, &error))
    {
      call_fail (call, error);
      return;
    }
  /* every action the engine named must allow it */
  if (call->request->actions[++call->action] != NULL)
    {
      check (call);
      return;
    }
  vcm_engine_run_async (call->self->engine, call->request, call->cancellable, on_ran, call);
}

/* What polkit is asked about the request's action call->action. */
static VcmAuthQuestion
question_of (Call *call)
{
  return (VcmAuthQuestion){
    .invocation = call->invocation,
    .caller = call->caller,
    .action_id = call->request->actions[call->action],
    .message = call->request->message,
    .details = call->request->details,
  };
}

/* Asks polkit about the request's action call->action. */
static void
start_checking (Call *call)
{
  VcmAuthQuestion question = question_of (call);

  vcm_authorizer_check_async (call->self->auth, &question, call->self->cancellable, on_authorized, call);
}

/* Through the gate of checks for a user that is not root; what the
 * authorizer allows without asking (root) at once, and then the request
 * runs without another turn of the main loop. */
static void
check (Call *call)
{
  for (;;)
    {
      VcmAuthQuestion question = question_of (call);

      if (!vcm_authorizer_allows_at_once (call->self->auth, &question))
        break;
      if (call->request->actions[++call->action] == NULL)
        {
          vcm_engine_run_async (call->self->engine, call->request, call->cancellable, on_ran, call);
          return;
        }
    }
  if (call->caller->uid != 0)
    {
      call->checking.uid = call->caller->uid;
      call->checking.granted = call->request->granted;
      if (!vcm_gate_enter (call->self->checking, &call->checking))
        return; /* started by on_checking_open() in its turn */
    }
  start_checking (call);
}

/* The Call whose gate entry @entry is. */
#define CALL_OF(entry) ((Call *) ((guint8 *) (entry) -G_STRUCT_OFFSET (Call, checking)))

/* A call waiting for its polkit check goes through the gate. */
static void
on_checking_open (VcmGateEntry *entry, gpointer user_data)
{
  start_checking (CALL_OF (entry));
}

/* @call's request is prepared: its actions are checked. */
static void
prepared (Call *call)
{
  g_autoptr (GError) error = NULL;

  if (call->request->actions[0] == NULL)
    {
      g_set_error (&error, VCM_ERROR, VCM_ERROR_NOT_AUTHORIZED, "%s: no authorization is defined",
                   call->request->method);
      call_fail (call, error);
      return;
    }
  call->action = 0;
  check (call);
}

static void
on_prepared (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Call *call = user_data;
  g_autoptr (GError) error = NULL;
  gboolean ok = vcm_engine_prepare_finish (VCM_ENGINE (source), result, &error);

  if (!call_still_served (call))
    return;
  if (!ok)
    {
      call_fail (call, error);
      return;
    }
  prepared (call);
}

/* @call's caller is known (call->caller): its request is prepared. */
static void
identified (Call *call)
{
  VcmService *self = call->self;
  GDBusMessage *message = g_dbus_method_invocation_get_message (call->invocation);
  g_autoptr (GError) error = NULL;

  call->request = vcm_request_new (g_dbus_method_invocation_get_method_name (call->invocation),
                                   g_dbus_method_invocation_get_parameters (call->invocation),
                                   g_dbus_message_get_unix_fd_list (message), call->caller,
                                   call->caller->uid != 0 &&
                                     vcm_authorizer_was_granted (self->auth, call->caller->uid));
  /* what need not wait (root's, walking no path) without a turn of the
   * main loop */
  if (vcm_engine_prepare_now (self->engine, call->request, &error))
    prepared (call);
  else if (error != NULL)
    call_fail (call, error);
  else
    vcm_engine_prepare_async (self->engine, call->request, call->cancellable, on_prepared, call);
}

static void
on_identified (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Call *call = user_data;
  g_autoptr (GError) error = NULL;

  if (!call_still_served (call))
    return;
  call->caller = vcm_authorizer_identify_finish (call->self->auth, result, &error);
  if (call->caller == NULL)
    {
      call_fail (call, error); /* (dropped where it left the bus before) */
      return;
    }
  identified (call);
}

/* A sender left the bus: the authorizer forgets it, and its calls are
 * dropped, at once where they wait their turn, as their work in flight
 * lands otherwise. (One subscriber for both: each is a turn of the main
 * loop per connection that leaves, a flood's included.) */
static void
on_sender_gone (const char *name, gpointer user_data)
{
  VcmService *self = user_data;
  GQueue *same;
  GList *l, *next;

  if (self->auth != NULL)
    vcm_authorizer_sender_gone (self->auth, name);
  same = g_hash_table_lookup (self->calls_by_sender, name);
  for (l = same != NULL ? same->head : NULL; l != NULL; l = next)
    {
      Call *call = l->data;

      next = l->next; /* (the last call frees the queue) */
      call->gone = TRUE;
      if (call->checking.queued)
        call_drop (call); /* (out of the queue) */
      else
        g_cancellable_cancel (call->cancellable); /* the engine's queues: may drop it now */
    }
}

static void
dispatch (VcmService *self, GDBusMethodInvocation *invocation)
{
  g_autoptr (GError) error = NULL;
  Call *call;

  if (self->intake != NULL &&
      !vcm_intake_take (self->intake, g_dbus_method_invocation_get_message (invocation)))
    {
      /* its sender left the bus: nobody to answer, nothing to do */
      g_object_unref (invocation);
      return;
    }
  /* Size and syntax first: nothing of a malformed call is kept or sent on. */
  if (self->stopping ||
      !vcm_engine_validate (self->engine, g_dbus_method_invocation_get_method_name (invocation),
                            g_dbus_method_invocation_get_parameters (invocation), &error))
    {
      if (error != NULL)
        return_error (invocation, NULL, error);
      else
        g_dbus_method_invocation_return_error (invocation, VCM_ERROR, VCM_ERROR_FAILED,
                                               "the service is stopping");
      return;
    }
  call = g_new0 (Call, 1);
  call->self = g_object_ref (self);
  call->invocation = g_object_ref (invocation);
  call->cancellable = g_cancellable_new ();
  call->by_sender.data = call;
  g_hash_table_add (self->calls, call);
  if (g_dbus_method_invocation_get_sender (invocation) != NULL)
    {
      const char *sender = g_dbus_method_invocation_get_sender (invocation);
      GQueue *same = g_hash_table_lookup (self->calls_by_sender, sender);

      if (same == NULL)
        {
          same = g_queue_new ();
          g_hash_table_insert (self->calls_by_sender, g_strdup (sender), same);
        }
      g_queue_push_tail_link (same, &call->by_sender);
    }
  /* a sender seen before is known at once: no turn of the main loop */
  call->caller = vcm_authorizer_lookup (self->auth, invocation);
  if (call->caller != NULL)
    identified (call);
  else
    vcm_authorizer_identify_async (self->auth, invocation, self->cancellable, on_identified, call);
}

/* The generated skeleton with its method calls handed to the pipeline as
 * they come: the generated handler would convert every argument to a GValue
 * and emit a handle-* signal first, for each call, a flood's included. */
#define VCM_TYPE_SERVICE_SKELETON (vcm_service_skeleton_get_type ())
G_DECLARE_FINAL_TYPE (
  VcmServiceSkeleton, vcm_service_skeleton, VCM, SERVICE_SKELETON, VcmDBusMountSkeleton)

struct _VcmServiceSkeleton {
  VcmDBusMountSkeleton parent;
  VcmService *service; /* (not a reference: it owns the skeleton) */
};

G_DEFINE_FINAL_TYPE (VcmServiceSkeleton, vcm_service_skeleton, VCM_DBUS_TYPE_MOUNT_SKELETON)

/* Every method of the interface (GDBus answers a call of another method, or
 * with another signature, itself). */
static void
on_method_call (GDBusConnection *connection,
                const char *sender,
                const char *object_path,
                const char *interface_name,
                const char *method_name,
                GVariant *parameters,
                GDBusMethodInvocation *invocation,
                gpointer user_data)
{
  VcmServiceSkeleton *skeleton = user_data;

  if (skeleton->service != NULL)
    dispatch (skeleton->service, invocation);
  else
    g_dbus_method_invocation_return_error (invocation, VCM_ERROR, VCM_ERROR_FAILED,
                                           "the service is stopping");
}

static GDBusInterfaceVTable *
service_skeleton_get_vtable (GDBusInterfaceSkeleton *skeleton)
{
  static GDBusInterfaceVTable vtable;
  static gsize done = 0;

  if (g_once_init_enter (&done))
    {
      vtable =
        *G_DBUS_INTERFACE_SKELETON_CLASS (vcm_service_skeleton_parent_class)->get_vtable (skeleton);
      vtable.method_call = on_method_call;
      g_once_init_leave (&done, 1);
    }
  return &vtable;
}

static void
vcm_service_skeleton_class_init (VcmServiceSkeletonClass *klass)
{
  G_DBUS_INTERFACE_SKELETON_CLASS (klass)->get_vtable = service_skeleton_get_vtable;
}

static void
vcm_service_skeleton_init (VcmServiceSkeleton *skeleton)
{
}

/* ---- life cycle -------------------------------------------------------------- */

static void
vcm_service_dispose (GObject *object)
{
  vcm_service_shutdown (VCM_SERVICE (object));
  G_OBJECT_CLASS (vcm_service_parent_class)->dispose (object);
}

static void
vcm_service_finalize (GObject *object)
{
  VcmService *self = VCM_SERVICE (object);

  g_clear_pointer (&self->intake, vcm_intake_free);
  g_clear_pointer (&self->senders, vcm_senders_unref);
  g_clear_object (&self->questions);
  g_clear_pointer (&self->calls, g_hash_table_unref);
  g_clear_pointer (&self->calls_by_sender, g_hash_table_unref);
  g_clear_pointer (&self->checking, vcm_gate_free);
  g_clear_object (&self->cancellable);
  G_OBJECT_CLASS (vcm_service_parent_class)->finalize (object);
}

static void
vcm_service_class_init (VcmServiceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = vcm_service_dispose;
  object_class->finalize = vcm_service_finalize;
}

static void
vcm_service_init (VcmService *self)
{
  self->cancellable = g_cancellable_new ();
  self->calls = g_hash_table_new (NULL, NULL);
  self->calls_by_sender =
    g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_queue_free);
  self->checking =
    vcm_gate_new (MAX_CHECKING_PER_UID, MAX_CHECKING, RESERVED_CHECKING, on_checking_open, self);
}

VcmService *
vcm_service_new_with (GDBusConnection *connection,
                      GDBusConnection *questions,
                      VcmAuthorizer *auth,
                      VcmEngine *engine,
                      GError **error)
{
  g_autoptr (VcmService) self = g_object_new (VCM_TYPE_SERVICE, NULL);

  self->connection = g_object_ref (connection);
  self->questions = g_object_ref (questions);
  self->skeleton = g_object_new (VCM_TYPE_SERVICE_SKELETON, NULL);
  VCM_SERVICE_SKELETON (self->skeleton)->service = self;
  self->engine = g_object_ref (engine);
  self->engine_ids[0] =
    g_signal_connect (engine, "rootfs-changed", G_CALLBACK (on_rootfs_changed), self);
  self->engine_ids[1] = g_signal_connect (engine, "mount-added", G_CALLBACK (on_mount_added), self);
  self->engine_ids[2] = g_signal_connect (engine, "mount-removed", G_CALLBACK (on_mount_removed), self);
  self->auth = g_object_ref (auth);
  /* Who left is asked of the bus where the service asks its questions:
   * there the news is not queued behind the calls sent to the service,
   * those of whoever left included. */
  self->senders = vcm_senders_new (questions);
  self->name_lost_sub = vcm_senders_watch_gone (questions, on_sender_gone, self);

  vcm_dbus_mount_set_version (self->skeleton, VCM_VERSION);
  vcm_dbus_mount_set_shared_dir (self->skeleton, vcm_engine_get_shared_dir (engine));
  vcm_dbus_mount_set_default_shm_size (self->skeleton, vcm_engine_get_default_shm_size (engine));
  vcm_dbus_mount_set_generation (self->skeleton, vcm_engine_get_generation (engine));

  self->intake =
    vcm_intake_new (connection, self->senders, vcm_dbus_mount_interface_info (), VCM_OBJECT_PATH,
                    "org.vc.Mount.Error.LimitsExceeded", "org.vc.Mount.Error.InvalidArgument");
  if (!g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (self->skeleton), connection,
                                         VCM_OBJECT_PATH, error))
    return NULL;
  return g_steal_pointer (&self);
}

VcmService *
vcm_service_new (GDBusConnection *connection,
                 GDBusConnection *questions,
                 const VcmConfig *config,
                 GError **error)
{
  g_autoptr (VcmEngine) engine = vcm_engine_new (config, error);
  g_autoptr (VcmAuth) auth = NULL;

  if (engine == NULL)
    return NULL;
  auth = vcm_auth_new (connection, questions, config->auth_timeout_ms);
  return vcm_service_new_with (connection, questions, VCM_AUTHORIZER (auth), engine, error);
}

void
vcm_service_shutdown (VcmService *self)
{
  VcmGateEntry *entry;

  if (self->stopping)
    return;
  self->stopping = TRUE;
  if (self->intake != NULL)
    {
      guint refused, dropped, dropped_early;

      vcm_intake_get_counts (self->intake, &refused, &dropped, &dropped_early);
      g_debug ("calls refused before the main loop took them: %u; dropped, their caller gone: %u "
               "(%u of them before the main loop saw them)",
               refused, dropped, dropped_early);
    }
  if (self->skeleton != NULL)
    VCM_SERVICE_SKELETON (self->skeleton)->service = NULL;
  if (self->skeleton != NULL &&
      g_dbus_interface_skeleton_get_connection (G_DBUS_INTERFACE_SKELETON (self->skeleton)) != NULL)
    g_dbus_interface_skeleton_unexport (G_DBUS_INTERFACE_SKELETON (self->skeleton));
  /* calls waiting their turn are answered now (the engine's as their work
   * ends "stopping"); those in flight hold the service: they are answered
   * "stopping" as their callbacks land, cancelled */
  while ((entry = vcm_gate_pop_queued (self->checking)) != NULL)
    (void) call_still_served (CALL_OF (entry));
  if (self->engine != NULL)
    {
      for (guint i = 0; i < G_N_ELEMENTS (self->engine_ids); i++)
        g_clear_signal_handler (&self->engine_ids[i], self->engine);
      vcm_engine_shutdown (self->engine);
    }
  g_cancellable_cancel (self->cancellable);
  if (self->auth != NULL)
    vcm_authorizer_shutdown (self->auth);
  g_clear_object (&self->auth);
  if (self->name_lost_sub != 0)
    g_dbus_connection_signal_unsubscribe (self->questions, self->name_lost_sub);
  self->name_lost_sub = 0;
  g_clear_object (&self->engine);
  g_clear_object (&self->skeleton);
  g_clear_object (&self->connection);
}

guint
vcm_service_get_calls_in_flight (VcmService *self)
{
  return g_hash_table_size (self->calls);
}
