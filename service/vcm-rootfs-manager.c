/* vcm-rootfs-manager: the rootfs domain: the mounter and the watch, and the
 * bookkeeping between them (what changed behind the service's back reported
 * before the service acts, its own changes noted after, Generation kept). */
#include "config.h"

#include "vcm-error.h"
#include "vcm-rootfs-manager.h"
#include "vcm-validate.h"

struct _VcmRootfsManager {
  GObject parent;
  VcmMounter *mounter;
  VcmWatch *watch;
  gulong changed_id;
  guint release_source; /* a hold of the watch taken by a table read, let go when idle */
};

G_DEFINE_FINAL_TYPE (VcmRootfsManager, vcm_rootfs_manager, G_TYPE_OBJECT)

enum {
  SIGNAL_CHANGED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

static void
vcm_rootfs_manager_dispose (GObject *object)
{
  VcmRootfsManager *self = VCM_ROOTFS_MANAGER (object);

  g_clear_handle_id (&self->release_source, g_source_remove);
  if (self->mounter != NULL)
    {
      /* a request prepared in a worker thread may hold the mounter longer */
      vcm_mounter_set_table_source (self->mounter, NULL, NULL);
      vcm_mounter_set_subtree_source (self->mounter, NULL, NULL);
      vcm_mounter_set_targets_source (self->mounter, NULL, NULL);
    }
  g_clear_signal_handler (&self->changed_id, self->watch);
  if (self->watch != NULL)
    vcm_watch_stop (self->watch); /* its work in threads may hold it a while */
  g_clear_object (&self->watch);
  g_clear_object (&self->mounter);
  G_OBJECT_CLASS (vcm_rootfs_manager_parent_class)->dispose (object);
}

static void
vcm_rootfs_manager_class_init (VcmRootfsManagerClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = vcm_rootfs_manager_dispose;

  /**
   * VcmRootfsManager::changed:
   * @change: (type gpointer): the VcmChange, valid during the emission
   *
   * A rootfs change, made by the service or not: every one, in order, never
   * in the middle of a call of the manager.
   */
  signals[SIGNAL_CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                          NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
}

static void
vcm_rootfs_manager_init (VcmRootfsManager *self)
{
}

static void
on_watch_changed (VcmWatch *watch, const VcmChange *change, gpointer user_data)
{
  g_signal_emit (user_data, signals[SIGNAL_CHANGED], 0, change);
}

VcmRootfsManager *
vcm_rootfs_manager_new (const char *shared_dir, VcmMounterFlags flags, GError **error)
{
  g_autoptr (VcmRootfsManager) self = g_object_new (VCM_TYPE_ROOTFS_MANAGER, NULL);
  g_autofree char *normalized = NULL;

  if (!vcm_validate_absolute_path ("shared-dir", shared_dir, error))
    return NULL;
  normalized = vcm_path_normalize (shared_dir);
  /* the mounter first: it makes the shared dir the watch reads beneath */
  self->mounter = vcm_mounter_new (normalized, flags, error);
  if (self->mounter == NULL)
    return NULL;
  self->watch = vcm_watch_new (normalized, error);
  if (self->watch == NULL)
    return NULL;
  self->changed_id = g_signal_connect (self->watch, "changed", G_CALLBACK (on_watch_changed), self);
  /* only while the manager holds the watch: see run() */
  vcm_mounter_set_table_source (self->mounter, vcm_watch_get_table, self->watch);
  vcm_mounter_set_subtree_source (self->mounter, vcm_watch_get_subtree, self->watch);
  vcm_mounter_set_targets_source (self->mounter, vcm_watch_get_targets, self->watch);
  return g_steal_pointer (&self);
}

const char *
vcm_rootfs_manager_get_shared_dir (VcmRootfsManager *self)
{
  return vcm_mounter_get_shared_dir (self->mounter);
}

guint64
vcm_rootfs_manager_get_generation (VcmRootfsManager *self)
{
  return vcm_watch_get_generation (self->watch);
}

gboolean
vcm_rootfs_manager_uses_notifications (VcmRootfsManager *self)
{
  return vcm_watch_uses_notifications (self->watch);
}

VcmMounter *
vcm_rootfs_manager_get_mounter (VcmRootfsManager *self)
{
  return self->mounter;
}

VcmWatch *
vcm_rootfs_manager_get_watch (VcmRootfsManager *self)
{
  return self->watch;
}

static gboolean
on_release (gpointer user_data)
{
  VcmRootfsManager *self = user_data;

  self->release_source = 0;
  vcm_watch_release (self->watch);
  return G_SOURCE_REMOVE;
}

VcmMountTable *
vcm_rootfs_manager_get_table (gpointer manager, gboolean force_refresh)
{
  VcmRootfsManager *self = manager;

  /* The caller is in the middle of its work: what the read brings up to
   * date is told once the main loop is back, not now. */
  if (self->release_source == 0)
    {
      vcm_watch_hold (self->watch);
      self->release_source = g_idle_add (on_release, self);
    }
  return vcm_watch_get_table (self->watch, force_refresh);
}

/* Every call of the manager holds the watch: changes are told once the call
 * has done its work. Those a table read of the queries left are told first. */
static void
hold (VcmRootfsManager *self)
{
  if (self->release_source != 0)
    {
      g_clear_handle_id (&self->release_source, g_source_remove);
      vcm_watch_release (self->watch);
    }
  vcm_watch_hold (self->watch);
}

/* Reports what changed at one rootfs behind the service's back before the
 * service acts on it. Where the kernel cannot be asked cheaply, the whole
 * table is brought up to date instead. */
static void
sync_rootfs (VcmRootfsManager *self, const char *sandbox_id, const char *container_id)
{
  g_autoptr (VcmRootfs) now = NULL;
  g_autoptr (GHashTable) submounts = NULL;

  if (vcm_watch_sync_live (self->watch, sandbox_id, container_id))
    return; /* mount notifications: the watch knows, without listing submounts */
  if (vcm_mounter_probe_rootfs (self->mounter, sandbox_id, container_id, &now, &submounts))
    vcm_watch_sync_rootfs (self->watch, sandbox_id, container_id, now, submounts);
  else if (vcm_validate_id ("sandbox_id", sandbox_id, NULL) &&
           vcm_validate_id ("container_id", container_id, NULL))
    vcm_mount_table_unref (vcm_watch_get_table (self->watch, FALSE));
}

VcmRootfs *
vcm_rootfs_manager_mount_rootfs (VcmRootfsManager *self, const VcmMountRequest *req, GError **error)
{
  g_autoptr (VcmRootfs) mounted = NULL;

  hold (self);
  sync_rootfs (self, req->sandbox_id, req->container_id);
  mounted = vcm_mounter_run_mount_rootfs (self->mounter, req, error);
  if (mounted != NULL)
    vcm_watch_note_mounted (self->watch, mounted);
  if (mounted != NULL && req->recursive)
    vcm_watch_note_submounts_unknown (self->watch);
  vcm_watch_release (self->watch);
  return g_steal_pointer (&mounted);
}

/* Held by the caller. */
static GStrv
unmount_rootfs (VcmRootfsManager *self, const VcmMountRequest *req, GError **error)
{
  g_auto (GStrv) detached = NULL;

  sync_rootfs (self, req->sandbox_id, req->container_id);
  detached = vcm_mounter_run_unmount_rootfs (self->mounter, req, error);
  if (detached != NULL)
    vcm_watch_note_unmounted (self->watch, req->sandbox_id, req->container_id,
                              (const char *const *) detached);
  return g_steal_pointer (&detached);
}

GStrv
vcm_rootfs_manager_unmount_rootfs (VcmRootfsManager *self, const VcmMountRequest *req, GError **error)
{
  GStrv detached;

  hold (self);
  detached = unmount_rootfs (self, req, error);
  vcm_watch_release (self->watch);
  return detached;
}

char *
vcm_rootfs_manager_bind (VcmRootfsManager *self, const VcmMountRequest *req, GError **error)
{
  char *mount_point;

  hold (self);
  mount_point = vcm_mounter_run_bind (self->mounter, req, error);
  vcm_watch_release (self->watch);
  return mount_point;
}

GStrv
vcm_rootfs_manager_unmount (VcmRootfsManager *self, const VcmMountRequest *req, GError **error)
{
  GStrv detached;

  hold (self);
  detached = vcm_mounter_run_unmount (self->mounter, req, error);
  vcm_watch_release (self->watch);
  return detached;
}

void
vcm_unmounted_free (VcmUnmounted *unmounted)
{
  if (unmounted == NULL)
    return;
  g_free (unmounted->container_id);
  g_strfreev (unmounted->detached);
  g_free (unmounted);
}

static gboolean
unmount_sandbox (VcmRootfsManager *self,
                 const char *sandbox_id,
                 const VcmCredentials *creds,
                 GPtrArray *done,
                 GError **error)
{
  g_autoptr (GPtrArray) rootfs = vcm_watch_list_rootfs (self->watch, sandbox_id);

  for (guint i = 0; i < rootfs->len; i++)
    {
      const VcmRootfs *r = rootfs->pdata[i];
      g_autoptr (GError) local = NULL;
      g_autoptr (VcmMountRequest) req = vcm_mounter_prepare_unmount_rootfs (
        self->mounter, r->sandbox_id, r->container_id, creds, &local);
      g_auto (GStrv) detached = NULL;
      VcmUnmounted *u;

      if (req != NULL)
        detached = unmount_rootfs (self, req, &local);
      if (detached == NULL && g_error_matches (local, VCM_ERROR, VCM_ERROR_NOT_MOUNTED))
        continue; /* gone since the list was made: already as asked */
      if (detached == NULL)
        {
          g_autoptr (GString) before = g_string_new (NULL);

          for (guint j = 0; j < done->len; j++)
            g_string_append_printf (before, "%s%s", j ? ", " : "",
                                    ((VcmUnmounted *) done->pdata[j])->container_id);
          g_prefix_error (&local, "container %s (unmounted before it: %s): ", r->container_id,
                          before->len ? before->str : "none");
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      u = g_new0 (VcmUnmounted, 1);
      u->container_id = g_strdup (r->container_id);
      u->detached = g_steal_pointer (&detached);
      g_ptr_array_add (done, u);
    }
  return TRUE;
}

gboolean
vcm_rootfs_manager_unmount_sandbox (VcmRootfsManager *self,
                                    const char *sandbox_id,
                                    const VcmCredentials *creds,
                                    GPtrArray *done,
                                    GError **error)
{
  gboolean ok;

  hold (self);
  ok = unmount_sandbox (self, sandbox_id, creds, done, error);
  vcm_watch_release (self->watch);
  return ok;
}

GPtrArray *
vcm_rootfs_manager_list_rootfs (VcmRootfsManager *self, const char *sandbox_id, guint64 *out_generation)
{
  GPtrArray *rootfs;

  hold (self);
  rootfs = vcm_watch_list_rootfs (self->watch, sandbox_id); /* brings Generation up to date */
  vcm_watch_release (self->watch);
  if (out_generation != NULL)
    *out_generation = vcm_watch_get_generation (self->watch);
  return rootfs;
}
