/* vcm-ctl-agent: polkit's text agent (pkttyagent) for the duration of a call,
 * spawned and awaited the way systemctl does it. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _VcmCtlAgent VcmCtlAgent;

/* Whether calls may ask for a password: stdin is a terminal and the user did
 * not say --no-ask-password. */
gboolean vcm_ctl_agent_wanted (gboolean no_ask_password);

/* Spawns `pkttyagent --notify-fd 3 --process PID` for this process
 * and waits until it has registered (it closes fd 3) or exited. Returns NULL
 * with no error when no agent is needed (the caller is root: root is always
 * authorized); NULL with @error set when it cannot be started. */
VcmCtlAgent *vcm_ctl_agent_start (GError **error);

/* Terminates the agent and reaps it. NULL is allowed. */
void vcm_ctl_agent_stop (VcmCtlAgent *agent);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VcmCtlAgent, vcm_ctl_agent_stop)

G_END_DECLS
