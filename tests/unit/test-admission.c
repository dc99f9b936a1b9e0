/* test-admission: the bounds on what users that are not root hold in the
 * service (calls and descriptors, per user and in all, a share kept for
 * users with a grant) and the gates' order: a user's calls in order, users
 * in turn, those with a grant first, the share kept for them held. */
#include "config.h"

#include <glib.h>
#include <string.h>

#include "vcm-admission.h"
#include "vcm-error.h"
#include "vcm-test-main.h"

VCM_TEST ("/admission/calls-per-uid-and-in-all", test_calls_per_uid_and_in_all)
{
  g_autoptr (VcmAdmission) a = vcm_admission_new ();
  g_autoptr (GError) error = NULL;
  guint uid = 1000;

  for (guint i = 0; i < VCM_ADMISSION_MAX_CALLS_PER_UID; i++)
    g_assert_true (vcm_admission_enter (a, 1000, 0, FALSE, NULL));
  g_assert_false (vcm_admission_enter (a, 1000, 0, FALSE, &error));
  g_assert_error (error, VCM_ERROR, VCM_ERROR_LIMITS_EXCEEDED);
  /* it names the caller's own figures, nobody else's */
  g_assert_nonnull (strstr (error->message, "this user has 64 calls"));
  g_clear_error (&error);
  vcm_admission_leave (a, 1000, 0, FALSE);
  g_assert_true (vcm_admission_enter (a, 1000, 0, FALSE, NULL));

  /* users without a grant fill all but the reserved share */
  vcm_admission_free (a);
  a = vcm_admission_new ();
  for (guint i = 0; i < VCM_ADMISSION_MAX_CALLS - VCM_ADMISSION_RESERVED_CALLS; i++)
    g_assert_true (vcm_admission_enter (a, uid + i / VCM_ADMISSION_MAX_CALLS_PER_UID, 0, FALSE, NULL));
  g_assert_false (vcm_admission_enter (a, 5000, 0, FALSE, &error));
  g_assert_error (error, VCM_ERROR, VCM_ERROR_LIMITS_EXCEEDED);
  g_assert_null (strstr (error->message, "64"));
  g_clear_error (&error);
  /* a user with a grant still gets in, up to the total */
  for (guint i = 0; i < VCM_ADMISSION_RESERVED_CALLS; i++)
    g_assert_true (vcm_admission_enter (a, 6000 + i / VCM_ADMISSION_MAX_CALLS_PER_UID, 0, TRUE, NULL));
  g_assert_false (vcm_admission_enter (a, 7000, 0, TRUE, NULL));
}

VCM_TEST ("/admission/fds-per-uid-and-in-all", test_fds_per_uid_and_in_all)
{
  g_autoptr (VcmAdmission) a = vcm_admission_new ();
  g_autoptr (GError) error = NULL;

  g_assert_true (vcm_admission_enter (a, 1000, VCM_ADMISSION_MAX_FDS_PER_UID - 1, FALSE, NULL));
  g_assert_false (vcm_admission_enter (a, 1000, 2, FALSE, &error));
  g_assert_error (error, VCM_ERROR, VCM_ERROR_LIMITS_EXCEEDED);
  g_clear_error (&error);
  g_assert_true (vcm_admission_enter (a, 1000, 1, FALSE, NULL));
  g_assert_cmpuint (vcm_admission_get_fds (a, 1000), ==, VCM_ADMISSION_MAX_FDS_PER_UID);
  vcm_admission_leave (a, 1000, 1, FALSE);
  vcm_admission_leave (a, 1000, VCM_ADMISSION_MAX_FDS_PER_UID - 1, FALSE);
  g_assert_cmpuint (vcm_admission_get_fds (a, 1000), ==, 0);
  g_assert_cmpuint (vcm_admission_get_calls (a, 1000), ==, 0);

  for (guint u = 0; u < VCM_ADMISSION_MAX_FDS / VCM_ADMISSION_MAX_FDS_PER_UID; u++)
    g_assert_true (vcm_admission_enter (a, 2000 + u, VCM_ADMISSION_MAX_FDS_PER_UID, FALSE, NULL));
  g_assert_false (vcm_admission_enter (a, 3000, 1, TRUE, NULL));
  g_assert_true (vcm_admission_enter (a, 3000, 0, TRUE, NULL));
}

/* What the service opens for an admitted call counts against the same
 * bounds as what was sent with it. */
VCM_TEST ("/admission/fds-opened-for-a-call", test_fds_opened_for_a_call)
{
  g_autoptr (VcmAdmission) a = vcm_admission_new ();
  g_autoptr (GError) error = NULL;
  guint calls = 0;

  /* calls with 2 descriptors each: 32 are admitted; then nothing more may
   * be opened for any of them */
  while (vcm_admission_enter (a, 1000, 2, FALSE, NULL))
    calls++;
  g_assert_cmpuint (calls, ==, VCM_ADMISSION_MAX_FDS_PER_UID / 2);
  g_assert_false (vcm_admission_add_fds (a, 1000, 2, &error));
  g_assert_error (error, VCM_ERROR, VCM_ERROR_LIMITS_EXCEEDED);
  g_assert_nonnull (strstr (error->message, "opened for"));
  g_assert_cmpuint (vcm_admission_get_fds (a, 1000), ==, VCM_ADMISSION_MAX_FDS_PER_UID);
  /* one refused and gone: another's 2 fit */
  vcm_admission_leave (a, 1000, 2, FALSE);
  g_assert_true (vcm_admission_add_fds (a, 1000, 2, NULL));
  g_assert_cmpuint (vcm_admission_get_fds (a, 1000), ==, VCM_ADMISSION_MAX_FDS_PER_UID);
  vcm_admission_leave (a, 1000, 4, FALSE);
  for (guint i = 0; i < calls - 2; i++)
    vcm_admission_leave (a, 1000, 2, FALSE);
  g_assert_cmpuint (vcm_admission_get_fds (a, 1000), ==, 0);
  g_assert_cmpuint (vcm_admission_get_calls (a, 1000), ==, 0);

  /* and in all */
  for (guint u = 0; u < VCM_ADMISSION_MAX_FDS / VCM_ADMISSION_MAX_FDS_PER_UID; u++)
    {
      g_assert_true (vcm_admission_enter (a, 2000 + u, VCM_ADMISSION_MAX_FDS_PER_UID / 2, FALSE, NULL));
      g_assert_true (vcm_admission_add_fds (a, 2000 + u, VCM_ADMISSION_MAX_FDS_PER_UID / 2, NULL));
    }
  g_assert_true (vcm_admission_enter (a, 3000, 0, TRUE, NULL));
  g_assert_false (vcm_admission_add_fds (a, 3000, 1, NULL));
}

