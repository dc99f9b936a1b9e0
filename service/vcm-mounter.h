/* vcm-mounter: the mount operations (rootfs and general bind mounts, lazy
 * unmounts) confined beneath the shared dir: requests prepared as the caller,
 * then run on exactly what was prepared. Knows nothing of D-Bus, nor of the
 * watch (tables and subtrees come through callbacks its owner sets). */
#pragma once

#include <glib-object.h>

#include "vcm-creds.h"
#include "vcm-mounttable.h"
#include "vcm-rootfs.h"

G_BEGIN_DECLS

#define VCM_TYPE_MOUNTER (vcm_mounter_get_type ())
G_DECLARE_FINAL_TYPE (VcmMounter, vcm_mounter, VCM, MOUNTER, GObject)

typedef enum {
  VCM_MOUNTER_FLAGS_NONE = 0,
  /* the classic mount(2) path even where open_tree(2) and move_mount(2)
   * work (the tests run every case on both) */
  VCM_MOUNTER_FLAGS_LEGACY_API = 1 << 0,
} VcmMounterFlags;

/* Creates @shared_dir if missing (absolute path, from the administrator's
 * configuration) and opens it; every later path operation works beneath that
 * fd. Where @shared_dir goes through a symlink, the shared dir is from then
 * on the path the kernel names the directory opened by (the mount table's;
 * vcm_mounter_get_shared_dir ()), and @shared_dir an alias arguments may
 * name. A GObject: the work of a call in a worker thread holds a reference. */
VcmMounter *vcm_mounter_new (const char *shared_dir, VcmMounterFlags flags, GError **error);

/* Where the mounter reads the mount table when the kernel cannot be asked
 * about one mount (NULL: /proc/self/mountinfo each time, the default). The
 * owner of @source_data unsets it before it goes. */
void
vcm_mounter_set_table_source (VcmMounter *mounter, VcmMountTableSource source, gpointer source_data);

/* Who may know the unique IDs of a mount and of every mount below it (the
 * mount first, then the others by ascending ID, as listmount(2) gives them)
 * without listmount(2), which walks the whole mount table: NULL when it does
 * not know. */
typedef GArray *(*VcmSubtreeSource) (gpointer user_data, guint64 unique_id);

/* UnmountRootfs and Unmount name what they detached from @subtree first. */
void
vcm_mounter_set_subtree_source (VcmMounter *mounter, VcmSubtreeSource subtree, gpointer subtree_data);

/* Who may know the mount points of the mount @mount_id (its mountinfo ID)
 * and of every mount below it (the mount first, parents before children)
 * without reading the mount table, where the kernel lacks listmount(2) and
 * statmount(2): NULL when it does not know. */
typedef GStrv (*VcmTargetsSource) (gpointer user_data, guint64 mount_id);

/* UnmountRootfs and Unmount name what they detached from @targets when
 * @subtree cannot say, before they read the mount table. */
void
vcm_mounter_set_targets_source (VcmMounter *mounter, VcmTargetsSource targets, gpointer targets_data);

/* The shared dir as the kernel names it (see vcm_mounter_new ()). */
const char *vcm_mounter_get_shared_dir (VcmMounter *mounter);

/* What is mounted at the rootfs mount point of @sandbox_id/@container_id right
 * now, read live from the kernel (statx, listmount, statmount: a cost that
 * does not grow with the mount table). Returns FALSE when the kernel cannot
 * say so cheaply (the caller then reads the whole table) or the IDs are
 * invalid. *@out_rootfs is NULL when nothing is mounted there; else
 * *@out_submounts is the set of mountinfo IDs below it (guint64 keys). */
gboolean vcm_mounter_probe_rootfs (VcmMounter *mounter,
                                   const char *sandbox_id,
                                   const char *container_id,
                                   VcmRootfsRecord **out_rootfs,
                                   GHashTable **out_submounts);

/* ---- requests --------------------------------------------------------------
 * A mutating call is split in two: prepare resolves what the call will act on
 * (validated IDs and paths, the source opened as the caller, the normalized
 * mount point and the sandbox and container it lies in), so that what polkit
 * is asked is computed from it; run then acts on exactly those objects. */

