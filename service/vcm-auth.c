/* vcm-auth: who is calling (credentials from the bus, cached per connection)
 * and whether polkit lets them: asynchronous checks, root allowed without a
 * round trip, interaction only when the message asks for it, bounded time,
 * and a bounded number of checks pending per caller and in all. */
#include "config.h"

#include <string.h>

#include "vcm-auth.h"
#include "vcm-authorizer.h"
#include "vcm-error.h"

#define INTERACTIVE_TIMEOUT_MS (5 * 60 * 1000)
#define MAX_CACHED_CALLERS     4096

/* A sender not yet identified: its calls wait for the one
 * GetConnectionCredentials asked about it. */
typedef struct {
  char *sender;
  GQueue tasks;              /* GTask of vcm_auth_identify_async(), oldest first */
  GList link;                /* in VcmAuth.to_ask until asked */
  GCancellable *cancellable; /* set while asked */
} Identifying;

struct _VcmAuth {
  GObject parent;
  GDBusConnection *connection; /* the callers' */
  GDBusConnection *questions;  /* where the bus is asked who they are */
  guint timeout_ms;
  GHashTable *callers;     /* unique name -> VcmCaller */
  GHashTable *identifying; /* unique name -> Identifying */
  GQueue to_ask;           /* Identifying not yet asked, oldest first (their links) */
  guint asking;            /* GetConnectionCredentials in flight */
  guint identifying_calls; /* calls waiting to be identified, all senders */
  PolkitAuthority *authority;
  gboolean fetching; /* a polkit_authority_get_async() is under way */
  GCancellable *fetch_cancellable;
  guint fetch_timeout;
  GQueue waiting; /* GTask of checks waiting for the authority */
  guint polkit_checks;
  guint pending; /* polkit checks waiting */
  guint pending_interactive;
  GHashTable *pending_by_uid; /* uid -> count (non-interactive + interactive) */
  GHashTable *interactive_by_uid;
  GHashTable *granted_at;   /* uid -> monotonic second of its last grant (not root) */
  GHashTable *open_actions; /* our actions polkit allows anyone by default (NULL: not known yet) */
  gboolean listing;         /* an enumeration of polkit's actions is under way */
  guint listed_at;          /* monotonic second it was last asked for */
  gulong changed_handler;   /* polkit's "changed": its actions may have changed */
  GHashTable *checks;       /* set of CheckData in flight, for shutdown */
};

static void vcm_auth_authorizer_init (VcmAuthorizerInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (VcmAuth,
                               vcm_auth,
                               G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (VCM_TYPE_AUTHORIZER, vcm_auth_authorizer_init))

typedef struct {
  VcmAuth *auth; /* a reference */
  char *sender;
  char *action_id;
  char *message;
  PolkitDetails *details;
  VcmCaller *caller;
  GCancellable *cancellable; /* cancelled on time-out */
  GTask *task;               /* the check's task (its reference is held by the work in flight) */
  guint timeout_source;
  gboolean timed_out;
  gboolean answered;            /* the task has returned (on time-out, before polkit did) */
  gboolean interactive;         /* the call allows interactive authorization */
  gboolean asked_interactively; /* after a pre-check without: holds an interactive place */
  gboolean counted;             /* holds a place among the pending checks */
} CheckData;

static void
count_add (GHashTable *table, uid_t uid, int delta)
{
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (table, GUINT_TO_POINTER (uid)));

  n = (guint) ((int) n + delta);
  if (n == 0)
    g_hash_table_remove (table, GUINT_TO_POINTER (uid));
  else
    g_hash_table_insert (table, GUINT_TO_POINTER (uid), GUINT_TO_POINTER (n));
}

static guint
count_get (GHashTable *table, uid_t uid)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (table, GUINT_TO_POINTER (uid)));
}

/* Whether polkit (or the bus) said the caller's name has no owner. */
static gboolean
error_says_name_gone (const GError *error)
{
  g_autofree char *remote = g_dbus_error_get_remote_error (error);

  return g_strcmp0 (remote, "org.freedesktop.DBus.Error.NameHasNoOwner") == 0 ||
    strstr (error->message, "org.freedesktop.DBus.Error.NameHasNoOwner") != NULL;
}

