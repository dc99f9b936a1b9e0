/* vcm-client-private: what the library's files share and do not export. */
#pragma once

#include "vcmount.h"
#include "vcm-client-calls.h"
#include "vcm-generated.h"

#include <gio/gunixfdlist.h>

G_BEGIN_DECLS

#define VCM_BUS_NAME    "org.vc.Mount"
#define VCM_OBJECT_PATH "/org/vc/Mount"
#define VCM_INTERFACE   "org.vc.Mount"

/* Moves a remote org.vc.Mount.Error.* into VCM_CLIENT_ERROR (message without
 * the D-Bus name); other errors are left as they are. */
void _vcm_client_error_fixup (GError *error);

VcmDBusMount *_vcm_client_get_proxy (VcmClient *self);

/* The calls of the service: a row for each method of the interface's XML
 * (VCM_XML_CALLS, generated from it by vcm-client-gen.py: the call's id
 * VCM_CALL_ID, the D-Bus method, the decoder of its reply, a decode_*
 * function of vcm-client-call.c, and the rest of its VcmCall row) and the
 * one call outside it, the properties. The enum below and
 * vcm-client-call.c's table are both expanded from it. */
#define VCM_CALLS(X) \
  VCM_XML_CALLS (X) \
  X (GET_SERVICE_INFO, "GetAll", decode_service_info, .interface = "org.freedesktop.DBus.Properties")

#define VCM_CALL_ENUM_ROW(ID, ...) VCM_CALL_##ID,
typedef enum {
  VCM_CALLS (VCM_CALL_ENUM_ROW) VCM_N_CALLS
} VcmCallId;
#undef VCM_CALL_ENUM_ROW

/* Calls @id with the arguments that follow, one per argument of the method
 * in the XML, in its order and of its C type (see pack_arg()); the callback
 * gets a GTask whose source object is @self. */
void _vcm_client_call (VcmClient *self,
                       VcmCallId id,
                       VcmCallFlags flags,
                       GCancellable *cancellable,
                       GAsyncReadyCallback callback,
                       gpointer user_data,
                       ...);
/* Decodes the reply of @id into *@out_value (and *@out_extra where the
 * call's row says so); FALSE with @error set on failure. */
gboolean _vcm_client_finish (VcmClient *self,
                             GAsyncResult *result,
                             VcmCallId id,
                             gpointer out_value,
                             gpointer out_extra,
                             GError **error);
/* _vcm_client_call() run to its end in a private main context: the result
 * to give to the call's _finish(). */
GAsyncResult *_vcm_client_call_sync (
  VcmClient *self, VcmCallId id, VcmCallFlags flags, GCancellable *cancellable, ...);

/* ---- a method's trio, from its row of the call table ----------------------
 * Each public method is a trio: vcm_client_NAME() (async),
 * vcm_client_NAME_finish() and vcm_client_NAME_sync(), all three thin: the
 * arguments go to _vcm_client_call() in the XML's order, the reply is
 * decoded by the row's decoder, the sync form runs the async one in a
 * private main context. One of the macros below defines the three:
 * vcm-client-methods.c, generated from the XML, uses them for each method,
 * with documentation (and GI annotations) from the XML's comments.
 * @PARAMS: the method's own parameters (after @self, before @flags) and
 * @ARGS: what is passed on for them, each in parentheses and starting with
 * a comma, () when there are none. */
#define VCM_CLIENT_ARGS(...) __VA_ARGS__

#define VCM_CLIENT_ASYNC(name, id, PARAMS, ARGS) \
  void vcm_client_##name (VcmClient *self VCM_CLIENT_ARGS PARAMS, VcmCallFlags flags, \
                          GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data) \
  { \
    _vcm_client_call (self, id, flags, cancellable, callback, user_data VCM_CLIENT_ARGS ARGS); \
  }

/* The sync form: the call run by _vcm_client_call_sync(), its result given
 * to finish, with the out parameters @OUT_PARAMS (passed on as @OUT_ARGS)
 * before @error. */