typedef struct {
  VcmGateEntry entry;
  guint id;
} Item;

static void
on_open (VcmGateEntry *entry, gpointer user_data)
{
  GArray *opened = user_data;
  guint id = ((Item *) entry)->id;

  g_array_append_val (opened, id);
}

static Item *
item (Item *items, guint id, uid_t uid, gboolean granted)
{
  items[id].id = id;
  items[id].entry.uid = uid;
  items[id].entry.granted = granted;
  return &items[id];
}

VCM_TEST ("/admission/gate-order-and-share", test_gate_order_and_share)
{
  g_autoptr (GArray) opened = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr (VcmGate) g = vcm_gate_new (2, 4, 1, on_open, opened);
  Item items[32] = { 0 };

  /* alice (no grant) takes her 2, bob (no grant) 1: the 4th is kept */
  g_assert_true (vcm_gate_enter (g, &item (items, 0, 1, FALSE)->entry));
  g_assert_true (vcm_gate_enter (g, &item (items, 1, 1, FALSE)->entry));
  g_assert_false (vcm_gate_enter (g, &item (items, 2, 1, FALSE)->entry)); /* her 3rd waits */
  g_assert_true (vcm_gate_enter (g, &item (items, 3, 2, FALSE)->entry));
  g_assert_false (vcm_gate_enter (g, &item (items, 4, 2, FALSE)->entry)); /* the kept share */
  g_assert_false (vcm_gate_enter (g, &item (items, 5, 3, FALSE)->entry));
  /* carol, with a grant, gets the kept place */
  g_assert_true (vcm_gate_enter (g, &item (items, 6, 4, TRUE)->entry));
  g_assert_false (vcm_gate_enter (g, &item (items, 7, 4, TRUE)->entry)); /* all 4 taken */
  g_assert_cmpuint (vcm_gate_get_inside (g, 1), ==, 2);
  g_assert_cmpuint (vcm_gate_get_queued (g, 1), ==, 1);

  /* one of alice's leaves: carol (a grant) goes first */
  vcm_gate_leave (g, &items[0].entry);
  g_assert_cmpuint (opened->len, ==, 1);
  g_assert_cmpuint (g_array_index (opened, guint, 0), ==, 7);
  /* bob's leaves: the place freed is not the kept one (carol holds 2):
   * alice's 3rd (first in turn among those without a grant) */
  vcm_gate_leave (g, &items[3].entry);
  g_assert_cmpuint (opened->len, ==, 2);
  g_assert_cmpuint (g_array_index (opened, guint, 1), ==, 2);
  /* a queued one can be cancelled; the next in turn is the other user's */
  vcm_gate_cancel (g, &items[4].entry);
  vcm_gate_leave (g, &items[1].entry);
  g_assert_cmpuint (opened->len, ==, 3);
  g_assert_cmpuint (g_array_index (opened, guint, 2), ==, 5);
  g_assert_null (vcm_gate_pop_queued (g));
  vcm_gate_leave (g, &items[2].entry);
  vcm_gate_leave (g, &items[5].entry);
  vcm_gate_leave (g, &items[6].entry);
  vcm_gate_leave (g, &items[7].entry);
  g_assert_cmpuint (vcm_gate_get_inside (g, 4), ==, 0);
}

VCM_TEST ("/admission/gate-users-take-turns", test_gate_users_take_turns)
{
  g_autoptr (GArray) opened = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr (VcmGate) g = vcm_gate_new (4, 1, 0, on_open, opened);
  Item items[32] = { 0 };

  g_assert_true (vcm_gate_enter (g, &item (items, 0, 9, FALSE)->entry));
  /* alice queues 4 first, then bob 2: they alternate, each in order */
  for (guint i = 1; i <= 4; i++)
    g_assert_false (vcm_gate_enter (g, &item (items, i, 1, FALSE)->entry));
  for (guint i = 5; i <= 6; i++)
    g_assert_false (vcm_gate_enter (g, &item (items, i, 2, FALSE)->entry));
  for (guint i = 0; i <= 5; i++)
    vcm_gate_leave (g, &items[i == 0 ? 0 : g_array_index (opened, guint, i - 1)].entry);
  {
    const guint want[] = { 1, 5, 2, 6, 3, 4 };

    g_assert_cmpuint (opened->len, ==, G_N_ELEMENTS (want));
    for (guint i = 0; i < G_N_ELEMENTS (want); i++)
      g_assert_cmpuint (g_array_index (opened, guint, i), ==, want[i]);
  }
  vcm_gate_leave (g, &items[4].entry);
}

VCM_TEST_MAIN (NULL, NULL, NULL);
