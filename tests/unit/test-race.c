/* test-race: the mounter against a concurrent attacker. A thread swaps, as
 * fast as it can, real directories with symlinks to a dir outside the shared
 * dir (rename(2) with RENAME_EXCHANGE) at every level of the paths the main
 * thread mounts at: a middle component and the leaf of BindMount
 * destinations, and the sandbox, container and "rootfs" levels of
 * MountRootfs. After every call: no mount outside the shared dir, nothing new
 * in the outside dir, and every failure a refusal (INVALID_ARGUMENT,
 * NOT_FOUND, NOT_MOUNTED). VCM_RACE_ITERATIONS sets the number of mount calls
 * (default 5000). Runs on the API that VCM_TEST_LEGACY_MOUNT_API selects.
 * Enters a private mount namespace first; needs root. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "vcm-error.h"
#include "vcm-mounter.h"
#include "vcm-mounttable.h"
#include "vcm-test-main.h"
#include "vcm-test-util.h"
#include "vcm-testing.h"

#define LEGACY_ENV "VCM_TEST_LEGACY_MOUNT_API"

/* A real directory and a symlink to the outside side by side in @parent,
 * exchanged over and over. */
typedef struct {
  char *parent;
  int parent_fd;
  char *name;      /* the name the main thread's paths go through */
  char *swap_name; /* the other one */
} Pair;

typedef struct {
  Pair *pairs;
  guint n_pairs;
  GMutex lock;
  GCond cond;
  gint stop;
  gboolean pause_requested;
  gboolean paused;
  guint64 swaps;
  guint64 swap_errors;
  gint rounds; /* batches of exchanges done (atomic) */
} Swapper;

static gpointer
swapper_thread (gpointer data)
{
  Swapper *sw = data;

  for (guint64 k = 0; !g_atomic_int_get (&sw->stop); k++)
    {
      Pair *p = &sw->pairs[k % sw->n_pairs];

      if (g_atomic_int_get (&sw->pause_requested))
        {
          g_mutex_lock (&sw->lock);
          sw->paused = TRUE;
          g_cond_broadcast (&sw->cond);
          while (sw->pause_requested)
            g_cond_wait (&sw->cond, &sw->lock);
          sw->paused = FALSE;
          g_mutex_unlock (&sw->lock);
        }
      /* Several exchanges in a row on the same pair, then the next. */
      for (int j = 0; j < 7; j++)
        {
          if (renameat2 (p->parent_fd, p->name, p->parent_fd, p->swap_name, RENAME_EXCHANGE) == 0)
            sw->swaps++;
          else
            sw->swap_errors++;
        }
      g_atomic_int_inc (&sw->rounds);
    }
  return NULL;
}

/* Stops the swapper with both names in place (either way round). */
static void
swapper_pause (Swapper *sw)
{
  g_mutex_lock (&sw->lock);
  g_atomic_int_set (&sw->pause_requested, TRUE);
  while (!sw->paused)
    g_cond_wait (&sw->cond, &sw->lock);
  g_mutex_unlock (&sw->lock);
}

static void
swapper_resume (Swapper *sw)
{
  g_mutex_lock (&sw->lock);
  g_atomic_int_set (&sw->pause_requested, FALSE);
  g_cond_broadcast (&sw->cond);
  g_mutex_unlock (&sw->lock);
}

typedef struct {
  VcmTestWorld *w;
  VcmMounter *m;
  char *outside_tree; /* the outside dir's listing at the start */
  char *world_mounts; /* the mounts beneath the world at the start */
  guint64 calls, successes, refusals, failures;
  guint64 landed_elsewhere; /* a mount landed beneath the shared dir, not at the path returned */
  guint64 bad_detached;     /* reported mount points not beneath the shared dir */
  guint64 leftovers;        /* mounts the matching unmount could not find (the path had changed) */
  GHashTable *outcomes;     /* "call: code" -> count */
} Race;

static void
count_outcome (Race *r, const char *call, const GError *error)
{
  const char *code;
  g_autofree char *key = NULL;
  gpointer old;

  r->calls++;
  if (error == NULL)
    {
      r->successes++;
      code = "OK";
    }
  else if (g_error_matches (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT) ||
           g_error_matches (error, VCM_ERROR, VCM_ERROR_NOT_FOUND) ||
           g_error_matches (error, VCM_ERROR, VCM_ERROR_NOT_MOUNTED))
    {
      r->refusals++;
      code = error->code == VCM_ERROR_INVALID_ARGUMENT ? "InvalidArgument"
        : error->code == VCM_ERROR_NOT_FOUND           ? "NotFound"
                                                       : "NotMounted";
    }
  else
    {
      r->failures++;
      code = "UNEXPECTED";
      /* Report each kind once, with the message (paths and all). */
      if (r->failures <= 5)
        g_test_message ("FAIL: %s: unexpected error (code %d): %s", call, error->code, error->message);
    }
  key = g_strdup_printf ("%s: %s", call, code);
  old = g_hash_table_lookup (r->outcomes, key);
  g_hash_table_replace (r->outcomes, g_steal_pointer (&key),
                        GSIZE_TO_POINTER (GPOINTER_TO_SIZE (old) + 1));
}

