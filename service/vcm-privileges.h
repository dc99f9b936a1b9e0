/* vcm-privileges: what vcmountd may do as a process, narrowed at start to
 * what it needs, whoever started it (systemd, bus activation, by hand). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Keeps only the capabilities the service uses (SYS_ADMIN to mount;
 * DAC_OVERRIDE, DAC_READ_SEARCH and FOWNER for its own work beneath the
 * shared dir; SETUID and SETGID to take a caller's filesystem
 * credentials and to write the maps of an ID-mapped mount's user
 * namespace; SETFCAP because the kernel asks for it of a map that shows
 * files as host root's, the usual map for a container's root) in the
 * effective, permitted and bounding sets (and, only permitted, the dormant
 * ones below), clears the
 * inheritable and ambient ones, and sets no_new_privs. Without CAP_SYS_PTRACE
 * the kernel no longer lets the service follow /proc links of other users'
 * processes with a caller's credentials. Dropping the bounding set needs
 * CAP_SETPCAP; without it that step is skipped (nothing can be raised
 * back anyway). */
gboolean vcm_privileges_drop (GError **error);

/* SYS_PTRACE and SYS_CHROOT are kept permitted but not effective: raised by
 * this thread (only) for one step (looking at and joining a caller's mount
 * namespace) and lowered again at once. Lowering aborts when it cannot be
 * done: a thread must never keep them. Both keep errno. */
void vcm_privileges_raise_dormant (void);
void vcm_privileges_lower_dormant (void);

G_END_DECLS
