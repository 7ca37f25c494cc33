/* mr-sent-log.h: the record of every mail sent ("records"), and the outbox, in SQLite
 *
 * One row per message (its Message-ID) with its final state, and one row per attempt under it: time,
 * route, server, and the server's reply. States say what is known: "accepted" means accepted by the
 * server, not delivered. A message that failed for now is "queued": the outbox retries it with
 * back-off. Each recipient keeps its own outcome and the server's reply for it ("accepted",
 * "refused" for good, "temporary" while it waits, "pending" before any try): a message some of
 * whose recipients were refused for good and the others accepted is "partly-accepted", and one
 * whose refused-for-now recipients wait is "queued" until they are taken or given up. The full message is kept while it may still be sent, and afterwards only with the
 * template's "full" log option.
 *
 * The database is $XDG_DATA_HOME/mailroom/sent.db, written in transactions (WAL), so a crash in the
 * middle of a write leaves the last complete state. Errors: MR_SENT_LOG_ERROR.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define MR_SENT_LOG_ERROR (mr_sent_log_error_quark ())

typedef enum {
  MR_SENT_LOG_ERROR_OPEN,       /* the database cannot be opened or is damaged */
  MR_SENT_LOG_ERROR_WRITE,      /* a write failed (a full disk, say): nothing was recorded */
  MR_SENT_LOG_ERROR_NOT_FOUND,  /* no entry with that number */
} MrSentLogError;

GQuark mr_sent_log_error_quark (void);

typedef enum {
  MR_SENT_STATE_SENDING,
  MR_SENT_STATE_ACCEPTED,
  MR_SENT_STATE_QUEUED,
  MR_SENT_STATE_FAILED,
  MR_SENT_STATE_CANCELLED,
  MR_SENT_STATE_PARTLY_ACCEPTED,  /* final: some recipients accepted, the others refused for good */
} MrSentState;

/* One recipient's outcome: "accepted", "refused", "temporary" or "pending". */
typedef struct {
  char *address;
  char *outcome;
  char *reply;                /* the server's reply about this recipient, or NULL */
} MrSentRecipient;

typedef struct {
  gint64      id;
  char       *message_id;
  gint64      created;        /* unix time */
  gint64      updated;
  char       *user;
  char       *app;
  char       *template_name;
  char       *from_address;
  char       *subject;
  GStrv       recipients;     /* every envelope recipient: To, Cc, Bcc and the copy address */
  MrSentState state;
  char       *route;
  char       *log_option;     /* "full" or "headers" */
  gboolean    has_copy;
  gint64      next_attempt;   /* queued: when the outbox tries again */
  guint       attempts;
  char       *last_error;
  gint64      mailshot;       /* the mailshot job it was part of; 0 for a mail of its own */
  GPtrArray  *outcomes;       /* MrSentRecipient, one per recipient in the order of @recipients */
} MrSentEntry;

typedef struct {
  gint64  time;
  char   *route;
  char   *server;
  char   *outcome;            /* "accepted", "refused", "temporary", "failed", "interrupted" */
  char   *reply;
} MrSentAttempt;

typedef struct {
  const char *text;           /* in a recipient, the subject or the template name; NULL: any */
  const char *recipient;      /* exactly this recipient; NULL: any */
  gint64      since;          /* unix time; 0: any */
  gint64      until;
  int         state;          /* an MrSentState, or -1 for any */
  guint       limit;          /* 0: no limit */
  gint64      mailshot;       /* only the mails of this mailshot job; 0: any */
} MrSentQuery;

#define MR_TYPE_SENT_LOG (mr_sent_log_get_type ())

G_DECLARE_FINAL_TYPE (MrSentLog, mr_sent_log, MR, SENT_LOG, GObject)

char          *mr_sent_log_get_default_path (void);
/* NULL @path: the default. Errors: MR_SENT_LOG_ERROR_OPEN. */
MrSentLog     *mr_sent_log_open             (const char         *path,
                                             GError            **error);

/* Records a message before its first attempt. Returns its entry number, 0 on error. */
gint64         mr_sent_log_add              (MrSentLog          *self,
                                             const char         *message_id,
                                             const char         *user,
                                             const char         *app,
                                             const char         *template_name,
                                             const char         *from_address,
                                             const char         *subject,
                                             const char * const *recipients,
                                             const char         *log_option,
                                             GBytes             *message,
                                             GError            **error);
/* A mailshot's mail, recorded once it is final (accepted, or refused for good). */
typedef struct {
  const char  *message_id;
  const char  *recipient;
  const char  *from_address;
  const char  *subject;
  const char  *app;
  const char  *template_name;
  const char  *route;
  const char  *reply;
  MrSentState  state;          /* MR_SENT_STATE_ACCEPTED or MR_SENT_STATE_FAILED */
  guint        attempts;
  gint64       time;           /* of the last attempt */
} MrSentMailshotMail;

