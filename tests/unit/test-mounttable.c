/* test-mounttable: unit tests of vcm-mounttable on hand-written mountinfo
 * fixtures (escapes, stacked mounts, bind mounts, large device numbers,
 * optional fields, long lines, descendants, prefix rules). */
#include "config.h"

#include <string.h>
#include <sys/sysmacros.h>
#include <glib.h>

#include "vcm-error.h"
#include "vcm-mounttable.h"
#include "vcm-test-main.h"

static VcmMountTable *
load_fixture (const char *name)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "fixtures", name, NULL);
  VcmMountTable *table = vcm_mount_table_new_from_file (path, &error);

  g_assert_no_error (error);
  g_assert_nonnull (table);
  return table;
}

static const VcmMountEntry *
by_id (VcmMountTable *table, guint64 id)
{
  const VcmMountEntry *e = vcm_mount_table_lookup_id (table, id);
  g_assert_nonnull (e);
  g_assert_cmpuint (e->id, ==, id);
  return e;
}

VCM_TEST ("/mounttable/basic-fields", test_basic_fields)
{
  g_autoptr (VcmMountTable) table = load_fixture ("mountinfo-basic");
  const VcmMountEntry *e;

  g_assert_cmpuint (vcm_mount_table_get_size (table), ==, 23);

  e = vcm_mount_table_get_nth (table, 0);
  g_assert_cmpuint (e->id, ==, 1);
  g_assert_cmpuint (e->parent_id, ==, 0);
  g_assert_cmpuint (e->major, ==, 8);
  g_assert_cmpuint (e->minor, ==, 1);
  g_assert_cmpstr (e->root, ==, "/");
  g_assert_cmpstr (e->target, ==, "/");
  g_assert_cmpstr (e->source, ==, "/dev/sda1");
  g_assert_cmpstr (e->fstype, ==, "ext4");
  g_assert_cmpstr (e->vfs_options, ==, "rw,relatime");
  g_assert_cmpstr (e->fs_options, ==, "rw,errors=remount-ro");
  g_assert_false (e->read_only);

  e = by_id (table, 20);
  g_assert_cmpstr (e->target, ==, "/proc");
  g_assert_cmpstr (e->fstype, ==, "proc");
  g_assert_cmpstr (e->source, ==, "proc");
  g_assert_cmpuint (e->parent_id, ==, 1);
  g_assert_cmpuint (e->major, ==, 0);
  g_assert_cmpuint (e->minor, ==, 21);

  e = vcm_mount_table_get_nth (table, 20);
  g_assert_cmpuint (e->id, ==, 70);

  g_assert_null (vcm_mount_table_lookup_id (table, 9999));
  g_assert_null (vcm_mount_table_lookup_target (table, "/nowhere"));
}

VCM_TEST ("/mounttable/escapes", test_escapes)
{
  g_autoptr (VcmMountTable) table = load_fixture ("mountinfo-basic");
  const VcmMountEntry *e;

  e = by_id (table, 30);
  g_assert_cmpstr (e->target, ==, "/mnt/with space");
  g_assert_cmpstr (e->source, ==, "my src");
  g_assert_true (e->read_only);
  g_assert_true (vcm_mount_table_lookup_target (table, "/mnt/with space") == e);
  g_assert_null (vcm_mount_table_lookup_target (table, "/mnt/with\\040space"));

  e = by_id (table, 31);
  g_assert_cmpstr (e->target, ==, "/mnt/tab\there");

  e = by_id (table, 32);
  g_assert_cmpstr (e->target, ==, "/mnt/back\\slash");
  g_assert_cmpstr (e->root, ==, "/sub dir");
}

