/* test-ctl-json: what `vcmountctl --json describe` prints for each value of
 * the service's a{sv} answer is json-glib's json_gvariant_serialize(). These
 * cases hold that mapping to the JSON the man page promises (booleans,
 * integers, strings; variants unboxed), for the types the interface uses and
 * a few it may come to use, so that a json-glib that maps differently is
 * noticed here rather than by the users of --json. */
#include <json-glib/json-glib.h>

#include "vcm-test-main.h"

static char *
to_json (const char *variant_text)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) value = g_variant_parse (NULL, variant_text, NULL, NULL, &error);
  g_autoptr (JsonNode) node = NULL;

  g_assert_no_error (error);
  node = json_gvariant_serialize (value);
  return json_to_string (node, FALSE);
}

#define ASSERT_JSON(variant_text, json) \
  G_STMT_START \
  { \
    g_autofree char *got_ = to_json (variant_text); \
    g_assert_cmpstr (got_, ==, json); \
  } \
  G_STMT_END

VCM_TEST ("/ctl/json/describe-values", test_describe_values)
{
  /* DescribePath's values, as they arrive: boxed in variants */
  ASSERT_JSON ("<uint32 253>", "253");
  ASSERT_JSON ("<uint32 4294967295>", "4294967295");
  ASSERT_JSON ("<uint64 41>", "41");
  /* unique mount IDs (statmount) lie above 2^32 */
  ASSERT_JSON ("<uint64 2147483691>", "2147483691");
  ASSERT_JSON ("<uint64 9223372036854775807>", "9223372036854775807");
  ASSERT_JSON ("<true>", "true");
  ASSERT_JSON ("<false>", "false");
  ASSERT_JSON ("<'private'>", "\"private\"");
  ASSERT_JSON ("<'/run/vc/a b\\n\"c\"\\\\'>", "\"/run/vc/a b\\n\\\"c\\\"\\\\\"");
}

VCM_TEST ("/ctl/json/other-shapes", test_other_shapes)
{
  ASSERT_JSON ("<<'nested'>>", "\"nested\"");
  ASSERT_JSON ("<@as ['a', 'b']>", "[\"a\",\"b\"]");
  ASSERT_JSON ("<@as []>", "[]");
  ASSERT_JSON ("<@a{sv} {'k': <int32 -1>}>", "{\"k\":-1}");
  ASSERT_JSON ("<('x', uint32 1)>", "[\"x\",1]");
  ASSERT_JSON ("<@ms nothing>", "null");
  ASSERT_JSON ("<@ms 'y'>", "\"y\"");
  ASSERT_JSON ("<objectpath '/org/vc/Mount'>", "\"/org/vc/Mount\"");
  ASSERT_JSON ("<@ay [1, 2]>", "[1,2]");
}

VCM_TEST ("/ctl/json/document", test_document)
{
  /* the object describe builds: "path" first, then the answer's keys */
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (GVariant) answer = g_variant_parse (G_VARIANT_TYPE_VARDICT,
                                                 "{'major': <uint32 0>, 'mount-id': <uint64 30>, "
                                                 "'read-only': <true>, 'fs-type': <'tmpfs'>}",
                                                 NULL, NULL, NULL);
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *text = NULL;
  GVariantIter iter;
  const char *key;
  GVariant *value;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "path");
  json_builder_add_string_value (b, "/x");
  g_variant_iter_init (&iter, answer);
  while (g_variant_iter_loop (&iter, "{&sv}", &key, &value))
    {
      json_builder_set_member_name (b, key);
      json_builder_add_value (b, json_gvariant_serialize (value));
    }
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  text = json_to_string (root, FALSE);
  g_assert_cmpstr (
    text, ==, "{\"path\":\"/x\",\"major\":0,\"mount-id\":30,\"read-only\":true,\"fs-type\":\"tmpfs\"}");
}

VCM_TEST_MAIN (NULL, NULL, NULL)
