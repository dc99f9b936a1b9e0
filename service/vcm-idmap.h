/* vcm-idmap: ID-mapped mounts. An ID map (uid and gid ranges) checked for
 * form, checked against what a caller may map (its own IDs and the
 * subordinate ranges delegated to it, read through shadow's libsubid),
 * built into a user namespace, or read back from a user namespace a caller
 * passes; and the mount_setattr(MOUNT_ATTR_IDMAP) that applies one to a
 * detached mount. Knows nothing of D-Bus. */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "vcm-creds.h"

G_BEGIN_DECLS

typedef enum {
  VCM_ID_UID,
  VCM_ID_GID,
} VcmIdKind;

/* One range of an ID-mapped mount: files stored on the filesystem with IDs
 * @fs .. @fs+@count-1 are shown (by stat, to permission checks) as host IDs
 * @shown .. @shown+@count-1, and a file made through the mount by host ID
 * @shown+i is stored as @fs+i. In the user namespace that carries the map
 * it is one line of uid_map or gid_map: @fs is the inside column, @shown
 * the outside one (the kernel reads a filesystem's IDs as IDs inside the
 * mount's namespace). IDs on the filesystem outside every range are shown
 * as the overflow ID (65534) and give nobody an owner's rights. */
typedef struct {
  guint32 fs;
  guint32 shown;
  guint32 count;
} VcmIdRange;

/* Ranges a caller may ask for, per kind: few enough that the map the
 * service writes fits in one write to /proc/PID/uid_map (less than a page).
 * A namespace a caller passes may hold up to the kernel's 340. */
#define VCM_IDMAP_MAX_RANGES    64
#define VCM_IDMAP_MAX_NS_RANGES 340

typedef struct {
  GArray *ranges[2]; /* of VcmIdRange, indexed by VcmIdKind */
} VcmIdMap;

VcmIdMap *vcm_idmap_new (void);
void vcm_idmap_free (VcmIdMap *map);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VcmIdMap, vcm_idmap_free)

/* Appends the ranges of @value (type a(uuu): fs, shown, count, the order
 * of /proc/PID/uid_map) to @kind's. InvalidArgument naming @arg_name for
 * another type or more than VCM_IDMAP_MAX_RANGES ranges. */
gboolean vcm_idmap_add_ranges_from_variant (
  VcmIdMap *map, VcmIdKind kind, GVariant *value, const char *arg_name, GError **error);

/* The map is well-formed: both kinds have 1..@max_ranges ranges, every
 * count is at least 1, no range reaches past 4294967294 ((uid_t) -1 is no
 * ID) on either side, and no two ranges of a kind overlap on either side
 * (the kernel's rules). InvalidArgument naming @arg_name and the range. */
gboolean
vcm_idmap_validate (const VcmIdMap *map, guint max_ranges, const char *arg_name, GError **error);

/* "u:FS:SHOWN:COUNT,...,g:FS:SHOWN:COUNT,..." (uids first, each kind in the
 * order given): what polkit and the prompt are shown. */
char *vcm_idmap_to_string (const VcmIdMap *map);

/* Whether every filesystem ID @map maps (the @fs side: whose files change
 * their owner as the mount shows them), and with @check_shown every shown
 * ID as well, is @creds's own (its uid; its groups as the bus reported
 * them) or delegated to its user in the subordinate ID ranges (libsubid:
 * /etc/subuid, /etc/subgid or the provider nsswitch.conf names). The @fs
 * side is what matters: mapping another owner's files onto an ID the
 * caller controls would hand it that owner's rights over them (root's
 * 0600 files shown as the caller's), while the caller's own files may be
 * shown as anyone's (the mount is then nosuid and nodev: a file shown as
 * root's is no set-user-ID root program). Root (or NULL) may map anything.
 * NotAuthorized naming @arg_name and the first ID outside. May block on
 * the user database or a subid provider: call it where the caller's work
 * runs, never on the main loop. */
gboolean vcm_idmap_check_allowed (const VcmIdMap *map,
                                  const VcmCredentials *creds,
                                  gboolean check_shown,
                                  const char *arg_name,
                                  GError **error);

/* A new user namespace with @map (validated), as an fd (O_RDONLY|O_CLOEXEC
 * of its /proc/PID/ns/user): a short-lived child enters it, the service
 * writes its setgroups ("deny"), gid_map and uid_map, opens it and reaps
 * the child. No process is left in it. Returns -1 with Failed. */
int vcm_idmap_make_userns (const VcmIdMap *map, GError **error);

/* Checks a user namespace fd a caller passed (@arg_name) and reads its
 * maps (the outside column as host IDs): it must be a user namespace (NS_GET_NSTYPE) other than
 * the service's own, with both maps written (else InvalidArgument); a
 * caller that is not root must own it (NS_GET_OWNER_UID; else
 * NotAuthorized). The maps are read by the service from /proc/CHILD/uid_map
 * of a short-lived child it puts into the namespace with setns(2), so the
 * host side is given relative to the service's namespace however deeply
 * the namespace is nested. Returns the maps (unvalidated against any
 * caller) or NULL. */
VcmIdMap *
vcm_idmap_read_userns (int userns_fd, const VcmCredentials *creds, const char *arg_name, GError **error);

/* The "idmap" option of a mount call (@value, a{sv}: "uid-map" and
 * "gid-map", a(uuu) each, or "userns", h: an index into @fds, the call's
 * @n_fds file descriptors), made into the user namespace that carries it
 * and checked for @creds: a map must be well-formed (InvalidArgument
 * naming "@arg_name.KEY": unknown keys, wrong types, maps and a namespace
 * together, neither) and is built by vcm_idmap_make_userns(); a namespace
 * passes vcm_idmap_read_userns(). Either way the map must be allowed to
 * @creds (vcm_idmap_check_allowed(); a passed namespace on both sides).
 * Returns a user namespace fd of the service's own (the caller's fd is
 * never kept) and the map in force in *@out_map, or -1. Forks: call it
 * where the caller's work runs, never on the main loop. */
int vcm_idmap_from_option (GVariant *value,
                           const int *fds,
                           int n_fds,
                           const VcmCredentials *creds,
                           const char *arg_name,
                           VcmIdMap **out_map,
                           GError **error);

/* Makes the detached mount @mnt_fd (from open_tree(OPEN_TREE_CLONE), not
 * attached yet) ID-mapped through @userns_fd, with every mount below it if
 * @recursive. A filesystem that cannot be ID-mapped is Failed, naming it
 * and @what (the source, for the message); a kernel or filter without
 * mount_setattr(2) is Failed saying so. */
gboolean
vcm_idmap_apply (int mnt_fd, int userns_fd, gboolean recursive, const char *what, GError **error);

/* Whether the mount holding @fd is ID-mapped (its owners and modes, as
 * stat shows them, are not the filesystem's). FALSE with @error when it
 * cannot be told. */
gboolean vcm_idmap_fd_is_idmapped (int fd, gboolean *out_idmapped, GError **error);

G_END_DECLS
