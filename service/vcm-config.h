/* vcm-config: the daemon's settings, from defaults, the key file and the command line. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  char *shared_dir;
  char *sysfs_root;
  gboolean verbose;
  guint auth_timeout_ms; /* how long a non-interactive polkit check may take */
} VcmConfig;

/* Defaults. */
VcmConfig *vcm_config_new (void);
void vcm_config_free (VcmConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VcmConfig, vcm_config_free)

/* Reads group [vcmountd] of the key file @path over @config: keys SharedDir,
 * SysfsRoot, Verbose, AuthTimeoutSeconds. A missing file leaves the defaults;
 * an unreadable or malformed one, or a bad value, is an error. */
gboolean vcm_config_load (VcmConfig *config, const char *path, GError **error);

G_END_DECLS
