/* vcm-creds: who a caller is on the filesystem, and doing things as that
 * caller: its credentials as the bus reports them (uid and every group, not
 * what the user database says), and the few filesystem operations the
 * service makes on a caller's behalf with them (resolving a path, proving a
 * source readable, creating a directory or file, asking whether a directory
 * is writable). */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

typedef struct {
  uid_t uid;
  gid_t gid; /* the filesystem gid: new files get it */
  guint n_groups;
  gid_t *groups; /* every group of the caller, @gid among them */
} VcmCredentials;

/* @uid with @groups (at least one; the bus's UnixGroupIDs, which hold the
 * primary group and the supplementary ones, in no order that tells which is
 * which: the first becomes the filesystem gid). */
VcmCredentials *vcm_credentials_new (uid_t uid, const gid_t *groups, guint n_groups);
VcmCredentials *vcm_credentials_copy (const VcmCredentials *creds);
void vcm_credentials_free (VcmCredentials *creds);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VcmCredentials, vcm_credentials_free)

/* NULL (the service itself) or uid 0: no switch, no check. */
gboolean vcm_credentials_is_root (const VcmCredentials *creds);

/* This thread's filesystem credentials switched to @creds's (fsuid, fsgid,
 * groups; nothing for root) until vcm_credentials_leave(), which puts them
 * back (and aborts if it cannot: a thread of a root daemon must never keep
 * a caller's identity). Only this thread is affected. FALSE with errno. */
typedef struct {
  gboolean switched;
  uid_t fsuid;
  gid_t fsgid;
  int n_groups;
  gid_t *groups;
} VcmSavedCreds;

gboolean vcm_credentials_enter (const VcmCredentials *creds, VcmSavedCreds *saved);
/* Keeps errno. */
void vcm_credentials_leave (VcmSavedCreds *saved);

/* Opens @path (absolute) with the filesystem credentials of @creds (NULL or
 * uid 0: the service's own), following symlinks by their text and never a
 * /proc magic link (vcm_fdpath_open_following). A path the caller could not
 * reach gives VCM_ERROR_NOT_FOUND, like a missing one. @arg_name names the
 * argument in errors. Returns an O_PATH fd or -1. */
int
vcm_open_path_as (const char *arg_name, const char *path, const VcmCredentials *creds, GError **error);

/* Opens the source of a mount as vcm_open_path_as() does, and proves that
 * the caller may read it: a directory or a regular file is opened for
 * reading with the caller's credentials, anything else is checked with
 * faccessat2(R_OK). Unreadable is VCM_ERROR_NOT_FOUND, like missing.
 * *@out_canonical is the path the kernel gives the opened object (what a
 * polkit rule is shown); *@out_is_dir its kind. Returns an O_PATH fd or -1. */
int vcm_open_source_as (const char *arg_name,
                        const char *path,
                        const VcmCredentials *creds,
                        char **out_canonical,
                        gboolean *out_is_dir,
                        GError **error);

/* mkdirat(@dir_fd, @name, @mode), or with @as_file an empty file made with
 * O_CREAT|O_EXCL|O_NOFOLLOW, as @creds. 0, or -1 with errno. */
int
vcm_create_as (const VcmCredentials *creds, int dir_fd, const char *name, gboolean as_file, mode_t mode);

/* Whether only root can ever change the entries of the directory @dir_fd:
 * it is root's, without group or other write permission and without an
 * ACL. (Whether a caller may write it now is not enough: an owner can chmod,
 * and another process of the same user may hold a group the caller dropped.)
 * FALSE with @error when it cannot be told. */
gboolean vcm_dir_is_roots_alone (int dir_fd, gboolean *out_fixed, GError **error);

G_END_DECLS