/* The check gives up its place among the pending ones: as it is answered,
 * before its caller hears of it (and may ask again at once). */
static void
uncount (CheckData *d)
{
  if (!d->counted)
    return;
  d->counted = FALSE;
  d->auth->pending--;
  count_add (d->auth->pending_by_uid, d->caller->uid, -1);
  if (d->asked_interactively)
    {
      d->auth->pending_interactive--;
      count_add (d->auth->interactive_by_uid, d->caller->uid, -1);
    }
}

static void
check_data_free (gpointer data)
{
  CheckData *d = data;

  uncount (d);
  g_hash_table_remove (d->auth->checks, d);
  g_clear_handle_id (&d->timeout_source, g_source_remove);
  g_clear_object (&d->details);
  g_clear_object (&d->cancellable);
  g_clear_pointer (&d->caller, vcm_caller_unref);
  g_clear_object (&d->auth);
  g_free (d->sender);
  g_free (d->action_id);
  g_free (d->message);
  g_free (d);
}

static void
caller_clear (gpointer data)
{
  VcmCaller *c = data;

  g_free (c->sender);
  vcm_credentials_free (c->creds);
}

VcmCaller *
vcm_caller_new (const char *sender, uid_t uid, pid_t pid, VcmCredentials *creds)
{
  VcmCaller *caller = g_rc_box_new0 (VcmCaller);

  caller->sender = g_strdup (sender);
  caller->uid = uid;
  caller->pid = pid;
  caller->creds = creds;
  return caller;
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

static void identifying_end (VcmAuth *self, const char *sender, VcmCaller *caller, GError *error);

/* (told by the service, which follows the bus's news) */
static void
vcm_auth_sender_gone (VcmAuth *self, const char *name)
{
  g_hash_table_remove (self->callers, name);
  /* its calls not yet identified: nobody to answer */
  identifying_end (self, name, NULL, NULL);
}

/* ---- the authority: asked for at start, and again while it is missing ---- */

static void ask_polkit (GTask *task, PolkitAuthority *authority);
static void ask_interactively (GTask *task, PolkitAuthority *authority);
static void return_refused (GTask *task, const char *why);

static gboolean
on_fetch_timeout (gpointer user_data)
{
  VcmAuth *self = user_data;

  self->fetch_timeout = 0;
  g_cancellable_cancel (self->fetch_cancellable); /* polkit may not heed it: see fetching */
  return G_SOURCE_REMOVE;
}

static guint now_seconds (void);

/* Our actions that polkit allows anybody without a rule (the queries):
 * being allowed one of them is no grant. Until a listing succeeds the set
 * is not known and no grant is noted; a failed listing is asked again (see
 * list_actions()). */
static void
on_actions_enumerated (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (VcmAuth) self = user_data;
  g_autoptr (GError) error = NULL;
  GList *actions = polkit_authority_enumerate_actions_finish (POLKIT_AUTHORITY (source), res, &error);
  GHashTable *open;

  self->listing = FALSE;
  if (actions == NULL && error != NULL)
    {
      g_debug ("polkit's actions could not be listed (asked again later): %s", error->message);
      return;
    }
  open = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (GList *l = actions; l != NULL; l = l->next)
    {
      PolkitActionDescription *a = l->data;
      const char *id = polkit_action_description_get_action_id (a);

      if (g_str_has_prefix (id, "org.vc.mount.") &&
          polkit_action_description_get_implicit_any (a) == POLKIT_IMPLICIT_AUTHORIZATION_AUTHORIZED)
        g_hash_table_add (open, g_strdup (id));
    }
  g_list_free_full (actions, g_object_unref);
  g_clear_pointer (&self->open_actions, g_hash_table_unref);
  self->open_actions = open;
}

#define LIST_ACTIONS_AGAIN_SECONDS 10

/* Lists polkit's actions: at first, when polkit says they changed, and
 * while the set is not known, at most once in LIST_ACTIONS_AGAIN_SECONDS. */
static void
list_actions (VcmAuth *self, gboolean changed)
{
  guint now = now_seconds ();

  if (self->authority == NULL || self->listing)
    return;
  if (!changed && self->listed_at != 0 && now - self->listed_at < LIST_ACTIONS_AGAIN_SECONDS)
    return;
  self->listing = TRUE;
  self->listed_at = now;
  polkit_authority_enumerate_actions (self->authority, NULL, on_actions_enumerated, g_object_ref (self));
}

static void
on_authority_changed (PolkitAuthority *authority, gpointer user_data)
{
  list_actions (user_data, TRUE);
}

static void
on_authority_fetched (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (VcmAuth) self = user_data;
  g_autoptr (GError) error = NULL;
  PolkitAuthority *authority = polkit_authority_get_finish (res, &error);
  GTask *task;

  self->fetching = FALSE;
  g_clear_handle_id (&self->fetch_timeout, g_source_remove);
  g_clear_object (&self->fetch_cancellable);
  if (authority != NULL && self->authority == NULL)
    {
      self->authority = g_object_ref (authority);
      self->changed_handler =
        g_signal_connect (authority, "changed", G_CALLBACK (on_authority_changed), self);
      list_actions (self, TRUE);
    }
  while ((task = g_queue_pop_head (&self->waiting)) != NULL)
    {
      if (self->authority != NULL)
        ask_polkit (task, self->authority);
      else
        {
          g_autofree char *why = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
            ? g_strdup ("polkit did not answer in time")
            : g_strdup_printf ("polkit could not be asked: %s", error->message);
          return_refused (task, why);
          g_object_unref (task);
        }
    }
  if (authority == NULL)
    g_debug ("polkit's authority is not there (%s): the next check asks again", error->message);
  g_clear_object (&authority);
}

/* Asks for the authority unless a request is under way. The request lasts
 * until polkit answers, also past its time-out (a check's own time-out
 * answers the caller meanwhile). */
static void
fetch_authority (VcmAuth *self)
{
  if (self->fetching || self->authority != NULL)
    return;
  self->fetching = TRUE;
  self->fetch_cancellable = g_cancellable_new ();
  self->fetch_timeout = g_timeout_add (self->timeout_ms, on_fetch_timeout, self);
  polkit_authority_get_async (self->fetch_cancellable, on_authority_fetched, g_object_ref (self));
}

static void
vcm_auth_finalize (GObject *object)
{
  VcmAuth *self = VCM_AUTH (object);

  g_clear_handle_id (&self->fetch_timeout, g_source_remove);
  g_clear_object (&self->fetch_cancellable);
  g_clear_pointer (&self->checks, g_hash_table_unref);
  g_clear_pointer (&self->callers, g_hash_table_unref);
  g_clear_pointer (&self->identifying, g_hash_table_unref);
  g_clear_pointer (&self->pending_by_uid, g_hash_table_unref);
  g_clear_pointer (&self->interactive_by_uid, g_hash_table_unref);
  g_clear_pointer (&self->granted_at, g_hash_table_unref);
  g_clear_pointer (&self->open_actions, g_hash_table_unref);
  if (self->authority != NULL)
    g_clear_signal_handler (&self->changed_handler, self->authority);
  g_clear_object (&self->authority);
  g_clear_object (&self->connection);
  g_clear_object (&self->questions);
  G_OBJECT_CLASS (vcm_auth_parent_class)->finalize (object);
}

static void
vcm_auth_class_init (VcmAuthClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = vcm_auth_finalize;
}

static void
vcm_auth_init (VcmAuth *self)
{
  self->callers =
    g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) vcm_caller_unref);
  self->identifying = g_hash_table_new (g_str_hash, g_str_equal);
  self->pending_by_uid = g_hash_table_new (NULL, NULL);
  self->interactive_by_uid = g_hash_table_new (NULL, NULL);
  self->granted_at = g_hash_table_new (NULL, NULL);
  self->checks = g_hash_table_new (NULL, NULL);
}

