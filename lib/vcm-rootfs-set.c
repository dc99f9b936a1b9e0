/* vcm-rootfs-set: VcmRootfsSet follows the service's rootfs set with the
 * protocol of the interface contract: subscribe first (the client's proxy
 * does), ListRootfs once, apply the signals whose generation is the next
 * one, ignore those at or below the set's generation (already listed), list
 * again on a gap (a lost signal), and start over when org.vc.Mount gets a new
 * owner (a new instance counts from 0). Items are kept sorted by (sandbox ID,
 * container ID); a new listing is applied as the difference to the old set,
 * so each change shows as one added, removed or changed signal. */
#include "vcm-client-private.h"
#include "vcm-value-type.h"

#include <string.h>

/**
 * VcmRootfsSet:
 *
 * The container root filesystems mounted now, as a #GListModel of
 * #VcmRootfs, sorted by sandbox ID and container ID, that follows the
 * service.
 *
 * A #VcmRootfsSet lists the rootfs mounts once and then applies the
 * service's signals. When it sees a gap in the generations of the signals (a
 * signal was lost) it lists again; when the service is restarted (a new
 * owner of `org.vc.Mount`) it starts over. A new listing is applied as the
 * difference to what the set held, so a restart of the service that changed
 * nothing changes nothing in the set. While the service is not running the
 * set keeps what it last knew and #VcmRootfsSet:synced is %FALSE; so it does
 * for good when the client's bus connection is closed.
 *
 * Each change is reported as #GListModel::items-changed and as one of
 * #VcmRootfsSet::added, #VcmRootfsSet::removed and #VcmRootfsSet::changed;
 * #VcmRootfsSet::resynced follows each listing.
 *
 * The set lives in the thread-default main context in which its client was
 * made, and its signals are emitted there.
 */
/**
 * VcmRootfsSetClass:
 * @parent_class: the parent class
 *
 * The class of #VcmRootfsSet; final, nothing to override.
 */

typedef enum {
  SIGNAL_MOUNTED,
  SIGNAL_UNMOUNTED,
  SIGNAL_CHANGED,
} SignalKind;

/* One service signal, kept while a listing is under way. */
typedef struct {
  SignalKind kind;
  guint64 generation;
  char *sandbox_id;
  char *container_id;
  char *mount_point;
  gboolean read_only;
  char **detached;
  char *change;
} ServiceSignal;

struct _VcmRootfsSet {
  GObject parent_instance;
  VcmClient *client;
  char *sandbox_id; /* the filter, or NULL for all */
  GPtrArray *items; /* VcmRootfs, sorted by key */
  char *owner;      /* the service instance the set follows */
  guint64 generation;
  gboolean synced;
  GCancellable *list_cancellable; /* non-NULL while a ListRootfs is under way */
  GQueue pending;                 /* ServiceSignal received during the listing */
  GHashTable *remounted;          /* keys reported remounted, announced by the next listing */
  guint retry_id;
  gulong proxy_handlers[3];
  gulong owner_handler;
  gulong closed_handler;
  GDBusConnection *connection; /* the client's, watched for closing */
};

static void vcm_rootfs_set_list_model_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (VcmRootfsSet,
                               vcm_rootfs_set,
                               G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, vcm_rootfs_set_list_model_init))

enum {
  PROP_0,
  PROP_CLIENT,
  PROP_SANDBOX_ID,
  PROP_GENERATION,
  PROP_SYNCED,
  N_PROPS
};

enum {
  SIG_ADDED,
  SIG_REMOVED,
  SIG_CHANGED,
  SIG_RESYNCED,
  N_SIGNALS
};

static GParamSpec *props[N_PROPS];
static guint signals[N_SIGNALS];

#define RETRY_SECONDS 1

static void start_listing (VcmRootfsSet *self);

/* A signal about a rootfs; the caller adds what is the signal's own. */
static ServiceSignal *
service_signal_new (SignalKind kind,
                    guint64 generation,
                    const char *sandbox_id,
                    const char *container_id,
                    const char *mount_point)
{
  ServiceSignal *s = g_new0 (ServiceSignal, 1);

  s->kind = kind;
  s->generation = generation;
  s->sandbox_id = g_strdup (sandbox_id);
  s->container_id = g_strdup (container_id);
  s->mount_point = g_strdup (mount_point);
  return s;
}

