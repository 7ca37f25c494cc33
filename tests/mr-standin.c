/* mr-standin.c: the Exchange, Graph and identity-platform stand-in (see mr-standin.h) */

#include <libsoup/soup.h>
#include <libxml/parser.h>
#include <libxml/xmlschemas.h>
#include <nettle/des.h>
#include <nettle/md4.h>
#include <stdio.h>
#include <string.h>

#include "mr-standin.h"
#include "mr-test-utils.h"

#define NTLM_CHALLENGE "\x01\x23\x45\x67\x89\xab\xcd\xef"

struct _MrStandin
{
  GThread      *thread;
  GMainContext *context;
  GMainLoop    *loop;
  SoupServer   *server;
  guint16       port;
  GMutex        lock;
  GCond         ready;

  xmlSchema    *schema;
  guint         invalid;
  GString      *invalid_report;

  GPtrArray    *requests;       /* MrStandinRequest* */
  char        **ews_script;
  guint         ews_step;
  char         *ews_auth;
  char         *ews_user;
  char         *ews_password;
  GHashTable   *autodiscover;   /* host → answer */
  GHashTable   *autoconfig;     /* "HOST PATH" → document, or "redirect:URL" */
  char        **token_script;
  guint         token_step;
  char        **graph_script;
  guint         graph_step;
  GHashTable   *refresh_tokens; /* valid refresh token → "" */
  GHashTable   *access_tokens;  /* valid access token → scope */
  guint         serial;
  char         *last_mime;
  char        **authorize_script;
  guint         authorize_step;
  GHashTable   *codes;          /* authorization code → "challenge redirect_uri" */
  GHashTable   *scope_tokens;   /* scope part → the access token to issue for it */
  GString      *steps;          /* the draft-attach-send path, as it happened */
  GByteArray   *upload;         /* what came through the upload session */
  gsize         upload_size;    /* what the session was opened for */
  guint         change;         /* the draft's ChangeKey serial */
};

static void
request_free (MrStandinRequest *request)
{
  g_free (request->path);
  g_free (request->host);
  g_free (request->authorization);
  g_bytes_unref (request->body);
  g_free (request);
}

/* ---- Scripts ---------------------------------------------------------------------------------- */

static char *
next_step (char **script,
           guint *step)
{
  guint length = script ? g_strv_length (script) : 0;

  guint index = *step;

  if (length == 0)
    return NULL;
  *step = index + 1;
  return g_strdup (script[MIN (index, length - 1)]);
}

static void
set_script (MrStandin   *standin,
            char      ***script,
            guint       *step,
            const char  *text)
{
  g_mutex_lock (&standin->lock);
  g_strfreev (*script);
  *script = g_strsplit (text, ",", -1);
  *step = 0;
  g_mutex_unlock (&standin->lock);
}

void
mr_standin_set_ews_script (MrStandin  *standin,
                           const char *script)
{
  set_script (standin, &standin->ews_script, &standin->ews_step, script);
}

void
mr_standin_set_token_script (MrStandin  *standin,
                             const char *script)
{
  set_script (standin, &standin->token_script, &standin->token_step, script);
}

void
mr_standin_set_graph_script (MrStandin  *standin,
                             const char *script)
{
  set_script (standin, &standin->graph_script, &standin->graph_step, script);
}

void
mr_standin_set_ews_auth (MrStandin  *standin,
                         const char *scheme,
                         const char *user,
                         const char *password)
{
  g_mutex_lock (&standin->lock);
  g_free (standin->ews_auth);
  g_free (standin->ews_user);
  g_free (standin->ews_password);
  standin->ews_auth = g_strdup (scheme);
  standin->ews_user = g_strdup (user);
  standin->ews_password = g_strdup (password);
  g_mutex_unlock (&standin->lock);
}

void
mr_standin_set_autoconfig (MrStandin  *standin,
                           const char *host,
                           const char *path,
                           const char *document)
{
  g_mutex_lock (&standin->lock);
  g_hash_table_insert (standin->autoconfig, g_strdup_printf ("%s %s", host, path), g_strdup (document));
  g_mutex_unlock (&standin->lock);
}

void
mr_standin_set_autodiscover (MrStandin  *standin,
                             const char *host,
                             const char *answer)
{
  g_mutex_lock (&standin->lock);
  g_hash_table_replace (standin->autodiscover, g_strdup (host), g_strdup (answer));
  g_mutex_unlock (&standin->lock);
}

void
mr_standin_set_authorize_script (MrStandin  *standin,
                                  const char *script)
{
  set_script (standin, &standin->authorize_script, &standin->authorize_step, script);
}

void
mr_standin_set_token_for_scope (MrStandin  *standin,
                                const char *scope_part,
                                const char *token)
{
  g_mutex_lock (&standin->lock);
  g_hash_table_replace (standin->scope_tokens, g_strdup (scope_part), g_strdup (token));
  g_mutex_unlock (&standin->lock);
}

void
mr_standin_revoke_tokens (MrStandin *standin)
{
  g_mutex_lock (&standin->lock);
  g_hash_table_remove_all (standin->refresh_tokens);
  g_mutex_unlock (&standin->lock);
}

/* ---- Responses -------------------------------------------------------------------------------- */

static void
respond (SoupServerMessage *message,
         guint              status,
         const char        *type,
         const char        *body)
{
  soup_server_message_set_status (message, status, NULL);
  if (body != NULL)
    soup_server_message_set_response (message, type, SOUP_MEMORY_COPY, body, strlen (body));
}

static void
respond_json (SoupServerMessage *message,
              guint              status,
              JsonBuilder       *builder)
{
  g_autoptr(JsonNode) root = json_builder_get_root (builder);
  g_autofree char *text = json_to_string (root, FALSE);

  respond (message, status, "application/json", text);
}

#define SOAP_HEAD "<?xml version=\"1.0\" encoding=\"utf-8\"?>" \
  "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\">" \
  "<s:Header><h:ServerVersionInfo MajorVersion=\"15\" MinorVersion=\"2\" MajorBuildNumber=\"1544\" " \
  "MinorBuildNumber=\"4\" xmlns:h=\"http://schemas.microsoft.com/exchange/services/2006/types\"/></s:Header>"

static void
respond_ews_message (SoupServerMessage *message,
                     const char        *operation,
                     const char        *response_class,
                     const char        *code,
                     const char        *text,
                     const char        *extra)
{
  /* Exchange answers with its own prefixes (m:, t:) under a default-less envelope. */
  g_autofree char *body = g_strdup_printf (
    SOAP_HEAD "<s:Body><m:%sResponse xmlns:m=\"http://schemas.microsoft.com/exchange/services/2006/messages\" "
    "xmlns:t=\"http://schemas.microsoft.com/exchange/services/2006/types\"><m:ResponseMessages>"
    "<m:%sResponseMessage ResponseClass=\"%s\">%s%s%s<m:ResponseCode>%s</m:ResponseCode>%s"
    "</m:%sResponseMessage></m:ResponseMessages></m:%sResponse></s:Body></s:Envelope>",
    operation, operation, response_class, text ? "<m:MessageText>" : "", text ? text : "", text ? "</m:MessageText>" : "",
    code, extra ? extra : "", operation, operation);

  respond (message, SOUP_STATUS_OK, "text/xml; charset=utf-8", body);
}

