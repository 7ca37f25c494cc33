/* mr-outbox.c: sending with a record of it, and the outbox */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "mr-exchange.h"
#include "mr-outbox.h"
#include "mr-router.h"
#include "mr-sender.h"
#include "mr-smtp-error.h"

G_DEFINE_QUARK (mr-delivery-error-quark, mr_delivery_error)

#define GIVE_UP_AFTER (2 * 86400)

void
mr_send_report_free (MrSendReport *report)
{
  if (report == NULL)
    return;
  g_free (report->message_id);
  g_free (report->route);
  g_free (report->reply);
  g_strfreev (report->refused);
  g_strfreev (report->deferred);
  g_clear_error (&report->failure);
  g_free (report);
}

gint64
mr_outbox_next_attempt (gint64 created,
                        guint  attempts,
                        gint64 now)
{
  static const gint64 delays[] = { 60, 300, 900, 3600 };
  gint64 delay = attempts > 0 && attempts <= G_N_ELEMENTS (delays) ? delays[attempts - 1] : 4 * 3600;

  if (now + delay - created > GIVE_UP_AFTER)
    return 0;
  return now + delay;
}

/* Where a logged route ("smtp", "sendmail", "ews", "graph") sends from again. */
static const char *
route_of_entry (const MrSentEntry *entry)
{
  if (g_strcmp0 (entry->route, "ews") == 0 || g_strcmp0 (entry->route, "graph") == 0)
    return "exchange";
  if (g_strcmp0 (entry->route, "sendmail") == 0 || !mr_router_has_route (entry->route))
    return "smtp";
  return entry->route;
}

static GStrv
strv_of (GPtrArray *array)
{
  GStrvBuilder *builder = g_strv_builder_new ();
  GStrv strv;

  for (guint i = 0; array != NULL && i < array->len; i++)
    g_strv_builder_add (builder, g_ptr_array_index (array, i));
  strv = g_strv_builder_end (builder);
  g_strv_builder_unref (builder);
  return strv;
}

/* Each recipient's outcome after an attempt: those of @envelope from this attempt (@sent: the
 * server took the message for all but the refused and deferred ones; otherwise all get @outcome),
 * the others as @before had them. Counts what the whole message is now. */
typedef struct {
  GArray *recipients;     /* MrSentRecipient, owned strings */
  guint   accepted, refused, waiting;
} Outcomes;

static void
outcomes_clear (Outcomes *outcomes)
{
  for (guint i = 0; outcomes->recipients != NULL && i < outcomes->recipients->len; i++)
    {
      MrSentRecipient *recipient = &g_array_index (outcomes->recipients, MrSentRecipient, i);

      g_free (recipient->address);
      g_free (recipient->outcome);
      g_free (recipient->reply);
    }
  g_clear_pointer (&outcomes->recipients, g_array_unref);
}

static void
outcomes_count (Outcomes   *outcomes,
                const char *outcome)
{
  if (g_str_equal (outcome, "accepted"))
    outcomes->accepted++;
  else if (g_str_equal (outcome, "refused"))
    outcomes->refused++;
  else
    outcomes->waiting++;
}

static void
outcomes_add (Outcomes   *outcomes,
              const char *address,
              const char *outcome,
              const char *reply)
{
  MrSentRecipient recipient = { g_strdup (address), g_strdup (outcome), g_strdup (reply) };

  g_array_append_val (outcomes->recipients, recipient);
  outcomes_count (outcomes, outcome);
}

