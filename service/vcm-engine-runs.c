/* vcm-engine-runs: how each method's authorized request is done and
 * answered (its out arguments), and the identities of the mounts the engine
 * makes: recorded, kept, recovered after a restart, and told. */
#include "config.h"

#include <gio/gunixfdlist.h>

#include "vcm-engine-private.h"
#include "vcm-fd.h"
#include "vcm-holdings.h"
#include "vcm-identity.h"
#include "vcm-memory.h"
#include "vcm-validate.h"

/* ---- identity of the mounts made ------------------------------------------ */

static const char *
relpath_of (Engine *self, const char *mount_point)
{
  return vcm_path_relative_to (mount_point, vcm_rootfs_manager_get_shared_dir (self->rootfs));
}

/* @info (the identity so far: source, options, caller) completed with where
 * and which mount it is (@old_id, @unique_id: 0 when not known) and kept.
 * Returns the mount_info (the table's). */
static GVariant *
mount_known (Engine *self,
             const VcmMountRequest *req,
             const char *mount_point,
             guint64 old_id,
             guint64 unique_id,
             GVariantDict *info)
{
  Known *known;
  guint held;

  g_variant_dict_insert (info, "kind", "s", req->op == VCM_MOUNT_OP_MOUNT_ROOTFS ? "rootfs" : "bind");
  g_variant_dict_insert (info, "mount-point", "s", mount_point);
  g_variant_dict_insert (info, "sandbox-id", "s", req->sandbox_id != NULL ? req->sandbox_id : "");
  g_variant_dict_insert (info, "container-id", "s", req->container_id != NULL ? req->container_id : "");
  /* the IDs were read where the mount was made, off the main loop */
  if (old_id != 0)
    {
      g_variant_dict_insert (info, "mount-id", "t", unique_id != 0 ? unique_id : old_id);
      g_variant_dict_insert (info, "mount-id-unique", "b", unique_id != 0);
    }
  held = vcm_holdings_lookup (vcm_mounter_get_holdings (vcm_rootfs_manager_get_mounter (self->rootfs)),
                              mount_point);
  if (held > 0) /* counted against the caller's bound; read back after a restart */
    g_variant_dict_insert (info, "mounts", "u", held);
  known = g_new0 (Known, 1);
  known->old_id = old_id;
  known->info = g_variant_ref_sink (g_variant_dict_end (info));
  g_hash_table_replace (self->identities, g_strdup (mount_point), known);
  return known->info;
}

/* The kept identity of the mount at @mount_point recorded on its mount
 * point and told in "mount-added": after the answer, which the caller need
 * not wait for either. */
static void
mount_announce (Engine *self, const char *mount_point)
{
  VcmMounter *mounter = vcm_rootfs_manager_get_mounter (self->rootfs);
  const char *rel = relpath_of (self, mount_point);
  Known *known = g_hash_table_lookup (self->identities, mount_point);

  g_return_if_fail (known != NULL);
  if (rel != NULL && known->old_id != 0)
    vcm_identity_record (vcm_mounter_get_shared_fd (mounter), rel, known->old_id, known->info);
  engine_emit_mount_added (self, known->info);
}

/* The identity of a path method's mount: its source (req->source_fd), the
 * options it has. */
static GVariantDict *
path_identity (const VcmMountRequest *req, uid_t caller_uid)
{
  GVariantDict opts;
  GVariantDict *info;

  g_variant_dict_init (&opts, NULL);
  g_variant_dict_insert (&opts, "read-only", "b", req->read_only);
  g_variant_dict_insert (&opts, "recursive", "b", FALSE);
  g_variant_dict_insert (&opts, "propagation", "s", "private");
  info =
    vcm_identity_new ("bind", NULL, NULL, NULL, caller_uid, req->source, g_variant_dict_end (&opts));
  vcm_identity_add_source_fd (info, req->source_fd);
  return info;
}

static VcmSysMountIds
detached_ids (GArray *ids, guint i)
{
  VcmSysMountIds none = { 0, 0 };

  return ids != NULL && i < ids->len ? g_array_index (ids, VcmSysMountIds, i) : none;
}

