/* mr-http.c: what every HTTP call to a web service shares: bounded answers, waits, errors in words */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "mr-exchange-error.h"
#include "mr-http.h"

G_DEFINE_QUARK (mr-exchange-error-quark, mr_exchange_error)

/* No answer of these services is larger: a bigger one is not theirs. */
#define LARGEST_ANSWER (16 * 1024 * 1024)

gboolean
mr_http_wait (guint         ms,
              GCancellable *cancellable)
{
  gint64 until = g_get_monotonic_time () + (gint64) ms * 1000;

  while (g_get_monotonic_time () < until)
    {
      if (g_cancellable_is_cancelled (cancellable))
        return FALSE;
      g_usleep (MIN (50000, until - g_get_monotonic_time () > 0 ? until - g_get_monotonic_time () : 0));
    }
  return !g_cancellable_is_cancelled (cancellable);
}

void
mr_http_translate_error (GError      *error,
                         const char  *url,
                         GError     **out)
{
  g_autoptr(GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  const char *host = uri ? g_uri_get_host (uri) : url;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_propagate_error (out, error);
  else if (error->domain == G_TLS_ERROR)
    {
      g_set_error (out, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_TLS_UNTRUSTED,
                   _("The certificate of %s is not trusted (%s). Mailroom does not send a password to a server it "
                     "cannot verify; the admin can name the company’s own CA in exchange.trust_file"),
                   host, error->message);
      g_error_free (error);
    }
  else if (error->domain == G_RESOLVER_ERROR)
    {
      g_set_error (out, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_UNREACHABLE,
                   _("The name %s was not found (%s). Check the address and the network"), host, error->message);
      g_error_free (error);
    }
  else
    {
      g_set_error (out, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_UNREACHABLE,
                   _("Could not reach %s: %s"), host, error->message);
      g_error_free (error);
    }
}

GBytes *
mr_http_send_and_read (SoupSession   *session,
                       SoupMessage   *message,
                       GString       *transcript,
                       GCancellable  *cancellable,
                       GError       **error)
{
  g_autoptr(GInputStream) stream = NULL;
  g_autoptr(GOutputStream) sink = NULL;
  g_autofree char *url = g_uri_to_string (soup_message_get_uri (message));
  GError *local_error = NULL;

  stream = soup_session_send (session, message, cancellable, &local_error);
  if (stream == NULL)
    {
      mr_http_translate_error (local_error, url, error);
      return NULL;
    }
  sink = g_memory_output_stream_new_resizable ();
  /* Read in pieces so that a server cannot make Mailroom hold an endless answer. */
  for (;;)
    {
      char buffer[16384];
      gssize got = g_input_stream_read (stream, buffer, sizeof buffer, cancellable, &local_error);

      if (got < 0)
        {
          mr_http_translate_error (local_error, url, error);
          return NULL;
        }
      if (got == 0)
        break;
      if (g_memory_output_stream_get_data_size (G_MEMORY_OUTPUT_STREAM (sink)) + (gsize) got > LARGEST_ANSWER)
        {
          g_set_error (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_PROTOCOL,
                       _("The answer of %s is larger than 16 MB: this is not an Exchange server"), url);
          return NULL;
        }
      g_output_stream_write_all (sink, buffer, (gsize) got, NULL, NULL, NULL);
    }
  g_output_stream_close (sink, NULL, NULL);
  g_input_stream_close (stream, NULL, NULL);
  if (transcript != NULL)
    g_string_append_printf (transcript, "%s %s → %u %s\n", soup_message_get_method (message), url,
                            soup_message_get_status (message), soup_message_get_reason_phrase (message));
  return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (sink));
}