static void
outcomes_take (Outcomes             *outcomes,
               const MrSmtpEnvelope *envelope,
               const MrSentEntry    *before,
               gboolean              sent,
               const MrTransportResult *result,
               const char           *outcome,
               const char           *reply)
{
  g_autoptr(GHashTable) said = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  GPtrArray *lists[2] = { sent ? result->refused : NULL, sent ? result->deferred : NULL };

  outcomes->recipients = g_array_new (FALSE, TRUE, sizeof (MrSentRecipient));
  for (guint l = 0; l < G_N_ELEMENTS (lists); l++)
    for (guint i = 0; lists[l] != NULL && i < lists[l]->len; i++)
      {
        char *address, *why;

        mr_smtp_split_refusal (g_ptr_array_index (lists[l], i), &address, &why);
        outcomes_add (outcomes, address, l == 0 ? "refused" : "temporary", why);
        g_hash_table_add (said, address);
        g_free (why);
      }
  for (guint i = 0; i < envelope->recipients->len; i++)
    {
      const char *address = g_ptr_array_index (envelope->recipients, i);

      if (!g_hash_table_contains (said, address))
        outcomes_add (outcomes, address, sent ? "accepted" : outcome, sent ? NULL : reply);
      g_hash_table_add (said, g_strdup (address));
    }
  /* Recipients this attempt did not try keep what an earlier one decided. */
  for (guint i = 0; before != NULL && i < before->outcomes->len; i++)
    {
      MrSentRecipient *earlier = g_ptr_array_index (before->outcomes, i);

      if (!g_hash_table_contains (said, earlier->address))
        outcomes_count (outcomes, earlier->outcome);
    }
}

/* The message's state once nobody waits: accepted, partly accepted or failed. */
static MrSentState
settled_state (const Outcomes *outcomes)
{
  if (outcomes->refused == 0 && outcomes->accepted > 0)
    return MR_SENT_STATE_ACCEPTED;
  return outcomes->accepted > 0 ? MR_SENT_STATE_PARTLY_ACCEPTED : MR_SENT_STATE_FAILED;
}

/* A try that could not send at all, recorded before the next transport of the route takes over. */
typedef struct {
  MrSentLog *log;
  gint64     id;
  gboolean   log_failed;
} Fallback;

static gboolean
record_fallback (MrRouter          *router,
                 const MrRouterTry *try,
                 gpointer           user_data,
                 GError           **error)
{
  Fallback *fallback = user_data;
  g_autofree char *reply = mr_transport_error_describe_reply (try->error);

  /* Still on its way. */
  fallback->log_failed = !mr_sent_log_record_attempt (fallback->log, fallback->id, try->name, try->server, "fell-back",
                                                      reply, MR_SENT_STATE_SENDING, 0, error);
  return !fallback->log_failed;
}

/* One attempt on a recorded message along its route, to the recipients of @envelope (on a retry,
 * those still waiting), and what it leaves it as. A transport that cannot send at all (unreachable,
 * TLS, login, not set up, a policy refusal of the sender) hands over to the next one of the route;
 * a refused recipient never does. A recipient refused for now (4xx) while others were taken waits
 * in the outbox alone: the same message, same Message-ID, with the outbox's back-off. Each try is
 * its own line in the log, with each recipient's outcome. @before: the entry as it was (a retry),
 * or NULL. */
