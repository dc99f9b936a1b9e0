/* vcm-ctl-call: how vcmountctl calls the service: call flags (interactive
 * authorization only when the user can be asked), the polkit agent around the
 * call, the timeout, and turning a D-Bus error into one line and an exit code. */
#include <stdio.h>

#include "vcm-ctl.h"
#include "vcm-ctl-agent.h"
#include "config.h"
#include "vcm-generated.h" /* introspection data only; the types are libvcmount's */

static void
print_error (const char *what, const char *message, VcmCtlExit code)
{
  const char *hint = vcm_ctl_hint_for_exit (code);

  g_printerr ("vcmountctl: %s: %s\n", what, message);
  if (hint != NULL)
    g_printerr ("vcmountctl: %s\n", hint);
}

VcmCtlExit
vcm_ctl_report_error (GError *error, const char *what)
{
  VcmCtlExit code = vcm_ctl_exit_for_error (error);
  g_autofree char *name = g_dbus_error_get_remote_error (error);
  const char *hint;

  g_dbus_error_strip_remote_error (error);
  print_error (what, error->message, code);
  hint = vcm_ctl_hint_for_error_name (name, error->message);
  if (hint != NULL)
    g_printerr ("vcmountctl: %s\n", hint);
  return code;
}

VcmCallFlags
vcm_ctl_auth_begin (VcmCtl *ctl, VcmCtlAuth *auth)
{
  g_autoptr (GError) agent_error = NULL;

  auth->ctl = ctl;
  auth->agent = NULL;
  auth->saved_timeout_msec = vcm_client_get_timeout_msec (ctl->client);
  auth->error = NULL;
  auth->code = VCM_CTL_EXIT_OK;
  if (!vcm_ctl_agent_wanted (ctl->no_ask_password))
    return VCM_CALL_FLAGS_NONE;
  /* Typing a password takes longer than the default D-Bus timeout. */
  if (ctl->timeout_msec < 0)
    vcm_client_set_timeout_msec (ctl->client, G_MAXINT);
  auth->agent = vcm_ctl_agent_start (&agent_error);
  if (agent_error != NULL)
    g_printerr ("vcmountctl: warning: %s\n", agent_error->message);
  return VCM_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION;
}

/* The exit code of a library call's error. */
static VcmCtlExit
exit_for_call_error (GError *error)
{
  switch (error->code)
    {
    case VCM_CLIENT_ERROR_NOT_AUTHORIZED:
      return VCM_CTL_EXIT_NOT_AUTHORIZED;
    case VCM_CLIENT_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED:
      return VCM_CTL_EXIT_AUTHENTICATION_REQUIRED;
    case VCM_CLIENT_ERROR_NOT_FOUND:
    case VCM_CLIENT_ERROR_NOT_MOUNTED:
      return VCM_CTL_EXIT_NOT_FOUND;
    default:
      return VCM_CTL_EXIT_FAILED;
    }
}

gboolean
vcm_ctl_auth_end (VcmCtlAuth *auth, const char *what_format, ...)
{
  g_autoptr (GError) error = g_steal_pointer (&auth->error);
  g_autofree char *what = NULL;
  va_list ap;

  vcm_ctl_agent_stop (auth->agent);
  auth->agent = NULL;
  vcm_client_set_timeout_msec (auth->ctl->client, auth->saved_timeout_msec);
  if (error == NULL)
    return TRUE;

  va_start (ap, what_format);
  what = g_strdup_vprintf (what_format, ap);
  va_end (ap);
  if (error->domain != VCM_CLIENT_ERROR)
    auth->code = vcm_ctl_report_error (error, what);
  else
    {
      auth->code = exit_for_call_error (error);
      print_error (what, error->message, auth->code);
    }
  return FALSE;
}

VcmCtlExit
vcm_ctl_usage_error (const char *command, const char *problem_format, ...)
{
  va_list ap;
  g_autofree char *problem = NULL;

  va_start (ap, problem_format);
  problem = g_strdup_vprintf (problem_format, ap);
  va_end (ap);
  if (command != NULL)
    g_printerr ("vcmountctl: %s; see 'vcmountctl %s --help'\n", problem, command);
  else
    g_printerr ("vcmountctl: %s; see 'vcmountctl --help'\n", problem);
  return VCM_CTL_EXIT_USAGE;
}

