/* vcm-engine-methods: how each method's request is checked (the size and
 * syntax of its arguments, before anything else) and resolved (what it
 * will do, what polkit is shown), and the table that binds each method to
 * its functions (ENGINE_METHODS). */
#include "config.h"

#include <gio/gunixfdlist.h>

#include "vcm-callerproc.h"
#include "vcm-engine-private.h"
#include "vcm-fd.h"
#include "vcm-fdsource.h"
#include "vcm-generated.h"
#include "vcm-identity.h"
#include "vcm-idmap.h"
#include "vcm-mount-policy.h"
#include "vcm-mountopts.h"
#include "vcm-prompt.h"
#include "vcm-validate.h"

#define ENGINE_DECLARE(Name, name) \
  static gboolean validate_##name (GVariant *, GError **); \
  static gboolean prepare_##name (VcmMounter *, GVariant *, const VcmCredentials *, Prepared *, \
                                  GError **);
#define ENGINE_DECLARE_NONE(Name, name)
ENGINE_METHODS (ENGINE_DECLARE, ENGINE_DECLARE_NONE)

/* ---- validation ---------------------------------------------------------------- */

static gboolean
validate_id_arg (GVariant *params, gsize i, const char *name, gboolean empty_ok, GError **error)
{
  const char *s;

  g_variant_get_child (params, i, "&s", &s);
  return (empty_ok && *s == '\0') || vcm_validate_id (name, s, error);
}

static gboolean
validate_path_arg (GVariant *params, gsize i, const char *name, GError **error)
{
  const char *s;

  g_variant_get_child (params, i, "&s", &s);
  return vcm_validate_absolute_path (name, s, error);
}

static gboolean
validate_mount_rootfs (GVariant *params, GError **error)
{
  return validate_id_arg (params, 0, "sandbox_id", FALSE, error) &&
    validate_id_arg (params, 1, "container_id", FALSE, error) &&
    validate_path_arg (params, 2, "rootfs", error);
}

static gboolean
validate_unmount_rootfs (GVariant *params, GError **error)
{
  return validate_id_arg (params, 0, "sandbox_id", FALSE, error) &&
    validate_id_arg (params, 1, "container_id", FALSE, error);
}

static gboolean
validate_unmount_sandbox (GVariant *params, GError **error)
{
  return validate_id_arg (params, 0, "sandbox_id", FALSE, error);
}

static gboolean
validate_list_rootfs (GVariant *params, GError **error)
{
  return validate_id_arg (params, 0, "sandbox_id", TRUE, error);
}

static gboolean
validate_bind_mount (GVariant *params, GError **error)
{
  return validate_path_arg (params, 0, "source", error) &&
    validate_path_arg (params, 1, "destination", error);
}

static gboolean
validate_unmount (GVariant *params, GError **error)
{
  return validate_path_arg (params, 0, "mount_point", error);
}

static gboolean
validate_get_device_for_path (GVariant *params, GError **error)
{
  return validate_path_arg (params, 0, "path", error);
}

static gboolean
validate_get_device_path_and_fs_type (GVariant *params, GError **error)
{
  return validate_path_arg (params, 0, "mount_point", error);
}

static gboolean
validate_is_device_mapper (GVariant *params, GError **error)
{
  return TRUE; /* two numbers: nothing to check */
}

static gboolean
validate_is_system_mount (GVariant *params, GError **error)
{
  return validate_path_arg (params, 0, "path", error);
}

static gboolean
validate_is_host_device (GVariant *params, GError **error)
{
  return validate_path_arg (params, 0, "path", error);
}

static gboolean
validate_describe_path (GVariant *params, GError **error)
{
  return validate_path_arg (params, 0, "path", error);
}

static gboolean
validate_options_arg (GVariant *params, gsize i, const char *name, GError **error)
{
  g_autoptr (GVariant) options = g_variant_get_child_value (params, i);

  return vcm_mount_options_validate (options, name, error);
}

