/* vcm-ledger: the rootfs snapshot, Generation and the order of the changes
 * told (see vcm-ledger.h). Plain data and hash tables: no syscalls here. */
#include "config.h"

#include <string.h>

#include "vcm-ledger.h"
#include "vcm-validate.h"

struct _VcmLedger {
  VcmLedgerTellFunc tell;
  gpointer tell_data;
  const VcmLedgerIndex *index;
  gpointer index_data;
  GHashTable *tracked; /* "sbx/cid" (in the VcmTracked) -> VcmTracked */
  guint64 generation;
  guint hold;
  GPtrArray *held;           /* HeldChange */
  GHashTable *local_changes; /* "sbx/cid" -> the read seq (guint64 *) when the
                              * service last changed or probed that rootfs */
  GHashTable *busy;          /* "sbx/cid" -> guint[3] {depth, owed, late}: being changed */
};

/* A change told later: the change and copies of what it points to. */
typedef struct {
  VcmChange change;
  VcmRootfsRecord *rootfs;
  GStrv detached;
} HeldChange;

const char *
vcm_change_kind_to_string (VcmChangeKind kind)
{
  switch (kind)
    {
    case VCM_CHANGE_MOUNTED:
      return "mounted";
    case VCM_CHANGE_UNMOUNTED:
      return "unmounted";
    case VCM_CHANGE_SUBMOUNT_ADDED:
      return "submount-added";
    case VCM_CHANGE_SUBMOUNT_REMOVED:
      return "submount-removed";
    case VCM_CHANGE_REMOUNTED:
      return "remounted";
    case VCM_CHANGE_VANISHED:
      return "vanished";
    default:
      g_assert_not_reached ();
    }
}

static void
held_change_free (gpointer data)
{
  HeldChange *h = data;

  vcm_rootfs_record_free (h->rootfs);
  g_strfreev (h->detached);
  g_free (h);
}

static void
set_unref (gpointer set)
{
  if (set != NULL)
    g_hash_table_unref (set);
}

/* A private copy of a submount set, or a new reference to it when nobody
 * changes sets in place; NULL for an empty one. */
static GHashTable *
set_take (VcmLedger *self, GHashTable *set)
{
  GHashTable *copy;
  GHashTableIter iter;
  gpointer id;

  if (self->index == NULL)
    return set != NULL ? g_hash_table_ref (set) : NULL;
  if (set == NULL || g_hash_table_size (set) == 0)
    return NULL;
  copy = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  g_hash_table_iter_init (&iter, set);
  while (g_hash_table_iter_next (&iter, &id, NULL))
    g_hash_table_add (copy, g_memdup2 (id, sizeof (guint64)));
  return copy;
}

static void
tracked_free (gpointer data)
{
  VcmTracked *t = data;

  vcm_rootfs_record_free (t->rootfs);
  set_unref (t->submounts);
  g_free (t);
}

VcmLedger *
vcm_ledger_new (VcmLedgerTellFunc tell, gpointer tell_data)
{
  VcmLedger *self = g_new0 (VcmLedger, 1);

  self->tell = tell;
  self->tell_data = tell_data;
  self->tracked = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, tracked_free);
  self->held = g_ptr_array_new_with_free_func (held_change_free);
  self->local_changes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->busy = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return self;
}

static void
unindex_all (VcmLedger *self)
{
  GHashTableIter iter;
  gpointer value;

  if (self->index == NULL)
    return;
  g_hash_table_iter_init (&iter, self->tracked);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    self->index->unindexed (self->index_data, value);
}

void
vcm_ledger_free (VcmLedger *self)
{
  if (self == NULL)
    return;
  unindex_all (self);
  g_hash_table_unref (self->tracked);
  g_ptr_array_unref (self->held);
  g_hash_table_unref (self->local_changes);
  g_hash_table_unref (self->busy);
  g_free (self);
}

void
vcm_ledger_set_index (VcmLedger *self, const VcmLedgerIndex *index, gpointer data)
{
  GHashTableIter iter;
  gpointer value;

  unindex_all (self);
  self->index = index;
  self->index_data = data;
  if (index == NULL)
    return;
  g_hash_table_iter_init (&iter, self->tracked);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    index->indexed (data, value);
}