/* What is known of the mount at @mount_point that an unmount detached (the
 * first of @ids, its IDs): the identity kept since it was made, if it is
 * of that mount (not of one unmounted behind the service's back, whose
 * 32-bit ID the detached one got), else @recorded (the record on its mount
 * point, read in the run before it went: req->identity). A new reference,
 * or NULL. */
static GVariant *
identity_of_unmounted (Engine *self, const char *mount_point, GVariant *recorded, GArray *ids)
{
  Known *known = g_hash_table_lookup (self->identities, mount_point);
  VcmSysMountIds gone = detached_ids (ids, 0), kept;

  if (known != NULL)
    {
      vcm_identity_ids (known->info, known->old_id, &kept);
      return vcm_sys_mount_ids_match (&kept, &gone) ? g_variant_ref (known->info) : NULL;
    }
  return recorded != NULL ? g_variant_ref (recorded) : NULL;
}

void
engine_mount_removed (
  Engine *self, const char *mount_point, GVariant *info, GStrv detached, GArray *ids, guint64 mark)
{
  const char *rel = relpath_of (self, mount_point);
  VcmHoldings *holdings = vcm_mounter_get_holdings (vcm_rootfs_manager_get_mounter (self->rootfs));
  VcmSysMountIds gone = detached_ids (ids, 0), kept; /* detached[0] is @mount_point */
  Known *known = g_hash_table_lookup (self->identities, mount_point);
  gboolean replaced;
  GVariantDict dict;

  /* what the caller held there is given back, also what came along; by
   * the IDs of the mounts that went (0: by path), so that a mount made at
   * the same path meanwhile (a BindMount racing this Unmount) keeps its
   * count, its kept identity and its record; a count taken after the
   * unmount began is never the one of what it detached (where the kernel
   * has no unique IDs, the new mount may well have the gone one's) */
  vcm_holdings_drop_taken_by (holdings, mount_point, gone.old_id, gone.unique_id, mark);
  for (guint i = 1; detached != NULL && detached[i] != NULL; i++)
    {
      VcmSysMountIds sub = detached_ids (ids, i);

      vcm_holdings_drop_taken_by (holdings, detached[i], sub.old_id, sub.unique_id, mark);
    }
  g_variant_dict_init (&dict, info);
  if (info == NULL)
    g_variant_dict_insert (&dict, "mount-point", "s", mount_point);
  /* a caller's mount made there since the unmount began (counted after
   * its mark) keeps its record and its kept identity whatever its IDs:
   * after a restart the record is what counts its mounts again */
  replaced = vcm_holdings_counted_since (holdings, mount_point, mark);
  if (rel != NULL && !replaced)
    vcm_identity_forget (vcm_mounter_get_shared_fd (vcm_rootfs_manager_get_mounter (self->rootfs)), rel,
                         &gone);
  if (known != NULL)
    vcm_identity_ids (known->info, known->old_id, &kept);
  if (known != NULL && !replaced && vcm_sys_mount_ids_match (&kept, &gone))
    g_hash_table_remove (self->identities, mount_point);
  engine_emit_mount_removed (self, g_variant_dict_end (&dict), detached);
}

/* The "options" of @info with what the kernel says now of @e. */
static GVariant *
options_with_kernel_facts (GVariant *info, const VcmMountEntry *e)
{
  g_autoptr (GVariant) recorded =
    info != NULL ? g_variant_lookup_value (info, "options", G_VARIANT_TYPE_VARDICT) : NULL;
  g_auto (GStrv) vfs = g_strsplit (e->vfs_options != NULL ? e->vfs_options : "", ",", -1);
  GVariantDict dict;

  g_variant_dict_init (&dict, recorded);
  g_variant_dict_insert (&dict, "read-only", "b", e->read_only);
  g_variant_dict_insert (&dict, "nosuid", "b", g_strv_contains ((const char *const *) vfs, "nosuid"));
  g_variant_dict_insert (&dict, "nodev", "b", g_strv_contains ((const char *const *) vfs, "nodev"));
  g_variant_dict_insert (&dict, "noexec", "b", g_strv_contains ((const char *const *) vfs, "noexec"));
  g_variant_dict_insert (&dict, "propagation", "s", e->propagation);
  g_variant_dict_insert (&dict, "idmapped", "b",
                         g_strv_contains ((const char *const *) vfs, "idmapped"));
  return g_variant_dict_end (&dict);
}

