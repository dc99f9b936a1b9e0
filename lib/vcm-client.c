/* vcm-client: VcmClient wraps the gdbus-codegen proxy of org.vc.Mount. Every
 * method is a call on the bus with the caller's flags, the client's timeout
 * and a GTask that holds the client; replies are decoded into plain C and
 * GObject values and errors mapped into VCM_CLIENT_ERROR. The method wrappers
 * below the core are regular, one triple (async, finish, sync) per method. */
#include "vcm-client-private.h"

/**
 * VcmClient:
 *
 * A client of the vc-mount service, `org.vc.Mount` on the system bus (or on
 * the bus given to vcm_client_new()).
 *
 * Every method of the service has three functions: an asynchronous one that
 * takes a #GAsyncReadyCallback, its `_finish()` and a blocking `_sync()` one.
 * Each takes #VcmCallFlags (whether polkit may ask the user) and a
 * #GCancellable. Errors the service returns are in the %VCM_CLIENT_ERROR
 * domain.
 *
 * A #VcmClient follows the service's owner on the bus
 * (#VcmClient:name-owner); to follow the rootfs mounts, make a #VcmRootfsSet
 * from it.
 */
struct _VcmClient {
  GObject parent_instance;
  GDBusConnection *connection;
  VcmDBusMount *proxy;
  int timeout_msec;
};

static void async_initable_iface_init (GAsyncInitableIface *iface);
static void initable_iface_init (GInitableIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (VcmClient,
                               vcm_client,
                               G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE, initable_iface_init)
                                 G_IMPLEMENT_INTERFACE (G_TYPE_ASYNC_INITABLE,
                                                        async_initable_iface_init))

enum {
  PROP_0,
  PROP_CONNECTION,
  PROP_NAME_OWNER,
  PROP_TIMEOUT_MSEC,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

static void
on_name_owner_notify (GObject *proxy, GParamSpec *pspec, gpointer user_data)
{
  VcmClient *self = user_data;

  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_NAME_OWNER]);
}

static void
set_proxy (VcmClient *self, VcmDBusMount *proxy)
{
  self->proxy = proxy;
  g_dbus_proxy_set_default_timeout (G_DBUS_PROXY (proxy), self->timeout_msec);
  g_signal_connect_object (proxy, "notify::g-name-owner", G_CALLBACK (on_name_owner_notify), self, 0);
}

static gboolean
initable_init (GInitable *initable, GCancellable *cancellable, GError **error)
{
  VcmClient *self = VCM_CLIENT (initable);
  VcmDBusMount *proxy;

  if (self->connection == NULL)
    {
      self->connection = g_bus_get_sync (G_BUS_TYPE_SYSTEM, cancellable, error);
      if (self->connection == NULL)
        return FALSE;
    }
  proxy = vcm_dbus_mount_proxy_new_sync (self->connection, G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES,
                                         VCM_BUS_NAME, VCM_OBJECT_PATH, cancellable, error);
  if (proxy == NULL)
    return FALSE;
  set_proxy (self, proxy);
  return TRUE;
}

static void
initable_iface_init (GInitableIface *iface)
{
  iface->init = initable_init;
}

