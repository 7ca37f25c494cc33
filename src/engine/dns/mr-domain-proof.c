/* mr-domain-proof.c: the company's sender domains, proved by DNS */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <string.h>

#include "mr-dns.h"
#include "mr-domain-proof.h"
#include "mr-keys.h"
#include "mr-settings-error.h"

G_DEFINE_QUARK (mr-domain-error-quark, mr_domain_error)

const char *
mr_domain_state_to_string (MrDomainState state)
{
  return state == MR_DOMAIN_PENDING ? "pending" : state == MR_DOMAIN_PROVED ? "proved" : "added";
}

void
mr_company_domain_free (MrCompanyDomain *domain)
{
  if (domain == NULL)
    return;
  g_free (domain->domain);
  g_free (domain->token);
  g_free (domain->proved_on);
  g_free (domain);
}

/* A list key of the company's file, as strings. */
static GPtrArray *
company_list (MrSettingsFile *file,
              const char     *key)
{
  JsonNode *node = mr_settings_file_get (file, key);
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);

  if (node != NULL && JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *array = json_node_get_array (node);

      for (guint i = 0; i < json_array_get_length (array); i++)
        g_ptr_array_add (out, g_strdup (json_array_get_string_element (array, i)));
    }
  return out;
}

static JsonNode *
to_json (GPtrArray *items)
{
  JsonArray *array = json_array_new ();
  JsonNode *node = json_node_new (JSON_NODE_ARRAY);

  for (guint i = 0; i < items->len; i++)
    json_array_add_string_element (array, g_ptr_array_index (items, i));
  json_node_take_array (node, array);
  return node;
}

/* "DOMAIN WORD": WORD when the entry is @domain's, else NULL. */
static const char *
entry_for (const char *entry,
           const char *domain)
{
  const char *space = strchr (entry, ' ');

  if (space == NULL || (gsize) (space - entry) != strlen (domain) || g_ascii_strncasecmp (entry, domain, space - entry) != 0)
    return NULL;
  return space + 1;
}

static gint
by_domain (gconstpointer a,
           gconstpointer b)
{
  return g_strcmp0 ((*(MrCompanyDomain **) a)->domain, (*(MrCompanyDomain **) b)->domain);
}

GPtrArray *
mr_company_domains_list (MrSettings *settings)
{
  return mr_company_domains_in (mr_settings_get_layer (settings, MR_SCOPE_COMPANY));
}

GPtrArray *
mr_company_domains_in (MrSettingsFile *file)
{
  g_autoptr(GPtrArray) verified = company_list (file, "domains.verified");
  g_autoptr(GPtrArray) pending = company_list (file, "domains.pending");
  g_autoptr(GPtrArray) proved = company_list (file, "domains.proved");
  GPtrArray *domains = g_ptr_array_new_with_free_func ((GDestroyNotify) mr_company_domain_free);

  for (guint i = 0; i < pending->len; i++)
    {
      const char *entry = g_ptr_array_index (pending, i);
      const char *space = strchr (entry, ' ');
      MrCompanyDomain *domain;

      if (space == NULL)
        continue;
      domain = g_new0 (MrCompanyDomain, 1);
      domain->domain = g_strndup (entry, space - entry);
      domain->state = MR_DOMAIN_PENDING;
      domain->token = g_strdup (space + 1);
      g_ptr_array_add (domains, domain);
    }
  for (guint i = 0; i < verified->len; i++)
    {
      MrCompanyDomain *domain = g_new0 (MrCompanyDomain, 1);

      domain->domain = g_strdup (g_ptr_array_index (verified, i));
      domain->state = MR_DOMAIN_ADDED;
      for (guint p = 0; p < proved->len && domain->proved_on == NULL; p++)
        {
          const char *date = entry_for (g_ptr_array_index (proved, p), domain->domain);

          if (date != NULL)
            {
              domain->state = MR_DOMAIN_PROVED;
              domain->proved_on = g_strdup (date);
            }
        }
      g_ptr_array_add (domains, domain);
    }
  g_ptr_array_sort (domains, by_domain);
  return domains;
}