/* ---- methods -------------------------------------------------------------- */

static void
start_run_request (Op *call)
{
  vcm_rootfs_manager_run_async (call->self->rootfs, call->prep->req, call->self->cancellable,
                                call->run_done, call);
}

static gboolean
run_request (Engine *self, Op *call, GAsyncReadyCallback done)
{
  call->run_done = done;
  op_start_running (call, start_run_request);
  return TRUE;
}

/* What a mount's run gave: FALSE (the call answered) on an error. */
typedef struct {
  VcmRootfsRecord *mounted;
  char *mount_point;
  GStrv detached;
  GArray *detached_ids;
  guint64 old_id, unique_id;
} Ran;

static void
ran_clear (Ran *ran)
{
  g_clear_pointer (&ran->mounted, vcm_rootfs_record_free);
  g_clear_pointer (&ran->mount_point, g_free);
  g_clear_pointer (&ran->detached, g_strfreev);
  g_clear_pointer (&ran->detached_ids, g_array_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Ran, ran_clear)

static gboolean
ran (Op *call, GObject *source, GAsyncResult *result, Ran *out)
{
  g_autoptr (GError) error = NULL;

  if (vcm_rootfs_manager_run_finish (VCM_ROOTFS_MANAGER (source), result, &out->mounted,
                                     &out->mount_point, &out->detached, &out->detached_ids, &out->old_id,
                                     &out->unique_id, &error))
    return TRUE;
  op_return_error (call, error);
  return FALSE;
}

/* A mount method's run landed: the mount's identity (a path method's from
 * its source, an fd method's as prepared) recorded and told, and the call
 * answered with the mount point (an fd method's with the identity too). */
static void
on_mounted (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Op *call = user_data;
  Engine *self = call->self;
  const VcmMountRequest *req = call->prep->req;
  gboolean from_fd = call->prep->info != NULL;
  g_auto (Ran) r = { 0 };

  if (!op_done_running (call))
    return;
  if (ran (call, source, result, &r))
    {
      const char *mount_point = r.mounted != NULL ? r.mounted->mount_point : r.mount_point;
      g_autoptr (GVariantDict) path_info = from_fd ? NULL : path_identity (req, call->caller->uid);
      GVariant *info;

      vcm_log_op (G_LOG_LEVEL_MESSAGE, MSGID_MOUNTED, call->caller, "%s %s%s at %s%s",
                  req->op == VCM_MOUNT_OP_MOUNT_ROOTFS ? "Mounted rootfs" : "Bind-mounted", req->source,
                  from_fd ? " (from a file descriptor)" : "", mount_point,
                  req->read_only ? " read-only" : "");
      info = mount_known (self, req, mount_point, r.old_id, r.unique_id,
                          from_fd ? call->prep->info : path_info);
      op_return (call,
                 from_fd ? g_variant_new ("(s@a{sv})", mount_point, info)
                         : g_variant_new ("(s)", mount_point));
      mount_announce (self, mount_point);
    }
  g_clear_object (&call->task);
}

gboolean
engine_run_mount_rootfs (Engine *self, Op *call, GVariant *params)
{
  return run_request (self, call, on_mounted);
}

static void
log_unmounted_rootfs (VcmCaller *caller,
                      const char *sandbox_id,
                      const char *container_id,
                      GStrv detached)
{
  vcm_log_op (G_LOG_LEVEL_MESSAGE, MSGID_UNMOUNTED, caller,
              "Unmounted rootfs %s/%s at %s (%u mounts detached)", sandbox_id, container_id, detached[0],
              g_strv_length (detached));
}

static void
on_unmounted_rootfs (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Op *call = user_data;
  Engine *self = call->self;
  const VcmMountRequest *req = call->prep->req;
  g_auto (Ran) r = { 0 };

  if (!op_done_running (call))
    return;
  if (ran (call, source, result, &r))
    {
      g_autoptr (GVariant) info =
        identity_of_unmounted (self, req->mount_point, req->identity, r.detached_ids);

      log_unmounted_rootfs (call->caller, req->sandbox_id, req->container_id, r.detached);
      engine_mount_removed (self, req->mount_point, info, r.detached, r.detached_ids,
                            call->holdings_mark);
      op_return (call, g_variant_new ("(^as)", (const char *const *) r.detached));
    }
  g_clear_object (&call->task);
}

/* An unmount of a mount not seen made since the service started has its
 * recorded identity read in the run, before the mount goes (a walk to its
 * mount point: in the worker thread, never on the main loop). */
static gboolean
run_unmount_request (Engine *self, Op *call, GAsyncReadyCallback done)
{
  VcmMountRequest *req = call->prep->req;

  req->read_identity = !g_hash_table_contains (self->identities, req->mount_point);
  return run_request (self, call, done);
}

gboolean
engine_run_unmount_rootfs (Engine *self, Op *call, GVariant *params)
{
  return run_unmount_request (self, call, on_unmounted_rootfs);
}

static void
on_unmounted_sandbox (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Op *call = user_data;
  Engine *self = call->self;
  const char *sandbox_id;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) done = g_ptr_array_new_with_free_func ((GDestroyNotify) vcm_unmounted_free);
  g_autoptr (GStrvBuilder) ids = g_strv_builder_new ();
  g_auto (GStrv) result_ids = NULL;
  gboolean ok;

  if (!op_done_running (call))
    return;
  g_variant_get (call->params, "(&s)", &sandbox_id);
  ok = vcm_rootfs_manager_unmount_sandbox_finish (VCM_ROOTFS_MANAGER (source), result, done, &error);
  for (guint i = 0; i < done->len; i++)
    {
      const VcmUnmounted *u = done->pdata[i];
      g_autoptr (GVariant) info =
        identity_of_unmounted (self, u->detached[0], u->identity, u->detached_ids);

      log_unmounted_rootfs (call->caller, sandbox_id, u->container_id, u->detached);
      engine_mount_removed (self, u->detached[0], info, u->detached, u->detached_ids,
                            call->holdings_mark);
      g_strv_builder_add (ids, u->container_id);
    }
  if (!ok)
    op_return_error (call, error);
  else
    {
      result_ids = g_strv_builder_end (ids);
      op_return (call, g_variant_new ("(^as)", (const char *const *) result_ids));
    }
  if (done->len >= VCM_MEMORY_LARGE_WORK)
    vcm_memory_trim_soon (); /* a signal and a log line per rootfs: megabytes freed */
  g_clear_object (&call->task);
}

