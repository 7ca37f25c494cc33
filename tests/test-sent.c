/* test-sent.c: the sent log, the outbox, and `mailroom-cli send`, `outbox` and `log` */

#include "config.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <sys/resource.h>
#include <sqlite3.h>
#include <string.h>
#include <unistd.h>

#include "mr-error.h"
#include "mr-exchange.h"
#include "mr-outbox.h"
#include "mr-smtp-transport.h"
#include "mr-standin.h"
#include "mr-test-utils.h"


static MrSettings *
settings_for_port (guint16 port)
{
  MrSettings *settings = mr_settings_new (NULL, NULL);
  g_autofree char *text = g_strdup_printf ("%u", port);

  g_assert_true (mr_settings_load (settings, NULL));
  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "smtp.host", "127.0.0.1");
  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "smtp.port", text);
  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "smtp.auth", "none");
  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "smtp.security", "none");
  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "smtp.timeout_command_ms", "3000");
  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "sender.from_address", "office@example.com");
  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "sender.copy_to", "archive@example.com");
  return settings;
}

static MrOutgoing *
simple_outgoing (const char *to)
{
  MrOutgoing *outgoing = mr_outgoing_new ();

  g_ptr_array_add (outgoing->to, g_strdup (to));
  g_ptr_array_add (outgoing->bcc, g_strdup ("boss@example.com"));
  outgoing->subject = g_strdup ("Invoice 7");
  outgoing->text_body = g_strdup ("Please find the invoice.\n");
  return outgoing;
}

/* A mail to @recipients in the log, in state @state; a refused address in a mail partly taken. */
static void
log_mail (MrSentLog   *log,
          const char  *recipients,
          MrSentState  state,
          const char  *refused)
{
  g_auto(GStrv) list = g_strsplit (recipients, " ", -1);
  g_autoptr(GError) error = NULL;
  g_autofree char *message_id = g_strdup_printf ("%u@example.com", g_random_int ());
  gint64 id = mr_sent_log_add (log, message_id, "ann", NULL, NULL, "office@example.com", "Hello",
                               (const char * const *) list, "headers", NULL, &error);
  g_autoptr(GArray) outcomes = g_array_new (FALSE, TRUE, sizeof (MrSentRecipient));

  g_assert_no_error (error);
  for (guint i = 0; list[i] != NULL; i++)
    {
      MrSentRecipient one = { list[i], (char *) (g_strcmp0 (list[i], refused) == 0 ? "refused" : "accepted"), NULL };

      g_array_append_val (outcomes, one);
    }
  g_assert_true (mr_sent_log_record_attempt_for (log, id, "smtp", "mx:25", "accepted", "250 ok", state, 0,
                                                 (const MrSentRecipient *) outcomes->data, outcomes->len, &error));
  g_assert_no_error (error);
}

static char *
completions (MrSentLog  *log,
             const char *prefix)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) found = mr_sent_log_complete_addresses (log, prefix, 5, &error);
  GString *out = g_string_new (NULL);

  g_assert_no_error (error);
  for (guint i = 0; i < found->len; i++)
    {
      MrSentAddress *address = g_ptr_array_index (found, i);

      g_string_append_printf (out, "%s%s:%u", i ? " " : "", address->address, address->count);
    }
  return g_string_free (out, FALSE);
}

/* To, Cc and Bcc complete from the log: most used first, by the start of the address or of a
 * part of it; never an address the server refused, a failed mail, nor a mailshot's thousands. */
static void
test_complete_addresses (MrTestDirs    *dirs,
                         gconstpointer  data)
{
  g_autoptr(MrSentLog) log = mr_sent_log_open (NULL, NULL);
  g_autoptr(GError) error = NULL;
  MrSentMailshotMail mailshot = { 0 };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  log_mail (log, "anna.mueller@example.org", MR_SENT_STATE_ACCEPTED, NULL);
  log_mail (log, "anna.mueller@example.org bob@example.org", MR_SENT_STATE_ACCEPTED, NULL);
  log_mail (log, "Andreas@Example.org", MR_SENT_STATE_ACCEPTED, NULL);
  log_mail (log, "andreas@example.org anke@example.org", MR_SENT_STATE_PARTLY_ACCEPTED, "anke@example.org");
  log_mail (log, "andreas@example.org", MR_SENT_STATE_ACCEPTED, NULL);
  log_mail (log, "annette@example.org", MR_SENT_STATE_FAILED, NULL);
  log_mail (log, "a_b%c@example.org", MR_SENT_STATE_ACCEPTED, NULL);
  mailshot.message_id = "m1@example.com";
  mailshot.recipient = "anton@example.org";
  mailshot.from_address = "office@example.com";
  mailshot.subject = "News";
  mailshot.route = "smtp";
  mailshot.state = MR_SENT_STATE_ACCEPTED;
  mailshot.attempts = 1;
  mailshot.time = g_get_real_time () / G_USEC_PER_SEC;
  g_assert_true (mr_sent_log_add_mailshot_mails (log, 7, &mailshot, 1, &error));
  g_assert_no_error (error);

  /* Andreas thrice (any case, spelt as last written), Anna twice; Anke was refused, Annette failed,
   * Anton a mailshot. */
  mr_assert_cmpstr_free (completions (log, "an"), ==, "andreas@example.org:3 anna.mueller@example.org:2");
  mr_assert_cmpstr_free (completions (log, "ANNA"), ==, "anna.mueller@example.org:2");
  /* A part of the address: the surname after the dot. */
  mr_assert_cmpstr_free (completions (log, "muel"), ==, "anna.mueller@example.org:2");
  /* % and _ are themselves, not patterns. */
  mr_assert_cmpstr_free (completions (log, "a_b%"), ==, "a_b%c@example.org:1");
  mr_assert_cmpstr_free (completions (log, "a%"), ==, "");
  mr_assert_cmpstr_free (completions (log, "zed"), ==, "");
  /* Nothing typed: the most used. */
  mr_assert_cmpstr_free (completions (log, ""), ==,
                         "andreas@example.org:3 anna.mueller@example.org:2 a_b%c@example.org:1 bob@example.org:1");

  /* The same from the command line. */
  g_assert_cmpint (mr_test_run_cli (&out, &err, "log", "--addresses", "an", NULL), ==, 0);
  g_assert_cmpstr (out, ==, "andreas@example.org\nanna.mueller@example.org\n");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (mr_test_run_cli (&out, &err, "log", "--addresses", "muel", "--json", NULL), ==, 0);
  {
    g_autoptr(JsonNode) root = json_from_string (out, NULL);
    JsonObject *first;

    g_assert_nonnull (root);
    g_assert_cmpuint (json_array_get_length (json_node_get_array (root)), ==, 1);
    first = json_array_get_object_element (json_node_get_array (root), 0);
    g_assert_cmpstr (json_object_get_string_member (first, "address"), ==, "anna.mueller@example.org");
    g_assert_cmpint (json_object_get_int_member (first, "count"), ==, 2);
  }
}