static MrSendReport *
attempt (MrSentLog            *log,
         MrSettings           *settings,
         const char           *app,
         const char           *route,
         const char           *password,
         gint64                id,
         gint64                created,
         guint                 attempts_before,
         const char           *message_id,
         const MrSentEntry    *before,
         const MrSmtpEnvelope *envelope,
         GBytes               *message,
         GCancellable         *cancellable,
         GError              **error)
{
  g_autoptr(MrRouter) router = mr_router_new (settings, app, route, password, error);
  g_autoptr(MrSendReport) report = g_new0 (MrSendReport, 1);
  g_autoptr(MrTransportResult) result = NULL;
  g_autoptr(GError) send_error = NULL;
  g_autoptr(GError) log_error = NULL;
  Fallback fallback = { log, id, FALSE };
  Outcomes outcomes = { NULL };
  gint64 now, next = 0;
  const char *outcome;

  if (router == NULL)
    return NULL;
  mr_router_set_fallback_func (router, record_fallback, &fallback);
  result = mr_transport_send_sync (MR_TRANSPORT (router), envelope, message, cancellable, &send_error);
  mr_transport_close (MR_TRANSPORT (router));
  if (fallback.log_failed)
    {
      g_propagate_error (error, g_steal_pointer (&send_error));
      return NULL;
    }

  now = g_get_real_time () / G_USEC_PER_SEC;
  report->id = id;
  report->message_id = g_strdup (message_id);
  report->route = g_strdup (mr_transport_get_name (MR_TRANSPORT (router)));
  if (result != NULL)
    {
      outcomes_take (&outcomes, envelope, before, TRUE, result, NULL, NULL);
      report->refused = strv_of (result->refused);
      report->deferred = strv_of (result->deferred);
      report->reply = g_strdup (result->reply);
      if (outcomes.waiting > 0)
        next = mr_outbox_next_attempt (created, attempts_before + 1, now);
      if (next != 0)
        {
          report->state = MR_SENT_STATE_QUEUED;
          outcome = "partly-deferred";
        }
      else
        {
          /* Past the outbox's two days, a recipient still refused for now is given up. */
          for (guint i = 0; i < outcomes.recipients->len; i++)
            {
              MrSentRecipient *recipient = &g_array_index (outcomes.recipients, MrSentRecipient, i);

              if (g_str_equal (recipient->outcome, "temporary"))
                {
                  g_free (recipient->outcome);
                  recipient->outcome = g_strdup ("refused");
                  outcomes.waiting--;
                  outcomes.refused++;
                }
            }
          report->state = settled_state (&outcomes);
          outcome = outcomes.refused > 0 ? "partly-refused" : "accepted";
        }
    }
  else if (g_error_matches (send_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      /* Cancelled by the person: it may go later, from the outbox. */
      report->state = MR_SENT_STATE_QUEUED;
      next = now;
      outcome = "cancelled";
      report->reply = g_strdup (send_error->message);
    }
  else
    {
      guint retry_after = mr_transport_get_retry_after (MR_TRANSPORT (router));

      report->reply = mr_transport_error_describe_reply (send_error);
      next = mr_transport_failure_is_temporary (mr_transport_error_get_failure (send_error))
             ? mr_outbox_next_attempt (created, attempts_before + 1, now) : 0;
      if (next != 0 && retry_after > 0)
        next = MAX (next, now + retry_after);
      outcomes_take (&outcomes, envelope, before, FALSE, NULL, next != 0 ? "temporary" : "refused", report->reply);
      /* Refused for good after others were taken on an earlier try: partly accepted. */
      report->state = next != 0 ? MR_SENT_STATE_QUEUED : settled_state (&outcomes);
      outcome = report->state == MR_SENT_STATE_QUEUED ? "temporary" : "failed";
    }
  report->failure = g_steal_pointer (&send_error);

  if (!mr_sent_log_record_attempt_for (log, id, report->route, mr_transport_get_server (MR_TRANSPORT (router)), outcome,
                                       report->reply, report->state, next,
                                       outcomes.recipients ? (MrSentRecipient *) (void *) outcomes.recipients->data : NULL,
                                       outcomes.recipients ? outcomes.recipients->len : 0, &log_error))
    {
      outcomes_clear (&outcomes);
      /* The mail went (or not) but the record did not: say both, and do not claim it is logged. */
      if (report->state == MR_SENT_STATE_ACCEPTED)
        g_set_error (error, MR_SENT_LOG_ERROR, MR_SENT_LOG_ERROR_WRITE,
                     _("The server accepted the mail, but the sent log could not record it: %s"), log_error->message);
      else
        g_propagate_error (error, g_steal_pointer (&log_error));
      return NULL;
    }
  outcomes_clear (&outcomes);
  return g_steal_pointer (&report);
}

MrSendReport *
mr_outbox_send_again_sync (MrSettings    *settings,
                           MrSentLog     *log,
                           gint64         id,
                           GCancellable  *cancellable,
                           GError       **error)
{
  g_autoptr(MrSentEntry) entry = mr_sent_log_get (log, id, error);
  g_autoptr(GBytes) copy = NULL;
  g_autoptr(GBytes) message = NULL;
  g_autoptr(MrSmtpEnvelope) envelope = NULL;
  g_autofree char *message_id = NULL;
  g_autofree char *entry_text = g_strdup_printf ("%" G_GINT64_FORMAT, id);
  const char *user = g_get_user_name ();
  gint64 new_id;

  if (entry == NULL)
    return NULL;
  if (entry->state == MR_SENT_STATE_QUEUED || entry->state == MR_SENT_STATE_SENDING)
    {
      g_set_error (error, MR_SENT_LOG_ERROR, MR_SENT_LOG_ERROR_NOT_FOUND,
                   _("Entry %s is still on its way (it is %s): retry it from the outbox instead"), entry_text,
                   mr_sent_state_to_string (entry->state));
      return NULL;
    }
  copy = mr_sent_log_get_copy (log, id, error);
  if (copy == NULL)
    {
      if (error != NULL && *error == NULL)
        g_set_error (error, MR_SENT_LOG_ERROR, MR_SENT_LOG_ERROR_NOT_FOUND,
                     _("Entry %s kept only its headers (its template logs headers), so it cannot be sent again"),
                     entry_text);
      return NULL;
    }
  message = mr_message_renew (copy, entry->from_address, &message_id, error);
  if (message == NULL)
    return NULL;

  envelope = mr_smtp_envelope_new (entry->from_address);
  for (guint r = 0; entry->recipients[r] != NULL; r++)
    mr_smtp_envelope_add_recipient (envelope, entry->recipients[r]);

  /* Logged before it goes, like every send. */
  new_id = mr_sent_log_add (log, message_id, *user ? user : NULL, entry->app, entry->template_name, entry->from_address,
                            entry->subject, (const char * const *) entry->recipients, entry->log_option, message, error);
  if (new_id == 0)
    return NULL;
  return attempt (log, settings, entry->app, route_of_entry (entry), NULL, new_id, g_get_real_time () / G_USEC_PER_SEC,
                  0, message_id, NULL, envelope, message, cancellable, error);
}

/* Entries claimed but not tried go back to the outbox, due at once. */
static void
release_claims (MrSentLog *log,
                GPtrArray *claimed,
                guint      from)
{
  for (guint i = from; i < claimed->len; i++)
    mr_sent_log_set_state (log, ((MrSentEntry *) g_ptr_array_index (claimed, i))->id, MR_SENT_STATE_QUEUED, 0, NULL);
}

MrSentLog *
mr_outbox_open_log (MrSettings  *settings,
                    const char  *path,
                    GError     **error)
{
  g_autoptr(MrSentLog) log = mr_sent_log_open (path, error);
  gint64 days;

  if (log == NULL)
    return NULL;
  days = mr_settings_get_effective_int (settings, NULL, "log.retention_days");
  if (days > 0 && mr_sent_log_purge (log, (guint) MIN (days, G_MAXUINT), error) < 0)
    return NULL;
  return g_steal_pointer (&log);
}

MrSendReport *
mr_outbox_send_sync (MrSettings     *settings,
                     MrSentLog      *log,
                     const char     *app,
                     const char     *route,
                     MrOutgoing     *outgoing,
                     const char     *template_name,
                     const char     *log_option,
                     const char     *password,
                     GCancellable   *cancellable,
                     GError        **error)
{
  g_autoptr(GBytes) message = NULL;
  g_autoptr(MrSmtpEnvelope) envelope = NULL;
  g_autofree char *message_id = NULL;
  g_autofree char *user = mr_settings_dup_effective_string (settings, NULL, "user.email");
  gint64 id;

  if (route != NULL && !mr_router_has_route (route))
    {
      g_set_error (error, MR_DELIVERY_ERROR, MR_DELIVERY_ERROR_ROUTE_UNAVAILABLE,
                   _("There is no route “%s”: choose smtp, exchange or auto"), route);
      return NULL;
    }

  /* Said plainly, before anything is logged. */
  if (g_strcmp0 (route, "exchange") == 0 && !mr_exchange_is_set_up (settings, app, error))
    return NULL;

  /* A template's own From: only from a domain the company has verified. */
  if (outgoing->from_address != NULL &&
      !mr_settings_domain_is_verified (settings, mr_address_get_domain (outgoing->from_address)))
    {
      g_set_error (error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_INVALID_VALUE,
                   _("The template sends from %s, which is not in one of the company’s verified domains; "
                     "the admin adds the domain to domains.verified first"), outgoing->from_address);
      return NULL;
    }
  if (!mr_settings_fill_sender (settings, app, outgoing, error))
    return NULL;

  message = mr_outgoing_build (outgoing, &message_id, error);
  if (message == NULL)
    return NULL;
  envelope = mr_outgoing_get_envelope (outgoing);

  /* Nothing goes out that the log does not know about. */
  {
    g_autoptr(GPtrArray) recipients = g_ptr_array_copy (envelope->recipients, (GCopyFunc) (void (*) (void)) g_strdup, NULL);

    g_ptr_array_set_free_func (recipients, g_free);
    g_ptr_array_add (recipients, NULL);
    id = mr_sent_log_add (log, message_id, *user ? user : NULL, app, template_name, outgoing->from_address,
                          outgoing->subject, (const char * const *) recipients->pdata, log_option, message, error);
  }
  if (id == 0)
    return NULL;
  return attempt (log, settings, app, route ? route : "smtp", password, id, g_get_real_time () / G_USEC_PER_SEC, 0,
                  message_id, NULL, envelope, message, cancellable, error);
}

GPtrArray *
mr_outbox_process_sync (MrSettings    *settings,
                        MrSentLog     *log,
                        gint64         now,
                        GCancellable  *cancellable,
                        GError       **error)
{
  g_autoptr(GPtrArray) due = mr_sent_log_claim_due (log, now, error);
  g_autoptr(GPtrArray) reports = NULL;

  if (due == NULL)
    return NULL;
  reports = g_ptr_array_new_with_free_func ((GDestroyNotify) mr_send_report_free);
  for (guint i = 0; i < due->len; i++)
    {
      MrSentEntry *entry = g_ptr_array_index (due, i);
      g_autoptr(GBytes) message = NULL;
      g_autoptr(MrSmtpEnvelope) envelope = mr_smtp_envelope_new (entry->from_address);
      g_autoptr(GError) local_error = NULL;
      MrSendReport *report;

      if (g_cancellable_is_cancelled (cancellable))
        {
          release_claims (log, due, i);
          break;
        }
      /* Only the recipients still waiting: those taken or refused for good are not sent it again. */
      for (guint r = 0; r < entry->outcomes->len; r++)
        {
          MrSentRecipient *recipient = g_ptr_array_index (entry->outcomes, r);

          if (!g_str_equal (recipient->outcome, "accepted") && !g_str_equal (recipient->outcome, "refused"))
            mr_smtp_envelope_add_recipient (envelope, recipient->address);
        }
      if (envelope->recipients->len == 0)
        {
          /* Nothing left to send (a record from a crash between two writes): settled. */
          mr_sent_log_set_state (log, entry->id, MR_SENT_STATE_PARTLY_ACCEPTED, 0, NULL);
          continue;
        }
      message = mr_sent_log_get_copy (log, entry->id, &local_error);
      if (message == NULL)
        {
          /* The copy is gone: final, with the reason. */
          mr_sent_log_record_attempt (log, entry->id, entry->route, NULL, "failed",
                                      local_error ? local_error->message : _("The message itself is no longer kept"),
                                      MR_SENT_STATE_FAILED, 0, NULL);
          continue;
        }
      report = attempt (log, settings, entry->app, route_of_entry (entry), NULL, entry->id, entry->created,
                        entry->attempts, entry->message_id, entry, envelope, message, cancellable, error);
      if (report == NULL)
        {
          release_claims (log, due, i + 1);
          return NULL;
        }
      g_ptr_array_add (reports, report);
    }
  return g_steal_pointer (&reports);
}
