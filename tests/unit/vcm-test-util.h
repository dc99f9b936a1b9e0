/* vcm-test-util: what the mount tests share: entering a private mount
 * namespace, a throw-away tmpfs "world" (shared dir, outside dir, sources) per
 * test, and snapshots of the mount table and of directory trees to compare. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Call first in main(), before any thread exists: enters a new mount
 * namespace whose mounts are all private. Returns -1 to go on, or the exit
 * code main() must return at once (0 after printing a TAP skip plan when not
 * root or when namespaces are unavailable). With VCM_TEST_REFUSE_SYSCALLS
 * set (see vcm-seccomp.h) it then installs that seccomp filter, so every
 * test of the program runs as under a unit that refuses those syscalls. */
int vcm_test_enter_private_mount_ns (const char *prog);

/* Call after g_test_init(): the mounter's "Rollback: could not remove ..."
 * warnings (a directory it made was filled meanwhile, as the tests' writer
 * threads do on purpose) are logged and counted instead of aborting. */
void vcm_test_tolerate_rollback_warnings (void);
guint vcm_test_rollback_warnings (void);

typedef struct {
  char *root;     /* a fresh temp dir with a tmpfs on it (made shared) */
  char *shared;   /* ROOT/shared: the shared dir handed to the mounter */
  char *outside;  /* ROOT/outside: must never gain a file, dir or mount */
  char *escape;   /* ROOT/outside/escape: the dir the attacker's symlinks point at */
  char *src;      /* ROOT/src: a source tree (hello, sub/, etc/hostname) */
  char *src_file; /* ROOT/src-file: a regular file source */
} VcmTestWorld;

VcmTestWorld *vcm_test_world_new (void);
/* Detaches everything mounted in the world (recursively) and removes it. */
void vcm_test_world_free (VcmTestWorld *world);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VcmTestWorld, vcm_test_world_free)

void vcm_test_make_dir (const char *path);
void vcm_test_make_file (const char *path, const char *contents);
void vcm_test_make_symlink (const char *target, const char *path);
/* mount(2) or abort. */
void vcm_test_mount (
  const char *source, const char *target, const char *fstype, unsigned long flags, const char *data);

/* The mount points (decoded) in /proc/self/mountinfo at or beneath @prefix,
 * in table order. */
GPtrArray *vcm_test_mount_targets_beneath (const char *prefix);
/* The raw /proc/self/mountinfo lines whose mount point is at or beneath
 * @prefix, joined with '\n': equal snapshots mean an unchanged table there. */
char *vcm_test_mountinfo_beneath (const char *prefix);
/* The mount points of the mountinfo lines beneath @prefix that are not in
 * @before (a vcm_test_mountinfo_beneath() snapshot), in table order. */
GPtrArray *vcm_test_new_mount_targets (const char *before, const char *prefix);
/* Number of mounts whose mount point is exactly @path. */
guint vcm_test_count_mounts_at (const char *path);
/* The per-mount "ro" flag and the propagation ("shared", "private", ...) of
 * the top-most mount at @path; FALSE if nothing is mounted there. */
gboolean vcm_test_mount_info (const char *path, gboolean *out_ro, char **out_propagation);

/* "TYPE relpath" of every entry beneath @dir (not following symlinks,
 * descending into mounts), sorted, one a line. Empty string when @dir is empty. */
char *vcm_test_list_tree (const char *dir);

/* statx without following a trailing symlink: is @path the root of a mount? */
gboolean vcm_test_is_mount_root (const char *path);
gboolean vcm_test_exists (const char *path); /* lstat succeeds */

/* Asserts @error is VCM_ERROR/@code and its message starts with "@arg_name:"
 * (any message when @arg_name is NULL). A mismatch fails the test without
 * stopping it, so that the checks after it still run. */
#define vcm_test_assert_error(error, code, arg_name) \
  vcm_test_assert_error_impl (__FILE__, __LINE__, (error), (code), (arg_name))
void vcm_test_assert_error_impl (
  const char *file, int line, const GError *error, int code, const char *arg_name);

/* A check that fails the test without stopping it (printed as a TAP
 * comment, "# FAIL: ..."), for findings after which the test can go on. */
#define vcm_test_check(cond, ...) \
  G_STMT_START \
  { \
    if (!(cond)) \
      { \
        g_autofree char *vcm_check_msg_ = g_strdup_printf (__VA_ARGS__); \
        g_test_message ("FAIL: %s:%d: %s", __FILE__, __LINE__, vcm_check_msg_); \
        g_test_fail_printf ("%s", vcm_check_msg_); \
      } \
  } \
  G_STMT_END

/* In a void test function: on @error, fails the test without stopping the
 * program and returns from the function (the fixture is torn down as usual). */
#define vcm_test_require_no_error(error) \
  G_STMT_START \
  { \
    if ((error) != NULL) \
      { \
        g_test_message ("FAIL: %s:%d: unexpected error: %s", __FILE__, __LINE__, (error)->message); \
        g_test_fail_printf ("unexpected error: %s", (error)->message); \
        return; \
      } \
  } \
  G_STMT_END

/* The iteration count from @env_var (a positive integer), else @dflt. */
guint vcm_test_iterations (const char *env_var, guint dflt);

/* A generous bound, in microseconds, for waiting on something another thread
 * must do: @seconds times VCM_TEST_TIMEOUT_MULTIPLIER (when set and above 1;
 * the sanitizer build sets it). */
gint64 vcm_test_timeout_us (guint seconds);

/* Waits until *@counter (read atomically) is at least @target, for at most
 * vcm_test_timeout_us(@seconds); aborts the test naming @what if it is not. */
void vcm_test_wait_for_count (const gint *counter, gint target, guint seconds, const char *what);

G_END_DECLS
