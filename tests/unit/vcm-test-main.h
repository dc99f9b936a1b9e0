/* vcm-test-main: the one main() of the GTest programs. Each test registers
 * itself where it is defined (VCM_TEST, VCM_TEST_FIXTURE);
 * a program's main() only says what it does before and after the run. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* One test as GTest's g_test_add_vtable() takes it, and where it stands. */
typedef struct {
  const char *file;
  int line;
  const char *path;
  gsize fixture_size;
  gconstpointer data;
  GTestFixtureFunc set_up;
  GTestFixtureFunc test;
  GTestFixtureFunc tear_down;
} VcmTestCase;

/* Called by the registration macros, before main(): keeps a copy of @tc for
 * vcm_test_main(), which adds it once g_test_init() has run. */
void vcm_test_register_ (const VcmTestCase *tc);

/* A function that runs before main() and registers a test of the lines
 * around it. */
#define VCM_TEST_REGISTRAR_(body) \
  __attribute__ ((constructor)) static void G_PASTE (vcm_test_registrar_, __LINE__) (void) \
  { \
    body \
  }

/* Defines the test function @name and registers it under @path:
 *
 *   VCM_TEST ("/area/what", test_what)
 *   {
 *     ...
 *   }
 */
#define VCM_TEST(path, name) \
  static void name (void); \
  VCM_TEST_REGISTRAR_ (vcm_test_register_ (&(VcmTestCase){ __FILE__, __LINE__, (path), 0, NULL, NULL, \
                                                           (GTestFixtureFunc) name, NULL });) \
  static void name (void)

/* The same for a test that runs on a fresh @type, prepared by @set_up and
 * cleared by @tear_down (either may be NULL) as with g_test_add(); the
 * function's parameters are `@type *f` and `gconstpointer data` (NULL), the
 * same as those of @set_up and @tear_down, which the compiler checks. */
#define VCM_TEST_FIXTURE(path, name, type, set_up, tear_down) \
  static void name (type *f, gconstpointer data); \
  VCM_TEST_REGISTRAR_ ( \
    void (*vcm_test_set_up_) (type *, gconstpointer) = (set_up); \
    void (*vcm_test_tear_down_) (type *, gconstpointer) = (tear_down); \
    vcm_test_register_ (&(VcmTestCase){ __FILE__, __LINE__, (path), sizeof (type), NULL, \
                                        (GTestFixtureFunc) vcm_test_set_up_, (GTestFixtureFunc) name, \
                                        (GTestFixtureFunc) vcm_test_tear_down_ });) \
  static void name (type *f, gconstpointer data)

typedef struct {
  /* Runs first, before g_test_init() and before any thread exists, with the
   * program's name: returns -1 to go on, or the exit code of the program
   * (vcm_test_enter_private_mount_ns() is one). May be NULL. */
  int (*first) (const char *prog);
  /* Runs after g_test_init(), before the registered tests are added (it may
   * add tests of its own). May be NULL. */
  void (*set_up) (void);
  /* Runs after the tests. May be NULL. */
  void (*tear_down) (void);
} VcmTestProgram;

/* The body of main(): @program's hooks around g_test_init() and the run of
 * every registered test, in the order of their files and lines. @program
 * may be NULL. Returns main()'s exit code. */
int vcm_test_main (int argc, char **argv, const VcmTestProgram *program);

/* Defines main(): vcm_test_main() with these hooks (each may be NULL). */
#define VCM_TEST_MAIN(first_, set_up_, tear_down_) \
  int main (int argc, char **argv) \
  { \
    static const VcmTestProgram program = { (first_), (set_up_), (tear_down_) }; \
    return vcm_test_main (argc, argv, &program); \
  }

G_END_DECLS
