/* vcm-engine-private: what the real engine's files share: its state, the
 * state of one request in it (Op), the table of methods and its functions'
 * types (vcm-engine-methods.c: validate and prepare; vcm-engine-runs.c: run),
 * and the identities of the mounts it made. Not for anyone else. */
#pragma once

#include "vcm-admission.h"
#include "vcm-engine-list.h"
#include "vcm-engine.h"
#include "vcm-error.h"
#include "vcm-log.h"
#include "vcm-mounter.h"
#include "vcm-query.h"
#include "vcm-rootfs-manager.h"

G_BEGIN_DECLS

/* asked as well as the method's action for a writable mount of a tree the
 * caller does not own (vcm-mount-policy decides) */
#define ACTION_WRITE_FOREIGN "org.vc.mount.write-foreign"
/* asked as well as org.vc.mount.bind for a general bind or unmount in a
 * rootfs (vcm-layout decides) */
#define ACTION_MANAGE_ROOTFS "org.vc.mount.manage-rootfs"

#define DEFAULT_SHM_SIZE (G_GUINT64_CONSTANT (65536) * 1024)

/* The real engine's state (the instance private of VcmEngine). */
typedef struct {
  VcmEngine *object;        /* the engine itself (not a reference) */
  VcmRootfsManager *rootfs; /* the rootfs domain: mounter, watch, bookkeeping */
  gulong changed_id;
  VcmQuery *query;
  gboolean stopping;         /* shut down: requests in flight end "stopping" */
  GCancellable *cancellable; /* cancelled at shutdown */
  VcmAdmission *admission;   /* what users that are not root hold */
  VcmGate *resolving;        /* their requests resolving paths in worker threads */
  VcmGate *running;          /* their authorized requests being run in worker threads */
  GHashTable *identities;    /* mount point -> Known: the mounts this engine made */
} Engine;

/* What the engine knows of a mount it made (or recovered after a
 * restart): its mountinfo ID, to tell it from a later mount at the same
 * place, and its mount_info. */
typedef struct {
  guint64 old_id;
  GVariant *info;
} Known;

void known_free (Known *known);

typedef struct _MethodEntry MethodEntry;

/* What a request will do, resolved before it is authorized: in a worker
 * thread, with the caller's credentials, so that a path on a filesystem that
 * does not answer holds up that thread, not the service. */
typedef struct {
  /* in: what prepare may look at besides the arguments */
  GUnixFDList *fds;  /* the request's file descriptors, or NULL */
  VcmCaller *caller; /* who called */
  /* out */
  VcmMountRequest *req; /* mount and unmount methods */
  char *path;           /* path queries: normalized */
  VcmPathStat stat;     /* path queries: the path as the caller sees it */
  GHashTable *details;  /* what polkit is shown */
  char *message;
  int mount_fd;       /* OpenMount: the configured detached mount */
  GVariantDict *info; /* fd methods: the mount's identity so far */
} Prepared;

Prepared *prepared_new (VcmRequest *request);
void prepared_free (Prepared *prep);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Prepared, prepared_free)

/* One request in the engine (its engine_data): admitted, prepared, run. */
typedef struct _Op {
  Engine *self;
  VcmEngine *engine;   /* a reference */
  VcmRequest *request; /* (its owner) */
  const MethodEntry *entry;
  VcmCaller *caller; /* the request's */
  GVariant *params;  /* the request's */
  Prepared *prep;
  gboolean admitted;                  /* counted by the admission (not root) */
  gboolean tried_now;                 /* prepared here and now, or found it cannot be */
  guint n_fds;                        /* descriptors its message holds */
  VcmGateEntry resolving;             /* at the gate of worker threads that resolve */
  VcmGateEntry running;               /* at the gate of worker threads that run */
  GTask *task;                        /* the prepare or run under way */
  gulong cancel_id;                   /* on the task's cancellable while queued at a gate */
  GUnixFDList *reply_fds;             /* OpenMount: what the answer names */
  void (*start_run) (struct _Op *op); /* started when through the gate of runs */
  GAsyncReadyCallback run_done;       /* its run's completion */
  guint64 holdings_mark;              /* what was held when its run began (vcm_holdings_mark) */
} Op;

