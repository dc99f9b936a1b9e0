/* vcm-mount-policy: what a mount made for a caller that is not root may be,
 * decided in one place for every method that mounts (the path-based ones and
 * the fd-based ones alike): recursive, nosuid and nodev, writable only of a
 * tree the caller owns unless the write-foreign action allows it, and never
 * placed on or beneath a filesystem an unprivileged user controls. Root's
 * requests are left as they are asked. Knows nothing of D-Bus. */
#pragma once

#include <glib.h>

#include "vcm-mounter.h"

G_BEGIN_DECLS

/* What kind of filesystem an unprivileged user may control holds @fd
 * ("FUSE", "a network filesystem"), judged by the kernel's record of the
 * superblock (its magic number, read without asking the filesystem where the
 * kernel can), never by what the filesystem reports of owners and modes;
 * NULL for any other. A FUSE server answers as it likes (FUSE of any kind,
 * virtiofs included), a network filesystem's server too, and either can make
 * a directory vanish or move under the kernel's feet.
 *
 * A superblock owned by a user namespace other than the initial one (a
 * tmpfs or overlay a user mounted in a namespace of its own) cannot be told
 * by any interface of the kernel (statx, statfs, mountinfo and statmount do
 * not name a superblock's owner). Its inodes can only carry IDs mapped in
 * that namespace, and an unprivileged user's namespace never maps host root
 * (newuidmap grants a user's own ID and its subordinate ranges, never 0), so
 * the "root's alone" test of every directory of a mount point's path (see
 * vcm_fdpath_check_immovable) refuses any directory of such a superblock; a
 * caller's mount point is never the root of a mount (it would sit "on" it),
 * and an ID-mapped mount made for a caller maps only its own IDs. So no
 * caller's mount point lies on or beneath one. -1 with errno when the
 * kernel cannot say. */
int vcm_mount_policy_users_fs (int fd, const char **out_kind);

/* The defaults of a mount request for a caller that is not root (req->creds
 * set): recursive (the submounts of the source come with it, so nothing it
 * hides is uncovered), nosuid and nodev. Root's request is left alone: the
 * path-based methods keep root's binds as they always were (not recursive),
 * an fd-based method sets root's from its options. Call it once the source
 * is opened, before the options of a method are applied. */
void vcm_mount_policy_defaults (VcmMountRequest *req);

/* Checks what @req asks against what its caller may have, and decides what
 * polkit is asked beyond the method's own action: a caller that is not root
 * may not have a bind without its submounts ("recursive"), setuid or device
 * files ("nosuid", "nodev"): VCM_ERROR_INVALID_ARGUMENT naming the option.
 * Sets req->source_owned (the caller owns the top of the source, on a
 * filesystem that cannot lie about it) and req->write_foreign (a writable
 * mount of what the caller does not own: it needs the write-foreign action
 * too). Root: source_owned TRUE, write_foreign FALSE. Reads the opened source
 * (fstat): runs where the prepare stage runs, never on the main loop. */
gboolean vcm_mount_policy_check (VcmMountRequest *req, GError **error);

G_END_DECLS
