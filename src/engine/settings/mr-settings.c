/* mr-settings.c: the company and user layers, resolved into effective settings */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "mr-json.h"
#include "mr-settings.h"

struct _MrSettings
{
  GObject         parent_instance;

  MrSettingsFile *company;
  MrSettingsFile *user;
  GHashTable     *defaults;  /* base key → JsonNode */
};

G_DEFINE_FINAL_TYPE (MrSettings, mr_settings, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_COMPANY,
  PROP_USER,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
mr_settings_dispose (GObject *object)
{
  MrSettings *self = MR_SETTINGS (object);

  g_clear_object (&self->company);
  g_clear_object (&self->user);

  G_OBJECT_CLASS (mr_settings_parent_class)->dispose (object);
}

static void
mr_settings_finalize (GObject *object)
{
  MrSettings *self = MR_SETTINGS (object);

  g_clear_pointer (&self->defaults, g_hash_table_unref);

  G_OBJECT_CLASS (mr_settings_parent_class)->finalize (object);
}

static void
mr_settings_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  MrSettings *self = MR_SETTINGS (object);

  switch (prop_id)
    {
    case PROP_COMPANY:
      g_value_set_object (value, self->company);
      break;
    case PROP_USER:
      g_value_set_object (value, self->user);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mr_settings_class_init (MrSettingsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = mr_settings_dispose;
  object_class->finalize = mr_settings_finalize;
  object_class->get_property = mr_settings_get_property;

  properties[PROP_COMPANY] =
    g_param_spec_object ("company", NULL, NULL, MR_TYPE_SETTINGS_FILE,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_USER] =
    g_param_spec_object ("user", NULL, NULL, MR_TYPE_SETTINGS_FILE,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
mr_settings_init (MrSettings *self)
{
  guint n_keys;
  const MrKeyInfo *keys = mr_key_get_all (&n_keys);

  self->defaults = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) json_node_unref);
  for (guint i = 0; i < n_keys; i++)
    g_hash_table_insert (self->defaults, (gpointer) keys[i].name, mr_key_get_default (&keys[i]));
}

char *
mr_settings_get_default_company_path (void)
{
  const char *path = g_getenv ("MAILROOM_COMPANY_CONFIG");

  if (path != NULL && *path != '\0')
    return g_strdup (path);
  return g_strdup ("/etc/xdg/mailroom/company.json");
}

/* $VARIABLE/mailroom/@name, reading the variable each time: GLib caches its g_get_user_*_dir() for
 * the process's life, and the tests give each case its own folders. */
static char *
user_path (const char   *variable,
           const char *(*fallback) (void),
           const char   *name)
{
  const char *home = g_getenv (variable);

  if (home == NULL || !g_path_is_absolute (home))
    home = fallback ();
  return g_build_filename (home, "mailroom", name, NULL);
}

char *
mr_settings_get_default_user_path (void)
{
  return user_path ("XDG_CONFIG_HOME", g_get_user_config_dir, "user.json");
}

char *
mr_get_user_data_path (const char *name)
{
  return user_path ("XDG_DATA_HOME", g_get_user_data_dir, name);
}

char *
mr_get_user_cache_path (const char *name)
{
  return user_path ("XDG_CACHE_HOME", g_get_user_cache_dir, name);
}

JsonObject *
mr_cache_read (const char *name)
{
  g_autofree char *path = mr_get_user_cache_path (name);
  g_autoptr(JsonNode) root = mr_json_parse_file (path, NULL);

  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return json_object_new ();
  return json_object_ref (json_node_get_object (root));
}

void
mr_cache_write (const char *name,
                JsonObject *object)
{
  g_autofree char *path = mr_get_user_cache_path (name);
  g_autofree char *dir = g_path_get_dirname (path);
  g_autoptr(JsonNode) root = json_node_init_object (json_node_alloc (), object);
  g_autofree char *text = json_to_string (root, TRUE);

  if (g_mkdir_with_parents (dir, 0700) == 0)
    g_file_set_contents_full (path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, NULL);
}

MrSettings *
mr_settings_new (const char *company_path,
                 const char *user_path)
{
  MrSettings *self = g_object_new (MR_TYPE_SETTINGS, NULL);
  g_autofree char *default_company = company_path ? NULL : mr_settings_get_default_company_path ();
  g_autofree char *default_user = user_path ? NULL : mr_settings_get_default_user_path ();

  self->company = mr_settings_file_new (company_path ? company_path : default_company, MR_SCOPE_COMPANY);
  self->user = mr_settings_file_new (user_path ? user_path : default_user, MR_SCOPE_USER);
  return self;
}

gboolean
mr_settings_load (MrSettings  *self,
                  GError     **error)
{
  gboolean company_ok, user_ok;
  g_autoptr(GError) user_error = NULL;

  company_ok = mr_settings_file_load (self->company, error);
  user_ok = mr_settings_file_load (self->user, company_ok ? error : &user_error);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_COMPANY]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_USER]);
  return company_ok && user_ok;
}

