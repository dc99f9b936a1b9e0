/* vcm-admission: how much of the service callers that are not root may
 * hold, and in which order they get it. Per user: how many calls it may
 * have in the service at once (queued or worked on) and how many
 * descriptors those calls keep; in all, the same. And gates, one per stage
 * whose work is scarce (resolver threads, polkit checks): at most so many of
 * a user's calls through at once and so many in all, the rest queued in
 * order, users served in turn, and a share of each gate kept for users
 * polkit has granted something, so that users without any grant cannot
 * crowd them out. Knows nothing of D-Bus; root is never counted (the
 * caller does not ask for it). */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

/* A user's calls in the service at once, and all users' (of which
 * VCM_ADMISSION_RESERVED_CALLS only for users with a grant): beyond them a
 * call is refused with VCM_ERROR_LIMITS_EXCEEDED. */
#define VCM_ADMISSION_MAX_CALLS_PER_UID 64
#define VCM_ADMISSION_MAX_CALLS         1024
#define VCM_ADMISSION_RESERVED_CALLS    256
/* Descriptors the calls of one user may keep, and of all users: those sent
 * with them and those the service opened for them. */
#define VCM_ADMISSION_MAX_FDS_PER_UID   64
#define VCM_ADMISSION_MAX_FDS           1024

typedef struct _VcmAdmission VcmAdmission;

VcmAdmission *vcm_admission_new (void);
void vcm_admission_free (VcmAdmission *admission);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VcmAdmission, vcm_admission_free)

/* Admits a call of @uid that holds @n_fds descriptors; @granted: polkit has
 * granted @uid something lately. FALSE (VCM_ERROR_LIMITS_EXCEEDED, a message
 * naming only the caller's own figures) when a bound is reached. */
gboolean
vcm_admission_enter (VcmAdmission *admission, uid_t uid, guint n_fds, gboolean granted, GError **error);
/* A call of @uid admitted already keeps @n_fds descriptors more (those the
 * service opened for it: its source, the clone of its mount). FALSE
 * (VCM_ERROR_LIMITS_EXCEEDED, the caller's own figures only, nothing
 * counted) when that passes a bound of descriptors. */
gboolean vcm_admission_add_fds (VcmAdmission *admission, uid_t uid, guint n_fds, GError **error);
/* The call admitted by vcm_admission_enter() is done: @n_fds are all the
 * descriptors counted for it (at its entry and added since). */
void vcm_admission_leave (VcmAdmission *admission, uid_t uid, guint n_fds, gboolean granted);

guint vcm_admission_get_calls (VcmAdmission *admission, uid_t uid);
guint vcm_admission_get_fds (VcmAdmission *admission, uid_t uid);

/* ---- gates ---- */

typedef struct _VcmGate VcmGate;

/* One call at a gate: embedded in the caller's own record. */
typedef struct {
  uid_t uid;
  gboolean granted; /* of a user with a grant: may use the reserved share */
  gboolean queued;  /* waiting its turn */
  gboolean inside;  /* through the gate */
  GList link;       /* in its user's queue */
} VcmGateEntry;

/* Called when a queued @entry goes through the gate. */
typedef void (*VcmGateOpenFunc) (VcmGateEntry *entry, gpointer user_data);

/* At most @per_uid of a user's entries inside at once and @total in all, of
 * which @reserved only for entries of users with a grant. */
VcmGate *
vcm_gate_new (guint per_uid, guint total, guint reserved, VcmGateOpenFunc open, gpointer user_data);
void vcm_gate_free (VcmGate *gate);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VcmGate, vcm_gate_free)

/* TRUE: @entry (its uid and granted set) is inside now; FALSE: it is queued
 * and the gate's open function is called when it goes in (from
 * vcm_gate_leave() of another entry). */
gboolean vcm_gate_enter (VcmGate *gate, VcmGateEntry *entry);
/* @entry, inside, leaves: the next entries in turn go in. */
void vcm_gate_leave (VcmGate *gate, VcmGateEntry *entry);
/* @entry, queued, is taken out of the queue (its call ends). */
void vcm_gate_cancel (VcmGate *gate, VcmGateEntry *entry);
/* Takes the oldest queued entry of any user out of the queue (NULL: none),
 * for a shutdown that answers them all. */
VcmGateEntry *vcm_gate_pop_queued (VcmGate *gate);

guint vcm_gate_get_inside (VcmGate *gate, uid_t uid);
guint vcm_gate_get_queued (VcmGate *gate, uid_t uid);

G_END_DECLS