static void
service_signal_free (ServiceSignal *s)
{
  g_free (s->sandbox_id);
  g_free (s->container_id);
  g_free (s->mount_point);
  g_strfreev (s->detached);
  g_free (s->change);
  g_free (s);
}

static char *
key_of (const char *sandbox_id, const char *container_id)
{
  return g_strconcat (sandbox_id, "\n", container_id, NULL);
}

static gboolean
wanted (VcmRootfsSet *self, const char *sandbox_id)
{
  return self->sandbox_id == NULL || strcmp (self->sandbox_id, sandbox_id) == 0;
}

/* Binary search: TRUE and the index if found, else FALSE and where it goes. */
static gboolean
find (VcmRootfsSet *self, const char *sandbox_id, const char *container_id, guint *pos)
{
  guint lo = 0, hi = self->items->len;

  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      int r = _vcm_rootfs_compare_key (self->items->pdata[mid], sandbox_id, container_id);

      if (r == 0)
        {
          *pos = mid;
          return TRUE;
        }
      if (r < 0)
        lo = mid + 1;
      else
        hi = mid;
    }
  *pos = lo;
  return FALSE;
}

static void
set_generation (VcmRootfsSet *self, guint64 generation)
{
  if (self->generation == generation)
    return;
  self->generation = generation;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_GENERATION]);
}

static void
set_synced (VcmRootfsSet *self, gboolean synced)
{
  if (self->synced == synced)
    return;
  self->synced = synced;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_SYNCED]);
}

static void
insert_at (VcmRootfsSet *self, guint pos, VcmRootfs *rootfs)
{
  g_ptr_array_insert (self->items, (int) pos, g_object_ref (rootfs));
  g_list_model_items_changed (G_LIST_MODEL (self), pos, 0, 1);
  g_signal_emit (self, signals[SIG_ADDED], 0, rootfs);
}

static void
remove_at (VcmRootfsSet *self, guint pos, const char *const *detached)
{
  g_autoptr (VcmRootfs) rootfs = g_ptr_array_steal_index (self->items, pos);

  g_list_model_items_changed (G_LIST_MODEL (self), pos, 1, 0);
  g_signal_emit (self, signals[SIG_REMOVED], 0, rootfs, detached);
}

static void
replace_at (VcmRootfsSet *self, guint pos, VcmRootfs *rootfs)
{
  remove_at (self, pos, NULL);
  insert_at (self, pos, rootfs);
}

/* Makes the set equal to @listed (sorted, no duplicates), one change at a time. */
static void
apply_listing (VcmRootfsSet *self, GPtrArray *listed)
{
  guint i = 0, j = 0;

  while (i < self->items->len || j < listed->len)
    {
      VcmRootfs *have = i < self->items->len ? self->items->pdata[i] : NULL;
      VcmRootfs *want = j < listed->len ? listed->pdata[j] : NULL;
      int cmp;

      if (have == NULL)
        cmp = 1;
      else if (want == NULL)
        cmp = -1;
      else
        cmp = _vcm_rootfs_compare_key (have, vcm_rootfs_get_sandbox_id (want),
                                       vcm_rootfs_get_container_id (want));
      if (cmp < 0)
        {
          remove_at (self, i, NULL);
        }
      else if (cmp > 0)
        {
          insert_at (self, i, want);
          i++;
          j++;
        }
      else
        {
          g_autofree char *key =
            key_of (vcm_rootfs_get_sandbox_id (have), vcm_rootfs_get_container_id (have));

          if (strcmp (vcm_rootfs_get_mount_point (have), vcm_rootfs_get_mount_point (want)) != 0)
            {
              replace_at (self, i, want);
            }
          else if (vcm_rootfs_get_read_only (have) != vcm_rootfs_get_read_only (want) ||
                   g_hash_table_contains (self->remounted, key))
            {
              _vcm_rootfs_set_read_only (have, vcm_rootfs_get_read_only (want));
              g_signal_emit (self, signals[SIG_CHANGED], 0, have, "remounted");
            }
          i++;
          j++;
        }
    }
  g_hash_table_remove_all (self->remounted);
}

