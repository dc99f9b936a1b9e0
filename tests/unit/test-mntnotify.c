/* test-mntnotify: the kernel's mount notifications as vcm-mntnotify reads
 * them, in a private mount namespace: a bind mount gives one attach event and
 * its unmount one detach event, both naming the unique ID statx reports for
 * that mount; a lazy unmount of a tree names every mount of it. Where the
 * kernel lacks them (before 6.15) or VCM_TEST_REFUSE_SYSCALLS refuses
 * fanotify, vcm_mnt_notify_new must say NOT_SUPPORTED, so the watch falls back. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/utsname.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "vcm-error.h"
#include "vcm-fd.h"
#include "vcm-mntnotify.h"
#include "vcm-mounttable.h"
#include "vcm-sys.h"
#include "vcm-test-main.h"
#include "vcm-test-util.h"
#include "vcm-testing.h"
#include "vcm-watch.h"

#define EVENT_TIMEOUT_S 30 /* times VCM_TEST_TIMEOUT_MULTIPLIER */

/* Whether mount notifications must work here: Linux 6.15 or later and no
 * filter of this test's refusing fanotify. */
static gboolean
notifications_expected (void)
{
  struct utsname u;
  guint major = 0, minor = 0;
  const char *refused = g_getenv ("VCM_TEST_REFUSE_SYSCALLS");

  if (uname (&u) < 0 || sscanf (u.release, "%u.%u", &major, &minor) != 2)
    return FALSE;
  return (major > 6 || (major == 6 && minor >= 15)) &&
    (refused == NULL || strstr (refused, "fanotify") == NULL);
}

static guint64
unique_id_of (const char *path)
{
  vcm_autofd int fd = open (path, O_PATH | O_CLOEXEC);
  guint64 id = 0;

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (vcm_sys_unique_mount_id (fd, &id), ==, 0);
  return id;
}

/* Reads events until one of @kind naming @id is in @seen (every event read
 * so far, in order), waiting for the fd at most EVENT_TIMEOUT_S in all. */
static void
wait_for_event (VcmMntNotify *n, VcmMntEventKind kind, guint64 id, GArray *seen)
{
  gint64 limit = vcm_test_timeout_us (EVENT_TIMEOUT_S);
  gint64 deadline = g_get_monotonic_time () + limit;

  for (;;)
    {
      g_autoptr (GError) error = NULL;
      struct pollfd pfd = { .fd = vcm_mnt_notify_get_fd (n), .events = POLLIN };
      gint64 left = (deadline - g_get_monotonic_time ()) / 1000;

      g_assert_true (vcm_mnt_notify_read (n, seen, &error));
      g_assert_no_error (error);
      for (guint i = 0; i < seen->len; i++)
        {
          const VcmMntEvent *ev = &g_array_index (seen, VcmMntEvent, i);

          g_assert_cmpint (ev->kind, !=, VCM_MNT_OVERFLOW);
          if (ev->kind == kind && ev->mnt_id == id)
            return;
        }
      if (left <= 0)
        {
          for (guint i = 0; i < seen->len; i++)
            g_test_message ("seen: %d %" G_GUINT64_FORMAT, g_array_index (seen, VcmMntEvent, i).kind,
                            g_array_index (seen, VcmMntEvent, i).mnt_id);
        }
      if (left <= 0)
        g_error ("no %s event for mount %" G_GUINT64_FORMAT " within %.0f s",
                 kind == VCM_MNT_ATTACHED ? "attach" : "detach", id, limit / 1e6);
      g_assert_cmpint (poll (&pfd, 1, (int) left), >=, 0);
    }
}

VCM_TEST ("/mntnotify/unsupported-is-said", test_unsupported_is_said)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (VcmMntNotify) n = NULL;

  if (notifications_expected ())
    {
      g_test_skip ("this kernel has mount notifications and nothing refuses them");
      return;
    }
  n = vcm_mnt_notify_new (&error);
  g_assert_null (n);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
}

