/* vcm-client: VcmClient, the service's client object (its connection, the
 * service's owner, the calls' timeout) and the public methods, each a trio
 * (async, finish, sync) that hands its arguments to the call core in
 * vcm-client-call.c, which knows the method's signature from the XML. */
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
/**
 * VcmClientClass:
 * @parent_class: the parent class
 *
 * The class of #VcmClient; final, nothing to override.
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
 * Gets the bus connection the client calls the service on.
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
 * Gets the unique bus name of the process that owns `org.vc.Mount` now (see
 * #VcmClient:name-owner). A new owner is a new instance of the service.
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
 * Gets the timeout of the client's calls (see #VcmClient:timeout-msec).
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

/* -- the methods: each a row of vcm-client-call.c's table ------------------ */

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
  _vcm_client_call (self, VCM_CALL_MOUNT_ROOTFS, flags, cancellable, callback, user_data, sandbox_id,
                    container_id, rootfs, read_only);
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
  char *value = NULL;

  _vcm_client_finish (self, result, VCM_CALL_MOUNT_ROOTFS, &value, NULL, error);
  return value;
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
 * The synchronous form of vcm_client_mount_rootfs(): blocks the calling thread
 * until the service answers.
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
  g_autoptr (GAsyncResult) result = _vcm_client_call_sync (
    self, VCM_CALL_MOUNT_ROOTFS, flags, cancellable, sandbox_id, container_id, rootfs, read_only);

  return vcm_client_mount_rootfs_finish (self, result, error);
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
  _vcm_client_call (self, VCM_CALL_UNMOUNT_ROOTFS, flags, cancellable, callback, user_data, sandbox_id,
                    container_id);
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
  char **value = NULL;

  _vcm_client_finish (self, result, VCM_CALL_UNMOUNT_ROOTFS, &value, NULL, error);
  return value;
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
 * The synchronous form of vcm_client_unmount_rootfs(): blocks the calling
 * thread until the service answers.
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
  g_autoptr (GAsyncResult) result =
    _vcm_client_call_sync (self, VCM_CALL_UNMOUNT_ROOTFS, flags, cancellable, sandbox_id, container_id);

  return vcm_client_unmount_rootfs_finish (self, result, error);
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
  _vcm_client_call (self, VCM_CALL_UNMOUNT_SANDBOX, flags, cancellable, callback, user_data, sandbox_id);
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
  char **value = NULL;

  _vcm_client_finish (self, result, VCM_CALL_UNMOUNT_SANDBOX, &value, NULL, error);
  return value;
}

/**
 * vcm_client_unmount_sandbox_sync:
 * @self: a #VcmClient
 * @sandbox_id: the sandbox ID
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * The synchronous form of vcm_client_unmount_sandbox(): blocks the calling
 * thread until the service answers.
 *
 * Returns: (transfer full) (array zero-terminated=1): the container IDs whose rootfs was unmounted, or %NULL on error
 */
char **
vcm_client_unmount_sandbox_sync (
  VcmClient *self, const char *sandbox_id, VcmCallFlags flags, GCancellable *cancellable, GError **error)
{
  g_autoptr (GAsyncResult) result =
    _vcm_client_call_sync (self, VCM_CALL_UNMOUNT_SANDBOX, flags, cancellable, sandbox_id);

  return vcm_client_unmount_sandbox_finish (self, result, error);
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
  _vcm_client_call (self, VCM_CALL_LIST_ROOTFS, flags, cancellable, callback, user_data,
                    sandbox_id != NULL ? sandbox_id : "");
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
  GPtrArray *value = NULL;

  _vcm_client_finish (self, result, VCM_CALL_LIST_ROOTFS, &value, out_generation, error);
  return value;
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
 * The synchronous form of vcm_client_list_rootfs(): blocks the calling thread
 * until the service answers.
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
  g_autoptr (GAsyncResult) result = _vcm_client_call_sync (
    self, VCM_CALL_LIST_ROOTFS, flags, cancellable, sandbox_id != NULL ? sandbox_id : "");

  return vcm_client_list_rootfs_finish (self, result, out_generation, error);
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
  _vcm_client_call (self, VCM_CALL_BIND_MOUNT, flags, cancellable, callback, user_data, source,
                    destination, read_only);
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
  char *value = NULL;

  _vcm_client_finish (self, result, VCM_CALL_BIND_MOUNT, &value, NULL, error);
  return value;
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
 * The synchronous form of vcm_client_bind_mount(): blocks the calling thread
 * until the service answers.
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
  g_autoptr (GAsyncResult) result = _vcm_client_call_sync (self, VCM_CALL_BIND_MOUNT, flags, cancellable,
                                                           source, destination, read_only);

  return vcm_client_bind_mount_finish (self, result, error);
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
  _vcm_client_call (self, VCM_CALL_UNMOUNT, flags, cancellable, callback, user_data, mount_point);
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
  char **value = NULL;

  _vcm_client_finish (self, result, VCM_CALL_UNMOUNT, &value, NULL, error);
  return value;
}

