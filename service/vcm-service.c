/* vcm-service: the D-Bus layer. Exports org.vc.Mount, authorizes every call
 * through the one method→action table, unpacks arguments, calls the mount and
 * query logic, and turns results and changes into replies and signals.
 * Nothing here touches a mount itself. */
#include "config.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "vcm-auth.h"
#include "vcm-error.h"
#include "vcm-generated.h"
#include "vcm-memory.h"
#include "vcm-mounter.h"
#include "vcm-prompt.h"
#include "vcm-query.h"
#include "vcm-service.h"
#include "vcm-validate.h"
#include "vcm-watch.h"

#define DEFAULT_SHM_SIZE (G_GUINT64_CONSTANT (65536) * 1024)

#define ACTION_MANAGE_ROOTFS "org.vc.mount.manage-rootfs"
#define ACTION_BIND          "org.vc.mount.bind"
#define ACTION_QUERY         "org.vc.mount.query"

/* journal MESSAGE_IDs */
#define MSGID_MOUNTED    "8c1e4b7f0a3d4c52b1f9e2a6d7c30511"
#define MSGID_UNMOUNTED  "8c1e4b7f0a3d4c52b1f9e2a6d7c30512"
#define MSGID_REFUSED    "8c1e4b7f0a3d4c52b1f9e2a6d7c30513"
#define MSGID_FAILED     "8c1e4b7f0a3d4c52b1f9e2a6d7c30514"
#define MSGID_FOREIGN    "8c1e4b7f0a3d4c52b1f9e2a6d7c30515"

struct _VcmService {
  GDBusConnection *connection;
  VcmDBusMount    *skeleton;
  VcmMounter      *mounter;
  VcmWatch        *watch;
  VcmQuery        *query;
  VcmAuth         *auth;
  GCancellable    *cancellable;   /* cancelled when the service goes away */
  GHashTable      *calls;         /* set of Call in flight */
};

typedef struct _MethodEntry MethodEntry;

/* One call on its way: validated, identified, prepared (what it will do,
 * resolved as the caller), authorized, run. */
typedef struct {
  VcmService            *self;         /* NULL once the service has gone away */
  const MethodEntry     *entry;
  GDBusMethodInvocation *invocation;
  VcmCaller             *caller;
  VcmMountRequest       *req;          /* mount and unmount methods */
  char                  *path;         /* path queries: normalized */
  GHashTable            *details;      /* what polkit is shown */
  char                  *message;
} Call;

/* Checks the arguments' size and syntax, before anything else is done. */
typedef gboolean (*ValidateFunc) (GVariant *params, GError **error);
/* Resolves what the call will do into @call (its request, the details and
 * the prompt), as the caller. */
typedef gboolean (*PrepareFunc)  (VcmService *self, Call *call, GVariant *params, GError **error);
/* Does it, authorized, and replies. */
typedef void     (*RunFunc)      (VcmService *self, Call *call, GVariant *params);

struct _MethodEntry {
  const char  *method;
  const char  *action;
  ValidateFunc validate;
  PrepareFunc  prepare;
  RunFunc      run;
};

#define DECLARE_METHOD(name) \
  static gboolean validate_##name (GVariant *, GError **); \
  static gboolean prepare_##name  (VcmService *, Call *, GVariant *, GError **); \
  static void     run_##name      (VcmService *, Call *, GVariant *);

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

#define METHOD(Name, action, name) { Name, action, validate_##name, prepare_##name, run_##name }

/* The one table: each method, the polkit action that guards it, and how its
 * call is checked, resolved and run. A method of the interface that is not
 * here is refused. */