VCM_TEST ("/mounttable/stacked", test_stacked)
{
  g_autoptr (VcmMountTable) table = load_fixture ("mountinfo-basic");
  const VcmMountEntry *top = vcm_mount_table_lookup_target (table, "/a");

  /* 40 <- 41 <- 42 all on /a: the last one mounted is on top. */
  g_assert_nonnull (top);
  g_assert_cmpuint (top->id, ==, 42);
  g_assert_cmpstr (top->source, ==, "a3");
  g_assert_true (top->read_only);

  g_assert_cmpuint (vcm_mount_table_lookup_target (table, "/a/b")->id, ==, 43);

  /* A mount tucked beneath the top one (move_mount MOVE_MOUNT_BENEATH)
   * comes later in the table, but the top one is still on top. */
  g_assert_cmpuint (vcm_mount_table_lookup_target (table, "/t")->id, ==, 80);
  g_assert_cmpstr (vcm_mount_table_lookup_target (table, "/t")->source, ==, "t-top");
  g_assert_cmpuint (vcm_mount_table_lookup_target (table, "/")->id, ==, 1);
}

VCM_TEST ("/mounttable/bind-same-fs", test_bind_same_fs)
{
  g_autoptr (VcmMountTable) table = load_fixture ("mountinfo-basic");
  const VcmMountEntry *data = vcm_mount_table_lookup_target (table, "/data");
  const VcmMountEntry *bind = vcm_mount_table_lookup_target (table, "/bind");

  g_assert_nonnull (data);
  g_assert_nonnull (bind);
  g_assert_cmpuint (data->major, ==, bind->major);
  g_assert_cmpuint (data->minor, ==, bind->minor);
  g_assert_cmpstr (data->root, ==, "/");
  g_assert_cmpstr (bind->root, ==, "/sub/dir");
  g_assert_cmpuint (data->id, !=, bind->id);
}

VCM_TEST ("/mounttable/big-devnums", test_big_devnums)
{
  g_autoptr (VcmMountTable) table = load_fixture ("mountinfo-basic");
  const VcmMountEntry *e;
  dev_t d;

  e = vcm_mount_table_lookup_target (table, "/nvme");
  g_assert_cmpuint (e->major, ==, 259);
  g_assert_cmpuint (e->minor, ==, 1048576);

  e = vcm_mount_table_lookup_target (table, "/bigmajor");
  g_assert_cmpuint (e->major, ==, 4096);
  g_assert_cmpuint (e->minor, ==, 0);

  /* glibc's encoding round-trips where the old 12/20-bit split does not. */
  d = makedev (259, 1048576);
  g_assert_cmpuint (major (d), ==, 259);
  g_assert_cmpuint (minor (d), ==, 1048576);
  d = makedev (4096, 0);
  g_assert_cmpuint (major (d), ==, 4096);
  g_assert_cmpuint (minor (d), ==, 0);
  g_assert_cmpuint ((d >> 8) & 0xfff, !=, 4096);
}

VCM_TEST ("/mounttable/propagation", test_propagation)
{
  g_autoptr (VcmMountTable) table = load_fixture ("mountinfo-basic");

  g_assert_cmpstr (by_id (table, 1)->propagation, ==, "shared");
  g_assert_cmpstr (by_id (table, 21)->propagation, ==, "shared"); /* shared:3 master:2 */
  g_assert_cmpstr (by_id (table, 22)->propagation, ==, "slave");  /* master:4 */
  g_assert_cmpstr (by_id (table, 31)->propagation, ==, "unbindable");
  g_assert_cmpstr (by_id (table, 30)->propagation, ==, "private");
  g_assert_cmpstr (by_id (table, 42)->propagation, ==, "shared");
}

VCM_TEST ("/mounttable/long-line", test_long_line)
{
  g_autoptr (VcmMountTable) table = load_fixture ("mountinfo-basic");
  const VcmMountEntry *e = by_id (table, 70);

  g_assert_cmpuint (strlen (e->target), ==, 3000);
  g_assert_true (g_str_has_prefix (e->target, "/long/ddd"));
  g_assert_cmpstr (e->source, ==, "longsrc");
  g_assert_cmpstr (e->fstype, ==, "tmpfs");
  g_assert_true (vcm_mount_table_lookup_target (table, e->target) == e);
}

