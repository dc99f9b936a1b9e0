/* vcm-prompt: what polkit is shown of a call, computed from the resolved
 * request: the details a rule reads and the authentication prompt. */
#include "config.h"

#include <string.h>

#include "vcm-prompt.h"

/* Printable ASCII stays; everything else is written as an escape: control
 * characters, but also every character beyond ASCII, since many look like
 * others or like nothing (spaces, fillers, slashes of other scripts, bidi
 * controls) and would let a caller lay out text of its own in the prompt. */
static void
append_escaped_char (GString *out, gunichar c)
{
  if (c == '\\' || c == '\'')
    {
      g_string_append_c (out, '\\');
      g_string_append_unichar (out, c);
    }
  else if (c == '$') /* polkit expands $(name) in a message: never the caller's */
    g_string_append (out, "\\x24");
  else if (c < 0x20 || c == 0x7f)
    g_string_append_printf (out, "\\x%02x", c);
  else if (c > 0x7e)
    g_string_append_printf (out, "\\u{%04x}", c);
  else
    g_string_append_c (out, (char) c);
}

/* @n characters of @s (valid UTF-8) from character @from, escaped. */
static void
append_escaped (GString *out, const char *s, glong from, glong n)
{
  const char *p = g_utf8_offset_to_pointer (s, from);

  for (glong i = 0; i < n && *p != '\0'; i++, p = g_utf8_next_char (p))
    append_escaped_char (out, g_utf8_get_char (p));
}

