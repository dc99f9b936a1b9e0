/* vcm-fsgate: walks of callers that are not root, counted per filesystem.
 * See vcm-fsgate.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "vcm-error.h"
#include "vcm-fsgate.h"

static GMutex lock;
static GCond freed;
static GHashTable *counts; /* dev -> walks on it (while any) */
static guint max_per_fs = VCM_FSGATE_MAX_PER_FS;
static guint wait_ms = VCM_FSGATE_WAIT_MS;

typedef struct {
  gboolean active;
  gboolean on_fs; /* counted on dev */
  dev_t dev;
  gboolean turned_away;
} Walk;

static __thread Walk walk;

/* With the lock held. */
static void
leave_fs (void)
{
  guint n;

  if (!walk.on_fs)
    return;
  walk.on_fs = FALSE;
  n = GPOINTER_TO_UINT (g_hash_table_lookup (counts, GSIZE_TO_POINTER ((gsize) walk.dev)));
  g_assert (n > 0);
  if (n > 1)
    g_hash_table_insert (counts, GSIZE_TO_POINTER ((gsize) walk.dev), GUINT_TO_POINTER (n - 1));
  else
    g_hash_table_remove (counts, GSIZE_TO_POINTER ((gsize) walk.dev));
  g_cond_broadcast (&freed);
}

void
vcm_fsgate_begin (void)
{
  g_return_if_fail (!walk.active);
  walk = (Walk){ .active = TRUE };
}

void
vcm_fsgate_end (void)
{
  if (!walk.active)
    return;
  g_mutex_lock (&lock);
  leave_fs ();
  g_mutex_unlock (&lock);
  walk = (Walk){ 0 };
}

gboolean
vcm_fsgate_turned_away (void)
{
  return walk.active && walk.turned_away;
}

gboolean
vcm_fsgate_reach (int fd)
{
  struct statx stx = { 0 };
  gint64 deadline;
  dev_t dev;
  gpointer key;

  if (!walk.active)
    return TRUE;
  if (walk.turned_away)
    {
      errno = EAGAIN;
      return FALSE;
    }
  /* The device is the VFS's: AT_STATX_DONT_SYNC keeps a FUSE or network
   * filesystem from being asked. Where it cannot be told, not counted. */
  if (statx (fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, 0, &stx) < 0)
    return TRUE;
  dev = makedev (stx.stx_dev_major, stx.stx_dev_minor);
  if (walk.on_fs && walk.dev == dev)
    return TRUE;

  key = GSIZE_TO_POINTER ((gsize) dev);
  deadline = g_get_monotonic_time () + (gint64) wait_ms * G_TIME_SPAN_MILLISECOND;
  g_mutex_lock (&lock);
  if (counts == NULL)
    counts = g_hash_table_new (NULL, NULL);
  leave_fs ();
  while (GPOINTER_TO_UINT (g_hash_table_lookup (counts, key)) >= max_per_fs)
    if (!g_cond_wait_until (&freed, &lock, deadline) &&
        GPOINTER_TO_UINT (g_hash_table_lookup (counts, key)) >= max_per_fs)
      {
        g_mutex_unlock (&lock);
        walk.turned_away = TRUE;
        errno = EAGAIN;
        return FALSE;
      }
  g_hash_table_insert (counts, key,
                       GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (counts, key)) + 1));
  walk.on_fs = TRUE;
  walk.dev = dev;
  g_mutex_unlock (&lock);
  return TRUE;
}

guint
vcm_fsgate_get_count (dev_t dev)
{
  guint n;

  g_mutex_lock (&lock);
  n =
    counts != NULL ? GPOINTER_TO_UINT (g_hash_table_lookup (counts, GSIZE_TO_POINTER ((gsize) dev))) : 0;
  g_mutex_unlock (&lock);
  return n;
}

void
vcm_fsgate_set_limits (guint max, guint wait)
{
  g_mutex_lock (&lock);
  max_per_fs = max > 0 ? max : VCM_FSGATE_MAX_PER_FS;
  wait_ms = wait > 0 ? wait : VCM_FSGATE_WAIT_MS;
  g_mutex_unlock (&lock);
}

void
vcm_fsgate_set_error (GError **error, const char *arg_name, const char *path)
{
  g_set_error (error, VCM_ERROR, VCM_ERROR_LIMITS_EXCEEDED,
               "%s: the filesystem holding '%s' is slow to answer, and as many calls as one "
               "filesystem may hold up are waiting for it; try again later",
               arg_name, path);
}
