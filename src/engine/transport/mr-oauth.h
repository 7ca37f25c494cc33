/* mr-oauth.h: OAuth 2.0 sign-in with the Microsoft identity platform (RFC 8628 device code, refresh)
 *
 * One sign-in (with offline_access) gives a refresh token, kept in the keyring (service "oauth2",
 * host = the authority's host, user = the person's address) and replaced by each refresh. Access
 * tokens are asked for per resource from it (Graph Mail.Send, SMTP.Send for XOAUTH2) and kept only in
 * memory. Endpoints: AUTHORITY/TENANT/oauth2/v2.0/devicecode and …/token.
 *
 * Call order for a sign-in: mr_oauth_device_start_sync() → show user_code and verification_uri →
 * mr_oauth_device_poll_sync() (blocks until the person signs in, declines or the code expires) →
 * mr_oauth_store_refresh_token_sync(); or mr_oauth_browser_sign_in_sync() → store. Later:
 * mr_oauth_get_access_token_sync(). All of them block: worker threads and the CLI only.
 *
 * Errors (MR_EXCHANGE_ERROR): _NOT_SET_UP (no client ID), _UNREACHABLE, _TLS_UNTRUSTED,
 * _SIGN_IN_DECLINED, _SIGN_IN_EXPIRED, _SIGN_IN_REQUIRED (no refresh token, or it was refused:
 * invalid_grant), _PROTOCOL (not an OAuth answer); the keyring's errors.
 */
#pragma once

#include <libsoup/soup.h>

#include "mr-secrets.h"
#include "mr-settings.h"

G_BEGIN_DECLS

#define MR_OAUTH_SCOPE_GRAPH_SEND "https://graph.microsoft.com/Mail.Send"
#define MR_OAUTH_SCOPE_SMTP_SEND  "https://outlook.office.com/SMTP.Send"
#define MR_OAUTH_SCOPE_EWS        "https://outlook.office365.com/EWS.AccessAsUser.All"
#define MR_OAUTH_SCOPE_GOOGLE_MAIL "https://mail.google.com/"

typedef struct _MrOAuthConfig {
  char *provider;        /* "microsoft" or "google" */
  char *authorize_url;   /* the browser sign-in (authorization code with PKCE) */
  char *token_url;
  char *device_url;      /* the device-code endpoint; NULL where there is none (Google, for mail) */
  char *client_id;
  char *client_secret;   /* Google's "installed app" secret, which is not one; NULL for Microsoft */
  char *account;         /* whose sign-in: the person's login */
  char *keyring_host;    /* the host of the sign-in service, for the keyring item */
} MrOAuthConfig;

/* Microsoft identity platform: AUTHORITY/TENANT/oauth2/v2.0/{authorize,token,devicecode}. */
MrOAuthConfig *mr_oauth_config_new_microsoft (const char *authority,
                                              const char *tenant,
                                              const char *client_id,
                                              const char *account);
/* Google: the browser flow only (its device flow does not allow the mail scope). */
MrOAuthConfig *mr_oauth_config_new_google    (const char *authorize_url,
                                              const char *token_url,
                                              const char *client_id,
                                              const char *client_secret,
                                              const char *account);
/* From the settings of @app: @provider "microsoft" (exchange.authority, .tenant, .client_id) or
 * "google" (google.*). The account is the person's login there: exchange.username for Microsoft, the
 * SMTP login for Google, else user.email, else the From address. */
MrOAuthConfig *mr_oauth_config_new_for_settings (MrSettings *settings,
                                                 const char *app,
                                                 const char *provider);
MrOAuthConfig *mr_oauth_config_copy (const MrOAuthConfig *config);
void           mr_oauth_config_free (MrOAuthConfig *config);

typedef struct {
  char    *device_code;
  char    *user_code;
  char    *verification_uri;
  char    *message;        /* the service's own sentence for the person, in their language */
  gint64   expires_at;     /* monotonic µs */
  guint    interval_ms;    /* between polls; RFC 8628's default 5 s when not given */
  guint    slow_down_ms;   /* added on slow_down: 5 s (RFC 8628 §3.5) */
} MrOAuthDeviceCode;

void           mr_oauth_device_code_free (MrOAuthDeviceCode *code);

typedef struct {
  char   *access_token;
  char   *refresh_token;  /* NULL when the answer had none */
  gint64  expires_at;     /* real time, seconds */
} MrOAuthTokens;

void           mr_oauth_tokens_free (MrOAuthTokens *tokens);

/* @scopes: space-separated; offline_access is added. */
MrOAuthDeviceCode *mr_oauth_device_start_sync (SoupSession         *session,
                                               const MrOAuthConfig *config,
                                               const char          *scopes,
                                               GCancellable        *cancellable,
                                               GError             **error);
MrOAuthTokens     *mr_oauth_device_poll_sync  (SoupSession         *session,
                                               const MrOAuthConfig *config,
                                               MrOAuthDeviceCode   *code,
                                               GCancellable        *cancellable,
                                               GError             **error);

/* Opens a URI in the person's browser; the default uses the desktop's (g_app_info_launch_default_for_uri). */
typedef gboolean (*MrOAuthOpenUri) (const char  *uri,
                                    gpointer     user_data,
                                    GError     **error);

/* Authorization code with PKCE (RFC 7636) and a loopback redirect (RFC 8252): listens on
 * http://127.0.0.1:PORT/ (a port the system chose), opens the sign-in page in the browser, waits
 * (at most 10 minutes, or until @cancellable) for the redirect, checks its state, and exchanges the
 * code with its verifier. @open_uri NULL: the desktop's browser. Errors: as above, and
 * _SIGN_IN_DECLINED when the page sends the person back with error=access_denied. */
MrOAuthTokens     *mr_oauth_browser_sign_in_sync (SoupSession         *session,
                                                  const MrOAuthConfig *config,
                                                  const char          *scopes,
                                                  MrOAuthOpenUri       open_uri,
                                                  gpointer             open_uri_data,
                                                  GCancellable        *cancellable,
                                                  GError             **error);

/* An access token for @scope from the stored refresh token, storing the new refresh token.
 * @expires_at (optional): when the token expires, real time in seconds, so that the caller can keep
 * it for the requests until then instead of refreshing for each. */
char              *mr_oauth_get_access_token_sync (SoupSession         *session,
                                                   const MrOAuthConfig *config,
                                                   const char          *scope,
                                                   gint64              *expires_at,
                                                   GCancellable        *cancellable,
                                                   GError             **error);

MrSecretAccount   *mr_oauth_config_get_account (const MrOAuthConfig *config);
gboolean           mr_oauth_store_refresh_token_sync (const MrOAuthConfig *config,
                                                      const char          *refresh_token,
                                                      GCancellable        *cancellable,
                                                      GError             **error);

/* A token or device-code endpoint's answer (@body, with HTTP @status from @url) as a JSON object;
 * anything else is MR_EXCHANGE_ERROR_PROTOCOL, hostile nesting included (mr_json_parse()). */
JsonObject        *mr_oauth_read_answer (GBytes              *body,
                                         const char          *url,
                                         guint                status,
                                         GError             **error);

/* The tokens of a token endpoint's answer (missing members are NULL; a lifetime that is not a
 * number is taken as an hour). */
MrOAuthTokens     *mr_oauth_tokens_from_answer (JsonObject         *answer);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MrOAuthDeviceCode, mr_oauth_device_code_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MrOAuthTokens, mr_oauth_tokens_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MrOAuthConfig, mr_oauth_config_free)

G_END_DECLS
