/* mr-sent-log.c: the sent log and the outbox, in SQLite
 *
 * Just over 1,000 lines, and kept whole: the log and the outbox are one database, with one schema and
 * its migrations, and the outbox's claims (which keep the window and a scheduler from sending one
 * mail twice) are written in the same transactions as the log's attempts. */

#include "config.h"

#include <errno.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <sqlite3.h>
#include <string.h>

#include "mr-sent-log.h"
#include "mr-sqlite.h"
#include "mr-settings.h"

G_DEFINE_QUARK (mr-sent-log-error-quark, mr_sent_log_error)

#define SCHEMA_VERSION 3

struct _MrSentLog
{
  GObject  parent_instance;

  sqlite3 *db;
  char    *path;
  GMutex   lock;      /* one statement at a time: the GUI and a worker may share the log */
};

G_DEFINE_FINAL_TYPE (MrSentLog, mr_sent_log, G_TYPE_OBJECT)

static const char * const state_names[] = { "sending", "accepted", "queued", "failed", "cancelled", "partly-accepted" };

const char *
mr_sent_state_to_string (MrSentState state)
{
  return state_names[state];
}

gboolean
mr_sent_state_from_string (const char  *text,
                           MrSentState *state)
{
  for (guint i = 0; i < G_N_ELEMENTS (state_names); i++)
    if (g_strcmp0 (text, state_names[i]) == 0)
      {
        *state = i;
        return TRUE;
      }
  return FALSE;
}

void
mr_sent_recipient_free (MrSentRecipient *recipient)
{
  if (recipient == NULL)
    return;
  g_free (recipient->address);
  g_free (recipient->outcome);
  g_free (recipient->reply);
  g_free (recipient);
}

void
mr_sent_entry_free (MrSentEntry *entry)
{
  if (entry == NULL)
    return;
  g_free (entry->message_id);
  g_free (entry->user);
  g_free (entry->app);
  g_free (entry->template_name);
  g_free (entry->from_address);
  g_free (entry->subject);
  g_strfreev (entry->recipients);
  g_clear_pointer (&entry->outcomes, g_ptr_array_unref);
  g_free (entry->route);
  g_free (entry->log_option);
  g_free (entry->last_error);
  g_free (entry);
}

void
mr_sent_attempt_free (MrSentAttempt *attempt)
{
  if (attempt == NULL)
    return;
  g_free (attempt->route);
  g_free (attempt->server);
  g_free (attempt->outcome);
  g_free (attempt->reply);
  g_free (attempt);
}

static void
mr_sent_log_finalize (GObject *object)
{
  MrSentLog *self = MR_SENT_LOG (object);

  if (self->db != NULL)
    sqlite3_close (self->db);
  g_free (self->path);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (mr_sent_log_parent_class)->finalize (object);
}

static void
mr_sent_log_class_init (MrSentLogClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mr_sent_log_finalize;
}

static void
mr_sent_log_init (MrSentLog *self)
{
  g_mutex_init (&self->lock);
}

char *
mr_sent_log_get_default_path (void)
{
  return mr_get_user_data_path ("sent.db");
}

static gboolean
db_failed (MrSentLog      *self,
           MrSentLogError  code,
           const char     *what,
           GError        **error)
{
  int status = sqlite3_errcode (self->db);
  int system_errno = sqlite3_system_errno (self->db);

  /* No room (a full disk, a quota, a file-size limit): say so plainly, not "disk I/O error". */
  if (status == SQLITE_FULL || system_errno == ENOSPC || system_errno == EDQUOT || system_errno == EFBIG)
    g_set_error (error, MR_SENT_LOG_ERROR, code, _("The sent log %s could not be written (%s): no room is left (%s)"),
                 self->path, what, g_strerror (system_errno ? system_errno : ENOSPC));
  else
    g_set_error (error, MR_SENT_LOG_ERROR, code, _("The sent log %s failed (%s): %s"), self->path, what,
                 sqlite3_errmsg (self->db));
  return FALSE;
}

static gboolean
exec_or (MrSentLog       *self,
         const char      *sql,
         MrSentLogError   code,
         GError         **error)
{
  if (sqlite3_exec (self->db, sql, NULL, NULL, NULL) != SQLITE_OK)
    return db_failed (self, code, sql, error);
  return TRUE;
}

static gboolean
exec (MrSentLog   *self,
      const char  *sql,
      GError     **error)
{
  return exec_or (self, sql, MR_SENT_LOG_ERROR_WRITE, error);
}

