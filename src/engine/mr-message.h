/* mr-message.h: outgoing messages, built with GMime
 *
 * GMime does the MIME work (RFC 2047 headers, quoted-printable, folding); this file decides what a
 * message from Mailroom contains: Date, a Message-ID in the sender's domain, From, Reply-To, To and
 * Cc. Bcc recipients and the company's copy address are envelope recipients only: they never appear
 * in a header. Lines end in CRLF, none longer than 998 octets.
 */
#pragma once

#include <glib.h>

#include "mr-smtp-client.h"

G_BEGIN_DECLS

typedef struct {
  char      *from_name;
  char      *from_address;
  char      *reply_to;
  GPtrArray *to;          /* char* addresses */
  GPtrArray *cc;
  GPtrArray *bcc;
  GPtrArray *copy_to;     /* envelope only: sender.copy_to */
  char      *subject;
  char      *text_body;
} MrOutgoing;

MrOutgoing     *mr_outgoing_new          (void);
void            mr_outgoing_free         (MrOutgoing        *outgoing);

/* Errors: MR_SETTINGS_ERROR_INVALID_VALUE when an address is not valid or a header value has a
 * line break (nothing may add a header or a recipient). */
GBytes         *mr_outgoing_build        (const MrOutgoing  *outgoing,
                                          char             **message_id,
                                          GError           **error);
/* Every recipient, visible or not, once. */
MrSmtpEnvelope *mr_outgoing_get_envelope (const MrOutgoing  *outgoing);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MrOutgoing, mr_outgoing_free)

G_END_DECLS
