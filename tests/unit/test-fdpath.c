/* test-fdpath: resolving a caller's path by its text (vcm_fdpath_open_following):
 * symlinks followed by what they say, "..", loops, trailing slashes, and
 * /proc magic links never followed as jumps. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>
#include <glib/gstdio.h>

#include "vcm-fd.h"
#include "vcm-fdpath.h"
#include "vcm-test-main.h"

static char *
fd_path (int fd)
{
  g_autofree char *proc = vcm_fdpath_proc_path (fd);

  return g_file_read_link (proc, NULL);
}

typedef struct {
  char *dir;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  g_autofree char *tmp = g_dir_make_tmp ("vcm-fdpath-XXXXXX", NULL);
  g_autofree char *p = NULL;

  f->dir = realpath (tmp, NULL);
  p = g_build_filename (f->dir, "a", "b", NULL);
  g_assert_cmpint (g_mkdir_with_parents (p, 0755), ==, 0);
  g_free (p);
  p = g_build_filename (f->dir, "a", "file", NULL);
  g_assert_true (g_file_set_contents (p, "x", -1, NULL));
  g_free (p);
  p = g_build_filename (f->dir, "rel", NULL);
  g_assert_cmpint (symlink ("a/b", p), ==, 0);
  g_free (p);
  p = g_build_filename (f->dir, "abs", NULL);
  {
    g_autofree char *target = g_build_filename (f->dir, "a", NULL);
    g_assert_cmpint (symlink (target, p), ==, 0);
  }
  g_free (p);
  p = g_build_filename (f->dir, "loop", NULL);
  g_assert_cmpint (symlink ("loop", p), ==, 0);
  g_free (p);
  p = g_build_filename (f->dir, "up", NULL);
  g_assert_cmpint (symlink ("a/b/..", p), ==, 0);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", f->dir);

  g_assert_true (g_spawn_command_line_sync (cmd, NULL, NULL, NULL, NULL));
  free (f->dir);
}

static void
expect_path (Fixture *f, const char *rel, const char *want_rel)
{
  g_autofree char *path = g_build_filename (f->dir, rel, NULL);
  g_autofree char *want = g_build_filename (f->dir, want_rel, NULL);
  vcm_autofd int fd = vcm_fdpath_open_following (path);
  g_autofree char *got = NULL;

  g_assert_cmpint (fd, >=, 0);
  got = fd_path (fd);
  g_assert_cmpstr (got, ==, want);
}

static void
expect_errno (Fixture *f, const char *rel, int errsv)
{
  g_autofree char *path = g_build_filename (f->dir, rel, NULL);
  int fd = vcm_fdpath_open_following (path);

  g_assert_cmpint (fd, ==, -1);
  g_assert_cmpint (errno, ==, errsv);
}

VCM_TEST_FIXTURE ("/fdpath/follows-by-text", test_follows_symlinks_by_text, Fixture, setup, teardown)
{
  expect_path (f, "rel", "a/b");
  expect_path (f, "abs/b", "a/b");
  expect_path (f, "rel/../file", "a/file"); /* ".." after a symlink: of its target */
  expect_path (f, "up", "a");
  expect_path (f, "a/./b//", "a/b");
}

VCM_TEST_FIXTURE ("/fdpath/refusals", test_refusals, Fixture, setup, teardown)
{
  expect_errno (f, "loop", ELOOP);
  expect_errno (f, "missing", ENOENT);
  expect_errno (f, "a/file/x", ENOTDIR);
  expect_errno (f, "a/file/", ENOTDIR);
  g_assert_cmpint (vcm_fdpath_open_following ("relative"), ==, -1);
  g_assert_cmpint (errno, ==, EINVAL);
}

