/* vcm-mntnotify: the kernel's mount notifications (fanotify on the mount
 * namespace, Linux 6.15): one event per mount attached to or detached from
 * this process's mount namespace, naming the mount by its unique 64-bit ID
 * (the one statmount(2) and listmount(2) take). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum {
  VCM_MNT_ATTACHED,
  VCM_MNT_DETACHED,
  VCM_MNT_OVERFLOW, /* the kernel's queue overflowed: events were lost */
} VcmMntEventKind;

typedef struct {
  VcmMntEventKind kind;
  guint64 mnt_id; /* 0 for VCM_MNT_OVERFLOW */
} VcmMntEvent;

typedef struct _VcmMntNotify VcmMntNotify;

/* Starts listening (non-blocking fd). Fails with G_IO_ERROR_NOT_SUPPORTED
 * where the kernel predates mount notifications or a filter refuses
 * fanotify_init(2)/fanotify_mark(2), with another G_IO_ERROR otherwise. */
VcmMntNotify *vcm_mnt_notify_new (GError **error);
void vcm_mnt_notify_free (VcmMntNotify *notify);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VcmMntNotify, vcm_mnt_notify_free)

/* The fd to poll for G_IO_IN. */
int vcm_mnt_notify_get_fd (VcmMntNotify *notify);

/* Appends every event pending now to @events (VcmMntEvent), in the kernel's
 * order; never blocks. FALSE with @error when the fd cannot be read. */
gboolean vcm_mnt_notify_read (VcmMntNotify *notify, GArray *events, GError **error);

G_END_DECLS
