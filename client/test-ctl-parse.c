/* test-ctl-parse: unit tests of vcmountctl's pure helpers: MAJOR:MINOR and
 * --timeout parsing, and the mapping of D-Bus errors to exit codes. */
#include <string.h>

#include <gio/gio.h>

#include "vcm-ctl-parse.h"
#include "vcm-test-main.h"

VCM_TEST ("/ctl/devnum/good", test_devnum_good)
{
  static const struct {
    const char *text;
    guint32 major, minor;
  } cases[] = {
    { "8:1", 8, 1 },
    { "0:0", 0, 0 },
    { "253:0", 253, 0 },
    { "4096:1048576", 4096, 1048576 },
    { "4294967295:4294967295", G_MAXUINT32, G_MAXUINT32 },
    { "007:010", 7, 10 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      guint32 major = 12345, minor = 12345;

      g_assert_true (vcm_ctl_parse_devnum (cases[i].text, &major, &minor, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (major, ==, cases[i].major);
      g_assert_cmpuint (minor, ==, cases[i].minor);
    }
}

VCM_TEST ("/ctl/devnum/bad", test_devnum_bad)
{
  static const char *const cases[] = {
    "",     ":",    "8",   "8:",    ":1",    "8:1:2",        "-1:0",         "8:-1",          "+8:1",
    " 8:1", "8:1 ", "a:b", "0x8:1", "8.0:1", "4294967296:0", "0:4294967296", "99999999999:0", "8：1",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      guint32 major = 12345, minor = 54321;

      g_test_message ("case '%s'", cases[i]);
      g_assert_false (vcm_ctl_parse_devnum (cases[i], &major, &minor, &error));
      g_assert_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE);
      g_assert_nonnull (strstr (error->message, cases[i]));
      /* Outputs untouched on failure. */
      g_assert_cmpuint (major, ==, 12345);
      g_assert_cmpuint (minor, ==, 54321);
    }
}

VCM_TEST ("/ctl/timeout", test_timeout)
{
  g_autoptr (GError) error = NULL;
  int msec = 0;

  g_assert_true (vcm_ctl_parse_timeout ("5", &msec, &error));
  g_assert_no_error (error);
  g_assert_cmpint (msec, ==, 5000);
  g_assert_true (vcm_ctl_parse_timeout ("0", &msec, &error));
  g_assert_cmpint (msec, ==, G_MAXINT);
  g_assert_true (vcm_ctl_parse_timeout ("2147483", &msec, &error));
  g_assert_cmpint (msec, ==, 2147483000);

  for (gsize i = 0; i < 5; i++)
    {
      static const char *const bad[] = { "", "-1", "1.5", "2147484", "ten" };
      g_clear_error (&error);
      msec = 77;
      g_assert_false (vcm_ctl_parse_timeout (bad[i], &msec, &error));
      g_assert_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE);
      g_assert_cmpint (msec, ==, 77);
    }
}

VCM_TEST ("/ctl/exit/name", test_exit_for_name)
{
  g_assert_cmpint (vcm_ctl_exit_for_error_name ("org.vc.Mount.Error.NotAuthorized"), ==,
                   VCM_CTL_EXIT_NOT_AUTHORIZED);
  g_assert_cmpint (vcm_ctl_exit_for_error_name ("org.freedesktop.DBus.Error.AccessDenied"), ==,
                   VCM_CTL_EXIT_NOT_AUTHORIZED);
  g_assert_cmpint (
    vcm_ctl_exit_for_error_name ("org.freedesktop.DBus.Error.InteractiveAuthorizationRequired"), ==,
    VCM_CTL_EXIT_AUTHENTICATION_REQUIRED);
  g_assert_cmpint (vcm_ctl_exit_for_error_name ("org.vc.Mount.Error.NotFound"), ==,
                   VCM_CTL_EXIT_NOT_FOUND);
  g_assert_cmpint (vcm_ctl_exit_for_error_name ("org.vc.Mount.Error.NotMounted"), ==,
                   VCM_CTL_EXIT_NOT_FOUND);
  g_assert_cmpint (vcm_ctl_exit_for_error_name ("org.vc.Mount.Error.InvalidArgument"), ==,
                   VCM_CTL_EXIT_FAILED);
  g_assert_cmpint (vcm_ctl_exit_for_error_name ("org.vc.Mount.Error.AlreadyMounted"), ==,
                   VCM_CTL_EXIT_FAILED);
  g_assert_cmpint (vcm_ctl_exit_for_error_name ("org.vc.Mount.Error.Failed"), ==, VCM_CTL_EXIT_FAILED);
  g_assert_cmpint (vcm_ctl_exit_for_error_name ("org.vc.Mount.Error.LimitsExceeded"), ==,
                   VCM_CTL_EXIT_FAILED);
  g_assert_cmpint (vcm_ctl_exit_for_error_name ("org.freedesktop.DBus.Error.ServiceUnknown"), ==,
                   VCM_CTL_EXIT_FAILED);
  /* Prefixes and look-alikes do not count. */
  g_assert_cmpint (vcm_ctl_exit_for_error_name ("org.vc.Mount.Error.NotFoundX"), ==,
                   VCM_CTL_EXIT_FAILED);
  g_assert_cmpint (vcm_ctl_exit_for_error_name ("org.vc.Mount.Error"), ==, VCM_CTL_EXIT_FAILED);
  g_assert_cmpint (vcm_ctl_exit_for_error_name (NULL), ==, VCM_CTL_EXIT_FAILED);
}

VCM_TEST ("/ctl/exit/error", test_exit_for_error)
{
  g_autoptr (GError) remote = NULL;
  g_autoptr (GError) denied = NULL;
  g_autoptr (GError) local = NULL;
  g_autoptr (GError) not_mounted = NULL;
  g_autoptr (GError) challenge = NULL;

  remote = g_dbus_error_new_for_dbus_error ("org.vc.Mount.Error.NotAuthorized", "polkit said no");
  g_assert_cmpint (vcm_ctl_exit_for_error (remote), ==, VCM_CTL_EXIT_NOT_AUTHORIZED);
  not_mounted = g_dbus_error_new_for_dbus_error ("org.vc.Mount.Error.NotMounted", "nothing at /x");
  g_assert_cmpint (vcm_ctl_exit_for_error (not_mounted), ==, VCM_CTL_EXIT_NOT_FOUND);
  denied = g_dbus_error_new_for_dbus_error ("org.freedesktop.DBus.Error.AccessDenied", "bus policy");
  g_assert_cmpint (vcm_ctl_exit_for_error (denied), ==, VCM_CTL_EXIT_NOT_AUTHORIZED);
  challenge = g_dbus_error_new_for_dbus_error (
    "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired", "authentication is required");
  g_assert_cmpint (vcm_ctl_exit_for_error (challenge), ==, VCM_CTL_EXIT_AUTHENTICATION_REQUIRED);
  local = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "timed out");
  g_assert_cmpint (vcm_ctl_exit_for_error (local), ==, VCM_CTL_EXIT_FAILED);
  g_assert_cmpint (vcm_ctl_exit_for_error (NULL), ==, VCM_CTL_EXIT_OK);
}

