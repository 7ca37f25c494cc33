/* mr-oauth.c: the device-code flow and token refresh against the Microsoft identity platform */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "mr-json.h"
#include "mr-exchange-error.h"
#include "mr-http.h"
#include "mr-oauth.h"

#define DEVICE_GRANT "urn:ietf:params:oauth:grant-type:device_code"

static char *
host_of (const char *url)
{
  g_autoptr(GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);

  return g_strdup (uri && g_uri_get_host (uri) ? g_uri_get_host (uri) : url);
}

MrOAuthConfig *
mr_oauth_config_new_microsoft (const char *authority,
                               const char *tenant,
                               const char *client_id,
                               const char *account)
{
  MrOAuthConfig *config = g_new0 (MrOAuthConfig, 1);
  gsize length = strlen (authority);

  while (length > 0 && authority[length - 1] == '/')
    length--;
  config->provider = g_strdup ("microsoft");
  config->authorize_url = g_strdup_printf ("%.*s/%s/oauth2/v2.0/authorize", (int) length, authority, tenant);
  config->token_url = g_strdup_printf ("%.*s/%s/oauth2/v2.0/token", (int) length, authority, tenant);
  config->device_url = g_strdup_printf ("%.*s/%s/oauth2/v2.0/devicecode", (int) length, authority, tenant);
  config->client_id = g_strdup (client_id);
  config->account = g_strdup (account);
  config->keyring_host = host_of (authority);
  return config;
}

MrOAuthConfig *
mr_oauth_config_new_google (const char *authorize_url,
                            const char *token_url,
                            const char *client_id,
                            const char *client_secret,
                            const char *account)
{
  MrOAuthConfig *config = g_new0 (MrOAuthConfig, 1);

  config->provider = g_strdup ("google");
  config->authorize_url = g_strdup (authorize_url);
  config->token_url = g_strdup (token_url);
  config->client_id = g_strdup (client_id);
  config->client_secret = client_secret && *client_secret ? g_strdup (client_secret) : NULL;
  config->account = g_strdup (account);
  config->keyring_host = host_of (token_url);
  return config;
}

MrOAuthConfig *
mr_oauth_config_new_for_settings (MrSettings *settings,
                                  const char *app,
                                  const char *provider)
{
  gboolean google = g_strcmp0 (provider, "google") == 0;
  g_autofree char *account = mr_settings_dup_effective_string (settings, app, google ? "smtp.username"
                                                                                    : "exchange.username");

  if (*account == '\0')
    {
      g_free (account);
      account = mr_settings_dup_effective_string (settings, NULL, "user.email");
    }
  if (*account == '\0')
    {
      g_free (account);
      account = mr_settings_dup_effective_string (settings, app, "sender.from_address");
    }
  if (google)
    {
      g_autofree char *authorize = mr_settings_dup_effective_string (settings, app, "google.authorize_url");
      g_autofree char *token = mr_settings_dup_effective_string (settings, app, "google.token_url");
      g_autofree char *client_id = mr_settings_dup_effective_string (settings, app, "google.client_id");
      g_autofree char *secret = mr_settings_dup_effective_string (settings, app, "google.client_secret");

      return mr_oauth_config_new_google (authorize, token, client_id, secret, account);
    }
  {
    g_autofree char *authority = mr_settings_dup_effective_string (settings, app, "exchange.authority");
    g_autofree char *tenant = mr_settings_dup_effective_string (settings, app, "exchange.tenant");
    g_autofree char *client_id = mr_settings_dup_effective_string (settings, app, "exchange.client_id");

    return mr_oauth_config_new_microsoft (authority, tenant, client_id, account);
  }
}

