/* vcm-value-type: what the library's types share: properties that are
 * plain members of the instance, read and written through a table of
 * their offsets; and what the read-only value types (the query answers and
 * VcmMountInfo) share. Each lists its fields once, a row per
 * field: its C type, its member, its GVariant type and key in the reply,
 * and what its getter returns for an object of another type. From that one
 * list VCM_DEFINE_VALUE_TYPE() makes the instance struct, the GObject
 * boilerplate, the table that reads a reply into the struct and frees it,
 * and the public getter of every field (documented where the type is). */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* get_property and set_property of a property that is a plain member, at
 * @offset in @instance: a string (set: a copy), a boolean, an int, a
 * guint64 or an object (set: a reference). */
void _vcm_member_get_property (gpointer instance, gsize offset, GValue *value);
void _vcm_member_set_property (gpointer instance, gsize offset, const GValue *value);

/* A field of a value type. A reply that is an a{sv}, or a tuple of one, is
 * read by key (a key absent or of another type reads as "", 0, FALSE or an
 * empty a{sv}; a row with no key holds the whole dictionary); another tuple
 * is read by position, the table's rows in the tuple's order. A field of a
 * kind of the type's own is read from the dictionary by its @read. */
typedef struct {
  const char *key;
  const char *type; /* s, u, t, b or a{sv} (a GVariant *); NULL: @read */
  gsize offset;
  void (*read) (gpointer member, GVariantDict *dict);
} VcmField;

void _vcm_fields_read (gpointer instance, const VcmField *fields, gsize n_fields, GVariant *reply);
void _vcm_fields_clear (gpointer instance, const VcmField *fields, gsize n_fields);

/* The kinds of field: how each is held, what its getter returns, its
 * GVariant type in a reply, its getter's answer for a wrong object and its
 * reader (NULL: by its GVariant type). */
#define VCM_FIELD_CTYPE_STRING  char *
#define VCM_FIELD_GTYPE_STRING  const char *
#define VCM_FIELD_VTYPE_STRING  "s"
#define VCM_FIELD_NONE_STRING   NULL
#define VCM_FIELD_READ_STRING   NULL
#define VCM_FIELD_CTYPE_UINT    guint
#define VCM_FIELD_GTYPE_UINT    guint
#define VCM_FIELD_VTYPE_UINT    "u"
#define VCM_FIELD_NONE_UINT     0
#define VCM_FIELD_READ_UINT     NULL
#define VCM_FIELD_CTYPE_UINT64  guint64
#define VCM_FIELD_GTYPE_UINT64  guint64
#define VCM_FIELD_VTYPE_UINT64  "t"
#define VCM_FIELD_NONE_UINT64   0
#define VCM_FIELD_READ_UINT64   NULL
#define VCM_FIELD_CTYPE_BOOLEAN gboolean
#define VCM_FIELD_GTYPE_BOOLEAN gboolean
#define VCM_FIELD_VTYPE_BOOLEAN "b"
#define VCM_FIELD_NONE_BOOLEAN  FALSE
#define VCM_FIELD_READ_BOOLEAN  NULL
#define VCM_FIELD_CTYPE_VARDICT GVariant *
#define VCM_FIELD_GTYPE_VARDICT GVariant *
#define VCM_FIELD_VTYPE_VARDICT "a{sv}"
#define VCM_FIELD_NONE_VARDICT  NULL
#define VCM_FIELD_READ_VARDICT  NULL

/* What a row X (TypeName, type_name, KIND, member, key) of a type's list
 * expands to. */
#define VCM_FIELD_MEMBER(TypeName, type_name, KIND, member, key) VCM_FIELD_CTYPE_##KIND member;
#define VCM_FIELD_ROW(TypeName, type_name, KIND, member, key) \
  { key, VCM_FIELD_VTYPE_##KIND, G_STRUCT_OFFSET (struct _##TypeName, member), VCM_FIELD_READ_##KIND },
#define VCM_FIELD_GETTER(TypeName, type_name, KIND, member, key) \
  VCM_FIELD_GTYPE_##KIND type_name##_get_##member (TypeName *self) \
  { \
    g_return_val_if_fail (G_TYPE_CHECK_INSTANCE_TYPE (self, type_name##_get_type ()), \
                          VCM_FIELD_NONE_##KIND); \
    return self->member; \
  }

/* The final GObject type TypeName of the fields FIELDS (a list macro that
 * calls its first argument on each row, given the second and third), and
 * _type_name_new_from_variant(), which makes one from a reply. */
#define VCM_DEFINE_VALUE_TYPE(TypeName, type_name, FIELDS) \
  struct _##TypeName { \
    GObject parent_instance; \
    FIELDS (VCM_FIELD_MEMBER, TypeName, type_name) \
  }; \
  G_DEFINE_FINAL_TYPE (TypeName, type_name, G_TYPE_OBJECT) \
  static const VcmField type_name##_fields[] = { FIELDS (VCM_FIELD_ROW, TypeName, type_name) }; \
  static void type_name##_finalize (GObject *object) \
  { \
    _vcm_fields_clear (object, type_name##_fields, G_N_ELEMENTS (type_name##_fields)); \
    G_OBJECT_CLASS (type_name##_parent_class)->finalize (object); \
  } \
  static void type_name##_class_init (TypeName##Class *klass) \
  { \
    G_OBJECT_CLASS (klass)->finalize = type_name##_finalize; \
  } \
  static void type_name##_init (TypeName *self) \
  { \
  } \
  TypeName *_##type_name##_new_from_variant (GVariant *reply) \
  { \
    TypeName *self = g_object_new (type_name##_get_type (), NULL); \
    _vcm_fields_read (self, type_name##_fields, G_N_ELEMENTS (type_name##_fields), reply); \
    return self; \
  } \
  FIELDS (VCM_FIELD_GETTER, TypeName, type_name)

G_END_DECLS
