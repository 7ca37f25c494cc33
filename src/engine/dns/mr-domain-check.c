/* mr-domain-check.c: will mail from a domain arrive? SPF, DKIM, DMARC and MX, judged in words */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "mr-dns.h"
#include "mr-mailshot.h"
#include "mr-domain-check.h"
#include "mr-presets.h"
#include "mr-settings.h"
#include "mr-spf.h"

const char *
mr_finding_level_to_string (MrFindingLevel level)
{
  static const char * const names[] = { "pass", "info", "warning", "fail", "unknown" };

  return level <= MR_FINDING_UNKNOWN ? names[level] : "unknown";
}

static void
finding_free (MrFinding *finding)
{
  g_free (finding->check);
  g_free (finding->code);
  g_free (finding->words);
  g_free (finding->detail);
  g_free (finding->record_name);
  g_free (finding->record_value);
  g_free (finding);
}

void
mr_domain_report_free (MrDomainReport *report)
{
  if (report == NULL)
    return;
  g_free (report->domain);
  g_ptr_array_unref (report->findings);
  g_free (report);
}

/* Takes @words and @detail. */
static MrFinding *
add (MrDomainReport *report,
     const char     *check,
     MrFindingLevel  level,
     const char     *code,
     char           *words,
     char           *detail)
{
  MrFinding *finding = g_new0 (MrFinding, 1);

  finding->check = g_strdup (check);
  finding->level = level;
  finding->code = g_strdup (code);
  finding->words = words;
  finding->detail = detail;
  g_ptr_array_add (report->findings, finding);
  return finding;
}

static void
publish (MrFinding  *finding,
         const char *name,
         char       *value)
{
  finding->record_name = g_strdup (name);
  finding->record_value = value;
}

/* ---- SPF -------------------------------------------------------------------------------------- */

/* "+all" or "all": anyone may send as the domain. */
static gboolean
allows_everyone (const char *record)
{
  g_auto(GStrv) words = g_strsplit (record, " ", -1);

  for (guint i = 0; words[i] != NULL; i++)
    if (g_ascii_strcasecmp (words[i], "all") == 0 || g_ascii_strcasecmp (words[i], "+all") == 0)
      return TRUE;
  return FALSE;
}

/* The record to publish for a server of Mailroom's own: its addresses as ip4:/ip6: terms. */
static char *
merge_addresses (const char *record,
                 GList      *addresses)
{
  g_autofree char *merged = g_strdup (record);

  for (GList *l = addresses; l != NULL; l = l->next)
    {
      g_autofree char *text = g_inet_address_to_string (l->data);
      g_autofree char *term = g_strdup_printf ("%s:%s", g_inet_address_get_family (l->data) == G_SOCKET_FAMILY_IPV6 ? "ip6" : "ip4",
                                               text);
      char *next = mr_spf_merge_term (merged, term);

      g_free (merged);
      merged = next;
    }
  return g_steal_pointer (&merged);
}

