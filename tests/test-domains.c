/* test-domains.c: will mail from a domain arrive? SPF, DKIM, DMARC and MX as a receiver sees them
 *
 * DNS is the tests' own resolver (mr_test_dns_add()), except in the dns and cli-dns tests: there
 * the questions go over the wire to tests/servers/dns-server.py ($MAILROOM_DNS_SERVER), as they
 * go to the system's name servers, with TTLs, and the command line is asked too. DKIM keys are
 * made here with GnuTLS.
 */

#include "config.h"

#include <string.h>

#include "mr-dns.h"
#include "mr-domain-check.h"
#include "mr-domain-proof.h"
#include "mr-settings.h"
#include "mr-standin.h"
#include "mr-test-utils.h"

static void
add_records (void)
{
  static gsize once;

  if (!g_once_init_enter (&once))
    return;
  {
    g_autofree char *strong = mr_test_dkim_record (2048);
    g_autofree char *weak = mr_test_dkim_record (512);

    /* Everything right, through a provider. */
    mr_test_dns_add ("TXT", "good.example", "v=spf1 include:spf.provider.example -all");
    mr_test_dns_add ("TXT", "spf.provider.example", "v=spf1 ip4:203.0.113.0/24 -all");
    mr_test_dns_add ("TXT", "selector1._domainkey.good.example", strong);
    mr_test_dns_add ("TXT", "_dmarc.good.example", "v=DMARC1; p=reject; rua=mailto:dmarc@good.example");
    mr_test_dns_add ("MX", "good.example", "10 mx.good.example");
    /* Nothing right: no SPF, no DMARC, no MX, a 512-bit key. */
    mr_test_dns_add ("TXT", "selector1._domainkey.bad.example", weak);
    mr_test_dns_add ("A", "bad.example", "192.0.2.1");
    /* SPF without the provider; DMARC p=none; a DMARC inherited from the organisational domain. */
    mr_test_dns_add ("TXT", "other.example", "v=spf1 ip4:192.0.2.0/24 -all");
    mr_test_dns_add ("TXT", "_dmarc.other.example", "v=DMARC1; p=none");
    mr_test_dns_add ("TXT", "sub.org.example", "v=spf1 include:spf.provider.example ~all");
    mr_test_dns_add ("TXT", "_dmarc.org.example", "v=DMARC1; p=quarantine; pct=50");
    mr_test_dns_add ("MX", "sub.org.example", "5 mx.org.example");
    /* A server of one's own. */
    mr_test_dns_add ("TXT", "own.example", "v=spf1 ip4:198.51.100.7 -all");
    mr_test_dns_add ("A", "smtp.own.example", "198.51.100.7");
    mr_test_dns_add ("TXT", "own2.example", "v=spf1 mx -all");
    mr_test_dns_add ("A", "smtp.own2.example", "198.51.100.8");
    /* Open to all; and one whose DNS does not answer. */
    mr_test_dns_add ("TXT", "open.example", "v=spf1 +all");
    mr_test_dns_add ("FAIL", "slow.example", NULL);
    mr_test_dns_add ("FAIL", "_dmarc.slow.example", NULL);
    mr_test_dns_add ("FAIL", "selector1._domainkey.slow.example", NULL);
  }
  g_once_init_leave (&once, 1);
}


/* ---- Over the wire ------------------------------------------------------------------------- */

/* The questions the DNS server was asked, a line each ("TXT name", "MX name tcp", "BAD why"). */
static char *
dns_queries (MrTestServer *server)
{
  g_autofree char *path = g_build_filename (server->maildir, "queries", NULL);
  char *text = NULL;

  g_file_get_contents (path, &text, NULL, NULL);
  return text != NULL ? text : g_strdup ("");
}

static guint
times_asked (MrTestServer *server,
             const char   *question)
{
  g_autofree char *queries = dns_queries (server);
  g_autofree char *lines = g_strconcat ("\n", queries, NULL);
  g_autofree char *line = g_strconcat ("\n", question, "\n", NULL);

  return mr_test_count (lines, line);
}

/* The DNS server of the tests with the records given (dns-server.py's arguments, NULL-ended),
 * asked from here on by this process and the command lines it runs: one try of one second. */
static MrTestServer *
start_dns (const char *first,
           ...)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  g_autofree char *address = NULL;
  MrTestServer *server;
  va_list list;

  va_start (list, first);
  for (const char *arg = first; arg != NULL; arg = va_arg (list, const char *))
    g_ptr_array_add (args, (gpointer) arg);
  va_end (list);
  g_ptr_array_add (args, NULL);
  server = mr_test_server_start_argv ("dns-server.py", (const char * const *) args->pdata);
  address = g_strdup_printf ("127.0.0.1:%u", server->port);
  mr_test_setenv ("MAILROOM_DNS_SERVER", address);
  mr_test_setenv ("RES_OPTIONS", "timeout:1 attempts:1");
  return server;
}

static void
stop_dns (MrTestServer *server)
{
  g_autofree char *queries = dns_queries (server);

  mr_test_setenv ("MAILROOM_DNS_SERVER", NULL);
  mr_test_setenv ("RES_OPTIONS", NULL);
  /* Every question was one a DNS server takes. */
  g_assert_null (strstr (queries, "BAD"));
  mr_test_server_stop (server);
}

static const MrFinding *
finding (const MrDomainReport *report,
         const char           *code)
{
  for (guint i = 0; i < report->findings->len; i++)
    {
      const MrFinding *found = g_ptr_array_index (report->findings, i);

      if (g_str_equal (found->code, code))
        return found;
    }
  return NULL;
}

static char *
codes (const MrDomainReport *report)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < report->findings->len; i++)
    {
      const MrFinding *found = g_ptr_array_index (report->findings, i);

      g_string_append_printf (out, "%s%s:%s", out->len ? " " : "", found->code, mr_finding_level_to_string (found->level));
    }
  return g_string_free (out, FALSE);
}