static void
respond_soap_fault (SoupServerMessage *message,
                    const char        *code,
                    const char        *text,
                    gint64             back_off_ms)
{
  g_autofree char *back_off = back_off_ms > 0
    ? g_strdup_printf ("<t:MessageXml xmlns:t=\"http://schemas.microsoft.com/exchange/services/2006/types\">"
                       "<t:Value Name=\"BackOffMilliseconds\">%" G_GINT64_FORMAT "</t:Value></t:MessageXml>",
                       back_off_ms)
    : g_strdup ("");
  g_autofree char *body = g_strdup_printf (
    SOAP_HEAD "<s:Body><s:Fault><faultcode xmlns:a=\"http://schemas.microsoft.com/exchange/services/2006/types\">"
    "a:%s</faultcode><faultstring xml:lang=\"en-US\">%s</faultstring><detail>"
    "<e:ResponseCode xmlns:e=\"http://schemas.microsoft.com/exchange/services/2006/errors\">%s</e:ResponseCode>"
    "<e:Message xmlns:e=\"http://schemas.microsoft.com/exchange/services/2006/errors\">%s</e:Message>%s"
    "</detail></s:Fault></s:Body></s:Envelope>",
    code, text, code, text, back_off);

  respond (message, SOUP_STATUS_INTERNAL_SERVER_ERROR, "text/xml; charset=utf-8", body);
}

/* ---- Schema ----------------------------------------------------------------------------------- */

static void
collect_schema_error (void     *data,
                      xmlError *error)
{
  MrStandin *standin = data;

  g_string_append_printf (standin->invalid_report, "line %d: %s", error->line, error->message);
}

static gboolean
validate (MrStandin *standin,
          GBytes    *body)
{
  xmlDoc *doc;
  xmlSchemaValidCtxt *context;
  int result;

  if (standin->schema == NULL)
    return TRUE;
  doc = xmlReadMemory (g_bytes_get_data (body, NULL), (int) g_bytes_get_size (body), NULL, NULL, XML_PARSE_NONET);
  if (doc == NULL)
    {
      g_string_append (standin->invalid_report, "not well-formed XML\n");
      return FALSE;
    }
  context = xmlSchemaNewValidCtxt (standin->schema);
  xmlSchemaSetValidStructuredErrors (context, collect_schema_error, standin);
  result = xmlSchemaValidateDoc (context, doc);
  xmlSchemaFreeValidCtxt (context);
  xmlFreeDoc (doc);
  return result == 0;
}

static xmlSchema *
load_schema (void)
{
  g_autofree char *dir = g_build_filename (g_getenv ("MAILROOM_TOP_SRCDIR") ? g_getenv ("MAILROOM_TOP_SRCDIR") : ".",
                                           "..", "shared", "conformance", "ews", NULL);
  g_autofree char *wrapper = g_build_filename (dir, "envelope-wrapper.xsd", NULL);
  xmlSchemaParserCtxt *parser;
  xmlSchema *schema;

  if (!g_file_test (wrapper, G_FILE_TEST_EXISTS))
    {
      if (g_strcmp0 (g_getenv ("MAILROOM_REQUIRE_CONFORMANCE"), "1") == 0)
        g_error ("MAILROOM_REQUIRE_CONFORMANCE=1, but the EWS schema (%s) is missing", wrapper);
      return NULL;
    }
  parser = xmlSchemaNewParserCtxt (wrapper);
  schema = xmlSchemaParse (parser);
  xmlSchemaFreeParserCtxt (parser);
  g_assert_nonnull (schema);
  return schema;
}

/* ---- NTLM (MS-NLMP), the server's half, checking the NTLMv1 response ------------------------- */

static void
des_key_from_7 (const guint8 *in,
                guint8        out[8])
{
  out[0] = in[0];
  out[1] = (guint8) (in[0] << 7 | in[1] >> 1);
  out[2] = (guint8) (in[1] << 6 | in[2] >> 2);
  out[3] = (guint8) (in[2] << 5 | in[3] >> 3);
  out[4] = (guint8) (in[3] << 4 | in[4] >> 4);
  out[5] = (guint8) (in[4] << 3 | in[5] >> 5);
  out[6] = (guint8) (in[5] << 2 | in[6] >> 6);
  out[7] = (guint8) (in[6] << 1);
  des_fix_parity (8, out, out);
}

static void
ntlm_v1_response (const char *password,
                  guint8      response[24])
{
  g_autoptr(GString) utf16 = g_string_new (NULL);
  guint8 hash[21] = { 0 };
  struct md4_ctx md4;

  for (const char *p = password; *p; p++)
    {
      g_string_append_c (utf16, *p);
      g_string_append_c (utf16, '\0');
    }
  md4_init (&md4);
  md4_update (&md4, utf16->len, (const guint8 *) utf16->str);
  md4_digest (&md4, MD4_DIGEST_SIZE, hash);
  for (guint i = 0; i < 3; i++)
    {
      struct des_ctx des;
      guint8 key[8];

      des_key_from_7 (hash + 7 * i, key);
      des_set_key (&des, key);
      des_encrypt (&des, 8, response + 8 * i, (const guint8 *) NTLM_CHALLENGE);
    }
}

static GBytes *
security_buffer (const guint8 *message,
                 gsize         length,
                 guint         offset)
{
  guint16 size = (guint16) (message[offset] | message[offset + 1] << 8);
  guint32 at = message[offset + 4] | message[offset + 5] << 8 | (guint32) message[offset + 6] << 16 |
               (guint32) message[offset + 7] << 24;

  if (at + size > length)
    return NULL;
  return g_bytes_new (message + at, size);
}

static char *
ntlm_string (GBytes *bytes)
{
  gsize length = 0;
  const char *data = g_bytes_get_data (bytes, &length);

  /* UTF-16LE when the client negotiated Unicode, OEM otherwise. */
  if (length >= 2 && data[1] == '\0')
    return g_utf16_to_utf8 ((const gunichar2 *) data, (glong) length / 2, NULL, NULL, NULL);
  return g_strndup (data, length);
}

/* TRUE when the request carries a good NTLM Type 3; otherwise answers the next step itself. */
static gboolean
ntlm_check (MrStandin         *standin,
            SoupServerMessage *message,
            const char        *authorization)
{
  g_autofree guint8 *decoded = NULL;
  gsize length = 0;

  if (authorization == NULL || !g_str_has_prefix (authorization, "NTLM "))
    {
      soup_message_headers_replace (soup_server_message_get_response_headers (message), "WWW-Authenticate", "NTLM");
      respond (message, SOUP_STATUS_UNAUTHORIZED, "text/plain", "401 - Unauthorized");
      return FALSE;
    }
  decoded = g_base64_decode (authorization + 5, &length);
  if (length >= 12 && memcmp (decoded, "NTLMSSP", 8) == 0 && decoded[8] == 1)
    {
      /* Type 2: NTLM, Unicode and OEM; no target information, so the client answers with NTLMv1. */
      static const guint8 header[] = { 'N', 'T', 'L', 'M', 'S', 'S', 'P', 0, 2, 0, 0, 0,
                                        8, 0, 8, 0, 48, 0, 0, 0,     /* target name: 8 bytes at 48 */
                                        0x03, 0x02, 0, 0 };          /* flags */
      g_autoptr(GByteArray) type2 = g_byte_array_new ();
      g_autofree char *encoded = NULL;
      g_autofree char *challenge = NULL;
      static const guint8 zero[16] = { 0 };

      g_byte_array_append (type2, header, sizeof header);
      g_byte_array_append (type2, (const guint8 *) NTLM_CHALLENGE, 8);
      g_byte_array_append (type2, zero, 16);   /* context, empty target information */
      g_byte_array_append (type2, (const guint8 *) "C\0O\0R\0P\0", 8);
      encoded = g_base64_encode (type2->data, type2->len);
      challenge = g_strdup_printf ("NTLM %s", encoded);
      soup_message_headers_replace (soup_server_message_get_response_headers (message), "WWW-Authenticate", challenge);
      respond (message, SOUP_STATUS_UNAUTHORIZED, "text/plain", "401 - Unauthorized");
      return FALSE;
    }
  if (length >= 52 && memcmp (decoded, "NTLMSSP", 8) == 0 && decoded[8] == 3)
    {
      g_autoptr(GBytes) nt = security_buffer (decoded, length, 20);
      g_autoptr(GBytes) domain = security_buffer (decoded, length, 28);
      g_autoptr(GBytes) user = security_buffer (decoded, length, 36);
      g_autofree char *user_text = user ? ntlm_string (user) : NULL;
      g_autofree char *domain_text = domain ? ntlm_string (domain) : NULL;
      g_autofree char *full_user = g_strdup_printf ("%s\\%s", domain_text ? domain_text : "", user_text ? user_text : "");
      guint8 expected[24];

      ntlm_v1_response (standin->ews_password, expected);
      if (nt != NULL && g_bytes_get_size (nt) == 24 && memcmp (g_bytes_get_data (nt, NULL), expected, 24) == 0 &&
          (g_strcmp0 (full_user, standin->ews_user) == 0 || g_strcmp0 (user_text, standin->ews_user) == 0))
        return TRUE;
    }
  soup_message_headers_replace (soup_server_message_get_response_headers (message), "WWW-Authenticate", "NTLM");
  respond (message, SOUP_STATUS_UNAUTHORIZED, "text/plain", "401 - Unauthorized");
  return FALSE;
}