static void
start_unmount_sandbox (Op *call)
{
  const char *sandbox_id;

  g_variant_get (call->params, "(&s)", &sandbox_id);
  vcm_rootfs_manager_unmount_sandbox_async (call->self->rootfs, sandbox_id, call->caller->creds,
                                            call->self->cancellable, on_unmounted_sandbox, call);
}

gboolean
engine_run_unmount_sandbox (Engine *self, Op *call, GVariant *params)
{
  op_start_running (call, start_unmount_sandbox);
  return TRUE;
}

gboolean
engine_run_list_rootfs (Engine *self, Op *call, GVariant *params)
{
  const char *sandbox_id;
  g_autoptr (GPtrArray) rootfs = NULL;
  guint64 generation = 0;
  GVariantBuilder builder;

  g_variant_get (params, "(&s)", &sandbox_id);
  rootfs = vcm_rootfs_manager_list_rootfs (self->rootfs, sandbox_id, &generation);
  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(sssb)"));
  for (guint i = 0; i < rootfs->len; i++)
    {
      const VcmRootfsRecord *r = rootfs->pdata[i];
      g_variant_builder_add (&builder, "(sssb)", r->sandbox_id, r->container_id, r->mount_point,
                             r->read_only);
    }
  op_return (call, g_variant_new ("(t@a(sssb))", generation, g_variant_builder_end (&builder)));
  if (rootfs->len >= VCM_MEMORY_LARGE_WORK)
    vcm_memory_trim_soon (); /* the reply was built and sent: megabytes freed */
  return FALSE;
}

gboolean
engine_run_bind_mount (Engine *self, Op *call, GVariant *params)
{
  return run_request (self, call, on_mounted);
}

