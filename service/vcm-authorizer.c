/* vcm-authorizer: the interface the D-Bus layer authorizes through (see
 * the header); the calls pass to the implementation's. */
#include "config.h"

#include "vcm-authorizer.h"

G_DEFINE_INTERFACE (VcmAuthorizer, vcm_authorizer, G_TYPE_OBJECT)

static void
vcm_authorizer_default_init (VcmAuthorizerInterface *iface)
{
}

void
vcm_authorizer_identify_async (VcmAuthorizer *authorizer,
                               GDBusMethodInvocation *invocation,
                               GCancellable *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer user_data)
{
  VCM_AUTHORIZER_GET_IFACE (authorizer)
    ->identify_async (authorizer, invocation, cancellable, callback, user_data);
}

VcmCaller *
vcm_authorizer_identify_finish (VcmAuthorizer *authorizer, GAsyncResult *result, GError **error)
{
  return VCM_AUTHORIZER_GET_IFACE (authorizer)->identify_finish (authorizer, result, error);
}

void
vcm_authorizer_check_async (VcmAuthorizer *authorizer,
                            const VcmAuthQuestion *question,
                            GCancellable *cancellable,
                            GAsyncReadyCallback callback,
                            gpointer user_data)
{
  VCM_AUTHORIZER_GET_IFACE (authorizer)
    ->check_async (authorizer, question, cancellable, callback, user_data);
}

gboolean
vcm_authorizer_check_finish (VcmAuthorizer *authorizer, GAsyncResult *result, GError **error)
{
  return VCM_AUTHORIZER_GET_IFACE (authorizer)->check_finish (authorizer, result, error);
}

VcmCaller *
vcm_authorizer_lookup (VcmAuthorizer *authorizer, GDBusMethodInvocation *invocation)
{
  VcmAuthorizerInterface *iface = VCM_AUTHORIZER_GET_IFACE (authorizer);

  return iface->lookup != NULL ? iface->lookup (authorizer, invocation) : NULL;
}

gboolean
vcm_authorizer_allows_at_once (VcmAuthorizer *authorizer, const VcmAuthQuestion *question)
{
  VcmAuthorizerInterface *iface = VCM_AUTHORIZER_GET_IFACE (authorizer);

  return iface->allows_at_once != NULL && iface->allows_at_once (authorizer, question);
}

gboolean
vcm_authorizer_was_granted (VcmAuthorizer *authorizer, uid_t uid)
{
  VcmAuthorizerInterface *iface = VCM_AUTHORIZER_GET_IFACE (authorizer);

  return iface->was_granted != NULL && iface->was_granted (authorizer, uid);
}

void
vcm_authorizer_shutdown (VcmAuthorizer *authorizer)
{
  VcmAuthorizerInterface *iface = VCM_AUTHORIZER_GET_IFACE (authorizer);

  if (iface->shutdown != NULL)
    iface->shutdown (authorizer);
}

void
vcm_authorizer_sender_gone (VcmAuthorizer *authorizer, const char *sender)
{
  VcmAuthorizerInterface *iface = VCM_AUTHORIZER_GET_IFACE (authorizer);

  if (iface->sender_gone != NULL)
    iface->sender_gone (authorizer, sender);
}
