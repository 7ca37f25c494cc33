/* mr-ews.c: EWS and POX autodiscover documents, built and read with libxml2 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <string.h>

#include "mr-ews.h"
#include "mr-gmime-private.h"

#define AUTODISCOVER_REQUEST_NS  "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"
#define AUTODISCOVER_RESPONSE_NS "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
#define AUTODISCOVER_OUTER_NS    "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlDoc, xmlFreeDoc)

static GBytes *
serialize (xmlDoc *doc)
{
  xmlChar *text = NULL;
  int length = 0;
  GBytes *bytes;

  xmlDocDumpMemoryEnc (doc, &text, &length, "utf-8");
  bytes = g_bytes_new (text, (gsize) length);
  xmlFree (text);
  return bytes;
}

/* An envelope with the version header, and its body to fill. */
static xmlNode *
new_envelope (xmlDoc  *doc,
              xmlNs  **messages,
              xmlNs  **types)
{
  xmlNode *envelope = xmlNewNode (NULL, BAD_CAST "Envelope");
  xmlNs *soap = xmlNewNs (envelope, BAD_CAST MR_EWS_NS_SOAP, BAD_CAST "soap");
  xmlNode *header;
  xmlNode *version;

  *types = xmlNewNs (envelope, BAD_CAST MR_EWS_NS_TYPES, BAD_CAST "t");
  *messages = xmlNewNs (envelope, BAD_CAST MR_EWS_NS_MESSAGES, BAD_CAST "m");
  xmlSetNs (envelope, soap);
  xmlDocSetRootElement (doc, envelope);
  header = xmlNewChild (envelope, soap, BAD_CAST "Header", NULL);
  /* Exchange 2013 and later understand everything sent here. */
  version = xmlNewChild (header, *types, BAD_CAST "RequestServerVersion", NULL);
  xmlNewProp (version, BAD_CAST "Version", BAD_CAST "Exchange2013");
  return xmlNewChild (envelope, soap, BAD_CAST "Body", NULL);
}

static void
add_recipients (xmlNode            *message,
                xmlNs              *types,
                const char         *element,
                const char * const *addresses)
{
  xmlNode *list;

  if (addresses == NULL || addresses[0] == NULL)
    return;
  list = xmlNewChild (message, types, BAD_CAST element, NULL);
  for (guint i = 0; addresses[i] != NULL; i++)
    {
      xmlNode *mailbox = xmlNewChild (list, types, BAD_CAST "Mailbox", NULL);
      xmlNewTextChild (mailbox, types, BAD_CAST "EmailAddress", BAD_CAST addresses[i]);
    }
}

GBytes *
mr_ews_build_create_item (GBytes             *message,
                          const char * const *to,
                          const char * const *cc,
                          const char * const *bcc,
                          gboolean            save_copy)
{
  g_autoptr(xmlDoc) doc = xmlNewDoc (BAD_CAST "1.0");
  xmlNs *messages, *types;
  xmlNode *body = new_envelope (doc, &messages, &types);
  xmlNode *create = xmlNewChild (body, messages, BAD_CAST "CreateItem", NULL);
  xmlNode *items;
  xmlNode *item;
  xmlNode *mime;
  g_autofree char *encoded = g_base64_encode (g_bytes_get_data (message, NULL), g_bytes_get_size (message));

  xmlNewProp (create, BAD_CAST "MessageDisposition", BAD_CAST (save_copy ? "SendAndSaveCopy" : "SendOnly"));
  if (save_copy)
    {
      xmlNode *folder = xmlNewChild (create, messages, BAD_CAST "SavedItemFolderId", NULL);
      xmlNode *id = xmlNewChild (folder, types, BAD_CAST "DistinguishedFolderId", NULL);
      xmlNewProp (id, BAD_CAST "Id", BAD_CAST "sentitems");
    }
  items = xmlNewChild (create, messages, BAD_CAST "Items", NULL);
  item = xmlNewChild (items, types, BAD_CAST "Message", NULL);
  /* The whole message, attachments included, as the server should send it. */
  mime = xmlNewTextChild (item, types, BAD_CAST "MimeContent", BAD_CAST encoded);
  xmlNewProp (mime, BAD_CAST "CharacterSet", BAD_CAST "UTF-8");
  add_recipients (item, types, "ToRecipients", to);
  add_recipients (item, types, "CcRecipients", cc);
  add_recipients (item, types, "BccRecipients", bcc);
  return serialize (doc);
}

