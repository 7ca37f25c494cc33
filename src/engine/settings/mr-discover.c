/* mr-discover.c: finding the outgoing server from an email address */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <libsoup/soup.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <string.h>

#include "mr-discover.h"
#include "mr-keys.h"
#include "mr-presets.h"
#include "mr-settings-error.h"

/* An autoconfig document is a few kilobytes; more is not one. */
#define MAX_AUTOCONFIG (256 * 1024)

void
mr_discovery_free (MrDiscovery *discovery)
{
  if (discovery == NULL)
    return;
  g_free (discovery->found_by);
  g_free (discovery->provider);
  g_free (discovery->provider_name);
  g_free (discovery->host);
  g_free (discovery->security);
  g_free (discovery->auth);
  g_free (discovery->username);
  g_free (discovery->help_url);
  g_ptr_array_unref (discovery->steps);
  g_free (discovery);
}

const char *
mr_discover_source_to_string (MrDiscoverSource source)
{
  switch (source)
    {
    case MR_DISCOVER_PRESET: return "preset";
    case MR_DISCOVER_MX: return "mx";
    case MR_DISCOVER_SRV: return "srv";
    case MR_DISCOVER_AUTOCONFIG: return "autoconfig";
    case MR_DISCOVER_NONE:
    default: return "none";
    }
}

static void
step (MrDiscovery *discovery,
      const char  *format,
      ...) G_GNUC_PRINTF (2, 3);

static void
step (MrDiscovery *discovery,
      const char  *format,
      ...)
{
  va_list args;

  va_start (args, format);
  g_ptr_array_add (discovery->steps, g_strdup_vprintf (format, args));
  va_end (args);
}

/* What a preset says, as a discovery. */
static void
take_preset (MrDiscovery    *discovery,
             const MrPreset *preset,
             const char     *domain)
{
  const char * const *auth = mr_preset_get_auth_methods (preset);

  g_free (discovery->provider);
  discovery->provider = g_strdup (mr_preset_get_id (preset));
  discovery->provider_name = g_strdup (mr_preset_get_name (preset));
  discovery->host = mr_preset_derives_host (preset) ? mr_preset_derive_host (preset, domain)
                                                    : g_strdup (mr_preset_get_host (preset));
  discovery->port = mr_preset_get_port (preset);
  discovery->security = g_strdup (mr_preset_get_security (preset));
  discovery->auth = g_strdup (auth != NULL && auth[0] != NULL ? auth[0] : "password");
  discovery->help_url = g_strdup (mr_preset_get_help_url (preset));
}

/* ---- 2. MX ------------------------------------------------------------------------------------ */

static gint
by_preference (gconstpointer a,
               gconstpointer b)
{
  guint16 pa, pb;

  g_variant_get ((GVariant *) a, "(q&s)", &pa, NULL);
  g_variant_get ((GVariant *) b, "(q&s)", &pb, NULL);
  return (gint) pa - (gint) pb;
}

/* Amazon SES receives at inbound-smtp.REGION.amazonaws.com and sends from email-smtp.REGION…. */
static char *
ses_region (const char *mx_host)
{
  static const char prefix[] = "inbound-smtp.", suffix[] = ".amazonaws.com";
  g_autofree char *lower = g_ascii_strdown (mx_host, -1);
  gsize length;

  if (g_str_has_suffix (lower, "."))
    lower[strlen (lower) - 1] = '\0';
  length = strlen (lower);
  if (!g_str_has_prefix (lower, prefix) || !g_str_has_suffix (lower, suffix) ||
      length <= strlen (prefix) + strlen (suffix))
    return NULL;
  return g_strndup (lower + strlen (prefix), length - strlen (prefix) - strlen (suffix));
}

