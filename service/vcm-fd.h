/* vcm-fd: automatic closing of file descriptors (GLib 2.74 predates
 * g_autofd and g_clear_fd). errno is preserved across the close. */
#pragma once

#include <errno.h>
#include <unistd.h>
#include <glib.h>

static inline void
vcm_clear_fd (int *fd)
{
  if (*fd >= 0)
    {
      int errsv = errno;
      close (*fd);
      errno = errsv;
      *fd = -1;
    }
}

#define vcm_autofd __attribute__ ((cleanup (vcm_clear_fd)))
