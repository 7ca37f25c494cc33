/* mr-token-source.h: where a transport gets its OAuth 2.0 access tokens
 *
 * A transport that logs in with OAuth2 (Exchange over Graph or EWS, SMTP's XOAUTH2 at Office 365 or
 * Gmail) is given an MrTokenSource: whose sign-in it is (MrOAuthConfig) and how to reach the sign-in
 * service (a session that trusts exchange.trust_file's CA). It gives an access token for a scope
 * from the refresh token in the keyring, and keeps it until two minutes before it expires, so that a
 * mailshot does not refresh (and rotate the refresh token) once a mail. Thread-safe.
 */
#pragma once

#include "mr-oauth.h"

G_BEGIN_DECLS

#define MR_TYPE_TOKEN_SOURCE (mr_token_source_get_type ())
G_DECLARE_FINAL_TYPE (MrTokenSource, mr_token_source, MR, TOKEN_SOURCE, GObject)

/* @trust_file: a CA file the sign-in service's certificate may chain to, or NULL for the system's. */
MrTokenSource       *mr_token_source_new            (const MrOAuthConfig *config,
                                                     const char          *trust_file);
const MrOAuthConfig *mr_token_source_get_config     (MrTokenSource       *self);
/* The session to the sign-in service, for signing in (mr_oauth_device_start_sync() and others). */
SoupSession         *mr_token_source_get_session    (MrTokenSource       *self);
/* An access token for @scope. Errors: those of mr_oauth_get_access_token_sync(). */
char                *mr_token_source_dup_token_sync (MrTokenSource       *self,
                                                     const char          *scope,
                                                     GCancellable        *cancellable,
                                                     GError             **error);
/* After the service refused a token (401): the next one is asked for anew. */
void                 mr_token_source_forget         (MrTokenSource       *self);

G_END_DECLS