static gboolean
try_mx (MrDiscovery  *discovery,
        const char   *domain,
        GCancellable *cancellable)
{
  g_autoptr(GResolver) resolver = g_resolver_get_default ();
  g_autoptr(GError) error = NULL;
  GList *records = g_resolver_lookup_records (resolver, domain, G_RESOLVER_RECORD_MX, cancellable, &error);
  gboolean found = FALSE;

  if (records == NULL)
    {
      step (discovery, _("Mail exchangers (MX) of %s: none found (%s)"), domain, error->message);
      return FALSE;
    }
  records = g_list_sort (records, by_preference);
  for (GList *l = records; l != NULL && !found; l = l->next)
    {
      const char *host;
      const MrPreset *preset;
      g_autofree char *region = NULL;

      g_variant_get (l->data, "(q&s)", NULL, &host);
      if ((preset = mr_preset_lookup_by_mx (host)) != NULL)
        {
          take_preset (discovery, preset, domain);
          discovery->found_by = g_strdup_printf (_("The mail of %s goes to %s (its mail exchanger is %s)"), domain,
                                                 mr_preset_get_name (preset), host);
          found = TRUE;
        }
      else if ((region = ses_region (host)) != NULL && (preset = mr_preset_lookup ("ses")) != NULL)
        {
          const char *region_host = mr_preset_get_region_host (preset, region);

          take_preset (discovery, preset, domain);
          g_free (discovery->provider_name);
          discovery->provider_name = g_strdup_printf (_("Amazon SES (%s)"), region);
          g_free (discovery->host);
          discovery->host = region_host != NULL ? g_strdup (region_host)
                                                : g_strdup_printf ("email-smtp.%s.amazonaws.com", region);
          discovery->found_by = g_strdup_printf (_("The mail of %s goes to Amazon SES (its mail exchanger is %s)"),
                                                 domain, host);
          found = TRUE;
        }
    }
  if (!found)
    {
      GVariant *first = records->data;
      const char *host;

      g_variant_get (first, "(q&s)", NULL, &host);
      step (discovery, _("Mail exchangers (MX) of %s: %s, not a provider Mailroom knows"), domain, host);
    }
  else
    step (discovery, "%s", discovery->found_by);
  g_list_free_full (records, (GDestroyNotify) g_variant_unref);
  return found;
}

/* ---- 3. SRV (RFC 6186) ------------------------------------------------------------------------ */

static gboolean
try_srv (MrDiscovery  *discovery,
         const char   *domain,
         GCancellable *cancellable)
{
  static const struct { const char *service; const char *security; } services[] = {
    { "submissions", "tls" },
    { "submission", "starttls" },
  };
  g_autoptr(GResolver) resolver = g_resolver_get_default ();

  for (guint i = 0; i < G_N_ELEMENTS (services); i++)
    {
      g_autoptr(GError) error = NULL;
      GList *targets = g_resolver_lookup_service (resolver, services[i].service, "tcp", domain, cancellable, &error);
      const char *host = targets ? g_srv_target_get_hostname (targets->data) : NULL;

      /* RFC 6186 3.1: a target of "." says the service is not offered. */
      if (targets == NULL || host == NULL || g_str_equal (host, ".") || *host == '\0')
        {
          step (discovery, _("Service record _%s._tcp.%s: %s"), services[i].service, domain,
                error ? error->message : _("the service is not offered"));
          g_resolver_free_targets (targets);
          continue;
        }
      discovery->provider = g_strdup ("other");
      discovery->provider_name = g_strdup (_("Other"));
      discovery->host = g_strdup (host);
      if (g_str_has_suffix (discovery->host, "."))
        discovery->host[strlen (discovery->host) - 1] = '\0';
      discovery->port = g_srv_target_get_port (targets->data);
      discovery->security = g_strdup (services[i].security);
      discovery->auth = g_strdup ("password");
      discovery->found_by = g_strdup_printf (_("%s names its mail server in a service record (_%s._tcp): %s, port %u"),
                                             domain, services[i].service, discovery->host, discovery->port);
      step (discovery, "%s", discovery->found_by);
      g_resolver_free_targets (targets);
      return TRUE;
    }
  return FALSE;
}

/* ---- 4. Autoconfig ---------------------------------------------------------------------------- */

static xmlNode *
child_element (xmlNode    *parent,
               const char *name)
{
  for (xmlNode *node = parent ? parent->children : NULL; node != NULL; node = node->next)
    if (node->type == XML_ELEMENT_NODE && g_strcmp0 ((const char *) node->name, name) == 0)
      return node;
  return NULL;
}

