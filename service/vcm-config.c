/* vcm-config: the daemon's settings, from defaults, the key file and the command line. */
#include "config.h"

#include <gio/gio.h>

#include "vcm-config.h"
#include "vcm-error.h"
#include "vcm-validate.h"

#define GROUP                   "vcmountd"
#define DEFAULT_AUTH_TIMEOUT_MS 25000

VcmConfig *
vcm_config_new (void)
{
  VcmConfig *config = g_new0 (VcmConfig, 1);

  config->shared_dir = g_strdup (VCM_DEFAULT_SHARED_DIR);
  config->sysfs_root = g_strdup (VCM_DEFAULT_SYSFS_ROOT);
  config->auth_timeout_ms = DEFAULT_AUTH_TIMEOUT_MS;
  return config;
}

void
vcm_config_free (VcmConfig *config)
{
  if (config == NULL)
    return;
  g_free (config->shared_dir);
  g_free (config->sysfs_root);
  g_free (config);
}

static gboolean
load_path_key (GKeyFile *kf, const char *key, char **inout, const char *file, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autofree char *value = g_key_file_get_string (kf, GROUP, key, &local_error);

  if (value == NULL)
    {
      if (g_error_matches (local_error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND) ||
          g_error_matches (local_error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_GROUP_NOT_FOUND))
        return TRUE;
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error), "%s: %s: ", file, key);
      return FALSE;
    }
  if (!vcm_validate_absolute_path (key, value, error))
    {
      g_prefix_error (error, "%s: ", file);
      return FALSE;
    }
  g_free (*inout);
  *inout = vcm_path_normalize (value);
  return TRUE;
}

gboolean
vcm_config_load (VcmConfig *config, const char *path, GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local_error = NULL;

  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, &local_error))
    {
      if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return TRUE;
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error), "%s: ", path);
      return FALSE;
    }

  if (!load_path_key (kf, "SharedDir", &config->shared_dir, path, error) ||
      !load_path_key (kf, "SysfsRoot", &config->sysfs_root, path, error))
    return FALSE;

  if (g_key_file_has_key (kf, GROUP, "Verbose", NULL))
    {
      config->verbose = g_key_file_get_boolean (kf, GROUP, "Verbose", &local_error);
      if (local_error != NULL)
        {
          g_propagate_prefixed_error (error, g_steal_pointer (&local_error), "%s: Verbose: ", path);
          return FALSE;
        }
    }
  if (g_key_file_has_key (kf, GROUP, "AuthTimeoutSeconds", NULL))
    {
      guint64 secs = g_key_file_get_uint64 (kf, GROUP, "AuthTimeoutSeconds", &local_error);

      if (local_error == NULL && (secs < 1 || secs > 3600))
        g_set_error (&local_error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT,
                     "must be between 1 and 3600, not %" G_GUINT64_FORMAT, secs);
      if (local_error != NULL)
        {
          g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                      "%s: AuthTimeoutSeconds: ", path);
          return FALSE;
        }
      config->auth_timeout_ms = (guint) secs * 1000;
    }
  return TRUE;
}
