/* vcm-client-call: the one way the library calls the service. A table says,
 * for each call, which method it is and how its reply becomes the public
 * value; the method's signature is looked up in the interface info that
 * gdbus-codegen makes from the XML, never restated. One asynchronous core
 * packs the arguments by that signature (file descriptors into a
 * GUnixFDList), calls with the caller's flags and the client's timeout, and
 * maps the errors; the synchronous form is that core run in a private main
 * context, as GIO's own sync calls are. */
#include "vcm-client-private.h"

#include <gio/gunixfdlist.h>

typedef gboolean (*VcmDecodeFunc) (
  GVariant *reply, GUnixFDList *fds, gpointer out_value, gpointer out_extra, GError **error);

typedef struct {
  const char *interface; /* NULL: org.vc.Mount */
  const char *method;
  VcmDecodeFunc decode;
  gboolean options; /* its a{sv} "options" is given as a VcmMountOptions */
} VcmCall;

/* -- how replies become values ----------------------------------------------- */

/* "(s…)": the first string. */
static gboolean
decode_string (GVariant *reply, GUnixFDList *fds, gpointer out_value, gpointer out_extra, GError **error)
{
  g_variant_get_child (reply, 0, "s", (char **) out_value);
  return TRUE;
}

/* "(as)" */
static gboolean
decode_strv (GVariant *reply, GUnixFDList *fds, gpointer out_value, gpointer out_extra, GError **error)
{
  g_variant_get_child (reply, 0, "^as", (char ***) out_value);
  return TRUE;
}

/* "(b)"; out_value may be NULL */
static gboolean
decode_boolean (
  GVariant *reply, GUnixFDList *fds, gpointer out_value, gpointer out_extra, GError **error)
{
  gboolean value = FALSE;

  g_variant_get_child (reply, 0, "b", &value);
  if (out_value != NULL)
    *(gboolean *) out_value = value;
  return TRUE;
}

/* "(ta(sssb))": the rootfs items, and the generation in out_extra */
static gboolean
decode_rootfs_list (
  GVariant *reply, GUnixFDList *fds, gpointer out_value, gpointer out_extra, GError **error)
{
  *(GPtrArray **) out_value = _vcm_rootfs_array_from_variant (reply, out_extra);
  return TRUE;
}

/* The value types' replies: the type's reader makes the object. */
#define DECODE_VALUE_TYPE(stem) \
  static gboolean decode_##stem (GVariant *reply, GUnixFDList *fds, gpointer out_value, \
                                 gpointer out_extra, GError **error) \
  { \
    *(gpointer *) out_value = _vcm_##stem##_new_from_variant (reply); \
    return TRUE; \
  }
DECODE_VALUE_TYPE (device_info)
DECODE_VALUE_TYPE (fs_info)
DECODE_VALUE_TYPE (path_info)
DECODE_VALUE_TYPE (service_info)
#undef DECODE_VALUE_TYPE

/* "(sa{sv})": a VcmMountInfo, the mount point its own when the info lacks it */
static gboolean
decode_mount_info (
  GVariant *reply, GUnixFDList *fds, gpointer out_value, gpointer out_extra, GError **error)
{
  g_autoptr (GVariant) info = g_variant_get_child_value (reply, 1);
  const char *mount_point = NULL;

  g_variant_get_child (reply, 0, "&s", &mount_point);
  *(VcmMountInfo **) out_value = _vcm_mount_info_new_with_mount_point (info, mount_point);
  return TRUE;
}

/* "(ha{sv})": the mount fd (the caller's to close) and, if asked for, its info */
static gboolean
decode_fd_with_mount_info (
  GVariant *reply, GUnixFDList *fds, gpointer out_value, gpointer out_extra, GError **error)
{
  g_autoptr (GVariant) info = g_variant_get_child_value (reply, 1);
  gint32 handle = -1;
  int fd;

  g_variant_get_child (reply, 0, "h", &handle);
  if (fds == NULL || handle < 0 || handle >= g_unix_fd_list_get_length (fds))
    {
      g_set_error (error, VCM_CLIENT_ERROR, VCM_CLIENT_ERROR_FAILED,
                   "the service's reply holds no mount file descriptor");
      return FALSE;
    }
  fd = g_unix_fd_list_get (fds, handle, error); /* a copy: the list closes its own */
  if (fd < 0)
    return FALSE;
  *(int *) out_value = fd;
  if (out_extra != NULL)
    *(VcmMountInfo **) out_extra = vcm_mount_info_new_from_variant (info);
  return TRUE;
}

/* "(taa{sv})": VcmMountInfo items, and the generation in out_extra */
static gboolean
decode_mount_info_list (
  GVariant *reply, GUnixFDList *fds, gpointer out_value, gpointer out_extra, GError **error)
{
  g_autoptr (GVariant) mounts = g_variant_get_child_value (reply, 1);
  GPtrArray *items = g_ptr_array_new_with_free_func (g_object_unref);
  GVariantIter iter;
  GVariant *info;

  g_variant_iter_init (&iter, mounts);
  while ((info = g_variant_iter_next_value (&iter)) != NULL)
    {
      g_ptr_array_add (items, vcm_mount_info_new_from_variant (info));
      g_variant_unref (info);
    }
  if (out_extra != NULL)
    g_variant_get_child (reply, 0, "t", (guint64 *) out_extra);
  *(GPtrArray **) out_value = items;
  return TRUE;
}