static gboolean
basic_check (MrStandin         *standin,
             SoupServerMessage *message,
             const char        *authorization)
{
  g_autofree char *expected_plain = g_strdup_printf ("%s:%s", standin->ews_user, standin->ews_password);
  g_autofree char *expected = g_base64_encode ((const guchar *) expected_plain, strlen (expected_plain));

  if (authorization != NULL && g_str_has_prefix (authorization, "Basic ") && g_str_equal (authorization + 6, expected))
    return TRUE;
  soup_message_headers_replace (soup_server_message_get_response_headers (message), "WWW-Authenticate",
                                "Basic realm=\"mail.example.test\"");
  respond (message, SOUP_STATUS_UNAUTHORIZED, "text/plain", "401 - Unauthorized");
  return FALSE;
}

/* ---- Handlers --------------------------------------------------------------------------------- */

static void
remember_mime (MrStandin  *standin,
               const char *base64)
{
  gsize length = 0;
  g_autofree guchar *decoded = g_base64_decode (base64, &length);

  g_free (standin->last_mime);
  standin->last_mime = g_strndup ((const char *) decoded, length);
}

static char *
element_text (const char *text,
              const char *element)
{
  g_autofree char *open = g_strdup_printf ("<%s", element);
  const char *start = strstr (text, open);
  const char *end;

  start = start ? strchr (start, '>') : NULL;
  end = start ? strstr (start, "</") : NULL;
  return start && end ? g_strndup (start + 1, (gsize) (end - start - 1)) : NULL;
}

/* The draft, attach, send path: CreateItem SaveOnly, CreateAttachment, SendItem. Each request must
 * name the draft's current ChangeKey, as Exchange requires. */
static gboolean
handle_ews_steps (MrStandin         *standin,
                  SoupServerMessage *message,
                  GBytes            *body)
{
  g_autofree char *text = g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
  g_autofree char *key = g_strdup_printf ("ChangeKey=\"CQAAAB%u\"", standin->change);
  g_autofree char *next_key = NULL;
  g_autofree char *extra = NULL;

  if (strstr (text, "MessageDisposition=\"SaveOnly\"") != NULL)
    {
      g_autofree char *subject = element_text (text, "t:Subject");

      standin->change = 1;
      g_string_append_printf (standin->steps, "draft:%s;", subject ? subject : "");
      respond_ews_message (message, "CreateItem", "Success", "NoError", NULL,
                           "<m:Items><t:Message><t:ItemId Id=\"AAMkDraft1\" ChangeKey=\"CQAAAB1\"/></t:Message></m:Items>");
      return TRUE;
    }
  if (strstr (text, "CreateAttachment") == NULL && strstr (text, "SendItem") == NULL)
    return FALSE;
  if (strstr (text, "Id=\"AAMkDraft1\"") == NULL || strstr (text, key) == NULL)
    {
      respond_ews_message (message, strstr (text, "SendItem") ? "SendItem" : "CreateAttachment", "Error",
                           "ErrorIrresolvableConflict", "The send or update operation could not be performed because "
                           "the change key passed in the request does not match the current change key for the item.",
                           NULL);
      return TRUE;
    }
  if (strstr (text, "SendItem") != NULL)
    {
      g_string_append (standin->steps, "send");
      respond_ews_message (message, "SendItem", "Success", "NoError", NULL, NULL);
      return TRUE;
    }
  {
    g_autofree char *name = element_text (text, "t:Name");

    g_string_append_printf (standin->steps, "attach:%s;", name ? name : "");
  }
  standin->change++;
  next_key = g_strdup_printf ("CQAAAB%u", standin->change);
  extra = g_strdup_printf ("<m:Attachments><t:FileAttachment><t:AttachmentId Id=\"AAMkAtt%u\" RootItemId=\"AAMkDraft1\" "
                           "RootItemChangeKey=\"%s\"/></t:FileAttachment></m:Attachments>", standin->change, next_key);
  respond_ews_message (message, "CreateAttachment", "Success", "NoError", NULL, extra);
  return TRUE;
}

char *
mr_standin_dup_steps (MrStandin *standin)
{
  char *steps;

  g_mutex_lock (&standin->lock);
  steps = g_strdup (standin->steps->str);
  g_mutex_unlock (&standin->lock);
  return steps;
}

static void
handle_ews (MrStandin         *standin,
            SoupServerMessage *message,
            GBytes            *body,
            const char        *authorization)
{
  g_autofree char *step = NULL;
  gboolean create;

  if (g_strcmp0 (standin->ews_auth, "ntlm") == 0 && !ntlm_check (standin, message, authorization))
    return;
  if (g_strcmp0 (standin->ews_auth, "basic") == 0 && !basic_check (standin, message, authorization))
    return;
  if (g_strcmp0 (standin->ews_auth, "bearer") == 0)
    {
      const char *scope = authorization && g_str_has_prefix (authorization, "Bearer ")
                            ? g_hash_table_lookup (standin->access_tokens, authorization + 7) : NULL;

      if (scope == NULL || strstr (scope, "https://outlook.office365.com/EWS.AccessAsUser.All") == NULL)
        {
          soup_message_headers_replace (soup_server_message_get_response_headers (message), "WWW-Authenticate",
                                        "Bearer client_id=\"00000002-0000-0ff1-ce00-000000000000\"");
          respond (message, SOUP_STATUS_UNAUTHORIZED, "text/plain", "401 - Unauthorized");
          return;
        }
    }
  if (!validate (standin, body))
    {
      standin->invalid++;
      respond_soap_fault (message, "ErrorSchemaValidation", "The request failed schema validation.", 0);
      return;
    }
  create = g_strstr_len (g_bytes_get_data (body, NULL), (gssize) g_bytes_get_size (body), "CreateItem") != NULL;
  if (handle_ews_steps (standin, message, body))
    return;
  step = next_step (standin->ews_script, &standin->ews_step);
  if (step != NULL && g_str_equal (step, "mime-refused"))
    respond_ews_message (message, "CreateItem", "Error", "ErrorMimeContentConversionFailed",
                         "Content conversion failed.", "<m:DescriptiveLinkKey>0</m:DescriptiveLinkKey><m:Items/>");
  else if (step == NULL || g_str_equal (step, "success"))
    {
      if (create)
        {
          /* Keep what would be sent: the MimeContent. */
          g_autofree char *text = g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
          char *start = strstr (text, "MimeContent");
          char *end;

          start = start ? strchr (start, '>') : NULL;
          end = start ? strstr (start, "</") : NULL;
          if (start != NULL && end != NULL)
            {
              *end = '\0';
              remember_mime (standin, start + 1);
            }
          respond_ews_message (message, "CreateItem", "Success", "NoError", NULL, "<m:Items/>");
        }
      else
        respond_ews_message (message, "GetFolder", "Success", "NoError", NULL,
                             "<m:Folders><t:Folder><t:FolderId Id=\"AAMk\" ChangeKey=\"AQAA\"/></t:Folder></m:Folders>");
    }
  else if (g_str_equal (step, "send-as-denied"))
    respond_ews_message (message, "CreateItem", "Error", "ErrorSendAsDenied",
                         "The user account which was used to submit this request does not have the right to send mail "
                         "on behalf of the specified sending account.", "<m:DescriptiveLinkKey>0</m:DescriptiveLinkKey><m:Items/>");
  else if (g_str_has_prefix (step, "busy:"))
    respond_soap_fault (message, "ErrorServerBusy", "The server cannot service this request right now. Try again later.",
                        g_ascii_strtoll (step + 5, NULL, 10));
  else
    respond_soap_fault (message, "ErrorInternalServerError", "An internal server error occurred. The operation failed.", 0);
}

