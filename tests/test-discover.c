/* test-discover.c: finding the outgoing server from an email address (mr-discover.h)
 *
 * DNS is the tests' own resolver (mr_standin_add_dns_record()), and autoconfig documents come from
 * the HTTPS stand-in, which checks nothing but the path and the host asked for: that is all a
 * domain's web server sees of it.
 */

#include "config.h"

#include <string.h>

#include "mr-discover.h"
#include "mr-presets.h"
#include "mr-settings-error.h"
#include "mr-standin.h"
#include "mr-test-utils.h"

static MrStandin *standin;

static MrDiscoverOptions *
options_for_standin (void)
{
  static MrDiscoverOptions options;
  g_autofree char *ca = mr_test_cert_path ("ca.pem");

  options.https_port = mr_standin_get_port (standin);
  if (options.tls_database == NULL)
    options.tls_database = g_tls_file_database_new (ca, NULL);
  return &options;
}

static MrDiscovery *
discover (const char *address)
{
  g_autoptr(GError) error = NULL;
  MrDiscovery *discovery = mr_discover_sync (address, options_for_standin (), NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (discovery);
  return discovery;
}

static gboolean
steps_say (MrDiscovery *discovery,
           const char  *fragment)
{
  for (guint i = 0; i < discovery->steps->len; i++)
    if (strstr (g_ptr_array_index (discovery->steps, i), fragment) != NULL)
      return TRUE;
  return FALSE;
}

/* 1: the presets by domain, before any lookup. */
static void
test_presets_by_domain (void)
{
  g_autoptr(MrDiscovery) gmail = discover ("ann@googlemail.com");
  g_autoptr(MrDiscovery) outlook = discover ("bob@Hotmail.com");
  g_autoptr(MrDiscovery) tenant = discover ("cat@contoso.onmicrosoft.com");

  g_assert_cmpint (gmail->source, ==, MR_DISCOVER_PRESET);
  g_assert_cmpstr (gmail->provider, ==, "gmail");
  g_assert_cmpstr (gmail->host, ==, "smtp.gmail.com");
  g_assert_cmpuint (gmail->port, ==, 587);
  g_assert_cmpstr (gmail->security, ==, "starttls");
  g_assert_cmpstr (gmail->username, ==, "ann@googlemail.com");
  g_assert_cmpuint (gmail->steps->len, ==, 1);
  /* Outlook.com's own addresses are the personal service, not an Office 365 tenant. */
  g_assert_cmpstr (outlook->provider, ==, "outlook");
  g_assert_cmpstr (outlook->host, ==, "smtp-mail.outlook.com");
  g_assert_cmpstr (outlook->auth, ==, "oauth2");
  g_assert_cmpstr (tenant->provider, ==, "office365");
  g_assert_cmpstr (tenant->host, ==, "smtp.office365.com");
}

/* 2: the domain's mail exchangers name the provider, the most preferred first. */
static void
test_mx (void)
{
  mr_standin_add_dns_record (standin, "MX", "contoso.example.net", "contoso-example-net.mail.protection.outlook.com.", 0);
  mr_standin_add_dns_record (standin, "MX", "workspace.example.net", "alt1.aspmx.l.google.com", 5);
  mr_standin_add_dns_record (standin, "MX", "workspace.example.net", "aspmx.l.google.com.", 1);
  mr_standin_add_dns_record (standin, "MX", "zoho.example.net", "mx.zoho.eu", 10);
  mr_standin_add_dns_record (standin, "MX", "ses.example.net", "inbound-smtp.eu-west-1.amazonaws.com", 10);
  {
    g_autoptr(MrDiscovery) office = discover ("ann@contoso.example.net");
    g_autoptr(MrDiscovery) google = discover ("ann@workspace.example.net");
    g_autoptr(MrDiscovery) zoho = discover ("ann@zoho.example.net");
    g_autoptr(MrDiscovery) ses = discover ("ann@ses.example.net");

    g_assert_cmpint (office->source, ==, MR_DISCOVER_MX);
    g_assert_cmpstr (office->provider, ==, "office365");
    g_assert_cmpstr (office->host, ==, "smtp.office365.com");
    g_assert_nonnull (strstr (office->found_by, "Office 365"));
    g_assert_nonnull (strstr (office->found_by, "mail.protection.outlook.com"));
    g_assert_cmpstr (google->provider, ==, "gmail");
    g_assert_nonnull (strstr (google->found_by, "aspmx.l.google.com"));
    g_assert_cmpstr (zoho->provider, ==, "zoho");
    g_assert_cmpstr (ses->provider, ==, "ses");
    g_assert_cmpstr (ses->provider_name, ==, "Amazon SES (eu-west-1)");
    g_assert_cmpstr (ses->host, ==, "email-smtp.eu-west-1.amazonaws.com");
    g_assert_cmpuint (ses->port, ==, 587);
  }
}

/* 3: RFC 6186, TLS before STARTTLS; a target of "." says the service is not there. */
static void
test_srv (void)
{
  mr_standin_add_dns_record (standin, "MX", "srv.example.net", "mx.srv.example.net", 10);
  mr_standin_add_dns_record (standin, "SRV", "_submissions._tcp.srv.example.net", ".", 0);
  mr_standin_add_dns_record (standin, "SRV", "_submission._tcp.srv.example.net", "mail.srv.example.net.", 587);
  mr_standin_add_dns_record (standin, "SRV", "_submissions._tcp.tls.example.net", "smtp.tls.example.net", 465);
  {
    g_autoptr(MrDiscovery) starttls = discover ("ann@srv.example.net");
    g_autoptr(MrDiscovery) tls = discover ("ann@tls.example.net");

    g_assert_cmpint (starttls->source, ==, MR_DISCOVER_SRV);
    g_assert_cmpstr (starttls->host, ==, "mail.srv.example.net");
    g_assert_cmpuint (starttls->port, ==, 587);
    g_assert_cmpstr (starttls->security, ==, "starttls");
    g_assert_true (steps_say (starttls, "mx.srv.example.net, not a provider Mailroom knows"));
    g_assert_true (steps_say (starttls, "_submissions._tcp.srv.example.net: the service is not offered"));
    g_assert_cmpstr (tls->host, ==, "smtp.tls.example.net");
    g_assert_cmpuint (tls->port, ==, 465);
    g_assert_cmpstr (tls->security, ==, "tls");
  }
}

static const char autoconfig_document[] =
  "<?xml version=\"1.0\"?>\n"
  "<clientConfig version=\"1.1\"><emailProvider id=\"example.test\">"
  "<domain>example.test</domain><displayName>Example Mail</displayName>"
  "<incomingServer type=\"imap\"><hostname>imap.example.test</hostname><port>993</port>"
  "<socketType>SSL</socketType><authentication>password-cleartext</authentication></incomingServer>"
  "<outgoingServer type=\"smtp\"><hostname>plain.%EMAILDOMAIN%</hostname><port>25</port>"
  "<socketType>plain</socketType><authentication>password-cleartext</authentication></outgoingServer>"
  "<outgoingServer type=\"smtp\"><hostname>smtp.%EMAILDOMAIN%</hostname><port>587</port>"
  "<socketType>STARTTLS</socketType><authentication>password-cleartext</authentication>"
  "<username>%EMAILLOCALPART%</username></outgoingServer>"
  "</emailProvider></clientConfig>\n";

/* 4: the domain's autoconfig document over https, the encrypted server chosen, the placeholders
 * filled in; a redirect is not followed (it could lead to http), the well-known address is tried. */
static void
test_autoconfig (void)
{
  g_autoptr(MrDiscovery) found = NULL;
  g_autoptr(MrDiscovery) second = NULL;

  mr_standin_set_autoconfig (standin, "autoconfig.example.test", "/mail/config-v1.1.xml", autoconfig_document);
  found = discover ("ann@example.test");
  g_assert_cmpint (found->source, ==, MR_DISCOVER_AUTOCONFIG);
  g_assert_cmpstr (found->provider_name, ==, "Example Mail");
  g_assert_cmpstr (found->host, ==, "smtp.example.test");
  g_assert_cmpuint (found->port, ==, 587);
  g_assert_cmpstr (found->security, ==, "starttls");
  g_assert_cmpstr (found->username, ==, "ann");
  g_assert_nonnull (strstr (found->found_by, "https://autoconfig.example.test:"));

  /* The first address redirects elsewhere: not followed; the well-known one answers. */
  mr_standin_set_autoconfig (standin, "autoconfig.example.test", "/mail/config-v1.1.xml", "redirect:http://evil.example.net/x");
  mr_standin_set_autoconfig (standin, "example.test", "/.well-known/autoconfig/mail/config-v1.1.xml", autoconfig_document);
  second = discover ("bob@example.test");
  g_assert_cmpint (second->source, ==, MR_DISCOVER_AUTOCONFIG);
  g_assert_true (steps_say (second, "302"));
  g_assert_nonnull (strstr (second->found_by, "/.well-known/autoconfig/"));
  g_assert_cmpstr (second->username, ==, "bob");
  {
    g_autoptr(GPtrArray) requests = mr_standin_get_requests (standin, NULL);

    for (guint i = 0; i < requests->len; i++)
      {
        MrStandinRequest *request = g_ptr_array_index (requests, i);

        /* Never a password, nor even the address, to the domain's web server. */
        g_assert_null (request->authorization);
        g_assert_cmpuint (g_bytes_get_size (request->body), ==, 0);
      }
  }
}

/* The document alone: TLS and OAuth2 read as such; a document with its own entities (which could
 * expand without end) is not taken. */
static void
test_autoconfig_document (void)
{
  static const char oauth[] =
    "<clientConfig><emailProvider><outgoingServer type=\"smtp\"><hostname>mail.%EMAILDOMAIN%</hostname>"
    "<port>465</port><socketType>SSL</socketType><authentication>OAuth2</authentication>"
    "<username>%EMAILADDRESS%</username></outgoingServer></emailProvider></clientConfig>";
  static const char entities[] =
    "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]>"
    "<clientConfig><emailProvider><outgoingServer type=\"smtp\"><hostname>&b;</hostname><port>587</port>"
    "<socketType>STARTTLS</socketType></outgoingServer></emailProvider></clientConfig>";
  g_autoptr(MrDiscovery) found = mr_discovery_from_autoconfig (oauth, sizeof oauth - 1, "ann@example.org");

  g_assert_nonnull (found);
  g_assert_cmpstr (found->host, ==, "mail.example.org");
  g_assert_cmpuint (found->port, ==, 465);
  g_assert_cmpstr (found->security, ==, "tls");
  g_assert_cmpstr (found->auth, ==, "oauth2");
  g_assert_cmpstr (found->username, ==, "ann@example.org");
  g_assert_null (mr_discovery_from_autoconfig (entities, sizeof entities - 1, "ann@example.org"));
  g_assert_null (mr_discovery_from_autoconfig ("not xml", 7, "ann@example.org"));
}

/* 5: nothing found, said step by step, and "Other" to fill in; an address that is not one. */
static void
test_nothing_found (void)
{
  g_autoptr(MrDiscovery) none = discover ("ann@nothing.example.net");
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (none->source, ==, MR_DISCOVER_NONE);
  g_assert_cmpstr (none->provider, ==, "other");
  g_assert_null (none->host);
  g_assert_cmpuint (none->steps->len, ==, 6);
  g_assert_true (steps_say (none, "Mail exchangers (MX) of nothing.example.net"));
  g_assert_true (steps_say (none, "_submission._tcp.nothing.example.net"));
  g_assert_true (steps_say (none, "https://autoconfig.nothing.example.net"));
  g_assert_null (mr_discover_sync ("not an address", NULL, NULL, &error));
  g_assert_error (error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_INVALID_VALUE);
}

/* Saving: the admin's company settings; a clerk's own, leaving the company's locks alone. */
static void
test_apply (MrTestDirs    *dirs,
            gconstpointer  data)
{
  g_autoptr(MrSettings) settings = mr_settings_new (NULL, NULL);
  g_autoptr(MrDiscovery) office = NULL;
  g_autoptr(GError) error = NULL;

  mr_standin_add_dns_record (standin, "MX", "fabrikam.example.net", "fabrikam-example-net.mail.protection.outlook.com", 0);
  office = discover ("admin@fabrikam.example.net");
  g_assert_true (mr_settings_load (settings, &error));
  g_assert_true (mr_discovery_apply (office, settings, MR_SCOPE_COMPANY, "admin@fabrikam.example.net", &error));
  g_assert_no_error (error);
  mr_assert_cmpstr_free (mr_settings_dup_effective_string (settings, NULL, "smtp.provider"), ==, "office365");
  mr_assert_cmpstr_free (mr_settings_dup_effective_string (settings, NULL, "smtp.host"), ==, "smtp.office365.com");
  mr_assert_cmpstr_free (mr_settings_dup_effective_string (settings, NULL, "smtp.username"), ==, "admin@fabrikam.example.net");
  mr_assert_cmpstr_free (mr_settings_dup_effective_string (settings, NULL, "sender.from_address"), ==,
                         "admin@fabrikam.example.net");

  /* A clerk, in a company that fixes the server and has each person log in: their address and
   * login, not the server. */
  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "smtp.credentials", "per-user");
  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "locks", "[\"smtp.host\", \"smtp.port\", \"smtp.security\"]");
  {
    g_autoptr(MrDiscovery) own = discover ("clerk@googlemail.com");

    g_assert_true (mr_discovery_apply (own, settings, MR_SCOPE_USER, "clerk@googlemail.com", &error));
    g_assert_no_error (error);
    mr_assert_cmpstr_free (mr_settings_dup_effective_string (settings, NULL, "user.email"), ==, "clerk@googlemail.com");
    mr_assert_cmpstr_free (mr_settings_dup_effective_string (settings, NULL, "smtp.username"), ==, "clerk@googlemail.com");
    mr_assert_cmpstr_free (mr_settings_dup_effective_string (settings, NULL, "smtp.host"), ==, "smtp.office365.com");
  }
}

