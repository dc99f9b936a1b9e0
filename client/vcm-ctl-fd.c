/* vcm-ctl-fd: vcmountctl's fd-based commands, for callers in their own mount
 * and user namespaces: mount-rootfs-fd, bind-fd and open-mount open the path
 * themselves (in the caller's namespace) and pass the descriptor with the
 * options (--option, --idmap, --userns); open-mount attaches the detached
 * mount it gets back or hands it to a command; mounts lists what the service
 * mounted, with each mount's identity. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mount.h>
#include <unistd.h>

#include "vcm-ctl.h"
#include "vcm-ctl-output.h"

char *vcm_ctl_opt_idmap = NULL;
char *vcm_ctl_opt_userns = NULL;
char **vcm_ctl_opt_options = NULL;
char *vcm_ctl_opt_attach = NULL;
int vcm_ctl_opt_fd_out = -1;
char *vcm_ctl_opt_kind = NULL;

/* The options of the command line, in the library's form (the user
 * namespace opened only when @open_userns); NULL after reporting. */
static VcmMountOptions *
options_from_command_line (const char *command, gboolean open_userns, VcmCtlExit *exit_out)
{
  g_autoptr (VcmMountOptions) options = vcm_mount_options_new ();
  g_autoptr (GError) error = NULL;

  if (vcm_ctl_opt_read_only)
    vcm_mount_options_set_read_only (options, TRUE);
  for (guint i = 0; vcm_ctl_opt_options != NULL && vcm_ctl_opt_options[i] != NULL; i++)
    {
      g_autoptr (GVariant) value = NULL;
      const char *key = NULL;

      if (!vcm_ctl_parse_mount_option (vcm_ctl_opt_options[i], &key, &value, &error))
        {
          *exit_out = vcm_ctl_usage_error (command, "%s", error->message);
          return NULL;
        }
      g_variant_ref_sink (value);
      if (g_str_equal (key, "read-only"))
        vcm_mount_options_set_read_only (options, g_variant_get_boolean (value));
      else if (g_str_equal (key, "recursive"))
        vcm_mount_options_set_recursive (options, g_variant_get_boolean (value));
      else if (g_str_equal (key, "nosuid"))
        vcm_mount_options_set_nosuid (options, g_variant_get_boolean (value));
      else if (g_str_equal (key, "nodev"))
        vcm_mount_options_set_nodev (options, g_variant_get_boolean (value));
      else if (g_str_equal (key, "noexec"))
        vcm_mount_options_set_noexec (options, g_variant_get_boolean (value));
      else
        vcm_mount_options_set_propagation (options, g_variant_get_string (value, NULL));
    }
  if (vcm_ctl_opt_idmap != NULL && vcm_ctl_opt_userns != NULL)
    {
      *exit_out = vcm_ctl_usage_error (command, "--idmap and --userns exclude each other");
      return NULL;
    }
  if (vcm_ctl_opt_idmap != NULL && !vcm_mount_options_set_idmap (options, vcm_ctl_opt_idmap, &error))
    {
      *exit_out = vcm_ctl_usage_error (command, "%s", error->message);
      return NULL;
    }
  if (vcm_ctl_opt_userns != NULL && open_userns)
    {
      int fd = open (vcm_ctl_opt_userns, O_RDONLY | O_CLOEXEC | O_NOCTTY);
      gboolean ok;

      if (fd < 0)
        {
          int errsv = errno;

          g_printerr ("vcmountctl: cannot open %s: %s\n", vcm_ctl_opt_userns, g_strerror (errsv));
          *exit_out = errsv == ENOENT ? VCM_CTL_EXIT_NOT_FOUND : VCM_CTL_EXIT_FAILED;
          return NULL;
        }
      ok = vcm_mount_options_set_userns_fd (options, fd, &error);
      close (fd);
      if (!ok)
        {
          g_printerr ("vcmountctl: %s\n", error->message);
          *exit_out = VCM_CTL_EXIT_FAILED;
          return NULL;
        }
    }
  return g_steal_pointer (&options);
}

/* Opens @path here, in the caller's own namespaces, as the service wants it:
 * a real open (not O_PATH), of a directory when @directory. -1 after
 * reporting. */
static int
open_source (const char *path, gboolean directory, VcmCtlExit *exit_out)
{
  int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | (directory ? O_DIRECTORY : O_NONBLOCK);
  int fd = open (path, flags);

  if (fd < 0)
    {
      int errsv = errno;

      g_printerr ("vcmountctl: cannot open %s: %s\n", path, g_strerror (errsv));
      *exit_out = errsv == ENOENT ? VCM_CTL_EXIT_NOT_FOUND : VCM_CTL_EXIT_FAILED;
    }
  return fd;
}

