/* vcm-validate: pure checks and lexical rules for identifiers and paths
 * (no I/O except vcm_path_is_host_device's stat). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* ^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$, never "." or "..". On failure sets
 * VCM_ERROR_INVALID_ARGUMENT naming @arg_name. */
gboolean vcm_validate_id (const char *arg_name, const char *id, GError **error);

/* Non-empty, absolute, valid UTF-8, no longer than PATH_MAX.
 * On failure sets VCM_ERROR_INVALID_ARGUMENT naming @arg_name. */
gboolean vcm_validate_absolute_path (const char *arg_name, const char *path, GError **error);

/* Lexical normalization of an absolute path: "//" collapsed, "." dropped,
 * ".." pops one component (never above "/"), no trailing slash except "/". */
char *vcm_path_normalize (const char *path);

/* TRUE if normalized @path equals @prefix or lies below it component-wise
 * ("/procfoo" is not below "/proc"). Both arguments normalized. */
gboolean vcm_path_has_prefix (const char *path, const char *prefix);

/* @path relative to @prefix ("" when equal), or NULL when not beneath it. */
const char *vcm_path_relative_to (const char *path, const char *prefix);

/* "/proc", "/sys" or below them; @path normalized. */
gboolean vcm_path_is_system_mount (const char *path);

/* "/dev", or below "/dev" and not a regular file (stat follows symlinks);
 * a path that cannot be stat'ed is FALSE. @path normalized. */
gboolean vcm_path_is_host_device (const char *path);

/* The rule behind vcm_path_is_host_device for a path whose stat is already
 * known: @exists FALSE when it could not be stat'ed, else @mode is its st_mode.
 * @path normalized. */
gboolean vcm_path_host_device_rule (const char *path, gboolean exists, guint mode);

/* @text made fit for an error message: valid UTF-8, at most 64 characters
 * (longer input is cut and ends in "..."). Free with g_free. */
char *vcm_validate_quote (const char *text);

G_END_DECLS
