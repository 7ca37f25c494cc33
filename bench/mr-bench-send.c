/* mr-bench-send: sends N prebuilt messages over C connections with Mailroom's SMTP client
 *
 * Usage: mr-bench-send HOST PORT MESSAGE_FILE N CONNECTIONS
 * Prints "mailroom: N messages over C connections in S s: R messages/s". Each connection runs in its
 * own thread and carries N/C messages (RSET between them), as a mailshot would.
 */

#include "config.h"

#include <stdlib.h>

#include "mr-smtp-client.h"

typedef struct {
  const char *host;
  guint16     port;
  GBytes     *message;
  guint       count;
  guint       sent;
  GError     *error;
} Worker;

static gpointer
run_worker (gpointer data)
{
  Worker *worker = data;
  g_autoptr(MrSmtpConfig) config = mr_smtp_config_new ();
  g_autoptr(MrSmtpClient) client = NULL;
  g_autoptr(MrSmtpEnvelope) envelope = mr_smtp_envelope_new ("bench@example.com");

  config->host = g_strdup (worker->host);
  config->port = worker->port;
  config->security = MR_SMTP_SECURITY_NONE;
  config->auth = MR_SMTP_AUTH_NONE;
  mr_smtp_envelope_add_recipient (envelope, "sink@example.com");
  client = mr_smtp_client_new (config);
  if (!mr_smtp_client_connect_sync (client, NULL, &worker->error))
    return NULL;
  for (guint i = 0; i < worker->count; i++)
    {
      g_autoptr(MrSmtpSendResult) result = mr_smtp_client_send_sync (client, envelope, worker->message, NULL, &worker->error);

      if (result == NULL)
        return NULL;
      worker->sent++;
    }
  mr_smtp_client_quit_sync (client, NULL, NULL);
  return NULL;
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  g_autoptr(GBytes) message = NULL;
  guint n, connections, sent = 0;
  gsize length;
  GThread **threads;
  Worker *workers;
  gint64 start, elapsed;

  if (argc != 6)
    {
      g_printerr ("Usage: %s HOST PORT MESSAGE_FILE N CONNECTIONS\n", argv[0]);
      return 64;
    }
  if (!g_file_get_contents (argv[3], &contents, &length, &error))
    {
      g_printerr ("%s\n", error->message);
      return 66;
    }
  message = g_bytes_new_take (g_steal_pointer (&contents), length);
  n = (guint) atoi (argv[4]);
  connections = (guint) atoi (argv[5]);

  threads = g_new0 (GThread *, connections);
  workers = g_new0 (Worker, connections);
  start = g_get_monotonic_time ();
  for (guint c = 0; c < connections; c++)
    {
      workers[c].host = argv[1];
      workers[c].port = (guint16) atoi (argv[2]);
      workers[c].message = message;
      workers[c].count = n / connections + (c < n % connections ? 1 : 0);
      threads[c] = g_thread_new ("sender", run_worker, &workers[c]);
    }
  for (guint c = 0; c < connections; c++)
    {
      g_thread_join (threads[c]);
      sent += workers[c].sent;
      if (workers[c].error != NULL)
        g_printerr ("connection %u: %s\n", c, workers[c].error->message);
    }
  elapsed = g_get_monotonic_time () - start;

  g_print ("mailroom: %u messages over %u connections in %.3f s: %.0f messages/s\n", sent, connections,
           elapsed / 1e6, sent / (elapsed / 1e6));
  for (guint c = 0; c < connections; c++)
    g_clear_error (&workers[c].error);
  g_free (threads);
  g_free (workers);
  return sent == n ? 0 : 1;
}