static const MethodEntry method_table[] = {
  METHOD ("MountRootfs",            ACTION_MANAGE_ROOTFS, mount_rootfs),
  METHOD ("UnmountRootfs",          ACTION_MANAGE_ROOTFS, unmount_rootfs),
  METHOD ("UnmountSandbox",         ACTION_MANAGE_ROOTFS, unmount_sandbox),
  METHOD ("ListRootfs",             ACTION_QUERY,         list_rootfs),
  METHOD ("BindMount",              ACTION_BIND,          bind_mount),
  METHOD ("Unmount",                ACTION_BIND,          unmount),
  METHOD ("GetDeviceForPath",       ACTION_QUERY,         get_device_for_path),
  METHOD ("GetDevicePathAndFsType", ACTION_QUERY,         get_device_path_and_fs_type),
  METHOD ("IsDeviceMapper",         ACTION_QUERY,         is_device_mapper),
  METHOD ("IsSystemMount",          ACTION_QUERY,         is_system_mount),
  METHOD ("IsHostDevice",           ACTION_QUERY,         is_host_device),
  METHOD ("DescribePath",           ACTION_QUERY,         describe_path),
};

/* ---- logging --------------------------------------------------------------- */

static void
log_op (GLogLevelFlags level, const char *message_id, VcmCaller *caller,
        const char *format, ...) G_GNUC_PRINTF (4, 5);

static void
log_op (GLogLevelFlags level, const char *message_id, VcmCaller *caller,
        const char *format, ...)
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

  fields[n++] = (GLogField) { "GLIB_DOMAIN", VCM_LOG_DOMAIN, -1 };
  fields[n++] = (GLogField) { "MESSAGE_ID", message_id, -1 };
  if (caller != NULL)
    {
      uid = g_strdup_printf ("%u", (guint) caller->uid);
      pid = g_strdup_printf ("%d", (int) caller->pid);
      fields[n++] = (GLogField) { "VCM_CALLER_UID", uid, -1 };
      fields[n++] = (GLogField) { "VCM_CALLER_PID", pid, -1 };
      fields[n++] = (GLogField) { "VCM_CALLER_NAME", caller->sender, -1 };
      g_autofree char *full = g_strdup_printf ("%s (caller uid %s pid %s %s)",
                                               message, uid, pid, caller->sender);
      g_free (message);
      message = g_steal_pointer (&full);
    }
  fields[n++] = (GLogField) { "MESSAGE", message, -1 };
  g_log_structured_array (level, fields, n);
}

static void
return_error (GDBusMethodInvocation *invocation, VcmCaller *caller, GError *error)
{
  const char *method = g_dbus_method_invocation_get_method_name (invocation);

  if (g_error_matches (error, VCM_ERROR, VCM_ERROR_NOT_AUTHORIZED))
    log_op (G_LOG_LEVEL_MESSAGE, MSGID_REFUSED, caller, "%s refused: %s", method, error->message);
  else
    log_op (G_LOG_LEVEL_DEBUG, MSGID_FAILED, caller, "%s failed: %s", method, error->message);
  g_dbus_method_invocation_return_gerror (invocation, error);
}

/* ---- changes → signals -------------------------------------------------------- */

