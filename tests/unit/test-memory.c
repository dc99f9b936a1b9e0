/* test-memory: the deferred heap trim. Requests made together share one
 * trim after they stop; a sustained stream of them still trims, not only once
 * it stops, and once more after its last request; and a trim does give freed
 * heap in the middle of the heap back to the system (resident anonymous
 * memory goes down). The tests wait for the trims, not for a time. */
#include "config.h"

#include <string.h>

#include "vcm-memory.h"
#include "vcm-test-main.h"
#include "vcm-testing.h"

/* Under AddressSanitizer, malloc is not glibc's: nothing to trim. */
#if defined(__SANITIZE_ADDRESS__)
#define VCM_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VCM_TEST_ASAN 1
#endif
#endif

/* RssAnon of this process in KiB, from /proc/self/status. */
static guint64
rss_anon_kib (void)
{
  g_autofree char *text = NULL;
  const char *p;

  g_assert_true (g_file_get_contents ("/proc/self/status", &text, NULL, NULL));
  p = strstr (text, "\nRssAnon:");
  g_assert_nonnull (p);
  return g_ascii_strtoull (p + strlen ("\nRssAnon:"), NULL, 10);
}

/* How long to wait at most for a trim that must come (it is due 100 ms after
 * the last request): generous, and longer still where everything is slower
 * (VCM_TEST_TIMEOUT_MULTIPLIER, set for the sanitizer build). */
#define TRIM_WAIT_SECONDS 30

static guint
wait_seconds (void)
{
  const char *m = g_getenv ("VCM_TEST_TIMEOUT_MULTIPLIER");
  double f = m != NULL ? g_ascii_strtod (m, NULL) : 1.0;

  return (guint) (TRIM_WAIT_SECONDS * (f >= 1.0 ? f : 1.0));
}

static gboolean
on_deadline (gpointer user_data)
{
  gboolean *expired = user_data;

  *expired = TRUE;
  return G_SOURCE_REMOVE;
}

/* Whether a trim is still scheduled: the trim is the only timeout of this
 * program's main context that has no user data. */
static gboolean
trim_pending (void)
{
  return g_main_context_find_source_by_funcs_user_data (NULL, &g_timeout_funcs, NULL) != NULL;
}

/* Runs the main context until at least @count trims have run in all, and
 * with @settle until no trim is scheduled either; fails the test if that
 * takes longer than wait_seconds(). */
static void
wait_for_trims (guint count, gboolean settle)
{
  gboolean expired = FALSE;
  guint id = g_timeout_add_seconds (wait_seconds (), on_deadline, &expired);

  while ((vcm_memory_get_trim_count () < count || (settle && trim_pending ())) && !expired)
    g_main_context_iteration (NULL, TRUE);
  if (!expired)
    g_source_remove (id);
  if (vcm_memory_get_trim_count () < count)
    g_error ("%u trims after %u s, expected %u", vcm_memory_get_trim_count (), wait_seconds (), count);
  if (settle && trim_pending ())
    g_error ("a trim is still scheduled after %u s", wait_seconds ());
}

VCM_TEST ("/memory/requests-share-one-trim", test_requests_share_one_trim)
{
  guint before = vcm_memory_get_trim_count ();

  for (int i = 0; i < 5; i++)
    vcm_memory_trim_soon ();
  g_assert_cmpuint (vcm_memory_get_trim_count (), ==, before); /* deferred */
  g_assert_true (trim_pending ());
  wait_for_trims (before + 1, FALSE);
  g_assert_cmpuint (vcm_memory_get_trim_count (), ==, before + 1);
  g_assert_false (trim_pending ()); /* nothing more to come */
}

typedef struct {
  guint before; /* the trim count when the requests began */
  guint requests;
  guint last_count; /* the trim count at the last request */
  gint64 last_us;
  gint64 max_gap_us; /* between two requests, as this program saw them */
} Stream;

/* A request every 20 ms until a trim has run meanwhile, and one more after it
 * (so that the last request came after a trim). */
static gboolean
on_request (gpointer user_data)
{
  Stream *s = user_data;
  gint64 now = g_get_monotonic_time ();
  gboolean trimmed = vcm_memory_get_trim_count () > s->before;

  vcm_memory_trim_soon ();
  if (s->requests++ > 0)
    s->max_gap_us = MAX (s->max_gap_us, now - s->last_us);
  s->last_us = now;
  s->last_count = vcm_memory_get_trim_count ();
  return trimmed ? G_SOURCE_REMOVE : G_SOURCE_CONTINUE;
}

VCM_TEST ("/memory/sustained-requests-still-trim", test_sustained_requests_still_trim)
{
  Stream s = { .before = vcm_memory_get_trim_count () };

  g_timeout_add (20, on_request, &s);
  /* Not put off for as long as requests come (at least once a second). */
  wait_for_trims (s.before + 1, FALSE);
  /* Let the stream end: its last request comes after that trim. */
  while (g_main_context_find_source_by_user_data (NULL, &s) != NULL)
    g_main_context_iteration (NULL, TRUE);
  g_test_message ("%u requests, at most %.0f ms apart; %u trims meanwhile", s.requests,
                  s.max_gap_us / 1000.0, s.last_count - s.before);
  /* and once more after the last request, for what it freed (then none
   * is left scheduled) */
  wait_for_trims (s.last_count + 1, TRUE);
}

#define N_CHUNKS   (64 * 1024)
#define CHUNK_SIZE 512 /* below the mmap threshold: from the heap */
#define KEEP_EVERY 64  /* one chunk in 64 stays: about one per 32 KiB */

VCM_TEST ("/memory/trim-gives-memory-back", test_trim_gives_memory_back)
{
  g_autofree char **chunks = g_new0 (char *, N_CHUNKS);
  guint64 full, freed, trimmed;
  guint before = vcm_memory_get_trim_count ();

#ifdef VCM_TEST_ASAN
  g_test_skip ("the heap is AddressSanitizer's, not glibc's");
  return;
#endif
  for (guint i = 0; i < N_CHUNKS; i++)
    {
      chunks[i] = g_malloc (CHUNK_SIZE);
      memset (chunks[i], 0x5a, CHUNK_SIZE);
    }
  full = rss_anon_kib ();
  /* free all but a few: the heap cannot shrink from its top (the last chunk
   * stays), and free() alone leaves the pages between the survivors resident */
  for (guint i = 0; i < N_CHUNKS; i++)
    if (i % KEEP_EVERY != KEEP_EVERY - 1)
      g_clear_pointer (&chunks[i], g_free);
  freed = rss_anon_kib ();

  vcm_memory_trim_soon ();
  wait_for_trims (before + 1, FALSE);
  g_assert_cmpuint (vcm_memory_get_trim_count (), ==, before + 1);
  trimmed = rss_anon_kib ();
  g_test_message ("RssAnon: %" G_GUINT64_FORMAT " KiB in use, %" G_GUINT64_FORMAT
                  " KiB after free(), %" G_GUINT64_FORMAT " KiB after the trim",
                  full, freed, trimmed);
  /* 32 MiB were allocated; at least half of it goes back */
  g_assert_cmpuint (trimmed + 16 * 1024, <=, freed);

  for (guint i = 0; i < N_CHUNKS; i++)
    g_free (chunks[i]);
}

VCM_TEST_MAIN (NULL, NULL, NULL);
