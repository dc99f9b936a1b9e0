/* vcm-mounttable: an immutable, refcounted snapshot of a mount table in
 * /proc/self/mountinfo format. libmount parses it (decoding the \040-style
 * escapes); every string is copied out and the libmount table is freed at
 * once. Indexed by mount ID, by target (top-most mount) and parent -> children.
 *
 * Laid out for tables of tens of thousands of mounts: the entries are one
 * array, their strings live in one string chunk (sources, types, options and
 * roots, which repeat, are stored once), and the children index is one array
 * of entry numbers sorted by parent. A table is a handful of large blocks, not
 * seven small allocations per mount: less memory, and what it frees when it
 * is dropped can go back to the system. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <libmount/libmount.h>

#include "vcm-error.h"
#include "vcm-mounttable.h"
#include "vcm-validate.h"

#define KERNEL_MOUNTINFO "/proc/self/mountinfo"

struct _VcmMountTable {
  gatomicrefcount ref_count;
  VcmMountEntry *entries;     /* n_entries, table order */
  guint          n_entries;
  GStringChunk  *strings;     /* every string of every entry */
  GHashTable    *by_id;       /* guint64* (&entry->id) -> VcmMountEntry* (borrowed) */
  GHashTable    *by_target;   /* const char* -> top-most VcmMountEntry* (borrowed) */
  guint         *child_order; /* entry numbers of every entry with a parent in the
                               * table, sorted by parent ID, table order within one */
  guint          n_children;
  GHashTable    *first_child; /* guint64* (a parent ID) -> position in child_order + 1 */
};

/* propagation from the optional fields: "shared:N" -> shared, "master:N" ->
 * slave, "unbindable" -> unbindable, nothing -> private. A mount that is both
 * shared and a slave ("shared:1 master:2") is reported as shared. */
static const char *
propagation_from_optional_fields (const char *fields)
{
  g_auto(GStrv) tokens = NULL;
  gboolean shared = FALSE, slave = FALSE, unbindable = FALSE;

  if (fields == NULL)
    return "private";

  tokens = g_strsplit_set (fields, " \t", -1);
  for (guint i = 0; tokens[i] != NULL; i++)
    {
      if (g_str_has_prefix (tokens[i], "shared:"))
        shared = TRUE;
      else if (g_str_has_prefix (tokens[i], "master:"))
        slave = TRUE;
      else if (g_str_equal (tokens[i], "unbindable"))
        unbindable = TRUE;
    }

  if (shared)
    return "shared";
  if (slave)
    return "slave";
  if (unbindable)
    return "unbindable";
  return "private";
}

/* A string of the table: @value, or @fallback where libmount has none. Only
 * targets are mostly unique; the rest repeat and are stored once. */
static char *
table_string (VcmMountTable *table, const char *value, const char *fallback, gboolean repeats)
{
  if (value == NULL)
    value = fallback;
  return repeats ? g_string_chunk_insert_const (table->strings, value)
                 : g_string_chunk_insert (table->strings, value);
}

static void
mount_entry_fill (VcmMountTable *table, VcmMountEntry *e, struct libmnt_fs *fs)
{
  dev_t devno = mnt_fs_get_devno (fs);
  const char *source = mnt_fs_get_source (fs);

  e->id = (guint64) (guint) mnt_fs_get_id (fs);
  e->parent_id = (guint64) (guint) mnt_fs_get_parent_id (fs);
  e->major = major (devno);
  e->minor = minor (devno);
  e->root = table_string (table, mnt_fs_get_root (fs), "/", TRUE);
  e->target = table_string (table, mnt_fs_get_target (fs), "", FALSE);
  e->source = table_string (table, source != NULL && source[0] != '\0' ? source : NULL, "none", TRUE);
  e->fstype = table_string (table, mnt_fs_get_fstype (fs), "", TRUE);
  e->vfs_options = table_string (table, mnt_fs_get_vfs_options (fs), "", TRUE);
  e->fs_options = table_string (table, mnt_fs_get_fs_options (fs), "", TRUE);
  e->read_only = mnt_optstr_get_option (e->vfs_options, "ro", NULL, NULL) == 0;
  e->propagation = propagation_from_optional_fields (mnt_fs_get_optional_fields (fs));
}

/* libmount calls this for a line it cannot parse; the line number goes to the
 * table's userdata and the negative return makes the error fatal: a table that
 * silently lacks an entry would give wrong answers. */
static int
parser_error_cb (struct libmnt_table *tb,
                 const char          *filename,
                 int                  line)
{
  int *bad_line = mnt_table_get_userdata (tb);

  if (bad_line != NULL && *bad_line == 0)
    *bad_line = line;
  return -EINVAL;
}

static int
compare_by_parent (gconstpointer a, gconstpointer b, gpointer user_data)
{
  const VcmMountEntry *entries = user_data;
  guint ia = *(const guint *) a, ib = *(const guint *) b;
  guint64 pa = entries[ia].parent_id, pb = entries[ib].parent_id;

  if (pa != pb)
    return pa < pb ? -1 : 1;
  return ia < ib ? -1 : (ia > ib ? 1 : 0);
}