/* -- the table ---------------------------------------------------------------- */

/* A row of VCM_CALLS: the id, the method, then the decoder and whatever more
 * the row sets (.interface, .options). */
#define VCM_CALL_TABLE_ROW(ID, METHOD, ...) \
  [VCM_CALL_##ID] = { .method = METHOD, .decode = __VA_ARGS__ },
static const VcmCall calls[VCM_N_CALLS] = { VCM_CALLS (VCM_CALL_TABLE_ROW) };
#undef VCM_CALL_TABLE_ROW

/* org.freedesktop.DBus.Properties.GetAll, the one call outside the XML. */
static const GDBusArgInfo get_all_in = { -1, (char *) "interface_name", (char *) "s", NULL };
static const GDBusArgInfo get_all_out = { -1, (char *) "properties", (char *) "a{sv}", NULL };
static const GDBusArgInfo *const get_all_in_args[] = { &get_all_in, NULL };
static const GDBusArgInfo *const get_all_out_args[] = { &get_all_out, NULL };
static const GDBusMethodInfo get_all_info = { -1, (char *) "GetAll", (GDBusArgInfo **) get_all_in_args,
                                              (GDBusArgInfo **) get_all_out_args, NULL };

static const GDBusMethodInfo *
method_info (const VcmCall *call)
{
  const GDBusMethodInfo *info;

  if (call->interface != NULL)
    return &get_all_info;
  info = g_dbus_interface_info_lookup_method (vcm_dbus_mount_interface_info (), call->method);
  if (info == NULL)
    g_error ("libvcmount: %s is not a method of %s", call->method, VCM_INTERFACE);
  return info;
}

static GVariantType *
reply_type (const GDBusMethodInfo *info)
{
  g_autoptr (GString) s = g_string_new ("(");

  for (guint i = 0; info->out_args != NULL && info->out_args[i] != NULL; i++)
    g_string_append (s, info->out_args[i]->signature);
  g_string_append_c (s, ')');
  return g_variant_type_new (s->str);
}

/* -- packing the arguments by the method's signature ------------------------ */

/* One argument of @info's in_args from @ap: a string for s and o (never
 * NULL, valid UTF-8), gboolean, guint, gint, guint64, gint64, double for
 * b u i t x d, an int file descriptor for h (appended to *fds), and a
 * GVariant of the argument's type (floating references are taken; NULL for
 * an empty one) for every container type, but a VcmMountOptions (or NULL)
 * for the "options" of a row that says so. */
static GVariant *
pack_arg (const VcmCall *call, const GDBusArgInfo *arg, va_list *ap, GUnixFDList **fds, GError **error)
{
  const char *method = call->method;
  const char *sig = arg->signature;

  if (call->options && g_str_equal (arg->name, "options"))
    {
      VcmMountOptions *options = va_arg (*ap, VcmMountOptions *);

      if (options != NULL && !VCM_IS_MOUNT_OPTIONS (options))
        {
          g_critical ("%s: %s is not a VcmMountOptions", method, arg->name);
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "%s: %s is not a VcmMountOptions",
                       method, arg->name);
          return NULL;
        }
      if (*fds == NULL)
        *fds = g_unix_fd_list_new ();
      return _vcm_mount_options_pack (options, *fds, error);
    }

  switch (sig[0])
    {
    case 's':
    case 'o':
      {
        const char *s = va_arg (*ap, const char *);

        if (s == NULL)
          {
            g_critical ("%s: %s must not be NULL", method, arg->name);
            g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "%s: %s is NULL", method,
                         arg->name);
            return NULL;
          }
        if (!g_utf8_validate (s, -1, NULL) || (sig[0] == 'o' && !g_variant_is_object_path (s)))
          {
            g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "%s: %s is not valid %s",
                         method, arg->name, sig[0] == 'o' ? "as an object path" : "UTF-8");
            return NULL;
          }
        return sig[0] == 's' ? g_variant_new_string (s) : g_variant_new_object_path (s);
      }
    case 'b':
    case 'u':
    case 'i':
    case 't':
    case 'x':
    case 'd':
      /* the C types of GVariant's own varargs */
      return g_variant_new_va (sig, NULL, ap);
    case 'h':
      {
        int fd = va_arg (*ap, int);
        int index;

        if (*fds == NULL)
          *fds = g_unix_fd_list_new ();
        /* dups it: the caller keeps its own */
        index = fd >= 0 ? g_unix_fd_list_append (*fds, fd, error) : -1;
        if (index < 0)
          {
            if (fd < 0)
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           "%s: %s is not a file descriptor", method, arg->name);
            else
              g_prefix_error (error, "%s: %s: ", method, arg->name);
            return NULL;
          }
        return g_variant_new_handle (index);
      }
    default:
      {
        GVariant *value = va_arg (*ap, GVariant *);
        g_autoptr (GVariantType) type = g_variant_type_new (sig);

        if (value == NULL && g_variant_type_is_array (type))
          return g_variant_new_array (g_variant_type_element (type), NULL, 0);
        if (value == NULL || !g_variant_is_of_type (value, type))
          {
            if (value != NULL)
              g_variant_unref (g_variant_ref_sink (value));
            g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "%s: %s is not of type %s",
                         method, arg->name, sig);
            return NULL;
          }
        return value;
      }
    }
}