VcmAuth *
vcm_auth_new (GDBusConnection *connection, GDBusConnection *questions, guint timeout_ms)
{
  VcmAuth *self = g_object_new (VCM_TYPE_AUTH, NULL);

  self->connection = g_object_ref (connection);
  self->questions = g_object_ref (questions);
  self->timeout_ms = timeout_ms;
  /* Asked for now, so that the first caller need not wait for it. */
  fetch_authority (self);
  return self;
}

static void
vcm_auth_shutdown (VcmAuth *self)
{
  GHashTableIter iter;
  gpointer key;

  if (self->fetch_cancellable != NULL)
    g_cancellable_cancel (self->fetch_cancellable);
  g_hash_table_iter_init (&iter, self->checks);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_cancellable_cancel (((CheckData *) key)->cancellable);
  /* the calls waiting to be identified end as refused */
  while (g_hash_table_size (self->identifying) > 0)
    {
      g_autoptr (GError) error = g_error_new (VCM_ERROR, VCM_ERROR_FAILED, "the service is stopping");
      GHashTableIter it;
      gpointer sender;

      g_hash_table_iter_init (&it, self->identifying);
      g_hash_table_iter_next (&it, &sender, NULL);
      identifying_end (self, sender, NULL, error);
    }
}

/* ---- who is calling ----------------------------------------------------------- */

