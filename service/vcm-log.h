/* vcm-log: the service's journal entries about calls: structured, with a
 * MESSAGE_ID per kind and the caller's uid, pid and bus name as fields. */
#pragma once

#include <glib.h>

#include "vcm-auth.h"

G_BEGIN_DECLS

/* journal MESSAGE_IDs */
#define MSGID_MOUNTED   "8c1e4b7f0a3d4c52b1f9e2a6d7c30511"
#define MSGID_UNMOUNTED "8c1e4b7f0a3d4c52b1f9e2a6d7c30512"
#define MSGID_REFUSED   "8c1e4b7f0a3d4c52b1f9e2a6d7c30513"
#define MSGID_FAILED    "8c1e4b7f0a3d4c52b1f9e2a6d7c30514"
#define MSGID_FOREIGN   "8c1e4b7f0a3d4c52b1f9e2a6d7c30515"

/* Logs the formatted message with @message_id and, where @caller is not
 * NULL, who called (in the fields and at the end of the message). */
void
vcm_log_op (GLogLevelFlags level, const char *message_id, VcmCaller *caller, const char *format, ...)
  G_GNUC_PRINTF (4, 5);

G_END_DECLS
