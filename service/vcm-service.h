/* vcm-service: the D-Bus layer. Exports org.vc.Mount, authorizes every call
 * through the one method→action table, unpacks arguments, calls the mount and
 * query logic, and turns results and changes into replies and signals. */
#pragma once

#include <gio/gio.h>

#include "vcm-config.h"

G_BEGIN_DECLS

#define VCM_TYPE_SERVICE (vcm_service_get_type ())
G_DECLARE_FINAL_TYPE (VcmService, vcm_service, VCM, SERVICE, GObject)

/* Exports org.vc.Mount on @connection. Every call in flight holds a
 * reference to the service. */
VcmService *vcm_service_new (GDBusConnection *connection, const VcmConfig *config, GError **error);

/* Stops serving: unexports the interface, cancels what is in flight and
 * lets the parts go; calls still in flight are answered "the service is
 * stopping" as their work lands (they hold the service until then). Done by
 * the last unref too. */
void vcm_service_shutdown (VcmService *service);
/* Calls not yet answered. */
guint vcm_service_get_calls_in_flight (VcmService *service);

/* The polkit action that guards @method, from the one method→action table;
 * NULL for a method that is not in it (such a call is refused). */
const char *vcm_service_action_for_method (const char *method);

G_END_DECLS
