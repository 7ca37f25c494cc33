/* mr-exchange.c: EWS and Microsoft Graph over libsoup, and what their failures mean to a person
 *
 * Over 1,000 lines, and kept whole: EWS, Graph and autodiscover share one session, one login (NTLM,
 * Basic, Negotiate, or OAuth2 tokens from MrTokenSource), the waits a busy service asks for and one
 * reading of failures into words. What is not Exchange's is elsewhere: HTTP in mr-http.c, the
 * EWS XML in mr-ews.c, the sign-in in mr-oauth.c, the transport in mr-exchange-transport.c.
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "mr-ews.h"
#include "mr-exchange.h"
#include "mr-json.h"
#include "mr-http.h"
#include "mr-message.h"
#include "mr-smtp-error.h"
#include "mr-token-source.h"


/* Graph refuses requests over 4 MB (attachments beyond that need an upload session). */
#define GRAPH_REQUEST_LIMIT (4 * 1024 * 1024)
/* Busy answers shorter than this are waited out here; longer ones go back to the outbox. */
#define LONGEST_WAIT_MS 10000
#define BUSY_TRIES 3

struct _MrExchange
{
  GObject          parent_instance;

  char            *transport;        /* "ews" or "graph" */
  char            *ews_url;          /* NULL until set or discovered */
  gboolean         ews_url_kept;     /* found by an earlier autodiscover (see cached_ews_url()) */
  char            *auth;             /* ntlm, basic, negotiate, oauth2 */
  MrSecretAccount *account;          /* the EWS password's; NULL with OAuth2 or Negotiate */
  char            *password;
  char            *from_address;
  char            *mailbox;          /* Graph: a shared mailbox to send from; NULL for "me" */
  gboolean         save_copy;
  char            *trust_file;
  GTlsDatabase    *tls_database;
  guint            timeout_s;
  char            *graph_endpoint;
  MrTokenSource   *tokens;           /* OAuth2: whose sign-in, and its access tokens */
  char            *route;
  char            *warning;

  SoupSession     *session;          /* made in the thread that sends */
  GMutex           lock;             /* guards transcript */
  GString         *transcript;
  char            *reply;
  guint            retry_after;
  /* The last access token, kept for the requests of its lifetime (a mailshot's mails). */
  /* Autodiscover's host rules, for the authenticate handler. */
  char            *trusted_domain;
  char            *allowed_host;
  gboolean         password_refused;
};

G_DEFINE_FINAL_TYPE (MrExchange, mr_exchange, G_TYPE_OBJECT)

static void
mr_exchange_finalize (GObject *object)
{
  MrExchange *self = MR_EXCHANGE (object);

  g_free (self->transport);
  g_free (self->ews_url);
  g_free (self->auth);
  mr_secret_account_free (self->account);
  mr_secret_free (self->password);
  g_free (self->from_address);
  g_free (self->mailbox);
  g_free (self->trust_file);
  g_clear_object (&self->tls_database);
  g_free (self->graph_endpoint);
  g_clear_object (&self->tokens);
  g_free (self->route);
  g_free (self->warning);
  g_clear_object (&self->session);
  g_mutex_clear (&self->lock);
  g_string_free (self->transcript, TRUE);
  g_free (self->reply);
  g_free (self->trusted_domain);
  g_free (self->allowed_host);

  G_OBJECT_CLASS (mr_exchange_parent_class)->finalize (object);
}

static void
mr_exchange_class_init (MrExchangeClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mr_exchange_finalize;
}

static void
mr_exchange_init (MrExchange *self)
{
  g_mutex_init (&self->lock);
  self->transcript = g_string_new (NULL);
}

/* ---- Settings --------------------------------------------------------------------------------- */

static gboolean
host_is_exchange_online (const char *url)
{
  g_autoptr(GUri) uri = url ? g_uri_parse (url, G_URI_FLAGS_NONE, NULL) : NULL;
  const char *host = uri ? g_uri_get_host (uri) : NULL;

  return host != NULL && (g_ascii_strcasecmp (host, "outlook.office365.com") == 0 ||
                          g_ascii_strcasecmp (host, "outlook.office.com") == 0);
}

