/* vcm-fake-service: a scripted org.vc.Mount on a private bus, for the unit
 * tests of libvcmount: it holds a rootfs table and a generation like the
 * real service, and the test decides which signals go out, when ListRootfs
 * answers, and when the service restarts. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _FakeBus FakeBus;

typedef struct {
  char *address;                  /* the bus */
  FakeBus *bus;                   /* the bus's daemon, when the fake has one of its own */
  GDBusConnection *conn;          /* NULL while "stopped" */
  struct _VcmFakeMount *skeleton; /* exported on conn */
  GHashTable *mounts;             /* "sandbox\ncontainer" -> FakeMount */
  guint64 generation;
  gboolean hold_lists; /* keep ListRootfs calls until fake_service_release_lists() */
  GPtrArray *held;     /* HeldList */
  guint n_list_calls;
  guint fail_lists;             /* answer that many ListRootfs calls with Failed */
  char *next_error;             /* the D-Bus error name the next other call returns */
  GDBusMessageFlags last_flags; /* of the last method call */
  char *last_method;
  GVariant *last_options;    /* of the last fd-based call, userns as "userns-inode" (t) */
  guint64 last_source_inode; /* of the fd the last fd-based call passed */
} FakeService;

typedef struct {
  char *sandbox_id;
  char *container_id;
  char *mount_point;
  gboolean read_only;
} FakeMount;

/* A private bus for one test: a dbus-daemon with the session bus's rules,
 * that dies with the test process even when the test aborts. */
struct _FakeBus {
  GSubprocess *daemon;
  char *address;
};

FakeBus *fake_bus_new (void);
void fake_bus_free (FakeBus *bus);
/* A new connection to the bus at @address (aborts the test on failure). */
GDBusConnection *fake_bus_connect (const char *address);

/* Connects to @address and owns org.vc.Mount (aborts the test on failure). */
FakeService *fake_service_new (const char *address);
/* The same on a private bus of its own, which goes with the fake: what
 * each test of the library starts from. */
FakeService *fake_service_new_on_private_bus (void);
void fake_service_free (FakeService *fake);
/* Leaves the bus (the name goes away); the table stays, like the kernel's. */
void fake_service_stop (FakeService *fake);
/* A new instance: a new connection owns the name, the generation is 0.
 * With @replace, it takes the name from the running instance (which is
 * stopped right after) instead of waiting for it to be free. */
void fake_service_start (FakeService *fake, gboolean replace);

/* Changes of the table: each bumps the generation by one and emits the
 * signal only when @emit (else the signal is "lost"). */
void fake_service_mount (FakeService *fake,
                         const char *sandbox_id,
                         const char *container_id,
                         gboolean read_only,
                         gboolean emit);
void fake_service_unmount (FakeService *fake,
                           const char *sandbox_id,
                           const char *container_id,
                           gboolean emit);
/* RootfsChanged: "remounted" flips read-only, "vanished" removes the rootfs,
 * the submount changes leave the table as it is. */
void fake_service_change (FakeService *fake,
                          const char *sandbox_id,
                          const char *container_id,
                          const char *change,
                          gboolean emit);
/* Bumps the generation by @n without any signal. */
void fake_service_skip (FakeService *fake, guint n);

/* Answers the held ListRootfs calls: with the table as it was when each was
 * asked (@as_asked), or as it is now. */
void fake_service_release_lists (FakeService *fake, gboolean as_asked);

/* ListRootfs's answer "(ta(sssb))" for @sandbox_id ("" = all), sorted. */
GVariant *fake_service_list (FakeService *fake, const char *sandbox_id);

/* The inode of an open file: what the fake notes of the descriptors it
 * gets, for the tests to compare with theirs. */
guint64 fake_inode_of (int fd);

/* Whether `unshare --user --map-user=1000 --map-group=1000` works here: a
 * user namespace where the process is uid 1000 and the bus sees the real
 * uid. */
gboolean fake_user_namespace_available (void);

G_END_DECLS