MrSettingsFile *
mr_settings_get_company (MrSettings *self)
{
  return self->company;
}

MrSettingsFile *
mr_settings_get_user (MrSettings *self)
{
  return self->user;
}

MrSettingsFile *
mr_settings_get_layer (MrSettings *self,
                       MrScope     scope)
{
  return scope == MR_SCOPE_COMPANY ? self->company : self->user;
}

gboolean
mr_settings_can_edit_company (MrSettings *self)
{
  return mr_settings_file_can_write (self->company);
}

const char *
mr_origin_to_string (MrOrigin origin)
{
  switch (origin)
    {
    case MR_ORIGIN_COMPANY: return "company";
    case MR_ORIGIN_APP: return "app";
    case MR_ORIGIN_USER: return "user";
    case MR_ORIGIN_DEFAULT:
    default: return "default";
    }
}

static char *
app_key (const char *app,
         const char *base)
{
  return g_strdup_printf ("apps.%s.%s", app, base);
}

/* The company-side value (application profile, then company, then default) in @company. */
static JsonNode *
company_value (MrSettings     *self,
               MrSettingsFile *company,
               const char     *app,
               const char     *base_key,
               MrOrigin       *origin)
{
  const MrKeyInfo *info = mr_key_lookup (base_key);
  JsonNode *value;

  if (app != NULL && (info->layers & MR_LAYER_APP) != 0)
    {
      g_autofree char *key = app_key (app, base_key);

      if ((value = mr_settings_file_get (company, key)) != NULL)
        {
          *origin = MR_ORIGIN_APP;
          return value;
        }
    }
  if ((info->layers & MR_LAYER_COMPANY) != 0 && (value = mr_settings_file_get (company, base_key)) != NULL)
    {
      *origin = MR_ORIGIN_COMPANY;
      return value;
    }
  *origin = MR_ORIGIN_DEFAULT;
  return g_hash_table_lookup (self->defaults, base_key);
}

static const char *
company_string (MrSettings     *self,
                MrSettingsFile *company,
                const char     *app,
                const char     *base_key)
{
  MrOrigin origin;

  return json_node_get_string (company_value (self, company, app, base_key, &origin));
}

static gboolean
string_list_contains (JsonNode   *list,
                      const char *item)
{
  JsonArray *array = json_node_get_array (list);

  for (guint i = 0; i < json_array_get_length (array); i++)
    if (g_strcmp0 (json_array_get_string_element (array, i), item) == 0)
      return TRUE;
  return FALSE;
}

static char *
lock_reason_in (MrSettings     *self,
                MrSettingsFile *company,
                const char     *app,
                const char     *base_key)
{
  const MrKeyInfo *info = mr_key_lookup (base_key);
  const MrPreset *preset;
  MrOrigin origin;

  if (info == NULL || !info->lockable)
    return NULL;

  if (string_list_contains (company_value (self, company, NULL, "locks", &origin), base_key))
    return g_strdup (_("Locked by your administrator"));

  preset = mr_preset_lookup (company_string (self, company, app, "smtp.provider"));
  if (preset != NULL && mr_preset_locks_key (preset, base_key))
    return g_strdup_printf (_("Fixed by the %s provider preset"), mr_preset_get_name (preset));

  if (g_str_equal (base_key, "smtp.username") &&
      g_strcmp0 (company_string (self, company, app, "smtp.credentials"), "per-user") != 0)
    return g_strdup (_("Your company’s login is used for everyone"));

  return NULL;
}

