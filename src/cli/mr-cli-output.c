/* mr-cli-output.c: what every command prints the same way: JSON, errors and their exit statuses, warnings */

#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "mailroom-common.h"
#include "mailroom-settings.h"
#include "mr-cli.h"

void
mr_cli_print_json (JsonNode *node)
{
  g_autofree char *text = json_to_string (node, TRUE);

  g_print ("%s\n", text);
}

void
mr_cli_print_json_error (const char *kind,
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
  mr_cli_print_json (root);
}

int
mr_cli_fail (Invocation   *inv,
             const GError *error)
{
  if (inv->json)
    mr_cli_print_json_error (mr_error_get_kind (error), error->message);
  else
    g_printerr ("mailroom-cli: %s\n", error->message);
  return mr_error_get_exit_status (error);
}

int
mr_cli_usage_error (Invocation *inv,
                    const char *message)
{
  if (inv->json)
    mr_cli_print_json_error ("usage", message);
  else
    g_printerr ("mailroom-cli: %s\n%s\n", message, _("Try “mailroom-cli --help”."));
  return MR_EXIT_USAGE;
}

void
mr_cli_print_warnings (GPtrArray *warnings)
{
  for (guint i = 0; warnings != NULL && i < warnings->len; i++)
    g_printerr (_("mailroom-cli: warning: %s\n"), (const char *) g_ptr_array_index (warnings, i));
}

static char *
strip_line_end (char *text)
{
  gsize len = strlen (text);

  while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
    text[--len] = '\0';
  return text;
}

/* A password from standard input: its first line, without the line end. */
MrSecret *
mr_cli_read_password_stdin (void)
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
MrSecret *
mr_cli_read_password (const char *prompt)
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

MrTransport *
mr_cli_route (Invocation  *inv,
              const char  *route,
              const char  *password,
              GError     **error)
{
  g_autoptr(MrRouter) router = mr_router_new (inv->settings, inv->app, route, password, error);

  if (router == NULL || !mr_router_check (router, error))
    return NULL;
  return MR_TRANSPORT (g_steal_pointer (&router));
}

MrTransport *
mr_cli_route_with_password (Invocation   *inv,
                            const char   *route,
                            MrTransport  *transport,
                            const GError *error)
{
  g_autoptr(MrSecret) password = NULL;
  g_autofree char *prompt = NULL;

  if (inv->json || !mr_transport_error_needs_password (error))
    return NULL;
  prompt = g_strdup_printf (_("%s\nPassword for the login at %s (used once, not stored): "), error->message,
                            mr_transport_get_label (transport));
  password = mr_cli_read_password (prompt);
  if (password == NULL || *password == '\0')
    return NULL;
  return mr_cli_route (inv, route, password, NULL);
}

gboolean
mr_cli_check_route (Invocation   *inv,
                    const char   *route,
                    MrTransport **transport,
                    GError      **error)
{
  GError *local_error = NULL;
  gboolean ok;

  *transport = mr_cli_route (inv, route, NULL, error);
  if (*transport == NULL)
    return FALSE;
  if (mr_transport_get_warning (*transport) != NULL && !inv->json)
    g_printerr (_("mailroom-cli: warning: %s\n"), mr_transport_get_warning (*transport));
  ok = mr_transport_check_sync (*transport, NULL, &local_error);
  if (!ok)
    {
      MrTransport *again = mr_cli_route_with_password (inv, route, *transport, local_error);

      if (again != NULL)
        {
          g_clear_error (&local_error);
          g_object_unref (*transport);
          *transport = again;
          ok = mr_transport_check_sync (*transport, NULL, &local_error);
        }
    }
  mr_cli_print_transcript (inv, *transport);
  if (!ok)
    g_propagate_error (error, local_error);
  return ok;
}

void
mr_cli_print_transcript (Invocation  *inv,
                         MrTransport *transport)
{
  g_autofree char *transcript = NULL;

  if (!inv->verbose || transport == NULL)
    return;
  transcript = mr_transport_dup_transcript (transport);
  g_printerr ("%s", transcript);
}