gboolean
mr_exchange_is_set_up (MrSettings  *settings,
                       const char  *app,
                       GError     **error)
{
  g_autofree char *transport = mr_settings_dup_effective_string (settings, app, "exchange.transport");
  g_autofree char *ews_url = mr_settings_dup_effective_string (settings, app, "exchange.ews_url");
  g_autofree char *client_id = mr_settings_dup_effective_string (settings, app, "exchange.client_id");

  if (g_str_equal (transport, "graph"))
    {
      if (*client_id != '\0')
        return TRUE;
      g_set_error_literal (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_NOT_SET_UP,
                           _("Exchange is not set up: Microsoft Graph needs the company’s app registration. The "
                             "admin registers Mailroom in Microsoft Entra ID and enters its application (client) ID "
                             "in exchange.client_id"));
      return FALSE;
    }
  if (*ews_url != '\0' || mr_settings_get_effective_boolean (settings, app, "exchange.autodiscover"))
    return TRUE;
  g_set_error_literal (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_NOT_SET_UP,
                       _("Exchange is not set up: the admin enters the Exchange Web Services address "
                         "(exchange.ews_url) or turns on autodiscover, or chooses Microsoft Graph for Exchange Online"));
  return FALSE;
}

static MrExchange *exchange_new (MrSettings  *settings,
                                 const char  *app,
                                 gboolean     require_set_up,
                                 GError     **error);

MrExchange *
mr_exchange_new (MrSettings  *settings,
                 const char  *app,
                 GError     **error)
{
  return exchange_new (settings, app, TRUE, error);
}

MrExchange *
mr_exchange_new_for_setup (MrSettings  *settings,
                           const char  *app,
                           GError     **error)
{
  return exchange_new (settings, app, FALSE, error);
}

static MrExchange *
exchange_new (MrSettings  *settings,
              const char  *app,
              gboolean     require_set_up,
              GError     **error)
{
  g_autoptr(MrExchange) self = g_object_new (MR_TYPE_EXCHANGE, NULL);
  g_autofree char *ews_url = mr_settings_dup_effective_string (settings, app, "exchange.ews_url");
  g_autofree char *username = mr_settings_dup_effective_string (settings, app, "exchange.username");
  g_autofree char *mailbox = mr_settings_dup_effective_string (settings, app, "exchange.mailbox");
  g_autofree char *trust = mr_settings_dup_effective_string (settings, app, "exchange.trust_file");
  g_autofree char *user_email = mr_settings_dup_effective_string (settings, NULL, "user.email");

  if (require_set_up && !mr_exchange_is_set_up (settings, app, error))
    return NULL;
  self->transport = mr_settings_dup_effective_string (settings, app, "exchange.transport");
  self->auth = mr_settings_dup_effective_string (settings, app, "exchange.auth");
  self->save_copy = mr_settings_get_effective_boolean (settings, app, "exchange.save_copy");
  self->timeout_s = (guint) MAX (1, (mr_settings_get_effective_int (settings, app, "exchange.timeout_ms") + 999) / 1000);
  self->graph_endpoint = mr_settings_dup_effective_string (settings, app, "exchange.graph_endpoint");
  self->trust_file = *trust ? g_steal_pointer (&trust) : NULL;
  self->mailbox = *mailbox ? g_steal_pointer (&mailbox) : NULL;
  self->ews_url = *ews_url ? g_steal_pointer (&ews_url) : NULL;

  /* Exchange sends from the mailbox that logs in: the person's own address, when it is known. */
  self->from_address = *user_email != '\0' ? g_strdup (user_email)
                                            : mr_settings_dup_effective_string (settings, app, "sender.from_address");
  if (*username == '\0')
    {
      g_free (username);
      username = g_strdup (self->from_address);
    }
  if (username == NULL || *username == '\0')
    {
      g_set_error_literal (error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_INVALID_VALUE,
                           _("exchange.username: there is no Exchange login (and no address in user.email to use "
                             "as one)"));
      return NULL;
    }

  {
    g_autoptr(MrOAuthConfig) oauth = mr_oauth_config_new_for_settings (settings, app, "microsoft");

    self->tokens = mr_token_source_new (oauth, self->trust_file);
  }

  if (g_strcmp0 (self->transport, "graph") == 0)
    {
      g_free (self->auth);
      self->auth = g_strdup ("oauth2");
      self->route = self->mailbox ? g_strdup_printf (_("Microsoft Graph, mailbox %s"), self->mailbox)
                                  : g_strdup (_("Microsoft Graph"));
    }
  else
    {
      self->route = self->ews_url ? g_strdup_printf (_("EWS at %s"), self->ews_url)
                                  : g_strdup (_("EWS (address found by autodiscover)"));
      if (g_strcmp0 (self->auth, "ntlm") == 0 || g_strcmp0 (self->auth, "basic") == 0)
        {
          g_autoptr(GUri) uri = self->ews_url ? g_uri_parse (self->ews_url, G_URI_FLAGS_NONE, NULL) : NULL;

          self->account = mr_secret_account_new_for ("exchange", MR_SECRET_SCOPE_USER,
                                                     uri ? g_uri_get_host (uri) : mr_address_get_domain (self->from_address),
                                                     username, NULL);
        }
      if (host_is_exchange_online (self->ews_url))
        self->warning = g_strdup (_("This EWS address is Exchange Online. Microsoft turned EWS off there by default "
                                    "on 1 October 2026 and shuts it down on 1 April 2027: use Microsoft Graph "
                                    "(exchange.transport = graph) instead."));
    }
  return g_steal_pointer (&self);
}

