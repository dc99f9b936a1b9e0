/* vcm-creds: who a caller is on the filesystem (its credentials as the bus
 * reports them: uid and every group, not what the user database says), and
 * this thread taking that identity for a while. The bottom layer of acting
 * as a caller: vcm-fdpath resolves paths with it, vcm-ascaller opens them. */
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

G_END_DECLS
