/* mr-mailshot.c: mailshot jobs and their journal */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <unistd.h>

#include "mr-mailshot.h"
#include "mr-secrets.h"
#include "mr-smtp-error.h"

G_DEFINE_QUARK (mr-mailshot-error-quark, mr_mailshot_error)

/* A temporary failure is tried again after this many seconds. */
#define RETRY_SECONDS 300

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
  if (!exec (self, "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;", error) ||
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

/* ---- Creating a job --------------------------------------------------------------------------- */

typedef struct {
  MrMailshotJournal *journal;
  sqlite3_stmt      *insert;
  gint64             job;
  const char        *from_address;
  const char * const *columns;
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
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  return json_to_string (root, FALSE);
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

  if (create->failed)
    return;
  if (fields != NULL)
    data = row_data (create->columns, fields);
  if (problem == NULL)
    message_id = mr_message_id_new (create->from_address);
  sqlite3_reset (create->insert);
  sqlite3_bind_int64 (create->insert, 1, create->job);
  sqlite3_bind_int64 (create->insert, 2, row);
  bind_text (create->insert, 3, address);
  bind_text (create->insert, 4, data);
  bind_text (create->insert, 5, message_id);
  bind_text (create->insert, 6, problem ? "skipped" : "pending");
  bind_text (create->insert, 7, problem);
  if (sqlite3_step (create->insert) != SQLITE_DONE)
    create->failed = TRUE;
}

gint64
mr_mailshot_create (MrMailshotJournal  *self,
                    MrSettings         *settings,
                    MrTemplate         *template_,
                    const char         *recipients,
                    const char         *address_column,
                    const char         *app,
                    guint               rate,
                    MrProofReport     **report_out,
                    GError            **error)
{
  g_autoptr(MrRecipientReader) reader = mr_recipient_reader_open (recipients, error);
  g_autoptr(MrProofReport) report = NULL;
  g_autoptr(MrDelivery) delivery = NULL;
  g_autoptr(MrOutgoing) sender = mr_outgoing_new ();
  g_autofree char *absolute = NULL;
  CreateJob create = { self, NULL, 0, NULL, NULL, FALSE };

  if (reader == NULL)
    return 0;
  /* The settings must be able to send, and the Message-IDs are in the sender's domain. */
  delivery = mr_delivery_new (settings, app, error);
  if (delivery == NULL)
    return 0;
  mr_delivery_fill_sender (delivery, sender);
  create.from_address = template_->from_address ? template_->from_address : sender->from_address;
  create.columns = mr_recipient_reader_get_columns (reader);
  absolute = g_canonicalize_filename (recipients, NULL);

  if (!exec (self, "BEGIN IMMEDIATE", error))
    return 0;
  if (!run_statement (self, "INSERT INTO jobs (created, template, template_name, recipients, app, state, rate) "
                            "VALUES (?, ?, ?, ?, ?, 'ready', ?)", error, "issssi",
                      g_get_real_time () / G_USEC_PER_SEC, template_->path, template_->name, absolute, app,
                      (gint64) rate))
    goto rollback;
  create.job = sqlite3_last_insert_rowid (self->db);
  create.insert = prepare (self, "INSERT INTO recipients (job, row, address, data, message_id, state, reply) "
                                 "VALUES (?, ?, ?, ?, ?, ?, ?)", error);
  if (create.insert == NULL)
    goto rollback;
  report = mr_proofread (template_, recipients, address_column, insert_row, &create, error);
  sqlite3_finalize (create.insert);
  if (report == NULL)
    goto rollback;
  if (create.failed)
    {
      journal_failed (self, "add recipients", error);
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
  "(SELECT COUNT (*) FROM recipients WHERE job = jobs.id AND state = 'skipped') FROM jobs "

static MrMailshotStatus *
read_status (sqlite3_stmt *statement)
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
    status = read_status (statement);
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
    g_ptr_array_add (jobs, read_status (statement));
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

/* ---- Running ---------------------------------------------------------------------------------- */

static gboolean
job_copy_sent (MrMailshotJournal *self,
               gint64             job)
{
  sqlite3_stmt *statement = prepare (self, "SELECT copy_sent FROM jobs WHERE id = ?", NULL);
  gboolean sent = FALSE;

  if (statement == NULL)
    return FALSE;
  sqlite3_bind_int64 (statement, 1, job);
  if (sqlite3_step (statement) == SQLITE_ROW)
    sent = sqlite3_column_int (statement, 0) != 0;
  sqlite3_finalize (statement);
  return sent;
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

/* The lease: an exclusive lock on a file beside the journal, released when the process ends, however
 * it ends. */
static int
take_lease (MrMailshotJournal  *self,
            gint64              job,
            GError            **error)
{
  g_autofree char *path = g_strdup_printf ("%s.job-%" G_GINT64_FORMAT ".lock", self->path, job);
  int fd = g_open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

  if (fd < 0)
    {
      int saved_errno = errno;
      g_set_error (error, MR_MAILSHOT_ERROR, MR_MAILSHOT_ERROR_JOURNAL, _("Cannot create %s: %s"), path,
                   g_strerror (saved_errno));
      return -1;
    }
  if (flock (fd, LOCK_EX | LOCK_NB) != 0)
    {
      g_autofree char *number = g_strdup_printf ("%" G_GINT64_FORMAT, job);
      close (fd);
      g_set_error (error, MR_MAILSHOT_ERROR, MR_MAILSHOT_ERROR_BUSY,
                   _("Mailshot %s is being sent by another Mailroom; watch it with “mailroom-cli mailshot status”"), number);
      return -1;
    }
  return fd;
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
  return TRUE;
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
  if (error->domain == MR_SETTINGS_ERROR)  /* a header that would break: this row's data */
    return FAILURE_PERMANENT;
  return FAILURE_STOPS_JOB;
}

typedef struct {
  guint  row;
  char  *address;
  char  *data;
  char  *message_id;
} Todo;

static void
todo_clear (Todo *todo)
{
  g_clear_pointer (&todo->address, g_free);
  g_clear_pointer (&todo->data, g_free);
  g_clear_pointer (&todo->message_id, g_free);
}

/* The next recipient to send to, in row order: those cut off mid-send first (they are "sending"). */
static gboolean
next_todo (MrMailshotJournal  *self,
           gint64              job,
           Todo               *todo,
           GError            **error)
{
  /* One index seek each (recipients_todo), not a sort of the whole list per mail. */
  static const char * const queries[] = {
    "SELECT row, address, data, message_id FROM recipients WHERE job = ?1 AND state = 'sending' ORDER BY row LIMIT 1",
    "SELECT row, address, data, message_id FROM recipients WHERE job = ?1 AND state = 'pending' ORDER BY row LIMIT 1",
    "SELECT row, address, data, message_id FROM recipients WHERE job = ?1 AND state = 'failed-temporary' "
    "AND next_attempt <= ?2 ORDER BY row LIMIT 1",
  };
  gboolean found = FALSE;

  for (guint q = 0; q < G_N_ELEMENTS (queries) && !found; q++)
    {
      sqlite3_stmt *statement = prepare (self, queries[q], error);

      if (statement == NULL)
        return FALSE;
      sqlite3_bind_int64 (statement, 1, job);
      sqlite3_bind_int64 (statement, 2, g_get_real_time () / G_USEC_PER_SEC);
      if (sqlite3_step (statement) == SQLITE_ROW)
        {
          todo->row = sqlite3_column_int (statement, 0);
          todo->address = column_text (statement, 1);
          todo->data = column_text (statement, 2);
          todo->message_id = column_text (statement, 3);
          found = TRUE;
        }
      sqlite3_finalize (statement);
    }
  return found;
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Todo, todo_clear)

static GBytes *
build_message (MrTemplate      *template_,
               MrDelivery      *delivery,
               Todo            *todo,
               MrSmtpEnvelope **envelope,
               GError         **error)
{
  g_autoptr(JsonNode) data = json_from_string (todo->data, error);
  g_autoptr(MrRendered) rendered = NULL;
  g_autoptr(MrOutgoing) outgoing = mr_outgoing_new ();

  if (data == NULL)
    return NULL;
  rendered = mr_template_render (template_, data, error);
  if (rendered == NULL)
    return NULL;
  g_ptr_array_add (outgoing->to, g_strdup (todo->address));
  mr_template_fill_outgoing (template_, rendered, outgoing);
  mr_delivery_fill_sender (delivery, outgoing);
  /* One mail per recipient; the company's copy address is not sent a copy of each. */
  g_ptr_array_set_size (outgoing->copy_to, 0);
  outgoing->message_id = g_strdup (todo->message_id);
  *envelope = mr_outgoing_get_envelope (outgoing);
  return mr_outgoing_build (outgoing, NULL, error);
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
  g_autoptr(MrSmtpClient) client = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *copy_to = NULL;
  gboolean copy_sent = FALSE;
  guint done = 0, total = 0;
  gint64 interval, next_send = 0;
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

  template_ = mr_template_load (status->template_path, error);
  delivery = template_ ? mr_delivery_new (settings, status->app, error) : NULL;
  if (delivery == NULL)
    goto out;
  if (template_->from_address != NULL &&
      !mr_settings_domain_is_verified (settings, mr_address_get_domain (template_->from_address)))
    {
      g_set_error (error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_INVALID_VALUE,
                   _("The template sends from %s, which is not in one of the company’s verified domains; "
                     "the admin adds the domain to domains.verified first"), template_->from_address);
      goto out;
    }
  if (!mr_mailshot_set_state (self, job, "running", error))
    goto out;
  {
    g_autoptr(MrOutgoing) sender = mr_outgoing_new ();

    mr_delivery_fill_sender (delivery, sender);
    copy_to = sender->copy_to->len > 0 ? g_strdup (g_ptr_array_index (sender->copy_to, 0)) : NULL;
    copy_sent = job_copy_sent (self, job);
  }
  interval = status->rate > 0 ? 60 * G_USEC_PER_SEC / status->rate : 0;
  total = status->total;
  done = status->total - status->pending - status->failed_temporary;

  for (;;)
    {
      g_auto(Todo) todo = { 0 };
      g_autofree char *state = job_state (self, job, error);
      g_autoptr(GBytes) message = NULL;
      g_autoptr(MrSmtpEnvelope) envelope = NULL;
      g_autoptr(MrSmtpSendResult) result = NULL;
      g_autoptr(GError) send_error = NULL;

      if (state == NULL)
        goto out;
      /* Paused or cancelled from elsewhere (the window, another command): stop between two mails. */
      if (!g_str_equal (state, "running"))
        {
          g_set_error_literal (error, MR_MAILSHOT_ERROR, MR_MAILSHOT_ERROR_PAUSED,
                               g_str_equal (state, "cancelled") ? _("The mailshot was cancelled")
                                                                : _("The mailshot was paused"));
          goto out;
        }
      if (!next_todo (self, job, &todo, &local_error))
        {
          if (local_error != NULL)
            {
              g_propagate_error (error, g_steal_pointer (&local_error));
              goto out;
            }
          /* Recipients to try again later keep the job open. */
          ok = run_statement (self, "UPDATE jobs SET state = CASE WHEN EXISTS (SELECT 1 FROM recipients WHERE job = ?1 "
                                    "AND state = 'failed-temporary') THEN 'ready' ELSE 'done' END WHERE id = ?1", error,
                              "i", job);
          goto out;
        }
      if (!pace (next_send, cancellable))
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("Cancelled"));
          mr_mailshot_set_state (self, job, "paused", NULL);
          goto out;
        }

      message = build_message (template_, delivery, &todo, &envelope, &send_error);
      if (message == NULL)
        {
          g_autofree char *reason = mr_smtp_error_describe_reply (send_error);
          if (!run_statement (self, "UPDATE recipients SET state = 'failed-permanent', reply = ? WHERE job = ? AND row = ?",
                              error, "sii", reason, job, (gint64) todo.row))
            goto out;
          continue;
        }
      /* Committed before the attempt: a crash now leaves it "sending", to be sent again. */
      if (!run_statement (self, "UPDATE recipients SET state = 'sending', attempts = attempts + 1 WHERE job = ? AND row = ?",
                          error, "ii", job, (gint64) todo.row))
        goto out;

      next_send = g_get_monotonic_time () + interval;
      if (client == NULL)
        client = mr_delivery_connect_sync (delivery, cancellable, &send_error);
      if (client != NULL)
        result = mr_smtp_client_send_sync (client, envelope, message, cancellable, &send_error);

      if (result != NULL)
        {
          if (!run_statement (self, "UPDATE recipients SET state = 'accepted', reply = ? WHERE job = ? AND row = ?",
                              error, "sii", result->final_reply, job, (gint64) todo.row))
            goto out;
          /* The company's copy address gets one mail of the job, not one per recipient. */
          if (copy_to != NULL && !copy_sent)
            {
              g_autoptr(MrSmtpEnvelope) copy = mr_smtp_envelope_new (envelope->from);
              g_autoptr(MrSmtpSendResult) copied = NULL;

              mr_smtp_envelope_add_recipient (copy, copy_to);
              copied = mr_smtp_client_send_sync (client, copy, message, cancellable, NULL);
              copy_sent = copied != NULL &&
                          run_statement (self, "UPDATE jobs SET copy_sent = 1 WHERE id = ?", NULL, "i", job);
            }
          if (progress != NULL)
            progress (++done, total, user_data);
          continue;
        }

      {
        g_autofree char *reason = mr_smtp_error_describe_reply (send_error);
        FailureScope scope = failure_scope (send_error);

        if (g_error_matches (send_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
          {
            run_statement (self, "UPDATE recipients SET state = 'pending' WHERE job = ? AND row = ?", NULL, "ii",
                           job, (gint64) todo.row);
            mr_mailshot_set_state (self, job, "paused", NULL);
            g_propagate_error (error, g_steal_pointer (&send_error));
            goto out;
          }
        /* A broken connection is not used again. */
        if (scope != FAILURE_PERMANENT)
          g_clear_object (&client);
        if (scope == FAILURE_STOPS_JOB)
          {
            run_statement (self, "UPDATE recipients SET state = 'pending', reply = ? WHERE job = ? AND row = ?", NULL,
                           "sii", reason, job, (gint64) todo.row);
            run_statement (self, "UPDATE jobs SET state = 'paused', reason = ? WHERE id = ?", NULL, "si",
                           send_error->message, job);
            g_set_error (error, MR_MAILSHOT_ERROR, MR_MAILSHOT_ERROR_PAUSED,
                         _("The mailshot paused itself, as every mail would fail the same way: %s"), send_error->message);
            goto out;
          }
        if (!run_statement (self, "UPDATE recipients SET state = ?, reply = ?, next_attempt = ? WHERE job = ? AND row = ?",
                            error, "ssiii", scope == FAILURE_TEMPORARY ? "failed-temporary" : "failed-permanent", reason,
                            g_get_real_time () / G_USEC_PER_SEC + RETRY_SECONDS, job, (gint64) todo.row))
          goto out;
        /* 4.7.x: the server asks to slow down (too many messages, a rate limit): the whole job does. */
        if (scope == FAILURE_TEMPORARY && send_error->domain == MR_SMTP_ERROR &&
            g_str_has_prefix (mr_smtp_error_get_enhanced_code (send_error) ? mr_smtp_error_get_enhanced_code (send_error) : "",
                              "4.7."))
          {
            interval = MAX (interval * 2, G_USEC_PER_SEC);
            next_send = g_get_monotonic_time () + interval;
          }
        if (progress != NULL)
          progress (++done, total, user_data);
      }
    }

out:
  if (client != NULL)
    mr_smtp_client_quit_sync (client, NULL, NULL);
  close (lease);
  return ok;
}

/* ---- Dry run ---------------------------------------------------------------------------------- */

typedef struct {
  MrTemplate         *template_;
  MrDelivery         *delivery;
  const char         *dir;
  const char * const *columns;
  const char         *from_address;
  gint64              written;
  GError             *error;
} DryRun;

static void
write_row (guint               row,
           const char         *address,
           const char * const *fields,
           const char         *problem,
           gpointer            user_data)
{
  DryRun *dry = user_data;
  g_auto(Todo) todo = { 0 };
  g_autoptr(MrSmtpEnvelope) envelope = NULL;
  g_autoptr(GBytes) message = NULL;
  g_autofree char *name = NULL;
  g_autofree char *path = NULL;

  if (problem != NULL || dry->error != NULL)
    return;
  todo.row = row;
  todo.address = g_strdup (address);
  todo.data = row_data (dry->columns, fields);
  todo.message_id = mr_message_id_new (dry->from_address);
  message = build_message (dry->template_, dry->delivery, &todo, &envelope, &dry->error);
  if (message == NULL)
    return;
  name = g_strdup_printf ("%06u.eml", row);
  path = g_build_filename (dry->dir, name, NULL);
  if (g_file_set_contents_full (path, g_bytes_get_data (message, NULL), g_bytes_get_size (message),
                                G_FILE_SET_CONTENTS_CONSISTENT, 0644, &dry->error))
    dry->written++;
}

gint64
mr_mailshot_dry_run (MrSettings  *settings,
                     MrTemplate  *template_,
                     const char  *recipients,
                     const char  *address_column,
                     const char  *app,
                     const char  *dir,
                     GError     **error)
{
  g_autoptr(MrRecipientReader) reader = mr_recipient_reader_open (recipients, error);
  g_autoptr(MrDelivery) delivery = NULL;
  g_autoptr(MrOutgoing) sender = mr_outgoing_new ();
  g_autoptr(MrProofReport) report = NULL;
  DryRun dry = { template_, NULL, dir, NULL, NULL, 0, NULL };

  if (reader == NULL)
    return -1;
  delivery = mr_delivery_new (settings, app, error);
  if (delivery == NULL)
    return -1;
  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno), _("Cannot create %s: %s"), dir,
                   g_strerror (saved_errno));
      return -1;
    }
  mr_delivery_fill_sender (delivery, sender);
  dry.delivery = delivery;
  dry.columns = mr_recipient_reader_get_columns (reader);
  dry.from_address = template_->from_address ? template_->from_address : sender->from_address;
  report = mr_proofread (template_, recipients, address_column, write_row, &dry, error);
  if (report == NULL)
    {
      g_clear_error (&dry.error);
      return -1;
    }
  if (dry.error != NULL)
    {
      g_propagate_error (error, dry.error);
      return -1;
    }
  return dry.written;
}
