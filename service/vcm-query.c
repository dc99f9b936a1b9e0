/* vcm-query: device and filesystem queries about paths and mounts
 * (GetDeviceForPath, GetDevicePathAndFsType, IsDeviceMapper, IsSystemMount,
 * IsHostDevice, DescribePath), resolving paths with the caller's filesystem
 * credentials (vcm-creds). No D-Bus here. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "vcm-ascaller.h"
#include "vcm-error.h"
#include "vcm-query.h"
#include "vcm-sys.h"
#include "vcm-testing.h"
#include "vcm-validate.h"

struct _VcmQuery {
  GObject parent;
  char *sysfs_root;
  VcmMountTableSource source;
  gpointer source_data;
  GDestroyNotify source_destroy;
  gboolean live; /* statmount(2) first */
};

/* ---- the query object ------------------------------------------------- */

G_DEFINE_FINAL_TYPE (VcmQuery, vcm_query, G_TYPE_OBJECT)

static void
vcm_query_finalize (GObject *object)
{
  VcmQuery *query = VCM_QUERY (object);

  if (query->source_destroy != NULL)
    query->source_destroy (query->source_data);
  g_free (query->sysfs_root);
  G_OBJECT_CLASS (vcm_query_parent_class)->finalize (object);
}

static void
vcm_query_class_init (VcmQueryClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = vcm_query_finalize;
}

static void
vcm_query_init (VcmQuery *query)
{
  query->live = TRUE;
}

VcmQuery *
vcm_query_new (const char *sysfs_root,
               VcmMountTableSource source,
               gpointer source_data,
               GDestroyNotify source_destroy)
{
  VcmQuery *query;

  g_return_val_if_fail (sysfs_root != NULL, NULL);
  g_return_val_if_fail (source != NULL, NULL);

  query = g_object_new (VCM_TYPE_QUERY, NULL);
  query->sysfs_root = g_strdup (sysfs_root);
  query->source = source;
  query->source_data = source_data;
  query->source_destroy = source_destroy;
  return query;
}

void
vcm_query_set_live (VcmQuery *query, gboolean live)
{
  query->live = live;
}

void
vcm_path_facts_free (VcmPathFacts *info)
{
  if (info == NULL)
    return;
  g_free (info->mount_point);
  g_free (info->device);
  g_free (info->fs_type);
  g_free (info);
}

gboolean
vcm_query_stat_path (const char *arg_name,
                     const char *path,
                     const VcmCredentials *creds,
                     gboolean missing_ok,
                     char **out_normalized,
                     VcmPathStat *out_stat,
                     GError **error)
{
  g_autofree char *normalized = NULL;
  g_autoptr (GError) local_error = NULL;
  int fd;
  int rc;
  int errsv;

  memset (out_stat, 0, sizeof *out_stat);
  if (!vcm_validate_absolute_path (arg_name, path, error))
    return FALSE;
  normalized = vcm_path_normalize (path);

  fd = vcm_open_path_as (arg_name, normalized, creds, &local_error);
  if (fd < 0)
    {
      if (!missing_ok || !g_error_matches (local_error, VCM_ERROR, VCM_ERROR_NOT_FOUND))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      out_stat->exists = FALSE; /* missing or unreachable: the same */
      if (out_normalized != NULL)
        *out_normalized = g_steal_pointer (&normalized);
      return TRUE;
    }

  rc = vcm_sys_stat_mount (fd, "", AT_EMPTY_PATH, &out_stat->mount_id, &out_stat->major,
                           &out_stat->minor, &out_stat->mount_root, &out_stat->mode);
  errsv = errno;
  if (rc != 0 || vcm_sys_unique_mount_id (fd, &out_stat->unique_id) != 0)
    out_stat->unique_id = 0;
  close (fd);
  if (rc != 0)
    {
      g_autofree char *quoted = vcm_validate_quote (normalized);
      g_set_error (error, VCM_ERROR, VCM_ERROR_FAILED, "%s: cannot statx '%s': %s", arg_name, quoted,
                   g_strerror (errsv));
      return FALSE;
    }
  out_stat->exists = TRUE;
  if (out_normalized != NULL)
    *out_normalized = g_steal_pointer (&normalized);
  return TRUE;
}

/* What the queries report of the mount holding a path. */
typedef struct {
  char *target;
  char *source;
  char *fs_type;
  gboolean read_only;
  const char *propagation;
} MountFacts;

