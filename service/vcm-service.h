/* vcm-service: the D-Bus layer. Exports org.vc.Mount, authorizes every call
 * through the one method→action table, unpacks arguments, calls the mount and
 * query logic, and turns results and changes into replies and signals. */
#pragma once

#include <gio/gio.h>

#include "vcm-config.h"

G_BEGIN_DECLS

typedef struct _VcmService VcmService;

VcmService *vcm_service_new  (GDBusConnection *connection,
                              const VcmConfig *config,
                              GError         **error);
void        vcm_service_free (VcmService *service);

/* The polkit action that guards @method, from the one method→action table;
 * NULL for a method that is not in it (such a call is refused). */
const char *vcm_service_action_for_method (const char *method);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VcmService, vcm_service_free)

G_END_DECLS