static void
check_spf (MrDomainReport             *report,
           const MrDomainCheckOptions *options,
           gboolean                   *spf_passes,
           gboolean                   *spf_judged,
           GCancellable               *cancellable)
{
  const char *domain = report->domain;
  gboolean temporary = FALSE;
  g_autofree char *problem = NULL;
  g_autofree char *record = mr_spf_lookup_record (domain, &temporary, &problem, cancellable);
  MrFinding *finding;

  *spf_passes = FALSE;
  /* Whether it was judged for the way Mailroom sends, so that DMARC alignment can be told. */
  *spf_judged = options != NULL && (options->spf_include != NULL || options->server != NULL ||
                                     options->return_path_owner != NULL);
  if (record == NULL && problem != NULL)
    {
      if (temporary)
        add (report, "spf", MR_FINDING_UNKNOWN, "dns-unreachable",
             g_strdup_printf (_("The SPF record of %s could not be checked: %s."), domain, problem), NULL);
      else
        add (report, "spf", MR_FINDING_FAIL, "spf-two-records", g_strdup_printf ("%s.", problem), NULL);
      return;
    }
  if (record != NULL && allows_everyone (record))
    add (report, "spf", MR_FINDING_FAIL, "spf-plus-all",
         g_strdup_printf (_("The SPF record of %s ends in “+all”: it lets anyone send mail as %s. Receivers trust it "
                            "for nothing, and some mark the mail as spam for it. End it with “~all” instead."),
                          domain, domain),
         g_strdup (record));

  /* The provider's own envelope sender (Brevo, Amazon SES): receivers check SPF against its
   * domain, and DMARC can only align through DKIM. */
  if (options != NULL && options->return_path_owner != NULL)
    {
      add (report, "spf", MR_FINDING_INFO, "spf-provider-return-path",
           g_strdup_printf (_("%s sends your mail with its own return address, so receivers check SPF against %s’s "
                              "domain, not %s: your SPF record does not decide, and DMARC relies on DKIM."),
                            options->return_path_owner, options->return_path_owner, domain),
           g_strdup (record));
      return;
    }

  if (options != NULL && options->spf_include != NULL)
    {
      g_autoptr(MrSpfVerdict) verdict = mr_spf_check_include (domain, options->spf_include, cancellable);

      switch (verdict->result)
        {
        case MR_SPF_PASS:
          *spf_passes = TRUE;
          add (report, "spf", MR_FINDING_PASS, "spf-pass",
               g_strdup_printf (_("The SPF record of %s allows your provider’s servers (%s)."), domain, options->spf_include),
               g_strdup (record));
          return;
        case MR_SPF_TEMPERROR:
          add (report, "spf", MR_FINDING_UNKNOWN, "dns-unreachable",
               g_strdup_printf (_("The SPF record of %s could not be checked: %s."), domain, verdict->problem), g_strdup (record));
          return;
        case MR_SPF_PERMERROR:
          finding = add (report, "spf", MR_FINDING_FAIL, "spf-error",
                         g_strdup_printf (_("Receivers reject the SPF record of %s: %s."), domain, verdict->problem),
                         g_strdup (record));
          return;
        case MR_SPF_NONE:
          finding = add (report, "spf", MR_FINDING_FAIL, "spf-missing",
                         g_strdup_printf (_("%s has no SPF record, so receivers cannot tell that mail from it comes from "
                                            "your provider. Add this TXT record at %s."), domain, domain), NULL);
          publish (finding, domain, mr_spf_merge_include (NULL, options->spf_include));
          return;
        case MR_SPF_FAIL:
        default:
          finding = add (report, "spf", MR_FINDING_FAIL, "spf-provider-missing",
                         g_strdup_printf (_("The SPF record of %s does not allow your provider’s servers (%s): their mail "
                                            "fails SPF. Replace the record with this one, which keeps what it allows now."),
                                          domain, options->spf_include),
                         g_strdup (record));
          publish (finding, domain, mr_spf_merge_include (record, options->spf_include));
          return;
        }
    }

  if (options != NULL && options->server != NULL)
    {
      GList *addresses = NULL;
      MrDnsAnswer answer = mr_dns_lookup_addresses (options->server, G_SOCKET_FAMILY_INVALID, &addresses, cancellable);
      g_autoptr(GString) failing = g_string_new (NULL);
      GList *not_allowed = NULL;
      gboolean unknown = FALSE;

      if (answer != MR_DNS_FOUND)
        {
          add (report, "spf", MR_FINDING_UNKNOWN, answer == MR_DNS_FAILED ? "dns-unreachable" : "spf-server-unknown",
               g_strdup_printf (_("The addresses of %s, the server Mailroom sends through, could not be found, so its SPF "
                                  "could not be checked."), options->server), g_strdup (record));
          return;
        }
      for (GList *l = addresses; l != NULL; l = l->next)
        {
          g_autoptr(MrSpfVerdict) verdict = mr_spf_check_host (l->data, domain, NULL, NULL, cancellable);
          g_autofree char *text = g_inet_address_to_string (l->data);

          if (verdict->result == MR_SPF_TEMPERROR)
            unknown = TRUE;
          else if (verdict->result == MR_SPF_PERMERROR)
            {
              add (report, "spf", MR_FINDING_FAIL, "spf-error",
                   g_strdup_printf (_("Receivers reject the SPF record of %s: %s."), domain, verdict->problem),
                   g_strdup (record));
              g_resolver_free_addresses (addresses);
              g_list_free (not_allowed);
              return;
            }
          else if (verdict->result != MR_SPF_PASS)
            {
              g_string_append_printf (failing, "%s%s (%s)", failing->len ? ", " : "", text,
                                      mr_spf_result_to_string (verdict->result));
              not_allowed = g_list_append (not_allowed, l->data);
            }
        }
      if (not_allowed != NULL)
        {
          finding = add (report, "spf", MR_FINDING_FAIL, record ? "spf-server-not-allowed" : "spf-missing",
                         record ? g_strdup_printf (_("The SPF record of %s does not allow %s, the server Mailroom sends "
                                                     "through: its mail fails SPF. Replace the record with this one, which "
                                                     "keeps what it allows now."), domain, options->server)
                                : g_strdup_printf (_("%s has no SPF record, so receivers cannot tell that mail from it comes "
                                                     "from your server. Add this TXT record at %s."), domain, domain),
                         g_strdup_printf ("%s%s%s", record ? record : "", record ? "; " : "", failing->str));
          publish (finding, domain, merge_addresses (record, not_allowed));
        }
      else if (unknown)
        add (report, "spf", MR_FINDING_UNKNOWN, "dns-unreachable",
             g_strdup_printf (_("The SPF record of %s could not be checked: a lookup timed out."), domain), g_strdup (record));
      else
        {
          *spf_passes = TRUE;
          add (report, "spf", MR_FINDING_PASS, "spf-pass",
               g_strdup_printf (_("The SPF record of %s allows %s, the server Mailroom sends through."), domain, options->server),
               g_strdup (record));
        }
      g_list_free (not_allowed);
      g_resolver_free_addresses (addresses);
      return;
    }

  /* Neither a provider nor a server to judge it for: only whether there is one. */
  if (record == NULL)
    add (report, "spf", MR_FINDING_FAIL, "spf-missing",
         g_strdup_printf (_("%s has no SPF record, so receivers cannot tell which servers may send as it."), domain), NULL);
  else
    {
      g_autoptr(GInetAddress) nowhere = g_inet_address_new_from_string ("192.0.2.1");
      g_autoptr(MrSpfVerdict) verdict = mr_spf_check_host (nowhere, domain, NULL, NULL, cancellable);

      if (verdict->result == MR_SPF_PERMERROR)
        add (report, "spf", MR_FINDING_FAIL, "spf-error",
             g_strdup_printf (_("Receivers reject the SPF record of %s: %s."), domain, verdict->problem), g_strdup (record));
      else
        add (report, "spf", MR_FINDING_INFO, "spf-present",
             g_strdup_printf (_("%s has an SPF record; which servers it should allow depends on how you send."), domain),
             g_strdup (record));
    }
}