static gboolean
validate_mount_rootfs_fd (GVariant *params, GError **error)
{
  return validate_id_arg (params, 0, "sandbox_id", FALSE, error) &&
    validate_id_arg (params, 1, "container_id", FALSE, error) &&
    validate_options_arg (params, 3, "options", error);
}

static gboolean
validate_bind_mount_fd (GVariant *params, GError **error)
{
  return validate_path_arg (params, 1, "destination", error) &&
    validate_options_arg (params, 2, "options", error);
}

static gboolean
validate_open_mount (GVariant *params, GError **error)
{
  return validate_options_arg (params, 1, "options", error);
}

static gboolean
validate_list_mounts (GVariant *params, GError **error)
{
  g_autoptr (GVariant) filter = g_variant_get_child_value (params, 0);
  GVariantIter iter;
  const char *key;
  GVariant *value;

  g_variant_iter_init (&iter, filter);
  while (g_variant_iter_loop (&iter, "{&sv}", &key, &value))
    {
      gboolean known = g_str_equal (key, "sandbox-id") || g_str_equal (key, "kind");

      if (!known || !g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
        {
          g_autofree char *quoted = vcm_validate_quote (key);

          if (!known)
            g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT, "filter: unknown key '%s'",
                         quoted);
          else
            g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT,
                         "filter: '%s' must be of type s, not %s", key,
                         g_variant_get_type_string (value));
          g_variant_unref (value);
          return FALSE;
        }
      if (g_str_equal (key, "sandbox-id") && *g_variant_get_string (value, NULL) != '\0' &&
          !vcm_validate_id ("filter: sandbox-id", g_variant_get_string (value, NULL), error))
        {
          g_variant_unref (value);
          return FALSE;
        }
    }
  return TRUE;
}

/* A mount request, with its details and prompt. */
static gboolean
prepared (Prepared *out, VcmMountRequest *req)
{
  if (req == NULL)
    return FALSE;
  out->req = req;
  out->details = vcm_prompt_request (req, &out->message);
  return TRUE;
}

static gboolean
prepare_mount_rootfs (
  VcmMounter *mounter, GVariant *params, const VcmCredentials *creds, Prepared *out, GError **error)
{
  const char *sandbox_id, *container_id, *rootfs;
  gboolean read_only;

  g_variant_get (params, "(&s&s&sb)", &sandbox_id, &container_id, &rootfs, &read_only);
  if (!vcm_caller_check_mount_namespace (out->caller->pid, out->caller->uid, "rootfs", "MountRootfsFd",
                                         error))
    return FALSE;
  return prepared (out,
                   vcm_mounter_prepare_mount_rootfs (mounter, sandbox_id, container_id, rootfs,
                                                     read_only, creds, error));
}

static gboolean
prepare_unmount_rootfs (
  VcmMounter *mounter, GVariant *params, const VcmCredentials *creds, Prepared *out, GError **error)
{
  const char *sandbox_id, *container_id;

  g_variant_get (params, "(&s&s)", &sandbox_id, &container_id);
  return prepared (out,
                   vcm_mounter_prepare_unmount_rootfs (mounter, sandbox_id, container_id, creds, error));
}

static gboolean
prepare_bind_mount (
  VcmMounter *mounter, GVariant *params, const VcmCredentials *creds, Prepared *out, GError **error)
{
  const char *source, *destination;
  gboolean read_only;

  g_variant_get (params, "(&s&sb)", &source, &destination, &read_only);
  if (!vcm_caller_check_mount_namespace (out->caller->pid, out->caller->uid, "source", "BindMountFd",
                                         error))
    return FALSE;
  return prepared (out,
                   vcm_mounter_prepare_bind (mounter, source, destination, read_only, creds, error));
}

static gboolean
prepare_unmount (
  VcmMounter *mounter, GVariant *params, const VcmCredentials *creds, Prepared *out, GError **error)
{
  const char *mount_point;

  g_variant_get (params, "(&s)", &mount_point);
  return prepared (out, vcm_mounter_prepare_unmount (mounter, mount_point, creds, error));
}