static MrDomainReport *
check_domain (const char *domain,
              const char *include,
              const char *server)
{
  const char *selectors[] = { "selector1", "selector2", NULL };
  MrDomainCheckOptions options = { include, server, selectors };
  MrDomainReport *report;

  add_records ();
  report = mr_domain_check (domain, &options, NULL);
  for (guint i = 0; i < report->findings->len; i++)
    {
      const MrFinding *found = g_ptr_array_index (report->findings, i);

      g_test_message ("%s %s %s: %s%s%s", domain, found->check, mr_finding_level_to_string (found->level), found->words,
                      found->record_value ? " → " : "", found->record_value ? found->record_value : "");
    }
  return report;
}

/* A domain set up right for its provider passes every check. */
static void
test_good (void)
{
  g_autoptr(MrDomainReport) report = check_domain ("good.example", "spf.provider.example", NULL);

  mr_assert_cmpstr_free (codes (report), ==, "spf-pass:pass dkim-pass:pass dmarc-pass:pass mx-present:pass");
  g_assert_cmpint (mr_domain_report_get_level (report), ==, MR_FINDING_PASS);
  g_assert_nonnull (strstr (finding (report, "dkim-pass")->words, "2048 bits"));
  g_assert_nonnull (strstr (finding (report, "dmarc-pass")->words, "refuse"));
}

/* Nothing right: each finding says what to publish, exactly. */
static void
test_bad (void)
{
  g_autoptr(MrDomainReport) report = check_domain ("bad.example", "spf.provider.example", NULL);
  const MrFinding *spf, *dmarc;

  mr_assert_cmpstr_free (codes (report), ==,
                         "spf-missing:fail dkim-weak:fail dmarc-missing:fail mx-missing:warning");
  g_assert_cmpint (mr_domain_report_get_level (report), ==, MR_FINDING_FAIL);
  spf = finding (report, "spf-missing");
  g_assert_cmpstr (spf->record_name, ==, "bad.example");
  g_assert_cmpstr (spf->record_value, ==, "v=spf1 include:spf.provider.example ~all");
  g_assert_nonnull (strstr (finding (report, "dkim-weak")->words, "only 512 bits"));
  dmarc = finding (report, "dmarc-missing");
  g_assert_cmpstr (dmarc->record_name, ==, "_dmarc.bad.example");
  g_assert_cmpstr (dmarc->record_value, ==, "v=DMARC1; p=none; rua=mailto:postmaster@bad.example");
  g_assert_nonnull (strstr (dmarc->words, "Gmail, Yahoo and Outlook.com"));
}

/* SPF that leaves the provider out: the record there is, with the include merged in; DMARC p=none
 * is said, and would not align; one inherited from the organisational domain counts. */
static void
test_partly (void)
{
  {
    g_autoptr(MrDomainReport) report = check_domain ("other.example", "spf.provider.example", NULL);
    const MrFinding *spf = finding (report, "spf-provider-missing");

    g_assert_nonnull (spf);
    g_assert_cmpstr (spf->record_value, ==, "v=spf1 ip4:192.0.2.0/24 include:spf.provider.example -all");
    g_assert_cmpstr (spf->detail, ==, "v=spf1 ip4:192.0.2.0/24 -all");
    g_assert_cmpint (finding (report, "dmarc-none")->level, ==, MR_FINDING_INFO);
    g_assert_nonnull (finding (report, "dmarc-not-aligned"));
  }
  {
    g_autoptr(MrDomainReport) report = check_domain ("sub.org.example", "spf.provider.example", NULL);

    mr_assert_cmpstr_free (codes (report), ==, "spf-pass:pass dkim-missing:fail dmarc-pass:pass mx-present:pass");
    g_assert_nonnull (strstr (finding (report, "dmarc-pass")->words, "org.example"));
    g_assert_nonnull (strstr (finding (report, "dmarc-pass")->words, "50%"));
  }
}

/* DMARC alignment, relaxed and strict: a subdomain without its own DKIM key, its organisational
 * domain signing; SPF that does not pass for it. Relaxed (the default) aligns through the
 * organisation's signature; adkim=s does not, and says what to do. */
static void
test_alignment (void)
{
  g_autofree char *key = mr_test_dkim_record (2048);

  add_records ();
  mr_test_dns_add ("TXT", "selector1._domainkey.relaxed.example", key);
  mr_test_dns_add ("TXT", "_dmarc.relaxed.example", "v=DMARC1; p=reject");
  mr_test_dns_add ("MX", "news.relaxed.example", "10 mx.relaxed.example");
  mr_test_dns_add ("TXT", "selector1._domainkey.strict.example", key);
  mr_test_dns_add ("TXT", "_dmarc.strict.example", "v=DMARC1; p=reject; adkim=s; aspf=s");
  mr_test_dns_add ("MX", "news.strict.example", "10 mx.strict.example");
  {
    g_autoptr(MrDomainReport) report = check_domain ("news.relaxed.example", "spf.provider.example", NULL);

    mr_assert_cmpstr_free (codes (report), ==,
                           "spf-missing:fail dkim-organisation-key:info dmarc-pass:pass mx-present:pass");
    g_assert_nonnull (strstr (finding (report, "dkim-organisation-key")->words, "relaxed.example"));
  }
  {
    g_autoptr(MrDomainReport) report = check_domain ("news.strict.example", "spf.provider.example", NULL);
    const MrFinding *aligned;

    mr_assert_cmpstr_free (codes (report), ==,
                           "spf-missing:fail dkim-organisation-key:info dmarc-pass:pass dmarc-not-aligned:fail mx-present:pass");
    aligned = finding (report, "dmarc-not-aligned");
    g_assert_nonnull (strstr (aligned->words, "adkim=s"));
    g_assert_nonnull (strstr (aligned->words, "news.strict.example"));
    g_assert_true (mr_domain_report_blocks_bulk (report));
  }
  /* With SPF passing for the subdomain itself, strict SPF alignment holds: the envelope sender is the
   * From address. */
  mr_test_dns_add ("TXT", "news.strict.example", "v=spf1 include:spf.provider.example -all");
  mr_dns_forget ("news.strict.example");
  {
    g_autoptr(MrDomainReport) report = check_domain ("news.strict.example", "spf.provider.example", NULL);

    mr_assert_cmpstr_free (codes (report), ==, "spf-pass:pass dkim-organisation-key:info dmarc-pass:pass mx-present:pass");
  }
}

