/* test-service: VcmService's pipeline against a fake authorizer and a fake
 * engine, over a private bus (GTestDBus): each call is checked by the
 * engine, identified, prepared, authorized for every action the engine
 * names (in order), run, and answered with what the engine gave; a call the
 * engine refuses, or any of its actions polkit refuses, is never run; what
 * the authorizer and the engine can say at once takes no detour (root's
 * calls); the engine's properties and changes reach the bus; who left the
 * bus is known as the bus says so, and remembered within a bound. Nothing
 * is mounted. */
#include "config.h"

#include <gio/gio.h>

#include "vcm-authorizer.h"
#include "vcm-engine.h"
#include "vcm-error.h"
#include "vcm-generated.h"
#include "vcm-intake.h"
#include "vcm-senders.h"
#include "vcm-service.h"
#include "vcm-test-main.h"

#define VCM_INTERFACE "org.vc.Mount"

/* ---- what happened, in order, across both fakes ------------------------------ */

static GPtrArray *trace;

static void note (const char *format, ...) G_GNUC_PRINTF (1, 2);

static void
note (const char *format, ...)
{
  va_list ap;

  va_start (ap, format);
  g_ptr_array_add (trace, g_strdup_vprintf (format, ap));
  va_end (ap);
}

static char *
trace_text (void)
{
  g_ptr_array_add (trace, NULL);
  g_autofree char *text = g_strjoinv (" ", (char **) trace->pdata);
  g_ptr_array_remove_index (trace, trace->len - 1);
  return g_steal_pointer (&text);
}

/* ---- the fake authorizer: uid 1000, refuses the actions in @deny -------------- */

#define FAKE_TYPE_AUTH (fake_auth_get_type ())
G_DECLARE_FINAL_TYPE (FakeAuth, fake_auth, FAKE, AUTH, GObject)

struct _FakeAuth {
  GObject parent;
  GStrv deny;
  uid_t known_uid; /* with known: the uid lookup() gives at once */
  gboolean known;  /* lookup() and allows_at_once() answer (else they are absent) */
};

