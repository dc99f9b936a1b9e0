/* vcm-watch-check: the remount checker of the fanotify change source.
 * Remounts raise no mount event, only a mountinfo wake-up: the checker
 * statmounts every tracked rootfs (one call each, no string) and reports
 * those whose read-only flag changed; those gone or never identified by
 * unique ID are probed by path. A wake-up without mount events is checked at
 * once; one that came with mount events (a remount may hide among them) a
 * little later, paced so that checks cost ~2 % of a core however many
 * rootfs there are. Beyond a few rootfs the statmounts run in a worker. */
#pragma once

#include "vcm-watch-private.h"

G_BEGIN_DECLS

typedef struct _VcmRemountCheck VcmRemountCheck;

VcmRemountCheck *vcm_remount_check_new (VcmWatch *watch);
void vcm_remount_check_free (VcmRemountCheck *check);
void vcm_remount_check_stop (VcmRemountCheck *check);

/* Checks every tracked rootfs now, in this thread (a check in a worker is void). */
void vcm_remount_check_now (VcmRemountCheck *check);
/* Checks soon: now for a few rootfs, else in a worker thread. */
void vcm_remount_check_start (VcmRemountCheck *check);
/* A check is owed (a wake-up came with mount events): done a little later. */
void vcm_remount_check_owe (VcmRemountCheck *check);
/* Whether a check is owed or in a worker thread. */
gboolean vcm_remount_check_pending (VcmRemountCheck *check);
/* Whether a read or a check in flight may be older than a change the
 * service makes now (the source's older_work_pending). */
gboolean vcm_remount_check_older_work_pending (VcmRemountCheck *check);
/* The service's own changes remembered against older work are forgotten
 * once no read or check is in flight. */
void vcm_remount_check_forget_local_if_idle (VcmRemountCheck *check);

G_END_DECLS