/* One GetConnectionCredentials per sender, at most MAX_ASKING of them in
 * flight; a sender's later calls wait for its answer. What waits is bounded
 * per sender and in all (refused at once beyond), and dropped without a word
 * when the sender leaves the bus: a connection that sends calls and hangs up
 * costs a lookup and a queue entry per call, and one question to the bus.
 * The questions go on a connection of their own: on the callers' one, each
 * answer would queue behind every call sent meanwhile, a flood's included. */
#define MAX_ASKING 32

static void
identifying_free (Identifying *ident)
{
  g_assert (g_queue_is_empty (&ident->tasks));
  g_clear_object (&ident->cancellable);
  g_free (ident->sender);
  g_free (ident);
}

/* Ends the identification of @sender, if under way: each of its calls gets
 * @caller, or @error, or (both NULL: it left the bus) G_IO_ERROR_CLOSED. */
static void
identifying_end (VcmAuth *self, const char *sender, VcmCaller *caller, GError *error)
{
  Identifying *ident = g_hash_table_lookup (self->identifying, sender);
  GTask *task;

  if (ident == NULL)
    return;
  g_hash_table_remove (self->identifying, ident->sender);
  if (ident->cancellable != NULL)
    g_cancellable_cancel (ident->cancellable); /* its answer is dropped */
  else
    g_queue_unlink (&self->to_ask, &ident->link);
  while ((task = g_queue_pop_head (&ident->tasks)) != NULL)
    {
      self->identifying_calls--;
      if (caller != NULL)
        g_task_return_pointer (task, vcm_caller_ref (caller), (GDestroyNotify) vcm_caller_unref);
      else if (error != NULL)
        g_task_return_error (task, g_error_copy (error));
      else
        g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CLOSED, "the caller left the bus");
      g_object_unref (task);
    }
  identifying_free (ident);
}

static VcmCaller *
caller_from_credentials (const char *sender, GVariant *reply, GError **error)
{
  g_autoptr (GVariant) dict = NULL;
  g_autoptr (GVariant) groups = NULL;
  g_autoptr (VcmCaller) caller = NULL;
  guint32 uid, pid;

  g_variant_get (reply, "(@a{sv})", &dict);
  if (!g_variant_lookup (dict, "UnixUserID", "u", &uid))
    {
      g_set_error (error, VCM_ERROR, VCM_ERROR_NOT_AUTHORIZED, "the bus did not give the caller's uid");
      return NULL;
    }
  if (!g_variant_lookup (dict, "ProcessID", "u", &pid))
    pid = 0;
  groups = g_variant_lookup_value (dict, "UnixGroupIDs", G_VARIANT_TYPE ("au"));

  caller = g_rc_box_new0 (VcmCaller);
  caller->sender = g_strdup (sender);
  caller->uid = uid;
  caller->pid = (pid_t) pid;
  if (uid != 0)
    {
      gsize n = 0;
      const guint32 *gids = groups ? g_variant_get_fixed_array (groups, &n, sizeof (guint32)) : NULL;
      gid_t *list;

      /* The caller's own view of the filesystem needs its groups as the
       * kernel knew them when it connected, not the user database's. */
      if (n == 0)
        {
          g_set_error (error, VCM_ERROR, VCM_ERROR_NOT_AUTHORIZED,
                       "the bus did not give the caller's groups");
          return NULL;
        }
      list = g_new (gid_t, n);
      for (gsize i = 0; i < n; i++)
        list[i] = gids[i];
      caller->creds = vcm_credentials_new (uid, list, (guint) n);
      g_free (list);
    }
  return g_steal_pointer (&caller);
}

