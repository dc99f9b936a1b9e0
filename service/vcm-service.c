/* vcm-service: the D-Bus layer. Exports org.vc.Mount, authorizes every call
 * through the one method→action table, unpacks arguments, calls the mount and
 * query logic, and turns results and changes into replies and signals.
 * Nothing here touches a mount itself. */
#include "config.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <gio/gunixfdlist.h>

#include <gio/gunixfdlist.h>

#include "vcm-admission.h"
#include "vcm-auth.h"
#include "vcm-callerproc.h"
#include "vcm-fd.h"
#include "vcm-fdsource.h"
#include "vcm-fsgate.h"
#include "vcm-identity.h"
#include "vcm-idmap.h"
#include "vcm-mount-policy.h"
#include "vcm-mountopts.h"
#include "vcm-error.h"
#include "vcm-generated.h"
#include "vcm-intake.h"
#include "vcm-memory.h"
#include "vcm-prompt.h"
#include "vcm-query.h"
#include "vcm-rootfs-manager.h"
#include "vcm-service.h"
#include "vcm-validate.h"

#define DEFAULT_SHM_SIZE (G_GUINT64_CONSTANT (65536) * 1024)

/* asked as well as the method's action for a writable mount of a tree the
 * caller does not own (vcm-mount-policy decides) */
#define ACTION_WRITE_FOREIGN "org.vc.mount.write-foreign"
/* asked as well as org.vc.mount.bind for a general bind or unmount in a
 * rootfs (vcm-layout decides) */
#define ACTION_MANAGE_ROOTFS "org.vc.mount.manage-rootfs"

/* journal MESSAGE_IDs */
#define MSGID_MOUNTED   "8c1e4b7f0a3d4c52b1f9e2a6d7c30511"
#define MSGID_UNMOUNTED "8c1e4b7f0a3d4c52b1f9e2a6d7c30512"
#define MSGID_REFUSED   "8c1e4b7f0a3d4c52b1f9e2a6d7c30513"
#define MSGID_FAILED    "8c1e4b7f0a3d4c52b1f9e2a6d7c30514"
#define MSGID_FOREIGN   "8c1e4b7f0a3d4c52b1f9e2a6d7c30515"

struct _VcmService {
  GObject parent;
  GDBusConnection *connection;
  VcmDBusMount *skeleton;
  VcmRootfsManager *rootfs; /* the rootfs domain: mounter, watch, bookkeeping */
  gulong changed_id;
  VcmQuery *query;
  VcmAuth *auth;
  VcmIntake *intake;           /* bounds what waits for the main loop */
  gboolean stopping;           /* shut down: calls still in flight are refused */
  GCancellable *cancellable;   /* cancelled at shutdown */
  GHashTable *calls;           /* set of Call in flight */
  GHashTable *calls_by_sender; /* unique name -> GQueue of its Calls */
  guint name_lost_sub;
  VcmAdmission *admission; /* what users that are not root hold */
  VcmGate *resolving;      /* their calls resolving paths in worker threads */
  VcmGate *checking;       /* their calls being checked by polkit */
  VcmGate *running;        /* their authorized calls being run in worker threads */
  GHashTable *identities;  /* mount point -> Known: the mounts this service made */
};

/* What the service knows of a mount it made (or recovered after a
 * restart): its mountinfo ID, to tell it from a later mount at the same
 * place, and its mount_info. */
typedef struct {
  guint64 old_id;
  GVariant *info;
} Known;

static void
known_free (Known *known)
{
  g_variant_unref (known->info);
  g_free (known);
}

/* A call of a user that is not root is admitted (at most
 * VCM_ADMISSION_MAX_CALLS_PER_UID of a user's at once, queued or worked on;
 * beyond, refused at once with LimitsExceeded), then passes the gates of
 * the stages whose work is scarce, each letting through at most so many of
 * a user's calls at once and so many in all, the rest waiting their turn in
 * order, users served in turn and those polkit has granted something first:
 * - resolving a caller's paths in worker threads, so that paths on a
 *   filesystem that never answers hold up at most that many threads (and
 *   at most VCM_FSGATE_MAX_PER_FS of them on one filesystem: vcm-fsgate);
 * - polkit checks, so that polkit is never asked more than it can answer;
 * - running an authorized mount or unmount in a worker thread (its paths
 *   walked, its mounts made): what one user's filesystem that never answers
 *   can hold up there. */
#define MAX_RESOLVING_PER_UID 4
#define MAX_RESOLVING         32
#define RESERVED_RESOLVING    8 /* for users with a grant */
#define MAX_CHECKING_PER_UID  VCM_AUTH_MAX_PENDING_PER_UID
#define MAX_CHECKING          VCM_AUTH_MAX_PENDING
#define RESERVED_CHECKING     16
#define MAX_RUNNING_PER_UID   4
#define MAX_RUNNING           32 /* (every call there is authorized: none kept) */

typedef struct _MethodEntry MethodEntry;

/* What a call will do, resolved before it is authorized: in a worker
 * thread, with the caller's credentials, so that a path on a filesystem that
 * does not answer holds up that thread, not the service. */
typedef struct {
  /* in: what prepare may look at besides the arguments */
  GUnixFDList *fds;  /* the call's file descriptors, or NULL */
  VcmCaller *caller; /* who called */
  /* out */
  VcmMountRequest *req; /* mount and unmount methods */
  char *path;           /* path queries: normalized */
  VcmPathStat stat;     /* path queries: the path as the caller sees it */
  GHashTable *details;  /* what polkit is shown */
  char *message;
  int mount_fd;       /* OpenMount: the configured detached mount */
  GVariantDict *info; /* fd methods: the mount's identity so far */
} Prepared;

G_DEFINE_FINAL_TYPE (VcmService, vcm_service, G_TYPE_OBJECT)

/* One call on its way: validated, identified, prepared, authorized, run. */
typedef struct _Call {
  VcmService *self; /* a reference */
  const MethodEntry *entry;
  GDBusMethodInvocation *invocation;
  VcmCaller *caller;
  Prepared *prep;
  gboolean admitted;                      /* counted by the service's admission (not root) */
  gboolean granted;                       /* polkit granted its user something lately */
  guint n_fds;                            /* descriptors its message holds */
  VcmGateEntry resolving;                 /* at the gate of worker threads that resolve */
  VcmGateEntry checking;                  /* at the gate of polkit checks */
  VcmGateEntry running;                   /* at the gate of worker threads that run */
  guint also_asked;                       /* how many of next_also_asked()'s were asked */
  const char *asking;                     /* the action asked now (NULL: the method's) */
  gboolean gone;                          /* its sender left the bus: nobody to answer */
  void (*start_run) (struct _Call *call); /* started when through the gate of runs */
  GAsyncReadyCallback run_done;           /* its run's completion */
  GList by_sender;                        /* in calls_by_sender */
} Call;

/* Checks the arguments' size and syntax, before anything else is done. */
typedef gboolean (*ValidateFunc) (GVariant *params, GError **error);
/* Resolves what the call will do into @out (its request or path, the
 * details and the prompt) with the caller's credentials @creds (NULL: root).
 * Runs in a worker thread: reads only what never changes. */
typedef gboolean (*PrepareFunc) (
  VcmMounter *mounter, GVariant *params, const VcmCredentials *creds, Prepared *out, GError **error);
/* Does it, authorized, and replies: at once (FALSE), or later, from a
 * worker thread's result (TRUE: the run keeps @call and frees it). */
typedef gboolean (*RunFunc) (VcmService *self, Call *call, GVariant *params);

/* How a method is served: its functions from the table below, its polkit
 * action and whether it resolves a caller's path from the interface's XML
 * (the annotations org.vc.Mount.Action and org.vc.Mount.ResolvesCallerPath). */
struct _MethodEntry {
  const char *method;
  ValidateFunc validate;
  PrepareFunc prepare;
  RunFunc run;
  const char *action; /* NULL until read from the XML, and where it has none */
  gboolean resolves;  /* prepare resolves a caller's path: in a worker thread, counted */
};

#define DECLARE_METHOD(name) \
  static gboolean validate_##name (GVariant *, GError **); \
  static gboolean prepare_##name (VcmMounter *, GVariant *, const VcmCredentials *, Prepared *, \
                                  GError **); \
  static gboolean run_##name (VcmService *, Call *, GVariant *);

DECLARE_METHOD (mount_rootfs)
DECLARE_METHOD (unmount_rootfs)
DECLARE_METHOD (unmount_sandbox)
DECLARE_METHOD (list_rootfs)
DECLARE_METHOD (bind_mount)
DECLARE_METHOD (unmount)
DECLARE_METHOD (get_device_for_path)
DECLARE_METHOD (get_device_path_and_fs_type)
DECLARE_METHOD (is_device_mapper)
DECLARE_METHOD (is_system_mount)
DECLARE_METHOD (is_host_device)
DECLARE_METHOD (describe_path)
DECLARE_METHOD (mount_rootfs_fd)
DECLARE_METHOD (bind_mount_fd)
DECLARE_METHOD (open_mount)
DECLARE_METHOD (list_mounts)

#define METHOD(Name, name) \
  { \
    .method = Name, .validate = validate_##name, .prepare = prepare_##name, .run = run_##name \
  }

/* How each method's call is checked, resolved and run. Which polkit action
 * guards it comes from the XML, the one list of methods: a method that is
 * not here, or has no action there, is refused. */
