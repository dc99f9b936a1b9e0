/* test-mounter-ids: an unmount names what it detached by mount ID, and what
 * was kept of a mount by its path (its identity record, the mounts its
 * caller holds) is dropped by that ID: a mount made at the same path since
 * (a BindMount racing the Unmount) keeps its own. */
#include "config.h"

#include "test-mounter.h"
#include "vcm-holdings.h"
#include "vcm-identity.h"

#include <sys/xattr.h>

#define REL "sb1/c1/vol"

/* Binds the world's source at @dest; its IDs. */
static VcmSysMountIds
bind_at (Fixture *f, const char *dest)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *mp = vcm_mounter_bind_mount (f->m, f->w->src, dest, FALSE, NULL, &error);
  VcmSysMountIds ids = { 0, 0 };

  g_assert_no_error (error);
  g_assert_cmpstr (mp, ==, dest);
  g_assert_true (vcm_mounter_mount_ids_at (f->m, REL, &ids.old_id, &ids.unique_id));
  g_assert_cmpuint (ids.old_id, !=, 0);
  return ids;
}

/* The record the engine writes of a mount: its mount_info names the
 * unique ID where the kernel has one. */
static gboolean
record (Fixture *f, const VcmSysMountIds *ids)
{
  g_autoptr (GVariantDict) info = vcm_identity_new ("bind", NULL, NULL, NULL, 1000, f->w->src, NULL);
  g_autoptr (GVariant) value = NULL;

  g_variant_dict_insert (info, "mount-id", "t", ids->unique_id != 0 ? ids->unique_id : ids->old_id);
  g_variant_dict_insert (info, "mount-id-unique", "b", ids->unique_id != 0);
  value = g_variant_ref_sink (g_variant_dict_end (info));
  return vcm_identity_record (vcm_mounter_get_shared_fd (f->m), REL, ids->old_id, value);
}

