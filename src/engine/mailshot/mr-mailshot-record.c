/* mr-mailshot-record.c: a mailshot’s mails in the sent log, and the day’s quota counted from the journal */

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

/* Mails sent in the last 24 hours by this application profile, all jobs; and when the oldest
 * @over of them leave the window (the quota frees). */
guint
mr_mailshot_sent_in_last_day (MrMailshotJournal *self,
                              const char        *app,
                              guint              over,
                              gint64            *frees_at)
{
  gint64 since = g_get_real_time () / G_USEC_PER_SEC - 24 * 60 * 60;
  sqlite3_stmt *statement = mr_mailshot_prepare (self, "SELECT COUNT (*) FROM recipients JOIN jobs ON jobs.id = recipients.job "
                                                 "WHERE sent_at > ? AND jobs.app IS ?", NULL);
  guint count = 0;

  if (statement == NULL)
    return 0;
  sqlite3_bind_int64 (statement, 1, since);
  mr_mailshot_bind_text (statement, 2, app);
  if (sqlite3_step (statement) == SQLITE_ROW)
    count = sqlite3_column_int (statement, 0);
  sqlite3_finalize (statement);
  if (frees_at != NULL && count >= over)
    {
      statement = mr_mailshot_prepare (self, "SELECT sent_at FROM recipients JOIN jobs ON jobs.id = recipients.job "
                                       "WHERE sent_at > ? AND jobs.app IS ? ORDER BY sent_at LIMIT 1 OFFSET ?", NULL);
      if (statement == NULL)
        return count;
      sqlite3_bind_int64 (statement, 1, since);
      mr_mailshot_bind_text (statement, 2, app);
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
                    MrSender           *sender,
                    const char         *route,
                    GError            **error)
{
  const char *from_address = template_->from_address ? template_->from_address : mr_sender_get_address (sender);

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
      statement = mr_mailshot_prepare (self, "SELECT row, address, data, message_id, state, reply, sent_at, attempts, subject "
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
          char *subject = mr_mailshot_column_text (statement, 8);

          /* The subject as sent; rendered again only for mails recorded before it was kept. */
          if (subject == NULL)
            {
              g_autoptr(JsonNode) data = json_from_string ((const char *) sqlite3_column_text (statement, 2), NULL);
              g_autoptr(MrRendered) rendered = data ? mr_template_render (template_, data, NULL) : NULL;

              subject = g_strdup (rendered ? rendered->subject : "");
            }
#define KEEP(text) (g_ptr_array_add (strings, (text)), (const char *) g_ptr_array_index (strings, strings->len - 1))
          mail.recipient = KEEP (mr_mailshot_column_text (statement, 1));
          mail.message_id = KEEP (mr_mailshot_column_text (statement, 3));
          mail.reply = KEEP (mr_mailshot_column_text (statement, 5));
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
      ok = mr_mailshot_exec (self, "BEGIN IMMEDIATE", error) &&
           (statement = mr_mailshot_prepare (self, "UPDATE recipients SET logged = 1 WHERE job = ? AND row = ?", error)) != NULL;
      for (guint i = 0; i < rows->len && ok; i++)
        {
          sqlite3_reset (statement);
          sqlite3_bind_int64 (statement, 1, job);
          sqlite3_bind_int64 (statement, 2, g_array_index (rows, gint64, i));
          ok = sqlite3_step (statement) == SQLITE_DONE || mr_mailshot_journal_failed (self, "write", error);
        }
      sqlite3_finalize (statement);
      if (!ok || !mr_mailshot_exec (self, "COMMIT", error))
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
void
mr_mailshot_sync_sent_log (MrMailshotJournal *self,
                           GMutex            *db_lock,
                           MrSentLog         *log,
                           gint64             job,
                           MrMailshotStatus  *status,
                           MrTemplate        *template_,
                           MrSender          *sender,
                           const char        *route)
{
  g_autoptr(GError) error = NULL;

  if (log != NULL && !record_in_sent_log (self, db_lock, log, job, status, template_, sender, route, &error))
    g_message ("Mailshot mails are not in the sent log yet: %s", error->message);
}