/* Who logs in: one company login, or each person's own (the admin's then in their own layer, and
 * the company's login name gone, so that nobody inherits it). */
static void
test_apply_login (MrTestDirs    *dirs,
                  gconstpointer  data)
{
  g_autoptr(MrSettings) settings = mr_settings_new (NULL, NULL);
  g_autoptr(MrDiscovery) office = NULL;
  g_autoptr(MrSecretAccount) account = NULL;
  g_autoptr(GError) error = NULL;
  MrScope password_scope = MR_SCOPE_USER;

  mr_standin_add_dns_record (standin, "MX", "tailspin.example.net", "tailspin-example-net.mail.protection.outlook.com", 0);
  office = discover ("admin@tailspin.example.net");
  g_assert_true (mr_settings_load (settings, &error));
  g_assert_true (mr_discovery_apply (office, settings, MR_SCOPE_COMPANY, "admin@tailspin.example.net", &error));

  /* An empty login name is refused, in words. */
  g_assert_false (mr_discovery_apply_login (settings, MR_SCOPE_COMPANY, FALSE, "admin@tailspin.example.net", "",
                                            &password_scope, &error));
  g_assert_error (error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_INVALID_VALUE);
  g_assert_cmpstr (error->message, ==, "Enter the login name first");
  g_clear_error (&error);

  g_assert_true (mr_discovery_apply_login (settings, MR_SCOPE_COMPANY, FALSE, "admin@tailspin.example.net", "mailer",
                                           &password_scope, &error));
  g_assert_no_error (error);
  g_assert_cmpint (password_scope, ==, MR_SCOPE_COMPANY);
  mr_assert_cmpstr_free (mr_settings_dup_effective_string (settings, NULL, "smtp.credentials"), ==, "company");
  mr_assert_cmpstr_free (mr_settings_dup_effective_string (settings, NULL, "smtp.username"), ==, "mailer");
  account = mr_settings_get_account (settings, password_scope, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (account->user, ==, "mailer");
  g_clear_pointer (&account, mr_secret_account_free);

  g_assert_true (mr_discovery_apply_login (settings, MR_SCOPE_COMPANY, TRUE, "admin@tailspin.example.net", "admin",
                                           &password_scope, &error));
  g_assert_no_error (error);
  g_assert_cmpint (password_scope, ==, MR_SCOPE_USER);
  mr_assert_cmpstr_free (mr_settings_dup_effective_string (settings, NULL, "smtp.credentials"), ==, "per-user");
  g_assert_null (mr_settings_file_get (mr_settings_get_company (settings), "smtp.username"));
  mr_assert_cmpstr_free (mr_settings_dup_effective_string (settings, NULL, "smtp.username"), ==, "admin");
  mr_assert_cmpstr_free (mr_settings_dup_effective_string (settings, NULL, "user.email"), ==, "admin@tailspin.example.net");
  account = mr_settings_get_account (settings, password_scope, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (account->scope, ==, MR_SECRET_SCOPE_USER);
  g_assert_cmpstr (account->user, ==, "admin");
}

/* `mailroom-cli setup`: what was found and from where, and --save. */
static void
test_cli (MrTestDirs    *dirs,
          gconstpointer  data)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(JsonNode) report = NULL;
  JsonObject *object;

  g_assert_cmpint (mr_test_run_cli (&out, &err, "setup", "office@gmail.com", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "Addresses at gmail.com are Gmail addresses"));
  g_assert_nonnull (strstr (out, "smtp.gmail.com, port 587"));
  g_assert_nonnull (strstr (out, "Nothing was saved"));
  g_assert_false (g_file_test (dirs->company_path, G_FILE_TEST_EXISTS));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (mr_test_run_cli (&out, &err, "setup", "office@gmail.com", "--save", "--json", NULL), ==, 0);
  report = json_from_string (out, NULL);
  object = json_node_get_object (report);
  g_assert_cmpstr (json_object_get_string_member (object, "source"), ==, "preset");
  g_assert_cmpstr (json_object_get_string_member (object, "provider"), ==, "gmail");
  g_assert_cmpstr (json_object_get_string_member (object, "saved"), ==, "company");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (object, "steps")), ==, 1);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (mr_test_run_cli (&out, &err, "company", "get", "smtp.host", NULL), ==, 0);
  g_assert_cmpstr (g_strstrip (out), ==, "smtp.gmail.com");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (mr_test_run_cli (&out, &err, "--json", "setup", "not-an-address", NULL), ==, 65);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (mr_test_run_cli (&out, &err, "setup", NULL), ==, 64);
}

int
main (int    argc,
      char **argv)
{
  int status;

  mr_test_init (&argc, &argv);
  standin = mr_standin_start ();
  mr_standin_use_fake_dns (standin);

  g_test_add_func ("/discover/presets-by-domain", test_presets_by_domain);
  g_test_add_func ("/discover/mx", test_mx);
  g_test_add_func ("/discover/srv", test_srv);
  g_test_add_func ("/discover/autoconfig", test_autoconfig);
  g_test_add_func ("/discover/autoconfig-document", test_autoconfig_document);
  g_test_add_func ("/discover/nothing-found", test_nothing_found);
#define ADD(path, func) g_test_add (path, MrTestDirs, NULL, mr_test_dirs_setup, func, mr_test_dirs_teardown)
  ADD ("/discover/apply", test_apply);
  ADD ("/discover/apply-login", test_apply_login);
  ADD ("/discover/cli", test_cli);
#undef ADD

  status = g_test_run ();
  mr_standin_stop (standin);
  return status;
}