static MethodEntry method_table[] = {
  METHOD ("MountRootfs", mount_rootfs),
  METHOD ("UnmountRootfs", unmount_rootfs),
  METHOD ("UnmountSandbox", unmount_sandbox),
  METHOD ("ListRootfs", list_rootfs),
  METHOD ("BindMount", bind_mount),
  METHOD ("Unmount", unmount),
  METHOD ("GetDeviceForPath", get_device_for_path),
  METHOD ("GetDevicePathAndFsType", get_device_path_and_fs_type),
  METHOD ("IsDeviceMapper", is_device_mapper),
  METHOD ("IsSystemMount", is_system_mount),
  METHOD ("IsHostDevice", is_host_device),
  METHOD ("DescribePath", describe_path),
  METHOD ("MountRootfsFd", mount_rootfs_fd),
  METHOD ("BindMountFd", bind_mount_fd),
  METHOD ("OpenMount", open_mount),
  METHOD ("ListMounts", list_mounts),
};

/* ---- logging --------------------------------------------------------------- */

static void
log_op (GLogLevelFlags level, const char *message_id, VcmCaller *caller, const char *format, ...)
  G_GNUC_PRINTF (4, 5);

static void
log_op (GLogLevelFlags level, const char *message_id, VcmCaller *caller, const char *format, ...)
{
  va_list ap;
  g_autofree char *message = NULL;
  g_autofree char *uid = NULL;
  g_autofree char *pid = NULL;
  GLogField fields[6];
  gsize n = 0;

  va_start (ap, format);
  message = g_strdup_vprintf (format, ap);
  va_end (ap);

  fields[n++] = (GLogField){ "GLIB_DOMAIN", VCM_LOG_DOMAIN, -1 };
  fields[n++] = (GLogField){ "MESSAGE_ID", message_id, -1 };
  if (caller != NULL)
    {
      uid = g_strdup_printf ("%u", (guint) caller->uid);
      pid = g_strdup_printf ("%d", (int) caller->pid);
      fields[n++] = (GLogField){ "VCM_CALLER_UID", uid, -1 };
      fields[n++] = (GLogField){ "VCM_CALLER_PID", pid, -1 };
      fields[n++] = (GLogField){ "VCM_CALLER_NAME", caller->sender, -1 };
      g_autofree char *full =
        g_strdup_printf ("%s (caller uid %s pid %s %s)", message, uid, pid, caller->sender);
      g_free (message);
      message = g_steal_pointer (&full);
    }
  fields[n++] = (GLogField){ "MESSAGE", message, -1 };
  g_log_structured_array (level, fields, n);
}

static void
return_error (GDBusMethodInvocation *invocation, VcmCaller *caller, GError *error)
{
  const char *method = g_dbus_method_invocation_get_method_name (invocation);

  if (g_error_matches (error, VCM_ERROR, VCM_ERROR_NOT_AUTHORIZED) ||
      g_error_matches (error, VCM_ERROR, VCM_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED))
    log_op (G_LOG_LEVEL_MESSAGE, MSGID_REFUSED, caller, "%s refused: %s", method, error->message);
  else
    log_op (G_LOG_LEVEL_DEBUG, MSGID_FAILED, caller, "%s failed: %s", method, error->message);
  g_dbus_method_invocation_return_gerror (invocation, error);
}

/* ---- changes → signals -------------------------------------------------------- */

static void
on_change (VcmRootfsManager *rootfs, const VcmChange *change, gpointer user_data)
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
      log_op (G_LOG_LEVEL_INFO, MSGID_FOREIGN, NULL, "rootfs %s/%s at %s: %s (not made by this service)",
              r->sandbox_id, r->container_id, r->mount_point, vcm_change_kind_to_string (change->kind));
      vcm_dbus_mount_emit_rootfs_changed (self->skeleton, change->generation, r->sandbox_id,
                                          r->container_id, r->mount_point,
                                          vcm_change_kind_to_string (change->kind));
      break;
    }
}

/* ---- dispatch ---------------------------------------------------------------- */

/* Fills each entry's action and path flag from the interface's XML, once. */
static void
read_method_annotations (void)
{
  static gsize done = 0;

  if (!g_once_init_enter (&done))
    return;
  for (gsize i = 0; i < G_N_ELEMENTS (method_table); i++)
    {
      GDBusMethodInfo *info =
        g_dbus_interface_info_lookup_method (vcm_dbus_mount_interface_info (), method_table[i].method);
      const char *resolves;

      if (info == NULL)
        continue;
      method_table[i].action = g_dbus_annotation_info_lookup (info->annotations, "org.vc.Mount.Action");
      resolves = g_dbus_annotation_info_lookup (info->annotations, "org.vc.Mount.ResolvesCallerPath");
      method_table[i].resolves = g_strcmp0 (resolves, "true") == 0;
    }
  g_once_init_leave (&done, 1);
}

/* The entry of @method; NULL (refused) where the table or the XML lacks it,
 * or the XML names no action for it. */
static const MethodEntry *
lookup_method (const char *method)
{
  read_method_annotations ();
  for (gsize i = 0; i < G_N_ELEMENTS (method_table); i++)
    if (g_str_equal (method_table[i].method, method))
      return method_table[i].action != NULL ? &method_table[i] : NULL;
  return NULL;
}

const char *
vcm_service_action_for_method (const char *method)
{
  const MethodEntry *entry = lookup_method (method);

  return entry != NULL ? entry->action : NULL;
}

static Prepared *
prepared_new (GDBusMethodInvocation *invocation, VcmCaller *caller)
{
  Prepared *prep = g_new0 (Prepared, 1);
  GDBusMessage *message = g_dbus_method_invocation_get_message (invocation);
  GUnixFDList *fds = g_dbus_message_get_unix_fd_list (message);

  prep->fds = fds != NULL ? g_object_ref (fds) : NULL;
  prep->caller = vcm_caller_ref (caller);
  prep->mount_fd = -1;
  return prep;
}

static void
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

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Prepared, prepared_free)

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
  if (call->resolving.queued)
    vcm_gate_cancel (call->self->resolving, &call->resolving);
  if (call->resolving.inside)
    vcm_gate_leave (call->self->resolving, &call->resolving);
  if (call->checking.queued)
    vcm_gate_cancel (call->self->checking, &call->checking);
  if (call->checking.inside)
    vcm_gate_leave (call->self->checking, &call->checking);
  if (call->running.queued)
    vcm_gate_cancel (call->self->running, &call->running);
  if (call->running.inside)
    vcm_gate_leave (call->self->running, &call->running);
  if (call->admitted)
    vcm_admission_leave (call->self->admission, call->caller->uid, call->n_fds, call->granted);
  g_hash_table_remove (call->self->calls, call);
  g_object_unref (call->self);
  g_clear_object (&call->invocation);
  g_clear_pointer (&call->caller, vcm_caller_unref);
  g_clear_pointer (&call->prep, prepared_free);
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

static void check (Call *call);

/* The actions a call's request needs besides its method's, each asked in
 * turn once the one before allowed it: what the mount logic decided of the
 * request (a mount in a rootfs, a writable mount of what the caller does
 * not own). NULL when none is left. */
static const char *
next_also_asked (Call *call)
{
  const VcmMountRequest *req = call->prep->req;
  const char *also[2] = { NULL, NULL };
  guint n = 0;

  if (req == NULL)
    return NULL;
  if (req->manage_rootfs)
    also[n++] = ACTION_MANAGE_ROOTFS;
  if (req->write_foreign)
    also[n++] = ACTION_WRITE_FOREIGN;
  return call->also_asked < n ? also[call->also_asked++] : NULL;
}

static void
on_authorized (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Call *call = user_data;
  g_autoptr (GError) error = NULL;
  const char *also;

  if (call->checking.inside)
    vcm_gate_leave (call->self->checking, &call->checking);
  if (!call_still_served (call))
    return;
  if (!vcm_auth_check_finish (call->self->auth, result, &error) &&
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CLOSED))
    {
      call_drop (call); /* polkit found its sender gone */
      return;
    }
  if (error != NULL)
    return_error (call->invocation, call->caller, error);
  else if (error == NULL && (also = next_also_asked (call)) != NULL)
    {
      /* allowed by the method's action, and by this one as well */
      call->asking = also;
      check (call);
      return;
    }
  else if (call->entry->run (call->self, call,
                             g_dbus_method_invocation_get_parameters (call->invocation)))
    return; /* answered when its work lands */
  call_free (call);
}

