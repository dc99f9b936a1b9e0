/* vcm-child: a short-lived helper process that runs one setup callback and
 * hands back the fd it made, over a SOCK_SEQPACKET socket pair (SCM_RIGHTS);
 * reaped by the caller. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vcm-child.h"

static gboolean
send_fd (int sock, int fd, int errsv)
{
  char buf[CMSG_SPACE (sizeof (int))] = { 0 };
  struct iovec iov = { .iov_base = &errsv, .iov_len = sizeof errsv };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

  if (fd >= 0)
    {
      struct cmsghdr *cmsg;

      msg.msg_control = buf;
      msg.msg_controllen = sizeof buf;
      cmsg = CMSG_FIRSTHDR (&msg);
      cmsg->cmsg_level = SOL_SOCKET;
      cmsg->cmsg_type = SCM_RIGHTS;
      cmsg->cmsg_len = CMSG_LEN (sizeof (int));
      memcpy (CMSG_DATA (cmsg), &fd, sizeof (int));
    }
  return sendmsg (sock, &msg, MSG_NOSIGNAL) == (ssize_t) sizeof errsv;
}

/* The fd, or -1 with errno: the helper's, or EPROTO on a broken exchange. */
static int
receive_fd (int sock)
{
  char buf[CMSG_SPACE (sizeof (int))] = { 0 };
  int errsv = 0;
  struct iovec iov = { .iov_base = &errsv, .iov_len = sizeof errsv };
  struct msghdr msg = {
    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = buf, .msg_controllen = sizeof buf
  };
  struct cmsghdr *cmsg;
  ssize_t n;
  int fd = -1;

  do
    n = recvmsg (sock, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n != (ssize_t) sizeof errsv)
    {
      if (n >= 0)
        errno = EPROTO;
      return -1;
    }
  for (cmsg = CMSG_FIRSTHDR (&msg); cmsg != NULL; cmsg = CMSG_NXTHDR (&msg, cmsg))
    if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS &&
        cmsg->cmsg_len == CMSG_LEN (sizeof (int)))
      memcpy (&fd, CMSG_DATA (cmsg), sizeof (int));
  if (fd < 0)
    errno = errsv != 0 ? errsv : EPROTO;
  return fd;
}

static void
reap (pid_t pid)
{
  int errsv = errno;

  while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
    ;
  errno = errsv;
}

int
vcm_child_run (VcmChildSetup setup, gpointer user_data, VcmChild *out_held)
{
  int sv[2];
  pid_t child;
  int fd;

  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return -1;
  child = fork ();
  if (child < 0)
    {
      int errsv = errno;

      close (sv[0]);
      close (sv[1]);
      errno = errsv;
      return -1;
    }
  if (child == 0)
    {
      int made;

      close (sv[0]);
      made = setup (user_data);
      if (!send_fd (sv[1], made, made < 0 ? errno : 0))
        _exit (1);
      /* held: until killed */
      if (out_held != NULL && made >= 0)
        for (;;)
          pause ();
      _exit (0);
    }
  close (sv[1]);
  fd = receive_fd (sv[0]);
  if (fd >= 0 && out_held != NULL)
    {
      out_held->pid = child;
      out_held->sock = sv[0];
      return fd;
    }
  {
    int errsv = errno;

    close (sv[0]);
    errno = errsv;
  }
  reap (child);
  return fd;
}

void
vcm_child_release (VcmChild *held)
{
  if (held->pid <= 0)
    return;
  kill (held->pid, SIGKILL);
  close (held->sock);
  reap (held->pid);
  held->pid = 0;
  held->sock = -1;
}