static void
handle_autodiscover (MrStandin         *standin,
                     SoupServerMessage *message,
                     GBytes            *body,
                     const char        *host)
{
  g_autofree char *text = g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
  const char *address_start = strstr (text, "<EMailAddress>");
  const char *address_end = address_start ? strstr (address_start, "</EMailAddress>") : NULL;
  g_autofree char *address = address_end ? g_strndup (address_start + 14, (gsize) (address_end - address_start - 14))
                                         : g_strdup ("");
  g_autofree char *key = g_strdup_printf ("%s|%s", host, address);
  const char *answer = g_hash_table_contains (standin->autodiscover, key) ? g_hash_table_lookup (standin->autodiscover, key)
                                                                         : g_hash_table_lookup (standin->autodiscover, host);
  g_autofree char *account = NULL;
  g_autofree char *document = NULL;

  if (answer == NULL)
    {
      respond (message, SOUP_STATUS_NOT_FOUND, "text/html", "<html><body>404</body></html>");
      return;
    }
  if (g_str_has_prefix (answer, "http-redirect:"))
    {
      soup_message_headers_replace (soup_server_message_get_response_headers (message), "Location",
                                    answer + strlen ("http-redirect:"));
      respond (message, SOUP_STATUS_FOUND, "text/html", "");
      return;
    }
  if (g_str_has_prefix (answer, "ews:"))
    account = g_strdup_printf ("<AccountType>email</AccountType><Action>settings</Action>"
                               "<Protocol><Type>EXCH</Type><Server>mail.example.test</Server>"
                               "<EwsUrl>%s</EwsUrl></Protocol>", answer + 4);
  else if (g_str_has_prefix (answer, "redirect-url:"))
    account = g_strdup_printf ("<AccountType>email</AccountType><Action>redirectUrl</Action>"
                               "<RedirectUrl>%s</RedirectUrl>", answer + strlen ("redirect-url:"));
  else
    account = g_strdup_printf ("<AccountType>email</AccountType><Action>redirectAddr</Action>"
                               "<RedirectAddr>%s</RedirectAddr>", answer + strlen ("redirect-addr:"));
  document = g_strdup_printf ("<?xml version=\"1.0\" encoding=\"utf-8\"?>"
                              "<Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006\">"
                              "<Response xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a\">"
                              "<User><DisplayName>Test</DisplayName></User><Account>%s</Account></Response></Autodiscover>",
                              account);
  respond (message, SOUP_STATUS_OK, "text/xml; charset=utf-8", document);
}

static void
oauth_error (SoupServerMessage *message,
             const char        *code)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "error");
  json_builder_add_string_value (builder, code);
  json_builder_set_member_name (builder, "error_description");
  json_builder_add_string_value (builder, "AADSTS70016: a description in the service's words");
  json_builder_end_object (builder);
  respond_json (message, SOUP_STATUS_BAD_REQUEST, builder);
}

static void
issue_tokens (MrStandin         *standin,
              SoupServerMessage *message,
              const char        *scope)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *access = g_strdup_printf ("at-%u", ++standin->serial);
  g_autofree char *refresh = g_strdup_printf ("rt-%u", standin->serial);
  GHashTableIter iter;
  gpointer part, fixed;

  g_hash_table_iter_init (&iter, standin->scope_tokens);
  while (scope != NULL && g_hash_table_iter_next (&iter, &part, &fixed))
    if (strstr (scope, part) != NULL)
      {
        g_free (access);
        access = g_strdup (fixed);
      }

  g_hash_table_replace (standin->access_tokens, g_strdup (access), g_strdup (scope ? scope : ""));
  g_hash_table_replace (standin->refresh_tokens, g_strdup (refresh), g_strdup (""));
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "token_type");
  json_builder_add_string_value (builder, "Bearer");
  json_builder_set_member_name (builder, "scope");
  json_builder_add_string_value (builder, scope ? scope : "");
  json_builder_set_member_name (builder, "expires_in");
  json_builder_add_int_value (builder, 3599);
  json_builder_set_member_name (builder, "access_token");
  json_builder_add_string_value (builder, access);
  json_builder_set_member_name (builder, "refresh_token");
  json_builder_add_string_value (builder, refresh);
  json_builder_end_object (builder);
  respond_json (message, SOUP_STATUS_OK, builder);
}

static void
handle_oauth (MrStandin         *standin,
              SoupServerMessage *message,
              const char        *path,
              GBytes            *body)
{
  g_autofree char *text = g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
  g_autoptr(GHashTable) form = soup_form_decode (text);
  const char *grant = g_hash_table_lookup (form, "grant_type");

  gboolean google = g_str_has_prefix (path, "/google/");

  if (g_strcmp0 (g_hash_table_lookup (form, "client_id"), google ? "123-test.apps.googleusercontent.com"
                                                                  : "11111111-2222-3333-4444-555555555555") != 0 ||
      (google && g_strcmp0 (g_hash_table_lookup (form, "client_secret"), "GOCSPX-test") != 0))
    {
      oauth_error (message, google ? "invalid_client" : "unauthorized_client");
      return;
    }
  if (g_strcmp0 (grant, "authorization_code") == 0)
    {
      const char *code = g_hash_table_lookup (form, "code");
      const char *expected = code ? g_hash_table_lookup (standin->codes, code) : NULL;
      const char *verifier = g_hash_table_lookup (form, "code_verifier");
      g_autofree char *challenge = NULL;

      if (verifier != NULL)
        {
          guint8 digest[32];
          gsize length = sizeof digest;
          GChecksum *sha256 = g_checksum_new (G_CHECKSUM_SHA256);
          g_autofree char *encoded = NULL;

          g_checksum_update (sha256, (const guchar *) verifier, -1);
          g_checksum_get_digest (sha256, digest, &length);
          g_checksum_free (sha256);
          encoded = g_base64_encode (digest, length);
          g_strdelimit (encoded, "+", '-');
          g_strdelimit (encoded, "/", '_');
          encoded[strcspn (encoded, "=")] = '\0';
          challenge = g_strdup_printf ("%s %s", encoded, (const char *) g_hash_table_lookup (form, "redirect_uri"));
        }
      /* PKCE: the verifier must hash to the challenge, and the redirect be the same; a code works once. */
      if (expected == NULL || challenge == NULL || strncmp (expected, challenge, strlen (challenge)) != 0 ||
          expected[strlen (challenge)] != '\t')
        {
          oauth_error (message, "invalid_grant");
          return;
        }
      {
        g_autofree char *scope = g_strdup (strchr (expected, '\t') + 1);

        g_hash_table_remove (standin->codes, code);
        issue_tokens (standin, message, scope);
      }
      return;
    }
  if (g_str_has_suffix (path, "/devicecode"))
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autofree char *verification = g_strdup_printf ("https://localhost:%u/devicelogin", standin->port);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "device_code");
      json_builder_add_string_value (builder, "DAQABAAEAAAD--device-code");
      json_builder_set_member_name (builder, "user_code");
      json_builder_add_string_value (builder, "FJ7KQ2LXM");
      json_builder_set_member_name (builder, "verification_uri");
      json_builder_add_string_value (builder, verification);
      json_builder_set_member_name (builder, "expires_in");
      json_builder_add_int_value (builder, 900);
      json_builder_set_member_name (builder, "interval");
      json_builder_add_int_value (builder, 1);
      json_builder_set_member_name (builder, "message");
      json_builder_add_string_value (builder, "To sign in, use a web browser to open the page and enter the code.");
      json_builder_end_object (builder);
      respond_json (message, SOUP_STATUS_OK, builder);
      return;
    }
  if (g_strcmp0 (grant, "urn:ietf:params:oauth:grant-type:device_code") == 0)
    {
      g_autofree char *step = next_step (standin->token_script, &standin->token_step);

      if (g_strcmp0 (g_hash_table_lookup (form, "device_code"), "DAQABAAEAAAD--device-code") != 0)
        oauth_error (message, "bad_verification_code");
      else if (step == NULL || g_str_equal (step, "ok"))
        issue_tokens (standin, message, g_hash_table_lookup (form, "scope"));
      else if (g_str_equal (step, "declined"))
        oauth_error (message, "authorization_declined");
      else if (g_str_equal (step, "expired"))
        oauth_error (message, "expired_token");
      else
        oauth_error (message, g_str_equal (step, "slow_down") ? "slow_down" : "authorization_pending");
      return;
    }
  if (g_strcmp0 (grant, "refresh_token") == 0)
    {
      const char *refresh = g_hash_table_lookup (form, "refresh_token");

      /* Rotation: a refresh token works once. */
      if (refresh == NULL || !g_hash_table_remove (standin->refresh_tokens, refresh))
        {
          oauth_error (message, "invalid_grant");
          return;
        }
      issue_tokens (standin, message, g_hash_table_lookup (form, "scope"));
      return;
    }
  oauth_error (message, "unsupported_grant_type");
}

