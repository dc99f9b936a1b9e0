/* vcm-memory: gives the heap that large, short-lived work freed back to the
 * system. With thousands of rootfs, a table re-read or a ListRootfs reply
 * allocates megabytes that are freed a moment later; glibc keeps freed chunks
 * in its arenas and returns only the top of the main heap by itself, so the
 * daemon's resident size would stay at its high-water mark. One
 * malloc_trim(0) shortly after such work (it also releases the free pages in
 * the middle of every arena) brings it back to what is live. Deferred and
 * shared, so a burst of changes costs one trim, not one per change. */
#include "config.h"

#include <malloc.h>

#include "vcm-memory.h"
#include "vcm-testing.h"

#define TRIM_DELAY_MS     100              /* after the last large work ... */
#define TRIM_MAX_DEFER_US (G_USEC_PER_SEC) /* ... or at least once a second while it goes on */

static guint trim_source;
static guint trim_count;
static gint64 first_request_us; /* of the requests the pending trim serves */
static gint64 last_request_us;

static gboolean
on_trim (gpointer user_data)
{
  gint64 now = g_get_monotonic_time ();
  gboolean recent = now - last_request_us < TRIM_DELAY_MS * 1000;
  gint64 took;

  /* Memory is freed a moment after the request (a reply is freed once the
   * bus thread has written it): wait until requests stop for a while. */
  if (recent && now - first_request_us < TRIM_MAX_DEFER_US)
    return G_SOURCE_CONTINUE;

  malloc_trim (0);
  trim_count++;
  took = g_get_monotonic_time () - now;
  g_debug ("Gave freed heap back to the system (%" G_GINT64_FORMAT " us)", took);

  if (recent)
    {
      first_request_us = now; /* the latest work's memory: next time */
      return G_SOURCE_CONTINUE;
    }
  trim_source = 0;
  return G_SOURCE_REMOVE;
}

void
vcm_memory_trim_soon (void)
{
  last_request_us = g_get_monotonic_time ();
  if (trim_source != 0)
    return;
  first_request_us = last_request_us;
  trim_source = g_timeout_add_full (G_PRIORITY_LOW, TRIM_DELAY_MS, on_trim, NULL, NULL);
}

guint
vcm_memory_get_trim_count (void)
{
  return trim_count;
}