static MrCompanyDomain *
find (MrSettingsFile *file,
      const char     *name)
{
  g_autoptr(GPtrArray) domains = mr_company_domains_in (file);

  for (guint i = 0; i < domains->len; i++)
    {
      MrCompanyDomain *domain = g_ptr_array_index (domains, i);

      if (g_ascii_strcasecmp (domain->domain, name) == 0)
        return g_ptr_array_steal_index (domains, i);
    }
  return NULL;
}

char *
mr_company_domain_record (const MrCompanyDomain *domain)
{
  return g_strconcat (MR_DOMAIN_PROOF_PREFIX, domain->token ? domain->token : "", NULL);
}

/* The company file with @key's list replaced, not yet saved. */
static gboolean
set_list (MrSettingsFile  *edited,
          const char      *key,
          GPtrArray       *items,
          GError         **error)
{
  g_autoptr(JsonNode) node = to_json (items);

  return mr_settings_file_set (edited, key, node, error);
}

MrCompanyDomain *
mr_company_domain_add_to (MrSettingsFile  *file,
                          const char      *name,
                          GError         **error)
{
  g_autofree char *domain = NULL;
  g_autoptr(GPtrArray) pending = NULL;
  MrCompanyDomain *found;
  guint8 random[16];
  g_autoptr(GString) token = g_string_new (NULL);

  if (!mr_validate_domain (name, error))
    return NULL;
  domain = g_ascii_strdown (name, -1);
  if ((found = find (file, domain)) != NULL)
    return found;
  /* Unguessable, so that only who controls the domain's DNS can publish it. */
  gnutls_rnd (GNUTLS_RND_NONCE, random, sizeof random);
  for (guint i = 0; i < sizeof random; i++)
    g_string_append_printf (token, "%02x", random[i]);
  pending = company_list (file, "domains.pending");
  g_ptr_array_add (pending, g_strdup_printf ("%s %s", domain, token->str));
  if (!set_list (file, "domains.pending", pending, error))
    return NULL;
  return find (file, domain);
}

/* @items without @domain's entries ("DOMAIN" or "DOMAIN WORD"). */
static void
drop_domain (GPtrArray  *items,
             const char *domain)
{
  for (guint i = items->len; i > 0; i--)
    {
      const char *item = g_ptr_array_index (items, i - 1);

      if (g_ascii_strcasecmp (item, domain) == 0 || entry_for (item, domain) != NULL)
        g_ptr_array_remove_index (items, i - 1);
    }
}

gboolean
mr_company_domain_find_proof (const MrCompanyDomain  *domain,
                              GCancellable           *cancellable,
                              GError                **error)
{
  g_autofree char *wanted = mr_company_domain_record (domain);
  g_autoptr(GPtrArray) records = NULL;
  gboolean found = FALSE, other_token = FALSE;

  /* The record was published just now, perhaps: not the answer kept from before. */
  mr_dns_forget (domain->domain);
  if (mr_dns_lookup_txt (domain->domain, &records, cancellable) == MR_DNS_FAILED)
    {
      g_set_error (error, MR_DOMAIN_ERROR, MR_DOMAIN_ERROR_UNREACHABLE,
                   _("The DNS of %s could not be asked: try again in a moment"), domain->domain);
      return FALSE;
    }
  for (guint i = 0; i < records->len; i++)
    {
      g_autofree char *text = g_strstrip (g_strdup (g_ptr_array_index (records, i)));

      found = found || g_str_equal (text, wanted);
      other_token = other_token || g_str_has_prefix (text, MR_DOMAIN_PROOF_PREFIX);
    }
  if (!found)
    {
      g_set_error (error, MR_DOMAIN_ERROR, MR_DOMAIN_ERROR_NOT_PUBLISHED,
                   other_token ? _("%s has a Mailroom verification record, but not this one: publish “%s” there "
                                   "(replace the old one)")
                               : _("No TXT record at %s proves it yet: publish “%s” there. A new record can take up "
                                   "to an hour to show."),
                   domain->domain, wanted);
      return FALSE;
    }
  return TRUE;
}

