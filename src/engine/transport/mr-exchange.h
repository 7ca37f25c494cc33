/* mr-exchange.h: sending through Exchange, over EWS (Exchange Server) or Microsoft Graph (Exchange Online)
 *
 * Like MrDelivery for SMTP: built from the effective settings of a person and an application
 * (exchange.* keys), it finds the password or the sign-in in the keyring and sends a message that
 * is already built (the same bytes SMTP would send), keeping a transcript without secrets.
 *
 * EWS: CreateItem with the MIME message as MimeContent and every recipient named (SendAndSaveCopy, or
 * SendOnly with exchange.save_copy off); NTLM, Basic or Negotiate over HTTPS only, or OAuth2. Without
 * exchange.ews_url, and with exchange.autodiscover on, the URL is found from the person's address.
 * Graph: POST /v1.0/me/sendMail (or /users/MAILBOX/sendMail) with the MIME message in base64; Graph
 * keeps it in Sent Items. A message over Graph's 4 MB a request goes as a draft, its attachments
 * (those over 3 MB through an upload session, in pieces), then send.
 * Busy answers (ErrorServerBusy's BackOffMilliseconds, 429/503 with Retry-After) are waited out
 * when short (up to 10 s, 3 times); otherwise the error says when to try again
 * (mr_exchange_get_retry_after()).
 *
 * Call order: mr_exchange_new() on the calling thread (it reads the settings there) → optionally
 * mr_exchange_set_password() → mr_exchange_send_sync() or mr_exchange_check_sync() in a worker
 * thread (never the GTK main loop) → mr_exchange_get_*().
 */
#pragma once

#include "mr-exchange-error.h"
#include "mr-oauth.h"
#include "mr-settings.h"
#include "mr-smtp-client.h"

G_BEGIN_DECLS

/* Whether the settings of @app send through Exchange at all: an EWS URL, exchange.autodiscover, or
 * Graph with a client ID. Errors: MR_EXCHANGE_ERROR_NOT_SET_UP, saying what the admin sets. */
gboolean mr_exchange_is_set_up (MrSettings  *settings,
                                const char  *app,
                                GError     **error);

#define MR_TYPE_EXCHANGE (mr_exchange_get_type ())

G_DECLARE_FINAL_TYPE (MrExchange, mr_exchange, MR, EXCHANGE, GObject)

/* Errors: MR_SETTINGS_ERROR_INVALID_VALUE (no From address, no username), and
 * MR_EXCHANGE_ERROR_NOT_SET_UP (see mr_exchange_is_set_up()). */
MrExchange   *mr_exchange_new                (MrSettings           *settings,
                                              const char           *app,
                                              GError              **error);
/* The same without requiring that Exchange be set up: for autodiscover, signing in and storing the
 * password while the admin sets it up. */
MrExchange   *mr_exchange_new_for_setup      (MrSettings           *settings,
                                              const char           *app,
                                              GError              **error);
/* Where the EWS password lives (service "exchange", scope user, host = the EWS host or the mail
 * domain, user = exchange.username); NULL when the login is not a password (OAuth2, Negotiate). */
const MrSecretAccount *mr_exchange_get_account (MrExchange         *self);
void          mr_exchange_set_password       (MrExchange           *self,
                                              const char           *password);

/* Sends @message to every recipient of @envelope. Errors: MR_EXCHANGE_ERROR_*, the keyring's,
 * G_IO_ERROR_CANCELLED. */
gboolean      mr_exchange_send_sync          (MrExchange           *self,
                                              const MrSmtpEnvelope *envelope,
                                              GBytes               *message,
                                              GCancellable         *cancellable,
                                              GError              **error);
/* Logs in and reads Sent Items (EWS) or the mailbox (Graph) without sending. */
gboolean      mr_exchange_check_sync         (MrExchange           *self,
                                              GCancellable         *cancellable,
                                              GError              **error);

/* Finds the EWS URL for @address by POX autodiscover: https://DOMAIN/autodiscover/autodiscover.xml,
 * https://autodiscover.DOMAIN/…, then the SRV record _autodiscover._tcp.DOMAIN; following
 * redirectAddr, redirectUrl and HTTP redirects. The password goes only to https hosts in the
 * address's domain; a step out of it fails with MR_EXCHANGE_ERROR_REDIRECT_UNCONFIRMED and the
 * host in @unconfirmed_host, unless @allowed_host names that host (the person agreed). */
char         *mr_exchange_discover_sync      (MrExchange           *self,
                                              const char           *address,
                                              const char           *allowed_host,
                                              char                **unconfirmed_host,
                                              GCancellable         *cancellable,
                                              GError              **error);

/* "EWS at https://mail.example.com/EWS/Exchange.asmx", "Microsoft Graph (me)". */
const char   *mr_exchange_get_route          (MrExchange           *self);
/* "ews" or "graph". */
const char   *mr_exchange_get_transport      (MrExchange           *self);
/* A translated warning about this set-up that does not stop it (EWS at Exchange Online), or NULL. */
const char   *mr_exchange_get_warning        (MrExchange           *self);
/* Seconds the service asked to wait after the last failure (0: not said). */
guint         mr_exchange_get_retry_after    (MrExchange           *self);
/* The service's reply to the last request: "NoError", "202 Accepted", an error code … */
const char   *mr_exchange_get_reply          (MrExchange           *self);
char         *mr_exchange_dup_transcript     (MrExchange           *self);
/* The OAuth configuration of this set-up, for `exchange login`. */
const MrOAuthConfig *mr_exchange_get_oauth_config (MrExchange      *self);
SoupSession  *mr_exchange_get_session        (MrExchange           *self);

G_END_DECLS
