/* vcm-test-util: what the mount tests share: entering a private mount
 * namespace, a throw-away tmpfs "world" per test, and snapshots of the mount
 * table and of directory trees. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <glib/gstdio.h>

#include "vcm-error.h"
#include "vcm-sys.h"
#include "vcm-seccomp.h"
#include "vcm-test-util.h"

int
vcm_test_enter_private_mount_ns (const char *prog)
{
  if (geteuid () != 0)
    {
      printf ("1..0 # SKIP %s needs root (mount namespace and mounts)\n", prog);
      return 0;
    }
  if (unshare (CLONE_NEWNS) != 0)
    {
      printf ("1..0 # SKIP cannot enter a private mount namespace: %s\n", g_strerror (errno));
      return 0;
    }
  if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
    {
      fprintf (stderr, "cannot make the mount namespace private: %s\n", g_strerror (errno));
      return 1;
    }
  if (g_getenv (VCM_SECCOMP_ENV) != NULL)
    {
      g_autoptr (GError) error = NULL;

      if (!vcm_seccomp_refuse_spec (g_getenv (VCM_SECCOMP_ENV), &error))
        {
          fprintf (stderr, "%s: %s\n", VCM_SECCOMP_ENV, error->message);
          return 1;
        }
    }
  return -1;
}

static gint rollback_warnings;

/* With G_LOG_USE_STRUCTURED, g_warning() goes through the writer and
 * g_log_writer_default() makes it fatal under GTest: the mounter's rollback
 * warnings are printed and counted here instead. */
static GLogWriterOutput
log_writer (GLogLevelFlags log_level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  (void) user_data;
  if (log_level & G_LOG_LEVEL_WARNING)
    for (gsize i = 0; i < n_fields; i++)
      if (g_str_equal (fields[i].key, "MESSAGE") && fields[i].length < 0 &&
          g_str_has_prefix (fields[i].value, "Rollback: "))
        {
          if (g_atomic_int_add (&rollback_warnings, 1) < 5)
            g_test_message ("(tolerated) %s", (const char *) fields[i].value);
          return G_LOG_WRITER_HANDLED;
        }
  return g_log_writer_default (log_level, fields, n_fields, NULL);
}

void
vcm_test_tolerate_rollback_warnings (void)
{
  g_log_set_writer_func (log_writer, NULL, NULL);
}

guint
vcm_test_rollback_warnings (void)
{
  return (guint) g_atomic_int_get (&rollback_warnings);
}

void
vcm_test_make_dir (const char *path)
{
  if (g_mkdir_with_parents (path, 0755) != 0)
    g_error ("mkdir %s: %s", path, g_strerror (errno));
}

void
vcm_test_make_file (const char *path, const char *contents)
{
  g_autoptr (GError) error = NULL;

  if (!g_file_set_contents (path, contents, -1, &error))
    g_error ("%s", error->message);
}

void
vcm_test_make_symlink (const char *target, const char *path)
{
  if (symlink (target, path) != 0)
    g_error ("symlink %s -> %s: %s", path, target, g_strerror (errno));
}

void
vcm_test_mount (
  const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)
{
  if (mount (source, target, fstype, flags, data) != 0)
    g_error ("mount %s on %s: %s", source ? source : "(null)", target, g_strerror (errno));
}

VcmTestWorld *
vcm_test_world_new (void)
{
  VcmTestWorld *w = g_new0 (VcmTestWorld, 1);
  g_autofree char *tmpl = g_build_filename (g_get_tmp_dir (), "vcm-world-XXXXXX", NULL);
  g_autofree char *p = NULL;

  if (g_mkdtemp (tmpl) == NULL)
    g_error ("mkdtemp: %s", g_strerror (errno));
  w->root = g_steal_pointer (&tmpl);
  vcm_test_mount ("vcmtest-world", w->root, "tmpfs", 0, "mode=0755");
  /* Shared on purpose: the mounter must make its mounts private itself. */
  vcm_test_mount (NULL, w->root, NULL, MS_SHARED, NULL);

  w->shared = g_build_filename (w->root, "shared", NULL);
  w->outside = g_build_filename (w->root, "outside", NULL);
  w->escape = g_build_filename (w->outside, "escape", NULL);
  w->src = g_build_filename (w->root, "src", NULL);
  w->src_file = g_build_filename (w->root, "src-file", NULL);

  vcm_test_make_dir (w->shared);
  vcm_test_make_dir (w->escape);
  vcm_test_make_dir (w->src);
  p = g_build_filename (w->src, "hello", NULL);
  vcm_test_make_file (p, "hello from the source\n");
  g_free (p);
  p = g_build_filename (w->src, "sub", NULL);
  vcm_test_make_dir (p);
  g_free (p);
  p = g_build_filename (w->src, "etc", NULL);
  vcm_test_make_dir (p);
  g_free (p);
  p = g_build_filename (w->src, "etc", "hostname", NULL);
  vcm_test_make_file (p, "source-host\n");
  vcm_test_make_file (w->src_file, "a file source\n");
  return w;
}

