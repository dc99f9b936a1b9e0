/* vcm-auth: who is calling (credentials from the bus, cached per connection)
 * and whether polkit lets them: asynchronous checks, root allowed without a
 * round trip, interaction only when the message asks for it, bounded time. */
#pragma once

#include <gio/gio.h>
#include <polkit/polkit.h>
#include <sys/types.h>

G_BEGIN_DECLS

typedef struct {
  char  *sender;   /* unique bus name */
  uid_t  uid;
  pid_t  pid;      /* 0 when the bus did not say */
} VcmCaller;

VcmCaller *vcm_caller_ref   (VcmCaller *caller);
void       vcm_caller_unref (VcmCaller *caller);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VcmCaller, vcm_caller_unref)

typedef struct _VcmAuth VcmAuth;

/* @timeout_ms bounds a non-interactive check (an interactive one gets 5 minutes). */
VcmAuth *vcm_auth_new  (GDBusConnection *connection,
                        guint            timeout_ms);
void     vcm_auth_free (VcmAuth *auth);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VcmAuth, vcm_auth_free)

/* Checks @action_id for the sender of @invocation. @details (may be NULL)
 * are passed to polkit; @message is the polkit.message shown to the user. */
void vcm_auth_check_async (VcmAuth               *auth,
                           GDBusMethodInvocation *invocation,
                           const char            *action_id,
                           const char            *message,
                           PolkitDetails         *details,
                           GAsyncReadyCallback    callback,
                           gpointer               user_data);

/* TRUE if allowed. @out_caller is set whenever the caller is known, also on
 * refusal (for the log). Refusals are VCM_ERROR_NOT_AUTHORIZED. */
gboolean vcm_auth_check_finish (VcmAuth       *auth,
                                GAsyncResult  *result,
                                VcmCaller    **out_caller,
                                GError       **error);

/* Counters for tests and benchmarks. */
guint vcm_auth_get_polkit_checks (VcmAuth *auth);

G_END_DECLS