MrSentLog *
mr_sent_log_open (const char  *path,
                  GError     **error)
{
  g_autoptr(MrSentLog) self = g_object_new (MR_TYPE_SENT_LOG, NULL);
  g_autofree char *dir = NULL;
  sqlite3_stmt *statement = NULL;
  int version = 0;

  self->path = path ? g_strdup (path) : mr_sent_log_get_default_path ();
  dir = g_path_get_dirname (self->path);
  /* Personal data: only its owner reads it. */
  g_mkdir_with_parents (dir, 0700);
  if (sqlite3_open_v2 (self->path, &self->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL)
      != SQLITE_OK)
    {
      g_set_error (error, MR_SENT_LOG_ERROR, MR_SENT_LOG_ERROR_OPEN, _("The sent log %s cannot be opened: %s"),
                   self->path, self->db ? sqlite3_errmsg (self->db) : "?");
      return NULL;
    }
  g_chmod (self->path, 0600);
  sqlite3_busy_timeout (self->db, 5000);

  if (mr_sqlite_use_wal (self->db) != SQLITE_OK)
    {
      g_set_error (error, MR_SENT_LOG_ERROR, MR_SENT_LOG_ERROR_OPEN, _("The sent log %s cannot be opened: %s"),
                   self->path, sqlite3_errmsg (self->db));
      return NULL;
    }
  /* The schema is read and brought up to date in one transaction: two processes opening a new log
   * at once must not both create it. */
  if (!exec_or (self, "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL; BEGIN IMMEDIATE;",
                MR_SENT_LOG_ERROR_OPEN, error))
    return NULL;

  if (sqlite3_prepare_v2 (self->db, "PRAGMA user_version", -1, &statement, NULL) == SQLITE_OK &&
      sqlite3_step (statement) == SQLITE_ROW)
    version = sqlite3_column_int (statement, 0);
  sqlite3_finalize (statement);
  if (version > SCHEMA_VERSION)
    {
      sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
      g_set_error (error, MR_SENT_LOG_ERROR, MR_SENT_LOG_ERROR_OPEN,
                   _("The sent log %s was written by a newer Mailroom"), self->path);
      return NULL;
    }

  if (version == 0 &&
      !exec_or (self,
             "CREATE TABLE messages ("
             "  id INTEGER PRIMARY KEY,"
             "  message_id TEXT NOT NULL UNIQUE,"
             "  created INTEGER NOT NULL,"
             "  updated INTEGER NOT NULL,"
             "  user TEXT, app TEXT, template TEXT,"
             "  from_address TEXT NOT NULL,"
             "  subject TEXT NOT NULL,"
             "  recipients TEXT NOT NULL,"
             "  state TEXT NOT NULL,"
             "  route TEXT,"
             "  log_option TEXT NOT NULL,"
             "  copy BLOB,"
             "  next_attempt INTEGER NOT NULL DEFAULT 0,"
             "  attempts INTEGER NOT NULL DEFAULT 0,"
             "  last_error TEXT);"
             "CREATE TABLE attempts ("
             "  id INTEGER PRIMARY KEY,"
             "  message INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,"
             "  time INTEGER NOT NULL,"
             "  route TEXT NOT NULL,"
             "  server TEXT,"
             "  outcome TEXT NOT NULL,"
             "  reply TEXT);"
             "CREATE INDEX messages_created ON messages (created);"
             "CREATE INDEX messages_state ON messages (state, next_attempt);"
             "CREATE INDEX attempts_message ON attempts (message);"
             "PRAGMA user_version = 1;", MR_SENT_LOG_ERROR_OPEN, error))
    goto rollback;
  /* 2: mails of a mailshot name their job. */
  if (version < 2 &&
      !exec_or (self, "ALTER TABLE messages ADD COLUMN mailshot INTEGER; PRAGMA user_version = 2;",
                MR_SENT_LOG_ERROR_OPEN, error))
    goto rollback;
  /* 3: each recipient's own outcome and reply, as a JSON object by address. */
  if (version < 3 &&
      !exec_or (self, "ALTER TABLE messages ADD COLUMN outcomes TEXT; PRAGMA user_version = 3;",
                MR_SENT_LOG_ERROR_OPEN, error))
    goto rollback;
  if (!exec_or (self, "COMMIT;", MR_SENT_LOG_ERROR_OPEN, error))
    goto rollback;

  return g_steal_pointer (&self);

rollback:
  sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
  return NULL;
}