/* Runs one call on the bus with the right flags, with the agent around it. */
static GVariant *
call_with_auth (VcmCtl *ctl,
                const char *interface,
                const char *method,
                GVariant *parameters,
                const GVariantType *reply_type,
                GError **error)
{
  VcmCtlAgent *agent = NULL;
  GDBusCallFlags flags = G_DBUS_CALL_FLAGS_NONE;
  GVariant *reply;
  int timeout = ctl->timeout_msec;

  if (vcm_ctl_agent_wanted (ctl->no_ask_password))
    {
      g_autoptr (GError) agent_error = NULL;

      flags |= G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION;
      /* Typing a password takes longer than the default D-Bus timeout. */
      if (timeout < 0)
        timeout = G_MAXINT;
      agent = vcm_ctl_agent_start (&agent_error);
      if (agent_error != NULL)
        g_printerr ("vcmountctl: warning: %s\n", agent_error->message);
    }

  reply = g_dbus_connection_call_sync (ctl->bus, VCM_BUS_NAME, VCM_OBJECT_PATH, interface, method,
                                       parameters, reply_type, flags, timeout, NULL, error);
  /* The agent answers polkit during the call, and is no longer needed after it. */
  vcm_ctl_agent_stop (agent);
  return reply;
}

/* The reply signature of @method, from the interface's introspection data. */
static const GVariantType *
reply_type_for (const char *method)
{
  static GHashTable *types; /* method name → GVariantType, lives until exit */
  GDBusInterfaceInfo *info = vcm_dbus_mount_interface_info ();

  if (types == NULL)
    {
      types =
        g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) g_variant_type_free);
      for (guint i = 0; info->methods[i] != NULL; i++)
        {
          GDBusMethodInfo *m = info->methods[i];
          g_autoptr (GString) sig = g_string_new ("(");

          for (guint j = 0; m->out_args != NULL && m->out_args[j] != NULL; j++)
            g_string_append (sig, m->out_args[j]->signature);
          g_string_append_c (sig, ')');
          g_hash_table_insert (types, m->name, g_variant_type_new (sig->str));
        }
    }
  return g_hash_table_lookup (types, method);
}

GVariant *
vcm_ctl_call (VcmCtl *ctl,
              const char *method,
              GVariant *parameters,
              VcmCtlExit *exit_out,
              const char *what_format,
              ...)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) params = g_variant_ref_sink (parameters);
  const char *interface = VCM_CTL_INTERFACE;
  const GVariantType *reply_type = reply_type_for (method);
  GVariant *reply;

  *exit_out = VCM_CTL_EXIT_FAILED;
  g_return_val_if_fail (reply_type != NULL, NULL);

  reply = call_with_auth (ctl, interface, method, params, reply_type, &error);
  if (reply == NULL)
    {
      va_list ap;
      g_autofree char *what = NULL;

      va_start (ap, what_format);
      what = g_strdup_vprintf (what_format, ap);
      va_end (ap);
      *exit_out = vcm_ctl_report_error (error, what);
      return NULL;
    }
  *exit_out = VCM_CTL_EXIT_OK;
  return reply;
}

GVariant *
vcm_ctl_get_all_properties (VcmCtl *ctl, VcmCtlExit *exit_out)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  const char *interface = VCM_CTL_INTERFACE;
  GVariant *props;

  reply = call_with_auth (ctl, "org.freedesktop.DBus.Properties", "GetAll",
                          g_variant_new ("(s)", interface), G_VARIANT_TYPE ("(a{sv})"), &error);
  if (reply == NULL)
    {
      *exit_out = vcm_ctl_report_error (error, "cannot read the service's properties");
      return NULL;
    }
  g_variant_get (reply, "(@a{sv})", &props);
  *exit_out = VCM_CTL_EXIT_OK;
  return props;
}