static void
test_log_basics (MrTestDirs    *dirs,
                 gconstpointer  data)
{
  g_autofree char *path = g_build_filename (dirs->data_home, "mailroom", "sent.db", NULL);
  g_autoptr(MrSentLog) log = mr_sent_log_open (path, NULL);
  g_autoptr(MrSentLog) again = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) message = g_bytes_new_static ("Subject: x\r\n\r\nbody\r\n", 21);
  const char *recipients[] = { "ann@example.org", "hidden@example.org", NULL };
  MrSentQuery everything = { NULL, NULL, 0, 0, -1, 0 };
  MrSentQuery by_text = { "Invoice", NULL, 0, 0, -1, 0 };
  MrSentQuery by_recipient = { NULL, "hidden@example.org", 0, 0, -1, 0 };
  MrSentQuery failed_only = { NULL, NULL, 0, 0, MR_SENT_STATE_FAILED, 0 };
  gint64 full, headers;
  g_autoptr(GPtrArray) found = NULL;
  g_autoptr(GPtrArray) attempts = NULL;
  g_autoptr(GBytes) copy = NULL;
  struct stat st;

  g_assert_nonnull (log);
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);

  full = mr_sent_log_add (log, "a@example.com", "ann", NULL, "Invoice", "office@example.com", "Invoice 7", recipients,
                          "full", message, &error);
  g_assert_no_error (error);
  headers = mr_sent_log_add (log, "b@example.com", "ann", "reports", NULL, "office@example.com", "Report", recipients,
                             "headers", message, &error);
  g_assert_no_error (error);

  g_assert_true (mr_sent_log_record_attempt (log, full, "smtp", "mx:25", "accepted", "250 2.0.0 queued as 7",
                                             MR_SENT_STATE_ACCEPTED, 0, &error));
  g_assert_true (mr_sent_log_record_attempt (log, headers, "smtp", "mx:25", "temporary", "451 4.3.0 later",
                                             MR_SENT_STATE_QUEUED, 100, &error));
  /* Queued: the copy stays, whatever the log option, so that the outbox can send it. */
  copy = mr_sent_log_get_copy (log, headers, NULL);
  g_assert_nonnull (copy);
  g_clear_pointer (&copy, g_bytes_unref);
  g_assert_true (mr_sent_log_record_attempt (log, headers, "smtp", "mx:25", "failed", "550 5.1.1 no such user",
                                             MR_SENT_STATE_FAILED, 0, &error));
  /* Final with "headers": the copy goes; with "full" it stays. */
  g_assert_null (mr_sent_log_get_copy (log, headers, NULL));
  copy = mr_sent_log_get_copy (log, full, NULL);
  g_assert_cmpuint (g_bytes_get_size (copy), ==, 21);

  attempts = mr_sent_log_get_attempts (log, headers, &error);
  g_assert_cmpuint (attempts->len, ==, 2);
  g_assert_cmpstr (((MrSentAttempt *) g_ptr_array_index (attempts, 1))->reply, ==, "550 5.1.1 no such user");

  /* It survives closing and reopening. */
  g_clear_object (&log);
  again = mr_sent_log_open (path, &error);
  g_assert_no_error (error);
  found = mr_sent_log_search (again, &everything, &error);
  g_assert_cmpuint (found->len, ==, 2);
  g_clear_pointer (&found, g_ptr_array_unref);
  found = mr_sent_log_search (again, &by_text, &error);
  g_assert_cmpuint (found->len, ==, 1);
  g_assert_cmpstr (((MrSentEntry *) g_ptr_array_index (found, 0))->message_id, ==, "a@example.com");
  g_clear_pointer (&found, g_ptr_array_unref);
  found = mr_sent_log_search (again, &by_recipient, &error);
  g_assert_cmpuint (found->len, ==, 2);
  g_clear_pointer (&found, g_ptr_array_unref);
  found = mr_sent_log_search (again, &failed_only, &error);
  g_assert_cmpuint (found->len, ==, 1);
  g_assert_cmpstr (((MrSentEntry *) g_ptr_array_index (found, 0))->last_error, ==, "550 5.1.1 no such user");
  g_assert_cmpuint (((MrSentEntry *) g_ptr_array_index (found, 0))->attempts, ==, 2);

  g_assert_true (mr_sent_log_delete (again, full, &error));
  g_assert_false (mr_sent_log_delete (again, full, &error));
  g_assert_error (error, MR_SENT_LOG_ERROR, MR_SENT_LOG_ERROR_NOT_FOUND);
}

static void
test_log_unwritable (MrTestDirs    *dirs,
                     gconstpointer  data)
{
  g_autofree char *dir = g_build_filename (dirs->data_home, "mailroom", NULL);
  g_autofree char *path = g_build_filename (dir, "sent.db", NULL);
  g_autoptr(MrTestServer) server = mr_test_server_start ("smtp-server.py", "--mode", "plain", NULL);
  g_autoptr(MrSettings) settings = settings_for_port (server->port);
  g_autoptr(MrSentLog) log = NULL;
  g_autoptr(MrOutgoing) outgoing = simple_outgoing ("ann@example.org");
  g_autoptr(MrSendReport) report = NULL;
  g_autoptr(GError) error = NULL;

  if (getuid () == 0)
    {
      g_test_skip ("root writes any file: run as an unprivileged user (make test does)");
      return;
    }

  /* A log that cannot be written: nothing is sent that could not be recorded. */
  log = mr_sent_log_open (path, &error);
  g_assert_no_error (error);
  g_clear_object (&log);
  g_chmod (path, 0400);
  g_chmod (dir, 0500);
  log = mr_sent_log_open (path, &error);
  if (log != NULL)
    {
      report = mr_outbox_send_sync (settings, log, NULL, "smtp", outgoing, NULL, "full", NULL, NULL, &error);
      g_assert_null (report);
    }
  g_assert_error (error, MR_SENT_LOG_ERROR, (log != NULL ? MR_SENT_LOG_ERROR_WRITE : MR_SENT_LOG_ERROR_OPEN));
  g_assert_cmpuint (mr_test_server_count_messages (server), ==, 0);
  g_chmod (dir, 0700);
  g_chmod (path, 0600);
}