static sqlite3_stmt *
prepare (MrSentLog   *self,
         const char  *sql,
         GError     **error)
{
  sqlite3_stmt *statement = NULL;

  if (sqlite3_prepare_v2 (self->db, sql, -1, &statement, NULL) != SQLITE_OK)
    {
      db_failed (self, MR_SENT_LOG_ERROR_WRITE, "prepare", error);
      return NULL;
    }
  return statement;
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

gint64
mr_sent_log_add (MrSentLog          *self,
                 const char         *message_id,
                 const char         *user,
                 const char         *app,
                 const char         *template_name,
                 const char         *from_address,
                 const char         *subject,
                 const char * const *recipients,
                 const char         *log_option,
                 GBytes             *message,
                 GError            **error)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) list = NULL;
  g_autofree char *recipients_json = NULL;
  sqlite3_stmt *statement;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  gint64 id = 0;

  json_builder_begin_array (builder);
  for (guint i = 0; recipients != NULL && recipients[i] != NULL; i++)
    json_builder_add_string_value (builder, recipients[i]);
  json_builder_end_array (builder);
  list = json_builder_get_root (builder);
  recipients_json = json_to_string (list, FALSE);

  g_mutex_lock (&self->lock);
  statement = prepare (self, "INSERT INTO messages (message_id, created, updated, user, app, template, from_address, "
                             "subject, recipients, state, log_option, copy, next_attempt) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'sending', ?, ?, ?)",
                       error);
  if (statement != NULL)
    {
      bind_text (statement, 1, message_id);
      sqlite3_bind_int64 (statement, 2, now);
      sqlite3_bind_int64 (statement, 3, now);
      bind_text (statement, 4, user);
      bind_text (statement, 5, app);
      bind_text (statement, 6, template_name);
      bind_text (statement, 7, from_address);
      bind_text (statement, 8, subject ? subject : "");
      bind_text (statement, 9, recipients_json);
      bind_text (statement, 10, log_option ? log_option : "full");
      /* Kept until the message is final, whatever the log option: the outbox may need it. */
      if (message != NULL)
        sqlite3_bind_blob64 (statement, 11, g_bytes_get_data (message, NULL), g_bytes_get_size (message), SQLITE_TRANSIENT);
      else
        sqlite3_bind_null (statement, 11);
      /* Claimed by this send: past the deadline, the send was abandoned (mr_sent_log_claim_due()). */
      sqlite3_bind_int64 (statement, 12, now + MR_SENT_LOG_CLAIM_SECONDS);
      if (sqlite3_step (statement) == SQLITE_DONE)
        id = sqlite3_last_insert_rowid (self->db);
      else
        db_failed (self, MR_SENT_LOG_ERROR_WRITE, "add", error);
      sqlite3_finalize (statement);
    }
  g_mutex_unlock (&self->lock);
  return id;
}

gboolean
mr_sent_log_add_mailshot_mails (MrSentLog                 *self,
                                gint64                     job,
                                const MrSentMailshotMail  *mails,
                                guint                      n_mails,
                                GError                   **error)
{
  sqlite3_stmt *message = NULL;
  sqlite3_stmt *attempt = NULL;
  gboolean ok = FALSE;

  g_mutex_lock (&self->lock);
  if (!exec (self, "BEGIN IMMEDIATE", error))
    goto out;
  /* Already there (recorded before a crash, say): left as it is. */
  message = prepare (self, "INSERT OR IGNORE INTO messages (message_id, created, updated, user, app, template, "
                           "from_address, subject, recipients, state, route, log_option, attempts, last_error, mailshot) "
                           "VALUES (?1, ?2, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'headers', ?11, ?12, ?13)", error);
  attempt = prepare (self, "INSERT INTO attempts (message, time, route, server, outcome, reply) "
                           "VALUES (?, ?, ?, NULL, ?, ?)", error);
  if (message == NULL || attempt == NULL)
    goto rollback;
  for (guint i = 0; i < n_mails; i++)
    {
      const MrSentMailshotMail *mail = &mails[i];
      g_autofree char *recipients = NULL;
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) list = NULL;

      json_builder_begin_array (builder);
      json_builder_add_string_value (builder, mail->recipient);
      json_builder_end_array (builder);
      list = json_builder_get_root (builder);
      recipients = json_to_string (list, FALSE);
      sqlite3_reset (message);
      bind_text (message, 1, mail->message_id);
      sqlite3_bind_int64 (message, 2, mail->time);
      bind_text (message, 3, g_get_user_name ());
      bind_text (message, 4, mail->app);
      bind_text (message, 5, mail->template_name);
      bind_text (message, 6, mail->from_address);
      bind_text (message, 7, mail->subject ? mail->subject : "");
      bind_text (message, 8, recipients);
      bind_text (message, 9, mr_sent_state_to_string (mail->state));
      bind_text (message, 10, mail->route);
      sqlite3_bind_int64 (message, 11, mail->attempts);
      bind_text (message, 12, mail->state == MR_SENT_STATE_FAILED ? mail->reply : NULL);
      if (job > 0)
        sqlite3_bind_int64 (message, 13, job);
      else
        sqlite3_bind_null (message, 13);
      if (sqlite3_step (message) != SQLITE_DONE)
        goto failed;
      if (sqlite3_changes (self->db) == 0)
        continue;
      sqlite3_reset (attempt);
      sqlite3_bind_int64 (attempt, 1, sqlite3_last_insert_rowid (self->db));
      sqlite3_bind_int64 (attempt, 2, mail->time);
      bind_text (attempt, 3, mail->route ? mail->route : "smtp");
      bind_text (attempt, 4, mail->state == MR_SENT_STATE_FAILED ? "refused" : "accepted");
      bind_text (attempt, 5, mail->reply);
      if (sqlite3_step (attempt) != SQLITE_DONE)
        goto failed;
    }
  ok = exec (self, "COMMIT", error);
  if (!ok)
    goto rollback;
  goto out;