/**
 * vcm_client_unmount_sync:
 * @self: a #VcmClient
 * @mount_point: absolute path of a mount beneath the shared directory
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * The synchronous form of vcm_client_unmount(): blocks the calling thread
 * until the service answers.
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
  g_autoptr (GAsyncResult) result =
    _vcm_client_call_sync (self, VCM_CALL_UNMOUNT, flags, cancellable, mount_point);

  return vcm_client_unmount_finish (self, result, error);
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
  _vcm_client_call (self, VCM_CALL_GET_DEVICE_FOR_PATH, flags, cancellable, callback, user_data, path);
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
  VcmDeviceInfo *value = NULL;

  _vcm_client_finish (self, result, VCM_CALL_GET_DEVICE_FOR_PATH, &value, NULL, error);
  return value;
}

/**
 * vcm_client_get_device_for_path_sync:
 * @self: a #VcmClient
 * @path: an absolute path
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * The synchronous form of vcm_client_get_device_for_path(): blocks the calling
 * thread until the service answers.
 *
 * Returns: (transfer full): the device and mount point, or %NULL on error
 */
VcmDeviceInfo *
vcm_client_get_device_for_path_sync (
  VcmClient *self, const char *path, VcmCallFlags flags, GCancellable *cancellable, GError **error)
{
  g_autoptr (GAsyncResult) result =
    _vcm_client_call_sync (self, VCM_CALL_GET_DEVICE_FOR_PATH, flags, cancellable, path);

  return vcm_client_get_device_for_path_finish (self, result, error);
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
  _vcm_client_call (self, VCM_CALL_GET_DEVICE_PATH_AND_FS_TYPE, flags, cancellable, callback, user_data,
                    mount_point);
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
  VcmFsInfo *value = NULL;

  _vcm_client_finish (self, result, VCM_CALL_GET_DEVICE_PATH_AND_FS_TYPE, &value, NULL, error);
  return value;
}

