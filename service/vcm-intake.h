/* vcm-intake: what the service takes in from the bus before the main loop
 * sees it. A filter on the connection, in GDBus's worker thread, bounds the
 * method calls of the interface that wait for the main loop (per sender and
 * in all, by count and by size: beyond, they are refused there and then),
 * closes the descriptors sent with a call that takes none, and drops the
 * calls of senders that left the bus (as a VcmSenders knows them) unanswered
 * instead of worked on: there, before any work of the main loop, or as the
 * main loop takes those that came in before the news. */
#pragma once

#include <gio/gio.h>

#include "vcm-senders.h"

G_BEGIN_DECLS

/* Calls of the interface waiting for the main loop (received, not yet
 * taken): per sender, in all, and their bodies' bytes in all. */
#define VCM_INTAKE_MAX_PER_SENDER 64
#define VCM_INTAKE_MAX            2048
#define VCM_INTAKE_MAX_BYTES      (8 * 1024 * 1024)

typedef struct _VcmIntake VcmIntake;

/* Filters @connection's incoming calls to @object_path of @iface, whose
 * refusals are @limits_error (a D-Bus error name) and @invalid_error;
 * @senders says who left the bus. */
VcmIntake *vcm_intake_new (GDBusConnection *connection,
                           VcmSenders *senders,
                           GDBusInterfaceInfo *iface,
                           const char *object_path,
                           const char *limits_error,
                           const char *invalid_error);
/* Removes the filter. */
void vcm_intake_free (VcmIntake *intake);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VcmIntake, vcm_intake_free)

/* The main loop takes @message (of a method call of the interface) from the
 * intake. FALSE when its sender has left the bus meanwhile: nobody to
 * answer, the call is dropped. */
gboolean vcm_intake_take (VcmIntake *intake, GDBusMessage *message);

/* Its counters, read at once (for the log at stop, tests and benchmarks):
 * calls refused by the filter, calls dropped because their sender had
 * left, and of those the ones the filter dropped (before the main loop saw
 * them). */
void vcm_intake_get_counts (VcmIntake *intake,
                            guint *out_refused,
                            guint *out_dropped,
                            guint *out_dropped_early);

G_END_DECLS
