/* mr-cli-mailshot.c: mailshots and the suppression list */

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
    return mr_cli_usage_error (inv, _("--via takes smtp, exchange or auto"));
  options->route = inv->via ? inv->via : template_->route;
  options->proof.sheet = inv->sheet;
  options->proof.address_column = inv->address_column;
  options->proof.attachment_column = inv->attachment_column;
  options->proof.name_column = inv->name_column;
  options->proof.attachments_dir = inv->attachments_dir;
  options->proof.send_duplicates = inv->send_duplicates;
  options->proof.size_limit = mr_delivery_get_known_size_limit (inv->settings, options->app);
  if ((inv->attachment_column == NULL) != (inv->attachments_dir == NULL))
    return mr_cli_usage_error (inv, _("--attachment-column and --attachments-dir go together"));
  if (inv->rate != NULL)
    {
      g_autofree char *text = g_str_has_suffix (inv->rate, "/min") ? g_strndup (inv->rate, strlen (inv->rate) - 4)
                                                                    : g_strdup (inv->rate);
      if (!g_ascii_string_to_signed (text, 10, 0, 100000, &number, NULL))
        return mr_cli_usage_error (inv, _("--rate takes messages a minute, for example 30/min (0: no limit)"));
      options->per_minute = (int) number;
    }
  if (inv->per_day != NULL)
    {
      if (!g_ascii_string_to_signed (inv->per_day, 10, 0, 10000000, &number, NULL))
        return mr_cli_usage_error (inv, _("--per-day takes a number of messages (0: no limit)"));
      options->per_day = (int) number;
    }
  if (inv->connections != NULL)
    {
      if (!g_ascii_string_to_signed (inv->connections, 10, 1, 20, &number, NULL))
        return mr_cli_usage_error (inv, _("--connections takes a number from 1 to 20"));
      options->connections = (int) number;
    }
  if (inv->limit != NULL)
    {
      if (!g_ascii_string_to_signed (inv->limit, 10, 1, G_MAXINT, &number, NULL))
        return mr_cli_usage_error (inv, _("--limit takes a number of recipients"));
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
        return mr_cli_usage_error (inv, _("--start takes a date and time, for example “2026-12-01 08:00”"));
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
            return mr_cli_usage_error (inv, _("--exclude-rows takes row numbers as the spreadsheet shows them, for example 3,7-9"));
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
    return mr_cli_usage_error (inv, missing);
  *template_ = mr_template_find (inv->template_name, &error);
  if (*template_ == NULL)
    return mr_cli_fail (inv, error);
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
    return mr_cli_fail (inv, error);

  if (inv->json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (builder);
      mr_cli_add_string (builder, "address_column", report->address_column);
      if (report->sheet != NULL)
        mr_cli_add_string (builder, "sheet", report->sheet);
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
          mr_cli_add_string (builder, "severity", mr_problem_severity_to_string (problem->severity));
          mr_cli_add_string (builder, "kind", problem->kind);
          mr_cli_add_string (builder, "message", problem->message);
          json_builder_end_object (builder);
        }
      json_builder_end_array (builder);
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      mr_cli_print_json (root);
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
      mr_cli_add_string (builder, "state", status->state);
      mr_cli_add_string (builder, "reason", status->reason);
      mr_cli_add_string (builder, "template", status->template_name);
      mr_cli_add_string (builder, "recipients", status->recipients_path);
      add_uint (builder, "rate", status->rate);
      add_uint (builder, "total", status->total);
      add_uint (builder, "pending", status->pending);
      add_uint (builder, "accepted", status->accepted);
      add_uint (builder, "queued_locally", status->queued_locally);
      add_uint (builder, "per_day", status->per_day);
      add_uint (builder, "connections", status->connections);
      if (status->not_before > 0)
        {
          g_autofree char *when = mr_cli_format_time (status->not_before);
          mr_cli_add_string (builder, "not_before", when);
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
      g_autofree char *when = mr_cli_format_time (status->not_before);
      g_print (_("It starts at %s\n"), when);
    }
}

typedef struct {
  gboolean terminal;
  guint    shown;      /* the thousandths of the job the bar shows */
} Progress;

/* On a terminal a bar that redraws itself when it moves (a thousandth of the job); otherwise a plain
 * line each tenth, for logs. Called with the run's lock held, once a mail: it must cost nothing when
 * there is nothing new to say. */