static void
attachment_free (MrEwsAttachment *attachment)
{
  g_free (attachment->name);
  g_free (attachment->content_type);
  g_free (attachment->content_id);
  g_bytes_unref (attachment->content);
  g_free (attachment);
}

void
mr_ews_parts_free (MrEwsParts *parts)
{
  if (parts == NULL)
    return;
  g_free (parts->subject);
  g_free (parts->body);
  g_free (parts->from);
  g_free (parts->message_id);
  g_ptr_array_unref (parts->attachments);
  g_free (parts);
}

static GBytes *
decoded_content (GMimePart *part)
{
  GMimeDataWrapper *wrapper = g_mime_part_get_content (part);
  g_autoptr(GMimeStream) stream = g_mime_stream_mem_new ();
  GByteArray *array;

  if (wrapper == NULL)
    return g_bytes_new (NULL, 0);
  g_mime_data_wrapper_write_to_stream (wrapper, stream);
  array = g_mime_stream_mem_get_byte_array (GMIME_STREAM_MEM (stream));
  return g_bytes_new (array->data, array->len);
}

static void
collect_part (GMimeObject *parent,
              GMimeObject *object,
              gpointer     data)
{
  MrEwsParts *parts = data;
  GMimeContentType *type = g_mime_object_get_content_type (object);
  const char *filename;
  const char *disposition;

  if (!GMIME_IS_PART (object))
    return;
  filename = g_mime_part_get_filename (GMIME_PART (object));
  disposition = g_mime_object_get_disposition (object);
  if (filename != NULL || g_strcmp0 (disposition, "attachment") == 0 || g_mime_object_get_content_id (object) != NULL)
    {
      MrEwsAttachment *attachment = g_new0 (MrEwsAttachment, 1);

      attachment->name = g_strdup (filename ? filename : "attachment");
      attachment->content_type = g_mime_content_type_get_mime_type (type);
      attachment->content_id = g_strdup (g_mime_object_get_content_id (object));
      attachment->content = decoded_content (GMIME_PART (object));
      g_ptr_array_add (parts->attachments, attachment);
      return;
    }
  /* The HTML body wins over the plain one. */
  if (g_mime_content_type_is_type (type, "text", "html") || (parts->body == NULL &&
                                                             g_mime_content_type_is_type (type, "text", "plain")))
    {
      g_autoptr(GBytes) content = decoded_content (GMIME_PART (object));

      g_free (parts->body);
      parts->body = g_strndup (g_bytes_get_data (content, NULL), g_bytes_get_size (content));
      parts->html = g_mime_content_type_is_type (type, "text", "html");
    }
}

MrEwsParts *
mr_ews_parts_from_mime (GBytes *message)
{
  g_autoptr(GMimeMessage) parsed = mr_gmime_parse (message);
  MrEwsParts *parts = g_new0 (MrEwsParts, 1);
  InternetAddressList *from;

  parts->attachments = g_ptr_array_new_with_free_func ((GDestroyNotify) attachment_free);
  if (parsed == NULL)
    return parts;
  parts->subject = g_strdup (g_mime_message_get_subject (parsed));
  parts->message_id = g_strdup (g_mime_message_get_message_id (parsed));
  from = g_mime_message_get_from (parsed);
  if (from != NULL && internet_address_list_length (from) > 0 &&
      INTERNET_ADDRESS_IS_MAILBOX (internet_address_list_get_address (from, 0)))
    parts->from = g_strdup (internet_address_mailbox_get_addr (INTERNET_ADDRESS_MAILBOX (
                              internet_address_list_get_address (from, 0))));
  g_mime_message_foreach (parsed, collect_part, parts);
  return parts;
}

