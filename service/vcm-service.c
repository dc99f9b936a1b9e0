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
};

typedef void (*MethodImpl) (VcmService            *self,
                            GDBusMethodInvocation *invocation,
                            GVariant              *params,
                            VcmCaller             *caller);

typedef struct {
  const char *method;
  const char *action;
  const char *message;   /* polkit.message; $(arg) is replaced by that argument */
  MethodImpl  impl;
} MethodEntry;

static void impl_mount_rootfs      (VcmService *, GDBusMethodInvocation *, GVariant *, VcmCaller *);
static void impl_unmount_rootfs    (VcmService *, GDBusMethodInvocation *, GVariant *, VcmCaller *);
static void impl_unmount_sandbox   (VcmService *, GDBusMethodInvocation *, GVariant *, VcmCaller *);
static void impl_list_rootfs       (VcmService *, GDBusMethodInvocation *, GVariant *, VcmCaller *);
static void impl_bind_mount        (VcmService *, GDBusMethodInvocation *, GVariant *, VcmCaller *);
static void impl_unmount           (VcmService *, GDBusMethodInvocation *, GVariant *, VcmCaller *);
static void impl_get_device_for_path (VcmService *, GDBusMethodInvocation *, GVariant *, VcmCaller *);
static void impl_get_device_path_and_fs_type (VcmService *, GDBusMethodInvocation *, GVariant *, VcmCaller *);
static void impl_is_device_mapper  (VcmService *, GDBusMethodInvocation *, GVariant *, VcmCaller *);
static void impl_is_system_mount   (VcmService *, GDBusMethodInvocation *, GVariant *, VcmCaller *);
static void impl_is_host_device    (VcmService *, GDBusMethodInvocation *, GVariant *, VcmCaller *);
static void impl_describe_path     (VcmService *, GDBusMethodInvocation *, GVariant *, VcmCaller *);

/* The one table: each method, the polkit action that guards it. A method of
 * the interface that is not here is refused. */
static const MethodEntry method_table[] = {
  { "MountRootfs",   ACTION_MANAGE_ROOTFS,
    "Mount a root filesystem for container $(container_id) of sandbox $(sandbox_id)", impl_mount_rootfs },
  { "UnmountRootfs", ACTION_MANAGE_ROOTFS,
    "Unmount the root filesystem of container $(container_id) of sandbox $(sandbox_id)", impl_unmount_rootfs },
  { "UnmountSandbox", ACTION_MANAGE_ROOTFS,
    "Unmount every container root filesystem of sandbox $(sandbox_id)", impl_unmount_sandbox },
  { "ListRootfs",    ACTION_QUERY, "List container root filesystems", impl_list_rootfs },
  { "BindMount",     ACTION_BIND,
    "Bind-mount $(source) at $(destination)", impl_bind_mount },
  { "Unmount",       ACTION_BIND, "Unmount $(mount_point)", impl_unmount },
  { "GetDeviceForPath",       ACTION_QUERY, "Query the device holding $(path)", impl_get_device_for_path },
  { "GetDevicePathAndFsType", ACTION_QUERY, "Query the mount at $(mount_point)", impl_get_device_path_and_fs_type },
  { "IsDeviceMapper", ACTION_QUERY, "Query a device", impl_is_device_mapper },
  { "IsSystemMount",  ACTION_QUERY, "Query $(path)", impl_is_system_mount },
  { "IsHostDevice",   ACTION_QUERY, "Query $(path)", impl_is_host_device },
  { "DescribePath",   ACTION_QUERY, "Query $(path)", impl_describe_path },
};

/* Arguments passed to polkit as details, so rules can decide on them: these
 * strings as they are, and read_only as "true" or "false". */