static void
on_unmounted (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Op *call = user_data;
  Engine *self = call->self;
  g_auto (Ran) r = { 0 };

  if (!op_done_running (call))
    return;
  if (ran (call, source, result, &r))
    {
      const VcmMountRequest *req = call->prep->req;
      g_autoptr (GVariant) info =
        identity_of_unmounted (self, req->mount_point, req->identity, r.detached_ids);

      engine_mount_removed (self, req->mount_point, info, r.detached, r.detached_ids,
                            call->holdings_mark);
      vcm_log_op (G_LOG_LEVEL_MESSAGE, MSGID_UNMOUNTED, call->caller,
                  "Unmounted %s (%u mounts detached)", r.detached[0], g_strv_length (r.detached));
      op_return (call, g_variant_new ("(^as)", (const char *const *) r.detached));
    }
  g_clear_object (&call->task);
}

gboolean
engine_run_unmount (Engine *self, Op *call, GVariant *params)
{
  return run_unmount_request (self, call, on_unmounted);
}

gboolean
engine_run_get_device_for_path (Engine *self, Op *call, GVariant *params)
{
  guint major = 0, minor = 0;
  g_autofree char *mount_point = NULL;
  g_autoptr (GError) error = NULL;

  if (!vcm_query_device_for_stat (self->query, call->prep->path, &call->prep->stat, &major, &minor,
                                  &mount_point, &error))
    op_return_error (call, error);
  else
    op_return (call, g_variant_new ("(uus)", major, minor, mount_point));
  return FALSE;
}

gboolean
engine_run_get_device_path_and_fs_type (Engine *self, Op *call, GVariant *params)
{
  g_autofree char *device = NULL;
  g_autofree char *fs_type = NULL;
  g_autoptr (GError) error = NULL;

  if (!vcm_query_device_path_and_fs_type_for_stat (self->query, call->prep->path, &call->prep->stat,
                                                   &device, &fs_type, &error))
    op_return_error (call, error);
  else
    op_return (call, g_variant_new ("(ss)", device, fs_type));
  return FALSE;
}

gboolean
engine_run_is_device_mapper (Engine *self, Op *call, GVariant *params)
{
  guint major, minor;

  g_variant_get (params, "(uu)", &major, &minor);
  op_return (call, g_variant_new ("(b)", vcm_query_is_device_mapper (self->query, major, minor)));
  return FALSE;
}

gboolean
engine_run_is_system_mount (Engine *self, Op *call, GVariant *params)
{
  gboolean result = FALSE;
  g_autoptr (GError) error = NULL;

  if (!vcm_query_is_system_mount (call->prep->path, &result, &error))
    op_return_error (call, error);
  else
    op_return (call, g_variant_new ("(b)", result));
  return FALSE;
}

gboolean
engine_run_is_host_device (Engine *self, Op *call, GVariant *params)
{
  op_return (
    call, g_variant_new ("(b)", vcm_query_host_device_for_stat (call->prep->path, &call->prep->stat)));
  return FALSE;
}

gboolean
engine_run_describe_path (Engine *self, Op *call, GVariant *params)
{
  g_autoptr (VcmPathFacts) info = NULL;
  GVariantDict dict;
  g_autoptr (GError) error = NULL;

  info = vcm_query_describe_stat (self->query, call->prep->path, &call->prep->stat, &error);
  if (info == NULL)
    {
      op_return_error (call, error);
      return FALSE;
    }
  g_variant_dict_init (&dict, NULL);
  g_variant_dict_insert (&dict, "major", "u", info->major);
  g_variant_dict_insert (&dict, "minor", "u", info->minor);
  g_variant_dict_insert (&dict, "mount-point", "s", info->mount_point);
  g_variant_dict_insert (&dict, "device", "s", info->device);
  g_variant_dict_insert (&dict, "fs-type", "s", info->fs_type);
  g_variant_dict_insert (&dict, "mount-id", "t", info->mount_id);
  g_variant_dict_insert (&dict, "read-only", "b", info->read_only);
  g_variant_dict_insert (&dict, "device-mapper", "b", info->device_mapper);
  g_variant_dict_insert (&dict, "system-mount", "b", info->system_mount);
  g_variant_dict_insert (&dict, "host-device", "b", info->host_device);
  g_variant_dict_insert (&dict, "propagation", "s", info->propagation);
  op_return (call, g_variant_new ("(@a{sv})", g_variant_dict_end (&dict)));
  return FALSE;
}

gboolean
engine_run_mount_rootfs_fd (Engine *self, Op *call, GVariant *params)
{
  return run_request (self, call, on_mounted);
}

