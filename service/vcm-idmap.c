/* vcm-idmap: ID maps for ID-mapped mounts: their form, who may map which
 * host IDs (libsubid), user namespaces made from a map or read back from a
 * caller's fd, and mount_setattr(MOUNT_ATTR_IDMAP) on a detached mount. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <shadow/subid.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "vcm-child.h"
#include "vcm-error.h"
#include "vcm-fd.h"
#include "vcm-idmap.h"
#include "vcm-sys.h"

#define ID_LIMIT G_GUINT64_CONSTANT (0xffffffff) /* (uid_t) -1 is no ID */

static const char *const kind_names[2] = { "uid", "gid" };

VcmIdMap *
vcm_idmap_new (void)
{
  VcmIdMap *map = g_new0 (VcmIdMap, 1);

  for (guint k = 0; k < 2; k++)
    map->ranges[k] = g_array_new (FALSE, FALSE, sizeof (VcmIdRange));
  return map;
}

void
vcm_idmap_free (VcmIdMap *map)
{
  if (map == NULL)
    return;
  for (guint k = 0; k < 2; k++)
    g_array_unref (map->ranges[k]);
  g_free (map);
}

gboolean
vcm_idmap_add_ranges_from_variant (
  VcmIdMap *map, VcmIdKind kind, GVariant *value, const char *arg_name, GError **error)
{
  GVariantIter iter;
  guint32 fs, shown, count;

  if (!g_variant_is_of_type (value, G_VARIANT_TYPE ("a(uuu)")))
    {
      g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT,
                   "%s: must be of type a(uuu) (ID on the filesystem, ID shown, count), not %s",
                   arg_name, g_variant_get_type_string (value));
      return FALSE;
    }
  /* checked before anything is copied: the bound is what limits the cost */
  if (map->ranges[kind]->len + g_variant_n_children (value) > VCM_IDMAP_MAX_RANGES)
    {
      g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT, "%s: more than %u %s ranges", arg_name,
                   VCM_IDMAP_MAX_RANGES, kind_names[kind]);
      return FALSE;
    }
  g_variant_iter_init (&iter, value);
  while (g_variant_iter_next (&iter, "(uuu)", &fs, &shown, &count))
    {
      VcmIdRange r = { .fs = fs, .shown = shown, .count = count };

      g_array_append_val (map->ranges[kind], r);
    }
  return TRUE;
}

static gboolean
overlaps (guint64 a, guint64 a_count, guint64 b, guint64 b_count)
{
  return a < b + b_count && b < a + a_count;
}

gboolean
vcm_idmap_validate (const VcmIdMap *map, guint max_ranges, const char *arg_name, GError **error)
{
  for (guint k = 0; k < 2; k++)
    {
      GArray *a = map->ranges[k];

      if (a->len == 0 || a->len > max_ranges)
        {
          g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT,
                       "%s: needs between 1 and %u %s ranges, has %u", arg_name, max_ranges,
                       kind_names[k], a->len);
          return FALSE;
        }
      for (guint i = 0; i < a->len; i++)
        {
          const VcmIdRange *r = &g_array_index (a, VcmIdRange, i);
          const char *why = NULL;

          if (r->count == 0)
            why = "its count is 0";
          else if ((guint64) r->fs + r->count > ID_LIMIT)
            why = "its filesystem IDs reach past 4294967294";
          else if ((guint64) r->shown + r->count > ID_LIMIT)
            why = "its shown IDs reach past 4294967294";
          for (guint j = 0; why == NULL && j < i; j++)
            {
              const VcmIdRange *o = &g_array_index (a, VcmIdRange, j);

              if (overlaps (r->fs, r->count, o->fs, o->count))
                why = "its filesystem IDs overlap an earlier range's";
              else if (overlaps (r->shown, r->count, o->shown, o->count))
                why = "its shown IDs overlap an earlier range's";
            }
          if (why != NULL)
            {
              g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT,
                           "%s: %s range %u (%u:%u:%u): %s", arg_name, kind_names[k], i + 1, r->fs,
                           r->shown, r->count, why);
              return FALSE;
            }
        }
    }
  return TRUE;
}