static char *
child_text (xmlNode    *parent,
            const char *name)
{
  xmlNode *node = child_element (parent, name);
  xmlChar *content = node ? xmlNodeGetContent (node) : NULL;
  char *text = content ? g_strstrip (g_strdup ((const char *) content)) : NULL;

  xmlFree (content);
  return text;
}

/* %EMAILADDRESS%, %EMAILLOCALPART% and %EMAILDOMAIN%, as the autoconfig format has them. */
static char *
expand (const char *text,
        const char *address)
{
  const char *at = strrchr (address, '@');
  g_autofree char *local = g_strndup (address, at - address);
  GString *out = g_string_new (NULL);

  for (const char *p = text; *p; )
    {
      if (g_str_has_prefix (p, "%EMAILADDRESS%"))
        g_string_append (out, address), p += strlen ("%EMAILADDRESS%");
      else if (g_str_has_prefix (p, "%EMAILLOCALPART%"))
        g_string_append (out, local), p += strlen ("%EMAILLOCALPART%");
      else if (g_str_has_prefix (p, "%EMAILDOMAIN%"))
        g_string_append (out, at + 1), p += strlen ("%EMAILDOMAIN%");
      else
        g_string_append_c (out, *p++);
    }
  return g_string_free (out, FALSE);
}

/* The document's SMTP server: TLS first, then STARTTLS; one without encryption only if nothing
 * else is offered (the server check then says what that means). */
