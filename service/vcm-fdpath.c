/* vcm-fdpath: resolving (and creating) paths beneath the shared dir by fd,
 * component by component, never following a symlink and never leaving it. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <glib/gstdio.h>
#include <sys/xattr.h>

#include "vcm-error.h"
#include "vcm-fd.h"
#include "vcm-fdpath.h"
#include "vcm-fsgate.h"
#include "vcm-layout.h"
#include "vcm-mount-policy.h"
#include "vcm-idmap.h"
#include "vcm-sys.h"

#define VCM_RESOLVE_RULES (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)

typedef struct {
  int parent_fd;
  char *name;
  gboolean is_dir;
} CreatedEntry;

struct _VcmCreated {
  GArray *entries; /* of CreatedEntry, in creation order */
};

static void
created_entry_clear (gpointer data)
{
  CreatedEntry *e = data;

  vcm_clear_fd (&e->parent_fd);
  g_clear_pointer (&e->name, g_free);
}

VcmCreated *
vcm_created_new (void)
{
  VcmCreated *created = g_new0 (VcmCreated, 1);

  created->entries = g_array_new (FALSE, TRUE, sizeof (CreatedEntry));
  g_array_set_clear_func (created->entries, created_entry_clear);
  return created;
}

void
vcm_created_free (VcmCreated *created)
{
  if (created == NULL)
    return;
  g_array_unref (created->entries);
  g_free (created);
}

void
vcm_created_rollback (VcmCreated *created)
{
  for (guint i = created->entries->len; i > 0; i--)
    {
      CreatedEntry *e = &g_array_index (created->entries, CreatedEntry, i - 1);

      if (unlinkat (e->parent_fd, e->name, e->is_dir ? AT_REMOVEDIR : 0) < 0 && errno != ENOENT)
        g_warning ("Rollback: could not remove %s '%s': %s", e->is_dir ? "directory" : "file", e->name,
                   g_strerror (errno));
    }
  g_array_set_size (created->entries, 0);
}

static void
created_record (VcmCreated *created, int parent_fd, const char *name, gboolean is_dir)
{
  CreatedEntry e = { .parent_fd = fcntl (parent_fd, F_DUPFD_CLOEXEC, 3),
                     .name = g_strdup (name),
                     .is_dir = is_dir };

  if (e.parent_fd < 0)
    g_error ("Out of file descriptors duplicating a directory fd: %s", g_strerror (errno));
  g_array_append_val (created->entries, e);
}

static gboolean
set_resolve_error (
  GError **error, int errsv, const char *arg_name, const char *root_path, const char *done_so_far)
{
  g_autofree char *where = g_build_filename (root_path, done_so_far, NULL);

  if (vcm_fsgate_turned_away ())
    {
      vcm_fsgate_set_error (error, arg_name, where);
      return FALSE;
    }
  switch (errsv)
    {
    case ENOENT:
      g_set_error (error, VCM_ERROR, VCM_ERROR_NOT_FOUND, "%s: '%s' does not exist", arg_name, where);
      break;
    case ELOOP:
      g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT,
                   "%s: '%s' is a symlink; symlinks are not followed beneath the shared dir", arg_name,
                   where);
      break;
    case EXDEV:
      g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT, "%s: '%s' leads out of the shared dir",
                   arg_name, where);
      break;
    case ENOTDIR:
      g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT, "%s: '%s' is not a directory", arg_name,
                   where);
      break;
    case EROFS: /* what it would create lies on a read-only mount */
    case ENOSPC:
    case EDQUOT:
    case EMLINK:
      g_set_error (error, VCM_ERROR, VCM_ERROR_FAILED, "%s: cannot create '%s': %s", arg_name, where,
                   g_strerror (errsv));
      break;
    default:
      g_set_error (error, VCM_ERROR, VCM_ERROR_FAILED, "%s: cannot resolve '%s': %s", arg_name, where,
                   g_strerror (errsv));
      break;
    }
  return FALSE;
}

/* Whether openat2(2) can be used. A kernel before 5.6 lacks it, and a
 * seccomp filter may refuse it: systemd's RestrictSUIDSGID= answers ENOSYS on
 * purpose (it cannot inspect the flags behind the struct), others EPERM.
 * Asked once, with a harmless call. */
