/* vcm-creds: whose view a path is resolved with: the caller's filesystem
 * credentials, for paths named by unprivileged callers. */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

/* Whose view a path is resolved with: a query from an unprivileged caller
 * must not tell it about paths it could not reach itself. */
typedef struct {
  uid_t  uid;
  gid_t  gid;
  guint  n_groups;
  gid_t *groups;
} VcmCredentials;

/* Credentials of @uid from the user database (primary gid + supplementary groups). */
VcmCredentials *vcm_credentials_new_for_uid (uid_t uid, GError **error);
void            vcm_credentials_free        (VcmCredentials *creds);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VcmCredentials, vcm_credentials_free)

/* Opens @path (absolute, normalized) O_PATH following symlinks, with the
 * filesystem credentials of @creds (NULL or uid 0: the service's own). A path
 * the caller could not reach gives VCM_ERROR_NOT_FOUND, like a missing one.
 * @arg_name names the argument in errors. Returns the fd or -1. */
int vcm_open_path_as (const char           *arg_name,
                      const char           *path,
                      const VcmCredentials *creds,
                      GError              **error);

G_END_DECLS
