/* vcm-intake: what the service takes in from the bus before the main loop
 * sees it: bounds on the calls waiting for it, descriptors a call cannot
 * use closed at once, and the calls of senders that left. See vcm-intake.h. */
#include "config.h"

#include <string.h>

#include <unistd.h>
#include <gio/gunixfdlist.h>

#include "vcm-intake.h"

typedef struct {
  guint waiting;       /* calls received, not yet taken */
  gsize waiting_bytes; /* their bodies' */
  gboolean gone;       /* left the bus: its calls no longer count in all */
} Sender;

/* Shared with the filter, which may still run once the filter is removed:
 * freed by the connection when it no longer can. */
typedef struct {
  GMutex lock;
  VcmSenders *left;    /* who left the bus */
  GHashTable *senders; /* unique name -> Sender, while it has calls waiting */
  guint waiting;
  gsize waiting_bytes;
  guint refused;
  guint dropped;
  guint dropped_early;    /* (of dropped) by the filter */
  GHashTable *signatures; /* method name -> its in-signature (no parentheses) */
  char *object_path;
  char *interface;
  char *limits_error;
  char *invalid_error;
} State;

struct _VcmIntake {
  GDBusConnection *connection;
  guint filter_id;
  State *state; /* owned by the filter */
};

static GQuark
counted_quark (void)
{
  return g_quark_from_static_string ("vcm-intake-counted");
}

static void
state_free (gpointer data)
{
  State *st = data;

  vcm_senders_unref (st->left);
  g_hash_table_unref (st->senders);
  g_hash_table_unref (st->signatures);
  g_free (st->object_path);
  g_free (st->interface);
  g_free (st->limits_error);
  g_free (st->invalid_error);
  g_mutex_clear (&st->lock);
  g_free (st);
}

static void
refuse (GDBusConnection *connection, GDBusMessage *message, const char *error_name, const char *text)
{
  g_autoptr (GDBusMessage) reply = NULL;

  if (g_dbus_message_get_flags (message) & G_DBUS_MESSAGE_FLAGS_NO_REPLY_EXPECTED)
    return;
  reply = g_dbus_message_new_method_error_literal (message, error_name, text);
  g_dbus_connection_send_message (connection, reply, G_DBUS_SEND_MESSAGE_FLAGS_NONE, NULL, NULL);
}

/* The descriptors a call of @signature may carry: one per handle of the
 * signature, and one more for the options (a{sv}) of the fd-based methods,
 * whose "idmap" may hold a user namespace ("userns", h). */
static guint
count_h (const char *signature)
{
  guint n = 0;

  for (const char *p = signature; *p; p++)
    n += *p == 'h';
  if (n > 0 && strstr (signature, "a{sv}") != NULL)
    n++;
  return n;
}

/* Closes the descriptors of @message at once. */
static void
close_fds (GDBusMessage *message)
{
  GUnixFDList *list = g_dbus_message_get_unix_fd_list (message);
  g_autofree int *fds = NULL;
  int n = 0;

  if (list == NULL)
    return;
  fds = g_unix_fd_list_steal_fds (list, &n);
  for (int i = 0; i < n; i++)
    close (fds[i]);
}

/* A sender left (as the bus tells the questions' connection, possibly while
 * its calls still wait here): they will be dropped as the main loop takes
 * them, and no longer count against the bound in all, so that a flood of
 * connections that hang up cannot fill it for the callers that stay. */
static void
on_left (const char *sender, gpointer user_data)
{
  State *st = user_data;
  Sender *s;

  g_mutex_lock (&st->lock);
  s = g_hash_table_lookup (st->senders, sender);
  if (s != NULL && !s->gone)
    {
      s->gone = TRUE;
      st->waiting -= s->waiting;
      st->waiting_bytes -= s->waiting_bytes;
    }
  g_mutex_unlock (&st->lock);
}

