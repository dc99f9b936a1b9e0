/* vcm-fake-service: the scripted org.vc.Mount of the library's unit tests.
 * It runs in the test's main context on a connection of its own, answers
 * every method of the interface (plain answers, or the error the test set),
 * and emits the rootfs signals the test asks for. */
#include "vcm-fake-service.h"

#include <signal.h>
#include <sys/prctl.h>

#include "vcm-generated.h"

#define BUS_NAME    "org.vc.Mount"
#define OBJECT_PATH "/org/vc/Mount"
#define INTERFACE   "org.vc.Mount"
#define SHARED_DIR  "/run/fake/shared"

static void
die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

FakeBus *
fake_bus_new (void)
{
  g_autoptr (GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_autoptr (GError) error = NULL;
  g_autoptr (GDataInputStream) out = NULL;
  FakeBus *bus = g_new0 (FakeBus, 1);

  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  bus->daemon = g_subprocess_launcher_spawn (launcher, &error, "dbus-daemon", "--session", "--nofork",
                                             "--print-address=1", NULL);
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (bus->daemon));
  bus->address = g_data_input_stream_read_line_utf8 (out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (bus->address);
  return bus;
}

void
fake_bus_free (FakeBus *bus)
{
  g_subprocess_send_signal (bus->daemon, SIGTERM);
  g_subprocess_wait (bus->daemon, NULL, NULL);
  g_object_unref (bus->daemon);
  g_free (bus->address);
  g_free (bus);
}

typedef struct {
  GDBusMethodInvocation *invocation;
  GVariant *answer; /* the table when asked */
  char *sandbox_id;
} HeldList;

static void
held_list_free (HeldList *h)
{
  g_clear_object (&h->invocation);
  g_clear_pointer (&h->answer, g_variant_unref);
  g_free (h->sandbox_id);
  g_free (h);
}

static void
fake_mount_free (FakeMount *m)
{
  g_free (m->sandbox_id);
  g_free (m->container_id);
  g_free (m->mount_point);
  g_free (m);
}

static char *
key_of (const char *sandbox_id, const char *container_id)
{
  return g_strconcat (sandbox_id, "\n", container_id, NULL);
}

static int
compare_mounts (gconstpointer a, gconstpointer b)
{
  const FakeMount *ma = *(FakeMount *const *) a;
  const FakeMount *mb = *(FakeMount *const *) b;
  int r = g_strcmp0 (ma->sandbox_id, mb->sandbox_id);

  return r != 0 ? r : g_strcmp0 (ma->container_id, mb->container_id);
}

GVariant *
fake_service_list (FakeService *fake, const char *sandbox_id)
{
  g_autoptr (GPtrArray) all = g_ptr_array_new ();
  GVariantBuilder b;
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, fake->mounts);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      FakeMount *m = value;

      if (sandbox_id[0] == '\0' || g_str_equal (sandbox_id, m->sandbox_id))
        g_ptr_array_add (all, m);
    }
  g_ptr_array_sort (all, compare_mounts);
  g_variant_builder_init (&b, G_VARIANT_TYPE ("a(sssb)"));
  for (guint i = 0; i < all->len; i++)
    {
      FakeMount *m = all->pdata[i];
      g_variant_builder_add (&b, "(sssb)", m->sandbox_id, m->container_id, m->mount_point, m->read_only);
    }
  return g_variant_ref_sink (
    g_variant_new ("(t@a(sssb))", fake->generation, g_variant_builder_end (&b)));
}

static void
emit (FakeService *fake, const char *name, GVariant *params)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) sunk = g_variant_ref_sink (params);

  g_assert_nonnull (fake->conn);
  if (!g_dbus_connection_emit_signal (fake->conn, NULL, OBJECT_PATH, INTERFACE, name, sunk, &error))
    g_error ("fake service: cannot emit %s: %s", name, error->message);
}

static char *
mount_point_of (const char *sandbox_id, const char *container_id)
{
  return g_build_filename (SHARED_DIR, sandbox_id, container_id, "rootfs", NULL);
}