/* The options each preset gives: Brevo's own return address (SPF is Brevo's, DMARC aligns through
 * DKIM), selectors without an SPF include, Amazon SES, and a provider's own domain (gmail.com through
 * Gmail), which is not the customer's to fix. */
static void
test_providers (MrTestDirs    *dirs,
                gconstpointer  data)
{
  g_autofree char *key = mr_test_dkim_record (2048);

  add_records ();
  mr_test_dns_add ("TXT", "brevo1._domainkey.relay.example", key);
  mr_test_dns_add ("TXT", "_dmarc.relay.example", "v=DMARC1; p=quarantine");
  mr_test_dns_add ("MX", "relay.example", "10 mx.relay.example");
  mr_test_dns_add ("TXT", "_dmarc.unsigned.example", "v=DMARC1; p=reject");
  mr_test_dns_add ("MX", "unsigned.example", "10 mx.unsigned.example");
  {
    g_auto(MrDomainCheckOptions) options = { 0 };
    g_autoptr(MrDomainReport) report = NULL;

    mr_domain_check_options_init_for_provider (&options, "brevo", "smtp-relay.brevo.com", "relay.example");
    g_assert_null (options.spf_include);
    g_assert_null (options.server);
    g_assert_cmpstr (options.return_path_owner, ==, "Brevo");
    g_assert_cmpstr (options.dkim_selectors[0], ==, "brevo1");
    report = mr_domain_check ("relay.example", &options, NULL);
    mr_assert_cmpstr_free (codes (report), ==, "spf-provider-return-path:info dkim-pass:pass dmarc-pass:pass mx-present:pass");
    g_assert_nonnull (strstr (finding (report, "spf-provider-return-path")->words, "DKIM"));
    g_assert_false (mr_domain_report_blocks_bulk (report));
  }
  {
    g_auto(MrDomainCheckOptions) options = { 0 };
    g_autoptr(MrDomainReport) report = NULL;

    /* No DKIM key: with Brevo's return address, nothing aligns. */
    mr_domain_check_options_init_for_provider (&options, "brevo", "smtp-relay.brevo.com", "unsigned.example");
    report = mr_domain_check ("unsigned.example", &options, NULL);
    g_assert_nonnull (finding (report, "dkim-missing"));
    g_assert_nonnull (finding (report, "dmarc-not-aligned"));
    g_assert_true (mr_domain_report_blocks_bulk (report));
  }
  {
    g_auto(MrDomainCheckOptions) options = { 0 };

    mr_domain_check_options_init_for_provider (&options, "ses", "email-smtp.eu-west-1.amazonaws.com", "relay.example");
    g_assert_cmpstr (options.return_path_owner, ==, "Amazon SES");
    g_assert_null (options.server);
    g_assert_null (options.dkim_selectors);   /* the admin names SES's */
  }
  /* Amazon SES signs with the Easy DKIM tokens the admin names in the settings. */
  {
    g_autoptr(MrSettings) settings = mr_settings_new (NULL, NULL);
    g_auto(MrDomainCheckOptions) options = { 0 };
    g_autoptr(MrDomainReport) report = NULL;
    g_autoptr(GError) error = NULL;

    mr_test_dns_add ("TXT", "tok4711._domainkey.ses.example", key);
    mr_test_dns_add ("TXT", "_dmarc.ses.example", "v=DMARC1; p=reject");
    mr_test_dns_add ("MX", "ses.example", "10 inbound-smtp.eu-west-1.amazonaws.com");
    g_assert_true (mr_settings_load (settings, &error));
    g_assert_true (mr_settings_set_and_commit (settings, MR_SCOPE_COMPANY, "smtp.provider", "ses", NULL, &error));
    g_assert_true (mr_settings_set_and_commit (settings, MR_SCOPE_COMPANY, "domains.dkim_selectors",
                                               "[\"tok4711._domainkey.ses.example\"]", NULL, &error));
    g_assert_no_error (error);
    mr_domain_check_options_init_for (&options, settings, NULL, "smtp", "ses.example");
    g_assert_cmpstr (options.dkim_selectors[0], ==, "tok4711");
    report = mr_domain_check_for_sending (settings, NULL, "news@ses.example", NULL);
    mr_assert_cmpstr_free (codes (report), ==, "spf-provider-return-path:info dkim-pass:pass dmarc-pass:pass mx-present:pass");
  }
  {
    g_auto(MrDomainCheckOptions) options = { 0 };

    mr_domain_check_options_init_for_provider (&options, "gmail", "smtp.gmail.com", "gmail.com");
    g_assert_null (options.spf_include);
    g_assert_null (options.dkim_selectors);
    g_assert_null (options.return_path_owner);
    g_assert_cmpstr (options.server, ==, "smtp.gmail.com");
    mr_domain_check_options_clear (&options);
    mr_domain_check_options_init_for_provider (&options, "gmail", "smtp.gmail.com", "workspace.example");
    g_assert_cmpstr (options.spf_include, ==, "_spf.google.com");
    g_assert_cmpstr (options.dkim_selectors[0], ==, "google");
    mr_domain_check_options_clear (&options);
    mr_domain_check_options_init_for_provider (&options, "other", "localhost", "workspace.example");
    g_assert_null (options.server);
  }
}

/* A server of one's own: its addresses against the record. */
static void
test_server (void)
{
  {
    g_autoptr(MrDomainReport) report = check_domain ("own.example", NULL, "smtp.own.example");

    g_assert_cmpint (finding (report, "spf-pass")->level, ==, MR_FINDING_PASS);
  }
  {
    g_autoptr(MrDomainReport) report = check_domain ("own2.example", NULL, "smtp.own2.example");
    const MrFinding *spf = finding (report, "spf-server-not-allowed");

    g_assert_nonnull (spf);
    g_assert_cmpstr (spf->record_value, ==, "v=spf1 mx ip4:198.51.100.8 -all");
  }
  {
    g_autoptr(MrDomainReport) report = check_domain ("none.example", NULL, "smtp.own2.example");

    g_assert_cmpstr (finding (report, "spf-missing")->record_value, ==, "v=spf1 ip4:198.51.100.8 ~all");
  }
}