void
vcm_test_world_free (VcmTestWorld *w)
{
  if (w == NULL)
    return;
  /* Detaching the world's tmpfs detaches every mount beneath it too; the
   * directory under it is empty again (the files lived on the tmpfs). */
  if (umount2 (w->root, MNT_DETACH) != 0)
    g_error ("umount %s: %s", w->root, g_strerror (errno));
  if (g_rmdir (w->root) != 0)
    g_error ("rmdir %s: %s", w->root, g_strerror (errno));
  g_free (w->root);
  g_free (w->shared);
  g_free (w->outside);
  g_free (w->escape);
  g_free (w->src);
  g_free (w->src_file);
  g_free (w);
}

/* ---- the mount table ------------------------------------------------------- */

static char *
decode_octal (const char *s)
{
  GString *out = g_string_new (NULL);

  for (; *s != '\0'; s++)
    {
      if (s[0] == '\\' && g_ascii_isdigit (s[1]) && g_ascii_isdigit (s[2]) && g_ascii_isdigit (s[3]))
        {
          g_string_append_c (out, (char) (((s[1] - '0') << 6) | ((s[2] - '0') << 3) | (s[3] - '0')));
          s += 3;
        }
      else
        g_string_append_c (out, *s);
    }
  return g_string_free (out, FALSE);
}

static gboolean
under (const char *path, const char *prefix)
{
  gsize n = strlen (prefix);

  return strncmp (path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* Calls @fn for every mountinfo line with its split fields and decoded target. */
typedef void (*LineFunc) (const char *line, char **fields, const char *target, gpointer data);

static void
foreach_mount (LineFunc fn, gpointer data)
{
  g_autofree char *contents = NULL;
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) lines = NULL;

  if (!g_file_get_contents ("/proc/self/mountinfo", &contents, NULL, &error))
    g_error ("%s", error->message);
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto (GStrv) fields = NULL;
      g_autofree char *target = NULL;

      if (lines[i][0] == '\0')
        continue;
      fields = g_strsplit (lines[i], " ", -1);
      g_assert_cmpuint (g_strv_length (fields), >=, 10);
      target = decode_octal (fields[4]);
      fn (lines[i], fields, target, data);
    }
}

/* What a walk of the mount table beneath @prefix collects: the mount points
 * (@out) and/or the raw lines (@text) of the mounts whose line is not in
 * @before (when given). */
typedef struct {
  const char *prefix;
  GHashTable *before;
  GPtrArray *out;
  GString *text;
} BeneathData;

static void
collect_beneath (const char *line, char **fields, const char *target, gpointer data)
{
  BeneathData *d = data;

  (void) fields;
  if (!under (target, d->prefix))
    return;
  if (d->before != NULL && g_hash_table_contains (d->before, line))
    return;
  if (d->out != NULL)
    g_ptr_array_add (d->out, g_strdup (target));
  if (d->text != NULL)
    g_string_append_printf (d->text, "%s\n", line);
}

GPtrArray *
vcm_test_mount_targets_beneath (const char *prefix)
{
  BeneathData d = { prefix, NULL, g_ptr_array_new_with_free_func (g_free), NULL };

  foreach_mount (collect_beneath, &d);
  return d.out;
}

char *
vcm_test_mountinfo_beneath (const char *prefix)
{
  BeneathData d = { prefix, NULL, NULL, g_string_new (NULL) };

  foreach_mount (collect_beneath, &d);
  return g_string_free (d.text, FALSE);
}

GPtrArray *
vcm_test_new_mount_targets (const char *before, const char *prefix)
{
  g_auto (GStrv) lines = g_strsplit (before, "\n", -1);
  g_autoptr (GHashTable) set = g_hash_table_new (g_str_hash, g_str_equal);
  BeneathData d = { prefix, set, g_ptr_array_new_with_free_func (g_free), NULL };

  for (guint i = 0; lines[i] != NULL; i++)
    g_hash_table_add (set, lines[i]);
  foreach_mount (collect_beneath, &d);
  return d.out;
}

typedef struct {
  const char *path;
  guint count;
  gboolean ro;
  char *propagation;
} AtData;

static void
set_str (char **dst, const char *value)
{
  g_free (*dst);
  *dst = g_strdup (value);
}

static void
collect_at (const char *line, char **fields, const char *target, gpointer data)
{
  AtData *d = data;
  g_auto (GStrv) opts = NULL;

  (void) line;
  if (!g_str_equal (target, d->path))
    return;
  d->count++;
  /* Table order: a mount stacked later comes later; keep the last one. */
  opts = g_strsplit (fields[5], ",", -1);
  d->ro = g_strv_contains ((const char *const *) opts, "ro");
  set_str (&d->propagation, "private");
  for (guint i = 6; fields[i] != NULL && !g_str_equal (fields[i], "-"); i++)
    {
      if (g_str_has_prefix (fields[i], "shared:"))
        set_str (&d->propagation, "shared");
      else if (g_str_has_prefix (fields[i], "master:") && !g_str_equal (d->propagation, "shared"))
        set_str (&d->propagation, "slave");
      else if (g_str_equal (fields[i], "unbindable") && g_str_equal (d->propagation, "private"))
        set_str (&d->propagation, "unbindable");
    }
}

