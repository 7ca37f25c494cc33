/* mr-cli-domains.c: sender domains: company domain add|verify|remove|list, and check-domain */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "mailroom-common.h"
#include "mailroom-dns.h"
#include "mailroom-log.h"
#include "mailroom-mailshot.h"
#include "mailroom-message.h"
#include "mailroom-settings.h"
#include "mailroom-transport.h"
#include "mr-cli.h"

/* ---- company domain ---------------------------------------------------------------------------- */

static void
add_domain_json (JsonBuilder           *builder,
                 const MrCompanyDomain *domain)
{
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "domain");
  json_builder_add_string_value (builder, domain->domain);
  json_builder_set_member_name (builder, "state");
  json_builder_add_string_value (builder, mr_domain_state_to_string (domain->state));
  json_builder_set_member_name (builder, "proved_on");
  json_builder_add_string_value (builder, domain->proved_on);
  json_builder_set_member_name (builder, "record");
  {
    g_autofree char *value = domain->state == MR_DOMAIN_PENDING ? mr_company_domain_record (domain) : NULL;

    mr_json_add_txt_record (builder, domain->domain, value);
  }
  json_builder_end_object (builder);
}

static void
print_domain (const MrCompanyDomain *domain)
{
  g_autofree char *record = mr_company_domain_record (domain);

  switch (domain->state)
    {
    case MR_DOMAIN_PENDING:
      g_print (_("%s: waiting for its proof. Publish this TXT record at %s, then run “mailroom-cli company domain verify %s”:\n  %s\n"),
               domain->domain, domain->domain, domain->domain, record);
      break;
    case MR_DOMAIN_PROVED:
      g_print (_("%s: proved on %s\n"), domain->domain, domain->proved_on);
      break;
    case MR_DOMAIN_ADDED:
    default:
      g_print (_("%s: added by the administrator without proof\n"), domain->domain);
      break;
    }
}

/* `company domain add|verify|remove DOMAIN`, `company domain list`. */
int
cmd_company_domain (Invocation *inv)
{
  const char *action = inv->args->len > 0 ? g_ptr_array_index (inv->args, 0) : NULL;
  const char *name = inv->args->len > 1 ? g_ptr_array_index (inv->args, 1) : NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(MrCompanyDomain) domain = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  if (g_strcmp0 (action, "list") == 0 && inv->args->len == 1)
    {
      g_autoptr(GPtrArray) domains = mr_company_domains_list (inv->settings);

      if (!inv->json)
        {
          for (guint i = 0; i < domains->len; i++)
            print_domain (g_ptr_array_index (domains, i));
          if (domains->len == 0)
            g_printerr (_("The company has no sender domains: any From address may be used.\n"));
          return MR_EXIT_OK;
        }
      json_builder_begin_array (builder);
      for (guint i = 0; i < domains->len; i++)
        add_domain_json (builder, g_ptr_array_index (domains, i));
      json_builder_end_array (builder);
      root = json_builder_get_root (builder);
      mr_cli_print_json (root);
      return MR_EXIT_OK;
    }
  if (name == NULL || inv->args->len != 2 ||
      !g_strv_contains ((const char * const[]) { "add", "verify", "remove", NULL }, action))
    return mr_cli_usage_error (inv, _("“company domain” takes add, verify or remove and a domain, or list"));
  if (g_str_equal (action, "remove"))
    {
      if (!mr_company_domain_remove (inv->settings, name, &error))
        return mr_cli_fail (inv, error);
      if (!inv->json)
        g_printerr (_("Removed %s from the company’s domains.\n"), name);
      return MR_EXIT_OK;
    }
  domain = g_str_equal (action, "add") ? mr_company_domain_add (inv->settings, name, &error)
                                       : mr_company_domain_verify (inv->settings, name, NULL, &error);
  if (domain == NULL)
    return mr_cli_fail (inv, error);
  if (inv->json)
    {
      add_domain_json (builder, domain);
      root = json_builder_get_root (builder);
      mr_cli_print_json (root);
    }
  else
    print_domain (domain);
  return MR_EXIT_OK;
}

/* ---- check-domain ---------------------------------------------------------------------------- */

static const char *
check_label (const char *check)
{
  return g_str_equal (check, "spf") ? "SPF" : g_str_equal (check, "dkim") ? "DKIM" : g_str_equal (check, "dmarc") ? "DMARC"
         : g_str_equal (check, "mx") ? "MX" : check;
}

/* `check-domain DOMAIN`: SPF, DKIM, DMARC and MX, for the provider or server given, else the one
 * the settings send through. */
int
cmd_check_domain (Invocation *inv,
                  const char *domain)
{
  g_autoptr(MrSettings) settings = NULL;
  g_autoptr(MrDomainReport) report = NULL;
  g_autofree char *include = g_strdup (inv->spf_include);
  g_autofree char *server = g_strdup (inv->server);
  g_autoptr(GPtrArray) selectors = g_ptr_array_new_with_free_func (g_free);
  MrDomainCheckOptions options = { 0 };
  MrFindingLevel level;

  if (domain == NULL || inv->args->len != 0)
    return mr_cli_usage_error (inv, _("“check-domain” takes one domain, for example example.com"));
  if (strchr (domain, '@') != NULL)
    domain = strrchr (domain, '@') + 1;
  /* The answers kept are for their TTL; --fresh asks again (a record just published). */
  if (inv->fresh)
    mr_domain_forget_answers (domain);
  for (guint i = 0; i < inv->selector_list->len; i++)
    g_ptr_array_add (selectors, g_strdup (g_ptr_array_index (inv->selector_list, i)));
  /* Nothing named: the way this computer sends, when it is set up. */
  if (include == NULL && server == NULL && selectors->len == 0)
    {
      settings = mr_settings_new (NULL, NULL);
      if (mr_settings_load (settings, NULL))
        report = mr_domain_check_for_sending (settings, NULL, domain, NULL);
    }
  g_ptr_array_add (selectors, NULL);
  options.spf_include = include;
  options.server = server;
  options.dkim_selectors = (const char * const *) selectors->pdata;
  if (report == NULL)
    report = mr_domain_check (domain, &options, NULL);
  level = mr_domain_report_get_level (report);
  if (inv->json)
    {
      g_autofree char *json = mr_domain_report_to_json (report);

      g_print ("%s\n", json);
    }
  else
    {
      g_print (_("%s: %s\n"), report->domain, mr_finding_level_to_string (level));
      for (guint i = 0; i < report->findings->len; i++)
        {
          MrFinding *finding = g_ptr_array_index (report->findings, i);

          g_print ("%-6s %-8s %s\n", check_label (finding->check), mr_finding_level_to_string (finding->level), finding->words);
          if (finding->detail != NULL && inv->verbose)
            g_print ("                %s\n", finding->detail);
          if (finding->record_value != NULL)
            g_print (_("                Publish this TXT record at %s:\n                %s\n"), finding->record_name,
                     finding->record_value);
        }
    }
  return level == MR_FINDING_FAIL ? MR_EXIT_DATA : level == MR_FINDING_UNKNOWN ? MR_EXIT_UNAVAILABLE : MR_EXIT_OK;
}