VCM_TEST ("/mntnotify/attach-and-detach", test_attach_and_detach)
{
  g_autoptr (VcmTestWorld) w = vcm_test_world_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (VcmMntNotify) n = NULL;
  g_autoptr (GArray) seen = g_array_new (FALSE, FALSE, sizeof (VcmMntEvent));
  g_autofree char *target = g_build_filename (w->root, "bind", NULL);
  g_autofree char *below = g_build_filename (target, "sub", NULL);
  guint64 id, sub_id;

  if (!notifications_expected ())
    {
      g_test_skip ("no mount notifications here (Linux before 6.15, or refused by the test's filter)");
      return;
    }
  n = vcm_mnt_notify_new (&error);
  g_assert_no_error (error);
  g_assert_nonnull (n);

  vcm_test_make_dir (target);
  vcm_test_mount (w->src, target, NULL, MS_BIND, NULL);
  id = unique_id_of (target);
  wait_for_event (n, VCM_MNT_ATTACHED, id, seen);

  /* a mount below it (the world is shared: it propagates to the source's
   * peer too), then the tree lazily: every mount of it is named */
  vcm_test_mount (w->src, below, NULL, MS_BIND, NULL);
  sub_id = unique_id_of (below);
  g_assert_cmpuint (sub_id, !=, id);
  wait_for_event (n, VCM_MNT_ATTACHED, sub_id, seen);
  g_assert_cmpint (umount2 (target, MNT_DETACH), ==, 0);
  wait_for_event (n, VCM_MNT_DETACHED, id, seen);
  wait_for_event (n, VCM_MNT_DETACHED, sub_id, seen);
}

/* ---- the mount table patched from the events ------------------------------ */

/* unique ID -> mountinfo ID of the mounts the test knows, as the watch keeps them */
static void
remember_old_id (GHashTable *olds, guint64 unique)
{
  VcmSysMountBrief m;
  int errsv = 0;

  if (vcm_sys_statmount_brief (unique, &m, NULL, &errsv))
    g_hash_table_insert (olds, GSIZE_TO_POINTER (unique), GSIZE_TO_POINTER (m.mnt_id_old));
}

/* Reads every event pending (waiting for @until to be detached, when not 0)
 * and turns them into the changes the patch takes: the first event of a
 * mount since the table was read says whether the table has it. */
static void
collect_changes (VcmMntNotify *n, GHashTable *olds, GArray *changes, GHashTable *first, guint64 until)
{
  g_autoptr (GArray) seen = g_array_new (FALSE, FALSE, sizeof (VcmMntEvent));

  if (until != 0)
    wait_for_event (n, VCM_MNT_DETACHED, until, seen);
  else
    {
      g_autoptr (GError) error = NULL;

      g_assert_true (vcm_mnt_notify_read (n, seen, &error));
    }
  for (guint i = 0; i < seen->len; i++)
    {
      const VcmMntEvent *ev = &g_array_index (seen, VcmMntEvent, i);
      VcmMountChange c = { .unique_id = ev->mnt_id };

      g_assert_cmpint (ev->kind, !=, VCM_MNT_OVERFLOW);
      if (!g_hash_table_contains (first, GSIZE_TO_POINTER (ev->mnt_id)))
        g_hash_table_insert (first, GSIZE_TO_POINTER (ev->mnt_id), GINT_TO_POINTER (ev->kind + 1));
      c.not_in_table = GPOINTER_TO_INT (g_hash_table_lookup (first, GSIZE_TO_POINTER (ev->mnt_id))) ==
        VCM_MNT_ATTACHED + 1;
      if (ev->kind == VCM_MNT_ATTACHED)
        remember_old_id (olds, ev->mnt_id);
      c.old_id = GPOINTER_TO_SIZE (g_hash_table_lookup (olds, GSIZE_TO_POINTER (ev->mnt_id)));
      g_array_append_val (changes, c);
    }
}

static void
assert_entry_equal (const VcmMountEntry *a, const VcmMountEntry *b)
{
  g_assert_nonnull (a);
  g_assert_nonnull (b);
  g_assert_cmpuint (a->id, ==, b->id);
  g_assert_cmpuint (a->parent_id, ==, b->parent_id);
  g_assert_cmpuint (a->major, ==, b->major);
  g_assert_cmpuint (a->minor, ==, b->minor);
  g_assert_cmpstr (a->root, ==, b->root);
  g_assert_cmpstr (a->target, ==, b->target);
  g_assert_cmpstr (a->source, ==, b->source);
  g_assert_cmpstr (a->fstype, ==, b->fstype);
  g_assert_cmpstr (a->vfs_options, ==, b->vfs_options);
  g_assert_cmpstr (a->fs_options, ==, b->fs_options);
  g_assert_cmpint (a->read_only, ==, b->read_only);
  g_assert_cmpstr (a->propagation, ==, b->propagation);
}

/* @patched answers every question as @fresh does: the same entries in the
 * same order, the same top-most mount per target, the same descendants. */
