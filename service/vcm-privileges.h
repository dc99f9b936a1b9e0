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
 * files as host root's, the usual map for a container's root) in the effective, permitted and bounding sets, clears the
 * inheritable and ambient ones, and sets no_new_privs. Without CAP_SYS_PTRACE
 * the kernel no longer lets the service follow /proc links of other users'
 * processes with a caller's credentials. Dropping the bounding set needs
 * CAP_SETPCAP; without it that step is skipped (nothing can be raised
 * back anyway). */
gboolean vcm_privileges_drop (GError **error);

G_END_DECLS
