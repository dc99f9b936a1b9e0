/* vcm-sys: syscall wrappers the C library of the target distribution lacks
 * (openat2) and the statx mount-ID query used by every path operation. */
#include "config.h"

#include <errno.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "vcm-sys.h"

int
vcm_sys_openat2 (int dirfd, const char *path, guint64 flags, guint64 mode, guint64 resolve)
{
  struct open_how how = { .flags = flags, .mode = mode, .resolve = resolve };

  return (int) syscall (SYS_openat2, dirfd, path, &how, sizeof how);
}

int
vcm_sys_stat_mount (int dirfd, const char *path, int flags,
                    guint64 *out_mnt_id, guint *out_major, guint *out_minor,
                    gboolean *out_mount_root, mode_t *out_mode)
{
  struct statx stx = { 0 };

  if (statx (dirfd, path, flags, STATX_MNT_ID | STATX_TYPE, &stx) < 0)
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
    *out_mount_root = (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
                      (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
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

/* The head of the kernel's struct statmount up to the string offsets we use. */
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
  guint64 spare2[50];
  char    str[];
};

int
vcm_sys_unique_mount_id (int fd, guint64 *out_id)
{
  struct statx stx = { 0 };

  if (statx (fd, "", AT_EMPTY_PATH, STATX_MNT_ID_UNIQUE, &stx) < 0)
    return -1;
  if (!(stx.stx_mask & STATX_MNT_ID_UNIQUE))
    {
      errno = ENOSYS;
      return -1;
    }
  *out_id = stx.stx_mnt_id;
  return 0;
}

gssize
vcm_sys_listmount (guint64 parent_id, guint64 last_id, guint64 *ids, gsize n)
{
  struct vcm_mnt_id_req req = { .size = sizeof req, .mnt_id = parent_id, .param = last_id };

  return syscall (__NR_listmount, &req, ids, n, 0);
}

char *
vcm_sys_statmount_point (guint64 id, int *out_errno)
{
  struct vcm_mnt_id_req req = { .size = sizeof req, .mnt_id = id, .param = VCM_STATMOUNT_MNT_POINT };
  gsize size = sizeof (struct vcm_statmount) + 512;

  for (int tries = 0; tries < 8; tries++, size *= 4)
    {
      g_autofree struct vcm_statmount *sm = g_malloc0 (size);

      if (syscall (__NR_statmount, &req, sm, size, 0) == 0)
        {
          if (!(sm->mask & VCM_STATMOUNT_MNT_POINT))
            break;
          return g_strdup (sm->str + sm->mnt_point);
        }
      if (errno != EOVERFLOW)
        {
          *out_errno = errno;
          return NULL;
        }
    }
  *out_errno = ENOSYS;
  return NULL;
}
