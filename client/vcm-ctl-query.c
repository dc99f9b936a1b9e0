/* vcm-ctl-query: vcmountctl's read-only commands: device, fs, is-devicemapper,
 * is-system-mount, is-host-device (typed calls of libvcmount's client),
 * describe and status (generic calls: they show keys and properties this
 * client does not know yet, and status insists on every property). */
#include <stdio.h>

#include "vcm-ctl.h"
#include "vcm-ctl-output.h"

static VcmCtlExit
vcm_ctl_cmd_device (VcmCtl *ctl, char **args)
{
  VcmCtlAuth auth;
  VcmCallFlags flags = vcm_ctl_auth_begin (ctl, &auth);
  g_autoptr (VcmDeviceInfo) info =
    vcm_client_get_device_for_path_sync (ctl->client, args[0], flags, NULL, &auth.error);
  guint major, minor;
  const char *mount_point;

  if (!vcm_ctl_auth_end (&auth, "cannot find the device of %s", args[0]))
    return auth.code;
  major = vcm_device_info_get_major (info);
  minor = vcm_device_info_get_minor (info);
  mount_point = vcm_device_info_get_mount_point (info);
  vcm_ctl_print_answer (ctl->json,
                        g_variant_new_parsed ("{'path': <%s>, 'major': <%u>, 'minor': <%u>, "
                                              "'mount-point': <%s>}",
                                              args[0], major, minor, mount_point),
                        "%u:%u %s\n", major, minor, mount_point);
  return VCM_CTL_EXIT_OK;
}

static VcmCtlExit
vcm_ctl_cmd_fs (VcmCtl *ctl, char **args)
{
  VcmCtlAuth auth;
  VcmCallFlags flags = vcm_ctl_auth_begin (ctl, &auth);
  g_autoptr (VcmFsInfo) info =
    vcm_client_get_device_path_and_fs_type_sync (ctl->client, args[0], flags, NULL, &auth.error);
  const char *device, *fs_type;

  if (!vcm_ctl_auth_end (&auth, "cannot find the filesystem mounted at %s", args[0]))
    return auth.code;
  device = vcm_fs_info_get_device (info);
  fs_type = vcm_fs_info_get_fs_type (info);
  vcm_ctl_print_answer (ctl->json,
                        g_variant_new_parsed ("{'mount-point': <%s>, 'device': <%s>, 'fs-type': <%s>}",
                                              args[0], device, fs_type),
                        "%s %s\n", device, fs_type);
  return VCM_CTL_EXIT_OK;
}

/* Prints a yes/no answer, or {"SUBJECT_KEY": SUBJECT, "KEY": bool}. */
static VcmCtlExit
print_bool_answer (
  VcmCtl *ctl, const char *subject_key, const char *subject, const char *key, gboolean value)
{
  vcm_ctl_print_answer (ctl->json,
                        g_variant_new_parsed ("{%s: <%s>, %s: <%b>}", subject_key, subject, key, value),
                        "%s\n", vcm_ctl_yes_no (value));
  return VCM_CTL_EXIT_OK;
}

static VcmCtlExit
vcm_ctl_check_is_device_mapper (char **args)
{
  g_autoptr (GError) error = NULL;
  guint32 major, minor;

  if (!vcm_ctl_parse_devnum (args[0], &major, &minor, &error))
    return vcm_ctl_usage_error ("is-devicemapper", "%s", error->message);
  return VCM_CTL_EXIT_OK;
}

static VcmCtlExit
vcm_ctl_cmd_is_device_mapper (VcmCtl *ctl, char **args)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *canonical = NULL;
  guint32 major, minor;
  gboolean answer = FALSE;
  VcmCtlAuth auth;
  VcmCallFlags flags;

  if (!vcm_ctl_parse_devnum (args[0], &major, &minor, &error))
    return vcm_ctl_usage_error ("is-devicemapper", "%s", error->message);

  canonical = g_strdup_printf ("%u:%u", major, minor);
  flags = vcm_ctl_auth_begin (ctl, &auth);
  vcm_client_is_device_mapper_sync (ctl->client, major, minor, flags, NULL, &answer, &auth.error);
  if (!vcm_ctl_auth_end (&auth, "cannot tell whether %s is a device-mapper device", canonical))
    return auth.code;
  return print_bool_answer (ctl, "device", canonical, "device-mapper", answer);
}

