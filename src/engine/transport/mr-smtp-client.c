/* mr-smtp-client.c: an SMTP client on GIO
 *
 * The protocol is written as blocking calls on one connection and run in a worker thread by the
 * _async functions: one SMTP dialogue is a strict sequence, and this keeps it readable. Every read
 * has a deadline in milliseconds and honours the GCancellable.
 *
 * Over 1,000 lines, and kept whole: each step of the dialogue (replies read against deadlines, TLS
 * and its pinning, EHLO, STARTTLS, AUTH, a transaction pipelined with each recipient's outcome)
 * works on the same connection's state, and a reader follows one reply from the socket to the error
 * in words without leaving the file.
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "mr-sasl.h"
#include "mr-smtp-client.h"

#define MAX_REPLY_LINE 4096
#define MAX_DATA_LINE  998
#define MAX_TRANSCRIPT (256 * 1024)
/* A reply longer than this is an attack or a broken server: real EHLO replies have about a dozen
 * lines, and the longest refusals a few. */
#define MAX_REPLY_LINES 1000
#define MAX_REPLY_BYTES (1024 * 1024)

/* What the client is waiting for; each has its own timeout, and a timeout names it. */
typedef enum {
  WAIT_CONNECT,     /* TCP, and for implicit TLS the handshake */
  WAIT_GREETING,    /* the server's 220 (RFC 5321 4.5.3.2.1: 5 minutes) */
  WAIT_REPLY,       /* a command's reply */
  WAIT_DATA,        /* the message's data and the reply to its end */
} Wait;

struct _MrSmtpClient
{
  GObject             parent_instance;

  MrSmtpConfig       *config;
  GMutex              transcript_lock;
  GString            *transcript;

  GSocketConnection  *tcp;
  GSocket            *socket;
  GIOStream          *stream;         /* tcp, or the TLS connection over it */
  GByteArray         *inbuf;
  gsize               inpos;          /* what of inbuf was read already */
  Wait                wait;
  MrSmtpServerInfo    info;
  MrCertificateInfo  *certificate;
  gboolean            connected;
  gboolean            busy;
  guint               transactions;
};

G_DEFINE_FINAL_TYPE (MrSmtpClient, mr_smtp_client, G_TYPE_OBJECT)

typedef struct {
  guint      code;
  char      *enhanced;   /* "5.7.8", or NULL */
  char      *text;       /* all lines' text, joined by newlines, enhanced code removed from the first */
  GPtrArray *lines;      /* each line's text */
} Reply;

static void
reply_free (Reply *reply)
{
  if (reply == NULL)
    return;
  g_free (reply->enhanced);
  g_free (reply->text);
  g_ptr_array_unref (reply->lines);
  g_free (reply);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Reply, reply_free)

/* ---- Config, envelope, results ---------------------------------------------------------------- */

MrSmtpConfig *
mr_smtp_config_new (void)
{
  MrSmtpConfig *config = g_new0 (MrSmtpConfig, 1);

  config->port = 587;
  config->security = MR_SMTP_SECURITY_STARTTLS;
  config->auth = MR_SMTP_AUTH_PASSWORD;
  /* RFC 5321 4.5.3.2: 5 minutes for commands, 10 for the end of DATA. */
  config->timeout_connect_ms = 60000;
  config->timeout_greeting_ms = 300000;
  config->timeout_command_ms = 300000;
  config->timeout_data_ms = 600000;
  return config;
}

MrSmtpConfig *
mr_smtp_config_copy (const MrSmtpConfig *config)
{
  MrSmtpConfig *copy = g_memdup2 (config, sizeof *config);

  copy->host = g_strdup (config->host);
  copy->username = g_strdup (config->username);
  copy->secret = g_strdup (config->secret);
  copy->trust_file = g_strdup (config->trust_file);
  copy->fingerprint = g_strdup (config->fingerprint);
  copy->helo_name = g_strdup (config->helo_name);
  return copy;
}

void
mr_smtp_config_free (MrSmtpConfig *config)
{
  if (config == NULL)
    return;
  g_free (config->host);
  g_free (config->username);
  if (config->secret != NULL)
    explicit_bzero (config->secret, strlen (config->secret));
  g_free (config->secret);
  g_free (config->trust_file);
  g_free (config->fingerprint);
  g_free (config->helo_name);
  g_free (config);
}

MrSmtpEnvelope *
mr_smtp_envelope_new (const char *from)
{
  MrSmtpEnvelope *envelope = g_new0 (MrSmtpEnvelope, 1);

  envelope->from = g_strdup (from ? from : "");
  envelope->recipients = g_ptr_array_new_with_free_func (g_free);
  return envelope;
}

void
mr_smtp_envelope_add_recipient (MrSmtpEnvelope *envelope,
                                const char     *address)
{
  for (guint i = 0; i < envelope->recipients->len; i++)
    if (g_ascii_strcasecmp (g_ptr_array_index (envelope->recipients, i), address) == 0)
      return;
  g_ptr_array_add (envelope->recipients, g_strdup (address));
}

MrSmtpEnvelope *
mr_smtp_envelope_copy (const MrSmtpEnvelope *envelope)
{
  MrSmtpEnvelope *copy = mr_smtp_envelope_new (envelope->from);

  for (guint i = 0; i < envelope->recipients->len; i++)
    g_ptr_array_add (copy->recipients, g_strdup (g_ptr_array_index (envelope->recipients, i)));
  copy->dsn_notify = g_strdup (envelope->dsn_notify);
  copy->dsn_envid = g_strdup (envelope->dsn_envid);
  return copy;
}

void
mr_smtp_envelope_free (MrSmtpEnvelope *envelope)
{
  if (envelope == NULL)
    return;
  g_free (envelope->from);
  g_ptr_array_unref (envelope->recipients);
  g_free (envelope->dsn_notify);
  g_free (envelope->dsn_envid);
  g_free (envelope);
}

void
mr_smtp_send_result_free (MrSmtpSendResult *result)
{
  if (result == NULL)
    return;
  g_ptr_array_unref (result->accepted);
  g_ptr_array_unref (result->refused);
  g_clear_pointer (&result->deferred, g_ptr_array_unref);
  g_free (result->final_reply);
  g_free (result);
}

void
mr_smtp_split_refusal (const char  *entry,
                       char       **address,
                       char       **reply)
{
  /* The address is the envelope's, as validated: the reply follows the first ": ". */
  const char *colon = strstr (entry, ": ");

  *address = colon ? g_strndup (entry, colon - entry) : g_strdup (entry);
  *reply = colon ? g_strdup (colon + 2) : NULL;
}

static void
certificate_info_free (MrCertificateInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->subject);
  g_free (info->issuer);
  g_clear_pointer (&info->not_before, g_date_time_unref);
  g_clear_pointer (&info->not_after, g_date_time_unref);
  g_free (info->sha256);
  g_free (info->problems);
  g_free (info);
}

static void
server_info_clear_extensions (MrSmtpServerInfo *info)
{
  g_clear_pointer (&info->ehlo_domain, g_free);
  g_clear_pointer (&info->extensions, g_strfreev);
  g_clear_pointer (&info->auth_mechanisms, g_strfreev);
  info->size_limit = 0;
  info->pipelining = info->eight_bit_mime = info->smtputf8 = FALSE;
  info->enhanced_status_codes = info->dsn = FALSE;
}

static void
server_info_clear (MrSmtpServerInfo *info)
{
  server_info_clear_extensions (info);
  g_clear_pointer (&info->greeting, g_free);
  g_clear_pointer (&info->tls_version, g_free);
  g_clear_pointer (&info->tls_cipher, g_free);
  g_clear_pointer (&info->auth_mechanism, g_free);
  g_clear_pointer (&info->authenticated_as, g_free);
  info->tls = FALSE;
}