/* "ro,nosuid,nodev,idmapped,propagation=private": the options in force. */
static char *
options_summary (GVariant *options)
{
  static const char *const flags[][2] = {
    { "read-only", "ro" }, { "recursive", "rec" }, { "nosuid", "nosuid" },
    { "nodev", "nodev" },  { "noexec", "noexec" }, { "idmapped", "idmapped" },
  };
  g_autoptr (GPtrArray) parts = g_ptr_array_new_with_free_func (g_free);
  const char *propagation = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (flags); i++)
    {
      gboolean on = FALSE;

      if (g_variant_lookup (options, flags[i][0], "b", &on) && on)
        g_ptr_array_add (parts, g_strdup (flags[i][1]));
    }
  if (g_variant_lookup (options, "propagation", "&s", &propagation))
    g_ptr_array_add (parts, g_strdup (propagation));
  g_ptr_array_add (parts, NULL);
  return parts->len > 1 ? g_strjoinv (",", (char **) parts->pdata) : g_strdup ("-");
}

/* One mount made: its mount point (people) or its whole info (JSON). */
static void
print_mount_info (VcmCtl *ctl, VcmMountInfo *info)
{
  vcm_ctl_print_answer (ctl->json, vcm_mount_info_get_variant (info), "%s\n",
                        vcm_mount_info_get_mount_point (info));
}

/* What the fd-based commands do before their call: the command line's
 * options and the source opened here. -1 after reporting. */
static int
open_source_with_options (const char *command,
                          const char *path,
                          gboolean directory,
                          VcmMountOptions **options_out,
                          VcmCtlExit *exit_out)
{
  *options_out = options_from_command_line (command, TRUE, exit_out);
  if (*options_out == NULL)
    return -1;
  return open_source (path, directory, exit_out);
}

/* mount-rootfs-fd SANDBOX CONTAINER ROOTFS and bind-fd SOURCE DEST: the
 * same steps, one call apart. */
static VcmCtlExit
mount_by_fd (VcmCtl *ctl, char **args, gboolean rootfs)
{
  g_autoptr (VcmMountOptions) options = NULL;
  g_autoptr (VcmMountInfo) info = NULL;
  VcmCtlExit code = VCM_CTL_EXIT_OK;
  VcmCtlAuth auth;
  VcmCallFlags flags;
  int fd = open_source_with_options (rootfs ? "mount-rootfs-fd" : "bind-fd", rootfs ? args[2] : args[0],
                                     rootfs, &options, &code);

  if (fd < 0)
    return code;
  flags = vcm_ctl_auth_begin (ctl, &auth);
  if (rootfs)
    info = vcm_client_mount_rootfs_fd_sync (ctl->client, args[0], args[1], fd, options, flags, NULL,
                                            &auth.error);
  else
    info = vcm_client_bind_mount_fd_sync (ctl->client, fd, args[1], options, flags, NULL, &auth.error);
  close (fd);
  if (!vcm_ctl_auth_end (&auth,
                         rootfs ? "cannot mount the rootfs of %s/%s" : "cannot bind-mount %s at %s",
                         args[0], args[1]))
    return auth.code;
  print_mount_info (ctl, info);
  return VCM_CTL_EXIT_OK;
}

static VcmCtlExit
vcm_ctl_cmd_mount_rootfs_fd (VcmCtl *ctl, char **args)
{
  return mount_by_fd (ctl, args, TRUE);
}

static VcmCtlExit
vcm_ctl_cmd_bind_fd (VcmCtl *ctl, char **args)
{
  return mount_by_fd (ctl, args, FALSE);
}

/* The options' syntax, before the bus is touched. */
static VcmCtlExit
check_options (const char *command)
{
  VcmCtlExit code = VCM_CTL_EXIT_OK;
  VcmMountOptions *options = options_from_command_line (command, FALSE, &code);

  g_clear_object (&options);
  return code;
}

static VcmCtlExit
vcm_ctl_check_mount_rootfs_fd (char **args)
{
  return check_options ("mount-rootfs-fd");
}

static VcmCtlExit
vcm_ctl_check_bind_fd (char **args)
{
  return check_options ("bind-fd");
}