/* is-system-mount and is-host-device: a yes/no question about a path. */
static VcmCtlExit
ask_about_path (
  VcmCtl *ctl,
  const char *path,
  gboolean (*ask) (VcmClient *, const char *, VcmCallFlags, GCancellable *, gboolean *, GError **),
  const char *what,
  const char *key)
{
  gboolean answer = FALSE;
  VcmCtlAuth auth;
  VcmCallFlags flags = vcm_ctl_auth_begin (ctl, &auth);

  ask (ctl->client, path, flags, NULL, &answer, &auth.error);
  if (!vcm_ctl_auth_end (&auth, "cannot tell whether %s is %s", path, what))
    return auth.code;
  return print_bool_answer (ctl, "path", path, key, answer);
}

static VcmCtlExit
vcm_ctl_cmd_is_system_mount (VcmCtl *ctl, char **args)
{
  return ask_about_path (ctl, args[0], vcm_client_is_system_mount_sync, "a system mount",
                         "system-mount");
}

static VcmCtlExit
vcm_ctl_cmd_is_host_device (VcmCtl *ctl, char **args)
{
  return ask_about_path (ctl, args[0], vcm_client_is_host_device_sync, "a host device", "host-device");
}

/* A value of the description in words: booleans as yes/no, strings bare. */
static char *
describe_value_text (GVariant *value)
{
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN))
    return g_strdup (vcm_ctl_yes_no (g_variant_get_boolean (value)));
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
    return g_variant_dup_string (value, NULL);
  return g_variant_print (value, FALSE);
}

static VcmCtlExit
vcm_ctl_cmd_describe (VcmCtl *ctl, char **args)
{
  /* The contract's keys in its order, with their labels for people. */
  static const struct {
    const char *key;
    const char *label;
  } known[] = {
    { "major", "Major" },
    { "minor", "Minor" },
    { "mount-point", "Mount point" },
    { "device", "Device" },
    { "fs-type", "Filesystem type" },
    { "mount-id", "Mount ID" },
    { "read-only", "Read-only" },
    { "device-mapper", "Device mapper" },
    { "system-mount", "System mount" },
    { "host-device", "Host device" },
    { "propagation", "Propagation" },
  };
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GVariant) description = NULL;
  VcmCtlExit code;

  reply = vcm_ctl_call (ctl, "DescribePath", g_variant_new ("(s)", args[0]), &code, "cannot describe %s",
                        args[0]);
  if (reply == NULL)
    return code;
  g_variant_get (reply, "(@a{sv})", &description);

  if (ctl->json)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      GVariantIter iter;
      const char *key;
      GVariant *value;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "path");
      json_builder_add_string_value (b, args[0]);
      g_variant_iter_init (&iter, description);
      while (g_variant_iter_loop (&iter, "{&sv}", &key, &value))
        {
          if (g_str_equal (key, "path"))
            continue;
          json_builder_set_member_name (b, key);
          /* json-glib's mapping, variants unboxed: booleans, integers
           * (a uint64 above G_MAXINT64 would wrap; mount IDs never get
           * there), strings, arrays, objects; client/test-ctl-json.c
           * holds it to the shape --json documents. */
          json_builder_add_value (b, json_gvariant_serialize (value));
        }
      json_builder_end_object (b);
      vcm_ctl_print_json (b);
    }
  else
    {
      g_autoptr (GPtrArray) pairs = g_ptr_array_new_with_free_func (g_free);
      GVariantIter iter;
      const char *key;
      GVariant *value;

      g_ptr_array_add (pairs, g_strdup ("Path"));
      g_ptr_array_add (pairs, g_strdup (args[0]));
      for (gsize i = 0; i < G_N_ELEMENTS (known); i++)
        {
          g_autoptr (GVariant) v = g_variant_lookup_value (description, known[i].key, NULL);
          if (v == NULL)
            continue;
          g_ptr_array_add (pairs, g_strdup (known[i].label));
          g_ptr_array_add (pairs, describe_value_text (v));
        }
      /* Keys this client does not know yet, by their own names. */
      g_variant_iter_init (&iter, description);
      while (g_variant_iter_loop (&iter, "{&sv}", &key, &value))
        {
          gboolean is_known = FALSE;
          for (gsize i = 0; i < G_N_ELEMENTS (known) && !is_known; i++)
            is_known = g_str_equal (key, known[i].key);
          if (is_known)
            continue;
          g_ptr_array_add (pairs, g_strdup (key));
          g_ptr_array_add (pairs, describe_value_text (value));
        }
      g_ptr_array_add (pairs, NULL);
      vcm_ctl_print_fields ((const char *const *) pairs->pdata);
    }
  return VCM_CTL_EXIT_OK;
}

