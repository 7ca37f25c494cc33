/* mr-exchange-graph.c: Microsoft Graph: requests with their tokens and waits, failures in words, and
 * sending (the MIME message in one request, or a draft with an upload session beyond 4 MB). */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "mr-ews.h"
#include "mr-exchange-private.h"
#include "mr-http.h"
#include "mr-json.h"
#include "mr-message.h"

/* Graph refuses requests over 4 MB (attachments beyond that need an upload session). */
#define GRAPH_REQUEST_LIMIT (4 * 1024 * 1024)

static void
set_graph_error (MrExchange  *self,
                 SoupMessage *message,
                 GBytes      *answer,
                 GError     **error)
{
  g_autoptr(JsonNode) root = answer != NULL ? mr_json_parse_bytes (answer, NULL) : NULL;
  guint status = soup_message_get_status (message);
  const char *code = NULL;

  if (root != NULL && JSON_NODE_HOLDS_OBJECT (root))
    {
      JsonObject *object = json_node_get_object (root);
      JsonObject *inner = json_object_has_member (object, "error") &&
                          JSON_NODE_HOLDS_OBJECT (json_object_get_member (object, "error"))
                            ? json_object_get_object_member (object, "error") : NULL;

      code = inner ? json_object_get_string_member_with_default (inner, "code", NULL) : NULL;
    }
  mr_exchange_set_reply (self, code ? code : soup_message_get_reason_phrase (message));

  if (status == 429 || status == SOUP_STATUS_SERVICE_UNAVAILABLE || status == SOUP_STATUS_GATEWAY_TIMEOUT)
    g_set_error (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_BUSY,
                 _("Microsoft Graph is busy (%u) and asked Mailroom to wait %u s; the mail will be tried again"),
                 status, self->retry_after);
  else if (status == SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE || g_strcmp0 (code, "ErrorMessageSizeExceeded") == 0)
    g_set_error_literal (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_TOO_BIG,
                         _("The message is larger than Microsoft Graph accepts in one request (4 MB): send the "
                           "attachments as links"));
  else if (status == SOUP_STATUS_UNAUTHORIZED)
    g_set_error (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_SIGN_IN_REQUIRED,
                 _("Microsoft Graph refused the sign-in token (%s). Sign in again: `mailroom-cli exchange login` "
                   "or Sign In in My Settings"), code ? code : "401");
  else if (g_strcmp0 (code, "ErrorSendAsDenied") == 0)
    g_set_error (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_SEND_AS_DENIED,
                 _("Exchange Online does not let this mailbox send as %s (ErrorSendAsDenied). An administrator "
                   "grants “Send As” on that address"), self->from_address);
  else if (status == SOUP_STATUS_FORBIDDEN)
    g_set_error (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_AUTH_FAILED,
                 _("Microsoft Graph denied sending (%s): the app registration needs the Mail.Send permission, with "
                   "consent, and the mailbox must allow it"), code ? code : "403");
  else if (g_strcmp0 (code, "ErrorInvalidRecipients") == 0 || g_strcmp0 (code, "ErrorInvalidRecipientsDeletion") == 0)
    g_set_error (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_RECIPIENT_REFUSED,
                 _("Microsoft Graph refused a recipient (%s)"), code);
  else
    g_set_error (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_REJECTED,
                 _("Microsoft Graph refused the message: %u %s"), status, code ? code : _("no error code"));
}

static char *
graph_url (MrExchange *self,
           const char *path)
{
  gsize length = strlen (self->graph_endpoint);

  while (length > 0 && self->graph_endpoint[length - 1] == '/')
    length--;
  if (self->mailbox != NULL)
    {
      g_autofree char *escaped = g_uri_escape_string (self->mailbox, "@", FALSE);
      return g_strdup_printf ("%.*s/v1.0/users/%s%s", (int) length, self->graph_endpoint, escaped, path);
    }
  return g_strdup_printf ("%.*s/v1.0/me%s", (int) length, self->graph_endpoint, path);
}

/* One Graph request, with 429 and 503 waited out when Retry-After is short. Returns the answer's
 * JSON object when @answer_out is given (an empty object for an empty answer). @authorize FALSE: the
 * URL carries its own authorization (an upload session's). */
