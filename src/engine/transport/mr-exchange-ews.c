/* mr-exchange-ews.c: Exchange Web Services: the SOAP calls, their failures in words, the EWS URL
 * (set, or found by autodiscover and kept), and sending (the whole MIME message, or draft, attach,
 * send for a server that cannot take it). The XML itself is mr-ews.c's. */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "mr-ews.h"
#include "mr-exchange-private.h"
#include "mr-http.h"
#include "mr-message.h"

/* What an EWS response code means. */
static void
set_ews_error (MrExchange          *self,
               const MrEwsResponse *response,
               GError             **error)
{
  const char *code = response->code ? response->code : "";

  if (g_str_equal (code, "ErrorSendAsDenied"))
    g_set_error (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_SEND_AS_DENIED,
                 _("Exchange does not let this mailbox send as %s (ErrorSendAsDenied). An Exchange administrator "
                   "grants “Send As” on that address, or the template sends from your own address"),
                 self->from_address);
  else if (g_str_equal (code, "ErrorServerBusy"))
    g_set_error (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_BUSY,
                 _("Exchange is busy and asked Mailroom to wait %u s (ErrorServerBusy); the mail will be tried "
                   "again"), self->retry_after);
  else if (g_str_equal (code, "ErrorInvalidRecipients") || g_str_equal (code, "ErrorInvalidSmtpAddress") ||
           g_str_equal (code, "ErrorRecipientNotFound"))
    g_set_error (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_RECIPIENT_REFUSED,
                 _("Exchange refused a recipient (%s)"), code);
  else if (g_str_equal (code, "ErrorMessageSizeExceeded") || g_str_equal (code, "ErrorExceededMessageLimit"))
    g_set_error (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_TOO_BIG,
                 _("The message is larger than Exchange accepts (%s): send the attachments as links"), code);
  else if (g_str_equal (code, "ErrorAccessDenied") || g_str_equal (code, "ErrorImpersonateUserDenied"))
    g_set_error (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_AUTH_FAILED,
                 _("Exchange denied access to the mailbox (%s)"), code);
  else if (response->fault)
    g_set_error (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_PROTOCOL,
                 _("Exchange could not process the request (%s: %s)"), *code ? code : "SOAP fault",
                 response->text ? response->text : "");
  else
    g_set_error (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_REJECTED,
                 _("Exchange refused the message (%s)"), *code ? code : _("no response code"));
}

/* One EWS request, with the busy answers waited out; returns the successful response. */
static MrEwsResponse *
ews_call (MrExchange    *self,
          GBytes        *request,
          GCancellable  *cancellable,
          GError       **error)
{
  if (!mr_exchange_check_https (self, self->ews_url, error) || !mr_exchange_find_password (self, cancellable, error))
    return NULL;
  if (mr_exchange_ensure_session (self, error) == NULL)
    return NULL;

  for (guint attempt = 1;; attempt++)
    {
      g_autoptr(SoupMessage) message = soup_message_new ("POST", self->ews_url);
      g_autoptr(GBytes) answer = NULL;
      g_autoptr(MrEwsResponse) response = NULL;
      g_autoptr(GString) lines = g_string_new (NULL);
      GError *parse_error = NULL;
      guint status;

      if (message == NULL)
        {
          g_set_error (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_NOT_SET_UP,
                       _("exchange.ews_url: “%s” is not a web address"), self->ews_url);
          return NULL;
        }
      mr_exchange_set_body (message, "text/xml; charset=utf-8", request);
      if (g_strcmp0 (self->auth, "oauth2") == 0 && !mr_exchange_add_bearer (self, message, MR_OAUTH_SCOPE_EWS, cancellable, error))
        return NULL;
      g_signal_connect (message, "authenticate", G_CALLBACK (mr_exchange_on_authenticate), self);
      self->password_refused = FALSE;
      answer = mr_http_send_and_read (self->session, message, lines, cancellable, error);
      mr_exchange_note (self, "%s", g_strchomp (lines->str));
      if (answer == NULL)
        return NULL;
      status = soup_message_get_status (message);
      if (status == SOUP_STATUS_UNAUTHORIZED)
        {
          mr_token_source_forget (self->tokens);
          mr_exchange_set_unauthorized_error (self, message, error);
          return NULL;
        }
      if (status != SOUP_STATUS_OK && status != SOUP_STATUS_INTERNAL_SERVER_ERROR)
        {
          mr_exchange_set_reply (self, soup_message_get_reason_phrase (message));
          if (status == SOUP_STATUS_NOT_FOUND)
            g_set_error (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_NOT_SET_UP,
                         _("There is no Exchange Web Services at %s (404): check exchange.ews_url"), self->ews_url);
          else if (status == SOUP_STATUS_SERVICE_UNAVAILABLE || status == 429)
            g_set_error (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_BUSY,
                         _("Exchange is not available right now (%u); the mail will be tried again"), status);
          else
            g_set_error (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_PROTOCOL,
                         _("The Exchange server answered %u %s"), status, soup_message_get_reason_phrase (message));
          return NULL;
        }
      response = mr_ews_parse_response (answer, &parse_error);
      if (response == NULL)
        {
          g_set_error (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_PROTOCOL, "%s", parse_error->message);
          g_error_free (parse_error);
          return NULL;
        }
      mr_exchange_note (self, "response: %s%s%s", response->code ? response->code : "?", response->text ? ": " : "",
            response->text ? response->text : "");
      mr_exchange_set_reply (self, response->code);
      if (!response->fault && g_strcmp0 (response->response_class, "Error") != 0)
        return g_steal_pointer (&response);

      self->retry_after = (guint) ((response->back_off_ms + 999) / 1000);
      if (g_strcmp0 (response->code, "ErrorServerBusy") == 0 && attempt < BUSY_TRIES &&
          response->back_off_ms <= LONGEST_WAIT_MS)
        {
          mr_exchange_note (self, "waiting %" G_GINT64_FORMAT " ms, as the server asked", response->back_off_ms);
          if (!mr_http_wait ((guint) response->back_off_ms, cancellable))
            {
              g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("Cancelled"));
              return NULL;
            }
          continue;
        }
      set_ews_error (self, response, error);
      return NULL;
    }
}

