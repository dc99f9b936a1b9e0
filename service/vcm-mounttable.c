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
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <libmount/libmount.h>

#include "vcm-error.h"
#include "vcm-mounttable.h"
#include "vcm-sys.h"
#include "vcm-validate.h"

#define KERNEL_MOUNTINFO "/proc/self/mountinfo"

struct _VcmMountTable {
  gatomicrefcount ref_count;
  VcmMountEntry *block; /* n_block entries of the read the table began with */
  guint n_block;
  GPtrArray *order;      /* VcmMountEntry*, table order: in the block or, when
                               * added by a patch, allocated one by one */
  GStringChunk *strings; /* every string of every entry */
  guint n_dead;          /* entries dropped by patches (their strings stay) */
  GHashTable *by_id;     /* guint64* (&entry->id) -> VcmMountEntry* (borrowed) */
  GHashTable *by_target; /* const char* -> top-most VcmMountEntry* (borrowed) */
  GHashTable *children;  /* guint64* (a parent ID) -> GPtrArray of its children,
                               * table order; only parents with children */
};

/* propagation from the optional fields: "shared:N" -> shared, "master:N" ->
 * slave, "unbindable" -> unbindable, nothing -> private. A mount that is both
 * shared and a slave ("shared:1 master:2") is reported as shared. */
static const char *
propagation_from_optional_fields (const char *fields)
{
  g_auto (GStrv) tokens = NULL;
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
parser_error_cb (struct libmnt_table *tb, const char *filename, int line)
{
  int *bad_line = mnt_table_get_userdata (tb);

  if (bad_line != NULL && *bad_line == 0)
    *bad_line = line;
  return -EINVAL;
}

static gboolean
entry_in_block (VcmMountTable *table, const VcmMountEntry *e)
{
  return e >= table->block && e < table->block + table->n_block;
}

/* The children of mount @id in table order (borrowed), or NULL when none. */
static GPtrArray *
children_of (VcmMountTable *table, guint64 id)
{
  return g_hash_table_lookup (table->children, &id);
}

static void
add_child (VcmMountTable *table, VcmMountEntry *e)
{
  GPtrArray *kids;

  if (e->parent_id == e->id)
    return;
  kids = g_hash_table_lookup (table->children, &e->parent_id);
  if (kids == NULL)
    {
      kids = g_ptr_array_new ();
      g_hash_table_insert (table->children, g_memdup2 (&e->parent_id, sizeof e->parent_id), kids);
    }
  g_ptr_array_add (kids, e);
}

/* Whether @e is the top-most mount on its target: no child of it on the same target. */
static gboolean
is_top (VcmMountTable *table, const VcmMountEntry *e)
{
  GPtrArray *kids = children_of (table, e->id);

  for (guint k = 0; kids != NULL && k < kids->len; k++)
    if (g_str_equal (((VcmMountEntry *) kids->pdata[k])->target, e->target))
      return FALSE;
  return TRUE;
}

static void
build_indexes (VcmMountTable *table)
{
  table->by_id = g_hash_table_new (g_int64_hash, g_int64_equal);
  table->by_target = g_hash_table_new (g_str_hash, g_str_equal);
  table->children =
    g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, (GDestroyNotify) g_ptr_array_unref);

  for (guint i = 0; i < table->order->len; i++)
    {
      VcmMountEntry *e = table->order->pdata[i];

      g_hash_table_insert (table->by_id, &e->id, e);
      add_child (table, e);
    }

  /* The top-most mount on a target is one that no other mount on the same
   * target sits on (stacked mounts: the later one's parent is the earlier
   * one). Should several qualify, the last in table order wins. */
  for (guint i = 0; i < table->order->len; i++)
    {
      VcmMountEntry *e = table->order->pdata[i];

      if (is_top (table, e))
        g_hash_table_insert (table->by_target, e->target, e);
    }
}

static VcmMountTable *
table_alloc (guint n)
{
  VcmMountTable *table = g_new0 (VcmMountTable, 1);

  g_atomic_ref_count_init (&table->ref_count);
  table->block = g_new0 (VcmMountEntry, MAX (n, 1));
  table->order = g_ptr_array_sized_new (MAX (n, 1));
  /* blocks sized to the table: a few large ones for a large table */
  table->strings = g_string_chunk_new (CLAMP (n * 64, 1024, 64 * 1024));
  return table;
}

