/* mailroom-cli: the engine from the command line, for scripts, schedulers and tests
 *
 * Every command calls the same engine functions as the GUI. Exit statuses follow sysexits(3) and
 * come from mr_error_get_exit_status(); docs/cli.md has the one table for all commands.
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "mr-discover.h"
#include "mr-json.h"
#include "mr-delivery.h"
#include "mr-error.h"
#include "mr-secrets.h"
#include "mr-settings.h"
#include "mr-outbox.h"
#include "mr-exchange.h"
#include "mr-mailshot.h"
#include "mr-timer.h"
#include "mr-domain-check.h"
#include "mr-domain-proof.h"
#include "mr-presets.h"
#include "mr-proofreader.h"
#include "mr-signature.h"
#include "mr-suppression.h"
#include "mr-template.h"

typedef struct {
  gboolean    json;
  gboolean    use_stdin;
  gboolean    clear;
  gboolean    verbose;
  gboolean    fresh;
  char       *app;
  char       *to;
  char       *data_file;
  GPtrArray  *vars;      /* "KEY=VALUE" */
  gboolean    mime;
  GPtrArray  *to_list;
  GPtrArray  *cc_list;
  GPtrArray  *bcc_list;
  GPtrArray  *attach_list;
  GPtrArray  *selector_list;
  char       *spf_include;
  char       *server;
  char       *template_name;
  char       *via;
  char       *since;
  char       *status;
  char       *recipients;
  char       *address_column;
  char       *rate;
  char       *dry_run;
  char       *per_day;
  char       *connections;
  char       *limit;
  char       *start;
  char       *attachments_dir;
  char       *attachment_column;
  char       *name_column;
  char       *sheet;
  char       *addresses;
  char       *exclude_rows;
  char       *count;
  char       *row;
  char       *output;
  char       *allow_host;
  gboolean    device_code;
  gboolean    send_duplicates;
  gboolean    skip_invalid;
  gboolean    save;
  GPtrArray  *args;      /* positional arguments after the command words */
  MrSettings *settings;
} Invocation;

static void
print_json (JsonNode *node)
{
  g_autofree char *text = json_to_string (node, TRUE);

  g_print ("%s\n", text);
}

static void
print_json_error (const char *kind,
                  const char *message)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "error");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "kind");
  json_builder_add_string_value (builder, kind);
  json_builder_set_member_name (builder, "message");
  json_builder_add_string_value (builder, message);
  json_builder_end_object (builder);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  print_json (root);
}

static int
fail (Invocation   *inv,
      const GError *error)
{
  if (inv->json)
    print_json_error (mr_error_get_kind (error), error->message);
  else
    g_printerr ("mailroom-cli: %s\n", error->message);
  return mr_error_get_exit_status (error);
}

static int
usage_error (Invocation *inv,
             const char *message)
{
  if (inv->json)
    print_json_error ("usage", message);
  else
    g_printerr ("mailroom-cli: %s\n%s\n", message, _("Try “mailroom-cli --help”."));
  return MR_EXIT_USAGE;
}

static void
print_warnings (GPtrArray *warnings)
{
  for (guint i = 0; warnings != NULL && i < warnings->len; i++)
    g_printerr (_("mailroom-cli: warning: %s\n"), (const char *) g_ptr_array_index (warnings, i));
}

static const char help_text[] =
  N_("Usage:\n"
     "  mailroom-cli company show [--json]\n"
     "  mailroom-cli company get KEY\n"
     "  mailroom-cli company set KEY VALUE\n"
     "  mailroom-cli company unset KEY\n"
     "  mailroom-cli company password [--app NAME] [--stdin]\n"
     "  mailroom-cli company password --clear [--app NAME]\n"
     "  mailroom-cli company signature [--stdin | --clear] [--json]\n"
     "  mailroom-cli company domain add|verify|remove DOMAIN [--json] | company domain list [--json]\n"
     "  mailroom-cli user show [--json]\n"
     "  mailroom-cli user get KEY\n"
     "  mailroom-cli user set KEY VALUE\n"
     "  mailroom-cli user unset KEY\n"
     "  mailroom-cli user password [--stdin]\n"
     "  mailroom-cli user password --clear\n"
     "  mailroom-cli user signature [--stdin | --clear] [--json]\n"
     "  mailroom-cli user login [--device-code]\n"
     "  mailroom-cli settings effective [--app NAME] [--json]\n"
     "  mailroom-cli setup ADDRESS [--save] [--json] [--verbose]\n"
     "  mailroom-cli check [--app NAME] [--json] [--verbose]\n"
     "  mailroom-cli test-email --to ADDRESS [--app NAME] [--json] [--verbose]\n"
     "  mailroom-cli templates list [--json]\n"
     "  mailroom-cli templates show NAME [--json]\n"
     "  mailroom-cli templates import FILE\n"
     "  mailroom-cli templates export NAME FILE\n"
     "  mailroom-cli render TEMPLATE [--data FILE.json] [--var KEY=VALUE]... [--mime] [--to ADDRESS]\n"
     "  mailroom-cli send --template TEMPLATE --to ADDRESS [--cc ADDRESS] [--bcc ADDRESS] [--data FILE.json]\n"
     "                    [--var KEY=VALUE]... [--attach FILE]... [--via smtp|exchange|auto] [--app NAME] [--json]\n"
     "  mailroom-cli outbox [--json] | outbox run | outbox retry ID | outbox cancel ID\n"
     "  mailroom-cli resend ID [--json]\n"
     "  mailroom-cli mailshot --template TEMPLATE --recipients FILE [--sheet NAME] [--address-column NAME]\n"
     "                        [--name-column NAME]\n"
     "                        [--rate N/min] [--per-day N] [--connections N] [--limit N] [--start \"YYYY-MM-DD HH:MM\"]\n"
     "                        [--attachment-column NAME --attachments-dir DIR] [--exclude-rows 3,7-9]\n"
     "                        [--send-duplicates] [--skip-invalid] [--dry-run DIR] [--via smtp|exchange|auto]\n"
     "                        [--app NAME] [--json]\n"
     "  mailroom-cli mailshot check --template TEMPLATE --recipients FILE [the options above] [--json]\n"
     "  mailroom-cli mailshot preview --template TEMPLATE --recipients FILE --row N [the options above]\n"
     "  mailroom-cli mailshot samples --template TEMPLATE --recipients FILE [--count N] [--to ADDRESS]\n"
     "  mailroom-cli mailshot status [JOB] [--json] | mailshot resume JOB | mailshot pause JOB | mailshot cancel JOB\n"
     "  mailroom-cli mailshot report JOB [--output FILE.csv]\n"
     "  mailroom-cli mailshot run-due\n"
     "  mailroom-cli mailshot timer install | timer remove | timer status\n"
     "  mailroom-cli suppression list | suppression add ADDRESS... | suppression remove ADDRESS... | suppression import FILE\n"
     "              (FILE: addresses, or the unsubscribe tokens of mailshots sent from here, one a line)\n"
     "  mailroom-cli log [--json] [--since YYYY-MM-DD] [--to ADDRESS] [--status accepted|failed|queued]\n"
     "  mailroom-cli log --addresses PREFIX [--json]\n"
     "  mailroom-cli check-domain DOMAIN [--include SPF-DOMAIN | --server HOST] [--selector NAME]... [--fresh] [--json] [--verbose]\n"
     "  mailroom-cli exchange check [--app NAME] [--json] [--verbose]\n"
     "  mailroom-cli exchange discover ADDRESS [--allow-host HOST] [--json] [--verbose]\n"
     "  mailroom-cli exchange password [--stdin] | exchange password --clear\n"
     "  mailroom-cli exchange login [--device-code] [--json] | exchange logout\n"
     "\n"
     "Keys are listed in docs/settings.md. List values are JSON arrays, for example\n"
     "  mailroom-cli company set domains.verified '[\"example.com\"]'\n"
     "Passwords are read from the terminal, or from standard input with --stdin, and are\n"
     "kept only in the system keyring.\n");

/* ---- show / get / set / unset ----------------------------------------------------------------- */

static int
cmd_show (Invocation *inv,
          MrScope     scope)
{
  MrSettingsFile *file = mr_settings_get_layer (inv->settings, scope);
  g_autoptr(JsonNode) values = mr_settings_file_to_json (file);

  if (inv->json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;
      g_auto(GStrv) apps = mr_settings_file_list_apps (file);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "path");
      json_builder_add_string_value (builder, mr_settings_file_get_path (file));
      json_builder_set_member_name (builder, "writable");
      json_builder_add_boolean_value (builder, mr_settings_file_can_write (file));
      json_builder_set_member_name (builder, "settings");
      json_builder_add_value (builder, json_node_copy (values));
      if (scope == MR_SCOPE_COMPANY)
        {
          json_builder_set_member_name (builder, "apps");
          json_builder_begin_array (builder);
          for (guint i = 0; apps[i] != NULL; i++)
            json_builder_add_string_value (builder, apps[i]);
          json_builder_end_array (builder);
        }
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      print_json (root);
    }
  else
    {
      g_auto(GStrv) keys = mr_settings_file_list_keys (file);

      for (guint i = 0; keys[i] != NULL; i++)
        {
          const MrKeyInfo *info = mr_settings_file_resolve_key (file, keys[i], NULL);
          g_autofree char *text = mr_key_format (info, mr_settings_file_get (file, keys[i]));

          g_print ("%s = %s\n", keys[i], text);
        }
    }
  return MR_EXIT_OK;
}

static int
cmd_get (Invocation *inv,
         MrScope     scope)
{
  MrSettingsFile *file = mr_settings_get_layer (inv->settings, scope);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) fallback = NULL;
  const MrKeyInfo *info;
  const char *key;
  JsonNode *value;
  g_autofree char *text = NULL;

  if (inv->args->len != 1)
    return usage_error (inv, _("“get” takes one key"));
  key = g_ptr_array_index (inv->args, 0);

  info = mr_settings_file_resolve_key (file, key, &error);
  if (info == NULL)
    return fail (inv, error);

  value = mr_settings_file_get (file, key);
  if (value == NULL)
    value = fallback = mr_key_get_default (info);

  if (inv->json)
    print_json (value);
  else
    {
      text = mr_key_format (info, value);
      g_print ("%s\n", text);
    }
  return MR_EXIT_OK;
}

static int
cmd_set (Invocation *inv,
         MrScope     scope)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) warnings = NULL;

  if (inv->args->len != 2)
    return usage_error (inv, _("“set” takes a key and a value"));

  if (!mr_settings_set_and_commit (inv->settings, scope, g_ptr_array_index (inv->args, 0),
                                   g_ptr_array_index (inv->args, 1), &warnings, &error))
    return fail (inv, error);
  print_warnings (warnings);
  return MR_EXIT_OK;
}

static int
cmd_unset (Invocation *inv,
           MrScope     scope)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) warnings = NULL;

  if (inv->args->len != 1)
    return usage_error (inv, _("“unset” takes one key"));

  if (!mr_settings_unset_and_commit (inv->settings, scope, g_ptr_array_index (inv->args, 0), &warnings, &error))
    return fail (inv, error);
  print_warnings (warnings);
  return MR_EXIT_OK;
}

/* ---- password --------------------------------------------------------------------------------- */

static char *
strip_line_end (char *text)
{
  gsize len = strlen (text);

  while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
    text[--len] = '\0';
  return text;
}

static MrSecret *
read_password_from_stdin (void)
{
  GString *buffer = g_string_new (NULL);
  int c;

  while ((c = getchar ()) != EOF && c != '\n')
    g_string_append_c (buffer, (char) c);
  {
    MrSecret *password = g_strdup (strip_line_end (buffer->str));
    explicit_bzero (buffer->str, buffer->len);
    g_string_free (buffer, TRUE);
    return password;
  }
}

/* Asks on the terminal with echo off; NULL when there is no terminal. */
static MrSecret *
read_password_from_tty (const char *prompt)
{
  struct termios saved, quiet;
  char line[1024];
  FILE *tty = fopen ("/dev/tty", "r+");
  MrSecret *password = NULL;

  if (tty == NULL)
    return NULL;

  fputs (prompt, tty);
  fflush (tty);
  if (tcgetattr (fileno (tty), &saved) == 0)
    {
      quiet = saved;
      quiet.c_lflag &= ~(tcflag_t) ECHO;
      tcsetattr (fileno (tty), TCSAFLUSH, &quiet);
    }
  if (fgets (line, sizeof line, tty) != NULL)
    password = g_strdup (strip_line_end (line));
  tcsetattr (fileno (tty), TCSAFLUSH, &saved);
  fputs ("\n", tty);
  fclose (tty);
  explicit_bzero (line, sizeof line);
  return password;
}

/* `password` for SMTP and Exchange alike: read it (terminal or --stdin) and store it, or --clear. */
static int
store_password (Invocation            *inv,
                const MrSecretAccount *account,
                gboolean               exchange)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MrSecret) password = NULL;
  g_autofree char *who = mr_secret_account_describe (account);

  if (inv->clear)
    {
      if (!mr_secrets_clear_sync (account, NULL, &error))
        return fail (inv, error);
      if (!inv->json)
        g_printerr (exchange ? _("Removed the Exchange password for %s from the keyring.\n")
                             : _("Removed the password for %s from the keyring.\n"), who);
      return MR_EXIT_OK;
    }
  if (inv->use_stdin)
    password = read_password_from_stdin ();
  else
    {
      g_autofree char *prompt = g_strdup_printf (exchange ? _("Exchange password for %s: ") : _("Password for %s: "), who);

      password = read_password_from_tty (prompt);
      if (password == NULL)
        return usage_error (inv, _("There is no terminal to ask for the password: give it on standard input with --stdin"));
    }
  if (*password == '\0')
    {
      g_set_error_literal (&error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_INVALID_VALUE,
                           _("The password is empty: nothing was stored"));
      return fail (inv, error);
    }
  if (!mr_secrets_store_sync (account, password, NULL, &error))
    return fail (inv, error);
  if (!inv->json)
    g_printerr (exchange ? _("Stored the Exchange password for %s in the keyring.\n")
                         : _("Stored the password for %s in the keyring.\n"), who);
  return MR_EXIT_OK;
}