/* ---- GObject ---------------------------------------------------------------------------------- */

static void
close_connection (MrSmtpClient *self)
{
  if (self->stream != NULL)
    g_io_stream_close (self->stream, NULL, NULL);
  if (self->tcp != NULL && G_IO_STREAM (self->tcp) != self->stream)
    g_io_stream_close (G_IO_STREAM (self->tcp), NULL, NULL);
  g_clear_object (&self->stream);
  g_clear_object (&self->tcp);
  self->socket = NULL;
  g_byte_array_set_size (self->inbuf, 0);
  self->inpos = 0;
  self->connected = FALSE;
}

static void
mr_smtp_client_finalize (GObject *object)
{
  MrSmtpClient *self = MR_SMTP_CLIENT (object);

  close_connection (self);
  g_byte_array_unref (self->inbuf);
  server_info_clear (&self->info);
  certificate_info_free (self->certificate);
  mr_smtp_config_free (self->config);
  g_string_free (self->transcript, TRUE);
  g_mutex_clear (&self->transcript_lock);

  G_OBJECT_CLASS (mr_smtp_client_parent_class)->finalize (object);
}

static void
mr_smtp_client_class_init (MrSmtpClientClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mr_smtp_client_finalize;
}

static void
mr_smtp_client_init (MrSmtpClient *self)
{
  g_mutex_init (&self->transcript_lock);
  self->transcript = g_string_new (NULL);
  self->inbuf = g_byte_array_new ();
}

MrSmtpClient *
mr_smtp_client_new (const MrSmtpConfig *config)
{
  MrSmtpClient *self = g_object_new (MR_TYPE_SMTP_CLIENT, NULL);

  self->config = mr_smtp_config_copy (config);
  return self;
}

const MrSmtpServerInfo *
mr_smtp_client_get_server_info (MrSmtpClient *self)
{
  return &self->info;
}

const MrCertificateInfo *
mr_smtp_client_get_certificate (MrSmtpClient *self)
{
  return self->certificate;
}

gboolean
mr_smtp_client_is_connected (MrSmtpClient *self)
{
  return self->connected && self->stream != NULL;
}

char *
mr_smtp_client_dup_transcript (MrSmtpClient *self)
{
  char *copy;

  g_mutex_lock (&self->transcript_lock);
  copy = g_strdup (self->transcript->str);
  g_mutex_unlock (&self->transcript_lock);
  return copy;
}

static void
log_line (MrSmtpClient *self,
          const char   *who,
          const char   *line)
{
  /* The transcript is shown as text: a server's bytes are made valid UTF-8 first. */
  g_autofree char *valid = g_utf8_validate (line, -1, NULL) ? NULL : g_utf8_make_valid (line, -1);

  g_mutex_lock (&self->transcript_lock);
  g_string_append_printf (self->transcript, "%s: %s\n", who, valid ? valid : line);
  /* A connection that carries a whole mailshot keeps only its recent past. */
  if (self->transcript->len > MAX_TRANSCRIPT)
    {
      const char *cut = strchr (self->transcript->str + self->transcript->len / 2, '\n');

      if (cut != NULL)
        {
          g_string_erase (self->transcript, 0, cut + 1 - self->transcript->str);
          g_string_prepend (self->transcript, "*: (earlier lines left out)\n");
        }
    }
  g_mutex_unlock (&self->transcript_lock);
}

/* ---- Errors from GIO -------------------------------------------------------------------------- */

static guint
wait_ms (MrSmtpClient *self,
         Wait          wait)
{
  switch (wait)
    {
    case WAIT_CONNECT: return self->config->timeout_connect_ms;
    case WAIT_GREETING: return self->config->timeout_greeting_ms;
    case WAIT_DATA: return self->config->timeout_data_ms;
    case WAIT_REPLY:
    default: return self->config->timeout_command_ms;
    }
}

/* The timeout that expired, by name: each wait has its own setting. */
static gboolean
timed_out (MrSmtpClient *self,
           GError      **error)
{
  guint ms = wait_ms (self, self->wait);
  g_autofree char *detail = NULL;

  switch (self->wait)
    {
    case WAIT_CONNECT:
      detail = g_strdup_printf (_("No connection to %s within %u ms (the connection timeout)."), self->config->host, ms);
      break;
    case WAIT_GREETING:
      detail = g_strdup_printf (_("%s did not greet within %u ms (the greeting timeout)."), self->config->host, ms);
      break;
    case WAIT_DATA:
      detail = g_strdup_printf (_("%s did not take the message within %u ms (the message timeout)."),
                                self->config->host, ms);
      break;
    case WAIT_REPLY:
    default:
      detail = g_strdup_printf (_("No answer from %s within %u ms (the reply timeout)."), self->config->host, ms);
      break;
    }
  mr_smtp_set_error (error, MR_SMTP_ERROR_TIMEOUT, 0, NULL, NULL, detail);
  log_line (self, "*", detail);
  close_connection (self);
  return FALSE;
}

static gboolean
io_failed (MrSmtpClient *self,
           GError       *local_error,
           GError      **error)
{
  if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_propagate_error (error, local_error);
      close_connection (self);
      return FALSE;
    }
  if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    {
      g_error_free (local_error);
      return timed_out (self, error);
    }
  if (local_error->domain == G_TLS_ERROR)
    mr_smtp_set_error (error, MR_SMTP_ERROR_TLS_FAILED, 0, NULL, NULL, local_error->message);
  else
    mr_smtp_set_error (error, MR_SMTP_ERROR_CONNECTION_LOST, 0, NULL, NULL, local_error->message);
  log_line (self, "*", local_error->message);
  g_error_free (local_error);
  close_connection (self);
  return FALSE;
}

/* ---- Reading and writing ---------------------------------------------------------------------- */

static gint64
deadline_after (guint timeout_ms)
{
  return g_get_monotonic_time () + (gint64) timeout_ms * 1000;
}

/* Reads what is there, waiting until @deadline. 0 at the end of the stream. */
static gssize
read_some (MrSmtpClient  *self,
           guint8        *buffer,
           gsize          size,
           gint64         deadline,
           GCancellable  *cancellable,
           GError       **error)
{
  GInputStream *in = g_io_stream_get_input_stream (self->stream);

  while (TRUE)
    {
      GError *local_error = NULL;
      gssize n;
      gint64 remaining;

      n = g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (in), buffer, size, cancellable, &local_error);
      if (n >= 0)
        return n;
      if (!g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        {
          io_failed (self, local_error, error);
          return -1;
        }
      g_clear_error (&local_error);

      remaining = deadline - g_get_monotonic_time ();
      if (remaining <= 0)
        {
          timed_out (self, error);
          return -1;
        }
      if (!g_socket_condition_timed_wait (self->socket, G_IO_IN | G_IO_HUP | G_IO_ERR, remaining, cancellable,
                                          &local_error))
        {
          if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
            {
              g_error_free (local_error);
              timed_out (self, error);
            }
          else
            io_failed (self, local_error, error);
          return -1;
        }
    }
}

/* One line, without its line end. Lines are taken from inbuf by moving inpos, so a burst of short
 * lines is read in linear time; what is left is moved to the front only before reading more. */
