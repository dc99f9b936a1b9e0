/* vcm-seccomp: a seccomp filter for the tests that refuses chosen syscalls
 * with ENOSYS or EPERM, as systemd's SystemCallFilter= and RestrictSUIDSGID=
 * do, so that the service's fallbacks run the way they run under a unit. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Installs, for this thread and those it creates later, a filter that fails
 * each syscall of @names (openat2, open_tree, move_mount, mount_setattr,
 * statmount, listmount, fanotify_init, fanotify_mark) with @errsv.
 * FALSE with @error on an unknown name or
 * when the kernel refuses the filter. */
gboolean vcm_seccomp_refuse (const char *const *names, int errsv, GError **error);

/* Parses SPEC "ERRNO:NAME[,NAME...]" (ERRNO is ENOSYS or EPERM), e.g.
 * "ENOSYS:openat2", and installs the filter. */
gboolean vcm_seccomp_refuse_spec (const char *spec, GError **error);

/* The environment variable the mount unit tests read a SPEC from. */
#define VCM_SECCOMP_ENV "VCM_TEST_REFUSE_SYSCALLS"

G_END_DECLS
