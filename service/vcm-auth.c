/* vcm-auth: who is calling (credentials from the bus, cached per connection)
 * and whether polkit lets them: asynchronous checks, root allowed without a
 * round trip, interaction only when the message asks for it, bounded time. */
#include "config.h"

#include "vcm-auth.h"
#include "vcm-error.h"

#define INTERACTIVE_TIMEOUT_MS (5 * 60 * 1000)
#define MAX_CACHED_CALLERS 4096

struct _VcmAuth {
  GDBusConnection *connection;
  guint            timeout_ms;
  guint            name_owner_sub;
  GHashTable      *callers;        /* unique name -> VcmCaller */
  PolkitAuthority *authority;
  guint            polkit_checks;
};

typedef struct {
  VcmAuth               *auth;
  GDBusMethodInvocation *invocation;
  char                  *action_id;
  char                  *message;
  PolkitDetails         *details;
  VcmCaller             *caller;
  GCancellable          *cancellable;
  guint                  timeout_source;
  gboolean               timed_out;
} CheckData;

static void
check_data_free (gpointer data)
{
  CheckData *d = data;

  g_clear_handle_id (&d->timeout_source, g_source_remove);
  g_clear_object (&d->invocation);
  g_clear_object (&d->details);
  g_clear_object (&d->cancellable);
  g_clear_pointer (&d->caller, vcm_caller_unref);
  g_free (d->action_id);
  g_free (d->message);
  g_free (d);
}

static void
caller_clear (gpointer data)
{
  VcmCaller *c = data;

  g_free (c->sender);
}

VcmCaller *
vcm_caller_ref (VcmCaller *caller)
{
  return g_rc_box_acquire (caller);
}

void
vcm_caller_unref (VcmCaller *caller)
{
  g_rc_box_release_full (caller, caller_clear);
}

static void
on_name_owner_changed (GDBusConnection *connection,
                       const char      *sender_name,
                       const char      *object_path,
                       const char      *interface_name,
                       const char      *signal_name,
                       GVariant        *parameters,
                       gpointer         user_data)
{
  VcmAuth *self = user_data;
  const char *name, *old_owner, *new_owner;

  if (!g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(sss)")))
    return;
  g_variant_get (parameters, "(&s&s&s)", &name, &old_owner, &new_owner);
  if (name[0] == ':' && new_owner[0] == '\0')
    g_hash_table_remove (self->callers, name);   /* unique names are never reused */
}

VcmAuth *
vcm_auth_new (GDBusConnection *connection, guint timeout_ms)
{
  VcmAuth *self = g_new0 (VcmAuth, 1);

  self->connection = g_object_ref (connection);
  self->timeout_ms = timeout_ms;
  self->callers = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                         (GDestroyNotify) vcm_caller_unref);
  self->name_owner_sub =
    g_dbus_connection_signal_subscribe (connection, "org.freedesktop.DBus", "org.freedesktop.DBus",
                                        "NameOwnerChanged", "/org/freedesktop/DBus", NULL,
                                        G_DBUS_SIGNAL_FLAGS_NONE, on_name_owner_changed, self, NULL);
  return self;
}

void
vcm_auth_free (VcmAuth *self)
{
  if (self == NULL)
    return;
  g_dbus_connection_signal_unsubscribe (self->connection, self->name_owner_sub);
  g_clear_pointer (&self->callers, g_hash_table_unref);
  g_clear_object (&self->authority);
  g_clear_object (&self->connection);
  g_free (self);
}

guint
vcm_auth_get_polkit_checks (VcmAuth *self)
{
  return self->polkit_checks;
}

static void
fail_not_authorized (GTask *task, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static void
fail_not_authorized (GTask *task, const char *fmt, ...)
{
  va_list ap;
  g_autofree char *msg = NULL;

  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_task_return_new_error (task, VCM_ERROR, VCM_ERROR_NOT_AUTHORIZED, "%s", msg);
}

static gboolean
on_check_timeout (gpointer user_data)
{
  CheckData *d = user_data;

  d->timeout_source = 0;
  d->timed_out = TRUE;
  g_cancellable_cancel (d->cancellable);
  return G_SOURCE_REMOVE;
}

static void
on_check_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  CheckData *d = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(PolkitAuthorizationResult) result = NULL;

  result = polkit_authority_check_authorization_finish (POLKIT_AUTHORITY (source), res, &error);
  if (result == NULL)
    {
      if (d->timed_out)
        fail_not_authorized (task, "%s: polkit did not answer in time", d->action_id);
      else
        fail_not_authorized (task, "%s: polkit could not be asked: %s", d->action_id, error->message);
      return;
    }
  if (polkit_authorization_result_get_is_authorized (result))
    g_task_return_boolean (task, TRUE);
  else if (polkit_authorization_result_get_is_challenge (result))
    fail_not_authorized (task, "%s: authentication is required (call with interactive "
                               "authorization allowed, e.g. from a terminal)", d->action_id);
  else
    fail_not_authorized (task, "%s: not authorized", d->action_id);
}

