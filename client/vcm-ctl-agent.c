/* vcm-ctl-agent: polkit's text agent (pkttyagent) for the duration of a call,
 * spawned and awaited the way systemctl does it. */
#include "vcm-ctl-agent.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <glib-unix.h>

/* The fd number the agent sees its notification pipe as. */
#define AGENT_NOTIFY_FD 3

struct _VcmCtlAgent {
  GSubprocess *process;
};

gboolean
vcm_ctl_agent_wanted (gboolean no_ask_password)
{
  return !no_ask_password && isatty (STDIN_FILENO);
}

/* Blocks until the write end of @fd is closed by everyone (the agent closes
 * it once registered, or dies). */
static gboolean
wait_for_eof (int fd, GError **error)
{
  char buf[64];

  for (;;)
    {
      ssize_t n = read (fd, buf, sizeof buf);
      if (n == 0)
        return TRUE;
      if (n < 0)
        {
          int errsv = errno;
          if (errsv == EINTR)
            continue;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                       "waiting for the polkit agent: %s", g_strerror (errsv));
          return FALSE;
        }
    }
}

VcmCtlAgent *
vcm_ctl_agent_start (GError **error)
{
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GSubprocess) process = NULL;
  g_autofree char *pid_arg = NULL;
  g_autofree char *fd_arg = NULL;
  int fds[2];
  VcmCtlAgent *agent;

  /* Root is always authorized, by the service and by polkit: no prompt. */
  if (geteuid () == 0)
    return NULL;

  if (!g_unix_open_pipe (fds, FD_CLOEXEC, error))
    return NULL;

  pid_arg = g_strdup_printf ("%d", (int) getpid ());
  fd_arg = g_strdup_printf ("%d", AGENT_NOTIFY_FD);

  /* Not --fallback, unlike systemctl: polkitd consults a fallback agent only
   * when the subject has a login session, so without logind (containers,
   * logins without pam_systemd) nobody would be asked. A plain agent for this
   * process is asked for the calls of this process (and its bus names) only. */
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  /* The launcher owns the write end from here on and closes it when freed. */
  g_subprocess_launcher_take_fd (launcher, fds[1], AGENT_NOTIFY_FD);
  process = g_subprocess_launcher_spawn (launcher, error, "pkttyagent", "--notify-fd", fd_arg,
                                         "--process", pid_arg, NULL);
  /* Drop our copy of the write end, so that EOF means the agent closed it. */
  g_clear_object (&launcher);
  if (process == NULL)
    {
      g_close (fds[0], NULL);
      g_prefix_error (error, "cannot start pkttyagent: ");
      return NULL;
    }

  if (!wait_for_eof (fds[0], error))
    {
      g_close (fds[0], NULL);
      g_subprocess_force_exit (process);
      g_subprocess_wait (process, NULL, NULL);
      return NULL;
    }
  g_close (fds[0], NULL);

  agent = g_new0 (VcmCtlAgent, 1);
  agent->process = g_steal_pointer (&process);
  return agent;
}

void
vcm_ctl_agent_stop (VcmCtlAgent *agent)
{
  if (agent == NULL)
    return;
  g_subprocess_send_signal (agent->process, SIGTERM);
  g_subprocess_wait (agent->process, NULL, NULL);
  g_object_unref (agent->process);
  g_free (agent);
}