static void
on_change (const VcmChange *change, gpointer user_data)
{
  VcmService *self = user_data;
  const VcmRootfs *r = change->rootfs;

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

static const MethodEntry *
lookup_method (const char *method)
{
  for (gsize i = 0; i < G_N_ELEMENTS (method_table); i++)
    if (g_str_equal (method_table[i].method, method))
      return &method_table[i];
  return NULL;
}

const char *
vcm_service_action_for_method (const char *method)
{
  const MethodEntry *entry = lookup_method (method);

  return entry != NULL ? entry->action : NULL;
}

static void
call_free (Call *call)
{
  if (call->self != NULL)
    g_hash_table_remove (call->self->calls, call);
  g_clear_object (&call->invocation);
  g_clear_pointer (&call->caller, vcm_caller_unref);
  g_clear_pointer (&call->req, vcm_mount_request_free);
  g_clear_pointer (&call->details, g_hash_table_unref);
  g_free (call->path);
  g_free (call->message);
  g_free (call);
}

/* FALSE (and the call answered and freed) when the service went away. */
static gboolean
call_still_served (Call *call)
{
  if (call->self != NULL)
    return TRUE;
  g_dbus_method_invocation_return_error (call->invocation, VCM_ERROR, VCM_ERROR_FAILED,
                                         "the service is stopping");
  call_free (call);
  return FALSE;
}

static void
on_authorized (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Call *call = user_data;
  g_autoptr(GError) error = NULL;

  if (!call_still_served (call))
    return;
  if (!vcm_auth_check_finish (call->self->auth, result, &error))
    return_error (call->invocation, call->caller, error);
  else
    call->entry->run (call->self, call, g_dbus_method_invocation_get_parameters (call->invocation));
  call_free (call);
}

static void
on_identified (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Call *call = user_data;
  VcmService *self = call->self;
  g_autoptr(GError) error = NULL;

  if (!call_still_served (call))
    return;
  call->caller = vcm_auth_identify_finish (self->auth, result, &error);
  if (call->caller == NULL ||
      !call->entry->prepare (self, call, g_dbus_method_invocation_get_parameters (call->invocation),
                             &error))
    {
      return_error (call->invocation, call->caller, error);
      call_free (call);
      return;
    }
  vcm_auth_check_async (self->auth, call->invocation, call->caller, call->entry->action,
                        call->message, call->details, self->cancellable, on_authorized, call);
}

static void
dispatch (VcmService *self, GDBusMethodInvocation *invocation)
{
  const char *method = g_dbus_method_invocation_get_method_name (invocation);
  const MethodEntry *entry = lookup_method (method);
  g_autoptr(GError) error = NULL;
  Call *call;

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
  call = g_new0 (Call, 1);
  call->self = self;
  call->entry = entry;
  call->invocation = g_object_ref (invocation);
  g_hash_table_add (self->calls, call);
  vcm_auth_identify_async (self->auth, invocation, self->cancellable, on_identified, call);
}

/* One marshaller serves every handle-* signal of the generated skeleton: it
 * needs only the invocation, which carries the method name and arguments. */
static void
handle_marshal (GClosure     *closure,
                GValue       *return_value,
                guint         n_param_values,
                const GValue *param_values,
                gpointer      invocation_hint,
                gpointer      marshal_data)
{
  VcmService *self = closure->data;

  g_return_if_fail (n_param_values >= 2);
  dispatch (self, g_value_get_object (&param_values[1]));
  g_value_set_boolean (return_value, TRUE);
}

static char *
handle_signal_name (const char *method)
{
  g_autoptr(GString) s = g_string_new ("handle");

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
  return TRUE;   /* two numbers: nothing to check */
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

/* A mount request, with its details and prompt. */
static gboolean
prepared (Call *call, VcmMountRequest *req)
{
  if (req == NULL)
    return FALSE;
  call->req = req;
  call->details = vcm_prompt_request (req, &call->message);
  return TRUE;
}

static gboolean
prepare_mount_rootfs (VcmService *self, Call *call, GVariant *params, GError **error)
{
  const char *sandbox_id, *container_id, *rootfs;
  gboolean read_only;

  g_variant_get (params, "(&s&s&sb)", &sandbox_id, &container_id, &rootfs, &read_only);
  return prepared (call, vcm_mounter_prepare_mount_rootfs (self->mounter, sandbox_id, container_id,
                                                           rootfs, read_only, call->caller->creds,
                                                           error));
}

static gboolean
prepare_unmount_rootfs (VcmService *self, Call *call, GVariant *params, GError **error)
{
  const char *sandbox_id, *container_id;

  g_variant_get (params, "(&s&s)", &sandbox_id, &container_id);
  return prepared (call, vcm_mounter_prepare_unmount_rootfs (self->mounter, sandbox_id, container_id,
                                                             call->caller->creds, error));
}

static gboolean
prepare_bind_mount (VcmService *self, Call *call, GVariant *params, GError **error)
{
  const char *source, *destination;
  gboolean read_only;

  g_variant_get (params, "(&s&sb)", &source, &destination, &read_only);
  return prepared (call, vcm_mounter_prepare_bind (self->mounter, source, destination, read_only,
                                                   call->caller->creds, error));
}

static gboolean
prepare_unmount (VcmService *self, Call *call, GVariant *params, GError **error)
{
  const char *mount_point;

  g_variant_get (params, "(&s)", &mount_point);
  return prepared (call, vcm_mounter_prepare_unmount (self->mounter, mount_point,
                                                      call->caller->creds, error));
}

static gboolean
prepare_unmount_sandbox (VcmService *self, Call *call, GVariant *params, GError **error)
{
  const char *sandbox_id;

  g_variant_get (params, "(&s)", &sandbox_id);
  call->details = vcm_prompt_sandbox (sandbox_id, &call->message);
  return TRUE;
}

/* A query without a path. */
static gboolean
prepare_query (VcmService *self, Call *call, GVariant *params, GError **error)
{
  call->details = vcm_prompt_query (NULL, &call->message);
  return TRUE;
}

/* A path query: the path normalized, as the query will use it. */
static gboolean
prepare_path_query (VcmService *self, Call *call, GVariant *params, GError **error)
{
  const char *path;

  g_variant_get_child (params, 0, "&s", &path);
  call->path = vcm_path_normalize (path);
  call->details = vcm_prompt_query (call->path, &call->message);
  return TRUE;
}

static gboolean
prepare_list_rootfs (VcmService *self, Call *call, GVariant *params, GError **error)
{
  return prepare_query (self, call, params, error);
}

static gboolean
prepare_is_device_mapper (VcmService *self, Call *call, GVariant *params, GError **error)
{
  return prepare_query (self, call, params, error);
}

static gboolean
prepare_get_device_for_path (VcmService *self, Call *call, GVariant *params, GError **error)
{
  return prepare_path_query (self, call, params, error);
}

static gboolean
prepare_get_device_path_and_fs_type (VcmService *self, Call *call, GVariant *params, GError **error)
{
  return prepare_path_query (self, call, params, error);
}

static gboolean
prepare_is_system_mount (VcmService *self, Call *call, GVariant *params, GError **error)
{
  return prepare_path_query (self, call, params, error);
}

static gboolean
prepare_is_host_device (VcmService *self, Call *call, GVariant *params, GError **error)
{
  return prepare_path_query (self, call, params, error);
}

static gboolean
prepare_describe_path (VcmService *self, Call *call, GVariant *params, GError **error)
{
  return prepare_path_query (self, call, params, error);
}

/* ---- methods -------------------------------------------------------------- */

/* Reports what changed at one rootfs behind the service's back before the
 * service acts on it. Where the kernel cannot be asked cheaply, the whole
 * table is brought up to date instead. */
static void
sync_rootfs (VcmService *self, const char *sandbox_id, const char *container_id)
{
  g_autoptr(VcmRootfs) now = NULL;
  g_autoptr(GHashTable) submounts = NULL;

  if (vcm_mounter_probe_rootfs (self->mounter, sandbox_id, container_id, &now, &submounts))
    vcm_watch_sync_rootfs (self->watch, sandbox_id, container_id, now, submounts);
  else if (vcm_validate_id ("sandbox_id", sandbox_id, NULL) &&
           vcm_validate_id ("container_id", container_id, NULL))
    vcm_mount_table_unref (vcm_watch_get_table (self->watch, FALSE));
}

static void
run_mount_rootfs (VcmService *self, Call *call, GVariant *params)
{
  const VcmMountRequest *req = call->req;
  g_autoptr(GError) error = NULL;
  g_autoptr(VcmRootfs) mounted = NULL;

  sync_rootfs (self, req->sandbox_id, req->container_id);
  mounted = vcm_mounter_run_mount_rootfs (self->mounter, req, &error);
  if (mounted == NULL)
    {
      return_error (call->invocation, call->caller, error);
      return;
    }
  log_op (G_LOG_LEVEL_MESSAGE, MSGID_MOUNTED, call->caller, "Mounted rootfs %s at %s%s",
          req->source, mounted->mount_point, req->read_only ? " read-only" : "");
  vcm_watch_note_mounted (self->watch, mounted);
  vcm_dbus_mount_complete_mount_rootfs (self->skeleton, call->invocation, mounted->mount_point);
}

static gboolean
unmount_one_rootfs (VcmService *self, VcmCaller *caller, const VcmMountRequest *req,
                    GStrv *out_detached, GError **error)
{
  g_auto(GStrv) detached = NULL;

  sync_rootfs (self, req->sandbox_id, req->container_id);
  detached = vcm_mounter_run_unmount_rootfs (self->mounter, req, error);
  if (detached == NULL)
    return FALSE;
  log_op (G_LOG_LEVEL_MESSAGE, MSGID_UNMOUNTED, caller, "Unmounted rootfs %s/%s at %s (%u mounts detached)",
          req->sandbox_id, req->container_id, detached[0], g_strv_length (detached));
  vcm_watch_note_unmounted (self->watch, req->sandbox_id, req->container_id,
                            (const char * const *) detached);
  if (out_detached)
    *out_detached = g_steal_pointer (&detached);
  return TRUE;
}

static void
run_unmount_rootfs (VcmService *self, Call *call, GVariant *params)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) detached = NULL;

  if (!unmount_one_rootfs (self, call->caller, call->req, &detached, &error))
    return_error (call->invocation, call->caller, error);
  else
    vcm_dbus_mount_complete_unmount_rootfs (self->skeleton, call->invocation,
                                            (const char * const *) detached);
}