/* ---- DKIM ------------------------------------------------------------------------------------- */

/* "v=DKIM1; k=rsa; p=…": the value of @tag, or NULL. */
static char *
tag_value (const char *record,
           const char *tag)
{
  g_auto(GStrv) parts = g_strsplit (record, ";", -1);

  for (guint i = 0; parts[i] != NULL; i++)
    {
      char *equals = strchr (parts[i], '=');
      g_autofree char *name = NULL;

      if (equals == NULL)
        continue;
      name = g_strstrip (g_strndup (parts[i], equals - parts[i]));
      if (g_ascii_strcasecmp (name, tag) == 0)
        {
          GString *value = g_string_new (NULL);

          /* Folding white space may be anywhere in a value. */
          for (const char *c = equals + 1; *c != '\0'; c++)
            if (!g_ascii_isspace (*c))
              g_string_append_c (value, *c);
          return g_string_free (value, FALSE);
        }
    }
  return NULL;
}

/* The size of an RSA key given as base64 SubjectPublicKeyInfo; 0 when it is not one. */
static guint
rsa_bits (const char *base64)
{
  gsize length = 0;
  g_autofree guchar *der = g_base64_decode (base64, &length);
  gnutls_pubkey_t key = NULL;
  gnutls_datum_t datum = { der, (unsigned int) length };
  unsigned int bits = 0;

  if (length == 0 || gnutls_pubkey_init (&key) < 0)
    return 0;
  if (gnutls_pubkey_import (key, &datum, GNUTLS_X509_FMT_DER) < 0 || gnutls_pubkey_get_pk_algorithm (key, &bits) != GNUTLS_PK_RSA)
    bits = 0;
  gnutls_pubkey_deinit (key);
  return bits;
}

static char *organisational_domain (const char *domain);

/* The first of @selectors with a key at @domain, or NULL. */
static const char *
selector_with_key (const char         *domain,
                   const char * const *selectors,
                   GCancellable       *cancellable)
{
  for (guint i = 0; selectors[i] != NULL; i++)
    {
      g_autofree char *name = g_strdup_printf ("%s._domainkey.%s", selectors[i], domain);
      g_autoptr(GPtrArray) records = NULL;

      mr_dns_lookup_txt (name, &records, cancellable);
      for (guint r = 0; r < records->len; r++)
        {
          g_autofree char *key = tag_value (g_ptr_array_index (records, r), "p");

          if (key != NULL && *key != '\0')
            return selectors[i];
        }
    }
  return NULL;
}

/* @dkim_found: a key at the domain itself (the provider signs as it: aligned in either mode);
 * @dkim_relaxed: only at its organisational domain (aligned unless DMARC asks for strict). */