static char *
read_line (MrSmtpClient  *self,
           gint64         deadline,
           GCancellable  *cancellable,
           GError       **error)
{
  while (TRUE)
    {
      guint8 chunk[4096];
      gsize available = self->inbuf->len - self->inpos;
      /* An empty GByteArray has NULL data: memchr must not see it. */
      const guint8 *start = available > 0 ? self->inbuf->data + self->inpos : NULL;
      const guint8 *newline = available > 0 ? memchr (start, '\n', available) : NULL;
      gssize n;

      if (newline != NULL)
        {
          gsize len = newline - start;
          char *line = g_strndup ((const char *) start, len > 0 && newline[-1] == '\r' ? len - 1 : len);

          self->inpos += len + 1;
          if (self->inpos == self->inbuf->len)
            {
              g_byte_array_set_size (self->inbuf, 0);
              self->inpos = 0;
            }
          return line;
        }
      if (available > MAX_REPLY_LINE)
        {
          mr_smtp_set_error (error, MR_SMTP_ERROR_PROTOCOL, 0, NULL, NULL, _("A reply line is far too long."));
          close_connection (self);
          return NULL;
        }
      if (self->inpos > 0)
        {
          g_byte_array_remove_range (self->inbuf, 0, self->inpos);
          self->inpos = 0;
        }

      n = read_some (self, chunk, sizeof chunk, deadline, cancellable, error);
      if (n < 0)
        return NULL;
      if (n == 0)
        {
          mr_smtp_set_error (error, MR_SMTP_ERROR_CONNECTION_LOST, 0, NULL, NULL,
                             _("The server closed the connection."));
          log_line (self, "*", "connection closed by the server");
          close_connection (self);
          return NULL;
        }
      g_byte_array_append (self->inbuf, chunk, n);
    }
}

static gboolean
parse_enhanced (const char  *text,
                char       **enhanced,
                const char **rest)
{
  const char *p = text;
  guint parts = 0;

  if (!(p[0] == '2' || p[0] == '4' || p[0] == '5') || p[1] != '.')
    return FALSE;
  p += 2;
  for (parts = 0; parts < 2; parts++)
    {
      guint digits = 0;

      while (g_ascii_isdigit (*p) && digits < 3)
        {
          p++;
          digits++;
        }
      if (digits == 0 || (parts == 0 && *p != '.'))
        return FALSE;
      if (parts == 0)
        p++;
    }
  if (*p != ' ' && *p != '\0')
    return FALSE;
  *enhanced = g_strndup (text, p - text);
  *rest = *p == ' ' ? p + 1 : p;
  return TRUE;
}

static Reply *
read_reply (MrSmtpClient  *self,
            Wait           wait,
            GCancellable  *cancellable,
            GError       **error)
{
  gint64 deadline;
  g_autoptr(Reply) reply = g_new0 (Reply, 1);
  GString *text = g_string_new (NULL);

  self->wait = wait;
  deadline = deadline_after (wait_ms (self, wait));
  reply->lines = g_ptr_array_new_with_free_func (g_free);
  while (TRUE)
    {
      g_autofree char *line = read_line (self, deadline, cancellable, error);
      guint code;

      if (line == NULL)
        {
          g_string_free (text, TRUE);
          return NULL;
        }
      log_line (self, "S", line);

      if (strlen (line) < 3 || !g_ascii_isdigit (line[0]) || !g_ascii_isdigit (line[1]) || !g_ascii_isdigit (line[2]) ||
          (line[3] != '\0' && line[3] != ' ' && line[3] != '-') || line[0] < '2' || line[0] > '5')
        {
          g_autofree char *escaped = g_strescape (line, NULL);
          g_autofree char *detail = g_strdup_printf (_("Unexpected reply: “%s”"), escaped);
          mr_smtp_set_error (error, MR_SMTP_ERROR_PROTOCOL, 0, NULL, NULL, detail);
          g_string_free (text, TRUE);
          close_connection (self);
          return NULL;
        }
      code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
      if (reply->lines->len > 0 && code != reply->code)
        {
          mr_smtp_set_error (error, MR_SMTP_ERROR_PROTOCOL, 0, NULL, NULL,
                             _("A multi-line reply changed its code in the middle."));
          g_string_free (text, TRUE);
          close_connection (self);
          return NULL;
        }
      if (reply->lines->len >= MAX_REPLY_LINES || text->len > MAX_REPLY_BYTES)
        {
          g_autofree char *detail = g_strdup_printf (_("The server’s reply is far too long (over %u lines or %u KB)."),
                                                     MAX_REPLY_LINES, MAX_REPLY_BYTES / 1024);
          mr_smtp_set_error (error, MR_SMTP_ERROR_PROTOCOL, 0, NULL, NULL, detail);
          log_line (self, "*", "reply too long: stopping");
          g_string_free (text, TRUE);
          close_connection (self);
          return NULL;
        }
      reply->code = code;
      g_ptr_array_add (reply->lines, g_strdup (line[3] ? line + 4 : ""));
      if (text->len > 0)
        g_string_append_c (text, '\n');
      g_string_append (text, line[3] ? line + 4 : "");
      if (line[3] != '-')
        break;
    }

  {
    const char *rest;
    char *enhanced = NULL;

    if (parse_enhanced (text->str, &enhanced, &rest) && (guint) (enhanced[0] - '0') == reply->code / 100)
      {
        reply->enhanced = enhanced;
        reply->text = g_strdup (rest);
      }
    else
      {
        g_free (enhanced);
        reply->text = g_strdup (text->str);
      }
  }
  g_string_free (text, TRUE);
  return g_steal_pointer (&reply);
}

static gboolean
write_all (MrSmtpClient  *self,
           const void    *data,
           gsize          len,
           Wait           wait,
           GCancellable  *cancellable,
           GError       **error)
{
  GOutputStream *out = g_io_stream_get_output_stream (self->stream);
  GError *local_error = NULL;
  gboolean ok;

  /* Whole seconds are what GSocket offers for blocking writes. The timeout is taken off again, as
   * a socket's timeout would also cut short the reads' own deadlines (g_socket_condition_timed_wait). */
  self->wait = wait;
  g_socket_set_timeout (self->socket, MAX (1, (wait_ms (self, wait) + 999) / 1000));
  ok = g_output_stream_write_all (out, data, len, NULL, cancellable, &local_error);
  if (self->socket != NULL)
    g_socket_set_timeout (self->socket, 0);
  if (!ok)
    return io_failed (self, local_error, error);
  return TRUE;
}

/* Sends one command line; @shown is what the transcript gets (secrets masked). */
static gboolean
send_line (MrSmtpClient  *self,
           const char    *line,
           const char    *shown,
           GCancellable  *cancellable,
           GError       **error)
{
  g_autofree char *wire = g_strconcat (line, "\r\n", NULL);

  log_line (self, "C", shown ? shown : line);
  return write_all (self, wire, strlen (wire), WAIT_REPLY, cancellable, error);
}

static Reply *
command (MrSmtpClient  *self,
         const char    *line,
         const char    *shown,
         GCancellable  *cancellable,
         GError       **error)
{
  if (!send_line (self, line, shown, cancellable, error))
    return NULL;
  return read_reply (self, WAIT_REPLY, cancellable, error);
}

/* A failure reply as an error: 4xx is temporary, 5xx gets @permanent_code. */
static gboolean
reply_failed (MrSmtpClient    *self,
              const Reply     *reply,
              MrSmtpErrorCode  permanent_code,
              const char      *detail,
              GError         **error)
{
  if (reply->code >= 400 && reply->code < 500)
    mr_smtp_set_error (error, MR_SMTP_ERROR_TEMPORARY, reply->code, reply->enhanced, reply->text, detail);
  else if (reply->code >= 500)
    mr_smtp_set_error (error, permanent_code, reply->code, reply->enhanced, reply->text, detail);
  else
    mr_smtp_set_error (error, MR_SMTP_ERROR_PROTOCOL, reply->code, reply->enhanced, reply->text, detail);

  /* 421: the server is closing the connection. */
  if (reply->code == 421)
    close_connection (self);
  return FALSE;
}

/* ---- TLS -------------------------------------------------------------------------------------- */

