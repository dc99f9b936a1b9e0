/* vcm-value-type: the plain-member properties, and the reader and the
 * finalizer of the value types' field tables (see vcm-value-type.h). */
#include "vcm-value-type.h"

#include <string.h>

static GVariant *
empty_vardict (void)
{
  return g_variant_ref_sink (g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0));
}

/* The dictionary of a reply read by key, or NULL for one read by position. */
static GVariant *
dictionary_of (GVariant *reply)
{
  if (g_variant_is_of_type (reply, G_VARIANT_TYPE_VARDICT))
    return g_variant_ref (reply);
  if (g_variant_is_of_type (reply, G_VARIANT_TYPE ("(a{sv})")))
    return g_variant_get_child_value (reply, 0);
  return NULL;
}

void
_vcm_fields_read (gpointer instance, const VcmField *fields, gsize n_fields, GVariant *reply)
{
  g_autoptr (GVariant) dictionary = dictionary_of (reply);
  g_auto (GVariantDict) dict = G_VARIANT_DICT_INIT (dictionary);

  for (gsize i = 0; i < n_fields; i++)
    {
      const VcmField *f = &fields[i];
      gpointer member = G_STRUCT_MEMBER_P (instance, f->offset);
      g_autoptr (GVariant) value = NULL;

      if (f->type == NULL)
        {
          if (dictionary != NULL)
            f->read (member, &dict);
          continue;
        }
      if (dictionary != NULL && f->key == NULL)
        value = g_variant_ref (dictionary);
      else if (dictionary != NULL)
        value = g_variant_dict_lookup_value (&dict, f->key, G_VARIANT_TYPE (f->type));
      else
        value = g_variant_get_child_value (reply, i);
      if (strcmp (f->type, "s") == 0)
        *(char **) member = g_strdup (value != NULL ? g_variant_get_string (value, NULL) : "");
      else if (strcmp (f->type, "a{sv}") == 0)
        *(GVariant **) member = value != NULL ? g_steal_pointer (&value) : empty_vardict ();
      else if (value != NULL)
        g_variant_get (value, f->type, member);
    }
}

void
_vcm_fields_clear (gpointer instance, const VcmField *fields, gsize n_fields)
{
  for (gsize i = 0; i < n_fields; i++)
    {
      gpointer member = G_STRUCT_MEMBER_P (instance, fields[i].offset);

      if (fields[i].type == NULL)
        continue;
      if (strcmp (fields[i].type, "s") == 0)
        g_clear_pointer ((char **) member, g_free);
      else if (strcmp (fields[i].type, "a{sv}") == 0)
        g_clear_pointer ((GVariant **) member, g_variant_unref);
    }
}

void
_vcm_member_get_property (gpointer instance, gsize offset, GValue *value)
{
  gpointer member = G_STRUCT_MEMBER_P (instance, offset);

  switch (G_TYPE_FUNDAMENTAL (G_VALUE_TYPE (value)))
    {
    case G_TYPE_STRING:
      g_value_set_string (value, *(char **) member);
      break;
    case G_TYPE_BOOLEAN:
      g_value_set_boolean (value, *(gboolean *) member);
      break;
    case G_TYPE_INT:
      g_value_set_int (value, *(int *) member);
      break;
    case G_TYPE_UINT64:
      g_value_set_uint64 (value, *(guint64 *) member);
      break;
    case G_TYPE_OBJECT:
      g_value_set_object (value, *(gpointer *) member);
      break;
    default:
      g_assert_not_reached ();
    }
}

void
_vcm_member_set_property (gpointer instance, gsize offset, const GValue *value)
{
  gpointer member = G_STRUCT_MEMBER_P (instance, offset);

  switch (G_TYPE_FUNDAMENTAL (G_VALUE_TYPE (value)))
    {
    case G_TYPE_STRING:
      g_free (*(char **) member);
      *(char **) member = g_value_dup_string (value);
      break;
    case G_TYPE_BOOLEAN:
      *(gboolean *) member = g_value_get_boolean (value);
      break;
    case G_TYPE_INT:
      *(int *) member = g_value_get_int (value);
      break;
    case G_TYPE_UINT64:
      *(guint64 *) member = g_value_get_uint64 (value);
      break;
    case G_TYPE_OBJECT:
      g_clear_object ((GObject **) member);
      *(gpointer *) member = g_value_dup_object (value);
      break;
    default:
      g_assert_not_reached ();
    }
}
