/* vcm-ctl-mounts: vcmountctl's commands that make, remove and list mounts:
 * mount-rootfs, unmount-rootfs, unmount-sandbox, list, bind, unmount, each
 * one typed call of libvcmount's client. */
#include <stdio.h>

#include "vcm-ctl.h"
#include "vcm-ctl-output.h"

gboolean vcm_ctl_opt_read_only = FALSE;

/* Prints a single string answer: the bare string, or {"KEY": "..."}. */
static void
print_string_answer (VcmCtl *ctl, const char *key, const char *value)
{
  if (ctl->json)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      json_builder_begin_object (b);
      json_builder_set_member_name (b, key);
      json_builder_add_string_value (b, value);
      json_builder_end_object (b);
      vcm_ctl_print_json (b);
    }
  else
    {
      printf ("%s\n", value);
      fflush (stdout);
    }
}

/* Prints a list of strings: one a line, or {"KEY": ["...", …]}. */
static void
print_strv_answer (VcmCtl *ctl, const char *key, const char *const *values)
{
  if (ctl->json)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      json_builder_begin_object (b);
      json_builder_set_member_name (b, key);
      json_builder_begin_array (b);
      for (gsize i = 0; values[i] != NULL; i++)
        json_builder_add_string_value (b, values[i]);
      json_builder_end_array (b);
      json_builder_end_object (b);
      vcm_ctl_print_json (b);
    }
  else
    {
      for (gsize i = 0; values[i] != NULL; i++)
        printf ("%s\n", values[i]);
      fflush (stdout);
    }
}

static VcmCtlExit
vcm_ctl_cmd_mount_rootfs (VcmCtl *ctl, char **args)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *mount_point = NULL;
  VcmCtlAuth auth;
  VcmCallFlags flags = vcm_ctl_auth_begin (ctl, &auth);

  mount_point = vcm_client_mount_rootfs_sync (ctl->client, args[0], args[1], args[2],
                                              vcm_ctl_opt_read_only, flags, NULL, &error);
  vcm_ctl_auth_end (ctl, &auth);
  if (mount_point == NULL)
    return vcm_ctl_report_call_error (error, "cannot mount the rootfs of %s/%s", args[0], args[1]);
  print_string_answer (ctl, "mount-point", mount_point);
  return VCM_CTL_EXIT_OK;
}

static VcmCtlExit
vcm_ctl_cmd_unmount_rootfs (VcmCtl *ctl, char **args)
{
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) detached = NULL;
  VcmCtlAuth auth;
  VcmCallFlags flags = vcm_ctl_auth_begin (ctl, &auth);

  detached = vcm_client_unmount_rootfs_sync (ctl->client, args[0], args[1], flags, NULL, &error);
  vcm_ctl_auth_end (ctl, &auth);
  if (detached == NULL)
    return vcm_ctl_report_call_error (error, "cannot unmount the rootfs of %s/%s", args[0], args[1]);
  print_strv_answer (ctl, "detached", (const char *const *) detached);
  return VCM_CTL_EXIT_OK;
}

static VcmCtlExit
vcm_ctl_cmd_unmount_sandbox (VcmCtl *ctl, char **args)
{
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) containers = NULL;
  VcmCtlAuth auth;
  VcmCallFlags flags = vcm_ctl_auth_begin (ctl, &auth);

  containers = vcm_client_unmount_sandbox_sync (ctl->client, args[0], flags, NULL, &error);
  vcm_ctl_auth_end (ctl, &auth);
  if (containers == NULL)
    return vcm_ctl_report_call_error (error, "cannot unmount sandbox %s", args[0]);
  print_strv_answer (ctl, "container-ids", (const char *const *) containers);
  return VCM_CTL_EXIT_OK;
}

static VcmCtlExit
vcm_ctl_cmd_list (VcmCtl *ctl, char **args)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) rootfs = NULL;
  const char *sandbox_filter = args[0] != NULL && args[0][0] != '\0' ? args[0] : NULL;
  guint64 generation = 0;
  VcmCtlAuth auth;
  VcmCallFlags flags = vcm_ctl_auth_begin (ctl, &auth);

  rootfs = vcm_client_list_rootfs_sync (ctl->client, sandbox_filter, flags, NULL, &generation, &error);
  vcm_ctl_auth_end (ctl, &auth);
  if (rootfs == NULL && sandbox_filter != NULL)
    return vcm_ctl_report_call_error (error, "cannot list the rootfs mounts of sandbox %s",
                                      sandbox_filter);
  if (rootfs == NULL)
    return vcm_ctl_report_call_error (error, "cannot list the rootfs mounts");

  if (ctl->json)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "generation");
      json_builder_add_int_value (b, (gint64) generation);
      json_builder_set_member_name (b, "rootfs");
      json_builder_begin_array (b);
      for (guint i = 0; i < rootfs->len; i++)
        {
          VcmRootfs *r = rootfs->pdata[i];

          json_builder_begin_object (b);
          json_builder_set_member_name (b, "sandbox-id");
          json_builder_add_string_value (b, vcm_rootfs_get_sandbox_id (r));
          json_builder_set_member_name (b, "container-id");
          json_builder_add_string_value (b, vcm_rootfs_get_container_id (r));
          json_builder_set_member_name (b, "mount-point");
          json_builder_add_string_value (b, vcm_rootfs_get_mount_point (r));
          json_builder_set_member_name (b, "read-only");
          json_builder_add_boolean_value (b, vcm_rootfs_get_read_only (r));
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_end_object (b);
      vcm_ctl_print_json (b);
    }
  else
    {
      g_autoptr (VcmCtlTable) table =
        vcm_ctl_table_new ("SANDBOX", "CONTAINER", "MOUNT-POINT", "RO", NULL);

      for (guint i = 0; i < rootfs->len; i++)
        {
          VcmRootfs *r = rootfs->pdata[i];

          vcm_ctl_table_add_row (table, vcm_rootfs_get_sandbox_id (r), vcm_rootfs_get_container_id (r),
                                 vcm_rootfs_get_mount_point (r),
                                 vcm_ctl_yes_no (vcm_rootfs_get_read_only (r)));
        }
      vcm_ctl_table_print (table);
    }
  return VCM_CTL_EXIT_OK;
}

static VcmCtlExit
vcm_ctl_cmd_bind (VcmCtl *ctl, char **args)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *mount_point = NULL;
  VcmCtlAuth auth;
  VcmCallFlags flags = vcm_ctl_auth_begin (ctl, &auth);

  mount_point = vcm_client_bind_mount_sync (ctl->client, args[0], args[1], vcm_ctl_opt_read_only, flags,
                                            NULL, &error);
  vcm_ctl_auth_end (ctl, &auth);
  if (mount_point == NULL)
    return vcm_ctl_report_call_error (error, "cannot bind-mount %s at %s", args[0], args[1]);
  print_string_answer (ctl, "mount-point", mount_point);
  return VCM_CTL_EXIT_OK;
}

static VcmCtlExit
vcm_ctl_cmd_unmount (VcmCtl *ctl, char **args)
{
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) detached = NULL;
  VcmCtlAuth auth;
  VcmCallFlags flags = vcm_ctl_auth_begin (ctl, &auth);

  detached = vcm_client_unmount_sync (ctl->client, args[0], flags, NULL, &error);
  vcm_ctl_auth_end (ctl, &auth);
  if (detached == NULL)
    return vcm_ctl_report_call_error (error, "cannot unmount %s", args[0]);
  print_strv_answer (ctl, "detached", (const char *const *) detached);
  return VCM_CTL_EXIT_OK;
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