void
fake_service_mount (FakeService *fake,
                    const char *sandbox_id,
                    const char *container_id,
                    gboolean read_only,
                    gboolean emit_signal)
{
  FakeMount *m = g_new0 (FakeMount, 1);

  m->sandbox_id = g_strdup (sandbox_id);
  m->container_id = g_strdup (container_id);
  m->mount_point = mount_point_of (sandbox_id, container_id);
  m->read_only = read_only;
  g_hash_table_replace (fake->mounts, key_of (sandbox_id, container_id), m);
  fake->generation++;
  if (emit_signal)
    emit (
      fake, "RootfsMounted",
      g_variant_new ("(tsssb)", fake->generation, sandbox_id, container_id, m->mount_point, read_only));
}

void
fake_service_unmount (FakeService *fake,
                      const char *sandbox_id,
                      const char *container_id,
                      gboolean emit_signal)
{
  g_autofree char *key = key_of (sandbox_id, container_id);
  g_autofree char *mp = mount_point_of (sandbox_id, container_id);
  const char *detached[] = { mp, NULL };

  g_assert_true (g_hash_table_remove (fake->mounts, key));
  fake->generation++;
  if (emit_signal)
    emit (fake, "RootfsUnmounted",
          g_variant_new ("(tsss^as)", fake->generation, sandbox_id, container_id, mp, detached));
}

void
fake_service_change (FakeService *fake,
                     const char *sandbox_id,
                     const char *container_id,
                     const char *change,
                     gboolean emit_signal)
{
  g_autofree char *key = key_of (sandbox_id, container_id);
  g_autofree char *mp = mount_point_of (sandbox_id, container_id);
  FakeMount *m = g_hash_table_lookup (fake->mounts, key);

  g_assert_nonnull (m);
  if (g_str_equal (change, "remounted"))
    m->read_only = !m->read_only;
  else if (g_str_equal (change, "vanished"))
    g_hash_table_remove (fake->mounts, key);
  fake->generation++;
  if (emit_signal)
    emit (fake, "RootfsChanged",
          g_variant_new ("(tssss)", fake->generation, sandbox_id, container_id, mp, change));
}

void
fake_service_skip (FakeService *fake, guint n)
{
  fake->generation += n;
}

void
fake_service_release_lists (FakeService *fake, gboolean as_asked)
{
  g_autoptr (GPtrArray) held = g_steal_pointer (&fake->held);

  fake->held = g_ptr_array_new_with_free_func ((GDestroyNotify) held_list_free);
  for (guint i = 0; i < held->len; i++)
    {
      HeldList *h = held->pdata[i];
      GVariant *answer = as_asked ? g_variant_ref (h->answer) : fake_service_list (fake, h->sandbox_id);

      g_dbus_method_invocation_return_value (g_steal_pointer (&h->invocation), answer);
      g_variant_unref (answer);
    }
}

static GVariant *
describe (const char *path)
{
  GVariantDict d;

  g_variant_dict_init (&d, NULL);
  g_variant_dict_insert (&d, "major", "u", 8);
  g_variant_dict_insert (&d, "minor", "u", 1);
  g_variant_dict_insert (&d, "mount-point", "s", "/");
  g_variant_dict_insert (&d, "device", "s", "/dev/sda1");
  g_variant_dict_insert (&d, "fs-type", "s", "ext4");
  g_variant_dict_insert (&d, "mount-id", "t", (guint64) 21);
  g_variant_dict_insert (&d, "read-only", "b", TRUE);
  g_variant_dict_insert (&d, "device-mapper", "b", FALSE);
  g_variant_dict_insert (&d, "system-mount", "b", g_str_has_prefix (path, "/proc"));
  g_variant_dict_insert (&d, "host-device", "b", g_str_has_prefix (path, "/dev"));
  g_variant_dict_insert (&d, "propagation", "s", "private");
  return g_variant_new ("(@a{sv})", g_variant_dict_end (&d));
}

