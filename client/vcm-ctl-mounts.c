/* vcm-ctl-mounts: vcmountctl's commands that make, remove and list mounts:
 * mount-rootfs, unmount-rootfs, unmount-sandbox, list, bind, unmount. */
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
      g_autoptr(JsonBuilder) b = json_builder_new ();
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
      g_autoptr(JsonBuilder) b = json_builder_new ();
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

VcmCtlExit
vcm_ctl_cmd_mount_rootfs (VcmCtl *ctl, char **args)
{
  g_autoptr(GVariant) reply = NULL;
  const char *mount_point;
  VcmCtlExit code;

  reply = vcm_ctl_call (ctl, "MountRootfs",
                        g_variant_new ("(sssb)", args[0], args[1], args[2], vcm_ctl_opt_read_only),
                        &code, "cannot mount the rootfs of %s/%s", args[0], args[1]);
  if (reply == NULL)
    return code;
  g_variant_get (reply, "(&s)", &mount_point);
  print_string_answer (ctl, "mount-point", mount_point);
  return VCM_CTL_EXIT_OK;
}

VcmCtlExit
vcm_ctl_cmd_unmount_rootfs (VcmCtl *ctl, char **args)
{
  g_autoptr(GVariant) reply = NULL;
  g_autofree const char **detached = NULL;
  VcmCtlExit code;

  reply = vcm_ctl_call (ctl, "UnmountRootfs", g_variant_new ("(ss)", args[0], args[1]),
                        &code, "cannot unmount the rootfs of %s/%s", args[0], args[1]);
  if (reply == NULL)
    return code;
  g_variant_get (reply, "(^a&s)", &detached);
  print_strv_answer (ctl, "detached", detached);
  return VCM_CTL_EXIT_OK;
}

VcmCtlExit
vcm_ctl_cmd_unmount_sandbox (VcmCtl *ctl, char **args)
{
  g_autoptr(GVariant) reply = NULL;
  g_autofree const char **containers = NULL;
  VcmCtlExit code;

  reply = vcm_ctl_call (ctl, "UnmountSandbox", g_variant_new ("(s)", args[0]),
                        &code, "cannot unmount sandbox %s", args[0]);
  if (reply == NULL)
    return code;
  g_variant_get (reply, "(^a&s)", &containers);
  print_strv_answer (ctl, "container-ids", containers);
  return VCM_CTL_EXIT_OK;
}

VcmCtlExit
vcm_ctl_cmd_list (VcmCtl *ctl, char **args)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariantIter) iter = NULL;
  const char *sandbox_filter = args[0] != NULL ? args[0] : "";
  const char *sandbox, *container, *mount_point;
  gboolean read_only;
  guint64 generation;
  VcmCtlExit code;

  if (sandbox_filter[0] != '\0')
    reply = vcm_ctl_call (ctl, "ListRootfs", g_variant_new ("(s)", sandbox_filter),
                          &code, "cannot list the rootfs mounts of sandbox %s", sandbox_filter);
  else
    reply = vcm_ctl_call (ctl, "ListRootfs", g_variant_new ("(s)", ""),
                          &code, "cannot list the rootfs mounts");
  if (reply == NULL)
    return code;
  g_variant_get (reply, "(ta(sssb))", &generation, &iter);

  if (ctl->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "generation");
      json_builder_add_int_value (b, (gint64) generation);
      json_builder_set_member_name (b, "rootfs");
      json_builder_begin_array (b);
      while (g_variant_iter_next (iter, "(&s&s&sb)", &sandbox, &container, &mount_point, &read_only))
        {
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "sandbox-id");
          json_builder_add_string_value (b, sandbox);
          json_builder_set_member_name (b, "container-id");
          json_builder_add_string_value (b, container);
          json_builder_set_member_name (b, "mount-point");
          json_builder_add_string_value (b, mount_point);
          json_builder_set_member_name (b, "read-only");
          json_builder_add_boolean_value (b, read_only);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_end_object (b);
      vcm_ctl_print_json (b);
    }
  else
    {
      g_autoptr(VcmCtlTable) table = vcm_ctl_table_new ("SANDBOX", "CONTAINER", "MOUNT-POINT", "RO", NULL);

      while (g_variant_iter_next (iter, "(&s&s&sb)", &sandbox, &container, &mount_point, &read_only))
        vcm_ctl_table_add_row (table, sandbox, container, mount_point, vcm_ctl_yes_no (read_only));
      vcm_ctl_table_print (table);
    }
  return VCM_CTL_EXIT_OK;
}

VcmCtlExit
vcm_ctl_cmd_bind (VcmCtl *ctl, char **args)
{
  g_autoptr(GVariant) reply = NULL;
  const char *mount_point;
  VcmCtlExit code;

  reply = vcm_ctl_call (ctl, "BindMount",
                        g_variant_new ("(ssb)", args[0], args[1], vcm_ctl_opt_read_only),
                        &code, "cannot bind-mount %s at %s", args[0], args[1]);
  if (reply == NULL)
    return code;
  g_variant_get (reply, "(&s)", &mount_point);
  print_string_answer (ctl, "mount-point", mount_point);
  return VCM_CTL_EXIT_OK;
}

VcmCtlExit
vcm_ctl_cmd_unmount (VcmCtl *ctl, char **args)
{
  g_autoptr(GVariant) reply = NULL;
  g_autofree const char **detached = NULL;
  VcmCtlExit code;

  reply = vcm_ctl_call (ctl, "Unmount", g_variant_new ("(s)", args[0]),
                        &code, "cannot unmount %s", args[0]);
  if (reply == NULL)
    return code;
  g_variant_get (reply, "(^a&s)", &detached);
  print_strv_answer (ctl, "detached", detached);
  return VCM_CTL_EXIT_OK;
}