static const char * const detail_args[] = {
  "sandbox_id", "container_id", "source", "destination", "rootfs", "mount_point", "path", NULL
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

typedef struct {
  VcmService            *self;
  const MethodEntry     *entry;
  GDBusMethodInvocation *invocation;
} PendingCall;

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

/* The polkit details and message of a call, from its argument names. */
static PolkitDetails *
details_for (GDBusMethodInvocation *invocation, const MethodEntry *entry, char **out_message)
{
  const GDBusMethodInfo *info = g_dbus_method_invocation_get_method_info (invocation);
  GVariant *params = g_dbus_method_invocation_get_parameters (invocation);
  PolkitDetails *details = polkit_details_new ();
  g_autoptr(GString) message = g_string_new (entry->message);

  for (guint i = 0; info->in_args != NULL && info->in_args[i] != NULL; i++)
    {
      const char *name = info->in_args[i]->name;
      g_autoptr(GVariant) v = g_variant_get_child_value (params, i);
      g_autofree char *token = g_strdup_printf ("$(%s)", name);

      if (g_variant_is_of_type (v, G_VARIANT_TYPE_BOOLEAN) && g_str_equal (name, "read_only"))
        {
          polkit_details_insert (details, name, g_variant_get_boolean (v) ? "true" : "false");
          continue;
        }
      if (!g_variant_is_of_type (v, G_VARIANT_TYPE_STRING) ||
          !g_strv_contains (detail_args, name))
        continue;
      polkit_details_insert (details, name, g_variant_get_string (v, NULL));
      g_string_replace (message, token, g_variant_get_string (v, NULL), 0);
    }
  *out_message = g_string_free (g_steal_pointer (&message), FALSE);
  return details;
}

static void
on_authorized (GObject *source, GAsyncResult *result, gpointer user_data)
{
  PendingCall *call = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(VcmCaller) caller = NULL;

  if (!vcm_auth_check_finish (call->self->auth, result, &caller, &error))
    return_error (call->invocation, caller, error);
  else
    call->entry->impl (call->self, call->invocation,
                       g_dbus_method_invocation_get_parameters (call->invocation), caller);
  g_object_unref (call->invocation);
  g_free (call);
}

static void
dispatch (VcmService *self, GDBusMethodInvocation *invocation)
{
  const char *method = g_dbus_method_invocation_get_method_name (invocation);
  const MethodEntry *entry = lookup_method (method);
  g_autoptr(PolkitDetails) details = NULL;
  g_autofree char *message = NULL;
  PendingCall *call;

  if (entry == NULL)
    {
      g_dbus_method_invocation_return_error (invocation, VCM_ERROR, VCM_ERROR_NOT_AUTHORIZED,
                                             "%s: no authorization is defined for this method", method);
      return;
    }
  details = details_for (invocation, entry, &message);
  call = g_new0 (PendingCall, 1);
  call->self = self;
  call->entry = entry;
  call->invocation = g_object_ref (invocation);
  vcm_auth_check_async (self->auth, invocation, entry->action, message, details, on_authorized, call);
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

/* ---- methods -------------------------------------------------------------- */

/* The credentials the paths a caller names are resolved with: the caller's
 * own (NULL for root: the service's). FALSE when the caller's cannot be looked up. */
static gboolean
query_credentials (VcmCaller *caller, VcmCredentials **out_creds, GError **error)
{
  *out_creds = NULL;
  if (caller->uid == 0)
    return TRUE;
  *out_creds = vcm_credentials_new_for_uid (caller->uid, error);
  return *out_creds != NULL;
}

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
impl_mount_rootfs (VcmService *self, GDBusMethodInvocation *invocation, GVariant *params, VcmCaller *caller)
{
  const char *sandbox_id, *container_id, *rootfs;
  gboolean read_only;
  g_autoptr(GError) error = NULL;
  g_autoptr(VcmRootfs) mounted = NULL;
  g_autoptr(VcmCredentials) creds = NULL;

  g_variant_get (params, "(&s&s&sb)", &sandbox_id, &container_id, &rootfs, &read_only);
  sync_rootfs (self, sandbox_id, container_id);
  if (query_credentials (caller, &creds, &error))
    mounted = vcm_mounter_mount_rootfs (self->mounter, sandbox_id, container_id, rootfs, read_only,
                                        creds, &error);
  if (mounted == NULL)
    {
      return_error (invocation, caller, error);
      return;
    }
  log_op (G_LOG_LEVEL_MESSAGE, MSGID_MOUNTED, caller, "Mounted rootfs %s at %s%s",
          rootfs, mounted->mount_point, read_only ? " read-only" : "");
  vcm_watch_note_mounted (self->watch, mounted);
  vcm_dbus_mount_complete_mount_rootfs (self->skeleton, invocation, mounted->mount_point);
}

static gboolean
unmount_one_rootfs (VcmService *self, VcmCaller *caller, const char *sandbox_id,
                    const char *container_id, GStrv *out_detached, GError **error)
{
  g_auto(GStrv) detached = NULL;

  sync_rootfs (self, sandbox_id, container_id);
  detached = vcm_mounter_unmount_rootfs (self->mounter, sandbox_id, container_id, error);

  if (detached == NULL)
    return FALSE;
  log_op (G_LOG_LEVEL_MESSAGE, MSGID_UNMOUNTED, caller, "Unmounted rootfs %s/%s at %s (%u mounts detached)",
          sandbox_id, container_id, detached[0], g_strv_length (detached));
  vcm_watch_note_unmounted (self->watch, sandbox_id, container_id, (const char * const *) detached);
  if (out_detached)
    *out_detached = g_steal_pointer (&detached);
  return TRUE;
}

static void
impl_unmount_rootfs (VcmService *self, GDBusMethodInvocation *invocation, GVariant *params, VcmCaller *caller)
{
  const char *sandbox_id, *container_id;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) detached = NULL;

  g_variant_get (params, "(&s&s)", &sandbox_id, &container_id);
  if (!unmount_one_rootfs (self, caller, sandbox_id, container_id, &detached, &error))
    return_error (invocation, caller, error);
  else
    vcm_dbus_mount_complete_unmount_rootfs (self->skeleton, invocation, (const char * const *) detached);
}

static void
impl_unmount_sandbox (VcmService *self, GDBusMethodInvocation *invocation, GVariant *params, VcmCaller *caller)
{
  const char *sandbox_id;
  g_autoptr(GError) error = NULL;
  g_autoptr(VcmMountTable) table = NULL;
  g_autoptr(GPtrArray) rootfs = NULL;
  g_autoptr(GStrvBuilder) done = g_strv_builder_new ();
  g_auto(GStrv) result = NULL;

  g_variant_get (params, "(&s)", &sandbox_id);
  if (!vcm_validate_id ("sandbox_id", sandbox_id, &error))
    {
      return_error (invocation, caller, error);
      return;
    }
  table = vcm_watch_get_table (self->watch, FALSE);
  rootfs = vcm_mounter_list_rootfs_in (vcm_mounter_get_shared_dir (self->mounter), table, sandbox_id);
  for (guint i = 0; i < rootfs->len; i++)
    {
      const VcmRootfs *r = rootfs->pdata[i];

      if (!unmount_one_rootfs (self, caller, r->sandbox_id, r->container_id, NULL, &error) &&
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
          return_error (invocation, caller, error);
          return;
        }
      g_strv_builder_add (done, r->container_id);
    }
  result = g_strv_builder_end (done);
  vcm_dbus_mount_complete_unmount_sandbox (self->skeleton, invocation, (const char * const *) result);
  if (rootfs->len >= VCM_MEMORY_LARGE_WORK)
    vcm_memory_trim_soon ();   /* a signal and a log line per rootfs: megabytes freed */
}

static void
impl_list_rootfs (VcmService *self, GDBusMethodInvocation *invocation, GVariant *params, VcmCaller *caller)
{
  const char *sandbox_id;
  g_autoptr(GError) error = NULL;
  g_autoptr(VcmMountTable) table = NULL;
  g_autoptr(GPtrArray) rootfs = NULL;
  GVariantBuilder builder;

  g_variant_get (params, "(&s)", &sandbox_id);
  if (*sandbox_id != '\0' && !vcm_validate_id ("sandbox_id", sandbox_id, &error))
    {
      return_error (invocation, caller, error);
      return;
    }
  table = vcm_watch_get_table (self->watch, FALSE);   /* brings Generation up to date */
  rootfs = vcm_mounter_list_rootfs_in (vcm_mounter_get_shared_dir (self->mounter), table, sandbox_id);
  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(sssb)"));
  for (guint i = 0; i < rootfs->len; i++)
    {
      const VcmRootfs *r = rootfs->pdata[i];
      g_variant_builder_add (&builder, "(sssb)", r->sandbox_id, r->container_id,
                             r->mount_point, r->read_only);
    }
  vcm_dbus_mount_complete_list_rootfs (self->skeleton, invocation,
                                       vcm_watch_get_generation (self->watch),
                                       g_variant_builder_end (&builder));
  if (rootfs->len >= VCM_MEMORY_LARGE_WORK)
    vcm_memory_trim_soon ();   /* the reply was built and sent: megabytes freed */
}

static void
impl_bind_mount (VcmService *self, GDBusMethodInvocation *invocation, GVariant *params, VcmCaller *caller)
{
  const char *source, *destination;
  gboolean read_only;
  g_autoptr(GError) error = NULL;
  g_autofree char *mount_point = NULL;
  g_autoptr(VcmCredentials) creds = NULL;

  g_variant_get (params, "(&s&sb)", &source, &destination, &read_only);
  if (query_credentials (caller, &creds, &error))
    mount_point = vcm_mounter_bind_mount (self->mounter, source, destination, read_only, creds, &error);
  if (mount_point == NULL)
    {
      return_error (invocation, caller, error);
      return;
    }
  log_op (G_LOG_LEVEL_MESSAGE, MSGID_MOUNTED, caller, "Bind-mounted %s at %s%s",
          source, mount_point, read_only ? " read-only" : "");
  vcm_dbus_mount_complete_bind_mount (self->skeleton, invocation, mount_point);
}

static void
impl_unmount (VcmService *self, GDBusMethodInvocation *invocation, GVariant *params, VcmCaller *caller)
{
  const char *mount_point;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) detached = NULL;

  g_variant_get (params, "(&s)", &mount_point);
  detached = vcm_mounter_unmount (self->mounter, mount_point, &error);
  if (detached == NULL)
    {
      return_error (invocation, caller, error);
      return;
    }
  log_op (G_LOG_LEVEL_MESSAGE, MSGID_UNMOUNTED, caller, "Unmounted %s (%u mounts detached)",
          detached[0], g_strv_length (detached));
  vcm_dbus_mount_complete_unmount (self->skeleton, invocation, (const char * const *) detached);
}