static void
test_send_and_log (MrTestDirs    *dirs,
                   gconstpointer  data)
{
  g_autoptr(MrTestServer) server = mr_test_server_start ("smtp-server.py", "--mode", "plain", NULL);
  g_autoptr(MrSettings) settings = settings_for_port (server->port);
  g_autoptr(MrSentLog) log = mr_sent_log_open (NULL, NULL);
  g_autoptr(MrOutgoing) outgoing = simple_outgoing ("ann@example.org");
  g_autoptr(MrSendReport) report = NULL;
  g_autoptr(MrSentEntry) entry = NULL;
  g_autoptr(GError) error = NULL;

  report = mr_outbox_send_sync (settings, log, NULL, "auto", outgoing, "Invoice", "full", NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (report->state, ==, MR_SENT_STATE_ACCEPTED);
  g_assert_cmpuint (mr_test_server_count_messages (server), ==, 1);

  /* The log has everything: the Bcc and the copy address, the template, the reply, a copy. */
  entry = mr_sent_log_get (log, report->id, &error);
  g_assert_cmpint (entry->state, ==, MR_SENT_STATE_ACCEPTED);
  g_assert_cmpstr (entry->template_name, ==, "Invoice");
  g_assert_true (g_strv_contains ((const char * const *) entry->recipients, "boss@example.com"));
  g_assert_true (g_strv_contains ((const char * const *) entry->recipients, "archive@example.com"));
  g_assert_true (entry->has_copy);
  g_assert_cmpuint (entry->attempts, ==, 1);
  g_assert_cmpstr (entry->message_id, ==, report->message_id);

  /* Exchange not set up: said plainly, nothing sent, nothing logged. */
  {
    g_autoptr(MrOutgoing) other = simple_outgoing ("bob@example.org");
    MrSentQuery everything = { NULL, NULL, 0, 0, -1, 0 };
    g_autoptr(GPtrArray) all = NULL;

    g_assert_null (mr_outbox_send_sync (settings, log, NULL, "exchange", other, NULL, "full", NULL, NULL, &error));
    g_assert_error (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_NOT_SET_UP);
    g_assert_cmpint (mr_error_get_exit_status (error), ==, 78);
    all = mr_sent_log_search (log, &everything, NULL);
    g_assert_cmpuint (all->len, ==, 1);
    g_assert_cmpuint (mr_test_server_count_messages (server), ==, 1);
  }
}

static void
test_permanent_failure (MrTestDirs    *dirs,
                        gconstpointer  data)
{
  g_autoptr(MrTestServer) server = mr_test_server_start ("fault-server.py", "--scenario", "normal",
                                                         "--mail-reply", "550 5.7.60 Not allowed to send as this sender", NULL);
  g_autoptr(MrSettings) settings = settings_for_port (server->port);
  g_autoptr(MrSentLog) log = mr_sent_log_open (NULL, NULL);
  g_autoptr(MrOutgoing) outgoing = simple_outgoing ("ann@example.org");
  g_autoptr(MrSendReport) report = NULL;
  g_autoptr(GPtrArray) attempts = NULL;
  g_autoptr(GError) error = NULL;

  report = mr_outbox_send_sync (settings, log, NULL, "smtp", outgoing, NULL, "headers", NULL, NULL, &error);
  g_assert_no_error (error);
  /* Final, with the advice; not queued, and no copy kept with "headers". */
  g_assert_cmpint (report->state, ==, MR_SENT_STATE_FAILED);
  g_assert_nonnull (strstr (report->failure->message, "Send As"));
  g_assert_null (mr_sent_log_get_copy (log, report->id, NULL));
  attempts = mr_sent_log_get_attempts (log, report->id, NULL);
  g_assert_cmpuint (attempts->len, ==, 1);
  g_assert_cmpstr (((MrSentAttempt *) g_ptr_array_index (attempts, 0))->reply, ==, "550 5.7.60 Not allowed to send as this sender");
}

static void
test_outbox_retries_when_server_returns (MrTestDirs    *dirs,
                                         gconstpointer  data)
{
  guint16 port = mr_test_closed_port ();
  g_autofree char *port_text = g_strdup_printf ("%u", port);
  g_autoptr(MrSettings) settings = settings_for_port (port);
  g_autoptr(MrSentLog) log = mr_sent_log_open (NULL, NULL);
  g_autoptr(MrOutgoing) outgoing = simple_outgoing ("ann@example.org");
  g_autoptr(MrSendReport) report = NULL;
  g_autoptr(MrTestServer) server = NULL;
  g_autoptr(GPtrArray) nothing_due = NULL;
  g_autoptr(GPtrArray) reports = NULL;
  g_autoptr(MrSentEntry) entry = NULL;
  g_autoptr(GError) error = NULL;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  /* Nobody listening: the mail waits in the outbox. */
  report = mr_outbox_send_sync (settings, log, NULL, "smtp", outgoing, NULL, "full", NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (report->state, ==, MR_SENT_STATE_QUEUED);
  entry = mr_sent_log_get (log, report->id, NULL);
  g_assert_cmpint (entry->next_attempt, >=, now + 59);

  /* Not due yet. */
  nothing_due = mr_outbox_process_sync (settings, log, now, NULL, &error);
  g_assert_cmpuint (nothing_due->len, ==, 0);

  /* The server comes back on the same port; when the time comes, the mail goes. */
  server = mr_test_server_start ("smtp-server.py", "--mode", "plain", "--port", port_text, NULL);
  reports = mr_outbox_process_sync (settings, log, now + 3600, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (reports->len, ==, 1);
  g_assert_cmpint (((MrSendReport *) g_ptr_array_index (reports, 0))->state, ==, MR_SENT_STATE_ACCEPTED);
  g_assert_cmpuint (mr_test_server_count_messages (server), ==, 1);
  g_clear_pointer (&entry, mr_sent_entry_free);
  entry = mr_sent_log_get (log, report->id, NULL);
  g_assert_cmpint (entry->state, ==, MR_SENT_STATE_ACCEPTED);
  g_assert_cmpuint (entry->attempts, ==, 2);

  /* The same Message-ID both times: a retry is the same mail. */
  {
    g_autoptr(JsonNode) parsed = mr_test_server_parse_message (server, 1);
    g_autofree char *id = g_strdup_printf ("<%s>", report->message_id);
    g_assert_cmpstr (json_object_get_string_member (json_node_get_object (parsed), "message_id"), ==, id);
  }
}

static void
test_back_off (void)
{
  gint64 created = 1000000;

  g_assert_cmpint (mr_outbox_next_attempt (created, 1, created), ==, created + 60);
  g_assert_cmpint (mr_outbox_next_attempt (created, 2, created + 60), ==, created + 360);
  g_assert_cmpint (mr_outbox_next_attempt (created, 5, created + 7200), ==, created + 7200 + 4 * 3600);
  /* After two days it gives up. */
  g_assert_cmpint (mr_outbox_next_attempt (created, 12, created + 2 * 86400), ==, 0);
}


static const char *
outcome_of (JsonObject *entry,
            const char *address,
            const char *member)
{
  JsonArray *outcomes = json_object_get_array_member (entry, "outcomes");

  for (guint i = 0; i < json_array_get_length (outcomes); i++)
    {
      JsonObject *recipient = json_array_get_object_element (outcomes, i);

      if (g_strcmp0 (json_object_get_string_member (recipient, "address"), address) == 0)
        return json_object_get_string_member_with_default (recipient, member, NULL);
    }
  g_error ("No outcome for %s", address);
}

/* One recipient refused for now (450) while the other is taken: the mail waits in the outbox for
 * that recipient alone (exit 75), and the retry sends the same message, with its Message-ID, to it
 * only. Then one refused for good (550) while the other is taken: "partly-accepted", and the log
 * keeps each recipient's outcome and reply (`log --to`, `log --json`). */
static void
test_recipients_one_by_one (MrTestDirs    *dirs,
                            gconstpointer  data)
{
  g_autoptr(MrTestServer) server = mr_test_server_start ("smtp-server.py", "--mode", "plain", "--rcpt-temp-once", "defer",
                                                         "--rcpt-perm", "nobody", NULL);
  g_autoptr(MrSettings) settings = settings_for_port (server->port);
  g_autofree char *template_path = g_build_filename (dirs->company_templates, "note.json", NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(JsonNode) log = NULL;
  g_autoptr(JsonNode) first_envelope = NULL;
  g_autoptr(JsonNode) retry_envelope = NULL;
  g_autoptr(GPtrArray) reports = NULL;
  g_autoptr(MrSentLog) sent_log = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *first_id = NULL;
  JsonObject *entry;
  JsonArray *rcpts;

  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "sender.copy_to", "");
  g_mkdir_with_parents (dirs->company_templates, 0755);
  mr_test_write_file (template_path, "{\"schema_version\": 1, \"name\": \"Note\", \"subject\": \"Note\", \"text\": \"Hi\"}");

  g_assert_cmpint (mr_test_run_cli (&out, &err, "send", "--template", "Note", "--to", "ok@example.org", "--cc",
                                    "defer@example.org", NULL), ==, 75);
  g_assert_nonnull (strstr (out, "Refused for now, waits in the outbox: defer@example.org"));
  g_assert_cmpuint (mr_test_server_count_messages (server), ==, 1);
  first_envelope = mr_test_server_read_envelope (server, 1);
  rcpts = json_object_get_array_member (json_node_get_object (first_envelope), "rcpt_tos");
  g_assert_cmpuint (json_array_get_length (rcpts), ==, 1);
  g_assert_cmpstr (json_array_get_string_element (rcpts, 0), ==, "ok@example.org");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (mr_test_run_cli (&out, &err, "log", "--json", "--to", "defer@example.org", NULL), ==, 0);
  log = json_from_string (out, NULL);
  entry = json_array_get_object_element (json_node_get_array (log), 0);
  g_assert_cmpstr (json_object_get_string_member (entry, "state"), ==, "queued");
  g_assert_cmpstr (outcome_of (entry, "ok@example.org", "outcome"), ==, "accepted");
  g_assert_cmpstr (outcome_of (entry, "defer@example.org", "outcome"), ==, "temporary");
  g_assert_nonnull (strstr (outcome_of (entry, "defer@example.org", "reply"), "451"));
  first_id = g_strdup_printf ("<%s>", json_object_get_string_member (entry, "message_id"));

  /* The outbox's turn (as if its time had come): only the recipient that waited. */
  sent_log = mr_sent_log_open (NULL, &error);
  g_assert_no_error (error);
  reports = mr_outbox_process_sync (settings, sent_log, G_MAXINT64, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (reports->len, ==, 1);
  g_assert_cmpint (((MrSendReport *) g_ptr_array_index (reports, 0))->state, ==, MR_SENT_STATE_ACCEPTED);
  g_assert_cmpuint (mr_test_server_count_messages (server), ==, 2);
  retry_envelope = mr_test_server_read_envelope (server, 2);
  rcpts = json_object_get_array_member (json_node_get_object (retry_envelope), "rcpt_tos");
  g_assert_cmpuint (json_array_get_length (rcpts), ==, 1);
  g_assert_cmpstr (json_array_get_string_element (rcpts, 0), ==, "defer@example.org");
  {
    g_autoptr(JsonNode) again = mr_test_server_parse_message (server, 2);

    g_assert_cmpstr (json_object_get_string_member (json_node_get_object (again), "message_id"), ==, first_id);
  }
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_clear_pointer (&log, json_node_unref);
  g_assert_cmpint (mr_test_run_cli (&out, &err, "log", "--json", "--to", "defer@example.org", NULL), ==, 0);
  log = json_from_string (out, NULL);
  entry = json_array_get_object_element (json_node_get_array (log), 0);
  g_assert_cmpstr (json_object_get_string_member (entry, "state"), ==, "accepted");
  g_assert_cmpstr (outcome_of (entry, "defer@example.org", "outcome"), ==, "accepted");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_clear_pointer (&log, json_node_unref);

  /* Refused for good beside one taken: partly accepted, 76, and the log says who. */
  g_assert_cmpint (mr_test_run_cli (&out, &err, "send", "--template", "Note", "--to", "ann@example.org", "--cc",
                                    "nobody@example.org", NULL), ==, 76);
  g_assert_nonnull (strstr (out, "Refused: nobody@example.org"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (mr_test_run_cli (&out, &err, "log", "--to", "nobody@example.org", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "partly-accepted"));
  g_assert_nonnull (strstr (out, "nobody@example.org (refused)"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (mr_test_run_cli (&out, &err, "log", "--json", "--to", "nobody@example.org", NULL), ==, 0);
  log = json_from_string (out, NULL);
  entry = json_array_get_object_element (json_node_get_array (log), 0);
  g_assert_cmpstr (json_object_get_string_member (entry, "state"), ==, "partly-accepted");
  g_assert_cmpstr (outcome_of (entry, "ann@example.org", "outcome"), ==, "accepted");
  g_assert_cmpstr (outcome_of (entry, "nobody@example.org", "outcome"), ==, "refused");
  g_assert_nonnull (strstr (outcome_of (entry, "nobody@example.org", "reply"), "550 5.1.1"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (mr_test_run_cli (&out, &err, "log", "--status", "partly-accepted", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "nobody@example.org"));
}

static void
test_cli_send (MrTestDirs    *dirs,
               gconstpointer  data)
{
  g_autoptr(MrTestServer) server = mr_test_server_start ("smtp-server.py", "--mode", "plain", NULL);
  g_autoptr(MrSettings) settings = settings_for_port (server->port);
  g_autofree char *pdf = g_build_filename (dirs->root, "Rechnung März.pdf", NULL);
  g_autofree char *template_path = g_build_filename (dirs->company_templates, "invoice.json", NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(JsonNode) log = NULL;
  g_autoptr(JsonNode) parsed = NULL;
  g_autoptr(JsonNode) envelope = NULL;
  JsonObject *first;

  g_mkdir_with_parents (dirs->company_templates, 0755);
  mr_test_write_file (template_path, "{\"schema_version\": 1, \"name\": \"Invoice\", \"subject\": \"Invoice {{number}}\","
                                     " \"html\": \"<p>Dear {{name}}, invoice {{number}} is attached.</p>\"}");
  mr_test_write_file (pdf, "%PDF-1.4 invoice");

  g_assert_cmpint (mr_test_run_cli (&out, &err, "send", "--template", "Invoice", "--to", "ann@example.org", "--cc", "bob@example.org",
                        "--bcc", "boss@example.com", "--var", "name=Ann", "--var", "number=7", "--attach", pdf, "--json", NULL),
                   ==, 0);
  g_assert_cmpuint (mr_test_server_count_messages (server), ==, 1);
  parsed = mr_test_server_parse_message (server, 1);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (json_node_get_object (parsed), "defects")), ==, 0);
  g_assert_false (json_object_get_boolean_member (json_node_get_object (parsed), "has_bcc"));
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (parsed), "structure"), ==,
                   "multipart/mixed[multipart/alternative[text/plain,text/html],application/pdf]");
  envelope = mr_test_server_read_envelope (server, 1);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (json_node_get_object (envelope), "rcpt_tos")), ==, 4);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* What was sent, to whom, found again. */
  g_assert_cmpint (mr_test_run_cli (&out, &err, "log", "--json", "--to", "boss@example.com", NULL), ==, 0);
  log = json_from_string (out, NULL);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (log)), ==, 1);
  first = json_array_get_object_element (json_node_get_array (log), 0);
  g_assert_cmpstr (json_object_get_string_member (first, "state"), ==, "accepted");
  g_assert_cmpstr (json_object_get_string_member (first, "template"), ==, "Invoice");
  g_assert_cmpstr (json_object_get_string_member (first, "subject"), ==, "Invoice 7");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (mr_test_run_cli (&out, &err, "log", "--status", "failed", NULL), ==, 0);
  g_assert_cmpstr (out, ==, "");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* Bad input: named, and nothing sent. */
  g_assert_cmpint (mr_test_run_cli (&out, &err, "send", "--template", "Invoice", "--to", "not an address", NULL), ==, 65);
  g_assert_nonnull (strstr (err, "--to"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (mr_test_run_cli (&out, &err, "send", "--template", "Invoice", "--to", "ann@example.org", "--attach", "/nonexistent.pdf", NULL), ==, 66);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (mr_test_run_cli (&out, &err, "send", "--to", "ann@example.org", NULL), ==, 64);
  g_assert_cmpuint (mr_test_server_count_messages (server), ==, 1);
}

/* Makes entry @id look @days old, as if the clock had moved on. */
static void
age_entry (const char *path,
           gint64      id,
           int         days)
{
  sqlite3 *db = NULL;
  g_autofree char *sql = g_strdup_printf ("UPDATE messages SET created = created - %d WHERE id = %" G_GINT64_FORMAT,
                                          days * 86400, id);

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_changes (db), ==, 1);
  sqlite3_close (db);
}

static gint64
add_final (MrSentLog   *log,
           const char  *message_id,
           MrSentState  state)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) message = g_bytes_new_static ("Subject: x\r\n\r\nbody\r\n", 21);
  const char *recipients[] = { "ann@example.org", NULL };
  gint64 id = mr_sent_log_add (log, message_id, "ann", NULL, NULL, "office@example.com", message_id, recipients,
                               "full", message, &error);

  g_assert_no_error (error);
  g_assert_true (mr_sent_log_record_attempt (log, id, "smtp", "mx:25",
                                             state == MR_SENT_STATE_QUEUED ? "temporary" : "accepted",
                                             "250 ok", state, state == MR_SENT_STATE_QUEUED ? 100 : 0, &error));
  g_assert_no_error (error);
  return id;
}

/* log.retention_days removes old final entries, their attempts and copies; queued mail stays. */
static void
test_log_retention (MrTestDirs    *dirs,
                    gconstpointer  data)
{
  g_autofree char *path = g_build_filename (dirs->data_home, "mailroom", "sent.db", NULL);
  g_autoptr(MrSettings) settings = settings_for_port (25);
  g_autoptr(MrSentLog) log = mr_sent_log_open (path, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) attempts = NULL;
  g_autoptr(GBytes) copy = NULL;
  MrSentQuery everything = { NULL, NULL, 0, 0, -1, 0 };
  g_autoptr(GPtrArray) found = NULL;
  gint64 old_accepted, old_failed, old_queued, recent;

  g_assert_nonnull (log);
  old_accepted = add_final (log, "old-accepted@example.com", MR_SENT_STATE_ACCEPTED);
  old_failed = add_final (log, "old-failed@example.com", MR_SENT_STATE_FAILED);
  old_queued = add_final (log, "old-queued@example.com", MR_SENT_STATE_QUEUED);
  recent = add_final (log, "recent@example.com", MR_SENT_STATE_ACCEPTED);
  g_clear_object (&log);
  age_entry (path, old_accepted, 40);
  age_entry (path, old_failed, 31);
  age_entry (path, old_queued, 40);
  age_entry (path, recent, 29);

  /* 0 keeps everything. */
  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "log.retention_days", "0");
  log = mr_outbox_open_log (settings, path, &error);
  g_assert_no_error (error);
  found = mr_sent_log_search (log, &everything, &error);
  g_assert_cmpuint (found->len, ==, 4);
  g_clear_pointer (&found, g_ptr_array_unref);
  g_clear_object (&log);

  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "log.retention_days", "30");
  log = mr_outbox_open_log (settings, path, &error);
  g_assert_no_error (error);
  found = mr_sent_log_search (log, &everything, &error);
  g_assert_cmpuint (found->len, ==, 2);
  g_assert_null (mr_sent_log_get (log, old_accepted, NULL));
  g_assert_null (mr_sent_log_get (log, old_failed, NULL));
  g_assert_null (mr_sent_log_get_copy (log, old_accepted, NULL));
  attempts = mr_sent_log_get_attempts (log, old_accepted, NULL);
  g_assert_true (attempts == NULL || attempts->len == 0);
  copy = mr_sent_log_get_copy (log, old_queued, &error);
  g_assert_no_error (error);
  g_assert_nonnull (copy);
  {
    g_autoptr(MrSentEntry) kept = mr_sent_log_get (log, recent, NULL);

    g_assert_nonnull (kept);
  }
}

