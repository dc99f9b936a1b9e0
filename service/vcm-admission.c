/* vcm-admission: how much of the service callers that are not root may
 * hold, and in which order they get it. See vcm-admission.h. */
#include "config.h"

#include "vcm-admission.h"
#include "vcm-error.h"

typedef struct {
  guint calls;
  guint fds;
} UidHold;

struct _VcmAdmission {
  GHashTable *by_uid; /* uid -> UidHold, while it holds anything */
  guint calls;
  guint calls_granted; /* of them, of users with a grant */
  guint fds;
};

VcmAdmission *
vcm_admission_new (void)
{
  VcmAdmission *a = g_new0 (VcmAdmission, 1);

  a->by_uid = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  return a;
}

void
vcm_admission_free (VcmAdmission *a)
{
  g_hash_table_unref (a->by_uid);
  g_free (a);
}

gboolean
vcm_admission_enter (VcmAdmission *a, uid_t uid, guint n_fds, gboolean granted, GError **error)
{
  UidHold *h = g_hash_table_lookup (a->by_uid, GUINT_TO_POINTER (uid));
  guint calls = h != NULL ? h->calls : 0;
  guint fds = h != NULL ? h->fds : 0;

  if (calls >= VCM_ADMISSION_MAX_CALLS_PER_UID)
    {
      g_set_error (error, VCM_ERROR, VCM_ERROR_LIMITS_EXCEEDED,
                   "this user has %u calls in progress, the most one user may have; "
                   "try again when one of them has been answered",
                   calls);
      return FALSE;
    }
  if (fds + n_fds > VCM_ADMISSION_MAX_FDS_PER_UID)
    {
      g_set_error (error, VCM_ERROR, VCM_ERROR_LIMITS_EXCEEDED,
                   "this user's calls in progress hold %u file descriptors; with this call's %u "
                   "that is more than one user's %u; try again when one of them has been answered",
                   fds, n_fds, VCM_ADMISSION_MAX_FDS_PER_UID);
      return FALSE;
    }
  if (a->calls >= VCM_ADMISSION_MAX_CALLS ||
      (!granted &&
       a->calls - a->calls_granted >= VCM_ADMISSION_MAX_CALLS - VCM_ADMISSION_RESERVED_CALLS) ||
      a->fds + n_fds > VCM_ADMISSION_MAX_FDS)
    {
      g_set_error_literal (error, VCM_ERROR, VCM_ERROR_LIMITS_EXCEEDED,
                           "the service is busy with other calls; try again in a moment");
      return FALSE;
    }
  if (h == NULL)
    {
      h = g_new0 (UidHold, 1);
      g_hash_table_insert (a->by_uid, GUINT_TO_POINTER (uid), h);
    }
  h->calls++;
  h->fds += n_fds;
  a->calls++;
  if (granted)
    a->calls_granted++;
  a->fds += n_fds;
  return TRUE;
}

gboolean
vcm_admission_add_fds (VcmAdmission *a, uid_t uid, guint n_fds, GError **error)
{
  UidHold *h = g_hash_table_lookup (a->by_uid, GUINT_TO_POINTER (uid));

  g_return_val_if_fail (h != NULL && h->calls > 0, FALSE);
  if (h->fds + n_fds > VCM_ADMISSION_MAX_FDS_PER_UID)
    {
      g_set_error (error, VCM_ERROR, VCM_ERROR_LIMITS_EXCEEDED,
                   "this user's calls in progress hold %u file descriptors, those sent with them "
                   "and those the service opened for them; with the %u it opened for this call that "
                   "is more than one user's %u; try again when one of them has been answered",
                   h->fds, n_fds, VCM_ADMISSION_MAX_FDS_PER_UID);
      return FALSE;
    }
  if (a->fds + n_fds > VCM_ADMISSION_MAX_FDS)
    {
      g_set_error_literal (error, VCM_ERROR, VCM_ERROR_LIMITS_EXCEEDED,
                           "the service is busy with other calls; try again in a moment");
      return FALSE;
    }
  h->fds += n_fds;
  a->fds += n_fds;
  return TRUE;
}

void
vcm_admission_leave (VcmAdmission *a, uid_t uid, guint n_fds, gboolean granted)
{
  UidHold *h = g_hash_table_lookup (a->by_uid, GUINT_TO_POINTER (uid));

  g_return_if_fail (h != NULL && h->calls > 0 && h->fds >= n_fds);
  h->calls--;
  h->fds -= n_fds;
  a->calls--;
  if (granted)
    a->calls_granted--;
  a->fds -= n_fds;
  if (h->calls == 0)
    g_hash_table_remove (a->by_uid, GUINT_TO_POINTER (uid));
}

guint
vcm_admission_get_calls (VcmAdmission *a, uid_t uid)
{
  UidHold *h = g_hash_table_lookup (a->by_uid, GUINT_TO_POINTER (uid));

  return h != NULL ? h->calls : 0;
}

guint
vcm_admission_get_fds (VcmAdmission *a, uid_t uid)
{
  UidHold *h = g_hash_table_lookup (a->by_uid, GUINT_TO_POINTER (uid));

  return h != NULL ? h->fds : 0;
}

/* ---- gates ---- */

typedef struct {
  uid_t uid;
  guint inside;
  GQueue queued;    /* of VcmGateEntry (their links), oldest first */
  gboolean granted; /* of the oldest queued entry */
  GList turn;       /* in the gate's turns while it has entries queued */
} UidLine;

struct _VcmGate {
  guint per_uid, total, reserved;
  VcmGateOpenFunc open;
  gpointer user_data;
  GHashTable *lines; /* uid -> UidLine, while it has entries inside or queued */
  GQueue turns;      /* UidLine with entries queued, in turn */
  guint inside;
  guint inside_granted;
  gboolean admitting; /* in admit_next(): an open function's leave only asks again */
  gboolean again;
};