static void
run_unmount_sandbox (VcmService *self, Call *call, GVariant *params)
{
  const char *sandbox_id;
  g_autoptr(GError) error = NULL;
  g_autoptr(VcmMountTable) table = NULL;
  g_autoptr(GPtrArray) rootfs = NULL;
  g_autoptr(GStrvBuilder) done = g_strv_builder_new ();
  g_auto(GStrv) result = NULL;

  g_variant_get (params, "(&s)", &sandbox_id);
  table = vcm_watch_get_table (self->watch, FALSE);
  rootfs = vcm_mounter_list_rootfs_in (vcm_mounter_get_shared_dir (self->mounter), table, sandbox_id);
  for (guint i = 0; i < rootfs->len; i++)
    {
      const VcmRootfs *r = rootfs->pdata[i];
      g_autoptr(VcmMountRequest) req =
        vcm_mounter_prepare_unmount_rootfs (self->mounter, r->sandbox_id, r->container_id,
                                            call->caller->creds, &error);

      if (req != NULL && !unmount_one_rootfs (self, call->caller, req, NULL, &error) &&
          g_error_matches (error, VCM_ERROR, VCM_ERROR_NOT_MOUNTED))
        {
          g_clear_error (&error);   /* gone since the table was read: already as asked */
          continue;
        }
      if (error != NULL)
        {
          g_auto(GStrv) so_far = g_strv_builder_end (done);
          g_autofree char *list = g_strjoinv (", ", so_far);

          g_prefix_error (&error, "container %s (unmounted before it: %s): ", r->container_id,
                          *list ? list : "none");
          return_error (call->invocation, call->caller, error);
          return;
        }
      g_strv_builder_add (done, r->container_id);
    }
  result = g_strv_builder_end (done);
  vcm_dbus_mount_complete_unmount_sandbox (self->skeleton, call->invocation, (const char * const *) result);
  if (rootfs->len >= VCM_MEMORY_LARGE_WORK)
    vcm_memory_trim_soon ();   /* a signal and a log line per rootfs: megabytes freed */
}