char *
vcm_ledger_key (const char *sandbox_id, const char *container_id)
{
  return g_strconcat (sandbox_id, "/", container_id, NULL);
}

guint64
vcm_ledger_get_generation (VcmLedger *self)
{
  return self->generation;
}

void
vcm_ledger_hold (VcmLedger *self)
{
  self->hold++;
}

void
vcm_ledger_release (VcmLedger *self)
{
  g_autoptr (GPtrArray) held = NULL;

  g_return_if_fail (self->hold > 0);
  if (--self->hold > 0 || self->held->len == 0)
    return;
  held = g_steal_pointer (&self->held);
  self->held = g_ptr_array_new_with_free_func (held_change_free);
  for (guint i = 0; i < held->len; i++)
    self->tell (&((HeldChange *) held->pdata[i])->change, self->tell_data);
}

void
vcm_ledger_emit (VcmLedger *self,
                 VcmChangeKind kind,
                 const VcmRootfsRecord *rootfs,
                 const char *const *detached)
{
  VcmChange change = {
    .generation = ++self->generation, .kind = kind, .rootfs = rootfs, .detached = detached
  };
  HeldChange *h;

  if (self->hold == 0)
    {
      self->tell (&change, self->tell_data);
      return;
    }
  h = g_new0 (HeldChange, 1);
  h->rootfs = vcm_rootfs_record_copy (rootfs);
  h->detached = g_strdupv ((char **) detached);
  h->change = change;
  h->change.rootfs = h->rootfs;
  h->change.detached = (const char *const *) h->detached;
  g_ptr_array_add (self->held, h);
}

VcmTracked *
vcm_ledger_lookup (VcmLedger *self, const char *key)
{
  return g_hash_table_lookup (self->tracked, key);
}

guint
vcm_ledger_get_size (VcmLedger *self)
{
  return g_hash_table_size (self->tracked);
}

GList *
vcm_ledger_get_tracked (VcmLedger *self)
{
  return g_hash_table_get_values (self->tracked);
}

VcmTracked *
vcm_ledger_find_mount (VcmLedger *self, guint64 mount_id)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->tracked);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (((VcmTracked *) value)->rootfs->mount_id == mount_id)
      return value;
  return NULL;
}

gboolean
vcm_ledger_any_beneath (VcmLedger *self, const char *point)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->tracked);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (vcm_path_has_prefix (((VcmTracked *) value)->rootfs->mount_point, point))
      return TRUE;
  return FALSE;
}

static void
untrack (VcmLedger *self, VcmTracked *t)
{
  if (self->index != NULL)
    self->index->unindexed (self->index_data, t);
  g_hash_table_remove (self->tracked, t->key);
}

/* Tracks @rootfs (taken) with @submounts (taken), replacing what was at its key. */
static VcmTracked *
track (VcmLedger *self, VcmRootfsRecord *rootfs, GHashTable *submounts)
{
  gsize ls = strlen (rootfs->sandbox_id), lc = strlen (rootfs->container_id);
  VcmTracked *t = g_malloc (sizeof *t + ls + lc + 2);
  VcmTracked *old;

  t->rootfs = rootfs;
  t->submounts = submounts;
  t->source_data = NULL;
  memcpy (t->key, rootfs->sandbox_id, ls);
  t->key[ls] = '/';
  memcpy (t->key + ls + 1, rootfs->container_id, lc + 1);
  old = g_hash_table_lookup (self->tracked, t->key);
  if (old != NULL)
    untrack (self, old);
  g_hash_table_insert (self->tracked, t->key, t);
  if (self->index != NULL)
    self->index->indexed (self->index_data, t);
  return t;
}

static gboolean
same_mount (const VcmRootfsRecord *a, const VcmRootfsRecord *b)
{
  /* mountinfo IDs are reused at once; the unique ones never are */
  if (a->unique_id != 0 && b->unique_id != 0)
    return a->unique_id == b->unique_id;
  return a->mount_id == b->mount_id;
}

