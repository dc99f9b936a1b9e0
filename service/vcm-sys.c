/* vcm-sys: syscall wrappers the C library of the target distribution lacks
 * (openat2) and the statx mount-ID query used by every path operation. */
#include "config.h"

#include <errno.h>
#include <unistd.h>
#include <sys/stat.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>

#include "vcm-sys.h"

#include <linux/openat2.h>
#ifndef RESOLVE_CACHED
#define RESOLVE_CACHED 0x20
#endif

int
vcm_sys_openat2 (int dirfd, const char *path, guint64 flags, guint64 mode, guint64 resolve)
{
  struct open_how how = { .flags = flags, .mode = mode, .resolve = resolve };

  return (int) syscall (SYS_openat2, dirfd, path, &how, sizeof how);
}

int
vcm_sys_open_cached (const char *path)
{
  int fd = -1;

  /* A cached walk also gives up when a mount or rename elsewhere raced with
   * it (the RCU walk cannot be made to stick): a few more tries tell that
   * apart from a path the caches do not know. */
  for (guint tries = 0; tries < 8; tries++)
    {
      fd = vcm_sys_openat2 (AT_FDCWD, path, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0,
                            RESOLVE_CACHED | RESOLVE_NO_MAGICLINKS);
      if (fd >= 0 || errno != EAGAIN)
        break;
    }

  /* ENOSYS, EPERM: no openat2 (or a filter refuses it); EINVAL: a kernel
   * before 5.12 without RESOLVE_CACHED. There the plain walk it is, which
   * may wait for a filesystem (said in the README). */
  if (fd < 0 && (errno == ENOSYS || errno == EPERM || errno == EINVAL))
    return open (path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  return fd;
}

int
vcm_sys_stat_mount (int dirfd,
                    const char *path,
                    int flags,
                    guint64 *out_mnt_id,
                    guint *out_major,
                    guint *out_minor,
                    gboolean *out_mount_root,
                    mode_t *out_mode)
{
  struct statx stx = { 0 };

  /* Nothing asked for here is the filesystem's to refresh (the mount ID and
   * whether it is a mount's root are the VFS's, the type never changes):
   * AT_STATX_DONT_SYNC keeps a FUSE or network filesystem from being asked,
   * so that one that never answers cannot hold the caller up. */
  if (statx (dirfd, path, flags | AT_STATX_DONT_SYNC, STATX_MNT_ID | STATX_TYPE, &stx) < 0)
    return -1;
  if (!(stx.stx_mask & STATX_MNT_ID))
    {
      errno = ENOSYS;
      return -1;
    }
  if (out_mnt_id)
    *out_mnt_id = stx.stx_mnt_id;
  if (out_major)
    *out_major = stx.stx_dev_major;
  if (out_minor)
    *out_minor = stx.stx_dev_minor;
  if (out_mount_root)
    *out_mount_root =
      (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) && (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
  if (out_mode)
    *out_mode = stx.stx_mode;
  return 0;
}

#ifndef STATX_MNT_ID_UNIQUE
#define STATX_MNT_ID_UNIQUE 0x00004000U
#endif
#ifndef __NR_statmount
#define __NR_statmount 457
#endif
#ifndef __NR_listmount
#define __NR_listmount 458
#endif
#define VCM_STATMOUNT_MNT_POINT 0x00000010U

/* The kernel's struct mnt_id_req, version 0 (24 bytes). */
struct vcm_mnt_id_req {
  guint32 size;
  guint32 spare;
  guint64 mnt_id;
  guint64 param;
};

#define VCM_STATMOUNT_SB_BASIC   0x00000001U
#define VCM_STATMOUNT_MNT_BASIC  0x00000002U
#define VCM_STATMOUNT_MNT_ROOT   0x00000008U
#define VCM_STATMOUNT_FS_TYPE    0x00000020U
#define VCM_STATMOUNT_MNT_OPTS   0x00000080U
#define VCM_STATMOUNT_FS_SUBTYPE 0x00000100U
#define VCM_STATMOUNT_SB_SOURCE  0x00000200U

/* The kernel's struct statmount, up to the string offsets used here. */
struct vcm_statmount {
  guint32 size;
  guint32 mnt_opts;
  guint64 mask;
  guint32 sb_dev_major;
  guint32 sb_dev_minor;
  guint64 sb_magic;
  guint32 sb_flags;
  guint32 fs_type;
  guint64 mnt_id;
  guint64 mnt_parent_id;
  guint32 mnt_id_old;
  guint32 mnt_parent_id_old;
  guint64 mnt_attr;
  guint64 mnt_propagation;
  guint64 mnt_peer_group;
  guint64 mnt_master;
  guint64 propagate_from;
  guint32 mnt_root;
  guint32 mnt_point;
  guint64 mnt_ns_id;
  guint32 fs_subtype;
  guint32 sb_source;
  guint64 spare2[48];
  char str[];
};

G_STATIC_ASSERT (sizeof (struct vcm_statmount) == 512); /* the kernel's, fixed since 6.8 */

int
vcm_sys_unique_mount_id (int fd, guint64 *out_id)
{
  struct statx stx = { 0 };

  if (statx (fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_MNT_ID_UNIQUE, &stx) < 0)
    return -1;
  if (!(stx.stx_mask & STATX_MNT_ID_UNIQUE))
    {
      errno = ENOSYS;
      return -1;
    }
  *out_id = stx.stx_mnt_id;
  return 0;
}

gboolean
vcm_sys_mount_ids_match (const VcmSysMountIds *a, const VcmSysMountIds *b)
{
  if (a->unique_id != 0 && b->unique_id != 0)
    return a->unique_id == b->unique_id;
  if (a->old_id != 0 && b->old_id != 0)
    return a->old_id == b->old_id;
  return TRUE;
}

/* The one clone vcm_sys_clone_mount_cached() keeps, and which mount it is of. */
static GMutex clone_lock;
static int clone_fd = -1;
static guint64 clone_of[4]; /* mount ID, device and inode of its root, the mount's attributes */

/* The attributes of the mount @mount_fd is on that a clone takes with it
 * (MOUNT_ATTR_RDONLY above all): statmount(2) of its unique ID @unique, or
 * where the kernel (or a filter) refuses that, the flags statvfs(2)
 * reports of it. FALSE with errno when the mount is gone from this
 * namespace (detached) or cannot be asked. */
static gboolean
mount_attributes (int mount_fd, guint64 unique, guint64 *out_attr)
{
  VcmSysMountBrief brief;
  struct statvfs sv;
  int errsv = ENOSYS;

  if (unique != 0 && vcm_sys_statmount_brief (unique, &brief, NULL, &errsv))
    {
      *out_attr = brief.mnt_attr;
      return TRUE;
    }
  if (errsv == ENOENT) /* no longer a mount of this namespace */
    {
      errno = errsv;
      return FALSE;
    }
  if (fstatvfs (mount_fd, &sv) < 0)
    return FALSE;
  *out_attr = sv.f_flag;
  return TRUE;
}

int
vcm_sys_clone_mount_cached (int mount_fd)
{
  struct statx stx = { 0 };
  guint64 key[4], unique = 0;
  int fd, stale = -1;

  if (statx (mount_fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_INO | STATX_MNT_ID, &stx) < 0)
    return -1;
  if (!(stx.stx_mask & STATX_MNT_ID)) /* nothing to tell mounts apart by: a clone each time */
    return open_tree (mount_fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
  key[0] = vcm_sys_unique_mount_id (mount_fd, &unique) == 0 ? unique : stx.stx_mnt_id;
  key[1] = makedev (stx.stx_dev_major, stx.stx_dev_minor);
  key[2] = stx.stx_ino;
  /* A clone keeps the attributes its mount had when it was made: after a
   * remount (read-only, say) the kept one would let writes through into a
   * tree the administrator closed. So the attributes are part of the key,
   * and a mount no longer in this namespace gets no clone at all. */
  if (!mount_attributes (mount_fd, unique, &key[3]))
    {
      int errsv = errno;

      g_mutex_lock (&clone_lock);
      stale = clone_fd;
      clone_fd = -1;
      g_mutex_unlock (&clone_lock);
      if (stale >= 0)
        close (stale);
      errno = errsv;
      return -1;
    }
  g_mutex_lock (&clone_lock);
  if (clone_fd < 0 || memcmp (key, clone_of, sizeof key) != 0)
    {
      fd = open_tree (mount_fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
      if (fd < 0)
        {
          int errsv = errno;

          g_mutex_unlock (&clone_lock);
          errno = errsv;
          return -1;
        }
      stale = clone_fd;
      clone_fd = fd;
      memcpy (clone_of, key, sizeof key);
    }
  fd = fcntl (clone_fd, F_DUPFD_CLOEXEC, 3);
  g_mutex_unlock (&clone_lock);
  if (stale >= 0)
    close (stale);
  return fd;
}

gssize
vcm_sys_listmount (guint64 parent_id, guint64 last_id, guint64 *ids, gsize n)
{
  struct vcm_mnt_id_req req = { .size = sizeof req, .mnt_id = parent_id, .param = last_id };

  return syscall (__NR_listmount, &req, ids, n, 0);
}

GArray *
vcm_sys_listmount_all (guint64 parent_id)
{
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (guint64));
  guint64 batch[64];
  guint64 last = 0;
  gssize n;

  do
    {
      n = vcm_sys_listmount (parent_id, last, batch, G_N_ELEMENTS (batch));
      if (n < 0)
        {
          int errsv = errno;

          g_array_unref (ids);
          errno = errsv;
          return NULL;
        }
      g_array_append_vals (ids, batch, (guint) n);
      if (n > 0)
        last = batch[n - 1];
    }
  while (n == G_N_ELEMENTS (batch));
  return ids;
}

/* statmount(2) into a buffer large enough for the strings; NULL with errno. */
static struct vcm_statmount *
statmount_alloc (guint64 id, guint64 mask)
{
  struct vcm_mnt_id_req req = { .size = sizeof req, .mnt_id = id, .param = mask };
  gsize size = sizeof (struct vcm_statmount) + 512;

  for (int tries = 0; tries < 8; tries++, size *= 4)
    {
      struct vcm_statmount *sm = g_malloc0 (size);

      if (syscall (__NR_statmount, &req, sm, size, 0) == 0)
        return sm;
      g_free (sm);
      if (errno != EOVERFLOW)
        return NULL;
    }
  errno = EOVERFLOW;
  return NULL;
}

char *
vcm_sys_statmount_point (guint64 id, int *out_errno)
{
  g_autofree struct vcm_statmount *sm = statmount_alloc (id, VCM_STATMOUNT_MNT_POINT);

  if (sm == NULL || !(sm->mask & VCM_STATMOUNT_MNT_POINT))
    {
      *out_errno = sm == NULL ? errno : ENOSYS;
      return NULL;
    }
  return g_strdup (sm->str + sm->mnt_point);
}

static const char *
propagation_name (guint64 flags)
{
  if (flags & MS_SHARED)
    return "shared";
  if (flags & MS_SLAVE)
    return "slave";
  if (flags & MS_UNBINDABLE)
    return "unbindable";
  return "private";
}

gboolean
vcm_sys_statmount (guint64 id, VcmSysMount *out, int *out_errno)
{
  const guint64 basic = VCM_STATMOUNT_MNT_BASIC | VCM_STATMOUNT_MNT_POINT | VCM_STATMOUNT_FS_TYPE;
  g_autofree struct vcm_statmount *sm = statmount_alloc (id, basic | VCM_STATMOUNT_SB_SOURCE);

  if (sm == NULL && errno == EINVAL) /* a kernel that predates sb_source */
    sm = statmount_alloc (id, basic);
  if (sm == NULL || (sm->mask & basic) != basic)
    {
      *out_errno = sm == NULL ? errno : ENOSYS;
      return FALSE;
    }
  memset (out, 0, sizeof *out);
  out->mnt_id_old = sm->mnt_id_old;
  out->mnt_point = g_strdup (sm->str + sm->mnt_point);
  out->fs_type = g_strdup (sm->str + sm->fs_type);
  if (sm->mask & VCM_STATMOUNT_SB_SOURCE)
    out->sb_source = g_strdup (sm->str + sm->sb_source);
  out->read_only = (sm->mnt_attr & MOUNT_ATTR_RDONLY) != 0;
  out->propagation = propagation_name (sm->mnt_propagation);
  return TRUE;
}

gboolean
vcm_sys_statmount_brief (guint64 id, VcmSysMountBrief *out, char **out_point, int *out_errno)
{
  guint64 mask = VCM_STATMOUNT_MNT_BASIC | (out_point != NULL ? VCM_STATMOUNT_MNT_POINT : 0);
  struct vcm_mnt_id_req req = { .size = sizeof req, .mnt_id = id, .param = mask };
  /* called per mount event: on the stack, not zeroed (the kernel writes the
   * whole struct), the heap only for a mount point too long for it */
  union {
    struct vcm_statmount sm;
    char bytes[sizeof (struct vcm_statmount) + 1024];
  } buf;
  g_autofree struct vcm_statmount *large = NULL;
  struct vcm_statmount *sm = &buf.sm;

  if (syscall (__NR_statmount, &req, sm, sizeof buf, 0) != 0)
    {
      if (errno != EOVERFLOW)
        {
          *out_errno = errno;
          return FALSE;
        }
      large = statmount_alloc (id, mask);
      sm = large;
    }
  if (sm == NULL || (sm->mask & mask) != mask)
    {
      *out_errno = sm == NULL ? errno : ENOSYS;
      return FALSE;
    }
  out->parent_id = sm->mnt_parent_id;
  out->mnt_id_old = sm->mnt_id_old;
  out->read_only = (sm->mnt_attr & MOUNT_ATTR_RDONLY) != 0;
  out->mnt_attr = sm->mnt_attr;
  if (out_point != NULL)
    *out_point = g_strdup (sm->str + sm->mnt_point);
  return TRUE;
}

gboolean
vcm_sys_statmount_full (guint64 id, VcmSysMountFull *out, int *out_errno)
{
  const guint64 need = VCM_STATMOUNT_SB_BASIC | VCM_STATMOUNT_MNT_BASIC | VCM_STATMOUNT_MNT_ROOT |
    VCM_STATMOUNT_MNT_POINT | VCM_STATMOUNT_FS_TYPE | VCM_STATMOUNT_SB_SOURCE;
  g_autofree struct vcm_statmount *sm =
    statmount_alloc (id, need | VCM_STATMOUNT_MNT_OPTS | VCM_STATMOUNT_FS_SUBTYPE);

  if (sm == NULL && errno == EINVAL) /* a kernel without fs_subtype or sb_source */
    sm = statmount_alloc (id, need | VCM_STATMOUNT_MNT_OPTS);
  if (sm == NULL || (sm->mask & need) != need)
    {
      *out_errno = sm == NULL ? errno : ENOSYS;
      return FALSE;
    }
  memset (out, 0, sizeof *out);
  out->mnt_id_old = sm->mnt_id_old;
  out->parent_id_old = sm->mnt_parent_id_old;
  out->dev_major = sm->sb_dev_major;
  out->dev_minor = sm->sb_dev_minor;
  out->sb_flags = sm->sb_flags;
  out->mnt_attr = sm->mnt_attr;
  out->propagation = propagation_name (sm->mnt_propagation);
  out->root = g_strdup (sm->str + sm->mnt_root);
  out->point = g_strdup (sm->str + sm->mnt_point);
  if ((sm->mask & VCM_STATMOUNT_FS_SUBTYPE) && sm->str[sm->fs_subtype] != '\0')
    out->fs_type = g_strconcat (sm->str + sm->fs_type, ".", sm->str + sm->fs_subtype, NULL);
  else
    out->fs_type = g_strdup (sm->str + sm->fs_type);
  out->sb_source = g_strdup (sm->str + sm->sb_source);
  out->mnt_opts = g_strdup ((sm->mask & VCM_STATMOUNT_MNT_OPTS) ? sm->str + sm->mnt_opts : "");
  return TRUE;
}

void
vcm_sys_mount_full_clear (VcmSysMountFull *mount)
{
  g_clear_pointer (&mount->root, g_free);
  g_clear_pointer (&mount->point, g_free);
  g_clear_pointer (&mount->fs_type, g_free);
  g_clear_pointer (&mount->sb_source, g_free);
  g_clear_pointer (&mount->mnt_opts, g_free);
}

void
vcm_sys_mount_clear (VcmSysMount *mount)
{
  g_clear_pointer (&mount->mnt_point, g_free);
  g_clear_pointer (&mount->fs_type, g_free);
  g_clear_pointer (&mount->sb_source, g_free);
}

int
vcm_sys_fs_magic (int fd, guint64 *out_magic)
{
  struct vcm_mnt_id_req req = { .size = sizeof req, .param = VCM_STATMOUNT_SB_BASIC };
  struct vcm_statmount sm;
  struct statfs sfs;

  if (vcm_sys_unique_mount_id (fd, &req.mnt_id) == 0 &&
      syscall (__NR_statmount, &req, &sm, sizeof sm, 0) == 0 && (sm.mask & VCM_STATMOUNT_SB_BASIC))
    {
      *out_magic = sm.sb_magic;
      return 0;
    }
  if (fstatfs (fd, &sfs) < 0)
    return -1;
  *out_magic = (guint64) sfs.f_type;
  return 0;
}