MrOAuthConfig *
mr_oauth_config_copy (const MrOAuthConfig *config)
{
  MrOAuthConfig *copy = g_new0 (MrOAuthConfig, 1);

  copy->provider = g_strdup (config->provider);
  copy->authorize_url = g_strdup (config->authorize_url);
  copy->token_url = g_strdup (config->token_url);
  copy->device_url = g_strdup (config->device_url);
  copy->client_id = g_strdup (config->client_id);
  copy->client_secret = g_strdup (config->client_secret);
  copy->account = g_strdup (config->account);
  copy->keyring_host = g_strdup (config->keyring_host);
  return copy;
}

void
mr_oauth_config_free (MrOAuthConfig *config)
{
  if (config == NULL)
    return;
  g_free (config->provider);
  g_free (config->authorize_url);
  g_free (config->token_url);
  g_free (config->device_url);
  g_free (config->client_id);
  g_free (config->client_secret);
  g_free (config->account);
  g_free (config->keyring_host);
  g_free (config);
}

void
mr_oauth_device_code_free (MrOAuthDeviceCode *code)
{
  if (code == NULL)
    return;
  g_free (code->device_code);
  g_free (code->user_code);
  g_free (code->verification_uri);
  g_free (code->message);
  g_free (code);
}

void
mr_oauth_tokens_free (MrOAuthTokens *tokens)
{
  if (tokens == NULL)
    return;
  mr_secret_free (tokens->access_token);
  mr_secret_free (tokens->refresh_token);
  g_free (tokens);
}

static gboolean
check_config (const MrOAuthConfig  *config,
              GError              **error)
{
  if (config->client_id == NULL || *config->client_id == '\0')
    {
      if (g_strcmp0 (config->provider, "google") == 0)
        g_set_error_literal (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_NOT_SET_UP,
                             _("google.client_id: the company’s Google OAuth client is not set. The admin creates a "
                               "“Desktop app” OAuth client in the Google Cloud console and enters its ID and secret"));
      else
        g_set_error_literal (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_NOT_SET_UP,
                             _("exchange.client_id: the company’s app registration is not set. The admin registers "
                               "Mailroom in Microsoft Entra ID and enters its application (client) ID"));
      return FALSE;
    }
  return TRUE;
}

/* POSTs a form to the token or device-code endpoint; returns the JSON object and the HTTP status. */
static JsonObject *
post_form (SoupSession   *session,
           const char    *url,
           GHashTable    *form,
           guint         *status,
           GCancellable  *cancellable,
           GError       **error)
{
  g_autoptr(SoupMessage) message = soup_message_new_from_encoded_form ("POST", url, soup_form_encode_hash (form));
  g_autoptr(GBytes) body = NULL;

  if (message == NULL)
    {
      g_set_error (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_NOT_SET_UP,
                   _("exchange.authority: “%s” is not a web address"), url);
      return NULL;
    }
  body = mr_http_send_and_read (session, message, NULL, cancellable, error);
  if (body == NULL)
    return NULL;
  *status = soup_message_get_status (message);
  return mr_oauth_read_answer (body, url, *status, error);
}

JsonObject *
mr_oauth_read_answer (GBytes      *body,
                      const char  *url,
                      guint        status,
                      GError     **error)
{
  g_autoptr(JsonNode) root = mr_json_parse_bytes (body, NULL);

  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_PROTOCOL,
                   _("The sign-in service at %s answered %u, and not with OAuth 2.0 data"), url, status);
      return NULL;
    }
  return json_object_ref (json_node_get_object (root));
}

static const char *
member_string (JsonObject *object,
               const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  return node != NULL && JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING
           ? json_node_get_string (node) : NULL;
}

/* A number member, or @fallback when it is missing or not a number: json-glib's own getter warns
 * (a critical) about a member of another type, which a hostile service chooses. Microsoft has sent
 * "expires_in" as a string of digits, which counts. */
