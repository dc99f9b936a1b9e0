/* vcm-memory: gives the heap that large, short-lived work freed back to the
 * system (see vcm-memory.c). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Work on this many mounts or rootfs and more is "large". */
#define VCM_MEMORY_LARGE_WORK 1024

/* Asks for one malloc_trim() a moment from now in the default main context
 * (calls in the meantime share it). Main thread only. */
void vcm_memory_trim_soon (void);

G_END_DECLS