/* Applies one signal of the instance the set follows. */
static void
apply_signal (VcmRootfsSet *self, const ServiceSignal *s)
{
  guint pos;
  gboolean found;

  if (s->generation <= self->generation)
    return; /* already in the listing */
  if (s->generation != self->generation + 1)
    {
      g_debug ("vcm-rootfs-set: generation %" G_GUINT64_FORMAT " after %" G_GUINT64_FORMAT
               ": a signal was lost, listing again",
               s->generation, self->generation);
      start_listing (self);
      return;
    }
  set_generation (self, s->generation);
  if (!wanted (self, s->sandbox_id))
    return;
  found = find (self, s->sandbox_id, s->container_id, &pos);
  switch (s->kind)
    {
    case SIGNAL_MOUNTED:
      {
        g_autoptr (VcmRootfs) rootfs =
          vcm_rootfs_new (s->sandbox_id, s->container_id, s->mount_point, s->read_only);
        if (!found)
          insert_at (self, pos, rootfs);
        else if (strcmp (vcm_rootfs_get_mount_point (self->items->pdata[pos]), s->mount_point) != 0 ||
                 vcm_rootfs_get_read_only (self->items->pdata[pos]) != !!s->read_only)
          replace_at (self, pos, rootfs);
      }
      break;
    case SIGNAL_UNMOUNTED:
      if (found)
        remove_at (self, pos, (const char *const *) s->detached);
      break;
    case SIGNAL_CHANGED:
      if (g_str_equal (s->change, "vanished"))
        {
          if (found)
            remove_at (self, pos, NULL);
        }
      else if (g_str_equal (s->change, "remounted") || !found)
        {
          /* The signal does not say the new read-only flag, and a change of a
           * rootfs the set does not hold means the set is wrong: list again. */
          g_hash_table_add (self->remounted, key_of (s->sandbox_id, s->container_id));
          start_listing (self);
        }
      else
        {
          g_signal_emit (self, signals[SIG_CHANGED], 0, self->items->pdata[pos], s->change);
        }
      break;
    default:
      g_assert_not_reached ();
    }
}

static void
receive_signal (VcmRootfsSet *self, ServiceSignal *s)
{
  G_GNUC_UNUSED g_autoptr (VcmRootfsSet) hold = g_object_ref (self); /* handlers may drop the last ref */

  if (self->list_cancellable != NULL)
    {
      g_queue_push_tail (&self->pending, s);
      return;
    }
  if (self->synced)
    apply_signal (self, s);
  /* else: no listing to apply it to; the next listing will hold it */
  service_signal_free (s);
}

typedef struct {
  VcmRootfsSet *self; /* held while the call is under way */
  GCancellable *cancellable;
} Listing;

static void
listing_free (Listing *l)
{
  g_object_unref (l->self);
  g_object_unref (l->cancellable);
  g_free (l);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Listing, listing_free)

static gboolean
on_retry (gpointer user_data)
{
  VcmRootfsSet *self = user_data;

  self->retry_id = 0;
  start_listing (self);
  return G_SOURCE_REMOVE;
}

static void
on_listed (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (Listing) l = user_data;
  VcmRootfsSet *self = l->self;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) listed = NULL;
  guint64 generation = 0;
  ServiceSignal *s;

  listed = vcm_client_list_rootfs_finish (VCM_CLIENT (source), res, &generation, &error);
  if (g_cancellable_is_cancelled (l->cancellable))
    return; /* superseded by a newer listing or a new owner */
  g_clear_object (&self->list_cancellable);
  if (listed == NULL)
    {
      g_debug ("vcm-rootfs-set: ListRootfs failed: %s; trying again", error->message);
      g_queue_clear_full (&self->pending, (GDestroyNotify) service_signal_free);
      if (self->owner != NULL && self->retry_id == 0)
        self->retry_id = g_timeout_add_seconds (RETRY_SECONDS, on_retry, self);
      return;
    }

  set_generation (self, generation);
  apply_listing (self, listed);
  if (self->list_cancellable != NULL)
    return; /* a handler asked for a refresh */
  while ((s = g_queue_pop_head (&self->pending)) != NULL)
    {
      apply_signal (self, s);
      service_signal_free (s);
      if (self->list_cancellable != NULL)
        return; /* a gap: listing again (which dropped the queue) */
    }
  set_synced (self, TRUE);
  g_signal_emit (self, signals[SIG_RESYNCED], 0);
}

