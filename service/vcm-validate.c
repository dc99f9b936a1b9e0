/* vcm-validate: pure checks and lexical rules for identifiers and paths
 * (sandbox/container IDs, absolute paths, normalization, prefix rules, the
 * system-mount and host-device rules). No I/O except the host-device stat. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include "vcm-error.h"
#include "vcm-validate.h"

#define VCM_ID_MAX_LEN      128
#define VCM_QUOTE_MAX_CHARS 64

char *
vcm_validate_quote (const char *text)
{
  g_autofree char *valid = NULL;
  gsize len, cut;
  glong n_chars;

  if (text == NULL)
    return g_strdup ("(null)");

  /* Only look at a bounded prefix: inputs can be megabytes long. */
  len = strnlen (text, (gsize) VCM_QUOTE_MAX_CHARS * 4 + 1);
  cut = MIN (len, (gsize) VCM_QUOTE_MAX_CHARS * 4);
  valid = g_utf8_make_valid (text, (gssize) cut);
  n_chars = g_utf8_strlen (valid, -1);

  if (n_chars <= VCM_QUOTE_MAX_CHARS && cut == len)
    return g_steal_pointer (&valid);

  if (n_chars > VCM_QUOTE_MAX_CHARS)
    *g_utf8_offset_to_pointer (valid, VCM_QUOTE_MAX_CHARS) = '\0';
  return g_strconcat (valid, "...", NULL);
}

static gboolean
id_char_ok (char c, gboolean first)
{
  if (g_ascii_isalnum (c))
    return TRUE;
  if (first)
    return FALSE;
  return c == '_' || c == '.' || c == '-';
}

gboolean
vcm_validate_id (const char *arg_name, const char *id, GError **error)
{
  gsize i;

  g_return_val_if_fail (arg_name != NULL, FALSE);

  if (id == NULL || id[0] == '\0')
    {
      g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT, "%s: must not be empty", arg_name);
      return FALSE;
    }

  for (i = 0; id[i] != '\0'; i++)
    {
      if (i >= VCM_ID_MAX_LEN || !id_char_ok (id[i], i == 0))
        {
          g_autofree char *quoted = vcm_validate_quote (id);
          g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT,
                       "%s: must match ^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$ (got '%s')", arg_name, quoted);
          return FALSE;
        }
    }

  /* "." and ".." cannot pass the first-character rule; keep the check
   * explicit so a change to that rule cannot let them through. */
  if (g_str_equal (id, ".") || g_str_equal (id, ".."))
    {
      g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT, "%s: must not be '.' or '..'",
                   arg_name);
      return FALSE;
    }

  return TRUE;
}

gboolean
vcm_validate_absolute_path (const char *arg_name, const char *path, GError **error)
{
  g_return_val_if_fail (arg_name != NULL, FALSE);

  if (path == NULL || path[0] == '\0')
    {
      g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT, "%s: must not be empty", arg_name);
      return FALSE;
    }

  if (strnlen (path, PATH_MAX) >= PATH_MAX)
    {
      g_autofree char *quoted = vcm_validate_quote (path);
      g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT, "%s: longer than %d bytes (got '%s')",
                   arg_name, PATH_MAX - 1, quoted);
      return FALSE;
    }

  if (!g_utf8_validate (path, -1, NULL))
    {
      g_autofree char *quoted = vcm_validate_quote (path);
      g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT, "%s: not valid UTF-8 (got '%s')",
                   arg_name, quoted);
      return FALSE;
    }

  if (path[0] != '/')
    {
      g_autofree char *quoted = vcm_validate_quote (path);
      g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT,
                   "%s: must be an absolute path (got '%s')", arg_name, quoted);
      return FALSE;
    }

  return TRUE;
}

char *
vcm_path_normalize (const char *path)
{
  g_autoptr (GString) out = NULL;
  const char *p;

  g_return_val_if_fail (path != NULL, NULL);

  /* A relative path is normalized as if it were rooted at "/". */
  out = g_string_sized_new (strlen (path) + 1);
  p = path;

  while (*p != '\0')
    {
      const char *start;
      gsize len;

      while (*p == '/')
        p++;
      if (*p == '\0')
        break;

      start = p;
      while (*p != '\0' && *p != '/')
        p++;
      len = (gsize) (p - start);

      if (len == 1 && start[0] == '.')
        continue;

      if (len == 2 && start[0] == '.' && start[1] == '.')
        {
          /* Pop the last component; never above "/". */
          char *slash = strrchr (out->str, '/');
          if (slash != NULL)
            g_string_truncate (out, (gsize) (slash - out->str));
          continue;
        }

      g_string_append_c (out, '/');
      g_string_append_len (out, start, (gssize) len);
    }

  if (out->len == 0)
    g_string_append_c (out, '/');

  return g_string_free (g_steal_pointer (&out), FALSE);
}

gboolean
vcm_path_has_prefix (const char *path, const char *prefix)
{
  return vcm_path_relative_to (path, prefix) != NULL;
}

const char *
vcm_path_relative_to (const char *path, const char *prefix)
{
  gsize plen;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (prefix != NULL, NULL);

  if (g_str_equal (prefix, "/"))
    return path[0] == '/' ? path + 1 : NULL;

  plen = strlen (prefix);
  if (strncmp (path, prefix, plen) != 0)
    return NULL;
  if (path[plen] == '\0')
    return path + plen;
  if (path[plen] == '/')
    return path + plen + 1;
  return NULL;
}

gboolean
vcm_path_is_system_mount (const char *path)
{
  g_return_val_if_fail (path != NULL, FALSE);

  return vcm_path_has_prefix (path, "/proc") || vcm_path_has_prefix (path, "/sys");
}

gboolean
vcm_path_host_device_rule (const char *path, gboolean exists, guint mode)
{
  g_return_val_if_fail (path != NULL, FALSE);

  if (g_str_equal (path, "/dev"))
    return TRUE;
  if (!vcm_path_has_prefix (path, "/dev"))
    return FALSE;
  if (!exists)
    return FALSE;
  return !S_ISREG ((mode_t) mode);
}

gboolean
vcm_path_is_host_device (const char *path)
{
  struct stat st;

  g_return_val_if_fail (path != NULL, FALSE);

  if (!vcm_path_has_prefix (path, "/dev"))
    return FALSE;
  if (g_str_equal (path, "/dev"))
    return TRUE;
  if (stat (path, &st) != 0)
    return vcm_path_host_device_rule (path, FALSE, 0);
  return vcm_path_host_device_rule (path, TRUE, st.st_mode);
}