typedef enum {
  VCM_MOUNT_OP_MOUNT_ROOTFS,
  VCM_MOUNT_OP_UNMOUNT_ROOTFS,
  VCM_MOUNT_OP_BIND,
  VCM_MOUNT_OP_UNMOUNT,
  VCM_MOUNT_OP_OPEN, /* OpenMount: a detached mount handed to the caller;
                      * nothing is attached (no mount point), nothing run */
} VcmMountOp;

typedef struct {
  VcmMountOp op;
  char *sandbox_id;   /* the sandbox the mount point lies in (NULL: none) */
  char *container_id; /* the container it lies in (NULL: none) */
  char *source;       /* mounts: the path of source_fd, as the kernel names it */
  int source_fd;      /* mounts: O_PATH, opened as the caller (else -1) */
  gboolean source_is_dir;
  char *mount_point; /* normalized, absolute, beneath the shared dir */
  char *relpath;     /* mount_point relative to the shared dir */
  gboolean read_only;
  /* mounts: how the clone of the source is made (vcm-mount-policy sets what
   * a caller that is not root must have, and checks it) */
  gboolean recursive; /* the submounts of the source come with it */
  gboolean nosuid;
  gboolean nodev;
  gboolean noexec;
  gboolean source_owned;  /* the caller owns the top of the source (root: TRUE) */
  gboolean write_foreign; /* writable, of what the caller does not own: polkit
                           * is asked org.vc.mount.write-foreign as well */
  gboolean manage_rootfs; /* a general bind or unmount in a rootfs (below
                           * SHARED/SANDBOX/CONTAINER/rootfs) by a caller that
                           * is not root: polkit is asked
                           * org.vc.mount.manage-rootfs as well (vcm-layout) */
  VcmCredentials *creds;  /* the caller's; NULL: root */
  /* the fd-based methods: the source's mount, cloned from the caller's fd
   * and configured (read-only, nosuid...) while detached: attached as it is
   * instead of a bind of source_fd (-1: none) */
  int tree_fd;
  unsigned long propagation; /* of tree_fd once attached: MS_PRIVATE, MS_SLAVE... */
  /* set by who runs it: */
  gboolean off_main_loop; /* run in a worker thread: the owner's table and
                           * subtree sources are not asked (the kernel is) */
  GArray *subtree_hint;   /* unmounts: the unique IDs of the mount and of those
                           * below it, as its owner knew them (used when the
                           * mount is that one); NULL: none */
  GStrv targets_hint;     /* unmounts, where subtree_hint cannot be had (no
                           * statmount): the mount points of the mount with
                           * mountinfo ID targets_hint_id and of those below
                           * it, as its owner knew them (used when the mount
                           * is that one); NULL: none */
  guint64 targets_hint_id;
  gboolean read_identity; /* unmounts: read the mount's recorded identity
                           * (vcm-identity) in the run, before it goes */
  GVariant *identity;     /* what that read found (NULL: nothing recorded) */
} VcmMountRequest;

/* The deepest a BindMount or BindMountFd destination may lie beneath the
 * shared dir, in components: the service makes each missing directory of
 * it (and takes it away again on unmount), so its depth bounds the work of
 * one call. Deeper is VCM_ERROR_INVALID_ARGUMENT naming the argument, before
 * anything is made. (A rootfs lies 3 deep.) */
#define VCM_MAX_DESTINATION_DEPTH 32

/* The most mounts a mount of a caller that is not root may be in all, itself
 * and the submounts that come with it (a bind is recursive): one call adds at
 * most that many to the service's mount namespace, however many the source
 * holds (a tree of the caller's own namespace, or one that already holds
 * binds of the service's, whose copy would double them with each call). */
#define VCM_MAX_MOUNTS_BROUGHT 256

void vcm_mount_request_free (VcmMountRequest *req);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VcmMountRequest, vcm_mount_request_free)

/* Each returns NULL with VCM_ERROR_INVALID_ARGUMENT or _NOT_FOUND naming the
 * argument. The mounts' requests carry what vcm-mount-policy decides of them
 * (for a caller that is not root: recursive, nosuid, nodev, write_foreign). @creds: the caller's (NULL: the service's own). They read only
 * what never changes (the shared dir's path) and may run in a worker thread:
 * a source on a filesystem that does not answer holds up only that thread. */