static void
stop_listing (VcmRootfsSet *self)
{
  if (self->list_cancellable != NULL)
    {
      g_cancellable_cancel (self->list_cancellable);
      g_clear_object (&self->list_cancellable);
    }
  g_queue_clear_full (&self->pending, (GDestroyNotify) service_signal_free);
  g_clear_handle_id (&self->retry_id, g_source_remove);
}

static void
start_listing (VcmRootfsSet *self)
{
  Listing *l;

  stop_listing (self);
  set_synced (self, FALSE);
  if (self->owner == NULL)
    return;
  self->list_cancellable = g_cancellable_new ();
  l = g_new0 (Listing, 1);
  l->self = g_object_ref (self);
  l->cancellable = g_object_ref (self->list_cancellable);
  vcm_client_list_rootfs (self->client, self->sandbox_id, VCM_CALL_FLAGS_NONE, l->cancellable, on_listed,
                          l);
}

static void
on_name_owner (GObject *client, GParamSpec *pspec, gpointer user_data)
{
  VcmRootfsSet *self = user_data;
  G_GNUC_UNUSED g_autoptr (VcmRootfsSet) hold = g_object_ref (self); /* handlers may drop the last ref */
  g_autofree char *owner = vcm_client_dup_name_owner (self->client);

  if (g_strcmp0 (owner, self->owner) == 0)
    return;
  g_debug ("vcm-rootfs-set: the service's owner is now %s", owner != NULL ? owner : "(none)");
  g_free (self->owner);
  self->owner = g_steal_pointer (&owner);
  /* A new instance counts from 0. */
  set_generation (self, 0);
  start_listing (self);
}

/* The bus connection is gone: nothing more will come; the set keeps what it
 * knew and says it no longer follows. */
static void
on_connection_closed (GDBusConnection *connection,
                      gboolean remote_peer_vanished,
                      GError *error,
                      gpointer user_data)
{
  VcmRootfsSet *self = user_data;
  G_GNUC_UNUSED g_autoptr (VcmRootfsSet) hold = g_object_ref (self); /* handlers may drop the last ref */

  g_debug ("vcm-rootfs-set: the bus connection was closed");
  g_clear_pointer (&self->owner, g_free);
  stop_listing (self);
  set_synced (self, FALSE);
}

static void
on_rootfs_mounted (VcmDBusMount *proxy,
                   guint64 generation,
                   const char *sandbox_id,
                   const char *container_id,
                   const char *mount_point,
                   gboolean read_only,
                   gpointer user_data)
{
  ServiceSignal *s =
    service_signal_new (SIGNAL_MOUNTED, generation, sandbox_id, container_id, mount_point);

  s->read_only = read_only;
  receive_signal (user_data, s);
}

static void
on_rootfs_unmounted (VcmDBusMount *proxy,
                     guint64 generation,
                     const char *sandbox_id,
                     const char *container_id,
                     const char *mount_point,
                     const char *const *detached,
                     gpointer user_data)
{
  ServiceSignal *s =
    service_signal_new (SIGNAL_UNMOUNTED, generation, sandbox_id, container_id, mount_point);

  s->detached = g_strdupv ((char **) detached);
  receive_signal (user_data, s);
}

static void
on_rootfs_changed (VcmDBusMount *proxy,
                   guint64 generation,
                   const char *sandbox_id,
                   const char *container_id,
                   const char *mount_point,
                   const char *change,
                   gpointer user_data)
{
  ServiceSignal *s =
    service_signal_new (SIGNAL_CHANGED, generation, sandbox_id, container_id, mount_point);

  s->change = g_strdup (change);
  receive_signal (user_data, s);
}