typedef struct {
  const MethodEntry *entry;
  VcmMounter *mounter;   /* a reference: the service may stop meanwhile */
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

static void start_preparing (Call *call);

/* Asks polkit about @call (the method's action, then each that its request
 * needs as well: next_also_asked); through the gate of checks for a user
 * that is not root. */
static void
start_checking (Call *call)
{
  vcm_auth_check_async (call->self->auth, call->invocation, call->caller,
                        call->asking != NULL ? call->asking : call->entry->action, call->prep->message,
                        call->prep->details, call->self->cancellable, on_authorized, call);
}

static void
check (Call *call)
{
  if (call->caller->uid != 0)
    {
      call->checking.uid = call->caller->uid;
      call->checking.granted = call->granted;
      if (!vcm_gate_enter (call->self->checking, &call->checking))
        return; /* started by on_gate_open() in its turn */
    }
  start_checking (call);
}

/* The Call whose gate entry @entry (its member @member) is. */
#define CALL_OF(entry, member) ((Call *) ((guint8 *) (entry) -G_STRUCT_OFFSET (Call, member)))

/* A call waiting for a worker thread goes through the gate. */
static void
on_resolving_open (VcmGateEntry *entry, gpointer user_data)
{
  start_preparing (CALL_OF (entry, resolving));
}

/* A call waiting for its polkit check goes through the gate. */
static void
on_checking_open (VcmGateEntry *entry, gpointer user_data)
{
  start_checking (CALL_OF (entry, checking));
}

/* An authorized call waiting for a worker thread to run it goes through the
 * gate. */
static void
on_running_open (VcmGateEntry *entry, gpointer user_data)
{
  Call *call = CALL_OF (entry, running);

  call->start_run (call);
}

static void
on_prepared (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Call *call = user_data;
  g_autoptr (GError) error = NULL;

  if (call->resolving.inside)
    vcm_gate_leave (call->self->resolving, &call->resolving);
  call->prep = g_task_propagate_pointer (G_TASK (result), &error);
  if (!call_still_served (call))
    return;
  if (call->prep == NULL)
    {
      return_error (call->invocation, call->caller, error);
      call_free (call);
      return;
    }
  check (call);
}

static void
on_identified (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Call *call = user_data;
  VcmService *self = call->self;
  g_autoptr (GError) error = NULL;

  if (!call_still_served (call))
    return;
  call->caller = vcm_auth_identify_finish (self->auth, result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CLOSED))
    {
      call_drop (call); /* it left the bus before it was identified */
      return;
    }
  if (call->caller == NULL)
    {
      return_error (call->invocation, NULL, error);
      call_free (call);
      return;
    }
  if (call->caller->uid != 0)
    {
      GUnixFDList *fds =
        g_dbus_message_get_unix_fd_list (g_dbus_method_invocation_get_message (call->invocation));

      call->n_fds = fds != NULL ? (guint) g_unix_fd_list_get_length (fds) : 0;
      call->granted = vcm_auth_was_granted (self->auth, call->caller->uid);
      if (!vcm_admission_enter (self->admission, call->caller->uid, call->n_fds, call->granted, &error))
        {
          return_error (call->invocation, call->caller, error);
          call_free (call);
          return;
        }
      call->admitted = TRUE;
    }
  if (!call->entry->resolves)
    {
      /* nothing of the caller's to look at: prepared here and now */
      g_autoptr (Prepared) prep = prepared_new (call->invocation, call->caller);

      if (!call->entry->prepare (vcm_rootfs_manager_get_mounter (self->rootfs),
                                 g_dbus_method_invocation_get_parameters (call->invocation),
                                 call->caller->creds, prep, &error))
        {
          return_error (call->invocation, call->caller, error);
          call_free (call);
          return;
        }
      call->prep = g_steal_pointer (&prep);
      check (call);
      return;
    }
  if (call->caller->uid != 0)
    {
      call->resolving.uid = call->caller->uid;
      call->resolving.granted = call->granted;
      if (!vcm_gate_enter (self->resolving, &call->resolving))
        return; /* started by on_gate_open() in its turn */
    }
  start_preparing (call);
}

/* Resolves @call's paths in a worker thread, with the caller's credentials. */
static void
start_preparing (Call *call)
{
  VcmService *self = call->self;
  g_autoptr (GTask) task = NULL;
  PrepareJob *job;

  job = g_new0 (PrepareJob, 1);
  job->entry = call->entry;
  job->mounter = g_object_ref (vcm_rootfs_manager_get_mounter (self->rootfs));
  job->params = g_variant_ref (g_dbus_method_invocation_get_parameters (call->invocation));
  job->creds = vcm_credentials_copy (call->caller->creds);
  job->prep = prepared_new (call->invocation, call->caller);
  task = g_task_new (self, self->cancellable, on_prepared, call);
  g_task_set_task_data (task, job, (GDestroyNotify) prepare_job_free);
  g_task_run_in_thread (task, prepare_in_thread);
}

/* A sender left the bus: its calls are dropped, at once where they wait
 * their turn, as their work in flight lands otherwise. */
