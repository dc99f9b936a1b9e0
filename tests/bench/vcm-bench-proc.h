/* vcm-bench-proc: what both benchmark programs (vcm-bench and
 * vcm-bench-fallback) read of a process and make of mounts: a process's CPU
 * times from /proc/PID/stat, and the foreign bind mounts a case needs. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* utime and stime of @pid, in clock ticks; FALSE when /proc says nothing. */
gboolean vcm_bench_proc_cpu_ticks (int pid, guint64 *utime, guint64 *stime);

/* Bind-mounts DIR/src at DIR/d000000, DIR/d000001, ... until *@mounted
 * (counting those made) reaches @level; a failure ends the program (a case
 * without its mounts measures nothing). */
void vcm_bench_mount_binds (const char *dir, guint *mounted, guint level);

G_END_DECLS