char *
mr_settings_get_lock_reason (MrSettings *self,
                             const char *app,
                             const char *base_key)
{
  return lock_reason_in (self, self->company, app, base_key);
}

JsonNode *
mr_settings_get_effective (MrSettings *self,
                           const char *app,
                           const char *base_key,
                           MrOrigin   *origin)
{
  const MrKeyInfo *info = mr_key_lookup (base_key);
  MrOrigin unused;
  JsonNode *value;

  g_return_val_if_fail (info != NULL, NULL);

  if (origin == NULL)
    origin = &unused;

  if ((info->layers & MR_LAYER_USER) != 0)
    {
      value = mr_settings_file_get (self->user, base_key);
      if (value != NULL)
        {
          g_autofree char *reason = mr_settings_get_lock_reason (self, app, base_key);

          if (reason == NULL)
            {
              *origin = MR_ORIGIN_USER;
              return value;
            }
        }

      /* With per-user credentials the company's login is nobody's. */
      if (g_str_equal (base_key, "smtp.username") &&
          g_strcmp0 (company_string (self, self->company, app, "smtp.credentials"), "per-user") == 0)
        {
          *origin = MR_ORIGIN_DEFAULT;
          return g_hash_table_lookup (self->defaults, base_key);
        }
    }

  return company_value (self, self->company, app, base_key, origin);
}

char *
mr_settings_dup_effective_string (MrSettings *self,
                                  const char *app,
                                  const char *base_key)
{
  return g_strdup (json_node_get_string (mr_settings_get_effective (self, app, base_key, NULL)));
}

GStrv
mr_settings_dup_effective_strv (MrSettings *self,
                                const char *app,
                                const char *base_key)
{
  return mr_json_dup_strv (mr_settings_get_effective (self, app, base_key, NULL));
}

gint64
mr_settings_get_effective_int (MrSettings *self,
                               const char *app,
                               const char *base_key)
{
  return json_node_get_int (mr_settings_get_effective (self, app, base_key, NULL));
}

gboolean
mr_settings_get_effective_boolean (MrSettings *self,
                                   const char *app,
                                   const char *base_key)
{
  return json_node_get_boolean (mr_settings_get_effective (self, app, base_key, NULL));
}

static gboolean
domain_in (MrSettings     *self,
           MrSettingsFile *company,
           const char     *domain)
{
  MrOrigin origin;
  JsonNode *verified = company_value (self, company, NULL, "domains.verified", &origin);
  g_autofree char *lower = NULL;

  if (json_array_get_length (json_node_get_array (verified)) == 0)
    return TRUE;
  if (domain == NULL)
    return FALSE;
  lower = g_utf8_strdown (domain, -1);
  return string_list_contains (verified, lower);
}

gboolean
mr_settings_domain_is_verified (MrSettings *self,
                                const char *domain)
{
  return domain_in (self, self->company, domain);
}

static gboolean
check_sender_domain (MrSettings      *self,
                     MrSettingsFile  *company,
                     const char      *key,
                     const char      *address,
                     GError         **error)
{
  const char *domain = mr_address_get_domain (address);

  if (address == NULL || *address == '\0' || domain_in (self, company, domain))
    return TRUE;

  g_set_error (error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_INVALID_VALUE,
               _("%s: %s is not one of the company’s verified domains; add it to domains.verified first"),
               key, domain);
  return FALSE;
}

/* What an unencrypted connection means for the login chosen. Without TLS the client uses only
 * mechanisms that never send the secret itself (SCRAM-SHA-256, SCRAM-SHA-1, CRAM-MD5, NTLM) unless
 * smtp.allow_plaintext_auth lets PLAIN, LOGIN and XOAUTH2 through, so the warning says which. */