static gint64
member_int (JsonObject *object,
            const char *name,
            gint64      fallback)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return fallback;
  switch (json_node_get_value_type (node))
    {
    case G_TYPE_INT64: return json_node_get_int (node);
    case G_TYPE_DOUBLE: return (gint64) CLAMP (json_node_get_double (node), 0, G_MAXINT32);
    case G_TYPE_STRING:
      {
        guint64 value;

        return g_ascii_string_to_unsigned (json_node_get_string (node), 10, 0, G_MAXINT32, &value, NULL)
                 ? (gint64) value : fallback;
      }
    default: return fallback;
    }
}

/* The error member of an OAuth answer, as an error a person understands. */
static void
set_oauth_error (JsonObject  *answer,
                 guint        status,
                 GError     **error)
{
  const char *code = member_string (answer, "error");
  const char *description = member_string (answer, "error_description");

  if (g_strcmp0 (code, "authorization_declined") == 0 || g_strcmp0 (code, "access_denied") == 0)
    g_set_error_literal (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_SIGN_IN_DECLINED,
                         _("The sign-in was declined. Sign in again and accept Mailroom’s request to send mail "
                           "as you"));
  else if (g_strcmp0 (code, "expired_token") == 0)
    g_set_error_literal (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_SIGN_IN_EXPIRED,
                         _("The sign-in code expired before it was used. Start the sign-in again and enter the "
                           "new code within a few minutes"));
  else if (g_strcmp0 (code, "invalid_grant") == 0 || g_strcmp0 (code, "interaction_required") == 0)
    g_set_error_literal (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_SIGN_IN_REQUIRED,
                         _("Your Microsoft sign-in is no longer valid (it was revoked, expired or your password "
                           "changed). Sign in again: `mailroom-cli exchange login` or Sign In in My Settings"));
  else if (g_strcmp0 (code, "invalid_client") == 0 || g_strcmp0 (code, "unauthorized_client") == 0)
    g_set_error (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_NOT_SET_UP,
                 _("The sign-in service does not accept the company’s app registration (%s). The admin checks "
                   "exchange.client_id and that the app allows public client flows"), code);
  else
    g_set_error (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_PROTOCOL,
                 _("The sign-in service answered %u: %s"), status,
                 code ? code : _("no error code"));
  (void) description;  /* free text in the service's language: the code is what counts */
}

/* Microsoft gives a refresh token for offline_access; Google for access_type=offline, with its
 * own scope alone. */
static char *
scopes_for (const MrOAuthConfig *config,
            const char          *scopes)
{
  if (g_strcmp0 (config->provider, "google") == 0)
    return g_strdup (scopes);
  return g_strdup_printf ("offline_access %s", scopes);
}

MrOAuthDeviceCode *
mr_oauth_device_start_sync (SoupSession          *session,
                            const MrOAuthConfig  *config,
                            const char           *scopes,
                            GCancellable         *cancellable,
                            GError              **error)
{
  g_autofree char *url = NULL;
  g_autofree char *scope = NULL;
  g_autoptr(GHashTable) form = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(JsonObject) answer = NULL;
  g_autoptr(MrOAuthDeviceCode) code = NULL;
  guint status = 0;
  gint64 interval, expires_in;

  if (!check_config (config, error))
    return NULL;
  if (config->device_url == NULL)
    {
      g_set_error_literal (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_NOT_SET_UP,
                           _("This sign-in service has no device-code sign-in for mail: sign in in the browser"));
      return NULL;
    }
  url = g_strdup (config->device_url);
  scope = scopes_for (config, scopes);
  g_hash_table_insert (form, "client_id", config->client_id);
  g_hash_table_insert (form, "scope", scope);
  answer = post_form (session, url, form, &status, cancellable, error);
  if (answer == NULL)
    return NULL;
  if (status != SOUP_STATUS_OK || member_string (answer, "device_code") == NULL ||
      member_string (answer, "user_code") == NULL || member_string (answer, "verification_uri") == NULL)
    {
      set_oauth_error (answer, status, error);
      return NULL;
    }
  code = g_new0 (MrOAuthDeviceCode, 1);
  code->device_code = g_strdup (member_string (answer, "device_code"));
  code->user_code = g_strdup (member_string (answer, "user_code"));
  code->verification_uri = g_strdup (member_string (answer, "verification_uri"));
  code->message = g_strdup (member_string (answer, "message"));
  interval = member_int (answer, "interval", 5);
  expires_in = member_int (answer, "expires_in", 900);
  code->interval_ms = (guint) CLAMP (interval, 0, 60) * 1000;
  code->slow_down_ms = 5000;
  code->expires_at = g_get_monotonic_time () + CLAMP (expires_in, 1, 86400) * G_USEC_PER_SEC;
  return g_steal_pointer (&code);
}