static GType
vcm_rootfs_set_get_item_type (GListModel *model)
{
  return VCM_TYPE_ROOTFS;
}

static guint
vcm_rootfs_set_get_n_items (GListModel *model)
{
  return VCM_ROOTFS_SET (model)->items->len;
}

static gpointer
vcm_rootfs_set_get_item (GListModel *model, guint position)
{
  VcmRootfsSet *self = VCM_ROOTFS_SET (model);

  if (position >= self->items->len)
    return NULL;
  return g_object_ref (self->items->pdata[position]);
}

static void
vcm_rootfs_set_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = vcm_rootfs_set_get_item_type;
  iface->get_n_items = vcm_rootfs_set_get_n_items;
  iface->get_item = vcm_rootfs_set_get_item;
}

static void
vcm_rootfs_set_constructed (GObject *object)
{
  VcmRootfsSet *self = VCM_ROOTFS_SET (object);
  VcmDBusMount *proxy;

  G_OBJECT_CLASS (vcm_rootfs_set_parent_class)->constructed (object);
  g_return_if_fail (VCM_IS_CLIENT (self->client));
  proxy = _vcm_client_get_proxy (self->client);
  /* Subscribed (the proxy's match rules were sent when it was made) before
   * the first ListRootfs goes out. */
  self->proxy_handlers[0] =
    g_signal_connect (proxy, "rootfs-mounted", G_CALLBACK (on_rootfs_mounted), self);
  self->proxy_handlers[1] =
    g_signal_connect (proxy, "rootfs-unmounted", G_CALLBACK (on_rootfs_unmounted), self);
  self->proxy_handlers[2] =
    g_signal_connect (proxy, "rootfs-changed", G_CALLBACK (on_rootfs_changed), self);
  self->owner_handler =
    g_signal_connect (self->client, "notify::name-owner", G_CALLBACK (on_name_owner), self);
  self->connection = g_object_ref (vcm_client_get_connection (self->client));
  self->closed_handler =
    g_signal_connect (self->connection, "closed", G_CALLBACK (on_connection_closed), self);
  if (!g_dbus_connection_is_closed (self->connection))
    self->owner = vcm_client_dup_name_owner (self->client);
  start_listing (self);
}

static void
vcm_rootfs_set_dispose (GObject *object)
{
  VcmRootfsSet *self = VCM_ROOTFS_SET (object);

  stop_listing (self);
  if (self->client != NULL)
    {
      VcmDBusMount *proxy = _vcm_client_get_proxy (self->client);

      for (gsize i = 0; i < G_N_ELEMENTS (self->proxy_handlers); i++)
        if (proxy != NULL)
          g_clear_signal_handler (&self->proxy_handlers[i], proxy);
      g_clear_signal_handler (&self->owner_handler, self->client);
      g_clear_object (&self->client);
    }
  if (self->connection != NULL)
    {
      g_clear_signal_handler (&self->closed_handler, self->connection);
      g_clear_object (&self->connection);
    }
  G_OBJECT_CLASS (vcm_rootfs_set_parent_class)->dispose (object);
}

static void
vcm_rootfs_set_finalize (GObject *object)
{
  VcmRootfsSet *self = VCM_ROOTFS_SET (object);

  g_ptr_array_unref (self->items);
  g_hash_table_unref (self->remounted);
  g_free (self->sandbox_id);
  g_free (self->owner);
  G_OBJECT_CLASS (vcm_rootfs_set_parent_class)->finalize (object);
}

/* Every property is its member. */
static const gsize prop_members[N_PROPS] = {
  [PROP_CLIENT] = G_STRUCT_OFFSET (VcmRootfsSet, client),
  [PROP_SANDBOX_ID] = G_STRUCT_OFFSET (VcmRootfsSet, sandbox_id),
  [PROP_GENERATION] = G_STRUCT_OFFSET (VcmRootfsSet, generation),
  [PROP_SYNCED] = G_STRUCT_OFFSET (VcmRootfsSet, synced),
};