static char *
fingerprint_of (GTlsCertificate *certificate)
{
  g_autoptr(GByteArray) der = NULL;
  g_autoptr(GChecksum) sha = g_checksum_new (G_CHECKSUM_SHA256);
  guint8 digest[32];
  gsize len = sizeof digest;
  GString *out = g_string_new (NULL);

  g_object_get (certificate, "certificate", &der, NULL);
  g_checksum_update (sha, der->data, der->len);
  g_checksum_get_digest (sha, digest, &len);
  for (gsize i = 0; i < len; i++)
    g_string_append_printf (out, i ? ":%02X" : "%02X", digest[i]);
  return g_string_free (out, FALSE);
}

static char *
describe_problems (GTlsCertificateFlags flags)
{
  GString *out = g_string_new (NULL);

#define PROBLEM(flag, text) if (flags & (flag)) g_string_append_printf (out, "%s%s", out->len ? "; " : "", text)
  PROBLEM (G_TLS_CERTIFICATE_UNKNOWN_CA, _("it is not signed by an authority this computer trusts"));
  PROBLEM (G_TLS_CERTIFICATE_BAD_IDENTITY, _("it was issued for another server name"));
  PROBLEM (G_TLS_CERTIFICATE_NOT_ACTIVATED, _("it is not valid yet"));
  PROBLEM (G_TLS_CERTIFICATE_EXPIRED, _("it has expired"));
  PROBLEM (G_TLS_CERTIFICATE_REVOKED, _("it has been revoked"));
  PROBLEM (G_TLS_CERTIFICATE_INSECURE, _("it uses insecure cryptography"));
  PROBLEM (G_TLS_CERTIFICATE_GENERIC_ERROR, _("it could not be checked"));
#undef PROBLEM
  if (out->len == 0)
    {
      g_string_free (out, TRUE);
      return NULL;
    }
  return g_string_free (out, FALSE);
}

static void
remember_certificate (MrSmtpClient         *self,
                      GTlsCertificate      *certificate,
                      GTlsCertificateFlags  flags)
{
  MrCertificateInfo *info = g_new0 (MrCertificateInfo, 1);

  info->subject = g_tls_certificate_get_subject_name (certificate);
  info->issuer = g_tls_certificate_get_issuer_name (certificate);
  info->not_before = g_tls_certificate_get_not_valid_before (certificate);
  info->not_after = g_tls_certificate_get_not_valid_after (certificate);
  info->sha256 = fingerprint_of (certificate);
  info->problems = describe_problems (flags);
  certificate_info_free (self->certificate);
  self->certificate = info;
}

static char *
describe_certificate (const MrCertificateInfo *info)
{
  g_autofree char *from = info->not_before ? g_date_time_format (info->not_before, "%Y-%m-%d") : g_strdup ("?");
  g_autofree char *until = info->not_after ? g_date_time_format (info->not_after, "%Y-%m-%d") : g_strdup ("?");

  return g_strdup_printf (_("Certificate: %s\nIssued by: %s\nValid: %s to %s\nSHA-256 fingerprint: %s%s%s"),
                          info->subject ? info->subject : "?", info->issuer ? info->issuer : "?", from, until,
                          info->sha256, info->problems ? _("\nProblem: ") : "", info->problems ? info->problems : "");
}

/* The only way a certificate the authorities do not vouch for gets in: the admin pinned it. */
static gboolean
on_accept_certificate (GTlsConnection       *connection,
                       GTlsCertificate      *peer_certificate,
                       GTlsCertificateFlags  errors,
                       MrSmtpClient         *self)
{
  remember_certificate (self, peer_certificate, errors);
  return self->config->fingerprint != NULL &&
         g_ascii_strcasecmp (self->config->fingerprint, self->certificate->sha256) == 0;
}

static gboolean
start_tls (MrSmtpClient  *self,
           GCancellable  *cancellable,
           GError       **error)
{
  g_autoptr(GSocketConnectable) identity = g_network_address_new (self->config->host, self->config->port);
  g_autoptr(GIOStream) tls = NULL;
  GError *local_error = NULL;
  GTlsCertificate *peer;
  gboolean ok;

  tls = g_tls_client_connection_new (G_IO_STREAM (self->tcp), identity, &local_error);
  if (tls == NULL)
    {
      mr_smtp_set_error (error, MR_SMTP_ERROR_TLS_FAILED, 0, NULL, NULL, local_error->message);
      g_error_free (local_error);
      close_connection (self);
      return FALSE;
    }

  if (self->config->trust_file != NULL && *self->config->trust_file != '\0')
    {
      g_autoptr(GTlsDatabase) database = g_tls_file_database_new (self->config->trust_file, &local_error);

      if (database == NULL)
        {
          g_autofree char *detail = g_strdup_printf (_("The trusted certificate authority file %s cannot be used: %s"),
                                                     self->config->trust_file, local_error->message);
          mr_smtp_set_error (error, MR_SMTP_ERROR_TLS_UNTRUSTED, 0, NULL, NULL, detail);
          g_error_free (local_error);
          close_connection (self);
          return FALSE;
        }
      g_tls_connection_set_database (G_TLS_CONNECTION (tls), database);
    }

  g_signal_connect (tls, "accept-certificate", G_CALLBACK (on_accept_certificate), self);
  /* Implicit TLS is part of connecting; STARTTLS's handshake is waited for as a reply. */
  self->wait = self->connected ? WAIT_REPLY : WAIT_CONNECT;
  g_socket_set_timeout (self->socket, MAX (1, (wait_ms (self, self->wait) + 999) / 1000));
  log_line (self, "*", "TLS handshake");
  ok = g_tls_connection_handshake (G_TLS_CONNECTION (tls), cancellable, &local_error);
  if (self->socket != NULL)
    g_socket_set_timeout (self->socket, 0);
  if (!ok)
    {
      g_signal_handlers_disconnect_by_data (tls, self);
      if (self->certificate != NULL && self->certificate->problems != NULL &&
          !g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_autofree char *detail = describe_certificate (self->certificate);

          mr_smtp_set_error (error, MR_SMTP_ERROR_TLS_UNTRUSTED, 0, NULL, NULL, detail);
          log_line (self, "*", detail);
          g_error_free (local_error);
          close_connection (self);
          return FALSE;
        }
      return io_failed (self, local_error, error);
    }
  g_signal_handlers_disconnect_by_data (tls, self);

  /* Also when the authorities vouch for it, a pinned certificate must be the pinned one. */
  peer = g_tls_connection_get_peer_certificate (G_TLS_CONNECTION (tls));
  if (self->certificate == NULL || self->certificate->problems == NULL)
    remember_certificate (self, peer, g_tls_connection_get_peer_certificate_errors (G_TLS_CONNECTION (tls)));
  if (self->config->fingerprint != NULL && *self->config->fingerprint != '\0' &&
      g_ascii_strcasecmp (self->config->fingerprint, self->certificate->sha256) != 0)
    {
      g_autofree char *described = describe_certificate (self->certificate);
      g_autofree char *detail = g_strdup_printf (_("The certificate does not match the pinned fingerprint %s.\n%s"),
                                                 self->config->fingerprint, described);

      mr_smtp_set_error (error, MR_SMTP_ERROR_TLS_UNTRUSTED, 0, NULL, NULL, detail);
      close_connection (self);
      return FALSE;
    }

  g_set_object (&self->stream, tls);
  self->info.tls = TRUE;
  g_free (self->info.tls_version);
  g_free (self->info.tls_cipher);
  switch (g_tls_connection_get_protocol_version (G_TLS_CONNECTION (tls)))
    {
    case G_TLS_PROTOCOL_VERSION_TLS_1_0: self->info.tls_version = g_strdup ("TLS 1.0"); break;
    case G_TLS_PROTOCOL_VERSION_TLS_1_1: self->info.tls_version = g_strdup ("TLS 1.1"); break;
    case G_TLS_PROTOCOL_VERSION_TLS_1_2: self->info.tls_version = g_strdup ("TLS 1.2"); break;
    case G_TLS_PROTOCOL_VERSION_TLS_1_3: self->info.tls_version = g_strdup ("TLS 1.3"); break;
    case G_TLS_PROTOCOL_VERSION_UNKNOWN:
    case G_TLS_PROTOCOL_VERSION_SSL_3_0:
    case G_TLS_PROTOCOL_VERSION_DTLS_1_0:
    case G_TLS_PROTOCOL_VERSION_DTLS_1_2:
    default: self->info.tls_version = g_strdup (_("unknown")); break;
    }
  self->info.tls_cipher = g_tls_connection_get_ciphersuite_name (G_TLS_CONNECTION (tls));
  log_line (self, "*", self->info.tls_version);
  return TRUE;
}