static void
assert_table_equal (VcmMountTable *patched, VcmMountTable *fresh)
{
  g_assert_cmpuint (vcm_mount_table_get_size (patched), ==, vcm_mount_table_get_size (fresh));
  for (guint i = 0; i < vcm_mount_table_get_size (fresh); i++)
    {
      const VcmMountEntry *f = vcm_mount_table_get_nth (fresh, i);
      g_autoptr (GPtrArray) df = vcm_mount_table_get_descendants (fresh, f->id);
      g_autoptr (GPtrArray) dp = vcm_mount_table_get_descendants (patched, f->id);

      assert_entry_equal (vcm_mount_table_get_nth (patched, i), f);
      assert_entry_equal (vcm_mount_table_lookup_id (patched, f->id), f);
      g_assert_cmpuint (vcm_mount_table_lookup_target (patched, f->target)->id, ==,
                        vcm_mount_table_lookup_target (fresh, f->target)->id);
      g_assert_cmpuint (dp->len, ==, df->len);
      for (guint k = 0; k < df->len; k++)
        g_assert_cmpuint (((const VcmMountEntry *) dp->pdata[k])->id, ==,
                          ((const VcmMountEntry *) df->pdata[k])->id);
    }
}

/* @table (taken) patched with @changes and held against a fresh read of
 * the kernel's table; returns the patched table. */
static VcmMountTable *
patch_and_compare (VcmMountTable *table, GArray *changes)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (VcmMountTable) fresh = NULL;

  table = vcm_mount_table_patch (table, (const VcmMountChange *) changes->data, changes->len, &error);
  g_assert_no_error (error);
  fresh = vcm_mount_table_new_from_kernel (&error);
  g_assert_no_error (error);
  assert_table_equal (table, fresh);
  return table;
}

/* Attaches, detaches, stacked mounts, a tree detached at once, a move, mounts
 * with options: the table patched from the events equals a fresh read. */
VCM_TEST ("/mntnotify/table-patched", test_table_patched)
{
  g_autoptr (VcmTestWorld) w = vcm_test_world_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (VcmMntNotify) n = NULL;
  g_autoptr (GHashTable) olds = g_hash_table_new (g_direct_hash, g_direct_equal);
  g_autoptr (GHashTable) first = g_hash_table_new (g_direct_hash, g_direct_equal);
  g_autoptr (GArray) changes = g_array_new (FALSE, FALSE, sizeof (VcmMountChange));
  g_autoptr (VcmMountTable) table = NULL;
  g_autoptr (VcmMountTable) held = NULL;
  g_autofree char *a = g_build_filename (w->root, "a", NULL);
  g_autofree char *a_sub = g_build_filename (a, "sub", NULL);
  g_autofree char *b = g_build_filename (w->root, "b", NULL);
  g_autofree char *c = g_build_filename (w->root, "c", NULL);
  g_autofree char *moved = g_build_filename (w->root, "moved", NULL);
  g_autofree char *t = g_build_filename (w->root, "tmp", NULL);
  guint64 old_b, gone;
  guint size_before;

  if (!notifications_expected ())
    {
      g_test_skip ("no mount notifications here (Linux before 6.15, or refused by the test's filter)");
      return;
    }
  n = vcm_mnt_notify_new (&error);
  g_assert_no_error (error);
  for (const char *const *d = (const char *const[]){ a, b, c, moved, t, NULL }; *d; d++)
    vcm_test_make_dir (*d);

  /* before the table is read (a change of propagation raises no event): the
   * world private (a mount under a shared one cannot move), b mounted (to
   * be unmounted: the table has it) */
  vcm_test_mount (NULL, w->root, NULL, MS_PRIVATE, NULL);
  vcm_test_mount (w->src, b, NULL, MS_BIND, NULL);
  g_assert_cmpint (vcm_sys_stat_mount (AT_FDCWD, b, 0, &old_b, NULL, NULL, NULL, NULL), ==, 0);
  g_hash_table_insert (olds, GSIZE_TO_POINTER (unique_id_of (b)), GSIZE_TO_POINTER (old_b));
  collect_changes (n, olds, changes, first, 0);
  g_array_set_size (changes, 0);
  g_hash_table_remove_all (first);
  table = vcm_mount_table_new_from_kernel (&error);
  g_assert_no_error (error);
  size_before = vcm_mount_table_get_size (table);

  /* a tree on a (a bind with a submount), two stacked on c, options, a tmpfs */
  vcm_test_mount (w->src, a, NULL, MS_BIND, NULL);
  vcm_test_mount (w->src, a_sub, NULL, MS_BIND, NULL);
  vcm_test_mount (w->src, c, NULL, MS_BIND, NULL);
  vcm_test_mount (w->src, c, NULL, MS_BIND, NULL);
  vcm_test_mount (NULL, c, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                  NULL);
  vcm_test_mount ("vcm-test-tmp", t, "tmpfs", MS_NOATIME, "size=1m,mode=0711");
  /* b goes (the table had it), a mount comes and goes again at once */
  g_assert_cmpint (umount2 (b, 0), ==, 0);
  vcm_test_mount (w->src, b, NULL, MS_BIND, NULL);
  gone = unique_id_of (b);
  g_assert_cmpint (umount2 (b, 0), ==, 0);
  collect_changes (n, olds, changes, first, gone);

  /* patched while another holds the table: a copy, the old one unchanged */
  held = vcm_mount_table_ref (table);
  table = patch_and_compare (table, changes);
  g_assert_true (table != held);
  g_assert_cmpuint (vcm_mount_table_get_size (held), ==, size_before);

  /* the tree on a moves (its submount's path changes without an event of
   * its own), the upper mount on c goes: patched in place this time */
  g_array_set_size (changes, 0);
  g_clear_pointer (&held, vcm_mount_table_unref);
  vcm_test_mount (a, moved, NULL, MS_MOVE, NULL);
  gone = unique_id_of (c);
  g_assert_cmpint (umount2 (c, 0), ==, 0);
  collect_changes (n, olds, changes, first, gone);
  held = table;
  table = patch_and_compare (vcm_mount_table_ref (table), changes);
  g_clear_pointer (&held, vcm_mount_table_unref);

  /* the moved tree detached at once: every mount of it goes */
  g_array_set_size (changes, 0);
  gone = unique_id_of (moved);
  g_assert_cmpint (umount2 (moved, MNT_DETACH), ==, 0);
  collect_changes (n, olds, changes, first, gone);
  table = patch_and_compare (g_steal_pointer (&table), changes);
}