static void
on_proxy_ready (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  VcmClient *self = g_task_get_source_object (task);
  GError *error = NULL;
  VcmDBusMount *proxy = vcm_dbus_mount_proxy_new_finish (res, &error);

  if (proxy == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  set_proxy (self, proxy);
  g_task_return_boolean (task, TRUE);
}

static void
make_proxy (GTask *task)
{
  VcmClient *self = g_task_get_source_object (task);

  vcm_dbus_mount_proxy_new (self->connection, G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES, VCM_BUS_NAME,
                            VCM_OBJECT_PATH, g_task_get_cancellable (task), on_proxy_ready, task);
}

static void
on_bus_ready (GObject *source, GAsyncResult *res, gpointer user_data)
{
  GTask *task = user_data;
  VcmClient *self = g_task_get_source_object (task);
  GError *error = NULL;

  self->connection = g_bus_get_finish (res, &error);
  if (self->connection == NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  make_proxy (task);
}

static void
async_initable_init_async (GAsyncInitable *initable,
                           int io_priority,
                           GCancellable *cancellable,
                           GAsyncReadyCallback callback,
                           gpointer user_data)
{
  VcmClient *self = VCM_CLIENT (initable);
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, async_initable_init_async);
  if (self->connection == NULL)
    g_bus_get (G_BUS_TYPE_SYSTEM, cancellable, on_bus_ready, task);
  else
    make_proxy (task);
}

static gboolean
async_initable_init_finish (GAsyncInitable *initable, GAsyncResult *res, GError **error)
{
  return g_task_propagate_boolean (G_TASK (res), error);
}

static void
async_initable_iface_init (GAsyncInitableIface *iface)
{
  iface->init_async = async_initable_init_async;
  iface->init_finish = async_initable_init_finish;
}

static void
vcm_client_dispose (GObject *object)
{
  VcmClient *self = VCM_CLIENT (object);

  g_clear_object (&self->proxy);
  g_clear_object (&self->connection);
  G_OBJECT_CLASS (vcm_client_parent_class)->dispose (object);
}

static void
vcm_client_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  VcmClient *self = VCM_CLIENT (object);

  switch (prop_id)
    {
    case PROP_CONNECTION:
      g_value_set_object (value, self->connection);
      break;
    case PROP_NAME_OWNER:
      g_value_take_string (value, vcm_client_dup_name_owner (self));
      break;
    case PROP_TIMEOUT_MSEC:
      g_value_set_int (value, self->timeout_msec);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
vcm_client_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  VcmClient *self = VCM_CLIENT (object);

  switch (prop_id)
    {
    case PROP_CONNECTION:
      self->connection = g_value_dup_object (value);
      break;
    case PROP_TIMEOUT_MSEC:
      vcm_client_set_timeout_msec (self, g_value_get_int (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
vcm_client_class_init (VcmClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  /* Registers the org.vc.Mount.Error names before the first call returns one. */
  (void) VCM_CLIENT_ERROR;

  object_class->dispose = vcm_client_dispose;
  object_class->get_property = vcm_client_get_property;
  object_class->set_property = vcm_client_set_property;

  /**
   * VcmClient:connection:
   *
   * The bus connection the service is reached on (the system bus unless
   * another was given).
   */
  props[PROP_CONNECTION] =
    g_param_spec_object ("connection", NULL, NULL, G_TYPE_DBUS_CONNECTION,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  /**
   * VcmClient:name-owner:
   *
   * The unique bus name of the process that owns `org.vc.Mount` now, or
   * %NULL when the service is not running. A new owner is a new instance of
   * the service.
   */
  props[PROP_NAME_OWNER] =
    g_param_spec_string ("name-owner", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  /**
   * VcmClient:timeout-msec:
   *
   * The timeout of every call in milliseconds; -1 for the D-Bus default
   * (25 s), %G_MAXINT for none.
   */
  props[PROP_TIMEOUT_MSEC] =
    g_param_spec_int ("timeout-msec", NULL, NULL, -1, G_MAXINT, -1,
                      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);
}

static void
vcm_client_init (VcmClient *self)
{
  self->timeout_msec = -1;
}

/**
 * vcm_client_new:
 * @connection: (nullable): a bus connection, or %NULL for the system bus
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the client is ready
 * @user_data: (closure): data for @callback
 *
 * Makes a client of the service on @connection, asynchronously. The service
 * need not be running.
 */
void
vcm_client_new (GDBusConnection *connection,
                GCancellable *cancellable,
                GAsyncReadyCallback callback,
                gpointer user_data)
{
  g_return_if_fail (connection == NULL || G_IS_DBUS_CONNECTION (connection));
  g_async_initable_new_async (VCM_TYPE_CLIENT, G_PRIORITY_DEFAULT, cancellable, callback, user_data,
                              "connection", connection, NULL);
}

/**
 * vcm_client_new_finish:
 * @result: the #GAsyncResult given to the callback
 * @error: return location for an error
 *
 * Finishes vcm_client_new().
 *
 * Returns: (transfer full): the client, or %NULL on error
 */
VcmClient *
vcm_client_new_finish (GAsyncResult *result, GError **error)
{
  g_autoptr (GObject) source = g_async_result_get_source_object (result);
  GObject *object = g_async_initable_new_finish (G_ASYNC_INITABLE (source), result, error);

  return object != NULL ? VCM_CLIENT (object) : NULL;
}

/**
 * vcm_client_new_sync:
 * @connection: (nullable): a bus connection, or %NULL for the system bus
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Makes a client of the service on @connection. The service need not be
 * running.
 *
 * Returns: (transfer full): the client, or %NULL on error
 */
VcmClient *
vcm_client_new_sync (GDBusConnection *connection, GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (connection == NULL || G_IS_DBUS_CONNECTION (connection), NULL);
  return g_initable_new (VCM_TYPE_CLIENT, cancellable, error, "connection", connection, NULL);
}

/**
 * vcm_client_get_connection:
 * @self: a #VcmClient
 *
 * Returns: (transfer none): the bus connection of the client
 */
GDBusConnection *
vcm_client_get_connection (VcmClient *self)
{
  g_return_val_if_fail (VCM_IS_CLIENT (self), NULL);
  return self->connection;
}

/**
 * vcm_client_dup_name_owner:
 * @self: a #VcmClient
 *
 * Returns: (transfer full) (nullable): the unique name of the service's
 *   process on the bus, or %NULL when it is not running
 */
char *
vcm_client_dup_name_owner (VcmClient *self)
{
  g_return_val_if_fail (VCM_IS_CLIENT (self), NULL);
  if (self->proxy == NULL)
    return NULL;
  return g_dbus_proxy_get_name_owner (G_DBUS_PROXY (self->proxy));
}

/**
 * vcm_client_get_timeout_msec:
 * @self: a #VcmClient
 *
 * Returns: the timeout of the client's calls in milliseconds (-1: the D-Bus default)
 */
int
vcm_client_get_timeout_msec (VcmClient *self)
{
  g_return_val_if_fail (VCM_IS_CLIENT (self), -1);
  return self->timeout_msec;
}

/**
 * vcm_client_set_timeout_msec:
 * @self: a #VcmClient
 * @timeout_msec: milliseconds, -1 for the D-Bus default, %G_MAXINT for none
 *
 * Sets the timeout of the client's calls.
 */
void
vcm_client_set_timeout_msec (VcmClient *self, int timeout_msec)
{
  g_return_if_fail (VCM_IS_CLIENT (self));
  g_return_if_fail (timeout_msec >= -1);
  if (self->timeout_msec == timeout_msec)
    return;
  self->timeout_msec = timeout_msec;
  if (self->proxy != NULL)
    g_dbus_proxy_set_default_timeout (G_DBUS_PROXY (self->proxy), timeout_msec);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_TIMEOUT_MSEC]);
}

VcmDBusMount *
_vcm_client_get_proxy (VcmClient *self)
{
  return self->proxy;
}

static GDBusCallFlags
dbus_call_flags (VcmCallFlags flags)
{
  GDBusCallFlags f = G_DBUS_CALL_FLAGS_NONE;

  if (flags & VCM_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION)
    f |= G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION;
  return f;
}

static void
on_call_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;
  GVariant *reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), res, &error);

  if (reply == NULL)
    {
      _vcm_client_error_fixup (error);
      g_task_return_error (task, error);
      return;
    }
  g_task_return_pointer (task, reply, (GDestroyNotify) g_variant_unref);
}

void
_vcm_client_call (VcmClient *self,
                  const char *interface,
                  const char *method,
                  GVariant *parameters,
                  const char *reply_type,
                  VcmCallFlags flags,
                  GCancellable *cancellable,
                  GAsyncReadyCallback callback,
                  gpointer user_data,
                  gpointer source_tag)
{
  /* The task holds the client until the call is done. */
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, source_tag);
  g_dbus_connection_call (self->connection, VCM_BUS_NAME, VCM_OBJECT_PATH, interface, method, parameters,
                          G_VARIANT_TYPE (reply_type), dbus_call_flags (flags), self->timeout_msec,
                          cancellable, on_call_done, task);
}

GVariant *
_vcm_client_call_finish (VcmClient *self, GAsyncResult *result, gpointer source_tag, GError **error)
{
  g_return_val_if_fail (VCM_IS_CLIENT (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

GVariant *
_vcm_client_call_sync (VcmClient *self,
                       const char *interface,
                       const char *method,
                       GVariant *parameters,
                       const char *reply_type,
                       VcmCallFlags flags,
                       GCancellable *cancellable,
                       GError **error)
{
  g_autoptr (GError) local_error = NULL;
  GVariant *reply;

  reply = g_dbus_connection_call_sync (
    self->connection, VCM_BUS_NAME, VCM_OBJECT_PATH, interface, method, parameters,
    G_VARIANT_TYPE (reply_type), dbus_call_flags (flags), self->timeout_msec, cancellable, &local_error);
  if (reply == NULL)
    {
      _vcm_client_error_fixup (local_error);
      g_propagate_error (error, g_steal_pointer (&local_error));
    }
  return reply;
}

static int
compare_rootfs_ptr (gconstpointer a, gconstpointer b)
{
  VcmRootfs *ra = *(VcmRootfs *const *) a;
  VcmRootfs *rb = *(VcmRootfs *const *) b;

  return _vcm_rootfs_compare_key (ra, vcm_rootfs_get_sandbox_id (rb), vcm_rootfs_get_container_id (rb));
}

GPtrArray *
_vcm_rootfs_array_from_variant (GVariant *reply, guint64 *out_generation)
{
  g_autoptr (GVariantIter) iter = NULL;
  GPtrArray *items = g_ptr_array_new_with_free_func (g_object_unref);
  const char *sandbox_id, *container_id, *mount_point;
  gboolean read_only;
  guint64 generation;
  guint kept = 0;

  g_variant_get (reply, "(ta(sssb))", &generation, &iter);
  while (g_variant_iter_next (iter, "(&s&s&sb)", &sandbox_id, &container_id, &mount_point, &read_only))
    g_ptr_array_add (items, vcm_rootfs_new (sandbox_id, container_id, mount_point, read_only));
  g_ptr_array_sort (items, compare_rootfs_ptr);
  for (guint i = 0; i < items->len; i++)
    {
      VcmRootfs *r = items->pdata[i];

      if (kept > 0 &&
          _vcm_rootfs_compare_key (items->pdata[kept - 1], vcm_rootfs_get_sandbox_id (r),
                                   vcm_rootfs_get_container_id (r)) == 0)
        {
          g_object_unref (r);
          continue;
        }
      items->pdata[kept++] = r;
    }
  g_ptr_array_set_free_func (items, NULL);
  g_ptr_array_set_size (items, kept);
  g_ptr_array_set_free_func (items, g_object_unref);
  if (out_generation != NULL)
    *out_generation = generation;
  return items;
}

/* -- the methods ----------------------------------------------------------- */

/**
 * vcm_client_mount_rootfs:
 * @self: a #VcmClient
 * @sandbox_id: the sandbox ID
 * @container_id: the container ID
 * @rootfs: absolute path of the root filesystem on the host
 * @read_only: whether the mount is read-only (never writable, not even for a moment)
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the call is done
 * @user_data: (closure): data for @callback
 *
 * Bind-mounts @rootfs at `SHARED_DIR/@sandbox_id/@container_id/rootfs`.
 *
 * Asynchronous: @callback is called in the thread-default main context of the
 * caller; call vcm_client_mount_rootfs_finish() there.
 */
void
vcm_client_mount_rootfs (VcmClient *self,
                         const char *sandbox_id,
                         const char *container_id,
                         const char *rootfs,
                         gboolean read_only,
                         VcmCallFlags flags,
                         GCancellable *cancellable,
                         GAsyncReadyCallback callback,
                         gpointer user_data)
{
  g_return_if_fail (VCM_IS_CLIENT (self));
  g_return_if_fail (sandbox_id != NULL);
  g_return_if_fail (container_id != NULL);
  g_return_if_fail (rootfs != NULL);
  _vcm_client_call (self, VCM_INTERFACE, "MountRootfs",
                    g_variant_new ("(sssb)", sandbox_id, container_id, rootfs, read_only), "(s)", flags,
                    cancellable, callback, user_data, vcm_client_mount_rootfs);
}

static char *
decode_mount_rootfs (GVariant *reply)
{
  char *value = NULL;

  g_variant_get (reply, "(s)", &value);
  return value;
}

/**
 * vcm_client_mount_rootfs_finish:
 * @self: a #VcmClient
 * @result: the #GAsyncResult given to the callback
 * @error: return location for an error
 *
 * Finishes vcm_client_mount_rootfs().
 *
 * Returns: (transfer full): the mount point, or %NULL on error
 */
char *
vcm_client_mount_rootfs_finish (VcmClient *self, GAsyncResult *result, GError **error)
{
  g_autoptr (GVariant) reply = NULL;

  reply = _vcm_client_call_finish (self, result, vcm_client_mount_rootfs, error);
  if (reply == NULL)
    return NULL;
  return decode_mount_rootfs (reply);
}

/**
 * vcm_client_mount_rootfs_sync:
 * @self: a #VcmClient
 * @sandbox_id: the sandbox ID
 * @container_id: the container ID
 * @rootfs: absolute path of the root filesystem on the host
 * @read_only: whether the mount is read-only (never writable, not even for a moment)
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Bind-mounts @rootfs at `SHARED_DIR/@sandbox_id/@container_id/rootfs`.
 *
 * Synchronous: blocks the calling thread until the service answers.
 *
 * Returns: (transfer full): the mount point, or %NULL on error
 */
char *
vcm_client_mount_rootfs_sync (VcmClient *self,
                              const char *sandbox_id,
                              const char *container_id,
                              const char *rootfs,
                              gboolean read_only,
                              VcmCallFlags flags,
                              GCancellable *cancellable,
                              GError **error)
{
  g_autoptr (GVariant) reply = NULL;

  g_return_val_if_fail (VCM_IS_CLIENT (self), NULL);
  g_return_val_if_fail (sandbox_id != NULL, NULL);
  g_return_val_if_fail (container_id != NULL, NULL);
  g_return_val_if_fail (rootfs != NULL, NULL);
  reply = _vcm_client_call_sync (self, VCM_INTERFACE, "MountRootfs",
                                 g_variant_new ("(sssb)", sandbox_id, container_id, rootfs, read_only),
                                 "(s)", flags, cancellable, error);
  if (reply == NULL)
    return NULL;
  return decode_mount_rootfs (reply);
}

/**
 * vcm_client_unmount_rootfs:
 * @self: a #VcmClient
 * @sandbox_id: the sandbox ID
 * @container_id: the container ID
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the call is done
 * @user_data: (closure): data for @callback
 *
 * Lazily unmounts the container's rootfs and everything mounted below it.
 *
 * Asynchronous: @callback is called in the thread-default main context of the
 * caller; call vcm_client_unmount_rootfs_finish() there.
 */
void
vcm_client_unmount_rootfs (VcmClient *self,
                           const char *sandbox_id,
                           const char *container_id,
                           VcmCallFlags flags,
                           GCancellable *cancellable,
                           GAsyncReadyCallback callback,
                           gpointer user_data)
{
  g_return_if_fail (VCM_IS_CLIENT (self));
  g_return_if_fail (sandbox_id != NULL);
  g_return_if_fail (container_id != NULL);
  _vcm_client_call (self, VCM_INTERFACE, "UnmountRootfs",
                    g_variant_new ("(ss)", sandbox_id, container_id), "(as)", flags, cancellable,
                    callback, user_data, vcm_client_unmount_rootfs);
}

static char **
decode_unmount_rootfs (GVariant *reply)
{
  char **value = NULL;

  g_variant_get (reply, "(^as)", &value);
  return value;
}

/**
 * vcm_client_unmount_rootfs_finish:
 * @self: a #VcmClient
 * @result: the #GAsyncResult given to the callback
 * @error: return location for an error
 *
 * Finishes vcm_client_unmount_rootfs().
 *
 * Returns: (transfer full) (array zero-terminated=1): the mount points detached, the rootfs first, or %NULL on error
 */
char **
vcm_client_unmount_rootfs_finish (VcmClient *self, GAsyncResult *result, GError **error)
{
  g_autoptr (GVariant) reply = NULL;

  reply = _vcm_client_call_finish (self, result, vcm_client_unmount_rootfs, error);
  if (reply == NULL)
    return NULL;
  return decode_unmount_rootfs (reply);
}

/**
 * vcm_client_unmount_rootfs_sync:
 * @self: a #VcmClient
 * @sandbox_id: the sandbox ID
 * @container_id: the container ID
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Lazily unmounts the container's rootfs and everything mounted below it.
 *
 * Synchronous: blocks the calling thread until the service answers.
 *
 * Returns: (transfer full) (array zero-terminated=1): the mount points detached, the rootfs first, or %NULL on error
 */
char **
vcm_client_unmount_rootfs_sync (VcmClient *self,
                                const char *sandbox_id,
                                const char *container_id,
                                VcmCallFlags flags,
                                GCancellable *cancellable,
                                GError **error)
{
  g_autoptr (GVariant) reply = NULL;

  g_return_val_if_fail (VCM_IS_CLIENT (self), NULL);
  g_return_val_if_fail (sandbox_id != NULL, NULL);
  g_return_val_if_fail (container_id != NULL, NULL);
  reply = _vcm_client_call_sync (self, VCM_INTERFACE, "UnmountRootfs",
                                 g_variant_new ("(ss)", sandbox_id, container_id), "(as)", flags,
                                 cancellable, error);
  if (reply == NULL)
    return NULL;
  return decode_unmount_rootfs (reply);
}

/**
 * vcm_client_unmount_sandbox:
 * @self: a #VcmClient
 * @sandbox_id: the sandbox ID
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the call is done
 * @user_data: (closure): data for @callback
 *
 * Unmounts the rootfs of every container of @sandbox_id.
 *
 * Asynchronous: @callback is called in the thread-default main context of the
 * caller; call vcm_client_unmount_sandbox_finish() there.
 */
void
vcm_client_unmount_sandbox (VcmClient *self,
                            const char *sandbox_id,
                            VcmCallFlags flags,
                            GCancellable *cancellable,
                            GAsyncReadyCallback callback,
                            gpointer user_data)
{
  g_return_if_fail (VCM_IS_CLIENT (self));
  g_return_if_fail (sandbox_id != NULL);
  _vcm_client_call (self, VCM_INTERFACE, "UnmountSandbox", g_variant_new ("(s)", sandbox_id), "(as)",
                    flags, cancellable, callback, user_data, vcm_client_unmount_sandbox);
}

static char **
decode_unmount_sandbox (GVariant *reply)
{
  char **value = NULL;

  g_variant_get (reply, "(^as)", &value);
  return value;
}

/**
 * vcm_client_unmount_sandbox_finish:
 * @self: a #VcmClient
 * @result: the #GAsyncResult given to the callback
 * @error: return location for an error
 *
 * Finishes vcm_client_unmount_sandbox().
 *
 * Returns: (transfer full) (array zero-terminated=1): the container IDs whose rootfs was unmounted, or %NULL on error
 */
char **
vcm_client_unmount_sandbox_finish (VcmClient *self, GAsyncResult *result, GError **error)
{
  g_autoptr (GVariant) reply = NULL;

  reply = _vcm_client_call_finish (self, result, vcm_client_unmount_sandbox, error);
  if (reply == NULL)
    return NULL;
  return decode_unmount_sandbox (reply);
}

/**
 * vcm_client_unmount_sandbox_sync:
 * @self: a #VcmClient
 * @sandbox_id: the sandbox ID
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Unmounts the rootfs of every container of @sandbox_id.
 *
 * Synchronous: blocks the calling thread until the service answers.
 *
 * Returns: (transfer full) (array zero-terminated=1): the container IDs whose rootfs was unmounted, or %NULL on error
 */
char **
vcm_client_unmount_sandbox_sync (
  VcmClient *self, const char *sandbox_id, VcmCallFlags flags, GCancellable *cancellable, GError **error)
{
  g_autoptr (GVariant) reply = NULL;

  g_return_val_if_fail (VCM_IS_CLIENT (self), NULL);
  g_return_val_if_fail (sandbox_id != NULL, NULL);
  reply = _vcm_client_call_sync (self, VCM_INTERFACE, "UnmountSandbox",
                                 g_variant_new ("(s)", sandbox_id), "(as)", flags, cancellable, error);
  if (reply == NULL)
    return NULL;
  return decode_unmount_sandbox (reply);
}

/**
 * vcm_client_list_rootfs:
 * @self: a #VcmClient
 * @sandbox_id: (nullable): the sandbox ID, or %NULL for every sandbox
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the call is done
 * @user_data: (closure): data for @callback
 *
 * Lists the rootfs mounts as the kernel's mount table holds them. To follow them, use a #VcmRootfsSet.
 *
 * Asynchronous: @callback is called in the thread-default main context of the
 * caller; call vcm_client_list_rootfs_finish() there.
 */
void
vcm_client_list_rootfs (VcmClient *self,
                        const char *sandbox_id,
                        VcmCallFlags flags,
                        GCancellable *cancellable,
                        GAsyncReadyCallback callback,
                        gpointer user_data)
{
  g_return_if_fail (VCM_IS_CLIENT (self));
  _vcm_client_call (self, VCM_INTERFACE, "ListRootfs",
                    g_variant_new ("(s)", sandbox_id != NULL ? sandbox_id : ""), "(ta(sssb))", flags,
                    cancellable, callback, user_data, vcm_client_list_rootfs);
}

static GPtrArray *
decode_list_rootfs (GVariant *reply, guint64 *out_generation)
{
  return _vcm_rootfs_array_from_variant (reply, out_generation);
}

/**
 * vcm_client_list_rootfs_finish:
 * @self: a #VcmClient
 * @result: the #GAsyncResult given to the callback
 * @out_generation: (out) (optional): the generation the answer is valid for
 * @error: return location for an error
 *
 * Finishes vcm_client_list_rootfs().
 *
 * Returns: (transfer container) (element-type VcmRootfs): the rootfs mounts, or %NULL on error
 */
GPtrArray *
vcm_client_list_rootfs_finish (VcmClient *self,
                               GAsyncResult *result,
                               guint64 *out_generation,
                               GError **error)
{
  g_autoptr (GVariant) reply = NULL;

  reply = _vcm_client_call_finish (self, result, vcm_client_list_rootfs, error);
  if (reply == NULL)
    return NULL;
  return decode_list_rootfs (reply, out_generation);
}

/**
 * vcm_client_list_rootfs_sync:
 * @self: a #VcmClient
 * @sandbox_id: (nullable): the sandbox ID, or %NULL for every sandbox
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @out_generation: (out) (optional): the generation the answer is valid for
 * @error: return location for an error
 *
 * Lists the rootfs mounts as the kernel's mount table holds them. To follow them, use a #VcmRootfsSet.
 *
 * Synchronous: blocks the calling thread until the service answers.
 *
 * Returns: (transfer container) (element-type VcmRootfs): the rootfs mounts, or %NULL on error
 */
GPtrArray *
vcm_client_list_rootfs_sync (VcmClient *self,
                             const char *sandbox_id,
                             VcmCallFlags flags,
                             GCancellable *cancellable,
                             guint64 *out_generation,
                             GError **error)
{
  g_autoptr (GVariant) reply = NULL;

  g_return_val_if_fail (VCM_IS_CLIENT (self), NULL);
  reply = _vcm_client_call_sync (self, VCM_INTERFACE, "ListRootfs",
                                 g_variant_new ("(s)", sandbox_id != NULL ? sandbox_id : ""),
                                 "(ta(sssb))", flags, cancellable, error);
  if (reply == NULL)
    return NULL;
  return decode_list_rootfs (reply, out_generation);
}

/**
 * vcm_client_bind_mount:
 * @self: a #VcmClient
 * @source: absolute path of an existing file or directory
 * @destination: absolute path beneath the shared directory
 * @read_only: whether the mount is read-only
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the call is done
 * @user_data: (closure): data for @callback
 *
 * Bind-mounts @source at @destination, beneath the service's shared directory.
 *
 * Asynchronous: @callback is called in the thread-default main context of the
 * caller; call vcm_client_bind_mount_finish() there.
 */
void
vcm_client_bind_mount (VcmClient *self,
                       const char *source,
                       const char *destination,
                       gboolean read_only,
                       VcmCallFlags flags,
                       GCancellable *cancellable,
                       GAsyncReadyCallback callback,
                       gpointer user_data)
{
  g_return_if_fail (VCM_IS_CLIENT (self));
  g_return_if_fail (source != NULL);
  g_return_if_fail (destination != NULL);
  _vcm_client_call (self, VCM_INTERFACE, "BindMount",
                    g_variant_new ("(ssb)", source, destination, read_only), "(s)", flags, cancellable,
                    callback, user_data, vcm_client_bind_mount);
}

static char *
decode_bind_mount (GVariant *reply)
{
  char *value = NULL;

  g_variant_get (reply, "(s)", &value);
  return value;
}

/**
 * vcm_client_bind_mount_finish:
 * @self: a #VcmClient
 * @result: the #GAsyncResult given to the callback
 * @error: return location for an error
 *
 * Finishes vcm_client_bind_mount().
 *
 * Returns: (transfer full): the mount point, or %NULL on error
 */
char *
vcm_client_bind_mount_finish (VcmClient *self, GAsyncResult *result, GError **error)
{
  g_autoptr (GVariant) reply = NULL;

  reply = _vcm_client_call_finish (self, result, vcm_client_bind_mount, error);
  if (reply == NULL)
    return NULL;
  return decode_bind_mount (reply);
}

/**
 * vcm_client_bind_mount_sync:
 * @self: a #VcmClient
 * @source: absolute path of an existing file or directory
 * @destination: absolute path beneath the shared directory
 * @read_only: whether the mount is read-only
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Bind-mounts @source at @destination, beneath the service's shared directory.
 *
 * Synchronous: blocks the calling thread until the service answers.
 *
 * Returns: (transfer full): the mount point, or %NULL on error
 */
char *
vcm_client_bind_mount_sync (VcmClient *self,
                            const char *source,
                            const char *destination,
                            gboolean read_only,
                            VcmCallFlags flags,
                            GCancellable *cancellable,
                            GError **error)
{
  g_autoptr (GVariant) reply = NULL;

  g_return_val_if_fail (VCM_IS_CLIENT (self), NULL);
  g_return_val_if_fail (source != NULL, NULL);
  g_return_val_if_fail (destination != NULL, NULL);
  reply = _vcm_client_call_sync (self, VCM_INTERFACE, "BindMount",
                                 g_variant_new ("(ssb)", source, destination, read_only), "(s)", flags,
                                 cancellable, error);
  if (reply == NULL)
    return NULL;
  return decode_bind_mount (reply);
}

/**
 * vcm_client_unmount:
 * @self: a #VcmClient
 * @mount_point: absolute path of a mount beneath the shared directory
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the call is done
 * @user_data: (closure): data for @callback
 *
 * Lazily unmounts the mount at @mount_point and everything below it.
 *
 * Asynchronous: @callback is called in the thread-default main context of the
 * caller; call vcm_client_unmount_finish() there.
 */
void
vcm_client_unmount (VcmClient *self,
                    const char *mount_point,
                    VcmCallFlags flags,
                    GCancellable *cancellable,
                    GAsyncReadyCallback callback,
                    gpointer user_data)
{
  g_return_if_fail (VCM_IS_CLIENT (self));
  g_return_if_fail (mount_point != NULL);
  _vcm_client_call (self, VCM_INTERFACE, "Unmount", g_variant_new ("(s)", mount_point), "(as)", flags,
                    cancellable, callback, user_data, vcm_client_unmount);
}

static char **
decode_unmount (GVariant *reply)
{
  char **value = NULL;

  g_variant_get (reply, "(^as)", &value);
  return value;
}

/**
 * vcm_client_unmount_finish:
 * @self: a #VcmClient
 * @result: the #GAsyncResult given to the callback
 * @error: return location for an error
 *
 * Finishes vcm_client_unmount().
 *
 * Returns: (transfer full) (array zero-terminated=1): the mount points detached, @mount_point first, or %NULL on error
 */
char **
vcm_client_unmount_finish (VcmClient *self, GAsyncResult *result, GError **error)
{
  g_autoptr (GVariant) reply = NULL;

  reply = _vcm_client_call_finish (self, result, vcm_client_unmount, error);
  if (reply == NULL)
    return NULL;
  return decode_unmount (reply);
}

/**
 * vcm_client_unmount_sync:
 * @self: a #VcmClient
 * @mount_point: absolute path of a mount beneath the shared directory
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Lazily unmounts the mount at @mount_point and everything below it.
 *
 * Synchronous: blocks the calling thread until the service answers.
 *
 * Returns: (transfer full) (array zero-terminated=1): the mount points detached, @mount_point first, or %NULL on error
 */
char **
vcm_client_unmount_sync (VcmClient *self,
                         const char *mount_point,
                         VcmCallFlags flags,
                         GCancellable *cancellable,
                         GError **error)
{
  g_autoptr (GVariant) reply = NULL;

  g_return_val_if_fail (VCM_IS_CLIENT (self), NULL);
  g_return_val_if_fail (mount_point != NULL, NULL);
  reply = _vcm_client_call_sync (self, VCM_INTERFACE, "Unmount", g_variant_new ("(s)", mount_point),
                                 "(as)", flags, cancellable, error);
  if (reply == NULL)
    return NULL;
  return decode_unmount (reply);
}

/**
 * vcm_client_get_device_for_path:
 * @self: a #VcmClient
 * @path: an absolute path
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the call is done
 * @user_data: (closure): data for @callback
 *
 * Asks which device holds @path and on which mount point.
 *
 * Asynchronous: @callback is called in the thread-default main context of the
 * caller; call vcm_client_get_device_for_path_finish() there.
 */
void
vcm_client_get_device_for_path (VcmClient *self,
                                const char *path,
                                VcmCallFlags flags,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data)
{
  g_return_if_fail (VCM_IS_CLIENT (self));
  g_return_if_fail (path != NULL);
  _vcm_client_call (self, VCM_INTERFACE, "GetDeviceForPath", g_variant_new ("(s)", path), "(uus)", flags,
                    cancellable, callback, user_data, vcm_client_get_device_for_path);
}

static VcmDeviceInfo *
decode_get_device_for_path (GVariant *reply)
{
  return _vcm_device_info_new_from_variant (reply);
}

/**
 * vcm_client_get_device_for_path_finish:
 * @self: a #VcmClient
 * @result: the #GAsyncResult given to the callback
 * @error: return location for an error
 *
 * Finishes vcm_client_get_device_for_path().
 *
 * Returns: (transfer full): the device and mount point, or %NULL on error
 */
VcmDeviceInfo *
vcm_client_get_device_for_path_finish (VcmClient *self, GAsyncResult *result, GError **error)
{
  g_autoptr (GVariant) reply = NULL;

  reply = _vcm_client_call_finish (self, result, vcm_client_get_device_for_path, error);
  if (reply == NULL)
    return NULL;
  return decode_get_device_for_path (reply);
}

/**
 * vcm_client_get_device_for_path_sync:
 * @self: a #VcmClient
 * @path: an absolute path
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Asks which device holds @path and on which mount point.
 *
 * Synchronous: blocks the calling thread until the service answers.
 *
 * Returns: (transfer full): the device and mount point, or %NULL on error
 */
VcmDeviceInfo *
vcm_client_get_device_for_path_sync (
  VcmClient *self, const char *path, VcmCallFlags flags, GCancellable *cancellable, GError **error)
{
  g_autoptr (GVariant) reply = NULL;

  g_return_val_if_fail (VCM_IS_CLIENT (self), NULL);
  g_return_val_if_fail (path != NULL, NULL);
  reply = _vcm_client_call_sync (self, VCM_INTERFACE, "GetDeviceForPath", g_variant_new ("(s)", path),
                                 "(uus)", flags, cancellable, error);
  if (reply == NULL)
    return NULL;
  return decode_get_device_for_path (reply);
}

/**
 * vcm_client_get_device_path_and_fs_type:
 * @self: a #VcmClient
 * @mount_point: the mount point of a mount
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the call is done
 * @user_data: (closure): data for @callback
 *
 * Asks for the source device and filesystem type of the mount at @mount_point.
 *
 * Asynchronous: @callback is called in the thread-default main context of the
 * caller; call vcm_client_get_device_path_and_fs_type_finish() there.
 */
void
vcm_client_get_device_path_and_fs_type (VcmClient *self,
                                        const char *mount_point,
                                        VcmCallFlags flags,
                                        GCancellable *cancellable,
                                        GAsyncReadyCallback callback,
                                        gpointer user_data)
{
  g_return_if_fail (VCM_IS_CLIENT (self));
  g_return_if_fail (mount_point != NULL);
  _vcm_client_call (self, VCM_INTERFACE, "GetDevicePathAndFsType", g_variant_new ("(s)", mount_point),
                    "(ss)", flags, cancellable, callback, user_data,
                    vcm_client_get_device_path_and_fs_type);
}

static VcmFsInfo *
decode_get_device_path_and_fs_type (GVariant *reply)
{
  return _vcm_fs_info_new_from_variant (reply);
}

/**
 * vcm_client_get_device_path_and_fs_type_finish:
 * @self: a #VcmClient
 * @result: the #GAsyncResult given to the callback
 * @error: return location for an error
 *
 * Finishes vcm_client_get_device_path_and_fs_type().
 *
 * Returns: (transfer full): the device and filesystem type, or %NULL on error
 */
VcmFsInfo *
vcm_client_get_device_path_and_fs_type_finish (VcmClient *self, GAsyncResult *result, GError **error)
{
  g_autoptr (GVariant) reply = NULL;

  reply = _vcm_client_call_finish (self, result, vcm_client_get_device_path_and_fs_type, error);
  if (reply == NULL)
    return NULL;
  return decode_get_device_path_and_fs_type (reply);
}

/**
 * vcm_client_get_device_path_and_fs_type_sync:
 * @self: a #VcmClient
 * @mount_point: the mount point of a mount
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Asks for the source device and filesystem type of the mount at @mount_point.
 *
 * Synchronous: blocks the calling thread until the service answers.
 *
 * Returns: (transfer full): the device and filesystem type, or %NULL on error
 */
VcmFsInfo *
vcm_client_get_device_path_and_fs_type_sync (VcmClient *self,
                                             const char *mount_point,
                                             VcmCallFlags flags,
                                             GCancellable *cancellable,
                                             GError **error)
{
  g_autoptr (GVariant) reply = NULL;

  g_return_val_if_fail (VCM_IS_CLIENT (self), NULL);
  g_return_val_if_fail (mount_point != NULL, NULL);
  reply = _vcm_client_call_sync (self, VCM_INTERFACE, "GetDevicePathAndFsType",
                                 g_variant_new ("(s)", mount_point), "(ss)", flags, cancellable, error);
  if (reply == NULL)
    return NULL;
  return decode_get_device_path_and_fs_type (reply);
}

/**
 * vcm_client_is_device_mapper:
 * @self: a #VcmClient
 * @major: the major number of a block device
 * @minor: its minor number
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the call is done
 * @user_data: (closure): data for @callback
 *
 * Asks whether the block device @major:@minor is a device-mapper device.
 *
 * Asynchronous: @callback is called in the thread-default main context of the
 * caller; call vcm_client_is_device_mapper_finish() there.
 */
void
vcm_client_is_device_mapper (VcmClient *self,
                             guint major,
                             guint minor,
                             VcmCallFlags flags,
                             GCancellable *cancellable,
                             GAsyncReadyCallback callback,
                             gpointer user_data)
{
  g_return_if_fail (VCM_IS_CLIENT (self));
  _vcm_client_call (self, VCM_INTERFACE, "IsDeviceMapper", g_variant_new ("(uu)", major, minor), "(b)",
                    flags, cancellable, callback, user_data, vcm_client_is_device_mapper);
}

static gboolean
decode_is_device_mapper (GVariant *reply, gboolean *out_result)
{
  g_variant_get (reply, "(b)", out_result);
  return TRUE;
}

/**
 * vcm_client_is_device_mapper_finish:
 * @self: a #VcmClient
 * @result: the #GAsyncResult given to the callback
 * @out_result: (out): whether it is
 * @error: return location for an error
 *
 * Finishes vcm_client_is_device_mapper().
 *
 * Returns: %TRUE on success, %FALSE on error
 */
gboolean
vcm_client_is_device_mapper_finish (VcmClient *self,
                                    GAsyncResult *result,
                                    gboolean *out_result,
                                    GError **error)
{
  g_autoptr (GVariant) reply = NULL;

  reply = _vcm_client_call_finish (self, result, vcm_client_is_device_mapper, error);
  if (reply == NULL)
    return FALSE;
  return decode_is_device_mapper (reply, out_result);
}

/**
 * vcm_client_is_device_mapper_sync:
 * @self: a #VcmClient
 * @major: the major number of a block device
 * @minor: its minor number
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @out_result: (out): whether it is
 * @error: return location for an error
 *
 * Asks whether the block device @major:@minor is a device-mapper device.
 *
 * Synchronous: blocks the calling thread until the service answers.
 *
 * Returns: %TRUE on success, %FALSE on error
 */
gboolean
vcm_client_is_device_mapper_sync (VcmClient *self,
                                  guint major,
                                  guint minor,
                                  VcmCallFlags flags,
                                  GCancellable *cancellable,
                                  gboolean *out_result,
                                  GError **error)
{
  g_autoptr (GVariant) reply = NULL;

  g_return_val_if_fail (VCM_IS_CLIENT (self), FALSE);
  reply = _vcm_client_call_sync (self, VCM_INTERFACE, "IsDeviceMapper",
                                 g_variant_new ("(uu)", major, minor), "(b)", flags, cancellable, error);
  if (reply == NULL)
    return FALSE;
  return decode_is_device_mapper (reply, out_result);
}

/**
 * vcm_client_is_system_mount:
 * @self: a #VcmClient
 * @path: an absolute path
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the call is done
 * @user_data: (closure): data for @callback
 *
 * Asks whether @path is `/proc`, `/sys` or below them.
 *
 * Asynchronous: @callback is called in the thread-default main context of the
 * caller; call vcm_client_is_system_mount_finish() there.
 */
void
vcm_client_is_system_mount (VcmClient *self,
                            const char *path,
                            VcmCallFlags flags,
                            GCancellable *cancellable,
                            GAsyncReadyCallback callback,
                            gpointer user_data)
{
  g_return_if_fail (VCM_IS_CLIENT (self));
  g_return_if_fail (path != NULL);
  _vcm_client_call (self, VCM_INTERFACE, "IsSystemMount", g_variant_new ("(s)", path), "(b)", flags,
                    cancellable, callback, user_data, vcm_client_is_system_mount);
}

static gboolean
decode_is_system_mount (GVariant *reply, gboolean *out_result)
{
  g_variant_get (reply, "(b)", out_result);
  return TRUE;
}

/**
 * vcm_client_is_system_mount_finish:
 * @self: a #VcmClient
 * @result: the #GAsyncResult given to the callback
 * @out_result: (out): whether it is
 * @error: return location for an error
 *
 * Finishes vcm_client_is_system_mount().
 *
 * Returns: %TRUE on success, %FALSE on error
 */
gboolean
vcm_client_is_system_mount_finish (VcmClient *self,
                                   GAsyncResult *result,
                                   gboolean *out_result,
                                   GError **error)
{
  g_autoptr (GVariant) reply = NULL;

  reply = _vcm_client_call_finish (self, result, vcm_client_is_system_mount, error);
  if (reply == NULL)
    return FALSE;
  return decode_is_system_mount (reply, out_result);
}

/**
 * vcm_client_is_system_mount_sync:
 * @self: a #VcmClient
 * @path: an absolute path
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @out_result: (out): whether it is
 * @error: return location for an error
 *
 * Asks whether @path is `/proc`, `/sys` or below them.
 *
 * Synchronous: blocks the calling thread until the service answers.
 *
 * Returns: %TRUE on success, %FALSE on error
 */
gboolean
vcm_client_is_system_mount_sync (VcmClient *self,
                                 const char *path,
                                 VcmCallFlags flags,
                                 GCancellable *cancellable,
                                 gboolean *out_result,
                                 GError **error)
{
  g_autoptr (GVariant) reply = NULL;

  g_return_val_if_fail (VCM_IS_CLIENT (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  reply = _vcm_client_call_sync (self, VCM_INTERFACE, "IsSystemMount", g_variant_new ("(s)", path),
                                 "(b)", flags, cancellable, error);
  if (reply == NULL)
    return FALSE;
  return decode_is_system_mount (reply, out_result);
}

/**
 * vcm_client_is_host_device:
 * @self: a #VcmClient
 * @path: an absolute path
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the call is done
 * @user_data: (closure): data for @callback
 *
 * Asks whether @path is `/dev`, or below it and not a regular file.
 *
 * Asynchronous: @callback is called in the thread-default main context of the
 * caller; call vcm_client_is_host_device_finish() there.
 */
void
vcm_client_is_host_device (VcmClient *self,
                           const char *path,
                           VcmCallFlags flags,
                           GCancellable *cancellable,
                           GAsyncReadyCallback callback,
                           gpointer user_data)
{
  g_return_if_fail (VCM_IS_CLIENT (self));
  g_return_if_fail (path != NULL);
  _vcm_client_call (self, VCM_INTERFACE, "IsHostDevice", g_variant_new ("(s)", path), "(b)", flags,
                    cancellable, callback, user_data, vcm_client_is_host_device);
}

static gboolean
decode_is_host_device (GVariant *reply, gboolean *out_result)
{
  g_variant_get (reply, "(b)", out_result);
  return TRUE;
}

/**
 * vcm_client_is_host_device_finish:
 * @self: a #VcmClient
 * @result: the #GAsyncResult given to the callback
 * @out_result: (out): whether it is
 * @error: return location for an error
 *
 * Finishes vcm_client_is_host_device().
 *
 * Returns: %TRUE on success, %FALSE on error
 */
gboolean
vcm_client_is_host_device_finish (VcmClient *self,
                                  GAsyncResult *result,
                                  gboolean *out_result,
                                  GError **error)
{
  g_autoptr (GVariant) reply = NULL;

  reply = _vcm_client_call_finish (self, result, vcm_client_is_host_device, error);
  if (reply == NULL)
    return FALSE;
  return decode_is_host_device (reply, out_result);
}

/**
 * vcm_client_is_host_device_sync:
 * @self: a #VcmClient
 * @path: an absolute path
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @out_result: (out): whether it is
 * @error: return location for an error
 *
 * Asks whether @path is `/dev`, or below it and not a regular file.
 *
 * Synchronous: blocks the calling thread until the service answers.
 *
 * Returns: %TRUE on success, %FALSE on error
 */
gboolean
vcm_client_is_host_device_sync (VcmClient *self,
                                const char *path,
                                VcmCallFlags flags,
                                GCancellable *cancellable,
                                gboolean *out_result,
                                GError **error)
{
  g_autoptr (GVariant) reply = NULL;

  g_return_val_if_fail (VCM_IS_CLIENT (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  reply = _vcm_client_call_sync (self, VCM_INTERFACE, "IsHostDevice", g_variant_new ("(s)", path), "(b)",
                                 flags, cancellable, error);
  if (reply == NULL)
    return FALSE;
  return decode_is_host_device (reply, out_result);
}

/**
 * vcm_client_describe_path:
 * @self: a #VcmClient
 * @path: an absolute path
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the call is done
 * @user_data: (closure): data for @callback
 *
 * Asks for all the service knows about @path in one call.
 *
 * Asynchronous: @callback is called in the thread-default main context of the
 * caller; call vcm_client_describe_path_finish() there.
 */
void
vcm_client_describe_path (VcmClient *self,
                          const char *path,
                          VcmCallFlags flags,
                          GCancellable *cancellable,
                          GAsyncReadyCallback callback,
                          gpointer user_data)
{
  g_return_if_fail (VCM_IS_CLIENT (self));
  g_return_if_fail (path != NULL);
  _vcm_client_call (self, VCM_INTERFACE, "DescribePath", g_variant_new ("(s)", path), "(a{sv})", flags,
                    cancellable, callback, user_data, vcm_client_describe_path);
}

static VcmPathInfo *
decode_describe_path (GVariant *reply)
{
  return _vcm_path_info_new_from_variant (reply);
}

/**
 * vcm_client_describe_path_finish:
 * @self: a #VcmClient
 * @result: the #GAsyncResult given to the callback
 * @error: return location for an error
 *
 * Finishes vcm_client_describe_path().
 *
 * Returns: (transfer full): what the service knows, or %NULL on error
 */
VcmPathInfo *
vcm_client_describe_path_finish (VcmClient *self, GAsyncResult *result, GError **error)
{
  g_autoptr (GVariant) reply = NULL;

  reply = _vcm_client_call_finish (self, result, vcm_client_describe_path, error);
  if (reply == NULL)
    return NULL;
  return decode_describe_path (reply);
}

/**
 * vcm_client_describe_path_sync:
 * @self: a #VcmClient
 * @path: an absolute path
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Asks for all the service knows about @path in one call.
 *
 * Synchronous: blocks the calling thread until the service answers.
 *
 * Returns: (transfer full): what the service knows, or %NULL on error
 */
VcmPathInfo *
vcm_client_describe_path_sync (
  VcmClient *self, const char *path, VcmCallFlags flags, GCancellable *cancellable, GError **error)
{
  g_autoptr (GVariant) reply = NULL;

  g_return_val_if_fail (VCM_IS_CLIENT (self), NULL);
  g_return_val_if_fail (path != NULL, NULL);
  reply = _vcm_client_call_sync (self, VCM_INTERFACE, "DescribePath", g_variant_new ("(s)", path),
                                 "(a{sv})", flags, cancellable, error);
  if (reply == NULL)
    return NULL;
  return decode_describe_path (reply);
}

/**
 * vcm_client_get_service_info:
 * @self: a #VcmClient
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the call is done
 * @user_data: (closure): data for @callback
 *
 * Reads the service's properties (Version, SharedDir, DefaultShmSize, Generation) in one call.
 *
 * Asynchronous: @callback is called in the thread-default main context of the
 * caller; call vcm_client_get_service_info_finish() there.
 */
void
vcm_client_get_service_info (VcmClient *self,
                             VcmCallFlags flags,
                             GCancellable *cancellable,
                             GAsyncReadyCallback callback,
                             gpointer user_data)
{
  g_return_if_fail (VCM_IS_CLIENT (self));
  _vcm_client_call (self, "org.freedesktop.DBus.Properties", "GetAll",
                    g_variant_new ("(s)", VCM_INTERFACE), "(a{sv})", flags, cancellable, callback,
                    user_data, vcm_client_get_service_info);
}

static VcmServiceInfo *
decode_get_service_info (GVariant *reply)
{
  return _vcm_service_info_new_from_variant (reply);
}

/**
 * vcm_client_get_service_info_finish:
 * @self: a #VcmClient
 * @result: the #GAsyncResult given to the callback
 * @error: return location for an error
 *
 * Finishes vcm_client_get_service_info().
 *
 * Returns: (transfer full): the properties, or %NULL on error
 */
VcmServiceInfo *
vcm_client_get_service_info_finish (VcmClient *self, GAsyncResult *result, GError **error)
{
  g_autoptr (GVariant) reply = NULL;

  reply = _vcm_client_call_finish (self, result, vcm_client_get_service_info, error);
  if (reply == NULL)
    return NULL;
  return decode_get_service_info (reply);
}

/**
 * vcm_client_get_service_info_sync:
 * @self: a #VcmClient
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Reads the service's properties (Version, SharedDir, DefaultShmSize, Generation) in one call.
 *
 * Synchronous: blocks the calling thread until the service answers.
 *
 * Returns: (transfer full): the properties, or %NULL on error
 */
VcmServiceInfo *
vcm_client_get_service_info_sync (VcmClient *self,
                                  VcmCallFlags flags,
                                  GCancellable *cancellable,
                                  GError **error)
{
  g_autoptr (GVariant) reply = NULL;

  g_return_val_if_fail (VCM_IS_CLIENT (self), NULL);
  reply =
    _vcm_client_call_sync (self, "org.freedesktop.DBus.Properties", "GetAll",
                           g_variant_new ("(s)", VCM_INTERFACE), "(a{sv})", flags, cancellable, error);
  if (reply == NULL)
    return NULL;
  return decode_get_service_info (reply);
}
