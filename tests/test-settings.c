/* test-settings.c: the two settings layers, their files and the rules between them */

#include "config.h"

#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mr-delivery.h"
#include "mr-error.h"
#include "mr-settings.h"
#include "mr-test-utils.h"

static MrSettings *
load_settings (MrTestDirs *dirs)
{
  g_autoptr(GError) error = NULL;
  MrSettings *settings = mr_settings_new (NULL, NULL);

  mr_settings_load (settings, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (mr_settings_file_get_path (mr_settings_get_company (settings)), ==, dirs->company_path);
  g_assert_cmpstr (mr_settings_file_get_path (mr_settings_get_user (settings)), ==, dirs->user_path);
  return settings;
}


static void
test_missing_files_are_empty (MrTestDirs    *dirs,
                              gconstpointer  data)
{
  g_autoptr(MrSettings) settings = load_settings (dirs);
  MrOrigin origin;
  JsonNode *port = mr_settings_get_effective (settings, NULL, "smtp.port", &origin);

  g_assert_cmpint (json_node_get_int (port), ==, 587);
  g_assert_cmpint (origin, ==, MR_ORIGIN_DEFAULT);
  g_assert_false (g_file_test (dirs->company_path, G_FILE_TEST_EXISTS));
  g_assert_true (mr_settings_can_edit_company (settings));
}

static void
test_round_trip_and_modes (MrTestDirs    *dirs,
                           gconstpointer  data)
{
  g_autoptr(MrSettings) settings = load_settings (dirs);
  g_autoptr(MrSettings) again = NULL;
  g_autofree char *user_dir = g_path_get_dirname (dirs->user_path);
  struct stat st;

  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "smtp.host", "smtp.example.com");
  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "smtp.port", "465");
  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "apps.marketing.sender.from_name", "Example News");
  mr_test_set_ok (settings, MR_SCOPE_USER, "user.name", "Jürgen Müller");
  mr_test_set_ok (settings, MR_SCOPE_USER, "user.email", "jm@example.com");

  g_assert_cmpint (g_stat (dirs->user_path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_assert_cmpint (g_stat (user_dir, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0700);
  g_assert_cmpint (g_stat (dirs->company_path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0644);

  again = load_settings (dirs);
  mr_assert_cmpstr_free (mr_settings_dup_effective_string (again, NULL, "smtp.host"), ==, "smtp.example.com");
  g_assert_cmpint (mr_settings_get_effective_int (again, NULL, "smtp.port"), ==, 465);
  g_assert_cmpstr (mr_settings_file_get_string (mr_settings_get_user (again), "user.name"), ==, "Jürgen Müller");
  g_assert_true (mr_settings_file_has_app (mr_settings_get_company (again), "marketing"));

  {
    g_autofree char *text = mr_test_read_file (dirs->company_path);
    g_assert_nonnull (strstr (text, "\"schema_version\" : 1"));
    g_assert_nonnull (strstr (text, "\"marketing\""));
  }
}

static void
test_company_folder_created (MrTestDirs    *dirs,
                             gconstpointer  data)
{
  g_autofree char *nested = g_build_filename (dirs->root, "etc2", "xdg", "mailroom", "company.json", NULL);
  g_autoptr(MrSettings) settings = mr_settings_new (nested, dirs->user_path);
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_path_get_dirname (nested);
  struct stat st;

  g_assert_true (mr_settings_load (settings, &error));
  g_assert_true (mr_settings_can_edit_company (settings));
  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "smtp.host", "smtp.example.com");
  g_assert_cmpint (g_stat (dir, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0755);
  g_assert_true (g_file_test (nested, G_FILE_TEST_IS_REGULAR));

  if (getuid () != 0)
    {
      /* Under a parent this user may not write, nobody but the admin can create it. */
      g_autoptr(MrSettings) other = NULL;
      g_autofree char *locked_parent = g_build_filename (dirs->root, "ro", NULL);
      g_autofree char *under = g_build_filename (locked_parent, "xdg", "mailroom", "company.json", NULL);

      g_mkdir (locked_parent, 0555);
      other = mr_settings_new (under, dirs->user_path);
      g_assert_true (mr_settings_load (other, NULL));
      g_assert_false (mr_settings_can_edit_company (other));
      g_chmod (locked_parent, 0755);
    }
}

static void
test_company_mode_is_kept (MrTestDirs    *dirs,
                           gconstpointer  data)
{
  g_autoptr(MrSettings) settings = NULL;
  struct stat st;

  mr_test_write_file (dirs->company_path, "{\"schema_version\": 1, \"settings\": {}}");
  g_chmod (dirs->company_path, 0664);
  settings = load_settings (dirs);
  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "smtp.host", "smtp.example.com");
  g_assert_cmpint (g_stat (dirs->company_path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0664);
}

static void
test_corrupt_file (MrTestDirs    *dirs,
                   gconstpointer  data)
{
  static const struct { const char *contents; const char *says; } cases[] = {
    { "{\n  \"schema_version\": 1,\n  \"settings\": {\n    \"smtp.host\": \"smtp.exa", "line 4" },
    { "", "empty" },
    { "[1, 2]", "JSON object" },
    { "{\"settings\": {}}", "schema_version" },
    { "{\"schema_version\": 9, \"settings\": {}}", "newer Mailroom" },
    { "{\"schema_version\": 1, \"settings\": {\"smtp.port\": 70000}}", "smtp.port" },
    { "{\"schema_version\": 1, \"settings\": {\"smtp.colour\": \"red\"}}", "smtp.colour" },
    { "{\"schema_version\": 1, \"settings\": {\"user.name\": \"x\"}}", "personal setting" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(MrSettings) settings = mr_settings_new (NULL, NULL);
      g_autoptr(GError) error = NULL;

      mr_test_write_file (dirs->company_path, cases[i].contents);
      g_assert_false (mr_settings_load (settings, &error));
      mr_assert_error_kind (error, "file-corrupt");
      g_assert_nonnull (strstr (error->message, dirs->company_path));
      if (strstr (error->message, cases[i].says) == NULL)
        g_error ("Case %u: the message does not say “%s”: %s", i, cases[i].says, error->message);
      g_assert_cmpint (mr_error_get_exit_status (error), ==, 65);

      /* Nothing overwrites it: a later save is refused until it is fixed. */
      mr_assert_file_contents (dirs->company_path, cases[i].contents);
    }

  /* Hostile and odd files: whitespace or a comment only ("empty", where json-glib gives no root and
   * no error), and nesting 100,000 deep (json-glib's parser recursed until the stack overflowed). */
  {
    GString *deep = g_string_new ("{\"schema_version\": 1, \"settings\": {\"smtp.host\": ");
    const char *says[] = { "empty", "empty", "nested more than 64 levels deep" };
    char *contents[3];

    for (guint i = 0; i < 100000; i++)
      g_string_append_c (deep, '[');
    for (guint i = 0; i < 100000; i++)
      g_string_append_c (deep, ']');
    g_string_append (deep, "}}");
    contents[0] = g_strdup (" \n\t \n");
    contents[1] = g_strdup ("/* nothing here yet */\n");
    contents[2] = g_string_free (deep, FALSE);
    for (guint i = 0; i < G_N_ELEMENTS (contents); i++)
      {
        g_autoptr(MrSettings) settings = mr_settings_new (NULL, NULL);
        g_autoptr(GError) error = NULL;

        mr_test_write_file (dirs->company_path, contents[i]);
        g_assert_false (mr_settings_load (settings, &error));
        mr_assert_error_kind (error, "file-corrupt");
        if (strstr (error->message, says[i]) == NULL)
          g_error ("Odd case %u: the message does not say “%s”: %s", i, says[i], error->message);
        g_free (contents[i]);
      }
  }
}

static void
test_unreadable_file (MrTestDirs    *dirs,
                      gconstpointer  data)
{
  g_autoptr(MrSettings) settings = mr_settings_new (NULL, NULL);
  g_autoptr(GError) error = NULL;

  if (getuid () == 0)
    {
      g_test_skip ("root reads any file: run as an unprivileged user (make test does)");
      return;
    }

  mr_test_write_file (dirs->company_path, "{\"schema_version\": 1, \"settings\": {}}");
  g_chmod (dirs->company_path, 0000);
  g_assert_false (mr_settings_load (settings, &error));
  mr_assert_error_kind (error, "file-unreadable");
  g_assert_nonnull (strstr (error->message, "permission denied"));
  g_assert_cmpint (mr_error_get_exit_status (error), ==, 66);
}

static void
test_company_not_writable (MrTestDirs    *dirs,
                           gconstpointer  data)
{
  const char *original = "{\"schema_version\": 1, \"settings\": {\"smtp.host\": \"smtp.example.com\"}}";
  g_autoptr(MrSettings) settings = NULL;
  g_autoptr(GError) error = NULL;

  if (getuid () == 0)
    {
      g_test_skip ("root writes any file: run as an unprivileged user (make test does)");
      return;
    }

  mr_test_write_file (dirs->company_path, original);
  g_chmod (dirs->company_path, 0644);
  g_chmod (dirs->etc, 0555);
  settings = load_settings (dirs);
  g_assert_false (mr_settings_can_edit_company (settings));

  g_assert_false (mr_settings_set_and_commit (settings, MR_SCOPE_COMPANY, "smtp.port", "25", NULL, &error));
  mr_assert_error_kind (error, "file-unwritable");
  g_assert_nonnull (strstr (error->message, "administrator"));
  g_assert_cmpint (mr_error_get_exit_status (error), ==, 77);
  mr_assert_file_contents (dirs->company_path, original);

  /* A writable file in a read-only folder cannot be replaced atomically either. */
  g_chmod (dirs->company_path, 0666);
  g_assert_false (mr_settings_can_edit_company (settings));
  g_chmod (dirs->etc, 0755);
  g_assert_true (mr_settings_can_edit_company (settings));
}

static void
test_rejected_change_writes_nothing (MrTestDirs    *dirs,
                                     gconstpointer  data)
{
  g_autoptr(MrSettings) settings = load_settings (dirs);
  g_autofree char *before_company = NULL;
  g_autofree char *before_user = NULL;
  static const struct { MrScope scope; const char *key, *value, *kind; } bad[] = {
    { MR_SCOPE_COMPANY, "smtp.port", "0", "invalid-value" },
    { MR_SCOPE_COMPANY, "smtp.port", "70000", "invalid-value" },
    { MR_SCOPE_COMPANY, "smtp.port", "abc", "invalid-value" },
    { MR_SCOPE_COMPANY, "smtp.host", "", "invalid-value" },
    { MR_SCOPE_COMPANY, "smtp.host", "smtp example.com", "invalid-value" },
    { MR_SCOPE_COMPANY, "smtp.host", "smtp\x07.example.com", "invalid-value" },
    { MR_SCOPE_COMPANY, "sender.from_name", "Eve\r\nBcc: all@example.com", "invalid-value" },
    { MR_SCOPE_COMPANY, "sender.from_address", "a@@b", "invalid-value" },
    { MR_SCOPE_COMPANY, "sender.from_address", "\"x\" <>", "invalid-value" },
    { MR_SCOPE_COMPANY, "sender.from_address", "no-at-sign", "invalid-value" },
    { MR_SCOPE_COMPANY, "sender.from_address", "bob@unverified.example", "invalid-value" },
    { MR_SCOPE_COMPANY, "smtp.nonsense", "1", "unknown-key" },
    { MR_SCOPE_COMPANY, "user.email", "a@example.com", "unknown-key" },
    { MR_SCOPE_USER, "domains.verified", "[]", "unknown-key" },
    { MR_SCOPE_USER, "smtp.host", "mine.example.com", "key-locked" },
    { MR_SCOPE_USER, "user.name", "Line\nbreak", "invalid-value" },
  };

  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "smtp.host", "smtp.example.com");
  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "domains.verified", "[\"example.com\"]");
  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "locks", "[\"smtp.host\"]");
  mr_test_set_ok (settings, MR_SCOPE_USER, "user.name", "Ann");
  before_company = mr_test_read_file (dirs->company_path);
  before_user = mr_test_read_file (dirs->user_path);

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;

      if (mr_settings_set_and_commit (settings, bad[i].scope, bad[i].key, bad[i].value, NULL, &error))
        g_error ("%s = %s was accepted", bad[i].key, bad[i].value);
      mr_assert_error_kind (error, bad[i].kind);
      g_assert_nonnull (strstr (error->message, bad[i].key));
      mr_assert_file_contents (dirs->company_path, before_company);
      mr_assert_file_contents (dirs->user_path, before_user);
    }

  /* The in-memory layers did not change either. */
  mr_assert_cmpstr_free (mr_settings_dup_effective_string (settings, NULL, "smtp.host"), ==, "smtp.example.com");
}

