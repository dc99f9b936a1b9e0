/* test-mounter-policy: read-only mounts that are never writable, the
 * unique IDs of listed rootfs, and what a caller that is not root gets
 * (vcm-mount-policy). */
#include "config.h"

#include "test-mounter.h"

/* ---- read-only is never writable -------------------------------------------------- */

typedef struct {
  const char *target; /* SHARED/sbx/c/rootfs */
  char *probe;        /* target/probe */
  int src_fd;         /* the source dir */
  gint stop;
  guint64 attempts;
  guint64 in_source; /* a file created through the mount point landed in the source */
  guint64 elsewhere; /* created in the (unmounted) directory beneath */
  guint64 erofs;
  guint64 rw_root_seen; /* the mount point was a mount root and not read-only */
  guint64 ro_root_seen;
  gint rounds; /* write + look rounds completed (atomic) */
} Writer;

static gpointer
writer_thread (gpointer data)
{
  Writer *wr = data;

  while (!g_atomic_int_get (&wr->stop))
    {
      int fd;

      wr->attempts++;
      fd = open (wr->probe, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
      if (fd >= 0)
        {
          struct stat st, st2;

          g_assert_cmpint (fstat (fd, &st), ==, 0);
          close (fd);
          if (fstatat (wr->src_fd, "probe", &st2, AT_SYMLINK_NOFOLLOW) == 0 && st2.st_ino == st.st_ino &&
              st2.st_dev == st.st_dev)
            {
              wr->in_source++;
              unlinkat (wr->src_fd, "probe", 0);
            }
          else
            {
              wr->elsewhere++;
              unlink (wr->probe); /* best effort: it may be covered by now */
            }
        }
      else if (errno == EROFS)
        wr->erofs++;

      fd = open (wr->target, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd >= 0)
        {
          gboolean root = FALSE;
          struct statvfs sv;

          if (vcm_sys_stat_mount (fd, "", AT_EMPTY_PATH, NULL, NULL, NULL, &root, NULL) == 0 && root &&
              fstatvfs (fd, &sv) == 0)
            {
              if (sv.f_flag & ST_RDONLY)
                wr->ro_root_seen++;
              else
                wr->rw_root_seen++;
            }
          close (fd);
        }
      g_atomic_int_inc (&wr->rounds);
    }
  return NULL;
}

static void
test_ro_never_writable (Fixture *f, gconstpointer data)
{
  guint n = vcm_test_iterations ("VCM_RO_ITERATIONS", 2000);
  g_autofree char *target = g_build_filename (f->w->shared, "sbx", "c", "rootfs", NULL);
  g_autofree char *probe_in_src = in (f->w->src, "probe");
  Writer wr = { 0 };
  guint failed_cycles = 0;
  GThread *thread;
  g_autoptr (GPtrArray) left = NULL;
  g_autofree char *outside_before = vcm_test_list_tree (f->w->outside);
  g_autofree char *outside_after = NULL;

  (void) data;
  wr.target = target;
  wr.probe = in (target, "probe");
  wr.src_fd = open (f->w->src, O_PATH | O_DIRECTORY | O_CLOEXEC);
  g_assert_cmpint (wr.src_fd, >=, 0);
  thread = g_thread_new ("writer", writer_thread, &wr);
  /* The writer is running before the first mount. */
  vcm_test_wait_for_count (&wr.rounds, 1, 60, "the writer's first round");

  for (guint i = 0; i <= n; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (VcmRootfsRecord) r =
        vcm_mounter_mount_rootfs (f->m, "sbx", "c", f->w->src, TRUE, NULL, &error);

      /* The last cycle holds the mount until the writer has done a whole
       * round on it, so that it meets the mount however the threads were
       * scheduled in the cycles before. */
      if (r != NULL && i == n)
        vcm_test_wait_for_count (&wr.rounds, g_atomic_int_get (&wr.rounds) + 2, 60,
                                 "a round of the writer on the mounted rootfs");
      if (r != NULL)
        g_strfreev (vcm_mounter_unmount_rootfs (f->m, "sbx", "c", &error));
      if (error != NULL)
        {
          /* Go on: the point is what the writer manages meanwhile. */
          if (failed_cycles++ < 3)
            g_test_message ("FAIL: cycle %u: %s", i, error->message);
        }
    }
  g_atomic_int_set (&wr.stop, 1);
  g_thread_join (thread);

  g_test_message ("%s API: %u read-only cycles, %" G_GUINT64_FORMAT " write attempts, "
                  "%" G_GUINT64_FORMAT " EROFS, %" G_GUINT64_FORMAT " created beneath the mount point "
                  "(not in the source), %" G_GUINT64_FORMAT " written INTO THE SOURCE; mount root seen "
                  "read-only %" G_GUINT64_FORMAT " times, WRITABLE %" G_GUINT64_FORMAT " times",
                  f->legacy ? "legacy mount(2)" : "fd-based", n + 1, wr.attempts, wr.erofs, wr.elsewhere,
                  wr.in_source, wr.ro_root_seen, wr.rw_root_seen);
  close (wr.src_fd);
  g_free (wr.probe);
  left = vcm_test_mount_targets_beneath (f->w->shared);
  g_assert_cmpuint (left->len, ==, 0);
  outside_after = vcm_test_list_tree (f->w->outside);
  g_assert_cmpstr (outside_after, ==, outside_before);
  vcm_test_check (failed_cycles == 0, "%u of %u read-only MountRootfs/UnmountRootfs cycles failed",
                  failed_cycles, n + 1);
  vcm_test_check (!vcm_test_exists (probe_in_src), "a probe file is left in the source");
  vcm_test_check (wr.in_source == 0,
                  "%" G_GUINT64_FORMAT " files were written into the source "
                  "through a read-only MountRootfs",
                  wr.in_source);
  vcm_test_check (wr.rw_root_seen == 0,
                  "the read-only rootfs was seen mounted writable %" G_GUINT64_FORMAT " times",
                  wr.rw_root_seen);
  /* The writer must actually have met the mount, or the test proves nothing
   * (the last cycle waited for it to). */
  if (!g_test_failed ())
    g_assert_cmpuint (wr.erofs + wr.ro_root_seen, >, 0);
}

/* ---- unique mount IDs of the listed rootfs ---------------------------------------- */

/* @n rootfs are mounted; the table is read; three of them are unmounted
 * behind its back; vcm_rootfs_fill_unique_ids must give every listed rootfs
 * the unique ID of the mount now at its mount point, and 0 to those gone. */
static void
check_unique_ids (Fixture *f, guint n)
{
  g_autoptr (VcmMountTable) table = NULL;
  g_autoptr (GPtrArray) listed = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) gone = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  guint checked = 0;

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *cid = g_strdup_printf ("c%03u", i);
      g_autoptr (VcmRootfsRecord) r =
        vcm_mounter_mount_rootfs (f->m, "uniq", cid, f->w->src, FALSE, NULL, &error);

      g_assert_no_error (error);
      g_assert_nonnull (r);
    }
  table = vcm_mount_table_new_from_kernel (&error);
  g_assert_no_error (error);
  listed = vcm_rootfs_list_in_table (f->w->shared, table, "uniq");
  g_assert_cmpuint (listed->len, ==, n);

  for (guint i = 0; i < n; i += n / 2 - 1)
    {
      const VcmRootfsRecord *r = listed->pdata[i];

      g_assert_cmpint (umount2 (r->mount_point, MNT_DETACH), ==, 0);
      g_hash_table_add (gone, g_strdup (r->mount_point));
    }
  g_assert_cmpuint (g_hash_table_size (gone), ==, 3);

  vcm_rootfs_fill_unique_ids (listed);
  for (guint i = 0; i < listed->len; i++)
    {
      const VcmRootfsRecord *r = listed->pdata[i];
      vcm_autofd int fd = -1;
      guint64 expected = 0;

      if (g_hash_table_contains (gone, r->mount_point))
        {
          g_assert_cmpuint (r->unique_id, ==, 0);
          continue;
        }
      fd = open (r->mount_point, O_PATH | O_CLOEXEC);
      g_assert_cmpint (fd, >=, 0);
      if (vcm_sys_unique_mount_id (fd, &expected) < 0)
        {
          g_test_skip ("the kernel has no unique mount IDs (Linux < 6.8)");
          return;
        }
      g_assert_cmpuint (r->unique_id, ==, expected);
      checked++;
    }
  g_assert_cmpuint (checked, ==, n - 3);
}

