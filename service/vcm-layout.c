/* vcm-layout: the layout SHARED/SANDBOX/CONTAINER/rootfs as the rootfs
 * methods' own: where general binds and unmounts may act, and the marks on
 * what the service made, so that it removes only that. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "vcm-error.h"
#include "vcm-fd.h"
#include "vcm-layout.h"
#include "vcm-rootfs.h"
#include "vcm-sys.h"
#include "vcm-validate.h"

#define MADE_VALUE "1"

VcmLayoutPlace
vcm_layout_place (const char *relpath)
{
  g_auto (GStrv) parts = g_strsplit (relpath, "/", 4);
  guint n = g_strv_length (parts);

  if (n == 0 || !vcm_validate_id ("sandbox_id", parts[0], NULL))
    return VCM_LAYOUT_FREE;
  if (n == 1)
    return VCM_LAYOUT_SANDBOX_DIR;
  if (!vcm_validate_id ("container_id", parts[1], NULL))
    return VCM_LAYOUT_FREE;
  if (n == 2)
    return VCM_LAYOUT_CONTAINER_DIR;
  if (!g_str_equal (parts[2], VCM_ROOTFS_DIR))
    return VCM_LAYOUT_FREE;
  return n == 3 ? VCM_LAYOUT_ROOTFS : VCM_LAYOUT_IN_ROOTFS;
}

gboolean
vcm_layout_check_general (const char *relpath,
                          const char *mount_point,
                          gboolean is_root,
                          gboolean unmount,
                          const char *arg_name,
                          gboolean *out_manage_rootfs,
                          GError **error)
{
  g_auto (GStrv) parts = g_strsplit (relpath, "/", 3);
  VcmLayoutPlace place = vcm_layout_place (relpath);
  g_autofree char *quoted = vcm_validate_quote (mount_point);

  *out_manage_rootfs = FALSE;
  switch (place)
    {
    case VCM_LAYOUT_FREE:
      return TRUE;
    case VCM_LAYOUT_IN_ROOTFS:
      /* a mount in a rootfs changes that rootfs: its manager's to allow */
      *out_manage_rootfs = !is_root;
      return TRUE;
    case VCM_LAYOUT_ROOTFS:
      g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT,
                   "%s: '%s' is the mount point of the rootfs of %s/%s, the rootfs methods' alone: "
                   "only %s",
                   arg_name, quoted, parts[0], parts[1],
                   unmount ? "UnmountRootfs and UnmountSandbox unmount there"
                           : "MountRootfs and MountRootfsFd mount there");
      return FALSE;
    case VCM_LAYOUT_SANDBOX_DIR:
    case VCM_LAYOUT_CONTAINER_DIR:
      if (is_root)
        return TRUE; /* while no rootfs lies below: checked when it acts */
      if (place == VCM_LAYOUT_SANDBOX_DIR)
        g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT,
                     "%s: '%s' is the directory of sandbox %s in the rootfs layout "
                     "(SANDBOX/CONTAINER/rootfs beneath the shared dir), the rootfs methods' "
                     "alone: a bind goes into a container's directory, beside its rootfs "
                     "(SANDBOX/CONTAINER/NAME)",
                     arg_name, quoted, parts[0]);
      else
        g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT,
                     "%s: '%s' is the directory of container %s/%s in the rootfs layout "
                     "(SANDBOX/CONTAINER/rootfs beneath the shared dir), the rootfs methods' "
                     "alone: a bind goes into it, beside the rootfs (SANDBOX/CONTAINER/NAME)",
                     arg_name, quoted, parts[0], parts[1]);
      return FALSE;
    default:
      g_assert_not_reached ();
    }
}

void
vcm_layout_mark_made (int dir_fd, const char *name, gboolean is_dir)
{
  vcm_autofd int fd =
    openat (dir_fd, name,
            O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | (is_dir ? O_DIRECTORY : 0));

  if (fd < 0 || fsetxattr (fd, VCM_LAYOUT_MADE_XATTR, MADE_VALUE, strlen (MADE_VALUE), 0) < 0)
    g_debug ("Cannot mark '%s' as the service's (it will not be removed): %s", name, g_strerror (errno));
}

/* Whether the entry at @relpath (@name beneath @parent_fd) carries the
 * service's mark, read from the entry itself, never from a mount on it:
 * through @clone_fd (a clone of the shared dir's mount without its
 * submounts) where the kernel has one, else opened beneath @parent_fd and
 * taken only if it lies on the shared dir's own mount (@root_id). */
static gboolean
is_made (int clone_fd, const char *relpath, int parent_fd, const char *name, guint64 root_id)
{
  const int o_flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
  vcm_autofd int fd = -1;
  char value[sizeof MADE_VALUE];
  guint64 id = 0;
  ssize_t n;

  if (clone_fd >= 0)
    fd =
      vcm_sys_openat2 (clone_fd, relpath, o_flags, 0,
                       RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV);
  if (fd < 0)
    {
      fd = openat (parent_fd, name, o_flags);
      if (fd >= 0 &&
          (vcm_sys_stat_mount (fd, "", AT_EMPTY_PATH, &id, NULL, NULL, NULL, NULL) < 0 || id != root_id))
        return FALSE;
    }
  if (fd < 0)
    return FALSE;
  n = fgetxattr (fd, VCM_LAYOUT_MADE_XATTR, value, sizeof value);
  return n == (ssize_t) strlen (MADE_VALUE) && memcmp (value, MADE_VALUE, n) == 0;
}

static void
close_fd_at (gpointer data)
{
  vcm_clear_fd (data);
}

void
vcm_layout_remove_emptied (int shared_fd, const char *relpath)
{
  g_auto (GStrv) parts = g_strsplit (relpath, "/", -1);
  guint n = g_strv_length (parts);
  g_autoptr (GArray) dirs = g_array_new (FALSE, FALSE, sizeof (int));
  vcm_autofd int clone_fd = -1;
  guint64 root_id = 0, id = 0;
  int fd;

  g_array_set_clear_func (dirs, close_fd_at);
  if (n == 0 || vcm_sys_stat_mount (shared_fd, "", AT_EMPTY_PATH, &root_id, NULL, NULL, NULL, NULL) < 0)
    return;
  fd = fcntl (shared_fd, F_DUPFD_CLOEXEC, 3);
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
  clone_fd = vcm_sys_clone_mount_cached (shared_fd);
  for (guint k = n; k > 0; k--)
    {
      int parent = g_array_index (dirs, int, k - 1);
      const char *name = parts[k - 1];
      g_autofree char *prefix = NULL;
      struct stat st;

      if (vcm_sys_stat_mount (parent, "", AT_EMPTY_PATH, &id, NULL, NULL, NULL, NULL) < 0 ||
          id != root_id || fstatat (parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return;
      if (!S_ISDIR (st.st_mode) &&
          !(k == n && S_ISREG (st.st_mode) && st.st_size == 0 && st.st_uid == 0))
        return;
      {
        char *saved = parts[k]; /* parts[0..k-1]: the entry's path */

        parts[k] = NULL;
        prefix = g_strjoinv ("/", parts);
        parts[k] = saved;
      }
      if (!is_made (clone_fd, prefix, parent, name, root_id))
        return; /* an administrator's (or made before the service marked) */
      if (unlinkat (parent, name, S_ISDIR (st.st_mode) ? AT_REMOVEDIR : 0) < 0)
        return;
    }
}
