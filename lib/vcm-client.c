/* vcm-client: VcmClient, the service's client object: its connection, the
 * service's owner, the calls' timeout. Its methods are trios (async,
 * finish, sync), generated from the XML into vcm-client-methods.c (and a
 * few by hand in vcm-client-extra.c), each handing its arguments to the
 * call core in vcm-client-call.c, which knows the method's signature from
 * the XML. */
#include "vcm-client-private.h"
#include "vcm-value-type.h"

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
 * from it. It emits #VcmClient::mount-added and #VcmClient::mount-removed
 * for every mount the service makes and unmounts, by any method, with the
 * mount's identity.
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

enum {
  SIG_MOUNT_ADDED,
  SIG_MOUNT_REMOVED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
on_name_owner_notify (GObject *proxy, GParamSpec *pspec, gpointer user_data)
{
  VcmClient *self = user_data;

  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_NAME_OWNER]);
}

/* The proxy passes on only the signals of the name's owner, of the
 * signature the interface gives them. */
static void
on_mount_added (VcmDBusMount *proxy, guint64 generation, GVariant *mount_info, gpointer user_data)
{
  VcmClient *self = user_data;
  g_autoptr (VcmMountInfo) info = vcm_mount_info_new_from_variant (mount_info);

  g_signal_emit (self, signals[SIG_MOUNT_ADDED], 0, generation, info);
}

static void
on_mount_removed (VcmDBusMount *proxy,
                  guint64 generation,
                  GVariant *mount_info,
                  const char *const *detached,
                  gpointer user_data)
{
  VcmClient *self = user_data;
  g_autoptr (VcmMountInfo) info = vcm_mount_info_new_from_variant (mount_info);

  g_signal_emit (self, signals[SIG_MOUNT_REMOVED], 0, generation, info, detached);
}

static void
set_proxy (VcmClient *self, VcmDBusMount *proxy)
{
  self->proxy = proxy;
  g_dbus_proxy_set_default_timeout (G_DBUS_PROXY (proxy), self->timeout_msec);
  g_signal_connect_object (proxy, "notify::g-name-owner", G_CALLBACK (on_name_owner_notify), self, 0);
  g_signal_connect_object (proxy, "mount-added", G_CALLBACK (on_mount_added), self, 0);
  g_signal_connect_object (proxy, "mount-removed", G_CALLBACK (on_mount_removed), self, 0);
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

/* The properties that are their member; the name owner is the proxy's. */
static const gsize prop_members[N_PROPS] = {
  [PROP_CONNECTION] = G_STRUCT_OFFSET (VcmClient, connection),
  [PROP_TIMEOUT_MSEC] = G_STRUCT_OFFSET (VcmClient, timeout_msec),
};

static void
vcm_client_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  if (prop_id == PROP_NAME_OWNER)
    g_value_take_string (value, vcm_client_dup_name_owner (VCM_CLIENT (object)));
  else
    _vcm_member_get_property (object, prop_members[prop_id], value);
}

static void
vcm_client_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  /* the timeout is passed on to the proxy, and notified */
  if (prop_id == PROP_TIMEOUT_MSEC)
    vcm_client_set_timeout_msec (VCM_CLIENT (object), g_value_get_int (value));
  else
    _vcm_member_set_property (object, prop_members[prop_id], value);
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

  /**
   * VcmClient::mount-added:
   * @self: the client
   * @generation: the service's generation after the change (see
   *   vcm_service_info_get_generation(); a bind beneath the shared dir leaves
   *   it as it is: only rootfs changes count)
   * @info: the new mount's identity: mount point, kind (`rootfs`, `bind`),
   *   the kernel's mount ID, source, options, the caller's uid
   *
   * The service made a mount (the service's `MountAdded` signal), by any of
   * its methods, for any caller. Emitted in the thread-default main context
   * the client was made in.
   */
  signals[SIG_MOUNT_ADDED] =
    g_signal_new ("mount-added", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_UINT64, VCM_TYPE_MOUNT_INFO);
  /**
   * VcmClient::mount-removed:
   * @self: the client
   * @generation: the service's generation after the change
   * @info: the identity the mount had, as far as the service knows it (of
   *   a mount made before the service restarted: what it recovered, with
   *   vcm_mount_info_get_recovered() %TRUE; at least the mount point)
   * @detached: (array zero-terminated=1): the mount points the service
   *   detached, the mount first, then those that were below it
   *
   * The service unmounted a mount (the service's `MountRemoved` signal) by
   * `Unmount`, `UnmountRootfs` or `UnmountSandbox`. Emitted in the
   * thread-default main context the client was made in.
   */
  signals[SIG_MOUNT_REMOVED] =
    g_signal_new ("mount-removed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 3, G_TYPE_UINT64, VCM_TYPE_MOUNT_INFO, G_TYPE_STRV);
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