static char *
unencrypted_login_warning (MrSettings     *self,
                           MrSettingsFile *edited,
                           const char     *app,
                           const char     *auth)
{
  MrOrigin origin;
  gboolean allowed = json_node_get_boolean (company_value (self, edited, app, "smtp.allow_plaintext_auth", &origin));
  g_autofree char *text = NULL;

  if (g_strcmp0 (auth, "oauth2") == 0)
    text = allowed ? g_strdup (_("The sign-in token would cross the network unencrypted, where anyone on the way "
                                 "could read it and send as you. Choose STARTTLS or TLS."))
                   : g_strdup (_("The connection is unencrypted, and a sign-in token is never sent that way: "
                                 "logging in will be refused. Choose STARTTLS or TLS."));
  else if (g_strcmp0 (auth, "ntlm") == 0 || !allowed)
    text = g_strdup (_("The connection is unencrypted: the mail can be read on the way. The password itself is "
                       "never sent that way: Mailroom logs in only with methods that prove it without sending "
                       "it (SCRAM-SHA-256, SCRAM-SHA-1, CRAM-MD5, NTLM), so a server that offers only PLAIN or "
                       "LOGIN will refuse. Choose STARTTLS or TLS where the server offers them."));
  else
    text = g_strdup (_("The password may cross the network unencrypted: where the server offers only PLAIN or "
                       "LOGIN, anyone on the way could read it. Choose STARTTLS or TLS."));
  return app ? g_strdup_printf (_("Application “%s”: %s"), app, text) : g_steal_pointer (&text);
}

static gboolean
check_company (MrSettings      *self,
               MrSettingsFile  *edited,
               GPtrArray       *warnings,
               GError         **error)
{
  g_auto(GStrv) apps = mr_settings_file_list_apps (edited);
  guint n_apps = g_strv_length (apps);

  /* Index n_apps stands for the company default. */
  for (guint i = 0; i <= n_apps; i++)
    {
      const char *app = i < n_apps ? apps[i] : NULL;
      g_autofree char *from_key = app ? app_key (app, "sender.from_address") : g_strdup ("sender.from_address");
      const char *from = mr_settings_file_get_string (edited, from_key);
      const MrPreset *preset = mr_preset_lookup (company_string (self, edited, app, "smtp.provider"));
      const char *security = company_string (self, edited, app, "smtp.security");
      const char *auth = company_string (self, edited, app, "smtp.auth");

      if (!check_sender_domain (self, edited, from_key, from, error))
        return FALSE;

      if (preset != NULL && mr_preset_locks_key (preset, "smtp.security") &&
          g_strcmp0 (security, mr_preset_get_security (preset)) != 0)
        {
          g_set_error (error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_INVALID_VALUE,
                       _("smtp.security: the %s preset requires “%s”"),
                       mr_preset_get_name (preset), mr_preset_get_security (preset));
          return FALSE;
        }
      if (preset != NULL && mr_preset_locks_key (preset, "smtp.auth") &&
          !g_strv_contains (mr_preset_get_auth_methods (preset), auth))
        {
          g_set_error (error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_INVALID_VALUE,
                       _("smtp.auth: %s accepts mail by the sender’s IP address and offers no login; "
                         "authentication must be “%s”"),
                       mr_preset_get_name (preset), mr_preset_get_auth_methods (preset)[0]);
          return FALSE;
        }

      /* Microsoft's dates, where a setting runs into them. */
      if (warnings != NULL && g_strcmp0 (company_string (self, edited, app, "smtp.provider"), "office365") == 0 &&
          g_strcmp0 (auth, "password") == 0)
        g_ptr_array_add (warnings, g_strdup (_("Office 365 turns off password (Basic) login for SMTP by default at the "
                                               "end of December 2026: choose OAuth2, or send through Exchange Online "
                                               "(Microsoft Graph).")));
      if (warnings != NULL && g_strcmp0 (company_string (self, edited, app, "exchange.transport"), "ews") == 0 &&
          strstr (company_string (self, edited, app, "exchange.ews_url"), "outlook.office365.com") != NULL)
        g_ptr_array_add (warnings, g_strdup (_("EWS at Exchange Online has been off by default since 1 October 2026 "
                                               "and shuts down on 1 April 2027: use Microsoft Graph "
                                               "(exchange.transport = graph).")));

      if (warnings != NULL && g_strcmp0 (security, "none") == 0 && g_strcmp0 (auth, "none") != 0)
        g_ptr_array_add (warnings, unencrypted_login_warning (self, edited, app, auth));
    }
  return TRUE;
}