static void
check_dkim (MrDomainReport             *report,
            const MrDomainCheckOptions *options,
            gboolean                   *dkim_found,
            gboolean                   *dkim_relaxed,
            GCancellable               *cancellable)
{
  const char *domain = report->domain;
  g_autoptr(GString) missing = g_string_new (NULL);
  gboolean unknown = FALSE;
  gboolean any_key = FALSE;   /* a record with a key, good or not: said on its own */

  *dkim_found = *dkim_relaxed = FALSE;
  if (options == NULL || options->dkim_selectors == NULL || options->dkim_selectors[0] == NULL)
    {
      add (report, "dkim", MR_FINDING_INFO, "dkim-selectors-unknown",
           g_strdup (_("Mailroom does not know which DKIM selectors your provider signs with, so DKIM was not checked. "
                       "Name them, and Mailroom looks for their keys.")), NULL);
      return;
    }
  for (guint i = 0; options->dkim_selectors[i] != NULL; i++)
    {
      const char *selector = options->dkim_selectors[i];
      g_autofree char *name = g_strdup_printf ("%s._domainkey.%s", selector, domain);
      g_autoptr(GPtrArray) records = NULL;
      MrDnsAnswer answer = mr_dns_lookup_txt (name, &records, cancellable);
      const char *record = NULL;

      for (guint r = 0; records != NULL && r < records->len && record == NULL; r++)
        {
          g_autofree char *key = tag_value (g_ptr_array_index (records, r), "p");

          if (key != NULL)
            record = g_ptr_array_index (records, r);
        }
      if (answer == MR_DNS_FAILED)
        unknown = TRUE;
      if (record == NULL)
        {
          g_string_append_printf (missing, "%s%s", missing->len ? ", " : "", name);
          continue;
        }
      any_key = TRUE;
      {
        g_autofree char *key = tag_value (record, "p");
        g_autofree char *type = tag_value (record, "k");
        guint bits;

        if (*key == '\0')
          {
            add (report, "dkim", MR_FINDING_WARNING, "dkim-revoked",
                 g_strdup_printf (_("The DKIM key at %s is withdrawn (empty): mail signed with it fails DKIM."), name),
                 g_strdup (record));
            continue;
          }
        if (type != NULL && g_ascii_strcasecmp (type, "ed25519") == 0)
          {
            *dkim_found = TRUE;
            add (report, "dkim", MR_FINDING_PASS, "dkim-pass",
                 g_strdup_printf (_("A DKIM key (Ed25519) is published at %s."), name), g_strdup (record));
            continue;
          }
        bits = rsa_bits (key);
        if (bits == 0)
          add (report, "dkim", MR_FINDING_FAIL, "dkim-invalid",
               g_strdup_printf (_("The DKIM record at %s holds no key receivers can read."), name), g_strdup (record));
        else if (bits < 1024)
          add (report, "dkim", MR_FINDING_FAIL, "dkim-weak",
               g_strdup_printf (_("The DKIM key at %s has only %u bits: receivers ignore keys under 1024 bits. Have your "
                                  "provider make a 2048-bit key and publish it."), name, bits),
               g_strdup (record));
        else
          {
            *dkim_found = TRUE;
            add (report, "dkim", MR_FINDING_PASS, "dkim-pass",
                 g_strdup_printf (_("A DKIM key (RSA, %u bits) is published at %s."), bits, name), g_strdup (record));
          }
      }
    }
  if (!*dkim_found && unknown)
    add (report, "dkim", MR_FINDING_UNKNOWN, "dns-unreachable",
         g_strdup_printf (_("The DKIM keys of %s could not be checked: a lookup timed out."), domain), NULL);
  else if (!any_key && missing->len > 0)
    {
      g_autofree char *organisation = organisational_domain (domain);
      const char *selector = organisation != NULL && g_ascii_strcasecmp (organisation, domain) != 0
                               ? selector_with_key (organisation, options->dkim_selectors, cancellable) : NULL;

      if (selector != NULL)
        {
          *dkim_relaxed = TRUE;
          add (report, "dkim", MR_FINDING_INFO, "dkim-organisation-key",
               g_strdup_printf (_("%s publishes no DKIM key of its own, but %s does (selector %s): your provider signs "
                                  "its mail as %s, which DMARC accepts unless it asks for strict alignment."),
                                domain, organisation, selector, organisation),
               NULL);
        }
      else
        add (report, "dkim", MR_FINDING_FAIL, "dkim-missing",
             g_strdup_printf (_("%s publishes no DKIM key where your provider signs (%s). Turn DKIM on in your provider’s "
                                "admin centre and publish the records it gives."), domain, missing->str),
             NULL);
    }
}

/* ---- DMARC ------------------------------------------------------------------------------------ */

/* The last two labels: "mail.example.co.uk" is taken as "co.uk", which has none, and then the
 * domain itself has to have it. Without a public suffix list, no better guess. */
static char *
organisational_domain (const char *domain)
{
  const char *last = strrchr (domain, '.');
  const char *before = last;

  if (last == NULL)
    return NULL;
  while (before > domain && *(before - 1) != '.')
    before--;
  return before > domain ? g_strdup (before) : NULL;
}

