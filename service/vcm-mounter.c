/* vcm-mounter: the mount operations (rootfs and general bind mounts, lazy
 * unmounts) confined beneath the shared dir, and the rootfs layout read back
 * from a mount table. Knows nothing of D-Bus.
 *
 * Every destination is resolved by fd beneath the shared dir (vcm-fdpath), a
 * mount is attached with the kernel's fd-based mount API so that it is
 * read-only and private before it becomes visible, and an unmount goes through
 * an fd pinning the very mount that was checked. The attach and detach steps
 * themselves are vcm-mounter-attach.c's. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <glib/gstdio.h>

#include "vcm-ascaller.h"
#include "vcm-error.h"
#include "vcm-fd.h"
#include "vcm-fdpath.h"
#include "vcm-layout.h"
#include "vcm-mount-policy.h"
#include "vcm-mounter-private.h"
#include "vcm-mounter.h"
#include "vcm-sys.h"
#include "vcm-validate.h"

G_DEFINE_FINAL_TYPE (VcmMounter, vcm_mounter, G_TYPE_OBJECT)

static void
vcm_mounter_finalize (GObject *object)
{
  VcmMounter *self = VCM_MOUNTER (object);

  vcm_clear_fd (&self->staging_fd);
  vcm_clear_fd (&self->shared_fd);
  g_mutex_clear (&self->staging_lock);
  vcm_holdings_free (self->holdings);
  g_free (self->shared_dir);
  g_free (self->shared_dir_alias);
  G_OBJECT_CLASS (vcm_mounter_parent_class)->finalize (object);
}

static void
vcm_mounter_class_init (VcmMounterClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = vcm_mounter_finalize;
}

static void
vcm_mounter_init (VcmMounter *self)
{
  self->shared_fd = -1;
  self->staging_fd = -1;
  self->source = vcm_mount_table_source_kernel;
  g_mutex_init (&self->staging_lock);
  self->holdings = vcm_holdings_new ();
}

VcmMounter *
vcm_mounter_new (const char *shared_dir, VcmMounterFlags flags, GError **error)
{
  g_autoptr (VcmMounter) self = g_object_new (VCM_TYPE_MOUNTER, NULL);

  if (!vcm_validate_absolute_path ("shared-dir", shared_dir, error))
    return NULL;
  self->shared_dir = vcm_path_normalize (shared_dir);
  if (g_str_equal (self->shared_dir, "/"))
    {
      g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT,
                   "shared-dir: '/' cannot be the shared dir");
      return NULL;
    }
  if (g_mkdir_with_parents (self->shared_dir, 0755) < 0)
    {
      vcm_error_set_errno (error, errno, "cannot create the shared dir", self->shared_dir);
      return NULL;
    }
  if (!vcm_mounter_open_shared_dir (self, error))
    return NULL;
  self->legacy_api = (flags & VCM_MOUNTER_FLAGS_LEGACY_API) != 0;
  if (self->legacy_api)
    g_message ("Using the classic mount(2) API (asked for)");
  return g_steal_pointer (&self);
}

void
vcm_mounter_set_table_source (VcmMounter *self, VcmMountTableSource source, gpointer source_data)
{
  self->source = source != NULL ? source : vcm_mount_table_source_kernel;
  self->source_data = source != NULL ? source_data : NULL;
}

void
vcm_mounter_set_subtree_source (VcmMounter *self, VcmSubtreeSource subtree, gpointer subtree_data)
{
  self->subtree = subtree;
  self->subtree_data = subtree != NULL ? subtree_data : NULL;
}

void
vcm_mounter_set_targets_source (VcmMounter *self, VcmTargetsSource targets, gpointer targets_data)
{
  self->targets = targets;
  self->targets_data = targets != NULL ? targets_data : NULL;
}

const char *
vcm_mounter_get_shared_dir (VcmMounter *self)
{
  return self->shared_dir;
}

gboolean
vcm_mounter_probe_rootfs (VcmMounter *self,
                          const char *sandbox_id,
                          const char *container_id,
                          VcmRootfsRecord **out_rootfs,
                          GHashTable **out_submounts)
{
  g_autofree char *rel = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (VcmRootfsRecord) rootfs = NULL;
  vcm_autofd int fd = -1;
  guint64 id = 0, unique = 0;
  VcmSysMount m;
  int errsv = 0;

  *out_rootfs = NULL;
  *out_submounts = NULL;
  if (!vcm_validate_id ("sandbox_id", sandbox_id, NULL) ||
      !vcm_validate_id ("container_id", container_id, NULL))
    return FALSE;
  rel = vcm_rootfs_relpath (sandbox_id, container_id);
  fd = vcm_fdpath_resolve (self->shared_fd, self->shared_dir, rel, VCM_RESOLVE_EXISTING, "rootfs", NULL,
                           NULL, NULL, &error);
  if (fd < 0)
    return g_error_matches (error, VCM_ERROR, VCM_ERROR_NOT_FOUND); /* nothing there */
  if (!vcm_mounter_fd_is_mount_root (fd, &id, NULL))
    return TRUE;
  if (vcm_sys_unique_mount_id (fd, &unique) < 0 || !vcm_sys_statmount (unique, &m, &errsv))
    return FALSE;
  rootfs = vcm_rootfs_record_new (sandbox_id, container_id, m.mnt_point, id, m.read_only);
  rootfs->unique_id = unique;
  vcm_sys_mount_clear (&m);
  *out_submounts = vcm_mounter_submount_ids_live (unique);
  if (*out_submounts == NULL)
    return FALSE;
  *out_rootfs = g_steal_pointer (&rootfs);
  return TRUE;
}

