/* mr-mailshot-run.c: running a mailshot: the workers, one connection each, the journal's one writer
 * (the committer), the pace, the outcomes, the copy of the job
 *
 * Just over 1,000 lines, and kept whole: the workers and the committer share one Run and its two
 * locks, and the order in which they hand each other outcomes and claims (and the send gate that
 * holds a mail until the last outcome is written) is what keeps a crash from losing anyone or
 * sending more than one mail a connection twice. It reads best in one place. */

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
#include "mr-mailshot.h"
#include "mr-mailshot-private.h"
#include "mr-sqlite.h"
#include "mr-outbox.h"
#include "mr-presets.h"
#include "mr-secrets.h"
#include "mr-smtp-error.h"



/* ---- Running ---------------------------------------------------------------------------------- */

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

FailureScope
mr_mailshot_failure_scope (const GError *error)
{
  MrTransportFailure failure;

  /* A header that would break, an attachment gone from its folder, a row whose values make the
   * mail too big: this row's data. */
  if (error->domain == MR_SETTINGS_ERROR || error->domain == G_FILE_ERROR ||
      g_error_matches (error, MR_TEMPLATE_ERROR, MR_TEMPLATE_ERROR_TOO_BIG))
    return FAILURE_PERMANENT;
  /* Login, sign-in, unreachable, not set up: no mail of the job would go. */
  failure = mr_transport_error_get_failure (error);
  if (mr_transport_failure_stops_all (failure))
    return FAILURE_STOPS_JOB;
  return mr_transport_failure_is_temporary (failure) ? FAILURE_TEMPORARY : FAILURE_PERMANENT;
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
  MrSender               *sender;
  JobConfig              *config;
  GCancellable           *cancellable;
  MrMailshotProgressFunc  progress;
  gpointer                user_data;
  const char             *accepted_state;   /* "accepted", or "queued-locally" for this machine's MTA */
  char                   *copy_to;
  MrSettings             *settings;
  MrSentLog              *sent_log;         /* NULL when it cannot be opened: the next run records the mails */
  MrMailshotStatus       *status;
  GPtrArray              *transports;       /* MrTransport (the job's route), one a worker */
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
  sqlite3_stmt           *state_statement;
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
  mr_mailshot_bind_text (statement, 1, outcome->state);
  mr_mailshot_bind_text (statement, 2, outcome->reply);
  sqlite3_bind_int64 (statement, 3, outcome->next_attempt);
  mr_mailshot_bind_text (statement, 4, outcome->subject);
  sqlite3_bind_int64 (statement, 5, run->job);
  sqlite3_bind_int64 (statement, 6, outcome->row);
  ok = sqlite3_step (statement) == SQLITE_DONE;
  g_clear_pointer (&outcome->reply, g_free);
  g_clear_pointer (&outcome->subject, g_free);
  outcome->set = FALSE;
  return ok ? TRUE : mr_mailshot_journal_failed (run->journal, "write", error);
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
          todo->address = mr_mailshot_column_text (statement, 1);
          todo->data = mr_mailshot_column_text (statement, 2);
          todo->message_id = mr_mailshot_column_text (statement, 3);
          todo->token = mr_mailshot_column_text (statement, 4);
          todo->last_sent_at = sqlite3_column_int64 (statement, 5);
          todo->retry = statement == run->retry_statement;
          found++;
        }
      if (found < wanted && step != SQLITE_DONE)
        {
          mr_mailshot_journal_failed (run->journal, "read", error);
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
  if (!mr_mailshot_exec (journal, "BEGIN IMMEDIATE", &result->error))
    goto failed;
  for (guint i = 0; i < batch->len; i++)
    if (!write_outcome_locked (run, ((Claim *) g_ptr_array_index (batch, i))->outcome, &result->error))
      goto failed;
  if (wanted > 0)
    {
      g_autofree char *state = NULL;

      /* Prepared once for the run: this is read at every commit. */
      sqlite3_reset (run->state_statement);
      sqlite3_bind_int64 (run->state_statement, 1, run->job);
      if (sqlite3_step (run->state_statement) == SQLITE_ROW)
        state = mr_mailshot_column_text (run->state_statement, 0);
      sqlite3_reset (run->state_statement);
      if (state == NULL)
        {
          mr_mailshot_journal_failed (journal, "read", &result->error);
          goto failed;
        }
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
              mr_mailshot_journal_failed (journal, "write", &result->error);
              goto failed;
            }
          claim->claimed = TRUE;
        }
    }
  if (!mr_mailshot_exec (journal, "COMMIT", &result->error))
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
 * meanwhile build their next mail and begin to send it, up to the send gate. */
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
  mr_mailshot_todo_clear (todo);
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
  mr_mailshot_run_statement (run->journal, "UPDATE recipients SET state = ?, attempts = attempts - 1, sent_at = ? "
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
               MrTransport    *transport,
               MrSmtpEnvelope *envelope,
               GBytes         *message)
{
  g_autoptr(MrSmtpEnvelope) copy = NULL;
  g_autoptr(MrTransportResult) copied = NULL;

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
  copied = mr_transport_send_sync (transport, copy, message, NULL, NULL);

  g_mutex_lock (&run->lock);
  run->copying = FALSE;
  if (copied != NULL)
    {
      g_mutex_lock (&run->db_lock);
      run->config->copy_sent = mr_mailshot_run_statement (run->journal, "UPDATE jobs SET copy_sent = 1 WHERE id = ?", NULL, "i",
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
  g_autofree char *reply = mr_transport_error_dup_kind (error);

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
      mr_mailshot_todo_clear (&slots[i].todo);
    }
}

/* A worker's send gate (MrSendGate): the mail goes only once the outcome of the one before it is in
 * the journal (the claim that carried it committed) and the run has not stopped meanwhile. */
typedef struct {
  Run      *run;
  Claim    *last;
  gboolean  log_now;
} Gate;

static gboolean
last_outcome_written (gpointer data)
{
  Gate *gate = data;
  gboolean go;

  g_mutex_lock (&gate->run->lock);
  claim_wait (gate->run, gate->last, &gate->log_now);
  go = !gate->run->stop;
  g_mutex_unlock (&gate->run->lock);
  return go;
}

/* One connection's loop: build, wait for the pace, send, note the outcome, claim the next.
 *
 * Without a pace a worker holds two recipients: while the committer writes the outcome of one mail
 * (and fsyncs), the worker builds the next and begins to send it: over SMTP the envelope goes, and
 * the message waits at the send gate (after the server's 354) until that outcome is in the journal.
 * No server takes a mail before the last one's outcome is written, so a crash can still
 * only duplicate the mails in flight, one per connection; but the fsync overlaps the next mail's
 * transaction instead of coming before it. With a pace the spacing is the point, and a worker holds
 * one. */
static gpointer
run_worker (gpointer data)
{
  Run *run = data;
  MrTransport *transport = g_ptr_array_index (run->transports,
                                              (guint) g_atomic_int_add (&run->next_worker, 1) % run->transports->len);
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
      g_autoptr(MrTransportResult) result = NULL;
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
            mr_mailshot_sync_sent_log (run->journal, &run->db_lock, run->sent_log, run->job, run->status, run->template_,
                           run->sender, run->route_label);
          break;
        }

      if (slot->message == NULL)
        slot->message = mr_mailshot_build_message (builder, parser, run->template_, run->sender, run->config, &slot->todo, &slot->envelope,
                                                   &slot->rendered, &send_error);
      /* Connected before the wait, so that the pace is the spacing of the mails as the server gets
       * them, not of the attempts. */
      if (slot->message != NULL)
        mr_transport_open_sync (transport, run->cancellable, &send_error);

      /* This mail's turn in the pace, taken now rather than at the claim, as a server that asks to
       * slow down changes it. (The last outcome is waited for at the send gate.) */
      g_mutex_lock (&run->lock);
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
          Gate gate = { run, &other->claim, FALSE };

          result = mr_transport_send_gated_sync (transport, slot->envelope, slot->message, last_outcome_written, &gate,
                                                 NULL, &send_error);
          sent = result != NULL;
          log_now = log_now || gate.log_now;
        }
      /* Sent, it passed the gate; failed before it, or not sent at all, the last outcome is written
       * now, before this one takes its place. */
      if (!sent)
        {
          g_mutex_lock (&run->lock);
          claim_wait (run, &other->claim, &log_now);
          g_mutex_unlock (&run->lock);
        }

      if (sent)
        {
          set_outcome (&outcome, slot->todo.row, run->accepted_state, result->reply, 0);
          outcome.subject = g_strdup (slot->rendered->subject);
          send_job_copy (run, transport, slot->envelope, slot->message);
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
          scope = mr_mailshot_failure_scope (send_error);
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
          if (scope == FAILURE_STOPS_JOB)
            {
              set_outcome (&outcome, slot->todo.row, "pending", reason, 0);
              write_outcome (run, &outcome, NULL);
              slot->claim.claimed = FALSE;
              g_mutex_lock (&run->db_lock);
              mr_mailshot_run_statement (run->journal, "UPDATE jobs SET state = 'paused', reason = ? WHERE id = ?", NULL, "si",
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
          /* The transport's failures in a row (connecting or sending), not a row's own data. */
          if (slot->message != NULL && note_failure (run, slot->todo.row, send_error))
            {
              report_progress (run);
              write_outcome (run, &outcome, NULL);
              slot->claim.claimed = FALSE;
              slots_release (run, slots, n_slots, &log_now);
              g_mutex_unlock (&run->lock);
              break;
            }
          /* 4.7.x, or Exchange busy: the server asks to slow down (a rate limit): the whole job does,
           * for at least as long as the service asked. */
          if (mr_transport_error_get_failure (send_error) == MR_TRANSPORT_FAILURE_SLOW_DOWN)
            {
              run->interval = MAX (run->interval * 2, G_USEC_PER_SEC);
              run->next_send = g_get_monotonic_time () + run->interval;
              run->next_send = MAX (run->next_send, g_get_monotonic_time () +
                                                    (gint64) mr_transport_get_retry_after (transport) * G_USEC_PER_SEC);
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
        mr_mailshot_sync_sent_log (run->journal, &run->db_lock, run->sent_log, run->job, run->status, run->template_,
                       run->sender, run->route_label);
    }

  g_mutex_lock (&run->lock);
  write_outcome (run, &outcome, NULL);
  g_mutex_unlock (&run->lock);
  mr_transport_close (transport);
  return NULL;
}

/* Recipients still to send (not those to try again later). */
static gboolean
has_pending (MrMailshotJournal *self,
             gint64             job)
{
  sqlite3_stmt *statement = mr_mailshot_prepare (self, "SELECT 1 FROM recipients WHERE job = ? AND state IN ('pending', 'sending') "
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
  g_autoptr(MrSender) sender = NULL;
  g_autoptr(GPtrArray) transports = NULL;
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
  lease = mr_mailshot_take_lease (self, job, error);
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
  /* The job's route, one transport a worker (each its own connection), made here: they read the
   * settings. */
  if (template_ != NULL)
    {
      transports = g_ptr_array_new_with_free_func (g_object_unref);
      for (guint i = 0; i < MAX (status->connections, 1); i++)
        {
          MrRouter *router;

          /* sendmail is one program per mail: one worker. */
          if (i == 1 && g_strcmp0 (mr_transport_get_name (g_ptr_array_index (transports, 0)), "sendmail") == 0)
            break;
          router = mr_router_new (settings, status->app, status->route, NULL, &setup_error);
          if (router == NULL || !mr_router_check (router, &setup_error))
            {
              g_clear_object (&router);
              g_clear_pointer (&transports, g_ptr_array_unref);
              break;
            }
          g_ptr_array_add (transports, router);
        }
    }
  if (transports != NULL)
    sender = mr_sender_new (settings, status->app, &setup_error);
  if (sender != NULL && template_->from_address != NULL &&
      !mr_settings_domain_is_verified (settings, mr_address_get_domain (template_->from_address)))
    {
      g_set_error (&setup_error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_INVALID_VALUE,
                   _("The template sends from %s, which is not in one of the company’s verified domains; "
                     "the admin adds the domain to domains.verified first"), template_->from_address);
      g_clear_object (&sender);
    }
  /* The template gone or changed for the worse, settings that cannot send: no mail could go.
   * The job pauses and says why, rather than being tried again and again. */
  if (sender == NULL)
    {
      mr_mailshot_run_statement (self, "UPDATE jobs SET state = 'paused', reason = ? WHERE id = ?", NULL, "si",
                                 setup_error->message, job);
      g_propagate_error (error, setup_error);
      goto out;
    }
  if (!mr_mailshot_read_job_config (self, job, &config, error))
    goto out;
  config.size_limit = mr_transport_get_size_limit (g_ptr_array_index (transports, 0));
  /* Holding the lease, any "sending" row was cut off by a crash: it goes first, again. */
  if (!mr_mailshot_run_statement (self, "UPDATE recipients SET state = 'pending' WHERE job = ? AND state = 'sending'", error, "i", job) ||
                                  !mr_mailshot_run_statement (self, "UPDATE jobs SET state = 'running', reason = NULL, not_before = 0 WHERE id = ?", error, "i", job))
    goto out;
  run.route_label = g_strdup (mr_transport_get_label (g_ptr_array_index (transports, 0)));
  /* Opened once for the run: opening checks its schema and purges old entries. */
  sent_log = mr_outbox_open_log (settings, NULL, &log_error);
  if (sent_log == NULL)
    g_message ("Mailshot mails are not in the sent log yet: %s", log_error->message);
  mr_mailshot_sync_sent_log (self, NULL, sent_log, job, status, template_, sender, run.route_label);

  run.journal = self;
  run.sent_log = sent_log;
  run.job = job;
  run.template_ = template_;
  run.sender = sender;
  run.config = &config;
  run.cancellable = cancellable;
  run.progress = progress;
  run.user_data = user_data;
  mode = mr_settings_dup_effective_string (settings, status->app, "delivery.mode");
  run.accepted_state = g_strcmp0 (mode, "remote") == 0 || g_strcmp0 (status->route, "exchange") == 0 ? "accepted"
                                                                                                    : "queued-locally";
  run.transports = transports;
  run.copy_to = g_strdup (mr_sender_get_copy_to (sender));
  run.settings = settings;
  run.status = status;
  g_mutex_init (&run.lock);
  g_mutex_init (&run.db_lock);
  run.claims = g_ptr_array_new ();
  g_cond_init (&run.claims_waiting);
  run.streak_rows = g_array_new (FALSE, FALSE, sizeof (guint));
  run.outcome_statement = mr_mailshot_prepare (self, "UPDATE recipients SET state = ?, reply = ?, next_attempt = ?, "
                                               "subject = COALESCE (?, subject) WHERE job = ? AND row = ?", error);
  run.claim_statement = mr_mailshot_prepare (self, "UPDATE recipients SET state = 'sending', attempts = attempts + 1, sent_at = ? "
                                             "WHERE job = ? AND row = ?", error);
  /* One index seek each (recipients_todo), not a sort of the whole list. */
  run.pending_statement = mr_mailshot_prepare (self, "SELECT row, address, data, message_id, token, sent_at FROM recipients "
                                               "WHERE job = ?1 AND state = 'pending' AND ?3 >= 0 ORDER BY row LIMIT ?2", error);
  run.retry_statement = mr_mailshot_prepare (self, "SELECT row, address, data, message_id, token, sent_at FROM recipients "
                                             "WHERE job = ?1 AND state = 'failed-temporary' AND next_attempt <= ?3 "
                                             "ORDER BY row LIMIT ?2", error);
  run.state_statement = mr_mailshot_prepare (self, "SELECT state FROM jobs WHERE id = ?", error);
  if (run.outcome_statement == NULL || run.claim_statement == NULL || run.pending_statement == NULL ||
      run.retry_statement == NULL || run.state_statement == NULL)
    goto finish;
  run.interval = status->rate > 0 ? 60 * G_USEC_PER_SEC / status->rate : 0;
  run.base_interval = run.interval;
  run.total = status->total;
  run.done = status->total - status->pending - status->failed_temporary;
  run.per_day = status->per_day;
  run.sent_today = status->per_day > 0 ? mr_mailshot_sent_in_last_day (self, status->app, 0, NULL) : 0;

  committer = g_thread_new ("mailshot-journal", run_committer, &run);
  for (guint i = 1; i < transports->len; i++)
    g_ptr_array_add (threads, g_thread_new ("mailshot-connection", run_worker, &run));
  run_worker (&run);
  for (guint i = 0; i < threads->len; i++)
    g_thread_join (g_ptr_array_index (threads, i));
  g_mutex_lock (&run.lock);
  run.workers_done = TRUE;
  g_cond_signal (&run.claims_waiting);
  g_mutex_unlock (&run.lock);
  g_thread_join (committer);
  mr_mailshot_sync_sent_log (self, NULL, sent_log, job, status, template_, sender, run.route_label);

finish:
  sqlite3_finalize (run.outcome_statement);
  sqlite3_finalize (run.claim_statement);
  sqlite3_finalize (run.pending_statement);
  sqlite3_finalize (run.retry_statement);
  sqlite3_finalize (run.state_statement);
  g_ptr_array_unref (run.claims);
  g_cond_clear (&run.claims_waiting);
  g_free (run.streak_reply);
  g_free (run.route_label);
  g_mutex_clear (&run.db_lock);
  g_mutex_clear (&run.lock);
  if (run.outcome_statement == NULL || run.claim_statement == NULL || run.pending_statement == NULL ||
      run.retry_statement == NULL || run.state_statement == NULL)
    {
      g_free (run.copy_to);
      goto out;
    }

  /* Failures in a row for one cause: those recipients are tried again when the job is resumed. */
  if (run.streak_paused)
    {
      for (guint i = 0; i < run.streak_rows->len; i++)
        mr_mailshot_run_statement (self, "UPDATE recipients SET state = 'pending' WHERE job = ? AND row = ? "
                                   "AND state IN ('failed-permanent', 'failed-temporary')", NULL, "ii", job,
                                   (gint64) g_array_index (run.streak_rows, guint, i));
      mr_mailshot_run_statement (self, "UPDATE jobs SET state = 'paused', reason = ? WHERE id = ?", NULL, "si", run.error->message, job);
    }
  if (run.error != NULL)
    {
      /* Cancelled here (the window closed): it goes on when it is run again. */
      if (g_error_matches (run.error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        mr_mailshot_run_statement (self, "UPDATE jobs SET state = 'ready' WHERE id = ? AND state = 'running'", NULL, "i", job);
      g_propagate_error (error, run.error);
    }
  else if (run.quota_reached && has_pending (self, job))
    {
      gint64 frees_at = 0;
      g_autofree char *reason = NULL;
      g_autoptr(GDateTime) when = NULL;
      g_autofree char *time = NULL;

      mr_mailshot_sent_in_last_day (self, status->app, run.per_day, &frees_at);
      when = g_date_time_new_from_unix_local (frees_at);
      time = g_date_time_format (when, "%x %X");
      reason = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "The day’s limit of %u mail is reached; it goes on at %s",
                                             "The day’s limit of %u mails is reached; it goes on at %s", run.per_day),
                                run.per_day, time);
      ok = mr_mailshot_run_statement (self, "UPDATE jobs SET state = 'scheduled', not_before = ?, reason = ? WHERE id = ?", error,
                                      "isi", frees_at, reason, job);
    }
  else
    /* Recipients to try again later keep the job open. */
    ok = mr_mailshot_run_statement (self, "UPDATE jobs SET state = CASE WHEN EXISTS (SELECT 1 FROM recipients WHERE job = ?1 "
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
  sqlite3_stmt *statement = mr_mailshot_prepare (self, "SELECT id FROM jobs WHERE (state IN ('ready', 'running') OR "
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