static GDBusMessage *
filter (GDBusConnection *connection, GDBusMessage *message, gboolean incoming, gpointer user_data)
{
  State *st = user_data;
  GDBusMessageType type = g_dbus_message_get_message_type (message);
  const char *sender = g_dbus_message_get_sender (message);
  const char *member, *expected, *signature;
  GUnixFDList *fds;
  guint n_fds;
  GVariant *body;
  gsize size;
  Sender *s;
  const char *why = NULL;

  if (!incoming || sender == NULL || type != G_DBUS_MESSAGE_TYPE_METHOD_CALL)
    return message;

  /* A call of a sender that left: nobody to answer, nothing to do; no
   * dispatch to the main loop, no question about the sender, no reply
   * (its descriptors are closed with it). A live sender's calls all pass,
   * in the order they came. */
  if (vcm_senders_has_left (st->left, sender))
    {
      g_mutex_lock (&st->lock);
      st->dropped++;
      st->dropped_early++;
      g_mutex_unlock (&st->lock);
      g_object_unref (message); /* (the filter owns what it drops) */
      return NULL;
    }

  /* Descriptors with a call to any object of ours: kept only by a method
   * that takes them, and no more than it takes. */
  fds = g_dbus_message_get_unix_fd_list (message);
  n_fds = fds != NULL ? (guint) g_unix_fd_list_get_length (fds) : 0;
  member = g_dbus_message_get_member (message);
  signature = g_dbus_message_get_signature (message);
  expected = NULL;
  if (g_strcmp0 (g_dbus_message_get_path (message), st->object_path) == 0 &&
      g_strcmp0 (g_dbus_message_get_interface (message), st->interface) == 0 && member != NULL)
    expected = g_hash_table_lookup (st->signatures, member);
  if (n_fds > 0 &&
      (expected == NULL || g_strcmp0 (signature, expected) != 0 || n_fds > count_h (expected)))
    {
      close_fds (message);
      refuse (connection, message, st->invalid_error,
              "file descriptors were sent with a call that does not take them (or more than it "
              "takes): they were closed");
      g_object_unref (message); /* (the filter owns what it drops) */
      return NULL;
    }
  /* Only what GDBus hands to the service's handler is counted: a call it
   * answers itself (no such method, wrong signature) is never taken. */
  if (expected == NULL || g_strcmp0 (signature, expected) != 0)
    return message;

  body = g_dbus_message_get_body (message);
  size = body != NULL ? g_variant_get_size (body) : 0;
  g_mutex_lock (&st->lock);
  s = g_hash_table_lookup (st->senders, sender);
  if (s != NULL && s->gone)
    {
      /* (left, though no longer remembered as such) */
      st->dropped++;
      st->dropped_early++;
      g_mutex_unlock (&st->lock);
      g_object_unref (message);
      return NULL;
    }
  if (st->waiting >= VCM_INTAKE_MAX || st->waiting_bytes + size > VCM_INTAKE_MAX_BYTES)
    why = "the service is busy: too many calls are waiting for it; try again later";
  else if (s != NULL && s->waiting >= VCM_INTAKE_MAX_PER_SENDER)
    why = "too many calls of this connection are waiting; try again when some are answered";
  if (why == NULL)
    {
      if (s == NULL)
        {
          s = g_new0 (Sender, 1);
          g_hash_table_insert (st->senders, g_strdup (sender), s);
        }
      s->waiting++;
      s->waiting_bytes += size;
      st->waiting++;
      st->waiting_bytes += size;
    }
  else
    st->refused++;
  g_mutex_unlock (&st->lock);
  if (why != NULL)
    {
      refuse (connection, message, st->limits_error, why);
      g_object_unref (message); /* (the filter owns what it drops) */
      return NULL;
    }
  g_object_set_qdata (G_OBJECT (message), counted_quark (), GSIZE_TO_POINTER (size + 1));
  return message;
}

VcmIntake *
vcm_intake_new (GDBusConnection *connection,
                VcmSenders *senders,
                GDBusInterfaceInfo *iface,
                const char *object_path,
                const char *limits_error,
                const char *invalid_error)
{
  VcmIntake *intake = g_new0 (VcmIntake, 1);
  State *st = g_new0 (State, 1);

  g_mutex_init (&st->lock);
  st->left = vcm_senders_ref (senders);
  st->senders = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  st->signatures = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  for (guint i = 0; iface->methods[i] != NULL; i++)
    {
      GDBusMethodInfo *m = iface->methods[i];
      GString *sig = g_string_new (NULL);

      for (guint j = 0; m->in_args != NULL && m->in_args[j] != NULL; j++)
        g_string_append (sig, m->in_args[j]->signature);
      g_hash_table_insert (st->signatures, g_strdup (m->name), g_string_free (sig, FALSE));
    }
  st->object_path = g_strdup (object_path);
  st->interface = g_strdup (iface->name);
  st->limits_error = g_strdup (limits_error);
  st->invalid_error = g_strdup (invalid_error);
  intake->connection = g_object_ref (connection);
  intake->state = st;
  intake->filter_id = g_dbus_connection_add_filter (connection, filter, st, state_free);
  vcm_senders_watch_left (senders, on_left, st);
  return intake;
}

void
vcm_intake_free (VcmIntake *intake)
{
  /* (first: the filter's removal may free the state) */
  vcm_senders_unwatch_left (intake->state->left);
  g_dbus_connection_remove_filter (intake->connection, intake->filter_id);
  g_object_unref (intake->connection);
  g_free (intake);
}

gboolean
vcm_intake_take (VcmIntake *intake, GDBusMessage *message)
{
  State *st = intake->state;
  gsize counted = GPOINTER_TO_SIZE (g_object_steal_qdata (G_OBJECT (message), counted_quark ()));
  const char *sender = g_dbus_message_get_sender (message);
  gboolean gone;
  Sender *s;

  if (counted == 0 || sender == NULL)
    return TRUE; /* arrived before the filter was there */
  gone = vcm_senders_has_left (st->left, sender);
  g_mutex_lock (&st->lock);
  s = g_hash_table_lookup (st->senders, sender);
  g_assert (s != NULL && s->waiting > 0);
  s->waiting--;
  s->waiting_bytes -= counted - 1;
  gone = gone || s->gone;
  if (!s->gone)
    {
      st->waiting--;
      st->waiting_bytes -= counted - 1;
    }
  if (gone)
    st->dropped++;
  if (s->waiting == 0)
    g_hash_table_remove (st->senders, sender);
  g_mutex_unlock (&st->lock);
  return !gone;
}

void
vcm_intake_get_counts (VcmIntake *intake,
                       guint *out_refused,
                       guint *out_dropped,
                       guint *out_dropped_early)
{
  g_mutex_lock (&intake->state->lock);
  *out_refused = intake->state->refused;
  *out_dropped = intake->state->dropped;
  *out_dropped_early = intake->state->dropped_early;
  g_mutex_unlock (&intake->state->lock);
}