/* The sign-in page: the person signs in (or declines) at once, and the browser is sent back. */
static void
handle_authorize (MrStandin         *standin,
                  SoupServerMessage *message,
                  GHashTable        *query)
{
  const char *redirect_uri = query ? g_hash_table_lookup (query, "redirect_uri") : NULL;
  const char *state = query ? g_hash_table_lookup (query, "state") : NULL;
  const char *challenge = query ? g_hash_table_lookup (query, "code_challenge") : NULL;
  g_autofree char *step = next_step (standin->authorize_script, &standin->authorize_step);
  g_autofree char *location = NULL;
  g_autofree char *code = NULL;

  if (redirect_uri == NULL || !g_str_has_prefix (redirect_uri, "http://127.0.0.1:") || state == NULL ||
      challenge == NULL || g_strcmp0 (g_hash_table_lookup (query, "code_challenge_method"), "S256") != 0 ||
      g_strcmp0 (g_hash_table_lookup (query, "response_type"), "code") != 0)
    {
      respond (message, SOUP_STATUS_BAD_REQUEST, "text/plain", "AADSTS900144: a required parameter is missing");
      return;
    }
  if (g_strcmp0 (step, "declined") == 0)
    location = g_strdup_printf ("%s?error=access_denied&state=%s", redirect_uri, state);
  else
    {
      code = g_strdup_printf ("code-%u", ++standin->serial);
      g_hash_table_replace (standin->codes, g_strdup (code),
                            g_strdup_printf ("%s %s\t%s", challenge, redirect_uri,
                                             (const char *) g_hash_table_lookup (query, "scope")));
      location = g_strdup_printf ("%s?code=%s&state=%s", redirect_uri, code, state);
    }
  soup_message_headers_replace (soup_server_message_get_response_headers (message), "Location", location);
  respond (message, SOUP_STATUS_FOUND, "text/html", "");
}

static JsonObject *
json_object_of (GBytes *body)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonNode *root;

  if (!json_parser_load_from_data (parser, g_bytes_get_data (body, NULL), (gssize) g_bytes_get_size (body), NULL) ||
      (root = json_parser_get_root (parser)) == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;
  return json_object_ref (json_node_get_object (root));
}

/* A message over 4 MB: the draft, its attachments (big ones by upload session), then send. */
static gboolean
handle_graph_steps (MrStandin         *standin,
                    SoupServerMessage *message,
                    const char        *path,
                    GBytes            *body)
{
  g_autoptr(JsonObject) object = NULL;

  if (g_str_has_suffix (path, "/me/messages"))
    {
      object = json_object_of (body);
      if (object == NULL || !json_object_has_member (object, "subject") || !json_object_has_member (object, "body") ||
          !json_object_has_member (object, "toRecipients"))
        {
          respond (message, SOUP_STATUS_BAD_REQUEST, "application/json",
                   "{\"error\":{\"code\":\"ErrorInvalidRequest\",\"message\":\"Cannot read the message.\"}}");
          return TRUE;
        }
      g_string_append_printf (standin->steps, "graph-draft:%s;", json_object_get_string_member (object, "subject"));
      respond (message, SOUP_STATUS_CREATED, "application/json", "{\"id\":\"AAMkDraftG1\",\"isDraft\":true}");
      return TRUE;
    }
  if (g_str_has_suffix (path, "/me/messages/AAMkDraftG1/attachments"))
    {
      object = json_object_of (body);
      g_string_append_printf (standin->steps, "attach:%s;",
                              object ? json_object_get_string_member_with_default (object, "name", "") : "");
      respond (message, SOUP_STATUS_CREATED, "application/json", "{\"id\":\"AAMkAtt1\"}");
      return TRUE;
    }
  if (g_str_has_suffix (path, "/me/messages/AAMkDraftG1/attachments/createUploadSession"))
    {
      JsonObject *item;
      g_autofree char *answer = NULL;

      object = json_object_of (body);
      item = object && json_object_has_member (object, "AttachmentItem")
               ? json_object_get_object_member (object, "AttachmentItem") : NULL;
      if (item == NULL)
        {
          respond (message, SOUP_STATUS_BAD_REQUEST, "application/json",
                   "{\"error\":{\"code\":\"ErrorInvalidRequest\",\"message\":\"No AttachmentItem.\"}}");
          return TRUE;
        }
      standin->upload_size = (gsize) json_object_get_int_member_with_default (item, "size", 0);
      g_byte_array_set_size (standin->upload, 0);
      g_string_append_printf (standin->steps, "upload:%s:%" G_GSIZE_FORMAT ";",
                              json_object_get_string_member_with_default (item, "name", ""), standin->upload_size);
      answer = g_strdup_printf ("{\"uploadUrl\":\"https://localhost:%u/upload/AAMkAtt2?sig=abc\","
                                "\"nextExpectedRanges\":[\"0-\"]}", standin->port);
      respond (message, SOUP_STATUS_CREATED, "application/json", answer);
      return TRUE;
    }
  if (g_str_has_suffix (path, "/me/messages/AAMkDraftG1/send"))
    {
      g_string_append (standin->steps, "send");
      soup_server_message_set_status (message, SOUP_STATUS_ACCEPTED, NULL);
      return TRUE;
    }
  return FALSE;
}

/* The upload session's URL: pieces in order, with Content-Range, and no token. */
static void
handle_upload (MrStandin         *standin,
               SoupServerMessage *message,
               GBytes            *body,
               const char        *authorization)
{
  const char *range = soup_message_headers_get_one (soup_server_message_get_request_headers (message), "Content-Range");
  guint64 first = 0, last = 0, total = 0;
  g_autofree char *answer = NULL;

  if (authorization != NULL || range == NULL ||
      sscanf (range, "bytes %" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT, &first, &last, &total) != 3 ||
      first != standin->upload->len || last - first + 1 != g_bytes_get_size (body) || total != standin->upload_size ||
      (g_bytes_get_size (body) % (320 * 1024) != 0 && last + 1 != total))
    {
      respond (message, SOUP_STATUS_BAD_REQUEST, "application/json",
               "{\"error\":{\"code\":\"InvalidRequest\",\"message\":\"The Content-Range is not the next piece.\"}}");
      return;
    }
  g_byte_array_append (standin->upload, g_bytes_get_data (body, NULL), (guint) g_bytes_get_size (body));
  g_string_append (standin->steps, "piece;");
  if (standin->upload->len == standin->upload_size)
    {
      respond (message, SOUP_STATUS_CREATED, "application/json", "{}");
      return;
    }
  answer = g_strdup_printf ("{\"nextExpectedRanges\":[\"%u-\"]}", standin->upload->len);
  respond (message, SOUP_STATUS_OK, "application/json", answer);
}

