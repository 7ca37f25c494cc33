/* mr-ews.c: EWS and POX autodiscover documents, built and read with libxml2 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <string.h>

#include "mr-ews.h"

#define AUTODISCOVER_REQUEST_NS  "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"
#define AUTODISCOVER_RESPONSE_NS "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"

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
      g_autofree char *message = text_of (find (root, AUTODISCOVER_RESPONSE_NS, "Message"));

      if (message == NULL)
        {
          /* The error element lives in the outer response namespace. */
          for (xmlNode *node = root->children; node != NULL && message == NULL; node = node->next)
            {
              xmlNode *error_node = node->type == XML_ELEMENT_NODE ? find (node, "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006", "Message") : NULL;
              message = text_of (error_node);
            }
        }
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