static void
on_name_lost (GDBusConnection *connection,
              const char *sender_name,
              const char *object_path,
              const char *interface_name,
              const char *signal_name,
              GVariant *parameters,
              gpointer user_data)
{
  VcmService *self = user_data;
  const char *name, *old_owner, *new_owner;
  GQueue *same;
  GList *l, *next;

  if (!g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(sss)")))
    return;
  g_variant_get (parameters, "(&s&s&s)", &name, &old_owner, &new_owner);
  if (name[0] != ':' || new_owner[0] != '\0')
    return;
  same = g_hash_table_lookup (self->calls_by_sender, name);
  for (l = same != NULL ? same->head : NULL; l != NULL; l = next)
    {
      Call *call = l->data;

      next = l->next; /* (the last call frees the queue) */
      call->gone = TRUE;
      if (call->resolving.queued || call->checking.queued || call->running.queued)
        call_drop (call); /* (out of the queue) */
    }
}

static void
dispatch (VcmService *self, GDBusMethodInvocation *invocation)
{
  const char *method = g_dbus_method_invocation_get_method_name (invocation);
  const MethodEntry *entry = lookup_method (method);
  g_autoptr (GError) error = NULL;
  Call *call;

  if (self->intake != NULL &&
      !vcm_intake_take (self->intake, g_dbus_method_invocation_get_message (invocation)))
    {
      /* its sender left the bus: nobody to answer, nothing to do */
      g_object_unref (invocation);
      return;
    }
  if (entry == NULL)
    {
      g_dbus_method_invocation_return_error (invocation, VCM_ERROR, VCM_ERROR_NOT_AUTHORIZED,
                                             "%s: no authorization is defined for this method", method);
      return;
    }
  /* Size and syntax first: nothing of a malformed call is kept or sent on. */
  if (!entry->validate (g_dbus_method_invocation_get_parameters (invocation), &error))
    {
      return_error (invocation, NULL, error);
      return;
    }
  if (self->stopping)
    {
      g_dbus_method_invocation_return_error (invocation, VCM_ERROR, VCM_ERROR_FAILED,
                                             "the service is stopping");
      return;
    }
  call = g_new0 (Call, 1);
  call->self = g_object_ref (self);
  call->entry = entry;
  call->invocation = g_object_ref (invocation);
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
  vcm_auth_identify_async (self->auth, invocation, self->cancellable, on_identified, call);
}

/* One marshaller serves every handle-* signal of the generated skeleton: it
 * needs only the invocation, which carries the method name and arguments. */
static void
handle_marshal (GClosure *closure,
                GValue *return_value,
                guint n_param_values,
                const GValue *param_values,
                gpointer invocation_hint,
                gpointer marshal_data)
{
  VcmService *self = closure->data;

  g_return_if_fail (n_param_values >= 2);
  dispatch (self, g_value_get_object (&param_values[1]));
  g_value_set_boolean (return_value, TRUE);
}

static char *
handle_signal_name (const char *method)
{
  g_autoptr (GString) s = g_string_new ("handle");

  for (const char *p = method; *p; p++)
    {
      if (g_ascii_isupper (*p))
        g_string_append_c (s, '-');
      g_string_append_c (s, g_ascii_tolower (*p));
    }
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static void
connect_handlers (VcmService *self)
{
  GDBusInterfaceInfo *info = vcm_dbus_mount_interface_info ();

  for (guint i = 0; info->methods[i] != NULL; i++)
    {
      g_autofree char *signal_name = handle_signal_name (info->methods[i]->name);
      GClosure *closure = g_closure_new_simple (sizeof (GClosure), self);

      g_closure_set_marshal (closure, handle_marshal);
      if (g_signal_connect_closure (self->skeleton, signal_name, closure, FALSE) == 0)
        g_error ("The generated skeleton has no signal %s", signal_name);
    }
}

/* ---- validation and preparation ------------------------------------------------ */

static gboolean
validate_id_arg (GVariant *params, gsize i, const char *name, gboolean empty_ok, GError **error)
{
  const char *s;

  g_variant_get_child (params, i, "&s", &s);
  return (empty_ok && *s == '\0') || vcm_validate_id (name, s, error);
}

static gboolean
validate_path_arg (GVariant *params, gsize i, const char *name, GError **error)
{
  const char *s;

  g_variant_get_child (params, i, "&s", &s);
  return vcm_validate_absolute_path (name, s, error);
}

static gboolean
validate_mount_rootfs (GVariant *params, GError **error)
{
  return validate_id_arg (params, 0, "sandbox_id", FALSE, error) &&
    validate_id_arg (params, 1, "container_id", FALSE, error) &&
    validate_path_arg (params, 2, "rootfs", error);
}

static gboolean
validate_unmount_rootfs (GVariant *params, GError **error)
{
  return validate_id_arg (params, 0, "sandbox_id", FALSE, error) &&
    validate_id_arg (params, 1, "container_id", FALSE, error);
}

static gboolean
validate_unmount_sandbox (GVariant *params, GError **error)
{
  return validate_id_arg (params, 0, "sandbox_id", FALSE, error);
}

static gboolean
validate_list_rootfs (GVariant *params, GError **error)
{
  return validate_id_arg (params, 0, "sandbox_id", TRUE, error);
}

static gboolean
validate_bind_mount (GVariant *params, GError **error)
{
  return validate_path_arg (params, 0, "source", error) &&
    validate_path_arg (params, 1, "destination", error);
}

static gboolean
validate_unmount (GVariant *params, GError **error)
{
  return validate_path_arg (params, 0, "mount_point", error);
}

static gboolean
validate_get_device_for_path (GVariant *params, GError **error)
{
  return validate_path_arg (params, 0, "path", error);
}

static gboolean
validate_get_device_path_and_fs_type (GVariant *params, GError **error)
{
  return validate_path_arg (params, 0, "mount_point", error);
}

static gboolean
validate_is_device_mapper (GVariant *params, GError **error)
{
  return TRUE; /* two numbers: nothing to check */
}

static gboolean
validate_is_system_mount (GVariant *params, GError **error)
{
  return validate_path_arg (params, 0, "path", error);
}

static gboolean
validate_is_host_device (GVariant *params, GError **error)
{
  return validate_path_arg (params, 0, "path", error);
}

static gboolean
validate_describe_path (GVariant *params, GError **error)
{
  return validate_path_arg (params, 0, "path", error);
}

static gboolean
validate_options_arg (GVariant *params, gsize i, const char *name, GError **error)
{
  g_autoptr (GVariant) options = g_variant_get_child_value (params, i);

  return vcm_mount_options_validate (options, name, error);
}

static gboolean
validate_mount_rootfs_fd (GVariant *params, GError **error)
{
  return validate_id_arg (params, 0, "sandbox_id", FALSE, error) &&
    validate_id_arg (params, 1, "container_id", FALSE, error) &&
    validate_options_arg (params, 3, "options", error);
}

static gboolean
validate_bind_mount_fd (GVariant *params, GError **error)
{
  return validate_path_arg (params, 1, "destination", error) &&
    validate_options_arg (params, 2, "options", error);
}

static gboolean
validate_open_mount (GVariant *params, GError **error)
{
  return validate_options_arg (params, 1, "options", error);
}

static gboolean
validate_list_mounts (GVariant *params, GError **error)
{
  g_autoptr (GVariant) filter = g_variant_get_child_value (params, 0);
  GVariantIter iter;
  const char *key;
  GVariant *value;

  g_variant_iter_init (&iter, filter);
  while (g_variant_iter_loop (&iter, "{&sv}", &key, &value))
    {
      gboolean known = g_str_equal (key, "sandbox-id") || g_str_equal (key, "kind");

      if (!known || !g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
        {
          g_autofree char *quoted = vcm_validate_quote (key);

          if (!known)
            g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT, "filter: unknown key '%s'",
                         quoted);
          else
            g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT,
                         "filter: '%s' must be of type s, not %s", key,
                         g_variant_get_type_string (value));
          g_variant_unref (value);
          return FALSE;
        }
      if (g_str_equal (key, "sandbox-id") && *g_variant_get_string (value, NULL) != '\0' &&
          !vcm_validate_id ("filter: sandbox-id", g_variant_get_string (value, NULL), error))
        {
          g_variant_unref (value);
          return FALSE;
        }
    }
  return TRUE;
}

/* A mount request, with its details and prompt. */
static gboolean
prepared (Prepared *out, VcmMountRequest *req)
{
  if (req == NULL)
    return FALSE;
  out->req = req;
  out->details = vcm_prompt_request (req, &out->message);
  return TRUE;
}

static gboolean
prepare_mount_rootfs (
  VcmMounter *mounter, GVariant *params, const VcmCredentials *creds, Prepared *out, GError **error)
{
  const char *sandbox_id, *container_id, *rootfs;
  gboolean read_only;

  g_variant_get (params, "(&s&s&sb)", &sandbox_id, &container_id, &rootfs, &read_only);
  if (!vcm_caller_check_mount_namespace (out->caller->pid, out->caller->uid, "rootfs", "MountRootfsFd",
                                         error))
    return FALSE;
  return prepared (out,
                   vcm_mounter_prepare_mount_rootfs (mounter, sandbox_id, container_id, rootfs,
                                                     read_only, creds, error));
}

static gboolean
prepare_unmount_rootfs (
  VcmMounter *mounter, GVariant *params, const VcmCredentials *creds, Prepared *out, GError **error)
{
  const char *sandbox_id, *container_id;

  g_variant_get (params, "(&s&s)", &sandbox_id, &container_id);
  return prepared (out,
                   vcm_mounter_prepare_unmount_rootfs (mounter, sandbox_id, container_id, creds, error));
}

static gboolean
prepare_bind_mount (
  VcmMounter *mounter, GVariant *params, const VcmCredentials *creds, Prepared *out, GError **error)
{
  const char *source, *destination;
  gboolean read_only;

  g_variant_get (params, "(&s&sb)", &source, &destination, &read_only);
  if (!vcm_caller_check_mount_namespace (out->caller->pid, out->caller->uid, "source", "BindMountFd",
                                         error))
    return FALSE;
  return prepared (out,
                   vcm_mounter_prepare_bind (mounter, source, destination, read_only, creds, error));
}

static gboolean
prepare_unmount (
  VcmMounter *mounter, GVariant *params, const VcmCredentials *creds, Prepared *out, GError **error)
{
  const char *mount_point;

  g_variant_get (params, "(&s)", &mount_point);
  return prepared (out, vcm_mounter_prepare_unmount (mounter, mount_point, creds, error));
}

static gboolean
prepare_unmount_sandbox (
  VcmMounter *mounter, GVariant *params, const VcmCredentials *creds, Prepared *out, GError **error)
{
  const char *sandbox_id;

  g_variant_get (params, "(&s)", &sandbox_id);
  out->details = vcm_prompt_sandbox (sandbox_id, &out->message);
  return TRUE;
}

/* The fd-based methods: the caller's fd at handle @fd_index checked and its
 * mount cloned and configured with @options_index's options, as the caller
 * (@creds) may; @to_caller: the detached mount is handed to the caller
 * (OpenMount), so its submounts are locked to it. Returns the detached
 * mount and fills @source and @opts. */
static int
prepare_fd_source (GVariant *params,
                   gsize fd_index,
                   const char *fd_arg,
                   gsize options_index,
                   gboolean allow_file,
                   gboolean to_caller,
                   const VcmCredentials *creds,
                   Prepared *out,
                   VcmFdSource *source,
                   VcmMountOpts *opts,
                   int *out_source_fd,
                   GError **error)
{
  g_autoptr (GVariant) options = g_variant_get_child_value (params, options_index);
  gboolean root = vcm_credentials_is_root (creds);
  vcm_autofd int fd = -1;
  vcm_autofd int tree = -1;
  vcm_autofd int userns = -1;
  gboolean in_caller_ns = FALSE;
  gint32 handle;

  g_variant_get_child (params, fd_index, "h", &handle);
  if (out->fds == NULL || handle < 0 || handle >= g_unix_fd_list_get_length (out->fds) ||
      (fd = g_unix_fd_list_get (out->fds, handle, NULL)) < 0)
    {
      g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT,
                   "%s: the message carries no file descriptor at index %d", fd_arg, handle);
      return -1;
    }
  if (!vcm_mount_opts_parse (options, root, "options", opts, error))
    return -1;
  if (!vcm_fd_source_inspect (fd, fd_arg, allow_file, root, source, error) ||
      !vcm_fd_source_check_access (fd, source, creds, fd_arg, error))
    return -1;
  /* the map checked for the caller and carried by a namespace of the
   * service's own, before anything is cloned */
  if (opts->idmap != NULL)
    {
      g_autoptr (VcmIdMap) map = NULL;
      gint n_fds = 0;
      const int *fds = out->fds != NULL ? g_unix_fd_list_peek_fds (out->fds, &n_fds) : NULL;

      userns = vcm_idmap_from_option (opts->idmap, fds, n_fds, creds, "options.idmap", &map, error);
      if (userns < 0)
        return -1;
      opts->idmap_text = vcm_idmap_to_string (map);
    }
  tree = vcm_fd_source_clone (fd, opts->recursive, to_caller && !root, out->caller->pid,
                              out->caller->uid, fd_arg, &in_caller_ns, error);
  if (tree < 0 || !vcm_fd_source_configure (tree, opts, fd_arg, error))
    return -1;
  /* a path of the caller's own namespace names whatever the caller bound
   * there: shown marked, so that no rule on the host's paths matches it */
  if (in_caller_ns)
    {
      g_autofree char *path = g_steal_pointer (&source->path);

      source->path = g_strconcat (VCM_FD_SOURCE_CALLER_NS_PREFIX, path, NULL);
    }
  /* writable by the top's owner: not what came along below it */
  if (!root && !to_caller && !opts->read_only &&
      !vcm_fd_source_submounts_read_only (tree, fd_arg, error))
    return -1;
  if (userns >= 0 && !vcm_idmap_apply (tree, userns, opts->recursive, source->path, error))
    return -1;
  out->info = vcm_identity_new ("detached", NULL, NULL, NULL, out->caller->uid, source->path,
                                vcm_mount_opts_to_variant (opts));
  vcm_identity_add_source_ids (out->info, source->major, source->minor, source->inode, source->owner);
  *out_source_fd = g_steal_fd (&fd);
  return g_steal_fd (&tree);
}

/* What vcm-mount-policy decides of @req (recursive, nosuid, nodev for a
 * caller that is not root; a writable mount of what it does not own asks
 * the write-foreign action as well), with @opts as asked. */
