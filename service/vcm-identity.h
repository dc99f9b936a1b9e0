/* vcm-identity: what identifies a mount the service made, as the mount_info
 * a{sv} of the interface (mount point, kind, sandbox and container, the
 * kernel's mount ID and whether it is the 64-bit unique one, the source as
 * the service saw it and its device, inode and owner, the options, the
 * caller's uid), and the record of it that survives a restart of the
 * service: a trusted.* extended attribute of the mount point directory (or
 * file) the service made on the shared dir's own filesystem, read through a
 * non-recursive clone of the shared dir's mount (which shows what the mount
 * covers). Only root can write trusted.* attributes; the record holds the
 * mount's IDs, and is taken for the mount there now only if they are its
 * (the unique one where the kernel has it: the 32-bit one goes to the next
 * mount made). A mount point below another mount (a bind
 * inside a rootfs, say) is not recorded: the service never writes into a
 * tree it did not make. */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "vcm-sys.h"

G_BEGIN_DECLS

#define VCM_IDENTITY_XATTR "trusted.vc-mount.identity"

/* Starts a mount_info: kind, where (@mount_point NULL for a detached
 * mount), who asked (@caller_uid), the source's path (may be NULL) and
 * the options (a{sv}, floating or not; NULL for none). */
GVariantDict *vcm_identity_new (const char *kind,
                                const char *mount_point,
                                const char *sandbox_id,
                                const char *container_id,
                                uid_t caller_uid,
                                const char *source,
                                GVariant *options);

/* Adds the source's device, inode and owner from @fd (fstat). */
void vcm_identity_add_source_fd (GVariantDict *info, int fd);
void
vcm_identity_add_source_ids (GVariantDict *info, guint major, guint minor, guint64 inode, uid_t owner);

/* Adds the mount ID of the mount at @mnt_fd: the unique one where the
 * kernel has it, else the 32-bit one (mount-id-unique says which). */
void vcm_identity_add_mount_fd (GVariantDict *info, int mnt_fd);

/* Writes @info as the record of the mount at @relpath beneath @shared_fd,
 * whose 32-bit mountinfo ID is @old_id. Best effort: FALSE (said in the
 * log at debug level) where it cannot be recorded. */
gboolean vcm_identity_record (int shared_fd, const char *relpath, guint64 old_id, GVariant *info);

/* Whether a record of the mount of the IDs @recorded names the live mount
 * of the IDs @live: its 32-bit ID must be the live one's, and where either
 * side has a unique ID (the kernel has them from Linux 6.8 on) the unique
 * IDs must be equal too; a record whose unique ID cannot be checked against
 * the live mount's names nothing. The 32-bit ID alone, which the kernel
 * hands to the next mount made, decides only where neither has a unique
 * one (a kernel before 6.8). */
gboolean vcm_identity_names (const VcmSysMountIds *recorded, const VcmSysMountIds *live);

/* Fills in the unique IDs of the live mounts at @targets[i] (absolute
 * paths, as the mount table names them) whose 32-bit ID is @ids[i].old_id,
 * where @ids[i].unique_id is 0 and the kernel can say: from listmount(2)
 * and statmount(2) of the mounts beneath the mount of @shared_fd, else
 * from statx(2) of the path opened with vcm_sys_open_cached () (for the
 * main loop). Left 0 where it cannot be told. */
void vcm_identity_live_ids (int shared_fd, const char *const *targets, VcmSysMountIds *ids, guint n);

/* Reads the records of @n_relpaths mount points beneath @shared_fd (one
 * clone of the shared dir's mount for all; @shared_dir, the real path of
 * the shared dir, leads to the live mounts): for each, the recorded info
 * (with recovered = true) when it names the live mount there of the IDs
 * @ids[i] (vcm_identity_names (); a unique ID of 0 is looked up with
 * vcm_identity_live_ids ()), else NULL. */
GPtrArray *vcm_identity_recover (int shared_fd,
                                 const char *shared_dir,
                                 const char *const *relpaths,
                                 const VcmSysMountIds *ids,
                                 guint n_relpaths);

/* Removes the record at @relpath (best effort), once its mount is gone:
 * the mount of the IDs @gone (all 0: whichever). A record that names
 * another mount (one made at the same place since) stays. */
void vcm_identity_forget (int shared_fd, const char *relpath, const VcmSysMountIds *gone);

/* The IDs of the mount @info (a mount_info) is of: @old_id, and its
 * "mount-id" where "mount-id-unique" says it is the unique one. */
void vcm_identity_ids (GVariant *info, guint64 old_id, VcmSysMountIds *out);

G_END_DECLS