/**
 * vcm_client_get_device_path_and_fs_type_sync:
 * @self: a #VcmClient
 * @mount_point: the mount point of a mount
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * The synchronous form of vcm_client_get_device_path_and_fs_type(): blocks the
 * calling thread until the service answers.
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
  g_autoptr (GAsyncResult) result =
    _vcm_client_call_sync (self, VCM_CALL_GET_DEVICE_PATH_AND_FS_TYPE, flags, cancellable, mount_point);

  return vcm_client_get_device_path_and_fs_type_finish (self, result, error);
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
  _vcm_client_call (self, VCM_CALL_IS_DEVICE_MAPPER, flags, cancellable, callback, user_data, major,
                    minor);
}

/**
 * vcm_client_is_device_mapper_finish:
 * @self: a #VcmClient
 * @result: the #GAsyncResult given to the callback
 * @out_result: (out): the answer
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
  return _vcm_client_finish (self, result, VCM_CALL_IS_DEVICE_MAPPER, out_result, NULL, error);
}

/**
 * vcm_client_is_device_mapper_sync:
 * @self: a #VcmClient
 * @major: the major number of a block device
 * @minor: its minor number
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @out_result: (out): the answer
 * @error: return location for an error
 *
 * The synchronous form of vcm_client_is_device_mapper(): blocks the calling
 * thread until the service answers.
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
  g_autoptr (GAsyncResult) result =
    _vcm_client_call_sync (self, VCM_CALL_IS_DEVICE_MAPPER, flags, cancellable, major, minor);

  return vcm_client_is_device_mapper_finish (self, result, out_result, error);
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
  _vcm_client_call (self, VCM_CALL_IS_SYSTEM_MOUNT, flags, cancellable, callback, user_data, path);
}

/**
 * vcm_client_is_system_mount_finish:
 * @self: a #VcmClient
 * @result: the #GAsyncResult given to the callback
 * @out_result: (out): the answer
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
  return _vcm_client_finish (self, result, VCM_CALL_IS_SYSTEM_MOUNT, out_result, NULL, error);
}

/**
 * vcm_client_is_system_mount_sync:
 * @self: a #VcmClient
 * @path: an absolute path
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @out_result: (out): the answer
 * @error: return location for an error
 *
 * The synchronous form of vcm_client_is_system_mount(): blocks the calling
 * thread until the service answers.
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
  g_autoptr (GAsyncResult) result =
    _vcm_client_call_sync (self, VCM_CALL_IS_SYSTEM_MOUNT, flags, cancellable, path);

  return vcm_client_is_system_mount_finish (self, result, out_result, error);
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
  _vcm_client_call (self, VCM_CALL_IS_HOST_DEVICE, flags, cancellable, callback, user_data, path);
}

/**
 * vcm_client_is_host_device_finish:
 * @self: a #VcmClient
 * @result: the #GAsyncResult given to the callback
 * @out_result: (out): the answer
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
  return _vcm_client_finish (self, result, VCM_CALL_IS_HOST_DEVICE, out_result, NULL, error);
}

/**
 * vcm_client_is_host_device_sync:
 * @self: a #VcmClient
 * @path: an absolute path
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @out_result: (out): the answer
 * @error: return location for an error
 *
 * The synchronous form of vcm_client_is_host_device(): blocks the calling
 * thread until the service answers.
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
  g_autoptr (GAsyncResult) result =
    _vcm_client_call_sync (self, VCM_CALL_IS_HOST_DEVICE, flags, cancellable, path);

  return vcm_client_is_host_device_finish (self, result, out_result, error);
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
  _vcm_client_call (self, VCM_CALL_DESCRIBE_PATH, flags, cancellable, callback, user_data, path);
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
  VcmPathInfo *value = NULL;

  _vcm_client_finish (self, result, VCM_CALL_DESCRIBE_PATH, &value, NULL, error);
  return value;
}

/**
 * vcm_client_describe_path_sync:
 * @self: a #VcmClient
 * @path: an absolute path
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * The synchronous form of vcm_client_describe_path(): blocks the calling
 * thread until the service answers.
 *
 * Returns: (transfer full): what the service knows, or %NULL on error
 */
VcmPathInfo *
vcm_client_describe_path_sync (
  VcmClient *self, const char *path, VcmCallFlags flags, GCancellable *cancellable, GError **error)
{
  g_autoptr (GAsyncResult) result =
    _vcm_client_call_sync (self, VCM_CALL_DESCRIBE_PATH, flags, cancellable, path);

  return vcm_client_describe_path_finish (self, result, error);
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
  _vcm_client_call (self, VCM_CALL_GET_SERVICE_INFO, flags, cancellable, callback, user_data,
                    VCM_INTERFACE);
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
  VcmServiceInfo *value = NULL;

  _vcm_client_finish (self, result, VCM_CALL_GET_SERVICE_INFO, &value, NULL, error);
  return value;
}

/**
 * vcm_client_get_service_info_sync:
 * @self: a #VcmClient
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * The synchronous form of vcm_client_get_service_info(): blocks the calling
 * thread until the service answers.
 *
 * Returns: (transfer full): the properties, or %NULL on error
 */
VcmServiceInfo *
vcm_client_get_service_info_sync (VcmClient *self,
                                  VcmCallFlags flags,
                                  GCancellable *cancellable,
                                  GError **error)
{
  g_autoptr (GAsyncResult) result =
    _vcm_client_call_sync (self, VCM_CALL_GET_SERVICE_INFO, flags, cancellable, VCM_INTERFACE);

  return vcm_client_get_service_info_finish (self, result, error);
}

/* -- the fd-based methods ------------------------------------------------------ */