/* Whether a record is there, whichever mount it names. */
static gboolean
recorded (Fixture *f)
{
  vcm_autofd int clone_fd = vcm_sys_clone_mount_cached (vcm_mounter_get_shared_fd (f->m));
  vcm_autofd int fd = -1;

  g_assert_cmpint (clone_fd, >=, 0);
  fd = openat (clone_fd, REL, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  g_assert_cmpint (fd, >=, 0);
  return fgetxattr (fd, VCM_IDENTITY_XATTR, NULL, 0) > 0;
}

static void
test_dropped_by_id (Fixture *f, gconstpointer data)
{
  g_autofree char *dest = in (f->w->shared, REL);
  g_autoptr (GError) error = NULL;
  g_autoptr (VcmMountRequest) req = NULL;
  g_autoptr (GArray) ids = NULL;
  g_auto (GStrv) detached = NULL;
  VcmHoldings *holdings = vcm_holdings_new ();
  VcmSysMountIds first, second, gone;
  gboolean records;

  (void) data;
  first = bind_at (f, dest);
  records = record (f, &first); /* not where the kernel cannot clone a mount */
  g_assert_true (vcm_holdings_take (holdings, 1000, dest, first.old_id, first.unique_id, 1, NULL));

  /* the unmount names the mount it detached by its ID */
  req = vcm_mounter_prepare_unmount (f->m, dest, NULL, &error);
  g_assert_no_error (error);
  detached = vcm_mounter_run_unmount (f->m, req, &ids, &error);
  g_assert_no_error (error);
  g_assert_nonnull (ids);
  g_assert_cmpuint (ids->len, ==, g_strv_length (detached));
  g_assert_cmpstr (detached[0], ==, dest);
  gone = g_array_index (ids, VcmSysMountIds, 0);
  g_assert_cmpuint (gone.old_id, ==, first.old_id);
  g_assert_cmpuint (gone.unique_id, ==, first.unique_id);

  /* a mount made at the same path before the unmount's end is told (its
   * mountinfo ID may well be the one just freed: the kernel hands out the
   * lowest free one) */
  second = bind_at (f, dest);
  if (second.unique_id == 0 && second.old_id == first.old_id)
    {
      g_test_skip ("the kernel has no unique mount IDs, and gave the new mount the old one's");
      vcm_holdings_free (holdings);
      g_clear_pointer (&detached, g_strfreev);
      detached = vcm_mounter_unmount (f->m, dest, &error);
      return;
    }
  g_assert_cmpint (record (f, &second), ==, records);
  g_assert_true (vcm_holdings_take (holdings, 1000, dest, second.old_id, second.unique_id, 2, NULL));

  /* the end of the unmount drops what it detached, by its IDs: not the new
   * one's record, nor its count */
  vcm_identity_forget (vcm_mounter_get_shared_fd (f->m), REL, &gone);
  vcm_holdings_drop (holdings, dest, gone.old_id, gone.unique_id);
  if (records)
    g_assert_true (recorded (f));
  g_assert_cmpuint (vcm_holdings_held (holdings, 1000), ==, 2);

  /* and the new one's own unmount drops them */
  vcm_identity_forget (vcm_mounter_get_shared_fd (f->m), REL, &second);
  vcm_holdings_drop (holdings, dest, second.old_id, second.unique_id);
  if (records)
    g_assert_false (recorded (f));
  g_assert_cmpuint (vcm_holdings_held (holdings, 1000), ==, 0);
  g_clear_pointer (&detached, g_strfreev);
  detached = vcm_mounter_unmount (f->m, dest, &error);
  g_assert_no_error (error);
  vcm_holdings_free (holdings);
}

/* Whether a record names a live mount: by its 32-bit ID, and by the unique
 * one where either side has one. */
static void
test_record_names (void)
{
  const struct {
    VcmSysMountIds recorded, live;
    gboolean names;
  } cases[] = {
    { { 68, 0x100000001 }, { 68, 0x100000001 }, TRUE },
    /* the 32-bit ID given to a later mount: told by the unique one */
    { { 68, 0x100000001 }, { 68, 0x100000009 }, FALSE },
    /* a live mount whose unique ID cannot be read: not taken */
    { { 68, 0x100000001 }, { 68, 0 }, FALSE },
    /* a record without one (a kernel before 6.8) on a kernel that has them */
    { { 68, 0 }, { 68, 0x100000009 }, FALSE },
    /* neither has one: the 32-bit ID is all there is */
    { { 68, 0 }, { 68, 0 }, TRUE },
    { { 68, 0 }, { 69, 0 }, FALSE },
    { { 68, 0x100000001 }, { 69, 0x100000001 }, FALSE },
    { { 0, 0 }, { 0, 0 }, FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    g_assert_cmpint (vcm_identity_names (&cases[i].recorded, &cases[i].live), ==, cases[i].names);
}

/* The record of @f's mount at REL, as recovered for the live IDs @live
 * (NULL: none that names it). */
static GVariant *
recover (Fixture *f, const VcmSysMountIds *live)
{
  const char *rels[] = { REL };
  g_autoptr (GPtrArray) found = vcm_identity_recover (vcm_mounter_get_shared_fd (f->m),
                                                      vcm_mounter_get_shared_dir (f->m), rels, live, 1);

  g_assert_cmpuint (found->len, ==, 1);
  return found->pdata[0] != NULL ? g_variant_ref (found->pdata[0]) : NULL;
}

/* A record names the mount it was written for, not one made at the same
 * place since under the same 32-bit ID: the unique IDs tell them apart,
 * also where only the 32-bit one is given (the live mount's unique one is
 * then looked up: statmount(2), else statx(2)). */
static void
test_recovered_by_unique_id (Fixture *f, gconstpointer data)
{
  g_autofree char *dest = in (f->w->shared, REL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) info = NULL;
  g_auto (GStrv) detached = NULL;
  VcmSysMountIds first, second, by_old;
  gboolean recovered = FALSE;

  (void) data;
  first = bind_at (f, dest);
  if (!record (f, &first))
    {
      g_test_skip ("the kernel cannot clone the shared dir's mount: nothing is recorded");
      detached = vcm_mounter_unmount (f->m, dest, &error);
      return;
    }
  by_old = (VcmSysMountIds){ first.old_id, 0 };
  info = recover (f, &first);
  g_assert_nonnull (info);
  g_assert_true (g_variant_lookup (info, "recovered", "b", &recovered) && recovered);
  g_clear_pointer (&info, g_variant_unref);
  info = recover (f, &by_old); /* the live unique ID looked up */
  g_assert_nonnull (info);
  g_clear_pointer (&info, g_variant_unref);

  /* unmounted behind the record's back, another mount made there */
  detached = vcm_mounter_unmount (f->m, dest, &error);
  g_assert_no_error (error);
  second = bind_at (f, dest);
  if (first.unique_id == 0)
    {
      /* a kernel before 6.8: the 32-bit ID is all there is */
      g_assert_true ((recover (f, &second) != NULL) == (second.old_id == first.old_id));
      g_test_skip ("the kernel has no unique mount IDs");
    }
  else
    {
      VcmSysMountIds claimed = { first.old_id, second.unique_id };

      g_assert_cmpuint (second.unique_id, !=, first.unique_id);
      g_assert_null (recover (f, &second));
      g_assert_null (recover (f, &claimed));
      by_old = (VcmSysMountIds){ second.old_id, 0 };
      g_assert_null (recover (f, &by_old));
    }
  g_clear_pointer (&detached, g_strfreev);
  detached = vcm_mounter_unmount (f->m, dest, &error);
  g_assert_no_error (error);
}

void
test_mounter_add_ids (void)
{
  test_mounter_add ("/unmount/dropped-by-id", test_dropped_by_id);
  test_mounter_add ("/identity/recovered-by-unique-id", test_recovered_by_unique_id);
  g_test_add_func ("/identity/record-names", test_record_names);
}
