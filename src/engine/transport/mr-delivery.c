/* mr-delivery.c: sending for a person and an application, from the effective settings */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "mr-delivery.h"
#include "mr-exchange.h"
#include "mr-oauth.h"
#include "mr-sender.h"
#include "mr-token-source.h"

struct _MrDelivery
{
  GObject           parent_instance;

  MrSmtpConfig     *config;
  MrSecretAccount  *account;          /* where the password lives; NULL without a login */
  MrTokenSource    *tokens;           /* XOAUTH2: whose sign-in gives the access token */
  char             *password;         /* given by the caller when the keyring has none */
  char             *route;
  gboolean          sendmail;
  char             *sendmail_path;

  GMutex            lock;
  MrSmtpClient     *client;
  GString          *sendmail_log;
};

G_DEFINE_FINAL_TYPE (MrDelivery, mr_delivery, G_TYPE_OBJECT)

static void
mr_delivery_finalize (GObject *object)
{
  MrDelivery *self = MR_DELIVERY (object);

  mr_smtp_config_free (self->config);
  mr_secret_account_free (self->account);
  g_clear_object (&self->tokens);
  mr_secret_free (self->password);
  g_free (self->route);
  g_free (self->sendmail_path);
  g_clear_object (&self->client);
  g_string_free (self->sendmail_log, TRUE);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (mr_delivery_parent_class)->finalize (object);
}

static void
mr_delivery_class_init (MrDeliveryClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mr_delivery_finalize;
}

static void
mr_delivery_init (MrDelivery *self)
{
  g_mutex_init (&self->lock);
  self->sendmail_log = g_string_new (NULL);
}

static int
choice_index (const char  *value,
              const char **choices)
{
  for (int i = 0; choices[i] != NULL; i++)
    if (g_strcmp0 (value, choices[i]) == 0)
      return i;
  return 0;
}

MrDeliveryReadiness
mr_delivery_check_ready (MrSettings *settings,
                         const char *app,
                         const char *route,
                         const char *template_from)
{
  g_autofree char *from = mr_settings_dup_effective_string (settings, app, "sender.from_address");
  g_autofree char *mode = mr_settings_dup_effective_string (settings, app, "delivery.mode");
  g_autofree char *host = mr_settings_dup_effective_string (settings, app, "smtp.host");
  g_autofree char *email = mr_settings_dup_effective_string (settings, NULL, "user.email");
  gboolean as_user = mr_settings_get_effective_boolean (settings, app, "sender.send_as_user") && *email != '\0';
  gboolean exchange = mr_exchange_is_set_up (settings, app, NULL);
  gboolean smtp = !g_str_equal (mode, "remote") || *host != '\0';

  if (*from == '\0' && !as_user && (template_from == NULL || *template_from == '\0'))
    return MR_DELIVERY_NO_FROM;
  if (g_strcmp0 (route, "exchange") == 0 && !exchange)
    return MR_DELIVERY_NO_EXCHANGE;
  if (!smtp && (g_strcmp0 (route, "smtp") == 0 || !exchange))
    return MR_DELIVERY_NO_SERVER;
  return MR_DELIVERY_READY;
}

