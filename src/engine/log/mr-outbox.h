/* mr-outbox.h: sending with a record of it, and the outbox that retries what failed for now
 *
 * Every send goes through here: the message is recorded in the sent log before the first attempt
 * (so that nothing is sent that is not logged), each attempt is recorded, and a mail that failed for
 * now (4xx, server unreachable, offline) is queued and retried with back-off: 1, 5, 15 and 60
 * minutes, then every 4 hours, for 2 days. A permanent failure (5xx, a refused login, an untrusted
 * certificate) is final. Recipients count one by one: when the server takes the mail for some and
 * refuses others for now, those wait in the outbox and only they are sent it again (the same
 * message and Message-ID); one refused for good makes the mail "partly-accepted".
 *
 * Routes: "smtp", "exchange" (EWS or Graph, as exchange.transport says) or "auto": the company's
 * exchange.preferred transport, then the other one when exchange.fallback allows and the first cannot
 * send at all (unreachable, TLS, login, not set up, a 5.7.x policy refusal of the sender); never after
 * a refused recipient. Each try is an attempt in the log; the entry keeps the route that sent it.
 *
 * Errors: MR_DELIVERY_ERROR_ROUTE_UNAVAILABLE, those of MrDelivery and MrSmtpClient (when nothing
 * was queued), and MR_SENT_LOG_ERROR_WRITE (when the log could not record: see its message).
 */
#pragma once

#include "mr-delivery.h"
#include "mr-sent-log.h"

G_BEGIN_DECLS

#define MR_DELIVERY_ERROR (mr_delivery_error_quark ())

typedef enum {
  MR_DELIVERY_ERROR_ROUTE_UNAVAILABLE,
} MrDeliveryError;

GQuark mr_delivery_error_quark (void);

typedef struct {
  gint64       id;            /* the sent-log entry */
  MrSentState  state;         /* accepted, queued or failed */
  char        *message_id;
  char        *route;
  char        *reply;         /* the server's last word */
  GStrv        refused;       /* "address: reply" the server refused for good while taking the rest */
  GStrv        deferred;      /* "address: reply" refused for now: they wait in the outbox (state queued) */
  GError      *failure;       /* why it was queued or failed; NULL when accepted */
} MrSendReport;

void          mr_send_report_free        (MrSendReport   *report);

/* @outgoing: recipients, subject, bodies and attachments; From, Reply-To and the copy address are
 * set here from the settings of @app. @route: "smtp", "exchange" or "auto". Returns a report when
 * the message was recorded (accepted, queued, or failed for good), NULL with @error otherwise. */
MrSendReport *mr_outbox_send_sync        (MrSettings     *settings,
                                          MrSentLog      *log,
                                          const char     *app,
                                          const char     *route,
                                          MrOutgoing     *outgoing,
                                          const char     *template_name,
                                          const char     *log_option,
                                          const char     *password,
                                          GCancellable   *cancellable,
                                          GError        **error);

/* Sends the kept copy of entry @id again, as a new mail (a new entry, Message-ID and Date) to the
 * same recipients: "Send again" on the Sent page, `mailroom-cli resend`. Errors:
 * MR_SENT_LOG_ERROR_NOT_FOUND (no such entry, no copy kept, or still in the outbox), those of
 * mr_outbox_send_sync(). */
MrSendReport *mr_outbox_send_again_sync  (MrSettings     *settings,
                                          MrSentLog      *log,
                                          gint64          id,
                                          GCancellable   *cancellable,
                                          GError        **error);

/* Sends every queued message whose time has come (@now: unix time; G_MAXINT64 for all of them).
 * Returns the reports, one per message tried. */
GPtrArray    *mr_outbox_process_sync     (MrSettings     *settings,
                                          MrSentLog      *log,
                                          gint64          now,
                                          GCancellable   *cancellable,
                                          GError        **error);

/* Opens the sent log (NULL @path: the default) and removes the final entries, with their copies,
 * older than log.retention_days (0: keep them): the log holds personal data. Queued mail stays.
 * Errors: MR_SENT_LOG_ERROR_OPEN, MR_SENT_LOG_ERROR_WRITE. */
MrSentLog    *mr_outbox_open_log         (MrSettings     *settings,
                                          const char     *path,
                                          GError        **error);

/* When the next attempt is due after @attempts attempts, or 0 to give up. */
gint64        mr_outbox_next_attempt     (gint64          created,
                                          guint           attempts,
                                          gint64          now);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MrSendReport, mr_send_report_free)

G_END_DECLS