/* The SIZE a server announced is remembered for the compose pane, per server. */
static void
test_known_size_limit (MrTestDirs    *dirs,
                       gconstpointer  data)
{
  g_autoptr(MrTestServer) server = mr_test_server_start ("smtp-server.py", "--mode", "plain", "--size", "5000000", NULL);
  g_autoptr(MrSettings) settings = settings_for_port (server->port);
  g_autoptr(MrTransport) transport = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *other_port = g_strdup_printf ("%u", mr_test_closed_port ());
  g_autofree char *server_port = g_strdup_printf ("%u", server->port);
  g_autofree char *cache = g_build_filename (dirs->cache_home, "mailroom", "servers.json", NULL);

  g_assert_cmpuint (mr_delivery_get_known_size_limit (settings, NULL), ==, 0);
  transport = mr_smtp_transport_new_for_settings (settings, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (mr_transport_check_sync (transport, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (mr_delivery_get_known_size_limit (settings, NULL), ==, 5000000);

  /* Another server is not this one. */
  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "smtp.port", other_port);
  g_assert_cmpuint (mr_delivery_get_known_size_limit (settings, NULL), ==, 0);

  /* A damaged cache is only a lost hint, and the next connection mends it. */
  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "smtp.port", server_port);
  g_assert_cmpuint (mr_delivery_get_known_size_limit (settings, NULL), ==, 5000000);
  mr_test_write_file (cache, "{ not json");
  g_assert_cmpuint (mr_delivery_get_known_size_limit (settings, NULL), ==, 0);
  g_assert_true (mr_transport_check_sync (transport, NULL, &error));
  g_assert_cmpuint (mr_delivery_get_known_size_limit (settings, NULL), ==, 5000000);
}

static void
sql_on (const char *path,
        const char *sql,
        char      **result)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *statement = NULL;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &statement, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (statement), !=, SQLITE_ERROR);
  if (result != NULL)
    *result = g_strdup ((const char *) sqlite3_column_text (statement, 0));
  sqlite3_finalize (statement);
  sqlite3_close (db);
}