static gboolean
openat2_usable (void)
{
  static gsize once = 0;
  static gboolean usable;

  if (g_once_init_enter (&once))
    {
      int fd = vcm_sys_openat2 (AT_FDCWD, "/", O_PATH | O_CLOEXEC, 0, 0);
      int errsv = errno;

      usable = fd >= 0 || (errsv != ENOSYS && errsv != EPERM);
      if (fd >= 0)
        close (fd);
      if (!usable)
        g_message ("openat2() is refused (%s): resolving paths with openat() and fstat()",
                   g_strerror (errsv));
      g_once_init_leave (&once, 1);
    }
  return usable;
}

/* Opens the single component @name (no '/', never "." or "..") beneath
 * @dir_fd with @o_flags, refusing a symlink (ELOOP), also a trailing one and
 * a /proc magic link: what openat2() does with RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS for one component, done with
 * openat(O_NOFOLLOW) and fstat() where openat2() is refused. */
static int
open_one_beneath (int dir_fd, const char *name, int o_flags, mode_t mode)
{
  struct stat st;
  int fd;

  /* the lookup asks @dir_fd's filesystem, what comes next the new fd's */
  if (!vcm_fsgate_reach (dir_fd))
    return -1;
  /* No O_NOFOLLOW for openat2: with it, O_PATH would open a trailing symlink
   * itself; without it, RESOLVE_NO_SYMLINKS refuses any symlink. */
  if (openat2_usable ())
    {
      fd = vcm_sys_openat2 (dir_fd, name, (guint64) o_flags, mode, VCM_RESOLVE_RULES);
      if (fd >= 0 && !vcm_fsgate_reach (fd))
        {
          close (fd);
          errno = EAGAIN;
          return -1;
        }
      return fd;
    }

  /* O_NOFOLLOW opens a trailing symlink itself (O_PATH) or fails with ELOOP;
   * O_DIRECTORY is checked by hand so that a symlink says ELOOP, as above. */
  fd = openat (dir_fd, name, (o_flags & ~O_DIRECTORY) | O_NOFOLLOW, mode);
  if (fd < 0 || (o_flags & O_CREAT))
    return fd;
  if (!vcm_fsgate_reach (fd) || fstat (fd, &st) < 0)
    {
      int errsv = errno;
      close (fd);
      errno = errsv;
      return -1;
    }
  if (S_ISLNK (st.st_mode) || ((o_flags & O_DIRECTORY) && !S_ISDIR (st.st_mode)))
    {
      close (fd);
      errno = S_ISLNK (st.st_mode) ? ELOOP : ENOTDIR;
      return -1;
    }
  return fd;
}

/* Whether @dir_fd lies on the root's own mount (the service's layout);
 * FALSE when it cannot be told. */
static gboolean
on_root_mount (int dir_fd, guint64 root_mnt_id)
{
  guint64 id = 0;

  return vcm_sys_stat_mount (dir_fd, "", AT_EMPTY_PATH, &id, NULL, NULL, NULL, NULL) == 0 &&
    id == root_mnt_id;
}

/* mkdirat(@dir_fd, @name, @mode), or with @as_file an empty file made with
 * O_CREAT|O_EXCL|O_NOFOLLOW, as @creds. 0, or -1 with errno. */
static int
create_as (const VcmCredentials *creds, int dir_fd, const char *name, gboolean as_file, mode_t mode)
{
  VcmSavedCreds saved;
  int rc = -1;

  if (vcm_credentials_enter (creds, &saved))
    {
      if (as_file)
        {
          int fd = openat (dir_fd, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, mode);

          if (fd >= 0)
            {
              close (fd);
              rc = 0;
            }
        }
      else
        rc = mkdirat (dir_fd, name, mode);
    }
  vcm_credentials_leave (&saved);
  return rc;
}

/* open_one_beneath() with @creds's filesystem credentials (none: as is). */
static int
open_one_as (const VcmCredentials *creds, int dir_fd, const char *name, int o_flags)
{
  VcmSavedCreds saved;
  int fd = -1;

  if (vcm_credentials_enter (creds, &saved))
    fd = open_one_beneath (dir_fd, name, o_flags, 0);
  vcm_credentials_leave (&saved);
  return fd;
}

/* Opens the existing component @name beneath @dir_fd as O_PATH, looked up
 * as @looker, or creates it (directory, or file when @as_file) as @maker
 * and opens it; what the service makes in its layout (@in_layout) is
 * marked as its own. */