/**
 * vcm_client_mount_rootfs_fd:
 * @self: a #VcmClient
 * @sandbox_id: the sandbox ID
 * @container_id: the container ID
 * @rootfs_fd: a file descriptor of the root filesystem's directory, opened by
 *   the caller (a real open, not `O_PATH`); it may live in the caller's own
 *   mount and user namespaces. The caller keeps it.
 * @options: (nullable): the mount's options, or %NULL for the service's defaults
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the call is done
 * @user_data: (closure): data for @callback
 *
 * The rootless form of vcm_client_mount_rootfs(): the service clones the
 * mount of @rootfs_fd (in the caller's mount namespace, walking no path as
 * the caller), applies @options, and attaches it at
 * `SHARED_DIR/@sandbox_id/@container_id/rootfs`.
 *
 * Asynchronous: @callback is called in the thread-default main context of the
 * caller; call vcm_client_mount_rootfs_fd_finish() there.
 */
void
vcm_client_mount_rootfs_fd (VcmClient *self,
                            const char *sandbox_id,
                            const char *container_id,
                            int rootfs_fd,
                            VcmMountOptions *options,
                            VcmCallFlags flags,
                            GCancellable *cancellable,
                            GAsyncReadyCallback callback,
                            gpointer user_data)
{
  g_return_if_fail (options == NULL || VCM_IS_MOUNT_OPTIONS (options));
  _vcm_client_call (self, VCM_CALL_MOUNT_ROOTFS_FD, flags, cancellable, callback, user_data, sandbox_id,
                    container_id, rootfs_fd, options);
}

/**
 * vcm_client_mount_rootfs_fd_finish:
 * @self: a #VcmClient
 * @result: the #GAsyncResult given to the callback
 * @error: return location for an error
 *
 * Finishes vcm_client_mount_rootfs_fd().
 *
 * Returns: (transfer full): the new mount (its mount point, mount ID, source,
 *   options), or %NULL on error
 */
VcmMountInfo *
vcm_client_mount_rootfs_fd_finish (VcmClient *self, GAsyncResult *result, GError **error)
{
  VcmMountInfo *value = NULL;

  _vcm_client_finish (self, result, VCM_CALL_MOUNT_ROOTFS_FD, &value, NULL, error);
  return value;
}

/**
 * vcm_client_mount_rootfs_fd_sync:
 * @self: a #VcmClient
 * @sandbox_id: the sandbox ID
 * @container_id: the container ID
 * @rootfs_fd: a file descriptor of the root filesystem's directory (the
 *   caller keeps it)
 * @options: (nullable): the mount's options, or %NULL for the service's defaults
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * The synchronous form of vcm_client_mount_rootfs_fd(): blocks the calling
 * thread until the service answers.
 *
 * Returns: (transfer full): the new mount, or %NULL on error
 */
VcmMountInfo *
vcm_client_mount_rootfs_fd_sync (VcmClient *self,
                                 const char *sandbox_id,
                                 const char *container_id,
                                 int rootfs_fd,
                                 VcmMountOptions *options,
                                 VcmCallFlags flags,
                                 GCancellable *cancellable,
                                 GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  g_return_val_if_fail (options == NULL || VCM_IS_MOUNT_OPTIONS (options), NULL);
  result = _vcm_client_call_sync (self, VCM_CALL_MOUNT_ROOTFS_FD, flags, cancellable, sandbox_id,
                                  container_id, rootfs_fd, options);
  return vcm_client_mount_rootfs_fd_finish (self, result, error);
}

/**
 * vcm_client_bind_mount_fd:
 * @self: a #VcmClient
 * @source_fd: a file descriptor of a directory or regular file, opened by the
 *   caller (not `O_PATH`); it may live in the caller's own namespaces. The
 *   caller keeps it.
 * @destination: absolute path beneath the shared directory
 * @options: (nullable): the mount's options, or %NULL for the service's defaults
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the call is done
 * @user_data: (closure): data for @callback
 *
 * The rootless form of vcm_client_bind_mount(): the service clones the mount
 * of @source_fd, applies @options and attaches it at @destination.
 *
 * Asynchronous: @callback is called in the thread-default main context of the
 * caller; call vcm_client_bind_mount_fd_finish() there.
 */