failed:
  db_failed (self, MR_SENT_LOG_ERROR_WRITE, "add mailshot mails", error);
rollback:
  sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
out:
  sqlite3_finalize (message);
  sqlite3_finalize (attempt);
  g_mutex_unlock (&self->lock);
  return ok;
}

static gboolean
update_state_locked (MrSentLog   *self,
                     gint64       id,
                     MrSentState  state,
                     gint64       next_attempt,
                     const char  *route,
                     const char  *last_error,
                     gboolean     count_attempt,
                     GError     **error)
{
  sqlite3_stmt *statement;
  gboolean ok;
  gboolean final = state == MR_SENT_STATE_ACCEPTED || state == MR_SENT_STATE_FAILED || state == MR_SENT_STATE_CANCELLED ||
                   state == MR_SENT_STATE_PARTLY_ACCEPTED;

  statement = prepare (self, "UPDATE messages SET state = ?, next_attempt = ?, updated = ?, "
                             "route = COALESCE (?, route), last_error = ?, attempts = attempts + ?, "
                             "copy = CASE WHEN ? AND log_option = 'headers' THEN NULL ELSE copy END WHERE id = ?", error);
  if (statement == NULL)
    return FALSE;
  bind_text (statement, 1, mr_sent_state_to_string (state));
  sqlite3_bind_int64 (statement, 2, next_attempt);
  sqlite3_bind_int64 (statement, 3, g_get_real_time () / G_USEC_PER_SEC);
  bind_text (statement, 4, route);
  bind_text (statement, 5, last_error);
  sqlite3_bind_int (statement, 6, count_attempt ? 1 : 0);
  sqlite3_bind_int (statement, 7, final);
  sqlite3_bind_int64 (statement, 8, id);
  ok = sqlite3_step (statement) == SQLITE_DONE;
  sqlite3_finalize (statement);
  if (!ok)
    return db_failed (self, MR_SENT_LOG_ERROR_WRITE, "update", error);
  if (sqlite3_changes (self->db) == 0)
    {
      g_autofree char *entry_text = g_strdup_printf ("%" G_GINT64_FORMAT, id);

      g_set_error (error, MR_SENT_LOG_ERROR, MR_SENT_LOG_ERROR_NOT_FOUND, _("There is no sent-log entry %s"), entry_text);
      return FALSE;
    }
  return TRUE;
}

gboolean
mr_sent_log_record_attempt (MrSentLog   *self,
                            gint64       id,
                            const char  *route,
                            const char  *server,
                            const char  *outcome,
                            const char  *reply,
                            MrSentState  state,
                            gint64       next_attempt,
                            GError     **error)
{
  return mr_sent_log_record_attempt_for (self, id, route, server, outcome, reply, state, next_attempt, NULL, 0, error);
}

/* With @lock held, in a transaction: the recipients' outcomes merged into the entry's. */
static gboolean
merge_outcomes_locked (MrSentLog             *self,
                       gint64                 id,
                       const MrSentRecipient *recipients,
                       guint                  n_recipients,
                       GError               **error)
{
  sqlite3_stmt *statement = prepare (self, "SELECT outcomes FROM messages WHERE id = ?", error);
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *text = NULL;
  JsonObject *object;
  gboolean ok;

  if (statement == NULL)
    return FALSE;
  sqlite3_bind_int64 (statement, 1, id);
  if (sqlite3_step (statement) == SQLITE_ROW && sqlite3_column_text (statement, 0) != NULL)
    root = json_from_string ((const char *) sqlite3_column_text (statement, 0), NULL);
  sqlite3_finalize (statement);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_clear_pointer (&root, json_node_unref);
      root = json_node_new (JSON_NODE_OBJECT);
      json_node_take_object (root, json_object_new ());
    }
  object = json_node_get_object (root);
  for (guint i = 0; i < n_recipients; i++)
    {
      JsonArray *pair = json_array_new ();

      json_array_add_string_element (pair, recipients[i].outcome);
      if (recipients[i].reply != NULL)
        json_array_add_string_element (pair, recipients[i].reply);
      else
        json_array_add_null_element (pair);
      json_object_set_array_member (object, recipients[i].address, pair);
    }
  text = json_to_string (root, FALSE);
  statement = prepare (self, "UPDATE messages SET outcomes = ? WHERE id = ?", error);
  if (statement == NULL)
    return FALSE;
  bind_text (statement, 1, text);
  sqlite3_bind_int64 (statement, 2, id);
  ok = sqlite3_step (statement) == SQLITE_DONE;
  sqlite3_finalize (statement);
  return ok || db_failed (self, MR_SENT_LOG_ERROR_WRITE, "outcomes", error);
}

