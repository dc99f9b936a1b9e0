/* vcm-ctl-output: how vcmountctl prints answers: aligned columns and
 * "Key: value" blocks for people, JSON documents (json-glib) for programs. */
#include "vcm-ctl-output.h"

#include <stdio.h>
#include <string.h>

struct _VcmCtlTable {
  guint n_columns;
  GPtrArray *cells; /* row-major, header row first, owned strings */
};

VcmCtlTable *
vcm_ctl_table_new (const char *first_header, ...)
{
  VcmCtlTable *table = g_new0 (VcmCtlTable, 1);
  va_list ap;

  table->cells = g_ptr_array_new_with_free_func (g_free);
  va_start (ap, first_header);
  for (const char *h = first_header; h != NULL; h = va_arg (ap, const char *))
    {
      g_ptr_array_add (table->cells, g_strdup (h));
      table->n_columns++;
    }
  va_end (ap);
  return table;
}

void
vcm_ctl_table_add_row (VcmCtlTable *table, const char *first_cell, ...)
{
  va_list ap;
  const char *cell = first_cell;

  va_start (ap, first_cell);
  for (guint i = 0; i < table->n_columns; i++)
    {
      g_ptr_array_add (table->cells, g_strdup (cell != NULL ? cell : ""));
      if (i + 1 < table->n_columns)
        cell = va_arg (ap, const char *);
    }
  va_end (ap);
}

/* The width of @text in characters (bytes when it is not UTF-8). */
static gsize
text_width (const char *text)
{
  if (g_utf8_validate (text, -1, NULL))
    return (gsize) g_utf8_strlen (text, -1);
  return strlen (text);
}

/* Prints @text and pads it to @width characters. */
static void
print_padded (const char *text, gsize width)
{
  gsize len = text_width (text);

  fputs (text, stdout);
  for (; len < width; len++)
    fputc (' ', stdout);
}

void
vcm_ctl_table_print (VcmCtlTable *table)
{
  gsize *widths = g_new0 (gsize, table->n_columns);
  guint n_rows = table->cells->len / table->n_columns;

  for (guint i = 0; i < table->cells->len; i++)
    {
      const char *cell = g_ptr_array_index (table->cells, i);
      gsize len = text_width (cell);
      widths[i % table->n_columns] = MAX (widths[i % table->n_columns], len);
    }

  for (guint r = 0; r < n_rows; r++)
    {
      for (guint c = 0; c < table->n_columns; c++)
        {
          const char *cell = g_ptr_array_index (table->cells, r * table->n_columns + c);
          if (c + 1 < table->n_columns)
            {
              print_padded (cell, widths[c]);
              fputs ("  ", stdout);
            }
          else
            fputs (cell, stdout);
        }
      fputc ('\n', stdout);
    }
  fflush (stdout);
  g_free (widths);
}

void
vcm_ctl_table_free (VcmCtlTable *table)
{
  if (table == NULL)
    return;
  g_ptr_array_unref (table->cells);
  g_free (table);
}

void
vcm_ctl_print_fields (const char *const *pairs)
{
  gsize width = 0;

  for (gsize i = 0; pairs[i] != NULL && pairs[i + 1] != NULL; i += 2)
    width = MAX (width, text_width (pairs[i]) + 1);
  for (gsize i = 0; pairs[i] != NULL && pairs[i + 1] != NULL; i += 2)
    {
      g_autofree char *label = g_strconcat (pairs[i], ":", NULL);
      print_padded (label, width);
      printf (" %s\n", pairs[i + 1]);
    }
  fflush (stdout);
}

void
vcm_ctl_print_json_node (JsonNode *root)
{
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autofree char *text = NULL;

  json_generator_set_pretty (generator, FALSE);
  json_generator_set_root (generator, root);
  text = json_generator_to_data (generator, NULL);
  printf ("%s\n", text);
  fflush (stdout);
}

void
vcm_ctl_print_json (JsonBuilder *builder)
{
  g_autoptr (JsonNode) root = json_builder_get_root (builder);

  vcm_ctl_print_json_node (root);
}

void
vcm_ctl_print_json_variant (GVariant *value)
{
  g_autoptr (GVariant) sunk = g_variant_ref_sink (value);
  g_autoptr (JsonNode) root = json_gvariant_serialize (sunk);

  vcm_ctl_print_json_node (root);
}

void
vcm_ctl_print_answer (gboolean json, GVariant *answer, const char *text_format, ...)
{
  va_list ap;

  if (json)
    {
      vcm_ctl_print_json_variant (answer);
      return;
    }
  g_variant_unref (g_variant_ref_sink (answer));
  va_start (ap, text_format);
  vprintf (text_format, ap);
  va_end (ap);
  fflush (stdout);
}

void
vcm_ctl_print_listing (
  gboolean json, guint64 generation, const char *key, GVariant *items, VcmCtlTable *table)
{
  if (json)
    vcm_ctl_print_json_variant (
      g_variant_new_parsed ("{'generation': <%t>, %s: <%@aa{sv}>}", generation, key, items));
  else
    {
      g_variant_unref (g_variant_ref_sink (items));
      vcm_ctl_table_print (table);
    }
}

const char *
vcm_ctl_yes_no (gboolean value)
{
  return value ? "yes" : "no";
}