gboolean
mr_company_domain_mark_proved (MrSettingsFile  *file,
                               const char      *name,
                               GError         **error)
{
  g_autoptr(GPtrArray) pending = company_list (file, "domains.pending");
  g_autoptr(GPtrArray) verified = company_list (file, "domains.verified");
  g_autoptr(GPtrArray) proved = company_list (file, "domains.proved");
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *today = g_date_time_format (now, "%Y-%m-%d");
  g_autofree char *domain = g_ascii_strdown (name, -1);

  drop_domain (pending, domain);
  drop_domain (verified, domain);
  drop_domain (proved, domain);
  g_ptr_array_add (verified, g_strdup (domain));
  g_ptr_array_add (proved, g_strdup_printf ("%s %s", domain, today));
  return set_list (file, "domains.pending", pending, error) && set_list (file, "domains.verified", verified, error) &&
         set_list (file, "domains.proved", proved, error);
}

gboolean
mr_company_domain_remove_from (MrSettingsFile  *file,
                               const char      *name,
                               GError         **error)
{
  g_autoptr(MrCompanyDomain) domain = find (file, name);
  g_autoptr(GPtrArray) pending = company_list (file, "domains.pending");
  g_autoptr(GPtrArray) verified = company_list (file, "domains.verified");
  g_autoptr(GPtrArray) proved = company_list (file, "domains.proved");

  if (domain == NULL)
    {
      g_set_error (error, MR_DOMAIN_ERROR, MR_DOMAIN_ERROR_NOT_ADDED, _("%s is not one of the company’s domains"), name);
      return FALSE;
    }
  drop_domain (pending, domain->domain);
  drop_domain (verified, domain->domain);
  drop_domain (proved, domain->domain);
  return set_list (file, "domains.pending", pending, error) && set_list (file, "domains.verified", verified, error) &&
         set_list (file, "domains.proved", proved, error);
}

/* ---- The same on the settings, saved at once (the command line) ------------------------------- */

MrCompanyDomain *
mr_company_domain_add (MrSettings  *settings,
                       const char  *name,
                       GError     **error)
{
  g_autoptr(MrSettingsFile) edited = mr_settings_file_copy (mr_settings_get_layer (settings, MR_SCOPE_COMPANY));
  g_autoptr(MrCompanyDomain) domain = mr_company_domain_add_to (edited, name, error);

  if (domain == NULL || !mr_settings_commit (settings, edited, NULL, error))
    return NULL;
  return g_steal_pointer (&domain);
}

MrCompanyDomain *
mr_company_domain_verify (MrSettings    *settings,
                          const char    *name,
                          GCancellable  *cancellable,
                          GError       **error)
{
  g_autoptr(MrSettingsFile) edited = mr_settings_file_copy (mr_settings_get_layer (settings, MR_SCOPE_COMPANY));
  g_autoptr(MrCompanyDomain) domain = find (edited, name);

  if (domain == NULL)
    {
      g_set_error (error, MR_DOMAIN_ERROR, MR_DOMAIN_ERROR_NOT_ADDED,
                   _("%s is not one of the company’s domains: add it first"), name);
      return NULL;
    }
  if (domain->state != MR_DOMAIN_PENDING)
    return g_steal_pointer (&domain);
  if (!mr_company_domain_find_proof (domain, cancellable, error) ||
      !mr_company_domain_mark_proved (edited, domain->domain, error) || !mr_settings_commit (settings, edited, NULL, error))
    return NULL;
  return find (mr_settings_get_layer (settings, MR_SCOPE_COMPANY), name);
}

gboolean
mr_company_domain_remove (MrSettings  *settings,
                          const char  *name,
                          GError     **error)
{
  g_autoptr(MrSettingsFile) edited = mr_settings_file_copy (mr_settings_get_layer (settings, MR_SCOPE_COMPANY));

  return mr_company_domain_remove_from (edited, name, error) && mr_settings_commit (settings, edited, NULL, error);
}