static int
cmd_password (Invocation *inv,
              MrScope     scope)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MrSecretAccount) account = NULL;

  if (inv->args->len != 0)
    return usage_error (inv, _("“password” takes no value: it reads the password from the terminal or, with --stdin, from standard input"));
  if (scope == MR_SCOPE_USER && inv->app != NULL)
    return usage_error (inv, _("--app belongs to “company password”"));

  account = mr_settings_get_account (inv->settings, scope, inv->app, &error);
  if (account == NULL)
    return fail (inv, error);
  return store_password (inv, account, FALSE);
}

/* ---- signature ------------------------------------------------------------------------------- */

/* Standard input whole, at most @limit bytes; NULL with the reason past it. */
static char *
read_all_stdin (gsize    limit,
                GError **error)
{
  GString *text = g_string_new (NULL);
  char block[8192];
  size_t got;

  while ((got = fread (block, 1, sizeof block, stdin)) > 0)
    {
      g_string_append_len (text, block, (gssize) got);
      if (text->len > limit)
        {
          g_autofree char *size = g_format_size (limit);

          g_string_free (text, TRUE);
          g_set_error (error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_INVALID_VALUE,
                       _("Standard input holds more than %s: nothing was stored"), size);
          return NULL;
        }
    }
  return g_string_free (text, FALSE);
}

/* `company signature` and `user signature`: show it; set it from standard input (HTML, or text
 * whose lines are kept) with --stdin; remove it with --clear. */
static int
cmd_signature (Invocation *inv,
               MrScope     scope)
{
  MrSignatureScope which = scope == MR_SCOPE_COMPANY ? MR_SIGNATURE_COMPANY : MR_SIGNATURE_PERSONAL;
  g_autoptr(GError) error = NULL;
  g_autofree char *html = NULL;

  if (inv->args->len != 0)
    return usage_error (inv, _("“signature” takes no value: give the new one on standard input with --stdin"));
  if (inv->use_stdin || inv->clear)
    {
      g_autofree char *input = inv->clear ? g_strdup ("") : read_all_stdin (16 * 1024 * 1024, &error);
      g_autofree char *given = NULL;

      if (input == NULL)
        return fail (inv, error);
      given = mr_signature_from_text (input);
      if (!mr_signature_save (which, given, &error))
        return fail (inv, error);
    }
  html = mr_signature_load (which, &error);
  if (error != NULL)
    return fail (inv, error);
  if (inv->json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autofree char *path = mr_signature_get_path (which);
      g_autofree char *text = html ? mr_html_to_text (html) : NULL;
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "html");
      json_builder_add_string_value (builder, html);
      json_builder_set_member_name (builder, "text");
      json_builder_add_string_value (builder, text);
      json_builder_set_member_name (builder, "path");
      json_builder_add_string_value (builder, path);
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      print_json (root);
    }
  else if (inv->use_stdin || inv->clear)
    g_printerr (html ? _("Stored the signature.\n") : _("There is no signature now.\n"));
  else if (html != NULL)
    g_print ("%s\n", html);
  else
    g_printerr (scope == MR_SCOPE_COMPANY ? _("The company has no signature.\n") : _("You have no signature.\n"));
  return MR_EXIT_OK;
}

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
static int
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
      print_json (root);
      return MR_EXIT_OK;
    }
  if (name == NULL || inv->args->len != 2 ||
      !g_strv_contains ((const char * const[]) { "add", "verify", "remove", NULL }, action))
    return usage_error (inv, _("“company domain” takes add, verify or remove and a domain, or list"));
  if (g_str_equal (action, "remove"))
    {
      if (!mr_company_domain_remove (inv->settings, name, &error))
        return fail (inv, error);
      if (!inv->json)
        g_printerr (_("Removed %s from the company’s domains.\n"), name);
      return MR_EXIT_OK;
    }
  domain = g_str_equal (action, "add") ? mr_company_domain_add (inv->settings, name, &error)
                                       : mr_company_domain_verify (inv->settings, name, NULL, &error);
  if (domain == NULL)
    return fail (inv, error);
  if (inv->json)
    {
      add_domain_json (builder, domain);
      root = json_builder_get_root (builder);
      print_json (root);
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
static int
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
    return usage_error (inv, _("“check-domain” takes one domain, for example example.com"));
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

/* ---- settings effective ----------------------------------------------------------------------- */

static const char *
password_state (MrSettings *settings,
                const char *app)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *credentials = mr_settings_dup_effective_string (settings, app, "smtp.credentials");
  g_autofree char *auth = mr_settings_dup_effective_string (settings, app, "smtp.auth");
  MrScope scope = g_strcmp0 (credentials, "per-user") == 0 ? MR_SCOPE_USER : MR_SCOPE_COMPANY;
  g_autoptr(MrSecretAccount) account = NULL;
  g_autoptr(MrSecret) password = NULL;

  if (g_strcmp0 (auth, "password") != 0 && g_strcmp0 (auth, "ntlm") != 0)
    return "not-needed";
  account = mr_settings_get_account (settings, scope, app, NULL);
  if (account == NULL)
    return "no-account";
  password = mr_secrets_lookup_sync (account, NULL, &error);
  if (error != NULL)
    return mr_error_get_kind (error);
  return password != NULL ? "stored" : "missing";
}

static int
cmd_effective (Invocation *inv)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  const MrKeyInfo *keys;
  guint n_keys;

  if (inv->args->len != 0)
    return usage_error (inv, _("“settings effective” takes no arguments"));
  if (inv->app != NULL && !mr_settings_file_has_app (mr_settings_get_company (inv->settings), inv->app))
    {
      g_autoptr(GError) error = g_error_new (MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_UNKNOWN_KEY,
                                             _("There is no application profile “%s”"), inv->app);
      return fail (inv, error);
    }

  keys = mr_key_get_all (&n_keys);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "app");
  if (inv->app)
    json_builder_add_string_value (builder, inv->app);
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "settings");
  json_builder_begin_object (builder);
  for (guint i = 0; i < n_keys; i++)
    {
      MrOrigin origin;
      JsonNode *value = mr_settings_get_effective (inv->settings, inv->app, keys[i].name, &origin);
      g_autofree char *lock = mr_settings_get_lock_reason (inv->settings, inv->app, keys[i].name);

      if (!inv->json)
        {
          g_autofree char *text = mr_key_format (&keys[i], value);

          g_print ("%s = %s  (%s%s%s)\n", keys[i].name, text, mr_origin_to_string (origin),
                   lock ? ", locked: " : "", lock ? lock : "");
          continue;
        }
      json_builder_set_member_name (builder, keys[i].name);
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "value");
      json_builder_add_value (builder, json_node_copy (value));
      json_builder_set_member_name (builder, "origin");
      json_builder_add_string_value (builder, mr_origin_to_string (origin));
      if (lock != NULL)
        {
          json_builder_set_member_name (builder, "locked");
          json_builder_add_string_value (builder, lock);
        }
      json_builder_end_object (builder);
    }
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "password");
  json_builder_add_string_value (builder, password_state (inv->settings, inv->app));
  json_builder_end_object (builder);

  if (inv->json)
    {
      root = json_builder_get_root (builder);
      print_json (root);
    }
  else
    g_print ("password: %s\n", password_state (inv->settings, inv->app));
  return MR_EXIT_OK;
}


/* ---- check and test-email --------------------------------------------------------------------- */

static void
add_strv (JsonBuilder        *builder,
          const char         *name,
          const char * const *items)
{
  json_builder_set_member_name (builder, name);
  json_builder_begin_array (builder);
  for (guint i = 0; items != NULL && items[i] != NULL; i++)
    json_builder_add_string_value (builder, items[i]);
  json_builder_end_array (builder);
}

/* The same, from an array of strings (which may be NULL: an empty list). */
static void
add_string_array (JsonBuilder     *builder,
                  const char      *name,
                  const GPtrArray *items)
{
  json_builder_set_member_name (builder, name);
  json_builder_begin_array (builder);
  for (guint i = 0; items != NULL && i < items->len; i++)
    json_builder_add_string_value (builder, g_ptr_array_index (items, i));
  json_builder_end_array (builder);
}

static void
add_string (JsonBuilder *builder,
            const char  *name,
            const char  *value)
{
  json_builder_set_member_name (builder, name);
  if (value != NULL)
    json_builder_add_string_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

static void
add_date (JsonBuilder *builder,
          const char  *name,
          GDateTime   *date)
{
  g_autofree char *text = date ? g_date_time_format_iso8601 (date) : NULL;
  add_string (builder, name, text);
}

static void
add_certificate (JsonBuilder             *builder,
                 const MrCertificateInfo *certificate)
{
  json_builder_set_member_name (builder, "certificate");
  if (certificate == NULL)
    {
      json_builder_add_null_value (builder);
      return;
    }
  json_builder_begin_object (builder);
  add_string (builder, "subject", certificate->subject);
  add_string (builder, "issuer", certificate->issuer);
  add_date (builder, "not_before", certificate->not_before);
  add_date (builder, "not_after", certificate->not_after);
  add_string (builder, "sha256", certificate->sha256);
  add_string (builder, "problems", certificate->problems);
  json_builder_end_object (builder);
}

static void
print_server_info (MrDelivery *delivery)
{
  MrSmtpClient *client = mr_delivery_get_client (delivery);
  const MrSmtpServerInfo *info = client ? mr_smtp_client_get_server_info (client) : NULL;
  const MrCertificateInfo *certificate = client ? mr_smtp_client_get_certificate (client) : NULL;

  g_print (_("Server: %s\n"), mr_delivery_get_route (delivery));
  if (info == NULL)
    return;
  if (info->greeting != NULL)
    g_print (_("Greeting: %s\n"), info->greeting);
  if (info->tls)
    g_print (_("Encryption: %s, %s\n"), info->tls_version, info->tls_cipher ? info->tls_cipher : "?");
  else
    g_print (_("Encryption: none\n"));
  if (certificate != NULL)
    {
      g_autofree char *until = certificate->not_after ? g_date_time_format (certificate->not_after, "%Y-%m-%d") : NULL;
      g_print (_("Certificate: %s, issued by %s, valid until %s\n"), certificate->subject, certificate->issuer,
               until ? until : "?");
      g_print (_("Fingerprint (SHA-256): %s\n"), certificate->sha256);
    }
  if (info->extensions != NULL)
    {
      g_autofree char *joined = g_strjoinv (", ", info->extensions);
      g_print (_("Capabilities: %s\n"), joined);
    }
  if (info->auth_mechanisms != NULL && info->auth_mechanisms[0] != NULL)
    {
      g_autofree char *joined = g_strjoinv (" ", info->auth_mechanisms);
      g_print (_("Login methods: %s\n"), joined);
    }
  if (info->size_limit > 0)
    {
      g_autofree char *bytes = g_strdup_printf ("%" G_GUINT64_FORMAT, info->size_limit);
      g_print (_("Largest message: %s bytes\n"), bytes);
    }
  if (info->auth_mechanism != NULL)
    g_print (_("Login: accepted for %s (%s)\n"), info->authenticated_as, info->auth_mechanism);
  else
    g_print (_("Login: none (this server is used without one)\n"));
}

static void
print_server_json (MrDelivery *delivery)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  MrSmtpClient *client = mr_delivery_get_client (delivery);
  const MrSmtpServerInfo *info = client ? mr_smtp_client_get_server_info (client) : NULL;
  const MrSmtpConfig *config = mr_delivery_get_config (delivery);

  json_builder_begin_object (builder);
  add_string (builder, "route", mr_delivery_get_route (delivery));
  if (!mr_delivery_uses_sendmail (delivery))
    {
      add_string (builder, "host", config->host);
      json_builder_set_member_name (builder, "port");
      json_builder_add_int_value (builder, config->port);
    }
  if (info != NULL)
    {
      add_string (builder, "greeting", info->greeting);
      json_builder_set_member_name (builder, "tls");
      if (info->tls)
        {
          json_builder_begin_object (builder);
          add_string (builder, "version", info->tls_version);
          add_string (builder, "cipher", info->tls_cipher);
          json_builder_end_object (builder);
        }
      else
        json_builder_add_null_value (builder);
      add_certificate (builder, mr_smtp_client_get_certificate (client));
      add_strv (builder, "extensions", (const char * const *) info->extensions);
      add_strv (builder, "auth_mechanisms", (const char * const *) info->auth_mechanisms);
      json_builder_set_member_name (builder, "size_limit");
      json_builder_add_int_value (builder, (gint64) info->size_limit);
      json_builder_set_member_name (builder, "pipelining");
      json_builder_add_boolean_value (builder, info->pipelining);
      json_builder_set_member_name (builder, "login");
      if (info->auth_mechanism != NULL)
        {
          json_builder_begin_object (builder);
          add_string (builder, "user", info->authenticated_as);
          add_string (builder, "mechanism", info->auth_mechanism);
          json_builder_end_object (builder);
        }
      else
        json_builder_add_null_value (builder);
    }
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  print_json (root);
}

static void
print_transcript (Invocation *inv,
                  MrDelivery *delivery)
{
  g_autofree char *transcript = NULL;

  if (!inv->verbose)
    return;
  transcript = mr_delivery_dup_transcript (delivery);
  g_printerr ("%s", transcript);
}

/* The keyring has no password, or there is no keyring: ask on the terminal, and store nothing. */
static gboolean
ask_password_instead (Invocation   *inv,
                      MrDelivery   *delivery,
                      const GError *error)
{
  g_autoptr(MrSecret) password = NULL;
  g_autofree char *prompt = NULL;
  const MrSmtpConfig *config = mr_delivery_get_config (delivery);

  if (inv->json || !(g_error_matches (error, MR_SMTP_ERROR, MR_SMTP_ERROR_PASSWORD_MISSING) ||
                     g_error_matches (error, MR_SECRETS_ERROR, MR_SECRETS_ERROR_UNAVAILABLE) ||
                     g_error_matches (error, MR_SECRETS_ERROR, MR_SECRETS_ERROR_LOCKED)))
    return FALSE;
  prompt = g_strdup_printf (_("%s\nPassword for %s on %s (used once, not stored): "), error->message,
                            config->username, config->host);
  password = read_password_from_tty (prompt);
  if (password == NULL || *password == '\0')
    return FALSE;
  mr_delivery_set_password (delivery, password);
  return TRUE;
}

