/* mr-mailshot.c: mailshot jobs and their journal */

/* F_OFD_SETLK: the lease is an open file description lock. */
#define _GNU_SOURCE 1

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <sqlite3.h>
#include <unistd.h>

#include <string.h>

#include "mr-keys.h"
#include "mr-exchange.h"
#include "mr-mailshot.h"
#include "mr-sqlite.h"
#include "mr-outbox.h"
#include "mr-presets.h"
#include "mr-secrets.h"
#include "mr-smtp-error.h"

G_DEFINE_QUARK (mr-mailshot-error-quark, mr_mailshot_error)

/* A temporary failure is tried again after this many seconds. */
#define RETRY_SECONDS 300

/* This many mails in a row refused the same way (the same reply code): the cause is not the
 * recipients (a sender the server refuses, a server in trouble), so the job pauses rather than fail
 * the rest of the list. */
#define SAME_FAILURES_PAUSE 10

struct _MrMailshotJournal
{
  sqlite3 *db;
  char    *path;
};

/* ---- SQLite ----------------------------------------------------------------------------------- */

static gboolean
journal_failed (MrMailshotJournal  *self,
                const char         *what,
                GError            **error)
{
  g_set_error (error, MR_MAILSHOT_ERROR, MR_MAILSHOT_ERROR_JOURNAL, _("The mailshot journal %s failed (%s): %s"),
               self->path, what, sqlite3_errmsg (self->db));
  return FALSE;
}

static sqlite3_stmt *
prepare (MrMailshotJournal  *self,
         const char         *sql,
         GError            **error)
{
  sqlite3_stmt *statement = NULL;

  if (sqlite3_prepare_v2 (self->db, sql, -1, &statement, NULL) != SQLITE_OK)
    {
      journal_failed (self, "prepare", error);
      return NULL;
    }
  return statement;
}

static gboolean
exec (MrMailshotJournal  *self,
      const char         *sql,
      GError            **error)
{
  if (sqlite3_exec (self->db, sql, NULL, NULL, NULL) != SQLITE_OK)
    return journal_failed (self, sql, error);
  return TRUE;
}

static char *
column_text (sqlite3_stmt *statement,
             int           column)
{
  const unsigned char *text = sqlite3_column_text (statement, column);
  return text ? g_strdup ((const char *) text) : NULL;
}

static void
bind_text (sqlite3_stmt *statement,
           int           index,
           const char   *text)
{
  if (text != NULL)
    sqlite3_bind_text (statement, index, text, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null (statement, index);
}

/* One statement with integer and text parameters ("i" and "s" in @types), run to the end. */
static gboolean
run_statement (MrMailshotJournal  *self,
               const char         *sql,
               GError            **error,
               const char         *types,
               ...)
{
  sqlite3_stmt *statement = prepare (self, sql, error);
  va_list args;
  gboolean ok;

  if (statement == NULL)
    return FALSE;
  va_start (args, types);
  for (int i = 0; types[i] != '\0'; i++)
    {
      if (types[i] == 'i')
        sqlite3_bind_int64 (statement, i + 1, va_arg (args, gint64));
      else
        bind_text (statement, i + 1, va_arg (args, const char *));
    }
  va_end (args);
  ok = sqlite3_step (statement) == SQLITE_DONE;
  sqlite3_finalize (statement);
  return ok ? TRUE : journal_failed (self, "write", error);
}

/* The journal's schema; older journals are brought up to it when opened. */
#define JOURNAL_VERSION 3

static int
journal_version (MrMailshotJournal *self)
{
  sqlite3_stmt *statement = NULL;
  int version = 0;

  if (sqlite3_prepare_v2 (self->db, "PRAGMA user_version", -1, &statement, NULL) == SQLITE_OK &&
      sqlite3_step (statement) == SQLITE_ROW)
    version = sqlite3_column_int (statement, 0);
  sqlite3_finalize (statement);
  return version;
}

MrMailshotJournal *
mr_mailshot_journal_open (const char  *path,
                          GError     **error)
{
  MrMailshotJournal *self = g_new0 (MrMailshotJournal, 1);
  g_autofree char *dir = NULL;

  self->path = path ? g_strdup (path) : mr_get_user_data_path ("mailshots.db");
  dir = g_path_get_dirname (self->path);
  g_mkdir_with_parents (dir, 0700);
  if (sqlite3_open_v2 (self->path, &self->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL)
      != SQLITE_OK)
    {
      g_set_error (error, MR_MAILSHOT_ERROR, MR_MAILSHOT_ERROR_JOURNAL, _("The mailshot journal %s cannot be opened: %s"),
                   self->path, sqlite3_errmsg (self->db));
      mr_mailshot_journal_free (self);
      return NULL;
    }
  g_chmod (self->path, 0600);
  sqlite3_busy_timeout (self->db, 5000);
  if (!exec (self, "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;", error))
    {
      mr_mailshot_journal_free (self);
      return NULL;
    }
  /* Up to date: nothing to write (the window opens the journal every second to watch a job). */
  if (journal_version (self) == JOURNAL_VERSION)
    return self;
  /* Two processes may meet here with a new journal (a window watching, the CLI starting a job): WAL
   * waits for the other, and the schema is brought up to date in one transaction. */
  if (mr_sqlite_use_wal (self->db) != SQLITE_OK)
    {
      journal_failed (self, "PRAGMA journal_mode = WAL", error);
      mr_mailshot_journal_free (self);
      return NULL;
    }
  if (!exec (self, "BEGIN IMMEDIATE;", error) ||
      !exec (self,
             "CREATE TABLE IF NOT EXISTS jobs ("
             "  id INTEGER PRIMARY KEY, created INTEGER NOT NULL, template TEXT NOT NULL, template_name TEXT,"
             "  recipients TEXT NOT NULL, app TEXT, state TEXT NOT NULL, reason TEXT, rate INTEGER NOT NULL DEFAULT 0,"
             "  copy_sent INTEGER NOT NULL DEFAULT 0);"
             "CREATE TABLE IF NOT EXISTS recipients ("
             "  job INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE, row INTEGER NOT NULL,"
             "  address TEXT, data TEXT, message_id TEXT, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
             "  reply TEXT, next_attempt INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (job, row));"
             "CREATE INDEX IF NOT EXISTS recipients_todo ON recipients (job, state, row);", error))
    {
      sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
      mr_mailshot_journal_free (self);
      return NULL;
    }
  /* Columns added since the first journals; "duplicate column" means it is there already. */
  {
    static const char * const added[] = {
      "jobs ADD COLUMN per_day INTEGER NOT NULL DEFAULT 0",
      "jobs ADD COLUMN connections INTEGER NOT NULL DEFAULT 1",
      "jobs ADD COLUMN not_before INTEGER NOT NULL DEFAULT 0",
      "jobs ADD COLUMN attachment_column TEXT",
      "jobs ADD COLUMN name_column TEXT",
      "jobs ADD COLUMN attachments_dir TEXT",
      "jobs ADD COLUMN copy_each INTEGER NOT NULL DEFAULT 0",
      "jobs ADD COLUMN unsubscribe_url TEXT",
      "jobs ADD COLUMN unsubscribe_mailto TEXT",
      "recipients ADD COLUMN token TEXT",
      "recipients ADD COLUMN sent_at INTEGER NOT NULL DEFAULT 0",
      "recipients ADD COLUMN logged INTEGER NOT NULL DEFAULT 0",
      "recipients ADD COLUMN subject TEXT",
      "jobs ADD COLUMN route TEXT NOT NULL DEFAULT 'smtp'",
    };

    for (guint i = 0; i < G_N_ELEMENTS (added); i++)
      {
        g_autofree char *sql = g_strconcat ("ALTER TABLE ", added[i], NULL);
        char *message = NULL;

        if (sqlite3_exec (self->db, sql, NULL, NULL, &message) != SQLITE_OK &&
            !g_str_has_prefix (message ? message : "", "duplicate column"))
          {
            sqlite3_free (message);
            journal_failed (self, sql, error);
            sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
            mr_mailshot_journal_free (self);
            return NULL;
          }
        sqlite3_free (message);
      }
    if (!exec (self, "CREATE INDEX IF NOT EXISTS recipients_sent ON recipients (sent_at);"
                     "CREATE INDEX IF NOT EXISTS recipients_token ON recipients (token) WHERE token IS NOT NULL;", error))
      {
        sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
        mr_mailshot_journal_free (self);
        return NULL;
      }
  }
  if (!exec (self, "PRAGMA user_version = " G_STRINGIFY (JOURNAL_VERSION) "; COMMIT;", error))
    {
      sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
      mr_mailshot_journal_free (self);
      return NULL;
    }
  return self;
}

void
mr_mailshot_journal_free (MrMailshotJournal *self)
{
  if (self == NULL)
    return;
  sqlite3_close (self->db);
  g_free (self->path);
  g_free (self);
}

/* ---- Pace ------------------------------------------------------------------------------------- */

char *
mr_mailshot_route_provider (MrSettings  *settings,
                            const char  *app,
                            const char  *route,
                            char       **host)
{
  g_autofree char *resolved = mr_mailshot_resolve_route (settings, app, route);
  g_autofree char *transport = NULL;
  g_autofree char *ews_url = NULL;
  g_autoptr(GUri) uri = NULL;

  if (!g_str_equal (resolved, "exchange"))
    {
      if (host != NULL)
        *host = mr_settings_dup_effective_string (settings, app, "smtp.host");
      return mr_settings_dup_effective_string (settings, app, "smtp.provider");
    }
  /* Through Exchange the mailbox's server sends: Exchange Online's is Office 365 (Graph, or EWS at
   * outlook.office365.com); an Exchange Server is its admin's own. */
  transport = mr_settings_dup_effective_string (settings, app, "exchange.transport");
  ews_url = mr_settings_dup_effective_string (settings, app, "exchange.ews_url");
  if (g_str_equal (transport, "graph") || strstr (ews_url, "outlook.office365.com") != NULL)
    {
      if (host != NULL)
        *host = NULL;
      return g_strdup ("office365");
    }
  uri = *ews_url != '\0' ? g_uri_parse (ews_url, G_URI_FLAGS_NONE, NULL) : NULL;
  if (host != NULL)
    *host = g_strdup (uri != NULL ? g_uri_get_host (uri) : NULL);
  return g_strdup ("other");
}

/* The preset whose limits a job of @app through @route meets, and the account it sends as. */
static const MrPreset *
pace_preset (MrSettings  *settings,
             const char  *app,
             const char  *route,
             char       **account)
{
  g_autofree char *provider = mr_mailshot_route_provider (settings, app, route, NULL);

  *account = mr_settings_dup_effective_string (settings, app, "smtp.username");
  if (*account == NULL || **account == '\0')
    {
      g_free (*account);
      *account = mr_settings_dup_effective_string (settings, app, "sender.from_address");
    }
  return mr_preset_lookup (provider);
}

void
mr_mailshot_get_default_pace (MrSettings *settings,
                              const char *app,
                              const char *route,
                              guint      *per_minute,
                              guint      *per_day,
                              guint      *connections)
{
  g_autofree char *account = NULL;
  const MrPreset *preset = pace_preset (settings, app, route, &account);
  gint64 minute = mr_settings_get_effective_int (settings, app, "mailshot.per_minute");
  gint64 day = mr_settings_get_effective_int (settings, app, "mailshot.per_day");
  gint64 connect = mr_settings_get_effective_int (settings, app, "mailshot.connections");

  mr_preset_get_mailshot_pace (preset, account, per_minute, per_day, connections);
  if (minute >= 0)
    *per_minute = (guint) minute;
  if (day >= 0)
    *per_day = (guint) day;
  if (connect > 0)
    *connections = (guint) connect;
}

guint
mr_mailshot_get_provider_daily_limit (MrSettings  *settings,
                                      const char  *app,
                                      const char  *route,
                                      char       **provider_name)
{
  g_autofree char *account = NULL;
  const MrPreset *preset = pace_preset (settings, app, route, &account);
  guint per_minute, per_day, connections;

  mr_preset_get_mailshot_pace (preset, account, &per_minute, &per_day, &connections);
  if (provider_name != NULL)
    *provider_name = preset != NULL && per_day > 0 ? g_strdup (mr_preset_get_name (preset)) : NULL;
  return per_day;
}

gint64
mr_mailshot_estimate_seconds (guint count,
                              guint per_minute,
                              guint per_day,
                              guint connections)
{
  guint last_day = count;
  gint64 seconds = 0;

  if (per_day > 0 && count > per_day)
    {
      seconds = (gint64) ((count - 1) / per_day) * 24 * 60 * 60;
      last_day = count - (count - 1) / per_day * per_day;
    }
  /* Without a pace, a conservative 10 mails a second a connection. */
  if (per_minute > 0)
    seconds += (gint64) last_day * 60 / per_minute;
  else
    seconds += last_day / (10 * MAX (connections, 1));
  return seconds;
}

/* ---- Creating a job --------------------------------------------------------------------------- */

typedef struct {
  MrMailshotJournal *journal;
  sqlite3_stmt      *insert;
  gint64             job;
  const char        *from_address;
  const char * const *columns;
  gboolean           tokens;
  gboolean           failed;
} CreateJob;

static char *
row_data (const char * const *columns,
          const char * const *fields)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (builder);
  for (guint i = 0; columns[i] != NULL; i++)
    {
      json_builder_set_member_name (builder, columns[i]);
      json_builder_add_string_value (builder, fields[i]);
    }
  /* A column with spaces is also known by its merge field's name, unless a column has that name. */
  for (guint i = 0; columns[i] != NULL; i++)
    {
      g_autofree char *field = mr_recipients_field_name (columns[i]);

      if (!g_str_equal (field, columns[i]) && !g_strv_contains (columns, field))
        {
          json_builder_set_member_name (builder, field);
          json_builder_add_string_value (builder, fields[i]);
        }
    }
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  return json_to_string (root, FALSE);
}