/* A table of what libmount parsed; @name for errors. */
static VcmMountTable *
table_from_libmount (struct libmnt_table *tb, const char *name, GError **error)
{
  struct libmnt_iter *itr;
  struct libmnt_fs *fs = NULL;
  g_autoptr (VcmMountTable) table = NULL;
  guint nents = (guint) MAX (mnt_table_get_nents (tb), 0);

  table = table_alloc (nents);
  itr = mnt_new_iter (MNT_ITER_FORWARD);
  if (itr == NULL)
    {
      g_set_error (error, VCM_ERROR, VCM_ERROR_FAILED,
                   "mount table %s: cannot allocate a libmount iterator", name);
      return NULL;
    }
  while (table->n_block < nents && mnt_table_next_fs (tb, itr, &fs) == 0)
    {
      VcmMountEntry *e = &table->block[table->n_block++];

      mount_entry_fill (table, e, fs);
      g_ptr_array_add (table->order, e);
    }
  mnt_free_iter (itr);
  build_indexes (table);
  return g_steal_pointer (&table);
}

/* Parses @path, or @stream (named @path) when not NULL. */
static VcmMountTable *
table_parse (const char *path, FILE *stream, GError **error)
{
  struct libmnt_table *tb = mnt_new_table ();
  VcmMountTable *table;
  int bad_line = 0;
  int rc;

  if (tb == NULL)
    {
      g_set_error (error, VCM_ERROR, VCM_ERROR_FAILED,
                   "mount table %s: cannot allocate a libmount table", path);
      return NULL;
    }
  mnt_table_set_userdata (tb, &bad_line);
  mnt_table_set_parser_errcb (tb, parser_error_cb);
  rc = stream != NULL ? mnt_table_parse_stream (tb, stream, path) : mnt_table_parse_file (tb, path);
  if (rc != 0)
    {
      if (bad_line > 0)
        g_set_error (error, VCM_ERROR, VCM_ERROR_FAILED, "mount table %s: cannot parse line %d", path,
                     bad_line);
      else
        vcm_error_set_errno (error, rc < 0 ? -rc : EINVAL, "mount table", path);
      mnt_unref_table (tb);
      return NULL;
    }
  table = table_from_libmount (tb, path, error);
  mnt_unref_table (tb);
  return table;
}

VcmMountTable *
vcm_mount_table_new_from_file (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  return table_parse (path, NULL, error);
}

VcmMountTable *
vcm_mount_table_new_from_kernel (GError **error)
{
  return vcm_mount_table_new_from_file (KERNEL_MOUNTINFO, error);
}

gboolean
vcm_mount_table_read_kernel_text (GBytes **out_text, GError **error)
{
  g_autofree char *text = NULL;
  gsize len = 0;

  if (!g_file_get_contents (KERNEL_MOUNTINFO, &text, &len, error))
    return FALSE;
  *out_text = g_bytes_new_take (g_steal_pointer (&text), len);
  return TRUE;
}

VcmMountTable *
vcm_mount_table_new_from_text (GBytes *text, GError **error)
{
  gsize len = 0;
  const char *data = g_bytes_get_data (text, &len);
  FILE *f;
  VcmMountTable *table;

  if (len == 0)
    {
      g_set_error (error, VCM_ERROR, VCM_ERROR_FAILED, "mount table %s: empty", KERNEL_MOUNTINFO);
      return NULL;
    }
  f = fmemopen ((void *) data, len, "r");
  if (f == NULL)
    {
      vcm_error_set_errno (error, errno, "mount table", KERNEL_MOUNTINFO);
      return NULL;
    }
  table = table_parse (KERNEL_MOUNTINFO, f, error);
  fclose (f);
  return table;
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
  g_clear_pointer (&table->children, g_hash_table_unref);
  for (guint i = 0; i < table->order->len; i++)
    if (!entry_in_block (table, table->order->pdata[i]))
      g_free (table->order->pdata[i]);
  g_clear_pointer (&table->order, g_ptr_array_unref);
  g_clear_pointer (&table->block, g_free);
  g_clear_pointer (&table->strings, g_string_chunk_free);
  g_free (table);
}

