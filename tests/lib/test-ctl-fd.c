/* test-ctl-fd: vcmountctl's fd-based commands against the scripted fake
 * service: the path is opened by vcmountctl and arrives as a descriptor of
 * the same inode, the options arrive as the interface's a{sv} (a user
 * namespace as a descriptor of its own), open-mount hands the mount to a
 * command, mounts lists, a source that cannot be opened never reaches the
 * service, and vcmountctl connects from a user namespace of its own. */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-glib/json-glib.h>

#include "vcm-fake-service.h"

#define WAIT_SECONDS 30

typedef struct {
  FakeService *fake; /* on a private bus of its own */
  char *dir;
} Fixture;

static void
fixture_set_up (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  fx->fake = fake_service_new_on_private_bus ();
  fx->dir = g_dir_make_tmp ("vcm-ctl-XXXXXX", &error);
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture *fx, gconstpointer data)
{
  g_assert_no_errno (rmdir (fx->dir));
  g_free (fx->dir);
  fake_service_free (fx->fake);
}

typedef struct {
  gboolean done;
  char *out;
  char *err;
  int status;
} Run;

static void
on_communicated (GObject *source, GAsyncResult *res, gpointer user_data)
{
  Run *run = user_data;
  g_autoptr (GError) error = NULL;

  g_subprocess_communicate_utf8_finish (G_SUBPROCESS (source), res, &run->out, &run->err, &error);
  g_assert_no_error (error);
  run->status = g_subprocess_get_exit_status (G_SUBPROCESS (source));
  run->done = TRUE;
}

static gboolean
on_timeout (gpointer user_data)
{
  g_error ("vcmountctl did not finish");
  return G_SOURCE_REMOVE;
}

/* When set, vcmountctl runs in a new user namespace where it is uid 1000
 * (the bus sees the real uid). */
static gboolean in_user_namespace;

/* Runs vcmountctl on the fake's bus while the fake answers; its exit status. */
static int
run_ctl (Fixture *fx, char **out, const char *first, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GError) error = NULL;
  Run run = { 0 };
  const char *a;
  va_list ap;
  guint timeout;

  if (in_user_namespace)
    {
      g_ptr_array_add (argv, (char *) "unshare");
      g_ptr_array_add (argv, (char *) "--user");
      g_ptr_array_add (argv, (char *) "--map-user=1000");
      g_ptr_array_add (argv, (char *) "--map-group=1000");
    }
  g_ptr_array_add (argv, (char *) g_getenv ("VCMOUNTCTL"));
  g_ptr_array_add (argv, (char *) "--address");
  g_ptr_array_add (argv, fx->fake->address);
  g_ptr_array_add (argv, (char *) "--no-ask-password");
  va_start (ap, first);
  for (a = first; a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (argv, (char *) a);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  proc = g_subprocess_newv ((const char *const *) argv->pdata,
                            G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8_async (proc, NULL, NULL, on_communicated, &run);
  timeout = g_timeout_add_seconds (WAIT_SECONDS, on_timeout, NULL);
  while (!run.done)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (timeout);
  if (run.err != NULL && run.err[0] != '\0')
    g_test_message ("vcmountctl: %s", run.err);
  g_free (run.err);
  if (out != NULL)
    *out = run.out;
  else
    g_free (run.out);
  return run.status;
}

static guint64
inode_of_path (const char *path)
{
  struct stat st;

  g_assert_no_errno (stat (path, &st));
  return st.st_ino;
}

static JsonObject *
parse_json (const char *text, JsonParser **parser_out)
{
  g_autoptr (GError) error = NULL;
  JsonParser *parser = json_parser_new ();

  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  *parser_out = parser;
  return json_node_get_object (json_parser_get_root (parser));
}

static void
test_mount_rootfs_fd (Fixture *fx, gconstpointer data)
{
  g_autofree char *out = NULL;
  g_autoptr (JsonParser) parser = NULL;
  g_autofree char *options = NULL;
  JsonObject *info;

  g_assert_cmpint (run_ctl (fx, &out, "--json", "mount-rootfs-fd", "sb", "c1", fx->dir, "--read-only",
                            "--option", "nosuid=true", "-o", "propagation=slave", "--idmap",
                            "b:0:100000:65536", NULL),
                   ==, 0);
  info = parse_json (out, &parser);
  g_assert_cmpstr (json_object_get_string_member (info, "mount-point"), ==,
                   "/run/fake/shared/sb/c1/rootfs");
  g_assert_cmpstr (json_object_get_string_member (info, "kind"), ==, "rootfs");
  g_assert_cmpuint (fx->fake->last_source_inode, ==, inode_of_path (fx->dir));
  g_assert_true (g_variant_lookup (fx->fake->last_options, "propagation", "s", &options));
  g_assert_cmpstr (options, ==, "slave");
  {
    gboolean ro = FALSE, nosuid = FALSE;
    g_autoptr (GVariant) idmap = g_variant_lookup_value (fx->fake->last_options, "idmap", NULL);
    g_autoptr (GVariant) uids = NULL;

    g_assert_true (g_variant_lookup (fx->fake->last_options, "read-only", "b", &ro) && ro);
    g_assert_true (g_variant_lookup (fx->fake->last_options, "nosuid", "b", &nosuid) && nosuid);
    g_assert_nonnull (idmap);
    uids = g_variant_lookup_value (idmap, "uid-map", G_VARIANT_TYPE ("a(uuu)"));
    g_assert_nonnull (uids);
    g_assert_cmpuint (g_variant_n_children (uids), ==, 1);
  }

  /* text: the mount point */
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_ctl (fx, &out, "mount-rootfs-fd", "sb", "c2", fx->dir, NULL), ==, 0);
  g_assert_cmpstr (out, ==, "/run/fake/shared/sb/c2/rootfs\n");
}

