/* test-authz-table: every method of the interface is guarded by the polkit
 * action its XML annotation names, that action is one the policy installs,
 * and nothing else is allowed. The XML is the one list of methods: these
 * expectations come from it, not from a copy kept here. */
#include "config.h"

#include "vcm-generated.h"
#include "vcm-engine.h"
#include "vcm-test-main.h"

/* The action ids of the installed polkit policy. */
static void
on_start (GMarkupParseContext *context,
          const char *element,
          const char **names,
          const char **values,
          gpointer user_data,
          GError **error)
{
  GHashTable *ids = user_data;

  if (!g_str_equal (element, "action"))
    return;
  for (gsize i = 0; names[i] != NULL; i++)
    if (g_str_equal (names[i], "id"))
      g_hash_table_add (ids, g_strdup (values[i]));
}

static GHashTable *
policy_actions (void)
{
  const char *root = g_getenv ("VCM_SOURCE_ROOT");
  g_autofree char *path = NULL;
  g_autofree char *text = NULL;
  gsize len;
  GMarkupParser parser = { .start_element = on_start };
  GHashTable *ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GMarkupParseContext) context = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_nonnull (root);
  path = g_build_filename (root, "policy", "org.vc.Mount.policy", NULL);
  g_assert_true (g_file_get_contents (path, &text, &len, &error));
  g_assert_no_error (error);
  context = g_markup_parse_context_new (&parser, G_MARKUP_IGNORE_QUALIFIED, ids, NULL);
  /* the DOCTYPE line is passed over by GMarkup */
  g_assert_true (g_markup_parse_context_parse (context, text, len, &error));
  g_assert_no_error (error);
  return ids;
}

VCM_TEST ("/authz-table/every-method-has-its-xml-action", test_every_method_has_its_xml_action)
{
  GDBusInterfaceInfo *info = vcm_dbus_mount_interface_info ();
  g_autoptr (GHashTable) actions = policy_actions ();

  g_assert_cmpuint (g_hash_table_size (actions), >, 0);
  for (guint i = 0; info->methods[i] != NULL; i++)
    {
      const char *name = info->methods[i]->name;
      const char *annotated =
        g_dbus_annotation_info_lookup (info->methods[i]->annotations, "org.vc.Mount.Action");

      g_test_message ("%s: %s", name, annotated);
      /* every method names its action, the policy defines it, and the
       * service serves the method under exactly that action */
      g_assert_nonnull (annotated);
      g_assert_true (g_hash_table_contains (actions, annotated));
      g_assert_cmpstr (vcm_engine_action_for_method (name), ==, annotated);
    }
}

/* What the policy defines and no method uses is a grant nobody asked for. */
VCM_TEST ("/authz-table/every-policy-action-guards-a-method", test_every_policy_action_guards_a_method)
{
  GDBusInterfaceInfo *info = vcm_dbus_mount_interface_info ();
  g_autoptr (GHashTable) actions = policy_actions ();
  GHashTableIter iter;
  const char *id;

  g_hash_table_iter_init (&iter, actions);
  while (g_hash_table_iter_next (&iter, (gpointer *) &id, NULL))
    {
      gboolean used = FALSE;

      for (guint i = 0; info->methods[i] != NULL && !used; i++)
        used = g_strcmp0 (
                 g_dbus_annotation_info_lookup (info->methods[i]->annotations, "org.vc.Mount.Action"),
                 id) == 0;
      /* an action may also be asked for by what a call does (a detail of a
       * method's request, not a method of its own): such ids are named in
       * the XML's annotation org.vc.Mount.AlsoAsks of the methods that ask */
      for (guint i = 0; info->methods[i] != NULL && !used; i++)
        {
          const char *also =
            g_dbus_annotation_info_lookup (info->methods[i]->annotations, "org.vc.Mount.AlsoAsks");
          g_auto (GStrv) ids = also != NULL ? g_strsplit (also, " ", -1) : NULL;

          used = ids != NULL && g_strv_contains ((const char *const *) ids, id);
        }
      g_test_message ("%s", id);
      g_assert_true (used);
    }
}

/* Deny by default: what the interface does not have is not served. */
VCM_TEST ("/authz-table/unknown-methods", test_unknown_methods_have_no_action)
{
  g_assert_null (vcm_engine_action_for_method ("Frobnicate"));
  g_assert_null (vcm_engine_action_for_method ("mountrootfs"));
  g_assert_null (vcm_engine_action_for_method (""));
}

VCM_TEST_MAIN (NULL, NULL, NULL);
