/* mr-sender.h: who a mail is from, resolved from the settings
 *
 * An MrSender is the identity a mail of a person and an application profile carries: the From
 * name and address (the company's, or the person's own with sender.send_as_user), Reply-To and the
 * address that gets a copy of every mail (sender.copy_to). Building one checks that there is a From
 * address and that its domain is one of the company's verified domains. It holds no connection:
 * whichever transport sends the mail (MrTransport), the sender is the same.
 */
#pragma once

#include "mr-message.h"
#include "mr-settings.h"

G_BEGIN_DECLS

#define MR_TYPE_SENDER (mr_sender_get_type ())

G_DECLARE_FINAL_TYPE (MrSender, mr_sender, MR, SENDER, GObject)

/* Errors: MR_SETTINGS_ERROR_INVALID_VALUE: no From address (the company's, or the person's own with
 * send_as_user), or one whose domain is not verified. */
MrSender   *mr_sender_new             (MrSettings  *settings,
                                       const char  *app,
                                       GError     **error);

/* "" when not set. */
const char *mr_sender_get_name        (MrSender    *self);
const char *mr_sender_get_address     (MrSender    *self);
/* NULL when not set. */
const char *mr_sender_get_reply_to    (MrSender    *self);
const char *mr_sender_get_copy_to     (MrSender    *self);

/* "Example Office <office@example.com>", or the address alone without a name. */
char       *mr_sender_describe        (MrSender    *self);

/* Sets From (unless @outgoing has its own: a template's), Reply-To and the copy address. */
void        mr_sender_fill            (MrSender    *self,
                                       MrOutgoing  *outgoing);

/* The short message "Send Test Email" and `mailroom-cli test-email` send to @to, saying when and
 * @through what it went. NULL with @error when it cannot be built. */
GBytes     *mr_sender_build_test_message (MrSender        *self,
                                          const char      *to,
                                          const char      *through,
                                          MrSmtpEnvelope **envelope,
                                          char           **message_id,
                                          GError         **error);

/* The same from the settings of @app in one call. Errors: those of mr_sender_new(). */
gboolean    mr_settings_fill_sender   (MrSettings  *settings,
                                       const char  *app,
                                       MrOutgoing  *outgoing,
                                       GError     **error);

/* Who mail of @app's profile is from, as its From header will show it, for a person to see before
 * sending. Errors: those of mr_sender_new(). */
char       *mr_sender_describe_for    (MrSettings  *settings,
                                       const char  *app,
                                       GError     **error);

G_END_DECLS
