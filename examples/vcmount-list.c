/* vcmount-list: the C example of libvcmount. Lists the rootfs mounts once
 * with a synchronous call, then follows them with a VcmRootfsSet and prints
 * each change, until SIGINT or SIGTERM (or, with --once, until the set is
 * first synced).
 *
 *   cc vcmount-list.c $(pkg-config --cflags --libs vcmount-1) -o vcmount-list
 *   vcmount-list [--once] [--address BUS_ADDRESS] [SANDBOX]
 */
#include <signal.h>
#include <stdio.h>

#include <glib-unix.h>
#include <vcmount.h>

static gboolean opt_once;
static char *opt_address;

static const GOptionEntry entries[] = {
  { "once", 0, 0, G_OPTION_ARG_NONE, &opt_once, "Stop once the set is synced", NULL },
  { "address", 0, 0, G_OPTION_ARG_STRING, &opt_address, "The bus address", "ADDRESS" },
  G_OPTION_ENTRY_NULL
};

static void
print_rootfs (const char *what, VcmRootfsSet *set, VcmRootfs *rootfs, const char *extra)
{
  printf ("%s generation=%" G_GUINT64_FORMAT
          " sandbox=%s container=%s mount-point=%s read-only=%s%s%s\n",
          what, vcm_rootfs_set_get_generation (set), vcm_rootfs_get_sandbox_id (rootfs),
          vcm_rootfs_get_container_id (rootfs), vcm_rootfs_get_mount_point (rootfs),
          vcm_rootfs_get_read_only (rootfs) ? "yes" : "no", extra ? " " : "", extra ? extra : "");
  fflush (stdout);
}

static void
on_added (VcmRootfsSet *set, VcmRootfs *rootfs, gpointer user_data)
{
  print_rootfs ("added", set, rootfs, NULL);
}

static void
on_removed (VcmRootfsSet *set, VcmRootfs *rootfs, const char *const *detached, gpointer user_data)
{
  g_autofree char *list = detached != NULL ? g_strjoinv (",", (char **) detached) : NULL;
  g_autofree char *extra = g_strdup_printf ("detached=%s", list != NULL ? list : "-");

  print_rootfs ("removed", set, rootfs, extra);
}

static void
on_changed (VcmRootfsSet *set, VcmRootfs *rootfs, const char *change, gpointer user_data)
{
  g_autofree char *extra = g_strdup_printf ("change=%s", change);

  print_rootfs ("changed", set, rootfs, extra);
}

static void
on_resynced (VcmRootfsSet *set, GMainLoop *loop)
{
  printf ("resynced generation=%" G_GUINT64_FORMAT " count=%u\n", vcm_rootfs_set_get_generation (set),
          g_list_model_get_n_items (G_LIST_MODEL (set)));
  fflush (stdout);
  if (opt_once)
    g_main_loop_quit (loop);
}

static gboolean
on_quit (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_CONTINUE;
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx =
    g_option_context_new ("[SANDBOX] - follow the rootfs mounts of vc-mount");
  g_autoptr (GError) error = NULL;
  g_autoptr (GDBusConnection) bus = NULL;
  g_autoptr (VcmClient) client = NULL;
  g_autoptr (VcmRootfsSet) set = NULL;
  g_autoptr (GPtrArray) rootfs = NULL;
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  const char *sandbox = NULL;
  guint64 generation = 0;
  guint sigint_id, sigterm_id;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || argc > 2)
    {
      g_printerr ("vcmount-list: %s\n", error != NULL ? error->message : "too many arguments");
      return 2;
    }
  sandbox = argc == 2 ? argv[1] : NULL;
  if (opt_address != NULL)
    {
      bus = g_dbus_connection_new_for_address_sync (opt_address,
                                                    G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                      G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                    NULL, NULL, &error);
      if (bus == NULL)
        {
          g_printerr ("vcmount-list: %s\n", error->message);
          return 1;
        }
    }
  client = vcm_client_new_sync (bus, NULL, &error);
  if (client == NULL)
    {
      g_printerr ("vcmount-list: %s\n", error->message);
      return 1;
    }

  /* One answer, synchronously. */
  rootfs = vcm_client_list_rootfs_sync (client, sandbox, VCM_CALL_FLAGS_NONE, NULL, &generation, &error);
  if (rootfs == NULL)
    {
      g_printerr ("vcmount-list: cannot list the rootfs mounts: %s\n", error->message);
      /* polkit would allow it after authentication: a program that can ask
       * calls again with VCM_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION */
      if (g_error_matches (error, VCM_CLIENT_ERROR, VCM_CLIENT_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED))
        {
          g_printerr (
            "vcmount-list: polkit wants you to authenticate, and this example never lets it ask\n");
          return 3;
        }
      return g_error_matches (error, VCM_CLIENT_ERROR, VCM_CLIENT_ERROR_NOT_AUTHORIZED) ? 3 : 1;
    }
  printf ("listed generation=%" G_GUINT64_FORMAT " count=%u\n", generation, rootfs->len);
  for (guint i = 0; i < rootfs->len; i++)
    printf ("  %s/%s %s\n", vcm_rootfs_get_sandbox_id (rootfs->pdata[i]),
            vcm_rootfs_get_container_id (rootfs->pdata[i]),
            vcm_rootfs_get_mount_point (rootfs->pdata[i]));
  fflush (stdout);

  /* Then the live set. */
  set = vcm_rootfs_set_new (client, sandbox);
  g_signal_connect (set, "added", G_CALLBACK (on_added), NULL);
  g_signal_connect (set, "removed", G_CALLBACK (on_removed), NULL);
  g_signal_connect (set, "changed", G_CALLBACK (on_changed), NULL);
  g_signal_connect (set, "resynced", G_CALLBACK (on_resynced), loop);
  sigint_id = g_unix_signal_add (SIGINT, on_quit, loop);
  sigterm_id = g_unix_signal_add (SIGTERM, on_quit, loop);
  g_main_loop_run (loop);
  g_source_remove (sigint_id);
  g_source_remove (sigterm_id);
  return 0;
}
