/* vcm-callerproc: the process that made a call, as the kernel knows it: a
 * pidfd of the pid the bus reported, checked to belong to the uid the bus
 * reported (so a pid reused by someone else's process is never taken for
 * the caller), and its mount namespace, compared with the service's. */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

/* A pidfd of @pid, whose real or effective uid is @uid, alive after the
 * check (so the pid was not reused meanwhile). -1 with @error
 * (VCM_ERROR_FAILED) naming the process otherwise. */
int vcm_caller_pidfd_open (pid_t pid, uid_t uid, GError **error);

/* Whether the process of @pidfd (@pid) is in this process's mount
 * namespace. FALSE with @error when that cannot be told. */
gboolean vcm_caller_same_mount_namespace (int pidfd, pid_t pid, gboolean *out_same, GError **error);

/* For the methods that take a source path (@method): refuses with
 * VCM_ERROR_FOREIGN_MOUNT_NAMESPACE naming @fd_method when the caller (@pid,
 * @uid) is in another mount namespace than the service's. A caller the bus
 * gave no pid for is taken to be in the service's. */
gboolean vcm_caller_check_mount_namespace (
  pid_t pid, uid_t uid, const char *method, const char *fd_method, GError **error);

G_END_DECLS
