/* vcm-mount-policy: what a mount made for a caller that is not root may be
 * (recursive, nosuid, nodev, writable by ownership), and which filesystems
 * such a caller may control. One place for every method that mounts. */
#include "config.h"

#include <errno.h>
#include <sys/stat.h>

#include "vcm-creds.h"
#include "vcm-error.h"
#include "vcm-mount-policy.h"
#include "vcm-sys.h"

/* Superblock magic numbers (linux/magic.h and the filesystems' own headers,
 * some of which the distribution's headers lack). */
static const struct {
  guint64 magic;
  const char *kind;
} users_filesystems[] = {
  { 0x65735546, "FUSE" },                 /* fuse, fuseblk, virtiofs */
  { 0x6969, "a network filesystem" },     /* NFS */
  { 0xff534d42, "a network filesystem" }, /* CIFS */
  { 0xfe534d42, "a network filesystem" }, /* SMB2/3 */
  { 0x517b, "a network filesystem" },     /* SMB */
  { 0x01021997, "a network filesystem" }, /* 9P */
  { 0x00c36400, "a network filesystem" }, /* Ceph */
  { 0x6b414653, "a network filesystem" }, /* kAFS */
  { 0x5346414f, "a network filesystem" }, /* OpenAFS */
  { 0x73757245, "a network filesystem" }, /* Coda */
  { 0x564c, "a network filesystem" },     /* NCP */
  { 0x0bd00bd0, "a network filesystem" }, /* Lustre */
  { 0x20030528, "a network filesystem" }, /* OrangeFS */
};

int
vcm_mount_policy_users_fs (int fd, const char **out_kind)
{
  guint64 magic = 0;

  *out_kind = NULL;
  if (vcm_sys_fs_magic (fd, &magic) < 0)
    return -1;
  for (gsize i = 0; i < G_N_ELEMENTS (users_filesystems); i++)
    if (users_filesystems[i].magic == magic)
      *out_kind = users_filesystems[i].kind;
  return 0;
}

void
vcm_mount_policy_defaults (VcmMountRequest *req)
{
  if (vcm_credentials_is_root (req->creds))
    return;
  req->recursive = TRUE;
  req->nosuid = TRUE;
  req->nodev = TRUE;
}

static gboolean
refuse_option (const char *option, const char *what, GError **error)
{
  g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT, "%s: only root may have %s", option, what);
  return FALSE;
}

gboolean
vcm_mount_policy_check (VcmMountRequest *req, GError **error)
{
  const char *kind = NULL;
  struct stat st;

  g_return_val_if_fail (req->source_fd >= 0, FALSE);
  req->source_owned = TRUE;
  req->write_foreign = FALSE;
  if (vcm_credentials_is_root (req->creds))
    return TRUE;
  if (!req->recursive)
    return refuse_option ("recursive",
                          "a bind without the mounts below its source (it would uncover what they "
                          "hide)",
                          error);
  if (!req->nosuid)
    return refuse_option ("nosuid", "a mount where setuid and setgid files take effect", error);
  if (!req->nodev)
    return refuse_option ("nodev", "a mount where device files can be opened", error);

  /* By ownership, as systemd-mountfsd decides: what uses the shared dir
   * (a sandbox's virtiofsd) writes with root's rights, so the caller's own
   * permissions on the files do not limit it. A filesystem the caller may
   * control reports any owner it likes: it proves nothing. */
  if (fstat (req->source_fd, &st) < 0)
    return vcm_error_set_errno (error, errno, "cannot stat the source", req->source);
  if (vcm_mount_policy_users_fs (req->source_fd, &kind) < 0)
    return vcm_error_set_errno (error, errno, "cannot tell the filesystem of the source", req->source);
  req->source_owned = st.st_uid == req->creds->uid && kind == NULL;
  req->write_foreign = !req->read_only && !req->source_owned;
  return TRUE;
}
