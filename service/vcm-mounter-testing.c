/* vcm-mounter-testing: the mounter's operations in one step, prepared and
 * run without any authorization between: for the tests and benchmarks
 * only (declared in vcm-testing.h). */
#include "config.h"

#include "vcm-mounter.h"
#include "vcm-testing.h"

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
  detached = vcm_mounter_run_unmount_rootfs (self, req, NULL, error);
  vcm_mount_request_free (req);
  return detached;
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

GStrv
vcm_mounter_unmount (VcmMounter *self, const char *mount_point, GError **error)
{
  VcmMountRequest *req = vcm_mounter_prepare_unmount (self, mount_point, NULL, error);
  GStrv detached;

  if (req == NULL)
    return NULL;
  detached = vcm_mounter_run_unmount (self, req, NULL, error);
  vcm_mount_request_free (req);
  return detached;
}
