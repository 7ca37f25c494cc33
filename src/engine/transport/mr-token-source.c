/* mr-token-source.c: where a transport gets its OAuth 2.0 access tokens */

#include "config.h"

#include "mr-secrets.h"
#include "mr-token-source.h"

struct _MrTokenSource
{
  GObject        parent_instance;

  MrOAuthConfig *config;
  char          *trust_file;
  GMutex         lock;
  SoupSession   *session;
  char          *token;      /* MrSecret */
  char          *scope;
  gint64         expires;    /* real time, seconds */
};

G_DEFINE_FINAL_TYPE (MrTokenSource, mr_token_source, G_TYPE_OBJECT)

static void
mr_token_source_finalize (GObject *object)
{
  MrTokenSource *self = MR_TOKEN_SOURCE (object);

  mr_oauth_config_free (self->config);
  g_free (self->trust_file);
  g_clear_object (&self->session);
  mr_secret_free (self->token);
  g_free (self->scope);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (mr_token_source_parent_class)->finalize (object);
}

static void
mr_token_source_class_init (MrTokenSourceClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mr_token_source_finalize;
}

static void
mr_token_source_init (MrTokenSource *self)
{
  g_mutex_init (&self->lock);
}

MrTokenSource *
mr_token_source_new (const MrOAuthConfig *config,
                     const char          *trust_file)
{
  MrTokenSource *self = g_object_new (MR_TYPE_TOKEN_SOURCE, NULL);

  self->config = mr_oauth_config_copy (config);
  self->trust_file = g_strdup (trust_file);
  return self;
}

const MrOAuthConfig *
mr_token_source_get_config (MrTokenSource *self)
{
  return self->config;
}

SoupSession *
mr_token_source_get_session (MrTokenSource *self)
{
  SoupSession *session;

  g_mutex_lock (&self->lock);
  if (self->session == NULL)
    {
      g_autoptr(GTlsDatabase) database = self->trust_file ? g_tls_file_database_new (self->trust_file, NULL) : NULL;

      self->session = soup_session_new_with_options ("timeout", 60, "idle-timeout", 60,
                                                     "user-agent", "Mailroom/" MAILROOM_VERSION, NULL);
      if (database != NULL)
        soup_session_set_tls_database (self->session, database);
    }
  session = self->session;
  g_mutex_unlock (&self->lock);
  return session;
}

char *
mr_token_source_dup_token_sync (MrTokenSource  *self,
                                const char     *scope,
                                GCancellable   *cancellable,
                                GError        **error)
{
  SoupSession *session = mr_token_source_get_session (self);
  gint64 expires = 0;
  char *token;

  g_mutex_lock (&self->lock);
  if (self->token != NULL && g_strcmp0 (self->scope, scope) == 0 && self->expires - 120 >= g_get_real_time () / G_USEC_PER_SEC)
    {
      token = g_strdup (self->token);
      g_mutex_unlock (&self->lock);
      return token;
    }
  g_mutex_unlock (&self->lock);

  token = mr_oauth_get_access_token_sync (session, self->config, scope, &expires, cancellable, error);
  if (token == NULL)
    return NULL;
  g_mutex_lock (&self->lock);
  mr_secret_free (self->token);
  self->token = g_strdup (token);
  g_free (self->scope);
  self->scope = g_strdup (scope);
  self->expires = expires;
  g_mutex_unlock (&self->lock);
  return token;
}

void
mr_token_source_forget (MrTokenSource *self)
{
  g_mutex_lock (&self->lock);
  g_clear_pointer (&self->token, mr_secret_free);
  g_mutex_unlock (&self->lock);
}