static void fake_auth_iface_init (VcmAuthorizerInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (FakeAuth,
                               fake_auth,
                               G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (VCM_TYPE_AUTHORIZER, fake_auth_iface_init))

static void
fake_identify_async (VcmAuthorizer *auth,
                     GDBusMethodInvocation *invocation,
                     GCancellable *cancellable,
                     GAsyncReadyCallback callback,
                     gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (auth, cancellable, callback, user_data);
  gid_t gid = 1000;

  note ("identify");
  g_task_return_pointer (task,
                         vcm_caller_new (g_dbus_method_invocation_get_sender (invocation), 1000, 0,
                                         vcm_credentials_new (1000, &gid, 1)),
                         (GDestroyNotify) vcm_caller_unref);
}

static VcmCaller *
fake_identify_finish (VcmAuthorizer *auth, GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
fake_check_async (VcmAuthorizer *auth,
                  const VcmAuthQuestion *q,
                  GCancellable *cancellable,
                  GAsyncReadyCallback callback,
                  gpointer user_data)
{
  FakeAuth *self = FAKE_AUTH (auth);
  g_autoptr (GTask) task = g_task_new (auth, cancellable, callback, user_data);

  note ("check:%s(%s)", q->action_id, (const char *) g_hash_table_lookup (q->details, "what"));
  g_assert_cmpuint (q->caller->uid, ==, 1000);
  if (self->deny != NULL && g_strv_contains ((const char *const *) self->deny, q->action_id))
    g_task_return_new_error (task, VCM_ERROR, VCM_ERROR_NOT_AUTHORIZED, "%s: refused", q->action_id);
  else
    g_task_return_boolean (task, TRUE);
}

static gboolean
fake_check_finish (VcmAuthorizer *auth, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* With known: the sender is known at once, as known_uid. */
static VcmCaller *
fake_lookup (VcmAuthorizer *auth, GDBusMethodInvocation *invocation)
{
  FakeAuth *self = FAKE_AUTH (auth);
  gid_t gid = self->known_uid;

  if (!self->known)
    return NULL;
  note ("lookup");
  return vcm_caller_new (g_dbus_method_invocation_get_sender (invocation), self->known_uid, 0,
                         self->known_uid != 0 ? vcm_credentials_new (self->known_uid, &gid, 1) : NULL);
}

/* With known: root is allowed without asking, as the real one allows it. */
static gboolean
fake_allows_at_once (VcmAuthorizer *auth, const VcmAuthQuestion *q)
{
  if (!FAKE_AUTH (auth)->known)
    return FALSE;
  note ("at-once:%s:%s", q->action_id, q->caller->uid == 0 ? "yes" : "no");
  return q->caller->uid == 0;
}

static void
fake_auth_iface_init (VcmAuthorizerInterface *iface)
{
  iface->identify_async = fake_identify_async;
  iface->identify_finish = fake_identify_finish;
  iface->check_async = fake_check_async;
  iface->check_finish = fake_check_finish;
  iface->lookup = fake_lookup;
  iface->allows_at_once = fake_allows_at_once;
}

static void
fake_auth_finalize (GObject *object)
{
  g_strfreev (FAKE_AUTH (object)->deny);
  G_OBJECT_CLASS (fake_auth_parent_class)->finalize (object);
}

static void
fake_auth_class_init (FakeAuthClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = fake_auth_finalize;
}

static void
fake_auth_init (FakeAuth *self)
{
}

/* ---- the fake engine: IsSystemMount and BindMount ------------------------------ */

#define FAKE_TYPE_ENGINE (fake_engine_get_type ())
G_DECLARE_FINAL_TYPE (FakeEngine, fake_engine, FAKE, ENGINE, VcmEngine)

struct _FakeEngine {
  VcmEngine parent;
};

G_DEFINE_FINAL_TYPE (FakeEngine, fake_engine, VCM_TYPE_ENGINE)

/* "bad" as the first argument: refused as the real checks refuse. */
static gboolean
fake_validate (VcmEngine *engine, const char *method, GVariant *params, GError **error)
{
  const char *first;

  note ("validate:%s", method);
  if (!g_str_equal (method, "IsSystemMount") && !g_str_equal (method, "BindMount"))
    {
      g_set_error (error, VCM_ERROR, VCM_ERROR_NOT_AUTHORIZED, "%s: not served", method);
      return FALSE;
    }
  g_variant_get_child (params, 0, "&s", &first);
  if (g_str_equal (first, "bad"))
    {
      g_set_error (error, VCM_ERROR, VCM_ERROR_INVALID_ARGUMENT, "path: bad");
      return FALSE;
    }
  return TRUE;
}

/* IsSystemMount asks org.vc.mount.query; BindMount org.vc.mount.bind, and
 * when writable org.vc.mount.write-foreign as well. */
static void
fill_request (VcmRequest *request)
{
  const char *first;

  g_variant_get_child (request->params, 0, "&s", &first);
  if (g_str_equal (request->method, "IsSystemMount"))
    request->actions[0] = "org.vc.mount.query";
  else
    {
      gboolean read_only;

      g_variant_get_child (request->params, 2, "b", &read_only);
      request->actions[0] = "org.vc.mount.bind";
      request->actions[1] = read_only ? NULL : "org.vc.mount.write-foreign";
    }
  request->details = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  g_hash_table_insert (request->details, "what", g_strdup (first));
  request->message = g_strdup ("a message");
}

static void
fake_prepare_async (VcmEngine *engine,
                    VcmRequest *request,
                    GCancellable *cancellable,
                    GAsyncReadyCallback callback,
                    gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (engine, cancellable, callback, user_data);

  note ("prepare:%s", request->method);
  fill_request (request);
  g_task_return_boolean (task, TRUE);
}

/* Root's IsSystemMount is prepared at once (as the real engine prepares a
 * request of root's that walks no path); anything else is not. */
static gboolean
fake_prepare_now (VcmEngine *engine, VcmRequest *request, GError **error)
{
  if (request->caller->uid != 0 || !g_str_equal (request->method, "IsSystemMount"))
    return FALSE;
  note ("prepare-now:%s", request->method);
  fill_request (request);
  return TRUE;
}

static gboolean
fake_prepare_finish (VcmEngine *engine, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
fake_run_async (VcmEngine *engine,
                VcmRequest *request,
                GCancellable *cancellable,
                GAsyncReadyCallback callback,
                gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (engine, cancellable, callback, user_data);
  GVariant *reply;

  note ("run:%s", request->method);
  if (g_str_equal (request->method, "IsSystemMount"))
    reply = g_variant_new ("(b)", TRUE);
  else
    {
      const char *destination;

      g_variant_get_child (request->params, 1, "&s", &destination);
      reply = g_variant_new ("(s)", destination);
      g_signal_emit_by_name (engine, "mount-added", g_variant_new_parsed ("{'mount-point': <'x'>}"));
    }
  g_task_return_pointer (task, g_variant_ref_sink (reply), (GDestroyNotify) g_variant_unref);
}

static GVariant *
fake_run_finish (VcmEngine *engine, GAsyncResult *result, GUnixFDList **out_fds, GError **error)
{
  *out_fds = NULL;
  return g_task_propagate_pointer (G_TASK (result), error);
}

static const char *
fake_get_shared_dir (VcmEngine *engine)
{
  return "/fake/shared";
}

static guint64
fake_get_generation (VcmEngine *engine)
{
  return 7;
}

static guint64
fake_get_default_shm_size (VcmEngine *engine)
{
  return 42;
}

static void
fake_shutdown (VcmEngine *engine)
{
}

static void
fake_engine_class_init (FakeEngineClass *klass)
{
  VcmEngineClass *engine_class = VCM_ENGINE_CLASS (klass);

  engine_class->validate = fake_validate;
  engine_class->prepare_async = fake_prepare_async;
  engine_class->prepare_finish = fake_prepare_finish;
  engine_class->prepare_now = fake_prepare_now;
  engine_class->run_async = fake_run_async;
  engine_class->run_finish = fake_run_finish;
  engine_class->get_shared_dir = fake_get_shared_dir;
  engine_class->get_generation = fake_get_generation;
  engine_class->get_default_shm_size = fake_get_default_shm_size;
  engine_class->shutdown = fake_shutdown;
}

static void
fake_engine_init (FakeEngine *self)
{
}

/* ---- the fixture: a private bus, the service on it, a client ------------------- */

typedef struct {
  GTestDBus *bus;
  GDBusConnection *service_conn;
  GDBusConnection *client;
  FakeAuth *auth;
  FakeEngine *engine;
  VcmService *service;
} Fixture;

static GDBusConnection *
connect_to (GTestDBus *bus)
{
  g_autoptr (GError) error = NULL;
  GDBusConnection *conn = g_dbus_connection_new_for_address_sync (
    g_test_dbus_get_bus_address (bus),
    G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION, NULL,
    NULL, &error);

  g_assert_no_error (error);
  return conn;
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  trace = g_ptr_array_new_with_free_func (g_free);
  f->bus = g_test_dbus_new (G_TEST_DBUS_NONE);
  g_test_dbus_up (f->bus);
  f->service_conn = connect_to (f->bus);
  f->client = connect_to (f->bus);
  f->auth = g_object_new (FAKE_TYPE_AUTH, NULL);
  f->engine = g_object_new (FAKE_TYPE_ENGINE, NULL);
  f->service = vcm_service_new_with (f->service_conn, f->service_conn, VCM_AUTHORIZER (f->auth),
                                     VCM_ENGINE (f->engine), &error);
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  vcm_service_shutdown (f->service);
  g_clear_object (&f->service);
  g_clear_object (&f->engine);
  g_clear_object (&f->auth);
  g_dbus_connection_close_sync (f->client, NULL, NULL);
  g_dbus_connection_close_sync (f->service_conn, NULL, NULL);
  g_clear_object (&f->client);
  g_clear_object (&f->service_conn);
  g_test_dbus_down (f->bus);
  g_clear_object (&f->bus);
  g_clear_pointer (&trace, g_ptr_array_unref);
}

static void
on_reply (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

/* Calls @method on the service and turns the main loop (where the service
 * runs) until it answers. */
static GVariant *
call_iface (Fixture *f, const char *iface, const char *method, GVariant *params, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  g_dbus_connection_call (f->client, g_dbus_connection_get_unique_name (f->service_conn),
                          VCM_OBJECT_PATH, iface, method, params, NULL, G_DBUS_CALL_FLAGS_NONE, 10000,
                          NULL, on_reply, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  return g_dbus_connection_call_finish (f->client, result, error);
}

static GVariant *
call (Fixture *f, const char *method, GVariant *params, GError **error)
{
  return call_iface (f, VCM_INTERFACE, method, params, error);
}

/* ---- the tests ------------------------------------------------------------------ */

/* Every stage in its order, and the engine's answer sent as it is. */
VCM_TEST_FIXTURE (
  "/service/pipeline/answers-in-order", test_answers_in_order, Fixture, fixture_setup, fixture_teardown)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = call (f, "IsSystemMount", g_variant_new ("(s)", "/p"), &error);
  g_autofree char *text = trace_text ();

  g_autofree char *printed = NULL;

  g_assert_no_error (error);
  printed = g_variant_print (reply, FALSE);
  g_assert_cmpstr (printed, ==, "(true,)");
  g_assert_cmpstr (text, ==,
                   "validate:IsSystemMount identify prepare:IsSystemMount "
                   "check:org.vc.mount.query(/p) run:IsSystemMount");
  g_assert_cmpuint (vcm_service_get_calls_in_flight (f->service), ==, 0);
}

/* Calls @method with @parameters (floating: taken): it is refused with the
 * bus error @error_name, after exactly the steps @steps. */
static void
assert_refused_after (
  Fixture *f, const char *method, GVariant *parameters, const char *error_name, const char *steps)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = call (f, method, parameters, &error);
  g_autofree char *text = trace_text ();
  g_autofree char *remote = NULL;

  g_assert_null (reply);
  remote = g_dbus_error_get_remote_error (error);
  g_assert_cmpstr (remote, ==, error_name);
  g_assert_cmpstr (text, ==, steps);
  g_ptr_array_set_size (trace, 0);
}

/* Refused by the engine's checks: nobody is identified, nothing prepared. */
VCM_TEST_FIXTURE (
  "/service/pipeline/invalid-argument", test_invalid_argument, Fixture, fixture_setup, fixture_teardown)
{
  assert_refused_after (f, "IsSystemMount", g_variant_new ("(s)", "bad"),
                        "org.vc.Mount.Error.InvalidArgument", "validate:IsSystemMount");
}

/* A method the engine does not serve: refused before anything else. */
VCM_TEST_FIXTURE (
  "/service/pipeline/unserved-method", test_unserved_method, Fixture, fixture_setup, fixture_teardown)
{
  assert_refused_after (f, "Unmount", g_variant_new ("(s)", "/m"), "org.vc.Mount.Error.NotAuthorized",
                        "validate:Unmount");
}

/* Every action the engine names must allow it, in order; one refusal and
 * the request is never run. */
VCM_TEST_FIXTURE ("/service/pipeline/every-action-asked",
                  test_every_action_asked,
                  Fixture,
                  fixture_setup,
                  fixture_teardown)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autofree char *text = NULL;
  g_autofree char *printed = NULL;

  f->auth->deny = g_strsplit ("org.vc.mount.write-foreign", ",", -1);
  assert_refused_after (f, "BindMount", g_variant_new ("(ssb)", "/src", "/dst", FALSE),
                        "org.vc.Mount.Error.NotAuthorized",
                        "validate:BindMount identify prepare:BindMount check:org.vc.mount.bind(/src) "
                        "check:org.vc.mount.write-foreign(/src)");

  /* read-only: the engine names one action, allowed: run */
  reply = call (f, "BindMount", g_variant_new ("(ssb)", "/src", "/dst", TRUE), &error);
  text = trace_text ();
  g_assert_no_error (error);
  printed = g_variant_print (reply, FALSE);
  g_assert_cmpstr (printed, ==, "('/dst',)");
  g_assert_cmpstr (text, ==,
                   "validate:BindMount identify prepare:BindMount check:org.vc.mount.bind(/src) "
                   "run:BindMount");
}

/* The first action refused: the second is not even asked. */
VCM_TEST_FIXTURE ("/service/pipeline/first-refusal-ends-it",
                  test_first_refusal_ends_it,
                  Fixture,
                  fixture_setup,
                  fixture_teardown)
{
  f->auth->deny = g_strsplit ("org.vc.mount.bind", ",", -1);
  assert_refused_after (f, "BindMount", g_variant_new ("(ssb)", "/src", "/dst", FALSE),
                        "org.vc.Mount.Error.NotAuthorized",
                        "validate:BindMount identify prepare:BindMount check:org.vc.mount.bind(/src)");
}

/* What the authorizer says at once, and what the engine prepares at once:
 * a known root's calls go straight through, every action allowed without a
 * check; a known user's are still checked, one action after the other. */
VCM_TEST_FIXTURE ("/service/pipeline/at-once", test_at_once, Fixture, fixture_setup, fixture_teardown)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autofree char *text = NULL;

  f->auth->known = TRUE;
  f->auth->known_uid = 0;
  reply = call (f, "IsSystemMount", g_variant_new ("(s)", "/p"), &error);
  g_assert_no_error (error);
  text = trace_text ();
  g_assert_cmpstr (text, ==,
                   "validate:IsSystemMount lookup prepare-now:IsSystemMount "
                   "at-once:org.vc.mount.query:yes run:IsSystemMount");
  g_ptr_array_set_size (trace, 0);
  g_clear_pointer (&reply, g_variant_unref);
  g_clear_pointer (&text, g_free);

  /* not prepared at once: the asynchronous way; both actions at once */
  reply = call (f, "BindMount", g_variant_new ("(ssb)", "/src", "/dst", FALSE), &error);
  g_assert_no_error (error);
  text = trace_text ();
  g_assert_cmpstr (text, ==,
                   "validate:BindMount lookup prepare:BindMount at-once:org.vc.mount.bind:yes "
                   "at-once:org.vc.mount.write-foreign:yes run:BindMount");
  g_ptr_array_set_size (trace, 0);

  /* a user that is not root: each action checked, a refusal ends it */
  f->auth->known_uid = 1000;
  f->auth->deny = g_strsplit ("org.vc.mount.write-foreign", ",", -1);
  assert_refused_after (f, "BindMount", g_variant_new ("(ssb)", "/src", "/dst", FALSE),
                        "org.vc.Mount.Error.NotAuthorized",
                        "validate:BindMount lookup prepare:BindMount "
                        "at-once:org.vc.mount.bind:no check:org.vc.mount.bind(/src) "
                        "at-once:org.vc.mount.write-foreign:no check:org.vc.mount.write-foreign(/src)");
  assert_refused_after (f, "IsSystemMount", g_variant_new ("(s)", "bad"),
                        "org.vc.Mount.Error.InvalidArgument", "validate:IsSystemMount");
}

static void
on_signal (GDBusConnection *connection,
           const char *sender_name,
           const char *object_path,
           const char *interface_name,
           const char *signal_name,
           GVariant *parameters,
           gpointer user_data)
{
  char **out = user_data;
  g_autofree char *printed = g_variant_print (parameters, FALSE);

  g_free (*out);
  *out = g_strdup_printf ("%s%s", signal_name, printed);
}

/* The engine's properties are the service's; its changes are signals. */
VCM_TEST_FIXTURE ("/service/properties-and-changes",
                  test_properties_and_changes,
                  Fixture,
                  fixture_setup,
                  fixture_teardown)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) props = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autofree char *seen = NULL;
  guint sub;

  props = call_iface (f, "org.freedesktop.DBus.Properties", "GetAll",
                      g_variant_new ("(s)", VCM_INTERFACE), &error);
  g_assert_no_error (error);
  {
    g_autoptr (GVariant) all = g_variant_get_child_value (props, 0);
    const char *shared_dir = NULL;
    guint64 generation = 0, shm = 0;

    g_assert_true (g_variant_lookup (all, "SharedDir", "&s", &shared_dir));
    g_assert_true (g_variant_lookup (all, "Generation", "t", &generation));
    g_assert_true (g_variant_lookup (all, "DefaultShmSize", "t", &shm));
    g_assert_cmpstr (shared_dir, ==, "/fake/shared");
    g_assert_cmpuint (generation, ==, 7);
    g_assert_cmpuint (shm, ==, 42);
  }
  sub = g_dbus_connection_signal_subscribe (f->client, NULL, VCM_INTERFACE, "MountAdded", NULL, NULL,
                                            G_DBUS_SIGNAL_FLAGS_NONE, on_signal, &seen, NULL);
  g_clear_pointer (&reply, g_variant_unref);
  reply = call (f, "BindMount", g_variant_new ("(ssb)", "/src", "/dst", TRUE), &error);
  g_assert_no_error (error);
  while (seen == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpstr (seen, ==, "MountAdded(7, {'mount-point': <'x'>})");
  g_dbus_connection_signal_unsubscribe (f->client, sub);
}

static void
on_gone (const char *sender, gpointer user_data)
{
  GPtrArray *gone = user_data;

  g_ptr_array_add (gone, g_strdup (sender));
}

static gboolean
contains (GPtrArray *names, const char *name)
{
  for (guint i = 0; i < names->len; i++)
    if (g_str_equal (names->pdata[i], name))
      return TRUE;
  return FALSE;
}

/* A unique name that leaves the bus is known to have left by the time the
 * main context hears of it; a live one is not. */
VCM_TEST_FIXTURE ("/service/senders/left", test_senders_left, Fixture, fixture_setup, fixture_teardown)
{
  g_autoptr (VcmSenders) senders = vcm_senders_new (f->service_conn);
  g_autoptr (GPtrArray) gone = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GDBusConnection) leaving = connect_to (f->bus);
  g_autofree char *name = g_strdup (g_dbus_connection_get_unique_name (leaving));
  g_autoptr (GVariant) id = NULL;
  g_autoptr (GError) error = NULL;
  guint sub = vcm_senders_watch_gone (f->service_conn, on_gone, gone);

  /* (a round trip: the bus has the match rule) */
  id = g_dbus_connection_call_sync (f->service_conn, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                    "org.freedesktop.DBus", "GetId", NULL, NULL, G_DBUS_CALL_FLAGS_NONE,
                                    -1, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (id);
  g_assert_false (vcm_senders_has_left (senders, name));
  g_dbus_connection_close_sync (leaving, NULL, &error);
  g_assert_no_error (error);
  while (!contains (gone, name))
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (vcm_senders_has_left (senders, name));
  g_assert_false (vcm_senders_has_left (senders, g_dbus_connection_get_unique_name (f->client)));
  g_dbus_connection_signal_unsubscribe (f->service_conn, sub);
}

/* The latest VCM_SENDERS_REMEMBERED names that left are remembered, the
 * oldest forgotten first. */
VCM_TEST_FIXTURE (
  "/service/senders/bounded", test_senders_bounded, Fixture, fixture_setup, fixture_teardown)
{
  g_autoptr (VcmSenders) senders = vcm_senders_new (f->service_conn);

  for (guint i = 0; i <= VCM_SENDERS_REMEMBERED; i++)
    {
      g_autofree char *name = g_strdup_printf (":9.%u", i);

      vcm_senders_note_left (senders, name);
      vcm_senders_note_left (senders, name); /* (once only) */
    }
  g_assert_false (vcm_senders_has_left (senders, ":9.0"));
  g_assert_true (vcm_senders_has_left (senders, ":9.1"));
  g_assert_true (vcm_senders_has_left (senders, ":9." G_STRINGIFY (VCM_SENDERS_REMEMBERED)));
}

/* Whether @name has an owner on the bus, as the bus says now. */
static gboolean
has_owner (Fixture *f, const char *name)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) owner = g_dbus_connection_call_sync (
    f->client, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetNameOwner",
    g_variant_new ("(s)", name), NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);

  return owner != NULL;
}

