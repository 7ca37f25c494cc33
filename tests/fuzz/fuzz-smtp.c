/* fuzz-smtp.c: the SMTP client against a server that says anything
 *
 * The input is everything the server sends on one connection: a thread accepts the client's
 * connection on 127.0.0.1, writes the input, closes its side and reads whatever the client sends
 * until it hangs up. The client connects (greeting, EHLO, AUTH with a password, with every
 * mechanism allowed so that all can be reached), sends a message to two recipients and quits.
 * Whatever the bytes, it must end with a clear error or success: no crash, leak or hang.
 */

#include "config.h"

#include <gio/gio.h>
#include <string.h>

#include "fuzz-common.h"
#include "mr-smtp-client.h"

typedef struct {
  GSocket       *listener;
  const guint8  *data;
  gsize          size;
} Serve;

static gpointer
serve (gpointer user_data)
{
  Serve *serve = user_data;
  g_autoptr(GSocket) peer = g_socket_accept (serve->listener, NULL, NULL);
  char buffer[4096];

  if (peer == NULL)
    return NULL;
  g_socket_set_timeout (peer, 5);
  for (gsize sent = 0; sent < serve->size;)
    {
      gssize n = g_socket_send (peer, (const char *) serve->data + sent, serve->size - sent, NULL, NULL);

      if (n <= 0)
        break;
      sent += n;
    }
  g_socket_shutdown (peer, FALSE, TRUE, NULL);
  while (g_socket_receive (peer, buffer, sizeof buffer, NULL, NULL) > 0)
    ;
  return NULL;
}

static GSocket *
listener (guint16 *port)
{
  static GSocket *socket;
  static guint16 bound;

  if (socket == NULL)
    {
      g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
      g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
      g_autoptr(GSocketAddress) local = NULL;

      socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
      g_assert (socket != NULL);
      g_assert (g_socket_bind (socket, address, TRUE, NULL));
      g_assert (g_socket_listen (socket, NULL));
      local = g_socket_get_local_address (socket, NULL);
      bound = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
    }
  *port = bound;
  return socket;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(MrSmtpConfig) config = mr_smtp_config_new ();
  g_autoptr(MrSmtpClient) client = NULL;
  g_autoptr(MrSmtpEnvelope) envelope = mr_smtp_envelope_new ("office@example.com");
  g_autoptr(GBytes) message = NULL;
  static const char text[] = "From: office@example.com\r\nTo: ann@example.org\r\nSubject: x\r\n\r\nHello.\r\n.dot\r\n";
  Serve job = { NULL, data, size };
  GThread *thread;
  guint16 port = 0;

  job.listener = listener (&port);
  thread = g_thread_new ("fuzz-smtp-server", serve, &job);

  config->host = g_strdup ("127.0.0.1");
  config->port = port;
  config->security = MR_SMTP_SECURITY_NONE;
  config->auth = size > 0 && data[0] & 1 ? MR_SMTP_AUTH_PASSWORD : MR_SMTP_AUTH_NONE;
  config->allow_plaintext_auth = TRUE;
  config->username = g_strdup ("tim");
  config->secret = g_strdup ("correct horse");
  config->timeout_connect_ms = config->timeout_greeting_ms = config->timeout_command_ms = config->timeout_data_ms = 5000;
  client = mr_smtp_client_new (config);
  mr_smtp_envelope_add_recipient (envelope, "ann@example.org");
  mr_smtp_envelope_add_recipient (envelope, "bob@example.org");
  message = g_bytes_new_static (text, sizeof text - 1);

  {
    g_autoptr(GError) error = NULL;

    if (mr_smtp_client_connect_sync (client, NULL, &error))
      {
        MrSmtpSendResult *result = mr_smtp_client_send_sync (client, envelope, message, NULL, &error);

        g_assert ((result == NULL) == (error != NULL));
        g_clear_pointer (&result, mr_smtp_send_result_free);
        mr_smtp_client_quit_sync (client, NULL, NULL);
      }
    /* Every failure is one a person is told about: an SMTP error with advice. */
    if (error != NULL)
      {
        g_assert (error->domain == MR_SMTP_ERROR);
        g_assert (error->message != NULL && error->message[0] != '\0');
        g_assert (g_utf8_validate (error->message, -1, NULL));
      }
  }
  g_free (mr_smtp_client_dup_transcript (client));
  g_clear_object (&client);
  g_thread_join (thread);
  return 0;
}