static int
cmd_check (Invocation *inv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MrDelivery) delivery = NULL;
  gboolean ok;

  if (inv->args->len != 0)
    return usage_error (inv, _("“check” takes no arguments"));

  delivery = mr_delivery_new (inv->settings, inv->app, &error);
  if (delivery == NULL)
    return fail (inv, error);

  ok = mr_delivery_check_sync (delivery, NULL, &error);
  if (!ok && ask_password_instead (inv, delivery, error))
    {
      g_clear_error (&error);
      ok = mr_delivery_check_sync (delivery, NULL, &error);
    }
  print_transcript (inv, delivery);
  if (!ok)
    return fail (inv, error);

  if (inv->json)
    print_server_json (delivery);
  else
    print_server_info (delivery);
  return MR_EXIT_OK;
}

static int
cmd_test_email (Invocation *inv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MrDelivery) delivery = NULL;
  const MrSmtpSendResult *result;
  gboolean ok;

  if (inv->args->len != 0)
    return usage_error (inv, _("“test-email” takes no arguments besides --to ADDRESS"));
  if (inv->to == NULL)
    return usage_error (inv, _("“test-email” needs --to ADDRESS"));
  if (!mr_validate_address (inv->to, &error))
    {
      g_prefix_error (&error, "--to: ");
      return fail (inv, error);
    }

  delivery = mr_delivery_new (inv->settings, inv->app, &error);
  if (delivery == NULL)
    return fail (inv, error);

  ok = mr_delivery_send_test_sync (delivery, inv->to, NULL, &error);
  if (!ok && ask_password_instead (inv, delivery, error))
    {
      g_clear_error (&error);
      ok = mr_delivery_send_test_sync (delivery, inv->to, NULL, &error);
    }
  print_transcript (inv, delivery);
  if (!ok)
    return fail (inv, error);

  result = mr_delivery_get_result (delivery);
  if (inv->json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (builder);
      add_string (builder, "route", mr_delivery_get_route (delivery));
      add_string (builder, "message_id", mr_delivery_get_message_id (delivery));
      add_string_array (builder, "accepted", result->accepted);
      add_string (builder, "reply", result->final_reply);
      add_string_array (builder, "refused", result->refused);
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      print_json (root);
    }
  else
    {
      g_print (_("Sent a test message to %s through %s.\n"), inv->to, mr_delivery_get_route (delivery));
      if (result->final_reply != NULL)
        g_print (_("The server said: %s\n"), result->final_reply);
      for (guint i = 0; i < result->refused->len; i++)
        g_print (_("Refused: %s\n"), (const char *) g_ptr_array_index (result->refused, i));
    }
  return MR_EXIT_OK;
}


/* ---- setup ------------------------------------------------------------------------------------ */

/* Finds the outgoing server from an address (mr-discover.h) and says what was found and from where;
 * with --save it writes it: the company's settings when this user may, otherwise their own. */
static int
cmd_setup (Invocation *inv,
           const char *address)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MrDiscovery) discovery = mr_discover_sync (address, NULL, NULL, &error);
  const char *saved = NULL;

  if (discovery == NULL)
    return fail (inv, error);
  if (inv->save)
    {
      MrScope scope = mr_settings_can_edit_company (inv->settings) ? MR_SCOPE_COMPANY : MR_SCOPE_USER;

      if (!mr_discovery_apply (discovery, inv->settings, scope, address, &error))
        return fail (inv, error);
      saved = scope == MR_SCOPE_COMPANY ? "company" : "user";
    }

  if (inv->json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (builder);
      add_string (builder, "address", address);
      add_string (builder, "source", mr_discover_source_to_string (discovery->source));
      add_string (builder, "found_by", discovery->found_by);
      add_string (builder, "provider", discovery->provider);
      add_string (builder, "provider_name", discovery->provider_name);
      add_string (builder, "host", discovery->host);
      json_builder_set_member_name (builder, "port");
      json_builder_add_int_value (builder, discovery->port);
      add_string (builder, "security", discovery->security);
      add_string (builder, "auth", discovery->auth);
      add_string (builder, "username", discovery->username);
      add_string (builder, "help_url", discovery->help_url);
      add_string_array (builder, "steps", discovery->steps);
      add_string (builder, "saved", saved);
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      print_json (root);
      return MR_EXIT_OK;
    }

  g_print ("%s\n", discovery->found_by);
  if (discovery->host != NULL)
    g_print (_("Server: %s, port %u, %s\n"), discovery->host, discovery->port,
             g_strcmp0 (discovery->security, "tls") == 0 ? _("encrypted (TLS)")
             : g_strcmp0 (discovery->security, "starttls") == 0 ? _("encrypted (STARTTLS)") : _("not encrypted"));
  if (discovery->username != NULL)
    g_print (_("Login: %s\n"), discovery->username);
  if (discovery->help_url != NULL && discovery->source == MR_DISCOVER_NONE)
    g_print (_("Your provider’s settings: %s\n"), discovery->help_url);
  if (inv->verbose)
    for (guint i = 0; i < discovery->steps->len; i++)
      g_printerr ("* %s\n", (const char *) g_ptr_array_index (discovery->steps, i));
  if (saved != NULL)
    g_print (g_str_equal (saved, "company") ? _("Saved in the company settings. Next: mailroom-cli company password, "
                                                "then mailroom-cli check.\n")
                                            : _("Saved in your own settings. Next: mailroom-cli user password, "
                                                "then mailroom-cli check.\n"));
  else
    g_print (_("Nothing was saved: run it again with --save to keep it.\n"));
  return MR_EXIT_OK;
}

/* ---- templates and render --------------------------------------------------------------------- */

static const char *
scope_name (MrTemplateScope scope)
{
  switch (scope)
    {
    case MR_TEMPLATE_SCOPE_COMPANY: return "company";
    case MR_TEMPLATE_SCOPE_PERSONAL: return "personal";
    case MR_TEMPLATE_SCOPE_FILE:
    default: return "file";
    }
}

static void
add_template_json (JsonBuilder *builder,
                   MrTemplate  *template_,
                   gboolean     full)
{
  json_builder_begin_object (builder);
  add_string (builder, "name", template_->name);
  add_string (builder, "scope", scope_name (template_->scope));
  add_string (builder, "path", template_->path);
  add_string (builder, "description", template_->description);
  if (full)
    {
      g_autoptr(GPtrArray) variables = mr_template_list_variables (template_, NULL);

      add_string (builder, "subject", template_->subject);
      add_string (builder, "text", template_->text);
      add_string (builder, "html", template_->html);
      add_string (builder, "from_name", template_->from_name);
      add_string (builder, "from_address", template_->from_address);
      add_string (builder, "route", template_->route);
      add_string (builder, "app", template_->app);
      add_string (builder, "log", template_->log);
      json_builder_set_member_name (builder, "strict");
      json_builder_add_boolean_value (builder, template_->strict);
      add_string_array (builder, "variables", variables);
      if (template_->remote_images != NULL && template_->remote_images->len > 0)
        add_string_array (builder, "remote_images_removed", template_->remote_images);
      json_builder_set_member_name (builder, "attachments");
      json_builder_begin_array (builder);
      for (guint i = 0; i < template_->attachments->len; i++)
        json_builder_add_string_value (builder, ((MrTemplateAttachment *) g_ptr_array_index (template_->attachments, i))->path);
      json_builder_end_array (builder);
    }
  json_builder_end_object (builder);
}

static int
cmd_templates (Invocation *inv,
               const char *command)
{
  g_autoptr(GError) error = NULL;

  if (g_str_equal (command, "list") && inv->args->len == 0)
    {
      g_autoptr(GPtrArray) all = mr_template_list (&error);
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_array (builder);
      for (guint i = 0; i < all->len; i++)
        {
          MrTemplate *template_ = g_ptr_array_index (all, i);

          if (inv->json)
            add_template_json (builder, template_, FALSE);
          else
            g_print ("%s\t%s\t%s\n", template_->name, scope_name (template_->scope),
                     template_->description ? template_->description : "");
        }
      json_builder_end_array (builder);
      if (inv->json)
        {
          root = json_builder_get_root (builder);
          print_json (root);
        }
      return MR_EXIT_OK;
    }

  if (g_str_equal (command, "show") && inv->args->len == 1)
    {
      g_autoptr(MrTemplate) template_ = mr_template_find (g_ptr_array_index (inv->args, 0), &error);
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;
      g_autoptr(GPtrArray) variables = NULL;

      if (template_ == NULL)
        return fail (inv, error);
      variables = mr_template_list_variables (template_, &error);
      if (variables == NULL)
        return fail (inv, error);
      if (inv->json)
        {
          add_template_json (builder, template_, TRUE);
          root = json_builder_get_root (builder);
          print_json (root);
          return MR_EXIT_OK;
        }
      g_print (_("Name: %s (%s)\nFile: %s\nSubject: %s\n"), template_->name, scope_name (template_->scope),
               template_->path, template_->subject);
      g_print (_("Bodies: %s%s%s\n"), template_->text ? "text" : "", template_->text && template_->html ? ", " : "",
               template_->html ? "HTML" : "");
      g_ptr_array_add (variables, NULL);
      {
        g_autofree char *joined = g_strjoinv (", ", (char **) variables->pdata);
        g_print (_("Variables: %s\n"), joined);
      }
      if (template_->from_address != NULL)
        g_print (_("From: %s <%s>\n"), template_->from_name ? template_->from_name : "", template_->from_address);
      for (guint i = 0; i < template_->attachments->len; i++)
        g_print (_("Attachment: %s\n"), ((MrTemplateAttachment *) g_ptr_array_index (template_->attachments, i))->path);
      g_print (_("Sent via: %s; log: %s%s\n"), template_->route, template_->log, template_->strict ? _("; strict") : "");
      for (guint i = 0; template_->remote_images != NULL && i < template_->remote_images->len; i++)
        g_print (_("Left out: the image at %s, which mail programs would not show (embed it instead)\n"),
                 (const char *) g_ptr_array_index (template_->remote_images, i));
      return MR_EXIT_OK;
    }

  if (g_str_equal (command, "import") && inv->args->len == 1)
    {
      g_autoptr(MrTemplate) template_ = mr_template_import (g_ptr_array_index (inv->args, 0), &error);

      if (template_ == NULL)
        return fail (inv, error);
      g_printerr (_("Imported “%s” into %s\n"), template_->name, template_->path);
      return MR_EXIT_OK;
    }

  if (g_str_equal (command, "export") && inv->args->len == 2)
    {
      g_autoptr(MrTemplate) template_ = mr_template_find (g_ptr_array_index (inv->args, 0), &error);

      if (template_ == NULL)
        return fail (inv, error);
      if (!mr_template_export (template_, g_ptr_array_index (inv->args, 1), &error))
        return fail (inv, error);
      return MR_EXIT_OK;
    }

  {
    g_autofree char *message = g_strdup_printf (_("Unknown command “templates %s” or wrong arguments"), command);
    return usage_error (inv, message);
  }
}

/* --data FILE.json, then each --var KEY=VALUE on top (dotted keys make nested objects). */
static JsonNode *
load_render_data (Invocation  *inv,
                  GError     **error)
{
  g_autoptr(JsonNode) data = NULL;
  JsonObject *root;

  if (inv->data_file != NULL)
    {
      data = mr_json_parse_file (inv->data_file, error);
      if (data == NULL)
        {
          g_prefix_error (error, "%s: ", inv->data_file);
          if ((*error)->domain != G_FILE_ERROR)
            {
              g_autofree char *message = g_strdup ((*error)->message);
              g_clear_error (error);
              g_set_error_literal (error, MR_TEMPLATE_ERROR, MR_TEMPLATE_ERROR_INVALID, message);
            }
          else
            {
              g_autofree char *message = g_strdup ((*error)->message);
              g_clear_error (error);
              g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, message);
            }
          return NULL;
        }
      if (!JSON_NODE_HOLDS_OBJECT (data))
        {
          g_set_error (error, MR_TEMPLATE_ERROR, MR_TEMPLATE_ERROR_INVALID, _("%s: the data must be a JSON object"),
                       inv->data_file);
          return NULL;
        }
    }
  else
    {
      data = json_node_new (JSON_NODE_OBJECT);
      json_node_take_object (data, json_object_new ());
    }

  root = json_node_get_object (data);
  for (guint i = 0; i < inv->vars->len; i++)
    {
      const char *assignment = g_ptr_array_index (inv->vars, i);
      g_autofree char *key = g_strndup (assignment, strchr (assignment, '=') - assignment);
      g_auto(GStrv) parts = g_strsplit (key, ".", -1);
      JsonObject *object = root;

      for (guint p = 0; parts[p + 1] != NULL; p++)
        {
          if (!json_object_has_member (object, parts[p]) ||
              !JSON_NODE_HOLDS_OBJECT (json_object_get_member (object, parts[p])))
            json_object_set_object_member (object, parts[p], json_object_new ());
          object = json_object_get_object_member (object, parts[p]);
        }
      json_object_set_string_member (object, parts[g_strv_length (parts) - 1], strchr (assignment, '=') + 1);
    }
  return g_steal_pointer (&data);
}

