/* mr-remote-image.c: a picture from the web, fetched once to go in the mail itself */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <libsoup/soup.h>
#include <string.h>

#include "mr-html-clean.h"
#include "mr-remote-image.h"

const char *
mr_remote_image_sniff (const guint8 *data,
                       gsize         length)
{
  if (length >= 8 && memcmp (data, "\x89PNG\r\n\x1a\n", 8) == 0)
    return "image/png";
  if (length >= 3 && memcmp (data, "\xff\xd8\xff", 3) == 0)
    return "image/jpeg";
  if (length >= 6 && (memcmp (data, "GIF87a", 6) == 0 || memcmp (data, "GIF89a", 6) == 0))
    return "image/gif";
  if (length >= 12 && memcmp (data, "RIFF", 4) == 0 && memcmp (data + 8, "WEBP", 4) == 0)
    return "image/webp";
  return NULL;
}

static gpointer
fail (GError    **error,
      const char *url,
      const char *why)
{
  g_set_error (error, MR_HTML_ERROR, MR_HTML_ERROR_IMAGE, _("The picture at %s could not be fetched: %s"), url, why);
  return NULL;
}

char *
mr_remote_image_fetch (const char    *url,
                       GCancellable  *cancellable,
                       GError       **error)
{
  g_autoptr(SoupSession) session = NULL;
  g_autoptr(SoupMessage) message = NULL;
  g_autoptr(GInputStream) stream = NULL;
  g_autoptr(GByteArray) body = g_byte_array_new ();
  g_autoptr(GError) local_error = NULL;
  g_autofree char *encoded = NULL;
  guint8 buffer[16384];
  const char *type;
  gssize n;

  if (g_ascii_strncasecmp (url, "http://", 7) != 0 && g_ascii_strncasecmp (url, "https://", 8) != 0)
    return fail (error, url, _("only addresses that start with http:// or https:// are fetched"));
  message = soup_message_new ("GET", url);
  if (message == NULL)
    return fail (error, url, _("it is not a web address"));
  session = soup_session_new_with_options ("timeout", 30, "idle-timeout", 30, "max-conns", 2,
                                           "user-agent", "Mailroom/" MAILROOM_VERSION, NULL);
  soup_message_headers_append (soup_message_get_request_headers (message), "Accept",
                               "image/png, image/jpeg, image/gif, image/webp");
  stream = soup_session_send (session, message, cancellable, &local_error);
  if (stream == NULL)
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
      return fail (error, url, local_error->message);
    }
  if (!SOUP_STATUS_IS_SUCCESSFUL (soup_message_get_status (message)))
    {
      g_autofree char *why = g_strdup_printf (_("the server answered %u %s"), soup_message_get_status (message),
                                              soup_message_get_reason_phrase (message));

      return fail (error, url, why);
    }
  while ((n = g_input_stream_read (stream, buffer, sizeof buffer, cancellable, &local_error)) > 0)
    {
      g_byte_array_append (body, buffer, (guint) n);
      if (body->len > MR_REMOTE_IMAGE_MAX_BYTES)
        {
          g_autofree char *limit = g_format_size (MR_REMOTE_IMAGE_MAX_BYTES);
          g_autofree char *why = g_strdup_printf (_("it is larger than %s"), limit);

          return fail (error, url, why);
        }
    }
  if (n < 0)
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
      return fail (error, url, local_error->message);
    }
  type = mr_remote_image_sniff (body->data, body->len);
  if (type == NULL)
    return fail (error, url, _("it is not a PNG, JPEG, GIF or WebP picture"));
  encoded = g_base64_encode (body->data, body->len);
  return g_strdup_printf ("data:%s;base64,%s", type, encoded);
}
