/* vcm-child: a short-lived helper process that does one setup the
 * service's own threads cannot (join or make a namespace) and hands back the
 * file descriptor it made. */
#pragma once

#include <sys/types.h>
#include <glib.h>

/* Runs in the child, after fork(): only async-signal-safe calls (the
 * service has threads). Returns the fd to hand back, or -1 with errno. */
typedef int (*VcmChildSetup) (gpointer user_data);

/* A child kept alive after its fd was handed back, for what needs a process
 * in its namespace (its /proc/PID files). */
typedef struct {
  pid_t pid;
  int sock;
} VcmChild;

/* Forks a child that runs @setup and sends back the fd it returns (or its
 * errno) over a socket pair; the child exits at once, or with @out_held,
 * when vcm_child_release() kills it. Returns the fd
 * (close-on-exec), or -1 with errno (the child's, or the exchange's). */
int vcm_child_run (VcmChildSetup setup, gpointer user_data, VcmChild *out_held);

/* Lets a held child exit and reaps it. */
void vcm_child_release (VcmChild *held);