gboolean
mr_sent_log_record_attempt_for (MrSentLog             *self,
                                gint64                 id,
                                const char            *route,
                                const char            *server,
                                const char            *outcome,
                                const char            *reply,
                                MrSentState            state,
                                gint64                 next_attempt,
                                const MrSentRecipient *recipients,
                                guint                  n_recipients,
                                GError               **error)
{
  sqlite3_stmt *statement;
  gboolean ok = FALSE;

  g_mutex_lock (&self->lock);
  if (!exec (self, "BEGIN IMMEDIATE", error))
    goto out;
  if (n_recipients > 0 && !merge_outcomes_locked (self, id, recipients, n_recipients, error))
    goto rollback;

  statement = prepare (self, "INSERT INTO attempts (message, time, route, server, outcome, reply) VALUES (?, ?, ?, ?, ?, ?)", error);
  if (statement == NULL)
    goto rollback;
  sqlite3_bind_int64 (statement, 1, id);
  sqlite3_bind_int64 (statement, 2, g_get_real_time () / G_USEC_PER_SEC);
  bind_text (statement, 3, route);
  bind_text (statement, 4, server);
  bind_text (statement, 5, outcome);
  bind_text (statement, 6, reply);
  ok = sqlite3_step (statement) == SQLITE_DONE;
  sqlite3_finalize (statement);
  if (!ok)
    {
      db_failed (self, MR_SENT_LOG_ERROR_WRITE, "attempt", error);
      goto rollback;
    }
  ok = update_state_locked (self, id, state, next_attempt, route,
                            state == MR_SENT_STATE_ACCEPTED ? NULL : reply, TRUE, error);
  if (!ok)
    goto rollback;
  ok = exec (self, "COMMIT", error);
  if (ok)
    goto out;

rollback:
  ok = FALSE;
  sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
out:
  g_mutex_unlock (&self->lock);
  return ok;
}

gboolean
mr_sent_log_set_state (MrSentLog   *self,
                       gint64       id,
                       MrSentState  state,
                       gint64       next_attempt,
                       GError     **error)
{
  gboolean ok;

  g_mutex_lock (&self->lock);
  ok = update_state_locked (self, id, state, next_attempt, NULL, NULL, FALSE, error);
  g_mutex_unlock (&self->lock);
  return ok;
}

#define ENTRY_COLUMNS "id, message_id, created, updated, user, app, template, from_address, subject, recipients, " \
                      "state, route, log_option, copy IS NOT NULL, next_attempt, attempts, last_error, mailshot, outcomes"

static char *
column_text (sqlite3_stmt *statement,
             int           column)
{
  const unsigned char *text = sqlite3_column_text (statement, column);
  return text ? g_strdup ((const char *) text) : NULL;
}

static MrSentEntry *
read_entry (sqlite3_stmt *statement)
{
  MrSentEntry *entry = g_new0 (MrSentEntry, 1);
  g_autofree char *recipients = NULL;
  g_autofree char *state = NULL;
  g_autoptr(JsonNode) list = NULL;
  GStrvBuilder *builder = g_strv_builder_new ();

  entry->id = sqlite3_column_int64 (statement, 0);
  entry->message_id = column_text (statement, 1);
  entry->created = sqlite3_column_int64 (statement, 2);
  entry->updated = sqlite3_column_int64 (statement, 3);
  entry->user = column_text (statement, 4);
  entry->app = column_text (statement, 5);
  entry->template_name = column_text (statement, 6);
  entry->from_address = column_text (statement, 7);
  entry->subject = column_text (statement, 8);
  recipients = column_text (statement, 9);
  state = column_text (statement, 10);
  mr_sent_state_from_string (state, &entry->state);
  entry->route = column_text (statement, 11);
  entry->log_option = column_text (statement, 12);
  entry->has_copy = sqlite3_column_int (statement, 13) != 0;
  entry->next_attempt = sqlite3_column_int64 (statement, 14);
  entry->attempts = sqlite3_column_int (statement, 15);
  entry->last_error = column_text (statement, 16);
  entry->mailshot = sqlite3_column_int64 (statement, 17);

  list = json_from_string (recipients, NULL);
  if (list != NULL && JSON_NODE_HOLDS_ARRAY (list))
    for (guint i = 0; i < json_array_get_length (json_node_get_array (list)); i++)
      g_strv_builder_add (builder, json_array_get_string_element (json_node_get_array (list), i));
  entry->recipients = g_strv_builder_end (builder);
  g_strv_builder_unref (builder);

  /* Each recipient's outcome; an entry from before they were kept (or a mailshot's mail, which has
   * one recipient) has the entry's own. */
  {
    g_autofree char *outcomes_text = column_text (statement, 18);
    g_autoptr(JsonNode) outcomes = outcomes_text ? json_from_string (outcomes_text, NULL) : NULL;
    JsonObject *object = outcomes && JSON_NODE_HOLDS_OBJECT (outcomes) ? json_node_get_object (outcomes) : NULL;
    const char *fallback = entry->state == MR_SENT_STATE_ACCEPTED ? "accepted"
                           : entry->state == MR_SENT_STATE_FAILED ? "refused" : "pending";

    entry->outcomes = g_ptr_array_new_with_free_func ((GDestroyNotify) mr_sent_recipient_free);
    for (guint i = 0; entry->recipients[i] != NULL; i++)
      {
        MrSentRecipient *recipient = g_new0 (MrSentRecipient, 1);
        JsonNode *pair = object ? json_object_get_member (object, entry->recipients[i]) : NULL;
        JsonArray *array = pair && JSON_NODE_HOLDS_ARRAY (pair) ? json_node_get_array (pair) : NULL;

        recipient->address = g_strdup (entry->recipients[i]);
        if (array != NULL && json_array_get_length (array) >= 1)
          {
            JsonNode *outcome = json_array_get_element (array, 0);
            JsonNode *reply = json_array_get_length (array) >= 2 ? json_array_get_element (array, 1) : NULL;

            recipient->outcome = g_strdup (JSON_NODE_HOLDS_VALUE (outcome) ? json_node_get_string (outcome) : fallback);
            recipient->reply = reply && JSON_NODE_HOLDS_VALUE (reply) ? g_strdup (json_node_get_string (reply)) : NULL;
          }
        else
          {
            recipient->outcome = g_strdup (fallback);
            recipient->reply = entry->state == MR_SENT_STATE_FAILED ? g_strdup (entry->last_error) : NULL;
          }
        g_ptr_array_add (entry->outcomes, recipient);
      }
  }
  return entry;
}