/* ---- Greeting, EHLO, STARTTLS ----------------------------------------------------------------- */

static char *
helo_name (MrSmtpClient *self)
{
  const char *host = g_get_host_name ();
  g_autoptr(GSocketAddress) local = NULL;

  if (self->config->helo_name != NULL)
    return g_strdup (self->config->helo_name);
  if (strchr (host, '.') != NULL)
    return g_strdup (host);

  /* Without a domain name, an address literal is what RFC 5321 asks for. */
  local = g_socket_get_local_address (self->socket, NULL);
  if (G_IS_INET_SOCKET_ADDRESS (local))
    {
      GInetAddress *address = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (local));
      g_autofree char *text = g_inet_address_to_string (address);

      return g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV6 ? g_strdup_printf ("[IPv6:%s]", text)
                                                                          : g_strdup_printf ("[%s]", text);
    }
  return g_strdup (host);
}

static gboolean
has_extension (MrSmtpClient *self,
               const char   *keyword)
{
  for (guint i = 0; self->info.extensions != NULL && self->info.extensions[i] != NULL; i++)
    {
      const char *ext = self->info.extensions[i];
      gsize len = strlen (keyword);

      if (g_ascii_strncasecmp (ext, keyword, len) == 0 && (ext[len] == '\0' || ext[len] == ' ' || ext[len] == '='))
        return TRUE;
    }
  return FALSE;
}

static void
learn_extensions (MrSmtpClient *self,
                  const Reply  *reply)
{
  GStrvBuilder *extensions = g_strv_builder_new ();
  GStrvBuilder *mechanisms = g_strv_builder_new ();

  server_info_clear_extensions (&self->info);
  self->info.ehlo_domain = g_strdup (reply->lines->len > 0 ? g_ptr_array_index (reply->lines, 0) : "");
  for (guint i = 1; i < reply->lines->len; i++)
    {
      const char *line = g_ptr_array_index (reply->lines, i);

      g_strv_builder_add (extensions, line);
      /* "AUTH PLAIN LOGIN", and the old "AUTH=PLAIN LOGIN" */
      if (g_ascii_strncasecmp (line, "AUTH", 4) == 0 && (line[4] == ' ' || line[4] == '='))
        {
          g_auto(GStrv) words = g_strsplit (line + 5, " ", -1);
          for (guint w = 0; words[w] != NULL; w++)
            if (*words[w] != '\0')
              {
                g_autofree char *upper = g_ascii_strup (words[w], -1);
                g_strv_builder_add (mechanisms, upper);
              }
        }
      else if (g_ascii_strncasecmp (line, "SIZE", 4) == 0 && (line[4] == ' ' || line[4] == '\0'))
        self->info.size_limit = line[4] ? g_ascii_strtoull (line + 5, NULL, 10) : 0;
    }
  self->info.extensions = g_strv_builder_end (extensions);
  {
    /* The same mechanism from both AUTH lines only once, in the order offered; a set keeps this
     * linear whatever a server sends. */
    g_auto(GStrv) all = g_strv_builder_end (mechanisms);
    g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
    GStrvBuilder *unique = g_strv_builder_new ();

    for (guint i = 0; all[i] != NULL; i++)
      if (g_hash_table_add (seen, all[i]))
        g_strv_builder_add (unique, all[i]);
    self->info.auth_mechanisms = g_strv_builder_end (unique);
    g_strv_builder_unref (unique);
  }
  g_strv_builder_unref (extensions);
  g_strv_builder_unref (mechanisms);

  self->info.pipelining = has_extension (self, "PIPELINING");
  self->info.eight_bit_mime = has_extension (self, "8BITMIME");
  self->info.smtputf8 = has_extension (self, "SMTPUTF8");
  self->info.enhanced_status_codes = has_extension (self, "ENHANCEDSTATUSCODES");
  self->info.dsn = has_extension (self, "DSN");
}

static gboolean
say_hello (MrSmtpClient  *self,
           GCancellable  *cancellable,
           GError       **error)
{
  g_autofree char *name = helo_name (self);
  g_autofree char *ehlo = g_strdup_printf ("EHLO %s", name);
  g_autoptr(Reply) reply = command (self, ehlo, NULL, cancellable, error);

  if (reply == NULL)
    return FALSE;
  if (reply->code == 250)
    {
      learn_extensions (self, reply);
      return TRUE;
    }
  if (reply->code >= 500)
    {
      /* An old server: HELO, and no extensions at all. */
      g_autofree char *helo = g_strdup_printf ("HELO %s", name);
      g_autoptr(Reply) helo_reply = command (self, helo, NULL, cancellable, error);

      if (helo_reply == NULL)
        return FALSE;
      if (helo_reply->code == 250)
        {
          server_info_clear_extensions (&self->info);
          return TRUE;
        }
      return reply_failed (self, helo_reply, MR_SMTP_ERROR_REJECTED, NULL, error);
    }
  return reply_failed (self, reply, MR_SMTP_ERROR_REJECTED, NULL, error);
}

static gboolean
starttls (MrSmtpClient  *self,
          GCancellable  *cancellable,
          GError       **error)
{
  g_autoptr(Reply) reply = NULL;

  if (!has_extension (self, "STARTTLS"))
    {
      mr_smtp_set_error (error, MR_SMTP_ERROR_STARTTLS_MISSING, 0, NULL, NULL, NULL);
      log_line (self, "*", "the server does not offer STARTTLS: stopping");
      send_line (self, "QUIT", NULL, cancellable, NULL);
      close_connection (self);
      return FALSE;
    }

  reply = command (self, "STARTTLS", NULL, cancellable, error);
  if (reply == NULL)
    return FALSE;
  if (reply->code != 220)
    {
      reply_failed (self, reply, MR_SMTP_ERROR_TLS_FAILED, NULL, error);
      close_connection (self);
      return FALSE;
    }

  /* RFC 3207: anything the server sent after its 220 and before the handshake was not protected,
   * and may have been injected by someone on the way. It is an error, never data. */
  if (self->inbuf->len > self->inpos || (g_socket_condition_check (self->socket, G_IO_IN) & G_IO_IN) != 0)
    {
      mr_smtp_set_error (error, MR_SMTP_ERROR_PROTOCOL, 0, NULL, NULL,
                         _("The server sent data after agreeing to STARTTLS and before encryption began."));
      log_line (self, "*", "data after the STARTTLS 220: stopping");
      close_connection (self);
      return FALSE;
    }

  if (!start_tls (self, cancellable, error))
    return FALSE;

  /* What was learnt in clear is forgotten (RFC 3207 4.2). */
  server_info_clear_extensions (&self->info);
  return say_hello (self, cancellable, error);
}