static void
test_unique_ids (Fixture *f, gconstpointer data)
{
  check_unique_ids (f, 100);
}

/* ---- what a caller that is not root gets (vcm-mount-policy) ------------------- */

#define CALLER_UID 4242

static VcmCredentials *
caller_creds (void)
{
  gid_t gid = CALLER_UID;

  return vcm_credentials_new (CALLER_UID, &gid, 1);
}

/* A bind of a caller's brings the mounts below its source with it, so what
 * they hide stays hidden, and is nosuid and nodev; root's bind through the
 * path-based methods is as it always was (not recursive). */
static void
test_policy_caller_binds_recursive (Fixture *f, gconstpointer data)
{
  g_autoptr (VcmCredentials) creds = caller_creds ();
  g_autofree char *sub = in (f->w->src, "sub");
  g_autofree char *hidden = in (sub, "hidden");
  g_autofree char *dest = g_build_filename (f->w->shared, "sbx", "c", "vol", NULL);
  g_autofree char *seen_hidden = g_build_filename (dest, "sub", "hidden", NULL);
  g_autofree char *seen_top = g_build_filename (dest, "sub", "top", NULL);
  g_autofree char *top = in (sub, "top");
  g_autoptr (GError) error = NULL;
  struct statvfs sv;

  (void) data;
  vcm_test_make_file (hidden, "what the submount hides\n");
  vcm_test_mount ("vcm-test", sub, "tmpfs", 0, "mode=0755");
  vcm_test_make_file (top, "on the submount\n");

  for (int root = 0; root <= 1; root++)
    {
      g_autoptr (VcmMountRequest) req =
        vcm_mounter_prepare_bind (f->m, f->w->src, dest, TRUE, root ? NULL : creds, &error);
      g_autofree char *p = NULL;
      g_auto (GStrv) detached = NULL;

      vcm_test_require_no_error (error);
      g_assert_cmpint (req->recursive, ==, !root);
      g_assert_cmpint (req->nosuid, ==, !root);
      g_assert_cmpint (req->nodev, ==, !root);
      p = vcm_mounter_run_bind (f->m, req, &error);
      vcm_test_require_no_error (error);
      g_assert_cmpstr (p, ==, dest);
      g_assert_cmpint (vcm_test_exists (seen_top), ==, !root);
      g_assert_cmpint (vcm_test_exists (seen_hidden), ==, root);
      g_assert_cmpint (statvfs (dest, &sv), ==, 0);
      g_assert_cmpint ((sv.f_flag & ST_NOSUID) != 0, ==, !root);
      g_assert_cmpint ((sv.f_flag & ST_NODEV) != 0, ==, !root);
      g_assert_true (sv.f_flag & ST_RDONLY);
      if (!root)
        {
          /* the submount that came along is read-only, nosuid, nodev too */
          g_autofree char *seen_sub = g_build_filename (dest, "sub", NULL);

          g_assert_true (vcm_test_is_mount_root (seen_sub));
          g_assert_cmpint (statvfs (seen_sub, &sv), ==, 0);
          g_assert_true (sv.f_flag & ST_RDONLY);
          g_assert_true (sv.f_flag & ST_NOSUID);
          g_assert_true (sv.f_flag & ST_NODEV);
        }
      {
        /* the submount that came along is not the caller's to unmount on
         * its own: that would uncover what it hides */
        g_autofree char *seen_sub = g_build_filename (dest, "sub", NULL);
        g_autoptr (VcmMountRequest) un = NULL;

        if (!root)
          {
            un = vcm_mounter_prepare_unmount (f->m, seen_sub, creds, &error);
            vcm_test_require_no_error (error);
            g_assert_null (vcm_mounter_run_unmount (f->m, un, NULL, &error));
            vcm_test_assert_error (error, VCM_ERROR_INVALID_ARGUMENT, "mount_point");
            g_clear_error (&error);
            g_assert_false (vcm_test_exists (seen_hidden));
          }
      }
      if (!root)
        {
          /* its own bind, the caller may unmount */
          g_autoptr (VcmMountRequest) un = vcm_mounter_prepare_unmount (f->m, dest, creds, &error);

          vcm_test_require_no_error (error);
          detached = vcm_mounter_run_unmount (f->m, un, NULL, &error);
        }
      else
        detached = vcm_mounter_unmount (f->m, dest, &error);
      vcm_test_require_no_error (error);
      g_assert_cmpuint (g_strv_length (detached), ==, root ? 1 : 2);
    }
}

