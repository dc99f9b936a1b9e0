/* vcm-holdings: how many mounts each user that is not root holds through
 * the service, so that no one user can fill the kernel's fs.mount-max in
 * the service's mount namespace (and so deny everyone else a mount). Kept
 * per mount point the service made: the caller's uid and the mounts that
 * mount is in all (itself and the submounts that came with it). Taken in
 * the worker thread that attached the mount, against the mounts held and
 * those in flight; given back when the service's record of the mount goes
 * (an unmount, a rootfs gone behind its back; any other mount gone behind
 * its back when its user meets the bound: vcm_holdings_prune ()). After a restart, the counts
 * are read back from the identity records on the mount points (vcm-identity),
 * once, before the first mount is counted. Thread-safe. */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "vcm-mounttable.h"
#include "vcm-sys.h"

G_BEGIN_DECLS

/* The most mounts one user that is not root may hold through the service,
 * counting the submounts that came with each of its mounts. */
#define VCM_MAX_MOUNTS_HELD 4096

typedef struct _VcmHoldings VcmHoldings;

VcmHoldings *vcm_holdings_new (void);
void vcm_holdings_free (VcmHoldings *holdings);

/* Whether the counts were read back (vcm_holdings_load ()). */
gboolean vcm_holdings_loaded (VcmHoldings *holdings);

/* Reads the counts back from the identity records of the mounts in @table
 * beneath @shared_dir (opened as @shared_fd); does nothing once loaded.
 * Walks the shared dir's own filesystem only: for a worker thread. */
void
vcm_holdings_load (VcmHoldings *holdings, int shared_fd, const char *shared_dir, VcmMountTable *table);

/* Counts @n mounts for @uid at @mount_point, the mount of mountinfo ID
 * @id, unique ID @unique_id (0: not known) (in place of what was counted
 * there): FALSE, and nothing counted,
 * when what @uid holds would then be more than VCM_MAX_MOUNTS_HELD.
 * @out_held: what @uid holds (before). */
gboolean vcm_holdings_take (VcmHoldings *holdings,
                            uid_t uid,
                            const char *mount_point,
                            guint64 id,
                            guint64 unique_id,
                            guint n,
                            guint *out_held);

/* What is counted at @mount_point (0: nothing). */
guint vcm_holdings_lookup (VcmHoldings *holdings, const char *mount_point);

/* What @uid holds. */
guint vcm_holdings_held (VcmHoldings *holdings, uid_t uid);

/* Gives back what is counted at @mount_point (its mount is gone): if it
 * was counted for the mount of mountinfo ID @id and unique ID @unique_id
 * (as vcm_sys_mount_ids_match () tells; both 0: whichever). A mountinfo ID
 * is given to the next mount made once its mount is freed: the unique one
 * tells a mount made at the same place since where the kernel has it. */
void vcm_holdings_drop (VcmHoldings *holdings, const char *mount_point, guint64 id, guint64 unique_id);

/* vcm_holdings_drop (), and only if what is counted at @mount_point was
 * counted by @mark (a vcm_holdings_mark () taken before the mount went):
 * a mount made at the same place since keeps its count also where the
 * kernel has no unique mount IDs and gave it the gone one's mountinfo ID
 * (the lowest free one goes to the next mount made). */
void vcm_holdings_drop_taken_by (
  VcmHoldings *holdings, const char *mount_point, guint64 id, guint64 unique_id, guint64 mark);

/* Whether what is counted at @mount_point was counted after @mark (a
 * vcm_holdings_mark ()): a mount made there since. */
gboolean vcm_holdings_counted_since (VcmHoldings *holdings, const char *mount_point, guint64 mark);

/* What was counted so far, to be passed to vcm_holdings_prune (): take the
 * mark, then read @table. */
guint64 vcm_holdings_mark (VcmHoldings *holdings);

/* Gives back what is counted for @uid's mounts that are no longer in
 * @table (unmounted behind the service's back: a general bind, which no
 * watch follows), of those counted by @mark (a mount counted since may be
 * newer than @table). Returns how many mounts were given back. */
guint vcm_holdings_prune (VcmHoldings *holdings, uid_t uid, VcmMountTable *table, guint64 mark);

/* How often one user's calls at the bound may have the mount table read. */
#define VCM_HOLDINGS_PRUNE_INTERVAL_US G_USEC_PER_SEC

/* Whether a prune for @uid is due at monotonic time @now (and if so, notes
 * it done): at most one in VCM_HOLDINGS_PRUNE_INTERVAL_US per user, so
 * that calls at the bound do not each cost a read of the mount table. */
gboolean vcm_holdings_prune_due (VcmHoldings *holdings, uid_t uid, gint64 now);

G_END_DECLS
