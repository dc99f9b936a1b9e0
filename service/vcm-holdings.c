/* vcm-holdings: the mounts each user that is not root holds through the
 * service (see vcm-holdings.h). A mutex, two hash tables, and the read-back
 * from the identity records. */
#include "config.h"

#include "vcm-holdings.h"
#include "vcm-identity.h"
#include "vcm-validate.h"

struct _VcmHoldings {
  GMutex lock;
  gboolean loaded;
  GHashTable *points;    /* mount point -> Held */
  GHashTable *users;     /* uid -> total (GUINT_TO_POINTER) */
  guint64 taken;         /* how many takes so far: each Held's place in time */
  GHashTable *pruned_at; /* uid -> monotonic time of its last prune (gint64, boxed) */
};

typedef struct {
  uid_t uid;
  guint n;
  guint64 id;
  guint64 unique_id; /* 0: not known */
  guint64 taken;     /* VcmHoldings.taken when it was counted */
} Held;

VcmHoldings *
vcm_holdings_new (void)
{
  VcmHoldings *self = g_new0 (VcmHoldings, 1);

  g_mutex_init (&self->lock);
  self->points = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->users = g_hash_table_new (NULL, NULL);
  self->pruned_at = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  return self;
}

void
vcm_holdings_free (VcmHoldings *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->points);
  g_hash_table_unref (self->users);
  g_hash_table_unref (self->pruned_at);
  g_mutex_clear (&self->lock);
  g_free (self);
}

static guint
held_locked (VcmHoldings *self, uid_t uid)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (self->users, GUINT_TO_POINTER (uid)));
}

static void
add_locked (VcmHoldings *self, uid_t uid, gint64 delta)
{
  gint64 total = (gint64) held_locked (self, uid) + delta;

  if (total <= 0)
    g_hash_table_remove (self->users, GUINT_TO_POINTER (uid));
  else
    g_hash_table_replace (self->users, GUINT_TO_POINTER (uid), GUINT_TO_POINTER ((guint) total));
}

static void
drop_locked (VcmHoldings *self, const char *mount_point, guint64 id, guint64 unique_id, guint64 mark)
{
  Held *h = g_hash_table_lookup (self->points, mount_point);
  VcmSysMountIds held, gone = { id, unique_id };

  if (h == NULL || h->taken > mark)
    return;
  held.old_id = h->id;
  held.unique_id = h->unique_id;
  if (!vcm_sys_mount_ids_match (&held, &gone))
    return;
  add_locked (self, h->uid, -(gint64) h->n);
  g_hash_table_remove (self->points, mount_point);
}

static void
set_locked (
  VcmHoldings *self, uid_t uid, const char *mount_point, guint64 id, guint64 unique_id, guint n)
{
  Held *h = g_new0 (Held, 1);

  drop_locked (self, mount_point, 0, 0, G_MAXUINT64);
  h->uid = uid;
  h->n = n;
  h->id = id;
  h->unique_id = unique_id;
  h->taken = ++self->taken;
  g_hash_table_replace (self->points, g_strdup (mount_point), h);
  add_locked (self, uid, n);
}

gboolean
vcm_holdings_loaded (VcmHoldings *self)
{
  gboolean loaded;

  g_mutex_lock (&self->lock);
  loaded = self->loaded;
  g_mutex_unlock (&self->lock);
  return loaded;
}

void
vcm_holdings_load (VcmHoldings *self, int shared_fd, const char *shared_dir, VcmMountTable *table)
{
  g_autoptr (GPtrArray) beneath = NULL;
  g_autoptr (GPtrArray) rels = g_ptr_array_new ();
  g_autoptr (GPtrArray) points = g_ptr_array_new ();
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (VcmSysMountIds));
  g_autoptr (GPtrArray) recovered = NULL;
  const VcmSysMountIds *id;

  if (vcm_holdings_loaded (self))
    return;
  beneath = table != NULL ? vcm_mount_table_get_beneath (table, shared_dir) : g_ptr_array_new ();
  for (guint i = 0; i < beneath->len; i++)
    {
      const VcmMountEntry *e = beneath->pdata[i];
      const char *rel = vcm_path_relative_to (e->target, shared_dir);
      VcmSysMountIds live = { e->id, 0 };

      if (rel == NULL || *rel == '\0')
        continue;
      g_ptr_array_add (rels, (gpointer) rel);
      g_ptr_array_add (points, e->target);
      g_array_append_val (ids, live);
    }
  recovered = vcm_identity_recover (shared_fd, shared_dir, (const char *const *) rels->pdata,
                                    (const VcmSysMountIds *) ids->data, rels->len);
  id = (const VcmSysMountIds *) ids->data;
  g_mutex_lock (&self->lock);
  for (guint i = 0; !self->loaded && i < recovered->len; i++)
    {
      GVariant *info = recovered->pdata[i];
      guint32 uid = 0, n = 0;

      if (info != NULL && g_variant_lookup (info, "caller-uid", "u", &uid) && uid != 0 &&
          g_variant_lookup (info, "mounts", "u", &n) && n > 0 &&
          !g_hash_table_contains (self->points, points->pdata[i]))
        set_locked (self, uid, points->pdata[i], id[i].old_id, id[i].unique_id, n);
    }
  self->loaded = TRUE;
  g_mutex_unlock (&self->lock);
}