MrSentEntry *
mr_sent_log_get (MrSentLog  *self,
                 gint64      id,
                 GError    **error)
{
  sqlite3_stmt *statement;
  MrSentEntry *entry = NULL;

  g_mutex_lock (&self->lock);
  statement = prepare (self, "SELECT " ENTRY_COLUMNS " FROM messages WHERE id = ?", error);
  if (statement != NULL)
    {
      sqlite3_bind_int64 (statement, 1, id);
      if (sqlite3_step (statement) == SQLITE_ROW)
        entry = read_entry (statement);
      else
        {
          g_autofree char *entry_text = g_strdup_printf ("%" G_GINT64_FORMAT, id);

          g_set_error (error, MR_SENT_LOG_ERROR, MR_SENT_LOG_ERROR_NOT_FOUND, _("There is no sent-log entry %s"), entry_text);
        }
      sqlite3_finalize (statement);
    }
  g_mutex_unlock (&self->lock);
  return entry;
}

GPtrArray *
mr_sent_log_search (MrSentLog          *self,
                    const MrSentQuery  *query,
                    GError            **error)
{
  GString *sql = g_string_new ("SELECT " ENTRY_COLUMNS " FROM messages WHERE 1");
  g_autofree char *like = query->text ? g_strdup_printf ("%%%s%%", query->text) : NULL;
  g_autofree char *exact = query->recipient ? g_strdup_printf ("%%\"%s\"%%", query->recipient) : NULL;
  GPtrArray *entries = NULL;
  sqlite3_stmt *statement;

  if (like != NULL)
    g_string_append (sql, " AND (recipients LIKE ?1 OR subject LIKE ?1 OR template LIKE ?1)");
  if (exact != NULL)
    g_string_append (sql, " AND recipients LIKE ?2");
  if (query->since > 0)
    g_string_append (sql, " AND created >= ?3");
  if (query->until > 0)
    g_string_append (sql, " AND created < ?4");
  if (query->state >= 0)
    g_string_append (sql, " AND state = ?5");
  if (query->mailshot > 0)
    g_string_append (sql, " AND mailshot = ?6");
  g_string_append (sql, " ORDER BY created DESC, id DESC");
  if (query->limit > 0)
    g_string_append_printf (sql, " LIMIT %u", query->limit);

  g_mutex_lock (&self->lock);
  statement = prepare (self, sql->str, error);
  if (statement != NULL)
    {
      bind_text (statement, 1, like);
      bind_text (statement, 2, exact);
      sqlite3_bind_int64 (statement, 3, query->since);
      sqlite3_bind_int64 (statement, 4, query->until);
      if (query->state >= 0)
        bind_text (statement, 5, mr_sent_state_to_string (query->state));
      if (query->mailshot > 0)
        sqlite3_bind_int64 (statement, 6, query->mailshot);
      entries = g_ptr_array_new_with_free_func ((GDestroyNotify) mr_sent_entry_free);
      while (sqlite3_step (statement) == SQLITE_ROW)
        g_ptr_array_add (entries, read_entry (statement));
      sqlite3_finalize (statement);
    }
  g_mutex_unlock (&self->lock);
  g_string_free (sql, TRUE);
  return entries;
}

void
mr_sent_address_free (MrSentAddress *address)
{
  if (address == NULL)
    return;
  g_free (address->address);
  g_free (address);
}

/* @text for a LIKE pattern with "\\" as its escape: its own % and _ match themselves. */
static char *
like_escape (const char *text)
{
  GString *out = g_string_new (NULL);

  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == '%' || *p == '_' || *p == '\\')
        g_string_append_c (out, '\\');
      g_string_append_c (out, *p);
    }
  return g_string_free (out, FALSE);
}

