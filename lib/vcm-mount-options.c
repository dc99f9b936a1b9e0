/* vcm-mount-options: the options of the fd-based methods as an object with
 * setters (what GObject-Introspection's languages call easily), packed into
 * the methods' a{sv} by the call core. Only what was set is sent: the
 * service's defaults, written in the interface, hold for the rest. */
#include "vcm-client-private.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <gio/gunixfdlist.h>

/**
 * VcmMountOptions:
 *
 * The options of vcm_client_mount_rootfs_fd(), vcm_client_bind_mount_fd()
 * and vcm_client_open_mount(): read-only, recursive, nosuid, nodev,
 * noexec, a propagation type, and an ID map (uid and gid ranges, or a user
 * namespace file descriptor) for an ID-mapped mount.
 *
 * Only the options set are sent; the service applies its defaults (written
 * in the interface's reference: for a caller that is not root recursive,
 * nosuid and nodev, which it cannot turn off) to the others.
 */
/**
 * VcmMountOptionsClass:
 * @parent_class: the parent class
 *
 * The class of #VcmMountOptions; final, nothing to override.
 */
struct _VcmMountOptions {
  GObject parent_instance;
  GHashTable *plain; /* key -> GVariant: the options but the ID map */
  GArray *uid_map;   /* of Range */
  GArray *gid_map;
  int userns_fd; /* -1: none; owned */
};

typedef struct {
  guint inside;
  guint outside;
  guint count;
} Range;

G_DEFINE_FINAL_TYPE (VcmMountOptions, vcm_mount_options, G_TYPE_OBJECT)

static void
vcm_mount_options_finalize (GObject *object)
{
  VcmMountOptions *self = VCM_MOUNT_OPTIONS (object);

  g_hash_table_unref (self->plain);
  g_array_unref (self->uid_map);
  g_array_unref (self->gid_map);
  if (self->userns_fd >= 0)
    close (self->userns_fd);
  G_OBJECT_CLASS (vcm_mount_options_parent_class)->finalize (object);
}

static void
vcm_mount_options_class_init (VcmMountOptionsClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = vcm_mount_options_finalize;
}

static void
vcm_mount_options_init (VcmMountOptions *self)
{
  self->plain = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) g_variant_unref);
  self->uid_map = g_array_new (FALSE, FALSE, sizeof (Range));
  self->gid_map = g_array_new (FALSE, FALSE, sizeof (Range));
  self->userns_fd = -1;
}

/**
 * vcm_mount_options_new:
 *
 * Makes an empty set of options: the service's defaults for all.
 *
 * Returns: (transfer full): the options
 */
VcmMountOptions *
vcm_mount_options_new (void)
{
  return g_object_new (VCM_TYPE_MOUNT_OPTIONS, NULL);
}

/* @key: a static string */
static void
set_plain (VcmMountOptions *self, const char *key, GVariant *value)
{
  g_hash_table_replace (self->plain, (gpointer) key, g_variant_ref_sink (value));
}

/* The boolean options' setters, vcm_mount_options_set_NAME (self, NAME):
 * the option KEY, documented below. */
#define BOOLEAN_OPTION(NAME, KEY) \
  void vcm_mount_options_set_##NAME (VcmMountOptions *self, gboolean NAME) \
  { \
    g_return_if_fail (VCM_IS_MOUNT_OPTIONS (self)); \
    set_plain (self, KEY, g_variant_new_boolean (NAME)); \
  }
BOOLEAN_OPTION (read_only, "read-only")
BOOLEAN_OPTION (recursive, "recursive")
BOOLEAN_OPTION (nosuid, "nosuid")
BOOLEAN_OPTION (nodev, "nodev")
BOOLEAN_OPTION (noexec, "noexec")
#undef BOOLEAN_OPTION

/**
 * vcm_mount_options_set_read_only:
 * @self: a #VcmMountOptions
 * @read_only: whether the mount is read-only
 *
 * Sets `read-only`: the mount is read-only from the moment it is attached.
 */

/**
 * vcm_mount_options_set_recursive:
 * @self: a #VcmMountOptions
 * @recursive: whether the submounts below the source come along
 *
 * Sets `recursive`. Only root may turn it off: a bind never uncovers what
 * a submount hides.
 */