VcmMountRequest *vcm_mounter_prepare_mount_rootfs (VcmMounter *mounter,
                                                   const char *sandbox_id,
                                                   const char *container_id,
                                                   const char *rootfs,
                                                   gboolean read_only,
                                                   const VcmCredentials *creds,
                                                   GError **error);
VcmMountRequest *vcm_mounter_prepare_unmount_rootfs (VcmMounter *mounter,
                                                     const char *sandbox_id,
                                                     const char *container_id,
                                                     const VcmCredentials *creds,
                                                     GError **error);
VcmMountRequest *vcm_mounter_prepare_bind (VcmMounter *mounter,
                                           const char *source,
                                           const char *destination,
                                           gboolean read_only,
                                           const VcmCredentials *creds,
                                           GError **error);
VcmMountRequest *vcm_mounter_prepare_unmount (VcmMounter *mounter,
                                              const char *mount_point,
                                              const VcmCredentials *creds,
                                              GError **error);

/* MountRootfsFd and BindMountFd: a request to attach @tree_fd (a detached,
 * configured mount; taken over, closed on failure) at the rootfs mount point
 * of @sandbox_id/@container_id, or at @destination when @sandbox_id is
 * NULL. @source names it (the path the kernel gives the caller's fd),
 * @source_is_dir its kind, @read_only and @propagation what it was
 * configured with. */
VcmMountRequest *vcm_mounter_prepare_attach_tree (VcmMounter *mounter,
                                                  const char *sandbox_id,
                                                  const char *container_id,
                                                  const char *destination,
                                                  int tree_fd,
                                                  const char *source,
                                                  gboolean source_is_dir,
                                                  gboolean read_only,
                                                  unsigned long propagation,
                                                  const VcmCredentials *creds,
                                                  GError **error);

/* OpenMount: the detached mount made from the caller's @source_fd (taken
 * over) with @read_only, handed to the caller: no mount point ("") and no
 * sandbox or container; what the mount policy decides of it and what polkit
 * is shown are computed from it as for the other mounts. */
VcmMountRequest *vcm_mounter_prepare_open (VcmMounter *mounter,
                                           int source_fd,
                                           const char *source,
                                           gboolean source_is_dir,
                                           gboolean read_only,
                                           const VcmCredentials *creds);

/* The IDs of what is mounted at @relpath (beneath the shared dir): the
 * 32-bit mountinfo one and the 64-bit unique one (0 where the kernel lacks
 * it). */
gboolean vcm_mounter_mount_ids_at (VcmMounter *mounter,
                                   const char *relpath,
                                   guint64 *out_old_id,
                                   guint64 *out_unique_id);

/* The shared dir, opened at start (O_PATH). */
int vcm_mounter_get_shared_fd (VcmMounter *mounter);

/* The mounts each caller that is not root holds (the mounter counts them as
 * it attaches; their owner gives them back as their mounts go). */
struct _VcmHoldings *vcm_mounter_get_holdings (VcmMounter *mounter);

/* MountRootfs and BindMount: the mount point is made if missing (by the
 * service in its own layout on the shared dir's mount, as the caller inside
 * any other mount), must lie where the caller can rename no component of
 * its path, and is checked after the attach to hold the new mount. */
VcmRootfsRecord *
vcm_mounter_run_mount_rootfs (VcmMounter *mounter, const VcmMountRequest *req, GError **error);
/* Returns the (normalized) mount point. */
char *vcm_mounter_run_bind (VcmMounter *mounter, const VcmMountRequest *req, GError **error);
/* Return the mount points detached, the mount point itself first; what
 * the service made for the mount point and leaves empty is removed
 * (vcm_layout_remove_emptied), nothing else. @out_ids (may be NULL)
 * receives their IDs (VcmSysMountIds), read from the mounts pinned before
 * the detach, in the same order (0 where the kernel could not say): what
 * the service kept of a mount by its path is dropped by these, so that a
 * mount made at the same path meanwhile keeps its own. */
GStrv vcm_mounter_run_unmount_rootfs (VcmMounter *mounter,
                                      const VcmMountRequest *req,
                                      GArray **out_ids,
                                      GError **error);
GStrv vcm_mounter_run_unmount (VcmMounter *mounter,
                               const VcmMountRequest *req,
                               GArray **out_ids,
                               GError **error);

G_END_DECLS
