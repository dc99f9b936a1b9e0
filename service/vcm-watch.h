/* vcm-watch: the service's view of the kernel's mount table. Owns the cached
 * table (kept current from mount notifications, or re-read when libmount's
 * monitor says the kernel's changed) and the ledger (vcm-ledger: the rootfs
 * snapshot that changes are diffed against, and the Generation counter:
 * every rootfs change, made by the service or not, bumps it once). */
#pragma once

#include <glib-object.h>

#include "vcm-ledger.h"
#include "vcm-mounttable.h"
#include "vcm-rootfs.h"

G_BEGIN_DECLS

#define VCM_TYPE_WATCH (vcm_watch_get_type ())
G_DECLARE_FINAL_TYPE (VcmWatch, vcm_watch, VCM, WATCH, GObject)

/* Starts watching; the initial rootfs set is read from the kernel's table
 * (no signals for it). The signal "changed" (a const VcmChange *) tells
 * every change, in order. Work in worker threads holds a reference. */
VcmWatch *vcm_watch_new (const char *shared_dir, GError **error);

/* Stops following the kernel: the owner lets the watch go. Work in worker
 * threads lands later and does nothing; no change is told after this. */
void vcm_watch_stop (VcmWatch *watch);

/* Between hold and release (they nest), changes are kept and told at the
 * last release, in order: an owner holds the watch while it works, so that
 * no change is told in the middle of its work (a table read by the work may
 * bring changes up to date). */
void vcm_watch_hold (VcmWatch *watch);
void vcm_watch_release (VcmWatch *watch);

/* A VcmMountTableSource: the cached table, first brought up to date if the
 * kernel reported changes not yet processed (which emits their signals). */
VcmMountTable *vcm_watch_get_table (gpointer watch, gboolean force_refresh);

guint64 vcm_watch_get_generation (VcmWatch *watch);

/* The service made these changes: bump the generation, update the snapshot,
 * call the watch func once. The monitor will not report them again. */
void vcm_watch_note_mounted (VcmWatch *watch, const VcmRootfsRecord *rootfs);
/* The rootfs just noted came with submounts of its source (a recursive
 * bind): where no event names them, the table is read before the next call
 * acts on a rootfs, and soon, so they are known (and told) first. */
void vcm_watch_note_submounts_unknown (VcmWatch *watch);
void vcm_watch_note_unmounted (VcmWatch *watch,
                               const char *sandbox_id,
                               const char *container_id,
                               const char *const *detached);

/* Brings one rootfs up to date from a live probe of the kernel
 * (vcm_mounter_probe_rootfs: @now NULL when nothing is mounted there),
 * emitting what changed behind the service's back. The service calls it
 * before it acts on that rootfs, so those changes are reported first. */
void vcm_watch_sync_rootfs (VcmWatch *watch,
                            const char *sandbox_id,
                            const char *container_id,
                            const VcmRootfsRecord *now,
                            GHashTable *submounts);

/* The rootfs mounts now (VcmRootfsRecord, sorted by sandbox, container), of one
 * sandbox or of all (NULL or ""); pending changes are reported first, so
 * Generation is as of this list. With mount notifications it comes from the
 * snapshot the events keep; without, from the mount table. */
GPtrArray *vcm_watch_list_rootfs (VcmWatch *watch, const char *sandbox_id);

/* Whether the watch follows mount notifications (else full re-reads). */
gboolean vcm_watch_uses_notifications (VcmWatch *watch);

/* With mount notifications: follows the events pending, then checks the
 * rootfs of @sandbox_id/@container_id live (one statmount when tracked, a
 * probe by path when not, walking it only as far as the kernel's caches know
 * it), emitting what changed behind the service's back, at a cost that does
 * not grow with the mount table and never waiting for a filesystem. FALSE
 * when the watch cannot (no notifications, lost events, invalid IDs, a path
 * only a walk that may wait could tell): the caller then probes the kernel
 * itself (vcm_mounter_probe_rootfs, off the main loop) and tells the watch
 * (vcm_watch_sync_rootfs). */
gboolean vcm_watch_sync_live (VcmWatch *watch, const char *sandbox_id, const char *container_id);

/* Between these (they nest), the service is changing the rootfs of
 * @sandbox_id/@container_id off the main loop: what the watch sees there
 * meanwhile (its own mount or unmount, before vcm_watch_note_*() tells it)
 * is not reported as a change behind its back; at the last end, if anything
 * was seen, that rootfs is looked at again. @late: in a worker thread, so
 * that its change is noted some time after it was made. */
void
vcm_watch_begin_local (VcmWatch *watch, const char *sandbox_id, const char *container_id, gboolean late);
void vcm_watch_end_local (VcmWatch *watch, const char *sandbox_id, const char *container_id);

/* In the worker thread that changes a rootfs (begun late), around the
 * change: the watch takes the change the kernel then reports as the
 * service's own at once, where it happens, so that the change source
 * without notifications need not read the table to learn it (it checks it
 * by one paced read later, as for a change made on the main loop).
 * Thread-safe; they nest across threads. */
void vcm_watch_own_change_begin (VcmWatch *watch);
void vcm_watch_own_change_end (VcmWatch *watch);

/* A VcmSubtreeSource: with mount notifications, the unique IDs of a tracked
 * rootfs (by its unique ID) and of its submounts, as the events left them
 * (pending ones followed first); NULL for any other mount, or without
 * notifications. */
GArray *vcm_watch_get_subtree (gpointer watch, guint64 unique_id);

/* A VcmTargetsSource: without mount notifications, the mount points of the
 * tracked rootfs with mountinfo ID @mount_id and of its submounts, when
 * nothing but the service's own changes happened since the table was read;
 * NULL otherwise (the caller then reads the table). */
GStrv vcm_watch_get_targets (gpointer watch, guint64 mount_id);

/* vcm_watch_get_subtree() of the rootfs tracked at @sandbox_id/@container_id:
 * NULL when none is, or its subtree is not known without listmount(2). */
GArray *vcm_watch_get_rootfs_subtree (VcmWatch *watch, const char *sandbox_id, const char *container_id);

/* vcm_watch_get_targets() of the rootfs tracked at @sandbox_id/@container_id,
 * with its mountinfo ID in @out_mount_id; NULL when not tracked or not known
 * without a read. */
GStrv vcm_watch_get_rootfs_targets (VcmWatch *watch,
                                    const char *sandbox_id,
                                    const char *container_id,
                                    guint64 *out_mount_id);

G_END_DECLS
