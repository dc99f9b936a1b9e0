/* vcm-auth: who is calling (credentials from the bus, cached per connection)
 * and whether polkit lets them: asynchronous checks, root allowed without a
 * round trip, interaction only when the message asks for it, bounded time,
 * and a bounded number of checks pending per caller and in all. */
#pragma once

#include <gio/gio.h>
#include <polkit/polkit.h>
#include <sys/types.h>

#include "vcm-creds.h"

G_BEGIN_DECLS

typedef struct {
  char *sender; /* unique bus name */
  uid_t uid;
  pid_t pid;             /* 0 when the bus did not say */
  VcmCredentials *creds; /* uid and every group, from the bus */
} VcmCaller;

/* A caller (refcounted), @creds taken (NULL: root's). */
VcmCaller *vcm_caller_new (const char *sender, uid_t uid, pid_t pid, VcmCredentials *creds);
VcmCaller *vcm_caller_ref (VcmCaller *caller);
void vcm_caller_unref (VcmCaller *caller);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VcmCaller, vcm_caller_unref)

/* How many polkit checks may wait at once: above a bound a call is refused
 * at once with VCM_ERROR_LIMITS_EXCEEDED (the service queues its calls in
 * front of these, so it rarely meets them). The totals stay well below the
 * bus's limit of replies one connection may wait for (128 on a system bus),
 * so the service can always still ask polkit for other callers. A call that
 * allows interaction is checked without first; only if polkit then wants
 * authentication does it take one of the fewer interactive places (a check
 * that may wait minutes for a password), so a caller a rule allows never
 * needs one. Per caller means per uid: a user's many connections share it. */
#define VCM_AUTH_MAX_PENDING             64
#define VCM_AUTH_MAX_PENDING_PER_UID     8
#define VCM_AUTH_MAX_INTERACTIVE         16
#define VCM_AUTH_MAX_INTERACTIVE_PER_UID 2

/* Calls waiting for their caller to be identified (the bus asked, once per
 * sender), per sender and in all: above a bound a call is refused at once
 * with VCM_ERROR_LIMITS_EXCEEDED. */
#define VCM_AUTH_MAX_IDENTIFYING_PER_SENDER 64
#define VCM_AUTH_MAX_IDENTIFYING            1024

#define VCM_TYPE_AUTH (vcm_auth_get_type ())
G_DECLARE_FINAL_TYPE (VcmAuth, vcm_auth, VCM, AUTH, GObject)

/* Callers call on @connection (their leaving the bus is followed there);
 * the bus is asked who they are on @questions, a connection of the
 * service's own whose answers never queue behind callers' calls (it may be
 * @connection, as in tests). Polkit is asked on the shared connection of
 * the bus (g_bus_get()), which for the same reason should not be
 * @connection. @timeout_ms bounds a non-interactive check, asking for the
 * authority included (an interactive one gets 5 minutes). The authority is
 * asked for at once, bounded the same way. Work in flight (the authority's
 * fetch, each check) holds a reference. */
VcmAuth *vcm_auth_new (GDBusConnection *connection, GDBusConnection *questions, guint timeout_ms);

/* VcmAuth is a VcmAuthorizer (vcm-authorizer.h): the service calls it
 * through that interface only. */

G_END_DECLS