/* ---- AUTH ------------------------------------------------------------------------------------- */

static gboolean
offers_mechanism (MrSmtpClient    *self,
                  MrSaslMechanism  mechanism)
{
  return self->info.auth_mechanisms != NULL &&
         g_strv_contains ((const char * const *) self->info.auth_mechanisms, mr_sasl_mechanism_get_name (mechanism));
}

static gboolean
choose_mechanism (MrSmtpClient     *self,
                  MrSaslMechanism  *chosen,
                  GError          **error)
{
  static const MrSaslMechanism for_password[] = { MR_SASL_SCRAM_SHA_256, MR_SASL_SCRAM_SHA_1, MR_SASL_CRAM_MD5,
                                                  MR_SASL_PLAIN, MR_SASL_LOGIN };
  static const MrSaslMechanism for_ntlm[] = { MR_SASL_NTLM };
  static const MrSaslMechanism for_oauth2[] = { MR_SASL_XOAUTH2 };
  const MrSaslMechanism *wanted;
  guint n_wanted;
  gboolean refused_in_clear = FALSE;

  switch (self->config->auth)
    {
    case MR_SMTP_AUTH_NTLM: wanted = for_ntlm; n_wanted = G_N_ELEMENTS (for_ntlm); break;
    case MR_SMTP_AUTH_OAUTH2: wanted = for_oauth2; n_wanted = G_N_ELEMENTS (for_oauth2); break;
    case MR_SMTP_AUTH_PASSWORD:
    case MR_SMTP_AUTH_NONE:
    default: wanted = for_password; n_wanted = G_N_ELEMENTS (for_password); break;
    }

  for (guint i = 0; i < n_wanted; i++)
    {
      if (!offers_mechanism (self, wanted[i]))
        continue;
      if (mr_sasl_mechanism_is_cleartext (wanted[i]) && !self->info.tls && !self->config->allow_plaintext_auth)
        {
          refused_in_clear = TRUE;
          continue;
        }
      *chosen = wanted[i];
      return TRUE;
    }

  if (refused_in_clear)
    mr_smtp_set_error (error, MR_SMTP_ERROR_AUTH_INSECURE, 0, NULL, NULL, NULL);
  else
    {
      g_autofree char *offered = self->info.auth_mechanisms && self->info.auth_mechanisms[0]
                                   ? g_strjoinv (" ", self->info.auth_mechanisms) : NULL;
      g_autofree char *detail = offered ? g_strdup_printf (_("The server offers: %s."), offered)
                                        : g_strdup (_("The server offers no login at all on this connection."));

      /* A password login where the server takes only NTLM gets advice that names NTLM. */
      gboolean wants_ntlm = self->config->auth == MR_SMTP_AUTH_PASSWORD && offers_mechanism (self, MR_SASL_NTLM);

      mr_smtp_set_error (error, MR_SMTP_ERROR_AUTH_UNAVAILABLE, 0, NULL, wants_ntlm ? "NTLM" : NULL, detail);
    }
  log_line (self, "*", "no usable authentication mechanism: stopping");
  send_line (self, "QUIT", NULL, NULL, NULL);
  close_connection (self);
  return FALSE;
}

static gboolean
send_sasl_line (MrSmtpClient  *self,
                const char    *prefix,
                GBytes        *payload,
                GCancellable  *cancellable,
                GError       **error)
{
  g_autofree char *encoded = NULL;
  g_autofree char *line = NULL;
  g_autofree char *shown = NULL;
  gsize len = 0;
  const guint8 *data = payload ? g_bytes_get_data (payload, &len) : NULL;
  gboolean ok;

  encoded = len > 0 ? g_base64_encode (data, len) : g_strdup (prefix ? "=" : "");
  line = prefix ? g_strconcat (prefix, " ", encoded, NULL) : g_strdup (encoded);
  shown = prefix ? g_strconcat (prefix, " ********", NULL) : g_strdup (len > 0 ? "********" : "");
  ok = send_line (self, line, shown, cancellable, error);
  explicit_bzero (line, strlen (line));
  explicit_bzero (encoded, strlen (encoded));
  return ok;
}

static gboolean
authenticate (MrSmtpClient  *self,
              GCancellable  *cancellable,
              GError       **error)
{
  MrSaslMechanism mechanism;
  g_autoptr(MrSasl) sasl = NULL;
  g_autoptr(GBytes) initial = NULL;
  g_autofree char *prefix = NULL;

  if (!choose_mechanism (self, &mechanism, error))
    return FALSE;

  sasl = mr_sasl_new (mechanism, self->config->username, self->config->secret);
  initial = mr_sasl_get_initial_response (sasl, error);
  prefix = g_strdup_printf ("AUTH %s", mr_sasl_mechanism_get_name (mechanism));
  if (initial != NULL ? !send_sasl_line (self, prefix, initial, cancellable, error)
                      : !send_line (self, prefix, NULL, cancellable, error))
    return FALSE;

  while (TRUE)
    {
      g_autoptr(Reply) reply = read_reply (self, WAIT_REPLY, cancellable, error);
      g_autoptr(GBytes) challenge = NULL;
      g_autoptr(GBytes) response = NULL;

      if (reply == NULL)
        return FALSE;

      if (reply->code == 235)
        {
          if (!mr_sasl_finish (sasl, error))
            {
              close_connection (self);
              return FALSE;
            }
          self->info.auth_mechanism = g_strdup (mr_sasl_mechanism_get_name (mechanism));
          self->info.authenticated_as = g_strdup (self->config->username);
          return TRUE;
        }
      if (reply->code != 334)
        return reply_failed (self, reply, MR_SMTP_ERROR_AUTH_FAILED, NULL, error);

      {
        const char *text = g_ptr_array_index (reply->lines, 0);
        gsize len = 0;
        guchar *decoded = NULL;

        /* Strict base64: anything else is not a challenge. */
        for (const char *p = text; *p; p++)
          if (!g_ascii_isalnum (*p) && *p != '+' && *p != '/' && *p != '=')
            {
              mr_smtp_set_error (error, MR_SMTP_ERROR_PROTOCOL, 0, NULL, NULL,
                                 _("The server’s login challenge is not base64."));
              close_connection (self);
              return FALSE;
            }
        decoded = g_base64_decode (text, &len);
        challenge = g_bytes_new_take (decoded, len);
      }

      response = mr_sasl_respond (sasl, challenge, error);
      if (response == NULL)
        {
          /* Cancel the exchange as RFC 4954 says, then report. */
          send_line (self, "*", NULL, cancellable, NULL);
          close_connection (self);
          return FALSE;
        }
      if (!send_sasl_line (self, NULL, response, cancellable, error))
        return FALSE;
    }
}

/* ---- Connect ---------------------------------------------------------------------------------- */

static gboolean connect_and_log_in (MrSmtpClient  *self,
                                    GCancellable  *cancellable,
                                    GError       **error);

/* A connection that failed after the greeting but is still up (a refused login, say) ends with
 * QUIT, as RFC 5321 4.1.1.10 asks, not by dropping it. */
gboolean
mr_smtp_client_connect_sync (MrSmtpClient  *self,
                             GCancellable  *cancellable,
                             GError       **error)
{
  g_return_val_if_fail (!self->connected, FALSE);

  if (connect_and_log_in (self, cancellable, error))
    return TRUE;
  mr_smtp_client_quit_sync (self, NULL, NULL);
  return FALSE;
}