VcmGate *
vcm_gate_new (guint per_uid, guint total, guint reserved, VcmGateOpenFunc open, gpointer user_data)
{
  VcmGate *g = g_new0 (VcmGate, 1);

  g_return_val_if_fail (reserved < total && per_uid > 0, NULL);
  g->per_uid = per_uid;
  g->total = total;
  g->reserved = reserved;
  g->open = open;
  g->user_data = user_data;
  g->lines = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  return g;
}

void
vcm_gate_free (VcmGate *g)
{
  g_hash_table_unref (g->lines);
  g_free (g);
}

static UidLine *
line_of (VcmGate *g, uid_t uid, gboolean create)
{
  UidLine *line = g_hash_table_lookup (g->lines, GUINT_TO_POINTER (uid));

  if (line == NULL && create)
    {
      line = g_new0 (UidLine, 1);
      line->uid = uid;
      line->turn.data = line;
      g_hash_table_insert (g->lines, GUINT_TO_POINTER (uid), line);
    }
  return line;
}

static void
line_forget_if_idle (VcmGate *g, UidLine *line)
{
  if (line->inside == 0 && g_queue_is_empty (&line->queued))
    g_hash_table_remove (g->lines, GUINT_TO_POINTER (line->uid));
}

/* Whether an entry of @line (@granted) may go in now. */
static gboolean
has_room (VcmGate *g, UidLine *line, gboolean granted)
{
  if (line->inside >= g->per_uid || g->inside >= g->total)
    return FALSE;
  return granted || g->inside - g->inside_granted < g->total - g->reserved;
}

static void
go_in (VcmGate *g, UidLine *line, VcmGateEntry *e)
{
  e->inside = TRUE;
  line->inside++;
  g->inside++;
  if (e->granted)
    g->inside_granted++;
}

gboolean
vcm_gate_enter (VcmGate *g, VcmGateEntry *e)
{
  UidLine *line = line_of (g, e->uid, TRUE);

  g_return_val_if_fail (!e->inside && !e->queued, FALSE);
  /* in order: nobody of this user's passes its own queued entries */
  if (g_queue_is_empty (&line->queued) && has_room (g, line, e->granted))
    {
      go_in (g, line, e);
      return TRUE;
    }
  e->queued = TRUE;
  e->link.data = e;
  if (g_queue_is_empty (&line->queued))
    {
      line->granted = e->granted;
      g_queue_push_tail_link (&g->turns, &line->turn);
    }
  g_queue_push_tail_link (&line->queued, &e->link);
  return FALSE;
}

static void
line_dequeued (VcmGate *g, UidLine *line)
{
  if (g_queue_is_empty (&line->queued))
    g_queue_unlink (&g->turns, &line->turn);
  else
    line->granted = ((VcmGateEntry *) line->queued.head->data)->granted;
}

/* Lets in what may go in now: users in turn, those with a grant first
 * (they may use the reserved share too), one entry per user per round. */
static void
admit_next (VcmGate *g)
{
  gboolean moved = TRUE;

  if (g->admitting)
    {
      g->again = TRUE;
      return;
    }
  g->admitting = TRUE;
  while (moved || g->again)
    {
      moved = FALSE;
      g->again = FALSE;
      for (int pass = 0; pass < 2 && !moved; pass++)
        {
          for (GList *l = g->turns.head; l != NULL; l = l->next)
            {
              UidLine *line = l->data;
              VcmGateEntry *e;

              if ((pass == 0) != line->granted || !has_room (g, line, line->granted))
                continue;
              e = line->queued.head->data;
              g_queue_unlink (&line->queued, &e->link);
              /* this user's turn is over: to the back of the line */
              g_queue_unlink (&g->turns, &line->turn);
              if (!g_queue_is_empty (&line->queued))
                {
                  line->granted = ((VcmGateEntry *) line->queued.head->data)->granted;
                  g_queue_push_tail_link (&g->turns, &line->turn);
                }
              e->queued = FALSE;
              go_in (g, line, e);
              g->open (e, g->user_data); /* may enter or leave again */
              moved = TRUE;
              break;
            }
        }
    }
  g->admitting = FALSE;
}

void
vcm_gate_leave (VcmGate *g, VcmGateEntry *e)
{
  UidLine *line = line_of (g, e->uid, FALSE);

  g_return_if_fail (line != NULL && e->inside);
  e->inside = FALSE;
  line->inside--;
  g->inside--;
  if (e->granted)
    g->inside_granted--;
  line_forget_if_idle (g, line);
  admit_next (g);
}

void
vcm_gate_cancel (VcmGate *g, VcmGateEntry *e)
{
  UidLine *line = line_of (g, e->uid, FALSE);

  g_return_if_fail (line != NULL && e->queued);
  g_queue_unlink (&line->queued, &e->link);
  e->queued = FALSE;
  line_dequeued (g, line);
  line_forget_if_idle (g, line);
}

VcmGateEntry *
vcm_gate_pop_queued (VcmGate *g)
{
  UidLine *line = g->turns.head != NULL ? g->turns.head->data : NULL;
  VcmGateEntry *e;

  if (line == NULL)
    return NULL;
  e = line->queued.head->data;
  vcm_gate_cancel (g, e);
  return e;
}

guint
vcm_gate_get_inside (VcmGate *g, uid_t uid)
{
  UidLine *line = line_of (g, uid, FALSE);

  return line != NULL ? line->inside : 0;
}

guint
vcm_gate_get_queued (VcmGate *g, uid_t uid)
{
  UidLine *line = line_of (g, uid, FALSE);

  return line != NULL ? line->queued.length : 0;
}
