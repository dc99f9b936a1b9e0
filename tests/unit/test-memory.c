/* test-memory: the deferred heap trim. Requests made together share one
 * trim after they stop; a sustained stream of them still trims at least once
 * a second; and a trim does give freed heap in the middle of the heap back
 * to the system (resident anonymous memory goes down). */
#include "config.h"

#include <string.h>

#include "vcm-memory.h"

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

static gboolean
on_quit (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

static void
run_for (guint ms)
{
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);

  g_timeout_add (ms, on_quit, loop);
  g_main_loop_run (loop);
}

static void
test_requests_share_one_trim (void)
{
  guint before = vcm_memory_get_trim_count ();

  for (int i = 0; i < 5; i++)
    vcm_memory_trim_soon ();
  g_assert_cmpuint (vcm_memory_get_trim_count (), ==, before);   /* deferred */
  run_for (600);
  g_assert_cmpuint (vcm_memory_get_trim_count (), ==, before + 1);
  run_for (300);
  g_assert_cmpuint (vcm_memory_get_trim_count (), ==, before + 1);  /* nothing pending */
}

static gboolean
on_request (gpointer user_data)
{
  guint *left = user_data;

  vcm_memory_trim_soon ();
  return --(*left) > 0 ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static void
test_sustained_requests_still_trim (void)
{
  guint before = vcm_memory_get_trim_count ();
  guint left = 125;    /* one request every 20 ms for 2.5 s */
  guint during;

  g_timeout_add (20, on_request, &left);
  while (left > 0)
    g_main_context_iteration (NULL, TRUE);
  during = vcm_memory_get_trim_count () - before;
  g_assert_cmpuint (during, >=, 1);   /* not put off for as long as requests come */
  run_for (600);
  /* and once more after the last request, for what it freed */
  g_assert_cmpuint (vcm_memory_get_trim_count () - before, >, during);
}

#define N_CHUNKS (64 * 1024)
#define CHUNK_SIZE 512          /* below the mmap threshold: from the heap */
#define KEEP_EVERY 64           /* one chunk in 64 stays: about one per 32 KiB */

static void
test_trim_gives_memory_back (void)
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
  run_for (600);
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

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/memory/requests-share-one-trim", test_requests_share_one_trim);
  g_test_add_func ("/memory/sustained-requests-still-trim", test_sustained_requests_still_trim);
  g_test_add_func ("/memory/trim-gives-memory-back", test_trim_gives_memory_back);
  return g_test_run ();
}