static gboolean
prepare_unmount_sandbox (
  VcmMounter *mounter, GVariant *params, const VcmCredentials *creds, Prepared *out, GError **error)
{
  const char *sandbox_id;

  g_variant_get (params, "(&s)", &sandbox_id);
  out->details = vcm_prompt_sandbox (sandbox_id, &out->message);
  return TRUE;
}

/* The at-once prepare of a request cannot be made here and now (see
 * engine_prepare_at_once()). */
static void
not_at_once (GError **error)
{
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK, "to be prepared in a worker thread");
}

/* The fd-based methods: the caller's fd at handle @fd_index checked and its
 * mount cloned and configured with @options_index's options, as the caller
 * (@creds) may; @to_caller: the detached mount is handed to the caller
 * (OpenMount), so its submounts are locked to it. Returns the detached
 * mount and fills @source and @opts. */
static int
prepare_fd_source (GVariant *params,
                   gsize fd_index,
                   const char *fd_arg,
                   gsize options_index,
                   gboolean allow_file,
                   gboolean to_caller,
                   gboolean at_once,
                   const VcmCredentials *creds,
                   Prepared *out,
                   VcmFdSource *source,
                   VcmMountOpts *opts,
                   int *out_source_fd,
                   GError **error)
{
  g_autoptr (GVariant) options = g_variant_get_child_value (params, options_index);
  gboolean root = vcm_credentials_is_root (creds);
  vcm_autofd int fd = -1;
  vcm_autofd int tree = -1;
  vcm_autofd int userns = -1;
  gboolean in_caller_ns = FALSE;
  gint32 handle;

  g_variant_get_child (params, fd_index, "h", &handle);
  if (out->fds == NULL || handle < 0 || handle >= g_unix_fd_list_get_length (out->fds) ||
      (fd = g_unix_fd_list_get (out->fds, handle, NULL)) < 0)
    {
      g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT,
                   "%s: the message carries no file descriptor at index %d", fd_arg, handle);
      return -1;
    }
  if (!vcm_mount_opts_parse (options, root, "options", opts, error))
    return -1;
  if (at_once && (!root || opts->idmap != NULL))
    {
      not_at_once (error);
      return -1;
    }
  if (!vcm_fd_source_inspect (fd, fd_arg, allow_file, root, source, error) ||
      !vcm_fd_source_check_access (fd, source, creds, fd_arg, error))
    return -1;
  /* the map checked for the caller and carried by a namespace of the
   * service's own, before anything is cloned */
  if (opts->idmap != NULL)
    {
      g_autoptr (VcmIdMap) map = NULL;
      gint n_fds = 0;
      const int *fds = out->fds != NULL ? g_unix_fd_list_peek_fds (out->fds, &n_fds) : NULL;

      userns = vcm_idmap_from_option (opts->idmap, fds, n_fds, creds, "options.idmap", &map, error);
      if (userns < 0)
        return -1;
      opts->idmap_text = vcm_idmap_to_string (map);
    }
  if (at_once)
    {
      /* where the fd's mount lies in the service's namespace; else the
       * clone in the caller's, by a helper process, in a worker thread */
      tree = vcm_fd_source_clone_here (fd, opts->recursive);
      if (tree < 0 && errno == EINVAL)
        {
          not_at_once (error);
          return -1;
        }
      if (tree < 0)
        g_set_error (error, VCM_ERROR, VCM_ERROR_FAILED, "%s: cannot clone the mount: %s", fd_arg,
                     g_strerror (errno));
    }
  else
    tree = vcm_fd_source_clone (fd, opts->recursive, to_caller && !root, out->caller->pid,
                                out->caller->uid, fd_arg, &in_caller_ns, error);
  if (tree < 0 || !vcm_fd_source_configure (tree, opts, fd_arg, error))
    return -1;
  /* a path of the caller's own namespace names whatever the caller bound
   * there: shown marked, so that no rule on the host's paths matches it */
  if (in_caller_ns)
    {
      g_autofree char *path = g_steal_pointer (&source->path);

      source->path = g_strconcat (VCM_FD_SOURCE_CALLER_NS_PREFIX, path, NULL);
    }
  /* writable by the top's owner: not what came along below it */
  if (!root && !to_caller && !opts->read_only &&
      !vcm_fd_source_submounts_read_only (tree, fd_arg, error))
    return -1;
  if (userns >= 0 && !vcm_idmap_apply (tree, userns, opts->recursive, source->path, error))
    return -1;
  out->info = vcm_identity_new ("detached", NULL, NULL, NULL, out->caller->uid, source->path,
                                vcm_mount_opts_to_variant (opts));
  vcm_identity_add_source_ids (out->info, source->major, source->minor, source->inode, source->owner);
  *out_source_fd = g_steal_fd (&fd);
  return g_steal_fd (&tree);
}