void
mr_exchange_set_password (MrExchange *self,
                          const char *password)
{
  mr_secret_free (self->password);
  self->password = g_strdup (password);
}

const MrSecretAccount *
mr_exchange_get_account (MrExchange *self)
{
  return self->account;
}

const char *
mr_exchange_get_route (MrExchange *self)
{
  return self->route;
}

const char *
mr_exchange_get_transport (MrExchange *self)
{
  return self->transport;
}

const char *
mr_exchange_get_warning (MrExchange *self)
{
  return self->warning;
}

guint
mr_exchange_get_retry_after (MrExchange *self)
{
  return self->retry_after;
}

const char *
mr_exchange_get_reply (MrExchange *self)
{
  return self->reply;
}

const MrOAuthConfig *
mr_exchange_get_oauth_config (MrExchange *self)
{
  return mr_token_source_get_config (self->tokens);
}

char *
mr_exchange_dup_transcript (MrExchange *self)
{
  char *text;

  g_mutex_lock (&self->lock);
  text = g_strdup (self->transcript->str);
  g_mutex_unlock (&self->lock);
  return text;
}

static void
note (MrExchange *self,
      const char *format,
      ...) G_GNUC_PRINTF (2, 3);

static void
note (MrExchange *self,
      const char *format,
      ...)
{
  va_list args;

  va_start (args, format);
  g_mutex_lock (&self->lock);
  g_string_append_vprintf (self->transcript, format, args);
  g_string_append_c (self->transcript, '\n');
  g_mutex_unlock (&self->lock);
  va_end (args);
}

static void
set_reply (MrExchange *self,
           const char *reply)
{
  g_free (self->reply);
  self->reply = g_strdup (reply);
}

/* ---- HTTP ------------------------------------------------------------------------------------- */

/* libsoup 3.2 sends an empty body when it repeats a request for NTLM's handshake: set it again. */
static void
on_restarted (SoupMessage *message,
              GBytes      *body)
{
  const char *type = soup_message_headers_get_content_type (soup_message_get_request_headers (message), NULL);

  soup_message_set_request_body_from_bytes (message, type, body);
}

static void
set_body (SoupMessage *message,
          const char  *type,
          GBytes      *body)
{
  soup_message_set_request_body_from_bytes (message, type, body);
  g_signal_connect_data (message, "restarted", G_CALLBACK (on_restarted), g_bytes_ref (body),
                         (GClosureNotify) (void (*) (void)) g_bytes_unref, G_CONNECT_DEFAULT);
}

static gboolean
host_is_trusted (MrExchange *self,
                 const char *host)
{
  gsize host_length, domain_length;

  if (host == NULL)
    return FALSE;
  if (self->allowed_host != NULL && g_ascii_strcasecmp (host, self->allowed_host) == 0)
    return TRUE;
  if (self->trusted_domain == NULL)
    return TRUE;   /* a URL the admin typed */
  host_length = strlen (host);
  domain_length = strlen (self->trusted_domain);
  return g_ascii_strcasecmp (host, self->trusted_domain) == 0 ||
         (host_length > domain_length && host[host_length - domain_length - 1] == '.' &&
          g_ascii_strcasecmp (host + host_length - domain_length, self->trusted_domain) == 0);
}

