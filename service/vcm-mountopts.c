/* vcm-mountopts: the fd-based methods' options: names, types, defaults and
 * what a caller that is not root may not turn off. */
#include "config.h"

#include <sys/mount.h>

#include "vcm-error.h"
#include "vcm-mountopts.h"
#include "vcm-validate.h"

static const struct {
  const char *key;
  const char *type;
} known[] = {
  { "read-only", "b" }, { "recursive", "b" },   { "nosuid", "b" },    { "nodev", "b" },
  { "noexec", "b" },    { "propagation", "s" }, { "idmap", "a{sv}" },
};

static const struct {
  const char *name;
  unsigned long flag;
} propagations[] = {
  { "private", MS_PRIVATE },
  { "slave", MS_SLAVE },
  { "shared", MS_SHARED },
  { "unbindable", MS_UNBINDABLE },
};

static const char *
propagation_static (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (propagations); i++)
    if (g_str_equal (propagations[i].name, name))
      return propagations[i].name;
  return NULL;
}

gboolean
vcm_mount_options_validate (GVariant *options, const char *arg_name, GError **error)
{
  GVariantIter iter;
  const char *key;
  GVariant *value;

  g_variant_iter_init (&iter, options);
  while (g_variant_iter_loop (&iter, "{&sv}", &key, &value))
    {
      gsize i;

      for (i = 0; i < G_N_ELEMENTS (known); i++)
        if (g_str_equal (known[i].key, key))
          break;
      if (i == G_N_ELEMENTS (known))
        {
          g_autofree char *quoted = vcm_validate_quote (key);

          g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT, "%s: unknown key '%s'", arg_name,
                       quoted);
          g_variant_unref (value);
          return FALSE;
        }
      if (!g_variant_is_of_type (value, G_VARIANT_TYPE (known[i].type)))
        {
          g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT,
                       "%s: '%s' must be of type %s, not %s", arg_name, key, known[i].type,
                       g_variant_get_type_string (value));
          g_variant_unref (value);
          return FALSE;
        }
      if (g_str_equal (key, "propagation") &&
          propagation_static (g_variant_get_string (value, NULL)) == NULL)
        {
          g_autofree char *quoted = vcm_validate_quote (g_variant_get_string (value, NULL));

          g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT,
                       "%s: 'propagation' must be private, slave, shared or unbindable, not '%s'",
                       arg_name, quoted);
          g_variant_unref (value);
          return FALSE;
        }
    }
  return TRUE;
}

/* A boolean a caller that is not root may only leave at its default TRUE. */
static gboolean
lookup_safe_bool (GVariantDict *dict,
                  const char *key,
                  gboolean root,
                  const char *arg_name,
                  gboolean *out,
                  GError **error)
{
  if (!g_variant_dict_lookup (dict, key, "b", out))
    return TRUE;
  if (!*out && !root)
    {
      g_set_error (error, VCM_ERROR, VCM_ERROR_NOT_AUTHORIZED,
                   "%s: '%s' cannot be turned off by a caller that is not root", arg_name, key);
      return FALSE;
    }
  return TRUE;
}

gboolean
vcm_mount_opts_parse (
  GVariant *options, gboolean root, const char *arg_name, VcmMountOpts *out, GError **error)
{
  g_auto (GVariantDict) dict = G_VARIANT_DICT_INIT (options);
  const char *propagation = NULL;

  if (!vcm_mount_options_validate (options, arg_name, error))
    return FALSE;
  *out = (VcmMountOpts){
    .read_only = FALSE,
    .recursive = TRUE,
    .nosuid = TRUE,
    .nodev = TRUE,
    .noexec = FALSE,
    .propagation = "private",
  };
  g_variant_dict_lookup (&dict, "read-only", "b", &out->read_only);
  g_variant_dict_lookup (&dict, "noexec", "b", &out->noexec);
  if (!lookup_safe_bool (&dict, "recursive", root, arg_name, &out->recursive, error) ||
      !lookup_safe_bool (&dict, "nosuid", root, arg_name, &out->nosuid, error) ||
      !lookup_safe_bool (&dict, "nodev", root, arg_name, &out->nodev, error))
    return FALSE;
  if (g_variant_dict_lookup (&dict, "propagation", "&s", &propagation))
    out->propagation = propagation_static (propagation);
  out->idmap = g_variant_dict_lookup_value (&dict, "idmap", G_VARIANT_TYPE_VARDICT);
  return TRUE;
}

void
vcm_mount_opts_clear (VcmMountOpts *options)
{
  g_clear_pointer (&options->idmap, g_variant_unref);
  g_clear_pointer (&options->idmap_text, g_free);
}

unsigned long
vcm_mount_opts_propagation_flag (const VcmMountOpts *options)
{
  for (gsize i = 0; i < G_N_ELEMENTS (propagations); i++)
    if (g_str_equal (propagations[i].name, options->propagation))
      return propagations[i].flag;
  return MS_PRIVATE;
}

GVariant *
vcm_mount_opts_to_variant (const VcmMountOpts *options)
{
  GVariantDict dict;

  g_variant_dict_init (&dict, NULL);
  g_variant_dict_insert (&dict, "read-only", "b", options->read_only);
  g_variant_dict_insert (&dict, "recursive", "b", options->recursive);
  g_variant_dict_insert (&dict, "nosuid", "b", options->nosuid);
  g_variant_dict_insert (&dict, "nodev", "b", options->nodev);
  g_variant_dict_insert (&dict, "noexec", "b", options->noexec);
  g_variant_dict_insert (&dict, "propagation", "s", options->propagation);
  g_variant_dict_insert (&dict, "idmapped", "b", options->idmap != NULL);
  return g_variant_dict_end (&dict);
}
