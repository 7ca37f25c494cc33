/* mr-ews.h: Exchange Web Services requests and responses (SOAP 1.1, Exchange 2013 schema)
 *
 * Pure functions, no I/O: MrExchange sends what these build and reads what came back with them.
 * Requests follow the schema in messages.xsd / types.xsd, element order included (Exchange enforces
 * it). Responses are read by namespace and local name, never by prefix or by message text.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define MR_EWS_NS_MESSAGES "http://schemas.microsoft.com/exchange/services/2006/messages"
#define MR_EWS_NS_TYPES    "http://schemas.microsoft.com/exchange/services/2006/types"
#define MR_EWS_NS_ERRORS   "http://schemas.microsoft.com/exchange/services/2006/errors"
#define MR_EWS_NS_SOAP     "http://schemas.xmlsoap.org/soap/envelope/"

/* CreateItem that sends @message (the whole MIME message, as MimeContent) and names every recipient
 * explicitly as well, since Bcc is not in the MIME. @save_copy: SendAndSaveCopy into Sent Items,
 * otherwise SendOnly. */
GBytes     *mr_ews_build_create_item   (GBytes             *message,
                                        const char * const *to,
                                        const char * const *cc,
                                        const char * const *bcc,
                                        gboolean            save_copy);

/* A message taken apart, for servers that cannot take the MIME message with its attachments in one
 * request: create a draft, attach each file, then send it. */
typedef struct {
  char    *name;
  char    *content_type;
  char    *content_id;     /* inline images; NULL otherwise */
  GBytes  *content;
} MrEwsAttachment;

typedef struct {
  char      *subject;
  char      *body;
  gboolean   html;
  char      *from;           /* the From address */
  char      *message_id;     /* without the angle brackets */
  GPtrArray *attachments;    /* MrEwsAttachment */
} MrEwsParts;

MrEwsParts *mr_ews_parts_from_mime      (GBytes             *message);
void        mr_ews_parts_free           (MrEwsParts         *parts);
/* CreateItem SaveOnly into Drafts: the message without its attachments. */
GBytes     *mr_ews_build_create_draft   (const MrEwsParts   *parts,
                                         const char * const *to,
                                         const char * const *cc,
                                         const char * const *bcc);
GBytes     *mr_ews_build_create_attachment (const char            *item_id,
                                            const char            *change_key,
                                            const MrEwsAttachment *attachment);
GBytes     *mr_ews_build_send_item      (const char         *item_id,
                                         const char         *change_key,
                                         gboolean            save_copy);

/* GetFolder on Sent Items: the cheapest request that proves the URL and the login work. */
GBytes     *mr_ews_build_get_folder    (void);

typedef struct {
  gboolean  fault;            /* a SOAP fault rather than a response message */
  char     *response_class;   /* "Success", "Warning" or "Error"; NULL for a fault */
  char     *code;             /* ResponseCode ("NoError", "ErrorServerBusy", …); faultcode for a fault
                                 without one */
  char     *text;             /* MessageText or faultstring, for the transcript */
  gint64    back_off_ms;      /* MessageXml's BackOffMilliseconds; 0 when absent */
  char     *item_id;          /* the item created (t:ItemId), or the one an attachment went to */
  char     *change_key;       /* its current ChangeKey */
} MrEwsResponse;

void        mr_ews_response_free       (MrEwsResponse      *response);

/* Reads the first response message (or the fault) of an EWS reply. Returns NULL with
 * G_IO_ERROR_INVALID_DATA when @body is not SOAP at all, naming what it is instead. */
MrEwsResponse *mr_ews_parse_response   (GBytes             *body,
                                        GError            **error);

/* POX autodiscover (the Outlook schema): the request for @address, and what the answer says.
 * On return exactly one of @ews_url, @redirect_address, @redirect_url is set. */
GBytes     *mr_ews_build_autodiscover  (const char         *address);
gboolean    mr_ews_parse_autodiscover  (GBytes             *body,
                                        char              **ews_url,
                                        char              **redirect_address,
                                        char              **redirect_url,
                                        GError            **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MrEwsResponse, mr_ews_response_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MrEwsParts, mr_ews_parts_free)

G_END_DECLS