char *
vcm_idmap_to_string (const VcmIdMap *map)
{
  GString *s = g_string_new (NULL);

  for (guint k = 0; k < 2; k++)
    for (guint i = 0; i < map->ranges[k]->len; i++)
      {
        const VcmIdRange *r = &g_array_index (map->ranges[k], VcmIdRange, i);

        g_string_append_printf (s, "%s%c:%u:%u:%u", s->len > 0 ? "," : "", k == VCM_ID_UID ? 'u' : 'g',
                                r->fs, r->shown, r->count);
      }
  return g_string_free (s, FALSE);
}

/* ---- who may map what ------------------------------------------------------ */

typedef struct {
  guint64 start;
  guint64 end; /* exclusive */
} Interval;

static void
add_interval (GArray *allowed, guint64 start, guint64 count)
{
  Interval iv = { .start = start, .end = start + count };

  if (count > 0)
    g_array_append_val (allowed, iv);
}

/* libsubid keeps the file it reads (and a provider's handle) in globals of
 * its own: one lookup at a time. */
static GMutex subid_lock;

/* The subordinate ranges of @user for @kind, appended to @allowed. A
 * lookup that fails (no such file, a provider that does not answer) adds
 * nothing: what is not known to be delegated is not. */
static void
add_subid_ranges (GArray *allowed, const char *user, VcmIdKind kind)
{
  static gsize initialized = 0;
  struct subid_range *ranges = NULL;
  int n;

  if (g_once_init_enter (&initialized))
    {
      /* its messages go to the service's stderr (the journal), named */
      subid_init ("vcmountd", stderr);
      g_once_init_leave (&initialized, 1);
    }
  g_mutex_lock (&subid_lock);
  n = kind == VCM_ID_UID ? subid_get_uid_ranges (user, &ranges) : subid_get_gid_ranges (user, &ranges);
  g_mutex_unlock (&subid_lock);
  if (n < 0)
    g_debug ("no subordinate %s ranges for %s: libsubid failed (%d)", kind_names[kind], user, n);
  for (int i = 0; i < n; i++)
    add_interval (allowed, ranges[i].start, ranges[i].count);
  free (ranges);
}

/* The first ID of [@start, @start+@count) that no interval of @allowed
 * holds, or -1 when they hold them all (adjacent intervals together too). */
static gint64
first_uncovered (const GArray *allowed, guint64 start, guint64 count)
{
  guint64 cur = start, end = start + count;

  while (cur < end)
    {
      guint64 reach = cur;

      for (guint i = 0; i < allowed->len; i++)
        {
          const Interval *iv = &g_array_index (allowed, Interval, i);

          if (iv->start <= cur && iv->end > reach)
            reach = iv->end;
        }
      if (reach == cur)
        return (gint64) cur;
      cur = reach;
    }
  return -1;
}

gboolean
vcm_idmap_check_allowed (const VcmIdMap *map,
                         const VcmCredentials *creds,
                         gboolean check_shown,
                         const char *arg_name,
                         GError **error)
{
  g_autofree char *user = NULL;

  if (vcm_credentials_is_root (creds))
    return TRUE;

  {
    struct passwd pw, *found = NULL;
    long size = sysconf (_SC_GETPW_R_SIZE_MAX);
    g_autofree char *buf = g_malloc (size > 0 ? (gsize) size : 16384);

    if (getpwuid_r (creds->uid, &pw, buf, size > 0 ? (gsize) size : 16384, &found) == 0 && found != NULL)
      user = g_strdup (pw.pw_name);
  }

  for (guint k = 0; k < 2; k++)
    {
      g_autoptr (GArray) allowed = g_array_new (FALSE, FALSE, sizeof (Interval));
      GArray *a = map->ranges[k];

      if (a->len == 0)
        continue;
      if (k == VCM_ID_UID)
        add_interval (allowed, creds->uid, 1);
      else
        for (guint i = 0; i < creds->n_groups; i++)
          add_interval (allowed, creds->groups[i], 1);
      if (user != NULL)
        add_subid_ranges (allowed, user, k);

      for (guint i = 0; i < a->len; i++)
        for (guint side = 0; side < (check_shown ? 2u : 1u); side++)
          {
            const VcmIdRange *r = &g_array_index (a, VcmIdRange, i);
            gint64 bad = first_uncovered (allowed, side == 0 ? r->fs : r->shown, r->count);

            if (bad >= 0)
              {
                g_set_error (
                  error, VCM_ERROR, VCM_ERROR_NOT_AUTHORIZED,
                  "%s: %s %s %" G_GINT64_FORMAT " (%s range %u:%u:%u) is neither the caller's "
                  "own nor delegated to %s in the subordinate %s ranges",
                  arg_name, side == 0 ? "filesystem" : "shown", kind_names[k], bad, kind_names[k], r->fs,
                  r->shown, r->count, user != NULL ? user : "it", kind_names[k]);
                return FALSE;
              }
          }
    }
  return TRUE;
}

