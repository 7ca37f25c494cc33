/* mr-presets.c: provider presets, read from the engine's GResource */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "mr-engine-resources.h"
#include "mr-presets.h"

struct _MrPreset
{
  char    *id;
  char    *name;
  char    *host;
  char    *host_from_domain;
  guint16  port;
  char    *security;
  GStrv    auth;
  char    *delivery;
  GStrv    locked;
  guint16  starttls_port;
  guint16  tls_port;
  guint    per_minute;
  guint    per_day;
  guint    per_day_personal;
  guint    connections;
  GStrv    domains;     /* address domains that are this provider's ("*.onmicrosoft.com" too) */
  GStrv    mx;          /* the provider's mail exchangers, as patterns with "*" */
  char    *help_url;    /* the provider's own page of settings */
  char    *spf_include; /* the SPF domain a customer's record includes ("spf.protection.outlook.com") */
  GStrv    dkim_selectors; /* the selectors the provider signs a customer's domain with */
  char    *username;    /* a login the provider fixes (SendGrid's "apikey"), or NULL */
  gboolean own_return_path; /* the envelope sender is the provider's domain (Brevo, Amazon SES) */
  GStrv    region_ids;  /* a server per region (Amazon SES, Mailgun), or NULL */
  GStrv    region_names;
  GStrv    region_hosts;
  char    *default_region;
};

/* Names in presets.json, listed here so that xgettext finds them. */
static const char *translatable_names[] G_GNUC_UNUSED = {
  N_("Office 365"), N_("Office 365 relay"), N_("Gmail"), N_("Zoho Mail"), N_("Other"), N_("This computer"),
  N_("United States"), N_("European Union"),
};

static GPtrArray *presets;

static GStrv
dup_string_array (JsonObject *object,
                  const char *member)
{
  GStrvBuilder *builder;
  JsonArray *array;
  GStrv result;

  if (!json_object_has_member (object, member))
    return NULL;
  array = json_object_get_array_member (object, member);
  builder = g_strv_builder_new ();
  for (guint i = 0; i < json_array_get_length (array); i++)
    g_strv_builder_add (builder, json_array_get_string_element (array, i));
  result = g_strv_builder_end (builder);
  g_strv_builder_unref (builder);
  return result;
}

/* "regions": [{"id", "name", "host"}], a host missing made from "host_template" with the id for its "%s";
 * "default_region" the one chosen first, whose host is the preset's. */
static void
read_regions (MrPreset   *preset,
              JsonObject *object)
{
  const char *template = json_object_get_string_member_with_default (object, "host_template", NULL);
  g_autoptr(GStrvBuilder) ids = g_strv_builder_new ();
  g_autoptr(GStrvBuilder) names = g_strv_builder_new ();
  g_autoptr(GStrvBuilder) hosts = g_strv_builder_new ();
  JsonArray *regions;

  if (!json_object_has_member (object, "regions"))
    return;
  regions = json_object_get_array_member (object, "regions");
  for (guint i = 0; i < json_array_get_length (regions); i++)
    {
      JsonObject *region = json_array_get_object_element (regions, i);
      const char *id = json_object_get_string_member (region, "id");
      const char *host = json_object_get_string_member_with_default (region, "host", NULL);
      g_autoptr(GString) made = NULL;

      if (host == NULL && template != NULL)
        {
          made = g_string_new (template);
          g_string_replace (made, "%s", id, 1);
        }

      g_strv_builder_add (ids, id);
      g_strv_builder_add (names, json_object_get_string_member_with_default (region, "name", id));
      g_strv_builder_add (hosts, host != NULL ? host : made != NULL ? made->str : "");
    }
  preset->region_ids = g_strv_builder_end (ids);
  preset->region_names = g_strv_builder_end (names);
  preset->region_hosts = g_strv_builder_end (hosts);
  preset->default_region = g_strdup (json_object_get_string_member_with_default (object, "default_region",
                                                                                 preset->region_ids[0]));
  if (preset->host == NULL)
    preset->host = g_strdup (mr_preset_get_region_host (preset, preset->default_region));
}