static MrDnsAnswer
lookup_dmarc (const char    *domain,
              char         **record,
              GCancellable  *cancellable)
{
  g_autofree char *name = g_strconcat ("_dmarc.", domain, NULL);
  g_autoptr(GPtrArray) records = NULL;
  MrDnsAnswer answer = mr_dns_lookup_txt (name, &records, cancellable);

  *record = NULL;
  for (guint i = 0; i < records->len && *record == NULL; i++)
    {
      const char *text = g_ptr_array_index (records, i);

      while (g_ascii_isspace (*text))
        text++;
      if (g_str_has_prefix (text, "v=DMARC1") && (text[8] == ';' || text[8] == ' ' || text[8] == '\0'))
        *record = g_strdup (text);
    }
  return answer;
}

static void
check_dmarc (MrDomainReport *report,
             gboolean        spf_passes,
             gboolean        spf_judged,
             gboolean        dkim_found,
             gboolean        dkim_relaxed,
             GCancellable   *cancellable)
{
  const char *domain = report->domain;
  g_autofree char *record = NULL;
  g_autofree char *found_at = g_strdup (domain);
  g_autofree char *policy = NULL;
  g_autofree char *pct = NULL;
  MrDnsAnswer answer = lookup_dmarc (domain, &record, cancellable);
  MrFinding *finding;

  if (record == NULL && answer != MR_DNS_FAILED)
    {
      g_autofree char *organisation = organisational_domain (domain);

      if (organisation != NULL && g_ascii_strcasecmp (organisation, domain) != 0)
        {
          answer = lookup_dmarc (organisation, &record, cancellable);
          g_free (found_at);
          found_at = g_steal_pointer (&organisation);
        }
    }
  if (record == NULL && answer == MR_DNS_FAILED)
    {
      add (report, "dmarc", MR_FINDING_UNKNOWN, "dns-unreachable",
           g_strdup_printf (_("The DMARC record of %s could not be checked: a lookup timed out."), domain), NULL);
      return;
    }
  if (record == NULL)
    {
      g_autofree char *name = g_strconcat ("_dmarc.", domain, NULL);

      finding = add (report, "dmarc", MR_FINDING_FAIL, "dmarc-missing",
                     g_strdup_printf (_("%s has no DMARC record. Gmail, Yahoo and Outlook.com refuse bulk mail from a "
                                        "domain without one. Add this TXT record: it asks for nothing yet, and sends you "
                                        "reports of who sends as %s."), domain, domain),
                     NULL);
      publish (finding, name, g_strdup_printf ("v=DMARC1; p=none; rua=mailto:postmaster@%s", domain));
      return;
    }
  policy = tag_value (record, "p");
  pct = tag_value (record, "pct");
  if (policy == NULL || (g_ascii_strcasecmp (policy, "none") != 0 && g_ascii_strcasecmp (policy, "quarantine") != 0 &&
                         g_ascii_strcasecmp (policy, "reject") != 0))
    add (report, "dmarc", MR_FINDING_FAIL, "dmarc-invalid",
         g_strdup_printf (_("The DMARC record of %s has no valid policy (p=none, quarantine or reject)."), found_at),
         g_strdup (record));
  else if (g_ascii_strcasecmp (policy, "none") == 0)
    add (report, "dmarc", MR_FINDING_INFO, "dmarc-none",
         g_strdup_printf (_("The DMARC record of %s asks receivers to do nothing with mail that fails (p=none). That is "
                            "enough for the bulk-sender rules, but does not stop others sending as you."), found_at),
         g_strdup (record));
  else
    {
      g_autofree char *words = g_strdup_printf (g_ascii_strcasecmp (policy, "reject") == 0
                                                  ? _("The DMARC record of %s asks receivers to refuse mail that fails.")
                                                  : _("The DMARC record of %s asks receivers to put mail that fails in spam."),
                                                found_at);

      if (pct != NULL && g_strcmp0 (pct, "100") != 0)
        {
          g_autofree char *part = g_strdup_printf (_("It asks this for %s%% of such mail (pct=%s)."), pct, pct);
          char *both = g_strconcat (words, " ", part, NULL);

          g_free (words);
          words = both;
        }
      add (report, "dmarc", MR_FINDING_PASS, "dmarc-pass", g_steal_pointer (&words), g_strdup (record));
    }

  /* Mailroom's envelope sender is the From address, so SPF aligns when it passes, strict (aspf=s)
   * or relaxed; DKIM when the provider signs as the domain, or as its organisational domain when
   * DMARC does not ask for strict alignment (adkim=s). */
  {
    g_autofree char *adkim = tag_value (record, "adkim");
    gboolean strict = adkim != NULL && g_ascii_strcasecmp (adkim, "s") == 0;
    gboolean dkim_aligns = dkim_found || (dkim_relaxed && !strict);
    g_autofree char *organisation = organisational_domain (domain);

    if (spf_judged && !spf_passes && !dkim_aligns && dkim_relaxed)
      add (report, "dmarc", MR_FINDING_FAIL, "dmarc-not-aligned",
           g_strdup_printf (_("Mail from %s would fail DMARC: the DMARC record of %s asks for strict DKIM alignment "
                              "(adkim=s), but your provider signs as %s, and SPF does not pass. Publish the DKIM records "
                              "at %s as well, or relax the record to adkim=r."),
                            domain, found_at, organisation, domain),
           g_strdup (record));
    else if (spf_judged && !spf_passes && !dkim_aligns)
      add (report, "dmarc", MR_FINDING_FAIL, "dmarc-not-aligned",
           g_strdup_printf (_("Mail from %s would fail DMARC: neither SPF nor DKIM passes for it as Mailroom sends. Fix "
                              "SPF or DKIM above."), domain),
           NULL);
  }
}