/* ---- requests: what a call will do, resolved before it is authorized ---- */

void
vcm_mount_request_free (VcmMountRequest *req)
{
  if (req == NULL)
    return;
  vcm_clear_fd (&req->source_fd);
  vcm_clear_fd (&req->tree_fd);
  g_clear_pointer (&req->subtree_hint, g_array_unref);
  g_strfreev (req->targets_hint);
  g_clear_pointer (&req->identity, g_variant_unref);
  g_free (req->sandbox_id);
  g_free (req->container_id);
  g_free (req->source);
  g_free (req->mount_point);
  g_free (req->relpath);
  vcm_credentials_free (req->creds);
  g_free (req);
}

static VcmMountRequest *
request_new (VcmMounter *self, VcmMountOp op, const char *relpath, const VcmCredentials *creds)
{
  VcmMountRequest *req = g_new0 (VcmMountRequest, 1);
  g_auto (GStrv) parts = g_strsplit (relpath, "/", 3);

  req->op = op;
  req->source_fd = -1;
  req->tree_fd = -1;
  req->propagation = MS_PRIVATE;
  req->relpath = g_strdup (relpath);
  req->mount_point =
    op == VCM_MOUNT_OP_OPEN ? g_strdup ("") : g_build_filename (self->shared_dir, relpath, NULL);
  req->creds = vcm_credentials_is_root (creds) ? NULL : vcm_credentials_copy (creds);
  /* the layout SHARED/SANDBOX/CONTAINER/...: where the mount point lies */
  if (parts[0] != NULL && vcm_validate_id ("sandbox_id", parts[0], NULL))
    {
      req->sandbox_id = g_strdup (parts[0]);
      if (parts[1] != NULL && vcm_validate_id ("container_id", parts[1], NULL))
        req->container_id = g_strdup (parts[1]);
    }
  return req;
}

/* Normalizes @path and returns it relative to the shared dir (never empty,
 * never the service's own staging dir, at most @max_depth components deep
 * when that is not 0). */
static char *
relative_beneath_shared (
  VcmMounter *self, const char *arg_name, const char *path, guint max_depth, GError **error)
{
  g_autofree char *norm = NULL;
  const char *rel;
  guint depth = 1;

  if (!vcm_validate_absolute_path (arg_name, path, error))
    return NULL;
  norm = vcm_path_normalize (path);
  rel = vcm_path_relative_to (norm, self->shared_dir);
  if (rel == NULL && self->shared_dir_alias != NULL) /* named by the configured path */
    rel = vcm_path_relative_to (norm, self->shared_dir_alias);
  if (rel == NULL || *rel == '\0')
    {
      g_autofree char *quoted = vcm_validate_quote (norm);
      g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT, "%s: '%s' %s the shared dir '%s'",
                   arg_name, quoted, rel == NULL ? "does not lie beneath" : "is", self->shared_dir);
      return NULL;
    }
  if (g_str_equal (rel, STAGING_DIR) || g_str_has_prefix (rel, STAGING_DIR "/"))
    {
      g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT, "%s: '%s/%s' is the service's own",
                   arg_name, self->shared_dir, STAGING_DIR);
      return NULL;
    }
  for (const char *p = rel; max_depth > 0 && (p = strchr (p, '/')) != NULL; p++)
    depth++;
  if (max_depth > 0 && depth > max_depth)
    {
      g_autofree char *quoted = vcm_validate_quote (norm);
      g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT,
                   "%s: '%s' lies %u components deep beneath the shared dir '%s'; at most %u are "
                   "allowed",
                   arg_name, quoted, depth, self->shared_dir, max_depth);
      return NULL;
    }
  return g_strdup (rel);
}

/* The request for the rootfs of @sandbox_id/@container_id. */
static VcmMountRequest *
request_for_rootfs (VcmMounter *self,
                    VcmMountOp op,
                    const char *sandbox_id,
                    const char *container_id,
                    const VcmCredentials *creds,
                    GError **error)
{
  g_autofree char *rel = NULL;

  if (!vcm_validate_id ("sandbox_id", sandbox_id, error) ||
      !vcm_validate_id ("container_id", container_id, error))
    return NULL;
  rel = vcm_rootfs_relpath (sandbox_id, container_id);
  return request_new (self, op, rel, creds);
}