static void
method_call (GDBusConnection *conn,
             const char *sender,
             const char *path,
             const char *iface,
             const char *method,
             GVariant *params,
             GDBusMethodInvocation *invocation,
             gpointer user_data)
{
  FakeService *fake = user_data;
  const char *s1 = NULL, *s2 = NULL, *s3 = NULL;
  gboolean b = FALSE;

  fake->last_flags = g_dbus_message_get_flags (g_dbus_method_invocation_get_message (invocation));
  g_free (fake->last_method);
  fake->last_method = g_strdup (method);

  if (g_str_equal (method, "ListRootfs"))
    {
      fake->n_list_calls++;
      g_variant_get (params, "(&s)", &s1);
      if (fake->fail_lists > 0)
        {
          fake->fail_lists--;
          g_dbus_method_invocation_return_dbus_error (invocation, "org.vc.Mount.Error.Failed",
                                                      "scripted failure");
          return;
        }
      if (fake->hold_lists)
        {
          HeldList *h = g_new0 (HeldList, 1);

          h->invocation = invocation; /* the handler owns it; a reply consumes it */
          h->answer = fake_service_list (fake, s1);
          h->sandbox_id = g_strdup (s1);
          g_ptr_array_add (fake->held, h);
          return;
        }
      {
        g_autoptr (GVariant) answer = fake_service_list (fake, s1);

        g_dbus_method_invocation_return_value (invocation, answer);
      }
      return;
    }
  if (fake->next_error != NULL)
    {
      g_autofree char *name = g_steal_pointer (&fake->next_error);

      g_dbus_method_invocation_return_dbus_error (invocation, name, "scripted error of the fake");
      return;
    }
  if (g_str_equal (method, "MountRootfs"))
    {
      g_autofree char *mp = NULL;

      g_variant_get (params, "(&s&s&sb)", &s1, &s2, &s3, &b);
      fake_service_mount (fake, s1, s2, b, TRUE);
      mp = mount_point_of (s1, s2);
      g_dbus_method_invocation_return_value (invocation, g_variant_new ("(s)", mp));
    }
  else if (g_str_equal (method, "UnmountRootfs"))
    {
      g_autofree char *mp = NULL;
      const char *detached[2] = { NULL, NULL };

      g_variant_get (params, "(&s&s)", &s1, &s2);
      mp = mount_point_of (s1, s2);
      detached[0] = mp;
      fake_service_unmount (fake, s1, s2, TRUE);
      g_dbus_method_invocation_return_value (invocation, g_variant_new ("(^as)", detached));
    }
  else if (g_str_equal (method, "UnmountSandbox"))
    {
      const char *ids[] = { "c1", "c2", NULL };

      g_dbus_method_invocation_return_value (invocation, g_variant_new ("(^as)", ids));
    }
  else if (g_str_equal (method, "BindMount"))
    {
      g_variant_get (params, "(&s&sb)", &s1, &s2, &b);
      g_dbus_method_invocation_return_value (invocation, g_variant_new ("(s)", s2));
    }
  else if (g_str_equal (method, "Unmount"))
    {
      const char *detached[3] = { NULL, "/run/fake/shared/below", NULL };

      g_variant_get (params, "(&s)", &s1);
      detached[0] = s1;
      g_dbus_method_invocation_return_value (invocation, g_variant_new ("(^as)", detached));
    }
  else if (g_str_equal (method, "GetDeviceForPath"))
    g_dbus_method_invocation_return_value (invocation, g_variant_new ("(uus)", 4096, 1048576, "/mnt"));
  else if (g_str_equal (method, "GetDevicePathAndFsType"))
    g_dbus_method_invocation_return_value (invocation, g_variant_new ("(ss)", "/dev/sda1", "ext4"));
  else if (g_str_equal (method, "IsDeviceMapper"))
    {
      guint major, minor;

      g_variant_get (params, "(uu)", &major, &minor);
      g_dbus_method_invocation_return_value (invocation, g_variant_new ("(b)", major == 253));
    }
  else if (g_str_equal (method, "IsSystemMount"))
    {
      g_variant_get (params, "(&s)", &s1);
      g_dbus_method_invocation_return_value (invocation,
                                             g_variant_new ("(b)", g_str_has_prefix (s1, "/proc")));
    }
  else if (g_str_equal (method, "IsHostDevice"))
    {
      g_variant_get (params, "(&s)", &s1);
      g_dbus_method_invocation_return_value (invocation,
                                             g_variant_new ("(b)", g_str_has_prefix (s1, "/dev")));
    }
  else if (g_str_equal (method, "DescribePath"))
    {
      g_variant_get (params, "(&s)", &s1);
      g_dbus_method_invocation_return_value (invocation, describe (s1));
    }
  else
    g_dbus_method_invocation_return_dbus_error (invocation, "org.freedesktop.DBus.Error.UnknownMethod",
                                                method);
}

