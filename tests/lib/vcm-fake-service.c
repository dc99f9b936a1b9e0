/* vcm-fake-service: the scripted org.vc.Mount of the library's unit tests.
 * It is gdbus-codegen's skeleton of the interface, exported in the test's
 * main context on a connection of its own: a handler per method (plain
 * answers, or the error the test set), and the rootfs signals the test asks
 * for through the skeleton's typed emitters. */
#include "vcm-fake-service.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gunixfdlist.h>
#include <sys/prctl.h>

#include "vcm-fake-generated.h"

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

GDBusConnection *
fake_bus_connect (const char *address)
{
  g_autoptr (GError) error = NULL;
  GDBusConnection *conn = g_dbus_connection_new_for_address_sync (
    address,
    G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION, NULL,
    NULL, &error);

  g_assert_no_error (error);
  return conn;
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

/* What a signal needs: the fake is on the bus (a stopped one cannot emit). */
static VcmFakeMount *
emitter (FakeService *fake)
{
  g_assert_nonnull (fake->conn);
  return fake->skeleton;
}

/* The generation, also as the skeleton's property (GetAll reads it there). */
static void
bump (FakeService *fake, guint n)
{
  fake->generation += n;
  vcm_fake_mount_set_generation (fake->skeleton, fake->generation);
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
  bump (fake, 1);
  if (emit_signal)
    vcm_fake_mount_emit_rootfs_mounted (emitter (fake), fake->generation, sandbox_id, container_id,
                                        m->mount_point, read_only);
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
  bump (fake, 1);
  if (emit_signal)
    vcm_fake_mount_emit_rootfs_unmounted (emitter (fake), fake->generation, sandbox_id, container_id, mp,
                                          detached);
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
  bump (fake, 1);
  if (emit_signal)
    vcm_fake_mount_emit_rootfs_changed (emitter (fake), fake->generation, sandbox_id, container_id, mp,
                                        change);
}

void
fake_service_skip (FakeService *fake, guint n)
{
  bump (fake, n);
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

/* The methods whose answer is the fake's fixed facts, or follows from
 * their arguments alone: their reply, or NULL for a method with a handler
 * of its own. A path lies on a system mount below /proc, on a host device
 * below /dev; major 253 is device-mapper's. */
static GVariant *
plain_reply (const char *method, GVariant *params)
{
  static const struct {
    const char *method;
    const char *reply; /* GVariant text */
  } fixed[] = {
    { "UnmountSandbox", "(['c1', 'c2'],)" },
    { "GetDeviceForPath", "(uint32 4096, uint32 1048576, '/mnt')" },
    { "GetDevicePathAndFsType", "('/dev/sda1', 'ext4')" },
  };
  const char *path = NULL;
  guint major = 0;
  gboolean system, host;

  for (gsize i = 0; i < G_N_ELEMENTS (fixed); i++)
    if (g_str_equal (method, fixed[i].method))
      return g_variant_new_parsed (fixed[i].reply);
  if (g_str_equal (method, "BindMount"))
    {
      g_variant_get_child (params, 1, "&s", &path); /* the destination */
      return g_variant_new ("(s)", path);
    }
  if (g_str_equal (method, "IsDeviceMapper"))
    {
      g_variant_get_child (params, 0, "u", &major);
      return g_variant_new ("(b)", major == 253);
    }
  if (!g_variant_is_of_type (params, G_VARIANT_TYPE ("(s)")))
    return NULL;
  g_variant_get (params, "(&s)", &path);
  system = g_str_has_prefix (path, "/proc");
  host = g_str_has_prefix (path, "/dev");
  if (g_str_equal (method, "IsSystemMount"))
    return g_variant_new ("(b)", system);
  if (g_str_equal (method, "IsHostDevice"))
    return g_variant_new ("(b)", host);
  if (g_str_equal (method, "DescribePath"))
    return g_variant_new_parsed ("({'major': <uint32 8>, 'minor': <uint32 1>, 'mount-point': <'/'>,"
                                 " 'device': <'/dev/sda1'>, 'fs-type': <'ext4'>,"
                                 " 'mount-id': <uint64 21>, 'read-only': <true>,"
                                 " 'device-mapper': <false>, 'system-mount': <%b>,"
                                 " 'host-device': <%b>, 'propagation': <'private'>},)",
                                 system, host);
  return NULL;
}

/* Runs before every method: notes what was called and how, and answers
 * with the error the test set instead (ListRootfs excepted: it has its own
 * scripted failures), or with the method's plain reply. Either reply takes
 * the skeleton's reference to the invocation, and no handler runs. */
static gboolean
on_authorize_method (GDBusInterfaceSkeleton *skeleton,
                     GDBusMethodInvocation *invocation,
                     FakeService *fake)
{
  const char *method = g_dbus_method_invocation_get_method_name (invocation);
  g_autofree char *name = NULL;
  GVariant *reply;

  fake->last_flags = g_dbus_message_get_flags (g_dbus_method_invocation_get_message (invocation));
  g_free (fake->last_method);
  fake->last_method = g_strdup (method);
  if (fake->next_error != NULL && !g_str_equal (method, "ListRootfs"))
    {
      name = g_steal_pointer (&fake->next_error);
      g_dbus_method_invocation_return_dbus_error (invocation, name, "scripted error of the fake");
      return FALSE;
    }
  reply = plain_reply (method, g_dbus_method_invocation_get_parameters (invocation));
  if (reply == NULL)
    return TRUE;
  g_dbus_method_invocation_return_value (invocation, reply);
  return FALSE;
}

static gboolean
handle_list_rootfs (VcmFakeMount *object,
                    GDBusMethodInvocation *invocation,
                    const char *sandbox_id,
                    FakeService *fake)
{
  g_autoptr (GVariant) answer = NULL;

  fake->n_list_calls++;
  if (fake->fail_lists > 0)
    {
      fake->fail_lists--;
      g_dbus_method_invocation_return_dbus_error (invocation, "org.vc.Mount.Error.Failed",
                                                  "scripted failure");
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  if (fake->hold_lists)
    {
      HeldList *h = g_new0 (HeldList, 1);

      h->invocation = invocation; /* a reply consumes it */
      h->answer = fake_service_list (fake, sandbox_id);
      h->sandbox_id = g_strdup (sandbox_id);
      g_ptr_array_add (fake->held, h);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  answer = fake_service_list (fake, sandbox_id);
  g_dbus_method_invocation_return_value (invocation, answer);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_mount_rootfs (VcmFakeMount *object,
                     GDBusMethodInvocation *invocation,
                     const char *sandbox_id,
                     const char *container_id,
                     const char *rootfs,
                     gboolean read_only,
                     FakeService *fake)
{
  g_autofree char *mp = mount_point_of (sandbox_id, container_id);

  fake_service_mount (fake, sandbox_id, container_id, read_only, TRUE);
  vcm_fake_mount_complete_mount_rootfs (object, invocation, mp);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_unmount_rootfs (VcmFakeMount *object,
                       GDBusMethodInvocation *invocation,
                       const char *sandbox_id,
                       const char *container_id,
                       FakeService *fake)
{
  g_autofree char *mp = mount_point_of (sandbox_id, container_id);
  const char *detached[] = { mp, NULL };

  fake_service_unmount (fake, sandbox_id, container_id, TRUE);
  vcm_fake_mount_complete_unmount_rootfs (object, invocation, detached);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_unmount (VcmFakeMount *object,
                GDBusMethodInvocation *invocation,
                const char *mount_point,
                FakeService *fake)
{
  const char *detached[] = { mount_point, SHARED_DIR "/below", NULL };

  vcm_fake_mount_complete_unmount (object, invocation, detached);
  /* what a restarted service knows of a mount it did not see made */
  vcm_fake_mount_emit_mount_removed (emitter (fake), fake->generation,
                                     g_variant_new_parsed ("{'mount-point': <%s>, 'kind': <'bind'>,"
                                                           " 'recovered': <true>}",
                                                           mount_point),
                                     detached);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* The fd-based methods: the fake stats the descriptors it gets (the test
 * compares inodes), keeps the options, and answers a mount info. */
static int
fd_of (GUnixFDList *fd_list, gint32 handle)
{
  g_autoptr (GError) error = NULL;
  int fd = g_unix_fd_list_get (fd_list, handle, &error);

  g_assert_no_error (error);
  return fd;
}

guint64
fake_inode_of (int fd)
{
  struct stat st;

  g_assert_no_errno (fstat (fd, &st));
  return st.st_ino;
}

/* The options as the test checks them: a userns handle becomes the inode
 * of the namespace it names. */
static void
note_options (FakeService *fake, GUnixFDList *fd_list, GVariant *options)
{
  g_auto (GVariantDict) dict = G_VARIANT_DICT_INIT (options);
  g_autoptr (GVariant) idmap = g_variant_dict_lookup_value (&dict, "idmap", G_VARIANT_TYPE_VARDICT);

  if (idmap != NULL)
    {
      g_auto (GVariantDict) map = G_VARIANT_DICT_INIT (idmap);
      gint32 handle;

      if (g_variant_dict_lookup (&map, "userns", "h", &handle))
        {
          int fd = fd_of (fd_list, handle);

          g_variant_dict_remove (&map, "userns");
          g_variant_dict_insert (&map, "userns-inode", "t", fake_inode_of (fd));
          close (fd);
        }
      g_variant_dict_insert_value (&dict, "idmap", g_variant_dict_end (&map));
    }
  g_clear_pointer (&fake->last_options, g_variant_unref);
  fake->last_options = g_variant_ref_sink (g_variant_dict_end (&dict));
}

static GVariant *
mount_info (FakeService *fake,
            const char *kind,
            const char *mount_point,
            const char *sandbox_id,
            const char *container_id)
{
  GVariantDict d;

  g_variant_dict_init (&d, NULL);
  if (mount_point != NULL)
    g_variant_dict_insert (&d, "mount-point", "s", mount_point);
  g_variant_dict_insert (&d, "kind", "s", kind);
  g_variant_dict_insert (&d, "sandbox-id", "s", sandbox_id);
  g_variant_dict_insert (&d, "container-id", "s", container_id);
  g_variant_dict_insert (&d, "mount-id", "t", (guint64) 0x100000001 + fake->generation);
  g_variant_dict_insert (&d, "mount-id-unique", "b", TRUE);
  g_variant_dict_insert (&d, "source", "s", "/fake/source");
  g_variant_dict_insert (&d, "source-inode", "t", fake->last_source_inode);
  g_variant_dict_insert (&d, "caller-uid", "u", (guint32) getuid ());
  g_variant_dict_insert_value (&d, "options",
                               fake->last_options != NULL
                                 ? fake->last_options
                                 : g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0));
  return g_variant_dict_end (&d);
}

static void
note_source (FakeService *fake, GUnixFDList *fd_list, GVariant *source, GVariant *options)
{
  int fd = fd_of (fd_list, g_variant_get_handle (source));

  fake->last_source_inode = fake_inode_of (fd);
  close (fd);
  note_options (fake, fd_list, options);
}

/* The reply "(sa{sv})" of a mount made at @mount_point (its info with the
 * mount point when @info_has_mount_point: the library must do without),
 * then MountAdded, in the service's order. */
static void
reply_mounted (FakeService *fake,
               GDBusMethodInvocation *invocation,
               const char *kind,
               const char *mount_point,
               const char *sandbox_id,
               const char *container_id,
               gboolean info_has_mount_point)
{
  GVariant *info =
    mount_info (fake, kind, info_has_mount_point ? mount_point : NULL, sandbox_id, container_id);

  g_dbus_method_invocation_return_value (invocation, g_variant_new ("(s@a{sv})", mount_point, info));
  vcm_fake_mount_emit_mount_added (emitter (fake), fake->generation,
                                   mount_info (fake, kind, mount_point, sandbox_id, container_id));
}

static gboolean
handle_mount_rootfs_fd (VcmFakeMount *object,
                        GDBusMethodInvocation *invocation,
                        GUnixFDList *fd_list,
                        const char *sandbox_id,
                        const char *container_id,
                        GVariant *rootfs,
                        GVariant *options,
                        FakeService *fake)
{
  g_autofree char *mp = mount_point_of (sandbox_id, container_id);

  note_source (fake, fd_list, rootfs, options);
  /* as the service: the rootfs signal, the reply, then MountAdded */
  fake_service_mount (fake, sandbox_id, container_id, FALSE, TRUE);
  reply_mounted (fake, invocation, "rootfs", mp, sandbox_id, container_id, FALSE);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_bind_mount_fd (VcmFakeMount *object,
                      GDBusMethodInvocation *invocation,
                      GUnixFDList *fd_list,
                      GVariant *source,
                      const char *destination,
                      GVariant *options,
                      FakeService *fake)
{
  note_source (fake, fd_list, source, options);
  reply_mounted (fake, invocation, "bind", destination, "", "", TRUE);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* The "mount" it opens is the source itself. */
static gboolean
handle_open_mount (VcmFakeMount *object,
                   GDBusMethodInvocation *invocation,
                   GUnixFDList *fd_list,
                   GVariant *source,
                   GVariant *options,
                   FakeService *fake)
{
  g_autoptr (GUnixFDList) out = NULL;
  int fd = fd_of (fd_list, g_variant_get_handle (source));

  note_source (fake, fd_list, source, options);
  out = g_unix_fd_list_new_from_array (&fd, 1); /* takes it */
  vcm_fake_mount_complete_open_mount (object, invocation, out, g_variant_new_handle (0),
                                      mount_info (fake, "detached", NULL, "", ""));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_list_mounts (VcmFakeMount *object,
                    GDBusMethodInvocation *invocation,
                    GVariant *filter,
                    FakeService *fake)
{
  g_auto (GVariantDict) dict = G_VARIANT_DICT_INIT (filter);
  const char *sandbox_id = "";
  g_autoptr (GVariant) list = NULL;
  g_autoptr (GVariantIter) iter = NULL;
  const char *s, *c, *mp;
  gboolean ro;
  GVariantBuilder b;
  guint64 generation;

  g_variant_dict_lookup (&dict, "sandbox-id", "&s", &sandbox_id);
  list = fake_service_list (fake, sandbox_id);
  g_variant_get (list, "(ta(sssb))", &generation, &iter);
  g_variant_builder_init (&b, G_VARIANT_TYPE ("aa{sv}"));
  while (g_variant_iter_next (iter, "(&s&s&sb)", &s, &c, &mp, &ro))
    g_variant_builder_add_value (&b, mount_info (fake, "rootfs", mp, s, c));
  vcm_fake_mount_complete_list_mounts (object, invocation, generation, g_variant_builder_end (&b));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* The skeleton with a handler for every method; the ones a test does not
 * script answer as gdbus-codegen's skeleton does (UnknownMethod). */
static VcmFakeMount *
make_skeleton (FakeService *fake)
{
  static const struct {
    const char *signal;
    GCallback handler;
  } handlers[] = {
    { "g-authorize-method", G_CALLBACK (on_authorize_method) },
    { "handle-list-rootfs", G_CALLBACK (handle_list_rootfs) },
    { "handle-mount-rootfs", G_CALLBACK (handle_mount_rootfs) },
    { "handle-unmount-rootfs", G_CALLBACK (handle_unmount_rootfs) },
    { "handle-unmount", G_CALLBACK (handle_unmount) },
    { "handle-mount-rootfs-fd", G_CALLBACK (handle_mount_rootfs_fd) },
    { "handle-bind-mount-fd", G_CALLBACK (handle_bind_mount_fd) },
    { "handle-open-mount", G_CALLBACK (handle_open_mount) },
    { "handle-list-mounts", G_CALLBACK (handle_list_mounts) },
  };
  VcmFakeMount *skeleton = vcm_fake_mount_skeleton_new ();

  vcm_fake_mount_set_version (skeleton, "0.0-fake");
  vcm_fake_mount_set_shared_dir (skeleton, SHARED_DIR);
  vcm_fake_mount_set_default_shm_size (skeleton, 67108864);
  for (gsize i = 0; i < G_N_ELEMENTS (handlers); i++)
    g_signal_connect (skeleton, handlers[i].signal, handlers[i].handler, fake);
  return skeleton;
}

void
fake_service_start (FakeService *fake, gboolean replace)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GDBusConnection) old = NULL;
  guint32 result;

  if (replace)
    old = g_steal_pointer (&fake->conn);
  g_assert_null (fake->conn);
  fake->conn = fake_bus_connect (fake->address);
  fake->generation = 0;
  vcm_fake_mount_set_generation (fake->skeleton, 0);
  g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (fake->skeleton), fake->conn, OBJECT_PATH,
                                    &error);
  g_assert_no_error (error);
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
      g_dbus_connection_emit_signal (old, NULL, OBJECT_PATH, INTERFACE, "RootfsMounted",
                                     g_variant_new ("(tsssb)", (guint64) 1, "ghost", "ghost",
                                                    SHARED_DIR "/ghost/ghost/rootfs", FALSE),
                                     &error);
      g_assert_no_error (error);
      g_dbus_interface_skeleton_unexport_from_connection (G_DBUS_INTERFACE_SKELETON (fake->skeleton),
                                                          old);
      g_dbus_connection_close_sync (old, NULL, NULL);
    }
}

void
fake_service_stop (FakeService *fake)
{
  g_assert_nonnull (fake->conn);
  g_dbus_interface_skeleton_unexport_from_connection (G_DBUS_INTERFACE_SKELETON (fake->skeleton),
                                                      fake->conn);
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
  fake->skeleton = make_skeleton (fake);
  fake_service_start (fake, FALSE);
  return fake;
}

FakeService *
fake_service_new_on_private_bus (void)
{
  FakeBus *bus = fake_bus_new ();
  FakeService *fake = fake_service_new (bus->address);

  fake->bus = bus;
  return fake;
}

void
fake_service_free (FakeService *fake)
{
  if (fake->conn != NULL)
    fake_service_stop (fake);
  g_clear_object (&fake->skeleton);
  g_hash_table_unref (fake->mounts);
  g_ptr_array_unref (fake->held);
  g_free (fake->next_error);
  g_free (fake->last_method);
  g_clear_pointer (&fake->last_options, g_variant_unref);
  g_free (fake->address);
  if (fake->bus != NULL)
    fake_bus_free (fake->bus);
  g_free (fake);
}

gboolean
fake_user_namespace_available (void)
{
  g_autofree char *uid = NULL;
  g_autoptr (GError) error = NULL;

  if (!g_spawn_command_line_sync ("unshare --user --map-user=1000 --map-group=1000 id -u", &uid, NULL,
                                  NULL, &error))
    return FALSE;
  return g_strcmp0 (uid, "1000\n") == 0;
}
