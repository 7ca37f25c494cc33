/* mr-mailshot.h: mailshot jobs, kept in a journal so that a crash loses nobody
 *
 * A job is a template and a recipient list, checked by the proof-reader and written to a SQLite
 * journal ($XDG_DATA_HOME/mailroom/mailshots.db) before anything is sent: one row per recipient with
 * its data, its state, a Message-ID fixed before the first attempt and, when the company has an
 * unsubscribe address, an opaque token for it. The job also keeps the settings it was made with:
 * its pace (a minute, a day, connections), its start time, its attachments folder.
 *
 * Running a job sends the recipients still to do, one mail each, over its connections, at most its
 * pace a minute (halved each time the server answers 4.7.x, "slow down") and a day (counted over
 * the last 24 hours for the application profile, across jobs; when the day's quota is used the job
 * waits, "scheduled", until it frees). Each state change is committed before the next step, so
 * after a crash or a kill -9 running it again goes on where it stopped. A recipient can get the
 * mail twice only if the server accepted it in the instant before the crash (it was "sending" and
 * is sent again).
 *
 * Only one process runs a job at a time: it holds a lock file beside the journal.
 *
 * Call order: mr_mailshot_journal_open() → mr_mailshot_create() → mr_mailshot_run_sync() (again
 * after a crash or a pause), or mr_mailshot_run_due_sync() for every job whose time has come;
 * mr_mailshot_get_status() at any time, from any process.
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
  MR_MAILSHOT_ERROR_ROWS,        /* rows have errors and the job was to refuse them: nothing written */
} MrMailshotError;

GQuark mr_mailshot_error_quark (void);

/* How a job is made. Negative pace fields: from the settings (mailshot.per_minute, .per_day,
 * .connections), which default to the provider preset's. */
typedef struct {
  MrProofOptions  proof;        /* columns, excluded rows, attachments folder */
  const char     *app;          /* application profile; NULL: the company default */
  int             per_minute;   /* 0: as fast as the server takes them */
  int             per_day;      /* 0: no daily limit */
  int             connections;
  gint64          start_at;     /* Unix time; 0: now */
  const char     *route;        /* "smtp" or "exchange"; "auto" and NULL: the company's preferred one
                                 * (exchange.preferred). A mailshot does not fall back mail by mail: a
                                 * transport that cannot send pauses the job, as any such failure does. */
  gboolean        refuse_errors; /* mr_mailshot_create(): a row with an error writes no job at all */
} MrMailshotOptions;

#define MR_MAILSHOT_OPTIONS_INIT { { NULL }, NULL, -1, -1, -1, 0, NULL, FALSE }

typedef struct {
  gint64  id;
  gint64  created;          /* Unix time */
  gint64  not_before;       /* a scheduled job's start, or when the day's quota frees; 0: now */
  char   *template_path;
  char   *template_name;
  char   *recipients_path;
  char   *app;
  char   *state;            /* "ready", "scheduled", "running", "paused", "done", "cancelled" */
  char   *reason;           /* why it paused or waits, or NULL */
  guint   rate;             /* messages a minute; 0: as fast as the server takes them */
  guint   per_day;          /* 0: no daily limit */
  guint   connections;
  char   *route;            /* "smtp" or "exchange" */
  gboolean running;         /* a process holds the job's lease now */
  guint   total;
  guint   pending;          /* still to send, including "sending" (cut off) */
  guint   accepted;
  guint   queued_locally;   /* handed to this machine's MTA (delivery.mode local-smtp or sendmail) */
  guint   failed_temporary; /* to be tried again */
  guint   failed_permanent;
  guint   skipped;          /* the proof-reader's errors and repeated addresses */
} MrMailshotStatus;

typedef struct {
  guint  row;
  char  *address;
  char  *state;             /* "pending", "sending", "accepted", "queued-locally", "failed-temporary",
                             * "failed-permanent", "skipped" */
  char  *reply;             /* the server's last word, or why it was skipped */
  char  *message_id;
  guint  attempts;
} MrMailshotRecipient;

typedef struct _MrMailshotJournal MrMailshotJournal;

/* NULL @path: the default. */
MrMailshotJournal *mr_mailshot_journal_open (const char         *path,
                                             GError            **error);