static GVariant *
get_property (GDBusConnection *conn,
              const char *sender,
              const char *path,
              const char *iface,
              const char *name,
              GError **error,
              gpointer user_data)
{
  FakeService *fake = user_data;

  if (g_str_equal (name, "Version"))
    return g_variant_new_string ("0.0-fake");
  if (g_str_equal (name, "SharedDir"))
    return g_variant_new_string (SHARED_DIR);
  if (g_str_equal (name, "DefaultShmSize"))
    return g_variant_new_uint64 (67108864);
  if (g_str_equal (name, "Generation"))
    return g_variant_new_uint64 (fake->generation);
  g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_PROPERTY, "no property %s", name);
  return NULL;
}

static const GDBusInterfaceVTable vtable = { method_call, get_property, NULL, { 0 } };

void
fake_service_start (FakeService *fake, gboolean replace)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  GDBusConnection *old = NULL;
  guint old_reg = 0;
  guint32 result;

  if (replace)
    {
      old = g_steal_pointer (&fake->conn);
      old_reg = fake->reg_id;
      fake->reg_id = 0;
    }
  g_assert_null (fake->conn);
  fake->conn = g_dbus_connection_new_for_address_sync (fake->address,
                                                       G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                         G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                       NULL, NULL, &error);
  g_assert_no_error (error);
  fake->reg_id = g_dbus_connection_register_object (
    fake->conn, OBJECT_PATH, vcm_dbus_mount_interface_info (), &vtable, fake, NULL, &error);
  g_assert_no_error (error);
  fake->generation = 0;
  /* 0x1 allow replacement, 0x2 replace existing, 0x4 do not queue */
  reply = g_dbus_connection_call_sync (fake->conn, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "RequestName",
                                       g_variant_new ("(su)", BUS_NAME, 0x1 | 0x4 | (replace ? 0x2 : 0)),
                                       G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(u)", &result);
  g_assert_cmpuint (result, ==, 1); /* primary owner */
  if (old != NULL)
    {
      /* The old instance is still connected; what it says now must not count. */
      FakeService ghost = *fake;

      ghost.conn = old;
      ghost.generation = G_MAXUINT32;
      emit (&ghost, "RootfsMounted",
            g_variant_new ("(tsssb)", (guint64) 1, "ghost", "ghost", SHARED_DIR "/ghost/ghost/rootfs",
                           FALSE));
      g_dbus_connection_unregister_object (old, old_reg);
      g_dbus_connection_close_sync (old, NULL, NULL);
      g_object_unref (old);
    }
}

void
fake_service_stop (FakeService *fake)
{
  g_assert_nonnull (fake->conn);
  g_dbus_connection_unregister_object (fake->conn, fake->reg_id);
  fake->reg_id = 0;
  g_dbus_connection_close_sync (fake->conn, NULL, NULL);
  g_clear_object (&fake->conn);
  /* Calls held by this instance die with it. */
  g_ptr_array_set_size (fake->held, 0);
}

FakeService *
fake_service_new (const char *address)
{
  FakeService *fake = g_new0 (FakeService, 1);

  fake->address = g_strdup (address);
  fake->mounts =
    g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) fake_mount_free);
  fake->held = g_ptr_array_new_with_free_func ((GDestroyNotify) held_list_free);
  fake_service_start (fake, FALSE);
  return fake;
}

void
fake_service_free (FakeService *fake)
{
  if (fake->conn != NULL)
    fake_service_stop (fake);
  g_hash_table_unref (fake->mounts);
  g_ptr_array_unref (fake->held);
  g_free (fake->next_error);
  g_free (fake->last_method);
  g_free (fake->address);
  g_free (fake);
}