/* ---- user namespaces ------------------------------------------------------- */

/* In a child: enters a user namespace (a new one when *@user_data is -1,
 * else that one with setns(2)) and hands back its fd. */
static int
enter_userns (gpointer user_data)
{
  int userns_fd = *(const int *) user_data;

  /* The service's own process is not dumpable once a thread took a
   * caller's filesystem uid, and without CAP_SYS_PTRACE it could then not
   * open this child's /proc/PID files: this one is. Before entering, and
   * only before: entering a caller's namespace (owned by the caller, not
   * by root) makes the child not dumpable again, so that the caller, all
   * capable in there, cannot ptrace it (it is root, with the service's
   * descriptors); test_attacks_fd's TestHelperChildAttacks tries. */
  prctl (PR_SET_DUMPABLE, 1, 0, 0, 0);
  if ((userns_fd < 0 ? unshare (CLONE_NEWUSER) : setns (userns_fd, CLONE_NEWUSER)) < 0)
    return -1;
  return open ("/proc/self/ns/user", O_RDONLY | O_CLOEXEC);
}

/* A child in a user namespace (see enter_userns()), kept until
 * vcm_child_release(): its /proc/PID files are the namespace's. Returns
 * the namespace's fd, or -1 with @error. */
static int
ns_child_start (int userns_fd, VcmChild *out_child, GError **error)
{
  int fd = vcm_child_run (enter_userns, &userns_fd, out_child);

  if (fd < 0)
    g_set_error (error, VCM_ERROR, VCM_ERROR_FAILED, "cannot %s a user namespace: %s",
                 userns_fd < 0 ? "make" : "enter", g_strerror (errno));
  return fd;
}

static gboolean
write_proc_file (pid_t pid, const char *name, const char *contents, GError **error)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/%s", (int) pid, name);
  vcm_autofd int fd = open (path, O_WRONLY | O_CLOEXEC);
  gsize len = strlen (contents);

  if (fd < 0 || write (fd, contents, len) != (gssize) len)
    return vcm_error_set_errno (error, errno, "cannot write the user namespace's", name);
  return TRUE;
}

static char *
map_file_contents (const GArray *ranges)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < ranges->len; i++)
    {
      const VcmIdRange *r = &g_array_index (ranges, VcmIdRange, i);

      g_string_append_printf (s, "%u %u %u\n", r->fs, r->shown, r->count);
    }
  return g_string_free (s, FALSE);
}

int
vcm_idmap_make_userns (const VcmIdMap *map, GError **error)
{
  g_autofree char *uid_map = NULL;
  g_autofree char *gid_map = NULL;
  VcmChild child;
  int fd;

  if (!vcm_idmap_validate (map, VCM_IDMAP_MAX_RANGES, "idmap", error))
    return -1;
  uid_map = map_file_contents (map->ranges[VCM_ID_UID]);
  gid_map = map_file_contents (map->ranges[VCM_ID_GID]);

  fd = ns_child_start (-1, &child, error);
  if (fd < 0)
    return -1;
  /* setgroups first: nobody is ever to drop groups in there */
  if (!write_proc_file (child.pid, "setgroups", "deny", error) ||
      !write_proc_file (child.pid, "gid_map", gid_map, error) ||
      !write_proc_file (child.pid, "uid_map", uid_map, error))
    vcm_clear_fd (&fd);
  vcm_child_release (&child);
  return fd;
}

