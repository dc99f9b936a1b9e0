/* vcm-notify: the service manager's watchdog (systemd's sd_notify protocol). */
#pragma once

#include <glib.h>

/* When the service manager asked for watchdog pings (WATCHDOG_USEC, and
 * WATCHDOG_PID unset or ours), adds a source to the default main context that
 * sends WATCHDOG=1 at half the interval, so the pings stop when the main loop
 * stops turning. Returns the source ID, or 0 when no watchdog is wanted. */
guint vcm_notify_watchdog_start (void);
