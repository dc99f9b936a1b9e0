/* test-client: VcmClient against the scripted fake service: every method in
 * its async and sync form decodes the service's answer, the interactive
 * flag reaches the bus, every org.vc.Mount.Error maps to its VCM_CLIENT_ERROR
 * code (an unknown one to FAILED, naming it), arguments refused by the
 * method's signature before the bus, the sync form in a private context,
 * cancellation, and the service's owner as a property. */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vcmount.h>

#include "client-fixture.h"

typedef ClientFixture Fixture;

static void
on_new_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (res);
}

static void
count_notify (GObject *object, GParamSpec *pspec, guint *count)
{
  (*count)++;
}

static gboolean
owner_is (VcmClient *client, const char *owner)
{
  g_autofree char *now = vcm_client_dup_name_owner (client);

  return g_strcmp0 (now, owner) == 0;
}

static void
test_new_and_owner (Fixture *fx, gconstpointer data)
{
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (VcmClient) client = NULL;
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;
  guint notified = 0;

  vcm_client_new (fx->conn, NULL, on_new_done, &res);
  WAIT_UNTIL (res != NULL);
  client = vcm_client_new_finish (res, &error);
  g_assert_no_error (error);
  g_assert_true (vcm_client_get_connection (client) == fx->conn);
  first = g_strdup (g_dbus_connection_get_unique_name (fx->fake->conn));
  g_assert_true (owner_is (client, first));
  g_signal_connect (client, "notify::name-owner", G_CALLBACK (count_notify), &notified);

  fake_service_stop (fx->fake);
  WAIT_UNTIL (owner_is (client, NULL));
  fake_service_start (fx->fake, FALSE);
  second = g_strdup (g_dbus_connection_get_unique_name (fx->fake->conn));
  WAIT_UNTIL (owner_is (client, second));
  g_assert_cmpstr (first, !=, second);
  g_assert_cmpuint (notified, ==, 2);
}

