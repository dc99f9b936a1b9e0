/* test-authz-table: the one method→action table covers the whole generated
 * interface with the contract's actions, and nothing else is allowed. */
#include "config.h"

#include "vcm-generated.h"
#include "vcm-service.h"

static const struct {
  const char *method;
  const char *action;
} contract[] = {
  { "MountRootfs", "org.vc.mount.manage-rootfs" },
  { "UnmountRootfs", "org.vc.mount.manage-rootfs" },
  { "UnmountSandbox", "org.vc.mount.manage-rootfs" },
  { "ListRootfs", "org.vc.mount.query" },
  { "BindMount", "org.vc.mount.bind" },
  { "Unmount", "org.vc.mount.bind" },
  { "GetDeviceForPath", "org.vc.mount.query" },
  { "GetDevicePathAndFsType", "org.vc.mount.query" },
  { "IsDeviceMapper", "org.vc.mount.query" },
  { "IsSystemMount", "org.vc.mount.query" },
  { "IsHostDevice", "org.vc.mount.query" },
  { "DescribePath", "org.vc.mount.query" },
};

static void
test_contract_actions (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (contract); i++)
    g_assert_cmpstr (vcm_service_action_for_method (contract[i].method), ==, contract[i].action);
}

static void
test_every_interface_method_is_guarded (void)
{
  GDBusInterfaceInfo *info = vcm_dbus_mount_interface_info ();
  guint n = 0;

  for (guint i = 0; info->methods[i] != NULL; i++, n++)
    g_assert_nonnull (vcm_service_action_for_method (info->methods[i]->name));
  g_assert_cmpuint (n, ==, G_N_ELEMENTS (contract));
}

static void
test_unknown_methods_have_no_action (void)
{
  g_assert_null (vcm_service_action_for_method ("Frobnicate"));
  g_assert_null (vcm_service_action_for_method ("mountrootfs"));
  g_assert_null (vcm_service_action_for_method (""));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/authz-table/contract-actions", test_contract_actions);
  g_test_add_func ("/authz-table/every-method-guarded", test_every_interface_method_is_guarded);
  g_test_add_func ("/authz-table/unknown-methods", test_unknown_methods_have_no_action);
  return g_test_run ();
}