MrOAuthTokens *
mr_oauth_tokens_from_answer (JsonObject *answer)
{
  MrOAuthTokens *tokens = g_new0 (MrOAuthTokens, 1);

  tokens->access_token = g_strdup (member_string (answer, "access_token"));
  tokens->refresh_token = g_strdup (member_string (answer, "refresh_token"));
  tokens->expires_at = g_get_real_time () / G_USEC_PER_SEC + CLAMP (member_int (answer, "expires_in", 3600), 0, 86400 * 366);
  return tokens;
}

MrOAuthTokens *
mr_oauth_device_poll_sync (SoupSession          *session,
                           const MrOAuthConfig  *config,
                           MrOAuthDeviceCode    *code,
                           GCancellable         *cancellable,
                           GError              **error)
{
  g_autofree char *url = g_strdup (config->token_url);
  g_autoptr(GHashTable) form = g_hash_table_new (g_str_hash, g_str_equal);

  g_hash_table_insert (form, "grant_type", DEVICE_GRANT);
  g_hash_table_insert (form, "client_id", config->client_id);
  g_hash_table_insert (form, "device_code", code->device_code);

  for (;;)
    {
      g_autoptr(JsonObject) answer = NULL;
      const char *failure;
      guint status = 0;

      if (!mr_http_wait (code->interval_ms, cancellable))
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("The sign-in was cancelled"));
          return NULL;
        }
      answer = post_form (session, url, form, &status, cancellable, error);
      if (answer == NULL)
        return NULL;
      if (status == SOUP_STATUS_OK && member_string (answer, "access_token") != NULL)
        return mr_oauth_tokens_from_answer (answer);

      failure = member_string (answer, "error");
      if (g_strcmp0 (failure, "authorization_pending") != 0 && g_strcmp0 (failure, "slow_down") != 0)
        {
          set_oauth_error (answer, status, error);
          return NULL;
        }
      if (g_strcmp0 (failure, "slow_down") == 0)
        code->interval_ms += code->slow_down_ms;
      /* The service says expired_token itself, but a code past its time is not worth asking about. */
      if (g_get_monotonic_time () + (gint64) code->interval_ms * 1000 > code->expires_at)
        {
          g_set_error_literal (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_SIGN_IN_EXPIRED,
                               _("The sign-in code expired before it was used. Start the sign-in again and enter "
                                 "the new code within a few minutes"));
          return NULL;
        }
    }
}

MrSecretAccount *
mr_oauth_config_get_account (const MrOAuthConfig *config)
{
  return mr_secret_account_new_for ("oauth2", MR_SECRET_SCOPE_USER, config->keyring_host, config->account, NULL);
}

gboolean
mr_oauth_store_refresh_token_sync (const MrOAuthConfig  *config,
                                   const char           *refresh_token,
                                   GCancellable         *cancellable,
                                   GError              **error)
{
  g_autoptr(MrSecretAccount) account = mr_oauth_config_get_account (config);

  return mr_secrets_store_sync (account, refresh_token, cancellable, error);
}