static gboolean
fd_request_policy (VcmMountRequest *req, const VcmMountOpts *opts, GError **error)
{
  req->recursive = opts->recursive;
  req->nosuid = opts->nosuid;
  req->nodev = opts->nodev;
  req->noexec = opts->noexec;
  return vcm_mount_policy_check (req, error);
}

/* MountRootfsFd (@sandbox_id set) and BindMountFd. */
static gboolean
prepare_attach_fd (VcmMounter *mounter,
                   GVariant *params,
                   const VcmCredentials *creds,
                   const char *sandbox_id,
                   const char *container_id,
                   const char *destination,
                   Prepared *out,
                   GError **error)
{
  gboolean rootfs = sandbox_id != NULL;
  VcmFdSource source = { 0 };
  VcmMountOpts opts = { 0 };
  vcm_autofd int source_fd = -1;
  int tree;

  tree = prepare_fd_source (params, rootfs ? 2 : 0, rootfs ? "rootfs" : "source", rootfs ? 3 : 2,
                            !rootfs, FALSE, creds, out, &source, &opts, &source_fd, error);
  if (tree >= 0)
    out->req = vcm_mounter_prepare_attach_tree (mounter, sandbox_id, container_id, destination, tree,
                                                source.path, source.is_dir, opts.read_only,
                                                vcm_mount_opts_propagation_flag (&opts), creds, error);
  if (out->req != NULL)
    {
      out->req->source_fd = g_steal_fd (&source_fd);
      if (!fd_request_policy (out->req, &opts, error))
        g_clear_pointer (&out->req, vcm_mount_request_free);
    }
  if (out->req != NULL)
    out->details = vcm_prompt_fd_request (out->req, &source, &opts, &out->message);
  vcm_fd_source_clear (&source);
  vcm_mount_opts_clear (&opts);
  return out->req != NULL;
}

static gboolean
prepare_mount_rootfs_fd (
  VcmMounter *mounter, GVariant *params, const VcmCredentials *creds, Prepared *out, GError **error)
{
  const char *sandbox_id, *container_id;

  g_variant_get (params, "(&s&sh@a{sv})", &sandbox_id, &container_id, NULL, NULL);
  return prepare_attach_fd (mounter, params, creds, sandbox_id, container_id, NULL, out, error);
}

static gboolean
prepare_bind_mount_fd (
  VcmMounter *mounter, GVariant *params, const VcmCredentials *creds, Prepared *out, GError **error)
{
  const char *destination;

  g_variant_get (params, "(h&s@a{sv})", NULL, &destination, NULL);
  return prepare_attach_fd (mounter, params, creds, NULL, NULL, destination, out, error);
}

static gboolean
prepare_open_mount (
  VcmMounter *mounter, GVariant *params, const VcmCredentials *creds, Prepared *out, GError **error)
{
  VcmFdSource source = { 0 };
  VcmMountOpts opts = { 0 };
  int source_fd = -1;

  out->mount_fd = prepare_fd_source (params, 0, "source", 1, TRUE, TRUE, creds, out, &source, &opts,
                                     &source_fd, error);
  if (out->mount_fd >= 0)
    {
      /* what is handed over, as the policy and polkit see it: no mount point */
      out->req =
        vcm_mounter_prepare_open (mounter, source_fd, source.path, source.is_dir, opts.read_only, creds);
      if (!fd_request_policy (out->req, &opts, error))
        vcm_clear_fd (&out->mount_fd);
    }
  if (out->mount_fd >= 0)
    {
      vcm_identity_add_mount_fd (out->info, out->mount_fd);
      out->details = vcm_prompt_fd_request (out->req, &source, &opts, &out->message);
    }
  vcm_fd_source_clear (&source);
  vcm_mount_opts_clear (&opts);
  return out->mount_fd >= 0;
}

static gboolean
prepare_list_mounts (
  VcmMounter *mounter, GVariant *params, const VcmCredentials *creds, Prepared *out, GError **error)
{
  out->details = vcm_prompt_query (NULL, &out->message);
  return TRUE;
}

/* A query without a path. */
static gboolean
prepare_query (Prepared *out)
{
  out->details = vcm_prompt_query (NULL, &out->message);
  return TRUE;
}

/* A path query: the path normalized and looked at as the caller (@stat:
 * whether it must be, and whether it may be missing). */
static gboolean
prepare_path_query (GVariant *params,
                    const char *arg_name,
                    const VcmCredentials *creds,
                    gboolean stat,
                    gboolean missing_ok,
                    Prepared *out,
                    GError **error)
{
  const char *path;

  g_variant_get_child (params, 0, "&s", &path);
  if (stat)
    {
      if (!vcm_query_stat_path (arg_name, path, creds, missing_ok, &out->path, &out->stat, error))
        return FALSE;
    }
  else
    out->path = vcm_path_normalize (path);
  out->details = vcm_prompt_query (out->path, &out->message);
  return TRUE;
}

static gboolean
prepare_list_rootfs (
  VcmMounter *mounter, GVariant *params, const VcmCredentials *creds, Prepared *out, GError **error)
{
  return prepare_query (out);
}

static gboolean
prepare_is_device_mapper (
  VcmMounter *mounter, GVariant *params, const VcmCredentials *creds, Prepared *out, GError **error)
{
  return prepare_query (out);
}

static gboolean
prepare_get_device_for_path (
  VcmMounter *mounter, GVariant *params, const VcmCredentials *creds, Prepared *out, GError **error)
{
  return prepare_path_query (params, "path", creds, TRUE, FALSE, out, error);
}

static gboolean
prepare_get_device_path_and_fs_type (
  VcmMounter *mounter, GVariant *params, const VcmCredentials *creds, Prepared *out, GError **error)
{
  return prepare_path_query (params, "mount_point", creds, TRUE, FALSE, out, error);
}

static gboolean
prepare_is_system_mount (
  VcmMounter *mounter, GVariant *params, const VcmCredentials *creds, Prepared *out, GError **error)
{
  return prepare_path_query (params, "path", creds, FALSE, FALSE, out, error);
}

static gboolean
prepare_is_host_device (
  VcmMounter *mounter, GVariant *params, const VcmCredentials *creds, Prepared *out, GError **error)
{
  const char *path;
  g_autofree char *normalized = NULL;

  g_variant_get_child (params, 0, "&s", &path);
  normalized = vcm_path_normalize (path);
  /* only a path beneath /dev is looked at; missing is "no", not an error */
  return prepare_path_query (params, "path", creds, vcm_query_host_device_needs_stat (normalized), TRUE,
                             out, error);
}

static gboolean
prepare_describe_path (
  VcmMounter *mounter, GVariant *params, const VcmCredentials *creds, Prepared *out, GError **error)
{
  return prepare_path_query (params, "path", creds, TRUE, FALSE, out, error);
}

/* ---- identity of the mounts made ------------------------------------------ */

static const char *
relpath_of (VcmService *self, const char *mount_point)
{
  return vcm_path_relative_to (mount_point, vcm_rootfs_manager_get_shared_dir (self->rootfs));
}

/* @info (the identity so far: source, options, caller) completed with where
 * and which mount it is (@old_id, @unique_id: 0 when not known) and kept.
 * Returns the mount_info (the table's). */
static GVariant *
mount_known (VcmService *self,
             const VcmMountRequest *req,
             const char *mount_point,
             guint64 old_id,
             guint64 unique_id,
             GVariantDict *info)
{
  Known *known;

  g_variant_dict_insert (info, "kind", "s", req->op == VCM_MOUNT_OP_MOUNT_ROOTFS ? "rootfs" : "bind");
  g_variant_dict_insert (info, "mount-point", "s", mount_point);
  g_variant_dict_insert (info, "sandbox-id", "s", req->sandbox_id != NULL ? req->sandbox_id : "");
  g_variant_dict_insert (info, "container-id", "s", req->container_id != NULL ? req->container_id : "");
  /* the IDs were read where the mount was made, off the main loop */
  if (old_id != 0)
    {
      g_variant_dict_insert (info, "mount-id", "t", unique_id != 0 ? unique_id : old_id);
      g_variant_dict_insert (info, "mount-id-unique", "b", unique_id != 0);
    }
  known = g_new0 (Known, 1);
  known->old_id = old_id;
  known->info = g_variant_ref_sink (g_variant_dict_end (info));
  g_hash_table_replace (self->identities, g_strdup (mount_point), known);
  return known->info;
}

/* The kept identity of the mount at @mount_point recorded on its mount
 * point and told in MountAdded: after the reply, which the caller need not
 * wait for either. */
static void
mount_announce (VcmService *self, const char *mount_point)
{
  VcmMounter *mounter = vcm_rootfs_manager_get_mounter (self->rootfs);
  const char *rel = relpath_of (self, mount_point);
  Known *known = g_hash_table_lookup (self->identities, mount_point);

  g_return_if_fail (known != NULL);
  if (rel != NULL && known->old_id != 0)
    vcm_identity_record (vcm_mounter_get_shared_fd (mounter), rel, known->old_id, known->info);
  vcm_dbus_mount_emit_mount_added (self->skeleton, vcm_rootfs_manager_get_generation (self->rootfs),
                                   known->info);
}

/* The identity of a path method's mount: its source (req->source_fd), the
 * options it has. */