static void ask_next (VcmAuth *self);

typedef struct {
  VcmAuth *auth; /* a reference */
  char *sender;
} Asked;

static void
on_credentials (GObject *source, GAsyncResult *res, gpointer user_data)
{
  Asked *asked = user_data;
  VcmAuth *self = asked->auth;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (VcmCaller) caller = NULL;

  self->asking--;
  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), res, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    ; /* it left, or the service stops: its calls were answered */
  else if (reply == NULL && error_says_name_gone (error))
    identifying_end (self, asked->sender, NULL, NULL); /* it left before the bus was asked */
  else if (reply == NULL)
    {
      g_autoptr (GError) refused = g_error_new (VCM_ERROR, VCM_ERROR_NOT_AUTHORIZED,
                                                "cannot tell who is calling: %s", error->message);
      identifying_end (self, asked->sender, NULL, refused);
    }
  else if ((caller = caller_from_credentials (asked->sender, reply, &error)) == NULL)
    identifying_end (self, asked->sender, NULL, error);
  else
    {
      /* The news that a caller left follows this answer on the same
       * connection and removes it; the bound is for what comes before the
       * bus has the match rule: such entries cannot pile up. */
      if (g_hash_table_size (self->callers) >= MAX_CACHED_CALLERS)
        g_hash_table_remove_all (self->callers);
      g_hash_table_replace (self->callers, caller->sender, vcm_caller_ref (caller));
      identifying_end (self, asked->sender, caller, NULL);
    }
  ask_next (self);
  g_free (asked->sender);
  g_object_unref (asked->auth);
  g_free (asked);
}

/* Asks the bus about the senders waiting their turn, oldest first. */
static void
ask_next (VcmAuth *self)
{
  GList *link;

  while (self->asking < MAX_ASKING && (link = g_queue_pop_head_link (&self->to_ask)) != NULL)
    {
      Identifying *ident = link->data;
      Asked *asked = g_new0 (Asked, 1);

      asked->auth = g_object_ref (self);
      asked->sender = g_strdup (ident->sender);
      ident->cancellable = g_cancellable_new ();
      self->asking++;
      g_dbus_connection_call (self->questions, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                              "org.freedesktop.DBus", "GetConnectionCredentials",
                              g_variant_new ("(s)", ident->sender), G_VARIANT_TYPE ("(a{sv})"),
                              G_DBUS_CALL_FLAGS_NONE, -1, ident->cancellable, on_credentials, asked);
    }
}

static void
vcm_auth_identify_async (VcmAuth *self,
                         GDBusMethodInvocation *invocation,
                         GCancellable *cancellable,
                         GAsyncReadyCallback callback,
                         gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data); /* holds self */
  const char *sender = g_dbus_method_invocation_get_sender (invocation);
  VcmCaller *cached;
  Identifying *ident;

  g_task_set_source_tag (task, vcm_auth_identify_async);
  if (sender == NULL)
    {
      /* a peer-to-peer connection: no bus to ask; not supported */
      g_task_return_new_error (task, VCM_ERROR, VCM_ERROR_NOT_AUTHORIZED, "the caller has no bus name");
      return;
    }
  cached = g_hash_table_lookup (self->callers, sender);
  if (cached != NULL)
    {
      g_task_return_pointer (task, vcm_caller_ref (cached), (GDestroyNotify) vcm_caller_unref);
      return;
    }
  ident = g_hash_table_lookup (self->identifying, sender);
  if (self->identifying_calls >= VCM_AUTH_MAX_IDENTIFYING ||
      (ident != NULL && ident->tasks.length >= VCM_AUTH_MAX_IDENTIFYING_PER_SENDER))
    {
      g_task_return_new_error (task, VCM_ERROR, VCM_ERROR_LIMITS_EXCEEDED,
                               "too many calls are waiting for their caller to be identified; "
                               "try again when this connection's earlier calls are answered");
      return;
    }
  if (ident == NULL)
    {
      ident = g_new0 (Identifying, 1);
      ident->sender = g_strdup (sender);
      ident->link.data = ident;
      g_hash_table_insert (self->identifying, ident->sender, ident);
      g_queue_push_tail_link (&self->to_ask, &ident->link);
    }
  g_queue_push_tail (&ident->tasks, g_steal_pointer (&task));
  self->identifying_calls++;
  ask_next (self);
}