static void
run_list_rootfs (VcmService *self, Call *call, GVariant *params)
{
  const char *sandbox_id;
  g_autoptr(VcmMountTable) table = NULL;
  g_autoptr(GPtrArray) rootfs = NULL;
  GVariantBuilder builder;

  g_variant_get (params, "(&s)", &sandbox_id);
  table = vcm_watch_get_table (self->watch, FALSE);   /* brings Generation up to date */
  rootfs = vcm_mounter_list_rootfs_in (vcm_mounter_get_shared_dir (self->mounter), table, sandbox_id);
  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(sssb)"));
  for (guint i = 0; i < rootfs->len; i++)
    {
      const VcmRootfs *r = rootfs->pdata[i];
      g_variant_builder_add (&builder, "(sssb)", r->sandbox_id, r->container_id,
                             r->mount_point, r->read_only);
    }
  vcm_dbus_mount_complete_list_rootfs (self->skeleton, call->invocation,
                                       vcm_watch_get_generation (self->watch),
                                       g_variant_builder_end (&builder));
  if (rootfs->len >= VCM_MEMORY_LARGE_WORK)
    vcm_memory_trim_soon ();   /* the reply was built and sent: megabytes freed */
}

static void
run_bind_mount (VcmService *self, Call *call, GVariant *params)
{
  const VcmMountRequest *req = call->req;
  g_autoptr(GError) error = NULL;
  g_autofree char *mount_point = vcm_mounter_run_bind (self->mounter, req, &error);

  if (mount_point == NULL)
    {
      return_error (call->invocation, call->caller, error);
      return;
    }
  log_op (G_LOG_LEVEL_MESSAGE, MSGID_MOUNTED, call->caller, "Bind-mounted %s at %s%s",
          req->source, mount_point, req->read_only ? " read-only" : "");
  vcm_dbus_mount_complete_bind_mount (self->skeleton, call->invocation, mount_point);
}