void               mr_mailshot_journal_free (MrMailshotJournal  *journal);

/* The pace a job of @app through @route (as for mr_mailshot_resolve_route()) gets by default: the
 * settings, else the provider preset's; through Exchange Online, Office 365's. */
void               mr_mailshot_get_default_pace (MrSettings     *settings,
                                                 const char     *app,
                                                 const char     *route,
                                                 guint          *per_minute,
                                                 guint          *per_day,
                                                 guint          *connections);

/* The number of mails a day the provider of @app through @route takes from one account, as its
 * preset publishes it (Gmail 2,000, a personal Gmail account 500), and its name; 0 (and NULL) when
 * not known. */
guint              mr_mailshot_get_provider_daily_limit (MrSettings  *settings,
                                                         const char  *app,
                                                         const char  *route,
                                                         char       **provider_name);

/* The provider preset (its id) a job of @app through @route sends with, and in @host (optional)
 * the server: the SMTP settings'; through Exchange Online "office365" with no host, through an
 * Exchange Server "other" with its EWS host. For the pace and for the From domain's checks. */
char              *mr_mailshot_route_provider (MrSettings  *settings,
                                              const char  *app,
                                              const char  *route,
                                              char       **host);

/* The transport a job of @app goes through for @route ("smtp", "exchange", "auto" or NULL). */
char              *mr_mailshot_resolve_route (MrSettings     *settings,
                                             const char     *app,
                                             const char     *route);

/* Roughly how long @count mails take at this pace, in seconds: whole days wait for the quota. */
gint64             mr_mailshot_estimate_seconds (guint           count,
                                                 guint           per_minute,
                                                 guint           per_day,
                                                 guint           connections);

/* Reads and checks @recipients and writes the job; rows the proof-reader rejects, and repeated
 * addresses, are kept as "skipped" with the reason. Returns the job's number, 0 with @error
 * (MR_MAILSHOT_ERROR_NOTHING when no row can be sent, _ROWS when rows have errors and
 * @options refuse them (@report_out then holds the report all the same), the errors of mr_proofread_full(), and those
 * of mr_delivery_new() when the settings of the application cannot send). */
gint64             mr_mailshot_create       (MrMailshotJournal        *journal,
                                             MrSettings               *settings,
                                             MrTemplate               *template_,
                                             const char               *recipients,
                                             const MrMailshotOptions  *options,
                                             MrProofReport           **report,
                                             GError                  **error);

/* Writes each message the job would send as DIR/ROW.eml (ROW as the spreadsheet numbers it), and
 * sends nothing. A row whose own values make no mail (as a real run would fail it and go on) is
 * named in @failed ("Row 7 (ann@…): why", char*) and the others are still written. Returns how many
 * were written, -1 with @error (those of mr_mailshot_create(), and G_FILE_ERROR when a file cannot
 * be written). */
gint64             mr_mailshot_dry_run      (MrSettings               *settings,
                                             MrTemplate               *template_,
                                             const char               *recipients,
                                             const MrMailshotOptions  *options,
                                             const char               *dir,
                                             GPtrArray               **failed,
                                             GError                  **error);

/* One row's message exactly as the job would send it (its Message-ID aside). */
typedef struct {
  guint   row;
  char   *address;
  char   *problem;          /* why the row would not be sent, or NULL */
  char   *subject;          /* these three and @message are NULL when the row cannot make a
                             * message at all (no address, say): @problem says why */
  char   *text;
  char   *html;             /* NULL without an HTML body */
  GBytes *message;          /* the whole RFC 5322 message */
  GPtrArray *missing;       /* char*: the template's fields this row leaves empty, in the template's order */
  /* With a field left empty, the subject, text and HTML again, each empty field shown as its name
   * between MR_MAILSHOT_MISSING_OPEN and _CLOSE, for the preview to mark; NULL otherwise. */
  char   *marked_subject;
  char   *marked_text;
  char   *marked_html;
} MrMailshotPreview;

#define MR_MAILSHOT_MISSING_OPEN  "\u27e6"   /* ⟦ */
#define MR_MAILSHOT_MISSING_CLOSE "\u27e7"   /* ⟧ */

/* Errors: those of mr_proofread_full() and mr_delivery_new(), MR_MAILSHOT_ERROR_NOT_FOUND when the
 * list has no row @row, and those of building the message (a bad attachment, a broken header). */