static gboolean
check_user (MrSettings      *self,
            MrSettingsFile  *edited,
            GPtrArray       *warnings,
            GError         **error)
{
  g_auto(GStrv) keys = mr_settings_file_list_keys (edited);
  const char *email;

  for (guint i = 0; keys[i] != NULL; i++)
    {
      JsonNode *before = mr_settings_file_get (self->user, keys[i]);
      JsonNode *after = mr_settings_file_get (edited, keys[i]);
      g_autofree char *reason = NULL;

      /* A value stored before the key was locked is ignored, not an error; adding or changing one is. */
      if (before != NULL && json_node_equal (before, after))
        continue;
      reason = mr_settings_get_lock_reason (self, NULL, keys[i]);
      if (reason != NULL)
        {
          g_set_error (error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_KEY_LOCKED,
                       _("%s cannot be changed: %s"), keys[i], reason);
          return FALSE;
        }
    }

  if (!check_sender_domain (self, self->company, "sender.from_address",
                            mr_settings_file_get_string (edited, "sender.from_address"), error))
    return FALSE;

  email = mr_settings_file_get_string (edited, "user.email");
  if (warnings != NULL && email != NULL && *email != '\0' &&
      !domain_in (self, self->company, mr_address_get_domain (email)))
    g_ptr_array_add (warnings,
                     g_strdup_printf (_("%s is not one of the company’s verified domains: mail sent as you "
                                        "from this address will be refused."),
                                      mr_address_get_domain (email)));
  return TRUE;
}

gboolean
mr_settings_check (MrSettings      *self,
                   MrSettingsFile  *edited,
                   GPtrArray      **warnings,
                   GError         **error)
{
  g_autoptr(GPtrArray) collected = g_ptr_array_new_with_free_func (g_free);
  gboolean ok;

  if (mr_settings_file_get_scope (edited) == MR_SCOPE_COMPANY)
    ok = check_company (self, edited, collected, error);
  else
    ok = check_user (self, edited, collected, error);

  if (ok && warnings != NULL)
    *warnings = g_steal_pointer (&collected);
  return ok;
}

gboolean
mr_settings_commit (MrSettings      *self,
                    MrSettingsFile  *edited,
                    GPtrArray      **warnings,
                    GError         **error)
{
  MrScope scope = mr_settings_file_get_scope (edited);
  MrSettingsFile *current = mr_settings_get_layer (self, scope);

  if (scope == MR_SCOPE_COMPANY && !mr_settings_file_can_write (current))
    {
      g_set_error (error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_FILE_UNWRITABLE,
                   _("The company settings are managed by your administrator: you may not change %s"),
                   mr_settings_file_get_path (current));
      return FALSE;
    }

  if (!mr_settings_check (self, edited, warnings, error))
    return FALSE;
  if (!mr_settings_file_save (edited, error))
    return FALSE;

  {
    MrSettingsFile **slot = scope == MR_SCOPE_COMPANY ? &self->company : &self->user;

    g_clear_object (slot);
    *slot = mr_settings_file_copy (edited);
    g_object_notify_by_pspec (G_OBJECT (self), properties[scope == MR_SCOPE_COMPANY ? PROP_COMPANY : PROP_USER]);
  }
  return TRUE;
}