static void
test_effective_resolution (MrTestDirs    *dirs,
                           gconstpointer  data)
{
  g_autoptr(MrSettings) settings = load_settings (dirs);
  MrOrigin origin;
  JsonNode *value;

  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "sender.from_name", "Example Ltd");
  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "apps.marketing.sender.from_name", "Example News");
  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "apps.reports.smtp.port", "2525");

  value = mr_settings_get_effective (settings, "marketing", "sender.from_name", &origin);
  g_assert_cmpstr (json_node_get_string (value), ==, "Example News");
  g_assert_cmpint (origin, ==, MR_ORIGIN_APP);

  /* An application without its own value falls back to the company default. */
  value = mr_settings_get_effective (settings, "reports", "sender.from_name", &origin);
  g_assert_cmpstr (json_node_get_string (value), ==, "Example Ltd");
  g_assert_cmpint (origin, ==, MR_ORIGIN_COMPANY);
  value = mr_settings_get_effective (settings, "contacts", "sender.from_name", &origin);
  g_assert_cmpstr (json_node_get_string (value), ==, "Example Ltd");

  /* A user's own value wins, unless the company locks the key. */
  mr_test_set_ok (settings, MR_SCOPE_USER, "sender.from_name", "Ann at Example");
  value = mr_settings_get_effective (settings, "marketing", "sender.from_name", &origin);
  g_assert_cmpstr (json_node_get_string (value), ==, "Ann at Example");
  g_assert_cmpint (origin, ==, MR_ORIGIN_USER);

  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "locks", "[\"sender.from_name\"]");
  value = mr_settings_get_effective (settings, NULL, "sender.from_name", &origin);
  g_assert_cmpstr (json_node_get_string (value), ==, "Example Ltd");
  g_assert_cmpint (origin, ==, MR_ORIGIN_COMPANY);
  {
    g_autofree char *reason = mr_settings_get_lock_reason (settings, NULL, "sender.from_name");
    g_assert_cmpstr (reason, ==, "Locked by your administrator");
  }

  /* The stale locked value does not block other changes of the user's. */
  mr_test_set_ok (settings, MR_SCOPE_USER, "user.email", "ann@example.com");
}