/* ---- MX --------------------------------------------------------------------------------------- */

static void
check_mx (MrDomainReport *report,
          GCancellable   *cancellable)
{
  g_autoptr(GPtrArray) hosts = NULL;
  MrDnsAnswer answer = mr_dns_lookup_mx (report->domain, &hosts, cancellable);

  if (answer == MR_DNS_FAILED)
    add (report, "mx", MR_FINDING_UNKNOWN, "dns-unreachable",
         g_strdup_printf (_("The mail servers (MX) of %s could not be checked: a lookup timed out."), report->domain), NULL);
  else if (hosts->len == 0)
    add (report, "mx", MR_FINDING_WARNING, "mx-missing",
         g_strdup_printf (_("%s receives no mail (it has no MX record): replies and bounces have nowhere to go, and "
                            "some receivers distrust such senders."), report->domain), NULL);
  else
    {
      g_ptr_array_add (hosts, NULL);
      add (report, "mx", MR_FINDING_PASS, "mx-present",
           g_strdup_printf (_("%s receives mail."), report->domain), g_strjoinv (", ", (char **) hosts->pdata));
    }
}

/* ---- The report ------------------------------------------------------------------------------- */

void
mr_domain_forget_answers (const char *domain)
{
  g_autofree char *lower = g_ascii_strdown (domain, -1);
  g_autofree char *organisation = organisational_domain (lower);
  g_autofree char *dmarc = g_strconcat ("_dmarc.", organisation, NULL);

  mr_dns_forget (lower);
  mr_dns_forget (dmarc);
}

MrDomainReport *
mr_domain_check (const char                 *domain,
                 const MrDomainCheckOptions *options,
                 GCancellable               *cancellable)
{
  MrDomainReport *report = g_new0 (MrDomainReport, 1);
  gboolean spf_passes, spf_judged, dkim_found, dkim_relaxed;

  report->domain = g_ascii_strdown (domain, -1);
  report->findings = g_ptr_array_new_with_free_func ((GDestroyNotify) finding_free);
  if (options != NULL && options->fresh)
    mr_domain_forget_answers (report->domain);
  check_spf (report, options, &spf_passes, &spf_judged, cancellable);
  check_dkim (report, options, &dkim_found, &dkim_relaxed, cancellable);
  check_dmarc (report, spf_passes, spf_judged, dkim_found, dkim_relaxed, cancellable);
  check_mx (report, cancellable);
  return report;
}

MrFindingLevel
mr_domain_report_get_level (const MrDomainReport *report)
{
  gboolean unknown = FALSE, warning = FALSE, info = FALSE;

  for (guint i = 0; i < report->findings->len; i++)
    {
      MrFinding *finding = g_ptr_array_index (report->findings, i);

      if (finding->level == MR_FINDING_FAIL)
        return MR_FINDING_FAIL;
      unknown = unknown || finding->level == MR_FINDING_UNKNOWN;
      warning = warning || finding->level == MR_FINDING_WARNING;
      info = info || finding->level == MR_FINDING_INFO;
    }
  return unknown ? MR_FINDING_UNKNOWN : warning ? MR_FINDING_WARNING : info ? MR_FINDING_INFO : MR_FINDING_PASS;
}

void
mr_json_add_txt_record (JsonBuilder *builder,
                        const char  *name,
                        const char  *value)
{
  if (value == NULL)
    {
      json_builder_add_null_value (builder);
      return;
    }
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "name");
  json_builder_add_string_value (builder, name);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, "TXT");
  json_builder_set_member_name (builder, "value");
  json_builder_add_string_value (builder, value);
  json_builder_end_object (builder);
}