static VcmCaller *
vcm_auth_lookup (VcmAuth *self, GDBusMethodInvocation *invocation)
{
  const char *sender = g_dbus_method_invocation_get_sender (invocation);
  VcmCaller *cached = sender != NULL ? g_hash_table_lookup (self->callers, sender) : NULL;

  return cached != NULL ? vcm_caller_ref (cached) : NULL;
}

static VcmCaller *
vcm_auth_identify_finish (VcmAuth *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == vcm_auth_identify_async, NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- may they? ------------------------------------------------------------------ */

/* How long a grant makes its user one "with a grant", whose calls get the
 * places kept for such users (vcm-admission). */
#define GRANT_MEMORY_SECONDS  (60 * 60)
#define MAX_GRANTS_REMEMBERED 4096

static guint
now_seconds (void)
{
  return (guint) (g_get_monotonic_time () / G_USEC_PER_SEC) + 1;
}

static gboolean
vcm_auth_was_granted (VcmAuth *self, uid_t uid)
{
  guint at = GPOINTER_TO_UINT (g_hash_table_lookup (self->granted_at, GUINT_TO_POINTER (uid)));

  return at != 0 && now_seconds () - at < GRANT_MEMORY_SECONDS;
}

/* @uid was allowed @action_id: a grant, unless anybody is (or which are
 * is not known yet). */
static void
note_grant (VcmAuth *self, uid_t uid, const char *action_id)
{
  if (self->open_actions == NULL)
    list_actions (self, FALSE);
  if (uid == 0 || self->open_actions == NULL || g_hash_table_contains (self->open_actions, action_id))
    return;
  if (!vcm_auth_was_granted (self, uid))
    g_debug ("uid %u was allowed %s: a caller with a grant for an hour", (guint) uid, action_id);
  if (g_hash_table_size (self->granted_at) >= MAX_GRANTS_REMEMBERED)
    g_hash_table_remove_all (self->granted_at);
  g_hash_table_insert (self->granted_at, GUINT_TO_POINTER (uid), GUINT_TO_POINTER (now_seconds ()));
}

/* Answers the check once: on time-out the caller is answered at once, and
 * polkit's late answer (the work still holds the task) is dropped. */
static void
return_refusal (GTask *task, VcmError code, const char *why)
{
  CheckData *d = g_task_get_task_data (task);

  if (d->answered)
    return;
  d->answered = TRUE;
  /* a check polkit has not answered holds its place until it does (or it
   * is dropped): what waits for polkit stays bounded */
  if (!d->timed_out)
    uncount (d);
  g_task_return_new_error (task, VCM_ERROR, code, "%s: %s", d->action_id, why);
}

static void
return_refused (GTask *task, const char *why)
{
  return_refusal (task, VCM_ERROR_NOT_AUTHORIZED, why);
}

static void
return_allowed (GTask *task)
{
  CheckData *d = g_task_get_task_data (task);

  if (d->answered)
    return;
  d->answered = TRUE;
  uncount (d);
  g_task_return_boolean (task, TRUE);
}

static gboolean
on_check_timeout (gpointer user_data)
{
  CheckData *d = user_data;

  d->timeout_source = 0;
  d->timed_out = TRUE;
  /* An interactive check is called off (its agent's dialog closed); one
   * without interaction is left to polkit's late answer: calling it off
   * would cost one more reply to wait for, where a polkitd that hangs
   * already has as many as the service lets wait. polkit's own calls may
   * not heed the cancellable (its authority's set-up does not): the caller
   * is answered now all the same. */
  if (d->asked_interactively)
    g_cancellable_cancel (d->cancellable);
  return_refused (d->task, "polkit did not answer in time");
  return G_SOURCE_REMOVE;
}

static void
on_check_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  CheckData *d = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  g_autoptr (PolkitAuthorizationResult) result = NULL;

  result = polkit_authority_check_authorization_finish (POLKIT_AUTHORITY (source), res, &error);
  if (result == NULL && !d->timed_out && !d->answered && error_says_name_gone (error))
    {
      /* polkit found the caller gone: nobody to answer */
      d->answered = TRUE;
      uncount (d);
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CLOSED, "the caller left the bus");
    }
  else if (result == NULL)
    {
      g_autofree char *why = d->timed_out
        ? g_strdup ("polkit did not answer in time")
        : g_strdup_printf ("polkit could not be asked: %s", error->message);
      return_refused (task, why);
    }
  else if (polkit_authorization_result_get_is_authorized (result))
    {
      note_grant (d->auth, d->caller->uid, d->action_id);
      return_allowed (task);
    }
  else if (polkit_authorization_result_get_is_challenge (result) && d->interactive &&
           !d->asked_interactively && !d->answered)
    ask_interactively (g_steal_pointer (&task), POLKIT_AUTHORITY (source));
  else if (polkit_authorization_result_get_is_challenge (result) && !d->interactive)
    /* The D-Bus specification's answer (and systemd's): the caller may call
     * again allowing interactive authorization. */
    return_refusal (task, VCM_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED,
                    "authentication is required: call again with interactive "
                    "authorization allowed");
  else if (polkit_authorization_result_get_is_challenge (result))
    return_refused (task,
                    "authentication is required, and no polkit "
                    "authentication agent of the caller's answered");
  else
    return_refused (task, "not authorized");
}