guint
vcm_mount_table_get_size (VcmMountTable *table)
{
  g_return_val_if_fail (table != NULL, 0);

  return table->order->len;
}

const VcmMountEntry *
vcm_mount_table_get_nth (VcmMountTable *table, guint n)
{
  g_return_val_if_fail (table != NULL, NULL);
  g_return_val_if_fail (n < table->order->len, NULL);

  return table->order->pdata[n];
}

const VcmMountEntry *
vcm_mount_table_lookup_id (VcmMountTable *table, guint64 id)
{
  g_return_val_if_fail (table != NULL, NULL);

  return g_hash_table_lookup (table->by_id, &id);
}

const VcmMountEntry *
vcm_mount_table_lookup_target (VcmMountTable *table, const char *target)
{
  g_return_val_if_fail (table != NULL, NULL);
  g_return_val_if_fail (target != NULL, NULL);

  return g_hash_table_lookup (table->by_target, target);
}

GPtrArray *
vcm_mount_table_get_descendants (VcmMountTable *table, guint64 id)
{
  g_autoptr (GPtrArray) result = NULL;
  g_autoptr (GPtrArray) stack = NULL;
  g_autoptr (GHashTable) seen = NULL;
  GPtrArray *kids;

  g_return_val_if_fail (table != NULL, NULL);

  /* Depth-first pre-order, children in table order: every mount comes
   * before the mounts below it. @seen guards against a malformed table
   * whose parent links form a cycle. */
  result = g_ptr_array_new ();
  stack = g_ptr_array_new ();
  seen = g_hash_table_new (g_int64_hash, g_int64_equal);
  g_hash_table_add (seen, &id);

  kids = children_of (table, id);
  for (guint k = kids != NULL ? kids->len : 0; k > 0; k--)
    g_ptr_array_add (stack, kids->pdata[k - 1]);

  while (stack->len > 0)
    {
      VcmMountEntry *e = g_ptr_array_steal_index (stack, stack->len - 1);

      if (!g_hash_table_add (seen, &e->id))
        continue;
      g_ptr_array_add (result, e);

      kids = children_of (table, e->id);
      for (guint k = kids != NULL ? kids->len : 0; k > 0; k--)
        g_ptr_array_add (stack, kids->pdata[k - 1]);
    }

  return g_steal_pointer (&result);
}

GPtrArray *
vcm_mount_table_get_beneath (VcmMountTable *table, const char *prefix)
{
  GPtrArray *result;

  g_return_val_if_fail (table != NULL, NULL);
  g_return_val_if_fail (prefix != NULL, NULL);

  result = g_ptr_array_new ();
  for (guint i = 0; i < table->order->len; i++)
    {
      VcmMountEntry *e = table->order->pdata[i];

      if (vcm_path_has_prefix (e->target, prefix))
        g_ptr_array_add (result, e);
    }
  return result;
}

VcmMountTable *
vcm_mount_table_source_kernel (gpointer user_data, gboolean force_refresh)
{
  g_autoptr (GError) error = NULL;
  VcmMountTable *table;

  table = vcm_mount_table_new_from_kernel (&error);
  if (table == NULL)
    g_warning ("Cannot read the kernel's mount table: %s", error->message);
  return table;
}

const VcmMountEntry *
vcm_mount_table_source_lookup_id (VcmMountTableSource source,
                                  gpointer source_data,
                                  guint64 id,
                                  gboolean refresh_first,
                                  VcmMountTable **out_table)
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

/* ---- patches: the table kept up to date mount by mount ------------------- */

#ifndef MOUNT_ATTR_NOSYMFOLLOW
#define MOUNT_ATTR_NOSYMFOLLOW 0x00200000
#endif
#define VCM_SB_RDONLY      0x00000001u
#define VCM_SB_SYNCHRONOUS 0x00000010u
#define VCM_SB_DIRSYNC     0x00000080u
#define VCM_SB_LAZYTIME    0x02000000u

/* An option mountinfo shows where (flags & mask) == value, in its order
 * (fs/proc_namespace.c). */
typedef struct {
  guint64 mask;
  guint64 value;
  const char *name;
} OptionFlag;