static gboolean
under (const char *path, const char *prefix)
{
  gsize n = strlen (prefix);

  return strncmp (path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* After every call: nothing mounted beneath the world but at or below the
 * shared dir (and the world's own mounts), nothing new in the outside dir. */
static void
check_confined (Race *r, const char *call)
{
  g_autoptr (GPtrArray) fresh = vcm_test_new_mount_targets (r->world_mounts, r->w->root);
  g_autofree char *outside = vcm_test_list_tree (r->w->outside);

  for (guint i = 0; i < fresh->len; i++)
    {
      const char *t = fresh->pdata[i];

      if (!under (t, r->w->shared) || g_str_equal (t, r->w->shared))
        g_error ("after %s: a mount at %s, outside the shared dir %s", call, t, r->w->shared);
    }
  if (g_strcmp0 (outside, r->outside_tree) != 0)
    g_error ("after %s: the outside dir changed:\n--- before\n%s--- after\n%s", call, r->outside_tree,
             outside);
}

/* A successful mount call: the mounts it added are beneath the shared dir
 * (check_confined) and one of them is at the path it returned, else the path
 * changed under it (counted). */
static void
check_landed (Race *r, const char *before, const char *returned)
{
  g_autoptr (GPtrArray) fresh = vcm_test_new_mount_targets (before, r->w->root);
  gboolean at_returned = FALSE;

  for (guint i = 0; i < fresh->len; i++)
    if (g_str_equal (fresh->pdata[i], returned))
      at_returned = TRUE;
  if (!at_returned)
    r->landed_elsewhere++;
}

/* Detaches whatever is still mounted beneath the shared dir (an unmount that
 * met a symlink): with the swapper paused the table's paths are real dirs. */
static void
clean_leftovers (Race *r, Swapper *sw)
{
  g_autoptr (GPtrArray) fresh = NULL;

  swapper_pause (sw);
  fresh = vcm_test_new_mount_targets (r->world_mounts, r->w->root);
  for (guint i = fresh->len; i > 0; i--)
    {
      const char *t = fresh->pdata[i - 1];

      r->leftovers++;
      if (umount2 (t, MNT_DETACH | UMOUNT_NOFOLLOW) != 0 && errno != EINVAL && errno != ENOENT)
        g_error ("cannot detach leftover %s: %s", t, g_strerror (errno));
    }
  g_clear_pointer (&fresh, g_ptr_array_unref);
  fresh = vcm_test_new_mount_targets (r->world_mounts, r->w->root);
  g_assert_cmpuint (fresh->len, ==, 0);
  swapper_resume (sw);
}

static void
make_pair (Pair *p, const char *parent, const char *name, const char *escape)
{
  g_autofree char *real = g_build_filename (parent, name, NULL);
  g_autofree char *keep = g_build_filename (real, "keep", NULL);
  g_autofree char *link = NULL;

  p->parent = g_strdup (parent);
  p->name = g_strdup (name);
  p->swap_name = g_strconcat (name, ".swap", NULL);
  link = g_build_filename (parent, p->swap_name, NULL);
  vcm_test_make_dir (real);
  /* Never empty, so that the mounter's cleanup leaves it (and the pair) alone. */
  vcm_test_make_file (keep, "keep\n");
  vcm_test_make_symlink (escape, link);
  p->parent_fd = open (parent, O_PATH | O_DIRECTORY | O_CLOEXEC);
  g_assert_cmpint (p->parent_fd, >=, 0);
}

/* Call @i of the race: a bind or a rootfs mount through one of the
 * swapped paths. Returns what it was; *@out_got the mount point where it
 * succeeded (with *@out_rootfs for a rootfs). */
static const char *
race_call (Race *r,
           guint i,
           const char *race,
           const char *leafp,
           char **out_got,
           VcmRootfsRecord **out_rootfs,
           GError **err)
{
  VcmTestWorld *w = r->w;
  g_autofree char *dest = NULL;
  const char *op;

  switch (i % 6)
    {
    case 0: /* a directory, through the swapped middle component */
    case 1: /* a file, through it too (the leaf is created as a file) */
      op = i % 6 == 0 ? "BindMount(dir, race/real/dN)" : "BindMount(file, race/real/fN)";
      dest = g_strdup_printf ("%s/real/%c%u", race, i % 6 == 0 ? 'd' : 'f', (i / 6) % 8);
      *out_got =
        vcm_mounter_bind_mount (r->m, i % 6 == 0 ? w->src : w->src_file, dest, i & 1, NULL, err);
      return op;
    case 2: /* a directory onto the swapped leaf */
      dest = g_build_filename (leafp, "x", NULL);
      *out_got = vcm_mounter_bind_mount (r->m, w->src, dest, (i / 6) & 1, NULL, err);
      return "BindMount(dir, leaf/x)";
    default: /* MountRootfs through the sandbox, container or rootfs level */
      {
        const char *sbx = i % 6 == 3 ? "rsbx" : i % 6 == 4 ? "csbx" : "lsbx";
        g_autofree char *cid = i % 6 == 3 ? g_strdup_printf ("c%u", (i / 6) % 4) : g_strdup ("c");

        op = i % 6 == 3 ? "MountRootfs(rsbx, cN)"
          : i % 6 == 4  ? "MountRootfs(csbx, c)"
                        : "MountRootfs(lsbx, c)";
        *out_rootfs = vcm_mounter_mount_rootfs (r->m, sbx, cid, w->src, (i / 6) & 1, NULL, err);
        if (*out_rootfs != NULL)
          *out_got = g_strdup ((*out_rootfs)->mount_point);
        return op;
      }
    }
}

/* And back, through the same (swapping) path: what the unmount reports
 * detaching must lie beneath the shared dir; what it left is cleaned. */
static void
race_back (Race *r, Swapper *sw, const char *got, const VcmRootfsRecord *rootfs)
{
  VcmTestWorld *w = r->w;
  g_autoptr (GError) err2 = NULL;
  g_auto (GStrv) detached = NULL;
  g_autoptr (GPtrArray) still = NULL;

  if (rootfs != NULL)
    {
      detached = vcm_mounter_unmount_rootfs (r->m, rootfs->sandbox_id, rootfs->container_id, &err2);
      count_outcome (r, "UnmountRootfs", err2);
    }
  else
    {
      detached = vcm_mounter_unmount (r->m, got, &err2);
      count_outcome (r, "Unmount", err2);
    }
  check_confined (r, "an unmount");
  if (detached != NULL)
    for (guint k = 0; detached[k] != NULL; k++)
      if (!under (detached[k], w->shared))
        {
          r->bad_detached++;
          if (r->bad_detached <= 5)
            {
              g_autofree char *all = g_strjoinv ("', '", detached);
              g_test_message (
                "FAIL: %s of %s reported detaching '%s' (of '%s'), not beneath the shared dir",
                rootfs != NULL ? "UnmountRootfs" : "Unmount", got, detached[k], all);
            }
        }
  still = vcm_test_new_mount_targets (r->world_mounts, w->root);
  if (still->len > 0)
    clean_leftovers (r, sw);
}

/* What the race did, in the test's log. */
static void
race_report (Race *r, Swapper *sw, guint n, gint64 start)
{
  g_autoptr (GList) keys = NULL;

  g_test_message ("%s API, %u mount calls in %.1f s, %" G_GUINT64_FORMAT " exchanges by the attacker "
                  "(%" G_GUINT64_FORMAT " failed)",
                  g_strcmp0 (g_getenv (LEGACY_ENV), "1") == 0 ? "legacy mount(2)" : "fd-based", n,
                  (g_get_monotonic_time () - start) / 1e6, sw->swaps, sw->swap_errors);
  g_test_message ("calls %" G_GUINT64_FORMAT ", successes %" G_GUINT64_FORMAT
                  ", refusals %" G_GUINT64_FORMAT ", unexpected failures %" G_GUINT64_FORMAT,
                  r->calls, r->successes, r->refusals, r->failures);
  g_test_message (
    "mounts landed beneath the shared dir but not at the returned path: %" G_GUINT64_FORMAT
    "; left behind by an unmount that met a symlink (detached by the test): %" G_GUINT64_FORMAT
    "; rollback warnings: %u",
    r->landed_elsewhere, r->leftovers, vcm_test_rollback_warnings ());
  keys = g_hash_table_get_keys (r->outcomes);
  keys = g_list_sort (keys, (GCompareFunc) strcmp);
  for (GList *l = keys; l != NULL; l = l->next)
    g_test_message ("  %-45s %zu", (const char *) l->data,
                    GPOINTER_TO_SIZE (g_hash_table_lookup (r->outcomes, l->data)));
}

static void
test_race (void)
{
  guint n = vcm_test_iterations ("VCM_RACE_ITERATIONS", 5000);
  g_autoptr (VcmTestWorld) w = vcm_test_world_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (VcmMounter) m = NULL;
  g_autofree char *race = g_build_filename (w->shared, "race", NULL);
  g_autofree char *leafp = g_build_filename (w->shared, "leaf", NULL);
  g_autofree char *csbx = g_build_filename (w->shared, "csbx", NULL);
  g_autofree char *lsbx_c = g_build_filename (w->shared, "lsbx", "c", NULL);
  Pair pairs[5];
  Swapper sw = { 0 };
  Race r = { 0 };
  GThread *thread;
  gint64 start = g_get_monotonic_time ();

  m = vcm_mounter_new (w->shared,
                       g_strcmp0 (g_getenv (LEGACY_ENV), "1") == 0 ? VCM_MOUNTER_FLAGS_LEGACY_API
                                                                   : VCM_MOUNTER_FLAGS_NONE,
                       &error);
  g_assert_no_error (error);

  vcm_test_make_dir (race);
  vcm_test_make_dir (leafp);
  vcm_test_make_dir (csbx);
  vcm_test_make_dir (lsbx_c);
  make_pair (&pairs[0], race, "real", w->escape);      /* BindMount: middle component */
  make_pair (&pairs[1], leafp, "x", w->escape);        /* BindMount: the leaf */
  make_pair (&pairs[2], w->shared, "rsbx", w->escape); /* MountRootfs: sandbox */
  make_pair (&pairs[3], csbx, "c", w->escape);         /* MountRootfs: container */
  make_pair (&pairs[4], lsbx_c, "rootfs", w->escape);  /* MountRootfs: rootfs leaf */

  r.w = w;
  r.m = m;
  r.outside_tree = vcm_test_list_tree (w->outside);
  r.world_mounts = vcm_test_mountinfo_beneath (w->root);
  r.outcomes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  sw.pairs = pairs;
  sw.n_pairs = G_N_ELEMENTS (pairs);
  g_mutex_init (&sw.lock);
  g_cond_init (&sw.cond);
  thread = g_thread_new ("swapper", swapper_thread, &sw);
  /* The attacker is at work before the first call. */
  vcm_test_wait_for_count (&sw.rounds, 1, 60, "the swapper's first exchanges");

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *before = vcm_test_mountinfo_beneath (w->root);
      g_autoptr (GError) err = NULL;
      g_autofree char *got = NULL;
      g_autoptr (VcmRootfsRecord) rootfs = NULL;
      const char *op = race_call (&r, i, race, leafp, &got, &rootfs, &err);

      count_outcome (&r, op, err);
      check_confined (&r, op);
      if (got == NULL)
        continue;
      g_assert_true (under (got, w->shared));
      check_landed (&r, before, got);
      race_back (&r, &sw, got, rootfs);
    }

  g_atomic_int_set (&sw.stop, 1);
  swapper_resume (&sw);
  g_thread_join (thread);

  race_report (&r, &sw, n, start);

  /* The attacker really raced (it was exchanging before the first call), and
   * the calls really got through sometimes. */
  g_assert_cmpuint (sw.swaps, >, 0);
  vcm_test_check (r.failures == 0,
                  "%" G_GUINT64_FORMAT " calls failed with an error other than "
                  "InvalidArgument, NotFound or NotMounted",
                  r.failures);
  vcm_test_check (r.bad_detached == 0,
                  "%" G_GUINT64_FORMAT " reported mount points of an unmount "
                  "were not beneath the shared dir",
                  r.bad_detached);
  vcm_test_check (r.successes > 0, "no call ever succeeded");

  for (guint i = 0; i < G_N_ELEMENTS (pairs); i++)
    {
      close (pairs[i].parent_fd);
      g_free (pairs[i].parent);
      g_free (pairs[i].name);
      g_free (pairs[i].swap_name);
    }
  g_mutex_clear (&sw.lock);
  g_cond_clear (&sw.cond);
  g_hash_table_unref (r.outcomes);
  g_free (r.outside_tree);
  g_free (r.world_mounts);
}

/* After g_test_init(): one test, named by the mount API it runs on. */
static void
add_tests (void)
{
  vcm_test_tolerate_rollback_warnings ();
  g_test_add_func (g_strcmp0 (g_getenv (LEGACY_ENV), "1") == 0 ? "/race/legacy-api" : "/race/fd-api",
                   test_race);
}

VCM_TEST_MAIN (vcm_test_enter_private_mount_ns, add_tests, NULL);