static void
vcm_rootfs_set_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  _vcm_member_get_property (object, prop_members[prop_id], value);
}

static void
vcm_rootfs_set_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  VcmRootfsSet *self = VCM_ROOTFS_SET (object);

  _vcm_member_set_property (object, prop_members[prop_id], value);
  /* "" is every sandbox, as NULL */
  if (prop_id == PROP_SANDBOX_ID && self->sandbox_id != NULL && self->sandbox_id[0] == '\0')
    g_clear_pointer (&self->sandbox_id, g_free);
}

static void
vcm_rootfs_set_class_init (VcmRootfsSetClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = vcm_rootfs_set_constructed;
  object_class->dispose = vcm_rootfs_set_dispose;
  object_class->finalize = vcm_rootfs_set_finalize;
  object_class->get_property = vcm_rootfs_set_get_property;
  object_class->set_property = vcm_rootfs_set_set_property;

  /**
   * VcmRootfsSet:client:
   *
   * The client the set follows the service through.
   */
  props[PROP_CLIENT] =
    g_param_spec_object ("client", NULL, NULL, VCM_TYPE_CLIENT,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  /**
   * VcmRootfsSet:sandbox-id:
   *
   * The sandbox whose rootfs the set holds, or %NULL for every sandbox.
   */
  props[PROP_SANDBOX_ID] = g_param_spec_string (
    "sandbox-id", NULL, NULL, NULL, G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  /**
   * VcmRootfsSet:generation:
   *
   * The service's generation the set is at: the set holds every change up
   * to it. A new instance of the service starts again from 0.
   */
  props[PROP_GENERATION] =
    g_param_spec_uint64 ("generation", NULL, NULL, 0, G_MAXUINT64, 0,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /**
   * VcmRootfsSet:synced:
   *
   * Whether the set equals the service's set at #VcmRootfsSet:generation:
   * %FALSE before the first listing, while the set lists again, and while the
   * service is not running (the set then keeps what it last knew).
   */
  props[PROP_SYNCED] = g_param_spec_boolean (
    "synced", NULL, NULL, FALSE, G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);

  /**
   * VcmRootfsSet::added:
   * @self: the set
   * @rootfs: the rootfs now in the set
   *
   * A rootfs was mounted (or found by a new listing).
   */
  signals[SIG_ADDED] = g_signal_new ("added", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                     NULL, NULL, G_TYPE_NONE, 1, VCM_TYPE_ROOTFS);
  /**
   * VcmRootfsSet::removed:
   * @self: the set
   * @rootfs: the rootfs no longer in the set
   * @detached: (nullable) (array zero-terminated=1): the mount points the
   *   service detached, the rootfs first, when the service unmounted it;
   *   %NULL when it vanished behind the service's back or a new listing no
   *   longer had it
   *
   * A rootfs was unmounted.
   */
  signals[SIG_REMOVED] = g_signal_new ("removed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                       NULL, NULL, G_TYPE_NONE, 2, VCM_TYPE_ROOTFS, G_TYPE_STRV);
  /**
   * VcmRootfsSet::changed:
   * @self: the set
   * @rootfs: the rootfs that changed
   * @change: what changed: `submount-added`, `submount-removed` (a mount
   *   below the rootfs came or went) or `remounted` (its flags changed; its
   *   #VcmRootfs:read-only is up to date)
   *
   * A rootfs in the set changed without leaving it.
   */
  signals[SIG_CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                       NULL, NULL, G_TYPE_NONE, 2, VCM_TYPE_ROOTFS, G_TYPE_STRING);
  /**
   * VcmRootfsSet::resynced:
   * @self: the set
   *
   * The set was listed from the service (first, after a lost signal, or
   * after the service restarted) and is up to date again: the differences
   * were emitted just before as added, removed and changed.
   */
  signals[SIG_RESYNCED] = g_signal_new ("resynced", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                        NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
vcm_rootfs_set_init (VcmRootfsSet *self)
{
  self->items = g_ptr_array_new_with_free_func (g_object_unref);
  self->remounted = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_queue_init (&self->pending);
}

/**
 * vcm_rootfs_set_new:
 * @client: a #VcmClient
 * @sandbox_id: (nullable): a sandbox ID, or %NULL for every sandbox
 *
 * Makes a set that follows the rootfs mounts of @sandbox_id (or of every
 * sandbox) through @client. It lists them at once, in the background: wait
 * for #VcmRootfsSet::resynced (or #VcmRootfsSet:synced) to know it is
 * filled.
 *
 * Returns: (transfer full): the set
 */
VcmRootfsSet *
vcm_rootfs_set_new (VcmClient *client, const char *sandbox_id)
{
  g_return_val_if_fail (VCM_IS_CLIENT (client), NULL);
  return g_object_new (VCM_TYPE_ROOTFS_SET, "client", client, "sandbox-id", sandbox_id, NULL);
}

/**
 * vcm_rootfs_set_get_client:
 * @self: a #VcmRootfsSet
 *
 * Gets the client the set calls and listens through.
 *
 * Returns: (transfer none): the client of the set
 */
VcmClient *
vcm_rootfs_set_get_client (VcmRootfsSet *self)
{
  g_return_val_if_fail (VCM_IS_ROOTFS_SET (self), NULL);
  return self->client;
}

/**
 * vcm_rootfs_set_get_sandbox_id:
 * @self: a #VcmRootfsSet
 *
 * Gets the sandbox the set was made for.
 *
 * Returns: (nullable): the sandbox the set follows, or %NULL for every sandbox
 */
const char *
vcm_rootfs_set_get_sandbox_id (VcmRootfsSet *self)
{
  g_return_val_if_fail (VCM_IS_ROOTFS_SET (self), NULL);
  return self->sandbox_id;
}

/**
 * vcm_rootfs_set_get_generation:
 * @self: a #VcmRootfsSet
 *
 * Gets the generation of the service that the set reflects: every signal up to
 * it is applied.
 *
 * Returns: the service's generation the set holds every change up to
 */
guint64
vcm_rootfs_set_get_generation (VcmRootfsSet *self)
{
  g_return_val_if_fail (VCM_IS_ROOTFS_SET (self), 0);
  return self->generation;
}

/**
 * vcm_rootfs_set_get_synced:
 * @self: a #VcmRootfsSet
 *
 * Tells whether the set holds the running service's rootfs mounts (%FALSE
 * before the first listing, while the service is away and while it lists again
 * after a gap).
 *
 * Returns: whether the set is up to date with the running service
 */
gboolean
vcm_rootfs_set_get_synced (VcmRootfsSet *self)
{
  g_return_val_if_fail (VCM_IS_ROOTFS_SET (self), FALSE);
  return self->synced;
}

/**
 * vcm_rootfs_set_lookup:
 * @self: a #VcmRootfsSet
 * @sandbox_id: a sandbox ID
 * @container_id: a container ID
 *
 * Finds the rootfs of a container in the set.
 *
 * Returns: (transfer none) (nullable): the container's rootfs, or %NULL when
 *   the set does not hold it
 */
VcmRootfs *
vcm_rootfs_set_lookup (VcmRootfsSet *self, const char *sandbox_id, const char *container_id)
{
  guint pos;

  g_return_val_if_fail (VCM_IS_ROOTFS_SET (self), NULL);
  g_return_val_if_fail (sandbox_id != NULL && container_id != NULL, NULL);
  return find (self, sandbox_id, container_id, &pos) ? self->items->pdata[pos] : NULL;
}

/**
 * vcm_rootfs_set_refresh:
 * @self: a #VcmRootfsSet
 *
 * Lists the rootfs mounts again, as after a lost signal. The set finds a lost
 * signal by the gap it leaves in the generations of the next one; a caller
 * that cannot wait for a next change (a lost last signal) refreshes.
 */
void
vcm_rootfs_set_refresh (VcmRootfsSet *self)
{
  g_return_if_fail (VCM_IS_ROOTFS_SET (self));
  start_listing (self);
}