/* "+all" is a finding of its own; a DNS that does not answer is "could not check", never a fail. */
static void
test_open_and_unreachable (void)
{
  {
    g_autoptr(MrDomainReport) report = check_domain ("open.example", "spf.provider.example", NULL);

    g_assert_nonnull (finding (report, "spf-plus-all"));
  }
  {
    g_autoptr(MrDomainReport) report = check_domain ("slow.example", "spf.provider.example", NULL);
    g_autofree char *json = NULL;
    g_autoptr(JsonNode) root = NULL;

    g_assert_cmpint (finding (report, "dns-unreachable")->level, ==, MR_FINDING_UNKNOWN);
    for (guint i = 0; i < report->findings->len; i++)
      g_assert_cmpint (((MrFinding *) g_ptr_array_index (report->findings, i))->level, !=, MR_FINDING_FAIL);
    g_assert_cmpint (mr_domain_report_get_level (report), ==, MR_FINDING_UNKNOWN);

    /* As JSON, for the command line. */
    json = mr_domain_report_to_json (report);
    root = json_from_string (json, NULL);
    g_assert_cmpstr (json_object_get_string_member (json_node_get_object (root), "level"), ==, "unknown");
    g_assert_cmpstr (json_object_get_string_member (json_node_get_object (root), "domain"), ==, "slow.example");
  }
  {
    g_autoptr(MrDomainReport) report = check_domain ("bad.example", "spf.provider.example", NULL);
    g_autofree char *json = mr_domain_report_to_json (report);
    g_autoptr(JsonNode) root = json_from_string (json, NULL);
    JsonObject *first = json_array_get_object_element (json_object_get_array_member (json_node_get_object (root), "findings"), 0);
    JsonObject *record = json_object_get_object_member (first, "record");

    g_assert_cmpstr (json_object_get_string_member (first, "code"), ==, "spf-missing");
    g_assert_cmpstr (json_object_get_string_member (record, "type"), ==, "TXT");
    g_assert_cmpstr (json_object_get_string_member (record, "value"), ==, "v=spf1 include:spf.provider.example ~all");
  }
}

/* A mailshot to 5,000 people or more: one-click unsubscribe is asked of it. */
static void
test_bulk_rules (void)
{
  g_autoptr(MrDomainReport) small = check_domain ("good.example", "spf.provider.example", NULL);
  g_autoptr(MrDomainReport) without = check_domain ("good.example", "spf.provider.example", NULL);
  g_autoptr(MrDomainReport) with = check_domain ("good.example", "spf.provider.example", NULL);

  mr_domain_report_add_bulk_rules (small, 4999, FALSE);
  g_assert_null (finding (small, "bulk-unsubscribe-missing"));
  mr_domain_report_add_bulk_rules (without, 5000, FALSE);
  g_assert_cmpint (finding (without, "bulk-unsubscribe-missing")->level, ==, MR_FINDING_WARNING);
  g_assert_nonnull (strstr (finding (without, "bulk-unsubscribe-missing")->words, "5000 people"));
  g_assert_false (mr_domain_report_blocks_bulk (without));
  mr_domain_report_add_bulk_rules (with, 12000, TRUE);
  g_assert_cmpint (finding (with, "bulk-unsubscribe")->level, ==, MR_FINDING_PASS);
}

/* The command line: its arguments (DNS answers come from the real resolver there, so only what
 * needs none). */