static const OptionFlag vfs_option_flags[] = {
  { MOUNT_ATTR_NOSUID, MOUNT_ATTR_NOSUID, "nosuid" },
  { MOUNT_ATTR_NODEV, MOUNT_ATTR_NODEV, "nodev" },
  { MOUNT_ATTR_NOEXEC, MOUNT_ATTR_NOEXEC, "noexec" },
  { MOUNT_ATTR__ATIME, MOUNT_ATTR_NOATIME, "noatime" },
  { MOUNT_ATTR_NODIRATIME, MOUNT_ATTR_NODIRATIME, "nodiratime" },
  { MOUNT_ATTR__ATIME, MOUNT_ATTR_RELATIME, "relatime" },
  { MOUNT_ATTR_NOSYMFOLLOW, MOUNT_ATTR_NOSYMFOLLOW, "nosymfollow" },
  { MOUNT_ATTR_IDMAP, MOUNT_ATTR_IDMAP, "idmapped" },
};

static const OptionFlag sb_option_flags[] = {
  { VCM_SB_SYNCHRONOUS, VCM_SB_SYNCHRONOUS, "sync" },
  { VCM_SB_DIRSYNC, VCM_SB_DIRSYNC, "dirsync" },
  { VCM_SB_LAZYTIME, VCM_SB_LAZYTIME, "lazytime" },
};

/* "ro" or "rw", then the options of @flags that @value has. */
static GString *
options_of (gboolean read_only, guint64 value, const OptionFlag *flags, gsize n_flags)
{
  GString *s = g_string_new (read_only ? "ro" : "rw");

  for (gsize i = 0; i < n_flags; i++)
    if ((value & flags[i].mask) == flags[i].value)
      g_string_append_printf (s, ",%s", flags[i].name);
  return s;
}

/* The per-mount options as mountinfo shows them. */
static char *
vfs_options_of (guint64 attr)
{
  return g_string_free (options_of ((attr & MOUNT_ATTR_RDONLY) != 0, attr, vfs_option_flags,
                                    G_N_ELEMENTS (vfs_option_flags)),
                        FALSE);
}

/* The superblock options as mountinfo shows them: its flags, then the
 * filesystem's own options. */
static char *
fs_options_of (guint32 sb_flags, const char *mnt_opts)
{
  GString *s = options_of ((sb_flags & VCM_SB_RDONLY) != 0, sb_flags, sb_option_flags,
                           G_N_ELEMENTS (sb_option_flags));

  while (*mnt_opts == ',')
    mnt_opts++;
  if (*mnt_opts != '\0')
    g_string_append_printf (s, ",%s", mnt_opts);
  return g_string_free (s, FALSE);
}

/* @e from what statmount(2) says of a mount, strings in @table. */
static void
entry_from_statmount (VcmMountTable *table, VcmMountEntry *e, const VcmSysMountFull *m)
{
  g_autofree char *vfs = vfs_options_of (m->mnt_attr);
  g_autofree char *fs = fs_options_of (m->sb_flags, m->mnt_opts);

  e->id = m->mnt_id_old;
  e->parent_id = m->parent_id_old;
  e->major = m->dev_major;
  e->minor = m->dev_minor;
  e->root = table_string (table, m->root, "/", TRUE);
  e->target = table_string (table, m->point, "", FALSE);
  e->source = table_string (table, m->sb_source[0] != '\0' ? m->sb_source : NULL, "none", TRUE);
  e->fstype = table_string (table, m->fs_type, "", TRUE);
  e->vfs_options = table_string (table, vfs, "", TRUE);
  e->fs_options = table_string (table, fs, "", TRUE);
  e->read_only = (m->mnt_attr & MOUNT_ATTR_RDONLY) != 0;
  e->propagation = m->propagation;
}

static gboolean
entry_equal (const VcmMountEntry *a, const VcmMountEntry *b)
{
  return a->id == b->id && a->parent_id == b->parent_id && a->major == b->major &&
    a->minor == b->minor && a->read_only == b->read_only &&
    g_str_equal (a->propagation, b->propagation) && g_str_equal (a->root, b->root) &&
    g_str_equal (a->target, b->target) && g_str_equal (a->source, b->source) &&
    g_str_equal (a->fstype, b->fstype) && g_str_equal (a->vfs_options, b->vfs_options) &&
    g_str_equal (a->fs_options, b->fs_options);
}