VCM_TEST ("/ctl/exit/hint-for-error-name", test_hint_for_error_name)
{
  /* After `systemctl disable vcmountd`, as each bus says it. */
  const char *daemon = vcm_ctl_hint_for_error_name ("org.freedesktop.systemd1.NoSuchUnit",
                                                    "Unit dbus-org.vc.Mount.service not found.");
  const char *broker = vcm_ctl_hint_for_error_name ("org.freedesktop.DBus.Error.NameHasNoOwner",
                                                    "Could not activate remote peer "
                                                    "'org.vc.Mount': activation request failed: "
                                                    "unknown unit");

  g_assert_nonnull (daemon);
  g_assert_nonnull (strstr (daemon, "systemctl enable vcmountd"));
  g_assert_cmpstr (broker, ==, daemon);
  /* The same from a failed StartServiceByName, whose error has no name. */
  g_assert_cmpstr (vcm_ctl_hint_for_error_name (NULL,
                                                "Error calling StartServiceByName for "
                                                "org.vc.Mount: Unit "
                                                "dbus-org.vc.Mount.service not found."),
                   ==, daemon);
  g_assert_cmpstr (vcm_ctl_hint_for_error_name (NULL,
                                                "Error calling StartServiceByName for "
                                                "org.vc.Mount: activation request "
                                                "failed: unknown unit"),
                   ==, daemon);
  /* Another unit's NoSuchUnit text, without a name, is not ours. */
  g_assert_null (vcm_ctl_hint_for_error_name (NULL, "Unit foo.service not found."));
  /* A NameHasNoOwner of another kind, and other errors, get no hint. */
  g_assert_null (vcm_ctl_hint_for_error_name ("org.freedesktop.DBus.Error.NameHasNoOwner",
                                              "Could not get owner of name 'org.vc.Mount'"));
  g_assert_null (vcm_ctl_hint_for_error_name ("org.freedesktop.DBus.Error.NameHasNoOwner", NULL));
  g_assert_null (vcm_ctl_hint_for_error_name ("org.freedesktop.DBus.Error.ServiceUnknown", "x"));
  g_assert_null (vcm_ctl_hint_for_error_name (NULL, NULL));
}