static void
test_credentials (MrTestDirs    *dirs,
                  gconstpointer  data)
{
  g_autoptr(MrSettings) settings = load_settings (dirs);
  g_autoptr(GError) error = NULL;
  g_autoptr(MrSecretAccount) account = NULL;

  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "smtp.host", "smtp.example.com");
  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "smtp.username", "office@example.com");

  /* Company credentials: the user has no login of their own. */
  g_assert_false (mr_settings_set_and_commit (settings, MR_SCOPE_USER, "smtp.username", "ann", NULL, &error));
  mr_assert_error_kind (error, "key-locked");
  g_clear_error (&error);
  account = mr_settings_get_account (settings, MR_SCOPE_COMPANY, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (account->user, ==, "office@example.com");
  g_assert_cmpint (account->scope, ==, MR_SECRET_SCOPE_COMPANY);
  g_assert_null (mr_settings_get_account (settings, MR_SCOPE_USER, NULL, &error));
  mr_assert_error_kind (error, "key-locked");
  g_clear_error (&error);
  g_clear_pointer (&account, mr_secret_account_free);

  /* Per-user credentials: the user's login, and never the company's. */
  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "smtp.credentials", "per-user");
  mr_assert_cmpstr_free (mr_settings_dup_effective_string (settings, NULL, "smtp.username"), ==, "");
  g_assert_null (mr_settings_get_account (settings, MR_SCOPE_USER, NULL, &error));
  mr_assert_error_kind (error, "invalid-value");
  g_assert_nonnull (strstr (error->message, "My Settings"));
  g_clear_error (&error);
  mr_test_set_ok (settings, MR_SCOPE_USER, "smtp.username", "ann@example.com");
  account = mr_settings_get_account (settings, MR_SCOPE_USER, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (account->user, ==, "ann@example.com");
  g_assert_cmpstr (account->host, ==, "smtp.example.com");
  g_assert_cmpint (account->scope, ==, MR_SECRET_SCOPE_USER);
}