static void
mount_facts_clear (MountFacts *facts)
{
  g_clear_pointer (&facts->target, g_free);
  g_clear_pointer (&facts->source, g_free);
  g_clear_pointer (&facts->fs_type, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (MountFacts, mount_facts_clear)

/* Live from the kernel with statmount(2), by the unique mount ID: exact at
 * the moment of the call and independent of the mount table's size. */
static gboolean
lookup_mount_live (const VcmPathStat *st, MountFacts *facts)
{
  VcmSysMount m;
  int errsv = 0;

  if (st->unique_id == 0 || !vcm_sys_statmount (st->unique_id, &m, &errsv))
    return FALSE;
  if (m.sb_source == NULL)
    {
      vcm_sys_mount_clear (&m);
      return FALSE; /* the kernel predates sb_source: ask the table */
    }
  facts->target = g_steal_pointer (&m.mnt_point);
  facts->source = g_steal_pointer (&m.sb_source);
  facts->fs_type = g_steal_pointer (&m.fs_type);
  facts->read_only = m.read_only;
  facts->propagation = m.propagation;
  vcm_sys_mount_clear (&m);
  return TRUE;
}

/* From the mount table, for kernels without statmount(2): the entry with the
 * path's mount ID, re-reading the table once if it is not there. With
 * @need_propagation the table is read afresh: a change of propagation raises
 * no mount-table event, so a cached table may not know it. */
static gboolean
lookup_mount_in_table (VcmQuery *query,
                       const char *arg_name,
                       const char *path,
                       const VcmPathStat *st,
                       gboolean need_propagation,
                       MountFacts *facts,
                       GError **error)
{
  g_autoptr (VcmMountTable) table = NULL;
  const VcmMountEntry *entry;

  entry = vcm_mount_table_source_lookup_id (query->source, query->source_data, st->mount_id,
                                            need_propagation, &table);

  if (table == NULL)
    {
      g_set_error (error, VCM_ERROR, VCM_ERROR_FAILED, "%s: cannot read the mount table", arg_name);
      return FALSE;
    }
  if (entry == NULL)
    {
      g_autofree char *quoted = vcm_validate_quote (path);
      g_set_error (error, VCM_ERROR, VCM_ERROR_FAILED,
                   "%s: mount %" G_GUINT64_FORMAT " of '%s' is not in the mount table", arg_name,
                   st->mount_id, quoted);
      return FALSE;
    }

  facts->target = g_strdup (entry->target);
  facts->source = g_strdup (entry->source);
  facts->fs_type = g_strdup (entry->fstype);
  facts->read_only = entry->read_only;
  facts->propagation = entry->propagation;
  return TRUE;
}

static gboolean
lookup_mount (VcmQuery *query,
              const char *arg_name,
              const char *path,
              const VcmPathStat *st,
              gboolean need_propagation,
              MountFacts *facts,
              GError **error)
{
  char **strings[] = { &facts->target, &facts->source, &facts->fs_type };

  if (!(query->live && lookup_mount_live (st, facts)) &&
      !lookup_mount_in_table (query, arg_name, path, st, need_propagation, facts, error))
    return FALSE;
  /* The kernel's names are bytes; what the bus carries must be UTF-8. */
  for (gsize i = 0; i < G_N_ELEMENTS (strings); i++)
    if (*strings[i] != NULL && !g_utf8_validate (*strings[i], -1, NULL))
      {
        char *valid = g_utf8_make_valid (*strings[i], -1);

        g_free (*strings[i]);
        *strings[i] = valid;
      }
  return TRUE;
}

gboolean
vcm_query_device_for_stat (VcmQuery *query,
                           const char *normalized,
                           const VcmPathStat *st,
                           guint *out_major,
                           guint *out_minor,
                           char **out_mount_point,
                           GError **error)
{
  g_auto (MountFacts) facts = { 0 };

  g_return_val_if_fail (query != NULL, FALSE);

  if (!lookup_mount (query, "path", normalized, st, FALSE, &facts, error))
    return FALSE;

  if (out_major != NULL)
    *out_major = st->major;
  if (out_minor != NULL)
    *out_minor = st->minor;
  if (out_mount_point != NULL)
    *out_mount_point = g_steal_pointer (&facts.target);
  return TRUE;
}

gboolean
vcm_query_device_for_path (VcmQuery *query,
                           const char *path,
                           const VcmCredentials *creds,
                           guint *out_major,
                           guint *out_minor,
                           char **out_mount_point,
                           GError **error)
{
  g_autofree char *normalized = NULL;
  VcmPathStat st;

  return vcm_query_stat_path ("path", path, creds, FALSE, &normalized, &st, error) &&
    vcm_query_device_for_stat (query, normalized, &st, out_major, out_minor, out_mount_point, error);
}

gboolean
vcm_query_device_path_and_fs_type_for_stat (VcmQuery *query,
                                            const char *normalized,
                                            const VcmPathStat *st,
                                            char **out_device,
                                            char **out_fs_type,
                                            GError **error)
{
  g_auto (MountFacts) facts = { 0 };

  g_return_val_if_fail (query != NULL, FALSE);

  if (!st->mount_root)
    {
      g_autofree char *quoted = vcm_validate_quote (normalized);
      g_set_error (error, VCM_ERROR, VCM_ERROR_NOT_MOUNTED, "mount_point: nothing is mounted at '%s'",
                   quoted);
      return FALSE;
    }

  /* statx resolves through stacked mounts: this is the top one. */
  if (!lookup_mount (query, "mount_point", normalized, st, FALSE, &facts, error))
    return FALSE;

  if (out_device != NULL)
    *out_device = g_steal_pointer (&facts.source);
  if (out_fs_type != NULL)
    *out_fs_type = g_steal_pointer (&facts.fs_type);
  return TRUE;
}

gboolean
vcm_query_device_path_and_fs_type (VcmQuery *query,
                                   const char *mount_point,
                                   const VcmCredentials *creds,
                                   char **out_device,
                                   char **out_fs_type,
                                   GError **error)
{
  g_autofree char *normalized = NULL;
  VcmPathStat st;

  return vcm_query_stat_path ("mount_point", mount_point, creds, FALSE, &normalized, &st, error) &&
    vcm_query_device_path_and_fs_type_for_stat (query, normalized, &st, out_device, out_fs_type, error);
}

gboolean
vcm_query_is_device_mapper (VcmQuery *query, guint major, guint minor)
{
  g_autofree char *dm = NULL;

  g_return_val_if_fail (query != NULL, FALSE);

  dm = g_strdup_printf ("%s/dev/block/%u:%u/dm", query->sysfs_root, major, minor);
  return g_file_test (dm, G_FILE_TEST_EXISTS);
}

gboolean
vcm_query_is_system_mount (const char *path, gboolean *out_result, GError **error)
{
  g_autofree char *normalized = NULL;

  if (!vcm_validate_absolute_path ("path", path, error))
    return FALSE;
  normalized = vcm_path_normalize (path);

  if (out_result != NULL)
    *out_result = vcm_path_is_system_mount (normalized);
  return TRUE;
}

gboolean
vcm_query_host_device_needs_stat (const char *normalized)
{
  return vcm_path_has_prefix (normalized, "/dev") && !g_str_equal (normalized, "/dev");
}

gboolean
vcm_query_host_device_for_stat (const char *normalized, const VcmPathStat *st)
{
  if (!vcm_query_host_device_needs_stat (normalized))
    return vcm_path_host_device_rule (normalized, TRUE, S_IFDIR);
  return vcm_path_host_device_rule (normalized, st->exists, st->mode);
}

gboolean
vcm_query_is_host_device (const char *path,
                          const VcmCredentials *creds,
                          gboolean *out_result,
                          GError **error)
{
  g_autofree char *normalized = NULL;
  VcmPathStat st = { 0 };

  if (!vcm_validate_absolute_path ("path", path, error))
    return FALSE;
  normalized = vcm_path_normalize (path);
  /* missing or unreachable: not a host device, not an error */
  if (vcm_query_host_device_needs_stat (normalized) &&
      !vcm_query_stat_path ("path", normalized, creds, TRUE, NULL, &st, error))
    return FALSE;
  if (out_result != NULL)
    *out_result = vcm_query_host_device_for_stat (normalized, &st);
  return TRUE;
}

VcmPathFacts *
vcm_query_describe_stat (VcmQuery *query, const char *normalized, const VcmPathStat *st, GError **error)
{
  g_autoptr (VcmPathFacts) info = NULL;
  g_auto (MountFacts) facts = { 0 };

  g_return_val_if_fail (query != NULL, NULL);

  if (!lookup_mount (query, "path", normalized, st, TRUE, &facts, error))
    return NULL;

  info = g_new0 (VcmPathFacts, 1);
  info->major = st->major;
  info->minor = st->minor;
  info->mount_id = st->mount_id;
  info->mount_point = g_steal_pointer (&facts.target);
  info->device = g_steal_pointer (&facts.source);
  info->fs_type = g_steal_pointer (&facts.fs_type);
  info->read_only = facts.read_only;
  info->propagation = facts.propagation;
  info->device_mapper = vcm_query_is_device_mapper (query, st->major, st->minor);
  info->system_mount = vcm_path_is_system_mount (normalized);
  info->host_device = vcm_path_host_device_rule (normalized, TRUE, st->mode);
  return g_steal_pointer (&info);
}

VcmPathFacts *
vcm_query_describe_path (VcmQuery *query, const char *path, const VcmCredentials *creds, GError **error)
{
  g_autofree char *normalized = NULL;
  VcmPathStat st;

  if (!vcm_query_stat_path ("path", path, creds, FALSE, &normalized, &st, error))
    return NULL;
  return vcm_query_describe_stat (query, normalized, &st, error);
}