/* Autodiscover's answers are kept a day in $XDG_CACHE_HOME/mailroom/autodiscover.json, as
 * {"ADDRESS": {"url": URL, "found": UNIX-TIME}}: a send need not ask again each time (nor each
 * connection of a mailshot). An address that stops answering is forgotten and looked up again. */
#define DISCOVERY_KEPT_SECONDS (24 * 60 * 60)

#define DISCOVERY_CACHE "autodiscover.json"

static GMutex discovery_cache_lock;

static char *
cached_ews_url (const char *address)
{
  g_autofree char *key = g_ascii_strdown (address, -1);
  g_autoptr(JsonObject) cache = NULL;
  JsonObject *entry;
  char *url = NULL;

  g_mutex_lock (&discovery_cache_lock);
  cache = mr_cache_read (DISCOVERY_CACHE);
  entry = json_object_has_member (cache, key) && JSON_NODE_HOLDS_OBJECT (json_object_get_member (cache, key))
          ? json_object_get_object_member (cache, key) : NULL;
  if (entry != NULL && g_get_real_time () / G_USEC_PER_SEC - json_object_get_int_member_with_default (entry, "found", 0)
                       < DISCOVERY_KEPT_SECONDS)
    url = g_strdup (json_object_get_string_member_with_default (entry, "url", NULL));
  g_mutex_unlock (&discovery_cache_lock);
  return url;
}

/* NULL @url: forgets the address. A cache that cannot be written costs a lookup next time. */
static void
keep_ews_url (const char *address,
              const char *url)
{
  g_autofree char *key = g_ascii_strdown (address, -1);
  g_autoptr(JsonObject) cache = NULL;

  g_mutex_lock (&discovery_cache_lock);
  cache = mr_cache_read (DISCOVERY_CACHE);
  if (url != NULL)
    {
      JsonObject *entry = json_object_new ();

      json_object_set_string_member (entry, "url", url);
      json_object_set_int_member (entry, "found", g_get_real_time () / G_USEC_PER_SEC);
      json_object_set_object_member (cache, key, entry);
    }
  else if (json_object_has_member (cache, key))
    json_object_remove_member (cache, key);
  mr_cache_write (DISCOVERY_CACHE, cache);
  g_mutex_unlock (&discovery_cache_lock);
}