static gboolean
has_sending_entry (const char *path)
{
  g_autoptr(MrSentLog) log = g_file_test (path, G_FILE_TEST_EXISTS) ? mr_sent_log_open (path, NULL) : NULL;
  MrSentQuery sending = { NULL, NULL, 0, 0, MR_SENT_STATE_SENDING, 0 };
  g_autoptr(GPtrArray) found = log ? mr_sent_log_search (log, &sending, NULL) : NULL;

  return found != NULL && found->len == 1;
}

/* Mailroom killed in the middle of a send: the log is intact, the mail is not lost (it is sent
 * again once its claim runs out, with an attempt that says so), and no two processes send it. */
static void
test_killed_mid_send (MrTestDirs    *dirs,
                      gconstpointer  data)
{
  g_autoptr(MrTestServer) silent = mr_test_server_start ("fault-server.py", "--scenario", "no-answer", NULL);
  g_autoptr(MrTestServer) server = mr_test_server_start ("smtp-server.py", "--mode", "plain", NULL);
  g_autoptr(MrSettings) settings = settings_for_port (silent->port);
  g_autofree char *path = g_build_filename (dirs->data_home, "mailroom", "sent.db", NULL);
  g_autofree char *template_path = g_build_filename (dirs->root, "note.json", NULL);
  g_autofree char *port = g_strdup_printf ("%u", server->port);
  g_autofree char *check = NULL;
  g_autoptr(GSubprocess) cli = NULL;
  g_autoptr(MrSentLog) log = NULL;
  g_autoptr(GPtrArray) reports = NULL;
  g_autoptr(GPtrArray) attempts = NULL;
  g_autoptr(GPtrArray) claimed = NULL;
  g_autoptr(GError) error = NULL;
  MrSentQuery everything = { NULL, NULL, 0, 0, -1, 0 };
  g_autoptr(GPtrArray) found = NULL;
  MrSentEntry *entry;
  gint64 now;

  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "smtp.timeout_command_ms", "30000");
  mr_test_write_file (template_path, "{\"schema_version\": 1, \"name\": \"Note\", \"subject\": \"Note\", \"text\": \"Hello\"}");
  cli = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error,
                          g_getenv ("MAILROOM_CLI"), "send", "--template", template_path, "--to", "ann@example.org", NULL);
  g_assert_no_error (error);
  for (guint tries = 0; !has_sending_entry (path); tries++)
    {
      if (tries == 100)
        g_error ("The CLI did not record its send within 10 s");
      g_usleep (100 * 1000);
    }
  g_subprocess_force_exit (cli);
  g_subprocess_wait (cli, NULL, NULL);

  sql_on (path, "PRAGMA integrity_check", &check);
  g_assert_cmpstr (check, ==, "ok");

  /* While its claim lasts, nobody else sends it: the dead process may have been about to. */
  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "smtp.port", port);
  log = mr_outbox_open_log (settings, path, &error);
  g_assert_no_error (error);
  reports = mr_outbox_process_sync (settings, log, g_get_real_time () / G_USEC_PER_SEC, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (reports->len, ==, 0);
  g_clear_pointer (&reports, g_ptr_array_unref);
  g_assert_cmpuint (mr_test_server_count_messages (server), ==, 0);

  /* Past the claim, it goes out, with the interruption on record. */
  sql_on (path, "UPDATE messages SET next_attempt = next_attempt - 1801", NULL);
  reports = mr_outbox_process_sync (settings, log, g_get_real_time () / G_USEC_PER_SEC, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (reports->len, ==, 1);
  g_assert_cmpint (((MrSendReport *) g_ptr_array_index (reports, 0))->state, ==, MR_SENT_STATE_ACCEPTED);
  g_assert_cmpuint (mr_test_server_count_messages (server), ==, 1);
  found = mr_sent_log_search (log, &everything, &error);
  g_assert_cmpuint (found->len, ==, 1);
  entry = g_ptr_array_index (found, 0);
  attempts = mr_sent_log_get_attempts (log, entry->id, &error);
  g_assert_cmpuint (attempts->len, ==, 2);
  g_assert_cmpstr (((MrSentAttempt *) g_ptr_array_index (attempts, 0))->outcome, ==, "interrupted");
  g_assert_cmpstr (((MrSentAttempt *) g_ptr_array_index (attempts, 1))->outcome, ==, "accepted");

  /* A queued message is claimed once: a second outbox run finds nothing to send. */
  now = g_get_real_time () / G_USEC_PER_SEC;
  g_assert_true (mr_sent_log_record_attempt (log, add_final (log, "queued@example.com", MR_SENT_STATE_QUEUED), "smtp",
                                             "mx:25", "temporary", "451 later", MR_SENT_STATE_QUEUED, now, &error));
  claimed = mr_sent_log_claim_due (log, now, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (claimed->len, ==, 1);
  g_clear_pointer (&claimed, g_ptr_array_unref);
  claimed = mr_sent_log_claim_due (log, G_MAXINT64, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (claimed->len, ==, 0);
}

/* No room to write: the file-size limit makes every write past it fail, as a full disk would. */
static void
limit_file_size (gpointer data)
{
  struct rlimit limit = { GPOINTER_TO_UINT (data), GPOINTER_TO_UINT (data) };

  signal (SIGXFSZ, SIG_IGN);
  setrlimit (RLIMIT_FSIZE, &limit);
}

/* The log cannot be written: the send stops with a clear error before anything goes out, and what
 * the log held before is intact. */
static void
test_log_full (MrTestDirs    *dirs,
               gconstpointer  data)
{
  g_autoptr(MrTestServer) server = mr_test_server_start ("smtp-server.py", "--mode", "plain", NULL);
  g_autoptr(MrSettings) settings = settings_for_port (server->port);
  g_autofree char *path = g_build_filename (dirs->data_home, "mailroom", "sent.db", NULL);
  g_autofree char *template_path = g_build_filename (dirs->root, "note.json", NULL);
  g_autofree char *attachment = g_build_filename (dirs->root, "scan.pdf", NULL);
  g_autofree char *filler = g_strnfill (400 * 1024, 'x');
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                                                       G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GSubprocess) cli = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *check = NULL;
  g_autoptr(MrSentLog) log = NULL;
  g_autoptr(GPtrArray) found = NULL;
  g_autoptr(GError) error = NULL;
  MrSentQuery everything = { NULL, NULL, 0, 0, -1, 0 };
  struct stat st;

  mr_test_write_file (template_path, "{\"schema_version\": 1, \"name\": \"Note\", \"subject\": \"Note\", \"text\": \"Hello\"}");
  mr_test_write_file (attachment, filler);
  g_assert_cmpint (mr_test_run_cli (&out, &err, "send", "--template", template_path, "--to", "ann@example.org", NULL), ==, 0);
  g_assert_cmpuint (mr_test_server_count_messages (server), ==, 1);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_subprocess_launcher_set_child_setup (launcher, limit_file_size, GUINT_TO_POINTER (st.st_size + 64 * 1024), NULL);
  cli = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("MAILROOM_CLI"), "send", "--template", template_path,
                                     "--to", "bob@example.org", "--attach", attachment, NULL);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_communicate_utf8 (cli, NULL, NULL, &out, &err, &error));
  g_assert_no_error (error);
  g_test_message ("CLI said: %s", err);
  g_assert_cmpint (g_subprocess_get_exit_status (cli), ==, 73);
  /* SQLite says "disk I/O error" for a write cut short (a real full disk is SQLITE_FULL, "no room is
   * left", which needs root to stage); either way the message names the log and what failed. */
  g_assert_nonnull (strstr (err, "sent log"));
  g_assert_nonnull (strstr (err, path));
  /* Not logged, so not sent. */
  g_assert_cmpuint (mr_test_server_count_messages (server), ==, 1);

  sql_on (path, "PRAGMA integrity_check", &check);
  g_assert_cmpstr (check, ==, "ok");
  log = mr_sent_log_open (path, &error);
  g_assert_no_error (error);
  found = mr_sent_log_search (log, &everything, &error);
  g_assert_cmpuint (found->len, ==, 1);
  g_assert_cmpint (((MrSentEntry *) g_ptr_array_index (found, 0))->state, ==, MR_SENT_STATE_ACCEPTED);
}