gboolean
engine_run_bind_mount_fd (Engine *self, Op *call, GVariant *params)
{
  return run_request (self, call, on_mounted);
}

gboolean
engine_run_open_mount (Engine *self, Op *call, GVariant *params)
{
  g_autoptr (GUnixFDList) fds = g_unix_fd_list_new ();
  g_autoptr (GError) error = NULL;
  int index = g_unix_fd_list_append (fds, call->prep->mount_fd, &error);

  if (index < 0)
    {
      g_prefix_error (&error, "cannot pass the mount back: ");
      error->domain = VCM_ERROR;
      error->code = VCM_ERROR_FAILED;
      op_return_error (call, error);
      return FALSE;
    }
  {
    const char *source = "?";

    g_variant_dict_lookup (call->prep->info, "source", "&s", &source);
    vcm_log_op (G_LOG_LEVEL_MESSAGE, MSGID_MOUNTED, call->caller, "Handed over a detached mount of %s",
                source);
  }
  call->reply_fds = g_steal_pointer (&fds);
  op_return (call, g_variant_new ("(h@a{sv})", index, g_variant_dict_end (call->prep->info)));
  return FALSE;
}

/* The identity of a mount at a rootfs mount point that no record names:
 * the kernel's facts. NULL where @e is not at a rootfs mount point. */
static GVariant *
rootfs_from_kernel (Engine *self, const VcmMountEntry *e)
{
  g_auto (GStrv) parts = g_strsplit (relpath_of (self, e->target), "/", -1);
  g_autoptr (GVariantDict) dict = NULL;

  if (g_strv_length (parts) != 3 || !g_str_equal (parts[2], VCM_ROOTFS_DIR) ||
      !vcm_validate_id ("sandbox_id", parts[0], NULL) ||
      !vcm_validate_id ("container_id", parts[1], NULL))
    return NULL;
  dict = g_variant_dict_new (NULL);
  g_variant_dict_insert (dict, "kind", "s", "rootfs");
  g_variant_dict_insert (dict, "mount-point", "s", e->target);
  g_variant_dict_insert (dict, "sandbox-id", "s", parts[0]);
  g_variant_dict_insert (dict, "container-id", "s", parts[1]);
  g_variant_dict_insert (dict, "mount-id", "t", e->id);
  g_variant_dict_insert (dict, "mount-id-unique", "b", FALSE);
  return g_variant_ref_sink (g_variant_dict_end (dict));
}

/* The identities of the mounts beneath the shared dir in @table: kept
 * since they were made, else recovered from their records, else (a
 * rootfs) the kernel's facts. */