/* The request for a general bind at @path (the destination) or unmount of
 * @path (the mount point): beneath the shared dir, where the layout lets it
 * act. */
static VcmMountRequest *
request_for_general (
  VcmMounter *self, VcmMountOp op, const char *path, const VcmCredentials *creds, GError **error)
{
  gboolean unmount = op == VCM_MOUNT_OP_UNMOUNT;
  const char *arg_name = unmount ? "mount_point" : "destination";
  g_autofree char *rel =
    relative_beneath_shared (self, arg_name, path, unmount ? 0 : VCM_MAX_DESTINATION_DEPTH, error);
  g_autoptr (VcmMountRequest) req = NULL;

  if (rel == NULL)
    return NULL;
  req = request_new (self, op, rel, creds);
  if (!vcm_layout_check_general (rel, req->mount_point, req->creds == NULL, unmount, arg_name,
                                 &req->manage_rootfs, error))
    return NULL;
  return g_steal_pointer (&req);
}

/* The source of a mount, opened as the caller (who must be able to read
 * it; a rootfs must be a directory), and what the caller's mount of it may
 * be. */
static gboolean
request_open_source (
  VcmMountRequest *req, const char *arg_name, const char *path, gboolean read_only, GError **error)
{
  if (!vcm_validate_absolute_path (arg_name, path, error))
    return FALSE;
  req->read_only = read_only;
  req->source_fd =
    vcm_open_source_as (arg_name, path, req->creds, &req->source, &req->source_is_dir, error);
  if (req->source_fd < 0)
    return FALSE;
  vcm_mount_policy_defaults (req);
  if (req->op == VCM_MOUNT_OP_MOUNT_ROOTFS && !req->source_is_dir)
    {
      g_autofree char *quoted = vcm_validate_quote (path);
      g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT, "%s: '%s' is not a directory", arg_name,
                   quoted);
      return FALSE;
    }
  return vcm_mount_policy_check (req, error);
}

VcmMountRequest *
vcm_mounter_prepare_mount_rootfs (VcmMounter *self,
                                  const char *sandbox_id,
                                  const char *container_id,
                                  const char *rootfs,
                                  gboolean read_only,
                                  const VcmCredentials *creds,
                                  GError **error)
{
  g_autoptr (VcmMountRequest) req =
    request_for_rootfs (self, VCM_MOUNT_OP_MOUNT_ROOTFS, sandbox_id, container_id, creds, error);

  if (req == NULL || !request_open_source (req, "rootfs", rootfs, read_only, error))
    return NULL;
  return g_steal_pointer (&req);
}

VcmMountRequest *
vcm_mounter_prepare_unmount_rootfs (VcmMounter *self,
                                    const char *sandbox_id,
                                    const char *container_id,
                                    const VcmCredentials *creds,
                                    GError **error)
{
  return request_for_rootfs (self, VCM_MOUNT_OP_UNMOUNT_ROOTFS, sandbox_id, container_id, creds, error);
}

VcmMountRequest *
vcm_mounter_prepare_bind (VcmMounter *self,
                          const char *source,
                          const char *destination,
                          gboolean read_only,
                          const VcmCredentials *creds,
                          GError **error)
{
  g_autoptr (VcmMountRequest) req = NULL;

  if (!vcm_validate_absolute_path ("source", source, error))
    return NULL;
  req = request_for_general (self, VCM_MOUNT_OP_BIND, destination, creds, error);
  if (req == NULL || !request_open_source (req, "source", source, read_only, error))
    return NULL;
  return g_steal_pointer (&req);
}

VcmMountRequest *
vcm_mounter_prepare_attach_tree (VcmMounter *self,
                                 const char *sandbox_id,
                                 const char *container_id,
                                 const char *destination,
                                 int tree_fd,
                                 const char *source,
                                 gboolean source_is_dir,
                                 gboolean read_only,
                                 unsigned long propagation,
                                 const VcmCredentials *creds,
                                 GError **error)
{
  vcm_autofd int tree = tree_fd;
  VcmMountRequest *req;

  if (sandbox_id != NULL)
    req = request_for_rootfs (self, VCM_MOUNT_OP_MOUNT_ROOTFS, sandbox_id, container_id, creds, error);
  else
    req = request_for_general (self, VCM_MOUNT_OP_BIND, destination, creds, error);
  if (req == NULL)
    return NULL;
  req->tree_fd = g_steal_fd (&tree);
  req->source = g_strdup (source);
  req->source_is_dir = source_is_dir;
  req->read_only = read_only;
  req->propagation = propagation;
  return req;
}

