/* vcm-ctl-mounts: vcmountctl's commands that make, remove and list mounts:
 * mount-rootfs, unmount-rootfs, unmount-sandbox, list, bind, unmount, each
 * one typed call of libvcmount's client. */
#include <stdio.h>

#include "vcm-ctl.h"
#include "vcm-ctl-output.h"

gboolean vcm_ctl_opt_read_only = FALSE;

/* Prints a single string answer: the bare string, or {"KEY": "..."}. */
static VcmCtlExit
print_string_answer (VcmCtl *ctl, const char *key, const char *value)
{
  vcm_ctl_print_answer (ctl->json, g_variant_new_parsed ("{%s: <%s>}", key, value), "%s\n", value);
  return VCM_CTL_EXIT_OK;
}

/* Prints a list of strings: one a line, or {"KEY": ["...", …]}. */
static VcmCtlExit
print_strv_answer (VcmCtl *ctl, const char *key, char **values)
{
  g_autofree char *lines = g_strjoinv ("\n", values);

  vcm_ctl_print_answer (ctl->json, g_variant_new_parsed ("{%s: <%^as>}", key, values), "%s%s", lines,
                        values[0] != NULL ? "\n" : "");
  return VCM_CTL_EXIT_OK;
}

static VcmCtlExit
vcm_ctl_cmd_mount_rootfs (VcmCtl *ctl, char **args)
{
  VcmCtlAuth auth;
  VcmCallFlags flags = vcm_ctl_auth_begin (ctl, &auth);
  g_autofree char *mount_point = vcm_client_mount_rootfs_sync (
    ctl->client, args[0], args[1], args[2], vcm_ctl_opt_read_only, flags, NULL, &auth.error);

  if (!vcm_ctl_auth_end (&auth, "cannot mount the rootfs of %s/%s", args[0], args[1]))
    return auth.code;
  return print_string_answer (ctl, "mount-point", mount_point);
}

static VcmCtlExit
vcm_ctl_cmd_unmount_rootfs (VcmCtl *ctl, char **args)
{
  VcmCtlAuth auth;
  VcmCallFlags flags = vcm_ctl_auth_begin (ctl, &auth);
  g_auto (GStrv) detached =
    vcm_client_unmount_rootfs_sync (ctl->client, args[0], args[1], flags, NULL, &auth.error);

  if (!vcm_ctl_auth_end (&auth, "cannot unmount the rootfs of %s/%s", args[0], args[1]))
    return auth.code;
  return print_strv_answer (ctl, "detached", detached);
}

static VcmCtlExit
vcm_ctl_cmd_unmount_sandbox (VcmCtl *ctl, char **args)
{
  VcmCtlAuth auth;
  VcmCallFlags flags = vcm_ctl_auth_begin (ctl, &auth);
  g_auto (GStrv) containers =
    vcm_client_unmount_sandbox_sync (ctl->client, args[0], flags, NULL, &auth.error);

  if (!vcm_ctl_auth_end (&auth, "cannot unmount sandbox %s", args[0]))
    return auth.code;
  return print_strv_answer (ctl, "container-ids", containers);
}

static VcmCtlExit
vcm_ctl_cmd_list (VcmCtl *ctl, char **args)
{
  const char *sandbox_filter = args[0] != NULL && args[0][0] != '\0' ? args[0] : NULL;
  g_autoptr (GPtrArray) rootfs = NULL;
  g_autoptr (VcmCtlTable) table = NULL;
  GVariantBuilder items;
  guint64 generation = 0;
  VcmCtlAuth auth;
  VcmCallFlags flags = vcm_ctl_auth_begin (ctl, &auth);

  rootfs =
    vcm_client_list_rootfs_sync (ctl->client, sandbox_filter, flags, NULL, &generation, &auth.error);
  if (!vcm_ctl_auth_end (&auth, "cannot list the rootfs mounts%s%s",
                         sandbox_filter != NULL ? " of sandbox " : "",
                         sandbox_filter != NULL ? sandbox_filter : ""))
    return auth.code;

  table = vcm_ctl_table_new ("SANDBOX", "CONTAINER", "MOUNT-POINT", "RO", NULL);
  g_variant_builder_init (&items, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < rootfs->len; i++)
    {
      VcmRootfs *r = rootfs->pdata[i];
      const char *sandbox_id = vcm_rootfs_get_sandbox_id (r);
      const char *container_id = vcm_rootfs_get_container_id (r);
      const char *mount_point = vcm_rootfs_get_mount_point (r);
      gboolean read_only = vcm_rootfs_get_read_only (r);

      g_variant_builder_add_parsed (
        &items, "{'sandbox-id': <%s>, 'container-id': <%s>, 'mount-point': <%s>, 'read-only': <%b>}",
        sandbox_id, container_id, mount_point, read_only);
      vcm_ctl_table_add_row (table, sandbox_id, container_id, mount_point, vcm_ctl_yes_no (read_only));
    }
  vcm_ctl_print_listing (ctl->json, generation, "rootfs", g_variant_builder_end (&items), table);
  return VCM_CTL_EXIT_OK;
}

