/* test-mailshot.c: the proof-reader, in the engine and as `mailroom-cli mailshot check` */

#define _GNU_SOURCE 1  /* F_OFD_SETLK, as the lease */

#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "mr-mailshot.h"
#include "mr-sent-log.h"
#include "mr-proofreader.h"
#include "mr-standin.h"
#include "mr-test-utils.h"
#include "mr-timer.h"

static MrTemplate *
write_template (MrTestDirs *dirs,
                gboolean    strict)
{
  g_autofree char *path = g_build_filename (dirs->root, strict ? "strict.json" : "invite.json", NULL);
  g_autoptr(GError) error = NULL;
  MrTemplate *template_;

  mr_test_write_file (path, strict
                      ? "{\"schema_version\": 1, \"name\": \"Strict\", \"subject\": \"Hi {{name}}\", \"text\": \"x\", \"strict\": true}"
                      : "{\"schema_version\": 1, \"name\": \"Invite\", \"subject\": \"Invitation for {{name}}\","
                        " \"html\": \"<p>Dear {{name}}, see you in {{city}} on {{date}}.</p>\"}");
  template_ = mr_template_load (path, &error);
  g_assert_no_error (error);
  return template_;
}

static const MrProblem *
problem_at (MrProofReport *report,
            guint          row,
            const char    *kind)
{
  for (guint i = 0; i < report->problems->len; i++)
    {
      MrProblem *problem = g_ptr_array_index (report->problems, i);

      if (problem->row == row && g_str_equal (problem->kind, kind))
        return problem;
    }
  g_error ("No %s problem reported for row %u", kind, row);
}

/* A list saved from a spreadsheet, with a mistake of each kind. */
static const char mistakes[] =
  "sep=;\r\n"
  "Name;E-Mail;City\r\n"
  "Ann;ann@example.org;Bern\r\n"              /* 2: fine */
  "Bob;bob@;Basel\r\n"                         /* 3: not an address */
  "Carol;;Chur\r\n"                            /* 4: no address */
  "Ann again;ANN@example.org ;Bern\r\n"        /* 5: the same address as row 2 */
  "Dan;dan@example.org;\r\n"                   /* 6: city left empty */
  "M\xfcller;mueller@example.org;Z\xfcrich\r\n" /* 7: Windows-1252 in a UTF-8 file: unreadable */
  "Eve;eve@example.org;Genf\r\n";             /* Every row is counted once, whatever keeps it from being sent. */
static void
assert_counts_add_up (const MrProofReport *report)
{
  g_assert_cmpuint (report->sendable + report->rows_with_errors + report->left_out + report->repeated +
                    report->suppressed + report->over_limit, ==, report->rows);
}

/* 8: fine */