GBytes *
mr_ews_build_create_draft (const MrEwsParts   *parts,
                           const char * const *to,
                           const char * const *cc,
                           const char * const *bcc)
{
  g_autoptr(xmlDoc) doc = xmlNewDoc (BAD_CAST "1.0");
  xmlNs *messages, *types;
  xmlNode *body = new_envelope (doc, &messages, &types);
  xmlNode *create = xmlNewChild (body, messages, BAD_CAST "CreateItem", NULL);
  xmlNode *folder, *id, *items, *item, *text;

  xmlNewProp (create, BAD_CAST "MessageDisposition", BAD_CAST "SaveOnly");
  folder = xmlNewChild (create, messages, BAD_CAST "SavedItemFolderId", NULL);
  id = xmlNewChild (folder, types, BAD_CAST "DistinguishedFolderId", NULL);
  xmlNewProp (id, BAD_CAST "Id", BAD_CAST "drafts");
  items = xmlNewChild (create, messages, BAD_CAST "Items", NULL);
  item = xmlNewChild (items, types, BAD_CAST "Message", NULL);
  xmlNewTextChild (item, types, BAD_CAST "Subject", BAD_CAST (parts->subject ? parts->subject : ""));
  text = xmlNewTextChild (item, types, BAD_CAST "Body", BAD_CAST (parts->body ? parts->body : ""));
  xmlNewProp (text, BAD_CAST "BodyType", BAD_CAST (parts->html ? "HTML" : "Text"));
  add_recipients (item, types, "ToRecipients", to);
  add_recipients (item, types, "CcRecipients", cc);
  add_recipients (item, types, "BccRecipients", bcc);
  if (parts->from != NULL)
    {
      xmlNode *from = xmlNewChild (item, types, BAD_CAST "From", NULL);
      xmlNode *mailbox = xmlNewChild (from, types, BAD_CAST "Mailbox", NULL);
      xmlNewTextChild (mailbox, types, BAD_CAST "EmailAddress", BAD_CAST parts->from);
    }
  /* The Message-ID the sent log knows. */
  if (parts->message_id != NULL)
    {
      g_autofree char *bracketed = g_strdup_printf ("<%s>", parts->message_id);
      xmlNewTextChild (item, types, BAD_CAST "InternetMessageId", BAD_CAST bracketed);
    }
  return serialize (doc);
}

static void
add_item_id (xmlNode    *parent,
             xmlNs      *types,
             const char *element,
             const char *item_id,
             const char *change_key)
{
  xmlNode *id = xmlNewChild (parent, types, BAD_CAST element, NULL);

  xmlNewProp (id, BAD_CAST "Id", BAD_CAST item_id);
  if (change_key != NULL)
    xmlNewProp (id, BAD_CAST "ChangeKey", BAD_CAST change_key);
}

GBytes *
mr_ews_build_create_attachment (const char            *item_id,
                                const char            *change_key,
                                const MrEwsAttachment *attachment)
{
  g_autoptr(xmlDoc) doc = xmlNewDoc (BAD_CAST "1.0");
  xmlNs *messages, *types;
  xmlNode *body = new_envelope (doc, &messages, &types);
  xmlNode *create = xmlNewChild (body, messages, BAD_CAST "CreateAttachment", NULL);
  xmlNode *list, *file;
  g_autofree char *encoded = g_base64_encode (g_bytes_get_data (attachment->content, NULL),
                                              g_bytes_get_size (attachment->content));

  add_item_id (create, messages, "ParentItemId", item_id, change_key);
  list = xmlNewChild (create, messages, BAD_CAST "Attachments", NULL);
  file = xmlNewChild (list, types, BAD_CAST "FileAttachment", NULL);
  xmlNewTextChild (file, types, BAD_CAST "Name", BAD_CAST attachment->name);
  xmlNewTextChild (file, types, BAD_CAST "ContentType", BAD_CAST attachment->content_type);
  if (attachment->content_id != NULL)
    xmlNewTextChild (file, types, BAD_CAST "ContentId", BAD_CAST attachment->content_id);
  if (attachment->content_id != NULL)
    xmlNewTextChild (file, types, BAD_CAST "IsInline", BAD_CAST "true");
  xmlNewTextChild (file, types, BAD_CAST "Content", BAD_CAST encoded);
  return serialize (doc);
}