/* What vcm-mount-policy decides of @req (recursive, nosuid, nodev for a
 * caller that is not root; a writable mount of what it does not own asks
 * the write-foreign action as well), with @opts as asked. */
static gboolean
fd_request_policy (VcmMountRequest *req, const VcmMountOpts *opts, GError **error)
{
  req->recursive = opts->recursive;
  req->nosuid = opts->nosuid;
  req->nodev = opts->nodev;
  req->noexec = opts->noexec;
  return vcm_mount_policy_check (req, error);
}

/* MountRootfsFd (@sandbox_id set) and BindMountFd. */
static gboolean
prepare_attach_fd (VcmMounter *mounter,
                   GVariant *params,
                   gboolean at_once,
                   const VcmCredentials *creds,
                   const char *sandbox_id,
                   const char *container_id,
                   const char *destination,
                   Prepared *out,
                   GError **error)
{
  gboolean rootfs = sandbox_id != NULL;
  VcmFdSource source = { 0 };
  VcmMountOpts opts = { 0 };
  vcm_autofd int source_fd = -1;
  int tree;

  tree = prepare_fd_source (params, rootfs ? 2 : 0, rootfs ? "rootfs" : "source", rootfs ? 3 : 2,
                            !rootfs, FALSE, at_once, creds, out, &source, &opts, &source_fd, error);
  if (tree >= 0)
    out->req = vcm_mounter_prepare_attach_tree (mounter, sandbox_id, container_id, destination, tree,
                                                source.path, source.is_dir, opts.read_only,
                                                vcm_mount_opts_propagation_flag (&opts), creds, error);
  if (out->req != NULL)
    {
      out->req->source_fd = g_steal_fd (&source_fd);
      if (!fd_request_policy (out->req, &opts, error))
        g_clear_pointer (&out->req, vcm_mount_request_free);
    }
  /* what polkit is shown (root, prepared at once, is asked nothing) */
  if (out->req != NULL && !at_once)
    out->details = vcm_prompt_fd_request (out->req, &source, &opts, &out->message);
  vcm_fd_source_clear (&source);
  vcm_mount_opts_clear (&opts);
  return out->req != NULL;
}

static gboolean
prepare_mount_rootfs_fd (
  VcmMounter *mounter, GVariant *params, const VcmCredentials *creds, Prepared *out, GError **error)
{
  const char *sandbox_id, *container_id;

  g_variant_get (params, "(&s&sh@a{sv})", &sandbox_id, &container_id, NULL, NULL);
  return prepare_attach_fd (mounter, params, FALSE, creds, sandbox_id, container_id, NULL, out, error);
}

static gboolean
prepare_bind_mount_fd (
  VcmMounter *mounter, GVariant *params, const VcmCredentials *creds, Prepared *out, GError **error)
{
  const char *destination;

  g_variant_get (params, "(h&s@a{sv})", NULL, &destination, NULL);
  return prepare_attach_fd (mounter, params, FALSE, creds, NULL, NULL, destination, out, error);
}

