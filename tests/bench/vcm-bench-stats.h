/* vcm-bench-stats: timing samples taken with CLOCK_MONOTONIC, their
 * median/min/max, human-readable durations, and the aligned plain-text table
 * the benchmark prints. */
#pragma once

#include <glib.h>
#include <stdio.h>

G_BEGIN_DECLS

/* CLOCK_MONOTONIC in nanoseconds. */
gint64 vcm_bench_now_ns (void);

/* A series of samples in nanoseconds (doubles). */
GArray *vcm_bench_samples_new (void);
void vcm_bench_samples_add (GArray *samples, double ns);

typedef struct {
  guint n;
  double median;
  double min;
  double max;
} VcmBenchStats;

/* Median, min and max of @samples (left unsorted); all zero if empty. */
VcmBenchStats vcm_bench_stats_of (GArray *samples);

/* "12.3 us", "4.56 ms", "1.23 s". */
char *vcm_bench_format_ns (double ns);

typedef struct _VcmBenchTable VcmBenchTable;

VcmBenchTable *vcm_bench_table_new (guint n_columns);
void vcm_bench_table_free (VcmBenchTable *table);
/* Adds a row of n_columns cells (copied; NULL prints empty). */
void vcm_bench_table_add (VcmBenchTable *table, ...);
/* Replaces cell @column of the last row added. */
void vcm_bench_table_set_last (VcmBenchTable *table, guint column, const char *text);
/* A line of its own (a section title) in the table. */
void vcm_bench_table_add_title (VcmBenchTable *table, const char *title);
/* Column 0 left-aligned, the others right-aligned, two spaces apart. */
void vcm_bench_table_print (VcmBenchTable *table, FILE *out);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VcmBenchTable, vcm_bench_table_free)

G_END_DECLS