/* A copy of @src with strings of its own (none dropped), one block of entries. */
static VcmMountTable *
table_copy (VcmMountTable *src)
{
  VcmMountTable *table = table_alloc (src->order->len);

  for (guint i = 0; i < src->order->len; i++)
    {
      const VcmMountEntry *from = src->order->pdata[i];
      VcmMountEntry *e = &table->block[table->n_block++];

      *e = *from;
      e->root = table_string (table, from->root, "/", TRUE);
      e->target = table_string (table, from->target, "", FALSE);
      e->source = table_string (table, from->source, "none", TRUE);
      e->fstype = table_string (table, from->fstype, "", TRUE);
      e->vfs_options = table_string (table, from->vfs_options, "", TRUE);
      e->fs_options = table_string (table, from->fs_options, "", TRUE);
      g_ptr_array_add (table->order, e);
    }
  build_indexes (table);
  return table;
}

static void
remove_child (VcmMountTable *table, VcmMountEntry *e)
{
  GPtrArray *kids = children_of (table, e->parent_id);

  if (kids == NULL || e->parent_id == e->id)
    return;
  g_ptr_array_remove (kids, e); /* keeps the order of the others */
  if (kids->len == 0)
    g_hash_table_remove (table->children, &e->parent_id);
}

static void
remove_target (gpointer key, gpointer value, gpointer by_target)
{
  g_hash_table_remove (by_target, key);
}

typedef struct {
  guint64 unique;
  guint64 old; /* its ID in the table, 0 when unknown */
  gboolean not_in_table;
  gboolean present; /* statmount found it */
  VcmSysMountFull m;
} PatchItem;

static gint
compare_positions (gconstpointer a, gconstpointer b, gpointer pos)
{
  guint x = GPOINTER_TO_UINT (g_hash_table_lookup (pos, *(gpointer const *) a));
  guint y = GPOINTER_TO_UINT (g_hash_table_lookup (pos, *(gpointer const *) b));

  return x < y ? -1 : (x > y ? 1 : 0);
}

static gint
compare_items (gconstpointer a, gconstpointer b)
{
  guint64 x = ((const PatchItem *) a)->unique, y = ((const PatchItem *) b)->unique;

  return x < y ? -1 : (x > y ? 1 : 0);
}

/* One patch of a table: the mounts named and what the steps learn. */
typedef struct {
  GArray *items;          /* PatchItem */
  GHashTable *seen;       /* unique ID -> index in items */
  GHashTable *dirty;      /* targets whose top-most mount must be decided again */
  GHashTable *dropped;    /* VcmMountEntry * dropped */
  GHashTable *reparented; /* parent IDs whose children changed order */
  VcmMountTable *result;
} Patch;

static void
patch_clear (Patch *p)
{
  for (guint i = 0; i < p->items->len; i++)
    vcm_sys_mount_full_clear (&g_array_index (p->items, PatchItem, i).m);
  g_array_unref (p->items);
  g_hash_table_unref (p->seen);
  g_hash_table_unref (p->dirty);
  g_hash_table_unref (p->dropped);
  g_hash_table_unref (p->reparented);
}

/* 1a. each mount named once: its first change says whether the table can
 *     have it, any that knows its ID gives it */
static void
patch_collect (Patch *p, const VcmMountChange *changes, guint n_changes)
{
  for (guint i = 0; i < n_changes; i++)
    {
      PatchItem it = { .unique = changes[i].unique_id,
                       .old = changes[i].old_id,
                       .not_in_table = changes[i].not_in_table };
      gpointer at;

      if (g_hash_table_lookup_extended (p->seen, GSIZE_TO_POINTER (it.unique), NULL, &at))
        {
          PatchItem *known = &g_array_index (p->items, PatchItem, GPOINTER_TO_UINT (at));

          if (known->old == 0)
            known->old = changes[i].old_id;
          continue;
        }
      g_hash_table_insert (p->seen, GSIZE_TO_POINTER (it.unique), GUINT_TO_POINTER (p->items->len));
      g_array_append_val (p->items, it);
    }
}