static gboolean
connect_and_log_in (MrSmtpClient  *self,
                    GCancellable  *cancellable,
                    GError       **error)
{
  g_autoptr(GSocketClient) socket_client = g_socket_client_new ();
  g_autoptr(GSocketConnectable) address = NULL;
  g_autoptr(Reply) greeting = NULL;
  GError *local_error = NULL;
  const MrSmtpConfig *config = self->config;

  server_info_clear (&self->info);
  if (config->host == NULL || *config->host == '\0')
    {
      mr_smtp_set_error (error, MR_SMTP_ERROR_CONNECT, 0, NULL, NULL, _("No server is set."));
      return FALSE;
    }
  if (config->auth != MR_SMTP_AUTH_NONE && (config->secret == NULL || *config->secret == '\0'))
    {
      mr_smtp_set_error (error, MR_SMTP_ERROR_PASSWORD_MISSING, 0, NULL, NULL, NULL);
      return FALSE;
    }

  {
    g_autofree char *where = g_strdup_printf ("connecting to %s port %u", config->host, config->port);
    log_line (self, "*", where);
  }
  g_socket_client_set_timeout (socket_client, MAX (1, (config->timeout_connect_ms + 999) / 1000));
  address = g_network_address_new (config->host, config->port);
  self->tcp = g_socket_client_connect (socket_client, address, cancellable, &local_error);
  if (self->tcp == NULL)
    {
      g_autofree char *detail = g_strdup_printf ("%s:%u: %s", config->host, config->port, local_error->message);

      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_propagate_error (error, local_error);
          return FALSE;
        }
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
        {
          g_error_free (local_error);
          self->wait = WAIT_CONNECT;
          return timed_out (self, error);
        }
      mr_smtp_set_error (error, local_error->domain == G_RESOLVER_ERROR ? MR_SMTP_ERROR_RESOLVE : MR_SMTP_ERROR_CONNECT,
                         0, NULL, NULL, detail);
      log_line (self, "*", detail);
      g_error_free (local_error);
      return FALSE;
    }
  self->socket = g_socket_connection_get_socket (self->tcp);
  self->stream = g_object_ref (G_IO_STREAM (self->tcp));
  /* GSocketClient leaves its connect timeout on the socket, where it would cap every later wait:
   * the greeting, above all, which may take 5 minutes. Each wait sets its own from here on. */
  g_socket_set_timeout (self->socket, 0);

  if (config->security == MR_SMTP_SECURITY_TLS && !start_tls (self, cancellable, error))
    return FALSE;

  greeting = read_reply (self, WAIT_GREETING, cancellable, error);
  if (greeting == NULL)
    return FALSE;
  if (greeting->code != 220)
    {
      reply_failed (self, greeting, MR_SMTP_ERROR_REJECTED, NULL, error);
      close_connection (self);
      return FALSE;
    }
  self->info.greeting = g_strdup (greeting->text);
  self->connected = TRUE;

  if (!say_hello (self, cancellable, error))
    return FALSE;
  if (config->security == MR_SMTP_SECURITY_STARTTLS && !starttls (self, cancellable, error))
    return FALSE;
  if (config->auth != MR_SMTP_AUTH_NONE && !authenticate (self, cancellable, error))
    return FALSE;
  return TRUE;
}

/* ---- Sending ---------------------------------------------------------------------------------- */

static gboolean
is_ascii (const char *text)
{
  for (const guchar *p = (const guchar *) text; *p; p++)
    if (*p >= 0x80)
      return FALSE;
  return TRUE;
}

GByteArray *
mr_smtp_prepare_data (GBytes    *message,
                      gboolean  *eight_bit,
                      GError   **error)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (message, &len);
  GByteArray *out = g_byte_array_sized_new (len + len / 50 + 8);
  gsize line_start = 0;

  *eight_bit = FALSE;
  for (gsize i = 0; i <= len; i++)
    {
      gboolean end = i == len;
      gsize line_end;

      if (!end && data[i] >= 0x80)
        *eight_bit = TRUE;
      if (!end && data[i] != '\n')
        continue;
      if (end && line_start == len)
        break;

      line_end = (!end && i > line_start && data[i - 1] == '\r') ? i - 1 : i;
      if (line_end - line_start > MAX_DATA_LINE)
        {
          g_autofree char *length = g_strdup_printf ("%" G_GSIZE_FORMAT, line_end - line_start);
          g_autofree char *detail = g_strdup_printf (_("A line of the message is %s octets long; mail allows at most 998."),
                                                     length);
          mr_smtp_set_error (error, MR_SMTP_ERROR_INVALID_MESSAGE, 0, NULL, NULL, detail);
          g_byte_array_unref (out);
          return NULL;
        }
      if (line_end > line_start && data[line_start] == '.')
        g_byte_array_append (out, (const guint8 *) ".", 1);
      g_byte_array_append (out, data + line_start, line_end - line_start);
      g_byte_array_append (out, (const guint8 *) "\r\n", 2);
      line_start = i + 1;
    }
  g_byte_array_append (out, (const guint8 *) ".\r\n", 3);
  return out;
}

static char *
mail_from_command (MrSmtpClient         *self,
                   const MrSmtpEnvelope *envelope,
                   gsize                 size,
                   gboolean              eight_bit,
                   gboolean              utf8)
{
  GString *line = g_string_new (NULL);

  g_string_printf (line, "MAIL FROM:<%s>", envelope->from);
  if (self->info.size_limit > 0 || has_extension (self, "SIZE"))
    g_string_append_printf (line, " SIZE=%" G_GSIZE_FORMAT, size);
  if (eight_bit && self->info.eight_bit_mime)
    g_string_append (line, " BODY=8BITMIME");
  if (utf8)
    g_string_append (line, " SMTPUTF8");
  if (envelope->dsn_notify != NULL && self->info.dsn)
    {
      g_string_append (line, " RET=HDRS");
      if (envelope->dsn_envid != NULL)
        g_string_append_printf (line, " ENVID=%s", envelope->dsn_envid);
    }
  return g_string_free (line, FALSE);
}

static char *
rcpt_command (MrSmtpClient         *self,
              const MrSmtpEnvelope *envelope,
              const char           *address)
{
  if (envelope->dsn_notify != NULL && self->info.dsn)
    return g_strdup_printf ("RCPT TO:<%s> NOTIFY=%s", address, envelope->dsn_notify);
  return g_strdup_printf ("RCPT TO:<%s>", address);
}

static char *
describe_reply (const Reply *reply)
{
  return g_strdup_printf ("%u %s%s%s", reply->code, reply->enhanced ? reply->enhanced : "",
                          reply->enhanced ? " " : "", reply->text);
}

MrSmtpSendResult *
mr_smtp_client_send_sync (MrSmtpClient         *self,
                          const MrSmtpEnvelope *envelope,
                          GBytes               *message,
                          GCancellable         *cancellable,
                          GError              **error)
{
  return mr_smtp_client_send_gated_sync (self, envelope, message, NULL, NULL, cancellable, error);
}