static void
impl_get_device_for_path (VcmService *self, GDBusMethodInvocation *invocation, GVariant *params, VcmCaller *caller)
{
  const char *path;
  guint major = 0, minor = 0;
  g_autofree char *mount_point = NULL;
  g_autoptr(VcmCredentials) creds = NULL;
  g_autoptr(GError) error = NULL;

  g_variant_get (params, "(&s)", &path);
  if (!query_credentials (caller, &creds, &error) ||
      !vcm_query_device_for_path (self->query, path, creds, &major, &minor, &mount_point, &error))
    return_error (invocation, caller, error);
  else
    vcm_dbus_mount_complete_get_device_for_path (self->skeleton, invocation, major, minor, mount_point);
}

static void
impl_get_device_path_and_fs_type (VcmService *self, GDBusMethodInvocation *invocation, GVariant *params, VcmCaller *caller)
{
  const char *mount_point;
  g_autofree char *device = NULL;
  g_autofree char *fs_type = NULL;
  g_autoptr(VcmCredentials) creds = NULL;
  g_autoptr(GError) error = NULL;

  g_variant_get (params, "(&s)", &mount_point);
  if (!query_credentials (caller, &creds, &error) ||
      !vcm_query_device_path_and_fs_type (self->query, mount_point, creds, &device, &fs_type, &error))
    return_error (invocation, caller, error);
  else
    vcm_dbus_mount_complete_get_device_path_and_fs_type (self->skeleton, invocation, device, fs_type);
}

