/* vcm-mounter: the mount operations (rootfs and general bind mounts, lazy
 * unmounts) confined beneath the shared dir, and the rootfs layout read back
 * from a mount table. Knows nothing of D-Bus.
 *
 * Every destination is resolved by fd beneath the shared dir (vcm-fdpath), a
 * mount is attached with the kernel's fd-based mount API so that it is
 * read-only and private before it becomes visible, and an unmount goes through
 * an fd pinning the very mount that was checked. */
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
#include "vcm-mount-policy.h"
#include "vcm-mounter.h"
#include "vcm-sys.h"
#include "vcm-testing.h"
#include "vcm-validate.h"

struct _VcmMounter {
  GObject parent;
  char *shared_dir;
  int shared_fd;
  gboolean shared_dir_covered; /* its path leads elsewhere now (logged once) */
  VcmMountTableSource source;
  gpointer source_data;
  gboolean legacy_api; /* the kernel lacks open_tree & co., or asked */
  int staging_fd;      /* legacy: the private staging tmpfs */
  guint staging_counter;
  GMutex staging_lock;      /* legacy: one attach at a time stages (runs are in threads) */
  VcmSubtreeSource subtree; /* optional: who knows a mount's subtree */
  gpointer subtree_data;
  VcmTargetsSource targets; /* optional: who knows the points of a mount's subtree */
  gpointer targets_data;
};

G_DEFINE_FINAL_TYPE (VcmMounter, vcm_mounter, G_TYPE_OBJECT)

static void
vcm_mounter_finalize (GObject *object)
{
  VcmMounter *self = VCM_MOUNTER (object);

  vcm_clear_fd (&self->staging_fd);
  vcm_clear_fd (&self->shared_fd);
  g_mutex_clear (&self->staging_lock);
  g_free (self->shared_dir);
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
  self->shared_fd = open (self->shared_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (self->shared_fd < 0)
    {
      vcm_error_set_errno (error, errno, "cannot open the shared dir", self->shared_dir);
      return NULL;
    }
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

/* ---- attaching and detaching ---------------------------------------------- */

static gboolean
detach_fd (int fd, const char *what, GError **error)
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

#define STAGING_DIR ".vcm-staging"

/* The filesystem type of a bind, move, remount or propagation change: the
 * kernel ignores it; a string rather than NULL keeps memory checkers (which
 * read it as a string) quiet. */
#define NO_FSTYPE "none"

/* The classic path stages each mount on a private tmpfs of its own beneath
 * the shared dir (mode 0700, root only), where it is made read-only and
 * private before MS_MOVE puts it in place. The tmpfs lives for one call. */
static gboolean
ensure_staging (VcmMounter *self, GError **error)
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

static void
drop_staging (VcmMounter *self)
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
static const VcmMountEntry *
lookup_mount_id (VcmMounter *self, const VcmMountRequest *req, guint64 id, VcmMountTable **out_table)
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
  if (lookup_mount_id (self, req, id, &table) == NULL)
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
attach_bind_legacy_staged (VcmMounter *self,
                           const VcmMountRequest *req,
                           int dst_fd,
                           guint64 *out_id,
                           guint64 *out_unique,
                           int *out_mnt_fd,
                           GError **error)
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
  if (!ensure_staging (self, error))
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
  if (out_id != NULL)
    *out_id = id;
  if (out_unique != NULL && vcm_sys_unique_mount_id (mnt_fd, out_unique) < 0)
    *out_unique = 0;
  *out_mnt_fd = g_steal_fd (&mnt_fd);
  return TRUE;
}

static gboolean
attach_bind_legacy (VcmMounter *self,
                    const VcmMountRequest *req,
                    int dst_fd,
                    guint64 *out_id,
                    guint64 *out_unique,
                    int *out_mnt_fd,
                    GError **error)
{
  gboolean ok;

  /* the staging area is one for all: runs are in worker threads */
  g_mutex_lock (&self->staging_lock);
  ok = attach_bind_legacy_staged (self, req, dst_fd, out_id, out_unique, out_mnt_fd, error);
  drop_staging (self);
  g_mutex_unlock (&self->staging_lock);
  return ok;
}

/* A refusal of the fd-based mount API as a whole: a kernel before 5.12
 * (ENOSYS), or a seccomp filter that refuses these calls (ENOSYS or EPERM). */
static gboolean
fd_api_refused (int errsv)
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
                             guint64 *out_id,
                             guint64 *out_unique,
                             int *out_mnt_fd,
                             GError **error)
{
  g_message ("%s() is refused (%s); using the classic mount(2) API from now on", syscall_name,
             g_strerror (errsv));
  self->legacy_api = TRUE;
  return attach_bind_legacy (self, req, dst_fd, out_id, out_unique, out_mnt_fd, error);
}