/* The children of mount @id: *@n_out entry numbers in table order, borrowed. */
static const guint *
children_of (VcmMountTable *table, guint64 id, guint *n_out)
{
  guint pos = GPOINTER_TO_UINT (g_hash_table_lookup (table->first_child, &id));
  guint n = 0;

  *n_out = 0;
  if (pos == 0)
    return NULL;
  pos--;
  while (pos + n < table->n_children &&
         table->entries[table->child_order[pos + n]].parent_id == id)
    n++;
  *n_out = n;
  return table->child_order + pos;
}

static void
build_indexes (VcmMountTable *table)
{
  guint n = 0;

  table->by_id = g_hash_table_new (g_int64_hash, g_int64_equal);
  table->by_target = g_hash_table_new (g_str_hash, g_str_equal);
  table->first_child = g_hash_table_new (g_int64_hash, g_int64_equal);
  table->child_order = g_new (guint, MAX (table->n_entries, 1));

  for (guint i = 0; i < table->n_entries; i++)
    {
      VcmMountEntry *e = &table->entries[i];

      g_hash_table_insert (table->by_id, &e->id, e);
      if (e->parent_id != e->id)
        table->child_order[n++] = i;
    }
  table->n_children = n;
  g_qsort_with_data (table->child_order, (gint) n, sizeof (guint), compare_by_parent, table->entries);
  for (guint k = 0; k < n; k++)
    {
      VcmMountEntry *kid = &table->entries[table->child_order[k]];

      if (k == 0 || table->entries[table->child_order[k - 1]].parent_id != kid->parent_id)
        g_hash_table_insert (table->first_child, &kid->parent_id, GUINT_TO_POINTER (k + 1));
    }

  /* The top-most mount on a target is one that no other mount on the same
   * target sits on (stacked mounts: the later one's parent is the earlier
   * one). Should several qualify, the last in table order wins. */
  for (guint i = 0; i < table->n_entries; i++)
    {
      VcmMountEntry *e = &table->entries[i];
      guint n_kids;
      const guint *kids = children_of (table, e->id, &n_kids);
      gboolean covered = FALSE;

      for (guint k = 0; k < n_kids; k++)
        {
          if (g_str_equal (table->entries[kids[k]].target, e->target))
            {
              covered = TRUE;
              break;
            }
        }
      if (!covered)
        g_hash_table_insert (table->by_target, e->target, e);
    }
}

VcmMountTable *
vcm_mount_table_new_from_file (const char *path,
                               GError    **error)
{
  struct libmnt_table *tb;
  struct libmnt_iter *itr;
  struct libmnt_fs *fs = NULL;
  g_autoptr(VcmMountTable) table = NULL;
  int bad_line = 0;
  guint nents;
  int rc;

  g_return_val_if_fail (path != NULL, NULL);

  tb = mnt_new_table ();
  if (tb == NULL)
    {
      g_set_error (error, VCM_ERROR, VCM_ERROR_FAILED,
                   "mount table %s: cannot allocate a libmount table", path);
      return NULL;
    }
  mnt_table_set_userdata (tb, &bad_line);
  mnt_table_set_parser_errcb (tb, parser_error_cb);

  rc = mnt_table_parse_file (tb, path);
  if (rc != 0)
    {
      if (bad_line > 0)
        g_set_error (error, VCM_ERROR, VCM_ERROR_FAILED,
                     "mount table %s: cannot parse line %d", path, bad_line);
      else
        vcm_error_set_errno (error, rc < 0 ? -rc : EINVAL, "mount table", path);
      mnt_unref_table (tb);
      return NULL;
    }

  table = g_new0 (VcmMountTable, 1);
  g_atomic_ref_count_init (&table->ref_count);
  nents = (guint) MAX (mnt_table_get_nents (tb), 0);
  table->entries = g_new0 (VcmMountEntry, MAX (nents, 1));
  /* blocks sized to the table: a few large ones for a large table */
  table->strings = g_string_chunk_new (CLAMP (nents * 64, 1024, 64 * 1024));

  itr = mnt_new_iter (MNT_ITER_FORWARD);
  if (itr == NULL)
    {
      mnt_unref_table (tb);
      g_set_error (error, VCM_ERROR, VCM_ERROR_FAILED,
                   "mount table %s: cannot allocate a libmount iterator", path);
      return NULL;
    }
  while (table->n_entries < nents && mnt_table_next_fs (tb, itr, &fs) == 0)
    mount_entry_fill (table, &table->entries[table->n_entries++], fs);
  mnt_free_iter (itr);
  mnt_unref_table (tb);

  build_indexes (table);
  return g_steal_pointer (&table);
}

