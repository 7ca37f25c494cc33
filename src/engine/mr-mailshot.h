/* mr-mailshot.h: mailshot jobs, kept in a journal so that a crash loses nobody
 *
 * A job is a template and a recipient list, checked by the proof-reader and written to a SQLite
 * journal ($XDG_DATA_HOME/mailroom/mailshots.db) before anything is sent: one row per recipient with
 * its data, its state and a Message-ID fixed before the first attempt. Running a job sends the
 * recipients still to do, one mail each, over one connection, at most @rate a minute (halved each
 * time the server answers 4.7.x, "slow down", down to one mail every few seconds); each state
 * change is committed before the next step, so after a crash or a kill -9 running it again goes on
 * where it stopped. A recipient can get the mail twice only if the server accepted it in the
 * instant before the crash (it was "sending" and is sent again).
 *
 * Only one process runs a job at a time: it holds a lock file beside the journal.
 *
 * Call order: mr_mailshot_journal_open() → mr_mailshot_create() → mr_mailshot_run_sync() (again
 * after a crash or a pause); mr_mailshot_get_status() at any time, from any process.
 */
#pragma once

#include "mr-delivery.h"
#include "mr-proofreader.h"

G_BEGIN_DECLS

#define MR_MAILSHOT_ERROR (mr_mailshot_error_quark ())

typedef enum {
  MR_MAILSHOT_ERROR_JOURNAL,     /* the journal cannot be opened or written: the message says why */
  MR_MAILSHOT_ERROR_NOT_FOUND,   /* no such job */
  MR_MAILSHOT_ERROR_BUSY,        /* another process runs the job */
  MR_MAILSHOT_ERROR_NOTHING,     /* no recipient can be sent to */
  MR_MAILSHOT_ERROR_PAUSED,      /* the job paused itself: the message says why (a refused login, say) */
} MrMailshotError;

GQuark mr_mailshot_error_quark (void);

typedef struct {
  gint64  id;
  char   *template_path;
  char   *template_name;
  char   *recipients_path;
  char   *app;
  char   *state;            /* "ready", "running", "paused", "done", "cancelled" */
  char   *reason;           /* why it paused, or NULL */
  guint   rate;             /* messages a minute; 0: as fast as the server takes them */
  guint   total;
  guint   pending;          /* still to send, including "sending" (cut off) */
  guint   accepted;
  guint   failed_temporary; /* to be tried again */
  guint   failed_permanent;
  guint   skipped;          /* the proof-reader's errors and repeated addresses */
} MrMailshotStatus;

typedef struct {
  guint  row;
  char  *address;
  char  *state;             /* "pending", "sending", "accepted", "failed-temporary", "failed-permanent", "skipped" */
  char  *reply;             /* the server's last word, or why it was skipped */
  char  *message_id;
  guint  attempts;
} MrMailshotRecipient;

typedef struct _MrMailshotJournal MrMailshotJournal;

/* NULL @path: the default. */
MrMailshotJournal *mr_mailshot_journal_open (const char         *path,
                                             GError            **error);
void               mr_mailshot_journal_free (MrMailshotJournal  *journal);

/* Reads and checks @recipients and writes the job; rows the proof-reader rejects, and repeated
 * addresses, are kept as "skipped" with the reason. Returns the job's number, 0 with @error
 * (MR_MAILSHOT_ERROR_NOTHING when no row can be sent, the errors of mr_proofread(), and those of
 * mr_delivery_new() when the settings of @app cannot send). */
gint64             mr_mailshot_create       (MrMailshotJournal  *journal,
                                             MrSettings         *settings,
                                             MrTemplate         *template_,
                                             const char         *recipients,
                                             const char         *address_column,
                                             const char         *app,
                                             guint               rate,
                                             MrProofReport     **report,
                                             GError            **error);

/* Writes each message the job would send as DIR/ROW.eml (ROW as the spreadsheet numbers it), and
 * sends nothing. Returns how many were written, -1 with @error (those of mr_mailshot_create(), and
 * G_FILE_ERROR when a file cannot be written). */
gint64             mr_mailshot_dry_run      (MrSettings         *settings,
                                             MrTemplate         *template_,
                                             const char         *recipients,
                                             const char         *address_column,
                                             const char         *app,
                                             const char         *dir,
                                             GError            **error);

/* Sends what the job still has to send, a paused job too (running it is the way to resume it). Returns TRUE when nothing is left to try now (the status
 * says whether some failed), FALSE with @error when it stopped: MR_MAILSHOT_ERROR_BUSY,
 * _PAUSED (by mr_mailshot_set_state() from anywhere, or by itself after errors that will not go
 * away by retrying, such as a refused login), G_IO_ERROR_CANCELLED. */
/* After each recipient is settled (accepted, failed or left to try again), in the sending thread:
 * @done of @total recipients are no longer pending (skipped ones count as done). */
typedef void (*MrMailshotProgressFunc) (guint     done,
                                        guint     total,
                                        gpointer  user_data);

gboolean           mr_mailshot_run_sync     (MrMailshotJournal      *journal,
                                             MrSettings             *settings,
                                             gint64                  job,
                                             MrMailshotProgressFunc  progress,
                                             gpointer                user_data,
                                             GCancellable           *cancellable,
                                             GError                **error);

/* "paused", "cancelled", or "ready" to let a paused job go on. */
gboolean           mr_mailshot_set_state    (MrMailshotJournal  *journal,
                                             gint64              job,
                                             const char         *state,
                                             GError            **error);

MrMailshotStatus  *mr_mailshot_get_status   (MrMailshotJournal  *journal,
                                             gint64              job,
                                             GError            **error);
/* Every job's status, newest first. */
GPtrArray         *mr_mailshot_list         (MrMailshotJournal  *journal,
                                             GError            **error);
/* The recipients in row order (MrMailshotRecipient). */
GPtrArray         *mr_mailshot_get_recipients (MrMailshotJournal *journal,
                                               gint64             job,
                                               GError           **error);

void               mr_mailshot_status_free    (MrMailshotStatus    *status);
void               mr_mailshot_recipient_free (MrMailshotRecipient *recipient);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MrMailshotJournal, mr_mailshot_journal_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MrMailshotStatus, mr_mailshot_status_free)

G_END_DECLS
