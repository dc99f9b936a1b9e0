/* vcm-authorizer: what the D-Bus layer asks before it lets the engine act:
 * who sent a call, and whether polkit allows an action to that caller.
 * VcmAuth is the real one (the bus's credentials, polkitd); the service
 * takes any, so that its pipeline can be tested against a fake. */
#pragma once

#include <gio/gio.h>

#include "vcm-auth.h"

G_BEGIN_DECLS

/* What polkit is asked: whether @caller, the sender of @invocation (whose
 * flags say whether it may be asked for a password), may do @action_id;
 * @details (may be NULL) and the prompt @message go to polkit. Borrowed for
 * the call that asks: an authorizer copies what it keeps. */
typedef struct {
  GDBusMethodInvocation *invocation;
  VcmCaller *caller;
  const char *action_id;
  const char *message;
  GHashTable *details;
} VcmAuthQuestion;

#define VCM_TYPE_AUTHORIZER (vcm_authorizer_get_type ())
G_DECLARE_INTERFACE (VcmAuthorizer, vcm_authorizer, VCM, AUTHORIZER, GObject)

struct _VcmAuthorizerInterface {
  GTypeInterface parent_iface;

  /* Who sent @invocation: uid, pid and groups from the bus, cached per
   * unique name; the bus is asked once per sender, whatever its calls
   * waiting. Failures are VCM_ERROR_NOT_AUTHORIZED; too many calls waiting
   * VCM_ERROR_LIMITS_EXCEEDED; a sender that left the bus meanwhile
   * G_IO_ERROR_CLOSED (nobody to answer: the call is dropped). */
  void (*identify_async) (VcmAuthorizer *authorizer,
                          GDBusMethodInvocation *invocation,
                          GCancellable *cancellable,
                          GAsyncReadyCallback callback,
                          gpointer user_data);
  VcmCaller *(*identify_finish) (VcmAuthorizer *authorizer, GAsyncResult *result, GError **error);
  /* Asks polkit @question. TRUE if allowed; refusals are
   * VCM_ERROR_NOT_AUTHORIZED, except that a check polkit would grant after
   * authentication, of a call that did not allow interactive
   * authorization, is VCM_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED; too
   * many pending checks VCM_ERROR_LIMITS_EXCEEDED; a caller polkit found
   * gone from the bus G_IO_ERROR_CLOSED. */
  void (*check_async) (VcmAuthorizer *authorizer,
                       const VcmAuthQuestion *question,
                       GCancellable *cancellable,
                       GAsyncReadyCallback callback,
                       gpointer user_data);
  gboolean (*check_finish) (VcmAuthorizer *authorizer, GAsyncResult *result, GError **error);
  /* Optional: the caller of @invocation if it is known already (a new
   * reference), else NULL (then identify_async() asks). */
  VcmCaller *(*lookup) (VcmAuthorizer *authorizer, GDBusMethodInvocation *invocation);
  /* Optional: TRUE when @question is allowed without asking anyone (root,
   * whom polkit always allows): the caller need not go through
   * check_async() and a turn of the main loop. */
  gboolean (*allows_at_once) (VcmAuthorizer *authorizer, const VcmAuthQuestion *question);
  /* Whether polkit allowed a call of @uid (not root) lately: such a
   * user's calls may use the places kept for users with a grant. */
  gboolean (*was_granted) (VcmAuthorizer *authorizer, uid_t uid);
  /* Cancels every check in flight (they end as refused): the service is
   * going away. */
  void (*shutdown) (VcmAuthorizer *authorizer);
  /* Optional: @sender left the bus (the service follows the bus's news of
   * it): what is kept about it goes, its calls waiting to be identified
   * end with G_IO_ERROR_CLOSED. */
  void (*sender_gone) (VcmAuthorizer *authorizer, const char *sender);
};

void vcm_authorizer_identify_async (VcmAuthorizer *authorizer,
                                    GDBusMethodInvocation *invocation,
                                    GCancellable *cancellable,
                                    GAsyncReadyCallback callback,
                                    gpointer user_data);
VcmCaller *
vcm_authorizer_identify_finish (VcmAuthorizer *authorizer, GAsyncResult *result, GError **error);
void vcm_authorizer_check_async (VcmAuthorizer *authorizer,
                                 const VcmAuthQuestion *question,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data);
gboolean vcm_authorizer_check_finish (VcmAuthorizer *authorizer, GAsyncResult *result, GError **error);
VcmCaller *vcm_authorizer_lookup (VcmAuthorizer *authorizer, GDBusMethodInvocation *invocation);
gboolean vcm_authorizer_allows_at_once (VcmAuthorizer *authorizer, const VcmAuthQuestion *question);
gboolean vcm_authorizer_was_granted (VcmAuthorizer *authorizer, uid_t uid);
void vcm_authorizer_shutdown (VcmAuthorizer *authorizer);
void vcm_authorizer_sender_gone (VcmAuthorizer *authorizer, const char *sender);

G_END_DECLS
