/* test-fsgate: walks of callers that are not root counted per filesystem:
 * nothing counted outside a walk, a walk counted on the filesystem it last
 * reached only, one more beyond the share waits and is turned away if no
 * place comes, and gets in as soon as one does. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "vcm-error.h"
#include "vcm-fsgate.h"
#include "vcm-test-main.h"

typedef struct {
  GMutex lock;
  GCond cond;
  int fd;          /* what the holders reach first */
  int move_to;     /* where a holder told to move goes (-1: stays) */
  guint in;        /* holders counted */
  gboolean go;     /* the holders may end (or move) */
  gboolean result; /* a waiter's reach() */
} Shared;

static gpointer
holder (gpointer data)
{
  Shared *s = data;

  vcm_fsgate_begin ();
  g_assert_true (vcm_fsgate_reach (s->fd));
  g_mutex_lock (&s->lock);
  s->in++;
  g_cond_broadcast (&s->cond);
  while (!s->go)
    g_cond_wait (&s->cond, &s->lock);
  g_mutex_unlock (&s->lock);
  if (s->move_to >= 0)
    g_assert_true (vcm_fsgate_reach (s->move_to));
  vcm_fsgate_end ();
  return NULL;
}

static gpointer
waiter (gpointer data)
{
  Shared *s = data;

  vcm_fsgate_begin ();
  s->result = vcm_fsgate_reach (s->fd);
  vcm_fsgate_end ();
  return NULL;
}

static dev_t
dev_of (int fd)
{
  struct stat st;

  g_assert_no_errno (fstat (fd, &st));
  return st.st_dev;
}

VCM_TEST ("/fsgate/share-per-filesystem", test_share_per_filesystem)
{
  Shared s = { .move_to = -1 };
  GThread *holders[2];
  g_autoptr (GError) error = NULL;
  int root = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  int proc = open ("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
  GThread *w;

  g_assert_cmpint (root, >=, 0);
  g_assert_cmpint (proc, >=, 0);
  if (dev_of (root) == dev_of (proc))
    {
      g_test_skip ("/ and /proc on one filesystem");
      close (root);
      close (proc);
      return;
    }
  vcm_fsgate_set_limits (2, 50);
  s.fd = root;

  /* outside a walk (root's calls, the service's own): not counted */
  g_assert_true (vcm_fsgate_reach (root));
  g_assert_cmpuint (vcm_fsgate_get_count (dev_of (root)), ==, 0);
  g_assert_false (vcm_fsgate_turned_away ());

  g_mutex_init (&s.lock);
  g_cond_init (&s.cond);
  for (guint i = 0; i < G_N_ELEMENTS (holders); i++)
    holders[i] = g_thread_new ("holder", holder, &s);
  g_mutex_lock (&s.lock);
  while (s.in < 2)
    g_cond_wait (&s.cond, &s.lock);
  g_mutex_unlock (&s.lock);
  g_assert_cmpuint (vcm_fsgate_get_count (dev_of (root)), ==, 2);

  /* a third walk on the same filesystem waits, then is turned away */
  vcm_fsgate_begin ();
  g_assert_true (vcm_fsgate_reach (proc)); /* another filesystem: in */
  g_assert_cmpuint (vcm_fsgate_get_count (dev_of (proc)), ==, 1);
  errno = 0;
  g_assert_false (vcm_fsgate_reach (root));
  g_assert_cmpint (errno, ==, EAGAIN);
  g_assert_true (vcm_fsgate_turned_away ());
  /* (it left /proc as it set out for /) */
  g_assert_cmpuint (vcm_fsgate_get_count (dev_of (proc)), ==, 0);
  vcm_fsgate_set_error (&error, "source", "/x");
  g_assert_error (error, VCM_ERROR, VCM_ERROR_LIMITS_EXCEEDED);
  /* nobody else's figures in it */
  g_assert_null (strpbrk (error->message, "0123456789"));
  vcm_fsgate_end ();
  g_assert_false (vcm_fsgate_turned_away ());

  /* one that waits gets in as soon as a holder moves on */
  vcm_fsgate_set_limits (2, 60 * 1000);
  w = g_thread_new ("waiter", waiter, &s);
  g_mutex_lock (&s.lock);
  s.move_to = proc;
  s.go = TRUE;
  g_cond_broadcast (&s.cond);
  g_mutex_unlock (&s.lock);
  g_thread_join (w);
  g_assert_true (s.result);
  for (guint i = 0; i < G_N_ELEMENTS (holders); i++)
    g_thread_join (holders[i]);
  g_assert_cmpuint (vcm_fsgate_get_count (dev_of (root)), ==, 0);
  g_assert_cmpuint (vcm_fsgate_get_count (dev_of (proc)), ==, 0);

  vcm_fsgate_set_limits (0, 0);
  g_mutex_clear (&s.lock);
  g_cond_clear (&s.cond);
  close (root);
  close (proc);
}

VCM_TEST_MAIN (NULL, NULL, NULL);