static void ask_polkit (GTask *task, PolkitAuthority *authority);

/* The pre-check without interaction wants authentication, and the call
 * allows it: now asked with interaction, in one of the few places for
 * checks that may wait minutes for a password. A caller that a rule allows
 * never needs one, so callers without a rule cannot crowd it out. */
static void
ask_interactively (GTask *task, PolkitAuthority *authority)
{
  CheckData *d = g_task_get_task_data (task);
  VcmAuth *self = d->auth;
  guint mine = count_get (self->interactive_by_uid, d->caller->uid);

  if (mine >= VCM_AUTH_MAX_INTERACTIVE_PER_UID)
    {
      g_autofree char *why = g_strdup_printf (
        "authentication is required, and %u interactive authorizations of this user are waiting "
        "already; try again when one has been answered",
        mine);
      return_refusal (task, VCM_ERROR_LIMITS_EXCEEDED, why);
      g_object_unref (task);
      return;
    }
  if (self->pending_interactive >= VCM_AUTH_MAX_INTERACTIVE)
    {
      return_refusal (task, VCM_ERROR_LIMITS_EXCEEDED,
                      "authentication is required, and the service has as many interactive "
                      "authorizations waiting as it takes; try again in a moment");
      g_object_unref (task);
      return;
    }
  d->asked_interactively = TRUE;
  self->pending_interactive++;
  count_add (self->interactive_by_uid, d->caller->uid, +1);
  g_clear_handle_id (&d->timeout_source, g_source_remove);
  d->timeout_source = g_timeout_add (INTERACTIVE_TIMEOUT_MS, on_check_timeout, d);
  ask_polkit (task, authority);
}

static void
ask_polkit (GTask *task, PolkitAuthority *authority)
{
  CheckData *d = g_task_get_task_data (task);

  if (d->answered)
    {
      g_object_unref (task); /* timed out while the authority was fetched */
      return;
    }
  g_autoptr (PolkitSubject) subject = polkit_system_bus_name_new (d->sender);

  d->auth->polkit_checks++;
  polkit_authority_check_authorization (authority, subject, d->action_id, d->details,
                                        d->asked_interactively
                                          ? POLKIT_CHECK_AUTHORIZATION_FLAGS_ALLOW_USER_INTERACTION
                                          : POLKIT_CHECK_AUTHORIZATION_FLAGS_NONE,
                                        d->cancellable, on_check_done, task);
}