static gboolean
read_autoconfig (MrDiscovery *discovery,
                 const char  *document,
                 gsize        length,
                 const char  *address,
                 const char  *url)
{
  static const char *preference[] = { "SSL", "STARTTLS", "plain" };
  xmlDoc *doc = xmlReadMemory (document, (int) length, url, NULL,
                               XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  xmlNode *provider = NULL;
  gboolean found = FALSE;

  if (doc == NULL)
    return FALSE;
  /* No autoconfig document has a DTD; one with its own entities could expand them without end. */
  if (xmlGetIntSubset (doc) != NULL)
    {
      xmlFreeDoc (doc);
      return FALSE;
    }
  if (xmlDocGetRootElement (doc) != NULL && g_strcmp0 ((const char *) xmlDocGetRootElement (doc)->name, "clientConfig") == 0)
    provider = child_element (xmlDocGetRootElement (doc), "emailProvider");

  for (guint p = 0; p < G_N_ELEMENTS (preference) && !found; p++)
    for (xmlNode *node = provider ? provider->children : NULL; node != NULL && !found; node = node->next)
      {
        g_autofree char *type = NULL;
        g_autofree char *hostname = NULL;
        g_autofree char *port = NULL;
        g_autofree char *socket_type = NULL;
        g_autofree char *username = NULL;
        guint64 port_number = 0;
        xmlChar *type_attribute;

        if (node->type != XML_ELEMENT_NODE || g_strcmp0 ((const char *) node->name, "outgoingServer") != 0)
          continue;
        type_attribute = xmlGetProp (node, (const xmlChar *) "type");
        type = g_strdup ((const char *) type_attribute);
        xmlFree (type_attribute);
        socket_type = child_text (node, "socketType");
        if (g_strcmp0 (type, "smtp") != 0 || g_strcmp0 (socket_type, preference[p]) != 0)
          continue;
        hostname = child_text (node, "hostname");
        port = child_text (node, "port");
        username = child_text (node, "username");
        if (hostname == NULL || *hostname == '\0' || port == NULL ||
            !g_ascii_string_to_unsigned (port, 10, 1, 65535, &port_number, NULL))
          continue;

        discovery->provider = g_strdup ("other");
        discovery->provider_name = child_text (provider, "displayName");
        if (discovery->provider_name == NULL)
          discovery->provider_name = g_strdup (_("Other"));
        discovery->host = expand (hostname, address);
        discovery->port = (guint16) port_number;
        discovery->security = g_strdup (p == 0 ? "tls" : p == 1 ? "starttls" : "none");
        discovery->auth = g_strdup ("password");
        for (xmlNode *auth = node->children; auth != NULL; auth = auth->next)
          if (auth->type == XML_ELEMENT_NODE && g_strcmp0 ((const char *) auth->name, "authentication") == 0)
            {
              xmlChar *content = xmlNodeGetContent (auth);

              if (g_strcmp0 ((const char *) content, "OAuth2") == 0)
                {
                  g_free (discovery->auth);
                  discovery->auth = g_strdup ("oauth2");
                }
              else if (g_strcmp0 ((const char *) content, "none") == 0 && g_str_equal (discovery->auth, "password"))
                {
                  g_free (discovery->auth);
                  discovery->auth = g_strdup ("none");
                }
              xmlFree (content);
            }
        discovery->username = username ? expand (username, address) : NULL;
        found = TRUE;
      }
  xmlFreeDoc (doc);
  return found;
}

MrDiscovery *
mr_discovery_from_autoconfig (const char *document,
                              gsize       length,
                              const char *address)
{
  g_autoptr(MrDiscovery) discovery = g_new0 (MrDiscovery, 1);

  discovery->steps = g_ptr_array_new_with_free_func (g_free);
  discovery->source = MR_DISCOVER_AUTOCONFIG;
  if (!mr_validate_address (address, NULL) || length > G_MAXINT ||
      !read_autoconfig (discovery, document, length, address, NULL))
    return NULL;
  return g_steal_pointer (&discovery);
}

/* The body, up to MAX_AUTOCONFIG, of an https GET that answered 200 itself (no redirect). */
static GBytes *
fetch (SoupSession   *session,
       const char    *url,
       GCancellable  *cancellable,
       GError       **error)
{
  g_autoptr(SoupMessage) message = soup_message_new ("GET", url);
  g_autoptr(GInputStream) stream = NULL;
  g_autoptr(GByteArray) body = g_byte_array_new ();
  guint8 buffer[8192];
  gssize n;

  if (message == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, _("%s is not a web address"), url);
      return NULL;
    }
  /* A redirect could lead to http, or elsewhere: the document is the domain's, at this address. */
  soup_message_add_flags (message, SOUP_MESSAGE_NO_REDIRECT);
  stream = soup_session_send (session, message, cancellable, error);
  if (stream == NULL)
    return NULL;
  if (soup_message_get_status (message) != SOUP_STATUS_OK)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, _("the server answered %u %s"),
                   soup_message_get_status (message), soup_message_get_reason_phrase (message));
      return NULL;
    }
  while ((n = g_input_stream_read (stream, buffer, sizeof buffer, cancellable, error)) > 0)
    {
      g_byte_array_append (body, buffer, n);
      if (body->len > MAX_AUTOCONFIG)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE, _("the document is larger than %u KB"),
                       MAX_AUTOCONFIG / 1024);
          return NULL;
        }
    }
  if (n < 0)
    return NULL;
  return g_byte_array_free_to_bytes (g_steal_pointer (&body));
}

static gboolean
try_autoconfig (MrDiscovery             *discovery,
                const char              *domain,
                const char              *address,
                const MrDiscoverOptions *options,
                GCancellable            *cancellable)
{
  g_autoptr(SoupSession) session = soup_session_new_with_options ("timeout", 15, "idle-timeout", 15, NULL);
  g_autofree char *port = options && options->https_port ? g_strdup_printf (":%u", options->https_port) : g_strdup ("");
  char *urls[] = {
    g_strdup_printf ("https://autoconfig.%s%s/mail/config-v1.1.xml", domain, port),
    g_strdup_printf ("https://%s%s/.well-known/autoconfig/mail/config-v1.1.xml", domain, port),
  };
  gboolean found = FALSE;

  if (options != NULL && options->tls_database != NULL)
    soup_session_set_tls_database (session, options->tls_database);
  for (guint i = 0; i < G_N_ELEMENTS (urls); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) body = NULL;
      gsize length = 0;
      const char *data;

      if (found || g_cancellable_is_cancelled (cancellable))
        continue;
      body = fetch (session, urls[i], cancellable, &error);
      if (body == NULL)
        {
          step (discovery, _("Autoconfig document %s: %s"), urls[i], error->message);
          continue;
        }
      data = g_bytes_get_data (body, &length);
      if (!read_autoconfig (discovery, data, length, address, urls[i]))
        {
          step (discovery, _("Autoconfig document %s: it names no SMTP server"), urls[i]);
          continue;
        }
      discovery->found_by = g_strdup_printf (_("%s describes its mail server in its autoconfig document (%s)"), domain,
                                             urls[i]);
      step (discovery, "%s", discovery->found_by);
      found = TRUE;
    }
  for (guint i = 0; i < G_N_ELEMENTS (urls); i++)
    g_free (urls[i]);
  return found;
}

