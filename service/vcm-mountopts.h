/* vcm-mountopts: the options of the fd-based methods (the a{sv} argument):
 * their names and types, checked before anything else is done; the
 * defaults, which depend on whether the caller is root; what a caller that
 * is not root may not ask for; and how they show in polkit details, in the
 * prompt and in a mount's identity. No D-Bus types beyond GVariant, no
 * mounts. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  gboolean read_only;
  gboolean recursive; /* the submounts of the source come along */
  gboolean nosuid;
  gboolean nodev;
  gboolean noexec;
  const char *propagation; /* "private", "slave", "shared" or "unbindable" (static) */
  GVariant *idmap;         /* the "idmap" value (a{sv}) as given, or NULL */
  char *idmap_text;        /* the ID map in force (vcm_idmap_to_string: a passed namespace's
                            * maps as the service read them), once resolved; else NULL */
} VcmMountOpts;

/* Checks @options (a{sv}) for names and types only: an unknown key, a value
 * of the wrong type or an unknown propagation is VCM_ERROR_INVALID_ARGUMENT
 * naming @arg_name and the key. Cheap and bounded: runs before polkit. */
gboolean vcm_mount_options_validate (GVariant *options, const char *arg_name, GError **error);

/* Fills @out from @options (validated) over the defaults for @root's kind of
 * caller: read-write, recursive, nosuid and nodev, exec, private. A caller
 * that is not root cannot turn off recursive, nosuid or nodev
 * (VCM_ERROR_NOT_AUTHORIZED naming the key). */
gboolean vcm_mount_opts_parse (
  GVariant *options, gboolean root, const char *arg_name, VcmMountOpts *out, GError **error);
void vcm_mount_opts_clear (VcmMountOpts *options);

/* MS_PRIVATE, MS_SLAVE, MS_SHARED or MS_UNBINDABLE. */
unsigned long vcm_mount_opts_propagation_flag (const VcmMountOpts *options);

/* The options in force as an a{sv} (floating): the keys of the argument,
 * "idmap" as "idmapped" (b). */
GVariant *vcm_mount_opts_to_variant (const VcmMountOpts *options);

G_END_DECLS
