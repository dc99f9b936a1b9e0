/* vcm-mounter-private: what the parts of VcmMounter share: the object's
 * fields and the attach and detach steps (vcm-mounter-attach.c) that the
 * operations (vcm-mounter.c) are made of. Not for anyone else. */
#pragma once

#include "vcm-holdings.h"
#include "vcm-mounter.h"

G_BEGIN_DECLS

struct _VcmMounter {
  GObject parent;
  char *shared_dir;       /* as the kernel names it: no symlinks on the way */
  char *shared_dir_alias; /* the configured path, when it went through a symlink; or NULL */
  int shared_fd;
  gboolean shared_dir_covered; /* its path leads elsewhere now (logged once) */
  VcmMountTableSource source;
  gpointer source_data;
  gboolean legacy_api; /* the kernel lacks open_tree & co., or asked */
  int staging_fd;      /* legacy: the private staging tmpfs */
  guint staging_counter;
  GMutex staging_lock;      /* legacy: one attach at a time stages (runs are in threads) */
  VcmSubtreeSource subtree; /* optional: who knows a mount's subtree */
  gpointer subtree_data;
  VcmTargetsSource targets; /* optional: who knows the points of a mount's subtree */
  gpointer targets_data;
  VcmHoldings *holdings; /* the mounts each caller that is not root holds */
};

/* Opens the shared dir (self->shared_dir, made already) as self->shared_fd
 * and names it as the kernel does (vcm-mounter-shared.c). */
gboolean vcm_mounter_open_shared_dir (VcmMounter *self, GError **error);

/* Whether the shared dir's path still leads to the directory opened at start,
 * on the same mount; an error (and a line in the log) when not. */
gboolean vcm_mounter_shared_dir_reachable (VcmMounter *self, GError **error);

/* The directory of the classic path's staging tmpfs, beneath the shared dir. */
#define STAGING_DIR ".vcm-staging"

/* The filesystem type of a bind, move, remount or propagation change: the
 * kernel ignores it; a string rather than NULL keeps memory checkers (which
 * read it as a string) quiet. */
#define NO_FSTYPE "none"

/* What an attach made: the mount's IDs (mountinfo's, and the unique one or
 * 0 where the kernel cannot say) and an O_PATH fd pinning it. */
typedef struct {
  guint64 id;
  guint64 unique;
  int fd;
} VcmAttached;

#define VCM_ATTACHED_INIT \
  { \
    .fd = -1 \
  }

void vcm_attached_clear (VcmAttached *attached);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (VcmAttached, vcm_attached_clear)

/* Clones the mount at the request's source (with the mounts below it if the
 * request is recursive), sets the request's flags (read-only, nosuid, nodev,
 * noexec) and makes it private while it is still detached, then attaches it
 * onto @dst_fd. Where the kernel or a filter refuses a call of that API
 * before anything is attached, the classic path takes over. */
gboolean vcm_mounter_attach_bind (
  VcmMounter *self, const VcmMountRequest *req, int dst_fd, VcmAttached *out, GError **error);

/* Attaches the detached, configured mount @tree_fd (a dup is moved) onto
 * @dst_fd, then gives it (and what came with it) @propagation again: beneath
 * a shared parent the kernel makes it shared. */
gboolean vcm_mounter_attach_tree (int tree_fd,
                                  int dst_fd,
                                  const char *dst_path,
                                  unsigned long propagation,
                                  VcmAttached *out,
                                  GError **error);

gboolean vcm_mounter_detach_fd (int fd, const char *what, GError **error);

/* The targets detached with the mount @id pinned by @fd: itself, then its
 * descendants; their IDs appended to @ids (VcmSysMountIds, may be NULL)
 * in the same order, 0 where only the point is known. */
GStrv vcm_mounter_detached_targets (
  VcmMounter *self, const VcmMountRequest *req, int fd, guint64 id, GArray *ids);

void vcm_mounter_drop_staging (VcmMounter *self);

/* The classic path stages each mount on a private tmpfs of its own beneath
 * the shared dir (mode 0700, root only), where it is made read-only and
 * private before MS_MOVE puts it in place. The tmpfs lives for one call. */
gboolean vcm_mounter_ensure_staging (VcmMounter *self, GError **error);

/* A refusal of the fd-based mount API as a whole: a kernel before 5.12
 * (ENOSYS), or a seccomp filter that refuses these calls (ENOSYS or EPERM). */
gboolean vcm_mounter_fd_api_refused (int errsv);

/* Checks that @fd is the root of a mount; returns its mount ID. */
gboolean vcm_mounter_fd_is_mount_root (int fd, guint64 *out_id, GError **error);

/* The mount @id in a mount table: the owner's (its watch's cache) on the
 * main loop, the kernel's for a request run in a worker thread. */
const VcmMountEntry *vcm_mounter_lookup_mount_id (VcmMounter *self,
                                                  const VcmMountRequest *req,
                                                  guint64 id,
                                                  VcmMountTable **out_table);

/* How many mounts the mount pinned by @fd (mount ID @id) is in all, itself
 * and every mount below it: from listmount(2), else the mount table; -1
 * when neither can say. */
gssize vcm_mounter_count_mounts (VcmMounter *self, const VcmMountRequest *req, int fd, guint64 id);

/* Counts the @n mounts of the caller's mount (mountinfo ID @id, unique ID
 * @unique_id or 0) as held by the caller (not root): FALSE (LimitsExceeded
 * naming source) when it would then hold more than VCM_MAX_MOUNTS_HELD.
 * The mount is not undone. */
gboolean vcm_mounter_hold_mounts (
  VcmMounter *self, const VcmMountRequest *req, guint64 id, guint64 unique_id, guint n, GError **error);

/* The mountinfo IDs of the mounts below the mount @unique_id; NULL if the
 * kernel cannot say. */
GHashTable *vcm_mounter_submount_ids_live (guint64 unique_id);

G_END_DECLS