/* 1b. read each, before anything changes: IDs in the table are reused at
 *     once, so every drop comes before every add */
static gboolean
patch_read (Patch *p, GError **error)
{
  for (guint i = 0; i < p->items->len; i++)
    {
      PatchItem *it = &g_array_index (p->items, PatchItem, i);
      int errsv = 0;

      it->present = vcm_sys_statmount_full (it->unique, &it->m, &errsv);
      if (!it->present && errsv != ENOENT)
        return vcm_error_set_errno (error, errsv, "statmount", "a mount named by a mount event");
      if (!it->present && it->old == 0 && !it->not_in_table)
        {
          g_set_error (error, VCM_ERROR, VCM_ERROR_FAILED,
                       "a detached mount (unique ID %" G_GUINT64_FORMAT ") that the table cannot place",
                       it->unique);
          return FALSE;
        }
    }
  return TRUE;
}

/* 1c. a mount moved: the paths of those below it changed without an event,
 *     so they are read too */
static gboolean
patch_read_below (Patch *p, guint64 unique, GError **error)
{
  g_autoptr (GArray) below = vcm_sys_listmount_all (unique);

  if (below == NULL)
    return vcm_error_set_errno (error, errno, "listmount", "a moved mount");
  for (guint k = 0; k < below->len; k++)
    {
      PatchItem sub = { .unique = g_array_index (below, guint64, k) };
      int errsv = 0;

      if (g_hash_table_contains (p->seen, GSIZE_TO_POINTER (sub.unique)))
        continue;
      g_hash_table_insert (p->seen, GSIZE_TO_POINTER (sub.unique), GUINT_TO_POINTER (p->items->len));
      sub.present = vcm_sys_statmount_full (sub.unique, &sub.m, &errsv);
      if (sub.present)
        g_array_append_val (p->items, sub);
    }
  return TRUE;
}

static gboolean
patch_read_moved (Patch *p, VcmMountTable *table, GError **error)
{
  /* those appended (below a moved one) moved too: their own below follow */
  for (guint i = 0; i < p->items->len; i++)
    {
      PatchItem *it = &g_array_index (p->items, PatchItem, i);
      const VcmMountEntry *e = it->present ? vcm_mount_table_lookup_id (table, it->m.mnt_id_old) : NULL;

      /* (the array may move as items are appended: @it is not used after) */
      if (e != NULL && !g_str_equal (e->target, it->m.point) && !patch_read_below (p, it->unique, error))
        return FALSE;
    }
  return TRUE;
}

/* 3. drops: the mounts gone and those that now have another ID */
static void
patch_drop (Patch *p)
{
  VcmMountTable *result = p->result;
  guint kept = 0;

  for (guint i = 0; i < p->items->len; i++)
    {
      PatchItem *it = &g_array_index (p->items, PatchItem, i);
      guint64 old = it->present ? 0 : it->old;
      VcmMountEntry *e;

      if (old == 0 || (e = g_hash_table_lookup (result->by_id, &old)) == NULL)
        continue;
      g_hash_table_remove (result->by_id, &e->id);
      remove_child (result, e);
      g_hash_table_add (p->dropped, e);
      if (g_hash_table_lookup (result->by_target, e->target) == e)
        g_hash_table_remove (result->by_target, e->target);
      g_hash_table_add (p->dirty, g_strdup (e->target));
    }
  if (g_hash_table_size (p->dropped) == 0)
    return;
  for (guint i = 0; i < result->order->len; i++)
    {
      VcmMountEntry *e = result->order->pdata[i];

      if (!g_hash_table_contains (p->dropped, e))
        result->order->pdata[kept++] = e;
      else if (!entry_in_block (result, e))
        g_free (e);
    }
  result->n_dead += result->order->len - kept;
  g_ptr_array_set_size (result->order, kept);
}

/* 4. the mounts there: changed in place (their place in the table stays),
 *    or new ones at the end in the order made (the kernel lists mounts by
 *    unique ID, which only grows; events of propagated copies may come in
 *    another order) */
