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

#include "mailroom-common.h"
#include "mailroom-dns.h"
#include "mailroom-log.h"
#include "mailroom-mailshot.h"
#include "mailroom-message.h"
#include "mailroom-settings.h"
#include "mailroom-transport.h"

#include "mr-cli.h"

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
            return mr_cli_usage_error (inv, _("--data needs a JSON file"));
          g_free (inv->data_file);
          inv->data_file = g_strdup (file);
        }
      else if (g_str_equal (arg, "--var") || g_str_has_prefix (arg, "--var="))
        {
          const char *assignment = arg[5] == '=' ? arg + 6 : (i + 1 < argc ? argv[++i] : NULL);

          if (assignment == NULL || strchr (assignment, '=') == NULL || assignment[0] == '=')
            return mr_cli_usage_error (inv, _("--var needs KEY=VALUE"));
          g_ptr_array_add (inv->vars, (gpointer) assignment);
        }
      else if (g_str_equal (arg, "--to") || g_str_has_prefix (arg, "--to="))
        {
          const char *address = arg[4] == '=' ? arg + 5 : (i + 1 < argc ? argv[++i] : NULL);

          if (address == NULL)
            return mr_cli_usage_error (inv, _("--to needs an address"));
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
              return mr_cli_usage_error (inv, message);
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
            return mr_cli_usage_error (inv, _("--app needs an application name (lower-case letters, digits, “-” and “_”)"));
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
          return mr_cli_usage_error (inv, message);
        }
      else if (group == NULL)
        group = arg;
      else if (command == NULL)
        command = arg;
      else
        g_ptr_array_add (inv->args, (gpointer) arg);
    }

  if (group == NULL)
    return mr_cli_usage_error (inv, _("No command given"));
  if ((inv->use_stdin || inv->clear) && g_strcmp0 (command, "password") != 0 && g_strcmp0 (command, "signature") != 0)
    return mr_cli_usage_error (inv, _("--stdin and --clear belong to “password” and “signature”"));
  if (inv->app != NULL && g_strcmp0 (command, "password") != 0 && g_strcmp0 (command, "effective") != 0 &&
      g_strcmp0 (group, "check") != 0 && g_strcmp0 (group, "test-email") != 0 && g_strcmp0 (group, "send") != 0 &&
      g_strcmp0 (group, "mailshot") != 0 && g_strcmp0 (group, "exchange") != 0)
    return mr_cli_usage_error (inv, _("--app belongs to “company password”, “settings effective”, “check” and “test-email”"));
  if (inv->to != NULL && g_strcmp0 (group, "test-email") != 0 && g_strcmp0 (group, "render") != 0 &&
      g_strcmp0 (group, "send") != 0 && g_strcmp0 (group, "log") != 0 && g_strcmp0 (command, "samples") != 0)
    return mr_cli_usage_error (inv, _("--to belongs to “test-email”, “render”, “send”, “log” and “mailshot samples”"));
  if ((inv->data_file != NULL || inv->vars->len > 0) && g_strcmp0 (group, "render") != 0 && g_strcmp0 (group, "send") != 0)
    return mr_cli_usage_error (inv, _("--data and --var belong to “render” and “send”"));

  if ((inv->spf_include || inv->server || inv->selector_list->len > 0 || inv->fresh) && g_strcmp0 (group, "check-domain") != 0)
    return mr_cli_usage_error (inv, _("--include, --server, --selector and --fresh belong to “check-domain”"));
  /* Any domain, with or without settings. */
  if (g_str_equal (group, "check-domain"))
    return cmd_check_domain (inv, command);

  inv->settings = mr_settings_new (NULL, NULL);
  if (!mr_settings_load (inv->settings, &error))
    return mr_cli_fail (inv, error);

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
    return mr_cli_usage_error (inv, message);
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