static int
open_component (int dir_fd,
                const char *name,
                gboolean must_be_dir,
                gboolean create,
                gboolean as_file,
                const VcmCredentials *looker,
                const VcmCredentials *maker,
                gboolean in_layout,
                VcmCreated *created)
{
  int o_flags = O_PATH | O_CLOEXEC | (must_be_dir ? O_DIRECTORY : 0);
  int fd;

  fd = open_one_as (looker, dir_fd, name, o_flags);
  if (fd >= 0 || errno != ENOENT || !create)
    return fd;

  if (create_as (maker, dir_fd, name, as_file, as_file ? 0644 : 0755) < 0)
    {
      if (errno != EEXIST || as_file)
        return -1;
      /* somebody made it meanwhile: not ours to record or remove */
      return open_one_as (looker, dir_fd, name, o_flags);
    }

  if (maker == NULL && in_layout)
    vcm_layout_mark_made (dir_fd, name, !as_file);
  if (created != NULL)
    created_record (created, dir_fd, name, !as_file);
  return open_one_as (looker, dir_fd, name, o_flags);
}

int
vcm_fdpath_resolve (int root_fd,
                    const char *root_path,
                    const char *relpath,
                    VcmResolveFlags flags,
                    const char *arg_name,
                    const VcmCredentials *creator,
                    VcmCreated *created,
                    int *out_parent_fd,
                    GError **error)
{
  g_auto (GStrv) parts = g_strsplit (relpath, "/", -1);
  g_autoptr (GString) done = g_string_new (NULL);
  vcm_autofd int dir_fd = -1;
  vcm_autofd int cur_fd = -1;
  guint n = g_strv_length (parts);
  guint64 root_mnt_id = 0;

  g_return_val_if_fail (n > 0, -1);

  if (vcm_credentials_is_root (creator))
    creator = NULL;
  if ((flags & VCM_RESOLVE_CREATE) &&
      vcm_sys_stat_mount (root_fd, "", AT_EMPTY_PATH, &root_mnt_id, NULL, NULL, NULL, NULL) < 0)
    {
      vcm_error_set_errno (error, errno, "cannot stat", root_path);
      return -1;
    }

  cur_fd = fcntl (root_fd, F_DUPFD_CLOEXEC, 3);
  if (cur_fd < 0)
    {
      vcm_error_set_errno (error, errno, "cannot duplicate the fd of", root_path);
      return -1;
    }

  for (guint i = 0; i < n; i++)
    {
      gboolean leaf = (i == n - 1);
      gboolean in_layout;
      const char *name = parts[i];

      if (*name == '\0' || g_str_equal (name, ".") || g_str_equal (name, ".."))
        {
          g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT,
                       "%s: '%s' is not a normalized relative path", arg_name, relpath);
          return -1;
        }

      vcm_clear_fd (&dir_fd);
      dir_fd = g_steal_fd (&cur_fd);
      if (done->len > 0)
        g_string_append_c (done, '/');
      g_string_append (done, name);

      /* a missing component is made by the service on the root's own
       * mount (its layout), else by the caller (@creator); cannot tell:
       * the stricter choice */
      in_layout = (flags & VCM_RESOLVE_CREATE) && on_root_mount (dir_fd, root_mnt_id);
      cur_fd = open_component (dir_fd, name, !leaf, (flags & VCM_RESOLVE_CREATE) != 0,
                               leaf && (flags & VCM_RESOLVE_LEAF_FILE), creator,
                               in_layout ? NULL : creator, in_layout, created);
      if (cur_fd < 0)
        {
          set_resolve_error (error, errno, arg_name, root_path, done->str);
          return -1;
        }
    }

  if (out_parent_fd != NULL)
    *out_parent_fd = g_steal_fd (&dir_fd);
  return g_steal_fd (&cur_fd);
}

/* Whether only root can ever change the entries of the directory @dir_fd:
 * it is root's, without group or other write permission and without an
 * ACL. (Whether a caller may write it now is not enough: an owner can chmod,
 * and another process of the same user may hold a group the caller dropped.)
 * FALSE with @error when it cannot be told. */
