/* vcm-prompt: what polkit is shown of a call, computed from what the call
 * will do (the resolved request), never from its raw arguments: the details
 * a rule reads (one name per concept in every method) and the
 * authentication prompt (one line per value, each quoted, escaped and
 * shortened, so a caller cannot write text of its own into it). No D-Bus,
 * no polkit types: a detail table is string -> string. */
#pragma once

#include <glib.h>

#include "vcm-fdsource.h"
#include "vcm-mounter.h"
#include "vcm-mountopts.h"

G_BEGIN_DECLS

/* The detail names (see README, "Security model"). */
#define VCM_DETAIL_SANDBOX_ID    "sandbox_id"   /* the sandbox concerned ("" for none) */
#define VCM_DETAIL_CONTAINER_ID  "container_id" /* the container concerned ("" for none) */
#define VCM_DETAIL_SOURCE        "source"       /* what is mounted: the opened object's path */
#define VCM_DETAIL_MOUNT_POINT   "mount_point"  /* where: normalized, beneath the shared dir */
#define VCM_DETAIL_READ_ONLY     "read_only"    /* "true" or "false" */
#define VCM_DETAIL_SOURCE_OWNED  "source_owned" /* "true": the caller owns the source's top */
#define VCM_DETAIL_PATH          "path"         /* a query's path, normalized */
/* the fd-based methods add: */
#define VCM_DETAIL_SOURCE_DEVICE "source_device" /* MAJOR:MINOR of the source */
#define VCM_DETAIL_SOURCE_INODE  "source_inode"
#define VCM_DETAIL_SOURCE_OWNER  "source_owner" /* uid */
#define VCM_DETAIL_RECURSIVE     "recursive"    /* "true" or "false", as nosuid, nodev, noexec */
#define VCM_DETAIL_NOSUID        "nosuid"
#define VCM_DETAIL_NODEV         "nodev"
#define VCM_DETAIL_NOEXEC        "noexec"
#define VCM_DETAIL_PROPAGATION   "propagation" /* private, slave, shared or unbindable */
#define VCM_DETAIL_IDMAP         "idmap"       /* "" or u:FROM:TO:COUNT,g:...; "userns" */

/* The longest value a prompt shows whole; longer ones keep their start and
 * end around an ellipsis. */
#define VCM_PROMPT_MAX_VALUE 96

/* A mount or unmount request (MountRootfs, UnmountRootfs, BindMount, Unmount). */
GHashTable *vcm_prompt_request (const VcmMountRequest *req, char **out_message);
/* MountRootfsFd, BindMountFd and OpenMount: what vcm_prompt_request()
 * shows of @req, plus @source's identity and @options. */
GHashTable *vcm_prompt_fd_request (const VcmMountRequest *req,
                                   const VcmFdSource *source,
                                   const VcmMountOpts *options,
                                   char **out_message);

/* The ID map in force as its detail shows it: "" for none, else
 * u:FS:SHOWN:COUNT,...,g:... (a passed namespace's maps as the service read
 * them), once the map is resolved (@options->idmap_text). */
char *vcm_prompt_idmap (const VcmMountOpts *options);

/* UnmountSandbox of @sandbox_id (validated). */
GHashTable *vcm_prompt_sandbox (const char *sandbox_id, char **out_message);
/* A query; @path (normalized) for those that name one, else NULL. */
GHashTable *vcm_prompt_query (const char *path, char **out_message);

/* @value as a prompt shows it: in single quotes, printable ASCII as it is,
 * everything else (control characters, any character beyond ASCII, invalid
 * UTF-8 as U+FFFD), quotes, backslashes and '$' escaped, at most
 * VCM_PROMPT_MAX_VALUE characters of the value (start ... end). */
char *vcm_prompt_quote (const char *value);

G_END_DECLS
