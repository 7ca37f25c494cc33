/* mr-bench-async: the other design for a mailshot's connections: one thread, N sessions
 *
 * Usage: mr-bench-async HOST PORT MESSAGE_FILE N CONNECTIONS
 * Prints "async: N messages over C connections in S s: R messages/s".
 *
 * mr-bench-send measures Mailroom's design: one blocking MrSmtpClient a thread. This is the design
 * issue 16 asked to measure beside it: every session non-blocking on one GMainContext (a GSocket
 * source each), the transaction pipelined as MrSmtpClient pipelines it (RSET, MAIL, RCPT and DATA
 * in one write, the message dot-stuffed once, then its end), so that the two differ only in how the
 * waiting is done. It is deliberately the lightest such client (no TLS, no transcript, replies only
 * counted and their codes checked): what it reaches bounds what an asynchronous MrSmtpClient could
 * gain. It needs a server that offers PIPELINING (smtp-sink does).
 */

#include "config.h"

#include <gio/gio.h>
#include <stdlib.h>
#include <string.h>

#include "mr-smtp-client.h"

typedef struct Bench Bench;

typedef struct {
  Bench    *bench;
  GSocket  *socket;
  GSource  *source;
  GString  *in;
  guint     remaining;
  guint     replies;     /* replies still awaited for this step */
  gboolean  in_data;     /* the envelope is answered, the message sent: waiting for its 250 */
  gboolean  first;
} Session;

struct Bench {
  GMainLoop *loop;
  GBytes    *data;       /* the message, dot-stuffed, with its end */
  guint      open;       /* sessions still sending */
  guint      sent;
  gboolean   failed;
};

static gboolean
send_all (GSocket    *socket,
          const char *data,
          gsize       length)
{
  while (length > 0)
    {
      g_autoptr(GError) error = NULL;
      gssize n = g_socket_send (socket, data, length, NULL, &error);

      if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        {
          if (!g_socket_condition_wait (socket, G_IO_OUT, NULL, NULL))
            return FALSE;
          continue;
        }
      if (n < 0)
        {
          g_printerr ("send: %s\n", error->message);
          return FALSE;
        }
      data += n;
      length -= (gsize) n;
    }
  return TRUE;
}

/* Blocking, before the session goes non-blocking: the reply to the greeting or to EHLO. */
static gboolean
read_reply_blocking (GSocket *socket,
                     GString *in)
{
  for (;;)
    {
      char buffer[4096];
      const char *line = in->str;
      const char *end;
      gssize n;

      while ((end = strstr (line, "\r\n")) != NULL)
        {
          gboolean last = end - line >= 4 && line[3] == ' ';
          gboolean ok = line[0] == '2';

          line = end + 2;
          if (last)
            {
              g_string_erase (in, 0, line - in->str);
              return ok;
            }
        }
      n = g_socket_receive (socket, buffer, sizeof buffer, NULL, NULL);
      if (n <= 0)
        return FALSE;
      g_string_append_len (in, buffer, n);
    }
}

static void
start_message (Session *session)
{
  static const char envelope[] = "MAIL FROM:<bench@example.com>\r\nRCPT TO:<sink@example.com>\r\nDATA\r\n";
  g_autofree char *commands = g_strconcat (session->first ? "" : "RSET\r\n", envelope, NULL);

  session->replies = session->first ? 3 : 4;
  session->first = FALSE;
  session->in_data = FALSE;
  if (!send_all (session->socket, commands, strlen (commands)))
    session->bench->failed = TRUE;
}

static void
session_done (Session *session)
{
  send_all (session->socket, "QUIT\r\n", 6);
  g_source_destroy (session->source);
  if (--session->bench->open == 0)
    g_main_loop_quit (session->bench->loop);
}

/* A reply has come: the next step of the transaction. */
static gboolean
on_reply (Session    *session,
          const char *line)
{
  Bench *bench = session->bench;

  if (--session->replies > 0)
    return line[0] == '2';
  if (!session->in_data)
    {
      gsize length;
      const char *data = g_bytes_get_data (bench->data, &length);

      if (strncmp (line, "354", 3) != 0 || !send_all (session->socket, data, length))
        return FALSE;
      session->in_data = TRUE;
      session->replies = 1;
      return TRUE;
    }
  if (line[0] != '2')
    return FALSE;
  bench->sent++;
  if (--session->remaining == 0)
    session_done (session);
  else
    start_message (session);
  return TRUE;
}

