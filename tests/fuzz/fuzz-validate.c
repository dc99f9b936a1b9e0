/* fuzz-validate: libFuzzer target for the lexical rules of vcm-validate:
 * vcm_validate_id, vcm_validate_absolute_path and vcm_path_normalize, with
 * the invariants of a normalized path checked on every input (absolute, no
 * "//", "/./" or "/../", no trailing slash but "/", no "." or ".." component,
 * idempotent) and the prefix rules checked against it. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vcm-error.h"
#include "vcm-validate.h"

#define CHECK(cond) \
  do \
    { \
      if (!(cond)) \
        { \
          g_printerr ("fuzz-validate: invariant failed: %s (input '%s')\n", #cond, input); \
          abort (); \
        } \
    } \
  while (0)

static gboolean
id_matches_rule (const char *id)
{
  gsize len = strlen (id);

  if (len == 0 || len > 128 || !g_ascii_isalnum (id[0]))
    return FALSE;
  for (gsize i = 1; i < len; i++)
    if (!g_ascii_isalnum (id[i]) && id[i] != '_' && id[i] != '.' && id[i] != '-')
      return FALSE;
  return strcmp (id, ".") != 0 && strcmp (id, "..") != 0;
}

static void
check_normalized (const char *input, const char *norm)
{
  gsize len = strlen (norm);

  CHECK (norm[0] == '/');
  CHECK (strstr (norm, "//") == NULL);
  CHECK (strstr (norm, "/./") == NULL);
  CHECK (strstr (norm, "/../") == NULL);
  CHECK (len == 1 || norm[len - 1] != '/');
  CHECK (!g_str_has_suffix (norm, "/.") && !g_str_has_suffix (norm, "/.."));
  CHECK (vcm_path_has_prefix (norm, "/"));
  CHECK (vcm_path_has_prefix (norm, norm));
  CHECK (g_strcmp0 (vcm_path_relative_to (norm, norm), "") == 0);
  /* every proper prefix that ends at a component boundary is a prefix */
  for (gsize i = 1; i < len; i++)
    if (norm[i] == '/')
      {
        g_autofree char *parent = g_strndup (norm, i);
        const char *rel;

        CHECK (vcm_path_has_prefix (norm, parent));
        rel = vcm_path_relative_to (norm, parent);
        CHECK (rel != NULL && strcmp (rel, norm + i + 1) == 0);
      }
}

/* The rule, done the obvious way: split on "/", drop "" and ".", pop on "..". */
static char *
reference_normalize (const char *path)
{
  g_auto (GStrv) parts = g_strsplit (path, "/", -1);
  g_autoptr (GPtrArray) stack = g_ptr_array_new ();
  g_autoptr (GString) out = g_string_new ("");

  for (guint i = 0; parts[i] != NULL; i++)
    {
      if (parts[i][0] == '\0' || strcmp (parts[i], ".") == 0)
        continue;
      if (strcmp (parts[i], "..") == 0)
        {
          if (stack->len > 0)
            g_ptr_array_set_size (stack, stack->len - 1);
          continue;
        }
      g_ptr_array_add (stack, parts[i]);
    }
  for (guint i = 0; i < stack->len; i++)
    g_string_append_printf (out, "/%s", (const char *) stack->pdata[i]);
  if (out->len == 0)
    g_string_append_c (out, '/');
  return g_string_free (g_steal_pointer (&out), FALSE);
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *input = g_strndup ((const char *) data, size); /* stops at a NUL */
  g_autoptr (GError) error = NULL;
  gboolean id_ok, path_ok;

  id_ok = vcm_validate_id ("id", input, &error);
  CHECK (id_ok == id_matches_rule (input));
  CHECK (id_ok == (error == NULL));
  if (!id_ok)
    CHECK (g_error_matches (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT) &&
           g_utf8_validate (error->message, -1, NULL) && strstr (error->message, "id") != NULL);
  g_clear_error (&error);

  path_ok = vcm_validate_absolute_path ("path", input, &error);
  CHECK (path_ok == (error == NULL));
  if (!path_ok)
    CHECK (g_error_matches (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT) &&
           g_utf8_validate (error->message, -1, NULL));
  else
    CHECK (input[0] == '/' && g_utf8_validate (input, -1, NULL));
  g_clear_error (&error);

  {
    g_autofree char *quoted = vcm_validate_quote (input);
    CHECK (g_utf8_validate (quoted, -1, NULL) && g_utf8_strlen (quoted, -1) <= 64 + 3);
  }

  /* a relative path is normalized as if rooted at "/" */
  {
    g_autofree char *norm = vcm_path_normalize (input);
    g_autofree char *again = NULL;
    g_autofree char *expected = reference_normalize (input);

    CHECK (norm != NULL);
    CHECK (strcmp (norm, expected) == 0);
    check_normalized (input, norm);
    again = vcm_path_normalize (norm);
    CHECK (strcmp (norm, again) == 0);
    (void) vcm_path_is_system_mount (norm);
    (void) vcm_path_host_device_rule (norm, size % 2 == 0, size % 3 == 0 ? 0100644 : 020644);
    CHECK (vcm_path_is_system_mount (norm) ==
           (vcm_path_has_prefix (norm, "/proc") || vcm_path_has_prefix (norm, "/sys")));
  }
  return 0;
}
