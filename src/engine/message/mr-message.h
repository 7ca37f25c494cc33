/* mr-message.h: outgoing messages, built with GMime
 *
 * GMime does the MIME work (RFC 2047 headers, quoted-printable, folding); this file decides what a
 * message from Mailroom contains: Date, a Message-ID in the sender's domain, From, Reply-To, To and
 * Cc. Bcc recipients and the company's copy address are envelope recipients only: they never appear
 * in a header. Lines end in CRLF, none longer than 998 octets.
 *
 * Structure: multipart/mixed › multipart/alternative › (text/plain, multipart/related › (text/html,
 * inline images)), each level only when it is needed.
 */
#pragma once

#include <glib.h>

#include "mr-smtp-client.h"

G_BEGIN_DECLS

typedef struct {
  char      *path;
  char      *filename;      /* NULL: the file's own name */
  char      *content_id;    /* inline (cid:) images; NULL for an ordinary attachment */
} MrAttachment;

typedef struct {
  char      *from_name;
  char      *from_address;
  char      *reply_to;
  GPtrArray *to;          /* char* addresses */
  char      *to_name;     /* the display name of the first To address (a mailshot's name column), or NULL */
  GPtrArray *cc;
  GPtrArray *bcc;
  GPtrArray *copy_to;     /* envelope only: sender.copy_to */
  char      *subject;
  char      *text_body;     /* NULL with an HTML body: derived from it */
  char      *html_body;
  GPtrArray *attachments;   /* MrAttachment */
  char      *message_id;    /* NULL: a new one in the sender's domain (a mailshot fixes its own first) */
  char      *list_unsubscribe;       /* the List-Unsubscribe value ("<https://…>, <mailto:…>"), or NULL */
  gboolean   list_unsubscribe_post;  /* adds "List-Unsubscribe-Post: List-Unsubscribe=One-Click" (RFC 8058) */
} MrOutgoing;

MrOutgoing     *mr_outgoing_new          (void);
void            mr_outgoing_add_attachment (MrOutgoing      *outgoing,
                                          const char      *path,
                                          const char      *filename,
                                          const char      *content_id);
/* Readable text from HTML (libxml2's parser): paragraphs and lists kept, links as "text <url>". */
char           *mr_html_to_text          (const char      *html);
void            mr_outgoing_free         (MrOutgoing        *outgoing);

/* Errors: MR_SETTINGS_ERROR_INVALID_VALUE when an address is not valid or a header value has a
 * line break (nothing may add a header or a recipient); G_IO_ERROR when an attachment cannot be read. */
GBytes         *mr_outgoing_build        (const MrOutgoing  *outgoing,
                                          char             **message_id,
                                          GError           **error);
/* Builds one message after another, as a mailshot does: the MIME tree is made for the first and
 * kept while the messages keep its shape (the same attachments, HTML or not, the same unsubscribe
 * headers); each message then only sets the header values and texts again. The result is what
 * mr_outgoing_build() gives for the same @outgoing, byte for byte but for the Date and the
 * boundaries. One builder per thread. Errors: as mr_outgoing_build(). */
typedef struct _MrMessageBuilder MrMessageBuilder;

MrMessageBuilder *mr_message_builder_new   (void);
GBytes           *mr_message_builder_build (MrMessageBuilder  *builder,
                                            const MrOutgoing  *outgoing,
                                            char             **message_id,
                                            GError           **error);
void              mr_message_builder_free  (MrMessageBuilder  *builder);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MrMessageBuilder, mr_message_builder_free)

/* The same message with a new Message-ID and Date, to send it again as a mail of its own (a
 * recipient's server may drop a second copy with the first one's Message-ID). Errors:
 * MR_SETTINGS_ERROR_INVALID_VALUE when @message is not a message. */
GBytes         *mr_message_renew         (GBytes            *message,
                                          const char        *from_address,
                                          char             **message_id,
                                          GError           **error);
/* @when for a mail's body, always ASCII whatever the locale: "2026-12-06 09:05 +0100". The locale's
 * own form (%c) can hold characters such as U+2007 (GLib pads %e with it), which would make a plain
 * ASCII mail go out as UTF-8 quoted-printable. */
char           *mr_format_body_date      (GDateTime         *when);
/* A new Message-ID in the domain of @from_address: <...@domain>. */
char           *mr_message_id_new        (const char        *from_address);
/* Every recipient, visible or not, once. */
MrSmtpEnvelope *mr_outgoing_get_envelope (const MrOutgoing  *outgoing);

/* Who a built message goes to, as services that take recipients by kind want it (Exchange):
 * envelope recipients named in To or Cc stay there, every other one (Bcc, the copy address) is Bcc. */
void            mr_message_split_recipients (GBytes               *message,
                                             const MrSmtpEnvelope *envelope,
                                             GStrv                *to,
                                             GStrv                *cc,
                                             GStrv                *bcc);
/* @message with a Bcc header naming @bcc (none when empty), for services that read the recipients
 * from the message itself and drop Bcc when they send it (Microsoft Graph). */
GBytes         *mr_message_add_bcc       (GBytes             *message,
                                          const char * const *bcc);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MrOutgoing, mr_outgoing_free)

/* Pictures in the HTML as data: URIs (the editor inserts them so) become inline parts, referred to
 * as cid:: each picture once, however often it appears, kept in the cache folder under its own
 * checksum so that a mailshot's thousands of mails share one file. A data: URI that is not a
 * base64 PNG, JPEG, GIF or WebP picture, or is over 10 MB, is left as it is. Errors: G_IO_ERROR
 * when the cache folder cannot be written. */
gboolean        mr_outgoing_embed_images (MrOutgoing        *outgoing,
                                          GError           **error);
/* The same work on any HTML: returns it with each picture as cid:ID, calling @add once for each
 * picture's file (in the cache folder), name and content ID. NULL with @error as above. */
typedef void  (*MrEmbedPictureFunc)      (const char        *path,
                                          const char        *filename,
                                          const char        *content_id,
                                          gpointer           user_data);
char           *mr_embed_data_pictures   (const char        *html,
                                          MrEmbedPictureFunc add,
                                          gpointer           user_data,
                                          GError           **error);

/* ---- A built message, as a mail program shows it ------------------------------------------------ */

typedef struct {
  char    *filename;
  char    *content_type;
  guint64  size;          /* decoded, in bytes */
  gboolean inline_image;  /* shown in the HTML (cid:), not listed as an attachment by mail programs */
} MrMessageAttachment;

typedef struct {
  char      *from;        /* "Name <address>", or the address */
  char      *to;          /* the To and Cc lists as written, ", " between addresses; NULL when none */
  char      *cc;
  char      *subject;
  GDateTime *date;        /* NULL without a Date */
  char      *text;        /* the text part, decoded; NULL without one */
  char      *html;        /* the HTML part, its cid: images as data: URIs, behind a Content Security
                           * Policy that lets nothing else load; NULL without one */
  GPtrArray *attachments; /* MrMessageAttachment, in the message's order */
} MrMessageSummary;

/* What a mail program shows of @message (RFC 5322, as mr_outgoing_build() makes it). NULL when it
 * is not a message at all. */
MrMessageSummary *mr_message_summarize     (GBytes           *message);
void              mr_message_summary_free  (MrMessageSummary *summary);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MrMessageSummary, mr_message_summary_free)

G_END_DECLS
