/* client-fixture: what the tests of VcmClient and VcmRootfsSet share: a
 * private bus with the scripted fake service on it, a client of it, and
 * waits for an answer or a signal bounded by VCM_TEST_TIMEOUT_MULTIPLIER.
 * Included by each test program (static: one copy in each). */
#pragma once

#include <vcmount.h>

#include "vcm-fake-service.h"
#include "wait-until.h"

typedef struct {
  FakeService *fake; /* on a private bus of its own */
  GDBusConnection *conn;
  VcmClient *client;
} ClientFixture;

static void
client_fixture_set_up (ClientFixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  fx->fake = fake_service_new_on_private_bus ();
  fx->conn = fake_bus_connect (fx->fake->address);
  fx->client = vcm_client_new_sync (fx->conn, NULL, &error);
  g_assert_no_error (error);
}

static void
client_fixture_tear_down (ClientFixture *fx, gconstpointer data)
{
  g_clear_object (&fx->client);
  g_dbus_connection_close_sync (fx->conn, NULL, NULL);
  g_clear_object (&fx->conn);
  fake_service_free (fx->fake);
}

static void
on_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  GAsyncResult **out = user_data;

  g_assert_true (VCM_IS_CLIENT (source));
  *out = g_object_ref (res);
}

/* Runs an async call to its end: the result of `call`, finished with `finish`. */
#define RUN_ASYNC(res, call) \
  G_STMT_START \
  { \
    g_clear_object (&res); \
    call; \
    WAIT_UNTIL (res != NULL); \
  } \
  G_STMT_END