static GPtrArray *
load_presets (void)
{
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  GPtrArray *result = g_ptr_array_new ();
  JsonArray *providers;

  /* MAILROOM_PRESETS names a file of the same format that replaces the bundled presets: for a
   * distributor's own list of servers, and for tests that stand in for a provider's server. */
  const char *override = g_getenv ("MAILROOM_PRESETS");

  if (override != NULL && *override != '\0')
    {
      if (json_parser_load_from_file (parser, override, &error) && JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)) &&
          json_object_has_member (json_node_get_object (json_parser_get_root (parser)), "providers"))
        goto loaded;
      g_warning ("The provider presets in %s (MAILROOM_PRESETS) cannot be read, so the built-in ones are used: %s",
                 override, error ? error->message : "there is no list of providers");
      g_clear_error (&error);
    }

  /* Through the library's own resource: this also keeps it from being dropped at link time. */
  bytes = g_resource_lookup_data (mr_engine_get_resource (), "/io/github/mailroom/Mailroom/engine/presets.json", 0, &error);
  /* The file is compiled into the library: failing to read it is a build error. */
  if (bytes == NULL || !json_parser_load_from_data (parser, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), &error))
    g_error ("The built-in provider presets are broken: %s", error->message);

loaded:

  providers = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)), "providers");
  for (guint i = 0; i < json_array_get_length (providers); i++)
    {
      JsonObject *object = json_array_get_object_element (providers, i);
      MrPreset *preset = g_new0 (MrPreset, 1);

      preset->id = g_strdup (json_object_get_string_member (object, "id"));
      preset->name = g_strdup (json_object_get_string_member (object, "name"));
      preset->host = g_strdup (json_object_get_string_member_with_default (object, "host", NULL));
      preset->host_from_domain = g_strdup (json_object_get_string_member_with_default (object, "host_from_domain", NULL));
      preset->port = (guint16) json_object_get_int_member_with_default (object, "port", 0);
      preset->security = g_strdup (json_object_get_string_member_with_default (object, "security", NULL));
      preset->auth = dup_string_array (object, "auth");
      preset->delivery = g_strdup (json_object_get_string_member_with_default (object, "delivery", "remote"));
      preset->locked = dup_string_array (object, "locked");
      preset->domains = dup_string_array (object, "domains");
      preset->mx = dup_string_array (object, "mx");
      preset->help_url = g_strdup (json_object_get_string_member_with_default (object, "help_url", NULL));
      preset->spf_include = g_strdup (json_object_get_string_member_with_default (object, "spf_include", NULL));
      preset->dkim_selectors = dup_string_array (object, "dkim_selectors");
      preset->username = g_strdup (json_object_get_string_member_with_default (object, "username", NULL));
      preset->own_return_path = g_strcmp0 (json_object_get_string_member_with_default (object, "return_path", NULL),
                                           "provider") == 0;
      read_regions (preset, object);
      if (json_object_has_member (object, "ports"))
        {
          JsonObject *ports = json_object_get_object_member (object, "ports");

          preset->starttls_port = (guint16) json_object_get_int_member_with_default (ports, "starttls", 0);
          preset->tls_port = (guint16) json_object_get_int_member_with_default (ports, "tls", 0);
        }
      preset->connections = 1;
      if (json_object_has_member (object, "mailshot"))
        {
          JsonObject *pace = json_object_get_object_member (object, "mailshot");

          preset->per_minute = (guint) json_object_get_int_member_with_default (pace, "per_minute", 0);
          preset->per_day = (guint) json_object_get_int_member_with_default (pace, "per_day", 0);
          preset->per_day_personal = (guint) json_object_get_int_member_with_default (pace, "per_day_personal",
                                                                                       preset->per_day);
          preset->connections = (guint) json_object_get_int_member_with_default (pace, "connections", 1);
        }
      g_ptr_array_add (result, preset);
    }
  return result;
}

const MrPreset * const *
mr_presets_get_all (guint *n_presets)
{
  if (g_once_init_enter (&presets))
    g_once_init_leave (&presets, load_presets ());
  *n_presets = presets->len;
  return (const MrPreset * const *) presets->pdata;
}

const MrPreset *
mr_preset_lookup (const char *id)
{
  guint n;
  const MrPreset * const *all = mr_presets_get_all (&n);

  for (guint i = 0; i < n; i++)
    if (g_strcmp0 (all[i]->id, id) == 0)
      return all[i];
  return NULL;
}