/* Tells @kind once for each ID in @a that is not in @b (either may be NULL). */
static void
emit_difference (VcmLedger *self,
                 GHashTable *a,
                 GHashTable *b,
                 VcmChangeKind kind,
                 const VcmRootfsRecord *rootfs,
                 gboolean tell)
{
  GHashTableIter iter;
  gpointer id;

  if (a == NULL || !tell)
    return;
  g_hash_table_iter_init (&iter, a);
  while (g_hash_table_iter_next (&iter, &id, NULL))
    if (b == NULL || !g_hash_table_contains (b, id))
      vcm_ledger_emit (self, kind, rootfs, NULL);
}

static VcmRootfsRecord *
rootfs_copy_of (const VcmRootfsRecord *r)
{
  VcmRootfsRecord *copy =
    vcm_rootfs_record_new (r->sandbox_id, r->container_id, r->mount_point, r->mount_id, r->read_only);

  copy->unique_id = r->unique_id;
  return copy;
}

void
vcm_ledger_diff_one (
  VcmLedger *self, const char *key, const VcmRootfsRecord *now, GHashTable *subs, gboolean tell)
{
  VcmTracked *t = g_hash_table_lookup (self->tracked, key);

  if (t != NULL && (now == NULL || !same_mount (t->rootfs, now)))
    {
      if (tell)
        vcm_ledger_emit (self, VCM_CHANGE_VANISHED, t->rootfs, NULL);
      untrack (self, t);
      t = NULL;
    }
  if (now == NULL)
    return;
  if (t == NULL)
    {
      t = track (self, rootfs_copy_of (now), set_take (self, subs));
      if (tell)
        vcm_ledger_emit (self, VCM_CHANGE_MOUNTED, t->rootfs, NULL);
      return;
    }
  if (t->rootfs->unique_id == 0 && now->unique_id != 0)
    t->rootfs->unique_id = now->unique_id;
  if (t->rootfs->read_only != now->read_only)
    {
      t->rootfs->read_only = now->read_only;
      if (tell)
        vcm_ledger_emit (self, VCM_CHANGE_REMOUNTED, t->rootfs, NULL);
    }
  emit_difference (self, subs, t->submounts, VCM_CHANGE_SUBMOUNT_ADDED, t->rootfs, tell);
  emit_difference (self, t->submounts, subs, VCM_CHANGE_SUBMOUNT_REMOVED, t->rootfs, tell);
  set_unref (t->submounts);
  t->submounts = set_take (self, subs);
  if (self->index != NULL)
    self->index->indexed (self->index_data, t);
}

void
vcm_ledger_diff_all (
  VcmLedger *self, guint64 seq, GPtrArray *rootfs, GPtrArray *submounts, gboolean tell)
{
  g_autoptr (GHashTable) now_by_key = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GPtrArray) gone = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter iter;
  gpointer key, value;

  for (guint i = 0; i < rootfs->len; i++)
    {
      VcmRootfsRecord *r = rootfs->pdata[i];
      g_hash_table_insert (now_by_key, vcm_ledger_key (r->sandbox_id, r->container_id), r);
    }
  g_hash_table_iter_init (&iter, self->tracked);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      VcmRootfsRecord *now = g_hash_table_lookup (now_by_key, key);

      if (vcm_ledger_changed_since (self, key, seq) || vcm_ledger_busy (self, key))
        continue;
      if (now == NULL || !same_mount (((VcmTracked *) value)->rootfs, now))
        g_ptr_array_add (gone, g_strdup (key));
    }
  g_ptr_array_sort (gone, (GCompareFunc) g_strcmp0); /* deterministic order */
  for (guint i = 0; i < gone->len; i++)
    vcm_ledger_diff_one (self, gone->pdata[i], NULL, NULL, tell);

  for (guint i = 0; i < rootfs->len; i++)
    {
      VcmRootfsRecord *now = rootfs->pdata[i];
      g_autofree char *k = vcm_ledger_key (now->sandbox_id, now->container_id);

      if (!vcm_ledger_changed_since (self, k, seq) && !vcm_ledger_busy (self, k))
        vcm_ledger_diff_one (self, k, now, submounts->pdata[i], tell);
    }
}

void
vcm_ledger_note_local (VcmLedger *self, const char *key, guint64 seq)
{
  g_hash_table_replace (self->local_changes, g_strdup (key), g_memdup2 (&seq, sizeof seq));
}