static void
test_presets (MrTestDirs    *dirs,
              gconstpointer  data)
{
  g_autoptr(MrSettings) settings = load_settings (dirs);
  g_autoptr(GError) error = NULL;
  g_autofree char *reason = NULL;

  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "smtp.provider", "gmail");
  mr_assert_cmpstr_free (mr_settings_dup_effective_string (settings, NULL, "smtp.host"), ==, "smtp.gmail.com");
  g_assert_cmpint (mr_settings_get_effective_int (settings, NULL, "smtp.port"), ==, 587);
  mr_assert_cmpstr_free (mr_settings_dup_effective_string (settings, NULL, "smtp.security"), ==, "starttls");
  g_assert_cmpuint (mr_preset_get_port_for_security (mr_preset_lookup ("gmail"), "tls"), ==, 465);
  g_assert_cmpuint (mr_preset_get_port_for_security (mr_preset_lookup ("zoho"), "tls"), ==, 465);

  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "smtp.provider", "office365");
  mr_assert_cmpstr_free (mr_settings_dup_effective_string (settings, NULL, "smtp.host"), ==, "smtp.office365.com");

  /* The relay: host from the sender domain, no login, security and auth fixed. */
  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "sender.from_address", "office@example.co.uk");
  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "smtp.provider", "office365-relay");
  mr_assert_cmpstr_free (mr_settings_dup_effective_string (settings, NULL, "smtp.host"), ==,
                   "example-co-uk.mail.protection.outlook.com");
  g_assert_cmpint (mr_settings_get_effective_int (settings, NULL, "smtp.port"), ==, 25);
  mr_assert_cmpstr_free (mr_settings_dup_effective_string (settings, NULL, "smtp.auth"), ==, "none");
  g_assert_false (mr_settings_set_and_commit (settings, MR_SCOPE_COMPANY, "smtp.auth", "password", NULL, &error));
  mr_assert_error_kind (error, "invalid-value");
  g_assert_nonnull (strstr (error->message, "no login"));
  g_clear_error (&error);
  g_assert_false (mr_settings_set_and_commit (settings, MR_SCOPE_COMPANY, "smtp.security", "none", NULL, &error));
  mr_assert_error_kind (error, "invalid-value");
  g_clear_error (&error);
  reason = mr_settings_get_lock_reason (settings, NULL, "smtp.auth");
  g_assert_nonnull (strstr (reason, "Office 365 relay"));
  g_assert_false (mr_settings_set_and_commit (settings, MR_SCOPE_USER, "smtp.auth", "password", NULL, &error));
  mr_assert_error_kind (error, "key-locked");
  g_clear_error (&error);

  /* The host follows a new sender domain. */
  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "sender.from_address", "office@example.com");
  mr_assert_cmpstr_free (mr_settings_dup_effective_string (settings, NULL, "smtp.host"), ==,
                   "example-com.mail.protection.outlook.com");

  /* Amazon SES: a server per region, the default one first; a region chosen stays when the
   * provider is chosen again. */
  {
    const MrPreset *ses = mr_preset_lookup ("ses");
    const char * const *regions = mr_preset_get_region_ids (ses);

    g_assert_nonnull (regions);
    g_assert_true (g_strv_contains (regions, "eu-west-1"));
    g_assert_cmpstr (mr_preset_get_region_host (ses, "eu-west-1"), ==, "email-smtp.eu-west-1.amazonaws.com");
    g_assert_cmpstr (mr_preset_get_region_name (ses, "eu-west-1"), ==, "Europe (Ireland)");
    g_assert_cmpstr (mr_preset_find_region (ses, "EMAIL-SMTP.us-west-2.amazonaws.com"), ==, "us-west-2");
    g_assert_null (mr_preset_find_region (ses, "smtp.example.com"));
    g_assert_null (mr_preset_get_region_host (ses, "mars-north-1"));
    mr_test_set_ok (settings, MR_SCOPE_COMPANY, "smtp.provider", "ses");
    mr_assert_cmpstr_free (mr_settings_dup_effective_string (settings, NULL, "smtp.host"), ==,
                           "email-smtp.eu-central-1.amazonaws.com");
    mr_test_set_ok (settings, MR_SCOPE_COMPANY, "smtp.host", "email-smtp.eu-west-1.amazonaws.com");
    mr_test_set_ok (settings, MR_SCOPE_COMPANY, "smtp.provider", "gmail");
    mr_test_set_ok (settings, MR_SCOPE_COMPANY, "smtp.provider", "ses");
    mr_assert_cmpstr_free (mr_settings_dup_effective_string (settings, NULL, "smtp.host"), ==,
                           "email-smtp.eu-central-1.amazonaws.com");
    mr_test_set_ok (settings, MR_SCOPE_COMPANY, "smtp.host", "email-smtp.eu-west-1.amazonaws.com");
    mr_test_set_ok (settings, MR_SCOPE_COMPANY, "smtp.provider", "ses");
    mr_assert_cmpstr_free (mr_settings_dup_effective_string (settings, NULL, "smtp.host"), ==,
                           "email-smtp.eu-west-1.amazonaws.com");
    g_assert_cmpuint (mr_preset_get_port_for_security (ses, "tls"), ==, 465);
    g_assert_true (mr_preset_has_own_return_path (ses));
    /* Mailgun's regions name their servers. */
    g_assert_cmpstr (mr_preset_get_region_host (mr_preset_lookup ("mailgun"), "eu"), ==, "smtp.eu.mailgun.org");
    g_assert_cmpstr (mr_preset_get_host (mr_preset_lookup ("mailgun")), ==, "smtp.eu.mailgun.org");
  }
  /* DKIM selectors the admin names: the name before ._domainkey, as a provider's page gives it. */
  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "domains.dkim_selectors",
                  "[\"abc123._domainkey.example.com\", \"s1\", \"em-2024.mail\", \"s1\"]");
  {
    g_auto(GStrv) selectors = mr_settings_dup_effective_strv (settings, NULL, "domains.dkim_selectors");
    g_autofree char *joined = g_strjoinv (" ", selectors);

    g_assert_cmpstr (joined, ==, "abc123 s1 em-2024.mail");
  }
  for (guint i = 0; i < 3; i++)
    {
      const char *bad[] = { "[\"bad selector\"]", "[\"-x\"]", "[\"a..b\"]" };

      g_assert_false (mr_settings_set_and_commit (settings, MR_SCOPE_COMPANY, "domains.dkim_selectors", bad[i], NULL, &error));
      mr_assert_error_kind (error, "invalid-value");
      g_assert_nonnull (strstr (error->message, "DKIM selector"));
      g_clear_error (&error);
    }

  /* SendGrid's login is "apikey" for everyone; the password is the API key. */
  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "smtp.provider", "sendgrid");
  mr_assert_cmpstr_free (mr_settings_dup_effective_string (settings, NULL, "smtp.username"), ==, "apikey");
  mr_assert_cmpstr_free (mr_settings_dup_effective_string (settings, NULL, "smtp.host"), ==, "smtp.sendgrid.net");

  /* Every preset a server can be reached with: a host (or one made from the sender's domain), a
   * port for its security, a login form; its address domains and mail exchangers its own. */
  {
    guint n;
    const MrPreset * const *all = mr_presets_get_all (&n);
    const char *expected[] = { "office365", "gmail", "zoho", "outlook", "yahoo", "icloud", "fastmail", "ionos", "strato",
                               "gmx", "webde", "mailbox", "ses", "sendgrid", "mailgun", "brevo" };

    for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
      g_assert_nonnull (mr_preset_lookup (expected[i]));
    for (guint i = 0; i < n; i++)
      {
        const MrPreset *preset = all[i];
        const char *id = mr_preset_get_id (preset);

        /* The settings take each preset (src/engine/settings/mr-keys.c lists them). */
        g_test_message ("preset %s", id);
        mr_test_set_ok (settings, MR_SCOPE_COMPANY, "smtp.provider", id);
        if (g_str_equal (id, "other"))
          continue;
        g_assert_true (mr_preset_get_host (preset) != NULL || mr_preset_derives_host (preset));
        g_assert_cmpuint (mr_preset_get_port (preset), >, 0);
        g_assert_true (g_strv_contains ((const char *[]) { "none", "starttls", "tls", NULL }, mr_preset_get_security (preset)));
        g_assert_nonnull (mr_preset_get_auth_methods (preset));
        if (mr_preset_get_port_for_security (preset, mr_preset_get_security (preset)) != 0)
          g_assert_cmpuint (mr_preset_get_port_for_security (preset, mr_preset_get_security (preset)), ==,
                            mr_preset_get_port (preset));
      }
  }
  g_assert_cmpstr (mr_preset_get_id (mr_preset_lookup_by_domain ("hotmail.de")), ==, "outlook");
  g_assert_cmpstr (mr_preset_get_id (mr_preset_lookup_by_domain ("contoso.onmicrosoft.com")), ==, "office365");
  g_assert_cmpstr (mr_preset_get_id (mr_preset_lookup_by_domain ("web.de")), ==, "webde");
  g_assert_cmpstr (mr_preset_get_id (mr_preset_lookup_by_domain ("me.com")), ==, "icloud");
  g_assert_cmpstr (mr_preset_get_id (mr_preset_lookup_by_mx ("mx01.mail.icloud.com.")), ==, "icloud");
  g_assert_cmpstr (mr_preset_get_id (mr_preset_lookup_by_mx ("in1-smtp.messagingengine.com")), ==, "fastmail");
  g_assert_cmpstr (mr_preset_get_id (mr_preset_lookup_by_mx ("mx00.ionos.de")), ==, "ionos");
  g_assert_cmpstr (mr_preset_get_id (mr_preset_lookup_by_mx ("smtpin.rzone.de")), ==, "strato");
  g_assert_cmpstr (mr_preset_get_id (mr_preset_lookup_by_mx ("hotmail-com.olc.protection.outlook.com")), ==, "outlook");
  g_assert_cmpstr (mr_preset_get_id (mr_preset_lookup_by_mx ("contoso-com.mail.protection.outlook.com")), ==, "office365");
  g_assert_cmpstr (mr_preset_get_spf_include (mr_preset_lookup ("fastmail")), ==, "spf.messagingengine.com");
  g_assert_cmpstr (mr_preset_get_dkim_selectors (mr_preset_lookup ("mailbox"))[3], ==, "MBO0004");

  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "smtp.provider", "local");
  mr_assert_cmpstr_free (mr_settings_dup_effective_string (settings, NULL, "delivery.mode"), ==, "local-smtp");
  mr_assert_cmpstr_free (mr_settings_dup_effective_string (settings, NULL, "smtp.host"), ==, "localhost");

  /* Per application. */
  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "apps.marketing.smtp.provider", "zoho");
  mr_assert_cmpstr_free (mr_settings_dup_effective_string (settings, "marketing", "smtp.host"), ==, "smtp.zoho.com");
  mr_assert_cmpstr_free (mr_settings_dup_effective_string (settings, NULL, "smtp.host"), ==, "localhost");
}