MrDelivery *
mr_delivery_new (MrSettings  *settings,
                 const char  *app,
                 GError     **error)
{
  static const char *securities[] = { "none", "starttls", "tls", NULL };
  static const char *auths[] = { "none", "password", "ntlm", "oauth2", NULL };
  g_autoptr(MrDelivery) self = g_object_new (MR_TYPE_DELIVERY, NULL);
  g_autofree char *mode = mr_settings_dup_effective_string (settings, app, "delivery.mode");
  g_autofree char *credentials = mr_settings_dup_effective_string (settings, app, "smtp.credentials");
  g_autofree char *trust = mr_settings_dup_effective_string (settings, app, "smtp.tls_trust_file");
  g_autofree char *pin = mr_settings_dup_effective_string (settings, app, "smtp.tls_fingerprint");
  g_autofree char *security = mr_settings_dup_effective_string (settings, app, "smtp.security");
  g_autofree char *auth = mr_settings_dup_effective_string (settings, app, "smtp.auth");
  MrSmtpConfig *config = mr_smtp_config_new ();

  self->config = config;
  config->host = mr_settings_dup_effective_string (settings, app, "smtp.host");
  config->port = (guint16) mr_settings_get_effective_int (settings, app, "smtp.port");
  config->security = choice_index (security, securities);
  config->auth = choice_index (auth, auths);
  config->username = mr_settings_dup_effective_string (settings, app, "smtp.username");
  config->allow_plaintext_auth = mr_settings_get_effective_boolean (settings, app, "smtp.allow_plaintext_auth");
  config->trust_file = *trust ? g_steal_pointer (&trust) : NULL;
  config->fingerprint = *pin ? g_steal_pointer (&pin) : NULL;
  config->timeout_connect_ms = mr_settings_get_effective_int (settings, app, "smtp.timeout_connect_ms");
  config->timeout_greeting_ms = mr_settings_get_effective_int (settings, app, "smtp.timeout_greeting_ms");
  config->timeout_command_ms = mr_settings_get_effective_int (settings, app, "smtp.timeout_command_ms");
  config->timeout_data_ms = mr_settings_get_effective_int (settings, app, "smtp.timeout_data_ms");

  self->sendmail = g_strcmp0 (mode, "sendmail") == 0;
  self->sendmail_path = mr_settings_dup_effective_string (settings, app, "delivery.sendmail_path");
  if (g_strcmp0 (mode, "local-smtp") == 0)
    {
      g_free (config->host);
      config->host = g_strdup ("localhost");
    }

  /* A sender these settings cannot send as (not set, outside the verified domains): no route. */
  {
    g_autoptr(MrSender) sender = mr_sender_new (settings, app, error);

    if (sender == NULL)
      return NULL;
  }

  if (self->sendmail)
    self->route = g_strdup_printf (_("the sendmail program %s"), self->sendmail_path);
  else
    {
      if (*config->host == '\0')
        {
          g_set_error_literal (error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_INVALID_VALUE,
                               _("smtp.host: no server is set"));
          return NULL;
        }
      self->route = g_strdup_printf ("%s port %u (%s)", config->host, config->port,
                                     config->security == MR_SMTP_SECURITY_TLS ? "TLS"
                                     : config->security == MR_SMTP_SECURITY_STARTTLS ? "STARTTLS" : _("unencrypted"));
      if (config->auth != MR_SMTP_AUTH_NONE)
        {
          MrScope scope = g_strcmp0 (credentials, "per-user") == 0 ? MR_SCOPE_USER : MR_SCOPE_COMPANY;

          self->account = mr_settings_get_account (settings, scope, app, error);
          if (self->account == NULL)
            return NULL;
          g_free (config->username);
          config->username = g_strdup (self->account->user);
        }
      if (config->auth == MR_SMTP_AUTH_OAUTH2)
        {
          g_autofree char *provider = mr_settings_dup_effective_string (settings, app, "smtp.provider");
          gboolean google = g_str_equal (provider, "gmail") || g_str_has_suffix (config->host, "gmail.com") ||
                            g_str_has_suffix (config->host, "googlemail.com");
          g_autofree char *oauth_trust = mr_settings_dup_effective_string (settings, app, "exchange.trust_file");

          g_autoptr(MrOAuthConfig) oauth = mr_oauth_config_new_for_settings (settings, app, google ? "google" : "microsoft");

          self->tokens = mr_token_source_new (oauth, *oauth_trust ? oauth_trust : NULL);
        }
    }
  return g_steal_pointer (&self);
}

void
mr_delivery_set_password (MrDelivery *self,
                          const char *password)
{
  mr_secret_free (self->password);
  self->password = g_strdup (password);
}

const MrOAuthConfig *
mr_delivery_get_oauth_config (MrDelivery *self)
{
  return self->tokens ? mr_token_source_get_config (self->tokens) : NULL;
}

SoupSession *
mr_delivery_new_oauth_session (MrDelivery *self)
{
  return self->tokens ? g_object_ref (mr_token_source_get_session (self->tokens)) : soup_session_new ();
}

const char *
mr_delivery_get_route (MrDelivery *self)
{
  return self->route;
}

MrSmtpClient *
mr_delivery_get_client (MrDelivery *self)
{
  return self->client;
}

const MrSmtpConfig *
mr_delivery_get_config (MrDelivery *self)
{
  return self->config;
}

gboolean
mr_delivery_uses_sendmail (MrDelivery *self)
{
  return self->sendmail;
}

char *
mr_delivery_dup_transcript (MrDelivery *self)
{
  g_autoptr(MrSmtpClient) client = NULL;
  char *transcript;

  g_mutex_lock (&self->lock);
  client = self->client ? g_object_ref (self->client) : NULL;
  transcript = client ? NULL : g_strdup (self->sendmail_log->str);
  g_mutex_unlock (&self->lock);
  return client ? mr_smtp_client_dup_transcript (client) : transcript;
}

/* ---- The work, in a worker thread ------------------------------------------------------------- */