void
vcm_client_bind_mount_fd (VcmClient *self,
                          int source_fd,
                          const char *destination,
                          VcmMountOptions *options,
                          VcmCallFlags flags,
                          GCancellable *cancellable,
                          GAsyncReadyCallback callback,
                          gpointer user_data)
{
  g_return_if_fail (options == NULL || VCM_IS_MOUNT_OPTIONS (options));
  _vcm_client_call (self, VCM_CALL_BIND_MOUNT_FD, flags, cancellable, callback, user_data, source_fd,
                    destination, options);
}

/**
 * vcm_client_bind_mount_fd_finish:
 * @self: a #VcmClient
 * @result: the #GAsyncResult given to the callback
 * @error: return location for an error
 *
 * Finishes vcm_client_bind_mount_fd().
 *
 * Returns: (transfer full): the new mount, or %NULL on error
 */
VcmMountInfo *
vcm_client_bind_mount_fd_finish (VcmClient *self, GAsyncResult *result, GError **error)
{
  VcmMountInfo *value = NULL;

  _vcm_client_finish (self, result, VCM_CALL_BIND_MOUNT_FD, &value, NULL, error);
  return value;
}

/**
 * vcm_client_bind_mount_fd_sync:
 * @self: a #VcmClient
 * @source_fd: a file descriptor of a directory or regular file (the caller
 *   keeps it)
 * @destination: absolute path beneath the shared directory
 * @options: (nullable): the mount's options, or %NULL for the service's defaults
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * The synchronous form of vcm_client_bind_mount_fd(): blocks the calling
 * thread until the service answers.
 *
 * Returns: (transfer full): the new mount, or %NULL on error
 */
VcmMountInfo *
vcm_client_bind_mount_fd_sync (VcmClient *self,
                               int source_fd,
                               const char *destination,
                               VcmMountOptions *options,
                               VcmCallFlags flags,
                               GCancellable *cancellable,
                               GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  g_return_val_if_fail (options == NULL || VCM_IS_MOUNT_OPTIONS (options), NULL);
  result = _vcm_client_call_sync (self, VCM_CALL_BIND_MOUNT_FD, flags, cancellable, source_fd,
                                  destination, options);
  return vcm_client_bind_mount_fd_finish (self, result, error);
}

/**
 * vcm_client_open_mount:
 * @self: a #VcmClient
 * @source_fd: a file descriptor of a directory or regular file, opened by the
 *   caller (not `O_PATH`); the caller keeps it
 * @options: (nullable): the mount's options (typically an ID map), or %NULL
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the call is done
 * @user_data: (closure): data for @callback
 *
 * Asks for a detached, configured mount of @source_fd, as systemd-mountfsd's
 * `MountDirectory` gives one: the caller attaches it where it likes in its
 * own mount namespace (`move_mount(2)`), or closes it. The service attaches
 * nothing and keeps nothing.
 *
 * Asynchronous: @callback is called in the thread-default main context of the
 * caller; call vcm_client_open_mount_finish() there.
 */
void
vcm_client_open_mount (VcmClient *self,
                       int source_fd,
                       VcmMountOptions *options,
                       VcmCallFlags flags,
                       GCancellable *cancellable,
                       GAsyncReadyCallback callback,
                       gpointer user_data)
{
  g_return_if_fail (options == NULL || VCM_IS_MOUNT_OPTIONS (options));
  _vcm_client_call (self, VCM_CALL_OPEN_MOUNT, flags, cancellable, callback, user_data, source_fd,
                    options);
}

/**
 * vcm_client_open_mount_finish:
 * @self: a #VcmClient
 * @result: the #GAsyncResult given to the callback
 * @out_info: (out) (optional) (transfer full): what identifies the mount
 * @error: return location for an error
 *
 * Finishes vcm_client_open_mount().
 *
 * Returns: the mount's file descriptor, which the caller closes, or -1 on error
 */
int
vcm_client_open_mount_finish (VcmClient *self,
                              GAsyncResult *result,
                              VcmMountInfo **out_info,
                              GError **error)
{
  int fd = -1;

  _vcm_client_finish (self, result, VCM_CALL_OPEN_MOUNT, &fd, out_info, error);
  return fd;
}

/**
 * vcm_client_open_mount_sync:
 * @self: a #VcmClient
 * @source_fd: a file descriptor of a directory or regular file (the caller
 *   keeps it)
 * @options: (nullable): the mount's options, or %NULL
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @out_info: (out) (optional) (transfer full): what identifies the mount
 * @error: return location for an error
 *
 * The synchronous form of vcm_client_open_mount(): blocks the calling
 * thread until the service answers.
 *
 * Returns: the mount's file descriptor, which the caller closes, or -1 on error
 */