char *
mr_domain_report_to_json (const MrDomainReport *report)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "domain");
  json_builder_add_string_value (builder, report->domain);
  json_builder_set_member_name (builder, "level");
  json_builder_add_string_value (builder, mr_finding_level_to_string (mr_domain_report_get_level (report)));
  json_builder_set_member_name (builder, "findings");
  json_builder_begin_array (builder);
  for (guint i = 0; i < report->findings->len; i++)
    {
      MrFinding *finding = g_ptr_array_index (report->findings, i);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "check");
      json_builder_add_string_value (builder, finding->check);
      json_builder_set_member_name (builder, "level");
      json_builder_add_string_value (builder, mr_finding_level_to_string (finding->level));
      json_builder_set_member_name (builder, "code");
      json_builder_add_string_value (builder, finding->code);
      json_builder_set_member_name (builder, "words");
      json_builder_add_string_value (builder, finding->words);
      json_builder_set_member_name (builder, "detail");
      json_builder_add_string_value (builder, finding->detail);
      json_builder_set_member_name (builder, "record");
      mr_json_add_txt_record (builder, finding->record_name, finding->record_value);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  return json_to_string (root, TRUE);
}

void
mr_domain_check_options_init_for_provider (MrDomainCheckOptions *options,
                                           const char           *provider,
                                           const char           *host,
                                           const char           *from_domain)
{
  const MrPreset *preset = provider ? mr_preset_lookup (provider) : NULL;

  memset (options, 0, sizeof *options);
  /* The provider's own addresses (gmail.com through Gmail): its records are its own business. */
  if (preset != NULL && from_domain != NULL && mr_preset_lookup_by_domain (from_domain) == preset)
    preset = NULL;
  else if (preset != NULL)
    {
      options->spf_include = g_strdup (mr_preset_get_spf_include (preset));
      options->dkim_selectors = (const char * const *) g_strdupv ((char **) mr_preset_get_dkim_selectors (preset));
      if (mr_preset_has_own_return_path (preset))
        options->return_path_owner = g_strdup (mr_preset_get_name (preset));
    }
  if (options->spf_include == NULL && options->return_path_owner == NULL && host != NULL && *host != '\0' &&
      g_ascii_strcasecmp (host, "localhost") != 0)
    options->server = g_strdup (host);
}

void
mr_domain_check_options_init_for (MrDomainCheckOptions *options,
                                  MrSettings           *settings,
                                  const char           *app,
                                  const char           *route,
                                  const char           *from_domain)
{
  g_autofree char *host = NULL;
  g_autofree char *provider = mr_mailshot_route_provider (settings, app, route, &host);
  g_auto(GStrv) named = mr_settings_dup_effective_strv (settings, app, "domains.dkim_selectors");

  mr_domain_check_options_init_for_provider (options, provider, host, from_domain);
  mr_domain_check_options_add_selectors (options, (const char * const *) named);
}

void
mr_domain_check_options_add_selectors (MrDomainCheckOptions *options,
                                       const char * const   *selectors)
{
  g_autoptr(GStrvBuilder) all = NULL;

  if (selectors == NULL || selectors[0] == NULL)
    return;
  all = g_strv_builder_new ();
  if (options->dkim_selectors != NULL)
    g_strv_builder_addv (all, (const char **) options->dkim_selectors);
  for (guint i = 0; selectors[i] != NULL; i++)
    if (options->dkim_selectors == NULL || !g_strv_contains (options->dkim_selectors, selectors[i]))
      g_strv_builder_add (all, selectors[i]);
  g_strfreev ((char **) options->dkim_selectors);
  options->dkim_selectors = (const char * const *) g_strv_builder_end (all);
}

void
mr_domain_check_options_clear (MrDomainCheckOptions *options)
{
  g_free ((char *) options->spf_include);
  g_free ((char *) options->server);
  g_strfreev ((char **) options->dkim_selectors);
  g_free ((char *) options->return_path_owner);
  memset (options, 0, sizeof *options);
}

MrDomainReport *
mr_domain_check_for_sending (MrSettings   *settings,
                             const char   *app,
                             const char   *from_address,
                             GCancellable *cancellable)
{
  const char *at = strrchr (from_address, '@');
  const char *domain = at ? at + 1 : from_address;
  g_auto(MrDomainCheckOptions) options = { 0 };

  mr_domain_check_options_init_for (&options, settings, app, "smtp", domain);
  return mr_domain_check (domain, &options, cancellable);
}

gboolean
mr_domain_report_blocks_bulk (const MrDomainReport *report)
{
  for (guint i = 0; i < report->findings->len; i++)
    {
      MrFinding *finding = g_ptr_array_index (report->findings, i);

      if (finding->level == MR_FINDING_FAIL && (g_str_equal (finding->check, "spf") || g_str_equal (finding->check, "dmarc")))
        return TRUE;
    }
  return FALSE;
}