/* ---- The order -------------------------------------------------------------------------------- */

MrDiscovery *
mr_discover_sync (const char               *address,
                  const MrDiscoverOptions  *options,
                  GCancellable             *cancellable,
                  GError                  **error)
{
  g_autoptr(MrDiscovery) discovery = NULL;
  g_autofree char *domain = NULL;
  const MrPreset *preset;

  if (!mr_validate_address (address, error))
    return NULL;
  domain = g_ascii_strdown (mr_address_get_domain (address), -1);
  discovery = g_new0 (MrDiscovery, 1);
  discovery->steps = g_ptr_array_new_with_free_func (g_free);

  if ((preset = mr_preset_lookup_by_domain (domain)) != NULL)
    {
      take_preset (discovery, preset, domain);
      discovery->source = MR_DISCOVER_PRESET;
      discovery->found_by = g_strdup_printf (_("Addresses at %s are %s addresses"), domain, mr_preset_get_name (preset));
      step (discovery, "%s", discovery->found_by);
    }
  else if (try_mx (discovery, domain, cancellable))
    discovery->source = MR_DISCOVER_MX;
  else if (!g_cancellable_is_cancelled (cancellable) && try_srv (discovery, domain, cancellable))
    discovery->source = MR_DISCOVER_SRV;
  else if (!g_cancellable_is_cancelled (cancellable) && try_autoconfig (discovery, domain, address, options, cancellable))
    discovery->source = MR_DISCOVER_AUTOCONFIG;
  else
    {
      discovery->source = MR_DISCOVER_NONE;
      discovery->provider = g_strdup ("other");
      discovery->provider_name = g_strdup (_("Other"));
      discovery->auth = g_strdup ("password");
      discovery->found_by = g_strdup_printf (_("Mailroom could not find the mail server of %s: enter it as your "
                                               "provider gives it"), domain);
      step (discovery, "%s", discovery->found_by);
    }
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;
  /* A provider's login is the address itself unless it says otherwise. */
  if (discovery->username == NULL && discovery->source != MR_DISCOVER_NONE && g_strcmp0 (discovery->auth, "none") != 0)
    discovery->username = g_strdup (address);
  return g_steal_pointer (&discovery);
}

typedef struct {
  char              *address;
  MrDiscoverOptions  options;
} DiscoverData;

static void
discover_data_free (DiscoverData *data)
{
  g_free (data->address);
  g_clear_object (&data->options.tls_database);
  g_free (data);
}

static void
discover_thread (GTask        *task,
                 gpointer      source_object,
                 gpointer      task_data,
                 GCancellable *cancellable)
{
  DiscoverData *data = task_data;
  GError *error = NULL;
  MrDiscovery *discovery = mr_discover_sync (data->address, &data->options, cancellable, &error);

  if (discovery != NULL)
    g_task_return_pointer (task, discovery, (GDestroyNotify) mr_discovery_free);
  else
    g_task_return_error (task, error);
}

void
mr_discover_async (const char               *address,
                   const MrDiscoverOptions  *options,
                   GCancellable             *cancellable,
                   GAsyncReadyCallback       callback,
                   gpointer                  user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  DiscoverData *data = g_new0 (DiscoverData, 1);

  g_task_set_source_tag (task, mr_discover_async);
  data->address = g_strdup (address);
  if (options != NULL)
    {
      data->options.https_port = options->https_port;
      data->options.tls_database = options->tls_database ? g_object_ref (options->tls_database) : NULL;
    }
  g_task_set_task_data (task, data, (GDestroyNotify) discover_data_free);
  g_task_run_in_thread (task, discover_thread);
}

