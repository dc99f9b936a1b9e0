/* vcm-test-main: the registry of the tests that registered themselves, and
 * the main() that adds them to GTest and runs them. */
#include <string.h>

#include "vcm-test-main.h"

/* Filled before main() by the registrars: no thread exists yet. */
static GArray *registered;

void
vcm_test_register_ (const VcmTestCase *tc)
{
  if (registered == NULL)
    registered = g_array_new (FALSE, FALSE, sizeof (VcmTestCase));
  g_array_append_vals (registered, tc, 1);
}

static int
case_order (gconstpointer a, gconstpointer b)
{
  const VcmTestCase *x = a;
  const VcmTestCase *y = b;
  int by_file = strcmp (x->file, y->file);

  return by_file != 0 ? by_file : (x->line > y->line) - (x->line < y->line);
}

int
vcm_test_main (int argc, char **argv, const VcmTestProgram *program)
{
  static const VcmTestProgram none = { NULL, NULL, NULL };
  int rc;

  if (program == NULL)
    program = &none;
  if (program->first != NULL)
    {
      g_autofree char *prog = g_path_get_basename (argv[0]);

      rc = program->first (prog);
      if (rc >= 0)
        return rc;
    }
  g_test_init (&argc, &argv, NULL);
  if (program->set_up != NULL)
    program->set_up ();
  if (registered != NULL)
    {
      /* Constructors run in no promised order: files and lines give one. */
      g_array_sort (registered, case_order);
      for (guint i = 0; i < registered->len; i++)
        {
          const VcmTestCase *tc = &g_array_index (registered, VcmTestCase, i);

          g_test_add_vtable (tc->path, tc->fixture_size, tc->data, tc->set_up, tc->test, tc->tear_down);
        }
      g_clear_pointer (&registered, g_array_unref);
    }
  rc = g_test_run ();
  if (program->tear_down != NULL)
    program->tear_down ();
  return rc;
}