static gboolean
ensure_ews_url (MrExchange    *self,
                GCancellable  *cancellable,
                GError       **error)
{
  g_autofree char *unconfirmed = NULL;

  if (self->ews_url != NULL)
    return TRUE;
  self->ews_url = cached_ews_url (self->from_address);
  self->ews_url_kept = self->ews_url != NULL;
  if (self->ews_url != NULL)
    mr_exchange_note (self, "autodiscover: %s (found earlier)", self->ews_url);
  else
    {
      self->ews_url = mr_exchange_discover_sync (self, self->from_address, NULL, &unconfirmed, cancellable, error);
      if (self->ews_url == NULL)
        return FALSE;
      keep_ews_url (self->from_address, self->ews_url);
    }
  g_free (self->route);
  self->route = g_strdup_printf (_("EWS at %s"), self->ews_url);
  return TRUE;
}

/* One EWS request to the URL set or found; a URL found earlier that no longer answers there
 * (unreachable, 404) is looked up again, once. */
static MrEwsResponse *
ews_call_found (MrExchange    *self,
                GBytes        *request,
                GCancellable  *cancellable,
                GError       **error)
{
  GError *local_error = NULL;
  MrEwsResponse *response;

  if (!ensure_ews_url (self, cancellable, error))
    return NULL;
  response = ews_call (self, request, cancellable, &local_error);
  if (response != NULL || !self->ews_url_kept ||
      !(g_error_matches (local_error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_UNREACHABLE) ||
        g_error_matches (local_error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_NOT_SET_UP)))
    {
      if (local_error != NULL)
        g_propagate_error (error, local_error);
      return response;
    }
  mr_exchange_note (self, "autodiscover: %s does not answer any more (%s): looking again", self->ews_url, local_error->message);
  g_error_free (local_error);
  keep_ews_url (self->from_address, NULL);
  g_clear_pointer (&self->ews_url, g_free);
  if (!ensure_ews_url (self, cancellable, error))
    return NULL;
  return ews_call (self, request, cancellable, error);
}

/* ---- Sending ---------------------------------------------------------------------------------- */

static gboolean
ews_send_in_steps (MrExchange         *self,
                   GBytes             *message,
                   const char * const *to,
                   const char * const *cc,
                   const char * const *bcc,
                   GCancellable       *cancellable,
                   GError            **error)
{
  g_autoptr(MrEwsParts) parts = mr_ews_parts_from_mime (message);
  g_autoptr(GBytes) draft = mr_ews_build_create_draft (parts, to, cc, bcc);
  g_autoptr(MrEwsResponse) created = ews_call (self, draft, cancellable, error);
  g_autofree char *item_id = NULL;
  g_autofree char *change_key = NULL;

  if (created == NULL)
    return FALSE;
  if (created->item_id == NULL)
    {
      g_set_error_literal (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_PROTOCOL,
                           _("Exchange created the draft but did not say which item it is"));
      return FALSE;
    }
  item_id = g_strdup (created->item_id);
  change_key = g_strdup (created->change_key);
  for (guint i = 0; i < parts->attachments->len; i++)
    {
      g_autoptr(GBytes) request = mr_ews_build_create_attachment (item_id, change_key,
                                                                  g_ptr_array_index (parts->attachments, i));
      g_autoptr(MrEwsResponse) attached = ews_call (self, request, cancellable, error);

      if (attached == NULL)
        return FALSE;
      /* Each attachment changes the item: the next request needs its new ChangeKey. */
      if (attached->change_key != NULL)
        {
          g_free (change_key);
          change_key = g_strdup (attached->change_key);
        }
    }
  {
    g_autoptr(GBytes) request = mr_ews_build_send_item (item_id, change_key, self->save_copy);
    g_autoptr(MrEwsResponse) sent = ews_call (self, request, cancellable, error);

    return sent != NULL;
  }
}

gboolean
mr_exchange_ews_send (MrExchange          *self,
                      GBytes              *message,
                      const char * const  *to,
                      const char * const  *cc,
                      const char * const  *bcc,
                      GCancellable        *cancellable,
                      GError             **error)
{
  g_autoptr(GBytes) request = NULL;
  g_autoptr(MrEwsResponse) response = NULL;
  g_autoptr(GError) local_error = NULL;

  request = mr_ews_build_create_item (message, to, cc, bcc, self->save_copy);
  response = ews_call_found (self, request, cancellable, &local_error);
  if (response != NULL)
    return TRUE;
  if (g_strcmp0 (self->reply, "ErrorMimeContentConversionFailed") != 0)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  /* This server cannot take the whole MIME message while sending: draft, attach, send. */
  mr_exchange_note (self, "the server could not take the MIME message: creating a draft, attaching, then sending");
  return ews_send_in_steps (self, message, to, cc, bcc, cancellable, error);
}