char *
vcm_prompt_quote (const char *value)
{
  g_autofree char *valid = g_utf8_make_valid (value, -1);
  g_autoptr (GString) out = g_string_new ("'");
  glong len = g_utf8_strlen (valid, -1);

  if (len <= VCM_PROMPT_MAX_VALUE)
    append_escaped (out, valid, 0, len);
  else
    {
      glong head = (VCM_PROMPT_MAX_VALUE - 1) / 2;
      glong tail = VCM_PROMPT_MAX_VALUE - 1 - head;

      append_escaped (out, valid, 0, head);
      g_string_append (out, "\u2026");
      append_escaped (out, valid, len - tail, tail);
    }
  g_string_append_c (out, '\'');
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static GHashTable *
details_new (void)
{
  return g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
}

static void
add_line (GString *message, const char *label, const char *value)
{
  g_autofree char *quoted = vcm_prompt_quote (value);

  g_string_append_printf (message, "\n%s: %s", label, quoted);
}

GHashTable *
vcm_prompt_request (const VcmMountRequest *req, char **out_message)
{
  GHashTable *details = details_new ();
  g_autoptr (GString) message = NULL;
  gboolean mounts =
    req->op == VCM_MOUNT_OP_MOUNT_ROOTFS || req->op == VCM_MOUNT_OP_BIND || req->op == VCM_MOUNT_OP_OPEN;

  switch (req->op)
    {
    case VCM_MOUNT_OP_MOUNT_ROOTFS:
      message = g_string_new ("Mount the root filesystem of a container");
      break;
    case VCM_MOUNT_OP_UNMOUNT_ROOTFS:
      message = g_string_new ("Unmount the root filesystem of a container, "
                              "with everything mounted below it");
      break;
    case VCM_MOUNT_OP_BIND:
      message = g_string_new ("Bind-mount a file or directory");
      break;
    case VCM_MOUNT_OP_OPEN:
      message = g_string_new ("Get a mount of a directory or file, to attach in your own namespace");
      break;
    case VCM_MOUNT_OP_UNMOUNT:
    default:
      message = g_string_new ("Unmount a mount, with everything mounted below it");
      break;
    }

  g_hash_table_insert (details, VCM_DETAIL_SANDBOX_ID,
                       g_strdup (req->sandbox_id ? req->sandbox_id : ""));
  g_hash_table_insert (details, VCM_DETAIL_CONTAINER_ID,
                       g_strdup (req->container_id ? req->container_id : ""));
  g_hash_table_insert (details, VCM_DETAIL_MOUNT_POINT, g_strdup (req->mount_point));
  if (mounts)
    {
      g_hash_table_insert (details, VCM_DETAIL_SOURCE, g_strdup (req->source));
      g_hash_table_insert (details, VCM_DETAIL_READ_ONLY, g_strdup (req->read_only ? "true" : "false"));
      g_hash_table_insert (details, VCM_DETAIL_SOURCE_OWNED,
                           g_strdup (req->source_owned ? "true" : "false"));
      add_line (message, "Source", req->source);
    }
  if (req->op != VCM_MOUNT_OP_OPEN)
    add_line (message, "Mount point", req->mount_point);
  if (req->sandbox_id != NULL)
    add_line (message, "Sandbox", req->sandbox_id);
  if (req->container_id != NULL)
    add_line (message, "Container", req->container_id);
  if (mounts)
    g_string_append (message,
                     req->read_only        ? "\nAccess: read-only"
                       : req->source_owned ? "\nAccess: writable"
                                           : "\nAccess: writable, of what the caller does not own");

  *out_message = g_string_free (g_steal_pointer (&message), FALSE);
  return details;
}

char *
vcm_prompt_idmap (const VcmMountOpts *options)
{
  /* what will be done: the map in force, a passed namespace's as read */
  return g_strdup (options->idmap != NULL && options->idmap_text != NULL ? options->idmap_text : "");
}

static void
add_flag (GHashTable *details, GString *message, const char *name, const char *label, gboolean value)
{
  g_hash_table_insert (details, (gpointer) name, g_strdup (value ? "true" : "false"));
  g_string_append_printf (message, "\n%s: %s", label, value ? "yes" : "no");
}

GHashTable *
vcm_prompt_fd_request (const VcmMountRequest *req,
                       const VcmFdSource *source,
                       const VcmMountOpts *options,
                       char **out_message)
{
  g_autofree char *first = NULL;
  g_autofree char *idmap = vcm_prompt_idmap (options);
  g_autofree char *device = g_strdup_printf ("%u:%u", source->major, source->minor);
  GHashTable *details = vcm_prompt_request (req, &first);
  g_autoptr (GString) message = g_string_new (first);

  g_hash_table_insert (details, VCM_DETAIL_SOURCE_DEVICE, g_strdup (device));
  g_hash_table_insert (details, VCM_DETAIL_SOURCE_INODE,
                       g_strdup_printf ("%" G_GUINT64_FORMAT, source->inode));
  g_hash_table_insert (details, VCM_DETAIL_SOURCE_OWNER, g_strdup_printf ("%u", (guint) source->owner));
  g_string_append_printf (message,
                          "\nSource identity: device %s, inode %" G_GUINT64_FORMAT ", owner uid %u",
                          device, source->inode, (guint) source->owner);
  add_flag (details, message, VCM_DETAIL_RECURSIVE, "With its submounts", options->recursive);
  add_flag (details, message, VCM_DETAIL_NOSUID, "Set-user-ID ignored (nosuid)", options->nosuid);
  add_flag (details, message, VCM_DETAIL_NODEV, "Devices ignored (nodev)", options->nodev);
  add_flag (details, message, VCM_DETAIL_NOEXEC, "No execution (noexec)", options->noexec);
  g_hash_table_insert (details, VCM_DETAIL_PROPAGATION, g_strdup (options->propagation));
  add_line (message, "Propagation", options->propagation);
  g_hash_table_insert (details, VCM_DETAIL_IDMAP, g_strdup (idmap));
  add_line (message, "ID map", *idmap ? idmap : "none");
  *out_message = g_string_free (g_steal_pointer (&message), FALSE);
  return details;
}

GHashTable *
vcm_prompt_sandbox (const char *sandbox_id, char **out_message)
{
  GHashTable *details = details_new ();
  g_autoptr (GString) message =
    g_string_new ("Unmount the root filesystems of every container of a sandbox");

  g_hash_table_insert (details, VCM_DETAIL_SANDBOX_ID, g_strdup (sandbox_id));
  g_hash_table_insert (details, VCM_DETAIL_CONTAINER_ID, g_strdup (""));
  add_line (message, "Sandbox", sandbox_id);
  *out_message = g_string_free (g_steal_pointer (&message), FALSE);
  return details;
}

GHashTable *
vcm_prompt_query (const char *path, char **out_message)
{
  GHashTable *details = details_new ();
  g_autoptr (GString) message = g_string_new ("Query mounts and devices");

  if (path != NULL)
    {
      g_hash_table_insert (details, VCM_DETAIL_PATH, g_strdup (path));
      add_line (message, "Path", path);
    }
  *out_message = g_string_free (g_steal_pointer (&message), FALSE);
  return details;
}
