/* vcm-senders: senders that left the bus (see the header). */
#include "config.h"

#include "vcm-senders.h"

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