/**
 * vcm_mount_options_set_nosuid:
 * @self: a #VcmMountOptions
 * @nosuid: whether set-user-ID and set-group-ID bits are ignored
 *
 * Sets `nosuid` (on by default; only root may turn it off).
 */

/**
 * vcm_mount_options_set_nodev:
 * @self: a #VcmMountOptions
 * @nodev: whether device files cannot be opened
 *
 * Sets `nodev` (on by default; only root may turn it off).
 */

/**
 * vcm_mount_options_set_noexec:
 * @self: a #VcmMountOptions
 * @noexec: whether nothing can be executed from the mount
 *
 * Sets `noexec` (off by default).
 */

/**
 * vcm_mount_options_set_propagation:
 * @self: a #VcmMountOptions
 * @propagation: `private` (the default), `slave`, `shared` or `unbindable`
 *
 * Sets the propagation type of the mount. The service checks the name.
 */
void
vcm_mount_options_set_propagation (VcmMountOptions *self, const char *propagation)
{
  g_return_if_fail (VCM_IS_MOUNT_OPTIONS (self));
  g_return_if_fail (propagation != NULL);
  set_plain (self, "propagation", g_variant_new_string (propagation));
}

static void
add_range (GArray *map, guint inside, guint outside, guint count)
{
  Range r = { inside, outside, count };

  g_array_append_val (map, r);
}

/**
 * vcm_mount_options_add_uid_map:
 * @self: a #VcmMountOptions
 * @inside: the first user ID as the filesystem stores it
 * @outside: the first user ID it is shown as through the mount
 * @count: how many IDs the range holds
 *
 * Adds a range of user IDs to the mount's ID map (as a line of
 * `/proc/PID/uid_map`). An ID-mapped mount needs a uid and a gid map; a
 * caller that is not root may map only IDs on the filesystem (@inside)
 * that are its own or delegated to it in `/etc/subuid`; where they are
 * shown is free.
 */
void
vcm_mount_options_add_uid_map (VcmMountOptions *self, guint inside, guint outside, guint count)
{
  g_return_if_fail (VCM_IS_MOUNT_OPTIONS (self));
  add_range (self->uid_map, inside, outside, count);
}

/**
 * vcm_mount_options_add_gid_map:
 * @self: a #VcmMountOptions
 * @inside: the first group ID as the filesystem stores it
 * @outside: the first group ID it is shown as through the mount
 * @count: how many IDs the range holds
 *
 * Adds a range of group IDs to the mount's ID map, as
 * vcm_mount_options_add_uid_map() does for users (`/etc/subgid`).
 */
void
vcm_mount_options_add_gid_map (VcmMountOptions *self, guint inside, guint outside, guint count)
{
  g_return_if_fail (VCM_IS_MOUNT_OPTIONS (self));
  add_range (self->gid_map, inside, outside, count);
}

/**
 * vcm_mount_options_set_userns_fd:
 * @self: a #VcmMountOptions
 * @userns_fd: a file descriptor of a user namespace (`/proc/PID/ns/user`),
 *   or -1 for none
 * @error: return location for an error
 *
 * Makes the mount ID-mapped with the maps of a user namespace instead of
 * ranges. The options keep a copy of @userns_fd (the caller keeps its own).
 * A caller that is not root must own the namespace.
 *
 * Returns: %TRUE, or %FALSE if @userns_fd could not be copied
 */
gboolean
vcm_mount_options_set_userns_fd (VcmMountOptions *self, int userns_fd, GError **error)
{
  int copy = -1;

  g_return_val_if_fail (VCM_IS_MOUNT_OPTIONS (self), FALSE);
  if (userns_fd >= 0)
    {
      copy = fcntl (userns_fd, F_DUPFD_CLOEXEC, 3);
      if (copy < 0)
        {
          int errsv = errno;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv), "userns_fd: %s",
                       g_strerror (errsv));
          return FALSE;
        }
    }
  if (self->userns_fd >= 0)
    close (self->userns_fd);
  self->userns_fd = copy;
  return TRUE;
}

