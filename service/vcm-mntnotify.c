/* vcm-mntnotify: mount attach/detach events from fanotify (FAN_REPORT_MNT,
 * a mark on this process's mount namespace). The distribution's headers
 * predate Linux 6.15, so the few constants and the info record used here are
 * defined below with the values of the kernel's uapi <linux/fanotify.h>. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/fanotify.h>

#include "vcm-fd.h"
#include "vcm-mntnotify.h"

#ifndef FAN_MNT_ATTACH
#define FAN_MNT_ATTACH 0x01000000
#endif
#ifndef FAN_MNT_DETACH
#define FAN_MNT_DETACH 0x02000000
#endif
#ifndef FAN_REPORT_MNT
#define FAN_REPORT_MNT 0x00004000
#endif
#ifndef FAN_MARK_MNTNS
#define FAN_MARK_MNTNS 0x00000110
#endif
#define VCM_FAN_EVENT_INFO_TYPE_MNT 7

/* struct fanotify_event_info_mnt: a header, then the unique mount ID */
typedef struct {
  struct fanotify_event_info_header hdr;
  guint64 mnt_id;
} VcmFanInfoMnt;

#define READ_BUFFER_SIZE (64 * 1024)

struct _VcmMntNotify {
  int fd;
  char *buf;
};

/* errnos that mean "no mount notifications here": an unknown flag (EINVAL,
 * a kernel before 6.15), no fanotify at all (ENOSYS), a filter (EPERM,
 * EACCES), a mark type the kernel does not know (EINVAL, ENOTSUP). */
static gboolean
errno_means_unsupported (int e)
{
  return e == EINVAL || e == ENOSYS || e == EPERM || e == EACCES || e == ENOTSUP || e == EOPNOTSUPP;
}

static void
set_error (GError **error, const char *what, int e)
{
  g_set_error (error, G_IO_ERROR,
               errno_means_unsupported (e) ? G_IO_ERROR_NOT_SUPPORTED : g_io_error_from_errno (e),
               "%s: %s", what, g_strerror (e));
}

VcmMntNotify *
vcm_mnt_notify_new (GError **error)
{
  VcmMntNotify *self;
  vcm_autofd int fd = -1;
  vcm_autofd int ns_fd = -1;

  fd = fanotify_init (FAN_REPORT_MNT | FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK, 0);
  if (fd < 0)
    {
      set_error (error, "fanotify_init(FAN_REPORT_MNT)", errno);
      return NULL;
    }
  ns_fd = open ("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
  if (ns_fd < 0)
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "/proc/self/ns/mnt: %s",
                   g_strerror (e));
      return NULL;
    }
  if (fanotify_mark (fd, FAN_MARK_ADD | FAN_MARK_MNTNS, FAN_MNT_ATTACH | FAN_MNT_DETACH, ns_fd, NULL) <
      0)
    {
      set_error (error, "fanotify_mark(FAN_MARK_MNTNS)", errno);
      return NULL;
    }
  /* Allocated last: every failure above has only its fds to close. */
  self = g_new0 (VcmMntNotify, 1);
  self->fd = g_steal_fd (&fd);
  self->buf = g_malloc (READ_BUFFER_SIZE);
  return self;
}

void
vcm_mnt_notify_free (VcmMntNotify *self)
{
  if (self == NULL)
    return;
  vcm_clear_fd (&self->fd);
  g_free (self->buf);
  g_free (self);
}

int
vcm_mnt_notify_get_fd (VcmMntNotify *self)
{
  return self->fd;
}

static void
add_event (GArray *events, VcmMntEventKind kind, guint64 id)
{
  VcmMntEvent ev = { .kind = kind, .mnt_id = id };

  g_array_append_val (events, ev);
}

/* One event: its mount ID from the info records after the metadata. */
static void
parse_event (const struct fanotify_event_metadata *md, GArray *events)
{
  const char *p = (const char *) md + md->metadata_len;
  const char *end = (const char *) md + md->event_len;
  guint64 id = 0;

  if (md->fd >= 0)
    close (md->fd); /* mount events carry none; never leak one */
  if (md->mask & FAN_Q_OVERFLOW)
    {
      add_event (events, VCM_MNT_OVERFLOW, 0);
      return;
    }
  while (p + sizeof (struct fanotify_event_info_header) <= end)
    {
      struct fanotify_event_info_header hdr;

      memcpy (&hdr, p, sizeof hdr);
      if (hdr.len < sizeof hdr || p + hdr.len > end)
        break;
      if (hdr.info_type == VCM_FAN_EVENT_INFO_TYPE_MNT && hdr.len >= sizeof (VcmFanInfoMnt))
        {
          VcmFanInfoMnt info;

          memcpy (&info, p, sizeof info);
          id = info.mnt_id;
        }
      p += hdr.len;
    }
  if (id == 0)
    {
      /* an event we cannot place is a lost event */
      add_event (events, VCM_MNT_OVERFLOW, 0);
      return;
    }
  /* a move is reported as both: the mount left one place, then arrived at another */
  if (md->mask & FAN_MNT_DETACH)
    add_event (events, VCM_MNT_DETACHED, id);
  if (md->mask & FAN_MNT_ATTACH)
    add_event (events, VCM_MNT_ATTACHED, id);
}

gboolean
vcm_mnt_notify_read (VcmMntNotify *self, GArray *events, GError **error)
{
  for (;;)
    {
      ssize_t n = read (self->fd, self->buf, READ_BUFFER_SIZE);
      const struct fanotify_event_metadata *md = (const void *) self->buf;
      size_t len;

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        return TRUE;
      if (n < 0)
        {
          int e = errno;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "reading mount notifications: %s",
                       g_strerror (e));
          return FALSE;
        }
      if (n == 0)
        return TRUE;
      len = (size_t) n;
      for (; FAN_EVENT_OK (md, len); md = FAN_EVENT_NEXT (md, len))
        {
          if (md->vers != FANOTIFY_METADATA_VERSION)
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                           "mount notifications: metadata version %u, expected %u", md->vers,
                           FANOTIFY_METADATA_VERSION);
              return FALSE;
            }
          parse_event (md, events);
        }
    }
}
