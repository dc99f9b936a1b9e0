/* vcm-identity: a mount's identity as mount_info, and its record in a
 * trusted.* extended attribute of the mount point the service made. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "vcm-fd.h"
#include "vcm-identity.h"
#include "vcm-sys.h"

/* The record: a version, the mount's 32-bit ID, the info. */
#define RECORD_TYPE    "(qta{sv})"
#define RECORD_VERSION 1
/* far above any info the service writes: a bigger value is not its own */
#define RECORD_MAX     16384

GVariantDict *
vcm_identity_new (const char *kind,
                  const char *mount_point,
                  const char *sandbox_id,
                  const char *container_id,
                  uid_t caller_uid,
                  const char *source,
                  GVariant *options)
{
  GVariantDict *info = g_variant_dict_new (NULL);

  g_variant_dict_insert (info, "kind", "s", kind);
  if (mount_point != NULL)
    g_variant_dict_insert (info, "mount-point", "s", mount_point);
  g_variant_dict_insert (info, "sandbox-id", "s", sandbox_id != NULL ? sandbox_id : "");
  g_variant_dict_insert (info, "container-id", "s", container_id != NULL ? container_id : "");
  g_variant_dict_insert (info, "caller-uid", "u", (guint32) caller_uid);
  if (source != NULL)
    g_variant_dict_insert (info, "source", "s", source);
  if (options != NULL)
    g_variant_dict_insert_value (info, "options", options);
  return info;
}

void
vcm_identity_add_source_ids (GVariantDict *info, guint major, guint minor, guint64 inode, uid_t owner)
{
  g_variant_dict_insert (info, "source-major", "u", major);
  g_variant_dict_insert (info, "source-minor", "u", minor);
  g_variant_dict_insert (info, "source-inode", "t", inode);
  g_variant_dict_insert (info, "source-owner", "u", (guint32) owner);
}

void
vcm_identity_add_source_fd (GVariantDict *info, int fd)
{
  struct statx stx = { 0 };

  /* from the caches (AT_STATX_DONT_SYNC): called on the main loop, where a
   * source on a FUSE or network filesystem that never answers must not be
   * asked; its device and inode never change, its owner is as last seen */
  if (fd >= 0 && statx (fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_INO | STATX_UID, &stx) == 0)
    vcm_identity_add_source_ids (info, stx.stx_dev_major, stx.stx_dev_minor, stx.stx_ino, stx.stx_uid);
}

void
vcm_identity_add_mount_fd (GVariantDict *info, int mnt_fd)
{
  guint64 id = 0;
  gboolean unique = vcm_sys_unique_mount_id (mnt_fd, &id) == 0;

  if (!unique && vcm_sys_stat_mount (mnt_fd, "", AT_EMPTY_PATH, &id, NULL, NULL, NULL, NULL) < 0)
    return;
  g_variant_dict_insert (info, "mount-id", "t", id);
  g_variant_dict_insert (info, "mount-id-unique", "b", unique);
}

/* A clone of the shared dir's mount without its submounts: paths in it lead
 * to what the service's mounts cover (the one kept: no grace period waited
 * for on the main loop on each mount and unmount). */
static int
clone_shared (int shared_fd)
{
  return vcm_sys_clone_mount_cached (shared_fd);
}

static int
open_covered (int clone_fd, const char *relpath)
{
  return vcm_sys_openat2 (
    clone_fd, relpath, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0,
    RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV);
}

gboolean
vcm_identity_record (int shared_fd, const char *relpath, guint64 old_id, GVariant *info)
{
  vcm_autofd int clone_fd = clone_shared (shared_fd);
  vcm_autofd int fd = -1;
  g_autoptr (GVariant) record = NULL;

  if (clone_fd < 0 || (fd = open_covered (clone_fd, relpath)) < 0)
    {
      g_debug ("Not recording the identity of the mount at %s: %s", relpath, g_strerror (errno));
      return FALSE;
    }
  record = g_variant_ref_sink (g_variant_new ("(qt@a{sv})", (guint16) RECORD_VERSION, old_id, info));
  if (fsetxattr (fd, VCM_IDENTITY_XATTR, g_variant_get_data (record), g_variant_get_size (record), 0) <
      0)
    {
      g_debug ("Cannot record the identity of the mount at %s: %s", relpath, g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

/* The record on @fd, if it is one of the service's: the IDs of the mount it
 * names, and (@out_info, may be NULL) its info. */
static gboolean
recorded_ids (int fd, VcmSysMountIds *out, GVariant **out_info)
{
  g_autofree char *buf = g_malloc (RECORD_MAX);
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GVariant) record = NULL;
  g_autoptr (GVariant) info = NULL;
  ssize_t n = fgetxattr (fd, VCM_IDENTITY_XATTR, buf, RECORD_MAX);
  guint16 version;
  guint64 old_id;

  if (n <= 0)
    return FALSE;
  bytes = g_bytes_new_take (g_steal_pointer (&buf), n);
  record = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE (RECORD_TYPE), bytes, FALSE));
  if (!g_variant_is_normal_form (record))
    return FALSE;
  g_variant_get (record, "(qt@a{sv})", &version, &old_id, &info);
  if (version != RECORD_VERSION)
    return FALSE;
  vcm_identity_ids (info, old_id, out);
  if (out_info != NULL)
    *out_info = g_steal_pointer (&info);
  return TRUE;
}

