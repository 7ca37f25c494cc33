/* mr-mailshot.c: mailshot jobs and their journal: the journal itself, the pace, creating a job and its
 * status. Running a job is mr-mailshot-run.c, its dry run, preview and samples mr-mailshot-samples.c. */

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
#include "mr-mailshot-private.h"
#include "mr-sqlite.h"
#include "mr-outbox.h"
#include "mr-presets.h"
#include "mr-secrets.h"
#include "mr-smtp-error.h"

G_DEFINE_QUARK (mr-mailshot-error-quark, mr_mailshot_error)


/* ---- SQLite ----------------------------------------------------------------------------------- */

gboolean
mr_mailshot_journal_failed (MrMailshotJournal  *self,
                            const char         *what,
                            GError            **error)
{
  g_set_error (error, MR_MAILSHOT_ERROR, MR_MAILSHOT_ERROR_JOURNAL, _("The mailshot journal %s failed (%s): %s"),
               self->path, what, sqlite3_errmsg (self->db));
  return FALSE;
}

sqlite3_stmt *
mr_mailshot_prepare (MrMailshotJournal  *self,
                     const char         *sql,
                     GError            **error)
{
  sqlite3_stmt *statement = NULL;

  if (sqlite3_prepare_v2 (self->db, sql, -1, &statement, NULL) != SQLITE_OK)
    {
      mr_mailshot_journal_failed (self, "prepare", error);
      return NULL;
    }
  return statement;
}

gboolean
mr_mailshot_exec (MrMailshotJournal  *self,
                  const char         *sql,
                  GError            **error)
{
  if (sqlite3_exec (self->db, sql, NULL, NULL, NULL) != SQLITE_OK)
    return mr_mailshot_journal_failed (self, sql, error);
  return TRUE;
}

char *
mr_mailshot_column_text (sqlite3_stmt *statement,
                         int           column)
{
  const unsigned char *text = sqlite3_column_text (statement, column);
  return text ? g_strdup ((const char *) text) : NULL;
}

void
mr_mailshot_bind_text (sqlite3_stmt *statement,
                       int           index,
                       const char   *text)
{
  if (text != NULL)
    sqlite3_bind_text (statement, index, text, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null (statement, index);
}

/* One statement with integer and text parameters ("i" and "s" in @types), run to the end. */
gboolean
mr_mailshot_run_statement (MrMailshotJournal  *self,
                           const char         *sql,
                           GError            **error,
                           const char         *types,
                           ...)
{
  sqlite3_stmt *statement = mr_mailshot_prepare (self, sql, error);
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
        mr_mailshot_bind_text (statement, i + 1, va_arg (args, const char *));
    }
  va_end (args);
  ok = sqlite3_step (statement) == SQLITE_DONE;
  sqlite3_finalize (statement);
  return ok ? TRUE : mr_mailshot_journal_failed (self, "write", error);
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
  if (!mr_mailshot_exec (self, "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;", error))
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
      mr_mailshot_journal_failed (self, "PRAGMA journal_mode = WAL", error);
      mr_mailshot_journal_free (self);
      return NULL;
    }
  if (!mr_mailshot_exec (self, "BEGIN IMMEDIATE;", error) ||
                         !mr_mailshot_exec (self,
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
            mr_mailshot_journal_failed (self, sql, error);
            sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
            mr_mailshot_journal_free (self);
            return NULL;
          }
        sqlite3_free (message);
      }
    if (!mr_mailshot_exec (self, "CREATE INDEX IF NOT EXISTS recipients_sent ON recipients (sent_at);"
                           "CREATE INDEX IF NOT EXISTS recipients_token ON recipients (token) WHERE token IS NOT NULL;", error))
      {
        sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
        mr_mailshot_journal_free (self);
        return NULL;
      }
  }
  if (!mr_mailshot_exec (self, "PRAGMA user_version = " G_STRINGIFY (JOURNAL_VERSION) "; COMMIT;", error))
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

char *
mr_mailshot_row_data (const char * const *columns,
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
char *
mr_mailshot_new_token (void)
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
    data = mr_mailshot_row_data (create->columns, fields);
  if (problem == NULL)
    {
      message_id = mr_message_id_new (create->from_address);
      token = create->tokens ? mr_mailshot_new_token () : NULL;
    }
  sqlite3_reset (create->insert);
  sqlite3_bind_int64 (create->insert, 1, create->job);
  sqlite3_bind_int64 (create->insert, 2, row);
  mr_mailshot_bind_text (create->insert, 3, address);
  mr_mailshot_bind_text (create->insert, 4, data);
  mr_mailshot_bind_text (create->insert, 5, message_id);
  mr_mailshot_bind_text (create->insert, 6, problem ? "skipped" : "pending");
  mr_mailshot_bind_text (create->insert, 7, problem);
  mr_mailshot_bind_text (create->insert, 8, token);
  if (sqlite3_step (create->insert) != SQLITE_DONE)
    create->failed = TRUE;
}

static const MrMailshotOptions default_options = MR_MAILSHOT_OPTIONS_INIT;