GBytes *
mr_ews_build_send_item (const char *item_id,
                        const char *change_key,
                        gboolean    save_copy)
{
  g_autoptr(xmlDoc) doc = xmlNewDoc (BAD_CAST "1.0");
  xmlNs *messages, *types;
  xmlNode *body = new_envelope (doc, &messages, &types);
  xmlNode *send = xmlNewChild (body, messages, BAD_CAST "SendItem", NULL);
  xmlNode *ids;

  xmlNewProp (send, BAD_CAST "SaveItemToFolder", BAD_CAST (save_copy ? "true" : "false"));
  ids = xmlNewChild (send, messages, BAD_CAST "ItemIds", NULL);
  add_item_id (ids, types, "ItemId", item_id, change_key);
  if (save_copy)
    {
      xmlNode *folder = xmlNewChild (send, messages, BAD_CAST "SavedItemFolderId", NULL);
      xmlNode *id = xmlNewChild (folder, types, BAD_CAST "DistinguishedFolderId", NULL);
      xmlNewProp (id, BAD_CAST "Id", BAD_CAST "sentitems");
    }
  return serialize (doc);
}

GBytes *
mr_ews_build_get_folder (void)
{
  g_autoptr(xmlDoc) doc = xmlNewDoc (BAD_CAST "1.0");
  xmlNs *messages, *types;
  xmlNode *body = new_envelope (doc, &messages, &types);
  xmlNode *get = xmlNewChild (body, messages, BAD_CAST "GetFolder", NULL);
  xmlNode *shape = xmlNewChild (get, messages, BAD_CAST "FolderShape", NULL);
  xmlNode *ids = xmlNewChild (get, messages, BAD_CAST "FolderIds", NULL);
  xmlNode *id;

  xmlNewTextChild (shape, types, BAD_CAST "BaseShape", BAD_CAST "IdOnly");
  id = xmlNewChild (ids, types, BAD_CAST "DistinguishedFolderId", NULL);
  xmlNewProp (id, BAD_CAST "Id", BAD_CAST "sentitems");
  return serialize (doc);
}

void
mr_ews_response_free (MrEwsResponse *response)
{
  if (response == NULL)
    return;
  g_free (response->response_class);
  g_free (response->code);
  g_free (response->text);
  g_free (response->item_id);
  g_free (response->change_key);
  g_free (response);
}

static gboolean
is_element (xmlNode    *node,
            const char *ns,
            const char *name)
{
  return node->type == XML_ELEMENT_NODE && node->ns != NULL && node->ns->href != NULL &&
         strcmp ((const char *) node->ns->href, ns) == 0 && strcmp ((const char *) node->name, name) == 0;
}

/* The first element below @from (depth first) with this namespace and local name. */
static xmlNode *
find (xmlNode    *from,
      const char *ns,
      const char *name)
{
  for (xmlNode *child = from ? from->children : NULL; child != NULL; child = child->next)
    {
      xmlNode *found;

      if (child->type != XML_ELEMENT_NODE)
        continue;
      if (is_element (child, ns, name))
        return child;
      found = find (child, ns, name);
      if (found != NULL)
        return found;
    }
  return NULL;
}

/* Local-name only: SOAP faults put faultcode and faultstring in no namespace. */
static xmlNode *
find_unqualified (xmlNode    *from,
                  const char *name)
{
  for (xmlNode *child = from ? from->children : NULL; child != NULL; child = child->next)
    if (child->type == XML_ELEMENT_NODE && child->ns == NULL && strcmp ((const char *) child->name, name) == 0)
      return child;
  return NULL;
}

static char *
text_of (xmlNode *node)
{
  xmlChar *content;
  char *text;

  if (node == NULL)
    return NULL;
  content = xmlNodeGetContent (node);
  text = g_strstrip (g_strdup ((const char *) content));
  xmlFree (content);
  return text;
}

