/* vcm-bench-stats: timing samples taken with CLOCK_MONOTONIC, their
 * median/min/max, human-readable durations, and the aligned plain-text table
 * the benchmark prints. */
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "vcm-bench-stats.h"

struct _VcmBenchTable {
  guint n_columns;
  GPtrArray *rows; /* GStrv of n_columns cells, or a 1-element strv with a leading '\1' for titles */
};

gint64
vcm_bench_now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * G_GINT64_CONSTANT (1000000000) + ts.tv_nsec;
}

GArray *
vcm_bench_samples_new (void)
{
  return g_array_new (FALSE, FALSE, sizeof (double));
}

void
vcm_bench_samples_add (GArray *samples, double ns)
{
  g_array_append_val (samples, ns);
}

static int
cmp_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

VcmBenchStats
vcm_bench_stats_of (GArray *samples)
{
  VcmBenchStats st = { 0 };
  g_autoptr (GArray) sorted = NULL;
  guint n;

  if (samples == NULL || samples->len == 0)
    return st;
  n = samples->len;
  sorted = g_array_sized_new (FALSE, FALSE, sizeof (double), n);
  g_array_append_vals (sorted, samples->data, n);
  g_array_sort (sorted, cmp_double);
  st.n = n;
  st.min = g_array_index (sorted, double, 0);
  st.max = g_array_index (sorted, double, n - 1);
  if (n % 2 == 1)
    st.median = g_array_index (sorted, double, n / 2);
  else
    st.median = (g_array_index (sorted, double, n / 2 - 1) + g_array_index (sorted, double, n / 2)) / 2;
  return st;
}

char *
vcm_bench_format_ns (double ns)
{
  if (ns < 1e3)
    return g_strdup_printf ("%.0f ns", ns);
  if (ns < 1e6)
    return g_strdup_printf ("%.1f us", ns / 1e3);
  if (ns < 1e9)
    return g_strdup_printf ("%.2f ms", ns / 1e6);
  return g_strdup_printf ("%.2f s", ns / 1e9);
}

VcmBenchTable *
vcm_bench_table_new (guint n_columns)
{
  VcmBenchTable *t = g_new0 (VcmBenchTable, 1);

  t->n_columns = n_columns;
  t->rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  return t;
}

void
vcm_bench_table_free (VcmBenchTable *t)
{
  if (t == NULL)
    return;
  g_ptr_array_unref (t->rows);
  g_free (t);
}

void
vcm_bench_table_add (VcmBenchTable *t, ...)
{
  va_list ap;
  char **row = g_new0 (char *, t->n_columns + 1);

  va_start (ap, t);
  for (guint i = 0; i < t->n_columns; i++)
    {
      const char *cell = va_arg (ap, const char *);
      row[i] = g_strdup (cell ? cell : "");
    }
  va_end (ap);
  g_ptr_array_add (t->rows, row);
}

void
vcm_bench_table_set_last (VcmBenchTable *t, guint column, const char *text)
{
  char **row;

  g_return_if_fail (t->rows->len > 0 && column < t->n_columns);
  row = t->rows->pdata[t->rows->len - 1];
  g_return_if_fail (row[0][0] != '\1');
  g_free (row[column]);
  row[column] = g_strdup (text ? text : "");
}

void
vcm_bench_table_add_title (VcmBenchTable *t, const char *title)
{
  char **row = g_new0 (char *, 2);

  row[0] = g_strconcat ("\1", title, NULL);
  g_ptr_array_add (t->rows, row);
}

void
vcm_bench_table_print (VcmBenchTable *t, FILE *out)
{
  gsize *width = g_new0 (gsize, t->n_columns);

  for (guint r = 0; r < t->rows->len; r++)
    {
      char **row = t->rows->pdata[r];

      if (row[0][0] == '\1')
        continue;
      for (guint c = 0; c < t->n_columns; c++)
        width[c] = MAX (width[c], strlen (row[c]));
    }
  for (guint r = 0; r < t->rows->len; r++)
    {
      char **row = t->rows->pdata[r];
      g_autoptr (GString) line = g_string_new (NULL);

      if (row[0][0] == '\1')
        {
          fprintf (out, "%s\n", row[0] + 1);
          continue;
        }
      for (guint c = 0; c < t->n_columns; c++)
        {
          gsize pad = width[c] - strlen (row[c]);

          if (c > 0)
            g_string_append (line, "  ");
          if (c == 0)
            {
              g_string_append (line, row[c]);
              if (c + 1 < t->n_columns)
                for (gsize i = 0; i < pad; i++)
                  g_string_append_c (line, ' ');
            }
          else
            {
              for (gsize i = 0; i < pad; i++)
                g_string_append_c (line, ' ');
              g_string_append (line, row[c]);
            }
        }
      while (line->len > 0 && line->str[line->len - 1] == ' ')
        g_string_truncate (line, line->len - 1);
      fprintf (out, "%s\n", line->str);
    }
  g_free (width);
}