void
vcm_ledger_prune_local (VcmLedger *self, guint64 applied_seq)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->local_changes);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (*(guint64 *) value < applied_seq)
      g_hash_table_iter_remove (&iter);
}

void
vcm_ledger_forget_local (VcmLedger *self)
{
  g_hash_table_remove_all (self->local_changes);
}

gboolean
vcm_ledger_changed_since (VcmLedger *self, const char *key, guint64 seq)
{
  const guint64 *last = g_hash_table_lookup (self->local_changes, key);

  return last != NULL && seq <= *last;
}

void
vcm_ledger_note_mounted (VcmLedger *self, const VcmRootfsRecord *rootfs)
{
  g_autofree char *k = vcm_ledger_key (rootfs->sandbox_id, rootfs->container_id);
  VcmTracked *old = g_hash_table_lookup (self->tracked, k);
  VcmTracked *t;

  /* One that vanished behind our back and was not yet seen: reported first.
   * (The service mounts only where nothing is mounted, so a tracked rootfs
   * here is gone, even if the kernel gave the new mount its reused ID.) */
  if (old != NULL)
    {
      vcm_ledger_emit (self, VCM_CHANGE_VANISHED, old->rootfs, NULL);
      untrack (self, old);
    }
  t = track (self, rootfs_copy_of (rootfs), NULL); /* cloned without its submounts: none */
  vcm_ledger_emit (self, VCM_CHANGE_MOUNTED, t->rootfs, NULL);
}

void
vcm_ledger_note_unmounted (VcmLedger *self,
                           const char *sandbox_id,
                           const char *container_id,
                           const char *const *detached)
{
  g_autofree char *k = vcm_ledger_key (sandbox_id, container_id);
  g_autoptr (VcmRootfsRecord) gone = NULL;
  VcmTracked *t = g_hash_table_lookup (self->tracked, k);

  if (t != NULL)
    {
      gone = rootfs_copy_of (t->rootfs);
      untrack (self, t);
    }
  else
    gone = vcm_rootfs_record_new (sandbox_id, container_id, detached[0], 0, FALSE);
  vcm_ledger_emit (self, VCM_CHANGE_UNMOUNTED, gone, detached);
}

GPtrArray *
vcm_ledger_list (VcmLedger *self, const char *sandbox_id)
{
  GPtrArray *result = g_ptr_array_new_with_free_func ((GDestroyNotify) vcm_rootfs_record_free);
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->tracked);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      const VcmRootfsRecord *r = ((VcmTracked *) value)->rootfs;

      if (sandbox_id != NULL && *sandbox_id != '\0' && !g_str_equal (r->sandbox_id, sandbox_id))
        continue;
      g_ptr_array_add (result, rootfs_copy_of (r));
    }
  g_ptr_array_sort (result, vcm_rootfs_record_compare);
  return result;
}

/* A key being changed: {depth, owed}. */
void
vcm_ledger_begin_local (VcmLedger *self, const char *key, gboolean late)
{
  guint *busy = g_hash_table_lookup (self->busy, key);

  if (busy == NULL)
    {
      busy = g_new0 (guint, 3);
      g_hash_table_insert (self->busy, g_strdup (key), busy);
    }
  busy[0]++;
  busy[2] |= late;
}

gboolean
vcm_ledger_late (VcmLedger *self, const char *key)
{
  guint *busy = g_hash_table_lookup (self->busy, key);

  return busy != NULL && busy[2];
}

gboolean
vcm_ledger_end_local (VcmLedger *self, const char *key)
{
  guint *busy = g_hash_table_lookup (self->busy, key);
  gboolean owed;

  g_return_val_if_fail (busy != NULL && busy[0] > 0, FALSE);
  if (--busy[0] > 0)
    return FALSE;
  owed = busy[1];
  g_hash_table_remove (self->busy, key);
  return owed;
}

gboolean
vcm_ledger_busy (VcmLedger *self, const char *key)
{
  guint *busy = g_hash_table_lookup (self->busy, key);

  if (busy == NULL)
    return FALSE;
  busy[1] = TRUE; /* something was seen: a look at the end */
  return TRUE;
}
