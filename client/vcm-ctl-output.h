/* vcm-ctl-output: how vcmountctl prints answers: aligned columns and
 * "Key: value" blocks for people, JSON documents (json-glib) for programs. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* A table printed in aligned columns, header first; the last column is not padded. */
typedef struct _VcmCtlTable VcmCtlTable;

VcmCtlTable *vcm_ctl_table_new (const char *first_header, ...) G_GNUC_NULL_TERMINATED;
/* Adds a row of as many cells as there are headers (copied). */
void vcm_ctl_table_add_row (VcmCtlTable *table, const char *first_cell, ...);
void vcm_ctl_table_print (VcmCtlTable *table);
void vcm_ctl_table_free (VcmCtlTable *table);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VcmCtlTable, vcm_ctl_table_free)

/* Prints `Label: value` pairs with the values aligned. @pairs is label,
 * value, label, value, … NULL-terminated. */
void vcm_ctl_print_fields (const char *const *pairs);

/* Prints the builder's root as one compact JSON document on one line of
 * stdout and flushes it. */
void vcm_ctl_print_json (JsonBuilder *builder);
/* The same for a node. */
void vcm_ctl_print_json_node (JsonNode *root);
/* The same for a GVariant (a floating reference is sunk), in json-glib's
 * mapping (json_gvariant_serialize()): an a{sv} is an object, its keys in order. */
void vcm_ctl_print_json_variant (GVariant *value);

/* Prints one answer: with @json, the dictionary @answer (a{sv}, a floating
 * reference is sunk) as one JSON object, its keys in order; else the text of
 * @text_format (with its own newlines). */
void vcm_ctl_print_answer (gboolean json, GVariant *answer, const char *text_format, ...)
  G_GNUC_PRINTF (3, 4);

/* Prints a listing: with @json, {"generation": N, KEY: [ITEMS…]} (@items is
 * an aa{sv}, a floating reference is sunk); else @table. */
void vcm_ctl_print_listing (
  gboolean json, guint64 generation, const char *key, GVariant *items, VcmCtlTable *table);

/* "yes" or "no". */
const char *vcm_ctl_yes_no (gboolean value);

G_END_DECLS