static void
test_bind_fd_userns (Fixture *fx, gconstpointer data)
{
  g_autofree char *file = g_build_filename (fx->dir, "f", NULL);
  g_autofree char *out = NULL;
  guint64 userns_inode = 0;
  g_autoptr (GVariant) idmap = NULL;

  g_assert_true (g_file_set_contents (file, "x", 1, NULL));
  g_assert_cmpint (
    run_ctl (fx, &out, "bind-fd", file, "/run/fake/shared/f", "--userns", "/proc/self/ns/user", NULL),
    ==, 0);
  g_assert_cmpstr (out, ==, "/run/fake/shared/f\n");
  g_assert_cmpuint (fx->fake->last_source_inode, ==, inode_of_path (file));
  idmap = g_variant_lookup_value (fx->fake->last_options, "idmap", NULL);
  g_assert_nonnull (idmap);
  g_assert_true (g_variant_lookup (idmap, "userns-inode", "t", &userns_inode));
  g_assert_cmpuint (userns_inode, ==, inode_of_path ("/proc/self/ns/user"));
  g_assert_no_errno (unlink (file));
}

/* The fake's "mount" is the source itself: the command sees its inode. */
static void
test_open_mount_fd_out (Fixture *fx, gconstpointer data)
{
  g_autofree char *out = NULL;
  g_autofree char *expected = g_strdup_printf ("%" G_GUINT64_FORMAT "\n", inode_of_path (fx->dir));

  g_assert_cmpint (run_ctl (fx, &out, "open-mount", "--fd-out", "5", fx->dir, "--", "stat", "-L", "-c",
                            "%i", "/proc/self/fd/5", NULL),
                   ==, 0);
  g_assert_cmpstr (out, ==, expected);
}

static void
test_mounts (Fixture *fx, gconstpointer data)
{
  g_autofree char *out = NULL;
  g_autoptr (JsonParser) parser = NULL;
  JsonObject *answer;

  fake_service_mount (fx->fake, "sb", "c1", FALSE, TRUE);
  fake_service_mount (fx->fake, "other", "c2", FALSE, TRUE);
  g_assert_cmpint (run_ctl (fx, &out, "--json", "mounts", "sb", NULL), ==, 0);
  answer = parse_json (out, &parser);
  g_assert_cmpint (json_object_get_int_member (answer, "generation"), ==, 2);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (answer, "mounts")), ==, 1);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_ctl (fx, &out, "mounts", NULL), ==, 0);
  g_assert_true (g_str_has_prefix (out, "MOUNT-POINT"));
  g_assert_nonnull (strstr (out, "/run/fake/shared/other/c2/rootfs"));
}

/* From a user namespace of its own, where vcmountctl sees itself as uid
 * 1000 and the bus sees the real uid: it still connects (an empty EXTERNAL
 * identity, where GDBus would send 1000 and be refused) and passes its
 * descriptor. */
static void
test_from_user_namespace (Fixture *fx, gconstpointer data)
{
  g_autofree char *out = NULL;

  if (!fake_user_namespace_available ())
    {
      g_test_skip ("no user namespace of one's own here");
      return;
    }
  g_assert_no_errno (chmod (fx->dir, 0755));
  in_user_namespace = TRUE;
  g_assert_cmpint (run_ctl (fx, &out, "mount-rootfs-fd", "sb", "c1", fx->dir, NULL), ==, 0);
  in_user_namespace = FALSE;
  g_assert_cmpstr (out, ==, "/run/fake/shared/sb/c1/rootfs\n");
  g_assert_cmpuint (fx->fake->last_source_inode, ==, inode_of_path (fx->dir));
}

static void
test_refused_before_the_bus (Fixture *fx, gconstpointer data)
{
  g_autofree char *missing = g_build_filename (fx->dir, "missing", NULL);

  g_assert_cmpint (run_ctl (fx, NULL, "mount-rootfs-fd", "sb", "c1", missing, NULL), ==, 4);
  g_assert_cmpint (run_ctl (fx, NULL, "mount-rootfs-fd", "sb", "c1", fx->dir, "-o", "idmap=1", NULL), ==,
                   2);
  g_assert_cmpint (run_ctl (fx, NULL, "open-mount", fx->dir, NULL), ==, 2);
  g_assert_cmpint (run_ctl (fx, NULL, "bind-fd", fx->dir, "/run/fake/shared/x", "--idmap", "b:0:1:1",
                            "--userns", "/proc/self/ns/user", NULL),
                   ==, 2);
  g_assert_null (fx->fake->last_method);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_assert_nonnull (g_getenv ("VCMOUNTCTL"));
#define ADD(path, func) \
  g_test_add ("/ctl-fd/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("mount-rootfs-fd", test_mount_rootfs_fd);
  ADD ("bind-fd-userns", test_bind_fd_userns);
  ADD ("open-mount-fd-out", test_open_mount_fd_out);
  ADD ("mounts", test_mounts);
  ADD ("refused-before-the-bus", test_refused_before_the_bus);
  ADD ("from-user-namespace", test_from_user_namespace);
#undef ADD
  return g_test_run ();
}