guint
vcm_test_count_mounts_at (const char *path)
{
  AtData d = { path, 0, FALSE, NULL };

  foreach_mount (collect_at, &d);
  g_free (d.propagation);
  return d.count;
}

gboolean
vcm_test_mount_info (const char *path, gboolean *out_ro, char **out_propagation)
{
  AtData d = { path, 0, FALSE, NULL };

  foreach_mount (collect_at, &d);
  if (out_ro)
    *out_ro = d.ro;
  if (out_propagation)
    *out_propagation = g_steal_pointer (&d.propagation);
  g_free (d.propagation);
  return d.count > 0;
}

/* ---- trees ----------------------------------------------------------------- */

static GPtrArray *tree_lines;
static gsize tree_prefix_len;

static int
tree_entry (const char *fpath, const struct stat *sb, int typeflag, struct FTW *ftwbuf)
{
  const char *type;

  (void) typeflag;
  if (ftwbuf->level == 0)
    return 0;
  if (S_ISDIR (sb->st_mode))
    type = "d";
  else if (S_ISLNK (sb->st_mode))
    type = "l";
  else if (S_ISREG (sb->st_mode))
    type = "f";
  else
    type = "?";
  g_ptr_array_add (tree_lines, g_strdup_printf ("%s %s", type, fpath + tree_prefix_len));
  return 0;
}

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char **) a, *(const char **) b);
}

char *
vcm_test_list_tree (const char *dir)
{
  g_autoptr (GString) out = g_string_new (NULL);

  /* nftw's callback has no user data: the tests call this from one thread. */
  tree_lines = g_ptr_array_new_with_free_func (g_free);
  tree_prefix_len = strlen (dir) + 1;
  if (nftw (dir, tree_entry, 16, FTW_PHYS) != 0)
    g_error ("nftw %s: %s", dir, g_strerror (errno));
  g_ptr_array_sort (tree_lines, compare_strings);
  for (guint i = 0; i < tree_lines->len; i++)
    g_string_append_printf (out, "%s\n", (const char *) tree_lines->pdata[i]);
  g_clear_pointer (&tree_lines, g_ptr_array_unref);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

gboolean
vcm_test_is_mount_root (const char *path)
{
  gboolean root = FALSE;

  if (vcm_sys_stat_mount (AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, NULL, NULL, NULL, &root, NULL) < 0)
    return FALSE;
  return root;
}

gboolean
vcm_test_exists (const char *path)
{
  struct stat st;

  return lstat (path, &st) == 0;
}

void
vcm_test_assert_error_impl (
  const char *file, int line, const GError *error, int code, const char *arg_name)
{
  gsize n = arg_name != NULL ? strlen (arg_name) : 0;

  if (error == NULL || error->domain != VCM_ERROR || error->code != code ||
      (arg_name != NULL && (strncmp (error->message, arg_name, n) != 0 || error->message[n] != ':')))
    {
      g_autofree char *got = error == NULL
        ? g_strdup ("no error")
        : g_strdup_printf ("%s code %d: %s", g_quark_to_string (error->domain), error->code,
                           error->message);
      g_autofree char *msg = g_strdup_printf ("%s:%d: expected VCM_ERROR code %d naming '%s', got %s",
                                              file, line, code, arg_name ? arg_name : "(any)", got);
      /* Not fatal: the caller goes on to check that nothing was touched. */
      g_test_message ("FAIL: %s", msg);
      g_test_fail_printf ("%s", msg);
    }
}

guint
vcm_test_iterations (const char *env_var, guint dflt)
{
  const char *s = g_getenv (env_var);
  guint64 v = 0;

  if (s == NULL || *s == '\0')
    return dflt;
  if (!g_ascii_string_to_unsigned (s, 10, 1, G_MAXUINT, &v, NULL))
    g_error ("%s: '%s' is not a positive integer", env_var, s);
  return (guint) v;
}

gint64
vcm_test_timeout_us (guint seconds)
{
  const char *m = g_getenv ("VCM_TEST_TIMEOUT_MULTIPLIER");
  double f = m != NULL ? g_ascii_strtod (m, NULL) : 1.0;

  return (gint64) (seconds * G_USEC_PER_SEC * (f > 1.0 ? f : 1.0));
}

void
vcm_test_wait_for_count (const gint *counter, gint target, guint seconds, const char *what)
{
  gint64 limit = vcm_test_timeout_us (seconds);
  gint64 deadline = g_get_monotonic_time () + limit;

  while (g_atomic_int_get (counter) < target)
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("timed out after %.0f s waiting for %s", limit / 1e6, what);
      g_usleep (1000);
    }
}
