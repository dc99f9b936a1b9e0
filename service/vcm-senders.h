/* vcm-senders: senders that left the bus, for the parts that keep something
 * per sender (the auth's callers, the service's calls, the intake's counts):
 * the bus's NameOwnerChanged of a unique name to no owner. A VcmSenders
 * asks for those signals (a match rule of its own, which GDBus cannot
 * write) on the connection where the service asks its own questions, which
 * they reach without waiting behind callers' calls, and remembers the
 * latest names that left, as its connection reads them (in GDBus's worker
 * thread), so that the calls of a sender already gone are dropped there
 * too. Unique names are never reused: one that left is gone for good. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* How many of the names that left are remembered (the oldest forgotten
 * first): a forgotten one only costs its calls' way through the pipeline,
 * where the bus says it has gone. */
#define VCM_SENDERS_REMEMBERED 16384

/* The unique name that left the bus, if @parameters (of NameOwnerChanged)
 * say one did; else NULL. Points into @parameters. */
const char *vcm_senders_gone_name (GVariant *parameters);

typedef void (*VcmSenderGoneFunc) (const char *sender, gpointer user_data);

/* Calls @func in the main context of this call for each sender that leaves
 * the bus of @connection (where a VcmSenders asks for the signals);
 * g_dbus_connection_signal_unsubscribe() the returned ID to stop. */
guint vcm_senders_watch_gone (GDBusConnection *connection, VcmSenderGoneFunc func, gpointer user_data);

typedef struct _VcmSenders VcmSenders;

/* Asks the bus of @connection for the names that lose their owner, and
 * remembers those that left, as they come. */
VcmSenders *vcm_senders_new (GDBusConnection *connection);
VcmSenders *vcm_senders_ref (VcmSenders *senders);
/* Drops a reference; the last one stops asking (see vcm_senders_stop()). */
void vcm_senders_unref (VcmSenders *senders);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VcmSenders, vcm_senders_unref)

/* Whether the unique name @sender is known to have left the bus. From any
 * thread. */
gboolean vcm_senders_has_left (VcmSenders *senders, const char *sender);

typedef void (*VcmSenderLeftFunc) (const char *sender, gpointer user_data);

/* Calls @func as each name that left is first noted (in GDBus's worker
 * thread, or that of vcm_senders_note_left()), until
 * vcm_senders_unwatch_left(); @func must not call back into @senders. One
 * watch at a time. */
void vcm_senders_watch_left (VcmSenders *senders, VcmSenderLeftFunc func, gpointer user_data);
/* Stops the watch: once it returns, its function is not called again. */
void vcm_senders_unwatch_left (VcmSenders *senders);

/* Notes that @sender left the bus (what the filter does as a signal says
 * so; for tests). */
void vcm_senders_note_left (VcmSenders *senders, const char *sender);

G_END_DECLS