static void
print_progress (guint    done,
                guint    total,
                gpointer user_data)
{
  Progress *progress = user_data;

  if (progress->terminal)
    {
      guint shown = total ? (guint) ((guint64) done * 1000 / total) : 1000;
      char bar[31];
      guint filled = total ? done * 30 / total : 30;

      if (shown == progress->shown && done != total)
        return;
      progress->shown = shown;
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
  Progress progress = { isatty (STDERR_FILENO), G_MAXUINT };
  gboolean ran = mr_mailshot_run_sync (journal, inv->settings, job, inv->json ? NULL : print_progress, &progress, NULL,
                                       &error);

  if (!inv->json && progress.terminal)
    g_printerr ("\n");

  if (!ran && !g_error_matches (error, MR_MAILSHOT_ERROR, MR_MAILSHOT_ERROR_PAUSED))
    return mr_cli_fail (inv, error);
  if (!ran)
    g_printerr ("mailroom-cli: %s\n", error->message);
  status = mr_mailshot_get_status (journal, job, &error);
  if (status == NULL)
    return mr_cli_fail (inv, error);
  print_mailshot_status (inv, builder, status);
  if (builder != NULL)
    {
      g_autoptr(JsonNode) root = json_builder_get_root (builder);
      mr_cli_print_json (root);
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
        return mr_cli_fail (inv, error);
      if (report->rows_with_errors > 0 && !inv->skip_invalid)
        return refuse_rows (report);
      written = mr_mailshot_dry_run (inv->settings, template_, inv->recipients, &options, inv->dry_run, &failed, &error);
      if (written < 0)
        return mr_cli_fail (inv, error);
      count = g_strdup_printf ("%" G_GINT64_FORMAT, written);
      g_print (_("%s messages written to %s; nothing was sent\n"), count, inv->dry_run);
      /* The rows a real run would fail for good, as it would: named, and exit 76. */
      for (guint i = 0; i < failed->len; i++)
        g_printerr ("mailroom-cli: %s\n", (const char *) g_ptr_array_index (failed, i));
      return failed->len > 0 ? MR_EXIT_PROTOCOL : MR_EXIT_OK;
    }

  journal = mr_mailshot_journal_open (NULL, &error);
  if (journal == NULL)
    return mr_cli_fail (inv, error);
  /* One pass over the list: it is checked as the job is written, and with errors nothing is written
   * or sent unless the person chose to skip them. */
  options.refuse_errors = !inv->skip_invalid;
  job = mr_mailshot_create (journal, inv->settings, template_, inv->recipients, &options, &report, &error);
  if (g_error_matches (error, MR_MAILSHOT_ERROR, MR_MAILSHOT_ERROR_ROWS) && report != NULL)
    return refuse_rows (report);
  if (job == 0 || (created = mr_mailshot_get_status (journal, job, &error)) == NULL)
    return mr_cli_fail (inv, error);
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
    return mr_cli_usage_error (inv, _("“mailshot preview” needs --template TEMPLATE, --recipients FILE and --row N"));
  if (!g_ascii_string_to_signed (inv->row, 10, 2, G_MAXINT, &row, NULL))
    return mr_cli_usage_error (inv, _("--row takes a row number as the spreadsheet shows it (the first data row is 2)"));
  if ((status = mailshot_setup (inv, _("“mailshot preview” needs --template TEMPLATE, --recipients FILE and --row N"),
                                &template_, &options, &excluded)) >= 0)
    return status;
  preview = mr_mailshot_preview (inv->settings, template_, inv->recipients, &options, (guint) row, &error);
  if (preview == NULL)
    return mr_cli_fail (inv, error);
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
    return mr_cli_usage_error (inv, _("--count takes a number from 1 to 100"));
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
    return mr_cli_fail (inv, error);
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
        return mr_cli_fail (inv, error);
      g_print (_("The mailshot timer is installed: “mailroom-cli mailshot run-due” runs every 5 minutes\n"));
      return MR_EXIT_OK;
    }
  if (g_str_equal (what, "remove"))
    {
      if (!mr_timer_remove (&error))
        return mr_cli_fail (inv, error);
      g_print (_("The mailshot timer is removed\n"));
      return MR_EXIT_OK;
    }
  if (g_str_equal (what, "status"))
    {
      g_print (mr_timer_is_installed () ? _("installed\n") : _("not installed\n"));
      return MR_EXIT_OK;
    }
  return mr_cli_usage_error (inv, _("“mailshot timer” takes install, remove or status"));
}