/* Records mails of mailshot @job (0: mails of no job, a mailshot's samples), with their last attempt, in one transaction; a Message-ID already
 * in the log is left as it is (so that recording again after a crash adds nothing twice). No copy of
 * the message is kept: the journal can build it again. Errors: MR_SENT_LOG_ERROR_WRITE. */
gboolean       mr_sent_log_add_mailshot_mails (MrSentLog                *self,
                                             gint64                    job,
                                             const MrSentMailshotMail *mails,
                                             guint                     n_mails,
                                             GError                  **error);

/* One attempt and the state it leaves the message in, in one transaction. The copy of the message
 * is dropped once it is final and the log option is "headers". */
gboolean       mr_sent_log_record_attempt   (MrSentLog          *self,
                                             gint64              id,
                                             const char         *route,
                                             const char         *server,
                                             const char         *outcome,
                                             const char         *reply,
                                             MrSentState         state,
                                             gint64              next_attempt,
                                             GError            **error);
/* The same, with the outcome of each recipient the attempt told about (@recipients, @n_recipients;
 * the others keep theirs). */
gboolean       mr_sent_log_record_attempt_for (MrSentLog             *self,
                                             gint64                 id,
                                             const char            *route,
                                             const char            *server,
                                             const char            *outcome,
                                             const char            *reply,
                                             MrSentState            state,
                                             gint64                 next_attempt,
                                             const MrSentRecipient *recipients,
                                             guint                  n_recipients,
                                             GError               **error);
gboolean       mr_sent_log_set_state        (MrSentLog          *self,
                                             gint64              id,
                                             MrSentState         state,
                                             gint64              next_attempt,
                                             GError            **error);

MrSentEntry   *mr_sent_log_get              (MrSentLog          *self,
                                             gint64              id,
                                             GError            **error);
GPtrArray     *mr_sent_log_search           (MrSentLog          *self,
                                             const MrSentQuery  *query,
                                             GError            **error);
/* An address mail was sent to, for completing what a person types. */
typedef struct {
  char   *address;
  guint   count;       /* mails it was among the recipients of */
  gint64  last_sent;   /* Unix time of the latest */
} MrSentAddress;

void           mr_sent_address_free         (MrSentAddress      *address);

/* The addresses of mails sent one by one (not mailshots) that the server took, whose address or a
 * part of it after "." "-" "_" starts with @prefix (any case), most used first, then the latest:
 * at most @limit (MrSentAddress). An empty @prefix gives the most used. */
GPtrArray     *mr_sent_log_complete_addresses (MrSentLog        *self,
                                             const char         *prefix,
                                             guint               limit,
                                             GError            **error);
GPtrArray     *mr_sent_log_get_attempts     (MrSentLog          *self,
                                             gint64              id,
                                             GError            **error);
/* The message as sent (or as it will be), when a copy is kept; NULL otherwise. */
GBytes        *mr_sent_log_get_copy         (MrSentLog          *self,
                                             gint64              id,
                                             GError            **error);
/* How long a send may hold its message before it counts as abandoned (the process died mid-send):
 * longer than any send takes, with the timeouts in docs/settings.md. */
#define MR_SENT_LOG_CLAIM_SECONDS 1800

/* Claims, in one transaction, the queued entries whose time has come (all of them with @now =
 * G_MAXINT64) and those left "sending" past their claim by a Mailroom that stopped mid-send (an
 * "interrupted" attempt is recorded for them: they are sent again, at the risk of a duplicate
 * rather than a loss). Claimed entries are "sending" for MR_SENT_LOG_CLAIM_SECONDS, so that two
 * processes never send one message; the caller records an attempt or puts them back with
 * mr_sent_log_set_state(). Returns them as they were before the claim. */
GPtrArray     *mr_sent_log_claim_due        (MrSentLog          *self,
                                             gint64              now,
                                             GError            **error);
gboolean       mr_sent_log_delete           (MrSentLog          *self,
                                             gint64              id,
                                             GError            **error);
/* Removes entries (and copies) older than @days; returns how many. */
gint64         mr_sent_log_purge            (MrSentLog          *self,
                                             guint               days,
                                             GError            **error);

const char    *mr_sent_state_to_string      (MrSentState         state);
gboolean       mr_sent_state_from_string    (const char         *text,
                                             MrSentState        *state);
void           mr_sent_entry_free           (MrSentEntry        *entry);
void           mr_sent_attempt_free         (MrSentAttempt      *attempt);
void           mr_sent_recipient_free       (MrSentRecipient    *recipient);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MrSentEntry, mr_sent_entry_free)

G_END_DECLS