static gint64
back_off_of (xmlNode *from)
{
  for (xmlNode *child = from ? from->children : NULL; child != NULL; child = child->next)
    {
      if (child->type != XML_ELEMENT_NODE)
        continue;
      if (is_element (child, MR_EWS_NS_TYPES, "Value"))
        {
          xmlChar *name = xmlGetProp (child, BAD_CAST "Name");
          gboolean wanted = name != NULL && strcmp ((const char *) name, "BackOffMilliseconds") == 0;

          xmlFree (name);
          if (wanted)
            {
              g_autofree char *value = text_of (child);
              gint64 ms = g_ascii_strtoll (value, NULL, 10);
              return MAX (ms, 0);
            }
        }
      else
        {
          gint64 ms = back_off_of (child);
          if (ms > 0)
            return ms;
        }
    }
  return 0;
}

static xmlDoc *
parse_xml (GBytes      *body,
           const char  *what,
           GError     **error)
{
  gsize length = 0;
  const char *data = g_bytes_get_data (body, &length);
  xmlDoc *doc = length > 0 ? xmlReadMemory (data, (int) MIN (length, G_MAXINT), NULL, NULL,
                                            XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOERROR |
                                              XML_PARSE_NOWARNING)
                           : NULL;

  if (doc == NULL || xmlDocGetRootElement (doc) == NULL)
    {
      g_autofree char *start = g_utf8_make_valid (data ? data : "", (gssize) MIN (length, 80));

      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("The server did not answer with %s but with: %s"), what,
                   length == 0 ? _("nothing") : g_strdelimit (start, "\r\n", ' '));
      if (doc != NULL)
        xmlFreeDoc (doc);
      return NULL;
    }
  return doc;
}

MrEwsResponse *
mr_ews_parse_response (GBytes  *body,
                       GError **error)
{
  g_autoptr(xmlDoc) doc = parse_xml (body, _("an Exchange Web Services message"), error);
  g_autoptr(MrEwsResponse) response = NULL;
  xmlNode *root;
  xmlNode *soap_body;
  xmlNode *fault;

  if (doc == NULL)
    return NULL;
  root = xmlDocGetRootElement (doc);
  soap_body = is_element (root, MR_EWS_NS_SOAP, "Envelope") ? find (root, MR_EWS_NS_SOAP, "Body") : NULL;
  if (soap_body == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("The server did not answer with an Exchange Web Services message but with an XML document "
                     "<%s>"), (const char *) root->name);
      return NULL;
    }

  response = g_new0 (MrEwsResponse, 1);
  fault = find (soap_body, MR_EWS_NS_SOAP, "Fault");
  if (fault != NULL)
    {
      /* Exchange puts its own code in the detail (ErrorServerBusy is a fault, for one). */
      xmlNode *code = find (fault, MR_EWS_NS_ERRORS, "ResponseCode");

      response->fault = TRUE;
      response->code = text_of (code ? code : find_unqualified (fault, "faultcode"));
      response->text = text_of (find_unqualified (fault, "faultstring"));
      response->back_off_ms = back_off_of (fault);
      return g_steal_pointer (&response);
    }

  for (xmlNode *node = find (soap_body, MR_EWS_NS_MESSAGES, "ResponseMessages"); node != NULL; node = NULL)
    for (xmlNode *message = node->children; message != NULL; message = message->next)
      {
        xmlChar *class_;

        if (message->type != XML_ELEMENT_NODE)
          continue;
        class_ = xmlGetProp (message, BAD_CAST "ResponseClass");
        response->response_class = g_strdup ((const char *) class_);
        xmlFree (class_);
        response->code = text_of (find (message, MR_EWS_NS_MESSAGES, "ResponseCode"));
        response->text = text_of (find (message, MR_EWS_NS_MESSAGES, "MessageText"));
        response->back_off_ms = back_off_of (find (message, MR_EWS_NS_MESSAGES, "MessageXml"));
        {
          xmlNode *item_id = find (message, MR_EWS_NS_TYPES, "ItemId");
          xmlNode *attachment_id = find (message, MR_EWS_NS_TYPES, "AttachmentId");
          xmlChar *id = NULL, *key = NULL;

          if (item_id != NULL)
            {
              id = xmlGetProp (item_id, BAD_CAST "Id");
              key = xmlGetProp (item_id, BAD_CAST "ChangeKey");
            }
          else if (attachment_id != NULL)
            {
              id = xmlGetProp (attachment_id, BAD_CAST "RootItemId");
              key = xmlGetProp (attachment_id, BAD_CAST "RootItemChangeKey");
            }
          response->item_id = g_strdup ((const char *) id);
          response->change_key = g_strdup ((const char *) key);
          xmlFree (id);
          xmlFree (key);
        }
        return g_steal_pointer (&response);
      }

  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       _("The Exchange server’s answer holds no response message"));
  return NULL;
}

