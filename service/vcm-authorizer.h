/* vcm-authorizer: what the D-Bus layer asks before it lets the engine act:
 * who sent a call, and whether polkit allows an action to that caller.
 * VcmAuth is the real one (the bus's credentials, polkitd); the service
 * takes any, so that its pipeline can be tested against a fake. */
#pragma once

#include <gio/gio.h>

#include "vcm-auth.h"

G_BEGIN_DECLS

#define VCM_TYPE_AUTHORIZER (vcm_authorizer_get_type ())
G_DECLARE_INTERFACE (VcmAuthorizer, vcm_authorizer, VCM, AUTHORIZER, GObject)

struct _VcmAuthorizerInterface {
  GTypeInterface parent_iface;

  /* As vcm_auth_identify_async() and _finish(). */
  void (*identify_async) (VcmAuthorizer *authorizer,
                          GDBusMethodInvocation *invocation,
                          GCancellable *cancellable,
                          GAsyncReadyCallback callback,
                          gpointer user_data);
  VcmCaller *(*identify_finish) (VcmAuthorizer *authorizer, GAsyncResult *result, GError **error);
  /* As vcm_auth_check_async() and _finish(). */
  void (*check_async) (VcmAuthorizer *authorizer,
                       GDBusMethodInvocation *invocation,
                       VcmCaller *caller,
                       const char *action_id,
                       const char *message,
                       GHashTable *details,
                       GCancellable *cancellable,
                       GAsyncReadyCallback callback,
                       gpointer user_data);
  gboolean (*check_finish) (VcmAuthorizer *authorizer, GAsyncResult *result, GError **error);
  /* As vcm_auth_was_granted(). */
  gboolean (*was_granted) (VcmAuthorizer *authorizer, uid_t uid);
  /* As vcm_auth_shutdown(). */
  void (*shutdown) (VcmAuthorizer *authorizer);
};

void vcm_authorizer_identify_async (VcmAuthorizer *authorizer,
                                    GDBusMethodInvocation *invocation,
                                    GCancellable *cancellable,
                                    GAsyncReadyCallback callback,
                                    gpointer user_data);
VcmCaller *
vcm_authorizer_identify_finish (VcmAuthorizer *authorizer, GAsyncResult *result, GError **error);
void vcm_authorizer_check_async (VcmAuthorizer *authorizer,
                                 GDBusMethodInvocation *invocation,
                                 VcmCaller *caller,
                                 const char *action_id,
                                 const char *message,
                                 GHashTable *details,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data);
gboolean vcm_authorizer_check_finish (VcmAuthorizer *authorizer, GAsyncResult *result, GError **error);
gboolean vcm_authorizer_was_granted (VcmAuthorizer *authorizer, uid_t uid);
void vcm_authorizer_shutdown (VcmAuthorizer *authorizer);

G_END_DECLS