VcmMountRequest *
vcm_mounter_prepare_open (VcmMounter *self,
                          int source_fd,
                          const char *source,
                          gboolean source_is_dir,
                          gboolean read_only,
                          const VcmCredentials *creds)
{
  VcmMountRequest *req = request_new (self, VCM_MOUNT_OP_OPEN, "", creds);

  req->source_fd = source_fd;
  req->source = g_strdup (source);
  req->source_is_dir = source_is_dir;
  req->read_only = read_only;
  return req;
}

gboolean
vcm_mounter_mount_ids_at (VcmMounter *self,
                          const char *relpath,
                          guint64 *out_old_id,
                          guint64 *out_unique_id)
{
  vcm_autofd int fd = vcm_fdpath_resolve (self->shared_fd, self->shared_dir, relpath,
                                          VCM_RESOLVE_EXISTING, "mount_point", NULL, NULL, NULL, NULL);

  if (fd < 0 || vcm_sys_stat_mount (fd, "", AT_EMPTY_PATH, out_old_id, NULL, NULL, NULL, NULL) < 0)
    return FALSE;
  if (vcm_sys_unique_mount_id (fd, out_unique_id) < 0)
    *out_unique_id = 0;
  return TRUE;
}

int
vcm_mounter_get_shared_fd (VcmMounter *self)
{
  return self->shared_fd;
}

VcmMountRequest *
vcm_mounter_prepare_unmount (VcmMounter *self,
                             const char *mount_point,
                             const VcmCredentials *creds,
                             GError **error)
{
  return request_for_general (self, VCM_MOUNT_OP_UNMOUNT, mount_point, creds, error);
}

/* After the attach: the mount at @mnt_fd must be the one that the path
 * reported leads to, beneath the shared dir, now. Anything else (a
 * component renamed or replaced meanwhile) is undone. */
static gboolean
verify_attached (
  VcmMounter *self, const VcmMountRequest *req, int mnt_fd, const char *arg_name, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  vcm_autofd int fd = -1;
  guint64 want = 0, got = 0;
  gboolean root = FALSE;

  fd = vcm_fdpath_resolve (self->shared_fd, self->shared_dir, req->relpath, VCM_RESOLVE_EXISTING,
                           arg_name, NULL, NULL, NULL, &local_error);
  if (fd >= 0 && vcm_sys_stat_mount (mnt_fd, "", AT_EMPTY_PATH, &want, NULL, NULL, NULL, NULL) == 0 &&
      vcm_sys_stat_mount (fd, "", AT_EMPTY_PATH, &got, NULL, NULL, &root, NULL) == 0 && root &&
      got == want)
    return TRUE;
  vcm_mounter_detach_fd (mnt_fd, req->mount_point, NULL);
  g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT,
               "%s: the path to '%s' changed while it was being mounted (a component was "
               "renamed or replaced); nothing was mounted",
               arg_name, req->mount_point);
  return FALSE;
}

/* Resolves (making what is missing, as the caller inside mounts) the mount
 * point of @req, checks it, attaches the source, and checks the result. */

/* A caller that is not root never places a mount on another mount (nor on
 * a filesystem it may control): what lies beneath stays the kernel's and
 * root's to judge, and a mount point that is a mount's root is what that
 * mount's filesystem says it is. */
static gboolean
check_caller_mount_point (const VcmMountRequest *req, int dst_fd, const char *arg_name, GError **error)
{
  const char *kind = NULL;
  gboolean root = FALSE;

  if (vcm_credentials_is_root (req->creds))
    return TRUE;
  if (vcm_mount_policy_users_fs (dst_fd, &kind) < 0 ||
      vcm_sys_stat_mount (dst_fd, "", AT_EMPTY_PATH, NULL, NULL, NULL, &root, NULL) < 0)
    return vcm_error_set_errno (error, errno, "cannot stat", req->mount_point);
  if (kind != NULL || root)
    {
      g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT,
                   "%s: '%s' is %s%s: only root may mount on it", arg_name, req->mount_point,
                   root ? "the root of a mount" : "on ", root ? "" : kind);
      return FALSE;
    }
  return TRUE;
}

/* The directories of a rootfs's path, SANDBOX and SANDBOX/CONTAINER, are
 * the layout's own: plain directories on the shared dir's mount, neither a
 * mount's root nor in another mount. Else a rootfs would be mounted into a
 * tree somebody else controls (and could move), or lie covered where its
 * path no longer leads. @cid_fd: the container's directory as resolved;
 * -1: looked up here (what is missing will be made on the shared dir's
 * mount, and is checked once made). */
