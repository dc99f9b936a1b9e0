/* vcm-ctl-parse: the client's pure helpers (no bus): exit codes, the mapping
 * of D-Bus error names to them, and the parsing of MAJOR:MINOR arguments,
 * timeouts and mount options. */
#include "vcm-ctl-parse.h"

#include <string.h>

#include <gio/gio.h>

VcmCtlExit
vcm_ctl_exit_for_error_name (const char *error_name)
{
  static const struct {
    const char *name;
    VcmCtlExit code;
  } map[] = {
    { "org.vc.Mount.Error.NotAuthorized", VCM_CTL_EXIT_NOT_AUTHORIZED },
    { "org.freedesktop.DBus.Error.AccessDenied", VCM_CTL_EXIT_NOT_AUTHORIZED },
    { "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired",
      VCM_CTL_EXIT_AUTHENTICATION_REQUIRED },
    { "org.vc.Mount.Error.NotFound", VCM_CTL_EXIT_NOT_FOUND },
    { "org.vc.Mount.Error.NotMounted", VCM_CTL_EXIT_NOT_FOUND },
  };

  if (error_name == NULL)
    return VCM_CTL_EXIT_FAILED;
  for (gsize i = 0; i < G_N_ELEMENTS (map); i++)
    if (g_str_equal (error_name, map[i].name))
      return map[i].code;
  return VCM_CTL_EXIT_FAILED;
}

VcmCtlExit
vcm_ctl_exit_for_error (const GError *error)
{
  g_autofree char *name = NULL;

  if (error == NULL)
    return VCM_CTL_EXIT_OK;
  if (g_dbus_error_is_remote_error (error))
    {
      name = g_dbus_error_get_remote_error (error);
      return vcm_ctl_exit_for_error_name (name);
    }
  /* An AccessDenied that GDBus made itself (no remote error name). */
  if (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED))
    return VCM_CTL_EXIT_NOT_AUTHORIZED;
  return VCM_CTL_EXIT_FAILED;
}

const char *
vcm_ctl_hint_for_exit (VcmCtlExit code)
{
  /* The call allowed no interaction: --no-ask-password, or standard input
   * is not a terminal (see vcm_ctl_agent_wanted()). */
  if (code == VCM_CTL_EXIT_AUTHENTICATION_REQUIRED)
    return "polkit allows this after authentication: run the command again from a "
           "terminal, without --no-ask-password, to be asked for a password";
  return NULL;
}

const char *
vcm_ctl_hint_for_error_name (const char *error_name, const char *message)
{
  static const char disabled[] = "the bus could not start the service: its unit is not enabled "
                                 "(systemctl enable vcmountd)";

  if (g_strcmp0 (error_name, "org.freedesktop.systemd1.NoSuchUnit") == 0)
    return disabled;
  if (message == NULL)
    return NULL;
  /* dbus-broker's own answer (NameHasNoOwner), and systemd's as GDBus
   * reports a failed StartServiceByName (the error's name is lost there). */
  if ((error_name == NULL || g_str_equal (error_name, "org.freedesktop.DBus.Error.NameHasNoOwner")) &&
      strstr (message, "activation request failed: unknown unit") != NULL)
    return disabled;
  if (error_name == NULL && strstr (message, "Unit dbus-org.vc.Mount.service not found") != NULL)
    return disabled;
  return NULL;
}

static gboolean
parse_u32 (const char *text, gsize len, guint32 *out)
{
  guint64 value = 0;

  if (len == 0 || len > 10)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      if (!g_ascii_isdigit (text[i]))
        return FALSE;
      value = value * 10 + (guint64) (text[i] - '0');
    }
  if (value > G_MAXUINT32)
    return FALSE;
  *out = (guint32) value;
  return TRUE;
}

gboolean
vcm_ctl_parse_devnum (const char *text, guint32 *major_out, guint32 *minor_out, GError **error)
{
  const char *colon;
  guint32 major, minor;

  g_return_val_if_fail (text != NULL, FALSE);

  colon = strchr (text, ':');
  if (colon == NULL || !parse_u32 (text, (gsize) (colon - text), &major) ||
      !parse_u32 (colon + 1, strlen (colon + 1), &minor))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "malformed device number '%s' (expected MAJOR:MINOR, two decimal numbers)", text);
      return FALSE;
    }
  *major_out = major;
  *minor_out = minor;
  return TRUE;
}

gboolean
vcm_ctl_parse_timeout (const char *text, int *timeout_msec_out, GError **error)
{
  guint32 seconds;

  g_return_val_if_fail (text != NULL, FALSE);

  if (!parse_u32 (text, strlen (text), &seconds) || seconds > G_MAXINT / 1000)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "invalid timeout '%s' (expected whole seconds, 0 for none)", text);
      return FALSE;
    }
  *timeout_msec_out = seconds == 0 ? G_MAXINT : (int) seconds * 1000;
  return TRUE;
}

static const char *const boolean_keys[] = {
  "read-only", "recursive", "nosuid", "nodev", "noexec", NULL
};
static const char *const propagations[] = { "private", "slave", "shared", "unbindable", NULL };

gboolean
vcm_ctl_parse_mount_option (const char *text, const char **key_out, GVariant **value_out, GError **error)
{
  const char *eq;
  g_autofree char *key = NULL;
  const char *value;

  g_return_val_if_fail (text != NULL, FALSE);
  eq = strchr (text, '=');
  if (eq == NULL)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "malformed option '%s' (expected KEY=VALUE)", text);
      return FALSE;
    }
  key = g_strndup (text, (gsize) (eq - text));
  value = eq + 1;
  for (gsize i = 0; boolean_keys[i] != NULL; i++)
    if (g_str_equal (key, boolean_keys[i]))
      {
        gboolean b;

        if (g_str_equal (value, "true") || g_str_equal (value, "yes") || g_str_equal (value, "1"))
          b = TRUE;
        else if (g_str_equal (value, "false") || g_str_equal (value, "no") || g_str_equal (value, "0"))
          b = FALSE;
        else
          {
            g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                         "option %s: '%s' is not true or false", key, value);
            return FALSE;
          }
        *key_out = boolean_keys[i];
        *value_out = g_variant_new_boolean (b);
        return TRUE;
      }
  if (g_str_equal (key, "propagation"))
    {
      if (!g_strv_contains (propagations, value))
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       "option propagation: '%s' is not private, slave, shared or unbindable", value);
          return FALSE;
        }
      *key_out = "propagation";
      *value_out = g_variant_new_string (value);
      return TRUE;
    }
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
               "unknown option key '%s' (read-only, recursive, nosuid, nodev, noexec, propagation; "
               "for an ID map see --idmap and --userns)",
               key);
  return FALSE;
}