static gboolean
on_readable (GSocket      *socket,
             GIOCondition  condition,
             gpointer      user_data)
{
  Session *session = user_data;
  char buffer[4096];
  gssize n = g_socket_receive (socket, buffer, sizeof buffer, NULL, NULL);
  const char *line, *end;

  if (n <= 0)
    {
      g_printerr ("connection lost\n");
      session->bench->failed = TRUE;
      g_main_loop_quit (session->bench->loop);
      return G_SOURCE_REMOVE;
    }
  g_string_append_len (session->in, buffer, n);
  line = session->in->str;
  while (session->remaining > 0 && (end = strstr (line, "\r\n")) != NULL)
    {
      gboolean last = end - line >= 4 && line[3] == ' ';
      g_autofree char *text = g_strndup (line, end - line);

      line = end + 2;
      if (last && !on_reply (session, text))
        {
          g_printerr ("refused: %s\n", text);
          session->bench->failed = TRUE;
          g_main_loop_quit (session->bench->loop);
          return G_SOURCE_REMOVE;
        }
    }
  g_string_erase (session->in, 0, line - session->in->str);
  return G_SOURCE_CONTINUE;
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GBytes) message = NULL;
  GByteArray *prepared;
  gboolean eight_bit;
  Bench bench = { NULL };
  Session *sessions;
  guint n, connections;
  gsize length;
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
  /* CRLF line ends, dot-stuffing, the end: MrSmtpClient's own preparation of a message. */
  message = g_bytes_new_take (g_steal_pointer (&contents), length);
  prepared = mr_smtp_prepare_data (message, &eight_bit, &error);
  if (prepared == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 65;
    }
  bench.data = g_byte_array_free_to_bytes (prepared);
  n = (guint) atoi (argv[4]);
  connections = (guint) atoi (argv[5]);
  bench.loop = g_main_loop_new (NULL, FALSE);
  sessions = g_new0 (Session, connections);

  start = g_get_monotonic_time ();
  for (guint c = 0; c < connections; c++)
    {
      Session *session = &sessions[c];
      GSocketConnection *connection = g_socket_client_connect_to_host (client, argv[1], (guint16) atoi (argv[2]), NULL,
                                                                       &error);

      if (connection == NULL)
        {
          g_printerr ("%s\n", error->message);
          return 69;
        }
      session->bench = &bench;
      session->socket = g_object_ref (g_socket_connection_get_socket (connection));
      g_object_set_data_full (G_OBJECT (session->socket), "connection", connection, g_object_unref);
      session->in = g_string_new (NULL);
      session->remaining = n / connections + (c < n % connections ? 1 : 0);
      session->first = TRUE;
      if (!read_reply_blocking (session->socket, session->in) ||
          !send_all (session->socket, "EHLO bench.example.com\r\n", 24) ||
          !read_reply_blocking (session->socket, session->in))
        {
          g_printerr ("the server did not greet\n");
          return 69;
        }
      g_socket_set_blocking (session->socket, FALSE);
      if (session->remaining == 0)
        continue;
      bench.open++;
      session->source = g_socket_create_source (session->socket, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
      g_source_set_callback (session->source, G_SOURCE_FUNC (on_readable), session, NULL);
      g_source_attach (session->source, NULL);
      start_message (session);
    }
  if (bench.open > 0 && !bench.failed)
    g_main_loop_run (bench.loop);
  elapsed = g_get_monotonic_time () - start;

  g_print ("async: %u messages over %u connections in %.3f s: %.0f messages/s\n", bench.sent, connections,
           elapsed / 1e6, bench.sent / (elapsed / 1e6));
  for (guint c = 0; c < connections; c++)
    {
      if (sessions[c].source != NULL)
        g_source_unref (sessions[c].source);
      g_clear_object (&sessions[c].socket);
      if (sessions[c].in != NULL)
        g_string_free (sessions[c].in, TRUE);
    }
  g_free (sessions);
  g_main_loop_unref (bench.loop);
  g_bytes_unref (bench.data);
  return bench.sent == n && !bench.failed ? 0 : 1;
}
