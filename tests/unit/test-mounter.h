/* test-mounter: what the parts of the mounter's unit test share: the
 * fixture (a tmpfs world and a mounter per test), snapshots of what must not
 * change, the refusal helpers, and each part's registration. */
#pragma once

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "vcm-error.h"
#include "vcm-fd.h"
#include "vcm-mount-policy.h"
#include "vcm-mounter.h"
#include "vcm-mounttable.h"
#include "vcm-sys.h"
#include "vcm-test-util.h"
#include "vcm-testing.h"

/* set by meson for the run of every case on the classic mount(2) path */
#define LEGACY_ENV "VCM_TEST_LEGACY_MOUNT_API"

typedef struct {
  VcmTestWorld *w;
  VcmMounter *m;
  gboolean legacy;
} Fixture;

typedef struct {
  char *mounts;  /* mountinfo lines beneath the world */
  char *outside; /* the outside dir's tree */
  char *shared;  /* the shared dir's tree */
} Snap;

void snap_clear (Snap *s);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Snap, snap_clear)

typedef void (*FixtureFunc) (Fixture *, gconstpointer);

/* Registers @fn under /mounter/API@path. */
void test_mounter_add (const char *path, FixtureFunc fn);

char *in (const char *dir, const char *rel);

void refused_bind (Fixture *f, const char *source, const char *dest, int code, const char *arg);

void refused_rootfs (
  Fixture *f, const char *sbx, const char *cid, const char *rootfs, int code, const char *arg);

void refused_unmount (Fixture *f, const char *mount_point, int code);

void refused_unmount_rootfs (Fixture *f, const char *sbx, const char *cid, int code, const char *arg);

void snap_assert_same (Fixture *f, Snap *before);

void snap_clear (Snap *s);

/* A snapshot is a value (g_auto(Snap)): its strings are all it owns. */
Snap snap_take (Fixture *f);

/* A call that should have been refused succeeded: say where it mounted, and
 * detach that again so that the rest of the test still means something. */
void unexpected_success (Fixture *f, Snap *before, const char *call);

/* Each part's tests (test-mounter-attacks.c, -paths.c, -policy.c). */
void test_mounter_add_attacks (void);
void test_mounter_add_paths (void);
void test_mounter_add_policy (void);
void test_mounter_add_ids (void);
