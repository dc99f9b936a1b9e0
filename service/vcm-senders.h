/* vcm-senders: senders that left the bus, for the parts that keep something
 * per sender (the auth's callers, the service's calls, the intake's counts):
 * the bus's NameOwnerChanged of a unique name to no owner. The match rule
 * that brings only those signals is the auth's (unique names are never
 * reused: one that left is gone for good). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The unique name that left the bus, if @parameters (of NameOwnerChanged)
 * say one did; else NULL. Points into @parameters. */
const char *vcm_senders_gone_name (GVariant *parameters);

typedef void (*VcmSenderGoneFunc) (const char *sender, gpointer user_data);

/* Calls @func in the main context of this call for each sender that leaves
 * the bus of @connection; g_dbus_connection_signal_unsubscribe() the
 * returned ID to stop. */
guint vcm_senders_watch_gone (GDBusConnection *connection, VcmSenderGoneFunc func, gpointer user_data);

G_END_DECLS