void
mr_domain_report_add_bulk_rules (MrDomainReport *report,
                                 guint           recipients,
                                 gboolean        unsubscribe)
{
  if (recipients < MR_BULK_SENDER_THRESHOLD)
    return;
  if (unsubscribe)
    add (report, "bulk", MR_FINDING_PASS, "bulk-unsubscribe",
         g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "This mailshot goes to %u person, and every mail has one-click "
                                       "unsubscribe, as Gmail and Yahoo ask of bulk senders.",
                                       "This mailshot goes to %u people, and every mail has one-click unsubscribe, as "
                                       "Gmail and Yahoo ask of bulk senders.", recipients), recipients), NULL);
  else
    add (report, "bulk", MR_FINDING_WARNING, "bulk-unsubscribe-missing",
         g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "This mailshot goes to %u person: Gmail and Yahoo ask senders of "
                                       "5,000 mails a day or more for one-click unsubscribe. Set the unsubscribe page in "
                                       "Company Settings, Mailshots.",
                                       "This mailshot goes to %u people: Gmail and Yahoo ask senders of 5,000 mails a day "
                                       "or more for one-click unsubscribe. Set the unsubscribe page in Company Settings, "
                                       "Mailshots.", recipients), recipients), NULL);
}

void
mr_domain_report_set_pace (MrDomainReport *report,
                           guint           recipients,
                           guint           per_day,
                           guint           provider_limit,
                           const char     *provider)
{
  for (guint i = report->findings->len; i > 0; i--)
    if (g_str_equal (((MrFinding *) g_ptr_array_index (report->findings, i - 1))->check, "pace"))
      g_ptr_array_remove_index (report->findings, i - 1);
  if (recipients == 0 || (per_day == 0 && provider_limit == 0))
    return;
  if (provider_limit > 0 && (per_day == 0 || per_day > provider_limit))
    {
      g_autofree char *pace = per_day == 0 ? g_strdup (_("without a daily limit"))
                                            : g_strdup_printf (_("at %u a day"), per_day);

      add (report, "pace", MR_FINDING_WARNING, "pace-over-limit",
           g_strdup_printf (_("This mailshot is set to go %s, but %s takes about %u mails a day from one account: past "
                              "that it refuses mail or blocks the account. Set Mails a day to %u or less."),
                            pace, provider, provider_limit, provider_limit), NULL);
      return;
    }
  if (recipients > per_day)
    {
      guint days = (recipients + per_day - 1) / per_day;

      add (report, "pace", MR_FINDING_INFO, "pace-days",
           g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "At %u a day, the %u mails take %u day: the rest wait for the "
                                         "next day’s quota, and nobody gets one twice.",
                                         "At %u a day, the %u mails take %u days: the rest wait for the next day’s quota, "
                                         "and nobody gets one twice.", days), per_day, recipients, days), NULL);
      return;
    }
  add (report, "pace", MR_FINDING_PASS, "pace-fits",
       g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "At %u a day, the %u mail goes out within the day’s quota.",
                                     "At %u a day, all %u mails go out within the day’s quota.", recipients),
                        per_day, recipients), NULL);
}

/* ---- In a thread ------------------------------------------------------------------------------ */

typedef struct {
  char  *domain;
  char  *spf_include;
  char  *server;
  GStrv  selectors;
  gboolean fresh;
  char  *return_path_owner;
} AsyncCheck;

static void
async_check_free (AsyncCheck *check)
{
  g_free (check->domain);
  g_free (check->spf_include);
  g_free (check->server);
  g_strfreev (check->selectors);
  g_free (check->return_path_owner);
  g_free (check);
}

static void
check_thread (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  AsyncCheck *check = task_data;
  MrDomainCheckOptions options = { check->spf_include, check->server, (const char * const *) check->selectors,
                                   check->fresh, check->return_path_owner };

  g_task_return_pointer (task, mr_domain_check (check->domain, &options, cancellable),
                         (GDestroyNotify) mr_domain_report_free);
}

void
mr_domain_check_async (const char                 *domain,
                       const MrDomainCheckOptions *options,
                       GCancellable               *cancellable,
                       GAsyncReadyCallback         callback,
                       gpointer                    user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  AsyncCheck *check = g_new0 (AsyncCheck, 1);

  check->domain = g_strdup (domain);
  check->spf_include = g_strdup (options ? options->spf_include : NULL);
  check->server = g_strdup (options ? options->server : NULL);
  check->selectors = g_strdupv (options ? (char **) options->dkim_selectors : NULL);
  check->fresh = options ? options->fresh : FALSE;
  check->return_path_owner = g_strdup (options ? options->return_path_owner : NULL);
  g_task_set_source_tag (task, mr_domain_check_async);
  g_task_set_task_data (task, check, (GDestroyNotify) async_check_free);
  g_task_run_in_thread (task, check_thread);
}

MrDomainReport *
mr_domain_check_finish (GAsyncResult  *result,
                        GError       **error)
{
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == mr_domain_check_async, NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