/* A template may send from its own address, but only in a domain the company verified. */
static void
test_template_from (MrTestDirs    *dirs,
                    gconstpointer  data)
{
  g_autoptr(MrTestServer) server = mr_test_server_start ("smtp-server.py", "--mode", "plain", NULL);
  g_autoptr(MrSettings) settings = settings_for_port (server->port);
  g_autofree char *billing = g_build_filename (dirs->root, "billing.json", NULL);
  g_autofree char *foreign = g_build_filename (dirs->root, "foreign.json", NULL);
  g_autofree char *broken = g_build_filename (dirs->root, "broken.json", NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(JsonNode) parsed = NULL;
  g_autoptr(JsonNode) envelope = NULL;

  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "domains.verified", "[\"example.com\"]");
  mr_test_write_file (billing, "{\"schema_version\": 1, \"name\": \"Billing\", \"subject\": \"Invoice\", \"text\": \"x\","
                               " \"from_name\": \"Müller Billing\", \"from_address\": \"billing@example.com\"}");
  mr_test_write_file (foreign, "{\"schema_version\": 1, \"name\": \"Foreign\", \"subject\": \"Hi\", \"text\": \"x\","
                               " \"from_address\": \"promo@elsewhere.example\"}");
  mr_test_write_file (broken, "{\"schema_version\": 1, \"name\": \"Broken\", \"subject\": \"Hi\", \"text\": \"x\","
                              " \"from_address\": \"not an address\"}");

  g_assert_cmpint (mr_test_run_cli (&out, &err, "send", "--template", billing, "--to", "ann@example.org", NULL), ==, 0);
  parsed = mr_test_server_parse_message (server, 1);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (parsed), "from"), ==,
                   "Müller Billing <billing@example.com>");
  envelope = mr_test_server_read_envelope (server, 1);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (envelope), "mail_from"), ==, "billing@example.com");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* Not verified: refused before anything is logged or sent. */
  g_assert_cmpint (mr_test_run_cli (&out, &err, "send", "--template", foreign, "--to", "ann@example.org", NULL), ==, 65);
  g_assert_nonnull (strstr (err, "promo@elsewhere.example"));
  g_assert_nonnull (strstr (err, "verified domains"));
  g_assert_cmpuint (mr_test_server_count_messages (server), ==, 1);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (mr_test_run_cli (&out, &err, "log", NULL), ==, 0);
  g_assert_null (strstr (out, "Hi"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (mr_test_run_cli (&out, &err, "send", "--template", broken, "--to", "ann@example.org", NULL), ==, 65);
  g_assert_nonnull (strstr (err, "from_address"));
}

/* A mail sent again is a new mail: a new entry and Message-ID, the same people and content. */
static void
test_resend (MrTestDirs    *dirs,
             gconstpointer  data)
{
  g_autoptr(MrTestServer) server = mr_test_server_start ("smtp-server.py", "--mode", "plain", NULL);
  g_autoptr(MrSettings) settings = settings_for_port (server->port);
  g_autofree char *note = g_build_filename (dirs->root, "note.json", NULL);
  g_autofree char *slim = g_build_filename (dirs->root, "slim.json", NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(JsonNode) first = NULL;
  g_autoptr(JsonNode) second = NULL;
  g_autoptr(JsonNode) first_envelope = NULL;
  g_autoptr(JsonNode) second_envelope = NULL;
  g_autoptr(JsonNode) log = NULL;

  mr_test_write_file (note, "{\"schema_version\": 1, \"name\": \"Note\", \"subject\": \"Grüße\", \"text\": \"Hallo\"}");
  mr_test_write_file (slim, "{\"schema_version\": 1, \"name\": \"Slim\", \"subject\": \"Slim\", \"text\": \"x\","
                            " \"log\": \"headers\"}");
  g_assert_cmpint (mr_test_run_cli (&out, &err, "send", "--template", note, "--to", "ann@example.org", "--bcc", "boss@example.com", NULL), ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (mr_test_run_cli (&out, &err, "resend", "1", NULL), ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpuint (mr_test_server_count_messages (server), ==, 2);
  first = mr_test_server_parse_message (server, 1);
  second = mr_test_server_parse_message (server, 2);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (second), "subject"), ==, "Grüße");
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (first), "message_id"), !=,
                   json_object_get_string_member (json_node_get_object (second), "message_id"));
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (json_node_get_object (second), "defects")), ==, 0);
  first_envelope = mr_test_server_read_envelope (server, 1);
  second_envelope = mr_test_server_read_envelope (server, 2);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (json_node_get_object (second_envelope), "rcpt_tos")), ==,
                    json_array_get_length (json_object_get_array_member (json_node_get_object (first_envelope), "rcpt_tos")));

  g_assert_cmpint (mr_test_run_cli (&out, &err, "log", "--json", NULL), ==, 0);
  log = json_from_string (out, NULL);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (log)), ==, 2);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* Only headers kept: nothing to send again, and it says why. */
  g_assert_cmpint (mr_test_run_cli (&out, &err, "send", "--template", slim, "--to", "ann@example.org", NULL), ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (mr_test_run_cli (&out, &err, "resend", "3", NULL), ==, 65);
  g_assert_nonnull (strstr (err, "headers"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (mr_test_run_cli (&out, &err, "resend", "99", NULL), ==, 65);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (mr_test_run_cli (&out, &err, "resend", "first", NULL), ==, 64);
  g_assert_cmpuint (mr_test_server_count_messages (server), ==, 3);
}

/* The outbox from the command line: list, cancel, retry, run. */
static void
test_cli_outbox (MrTestDirs    *dirs,
                 gconstpointer  data)
{
  g_autoptr(MrTestServer) server = mr_test_server_start ("smtp-server.py", "--mode", "plain", NULL);
  g_autoptr(MrSettings) settings = settings_for_port (mr_test_closed_port ());
  g_autofree char *note = g_build_filename (dirs->root, "note.json", NULL);
  g_autofree char *port = g_strdup_printf ("%u", server->port);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(JsonNode) queued = NULL;

  mr_test_write_file (note, "{\"schema_version\": 1, \"name\": \"Note\", \"subject\": \"Note\", \"text\": \"Hello\"}");
  g_assert_cmpint (mr_test_run_cli (&out, &err, "send", "--template", note, "--to", "ann@example.org", NULL), ==, 75);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (mr_test_run_cli (&out, &err, "send", "--template", note, "--to", "bob@example.org", NULL), ==, 75);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (mr_test_run_cli (&out, &err, "outbox", "--json", NULL), ==, 0);
  queued = json_from_string (out, NULL);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (queued)), ==, 2);
  g_assert_nonnull (json_object_get_string_member (json_array_get_object_element (json_node_get_array (queued), 0), "next_attempt"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* Cancelled: out of the outbox, and a second cancel says what it is now. */
  g_assert_cmpint (mr_test_run_cli (&out, &err, "outbox", "cancel", "1", NULL), ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (mr_test_run_cli (&out, &err, "outbox", "cancel", "1", NULL), ==, 65);
  g_assert_nonnull (strstr (err, "cancelled"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (mr_test_run_cli (&out, &err, "outbox", "retry", "first", NULL), ==, 64);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* The server is back: retried now, it goes; the cancelled one does not. */
  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "smtp.port", port);
  g_assert_cmpint (mr_test_run_cli (&out, &err, "outbox", "retry", "2", NULL), ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpuint (mr_test_server_count_messages (server), ==, 1);
  g_assert_cmpint (mr_test_run_cli (&out, &err, "outbox", "run", NULL), ==, 0);
  g_assert_cmpuint (mr_test_server_count_messages (server), ==, 1);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (mr_test_run_cli (&out, &err, "outbox", NULL), ==, 0);
  g_assert_cmpstr (out, ==, "");
}

/* Exchange set up on the stand-in, with the person's password in the keyring. */
static void
set_up_exchange (MrSettings *settings,
                 MrStandin  *standin)
{
  g_autofree char *url = mr_standin_url (standin, "/EWS/Exchange.asmx");
  g_autofree char *ca = mr_test_cert_path ("ca.pem");
  g_autoptr(MrSecretAccount) account = mr_secret_account_new_for ("exchange", MR_SECRET_SCOPE_USER, "localhost",
                                                                  "CORP\\alice", NULL);
  g_autoptr(GError) error = NULL;

  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "exchange.ews_url", url);
  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "exchange.trust_file", ca);
  mr_test_set_ok (settings, MR_SCOPE_USER, "exchange.username", "CORP\\alice");
  mr_standin_set_ews_auth (standin, "ntlm", "CORP\\alice", "Secret-4-EWS");
  g_assert_true (mr_secrets_store_sync (account, "Secret-4-EWS", NULL, &error));
  g_assert_no_error (error);
}

static void
test_route_fallback (MrTestDirs    *dirs,
                     gconstpointer  data)
{
  g_autoptr(MrStandin) standin = NULL;
  g_autoptr(MrSettings) settings = NULL;
  g_autoptr(MrSentLog) log = NULL;
  g_autoptr(MrOutgoing) outgoing = simple_outgoing ("ann@example.org");
  g_autoptr(MrSendReport) report = NULL;
  g_autoptr(MrSentEntry) entry = NULL;
  g_autoptr(GPtrArray) attempts = NULL;
  g_autoptr(GError) error = NULL;
  MrSentAttempt *first, *second;

  if (!mr_test_require_keyring ())
    return;
  standin = mr_standin_start ();
  /* SMTP is down: nothing listens on its port. */
  settings = settings_for_port (mr_test_closed_port ());
  set_up_exchange (settings, standin);
  log = mr_sent_log_open (NULL, &error);
  g_assert_no_error (error);

  report = mr_outbox_send_sync (settings, log, NULL, "auto", outgoing, NULL, "full", NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (report->state, ==, MR_SENT_STATE_ACCEPTED);
  g_assert_cmpstr (report->route, ==, "ews");
  g_assert_cmpstr (report->reply, ==, "NoError");

  /* One message, two attempts: SMTP handed over, EWS sent it. */
  entry = mr_sent_log_get (log, report->id, &error);
  g_assert_cmpstr (entry->route, ==, "ews");
  g_assert_cmpint (entry->state, ==, MR_SENT_STATE_ACCEPTED);
  attempts = mr_sent_log_get_attempts (log, report->id, &error);
  g_assert_cmpuint (attempts->len, ==, 2);
  first = g_ptr_array_index (attempts, 0);
  second = g_ptr_array_index (attempts, 1);
  g_assert_cmpstr (first->route, ==, "smtp");
  g_assert_cmpstr (first->outcome, ==, "fell-back");
  g_assert_cmpstr (second->route, ==, "ews");
  g_assert_cmpstr (second->outcome, ==, "accepted");
  g_assert_nonnull (strstr (second->server, "localhost"));
  {
    g_autoptr(GPtrArray) requests = mr_standin_get_requests (standin, "/EWS/Exchange.asmx");
    g_assert_cmpuint (requests->len, >=, 1);
  }
  if (mr_standin_validates (standin))
    g_assert_cmpuint (mr_standin_count_invalid (standin), ==, 0);

  /* Without fallback, "auto" is SMTP alone, and the mail waits in the outbox. */
  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "exchange.fallback", "false");
  {
    g_autoptr(MrOutgoing) other = simple_outgoing ("bob@example.org");
    g_autoptr(MrSendReport) queued = mr_outbox_send_sync (settings, log, NULL, "auto", other, NULL, "full", NULL, NULL,
                                                          &error);
    g_autoptr(GPtrArray) tries = NULL;

    g_assert_no_error (error);
    g_assert_cmpint (queued->state, ==, MR_SENT_STATE_QUEUED);
    g_assert_cmpstr (queued->route, ==, "smtp");
    tries = mr_sent_log_get_attempts (log, queued->id, &error);
    g_assert_cmpuint (tries->len, ==, 1);
  }

  /* Exchange preferred: it goes first, and "exchange" alone works too. */
  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "exchange.preferred", "exchange");
  {
    g_autoptr(MrOutgoing) other = simple_outgoing ("carl@example.org");
    g_autoptr(MrSendReport) sent = mr_outbox_send_sync (settings, log, NULL, "exchange", other, NULL, "full", NULL, NULL,
                                                        &error);
    g_autoptr(GPtrArray) tries = NULL;

    g_assert_no_error (error);
    g_assert_cmpint (sent->state, ==, MR_SENT_STATE_ACCEPTED);
    tries = mr_sent_log_get_attempts (log, sent->id, &error);
    g_assert_cmpuint (tries->len, ==, 1);
  }
}

static void
test_route_no_fallback_for_refused_recipient (MrTestDirs    *dirs,
                                              gconstpointer  data)
{
  g_autoptr(MrTestServer) server = mr_test_server_start ("smtp-server.py", "--mode", "plain", "--rcpt-perm", "nobody",
                                                         NULL);
  g_autoptr(MrStandin) standin = NULL;
  g_autoptr(MrSettings) settings = settings_for_port (server->port);
  g_autoptr(MrSentLog) log = NULL;
  g_autoptr(MrOutgoing) outgoing = mr_outgoing_new ();
  g_autoptr(MrSendReport) report = NULL;
  g_autoptr(GPtrArray) attempts = NULL;
  g_autoptr(GError) error = NULL;

  if (!mr_test_require_keyring ())
    return;
  standin = mr_standin_start ();
  set_up_exchange (settings, standin);
  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "sender.copy_to", "");
  log = mr_sent_log_open (NULL, &error);
  g_assert_no_error (error);
  g_ptr_array_add (outgoing->to, g_strdup ("nobody@example.org"));
  outgoing->subject = g_strdup ("Hello");
  outgoing->text_body = g_strdup ("Hi\n");

  /* The server refused the recipient: that is the recipient's failure, not SMTP's. */
  report = mr_outbox_send_sync (settings, log, NULL, "auto", outgoing, NULL, "full", NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (report->state, ==, MR_SENT_STATE_FAILED);
  g_assert_cmpstr (report->route, ==, "smtp");
  attempts = mr_sent_log_get_attempts (log, report->id, &error);
  g_assert_cmpuint (attempts->len, ==, 1);
  {
    g_autoptr(GPtrArray) requests = mr_standin_get_requests (standin, NULL);
    g_assert_cmpuint (requests->len, ==, 0);
  }
}

/* A policy refusal of the sender (5.7.x at MAIL FROM) is SMTP's failure, not the recipient's:
 * "auto" hands the mail to Exchange. */
static void
test_route_fallback_on_policy (MrTestDirs    *dirs,
                               gconstpointer  data)
{
  g_autoptr(MrTestServer) server = mr_test_server_start ("fault-server.py", "--scenario", "normal",
                                                         "--mail-reply", "550 5.7.60 SMTP; Client does not have "
                                                         "permissions to send as this sender", NULL);
  g_autoptr(MrStandin) standin = NULL;
  g_autoptr(MrSettings) settings = settings_for_port (server->port);
  g_autoptr(MrSentLog) log = NULL;
  g_autoptr(MrOutgoing) outgoing = simple_outgoing ("ann@example.org");
  g_autoptr(MrSendReport) report = NULL;
  g_autoptr(GPtrArray) attempts = NULL;
  g_autoptr(GError) error = NULL;

  if (!mr_test_require_keyring ())
    return;
  standin = mr_standin_start ();
  set_up_exchange (settings, standin);
  log = mr_sent_log_open (NULL, &error);
  g_assert_no_error (error);
  report = mr_outbox_send_sync (settings, log, NULL, "auto", outgoing, NULL, "full", NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (report->state, ==, MR_SENT_STATE_ACCEPTED);
  g_assert_cmpstr (report->route, ==, "ews");
  attempts = mr_sent_log_get_attempts (log, report->id, &error);
  g_assert_cmpuint (attempts->len, ==, 2);
  g_assert_nonnull (strstr (((MrSentAttempt *) g_ptr_array_index (attempts, 0))->reply, "5.7.60"));
}

int
main (int    argc,
      char **argv)
{
  mr_test_init (&argc, &argv);

  g_test_add_func ("/sent/back-off", test_back_off);
#define ADD(path, func) g_test_add (path, MrTestDirs, NULL, mr_test_dirs_setup, func, mr_test_dirs_teardown)
  ADD ("/sent/log-basics", test_log_basics);
  ADD ("/sent/complete-addresses", test_complete_addresses);
  ADD ("/sent/log-unwritable", test_log_unwritable);
  ADD ("/sent/log-retention", test_log_retention);
  ADD ("/sent/known-size-limit", test_known_size_limit);
  ADD ("/sent/killed-mid-send", test_killed_mid_send);
  ADD ("/sent/log-full", test_log_full);
  ADD ("/sent/template-from", test_template_from);
  ADD ("/sent/resend", test_resend);
  ADD ("/sent/cli-outbox", test_cli_outbox);
  ADD ("/sent/send-and-log", test_send_and_log);
  ADD ("/sent/permanent-failure", test_permanent_failure);
  ADD ("/sent/outbox-retries", test_outbox_retries_when_server_returns);
  ADD ("/sent/cli-send", test_cli_send);
  ADD ("/sent/recipients-one-by-one", test_recipients_one_by_one);
  ADD ("/sent/route-fallback", test_route_fallback);
  ADD ("/sent/route-no-fallback-for-refused-recipient", test_route_no_fallback_for_refused_recipient);
  ADD ("/sent/route-fallback-on-policy", test_route_fallback_on_policy);
#undef ADD

  return g_test_run ();
}