static gboolean
dir_is_roots_alone (int dir_fd, gboolean *out_fixed, GError **error)
{
  g_autofree char *proc = vcm_fdpath_proc_path (dir_fd);
  struct stat st;

  if (fstat (dir_fd, &st) < 0)
    return vcm_error_set_errno (error, errno, "cannot stat", "a directory of the mount point's path");
  /* Not the caller's own permissions now: an owner can chmod, another
   * process of the same user may hold a group the caller dropped. */
  *out_fixed = st.st_uid == 0 && (st.st_mode & (S_IWGRP | S_IWOTH)) == 0 &&
    getxattr (proc, "system.posix_acl_access", NULL, 0) < 0;
  return TRUE;
}

/* A mount point at @relpath could be moved away: its directory @dir (both
 * beneath @root_path) is @why. */
static gboolean
set_movable_error (GError **error,
                   const char *arg_name,
                   const char *root_path,
                   const char *relpath,
                   const char *dir,
                   const char *why)
{
  g_autofree char *dir_path = g_build_filename (root_path, dir, NULL);
  g_autofree char *full = g_build_filename (root_path, relpath, NULL);

  g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT, "%s: '%s' lies in '%s', %s", arg_name, full,
               dir_path, why);
  return FALSE;
}

gboolean
vcm_fdpath_check_immovable (int root_fd,
                            const char *root_path,
                            const char *relpath,
                            const VcmCredentials *creds,
                            const char *arg_name,
                            GError **error)
{
  g_auto (GStrv) parts = NULL;
  g_autoptr (GString) done = g_string_new (NULL);
  vcm_autofd int dir_fd = -1;
  guint n;

  if (vcm_credentials_is_root (creds))
    return TRUE;
  parts = g_strsplit (relpath, "/", -1);
  n = g_strv_length (parts);
  dir_fd = fcntl (root_fd, F_DUPFD_CLOEXEC, 3);
  if (dir_fd < 0)
    return vcm_error_set_errno (error, errno, "cannot duplicate the fd of", root_path);

  /* the root, then each directory down to the leaf's parent */
  for (guint i = 0; i < n; i++)
    {
      gboolean fixed = FALSE;
      gboolean idmapped = FALSE;
      const char *kind = NULL;
      int next;

      if (!vcm_fsgate_reach (dir_fd))
        return set_resolve_error (error, errno, arg_name, root_path, done->str);
      /* What a filesystem an unprivileged user controls reports of owners
       * and modes proves nothing, and it can drop a directory (and every
       * mount on it) from the kernel's sight whenever it likes. */
      if (vcm_mount_policy_users_fs (dir_fd, &kind) < 0)
        return vcm_error_set_errno (error, errno, "cannot tell the filesystem of",
                                    "a directory of the mount point's path");
      if (kind != NULL)
        {
          g_autofree char *why =
            g_strdup_printf ("which is on %s: what such a filesystem reports "
                             "proves nothing, and it can move the mount out of sight",
                             kind);

          return set_movable_error (error, arg_name, root_path, relpath, done->str, why);
        }

      /* On an ID-mapped mount stat shows owners that are not the
       * filesystem's: a caller's directory may look like root's there. */
      if (!vcm_idmap_fd_is_idmapped (dir_fd, &idmapped, error))
        return FALSE;
      if (idmapped)
        return set_movable_error (error, arg_name, root_path, relpath, done->str,
                                  "on an ID-mapped mount whose owners are not the filesystem's: the "
                                  "mount could be moved out of sight");
      if (!dir_is_roots_alone (dir_fd, &fixed, error))
        return FALSE;
      if (!fixed)
        return set_movable_error (error, arg_name, root_path, relpath, done->str,
                                  "which others than root may write: the mount could be moved out of "
                                  "sight");
      if (i == n - 1)
        break;
      next = open_one_beneath (dir_fd, parts[i], O_PATH | O_CLOEXEC | O_DIRECTORY, 0);
      if (done->len > 0)
        g_string_append_c (done, '/');
      g_string_append (done, parts[i]);
      if (next < 0)
        return set_resolve_error (error, errno, arg_name, root_path, done->str);
      vcm_clear_fd (&dir_fd);
      dir_fd = next;
    }
  return TRUE;
}

/* Pushes the components of @path onto @stack so that the first is popped
 * first; "" and "." are dropped. */
static void
push_components (GPtrArray *stack, const char *path)
{
  g_auto (GStrv) parts = g_strsplit (path, "/", -1);

  for (guint i = g_strv_length (parts); i > 0; i--)
    if (*parts[i - 1] != '\0' && !g_str_equal (parts[i - 1], "."))
      g_ptr_array_add (stack, g_strdup (parts[i - 1]));
}