static gboolean
parse_range (const char *text, Range *r)
{
  g_auto (GStrv) parts = g_strsplit (text, ":", -1);
  guint64 v[3];

  if (g_strv_length (parts) != 3)
    return FALSE;
  for (int i = 0; i < 3; i++)
    if (!g_ascii_string_to_unsigned (parts[i], 10, 0, G_MAXUINT32, &v[i], NULL))
      return FALSE;
  r->inside = v[0];
  r->outside = v[1];
  r->count = v[2];
  return r->count > 0;
}

/**
 * vcm_mount_options_set_idmap:
 * @self: a #VcmMountOptions
 * @idmap: ranges `u:INSIDE:OUTSIDE:COUNT` and `g:INSIDE:OUTSIDE:COUNT`,
 *   separated by commas (`b:` for both), as the service's polkit details
 *   show them: `b:100000:0:65536` shows the files stored as IDs 100000 to
 *   165535 as owned by 0 to 65535
 * @error: return location for an error
 *
 * Replaces the uid and gid maps with those of @idmap.
 *
 * Returns: %TRUE, or %FALSE with %G_IO_ERROR_INVALID_ARGUMENT naming the
 *   range at fault (the maps are then as they were)
 */
gboolean
vcm_mount_options_set_idmap (VcmMountOptions *self, const char *idmap, GError **error)
{
  g_auto (GStrv) items = NULL;
  g_autoptr (GArray) uids = g_array_new (FALSE, FALSE, sizeof (Range));
  g_autoptr (GArray) gids = g_array_new (FALSE, FALSE, sizeof (Range));

  g_return_val_if_fail (VCM_IS_MOUNT_OPTIONS (self), FALSE);
  g_return_val_if_fail (idmap != NULL, FALSE);
  items = g_strsplit (idmap, ",", -1);
  for (guint i = 0; items[i] != NULL; i++)
    {
      const char *item = items[i];
      Range r;

      if (strlen (item) < 2 || item[1] != ':' || strchr ("ugb", item[0]) == NULL ||
          !parse_range (item + 2, &r))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "idmap: \"%s\" is not u:INSIDE:OUTSIDE:COUNT, g:… or b:…", item);
          return FALSE;
        }
      if (item[0] != 'g')
        g_array_append_val (uids, r);
      if (item[0] != 'u')
        g_array_append_val (gids, r);
    }
  if (uids->len == 0 || gids->len == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "idmap: \"%s\" needs both a uid and a gid range", idmap);
      return FALSE;
    }
  g_array_set_size (self->uid_map, 0);
  g_array_set_size (self->gid_map, 0);
  g_array_append_vals (self->uid_map, uids->data, uids->len);
  g_array_append_vals (self->gid_map, gids->data, gids->len);
  return TRUE;
}

static GVariant *
map_to_variant (GArray *map)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("a(uuu)"));
  for (guint i = 0; i < map->len; i++)
    {
      Range *r = &g_array_index (map, Range, i);

      g_variant_builder_add (&b, "(uuu)", r->inside, r->outside, r->count);
    }
  return g_variant_builder_end (&b);
}

GVariant *
_vcm_mount_options_pack (VcmMountOptions *self, GUnixFDList *fds, GError **error)
{
  g_auto (GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);
  g_auto (GVariantDict) idmap = G_VARIANT_DICT_INIT (NULL);
  GHashTableIter iter;
  gpointer key, value;

  if (self == NULL)
    return g_variant_dict_end (&dict);
  g_hash_table_iter_init (&iter, self->plain);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_variant_dict_insert_value (&dict, key, value);
  if (self->uid_map->len > 0)
    g_variant_dict_insert_value (&idmap, "uid-map", map_to_variant (self->uid_map));
  if (self->gid_map->len > 0)
    g_variant_dict_insert_value (&idmap, "gid-map", map_to_variant (self->gid_map));
  if (self->userns_fd >= 0)
    {
      int index = g_unix_fd_list_append (fds, self->userns_fd, error);

      if (index < 0)
        {
          g_prefix_error (error, "options: userns: ");
          return NULL;
        }
      g_variant_dict_insert_value (&idmap, "userns", g_variant_new_handle (index));
    }
  if (self->uid_map->len > 0 || self->gid_map->len > 0 || self->userns_fd >= 0)
    g_variant_dict_insert_value (&dict, "idmap", g_variant_dict_end (&idmap));
  return g_variant_dict_end (&dict);
}