static gboolean
find_secret (MrDelivery    *self,
             MrSmtpConfig  *config,
             GCancellable  *cancellable,
             GError       **error)
{
  g_autoptr(GError) keyring_error = NULL;
  g_autoptr(MrSecret) password = NULL;

  if (self->account == NULL)
    return TRUE;
  if (self->password != NULL)
    {
      config->secret = g_strdup (self->password);
      return TRUE;
    }

  /* XOAUTH2: a fresh access token from the person's sign-in. A token stored by hand in place of a
   * password still works, for servers Mailroom cannot sign in to. */
  if (self->tokens != NULL)
    {
      g_autoptr(GError) sign_in_error = NULL;
      const char *scope = g_strcmp0 (mr_token_source_get_config (self->tokens)->provider, "google") == 0
                          ? MR_OAUTH_SCOPE_GOOGLE_MAIL : MR_OAUTH_SCOPE_SMTP_SEND;
      char *token;

      token = mr_token_source_dup_token_sync (self->tokens, scope, cancellable, &sign_in_error);
      if (token != NULL)
        {
          config->secret = token;
          return TRUE;
        }
      if (!g_error_matches (sign_in_error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_SIGN_IN_REQUIRED) &&
          !g_error_matches (sign_in_error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_NOT_SET_UP))
        {
          g_propagate_error (error, g_steal_pointer (&sign_in_error));
          return FALSE;
        }
      password = mr_secrets_lookup_sync (self->account, cancellable, NULL);
      if (password == NULL)
        {
          g_propagate_error (error, g_steal_pointer (&sign_in_error));
          return FALSE;
        }
      config->secret = g_steal_pointer (&password);
      return TRUE;
    }

  password = mr_secrets_lookup_sync (self->account, cancellable, &keyring_error);
  if (keyring_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&keyring_error));
      return FALSE;
    }
  if (password == NULL)
    {
      g_autofree char *who = mr_secret_account_describe (self->account);
      g_autofree char *detail = g_strdup_printf (_("Login: %s"), who);

      mr_smtp_set_error (error, MR_SMTP_ERROR_PASSWORD_MISSING, 0, NULL, NULL, detail);
      return FALSE;
    }
  config->secret = g_steal_pointer (&password);
  return TRUE;
}

/* ---- What servers announced ------------------------------------------------------------------- */

/* The compose pane shows attachments against the server's limit before anything is sent, so the
 * SIZE each server announced is remembered (a cache: losing it only loses the hint). */
static char *
server_key (const char *host,
            guint       port)
{
  g_autofree char *lower = g_ascii_strdown (host, -1);
  return g_strdup_printf ("%s:%u", lower, port);
}

/* The SIZE each server announced, by host:port. */
#define SERVERS_CACHE "servers.json"

static void
remember_server (const char             *host,
                 guint                   port,
                 const MrSmtpServerInfo *info)
{
  static GMutex lock;
  g_autofree char *key = server_key (host, port);
  g_autoptr(JsonObject) servers = NULL;
  JsonObject *entry;

  g_mutex_lock (&lock);
  servers = mr_cache_read (SERVERS_CACHE);
  entry = json_object_has_member (servers, key) && JSON_NODE_HOLDS_OBJECT (json_object_get_member (servers, key))
            ? json_object_get_object_member (servers, key) : NULL;
  if (entry != NULL && json_object_get_int_member_with_default (entry, "size_limit", -1) == (gint64) info->size_limit)
    {
      g_mutex_unlock (&lock);
      return;
    }
  entry = json_object_new ();
  json_object_set_int_member (entry, "size_limit", (gint64) info->size_limit);
  json_object_set_int_member (entry, "seen", g_get_real_time () / G_USEC_PER_SEC);
  json_object_set_object_member (servers, key, entry);
  mr_cache_write (SERVERS_CACHE, servers);
  g_mutex_unlock (&lock);
}

guint64
mr_delivery_get_known_size_limit (MrSettings *settings,
                                  const char *app)
{
  g_autoptr(MrDelivery) delivery = mr_delivery_new (settings, app, NULL);
  g_autofree char *key = NULL;
  g_autoptr(JsonObject) servers = NULL;
  JsonNode *entry;

  if (delivery == NULL || delivery->sendmail || delivery->config->host == NULL)
    return 0;
  key = server_key (delivery->config->host, delivery->config->port);
  servers = mr_cache_read (SERVERS_CACHE);
  entry = json_object_get_member (servers, key);
  if (entry == NULL || !JSON_NODE_HOLDS_OBJECT (entry))
    return 0;
  return (guint64) MAX (json_object_get_int_member_with_default (json_node_get_object (entry), "size_limit", 0), 0);
}