void
mr_cli_add_string (JsonBuilder *builder,
                   const char  *name,
                   const char  *value)
{
  json_builder_set_member_name (builder, name);
  if (value != NULL)
    json_builder_add_string_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

/* The same, from an array of strings (which may be NULL: an empty list). */
void
mr_cli_add_string_array (JsonBuilder     *builder,
                         const char      *name,
                         const GPtrArray *items)
{
  json_builder_set_member_name (builder, name);
  json_builder_begin_array (builder);
  for (guint i = 0; items != NULL && i < items->len; i++)
    json_builder_add_string_value (builder, g_ptr_array_index (items, i));
  json_builder_end_array (builder);
}

/* The log, with what is older than log.retention_days removed: it holds personal data. */
MrSentLog *
mr_cli_open_log (Invocation  *inv,
                 GError     **error)
{
  return mr_outbox_open_log (inv->settings, NULL, error);
}

int
mr_cli_print_report (Invocation   *inv,
                     MrSendReport *report)
{
  if (inv->json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      mr_cli_add_report_json (builder, report);
      root = json_builder_get_root (builder);
      mr_cli_print_json (root);
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

void
mr_cli_add_strv (JsonBuilder        *builder,
                 const char         *name,
                 const char * const *items)
{
  json_builder_set_member_name (builder, name);
  json_builder_begin_array (builder);
  for (guint i = 0; items != NULL && items[i] != NULL; i++)
    json_builder_add_string_value (builder, items[i]);
  json_builder_end_array (builder);
}

char *
mr_cli_format_time (gint64 unix_time)
{
  g_autoptr(GDateTime) time = g_date_time_new_from_unix_local (unix_time);
  return g_date_time_format (time, "%Y-%m-%d %H:%M");
}

void
mr_cli_add_report_json (JsonBuilder  *builder,
                        MrSendReport *report)
{
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_int_value (builder, report->id);
  mr_cli_add_string (builder, "state", mr_sent_state_to_string (report->state));
  mr_cli_add_string (builder, "message_id", report->message_id);
  mr_cli_add_string (builder, "route", report->route);
  mr_cli_add_string (builder, "reply", report->reply);
  mr_cli_add_strv (builder, "refused", (const char * const *) report->refused);
  mr_cli_add_strv (builder, "deferred", (const char * const *) report->deferred);
  mr_cli_add_string (builder, "error", report->failure ? report->failure->message : NULL);
  json_builder_end_object (builder);
}

/* `password` for SMTP and Exchange alike: read it (terminal or --stdin) and store it, or --clear. */
int
mr_cli_store_password (Invocation            *inv,
                       const MrSecretAccount *account,
                       gboolean               exchange)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MrSecret) password = NULL;
  g_autofree char *who = mr_secret_account_describe (account);

  if (inv->clear)
    {
      if (!mr_secrets_clear_sync (account, NULL, &error))
        return mr_cli_fail (inv, error);
      if (!inv->json)
        g_printerr (exchange ? _("Removed the Exchange password for %s from the keyring.\n")
                             : _("Removed the password for %s from the keyring.\n"), who);
      return MR_EXIT_OK;
    }
  if (inv->use_stdin)
    password = mr_cli_read_password_stdin ();
  else
    {
      g_autofree char *prompt = g_strdup_printf (exchange ? _("Exchange password for %s: ") : _("Password for %s: "), who);

      password = mr_cli_read_password (prompt);
      if (password == NULL)
        return mr_cli_usage_error (inv, _("There is no terminal to ask for the password: give it on standard input with --stdin"));
    }
  if (*password == '\0')
    {
      g_set_error_literal (&error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_INVALID_VALUE,
                           _("The password is empty: nothing was stored"));
      return mr_cli_fail (inv, error);
    }
  if (!mr_secrets_store_sync (account, password, NULL, &error))
    return mr_cli_fail (inv, error);
  if (!inv->json)
    g_printerr (exchange ? _("Stored the Exchange password for %s in the keyring.\n")
                         : _("Stored the password for %s in the keyring.\n"), who);
  return MR_EXIT_OK;
}