static GVariantDict *
path_identity (const VcmMountRequest *req, uid_t caller_uid)
{
  GVariantDict opts;
  GVariantDict *info;

  g_variant_dict_init (&opts, NULL);
  g_variant_dict_insert (&opts, "read-only", "b", req->read_only);
  g_variant_dict_insert (&opts, "recursive", "b", FALSE);
  g_variant_dict_insert (&opts, "propagation", "s", "private");
  info =
    vcm_identity_new ("bind", NULL, NULL, NULL, caller_uid, req->source, g_variant_dict_end (&opts));
  vcm_identity_add_source_fd (info, req->source_fd);
  return info;
}

/* What is known of the mount at @mount_point that an unmount detached: the
 * identity kept since it was made, else @recorded (the record on its mount
 * point, read in the run before it went: req->identity). A new reference,
 * or NULL. */
static GVariant *
identity_of_unmounted (VcmService *self, const char *mount_point, GVariant *recorded)
{
  Known *known = g_hash_table_lookup (self->identities, mount_point);

  if (known != NULL)
    return g_variant_ref (known->info);
  return recorded != NULL ? g_variant_ref (recorded) : NULL;
}

static void
mount_removed (VcmService *self, const char *mount_point, GVariant *info, GStrv detached)
{
  const char *rel = relpath_of (self, mount_point);
  GVariantDict dict;

  g_variant_dict_init (&dict, info);
  if (info == NULL)
    g_variant_dict_insert (&dict, "mount-point", "s", mount_point);
  if (rel != NULL)
    vcm_identity_forget (vcm_mounter_get_shared_fd (vcm_rootfs_manager_get_mounter (self->rootfs)), rel);
  g_hash_table_remove (self->identities, mount_point);
  vcm_dbus_mount_emit_mount_removed (self->skeleton, vcm_rootfs_manager_get_generation (self->rootfs),
                                     g_variant_dict_end (&dict), (const char *const *) detached);
}

/* The "options" of @info with what the kernel says now of @e. */
static GVariant *
options_with_kernel_facts (GVariant *info, const VcmMountEntry *e)
{
  g_autoptr (GVariant) recorded =
    info != NULL ? g_variant_lookup_value (info, "options", G_VARIANT_TYPE_VARDICT) : NULL;
  g_auto (GStrv) vfs = g_strsplit (e->vfs_options != NULL ? e->vfs_options : "", ",", -1);
  GVariantDict dict;

  g_variant_dict_init (&dict, recorded);
  g_variant_dict_insert (&dict, "read-only", "b", e->read_only);
  g_variant_dict_insert (&dict, "nosuid", "b", g_strv_contains ((const char *const *) vfs, "nosuid"));
  g_variant_dict_insert (&dict, "nodev", "b", g_strv_contains ((const char *const *) vfs, "nodev"));
  g_variant_dict_insert (&dict, "noexec", "b", g_strv_contains ((const char *const *) vfs, "noexec"));
  g_variant_dict_insert (&dict, "propagation", "s", e->propagation);
  g_variant_dict_insert (&dict, "idmapped", "b",
                         g_strv_contains ((const char *const *) vfs, "idmapped"));
  return g_variant_dict_end (&dict);
}

/* ---- methods -------------------------------------------------------------- */

/* A mutating call is run in a worker thread (vcm_rootfs_manager_run_async),
 * through the gate of runs for a user that is not root, so that one user's
 * filesystem that never answers holds up at most MAX_RUNNING_PER_UID of that
 * user's calls, and nothing else: its further calls wait their turn. */
static void
start_running (Call *call, void (*start) (Call *call))
{
  call->start_run = start;
  if (call->caller->uid != 0)
    {
      call->running.uid = call->caller->uid;
      call->running.granted = TRUE; /* (authorized) */
      if (!vcm_gate_enter (call->self->running, &call->running))
        return; /* started by on_running_open() in its turn */
    }
  start (call);
}

/* @call's work landed: FALSE (and the call answered and freed) when the
 * service stopped or its sender left meanwhile. */
static gboolean
done_running (Call *call)
{
  if (call->running.inside)
    vcm_gate_leave (call->self->running, &call->running);
  return call_still_served (call);
}

static void
start_run_request (Call *call)
{
  vcm_rootfs_manager_run_async (call->self->rootfs, call->prep->req, call->self->cancellable,
                                call->run_done, call);
}

static gboolean
run_request (VcmService *self, Call *call, GAsyncReadyCallback done)
{
  call->run_done = done;
  start_running (call, start_run_request);
  return TRUE;
}

/* What a mount's run gave: FALSE (the call answered) on an error. */
typedef struct {
  VcmRootfsRecord *mounted;
  char *mount_point;
  GStrv detached;
  guint64 old_id, unique_id;
} Ran;

static void
ran_clear (Ran *ran)
{
  g_clear_pointer (&ran->mounted, vcm_rootfs_record_free);
  g_clear_pointer (&ran->mount_point, g_free);
  g_clear_pointer (&ran->detached, g_strfreev);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Ran, ran_clear)

static gboolean
ran (Call *call, GObject *source, GAsyncResult *result, Ran *out)
{
  g_autoptr (GError) error = NULL;

  if (vcm_rootfs_manager_run_finish (VCM_ROOTFS_MANAGER (source), result, &out->mounted,
                                     &out->mount_point, &out->detached, &out->old_id, &out->unique_id,
                                     &error))
    return TRUE;
  return_error (call->invocation, call->caller, error);
  return FALSE;
}

/* A mount method's run landed: the mount's identity (a path method's from
 * its source, an fd method's as prepared) kept, the call answered with the
 * mount point (an fd method's with the identity too), then the identity
 * recorded and told: the caller does not wait for either. */
static void
on_mounted (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Call *call = user_data;
  VcmService *self = call->self;
  const VcmMountRequest *req = call->prep->req;
  gboolean from_fd = call->prep->info != NULL;
  g_auto (Ran) r = { 0 };

  if (!done_running (call))
    return;
  if (ran (call, source, result, &r))
    {
      const char *mount_point = r.mounted != NULL ? r.mounted->mount_point : r.mount_point;
      g_autoptr (GVariantDict) path_info = from_fd ? NULL : path_identity (req, call->caller->uid);
      GVariant *info;

      log_op (G_LOG_LEVEL_MESSAGE, MSGID_MOUNTED, call->caller, "%s %s%s at %s%s",
              req->op == VCM_MOUNT_OP_MOUNT_ROOTFS ? "Mounted rootfs" : "Bind-mounted", req->source,
              from_fd ? " (from a file descriptor)" : "", mount_point,
              req->read_only ? " read-only" : "");
      info = mount_known (self, req, mount_point, r.old_id, r.unique_id,
                          from_fd ? call->prep->info : path_info);
      g_dbus_method_invocation_return_value (call->invocation,
                                             from_fd ? g_variant_new ("(s@a{sv})", mount_point, info)
                                                     : g_variant_new ("(s)", mount_point));
      mount_announce (self, mount_point);
    }
  call_free (call);
}

static gboolean
run_mount_rootfs (VcmService *self, Call *call, GVariant *params)
{
  return run_request (self, call, on_mounted);
}

static void
log_unmounted_rootfs (VcmCaller *caller,
                      const char *sandbox_id,
                      const char *container_id,
                      GStrv detached)
{
  log_op (G_LOG_LEVEL_MESSAGE, MSGID_UNMOUNTED, caller,
          "Unmounted rootfs %s/%s at %s (%u mounts detached)", sandbox_id, container_id, detached[0],
          g_strv_length (detached));
}

static void
on_unmounted_rootfs (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Call *call = user_data;
  VcmService *self = call->self;
  const VcmMountRequest *req = call->prep->req;
  g_auto (Ran) r = { 0 };

  if (!done_running (call))
    return;
  if (ran (call, source, result, &r))
    {
      g_autoptr (GVariant) info = identity_of_unmounted (self, req->mount_point, req->identity);

      log_unmounted_rootfs (call->caller, req->sandbox_id, req->container_id, r.detached);
      mount_removed (self, req->mount_point, info, r.detached);
      vcm_dbus_mount_complete_unmount_rootfs (self->skeleton, call->invocation,
                                              (const char *const *) r.detached);
    }
  call_free (call);
}

/* An unmount of a mount not seen made since the service started has its
 * recorded identity read in the run, before the mount goes (a walk to its
 * mount point: in the worker thread, never on the main loop). */
static gboolean
run_unmount_request (VcmService *self, Call *call, GAsyncReadyCallback done)
{
  VcmMountRequest *req = call->prep->req;

  req->read_identity = !g_hash_table_contains (self->identities, req->mount_point);
  return run_request (self, call, done);
}

static gboolean
run_unmount_rootfs (VcmService *self, Call *call, GVariant *params)
{
  return run_unmount_request (self, call, on_unmounted_rootfs);
}

