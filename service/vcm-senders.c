/* vcm-senders: senders that left the bus (see the header). */
#include "config.h"

#include "vcm-senders.h"

#define NAME_LOST_MATCH \
  "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus'," \
  "interface='org.freedesktop.DBus',member='NameOwnerChanged',arg2=''"

const char *
vcm_senders_gone_name (GVariant *parameters)
{
  const char *name, *old_owner, *new_owner;

  if (parameters == NULL || !g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(sss)")))
    return NULL;
  g_variant_get (parameters, "(&s&s&s)", &name, &old_owner, &new_owner);
  return name[0] == ':' && new_owner[0] == '\0' ? name : NULL;
}

typedef struct {
  VcmSenderGoneFunc func;
  gpointer user_data;
} Watch;

static void
on_name_owner_changed (GDBusConnection *connection,
                       const char *sender_name,
                       const char *object_path,
                       const char *interface_name,
                       const char *signal_name,
                       GVariant *parameters,
                       gpointer user_data)
{
  Watch *watch = user_data;
  const char *gone = vcm_senders_gone_name (parameters);

  if (gone != NULL)
    watch->func (gone, watch->user_data);
}

guint
vcm_senders_watch_gone (GDBusConnection *connection, VcmSenderGoneFunc func, gpointer user_data)
{
  Watch *watch = g_new0 (Watch, 1);

  watch->func = func;
  watch->user_data = user_data;
  return g_dbus_connection_signal_subscribe (connection, "org.freedesktop.DBus", "org.freedesktop.DBus",
                                             "NameOwnerChanged", "/org/freedesktop/DBus", NULL,
                                             G_DBUS_SIGNAL_FLAGS_NO_MATCH_RULE, on_name_owner_changed,
                                             watch, g_free);
}

/* The names that left, shared with the filter (which may still run once it
 * is removed: freed by the connection when it no longer can). */
typedef struct {
  GMutex lock;
  GHashTable *names;       /* set of the names in order */
  GQueue order;            /* of the names (owned), oldest first */
  VcmSenderLeftFunc watch; /* called (under the lock) as a name is noted */
  gpointer watch_data;
} Memory;

struct _VcmSenders {
  gatomicrefcount ref;
  GDBusConnection *connection;
  guint filter_id;
  Memory *memory; /* a reference */
};

static void
memory_clear (gpointer data)
{
  Memory *m = data;

  g_hash_table_unref (m->names);
  g_queue_clear_full (&m->order, g_free);
  g_mutex_clear (&m->lock);
}

static void
memory_unref (gpointer data)
{
  g_atomic_rc_box_release_full (data, memory_clear);
}

static void
memory_note (Memory *m, const char *name)
{
  char *copy;

  g_mutex_lock (&m->lock);
  if (!g_hash_table_contains (m->names, name))
    {
      if (m->order.length >= VCM_SENDERS_REMEMBERED)
        {
          char *oldest = g_queue_pop_head (&m->order);

          g_hash_table_remove (m->names, oldest);
          g_free (oldest);
        }
      copy = g_strdup (name);
      g_queue_push_tail (&m->order, copy);
      g_hash_table_add (m->names, copy);
      if (m->watch != NULL)
        m->watch (name, m->watch_data);
    }
  g_mutex_unlock (&m->lock);
}

/* In GDBus's worker thread, as the connection reads each message. */
static GDBusMessage *
filter (GDBusConnection *connection, GDBusMessage *message, gboolean incoming, gpointer user_data)
{
  const char *name;

  if (incoming && g_dbus_message_get_message_type (message) == G_DBUS_MESSAGE_TYPE_SIGNAL &&
      g_strcmp0 (g_dbus_message_get_member (message), "NameOwnerChanged") == 0 &&
      g_strcmp0 (g_dbus_message_get_sender (message), "org.freedesktop.DBus") == 0 &&
      (name = vcm_senders_gone_name (g_dbus_message_get_body (message))) != NULL)
    memory_note (user_data, name);
  return message;
}

VcmSenders *
vcm_senders_new (GDBusConnection *connection)
{
  VcmSenders *senders = g_new0 (VcmSenders, 1);
  Memory *m = g_atomic_rc_box_new0 (Memory);

  g_mutex_init (&m->lock);
  m->names = g_hash_table_new (g_str_hash, g_str_equal);
  g_atomic_ref_count_init (&senders->ref);
  senders->connection = g_object_ref (connection);
  senders->memory = m;
  senders->filter_id =
    g_dbus_connection_add_filter (connection, filter, g_atomic_rc_box_acquire (m), memory_unref);
  g_dbus_connection_call (connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                          "org.freedesktop.DBus", "AddMatch", g_variant_new ("(s)", NAME_LOST_MATCH),
                          NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL, NULL);
  return senders;
}

VcmSenders *
vcm_senders_ref (VcmSenders *senders)
{
  g_atomic_ref_count_inc (&senders->ref);
  return senders;
}

void
vcm_senders_unref (VcmSenders *senders)
{
  if (!g_atomic_ref_count_dec (&senders->ref))
    return;
  g_dbus_connection_remove_filter (senders->connection, senders->filter_id);
  if (!g_dbus_connection_is_closed (senders->connection))
    g_dbus_connection_call (senders->connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                            "org.freedesktop.DBus", "RemoveMatch",
                            g_variant_new ("(s)", NAME_LOST_MATCH), NULL, G_DBUS_CALL_FLAGS_NONE, -1,
                            NULL, NULL, NULL);
  g_object_unref (senders->connection);
  memory_unref (senders->memory);
  g_free (senders);
}

gboolean
vcm_senders_has_left (VcmSenders *senders, const char *sender)
{
  Memory *m = senders->memory;
  gboolean left;

  g_mutex_lock (&m->lock);
  left = g_hash_table_contains (m->names, sender);
  g_mutex_unlock (&m->lock);
  return left;
}

void
vcm_senders_note_left (VcmSenders *senders, const char *sender)
{
  memory_note (senders->memory, sender);
}

void
vcm_senders_watch_left (VcmSenders *senders, VcmSenderLeftFunc func, gpointer user_data)
{
  Memory *m = senders->memory;

  g_mutex_lock (&m->lock);
  g_assert (m->watch == NULL);
  m->watch = func;
  m->watch_data = user_data;
  g_mutex_unlock (&m->lock);
}

void
vcm_senders_unwatch_left (VcmSenders *senders)
{
  Memory *m = senders->memory;

  g_mutex_lock (&m->lock);
  m->watch = NULL;
  m->watch_data = NULL;
  g_mutex_unlock (&m->lock);
}