/* The mounts' methods: make, list, remove. */
static void
methods_async_mounts (Fixture *fx)
{
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  VcmClient *c = fx->client;
  VcmCallFlags none = VCM_CALL_FLAGS_NONE;

  {
    g_autofree char *mp = NULL;
    RUN_ASYNC (res, vcm_client_mount_rootfs (c, "sb", "c1", "/r", TRUE, none, NULL, on_done, &res));
    mp = vcm_client_mount_rootfs_finish (c, res, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (mp, ==, "/run/fake/shared/sb/c1/rootfs");
  }
  {
    g_autoptr (GPtrArray) list = NULL;
    guint64 generation = 0;
    RUN_ASYNC (res, vcm_client_list_rootfs (c, NULL, none, NULL, on_done, &res));
    list = vcm_client_list_rootfs_finish (c, res, &generation, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (generation, ==, 1);
    g_assert_cmpuint (list->len, ==, 1);
    g_assert_cmpstr (vcm_rootfs_get_container_id (list->pdata[0]), ==, "c1");
    g_assert_true (vcm_rootfs_get_read_only (list->pdata[0]));
  }
  {
    g_auto (GStrv) detached = NULL;
    RUN_ASYNC (res, vcm_client_unmount_rootfs (c, "sb", "c1", none, NULL, on_done, &res));
    detached = vcm_client_unmount_rootfs_finish (c, res, &error);
    g_assert_no_error (error);
    g_assert_cmpstrv (detached, ((const char *[]){ "/run/fake/shared/sb/c1/rootfs", NULL }));
  }
  {
    g_auto (GStrv) ids = NULL;
    RUN_ASYNC (res, vcm_client_unmount_sandbox (c, "sb", none, NULL, on_done, &res));
    ids = vcm_client_unmount_sandbox_finish (c, res, &error);
    g_assert_no_error (error);
    g_assert_cmpstrv (ids, ((const char *[]){ "c1", "c2", NULL }));
  }
  {
    g_autofree char *mp = NULL;
    RUN_ASYNC (
      res, vcm_client_bind_mount (c, "/src", "/run/fake/shared/x", FALSE, none, NULL, on_done, &res));
    mp = vcm_client_bind_mount_finish (c, res, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (mp, ==, "/run/fake/shared/x");
  }
  {
    g_auto (GStrv) detached = NULL;
    RUN_ASYNC (res, vcm_client_unmount (c, "/run/fake/shared/x", none, NULL, on_done, &res));
    detached = vcm_client_unmount_finish (c, res, &error);
    g_assert_no_error (error);
    g_assert_cmpstrv (detached,
                      ((const char *[]){ "/run/fake/shared/x", "/run/fake/shared/below", NULL }));
  }
}

/* The queries, after methods_async_mounts() (the generation is 2). */
static void
methods_async_queries (Fixture *fx)
{
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  VcmClient *c = fx->client;
  VcmCallFlags none = VCM_CALL_FLAGS_NONE;

  {
    g_autoptr (VcmDeviceInfo) dev = NULL;
    RUN_ASYNC (res, vcm_client_get_device_for_path (c, "/mnt/x", none, NULL, on_done, &res));
    dev = vcm_client_get_device_for_path_finish (c, res, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (vcm_device_info_get_major (dev), ==, 4096);
    g_assert_cmpuint (vcm_device_info_get_minor (dev), ==, 1048576);
    g_assert_cmpstr (vcm_device_info_get_mount_point (dev), ==, "/mnt");
  }
  {
    g_autoptr (VcmFsInfo) fs = NULL;
    RUN_ASYNC (res, vcm_client_get_device_path_and_fs_type (c, "/", none, NULL, on_done, &res));
    fs = vcm_client_get_device_path_and_fs_type_finish (c, res, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (vcm_fs_info_get_device (fs), ==, "/dev/sda1");
    g_assert_cmpstr (vcm_fs_info_get_fs_type (fs), ==, "ext4");
  }
  {
    gboolean yes = FALSE;
    RUN_ASYNC (res, vcm_client_is_device_mapper (c, 253, 0, none, NULL, on_done, &res));
    g_assert_true (vcm_client_is_device_mapper_finish (c, res, &yes, &error));
    g_assert_no_error (error);
    g_assert_true (yes);
    RUN_ASYNC (res, vcm_client_is_device_mapper (c, 8, 0, none, NULL, on_done, &res));
    g_assert_true (vcm_client_is_device_mapper_finish (c, res, &yes, &error));
    g_assert_false (yes);
    RUN_ASYNC (res, vcm_client_is_system_mount (c, "/proc/1", none, NULL, on_done, &res));
    g_assert_true (vcm_client_is_system_mount_finish (c, res, &yes, &error));
    g_assert_true (yes);
    RUN_ASYNC (res, vcm_client_is_host_device (c, "/etc", none, NULL, on_done, &res));
    g_assert_true (vcm_client_is_host_device_finish (c, res, &yes, &error));
    g_assert_false (yes);
  }
  {
    g_autoptr (VcmPathInfo) info = NULL;
    RUN_ASYNC (res, vcm_client_describe_path (c, "/dev/null", none, NULL, on_done, &res));
    info = vcm_client_describe_path_finish (c, res, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (vcm_path_info_get_major (info), ==, 8);
    g_assert_cmpuint (vcm_path_info_get_minor (info), ==, 1);
    g_assert_cmpstr (vcm_path_info_get_mount_point (info), ==, "/");
    g_assert_cmpstr (vcm_path_info_get_device (info), ==, "/dev/sda1");
    g_assert_cmpstr (vcm_path_info_get_fs_type (info), ==, "ext4");
    g_assert_cmpuint (vcm_path_info_get_mount_id (info), ==, 21);
    g_assert_cmpstr (vcm_path_info_get_propagation (info), ==, "private");
    g_assert_cmpuint (vcm_path_info_get_flags (info), ==,
                      VCM_PATH_FLAGS_READ_ONLY | VCM_PATH_FLAGS_HOST_DEVICE);
  }
  {
    g_autoptr (VcmServiceInfo) info = NULL;
    RUN_ASYNC (res, vcm_client_get_service_info (c, none, NULL, on_done, &res));
    info = vcm_client_get_service_info_finish (c, res, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (vcm_service_info_get_version (info), ==, "0.0-fake");
    g_assert_cmpstr (vcm_service_info_get_shared_dir (info), ==, "/run/fake/shared");
    g_assert_cmpuint (vcm_service_info_get_default_shm_size (info), ==, 67108864);
    g_assert_cmpuint (vcm_service_info_get_generation (info), ==, 2);
  }
}

static void
test_methods_async (Fixture *fx, gconstpointer data)
{
  methods_async_mounts (fx);
  methods_async_queries (fx);
}

/* The sync calls block their thread: run_in_thread() runs them in another
 * one while the main context (where the fake answers) keeps running. */
typedef struct {
  GThreadFunc func;
  gpointer data;
  gpointer result;
  int done;
} SyncThread;

static gpointer
sync_thread_main (gpointer user_data)
{
  SyncThread *t = user_data;

  t->result = t->func (t->data);
  g_atomic_int_set (&t->done, TRUE);
  g_main_context_wakeup (NULL);
  return NULL;
}

/* @func (@data) run in a thread of its own: what it returns. */
static gpointer
run_in_thread (GThreadFunc func, gpointer data)
{
  SyncThread t = { func, data, NULL, FALSE };
  GThread *thread = g_thread_new ("sync-calls", sync_thread_main, &t);

  WAIT_UNTIL (g_atomic_int_get (&t.done));
  g_thread_join (thread);
  return t.result;
}

static gpointer
sync_calls (gpointer data)
{
  Fixture *fx = data;
  VcmClient *c = fx->client;
  VcmCallFlags none = VCM_CALL_FLAGS_NONE;
  g_autoptr (GError) error = NULL;
  g_autofree char *mp = NULL;
  g_autofree char *bound = NULL;
  g_autoptr (GPtrArray) list = NULL;
  g_auto (GStrv) detached = NULL;
  g_auto (GStrv) ids = NULL;
  g_auto (GStrv) unmounted = NULL;
  g_autoptr (VcmDeviceInfo) dev = NULL;
  g_autoptr (VcmFsInfo) fs = NULL;
  g_autoptr (VcmPathInfo) info = NULL;
  g_autoptr (VcmServiceInfo) service = NULL;
  guint64 generation = 0;
  gboolean yes = FALSE;

  mp = vcm_client_mount_rootfs_sync (c, "sb", "c2", "/r", FALSE, none, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (mp, ==, "/run/fake/shared/sb/c2/rootfs");
  list = vcm_client_list_rootfs_sync (c, "sb", none, NULL, &generation, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 1);
  g_assert_cmpuint (generation, ==, 1);
  g_assert_false (vcm_rootfs_get_read_only (list->pdata[0]));
  detached = vcm_client_unmount_rootfs_sync (c, "sb", "c2", none, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (detached[0], ==, mp);
  ids = vcm_client_unmount_sandbox_sync (c, "sb", none, NULL, &error);
  g_assert_cmpuint (g_strv_length (ids), ==, 2);
  bound = vcm_client_bind_mount_sync (c, "/s", "/run/fake/shared/y", TRUE, none, NULL, &error);
  g_assert_cmpstr (bound, ==, "/run/fake/shared/y");
  unmounted = vcm_client_unmount_sync (c, bound, none, NULL, &error);
  g_assert_cmpstr (unmounted[0], ==, bound);
  dev = vcm_client_get_device_for_path_sync (c, "/x", none, NULL, &error);
  g_assert_cmpuint (vcm_device_info_get_major (dev), ==, 4096);
  fs = vcm_client_get_device_path_and_fs_type_sync (c, "/", none, NULL, &error);
  g_assert_cmpstr (vcm_fs_info_get_fs_type (fs), ==, "ext4");
  g_assert_true (vcm_client_is_device_mapper_sync (c, 253, 1, none, NULL, &yes, &error));
  g_assert_true (yes);
  g_assert_true (vcm_client_is_system_mount_sync (c, "/etc", none, NULL, &yes, &error));
  g_assert_false (yes);
  g_assert_true (vcm_client_is_host_device_sync (c, "/dev/sda", none, NULL, &yes, &error));
  g_assert_true (yes);
  info = vcm_client_describe_path_sync (c, "/proc", none, NULL, &error);
  g_assert_cmpuint (vcm_path_info_get_flags (info), ==,
                    VCM_PATH_FLAGS_READ_ONLY | VCM_PATH_FLAGS_SYSTEM_MOUNT);
  service = vcm_client_get_service_info_sync (c, none, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (vcm_service_info_get_generation (service), ==, 2);
  return GINT_TO_POINTER (TRUE);
}

static void
test_methods_sync (Fixture *fx, gconstpointer data)
{
  g_assert_true (GPOINTER_TO_INT (run_in_thread (sync_calls, fx)));
}

static void
test_interactive_flag (Fixture *fx, gconstpointer data)
{
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  gboolean yes;

  RUN_ASYNC (res,
             vcm_client_is_system_mount (fx->client, "/", VCM_CALL_FLAGS_NONE, NULL, on_done, &res));
  g_assert_true (vcm_client_is_system_mount_finish (fx->client, res, &yes, &error));
  g_assert_false (fx->fake->last_flags & G_DBUS_MESSAGE_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION);
  RUN_ASYNC (res,
             vcm_client_is_system_mount (fx->client, "/", VCM_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION,
                                         NULL, on_done, &res));
  g_assert_true (vcm_client_is_system_mount_finish (fx->client, res, &yes, &error));
  g_assert_true (fx->fake->last_flags & G_DBUS_MESSAGE_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION);
}

static void
test_errors (Fixture *fx, gconstpointer data)
{
  static const struct {
    const char *name;
    int code;
  } table[] = {
    { "org.vc.Mount.Error.Failed", VCM_CLIENT_ERROR_FAILED },
    { "org.vc.Mount.Error.InvalidArgument", VCM_CLIENT_ERROR_INVALID_ARGUMENT },
    { "org.vc.Mount.Error.NotAuthorized", VCM_CLIENT_ERROR_NOT_AUTHORIZED },
    { "org.vc.Mount.Error.NotFound", VCM_CLIENT_ERROR_NOT_FOUND },
    { "org.vc.Mount.Error.AlreadyMounted", VCM_CLIENT_ERROR_ALREADY_MOUNTED },
    { "org.vc.Mount.Error.NotMounted", VCM_CLIENT_ERROR_NOT_MOUNTED },
    { "org.vc.Mount.Error.LimitsExceeded", VCM_CLIENT_ERROR_LIMITS_EXCEEDED },
    { "org.vc.Mount.Error.ForeignMountNamespace", VCM_CLIENT_ERROR_FOREIGN_MOUNT_NAMESPACE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (table); i++)
    {
      g_autoptr (GAsyncResult) res = NULL;
      g_autoptr (GError) error = NULL;
      g_autofree char *mp = NULL;
      g_autofree char *remote = NULL;

      fx->fake->next_error = g_strdup (table[i].name);
      RUN_ASYNC (res,
                 vcm_client_mount_rootfs (fx->client, "sb", "c", "/r", FALSE, VCM_CALL_FLAGS_NONE, NULL,
                                          on_done, &res));
      mp = vcm_client_mount_rootfs_finish (fx->client, res, &error);
      g_assert_null (mp);
      g_assert_error (error, VCM_CLIENT_ERROR, table[i].code);
      g_assert_cmpstr (error->message, ==, "scripted error of the fake");
      /* and the name back, for those who pass the error on over D-Bus */
      remote = g_dbus_error_encode_gerror (error);
      g_assert_cmpstr (remote, ==, table[i].name);
    }

  /* The bus's error for "polkit would ask": its own code, for the service's
   * calls only (the library does not register the bus's name process-wide,
   * so it is not encoded back). */
  {
    g_autoptr (GAsyncResult) res = NULL;
    g_autoptr (GError) error = NULL;
    g_autofree char *mp = NULL;

    fx->fake->next_error = g_strdup ("org.freedesktop.DBus.Error.InteractiveAuthorizationRequired");
    RUN_ASYNC (res,
               vcm_client_mount_rootfs (fx->client, "sb", "c", "/r", FALSE, VCM_CALL_FLAGS_NONE, NULL,
                                        on_done, &res));
    mp = vcm_client_mount_rootfs_finish (fx->client, res, &error);
    g_assert_null (mp);
    g_assert_error (error, VCM_CLIENT_ERROR, VCM_CLIENT_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED);
    g_assert_cmpstr (error->message, ==, "scripted error of the fake");
    g_assert_false (g_dbus_error_is_remote_error (error));
  }
  /* ...and other callers' errors of that name in the process keep theirs. */
  {
    g_autoptr (GError) other = g_dbus_error_new_for_dbus_error (
      "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired", "someone else's");

    g_assert_false (other->domain == VCM_CLIENT_ERROR);
  }

  /* A service newer than the library: still a VCM_CLIENT_ERROR, named. */
  {
    g_autoptr (GAsyncResult) res = NULL;
    g_autoptr (GError) error = NULL;
    gboolean yes = FALSE;

    fx->fake->next_error = g_strdup ("org.vc.Mount.Error.SomethingNew");
    RUN_ASYNC (res,
               vcm_client_is_host_device (fx->client, "/dev", VCM_CALL_FLAGS_NONE, NULL, on_done, &res));
    g_assert_false (vcm_client_is_host_device_finish (fx->client, res, &yes, &error));
    g_assert_error (error, VCM_CLIENT_ERROR, VCM_CLIENT_ERROR_FAILED);
    g_assert_cmpstr (error->message, ==, "org.vc.Mount.Error.SomethingNew: scripted error of the fake");
  }
  /* Not the service's errors: their own domains. */
  {
    g_autoptr (GAsyncResult) res = NULL;
    g_autoptr (GError) error = NULL;
    g_autofree char *mp = NULL;

    fake_service_stop (fx->fake);
    RUN_ASYNC (res,
               vcm_client_mount_rootfs (fx->client, "sb", "c", "/r", FALSE, VCM_CALL_FLAGS_NONE, NULL,
                                        on_done, &res));
    mp = vcm_client_mount_rootfs_finish (fx->client, res, &error);
    g_assert_null (mp);
    g_assert_error (error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN);
  }
}

/* Arguments are packed by the method's signature in the XML: a string that
 * is not UTF-8 is refused in both forms, naming the argument, and the
 * service is never asked. */
static gpointer
bad_utf8_sync (gpointer data)
{
  Fixture *fx = data;
  g_autoptr (GError) error = NULL;
  g_autofree char *mp = NULL;

  mp = vcm_client_bind_mount_sync (fx->client, "/src", "/run/fake/shared/\xff", FALSE,
                                   VCM_CALL_FLAGS_NONE, NULL, &error);
  g_assert_null (mp);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==, "BindMount: destination is not valid UTF-8");
  return NULL;
}

static void
test_bad_arguments (Fixture *fx, gconstpointer data)
{
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *mp = NULL;

  RUN_ASYNC (res,
             vcm_client_mount_rootfs (fx->client, "sb", "c\xc3", "/r", FALSE, VCM_CALL_FLAGS_NONE, NULL,
                                      on_done, &res));
  mp = vcm_client_mount_rootfs_finish (fx->client, res, &error);
  g_assert_null (mp);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==, "MountRootfs: container_id is not valid UTF-8");

  run_in_thread (bad_utf8_sync, fx);
  g_assert_null (fx->fake->last_method);
}

/* A sync call runs nothing of its thread's own main context while it
 * waits: only its reply is dispatched. */
static gboolean
mark_ran (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

static gpointer
sync_in_own_context (gpointer data)
{
  Fixture *fx = data;
  g_autoptr (GMainContext) context = g_main_context_new ();
  g_autoptr (GSource) idle = g_idle_source_new ();
  g_autoptr (GError) error = NULL;
  gboolean ran = FALSE;
  gboolean yes = FALSE;

  g_main_context_push_thread_default (context);
  g_source_set_callback (idle, mark_ran, &ran, NULL);
  g_source_attach (idle, context);
  g_assert_true (
    vcm_client_is_system_mount_sync (fx->client, "/proc", VCM_CALL_FLAGS_NONE, NULL, &yes, &error));
  g_assert_no_error (error);
  g_assert_true (yes);
  g_assert_false (ran);
  g_main_context_iteration (context, FALSE);
  g_assert_true (ran);
  g_main_context_pop_thread_default (context);
  return NULL;
}

static void
test_sync_private_context (Fixture *fx, gconstpointer data)
{
  run_in_thread (sync_in_own_context, fx);
}

/* The fd-based methods: the descriptor reaches the service (the fake
 * compares inodes), the options as the service's a{sv} (a user namespace
 * as a descriptor of its own), the mount info back, a mount fd back. */
static int
compare_entries (gconstpointer a, gconstpointer b)
{
  g_autoptr (GVariant) ka = g_variant_get_child_value (*(GVariant **) a, 0);
  g_autoptr (GVariant) kb = g_variant_get_child_value (*(GVariant **) b, 0);

  return g_strcmp0 (g_variant_get_string (ka, NULL), g_variant_get_string (kb, NULL));
}

/* An a{sv} with its keys sorted, also in the a{sv} values: dictionaries
 * compare equal whatever order they were built in. */
static GVariant *
sorted_vardict (GVariant *dict)
{
  g_autoptr (GPtrArray) entries = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  GVariantIter iter;
  const char *key;
  GVariant *value;

  g_variant_iter_init (&iter, dict);
  while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
    {
      GVariant *v = g_variant_is_of_type (value, G_VARIANT_TYPE_VARDICT) ? sorted_vardict (value)
                                                                         : g_variant_ref (value);

      g_ptr_array_add (entries,
                       g_variant_ref_sink (g_variant_new_dict_entry (g_variant_new_string (key),
                                                                     g_variant_new_variant (v))));
      g_variant_unref (v);
      g_variant_unref (value);
    }
  g_ptr_array_sort (entries, compare_entries);
  return g_variant_ref_sink (
    g_variant_new_array (G_VARIANT_TYPE ("{sv}"), (GVariant **) entries->pdata, entries->len));
}

static void
assert_options (FakeService *fake, const char *expected)
{
  g_autoptr (GVariant) parsed = g_variant_parse (G_VARIANT_TYPE_VARDICT, expected, NULL, NULL, NULL);
  g_autoptr (GVariant) want = NULL;
  g_autoptr (GVariant) got = sorted_vardict (fake->last_options);
  g_autofree char *got_text = g_variant_print (got, TRUE);

  g_assert_nonnull (parsed);
  want = sorted_vardict (parsed);
  if (!g_variant_equal (want, got))
    g_error ("options: got %s, wanted %s", got_text, expected);
}

static void
test_fd_methods_async (Fixture *fx, gconstpointer data)
{
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (VcmMountOptions) options = vcm_mount_options_new ();
  g_autofree char *dir = g_dir_make_tmp ("vcm-test-XXXXXX", &error);
  VcmClient *c = fx->client;
  int dir_fd, userns_fd;

  g_assert_no_error (error);
  dir_fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  g_assert_cmpint (dir_fd, >=, 0);

  vcm_mount_options_set_read_only (options, TRUE);
  vcm_mount_options_set_nosuid (options, TRUE);
  vcm_mount_options_set_noexec (options, FALSE);
  vcm_mount_options_set_propagation (options, "slave");
  g_assert_true (vcm_mount_options_set_idmap (options, "u:0:100000:65536,g:0:200000:65536", &error));
  g_assert_no_error (error);
  {
    g_autoptr (VcmMountInfo) info = NULL;

    RUN_ASYNC (res,
               vcm_client_mount_rootfs_fd (c, "sb", "c1", dir_fd, options, VCM_CALL_FLAGS_NONE, NULL,
                                           on_done, &res));
    info = vcm_client_mount_rootfs_fd_finish (c, res, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (vcm_mount_info_get_mount_point (info), ==, "/run/fake/shared/sb/c1/rootfs");
    g_assert_cmpstr (vcm_mount_info_get_kind (info), ==, "rootfs");
    g_assert_cmpstr (vcm_mount_info_get_sandbox_id (info), ==, "sb");
    g_assert_cmpstr (vcm_mount_info_get_container_id (info), ==, "c1");
    g_assert_cmpuint (vcm_mount_info_get_mount_id (info), ==, 0x100000002);
    g_assert_true (vcm_mount_info_get_mount_id_unique (info));
    g_assert_cmpstr (vcm_mount_info_get_source (info), ==, "/fake/source");
    g_assert_cmpuint (vcm_mount_info_get_caller_uid (info), ==, getuid ());
    g_assert_false (vcm_mount_info_get_recovered (info));
    g_assert_true (g_variant_equal (vcm_mount_info_get_options (info), fx->fake->last_options));
    g_assert_cmpuint (fx->fake->last_source_inode, ==, fake_inode_of (dir_fd));
    assert_options (fx->fake,
                    "{'read-only': <true>, 'nosuid': <true>, 'noexec': <false>,"
                    " 'propagation': <'slave'>, 'idmap': <{"
                    "'uid-map': <[(uint32 0, uint32 100000, uint32 65536)]>,"
                    " 'gid-map': <[(uint32 0, uint32 200000, uint32 65536)]>}>}");
  }
  /* a user namespace instead of ranges: its own descriptor in the call */
  userns_fd = open ("/proc/self/ns/user", O_RDONLY | O_CLOEXEC);
  g_assert_cmpint (userns_fd, >=, 0);
  {
    g_autoptr (VcmMountOptions) by_ns = vcm_mount_options_new ();
    g_autoptr (VcmMountInfo) info = NULL;
    g_autofree char *expected = NULL;

    g_assert_true (vcm_mount_options_set_userns_fd (by_ns, userns_fd, &error));
    RUN_ASYNC (res,
               vcm_client_bind_mount_fd (c, dir_fd, "/run/fake/shared/b", by_ns, VCM_CALL_FLAGS_NONE,
                                         NULL, on_done, &res));
    info = vcm_client_bind_mount_fd_finish (c, res, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (vcm_mount_info_get_mount_point (info), ==, "/run/fake/shared/b");
    g_assert_cmpstr (vcm_mount_info_get_kind (info), ==, "bind");
    expected = g_strdup_printf ("{'idmap': <{'userns-inode': <uint64 %" G_GUINT64_FORMAT ">}>}",
                                fake_inode_of (userns_fd));
    assert_options (fx->fake, expected);
  }
  close (userns_fd);
  /* a mount fd back: the fake's "mount" is the source itself */
  {
    g_autoptr (VcmMountInfo) info = NULL;
    int mount_fd;

    RUN_ASYNC (res, vcm_client_open_mount (c, dir_fd, NULL, VCM_CALL_FLAGS_NONE, NULL, on_done, &res));
    mount_fd = vcm_client_open_mount_finish (c, res, &info, &error);
    g_assert_no_error (error);
    g_assert_cmpint (mount_fd, >=, 0);
    g_assert_cmpuint (fake_inode_of (mount_fd), ==, fake_inode_of (dir_fd));
    g_assert_cmpstr (vcm_mount_info_get_kind (info), ==, "detached");
    g_assert_cmpstr (vcm_mount_info_get_mount_point (info), ==, "");
    assert_options (fx->fake, "@a{sv} {}");
    close (mount_fd);
  }
  {
    g_autoptr (GPtrArray) mounts = NULL;
    guint64 generation = 0;

    fake_service_mount (fx->fake, "other", "c9", FALSE, TRUE);
    RUN_ASYNC (res, vcm_client_list_mounts (c, "sb", NULL, VCM_CALL_FLAGS_NONE, NULL, on_done, &res));
    mounts = vcm_client_list_mounts_finish (c, res, &generation, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (generation, ==, 2);
    g_assert_cmpuint (mounts->len, ==, 1);
    g_assert_cmpstr (vcm_mount_info_get_container_id (mounts->pdata[0]), ==, "c1");
  }
  close (dir_fd);
  g_assert_no_errno (rmdir (dir));
}

static gpointer
fd_methods_sync (gpointer data)
{
  Fixture *fx = data;
  VcmClient *c = fx->client;
  g_autoptr (GError) error = NULL;
  g_autoptr (VcmMountInfo) rootfs = NULL;
  g_autoptr (VcmMountInfo) bind = NULL;
  g_autoptr (VcmMountInfo) opened = NULL;
  g_autoptr (GPtrArray) mounts = NULL;
  int fd = open ("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int mount_fd;

  rootfs = vcm_client_mount_rootfs_fd_sync (c, "sb", "c2", fd, NULL, VCM_CALL_FLAGS_NONE, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (vcm_mount_info_get_mount_point (rootfs), ==, "/run/fake/shared/sb/c2/rootfs");
  bind =
    vcm_client_bind_mount_fd_sync (c, fd, "/run/fake/shared/z", NULL, VCM_CALL_FLAGS_NONE, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (vcm_mount_info_get_mount_point (bind), ==, "/run/fake/shared/z");
  mount_fd = vcm_client_open_mount_sync (c, fd, NULL, VCM_CALL_FLAGS_NONE, NULL, &opened, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (fake_inode_of (mount_fd), ==, fake_inode_of (fd));
  close (mount_fd);
  mounts = vcm_client_list_mounts_sync (c, NULL, "rootfs", VCM_CALL_FLAGS_NONE, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mounts->len, ==, 1);
  /* a descriptor that is not one: refused before the bus, naming it */
  g_assert_cmpint (vcm_client_open_mount_sync (c, -1, NULL, VCM_CALL_FLAGS_NONE, NULL, NULL, &error), ==,
                   -1);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==, "OpenMount: source is not a file descriptor");
  g_clear_error (&error);
  close (fd);
  /* above any descriptor this process has open */
  g_assert_null (vcm_client_bind_mount_fd_sync (c, 1 << 20, "/run/fake/shared/z", NULL,
                                                VCM_CALL_FLAGS_NONE, NULL, &error));
  g_assert_nonnull (error);
  g_assert_true (g_str_has_prefix (error->message, "BindMountFd: source: "));
  return NULL;
}

static void
test_fd_methods_sync (Fixture *fx, gconstpointer data)
{
  run_in_thread (fd_methods_sync, fx);
}

/* The ID map in the text of the service's polkit details. */
static void
test_idmap_text (void)
{
  static const char *const bad[] = {
    "",        "u:0:1",   "u:0:100000:0",     "x:0:1:1", "u:0:100000:65536",
    "g:1:2:3", "u:a:1:1", "u:0:1:4294967296", NULL,
  };
  g_autoptr (VcmMountOptions) options = vcm_mount_options_new ();
  g_autoptr (GError) error = NULL;

  g_assert_true (vcm_mount_options_set_idmap (options, "b:0:100000:65536", &error));
  g_assert_true (
    vcm_mount_options_set_idmap (options, "u:0:1000:1,g:0:1000:1,u:1:100000:65535", &error));
  g_assert_no_error (error);
  for (guint i = 0; bad[i] != NULL; i++)
    {
      g_assert_false (vcm_mount_options_set_idmap (options, bad[i], &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
      g_assert_true (g_str_has_prefix (error->message, "idmap: "));
      g_clear_error (&error);
    }
}

/* From a user namespace where the process is uid 1000 and the bus sees the
 * real uid, a client of the system bus (no connection given) connects
 * (g_bus_get() authenticates with an empty identity), as a rootless
 * runtime's does. The child is this program again (see main()), run with
 * the fake's bus as the system bus. */
static void
on_child_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (res);
}

static void
test_system_bus_from_user_namespace (Fixture *fx, gconstpointer data)
{
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autoptr (GSubprocess) child = NULL;
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  char *out = NULL;
  g_autofree char *self_exe = g_file_read_link ("/proc/self/exe", NULL);

  if (!fake_user_namespace_available ())
    {
      g_test_skip ("no user namespace of one's own here");
      return;
    }
  fake_service_mount (fx->fake, "sb", "c1", FALSE, TRUE);
  g_subprocess_launcher_setenv (launcher, "DBUS_SYSTEM_BUS_ADDRESS", fx->fake->address, TRUE);
  child = g_subprocess_launcher_spawn (launcher, &error, "unshare", "--user", "--map-user=1000",
                                       "--map-group=1000", self_exe, "--list-system-bus", NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8_async (child, NULL, NULL, on_child_done, &res);
  WAIT_UNTIL (res != NULL);
  g_assert_true (g_subprocess_communicate_utf8_finish (child, res, &out, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (out, ==, "uid=1000 listed=1\n");
  g_free (out);
  g_assert_true (g_subprocess_get_if_exited (child) && g_subprocess_get_exit_status (child) == 0);
}

/* The child of test_system_bus_from_user_namespace(). */
static int
list_system_bus (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (VcmClient) client = vcm_client_new_sync (NULL, NULL, &error);
  g_autoptr (GPtrArray) list = NULL;

  if (client == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  list = vcm_client_list_rootfs_sync (client, NULL, VCM_CALL_FLAGS_NONE, NULL, NULL, &error);
  if (list == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  g_print ("uid=%u listed=%u\n", getuid (), list->len);
  return 0;
}

static void
test_cancel (Fixture *fx, gconstpointer data)
{
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GPtrArray) list = NULL;

  fx->fake->hold_lists = TRUE;
  vcm_client_list_rootfs (fx->client, NULL, VCM_CALL_FLAGS_NONE, cancellable, on_done, &res);
  WAIT_UNTIL (fx->fake->held->len == 1);
  g_cancellable_cancel (cancellable);
  WAIT_UNTIL (res != NULL);
  list = vcm_client_list_rootfs_finish (fx->client, res, NULL, &error);
  g_assert_null (list);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  fake_service_release_lists (fx->fake, TRUE);
}

static void
test_timeout (Fixture *fx, gconstpointer data)
{
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list = NULL;

  vcm_client_set_timeout_msec (fx->client, 200);
  g_assert_cmpint (vcm_client_get_timeout_msec (fx->client), ==, 200);
  fx->fake->hold_lists = TRUE;
  RUN_ASYNC (res, vcm_client_list_rootfs (fx->client, "sb", VCM_CALL_FLAGS_NONE, NULL, on_done, &res));
  list = vcm_client_list_rootfs_finish (fx->client, res, NULL, &error);
  g_assert_null (list);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  fake_service_release_lists (fx->fake, TRUE);
}

int
main (int argc, char **argv)
{
  if (argc == 2 && g_str_equal (argv[1], "--list-system-bus"))
    return list_system_bus ();
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/client/" path, Fixture, NULL, client_fixture_set_up, func, client_fixture_tear_down)
  ADD ("new-and-owner", test_new_and_owner);
  ADD ("methods-async", test_methods_async);
  ADD ("methods-sync", test_methods_sync);
  ADD ("interactive-flag", test_interactive_flag);
  ADD ("errors", test_errors);
  ADD ("bad-arguments", test_bad_arguments);
  ADD ("sync-private-context", test_sync_private_context);
  ADD ("fd-methods-async", test_fd_methods_async);
  ADD ("fd-methods-sync", test_fd_methods_sync);
  ADD ("system-bus-from-user-namespace", test_system_bus_from_user_namespace);
  ADD ("cancel", test_cancel);
  ADD ("timeout", test_timeout);
#undef ADD
  g_test_add_func ("/client/idmap-text", test_idmap_text);
  return g_test_run ();
}