static void
test_proofreader (MrTestDirs    *dirs,
                  gconstpointer  data)
{
  g_autofree char *path = g_build_filename (dirs->root, "list.csv", NULL);
  g_autoptr(MrTemplate) template_ = write_template (dirs, FALSE);
  g_autoptr(MrProofReport) report = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *padded = NULL;

  /* More than 64 KB of good rows first, so that the file is taken as UTF-8. */
  {
    GString *text = g_string_new ("sep=;\r\nName;E-Mail;City\r\n");
    guint i;

    for (i = 0; text->len < 70000; i++)
      g_string_append_printf (text, "Person %u;person%u@example.org;Zürich\r\n", i, i);
    g_string_append (text, strchr (strchr (mistakes, '\n') + 1, '\n') + 1);
    g_assert_true (g_file_set_contents (path, text->str, text->len, NULL));
    g_test_message ("%u good rows first", i);
    report = mr_proofread (template_, path, NULL, NULL, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (report->address_column, ==, "E-Mail");
    /* The template's {{date}} has no column: a warning for the file, once. */
    g_assert_cmpint (problem_at (report, 0, "missing-column")->severity, ==, MR_PROBLEM_WARNING);
    g_assert_nonnull (strstr (problem_at (report, 0, "missing-column")->message, "date"));
    /* Rows after the good ones: 2 + i is the first mistake row ("Ann"). */
    g_assert_cmpint (problem_at (report, i + 3, "invalid-address")->severity, ==, MR_PROBLEM_ERROR);
    g_assert_nonnull (strstr (problem_at (report, i + 3, "invalid-address")->message, "bob@"));
    g_assert_cmpint (problem_at (report, i + 4, "no-address")->severity, ==, MR_PROBLEM_ERROR);
    padded = g_strdup_printf ("row %u", i + 2);
    g_assert_nonnull (strstr (problem_at (report, i + 5, "duplicate")->message, padded));
    g_assert_cmpint (problem_at (report, i + 6, "empty-variable")->severity, ==, MR_PROBLEM_WARNING);
    g_assert_cmpint (problem_at (report, i + 7, "unreadable")->severity, ==, MR_PROBLEM_ERROR);
    g_assert_cmpuint (report->rows, ==, i + 7);
    g_assert_cmpuint (report->rows_with_errors, ==, 3);
    g_assert_cmpuint (report->sendable, ==, i + 3);   /* the good ones, Ann, Dan and Eve */
    g_assert_cmpuint (report->repeated, ==, 1);
    assert_counts_add_up (report);
    g_string_free (text, TRUE);
  }

  /* No column for the addresses: said for the file, with the columns there are. */
  mr_test_write_file (path, "Name,Phone\nAnn,123\n");
  g_clear_pointer (&report, mr_proof_report_free);
  g_assert_null (mr_proofread (template_, path, NULL, NULL, NULL, &error));
  g_assert_error (error, MR_RECIPIENTS_ERROR, MR_RECIPIENTS_ERROR_NO_ADDRESS_COLUMN);
  g_assert_nonnull (strstr (error->message, "Name, Phone"));
  g_clear_error (&error);
  mr_test_write_file (path, "Name,Work\nAnn,ann@example.org\n");
  report = mr_proofread (template_, path, "work", NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (report->sendable, ==, 1);

  /* 200 long column names and none for the addresses: the message names a few, not the header. */
  {
    GString *header = g_string_new (NULL);
    g_autofree char *long_name = g_strnfill (100, 'c');

    for (guint i = 0; i < 200; i++)
      g_string_append_printf (header, "%s%s%u", i ? "," : "", long_name, i);
    g_string_append (header, "\nx\n");
    mr_test_write_file (path, header->str);
    g_string_free (header, TRUE);
    g_clear_pointer (&report, mr_proof_report_free);
    g_assert_null (mr_proofread (template_, path, NULL, NULL, NULL, &error));
    g_assert_error (error, MR_RECIPIENTS_ERROR, MR_RECIPIENTS_ERROR_NO_ADDRESS_COLUMN);
    g_assert_nonnull (strstr (error->message, "and 180 more"));
    g_assert_cmpuint (strlen (error->message), <, 1500);
    g_clear_error (&error);
  }
}

/* A strict template: a variable without a value stops the row. */
static void
test_strict (MrTestDirs    *dirs,
             gconstpointer  data)
{
  g_autofree char *path = g_build_filename (dirs->root, "list.csv", NULL);
  g_autoptr(MrTemplate) template_ = write_template (dirs, TRUE);
  g_autoptr(MrProofReport) report = NULL;
  g_autoptr(GError) error = NULL;

  mr_test_write_file (path, "email,name\nann@example.org,Ann\nbob@example.org,\n");
  report = mr_proofread (template_, path, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (problem_at (report, 3, "empty-variable")->severity, ==, MR_PROBLEM_ERROR);
  g_assert_cmpuint (report->sendable, ==, 1);
  g_assert_cmpuint (report->rows_with_errors, ==, 1);
}

static void
test_cli (MrTestDirs    *dirs,
          gconstpointer  data)
{
  g_autofree char *template_path = g_build_filename (dirs->root, "invite.json", NULL);
  g_autofree char *bad = g_build_filename (dirs->root, "bad.csv", NULL);
  g_autofree char *good = g_build_filename (dirs->root, "good.csv", NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(MrTemplate) template_ = write_template (dirs, FALSE);
  g_autoptr(JsonNode) report = NULL;
  JsonObject *object;

  g_assert_true (g_file_set_contents (bad, mistakes, -1, NULL));
  /* Short, and so Windows-1252 throughout: row 7 reads as "Müller". */
  g_assert_cmpint (mr_test_run_cli (&out, &err, "mailshot", "check", "--template", template_path, "--recipients", bad,
                                    "--json", NULL), ==, 65);
  report = json_from_string (out, NULL);
  g_assert_nonnull (report);
  object = json_node_get_object (report);
  g_assert_cmpint (json_object_get_int_member (object, "rows"), ==, 7);
  g_assert_cmpint (json_object_get_int_member (object, "rows_with_errors"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (object, "sendable"), ==, 4);
  g_assert_cmpstr (json_object_get_string_member (object, "address_column"), ==, "E-Mail");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (mr_test_run_cli (&out, &err, "mailshot", "check", "--template", template_path, "--recipients", bad, NULL),
                   ==, 65);
  g_assert_nonnull (strstr (out, "“bob@” is not an email address"));
  g_assert_nonnull (strstr (out, "7 rows: 4 to send, 2 with errors"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* The same list as JSON (an array of objects): read the same way. */
  {
    g_autofree char *json = g_build_filename (dirs->root, "good.json", NULL);

    mr_test_write_file (json, "[{\"email\": \"ann@example.org\", \"name\": \"Ann\", \"city\": \"Bern\", \"date\": \"1 May\"},"
                              " {\"email\": \"bob@\", \"name\": \"Bob\", \"city\": \"Basel\", \"date\": \"2 May\"}]");
    g_assert_cmpint (mr_test_run_cli (&out, &err, "mailshot", "check", "--template", template_path, "--recipients", json,
                                      NULL), ==, 65);
    g_assert_nonnull (strstr (out, "Row 3: “bob@” is not an email address"));
    g_assert_nonnull (strstr (out, "2 rows: 1 to send, 1 with errors, 0 warnings"));
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
  }
  mr_test_write_file (good, "email,name,city,date\nann@example.org,Ann,Bern,1 May\n");
  g_assert_cmpint (mr_test_run_cli (&out, &err, "mailshot", "check", "--template", template_path, "--recipients", good, NULL),
                   ==, 0);
  g_assert_nonnull (strstr (out, "1 row: 1 to send, 0 with errors, 0 warnings"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (mr_test_run_cli (&out, &err, "mailshot", "check", "--template", template_path, NULL), ==, 64);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (mr_test_run_cli (&out, &err, "mailshot", "check", "--template", template_path, "--recipients",
                                    "/nonexistent.csv", NULL), ==, 66);

  /* UTF-16 with a broken sequence in the header row, and after the "[" of a JSON list: 65 and the
   * row named, where it exited 70 "internal" and set an error twice (fatal under G_DEBUG). */
  {
    static const char header[] = "\xff\xfe" "e\0m\0\0\xd8" "a\0i\0l\0\n\0a\0@\0b\0.\0c\0\n\0";
    static const char json[] = "\xff\xfe" "[\0\0\xd8" "{\0}\0]\0";
    const char *texts[] = { header, json };
    gsize lengths[] = { sizeof header - 1, sizeof json - 1 };

    for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
      {
        g_autofree char *broken = g_build_filename (dirs->root, "broken.csv", NULL);

        g_clear_pointer (&out, g_free);
        g_clear_pointer (&err, g_free);
        g_assert_true (g_file_set_contents (broken, texts[i], lengths[i], NULL));
        g_assert_cmpint (mr_test_run_cli (&out, &err, "--json", "mailshot", "check", "--template", template_path,
                                          "--recipients", broken, NULL), ==, 65);
        g_assert_nonnull (strstr (out, "recipients-encoding"));
        g_assert_nonnull (strstr (out, "UTF-16LE"));
      }
  }
}

static MrSettings *settings_with (MrTestDirs *dirs, guint16 port, const char *extra);

/* The test server, and a copy address (sender.copy_to) as an office has. */
static MrSettings *
settings_for_port (MrTestDirs *dirs,
                   guint16     port)
{
  return settings_with (dirs, port, "\"sender.copy_to\": \"archive@example.com\"");
}

static void
journal_sql (const char *path,
             const char *sql)
{
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);
}

/* A job against a server that refuses some recipients for now and some for good. */
static void
test_job (MrTestDirs    *dirs,
          gconstpointer  data)
{
  g_autoptr(MrTestServer) server = mr_test_server_start ("fault-server.py", "--scenario", "normal",
                                                         "--rcpt-temp", "later", "--rcpt-perm", "nobody", NULL);
  g_autoptr(MrSettings) settings = settings_for_port (dirs, server->port);
  g_autoptr(MrTemplate) template_ = write_template (dirs, FALSE);
  g_autofree char *list = g_build_filename (dirs->root, "list.csv", NULL);
  g_autofree char *journal_path = g_build_filename (dirs->data_home, "mailroom", "mailshots.db", NULL);
  g_autofree char *lock_path = NULL;
  g_autofree char *wire = NULL;
  g_autoptr(MrMailshotJournal) journal = NULL;
  g_autoptr(MrMailshotStatus) status = NULL;
  g_autoptr(MrProofReport) report = NULL;
  g_autoptr(GPtrArray) recipients = NULL;
  g_autoptr(GError) error = NULL;
  gint64 job;
  int fd;

  mr_test_write_file (list, "email,name,city,date\n"
                            "ann@example.org,Ann,Bern,1 May\n"
                            "later@example.org,Lea,Bern,1 May\n"
                            "nobody@example.org,Nob,Bern,1 May\n"
                            "x@,X,Bern,1 May\n"
                            "bob@example.org,Bob,Basel,1 May\n"
                            "carol@example.org,Carol,Chur,1 May\n");
  journal = mr_mailshot_journal_open (NULL, &error);
  g_assert_no_error (error);
  job = mr_mailshot_create (journal, settings, template_, list, NULL, &report, &error);
  g_assert_no_error (error);
  g_assert_cmpint (job, >, 0);
  g_assert_cmpuint (report->sendable, ==, 5);

  /* Another process holds the job: this one refuses to send it too. */
  lock_path = g_strdup_printf ("%s.job-%" G_GINT64_FORMAT ".lock", journal_path, job);
  fd = g_open (lock_path, O_RDWR | O_CREAT, 0600);
  {
    struct flock lock = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
    g_assert_cmpint (fcntl (fd, F_OFD_SETLK, &lock), ==, 0);
  }
  /* The status sees it taken, without taking it. */
  {
    g_autoptr(MrMailshotStatus) held = NULL;

    journal_sql (journal_path, "UPDATE jobs SET state = 'running'");
    held = mr_mailshot_get_status (journal, job, NULL);
    g_assert_true (held->running);
    journal_sql (journal_path, "UPDATE jobs SET state = 'ready'");
  }
  g_assert_false (mr_mailshot_run_sync (journal, settings, job, NULL, NULL, NULL, &error));
  g_assert_error (error, MR_MAILSHOT_ERROR, MR_MAILSHOT_ERROR_BUSY);
  g_clear_error (&error);
  close (fd);

  g_assert_true (mr_mailshot_run_sync (journal, settings, job, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  status = mr_mailshot_get_status (journal, job, &error);
  g_assert_cmpuint (status->total, ==, 6);
  g_assert_cmpuint (status->accepted, ==, 3);
  g_assert_cmpuint (status->failed_temporary, ==, 1);
  g_assert_cmpuint (status->failed_permanent, ==, 1);
  g_assert_cmpuint (status->skipped, ==, 1);
  g_assert_cmpuint (status->pending, ==, 0);
  g_assert_cmpstr (status->state, ==, "ready");  /* one to try again later */

  wire = mr_test_server_read_log (server);
  g_assert_cmpuint (mr_test_count (wire, "RCPT TO:<x@>"), ==, 0);
  /* One mail per recipient, and one copy of the job to sender.copy_to, not one per recipient. */
  g_assert_cmpuint (mr_test_count (wire, "RCPT TO:<"), ==, 6);
  g_assert_cmpuint (mr_test_count (wire, "RCPT TO:<archive@example.com>"), ==, 1);

  recipients = mr_mailshot_get_recipients (journal, job, &error);
  g_assert_cmpuint (recipients->len, ==, 6);
  g_assert_cmpstr (((MrMailshotRecipient *) g_ptr_array_index (recipients, 1))->state, ==, "failed-temporary");
  g_assert_nonnull (strstr (((MrMailshotRecipient *) g_ptr_array_index (recipients, 2))->reply, "550"));
  g_assert_cmpstr (((MrMailshotRecipient *) g_ptr_array_index (recipients, 3))->state, ==, "skipped");
  g_assert_nonnull (strstr (((MrMailshotRecipient *) g_ptr_array_index (recipients, 3))->reply, "not an email address"));
  g_clear_pointer (&recipients, g_ptr_array_unref);

  /* Cut off mid-send (as after kill -9): "sending" is sent again; accepted rows are not. */
  journal_sql (journal_path, "UPDATE recipients SET state = 'sending' WHERE row = 7");
  journal_sql (journal_path, "UPDATE jobs SET state = 'running'");
  g_assert_true (mr_mailshot_run_sync (journal, settings, job, NULL, NULL, NULL, &error));
  g_free (wire);
  wire = mr_test_server_read_log (server);
  g_assert_cmpuint (mr_test_count (wire, "RCPT TO:<carol@example.org>"), ==, 2);
  g_assert_cmpuint (mr_test_count (wire, "RCPT TO:<later@example.org>"), ==, 1);  /* its retry is not due yet */
  g_assert_cmpuint (mr_test_count (wire, "RCPT TO:<archive@example.com>"), ==, 1);
  g_assert_cmpuint (mr_test_count (wire, "RCPT TO:<ann@example.org>"), ==, 1);

  /* The final mails are in the sent log, with the job's number; the one to try again is not yet. */
  {
    g_autoptr(MrSentLog) log = mr_sent_log_open (NULL, NULL);
    MrSentQuery query = { NULL, NULL, 0, 0, -1, 0 };
    g_autoptr(GPtrArray) entries = mr_sent_log_search (log, &query, NULL);
    guint failed = 0;

    g_assert_cmpuint (entries->len, ==, 4);
    for (guint i = 0; i < entries->len; i++)
      {
        MrSentEntry *entry = g_ptr_array_index (entries, i);

        g_assert_cmpint (entry->mailshot, ==, job);
        g_assert_true (g_str_has_prefix (entry->subject, "Invitation for "));
        g_assert_false (g_strv_contains ((const char * const *) entry->recipients, "later@example.org"));
        if (entry->state == MR_SENT_STATE_FAILED)
          {
            failed++;
            g_assert_cmpstr (entry->recipients[0], ==, "nobody@example.org");
            g_assert_nonnull (strstr (entry->last_error, "550"));
          }
      }
    g_assert_cmpuint (failed, ==, 1);

    /* The job's mails alone (Open in Sent): the same four; another job's number finds none. */
    {
      MrSentQuery of_job = { NULL, NULL, 0, 0, -1, 0, job };
      MrSentQuery of_other = { NULL, NULL, 0, 0, -1, 0, job + 1 };
      g_autoptr(GPtrArray) mine = mr_sent_log_search (log, &of_job, NULL);
      g_autoptr(GPtrArray) none = mr_sent_log_search (log, &of_other, NULL);

      g_assert_cmpuint (mine->len, ==, 4);
      g_assert_cmpuint (none->len, ==, 0);
    }
  }

  /* Paused from elsewhere: it stops between two mails and says so. */
  journal_sql (journal_path, "UPDATE recipients SET state = 'pending' WHERE row = 2");
  g_assert_true (mr_mailshot_set_state (journal, job, "paused", &error));
  g_clear_pointer (&status, mr_mailshot_status_free);
  status = mr_mailshot_get_status (journal, job, &error);
  g_assert_cmpstr (status->state, ==, "paused");
}

/* Every mail its own Message-ID, fixed in the journal before the first attempt; the rate is kept. */
static void
test_message_ids_and_rate (MrTestDirs    *dirs,
                           gconstpointer  data)
{
  g_autoptr(MrTestServer) server = mr_test_server_start ("smtp-server.py", "--mode", "plain", NULL);
  g_autoptr(MrSettings) settings = settings_for_port (dirs, server->port);
  g_autoptr(MrTemplate) template_ = write_template (dirs, FALSE);
  g_autofree char *list = g_build_filename (dirs->root, "list.csv", NULL);
  g_autoptr(MrMailshotJournal) journal = mr_mailshot_journal_open (NULL, NULL);
  g_autoptr(GPtrArray) recipients = NULL;
  g_autoptr(GHashTable) sent_ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GError) error = NULL;
  MrMailshotOptions options = MR_MAILSHOT_OPTIONS_INIT;
  g_autoptr(GArray) arrivals = g_array_new (FALSE, FALSE, sizeof (double));
  guint copies = 0;
  gint64 job;

  mr_test_write_file (list, "email,name,city,date\na@example.org,A,X,1\nb@example.org,B,X,1\nc@example.org,C,X,1\n");
  options.per_minute = 600;
  job = mr_mailshot_create (journal, settings, template_, list, &options, NULL, &error);
  g_assert_no_error (error);
  recipients = mr_mailshot_get_recipients (journal, job, &error);
  g_assert_true (mr_mailshot_run_sync (journal, settings, job, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  /* Three mails and the one copy for sender.copy_to (the first mail again). */
  g_assert_cmpuint (mr_test_server_count_messages (server), ==, 4);
  for (guint i = 1; i <= 4; i++)
    {
      g_autoptr(JsonNode) parsed = mr_test_server_parse_message (server, i);
      g_autoptr(JsonNode) envelope = mr_test_server_read_envelope (server, i);
      JsonArray *to = json_object_get_array_member (json_node_get_object (envelope), "rcpt_tos");
      double arrived = json_object_get_double_member (json_node_get_object (envelope), "received_at");

      g_hash_table_add (sent_ids, g_strdup (json_object_get_string_member (json_node_get_object (parsed), "message_id")));
      if (g_str_equal (json_array_get_string_element (to, 0), "archive@example.com"))
        copies++;
      else
        g_array_append_val (arrivals, arrived);
    }
  /* 600 a minute: the server gets the recipients' mails at least 100 ms apart. */
  for (guint i = 1; i < arrivals->len; i++)
    {
      double spacing = g_array_index (arrivals, double, i) - g_array_index (arrivals, double, i - 1);

      g_test_message ("mail %u arrived %.0f ms after the one before", i + 1, spacing * 1000);
      g_assert_cmpfloat (spacing, >=, 0.099);
    }
  g_assert_cmpuint (copies, ==, 1);
  g_assert_cmpuint (g_hash_table_size (sent_ids), ==, 3);
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *journal_id = g_strdup_printf ("<%s>", ((MrMailshotRecipient *) g_ptr_array_index (recipients, i))->message_id);

      g_assert_true (g_hash_table_contains (sent_ids, journal_id));
      g_assert_true (g_str_has_suffix (journal_id, "@example.com>"));
    }
}

static guint
accepted_so_far (gint64 job)
{
  g_autoptr(MrMailshotJournal) journal = mr_mailshot_journal_open (NULL, NULL);
  g_autoptr(MrMailshotStatus) status = journal ? mr_mailshot_get_status (journal, job, NULL) : NULL;

  return status ? status->accepted : 0;
}

static GSubprocess *
spawn_cli (const char *first,
           ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  GSubprocess *process;
  va_list args;

  g_ptr_array_add (argv, (gpointer) g_getenv ("MAILROOM_CLI"));
  va_start (args, first);
  for (const char *arg = first; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);
  process = g_subprocess_newv ((const char * const *) argv->pdata,
                               G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error);
  g_assert_no_error (error);
  return process;
}

static void
wait_for_accepted (gint64 job,
                   guint  count)
{
  for (guint tries = 0; accepted_so_far (job) < count; tries++)
    {
      if (tries == 200)
        g_error ("Fewer than %u accepted after 10 s", count);
      g_usleep (50 * 1000);
    }
}

/* kill -9 three times in the middle of a job, resumed each time: nobody lost, at most one mail
 * twice per kill; a second sender is refused while one runs. */
static void
test_cli_kill_and_resume (MrTestDirs    *dirs,
                          gconstpointer  data)
{
  g_autoptr(MrTestServer) server = mr_test_server_start ("smtp-server.py", "--mode", "plain", NULL);
  g_autoptr(MrSettings) settings = settings_for_port (dirs, server->port);
  g_autoptr(MrTemplate) template_ = write_template (dirs, FALSE);
  g_autofree char *list = g_build_filename (dirs->root, "list.csv", NULL);
  g_autofree char *template_path = g_build_filename (dirs->root, "invite.json", NULL);
  g_autoptr(GHashTable) received = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  GString *text = g_string_new ("email,name,city,date\n");
  guint messages, duplicates = 0, copies = 0;
  const guint n = 40;

  for (guint i = 0; i < n; i++)
    g_string_append_printf (text, "person%u@example.org,Person %u,Bern,1 May\n", i, i);
  mr_test_write_file (list, text->str);
  g_string_free (text, TRUE);

  for (guint kill = 0; kill < 3; kill++)
    {
      g_autoptr(GSubprocess) cli = kill == 0
        ? spawn_cli ("mailshot", "--template", template_path, "--recipients", list, "--rate", "1200/min", NULL)
        : spawn_cli ("mailshot", "resume", "1", NULL);

      wait_for_accepted (1, 8 * (kill + 1));
      if (kill == 0)
        {
          /* While it runs, nobody else sends this job. */
          g_assert_cmpint (mr_test_run_cli (&out, &err, "mailshot", "resume", "1", NULL), ==, 75);
          g_assert_nonnull (strstr (err, "another Mailroom"));
          g_clear_pointer (&out, g_free);
          g_clear_pointer (&err, g_free);
        }
      g_subprocess_send_signal (cli, SIGKILL);
      g_subprocess_wait (cli, NULL, NULL);
    }

  g_assert_cmpint (mr_test_run_cli (&out, &err, "mailshot", "status", "1", NULL), ==, 75);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (mr_test_run_cli (&out, &err, "mailshot", "resume", "1", "--json", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "\"accepted\" : 40"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  messages = mr_test_server_count_messages (server);
  for (guint i = 1; i <= messages; i++)
    {
      g_autoptr(JsonNode) envelope = mr_test_server_read_envelope (server, i);
      JsonArray *to = json_object_get_array_member (json_node_get_object (envelope), "rcpt_tos");

      g_assert_cmpuint (json_array_get_length (to), ==, 1);
      if (g_str_equal (json_array_get_string_element (to, 0), "archive@example.com"))
        copies++;
      else if (!g_hash_table_add (received, g_strdup (json_array_get_string_element (to, 0))))
        duplicates++;
    }
  g_test_message ("%u messages for %u recipients, %u twice, %u copies", messages, n, duplicates, copies);
  g_assert_cmpuint (g_hash_table_size (received), ==, n);
  g_assert_cmpuint (duplicates, <=, 3);
  g_assert_cmpuint (copies, >=, 1);
  g_assert_cmpuint (copies, <=, 1 + 3);  /* a kill between the copy and its record sends it again */

  /* Every job is listed; a finished one exits 0. */
  g_assert_cmpint (mr_test_run_cli (&out, &err, "mailshot", "status", "1", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "40 accepted"));

  /* Each recipient's mail is in the sent log once, linked to the job, whatever the kills did. */
  {
    g_autoptr(MrSentLog) log = mr_sent_log_open (NULL, NULL);
    MrSentQuery query = { NULL, NULL, 0, 0, -1, 0 };
    g_autoptr(GPtrArray) entries = mr_sent_log_search (log, &query, NULL);

    g_assert_cmpuint (entries->len, ==, n);
    for (guint i = 0; i < entries->len; i++)
      {
        MrSentEntry *entry = g_ptr_array_index (entries, i);

        g_assert_cmpint (entry->mailshot, ==, 1);
        g_assert_cmpint (entry->state, ==, MR_SENT_STATE_ACCEPTED);
        g_assert_cmpuint (g_strv_length (entry->recipients), ==, 1);
      }
  }
}

/* A list with errors: nothing is sent without --skip-invalid. */
static void
test_cli_refuses_errors (MrTestDirs    *dirs,
                         gconstpointer  data)
{
  g_autoptr(MrTestServer) server = mr_test_server_start ("smtp-server.py", "--mode", "plain", NULL);
  g_autoptr(MrSettings) settings = settings_for_port (dirs, server->port);
  g_autoptr(MrTemplate) template_ = write_template (dirs, FALSE);
  g_autofree char *list = g_build_filename (dirs->root, "list.csv", NULL);
  g_autofree char *template_path = g_build_filename (dirs->root, "invite.json", NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  mr_test_write_file (list, "email,name,city,date\nann@example.org,Ann,Bern,1\nbad@,Bad,Bern,1\n");
  g_assert_cmpint (mr_test_run_cli (&out, &err, "mailshot", "--template", template_path, "--recipients", list, NULL), ==, 65);
  g_assert_nonnull (strstr (err, "--skip-invalid"));
  g_assert_nonnull (strstr (err, "Row 3: “bad@”"));
  g_assert_cmpuint (mr_test_server_count_messages (server), ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  /* Refused, nothing was written either: no job to resume by mistake. */
  g_assert_cmpint (mr_test_run_cli (&out, &err, "mailshot", "status", "--json", NULL), ==, 0);
  g_assert_null (strstr (out, "\"id\""));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (mr_test_run_cli (&out, &err, "mailshot", "--template", template_path, "--recipients", list,
                                    "--skip-invalid", NULL), ==, 0);
  g_assert_cmpuint (mr_test_server_count_messages (server), ==, 2);  /* Ann's, and the job's one copy */
  g_assert_nonnull (strstr (out, "1 skipped"));
  /* Progress on standard error, plain lines when it is not a terminal. */
  g_assert_nonnull (strstr (err, "2 of 2 recipients done"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (mr_test_run_cli (&out, &err, "mailshot", "pause", NULL), ==, 64);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (mr_test_run_cli (&out, &err, "mailshot", "status", "9", NULL), ==, 65);
}

/* --dry-run: every message as a file, none sent, and each one clean for Python's email package. */
static void
test_cli_dry_run (MrTestDirs    *dirs,
                  gconstpointer  data)
{
  g_autoptr(MrTestServer) server = mr_test_server_start ("smtp-server.py", "--mode", "plain", NULL);
  g_autoptr(MrSettings) settings = settings_for_port (dirs, server->port);
  g_autoptr(MrTemplate) template_ = write_template (dirs, FALSE);
  g_autofree char *list = g_build_filename (dirs->root, "list.csv", NULL);
  g_autofree char *template_path = g_build_filename (dirs->root, "invite.json", NULL);
  g_autofree char *dir = g_build_filename (dirs->root, "out", NULL);
  g_autofree char *first = g_build_filename (dir, "000002.eml", NULL);
  g_autofree char *second = g_build_filename (dir, "000004.eml", NULL);
  g_autofree char *skipped = g_build_filename (dir, "000003.eml", NULL);
  g_autofree char *checker = g_build_filename (g_getenv ("MAILROOM_TOP_SRCDIR"), "tests", "servers", "check-message.py", NULL);
  const char *argv[] = { "/usr/bin/python3", checker, first, NULL };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *text = NULL;
  g_autoptr(JsonNode) parsed = NULL;
  g_autoptr(GError) error = NULL;
  int status = 0;

  mr_test_write_file (list, "email,name,city,date\nann@example.org,Ann Müller,Bern,1 May\nbad@,Bad,Bern,1\n"
                            "bob@example.org,Bob,Basel,2 May\n");
  g_assert_cmpint (mr_test_run_cli (&out, &err, "mailshot", "--template", template_path, "--recipients", list,
                                    "--skip-invalid", "--dry-run", dir, NULL), ==, 0);
  g_assert_nonnull (strstr (out, "2 messages written"));
  g_assert_true (g_file_test (first, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (second, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (skipped, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (mr_test_server_count_messages (server), ==, 0);
  text = mr_test_read_file (second);
  g_assert_nonnull (strstr (text, "To: bob@example.org"));

  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, &error);
  g_assert_no_error (error);
  parsed = json_from_string (out, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (json_node_get_object (parsed), "defects")), ==, 0);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (parsed), "subject"), ==, "Invitation for Ann Müller");

  /* A line break in one row's subject value fails that row, in a dry run as in a real one: the
   * rows after it are still written, the row is named, and the exit is the real run's 76. */
  {
    g_autofree char *dir2 = g_build_filename (dirs->root, "out2", NULL);
    g_autofree char *after = g_build_filename (dir2, "000004.eml", NULL);
    g_autofree char *broken = g_build_filename (dir2, "000003.eml", NULL);

    mr_test_write_file (list, "email,name,city,date\nann@example.org,Ann,Bern,1 May\n"
                              "eve@example.org,\"Eve\r\nBcc: all@example.org\",Bern,1 May\n"
                              "bob@example.org,Bob,Basel,2 May\n");
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
    g_assert_cmpint (mr_test_run_cli (&out, &err, "mailshot", "--template", template_path, "--recipients", list,
                                      "--dry-run", dir2, NULL), ==, 76);
    g_assert_nonnull (strstr (out, "2 messages written"));
    g_assert_nonnull (strstr (err, "Row 3 (eve@example.org)"));
    g_assert_true (g_file_test (after, G_FILE_TEST_EXISTS));
    g_assert_false (g_file_test (broken, G_FILE_TEST_EXISTS));
  }
}

/* What the process holds now (not its peak, which start-up may already have set high). */
static glong
resident_kilobytes (void)
{
  g_autofree char *statm = NULL;
  g_auto(GStrv) fields = NULL;

  g_assert_true (g_file_get_contents ("/proc/self/statm", &statm, NULL, NULL));
  fields = g_strsplit (statm, " ", -1);
  return g_ascii_strtoll (fields[1], NULL, 10) * (sysconf (_SC_PAGESIZE) / 1024);
}

/* The proof-reader holds no row in memory: 300,000 rows leave it about where it was. */
static void
test_proofreader_memory (MrTestDirs    *dirs,
                         gconstpointer  data)
{
  g_autofree char *path = g_build_filename (dirs->root, "big.csv", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFileOutputStream) out = g_file_replace (file, NULL, FALSE, G_FILE_CREATE_NONE, NULL, NULL);
  g_autoptr(MrTemplate) template_ = write_template (dirs, FALSE);
  g_autoptr(MrProofReport) report = NULL;
  g_autoptr(GError) error = NULL;
  glong before;

  g_assert_true (g_output_stream_write_all (G_OUTPUT_STREAM (out), "email,name,city,date\n", 21, NULL, NULL, NULL));
  for (guint i = 0; i < 300000; i++)
    {
      char line[128];
      int length = g_snprintf (line, sizeof line, "person%u@example.org,Person %u,Zürich,1 May\n", i, i);

      g_assert_true (g_output_stream_write_all (G_OUTPUT_STREAM (out), line, length, NULL, NULL, NULL));
    }
  g_assert_true (g_output_stream_close (G_OUTPUT_STREAM (out), NULL, NULL));

  before = resident_kilobytes ();
  report = mr_proofread (template_, path, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (report->sendable, ==, 300000);
  g_test_message ("resident memory before %ld kB, after %ld kB", before, resident_kilobytes ());
  mr_assert_memory_growth (resident_kilobytes () - before, 6144);
}

/* The company's suppression list: kept with the CLI, honoured by every mailshot. */
static void
test_suppression (MrTestDirs    *dirs,
                  gconstpointer  data)
{
  g_autoptr(MrTestServer) server = mr_test_server_start ("smtp-server.py", "--mode", "plain", NULL);
  g_autoptr(MrSettings) settings = settings_for_port (dirs, server->port);
  g_autoptr(MrTemplate) template_ = write_template (dirs, FALSE);
  g_autofree char *template_path = g_build_filename (dirs->root, "invite.json", NULL);
  g_autofree char *unsubscribed = g_build_filename (dirs->root, "unsubscribed.txt", NULL);
  g_autofree char *list = g_build_filename (dirs->root, "list.csv", NULL);
  g_autofree char *stored = g_build_filename (dirs->etc, "suppression.txt", NULL);
  g_autofree char *before = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(MrProofReport) report = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) envelope = NULL;

  g_assert_cmpint (mr_test_run_cli (&out, &err, "suppression", "add", "Ann@Example.org", "bob@example.org", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "2 addresses added"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (mr_test_run_cli (&out, &err, "suppression", "add", "ann@example.org", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "0 addresses added"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  /* A mistake: named, and the list unchanged. */
  before = mr_test_read_file (stored);
  g_assert_cmpint (mr_test_run_cli (&out, &err, "suppression", "add", "eve@example.org", "not an address", NULL), ==, 65);
  g_assert_nonnull (strstr (err, "not an address"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  out = mr_test_read_file (stored);
  g_assert_cmpstr (out, ==, before);
  g_clear_pointer (&out, g_free);

  mr_test_write_file (unsubscribed, "# unsubscribed in May\ncarol@example.org\n\nbob@example.org  # again\n");
  g_assert_cmpint (mr_test_run_cli (&out, &err, "suppression", "import", unsubscribed, NULL), ==, 0);
  g_assert_nonnull (strstr (out, "1 address added"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (mr_test_run_cli (&out, &err, "suppression", "remove", "bob@example.org", NULL), ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (mr_test_run_cli (&out, &err, "suppression", "list", NULL), ==, 0);
  g_assert_cmpstr (out, ==, "ann@example.org\ncarol@example.org\n");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* Every mailshot honours it: flagged by the proof-reader, not sent. */
  mr_test_write_file (list, "email,name,city,date\nANN@example.org,Ann,Bern,1\ncarol@example.org,Carol,Chur,1\n"
                            "dan@example.org,Dan,Genf,1\n");
  report = mr_proofread (template_, list, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (problem_at (report, 2, "suppressed")->severity, ==, MR_PROBLEM_WARNING);
  g_assert_nonnull (problem_at (report, 3, "suppressed"));
  g_assert_cmpuint (report->sendable, ==, 1);
  g_assert_cmpint (mr_test_run_cli (&out, &err, "mailshot", "--template", template_path, "--recipients", list, NULL), ==, 0);
  g_assert_nonnull (strstr (out, "2 skipped"));
  envelope = mr_test_server_read_envelope (server, 1);
  g_assert_cmpstr (json_array_get_string_element (json_object_get_array_member (json_node_get_object (envelope), "rcpt_tos"), 0),
                   ==, "dan@example.org");
}

/* A server that says 4.7.0 (slow down): the job spaces its mails out, 1 s then 2 s. */
static void
test_throttled (MrTestDirs    *dirs,
                gconstpointer  data)
{
  g_autoptr(MrTestServer) server = mr_test_server_start ("fault-server.py", "--scenario", "normal",
                                                         "--mail-reply", "451 4.7.0 Too many messages, slow down", NULL);
  g_autoptr(MrSettings) settings = settings_for_port (dirs, server->port);
  g_autoptr(MrTemplate) template_ = write_template (dirs, FALSE);
  g_autofree char *list = g_build_filename (dirs->root, "list.csv", NULL);
  g_autoptr(MrMailshotJournal) journal = mr_mailshot_journal_open (NULL, NULL);
  g_autoptr(MrMailshotStatus) status = NULL;
  g_autoptr(GError) error = NULL;
  gint64 job, started;

  mr_test_write_file (list, "email,name,city,date\na@example.org,A,X,1\nb@example.org,B,X,1\nc@example.org,C,X,1\n");
  job = mr_mailshot_create (journal, settings, template_, list, NULL, NULL, &error);
  g_assert_no_error (error);
  started = g_get_monotonic_time ();
  g_assert_true (mr_mailshot_run_sync (journal, settings, job, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_get_monotonic_time () - started, >=, 3 * G_USEC_PER_SEC);
  status = mr_mailshot_get_status (journal, job, &error);
  g_assert_cmpuint (status->failed_temporary, ==, 3);
  g_assert_cmpstr (status->state, ==, "ready");
}

/* A server that says 4.7.0 once: the job slows down, then speeds up again towards its pace as the
 * server takes mail (additive increase), over the same connection, which ends with QUIT. Without the
 * recovery the 12 mails after the slow-down would take 12 s at the slowed pace. */
static void
test_throttle_recovers (MrTestDirs    *dirs,
                        gconstpointer  data)
{
  g_autoptr(MrTestServer) server = mr_test_server_start ("fault-server.py", "--scenario", "normal",
                                                         "--mail-reply", "451 4.7.0 Too many messages, slow down",
                                                         "--mail-reply-count", "1", NULL);
  g_autoptr(MrSettings) settings = settings_for_port (dirs, server->port);
  g_autoptr(MrTemplate) template_ = write_template (dirs, FALSE);
  g_autofree char *list = g_build_filename (dirs->root, "list.csv", NULL);
  g_autoptr(MrMailshotJournal) journal = mr_mailshot_journal_open (NULL, NULL);
  g_autoptr(MrMailshotStatus) status = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *wire = NULL;
  MrMailshotOptions options = MR_MAILSHOT_OPTIONS_INIT;
  GString *rows = g_string_new ("email,name,city,date\n");
  gint64 job, started, took;

  for (guint i = 0; i < 13; i++)
    g_string_append_printf (rows, "p%u@example.org,P,X,1\n", i);
  mr_test_write_file (list, rows->str);
  g_string_free (rows, TRUE);
  options.per_minute = 600;   /* 10 a second: 100 ms apart */
  options.connections = 1;
  job = mr_mailshot_create (journal, settings, template_, list, &options, NULL, &error);
  g_assert_no_error (error);
  started = g_get_monotonic_time ();
  g_assert_true (mr_mailshot_run_sync (journal, settings, job, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  took = g_get_monotonic_time () - started;
  g_test_message ("13 mails, one slowed down: %.2f s", took / 1e6);
  status = mr_mailshot_get_status (journal, job, &error);
  g_assert_cmpuint (status->accepted, ==, 12);
  g_assert_cmpuint (status->failed_temporary, ==, 1);
  /* 1 s after the slow-down, then 0.5, 0.33 … back to 0.1: about 3 s in all. */
  g_assert_cmpint (took, >=, 1 * G_USEC_PER_SEC);
  g_assert_cmpint (took, <, 7 * G_USEC_PER_SEC);

  /* One connection for all, reset after the refusal and ended with QUIT (RFC 5321 4.1.1.10). */
  wire = mr_test_server_read_log (server);
  g_assert_cmpuint (mr_test_count (wire, "EHLO "), ==, 1);
  g_assert_cmpuint (mr_test_count (wire, "RSET"), >=, 1);
  g_assert_cmpuint (mr_test_count (wire, "QUIT"), ==, 1);
}

static MrSettings *
settings_with (MrTestDirs *dirs,
               guint16     port,
               const char *extra)
{
  g_autofree char *company = g_strdup_printf ("{\"schema_version\": 1, \"settings\": {\"smtp.host\": \"127.0.0.1\", "
                                              "\"smtp.port\": %u, \"smtp.security\": \"none\", \"smtp.auth\": \"none\", "
                                              "\"smtp.timeout_command_ms\": 3000, "
                                              "\"sender.from_address\": \"office@example.com\"%s%s}}", port,
                                              extra ? ", " : "", extra ? extra : "");
  MrSettings *settings = mr_settings_new (NULL, NULL);
  g_autoptr(GError) error = NULL;

  mr_test_write_file (dirs->company_path, company);
  mr_settings_load (settings, &error);
  g_assert_no_error (error);
  return settings;
}

static const char *
member (JsonNode   *node,
        const char *name)
{
  return json_object_get_string_member_with_default (json_node_get_object (node), name, NULL);
}

/* A token per recipient in List-Unsubscribe, one-click only with an HTTPS URL; tokens import into
 * the suppression list. */
static void
test_unsubscribe (MrTestDirs    *dirs,
                  gconstpointer  data)
{
  g_autoptr(MrTestServer) server = mr_test_server_start ("smtp-server.py", "--mode", "plain", NULL);
  g_autoptr(MrSettings) settings = settings_with (dirs, server->port,
                                                  "\"mailshot.unsubscribe_url\": \"https://example.com/u?list=news\", "
                                                  "\"mailshot.unsubscribe_mailto\": \"leave@example.com\"");
  g_autoptr(MrTemplate) template_ = write_template (dirs, FALSE);
  g_autofree char *list = g_build_filename (dirs->root, "list.csv", NULL);
  g_autofree char *tokens = g_build_filename (dirs->root, "unsubscribes.txt", NULL);
  g_autoptr(MrMailshotJournal) journal = mr_mailshot_journal_open (NULL, NULL);
  g_autoptr(JsonNode) first = NULL;
  g_autoptr(JsonNode) second = NULL;
  g_autoptr(JsonNode) third = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *token = NULL;
  g_autofree char *address = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *template_path = g_build_filename (dirs->root, "invite.json", NULL);
  const char *header, *start;
  gint64 job;

  mr_test_write_file (list, "email,name,city,date\na@example.org,A,X,1\nb@example.org,B,X,1\n");
  job = mr_mailshot_create (journal, settings, template_, list, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (mr_mailshot_run_sync (journal, settings, job, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (mr_test_server_count_messages (server), ==, 2);
  first = mr_test_server_parse_message (server, 1);
  second = mr_test_server_parse_message (server, 2);
  header = member (first, "list_unsubscribe");
  g_test_message ("List-Unsubscribe: %s", header);
  g_assert_true (g_str_has_prefix (header, "<https://example.com/u?list=news&token="));
  g_assert_nonnull (strstr (header, ">, <mailto:leave@example.com?subject=unsubscribe%20"));
  g_assert_cmpstr (member (first, "list_unsubscribe_post"), ==, "List-Unsubscribe=One-Click");
  /* Each recipient its own opaque token, which says nothing of the address. */
  g_assert_cmpstr (header, !=, member (second, "list_unsubscribe"));
  g_assert_null (strstr (header, "a@example.org"));
  start = strstr (header, "token=") + 6;
  token = g_strndup (start, strcspn (start, ">"));
  g_assert_cmpuint (strlen (token), ==, 32);
  address = mr_mailshot_lookup_token (journal, token);
  g_assert_cmpstr (address, ==, "a@example.org");
  g_assert_null (mr_mailshot_lookup_token (journal, "not-a-token"));

  /* Unsubscribes come back as tokens (from the web endpoint) or addresses: both join the list. */
  {
    g_autofree char *lines = g_strdup_printf ("%s\nc@example.org\n", token);
    mr_test_write_file (tokens, lines);
  }
  g_assert_cmpint (mr_test_run_cli (&out, &err, "suppression", "import", tokens, NULL), ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (mr_test_run_cli (&out, &err, "suppression", "list", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "a@example.org"));
  g_assert_nonnull (strstr (out, "c@example.org"));
  g_assert_null (strstr (out, token));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* A mailto alone: List-Unsubscribe, and no one-click header (RFC 8058 wants HTTPS). */
  g_clear_object (&settings);
  settings = settings_with (dirs, server->port, "\"mailshot.unsubscribe_mailto\": \"leave@example.com\"");
  mr_test_write_file (list, "email,name,city,date\nd@example.org,D,X,1\n");
  job = mr_mailshot_create (journal, settings, template_, list, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (mr_mailshot_run_sync (journal, settings, job, NULL, NULL, NULL, &error));
  third = mr_test_server_parse_message (server, 3);
  g_assert_true (g_str_has_prefix (member (third, "list_unsubscribe"), "<mailto:leave@example.com?subject=unsubscribe%20"));
  g_assert_null (member (third, "list_unsubscribe_post"));

  /* Only an https:// URL is taken. */
  g_assert_cmpint (mr_test_run_cli (&out, &err, "company", "set", "mailshot.unsubscribe_url", "http://example.com/u", NULL),
                   !=, 0);
  g_assert_nonnull (strstr (err, "https://"));
  (void) template_path;
}

/* A day's quota: the job sends that many, waits "scheduled" until the quota frees, and run-due goes on. */
static void
test_day_quota_and_run_due (MrTestDirs    *dirs,
                            gconstpointer  data)
{
  g_autoptr(MrTestServer) server = mr_test_server_start ("smtp-server.py", "--mode", "plain", NULL);
  g_autoptr(MrSettings) settings = settings_with (dirs, server->port, NULL);
  g_autoptr(MrTemplate) template_ = write_template (dirs, FALSE);
  g_autofree char *list = g_build_filename (dirs->root, "list.csv", NULL);
  g_autofree char *journal_path = g_build_filename (dirs->data_home, "mailroom", "mailshots.db", NULL);
  g_autoptr(MrMailshotJournal) journal = mr_mailshot_journal_open (NULL, NULL);
  g_autoptr(MrMailshotStatus) status = NULL;
  g_autoptr(GError) error = NULL;
  MrMailshotOptions options = MR_MAILSHOT_OPTIONS_INIT;
  gint64 job, later, now = g_get_real_time () / G_USEC_PER_SEC;

  g_assert_cmpint (mr_mailshot_estimate_seconds (5, 0, 2, 1), >=, 2 * 24 * 3600);
  g_assert_cmpint (mr_mailshot_estimate_seconds (5, 0, 2, 1), <, 3 * 24 * 3600);
  g_assert_cmpint (mr_mailshot_estimate_seconds (60, 30, 0, 1), ==, 120);

  mr_test_write_file (list, "email,name,city,date\na@example.org,A,X,1\nb@example.org,B,X,1\nc@example.org,C,X,1\n"
                            "d@example.org,D,X,1\ne@example.org,E,X,1\n");
  options.per_day = 2;
  job = mr_mailshot_create (journal, settings, template_, list, &options, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (mr_mailshot_run_sync (journal, settings, job, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  status = mr_mailshot_get_status (journal, job, &error);
  g_assert_cmpuint (status->accepted, ==, 2);
  g_assert_cmpuint (status->pending, ==, 3);
  g_assert_cmpstr (status->state, ==, "scheduled");
  g_assert_cmpint (status->not_before, >, now + 23 * 3600);
  g_assert_nonnull (strstr (status->reason, "limit of 2 mails"));
  /* Not before its time: running it or run-due sends nothing. */
  g_assert_true (mr_mailshot_run_sync (journal, settings, job, NULL, NULL, NULL, &error));
  g_assert_cmpint (mr_mailshot_run_due_sync (journal, settings, NULL, NULL, NULL, &error), ==, 0);
  g_assert_cmpuint (mr_test_server_count_messages (server), ==, 2);

  /* A day later. */
  journal_sql (journal_path, "UPDATE recipients SET sent_at = sent_at - 86410; UPDATE jobs SET not_before = not_before - 86410");
  g_assert_cmpint (mr_mailshot_run_due_sync (journal, settings, NULL, NULL, NULL, &error), ==, 1);
  g_assert_cmpuint (mr_test_server_count_messages (server), ==, 4);
  journal_sql (journal_path, "UPDATE recipients SET sent_at = sent_at - 86410; UPDATE jobs SET not_before = not_before - 86410");
  g_assert_cmpint (mr_mailshot_run_due_sync (journal, settings, NULL, NULL, NULL, &error), ==, 1);
  g_clear_pointer (&status, mr_mailshot_status_free);
  status = mr_mailshot_get_status (journal, job, &error);
  g_assert_cmpuint (status->accepted, ==, 5);
  g_assert_cmpstr (status->state, ==, "done");
  g_assert_cmpint (mr_mailshot_run_due_sync (journal, settings, NULL, NULL, NULL, &error), ==, 0);

  /* A start time: nothing before it, everything after. */
  later = now + 3600;
  options.per_day = -1;
  options.start_at = later;
  job = mr_mailshot_create (journal, settings, template_, list, &options, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (mr_mailshot_run_due_sync (journal, settings, NULL, NULL, NULL, &error), ==, 0);
  g_clear_pointer (&status, mr_mailshot_status_free);
  status = mr_mailshot_get_status (journal, job, &error);
  g_assert_cmpstr (status->state, ==, "scheduled");
  g_assert_cmpint (status->not_before, ==, later);
  journal_sql (journal_path, "UPDATE jobs SET not_before = 1");
  g_assert_cmpint (mr_mailshot_run_due_sync (journal, settings, NULL, NULL, NULL, &error), ==, 1);
  g_assert_cmpuint (mr_test_server_count_messages (server), ==, 10);

  /* A job cut off by a crash ("running", nobody holding it) is due too. */
  options.start_at = 0;
  job = mr_mailshot_create (journal, settings, template_, list, &options, NULL, &error);
  journal_sql (journal_path, "UPDATE jobs SET state = 'running' WHERE state = 'ready'");
  g_clear_pointer (&status, mr_mailshot_status_free);
  status = mr_mailshot_get_status (journal, job, &error);
  g_assert_false (status->running);
  g_assert_cmpint (mr_mailshot_run_due_sync (journal, settings, NULL, NULL, NULL, &error), ==, 1);
  g_assert_cmpuint (mr_test_server_count_messages (server), ==, 15);
}

/* Several connections share the job: each recipient once, over more than one connection. */
static void
test_connections (MrTestDirs    *dirs,
                  gconstpointer  data)
{
  g_autoptr(MrTestServer) server = mr_test_server_start ("fault-server.py", "--scenario", "normal", NULL);
  g_autoptr(MrSettings) settings = settings_with (dirs, server->port, "\"mailshot.connections\": 3");
  g_autoptr(MrTemplate) template_ = write_template (dirs, FALSE);
  g_autofree char *list = g_build_filename (dirs->root, "list.csv", NULL);
  g_autoptr(MrMailshotJournal) journal = mr_mailshot_journal_open (NULL, NULL);
  g_autoptr(MrMailshotStatus) status = NULL;
  g_autoptr(GString) rows = g_string_new ("email,name,city,date\n");
  g_autoptr(GError) error = NULL;
  g_autofree char *wire = NULL;
  gint64 job;

  for (guint i = 0; i < 30; i++)
    g_string_append_printf (rows, "p%u@example.org,P%u,X,1\n", i, i);
  mr_test_write_file (list, rows->str);
  job = mr_mailshot_create (journal, settings, template_, list, NULL, NULL, &error);
  g_assert_no_error (error);
  status = mr_mailshot_get_status (journal, job, &error);
  g_assert_cmpuint (status->connections, ==, 3);
  g_assert_true (mr_mailshot_run_sync (journal, settings, job, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  wire = mr_test_server_read_log (server);
  for (guint i = 0; i < 30; i++)
    {
      g_autofree char *rcpt = g_strdup_printf ("RCPT TO:<p%u@example.org>", i);
      g_assert_cmpuint (mr_test_count (wire, rcpt), ==, 1);
    }
  g_test_message ("%u connections", mr_test_count (wire, "EHLO "));
  g_assert_cmpuint (mr_test_count (wire, "EHLO "), >=, 2);
  g_assert_cmpuint (mr_test_count (wire, "EHLO "), <=, 3);
  g_clear_pointer (&status, mr_mailshot_status_free);
  status = mr_mailshot_get_status (journal, job, &error);
  g_assert_cmpuint (status->accepted, ==, 30);
  g_assert_cmpstr (status->state, ==, "done");
}

typedef struct {
  MrMailshotJournal *other;
  gint64             job;
  gboolean           paused;
} PauseAt;

/* The window's Pause, as another process does it, once ten mails are done. */
static void
pause_after_ten (guint    done,
                 guint    total,
                 gpointer user_data)
{
  PauseAt *at = user_data;

  if (done >= 10 && !at->paused)
    {
      g_assert_true (mr_mailshot_set_state (at->other, at->job, "paused", NULL));
      at->paused = TRUE;
    }
}

static gint64
journal_count (const char *path,
               const char *sql)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *statement = NULL;
  gint64 count;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &statement, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (statement), ==, SQLITE_ROW);
  count = sqlite3_column_int64 (statement, 0);
  sqlite3_finalize (statement);
  sqlite3_close (db);
  return count;
}

/* Recipient address → mails the server took for it. */
static GHashTable *
delivered_counts (MrTestServer *server)
{
  GHashTable *delivered = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  guint messages = mr_test_server_count_messages (server);

  for (guint n = 1; n <= messages; n++)
    {
      g_autoptr(JsonNode) envelope = mr_test_server_read_envelope (server, n);
      JsonArray *to = json_object_get_array_member (json_node_get_object (envelope), "rcpt_tos");
      const char *address = json_array_get_string_element (to, 0);

      g_assert_cmpuint (json_array_get_length (to), ==, 1);
      g_hash_table_insert (delivered, g_strdup (address),
                           GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (delivered, address)) + 1));
    }
  return delivered;
}

/* After a run that stopped early: each recipient the server took is accepted, once; every other
 * one is pending as it was before (no attempt, no time), whatever its connection held. Returns how
 * many went. */
static guint
assert_unsent_untouched (MrMailshotJournal *journal,
                         gint64             job,
                         MrTestServer      *server,
                         const char        *journal_path)
{
  g_autoptr(GHashTable) delivered = delivered_counts (server);
  g_autoptr(GPtrArray) recipients = NULL;
  g_autoptr(GError) error = NULL;

  recipients = mr_mailshot_get_recipients (journal, job, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < recipients->len; i++)
    {
      MrMailshotRecipient *recipient = g_ptr_array_index (recipients, i);
      guint count = GPOINTER_TO_UINT (g_hash_table_lookup (delivered, recipient->address));

      g_assert_cmpuint (count, <=, 1);
      g_assert_cmpstr (recipient->state, ==, count == 1 ? "accepted" : "pending");
      g_assert_cmpuint (recipient->attempts, ==, count);
    }
  g_assert_cmpint (journal_count (journal_path, "SELECT COUNT (*) FROM recipients WHERE state = 'pending' AND sent_at != 0"),
                   ==, 0);
  return g_hash_table_size (delivered);
}

/* A job of numbered rows against aiosmtpd, over 3 connections without a pace: each connection
 * holds a recipient more than it sends. */
typedef struct {
  MrTestServer      *server;
  MrSettings        *settings;
  char              *journal_path;
  MrMailshotJournal *journal;
  gint64             job;
} HeldJob;

static void
held_job_setup (HeldJob    *held,
                MrTestDirs *dirs,
                guint       count,
                guint       per_day)
{
  g_autoptr(MrTemplate) template_ = write_template (dirs, FALSE);
  g_autofree char *list = g_build_filename (dirs->root, "list.csv", NULL);
  g_autoptr(GString) rows = g_string_new ("email,name,city,date\n");
  g_autoptr(GError) error = NULL;
  MrMailshotOptions options = MR_MAILSHOT_OPTIONS_INIT;

  held->server = mr_test_server_start ("smtp-server.py", "--mode", "plain", NULL);
  held->settings = settings_with (dirs, held->server->port, "\"mailshot.connections\": 3, \"mailshot.per_minute\": 0");
  held->journal_path = g_build_filename (dirs->data_home, "mailroom", "mailshots.db", NULL);
  held->journal = mr_mailshot_journal_open (NULL, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < count; i++)
    g_string_append_printf (rows, "p%u@example.org,P%u,X,1\n", i, i);
  mr_test_write_file (list, rows->str);
  options.per_day = per_day;
  held->job = mr_mailshot_create (held->journal, held->settings, template_, list, &options, NULL, &error);
  g_assert_no_error (error);
}

static void
held_job_clear (HeldJob *held)
{
  g_clear_pointer (&held->journal, mr_mailshot_journal_free);
  g_clear_pointer (&held->journal_path, g_free);
  g_clear_object (&held->settings);
  g_clear_pointer (&held->server, mr_test_server_stop);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (HeldJob, held_job_clear)

/* Paused mid-run: those not sent go back as they were, and the resumed job sends each once. */
static void
test_paused_puts_back (MrTestDirs    *dirs,
                       gconstpointer  data)
{
  g_auto(HeldJob) held = { 0 };
  g_autoptr(MrMailshotJournal) other = mr_mailshot_journal_open (NULL, NULL);
  g_autoptr(MrMailshotStatus) status = NULL;
  g_autoptr(GHashTable) delivered = NULL;
  g_autoptr(GError) error = NULL;
  PauseAt at = { other, 0, FALSE };
  guint accepted;

  held_job_setup (&held, dirs, 40, 0);
  at.job = held.job;
  g_assert_false (mr_mailshot_run_sync (held.journal, held.settings, held.job, pause_after_ten, &at, NULL, &error));
  g_assert_error (error, MR_MAILSHOT_ERROR, MR_MAILSHOT_ERROR_PAUSED);
  g_clear_error (&error);
  accepted = assert_unsent_untouched (held.journal, held.job, held.server, held.journal_path);
  g_test_message ("%u of 40 sent before the pause", accepted);
  g_assert_cmpuint (accepted, >=, 10);
  g_assert_cmpuint (accepted, <, 40);

  /* Resumed: the rest, each once. */
  g_assert_true (mr_mailshot_set_state (held.journal, held.job, "ready", &error));
  g_assert_true (mr_mailshot_run_sync (held.journal, held.settings, held.job, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  delivered = delivered_counts (held.server);
  g_assert_cmpuint (g_hash_table_size (delivered), ==, 40);
  for (guint i = 0; i < 40; i++)
    {
      g_autofree char *address = g_strdup_printf ("p%u@example.org", i);
      g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (delivered, address)), ==, 1);
    }
  status = mr_mailshot_get_status (held.journal, held.job, &error);
  g_assert_cmpuint (status->accepted, ==, 40);
  g_assert_cmpstr (status->state, ==, "done");
}

static void
cancel_after_ten (guint    done,
                  guint    total,
                  gpointer user_data)
{
  if (done >= 10)
    g_cancellable_cancel (user_data);
}

/* The window closed mid-run (its cancellable): the same, and the job is ready to go on. */
static void
test_cancelled_puts_back (MrTestDirs    *dirs,
                          gconstpointer  data)
{
  g_auto(HeldJob) held = { 0 };
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(MrMailshotStatus) status = NULL;
  g_autoptr(GError) error = NULL;
  guint accepted;

  held_job_setup (&held, dirs, 40, 0);
  g_assert_false (mr_mailshot_run_sync (held.journal, held.settings, held.job, cancel_after_ten, cancellable, cancellable,
                                        &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  accepted = assert_unsent_untouched (held.journal, held.job, held.server, held.journal_path);
  g_assert_cmpuint (accepted, >=, 10);
  g_assert_cmpuint (accepted, <, 40);
  status = mr_mailshot_get_status (held.journal, held.job, NULL);
  g_assert_cmpstr (status->state, ==, "ready");
  g_assert_cmpuint (status->pending, ==, 40 - accepted);
}

/* The day's quota over several connections, each holding a recipient ahead: exactly the quota
 * goes, and the rest waits untouched for the next day. */
static void
test_quota_over_connections (MrTestDirs    *dirs,
                             gconstpointer  data)
{
  g_auto(HeldJob) held = { 0 };
  g_autoptr(MrMailshotStatus) status = NULL;
  g_autoptr(GError) error = NULL;

  held_job_setup (&held, dirs, 20, 7);
  g_assert_true (mr_mailshot_run_sync (held.journal, held.settings, held.job, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (assert_unsent_untouched (held.journal, held.job, held.server, held.journal_path), ==, 7);
  status = mr_mailshot_get_status (held.journal, held.job, &error);
  g_assert_cmpuint (status->accepted, ==, 7);
  g_assert_cmpstr (status->state, ==, "scheduled");
}

/* A row's own attachment, by name inside the chosen folder; nothing outside it. */
static void
test_attachments (MrTestDirs    *dirs,
                  gconstpointer  data)
{
  g_autoptr(MrTestServer) server = mr_test_server_start ("smtp-server.py", "--mode", "plain", NULL);
  g_autoptr(MrSettings) settings = settings_with (dirs, server->port, NULL);
  g_autoptr(MrTemplate) template_ = write_template (dirs, FALSE);
  g_autofree char *list = g_build_filename (dirs->root, "list.csv", NULL);
  g_autofree char *folder = g_build_filename (dirs->root, "invoices", NULL);
  g_autofree char *secret = g_build_filename (dirs->root, "secret.txt", NULL);
  g_autofree char *invoice = g_build_filename (folder, "inv-1.pdf", NULL);
  g_autofree char *link = g_build_filename (folder, "link.pdf", NULL);
  g_autoptr(MrMailshotJournal) journal = mr_mailshot_journal_open (NULL, NULL);
  g_autoptr(MrProofReport) report = NULL;
  g_autoptr(JsonNode) parsed = NULL;
  g_autoptr(GError) error = NULL;
  MrMailshotOptions options = MR_MAILSHOT_OPTIONS_INIT;
  JsonObject *attachment;
  gint64 job;

  g_assert_cmpint (g_mkdir_with_parents (folder, 0700), ==, 0);
  mr_test_write_file (invoice, "%PDF-1.4 invoice one");
  mr_test_write_file (secret, "not for mailing");
  g_assert_cmpint (symlink (secret, link), ==, 0);
  mr_test_write_file (list, "email,name,city,date,invoice\n"
                            "a@example.org,A,X,1,inv-1.pdf\n"      /* 2 */
                            "b@example.org,B,X,1,../secret.txt\n"  /* 3 */
                            "c@example.org,C,X,1,/etc/passwd\n"    /* 4 */
                            "d@example.org,D,X,1,inv-2.pdf\n"      /* 5 */
                            "e@example.org,E,X,1,link.pdf\n"       /* 6 */
                            "f@example.org,F,X,1,\n");             /* 7: none */
  options.proof.attachment_column = "invoice";
  options.proof.attachments_dir = folder;
  report = mr_proofread_full (template_, list, &options.proof, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (problem_at (report, 3, "attachment-outside")->severity, ==, MR_PROBLEM_ERROR);
  g_assert_nonnull (strstr (problem_at (report, 4, "attachment-outside")->message, "/etc/passwd"));
  g_assert_nonnull (strstr (problem_at (report, 5, "attachment-missing")->message, "inv-2.pdf"));
  g_assert_nonnull (problem_at (report, 6, "attachment-outside"));
  g_assert_cmpuint (report->sendable, ==, 2);
  g_clear_pointer (&report, mr_proof_report_free);

  /* The folder must exist; the column too. */
  options.proof.attachments_dir = "/nonexistent";
  g_assert_null (mr_proofread_full (template_, list, &options.proof, NULL, NULL, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_clear_error (&error);
  options.proof.attachments_dir = folder;

  job = mr_mailshot_create (journal, settings, template_, list, &options, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (mr_mailshot_run_sync (journal, settings, job, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (mr_test_server_count_messages (server), ==, 2);
  parsed = mr_test_server_parse_message (server, 1);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (json_node_get_object (parsed), "defects")), ==, 0);
  attachment = json_array_get_object_element (json_object_get_array_member (json_node_get_object (parsed), "attachments"), 0);
  g_assert_cmpstr (json_object_get_string_member (attachment, "filename"), ==, "inv-1.pdf");
  g_assert_cmpint (json_object_get_int_member (attachment, "size"), ==, strlen ("%PDF-1.4 invoice one"));
  g_clear_pointer (&parsed, json_node_unref);
  parsed = mr_test_server_parse_message (server, 2);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (json_node_get_object (parsed), "attachments")), ==, 0);

  /* The server's SIZE limit, against the estimate. */
  options.proof.size_limit = 1000;
  report = mr_proofread_full (template_, list, &options.proof, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (problem_at (report, 2, "too-big")->message, "over the server’s limit"));
}

/* The user's choices: rows left out, a limit, a mail for each repeated address. */
static void
test_row_choices (MrTestDirs    *dirs,
                  gconstpointer  data)
{
  g_autoptr(MrTemplate) template_ = write_template (dirs, FALSE);
  g_autofree char *list = g_build_filename (dirs->root, "list.csv", NULL);
  g_autoptr(MrProofReport) report = NULL;
  g_autoptr(GHashTable) excluded = g_hash_table_new (NULL, NULL);
  g_autoptr(GError) error = NULL;
  MrProofOptions options = { NULL };

  mr_test_write_file (list, "email,name,city,date\na@example.org,A,X,1\nb@example.org,B,X,1\na@example.org,A2,X,1\n"
                            "c@example.org,C,X,1\nd@example.org,D,X,1\n");
  g_hash_table_add (excluded, GUINT_TO_POINTER (3));
  options.excluded_rows = excluded;
  report = mr_proofread_full (template_, list, &options, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (problem_at (report, 3, "excluded"));
  g_assert_nonnull (problem_at (report, 4, "duplicate"));
  g_assert_cmpuint (report->sendable, ==, 3);
  g_assert_cmpuint (report->left_out, ==, 1);
  g_assert_cmpuint (report->repeated, ==, 1);
  assert_counts_add_up (report);
  g_clear_pointer (&report, mr_proof_report_free);

  /* A row with an error, left out: counted as left out, no longer as an error that stops the job. */
  mr_test_write_file (list, "email,name,city,date\na@example.org,A,X,1\nnot-an-address,B,X,1\nc@example.org,C,X,1\n");
  report = mr_proofread_full (template_, list, &options, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (report->rows_with_errors, ==, 0);
  g_assert_cmpuint (report->left_out, ==, 1);
  g_assert_cmpuint (report->sendable, ==, 2);
  assert_counts_add_up (report);
  g_clear_pointer (&report, mr_proof_report_free);
  g_hash_table_remove_all (excluded);
  report = mr_proofread_full (template_, list, &options, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (report->rows_with_errors, ==, 1);
  g_assert_cmpuint (report->left_out, ==, 0);
  assert_counts_add_up (report);
  g_clear_pointer (&report, mr_proof_report_free);
  mr_test_write_file (list, "email,name,city,date\na@example.org,A,X,1\nb@example.org,B,X,1\na@example.org,A2,X,1\n"
                            "c@example.org,C,X,1\nd@example.org,D,X,1\n");

  options.excluded_rows = NULL;
  options.send_duplicates = TRUE;
  options.limit = 4;
  report = mr_proofread_full (template_, list, &options, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (problem_at (report, 4, "duplicate")->severity, ==, MR_PROBLEM_WARNING);
  g_assert_nonnull (strstr (problem_at (report, 4, "duplicate")->message, "as you chose"));
  g_assert_nonnull (problem_at (report, 6, "over-limit"));
  g_assert_cmpuint (report->sendable, ==, 4);
  g_assert_cmpuint (report->over_limit, ==, 1);
  assert_counts_add_up (report);
}

/* Preview a row, send samples to oneself, export the report. */
static void
test_preview_samples_report (MrTestDirs    *dirs,
                             gconstpointer  data)
{
  g_autoptr(MrTestServer) server = mr_test_server_start ("smtp-server.py", "--mode", "plain", NULL);
  g_autoptr(MrSettings) settings = settings_with (dirs, server->port, "\"sender.copy_to\": \"archive@example.com\"");
  g_autoptr(MrTemplate) template_ = write_template (dirs, FALSE);
  g_autofree char *list = g_build_filename (dirs->root, "list.csv", NULL);
  g_autofree char *csv = g_build_filename (dirs->root, "report.csv", NULL);
  g_autofree char *text = NULL;
  g_autoptr(MrMailshotJournal) journal = mr_mailshot_journal_open (NULL, NULL);
  g_autoptr(MrMailshotPreview) preview = NULL;
  g_autoptr(JsonNode) envelope = NULL;
  g_autoptr(JsonNode) parsed = NULL;
  g_autoptr(GError) error = NULL;
  JsonArray *rcpts;
  gint64 job;

  mr_test_write_file (list, "email,name,city,date\nx@,X,X,1\na@example.org,Ann,Bern,1 May\nb@example.org,Bob,\"Basel, \"\"CH\"\"\",2 May\n");
  preview = mr_mailshot_preview (settings, template_, list, NULL, 4, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (preview->address, ==, "b@example.org");
  g_assert_cmpstr (preview->subject, ==, "Invitation for Bob");
  g_assert_nonnull (strstr (preview->html, "Basel, &quot;CH&quot;"));
  g_assert_null (preview->problem);
  g_assert_nonnull (g_strstr_len (g_bytes_get_data (preview->message, NULL), g_bytes_get_size (preview->message),
                                  "To: b@example.org"));
  g_clear_pointer (&preview, mr_mailshot_preview_free);
  /* With a name column, To shows the name too (encoded as RFC 2047 wants). */
  {
    MrMailshotOptions named = MR_MAILSHOT_OPTIONS_INIT;
    g_autoptr(MrProofReport) report = NULL;

    named.proof.name_column = "name";
    preview = mr_mailshot_preview (settings, template_, list, &named, 4, &error);
    g_assert_no_error (error);
    g_assert_nonnull (g_strstr_len (g_bytes_get_data (preview->message, NULL), g_bytes_get_size (preview->message),
                                    "To: Bob <b@example.org>"));
    g_clear_pointer (&preview, mr_mailshot_preview_free);
    mr_test_write_file (list, "email,name,city,date\na@example.org,\"Ann\nEvil: header\",Bern,1 May\n");
    report = mr_proofread_full (template_, list, &named.proof, NULL, NULL, &error);
    g_assert_no_error (error);
    g_assert_nonnull (strstr (problem_at (report, 2, "bad-name")->message, "line break"));
    named.proof.name_column = "nickname";
    g_assert_null (mr_proofread_full (template_, list, &named.proof, NULL, NULL, &error));
    g_assert_error (error, MR_RECIPIENTS_ERROR, MR_RECIPIENTS_ERROR_NO_ADDRESS_COLUMN);
    g_clear_error (&error);
    mr_test_write_file (list, "email,name,city,date\nx@,X,X,1\na@example.org,Ann,Bern,1 May\nb@example.org,Bob,\"Basel, \"\"CH\"\"\",2 May\n");
  }
  preview = mr_mailshot_preview (settings, template_, list, NULL, 2, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (preview->problem, "not an email address"));
  g_clear_pointer (&preview, mr_mailshot_preview_free);
  g_assert_null (mr_mailshot_preview (settings, template_, list, NULL, 9, &error));
  g_assert_error (error, MR_MAILSHOT_ERROR, MR_MAILSHOT_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* Samples: the first sendable rows, to oneself alone, marked. */
  g_assert_cmpint (mr_mailshot_send_samples_sync (settings, template_, list, NULL, "me@example.com", 5, NULL, &error), ==, 2);
  g_assert_no_error (error);
  g_assert_cmpuint (mr_test_server_count_messages (server), ==, 2);
  envelope = mr_test_server_read_envelope (server, 1);
  rcpts = json_object_get_array_member (json_node_get_object (envelope), "rcpt_tos");
  g_assert_cmpuint (json_array_get_length (rcpts), ==, 1);
  g_assert_cmpstr (json_array_get_string_element (rcpts, 0), ==, "me@example.com");
  parsed = mr_test_server_parse_message (server, 1);
  g_assert_cmpstr (member (parsed, "subject"), ==, "[Sample, row 3, for a@example.org] Invitation for Ann");
  g_assert_cmpstr (member (parsed, "to"), ==, "me@example.com");
  /* Samples are sends too: in the sent log, under no job. */
  {
    g_autoptr(MrSentLog) log = mr_sent_log_open (NULL, NULL);
    MrSentQuery query = { NULL, NULL, 0, 0, -1, 0 };
    g_autoptr(GPtrArray) entries = mr_sent_log_search (log, &query, NULL);

    g_assert_cmpuint (entries->len, ==, 2);
    g_assert_true (g_str_has_prefix (((MrSentEntry *) g_ptr_array_index (entries, 0))->subject, "[Sample, row "));
    g_assert_cmpint (((MrSentEntry *) g_ptr_array_index (entries, 0))->mailshot, ==, 0);
    g_assert_cmpstr (((MrSentEntry *) g_ptr_array_index (entries, 0))->recipients[0], ==, "me@example.com");
  }
  g_assert_cmpint (mr_mailshot_send_samples_sync (settings, template_, list, NULL, "not an address", 1, NULL, &error), ==, -1);
  g_assert_error (error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_INVALID_VALUE);
  g_clear_error (&error);

  /* The report accounts for every row, quoted as CSV. */
  job = mr_mailshot_create (journal, settings, template_, list, NULL, NULL, &error);
  g_assert_true (mr_mailshot_run_sync (journal, settings, job, NULL, NULL, NULL, &error));
  g_assert_true (mr_mailshot_export_csv (journal, job, csv, &error));
  g_assert_no_error (error);
  text = mr_test_read_file (csv);
  g_test_message ("%s", text);
  g_assert_true (g_str_has_prefix (text, "row,address,state,attempts,reply,message_id\r\n2,x@,skipped,0,"));
  g_assert_nonnull (strstr (text, "\r\n3,a@example.org,accepted,1,"));
  g_assert_nonnull (strstr (text, "\r\n4,b@example.org,accepted,1,"));
  g_assert_false (mr_mailshot_export_csv (journal, 999, csv, &error));
  g_assert_error (error, MR_MAILSHOT_ERROR, MR_MAILSHOT_ERROR_NOT_FOUND);
}

/* The pace by provider, and the admin's own. */
static void
test_pace_defaults (MrTestDirs    *dirs,
                    gconstpointer  data)
{
  guint minute, day, connections;
  struct { const char *settings; guint minute, day, connections, limit; } cases[] = {
    { "\"smtp.provider\": \"office365\"", 30, 10000, 3, 10000 },
    { "\"smtp.provider\": \"gmail\", \"smtp.username\": \"someone@gmail.com\"", 60, 500, 1, 500 },
    { "\"smtp.provider\": \"gmail\", \"smtp.username\": \"someone@firm.example\"", 60, 2000, 1, 2000 },
    { "\"smtp.provider\": \"other\"", 0, 0, 1, 0 },
    { "\"smtp.provider\": \"office365\", \"mailshot.per_day\": 5000, \"mailshot.per_minute\": 0", 0, 5000, 3, 10000 },
    { "\"smtp.provider\": \"brevo\"", 60, 300, 1, 300 },
    { "\"smtp.provider\": \"gmail\", \"mailshot.per_day\": 0", 60, 0, 1, 2000 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(MrSettings) settings = settings_with (dirs, 25, cases[i].settings);

      g_autofree char *provider = NULL;

      mr_mailshot_get_default_pace (settings, NULL, NULL, &minute, &day, &connections);
      g_assert_cmpuint (minute, ==, cases[i].minute);
      g_assert_cmpuint (day, ==, cases[i].day);
      g_assert_cmpuint (connections, ==, cases[i].connections);
      /* The provider's own limit, whatever the admin set. */
      g_assert_cmpuint (mr_mailshot_get_provider_daily_limit (settings, NULL, NULL, &provider), ==, cases[i].limit);
      g_assert_true ((provider != NULL) == (cases[i].limit > 0));
    }

  /* Whose servers send, by route: the SMTP provider's; Exchange Online's are Office 365's; an
   * Exchange Server is its own host. */
  {
    g_autoptr(MrSettings) settings = settings_with (dirs, 25, "\"smtp.provider\": \"gmail\", "
                                                    "\"exchange.transport\": \"graph\"");
    g_autoptr(MrSettings) server = settings_with (dirs, 25, "\"smtp.provider\": \"gmail\", "
                                                  "\"exchange.transport\": \"ews\", "
                                                  "\"exchange.ews_url\": \"https://mail.firm.example/EWS/Exchange.asmx\"");
    g_autofree char *host = NULL;

    mr_assert_cmpstr_free (mr_mailshot_route_provider (settings, NULL, "smtp", &host), ==, "gmail");
    g_assert_cmpstr (host, ==, "127.0.0.1");
    g_clear_pointer (&host, g_free);
    mr_assert_cmpstr_free (mr_mailshot_route_provider (settings, NULL, "exchange", &host), ==, "office365");
    g_assert_null (host);
    mr_assert_cmpstr_free (mr_mailshot_route_provider (server, NULL, "exchange", &host), ==, "other");
    g_assert_cmpstr (host, ==, "mail.firm.example");
    g_clear_pointer (&host, g_free);
    g_assert_cmpuint (mr_mailshot_get_provider_daily_limit (settings, NULL, "exchange", NULL), ==, 10000);
  }
}

/* Handed to this machine's MTA: "queued-locally", not "accepted". */
static void
test_queued_locally (MrTestDirs    *dirs,
                     gconstpointer  data)
{
  g_autoptr(MrTestServer) server = mr_test_server_start ("smtp-server.py", "--mode", "plain", NULL);
  g_autoptr(MrSettings) settings = settings_with (dirs, server->port, "\"delivery.mode\": \"local-smtp\"");
  g_autoptr(MrTemplate) template_ = write_template (dirs, FALSE);
  g_autofree char *list = g_build_filename (dirs->root, "list.csv", NULL);
  g_autoptr(MrMailshotJournal) journal = mr_mailshot_journal_open (NULL, NULL);
  g_autoptr(MrMailshotStatus) status = NULL;
  g_autoptr(GError) error = NULL;
  gint64 job;

  mr_test_write_file (list, "email,name,city,date\na@example.org,A,X,1\nb@example.org,B,X,1\n");
  job = mr_mailshot_create (journal, settings, template_, list, NULL, NULL, &error);
  g_assert_true (mr_mailshot_run_sync (journal, settings, job, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  status = mr_mailshot_get_status (journal, job, &error);
  g_assert_cmpuint (status->queued_locally, ==, 2);
  g_assert_cmpuint (status->accepted, ==, 0);
  g_assert_cmpstr (status->state, ==, "done");

  /* The sendmail program: one run per mail, the envelope on its command line, one at a time
   * whatever the job's connections. */
  {
    g_autofree char *script = g_build_filename (dirs->root, "fake-sendmail", NULL);
    g_autofree char *calls = g_build_filename (dirs->root, "sendmail-calls", NULL);
    g_autofree char *busy = g_build_filename (dirs->root, "sendmail-busy", NULL);
    g_autofree char *contents = g_strdup_printf ("#!/bin/sh\nmkdir '%s' 2>/dev/null || echo AT-ONCE >> '%s'\n"
                                                 "echo \"$*\" >> '%s'\ncat > /dev/null\nsleep 0.05\nrmdir '%s'\n",
                                                 busy, calls, calls, busy);
    g_autofree char *eight = g_build_filename (dirs->root, "eight.csv", NULL);
    MrMailshotOptions options = MR_MAILSHOT_OPTIONS_INIT;
    g_autofree char *extra = g_strdup_printf ("\"delivery.mode\": \"sendmail\", \"delivery.sendmail_path\": \"%s\"", script);
    g_autofree char *log = NULL;
    g_autoptr(MrSettings) sendmail = NULL;

    mr_test_write_file (script, contents);
    g_assert_cmpint (g_chmod (script, 0755), ==, 0);
    sendmail = settings_with (dirs, server->port, extra);
    mr_test_write_file (eight, "email,name,city,date\na@example.org,A,X,1\nb@example.org,B,X,1\nc@example.org,C,X,1\n"
                               "d@example.org,D,X,1\ne@example.org,E,X,1\nf@example.org,F,X,1\ng@example.org,G,X,1\n"
                               "h@example.org,H,X,1\n");
    options.connections = 4;
    options.per_minute = 0;
    job = mr_mailshot_create (journal, sendmail, template_, eight, &options, NULL, &error);
    g_assert_true (mr_mailshot_run_sync (journal, sendmail, job, NULL, NULL, NULL, &error));
    g_assert_no_error (error);
    g_clear_pointer (&status, mr_mailshot_status_free);
    status = mr_mailshot_get_status (journal, job, &error);
    g_assert_cmpuint (status->queued_locally, ==, 8);
    log = mr_test_read_file (calls);
    g_assert_nonnull (strstr (log, "-- a@example.org\n"));
    g_assert_nonnull (strstr (log, "-- b@example.org\n"));
    g_assert_null (strstr (log, "AT-ONCE"));
  }
}

/* "mailshot timer status" says installed; "timer remove" deletes both units. */
static void
assert_cli_status_then_remove (const char *timer,
                               const char *service)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  g_assert_cmpint (mr_test_run_cli (&out, &err, "mailshot", "timer", "status", NULL), ==, 0);
  g_assert_cmpstr (out, ==, "installed\n");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (mr_test_run_cli (&out, &err, "mailshot", "timer", "remove", NULL), ==, 0);
  g_assert_false (g_file_test (timer, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (service, G_FILE_TEST_EXISTS));
}

/* The systemd user timer: units a person can read, enabled through systemctl --user, removable. */
static void
test_timer (MrTestDirs    *dirs,
            gconstpointer  data)
{
  g_autofree char *fake = g_build_filename (dirs->root, "systemctl", NULL);
  g_autofree char *calls = g_build_filename (dirs->root, "calls.txt", NULL);
  g_autofree char *script = g_strdup_printf ("#!/bin/sh\necho \"$@\" >> '%s'\n[ -e '%s.fail' ] && { echo 'Failed to connect to bus' >&2; exit 1; }\nexit 0\n", calls, calls);
  g_autofree char *fail = g_strconcat (calls, ".fail", NULL);
  g_autofree char *service = g_build_filename (g_get_user_config_dir (), "systemd", "user", "mailroom-mailshots.service", NULL);
  g_autofree char *timer = g_build_filename (g_get_user_config_dir (), "systemd", "user", "mailroom-mailshots.timer", NULL);
  g_autofree char *text = NULL;
  g_autofree char *log = NULL;
  g_autoptr(GError) error = NULL;

  mr_test_write_file (fake, script);
  g_assert_cmpint (g_chmod (fake, 0755), ==, 0);

  g_assert_false (mr_timer_is_installed ());
  g_assert_true (mr_timer_install (&error));
  g_assert_no_error (error);
  g_assert_true (mr_timer_is_installed ());
  text = mr_test_read_file (service);
  g_assert_nonnull (strstr (text, "mailroom-cli mailshot run-due"));
  g_free (text);
  text = mr_test_read_file (timer);
  g_assert_nonnull (strstr (text, "OnUnitActiveSec=5min"));
  log = mr_test_read_file (calls);
  g_assert_nonnull (strstr (log, "--user daemon-reload\n--user enable --now mailroom-mailshots.timer\n"));

  assert_cli_status_then_remove (timer, service);
  g_free (log);
  log = mr_test_read_file (calls);
  g_assert_nonnull (strstr (log, "--user disable --now mailroom-mailshots.timer\n"));

  /* No systemd user session: the files are written, and the message says what happens instead. */
  mr_test_write_file (fail, "");
  g_assert_false (mr_timer_install (&error));
  g_assert_nonnull (strstr (error->message, "Failed to connect to bus"));
  g_assert_nonnull (strstr (error->message, "next opens"));
}

/* systemd's user manager on the test's own session bus, as a Flatpak sandbox reaches it: records
 * each call, answers as systemd does, or refuses as a sandbox without the permission is refused. */
typedef struct {
  GMainContext    *context;
  GMainLoop       *loop;
  GThread         *thread;
  GDBusConnection *connection;
  GMutex           lock;
  GCond            ready;
  gboolean         started;
  gboolean         refuse;
  GString         *calls;
} FakeSystemd;

static const char fake_systemd_xml[] =
  "<node><interface name='org.freedesktop.systemd1.Manager'>"
  "<method name='Reload'/>"
  "<method name='EnableUnitFiles'><arg type='as' direction='in'/><arg type='b' direction='in'/>"
  "<arg type='b' direction='in'/><arg type='b' direction='out'/><arg type='a(sss)' direction='out'/></method>"
  "<method name='DisableUnitFiles'><arg type='as' direction='in'/><arg type='b' direction='in'/>"
  "<arg type='a(sss)' direction='out'/></method>"
  "<method name='StartUnit'><arg type='s' direction='in'/><arg type='s' direction='in'/><arg type='o' direction='out'/></method>"
  "<method name='StopUnit'><arg type='s' direction='in'/><arg type='s' direction='in'/><arg type='o' direction='out'/></method>"
  "</interface></node>";

static void
fake_systemd_method (GDBusConnection       *connection,
                     const char            *sender,
                     const char            *path,
                     const char            *interface,
                     const char            *method,
                     GVariant              *parameters,
                     GDBusMethodInvocation *invocation,
                     gpointer               user_data)
{
  FakeSystemd *fake = user_data;
  g_autofree char *arguments = g_variant_print (parameters, FALSE);
  gboolean refuse;

  g_mutex_lock (&fake->lock);
  g_string_append_printf (fake->calls, "%s %s\n", method, arguments);
  refuse = fake->refuse;
  g_mutex_unlock (&fake->lock);
  if (refuse)
    g_dbus_method_invocation_return_dbus_error (invocation, "org.freedesktop.DBus.Error.AccessDenied",
                                                "Access to org.freedesktop.systemd1 is not allowed");
  else if (g_str_equal (method, "EnableUnitFiles"))
    g_dbus_method_invocation_return_value (invocation, g_variant_new ("(b@a(sss))", TRUE,
                                                                      g_variant_new_array (G_VARIANT_TYPE ("(sss)"), NULL, 0)));
  else if (g_str_equal (method, "DisableUnitFiles"))
    g_dbus_method_invocation_return_value (invocation, g_variant_new ("(@a(sss))",
                                                                      g_variant_new_array (G_VARIANT_TYPE ("(sss)"), NULL, 0)));
  else if (g_str_has_suffix (method, "Unit"))
    g_dbus_method_invocation_return_value (invocation, g_variant_new ("(o)", "/org/freedesktop/systemd1/job/1"));
  else
    g_dbus_method_invocation_return_value (invocation, NULL);
}

static gpointer
fake_systemd_thread (gpointer data)
{
  FakeSystemd *fake = data;
  static const GDBusInterfaceVTable vtable = { fake_systemd_method, NULL, NULL, { 0 } };
  g_autoptr(GDBusNodeInfo) info = g_dbus_node_info_new_for_xml (fake_systemd_xml, NULL);
  g_autofree char *address = NULL;
  g_autoptr(GVariant) owned = NULL;
  g_autoptr(GError) error = NULL;

  g_main_context_push_thread_default (fake->context);
  address = g_dbus_address_get_for_bus_sync (G_BUS_TYPE_SESSION, NULL, &error);
  g_assert_no_error (error);
  fake->connection = g_dbus_connection_new_for_address_sync (address, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                                      G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                             NULL, NULL, &error);
  g_assert_no_error (error);
  g_dbus_connection_register_object (fake->connection, "/org/freedesktop/systemd1", info->interfaces[0], &vtable, fake,
                                     NULL, &error);
  g_assert_no_error (error);
  owned = g_dbus_connection_call_sync (fake->connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "RequestName",
                                       g_variant_new ("(su)", "org.freedesktop.systemd1", 4 /* DO_NOT_QUEUE */),
                                       G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  g_assert_no_error (error);
  g_mutex_lock (&fake->lock);
  fake->started = TRUE;
  g_cond_signal (&fake->ready);
  g_mutex_unlock (&fake->lock);
  g_main_loop_run (fake->loop);
  g_dbus_connection_close_sync (fake->connection, NULL, NULL);
  g_clear_object (&fake->connection);
  g_main_context_pop_thread_default (fake->context);
  return NULL;
}

static FakeSystemd *
fake_systemd_start (void)
{
  FakeSystemd *fake = g_new0 (FakeSystemd, 1);

  fake->context = g_main_context_new ();
  fake->loop = g_main_loop_new (fake->context, FALSE);
  fake->calls = g_string_new (NULL);
  g_mutex_init (&fake->lock);
  g_cond_init (&fake->ready);
  fake->thread = g_thread_new ("fake-systemd", fake_systemd_thread, fake);
  g_mutex_lock (&fake->lock);
  while (!fake->started)
    g_cond_wait (&fake->ready, &fake->lock);
  g_mutex_unlock (&fake->lock);
  return fake;
}

static char *
fake_systemd_take_calls (FakeSystemd *fake)
{
  char *calls;

  g_mutex_lock (&fake->lock);
  calls = g_strdup (fake->calls->str);
  g_string_truncate (fake->calls, 0);
  g_mutex_unlock (&fake->lock);
  return calls;
}

static void
fake_systemd_stop (FakeSystemd *fake)
{
  g_main_loop_quit (fake->loop);
  g_thread_join (fake->thread);
  g_main_loop_unref (fake->loop);
  g_main_context_unref (fake->context);
  g_string_free (fake->calls, TRUE);
  g_mutex_clear (&fake->lock);
  g_cond_clear (&fake->ready);
  g_free (fake);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FakeSystemd, fake_systemd_stop)

/* From the Flatpak: the units go to the host's ~/.config/systemd/user, start the app's CLI through
 * flatpak, and systemd is asked over D-Bus, as there is no systemctl in the sandbox. */
static void
test_timer_flatpak (MrTestDirs    *dirs,
                    gconstpointer  data)
{
  g_autoptr(FakeSystemd) systemd = fake_systemd_start ();
  g_autofree char *host_config = g_build_filename (dirs->root, "host-config", NULL);
  g_autofree char *service = g_build_filename (host_config, "systemd", "user", "mailroom-mailshots.service", NULL);
  g_autofree char *timer = g_build_filename (host_config, "systemd", "user", "mailroom-mailshots.timer", NULL);
  g_autofree char *sandbox_timer = g_build_filename (g_get_user_config_dir (), "systemd", "user", "mailroom-mailshots.timer", NULL);
  g_autofree char *text = NULL;
  g_autofree char *calls = NULL;
  g_autoptr(GError) error = NULL;

  mr_test_setenv ("FLATPAK_ID", "io.github.mailroom.Mailroom");
  mr_test_setenv ("HOST_XDG_CONFIG_HOME", host_config);
  /* Not there in a sandbox: mr_test_init() points MAILROOM_SYSTEMCTL at a file this test never writes. */

  g_assert_false (mr_timer_is_installed ());
  g_assert_true (mr_timer_install (&error));
  g_assert_no_error (error);
  g_assert_true (mr_timer_is_installed ());
  g_assert_false (g_file_test (sandbox_timer, G_FILE_TEST_EXISTS));
  text = mr_test_read_file (service);
  g_assert_nonnull (strstr (text, "\nExecStart=flatpak run --command=mailroom-cli io.github.mailroom.Mailroom mailshot run-due\n"));
  g_clear_pointer (&text, g_free);
  text = mr_test_read_file (timer);
  g_assert_nonnull (strstr (text, "OnUnitActiveSec=5min"));
  calls = fake_systemd_take_calls (systemd);
  g_assert_cmpstr (calls, ==, "Reload ()\n"
                              "EnableUnitFiles (['mailroom-mailshots.timer'], false, true)\n"
                              "StartUnit ('mailroom-mailshots.timer', 'replace')\n");

  assert_cli_status_then_remove (timer, service);
  g_clear_pointer (&calls, g_free);
  calls = fake_systemd_take_calls (systemd);
  g_assert_cmpstr (calls, ==, "StopUnit ('mailroom-mailshots.timer', 'replace')\n"
                              "DisableUnitFiles (['mailroom-mailshots.timer'], false)\n"
                              "Reload ()\n");

  /* A sandbox without --talk-name=org.freedesktop.systemd1: refused, and the message says what
   * happens instead. */
  g_mutex_lock (&systemd->lock);
  systemd->refuse = TRUE;
  g_mutex_unlock (&systemd->lock);
  g_assert_false (mr_timer_install (&error));
  g_assert_nonnull (strstr (error->message, "Access to org.freedesktop.systemd1 is not allowed"));
  g_assert_nonnull (strstr (error->message, "next opens"));

  mr_test_setenv ("FLATPAK_ID", NULL);
  mr_test_setenv ("HOST_XDG_CONFIG_HOME", NULL);
}

/* Every mail refused the same way (the server will not take this sender): after ten in a row the
 * job pauses, and those ten are tried again on resume, rather than the whole list failing. */
static void
test_same_failures_pause (MrTestDirs    *dirs,
                          gconstpointer  data)
{
  g_autoptr(MrTestServer) server = mr_test_server_start ("fault-server.py", "--scenario", "normal",
                                                         "--mail-reply", "550 5.7.1 Sender not allowed",
                                                         "--no-pipelining", NULL);
  g_autoptr(MrSettings) settings = settings_with (dirs, server->port, NULL);
  g_autoptr(MrTemplate) template_ = write_template (dirs, FALSE);
  g_autofree char *list = g_build_filename (dirs->root, "list.csv", NULL);
  g_autoptr(MrMailshotJournal) journal = mr_mailshot_journal_open (NULL, NULL);
  g_autoptr(MrMailshotStatus) status = NULL;
  g_autoptr(GString) rows = g_string_new ("email,name,city,date\n");
  g_autoptr(GError) error = NULL;
  gint64 job;

  for (guint i = 0; i < 15; i++)
    g_string_append_printf (rows, "p%u@example.org,P%u,X,1\n", i, i);
  mr_test_write_file (list, rows->str);
  job = mr_mailshot_create (journal, settings, template_, list, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (mr_mailshot_run_sync (journal, settings, job, NULL, NULL, NULL, &error));
  g_assert_error (error, MR_MAILSHOT_ERROR, MR_MAILSHOT_ERROR_PAUSED);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "10 mails in a row"));
  status = mr_mailshot_get_status (journal, job, NULL);
  g_assert_cmpstr (status->state, ==, "paused");
  g_assert_nonnull (strstr (status->reason, "550"));
  g_assert_cmpuint (status->pending, ==, 15);
  g_assert_cmpuint (status->failed_permanent, ==, 0);
}

typedef struct {
  guint logged_at_750;
} SentLogProbe;

static void
probe_sent_log (guint    done,
                guint    total,
                gpointer user_data)
{
  SentLogProbe *probe = user_data;

  if (done == 750)
    {
      g_autoptr(MrSentLog) log = mr_sent_log_open (NULL, NULL);
      MrSentQuery query = { NULL, NULL, 0, 0, -1, 0 };
      g_autoptr(GPtrArray) entries = mr_sent_log_search (log, &query, NULL);

      probe->logged_at_750 = entries->len;
    }
}

/* A long job shows in the sent log as it goes, not only when it ends. */
static void
test_sent_log_during_run (MrTestDirs    *dirs,
                          gconstpointer  data)
{
  g_autoptr(MrTestServer) server = mr_test_server_start ("smtp-server.py", "--mode", "plain", NULL);
  g_autoptr(MrSettings) settings = settings_with (dirs, server->port, NULL);
  g_autoptr(MrTemplate) template_ = write_template (dirs, FALSE);
  g_autofree char *list = g_build_filename (dirs->root, "list.csv", NULL);
  g_autoptr(MrMailshotJournal) journal = mr_mailshot_journal_open (NULL, NULL);
  g_autoptr(GString) rows = g_string_new ("email,name,city,date\n");
  g_autoptr(GError) error = NULL;
  SentLogProbe probe = { 0 };
  gint64 job;

  for (guint i = 0; i < 800; i++)
    g_string_append_printf (rows, "p%u@example.org,P%u,X,1\n", i, i);
  mr_test_write_file (list, rows->str);
  job = mr_mailshot_create (journal, settings, template_, list, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (mr_mailshot_run_sync (journal, settings, job, probe_sent_log, &probe, NULL, &error));
  g_assert_no_error (error);
  g_test_message ("%u mails in the sent log when 750 were done", probe.logged_at_750);
  g_assert_cmpuint (probe.logged_at_750, >=, 500);
  g_assert_cmpuint (probe.logged_at_750, <, 750);
  {
    g_autoptr(MrSentLog) log = mr_sent_log_open (NULL, NULL);
    MrSentQuery query = { NULL, NULL, 0, 0, -1, 0 };
    g_autoptr(GPtrArray) entries = mr_sent_log_search (log, &query, NULL);

    g_assert_cmpuint (entries->len, ==, 800);
  }
}

/* The template deleted after the job was written: the job pauses and says why, and run-due leaves it
 * alone instead of failing again every few minutes. */
static void
test_template_gone (MrTestDirs    *dirs,
                    gconstpointer  data)
{
  g_autoptr(MrTestServer) server = mr_test_server_start ("smtp-server.py", "--mode", "plain", NULL);
  g_autoptr(MrSettings) settings = settings_with (dirs, server->port, NULL);
  g_autoptr(MrTemplate) template_ = write_template (dirs, FALSE);
  g_autofree char *list = g_build_filename (dirs->root, "list.csv", NULL);
  g_autoptr(MrMailshotJournal) journal = mr_mailshot_journal_open (NULL, NULL);
  g_autoptr(MrMailshotStatus) status = NULL;
  g_autoptr(GError) error = NULL;
  gint64 job;

  mr_test_write_file (list, "email,name,city,date\na@example.org,A,X,1\n");
  job = mr_mailshot_create (journal, settings, template_, list, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_unlink (template_->path), ==, 0);
  g_assert_false (mr_mailshot_run_sync (journal, settings, job, NULL, NULL, NULL, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  status = mr_mailshot_get_status (journal, job, NULL);
  g_assert_cmpstr (status->state, ==, "paused");
  g_assert_nonnull (strstr (status->reason, "invite.json"));
  g_assert_cmpint (mr_mailshot_run_due_sync (journal, settings, NULL, NULL, NULL, &error), ==, 0);
  g_assert_cmpuint (mr_test_server_count_messages (server), ==, 0);
}

/* Against aiosmtpd: one recipient deferred (451) the first time and taken on the retry, one refused
 * (550) every time; the job accounts for each, and exits as the CLI table says (76: a permanent
 * failure is the worst). */
static void
test_retry_then_accept (MrTestDirs    *dirs,
                        gconstpointer  data)
{
  g_autoptr(MrTestServer) server = mr_test_server_start ("smtp-server.py", "--mode", "plain",
                                                         "--rcpt-temp-once", "later", "--rcpt-perm", "nobody", NULL);
  g_autoptr(MrSettings) settings = settings_with (dirs, server->port, NULL);
  g_autoptr(MrTemplate) template_ = write_template (dirs, FALSE);
  g_autofree char *list = g_build_filename (dirs->root, "list.csv", NULL);
  g_autofree char *journal_path = g_build_filename (dirs->data_home, "mailroom", "mailshots.db", NULL);
  g_autoptr(MrMailshotJournal) journal = mr_mailshot_journal_open (NULL, NULL);
  g_autoptr(MrMailshotStatus) status = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *number = NULL;
  gint64 job;

  mr_test_write_file (list, "email,name,city,date\nann@example.org,Ann,X,1\nlater@example.org,Lea,X,1\n"
                            "nobody@example.org,Nob,X,1\nbob@example.org,Bob,X,1\n");
  job = mr_mailshot_create (journal, settings, template_, list, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (mr_mailshot_run_sync (journal, settings, job, NULL, NULL, NULL, &error));
  status = mr_mailshot_get_status (journal, job, NULL);
  g_assert_cmpuint (status->accepted, ==, 2);
  g_assert_cmpuint (status->failed_temporary, ==, 1);
  g_assert_cmpuint (status->failed_permanent, ==, 1);
  g_assert_cmpstr (status->state, ==, "ready");
  number = g_strdup_printf ("%" G_GINT64_FORMAT, job);
  g_assert_cmpint (mr_test_run_cli (&out, &err, "mailshot", "status", number, NULL), ==, 76);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* Its retry is due: taken this time. */
  journal_sql (journal_path, "UPDATE recipients SET next_attempt = 0 WHERE state = 'failed-temporary'");
  g_assert_true (mr_mailshot_run_sync (journal, settings, job, NULL, NULL, NULL, &error));
  g_clear_pointer (&status, mr_mailshot_status_free);
  status = mr_mailshot_get_status (journal, job, NULL);
  g_assert_cmpuint (status->accepted, ==, 3);
  g_assert_cmpuint (status->failed_temporary, ==, 0);
  g_assert_cmpuint (status->failed_permanent, ==, 1);
  g_assert_cmpstr (status->state, ==, "done");
  g_assert_cmpuint (mr_test_server_count_messages (server), ==, 3);
  g_assert_cmpint (mr_test_run_cli (&out, &err, "mailshot", "status", number, NULL), ==, 76);
  g_assert_nonnull (strstr (out, "3 accepted"));
}

/* From the command line: a start time schedules the job (exit 75: not all sent yet) and installs the
 * timer; a bad date is a usage error. */
static void
test_cli_start_later (MrTestDirs    *dirs,
                      gconstpointer  data)
{
  g_autoptr(MrTestServer) server = mr_test_server_start ("smtp-server.py", "--mode", "plain", NULL);
  g_autoptr(MrSettings) settings = settings_with (dirs, server->port, NULL);
  g_autoptr(MrTemplate) template_ = write_template (dirs, FALSE);
  g_autofree char *list = g_build_filename (dirs->root, "list.csv", NULL);
  g_autofree char *fake = g_build_filename (dirs->root, "systemctl", NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  mr_test_write_file (fake, "#!/bin/sh\nexit 0\n");
  g_assert_cmpint (g_chmod (fake, 0755), ==, 0);
  mr_test_write_file (list, "email,name,city,date\na@example.org,A,X,1\n");
  g_assert_cmpint (mr_test_run_cli (&out, &err, "mailshot", "--template", template_->path, "--recipients", list,
                                    "--start", "not a date", NULL), ==, 64);
  g_assert_nonnull (strstr (err, "--start"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (mr_test_run_cli (&out, &err, "mailshot", "--template", template_->path, "--recipients", list,
                                    "--start", "2099-01-01 08:00", NULL), ==, 75);
  g_assert_nonnull (strstr (out, "scheduled"));
  g_assert_nonnull (strstr (out, "It starts at"));
  g_assert_cmpuint (mr_test_server_count_messages (server), ==, 0);
  /* Asked of the CLI: it reads this test's XDG_CONFIG_HOME (GLib keeps the first one it saw here). */
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (mr_test_run_cli (&out, &err, "mailshot", "timer", "status", NULL), ==, 0);
  g_assert_cmpstr (out, ==, "installed\n");
}

/* An Exchange-only company: the mailshot goes through EWS, over two connections, with the SMTP
 * settings giving only the sender; a refused login pauses it. */
static void
test_exchange_route (MrTestDirs    *dirs,
                     gconstpointer  data)
{
  g_autoptr(MrStandin) standin = NULL;
  g_autoptr(MrSettings) settings = mr_settings_new (NULL, NULL);
  g_autoptr(MrTemplate) template_ = write_template (dirs, FALSE);
  g_autofree char *list = g_build_filename (dirs->root, "list.csv", NULL);
  g_autofree char *url = NULL;
  g_autofree char *ca = mr_test_cert_path ("ca.pem");
  g_autofree char *company = NULL;
  g_autoptr(MrMailshotJournal) journal = mr_mailshot_journal_open (NULL, NULL);
  g_autoptr(MrMailshotStatus) status = NULL;
  g_autoptr(GString) rows = g_string_new ("email,name,city,date\n");
  g_autoptr(MrSecretAccount) account = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) sends = NULL;
  MrMailshotOptions options = MR_MAILSHOT_OPTIONS_INIT;
  gint64 job;

  if (!mr_test_require_keyring ())
    return;
  standin = mr_standin_start ();
  mr_standin_set_ews_auth (standin, "ntlm", "CORP\\bulk", "Bulk-Pw-1");
  url = mr_standin_url (standin, "/EWS/Exchange.asmx");
  company = g_strdup_printf ("{\"schema_version\": 1, \"settings\": {\"sender.from_address\": \"office@example.com\", "
                             "\"exchange.ews_url\": \"%s\", \"exchange.trust_file\": \"%s\", "
                             "\"exchange.username\": \"CORP\\\\bulk\", \"mailshot.connections\": 2}}", url, ca);
  mr_test_write_file (dirs->company_path, company);
  g_assert_true (mr_settings_load (settings, &error));
  account = mr_secret_account_new_for ("exchange", MR_SECRET_SCOPE_USER, "localhost", "CORP\\bulk", NULL);
  g_assert_true (mr_secrets_store_sync (account, "Bulk-Pw-1", NULL, &error));
  g_assert_no_error (error);

  for (guint i = 0; i < 12; i++)
    g_string_append_printf (rows, "p%u@example.org,P%u,Bonn,1 May\n", i, i);
  mr_test_write_file (list, rows->str);

  /* SMTP is not set up at all: by SMTP the job cannot be made. */
  g_assert_cmpint (mr_mailshot_create (journal, settings, template_, list, NULL, NULL, &error), ==, 0);
  g_assert_error (error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_INVALID_VALUE);
  g_clear_error (&error);

  options.route = "exchange";
  g_assert_cmpint (mr_mailshot_send_samples_sync (settings, template_, list, &options, "me@example.com", 1, NULL, &error),
                   ==, 1);
  g_assert_no_error (error);
  {
    g_autofree char *mime = mr_standin_dup_last_mime (standin);

    g_assert_nonnull (strstr (mime, "[Sample, row 2, for p0@example.org]"));
  }

  job = mr_mailshot_create (journal, settings, template_, list, &options, NULL, &error);
  g_assert_no_error (error);
  status = mr_mailshot_get_status (journal, job, &error);
  g_assert_cmpstr (status->route, ==, "exchange");
  /* An Exchange Server's limits are its admin's: no default pace. Exchange Online's are Office 365's. */
  g_assert_cmpuint (status->rate, ==, 0);
  {
    guint minute = 0, day = 0, connections = 0;

    mr_test_set_ok (settings, MR_SCOPE_COMPANY, "exchange.ews_url", "https://outlook.office365.com/EWS/Exchange.asmx");
    mr_mailshot_get_default_pace (settings, NULL, "exchange", &minute, &day, &connections);
    g_assert_cmpuint (minute, ==, 30);
    g_assert_cmpuint (day, ==, 10000);
    mr_mailshot_get_default_pace (settings, NULL, "smtp", &minute, &day, &connections);
    g_assert_cmpuint (minute, ==, 0);
    mr_test_set_ok (settings, MR_SCOPE_COMPANY, "exchange.ews_url", url);
  }
  g_assert_true (mr_mailshot_run_sync (journal, settings, job, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_clear_pointer (&status, mr_mailshot_status_free);
  status = mr_mailshot_get_status (journal, job, &error);
  g_assert_cmpuint (status->accepted, ==, 12);
  g_assert_cmpstr (status->state, ==, "done");
  /* One CreateItem a recipient (and the sample), each one to that recipient alone. */
  sends = mr_standin_get_requests (standin, "/EWS/Exchange.asmx");
  {
    guint creates = 0;

    for (guint i = 0; i < sends->len; i++)
      {
        MrStandinRequest *request = g_ptr_array_index (sends, i);
        g_autofree char *text = g_strndup (g_bytes_get_data (request->body, NULL), g_bytes_get_size (request->body));

        if (strstr (text, "CreateItem") != NULL && request->authorization != NULL &&
            g_str_has_prefix (request->authorization, "NTLM") && strstr (text, "<t:ToRecipients>") != NULL)
          creates++;
      }
    g_test_message ("%u EWS requests for 13 mails", sends->len);
    g_assert_cmpuint (creates, >=, 13);
  }
  {
    g_autoptr(MrSentLog) log = mr_sent_log_open (NULL, &error);
    MrSentQuery query = { NULL, NULL, 0, 0, -1, 0 };
    g_autoptr(GPtrArray) entries = mr_sent_log_search (log, &query, NULL);
    guint ews = 0;

    for (guint i = 0; i < entries->len; i++)
      if (g_str_has_prefix (((MrSentEntry *) g_ptr_array_index (entries, i))->route, "EWS at "))
        ews++;
    g_assert_cmpuint (ews, ==, 13);
  }
  if (mr_standin_validates (standin))
    g_assert_cmpuint (mr_standin_count_invalid (standin), ==, 0);

  /* The password changed on the server: the first refusal pauses the job, with the reason. */
  mr_standin_set_ews_auth (standin, "ntlm", "CORP\\bulk", "Changed-2");
  job = mr_mailshot_create (journal, settings, template_, list, &options, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (mr_mailshot_run_sync (journal, settings, job, NULL, NULL, NULL, &error));
  g_assert_error (error, MR_MAILSHOT_ERROR, MR_MAILSHOT_ERROR_PAUSED);
  g_clear_error (&error);
  g_clear_pointer (&status, mr_mailshot_status_free);
  status = mr_mailshot_get_status (journal, job, &error);
  g_assert_cmpstr (status->state, ==, "paused");
  g_assert_nonnull (strstr (status->reason, "CORP\\bulk"));
  g_assert_cmpuint (status->pending, ==, 12);
}

typedef struct {
  const char *path;
  gboolean    sent_log;
  GError     *error;
} Opener;

static gpointer
open_at_once (gpointer data)
{
  Opener *opener = data;

  if (opener->sent_log)
    {
      MrSentLog *log = mr_sent_log_open (opener->path, &opener->error);
      g_clear_object (&log);
    }
  else
    {
      MrMailshotJournal *journal = mr_mailshot_journal_open (opener->path, &opener->error);
      g_clear_pointer (&journal, mr_mailshot_journal_free);
    }
  return NULL;
}

/* A window watching and the CLI starting a job open a new journal (or sent log) at the same moment:
 * both get it, neither fails with "database is locked" nor creates the tables twice. */
static void
test_opened_twice_at_once (MrTestDirs    *dirs,
                           gconstpointer  data)
{
  for (guint round = 0; round < 40; round++)
    {
      g_autofree char *name = g_strdup_printf ("%s-%u.db", round % 2 ? "sent" : "journal", round);
      g_autofree char *path = g_build_filename (dirs->root, name, NULL);
      Opener openers[3] = { { path, round % 2 == 1, NULL }, { path, round % 2 == 1, NULL }, { path, round % 2 == 1, NULL } };
      GThread *threads[3];

      for (guint i = 0; i < 3; i++)
        threads[i] = g_thread_new ("opener", open_at_once, &openers[i]);
      for (guint i = 0; i < 3; i++)
        {
          g_thread_join (threads[i]);
          g_assert_no_error (openers[i].error);
        }
    }
}

int
main (int    argc,
      char **argv)
{
  mr_test_init (&argc, &argv);

#define ADD(path, func) g_test_add (path, MrTestDirs, NULL, mr_test_dirs_setup, func, mr_test_dirs_teardown)
  ADD ("/mailshot/proofreader-memory", test_proofreader_memory);
  ADD ("/mailshot/proofreader", test_proofreader);
  ADD ("/mailshot/strict", test_strict);
  ADD ("/mailshot/cli-check", test_cli);
  ADD ("/mailshot/job", test_job);
  ADD ("/mailshot/message-ids-and-rate", test_message_ids_and_rate);
  ADD ("/mailshot/cli-kill-and-resume", test_cli_kill_and_resume);
  ADD ("/mailshot/cli-refuses-errors", test_cli_refuses_errors);
  ADD ("/mailshot/cli-dry-run", test_cli_dry_run);
  ADD ("/mailshot/suppression", test_suppression);
  ADD ("/mailshot/throttled", test_throttled);
  ADD ("/mailshot/throttle-recovers", test_throttle_recovers);
  ADD ("/mailshot/unsubscribe", test_unsubscribe);
  ADD ("/mailshot/day-quota-and-run-due", test_day_quota_and_run_due);
  ADD ("/mailshot/connections", test_connections);
  ADD ("/mailshot/paused-puts-back", test_paused_puts_back);
  ADD ("/mailshot/cancelled-puts-back", test_cancelled_puts_back);
  ADD ("/mailshot/quota-over-connections", test_quota_over_connections);
  ADD ("/mailshot/attachments", test_attachments);
  ADD ("/mailshot/row-choices", test_row_choices);
  ADD ("/mailshot/preview-samples-report", test_preview_samples_report);
  ADD ("/mailshot/pace-defaults", test_pace_defaults);
  ADD ("/mailshot/queued-locally", test_queued_locally);
  ADD ("/mailshot/timer", test_timer);
  ADD ("/mailshot/timer-flatpak", test_timer_flatpak);
  ADD ("/mailshot/same-failures-pause", test_same_failures_pause);
  ADD ("/mailshot/sent-log-during-run", test_sent_log_during_run);
  ADD ("/mailshot/template-gone", test_template_gone);
  ADD ("/mailshot/retry-then-accept", test_retry_then_accept);
  ADD ("/mailshot/cli-start-later", test_cli_start_later);
  ADD ("/mailshot/exchange-route", test_exchange_route);
  ADD ("/mailshot/opened-twice-at-once", test_opened_twice_at_once);
#undef ADD

  return g_test_run ();
}