static VcmCtlExit
vcm_ctl_check_open_mount (char **args)
{
  gboolean has_command = args[0] != NULL && args[1] != NULL;
  VcmCtlExit code = check_options ("open-mount");

  if (code != VCM_CTL_EXIT_OK)
    return code;
  if ((vcm_ctl_opt_attach != NULL) == (vcm_ctl_opt_fd_out >= 0))
    return vcm_ctl_usage_error ("open-mount",
                                "give either --attach TARGET or --fd-out N with a command");
  if (vcm_ctl_opt_attach != NULL && has_command)
    return vcm_ctl_usage_error ("open-mount", "a command goes with --fd-out, not with --attach");
  if (vcm_ctl_opt_fd_out >= 0 && (!has_command || vcm_ctl_opt_fd_out <= 2))
    return vcm_ctl_usage_error ("open-mount", "--fd-out N needs N > 2 and a command to run");
  return VCM_CTL_EXIT_OK;
}

/* Attaches @mount_fd at @target in this process's mount namespace. */
static VcmCtlExit
attach (int mount_fd, const char *target)
{
  if (move_mount (mount_fd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
    {
      int errsv = errno;

      g_printerr ("vcmountctl: cannot attach the mount at %s: %s\n", target, g_strerror (errsv));
      return errsv == ENOENT ? VCM_CTL_EXIT_NOT_FOUND : VCM_CTL_EXIT_FAILED;
    }
  return VCM_CTL_EXIT_OK;
}

/* Runs @argv with @mount_fd as descriptor number @fd_out; returns only on failure. */
static VcmCtlExit
exec_with_fd (int mount_fd, int fd_out, char **argv)
{
  if (mount_fd == fd_out ? fcntl (fd_out, F_SETFD, 0) < 0 : dup2 (mount_fd, fd_out) < 0)
    {
      g_printerr ("vcmountctl: cannot make descriptor %d: %s\n", fd_out, g_strerror (errno));
      return VCM_CTL_EXIT_FAILED;
    }
  fflush (stdout);
  execvp (argv[0], argv);
  g_printerr ("vcmountctl: cannot run %s: %s\n", argv[0], g_strerror (errno));
  return errno == ENOENT ? VCM_CTL_EXIT_NOT_FOUND : VCM_CTL_EXIT_FAILED;
}

static VcmCtlExit
vcm_ctl_cmd_open_mount (VcmCtl *ctl, char **args)
{
  g_autoptr (VcmMountOptions) options = NULL;
  g_autoptr (VcmMountInfo) info = NULL;
  VcmCtlExit code = VCM_CTL_EXIT_OK;
  VcmCtlAuth auth;
  VcmCallFlags flags;
  int mount_fd;
  int fd = open_source_with_options ("open-mount", args[0], FALSE, &options, &code);

  if (fd < 0)
    return code;
  flags = vcm_ctl_auth_begin (ctl, &auth);
  mount_fd = vcm_client_open_mount_sync (ctl->client, fd, options, flags, NULL, &info, &auth.error);
  close (fd);
  if (!vcm_ctl_auth_end (&auth, "cannot open a mount of %s", args[0]))
    return auth.code;
  if (vcm_ctl_opt_fd_out >= 0)
    return exec_with_fd (mount_fd, vcm_ctl_opt_fd_out, args + 1);
  code = attach (mount_fd, vcm_ctl_opt_attach);
  close (mount_fd);
  if (code != VCM_CTL_EXIT_OK)
    return code;
  vcm_ctl_print_answer (ctl->json, vcm_mount_info_get_variant (info), "%s\n", vcm_ctl_opt_attach);
  return VCM_CTL_EXIT_OK;
}

static VcmCtlExit
vcm_ctl_cmd_mounts (VcmCtl *ctl, char **args)
{
  const char *sandbox_filter = args[0] != NULL && args[0][0] != '\0' ? args[0] : NULL;
  g_autoptr (GPtrArray) mounts = NULL;
  g_autoptr (VcmCtlTable) table = NULL;
  GVariantBuilder items;
  guint64 generation = 0;
  VcmCtlAuth auth;
  VcmCallFlags flags = vcm_ctl_auth_begin (ctl, &auth);

  mounts = vcm_client_list_mounts_sync (ctl->client, sandbox_filter, vcm_ctl_opt_kind, flags, NULL,
                                        &generation, &auth.error);
  if (!vcm_ctl_auth_end (&auth, "cannot list the mounts"))
    return auth.code;

  table = vcm_ctl_table_new ("MOUNT-POINT", "KIND", "MOUNT-ID", "UID", "OPTIONS", "SOURCE", NULL);
  g_variant_builder_init (&items, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < mounts->len; i++)
    {
      VcmMountInfo *m = mounts->pdata[i];
      g_autofree char *id = g_strdup_printf ("%" G_GUINT64_FORMAT "%s", vcm_mount_info_get_mount_id (m),
                                             vcm_mount_info_get_mount_id_unique (m) ? "" : "*");
      g_autofree char *uid = g_strdup_printf ("%u", vcm_mount_info_get_caller_uid (m));
      g_autofree char *opts = options_summary (vcm_mount_info_get_options (m));

      g_variant_builder_add_value (&items, vcm_mount_info_get_variant (m));
      vcm_ctl_table_add_row (table, vcm_mount_info_get_mount_point (m), vcm_mount_info_get_kind (m), id,
                             uid, opts, vcm_mount_info_get_source (m));
    }
  vcm_ctl_print_listing (ctl->json, generation, "mounts", g_variant_builder_end (&items), table);
  return VCM_CTL_EXIT_OK;
}

static const GOptionEntry fd_entries[] = {
  { "read-only", 'r', 0, G_OPTION_ARG_NONE, &vcm_ctl_opt_read_only, "Make the mount read-only", NULL },
  { "option", 'o', 0, G_OPTION_ARG_STRING_ARRAY, &vcm_ctl_opt_options,
    "Set a mount option: read-only, recursive, nosuid, nodev, noexec (=true or false), "
    "propagation (=private, slave, shared or unbindable); repeatable",
    "KEY=VALUE" },
  { "idmap", 0, 0, G_OPTION_ARG_STRING, &vcm_ctl_opt_idmap,
    "ID-map the mount: u:INSIDE:OUTSIDE:COUNT and g:… ranges (b: for both), comma-separated", "MAP" },
  { "userns", 0, 0, G_OPTION_ARG_FILENAME, &vcm_ctl_opt_userns,
    "ID-map the mount with the maps of the user namespace at PATH (/proc/PID/ns/user)", "PATH" },
  G_OPTION_ENTRY_NULL
};

static const GOptionEntry open_mount_entries[] = {
  { "attach", 0, 0, G_OPTION_ARG_FILENAME, &vcm_ctl_opt_attach,
    "Attach the mount at TARGET in vcmountctl's own mount namespace", "TARGET" },
  { "fd-out", 0, 0, G_OPTION_ARG_INT, &vcm_ctl_opt_fd_out,
    "Run COMMAND with the mount's descriptor as descriptor N", "N" },
  G_OPTION_ENTRY_NULL
};

static const GOptionEntry mounts_entries[] = { { "kind", 0, 0, G_OPTION_ARG_STRING, &vcm_ctl_opt_kind,
                                                 "Only mounts of KIND: rootfs or bind", "KIND" },
                                               G_OPTION_ENTRY_NULL };

const VcmCtlCommand vcm_ctl_fd_commands[] = {
  { "mount-rootfs-fd", "SANDBOX CONTAINER ROOTFS",
    "Mount a container's root filesystem opened here (rootless)",
    "Open ROOTFS here, in vcmountctl's own mount and user namespaces, and have the\n"
    "service mount what the descriptor refers to at SHARED_DIR/SANDBOX/CONTAINER/rootfs,\n"
    "with the options given; print the mount point (--json: the mount's identity).",
    3, 3, fd_entries, FALSE, vcm_ctl_cmd_mount_rootfs_fd, vcm_ctl_check_mount_rootfs_fd, NULL },
  { "bind-fd", "SOURCE DEST", "Bind-mount a file or directory opened here (rootless)",
    "Open SOURCE here and have the service bind-mount it at DEST, beneath the shared\n"
    "directory, with the options given; print the mount point.",
    2, 2, fd_entries, FALSE, vcm_ctl_cmd_bind_fd, vcm_ctl_check_bind_fd, NULL },
  { "open-mount", "SOURCE [COMMAND [ARGUMENT…]]", "Get a detached mount of a directory opened here",
    "Open SOURCE here and have the service make a detached, configured mount of it\n"
    "(typically ID-mapped); attach it at TARGET here (--attach), or run COMMAND with\n"
    "it as descriptor N (--fd-out N).",
    1, G_MAXUINT, fd_entries, FALSE, vcm_ctl_cmd_open_mount, vcm_ctl_check_open_mount,
    open_mount_entries },
  { "mounts", "[SANDBOX]", "List the service's mounts with their identity",
    "List every mount the service made (of SANDBOX only, if given): mount point, kind,\n"
    "the kernel's mount ID (* when only the reusable 32-bit one), caller uid, options, source.",
    0, 1, mounts_entries, FALSE, vcm_ctl_cmd_mounts, NULL, NULL },
  { .name = NULL },
};