GPtrArray *
mr_sent_log_complete_addresses (MrSentLog   *self,
                                const char  *prefix,
                                guint        limit,
                                GError     **error)
{
  g_autofree char *folded = g_utf8_strdown (prefix ? prefix : "", -1);
  g_autofree char *escaped = like_escape (g_strstrip (folded));
  g_autofree char *starts = g_strdup_printf ("%s%%", escaped);
  GPtrArray *addresses = NULL;
  sqlite3_stmt *statement;

  /* Each recipient of each mail, once per mail; a recipient the server refused for good (in a mail
   * it partly took) does not count. The spelling and the time shown are the latest mail's: with one
   * MAX () in the query SQLite takes the bare columns from its row (two would leave it open which). */
  g_mutex_lock (&self->lock);
  statement = prepare (self,
                       "SELECT r.value, COUNT (*), m.created, MAX (m.id) FROM messages m, json_each (m.recipients) r "
                       "WHERE m.mailshot IS NULL AND m.state IN ('accepted', 'partly-accepted') "
                       "AND (m.outcomes IS NULL OR instr (r.value, '\"') > 0 "
                       "     OR json_extract (m.outcomes, '$.\"' || r.value || '\"[0]') IS NOT 'refused') "
                       "AND (lower (r.value) LIKE ?1 ESCAPE '\\' OR lower (r.value) LIKE '%.' || ?1 ESCAPE '\\' "
                       "     OR lower (r.value) LIKE '%-' || ?1 ESCAPE '\\' "
                       "     OR lower (r.value) LIKE '%\\_' || ?1 ESCAPE '\\') "
                       "GROUP BY lower (r.value) ORDER BY COUNT (*) DESC, MAX (m.id) DESC, r.value LIMIT ?2",
                       error);
  if (statement != NULL)
    {
      bind_text (statement, 1, starts);
      sqlite3_bind_int (statement, 2, limit > 0 ? (int) MIN (limit, 1000u) : 10);
      addresses = g_ptr_array_new_with_free_func ((GDestroyNotify) mr_sent_address_free);
      while (sqlite3_step (statement) == SQLITE_ROW)
        {
          MrSentAddress *address = g_new0 (MrSentAddress, 1);

          address->address = g_strdup ((const char *) sqlite3_column_text (statement, 0));
          address->count = sqlite3_column_int (statement, 1);
          address->last_sent = sqlite3_column_int64 (statement, 2);
          g_ptr_array_add (addresses, address);
        }
      sqlite3_finalize (statement);
    }
  g_mutex_unlock (&self->lock);
  return addresses;
}

GPtrArray *
mr_sent_log_get_attempts (MrSentLog  *self,
                          gint64      id,
                          GError    **error)
{
  sqlite3_stmt *statement;
  GPtrArray *attempts = NULL;

  g_mutex_lock (&self->lock);
  statement = prepare (self, "SELECT time, route, server, outcome, reply FROM attempts WHERE message = ? ORDER BY id", error);
  if (statement != NULL)
    {
      sqlite3_bind_int64 (statement, 1, id);
      attempts = g_ptr_array_new_with_free_func ((GDestroyNotify) mr_sent_attempt_free);
      while (sqlite3_step (statement) == SQLITE_ROW)
        {
          MrSentAttempt *attempt = g_new0 (MrSentAttempt, 1);

          attempt->time = sqlite3_column_int64 (statement, 0);
          attempt->route = column_text (statement, 1);
          attempt->server = column_text (statement, 2);
          attempt->outcome = column_text (statement, 3);
          attempt->reply = column_text (statement, 4);
          g_ptr_array_add (attempts, attempt);
        }
      sqlite3_finalize (statement);
    }
  g_mutex_unlock (&self->lock);
  return attempts;
}

GBytes *
mr_sent_log_get_copy (MrSentLog  *self,
                      gint64      id,
                      GError    **error)
{
  sqlite3_stmt *statement;
  GBytes *copy = NULL;

  g_mutex_lock (&self->lock);
  statement = prepare (self, "SELECT copy FROM messages WHERE id = ?", error);
  if (statement != NULL)
    {
      sqlite3_bind_int64 (statement, 1, id);
      if (sqlite3_step (statement) == SQLITE_ROW && sqlite3_column_type (statement, 0) == SQLITE_BLOB)
        copy = g_bytes_new (sqlite3_column_blob (statement, 0), sqlite3_column_bytes (statement, 0));
      sqlite3_finalize (statement);
    }
  g_mutex_unlock (&self->lock);
  return copy;
}

/* ?1: the time to judge the queue by; ?2: the real time, the only judge of an abandoned claim. */
#define DUE_OR_ABANDONED "((state = 'queued' AND next_attempt <= ?1) OR (state = 'sending' AND next_attempt <= ?2))"
#define STR(x) STR_ (x)
#define STR_(x) #x