/* Parses a /proc/PID/uid_map as read by a process outside the namespace:
 * "inside outside count" per line (the filesystem's ID, the one shown),
 * outside relative to the reader's namespace. */
static gboolean
parse_map_file (const char *contents, GArray *ranges, GError **error)
{
  g_auto (GStrv) lines = g_strsplit (contents, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      VcmIdRange r;
      unsigned int fs, shown, count;

      if (*g_strstrip (lines[i]) == '\0')
        continue;
      if (sscanf (lines[i], "%u %u %u", &fs, &shown, &count) != 3)
        {
          g_set_error (error, VCM_ERROR, VCM_ERROR_FAILED, "cannot parse the map line '%s'", lines[i]);
          return FALSE;
        }
      r.fs = fs;
      r.shown = shown;
      r.count = count;
      g_array_append_val (ranges, r);
    }
  return TRUE;
}

static gboolean
is_own_userns (int userns_fd, gboolean *out_own, GError **error)
{
  struct stat a, b;

  if (fstat (userns_fd, &a) < 0 || stat ("/proc/self/ns/user", &b) < 0)
    return vcm_error_set_errno (error, errno, "cannot stat", "a user namespace");
  *out_own = a.st_dev == b.st_dev && a.st_ino == b.st_ino;
  return TRUE;
}

VcmIdMap *
vcm_idmap_read_userns (int userns_fd, const VcmCredentials *creds, const char *arg_name, GError **error)
{
  g_autoptr (VcmIdMap) map = vcm_idmap_new ();
  gboolean own = FALSE;
  uid_t owner = (uid_t) -1;
  int type;
  VcmChild child;
  vcm_autofd int entered = -1;
  gboolean ok = TRUE;

  type = ioctl (userns_fd, NS_GET_NSTYPE);
  if (type < 0 || type != CLONE_NEWUSER)
    {
      g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT, "%s: is not a user namespace%s%s",
                   arg_name, type < 0 ? ": " : "", type < 0 ? g_strerror (errno) : "");
      return NULL;
    }
  if (!is_own_userns (userns_fd, &own, error))
    return NULL;
  if (own)
    {
      g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT,
                   "%s: is the service's own user namespace, which cannot ID-map a mount", arg_name);
      return NULL;
    }
  if (ioctl (userns_fd, NS_GET_OWNER_UID, &owner) < 0)
    {
      vcm_error_set_errno (error, errno, "cannot ask who owns", arg_name);
      return NULL;
    }
  if (!vcm_credentials_is_root (creds) && owner != creds->uid)
    {
      g_set_error (error, VCM_ERROR, VCM_ERROR_NOT_AUTHORIZED,
                   "%s: the user namespace belongs to uid %u, not to the caller (uid %u)", arg_name,
                   (guint) owner, (guint) creds->uid);
      return NULL;
    }

  entered = ns_child_start (userns_fd, &child, error);
  if (entered < 0)
    return NULL;
  /* read by the service from outside: host IDs, however deep the nesting */
  for (guint k = 0; ok && k < 2; k++)
    {
      g_autofree char *path = g_strdup_printf ("/proc/%d/%s_map", (int) child.pid, kind_names[k]);
      g_autofree char *contents = NULL;
      g_autoptr (GError) local_error = NULL;

      if (!g_file_get_contents (path, &contents, NULL, &local_error))
        {
          g_set_error (error, VCM_ERROR, VCM_ERROR_FAILED, "%s: cannot read its %s map: %s", arg_name,
                       kind_names[k], local_error->message);
          ok = FALSE;
        }
      else
        ok = parse_map_file (contents, map->ranges[k], error);
    }
  vcm_child_release (&child);
  if (!ok)
    return NULL;
  for (guint k = 0; k < 2; k++)
    if (map->ranges[k]->len == 0)
      {
        g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT,
                     "%s: the user namespace has no %s map (yet)", arg_name, kind_names[k]);
        return NULL;
      }
  return g_steal_pointer (&map);
}