#define MAX_SYMLINKS 40
/* Components looked up for one path, symlink expansions included: the
 * kernel's own bound is 40 expansions; without a bound of steps as well, a
 * link to "../d/../d/..." repeated would cost a caller's 30 bytes tens of
 * thousands of lookups. */
#define MAX_STEPS    4096

#ifndef ST_NOSYMFOLLOW
#define ST_NOSYMFOLLOW 0x2000
#endif

/* What the kernel would refuse to follow for the thread's filesystem uid:
 * a link on a nosymfollow mount, or (fs.protected_symlinks) another user's
 * link in a sticky world-writable directory not owned by the link's owner. */
static gboolean
may_follow (int dir_fd, int link_fd, const struct stat *link_st)
{
  struct statvfs sv;
  struct stat dir_st;
  uid_t fsuid = (uid_t) syscall (SYS_setfsuid, (uid_t) -1);

  if (fstatvfs (link_fd, &sv) == 0 && (sv.f_flag & ST_NOSYMFOLLOW))
    return FALSE;
  if (fstat (dir_fd, &dir_st) < 0)
    return FALSE;
  if ((dir_st.st_mode & (S_ISVTX | S_IWOTH)) == (S_ISVTX | S_IWOTH) && link_st->st_uid != fsuid &&
      dir_st.st_uid != link_st->st_uid)
    return FALSE;
  return TRUE;
}

int
vcm_fdpath_open_following (const char *path)
{
  g_autoptr (GPtrArray) stack = g_ptr_array_new_with_free_func (g_free);
  vcm_autofd int cur = -1;
  gboolean want_dir = g_str_has_suffix (path, "/");
  guint links = 0;
  guint steps = 0;
  struct stat st;

  if (path[0] != '/')
    {
      errno = EINVAL;
      return -1;
    }
  cur = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (cur < 0 || !vcm_fsgate_reach (cur))
    return -1;
  push_components (stack, path);
  while (stack->len > 0)
    {
      g_autofree char *name = g_ptr_array_steal_index (stack, stack->len - 1);
      vcm_autofd int next = -1;

      if (++steps > MAX_STEPS)
        {
          errno = ELOOP;
          return -1;
        }
      next = openat (cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
      if (next < 0 || !vcm_fsgate_reach (next) || fstat (next, &st) < 0)
        return -1;
      if (S_ISLNK (st.st_mode))
        {
          char target[PATH_MAX + 1];
          ssize_t len;

          if (++links > MAX_SYMLINKS)
            {
              errno = ELOOP;
              return -1;
            }
          if (!may_follow (cur, next, &st))
            {
              errno = EACCES;
              return -1;
            }
          len = readlinkat (next, "", target, sizeof target);
          if (len < 0)
            return -1;
          if ((gsize) len >= sizeof target)
            {
              errno = ENAMETOOLONG;
              return -1;
            }
          if (len == 0)
            {
              errno = ENOENT;
              return -1;
            }
          target[len] = '\0';
          if (target[0] == '/')
            {
              vcm_clear_fd (&cur);
              cur = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
              if (cur < 0 || !vcm_fsgate_reach (cur))
                return -1;
            }
          push_components (stack, target);
          continue;
        }
      if (stack->len > 0 && !S_ISDIR (st.st_mode))
        {
          errno = ENOTDIR;
          return -1;
        }
      vcm_clear_fd (&cur);
      cur = g_steal_fd (&next);
    }
  if (want_dir)
    {
      if (fstat (cur, &st) < 0)
        return -1;
      if (!S_ISDIR (st.st_mode))
        {
          errno = ENOTDIR;
          return -1;
        }
    }
  return g_steal_fd (&cur);
}

char *
vcm_fdpath_proc_path (int fd)
{
  return g_strdup_printf ("/proc/self/fd/%d", fd);
}

void
vcm_fdpath_rmdir_if_empty (int dir_fd, const char *name)
{
  if (unlinkat (dir_fd, name, AT_REMOVEDIR) < 0 && errno != ENOTEMPTY && errno != EEXIST &&
      errno != EBUSY && errno != ENOENT)
    g_debug ("Could not remove directory '%s': %s", name, g_strerror (errno));
}