GPtrArray *
mr_sent_log_claim_due (MrSentLog  *self,
                       gint64      now,
                       GError    **error)
{
  /* An abandoned send gets an attempt saying so; then everything due is claimed. */
  static const char * const steps[] = {
    "INSERT INTO attempts (message, time, route, server, outcome, reply) "
    "SELECT id, ?2, COALESCE (route, 'smtp'), NULL, 'interrupted', ?3 FROM messages "
    "WHERE state = 'sending' AND next_attempt <= ?2",
    "UPDATE messages SET attempts = attempts + 1, last_error = ?3, updated = ?2 "
    "WHERE state = 'sending' AND next_attempt <= ?2",
    "UPDATE messages SET state = 'sending', next_attempt = ?2 + " STR (MR_SENT_LOG_CLAIM_SECONDS) ", updated = ?2 "
    "WHERE " DUE_OR_ABANDONED,
  };
  const char *reply = _("Mailroom stopped before the server’s answer was recorded: sent again, so it may arrive twice");
  gint64 wall = g_get_real_time () / G_USEC_PER_SEC;
  g_autoptr(GPtrArray) entries = g_ptr_array_new_with_free_func ((GDestroyNotify) mr_sent_entry_free);
  sqlite3_stmt *statement;
  gboolean ok = FALSE;

  g_mutex_lock (&self->lock);
  /* IMMEDIATE: another Mailroom claiming at the same moment waits, then finds nothing left. */
  if (!exec (self, "BEGIN IMMEDIATE", error))
    goto out;

  statement = prepare (self, "SELECT " ENTRY_COLUMNS " FROM messages WHERE " DUE_OR_ABANDONED " ORDER BY next_attempt, id",
                       error);
  if (statement == NULL)
    goto rollback;
  sqlite3_bind_int64 (statement, 1, now);
  sqlite3_bind_int64 (statement, 2, wall);
  while (sqlite3_step (statement) == SQLITE_ROW)
    g_ptr_array_add (entries, read_entry (statement));
  sqlite3_finalize (statement);

  for (guint i = 0; i < G_N_ELEMENTS (steps); i++)
    {
      statement = prepare (self, steps[i], error);
      if (statement == NULL)
        goto rollback;
      sqlite3_bind_int64 (statement, 1, now);
      sqlite3_bind_int64 (statement, 2, wall);
      bind_text (statement, 3, reply);
      ok = sqlite3_step (statement) == SQLITE_DONE;
      sqlite3_finalize (statement);
      if (!ok)
        {
          db_failed (self, MR_SENT_LOG_ERROR_WRITE, "claim", error);
          goto rollback;
        }
    }
  ok = exec (self, "COMMIT", error);
  if (ok)
    goto out;

rollback:
  ok = FALSE;
  sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
out:
  g_mutex_unlock (&self->lock);
  return ok ? g_steal_pointer (&entries) : NULL;
}

gboolean
mr_sent_log_delete (MrSentLog  *self,
                    gint64      id,
                    GError    **error)
{
  sqlite3_stmt *statement;
  gboolean ok = FALSE;

  g_mutex_lock (&self->lock);
  statement = prepare (self, "DELETE FROM messages WHERE id = ?", error);
  if (statement != NULL)
    {
      sqlite3_bind_int64 (statement, 1, id);
      ok = sqlite3_step (statement) == SQLITE_DONE;
      sqlite3_finalize (statement);
      if (!ok)
        db_failed (self, MR_SENT_LOG_ERROR_WRITE, "delete", error);
      else if (sqlite3_changes (self->db) == 0)
        {
          g_autofree char *entry_text = g_strdup_printf ("%" G_GINT64_FORMAT, id);

          g_set_error (error, MR_SENT_LOG_ERROR, MR_SENT_LOG_ERROR_NOT_FOUND, _("There is no sent-log entry %s"), entry_text);
          ok = FALSE;
        }
    }
  g_mutex_unlock (&self->lock);
  return ok;
}

gint64
mr_sent_log_purge (MrSentLog  *self,
                   guint       days,
                   GError    **error)
{
  sqlite3_stmt *statement;
  gint64 removed = -1;

  g_mutex_lock (&self->lock);
  /* Queued mail is not history yet: only final entries go. */
  statement = prepare (self, "DELETE FROM messages WHERE created < ? AND state IN ('accepted', 'failed', 'cancelled')", error);
  if (statement != NULL)
    {
      sqlite3_bind_int64 (statement, 1, g_get_real_time () / G_USEC_PER_SEC - (gint64) days * 86400);
      if (sqlite3_step (statement) == SQLITE_DONE)
        removed = sqlite3_changes (self->db);
      else
        db_failed (self, MR_SENT_LOG_ERROR_WRITE, "purge", error);
      sqlite3_finalize (statement);
    }
  g_mutex_unlock (&self->lock);
  return removed;
}
