/* vcm-service: the D-Bus layer. Exports org.vc.Mount and takes every call
 * through one pipeline: checked, identified and authorized (VcmAuthorizer)
 * for the actions the engine (VcmEngine) names, run by the engine, answered;
 * the engine's changes become signals. */
#pragma once

#include <gio/gio.h>

#include "vcm-authorizer.h"
#include "vcm-config.h"
#include "vcm-engine.h"

G_BEGIN_DECLS

#define VCM_TYPE_SERVICE (vcm_service_get_type ())
G_DECLARE_FINAL_TYPE (VcmService, vcm_service, VCM, SERVICE, GObject)

/* Exports org.vc.Mount on @connection. The service asks the bus and polkit
 * its own questions on @questions, the bus's shared connection (g_bus_get()),
 * where the answers do not queue behind callers' calls: @connection should
 * be another. Every call in flight holds a reference to the service. */
VcmService *vcm_service_new (GDBusConnection *connection,
                             GDBusConnection *questions,
                             const VcmConfig *config,
                             GError **error);
/* The same with the parts given: who authorizes, what does the work
 * (@questions: where the bus says who left it; may be @connection). */
VcmService *vcm_service_new_with (GDBusConnection *connection,
                                  GDBusConnection *questions,
                                  VcmAuthorizer *auth,
                                  VcmEngine *engine,
                                  GError **error);

/* Stops serving: unexports the interface, cancels what is in flight and
 * lets the parts go; calls still in flight are answered "the service is
 * stopping" as their work lands (they hold the service until then). Done by
 * the last unref too. */
void vcm_service_shutdown (VcmService *service);
/* Calls not yet answered. */
guint vcm_service_get_calls_in_flight (VcmService *service);

G_END_DECLS
