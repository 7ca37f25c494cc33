/* mr-secrets.h: passwords and tokens in the system keyring (libsecret)
 *
 * Items carry attributes a person can read, so that `secret-tool search service smtp` finds them:
 *   service = "smtp" | "exchange" | "oauth2", host = server, user = login, scope = "company" | "user",
 *   and app = NAME when the login belongs to an application profile. For "oauth2" the secret is a
 *   refresh token and host is the sign-in authority's host (login.microsoftonline.com).
 * A company password is stored in the keyring of each person who sends with it: keyrings are
 * personal. Nothing here ever writes a secret anywhere else, and no secret is ever logged.
 *
 * One account (scope, host, user) has one password: storing replaces any earlier item for it,
 * whatever its app attribute.
 *
 * Errors (MR_SECRETS_ERROR): _UNAVAILABLE when no Secret Service answers on the session bus
 * (the caller must then ask for the password when it needs it, never fall back to a file);
 * _LOCKED when the keyring stays locked; _FAILED for anything else the service reports.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define MR_SECRETS_ERROR (mr_secrets_error_quark ())

typedef enum {
  MR_SECRETS_ERROR_UNAVAILABLE,
  MR_SECRETS_ERROR_LOCKED,
  MR_SECRETS_ERROR_FAILED,
} MrSecretsError;

GQuark mr_secrets_error_quark (void);

typedef enum {
  MR_SECRET_SCOPE_COMPANY,
  MR_SECRET_SCOPE_USER,
} MrSecretScope;

/* Which account a secret belongs to. */
typedef struct {
  char          *service;   /* "smtp", "exchange" or "oauth2" */
  MrSecretScope  scope;
  char          *host;
  char          *user;
  char          *app;   /* NULL for the company default */
} MrSecretAccount;

MrSecretAccount *mr_secret_account_new     (MrSecretScope         scope,
                                            const char           *host,
                                            const char           *user,
                                            const char           *app);
/* The same for another service than SMTP. */
MrSecretAccount *mr_secret_account_new_for (const char           *service,
                                            MrSecretScope         scope,
                                            const char           *host,
                                            const char           *user,
                                            const char           *app);
MrSecretAccount *mr_secret_account_copy    (const MrSecretAccount *account);
void             mr_secret_account_free    (MrSecretAccount       *account);
char            *mr_secret_account_describe (const MrSecretAccount *account);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MrSecretAccount, mr_secret_account_free)

/* Blocking versions, for mailroom-cli and worker threads; never call them from the GTK main loop. */
gboolean  mr_secrets_store_sync   (const MrSecretAccount  *account,
                                   const char             *password,
                                   GCancellable           *cancellable,
                                   GError                **error);
/* Returns NULL without an error when nothing is stored. */
char     *mr_secrets_lookup_sync  (const MrSecretAccount  *account,
                                   GCancellable           *cancellable,
                                   GError                **error);
/* Returns TRUE also when there was nothing to remove. */
gboolean  mr_secrets_clear_sync   (const MrSecretAccount  *account,
                                   GCancellable           *cancellable,
                                   GError                **error);

void      mr_secrets_store_async   (const MrSecretAccount  *account,
                                    const char             *password,
                                    GCancellable           *cancellable,
                                    GAsyncReadyCallback     callback,
                                    gpointer                user_data);
gboolean  mr_secrets_store_finish  (GAsyncResult           *result,
                                    GError                **error);
void      mr_secrets_lookup_async  (const MrSecretAccount  *account,
                                    GCancellable           *cancellable,
                                    GAsyncReadyCallback     callback,
                                    gpointer                user_data);
char     *mr_secrets_lookup_finish (GAsyncResult           *result,
                                    GError                **error);
void      mr_secrets_clear_async   (const MrSecretAccount  *account,
                                    GCancellable           *cancellable,
                                    GAsyncReadyCallback     callback,
                                    gpointer                user_data);
gboolean  mr_secrets_clear_finish  (GAsyncResult           *result,
                                    GError                **error);

/* A secret held in memory: g_autoptr(MrSecret) overwrites it before freeing it. */
typedef char MrSecret;

void      mr_secret_free           (MrSecret               *secret);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MrSecret, mr_secret_free)

G_END_DECLS