/* The template @name rendered with --data and --var; a variable with no value is warned about. */
static MrRendered *
render_for_cli (Invocation  *inv,
                const char  *name,
                MrTemplate **template_out,
                GError     **error)
{
  g_autoptr(MrTemplate) template_ = mr_template_find (name, error);
  g_autoptr(JsonNode) data = NULL;
  MrRendered *rendered;

  g_autoptr(MrOutgoing) sender = mr_outgoing_new ();

  if (template_ == NULL || (data = load_render_data (inv, error)) == NULL)
    return NULL;
  /* {{sender.name}}: who it will be from (no sender set up yet: those fields stay empty, and say so). */
  mr_settings_fill_sender (inv->settings, template_->app, sender, NULL);
  rendered = mr_template_render_as (template_, data, sender, 0, error);
  if (rendered == NULL)
    return NULL;
  for (guint i = 0; i < rendered->missing->len; i++)
    g_printerr (_("mailroom-cli: warning: the variable “%s” has no value\n"), (const char *) g_ptr_array_index (rendered->missing, i));
  *template_out = g_steal_pointer (&template_);
  return rendered;
}

static int
cmd_render (Invocation *inv,
            const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MrTemplate) template_ = NULL;
  g_autoptr(MrRendered) rendered = NULL;

  if (inv->args->len != 0)
    return usage_error (inv, _("“render” takes one template"));
  rendered = render_for_cli (inv, name, &template_, &error);
  if (rendered == NULL)
    return fail (inv, error);

  if (inv->mime)
    {
      g_autoptr(MrOutgoing) outgoing = mr_outgoing_new ();
      g_autoptr(GBytes) message = NULL;
      g_autofree char *from = mr_settings_dup_effective_string (inv->settings, template_->app, "sender.from_address");
      g_autofree char *from_name = mr_settings_dup_effective_string (inv->settings, template_->app, "sender.from_name");

      outgoing->from_address = g_strdup (*from ? from : "sender@example.invalid");
      outgoing->from_name = *from_name ? g_strdup (from_name) : NULL;
      g_ptr_array_add (outgoing->to, g_strdup (inv->to ? inv->to : "recipient@example.invalid"));
      if (!mr_template_fill_outgoing (template_, rendered, outgoing, &error))
        return fail (inv, error);
      message = mr_outgoing_build (outgoing, NULL, &error);
      if (message == NULL)
        return fail (inv, error);
      fwrite (g_bytes_get_data (message, NULL), 1, g_bytes_get_size (message), stdout);
      return MR_EXIT_OK;
    }

  if (inv->json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (builder);
      add_string (builder, "subject", rendered->subject);
      add_string (builder, "text", rendered->text);
      add_string (builder, "html", rendered->html);
      add_string_array (builder, "missing", rendered->missing);
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      print_json (root);
      return MR_EXIT_OK;
    }

  g_print ("Subject: %s\n", rendered->subject);
  if (rendered->text != NULL)
    g_print ("\n-- text --\n%s", rendered->text);
  if (rendered->html != NULL)
    g_print ("\n-- HTML --\n%s", rendered->html);
  return MR_EXIT_OK;
}


/* ---- send, outbox and log --------------------------------------------------------------------- */

static void
add_report_json (JsonBuilder  *builder,
                 MrSendReport *report)
{
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_int_value (builder, report->id);
  add_string (builder, "state", mr_sent_state_to_string (report->state));
  add_string (builder, "message_id", report->message_id);
  add_string (builder, "route", report->route);
  add_string (builder, "reply", report->reply);
  add_strv (builder, "refused", (const char * const *) report->refused);
  add_strv (builder, "deferred", (const char * const *) report->deferred);
  add_string (builder, "error", report->failure ? report->failure->message : NULL);
  json_builder_end_object (builder);
}

static int
print_report (Invocation   *inv,
              MrSendReport *report)
{
  if (inv->json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      add_report_json (builder, report);
      root = json_builder_get_root (builder);
      print_json (root);
    }
  else if (report->state == MR_SENT_STATE_ACCEPTED || report->state == MR_SENT_STATE_PARTLY_ACCEPTED ||
           (report->state == MR_SENT_STATE_QUEUED && report->failure == NULL))
    {
      g_autofree char *entry = g_strdup_printf ("%" G_GINT64_FORMAT, report->id);

      g_print (report->state == MR_SENT_STATE_ACCEPTED ? _("Accepted by the server (%s, log entry %s)\n")
                                                      : _("Accepted by the server for some recipients (%s, log entry %s)\n"),
               report->message_id, entry);
      for (guint i = 0; report->refused != NULL && report->refused[i] != NULL; i++)
        g_print (_("Refused: %s\n"), report->refused[i]);
      for (guint i = 0; report->deferred != NULL && report->deferred[i] != NULL; i++)
        g_print (_("Refused for now, waits in the outbox: %s\n"), report->deferred[i]);
    }
  else if (report->state == MR_SENT_STATE_QUEUED)
    {
      g_autofree char *entry = g_strdup_printf ("%" G_GINT64_FORMAT, report->id);

      g_printerr (_("mailroom-cli: %s\nThe mail waits in the outbox (entry %s) and will be tried again.\n"),
                  report->failure ? report->failure->message : "", entry);
    }
  else
    g_printerr ("mailroom-cli: %s\n", report->failure ? report->failure->message : "");

  if (report->state == MR_SENT_STATE_ACCEPTED)
    return MR_EXIT_OK;
  /* Some recipients wait for another try: 75, as for a mail that waits whole. */
  if (report->state == MR_SENT_STATE_QUEUED)
    return MR_EXIT_TEMPFAIL;
  /* Some refused for good while the others were taken: 76, as a mailshot says it. */
  if (report->state == MR_SENT_STATE_PARTLY_ACCEPTED)
    return MR_EXIT_PROTOCOL;
  return report->failure ? (int) mr_error_get_exit_status (report->failure) : MR_EXIT_PROTOCOL;
}

static gboolean
add_addresses (GPtrArray   *into,
               GPtrArray   *from,
               const char  *option,
               GError     **error)
{
  for (guint i = 0; i < from->len; i++)
    {
      if (!mr_validate_address (g_ptr_array_index (from, i), error))
        {
          g_prefix_error (error, "%s: ", option);
          return FALSE;
        }
      g_ptr_array_add (into, g_strdup (g_ptr_array_index (from, i)));
    }
  return TRUE;
}

/* The log, with what is older than log.retention_days removed: it holds personal data. */
static MrSentLog *
open_log (Invocation  *inv,
          GError     **error)
{
  return mr_outbox_open_log (inv->settings, NULL, error);
}

static int
cmd_send (Invocation *inv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MrTemplate) template_ = NULL;
  g_autoptr(MrRendered) rendered = NULL;
  g_autoptr(MrOutgoing) outgoing = mr_outgoing_new ();
  g_autoptr(MrSentLog) log = NULL;
  g_autoptr(MrSendReport) report = NULL;
  const char *route;
  const char *app;

  if (inv->template_name == NULL)
    return usage_error (inv, _("“send” needs --template TEMPLATE"));
  if (inv->to_list->len == 0)
    return usage_error (inv, _("“send” needs at least one --to ADDRESS"));
  if (inv->via != NULL && !g_strv_contains ((const char * const[]) { "smtp", "exchange", "auto", NULL }, inv->via))
    return usage_error (inv, _("--via takes smtp, exchange or auto"));

  rendered = render_for_cli (inv, inv->template_name, &template_, &error);
  if (rendered == NULL)
    return fail (inv, error);

  if (!add_addresses (outgoing->to, inv->to_list, "--to", &error) ||
      !add_addresses (outgoing->cc, inv->cc_list, "--cc", &error) ||
      !add_addresses (outgoing->bcc, inv->bcc_list, "--bcc", &error))
    return fail (inv, error);
  if (!mr_template_fill_outgoing (template_, rendered, outgoing, &error))
    return fail (inv, error);
  for (guint i = 0; i < inv->attach_list->len; i++)
    {
      const char *file = g_ptr_array_index (inv->attach_list, i);

      if (!g_file_test (file, G_FILE_TEST_IS_REGULAR))
        {
          g_set_error (&error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, _("--attach: %s is not a file"), file);
          return fail (inv, error);
        }
      mr_outgoing_add_attachment (outgoing, file, NULL, NULL);
    }

  log = open_log (inv, &error);
  if (log == NULL)
    return fail (inv, error);
  route = inv->via ? inv->via : template_->route;
  app = inv->app ? inv->app : template_->app;
  report = mr_outbox_send_sync (inv->settings, log, app, route, outgoing, template_->name, template_->log, NULL, NULL, &error);
  if (report == NULL)
    return fail (inv, error);
  return print_report (inv, report);
}

static char *
format_time (gint64 unix_time)
{
  g_autoptr(GDateTime) time = g_date_time_new_from_unix_local (unix_time);
  return g_date_time_format (time, "%Y-%m-%d %H:%M");
}

static void
add_entry_json (JsonBuilder *builder,
                MrSentEntry *entry)
{
  g_autofree char *created = format_time (entry->created);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_int_value (builder, entry->id);
  add_string (builder, "message_id", entry->message_id);
  add_string (builder, "created", created);
  add_string (builder, "state", mr_sent_state_to_string (entry->state));
  add_string (builder, "from", entry->from_address);
  add_strv (builder, "recipients", (const char * const *) entry->recipients);
  /* Each recipient's own outcome and the server's reply about it. */
  json_builder_set_member_name (builder, "outcomes");
  json_builder_begin_array (builder);
  for (guint i = 0; entry->outcomes != NULL && i < entry->outcomes->len; i++)
    {
      MrSentRecipient *recipient = g_ptr_array_index (entry->outcomes, i);

      json_builder_begin_object (builder);
      add_string (builder, "address", recipient->address);
      add_string (builder, "outcome", recipient->outcome);
      add_string (builder, "reply", recipient->reply);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  add_string (builder, "subject", entry->subject);
  add_string (builder, "template", entry->template_name);
  add_string (builder, "app", entry->app);
  add_string (builder, "route", entry->route);
  if (entry->mailshot > 0)
    {
      json_builder_set_member_name (builder, "mailshot");
      json_builder_add_int_value (builder, entry->mailshot);
    }
  json_builder_set_member_name (builder, "attempts");
  json_builder_add_int_value (builder, entry->attempts);
  add_string (builder, "last_error", entry->last_error);
  json_builder_set_member_name (builder, "copy");
  json_builder_add_boolean_value (builder, entry->has_copy);
  if (entry->state == MR_SENT_STATE_QUEUED)
    {
      g_autofree char *next = format_time (entry->next_attempt);
      add_string (builder, "next_attempt", next);
    }
  json_builder_end_object (builder);
}

static int
print_entries (Invocation *inv,
               GPtrArray  *entries)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_array (builder);
  for (guint i = 0; i < entries->len; i++)
    {
      MrSentEntry *entry = g_ptr_array_index (entries, i);

      if (inv->json)
        add_entry_json (builder, entry);
      else
        {
          g_autofree char *created = format_time (entry->created);
          GString *to = g_string_new (NULL);

          /* A recipient whose outcome is not the mail's own says it: "bob@… (refused)". */
          for (guint r = 0; r < entry->outcomes->len; r++)
            {
              MrSentRecipient *recipient = g_ptr_array_index (entry->outcomes, r);
              gboolean as_mail = (entry->state == MR_SENT_STATE_ACCEPTED && g_str_equal (recipient->outcome, "accepted")) ||
                                 (entry->state == MR_SENT_STATE_FAILED && g_str_equal (recipient->outcome, "refused"));

              g_string_append_printf (to, "%s%s", r ? ", " : "", recipient->address);
              if (!as_mail && entry->state != MR_SENT_STATE_SENDING && entry->state != MR_SENT_STATE_CANCELLED)
                g_string_append_printf (to, " (%s)", recipient->outcome);
            }
          g_print ("%" G_GINT64_FORMAT "\t%s\t%s\t%s\t%s\n", entry->id, created, mr_sent_state_to_string (entry->state),
                   to->str, entry->subject);
          g_string_free (to, TRUE);
        }
    }
  json_builder_end_array (builder);
  if (inv->json)
    {
      root = json_builder_get_root (builder);
      print_json (root);
    }
  return MR_EXIT_OK;
}

/* "log --addresses PREFIX": the addresses mail went to, most used first, as To completes them. */
static int
log_addresses (Invocation *inv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MrSentLog) log = open_log (inv, &error);
  g_autoptr(GPtrArray) addresses = NULL;

  if (log == NULL)
    return fail (inv, error);
  addresses = mr_sent_log_complete_addresses (log, inv->addresses, 20, &error);
  if (addresses == NULL)
    return fail (inv, error);
  if (inv->json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_array (builder);
      for (guint i = 0; i < addresses->len; i++)
        {
          MrSentAddress *address = g_ptr_array_index (addresses, i);

          json_builder_begin_object (builder);
          add_string (builder, "address", address->address);
          json_builder_set_member_name (builder, "count");
          json_builder_add_int_value (builder, address->count);
          json_builder_set_member_name (builder, "last_sent");
          json_builder_add_int_value (builder, address->last_sent);
          json_builder_end_object (builder);
        }
      json_builder_end_array (builder);
      root = json_builder_get_root (builder);
      print_json (root);
    }
  else
    for (guint i = 0; i < addresses->len; i++)
      g_print ("%s\n", ((MrSentAddress *) g_ptr_array_index (addresses, i))->address);
  return MR_EXIT_OK;
}

static int
cmd_log (Invocation *inv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MrSentLog) log = NULL;
  g_autoptr(GPtrArray) entries = NULL;
  MrSentQuery query = { NULL, inv->to, 0, 0, -1, 0 };

  if (inv->args->len != 0)
    return usage_error (inv, _("“log” takes no arguments"));
  if (inv->addresses != NULL)
    return log_addresses (inv);
  if (inv->since != NULL)
    {
      g_autofree char *iso = g_strdup_printf ("%sT00:00:00", inv->since);
      g_autoptr(GTimeZone) zone = g_time_zone_new_local ();
      g_autoptr(GDateTime) since = g_date_time_new_from_iso8601 (iso, zone);

      if (since == NULL)
        return usage_error (inv, _("--since takes a date as YYYY-MM-DD"));
      query.since = g_date_time_to_unix (since);
    }
  if (inv->status != NULL)
    {
      MrSentState state;

      if (!mr_sent_state_from_string (inv->status, &state))
        return usage_error (inv, _("--status takes accepted, partly-accepted, failed, queued, sending or cancelled"));
      query.state = state;
    }

  log = open_log (inv, &error);
  if (log == NULL)
    return fail (inv, error);
  entries = mr_sent_log_search (log, &query, &error);
  if (entries == NULL)
    return fail (inv, error);
  return print_entries (inv, entries);
}