char *
mr_oauth_get_access_token_sync (SoupSession          *session,
                                const MrOAuthConfig  *config,
                                const char           *scope,
                                gint64               *expires_at,
                                GCancellable         *cancellable,
                                GError              **error)
{
  g_autoptr(MrSecretAccount) account = mr_oauth_config_get_account (config);
  g_autoptr(MrSecret) refresh_token = NULL;
  g_autoptr(GHashTable) form = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(JsonObject) answer = NULL;
  g_autoptr(MrOAuthTokens) tokens = NULL;
  g_autofree char *url = NULL;
  g_autofree char *scopes = NULL;
  GError *keyring_error = NULL;
  guint status = 0;

  if (!check_config (config, error))
    return NULL;
  refresh_token = mr_secrets_lookup_sync (account, cancellable, &keyring_error);
  if (keyring_error != NULL)
    {
      g_propagate_error (error, keyring_error);
      return NULL;
    }
  if (refresh_token == NULL)
    {
      g_set_error (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_SIGN_IN_REQUIRED,
                   _("%s has not signed in to Microsoft in Mailroom yet. Sign in once: `mailroom-cli exchange "
                     "login` or Sign In in My Settings"), config->account);
      return NULL;
    }
  url = g_strdup (config->token_url);
  scopes = scopes_for (config, scope);
  g_hash_table_insert (form, "grant_type", "refresh_token");
  g_hash_table_insert (form, "client_id", config->client_id);
  if (config->client_secret != NULL)
    g_hash_table_insert (form, "client_secret", config->client_secret);
  g_hash_table_insert (form, "refresh_token", refresh_token);
  g_hash_table_insert (form, "scope", scopes);
  answer = post_form (session, url, form, &status, cancellable, error);
  if (answer == NULL)
    return NULL;
  if (status != SOUP_STATUS_OK || member_string (answer, "access_token") == NULL)
    {
      set_oauth_error (answer, status, error);
      return NULL;
    }
  tokens = mr_oauth_tokens_from_answer (answer);
  /* Refresh tokens rotate: the old one may stop working once a new one is issued. */
  if (tokens->refresh_token != NULL && g_strcmp0 (tokens->refresh_token, refresh_token) != 0 &&
      !mr_secrets_store_sync (account, tokens->refresh_token, cancellable, error))
    return NULL;
  if (expires_at != NULL)
    *expires_at = tokens->expires_at;
  return g_steal_pointer (&tokens->access_token);
}

/* ---- Authorization code with PKCE and a loopback redirect ------------------------------------- */

typedef struct {
  GMainContext *context;
  char         *state;
  char         *code;
  char         *error;
  gboolean      done;
} Redirect;

static const char signed_in_page[] =
  "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Mailroom</title></head>"
  "<body style=\"font-family: sans-serif; margin: 4em\"><h1>%s</h1><p>%s</p></body></html>";

