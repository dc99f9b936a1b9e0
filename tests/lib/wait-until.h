/* wait-until: how the client tests wait for an answer or a signal: the
 * main context run until a condition holds, bounded by 30 s times
 * VCM_TEST_TIMEOUT_MULTIPLIER. Included by each test program (static: one
 * copy in each). */
#pragma once

#include <glib.h>

/* The bound on a wait for the service's answer or a signal: 30 s times
 * VCM_TEST_TIMEOUT_MULTIPLIER (valgrind and sanitizer builds set it). */
#define WAIT_SECONDS 30

static guint
wait_seconds (void)
{
  const char *m = g_getenv ("VCM_TEST_TIMEOUT_MULTIPLIER");
  double f = m != NULL ? g_ascii_strtod (m, NULL) : 1.0;

  return (guint) (WAIT_SECONDS * (f > 1.0 ? f : 1.0));
}

static gboolean timed_out;

static gboolean
on_timeout (gpointer user_data)
{
  timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the main context until @cond holds, at most wait_seconds(). */
#define WAIT_UNTIL(cond) \
  G_STMT_START \
  { \
    guint _timeout_id = g_timeout_add_seconds (wait_seconds (), on_timeout, NULL); \
    timed_out = FALSE; \
    while (!(cond) && !timed_out) \
      g_main_context_iteration (NULL, TRUE); \
    if (!timed_out) \
      g_source_remove (_timeout_id); \
    if (!(cond)) \
      g_error ("timed out waiting for %s", #cond); \
  } \
  G_STMT_END
