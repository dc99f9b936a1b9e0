/* vcm-mount-info: VcmMountInfo, read-only, made from the mount info a{sv}
 * of the service's replies and signals; keys it does not know are kept in
 * the variant for those who need them. */
#include "vcm-client-private.h"
#include "vcm-value-type.h"

/**
 * VcmMountInfo:
 *
 * What identifies a mount the service made: the answer of
 * vcm_client_mount_rootfs_fd(), vcm_client_bind_mount_fd() and
 * vcm_client_open_mount(), an item of vcm_client_list_mounts(), and the
 * argument of the service's `MountAdded` and `MountRemoved` signals.
 *
 * Keys the service could not tell (after a restart, see
 * vcm_mount_info_get_recovered()) read as empty strings and zeros; the
 * whole dictionary is vcm_mount_info_get_variant().
 */
/**
 * VcmMountInfoClass:
 * @parent_class: the parent class
 *
 * The class of #VcmMountInfo; final, nothing to override.
 */
#define VCM_MOUNT_INFO_FIELDS(X, T, t) \
  X (T, t, VARDICT, variant, NULL) \
  X (T, t, STRING, mount_point, "mount-point") \
  X (T, t, STRING, kind, "kind") \
  X (T, t, STRING, sandbox_id, "sandbox-id") \
  X (T, t, STRING, container_id, "container-id") \
  X (T, t, STRING, source, "source") \
  X (T, t, UINT64, mount_id, "mount-id") \
  X (T, t, BOOLEAN, mount_id_unique, "mount-id-unique") \
  X (T, t, UINT, caller_uid, "caller-uid") \
  X (T, t, BOOLEAN, recovered, "recovered") \
  X (T, t, VARDICT, options, "options")

VCM_DEFINE_VALUE_TYPE (VcmMountInfo, vcm_mount_info, VCM_MOUNT_INFO_FIELDS)

/**
 * vcm_mount_info_new_from_variant:
 * @mount_info: the service's mount info, of type `a{sv}`
 *
 * Reads the mount info of a reply or a signal (`MountAdded`,
 * `MountRemoved`). A key of the wrong type reads as absent.
 *
 * Returns: (transfer full): the mount info
 */
VcmMountInfo *
vcm_mount_info_new_from_variant (GVariant *mount_info)
{
  g_autoptr (GVariant) owned = NULL;

  g_return_val_if_fail (mount_info != NULL, NULL);
  g_return_val_if_fail (g_variant_is_of_type (mount_info, G_VARIANT_TYPE_VARDICT), NULL);
  owned = g_variant_ref_sink (mount_info);
  return _vcm_mount_info_new_from_variant (owned);
}

VcmMountInfo *
_vcm_mount_info_new_with_mount_point (GVariant *mount_info, const char *mount_point)
{
  g_auto (GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);

  if (mount_point == NULL || g_variant_lookup (mount_info, "mount-point", "&s", NULL))
    return vcm_mount_info_new_from_variant (mount_info);
  /* the reply's mount point, also in the dictionary */
  g_variant_dict_clear (&dict);
  g_variant_dict_init (&dict, mount_info);
  g_variant_dict_insert (&dict, "mount-point", "s", mount_point);
  return vcm_mount_info_new_from_variant (g_variant_dict_end (&dict));
}

/**
 * vcm_mount_info_get_mount_point:
 * @self: a #VcmMountInfo
 *
 * Where the mount is attached, beneath the service's shared directory.
 *
 * Returns: the mount point, or "" for a detached mount
 */

/**
 * vcm_mount_info_get_kind:
 * @self: a #VcmMountInfo
 *
 * What the mount is for.
 *
 * Returns: `rootfs`, `bind` or `detached`
 */

/**
 * vcm_mount_info_get_sandbox_id:
 * @self: a #VcmMountInfo
 *
 * The sandbox the mount point lies in.
 *
 * Returns: the sandbox ID, or "" when it lies in none
 */

/**
 * vcm_mount_info_get_container_id:
 * @self: a #VcmMountInfo
 *
 * The container the mount point lies in.
 *
 * Returns: the container ID, or "" when it lies in none
 */

/**
 * vcm_mount_info_get_mount_id:
 * @self: a #VcmMountInfo
 *
 * The kernel's ID of the mount: the 64-bit unique mount ID, never reused
 * while the system runs, or where the kernel lacks it the 32-bit mount ID
 * of `/proc/self/mountinfo` (see vcm_mount_info_get_mount_id_unique()).
 *
 * Returns: the mount ID, 0 if unknown
 */

/**
 * vcm_mount_info_get_mount_id_unique:
 * @self: a #VcmMountInfo
 *
 * Tells which mount ID vcm_mount_info_get_mount_id() is.
 *
 * Returns: %TRUE for the unique 64-bit ID, %FALSE for the reusable 32-bit one
 */

/**
 * vcm_mount_info_get_source:
 * @self: a #VcmMountInfo
 *
 * The source as the service saw it: the path the kernel gave for it, as
 * seen from the source's mount namespace.
 *
 * Returns: the source path, or "" if unknown
 */

/**
 * vcm_mount_info_get_caller_uid:
 * @self: a #VcmMountInfo
 *
 * Who asked for the mount.
 *
 * Returns: the caller's uid
 */

/**
 * vcm_mount_info_get_recovered:
 * @self: a #VcmMountInfo
 *
 * Whether the service learned this after a restart, from the kernel and the
 * record it keeps on the mount point; keys it could not recover are absent.
 *
 * Returns: %TRUE if recovered after a restart
 */

/**
 * vcm_mount_info_get_options:
 * @self: a #VcmMountInfo
 *
 * The options in force, with the keys of #VcmMountOptions (`read-only`,
 * `recursive`, `nosuid`, `nodev`, `noexec`, `propagation`, and `idmapped`).
 *
 * Returns: (transfer none): the options, of type `a{sv}`
 */

/**
 * vcm_mount_info_get_variant:
 * @self: a #VcmMountInfo
 *
 * The whole mount info as the service sent it, also the keys this type has
 * no getter for (`source-major`, `source-minor`, `source-inode`,
 * `source-owner`, and any a newer service adds).
 *
 * Returns: (transfer none): the mount info, of type `a{sv}`
 */