static void
impl_is_device_mapper (VcmService *self, GDBusMethodInvocation *invocation, GVariant *params, VcmCaller *caller)
{
  guint major, minor;

  g_variant_get (params, "(uu)", &major, &minor);
  vcm_dbus_mount_complete_is_device_mapper (self->skeleton, invocation,
                                            vcm_query_is_device_mapper (self->query, major, minor));
}

static void
impl_is_system_mount (VcmService *self, GDBusMethodInvocation *invocation, GVariant *params, VcmCaller *caller)
{
  const char *path;
  gboolean result = FALSE;
  g_autoptr(GError) error = NULL;

  g_variant_get (params, "(&s)", &path);
  if (!vcm_query_is_system_mount (path, &result, &error))
    return_error (invocation, caller, error);
  else
    vcm_dbus_mount_complete_is_system_mount (self->skeleton, invocation, result);
}

static void
impl_is_host_device (VcmService *self, GDBusMethodInvocation *invocation, GVariant *params, VcmCaller *caller)
{
  const char *path;
  gboolean result = FALSE;
  g_autoptr(VcmCredentials) creds = NULL;
  g_autoptr(GError) error = NULL;

  g_variant_get (params, "(&s)", &path);
  if (!query_credentials (caller, &creds, &error) ||
      !vcm_query_is_host_device (path, creds, &result, &error))
    return_error (invocation, caller, error);
  else
    vcm_dbus_mount_complete_is_host_device (self->skeleton, invocation, result);
}

static void
impl_describe_path (VcmService *self, GDBusMethodInvocation *invocation, GVariant *params, VcmCaller *caller)
{
  const char *path;
  g_autoptr(VcmPathInfo) info = NULL;
  GVariantDict dict;
  g_autoptr(VcmCredentials) creds = NULL;
  g_autoptr(GError) error = NULL;

  g_variant_get (params, "(&s)", &path);
  if (query_credentials (caller, &creds, &error))
    info = vcm_query_describe_path (self->query, path, creds, &error);
  if (info == NULL)
    {
      return_error (invocation, caller, error);
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
  vcm_dbus_mount_complete_describe_path (self->skeleton, invocation, g_variant_dict_end (&dict));
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
  g_clear_pointer (&self->auth, vcm_auth_free);
  g_clear_pointer (&self->query, vcm_query_free);
  g_clear_pointer (&self->mounter, vcm_mounter_free);
  g_clear_pointer (&self->watch, vcm_watch_free);
  g_clear_object (&self->connection);
  g_free (self);
}