/* The record on the mount point @relpath: its info (with recovered =
 * true) and the IDs of the mount it names; NULL if there is none of the
 * service's. */
static GVariant *
read_record (int clone_fd, const char *relpath, VcmSysMountIds *out_ids)
{
  vcm_autofd int fd = open_covered (clone_fd, relpath);
  g_autoptr (GVariant) info = NULL;
  GVariantDict dict;

  if (fd < 0 || !recorded_ids (fd, out_ids, &info))
    return NULL;
  g_variant_dict_init (&dict, info);
  g_variant_dict_insert (&dict, "recovered", "b", TRUE);
  return g_variant_ref_sink (g_variant_dict_end (&dict));
}

static void
variant_unref0 (gpointer variant)
{
  if (variant != NULL)
    g_variant_unref (variant);
}

gboolean
vcm_identity_names (const VcmSysMountIds *recorded, const VcmSysMountIds *live)
{
  if (recorded->old_id == 0 || recorded->old_id != live->old_id)
    return FALSE;
  if (recorded->unique_id != 0 || live->unique_id != 0)
    return recorded->unique_id == live->unique_id;
  return TRUE;
}

/* Whether @path is @prefix or lies beneath it. */
static gboolean
at_or_beneath (const char *path, const char *prefix)
{
  gsize n = strlen (prefix);

  if (n > 0 && prefix[n - 1] == '/')
    n--;
  return strncmp (path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* vcm_identity_live_ids () from the mount tree: from the mount of
 * @shared_fd down, only into the mounts on the way to a target. Stops
 * where the kernel (or a filter) refuses listmount(2) or statmount(2). */
static void
live_ids_from_tree (int shared_fd, const char *const *targets, VcmSysMountIds *ids, guint n)
{
  g_autoptr (GArray) todo = g_array_new (FALSE, FALSE, sizeof (guint64));
  guint64 root = 0;
  guint left = 0;

  for (guint i = 0; i < n; i++)
    left += ids[i].unique_id == 0 && ids[i].old_id != 0;
  if (left == 0 || vcm_sys_unique_mount_id (shared_fd, &root) < 0)
    return;
  g_array_append_val (todo, root);
  /* each mount is visited once: a mount has one parent */
  while (todo->len > 0 && left > 0)
    {
      guint64 parent = g_array_index (todo, guint64, todo->len - 1);
      g_autoptr (GArray) children = NULL;

      g_array_set_size (todo, todo->len - 1);
      children = vcm_sys_listmount_all (parent);
      if (children == NULL)
        return; /* refused, or gone meanwhile: nothing there to find */
      for (guint k = 0; k < children->len; k++)
        {
          guint64 child = g_array_index (children, guint64, k);
          g_autofree char *point = NULL;
          VcmSysMountBrief brief;
          gboolean on_the_way = FALSE;
          int errsv = 0;

          if (!vcm_sys_statmount_brief (child, &brief, &point, &errsv) || point == NULL)
            {
              if (errsv == ENOENT)
                continue; /* gone meanwhile */
              return;
            }
          for (guint i = 0; i < n; i++)
            {
              if (ids[i].unique_id != 0 || ids[i].old_id == 0 || !at_or_beneath (targets[i], point))
                continue;
              on_the_way = TRUE; /* a target there, or a mount stacked on it */
              if (brief.mnt_id_old == ids[i].old_id && g_str_equal (targets[i], point))
                {
                  ids[i].unique_id = child;
                  left--;
                }
            }
          if (on_the_way)
            g_array_append_val (todo, child);
        }
    }
}

void
vcm_identity_live_ids (int shared_fd, const char *const *targets, VcmSysMountIds *ids, guint n)
{
  live_ids_from_tree (shared_fd, targets, ids, n);
  /* what the tree did not tell (no statmount(2); a mount on the way
   * covered): statx(2) of the top-most mount at each target (a mount
   * stacked on the one asked for hides its ID: left unknown), the path
   * opened as far as the caches know it (the plain walk only where
   * openat2(2) is refused, as everywhere on the main loop) */
  for (guint i = 0; i < n; i++)
    {
      vcm_autofd int fd = -1;
      guint64 old_id = 0, unique_id = 0;

      if (ids[i].unique_id != 0 || ids[i].old_id == 0 || (fd = vcm_sys_open_cached (targets[i])) < 0)
        continue;
      if (vcm_sys_stat_mount (fd, "", AT_EMPTY_PATH, &old_id, NULL, NULL, NULL, NULL) == 0 &&
          old_id == ids[i].old_id && vcm_sys_unique_mount_id (fd, &unique_id) == 0)
        ids[i].unique_id = unique_id;
    }
}

GPtrArray *
vcm_identity_recover (int shared_fd,
                      const char *shared_dir,
                      const char *const *relpaths,
                      const VcmSysMountIds *ids,
                      guint n_relpaths)
{
  GPtrArray *out = g_ptr_array_new_full (n_relpaths, variant_unref0);
  vcm_autofd int clone_fd = n_relpaths > 0 ? clone_shared (shared_fd) : -1;
  g_autofree VcmSysMountIds *recorded = g_new0 (VcmSysMountIds, n_relpaths);
  g_autofree VcmSysMountIds *live = g_memdup2 (ids, sizeof (VcmSysMountIds) * n_relpaths);
  g_autoptr (GPtrArray) targets = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GArray) ask = g_array_new (FALSE, FALSE, sizeof (VcmSysMountIds));
  g_autoptr (GArray) asked = g_array_new (FALSE, FALSE, sizeof (guint));

  for (guint i = 0; i < n_relpaths; i++)
    {
      GVariant *info = clone_fd >= 0 ? read_record (clone_fd, relpaths[i], &recorded[i]) : NULL;

      /* a record of another 32-bit ID names another mount; one with a
       * unique ID needs the live mount's (looked up once, for all) */
      if (info != NULL && recorded[i].old_id != live[i].old_id)
        g_clear_pointer (&info, g_variant_unref);
      g_ptr_array_add (out, info);
      if (info != NULL && live[i].unique_id == 0 && recorded[i].unique_id != 0)
        {
          g_ptr_array_add (targets, g_build_filename (shared_dir, relpaths[i], NULL));
          g_array_append_val (ask, live[i]);
          g_array_append_val (asked, i);
        }
    }
  if (ask->len > 0)
    vcm_identity_live_ids (shared_fd, (const char *const *) targets->pdata, (VcmSysMountIds *) ask->data,
                           ask->len);
  for (guint k = 0; k < asked->len; k++)
    live[g_array_index (asked, guint, k)] = g_array_index (ask, VcmSysMountIds, k);
  for (guint i = 0; i < n_relpaths; i++)
    if (out->pdata[i] != NULL && !vcm_identity_names (&recorded[i], &live[i]))
      g_clear_pointer (&out->pdata[i], g_variant_unref); /* an earlier mount's */
  return out;
}

void
vcm_identity_ids (GVariant *info, guint64 old_id, VcmSysMountIds *out)
{
  gboolean unique = FALSE;
  guint64 id = 0;

  out->old_id = old_id;
  out->unique_id = 0;
  if (info != NULL && g_variant_lookup (info, "mount-id-unique", "b", &unique) && unique &&
      g_variant_lookup (info, "mount-id", "t", &id))
    out->unique_id = id;
}

void
vcm_identity_forget (int shared_fd, const char *relpath, const VcmSysMountIds *gone)
{
  vcm_autofd int clone_fd = clone_shared (shared_fd);
  vcm_autofd int fd = clone_fd >= 0 ? open_covered (clone_fd, relpath) : -1;
  VcmSysMountIds recorded;

  if (fd < 0)
    return;
  if (recorded_ids (fd, &recorded, NULL) && !vcm_sys_mount_ids_match (&recorded, gone))
    return; /* a later mount's, made at the same place */
  if (fremovexattr (fd, VCM_IDENTITY_XATTR) < 0 && errno != ENODATA)
    g_debug ("Cannot remove the identity record of %s: %s", relpath, g_strerror (errno));
}
