/* mr-exchange.c: the connection to Exchange over libsoup: the settings, one HTTP session, one login
 * (NTLM, Basic, Negotiate, or OAuth2 tokens from MrTokenSource), the transcript, and sending or
 * checking by the protocol the settings name.
 *
 * The protocols are mr-exchange-ews.c (EWS and autodiscover) and mr-exchange-graph.c (Microsoft
 * Graph), sharing mr-exchange-private.h. What is not Exchange's is elsewhere: HTTP in mr-http.c, the
 * EWS XML in mr-ews.c, the sign-in in mr-oauth.c, the transport in mr-exchange-transport.c.
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "mr-exchange-private.h"
#include "mr-message.h"
#include "mr-smtp-error.h"

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

void
mr_exchange_note (MrExchange *self,
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

void
mr_exchange_set_reply (MrExchange *self,
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

void
mr_exchange_set_body (SoupMessage *message,
                      const char  *type,
                      GBytes      *body)
{
  soup_message_set_request_body_from_bytes (message, type, body);
  g_signal_connect_data (message, "restarted", G_CALLBACK (on_restarted), g_bytes_ref (body),
                         (GClosureNotify) (void (*) (void)) g_bytes_unref, G_CONNECT_DEFAULT);
}

gboolean
mr_exchange_host_is_trusted (MrExchange *self,
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

gboolean
mr_exchange_on_authenticate (SoupMessage *message,
                             SoupAuth    *auth,
                             gboolean     retrying,
                             MrExchange  *self)
{
  GUri *uri = soup_message_get_uri (message);

  /* Passwords only over TLS, and only to the hosts the person's domain (or their yes) covers. */
  if (g_strcmp0 (g_uri_get_scheme (uri), "https") != 0 || !mr_exchange_host_is_trusted (self, g_uri_get_host (uri)))
    return FALSE;
  if (retrying)
    {
      self->password_refused = TRUE;
      return FALSE;
    }
  if (self->password == NULL || self->account == NULL)
    return FALSE;
  mr_exchange_note (self, "authenticate %s as %s (password hidden)", soup_auth_get_scheme_name (auth), self->account->user);
  soup_auth_authenticate (auth, self->account->user, self->password);
  return TRUE;
}

SoupSession *
mr_exchange_ensure_session (MrExchange  *self,
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
  return mr_exchange_ensure_session (self, NULL);
}

/* The password for NTLM and Basic, from the caller or the keyring. */
gboolean
mr_exchange_find_password (MrExchange    *self,
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
void
mr_exchange_set_unauthorized_error (MrExchange  *self,
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

gboolean
mr_exchange_add_bearer (MrExchange    *self,
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
  mr_exchange_note (self, "authorization: Bearer (token hidden)");
  return TRUE;
}

gboolean
mr_exchange_check_https (MrExchange  *self,
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
    return mr_exchange_graph_send (self, message, (const char * const *) to, (const char * const *) cc,
                                   (const char * const *) bcc, cancellable, error);
  return mr_exchange_ews_send (self, message, (const char * const *) to, (const char * const *) cc,
                               (const char * const *) bcc, cancellable, error);
}

gboolean
mr_exchange_check_sync (MrExchange    *self,
                        GCancellable  *cancellable,
                        GError       **error)
{
  if (g_strcmp0 (self->transport, "graph") == 0)
    return mr_exchange_graph_check (self, cancellable, error);
  return mr_exchange_ews_check (self, cancellable, error);
}