/* Writable only by ownership: a caller's writable mount of a tree whose top
 * it does not own is write_foreign; read-only, or of its own tree, it is
 * not; root's never is. */
static void
test_policy_write_foreign (Fixture *f, gconstpointer data)
{
  g_autoptr (VcmCredentials) creds = caller_creds ();
  g_autofree char *dest = g_build_filename (f->w->shared, "sbx", "c", "vol", NULL);
  static const struct {
    gboolean caller, owned, read_only, foreign;
  } cases[] = {
    { TRUE, FALSE, FALSE, TRUE }, { TRUE, FALSE, TRUE, FALSE },   { TRUE, TRUE, FALSE, FALSE },
    { TRUE, TRUE, TRUE, FALSE },  { FALSE, FALSE, FALSE, FALSE },
  };

  (void) data;
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (VcmMountRequest) req = NULL;

      g_assert_cmpint (chown (f->w->src, cases[i].owned ? CALLER_UID : 0, 0), ==, 0);
      req = vcm_mounter_prepare_bind (f->m, f->w->src, dest, cases[i].read_only,
                                      cases[i].caller ? creds : NULL, &error);
      vcm_test_require_no_error (error);
      g_assert_cmpint (req->write_foreign, ==, cases[i].foreign);
      g_assert_cmpint (req->source_owned, ==, cases[i].owned || !cases[i].caller);
    }
}