static void
run_unmount (VcmService *self, Call *call, GVariant *params)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) detached = vcm_mounter_run_unmount (self->mounter, call->req, &error);

  if (detached == NULL)
    {
      return_error (call->invocation, call->caller, error);
      return;
    }
  log_op (G_LOG_LEVEL_MESSAGE, MSGID_UNMOUNTED, call->caller, "Unmounted %s (%u mounts detached)",
          detached[0], g_strv_length (detached));
  vcm_dbus_mount_complete_unmount (self->skeleton, call->invocation, (const char * const *) detached);
}

static void
run_get_device_for_path (VcmService *self, Call *call, GVariant *params)
{
  guint major = 0, minor = 0;
  g_autofree char *mount_point = NULL;
  g_autoptr(GError) error = NULL;

  if (!vcm_query_device_for_path (self->query, call->path, call->caller->creds, &major, &minor,
                                  &mount_point, &error))
    return_error (call->invocation, call->caller, error);
  else
    vcm_dbus_mount_complete_get_device_for_path (self->skeleton, call->invocation, major, minor,
                                                 mount_point);
}

static void
run_get_device_path_and_fs_type (VcmService *self, Call *call, GVariant *params)
{
  g_autofree char *device = NULL;
  g_autofree char *fs_type = NULL;
  g_autoptr(GError) error = NULL;

  if (!vcm_query_device_path_and_fs_type (self->query, call->path, call->caller->creds, &device,
                                          &fs_type, &error))
    return_error (call->invocation, call->caller, error);
  else
    vcm_dbus_mount_complete_get_device_path_and_fs_type (self->skeleton, call->invocation, device,
                                                         fs_type);
}

static void
run_is_device_mapper (VcmService *self, Call *call, GVariant *params)
{
  guint major, minor;

  g_variant_get (params, "(uu)", &major, &minor);
  vcm_dbus_mount_complete_is_device_mapper (self->skeleton, call->invocation,
                                            vcm_query_is_device_mapper (self->query, major, minor));
}

static void
run_is_system_mount (VcmService *self, Call *call, GVariant *params)
{
  gboolean result = FALSE;
  g_autoptr(GError) error = NULL;

  if (!vcm_query_is_system_mount (call->path, &result, &error))
    return_error (call->invocation, call->caller, error);
  else
    vcm_dbus_mount_complete_is_system_mount (self->skeleton, call->invocation, result);
}

