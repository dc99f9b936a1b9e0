/* vcm-refuse-syscalls: runs a command under a seccomp filter that refuses
 * the named syscalls, so the integration tests can start vcmountd the way a
 * unit's SystemCallFilter= or RestrictSUIDSGID= would confine it.
 *
 * Usage: vcm-refuse-syscalls ERRNO:NAME[,NAME...] COMMAND [ARG...] */
#include "config.h"

#include <stdio.h>
#include <unistd.h>

#include "vcm-seccomp.h"

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;

  if (argc < 3)
    {
      fprintf (stderr, "usage: %s ERRNO:NAME[,NAME...] COMMAND [ARG...]\n", argv[0]);
      return 2;
    }
  if (!vcm_seccomp_refuse_spec (argv[1], &error))
    {
      fprintf (stderr, "%s: %s\n", argv[0], error->message);
      return 2;
    }
  execvp (argv[2], argv + 2);
  perror (argv[2]);
  return 127;
}