/* ---- the option -------------------------------------------------------------- */

int
vcm_idmap_from_option (GVariant *value,
                       const int *fds,
                       int n_fds,
                       const VcmCredentials *creds,
                       const char *arg_name,
                       VcmIdMap **out_map,
                       GError **error)
{
  static const char *const keys[] = { "uid-map", "gid-map", "userns" };
  g_autoptr (VcmIdMap) map = NULL;
  GVariantIter iter;
  const char *key;
  GVariant *v;
  gboolean has_map = FALSE;
  gint32 handle = -1;
  gboolean has_userns = FALSE;
  int fd;

  if (!g_variant_is_of_type (value, G_VARIANT_TYPE_VARDICT))
    {
      g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT, "%s: must be of type a{sv}, not %s",
                   arg_name, g_variant_get_type_string (value));
      return -1;
    }
  map = vcm_idmap_new ();
  g_variant_iter_init (&iter, value);
  while (g_variant_iter_next (&iter, "{&sv}", &key, &v))
    {
      g_autoptr (GVariant) val = v;
      g_autofree char *name = g_strdup_printf ("%s.%s", arg_name, key);

      if (!g_strv_contains ((const char *const *) keys, key))
        {
          g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT,
                       "%s: unknown key (known: uid-map, gid-map, userns)", name);
          return -1;
        }
      if (g_str_equal (key, "userns"))
        {
          if (!g_variant_is_of_type (val, G_VARIANT_TYPE_HANDLE))
            {
              g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT, "%s: must be of type h, not %s",
                           name, g_variant_get_type_string (val));
              return -1;
            }
          handle = g_variant_get_handle (val);
          has_userns = TRUE;
        }
      else
        {
          if (!vcm_idmap_add_ranges_from_variant (
                map, g_str_equal (key, "uid-map") ? VCM_ID_UID : VCM_ID_GID, val, name, error))
            return -1;
          has_map = TRUE;
        }
    }
  if (has_map == has_userns)
    {
      g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT,
                   "%s: needs either uid-map and gid-map, or userns", arg_name);
      return -1;
    }

  if (has_map)
    {
      if (!vcm_idmap_validate (map, VCM_IDMAP_MAX_RANGES, arg_name, error) ||
          !vcm_idmap_check_allowed (map, creds, FALSE, arg_name, error))
        return -1;
      fd = vcm_idmap_make_userns (map, error);
    }
  else
    {
      g_autofree char *name = g_strdup_printf ("%s.userns", arg_name);
      int ns_fd;

      if (handle < 0 || handle >= n_fds)
        {
          g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT,
                       "%s: the message carries no file descriptor at index %d", name, handle);
          return -1;
        }
      g_clear_pointer (&map, vcm_idmap_free);
      map = vcm_idmap_read_userns (fds[handle], creds, name, error);
      if (map == NULL || !vcm_idmap_validate (map, VCM_IDMAP_MAX_NS_RANGES, name, error) ||
          !vcm_idmap_check_allowed (map, creds, TRUE, name, error))
        return -1;
      /* the namespace itself is used (its maps cannot change once written),
       * through an fd of the service's own */
      ns_fd = fcntl (fds[handle], F_DUPFD_CLOEXEC, 3);
      if (ns_fd < 0)
        vcm_error_set_errno (error, errno, "cannot duplicate", name);
      fd = ns_fd;
    }
  if (fd >= 0 && out_map != NULL)
    *out_map = g_steal_pointer (&map);
  return fd;
}

/* ---- applying one ------------------------------------------------------------ */

