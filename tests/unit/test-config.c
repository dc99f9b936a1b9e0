/* test-config: the daemon's key file: defaults, each key, and the errors a
 * malformed file or value gives. */
#include "config.h"

#include <string.h>
#include <glib/gstdio.h>

#include "vcm-config.h"
#include "vcm-error.h"
#include "vcm-test-main.h"

typedef struct {
  char *dir;
  char *path;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->dir = g_dir_make_tmp ("vcm-config-XXXXXX", &error);
  g_assert_no_error (error);
  f->path = g_build_filename (f->dir, "vcmountd.conf", NULL);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_unlink (f->path);
  g_rmdir (f->dir);
  g_free (f->path);
  g_free (f->dir);
}

static VcmConfig *
load (Fixture *f, const char *contents, GError **error)
{
  g_autoptr (VcmConfig) config = vcm_config_new ();

  if (contents != NULL)
    g_assert_true (g_file_set_contents (f->path, contents, -1, NULL));
  if (!vcm_config_load (config, f->path, error))
    return NULL;
  return g_steal_pointer (&config);
}

VCM_TEST_FIXTURE (
  "/config/missing-file", test_missing_file_gives_defaults, Fixture, fixture_set_up, fixture_tear_down)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (VcmConfig) config = load (f, NULL, &error);

  g_assert_no_error (error);
  g_assert (config != NULL); /* fatal, unlike g_assert_nonnull: for the analyzers */
  g_assert_cmpstr (config->shared_dir, ==, "/run/vc/shared");
  g_assert_cmpstr (config->sysfs_root, ==, "/sys");
  g_assert_false (config->verbose);
  g_assert_cmpuint (config->auth_timeout_ms, ==, 25000);
}

VCM_TEST_FIXTURE ("/config/every-key", test_every_key, Fixture, fixture_set_up, fixture_tear_down)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (VcmConfig) config =
    load (f,
          "# comment\n[vcmountd]\nSharedDir=/srv//vc/shared/\nSysfsRoot=/tmp/fake-sys\n"
          "Verbose=true\nAuthTimeoutSeconds=3\n",
          &error);

  g_assert_no_error (error);
  g_assert (config != NULL); /* fatal, unlike g_assert_nonnull: for the analyzers */
  g_assert_cmpstr (config->shared_dir, ==, "/srv/vc/shared"); /* normalized */
  g_assert_cmpstr (config->sysfs_root, ==, "/tmp/fake-sys");
  g_assert_true (config->verbose);
  g_assert_cmpuint (config->auth_timeout_ms, ==, 3000);
}

VCM_TEST_FIXTURE (
  "/config/other-groups", test_other_groups_ignored, Fixture, fixture_set_up, fixture_tear_down)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (VcmConfig) config = load (f, "[other]\nSharedDir=relative\n", &error);

  g_assert_no_error (error);
  g_assert (config != NULL); /* fatal, unlike g_assert_nonnull: for the analyzers */
  g_assert_cmpstr (config->shared_dir, ==, "/run/vc/shared");
}

static void
check_refused (Fixture *f, const char *contents, const char *must_mention)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (VcmConfig) config = load (f, contents, &error);

  g_assert_null (config);
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, must_mention));
  g_assert_nonnull (strstr (error->message, f->path)); /* names the file */
}

VCM_TEST_FIXTURE ("/config/errors", test_errors, Fixture, fixture_set_up, fixture_tear_down)
{
  check_refused (f, "[vcmountd\nSharedDir=/x\n", ""); /* not a key file */
  check_refused (f, "[vcmountd]\nSharedDir=relative/dir\n", "SharedDir");
  check_refused (f, "[vcmountd]\nSharedDir=\n", "SharedDir");
  check_refused (f, "[vcmountd]\nSysfsRoot=sys\n", "SysfsRoot");
  check_refused (f, "[vcmountd]\nVerbose=perhaps\n", "Verbose");
  check_refused (f, "[vcmountd]\nAuthTimeoutSeconds=0\n", "AuthTimeoutSeconds");
  check_refused (f, "[vcmountd]\nAuthTimeoutSeconds=99999\n", "AuthTimeoutSeconds");
  check_refused (f, "[vcmountd]\nAuthTimeoutSeconds=soon\n", "AuthTimeoutSeconds");
}

VCM_TEST_MAIN (NULL, NULL, NULL);