static void
test_verified_domains (MrTestDirs    *dirs,
                       gconstpointer  data)
{
  g_autoptr(MrSettings) settings = load_settings (dirs);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) warnings = NULL;

  /* An empty list allows any domain. */
  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "sender.from_address", "office@anything.example");
  g_assert_true (mr_settings_domain_is_verified (settings, "anything.example"));

  /* A list that leaves the current From address out is refused as a whole. */
  g_assert_false (mr_settings_set_and_commit (settings, MR_SCOPE_COMPANY, "domains.verified", "[\"example.com\"]", NULL, &error));
  mr_assert_error_kind (error, "invalid-value");
  g_assert_nonnull (strstr (error->message, "anything.example"));
  g_clear_error (&error);

  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "domains.verified", "[\"example.com\", \"anything.example\"]");
  g_assert_false (mr_settings_set_and_commit (settings, MR_SCOPE_COMPANY, "apps.news.sender.from_address",
                                              "news@elsewhere.example", NULL, &error));
  mr_assert_error_kind (error, "invalid-value");
  g_clear_error (&error);

  /* A user's address outside the list is kept, with a warning. */
  g_assert_true (mr_settings_set_and_commit (settings, MR_SCOPE_USER, "user.email", "ann@private.example", &warnings, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (warnings->len, ==, 1);
  g_assert_nonnull (strstr (g_ptr_array_index (warnings, 0), "private.example"));
}

/* Microsoft's dates, where the settings run into them. */
static void
test_microsoft_dates (MrTestDirs    *dirs,
                      gconstpointer  data)
{
  g_autoptr(MrSettings) settings = load_settings (dirs);
  g_autoptr(GPtrArray) warnings = NULL;
  g_autoptr(GError) error = NULL;

  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "smtp.provider", "office365");
  g_assert_true (mr_settings_set_and_commit (settings, MR_SCOPE_COMPANY, "smtp.auth", "password", &warnings, &error));
  g_assert_cmpuint (warnings->len, ==, 1);
  g_assert_nonnull (strstr (g_ptr_array_index (warnings, 0), "December 2026"));
  g_clear_pointer (&warnings, g_ptr_array_unref);
  g_assert_true (mr_settings_set_and_commit (settings, MR_SCOPE_COMPANY, "smtp.auth", "oauth2", &warnings, &error));
  g_assert_cmpuint (warnings->len, ==, 0);
  g_clear_pointer (&warnings, g_ptr_array_unref);
  g_assert_true (mr_settings_set_and_commit (settings, MR_SCOPE_COMPANY, "exchange.ews_url",
                                             "https://outlook.office365.com/EWS/Exchange.asmx", &warnings, &error));
  g_assert_cmpuint (warnings->len, ==, 1);
  g_assert_nonnull (strstr (g_ptr_array_index (warnings, 0), "1 April 2027"));
  g_clear_pointer (&warnings, g_ptr_array_unref);
  g_assert_true (mr_settings_set_and_commit (settings, MR_SCOPE_COMPANY, "exchange.transport", "graph", &warnings, &error));
  g_assert_cmpuint (warnings->len, ==, 0);
}