VCM_TEST_FIXTURE ("/fdpath/magic-links-by-text", test_magic_links_by_text, Fixture, setup, teardown)
{
  g_autofree char *dir_b = g_build_filename (f->dir, "a", "b", NULL);
  vcm_autofd int held = open (dir_b, O_PATH | O_CLOEXEC);
  g_autofree char *via_proc = g_strdup_printf ("/proc/self/fd/%d", held);
  vcm_autofd int fd = -1;
  int pipe_fds[2] = { -1, -1 };
  g_autofree char *got = NULL;
  g_autofree char *via_pipe = NULL;

  /* an fd's link reads as the path of what it holds: that path is opened */
  g_assert_cmpint (held, >=, 0);
  fd = vcm_fdpath_open_following (via_proc);
  g_assert_cmpint (fd, >=, 0);
  got = fd_path (fd);
  g_assert_cmpstr (got, ==, dir_b);

  /* a pipe's link reads "pipe:[N]": no path, nothing opened */
  g_assert_cmpint (pipe (pipe_fds), ==, 0);
  via_pipe = g_strdup_printf ("/proc/self/fd/%d", pipe_fds[0]);
  g_assert_cmpint (vcm_fdpath_open_following (via_pipe), ==, -1);
  g_assert_cmpint (errno, ==, ENOENT);
  close (pipe_fds[0]);
  close (pipe_fds[1]);
}

VCM_TEST_FIXTURE ("/fdpath/deleted-target", test_deleted_target_by_text, Fixture, setup, teardown)
{
  g_autofree char *victim = g_build_filename (f->dir, "gone", NULL);
  vcm_autofd int held = -1;
  g_autofree char *via_proc = NULL;

  g_assert_cmpint (g_mkdir (victim, 0755), ==, 0);
  held = open (victim, O_PATH | O_CLOEXEC);
  g_assert_cmpint (g_rmdir (victim), ==, 0);
  via_proc = g_strdup_printf ("/proc/self/fd/%d", held);
  /* "…/gone (deleted)": the text leads nowhere; the deleted directory is not reached */
  g_assert_cmpint (vcm_fdpath_open_following (via_proc), ==, -1);
  g_assert_cmpint (errno, ==, ENOENT);
}

/* A link that expands to thousands of components is refused after a bound
 * number of lookups, not walked. */
VCM_TEST_FIXTURE ("/fdpath/bounded-steps", test_bounded_steps, Fixture, setup, teardown)
{
  g_autofree char *d = g_build_filename (f->dir, "d", NULL);
  g_autofree char *link = g_build_filename (d, "l", NULL);
  g_autoptr (GString) target = g_string_new (NULL);

  g_assert_cmpint (g_mkdir (d, 0755), ==, 0);
  for (int i = 0; i < 800; i++)
    g_string_append (target, "../d/");
  g_string_append (target, "l");
  g_assert_cmpint (symlink (target->str, link), ==, 0);
  expect_errno (f, "d/l", ELOOP);
}

/* As the kernel's fs.protected_symlinks: another user's link in a sticky
 * world-writable directory of a third is not followed. */
VCM_TEST_FIXTURE ("/fdpath/protected-symlinks", test_protected_symlinks, Fixture, setup, teardown)
{
  g_autofree char *tmp = g_build_filename (f->dir, "tmp", NULL);
  g_autofree char *link = g_build_filename (tmp, "planted", NULL);
  g_autofree char *own = g_build_filename (tmp, "own", NULL);

  if (geteuid () != 0)
    {
      g_test_skip ("needs root to plant another user's link");
      return;
    }
  g_assert_cmpint (g_mkdir (tmp, 0755), ==, 0);
  g_assert_cmpint (chmod (tmp, 01777), ==, 0);
  g_assert_cmpint (symlink ("../a", link), ==, 0);
  g_assert_cmpint (lchown (link, 65534, 65534), ==, 0);
  g_assert_cmpint (symlink ("../a", own), ==, 0);
  expect_errno (f, "tmp/planted", EACCES);
  expect_path (f, "tmp/own", "a");            /* the link of the walker's own uid */
  g_assert_cmpint (chmod (tmp, 0777), ==, 0); /* not sticky: followed */
  expect_path (f, "tmp/planted", "a");
}

VCM_TEST_MAIN (NULL, NULL, NULL);