static gboolean
on_authenticate (SoupMessage *message,
                 SoupAuth    *auth,
                 gboolean     retrying,
                 MrExchange  *self)
{
  GUri *uri = soup_message_get_uri (message);

  /* Passwords only over TLS, and only to the hosts the person's domain (or their yes) covers. */
  if (g_strcmp0 (g_uri_get_scheme (uri), "https") != 0 || !host_is_trusted (self, g_uri_get_host (uri)))
    return FALSE;
  if (retrying)
    {
      self->password_refused = TRUE;
      return FALSE;
    }
  if (self->password == NULL || self->account == NULL)
    return FALSE;
  note (self, "authenticate %s as %s (password hidden)", soup_auth_get_scheme_name (auth), self->account->user);
  soup_auth_authenticate (auth, self->account->user, self->password);
  return TRUE;
}

static SoupSession *
get_session (MrExchange  *self,
             GError     **error)
{
  if (self->session != NULL)
    return self->session;
  self->session = soup_session_new_with_options ("timeout", self->timeout_s, "idle-timeout", self->timeout_s,
                                                 "user-agent", "Mailroom/" MAILROOM_VERSION, NULL);
  if (self->tls_database == NULL && self->trust_file != NULL)
    {
      self->tls_database = g_tls_file_database_new (self->trust_file, error);
      if (self->tls_database == NULL)
        {
          g_clear_object (&self->session);
          return NULL;
        }
    }
  if (self->tls_database != NULL)
    soup_session_set_tls_database (self->session, self->tls_database);
  if (g_strcmp0 (self->auth, "ntlm") == 0)
    soup_session_add_feature_by_type (self->session, SOUP_TYPE_AUTH_NTLM);
  else if (g_strcmp0 (self->auth, "negotiate") == 0 && soup_auth_negotiate_supported ())
    soup_session_add_feature_by_type (self->session, SOUP_TYPE_AUTH_NEGOTIATE);
  return self->session;
}

SoupSession *
mr_exchange_get_session (MrExchange *self)
{
  return get_session (self, NULL);
}

/* The password for NTLM and Basic, from the caller or the keyring. */
static gboolean
find_password (MrExchange    *self,
               GCancellable  *cancellable,
               GError       **error)
{
  GError *keyring_error = NULL;

  if (self->account == NULL || self->password != NULL)
    return TRUE;
  self->password = mr_secrets_lookup_sync (self->account, cancellable, &keyring_error);
  if (keyring_error != NULL)
    {
      g_propagate_error (error, keyring_error);
      return FALSE;
    }
  if (self->password == NULL)
    {
      g_set_error (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_PASSWORD_MISSING,
                   _("There is no Exchange password for %s in the keyring. Enter it in My Settings or with "
                     "`mailroom-cli exchange password`"), self->account->user);
      return FALSE;
    }
  return TRUE;
}

/* A 401 after Mailroom answered the challenge, or a challenge it could not answer. */
static void
set_unauthorized_error (MrExchange  *self,
                        SoupMessage *message,
                        GError     **error)
{
  const char *offered = soup_message_headers_get_list (soup_message_get_response_headers (message), "WWW-Authenticate");
  g_autofree char *offered_lower = g_ascii_strdown (offered ? offered : "", -1);
  const char *wanted = g_strcmp0 (self->auth, "oauth2") == 0 ? "bearer" : self->auth;

  if (offered != NULL && strstr (offered_lower, wanted) == NULL && g_strcmp0 (self->auth, "oauth2") != 0)
    g_set_error (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_AUTH_UNAVAILABLE,
                 _("The Exchange server does not offer %s login (it offers: %s). The admin chooses one of these in "
                   "exchange.auth"), self->auth, offered);
  else if (g_strcmp0 (self->auth, "oauth2") == 0)
    g_set_error_literal (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_SIGN_IN_REQUIRED,
                         _("Exchange refused the Microsoft sign-in token. Sign in again: `mailroom-cli exchange "
                           "login` or Sign In in My Settings"));
  else
    g_set_error (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_AUTH_FAILED,
                 _("Exchange refused the login of %s: the user name (for NTLM often DOMAIN\\user) or the password "
                   "is wrong, or the account is locked"), self->account ? self->account->user : "?");
}