static void
test_plaintext_warning (MrTestDirs    *dirs,
                        gconstpointer  data)
{
  g_autoptr(MrSettings) settings = load_settings (dirs);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) warnings = NULL;

  /* A password login without TLS: only mechanisms that never send the password are used, and the
   * warning says so instead of claiming that the password crosses the network. */
  g_assert_true (mr_settings_set_and_commit (settings, MR_SCOPE_COMPANY, "smtp.security", "none", &warnings, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (warnings->len, ==, 1);
  g_assert_nonnull (strstr (g_ptr_array_index (warnings, 0), "unencrypted"));
  g_assert_nonnull (strstr (g_ptr_array_index (warnings, 0), "SCRAM-SHA-256"));
  g_assert_nonnull (strstr (g_ptr_array_index (warnings, 0), "never sent"));
  g_assert_null (strstr (g_ptr_array_index (warnings, 0), "password would cross"));
  g_clear_pointer (&warnings, g_ptr_array_unref);

  /* Allowed in clear: then it may cross, and the warning says that. */
  g_assert_true (mr_settings_set_and_commit (settings, MR_SCOPE_COMPANY, "smtp.allow_plaintext_auth", "true", &warnings, &error));
  g_assert_cmpuint (warnings->len, ==, 1);
  g_assert_nonnull (strstr (g_ptr_array_index (warnings, 0), "password may cross the network unencrypted"));
  g_clear_pointer (&warnings, g_ptr_array_unref);

  /* NTLM never sends the password, whatever is allowed. */
  g_assert_true (mr_settings_set_and_commit (settings, MR_SCOPE_COMPANY, "smtp.auth", "ntlm", &warnings, &error));
  g_assert_cmpuint (warnings->len, ==, 1);
  g_assert_nonnull (strstr (g_ptr_array_index (warnings, 0), "never sent"));
  g_clear_pointer (&warnings, g_ptr_array_unref);
  g_assert_true (mr_settings_set_and_commit (settings, MR_SCOPE_COMPANY, "smtp.auth", "none", &warnings, &error));
  g_assert_cmpuint (warnings->len, ==, 0);
}

static void
test_app_profiles (MrTestDirs    *dirs,
                   gconstpointer  data)
{
  g_autoptr(MrSettings) settings = load_settings (dirs);
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) apps = NULL;

  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "apps.marketing.smtp.host", "bulk.example.com");
  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "apps.reports.sender.from_name", "Reports");
  apps = mr_settings_file_list_apps (mr_settings_get_company (settings));
  g_assert_cmpuint (g_strv_length (apps), ==, 2);

  g_assert_false (mr_settings_set_and_commit (settings, MR_SCOPE_COMPANY, "apps.marketing.domains.verified", "[]", NULL, &error));
  mr_assert_error_kind (error, "unknown-key");
  g_clear_error (&error);
  g_assert_false (mr_settings_set_and_commit (settings, MR_SCOPE_COMPANY, "apps.Bad App.smtp.host", "x.example", NULL, &error));
  mr_assert_error_kind (error, "unknown-key");
  g_clear_error (&error);

  g_assert_true (mr_settings_unset_and_commit (settings, MR_SCOPE_COMPANY, "apps.marketing", NULL, &error));
  g_assert_no_error (error);
  g_assert_false (mr_settings_file_has_app (mr_settings_get_company (settings), "marketing"));
  g_assert_null (mr_settings_file_get (mr_settings_get_company (settings), "apps.marketing.smtp.host"));
}

