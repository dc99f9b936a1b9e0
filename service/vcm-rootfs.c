/* vcm-rootfs: what a rootfs is, the layout that names it, and the rootfs set
 * read from a mount table. */
#include "config.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "vcm-fd.h"
#include "vcm-rootfs.h"
#include "vcm-sys.h"
#include "vcm-validate.h"

VcmRootfsRecord *
vcm_rootfs_record_new (const char *sandbox_id,
                       const char *container_id,
                       const char *mount_point,
                       guint64 mount_id,
                       gboolean read_only)
{
  gsize ls = strlen (sandbox_id) + 1, lc = strlen (container_id) + 1, lm = strlen (mount_point) + 1;
  VcmRootfsRecord *r = g_malloc0 (sizeof *r + ls + lc + lm);
  char *p = (char *) (r + 1);

  r->sandbox_id = memcpy (p, sandbox_id, ls);
  r->container_id = memcpy (p + ls, container_id, lc);
  r->mount_point = memcpy (p + ls + lc, mount_point, lm);
  r->mount_id = mount_id;
  r->read_only = read_only;
  return r;
}

VcmRootfsRecord *
vcm_rootfs_record_copy (const VcmRootfsRecord *rootfs)
{
  VcmRootfsRecord *copy = vcm_rootfs_record_new (
    rootfs->sandbox_id, rootfs->container_id, rootfs->mount_point, rootfs->mount_id, rootfs->read_only);

  copy->unique_id = rootfs->unique_id;
  return copy;
}

void
vcm_rootfs_record_free (VcmRootfsRecord *rootfs)
{
  g_free (rootfs);
}

char *
vcm_rootfs_relpath (const char *sandbox_id, const char *container_id)
{
  return g_strdup_printf ("%s/%s/" VCM_ROOTFS_DIR, sandbox_id, container_id);
}

gint
vcm_rootfs_record_compare (gconstpointer a, gconstpointer b)
{
  const VcmRootfsRecord *ra = *(const VcmRootfsRecord **) a;
  const VcmRootfsRecord *rb = *(const VcmRootfsRecord **) b;
  int c = strcmp (ra->sandbox_id, rb->sandbox_id);

  return c != 0 ? c : strcmp (ra->container_id, rb->container_id);
}

/* Whether a mount on a directory of the rootfs mount @e's path beneath the
 * shared dir (SANDBOX or SANDBOX/CONTAINER, @dirs) covers it: the top mount
 * there is not one of the mounts @e lies in, so the path leads elsewhere. */
static gboolean
covered (VcmMountTable *table, const VcmMountEntry *e, const char *const *dirs)
{
  for (guint i = 0; dirs[i] != NULL; i++)
    {
      const VcmMountEntry *top = vcm_mount_table_lookup_target (table, dirs[i]);
      const VcmMountEntry *p = e;
      gboolean within = FALSE;

      if (top == NULL)
        continue;
      /* up the mounts @e lies in; the bound only stops a malformed table */
      for (guint depth = 0; p != NULL && !within && depth < 4096; depth++)
        {
          within = p->parent_id == top->id;
          p = p->parent_id != p->id ? vcm_mount_table_lookup_id (table, p->parent_id) : NULL;
        }
      if (!within)
        return TRUE;
    }
  return FALSE;
}

GPtrArray *
vcm_rootfs_list_in_table (const char *shared_dir, VcmMountTable *table, const char *sandbox_id)
{
  g_autoptr (GPtrArray) result =
    g_ptr_array_new_with_free_func ((GDestroyNotify) vcm_rootfs_record_free);
  g_autofree char *prefix = NULL;
  g_autoptr (GPtrArray) beneath = NULL;

  if (sandbox_id != NULL && *sandbox_id != '\0')
    prefix = g_build_filename (shared_dir, sandbox_id, NULL);
  else
    prefix = g_strdup (shared_dir);

  beneath = vcm_mount_table_get_beneath (table, prefix);
  for (guint i = 0; i < beneath->len; i++)
    {
      const VcmMountEntry *e = beneath->pdata[i];
      const char *rel = vcm_path_relative_to (e->target, shared_dir);
      g_auto (GStrv) parts = NULL;

      if (rel == NULL || *rel == '\0')
        continue;
      parts = g_strsplit (rel, "/", -1);
      if (g_strv_length (parts) != 3 || !g_str_equal (parts[2], VCM_ROOTFS_DIR) ||
          !vcm_validate_id ("sandbox_id", parts[0], NULL) ||
          !vcm_validate_id ("container_id", parts[1], NULL))
        continue;
      if (vcm_mount_table_lookup_target (table, e->target) != e)
        continue; /* stacked below another mount: the top one counts */
      {
        g_autofree char *sbx = g_build_filename (shared_dir, parts[0], NULL);
        g_autofree char *cid = g_build_filename (sbx, parts[1], NULL);
        const char *dirs[] = { sbx, cid, NULL };

        if (covered (table, e, dirs))
          continue; /* its path leads into a mount made above it: out of reach */
      }
      g_ptr_array_add (result,
                       vcm_rootfs_record_new (parts[0], parts[1], e->target, e->id, e->read_only));
    }
  g_ptr_array_sort (result, vcm_rootfs_record_compare);
  return g_steal_pointer (&result);
}

void
vcm_rootfs_fill_unique_ids (GPtrArray *rootfs)
{
  for (guint i = 0; i < rootfs->len; i++)
    {
      VcmRootfsRecord *r = rootfs->pdata[i];
      /* only as far as the caches know the path: a mount point in (or a
       * path through) a filesystem that never answers must not hold up the
       * start or a read of the table; such a rootfs is probed later, off
       * the main loop */
      vcm_autofd int fd = vcm_sys_open_cached (r->mount_point);
      guint64 id = 0;

      r->unique_id = 0;
      if (fd < 0 || vcm_sys_stat_mount (fd, "", AT_EMPTY_PATH, &id, NULL, NULL, NULL, NULL) < 0 ||
          id != r->mount_id)
        continue; /* the path leads elsewhere by now: compared by mountinfo ID */
      if (vcm_sys_unique_mount_id (fd, &r->unique_id) < 0)
        r->unique_id = 0;
    }
}