VCM_TEST ("/ctl/exit/hint", test_hint_for_exit)
{
  const char *hint = vcm_ctl_hint_for_exit (VCM_CTL_EXIT_AUTHENTICATION_REQUIRED);

  /* It names the option that forbids asking, and where asking happens. */
  g_assert_nonnull (hint);
  g_assert_nonnull (strstr (hint, "--no-ask-password"));
  g_assert_nonnull (strstr (hint, "terminal"));
  g_assert_null (vcm_ctl_hint_for_exit (VCM_CTL_EXIT_NOT_AUTHORIZED));
  g_assert_null (vcm_ctl_hint_for_exit (VCM_CTL_EXIT_FAILED));
  g_assert_null (vcm_ctl_hint_for_exit (VCM_CTL_EXIT_OK));
}

VCM_TEST ("/ctl/mount-option", test_mount_option)
{
  static const struct {
    const char *text;
    const char *key;
    const char *value; /* GVariant text */
  } good[] = {
    { "read-only=true", "read-only", "true" },
    { "nosuid=no", "nosuid", "false" },
    { "nodev=1", "nodev", "true" },
    { "noexec=0", "noexec", "false" },
    { "recursive=yes", "recursive", "true" },
    { "propagation=slave", "propagation", "'slave'" },
  };
  static const char *const bad[] = {
    "read-only", "read-only=maybe", "propagation=rshared", "idmap=b:0:1:1", "=true", "Read-Only=true",
    NULL,
  };

  for (gsize i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GVariant) value = NULL;
      g_autofree char *printed = NULL;
      const char *key = NULL;

      g_assert_true (vcm_ctl_parse_mount_option (good[i].text, &key, &value, &error));
      g_assert_no_error (error);
      g_variant_ref_sink (value);
      printed = g_variant_print (value, FALSE);
      g_assert_cmpstr (key, ==, good[i].key);
      g_assert_cmpstr (printed, ==, good[i].value);
    }
  for (gsize i = 0; bad[i] != NULL; i++)
    {
      g_autoptr (GError) error = NULL;
      GVariant *value = NULL;
      const char *key = NULL;

      g_assert_false (vcm_ctl_parse_mount_option (bad[i], &key, &value, &error));
      g_assert_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE);
      g_assert_null (value);
    }
}

VCM_TEST_MAIN (NULL, NULL, NULL)