static gboolean
graph_request (MrExchange    *self,
               const char    *method,
               const char    *url,
               const char    *content_type,
               GBytes        *body,
               const char    *content_range,
               gboolean       authorize,
               guint          expected,
               JsonObject   **answer_out,
               GCancellable  *cancellable,
               GError       **error)
{
  if (!mr_exchange_check_https (self, url, error) || mr_exchange_ensure_session (self, error) == NULL)
    return FALSE;
  for (guint attempt = 1;; attempt++)
    {
      g_autoptr(SoupMessage) message = soup_message_new (method, url);
      g_autoptr(GBytes) answer = NULL;
      g_autoptr(GString) lines = g_string_new (NULL);
      const char *retry_after;
      guint status;

      if (message == NULL)
        {
          g_set_error (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_PROTOCOL, _("“%s” is not a web address"), url);
          return FALSE;
        }
      if (body != NULL)
        mr_exchange_set_body (message, content_type, body);
      if (content_range != NULL)
        soup_message_headers_replace (soup_message_get_request_headers (message), "Content-Range", content_range);
      if (authorize && !mr_exchange_add_bearer (self, message, MR_OAUTH_SCOPE_GRAPH_SEND, cancellable, error))
        return FALSE;
      answer = mr_http_send_and_read (self->session, message, lines, cancellable, error);
      mr_exchange_note (self, "%s", g_strchomp (lines->str));
      if (answer == NULL)
        return FALSE;
      status = soup_message_get_status (message);
      if (status == expected || (expected == SOUP_STATUS_OK && status == SOUP_STATUS_CREATED && content_range))
        {
          g_autofree char *reply = g_strdup_printf ("%u %s", status, soup_message_get_reason_phrase (message));
          g_autoptr(JsonNode) root = NULL;

          mr_exchange_set_reply (self, reply);
          if (answer_out == NULL)
            return TRUE;
          if (g_bytes_get_size (answer) > 0 && (root = mr_json_parse_bytes (answer, NULL)) != NULL &&
              JSON_NODE_HOLDS_OBJECT (root))
            *answer_out = json_object_ref (json_node_get_object (root));
          else
            *answer_out = json_object_new ();
          return TRUE;
        }
      retry_after = soup_message_headers_get_one (soup_message_get_response_headers (message), "Retry-After");
      self->retry_after = retry_after ? (guint) CLAMP (g_ascii_strtoll (retry_after, NULL, 10), 0, 86400) : 0;
      if ((status == 429 || status == SOUP_STATUS_SERVICE_UNAVAILABLE) && attempt < BUSY_TRIES &&
          self->retry_after * 1000 <= LONGEST_WAIT_MS)
        {
          mr_exchange_note (self, "waiting %u s, as the service asked", self->retry_after);
          if (!mr_http_wait (MAX (self->retry_after, 1) * 1000, cancellable))
            {
              g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("Cancelled"));
              return FALSE;
            }
          continue;
        }
      /* A token refused (revoked, say) is not offered again. */
      if (status == SOUP_STATUS_UNAUTHORIZED)
        mr_token_source_forget (self->tokens);
      set_graph_error (self, message, answer, error);
      return FALSE;
    }
}

static gboolean
graph_call (MrExchange    *self,
            const char    *method,
            const char    *url,
            GBytes        *body,
            guint          expected,
            GCancellable  *cancellable,
            GError       **error)
{
  return graph_request (self, method, url, "text/plain", body, NULL, TRUE, expected, NULL, cancellable, error);
}

static GBytes *
json_bytes (JsonBuilder *builder)
{
  g_autoptr(JsonNode) root = json_builder_get_root (builder);
  char *text = json_to_string (root, FALSE);

  return g_bytes_new_take (text, strlen (text));
}

static void
add_graph_recipients (JsonBuilder        *builder,
                      const char         *member,
                      const char * const *addresses)
{
  json_builder_set_member_name (builder, member);
  json_builder_begin_array (builder);
  for (guint i = 0; addresses != NULL && addresses[i] != NULL; i++)
    {
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "emailAddress");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "address");
      json_builder_add_string_value (builder, addresses[i]);
      json_builder_end_object (builder);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
}

/* Graph takes an attachment of up to 3 MB in the request that adds it; larger ones go in pieces
 * through an upload session, in multiples of 320 KiB as Graph requires. */
