/* vcm-mount-info: VcmMountInfo, read-only, made from the mount info a{sv}
 * of the service's replies and signals; keys it does not know are kept in
 * the variant for those who need them. */
#include "vcm-client-private.h"

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
struct _VcmMountInfo {
  GObject parent_instance;
  GVariant *variant; /* a{sv} */
  char *mount_point;
  char *kind;
  char *sandbox_id;
  char *container_id;
  char *source;
  guint64 mount_id;
  gboolean mount_id_unique;
  guint caller_uid;
  gboolean recovered;
  GVariant *options;
};

G_DEFINE_FINAL_TYPE (VcmMountInfo, vcm_mount_info, G_TYPE_OBJECT)

static void
vcm_mount_info_finalize (GObject *object)
{
  VcmMountInfo *self = VCM_MOUNT_INFO (object);

  g_variant_unref (self->variant);
  g_variant_unref (self->options);
  g_free (self->mount_point);
  g_free (self->kind);
  g_free (self->sandbox_id);
  g_free (self->container_id);
  g_free (self->source);
  G_OBJECT_CLASS (vcm_mount_info_parent_class)->finalize (object);
}

static void
vcm_mount_info_class_init (VcmMountInfoClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = vcm_mount_info_finalize;
}

static void
vcm_mount_info_init (VcmMountInfo *self)
{
}

static char *
lookup_string (GVariantDict *dict, const char *key)
{
  const char *s = NULL;

  return g_strdup (g_variant_dict_lookup (dict, key, "&s", &s) ? s : "");
}

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
  VcmMountInfo *self;
  GVariantDict dict;

  g_return_val_if_fail (mount_info != NULL, NULL);
  g_return_val_if_fail (g_variant_is_of_type (mount_info, G_VARIANT_TYPE_VARDICT), NULL);
  self = g_object_new (VCM_TYPE_MOUNT_INFO, NULL);
  self->variant = g_variant_ref_sink (mount_info);
  g_variant_dict_init (&dict, self->variant);
  self->mount_point = lookup_string (&dict, "mount-point");
  self->kind = lookup_string (&dict, "kind");
  self->sandbox_id = lookup_string (&dict, "sandbox-id");
  self->container_id = lookup_string (&dict, "container-id");
  self->source = lookup_string (&dict, "source");
  g_variant_dict_lookup (&dict, "mount-id", "t", &self->mount_id);
  g_variant_dict_lookup (&dict, "mount-id-unique", "b", &self->mount_id_unique);
  g_variant_dict_lookup (&dict, "caller-uid", "u", &self->caller_uid);
  g_variant_dict_lookup (&dict, "recovered", "b", &self->recovered);
  self->options = g_variant_dict_lookup_value (&dict, "options", G_VARIANT_TYPE_VARDICT);
  if (self->options == NULL)
    self->options = g_variant_ref_sink (g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0));
  g_variant_dict_clear (&dict);
  return self;
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
const char *
vcm_mount_info_get_mount_point (VcmMountInfo *self)
{
  g_return_val_if_fail (VCM_IS_MOUNT_INFO (self), NULL);
  return self->mount_point;
}

/**
 * vcm_mount_info_get_kind:
 * @self: a #VcmMountInfo
 *
 * What the mount is for.
 *
 * Returns: `rootfs`, `bind` or `detached`
 */
const char *
vcm_mount_info_get_kind (VcmMountInfo *self)
{
  g_return_val_if_fail (VCM_IS_MOUNT_INFO (self), NULL);
  return self->kind;
}

/**
 * vcm_mount_info_get_sandbox_id:
 * @self: a #VcmMountInfo
 *
 * The sandbox the mount point lies in.
 *
 * Returns: the sandbox ID, or "" when it lies in none
 */
const char *
vcm_mount_info_get_sandbox_id (VcmMountInfo *self)
{
  g_return_val_if_fail (VCM_IS_MOUNT_INFO (self), NULL);
  return self->sandbox_id;
}

/**
 * vcm_mount_info_get_container_id:
 * @self: a #VcmMountInfo
 *
 * The container the mount point lies in.
 *
 * Returns: the container ID, or "" when it lies in none
 */
const char *
vcm_mount_info_get_container_id (VcmMountInfo *self)
{
  g_return_val_if_fail (VCM_IS_MOUNT_INFO (self), NULL);
  return self->container_id;
}

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
guint64
vcm_mount_info_get_mount_id (VcmMountInfo *self)
{
  g_return_val_if_fail (VCM_IS_MOUNT_INFO (self), 0);
  return self->mount_id;
}

/**
 * vcm_mount_info_get_mount_id_unique:
 * @self: a #VcmMountInfo
 *
 * Tells which mount ID vcm_mount_info_get_mount_id() is.
 *
 * Returns: %TRUE for the unique 64-bit ID, %FALSE for the reusable 32-bit one
 */
gboolean
vcm_mount_info_get_mount_id_unique (VcmMountInfo *self)
{
  g_return_val_if_fail (VCM_IS_MOUNT_INFO (self), FALSE);
  return self->mount_id_unique;
}

/**
 * vcm_mount_info_get_source:
 * @self: a #VcmMountInfo
 *
 * The source as the service saw it: the path the kernel gave for it, as
 * seen from the source's mount namespace.
 *
 * Returns: the source path, or "" if unknown
 */
const char *
vcm_mount_info_get_source (VcmMountInfo *self)
{
  g_return_val_if_fail (VCM_IS_MOUNT_INFO (self), NULL);
  return self->source;
}

/**
 * vcm_mount_info_get_caller_uid:
 * @self: a #VcmMountInfo
 *
 * Who asked for the mount.
 *
 * Returns: the caller's uid
 */
guint
vcm_mount_info_get_caller_uid (VcmMountInfo *self)
{
  g_return_val_if_fail (VCM_IS_MOUNT_INFO (self), 0);
  return self->caller_uid;
}

/**
 * vcm_mount_info_get_recovered:
 * @self: a #VcmMountInfo
 *
 * Whether the service learned this after a restart, from the kernel and the
 * record it keeps on the mount point; keys it could not recover are absent.
 *
 * Returns: %TRUE if recovered after a restart
 */
gboolean
vcm_mount_info_get_recovered (VcmMountInfo *self)
{
  g_return_val_if_fail (VCM_IS_MOUNT_INFO (self), FALSE);
  return self->recovered;
}

/**
 * vcm_mount_info_get_options:
 * @self: a #VcmMountInfo
 *
 * The options in force, with the keys of #VcmMountOptions (`read-only`,
 * `recursive`, `nosuid`, `nodev`, `noexec`, `propagation`, and `idmapped`).
 *
 * Returns: (transfer none): the options, of type `a{sv}`
 */
GVariant *
vcm_mount_info_get_options (VcmMountInfo *self)
{
  g_return_val_if_fail (VCM_IS_MOUNT_INFO (self), NULL);
  return self->options;
}

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
GVariant *
vcm_mount_info_get_variant (VcmMountInfo *self)
{
  g_return_val_if_fail (VCM_IS_MOUNT_INFO (self), NULL);
  return self->variant;
}