/* A caller's mount is never placed on another mount: what the mount point
 * is would be that mount's filesystem's word. Root may stack. */
static void
test_policy_caller_never_stacks (Fixture *f, gconstpointer data)
{
  g_autoptr (VcmCredentials) creds = caller_creds ();
  g_autofree char *dest = g_build_filename (f->w->shared, "sbx", "c", "vol", NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *first = NULL;
  g_autofree char *again = NULL;
  g_auto (GStrv) detached = NULL;

  (void) data;
  first = vcm_mounter_bind_mount (f->m, f->w->src, dest, TRUE, creds, &error);
  vcm_test_require_no_error (error);
  g_assert_cmpstr (first, ==, dest);
  g_assert_null (vcm_mounter_bind_mount (f->m, f->w->src, dest, TRUE, creds, &error));
  vcm_test_assert_error (error, VCM_ERROR_INVALID_ARGUMENT, "destination");
  g_clear_error (&error);
  g_assert_cmpuint (vcm_test_count_mounts_at (dest), ==, 1);
  again = vcm_mounter_bind_mount (f->m, f->w->src, dest, TRUE, NULL, &error);
  vcm_test_require_no_error (error);
  g_assert_cmpstr (again, ==, dest);
  g_assert_cmpuint (vcm_test_count_mounts_at (dest), ==, 2);
  detached = vcm_mounter_unmount (f->m, dest, &error);
  vcm_test_require_no_error (error);
  g_clear_pointer (&detached, g_strfreev);
  detached = vcm_mounter_unmount (f->m, dest, &error);
  vcm_test_require_no_error (error);
}

/* What only root may have, asked for a caller (as an fd-based method's
 * options could), is refused naming the option. */
static void
test_policy_refuses_for_callers (Fixture *f, gconstpointer data)
{
  g_autoptr (VcmCredentials) creds = caller_creds ();
  g_autofree char *dest = g_build_filename (f->w->shared, "sbx", "c", "vol", NULL);
  static const char *const options[] = { "recursive", "nosuid", "nodev" };

  (void) data;
  for (gsize i = 0; i < G_N_ELEMENTS (options); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (VcmMountRequest) req =
        vcm_mounter_prepare_bind (f->m, f->w->src, dest, TRUE, creds, &error);

      vcm_test_require_no_error (error);
      req->recursive = i != 0;
      req->nosuid = i != 1;
      req->nodev = i != 2;
      g_assert_false (vcm_mount_policy_check (req, &error));
      vcm_test_assert_error (error, VCM_ERROR_INVALID_ARGUMENT, options[i]);
      /* root may */
      g_clear_pointer (&req->creds, vcm_credentials_free);
      g_clear_error (&error);
      g_assert_true (vcm_mount_policy_check (req, &error));
      vcm_test_require_no_error (error);
    }
}

/* The layout SHARED/SANDBOX/CONTAINER/rootfs is the rootfs methods' (root's
 * general calls included), and an unmount removes only what the service
 * made: an administrator's directory stays. */
static void
test_layout_is_the_rootfs_methods (Fixture *f, gconstpointer data)
{
  g_autofree char *rootfs_mp = g_build_filename (f->w->shared, "sbl", "c1", "rootfs", NULL);
  g_autofree char *cdir = g_build_filename (f->w->shared, "sbl", "c1", NULL);
  g_autofree char *sdir = g_build_filename (f->w->shared, "sbl", NULL);
  g_autofree char *place = g_build_filename (f->w->shared, "sbl", "c2", "rootfs", NULL);
  g_autofree char *cover = g_build_filename (f->w->shared, "sb2", "c1", NULL);
  g_autofree char *admins = g_build_filename (f->w->shared, "adm", NULL);
  g_autofree char *deep = g_build_filename (admins, "c", "x", "y", NULL);
  g_autofree char *made = g_build_filename (admins, "c", NULL);
  g_autoptr (VcmRootfsRecord) r = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *p = NULL;
  g_auto (GStrv) detached = NULL;

  (void) data;
  r = vcm_mounter_mount_rootfs (f->m, "sbl", "c1", f->w->src, TRUE, NULL, &error);
  vcm_test_require_no_error (error);
  g_assert_cmpstr (r->mount_point, ==, rootfs_mp);
  refused_bind (f, f->w->src, rootfs_mp, VCM_ERROR_INVALID_ARGUMENT, "destination");
  refused_bind (f, f->w->src, place, VCM_ERROR_INVALID_ARGUMENT, "destination");
  refused_bind (f, f->w->src, cdir, VCM_ERROR_INVALID_ARGUMENT, "destination");
  refused_bind (f, f->w->src, sdir, VCM_ERROR_INVALID_ARGUMENT, "destination");
  refused_unmount (f, rootfs_mp, VCM_ERROR_INVALID_ARGUMENT);
  g_clear_pointer (&detached, g_strfreev);
  detached = vcm_mounter_unmount_rootfs (f->m, "sbl", "c1", &error);
  vcm_test_require_no_error (error);
  g_assert_false (vcm_test_exists (sdir)); /* the service made it: gone */

  /* root's bind on a container's directory: no rootfs is mounted into it */
  p = vcm_mounter_bind_mount (f->m, f->w->src, cover, TRUE, NULL, &error);
  vcm_test_require_no_error (error);
  refused_rootfs (f, "sb2", "c1", f->w->src, VCM_ERROR_INVALID_ARGUMENT, "sandbox_id/container_id");
  g_clear_pointer (&detached, g_strfreev);
  detached = vcm_mounter_unmount (f->m, cover, &error);
  vcm_test_require_no_error (error);

  /* the administrator's directory stays, what the service made goes */
  vcm_test_make_dir (admins);
  g_clear_pointer (&p, g_free);
  p = vcm_mounter_bind_mount (f->m, f->w->src, deep, TRUE, NULL, &error);
  vcm_test_require_no_error (error);
  g_clear_pointer (&detached, g_strfreev);
  detached = vcm_mounter_unmount (f->m, deep, &error);
  vcm_test_require_no_error (error);
  g_assert_false (vcm_test_exists (made));
  g_assert_true (vcm_test_exists (admins));
}

void
test_mounter_add_policy (void)
{
  test_mounter_add ("/layout/the-rootfs-methods", test_layout_is_the_rootfs_methods);
  test_mounter_add ("/rootfs/unique-ids", test_unique_ids);
  test_mounter_add ("/ro-never-writable", test_ro_never_writable);
  test_mounter_add ("/policy/caller-binds-recursive", test_policy_caller_binds_recursive);
  test_mounter_add ("/policy/write-foreign", test_policy_write_foreign);
  test_mounter_add ("/policy/caller-never-stacks", test_policy_caller_never_stacks);
  test_mounter_add ("/policy/refuses-for-callers", test_policy_refuses_for_callers);
}