/* Calls waiting for the main loop count against the bound in all only while
 * their sender is on the bus: connections that fill it with calls and hang
 * up (the main loop has not turned meanwhile) leave room for the next
 * caller, whose call is answered. */
VCM_TEST_FIXTURE ("/service/senders/gone-leave-room",
                  test_gone_senders_leave_room,
                  Fixture,
                  fixture_setup,
                  fixture_teardown)
{
  const char *service = g_dbus_connection_get_unique_name (f->service_conn);
  g_autoptr (GError) error = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autofree char *printed = NULL;

  for (guint i = 0; i < VCM_INTAKE_MAX / VCM_INTAKE_MAX_PER_SENDER; i++)
    {
      g_autoptr (GDBusConnection) conn = connect_to (f->bus);
      g_autofree char *name = g_strdup (g_dbus_connection_get_unique_name (conn));

      for (guint j = 0; j < VCM_INTAKE_MAX_PER_SENDER; j++)
        {
          g_autoptr (GDBusMessage) msg =
            g_dbus_message_new_method_call (service, VCM_OBJECT_PATH, VCM_INTERFACE, "IsSystemMount");

          g_dbus_message_set_body (msg, g_variant_new ("(s)", "/p"));
          g_dbus_message_set_flags (msg, G_DBUS_MESSAGE_FLAGS_NO_REPLY_EXPECTED);
          g_dbus_connection_send_message (conn, msg, G_DBUS_SEND_MESSAGE_FLAGS_NONE, NULL, &error);
          g_assert_no_error (error);
        }
      g_dbus_connection_flush_sync (conn, NULL, &error);
      g_assert_no_error (error);
      g_dbus_connection_close_sync (conn, NULL, &error);
      g_assert_no_error (error);
      /* (then the bus has sent the news of it to the service, before
       * anything sent from here later) */
      while (has_owner (f, name))
        ;
    }
  g_dbus_connection_call (f->client, service, VCM_OBJECT_PATH, VCM_INTERFACE, "IsSystemMount",
                          g_variant_new ("(s)", "/p"), NULL, G_DBUS_CALL_FLAGS_NONE, 10000, NULL,
                          on_reply, &result);
  /* (answered by GDBus where it reads the calls: the call above has been
   * let in, or refused, before the main loop takes any) */
  g_clear_pointer (&reply, g_variant_unref);
  reply = g_dbus_connection_call_sync (f->client, service, "/", "org.freedesktop.DBus.Peer", "Ping",
                                       NULL, NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  g_assert_no_error (error);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_clear_pointer (&reply, g_variant_unref);
  reply = g_dbus_connection_call_finish (f->client, result, &error);
  g_assert_no_error (error);
  printed = g_variant_print (reply, FALSE);
  g_assert_cmpstr (printed, ==, "(true,)");
}

VCM_TEST_MAIN (NULL, NULL, NULL);
