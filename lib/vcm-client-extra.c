/* vcm-client-extra: VcmClient's calls whose C form is not their D-Bus
 * method's, so not generated from the XML (vcm-client-methods.c is):
 * ListMounts, whose filter is given as two strings, and the service's
 * properties in one call (org.freedesktop.DBus.Properties.GetAll). Each
 * is a trio over its row of the call table, as the generated ones are. */
#include "vcm-client-private.h"

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
 *
 * Since: 1.1
 */

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
 *
 * Since: 1.1
 */

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
 *
 * Since: 1.1
 */
VCM_CLIENT_TRIO_OUT (list_mounts,
                     VCM_CALL_LIST_MOUNTS,
                     GPtrArray *,
                     NULL,
                     guint64 *,
                     out_generation,
                     (, const char *sandbox_id, const char *kind),
                     (, mounts_filter (sandbox_id, kind)))

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
VCM_CLIENT_TRIO (
  get_service_info, VCM_CALL_GET_SERVICE_INFO, VcmServiceInfo *, NULL, (), (, VCM_INTERFACE))
