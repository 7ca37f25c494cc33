/* mr-secrets.c: passwords in the system keyring through libsecret */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <libsecret/secret.h>
#include <string.h>

#include "mr-secrets.h"

G_DEFINE_QUARK (mr-secrets-error-quark, mr_secrets_error)

/* DONT_MATCH_NAME: items are found by their readable attributes alone, as secret-tool does. */
static const SecretSchema password_schema = {
  "io.github.mailroom.Mailroom.Password",
  SECRET_SCHEMA_DONT_MATCH_NAME,
  {
    { "service", SECRET_SCHEMA_ATTRIBUTE_STRING },
    { "host", SECRET_SCHEMA_ATTRIBUTE_STRING },
    { "user", SECRET_SCHEMA_ATTRIBUTE_STRING },
    { "scope", SECRET_SCHEMA_ATTRIBUTE_STRING },
    { "app", SECRET_SCHEMA_ATTRIBUTE_STRING },
    { NULL, 0 },
  },
};

MrSecretAccount *
mr_secret_account_new (MrSecretScope  scope,
                       const char    *host,
                       const char    *user,
                       const char    *app)
{
  return mr_secret_account_new_for ("smtp", scope, host, user, app);
}

MrSecretAccount *
mr_secret_account_new_for (const char    *service,
                           MrSecretScope  scope,
                           const char    *host,
                           const char    *user,
                           const char    *app)
{
  MrSecretAccount *account = g_new0 (MrSecretAccount, 1);

  account->service = g_strdup (service);
  account->scope = scope;
  account->host = g_strdup (host ? host : "");
  account->user = g_strdup (user ? user : "");
  account->app = g_strdup (app);
  return account;
}

MrSecretAccount *
mr_secret_account_copy (const MrSecretAccount *account)
{
  return mr_secret_account_new_for (account->service, account->scope, account->host, account->user, account->app);
}

void
mr_secret_account_free (MrSecretAccount *account)
{
  if (account == NULL)
    return;
  g_free (account->service);
  g_free (account->host);
  g_free (account->user);
  g_free (account->app);
  g_free (account);
}

char *
mr_secret_account_describe (const MrSecretAccount *account)
{
  return g_strdup_printf ("%s@%s", account->user, account->host);
}

void
mr_secret_free (MrSecret *secret)
{
  if (secret == NULL)
    return;
  explicit_bzero (secret, strlen (secret));
  g_free (secret);
}

static GHashTable *
account_attributes (const MrSecretAccount *account,
                    gboolean               with_app)
{
  GHashTable *attributes = g_hash_table_new (g_str_hash, g_str_equal);

  g_hash_table_insert (attributes, "service", account->service);
  g_hash_table_insert (attributes, "host", account->host);
  g_hash_table_insert (attributes, "user", account->user);
  g_hash_table_insert (attributes, "scope", account->scope == MR_SECRET_SCOPE_COMPANY ? "company" : "user");
  if (with_app && account->app != NULL)
    g_hash_table_insert (attributes, "app", account->app);
  return attributes;
}

/* One place that says what a keyring failure means to a person. */
static gboolean
translate_error (GError  *error,
                 GError **out)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_propagate_error (out, error);
  else if (g_error_matches (error, SECRET_ERROR, SECRET_ERROR_IS_LOCKED))
    {
      g_set_error (out, MR_SECRETS_ERROR, MR_SECRETS_ERROR_LOCKED,
                   _("The keyring is locked. Unlock it (for example by logging in again) and try again."));
      g_error_free (error);
    }
  else if (error->domain == G_DBUS_ERROR || error->domain == G_IO_ERROR || error->domain == G_SPAWN_ERROR)
    {
      g_set_error (out, MR_SECRETS_ERROR, MR_SECRETS_ERROR_UNAVAILABLE,
                   _("No keyring is available: the Secret Service (for example GNOME Keyring) is not "
                     "running in this session (%s). Mailroom keeps passwords only in the keyring and "
                     "will ask for the password when it needs it."),
                   error->message);
      g_error_free (error);
    }
  else
    {
      g_set_error (out, MR_SECRETS_ERROR, MR_SECRETS_ERROR_FAILED,
                   _("The keyring reported an error: %s"), error->message);
      g_error_free (error);
    }
  return FALSE;
}