MrDiscovery *
mr_discover_finish (GAsyncResult  *result,
                    GError       **error)
{
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == mr_discover_async, NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- Saving ----------------------------------------------------------------------------------- */

static gboolean
set_text (MrSettings      *settings,
          MrSettingsFile  *edited,
          MrScope          scope,
          const char      *key,
          const char      *text,
          GError         **error)
{
  g_autofree char *reason = NULL;

  if (text == NULL)
    return TRUE;
  /* A person's layer leaves alone what the company fixed for everyone. */
  if (scope == MR_SCOPE_USER && (reason = mr_settings_get_lock_reason (settings, NULL, key)) != NULL)
    return TRUE;
  return mr_settings_file_set_from_text (edited, key, text, error);
}

gboolean
mr_discovery_apply (const MrDiscovery  *discovery,
                    MrSettings         *settings,
                    MrScope             scope,
                    const char         *address,
                    GError            **error)
{
  g_autoptr(MrSettingsFile) edited = mr_settings_file_copy (mr_settings_get_layer (settings, scope));
  const MrPreset *preset = scope == MR_SCOPE_COMPANY ? mr_preset_lookup (discovery->provider) : NULL;
  g_autofree char *port = discovery->port ? g_strdup_printf ("%u", discovery->port) : NULL;

  if (!mr_validate_address (address, error))
    return FALSE;
  if (scope == MR_SCOPE_USER && !set_text (settings, edited, scope, "user.email", address, error))
    return FALSE;
  if (!set_text (settings, edited, scope, "sender.from_address", address, error))
    return FALSE;
  if (preset != NULL && g_strcmp0 (discovery->provider, "other") != 0)
    {
      if (!mr_preset_apply (preset, edited, NULL, error))
        return FALSE;
    }
  else
    {
      if (scope == MR_SCOPE_COMPANY && !set_text (settings, edited, scope, "smtp.provider", "other", error))
        return FALSE;
      if (!set_text (settings, edited, scope, "smtp.host", discovery->host, error) ||
          !set_text (settings, edited, scope, "smtp.port", port, error) ||
          !set_text (settings, edited, scope, "smtp.security", discovery->security, error))
        return FALSE;
    }
  if (!set_text (settings, edited, scope, "smtp.auth", discovery->auth, error) ||
      !set_text (settings, edited, scope, "smtp.username", discovery->username, error))
    return FALSE;
  return mr_settings_commit (settings, edited, NULL, error);
}

gboolean
mr_discovery_apply_login (MrSettings  *settings,
                          MrScope      scope,
                          gboolean     per_user,
                          const char  *address,
                          const char  *username,
                          MrScope     *password_scope,
                          GError     **error)
{
  g_autoptr(MrSettingsFile) edited = NULL;

  g_return_val_if_fail (username != NULL && password_scope != NULL, FALSE);

  if (*username == '\0')
    {
      g_set_error_literal (error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_INVALID_VALUE,
                           _("Enter the login name first"));
      return FALSE;
    }
  if (scope == MR_SCOPE_COMPANY)
    {
      edited = mr_settings_file_copy (mr_settings_get_company (settings));
      if (!mr_settings_file_set_from_text (edited, "smtp.credentials", per_user ? "per-user" : "company", error))
        return FALSE;
      if (per_user && !mr_settings_file_unset (edited, "smtp.username", error))
        return FALSE;
      if (!per_user && !mr_settings_file_set_from_text (edited, "smtp.username", username, error))
        return FALSE;
      if (!mr_settings_commit (settings, edited, NULL, error))
        return FALSE;
      g_clear_object (&edited);
      if (!per_user)
        {
          *password_scope = MR_SCOPE_COMPANY;
          return TRUE;
        }
    }
  edited = mr_settings_file_copy (mr_settings_get_user (settings));
  if (address != NULL && !set_text (settings, edited, MR_SCOPE_USER, "user.email", address, error))
    return FALSE;
  if (!mr_settings_file_set_from_text (edited, "smtp.username", username, error) ||
      !mr_settings_commit (settings, edited, NULL, error))
    return FALSE;
  *password_scope = MR_SCOPE_USER;
  return TRUE;
}