MrMailshotPreview *mr_mailshot_preview      (MrSettings               *settings,
                                             MrTemplate               *template_,
                                             const char               *recipients,
                                             const MrMailshotOptions  *options,
                                             guint                     row,
                                             GError                  **error);
/* The row after @row (@direction 1: the first from @row on) or before it (-1: the last up to
 * @row) that the list has: rows hidden, blank or left out of the numbering are stepped over.
 * MR_MAILSHOT_ERROR_NOT_FOUND past either end. */
MrMailshotPreview *mr_mailshot_preview_step (MrSettings               *settings,
                                             MrTemplate               *template_,
                                             const char               *recipients,
                                             const MrMailshotOptions  *options,
                                             guint                     row,
                                             int                      direction,
                                             GError                  **error);
/* The first row whose address is @address, or starts with it (any case). */
MrMailshotPreview *mr_mailshot_preview_find (MrSettings               *settings,
                                             MrTemplate               *template_,
                                             const char               *recipients,
                                             const MrMailshotOptions  *options,
                                             const char               *address,
                                             GError                  **error);
void               mr_mailshot_preview_free (MrMailshotPreview        *preview);

/* Sends the first @count rows that would be sent to @to alone, subject marked "[Sample, row N]",
 * so that the sender sees what recipients will. Returns how many went, -1 with @error: those of
 * mr_mailshot_preview(), of MrSmtpClient and the keyring's. */
gint               mr_mailshot_send_samples_sync (MrSettings               *settings,
                                                  MrTemplate               *template_,
                                                  const char               *recipients,
                                                  const MrMailshotOptions  *options,
                                                  const char               *to,
                                                  guint                     count,
                                                  GCancellable             *cancellable,
                                                  GError                  **error);

/* Row @row's mail as a sample to @to alone (as above). Returns FALSE with @error; a row that
 * would not be sent is MR_MAILSHOT_ERROR_NOT_FOUND with the reason. */
gboolean           mr_mailshot_send_sample_row_sync (MrSettings               *settings,
                                                     MrTemplate               *template_,
                                                     const char               *recipients,
                                                     const MrMailshotOptions  *options,
                                                     const char               *to,
                                                     guint                     row,
                                                     GCancellable             *cancellable,
                                                     GError                  **error);

/* Sends what the job still has to send, a paused job too (running it is the way to resume it).
 * Returns TRUE when nothing is left to try now (the status says whether some failed, or that the
 * job is "scheduled" for later: its start time, or the day's quota), FALSE with @error when it
 * stopped: MR_MAILSHOT_ERROR_BUSY, _PAUSED (by mr_mailshot_set_state() from anywhere, or by itself
 * after errors that will not go away by retrying, such as a refused login), G_IO_ERROR_CANCELLED
 * (the job is left "ready", to go on when it is run again). */
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

/* Runs every job whose time has come (ready, scheduled and due, or cut off by a crash) and
 * that another process is not running; this is what the systemd timer starts. Returns how many
 * jobs it ran, -1 with @error when the journal cannot be read. A job that fails is reported
 * through @job_error (may be NULL) and the others go on. */
typedef void (*MrMailshotJobErrorFunc) (gint64        job,
                                        const GError *error,
                                        gpointer      user_data);
int                mr_mailshot_run_due_sync (MrMailshotJournal      *journal,
                                             MrSettings             *settings,
                                             MrMailshotJobErrorFunc  job_error,
                                             gpointer                user_data,
                                             GCancellable           *cancellable,
                                             GError                **error);

/* Writes the job's report as CSV (row, address, state, attempts, reply, Message-ID), atomically.
 * Errors: MR_MAILSHOT_ERROR_NOT_FOUND, _JOURNAL, G_FILE_ERROR. */
gboolean           mr_mailshot_export_csv   (MrMailshotJournal      *journal,
                                             gint64                  job,
                                             const char             *path,
                                             GError                **error);

/* The address an unsubscribe token was sent to, or NULL. */
char              *mr_mailshot_lookup_token (MrMailshotJournal      *journal,
                                             const char             *token);

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
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MrMailshotPreview, mr_mailshot_preview_free)

G_END_DECLS