MrSmtpSendResult *
mr_smtp_client_send_gated_sync (MrSmtpClient         *self,
                                const MrSmtpEnvelope *envelope,
                                GBytes               *message,
                                MrSendGate            gate,
                                gpointer              gate_data,
                                GCancellable         *cancellable,
                                GError              **error)
{
  g_autoptr(MrSmtpSendResult) result = g_new0 (MrSmtpSendResult, 1);
  g_autoptr(GByteArray) data = NULL;
  g_autoptr(GPtrArray) commands = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(Reply) mail_reply = NULL;
  g_autoptr(Reply) data_reply = NULL;
  g_autoptr(Reply) final_reply = NULL;
  g_autoptr(Reply) last_refusal = NULL;
  gboolean eight_bit, utf8;
  gsize message_size;
  guint first_mail;

  result->accepted = g_ptr_array_new_with_free_func (g_free);
  result->refused = g_ptr_array_new_with_free_func (g_free);
  result->deferred = g_ptr_array_new_with_free_func (g_free);

  if (!self->connected)
    {
      mr_smtp_set_error (error, MR_SMTP_ERROR_CONNECTION_LOST, 0, NULL, NULL, _("Not connected."));
      return NULL;
    }
  if (envelope->recipients->len == 0)
    {
      mr_smtp_set_error (error, MR_SMTP_ERROR_INVALID_MESSAGE, 0, NULL, NULL, _("The message has no recipient."));
      return NULL;
    }

  data = mr_smtp_prepare_data (message, &eight_bit, error);
  if (data == NULL)
    return NULL;
  message_size = g_bytes_get_size (message);
  if (self->info.size_limit > 0 && message_size > self->info.size_limit)
    {
      g_autofree char *size = g_strdup_printf ("%" G_GSIZE_FORMAT, message_size);
      g_autofree char *limit = g_strdup_printf ("%" G_GUINT64_FORMAT, self->info.size_limit);
      g_autofree char *detail = g_strdup_printf (_("The message is %s bytes; the server takes at most %s."), size, limit);
      mr_smtp_set_error (error, MR_SMTP_ERROR_TOO_BIG, 0, NULL, NULL, detail);
      return NULL;
    }

  utf8 = !is_ascii (envelope->from);
  for (guint i = 0; i < envelope->recipients->len; i++)
    utf8 = utf8 || !is_ascii (g_ptr_array_index (envelope->recipients, i));
  if (utf8 && !self->info.smtputf8)
    {
      mr_smtp_set_error (error, MR_SMTP_ERROR_REJECTED, 0, NULL, NULL,
                         _("An address has non-ASCII characters, and this server cannot take such addresses "
                           "(it does not offer SMTPUTF8)."));
      return NULL;
    }

  /* A connection carries many messages: reset what the last one left (in the pipelined group when
   * the server allows, RFC 2920 3.1, to save a round trip per message). */
  if (self->transactions > 0 && !self->info.pipelining)
    {
      g_autoptr(Reply) rset = command (self, "RSET", NULL, cancellable, error);

      if (rset == NULL)
        return NULL;
      if (rset->code != 250)
        {
          reply_failed (self, rset, MR_SMTP_ERROR_PROTOCOL, NULL, error);
          return NULL;
        }
    }
  self->transactions++;

  if (self->transactions > 1 && self->info.pipelining)
    g_ptr_array_add (commands, g_strdup ("RSET"));
  first_mail = commands->len;
  g_ptr_array_add (commands, mail_from_command (self, envelope, message_size, eight_bit, utf8));
  for (guint i = 0; i < envelope->recipients->len; i++)
    g_ptr_array_add (commands, rcpt_command (self, envelope, g_ptr_array_index (envelope->recipients, i)));
  g_ptr_array_add (commands, g_strdup ("DATA"));

  if (self->info.pipelining)
    {
      /* RFC 2920: the whole group in one write, then the replies in order. */
      GString *batch = g_string_new (NULL);
      gboolean ok;

      for (guint i = 0; i < commands->len; i++)
        {
          log_line (self, "C", g_ptr_array_index (commands, i));
          g_string_append_printf (batch, "%s\r\n", (const char *) g_ptr_array_index (commands, i));
        }
      ok = write_all (self, batch->str, batch->len, WAIT_REPLY, cancellable, error);
      g_string_free (batch, TRUE);
      if (!ok)
        return NULL;
    }

  for (guint i = 0; i < commands->len; i++)
    {
      const char *line = g_ptr_array_index (commands, i);
      gboolean is_rset = g_str_equal (line, "RSET");
      gboolean is_mail = i == first_mail, is_data = i == commands->len - 1;
      g_autoptr(Reply) reply = NULL;

      if (!self->info.pipelining)
        {
          /* Without pipelining, stop at the first failure that makes the rest pointless. */
          if (!is_mail && mail_reply->code != 250)
            break;
          if (is_data && result->accepted->len == 0)
            break;
          if (!send_line (self, line, NULL, cancellable, error))
            return NULL;
        }
      reply = read_reply (self, WAIT_REPLY, cancellable, error);
      if (reply == NULL)
        return NULL;

      if (is_rset)
        {
          if (reply->code != 250)
            {
              reply_failed (self, reply, MR_SMTP_ERROR_PROTOCOL, NULL, error);
              return NULL;
            }
        }
      else if (is_mail)
        mail_reply = g_steal_pointer (&reply);
      else if (is_data)
        data_reply = g_steal_pointer (&reply);
      else
        {
          const char *address = g_ptr_array_index (envelope->recipients, i - first_mail - 1);

          if (reply->code == 250 || reply->code == 251)
            g_ptr_array_add (result->accepted, g_strdup (address));
          else
            {
              g_autofree char *described = describe_reply (reply);

              /* 4xx: for now, the caller tries this recipient again; 5xx: for good. */
              g_ptr_array_add (reply->code >= 400 && reply->code < 500 ? result->deferred : result->refused,
                               g_strdup_printf ("%s: %s", address, described));
              g_clear_pointer (&last_refusal, reply_free);
              last_refusal = g_steal_pointer (&reply);
            }
        }
    }

  if (mail_reply->code != 250)
    {
      /* A pipelining server may still have said 354: end the empty message, and read its reply so
       * that the next transaction reads its own. */
      if (data_reply != NULL && data_reply->code == 354 && send_line (self, ".", NULL, cancellable, NULL))
        {
          g_autoptr(Reply) ignored = read_reply (self, WAIT_DATA, cancellable, NULL);
        }
      reply_failed (self, mail_reply, MR_SMTP_ERROR_REJECTED, NULL, error);
      return NULL;
    }
  if (result->accepted->len == 0)
    {
      /* A pipelining server may still have said 354: end the empty message. */
      if (data_reply != NULL && data_reply->code == 354)
        {
          g_autoptr(Reply) ignored = NULL;

          send_line (self, ".", NULL, cancellable, NULL);
          ignored = read_reply (self, WAIT_DATA, cancellable, NULL);
        }
      reply_failed (self, last_refusal, MR_SMTP_ERROR_REJECTED, NULL, error);
      return NULL;
    }
  if (data_reply->code != 354)
    {
      reply_failed (self, data_reply, MR_SMTP_ERROR_REJECTED, NULL, error);
      return NULL;
    }

  /* The server is ready for the message: the gate's moment. Until the message and its final dot are
   * sent the server cannot take it, and a connection closed now leaves it nothing. (The message and
   * its end go in one write, as without a gate.) */
  if (gate != NULL && !gate (gate_data))
    {
      log_line (self, "*", "message held back: closing the connection");
      close_connection (self);
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("The message was held back before it went."));
      return NULL;
    }
  {
    g_autofree char *shown = g_strdup_printf ("<message: %" G_GSIZE_FORMAT " bytes>", message_size);
    log_line (self, "C", shown);
  }
  if (!write_all (self, data->data, data->len, WAIT_DATA, cancellable, error))
    return NULL;
  log_line (self, "C", ".");

  final_reply = read_reply (self, WAIT_DATA, cancellable, error);
  if (final_reply == NULL)
    return NULL;
  if (final_reply->code != 250)
    {
      reply_failed (self, final_reply, MR_SMTP_ERROR_REJECTED, NULL, error);
      return NULL;
    }
  result->final_reply = describe_reply (final_reply);
  return g_steal_pointer (&result);
}

gboolean
mr_smtp_client_quit_sync (MrSmtpClient  *self,
                          GCancellable  *cancellable,
                          GError       **error)
{
  if (self->connected && self->stream != NULL)
    {
      g_autoptr(Reply) reply = command (self, "QUIT", NULL, cancellable, NULL);
    }
  close_connection (self);
  return TRUE;
}