static gboolean
check_layout_dirs (VcmMounter *self, const VcmMountRequest *req, int cid_fd, GError **error)
{
  const char *rels[] = { NULL, req->sandbox_id };
  g_autofree char *crel = g_build_filename (req->sandbox_id, req->container_id, NULL);
  vcm_autofd int fd = -1;
  guint64 shared_id = 0, id = 0;
  gboolean root = FALSE;

  rels[0] = crel;
  for (guint i = 0; cid_fd < 0 && i < G_N_ELEMENTS (rels); i++)
    {
      fd = vcm_fdpath_resolve (self->shared_fd, self->shared_dir, rels[i], VCM_RESOLVE_EXISTING,
                               "sandbox_id/container_id", req->creds, NULL, NULL, NULL);
      cid_fd = fd;
    }
  if (cid_fd < 0)
    return TRUE; /* neither is there yet */
  if (vcm_sys_stat_mount (self->shared_fd, "", AT_EMPTY_PATH, &shared_id, NULL, NULL, NULL, NULL) < 0 ||
      vcm_sys_stat_mount (cid_fd, "", AT_EMPTY_PATH, &id, NULL, NULL, &root, NULL) < 0)
    return vcm_error_set_errno (error, errno, "cannot stat", crel);
  if (id == shared_id && !root)
    return TRUE;
  g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT,
               "sandbox_id/container_id: a mount lies on '%s/%s' or on '%s/%s/%s' (the rootfs "
               "layout, the rootfs methods' alone): the rootfs of %s/%s would lie in it, or "
               "under it out of reach; unmount it first",
               self->shared_dir, req->sandbox_id, self->shared_dir, req->sandbox_id, req->container_id,
               req->sandbox_id, req->container_id);
  return FALSE;
}

/* The mount table where the run reads it: the kernel's in a worker
 * thread, else the owner's. */
static VcmMountTable *
request_table (VcmMounter *self, const VcmMountRequest *req)
{
  if (req->off_main_loop || self->source == NULL)
    return vcm_mount_table_source_kernel (NULL, FALSE);
  return self->source (self->source_data, FALSE);
}

/* A caller that is not root adds at most VCM_MAX_MOUNTS_BROUGHT mounts
 * with one call, and holds at most VCM_MAX_MOUNTS_HELD: counted once
 * attached at @mnt_fd, as the copy is the kernel's, and the mount undone
 * beyond either. */
static gboolean
check_mounts_brought (VcmMounter *self, const VcmMountRequest *req, int mnt_fd, GError **error)
{
  g_autofree char *quoted = NULL;
  guint64 id = 0, unique_id = 0;
  gssize n = -1;

  if (req->creds == NULL)
    return TRUE;
  if (vcm_sys_unique_mount_id (mnt_fd, &unique_id) < 0)
    unique_id = 0;
  if (vcm_sys_stat_mount (mnt_fd, "", AT_EMPTY_PATH, &id, NULL, NULL, NULL, NULL) == 0)
    n = vcm_mounter_count_mounts (self, req, mnt_fd, id);
  if (n >= 0 && n <= VCM_MAX_MOUNTS_BROUGHT)
    {
      if (vcm_mounter_hold_mounts (self, req, id, unique_id, (guint) n, error))
        return TRUE;
      vcm_mounter_detach_fd (mnt_fd, req->mount_point, NULL);
      return FALSE;
    }
  vcm_mounter_detach_fd (mnt_fd, req->mount_point, NULL);
  quoted = vcm_validate_quote (req->source != NULL ? req->source : "");
  if (n < 0)
    g_set_error (error, VCM_ERROR, VCM_ERROR_FAILED,
                 "source: cannot count the mounts that come with '%s'", quoted);
  else
    g_set_error (error, VCM_ERROR, VCM_ERROR_LIMITS_EXCEEDED,
                 "source: '%s' with the mounts below it is %" G_GSSIZE_FORMAT
                 " mounts, more than the %d one mount of a caller may bring along; "
                 "bind a tree with fewer submounts",
                 quoted, n, VCM_MAX_MOUNTS_BROUGHT);
  return FALSE;
}

/* Root's general bind or unmount at a sandbox's or container's directory
 * (the only one that may act there): refused while a rootfs lies below,
 * which it would cover, or take away behind the rootfs methods' back. */
static gboolean
check_no_rootfs_below (VcmMounter *self,
                       const VcmMountRequest *req,
                       const char *arg_name,
                       GError **error)
{
  VcmLayoutPlace place = vcm_layout_place (req->relpath);
  g_autoptr (VcmMountTable) table = NULL;
  g_autoptr (GPtrArray) below = NULL;

  if (place != VCM_LAYOUT_SANDBOX_DIR && place != VCM_LAYOUT_CONTAINER_DIR)
    return TRUE;
  table = request_table (self, req);
  if (table == NULL)
    return vcm_error_set_errno (error, EIO, "cannot read the mount table for", req->mount_point);
  below = vcm_rootfs_list_in_table (self->shared_dir, table, req->sandbox_id);
  for (guint i = 0; i < below->len; i++)
    {
      const VcmRootfsRecord *r = below->pdata[i];

      if (place == VCM_LAYOUT_CONTAINER_DIR && !g_str_equal (r->container_id, req->container_id))
        continue;
      g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT,
                   "%s: '%s' lies above the rootfs of %s/%s mounted at '%s': %s; unmount the rootfs "
                   "first (UnmountRootfs)",
                   arg_name, req->mount_point, r->sandbox_id, r->container_id, r->mount_point,
                   req->op == VCM_MOUNT_OP_UNMOUNT ? "only the rootfs methods take a rootfs away"
                                                   : "a mount there would cover it");
      return FALSE;
    }
  return TRUE;
}