/* Whether mail could go, asked once for Compose, the mailshot wizard and their reasons. */
static MrDeliveryReadiness
ready_with (MrTestDirs *dirs,
            const char *company,
            const char *route,
            const char *template_from)
{
  g_autoptr(MrSettings) settings = mr_settings_new (NULL, NULL);
  g_autofree char *file = g_strdup_printf ("{\"schema_version\": 1, \"settings\": {%s}}", company);

  mr_test_write_file (dirs->company_path, file);
  g_assert_true (mr_settings_load (settings, NULL));
  return mr_delivery_check_ready (settings, NULL, route, template_from);
}

static void
test_ready (MrTestDirs    *dirs,
            gconstpointer  data)
{
  g_assert_cmpint (ready_with (dirs, "", NULL, NULL), ==, MR_DELIVERY_NO_FROM);
  /* A template with its own sender needs no company one. */
  g_assert_cmpint (ready_with (dirs, "", NULL, "billing@example.com"), ==, MR_DELIVERY_NO_SERVER);
  g_assert_cmpint (ready_with (dirs, "\"sender.from_address\": \"office@example.com\"", "smtp", NULL), ==,
                   MR_DELIVERY_NO_SERVER);
  g_assert_cmpint (ready_with (dirs, "\"sender.from_address\": \"office@example.com\", \"smtp.host\": \"mail.example.com\"",
                               "smtp", NULL), ==, MR_DELIVERY_READY);
  g_assert_cmpint (ready_with (dirs, "\"sender.from_address\": \"office@example.com\", \"smtp.host\": \"mail.example.com\"",
                               "exchange", NULL), ==, MR_DELIVERY_NO_EXCHANGE);
  /* Sendmail needs no server. */
  g_assert_cmpint (ready_with (dirs, "\"sender.from_address\": \"office@example.com\", \"delivery.mode\": \"sendmail\"",
                               "smtp", NULL), ==, MR_DELIVERY_READY);
  /* Sending as each person's own address: theirs is the From. */
  g_assert_cmpint (ready_with (dirs, "\"sender.send_as_user\": true, \"smtp.host\": \"mail.example.com\"", NULL, NULL), ==,
                   MR_DELIVERY_NO_FROM);
}

