/* mr-delivery.h: the SMTP server (or the sendmail program) of a person's and an application's settings
 *
 * What MrSmtpTransport and MrSendmailTransport are made of: it turns the settings into an SMTP
 * configuration (or the sendmail program), finds the password or the sign-in's token in the keyring,
 * connects, and keeps a redacted transcript, also when it failed. Callers send through MrTransport
 * (MrRouter); what is left here for them is the readiness of the settings and the size limit a
 * server announced.
 *
 * Call order: mr_delivery_new() on the calling thread (it reads the settings there) → the rest in a
 * worker thread → mr_delivery_get_*().
 */
#pragma once

#include "mr-message.h"
#include "mr-oauth.h"
#include "mr-settings.h"
#include "mr-smtp-client.h"

G_BEGIN_DECLS

#define MR_TYPE_DELIVERY (mr_delivery_get_type ())

G_DECLARE_FINAL_TYPE (MrDelivery, mr_delivery, MR, DELIVERY, GObject)

/* Errors: MR_SETTINGS_ERROR_INVALID_VALUE when the settings cannot send (no server, no From). */
MrDelivery             *mr_delivery_new               (MrSettings          *settings,
                                                       const char          *app,
                                                       GError             **error);

/* Whether mail of @app's profile could go now through @route ("smtp", "exchange", "auto" or
 * NULL), before anything is sent: the one answer Compose, the mailshot wizard and their reasons
 * are built on. @template_from: the template's own From address, or NULL. */
typedef enum {
  MR_DELIVERY_READY,
  MR_DELIVERY_NO_FROM,       /* no From address: the company's, or the person's own with send_as_user */
  MR_DELIVERY_NO_EXCHANGE,   /* the route is Exchange, and Exchange is not set up */
  MR_DELIVERY_NO_SERVER,     /* no SMTP server (nor sendmail), and no Exchange to go through instead */
} MrDeliveryReadiness;

MrDeliveryReadiness     mr_delivery_check_ready       (MrSettings          *settings,
                                                       const char          *app,
                                                       const char          *route,
                                                       const char          *template_from);

/* The largest message the server of @app's profile took, as it announced (SIZE) when Mailroom last
 * connected to it; 0 when not known or not announced, or in sendmail mode. */
guint64                 mr_delivery_get_known_size_limit (MrSettings       *settings,
                                                          const char       *app);

/* A password to use when the keyring has none (asked for by the caller); not stored. */
void                    mr_delivery_set_password      (MrDelivery          *self,
                                                       const char          *password);

/* A connection to the server, greeted, secured and logged in, for sending many messages on it
 * (mailshots); the caller quits it. Errors: those of mr_smtp_client_connect_sync() and the keyring's.
 * Not in sendmail mode (MR_SMTP_ERROR_SENDMAIL). */
MrSmtpClient           *mr_delivery_connect_sync      (MrDelivery          *self,
                                                       GCancellable        *cancellable,
                                                       GError             **error);

/* In sendmail mode: whether the program is there to be run (MR_SMTP_ERROR_SENDMAIL if not). */
gboolean                mr_delivery_check_sendmail    (MrDelivery          *self,
                                                       GError             **error);
/* In sendmail mode: runs the program for a built message, the envelope on its command line.
 * Errors: MR_SMTP_ERROR_SENDMAIL, or MR_SMTP_ERROR_TEMPORARY for its EX_TEMPFAIL. */
gboolean                mr_delivery_run_sendmail_sync (MrDelivery          *self,
                                                       const MrSmtpEnvelope *envelope,
                                                       GBytes              *message,
                                                       GCancellable        *cancellable,
                                                       GError             **error);

/* With smtp.auth = oauth2: whose sign-in gives the XOAUTH2 token (Microsoft, or Google for Gmail),
 * and a session that trusts what exchange.trust_file names; NULL otherwise. */
const MrOAuthConfig    *mr_delivery_get_oauth_config  (MrDelivery          *self);
SoupSession            *mr_delivery_new_oauth_session (MrDelivery          *self);

/* "smtp.example.com port 587 (STARTTLS)", or "the sendmail program /usr/sbin/sendmail". */
const char             *mr_delivery_get_route         (MrDelivery          *self);
char                   *mr_delivery_dup_transcript    (MrDelivery          *self);
/* NULL in sendmail mode. */
MrSmtpClient           *mr_delivery_get_client        (MrDelivery          *self);
const MrSmtpConfig     *mr_delivery_get_config        (MrDelivery          *self);
gboolean                mr_delivery_uses_sendmail     (MrDelivery          *self);

G_END_DECLS