GBytes *
mr_standin_dup_upload (MrStandin *standin)
{
  GBytes *bytes;

  g_mutex_lock (&standin->lock);
  bytes = g_bytes_new (standin->upload->data, standin->upload->len);
  g_mutex_unlock (&standin->lock);
  return bytes;
}

static void
handle_graph (MrStandin         *standin,
              SoupServerMessage *message,
              const char        *path,
              const char        *authorization,
              GBytes            *body)
{
  const char *scope = authorization && g_str_has_prefix (authorization, "Bearer ")
                        ? g_hash_table_lookup (standin->access_tokens, authorization + 7) : NULL;
  g_autofree char *step = NULL;

  if (scope == NULL || strstr (scope, "https://graph.microsoft.com/Mail.Send") == NULL)
    {
      soup_message_headers_replace (soup_server_message_get_response_headers (message), "WWW-Authenticate",
                                    "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\"");
      respond (message, SOUP_STATUS_UNAUTHORIZED, "application/json",
               "{\"error\":{\"code\":\"InvalidAuthenticationToken\",\"message\":\"Access token is empty.\"}}");
      return;
    }
  if (handle_graph_steps (standin, message, path, body))
    return;
  if (!g_str_has_suffix (path, "/sendMail"))
    {
      respond (message, SOUP_STATUS_OK, "application/json", "{\"id\":\"AAMkAGI2\",\"displayName\":\"Sent Items\"}");
      return;
    }
  step = next_step (standin->graph_script, &standin->graph_step);
  if (g_bytes_get_size (body) > 4 * 1024 * 1024 || g_strcmp0 (step, "too-large") == 0)
    {
      respond (message, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "application/json",
               "{\"error\":{\"code\":\"RequestEntityTooLarge\",\"message\":\"The request is too large.\"}}");
      return;
    }
  if (step != NULL && g_str_has_prefix (step, "throttle:"))
    {
      soup_message_headers_replace (soup_server_message_get_response_headers (message), "Retry-After", step + 9);
      respond (message, 429, "application/json",
               "{\"error\":{\"code\":\"ApplicationThrottled\",\"message\":\"Application is over its MailboxConcurrency limit.\"}}");
      return;
    }
  if (step != NULL && g_str_has_prefix (step, "error:"))
    {
      g_auto(GStrv) parts = g_strsplit (step, ":", 3);
      g_autofree char *json = g_strdup_printf ("{\"error\":{\"code\":\"%s\",\"message\":\"Words that may change.\"}}",
                                               parts[2]);
      respond (message, (guint) g_ascii_strtoull (parts[1], NULL, 10), "application/json", json);
      return;
    }
  {
    g_autofree char *text = g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
    remember_mime (standin, text);
  }
  soup_server_message_set_status (message, SOUP_STATUS_ACCEPTED, NULL);
}

/* Thunderbird's autoconfig document, as a domain serves it; nothing without one. */
static void
handle_autoconfig (MrStandin         *standin,
                   SoupServerMessage *message,
                   const char        *host,
                   const char        *path)
{
  g_autofree char *key = g_strdup_printf ("%s %s", host, path);
  const char *document = g_hash_table_lookup (standin->autoconfig, key);

  if (document == NULL)
    respond (message, SOUP_STATUS_NOT_FOUND, "text/plain", "no autoconfig here");
  else if (g_str_has_prefix (document, "redirect:"))
    {
      soup_message_headers_replace (soup_server_message_get_response_headers (message), "Location",
                                    document + strlen ("redirect:"));
      respond (message, SOUP_STATUS_FOUND, "text/html", "");
    }
  else
    respond (message, SOUP_STATUS_OK, "text/xml", document);
}

static void
handle (SoupServer        *server,
        SoupServerMessage *message,
        const char        *path,
        GHashTable        *query,
        gpointer           user_data)
{
  MrStandin *standin = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (message);
  const char *authorization = soup_message_headers_get_one (headers, "Authorization");
  g_autoptr(GBytes) body = soup_message_body_flatten (soup_server_message_get_request_body (message));
  GUri *uri = soup_server_message_get_uri (message);
  MrStandinRequest *request = g_new0 (MrStandinRequest, 1);

  request->path = g_strdup (path);
  request->host = g_strdup (g_uri_get_host (uri));
  request->authorization = authorization ? g_strndup (authorization, strcspn (authorization, " ")) : NULL;
  request->body = g_bytes_ref (body);
  request->time = g_get_monotonic_time ();

  g_mutex_lock (&standin->lock);
  g_ptr_array_add (standin->requests, request);
  if (g_str_equal (path, "/EWS/Exchange.asmx"))
    handle_ews (standin, message, body, authorization);
  else if (g_str_equal (path, "/autodiscover/autodiscover.xml"))
    handle_autodiscover (standin, message, body, request->host);
  else if (g_str_equal (path, "/mail/config-v1.1.xml") || g_str_equal (path, "/.well-known/autoconfig/mail/config-v1.1.xml"))
    handle_autoconfig (standin, message, request->host, path);
  else if (g_str_has_suffix (path, "/authorize") || g_str_has_suffix (path, "/auth"))
    handle_authorize (standin, message, query);
  else if (strstr (path, "/oauth2/v2.0/") != NULL || g_str_has_prefix (path, "/google/"))
    handle_oauth (standin, message, path, body);
  else if (g_str_has_prefix (path, "/v1.0/"))
    handle_graph (standin, message, path, authorization, body);
  else if (g_str_has_prefix (path, "/upload/"))
    handle_upload (standin, message, body, authorization);
  else
    respond (message, SOUP_STATUS_NOT_FOUND, "text/plain", "not here");
  g_mutex_unlock (&standin->lock);
}

/* ---- A resolver for made-up domains ------------------------------------------------------------ */

/* Names under example.test and example.net are this machine; _autodiscover._tcp.example.test points
 * at the stand-in's port. Everything else goes to the real resolver. */
typedef struct {
  GResolver  parent_instance;
  GResolver *real;
  guint16    srv_port;
  GPtrArray *records;   /* FakeRecord */
} TestResolver;

typedef struct {
  char    *type;        /* "MX", "SRV", "TXT", "A", "AAAA", "PTR" (name: the address) or "FAIL" */
  char    *name;        /* the domain, or _service._tcp.domain */
  char    *target;
  guint16  number;      /* MX preference, SRV port */
} FakeRecord;

typedef struct {
  GResolverClass parent_class;
} TestResolverClass;

static GType test_resolver_get_type (void);
G_DEFINE_TYPE (TestResolver, test_resolver, G_TYPE_RESOLVER)

static gboolean
is_fake (const char *name)
{
  return g_str_has_suffix (name, "example.test") || g_str_has_suffix (name, "example.net");
}

/* Names under .example (RFC 2606) have only the records a test gave them: nothing goes to the
 * real resolver for them. */
static gboolean strict_dns;   /* every name has only the records given */

static gboolean
is_made_up (const char *name)
{
  return strict_dns || g_str_has_suffix (name, ".example") || g_str_has_suffix (name, ".example.") ||
         mr_test_dns_closed (name);
}

