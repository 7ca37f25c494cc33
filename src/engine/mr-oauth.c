/* mr-oauth.c: the device-code flow and token refresh against the Microsoft identity platform */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "mr-exchange.h"
#include "mr-exchange-private.h"
#include "mr-oauth.h"

#define DEVICE_GRANT "urn:ietf:params:oauth:grant-type:device_code"

void
mr_oauth_config_free (MrOAuthConfig *config)
{
  if (config == NULL)
    return;
  g_free (config->authority);
  g_free (config->tenant);
  g_free (config->client_id);
  g_free (config->account);
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

static char *
endpoint (const MrOAuthConfig *config,
          const char          *name)
{
  const char *authority = config->authority;
  gsize length = strlen (authority);

  while (length > 0 && authority[length - 1] == '/')
    length--;
  return g_strdup_printf ("%.*s/%s/oauth2/v2.0/%s", (int) length, authority, config->tenant, name);
}

static gboolean
check_config (const MrOAuthConfig  *config,
              GError              **error)
{
  if (config->client_id == NULL || *config->client_id == '\0')
    {
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
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) parse_error = NULL;
  JsonNode *root;

  if (message == NULL)
    {
      g_set_error (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_NOT_SET_UP,
                   _("exchange.authority: “%s” is not a web address"), url);
      return NULL;
    }
  body = mr_exchange_send_and_read (session, message, NULL, cancellable, error);
  if (body == NULL)
    return NULL;
  *status = soup_message_get_status (message);
  if (!json_parser_load_from_data (parser, g_bytes_get_data (body, NULL), (gssize) g_bytes_get_size (body),
                                   &parse_error) ||
      (root = json_parser_get_root (parser)) == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_PROTOCOL,
                   _("The sign-in service at %s answered %u, and not with OAuth 2.0 data"), url, *status);
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
                           "changed). Sign in again: `mailroom-cli exchange login` or Sign In in My settings"));
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
  url = endpoint (config, "devicecode");
  scope = g_strdup_printf ("offline_access %s", scopes);
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
  interval = json_object_get_int_member_with_default (answer, "interval", 5);
  expires_in = json_object_get_int_member_with_default (answer, "expires_in", 900);
  code->interval_ms = (guint) CLAMP (interval, 0, 60) * 1000;
  code->slow_down_ms = 5000;
  code->expires_at = g_get_monotonic_time () + CLAMP (expires_in, 1, 86400) * G_USEC_PER_SEC;
  return g_steal_pointer (&code);
}

static MrOAuthTokens *
tokens_from (JsonObject *answer)
{
  MrOAuthTokens *tokens = g_new0 (MrOAuthTokens, 1);

  tokens->access_token = g_strdup (member_string (answer, "access_token"));
  tokens->refresh_token = g_strdup (member_string (answer, "refresh_token"));
  tokens->expires_at = g_get_real_time () / G_USEC_PER_SEC +
                       json_object_get_int_member_with_default (answer, "expires_in", 3600);
  return tokens;
}

MrOAuthTokens *
mr_oauth_device_poll_sync (SoupSession          *session,
                           const MrOAuthConfig  *config,
                           MrOAuthDeviceCode    *code,
                           GCancellable         *cancellable,
                           GError              **error)
{
  g_autofree char *url = endpoint (config, "token");
  g_autoptr(GHashTable) form = g_hash_table_new (g_str_hash, g_str_equal);

  g_hash_table_insert (form, "grant_type", DEVICE_GRANT);
  g_hash_table_insert (form, "client_id", config->client_id);
  g_hash_table_insert (form, "device_code", code->device_code);

  for (;;)
    {
      g_autoptr(JsonObject) answer = NULL;
      const char *failure;
      guint status = 0;

      if (!mr_exchange_wait (code->interval_ms, cancellable))
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("The sign-in was cancelled"));
          return NULL;
        }
      answer = post_form (session, url, form, &status, cancellable, error);
      if (answer == NULL)
        return NULL;
      if (status == SOUP_STATUS_OK && member_string (answer, "access_token") != NULL)
        return tokens_from (answer);

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
  g_autoptr(GUri) uri = g_uri_parse (config->authority, G_URI_FLAGS_NONE, NULL);

  return mr_secret_account_new_for ("oauth2", MR_SECRET_SCOPE_USER, uri ? g_uri_get_host (uri) : config->authority,
                                    config->account, NULL);
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
                     "login` or Sign In in My settings"), config->account);
      return NULL;
    }
  url = endpoint (config, "token");
  scopes = g_strdup_printf ("offline_access %s", scope);
  g_hash_table_insert (form, "grant_type", "refresh_token");
  g_hash_table_insert (form, "client_id", config->client_id);
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
  tokens = tokens_from (answer);
  /* Refresh tokens rotate: the old one may stop working once a new one is issued. */
  if (tokens->refresh_token != NULL && g_strcmp0 (tokens->refresh_token, refresh_token) != 0 &&
      !mr_secrets_store_sync (account, tokens->refresh_token, cancellable, error))
    return NULL;
  return g_steal_pointer (&tokens->access_token);
}