static void
run_is_host_device (VcmService *self, Call *call, GVariant *params)
{
  gboolean result = FALSE;
  g_autoptr(GError) error = NULL;

  if (!vcm_query_is_host_device (call->path, call->caller->creds, &result, &error))
    return_error (call->invocation, call->caller, error);
  else
    vcm_dbus_mount_complete_is_host_device (self->skeleton, call->invocation, result);
}

static void
run_describe_path (VcmService *self, Call *call, GVariant *params)
{
  g_autoptr(VcmPathInfo) info = NULL;
  GVariantDict dict;
  g_autoptr(GError) error = NULL;

  info = vcm_query_describe_path (self->query, call->path, call->caller->creds, &error);
  if (info == NULL)
    {
      return_error (call->invocation, call->caller, error);
      return;
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
}

/* ---- life cycle -------------------------------------------------------------- */

VcmService *
vcm_service_new (GDBusConnection *connection,
                 const VcmConfig *config,
                 GError         **error)
{
  g_autoptr(VcmService) self = g_new0 (VcmService, 1);
  g_autofree char *shared_dir = NULL;

  self->connection = g_object_ref (connection);
  self->skeleton = vcm_dbus_mount_skeleton_new ();

  if (!vcm_validate_absolute_path ("shared-dir", config->shared_dir, error))
    return NULL;
  shared_dir = vcm_path_normalize (config->shared_dir);

  /* the watch first: the mounter and the queries read the table through it */
  self->watch = vcm_watch_new (shared_dir, on_change, self, error);
  if (self->watch == NULL)
    return NULL;
  self->mounter = vcm_mounter_new (shared_dir, vcm_watch_get_table, self->watch, error);
  if (self->mounter == NULL)
    return NULL;
  self->query = vcm_query_new (config->sysfs_root, vcm_watch_get_table, self->watch);
  self->auth = vcm_auth_new (connection, config->auth_timeout_ms);
  self->cancellable = g_cancellable_new ();
  self->calls = g_hash_table_new (NULL, NULL);

  vcm_dbus_mount_set_version (self->skeleton, VCM_VERSION);
  vcm_dbus_mount_set_shared_dir (self->skeleton, shared_dir);
  vcm_dbus_mount_set_default_shm_size (self->skeleton, DEFAULT_SHM_SIZE);
  vcm_dbus_mount_set_generation (self->skeleton, vcm_watch_get_generation (self->watch));
  connect_handlers (self);

  if (!g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (self->skeleton), connection,
                                         VCM_OBJECT_PATH, error))
    return NULL;
  return g_steal_pointer (&self);
}

void
vcm_service_free (VcmService *self)
{
  if (self == NULL)
    return;
  if (self->skeleton != NULL &&
      g_dbus_interface_skeleton_get_connection (G_DBUS_INTERFACE_SKELETON (self->skeleton)) != NULL)
    g_dbus_interface_skeleton_unexport (G_DBUS_INTERFACE_SKELETON (self->skeleton));
  g_clear_object (&self->skeleton);
  if (self->calls != NULL)
    {
      GHashTableIter iter;
      gpointer call;

      /* calls in flight end as "stopping" when their callbacks come */
      g_hash_table_iter_init (&iter, self->calls);
      while (g_hash_table_iter_next (&iter, &call, NULL))
        ((Call *) call)->self = NULL;
      g_clear_pointer (&self->calls, g_hash_table_unref);
    }
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->auth != NULL)
    vcm_auth_shutdown (self->auth);
  g_clear_pointer (&self->auth, vcm_auth_unref);
  g_clear_pointer (&self->query, vcm_query_free);
  g_clear_pointer (&self->mounter, vcm_mounter_free);
  g_clear_pointer (&self->watch, vcm_watch_free);
  g_clear_object (&self->connection);
  g_free (self);
}