gboolean
vcm_holdings_take (VcmHoldings *self,
                   uid_t uid,
                   const char *mount_point,
                   guint64 id,
                   guint64 unique_id,
                   guint n,
                   guint *out_held)
{
  gboolean ok;
  guint held;

  g_mutex_lock (&self->lock);
  held = held_locked (self, uid);
  ok = n <= VCM_MAX_MOUNTS_HELD && held <= VCM_MAX_MOUNTS_HELD - n;
  if (ok)
    set_locked (self, uid, mount_point, id, unique_id, n);
  g_mutex_unlock (&self->lock);
  if (out_held != NULL)
    *out_held = held;
  return ok;
}

guint
vcm_holdings_lookup (VcmHoldings *self, const char *mount_point)
{
  Held *h;
  guint n;

  g_mutex_lock (&self->lock);
  h = g_hash_table_lookup (self->points, mount_point);
  n = h != NULL ? h->n : 0;
  g_mutex_unlock (&self->lock);
  return n;
}

guint
vcm_holdings_held (VcmHoldings *self, uid_t uid)
{
  guint n;

  g_mutex_lock (&self->lock);
  n = held_locked (self, uid);
  g_mutex_unlock (&self->lock);
  return n;
}

void
vcm_holdings_drop (VcmHoldings *self, const char *mount_point, guint64 id, guint64 unique_id)
{
  g_mutex_lock (&self->lock);
  drop_locked (self, mount_point, id, unique_id, G_MAXUINT64);
  g_mutex_unlock (&self->lock);
}

void
vcm_holdings_drop_taken_by (
  VcmHoldings *self, const char *mount_point, guint64 id, guint64 unique_id, guint64 mark)
{
  g_mutex_lock (&self->lock);
  drop_locked (self, mount_point, id, unique_id, mark);
  g_mutex_unlock (&self->lock);
}

gboolean
vcm_holdings_counted_since (VcmHoldings *self, const char *mount_point, guint64 mark)
{
  Held *h;
  gboolean since;

  g_mutex_lock (&self->lock);
  h = g_hash_table_lookup (self->points, mount_point);
  since = h != NULL && h->taken > mark;
  g_mutex_unlock (&self->lock);
  return since;
}

guint64
vcm_holdings_mark (VcmHoldings *self)
{
  guint64 mark;

  g_mutex_lock (&self->lock);
  mark = self->taken;
  g_mutex_unlock (&self->lock);
  return mark;
}

guint
vcm_holdings_prune (VcmHoldings *self, uid_t uid, VcmMountTable *table, guint64 mark)
{
  GHashTableIter iter;
  gpointer key, value;
  guint pruned = 0;

  g_mutex_lock (&self->lock);
  g_hash_table_iter_init (&iter, self->points);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      Held *h = value;
      const VcmMountEntry *e;

      if (h->uid != uid || h->taken > mark)
        continue;
      e = vcm_mount_table_lookup_id (table, h->id);
      if (e != NULL && g_strcmp0 (e->target, key) == 0)
        continue;
      add_locked (self, h->uid, -(gint64) h->n);
      pruned += h->n;
      g_hash_table_iter_remove (&iter);
    }
  g_mutex_unlock (&self->lock);
  return pruned;
}

gboolean
vcm_holdings_prune_due (VcmHoldings *self, uid_t uid, gint64 now)
{
  gint64 *at;
  gboolean due;

  g_mutex_lock (&self->lock);
  at = g_hash_table_lookup (self->pruned_at, GUINT_TO_POINTER (uid));
  due = at == NULL || now - *at >= VCM_HOLDINGS_PRUNE_INTERVAL_US;
  if (due)
    {
      if (at == NULL)
        {
          /* a small table: only users that met the bound, each once */
          if (g_hash_table_size (self->pruned_at) >= 4096)
            g_hash_table_remove_all (self->pruned_at);
          at = g_new (gint64, 1);
          g_hash_table_insert (self->pruned_at, GUINT_TO_POINTER (uid), at);
        }
      *at = now;
    }
  g_mutex_unlock (&self->lock);
  return due;
}