static void
on_unmounted_sandbox (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Call *call = user_data;
  VcmService *self = call->self;
  const char *sandbox_id;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) done = g_ptr_array_new_with_free_func ((GDestroyNotify) vcm_unmounted_free);
  g_autoptr (GStrvBuilder) ids = g_strv_builder_new ();
  g_auto (GStrv) result_ids = NULL;
  gboolean ok;

  if (!done_running (call))
    return;
  g_variant_get (g_dbus_method_invocation_get_parameters (call->invocation), "(&s)", &sandbox_id);
  ok = vcm_rootfs_manager_unmount_sandbox_finish (VCM_ROOTFS_MANAGER (source), result, done, &error);
  for (guint i = 0; i < done->len; i++)
    {
      const VcmUnmounted *u = done->pdata[i];
      g_autoptr (GVariant) info = identity_of_unmounted (self, u->detached[0], u->identity);

      log_unmounted_rootfs (call->caller, sandbox_id, u->container_id, u->detached);
      mount_removed (self, u->detached[0], info, u->detached);
      g_strv_builder_add (ids, u->container_id);
    }
  if (!ok)
    return_error (call->invocation, call->caller, error);
  else
    {
      result_ids = g_strv_builder_end (ids);
      vcm_dbus_mount_complete_unmount_sandbox (self->skeleton, call->invocation,
                                               (const char *const *) result_ids);
    }
  if (done->len >= VCM_MEMORY_LARGE_WORK)
    vcm_memory_trim_soon (); /* a signal and a log line per rootfs: megabytes freed */
  call_free (call);
}

static void
start_unmount_sandbox (Call *call)
{
  const char *sandbox_id;

  g_variant_get (g_dbus_method_invocation_get_parameters (call->invocation), "(&s)", &sandbox_id);
  vcm_rootfs_manager_unmount_sandbox_async (call->self->rootfs, sandbox_id, call->caller->creds,
                                            call->self->cancellable, on_unmounted_sandbox, call);
}

static gboolean
run_unmount_sandbox (VcmService *self, Call *call, GVariant *params)
{
  start_running (call, start_unmount_sandbox);
  return TRUE;
}

static gboolean
run_list_rootfs (VcmService *self, Call *call, GVariant *params)
{
  const char *sandbox_id;
  g_autoptr (GPtrArray) rootfs = NULL;
  guint64 generation = 0;
  GVariantBuilder builder;

  g_variant_get (params, "(&s)", &sandbox_id);
  rootfs = vcm_rootfs_manager_list_rootfs (self->rootfs, sandbox_id, &generation);
  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(sssb)"));
  for (guint i = 0; i < rootfs->len; i++)
    {
      const VcmRootfsRecord *r = rootfs->pdata[i];
      g_variant_builder_add (&builder, "(sssb)", r->sandbox_id, r->container_id, r->mount_point,
                             r->read_only);
    }
  vcm_dbus_mount_complete_list_rootfs (self->skeleton, call->invocation, generation,
                                       g_variant_builder_end (&builder));
  if (rootfs->len >= VCM_MEMORY_LARGE_WORK)
    vcm_memory_trim_soon (); /* the reply was built and sent: megabytes freed */
  return FALSE;
}

static gboolean
run_bind_mount (VcmService *self, Call *call, GVariant *params)
{
  return run_request (self, call, on_mounted);
}

static void
on_unmounted (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Call *call = user_data;
  VcmService *self = call->self;
  g_auto (Ran) r = { 0 };

  if (!done_running (call))
    return;
  if (ran (call, source, result, &r))
    {
      const VcmMountRequest *req = call->prep->req;
      g_autoptr (GVariant) info = identity_of_unmounted (self, req->mount_point, req->identity);

      mount_removed (self, req->mount_point, info, r.detached);
      log_op (G_LOG_LEVEL_MESSAGE, MSGID_UNMOUNTED, call->caller, "Unmounted %s (%u mounts detached)",
              r.detached[0], g_strv_length (r.detached));
      vcm_dbus_mount_complete_unmount (self->skeleton, call->invocation,
                                       (const char *const *) r.detached);
    }
  call_free (call);
}

static gboolean
run_unmount (VcmService *self, Call *call, GVariant *params)
{
  return run_unmount_request (self, call, on_unmounted);
}

static gboolean
run_get_device_for_path (VcmService *self, Call *call, GVariant *params)
{
  guint major = 0, minor = 0;
  g_autofree char *mount_point = NULL;
  g_autoptr (GError) error = NULL;

  if (!vcm_query_device_for_stat (self->query, call->prep->path, &call->prep->stat, &major, &minor,
                                  &mount_point, &error))
    return_error (call->invocation, call->caller, error);
  else
    vcm_dbus_mount_complete_get_device_for_path (self->skeleton, call->invocation, major, minor,
                                                 mount_point);
  return FALSE;
}

static gboolean
run_get_device_path_and_fs_type (VcmService *self, Call *call, GVariant *params)
{
  g_autofree char *device = NULL;
  g_autofree char *fs_type = NULL;
  g_autoptr (GError) error = NULL;

  if (!vcm_query_device_path_and_fs_type_for_stat (self->query, call->prep->path, &call->prep->stat,
                                                   &device, &fs_type, &error))
    return_error (call->invocation, call->caller, error);
  else
    vcm_dbus_mount_complete_get_device_path_and_fs_type (self->skeleton, call->invocation, device,
                                                         fs_type);
  return FALSE;
}

static gboolean
run_is_device_mapper (VcmService *self, Call *call, GVariant *params)
{
  guint major, minor;

  g_variant_get (params, "(uu)", &major, &minor);
  vcm_dbus_mount_complete_is_device_mapper (self->skeleton, call->invocation,
                                            vcm_query_is_device_mapper (self->query, major, minor));
  return FALSE;
}

static gboolean
run_is_system_mount (VcmService *self, Call *call, GVariant *params)
{
  gboolean result = FALSE;
  g_autoptr (GError) error = NULL;

  if (!vcm_query_is_system_mount (call->prep->path, &result, &error))
    return_error (call->invocation, call->caller, error);
  else
    vcm_dbus_mount_complete_is_system_mount (self->skeleton, call->invocation, result);
  return FALSE;
}

static gboolean
run_is_host_device (VcmService *self, Call *call, GVariant *params)
{
  vcm_dbus_mount_complete_is_host_device (
    self->skeleton, call->invocation,
    vcm_query_host_device_for_stat (call->prep->path, &call->prep->stat));
  return FALSE;
}

static gboolean
run_describe_path (VcmService *self, Call *call, GVariant *params)
{
  g_autoptr (VcmPathFacts) info = NULL;
  GVariantDict dict;
  g_autoptr (GError) error = NULL;

  info = vcm_query_describe_stat (self->query, call->prep->path, &call->prep->stat, &error);
  if (info == NULL)
    {
      return_error (call->invocation, call->caller, error);
      return FALSE;
    }
  g_variant_dict_init (&dict, NULL);
  g_variant_dict_insert (&dict, "major", "u", info->major);
  g_variant_dict_insert (&dict, "minor", "u", info->minor);
  g_variant_dict_insert (&dict, "mount-point", "s", info->mount_point);
  g_variant_dict_insert (&dict, "device", "s", info->device);
  g_variant_dict_insert (&dict, "fs-type", "s", info->fs_type);
  g_variant_dict_insert (&dict, "mount-id", "t", info->mount_id);
  g_variant_dict_insert (&dict, "read-only", "b", info->read_only);
  g_variant_dict_insert (&dict, "device-mapper", "b", info->device_mapper);
  g_variant_dict_insert (&dict, "system-mount", "b", info->system_mount);
  g_variant_dict_insert (&dict, "host-device", "b", info->host_device);
  g_variant_dict_insert (&dict, "propagation", "s", info->propagation);
  vcm_dbus_mount_complete_describe_path (self->skeleton, call->invocation, g_variant_dict_end (&dict));
  return FALSE;
}

static gboolean
run_mount_rootfs_fd (VcmService *self, Call *call, GVariant *params)
{
  return run_request (self, call, on_mounted);
}

static gboolean
run_bind_mount_fd (VcmService *self, Call *call, GVariant *params)
{
  return run_request (self, call, on_mounted);
}

static gboolean
run_open_mount (VcmService *self, Call *call, GVariant *params)
{
  g_autoptr (GUnixFDList) fds = g_unix_fd_list_new ();
  g_autoptr (GError) error = NULL;
  int index = g_unix_fd_list_append (fds, call->prep->mount_fd, &error);

  if (index < 0)
    {
      g_prefix_error (&error, "cannot pass the mount back: ");
      error->domain = VCM_ERROR;
      error->code = VCM_ERROR_FAILED;
      return_error (call->invocation, call->caller, error);
      return FALSE;
    }
  {
    const char *source = "?";

    g_variant_dict_lookup (call->prep->info, "source", "&s", &source);
    log_op (G_LOG_LEVEL_MESSAGE, MSGID_MOUNTED, call->caller, "Handed over a detached mount of %s",
            source);
  }
  vcm_dbus_mount_complete_open_mount (self->skeleton, call->invocation, fds,
                                      g_variant_new_handle (index),
                                      g_variant_dict_end (call->prep->info));
  return FALSE;
}

