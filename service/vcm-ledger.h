/* vcm-ledger: the watch's book of rootfs. Owns the snapshot of the rootfs
 * mounted (each with its submounts), the Generation counter (every change
 * bumps it once) and the order in which changes are told: kept while the
 * owner holds the ledger, told at the last release. Also remembers which
 * rootfs the service itself changed after a given table read began, so an
 * older read leaves them alone. Knows nothing of the kernel: its callers
 * say what is mounted; it says what changed. */
#pragma once

#include <glib.h>

#include "vcm-rootfs.h"

G_BEGIN_DECLS

typedef enum {
  VCM_CHANGE_MOUNTED,        /* a rootfs appeared (made by the service or not) */
  VCM_CHANGE_UNMOUNTED,      /* the service detached a rootfs */
  VCM_CHANGE_SUBMOUNT_ADDED, /* the rest: changes the service did not make */
  VCM_CHANGE_SUBMOUNT_REMOVED,
  VCM_CHANGE_REMOUNTED,
  VCM_CHANGE_VANISHED,
} VcmChangeKind;

const char *vcm_change_kind_to_string (VcmChangeKind kind);

typedef struct {
  guint64 generation;
  VcmChangeKind kind;
  const VcmRootfsRecord *rootfs;
  const char *const *detached; /* VCM_CHANGE_UNMOUNTED only */
} VcmChange;

/* A rootfs in the snapshot. */
typedef struct {
  VcmRootfsRecord *rootfs;
  GHashTable *submounts; /* mountinfo IDs (guint64 *); NULL when none (the usual case) */
  gpointer source_data;  /* the change source's own record of it (see VcmLedgerIndex) */
  char key[];            /* "sbx/cid" */
} VcmTracked;

/* How a change source keeps an index of the snapshot (by unique mount ID,
 * say). With an index the ledger keeps private copies of submount sets, which
 * the source may then change in place. */
typedef struct {
  /* @t was tracked, learnt its unique ID, or had its submounts replaced */
  void (*indexed) (gpointer data, VcmTracked *t);
  /* @t is about to go, its rootfs still set */
  void (*unindexed) (gpointer data, VcmTracked *t);
} VcmLedgerIndex;

typedef void (*VcmLedgerTellFunc) (const VcmChange *change, gpointer user_data);

typedef struct _VcmLedger VcmLedger;

VcmLedger *vcm_ledger_new (VcmLedgerTellFunc tell, gpointer tell_data);
void vcm_ledger_free (VcmLedger *ledger);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VcmLedger, vcm_ledger_free)

/* Sets (or, with NULL, drops after unindexing every rootfs) the index. */
void vcm_ledger_set_index (VcmLedger *ledger, const VcmLedgerIndex *index, gpointer data);

char *vcm_ledger_key (const char *sandbox_id, const char *container_id);

guint64 vcm_ledger_get_generation (VcmLedger *ledger);

/* Hold and release nest; changes made while held are told at the last release. */
void vcm_ledger_hold (VcmLedger *ledger);
void vcm_ledger_release (VcmLedger *ledger);

/* Bumps Generation and tells (or keeps) one change. */
void vcm_ledger_emit (VcmLedger *ledger,
                      VcmChangeKind kind,
                      const VcmRootfsRecord *rootfs,
                      const char *const *detached);

VcmTracked *vcm_ledger_lookup (VcmLedger *ledger, const char *key);
guint vcm_ledger_get_size (VcmLedger *ledger);
/* The tracked rootfs (VcmTracked *), in no order; for reading only. */
GList *vcm_ledger_get_tracked (VcmLedger *ledger);
/* The tracked rootfs whose mount has mountinfo ID @mount_id, or NULL. */
VcmTracked *vcm_ledger_find_mount (VcmLedger *ledger, guint64 mount_id);
/* Whether a tracked rootfs lies beneath @point. */
gboolean vcm_ledger_any_beneath (VcmLedger *ledger, const char *point);

/* Tells one change per difference between what is tracked at @key and
 * @now (NULL: nothing mounted there) with its submounts @subs (mountinfo IDs
 * or NULL), then tracks @now. @tell FALSE: takes it in silently. */
void vcm_ledger_diff_one (
  VcmLedger *ledger, const char *key, const VcmRootfsRecord *now, GHashTable *subs, gboolean tell);

/* A whole table's rootfs set (VcmRootfsRecord, sorted) and their submount sets
 * (parallel, NULL or sets), read by the table read @seq: tells the vanished
 * ones first (by key), then the rest in order; leaves alone the rootfs the
 * service changed after @seq began. */
void vcm_ledger_diff_all (
  VcmLedger *ledger, guint64 seq, GPtrArray *rootfs, GPtrArray *submounts, gboolean tell);

/* Remembers that the service changed or probed @key when the last table
 * read begun was @seq: that read and older ones leave @key alone. */
void vcm_ledger_note_local (VcmLedger *ledger, const char *key, guint64 seq);
/* Forgets what every read from @applied_seq on includes; or all of it. */
void vcm_ledger_prune_local (VcmLedger *ledger, guint64 applied_seq);
void vcm_ledger_forget_local (VcmLedger *ledger);
/* Whether the service changed @key after read @seq began. */
gboolean vcm_ledger_changed_since (VcmLedger *ledger, const char *key, guint64 seq);

/* The service mounted @rootfs (a rootfs still tracked there vanished first). */
void vcm_ledger_note_mounted (VcmLedger *ledger, const VcmRootfsRecord *rootfs);
/* The service detached the rootfs at @sandbox_id/@container_id and @detached. */
void vcm_ledger_note_unmounted (VcmLedger *ledger,
                                const char *sandbox_id,
                                const char *container_id,
                                const char *const *detached);

/* Between these (they nest) the service is changing @key off the main loop:
 * a full read's diff leaves it alone, and so do the change sources' probes
 * (they ask vcm_ledger_busy()); end returns whether anything was seen there
 * meanwhile (then the caller looks again). */
void vcm_ledger_begin_local (VcmLedger *ledger, const char *key, gboolean late);
gboolean vcm_ledger_end_local (VcmLedger *ledger, const char *key);
/* Whether @key is being changed in a worker thread (begun @late): its
 * change is noted some time after the kernel saw it. */
gboolean vcm_ledger_late (VcmLedger *ledger, const char *key);
/* Whether @key is being changed (and if so, notes that it was looked at). */
gboolean vcm_ledger_busy (VcmLedger *ledger, const char *key);

/* Copies of the tracked rootfs of @sandbox_id (NULL or "": all), sorted. */
GPtrArray *vcm_ledger_list (VcmLedger *ledger, const char *sandbox_id);

G_END_DECLS