gboolean
engine_prepare_at_once (
  const MethodEntry *entry, VcmMounter *mounter, GVariant *params, Prepared *out, GError **error)
{
  const char *sandbox_id, *container_id, *destination;

  if (out->caller->creds != NULL || out->caller->uid != 0)
    ; /* a caller that is not root: its fd's filesystem is asked, in a thread */
  else if (entry->prepare == prepare_mount_rootfs_fd)
    {
      g_variant_get (params, "(&s&sh@a{sv})", &sandbox_id, &container_id, NULL, NULL);
      return prepare_attach_fd (mounter, params, TRUE, NULL, sandbox_id, container_id, NULL, out, error);
    }
  else if (entry->prepare == prepare_bind_mount_fd)
    {
      g_variant_get (params, "(h&s@a{sv})", NULL, &destination, NULL);
      return prepare_attach_fd (mounter, params, TRUE, NULL, NULL, NULL, destination, out, error);
    }
  not_at_once (error);
  return FALSE;
}

static gboolean
prepare_open_mount (
  VcmMounter *mounter, GVariant *params, const VcmCredentials *creds, Prepared *out, GError **error)
{
  VcmFdSource source = { 0 };
  VcmMountOpts opts = { 0 };
  int source_fd = -1;

  out->mount_fd = prepare_fd_source (params, 0, "source", 1, TRUE, TRUE, FALSE, creds, out, &source,
                                     &opts, &source_fd, error);
  if (out->mount_fd >= 0)
    {
      /* what is handed over, as the policy and polkit see it: no mount point */
      out->req =
        vcm_mounter_prepare_open (mounter, source_fd, source.path, source.is_dir, opts.read_only, creds);
      if (!fd_request_policy (out->req, &opts, error))
        vcm_clear_fd (&out->mount_fd);
    }
  if (out->mount_fd >= 0)
    {
      vcm_identity_add_mount_fd (out->info, out->mount_fd);
      out->details = vcm_prompt_fd_request (out->req, &source, &opts, &out->message);
    }
  vcm_fd_source_clear (&source);
  vcm_mount_opts_clear (&opts);
  return out->mount_fd >= 0;
}

static gboolean
prepare_list_mounts (
  VcmMounter *mounter, GVariant *params, const VcmCredentials *creds, Prepared *out, GError **error)
{
  out->details = vcm_prompt_query (NULL, &out->message);
  return TRUE;
}

/* A query without a path. */
static gboolean
prepare_query (Prepared *out)
{
  out->details = vcm_prompt_query (NULL, &out->message);
  return TRUE;
}

/* A path query: the path normalized and looked at as the caller (@stat:
 * whether it must be, and whether it may be missing). */
static gboolean
prepare_path_query (GVariant *params,
                    const char *arg_name,
                    const VcmCredentials *creds,
                    gboolean stat,
                    gboolean missing_ok,
                    Prepared *out,
                    GError **error)
{
  const char *path;

  g_variant_get_child (params, 0, "&s", &path);
  if (stat)
    {
      if (!vcm_query_stat_path (arg_name, path, creds, missing_ok, &out->path, &out->stat, error))
        return FALSE;
    }
  else
    out->path = vcm_path_normalize (path);
  out->details = vcm_prompt_query (out->path, &out->message);
  return TRUE;
}

static gboolean
prepare_list_rootfs (
  VcmMounter *mounter, GVariant *params, const VcmCredentials *creds, Prepared *out, GError **error)
{
  return prepare_query (out);
}

static gboolean
prepare_is_device_mapper (
  VcmMounter *mounter, GVariant *params, const VcmCredentials *creds, Prepared *out, GError **error)
{
  return prepare_query (out);
}

static gboolean
prepare_get_device_for_path (
  VcmMounter *mounter, GVariant *params, const VcmCredentials *creds, Prepared *out, GError **error)
{
  return prepare_path_query (params, "path", creds, TRUE, FALSE, out, error);
}

static gboolean
prepare_get_device_path_and_fs_type (
  VcmMounter *mounter, GVariant *params, const VcmCredentials *creds, Prepared *out, GError **error)
{
  return prepare_path_query (params, "mount_point", creds, TRUE, FALSE, out, error);
}

