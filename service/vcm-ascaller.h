/* vcm-ascaller: the filesystem operations the service makes on a caller's
 * behalf, with its credentials (vcm-creds) and the path walk of vcm-fdpath:
 * opening a path it names, proving a mount's source readable. */
#pragma once

#include <glib.h>

#include "vcm-creds.h"

G_BEGIN_DECLS

/* Opens @path (absolute) with the filesystem credentials of @creds (NULL or
 * uid 0: the service's own), following symlinks by their text and never a
 * /proc magic link (vcm_fdpath_open_following). A path the caller could not
 * reach gives VCM_ERROR_NOT_FOUND, like a missing one. @arg_name names the
 * argument in errors. Returns an O_PATH fd or -1. */
int
vcm_open_path_as (const char *arg_name, const char *path, const VcmCredentials *creds, GError **error);

/* Opens the source of a mount as vcm_open_path_as() does, and proves that
 * the caller may read it: a directory or a regular file is opened for
 * reading with the caller's credentials, anything else is checked with
 * faccessat2(R_OK). Unreadable is VCM_ERROR_NOT_FOUND, like missing.
 * *@out_canonical is the path the kernel gives the opened object (what a
 * polkit rule is shown); *@out_is_dir its kind. Returns an O_PATH fd or -1. */
int vcm_open_source_as (const char *arg_name,
                        const char *path,
                        const VcmCredentials *creds,
                        char **out_canonical,
                        gboolean *out_is_dir,
                        GError **error);

G_END_DECLS