char *
mr_mailshot_resolve_route (MrSettings *settings,
                           const char *app,
                           const char *route)
{
  /* smtp, exchange, or a transport of its own (mr_router_register_transport()). */
  if (route != NULL && !g_str_equal (route, "auto") && mr_router_has_route (route))
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
  g_autoptr(MrRouter) router = NULL;
  g_autoptr(MrSender) sender = NULL;
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
  router = mr_router_new (settings, app, route, NULL, error);
  if (router == NULL || !mr_router_check (router, error))
    return 0;
  sender = mr_sender_new (settings, app, error);
  if (sender == NULL)
    return 0;
  create.from_address = template_->from_address ? template_->from_address : mr_sender_get_address (sender);
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

  if (!mr_mailshot_exec (self, "BEGIN IMMEDIATE", error))
    return 0;
  if (!mr_mailshot_run_statement (self, "INSERT INTO jobs (created, template, template_name, recipients, app, state, rate, per_day, "
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
  create.insert = mr_mailshot_prepare (self, "INSERT INTO recipients (job, row, address, data, message_id, state, reply, token) "
                                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", error);
  if (create.insert == NULL)
    goto rollback;
  report = mr_proofread_full (template_, recipients, &options->proof, insert_row, &create, error);
  sqlite3_finalize (create.insert);
  if (report == NULL)
    goto rollback;
  if (create.failed)
    {
      mr_mailshot_journal_failed (self, "add recipients", error);
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
  if (!mr_mailshot_exec (self, "COMMIT", error))
    goto rollback;
  if (report_out != NULL)
    *report_out = g_steal_pointer (&report);
  return create.job;

rollback:
  sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
  return 0;
}

/* ---- A job's settings, its state, its lease --------------------------------------------------- */

void
mr_mailshot_job_config_clear (JobConfig *config)
{
  g_clear_pointer (&config->name_column, g_free);
  g_clear_pointer (&config->attachment_column, g_free);
  g_clear_pointer (&config->attachments_dir, g_free);
  g_clear_pointer (&config->unsubscribe_url, g_free);
  g_clear_pointer (&config->unsubscribe_mailto, g_free);
}

gboolean
mr_mailshot_read_job_config (MrMailshotJournal  *self,
                             gint64              job,
                             JobConfig          *config,
                             GError            **error)
{
  sqlite3_stmt *statement = mr_mailshot_prepare (self, "SELECT attachment_column, attachments_dir, unsubscribe_url, "
                                                 "unsubscribe_mailto, copy_each, copy_sent, name_column FROM jobs WHERE id = ?",
                                                 error);
  gboolean found;

  if (statement == NULL)
    return FALSE;
  sqlite3_bind_int64 (statement, 1, job);
  found = sqlite3_step (statement) == SQLITE_ROW;
  if (found)
    {
      config->attachment_column = mr_mailshot_column_text (statement, 0);
      config->attachments_dir = mr_mailshot_column_text (statement, 1);
      config->unsubscribe_url = mr_mailshot_column_text (statement, 2);
      config->unsubscribe_mailto = mr_mailshot_column_text (statement, 3);
      config->copy_each = sqlite3_column_int (statement, 4) != 0;
      config->copy_sent = sqlite3_column_int (statement, 5) != 0;
      config->name_column = mr_mailshot_column_text (statement, 6);
    }
  else
    mr_mailshot_journal_failed (self, "read", error);
  sqlite3_finalize (statement);
  return found;
}

static char *
lease_path (MrMailshotJournal *self,
            gint64             job)
{
  return g_strdup_printf ("%s.job-%" G_GINT64_FORMAT ".lock", self->path, job);
}

/* The lease: an exclusive lock (an open file description lock) on a file beside the journal,
 * released when the process ends, however it ends. */
int
mr_mailshot_take_lease (MrMailshotJournal  *self,
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


static MrMailshotStatus *
read_status (MrMailshotJournal *self,
             sqlite3_stmt      *statement)
{
  MrMailshotStatus *status = g_new0 (MrMailshotStatus, 1);

  status->id = sqlite3_column_int64 (statement, 0);
  status->template_path = mr_mailshot_column_text (statement, 1);
  status->template_name = mr_mailshot_column_text (statement, 2);
  status->recipients_path = mr_mailshot_column_text (statement, 3);
  status->app = mr_mailshot_column_text (statement, 4);
  status->state = mr_mailshot_column_text (statement, 5);
  status->reason = mr_mailshot_column_text (statement, 6);
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
  status->route = mr_mailshot_column_text (statement, 19);
  status->running = g_str_equal (status->state, "running") && lease_is_held (self, status->id);
  return status;
}

MrMailshotStatus *
mr_mailshot_get_status (MrMailshotJournal  *self,
                        gint64              job,
                        GError            **error)
{
  sqlite3_stmt *statement = mr_mailshot_prepare (self, STATUS_SQL "WHERE id = ?", error);
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
  sqlite3_stmt *statement = mr_mailshot_prepare (self, STATUS_SQL "ORDER BY id DESC", error);
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
  sqlite3_stmt *statement = mr_mailshot_prepare (self, "SELECT row, address, state, reply, message_id, attempts FROM recipients "
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
      recipient->address = mr_mailshot_column_text (statement, 1);
      recipient->state = mr_mailshot_column_text (statement, 2);
      recipient->reply = mr_mailshot_column_text (statement, 3);
      recipient->message_id = mr_mailshot_column_text (statement, 4);
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
  return mr_mailshot_run_statement (self, "UPDATE jobs SET state = ?, reason = NULL WHERE id = ?", error, "si", state, job);
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
  sqlite3_stmt *statement = mr_mailshot_prepare (self, "SELECT address FROM recipients WHERE token = ? LIMIT 1", NULL);
  char *address = NULL;

  if (statement == NULL)
    return NULL;
  mr_mailshot_bind_text (statement, 1, token);
  if (sqlite3_step (statement) == SQLITE_ROW)
    address = mr_mailshot_column_text (statement, 0);
  sqlite3_finalize (statement);
  return address;
}