static gboolean
add_bearer (MrExchange    *self,
            SoupMessage   *message,
            const char    *scope,
            GCancellable  *cancellable,
            GError       **error)
{
  g_autoptr(MrSecret) header = NULL;
  g_autoptr(MrSecret) token = mr_token_source_dup_token_sync (self->tokens, scope, cancellable, error);

  if (token == NULL)
    return FALSE;
  header = g_strdup_printf ("Bearer %s", token);
  soup_message_headers_replace (soup_message_get_request_headers (message), "Authorization", header);
  note (self, "authorization: Bearer (token hidden)");
  return TRUE;
}

/* ---- EWS -------------------------------------------------------------------------------------- */

static gboolean
check_https (MrExchange  *self,
             const char  *url,
             GError     **error)
{
  g_autoptr(GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);

  if (uri == NULL || g_strcmp0 (g_uri_get_scheme (uri), "https") != 0)
    {
      g_set_error (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_INSECURE,
                   _("%s is not an https:// address: Mailroom sends Exchange logins only over an encrypted "
                     "connection"), url);
      return FALSE;
    }
  return TRUE;
}

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
  if (!check_https (self, self->ews_url, error) || !find_password (self, cancellable, error))
    return NULL;
  if (get_session (self, error) == NULL)
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
      set_body (message, "text/xml; charset=utf-8", request);
      if (g_strcmp0 (self->auth, "oauth2") == 0 && !add_bearer (self, message, MR_OAUTH_SCOPE_EWS, cancellable, error))
        return NULL;
      g_signal_connect (message, "authenticate", G_CALLBACK (on_authenticate), self);
      self->password_refused = FALSE;
      answer = mr_http_send_and_read (self->session, message, lines, cancellable, error);
      note (self, "%s", g_strchomp (lines->str));
      if (answer == NULL)
        return NULL;
      status = soup_message_get_status (message);
      if (status == SOUP_STATUS_UNAUTHORIZED)
        {
          mr_token_source_forget (self->tokens);
          set_unauthorized_error (self, message, error);
          return NULL;
        }
      if (status != SOUP_STATUS_OK && status != SOUP_STATUS_INTERNAL_SERVER_ERROR)
        {
          set_reply (self, soup_message_get_reason_phrase (message));
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
      note (self, "response: %s%s%s", response->code ? response->code : "?", response->text ? ": " : "",
            response->text ? response->text : "");
      set_reply (self, response->code);
      if (!response->fault && g_strcmp0 (response->response_class, "Error") != 0)
        return g_steal_pointer (&response);

      self->retry_after = (guint) ((response->back_off_ms + 999) / 1000);
      if (g_strcmp0 (response->code, "ErrorServerBusy") == 0 && attempt < BUSY_TRIES &&
          response->back_off_ms <= LONGEST_WAIT_MS)
        {
          note (self, "waiting %" G_GINT64_FORMAT " ms, as the server asked", response->back_off_ms);
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
    note (self, "autodiscover: %s (found earlier)", self->ews_url);
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
  note (self, "autodiscover: %s does not answer any more (%s): looking again", self->ews_url, local_error->message);
  g_error_free (local_error);
  keep_ews_url (self->from_address, NULL);
  g_clear_pointer (&self->ews_url, g_free);
  if (!ensure_ews_url (self, cancellable, error))
    return NULL;
  return ews_call (self, request, cancellable, error);
}

/* ---- Graph ------------------------------------------------------------------------------------ */

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
  set_reply (self, code ? code : soup_message_get_reason_phrase (message));

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
  if (!check_https (self, url, error) || get_session (self, error) == NULL)
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
        set_body (message, content_type, body);
      if (content_range != NULL)
        soup_message_headers_replace (soup_message_get_request_headers (message), "Content-Range", content_range);
      if (authorize && !add_bearer (self, message, MR_OAUTH_SCOPE_GRAPH_SEND, cancellable, error))
        return FALSE;
      answer = mr_http_send_and_read (self->session, message, lines, cancellable, error);
      note (self, "%s", g_strchomp (lines->str));
      if (answer == NULL)
        return FALSE;
      status = soup_message_get_status (message);
      if (status == expected || (expected == SOUP_STATUS_OK && status == SOUP_STATUS_CREATED && content_range))
        {
          g_autofree char *reply = g_strdup_printf ("%u %s", status, soup_message_get_reason_phrase (message));
          g_autoptr(JsonNode) root = NULL;

          set_reply (self, reply);
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
          note (self, "waiting %u s, as the service asked", self->retry_after);
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
  note (self, "the message is over 4 MB: a draft, its attachments, then send");
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
mr_exchange_send_sync (MrExchange           *self,
                       const MrSmtpEnvelope *envelope,
                       GBytes               *message,
                       GCancellable         *cancellable,
                       GError              **error)
{
  g_auto(GStrv) to = NULL;
  g_auto(GStrv) cc = NULL;
  g_auto(GStrv) bcc = NULL;

  self->retry_after = 0;
  mr_message_split_recipients (message, envelope, &to, &cc, &bcc);

  if (g_strcmp0 (self->transport, "graph") == 0)
    {
      g_autoptr(GBytes) with_bcc = mr_message_add_bcc (message, (const char * const *) bcc);
      g_autofree char *encoded = g_base64_encode (g_bytes_get_data (with_bcc, NULL), g_bytes_get_size (with_bcc));
      gsize length = strlen (encoded);
      g_autoptr(GBytes) body = g_bytes_new_take (g_steal_pointer (&encoded), length);
      g_autofree char *url = graph_url (self, "/sendMail");

      if (length > GRAPH_REQUEST_LIMIT)
        return graph_send_in_steps (self, message, (const char * const *) to, (const char * const *) cc,
                                    (const char * const *) bcc, cancellable, error);
      /* The MIME form: Graph keeps a copy in Sent Items and takes no saveToSentItems. */
      return graph_call (self, "POST", url, body, SOUP_STATUS_ACCEPTED, cancellable, error);
    }

  {
    g_autoptr(GBytes) request = NULL;
    g_autoptr(MrEwsResponse) response = NULL;
    g_autoptr(GError) local_error = NULL;

    request = mr_ews_build_create_item (message, (const char * const *) to, (const char * const *) cc,
                                        (const char * const *) bcc, self->save_copy);
    response = ews_call_found (self, request, cancellable, &local_error);
    if (response != NULL)
      return TRUE;
    if (g_strcmp0 (self->reply, "ErrorMimeContentConversionFailed") != 0)
      {
        g_propagate_error (error, g_steal_pointer (&local_error));
        return FALSE;
      }
    /* This server cannot take the whole MIME message while sending: draft, attach, send. */
    note (self, "the server could not take the MIME message: creating a draft, attaching, then sending");
    return ews_send_in_steps (self, message, (const char * const *) to, (const char * const *) cc,
                              (const char * const *) bcc, cancellable, error);
  }
}

gboolean
mr_exchange_check_sync (MrExchange    *self,
                        GCancellable  *cancellable,
                        GError       **error)
{
  if (g_strcmp0 (self->transport, "graph") == 0)
    {
      g_autofree char *url = graph_url (self, "/mailFolders/sentitems");
      return graph_call (self, "GET", url, NULL, SOUP_STATUS_OK, cancellable, error);
    }
  {
    g_autoptr(GBytes) request = mr_ews_build_get_folder ();
    g_autoptr(MrEwsResponse) response = ews_call_found (self, request, cancellable, error);

    return response != NULL;
  }
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
      if (!host_is_trusted (self, g_uri_get_host (uri)))
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
      set_body (message, "text/xml; charset=utf-8", request);
      g_signal_connect (message, "authenticate", G_CALLBACK (on_authenticate), self);
      answer = mr_http_send_and_read (self->session, message, lines, cancellable, &step_error);
      if (lines->len > 0)
        note (self, "%s", g_strchomp (lines->str));
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
          set_unauthorized_error (self, message, error);
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
      note (self, "autodiscover: redirected to the address %s", redirect_address);
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
  if (get_session (self, error) == NULL)
    return NULL;
  {
    g_autoptr(GError) password_error = NULL;

    /* Many servers answer autodiscover without a login; ask for one only when it is refused. */
    if (!find_password (self, cancellable, &password_error) &&
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
      note (self, "autodiscover: trying %s", (const char *) g_ptr_array_index (candidates, i));
      result = discover_at (self, g_ptr_array_index (candidates, i), &address, &ews_url, &unconfirmed, tried,
                            cancellable, error);
      if (result == STEP_FOUND)
        {
          note (self, "autodiscover: %s", ews_url);
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