/* After a change of the From address, a preset that derives its host (Office 365 relay) follows. */
static void
follow_derived_host (MrSettings     *self,
                     MrSettingsFile *edited,
                     const char     *app)
{
  const MrPreset *preset = mr_preset_lookup (company_string (self, edited, app, "smtp.provider"));
  g_autofree char *host = NULL;
  g_autofree char *host_key = app ? app_key (app, "smtp.host") : g_strdup ("smtp.host");

  if (preset == NULL || !mr_preset_derives_host (preset))
    return;
  host = mr_preset_derive_host (preset, mr_address_get_domain (company_string (self, edited, app, "sender.from_address")));
  if (host != NULL)
    {
      g_autoptr(JsonNode) node = json_node_init_string (json_node_alloc (), host);
      mr_settings_file_set (edited, host_key, node, NULL);
    }
}

gboolean
mr_settings_set_and_commit (MrSettings      *self,
                            MrScope          scope,
                            const char      *key,
                            const char      *text,
                            GPtrArray      **warnings,
                            GError         **error)
{
  g_autoptr(MrSettingsFile) edited = mr_settings_file_copy (mr_settings_get_layer (self, scope));
  g_autofree char *app = NULL;
  const char *base;

  if (!mr_settings_file_set_from_text (edited, key, text, error))
    return FALSE;

  mr_key_split (key, &app, &base);
  if (scope == MR_SCOPE_COMPANY && g_str_equal (base, "smtp.provider") &&
      !mr_preset_apply (mr_preset_lookup (text), edited, app, error))
    return FALSE;
  if (scope == MR_SCOPE_COMPANY && g_str_equal (base, "sender.from_address"))
    follow_derived_host (self, edited, app);

  return mr_settings_commit (self, edited, warnings, error);
}

gboolean
mr_settings_unset_and_commit (MrSettings      *self,
                              MrScope          scope,
                              const char      *key,
                              GPtrArray      **warnings,
                              GError         **error)
{
  g_autoptr(MrSettingsFile) edited = mr_settings_file_copy (mr_settings_get_layer (self, scope));

  if (!mr_settings_file_unset (edited, key, error))
    return FALSE;
  return mr_settings_commit (self, edited, warnings, error);
}

MrSecretAccount *
mr_settings_get_account (MrSettings  *self,
                         MrScope      scope,
                         const char  *app,
                         GError     **error)
{
  const char *credentials = company_string (self, self->company, app, "smtp.credentials");
  g_autofree char *host = NULL;
  g_autofree char *user = NULL;
  const char *account_app = NULL;

  if (app != NULL && !mr_settings_file_has_app (self->company, app))
    {
      g_set_error (error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_UNKNOWN_KEY,
                   _("There is no application profile “%s”"), app);
      return NULL;
    }

  if (scope == MR_SCOPE_USER)
    {
      if (g_strcmp0 (credentials, "per-user") != 0)
        {
          g_set_error_literal (error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_KEY_LOCKED,
                               _("Your company’s login is used for everyone: there is no personal password "
                                 "to store (smtp.credentials is “company”)"));
          return NULL;
        }
      host = mr_settings_dup_effective_string (self, app, "smtp.host");
      user = mr_settings_dup_effective_string (self, app, "smtp.username");
    }
  else
    {
      host = g_strdup (company_string (self, self->company, app, "smtp.host"));
      user = g_strdup (company_string (self, self->company, app, "smtp.username"));
    }

  if (host == NULL || *host == '\0')
    {
      g_set_error_literal (error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_INVALID_VALUE,
                           _("smtp.host: the server is not set yet, so the password has no account to belong to"));
      return NULL;
    }
  if (user == NULL || *user == '\0')
    {
      g_set_error_literal (error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_INVALID_VALUE,
                           scope == MR_SCOPE_USER
                             ? _("smtp.username: enter your own login in My Settings first")
                             : _("smtp.username: enter the login first, then the password"));
      return NULL;
    }

  if (app != NULL)
    {
      g_autofree char *host_key = app_key (app, "smtp.host");
      g_autofree char *user_key = app_key (app, "smtp.username");

      if (mr_settings_file_get (self->company, host_key) != NULL ||
          mr_settings_file_get (self->company, user_key) != NULL)
        account_app = app;
    }

  return mr_secret_account_new (scope == MR_SCOPE_COMPANY ? MR_SECRET_SCOPE_COMPANY : MR_SECRET_SCOPE_USER,
                                host, user, account_app);
}