VcmMountTable *
vcm_mount_table_new_from_kernel (GError **error)
{
  return vcm_mount_table_new_from_file (KERNEL_MOUNTINFO, error);
}

VcmMountTable *
vcm_mount_table_ref (VcmMountTable *table)
{
  g_return_val_if_fail (table != NULL, NULL);

  g_atomic_ref_count_inc (&table->ref_count);
  return table;
}

void
vcm_mount_table_unref (VcmMountTable *table)
{
  g_return_if_fail (table != NULL);

  if (!g_atomic_ref_count_dec (&table->ref_count))
    return;

  g_clear_pointer (&table->by_id, g_hash_table_unref);
  g_clear_pointer (&table->by_target, g_hash_table_unref);
  g_clear_pointer (&table->first_child, g_hash_table_unref);
  g_clear_pointer (&table->child_order, g_free);
  g_clear_pointer (&table->entries, g_free);
  g_clear_pointer (&table->strings, g_string_chunk_free);
  g_free (table);
}

guint
vcm_mount_table_get_size (VcmMountTable *table)
{
  g_return_val_if_fail (table != NULL, 0);

  return table->n_entries;
}

const VcmMountEntry *
vcm_mount_table_get_nth (VcmMountTable *table,
                         guint          n)
{
  g_return_val_if_fail (table != NULL, NULL);
  g_return_val_if_fail (n < table->n_entries, NULL);

  return &table->entries[n];
}

const VcmMountEntry *
vcm_mount_table_lookup_id (VcmMountTable *table,
                           guint64        id)
{
  g_return_val_if_fail (table != NULL, NULL);

  return g_hash_table_lookup (table->by_id, &id);
}

const VcmMountEntry *
vcm_mount_table_lookup_target (VcmMountTable *table,
                               const char    *target)
{
  g_return_val_if_fail (table != NULL, NULL);
  g_return_val_if_fail (target != NULL, NULL);

  return g_hash_table_lookup (table->by_target, target);
}

GPtrArray *
vcm_mount_table_get_descendants (VcmMountTable *table,
                                 guint64        id)
{
  g_autoptr(GPtrArray) result = NULL;
  g_autoptr(GPtrArray) stack = NULL;
  g_autoptr(GHashTable) seen = NULL;
  const guint *kids;
  guint n_kids;

  g_return_val_if_fail (table != NULL, NULL);

  /* Depth-first pre-order, children in table order: every mount comes
   * before the mounts below it. @seen guards against a malformed table
   * whose parent links form a cycle. */
  result = g_ptr_array_new ();
  stack = g_ptr_array_new ();
  seen = g_hash_table_new (g_int64_hash, g_int64_equal);
  g_hash_table_add (seen, &id);

  kids = children_of (table, id, &n_kids);
  for (guint k = n_kids; k > 0; k--)
    g_ptr_array_add (stack, &table->entries[kids[k - 1]]);

  while (stack->len > 0)
    {
      VcmMountEntry *e = g_ptr_array_steal_index (stack, stack->len - 1);

      if (!g_hash_table_add (seen, &e->id))
        continue;
      g_ptr_array_add (result, e);

      kids = children_of (table, e->id, &n_kids);
      for (guint k = n_kids; k > 0; k--)
        g_ptr_array_add (stack, &table->entries[kids[k - 1]]);
    }

  return g_steal_pointer (&result);
}

GPtrArray *
vcm_mount_table_get_beneath (VcmMountTable *table,
                             const char    *prefix)
{
  GPtrArray *result;

  g_return_val_if_fail (table != NULL, NULL);
  g_return_val_if_fail (prefix != NULL, NULL);

  result = g_ptr_array_new ();
  for (guint i = 0; i < table->n_entries; i++)
    {
      VcmMountEntry *e = &table->entries[i];

      if (vcm_path_has_prefix (e->target, prefix))
        g_ptr_array_add (result, e);
    }
  return result;
}

VcmMountTable *
vcm_mount_table_source_kernel (gpointer user_data,
                               gboolean force_refresh)
{
  g_autoptr(GError) error = NULL;
  VcmMountTable *table;

  table = vcm_mount_table_new_from_kernel (&error);
  if (table == NULL)
    g_warning ("Cannot read the kernel's mount table: %s", error->message);
  return table;
}

const VcmMountEntry *
vcm_mount_table_source_lookup_id (VcmMountTableSource source,
                                  gpointer            source_data,
                                  guint64             id,
                                  gboolean            refresh_first,
                                  VcmMountTable     **out_table)
{
  VcmMountTable *table = source (source_data, refresh_first);
  const VcmMountEntry *entry = table != NULL ? vcm_mount_table_lookup_id (table, id) : NULL;

  if (entry == NULL && !refresh_first)
    {
      g_clear_pointer (&table, vcm_mount_table_unref);
      table = source (source_data, TRUE);
      entry = table != NULL ? vcm_mount_table_lookup_id (table, id) : NULL;
    }
  *out_table = table;
  return entry;
}