/* "outbox retry" and "outbox cancel" act on mail that waits in the outbox, and nothing else. */
static gboolean
is_queued (Invocation  *inv,
           MrSentLog   *log,
           gint64       id,
           GError     **error)
{
  g_autoptr(MrSentEntry) entry = mr_sent_log_get (log, id, error);

  if (entry == NULL)
    return FALSE;
  if (entry->state != MR_SENT_STATE_QUEUED)
    {
      g_set_error (error, MR_SENT_LOG_ERROR, MR_SENT_LOG_ERROR_NOT_FOUND, _("Entry %s is not in the outbox (it is %s)"),
                   (const char *) g_ptr_array_index (inv->args, 0), mr_sent_state_to_string (entry->state));
      return FALSE;
    }
  return TRUE;
}

static int
cmd_outbox (Invocation *inv,
            const char *command)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MrSentLog) log = mr_sent_log_open (NULL, &error);
  gint64 id = 0;

  if (log == NULL)
    return fail (inv, error);

  if (command == NULL)
    {
      MrSentQuery query = { NULL, NULL, 0, 0, MR_SENT_STATE_QUEUED, 0 };
      g_autoptr(GPtrArray) entries = mr_sent_log_search (log, &query, &error);

      if (entries == NULL)
        return fail (inv, error);
      return print_entries (inv, entries);
    }

  if ((g_str_equal (command, "retry") || g_str_equal (command, "cancel")) &&
      (inv->args->len != 1 || !g_ascii_string_to_signed (g_ptr_array_index (inv->args, 0), 10, 1, G_MAXINT64, &id, NULL)))
    return usage_error (inv, _("“outbox retry” and “outbox cancel” take an entry number"));

  if (g_str_equal (command, "cancel"))
    {
      if (!is_queued (inv, log, id, &error) || !mr_sent_log_set_state (log, id, MR_SENT_STATE_CANCELLED, 0, &error))
        return fail (inv, error);
      return MR_EXIT_OK;
    }

  if (g_str_equal (command, "retry") || g_str_equal (command, "run"))
    {
      g_autoptr(GPtrArray) reports = NULL;
      int status = MR_EXIT_OK;

      /* Its time is now. */
      if (g_str_equal (command, "retry") &&
          (!is_queued (inv, log, id, &error) ||
           !mr_sent_log_set_state (log, id, MR_SENT_STATE_QUEUED, g_get_real_time () / G_USEC_PER_SEC, &error)))
        return fail (inv, error);
      reports = mr_outbox_process_sync (inv->settings, log, g_get_real_time () / G_USEC_PER_SEC, NULL, &error);
      if (reports == NULL)
        return fail (inv, error);
      for (guint i = 0; i < reports->len; i++)
        {
          MrSendReport *report = g_ptr_array_index (reports, i);
          int one = print_report (inv, report);

          if (one != MR_EXIT_OK && status == MR_EXIT_OK)
            status = one;
        }
      return status;
    }

  {
    g_autofree char *message = g_strdup_printf (_("Unknown command “outbox %s”"), command);
    return usage_error (inv, message);
  }
}

/* A kept copy sent again as a new mail: "Send again" on the Sent page. */
static int
cmd_resend (Invocation *inv,
            const char *number)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MrSentLog) log = NULL;
  g_autoptr(MrSendReport) report = NULL;
  gint64 id = 0;

  if (number == NULL || inv->args->len != 0 || !g_ascii_string_to_signed (number, 10, 1, G_MAXINT64, &id, NULL))
    return usage_error (inv, _("“resend” takes an entry number"));
  log = open_log (inv, &error);
  if (log == NULL)
    return fail (inv, error);
  report = mr_outbox_send_again_sync (inv->settings, log, id, NULL, &error);
  if (report == NULL)
    return fail (inv, error);
  return print_report (inv, report);
}

/* ---- mailshot --------------------------------------------------------------------------------- */

/* The proof-reader alone: every row checked, nothing sent. Exit 65 when a row has an error. */
/* The mailshot options given on the command line; @excluded owns the excluded rows. */
static int
mailshot_options (Invocation         *inv,
                  MrTemplate         *template_,
                  MrMailshotOptions  *options,
                  GHashTable        **excluded)
{
  gint64 number;

  options->app = inv->app ? inv->app : template_->app;
  /* The template's route, unless --via says otherwise. */
  if (inv->via != NULL && !g_strv_contains ((const char * const[]) { "smtp", "exchange", "auto", NULL }, inv->via))
    return usage_error (inv, _("--via takes smtp, exchange or auto"));
  options->route = inv->via ? inv->via : template_->route;
  options->proof.sheet = inv->sheet;
  options->proof.address_column = inv->address_column;
  options->proof.attachment_column = inv->attachment_column;
  options->proof.name_column = inv->name_column;
  options->proof.attachments_dir = inv->attachments_dir;
  options->proof.send_duplicates = inv->send_duplicates;
  options->proof.size_limit = mr_delivery_get_known_size_limit (inv->settings, options->app);
  if ((inv->attachment_column == NULL) != (inv->attachments_dir == NULL))
    return usage_error (inv, _("--attachment-column and --attachments-dir go together"));
  if (inv->rate != NULL)
    {
      g_autofree char *text = g_str_has_suffix (inv->rate, "/min") ? g_strndup (inv->rate, strlen (inv->rate) - 4)
                                                                    : g_strdup (inv->rate);
      if (!g_ascii_string_to_signed (text, 10, 0, 100000, &number, NULL))
        return usage_error (inv, _("--rate takes messages a minute, for example 30/min (0: no limit)"));
      options->per_minute = (int) number;
    }
  if (inv->per_day != NULL)
    {
      if (!g_ascii_string_to_signed (inv->per_day, 10, 0, 10000000, &number, NULL))
        return usage_error (inv, _("--per-day takes a number of messages (0: no limit)"));
      options->per_day = (int) number;
    }
  if (inv->connections != NULL)
    {
      if (!g_ascii_string_to_signed (inv->connections, 10, 1, 20, &number, NULL))
        return usage_error (inv, _("--connections takes a number from 1 to 20"));
      options->connections = (int) number;
    }
  if (inv->limit != NULL)
    {
      if (!g_ascii_string_to_signed (inv->limit, 10, 1, G_MAXINT, &number, NULL))
        return usage_error (inv, _("--limit takes a number of recipients"));
      options->proof.limit = (guint) number;
    }
  if (inv->start != NULL)
    {
      g_autofree char *iso = g_strdup (inv->start);
      g_autofree char *full = NULL;
      g_autoptr(GTimeZone) local = g_time_zone_new_local ();
      g_autoptr(GDateTime) when = NULL;

      g_strdelimit (iso, " ", 'T');
      /* "2026-12-01T08:00": GLib wants the seconds too. */
      full = strlen (iso) == 16 ? g_strconcat (iso, ":00", NULL) : g_strdup (iso);
      when = g_date_time_new_from_iso8601 (full, local);
      if (when == NULL)
        return usage_error (inv, _("--start takes a date and time, for example “2026-12-01 08:00”"));
      options->start_at = g_date_time_to_unix (when);
    }
  if (inv->exclude_rows != NULL)
    {
      g_auto(GStrv) ranges = g_strsplit (inv->exclude_rows, ",", -1);

      *excluded = g_hash_table_new (NULL, NULL);
      for (guint i = 0; ranges[i] != NULL; i++)
        {
          g_auto(GStrv) ends = g_strsplit (g_strstrip (ranges[i]), "-", 2);
          gint64 first, last;

          if (!g_ascii_string_to_signed (ends[0], 10, 2, G_MAXINT, &first, NULL) ||
              !g_ascii_string_to_signed (ends[1] ? ends[1] : ends[0], 10, first, G_MAXINT, &last, NULL) ||
              last - first > 10000000)
            return usage_error (inv, _("--exclude-rows takes row numbers as the spreadsheet shows them, for example 3,7-9"));
          for (gint64 row = first; row <= last; row++)
            g_hash_table_add (*excluded, GUINT_TO_POINTER ((guint) row));
        }
      options->proof.excluded_rows = *excluded;
    }
  return -1;
}

/* What every mailshot command starts with: the template, and the options of the command line.
 * Returns -1 to go on, otherwise the exit status; @missing is the usage error without --template or
 * --recipients. */
static int
mailshot_setup (Invocation         *inv,
                const char         *missing,
                MrTemplate        **template_,
                MrMailshotOptions  *options,
                GHashTable        **excluded)
{
  g_autoptr(GError) error = NULL;

  if (inv->template_name == NULL || inv->recipients == NULL)
    return usage_error (inv, missing);
  *template_ = mr_template_find (inv->template_name, &error);
  if (*template_ == NULL)
    return fail (inv, error);
  return mailshot_options (inv, *template_, options, excluded);
}

static int
cmd_mailshot_check (Invocation *inv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MrTemplate) template_ = NULL;
  g_autoptr(MrProofReport) report = NULL;
  g_autoptr(GHashTable) excluded = NULL;
  MrMailshotOptions options = MR_MAILSHOT_OPTIONS_INIT;
  int status;

  if ((status = mailshot_setup (inv, _("“mailshot check” needs --template TEMPLATE and --recipients FILE"), &template_,
                                &options, &excluded)) >= 0)
    return status;
  report = mr_proofread_full (template_, inv->recipients, &options.proof, NULL, NULL, &error);
  if (report == NULL)
    return fail (inv, error);

  if (inv->json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (builder);
      add_string (builder, "address_column", report->address_column);
      if (report->sheet != NULL)
        add_string (builder, "sheet", report->sheet);
      json_builder_set_member_name (builder, "hidden_rows");
      json_builder_add_int_value (builder, report->hidden_rows);
      json_builder_set_member_name (builder, "rows");
      json_builder_add_int_value (builder, report->rows);
      json_builder_set_member_name (builder, "sendable");
      json_builder_add_int_value (builder, report->sendable);
      json_builder_set_member_name (builder, "rows_with_errors");
      json_builder_add_int_value (builder, report->rows_with_errors);
      json_builder_set_member_name (builder, "warnings");
      json_builder_add_int_value (builder, report->warnings);
      json_builder_set_member_name (builder, "problems");
      json_builder_begin_array (builder);
      for (guint i = 0; i < report->problems->len; i++)
        {
          MrProblem *problem = g_ptr_array_index (report->problems, i);

          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "row");
          json_builder_add_int_value (builder, problem->row);
          add_string (builder, "severity", mr_problem_severity_to_string (problem->severity));
          add_string (builder, "kind", problem->kind);
          add_string (builder, "message", problem->message);
          json_builder_end_object (builder);
        }
      json_builder_end_array (builder);
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      print_json (root);
    }
  else
    {
      for (guint i = 0; i < report->problems->len; i++)
        {
          MrProblem *problem = g_ptr_array_index (report->problems, i);

          g_print ("%s: %s\n", problem->severity == MR_PROBLEM_ERROR ? _("error") : _("warning"), problem->message);
        }
      if (report->sheet != NULL)
        g_print (_("Sheet “%s”\n"), report->sheet);
      g_print (g_dngettext (GETTEXT_PACKAGE, "%u row: %u to send, %u with errors, %u warnings\n",
                            "%u rows: %u to send, %u with errors, %u warnings\n", report->rows),
               report->rows, report->sendable, report->rows_with_errors, report->warnings);
      if (report->hidden_rows > 0)
        g_print (g_dngettext (GETTEXT_PACKAGE, "%u row the spreadsheet hides was left out\n",
                              "%u rows the spreadsheet hides were left out\n", report->hidden_rows),
                 report->hidden_rows);
    }
  return report->rows_with_errors > 0 ? MR_EXIT_DATA : MR_EXIT_OK;
}

static void
add_uint (JsonBuilder *builder,
          const char  *name,
          guint        value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_int_value (builder, value);
}

/* 0 when every recipient was accepted (or skipped by choice), 76 when some failed for good, 75 when
 * some are still to be sent or the job is paused: the worst wins. */
static int
mailshot_exit_status (const MrMailshotStatus *status)
{
  if (status->failed_permanent > 0)
    return MR_EXIT_PROTOCOL;
  if (status->pending > 0 || status->failed_temporary > 0 || g_str_equal (status->state, "paused"))
    return MR_EXIT_TEMPFAIL;
  return MR_EXIT_OK;
}

static void
print_mailshot_status (Invocation             *inv,
                       JsonBuilder            *builder,
                       const MrMailshotStatus *status)
{
  if (builder != NULL)
    {
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "id");
      json_builder_add_int_value (builder, status->id);
      add_string (builder, "state", status->state);
      add_string (builder, "reason", status->reason);
      add_string (builder, "template", status->template_name);
      add_string (builder, "recipients", status->recipients_path);
      add_uint (builder, "rate", status->rate);
      add_uint (builder, "total", status->total);
      add_uint (builder, "pending", status->pending);
      add_uint (builder, "accepted", status->accepted);
      add_uint (builder, "queued_locally", status->queued_locally);
      add_uint (builder, "per_day", status->per_day);
      add_uint (builder, "connections", status->connections);
      if (status->not_before > 0)
        {
          g_autofree char *when = format_time (status->not_before);
          add_string (builder, "not_before", when);
        }
      add_uint (builder, "failed_temporary", status->failed_temporary);
      add_uint (builder, "failed_permanent", status->failed_permanent);
      add_uint (builder, "skipped", status->skipped);
      json_builder_end_object (builder);
      return;
    }
  {
    g_autofree char *number = g_strdup_printf ("%" G_GINT64_FORMAT, status->id);

    g_print (_("Mailshot %s (%s, %s): %u recipients: %u accepted, %u to send, %u to try again, %u failed, %u skipped\n"),
             number, status->template_name, status->state, status->total, status->accepted, status->pending,
             status->failed_temporary, status->failed_permanent, status->skipped);
  }
  if (status->queued_locally > 0)
    g_print (g_dngettext (GETTEXT_PACKAGE, "%u handed to this computer’s mail system, which delivers it\n",
                          "%u handed to this computer’s mail system, which delivers them\n", status->queued_locally),
             status->queued_locally);
  if (status->reason != NULL)
    g_print ("%s\n", status->reason);
  else if (g_str_equal (status->state, "scheduled") && status->not_before > 0)
    {
      g_autofree char *when = format_time (status->not_before);
      g_print (_("It starts at %s\n"), when);
    }
}