int
vcm_client_open_mount_sync (VcmClient *self,
                            int source_fd,
                            VcmMountOptions *options,
                            VcmCallFlags flags,
                            GCancellable *cancellable,
                            VcmMountInfo **out_info,
                            GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  g_return_val_if_fail (options == NULL || VCM_IS_MOUNT_OPTIONS (options), -1);
  result = _vcm_client_call_sync (self, VCM_CALL_OPEN_MOUNT, flags, cancellable, source_fd, options);
  return vcm_client_open_mount_finish (self, result, out_info, error);
}

/* ListMounts's filter: the keys given, no key for NULL. */
static GVariant *
mounts_filter (const char *sandbox_id, const char *kind)
{
  g_auto (GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);

  if (sandbox_id != NULL)
    g_variant_dict_insert (&dict, "sandbox-id", "s", sandbox_id);
  if (kind != NULL)
    g_variant_dict_insert (&dict, "kind", "s", kind);
  return g_variant_dict_end (&dict);
}

/**
 * vcm_client_list_mounts:
 * @self: a #VcmClient
 * @sandbox_id: (nullable): only the mounts of this sandbox, or %NULL for all
 * @kind: (nullable): only mounts of this kind (`rootfs` or `bind`), or %NULL for both
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the call is done
 * @user_data: (closure): data for @callback
 *
 * Lists what the service mounted, where, from what and for whom, as the
 * kernel's mount table and the service's records hold it (also after a
 * restart: see vcm_mount_info_get_recovered()).
 *
 * Asynchronous: @callback is called in the thread-default main context of the
 * caller; call vcm_client_list_mounts_finish() there.
 */
void
vcm_client_list_mounts (VcmClient *self,
                        const char *sandbox_id,
                        const char *kind,
                        VcmCallFlags flags,
                        GCancellable *cancellable,
                        GAsyncReadyCallback callback,
                        gpointer user_data)
{
  _vcm_client_call (self, VCM_CALL_LIST_MOUNTS, flags, cancellable, callback, user_data,
                    mounts_filter (sandbox_id, kind));
}

/**
 * vcm_client_list_mounts_finish:
 * @self: a #VcmClient
 * @result: the #GAsyncResult given to the callback
 * @out_generation: (out) (optional): the generation the answer is valid for
 * @error: return location for an error
 *
 * Finishes vcm_client_list_mounts().
 *
 * Returns: (transfer container) (element-type VcmMountInfo): the mounts, or %NULL on error
 */
GPtrArray *
vcm_client_list_mounts_finish (VcmClient *self,
                               GAsyncResult *result,
                               guint64 *out_generation,
                               GError **error)
{
  GPtrArray *value = NULL;

  _vcm_client_finish (self, result, VCM_CALL_LIST_MOUNTS, &value, out_generation, error);
  return value;
}

/**
 * vcm_client_list_mounts_sync:
 * @self: a #VcmClient
 * @sandbox_id: (nullable): only the mounts of this sandbox, or %NULL for all
 * @kind: (nullable): only mounts of this kind (`rootfs` or `bind`), or %NULL for both
 * @flags: call flags
 * @cancellable: (nullable): a #GCancellable
 * @out_generation: (out) (optional): the generation the answer is valid for
 * @error: return location for an error
 *
 * The synchronous form of vcm_client_list_mounts(): blocks the calling
 * thread until the service answers.
 *
 * Returns: (transfer container) (element-type VcmMountInfo): the mounts, or %NULL on error
 */
GPtrArray *
vcm_client_list_mounts_sync (VcmClient *self,
                             const char *sandbox_id,
                             const char *kind,
                             VcmCallFlags flags,
                             GCancellable *cancellable,
                             guint64 *out_generation,
                             GError **error)
{
  g_autoptr (GAsyncResult) result = _vcm_client_call_sync (
    self, VCM_CALL_LIST_MOUNTS, flags, cancellable, mounts_filter (sandbox_id, kind));

  return vcm_client_list_mounts_finish (self, result, out_generation, error);
}