#define GRAPH_INLINE_ATTACHMENT (3 * 1000 * 1000)
#define GRAPH_UPLOAD_CHUNK (10 * 320 * 1024)

static gboolean
graph_upload (MrExchange            *self,
              const char            *message_url,
              const MrEwsAttachment *attachment,
              GCancellable          *cancellable,
              GError               **error)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(GBytes) request = NULL;
  g_autoptr(JsonObject) session = NULL;
  g_autofree char *url = g_strdup_printf ("%s/attachments/createUploadSession", message_url);
  gsize size = g_bytes_get_size (attachment->content);
  const char *upload_url;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "AttachmentItem");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "attachmentType");
  json_builder_add_string_value (builder, "file");
  json_builder_set_member_name (builder, "name");
  json_builder_add_string_value (builder, attachment->name);
  json_builder_set_member_name (builder, "size");
  json_builder_add_int_value (builder, (gint64) size);
  json_builder_set_member_name (builder, "contentType");
  json_builder_add_string_value (builder, attachment->content_type);
  if (attachment->content_id != NULL)
    {
      json_builder_set_member_name (builder, "isInline");
      json_builder_add_boolean_value (builder, TRUE);
      json_builder_set_member_name (builder, "contentId");
      json_builder_add_string_value (builder, attachment->content_id);
    }
  json_builder_end_object (builder);
  json_builder_end_object (builder);
  request = json_bytes (builder);
  if (!graph_request (self, "POST", url, "application/json", request, NULL, TRUE, SOUP_STATUS_CREATED, &session,
                      cancellable, error))
    return FALSE;
  upload_url = json_object_get_string_member_with_default (session, "uploadUrl", NULL);
  if (upload_url == NULL)
    {
      g_set_error_literal (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_PROTOCOL,
                           _("Microsoft Graph opened no upload session for the attachment"));
      return FALSE;
    }
  for (gsize offset = 0; offset < size; offset += GRAPH_UPLOAD_CHUNK)
    {
      gsize length = MIN (GRAPH_UPLOAD_CHUNK, size - offset);
      g_autoptr(GBytes) chunk = g_bytes_new_from_bytes (attachment->content, offset, length);
      g_autofree char *range = g_strdup_printf ("bytes %" G_GSIZE_FORMAT "-%" G_GSIZE_FORMAT "/%" G_GSIZE_FORMAT,
                                                offset, offset + length - 1, size);

      /* The upload URL carries its own authorization: no token goes with it. */
      if (!graph_request (self, "PUT", upload_url, "application/octet-stream", chunk, range, FALSE, SOUP_STATUS_OK,
                          NULL, cancellable, error))
        return FALSE;
    }
  return TRUE;
}

/* Over Graph's 4 MB a request: a draft, its attachments (large ones by upload session), then send.
 * Graph keeps the sent mail in Sent Items, as sendMail does. */