/* A "FAIL" record: every lookup of that name times out, as an unreachable server's do. */
static gboolean
fails (TestResolver *self,
       const char   *name,
       GError      **error)
{
  for (guint i = 0; self->records != NULL && i < self->records->len; i++)
    {
      FakeRecord *record = g_ptr_array_index (self->records, i);

      if (g_str_equal (record->type, "FAIL") && g_ascii_strcasecmp (record->name, name) == 0)
        {
          g_set_error (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_TEMPORARY_FAILURE, "Timed out asking about %s", name);
          return TRUE;
        }
    }
  return FALSE;
}

static GList *
made_up_addresses (TestResolver              *self,
                   const char                *name,
                   GResolverNameLookupFlags   flags,
                   GError                   **error)
{
  GList *found = NULL;

  if (fails (self, name, error))
    return NULL;
  for (guint i = 0; self->records != NULL && i < self->records->len; i++)
    {
      FakeRecord *record = g_ptr_array_index (self->records, i);
      gboolean four = g_str_equal (record->type, "A"), six = g_str_equal (record->type, "AAAA");

      if ((!four && !six) || g_ascii_strcasecmp (record->name, name) != 0 ||
          (four && (flags & G_RESOLVER_NAME_LOOKUP_FLAGS_IPV6_ONLY)) || (six && (flags & G_RESOLVER_NAME_LOOKUP_FLAGS_IPV4_ONLY)))
        continue;
      found = g_list_append (found, g_inet_address_new_from_string (record->target));
    }
  if (found == NULL)
    g_set_error (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND, "No address for %s", name);
  return found;
}

static GList *
fake_addresses (void)
{
  return g_list_append (NULL, g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4));
}

static GList *
test_resolver_lookup_by_name (GResolver     *resolver,
                              const char    *name,
                              GCancellable  *cancellable,
                              GError       **error)
{
  TestResolver *self = (TestResolver *) resolver;

  if (is_made_up (name))
    return made_up_addresses (self, name, G_RESOLVER_NAME_LOOKUP_FLAGS_DEFAULT, error);
  if (is_fake (name))
    return fake_addresses ();
  return g_resolver_lookup_by_name (self->real, name, cancellable, error);
}

static void
test_resolver_lookup_by_name_async (GResolver           *resolver,
                                    const char          *name,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (resolver, cancellable, callback, user_data);
  GError *error = NULL;
  GList *addresses = test_resolver_lookup_by_name (resolver, name, cancellable, &error);

  if (addresses != NULL)
    g_task_return_pointer (task, addresses, (GDestroyNotify) g_resolver_free_addresses);
  else
    g_task_return_error (task, error);
}