static gboolean
run_list_mounts (VcmService *self, Call *call, GVariant *params)
{
  g_autoptr (GVariant) filter = g_variant_get_child_value (params, 0);
  const char *want_sandbox = NULL, *want_kind = NULL;
  const char *shared_dir = vcm_rootfs_manager_get_shared_dir (self->rootfs);
  int shared_fd = vcm_mounter_get_shared_fd (vcm_rootfs_manager_get_mounter (self->rootfs));
  g_autoptr (VcmMountTable) table = vcm_rootfs_manager_get_table (self->rootfs, TRUE);
  g_autoptr (GPtrArray) beneath = NULL;
  g_autoptr (GPtrArray) unknown = g_ptr_array_new (); /* of VcmMountEntry */
  g_autoptr (GPtrArray) rels = g_ptr_array_new ();
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (guint64));
  g_autoptr (GPtrArray) recovered = NULL;
  g_autoptr (GPtrArray) found = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  guint64 generation = vcm_rootfs_manager_get_generation (self->rootfs);
  GVariantBuilder builder;

  g_variant_lookup (filter, "sandbox-id", "&s", &want_sandbox);
  g_variant_lookup (filter, "kind", "&s", &want_kind);
  beneath = table != NULL ? vcm_mount_table_get_beneath (table, shared_dir) : g_ptr_array_new ();
  for (guint i = 0; i < beneath->len; i++)
    {
      const VcmMountEntry *e = beneath->pdata[i];
      Known *known = g_hash_table_lookup (self->identities, e->target);

      if (known != NULL && known->old_id == e->id)
        g_ptr_array_add (found, g_variant_ref (known->info));
      else if (relpath_of (self, e->target) != NULL && *relpath_of (self, e->target) != '\0')
        {
          g_ptr_array_add (unknown, (gpointer) e);
          g_ptr_array_add (rels, (gpointer) relpath_of (self, e->target));
          g_array_append_val (ids, e->id);
        }
    }
  /* after a restart: from the records the service left on the mount points */
  recovered = vcm_identity_recover (shared_fd, (const char *const *) rels->pdata,
                                    (const guint64 *) ids->data, rels->len);
  for (guint i = 0; i < unknown->len; i++)
    {
      const VcmMountEntry *e = unknown->pdata[i];
      GVariant *info = recovered->pdata[i];
      Known *known;

      if (info == NULL)
        {
          /* not recorded: a rootfs mount point's mount is listed from the kernel's facts */
          g_auto (GStrv) parts = g_strsplit (relpath_of (self, e->target), "/", -1);
          g_autoptr (GVariantDict) dict = NULL;

          if (g_strv_length (parts) != 3 || !g_str_equal (parts[2], VCM_ROOTFS_DIR) ||
              !vcm_validate_id ("sandbox_id", parts[0], NULL) ||
              !vcm_validate_id ("container_id", parts[1], NULL))
            continue;
          dict = g_variant_dict_new (NULL);
          g_variant_dict_insert (dict, "kind", "s", "rootfs");
          g_variant_dict_insert (dict, "mount-point", "s", e->target);
          g_variant_dict_insert (dict, "sandbox-id", "s", parts[0]);
          g_variant_dict_insert (dict, "container-id", "s", parts[1]);
          g_variant_dict_insert (dict, "mount-id", "t", e->id);
          g_variant_dict_insert (dict, "mount-id-unique", "b", FALSE);
          g_ptr_array_add (found, g_variant_ref_sink (g_variant_dict_end (dict)));
          continue;
        }
      known = g_new0 (Known, 1);
      known->old_id = e->id;
      known->info = g_variant_ref (info);
      g_hash_table_replace (self->identities, g_strdup (e->target), known);
      g_ptr_array_add (found, g_variant_ref (info));
    }

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < found->len; i++)
    {
      GVariant *info = found->pdata[i];
      const char *kind = NULL, *sandbox = NULL, *mount_point = NULL;
      const VcmMountEntry *e;
      GVariantDict dict;

      g_variant_lookup (info, "kind", "&s", &kind);
      g_variant_lookup (info, "sandbox-id", "&s", &sandbox);
      g_variant_lookup (info, "mount-point", "&s", &mount_point);
      if ((want_kind != NULL && *want_kind != '\0' && g_strcmp0 (kind, want_kind) != 0) ||
          (want_sandbox != NULL && *want_sandbox != '\0' && g_strcmp0 (sandbox, want_sandbox) != 0))
        continue;
      g_variant_dict_init (&dict, info);
      e =
        table != NULL && mount_point != NULL ? vcm_mount_table_lookup_target (table, mount_point) : NULL;
      if (e != NULL)
        g_variant_dict_insert_value (&dict, "options", options_with_kernel_facts (info, e));
      g_variant_builder_add_value (&builder, g_variant_dict_end (&dict));
    }
  vcm_dbus_mount_complete_list_mounts (self->skeleton, call->invocation, generation,
                                       g_variant_builder_end (&builder));
  return FALSE;
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
  g_clear_pointer (&self->calls, g_hash_table_unref);
  g_clear_pointer (&self->calls_by_sender, g_hash_table_unref);
  g_clear_pointer (&self->identities, g_hash_table_unref);
  g_clear_pointer (&self->resolving, vcm_gate_free);
  g_clear_pointer (&self->checking, vcm_gate_free);
  g_clear_pointer (&self->running, vcm_gate_free);
  g_clear_pointer (&self->admission, vcm_admission_free);
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
  self->identities =
    g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) known_free);
  self->admission = vcm_admission_new ();
  self->resolving =
    vcm_gate_new (MAX_RESOLVING_PER_UID, MAX_RESOLVING, RESERVED_RESOLVING, on_resolving_open, self);
  self->checking =
    vcm_gate_new (MAX_CHECKING_PER_UID, MAX_CHECKING, RESERVED_CHECKING, on_checking_open, self);
  self->running = vcm_gate_new (MAX_RUNNING_PER_UID, MAX_RUNNING, 0, on_running_open, self);
}

VcmService *
vcm_service_new (GDBusConnection *connection, const VcmConfig *config, GError **error)
{
  g_autoptr (VcmService) self = g_object_new (VCM_TYPE_SERVICE, NULL);
  const char *shared_dir;

  self->connection = g_object_ref (connection);
  self->skeleton = vcm_dbus_mount_skeleton_new ();
  self->rootfs = vcm_rootfs_manager_new (config->shared_dir, VCM_MOUNTER_FLAGS_NONE, error);
  if (self->rootfs == NULL)
    return NULL;
  self->changed_id = g_signal_connect (self->rootfs, "changed", G_CALLBACK (on_change), self);
  shared_dir = vcm_rootfs_manager_get_shared_dir (self->rootfs);
  self->query = vcm_query_new (config->sysfs_root, vcm_rootfs_manager_get_table,
                               g_object_ref (self->rootfs), g_object_unref);
  self->auth = vcm_auth_new (connection, config->auth_timeout_ms);
  /* (the match rule is the auth's: names that lost their owner) */
  self->name_lost_sub = g_dbus_connection_signal_subscribe (
    connection, "org.freedesktop.DBus", "org.freedesktop.DBus", "NameOwnerChanged",
    "/org/freedesktop/DBus", NULL, G_DBUS_SIGNAL_FLAGS_NO_MATCH_RULE, on_name_lost, self, NULL);

  vcm_dbus_mount_set_version (self->skeleton, VCM_VERSION);
  vcm_dbus_mount_set_shared_dir (self->skeleton, shared_dir);
  vcm_dbus_mount_set_default_shm_size (self->skeleton, DEFAULT_SHM_SIZE);
  vcm_dbus_mount_set_generation (self->skeleton, vcm_rootfs_manager_get_generation (self->rootfs));
  connect_handlers (self);

  self->intake =
    vcm_intake_new (connection, vcm_dbus_mount_interface_info (), VCM_OBJECT_PATH,
                    "org.vc.Mount.Error.LimitsExceeded", "org.vc.Mount.Error.InvalidArgument");
  if (!g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (self->skeleton), connection,
                                         VCM_OBJECT_PATH, error))
    return NULL;
  return g_steal_pointer (&self);
}

static void
answer_waiting_calls (VcmService *self)
{
  VcmGateEntry *entry;

  /* stopping: answered and freed */
  while ((entry = vcm_gate_pop_queued (self->resolving)) != NULL)
    (void) call_still_served (CALL_OF (entry, resolving));
  while ((entry = vcm_gate_pop_queued (self->checking)) != NULL)
    (void) call_still_served (CALL_OF (entry, checking));
  while ((entry = vcm_gate_pop_queued (self->running)) != NULL)
    (void) call_still_served (CALL_OF (entry, running));
}

void
vcm_service_shutdown (VcmService *self)
{
  if (self->stopping)
    return;
  self->stopping = TRUE;
  if (self->intake != NULL)
    g_debug ("calls refused before the main loop took them: %u; dropped, their caller gone: %u",
             vcm_intake_get_refused (self->intake), vcm_intake_get_dropped (self->intake));
  if (self->skeleton != NULL &&
      g_dbus_interface_skeleton_get_connection (G_DBUS_INTERFACE_SKELETON (self->skeleton)) != NULL)
    g_dbus_interface_skeleton_unexport (G_DBUS_INTERFACE_SKELETON (self->skeleton));
  /* calls waiting for a thread are answered now; those in flight hold the
   * service: they are answered "stopping" as their callbacks land, cancelled */
  answer_waiting_calls (self);
  g_cancellable_cancel (self->cancellable);
  if (self->auth != NULL)
    vcm_auth_shutdown (self->auth);
  g_clear_object (&self->auth);
  g_clear_object (&self->query);
  if (self->name_lost_sub != 0)
    g_dbus_connection_signal_unsubscribe (self->connection, self->name_lost_sub);
  self->name_lost_sub = 0;
  g_clear_signal_handler (&self->changed_id, self->rootfs);
  g_clear_object (&self->rootfs);
  g_clear_object (&self->skeleton);
  g_clear_object (&self->connection);
}

guint
vcm_service_get_calls_in_flight (VcmService *self)
{
  return g_hash_table_size (self->calls);
}