static gboolean
prepare_is_system_mount (
  VcmMounter *mounter, GVariant *params, const VcmCredentials *creds, Prepared *out, GError **error)
{
  return prepare_path_query (params, "path", creds, FALSE, FALSE, out, error);
}

static gboolean
prepare_is_host_device (
  VcmMounter *mounter, GVariant *params, const VcmCredentials *creds, Prepared *out, GError **error)
{
  const char *path;
  g_autofree char *normalized = NULL;

  g_variant_get_child (params, 0, "&s", &path);
  normalized = vcm_path_normalize (path);
  /* only a path beneath /dev is looked at; missing is "no", not an error */
  return prepare_path_query (params, "path", creds, vcm_query_host_device_needs_stat (normalized), TRUE,
                             out, error);
}

static gboolean
prepare_describe_path (
  VcmMounter *mounter, GVariant *params, const VcmCredentials *creds, Prepared *out, GError **error)
{
  return prepare_path_query (params, "path", creds, TRUE, FALSE, out, error);
}

/* ---- the table ----------------------------------------------------------------- */

/* A method without arguments: the bus checked that it has none. (Unused
 * while the XML has no such method.) */
G_GNUC_UNUSED static gboolean
validate_no_args (GVariant *params, GError **error)
{
  return TRUE;
}

/* ... and what polkit is shown is a query's, without a path. */
G_GNUC_UNUSED static gboolean
prepare_no_args (
  VcmMounter *mounter, GVariant *params, const VcmCredentials *creds, Prepared *out, GError **error)
{
  return prepare_query (out);
}

#define ENGINE_ENTRY(Name, name) \
  { .method = Name, .validate = validate_##name, .prepare = prepare_##name, .run = engine_run_##name },
#define ENGINE_ENTRY_PLAIN(Name, name) \
  { .method = Name, .validate = validate_no_args, .prepare = prepare_no_args, .run = engine_run_##name },

/* How each method's request is checked, resolved and run. Which polkit
 * action guards it comes from the XML, the one list of methods: a method
 * that is not here, or has no action there, is refused. */
static MethodEntry method_table[] = { ENGINE_METHODS (ENGINE_ENTRY, ENGINE_ENTRY_PLAIN) };

/* Fills each entry's action and path flag from the interface's XML, once. */
static void
read_method_annotations (void)
{
  static gsize done = 0;

  if (!g_once_init_enter (&done))
    return;
  for (gsize i = 0; i < G_N_ELEMENTS (method_table); i++)
    {
      GDBusMethodInfo *info =
        g_dbus_interface_info_lookup_method (vcm_dbus_mount_interface_info (), method_table[i].method);
      const char *resolves;

      if (info == NULL)
        continue;
      method_table[i].action = g_dbus_annotation_info_lookup (info->annotations, "org.vc.Mount.Action");
      /* the default prepare shows polkit a query: refused for any other action */
      if (method_table[i].prepare == prepare_no_args &&
          g_strcmp0 (method_table[i].action, "org.vc.mount.query") != 0)
        {
          g_warning ("%s takes no arguments and is not a query: refused", method_table[i].method);
          method_table[i].action = NULL;
        }
      resolves = g_dbus_annotation_info_lookup (info->annotations, "org.vc.Mount.ResolvesCallerPath");
      method_table[i].resolves = g_strcmp0 (resolves, "true") == 0;
    }
  g_once_init_leave (&done, 1);
}

const MethodEntry *
vcm_engine_lookup_method (const char *method)
{
  read_method_annotations ();
  for (gsize i = 0; i < G_N_ELEMENTS (method_table); i++)
    if (g_str_equal (method_table[i].method, method))
      return method_table[i].action != NULL ? &method_table[i] : NULL;
  return NULL;
}

const char *
vcm_engine_action_for_method (const char *method)
{
  const MethodEntry *entry = vcm_engine_lookup_method (method);

  return entry != NULL ? entry->action : NULL;
}
