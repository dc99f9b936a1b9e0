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