gboolean
mr_secrets_store_sync (const MrSecretAccount  *account,
                       const char             *password,
                       GCancellable           *cancellable,
                       GError                **error)
{
  g_autoptr(GHashTable) match = account_attributes (account, FALSE);
  g_autoptr(GHashTable) attributes = account_attributes (account, TRUE);
  g_autofree char *label = NULL;
  GError *local_error = NULL;
  GList *earlier;

  g_return_val_if_fail (password != NULL, FALSE);

  earlier = secret_password_searchv_sync (&password_schema, match, SECRET_SEARCH_ALL, cancellable, &local_error);
  if (local_error != NULL)
    return translate_error (local_error, error);

  /* Store first, so that a failure leaves the old password in place. An item with the same
   * attributes is replaced by the service itself. */
  if (g_strcmp0 (account->service, "oauth2") == 0)
    label = g_strdup_printf (_("Mailroom: sign-in for %s at %s"), account->user, account->host);
  else if (g_strcmp0 (account->service, "exchange") == 0)
    label = g_strdup_printf (_("Mailroom: Exchange password for %s on %s"), account->user, account->host);
  else
    label = g_strdup_printf (_("Mailroom: SMTP password for %s on %s"), account->user, account->host);
  if (!secret_password_storev_sync (&password_schema, attributes, SECRET_COLLECTION_DEFAULT, label,
                                    password, cancellable, &local_error))
    {
      g_list_free_full (earlier, g_object_unref);
      return translate_error (local_error, error);
    }

  /* One account has one password, whichever application profile stored it last. */
  for (GList *l = earlier; l != NULL; l = l->next)
    {
      g_autoptr(GHashTable) item_attributes = secret_retrievable_get_attributes (l->data);

      if (g_strcmp0 (g_hash_table_lookup (item_attributes, "app"), account->app) != 0 && SECRET_IS_ITEM (l->data))
        secret_item_delete_sync (l->data, cancellable, NULL);
    }
  g_list_free_full (earlier, g_object_unref);
  return TRUE;
}

char *
mr_secrets_lookup_sync (const MrSecretAccount  *account,
                        GCancellable           *cancellable,
                        GError                **error)
{
  g_autoptr(GHashTable) match = account_attributes (account, FALSE);
  GError *local_error = NULL;
  char *password;

  password = secret_password_lookupv_sync (&password_schema, match, cancellable, &local_error);
  if (local_error != NULL)
    {
      translate_error (local_error, error);
      return NULL;
    }
  if (password == NULL)
    return NULL;

  /* libsecret hands out non-pageable memory; keep ours in ordinary memory, wiped on free. */
  {
    char *copy = g_strdup (password);
    secret_password_free (password);
    return copy;
  }
}

gboolean
mr_secrets_clear_sync (const MrSecretAccount  *account,
                       GCancellable           *cancellable,
                       GError                **error)
{
  g_autoptr(GHashTable) match = account_attributes (account, FALSE);
  GError *local_error = NULL;

  secret_password_clearv_sync (&password_schema, match, cancellable, &local_error);
  if (local_error != NULL)
    return translate_error (local_error, error);
  return TRUE;
}

/* ---- Asynchronous versions: the blocking calls in a worker thread ---------------------------- */

typedef struct {
  MrSecretAccount *account;
  MrSecret        *password;
} SecretTaskData;

static void
secret_task_data_free (SecretTaskData *data)
{
  mr_secret_account_free (data->account);
  mr_secret_free (data->password);
  g_free (data);
}

static GTask *
secret_task_new (const MrSecretAccount *account,
                 const char            *password,
                 GCancellable          *cancellable,
                 GAsyncReadyCallback    callback,
                 gpointer               user_data,
                 gpointer               source_tag)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);
  SecretTaskData *data = g_new0 (SecretTaskData, 1);

  data->account = mr_secret_account_copy (account);
  data->password = g_strdup (password);
  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, data, (GDestroyNotify) secret_task_data_free);
  return task;
}

static void
store_thread (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  SecretTaskData *data = task_data;
  GError *error = NULL;

  if (mr_secrets_store_sync (data->account, data->password, cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
mr_secrets_store_async (const MrSecretAccount *account,
                        const char            *password,
                        GCancellable          *cancellable,
                        GAsyncReadyCallback    callback,
                        gpointer               user_data)
{
  g_autoptr(GTask) task = secret_task_new (account, password, cancellable, callback, user_data,
                                           mr_secrets_store_async);

  g_task_run_in_thread (task, store_thread);
}

gboolean
mr_secrets_store_finish (GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == mr_secrets_store_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
lookup_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  SecretTaskData *data = task_data;
  GError *error = NULL;
  char *password = mr_secrets_lookup_sync (data->account, cancellable, &error);

  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, password, (GDestroyNotify) mr_secret_free);
}

void
mr_secrets_lookup_async (const MrSecretAccount *account,
                         GCancellable          *cancellable,
                         GAsyncReadyCallback    callback,
                         gpointer               user_data)
{
  g_autoptr(GTask) task = secret_task_new (account, NULL, cancellable, callback, user_data,
                                           mr_secrets_lookup_async);

  g_task_run_in_thread (task, lookup_thread);
}

char *
mr_secrets_lookup_finish (GAsyncResult  *result,
                          GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == mr_secrets_lookup_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
clear_thread (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  SecretTaskData *data = task_data;
  GError *error = NULL;

  if (mr_secrets_clear_sync (data->account, cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
mr_secrets_clear_async (const MrSecretAccount *account,
                        GCancellable          *cancellable,
                        GAsyncReadyCallback    callback,
                        gpointer               user_data)
{
  g_autoptr(GTask) task = secret_task_new (account, NULL, cancellable, callback, user_data,
                                           mr_secrets_clear_async);

  g_task_run_in_thread (task, clear_thread);
}

gboolean
mr_secrets_clear_finish (GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == mr_secrets_clear_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