int
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
        return mr_cli_usage_error (inv, _("“mailshot run-due” takes no arguments"));
      journal = mr_mailshot_journal_open (NULL, &error);
      if (journal == NULL)
        return mr_cli_fail (inv, error);
      ran = mr_mailshot_run_due_sync (journal, inv->settings, print_job_error, NULL, NULL, &error);
      if (ran < 0)
        return mr_cli_fail (inv, error);
      return MR_EXIT_OK;
    }
  if (!g_str_equal (command, "status") && !g_str_equal (command, "resume") && !g_str_equal (command, "pause") &&
      !g_str_equal (command, "cancel") && !g_str_equal (command, "report"))
    {
      g_autofree char *message = g_strdup_printf (_("Unknown command “mailshot %s”"), command);
      return mr_cli_usage_error (inv, message);
    }
  if (inv->args->len > 1 ||
      (inv->args->len == 1 && !g_ascii_string_to_signed (g_ptr_array_index (inv->args, 0), 10, 1, G_MAXINT64, &job, NULL)) ||
      (job == 0 && !g_str_equal (command, "status")))
    return mr_cli_usage_error (inv, _("“mailshot status”, “resume”, “pause”, “cancel” and “report” take a mailshot number"));

  journal = mr_mailshot_journal_open (NULL, &error);
  if (journal == NULL)
    return mr_cli_fail (inv, error);

  if (g_str_equal (command, "status"))
    {
      g_autoptr(JsonBuilder) builder = inv->json ? json_builder_new () : NULL;
      g_autoptr(GPtrArray) jobs = NULL;
      int status = MR_EXIT_OK;

      if (job != 0)
        {
          MrMailshotStatus *one = mr_mailshot_get_status (journal, job, &error);
          if (one == NULL)
            return mr_cli_fail (inv, error);
          jobs = g_ptr_array_new_with_free_func ((GDestroyNotify) mr_mailshot_status_free);
          g_ptr_array_add (jobs, one);
        }
      else if ((jobs = mr_mailshot_list (journal, &error)) == NULL)
        return mr_cli_fail (inv, error);
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
          mr_cli_print_json (root);
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
        return mr_cli_fail (inv, error);
      g_print (_("Report written to %s\n"), path);
      return MR_EXIT_OK;
    }
  if (!mr_mailshot_set_state (journal, job, g_str_equal (command, "pause") ? "paused" : "cancelled", &error))
    return mr_cli_fail (inv, error);
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
int
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
        return mr_cli_fail (inv, error);
      return MR_EXIT_OK;
    }
  if (g_strcmp0 (command, "import") == 0 && inv->args->len == 1)
    {
      g_autoptr(MrMailshotJournal) journal = NULL;

      if (!mr_suppression_foreach (g_ptr_array_index (inv->args, 0), collect_address, addresses, &error))
        return mr_cli_fail (inv, error);
      /* An unsubscribe endpoint hands back the tokens of List-Unsubscribe: each stands for its address. */
      for (guint i = 0; i < addresses->len; i++)
        {
          const char *item = g_ptr_array_index (addresses, i);
          g_autofree char *address = NULL;

          if (strchr (item, '@') != NULL)
            continue;
          if (journal == NULL && (journal = mr_mailshot_journal_open (NULL, &error)) == NULL)
            return mr_cli_fail (inv, error);
          address = mr_mailshot_lookup_token (journal, item);
          if (address == NULL)
            {
              g_autofree char *message = g_strdup_printf (_("“%s” is neither an address nor a token of a mailshot sent "
                                                            "from here: nothing was imported"), item);
              g_set_error_literal (&error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_INVALID_VALUE, message);
              return mr_cli_fail (inv, error);
            }
          g_free (g_ptr_array_index (addresses, i));
          g_ptr_array_index (addresses, i) = g_steal_pointer (&address);
        }
    }
  else if ((g_strcmp0 (command, "add") == 0 || g_strcmp0 (command, "remove") == 0) && inv->args->len > 0)
    for (guint i = 0; i < inv->args->len; i++)
      g_ptr_array_add (addresses, g_strdup (g_ptr_array_index (inv->args, i)));
  else
    return mr_cli_usage_error (inv, _("Use “suppression list”, “suppression add ADDRESS…”, “suppression remove ADDRESS…” "
                                      "or “suppression import FILE”"));

  g_ptr_array_add (addresses, NULL);
  if (g_str_equal (command, "remove"))
    ok = mr_suppression_remove (path, (const char * const *) addresses->pdata, &changed, &error);
  else
    ok = mr_suppression_add (path, (const char * const *) addresses->pdata, &changed, &error);
  if (!ok)
    return mr_cli_fail (inv, error);
  g_print (g_str_equal (command, "remove")
           ? g_dngettext (GETTEXT_PACKAGE, "%u address removed from %s\n", "%u addresses removed from %s\n", changed)
           : g_dngettext (GETTEXT_PACKAGE, "%u address added to %s\n", "%u addresses added to %s\n", changed),
           changed, path);
  return MR_EXIT_OK;
}