static gboolean
matches_any (const char * const *patterns,
             const char         *name)
{
  g_autofree char *lower = g_ascii_strdown (name, -1);

  /* A host name may end in a dot (an absolute name, as DNS gives it). */
  if (g_str_has_suffix (lower, "."))
    lower[strlen (lower) - 1] = '\0';
  for (guint i = 0; patterns != NULL && patterns[i] != NULL; i++)
    if (g_pattern_match_simple (patterns[i], lower))
      return TRUE;
  return FALSE;
}

/* The first preset whose patterns (the GStrv at @patterns_offset in MrPreset) match @name. */
static const MrPreset *
lookup_matching (gsize       patterns_offset,
                 const char *name)
{
  guint n;
  const MrPreset * const *all = mr_presets_get_all (&n);

  for (guint i = 0; name != NULL && i < n; i++)
    if (matches_any (G_STRUCT_MEMBER (const char * const *, all[i], patterns_offset), name))
      return all[i];
  return NULL;
}

const MrPreset *
mr_preset_lookup_by_domain (const char *domain)
{
  return lookup_matching (G_STRUCT_OFFSET (MrPreset, domains), domain);
}

const MrPreset *
mr_preset_lookup_by_mx (const char *mx_host)
{
  return lookup_matching (G_STRUCT_OFFSET (MrPreset, mx), mx_host);
}

const char *
mr_preset_get_help_url (const MrPreset *preset)
{
  return preset->help_url;
}

const char *
mr_preset_get_spf_include (const MrPreset *preset)
{
  return preset->spf_include;
}

const char * const *
mr_preset_get_dkim_selectors (const MrPreset *preset)
{
  return (const char * const *) preset->dkim_selectors;
}

const char *
mr_preset_get_username (const MrPreset *preset)
{
  return preset->username;
}

gboolean
mr_preset_has_own_return_path (const MrPreset *preset)
{
  return preset->own_return_path;
}

const char * const *
mr_preset_get_region_ids (const MrPreset *preset)
{
  return (const char * const *) preset->region_ids;
}

static gint
region_index (const MrPreset *preset,
              const char     *region)
{
  for (guint i = 0; preset->region_ids != NULL && region != NULL && preset->region_ids[i] != NULL; i++)
    if (g_ascii_strcasecmp (preset->region_ids[i], region) == 0)
      return (gint) i;
  return -1;
}

const char *
mr_preset_get_region_name (const MrPreset *preset,
                           const char     *region)
{
  gint i = region_index (preset, region);

  return i < 0 ? NULL : _(preset->region_names[i]);
}

const char *
mr_preset_get_region_host (const MrPreset *preset,
                           const char     *region)
{
  gint i = region_index (preset, region);

  return i < 0 ? NULL : preset->region_hosts[i];
}

const char *
mr_preset_find_region (const MrPreset *preset,
                       const char     *host)
{
  for (guint i = 0; preset->region_hosts != NULL && host != NULL && preset->region_hosts[i] != NULL; i++)
    if (g_ascii_strcasecmp (preset->region_hosts[i], host) == 0)
      return preset->region_ids[i];
  return NULL;
}

const char *
mr_preset_get_id (const MrPreset *preset)
{
  return preset->id;
}

const char *
mr_preset_get_name (const MrPreset *preset)
{
  return _(preset->name);
}

const char *
mr_preset_get_host (const MrPreset *preset)
{
  return preset->host;
}

gboolean
mr_preset_derives_host (const MrPreset *preset)
{
  return preset->host_from_domain != NULL;
}

guint16
mr_preset_get_port (const MrPreset *preset)
{
  return preset->port;
}

const char *
mr_preset_get_security (const MrPreset *preset)
{
  return preset->security;
}

const char * const *
mr_preset_get_auth_methods (const MrPreset *preset)
{
  return (const char * const *) preset->auth;
}

const char *
mr_preset_get_delivery_mode (const MrPreset *preset)
{
  return preset->delivery;
}

void
mr_preset_get_mailshot_pace (const MrPreset *preset,
                             const char     *account,
                             guint          *per_minute,
                             guint          *per_day,
                             guint          *connections)
{
  const char *domain = account ? strrchr (account, '@') : NULL;
  /* Google's own addresses are personal accounts, with a lower daily limit than Workspace. */
  gboolean personal = domain != NULL && (g_ascii_strcasecmp (domain, "@gmail.com") == 0 ||
                                         g_ascii_strcasecmp (domain, "@googlemail.com") == 0);

  *per_minute = preset ? preset->per_minute : 0;
  *per_day = preset ? (personal ? preset->per_day_personal : preset->per_day) : 0;
  *connections = preset ? MAX (preset->connections, 1) : 1;
}