GBytes *
mr_ews_build_autodiscover (const char *address)
{
  g_autoptr(xmlDoc) doc = xmlNewDoc (BAD_CAST "1.0");
  xmlNode *root = xmlNewNode (NULL, BAD_CAST "Autodiscover");
  xmlNs *ns = xmlNewNs (root, BAD_CAST AUTODISCOVER_REQUEST_NS, NULL);
  xmlNode *request;

  xmlSetNs (root, ns);
  xmlDocSetRootElement (doc, root);
  request = xmlNewChild (root, ns, BAD_CAST "Request", NULL);
  xmlNewTextChild (request, ns, BAD_CAST "EMailAddress", BAD_CAST address);
  xmlNewTextChild (request, ns, BAD_CAST "AcceptableResponseSchema", BAD_CAST AUTODISCOVER_RESPONSE_NS);
  return serialize (doc);
}

gboolean
mr_ews_parse_autodiscover (GBytes  *body,
                           char   **ews_url,
                           char   **redirect_address,
                           char   **redirect_url,
                           GError **error)
{
  g_autoptr(xmlDoc) doc = parse_xml (body, _("an autodiscover document"), error);
  xmlNode *account;
  xmlNode *action;
  g_autofree char *action_text = NULL;
  xmlNode *root;

  *ews_url = *redirect_address = *redirect_url = NULL;
  if (doc == NULL)
    return FALSE;
  root = xmlDocGetRootElement (doc);
  account = find (root, AUTODISCOVER_RESPONSE_NS, "Account");
  if (account == NULL)
    {
      /* The error's Message is in the outer response namespace; find() searches the whole tree. */
      g_autofree char *message = text_of (find (root, AUTODISCOVER_RESPONSE_NS, "Message"));

      if (message == NULL)
        message = text_of (find (root, AUTODISCOVER_OUTER_NS, "Message"));
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("The autodiscover answer names no account%s%s"),
                   message ? ": " : "", message ? message : "");
      return FALSE;
    }
  action = find (account, AUTODISCOVER_RESPONSE_NS, "Action");
  action_text = text_of (action);
  if (g_strcmp0 (action_text, "redirectAddr") == 0)
    *redirect_address = text_of (find (account, AUTODISCOVER_RESPONSE_NS, "RedirectAddr"));
  else if (g_strcmp0 (action_text, "redirectUrl") == 0)
    *redirect_url = text_of (find (account, AUTODISCOVER_RESPONSE_NS, "RedirectUrl"));
  else
    {
      /* EXCH (inside the network) first, then EXPR (from outside). */
      static const char *types[] = { "EXCH", "EXPR" };

      for (guint t = 0; t < G_N_ELEMENTS (types) && *ews_url == NULL; t++)
        for (xmlNode *node = account->children; node != NULL && *ews_url == NULL; node = node->next)
          {
            g_autofree char *type = NULL;

            if (!is_element (node, AUTODISCOVER_RESPONSE_NS, "Protocol"))
              continue;
            type = text_of (find (node, AUTODISCOVER_RESPONSE_NS, "Type"));
            if (g_strcmp0 (type, types[t]) == 0)
              *ews_url = text_of (find (node, AUTODISCOVER_RESPONSE_NS, "EwsUrl"));
          }
    }
  if (*ews_url == NULL && *redirect_address == NULL && *redirect_url == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           _("The autodiscover answer names no Exchange Web Services address"));
      return FALSE;
    }
  return TRUE;
}
