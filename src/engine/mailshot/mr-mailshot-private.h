/* mr-mailshot-private.h: what the parts of a mailshot share. Not for use outside them.
 *
 * mr-mailshot.c: the journal, the pace, creating a job, its settings, state, lease and status;
 * mr-mailshot-mail.c: a row as the mail it becomes; mr-mailshot-run.c: running a job (the workers,
 * the committer, the outcomes); mr-mailshot-record.c: the job's mails in the sent log and the day's
 * quota; mr-mailshot-samples.c: the dry run, the preview and the samples.
 */
#pragma once

#include <sqlite3.h>

#include "mr-mailshot.h"
#include "mr-message.h"
#include "mr-router.h"
#include "mr-sender.h"
#include "mr-sent-log.h"
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

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

typedef enum { FAILURE_TEMPORARY, FAILURE_PERMANENT, FAILURE_STOPS_JOB } FailureScope;

typedef struct {
  guint     row;
  char     *address;
  char     *data;
  char     *message_id;
  char     *token;
  gboolean  retry;          /* it was failed-temporary */
  gint64    last_sent_at;   /* before this claim; 0: never */
} Todo;

char *mr_mailshot_column_text (sqlite3_stmt *statement,
                               int           column);

void mr_mailshot_bind_text (sqlite3_stmt *statement,
                            int           index,
                            const char   *text);

gboolean mr_mailshot_exec (MrMailshotJournal  *self,
                           const char         *sql,
                           GError            **error);

sqlite3_stmt *mr_mailshot_prepare (MrMailshotJournal  *self,
                                   const char         *sql,
                                   GError            **error);

gboolean mr_mailshot_journal_failed (MrMailshotJournal  *self,
                                     const char         *what,
                                     GError            **error);

/* One statement with integer and text parameters ("i" and "s" in @types), run to the end. */
gboolean mr_mailshot_run_statement (MrMailshotJournal  *self,
                                    const char         *sql,
                                    GError            **error,
                                    const char         *types,
                                    ...);

char *mr_mailshot_row_data (const char * const *columns,
                            const char * const *fields);

/* 128 random bits in lower-case hex: URL-safe, survives the suppression list's lower-casing, and
 * says nothing about the address it stands for. */
char *mr_mailshot_new_token (void);

void mr_mailshot_job_config_clear (JobConfig *config);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (JobConfig, mr_mailshot_job_config_clear)
void mr_mailshot_todo_clear (Todo *todo);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Todo, mr_mailshot_todo_clear)

FailureScope mr_mailshot_failure_scope (const GError *error);

/* @builder and @parser: a worker's own, or NULL for one message alone. */
GBytes *mr_mailshot_build_message (MrMessageBuilder *builder,
                                   JsonParser       *parser,
                                   MrTemplate       *template_,
                                   MrSender         *sender,
                                   const JobConfig  *config,
                                   Todo             *todo,
                                   MrSmtpEnvelope  **envelope,
                                   MrRendered      **rendered_out,
                                   GError          **error);

/* A row's mail as the job sends it, not yet built: rendered, addressed, with its own attachment and
 * unsubscribe headers. */
MrOutgoing *mr_mailshot_row_outgoing (JsonParser       *parser,
                                      MrTemplate       *template_,
                                      MrSender         *sender,
                                      const JobConfig  *config,
                                      Todo             *todo,
                                      MrRendered      **rendered_out,
                                      GError          **error);

/* Mails sent in the last 24 hours by this application profile, all jobs; and when the oldest
 * @over of them leave the window (the quota frees). */
guint mr_mailshot_sent_in_last_day (MrMailshotJournal *self,
                                    const char        *app,
                                    guint              over,
                                    gint64            *frees_at);

/* The sent log is a record beside the journal: when it cannot be written (a full disk), the mails
 * still go, and the next run records them. */
void mr_mailshot_sync_sent_log (MrMailshotJournal *self,
                                GMutex            *db_lock,
                                MrSentLog         *log,
                                gint64             job,
                                MrMailshotStatus  *status,
                                MrTemplate        *template_,
                                MrSender          *sender,
                                const char        *route);

gboolean mr_mailshot_read_job_config (MrMailshotJournal  *self,
                                      gint64              job,
                                      JobConfig          *config,
                                      GError            **error);

/* The lease: an exclusive lock (an open file description lock) on a file beside the journal,
 * released when the process ends, however it ends. */
int mr_mailshot_take_lease (MrMailshotJournal  *self,
                            gint64              job,
                            GError            **error);

G_END_DECLS