VCM_TEST ("/mounttable/descendants", test_descendants)
{
  g_autoptr (VcmMountTable) table = load_fixture ("mountinfo-basic");
  g_autoptr (GPtrArray) d = vcm_mount_table_get_descendants (table, 40);
  g_autoptr (GPtrArray) leaf = vcm_mount_table_get_descendants (table, 47);
  g_autoptr (GPtrArray) missing = vcm_mount_table_get_descendants (table, 12345);
  const guint64 expected[] = { 41, 42, 43, 44, 47, 48, 45, 46 };

  g_assert_cmpuint (d->len, ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < d->len; i++)
    g_assert_cmpuint (((const VcmMountEntry *) g_ptr_array_index (d, i))->id, ==, expected[i]);

  /* Parents always come before their children. */
  for (guint i = 0; i < d->len; i++)
    {
      const VcmMountEntry *child = g_ptr_array_index (d, i);
      for (guint j = i + 1; j < d->len; j++)
        g_assert_cmpuint (((const VcmMountEntry *) g_ptr_array_index (d, j))->id, !=, child->parent_id);
    }

  g_assert_cmpuint (leaf->len, ==, 0);
  g_assert_cmpuint (missing->len, ==, 0);
}

VCM_TEST ("/mounttable/beneath", test_beneath)
{
  g_autoptr (VcmMountTable) table = load_fixture ("mountinfo-basic");
  g_autoptr (GPtrArray) ab = vcm_mount_table_get_beneath (table, "/a/b");
  g_autoptr (GPtrArray) a = vcm_mount_table_get_beneath (table, "/a");
  g_autoptr (GPtrArray) root = vcm_mount_table_get_beneath (table, "/");
  g_autoptr (GPtrArray) none = vcm_mount_table_get_beneath (table, "/mnt/with");
  const guint64 expected_ab[] = { 43, 44, 47, 48 };

  /* "/a/bc" is not beneath "/a/b"; table order. */
  g_assert_cmpuint (ab->len, ==, G_N_ELEMENTS (expected_ab));
  for (guint i = 0; i < ab->len; i++)
    g_assert_cmpuint (((const VcmMountEntry *) g_ptr_array_index (ab, i))->id, ==, expected_ab[i]);

  g_assert_cmpuint (a->len, ==, 9);
  g_assert_cmpuint (root->len, ==, vcm_mount_table_get_size (table));
  g_assert_cmpuint (none->len, ==, 0);
}

VCM_TEST ("/mounttable/refcount", test_refcount)
{
  VcmMountTable *table = load_fixture ("mountinfo-basic");
  VcmMountTable *again = vcm_mount_table_ref (table);

  g_assert_true (again == table);
  vcm_mount_table_unref (table);
  g_assert_cmpuint (vcm_mount_table_get_size (again), ==, 23);
  vcm_mount_table_unref (again);
}

VCM_TEST ("/mounttable/malformed", test_malformed)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "fixtures", "mountinfo-malformed", NULL);
  g_autoptr (VcmMountTable) table = vcm_mount_table_new_from_file (path, &error);

  g_assert_null (table);
  g_assert_error (error, VCM_ERROR, VCM_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "line 2"));
}

VCM_TEST ("/mounttable/missing-file", test_missing_file)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "fixtures", "does-not-exist", NULL);
  g_autoptr (VcmMountTable) table = vcm_mount_table_new_from_file (path, &error);

  g_assert_null (table);
  g_assert_nonnull (error);
  g_assert_true (error->domain == VCM_ERROR);
}

VCM_TEST ("/mounttable/kernel", test_kernel)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (VcmMountTable) table = vcm_mount_table_new_from_kernel (&error);
  g_autoptr (VcmMountTable) from_source = vcm_mount_table_source_kernel (NULL, TRUE);

  g_assert_no_error (error);
  g_assert_nonnull (table);
  g_assert_nonnull (from_source);
  g_assert_cmpuint (vcm_mount_table_get_size (table), >, 0);
  g_assert_nonnull (vcm_mount_table_lookup_target (table, "/"));
}

VCM_TEST_MAIN (NULL, NULL, NULL);