static VcmCtlExit
vcm_ctl_cmd_status (VcmCtl *ctl, char **args)
{
  g_autoptr (GVariant) props = NULL;
  const char *version = "", *shared_dir = "";
  guint64 shm_size = 0, generation = 0;
  VcmCtlExit code;

  props = vcm_ctl_get_all_properties (ctl, &code);
  if (props == NULL)
    return code;
  if (!g_variant_lookup (props, "Version", "&s", &version) ||
      !g_variant_lookup (props, "SharedDir", "&s", &shared_dir) ||
      !g_variant_lookup (props, "DefaultShmSize", "t", &shm_size) ||
      !g_variant_lookup (props, "Generation", "t", &generation))
    {
      g_printerr ("vcmountctl: the service's properties are incomplete or of the wrong type\n");
      return VCM_CTL_EXIT_FAILED;
    }

  if (ctl->json)
    vcm_ctl_print_json_variant (g_variant_new_parsed ("{'version': <%s>, 'shared-dir': <%s>, "
                                                      "'default-shm-size': <%t>, 'generation': <%t>}",
                                                      version, shared_dir, shm_size, generation));
  else
    {
      g_autofree char *shm_size_bytes = g_strdup_printf ("%" G_GUINT64_FORMAT, shm_size);
      g_autofree char *shm_size_words = g_format_size_full (shm_size, G_FORMAT_SIZE_IEC_UNITS);
      g_autofree char *shm_text = g_strdup_printf ("%s (%s)", shm_size_bytes, shm_size_words);
      g_autofree char *generation_text = g_strdup_printf ("%" G_GUINT64_FORMAT, generation);
      const char *pairs[] = {
        "Version", version,      "Shared dir",    shared_dir, "Default shm size",
        shm_text,  "Generation", generation_text, NULL,
      };
      vcm_ctl_print_fields (pairs);
    }
  return VCM_CTL_EXIT_OK;
}

const VcmCtlCommand vcm_ctl_query_commands[] = {
  { "device", "PATH", "Show the device holding a path",
    "Print the device holding PATH and the mount point it is on, as MAJOR:MINOR MOUNTPOINT.", 1, 1, NULL,
    FALSE, vcm_ctl_cmd_device, NULL, NULL },
  { "fs", "MOUNTPOINT", "Show the device and filesystem type of a mount",
    "Print the source device and filesystem type of the mount at MOUNTPOINT.", 1, 1, NULL, FALSE,
    vcm_ctl_cmd_fs, NULL, NULL },
  { "is-devicemapper", "MAJOR:MINOR", "Tell whether a block device is a device-mapper device",
    "Print yes if the block device MAJOR:MINOR is a device-mapper device, else no.", 1, 1, NULL, FALSE,
    vcm_ctl_cmd_is_device_mapper, vcm_ctl_check_is_device_mapper, NULL },
  { "is-system-mount", "PATH", "Tell whether a path is /proc, /sys or below them",
    "Print yes if PATH is /proc, /sys or below them, else no.", 1, 1, NULL, FALSE,
    vcm_ctl_cmd_is_system_mount, NULL, NULL },
  { "is-host-device", "PATH", "Tell whether a path is a host device",
    "Print yes if PATH is /dev, or below it and not a regular file, else no.", 1, 1, NULL, FALSE,
    vcm_ctl_cmd_is_host_device, NULL, NULL },
  { "describe", "PATH", "Show all the service knows about a path",
    "Print everything the service knows about PATH: device, mount, flags, propagation.", 1, 1, NULL,
    FALSE, vcm_ctl_cmd_describe, NULL, NULL },
  { "status", "", "Show the service's properties",
    "Print the service's properties: Version, SharedDir, DefaultShmSize, Generation.", 0, 0, NULL, FALSE,
    vcm_ctl_cmd_status, NULL, NULL },
  { .name = NULL },
};