gboolean
mr_exchange_ews_check (MrExchange    *self,
                       GCancellable  *cancellable,
                       GError       **error)
{
  g_autoptr(GBytes) request = mr_ews_build_get_folder ();
  g_autoptr(MrEwsResponse) response = ews_call_found (self, request, cancellable, error);

  return response != NULL;
}

/* ---- Autodiscover ----------------------------------------------------------------------------- */

typedef enum { STEP_FOUND, STEP_NEXT_CANDIDATE, STEP_FAILED } StepResult;

/* POSTs the autodiscover request to @url and follows what it says, within the host rules. */
static StepResult
discover_at (MrExchange    *self,
             const char    *start_url,
             char         **address,
             char         **ews_url,
             char         **unconfirmed_host,
             GString       *tried,
             GCancellable  *cancellable,
             GError       **error)
{
  g_autofree char *url = g_strdup (start_url);

  for (guint hop = 0; hop < 10; hop++)
    {
      g_autoptr(GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
      g_autoptr(SoupMessage) message = NULL;
      g_autoptr(GBytes) request = mr_ews_build_autodiscover (*address);
      g_autoptr(GBytes) answer = NULL;
      g_autoptr(GString) lines = g_string_new (NULL);
      g_autoptr(GError) step_error = NULL;
      g_autofree char *found = NULL;
      g_autofree char *redirect_address = NULL;
      g_autofree char *redirect_url = NULL;
      guint status;

      if (uri == NULL || g_strcmp0 (g_uri_get_scheme (uri), "https") != 0)
        {
          g_string_append_printf (tried, "\n%s: %s", url, _("not https, not followed"));
          return STEP_NEXT_CANDIDATE;
        }
      if (!mr_exchange_host_is_trusted (self, g_uri_get_host (uri)))
        {
          *unconfirmed_host = g_strdup (g_uri_get_host (uri));
          g_set_error (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_REDIRECT_UNCONFIRMED,
                       _("Autodiscover for %s leads to %s, outside %s. Mailroom sends your password there only if "
                         "you agree: confirm that %s belongs to your mail provider"),
                       *address, g_uri_get_host (uri), self->trusted_domain, g_uri_get_host (uri));
          return STEP_FAILED;
        }
      message = soup_message_new_from_uri ("POST", uri);
      soup_message_add_flags (message, SOUP_MESSAGE_NO_REDIRECT);
      mr_exchange_set_body (message, "text/xml; charset=utf-8", request);
      g_signal_connect (message, "authenticate", G_CALLBACK (mr_exchange_on_authenticate), self);
      answer = mr_http_send_and_read (self->session, message, lines, cancellable, &step_error);
      if (lines->len > 0)
        mr_exchange_note (self, "%s", g_strchomp (lines->str));
      if (answer == NULL)
        {
          if (g_error_matches (step_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            {
              g_propagate_error (error, g_steal_pointer (&step_error));
              return STEP_FAILED;
            }
          if (g_error_matches (step_error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_TLS_UNTRUSTED))
            {
              g_propagate_error (error, g_steal_pointer (&step_error));
              return STEP_FAILED;
            }
          g_string_append_printf (tried, "\n%s: %s", url, step_error->message);
          return STEP_NEXT_CANDIDATE;
        }
      status = soup_message_get_status (message);
      if (SOUP_STATUS_IS_REDIRECTION (status))
        {
          const char *location = soup_message_headers_get_one (soup_message_get_response_headers (message), "Location");
          g_autoptr(GUri) next = location ? g_uri_parse_relative (uri, location, G_URI_FLAGS_NONE, NULL) : NULL;

          if (next == NULL)
            return STEP_NEXT_CANDIDATE;
          g_free (url);
          url = g_uri_to_string (next);
          continue;
        }
      if (status == SOUP_STATUS_UNAUTHORIZED)
        {
          mr_exchange_set_unauthorized_error (self, message, error);
          return STEP_FAILED;
        }
      if (status != SOUP_STATUS_OK)
        {
          g_string_append_printf (tried, "\n%s: %u %s", url, status, soup_message_get_reason_phrase (message));
          return STEP_NEXT_CANDIDATE;
        }
      if (!mr_ews_parse_autodiscover (answer, &found, &redirect_address, &redirect_url, &step_error))
        {
          g_string_append_printf (tried, "\n%s: %s", url, step_error->message);
          return STEP_NEXT_CANDIDATE;
        }
      if (found != NULL)
        {
          *ews_url = g_steal_pointer (&found);
          return STEP_FOUND;
        }
      if (redirect_url != NULL)
        {
          g_free (url);
          url = g_steal_pointer (&redirect_url);
          continue;
        }
      /* redirectAddr: ask again, for the new address, at the same place. */
      mr_exchange_note (self, "autodiscover: redirected to the address %s", redirect_address);
      g_free (*address);
      *address = g_steal_pointer (&redirect_address);
    }
  g_set_error (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_DISCOVERY_FAILED,
               _("Autodiscover for %s went round in circles (more than 10 redirects)"), *address);
  return STEP_FAILED;
}

char *
mr_exchange_discover_sync (MrExchange    *self,
                           const char    *address_in,
                           const char    *allowed_host,
                           char         **unconfirmed_host,
                           GCancellable  *cancellable,
                           GError       **error)
{
  g_autofree char *address = g_strdup (address_in);
  const char *domain = mr_address_get_domain (address_in);
  g_autoptr(GString) tried = g_string_new (NULL);
  g_autoptr(GPtrArray) candidates = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *ews_url = NULL;
  g_autofree char *srv_name = NULL;
  g_autofree char *unconfirmed = NULL;
  gboolean srv_done = FALSE;

  if (domain == NULL || *domain == '\0')
    {
      g_set_error (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_DISCOVERY_FAILED,
                   _("“%s” is not an e-mail address, so there is no domain to ask"), address_in);
      return NULL;
    }
  if (mr_exchange_ensure_session (self, error) == NULL)
    return NULL;
  {
    g_autoptr(GError) password_error = NULL;

    /* Many servers answer autodiscover without a login; ask for one only when it is refused. */
    if (!mr_exchange_find_password (self, cancellable, &password_error) &&
        !g_error_matches (password_error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_PASSWORD_MISSING))
      {
        g_propagate_error (error, g_steal_pointer (&password_error));
        return NULL;
      }
  }
  g_free (self->trusted_domain);
  self->trusted_domain = g_ascii_strdown (domain, -1);
  g_free (self->allowed_host);
  self->allowed_host = g_strdup (allowed_host);

  g_ptr_array_add (candidates, g_strdup_printf ("https://%s/autodiscover/autodiscover.xml", self->trusted_domain));
  g_ptr_array_add (candidates, g_strdup_printf ("https://autodiscover.%s/autodiscover/autodiscover.xml",
                                                self->trusted_domain));
  for (guint i = 0; i <= candidates->len; i++)
    {
      StepResult result;

      if (i == candidates->len)
        {
          /* Last, the SRV record, which names a host and a port. */
          g_autoptr(GResolver) resolver = g_resolver_get_default ();
          GList *targets = NULL;
          g_autoptr(GError) srv_error = NULL;

          if (srv_done)
            break;
          srv_done = TRUE;
          targets = g_resolver_lookup_service (resolver, "autodiscover", "tcp", self->trusted_domain, cancellable,
                                               &srv_error);
          if (targets == NULL)
            {
              g_string_append_printf (tried, "\n_autodiscover._tcp.%s: %s", self->trusted_domain, srv_error->message);
              break;
            }
          for (GList *l = targets; l != NULL; l = l->next)
            g_ptr_array_add (candidates, g_strdup_printf ("https://%s:%u/autodiscover/autodiscover.xml",
                                                          g_srv_target_get_hostname (l->data),
                                                          g_srv_target_get_port (l->data)));
          g_resolver_free_targets (targets);
          if (i == candidates->len)
            break;
        }
      mr_exchange_note (self, "autodiscover: trying %s", (const char *) g_ptr_array_index (candidates, i));
      result = discover_at (self, g_ptr_array_index (candidates, i), &address, &ews_url, &unconfirmed, tried,
                            cancellable, error);
      if (result == STEP_FOUND)
        {
          mr_exchange_note (self, "autodiscover: %s", ews_url);
          return g_steal_pointer (&ews_url);
        }
      if (result == STEP_FAILED)
        {
          if (unconfirmed_host != NULL)
            *unconfirmed_host = g_steal_pointer (&unconfirmed);
          return NULL;
        }
    }
  g_set_error (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_DISCOVERY_FAILED,
               _("Autodiscover found no Exchange server for %s. Tried:%s\nThe admin can enter the address in "
                 "exchange.ews_url"), address_in, tried->str);
  return NULL;
}
