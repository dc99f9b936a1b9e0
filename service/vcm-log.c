/* vcm-log: the service's structured journal entries about calls. */
#include "config.h"

#include "vcm-log.h"

void
vcm_log_op (GLogLevelFlags level, const char *message_id, VcmCaller *caller, const char *format, ...)
{
  va_list ap;
  g_autofree char *message = NULL;
  g_autofree char *uid = NULL;
  g_autofree char *pid = NULL;
  GLogField fields[6];
  gsize n = 0;

  va_start (ap, format);
  message = g_strdup_vprintf (format, ap);
  va_end (ap);

  fields[n++] = (GLogField){ "GLIB_DOMAIN", VCM_LOG_DOMAIN, -1 };
  fields[n++] = (GLogField){ "MESSAGE_ID", message_id, -1 };
  if (caller != NULL)
    {
      uid = g_strdup_printf ("%u", (guint) caller->uid);
      pid = g_strdup_printf ("%d", (int) caller->pid);
      fields[n++] = (GLogField){ "VCM_CALLER_UID", uid, -1 };
      fields[n++] = (GLogField){ "VCM_CALLER_PID", pid, -1 };
      fields[n++] = (GLogField){ "VCM_CALLER_NAME", caller->sender, -1 };
      g_autofree char *full =
        g_strdup_printf ("%s (caller uid %s pid %s %s)", message, uid, pid, caller->sender);
      g_free (message);
      message = g_steal_pointer (&full);
    }
  fields[n++] = (GLogField){ "MESSAGE", message, -1 };
  g_log_structured_array (level, fields, n);
}