static GPtrArray *
identities_beneath (Engine *self, VcmMountTable *table)
{
  const char *shared_dir = vcm_rootfs_manager_get_shared_dir (self->rootfs);
  int shared_fd = vcm_mounter_get_shared_fd (vcm_rootfs_manager_get_mounter (self->rootfs));
  g_autoptr (GPtrArray) beneath = NULL;
  g_autoptr (GPtrArray) unknown = g_ptr_array_new (); /* of VcmMountEntry */
  g_autoptr (GPtrArray) rels = g_ptr_array_new ();
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (VcmSysMountIds));
  g_autoptr (GPtrArray) known_entries = g_ptr_array_new (); /* of VcmMountEntry */
  g_autoptr (GPtrArray) known_targets = g_ptr_array_new ();
  g_autoptr (GArray) known_live = g_array_new (FALSE, FALSE, sizeof (VcmSysMountIds));
  g_autoptr (GPtrArray) recovered = NULL;
  GPtrArray *found = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);

  beneath = table != NULL ? vcm_mount_table_get_beneath (table, shared_dir) : g_ptr_array_new ();
  for (guint i = 0; i < beneath->len; i++)
    {
      const VcmMountEntry *e = beneath->pdata[i];
      Known *known = g_hash_table_lookup (self->identities, e->target);
      VcmSysMountIds live = { e->id, 0 };

      if (known != NULL && known->old_id == e->id)
        {
          g_ptr_array_add (known_entries, (gpointer) e);
          g_ptr_array_add (known_targets, e->target);
          g_array_append_val (known_live, live);
        }
      else if (relpath_of (self, e->target) != NULL && *relpath_of (self, e->target) != '\0')
        {
          g_ptr_array_add (unknown, (gpointer) e);
          g_ptr_array_add (rels, (gpointer) relpath_of (self, e->target));
          g_array_append_val (ids, live);
        }
    }
  /* a kept identity names the mount there only if its unique ID is the
   * live mount's too: the 32-bit one goes to the next mount made once its
   * mount is gone (unmounted behind the service's back) */
  vcm_identity_live_ids (shared_fd, (const char *const *) known_targets->pdata,
                         (VcmSysMountIds *) known_live->data, known_live->len);
  for (guint i = 0; i < known_entries->len; i++)
    {
      const VcmMountEntry *e = known_entries->pdata[i];
      Known *known = g_hash_table_lookup (self->identities, e->target);
      VcmSysMountIds kept, live = g_array_index (known_live, VcmSysMountIds, i);

      vcm_identity_ids (known->info, known->old_id, &kept);
      if (vcm_identity_names (&kept, &live))
        g_ptr_array_add (found, g_variant_ref (known->info));
      else if (relpath_of (self, e->target) != NULL && *relpath_of (self, e->target) != '\0')
        {
          g_ptr_array_add (unknown, (gpointer) e);
          g_ptr_array_add (rels, (gpointer) relpath_of (self, e->target));
          g_array_append_val (ids, live);
        }
    }
  /* after a restart: from the records the service left on the mount points */
  recovered = vcm_identity_recover (shared_fd, shared_dir, (const char *const *) rels->pdata,
                                    (const VcmSysMountIds *) ids->data, rels->len);
  for (guint i = 0; i < unknown->len; i++)
    {
      const VcmMountEntry *e = unknown->pdata[i];
      GVariant *info = recovered->pdata[i];
      Known *known;

      if (info == NULL)
        {
          /* not recorded: a rootfs mount point's mount is listed from the kernel's facts */
          info = rootfs_from_kernel (self, e);
          if (info != NULL)
            g_ptr_array_add (found, info);
          continue;
        }
      known = g_new0 (Known, 1);
      known->old_id = e->id;
      known->info = g_variant_ref (info);
      g_hash_table_replace (self->identities, g_strdup (e->target), known);
      g_ptr_array_add (found, g_variant_ref (info));
    }
  return found;
}

gboolean
engine_run_list_mounts (Engine *self, Op *call, GVariant *params)
{
  g_autoptr (GVariant) filter = g_variant_get_child_value (params, 0);
  const char *want_sandbox = NULL, *want_kind = NULL;
  g_autoptr (VcmMountTable) table = vcm_rootfs_manager_get_table (self->rootfs, TRUE);
  g_autoptr (GPtrArray) found = identities_beneath (self, table);
  guint64 generation = vcm_rootfs_manager_get_generation (self->rootfs);
  GVariantBuilder builder;

  g_variant_lookup (filter, "sandbox-id", "&s", &want_sandbox);
  g_variant_lookup (filter, "kind", "&s", &want_kind);
  g_variant_builder_init (&builder, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < found->len; i++)
    {
      GVariant *info = found->pdata[i];
      const char *kind = NULL, *sandbox = NULL, *mount_point = NULL;
      const VcmMountEntry *e;
      GVariantDict dict;

      g_variant_lookup (info, "kind", "&s", &kind);
      g_variant_lookup (info, "sandbox-id", "&s", &sandbox);
      g_variant_lookup (info, "mount-point", "&s", &mount_point);
      if ((want_kind != NULL && *want_kind != '\0' && g_strcmp0 (kind, want_kind) != 0) ||
          (want_sandbox != NULL && *want_sandbox != '\0' && g_strcmp0 (sandbox, want_sandbox) != 0))
        continue;
      g_variant_dict_init (&dict, info);
      e =
        table != NULL && mount_point != NULL ? vcm_mount_table_lookup_target (table, mount_point) : NULL;
      if (e != NULL)
        g_variant_dict_insert_value (&dict, "options", options_with_kernel_facts (info, e));
      g_variant_builder_add_value (&builder, g_variant_dict_end (&dict));
    }
  op_return (call, g_variant_new ("(t@aa{sv})", generation, g_variant_builder_end (&builder)));
  return FALSE;
}
