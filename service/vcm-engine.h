/* vcm-engine: the service's domain, behind one object. It takes a request
 * (a method of org.vc.Mount with its arguments and descriptors, and who
 * asks), says which polkit actions must allow it and what polkit is shown,
 * admits it under the per-user bounds, resolves it (as the caller, in a
 * worker thread where it walks a caller's path), runs it, answers with the
 * method's out arguments, and tells what changed (rootfs and mounts).
 * Knows nothing of a bus connection: VcmService hands it the arguments and
 * the descriptors and sends its answers and changes. Derivable, so that the
 * service's pipeline can be tested against a fake. */
#pragma once

#include <gio/gio.h>
#include <gio/gunixfdlist.h>

#include "vcm-auth.h"
#include "vcm-config.h"
#include "vcm-ledger.h"

G_BEGIN_DECLS

/* One request on its way through the engine: what the service gave it, and
 * what the engine made of it before it is authorized. Refcounted; main
 * thread only. */
typedef struct {
  /*< the service's >*/
  char *method;
  GVariant *params;  /* of the method's in signature, validated */
  GUnixFDList *fds;  /* the message's descriptors, or NULL */
  VcmCaller *caller; /* who asks */
  gboolean granted;  /* polkit has granted the caller something lately */
  /*< the engine's, once prepared >*/
  const char *actions[4]; /* polkit actions that must all allow it, in order; NULL-terminated */
  GHashTable *details;    /* what polkit is shown */
  char *message;          /* the prompt's text */
  gpointer engine_data;   /* the engine's own state of the request */
  GDestroyNotify engine_data_free;
  /*< private >*/
  gint ref_count;
} VcmRequest;

VcmRequest *vcm_request_new (
  const char *method, GVariant *params, GUnixFDList *fds, VcmCaller *caller, gboolean granted);
VcmRequest *vcm_request_ref (VcmRequest *request);
void vcm_request_unref (VcmRequest *request);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VcmRequest, vcm_request_unref)

#define VCM_TYPE_ENGINE (vcm_engine_get_type ())
G_DECLARE_DERIVABLE_TYPE (VcmEngine, vcm_engine, VCM, ENGINE, GObject)

struct _VcmEngineClass {
  GObjectClass parent_class;

  /* The size and syntax of @method's arguments; VCM_ERROR_NOT_AUTHORIZED
   * for a method the engine does not serve. Before anything else. */
  gboolean (*validate) (VcmEngine *engine, const char *method, GVariant *params, GError **error);
  /* Admits @request and resolves what it will do: its actions, details and
   * message filled. Cancelled (G_IO_ERROR_CANCELLED) while it waits its turn
   * when @cancellable is. */
  void (*prepare_async) (VcmEngine *engine,
                         VcmRequest *request,
                         GCancellable *cancellable,
                         GAsyncReadyCallback callback,
                         gpointer user_data);
  gboolean (*prepare_finish) (VcmEngine *engine, GAsyncResult *result, GError **error);
  /* Optional: prepares @request here and now where nothing of it need wait
   * (root's requests that walk no path): TRUE done, FALSE with @error
   * refused; FALSE without @error: prepare_async() it is. */
  gboolean (*prepare_now) (VcmEngine *engine, VcmRequest *request, GError **error);
  /* Does @request, authorized; the answer is the method's out arguments (a
   * tuple, floating or not) and, with *@out_fds, the descriptors it names. */
  void (*run_async) (VcmEngine *engine,
                     VcmRequest *request,
                     GCancellable *cancellable,
                     GAsyncReadyCallback callback,
                     gpointer user_data);
  GVariant *(*run_finish) (VcmEngine *engine,
                           GAsyncResult *result,
                           GUnixFDList **out_fds,
                           GError **error);
  /* The service's properties. */
  const char *(*get_shared_dir) (VcmEngine *engine);
  guint64 (*get_generation) (VcmEngine *engine);
  guint64 (*get_default_shm_size) (VcmEngine *engine);
  /* Stops: requests waiting their turn end cancelled, work in flight lands
   * "stopping". */
  void (*shutdown) (VcmEngine *engine);
};

/* The real engine: the rootfs manager on @config's shared dir, the
 * queries, the admission of callers that are not root. */
VcmEngine *vcm_engine_new (const VcmConfig *config, GError **error);

gboolean vcm_engine_validate (VcmEngine *engine, const char *method, GVariant *params, GError **error);
void vcm_engine_prepare_async (VcmEngine *engine,
                               VcmRequest *request,
                               GCancellable *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer user_data);
gboolean vcm_engine_prepare_finish (VcmEngine *engine, GAsyncResult *result, GError **error);
gboolean vcm_engine_prepare_now (VcmEngine *engine, VcmRequest *request, GError **error);
void vcm_engine_run_async (VcmEngine *engine,
                           VcmRequest *request,
                           GCancellable *cancellable,
                           GAsyncReadyCallback callback,
                           gpointer user_data);
GVariant *
vcm_engine_run_finish (VcmEngine *engine, GAsyncResult *result, GUnixFDList **out_fds, GError **error);
const char *vcm_engine_get_shared_dir (VcmEngine *engine);
guint64 vcm_engine_get_generation (VcmEngine *engine);
guint64 vcm_engine_get_default_shm_size (VcmEngine *engine);
void vcm_engine_shutdown (VcmEngine *engine);

/* Signals, on the main thread:
 * "rootfs-changed" (const VcmChange *): a rootfs was mounted or unmounted by
 *   the service, or changed behind its back;
 * "mount-added" (GVariant *info): a mount the service made, with its
 *   identity (a{sv});
 * "mount-removed" (GVariant *info, GStrv detached): one it unmounted. */

/* The polkit action that guards @method, from the XML's annotations; NULL
 * for a method the engine does not serve (such a call is refused). */
const char *vcm_engine_action_for_method (const char *method);

G_END_DECLS