static void
patch_place (Patch *p)
{
  VcmMountTable *result = p->result;

  g_array_sort (p->items, compare_items);
  for (guint i = 0; i < p->items->len; i++)
    {
      PatchItem *it = &g_array_index (p->items, PatchItem, i);
      VcmMountEntry fresh, *e;

      if (!it->present)
        continue;
      entry_from_statmount (result, &fresh, &it->m);
      e = g_hash_table_lookup (result->by_id, &fresh.id);
      if (e != NULL && entry_equal (e, &fresh))
        continue;
      if (e != NULL)
        {
          if (g_hash_table_lookup (result->by_target, e->target) == e)
            g_hash_table_remove (result->by_target, e->target);
          g_hash_table_add (p->dirty, g_strdup (e->target));
          remove_child (result, e);
          *e = fresh;
          result->n_dead++;
          g_hash_table_add (p->reparented, GSIZE_TO_POINTER (e->parent_id));
        }
      else
        {
          e = g_new (VcmMountEntry, 1);
          *e = fresh;
          g_ptr_array_add (result->order, e);
          g_hash_table_insert (result->by_id, &e->id, e);
        }
      add_child (result, e);
      g_hash_table_add (p->dirty, g_strdup (e->target));
    }
}

/* 4b. a mount changed in place went last among its parent's children: they
 *     are listed in table order */
static void
patch_reorder_children (Patch *p)
{
  g_autoptr (GHashTable) pos = NULL;
  GHashTableIter iter;
  gpointer parent;

  if (g_hash_table_size (p->reparented) == 0)
    return;
  pos = g_hash_table_new (g_direct_hash, g_direct_equal);
  for (guint i = 0; i < p->result->order->len; i++)
    g_hash_table_insert (pos, p->result->order->pdata[i], GUINT_TO_POINTER (i));
  g_hash_table_iter_init (&iter, p->reparented);
  while (g_hash_table_iter_next (&iter, &parent, NULL))
    {
      GPtrArray *kids = children_of (p->result, GPOINTER_TO_SIZE (parent));

      if (kids != NULL)
        g_ptr_array_sort_with_data (kids, compare_positions, pos);
    }
}

/* 5. the top-most mount of every target touched, as build_indexes decides it */
static void
patch_tops (Patch *p)
{
  VcmMountTable *result = p->result;

  g_hash_table_foreach (p->dirty, remove_target, result->by_target);
  if (g_hash_table_size (p->dirty) == 0)
    return;
  for (guint i = 0; i < result->order->len; i++)
    {
      VcmMountEntry *e = result->order->pdata[i];

      if (g_hash_table_contains (p->dirty, e->target) && is_top (result, e))
        g_hash_table_insert (result->by_target, e->target, e);
    }
}

VcmMountTable *
vcm_mount_table_patch (VcmMountTable *table,
                       const VcmMountChange *changes,
                       guint n_changes,
                       GError **error)
{
  Patch p = {
    .items = g_array_new (FALSE, TRUE, sizeof (PatchItem)),
    .seen = g_hash_table_new (g_direct_hash, g_direct_equal),
    .dirty = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL),
    .dropped = g_hash_table_new (g_direct_hash, g_direct_equal),
    .reparented = g_hash_table_new (g_direct_hash, g_direct_equal),
  };
  VcmMountTable *result;

  g_return_val_if_fail (table != NULL, NULL);

  /* 1. read what the changes name (nothing is changed if one cannot be) */
  patch_collect (&p, changes, n_changes);
  if (!patch_read (&p, error) || !patch_read_moved (&p, table, error))
    {
      patch_clear (&p);
      return NULL;
    }
  /* 2. patch in place when nobody else holds the table, else a copy */
  if (g_atomic_ref_count_compare (&table->ref_count, 1))
    p.result = vcm_mount_table_ref (table);
  else
    p.result = table_copy (table);
  patch_drop (&p);
  patch_place (&p);
  patch_reorder_children (&p);
  patch_tops (&p);
  result = p.result;
  patch_clear (&p);
  /* strings of dropped entries stay in the chunk: start afresh now and then */
  if (result->n_dead > result->order->len + 1024)
    {
      VcmMountTable *fresh = table_copy (result);

      vcm_mount_table_unref (result);
      result = fresh;
    }
  vcm_mount_table_unref (table);
  return result;
}