static void
on_redirect (SoupServer        *server,
             SoupServerMessage *message,
             const char        *path,
             GHashTable        *query,
             gpointer           user_data)
{
  Redirect *redirect = user_data;
  const char *state = query ? g_hash_table_lookup (query, "state") : NULL;
  const char *code = query ? g_hash_table_lookup (query, "code") : NULL;
  const char *failure = query ? g_hash_table_lookup (query, "error") : NULL;
  g_autofree char *page = NULL;

  /* Anything else on this port (a favicon, another program) is not the answer. */
  if (redirect->done || state == NULL || g_strcmp0 (state, redirect->state) != 0 || (code == NULL && failure == NULL))
    {
      soup_server_message_set_status (message, SOUP_STATUS_NOT_FOUND, NULL);
      return;
    }
  redirect->code = g_strdup (code);
  redirect->error = g_strdup (failure);
  redirect->done = TRUE;
  page = code != NULL ? g_strdup_printf (signed_in_page, _("You are signed in"),
                                         _("You can close this page and go back to Mailroom."))
                      : g_strdup_printf (signed_in_page, _("The sign-in did not finish"),
                                         _("Go back to Mailroom to try again."));
  soup_server_message_set_status (message, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (message, "text/html; charset=utf-8", SOUP_MEMORY_COPY, page, strlen (page));
  g_main_context_wakeup (redirect->context);
}

static gboolean
on_deadline (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

static gboolean
on_cancelled (GCancellable *cancellable,
              gpointer      data)
{
  return G_SOURCE_REMOVE;
}

static gboolean
open_in_desktop_browser (const char  *uri,
                         gpointer     user_data,
                         GError     **error)
{
  return g_app_info_launch_default_for_uri (uri, NULL, error);
}

static char *
base64url (const guint8 *data,
           gsize         length)
{
  char *text = g_base64_encode (data, length);
  gsize end = strlen (text);

  while (end > 0 && text[end - 1] == '=')
    text[--end] = '\0';
  g_strdelimit (text, "+", '-');
  g_strdelimit (text, "/", '_');
  return text;
}

static char *
random_token (void)
{
  guint8 bytes[32];

  for (guint i = 0; i < sizeof bytes; i += 4)
    {
      guint32 value = g_random_int ();
      memcpy (bytes + i, &value, 4);
    }
  return base64url (bytes, sizeof bytes);
}

MrOAuthTokens *
mr_oauth_browser_sign_in_sync (SoupSession          *session,
                               const MrOAuthConfig  *config,
                               const char           *scopes,
                               MrOAuthOpenUri        open_uri,
                               gpointer              open_uri_data,
                               GCancellable         *cancellable,
                               GError              **error)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(SoupServer) server = NULL;
  g_autofree char *verifier = random_token ();
  g_autofree char *challenge = NULL;
  g_autofree char *redirect_uri = NULL;
  g_autofree char *scope = scopes_for (config, scopes);
  g_autoptr(GString) authorize = NULL;
  g_autoptr(GHashTable) form = NULL;
  g_autoptr(JsonObject) answer = NULL;
  Redirect redirect = { context, random_token (), NULL, NULL, FALSE };
  gboolean timed_out = FALSE;
  GSource *deadline;
  GSource *cancelled = NULL;
  GSList *uris;
  guint status = 0;
  GError *local_error = NULL;

  if (!check_config (config, error))
    {
      g_free (redirect.state);
      return NULL;
    }
  {
    guint8 digest[32];
    gsize digest_length = sizeof digest;
    GChecksum *sha256 = g_checksum_new (G_CHECKSUM_SHA256);

    g_checksum_update (sha256, (const guchar *) verifier, (gssize) strlen (verifier));
    g_checksum_get_digest (sha256, digest, &digest_length);
    g_checksum_free (sha256);
    challenge = base64url (digest, digest_length);
  }

  /* The loopback listener lives in its own context, iterated here: this thread waits for it. */
  g_main_context_push_thread_default (context);
  server = soup_server_new (NULL, NULL);
  soup_server_add_handler (server, "/", on_redirect, &redirect, NULL);
  if (!soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &local_error))
    {
      g_main_context_pop_thread_default (context);
      g_set_error (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_UNREACHABLE,
                   _("Could not wait for the sign-in on this computer: %s"), local_error->message);
      g_error_free (local_error);
      g_free (redirect.state);
      return NULL;
    }
  uris = soup_server_get_uris (server);
  redirect_uri = g_strdup_printf ("http://127.0.0.1:%d/", g_uri_get_port (uris->data));
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  authorize = g_string_new (config->authorize_url);
  {
    g_autofree char *query = NULL;

    form = g_hash_table_new (g_str_hash, g_str_equal);
    g_hash_table_insert (form, "client_id", config->client_id);
    g_hash_table_insert (form, "response_type", "code");
    g_hash_table_insert (form, "redirect_uri", redirect_uri);
    g_hash_table_insert (form, "scope", scope);
    g_hash_table_insert (form, "state", redirect.state);
    g_hash_table_insert (form, "code_challenge", challenge);
    g_hash_table_insert (form, "code_challenge_method", "S256");
    if (g_strcmp0 (config->provider, "google") == 0)
      {
        /* Google gives a refresh token only for offline access, and again only when asked. */
        g_hash_table_insert (form, "access_type", "offline");
        g_hash_table_insert (form, "prompt", "consent");
      }
    if (config->account != NULL && *config->account != '\0' && strchr (config->account, '@') != NULL)
      g_hash_table_insert (form, "login_hint", config->account);
    query = soup_form_encode_hash (form);
    g_string_append_c (authorize, strchr (config->authorize_url, '?') ? '&' : '?');
    g_string_append (authorize, query);
    g_clear_pointer (&form, g_hash_table_unref);
  }

  if (!(open_uri ? open_uri : open_in_desktop_browser) (authorize->str, open_uri_data, &local_error))
    {
      g_main_context_pop_thread_default (context);
      g_set_error (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_NOT_SET_UP,
                   _("Could not open the browser for the sign-in (%s). Sign in with a device code instead"),
                   local_error->message);
      g_error_free (local_error);
      g_free (redirect.state);
      return NULL;
    }

  /* Sleep until the redirect, a cancel or the deadline wakes the listener's context. */
  deadline = g_timeout_source_new_seconds (10 * 60);
  g_source_set_callback (deadline, on_deadline, &timed_out, NULL);
  g_source_attach (deadline, context);
  if (cancellable != NULL)
    {
      cancelled = g_cancellable_source_new (cancellable);
      g_source_set_callback (cancelled, (GSourceFunc) (void (*) (void)) on_cancelled, NULL, NULL);
      g_source_attach (cancelled, context);
    }
  while (!redirect.done && !g_cancellable_is_cancelled (cancellable) && !timed_out)
    g_main_context_iteration (context, TRUE);
  g_source_destroy (deadline);
  g_source_unref (deadline);
  if (cancelled != NULL)
    {
      g_source_destroy (cancelled);
      g_source_unref (cancelled);
    }
  /* Let the page reach the browser before the listener goes. */
  for (guint i = 0; i < 20 && g_main_context_iteration (context, FALSE); i++)
    ;
  soup_server_disconnect (server);
  g_main_context_pop_thread_default (context);

  if (!redirect.done)
    {
      g_free (redirect.state);
      if (g_cancellable_is_cancelled (cancellable))
        g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("The sign-in was cancelled"));
      else
        g_set_error_literal (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_SIGN_IN_EXPIRED,
                             _("The sign-in did not finish within 10 minutes. Start it again"));
      return NULL;
    }
  g_free (redirect.state);
  if (redirect.code == NULL)
    {
      g_autoptr(JsonObject) failure = json_object_new ();

      json_object_set_string_member (failure, "error", redirect.error);
      g_free (redirect.error);
      set_oauth_error (failure, 400, error);
      return NULL;
    }

  form = g_hash_table_new (g_str_hash, g_str_equal);
  g_hash_table_insert (form, "grant_type", "authorization_code");
  g_hash_table_insert (form, "client_id", config->client_id);
  if (config->client_secret != NULL)
    g_hash_table_insert (form, "client_secret", config->client_secret);
  g_hash_table_insert (form, "code", redirect.code);
  g_hash_table_insert (form, "redirect_uri", redirect_uri);
  g_hash_table_insert (form, "code_verifier", verifier);
  answer = post_form (session, config->token_url, form, &status, cancellable, error);
  explicit_bzero (redirect.code, strlen (redirect.code));
  g_free (redirect.code);
  if (answer == NULL)
    return NULL;
  if (status != SOUP_STATUS_OK || member_string (answer, "access_token") == NULL)
    {
      set_oauth_error (answer, status, error);
      return NULL;
    }
  return mr_oauth_tokens_from_answer (answer);
}