/* 128 random bits in lower-case hex: URL-safe, survives the suppression list's lower-casing, and
 * says nothing about the address it stands for. */
static char *
new_token (void)
{
  GString *token = g_string_sized_new (32);

  for (guint i = 0; i < 4; i++)
    g_string_append_printf (token, "%08x", g_random_int ());
  return g_string_free (token, FALSE);
}

static void
insert_row (guint               row,
            const char         *address,
            const char * const *fields,
            const char         *problem,
            gpointer            user_data)
{
  CreateJob *create = user_data;
  g_autofree char *data = NULL;
  g_autofree char *message_id = NULL;
  g_autofree char *token = NULL;

  if (create->failed)
    return;
  if (fields != NULL)
    data = row_data (create->columns, fields);
  if (problem == NULL)
    {
      message_id = mr_message_id_new (create->from_address);
      token = create->tokens ? new_token () : NULL;
    }
  sqlite3_reset (create->insert);
  sqlite3_bind_int64 (create->insert, 1, create->job);
  sqlite3_bind_int64 (create->insert, 2, row);
  bind_text (create->insert, 3, address);
  bind_text (create->insert, 4, data);
  bind_text (create->insert, 5, message_id);
  bind_text (create->insert, 6, problem ? "skipped" : "pending");
  bind_text (create->insert, 7, problem);
  bind_text (create->insert, 8, token);
  if (sqlite3_step (create->insert) != SQLITE_DONE)
    create->failed = TRUE;
}

static const MrMailshotOptions default_options = MR_MAILSHOT_OPTIONS_INIT;

char *
mr_mailshot_resolve_route (MrSettings *settings,
                           const char *app,
                           const char *route)
{
  if (g_strcmp0 (route, "smtp") == 0 || g_strcmp0 (route, "exchange") == 0)
    return g_strdup (route);
  /* "auto": the preferred transport, when it is set up. */
  {
    g_autofree char *preferred = mr_settings_dup_effective_string (settings, app, "exchange.preferred");

    if (g_str_equal (preferred, "exchange") && mr_exchange_is_set_up (settings, app, NULL))
      return g_strdup ("exchange");
    return g_strdup ("smtp");
  }
}

