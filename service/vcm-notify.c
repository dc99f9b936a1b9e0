/* vcm-notify: the service manager's watchdog. Sends WATCHDOG=1 datagrams to
 * $NOTIFY_SOCKET from a main-loop timer, as systemd's sd_notify(3) does.
 *
 * The protocol is written out here (one datagram on a unix socket) rather
 * than taken from libsystemd: the daemon then pings under every build, so
 * the WatchdogSec= of the installed unit can never kill a daemon that was
 * built without the library, and the daemon needs no further library. */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "vcm-notify.h"

/* Sends @state to the socket named by $NOTIFY_SOCKET (a path, or an abstract
 * name written with a leading '@'). */
static gboolean
notify_send (const char *state)
{
  const char *path = g_getenv ("NOTIFY_SOCKET");
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  socklen_t sa_len;
  size_t len;
  ssize_t n;
  int fd;

  if (path == NULL || (path[0] != '/' && path[0] != '@'))
    {
      errno = EINVAL;
      return FALSE;
    }
  len = strlen (path);
  if (len < 2 || len > sizeof sa.sun_path)
    {
      errno = len < 2 ? EINVAL : ENAMETOOLONG;
      return FALSE;
    }
  memcpy (sa.sun_path, path, len);
  if (sa.sun_path[0] == '@')
    sa.sun_path[0] = '\0';
  sa_len = (socklen_t) (offsetof (struct sockaddr_un, sun_path) + len);

  fd = socket (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return FALSE;
  do
    n = sendto (fd, state, strlen (state), MSG_NOSIGNAL, (struct sockaddr *) &sa, sa_len);
  while (n < 0 && errno == EINTR);
  close (fd);
  return n >= 0;
}

static gboolean
on_watchdog (gpointer user_data)
{
  static gboolean warned;

  if (!notify_send ("WATCHDOG=1") && !warned)
    {
      g_warning ("Cannot send a watchdog ping to the service manager: %s", g_strerror (errno));
      warned = TRUE;
    }
  return G_SOURCE_CONTINUE;
}

guint
vcm_notify_watchdog_start (void)
{
  const char *usec_s = g_getenv ("WATCHDOG_USEC");
  const char *pid_s = g_getenv ("WATCHDOG_PID");
  guint64 usec, pid;
  guint interval_ms;

  if (usec_s == NULL || !g_ascii_string_to_unsigned (usec_s, 10, 1, G_MAXUINT64, &usec, NULL))
    return 0;
  /* A watchdog set up for another process (our parent, say) is not ours. */
  if (pid_s != NULL &&
      (!g_ascii_string_to_unsigned (pid_s, 10, 1, G_MAXINT, &pid, NULL) || (pid_t) pid != getpid ()))
    return 0;

  interval_ms = (guint) MIN (usec / 2000, (guint64) G_MAXUINT);
  if (interval_ms == 0)
    interval_ms = 1;
  g_debug ("Watchdog: pinging the service manager every %u ms", interval_ms);
  on_watchdog (NULL);
  return g_timeout_add (interval_ms, on_watchdog, NULL);
}
