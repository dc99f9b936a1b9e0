/* vcm-fsgate: at most so many walks of callers that are not root on one
 * filesystem at once, so that a filesystem that never answers (a FUSE
 * server, a hung network mount) holds at most that share of the worker
 * threads, whoever names paths on it. A walk is counted on the filesystem
 * (st_dev, read without asking the filesystem) it last reached, until it
 * moves on or ends; a walk that reaches a filesystem with its share taken
 * waits a little for a place, and is turned away (its call refused with
 * LimitsExceeded) if none comes. Thread-side: called from the worker
 * threads that resolve and run calls; knows nothing of D-Bus. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Walks of callers that are not root on one filesystem at once, and how
 * long one more waits for a place before it is turned away. */
#define VCM_FSGATE_MAX_PER_FS 8
#define VCM_FSGATE_WAIT_MS    2000

/* The calling thread walks for a caller that is not root until
 * vcm_fsgate_end(): vcm_fsgate_reach() counts it. Without it (root, the
 * service's own walks) vcm_fsgate_reach() does nothing. */
void vcm_fsgate_begin (void);
void vcm_fsgate_end (void);

/* The thread's walk is about to ask the filesystem holding @fd: counted on
 * it (and no longer on the one it was on). FALSE, errno EAGAIN, when that
 * filesystem kept its share of walks for VCM_FSGATE_WAIT_MS: the walk is to
 * stop (vcm_fsgate_turned_away() says so until vcm_fsgate_end()). */
gboolean vcm_fsgate_reach (int fd);

/* Whether the thread's walk was turned away since vcm_fsgate_begin(). */
gboolean vcm_fsgate_turned_away (void);

/* The refusal of a call whose walk to @path (its argument @arg_name) was
 * turned away: VCM_ERROR_LIMITS_EXCEEDED, naming nobody else's calls. */
void vcm_fsgate_set_error (GError **error, const char *arg_name, const char *path);

/* Walks counted on the filesystem of device @dev now (for tests). */
guint vcm_fsgate_get_count (dev_t dev);

/* For tests: the share and the wait, instead of the defaults (0: default). */
void vcm_fsgate_set_limits (guint max_per_fs, guint wait_ms);

G_END_DECLS