/* On a terminal a bar that redraws itself; otherwise a plain line each tenth, for logs. */
static void
print_progress (guint    done,
                guint    total,
                gpointer user_data)
{
  if (isatty (STDERR_FILENO))
    {
      char bar[31];
      guint filled = total ? done * 30 / total : 30;

      memset (bar, '#', filled);
      memset (bar + filled, '.', 30 - filled);
      bar[30] = '\0';
      g_printerr ("\r[%s] %u/%u", bar, done, total);
    }
  else if (done == total || total < 10 || done % (total / 10) == 0)
    g_printerr (_("mailroom-cli: %u of %u recipients done\n"), done, total);
}

static int
run_mailshot (Invocation        *inv,
              MrMailshotJournal *journal,
              gint64             job)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MrMailshotStatus) status = NULL;
  g_autoptr(JsonBuilder) builder = inv->json ? json_builder_new () : NULL;
  gboolean ran = mr_mailshot_run_sync (journal, inv->settings, job, inv->json ? NULL : print_progress, NULL, NULL, &error);

  if (!inv->json && isatty (STDERR_FILENO))
    g_printerr ("\n");

  if (!ran && !g_error_matches (error, MR_MAILSHOT_ERROR, MR_MAILSHOT_ERROR_PAUSED))
    return fail (inv, error);
  if (!ran)
    g_printerr ("mailroom-cli: %s\n", error->message);
  status = mr_mailshot_get_status (journal, job, &error);
  if (status == NULL)
    return fail (inv, error);
  print_mailshot_status (inv, builder, status);
  if (builder != NULL)
    {
      g_autoptr(JsonNode) root = json_builder_get_root (builder);
      print_json (root);
    }
  return mailshot_exit_status (status);
}

/* How long the job will take, said before it starts. */
static void
print_estimate (const MrProofReport    *report,
                const MrMailshotStatus *status)
{
  gint64 seconds = mr_mailshot_estimate_seconds (report->sendable, status->rate, status->per_day, status->connections);

  if (status->per_day > 0 && report->sendable > status->per_day)
    g_printerr (g_dngettext (GETTEXT_PACKAGE, "mailroom-cli: %u recipients at %u a day: spread over %u day\n",
                             "mailroom-cli: %u recipients at %u a day: spread over %u days\n",
                             (guint) (seconds / 86400 + 1)),
                report->sendable, status->per_day, (guint) (seconds / 86400 + 1));
  else if (status->rate > 0)
    g_printerr (_("mailroom-cli: %u recipients at %u a minute: about %u minutes\n"), report->sendable, status->rate,
                (guint) ((seconds + 59) / 60));
}

/* Check, write the job, send it. */
/* Rows with errors stop a mailshot before anything is written or sent: say which. */
static int
refuse_rows (MrProofReport *report)
{
  for (guint i = 0; i < report->problems->len; i++)
    {
      MrProblem *problem = g_ptr_array_index (report->problems, i);
      if (problem->severity == MR_PROBLEM_ERROR)
        g_printerr ("mailroom-cli: %s\n", problem->message);
    }
  g_printerr (g_dngettext (GETTEXT_PACKAGE, "mailroom-cli: %u row has errors: nothing was sent. Fix it, or send the rest with --skip-invalid\n",
                           "mailroom-cli: %u rows have errors: nothing was sent. Fix them, or send the rest with --skip-invalid\n",
                           report->rows_with_errors), report->rows_with_errors);
  return MR_EXIT_DATA;
}

static int
cmd_mailshot_send (Invocation *inv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MrTemplate) template_ = NULL;
  g_autoptr(MrProofReport) report = NULL;
  g_autoptr(MrMailshotJournal) journal = NULL;
  g_autoptr(GHashTable) excluded = NULL;
  g_autoptr(MrMailshotStatus) created = NULL;
  MrMailshotOptions options = MR_MAILSHOT_OPTIONS_INIT;
  int status;
  gint64 job;

  if ((status = mailshot_setup (inv, _("“mailshot” needs --template TEMPLATE and --recipients FILE"), &template_,
                                &options, &excluded)) >= 0)
    return status;
  if (inv->dry_run != NULL)
    {
      gint64 written;
      g_autofree char *count = NULL;
      g_autoptr(GPtrArray) failed = NULL;

      /* The proof-reader first: with errors, nothing is written unless the person chose to skip them. */
      report = mr_proofread_full (template_, inv->recipients, &options.proof, NULL, NULL, &error);
      if (report == NULL)
        return fail (inv, error);
      if (report->rows_with_errors > 0 && !inv->skip_invalid)
        return refuse_rows (report);
      written = mr_mailshot_dry_run (inv->settings, template_, inv->recipients, &options, inv->dry_run, &failed, &error);
      if (written < 0)
        return fail (inv, error);
      count = g_strdup_printf ("%" G_GINT64_FORMAT, written);
      g_print (_("%s messages written to %s; nothing was sent\n"), count, inv->dry_run);
      /* The rows a real run would fail for good, as it would: named, and exit 76. */
      for (guint i = 0; i < failed->len; i++)
        g_printerr ("mailroom-cli: %s\n", (const char *) g_ptr_array_index (failed, i));
      return failed->len > 0 ? MR_EXIT_PROTOCOL : MR_EXIT_OK;
    }

  journal = mr_mailshot_journal_open (NULL, &error);
  if (journal == NULL)
    return fail (inv, error);
  /* One pass over the list: it is checked as the job is written, and with errors nothing is written
   * or sent unless the person chose to skip them. */
  options.refuse_errors = !inv->skip_invalid;
  job = mr_mailshot_create (journal, inv->settings, template_, inv->recipients, &options, &report, &error);
  if (g_error_matches (error, MR_MAILSHOT_ERROR, MR_MAILSHOT_ERROR_ROWS) && report != NULL)
    return refuse_rows (report);
  if (job == 0 || (created = mr_mailshot_get_status (journal, job, &error)) == NULL)
    return fail (inv, error);
  if (!inv->json)
    {
      g_autofree char *number = g_strdup_printf ("%" G_GINT64_FORMAT, job);
      g_printerr (_("mailroom-cli: mailshot %s written; sending (if it stops, “mailroom-cli mailshot resume %s” goes on)\n"),
                  number, number);
      print_estimate (report, created);
    }
  /* Later or over several days: the timer runs it while nobody is logged in to a window. */
  if (options.start_at > 0 || (created->per_day > 0 && report->sendable > created->per_day))
    {
      g_autoptr(GError) timer_error = NULL;

      if (!mr_timer_install (&timer_error))
        g_printerr (_("mailroom-cli: warning: %s\n"), timer_error->message);
    }
  return run_mailshot (inv, journal, job);
}

static int
cmd_mailshot_preview (Invocation *inv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MrTemplate) template_ = NULL;
  g_autoptr(GHashTable) excluded = NULL;
  g_autoptr(MrMailshotPreview) preview = NULL;
  MrMailshotOptions options = MR_MAILSHOT_OPTIONS_INIT;
  gint64 row;
  int status;

  if (inv->row == NULL)
    return usage_error (inv, _("“mailshot preview” needs --template TEMPLATE, --recipients FILE and --row N"));
  if (!g_ascii_string_to_signed (inv->row, 10, 2, G_MAXINT, &row, NULL))
    return usage_error (inv, _("--row takes a row number as the spreadsheet shows it (the first data row is 2)"));
  if ((status = mailshot_setup (inv, _("“mailshot preview” needs --template TEMPLATE, --recipients FILE and --row N"),
                                &template_, &options, &excluded)) >= 0)
    return status;
  preview = mr_mailshot_preview (inv->settings, template_, inv->recipients, &options, (guint) row, &error);
  if (preview == NULL)
    return fail (inv, error);
  if (preview->problem != NULL)
    g_printerr (_("mailroom-cli: this row is not sent: %s\n"), preview->problem);
  if (preview->message == NULL)
    return MR_EXIT_DATA;
  fwrite (g_bytes_get_data (preview->message, NULL), 1, g_bytes_get_size (preview->message), stdout);
  return MR_EXIT_OK;
}

static int
cmd_mailshot_samples (Invocation *inv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MrTemplate) template_ = NULL;
  g_autoptr(GHashTable) excluded = NULL;
  g_autofree char *to = NULL;
  MrMailshotOptions options = MR_MAILSHOT_OPTIONS_INIT;
  gint64 count = 3;
  gint sent;
  int status;

  if (inv->count != NULL && !g_ascii_string_to_signed (inv->count, 10, 1, 100, &count, NULL))
    return usage_error (inv, _("--count takes a number from 1 to 100"));
  if ((status = mailshot_setup (inv, _("“mailshot samples” needs --template TEMPLATE and --recipients FILE"),
                                &template_, &options, &excluded)) >= 0)
    return status;
  /* To the sender by default: the user's own address, else the From address in force. */
  to = inv->to ? g_strdup (inv->to) : mr_settings_dup_effective_string (inv->settings, NULL, "user.email");
  if (to == NULL || *to == '\0')
    {
      g_free (to);
      to = mr_settings_dup_effective_string (inv->settings, options.app, "sender.from_address");
    }
  sent = mr_mailshot_send_samples_sync (inv->settings, template_, inv->recipients, &options, to, (guint) count, NULL,
                                        &error);
  if (sent < 0)
    return fail (inv, error);
  g_print (g_dngettext (GETTEXT_PACKAGE, "%d sample sent to %s\n", "%d samples sent to %s\n", sent), sent, to);
  return MR_EXIT_OK;
}

static void
print_job_error (gint64        job,
                 const GError *error,
                 gpointer      user_data)
{
  g_autofree char *number = g_strdup_printf ("%" G_GINT64_FORMAT, job);

  g_printerr (_("mailroom-cli: mailshot %s: %s\n"), number, error->message);
}

static int
cmd_mailshot_timer (Invocation *inv)
{
  g_autoptr(GError) error = NULL;
  const char *what = inv->args->len == 1 ? g_ptr_array_index (inv->args, 0) : "";

  if (g_str_equal (what, "install"))
    {
      if (!mr_timer_install (&error))
        return fail (inv, error);
      g_print (_("The mailshot timer is installed: “mailroom-cli mailshot run-due” runs every 5 minutes\n"));
      return MR_EXIT_OK;
    }
  if (g_str_equal (what, "remove"))
    {
      if (!mr_timer_remove (&error))
        return fail (inv, error);
      g_print (_("The mailshot timer is removed\n"));
      return MR_EXIT_OK;
    }
  if (g_str_equal (what, "status"))
    {
      g_print (mr_timer_is_installed () ? _("installed\n") : _("not installed\n"));
      return MR_EXIT_OK;
    }
  return usage_error (inv, _("“mailshot timer” takes install, remove or status"));
}

static int
cmd_mailshot (Invocation *inv,
              const char *command)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MrMailshotJournal) journal = NULL;
  gint64 job = 0;

  if (command == NULL)
    return cmd_mailshot_send (inv);
  if (g_str_equal (command, "check"))
    return cmd_mailshot_check (inv);
  if (g_str_equal (command, "preview"))
    return cmd_mailshot_preview (inv);
  if (g_str_equal (command, "samples"))
    return cmd_mailshot_samples (inv);
  if (g_str_equal (command, "timer"))
    return cmd_mailshot_timer (inv);
  if (g_str_equal (command, "run-due"))
    {
      int ran;

      if (inv->args->len > 0)
        return usage_error (inv, _("“mailshot run-due” takes no arguments"));
      journal = mr_mailshot_journal_open (NULL, &error);
      if (journal == NULL)
        return fail (inv, error);
      ran = mr_mailshot_run_due_sync (journal, inv->settings, print_job_error, NULL, NULL, &error);
      if (ran < 0)
        return fail (inv, error);
      return MR_EXIT_OK;
    }
  if (!g_str_equal (command, "status") && !g_str_equal (command, "resume") && !g_str_equal (command, "pause") &&
      !g_str_equal (command, "cancel") && !g_str_equal (command, "report"))
    {
      g_autofree char *message = g_strdup_printf (_("Unknown command “mailshot %s”"), command);
      return usage_error (inv, message);
    }
  if (inv->args->len > 1 ||
      (inv->args->len == 1 && !g_ascii_string_to_signed (g_ptr_array_index (inv->args, 0), 10, 1, G_MAXINT64, &job, NULL)) ||
      (job == 0 && !g_str_equal (command, "status")))
    return usage_error (inv, _("“mailshot status”, “resume”, “pause”, “cancel” and “report” take a mailshot number"));

  journal = mr_mailshot_journal_open (NULL, &error);
  if (journal == NULL)
    return fail (inv, error);

  if (g_str_equal (command, "status"))
    {
      g_autoptr(JsonBuilder) builder = inv->json ? json_builder_new () : NULL;
      g_autoptr(GPtrArray) jobs = NULL;
      int status = MR_EXIT_OK;

      if (job != 0)
        {
          MrMailshotStatus *one = mr_mailshot_get_status (journal, job, &error);
          if (one == NULL)
            return fail (inv, error);
          jobs = g_ptr_array_new_with_free_func ((GDestroyNotify) mr_mailshot_status_free);
          g_ptr_array_add (jobs, one);
        }
      else if ((jobs = mr_mailshot_list (journal, &error)) == NULL)
        return fail (inv, error);
      if (builder != NULL && job == 0)
        json_builder_begin_array (builder);
      for (guint i = 0; i < jobs->len; i++)
        print_mailshot_status (inv, builder, g_ptr_array_index (jobs, i));
      if (builder != NULL)
        {
          g_autoptr(JsonNode) root = NULL;

          if (job == 0)
            json_builder_end_array (builder);
          root = json_builder_get_root (builder);
          print_json (root);
        }
      if (job != 0)
        status = mailshot_exit_status (g_ptr_array_index (jobs, 0));
      return status;
    }
  if (g_str_equal (command, "resume"))
    return run_mailshot (inv, journal, job);
  if (g_str_equal (command, "report"))
    {
      g_autofree char *path = inv->output ? g_strdup (inv->output) : g_strdup_printf ("mailshot-%" G_GINT64_FORMAT ".csv", job);

      if (!mr_mailshot_export_csv (journal, job, path, &error))
        return fail (inv, error);
      g_print (_("Report written to %s\n"), path);
      return MR_EXIT_OK;
    }
  if (!mr_mailshot_set_state (journal, job, g_str_equal (command, "pause") ? "paused" : "cancelled", &error))
    return fail (inv, error);
  return MR_EXIT_OK;
}