int
main (int    argc,
      char **argv)
{
  mr_test_init (&argc, &argv);

#define ADD(path, func) g_test_add (path, MrTestDirs, NULL, mr_test_dirs_setup, func, mr_test_dirs_teardown)
  ADD ("/settings/missing-files", test_missing_files_are_empty);
  ADD ("/settings/round-trip", test_round_trip_and_modes);
  ADD ("/settings/company-mode-kept", test_company_mode_is_kept);
  ADD ("/settings/company-folder-created", test_company_folder_created);
  ADD ("/settings/corrupt", test_corrupt_file);
  ADD ("/settings/unreadable", test_unreadable_file);
  ADD ("/settings/company-not-writable", test_company_not_writable);
  ADD ("/settings/rejected-writes-nothing", test_rejected_change_writes_nothing);
  ADD ("/settings/effective", test_effective_resolution);
  ADD ("/settings/credentials", test_credentials);
  ADD ("/settings/presets", test_presets);
  ADD ("/settings/verified-domains", test_verified_domains);
  ADD ("/settings/plaintext-warning", test_plaintext_warning);
  ADD ("/settings/microsoft-dates", test_microsoft_dates);
  ADD ("/settings/app-profiles", test_app_profiles);
  ADD ("/settings/ready", test_ready);
#undef ADD

  return g_test_run ();
}