static GList *
test_resolver_lookup_by_name_finish (GResolver     *resolver,
                                     GAsyncResult  *result,
                                     GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static GList *
test_resolver_lookup_by_name_with_flags (GResolver                 *resolver,
                                         const char                *name,
                                         GResolverNameLookupFlags   flags,
                                         GCancellable              *cancellable,
                                         GError                   **error)
{
  if (is_made_up (name))
    return made_up_addresses ((TestResolver *) resolver, name, flags, error);
  return test_resolver_lookup_by_name (resolver, name, cancellable, error);
}

static void
test_resolver_lookup_by_name_with_flags_async (GResolver                 *resolver,
                                               const char                *name,
                                               GResolverNameLookupFlags   flags,
                                               GCancellable              *cancellable,
                                               GAsyncReadyCallback        callback,
                                               gpointer                   user_data)
{
  test_resolver_lookup_by_name_async (resolver, name, cancellable, callback, user_data);
}

/* Records added by mr_standin_add_dns_record(); nothing else has any (NOT_FOUND, as for a domain
 * without them). */
static GList *
fake_records (TestResolver *self,
              const char   *type,
              const char   *name)
{
  GList *found = NULL;

  for (guint i = 0; self->records != NULL && i < self->records->len; i++)
    {
      FakeRecord *record = g_ptr_array_index (self->records, i);

      if (!g_str_equal (record->type, type) || g_ascii_strcasecmp (record->name, name) != 0)
        continue;
      if (g_str_equal (type, "MX"))
        found = g_list_append (found, g_variant_ref_sink (g_variant_new ("(qs)", record->number, record->target)));
      else if (g_str_equal (type, "TXT"))
        {
          /* Longer than 255 bytes: several strings, as DNS holds them. */
          g_autoptr(GPtrArray) strings = g_ptr_array_new_with_free_func (g_free);

          for (gsize at = 0; at < strlen (record->target) || at == 0; at += 255)
            g_ptr_array_add (strings, g_strndup (record->target + at, 255));
          g_ptr_array_add (strings, NULL);
          found = g_list_append (found, g_variant_ref_sink (g_variant_new ("(^as)", (char **) strings->pdata)));
        }
      else
        found = g_list_append (found, g_srv_target_new (record->target, record->number, 0, 0));
    }
  return found;
}

static GList *
test_resolver_lookup_records (GResolver            *resolver,
                              const char           *rrname,
                              GResolverRecordType   record_type,
                              GCancellable         *cancellable,
                              GError              **error)
{
  TestResolver *self = (TestResolver *) resolver;
  GList *found;

  if (fails (self, rrname, error))
    return NULL;
  found = record_type == G_RESOLVER_RECORD_MX ? fake_records (self, "MX", rrname)
          : record_type == G_RESOLVER_RECORD_TXT ? fake_records (self, "TXT", rrname) : NULL;

  if (found == NULL)
    g_set_error (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND, "No DNS record of the requested type for %s", rrname);
  return found;
}

static GList *
test_resolver_lookup_service (GResolver     *resolver,
                              const char    *rrname,
                              GCancellable  *cancellable,
                              GError       **error)
{
  TestResolver *self = (TestResolver *) resolver;
  GList *found = fake_records (self, "SRV", rrname);

  if (found != NULL)
    return found;
  if (g_str_equal (rrname, "_autodiscover._tcp.example.test") && self->srv_port != 0)
    return g_list_append (NULL, g_srv_target_new ("mail.example.test", self->srv_port, 0, 0));
  g_set_error (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND, "No SRV record for %s", rrname);
  return NULL;
}

static char *
test_resolver_lookup_by_address (GResolver     *resolver,
                                 GInetAddress  *address,
                                 GCancellable  *cancellable,
                                 GError       **error)
{
  TestResolver *self = (TestResolver *) resolver;
  g_autofree char *text = g_inet_address_to_string (address);

  for (guint i = 0; self->records != NULL && i < self->records->len; i++)
    {
      FakeRecord *record = g_ptr_array_index (self->records, i);

      if (g_str_equal (record->type, "PTR") && g_str_equal (record->name, text))
        return g_strdup (record->target);
    }
  g_set_error (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND, "No name for %s", text);
  return NULL;
}

static void
test_resolver_init (TestResolver *self)
{
}

static void
test_resolver_class_init (TestResolverClass *klass)
{
  GResolverClass *resolver_class = G_RESOLVER_CLASS (klass);

  resolver_class->lookup_by_name = test_resolver_lookup_by_name;
  resolver_class->lookup_by_name_async = test_resolver_lookup_by_name_async;
  resolver_class->lookup_by_name_finish = test_resolver_lookup_by_name_finish;
  resolver_class->lookup_by_name_with_flags = test_resolver_lookup_by_name_with_flags;
  resolver_class->lookup_by_name_with_flags_async = test_resolver_lookup_by_name_with_flags_async;
  resolver_class->lookup_by_name_with_flags_finish = test_resolver_lookup_by_name_finish;
  resolver_class->lookup_service = test_resolver_lookup_service;
  resolver_class->lookup_records = test_resolver_lookup_records;
  resolver_class->lookup_by_address = test_resolver_lookup_by_address;
}

static TestResolver *test_resolver;
static GPtrArray *closed_domains;   /* answered only from the records given */
static void install_test_resolver (void);

gboolean
mr_test_dns_closed (const char *name)
{
  for (guint i = 0; closed_domains != NULL && i < closed_domains->len; i++)
    {
      const char *domain = g_ptr_array_index (closed_domains, i);
      g_autofree char *suffix = g_strconcat (".", domain, NULL);

      if (g_ascii_strcasecmp (name, domain) == 0 || g_str_has_suffix (name, suffix))
        return TRUE;
    }
  return FALSE;
}

guint
mr_test_dns_strict (void)
{
  install_test_resolver ();
  strict_dns = TRUE;
  return test_resolver->records ? test_resolver->records->len : 0;
}

void
mr_test_dns_forget (guint mark)
{
  strict_dns = FALSE;
  while (test_resolver != NULL && test_resolver->records != NULL && test_resolver->records->len > mark)
    {
      FakeRecord *record = g_ptr_array_steal_index (test_resolver->records, test_resolver->records->len - 1);

      g_free (record->type);
      g_free (record->name);
      g_free (record->target);
      g_free (record);
    }
}

void
mr_test_dns_close (const char *domain)
{
  install_test_resolver ();
  if (closed_domains == NULL)
    closed_domains = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (closed_domains, g_strdup (domain));
}

static void
install_test_resolver (void)
{
  if (test_resolver == NULL)
    {
      test_resolver = g_object_new (test_resolver_get_type (), NULL);
      test_resolver->real = g_resolver_get_default ();
      g_resolver_set_default (G_RESOLVER (test_resolver));
    }
}

void
mr_standin_use_fake_dns (MrStandin *standin)
{
  install_test_resolver ();
  test_resolver->srv_port = standin->port;
}

void
mr_test_dns_add (const char *type,
                 const char *name,
                 const char *value)
{
  FakeRecord *record = g_new0 (FakeRecord, 1);

  install_test_resolver ();
  if (test_resolver->records == NULL)
    test_resolver->records = g_ptr_array_new ();
  record->type = g_strdup (type);
  record->name = g_strdup (name);
  record->target = g_strdup (value ? value : "");
  if (g_str_equal (type, "MX"))
    {
      /* "10 mx.example": preference, then host. */
      record->number = (guint16) g_ascii_strtoull (value, NULL, 10);
      g_free (record->target);
      record->target = g_strdup (strchr (value, ' ') + 1);
    }
  g_ptr_array_add (test_resolver->records, record);
}

void
mr_standin_add_dns_record (MrStandin  *standin,
                           const char *type,
                           const char *name,
                           const char *target,
                           guint16     number)
{
  FakeRecord *record = g_new0 (FakeRecord, 1);

  mr_standin_use_fake_dns (standin);
  if (test_resolver->records == NULL)
    test_resolver->records = g_ptr_array_new ();
  record->type = g_strdup (type);
  record->name = g_strdup (name);
  record->target = g_strdup (target);
  record->number = number;
  g_ptr_array_add (test_resolver->records, record);
}

/* ---- The thread ------------------------------------------------------------------------------- */

static gpointer
run (gpointer data)
{
  MrStandin *standin = data;
  g_autoptr(GError) error = NULL;
  g_autofree char *pem = mr_test_cert_path ("exchange.pem");
  g_autofree char *key = mr_test_cert_path ("exchange.key");
  g_autoptr(GTlsCertificate) certificate = g_tls_certificate_new_from_files (pem, key, &error);
  GSList *uris;

  g_assert_no_error (error);
  g_main_context_push_thread_default (standin->context);
  standin->server = soup_server_new ("tls-certificate", certificate, NULL);
  soup_server_add_handler (standin->server, NULL, handle, standin, NULL);
  soup_server_listen_local (standin->server, 0, SOUP_SERVER_LISTEN_HTTPS | SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);
  uris = soup_server_get_uris (standin->server);
  g_mutex_lock (&standin->lock);
  standin->port = (guint16) g_uri_get_port (uris->data);
  g_cond_signal (&standin->ready);
  g_mutex_unlock (&standin->lock);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  g_main_loop_run (standin->loop);
  soup_server_disconnect (standin->server);
  g_clear_object (&standin->server);
  g_main_context_pop_thread_default (standin->context);
  return NULL;
}

MrStandin *
mr_standin_start (void)
{
  MrStandin *standin = g_new0 (MrStandin, 1);

  mr_test_certs_dir ();   /* made here, not in the server's thread */
  g_mutex_init (&standin->lock);
  g_cond_init (&standin->ready);
  standin->context = g_main_context_new ();
  standin->loop = g_main_loop_new (standin->context, FALSE);
  standin->requests = g_ptr_array_new_with_free_func ((GDestroyNotify) request_free);
  standin->autodiscover = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  standin->autoconfig = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  standin->refresh_tokens = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  standin->access_tokens = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  standin->codes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  standin->scope_tokens = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  standin->invalid_report = g_string_new (NULL);
  standin->steps = g_string_new (NULL);
  standin->upload = g_byte_array_new ();
  standin->schema = load_schema ();

  g_mutex_lock (&standin->lock);
  standin->thread = g_thread_new ("exchange-standin", run, standin);
  while (standin->port == 0)
    g_cond_wait (&standin->ready, &standin->lock);
  g_mutex_unlock (&standin->lock);
  return standin;
}

static gboolean
quit_loop (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

void
mr_standin_stop (MrStandin *standin)
{
  if (standin == NULL)
    return;
  g_main_context_invoke (standin->context, quit_loop, standin->loop);
  g_thread_join (standin->thread);
  g_main_loop_unref (standin->loop);
  g_main_context_unref (standin->context);
  g_ptr_array_unref (standin->requests);
  g_hash_table_unref (standin->autodiscover);
  g_hash_table_unref (standin->autoconfig);
  g_hash_table_unref (standin->refresh_tokens);
  g_hash_table_unref (standin->access_tokens);
  g_hash_table_unref (standin->codes);
  g_hash_table_unref (standin->scope_tokens);
  g_strfreev (standin->authorize_script);
  g_string_free (standin->invalid_report, TRUE);
  g_string_free (standin->steps, TRUE);
  g_byte_array_unref (standin->upload);
  if (standin->schema != NULL)
    xmlSchemaFree (standin->schema);
  g_strfreev (standin->ews_script);
  g_strfreev (standin->token_script);
  g_strfreev (standin->graph_script);
  g_free (standin->ews_auth);
  g_free (standin->ews_user);
  g_free (standin->ews_password);
  g_free (standin->last_mime);
  g_mutex_clear (&standin->lock);
  g_cond_clear (&standin->ready);
  g_free (standin);
}

guint16
mr_standin_get_port (MrStandin *standin)
{
  return standin->port;
}

char *
mr_standin_url (MrStandin  *standin,
                const char *path)
{
  return g_strdup_printf ("https://localhost:%u%s", standin->port, path);
}

gboolean
mr_standin_validates (MrStandin *standin)
{
  return standin->schema != NULL;
}

guint
mr_standin_count_invalid (MrStandin *standin)
{
  guint count;

  g_mutex_lock (&standin->lock);
  count = standin->invalid;
  g_mutex_unlock (&standin->lock);
  return count;
}

char *
mr_standin_dup_invalid_report (MrStandin *standin)
{
  char *report;

  g_mutex_lock (&standin->lock);
  report = g_strdup (standin->invalid_report->str);
  g_mutex_unlock (&standin->lock);
  return report;
}

GPtrArray *
mr_standin_get_requests (MrStandin  *standin,
                         const char *path)
{
  GPtrArray *found = g_ptr_array_new ();

  g_mutex_lock (&standin->lock);
  for (guint i = 0; i < standin->requests->len; i++)
    {
      MrStandinRequest *request = g_ptr_array_index (standin->requests, i);

      if (path == NULL || g_str_equal (request->path, path))
        g_ptr_array_add (found, request);
    }
  g_mutex_unlock (&standin->lock);
  return found;
}

char *
mr_standin_dup_last_mime (MrStandin *standin)
{
  char *mime;

  g_mutex_lock (&standin->lock);
  mime = g_strdup (standin->last_mime);
  g_mutex_unlock (&standin->lock);
  return mime;
}
