/* fuzz-mounttable: libFuzzer target for the mount table parser. The input is
 * written to a memfd and parsed as a mountinfo file; every entry of a table
 * that parses is walked and looked up by ID and by target, its descendants
 * and the mounts beneath its target are listed, and the indexes are checked
 * against each other. No crash, no leak (LeakSanitizer), no invariant broken. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vcm-error.h"
#include "vcm-fd.h"
#include "vcm-mounttable.h"
#include "vcm-validate.h"

#define CHECK(cond) \
  do \
    { \
      if (!(cond)) \
        { \
          g_printerr ("fuzz-mounttable: invariant failed: %s\n", #cond); \
          abort (); \
        } \
    } \
  while (0)

static void
walk (VcmMountTable *table, const uint8_t *data, size_t size)
{
  guint n = vcm_mount_table_get_size (table);
  g_autoptr (GPtrArray) all = vcm_mount_table_get_beneath (table, "/");

  CHECK (all->len <= n);
  for (guint i = 0; i < n; i++)
    {
      const VcmMountEntry *e = vcm_mount_table_get_nth (table, i);
      const VcmMountEntry *by_id, *by_target;
      g_autoptr (GPtrArray) descendants = NULL;
      g_autoptr (GPtrArray) beneath = NULL;
      g_autoptr (GHashTable) ids = g_hash_table_new (g_int64_hash, g_int64_equal);

      CHECK (e != NULL && e->root != NULL && e->target != NULL && e->source != NULL &&
             e->fstype != NULL && e->vfs_options != NULL && e->fs_options != NULL &&
             e->propagation != NULL);
      CHECK (g_str_equal (e->propagation, "shared") || g_str_equal (e->propagation, "slave") ||
             g_str_equal (e->propagation, "private") || g_str_equal (e->propagation, "unbindable"));

      by_id = vcm_mount_table_lookup_id (table, e->id);
      CHECK (by_id != NULL && by_id->id == e->id);
      by_target = vcm_mount_table_lookup_target (table, e->target);
      CHECK (by_target == NULL || g_str_equal (by_target->target, e->target));
      (void) vcm_mount_table_lookup_id (table, e->parent_id);

      descendants = vcm_mount_table_get_descendants (table, e->id);
      CHECK (descendants->len < n);
      for (guint k = 0; k < descendants->len; k++)
        {
          const VcmMountEntry *d = descendants->pdata[k];

          CHECK (d->id != e->id);
          CHECK (g_hash_table_add (ids, (gpointer) &d->id)); /* each once */
        }

      beneath = vcm_mount_table_get_beneath (table, e->target);
      CHECK (beneath->len <= n);
      if (e->target[0] == '/')
        {
          g_autofree char *norm = vcm_path_normalize (e->target);
          g_autoptr (GPtrArray) beneath_norm = vcm_mount_table_get_beneath (table, norm);
          CHECK (beneath_norm->len <= n);
        }
    }

  /* IDs and targets that are not in the table */
  (void) vcm_mount_table_lookup_id (table, G_MAXUINT64);
  (void) vcm_mount_table_lookup_target (table, "");
  {
    g_autoptr (GPtrArray) none = vcm_mount_table_get_descendants (table, G_MAXUINT64 - 1);
    g_autofree char *prefix = g_strndup ((const char *) data, MIN (size, 64));
    g_autoptr (GPtrArray) some = NULL;

    CHECK (none->len == 0);
    if (g_utf8_validate (prefix, -1, NULL))
      {
        some = vcm_mount_table_get_beneath (table, prefix);
        CHECK (some->len <= n);
      }
  }
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  vcm_autofd int fd = memfd_create ("fuzz-mountinfo", MFD_CLOEXEC);
  g_autofree char *path = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (VcmMountTable) table = NULL;
  size_t done = 0;

  CHECK (fd >= 0);
  while (done < size)
    {
      ssize_t w = write (fd, data + done, size - done);
      CHECK (w > 0);
      done += (size_t) w;
    }
  path = g_strdup_printf ("/proc/self/fd/%d", fd);

  table = vcm_mount_table_new_from_file (path, &error);
  if (table == NULL)
    {
      CHECK (error != NULL && error->domain == VCM_ERROR);
      return 0;
    }
  CHECK (error == NULL);
  walk (table, data, size);

  /* a second reference outlives the first */
  {
    VcmMountTable *extra = vcm_mount_table_ref (table);
    g_clear_pointer (&table, vcm_mount_table_unref);
    CHECK (vcm_mount_table_get_size (extra) < G_MAXUINT);
    vcm_mount_table_unref (extra);
  }
  return 0;
}