static void
test_cli (MrTestDirs    *dirs,
          gconstpointer  data)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  g_assert_cmpint (mr_test_run_cli (&out, &err, "check-domain", NULL), ==, 64);
  g_assert_nonnull (strstr (err, "takes one domain"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (mr_test_run_cli (&out, &err, "check-domain", "a.example", "b.example", NULL), ==, 64);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (mr_test_run_cli (&out, &err, "log", "--include", "x.example", NULL), ==, 64);
  g_assert_nonnull (strstr (err, "check-domain"));
}

/* A sender domain proved as the business systems do it: added, its token published, verified;
 * each state kept in the company file and shown by the command line. */
static void
test_proof (MrTestDirs    *dirs,
            gconstpointer  data)
{
  g_autoptr(MrSettings) settings = mr_settings_new (NULL, NULL);
  g_autoptr(MrCompanyDomain) added = NULL;
  g_autoptr(MrCompanyDomain) proved = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *record = NULL;
  g_autofree char *today = NULL;

  add_records ();
  g_assert_true (mr_settings_load (settings, &error));
  g_assert_no_error (error);

  /* Added: pending, with a token to publish. */
  added = mr_company_domain_add (settings, "ACME.example", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (added->domain, ==, "acme.example");
  g_assert_cmpint (added->state, ==, MR_DOMAIN_PENDING);
  g_assert_cmpuint (strlen (added->token), ==, 32);
  record = mr_company_domain_record (added);
  g_assert_true (g_str_has_prefix (record, "mailroom-domain-verification="));
  {
    g_autoptr(MrCompanyDomain) again = mr_company_domain_add (settings, "acme.example", &error);

    g_assert_cmpstr (again->token, ==, added->token);
  }

  /* Not published yet: said, with the record. */
  g_assert_null (mr_company_domain_verify (settings, "acme.example", NULL, &error));
  g_assert_error (error, MR_DOMAIN_ERROR, MR_DOMAIN_ERROR_NOT_PUBLISHED);
  g_assert_nonnull (strstr (error->message, record));
  g_clear_error (&error);

  /* Published: proved today, and a sender domain; kept in the file. */
  mr_test_dns_add ("TXT", "acme.example", "v=spf1 -all");
  mr_test_dns_add ("TXT", "acme.example", record);
  proved = mr_company_domain_verify (settings, "acme.example", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (proved->state, ==, MR_DOMAIN_PROVED);
  {
    g_autoptr(GDateTime) now = g_date_time_new_now_local ();

    today = g_date_time_format (now, "%Y-%m-%d");
  }
  g_assert_cmpstr (proved->proved_on, ==, today);
  g_assert_true (mr_settings_domain_is_verified (settings, "acme.example"));
  g_assert_false (mr_settings_domain_is_verified (settings, "evil.example"));
  {
    g_autoptr(MrSettings) reloaded = mr_settings_new (NULL, NULL);
    g_autoptr(GPtrArray) domains = NULL;

    g_assert_true (mr_settings_load (reloaded, NULL));
    domains = mr_company_domains_list (reloaded);
    g_assert_cmpuint (domains->len, ==, 1);
    g_assert_cmpint (((MrCompanyDomain *) g_ptr_array_index (domains, 0))->state, ==, MR_DOMAIN_PROVED);
  }

  /* Someone else's token; a DNS that does not answer; a domain never added; not a domain. */
  {
    g_autoptr(MrCompanyDomain) other = mr_company_domain_add (settings, "other.example", &error);

    mr_test_dns_add ("TXT", "other.example", "mailroom-domain-verification=0123456789abcdef");
    g_assert_null (mr_company_domain_verify (settings, "other.example", NULL, &error));
    g_assert_error (error, MR_DOMAIN_ERROR, MR_DOMAIN_ERROR_NOT_PUBLISHED);
    g_assert_nonnull (strstr (error->message, "not this one"));
    g_clear_error (&error);
  }
  {
    g_autoptr(MrCompanyDomain) slow = mr_company_domain_add (settings, "slow.example", &error);

    g_assert_null (mr_company_domain_verify (settings, "slow.example", NULL, &error));
    g_assert_error (error, MR_DOMAIN_ERROR, MR_DOMAIN_ERROR_UNREACHABLE);
    g_clear_error (&error);
  }
  g_assert_null (mr_company_domain_verify (settings, "never.example", NULL, &error));
  g_assert_error (error, MR_DOMAIN_ERROR, MR_DOMAIN_ERROR_NOT_ADDED);
  g_clear_error (&error);
  g_assert_null (mr_company_domain_add (settings, "not a domain", &error));
  g_assert_nonnull (error);
  g_clear_error (&error);

  /* One the admin added without proof, as before; removing takes a domain out of every list. */
  g_assert_true (mr_settings_set_and_commit (settings, MR_SCOPE_COMPANY, "domains.verified",
                                             "[\"acme.example\", \"old.example\"]", NULL, &error));
  g_assert_no_error (error);
  {
    g_autoptr(GPtrArray) domains = mr_company_domains_list (settings);
    g_autoptr(GString) states = g_string_new (NULL);

    for (guint i = 0; i < domains->len; i++)
      {
        MrCompanyDomain *domain = g_ptr_array_index (domains, i);

        g_string_append_printf (states, "%s%s:%s", states->len ? " " : "", domain->domain,
                                mr_domain_state_to_string (domain->state));
      }
    g_assert_cmpstr (states->str, ==, "acme.example:proved old.example:added other.example:pending slow.example:pending");
  }
  g_assert_true (mr_company_domain_remove (settings, "acme.example", &error));
  g_assert_no_error (error);
  g_assert_false (mr_settings_domain_is_verified (settings, "acme.example"));

  /* The same from the command line. */
  {
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    g_autoptr(JsonNode) json = NULL;
    JsonArray *list;

    g_assert_cmpint (mr_test_run_cli (&out, &err, "--json", "company", "domain", "add", "new.example", NULL), ==, 0);
    json = json_from_string (out, NULL);
    g_assert_cmpstr (json_object_get_string_member (json_node_get_object (json), "state"), ==, "pending");
    g_assert_true (g_str_has_prefix (json_object_get_string_member (json_object_get_object_member (json_node_get_object (json), "record"), "value"),
                                     "mailroom-domain-verification="));
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
    g_clear_pointer (&json, json_node_unref);
    g_assert_cmpint (mr_test_run_cli (&out, &err, "--json", "company", "domain", "list", NULL), ==, 0);
    json = json_from_string (out, NULL);
    list = json_node_get_array (json);
    g_assert_cmpuint (json_array_get_length (list), ==, 4);
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
    g_assert_cmpint (mr_test_run_cli (&out, &err, "company", "domain", "list", NULL), ==, 0);
    g_assert_nonnull (strstr (out, "old.example: added by the administrator without proof"));
    g_assert_nonnull (strstr (out, "new.example: waiting for its proof"));
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
    g_assert_cmpint (mr_test_run_cli (&out, &err, "--json", "company", "domain", "verify", "never.example", NULL), ==, 65);
    g_assert_nonnull (strstr (out, "domain-not-added"));
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
    g_assert_cmpint (mr_test_run_cli (&out, &err, "company", "domain", "remove", "new.example", NULL), ==, 0);
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
    g_assert_cmpint (mr_test_run_cli (&out, &err, "company", "domain", "frobnicate", "x.example", NULL), ==, 64);
  }
}

/* The kept answer's expiry for @key ("TXT example.test") in the cache file, or 0. */
static gint64
kept_until (MrTestDirs *dirs,
            const char *key)
{
  g_autofree char *path = g_build_filename (dirs->cache_home, "mailroom", "dns.json", NULL);
  g_autofree char *text = mr_test_read_file (path);
  g_autoptr(JsonNode) root = json_from_string (text, NULL);
  JsonObject *entry;

  if (root == NULL || !json_object_has_member (json_node_get_object (root), key))
    return 0;
  entry = json_object_get_object_member (json_node_get_object (root), key);
  return json_object_get_int_member (entry, "expires");
}

static gint64
now_seconds (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

/* Answers over the wire, kept for their TTL: found ones for the records' least TTL, "nothing
 * there" for the SOA's minimum, failures not at all; "forget" and a bad cache file ask again. */
static void
test_dns_kept (MrTestDirs    *dirs,
               gconstpointer  data)
{
  g_autofree char *spf_long = g_strnfill (600, 'x');
  g_autofree char *long_record = g_strconcat ("v=spf1 ", spf_long, NULL);
  g_autofree char *cache_path = g_build_filename (dirs->cache_home, "mailroom", "dns.json", NULL);
  g_autoptr(GPtrArray) records = NULL;
  GList *addresses = NULL;
  MrTestServer *dns;
  gint64 started = now_seconds (), until;

  dns = start_dns ("--soa", "example.test", "3600", "60",
                   "--record", "TXT", "example.test", "300", "v=spf1 include:spf.example.net -all",
                   "--record", "TXT", "example.test", "900", "google-site-verification=abc",
                   "--record", "TXT", "_dmarc.example.test", "300", "v=DMARC1; p=reject",
                   "--record", "TXT", "long.example.test", "300", long_record,
                   "--record", "MX", "example.test", "300", "20 backup.example.test",
                   "--record", "MX", "example.test", "300", "10 mx.example.test",
                   "--record", "CNAME", "www.example.test", "300", "web.example.test",
                   "--record", "A", "web.example.test", "120", "192.0.2.10",
                   "--record", "AAAA", "web.example.test", "120", "2001:db8::10",
                   "--record", "TXT", "other.test", "300", "v=spf1 -all",
                   "--servfail", "broken.example.test",
                   "--silent", "slow.example.test",
                   NULL);

  /* Found: both records, kept for the least TTL; the second question is not asked. */
  g_assert_cmpint (mr_dns_lookup_txt ("example.test", &records, NULL), ==, MR_DNS_FOUND);
  g_assert_cmpuint (records->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (records, 0), ==, "v=spf1 include:spf.example.net -all");
  g_clear_pointer (&records, g_ptr_array_unref);
  g_assert_cmpint (mr_dns_lookup_txt ("Example.TEST.", &records, NULL), ==, MR_DNS_FOUND);
  g_assert_cmpuint (records->len, ==, 2);
  g_clear_pointer (&records, g_ptr_array_unref);
  g_assert_cmpuint (times_asked (dns, "TXT example.test"), ==, 1);
  until = kept_until (dirs, "TXT example.test");
  g_assert_cmpint (until, >=, started + 300);
  g_assert_cmpint (until, <=, now_seconds () + 300);

  /* A record longer than a UDP answer: truncated, asked again over TCP, its strings joined. */
  g_assert_cmpint (mr_dns_lookup_txt ("long.example.test", &records, NULL), ==, MR_DNS_FOUND);
  g_assert_cmpstr (g_ptr_array_index (records, 0), ==, long_record);
  g_clear_pointer (&records, g_ptr_array_unref);
  g_assert_cmpuint (times_asked (dns, "TXT long.example.test tcp"), ==, 1);

  /* MX most preferred first; an alias followed to its addresses, both families. */
  g_assert_cmpint (mr_dns_lookup_mx ("example.test", &records, NULL), ==, MR_DNS_FOUND);
  g_assert_cmpuint (records->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (records, 0), ==, "mx.example.test");
  g_assert_cmpstr (g_ptr_array_index (records, 1), ==, "backup.example.test");
  g_clear_pointer (&records, g_ptr_array_unref);
  g_assert_cmpint (mr_dns_lookup_addresses ("www.example.test", G_SOCKET_FAMILY_INVALID, &addresses, NULL), ==, MR_DNS_FOUND);
  g_assert_cmpuint (g_list_length (addresses), ==, 2);
  g_resolver_free_addresses (addresses);
  g_assert_cmpint (mr_dns_lookup_addresses ("www.example.test", G_SOCKET_FAMILY_IPV4, &addresses, NULL), ==, MR_DNS_FOUND);
  g_assert_cmpuint (g_list_length (addresses), ==, 1);
  g_resolver_free_addresses (addresses);
  g_assert_cmpuint (times_asked (dns, "A www.example.test"), ==, 1);
  g_assert_cmpint (kept_until (dirs, "A www.example.test"), <=, now_seconds () + 120);

  /* Nothing there (no such name, no such record): kept for the SOA's minimum, not its TTL. */
  g_assert_cmpint (mr_dns_lookup_txt ("_dmarc.nowhere.example.test", &records, NULL), ==, MR_DNS_NOTHING);
  g_assert_cmpuint (records->len, ==, 0);
  g_clear_pointer (&records, g_ptr_array_unref);
  g_assert_cmpint (mr_dns_lookup_txt ("_dmarc.nowhere.example.test", &records, NULL), ==, MR_DNS_NOTHING);
  g_clear_pointer (&records, g_ptr_array_unref);
  g_assert_cmpuint (times_asked (dns, "TXT _dmarc.nowhere.example.test"), ==, 1);
  until = kept_until (dirs, "TXT _dmarc.nowhere.example.test");
  g_assert_cmpint (until, >=, started + 60);
  g_assert_cmpint (until, <=, now_seconds () + 60);
  g_assert_cmpint (mr_dns_lookup_mx ("_dmarc.example.test", &records, NULL), ==, MR_DNS_NOTHING);
  g_clear_pointer (&records, g_ptr_array_unref);

  /* A server that will not say, and one that does not answer: failures, never kept. */
  for (guint i = 0; i < 2; i++)
    {
      gint64 asked = g_get_monotonic_time ();

      g_assert_cmpint (mr_dns_lookup_txt ("broken.example.test", &records, NULL), ==, MR_DNS_FAILED);
      g_clear_pointer (&records, g_ptr_array_unref);
      g_assert_cmpint (mr_dns_lookup_txt ("slow.example.test", &records, NULL), ==, MR_DNS_FAILED);
      g_clear_pointer (&records, g_ptr_array_unref);
      /* RES_OPTIONS: one try of a second, not glibc's 2 × 5 s. */
      g_assert_cmpint (g_get_monotonic_time () - asked, <, 4 * G_USEC_PER_SEC);
    }
  g_assert_cmpuint (times_asked (dns, "TXT broken.example.test"), ==, 2);
  g_assert_cmpuint (times_asked (dns, "TXT slow.example.test"), ==, 2);
  g_assert_cmpint (kept_until (dirs, "TXT broken.example.test"), ==, 0);

  /* An expired answer is asked again. */
  {
    g_autofree char *text = NULL;
    g_autofree char *expires = NULL;
    g_autoptr(GString) edited = NULL;

    g_assert_cmpint (mr_dns_lookup_txt ("other.test", &records, NULL), ==, MR_DNS_FOUND);
    g_clear_pointer (&records, g_ptr_array_unref);
    text = mr_test_read_file (cache_path);
    expires = g_strdup_printf ("%" G_GINT64_FORMAT, kept_until (dirs, "TXT other.test"));
    edited = g_string_new (text);
    g_assert_cmpuint (g_string_replace (edited, expires, "1", 1), ==, 1);
    g_assert_true (g_file_set_contents (cache_path, edited->str, -1, NULL));
    g_assert_cmpint (mr_dns_lookup_txt ("other.test", &records, NULL), ==, MR_DNS_FOUND);
    g_clear_pointer (&records, g_ptr_array_unref);
    g_assert_cmpuint (times_asked (dns, "TXT other.test"), ==, 2);
  }

  /* Forgetting a domain asks again for it and the names under it, not for others. */
  mr_dns_forget ("EXAMPLE.test");
  g_assert_cmpint (kept_until (dirs, "TXT example.test"), ==, 0);
  g_assert_cmpint (kept_until (dirs, "TXT _dmarc.nowhere.example.test"), ==, 0);
  g_assert_cmpint (kept_until (dirs, "TXT other.test"), >, now_seconds ());
  g_assert_cmpint (mr_dns_lookup_txt ("example.test", &records, NULL), ==, MR_DNS_FOUND);
  g_clear_pointer (&records, g_ptr_array_unref);
  g_assert_cmpuint (times_asked (dns, "TXT example.test"), ==, 2);

  /* A cache file that is not one is left aside: asked again, and written anew. */
  g_assert_true (g_file_set_contents (cache_path, "{\"TXT example.test\": {\"expires\": \"soon\", \"records\": [1]}, \"x\": [", -1, NULL));
  g_assert_cmpint (mr_dns_lookup_txt ("example.test", &records, NULL), ==, MR_DNS_FOUND);
  g_assert_cmpuint (records->len, ==, 2);
  g_clear_pointer (&records, g_ptr_array_unref);
  g_assert_cmpuint (times_asked (dns, "TXT example.test"), ==, 3);
  g_assert_cmpint (kept_until (dirs, "TXT example.test"), >, now_seconds ());
  g_assert_true (g_file_set_contents (cache_path, "{\"TXT example.test\": {\"expires\": 99999999999, \"records\": [1, 2]}}", -1, NULL));
  g_assert_cmpint (mr_dns_lookup_txt ("example.test", &records, NULL), ==, MR_DNS_FOUND);
  g_assert_cmpuint (records->len, ==, 2);
  g_clear_pointer (&records, g_ptr_array_unref);
  g_assert_cmpuint (times_asked (dns, "TXT example.test"), ==, 4);

  stop_dns (dns);
}

/* check-domain and company domain verify from the command line, against a DNS server: exit 0 when
 * all passes, 65 for a failing record, 69 when the DNS cannot be asked; --fresh asks again. */
static void
test_cli_dns (MrTestDirs    *dirs,
              gconstpointer  data)
{
  g_autofree char *key = mr_test_dkim_record (2048);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *token_record = NULL;
  g_autoptr(JsonNode) json = NULL;
  MrTestServer *dns;

  dns = start_dns ("--soa", "example.test", "3600", "300",
                   "--record", "TXT", "good.example.test", "300", "v=spf1 include:spf.provider.test -all",
                   "--record", "TXT", "spf.provider.test", "300", "v=spf1 ip4:203.0.113.0/24 -all",
                   "--record", "TXT", "s1._domainkey.good.example.test", "300", key,
                   "--record", "TXT", "_dmarc.good.example.test", "300", "v=DMARC1; p=reject",
                   "--record", "MX", "good.example.test", "300", "10 mx.good.example.test",
                   "--record", "TXT", "bad.example.test", "300", "v=spf1 ip4:192.0.2.1 -all",
                   "--record", "MX", "bad.example.test", "300", "10 mx.bad.example.test",
                   "--servfail", "down.example.test",
                   "--servfail", "_dmarc.down.example.test",
                   "--servfail", "s1._domainkey.down.example.test",
                   NULL);

  g_assert_cmpint (mr_test_run_cli (&out, &err, "check-domain", "good.example.test", "--include", "spf.provider.test",
                                    "--selector", "s1", NULL), ==, 0);
  g_assert_true (g_str_has_prefix (out, "good.example.test: pass"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* The provider's include is not in the record, and there is no DMARC: the records to publish. */
  g_assert_cmpint (mr_test_run_cli (&out, &err, "--json", "check-domain", "bad.example.test", "--include",
                                    "spf.provider.test", NULL), ==, 65);
  json = json_from_string (out, NULL);
  g_assert_nonnull (json);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (json), "level"), ==, "fail");
  g_assert_nonnull (strstr (out, "v=spf1 ip4:192.0.2.1 include:spf.provider.test -all"));
  g_assert_nonnull (strstr (out, "_dmarc.bad.example.test"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_clear_pointer (&json, json_node_unref);

  /* The same verdicts as the window's: the engine asked here, in this process, over the same DNS. */
  {
    const char *selectors[] = { "s1", NULL };
    MrDomainCheckOptions options = { "spf.provider.test", NULL, selectors, FALSE };
    g_autoptr(MrDomainReport) report = mr_domain_check ("bad.example.test", &options, NULL);
    g_autofree char *cli_codes = NULL;
    g_autoptr(GString) codes_seen = g_string_new (NULL);
    JsonArray *findings;

    g_assert_cmpint (mr_test_run_cli (&out, &err, "--json", "check-domain", "bad.example.test", "--include",
                                      "spf.provider.test", "--selector", "s1", NULL), ==, 65);
    json = json_from_string (out, NULL);
    findings = json_object_get_array_member (json_node_get_object (json), "findings");
    for (guint i = 0; i < json_array_get_length (findings); i++)
      {
        JsonObject *found = json_array_get_object_element (findings, i);

        g_string_append_printf (codes_seen, "%s%s:%s", codes_seen->len ? " " : "", json_object_get_string_member (found, "code"),
                                json_object_get_string_member (found, "level"));
      }
    cli_codes = codes (report);
    g_assert_cmpstr (codes_seen->str, ==, cli_codes);
    g_assert_cmpstr (cli_codes, ==, "spf-provider-missing:fail dkim-missing:fail dmarc-missing:fail mx-present:pass");
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
    g_clear_pointer (&json, json_node_unref);
  }

  /* A DNS that will not say: could not check. */
  g_assert_cmpint (mr_test_run_cli (&out, &err, "check-domain", "down.example.test", "--include", "spf.provider.test",
                                    "--selector", "s1", NULL), ==, 69);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* The second check of a domain takes the answers kept; --fresh asks again. */
  g_assert_cmpuint (times_asked (dns, "TXT good.example.test"), ==, 1);
  g_assert_cmpint (mr_test_run_cli (&out, &err, "check-domain", "good.example.test", "--include", "spf.provider.test",
                                    "--selector", "s1", NULL), ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpuint (times_asked (dns, "TXT good.example.test"), ==, 1);
  g_assert_cmpuint (times_asked (dns, "TXT _dmarc.good.example.test"), ==, 1);
  g_assert_cmpint (mr_test_run_cli (&out, &err, "check-domain", "good.example.test", "--include", "spf.provider.test",
                                    "--selector", "s1", "--fresh", NULL), ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpuint (times_asked (dns, "TXT good.example.test"), ==, 2);
  g_assert_cmpuint (times_asked (dns, "TXT _dmarc.good.example.test"), ==, 2);
  g_assert_cmpuint (times_asked (dns, "TXT s1._domainkey.good.example.test"), ==, 2);
  g_assert_cmpuint (times_asked (dns, "TXT bad.example.test"), ==, 1);   /* another domain's are kept */
  g_assert_cmpint (mr_test_run_cli (&out, &err, "log", "--fresh", NULL), ==, 64);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* A domain proved from the command line: added (its absence kept for the SOA minimum), then
   * published and verified, which asks again whatever was kept. */
  g_assert_cmpint (mr_test_run_cli (&out, &err, "--json", "company", "domain", "add", "new.example.test", NULL), ==, 0);
  json = json_from_string (out, NULL);
  token_record = g_strdup (json_object_get_string_member (json_object_get_object_member (json_node_get_object (json), "record"), "value"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (mr_test_run_cli (&out, &err, "company", "domain", "verify", "new.example.test", NULL), ==, 65);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  stop_dns (dns);
  dns = start_dns ("--record", "TXT", "new.example.test", "300", token_record, NULL);
  g_assert_cmpint (mr_test_run_cli (&out, &err, "company", "domain", "verify", "new.example.test", NULL), ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (mr_test_run_cli (&out, &err, "--json", "company", "domain", "list", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "\"proved\""));
  stop_dns (dns);
}

/* Whether the pace fits the provider's daily limit: over it a warning (never a block), else the
 * days the job takes; the finding follows the pace as it changes. */
static void
test_pace (void)
{
  g_autoptr(MrDomainReport) report = check_domain ("good.example", "spf.provider.example", NULL);

  g_ptr_array_set_size (report->findings, 0);   /* the pace alone */
  mr_domain_report_set_pace (report, 1200, 2500, 2000, "Gmail");
  mr_assert_cmpstr_free (codes (report), ==, "pace-over-limit:warning");
  g_assert_nonnull (strstr (finding (report, "pace-over-limit")->words, "Gmail takes about 2000"));
  g_assert_false (mr_domain_report_blocks_bulk (report));
  mr_domain_report_set_pace (report, 1200, 0, 2000, "Gmail");
  g_assert_nonnull (strstr (finding (report, "pace-over-limit")->words, "without a daily limit"));
  mr_domain_report_set_pace (report, 4500, 2000, 2000, "Gmail");
  mr_assert_cmpstr_free (codes (report), ==, "pace-days:info");
  g_assert_nonnull (strstr (finding (report, "pace-days")->words, "take 3 days"));
  mr_domain_report_set_pace (report, 1200, 2000, 2000, "Gmail");
  mr_assert_cmpstr_free (codes (report), ==, "pace-fits:pass");
  mr_domain_report_set_pace (report, 1200, 300, 0, NULL);   /* the admin's own limit, the provider's unknown */
  mr_assert_cmpstr_free (codes (report), ==, "pace-days:info");
  mr_domain_report_set_pace (report, 1200, 0, 0, NULL);     /* nothing known: nothing said */
  mr_assert_cmpstr_free (codes (report), ==, "");
}

int
main (int    argc,
      char **argv)
{
  mr_test_init (&argc, &argv);
  g_test_add_func ("/domains/good", test_good);
  g_test_add_func ("/domains/bad", test_bad);
  g_test_add_func ("/domains/partly", test_partly);
  g_test_add_func ("/domains/server", test_server);
  g_test_add ("/domains/providers", MrTestDirs, NULL, mr_test_dirs_setup, test_providers, mr_test_dirs_teardown);
  g_test_add_func ("/domains/open-and-unreachable", test_open_and_unreachable);
  g_test_add_func ("/domains/bulk-rules", test_bulk_rules);
  g_test_add_func ("/domains/pace", test_pace);
  g_test_add_func ("/domains/alignment", test_alignment);
  g_test_add ("/domains/cli", MrTestDirs, NULL, mr_test_dirs_setup, test_cli, mr_test_dirs_teardown);
  g_test_add ("/domains/proof", MrTestDirs, NULL, mr_test_dirs_setup, test_proof, mr_test_dirs_teardown);
  g_test_add ("/domains/cli-dns", MrTestDirs, NULL, mr_test_dirs_setup, test_cli_dns, mr_test_dirs_teardown);
  g_test_add ("/dns/kept", MrTestDirs, NULL, mr_test_dirs_setup, test_dns_kept, mr_test_dirs_teardown);
  return g_test_run ();
}