static gboolean
graph_send_in_steps (MrExchange         *self,
                     GBytes             *message,
                     const char * const *to,
                     const char * const *cc,
                     const char * const *bcc,
                     GCancellable       *cancellable,
                     GError            **error)
{
  g_autoptr(MrEwsParts) parts = mr_ews_parts_from_mime (message);
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(GBytes) draft = NULL;
  g_autoptr(JsonObject) created = NULL;
  g_autofree char *messages_url = graph_url (self, "/messages");
  g_autofree char *message_url = NULL;
  g_autofree char *send_url = NULL;
  const char *id;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "subject");
  json_builder_add_string_value (builder, parts->subject ? parts->subject : "");
  json_builder_set_member_name (builder, "body");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "contentType");
  json_builder_add_string_value (builder, parts->html ? "HTML" : "Text");
  json_builder_set_member_name (builder, "content");
  json_builder_add_string_value (builder, parts->body ? parts->body : "");
  json_builder_end_object (builder);
  add_graph_recipients (builder, "toRecipients", to);
  add_graph_recipients (builder, "ccRecipients", cc);
  add_graph_recipients (builder, "bccRecipients", bcc);
  if (parts->message_id != NULL)
    {
      g_autofree char *bracketed = g_strdup_printf ("<%s>", parts->message_id);

      json_builder_set_member_name (builder, "internetMessageId");
      json_builder_add_string_value (builder, bracketed);
    }
  json_builder_end_object (builder);
  draft = json_bytes (builder);
  mr_exchange_note (self, "the message is over 4 MB: a draft, its attachments, then send");
  if (!graph_request (self, "POST", messages_url, "application/json", draft, NULL, TRUE, SOUP_STATUS_CREATED, &created,
                      cancellable, error))
    return FALSE;
  id = json_object_get_string_member_with_default (created, "id", NULL);
  if (id == NULL)
    {
      g_set_error_literal (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_PROTOCOL,
                           _("Microsoft Graph created the draft but did not say which message it is"));
      return FALSE;
    }
  {
    g_autofree char *escaped = g_uri_escape_string (id, NULL, FALSE);
    g_autofree char *path = g_strdup_printf ("/messages/%s", escaped);

    message_url = graph_url (self, path);
  }
  for (guint i = 0; i < parts->attachments->len; i++)
    {
      const MrEwsAttachment *attachment = g_ptr_array_index (parts->attachments, i);

      if (g_bytes_get_size (attachment->content) > GRAPH_INLINE_ATTACHMENT)
        {
          if (!graph_upload (self, message_url, attachment, cancellable, error))
            return FALSE;
        }
      else
        {
          g_autoptr(JsonBuilder) file = json_builder_new ();
          g_autoptr(GBytes) request = NULL;
          g_autofree char *encoded = g_base64_encode (g_bytes_get_data (attachment->content, NULL),
                                                      g_bytes_get_size (attachment->content));
          g_autofree char *url = g_strdup_printf ("%s/attachments", message_url);

          json_builder_begin_object (file);
          json_builder_set_member_name (file, "@odata.type");
          json_builder_add_string_value (file, "#microsoft.graph.fileAttachment");
          json_builder_set_member_name (file, "name");
          json_builder_add_string_value (file, attachment->name);
          json_builder_set_member_name (file, "contentType");
          json_builder_add_string_value (file, attachment->content_type);
          if (attachment->content_id != NULL)
            {
              json_builder_set_member_name (file, "isInline");
              json_builder_add_boolean_value (file, TRUE);
              json_builder_set_member_name (file, "contentId");
              json_builder_add_string_value (file, attachment->content_id);
            }
          json_builder_set_member_name (file, "contentBytes");
          json_builder_add_string_value (file, encoded);
          json_builder_end_object (file);
          request = json_bytes (file);
          if (!graph_request (self, "POST", url, "application/json", request, NULL, TRUE, SOUP_STATUS_CREATED, NULL,
                              cancellable, error))
            return FALSE;
        }
    }
  send_url = g_strdup_printf ("%s/send", message_url);
  {
    g_autoptr(GBytes) empty = g_bytes_new_static ("", 0);

    return graph_request (self, "POST", send_url, "application/json", empty, NULL, TRUE, SOUP_STATUS_ACCEPTED, NULL,
                          cancellable, error);
  }
}

gboolean
mr_exchange_graph_send (MrExchange          *self,
                        GBytes              *message,
                        const char * const  *to,
                        const char * const  *cc,
                        const char * const  *bcc,
                        GCancellable        *cancellable,
                        GError             **error)
{
  g_autoptr(GBytes) with_bcc = mr_message_add_bcc (message, bcc);
  g_autofree char *encoded = g_base64_encode (g_bytes_get_data (with_bcc, NULL), g_bytes_get_size (with_bcc));
  gsize length = strlen (encoded);
  g_autoptr(GBytes) body = g_bytes_new_take (g_steal_pointer (&encoded), length);
  g_autofree char *url = graph_url (self, "/sendMail");

  if (length > GRAPH_REQUEST_LIMIT)
    return graph_send_in_steps (self, message, to, cc, bcc, cancellable, error);
  /* The MIME form: Graph keeps a copy in Sent Items and takes no saveToSentItems. */
  return graph_call (self, "POST", url, body, SOUP_STATUS_ACCEPTED, cancellable, error);
}

gboolean
mr_exchange_graph_check (MrExchange    *self,
                         GCancellable  *cancellable,
                         GError       **error)
{
  g_autofree char *url = graph_url (self, "/mailFolders/sentitems");

  return graph_call (self, "GET", url, NULL, SOUP_STATUS_OK, cancellable, error);
}