/* ---- suppression ------------------------------------------------------------------------------ */

static void
print_address (const char *address,
               gpointer    user_data)
{
  g_print ("%s\n", address);
}

static void
collect_address (const char *address,
                 gpointer    user_data)
{
  g_ptr_array_add (user_data, g_strdup (address));
}

/* The company's suppression list: list, add, remove, import (a file of addresses, one a line). */
static int
cmd_suppression (Invocation *inv,
                 const char *command)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = mr_suppression_get_path ();
  g_autoptr(GPtrArray) addresses = g_ptr_array_new_with_free_func (g_free);
  guint changed = 0;
  gboolean ok;

  if (g_strcmp0 (command, "list") == 0 && inv->args->len == 0)
    {
      if (!mr_suppression_foreach (path, print_address, NULL, &error))
        return fail (inv, error);
      return MR_EXIT_OK;
    }
  if (g_strcmp0 (command, "import") == 0 && inv->args->len == 1)
    {
      g_autoptr(MrMailshotJournal) journal = NULL;

      if (!mr_suppression_foreach (g_ptr_array_index (inv->args, 0), collect_address, addresses, &error))
        return fail (inv, error);
      /* An unsubscribe endpoint hands back the tokens of List-Unsubscribe: each stands for its address. */
      for (guint i = 0; i < addresses->len; i++)
        {
          const char *item = g_ptr_array_index (addresses, i);
          g_autofree char *address = NULL;

          if (strchr (item, '@') != NULL)
            continue;
          if (journal == NULL && (journal = mr_mailshot_journal_open (NULL, &error)) == NULL)
            return fail (inv, error);
          address = mr_mailshot_lookup_token (journal, item);
          if (address == NULL)
            {
              g_autofree char *message = g_strdup_printf (_("“%s” is neither an address nor a token of a mailshot sent "
                                                            "from here: nothing was imported"), item);
              g_set_error_literal (&error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_INVALID_VALUE, message);
              return fail (inv, error);
            }
          g_free (g_ptr_array_index (addresses, i));
          g_ptr_array_index (addresses, i) = g_steal_pointer (&address);
        }
    }
  else if ((g_strcmp0 (command, "add") == 0 || g_strcmp0 (command, "remove") == 0) && inv->args->len > 0)
    for (guint i = 0; i < inv->args->len; i++)
      g_ptr_array_add (addresses, g_strdup (g_ptr_array_index (inv->args, i)));
  else
    return usage_error (inv, _("Use “suppression list”, “suppression add ADDRESS…”, “suppression remove ADDRESS…” "
                               "or “suppression import FILE”"));

  g_ptr_array_add (addresses, NULL);
  if (g_str_equal (command, "remove"))
    ok = mr_suppression_remove (path, (const char * const *) addresses->pdata, &changed, &error);
  else
    ok = mr_suppression_add (path, (const char * const *) addresses->pdata, &changed, &error);
  if (!ok)
    return fail (inv, error);
  g_print (g_str_equal (command, "remove")
           ? g_dngettext (GETTEXT_PACKAGE, "%u address removed from %s\n", "%u addresses removed from %s\n", changed)
           : g_dngettext (GETTEXT_PACKAGE, "%u address added to %s\n", "%u addresses added to %s\n", changed),
           changed, path);
  return MR_EXIT_OK;
}

/* ---- exchange --------------------------------------------------------------------------------- */

static void
print_exchange_transcript (Invocation *inv,
                           MrExchange *exchange)
{
  g_autofree char *transcript = NULL;

  if (!inv->verbose)
    return;
  transcript = mr_exchange_dup_transcript (exchange);
  g_printerr ("%s", transcript);
}

static int
cmd_exchange_check (Invocation *inv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MrExchange) exchange = mr_exchange_new (inv->settings, inv->app, &error);
  gboolean ok;

  if (exchange == NULL)
    return fail (inv, error);
  if (mr_exchange_get_warning (exchange) != NULL && !inv->json)
    g_printerr (_("mailroom-cli: warning: %s\n"), mr_exchange_get_warning (exchange));
  ok = mr_exchange_check_sync (exchange, NULL, &error);
  if (!ok && !inv->json && g_error_matches (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_PASSWORD_MISSING))
    {
      g_autofree char *prompt = g_strdup_printf (_("%s\nPassword for %s (used once, not stored): "), error->message,
                                                 mr_exchange_get_account (exchange)->user);
      g_autoptr(MrSecret) password = read_password_from_tty (prompt);

      if (password != NULL && *password != '\0')
        {
          mr_exchange_set_password (exchange, password);
          g_clear_error (&error);
          ok = mr_exchange_check_sync (exchange, NULL, &error);
        }
    }
  print_exchange_transcript (inv, exchange);
  if (!ok)
    return fail (inv, error);
  if (inv->json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (builder);
      add_string (builder, "transport", mr_exchange_get_transport (exchange));
      add_string (builder, "route", mr_exchange_get_route (exchange));
      add_string (builder, "reply", mr_exchange_get_reply (exchange));
      add_string (builder, "warning", mr_exchange_get_warning (exchange));
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      print_json (root);
    }
  else
    {
      g_print (_("Exchange: %s\n"), mr_exchange_get_route (exchange));
      g_print (_("Login: accepted (%s)\n"), mr_exchange_get_reply (exchange));
    }
  return MR_EXIT_OK;
}

static gboolean
ask_yes (const char *question)
{
  FILE *tty = fopen ("/dev/tty", "r+");
  char line[16] = "";

  if (tty == NULL)
    return FALSE;
  fputs (question, tty);
  fflush (tty);
  if (fgets (line, sizeof line, tty) == NULL)
    line[0] = '\0';
  fclose (tty);
  return line[0] == 'y' || line[0] == 'Y';
}

static int
cmd_exchange_discover (Invocation *inv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MrExchange) exchange = NULL;
  g_autofree char *url = NULL;
  g_autofree char *unconfirmed = NULL;
  const char *address;

  if (inv->args->len != 1)
    return usage_error (inv, _("“exchange discover” needs the e-mail address to look up"));
  address = g_ptr_array_index (inv->args, 0);
  exchange = mr_exchange_new_for_setup (inv->settings, inv->app, &error);
  if (exchange == NULL)
    return fail (inv, error);
  url = mr_exchange_discover_sync (exchange, address, inv->allow_host, &unconfirmed, NULL, &error);
  if (url == NULL && unconfirmed != NULL && !inv->json)
    {
      g_autofree char *question = g_strdup_printf (_("%s\nSend your login to %s? [y/N] "), error->message, unconfirmed);

      if (ask_yes (question))
        {
          g_clear_error (&error);
          url = mr_exchange_discover_sync (exchange, address, unconfirmed, NULL, NULL, &error);
        }
    }
  print_exchange_transcript (inv, exchange);
  if (url == NULL)
    return fail (inv, error);
  if (inv->json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (builder);
      add_string (builder, "address", address);
      add_string (builder, "ews_url", url);
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      print_json (root);
    }
  else
    {
      g_print ("%s\n", url);
      g_printerr (_("To use it: mailroom-cli company set exchange.ews_url %s\n"), url);
    }
  return MR_EXIT_OK;
}

static int
cmd_exchange_password (Invocation *inv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MrExchange) exchange = mr_exchange_new_for_setup (inv->settings, inv->app, &error);
  const MrSecretAccount *account;

  if (exchange == NULL)
    return fail (inv, error);
  account = mr_exchange_get_account (exchange);
  if (account == NULL)
    {
      g_set_error_literal (&error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_INVALID_VALUE,
                           _("Exchange logs in without a password here (exchange.auth is oauth2 or negotiate, or the "
                             "transport is Microsoft Graph): use “mailroom-cli exchange login”"));
      return fail (inv, error);
    }
  return store_password (inv, account, TRUE);
}

/* A sign-in in the browser, or with a device code, whose refresh token goes to the keyring. */
static int
sign_in_and_store (Invocation          *inv,
                   SoupSession         *session,
                   const MrOAuthConfig *config,
                   const char          *scope,
                   const char          *transport)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MrOAuthDeviceCode) code = NULL;
  g_autoptr(MrOAuthTokens) tokens = NULL;

  if (inv->device_code)
    {
      code = mr_oauth_device_start_sync (session, config, scope, NULL, &error);
      if (code == NULL)
        return fail (inv, error);
      /* The code goes to stderr, so that --json output stays one document. */
      g_printerr (_("To sign in, open %s in a browser and enter the code %s\n"), code->verification_uri,
                  code->user_code);
      tokens = mr_oauth_device_poll_sync (session, config, code, NULL, &error);
    }
  else
    {
      g_printerr (_("Opening the sign-in page in your browser… (on a machine without one, use --device-code)\n"));
      tokens = mr_oauth_browser_sign_in_sync (session, config, scope, NULL, NULL, NULL, &error);
    }
  if (tokens == NULL)
    return fail (inv, error);
  if (tokens->refresh_token == NULL)
    {
      g_set_error_literal (&error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_PROTOCOL,
                           _("The sign-in gave no refresh token: the app registration must allow offline_access"));
      return fail (inv, error);
    }
  if (!mr_oauth_store_refresh_token_sync (config, tokens->refresh_token, NULL, &error))
    return fail (inv, error);
  if (inv->json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (builder);
      add_string (builder, "account", config->account);
      add_string (builder, "transport", transport);
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      print_json (root);
    }
  else
    g_printerr (_("Signed in as %s. The sign-in is kept in the keyring.\n"), config->account);
  return MR_EXIT_OK;
}

static int
cmd_exchange_login (Invocation *inv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MrExchange) exchange = mr_exchange_new_for_setup (inv->settings, inv->app, &error);
  const char *transport;

  if (exchange == NULL)
    return fail (inv, error);
  transport = mr_exchange_get_transport (exchange);
  return sign_in_and_store (inv, mr_exchange_get_session (exchange), mr_exchange_get_oauth_config (exchange),
                            g_strcmp0 (transport, "graph") == 0 ? MR_OAUTH_SCOPE_GRAPH_SEND : MR_OAUTH_SCOPE_EWS,
                            transport);
}

/* `user login`: the sign-in SMTP's OAuth2 uses (Microsoft for Office 365, Google for Gmail). */
static int
cmd_user_login (Invocation *inv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MrDelivery) delivery = mr_delivery_new (inv->settings, inv->app, &error);
  g_autoptr(SoupSession) session = NULL;
  const MrOAuthConfig *config;

  if (delivery == NULL)
    return fail (inv, error);
  config = mr_delivery_get_oauth_config (delivery);
  if (config == NULL)
    {
      g_set_error_literal (&error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_INVALID_VALUE,
                           _("smtp.auth: SMTP logs in with a password here, not with a sign-in (oauth2)"));
      return fail (inv, error);
    }
  session = mr_delivery_new_oauth_session (delivery);
  return sign_in_and_store (inv, session, config, g_strcmp0 (config->provider, "google") == 0
                                                    ? MR_OAUTH_SCOPE_GOOGLE_MAIL : MR_OAUTH_SCOPE_SMTP_SEND, "smtp");
}

static int
cmd_exchange_logout (Invocation *inv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MrExchange) exchange = mr_exchange_new_for_setup (inv->settings, inv->app, &error);
  g_autoptr(MrSecretAccount) account = NULL;

  if (exchange == NULL)
    return fail (inv, error);
  account = mr_oauth_config_get_account (mr_exchange_get_oauth_config (exchange));
  if (!mr_secrets_clear_sync (account, NULL, &error))
    return fail (inv, error);
  if (!inv->json)
    g_printerr (_("Signed out: the sign-in of %s is removed from the keyring.\n"), account->user);
  return MR_EXIT_OK;
}

static int
cmd_exchange (Invocation *inv,
              const char *command)
{
  if (g_strcmp0 (command, "check") == 0 && inv->args->len == 0)
    return cmd_exchange_check (inv);
  if (g_strcmp0 (command, "discover") == 0)
    return cmd_exchange_discover (inv);
  if (g_strcmp0 (command, "password") == 0 && inv->args->len == 0)
    return cmd_exchange_password (inv);
  if (g_strcmp0 (command, "login") == 0 && inv->args->len == 0)
    return cmd_exchange_login (inv);
  if (g_strcmp0 (command, "logout") == 0 && inv->args->len == 0)
    return cmd_exchange_logout (inv);
  return usage_error (inv, _("“exchange” takes check, discover ADDRESS, password, login or logout"));
}

/* ---- dispatch --------------------------------------------------------------------------------- */

