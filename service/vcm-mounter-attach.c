/* vcm-mounter-attach: the steps the mounter's operations are made of:
 * attaching a bind (the fd-based mount API, or the classic mount(2) path
 * through a private staging tmpfs), attaching a detached tree, detaching
 * through an fd, and the mounts below a mount (listmount(2), or a table). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <glib/gstdio.h>

#include "vcm-error.h"
#include "vcm-fd.h"
#include "vcm-fdpath.h"
#include "vcm-mount-policy.h"
#include "vcm-mounter-private.h"
#include "vcm-sys.h"
#include "vcm-validate.h"

void
vcm_attached_clear (VcmAttached *attached)
{
  vcm_clear_fd (&attached->fd);
}

gboolean
vcm_mounter_detach_fd (int fd, const char *what, GError **error)
{
  g_autofree char *proc = vcm_fdpath_proc_path (fd);

  /* The magic link resolves to exactly the mount the fd pins, whatever
   * happened to the path meanwhile. */
  if (umount2 (proc, MNT_DETACH) < 0)
    {
      g_set_error (error, VCM_ERROR, VCM_ERROR_FAILED, "cannot unmount %s: %s", what,
                   g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

#ifndef ST_NOSYMFOLLOW
#define ST_NOSYMFOLLOW 0x2000
#endif
#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif

/* The classic path stages each mount on a private tmpfs of its own beneath
 * the shared dir (mode 0700, root only), where it is made read-only and
 * private before MS_MOVE puts it in place. The tmpfs lives for one call. */
gboolean
vcm_mounter_ensure_staging (VcmMounter *self, GError **error)
{
  vcm_autofd int dir_fd = -1;
  g_autofree char *proc = NULL;
  gboolean root = FALSE;

  if (self->staging_fd >= 0)
    return TRUE;
  if (mkdirat (self->shared_fd, STAGING_DIR, 0700) < 0 && errno != EEXIST)
    return vcm_error_set_errno (error, errno, "cannot create the staging dir in", self->shared_dir);
  dir_fd = vcm_fdpath_resolve (self->shared_fd, self->shared_dir, STAGING_DIR, VCM_RESOLVE_EXISTING,
                               "staging", NULL, NULL, NULL, error);
  if (dir_fd < 0)
    return FALSE;
  if (vcm_sys_stat_mount (dir_fd, "", AT_EMPTY_PATH, NULL, NULL, NULL, &root, NULL) < 0)
    return vcm_error_set_errno (error, errno, "cannot stat the staging dir in", self->shared_dir);
  proc = vcm_fdpath_proc_path (dir_fd);
  if (!root &&
      mount ("vcm-staging", proc, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700,size=64k") < 0)
    return vcm_error_set_errno (error, errno, "cannot mount the staging tmpfs in", self->shared_dir);
  self->staging_fd = vcm_fdpath_resolve (self->shared_fd, self->shared_dir, STAGING_DIR,
                                         VCM_RESOLVE_EXISTING, "staging", NULL, NULL, NULL, error);
  if (self->staging_fd < 0)
    return FALSE;
  g_free (proc);
  proc = vcm_fdpath_proc_path (self->staging_fd);
  if (mount (NULL, proc, NO_FSTYPE, MS_PRIVATE, NULL) < 0)
    {
      vcm_clear_fd (&self->staging_fd);
      return vcm_error_set_errno (error, errno, "cannot make private the staging tmpfs in",
                                  self->shared_dir);
    }
  return TRUE;
}

/* Classic mount(2) path for kernels without open_tree()/move_mount(): the
 * same fd-resolved target, reached through its /proc/self/fd magic link. The
 * bind is made in the staging area, made read-only and private there, and
 * only then moved onto the target: nobody ever sees it writable. */
/* An empty directory or file named @name beneath @dir_fd; FALSE with errno. */
static gboolean
make_mount_point (int dir_fd, const char *name, gboolean is_dir)
{
  int fd;

  if (is_dir)
    return mkdirat (dir_fd, name, 0700) == 0;
  fd = openat (dir_fd, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0)
    return FALSE;
  close (fd);
  return TRUE;
}

void
vcm_mounter_drop_staging (VcmMounter *self)
{
  g_autofree char *proc = NULL;

  if (self->staging_fd < 0)
    return;
  proc = vcm_fdpath_proc_path (self->staging_fd);
  if (umount2 (proc, MNT_DETACH) < 0)
    g_warning ("Cannot unmount the staging tmpfs in %s: %s", self->shared_dir, g_strerror (errno));
  vcm_clear_fd (&self->staging_fd);
  vcm_fdpath_rmdir_if_empty (self->shared_fd, STAGING_DIR);
}

/* The per-mount flags a bind keeps from its source, as a read-only remount
 * must repeat them: MS_REMOUNT|MS_BIND sets all of them at once, and would
 * otherwise drop the source's nosuid, nodev and noexec (a setuid file of a
 * nosuid mount would work again through the bind). */
static gboolean
kept_mount_flags (int mnt_fd, unsigned long *out_flags)
{
  static const struct {
    unsigned long st, ms;
  } map[] = {
    { ST_NOSUID, MS_NOSUID },           { ST_NODEV, MS_NODEV },           { ST_NOEXEC, MS_NOEXEC },
    { ST_NOATIME, MS_NOATIME },         { ST_NODIRATIME, MS_NODIRATIME }, { ST_RELATIME, MS_RELATIME },
    { ST_NOSYMFOLLOW, MS_NOSYMFOLLOW },
  };
  struct statvfs sv;

  if (fstatvfs (mnt_fd, &sv) < 0)
    return FALSE;
  *out_flags = 0;
  for (gsize i = 0; i < G_N_ELEMENTS (map); i++)
    if (sv.f_flag & map[i].st)
      *out_flags |= map[i].ms;
  return TRUE;
}

/* The per-mount flags a request adds to what a mount keeps (MS_*). */
static unsigned long
request_ms_flags (const VcmMountRequest *req)
{
  return (req->read_only ? MS_RDONLY : 0) | (req->nosuid ? MS_NOSUID : 0) | (req->nodev ? MS_NODEV : 0) |
    (req->noexec ? MS_NOEXEC : 0);
}

static GArray *listmount_subtree (guint64 root);

/* The mount @id in a mount table: the owner's (its watch's cache) on the
 * main loop, the kernel's for a request run in a worker thread. */
const VcmMountEntry *
vcm_mounter_lookup_mount_id (VcmMounter *self,
                             const VcmMountRequest *req,
                             guint64 id,
                             VcmMountTable **out_table)
{
  if (req->off_main_loop)
    return vcm_mount_table_source_lookup_id (vcm_mount_table_source_kernel, NULL, id, FALSE, out_table);
  return vcm_mount_table_source_lookup_id (self->source, self->source_data, id, FALSE, out_table);
}

/* The mount points of the mounts below the staged mount @mnt_fd (with mount
 * ID @id), from listmount(2) or else the mount table; NULL when neither can
 * say. */
static GStrv
staged_submount_points (VcmMounter *self, const VcmMountRequest *req, int mnt_fd, guint64 id)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_autoptr (GArray) ids = NULL;
  g_autoptr (VcmMountTable) table = NULL;
  g_autoptr (GPtrArray) below = NULL;
  guint64 unique = 0;

  if (vcm_sys_unique_mount_id (mnt_fd, &unique) == 0 && (ids = listmount_subtree (unique)) != NULL)
    {
      for (guint i = 1; i < ids->len; i++)
        {
          int errsv = 0;
          g_autofree char *point = vcm_sys_statmount_point (g_array_index (ids, guint64, i), &errsv);

          if (point == NULL)
            return NULL;
          g_strv_builder_add (builder, point);
        }
      return g_strv_builder_end (builder);
    }
  if (vcm_mounter_lookup_mount_id (self, req, id, &table) == NULL)
    return NULL;
  below = vcm_mount_table_get_descendants (table, id);
  for (guint i = 0; i < below->len; i++)
    g_strv_builder_add (builder, ((const VcmMountEntry *) below->pdata[i])->target);
  return g_strv_builder_end (builder);
}

/* MS_REMOUNT|MS_BIND sets a mount's flags all at once and for that mount
 * only: each mount of the staged tree gets what it keeps and what the
 * request adds. */
static gboolean
legacy_set_flags (
  VcmMounter *self, int mnt_fd, const char *stage, guint64 id, const VcmMountRequest *req)
{
  unsigned long add = request_ms_flags (req);
  unsigned long kept = 0;
  g_auto (GStrv) below = NULL;

  if (add == 0)
    return TRUE;
  if (!kept_mount_flags (mnt_fd, &kept) ||
      mount (NULL, stage, NO_FSTYPE, MS_REMOUNT | MS_BIND | kept | add, NULL) < 0)
    return FALSE;
  if (!req->recursive)
    return TRUE;
  below = staged_submount_points (self, req, mnt_fd, id);
  if (below == NULL)
    {
      errno = ENOSYS;
      return FALSE;
    }
  for (guint i = 0; below[i] != NULL; i++)
    {
      vcm_autofd int fd = open (below[i], O_PATH | O_NOFOLLOW | O_CLOEXEC);
      g_autofree char *proc = NULL;

      if (fd < 0 || !kept_mount_flags (fd, &kept))
        return FALSE;
      proc = vcm_fdpath_proc_path (fd);
      if (mount (NULL, proc, NO_FSTYPE, MS_REMOUNT | MS_BIND | kept | add, NULL) < 0)
        return FALSE;
    }
  return TRUE;
}

static gboolean
attach_bind_legacy_staged (
  VcmMounter *self, const VcmMountRequest *req, int dst_fd, VcmAttached *out, GError **error)
{
  const char *dst_path = req->mount_point;
  g_autofree char *src = vcm_fdpath_proc_path (req->source_fd);
  g_autofree char *dst = vcm_fdpath_proc_path (dst_fd);
  g_autofree char *name = NULL;
  g_autofree char *stage = NULL;
  g_autofree char *mnt = NULL;
  vcm_autofd int mnt_fd = -1;
  unsigned long rec = req->recursive ? MS_REC : 0;
  guint64 id = 0;
  int errsv;
  int rm_flags;
  mode_t src_mode = 0;

  /* its kind only: never asks the source's filesystem (vcm_sys_stat_mount) */
  if (vcm_sys_stat_mount (req->source_fd, "", AT_EMPTY_PATH, NULL, NULL, NULL, NULL, &src_mode) < 0)
    return vcm_error_set_errno (error, errno, "cannot stat the source for", dst_path);
  if (!vcm_mounter_ensure_staging (self, error))
    return FALSE;
  name = g_strdup_printf ("m%u", ++self->staging_counter);
  stage = g_strdup_printf ("/proc/self/fd/%d/%s", self->staging_fd, name);
  /* the staging mount point is of the source's kind: a directory or a file */
  rm_flags = S_ISDIR (src_mode) ? AT_REMOVEDIR : 0;
  if (!make_mount_point (self->staging_fd, name, S_ISDIR (src_mode)))
    return vcm_error_set_errno (error, errno, "cannot create a staging mount point for", dst_path);

  if (mount (src, stage, NO_FSTYPE, MS_BIND | rec, NULL) < 0)
    {
      errsv = errno;
      unlinkat (self->staging_fd, name, rm_flags);
      return vcm_error_set_errno (error, errsv, "cannot bind mount for", dst_path);
    }
  mnt_fd = open (stage, O_PATH | O_CLOEXEC);
  mnt = mnt_fd >= 0 ? vcm_fdpath_proc_path (mnt_fd) : NULL;
  if (mnt_fd < 0 || mount (NULL, stage, NO_FSTYPE, MS_PRIVATE | rec, NULL) < 0 ||
      vcm_sys_stat_mount (mnt_fd, "", AT_EMPTY_PATH, &id, NULL, NULL, NULL, NULL) < 0 ||
      !legacy_set_flags (self, mnt_fd, stage, id, req) ||
      mount (stage, dst, NO_FSTYPE, MS_MOVE, NULL) < 0)
    {
      errsv = errno;
      umount2 (stage, MNT_DETACH);
      unlinkat (self->staging_fd, name, rm_flags);
      return vcm_error_set_errno (error, errsv, "cannot set up the mount at", dst_path);
    }
  unlinkat (self->staging_fd, name, rm_flags);
  /* Moved beneath a shared parent, it became shared: private again. */
  if (mount (NULL, mnt, NO_FSTYPE, MS_PRIVATE | rec, NULL) < 0)
    {
      errsv = errno;
      umount2 (mnt, MNT_DETACH);
      return vcm_error_set_errno (error, errsv, "cannot make private the mount at", dst_path);
    }
  out->id = id;
  if (vcm_sys_unique_mount_id (mnt_fd, &out->unique) < 0)
    out->unique = 0;
  out->fd = g_steal_fd (&mnt_fd);
  return TRUE;
}

static gboolean
attach_bind_legacy (
  VcmMounter *self, const VcmMountRequest *req, int dst_fd, VcmAttached *out, GError **error)
{
  gboolean ok;

  /* the staging area is one for all: runs are in worker threads */
  g_mutex_lock (&self->staging_lock);
  ok = attach_bind_legacy_staged (self, req, dst_fd, out, error);
  vcm_mounter_drop_staging (self);
  g_mutex_unlock (&self->staging_lock);
  return ok;
}

/* A refusal of the fd-based mount API as a whole: a kernel before 5.12
 * (ENOSYS), or a seccomp filter that refuses these calls (ENOSYS or EPERM). */
gboolean
vcm_mounter_fd_api_refused (int errsv)
{
  return errsv == ENOSYS || errsv == EPERM;
}

/* @syscall_name was refused with @errsv: the classic path from now on. */
static gboolean
attach_bind_legacy_from_now (VcmMounter *self,
                             const char *syscall_name,
                             int errsv,
                             const VcmMountRequest *req,
                             int dst_fd,
                             VcmAttached *out,
                             GError **error)
{
  g_message ("%s() is refused (%s); using the classic mount(2) API from now on", syscall_name,
             g_strerror (errsv));
  self->legacy_api = TRUE;
  return attach_bind_legacy (self, req, dst_fd, out, error);
}

/* After the attach of the mount *@fd at @dst_path: gives it (and, with
 * @recursive, what came with it) @propagation again, reads its mount IDs and
 * hands *@fd over in @out; on failure detaches it again, @what
 * saying which step failed. */
static gboolean
settle_attached (int *fd,
                 const char *dst_path,
                 unsigned long propagation,
                 gboolean recursive,
                 const char *what,
                 VcmAttached *out,
                 GError **error)
{
  struct mount_attr attr = { .propagation = propagation };

  if (mount_setattr (*fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr, sizeof attr) < 0 ||
      vcm_sys_stat_mount (*fd, "", AT_EMPTY_PATH, &out->id, NULL, NULL, NULL, NULL) < 0)
    {
      int errsv = errno;
      vcm_mounter_detach_fd (*fd, dst_path, NULL);
      return vcm_error_set_errno (error, errsv, what, dst_path);
    }
  if (vcm_sys_unique_mount_id (*fd, &out->unique) < 0)
    out->unique = 0;
  out->fd = g_steal_fd (fd);
  return TRUE;
}

/* Clones the mount at the request's source (with the mounts below it if the
 * request is recursive), sets the request's flags (read-only, nosuid, nodev,
 * noexec) and makes it private while it is still detached, then attaches it
 * onto @dst_fd. Where the kernel or a filter refuses a call of that API
 * before anything is attached, the classic path takes over. */
gboolean
vcm_mounter_attach_bind (
  VcmMounter *self, const VcmMountRequest *req, int dst_fd, VcmAttached *out, GError **error)
{
  const char *dst_path = req->mount_point;
  vcm_autofd int tree_fd = -1;
  struct mount_attr attr = { 0 };

  if (self->legacy_api)
    return attach_bind_legacy (self, req, dst_fd, out, error);

  tree_fd = open_tree (req->source_fd, "",
                       OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH |
                         (req->recursive ? AT_RECURSIVE : 0));
  if (tree_fd < 0 && vcm_mounter_fd_api_refused (errno))
    return attach_bind_legacy_from_now (self, "open_tree", errno, req, dst_fd, out, error);
  if (tree_fd < 0)
    return vcm_error_set_errno (error, errno, "cannot clone the source for", dst_path);

  attr.attr_set = (req->read_only ? MOUNT_ATTR_RDONLY : 0) | (req->nosuid ? MOUNT_ATTR_NOSUID : 0) |
    (req->nodev ? MOUNT_ATTR_NODEV : 0) | (req->noexec ? MOUNT_ATTR_NOEXEC : 0);
  attr.propagation = MS_PRIVATE;
  if (mount_setattr (tree_fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
    {
      /* the clone is still detached: closing it drops it */
      if (vcm_mounter_fd_api_refused (errno))
        return attach_bind_legacy_from_now (self, "mount_setattr", errno, req, dst_fd, out, error);
      return vcm_error_set_errno (error, errno, "cannot set the mount attributes for", dst_path);
    }

  if (move_mount (tree_fd, "", dst_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    {
      if (vcm_mounter_fd_api_refused (errno))
        return attach_bind_legacy_from_now (self, "move_mount", errno, req, dst_fd, out, error);
      return vcm_error_set_errno (error, errno, "cannot attach the mount at", dst_path);
    }

  /* Attached beneath a shared parent, the kernel makes it shared again. */
  return settle_attached (&tree_fd, dst_path, MS_PRIVATE, req->recursive,
                          "cannot make private the mount at", out, error);
}

/* Attaches the detached, configured mount @tree_fd (a dup is moved) onto
 * @dst_fd, then gives it (and what came with it) @propagation again: beneath
 * a shared parent the kernel makes it shared. */
gboolean
vcm_mounter_attach_tree (int tree_fd,
                         int dst_fd,
                         const char *dst_path,
                         unsigned long propagation,
                         VcmAttached *out,
                         GError **error)
{
  vcm_autofd int fd = fcntl (tree_fd, F_DUPFD_CLOEXEC, 3);

  if (fd < 0)
    return vcm_error_set_errno (error, errno, "cannot hold the mount for", dst_path);
  if (move_mount (fd, "", dst_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return vcm_error_set_errno (error, errno, "cannot attach the mount at", dst_path);
  return settle_attached (&fd, dst_path, propagation, TRUE, "cannot set the propagation of the mount at",
                          out, error);
}

/* Checks that @fd is the root of a mount; returns its mount ID. */
gboolean
vcm_mounter_fd_is_mount_root (int fd, guint64 *out_id, GError **error)
{
  gboolean root = FALSE;

  if (vcm_sys_stat_mount (fd, "", AT_EMPTY_PATH, out_id, NULL, NULL, &root, NULL) < 0)
    {
      g_set_error (error, VCM_ERROR, VCM_ERROR_FAILED, "statx: %s", g_strerror (errno));
      return FALSE;
    }
  return root;
}

/* The unique IDs of the mount @root and of every mount below it, parents
 * before children, walking down with listmount(); NULL if the kernel cannot.
 * (A kernel whose listmount() also returned grandchildren would list some
 * mounts twice: each is kept once.) */
static GArray *
listmount_subtree (guint64 root)
{
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (guint64));
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);

  g_array_append_val (ids, root);
  g_hash_table_add (seen, g_memdup2 (&root, sizeof root));
  for (guint i = 0; i < ids->len; i++)
    {
      g_autoptr (GArray) children = vcm_sys_listmount_all (g_array_index (ids, guint64, i));

      if (children == NULL)
        return NULL;
      for (guint j = 0; j < children->len; j++)
        {
          guint64 child = g_array_index (children, guint64, j);

          if (g_hash_table_add (seen, g_memdup2 (&child, sizeof child)))
            g_array_append_val (ids, child);
        }
    }
  return g_steal_pointer (&ids);
}

/* The mount points of the mount pinned by @fd and of the mounts below it,
 * with listmount()/statmount(): the cost follows the number of submounts, not
 * the size of the host's mount table. FALSE when the kernel lacks them. */
static gboolean
detached_by_listmount (
  VcmMounter *self, const VcmMountRequest *req, int fd, GStrvBuilder *builder, GArray *out_ids)
{
  g_autoptr (GArray) ids = NULL;
  guint64 root = 0;

  if (vcm_sys_unique_mount_id (fd, &root) < 0)
    return FALSE;
  if (req->subtree_hint != NULL && req->subtree_hint->len > 0 &&
      g_array_index (req->subtree_hint, guint64, 0) == root)
    ids = g_array_ref (req->subtree_hint);
  else if (self->subtree != NULL && !req->off_main_loop)
    ids = self->subtree (self->subtree_data, root);
  if (ids == NULL && (ids = listmount_subtree (root)) == NULL)
    return FALSE;
  for (guint i = 0; i < ids->len; i++)
    {
      int errsv = 0;
      VcmSysMountBrief brief;
      g_autofree char *point = NULL;

      if (vcm_sys_statmount_brief (g_array_index (ids, guint64, i), &brief, &point, &errsv))
        {
          VcmSysMountIds pair = { brief.mnt_id_old, g_array_index (ids, guint64, i) };

          g_strv_builder_add (builder, point);
          g_array_append_val (out_ids, pair);
        }
      else if (errsv != ENOENT) /* ENOENT: gone meanwhile, nothing to report */
        return FALSE;
    }
  return TRUE;
}

/* What a reply and a signal carry of the mounts detached: their points as
 * valid UTF-8 (the kernel's names are bytes), at most about a megabyte of
 * them (a caller could stack thousands of mounts with long names, and a
 * message over the bus's limit would take the service off the bus); where
 * the list is cut, it ends with an empty string. */
#define MAX_DETACHED_BYTES (1024 * 1024)

/* With @found (NULL: unknown) the IDs of @targets (VcmSysMountIds), which
 * go to @out_ids (NULL: not wanted) in the same order, the first @top where
 * none was found, 0 for one not known or the cut's "". */
static GStrv
detached_list (GStrv targets, GArray *found, const VcmSysMountIds *top, GArray *out_ids)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  gsize bytes = 0;

  for (guint i = 0; targets[i] != NULL; i++)
    {
      g_autofree char *valid = g_utf8_make_valid (targets[i], -1);
      VcmSysMountIds ids = { 0, 0 };

      if (found != NULL && i < found->len)
        ids = g_array_index (found, VcmSysMountIds, i);
      else if (i == 0)
        ids = *top;                /* the mount pinned */
      bytes += strlen (valid) + 5; /* a string's length, its NUL, alignment */
      if (bytes > MAX_DETACHED_BYTES)
        {
          g_strv_builder_add (builder, "");
          ids.old_id = ids.unique_id = 0;
        }
      else
        g_strv_builder_add (builder, valid);
      if (out_ids != NULL)
        g_array_append_val (out_ids, ids);
      if (bytes > MAX_DETACHED_BYTES)
        break;
    }
  g_strfreev (targets);
  return g_strv_builder_end (builder);
}

/* The targets detached with the mount @id pinned by @fd: itself, then its
 * descendants. */
GStrv
vcm_mounter_detached_targets (
  VcmMounter *self, const VcmMountRequest *req, int fd, guint64 id, GArray *ids)
{
  const char *fallback_target = req->mount_point;
  g_autoptr (VcmMountTable) table = NULL;
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_autoptr (GArray) found = g_array_new (FALSE, TRUE, sizeof (VcmSysMountIds));
  VcmSysMountIds pinned = { id, 0 };
  const VcmMountEntry *top;
  g_autoptr (GPtrArray) below = NULL;
  GStrv known = NULL;
  GStrv targets;

  if (vcm_sys_unique_mount_id (fd, &pinned.unique_id) < 0)
    pinned.unique_id = 0;
  if (detached_by_listmount (self, req, fd, builder, found))
    return detached_list (g_strv_builder_end (builder), found, &pinned, ids);
  if (self->targets != NULL && !req->off_main_loop &&
      (known = self->targets (self->targets_data, id)) != NULL)
    return detached_list (known, NULL, &pinned, ids);
  /* the owner's knowledge, taken on its main loop before the run: the
   * mount pinned (its ID from statx) is the one it knew */
  if (req->targets_hint != NULL && req->targets_hint_id == id)
    return detached_list (g_strdupv (req->targets_hint), NULL, &pinned, ids);

  g_clear_pointer (&builder, g_strv_builder_unref);
  builder = g_strv_builder_new ();
  g_array_set_size (found, 0);
  top = vcm_mounter_lookup_mount_id (self, req, id, &table);
  g_strv_builder_add (builder, top ? top->target : fallback_target);
  g_array_append_val (found, pinned);
  if (table != NULL) /* else no table to name the submounts from */
    {
      below = vcm_mount_table_get_descendants (table, id);
      for (guint i = 0; i < below->len; i++)
        {
          const VcmMountEntry *e = below->pdata[i];
          VcmSysMountIds pair = { e->id, 0 };

          g_strv_builder_add (builder, e->target);
          g_array_append_val (found, pair);
        }
    }
  targets = g_strv_builder_end (builder);
  return detached_list (targets, found, &pinned, ids);
}

gssize
vcm_mounter_count_mounts (VcmMounter *self, const VcmMountRequest *req, int fd, guint64 id)
{
  g_autoptr (GArray) ids = NULL;
  g_autoptr (VcmMountTable) table = NULL;
  g_autoptr (GPtrArray) below = NULL;
  guint64 unique = 0;

  if (vcm_sys_unique_mount_id (fd, &unique) == 0 && (ids = listmount_subtree (unique)) != NULL)
    return (gssize) ids->len;
  if (vcm_mounter_lookup_mount_id (self, req, id, &table) == NULL)
    return -1;
  below = vcm_mount_table_get_descendants (table, id);
  return (gssize) below->len + 1;
}

VcmHoldings *
vcm_mounter_get_holdings (VcmMounter *self)
{
  return self->holdings;
}

/* At the bound: gives back what @uid's mounts gone behind the service's
 * back held (no watch follows general binds). Reads the mount table, so
 * only when the bound is met, and at most once a second per user. Whether
 * anything was given back. */
static gboolean
prune_holdings (VcmMounter *self, uid_t uid)
{
  guint64 mark;
  g_autoptr (VcmMountTable) table = NULL;
  guint pruned;

  if (!vcm_holdings_prune_due (self->holdings, uid, g_get_monotonic_time ()))
    return FALSE;
  mark = vcm_holdings_mark (self->holdings);
  table = vcm_mount_table_source_kernel (NULL, TRUE);
  if (table == NULL)
    return FALSE;
  pruned = vcm_holdings_prune (self->holdings, uid, table, mark);
  if (pruned > 0)
    g_debug ("uid %u: %u mounts gone behind the service's back given back", (guint) uid, pruned);
  return pruned > 0;
}

gboolean
vcm_mounter_hold_mounts (
  VcmMounter *self, const VcmMountRequest *req, guint64 id, guint64 unique_id, guint n, GError **error)
{
  g_autofree char *quoted = NULL;
  guint held = 0;

  if (!vcm_holdings_loaded (self->holdings))
    {
      /* after a restart: the counts recorded on the mount points */
      g_autoptr (VcmMountTable) table = vcm_mount_table_source_kernel (NULL, TRUE);

      vcm_holdings_load (self->holdings, self->shared_fd, self->shared_dir, table);
    }
  if (vcm_holdings_take (self->holdings, req->creds->uid, req->mount_point, id, unique_id, n, &held))
    return TRUE;
  if (prune_holdings (self, req->creds->uid) &&
      vcm_holdings_take (self->holdings, req->creds->uid, req->mount_point, id, unique_id, n, &held))
    return TRUE;
  quoted = vcm_validate_quote (req->source != NULL ? req->source : "");
  g_set_error (error, VCM_ERROR, VCM_ERROR_LIMITS_EXCEEDED,
               "source: '%s' would add %u mounts to the %u you hold through the service, "
               "more than the %d a caller may hold; unmount some of yours first",
               quoted, n, held, VCM_MAX_MOUNTS_HELD);
  return FALSE;
}

/* The mountinfo IDs of the mounts below the mount @unique_id; NULL if the
 * kernel cannot say. */
GHashTable *
vcm_mounter_submount_ids_live (guint64 unique_id)
{
  g_autoptr (GHashTable) result = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  g_autoptr (GArray) ids = listmount_subtree (unique_id);

  if (ids == NULL)
    return NULL;
  for (guint i = 1; i < ids->len; i++)
    {
      VcmSysMount m;
      int errsv = 0;

      if (!vcm_sys_statmount (g_array_index (ids, guint64, i), &m, &errsv))
        {
          if (errsv == ENOENT)
            continue; /* gone meanwhile */
          return NULL;
        }
      g_hash_table_add (result, g_memdup2 (&m.mnt_id_old, sizeof m.mnt_id_old));
      vcm_sys_mount_clear (&m);
    }
  return g_steal_pointer (&result);
}