/* Checks the arguments' size and syntax, before anything else is done. */
typedef gboolean (*ValidateFunc) (GVariant *params, GError **error);
/* Resolves what the request will do into @out (its request or path, the
 * details and the prompt) with the caller's credentials @creds (NULL: root).
 * Runs in a worker thread: reads only what never changes. */
typedef gboolean (*PrepareFunc) (
  VcmMounter *mounter, GVariant *params, const VcmCredentials *creds, Prepared *out, GError **error);
/* Does it, authorized, and answers (op_return()): at once (FALSE), or later,
 * from a worker thread's result (TRUE: the run answers when it lands). */
typedef gboolean (*RunFunc) (Engine *self, Op *call, GVariant *params);

/* How a method is served: its functions from the table of
 * vcm-engine-methods.c, its polkit action and whether it resolves a
 * caller's path from the interface's XML (the annotations
 * org.vc.Mount.Action and org.vc.Mount.ResolvesCallerPath). */
struct _MethodEntry {
  const char *method;
  ValidateFunc validate;
  PrepareFunc prepare;
  RunFunc run;
  const char *action; /* NULL until read from the XML, and where it has none */
  gboolean resolves;  /* prepare resolves a caller's path: in a worker thread, counted */
};

/* Every method the engine serves, ENGINE_METHODS (X, X_PLAIN): generated
 * from the XML, the one list of methods, into vcm-engine-list.h. A row has
 * the method's D-Bus name and the stem of its functions: validate_STEM and
 * prepare_STEM (vcm-engine-methods.c, for an X row: a method with
 * arguments) and engine_run_STEM (vcm-engine-runs.c, for every row). A
 * method without arguments (X_PLAIN) has nothing to validate and the
 * default prepare, a query's: it is served only when its action is
 * org.vc.mount.query (else refused: its prompt would not say what it
 * does). Its action comes from the XML. */
#define ENGINE_DECLARE_RUN(Name, name) \
  gboolean engine_run_##name (Engine *self, Op *call, GVariant *params);
ENGINE_METHODS (ENGINE_DECLARE_RUN, ENGINE_DECLARE_RUN)

/* Prepares a request of root's into @out (its caller set) on the main loop,
 * where that asks no filesystem anything and starts no helper process: an
 * fd method (MountRootfsFd, BindMountFd) without an ID map, its fd's mount
 * in the service's mount namespace. TRUE when prepared; FALSE with @error,
 * which is G_IO_ERROR_WOULD_BLOCK where it cannot be done so (any other
 * method, any other caller, those cases): prepared in a worker thread then,
 * as every other request. Saves an fd call the hop to a worker thread that
 * a path's walk needs. */
gboolean engine_prepare_at_once (
  const MethodEntry *entry, VcmMounter *mounter, GVariant *params, Prepared *out, GError **error);

/* The entry of @method; NULL (refused) where the table or the XML lacks it,
 * or the XML names no action for it. */
const MethodEntry *vcm_engine_lookup_method (const char *method);

/* The answer of @call's run: @reply (the out arguments; floating taken), or
 * @error (taken). Either ends the run's task. */
void op_return (Op *call, GVariant *reply);
void op_return_error (Op *call, GError *error);

/* A mutating request is run in a worker thread, through the gate of runs
 * for a user that is not root: @start when through. */
void op_start_running (Op *call, void (*start) (Op *call));
/* @call's work landed: FALSE (the run answered "stopping") when the engine
 * stopped meanwhile. */
gboolean op_done_running (Op *call);

/* ---- identities (vcm-engine-runs.c) ---- */

/* What the engine kept of the mounts an unmount detached (@detached, their
 * mountinfo IDs @ids: NULL or in the same order, 0 where not known) goes:
 * their holdings (those counted by @mark, the unmount's holdings_mark),
 * the identity kept and recorded of the mount at @mount_point; a mount
 * made at the same path since keeps its own. */
void engine_mount_removed (
  Engine *self, const char *mount_point, GVariant *info, GStrv detached, GArray *ids, guint64 mark);

/* The signals "mount-added" and "mount-removed" (vcm-engine.c). */
void engine_emit_mount_added (Engine *self, GVariant *info);
void engine_emit_mount_removed (Engine *self, GVariant *info, GStrv detached);

G_END_DECLS