/* The parameters tuple; on error every floating GVariant argument not yet
 * read stays the caller's (only a programming error gets there). */
static GVariant *
pack_args (
  const VcmCall *call, const GDBusMethodInfo *info, va_list *ap, GUnixFDList **fds, GError **error)
{
  g_autoptr (GPtrArray) children = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);

  for (guint i = 0; info->in_args != NULL && info->in_args[i] != NULL; i++)
    {
      GVariant *child = pack_arg (call, info->in_args[i], ap, fds, error);

      if (child == NULL)
        return NULL;
      g_ptr_array_add (children, g_variant_ref_sink (child));
    }
  return g_variant_new_tuple ((GVariant **) children->pdata, children->len);
}

/* -- the core ----------------------------------------------------------------- */

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
  GUnixFDList *fds = NULL;
  GError *error = NULL;
  GVariant *reply;

  reply =
    g_dbus_connection_call_with_unix_fd_list_finish (G_DBUS_CONNECTION (source), &fds, res, &error);
  if (reply == NULL)
    {
      _vcm_client_error_fixup (error);
      g_task_return_error (task, error);
      return;
    }
  /* the descriptors the reply carries are closed with the task, unless taken */
  if (fds != NULL)
    g_task_set_task_data (task, fds, g_object_unref);
  g_task_return_pointer (task, reply, (GDestroyNotify) g_variant_unref);
}

static void
call_valist (VcmClient *self,
             VcmCallId id,
             VcmCallFlags flags,
             GCancellable *cancellable,
             GAsyncReadyCallback callback,
             gpointer user_data,
             va_list *ap)
{
  const VcmCall *call = &calls[id];
  const GDBusMethodInfo *info = method_info (call);
  /* The task holds the client until the call is done. */
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_autoptr (GUnixFDList) fds = NULL;
  g_autoptr (GVariantType) type = NULL;
  GError *error = NULL;
  GVariant *params;

  g_task_set_source_tag (task, (gpointer) call);
  g_task_set_name (task, call->method);
  params = pack_args (call, info, ap, &fds, &error);
  if (params == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  type = reply_type (info);
  g_dbus_connection_call_with_unix_fd_list (
    vcm_client_get_connection (self), VCM_BUS_NAME, VCM_OBJECT_PATH,
    call->interface != NULL ? call->interface : VCM_INTERFACE, call->method, params, type,
    dbus_call_flags (flags), vcm_client_get_timeout_msec (self), fds, cancellable, on_call_done,
    g_steal_pointer (&task));
}

void
_vcm_client_call (VcmClient *self,
                  VcmCallId id,
                  VcmCallFlags flags,
                  GCancellable *cancellable,
                  GAsyncReadyCallback callback,
                  gpointer user_data,
                  ...)
{
  va_list ap;

  g_return_if_fail (VCM_IS_CLIENT (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));
  va_start (ap, user_data);
  call_valist (self, id, flags, cancellable, callback, user_data, &ap);
  va_end (ap);
}

gboolean
_vcm_client_finish (VcmClient *self,
                    GAsyncResult *result,
                    VcmCallId id,
                    gpointer out_value,
                    gpointer out_extra,
                    GError **error)
{
  g_autoptr (GVariant) reply = NULL;

  g_return_val_if_fail (VCM_IS_CLIENT (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == &calls[id], FALSE);
  reply = g_task_propagate_pointer (G_TASK (result), error);
  if (reply == NULL)
    return FALSE;
  return calls[id].decode (reply, g_task_get_task_data (G_TASK (result)), out_value, out_extra, error);
}

static void
on_sync_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (res);
}

GAsyncResult *
_vcm_client_call_sync (VcmClient *self, VcmCallId id, VcmCallFlags flags, GCancellable *cancellable, ...)
{
  g_autoptr (GMainContext) context = NULL;
  GAsyncResult *result = NULL;
  va_list ap;

  g_return_val_if_fail (VCM_IS_CLIENT (self), NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  /* The call's reply, and nothing else, is dispatched here: the caller's
   * own main context does not run while it waits. */
  context = g_main_context_new ();
  g_main_context_push_thread_default (context);
  va_start (ap, cancellable);
  call_valist (self, id, flags, cancellable, on_sync_done, &result, &ap);
  va_end (ap);
  while (result == NULL)
    g_main_context_iteration (context, TRUE);
  g_main_context_pop_thread_default (context);
  return result;
}
