/* test-domains.c: will mail from a domain arrive? SPF, DKIM, DMARC and MX as a receiver sees them
 *
 * DNS is the tests' own resolver (mr_test_dns_add()); DKIM keys are made here with GnuTLS.
 */

#include "config.h"

#include <string.h>

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

int
main (int    argc,
      char **argv)
{
  mr_test_init (&argc, &argv);
  g_test_add_func ("/domains/good", test_good);
  g_test_add_func ("/domains/bad", test_bad);
  g_test_add_func ("/domains/partly", test_partly);
  g_test_add_func ("/domains/server", test_server);
  g_test_add_func ("/domains/open-and-unreachable", test_open_and_unreachable);
  g_test_add_func ("/domains/bulk-rules", test_bulk_rules);
  g_test_add ("/domains/cli", MrTestDirs, NULL, mr_test_dirs_setup, test_cli, mr_test_dirs_teardown);
  g_test_add ("/domains/proof", MrTestDirs, NULL, mr_test_dirs_setup, test_proof, mr_test_dirs_teardown);
  return g_test_run ();
}