static gboolean
run_attach (VcmMounter *self,
            const VcmMountRequest *req,
            const char *arg_name,
            gboolean rootfs,
            VcmAttached *out,
            GError **error)
{
  g_autoptr (VcmCreated) created = vcm_created_new ();
  g_autoptr (GError) local_error = NULL;
  vcm_autofd int dst_fd = -1;
  vcm_autofd int parent_fd = -1;
  struct stat st;

  g_return_val_if_fail (req->source_fd >= 0 || req->tree_fd >= 0, FALSE);
  if (!vcm_mounter_shared_dir_reachable (self, error))
    return FALSE;
  if (rootfs ? !check_layout_dirs (self, req, -1, error)
             : !check_no_rootfs_below (self, req, arg_name, error))
    return FALSE;
  dst_fd = vcm_fdpath_resolve (self->shared_fd, self->shared_dir, req->relpath,
                               VCM_RESOLVE_CREATE | (req->source_is_dir ? 0 : VCM_RESOLVE_LEAF_FILE),
                               arg_name, req->creds, created, rootfs ? &parent_fd : NULL, error);
  if (dst_fd < 0 || (rootfs && !check_layout_dirs (self, req, parent_fd, error)))
    goto fail;
  if (fstat (dst_fd, &st) < 0)
    {
      vcm_error_set_errno (error, errno, "cannot stat", req->mount_point);
      goto fail;
    }
  if (req->source_is_dir != S_ISDIR (st.st_mode))
    {
      g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT,
                   "%s: '%s' is %s but the source '%s' is %s", arg_name, req->mount_point,
                   S_ISDIR (st.st_mode) ? "a directory" : "not a directory", req->source,
                   req->source_is_dir ? "a directory" : "not a directory");
      goto fail;
    }
  if (rootfs && vcm_mounter_fd_is_mount_root (dst_fd, NULL, &local_error))
    {
      g_set_error (error, VCM_ERROR, VCM_ERROR_ALREADY_MOUNTED,
                   "sandbox_id/container_id: the rootfs of %s/%s is already mounted at '%s'",
                   req->sandbox_id, req->container_id, req->mount_point);
      goto fail;
    }
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      goto fail;
    }
  if (!vcm_fdpath_check_immovable (self->shared_fd, self->shared_dir, req->relpath, req->creds, arg_name,
                                   error) ||
      !check_caller_mount_point (req, dst_fd, arg_name, error))
    goto fail;
  if (req->tree_fd >= 0
        ? !vcm_mounter_attach_tree (req->tree_fd, dst_fd, req->mount_point, req->propagation, out, error)
        : !vcm_mounter_attach_bind (self, req, dst_fd, out, error))
    goto fail;
  if (!verify_attached (self, req, out->fd, arg_name, error) ||
      !check_mounts_brought (self, req, out->fd, error))
    goto fail;
  return TRUE;

fail:
  vcm_created_rollback (created);
  return FALSE;
}

/* ---- MountRootfs / UnmountRootfs ------------------------------------------ */

VcmRootfsRecord *
vcm_mounter_run_mount_rootfs (VcmMounter *self, const VcmMountRequest *req, GError **error)
{
  g_auto (VcmAttached) attached = VCM_ATTACHED_INIT;
  VcmRootfsRecord *r;

  g_return_val_if_fail (req->op == VCM_MOUNT_OP_MOUNT_ROOTFS, NULL);
  if (!run_attach (self, req, "sandbox_id/container_id", TRUE, &attached, error))
    return NULL;
  r = vcm_rootfs_record_new (req->sandbox_id, req->container_id, req->mount_point, attached.id,
                             req->read_only);
  r->unique_id = attached.unique;
  return r;
}