static MrSmtpClient *
connect_client (MrDelivery    *self,
                GCancellable  *cancellable,
                GError       **error)
{
  g_autoptr(MrSmtpConfig) config = mr_smtp_config_copy (self->config);
  g_autoptr(MrSmtpClient) client = NULL;

  if (!find_secret (self, config, cancellable, error))
    return NULL;
  client = mr_smtp_client_new (config);
  g_mutex_lock (&self->lock);
  g_set_object (&self->client, client);
  g_mutex_unlock (&self->lock);
  if (!mr_smtp_client_connect_sync (client, cancellable, error))
    return NULL;
  remember_server (config->host, config->port, mr_smtp_client_get_server_info (client));
  return g_steal_pointer (&client);
}

MrSmtpClient *
mr_delivery_connect_sync (MrDelivery    *self,
                          GCancellable  *cancellable,
                          GError       **error)
{
  if (self->sendmail)
    {
      mr_smtp_set_error (error, MR_SMTP_ERROR_SENDMAIL, 0, NULL, NULL,
                         _("Mailshots go through an SMTP server; this profile hands mail to the sendmail program."));
      return NULL;
    }
  return connect_client (self, cancellable, error);
}

gboolean
mr_delivery_check_sendmail (MrDelivery  *self,
                            GError     **error)
{
  g_return_val_if_fail (self->sendmail, FALSE);
  if (!g_file_test (self->sendmail_path, G_FILE_TEST_IS_EXECUTABLE))
    {
      g_autofree char *detail = g_strdup_printf (_("%s is not an executable program."), self->sendmail_path);
      mr_smtp_set_error (error, MR_SMTP_ERROR_SENDMAIL, 0, NULL, NULL, detail);
      return FALSE;
    }
  g_string_append_printf (self->sendmail_log, "* %s is an executable program\n", self->sendmail_path);
  return TRUE;
}

/* sendmail -i -f FROM -- RCPT…: the envelope on the command line, never -t (which would lose Bcc). */
gboolean
mr_delivery_run_sendmail_sync (MrDelivery            *self,
                               const MrSmtpEnvelope  *envelope,
                               GBytes                *message,
                               GCancellable          *cancellable,
                               GError               **error)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GBytes) out = NULL;
  g_autoptr(GBytes) err = NULL;
  GError *local_error = NULL;
  int status;

  g_ptr_array_add (argv, self->sendmail_path);
  g_ptr_array_add (argv, "-i");
  g_ptr_array_add (argv, "-f");
  g_ptr_array_add (argv, envelope->from);
  g_ptr_array_add (argv, "--");
  for (guint i = 0; i < envelope->recipients->len; i++)
    g_ptr_array_add (argv, g_ptr_array_index (envelope->recipients, i));
  g_ptr_array_add (argv, NULL);

  {
    g_autofree char *shown = g_strjoinv (" ", (char **) argv->pdata);
    g_string_append_printf (self->sendmail_log, "* %s\n", shown);
  }

  process = g_subprocess_newv ((const char * const *) argv->pdata,
                               G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                               &local_error);
  if (process == NULL)
    {
      mr_smtp_set_error (error, MR_SMTP_ERROR_SENDMAIL, 0, NULL, NULL, local_error->message);
      g_error_free (local_error);
      return FALSE;
    }
  if (!g_subprocess_communicate (process, message, cancellable, &out, &err, &local_error))
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_propagate_error (error, local_error);
      else
        {
          mr_smtp_set_error (error, MR_SMTP_ERROR_SENDMAIL, 0, NULL, NULL, local_error->message);
          g_error_free (local_error);
        }
      return FALSE;
    }

  status = g_subprocess_get_if_exited (process) ? g_subprocess_get_exit_status (process) : -1;
  g_string_append_printf (self->sendmail_log, "* exit status %d\n", status);
  if (status != 0)
    {
      gsize len = 0;
      const char *text = err ? g_bytes_get_data (err, &len) : NULL;
      g_autofree char *stderr_text = g_strndup (text ? text : "", len);
      g_autofree char *detail = g_strdup_printf (_("%s exited with status %d: %s"), self->sendmail_path, status,
                                                 g_strstrip (stderr_text));

      g_string_append_printf (self->sendmail_log, "* %s\n", stderr_text);
      /* EX_TEMPFAIL: the local MTA will take it later. */
      mr_smtp_set_error (error, status == 75 ? MR_SMTP_ERROR_TEMPORARY : MR_SMTP_ERROR_SENDMAIL, 0, NULL, NULL, detail);
      return FALSE;
    }

  return TRUE;
}