gint64
mr_mailshot_create (MrMailshotJournal        *self,
                    MrSettings               *settings,
                    MrTemplate               *template_,
                    const char               *recipients,
                    const MrMailshotOptions  *options,
                    MrProofReport           **report_out,
                    GError                  **error)
{
  g_autoptr(MrRecipientReader) reader = NULL;
  g_autoptr(MrProofReport) report = NULL;
  g_autoptr(MrDelivery) delivery = NULL;
  g_autoptr(MrOutgoing) sender = mr_outgoing_new ();
  g_autofree char *absolute = NULL;
  g_autofree char *attachments_dir = NULL;
  g_autofree char *unsubscribe_url = NULL;
  g_autofree char *unsubscribe_mailto = NULL;
  CreateJob create = { self, NULL, 0, NULL, NULL, FALSE, FALSE };
  guint per_minute, per_day, connections;
  const char *app;
  g_autofree char *route = NULL;

  if (options == NULL)
    options = &default_options;
  app = options->app;
  reader = mr_recipient_reader_open_sheet (recipients, options->proof.sheet, error);
  if (reader == NULL)
    return 0;
  route = mr_mailshot_resolve_route (settings, app, options->route);
  /* The settings must be able to send, and the Message-IDs are in the sender's domain. */
  if (g_str_equal (route, "exchange"))
    {
      g_autoptr(MrExchange) exchange = mr_exchange_new (settings, app, error);

      if (exchange == NULL)
        return 0;
      delivery = mr_delivery_new_sender_only (settings, app, error);
    }
  else
    delivery = mr_delivery_new (settings, app, error);
  if (delivery == NULL)
    return 0;
  mr_delivery_fill_sender (delivery, sender);
  create.from_address = template_->from_address ? template_->from_address : sender->from_address;
  create.columns = mr_recipient_reader_get_columns (reader);
  absolute = g_canonicalize_filename (recipients, NULL);
  if (options->proof.attachments_dir != NULL)
    attachments_dir = g_canonicalize_filename (options->proof.attachments_dir, NULL);

  /* The job keeps the settings it was made with. */
  mr_mailshot_get_default_pace (settings, app, route, &per_minute, &per_day, &connections);
  if (options->per_minute >= 0)
    per_minute = (guint) options->per_minute;
  if (options->per_day >= 0)
    per_day = (guint) options->per_day;
  if (options->connections > 0)
    connections = (guint) options->connections;
  unsubscribe_url = mr_settings_dup_effective_string (settings, app, "mailshot.unsubscribe_url");
  unsubscribe_mailto = mr_settings_dup_effective_string (settings, app, "mailshot.unsubscribe_mailto");
  create.tokens = *unsubscribe_url != '\0' || *unsubscribe_mailto != '\0';

  if (!exec (self, "BEGIN IMMEDIATE", error))
    return 0;
  if (!run_statement (self, "INSERT INTO jobs (created, template, template_name, recipients, app, state, rate, per_day, "
                            "connections, not_before, attachment_column, attachments_dir, copy_each, unsubscribe_url, "
                            "unsubscribe_mailto, name_column, route) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      error, "isssssiiiississss",
                      g_get_real_time () / G_USEC_PER_SEC, template_->path, template_->name, absolute, app,
                      options->start_at > 0 ? "scheduled" : "ready", (gint64) per_minute, (gint64) per_day,
                      (gint64) connections, options->start_at, options->proof.attachment_column, attachments_dir,
                      (gint64) mr_settings_get_effective_boolean (settings, app, "mailshot.copy_each"),
                      *unsubscribe_url ? unsubscribe_url : NULL, *unsubscribe_mailto ? unsubscribe_mailto : NULL,
                      options->proof.name_column, route))
    goto rollback;
  create.job = sqlite3_last_insert_rowid (self->db);
  create.insert = prepare (self, "INSERT INTO recipients (job, row, address, data, message_id, state, reply, token) "
                                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", error);
  if (create.insert == NULL)
    goto rollback;
  report = mr_proofread_full (template_, recipients, &options->proof, insert_row, &create, error);
  sqlite3_finalize (create.insert);
  if (report == NULL)
    goto rollback;
  if (create.failed)
    {
      journal_failed (self, "add recipients", error);
      goto rollback;
    }
  /* One pass over the list decides and writes: refused, it is as if nothing had been read. */
  if (options->refuse_errors && report->rows_with_errors > 0)
    {
      g_set_error (error, MR_MAILSHOT_ERROR, MR_MAILSHOT_ERROR_ROWS,
                   g_dngettext (GETTEXT_PACKAGE, "%u row has errors: nothing was written or sent",
                                "%u rows have errors: nothing was written or sent", report->rows_with_errors),
                   report->rows_with_errors);
      if (report_out != NULL)
        *report_out = g_steal_pointer (&report);
      goto rollback;
    }
  if (report->sendable == 0)
    {
      g_set_error_literal (error, MR_MAILSHOT_ERROR, MR_MAILSHOT_ERROR_NOTHING,
                           _("No row of the list can be sent to: see the proof-reader's report"));
      goto rollback;
    }
  if (!exec (self, "COMMIT", error))
    goto rollback;
  if (report_out != NULL)
    *report_out = g_steal_pointer (&report);
  return create.job;

rollback:
  sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
  return 0;
}

/* ---- Status ----------------------------------------------------------------------------------- */

void
mr_mailshot_status_free (MrMailshotStatus *status)
{
  if (status == NULL)
    return;
  g_free (status->route);
  g_free (status->template_path);
  g_free (status->template_name);
  g_free (status->recipients_path);
  g_free (status->app);
  g_free (status->state);
  g_free (status->reason);
  g_free (status);
}

void
mr_mailshot_recipient_free (MrMailshotRecipient *recipient)
{
  g_free (recipient->address);
  g_free (recipient->state);
  g_free (recipient->reply);
  g_free (recipient->message_id);
  g_free (recipient);
}

#define STATUS_SQL \
  "SELECT id, template, template_name, recipients, app, state, reason, rate, " \
  "(SELECT COUNT (*) FROM recipients WHERE job = jobs.id), " \
  "(SELECT COUNT (*) FROM recipients WHERE job = jobs.id AND state IN ('pending', 'sending')), " \
  "(SELECT COUNT (*) FROM recipients WHERE job = jobs.id AND state = 'accepted'), " \
  "(SELECT COUNT (*) FROM recipients WHERE job = jobs.id AND state = 'failed-temporary'), " \
  "(SELECT COUNT (*) FROM recipients WHERE job = jobs.id AND state = 'failed-permanent'), " \
  "(SELECT COUNT (*) FROM recipients WHERE job = jobs.id AND state = 'skipped'), " \
  "(SELECT COUNT (*) FROM recipients WHERE job = jobs.id AND state = 'queued-locally'), " \
  "created, not_before, per_day, connections, route FROM jobs "

static gboolean lease_is_held (MrMailshotJournal *self, gint64 job);

static MrMailshotStatus *
read_status (MrMailshotJournal *self,
             sqlite3_stmt      *statement)
{
  MrMailshotStatus *status = g_new0 (MrMailshotStatus, 1);

  status->id = sqlite3_column_int64 (statement, 0);
  status->template_path = column_text (statement, 1);
  status->template_name = column_text (statement, 2);
  status->recipients_path = column_text (statement, 3);
  status->app = column_text (statement, 4);
  status->state = column_text (statement, 5);
  status->reason = column_text (statement, 6);
  status->rate = sqlite3_column_int (statement, 7);
  status->total = sqlite3_column_int (statement, 8);
  status->pending = sqlite3_column_int (statement, 9);
  status->accepted = sqlite3_column_int (statement, 10);
  status->failed_temporary = sqlite3_column_int (statement, 11);
  status->failed_permanent = sqlite3_column_int (statement, 12);
  status->skipped = sqlite3_column_int (statement, 13);
  status->queued_locally = sqlite3_column_int (statement, 14);
  status->created = sqlite3_column_int64 (statement, 15);
  status->not_before = sqlite3_column_int64 (statement, 16);
  status->per_day = sqlite3_column_int (statement, 17);
  status->connections = sqlite3_column_int (statement, 18);
  status->route = column_text (statement, 19);
  status->running = g_str_equal (status->state, "running") && lease_is_held (self, status->id);
  return status;
}

MrMailshotStatus *
mr_mailshot_get_status (MrMailshotJournal  *self,
                        gint64              job,
                        GError            **error)
{
  sqlite3_stmt *statement = prepare (self, STATUS_SQL "WHERE id = ?", error);
  MrMailshotStatus *status = NULL;

  if (statement == NULL)
    return NULL;
  sqlite3_bind_int64 (statement, 1, job);
  if (sqlite3_step (statement) == SQLITE_ROW)
    status = read_status (self, statement);
  else
    {
      g_autofree char *number = g_strdup_printf ("%" G_GINT64_FORMAT, job);
      g_set_error (error, MR_MAILSHOT_ERROR, MR_MAILSHOT_ERROR_NOT_FOUND, _("There is no mailshot %s"), number);
    }
  sqlite3_finalize (statement);
  return status;
}

GPtrArray *
mr_mailshot_list (MrMailshotJournal  *self,
                  GError            **error)
{
  sqlite3_stmt *statement = prepare (self, STATUS_SQL "ORDER BY id DESC", error);
  GPtrArray *jobs;

  if (statement == NULL)
    return NULL;
  jobs = g_ptr_array_new_with_free_func ((GDestroyNotify) mr_mailshot_status_free);
  while (sqlite3_step (statement) == SQLITE_ROW)
    g_ptr_array_add (jobs, read_status (self, statement));
  sqlite3_finalize (statement);
  return jobs;
}

GPtrArray *
mr_mailshot_get_recipients (MrMailshotJournal  *self,
                            gint64              job,
                            GError            **error)
{
  sqlite3_stmt *statement = prepare (self, "SELECT row, address, state, reply, message_id, attempts FROM recipients "
                                           "WHERE job = ? ORDER BY row", error);
  GPtrArray *recipients;

  if (statement == NULL)
    return NULL;
  sqlite3_bind_int64 (statement, 1, job);
  recipients = g_ptr_array_new_with_free_func ((GDestroyNotify) mr_mailshot_recipient_free);
  while (sqlite3_step (statement) == SQLITE_ROW)
    {
      MrMailshotRecipient *recipient = g_new0 (MrMailshotRecipient, 1);

      recipient->row = sqlite3_column_int (statement, 0);
      recipient->address = column_text (statement, 1);
      recipient->state = column_text (statement, 2);
      recipient->reply = column_text (statement, 3);
      recipient->message_id = column_text (statement, 4);
      recipient->attempts = sqlite3_column_int (statement, 5);
      g_ptr_array_add (recipients, recipient);
    }
  sqlite3_finalize (statement);
  return recipients;
}

gboolean
mr_mailshot_set_state (MrMailshotJournal  *self,
                       gint64              job,
                       const char         *state,
                       GError            **error)
{
  g_autoptr(MrMailshotStatus) status = mr_mailshot_get_status (self, job, error);

  if (status == NULL)
    return FALSE;
  return run_statement (self, "UPDATE jobs SET state = ?, reason = NULL WHERE id = ?", error, "si", state, job);
}

static void
append_csv_field (GString    *out,
                  const char *text)
{
  if (text == NULL)
    text = "";
  if (strpbrk (text, ",\"\r\n") == NULL)
    {
      g_string_append (out, text);
      return;
    }
  g_string_append_c (out, '"');
  for (const char *p = text; *p; p++)
    {
      if (*p == '"')
        g_string_append_c (out, '"');
      g_string_append_c (out, *p);
    }
  g_string_append_c (out, '"');
}

gboolean
mr_mailshot_export_csv (MrMailshotJournal  *self,
                        gint64              job,
                        const char         *path,
                        GError            **error)
{
  g_autoptr(GPtrArray) recipients = NULL;
  g_autoptr(MrMailshotStatus) status = mr_mailshot_get_status (self, job, error);
  g_autoptr(GString) out = g_string_new ("row,address,state,attempts,reply,message_id\r\n");

  if (status == NULL || (recipients = mr_mailshot_get_recipients (self, job, error)) == NULL)
    return FALSE;
  for (guint i = 0; i < recipients->len; i++)
    {
      MrMailshotRecipient *recipient = g_ptr_array_index (recipients, i);

      g_string_append_printf (out, "%u,", recipient->row);
      append_csv_field (out, recipient->address);
      g_string_append_c (out, ',');
      append_csv_field (out, recipient->state);
      g_string_append_printf (out, ",%u,", recipient->attempts);
      append_csv_field (out, recipient->reply);
      g_string_append_c (out, ',');
      append_csv_field (out, recipient->message_id);
      g_string_append (out, "\r\n");
    }
  return g_file_set_contents_full (path, out->str, out->len, G_FILE_SET_CONTENTS_CONSISTENT, 0644, error);
}

char *
mr_mailshot_lookup_token (MrMailshotJournal *self,
                          const char        *token)
{
  sqlite3_stmt *statement = prepare (self, "SELECT address FROM recipients WHERE token = ? LIMIT 1", NULL);
  char *address = NULL;

  if (statement == NULL)
    return NULL;
  bind_text (statement, 1, token);
  if (sqlite3_step (statement) == SQLITE_ROW)
    address = column_text (statement, 0);
  sqlite3_finalize (statement);
  return address;
}

/* ---- Running ---------------------------------------------------------------------------------- */

/* What the job was made with. */
typedef struct {
  char     *name_column;
  char     *attachment_column;
  char     *attachments_dir;
  char     *unsubscribe_url;
  char     *unsubscribe_mailto;
  gboolean  copy_each;
  gboolean  copy_sent;
  guint64   size_limit;   /* the server's SIZE as last announced, for rendering; 0: not known */
} JobConfig;

static void
job_config_clear (JobConfig *config)
{
  g_clear_pointer (&config->name_column, g_free);
  g_clear_pointer (&config->attachment_column, g_free);
  g_clear_pointer (&config->attachments_dir, g_free);
  g_clear_pointer (&config->unsubscribe_url, g_free);
  g_clear_pointer (&config->unsubscribe_mailto, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (JobConfig, job_config_clear)

static gboolean
read_job_config (MrMailshotJournal  *self,
                 gint64              job,
                 JobConfig          *config,
                 GError            **error)
{
  sqlite3_stmt *statement = prepare (self, "SELECT attachment_column, attachments_dir, unsubscribe_url, "
                                           "unsubscribe_mailto, copy_each, copy_sent, name_column FROM jobs WHERE id = ?",
                                     error);
  gboolean found;

  if (statement == NULL)
    return FALSE;
  sqlite3_bind_int64 (statement, 1, job);
  found = sqlite3_step (statement) == SQLITE_ROW;
  if (found)
    {
      config->attachment_column = column_text (statement, 0);
      config->attachments_dir = column_text (statement, 1);
      config->unsubscribe_url = column_text (statement, 2);
      config->unsubscribe_mailto = column_text (statement, 3);
      config->copy_each = sqlite3_column_int (statement, 4) != 0;
      config->copy_sent = sqlite3_column_int (statement, 5) != 0;
      config->name_column = column_text (statement, 6);
    }
  else
    journal_failed (self, "read", error);
  sqlite3_finalize (statement);
  return found;
}

/* The job's state alone: read before every mail, so it must not count the recipients. */
static char *
job_state (MrMailshotJournal  *self,
           gint64              job,
           GError            **error)
{
  sqlite3_stmt *statement = prepare (self, "SELECT state FROM jobs WHERE id = ?", error);
  char *state = NULL;

  if (statement == NULL)
    return NULL;
  sqlite3_bind_int64 (statement, 1, job);
  if (sqlite3_step (statement) == SQLITE_ROW)
    state = column_text (statement, 0);
  else
    journal_failed (self, "read", error);
  sqlite3_finalize (statement);
  return state;
}

static char *
lease_path (MrMailshotJournal *self,
            gint64             job)
{
  return g_strdup_printf ("%s.job-%" G_GINT64_FORMAT ".lock", self->path, job);
}

/* The lease: an exclusive lock (an open file description lock) on a file beside the journal,
 * released when the process ends, however it ends. */
static int
take_lease (MrMailshotJournal  *self,
            gint64              job,
            GError            **error)
{
  g_autofree char *path = lease_path (self, job);
  int fd = g_open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  struct flock whole_file_write = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

  if (fd < 0)
    {
      int saved_errno = errno;
      g_set_error (error, MR_MAILSHOT_ERROR, MR_MAILSHOT_ERROR_JOURNAL, _("Cannot create %s: %s"), path,
                   g_strerror (saved_errno));
      return -1;
    }
  if (fcntl (fd, F_OFD_SETLK, &whole_file_write) != 0)
    {
      g_autofree char *number = g_strdup_printf ("%" G_GINT64_FORMAT, job);
      close (fd);
      g_set_error (error, MR_MAILSHOT_ERROR, MR_MAILSHOT_ERROR_BUSY,
                   _("Mailshot %s is being sent by another Mailroom; watch it with “mailroom-cli mailshot status”"), number);
      return -1;
    }
  return fd;
}

/* Whether some process (this one too) holds the job's lease; a "running" job without one was cut off. */
static gboolean
lease_is_held (MrMailshotJournal *self,
               gint64             job)
{
  g_autofree char *path = lease_path (self, job);
  int fd = g_open (path, O_RDWR | O_CLOEXEC, 0);
  struct flock probe = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
  gboolean held;

  if (fd < 0)
    return FALSE;
  /* Asks without taking it: a lock taken here, even for an instant, could turn a runner away. */
  held = fcntl (fd, F_OFD_GETLK, &probe) == 0 && probe.l_type != F_UNLCK;
  close (fd);
  return held;
}

/* Waits until @until (monotonic µs), or until cancelled. */
static gboolean
pace (gint64        until,
      GCancellable *cancellable)
{
  while (g_get_monotonic_time () < until)
    {
      if (g_cancellable_is_cancelled (cancellable))
        return FALSE;
      g_usleep (MIN (until - g_get_monotonic_time (), 50000));
    }
  return !g_cancellable_is_cancelled (cancellable);
}

/* What a failure means for the job: the recipient failed for now, for good, or the job cannot go
 * on (the login, TLS, the keyring: every recipient would fail the same way). */
typedef enum { FAILURE_TEMPORARY, FAILURE_PERMANENT, FAILURE_STOPS_JOB } FailureScope;

static FailureScope
failure_scope (const GError *error)
{
  if (error->domain == MR_SMTP_ERROR)
    switch (error->code)
      {
      case MR_SMTP_ERROR_TEMPORARY:
      case MR_SMTP_ERROR_TIMEOUT:
      case MR_SMTP_ERROR_CONNECTION_LOST:
        return FAILURE_TEMPORARY;
      case MR_SMTP_ERROR_REJECTED:
      case MR_SMTP_ERROR_TOO_BIG:
      case MR_SMTP_ERROR_INVALID_MESSAGE:
        return FAILURE_PERMANENT;
      default:
        return FAILURE_STOPS_JOB;
      }
  if (error->domain == MR_EXCHANGE_ERROR)
    switch (error->code)
      {
      case MR_EXCHANGE_ERROR_BUSY:
        return FAILURE_TEMPORARY;
      case MR_EXCHANGE_ERROR_RECIPIENT_REFUSED:
      case MR_EXCHANGE_ERROR_TOO_BIG:
      case MR_EXCHANGE_ERROR_REJECTED:
        return FAILURE_PERMANENT;
      default:
        /* Login, sign-in, unreachable, Send As denied: no mail of the job would go. */
        return FAILURE_STOPS_JOB;
      }
  /* A header that would break, an attachment gone from its folder, a row whose values make the
   * mail too big: this row's data. */
  if (error->domain == MR_SETTINGS_ERROR || error->domain == G_FILE_ERROR ||
      g_error_matches (error, MR_TEMPLATE_ERROR, MR_TEMPLATE_ERROR_TOO_BIG))
    return FAILURE_PERMANENT;
  return FAILURE_STOPS_JOB;
}

typedef struct {
  guint     row;
  char     *address;
  char     *data;
  char     *message_id;
  char     *token;
  gboolean  retry;          /* it was failed-temporary */
  gint64    last_sent_at;   /* before this claim; 0: never */
} Todo;

static void
todo_clear (Todo *todo)
{
  g_clear_pointer (&todo->address, g_free);
  g_clear_pointer (&todo->data, g_free);
  g_clear_pointer (&todo->message_id, g_free);
  g_clear_pointer (&todo->token, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Todo, todo_clear)

/* "<https://…?token=T>, <mailto:…?subject=unsubscribe%20T>" (RFC 2369), the URL first. */
static char *
list_unsubscribe (const JobConfig *config,
                  const char      *token)
{
  g_autoptr(GString) value = g_string_new (NULL);

  if (config->unsubscribe_url != NULL)
    {
      g_autoptr(GString) url = g_string_new (config->unsubscribe_url);

      if (g_string_replace (url, "{token}", token, 0) == 0)
        g_string_append_printf (url, "%stoken=%s", strchr (url->str, '?') ? "&" : "?", token);
      g_string_append_printf (value, "<%s>", url->str);
    }
  if (config->unsubscribe_mailto != NULL)
    g_string_append_printf (value, "%s<mailto:%s?subject=unsubscribe%%20%s>", value->len ? ", " : "",
                            config->unsubscribe_mailto, token);
  return g_string_free (g_steal_pointer (&value), FALSE);
}

/* What a mailshot adds to a row's mail: its own attachment, found again inside the folder, and its
 * unsubscribe headers. Errors: those of mr_proof_resolve_attachment(). */
static gboolean
add_row_extras (const JobConfig  *config,
                const Todo       *todo,
                JsonNode         *data,
                MrOutgoing       *outgoing,
                GError          **error)
{
  if (config->name_column != NULL)
    {
      const char *name = json_object_get_string_member_with_default (json_node_get_object (data), config->name_column, "");
      outgoing->to_name = *name ? g_strdup (name) : NULL;
    }
  if (config->attachment_column != NULL)
    {
      JsonObject *row = json_node_get_object (data);
      const char *name = json_object_get_string_member_with_default (row, config->attachment_column, "");

      if (*name != '\0')
        {
          g_autofree char *path = mr_proof_resolve_attachment (config->attachments_dir, name, error);

          if (path == NULL)
            return FALSE;
          mr_outgoing_add_attachment (outgoing, path, NULL, NULL);
        }
    }
  if (todo->token != NULL && (config->unsubscribe_url != NULL || config->unsubscribe_mailto != NULL))
    {
      outgoing->list_unsubscribe = list_unsubscribe (config, todo->token);
      outgoing->list_unsubscribe_post = config->unsubscribe_url != NULL;
    }
  return TRUE;
}

/* A row's mail as the job sends it, not yet built: rendered, addressed, with its own attachment and
 * unsubscribe headers. */
static MrOutgoing *
row_outgoing (JsonParser       *parser,
              MrTemplate       *template_,
              MrDelivery       *delivery,
              const JobConfig  *config,
              Todo             *todo,
              MrRendered      **rendered_out,
              GError          **error)
{
  /* A worker parses every row with one parser: making one each time cost as much as the parse. */
  g_autoptr(JsonNode) data = parser == NULL ? json_from_string (todo->data, error)
                             : json_parser_load_from_data (parser, todo->data, -1, error) ? json_parser_steal_root (parser)
                             : NULL;
  g_autoptr(MrRendered) rendered = NULL;
  g_autoptr(MrOutgoing) outgoing = mr_outgoing_new ();

  if (data == NULL)
    return NULL;
  /* The sender first: {{sender.name}} is theirs (the template's own From, set below, comes first). */
  mr_delivery_fill_sender (delivery, outgoing);
  rendered = mr_template_render_as (template_, data, outgoing, config->size_limit, error);
  if (rendered == NULL)
    return NULL;
  g_ptr_array_add (outgoing->to, g_strdup (todo->address));
  if (!mr_template_fill_outgoing (template_, rendered, outgoing, error))
    return NULL;
  /* One mail per recipient; the company's copy address gets one copy of the job, unless the admin
   * chose one of each (mailshot.copy_each). */
  if (!config->copy_each)
    g_ptr_array_set_size (outgoing->copy_to, 0);
  outgoing->message_id = g_strdup (todo->message_id);
  if (!add_row_extras (config, todo, data, outgoing, error))
    return NULL;
  if (rendered_out != NULL)
    *rendered_out = g_steal_pointer (&rendered);
  return g_steal_pointer (&outgoing);
}

/* @builder and @parser: a worker's own, or NULL for one message alone. */
static GBytes *
build_message (MrMessageBuilder *builder,
               JsonParser       *parser,
               MrTemplate       *template_,
               MrDelivery       *delivery,
               const JobConfig  *config,
               Todo             *todo,
               MrSmtpEnvelope  **envelope,
               MrRendered      **rendered_out,
               GError          **error)
{
  g_autoptr(MrRendered) rendered = NULL;
  g_autoptr(MrOutgoing) outgoing = row_outgoing (parser, template_, delivery, config, todo, &rendered, error);
  GBytes *message;

  if (outgoing == NULL)
    return NULL;
  *envelope = mr_outgoing_get_envelope (outgoing);
  message = builder ? mr_message_builder_build (builder, outgoing, NULL, error) : mr_outgoing_build (outgoing, NULL, error);
  if (message != NULL && rendered_out != NULL)
    *rendered_out = g_steal_pointer (&rendered);
  return message;
}

/* A recipient's outcome, written in the same transaction as the claim of the next one. */
typedef struct {
  gboolean    set;
  guint       row;
  const char *state;
  char       *reply;
  char       *subject;       /* as rendered, kept for the sent log; NULL: not built */
  gint64      next_attempt;
} Outcome;

/* What the workers of one run share; everything below @lock is guarded by it. */
typedef struct {
  MrMailshotJournal      *journal;
  gint64                  job;
  MrTemplate             *template_;
  MrDelivery             *delivery;
  JobConfig              *config;
  GCancellable           *cancellable;
  MrMailshotProgressFunc  progress;
  gpointer                user_data;
  const char             *accepted_state;   /* "accepted", or "queued-locally" for this machine's MTA */
  char                   *copy_to;
  MrSettings             *settings;
  MrSentLog              *sent_log;         /* NULL when it cannot be opened: the next run records the mails */
  MrMailshotStatus       *status;
  GPtrArray              *exchanges;        /* MrExchange, one a worker, when the job goes through Exchange */
  char                   *route_label;      /* for the sent log: the SMTP server, or "EWS at …" */
  gint                    next_worker;

  GMutex                  lock;
  GPtrArray              *claims;           /* Claim, waiting for the next commit */
  GCond                   claims_waiting;   /* wakes the committer */
  gboolean                workers_done;     /* the committer may end */
  GMutex                  db_lock;          /* one transaction at a time on the journal; taken after @lock, never before */
  sqlite3_stmt           *outcome_statement;
  sqlite3_stmt           *claim_statement;
  sqlite3_stmt           *pending_statement;
  sqlite3_stmt           *retry_statement;
  gint64                  interval;         /* µs between two mails */
  gint64                  base_interval;    /* the job's own pace, which a server's "slow down" lengthens for a while */
  gint64                  next_send;        /* monotonic µs */
  guint                   done, total;
  guint                   settled_unlogged; /* final mails not yet in the sent log */
  guint                   per_day, sent_today;
  gboolean                quota_reached;
  char                   *streak_reply;     /* the reply code of the last failures in a row */
  GArray                 *streak_rows;      /* their rows (guint) */
  gboolean                streak_paused;
  gboolean                copying;
  gboolean                stop;
  GError                 *error;            /* why the run stopped */
} Run;

/* With @lock held, after a mail the server took while the job is slower than its own pace because
 * the server had asked it to slow down (4.7.x): additive increase, as TCP does after a loss. Each
 * accepted mail adds a tenth of the job's pace to the rate (6 a minute for a job without a pace),
 * up to the job's pace; a job without one goes unpaced again past 10 a second. A server that still
 * limits says 4.7.x again, which halves the rate again, so the job settles just under its limit
 * instead of staying at the slowest rate it was ever told. */
static void
speed_up (Run *run)
{
  double per_minute = 60.0 * G_USEC_PER_SEC / run->interval;
  double step = run->base_interval > 0 ? MAX (1.0, 60.0 * G_USEC_PER_SEC / run->base_interval / 10) : 6.0;
  gint64 interval;

  per_minute += step;
  interval = (gint64) (60.0 * G_USEC_PER_SEC / per_minute);
  if (interval <= run->base_interval || (run->base_interval == 0 && per_minute >= 600))
    interval = run->base_interval;
  run->interval = interval;
}

static void
stop_run (Run    *run,
          GError *error)
{
  run->stop = TRUE;
  if (run->error == NULL)
    run->error = error;
  else
    g_error_free (error);
}

/* With @db_lock held. */
static gboolean
write_outcome_locked (Run     *run,
                      Outcome *outcome,
                      GError **error)
{
  sqlite3_stmt *statement = run->outcome_statement;
  gboolean ok;

  if (!outcome->set)
    return TRUE;
  sqlite3_reset (statement);
  bind_text (statement, 1, outcome->state);
  bind_text (statement, 2, outcome->reply);
  sqlite3_bind_int64 (statement, 3, outcome->next_attempt);
  bind_text (statement, 4, outcome->subject);
  sqlite3_bind_int64 (statement, 5, run->job);
  sqlite3_bind_int64 (statement, 6, outcome->row);
  ok = sqlite3_step (statement) == SQLITE_DONE;
  g_clear_pointer (&outcome->reply, g_free);
  g_clear_pointer (&outcome->subject, g_free);
  outcome->set = FALSE;
  return ok ? TRUE : journal_failed (run->journal, "write", error);
}

static gboolean
write_outcome (Run     *run,
               Outcome *outcome,
               GError **error)
{
  gboolean ok;

  g_mutex_lock (&run->db_lock);
  ok = write_outcome_locked (run, outcome, error);
  g_mutex_unlock (&run->db_lock);
  return ok;
}

static void
set_outcome (Outcome    *outcome,
             guint       row,
             const char *state,
             const char *reply,
             gint64      next_attempt)
{
  outcome->set = TRUE;
  outcome->row = row;
  outcome->state = state;
  g_free (outcome->reply);
  outcome->reply = g_strdup (reply);
  g_clear_pointer (&outcome->subject, g_free);
  outcome->next_attempt = next_attempt;
}

/* Final mails recorded in the sent log at a time, while a job runs. */
#define SENT_LOG_BATCH 500

static void sync_sent_log (MrMailshotJournal *self, GMutex *db_lock, MrSentLog *log, gint64 job,
                           MrMailshotStatus *status, MrTemplate *template_, MrDelivery *delivery,
                           const char *route);

/* A worker's request: write its last outcome, and give it the next recipient. */
typedef struct {
  Outcome  *outcome;
  Todo     *todo;
  gboolean  in_flight;  /* submitted, not yet waited for */
  gboolean  claimed;
  gboolean  done;
  gboolean  log_now;    /* the worker records final mails in the sent log next */
  GCond     woken;      /* its batch is committed */
} Claim;

typedef struct {
  guint     claimed;
  char     *state;       /* the job's state when it is not "running" any more */
  gboolean  quota;       /* claims were refused for the day's quota */
  GError   *error;
} Committed;

/* Up to @wanted recipients, in row order, then those to try again whose time has come. */
static guint
fetch_todos (Run        *run,
             GPtrArray  *batch,
             guint       wanted,
             GError    **error)
{
  sqlite3_stmt *queries[] = { run->pending_statement, run->retry_statement };
  guint found = 0;

  for (guint q = 0; q < G_N_ELEMENTS (queries) && found < wanted; q++)
    {
      sqlite3_stmt *statement = queries[q];
      int step;

      sqlite3_reset (statement);
      sqlite3_bind_int64 (statement, 1, run->job);
      sqlite3_bind_int64 (statement, 2, wanted - found);
      sqlite3_bind_int64 (statement, 3, g_get_real_time () / G_USEC_PER_SEC);
      while (found < wanted && (step = sqlite3_step (statement)) == SQLITE_ROW)
        {
          Todo *todo = ((Claim *) g_ptr_array_index (batch, found))->todo;

          todo->row = sqlite3_column_int (statement, 0);
          todo->address = column_text (statement, 1);
          todo->data = column_text (statement, 2);
          todo->message_id = column_text (statement, 3);
          todo->token = column_text (statement, 4);
          todo->last_sent_at = sqlite3_column_int64 (statement, 5);
          todo->retry = statement == run->retry_statement;
          found++;
        }
      if (found < wanted && step != SQLITE_DONE)
        {
          journal_failed (run->journal, "read", error);
          sqlite3_reset (statement);
          return found;
        }
      /* A statement left open keeps its snapshot, and a later write on this connection would fail
       * once another process has written (SQLITE_BUSY_SNAPSHOT). */
      sqlite3_reset (statement);
    }
  return found;
}

/* One transaction for a batch of claims: the workers' outcomes, then a recipient each, marked
 * "sending" (committed before the attempt: a crash now leaves it so, and it is sent again). One
 * commit, one fsync, for every worker waiting: this is what lets several connections go faster. */
static void
commit_claims (Run       *run,
               GPtrArray *batch,
               guint      allowed,
               Committed *result)
{
  MrMailshotJournal *journal = run->journal;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  guint wanted = MIN (batch->len, allowed);

  g_mutex_lock (&run->db_lock);
  if (!exec (journal, "BEGIN IMMEDIATE", &result->error))
    goto failed;
  for (guint i = 0; i < batch->len; i++)
    if (!write_outcome_locked (run, ((Claim *) g_ptr_array_index (batch, i))->outcome, &result->error))
      goto failed;
  if (wanted > 0)
    {
      g_autofree char *state = job_state (journal, run->job, &result->error);

      if (state == NULL)
        goto failed;
      /* Paused or cancelled from elsewhere (the window, another command): stop between two mails. */
      if (!g_str_equal (state, "running"))
        {
          result->state = g_steal_pointer (&state);
          wanted = 0;
        }
    }
  if (wanted > 0)
    {
      result->claimed = fetch_todos (run, batch, wanted, &result->error);
      if (result->error != NULL)
        goto failed;
      result->quota = allowed < batch->len && result->claimed == wanted;
      for (guint i = 0; i < result->claimed; i++)
        {
          Claim *claim = g_ptr_array_index (batch, i);

          sqlite3_reset (run->claim_statement);
          sqlite3_bind_int64 (run->claim_statement, 1, now);
          sqlite3_bind_int64 (run->claim_statement, 2, run->job);
          sqlite3_bind_int64 (run->claim_statement, 3, claim->todo->row);
          if (sqlite3_step (run->claim_statement) != SQLITE_DONE)
            {
              journal_failed (journal, "write", &result->error);
              goto failed;
            }
          claim->claimed = TRUE;
        }
    }
  if (!exec (journal, "COMMIT", &result->error))
    goto failed;
  g_mutex_unlock (&run->db_lock);
  return;

failed:
  sqlite3_exec (journal->db, "ROLLBACK", NULL, NULL, NULL);
  g_mutex_unlock (&run->db_lock);
  result->claimed = 0;
  for (guint i = 0; i < batch->len; i++)
    ((Claim *) g_ptr_array_index (batch, i))->claimed = FALSE;
}

/* The journal's one writer while a job runs. Each commit takes every claim that came while the
 * last one ran: one fsync for all of them, the whole point of several connections. The workers
 * meanwhile build their next mail instead of waiting for their turn to commit. */
static gpointer
run_committer (gpointer data)
{
  Run *run = data;

  g_mutex_lock (&run->lock);
  for (;;)
    {
      g_autoptr(GPtrArray) batch = NULL;
      Committed result = { 0, NULL, FALSE, NULL };
      guint allowed = G_MAXUINT;

      while (run->claims->len == 0 && !run->workers_done)
        g_cond_wait (&run->claims_waiting, &run->lock);
      if (run->claims->len == 0)
        break;
      batch = g_steal_pointer (&run->claims);
      run->claims = g_ptr_array_new ();
      if (run->stop)
        allowed = 0;
      else if (run->per_day > 0)
        allowed = run->per_day > run->sent_today ? run->per_day - run->sent_today : 0;
      if (run->per_day > 0 && allowed == 0 && !run->stop)
        run->quota_reached = TRUE;

      g_mutex_unlock (&run->lock);
      commit_claims (run, batch, allowed, &result);
      g_mutex_lock (&run->lock);

      if (result.error != NULL)
        stop_run (run, result.error);
      else if (result.state != NULL)
        stop_run (run, g_error_new_literal (MR_MAILSHOT_ERROR, MR_MAILSHOT_ERROR_PAUSED,
                                            g_str_equal (result.state, "cancelled") ? _("The mailshot was cancelled")
                                                                                   : _("The mailshot was paused")));
      /* No more claims today; the mails already claimed still go. */
      if (result.quota)
        run->quota_reached = TRUE;
      g_free (result.state);
      run->sent_today += result.claimed;
      /* Now and then a worker records the final mails in the sent log, so that a long job shows
       * there as it goes. */
      if (run->settled_unlogged >= SENT_LOG_BATCH)
        {
          run->settled_unlogged = 0;
          ((Claim *) g_ptr_array_index (batch, 0))->log_now = TRUE;
        }
      for (guint i = 0; i < batch->len; i++)
        {
          Claim *done = g_ptr_array_index (batch, i);

          done->done = TRUE;
          g_cond_signal (&done->woken);
        }
    }
  g_mutex_unlock (&run->lock);
  return NULL;
}

/* Under @lock: asks the committer to write @outcome (when set) and to claim a recipient into @todo. */
static void
claim_submit (Run     *run,
              Claim   *claim,
              Outcome *outcome,
              Todo    *todo)
{
  todo_clear (todo);
  *claim = (Claim) { outcome, todo, TRUE, FALSE, FALSE, FALSE };
  g_cond_init (&claim->woken);
  g_ptr_array_add (run->claims, claim);
  g_cond_signal (&run->claims_waiting);
}

/* Under @lock: waits for @claim's commit, if it is in flight. Its outcome is then in the journal;
 * sets @log_now when it is this worker's turn to update the sent log. */
static void
claim_wait (Run      *run,
            Claim    *claim,
            gboolean *log_now)
{
  if (!claim->in_flight)
    return;
  while (!claim->done)
    g_cond_wait (&claim->woken, &run->lock);
  g_cond_clear (&claim->woken);
  claim->in_flight = FALSE;
  if (claim->log_now)
    *log_now = TRUE;
}

/* Under @lock: a recipient claimed but not sent goes back as it was, attempts and all. */
static void
claim_release (Run   *run,
               Claim *claim)
{
  Todo *todo = claim->todo;

  if (!claim->claimed)
    return;
  claim->claimed = FALSE;
  run->sent_today = run->sent_today > 0 ? run->sent_today - 1 : 0;
  g_mutex_lock (&run->db_lock);
  run_statement (run->journal, "UPDATE recipients SET state = ?, attempts = attempts - 1, sent_at = ? "
                               "WHERE job = ? AND row = ? AND state = 'sending'", NULL, "siii",
                 todo->retry ? "failed-temporary" : "pending", todo->last_sent_at, run->job, (gint64) todo->row);
  g_mutex_unlock (&run->db_lock);
}

static void
report_progress (Run *run)
{
  guint done = ++run->done;

  run->settled_unlogged++;
  if (run->progress != NULL)
    run->progress (done, run->total, run->user_data);
}

/* The company's copy address gets one mail of the job, over the connection that sent the first. */
static void
send_job_copy (Run            *run,
               MrSmtpClient   *client,
               MrExchange     *exchange,
               MrSmtpEnvelope *envelope,
               GBytes         *message)
{
  g_autoptr(MrSmtpEnvelope) copy = NULL;
  g_autoptr(MrSmtpSendResult) copied = NULL;
  gboolean exchange_copied = FALSE;

  g_mutex_lock (&run->lock);
  if (run->copy_to == NULL || run->config->copy_each || run->config->copy_sent || run->copying)
    {
      g_mutex_unlock (&run->lock);
      return;
    }
  run->copying = TRUE;
  g_mutex_unlock (&run->lock);

  copy = mr_smtp_envelope_new (envelope->from);
  mr_smtp_envelope_add_recipient (copy, run->copy_to);
  if (exchange != NULL)
    exchange_copied = mr_exchange_send_sync (exchange, copy, message, NULL, NULL);
  else if (client != NULL)
    copied = mr_smtp_client_send_sync (client, copy, message, NULL, NULL);

  g_mutex_lock (&run->lock);
  run->copying = FALSE;
  if (exchange_copied || copied != NULL ||
      (exchange == NULL && client == NULL && mr_delivery_send_sync (run->delivery, copy, message, NULL, NULL)))
    {
      g_mutex_lock (&run->db_lock);
      run->config->copy_sent = run_statement (run->journal, "UPDATE jobs SET copy_sent = 1 WHERE id = ?", NULL, "i",
                                              run->job);
      g_mutex_unlock (&run->db_lock);
    }
  g_mutex_unlock (&run->lock);
}

/* Under @lock: counts failures in a row with the same reply code. At SAME_FAILURES_PAUSE the run
 * stops, to pause the job once every worker is done (see mr_mailshot_run_sync()). */
static gboolean
note_failure (Run          *run,
              guint         row,
              const GError *error)
{
  g_autofree char *reply = g_strdup_printf ("%u %s", mr_smtp_error_get_reply_code (error),
                                            mr_smtp_error_get_enhanced_code (error) ? mr_smtp_error_get_enhanced_code (error) : "");

  if (run->streak_rows->len == 0 || g_strcmp0 (reply, run->streak_reply) != 0)
    {
      g_array_set_size (run->streak_rows, 0);
      g_free (run->streak_reply);
      run->streak_reply = g_steal_pointer (&reply);
    }
  g_array_append_val (run->streak_rows, row);
  if (run->streak_rows->len < SAME_FAILURES_PAUSE || run->streak_paused)
    return FALSE;
  run->streak_paused = TRUE;
  stop_run (run, g_error_new (MR_MAILSHOT_ERROR, MR_MAILSHOT_ERROR_PAUSED,
                              _("The mailshot paused itself: %u mails in a row were refused the same way (%s). "
                                "The cause is likely not the recipients; fix it, then resume: those %u are tried again"),
                              run->streak_rows->len, error->message, run->streak_rows->len));
  return TRUE;
}

/* A recipient a worker holds: claimed, then built, then sent. */
typedef struct {
  Claim            claim;
  Todo             todo;
  GBytes          *message;
  MrSmtpEnvelope  *envelope;
  MrRendered      *rendered;
} Slot;

static void
slot_clear_message (Slot *slot)
{
  g_clear_pointer (&slot->message, g_bytes_unref);
  g_clear_pointer (&slot->envelope, mr_smtp_envelope_free);
  g_clear_pointer (&slot->rendered, mr_rendered_free);
}

/* Under @lock, when the worker stops: waits for its claims in flight, and puts back what it holds. */
static void
slots_release (Run      *run,
               Slot     *slots,
               guint     n_slots,
               gboolean *log_now)
{
  for (guint i = 0; i < n_slots; i++)
    claim_wait (run, &slots[i].claim, log_now);
  for (guint i = 0; i < n_slots; i++)
    {
      claim_release (run, &slots[i].claim);
      slot_clear_message (&slots[i]);
      todo_clear (&slots[i].todo);
    }
}

/* One connection's loop: build, wait for the pace, send, note the outcome, claim the next.
 *
 * Without a pace a worker holds two recipients: while the committer writes the outcome of one mail
 * (and fsyncs), the worker builds the next. That mail is sent only once the outcome is in the
 * journal, so a crash can still only duplicate the mails in flight, one per connection. With a pace
 * the spacing is the point, and a worker holds one. */
static gpointer
run_worker (gpointer data)
{
  Run *run = data;
  g_autoptr(MrSmtpClient) client = NULL;
  MrExchange *exchange = run->exchanges != NULL
    ? g_ptr_array_index (run->exchanges, (guint) g_atomic_int_add (&run->next_worker, 1) % run->exchanges->len) : NULL;
  gboolean sendmail = exchange == NULL && mr_delivery_uses_sendmail (run->delivery);
  g_autoptr(MrMessageBuilder) builder = mr_message_builder_new ();
  g_autoptr(JsonParser) parser = json_parser_new ();
  Outcome outcome = { FALSE };
  Slot slots[2] = { { { 0 } } };
  guint n_slots = run->interval == 0 ? 2 : 1;
  guint head = 0;

  g_mutex_lock (&run->lock);
  for (guint i = 0; i < n_slots; i++)
    claim_submit (run, &slots[i].claim, &outcome, &slots[i].todo);
  g_mutex_unlock (&run->lock);

  for (;;)
    {
      Slot *slot = &slots[head];
      Slot *other = &slots[(head + 1) % n_slots];
      g_autoptr(MrSmtpSendResult) result = NULL;
      g_autoptr(GError) send_error = NULL;
      g_autofree char *reason = NULL;
      gboolean sent = FALSE, log_now = FALSE, stopped;
      gint64 send_at = 0;
      FailureScope scope;

      g_mutex_lock (&run->lock);
      claim_wait (run, &slot->claim, &log_now);
      if (!run->stop && !slot->claim.claimed && other != slot && (other->claim.in_flight || other->claim.claimed))
        {
          /* Nothing left for this one; the other may still have a recipient. */
          g_mutex_unlock (&run->lock);
          head = (head + 1) % n_slots;
          goto log;
        }
      stopped = run->stop || !slot->claim.claimed;
      if (stopped)
        slots_release (run, slots, n_slots, &log_now);
      g_mutex_unlock (&run->lock);
      if (stopped)
        {
          if (log_now)
            sync_sent_log (run->journal, &run->db_lock, run->sent_log, run->job, run->status, run->template_,
                           run->delivery, run->route_label);
          break;
        }

      if (slot->message == NULL)
        slot->message = build_message (builder, parser, run->template_, run->delivery, run->config, &slot->todo, &slot->envelope,
                                       &slot->rendered, &send_error);
      /* Connected before the wait, so that the pace is the spacing of the mails as the server gets
       * them, not of the attempts. */
      if (slot->message != NULL && !sendmail && exchange == NULL && client == NULL)
        client = mr_delivery_connect_sync (run->delivery, run->cancellable, &send_error);

      /* The last outcome in the journal before the next mail goes; then this mail's turn in the
       * pace, taken now rather than at the claim, as a server that asks to slow down changes it. */
      g_mutex_lock (&run->lock);
      if (other != slot)
        claim_wait (run, &other->claim, &log_now);
      stopped = run->stop;
      if (stopped)
        slots_release (run, slots, n_slots, &log_now);
      else
        {
          send_at = MAX (g_get_monotonic_time (), run->next_send);
          run->next_send = send_at + run->interval;
        }
      g_mutex_unlock (&run->lock);
      if (stopped)
        break;

      if (slot->message != NULL && send_error == NULL && !pace (send_at, run->cancellable))
        g_set_error_literal (&send_error, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("Cancelled"));
      /* A cancel stops the job between two mails, never inside one: a mail cut off after the server
       * took it would be marked to send again (the timeouts bound the wait). */
      if (slot->message != NULL && send_error == NULL)
        {
          if (exchange != NULL)
            sent = mr_exchange_send_sync (exchange, slot->envelope, slot->message, NULL, &send_error);
          else if (sendmail)
            sent = mr_delivery_send_sync (run->delivery, slot->envelope, slot->message, NULL, &send_error);
          else
            {
              result = mr_smtp_client_send_sync (client, slot->envelope, slot->message, NULL, &send_error);
              sent = result != NULL;
            }
        }

      if (sent)
        {
          set_outcome (&outcome, slot->todo.row, run->accepted_state,
                       exchange ? mr_exchange_get_reply (exchange) : result ? result->final_reply : NULL, 0);
          outcome.subject = g_strdup (slot->rendered->subject);
          send_job_copy (run, client, exchange, slot->envelope, slot->message);
          g_mutex_lock (&run->lock);
          /* The pace counts from when the server took the mail: arrivals are at least an
           * interval apart, however long each mail took. */
          if (run->interval > run->base_interval)
            speed_up (run);
          if (run->interval > 0)
            run->next_send = MAX (run->next_send, g_get_monotonic_time () + run->interval);
          g_array_set_size (run->streak_rows, 0);
          report_progress (run);
        }
      else
        {
          reason = mr_smtp_error_describe_reply (send_error);
          scope = failure_scope (send_error);
          g_mutex_lock (&run->lock);
          if (g_error_matches (send_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            {
              /* Cancelled before it went (waiting for its turn, or connecting): it waits for the
               * next run, as it was. */
              stop_run (run, g_steal_pointer (&send_error));
              slots_release (run, slots, n_slots, &log_now);
              g_mutex_unlock (&run->lock);
              break;
            }
          /* A broken connection is not used again; one that is still up is (the next mail begins
           * with RSET), and is closed with QUIT at the end. */
          if (client != NULL && !mr_smtp_client_is_connected (client))
            g_clear_object (&client);
          if (scope == FAILURE_STOPS_JOB)
            {
              set_outcome (&outcome, slot->todo.row, "pending", reason, 0);
              write_outcome (run, &outcome, NULL);
              slot->claim.claimed = FALSE;
              g_mutex_lock (&run->db_lock);
              run_statement (run->journal, "UPDATE jobs SET state = 'paused', reason = ? WHERE id = ?", NULL, "si",
                             send_error->message, run->job);
              g_mutex_unlock (&run->db_lock);
              stop_run (run, g_error_new (MR_MAILSHOT_ERROR, MR_MAILSHOT_ERROR_PAUSED,
                                          _("The mailshot paused itself, as every mail would fail the same way: %s"),
                                          send_error->message));
              slots_release (run, slots, n_slots, &log_now);
              g_mutex_unlock (&run->lock);
              break;
            }
          set_outcome (&outcome, slot->todo.row, scope == FAILURE_TEMPORARY ? "failed-temporary" : "failed-permanent",
                       reason, g_get_real_time () / G_USEC_PER_SEC + RETRY_SECONDS);
          outcome.subject = slot->rendered ? g_strdup (slot->rendered->subject) : NULL;
          if (send_error->domain == MR_SMTP_ERROR && note_failure (run, slot->todo.row, send_error))
            {
              report_progress (run);
              write_outcome (run, &outcome, NULL);
              slot->claim.claimed = FALSE;
              slots_release (run, slots, n_slots, &log_now);
              g_mutex_unlock (&run->lock);
              break;
            }
          /* 4.7.x, or Exchange busy: the server asks to slow down (a rate limit): the whole job does. */
          if (scope == FAILURE_TEMPORARY &&
              ((send_error->domain == MR_SMTP_ERROR &&
                g_str_has_prefix (mr_smtp_error_get_enhanced_code (send_error) ? mr_smtp_error_get_enhanced_code (send_error)
                                                                              : "", "4.7.")) ||
               g_error_matches (send_error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_BUSY)))
            {
              run->interval = MAX (run->interval * 2, G_USEC_PER_SEC);
              run->next_send = g_get_monotonic_time () + run->interval;
              if (exchange != NULL)
                run->next_send = MAX (run->next_send, g_get_monotonic_time () +
                                                      (gint64) mr_exchange_get_retry_after (exchange) * G_USEC_PER_SEC);
            }
          report_progress (run);
        }
      /* Settled: the outcome goes with the claim of this slot's next recipient. */
      slot->claim.claimed = FALSE;
      slot_clear_message (slot);
      claim_submit (run, &slot->claim, &outcome, &slot->todo);
      g_mutex_unlock (&run->lock);
      head = (head + 1) % n_slots;

    log:
      if (log_now)
        sync_sent_log (run->journal, &run->db_lock, run->sent_log, run->job, run->status, run->template_,
                       run->delivery, run->route_label);
    }

  g_mutex_lock (&run->lock);
  write_outcome (run, &outcome, NULL);
  g_mutex_unlock (&run->lock);
  if (client != NULL)
    mr_smtp_client_quit_sync (client, NULL, NULL);
  return NULL;
}

/* Mails sent in the last 24 hours by this application profile, all jobs; and when the oldest
 * @over of them leave the window (the quota frees). */
static guint
sent_in_last_day (MrMailshotJournal *self,
                  const char        *app,
                  guint              over,
                  gint64            *frees_at)
{
  gint64 since = g_get_real_time () / G_USEC_PER_SEC - 24 * 60 * 60;
  sqlite3_stmt *statement = prepare (self, "SELECT COUNT (*) FROM recipients JOIN jobs ON jobs.id = recipients.job "
                                           "WHERE sent_at > ? AND jobs.app IS ?", NULL);
  guint count = 0;

  if (statement == NULL)
    return 0;
  sqlite3_bind_int64 (statement, 1, since);
  bind_text (statement, 2, app);
  if (sqlite3_step (statement) == SQLITE_ROW)
    count = sqlite3_column_int (statement, 0);
  sqlite3_finalize (statement);
  if (frees_at != NULL && count >= over)
    {
      statement = prepare (self, "SELECT sent_at FROM recipients JOIN jobs ON jobs.id = recipients.job "
                                 "WHERE sent_at > ? AND jobs.app IS ? ORDER BY sent_at LIMIT 1 OFFSET ?", NULL);
      if (statement == NULL)
        return count;
      sqlite3_bind_int64 (statement, 1, since);
      bind_text (statement, 2, app);
      sqlite3_bind_int64 (statement, 3, count - over);
      *frees_at = sqlite3_step (statement) == SQLITE_ROW ? sqlite3_column_int64 (statement, 0) + 24 * 60 * 60 + 1
                                                         : since + 2 * 24 * 60 * 60;
      sqlite3_finalize (statement);
    }
  return count;
}

/* Final mails not yet in the sent log, a batch at a time: each mail of a mailshot is there too,
 * linked to its job. Run at the start and the end of each run, so that mails settled before a crash
 * are recorded by the next run; a Message-ID already in the log is not recorded twice. */
static gboolean
record_in_sent_log (MrMailshotJournal  *self,
                    GMutex             *db_lock,
                    MrSentLog          *log,
                    gint64              job,
                    MrMailshotStatus   *status,
                    MrTemplate         *template_,
                    MrDelivery         *delivery,
                    const char         *route,
                    GError            **error)
{
  g_autoptr(MrOutgoing) sender = mr_outgoing_new ();
  const char *from_address;

  mr_delivery_fill_sender (delivery, sender);
  from_address = template_->from_address ? template_->from_address : sender->from_address;
  for (;;)
    {
      sqlite3_stmt *statement;
      g_autoptr(GArray) mails = g_array_new (FALSE, TRUE, sizeof (MrSentMailshotMail));
      g_autoptr(GPtrArray) strings = g_ptr_array_new_with_free_func (g_free);
      g_autoptr(GArray) rows = g_array_new (FALSE, FALSE, sizeof (gint64));
      gboolean ok = TRUE;

      /* The journal only under the run's lock (when there is one): the sent log is written without
       * it, so that the workers go on meanwhile. */
      if (db_lock != NULL)
        g_mutex_lock (db_lock);
      statement = prepare (self, "SELECT row, address, data, message_id, state, reply, sent_at, attempts, subject "
                                 "FROM recipients WHERE job = ? AND logged = 0 AND state IN "
                                 "('accepted', 'queued-locally', 'failed-permanent') LIMIT 500", error);
      if (statement == NULL)
        {
          if (db_lock != NULL)
            g_mutex_unlock (db_lock);
          return FALSE;
        }
      sqlite3_bind_int64 (statement, 1, job);
      while (sqlite3_step (statement) == SQLITE_ROW)
        {
          MrSentMailshotMail mail = { NULL };
          const char *state = (const char *) sqlite3_column_text (statement, 4);
          gint64 row = sqlite3_column_int64 (statement, 0);
          char *subject = column_text (statement, 8);

          /* The subject as sent; rendered again only for mails recorded before it was kept. */
          if (subject == NULL)
            {
              g_autoptr(JsonNode) data = json_from_string ((const char *) sqlite3_column_text (statement, 2), NULL);
              g_autoptr(MrRendered) rendered = data ? mr_template_render (template_, data, NULL) : NULL;

              subject = g_strdup (rendered ? rendered->subject : "");
            }
#define KEEP(text) (g_ptr_array_add (strings, (text)), (const char *) g_ptr_array_index (strings, strings->len - 1))
          mail.recipient = KEEP (column_text (statement, 1));
          mail.message_id = KEEP (column_text (statement, 3));
          mail.reply = KEEP (column_text (statement, 5));
          mail.subject = KEEP (subject);
#undef KEEP
          mail.from_address = from_address;
          mail.app = status->app;
          mail.template_name = status->template_name;
          mail.route = route;
          mail.state = g_str_equal (state, "failed-permanent") ? MR_SENT_STATE_FAILED : MR_SENT_STATE_ACCEPTED;
          mail.time = sqlite3_column_int64 (statement, 6);
          mail.attempts = sqlite3_column_int (statement, 7);
          g_array_append_val (mails, mail);
          g_array_append_val (rows, row);
        }
      sqlite3_finalize (statement);
      statement = NULL;
      if (db_lock != NULL)
        g_mutex_unlock (db_lock);
      if (mails->len == 0)
        return TRUE;
      if (!mr_sent_log_add_mailshot_mails (log, job, (MrSentMailshotMail *) mails->data, mails->len, error))
        return FALSE;
      if (db_lock != NULL)
        g_mutex_lock (db_lock);
      ok = exec (self, "BEGIN IMMEDIATE", error) &&
           (statement = prepare (self, "UPDATE recipients SET logged = 1 WHERE job = ? AND row = ?", error)) != NULL;
      for (guint i = 0; i < rows->len && ok; i++)
        {
          sqlite3_reset (statement);
          sqlite3_bind_int64 (statement, 1, job);
          sqlite3_bind_int64 (statement, 2, g_array_index (rows, gint64, i));
          ok = sqlite3_step (statement) == SQLITE_DONE || journal_failed (self, "write", error);
        }
      sqlite3_finalize (statement);
      if (!ok || !exec (self, "COMMIT", error))
        {
          sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
          ok = FALSE;
        }
      if (db_lock != NULL)
        g_mutex_unlock (db_lock);
      /* While the job runs, one batch at a time: the workers keep adding more. */
      if (!ok || db_lock != NULL)
        return ok;
    }
}

/* The sent log is a record beside the journal: when it cannot be written (a full disk), the mails
 * still go, and the next run records them. */
static void
sync_sent_log (MrMailshotJournal *self,
               GMutex            *db_lock,
               MrSentLog         *log,
               gint64             job,
               MrMailshotStatus  *status,
               MrTemplate        *template_,
               MrDelivery        *delivery,
               const char        *route)
{
  g_autoptr(GError) error = NULL;

  if (log != NULL && !record_in_sent_log (self, db_lock, log, job, status, template_, delivery, route, &error))
    g_message ("Mailshot mails are not in the sent log yet: %s", error->message);
}

/* Recipients still to send (not those to try again later). */
static gboolean
has_pending (MrMailshotJournal *self,
             gint64             job)
{
  sqlite3_stmt *statement = prepare (self, "SELECT 1 FROM recipients WHERE job = ? AND state IN ('pending', 'sending') "
                                           "LIMIT 1", NULL);
  gboolean found;

  if (statement == NULL)
    return TRUE;
  sqlite3_bind_int64 (statement, 1, job);
  found = sqlite3_step (statement) == SQLITE_ROW;
  sqlite3_finalize (statement);
  return found;
}

gboolean
mr_mailshot_run_sync (MrMailshotJournal       *self,
                      MrSettings              *settings,
                      gint64                   job,
                      MrMailshotProgressFunc   progress,
                      gpointer                 user_data,
                      GCancellable            *cancellable,
                      GError                 **error)
{
  g_autoptr(MrMailshotStatus) status = NULL;
  g_autoptr(MrTemplate) template_ = NULL;
  g_autoptr(MrDelivery) delivery = NULL;
  g_autoptr(GPtrArray) exchanges = NULL;
  g_autoptr(GPtrArray) threads = g_ptr_array_new ();
  GThread *committer;
  g_autoptr(MrSentLog) sent_log = NULL;
  g_autoptr(GError) log_error = NULL;
  g_auto(JobConfig) config = { 0 };
  g_autofree char *mode = NULL;
  GError *setup_error = NULL;
  Run run = { 0 };
  int lease;
  gboolean ok = FALSE;

  /* The lease first: the state is only this process's to change once it holds the job. */
  status = mr_mailshot_get_status (self, job, error);
  if (status == NULL)
    return FALSE;
  lease = take_lease (self, job, error);
  if (lease < 0)
    return FALSE;
  g_clear_pointer (&status, mr_mailshot_status_free);
  status = mr_mailshot_get_status (self, job, error);
  if (status == NULL || g_str_equal (status->state, "cancelled") || g_str_equal (status->state, "done"))
    {
      close (lease);
      return status != NULL;
    }
  /* Not yet: its start time, or the day's quota. */
  if (g_str_equal (status->state, "scheduled") && status->not_before > g_get_real_time () / G_USEC_PER_SEC)
    {
      close (lease);
      return TRUE;
    }

  template_ = mr_template_load (status->template_path, &setup_error);
  /* Its pictures made inline parts once, not decoded and hashed again for every mail. */
  if (template_ != NULL && !mr_template_embed_images (template_, &setup_error))
    g_clear_pointer (&template_, mr_template_free);
  if (template_ != NULL && g_strcmp0 (status->route, "exchange") == 0)
    {
      /* Exchange sends; the SMTP settings give only the sender. One MrExchange a worker. */
      delivery = mr_delivery_new_sender_only (settings, status->app, &setup_error);
      exchanges = g_ptr_array_new_with_free_func (g_object_unref);
      for (guint i = 0; delivery != NULL && i < MAX (status->connections, 1); i++)
        {
          MrExchange *exchange = mr_exchange_new (settings, status->app, &setup_error);

          if (exchange == NULL)
            {
              g_clear_object (&delivery);
              break;
            }
          g_ptr_array_add (exchanges, exchange);
        }
    }
  else
    delivery = template_ ? mr_delivery_new (settings, status->app, &setup_error) : NULL;
  if (delivery != NULL && template_->from_address != NULL &&
      !mr_settings_domain_is_verified (settings, mr_address_get_domain (template_->from_address)))
    {
      g_set_error (&setup_error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_INVALID_VALUE,
                   _("The template sends from %s, which is not in one of the company’s verified domains; "
                     "the admin adds the domain to domains.verified first"), template_->from_address);
      g_clear_object (&delivery);
    }
  /* The template gone or changed for the worse, settings that cannot send: no mail could go.
   * The job pauses and says why, rather than being tried again and again. */
  if (delivery == NULL)
    {
      run_statement (self, "UPDATE jobs SET state = 'paused', reason = ? WHERE id = ?", NULL, "si",
                     setup_error->message, job);
      g_propagate_error (error, setup_error);
      goto out;
    }
  if (!read_job_config (self, job, &config, error))
    goto out;
  config.size_limit = mr_delivery_get_known_size_limit (settings, status->app);
  /* Holding the lease, any "sending" row was cut off by a crash: it goes first, again. */
  if (!run_statement (self, "UPDATE recipients SET state = 'pending' WHERE job = ? AND state = 'sending'", error, "i", job) ||
      !run_statement (self, "UPDATE jobs SET state = 'running', reason = NULL, not_before = 0 WHERE id = ?", error, "i", job))
    goto out;
  run.route_label = exchanges != NULL ? g_strdup (mr_exchange_get_route (g_ptr_array_index (exchanges, 0)))
                                       : g_strdup (mr_delivery_get_route (delivery));
  /* Opened once for the run: opening checks its schema and purges old entries. */
  sent_log = mr_outbox_open_log (settings, NULL, &log_error);
  if (sent_log == NULL)
    g_message ("Mailshot mails are not in the sent log yet: %s", log_error->message);
  sync_sent_log (self, NULL, sent_log, job, status, template_, delivery, run.route_label);

  run.journal = self;
  run.sent_log = sent_log;
  run.job = job;
  run.template_ = template_;
  run.delivery = delivery;
  run.config = &config;
  run.cancellable = cancellable;
  run.progress = progress;
  run.user_data = user_data;
  mode = mr_settings_dup_effective_string (settings, status->app, "delivery.mode");
  run.accepted_state = g_strcmp0 (mode, "remote") == 0 || exchanges != NULL ? "accepted" : "queued-locally";
  run.exchanges = exchanges;
  {
    g_autoptr(MrOutgoing) sender = mr_outgoing_new ();

    mr_delivery_fill_sender (delivery, sender);
    run.copy_to = sender->copy_to->len > 0 ? g_strdup (g_ptr_array_index (sender->copy_to, 0)) : NULL;
  }
  run.settings = settings;
  run.status = status;
  g_mutex_init (&run.lock);
  g_mutex_init (&run.db_lock);
  run.claims = g_ptr_array_new ();
  g_cond_init (&run.claims_waiting);
  run.streak_rows = g_array_new (FALSE, FALSE, sizeof (guint));
  run.outcome_statement = prepare (self, "UPDATE recipients SET state = ?, reply = ?, next_attempt = ?, "
                                         "subject = COALESCE (?, subject) WHERE job = ? AND row = ?", error);
  run.claim_statement = prepare (self, "UPDATE recipients SET state = 'sending', attempts = attempts + 1, sent_at = ? "
                                       "WHERE job = ? AND row = ?", error);
  /* One index seek each (recipients_todo), not a sort of the whole list. */
  run.pending_statement = prepare (self, "SELECT row, address, data, message_id, token, sent_at FROM recipients "
                                         "WHERE job = ?1 AND state = 'pending' AND ?3 >= 0 ORDER BY row LIMIT ?2", error);
  run.retry_statement = prepare (self, "SELECT row, address, data, message_id, token, sent_at FROM recipients "
                                       "WHERE job = ?1 AND state = 'failed-temporary' AND next_attempt <= ?3 "
                                       "ORDER BY row LIMIT ?2", error);
  if (run.outcome_statement == NULL || run.claim_statement == NULL || run.pending_statement == NULL ||
      run.retry_statement == NULL)
    goto finish;
  run.interval = status->rate > 0 ? 60 * G_USEC_PER_SEC / status->rate : 0;
  run.base_interval = run.interval;
  run.total = status->total;
  run.done = status->total - status->pending - status->failed_temporary;
  run.per_day = status->per_day;
  run.sent_today = status->per_day > 0 ? sent_in_last_day (self, status->app, 0, NULL) : 0;

  committer = g_thread_new ("mailshot-journal", run_committer, &run);
  /* sendmail is one program per mail, and MrDelivery keeps one result: one worker. */
  for (guint i = 1; i < status->connections && (exchanges != NULL || !mr_delivery_uses_sendmail (delivery)); i++)
    g_ptr_array_add (threads, g_thread_new ("mailshot-connection", run_worker, &run));
  run_worker (&run);
  for (guint i = 0; i < threads->len; i++)
    g_thread_join (g_ptr_array_index (threads, i));
  g_mutex_lock (&run.lock);
  run.workers_done = TRUE;
  g_cond_signal (&run.claims_waiting);
  g_mutex_unlock (&run.lock);
  g_thread_join (committer);
  sync_sent_log (self, NULL, sent_log, job, status, template_, delivery, run.route_label);

finish:
  sqlite3_finalize (run.outcome_statement);
  sqlite3_finalize (run.claim_statement);
  sqlite3_finalize (run.pending_statement);
  sqlite3_finalize (run.retry_statement);
  g_ptr_array_unref (run.claims);
  g_cond_clear (&run.claims_waiting);
  g_free (run.streak_reply);
  g_free (run.route_label);
  g_mutex_clear (&run.db_lock);
  g_mutex_clear (&run.lock);
  if (run.outcome_statement == NULL || run.claim_statement == NULL || run.pending_statement == NULL ||
      run.retry_statement == NULL)
    {
      g_free (run.copy_to);
      goto out;
    }

  /* Failures in a row for one cause: those recipients are tried again when the job is resumed. */
  if (run.streak_paused)
    {
      for (guint i = 0; i < run.streak_rows->len; i++)
        run_statement (self, "UPDATE recipients SET state = 'pending' WHERE job = ? AND row = ? "
                             "AND state IN ('failed-permanent', 'failed-temporary')", NULL, "ii", job,
                       (gint64) g_array_index (run.streak_rows, guint, i));
      run_statement (self, "UPDATE jobs SET state = 'paused', reason = ? WHERE id = ?", NULL, "si", run.error->message, job);
    }
  if (run.error != NULL)
    {
      /* Cancelled here (the window closed): it goes on when it is run again. */
      if (g_error_matches (run.error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        run_statement (self, "UPDATE jobs SET state = 'ready' WHERE id = ? AND state = 'running'", NULL, "i", job);
      g_propagate_error (error, run.error);
    }
  else if (run.quota_reached && has_pending (self, job))
    {
      gint64 frees_at = 0;
      g_autofree char *reason = NULL;
      g_autoptr(GDateTime) when = NULL;
      g_autofree char *time = NULL;

      sent_in_last_day (self, status->app, run.per_day, &frees_at);
      when = g_date_time_new_from_unix_local (frees_at);
      time = g_date_time_format (when, "%x %X");
      reason = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "The day’s limit of %u mail is reached; it goes on at %s",
                                             "The day’s limit of %u mails is reached; it goes on at %s", run.per_day),
                                run.per_day, time);
      ok = run_statement (self, "UPDATE jobs SET state = 'scheduled', not_before = ?, reason = ? WHERE id = ?", error,
                          "isi", frees_at, reason, job);
    }
  else
    /* Recipients to try again later keep the job open. */
    ok = run_statement (self, "UPDATE jobs SET state = CASE WHEN EXISTS (SELECT 1 FROM recipients WHERE job = ?1 "
                              "AND state = 'failed-temporary') THEN 'ready' ELSE 'done' END WHERE id = ?1 AND state = 'running'",
                        error, "i", job);
  g_free (run.copy_to);

out:
  g_clear_pointer (&run.streak_rows, g_array_unref);
  close (lease);
  return ok;
}

int
mr_mailshot_run_due_sync (MrMailshotJournal      *self,
                          MrSettings             *settings,
                          MrMailshotJobErrorFunc  job_error,
                          gpointer                user_data,
                          GCancellable           *cancellable,
                          GError                **error)
{
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  sqlite3_stmt *statement = prepare (self, "SELECT id FROM jobs WHERE (state IN ('ready', 'running') OR "
                                           "(state = 'scheduled' AND not_before <= ?1)) AND EXISTS (SELECT 1 FROM recipients "
                                           "WHERE job = jobs.id AND (state IN ('pending', 'sending') OR "
                                           "(state = 'failed-temporary' AND next_attempt <= ?1))) ORDER BY id", error);
  g_autoptr(GArray) due = g_array_new (FALSE, FALSE, sizeof (gint64));
  int ran = 0;

  if (statement == NULL)
    return -1;
  sqlite3_bind_int64 (statement, 1, now);
  while (sqlite3_step (statement) == SQLITE_ROW)
    {
      gint64 id = sqlite3_column_int64 (statement, 0);
      g_array_append_val (due, id);
    }
  sqlite3_finalize (statement);

  for (guint i = 0; i < due->len && !g_cancellable_is_cancelled (cancellable); i++)
    {
      gint64 id = g_array_index (due, gint64, i);
      g_autoptr(GError) local_error = NULL;

      if (mr_mailshot_run_sync (self, settings, id, NULL, NULL, cancellable, &local_error))
        ran++;
      else if (g_error_matches (local_error, MR_MAILSHOT_ERROR, MR_MAILSHOT_ERROR_BUSY))
        continue;   /* the window or another command is on it */
      else
        {
          ran++;
          if (job_error != NULL)
            job_error (id, local_error, user_data);
        }
    }
  return ran;
}

/* ---- Dry run, preview, samples ---------------------------------------------------------------- */

/* The rows of a list as a job would send them, without a journal: the job's settings as
 * mr_mailshot_create() would write them, and a visitor called with each row. */
typedef struct _Visit Visit;
typedef gboolean (*RowVisitor) (Visit      *visit,
                                Todo       *todo,
                                const char *problem);

struct _Visit
{
  MrTemplate         *template_;
  MrDelivery         *delivery;
  JobConfig           config;
  const char * const *columns;
  const char         *from_address;
  RowVisitor          visitor;
  gpointer            data;
  gboolean            stopped;
};

static void
visit_row (guint               row,
           const char         *address,
           const char * const *fields,
           const char         *problem,
           gpointer            user_data)
{
  Visit *visit = user_data;
  g_auto(Todo) todo = { 0 };

  if (visit->stopped)
    return;
  todo.row = row;
  todo.address = g_strdup (address);
  todo.data = fields ? row_data (visit->columns, fields) : NULL;
  todo.message_id = mr_message_id_new (visit->from_address);
  todo.token = new_token ();
  if (!visit->visitor (visit, &todo, problem))
    visit->stopped = TRUE;
}

static gboolean
visit_rows (MrSettings               *settings,
            MrTemplate               *template_,
            const char               *recipients,
            const MrMailshotOptions  *options,
            RowVisitor                visitor,
            gpointer                  data,
            GError                  **error)
{
  g_autoptr(MrRecipientReader) reader = NULL;
  g_autoptr(MrOutgoing) sender = mr_outgoing_new ();
  g_autoptr(MrProofReport) report = NULL;
  g_autofree char *url = NULL;
  g_autofree char *mailto = NULL;
  Visit visit = { template_, NULL, { 0 }, NULL, NULL, visitor, data, FALSE };

  g_autofree char *route = NULL;

  if (options == NULL)
    options = &default_options;
  reader = mr_recipient_reader_open_sheet (recipients, options->proof.sheet, error);
  if (reader == NULL)
    return FALSE;
  route = mr_mailshot_resolve_route (settings, options->app, options->route);
  visit.delivery = g_str_equal (route, "exchange") ? mr_delivery_new_sender_only (settings, options->app, error)
                                                   : mr_delivery_new (settings, options->app, error);
  if (visit.delivery == NULL)
    return FALSE;
  mr_delivery_fill_sender (visit.delivery, sender);
  visit.columns = mr_recipient_reader_get_columns (reader);
  visit.from_address = template_->from_address ? template_->from_address : sender->from_address;
  visit.config.attachment_column = g_strdup (options->proof.attachment_column);
  visit.config.name_column = g_strdup (options->proof.name_column);
  visit.config.attachments_dir = g_strdup (options->proof.attachments_dir);
  url = mr_settings_dup_effective_string (settings, options->app, "mailshot.unsubscribe_url");
  mailto = mr_settings_dup_effective_string (settings, options->app, "mailshot.unsubscribe_mailto");
  visit.config.unsubscribe_url = *url ? g_strdup (url) : NULL;
  visit.config.unsubscribe_mailto = *mailto ? g_strdup (mailto) : NULL;
  visit.config.copy_each = mr_settings_get_effective_boolean (settings, options->app, "mailshot.copy_each");
  visit.config.size_limit = mr_delivery_get_known_size_limit (settings, options->app);
  report = mr_proofread_full (template_, recipients, &options->proof, visit_row, &visit, error);
  job_config_clear (&visit.config);
  g_object_unref (visit.delivery);
  return report != NULL;
}

typedef struct {
  const char *dir;
  gint64      written;
  GPtrArray  *failed;
  GError     *error;
} DryRun;

static gboolean
write_row (Visit      *visit,
           Todo       *todo,
           const char *problem)
{
  DryRun *dry = visit->data;
  g_autoptr(MrSmtpEnvelope) envelope = NULL;
  g_autoptr(GBytes) message = NULL;
  g_autofree char *name = NULL;
  g_autofree char *path = NULL;

  if (problem != NULL)
    return TRUE;
  message = build_message (NULL, NULL, visit->template_, visit->delivery, &visit->config, todo, &envelope, NULL, &dry->error);
  /* A row whose own values make no mail (a line break in the subject, say) fails that row in a real
   * run, and the job goes on: so does the dry run, which names it. */
  if (message == NULL && failure_scope (dry->error) == FAILURE_PERMANENT)
    {
      g_ptr_array_add (dry->failed, g_strdup_printf (_("Row %u (%s): %s"), todo->row, todo->address,
                                                     dry->error->message));
      g_clear_error (&dry->error);
      return TRUE;
    }
  if (message == NULL)
    return FALSE;
  name = g_strdup_printf ("%06u.eml", todo->row);
  path = g_build_filename (dry->dir, name, NULL);
  if (!g_file_set_contents_full (path, g_bytes_get_data (message, NULL), g_bytes_get_size (message),
                                 G_FILE_SET_CONTENTS_CONSISTENT, 0644, &dry->error))
    return FALSE;
  dry->written++;
  return TRUE;
}

gint64
mr_mailshot_dry_run (MrSettings               *settings,
                     MrTemplate               *template_,
                     const char               *recipients,
                     const MrMailshotOptions  *options,
                     const char               *dir,
                     GPtrArray               **failed,
                     GError                  **error)
{
  g_autoptr(GPtrArray) failed_rows = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(MrTemplate) embedded = mr_template_copy (template_);
  DryRun dry = { dir, 0, failed_rows, NULL };

  /* As the worker does: the pictures made inline parts once, for every mail. */
  if (!mr_template_embed_images (embedded, error))
    return -1;
  template_ = embedded;
  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno), _("Cannot create %s: %s"), dir,
                   g_strerror (saved_errno));
      return -1;
    }
  if (!visit_rows (settings, template_, recipients, options, write_row, &dry, error))
    {
      g_clear_error (&dry.error);
      return -1;
    }
  if (dry.error != NULL)
    {
      g_propagate_error (error, dry.error);
      return -1;
    }
  if (failed != NULL)
    *failed = g_steal_pointer (&failed_rows);
  return dry.written;
}

void
mr_mailshot_preview_free (MrMailshotPreview *preview)
{
  if (preview == NULL)
    return;
  g_free (preview->address);
  g_free (preview->problem);
  g_free (preview->subject);
  g_free (preview->text);
  g_free (preview->html);
  g_clear_pointer (&preview->message, g_bytes_unref);
  g_clear_pointer (&preview->missing, g_ptr_array_unref);
  g_free (preview->marked_subject);
  g_free (preview->marked_text);
  g_free (preview->marked_html);
  g_free (preview);
}

typedef struct {
  guint              row;
  const char        *address;   /* or the first row with this address, or starting with it */
  MrMailshotPreview *preview;
  GError            *error;
  int                direction; /* 1: the first row from @row on; -1: only look for the last up to it */
  guint              found;     /* -1: that row */
} PreviewRow;

/* The row rendered again with each empty field as its marked name, for the preview to show where
 * the value is missing. */
static void
mark_missing (MrMailshotPreview *preview,
              MrTemplate        *template_,
              MrDelivery        *delivery,
              const char        *data,
              GPtrArray         *missing)
{
  g_autoptr(JsonNode) root = json_from_string (data, NULL);
  g_autoptr(MrOutgoing) sender = mr_outgoing_new ();
  g_autoptr(MrRendered) marked = NULL;
  g_autoptr(GPtrArray) variables = mr_template_list_variables (template_, NULL);
  JsonObject *object = root && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;

  /* The template's fields with no value in this row: not a column, or an empty cell. */
  preview->missing = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; variables != NULL && object != NULL && i < variables->len; i++)
    {
      const char *name = g_ptr_array_index (variables, i);
      JsonNode *value = json_object_get_member (object, name);

      if (value == NULL || (JSON_NODE_HOLDS_VALUE (value) && json_node_get_value_type (value) == G_TYPE_STRING &&
                            *json_node_get_string (value) == '\0'))
        g_ptr_array_add (preview->missing, g_strdup (name));
    }
  for (guint i = 0; missing != NULL && i < missing->len; i++)
    if (!g_ptr_array_find_with_equal_func (preview->missing, g_ptr_array_index (missing, i), g_str_equal, NULL))
      g_ptr_array_add (preview->missing, g_strdup (g_ptr_array_index (missing, i)));
  if (preview->missing->len == 0 || object == NULL)
    return;
  for (guint i = 0; i < preview->missing->len; i++)
    {
      const char *name = g_ptr_array_index (preview->missing, i);

      g_autofree char *shown = g_strconcat (MR_MAILSHOT_MISSING_OPEN, name, MR_MAILSHOT_MISSING_CLOSE, NULL);

      json_object_set_string_member (object, name, shown);
    }
  mr_delivery_fill_sender (delivery, sender);
  marked = mr_template_render_as (template_, root, sender, 0, NULL);
  if (marked == NULL)
    return;
  preview->marked_subject = g_strdup (marked->subject);
  preview->marked_text = g_strdup (marked->text);
  preview->marked_html = g_strdup (marked->html);
}

static gboolean
preview_row (Visit      *visit,
             Todo       *todo,
             const char *problem)
{
  PreviewRow *wanted = visit->data;
  g_autoptr(MrSmtpEnvelope) envelope = NULL;
  g_autoptr(MrRendered) rendered = NULL;
  GBytes *message;

  if (wanted->direction < 0)
    {
      if (todo->row > wanted->row)
        return FALSE;
      wanted->found = todo->row;
      return TRUE;
    }
  if (wanted->address != NULL
      ? todo->address == NULL || g_ascii_strncasecmp (todo->address, wanted->address, strlen (wanted->address)) != 0
      : wanted->direction > 0 ? todo->row < wanted->row : todo->row != wanted->row)
    return TRUE;
  if (todo->data == NULL)
    {
      g_set_error_literal (&wanted->error, MR_MAILSHOT_ERROR, MR_MAILSHOT_ERROR_NOT_FOUND, problem);
      return FALSE;
    }
  message = build_message (NULL, NULL, visit->template_, visit->delivery, &visit->config, todo, &envelope, &rendered, &wanted->error);
  /* A row the proof-reader rejected may not make a message at all: its problem says why. */
  if (message == NULL && problem != NULL)
    {
      g_clear_error (&wanted->error);
      wanted->preview = g_new0 (MrMailshotPreview, 1);
      wanted->preview->row = todo->row;
      wanted->preview->address = g_strdup (todo->address);
      wanted->preview->problem = g_strdup (problem);
      return FALSE;
    }
  if (message == NULL)
    return FALSE;
  wanted->preview = g_new0 (MrMailshotPreview, 1);
  wanted->preview->row = todo->row;
  wanted->preview->address = g_strdup (todo->address);
  wanted->preview->problem = g_strdup (problem);
  wanted->preview->subject = g_strdup (rendered->subject);
  wanted->preview->text = g_strdup (rendered->text);
  wanted->preview->html = g_strdup (rendered->html);
  wanted->preview->message = message;
  mark_missing (wanted->preview, visit->template_, visit->delivery, todo->data, rendered->missing);
  return FALSE;
}

/* Goes through the rows for @wanted's; @not_found when none is it. */
static MrMailshotPreview *
find_preview (MrSettings               *settings,
              MrTemplate               *template_,
              const char               *recipients,
              const MrMailshotOptions  *options,
              PreviewRow               *wanted,
              const char               *not_found,
              GError                  **error)
{
  if (!visit_rows (settings, template_, recipients, options, preview_row, wanted, error))
    {
      g_clear_error (&wanted->error);
      return NULL;
    }
  if (wanted->error != NULL)
    {
      g_propagate_error (error, wanted->error);
      return NULL;
    }
  if (wanted->preview == NULL)
    g_set_error_literal (error, MR_MAILSHOT_ERROR, MR_MAILSHOT_ERROR_NOT_FOUND, not_found);
  return wanted->preview;
}

MrMailshotPreview *
mr_mailshot_preview (MrSettings               *settings,
                     MrTemplate               *template_,
                     const char               *recipients,
                     const MrMailshotOptions  *options,
                     guint                     row,
                     GError                  **error)
{
  PreviewRow wanted = { row, NULL, NULL, NULL, 0, 0 };
  g_autofree char *not_found = g_strdup_printf (_("The list has no row %u"), row);

  return find_preview (settings, template_, recipients, options, &wanted, not_found, error);
}

MrMailshotPreview *
mr_mailshot_preview_step (MrSettings               *settings,
                          MrTemplate               *template_,
                          const char               *recipients,
                          const MrMailshotOptions  *options,
                          guint                     row,
                          int                       direction,
                          GError                  **error)
{
  PreviewRow wanted = { row, NULL, NULL, NULL, direction, 0 };

  if (direction < 0)
    {
      /* First the row's number, cheaply; then its mail. */
      if (!visit_rows (settings, template_, recipients, options, preview_row, &wanted, error))
        return NULL;
      if (wanted.found == 0)
        {
          g_set_error_literal (error, MR_MAILSHOT_ERROR, MR_MAILSHOT_ERROR_NOT_FOUND, _("This is the first row"));
          return NULL;
        }
      return mr_mailshot_preview (settings, template_, recipients, options, wanted.found, error);
    }
  return find_preview (settings, template_, recipients, options, &wanted,
                       direction > 0 ? _("This is the last row") : _("The list has no such row"), error);
}

MrMailshotPreview *
mr_mailshot_preview_find (MrSettings               *settings,
                          MrTemplate               *template_,
                          const char               *recipients,
                          const MrMailshotOptions  *options,
                          const char               *address,
                          GError                  **error)
{
  g_autofree char *wanted_address = g_strstrip (g_strdup (address));
  g_autofree char *not_found = NULL;
  PreviewRow wanted = { 0, wanted_address, NULL, NULL, 0, 0 };

  if (*wanted_address == '\0')
    {
      g_set_error_literal (error, MR_MAILSHOT_ERROR, MR_MAILSHOT_ERROR_NOT_FOUND, _("Type an address to look for"));
      return NULL;
    }
  not_found = g_strdup_printf (_("No row has the address “%s”"), wanted_address);
  return find_preview (settings, template_, recipients, options, &wanted, not_found, error);
}

typedef struct {
  const char   *to;
  guint         count;
  guint         row;           /* only this row; 0: the first @count */
  gint          sent;
  MrSentLog    *log;           /* samples are sends too: recorded like any mail */
  const char   *app;
  MrSmtpClient *client;
  GCancellable *cancellable;
  GError       *error;
  MrExchange   *exchange;      /* when the mailshot goes through Exchange */
} Samples;

static gboolean
send_sample (Visit      *visit,
             Todo       *todo,
             const char *problem)
{
  Samples *samples = visit->data;
  g_autoptr(GBytes) message = NULL;
  g_autoptr(MrSmtpEnvelope) to_self = NULL;
  g_autoptr(MrOutgoing) outgoing = NULL;
  g_autoptr(MrSmtpSendResult) result = NULL;
  g_autofree char *subject = NULL;
  g_autofree char *message_id = NULL;
  gboolean sent;

  if (samples->row != 0 && todo->row != samples->row)
    return TRUE;
  if (problem != NULL && samples->row != 0)
    {
      g_set_error (&samples->error, MR_MAILSHOT_ERROR, MR_MAILSHOT_ERROR_NOT_FOUND, _("Row %u is not sent: %s"),
                   todo->row, problem);
      return FALSE;
    }
  if (problem != NULL)
    return TRUE;
  /* The row's mail, to the sender alone: To, the subject and the Message-ID differ, and no copy. */
  outgoing = row_outgoing (NULL, visit->template_, visit->delivery, &visit->config, todo, NULL, &samples->error);
  if (outgoing == NULL)
    return FALSE;
  g_free (g_ptr_array_index (outgoing->to, 0));
  g_ptr_array_index (outgoing->to, 0) = g_strdup (samples->to);
  g_clear_pointer (&outgoing->to_name, g_free);
  g_ptr_array_set_size (outgoing->copy_to, 0);
  g_clear_pointer (&outgoing->message_id, g_free);
  subject = g_strdup_printf (_("[Sample, row %u, for %s] %s"), todo->row, todo->address,
                             outgoing->subject ? outgoing->subject : "");
  g_free (outgoing->subject);
  outgoing->subject = g_steal_pointer (&subject);
  to_self = mr_outgoing_get_envelope (outgoing);
  message = mr_outgoing_build (outgoing, &message_id, &samples->error);
  if (message == NULL)
    return FALSE;
  if (samples->exchange != NULL)
    sent = mr_exchange_send_sync (samples->exchange, to_self, message, samples->cancellable, &samples->error);
  else if (mr_delivery_uses_sendmail (visit->delivery))
    sent = mr_delivery_send_sync (visit->delivery, to_self, message, samples->cancellable, &samples->error);
  else
    {
      if (samples->client == NULL)
        samples->client = mr_delivery_connect_sync (visit->delivery, samples->cancellable, &samples->error);
      result = samples->client ? mr_smtp_client_send_sync (samples->client, to_self, message, samples->cancellable,
                                                           &samples->error)
                               : NULL;
      sent = result != NULL;
    }
  if (!sent)
    return FALSE;
  if (samples->log != NULL)
    {
      MrSentMailshotMail mail = { message_id, samples->to, outgoing->from_address, outgoing->subject, samples->app,
                                  visit->template_->name,
                                  samples->exchange ? mr_exchange_get_route (samples->exchange)
                                                    : mr_delivery_get_route (visit->delivery),
                                  samples->exchange ? mr_exchange_get_reply (samples->exchange)
                                                    : result ? result->final_reply : NULL, MR_SENT_STATE_ACCEPTED, 1,
                                  g_get_real_time () / G_USEC_PER_SEC };
      g_autoptr(GError) log_error = NULL;

      if (!mr_sent_log_add_mailshot_mails (samples->log, 0, &mail, 1, &log_error))
        g_message ("A sample is not in the sent log: %s", log_error->message);
    }
  return ++samples->sent < (gint) samples->count;
}

static gint
send_samples (MrSettings               *settings,
              MrTemplate               *template_,
              const char               *recipients,
              const MrMailshotOptions  *options,
              const char               *to,
              guint                     count,
              guint                     row,
              GCancellable             *cancellable,
              GError                  **error)
{
  Samples samples = { to, count, row, 0, NULL, options ? options->app : NULL, NULL, cancellable, NULL, NULL };
  g_autoptr(MrSentLog) log = NULL;
  g_autoptr(MrExchange) exchange = NULL;
  g_autofree char *route = NULL;
  gboolean read;

  if (!mr_validate_address (to, error))
    return -1;
  if (count == 0)
    return 0;
  route = mr_mailshot_resolve_route (settings, samples.app, options ? options->route : NULL);
  if (g_str_equal (route, "exchange"))
    {
      exchange = mr_exchange_new (settings, samples.app, error);
      if (exchange == NULL)
        return -1;
      samples.exchange = exchange;
    }
  log = mr_outbox_open_log (settings, NULL, error);
  if (log == NULL)
    return -1;
  samples.log = log;
  read = visit_rows (settings, template_, recipients, options, send_sample, &samples, error);
  if (samples.client != NULL)
    {
      mr_smtp_client_quit_sync (samples.client, NULL, NULL);
      g_object_unref (samples.client);
    }
  if (!read)
    {
      g_clear_error (&samples.error);
      return -1;
    }
  if (samples.error != NULL)
    {
      g_propagate_error (error, samples.error);
      return -1;
    }
  return samples.sent;
}

gint
mr_mailshot_send_samples_sync (MrSettings               *settings,
                               MrTemplate               *template_,
                               const char               *recipients,
                               const MrMailshotOptions  *options,
                               const char               *to,
                               guint                     count,
                               GCancellable             *cancellable,
                               GError                  **error)
{
  return send_samples (settings, template_, recipients, options, to, count, 0, cancellable, error);
}

gboolean
mr_mailshot_send_sample_row_sync (MrSettings               *settings,
                                  MrTemplate               *template_,
                                  const char               *recipients,
                                  const MrMailshotOptions  *options,
                                  const char               *to,
                                  guint                     row,
                                  GCancellable             *cancellable,
                                  GError                  **error)
{
  gint sent = send_samples (settings, template_, recipients, options, to, 1, row, cancellable, error);

  if (sent == 0)
    g_set_error (error, MR_MAILSHOT_ERROR, MR_MAILSHOT_ERROR_NOT_FOUND, _("The list has no row %u"), row);
  return sent > 0;
}
