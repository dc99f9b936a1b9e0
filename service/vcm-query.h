/* vcm-query: device and filesystem queries about paths and mounts
 * (GetDeviceForPath, GetDevicePathAndFsType, IsDeviceMapper, IsSystemMount,
 * IsHostDevice, DescribePath). No D-Bus here. */
#pragma once

#include <glib-object.h>
#include <sys/types.h>

#include "vcm-creds.h"
#include "vcm-mounttable.h"

G_BEGIN_DECLS

#define VCM_TYPE_QUERY (vcm_query_get_type ())
G_DECLARE_FINAL_TYPE (VcmQuery, vcm_query, VCM, QUERY, GObject)

typedef struct {
  guint major;
  guint minor;
  guint64 mount_id;
  char *mount_point;
  char *device;
  char *fs_type;
  gboolean read_only;
  const char *propagation;
  gboolean device_mapper;
  gboolean system_mount;
  gboolean host_device;
} VcmPathFacts;

void vcm_path_facts_free (VcmPathFacts *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VcmPathFacts, vcm_path_facts_free)

/* What one statx of a path, opened as the caller, says. */
typedef struct {
  gboolean exists; /* FALSE: missing or unreachable (only where that was allowed) */
  guint64 mount_id;
  guint64 unique_id; /* 0 where the kernel has no STATX_MNT_ID_UNIQUE */
  guint major;
  guint minor;
  gboolean mount_root;
  mode_t mode;
} VcmPathStat;

/* Validates and normalizes @path, opens it with @creds and statx()es it.
 * Touches no shared state: it may run in a worker thread (a path on a
 * filesystem that does not answer then holds up only that thread). With
 * @missing_ok a missing or unreachable path is ->exists FALSE, not an error. */
gboolean vcm_query_stat_path (const char *arg_name,
                              const char *path,
                              const VcmCredentials *creds,
                              gboolean missing_ok,
                              char **out_normalized,
                              VcmPathStat *out_stat,
                              GError **error);

/* @sysfs_root: normally "/sys"; tests point it at a fake tree. Tables come
 * from @source; @source_destroy (may be NULL) lets @source_data go with the
 * query (e.g. g_object_unref of the object that provides them). */
VcmQuery *vcm_query_new (const char *sysfs_root,
                         VcmMountTableSource source,
                         gpointer source_data,
                         GDestroyNotify source_destroy);

/* Every query validates its path argument (VCM_ERROR_INVALID_ARGUMENT naming
 * @arg_name ... i.e. "path"/"mount_point") and normalizes it first. */
gboolean vcm_query_device_for_path (VcmQuery *query,
                                    const char *path,
                                    const VcmCredentials *creds,
                                    guint *out_major,
                                    guint *out_minor,
                                    char **out_mount_point,
                                    GError **error);

/* VCM_ERROR_NOT_MOUNTED when @mount_point is not the root of a mount. */
gboolean vcm_query_device_path_and_fs_type (VcmQuery *query,
                                            const char *mount_point,
                                            const VcmCredentials *creds,
                                            char **out_device,
                                            char **out_fs_type,
                                            GError **error);

gboolean vcm_query_is_device_mapper (VcmQuery *query, guint major, guint minor);

gboolean vcm_query_is_system_mount (const char *path, gboolean *out_result, GError **error);

gboolean vcm_query_is_host_device (const char *path,
                                   const VcmCredentials *creds,
                                   gboolean *out_result,
                                   GError **error);

VcmPathFacts *
vcm_query_describe_path (VcmQuery *query, const char *path, const VcmCredentials *creds, GError **error);

/* The same queries for a path already looked at (vcm_query_stat_path):
 * @normalized is its normalized form. These read the mount table, not the
 * path, and belong to the main thread. */
gboolean vcm_query_device_for_stat (VcmQuery *query,
                                    const char *normalized,
                                    const VcmPathStat *st,
                                    guint *out_major,
                                    guint *out_minor,
                                    char **out_mount_point,
                                    GError **error);
gboolean vcm_query_device_path_and_fs_type_for_stat (VcmQuery *query,
                                                     const char *normalized,
                                                     const VcmPathStat *st,
                                                     char **out_device,
                                                     char **out_fs_type,
                                                     GError **error);
VcmPathFacts *
vcm_query_describe_stat (VcmQuery *query, const char *normalized, const VcmPathStat *st, GError **error);
/* IsHostDevice looks at the path only beneath /dev. */
gboolean vcm_query_host_device_needs_stat (const char *normalized);
gboolean vcm_query_host_device_for_stat (const char *normalized, const VcmPathStat *st);

G_END_DECLS