static void
vcm_auth_check_async (VcmAuth *self,
                      const VcmAuthQuestion *q,
                      GCancellable *cancellable,
                      GAsyncReadyCallback callback,
                      gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  GDBusMessage *msg = g_dbus_method_invocation_get_message (q->invocation);
  VcmCaller *caller = q->caller;
  const char *action_id = q->action_id;
  CheckData *d = g_new0 (CheckData, 1);
  guint mine;

  g_task_set_source_tag (task, vcm_auth_check_async);
  d->auth = g_object_ref (self);
  d->sender = g_strdup (caller->sender);
  d->caller = vcm_caller_ref (caller);
  d->action_id = g_strdup (action_id);
  d->cancellable = g_cancellable_new ();
  d->task = task;
  d->interactive =
    (g_dbus_message_get_flags (msg) & G_DBUS_MESSAGE_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION) != 0;
  g_task_set_task_data (task, d, check_data_free);

  if (caller->uid == 0)
    {
      return_allowed (task); /* polkit always allows root: skip the round trip */
      return;
    }

  mine = count_get (self->pending_by_uid, caller->uid);
  if (mine >= VCM_AUTH_MAX_PENDING_PER_UID)
    {
      g_task_return_new_error (task, VCM_ERROR, VCM_ERROR_LIMITS_EXCEEDED,
                               "%s: %u authorizations of this user are waiting already; try again "
                               "when one has been answered",
                               action_id, mine);
      return;
    }
  if (self->pending >= VCM_AUTH_MAX_PENDING)
    {
      g_task_return_new_error (task, VCM_ERROR, VCM_ERROR_LIMITS_EXCEEDED,
                               "%s: the service has as many authorizations waiting as it takes; "
                               "try again in a moment",
                               action_id);
      return;
    }
  d->counted = TRUE;
  self->pending++;
  count_add (self->pending_by_uid, caller->uid, +1);
  g_hash_table_add (self->checks, d);

  d->details = polkit_details_new ();
  if (q->details != NULL)
    {
      GHashTableIter iter;
      gpointer k, v;

      g_hash_table_iter_init (&iter, q->details);
      while (g_hash_table_iter_next (&iter, &k, &v))
        polkit_details_insert (d->details, k, v);
    }
  if (q->message != NULL)
    polkit_details_insert (d->details, "polkit.message", q->message);

  /* One bound for all of it, asking for the authority included; a call
   * that allows interaction is asked first without (ask_interactively()). */
  d->timeout_source = g_timeout_add (self->timeout_ms, on_check_timeout, d);
  if (self->authority != NULL)
    ask_polkit (g_steal_pointer (&task), self->authority);
  else
    {
      /* one fetch at a time: a second polkit_authority_get_async() while
       * the first is setting up blocks on polkit's lock, main loop and all */
      g_queue_push_tail (&self->waiting, g_steal_pointer (&task));
      fetch_authority (self);
    }
}

/* polkit always allows root: nobody is asked (as vcm_auth_check_async()
 * answers root) */
static gboolean
vcm_auth_allows_at_once (VcmAuth *self, const VcmAuthQuestion *question)
{
  return question->caller->uid == 0;
}

static gboolean
vcm_auth_check_finish (VcmAuth *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == vcm_auth_check_async, FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- the authorizer interface ----------------------------------------------- */

static void
vcm_auth_authorizer_init (VcmAuthorizerInterface *iface)
{
  iface->identify_async = (gpointer) vcm_auth_identify_async;
  iface->identify_finish = (gpointer) vcm_auth_identify_finish;
  iface->lookup = (gpointer) vcm_auth_lookup;
  iface->allows_at_once = (gpointer) vcm_auth_allows_at_once;
  iface->check_async = (gpointer) vcm_auth_check_async;
  iface->check_finish = (gpointer) vcm_auth_check_finish;
  iface->was_granted = (gpointer) vcm_auth_was_granted;
  iface->shutdown = (gpointer) vcm_auth_shutdown;
  iface->sender_gone = (gpointer) vcm_auth_sender_gone;
}