static void
ask_polkit (GTask *task)
{
  CheckData *d = g_task_get_task_data (task);
  GDBusMessage *msg = g_dbus_method_invocation_get_message (d->invocation);
  gboolean interactive = (g_dbus_message_get_flags (msg) &
                          G_DBUS_MESSAGE_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION) != 0;
  g_autoptr(PolkitSubject) subject = polkit_system_bus_name_new (d->caller->sender);

  if (d->details == NULL)
    d->details = polkit_details_new ();
  if (d->message != NULL)
    polkit_details_insert (d->details, "polkit.message", d->message);

  d->cancellable = g_cancellable_new ();
  d->timeout_source = g_timeout_add (interactive ? INTERACTIVE_TIMEOUT_MS : d->auth->timeout_ms,
                                     on_check_timeout, d);
  d->auth->polkit_checks++;
  polkit_authority_check_authorization (d->auth->authority, subject, d->action_id, d->details,
                                        interactive ? POLKIT_CHECK_AUTHORIZATION_FLAGS_ALLOW_USER_INTERACTION
                                                    : POLKIT_CHECK_AUTHORIZATION_FLAGS_NONE,
                                        d->cancellable, on_check_done, task);
}

static void
on_authority (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  CheckData *d = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  PolkitAuthority *authority = polkit_authority_get_finish (res, &error);

  if (authority == NULL)
    {
      fail_not_authorized (task, "%s: polkit could not be asked: %s", d->action_id, error->message);
      return;
    }
  if (d->auth->authority == NULL)
    d->auth->authority = authority;
  else
    g_object_unref (authority);
  ask_polkit (g_steal_pointer (&task));
}

static void
decide (GTask *task)
{
  CheckData *d = g_task_get_task_data (task);

  if (d->caller->uid == 0)
    {
      g_task_return_boolean (task, TRUE);   /* polkit always allows root: skip the round trip */
      g_object_unref (task);
      return;
    }
  if (d->auth->authority == NULL)
    polkit_authority_get_async (NULL, on_authority, task);
  else
    ask_polkit (task);
}

static void
on_credentials (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  CheckData *d = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) dict = NULL;
  VcmCaller *caller;
  guint32 uid, pid;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), res, &error);
  if (reply == NULL)
    {
      fail_not_authorized (task, "%s: cannot tell who is calling: %s", d->action_id, error->message);
      return;
    }
  g_variant_get (reply, "(@a{sv})", &dict);
  if (!g_variant_lookup (dict, "UnixUserID", "u", &uid))
    {
      fail_not_authorized (task, "%s: the bus did not give the caller's uid", d->action_id);
      return;
    }
  if (!g_variant_lookup (dict, "ProcessID", "u", &pid))
    pid = 0;

  caller = g_rc_box_new0 (VcmCaller);
  caller->sender = g_strdup (g_dbus_method_invocation_get_sender (d->invocation));
  caller->uid = uid;
  caller->pid = (pid_t) pid;
  d->caller = vcm_caller_ref (caller);
  /* A caller that left before this answer came is never removed by
   * NameOwnerChanged: bound the cache so such entries cannot pile up. */
  if (g_hash_table_size (d->auth->callers) >= MAX_CACHED_CALLERS)
    g_hash_table_remove_all (d->auth->callers);
  g_hash_table_replace (d->auth->callers, caller->sender, caller);
  decide (g_steal_pointer (&task));
}

void
vcm_auth_check_async (VcmAuth               *self,
                      GDBusMethodInvocation *invocation,
                      const char            *action_id,
                      const char            *message,
                      PolkitDetails         *details,
                      GAsyncReadyCallback    callback,
                      gpointer               user_data)
{
  GTask *task = g_task_new (NULL, NULL, callback, user_data);
  CheckData *d = g_new0 (CheckData, 1);
  const char *sender = g_dbus_method_invocation_get_sender (invocation);
  VcmCaller *cached;

  g_task_set_source_tag (task, vcm_auth_check_async);
  d->auth = self;
  d->invocation = g_object_ref (invocation);
  d->action_id = g_strdup (action_id);
  d->message = g_strdup (message);
  d->details = details ? g_object_ref (details) : NULL;
  g_task_set_task_data (task, d, check_data_free);

  if (sender == NULL)
    {
      /* a peer-to-peer connection: no bus to ask; not supported */
      fail_not_authorized (task, "%s: the caller has no bus name", action_id);
      g_object_unref (task);
      return;
    }
  cached = g_hash_table_lookup (self->callers, sender);
  if (cached != NULL)
    {
      d->caller = vcm_caller_ref (cached);
      decide (task);
      return;
    }
  g_dbus_connection_call (self->connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                          "org.freedesktop.DBus", "GetConnectionCredentials",
                          g_variant_new ("(s)", sender), G_VARIANT_TYPE ("(a{sv})"),
                          G_DBUS_CALL_FLAGS_NONE, -1, NULL, on_credentials, task);
}

gboolean
vcm_auth_check_finish (VcmAuth       *self,
                       GAsyncResult  *result,
                       VcmCaller    **out_caller,
                       GError       **error)
{
  GTask *task = G_TASK (result);
  CheckData *d = g_task_get_task_data (task);

  g_return_val_if_fail (g_task_get_source_tag (task) == vcm_auth_check_async, FALSE);
  if (out_caller != NULL)
    *out_caller = d->caller ? vcm_caller_ref (d->caller) : NULL;
  return g_task_propagate_boolean (task, error);
}
