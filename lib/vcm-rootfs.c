/* vcm-rootfs: one rootfs mount (sandbox ID, container ID, mount point,
 * read-only). Immutable to users; a VcmRootfsSet updates read-only in place
 * (with notify::read-only) when the mount is remounted. ListRootfs's reply
 * becomes a sorted array of them here. */
#include "vcm-client-private.h"
#include "vcm-value-type.h"

/**
 * VcmRootfs:
 *
 * A container's root filesystem as mounted by the service at
 * `SHARED_DIR/SANDBOX_ID/CONTAINER_ID/rootfs`.
 *
 * A #VcmRootfs is identified by its sandbox and container IDs. The items of a
 * #VcmRootfsSet change only their #VcmRootfs:read-only property (when the
 * mount is remounted); everything else is fixed.
 */
/**
 * VcmRootfsClass:
 * @parent_class: the parent class
 *
 * The class of #VcmRootfs; final, nothing to override.
 */
struct _VcmRootfs {
  GObject parent_instance;
  char *sandbox_id;
  char *container_id;
  char *mount_point;
  gboolean read_only;
};

G_DEFINE_FINAL_TYPE (VcmRootfs, vcm_rootfs, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_SANDBOX_ID,
  PROP_CONTAINER_ID,
  PROP_MOUNT_POINT,
  PROP_READ_ONLY,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

static void
vcm_rootfs_finalize (GObject *object)
{
  VcmRootfs *self = VCM_ROOTFS (object);

  g_free (self->sandbox_id);
  g_free (self->container_id);
  g_free (self->mount_point);
  G_OBJECT_CLASS (vcm_rootfs_parent_class)->finalize (object);
}

/* Every property is its member. */
static const gsize prop_members[N_PROPS] = {
  [PROP_SANDBOX_ID] = G_STRUCT_OFFSET (VcmRootfs, sandbox_id),
  [PROP_CONTAINER_ID] = G_STRUCT_OFFSET (VcmRootfs, container_id),
  [PROP_MOUNT_POINT] = G_STRUCT_OFFSET (VcmRootfs, mount_point),
  [PROP_READ_ONLY] = G_STRUCT_OFFSET (VcmRootfs, read_only),
};

static void
vcm_rootfs_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  _vcm_member_get_property (object, prop_members[prop_id], value);
}

static void
vcm_rootfs_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  _vcm_member_set_property (object, prop_members[prop_id], value);
}

static void
vcm_rootfs_class_init (VcmRootfsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = vcm_rootfs_finalize;
  object_class->get_property = vcm_rootfs_get_property;
  object_class->set_property = vcm_rootfs_set_property;

  /**
   * VcmRootfs:sandbox-id:
   *
   * The sandbox the container belongs to.
   */
  props[PROP_SANDBOX_ID] = g_param_spec_string (
    "sandbox-id", NULL, NULL, "", G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  /**
   * VcmRootfs:container-id:
   *
   * The container whose root filesystem this is.
   */
  props[PROP_CONTAINER_ID] = g_param_spec_string (
    "container-id", NULL, NULL, "", G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  /**
   * VcmRootfs:mount-point:
   *
   * The absolute path the root filesystem is mounted at.
   */
  props[PROP_MOUNT_POINT] = g_param_spec_string (
    "mount-point", NULL, NULL, "", G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  /**
   * VcmRootfs:read-only:
   *
   * Whether the mount is read-only. In a #VcmRootfsSet it follows remounts.
   */
  props[PROP_READ_ONLY] = g_param_spec_boolean ("read-only", NULL, NULL, FALSE,
                                                G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                                                  G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);
}

static void
vcm_rootfs_init (VcmRootfs *self)
{
}

/**
 * vcm_rootfs_new:
 * @sandbox_id: the sandbox ID
 * @container_id: the container ID
 * @mount_point: the mount point
 * @read_only: whether the mount is read-only
 *
 * Makes a #VcmRootfs: the library makes them from the service's answers; this
 * is for tests and for applications that keep rootfs of their own.
 *
 * Returns: (transfer full): a new #VcmRootfs
 */
VcmRootfs *
vcm_rootfs_new (const char *sandbox_id,
                const char *container_id,
                const char *mount_point,
                gboolean read_only)
{
  g_return_val_if_fail (sandbox_id != NULL, NULL);
  g_return_val_if_fail (container_id != NULL, NULL);
  g_return_val_if_fail (mount_point != NULL, NULL);
  return g_object_new (VCM_TYPE_ROOTFS, "sandbox-id", sandbox_id, "container-id", container_id,
                       "mount-point", mount_point, "read-only", read_only, NULL);
}

/**
 * vcm_rootfs_get_sandbox_id:
 * @self: a #VcmRootfs
 *
 * Gets the ID of the sandbox the rootfs belongs to.
 *
 * Returns: the sandbox ID
 */
const char *
vcm_rootfs_get_sandbox_id (VcmRootfs *self)
{
  g_return_val_if_fail (VCM_IS_ROOTFS (self), NULL);
  return self->sandbox_id;
}

/**
 * vcm_rootfs_get_container_id:
 * @self: a #VcmRootfs
 *
 * Gets the ID of the container whose rootfs it is.
 *
 * Returns: the container ID
 */
const char *
vcm_rootfs_get_container_id (VcmRootfs *self)
{
  g_return_val_if_fail (VCM_IS_ROOTFS (self), NULL);
  return self->container_id;
}

/**
 * vcm_rootfs_get_mount_point:
 * @self: a #VcmRootfs
 *
 * Gets where the rootfs is mounted: `SHARED_DIR/SANDBOX/CONTAINER/rootfs`.
 *
 * Returns: the absolute path of the mount
 */
const char *
vcm_rootfs_get_mount_point (VcmRootfs *self)
{
  g_return_val_if_fail (VCM_IS_ROOTFS (self), NULL);
  return self->mount_point;
}

/**
 * vcm_rootfs_get_read_only:
 * @self: a #VcmRootfs
 *
 * Tells whether the rootfs mount is read-only now (#VcmRootfs:read-only).
 *
 * Returns: whether the mount is read-only
 */
gboolean
vcm_rootfs_get_read_only (VcmRootfs *self)
{
  g_return_val_if_fail (VCM_IS_ROOTFS (self), FALSE);
  return self->read_only;
}

void
_vcm_rootfs_set_read_only (VcmRootfs *self, gboolean read_only)
{
  read_only = !!read_only;
  if (self->read_only == read_only)
    return;
  self->read_only = read_only;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_READ_ONLY]);
}

int
_vcm_rootfs_compare_key (VcmRootfs *self, const char *sandbox_id, const char *container_id)
{
  int r = strcmp (self->sandbox_id, sandbox_id);

  return r != 0 ? r : strcmp (self->container_id, container_id);
}

static int
compare_rootfs_ptr (gconstpointer a, gconstpointer b)
{
  VcmRootfs *ra = *(VcmRootfs *const *) a;
  VcmRootfs *rb = *(VcmRootfs *const *) b;

  return _vcm_rootfs_compare_key (ra, rb->sandbox_id, rb->container_id);
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
          _vcm_rootfs_compare_key (items->pdata[kept - 1], r->sandbox_id, r->container_id) == 0)
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