static VcmCtlExit
vcm_ctl_cmd_bind (VcmCtl *ctl, char **args)
{
  VcmCtlAuth auth;
  VcmCallFlags flags = vcm_ctl_auth_begin (ctl, &auth);
  g_autofree char *mount_point = vcm_client_bind_mount_sync (
    ctl->client, args[0], args[1], vcm_ctl_opt_read_only, flags, NULL, &auth.error);

  if (!vcm_ctl_auth_end (&auth, "cannot bind-mount %s at %s", args[0], args[1]))
    return auth.code;
  return print_string_answer (ctl, "mount-point", mount_point);
}

static VcmCtlExit
vcm_ctl_cmd_unmount (VcmCtl *ctl, char **args)
{
  VcmCtlAuth auth;
  VcmCallFlags flags = vcm_ctl_auth_begin (ctl, &auth);
  g_auto (GStrv) detached = vcm_client_unmount_sync (ctl->client, args[0], flags, NULL, &auth.error);

  if (!vcm_ctl_auth_end (&auth, "cannot unmount %s", args[0]))
    return auth.code;
  return print_strv_answer (ctl, "detached", detached);
}

/* mount-rootfs's and bind's --read-only. */
const GOptionEntry vcm_ctl_read_only_entries[] = {
  { "read-only", 'r', 0, G_OPTION_ARG_NONE, &vcm_ctl_opt_read_only,
    "Make the mount read-only (never writable, not even for a moment)", NULL },
  G_OPTION_ENTRY_NULL
};

const VcmCtlCommand vcm_ctl_mounts_commands[] = {
  { "mount-rootfs", "SANDBOX CONTAINER ROOTFS", "Mount a container's root filesystem",
    "Bind-mount ROOTFS as the root filesystem of container CONTAINER of sandbox SANDBOX,\n"
    "at SHARED_DIR/SANDBOX/CONTAINER/rootfs, and print that mount point.",
    3, 3, vcm_ctl_read_only_entries, FALSE, vcm_ctl_cmd_mount_rootfs, NULL, NULL },
  { "unmount-rootfs", "SANDBOX CONTAINER", "Unmount a container's root filesystem",
    "Lazily unmount the container's rootfs and everything mounted below it;\n"
    "print the mount points detached, the rootfs first.",
    2, 2, NULL, FALSE, vcm_ctl_cmd_unmount_rootfs, NULL, NULL },
  { "unmount-sandbox", "SANDBOX", "Unmount the root filesystems of a sandbox",
    "Unmount the rootfs of every container of SANDBOX; print the container IDs.", 1, 1, NULL, FALSE,
    vcm_ctl_cmd_unmount_sandbox, NULL, NULL },
  { "list", "[SANDBOX]", "List the mounted root filesystems",
    "List the rootfs mounts (of SANDBOX only, if given), as the kernel's mount table has them.", 0, 1,
    NULL, FALSE, vcm_ctl_cmd_list, NULL, NULL },
  { "bind", "SOURCE DEST", "Bind-mount a file or directory beneath the shared directory",
    "Bind-mount SOURCE at DEST, which must lie beneath the service's shared directory;\n"
    "print the mount point.",
    2, 2, vcm_ctl_read_only_entries, FALSE, vcm_ctl_cmd_bind, NULL, NULL },
  { "unmount", "MOUNTPOINT", "Unmount a mount beneath the shared directory",
    "Lazily unmount a mount beneath the shared directory; print the mount points detached.", 1, 1, NULL,
    FALSE, vcm_ctl_cmd_unmount, NULL, NULL },
  { .name = NULL },
};
