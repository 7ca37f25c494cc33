/* mr-smtp-transport.h: MrTransport over an SMTP server, and over this machine's sendmail program
 *
 * MrSmtpTransport keeps one connection (MrSmtpClient) for as many messages as are sent on it: it
 * connects, secures and logs in with the settings' server and the keyring's password or sign-in
 * (MrDelivery), and connects again when the server closed the connection. MrSendmailTransport hands
 * each message to delivery.sendmail_path with the envelope on the command line.
 */
#pragma once

#include "mr-delivery.h"
#include "mr-transport.h"

G_BEGIN_DECLS

#define MR_TYPE_SMTP_TRANSPORT (mr_smtp_transport_get_type ())
G_DECLARE_FINAL_TYPE (MrSmtpTransport, mr_smtp_transport, MR, SMTP_TRANSPORT, GObject)

#define MR_TYPE_SENDMAIL_TRANSPORT (mr_sendmail_transport_get_type ())
G_DECLARE_FINAL_TYPE (MrSendmailTransport, mr_sendmail_transport, MR, SENDMAIL_TRANSPORT, GObject)

/* The transport delivery.mode names for @app: the SMTP server (remote, local-smtp) or the sendmail
 * program. @password: one to use when the keyring has none (asked for by the caller), or NULL.
 * Errors: those of mr_delivery_new(). */
MrTransport *mr_smtp_transport_new_for_settings (MrSettings  *settings,
                                                 const char  *app,
                                                 const char  *password,
                                                 GError     **error);

G_END_DECLS