static const char *
fs_name (int fd)
{
  static const struct {
    long magic;
    const char *name;
  } names[] = {
    { TMPFS_MAGIC, "tmpfs" },
    { EXT4_SUPER_MAGIC, "ext4" },
    { XFS_SUPER_MAGIC, "xfs" },
    { BTRFS_SUPER_MAGIC, "btrfs" },
    { OVERLAYFS_SUPER_MAGIC, "overlay" },
    { FUSE_SUPER_MAGIC, "fuse" },
    { PROC_SUPER_MAGIC, "proc" },
    { SYSFS_MAGIC, "sysfs" },
    { RAMFS_MAGIC, "ramfs" },
    { NFS_SUPER_MAGIC, "nfs" },
    { V9FS_MAGIC, "9p" },
    { SQUASHFS_MAGIC, "squashfs" },
    { CGROUP2_SUPER_MAGIC, "cgroup2" },
    { DEVPTS_SUPER_MAGIC, "devpts" },
    { MSDOS_SUPER_MAGIC, "vfat" },
  };
  struct statfs sfs;

  if (fstatfs (fd, &sfs) < 0)
    return NULL;
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    if ((long) sfs.f_type == names[i].magic)
      return names[i].name;
  return NULL;
}

gboolean
vcm_idmap_apply (int mnt_fd, int userns_fd, gboolean recursive, const char *what, GError **error)
{
  struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (guint64) userns_fd };
  const char *fs;

  if (mount_setattr (mnt_fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr, sizeof attr) ==
      0)
    return TRUE;
  switch (errno)
    {
    case ENOSYS:
      g_set_error (error, VCM_ERROR, VCM_ERROR_FAILED,
                   "ID-mapped mounts need mount_setattr(2) (Linux 5.12), which is not available here");
      return FALSE;
    case EINVAL:
      fs = fs_name (mnt_fd);
      if (recursive)
        g_set_error (error, VCM_ERROR, VCM_ERROR_FAILED,
                     "%s: the filesystem (%s) or one mounted below it does not support ID-mapped mounts",
                     what, fs != NULL ? fs : "of unknown type");
      else
        g_set_error (error, VCM_ERROR, VCM_ERROR_FAILED,
                     "%s: the filesystem (%s) does not support ID-mapped mounts", what,
                     fs != NULL ? fs : "of unknown type");
      return FALSE;
    default:
      return vcm_error_set_errno (error, errno, "cannot ID-map the mount of", what);
    }
}

/* The per-mount options of mount @id in /proc/self/mountinfo contain
 * "idmapped" (kernels before statmount(2)). */
static gboolean
mountinfo_says_idmapped (guint64 id, gboolean *out_idmapped, GError **error)
{
  g_autofree char *contents = NULL;
  g_autofree char *prefix = g_strdup_printf ("%" G_GUINT64_FORMAT " ", id);
  g_auto (GStrv) lines = NULL;

  if (!g_file_get_contents ("/proc/self/mountinfo", &contents, NULL, error))
    return FALSE;
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], prefix))
      {
        g_auto (GStrv) fields = g_strsplit (lines[i], " ", 7);
        g_auto (GStrv) opts = NULL;

        if (g_strv_length (fields) < 6)
          break;
        opts = g_strsplit (fields[5], ",", -1);
        *out_idmapped = g_strv_contains ((const char *const *) opts, "idmapped");
        return TRUE;
      }
  g_set_error (error, VCM_ERROR, VCM_ERROR_FAILED,
               "mount %" G_GUINT64_FORMAT " is not in the mount table", id);
  return FALSE;
}

gboolean
vcm_idmap_fd_is_idmapped (int fd, gboolean *out_idmapped, GError **error)
{
  VcmSysMountBrief brief;
  guint64 unique = 0, old = 0;
  int errsv = 0;

  if (vcm_sys_unique_mount_id (fd, &unique) == 0 &&
      vcm_sys_statmount_brief (unique, &brief, NULL, &errsv))
    {
      *out_idmapped = (brief.mnt_attr & MOUNT_ATTR_IDMAP) != 0;
      return TRUE;
    }
  if (vcm_sys_stat_mount (fd, "", AT_EMPTY_PATH, &old, NULL, NULL, NULL, NULL) < 0)
    return vcm_error_set_errno (error, errno, "cannot stat", "a directory of the mount point's path");
  return mountinfo_says_idmapped (old, out_idmapped, error);
}