/* A detached mount the table cannot place (no ID known, not attached since
 * the read) is an error: the caller then reads the whole table. */
VCM_TEST ("/mntnotify/table-patch-unplaceable", test_table_patch_unplaceable)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (VcmMountTable) table = vcm_mount_table_new_from_kernel (&error);
  VcmMountChange c = { .unique_id = G_MAXUINT64 - 1 };

  g_assert_no_error (error);
  if (!notifications_expected ())
    {
      g_test_skip ("no statmount here");
      return;
    }
  g_assert_null (vcm_mount_table_patch (table, &c, 1, &error));
  g_assert_error (error, VCM_ERROR, VCM_ERROR_FAILED);
  g_assert_cmpuint (vcm_mount_table_get_size (table), >, 0); /* still ours, unchanged */
}

/* The watch's table cache follows the events: after attaches and detaches a
 * caller gets a table equal to a fresh read without a full read; a change no
 * event explains (a remount) makes it read the whole table once. */
VCM_TEST ("/mntnotify/watch-table-follows-events", test_watch_table_follows_events)
{
  g_autoptr (VcmTestWorld) w = vcm_test_world_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (VcmWatch) watch = NULL;
  g_autoptr (VcmMountTable) table = NULL;
  g_autoptr (VcmMountTable) fresh = NULL;
  g_autofree char *first = g_build_filename (w->root, "m0", NULL);
  guint reads;

  if (!notifications_expected ())
    {
      g_test_skip ("no mount notifications here (Linux before 6.15, or refused by the test's filter)");
      return;
    }
  watch = vcm_watch_new (w->shared, &error);
  g_assert_no_error (error);
  g_assert_true (vcm_watch_uses_notifications (watch));
  vcm_mount_table_unref (vcm_watch_get_table (watch, FALSE));
  reads = vcm_watch_get_refresh_count (watch);

  for (guint i = 0; i < 40; i++)
    {
      g_autofree char *d = g_strdup_printf ("%s/m%u", w->root, i);

      vcm_test_make_dir (d);
      vcm_test_mount (w->src, d, NULL, MS_BIND, NULL);
      if (i % 5 == 4)
        {
          g_autofree char *prev = g_strdup_printf ("%s/m%u", w->root, i - 1);

          g_assert_cmpint (umount2 (prev, 0), ==, 0);
        }
      if (i % 10 == 9)
        {
          /* asked for now and then: each time patched, never read again */
          table = vcm_watch_get_table (watch, FALSE);
          fresh = vcm_mount_table_new_from_kernel (&error);
          g_assert_no_error (error);
          assert_table_equal (table, fresh);
          g_assert_cmpuint (vcm_watch_get_refresh_count (watch), ==, reads);
          g_clear_pointer (&table, vcm_mount_table_unref);
          g_clear_pointer (&fresh, vcm_mount_table_unref);
        }
    }

  /* a remount raises no mount event: the table is read in full */
  vcm_test_mount (NULL, first, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL);
  table = vcm_watch_get_table (watch, FALSE);
  fresh = vcm_mount_table_new_from_kernel (&error);
  g_assert_no_error (error);
  assert_table_equal (table, fresh);
  g_assert_cmpuint (vcm_watch_get_refresh_count (watch), ==, reads + 1);
  g_assert_true (vcm_mount_table_lookup_target (table, first)->read_only);
}

VCM_TEST_MAIN (vcm_test_enter_private_mount_ns, NULL, NULL);