/* Resolves an existing mount point beneath the shared dir and checks it is one. */
static int
open_mount_point (VcmMounter *self,
                  const char *rel,
                  const char *arg_name,
                  const char *display,
                  const VcmCredentials *creds,
                  guint64 *out_id,
                  int *out_parent_fd,
                  GError **error)
{
  g_autoptr (GError) local_error = NULL;
  vcm_autofd int fd = -1;

  /* looked up as the caller: nothing is unmounted where it could not look */
  fd = vcm_fdpath_resolve (self->shared_fd, self->shared_dir, rel, VCM_RESOLVE_EXISTING, arg_name, creds,
                           NULL, out_parent_fd, &local_error);
  if (fd >= 0 && !vcm_mounter_fd_is_mount_root (fd, out_id, &local_error) && local_error == NULL)
    g_set_error (&local_error, VCM_ERROR, VCM_ERROR_NOT_MOUNTED, "%s: nothing is mounted at '%s'",
                 arg_name, display);
  if (local_error != NULL)
    {
      if (g_error_matches (local_error, VCM_ERROR, VCM_ERROR_NOT_FOUND))
        g_set_error (error, VCM_ERROR, VCM_ERROR_NOT_MOUNTED,
                     "%s: nothing is mounted at '%s' (it does not exist)", arg_name, display);
      else
        g_propagate_error (error, g_steal_pointer (&local_error));
      if (out_parent_fd != NULL)
        vcm_clear_fd (out_parent_fd);
      return -1;
    }
  return g_steal_fd (&fd);
}

/* The end of an unmount: detaches the mount *@fd (mount ID @id; the fd is
 * closed) with what lies below it and returns their points. The layout
 * beneath the shared dir is the service's: what it made and leaves empty
 * goes. */
static GStrv
detach_and_tidy (
  VcmMounter *self, const VcmMountRequest *req, int *fd, guint64 id, GArray **out_ids, GError **error)
{
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (VcmSysMountIds));
  g_auto (GStrv) detached = vcm_mounter_detached_targets (self, req, *fd, id, ids);

  if (!vcm_mounter_detach_fd (*fd, req->mount_point, error))
    return NULL;
  vcm_clear_fd (fd);
  vcm_layout_remove_emptied (self->shared_fd, req->relpath);
  if (out_ids != NULL)
    *out_ids = g_steal_pointer (&ids);
  return g_steal_pointer (&detached);
}

GStrv
vcm_mounter_run_unmount_rootfs (VcmMounter *self,
                                const VcmMountRequest *req,
                                GArray **out_ids,
                                GError **error)
{
  vcm_autofd int fd = -1;
  vcm_autofd int cid_fd = -1;
  guint64 id = 0;

  g_return_val_if_fail (req->op == VCM_MOUNT_OP_UNMOUNT_ROOTFS, NULL);
  if (!check_layout_dirs (self, req, -1, error))
    return NULL;
  fd = open_mount_point (self, req->relpath, "sandbox_id/container_id", req->mount_point, req->creds,
                         &id, &cid_fd, error);
  if (fd < 0 || !check_layout_dirs (self, req, cid_fd, error))
    return NULL;
  return detach_and_tidy (self, req, &fd, id, out_ids, error);
}

/* ---- BindMount / Unmount --------------------------------------------------- */

char *
vcm_mounter_run_bind (VcmMounter *self, const VcmMountRequest *req, GError **error)
{
  g_auto (VcmAttached) attached = VCM_ATTACHED_INIT;

  g_return_val_if_fail (req->op == VCM_MOUNT_OP_BIND, NULL);
  if (!run_attach (self, req, "destination", FALSE, &attached, error))
    return NULL;
  return g_strdup (req->mount_point);
}

/* Whether @leaf beneath @dir_fd is an empty directory or an empty file;
 * -1 with errno when it cannot be told. */