/* Clones the mount at the request's source (with the mounts below it if the
 * request is recursive), sets the request's flags (read-only, nosuid, nodev,
 * noexec) and makes it private while it is still detached, then attaches it
 * onto @dst_fd. Where the kernel or a filter refuses a call of that API
 * before anything is attached, the classic path takes over. */
static gboolean
attach_bind (VcmMounter *self,
             const VcmMountRequest *req,
             int dst_fd,
             guint64 *out_id,
             guint64 *out_unique,
             int *out_mnt_fd,
             GError **error)
{
  const char *dst_path = req->mount_point;
  vcm_autofd int tree_fd = -1;
  struct mount_attr attr = { 0 };

  if (self->legacy_api)
    return attach_bind_legacy (self, req, dst_fd, out_id, out_unique, out_mnt_fd, error);

  tree_fd = open_tree (req->source_fd, "",
                       OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH |
                         (req->recursive ? AT_RECURSIVE : 0));
  if (tree_fd < 0 && fd_api_refused (errno))
    return attach_bind_legacy_from_now (self, "open_tree", errno, req, dst_fd, out_id, out_unique,
                                        out_mnt_fd, error);
  if (tree_fd < 0)
    return vcm_error_set_errno (error, errno, "cannot clone the source for", dst_path);

  attr.attr_set = (req->read_only ? MOUNT_ATTR_RDONLY : 0) | (req->nosuid ? MOUNT_ATTR_NOSUID : 0) |
    (req->nodev ? MOUNT_ATTR_NODEV : 0) | (req->noexec ? MOUNT_ATTR_NOEXEC : 0);
  attr.propagation = MS_PRIVATE;
  if (mount_setattr (tree_fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
    {
      /* the clone is still detached: closing it drops it */
      if (fd_api_refused (errno))
        return attach_bind_legacy_from_now (self, "mount_setattr", errno, req, dst_fd, out_id,
                                            out_unique, out_mnt_fd, error);
      return vcm_error_set_errno (error, errno, "cannot set the mount attributes for", dst_path);
    }

  if (move_mount (tree_fd, "", dst_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    {
      if (fd_api_refused (errno))
        return attach_bind_legacy_from_now (self, "move_mount", errno, req, dst_fd, out_id, out_unique,
                                            out_mnt_fd, error);
      return vcm_error_set_errno (error, errno, "cannot attach the mount at", dst_path);
    }

  /* Attached beneath a shared parent, the kernel makes it shared again. */
  memset (&attr, 0, sizeof attr);
  attr.propagation = MS_PRIVATE;
  if (mount_setattr (tree_fd, "", AT_EMPTY_PATH | (req->recursive ? AT_RECURSIVE : 0), &attr,
                     sizeof attr) < 0 ||
      vcm_sys_stat_mount (tree_fd, "", AT_EMPTY_PATH, out_id, NULL, NULL, NULL, NULL) < 0)
    {
      int errsv = errno;
      detach_fd (tree_fd, dst_path, NULL);
      return vcm_error_set_errno (error, errsv, "cannot make private the mount at", dst_path);
    }
  if (out_unique != NULL && vcm_sys_unique_mount_id (tree_fd, out_unique) < 0)
    *out_unique = 0;
  *out_mnt_fd = g_steal_fd (&tree_fd);
  return TRUE;
}

/* Attaches the detached, configured mount @tree_fd (a dup is moved) onto
 * @dst_fd, then gives it (and what came with it) @propagation again: beneath
 * a shared parent the kernel makes it shared. */
static gboolean
attach_tree (int tree_fd,
             int dst_fd,
             const char *dst_path,
             unsigned long propagation,
             guint64 *out_id,
             guint64 *out_unique,
             int *out_mnt_fd,
             GError **error)
{
  vcm_autofd int fd = fcntl (tree_fd, F_DUPFD_CLOEXEC, 3);
  struct mount_attr attr = { .propagation = propagation };

  if (fd < 0)
    return vcm_error_set_errno (error, errno, "cannot hold the mount for", dst_path);
  if (move_mount (fd, "", dst_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return vcm_error_set_errno (error, errno, "cannot attach the mount at", dst_path);
  if (mount_setattr (fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0 ||
      vcm_sys_stat_mount (fd, "", AT_EMPTY_PATH, out_id, NULL, NULL, NULL, NULL) < 0)
    {
      int errsv = errno;
      detach_fd (fd, dst_path, NULL);
      return vcm_error_set_errno (error, errsv, "cannot set the propagation of the mount at", dst_path);
    }
  if (out_unique != NULL && vcm_sys_unique_mount_id (fd, out_unique) < 0)
    *out_unique = 0;
  *out_mnt_fd = g_steal_fd (&fd);
  return TRUE;
}

/* Checks that @fd is the root of a mount; returns its mount ID. */
static gboolean
fd_is_mount_root (int fd, guint64 *out_id, GError **error)
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
      guint64 batch[64];
      guint64 last = 0;
      gssize n;

      do
        {
          n = vcm_sys_listmount (g_array_index (ids, guint64, i), last, batch, G_N_ELEMENTS (batch));
          if (n < 0)
            return NULL;
          for (gssize j = 0; j < n; j++)
            if (!g_hash_table_contains (seen, &batch[j]))
              {
                g_array_append_val (ids, batch[j]);
                g_hash_table_add (seen, g_memdup2 (&batch[j], sizeof (guint64)));
              }
          if (n > 0)
            last = batch[n - 1];
        }
      while (n == G_N_ELEMENTS (batch));
    }
  return g_steal_pointer (&ids);
}

/* The mount points of the mount pinned by @fd and of the mounts below it,
 * with listmount()/statmount(): the cost follows the number of submounts, not
 * the size of the host's mount table. FALSE when the kernel lacks them. */
static gboolean
detached_by_listmount (VcmMounter *self, const VcmMountRequest *req, int fd, GStrvBuilder *builder)
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
      g_autofree char *point = vcm_sys_statmount_point (g_array_index (ids, guint64, i), &errsv);

      if (point != NULL)
        g_strv_builder_add (builder, point);
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

static GStrv
detached_list (GStrv targets)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  gsize bytes = 0;

  for (guint i = 0; targets[i] != NULL; i++)
    {
      g_autofree char *valid = g_utf8_make_valid (targets[i], -1);

      bytes += strlen (valid) + 5; /* a string's length, its NUL, alignment */
      if (bytes > MAX_DETACHED_BYTES)
        {
          g_strv_builder_add (builder, "");
          break;
        }
      g_strv_builder_add (builder, valid);
    }
  g_strfreev (targets);
  return g_strv_builder_end (builder);
}

/* The targets detached with the mount @id pinned by @fd: itself, then its
 * descendants. */
static GStrv
detached_targets (VcmMounter *self, const VcmMountRequest *req, int fd, guint64 id)
{
  const char *fallback_target = req->mount_point;
  g_autoptr (VcmMountTable) table = NULL;
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  const VcmMountEntry *top;
  g_autoptr (GPtrArray) below = NULL;
  GStrv known = NULL;

  if (detached_by_listmount (self, req, fd, builder))
    return detached_list (g_strv_builder_end (builder));
  if (self->targets != NULL && !req->off_main_loop &&
      (known = self->targets (self->targets_data, id)) != NULL)
    return detached_list (known);

  g_clear_pointer (&builder, g_strv_builder_unref);
  builder = g_strv_builder_new ();
  top = lookup_mount_id (self, req, id, &table);
  g_strv_builder_add (builder, top ? top->target : fallback_target);
  if (table == NULL)
    return detached_list (g_strv_builder_end (builder)); /* no table to name the submounts from */
  below = vcm_mount_table_get_descendants (table, id);
  for (guint i = 0; i < below->len; i++)
    g_strv_builder_add (builder, ((const VcmMountEntry *) below->pdata[i])->target);
  return detached_list (g_strv_builder_end (builder));
}

/* The mountinfo IDs of the mounts below the mount @unique_id; NULL if the
 * kernel cannot say. */
static GHashTable *
submount_ids_live (guint64 unique_id)
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
  if (!fd_is_mount_root (fd, &id, NULL))
    return TRUE;
  if (vcm_sys_unique_mount_id (fd, &unique) < 0 || !vcm_sys_statmount (unique, &m, &errsv))
    return FALSE;
  rootfs = vcm_rootfs_record_new (sandbox_id, container_id, m.mnt_point, id, m.read_only);
  rootfs->unique_id = unique;
  vcm_sys_mount_clear (&m);
  *out_submounts = submount_ids_live (unique);
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
  req->mount_point = g_build_filename (self->shared_dir, relpath, NULL);
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
 * never the service's own staging dir). */
static char *
relative_beneath_shared (VcmMounter *self, const char *arg_name, const char *path, GError **error)
{
  g_autofree char *norm = NULL;
  const char *rel;

  if (!vcm_validate_absolute_path (arg_name, path, error))
    return NULL;
  norm = vcm_path_normalize (path);
  rel = vcm_path_relative_to (norm, self->shared_dir);
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
  return g_strdup (rel);
}

/* The source of a mount, opened as the caller (who must be able to read it). */
static gboolean
request_open_source (
  VcmMountRequest *req, const char *arg_name, const char *path, gboolean must_be_dir, GError **error)
{
  if (!vcm_validate_absolute_path (arg_name, path, error))
    return FALSE;
  req->source_fd =
    vcm_open_source_as (arg_name, path, req->creds, &req->source, &req->source_is_dir, error);
  if (req->source_fd < 0)
    return FALSE;
  vcm_mount_policy_defaults (req);
  if (must_be_dir && !req->source_is_dir)
    {
      g_autofree char *quoted = vcm_validate_quote (path);
      g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT, "%s: '%s' is not a directory", arg_name,
                   quoted);
      return FALSE;
    }
  return TRUE;
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
  VcmMountRequest *req;
  g_autofree char *rel = NULL;

  if (!vcm_validate_id ("sandbox_id", sandbox_id, error) ||
      !vcm_validate_id ("container_id", container_id, error) ||
      !vcm_validate_absolute_path ("rootfs", rootfs, error))
    return NULL;
  rel = vcm_rootfs_relpath (sandbox_id, container_id);
  req = request_new (self, VCM_MOUNT_OP_MOUNT_ROOTFS, rel, creds);
  req->read_only = read_only;
  if (!request_open_source (req, "rootfs", rootfs, TRUE, error) || !vcm_mount_policy_check (req, error))
    {
      vcm_mount_request_free (req);
      return NULL;
    }
  return req;
}

VcmMountRequest *
vcm_mounter_prepare_unmount_rootfs (VcmMounter *self,
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
  return request_new (self, VCM_MOUNT_OP_UNMOUNT_ROOTFS, rel, creds);
}

VcmMountRequest *
vcm_mounter_prepare_bind (VcmMounter *self,
                          const char *source,
                          const char *destination,
                          gboolean read_only,
                          const VcmCredentials *creds,
                          GError **error)
{
  VcmMountRequest *req;
  g_autofree char *rel = NULL;

  if (!vcm_validate_absolute_path ("source", source, error))
    return NULL;
  rel = relative_beneath_shared (self, "destination", destination, error);
  if (rel == NULL)
    return NULL;
  req = request_new (self, VCM_MOUNT_OP_BIND, rel, creds);
  req->read_only = read_only;
  if (!request_open_source (req, "source", source, FALSE, error) || !vcm_mount_policy_check (req, error))
    {
      vcm_mount_request_free (req);
      return NULL;
    }
  return req;
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
  g_autofree char *rel = NULL;

  if (sandbox_id != NULL)
    {
      if (!vcm_validate_id ("sandbox_id", sandbox_id, error) ||
          !vcm_validate_id ("container_id", container_id, error))
        return NULL;
      rel = vcm_rootfs_relpath (sandbox_id, container_id);
    }
  else if ((rel = relative_beneath_shared (self, "destination", destination, error)) == NULL)
    return NULL;
  req =
    request_new (self, sandbox_id != NULL ? VCM_MOUNT_OP_MOUNT_ROOTFS : VCM_MOUNT_OP_BIND, rel, creds);
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
  VcmMountRequest *req = request_new (self, VCM_MOUNT_OP_BIND, "", creds);

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

gboolean
vcm_mounter_mount_ids_cached (VcmMounter *self,
                              const char *relpath,
                              guint64 *out_old_id,
                              guint64 *out_unique_id)
{
  g_autofree char *path = g_build_filename (self->shared_dir, relpath, NULL);
  vcm_autofd int fd = vcm_sys_open_cached (path);

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
  g_autofree char *rel = relative_beneath_shared (self, "mount_point", mount_point, error);

  if (rel == NULL)
    return NULL;
  return request_new (self, VCM_MOUNT_OP_UNMOUNT, rel, creds);
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
  detach_fd (mnt_fd, req->mount_point, NULL);
  g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT,
               "%s: the path to '%s' changed while it was being mounted (a component was "
               "renamed or replaced); nothing was mounted",
               arg_name, req->mount_point);
  return FALSE;
}

/* Resolves (making what is missing, as the caller inside mounts) the mount
 * point of @req, checks it, attaches the source, and checks the result. */
/* Whether the shared dir's path still leads to the directory opened at
 * start, on the same mount. A mount made since on the shared dir or on a
 * directory above it covers it: the service would still mount beneath the
 * directory it holds open, but the path it hands out (and every client
 * uses) would lead into that mount instead. New mounts are refused while
 * it is there (unmounts go on: they only remove what the service made);
 * said once in the log when it begins and when it ends. */
static gboolean
shared_dir_reachable (VcmMounter *self, GError **error)
{
  vcm_autofd int fd = open (self->shared_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  struct stat now, opened;
  guint64 now_id = 0, opened_id = 0;
  gboolean ok;

  ok = fd >= 0 && fstat (fd, &now) == 0 && fstat (self->shared_fd, &opened) == 0 &&
    now.st_dev == opened.st_dev && now.st_ino == opened.st_ino &&
    vcm_sys_stat_mount (fd, "", AT_EMPTY_PATH, &now_id, NULL, NULL, NULL, NULL) == 0 &&
    vcm_sys_stat_mount (self->shared_fd, "", AT_EMPTY_PATH, &opened_id, NULL, NULL, NULL, NULL) == 0 &&
    now_id == opened_id;
  /* runs are in worker threads: the flag only decides what is logged */
  if (g_atomic_int_compare_and_exchange (&self->shared_dir_covered, ok, !ok))
    {
      if (ok)
        g_message ("The shared dir %s leads to the directory opened at start again: "
                   "mounting again",
                   self->shared_dir);
      else
        g_warning ("The shared dir %s no longer leads to the directory opened at start: "
                   "a mount made since covers it (on it or on a directory above it). "
                   "MountRootfs and BindMount are refused until that mount is gone or the "
                   "service is restarted",
                   self->shared_dir);
    }
  if (!ok)
    g_set_error (error, VCM_ERROR, VCM_ERROR_FAILED,
                 "the shared dir %s is covered by a mount made after the service started "
                 "(on it or on a directory above it): a mount made now could not be reached "
                 "by its path; remove that mount or restart the service",
                 self->shared_dir);
  return ok;
}

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

static gboolean
run_attach (VcmMounter *self,
            const VcmMountRequest *req,
            const char *arg_name,
            gboolean rootfs,
            guint64 *out_id,
            guint64 *out_unique,
            GError **error)
{
  g_autoptr (VcmCreated) created = vcm_created_new ();
  g_autoptr (GError) local_error = NULL;
  vcm_autofd int dst_fd = -1;
  vcm_autofd int mnt_fd = -1;
  struct stat st;

  g_return_val_if_fail (req->source_fd >= 0 || req->tree_fd >= 0, FALSE);
  if (!shared_dir_reachable (self, error))
    return FALSE;
  dst_fd = vcm_fdpath_resolve (self->shared_fd, self->shared_dir, req->relpath,
                               VCM_RESOLVE_CREATE | (req->source_is_dir ? 0 : VCM_RESOLVE_LEAF_FILE),
                               arg_name, req->creds, created, NULL, error);
  if (dst_fd < 0)
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
  if (rootfs && fd_is_mount_root (dst_fd, NULL, &local_error))
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
  if (req->tree_fd >= 0 ? !attach_tree (req->tree_fd, dst_fd, req->mount_point, req->propagation, out_id,
                                        out_unique, &mnt_fd, error)
                        : !attach_bind (self, req, dst_fd, out_id, out_unique, &mnt_fd, error))
    goto fail;
  if (!verify_attached (self, req, mnt_fd, arg_name, error))
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
  guint64 id = 0, unique = 0;
  VcmRootfsRecord *r;

  g_return_val_if_fail (req->op == VCM_MOUNT_OP_MOUNT_ROOTFS, NULL);
  if (!run_attach (self, req, "sandbox_id/container_id", TRUE, &id, &unique, error))
    return NULL;
  r = vcm_rootfs_record_new (req->sandbox_id, req->container_id, req->mount_point, id, req->read_only);
  r->unique_id = unique;
  return r;
}

VcmRootfsRecord *
vcm_mounter_mount_rootfs (VcmMounter *self,
                          const char *sandbox_id,
                          const char *container_id,
                          const char *rootfs,
                          gboolean read_only,
                          const VcmCredentials *creds,
                          GError **error)
{
  g_autoptr (VcmMountRequest) req =
    vcm_mounter_prepare_mount_rootfs (self, sandbox_id, container_id, rootfs, read_only, creds, error);

  return req != NULL ? vcm_mounter_run_mount_rootfs (self, req, error) : NULL;
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
  if (fd >= 0 && !fd_is_mount_root (fd, out_id, &local_error) && local_error == NULL)
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

GStrv
vcm_mounter_run_unmount_rootfs (VcmMounter *self, const VcmMountRequest *req, GError **error)
{
  g_auto (GStrv) detached = NULL;
  vcm_autofd int fd = -1;
  vcm_autofd int cid_fd = -1;
  vcm_autofd int sbx_fd = -1;
  guint64 id = 0;

  g_return_val_if_fail (req->op == VCM_MOUNT_OP_UNMOUNT_ROOTFS, NULL);
  fd = open_mount_point (self, req->relpath, "sandbox_id/container_id", req->mount_point, req->creds,
                         &id, &cid_fd, error);
  if (fd < 0)
    return NULL;

  detached = detached_targets (self, req, fd, id);
  if (!detach_fd (fd, req->mount_point, error))
    return NULL;
  vcm_clear_fd (&fd);

  /* The layout beneath the shared dir is the service's: remove what is empty. */
  vcm_fdpath_rmdir_if_empty (cid_fd, VCM_ROOTFS_DIR);
  sbx_fd = vcm_fdpath_resolve (self->shared_fd, self->shared_dir, req->sandbox_id, VCM_RESOLVE_EXISTING,
                               "sandbox_id", NULL, NULL, NULL, NULL);
  if (sbx_fd >= 0)
    {
      vcm_fdpath_rmdir_if_empty (sbx_fd, req->container_id);
      vcm_fdpath_rmdir_if_empty (self->shared_fd, req->sandbox_id);
    }
  return g_steal_pointer (&detached);
}

GStrv
vcm_mounter_unmount_rootfs (VcmMounter *self,
                            const char *sandbox_id,
                            const char *container_id,
                            GError **error)
{
  VcmMountRequest *req =
    vcm_mounter_prepare_unmount_rootfs (self, sandbox_id, container_id, NULL, error);
  GStrv detached;

  if (req == NULL)
    return NULL;
  detached = vcm_mounter_run_unmount_rootfs (self, req, error);
  vcm_mount_request_free (req);
  return detached;
}

/* ---- BindMount / Unmount --------------------------------------------------- */

char *
vcm_mounter_run_bind (VcmMounter *self, const VcmMountRequest *req, GError **error)
{
  g_return_val_if_fail (req->op == VCM_MOUNT_OP_BIND, NULL);
  if (!run_attach (self, req, "destination", FALSE, NULL, NULL, error))
    return NULL;
  return g_strdup (req->mount_point);
}

char *
vcm_mounter_bind_mount (VcmMounter *self,
                        const char *source,
                        const char *destination,
                        gboolean read_only,
                        const VcmCredentials *creds,
                        GError **error)
{
  g_autoptr (VcmMountRequest) req =
    vcm_mounter_prepare_bind (self, source, destination, read_only, creds, error);

  return req != NULL ? vcm_mounter_run_bind (self, req, error) : NULL;
}

/* After an unmount at @relpath: what it leaves empty of the layout on the
 * shared dir's own mount (directories, and an empty file of root's that was
 * a mount point) goes, from the mount point up to the shared dir (kept), so
 * that a caller's binds and unmounts leave nothing behind. Anything that is
 * not empty, is mounted on, or lies in another mount stays. */
static void
close_fd_at (gpointer data)
{
  vcm_clear_fd (data);
}

static void
remove_emptied_layout (VcmMounter *self, const char *relpath)
{
  g_auto (GStrv) parts = g_strsplit (relpath, "/", -1);
  guint n = g_strv_length (parts);
  g_autoptr (GArray) dirs = g_array_new (FALSE, FALSE, sizeof (int));
  guint64 root_id = 0, id = 0;
  int fd;

  g_array_set_clear_func (dirs, close_fd_at);
  if (vcm_sys_stat_mount (self->shared_fd, "", AT_EMPTY_PATH, &root_id, NULL, NULL, NULL, NULL) < 0)
    return;
  fd = fcntl (self->shared_fd, F_DUPFD_CLOEXEC, 3);
  if (fd < 0)
    return;
  g_array_append_val (dirs, fd);
  for (guint i = 0; i + 1 < n; i++) /* parts[i] lives in dirs[i] */
    {
      fd =
        openat (g_array_index (dirs, int, i), parts[i], O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0)
        return;
      g_array_append_val (dirs, fd);
    }
  for (guint k = n; k > 0; k--)
    {
      int parent = g_array_index (dirs, int, k - 1);
      const char *name = parts[k - 1];
      struct stat st;

      if (vcm_sys_stat_mount (parent, "", AT_EMPTY_PATH, &id, NULL, NULL, NULL, NULL) < 0 ||
          id != root_id || fstatat (parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return;
      if (S_ISDIR (st.st_mode))
        {
          if (unlinkat (parent, name, AT_REMOVEDIR) < 0)
            return;
        }
      else if (k == n && S_ISREG (st.st_mode) && st.st_size == 0 && st.st_uid == 0)
        {
          if (unlinkat (parent, name, 0) < 0)
            return;
        }
      else
        return;
    }
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
      if (clone_fd < 0 && !fd_api_refused (errno))
        return vcm_error_set_errno (error, errno, "cannot look beneath the mount at", leaf);
    }
  if (clone_fd >= 0)
    {
      empty = leaf_is_empty (clone_fd, leaf);
      errsv = errno;
    }
  else
    {
      if (!ensure_staging (self, error))
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
      drop_staging (self);
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
  const VcmMountEntry *entry = lookup_mount_id (self, req, id, &table);

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
vcm_mounter_run_unmount (VcmMounter *self, const VcmMountRequest *req, GError **error)
{
  g_auto (GStrv) detached = NULL;
  vcm_autofd int fd = -1;
  vcm_autofd int parent_fd = -1;
  guint64 id = 0;

  g_return_val_if_fail (req->op == VCM_MOUNT_OP_UNMOUNT, NULL);
  fd = open_mount_point (self, req->relpath, "mount_point", req->mount_point, req->creds, &id,
                         &parent_fd, error);
  if (fd < 0)
    return NULL;
  if (!vcm_credentials_is_root (req->creds) && !check_uncovers_nothing (self, req, id, parent_fd, error))
    return NULL;
  detached = detached_targets (self, req, fd, id);
  if (!detach_fd (fd, req->mount_point, error))
    return NULL;
  vcm_clear_fd (&fd);
  remove_emptied_layout (self, req->relpath);
  return g_steal_pointer (&detached);
}

GStrv
vcm_mounter_unmount (VcmMounter *self, const char *mount_point, GError **error)
{
  VcmMountRequest *req = vcm_mounter_prepare_unmount (self, mount_point, NULL, error);
  GStrv detached;

  if (req == NULL)
    return NULL;
  detached = vcm_mounter_run_unmount (self, req, error);
  vcm_mount_request_free (req);
  return detached;
}