gboolean
mr_preset_locks_key (const MrPreset *preset,
                     const char     *base_key)
{
  return preset->locked != NULL && g_strv_contains ((const char * const *) preset->locked, base_key);
}

guint16
mr_preset_get_port_for_security (const MrPreset *preset,
                                 const char     *security)
{
  if (g_strcmp0 (security, "tls") == 0 && preset->tls_port != 0)
    return preset->tls_port;
  if (g_strcmp0 (security, "starttls") == 0 && preset->starttls_port != 0)
    return preset->starttls_port;
  return 0;
}

/* example.co.uk → example-co-uk.mail.protection.outlook.com */
char *
mr_preset_derive_host (const MrPreset *preset,
                       const char     *sender_domain)
{
  g_autofree char *dashed = NULL;
  g_autofree char *ascii = NULL;

  if (preset->host_from_domain == NULL || sender_domain == NULL || *sender_domain == '\0')
    return NULL;

  ascii = g_hostname_to_ascii (sender_domain);
  if (ascii == NULL)
    return NULL;
  dashed = g_ascii_strdown (ascii, -1);
  g_strdelimit (dashed, ".", '-');
  return g_strdup_printf ("%s.mail.protection.outlook.com", dashed);
}

static char *
app_key (const char *app,
         const char *base)
{
  return app ? g_strdup_printf ("apps.%s.%s", app, base) : g_strdup (base);
}

static gboolean
set_string (MrSettingsFile  *file,
            const char      *app,
            const char      *base,
            const char      *value,
            GError         **error)
{
  g_autofree char *key = app_key (app, base);
  g_autoptr(JsonNode) node = json_node_init_string (json_node_alloc (), value);

  return mr_settings_file_set (file, key, node, error);
}

gboolean
mr_preset_apply (const MrPreset  *preset,
                 MrSettingsFile  *file,
                 const char      *app,
                 GError         **error)
{
  g_autoptr(MrSettingsFile) edited = mr_settings_file_copy (file);
  g_autofree char *from_key = app_key (app, "sender.from_address");
  g_autofree char *auth_key = app_key (app, "smtp.auth");
  const char *from = mr_settings_file_get_string (edited, from_key);
  const char *auth = mr_settings_file_get_string (edited, auth_key);
  g_autofree char *derived = NULL;

  if (from == NULL && app != NULL)
    from = mr_settings_file_get_string (edited, "sender.from_address");

  if (!set_string (edited, app, "smtp.provider", preset->id, error))
    return FALSE;

  /* A region's server stays when the provider is chosen again; else the default region's. */
  {
    g_autofree char *host_key = app_key (app, "smtp.host");

    if (preset->host != NULL && mr_preset_find_region (preset, mr_settings_file_get_string (edited, host_key)) == NULL &&
        !set_string (edited, app, "smtp.host", preset->host, error))
      return FALSE;
  }
  if (preset->username != NULL && !set_string (edited, app, "smtp.username", preset->username, error))
    return FALSE;
  derived = mr_preset_derive_host (preset, mr_address_get_domain (from));
  if (derived != NULL && !set_string (edited, app, "smtp.host", derived, error))
    return FALSE;

  if (preset->port != 0)
    {
      g_autofree char *key = app_key (app, "smtp.port");
      g_autoptr(JsonNode) node = json_node_init_int (json_node_alloc (), preset->port);

      if (!mr_settings_file_set (edited, key, node, error))
        return FALSE;
    }
  if (preset->security != NULL && !set_string (edited, app, "smtp.security", preset->security, error))
    return FALSE;
  /* Keep the chosen method when the provider supports it (Gmail: password or OAuth2). */
  if (preset->auth != NULL && (auth == NULL || !g_strv_contains ((const char * const *) preset->auth, auth)) &&
      !set_string (edited, app, "smtp.auth", preset->auth[0], error))
    return FALSE;
  if (!set_string (edited, app, "delivery.mode", preset->delivery, error))
    return FALSE;

  /* Commit to @file only when every value was accepted. */
  {
    g_auto(GStrv) keys = mr_settings_file_list_keys (edited);

    for (guint i = 0; keys[i] != NULL; i++)
      mr_settings_file_set (file, keys[i], mr_settings_file_get (edited, keys[i]), NULL);
  }
  return TRUE;
}