static int
leaf_is_empty (int dir_fd, const char *leaf)
{
  vcm_autofd int fd = openat (dir_fd, leaf, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  DIR *dir;
  struct dirent *de;
  int dfd;
  int empty = 1;

  if (fd < 0 || fstat (fd, &st) < 0)
    return -1;
  if (S_ISREG (st.st_mode))
    return st.st_size == 0;
  if (!S_ISDIR (st.st_mode))
    return 0;
  dfd = openat (dir_fd, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  dir = dfd >= 0 ? fdopendir (dfd) : NULL;
  if (dir == NULL)
    {
      int errsv = errno;
      if (dfd >= 0)
        close (dfd);
      errno = errsv;
      return -1;
    }
  while (empty && (de = readdir (dir)) != NULL)
    if (!g_str_equal (de->d_name, ".") && !g_str_equal (de->d_name, ".."))
      empty = 0;
  closedir (dir);
  return empty;
}

/* Whether what @leaf beneath @parent_fd is without the mounts on it (the
 * directory or file a mount there covers) is empty: looked at through a
 * clone of @parent_fd's mount without its submounts (on the classic path a
 * bind in the staging area), dropped again. FALSE with @error when it
 * cannot be told. */
static gboolean
covered_is_empty (VcmMounter *self, int parent_fd, const char *leaf, gboolean *out_empty, GError **error)
{
  g_autofree char *src = vcm_fdpath_proc_path (parent_fd);
  g_autofree char *name = NULL;
  g_autofree char *stage = NULL;
  vcm_autofd int clone_fd = -1;
  int empty = -1;
  int errsv = 0;

  if (!self->legacy_api)
    {
      clone_fd = open_tree (parent_fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
      if (clone_fd < 0 && !vcm_mounter_fd_api_refused (errno))
        return vcm_error_set_errno (error, errno, "cannot look beneath the mount at", leaf);
    }
  if (clone_fd >= 0)
    {
      empty = leaf_is_empty (clone_fd, leaf);
      errsv = errno;
    }
  else
    {
      if (!vcm_mounter_ensure_staging (self, error))
        return FALSE;
      name = g_strdup_printf ("u%u", ++self->staging_counter);
      stage = g_strdup_printf ("/proc/self/fd/%d/%s", self->staging_fd, name);
      if (mkdirat (self->staging_fd, name, 0700) == 0)
        {
          if (mount (src, stage, NO_FSTYPE, MS_BIND, NULL) == 0)
            {
              clone_fd = open (stage, O_PATH | O_DIRECTORY | O_CLOEXEC);
              empty = clone_fd >= 0 ? leaf_is_empty (clone_fd, leaf) : -1;
              errsv = errno;
              vcm_clear_fd (&clone_fd);
              umount2 (stage, MNT_DETACH);
            }
          else
            errsv = errno;
          unlinkat (self->staging_fd, name, AT_REMOVEDIR);
        }
      else
        errsv = errno;
      vcm_mounter_drop_staging (self);
    }
  if (empty < 0)
    return vcm_error_set_errno (error, errsv, "cannot look beneath the mount at", leaf);
  *out_empty = empty == 1;
  return TRUE;
}

/* The mountinfo ID of the parent of mount @id; FALSE when it is not found. */
static gboolean
parent_mount_of (VcmMounter *self, const VcmMountRequest *req, guint64 id, guint64 *out_parent)
{
  g_autoptr (VcmMountTable) table = NULL;
  const VcmMountEntry *entry = vcm_mounter_lookup_mount_id (self, req, id, &table);

  if (entry == NULL)
    return FALSE;
  *out_parent = entry->parent_id;
  return TRUE;
}

/* A caller that is not root unmounts a mount on its own only where that
 * uncovers nothing: a recursive bind brought the mounts below its source
 * along, and unmounting one of them alone would show what it hid in the
 * source. So the mount must not sit on top of another mount at the same
 * place, and what it covers must be an empty directory or an empty file
 * (as every mount point the service makes is). Else InvalidArgument. */
static gboolean
check_uncovers_nothing (
  VcmMounter *self, const VcmMountRequest *req, guint64 id, int parent_fd, GError **error)
{
  const char *leaf = strrchr (req->relpath, '/');
  guint64 parent_dir_mount = 0, parent_mount = 0;
  gboolean empty = FALSE;

  leaf = leaf != NULL ? leaf + 1 : req->relpath;
  if (vcm_sys_stat_mount (parent_fd, "", AT_EMPTY_PATH, &parent_dir_mount, NULL, NULL, NULL, NULL) < 0)
    return vcm_error_set_errno (error, errno, "cannot stat the parent of", req->mount_point);
  if (!parent_mount_of (self, req, id, &parent_mount))
    return vcm_error_set_errno (error, ENOENT, "cannot find in the mount table", req->mount_point);
  if (parent_mount != parent_dir_mount)
    {
      g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT,
                   "mount_point: the mount at '%s' covers another mount there; only root may "
                   "unmount it on its own (unmount the mount it lies in instead)",
                   req->mount_point);
      return FALSE;
    }
  if (!covered_is_empty (self, parent_fd, leaf, &empty, error))
    return FALSE;
  if (!empty)
    {
      g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT,
                   "mount_point: the mount at '%s' covers a directory or file that is not "
                   "empty (it came with a bind of what lies around it, which hid it there); "
                   "only root may unmount it on its own (unmount the mount it lies in instead)",
                   req->mount_point);
      return FALSE;
    }
  return TRUE;
}

GStrv
vcm_mounter_run_unmount (VcmMounter *self, const VcmMountRequest *req, GArray **out_ids, GError **error)
{
  vcm_autofd int fd = -1;
  vcm_autofd int parent_fd = -1;
  guint64 id = 0;

  g_return_val_if_fail (req->op == VCM_MOUNT_OP_UNMOUNT, NULL);
  if (!check_no_rootfs_below (self, req, "mount_point", error))
    return NULL;
  fd = open_mount_point (self, req->relpath, "mount_point", req->mount_point, req->creds, &id,
                         &parent_fd, error);
  if (fd < 0)
    return NULL;
  if (!vcm_credentials_is_root (req->creds) && !check_uncovers_nothing (self, req, id, parent_fd, error))
    return NULL;
  return detach_and_tidy (self, req, &fd, id, out_ids, error);
}