#define VCM_CLIENT_SYNC(name, id, Type, OUT_PARAMS, OUT_ARGS, PARAMS, ARGS) \
  Type vcm_client_##name##_sync (VcmClient *self VCM_CLIENT_ARGS PARAMS, VcmCallFlags flags, \
                                 GCancellable *cancellable VCM_CLIENT_ARGS OUT_PARAMS, GError **error) \
  { \
    g_autoptr (GAsyncResult) result = \
      _vcm_client_call_sync (self, id, flags, cancellable VCM_CLIENT_ARGS ARGS); \
    return vcm_client_##name##_finish (self, result VCM_CLIENT_ARGS OUT_ARGS, error); \
  }

/* finish returns the reply's value (@none on an error) and, where
 * @OUT_PARAMS has one, a second value in it (given to the decoder as
 * @out_extra; the @OUT_ARGS sync passes on), before @error in finish and
 * sync. */
#define VCM_CLIENT_TRIO_WITH(name, id, Type, none, OUT_PARAMS, out_extra, OUT_ARGS, PARAMS, ARGS) \
  VCM_CLIENT_ASYNC (name, id, PARAMS, ARGS) \
  Type vcm_client_##name##_finish (VcmClient *self, GAsyncResult *result VCM_CLIENT_ARGS OUT_PARAMS, \
                                   GError **error) \
  { \
    Type value = none; \
    _vcm_client_finish (self, result, id, &value, out_extra, error); \
    return value; \
  } \
  VCM_CLIENT_SYNC (name, id, Type, OUT_PARAMS, OUT_ARGS, PARAMS, ARGS)

/* finish returns the reply's value (@none on an error). */
#define VCM_CLIENT_TRIO(name, id, Type, none, PARAMS, ARGS) \
  VCM_CLIENT_TRIO_WITH (name, id, Type, none, (), NULL, (), PARAMS, ARGS)

/* ... and a second one in @out (of @OutType). */
#define VCM_CLIENT_TRIO_OUT(name, id, Type, none, OutType, out, PARAMS, ARGS) \
  VCM_CLIENT_TRIO_WITH (name, id, Type, none, (, OutType out), out, (, out), PARAMS, ARGS)

/* finish returns whether the call succeeded, the reply's boolean in
 * *@out_result. */
#define VCM_CLIENT_TRIO_BOOL(name, id, PARAMS, ARGS) \
  VCM_CLIENT_ASYNC (name, id, PARAMS, ARGS) \
  gboolean vcm_client_##name##_finish (VcmClient *self, GAsyncResult *result, gboolean *out_result, \
                                       GError **error) \
  { \
    return _vcm_client_finish (self, result, id, out_result, NULL, error); \
  } \
  VCM_CLIENT_SYNC (name, id, gboolean, (, gboolean * out_result), (, out_result), PARAMS, ARGS)

/* ListRootfs's reply "(ta(sssb))" as VcmRootfs items sorted by (sandbox ID,
 * container ID), duplicates dropped. */
GPtrArray *_vcm_rootfs_array_from_variant (GVariant *reply, guint64 *out_generation);

void _vcm_rootfs_set_read_only (VcmRootfs *self, gboolean read_only);
int _vcm_rootfs_compare_key (VcmRootfs *self, const char *sandbox_id, const char *container_id);

VcmDeviceInfo *_vcm_device_info_new_from_variant (GVariant *reply);
VcmFsInfo *_vcm_fs_info_new_from_variant (GVariant *reply);
VcmPathInfo *_vcm_path_info_new_from_variant (GVariant *reply);
VcmServiceInfo *_vcm_service_info_new_from_variant (GVariant *reply);

/* The mount info a{sv} (vcm_mount_info_new_from_variant() without its
 * checks), and with the mount point a reply gives beside it. */
VcmMountInfo *_vcm_mount_info_new_from_variant (GVariant *mount_info);
VcmMountInfo *_vcm_mount_info_new_with_mount_point (GVariant *mount_info, const char *mount_point);
/* The options as the methods' a{sv}; a user namespace fd goes into @fds. */
GVariant *_vcm_mount_options_pack (VcmMountOptions *self, GUnixFDList *fds, GError **error);

G_END_DECLS