static int
run (Invocation *inv,
     int         argc,
     char      **argv)
{
  g_autoptr(GError) error = NULL;
  const char *group = NULL, *command = NULL;

  for (int i = 1; i < argc; i++)
    {
      const char *arg = argv[i];

      if (g_str_equal (arg, "--json"))
        inv->json = TRUE;
      else if (g_str_equal (arg, "--stdin"))
        inv->use_stdin = TRUE;
      else if (g_str_equal (arg, "--clear"))
        inv->clear = TRUE;
      else if (g_str_equal (arg, "--verbose") || g_str_equal (arg, "-v"))
        inv->verbose = TRUE;
      else if (g_str_equal (arg, "--fresh"))
        inv->fresh = TRUE;
      else if (g_str_equal (arg, "--mime"))
        inv->mime = TRUE;
      else if (g_str_equal (arg, "--skip-invalid"))
        inv->skip_invalid = TRUE;
      else if (g_str_equal (arg, "--save"))
        inv->save = TRUE;
      else if (g_str_equal (arg, "--send-duplicates"))
        inv->send_duplicates = TRUE;
      else if (g_str_equal (arg, "--device-code"))
        inv->device_code = TRUE;
      else if (g_str_equal (arg, "--data") || g_str_has_prefix (arg, "--data="))
        {
          const char *file = arg[6] == '=' ? arg + 7 : (i + 1 < argc ? argv[++i] : NULL);

          if (file == NULL)
            return usage_error (inv, _("--data needs a JSON file"));
          g_free (inv->data_file);
          inv->data_file = g_strdup (file);
        }
      else if (g_str_equal (arg, "--var") || g_str_has_prefix (arg, "--var="))
        {
          const char *assignment = arg[5] == '=' ? arg + 6 : (i + 1 < argc ? argv[++i] : NULL);

          if (assignment == NULL || strchr (assignment, '=') == NULL || assignment[0] == '=')
            return usage_error (inv, _("--var needs KEY=VALUE"));
          g_ptr_array_add (inv->vars, (gpointer) assignment);
        }
      else if (g_str_equal (arg, "--to") || g_str_has_prefix (arg, "--to="))
        {
          const char *address = arg[4] == '=' ? arg + 5 : (i + 1 < argc ? argv[++i] : NULL);

          if (address == NULL)
            return usage_error (inv, _("--to needs an address"));
          if (inv->to == NULL)
            inv->to = g_strdup (address);
          g_ptr_array_add (inv->to_list, (gpointer) address);
        }
      else if (g_str_equal (arg, "--cc") || g_str_equal (arg, "--bcc") || g_str_equal (arg, "--attach") ||
               g_str_equal (arg, "--template") || g_str_equal (arg, "--via") || g_str_equal (arg, "--since") ||
               g_str_equal (arg, "--status") || g_str_equal (arg, "--recipients") ||
               g_str_equal (arg, "--address-column") || g_str_equal (arg, "--rate") || g_str_equal (arg, "--dry-run") ||
               g_str_equal (arg, "--per-day") || g_str_equal (arg, "--connections") || g_str_equal (arg, "--limit") ||
               g_str_equal (arg, "--start") || g_str_equal (arg, "--attachments-dir") ||
               g_str_equal (arg, "--attachment-column") || g_str_equal (arg, "--exclude-rows") ||
               g_str_equal (arg, "--name-column") || g_str_equal (arg, "--sheet") || g_str_equal (arg, "--addresses") ||
               g_str_equal (arg, "--count") || g_str_equal (arg, "--row") || g_str_equal (arg, "--output") ||
               g_str_equal (arg, "--allow-host") || g_str_equal (arg, "--include") || g_str_equal (arg, "--server") ||
               g_str_equal (arg, "--selector"))
        {
          const char *value = i + 1 < argc ? argv[++i] : NULL;

          if (value == NULL)
            {
              g_autofree char *message = g_strdup_printf (_("%s needs a value"), arg);
              return usage_error (inv, message);
            }
          if (g_str_equal (arg, "--cc"))
            g_ptr_array_add (inv->cc_list, (gpointer) value);
          else if (g_str_equal (arg, "--bcc"))
            g_ptr_array_add (inv->bcc_list, (gpointer) value);
          else if (g_str_equal (arg, "--attach"))
            g_ptr_array_add (inv->attach_list, (gpointer) value);
          else if (g_str_equal (arg, "--selector"))
            g_ptr_array_add (inv->selector_list, (gpointer) value);
          else if (g_str_equal (arg, "--include"))
            inv->spf_include = g_strdup (value);
          else if (g_str_equal (arg, "--server"))
            inv->server = g_strdup (value);
          else if (g_str_equal (arg, "--template"))
            inv->template_name = g_strdup (value);
          else if (g_str_equal (arg, "--via"))
            inv->via = g_strdup (value);
          else if (g_str_equal (arg, "--since"))
            inv->since = g_strdup (value);
          else if (g_str_equal (arg, "--recipients"))
            inv->recipients = g_strdup (value);
          else if (g_str_equal (arg, "--address-column"))
            inv->address_column = g_strdup (value);
          else if (g_str_equal (arg, "--rate"))
            inv->rate = g_strdup (value);
          else if (g_str_equal (arg, "--dry-run"))
            inv->dry_run = g_strdup (value);
          else if (g_str_equal (arg, "--per-day"))
            inv->per_day = g_strdup (value);
          else if (g_str_equal (arg, "--connections"))
            inv->connections = g_strdup (value);
          else if (g_str_equal (arg, "--limit"))
            inv->limit = g_strdup (value);
          else if (g_str_equal (arg, "--start"))
            inv->start = g_strdup (value);
          else if (g_str_equal (arg, "--attachments-dir"))
            inv->attachments_dir = g_strdup (value);
          else if (g_str_equal (arg, "--attachment-column"))
            inv->attachment_column = g_strdup (value);
          else if (g_str_equal (arg, "--name-column"))
            inv->name_column = g_strdup (value);
          else if (g_str_equal (arg, "--sheet"))
            inv->sheet = g_strdup (value);
          else if (g_str_equal (arg, "--addresses"))
            inv->addresses = g_strdup (value);
          else if (g_str_equal (arg, "--exclude-rows"))
            inv->exclude_rows = g_strdup (value);
          else if (g_str_equal (arg, "--count"))
            inv->count = g_strdup (value);
          else if (g_str_equal (arg, "--row"))
            inv->row = g_strdup (value);
          else if (g_str_equal (arg, "--output"))
            inv->output = g_strdup (value);
          else if (g_str_equal (arg, "--allow-host"))
            inv->allow_host = g_strdup (value);
          else
            inv->status = g_strdup (value);
        }
      else if (g_str_equal (arg, "--app") || g_str_has_prefix (arg, "--app="))
        {
          const char *name = arg[5] == '=' ? arg + 6 : (i + 1 < argc ? argv[++i] : NULL);

          if (name == NULL || !mr_app_name_is_valid (name))
            return usage_error (inv, _("--app needs an application name (lower-case letters, digits, “-” and “_”)"));
          g_free (inv->app);
          inv->app = g_strdup (name);
        }
      else if (g_str_equal (arg, "--help") || g_str_equal (arg, "-h"))
        {
          g_print ("%s", _(help_text));
          return MR_EXIT_OK;
        }
      else if (g_str_equal (arg, "--version"))
        {
          g_print ("mailroom-cli %s\n", MAILROOM_VERSION);
          return MR_EXIT_OK;
        }
      else if (g_str_equal (arg, "--"))
        {
          for (i++; i < argc; i++)
            g_ptr_array_add (inv->args, argv[i]);
        }
      else if (arg[0] == '-' && arg[1] == '-')
        {
          g_autofree char *message = g_strdup_printf (_("Unknown option “%s”"), arg);
          return usage_error (inv, message);
        }
      else if (group == NULL)
        group = arg;
      else if (command == NULL)
        command = arg;
      else
        g_ptr_array_add (inv->args, (gpointer) arg);
    }

  if (group == NULL)
    return usage_error (inv, _("No command given"));
  if ((inv->use_stdin || inv->clear) && g_strcmp0 (command, "password") != 0 && g_strcmp0 (command, "signature") != 0)
    return usage_error (inv, _("--stdin and --clear belong to “password” and “signature”"));
  if (inv->app != NULL && g_strcmp0 (command, "password") != 0 && g_strcmp0 (command, "effective") != 0 &&
      g_strcmp0 (group, "check") != 0 && g_strcmp0 (group, "test-email") != 0 && g_strcmp0 (group, "send") != 0 &&
      g_strcmp0 (group, "mailshot") != 0 && g_strcmp0 (group, "exchange") != 0)
    return usage_error (inv, _("--app belongs to “company password”, “settings effective”, “check” and “test-email”"));
  if (inv->to != NULL && g_strcmp0 (group, "test-email") != 0 && g_strcmp0 (group, "render") != 0 &&
      g_strcmp0 (group, "send") != 0 && g_strcmp0 (group, "log") != 0 && g_strcmp0 (command, "samples") != 0)
    return usage_error (inv, _("--to belongs to “test-email”, “render”, “send”, “log” and “mailshot samples”"));
  if ((inv->data_file != NULL || inv->vars->len > 0) && g_strcmp0 (group, "render") != 0 && g_strcmp0 (group, "send") != 0)
    return usage_error (inv, _("--data and --var belong to “render” and “send”"));

  if ((inv->spf_include || inv->server || inv->selector_list->len > 0 || inv->fresh) && g_strcmp0 (group, "check-domain") != 0)
    return usage_error (inv, _("--include, --server, --selector and --fresh belong to “check-domain”"));
  /* Any domain, with or without settings. */
  if (g_str_equal (group, "check-domain"))
    return cmd_check_domain (inv, command);

  inv->settings = mr_settings_new (NULL, NULL);
  if (!mr_settings_load (inv->settings, &error))
    return fail (inv, error);

  if (g_str_equal (group, "company") || g_str_equal (group, "user"))
    {
      MrScope scope = g_str_equal (group, "company") ? MR_SCOPE_COMPANY : MR_SCOPE_USER;

      if (g_strcmp0 (command, "show") == 0 && inv->args->len == 0)
        return cmd_show (inv, scope);
      if (g_strcmp0 (command, "get") == 0)
        return cmd_get (inv, scope);
      if (g_strcmp0 (command, "set") == 0)
        return cmd_set (inv, scope);
      if (g_strcmp0 (command, "unset") == 0)
        return cmd_unset (inv, scope);
      if (g_strcmp0 (command, "password") == 0)
        return cmd_password (inv, scope);
      if (g_strcmp0 (command, "signature") == 0)
        return cmd_signature (inv, scope);
      if (g_strcmp0 (command, "domain") == 0 && scope == MR_SCOPE_COMPANY)
        return cmd_company_domain (inv);
      if (g_strcmp0 (command, "login") == 0 && scope == MR_SCOPE_USER && inv->args->len == 0)
        return cmd_user_login (inv);
    }
  else if (g_str_equal (group, "settings") && g_strcmp0 (command, "effective") == 0)
    return cmd_effective (inv);
  else if (g_str_equal (group, "setup") && command != NULL && inv->args->len == 0)
    return cmd_setup (inv, command);
  else if (g_str_equal (group, "check") && command == NULL)
    return cmd_check (inv);
  else if (g_str_equal (group, "test-email") && command == NULL)
    return cmd_test_email (inv);
  else if (g_str_equal (group, "templates") && command != NULL)
    return cmd_templates (inv, command);
  else if (g_str_equal (group, "render") && command != NULL)
    return cmd_render (inv, command);
  else if (g_str_equal (group, "send") && command == NULL)
    return cmd_send (inv);
  else if (g_str_equal (group, "outbox"))
    return cmd_outbox (inv, command);
  else if (g_str_equal (group, "log") && command == NULL)
    return cmd_log (inv);
  else if (g_str_equal (group, "resend"))
    return cmd_resend (inv, command);
  else if (g_str_equal (group, "mailshot"))
    return cmd_mailshot (inv, command);
  else if (g_str_equal (group, "suppression"))
    return cmd_suppression (inv, command);
  else if (g_str_equal (group, "exchange"))
    return cmd_exchange (inv, command);

  {
    g_autofree char *message = g_strdup_printf (_("Unknown command “%s%s%s”"), group,
                                                command ? " " : "", command ? command : "");
    return usage_error (inv, message);
  }
}

int
main (int    argc,
      char **argv)
{
  Invocation inv = { 0 };
  int status;

  setlocale (LC_ALL, "");
  /* MAILROOM_LOCALEDIR runs the translations from the build tree (make run, tests). */
  bindtextdomain (GETTEXT_PACKAGE, g_getenv ("MAILROOM_LOCALEDIR") ? g_getenv ("MAILROOM_LOCALEDIR") : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  inv.args = g_ptr_array_new ();
  inv.vars = g_ptr_array_new ();
  inv.to_list = g_ptr_array_new ();
  inv.cc_list = g_ptr_array_new ();
  inv.bcc_list = g_ptr_array_new ();
  inv.attach_list = g_ptr_array_new ();
  inv.selector_list = g_ptr_array_new ();
  status = run (&inv, argc, argv);

  g_ptr_array_unref (inv.args);
  g_ptr_array_unref (inv.vars);
  g_ptr_array_unref (inv.to_list);
  g_ptr_array_unref (inv.cc_list);
  g_ptr_array_unref (inv.bcc_list);
  g_ptr_array_unref (inv.attach_list);
  g_ptr_array_unref (inv.selector_list);
  g_free (inv.spf_include);
  g_free (inv.server);
  g_free (inv.template_name);
  g_free (inv.via);
  g_free (inv.allow_host);
  g_free (inv.since);
  g_free (inv.status);
  g_free (inv.recipients);
  g_free (inv.address_column);
  g_free (inv.sheet);
  g_free (inv.addresses);
  g_free (inv.rate);
  g_free (inv.dry_run);
  g_free (inv.per_day);
  g_free (inv.connections);
  g_free (inv.limit);
  g_free (inv.start);
  g_free (inv.attachments_dir);
  g_free (inv.attachment_column);
  g_free (inv.exclude_rows);
  g_free (inv.name_column);
  g_free (inv.count);
  g_free (inv.row);
  g_free (inv.output);
  g_free (inv.data_file);
  g_clear_object (&inv.settings);
  g_free (inv.app);
  g_free (inv.to);
  return status;
}
