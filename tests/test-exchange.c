/* test-exchange.c: EWS, autodiscover, the device-code sign-in and Microsoft Graph, against the stand-in */

#include "config.h"

#include <string.h>
#include <sys/wait.h>

#include "mr-smtp-transport.h"
#include "mr-error.h"
#include "mr-ews.h"
#include "mr-exchange.h"
#include "mr-message.h"
#include "mr-oauth.h"
#include "mr-standin.h"
#include "mr-test-utils.h"
#include "mr-transport.h"

#define CLIENT_ID "11111111-2222-3333-4444-555555555555"

/* ---- Fixture ---------------------------------------------------------------------------------- */

typedef struct {
  MrTestDirs  dirs;
  MrStandin  *standin;
  MrSettings *settings;
} Fixture;


static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  g_autofree char *url = NULL;
  g_autofree char *ca = mr_test_cert_path ("ca.pem");
  g_autofree char *authority = NULL;

  mr_test_dirs_setup (&fixture->dirs, data);
  fixture->standin = mr_standin_start ();
  mr_standin_use_fake_dns (fixture->standin);
  url = mr_standin_url (fixture->standin, "/EWS/Exchange.asmx");
  authority = mr_standin_url (fixture->standin, "");
  fixture->settings = mr_settings_new (NULL, NULL);
  g_assert_true (mr_settings_load (fixture->settings, NULL));
  mr_test_set_ok (fixture->settings, MR_SCOPE_COMPANY, "sender.from_address", "office@example.test");
  mr_test_set_ok (fixture->settings, MR_SCOPE_COMPANY, "exchange.ews_url", url);
  mr_test_set_ok (fixture->settings, MR_SCOPE_COMPANY, "exchange.trust_file", ca);
  mr_test_set_ok (fixture->settings, MR_SCOPE_COMPANY, "exchange.timeout_ms", "5000");
  mr_test_set_ok (fixture->settings, MR_SCOPE_COMPANY, "exchange.client_id", CLIENT_ID);
  mr_test_set_ok (fixture->settings, MR_SCOPE_COMPANY, "exchange.tenant", "contoso.example");
  mr_test_set_ok (fixture->settings, MR_SCOPE_COMPANY, "exchange.authority", authority);
  mr_test_set_ok (fixture->settings, MR_SCOPE_COMPANY, "exchange.graph_endpoint", authority);
  mr_test_set_ok (fixture->settings, MR_SCOPE_USER, "user.email", "alice@example.test");
  mr_test_set_ok (fixture->settings, MR_SCOPE_USER, "exchange.username", "CORP\\alice");
  mr_standin_set_ews_auth (fixture->standin, "ntlm", "CORP\\alice", "Secret-4-EWS");
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  if (mr_standin_validates (fixture->standin))
    {
      g_autofree char *report = mr_standin_dup_invalid_report (fixture->standin);

      if (mr_standin_count_invalid (fixture->standin) != 0)
        g_error ("%u request(s) failed the EWS schema:\n%s", mr_standin_count_invalid (fixture->standin), report);
    }
  mr_standin_stop (fixture->standin);
  g_object_unref (fixture->settings);
  mr_test_dirs_teardown (&fixture->dirs, data);
}

static GBytes *
build_message (const char *attachment_path,
               char      **message_id)
{
  g_autoptr(MrOutgoing) outgoing = mr_outgoing_new ();
  g_autoptr(GError) error = NULL;
  GBytes *message;

  outgoing->from_address = g_strdup ("alice@example.test");
  g_ptr_array_add (outgoing->to, g_strdup ("bob@example.org"));
  g_ptr_array_add (outgoing->cc, g_strdup ("carol@example.org"));
  g_ptr_array_add (outgoing->bcc, g_strdup ("dave@example.org"));
  outgoing->subject = g_strdup ("Invoice 7 – März");
  outgoing->html_body = g_strdup ("<p>Please find <b>invoice 7</b> attached.</p>");
  if (attachment_path != NULL)
    mr_outgoing_add_attachment (outgoing, attachment_path, NULL, NULL);
  message = mr_outgoing_build (outgoing, message_id, &error);
  g_assert_no_error (error);
  return message;
}

static MrSmtpEnvelope *
envelope_for_message (void)
{
  MrSmtpEnvelope *envelope = mr_smtp_envelope_new ("alice@example.test");

  mr_smtp_envelope_add_recipient (envelope, "bob@example.org");
  mr_smtp_envelope_add_recipient (envelope, "carol@example.org");
  mr_smtp_envelope_add_recipient (envelope, "dave@example.org");
  return envelope;
}

static MrExchange *
new_exchange (Fixture    *fixture,
              const char *password)
{
  g_autoptr(GError) error = NULL;
  MrExchange *exchange = mr_exchange_new (fixture->settings, NULL, &error);

  g_assert_no_error (error);
  if (password != NULL)
    mr_exchange_set_password (exchange, password);
  return exchange;
}

static guint
count_requests (Fixture    *fixture,
                const char *path)
{
  g_autoptr(GPtrArray) requests = mr_standin_get_requests (fixture->standin, path);
  return requests->len;
}

static char *
last_body (Fixture    *fixture,
           const char *path)
{
  g_autoptr(GPtrArray) requests = mr_standin_get_requests (fixture->standin, path);
  MrStandinRequest *last;

  g_assert_cmpuint (requests->len, >, 0);
  last = g_ptr_array_index (requests, requests->len - 1);
  return g_strndup (g_bytes_get_data (last->body, NULL), g_bytes_get_size (last->body));
}

/* ---- EWS -------------------------------------------------------------------------------------- */

static void
test_ews_send_ntlm (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autofree char *attachment = g_build_filename (fixture->dirs.root, "Rechnung 7.pdf", NULL);
  g_autoptr(GBytes) message = NULL;
  g_autoptr(MrSmtpEnvelope) envelope = envelope_for_message ();
  g_autoptr(MrExchange) exchange = new_exchange (fixture, "Secret-4-EWS");
  g_autoptr(GError) error = NULL;
  g_autofree char *body = NULL;
  g_autofree char *mime = NULL;
  g_autofree char *transcript = NULL;
  g_autoptr(GPtrArray) requests = NULL;

  mr_test_write_file (attachment, "%PDF-1.4 invoice seven\n");
  message = build_message (attachment, NULL);
  mr_exchange_send_sync (exchange, envelope, message, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (mr_exchange_get_reply (exchange), ==, "NoError");
  g_assert_null (mr_exchange_get_warning (exchange));

  /* The NTLM handshake: a challenge, then the request with the Type 3 message. */
  requests = mr_standin_get_requests (fixture->standin, "/EWS/Exchange.asmx");
  g_assert_cmpuint (requests->len, >=, 2);
  g_assert_cmpstr (((MrStandinRequest *) g_ptr_array_index (requests, requests->len - 1))->authorization, ==, "NTLM");

  body = last_body (fixture, "/EWS/Exchange.asmx");
  g_assert_nonnull (strstr (body, "MessageDisposition=\"SendAndSaveCopy\""));
  g_assert_nonnull (strstr (body, "<t:DistinguishedFolderId Id=\"sentitems\"/>"));
  g_assert_nonnull (strstr (body, "<t:ToRecipients><t:Mailbox><t:EmailAddress>bob@example.org</t:EmailAddress>"));
  g_assert_nonnull (strstr (body, "<t:CcRecipients><t:Mailbox><t:EmailAddress>carol@example.org</t:EmailAddress>"));
  g_assert_nonnull (strstr (body, "<t:BccRecipients><t:Mailbox><t:EmailAddress>dave@example.org</t:EmailAddress>"));

  /* The MIME message went as it is, attachment included, and Bcc stays out of its headers. */
  mime = mr_standin_dup_last_mime (fixture->standin);
  g_assert_cmpmem (mime, strlen (mime), g_bytes_get_data (message, NULL), g_bytes_get_size (message));
  g_assert_nonnull (strstr (mime, "Rechnung 7.pdf"));
  g_assert_null (strstr (mime, "dave@example.org"));

  /* The transcript says what happened and never holds the password. */
  transcript = mr_exchange_dup_transcript (exchange);
  g_assert_nonnull (strstr (transcript, "POST "));
  g_assert_null (strstr (transcript, "Secret-4-EWS"));
}

static void
test_ews_schema_rejects_bad_order (Fixture       *fixture,
                                   gconstpointer  data)
{
  /* The stand-in's validation must catch what Exchange would: Subject after MimeContent's siblings. */
  g_autofree char *url = mr_standin_url (fixture->standin, "/EWS/Exchange.asmx");
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autofree char *ca = mr_test_cert_path ("ca.pem");
  g_autoptr(GTlsDatabase) database = g_tls_file_database_new (ca, NULL);
  g_autoptr(SoupMessage) message = soup_message_new ("POST", url);
  g_autoptr(GBytes) answer = NULL;
  static const char bad[] =
    "<?xml version=\"1.0\"?><soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\" "
    "xmlns:t=\"http://schemas.microsoft.com/exchange/services/2006/types\" "
    "xmlns:m=\"http://schemas.microsoft.com/exchange/services/2006/messages\"><soap:Body>"
    "<m:CreateItem MessageDisposition=\"SendOnly\"><m:Items><t:Message>"
    "<t:ToRecipients><t:Mailbox><t:EmailAddress>a@example.org</t:EmailAddress></t:Mailbox></t:ToRecipients>"
    "<t:Subject>late</t:Subject></t:Message></m:Items></m:CreateItem></soap:Body></soap:Envelope>";
  g_autoptr(MrEwsResponse) response = NULL;

  if (!mr_standin_validates (fixture->standin))
    {
      g_test_skip ("The EWS schema (../shared/conformance/ews) is missing");
      return;
    }
  mr_standin_set_ews_auth (fixture->standin, NULL, NULL, NULL);
  soup_session_set_tls_database (session, database);
  {
    g_autoptr(GBytes) body = g_bytes_new_static (bad, sizeof bad - 1);

    soup_message_set_request_body_from_bytes (message, "text/xml", body);
  }
  answer = soup_session_send_and_read (session, message, NULL, NULL);
  g_assert_nonnull (answer);
  response = mr_ews_parse_response (answer, NULL);
  g_assert_nonnull (response);
  g_assert_true (response->fault);
  g_assert_cmpstr (response->code, ==, "ErrorSchemaValidation");
  g_assert_cmpuint (mr_standin_count_invalid (fixture->standin), ==, 1);
  /* Counted on purpose: not a failure of this test. */
  mr_standin_stop (fixture->standin);
  fixture->standin = mr_standin_start ();
}

static void
test_ews_wrong_password (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autoptr(GBytes) message = build_message (NULL, NULL);
  g_autoptr(MrSmtpEnvelope) envelope = envelope_for_message ();
  g_autoptr(MrExchange) exchange = new_exchange (fixture, "wrong");
  g_autoptr(GError) error = NULL;

  g_assert_false (mr_exchange_send_sync (exchange, envelope, message, NULL, &error));
  g_assert_error (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_AUTH_FAILED);
  mr_assert_error_kind (error, "auth-failed");
  g_assert_true (mr_transport_failure_allows_fallback (mr_transport_error_get_failure (error)));
  g_assert_nonnull (strstr (error->message, "CORP\\alice"));
}

static void
test_ews_basic (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GBytes) message = build_message (NULL, NULL);
  g_autoptr(MrSmtpEnvelope) envelope = envelope_for_message ();
  g_autoptr(GError) error = NULL;

  /* Configured for Basic, the server offers only NTLM: said so, with what it offers. */
  mr_test_set_ok (fixture->settings, MR_SCOPE_COMPANY, "exchange.auth", "basic");
  {
    g_autoptr(MrExchange) exchange = new_exchange (fixture, "Secret-4-EWS");

    g_assert_false (mr_exchange_send_sync (exchange, envelope, message, NULL, &error));
    g_assert_error (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_AUTH_UNAVAILABLE);
    g_assert_nonnull (strstr (error->message, "NTLM"));
    g_clear_error (&error);
  }
  mr_standin_set_ews_auth (fixture->standin, "basic", "CORP\\alice", "Secret-4-EWS");
  {
    g_autoptr(MrExchange) exchange = new_exchange (fixture, "Secret-4-EWS");

    g_assert_true (mr_exchange_send_sync (exchange, envelope, message, NULL, &error));
    g_assert_no_error (error);
  }
  /* SendOnly when the copy is not wanted. */
  mr_test_set_ok (fixture->settings, MR_SCOPE_USER, "exchange.save_copy", "false");
  {
    g_autoptr(MrExchange) exchange = new_exchange (fixture, "Secret-4-EWS");
    g_autofree char *body = NULL;

    g_assert_true (mr_exchange_send_sync (exchange, envelope, message, NULL, &error));
    body = last_body (fixture, "/EWS/Exchange.asmx");
    g_assert_nonnull (strstr (body, "MessageDisposition=\"SendOnly\""));
    g_assert_null (strstr (body, "SavedItemFolderId"));
  }
}

static void
test_ews_errors (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autoptr(GBytes) message = build_message (NULL, NULL);
  g_autoptr(MrSmtpEnvelope) envelope = envelope_for_message ();
  g_autoptr(GError) error = NULL;

  mr_standin_set_ews_script (fixture->standin, "send-as-denied");
  {
    g_autoptr(MrExchange) exchange = new_exchange (fixture, "Secret-4-EWS");

    g_assert_false (mr_exchange_send_sync (exchange, envelope, message, NULL, &error));
    g_assert_error (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_SEND_AS_DENIED);
    mr_assert_error_kind (error, "send-as-denied");
    g_assert_cmpstr (mr_exchange_get_reply (exchange), ==, "ErrorSendAsDenied");
    g_clear_error (&error);
  }
  mr_standin_set_ews_script (fixture->standin, "fault");
  {
    g_autoptr(MrExchange) exchange = new_exchange (fixture, "Secret-4-EWS");

    g_assert_false (mr_exchange_send_sync (exchange, envelope, message, NULL, &error));
    g_assert_error (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_PROTOCOL);
    g_assert_nonnull (strstr (error->message, "ErrorInternalServerError"));
    g_clear_error (&error);
  }
  /* A long back-off is not waited out here: the outbox is told when to try again. */
  mr_standin_set_ews_script (fixture->standin, "busy:120000");
  {
    g_autoptr(MrExchange) exchange = new_exchange (fixture, "Secret-4-EWS");

    g_assert_false (mr_exchange_send_sync (exchange, envelope, message, NULL, &error));
    g_assert_error (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_BUSY);
    g_assert_cmpuint (mr_exchange_get_retry_after (exchange), ==, 120);
    g_assert_false (mr_transport_failure_allows_fallback (mr_transport_error_get_failure (error)));
    g_clear_error (&error);
  }
}

static void
test_ews_busy_backoff (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autoptr(GBytes) message = build_message (NULL, NULL);
  g_autoptr(MrSmtpEnvelope) envelope = envelope_for_message ();
  g_autoptr(MrExchange) exchange = new_exchange (fixture, "Secret-4-EWS");
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) requests = NULL;
  gint64 first = 0, second = 0;

  mr_standin_set_ews_script (fixture->standin, "busy:400,success");
  g_assert_true (mr_exchange_send_sync (exchange, envelope, message, NULL, &error));
  g_assert_no_error (error);

  /* The first request (the busy answer came to its handshake's end) and the last, after the wait. */
  requests = mr_standin_get_requests (fixture->standin, "/EWS/Exchange.asmx");
  if (requests->len < 4)
    g_error ("%u requests; transcript:\n%s", requests->len, mr_exchange_dup_transcript (exchange));
  first = ((MrStandinRequest *) g_ptr_array_index (requests, 0))->time;
  second = ((MrStandinRequest *) g_ptr_array_index (requests, requests->len - 1))->time;
  g_assert_cmpint (second - first, >=, 400 * 1000);
}

static void
test_ews_draft_attach_send (Fixture       *fixture,
                            gconstpointer  data)
{
  g_autofree char *attachment = g_build_filename (fixture->dirs.root, "Rechnung 7.pdf", NULL);
  g_autoptr(GBytes) message = NULL;
  g_autoptr(MrSmtpEnvelope) envelope = envelope_for_message ();
  g_autoptr(MrExchange) exchange = new_exchange (fixture, "Secret-4-EWS");
  g_autoptr(GError) error = NULL;
  g_autofree char *steps = NULL;
  g_autofree char *draft = NULL;
  g_autofree char *message_id = NULL;
  g_autofree char *bracketed = NULL;
  g_autoptr(GPtrArray) requests = NULL;

  mr_test_write_file (attachment, "%PDF-1.4 invoice seven\n");
  message = build_message (attachment, &message_id);
  /* This server cannot take the MIME message while sending. */
  mr_standin_set_ews_script (fixture->standin, "mime-refused");
  g_assert_true (mr_exchange_send_sync (exchange, envelope, message, NULL, &error));
  g_assert_no_error (error);
  steps = mr_standin_dup_steps (fixture->standin);
  g_assert_cmpstr (steps, ==, "draft:Invoice 7 – März;attach:Rechnung 7.pdf;send");

  /* The draft has the HTML body, every recipient, the From and the sent log's Message-ID. */
  requests = mr_standin_get_requests (fixture->standin, "/EWS/Exchange.asmx");
  for (guint i = 0; i < requests->len && draft == NULL; i++)
    {
      MrStandinRequest *request = g_ptr_array_index (requests, i);
      g_autofree char *text = g_strndup (g_bytes_get_data (request->body, NULL), g_bytes_get_size (request->body));

      if (strstr (text, "SaveOnly") != NULL)
        draft = g_steal_pointer (&text);
    }
  g_assert_nonnull (draft);
  g_assert_nonnull (strstr (draft, "<t:Body BodyType=\"HTML\">"));
  g_assert_nonnull (strstr (draft, "<t:BccRecipients><t:Mailbox><t:EmailAddress>dave@example.org"));
  g_assert_nonnull (strstr (draft, "<t:From><t:Mailbox><t:EmailAddress>alice@example.test"));
  bracketed = g_strdup_printf ("<t:InternetMessageId>&lt;%s&gt;</t:InternetMessageId>", message_id);
  g_assert_nonnull (strstr (draft, bracketed));
}

static void
test_ews_oauth2 (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autoptr(GBytes) message = build_message (NULL, NULL);
  g_autoptr(MrSmtpEnvelope) envelope = envelope_for_message ();
  g_autoptr(GError) error = NULL;

  if (!mr_test_require_keyring ())
    return;
  mr_test_set_ok (fixture->settings, MR_SCOPE_COMPANY, "exchange.auth", "oauth2");
  mr_standin_set_ews_auth (fixture->standin, "bearer", NULL, NULL);
  {
    g_autoptr(MrExchange) exchange = new_exchange (fixture, NULL);
    g_autoptr(MrOAuthDeviceCode) code = NULL;
    g_autoptr(MrOAuthTokens) tokens = NULL;

    /* No password account: the sign-in is the login. */
    g_assert_null (mr_exchange_get_account (exchange));
    mr_standin_set_token_script (fixture->standin, "ok");
    code = mr_oauth_device_start_sync (mr_exchange_get_session (exchange), mr_exchange_get_oauth_config (exchange),
                                       MR_OAUTH_SCOPE_EWS, NULL, &error);
    g_assert_no_error (error);
    code->interval_ms = 10;
    tokens = mr_oauth_device_poll_sync (mr_exchange_get_session (exchange), mr_exchange_get_oauth_config (exchange),
                                        code, NULL, &error);
    g_assert_no_error (error);
    g_assert_true (mr_oauth_store_refresh_token_sync (mr_exchange_get_oauth_config (exchange), tokens->refresh_token,
                                                      NULL, &error));
  }
  {
    g_autoptr(MrExchange) exchange = new_exchange (fixture, NULL);
    g_autofree char *transcript = NULL;

    g_assert_true (mr_exchange_send_sync (exchange, envelope, message, NULL, &error));
    g_assert_no_error (error);
    transcript = mr_exchange_dup_transcript (exchange);
    g_assert_nonnull (strstr (transcript, "Bearer (token hidden)"));
    g_assert_null (strstr (transcript, "at-"));
  }
}

static void
test_ews_exchange_online_warning (Fixture       *fixture,
                                  gconstpointer  data)
{
  g_autoptr(MrExchange) exchange = NULL;

  mr_test_set_ok (fixture->settings, MR_SCOPE_COMPANY, "exchange.ews_url", "https://outlook.office365.com/EWS/Exchange.asmx");
  exchange = new_exchange (fixture, NULL);
  g_assert_nonnull (mr_exchange_get_warning (exchange));
  g_assert_nonnull (strstr (mr_exchange_get_warning (exchange), "1 April 2027"));
  g_assert_nonnull (strstr (mr_exchange_get_warning (exchange), "Microsoft Graph"));
}

static void
test_ews_check (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(MrExchange) exchange = new_exchange (fixture, "Secret-4-EWS");
  g_autoptr(GError) error = NULL;
  g_autofree char *body = NULL;

  g_assert_true (mr_exchange_check_sync (exchange, NULL, &error));
  g_assert_no_error (error);
  body = last_body (fixture, "/EWS/Exchange.asmx");
  g_assert_nonnull (strstr (body, "GetFolder"));
  g_assert_cmpuint (count_requests (fixture, "/EWS/Exchange.asmx"), >=, 2);
}

/* ---- Autodiscover ------------------------------------------------------------------------------ */

static void
test_autodiscover (Fixture       *fixture,
                   gconstpointer  data)
{
  guint16 port = mr_standin_get_port (fixture->standin);
  g_autofree char *ews = g_strdup_printf ("https://mail.example.test:%u/EWS/Exchange.asmx", port);
  g_autofree char *ews_answer = g_strdup_printf ("ews:%s", ews);
  g_autofree char *elsewhere = g_strdup_printf ("redirect-url:https://hosted.example.net:%u"
                                                "/autodiscover/autodiscover.xml", port);
  g_autofree char *unconfirmed = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(MrExchange) exchange = NULL;
  g_autofree char *found = NULL;
  g_autoptr(GPtrArray) requests = NULL;

  mr_test_set_ok (fixture->settings, MR_SCOPE_COMPANY, "exchange.ews_url", "");
  mr_test_set_ok (fixture->settings, MR_SCOPE_COMPANY, "exchange.autodiscover", "true");
  mr_standin_set_ews_auth (fixture->standin, NULL, NULL, NULL);

  /* Found through the SRV record (nothing answers on port 443 of the domain's hosts). */
  mr_standin_set_autodiscover (fixture->standin, "mail.example.test", ews_answer);
  exchange = new_exchange (fixture, "Secret-4-EWS");
  found = mr_exchange_discover_sync (exchange, "alice@example.test", NULL, &unconfirmed, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (found, ==, ews);
  requests = mr_standin_get_requests (fixture->standin, "/autodiscover/autodiscover.xml");
  g_assert_cmpuint (requests->len, ==, 1);
  g_assert_nonnull (g_strstr_len (g_bytes_get_data (((MrStandinRequest *) requests->pdata[0])->body, NULL),
                                  (gssize) g_bytes_get_size (((MrStandinRequest *) requests->pdata[0])->body),
                                  "<EMailAddress>alice@example.test</EMailAddress>"));
  g_clear_pointer (&found, g_free);
  g_clear_object (&exchange);

  /* A redirect to another domain stops and asks; agreeing to that host goes on. */
  mr_standin_set_autodiscover (fixture->standin, "mail.example.test", elsewhere);
  mr_standin_set_autodiscover (fixture->standin, "hosted.example.net", ews_answer);
  exchange = new_exchange (fixture, "Secret-4-EWS");
  found = mr_exchange_discover_sync (exchange, "alice@example.test", NULL, &unconfirmed, NULL, &error);
  g_assert_null (found);
  g_assert_error (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_REDIRECT_UNCONFIRMED);
  mr_assert_error_kind (error, "redirect-unconfirmed");
  g_assert_cmpstr (unconfirmed, ==, "hosted.example.net");
  g_clear_error (&error);
  found = mr_exchange_discover_sync (exchange, "alice@example.test", unconfirmed, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (found, ==, ews);
  g_clear_pointer (&found, g_free);
  g_clear_object (&exchange);

  /* An HTTP redirect within the domain is followed; redirectAddr asks again for the new address. */
  {
    g_autofree char *http = g_strdup_printf ("http-redirect:https://ad2.example.test:%u/autodiscover/autodiscover.xml",
                                             port);
    mr_standin_set_autodiscover (fixture->standin, "mail.example.test", http);
    mr_standin_set_autodiscover (fixture->standin, "ad2.example.test|alice@example.test",
                                 "redirect-addr:alice.smith@example.test");
    mr_standin_set_autodiscover (fixture->standin, "ad2.example.test|alice.smith@example.test", ews_answer);
  }
  exchange = new_exchange (fixture, "Secret-4-EWS");
  found = mr_exchange_discover_sync (exchange, "alice@example.test", NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (found, ==, ews);
  g_clear_pointer (&found, g_free);
  g_clear_object (&exchange);
  {
    g_autoptr(GPtrArray) all = mr_standin_get_requests (fixture->standin, "/autodiscover/autodiscover.xml");
    MrStandinRequest *last = g_ptr_array_index (all, all->len - 1);

    g_assert_cmpstr (last->host, ==, "ad2.example.test");
    g_assert_nonnull (g_strstr_len (g_bytes_get_data (last->body, NULL), (gssize) g_bytes_get_size (last->body),
                                    "alice.smith@example.test"));
  }

  /* Nothing anywhere: the error lists what was tried. */
  exchange = new_exchange (fixture, "Secret-4-EWS");
  found = mr_exchange_discover_sync (exchange, "bob@nowhere.example.net", NULL, NULL, NULL, &error);
  g_assert_null (found);
  g_assert_error (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_DISCOVERY_FAILED);
  g_assert_nonnull (strstr (error->message, "https://nowhere.example.net/autodiscover/autodiscover.xml"));
  g_assert_nonnull (strstr (error->message, "_autodiscover._tcp.nowhere.example.net"));
}

static void
test_autodiscover_then_send (Fixture       *fixture,
                             gconstpointer  data)
{
  guint16 port = mr_standin_get_port (fixture->standin);
  g_autofree char *ews_answer = g_strdup_printf ("ews:https://mail.example.test:%u/EWS/Exchange.asmx", port);
  g_autoptr(GBytes) message = build_message (NULL, NULL);
  g_autoptr(MrSmtpEnvelope) envelope = envelope_for_message ();
  g_autoptr(MrExchange) exchange = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *cache = g_build_filename (fixture->dirs.cache_home, "mailroom", "autodiscover.json", NULL);
  g_autofree char *text = NULL;
  g_autofree char *moved = NULL;
  guint looked_up;

  mr_test_set_ok (fixture->settings, MR_SCOPE_COMPANY, "exchange.ews_url", "");
  /* Not set up until the admin turns autodiscover on. */
  {
    g_autoptr(MrExchange) none = mr_exchange_new (fixture->settings, NULL, &error);

    g_assert_null (none);
    g_assert_error (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_NOT_SET_UP);
    mr_assert_error_kind (error, "exchange-not-set-up");
    g_clear_error (&error);
  }
  mr_test_set_ok (fixture->settings, MR_SCOPE_COMPANY, "exchange.autodiscover", "true");
  mr_standin_set_autodiscover (fixture->standin, "mail.example.test", ews_answer);
  exchange = new_exchange (fixture, "Secret-4-EWS");
  g_assert_true (mr_exchange_send_sync (exchange, envelope, message, NULL, &error));
  g_assert_no_error (error);
  g_assert_nonnull (strstr (mr_exchange_get_route (exchange), "mail.example.test"));
  looked_up = count_requests (fixture, "/autodiscover/autodiscover.xml");
  g_assert_cmpuint (looked_up, >, 0);

  /* The next send (another process, a mailshot's next connection) uses what was found. */
  {
    g_autoptr(MrExchange) again = new_exchange (fixture, "Secret-4-EWS");
    g_autofree char *transcript = NULL;

    g_assert_true (mr_exchange_send_sync (again, envelope, message, NULL, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (count_requests (fixture, "/autodiscover/autodiscover.xml"), ==, looked_up);
    g_assert_nonnull (strstr (mr_exchange_get_route (again), "mail.example.test"));
    transcript = mr_exchange_dup_transcript (again);
    g_assert_nonnull (strstr (transcript, "found earlier"));
  }

  /* The service moved (404 where it was): looked up again, and the mail goes. */
  text = mr_test_read_file (cache);
  g_assert_nonnull (strstr (text, "/EWS/Exchange.asmx"));
  {
    g_autoptr(GString) edited = g_string_new (text);

    g_string_replace (edited, "/EWS/Exchange.asmx", "/Moved/Exchange.asmx", 0);
    moved = g_string_free (g_steal_pointer (&edited), FALSE);
  }
  mr_test_write_file (cache, moved);
  {
    g_autoptr(MrExchange) moved_exchange = new_exchange (fixture, "Secret-4-EWS");
    g_autofree char *transcript = NULL;

    g_assert_true (mr_exchange_send_sync (moved_exchange, envelope, message, NULL, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (count_requests (fixture, "/Moved/Exchange.asmx"), ==, 1);
    g_assert_cmpuint (count_requests (fixture, "/autodiscover/autodiscover.xml"), >, looked_up);
    transcript = mr_exchange_dup_transcript (moved_exchange);

    g_assert_nonnull (strstr (transcript, "does not answer any more"));
  }
  g_free (text);
  text = mr_test_read_file (cache);
  g_assert_null (strstr (text, "/Moved/"));

  /* Kept a day, not longer. */
  {
    g_autoptr(GRegex) found = g_regex_new ("\"found\" : [0-9]+", 0, 0, NULL);
    g_autofree char *old = g_regex_replace_literal (found, text, -1, 0, "\"found\" : 1000", 0, NULL);
    g_autoptr(MrExchange) later = NULL;

    mr_test_write_file (cache, old);
    looked_up = count_requests (fixture, "/autodiscover/autodiscover.xml");
    later = new_exchange (fixture, "Secret-4-EWS");
    g_assert_true (mr_exchange_send_sync (later, envelope, message, NULL, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (count_requests (fixture, "/autodiscover/autodiscover.xml"), >, looked_up);
  }
}

/* ---- The device-code sign-in and Graph --------------------------------------------------------- */

static MrOAuthTokens *
sign_in (Fixture     *fixture,
         MrExchange  *exchange,
         const char  *script,
         GError     **error)
{
  g_autoptr(MrOAuthDeviceCode) code = NULL;
  gint64 start;
  MrOAuthTokens *tokens;

  mr_standin_set_token_script (fixture->standin, script);
  code = mr_oauth_device_start_sync (mr_exchange_get_session (exchange), mr_exchange_get_oauth_config (exchange),
                                     MR_OAUTH_SCOPE_GRAPH_SEND, NULL, error);
  if (code == NULL)
    return NULL;
  g_assert_cmpstr (code->user_code, ==, "FJ7KQ2LXM");
  g_assert_cmpuint (code->interval_ms, ==, 1000);
  g_assert_cmpuint (code->slow_down_ms, ==, 5000);
  /* The test's own pace; the rules stay the service's. */
  code->interval_ms = 20;
  code->slow_down_ms = 30;
  start = g_get_monotonic_time ();
  tokens = mr_oauth_device_poll_sync (mr_exchange_get_session (exchange), mr_exchange_get_oauth_config (exchange),
                                      code, NULL, error);
  if (strstr (script, "slow_down") != NULL)
    {
      g_assert_cmpuint (code->interval_ms, ==, 50);
      g_assert_cmpint (g_get_monotonic_time () - start, >=, 20 * 1000 + 50 * 1000);
    }
  return tokens;
}

static void
test_device_code (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(MrExchange) exchange = NULL;
  g_autoptr(MrOAuthTokens) tokens = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) polls = NULL;

  mr_test_set_ok (fixture->settings, MR_SCOPE_COMPANY, "exchange.transport", "graph");
  exchange = new_exchange (fixture, NULL);

  tokens = sign_in (fixture, exchange, "pending,slow_down,pending,ok", &error);
  g_assert_no_error (error);
  g_assert_nonnull (tokens->refresh_token);
  g_assert_true (g_str_has_prefix (tokens->access_token, "at-"));
  polls = mr_standin_get_requests (fixture->standin, "/contoso.example/oauth2/v2.0/token");
  g_assert_cmpuint (polls->len, ==, 4);
  g_clear_pointer (&tokens, mr_oauth_tokens_free);

  tokens = sign_in (fixture, exchange, "pending,declined", &error);
  g_assert_null (tokens);
  g_assert_error (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_SIGN_IN_DECLINED);
  mr_assert_error_kind (error, "sign-in-declined");
  g_clear_error (&error);

  tokens = sign_in (fixture, exchange, "expired", &error);
  g_assert_null (tokens);
  g_assert_error (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_SIGN_IN_EXPIRED);
  g_clear_error (&error);

  /* A client ID the service does not know is the admin's to fix. */
  mr_test_set_ok (fixture->settings, MR_SCOPE_COMPANY, "exchange.client_id", "00000000-0000-0000-0000-000000000000");
  {
    g_autoptr(MrExchange) other = new_exchange (fixture, NULL);
    g_autoptr(MrOAuthDeviceCode) code = mr_oauth_device_start_sync (mr_exchange_get_session (other),
                                                                    mr_exchange_get_oauth_config (other),
                                                                    MR_OAUTH_SCOPE_GRAPH_SEND, NULL, &error);
    g_assert_null (code);
    g_assert_error (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_NOT_SET_UP);
    g_assert_nonnull (strstr (error->message, "exchange.client_id"));
  }
}

static void
signed_in_graph (Fixture *fixture)
{
  g_autoptr(MrExchange) exchange = NULL;
  g_autoptr(MrOAuthTokens) tokens = NULL;
  g_autoptr(GError) error = NULL;

  mr_test_set_ok (fixture->settings, MR_SCOPE_COMPANY, "exchange.transport", "graph");
  exchange = new_exchange (fixture, NULL);
  tokens = sign_in (fixture, exchange, "ok", &error);
  g_assert_no_error (error);
  g_assert_true (mr_oauth_store_refresh_token_sync (mr_exchange_get_oauth_config (exchange), tokens->refresh_token,
                                                    NULL, &error));
  g_assert_no_error (error);
}

static char *
stored_refresh_token (MrExchange *exchange)
{
  g_autoptr(MrSecretAccount) account = mr_oauth_config_get_account (mr_exchange_get_oauth_config (exchange));

  return mr_secrets_lookup_sync (account, NULL, NULL);
}

static void
test_graph_send (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autofree char *attachment = g_build_filename (fixture->dirs.root, "price list.csv", NULL);
  g_autoptr(GBytes) message = NULL;
  g_autoptr(MrSmtpEnvelope) envelope = envelope_for_message ();
  g_autoptr(GError) error = NULL;
  g_autoptr(MrExchange) exchange = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *mime = NULL;

  if (!mr_test_require_keyring ())
    return;
  mr_test_write_file (attachment, "item;price\nwidget;3.50\n");
  message = build_message (attachment, NULL);
  signed_in_graph (fixture);
  exchange = new_exchange (fixture, NULL);
  before = stored_refresh_token (exchange);
  g_assert_true (mr_exchange_send_sync (exchange, envelope, message, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (mr_exchange_get_reply (exchange), ==, "202 Accepted");
  g_assert_cmpuint (count_requests (fixture, "/v1.0/me/sendMail"), ==, 1);

  /* The refresh token was used up and its successor stored. */
  after = stored_refresh_token (exchange);
  g_assert_nonnull (after);
  g_assert_cmpstr (before, !=, after);

  /* A second mail on the same session uses the access token it has: no refresh per mail. */
  {
    guint refreshes = count_requests (fixture, "/contoso.example/oauth2/v2.0/token");

    g_assert_true (mr_exchange_send_sync (exchange, envelope, message, NULL, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (count_requests (fixture, "/contoso.example/oauth2/v2.0/token"), ==, refreshes);
    g_assert_cmpuint (count_requests (fixture, "/v1.0/me/sendMail"), ==, 2);
  }

  /* Graph reads the recipients from the message: Bcc goes in as a header there, and only there. */
  mime = mr_standin_dup_last_mime (fixture->standin);
  g_assert_nonnull (strstr (mime, "Bcc: dave@example.org"));
  g_assert_nonnull (strstr (mime, "price list.csv"));

  /* A shared mailbox. */
  mr_test_set_ok (fixture->settings, MR_SCOPE_USER, "exchange.mailbox", "sales@example.test");
  {
    g_autoptr(MrExchange) shared = new_exchange (fixture, NULL);

    g_assert_true (mr_exchange_send_sync (shared, envelope, message, NULL, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (count_requests (fixture, "/v1.0/users/sales@example.test/sendMail"), ==, 1);
  }
}

static void
test_graph_errors (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(GBytes) message = build_message (NULL, NULL);
  g_autoptr(MrSmtpEnvelope) envelope = envelope_for_message ();
  g_autoptr(GError) error = NULL;

  if (!mr_test_require_keyring ())
    return;
  signed_in_graph (fixture);

  mr_standin_set_graph_script (fixture->standin, "error:400:ErrorInvalidRecipients");
  {
    g_autoptr(MrExchange) exchange = new_exchange (fixture, NULL);

    g_assert_false (mr_exchange_send_sync (exchange, envelope, message, NULL, &error));
    g_assert_error (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_RECIPIENT_REFUSED);
    g_assert_false (mr_transport_failure_allows_fallback (mr_transport_error_get_failure (error)));
    /* Read from error.code, not from the words. */
    g_assert_null (strstr (error->message, "Words that may change"));
    g_clear_error (&error);
  }
  mr_standin_set_graph_script (fixture->standin, "too-large");
  {
    g_autoptr(MrExchange) exchange = new_exchange (fixture, NULL);

    g_assert_false (mr_exchange_send_sync (exchange, envelope, message, NULL, &error));
    g_assert_error (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_TOO_BIG);
    g_clear_error (&error);
  }
  /* A short Retry-After is waited out; a long one goes back to the caller. */
  mr_standin_set_graph_script (fixture->standin, "throttle:1,accepted");
  {
    g_autoptr(MrExchange) exchange = new_exchange (fixture, NULL);
    gint64 start = g_get_monotonic_time ();

    g_assert_true (mr_exchange_send_sync (exchange, envelope, message, NULL, &error));
    g_assert_no_error (error);
    g_assert_cmpint (g_get_monotonic_time () - start, >=, G_USEC_PER_SEC);
  }
  mr_standin_set_graph_script (fixture->standin, "throttle:90");
  {
    g_autoptr(MrExchange) exchange = new_exchange (fixture, NULL);

    g_assert_false (mr_exchange_send_sync (exchange, envelope, message, NULL, &error));
    g_assert_error (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_BUSY);
    g_assert_cmpuint (mr_exchange_get_retry_after (exchange), ==, 90);
    g_clear_error (&error);
  }
  /* A revoked sign-in asks for a new one. */
  mr_standin_revoke_tokens (fixture->standin);
  {
    g_autoptr(MrExchange) exchange = new_exchange (fixture, NULL);

    g_assert_false (mr_exchange_send_sync (exchange, envelope, message, NULL, &error));
    g_assert_error (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_SIGN_IN_REQUIRED);
    g_assert_true (mr_transport_failure_allows_fallback (mr_transport_error_get_failure (error)));
    g_clear_error (&error);
  }
}

static void
test_graph_large_message (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autofree char *big_path = g_build_filename (fixture->dirs.root, "Katalog 2027.pdf", NULL);
  g_autofree char *small_path = g_build_filename (fixture->dirs.root, "Preise.csv", NULL);
  g_autoptr(MrOutgoing) outgoing = mr_outgoing_new ();
  g_autoptr(GBytes) message = NULL;
  g_autoptr(MrSmtpEnvelope) envelope = envelope_for_message ();
  g_autoptr(GError) error = NULL;
  g_autoptr(MrExchange) exchange = NULL;
  g_autoptr(GBytes) uploaded = NULL;
  g_autofree char *big = g_malloc (3300 * 1024);
  g_autofree char *steps = NULL;
  g_autofree char *expected = NULL;

  if (!mr_test_require_keyring ())
    return;
  for (gsize i = 0; i < 3300 * 1024; i++)
    big[i] = (char) g_random_int ();
  g_assert_true (g_file_set_contents (big_path, big, 3300 * 1024, NULL));
  mr_test_write_file (small_path, "item;price\nwidget;3.50\n");
  outgoing->from_address = g_strdup ("alice@example.test");
  g_ptr_array_add (outgoing->to, g_strdup ("bob@example.org"));
  g_ptr_array_add (outgoing->cc, g_strdup ("carol@example.org"));
  g_ptr_array_add (outgoing->bcc, g_strdup ("dave@example.org"));
  outgoing->subject = g_strdup ("Katalog");
  outgoing->html_body = g_strdup ("<p>Der Katalog.</p>");
  mr_outgoing_add_attachment (outgoing, big_path, NULL, NULL);
  mr_outgoing_add_attachment (outgoing, small_path, NULL, NULL);
  message = mr_outgoing_build (outgoing, NULL, &error);
  g_assert_no_error (error);
  signed_in_graph (fixture);
  exchange = new_exchange (fixture, NULL);

  /* Over 4 MB once in base64: a draft, the small file at once, the big one in 320 KiB multiples. */
  g_assert_true (mr_exchange_send_sync (exchange, envelope, message, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count_requests (fixture, "/v1.0/me/sendMail"), ==, 0);
  steps = mr_standin_dup_steps (fixture->standin);
  expected = g_strdup_printf ("graph-draft:Katalog;upload:Katalog 2027.pdf:%u;piece;piece;attach:Preise.csv;send",
                              3300 * 1024);
  g_assert_cmpstr (steps, ==, expected);
  uploaded = mr_standin_dup_upload (fixture->standin);
  g_assert_cmpmem (g_bytes_get_data (uploaded, NULL), g_bytes_get_size (uploaded), big, 3300 * 1024);
}

/* ---- The browser sign-in (PKCE) and XOAUTH2 ---------------------------------------------------- */

static char *
install_browser (Fixture *fixture)
{
  char *log = g_build_filename (fixture->dirs.root, "browser.log", NULL);

  /* Where GIO looks in this process, and where a mailroom-cli started now looks. */
  mr_test_install_fake_browser (g_get_user_data_dir (), g_get_user_config_dir (), log);
  mr_test_install_fake_browser (fixture->dirs.data_home, fixture->dirs.config_home, log);
  return log;
}

/* Gmail with OAuth2 on the local SMTP server at @port, Google's endpoints on the stand-in. */
static void
set_up_gmail (Fixture    *fixture,
              const char *port)
{
  g_autofree char *google_auth = mr_standin_url (fixture->standin, "/google/auth");
  g_autofree char *google_token = mr_standin_url (fixture->standin, "/google/token");

  mr_test_set_ok (fixture->settings, MR_SCOPE_COMPANY, "smtp.provider", "gmail");
  mr_test_set_ok (fixture->settings, MR_SCOPE_COMPANY, "smtp.host", "localhost");
  mr_test_set_ok (fixture->settings, MR_SCOPE_COMPANY, "smtp.port", port);
  mr_test_set_ok (fixture->settings, MR_SCOPE_COMPANY, "smtp.security", "starttls");
  mr_test_set_ok (fixture->settings, MR_SCOPE_COMPANY, "smtp.auth", "oauth2");
  mr_test_set_ok (fixture->settings, MR_SCOPE_COMPANY, "google.client_id", "123-test.apps.googleusercontent.com");
  mr_test_set_ok (fixture->settings, MR_SCOPE_COMPANY, "google.client_secret", "GOCSPX-test");
  mr_test_set_ok (fixture->settings, MR_SCOPE_COMPANY, "google.authorize_url", google_auth);
  mr_test_set_ok (fixture->settings, MR_SCOPE_COMPANY, "google.token_url", google_token);
  mr_test_set_ok (fixture->settings, MR_SCOPE_USER, "smtp.username", "ann@gmail.example");
}

static gpointer
cancel_later (gpointer cancellable)
{
  g_usleep (150 * 1000);
  g_cancellable_cancel (cancellable);
  return NULL;
}

/* A browser that never comes back, and a person who gives up 150 ms later. */
static gboolean
cancel_instead_of_browsing (const char  *uri,
                            gpointer     cancellable,
                            GError     **error)
{
  g_thread_unref (g_thread_new ("give-up", cancel_later, cancellable));
  return TRUE;
}

static void
test_browser_sign_in (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autofree char *log = install_browser (fixture);
  g_autofree char *opened = NULL;
  g_autoptr(MrExchange) exchange = NULL;
  g_autoptr(MrOAuthTokens) tokens = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) authorizations = NULL;

  mr_test_set_ok (fixture->settings, MR_SCOPE_COMPANY, "exchange.transport", "graph");
  exchange = new_exchange (fixture, NULL);

  /* The desktop's browser opens the sign-in page, which sends it back to the loopback listener. */
  tokens = mr_oauth_browser_sign_in_sync (mr_exchange_get_session (exchange), mr_exchange_get_oauth_config (exchange),
                                          MR_OAUTH_SCOPE_GRAPH_SEND, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (tokens->refresh_token);
  opened = mr_test_read_file (log);
  g_assert_nonnull (strstr (opened, "/contoso.example/oauth2/v2.0/authorize?"));
  g_assert_nonnull (strstr (opened, "code_challenge_method=S256"));
  g_assert_nonnull (strstr (opened, "redirect_uri=http%3A%2F%2F127.0.0.1%3A"));
  g_assert_nonnull (strstr (opened, "offline_access"));
  authorizations = mr_standin_get_requests (fixture->standin, "/contoso.example/oauth2/v2.0/authorize");
  g_assert_cmpuint (authorizations->len, ==, 1);
  g_clear_pointer (&tokens, mr_oauth_tokens_free);

  /* Given up while the browser is open (the person closed Mailroom's dialog): the wait ends at once. */
  {
    g_autoptr(GCancellable) cancellable = g_cancellable_new ();
    gint64 start = g_get_monotonic_time ();

    tokens = mr_oauth_browser_sign_in_sync (mr_exchange_get_session (exchange), mr_exchange_get_oauth_config (exchange),
                                            MR_OAUTH_SCOPE_GRAPH_SEND, cancel_instead_of_browsing, cancellable,
                                            cancellable, &error);
    g_assert_null (tokens);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_assert_cmpint (g_get_monotonic_time () - start, >=, 150 * 1000);
    g_assert_cmpint (g_get_monotonic_time () - start, <, G_USEC_PER_SEC);
    g_clear_error (&error);
  }

  /* The person says no at the sign-in page. */
  mr_standin_set_authorize_script (fixture->standin, "declined");
  tokens = mr_oauth_browser_sign_in_sync (mr_exchange_get_session (exchange), mr_exchange_get_oauth_config (exchange),
                                          MR_OAUTH_SCOPE_GRAPH_SEND, NULL, NULL, NULL, &error);
  g_assert_null (tokens);
  g_assert_error (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_SIGN_IN_DECLINED);
}

static void
test_smtp_xoauth2 (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autofree char *pem = mr_test_cert_path ("good.pem");
  g_autofree char *key = mr_test_cert_path ("good.key");
  g_autofree char *ca = mr_test_cert_path ("ca.pem");
  g_autoptr(MrTestServer) server = mr_test_server_start ("smtp-server.py", "--mode", "starttls", "--cert", pem,
                                                         "--key", key, "--auth-required",
                                                         "--token", "alice@example.test:tok-smtp-send",
                                                         "--token", "ann@gmail.example:tok-google-mail", NULL);
  g_autofree char *port = g_strdup_printf ("%u", server->port);
  g_autofree char *log = NULL;
  g_autoptr(GError) error = NULL;

  if (!mr_test_require_keyring ())
    return;
  log = install_browser (fixture);
  mr_test_set_ok (fixture->settings, MR_SCOPE_COMPANY, "smtp.host", "localhost");
  mr_test_set_ok (fixture->settings, MR_SCOPE_COMPANY, "smtp.port", port);
  mr_test_set_ok (fixture->settings, MR_SCOPE_COMPANY, "smtp.security", "starttls");
  mr_test_set_ok (fixture->settings, MR_SCOPE_COMPANY, "smtp.tls_trust_file", ca);
  mr_test_set_ok (fixture->settings, MR_SCOPE_COMPANY, "smtp.auth", "oauth2");
  mr_test_set_ok (fixture->settings, MR_SCOPE_COMPANY, "smtp.credentials", "per-user");
  mr_test_set_ok (fixture->settings, MR_SCOPE_USER, "smtp.username", "alice@example.test");
  mr_test_set_ok (fixture->settings, MR_SCOPE_USER, "exchange.username", "alice@example.test");
  mr_test_set_ok (fixture->settings, MR_SCOPE_COMPANY, "sender.from_address", "alice@example.test");

  /* Office 365: one Microsoft sign-in; SMTP asks it for its own token (SMTP.Send). */
  mr_standin_set_token_for_scope (fixture->standin, "https://outlook.office.com/SMTP.Send", "tok-smtp-send");
  {
    g_autoptr(MrExchange) exchange = new_exchange (fixture, NULL);
    g_autoptr(MrOAuthTokens) tokens = NULL;
    g_autoptr(MrTransport) transport = NULL;
    g_autoptr(MrTransportResult) result = NULL;
    g_autofree char *transcript = NULL;

    /* Not signed in: said so. */
    transport = mr_smtp_transport_new_for_settings (fixture->settings, NULL, NULL, &error);
    g_assert_no_error (error);
    g_assert_false (mr_transport_check_sync (transport, NULL, &error));
    g_assert_error (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_SIGN_IN_REQUIRED);
    g_clear_error (&error);
    g_clear_object (&transport);

    tokens = mr_oauth_browser_sign_in_sync (mr_exchange_get_session (exchange), mr_exchange_get_oauth_config (exchange),
                                            MR_OAUTH_SCOPE_GRAPH_SEND, NULL, NULL, NULL, &error);
    g_assert_no_error (error);
    g_assert_true (mr_oauth_store_refresh_token_sync (mr_exchange_get_oauth_config (exchange), tokens->refresh_token,
                                                      NULL, &error));
    transport = mr_smtp_transport_new_for_settings (fixture->settings, NULL, NULL, &error);
    g_assert_no_error (error);
    result = mr_test_send_test_email (transport, fixture->settings, "bob@example.org", &error);
    g_assert_no_error (error);
    g_assert_nonnull (result);
    g_assert_cmpstr (mr_transport_get_server_info (transport)->auth_mechanism, ==, "XOAUTH2");
    transcript = mr_transport_dup_transcript (transport);
    g_assert_null (strstr (transcript, "tok-smtp-send"));

    /* Connecting again (a mailshot's next connection) uses the token its source keeps: no refresh. */
    {
      guint refreshes = count_requests (fixture, "/contoso.example/oauth2/v2.0/token");

      g_assert_true (mr_transport_check_sync (transport, NULL, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (count_requests (fixture, "/contoso.example/oauth2/v2.0/token"), ==, refreshes);
    }
  }

  /* Gmail: Google's browser sign-in, scope https://mail.google.com/. */
  set_up_gmail (fixture, port);
  mr_standin_set_token_for_scope (fixture->standin, "https://mail.google.com/", "tok-google-mail");
  {
    g_autoptr(MrOAuthConfig) google = mr_oauth_config_new_for_settings (fixture->settings, NULL, "google");
    g_autoptr(SoupSession) session = soup_session_new ();
    g_autoptr(GTlsDatabase) database = g_tls_file_database_new (ca, NULL);
    g_autoptr(MrOAuthTokens) tokens = NULL;
    g_autoptr(MrTransport) transport = NULL;
    g_autoptr(MrTransportResult) result = NULL;
    g_autofree char *opened = NULL;

    g_assert_cmpstr (google->account, ==, "ann@gmail.example");
    soup_session_set_tls_database (session, database);
    tokens = mr_oauth_browser_sign_in_sync (session, google, MR_OAUTH_SCOPE_GOOGLE_MAIL, NULL, NULL, NULL, &error);
    g_assert_no_error (error);
    opened = mr_test_read_file (log);
    g_assert_nonnull (strstr (opened, "/google/auth?"));
    g_assert_nonnull (strstr (opened, "access_type=offline"));
    g_assert_nonnull (strstr (opened, "login_hint=ann%40gmail.example"));
    g_assert_true (mr_oauth_store_refresh_token_sync (google, tokens->refresh_token, NULL, &error));
    transport = mr_smtp_transport_new_for_settings (fixture->settings, NULL, NULL, &error);
    g_assert_no_error (error);
    result = mr_test_send_test_email (transport, fixture->settings, "bob@example.org", &error);
    g_assert_no_error (error);
    g_assert_nonnull (result);
  }
  g_assert_cmpuint (mr_test_server_count_messages (server), ==, 2);
}

/* ---- The CLI ---------------------------------------------------------------------------------- */

static int
run_cli_with_input (const char  *input,
                    char       **out,
                    char       **err,
                    const char  *arguments)
{
  g_autofree char *script = g_strdup_printf ("printf '%%s\\n' '%s' | \"$MAILROOM_CLI\" %s", input, arguments);
  const char *argv[] = { "/bin/sh", "-c", script, NULL };
  g_autoptr(GError) error = NULL;
  int status = 0;

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, out, err, &status, &error);
  g_assert_no_error (error);
  return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

static void
write_template (Fixture    *fixture,
                const char *route)
{
  g_autofree char *path = g_build_filename (fixture->dirs.company_templates, "invoice.json", NULL);
  g_autofree char *text = g_strdup_printf ("{\"schema_version\": 1, \"name\": \"Invoice\", \"subject\": \"Invoice {{number}}\","
                                           " \"route\": \"%s\", \"html\": \"<p>Dear {{name}}, invoice {{number}} is attached.</p>\"}",
                                           route);

  g_mkdir_with_parents (fixture->dirs.company_templates, 0755);
  mr_test_write_file (path, text);
}

static void
test_cli_ews (Fixture       *fixture,
              gconstpointer  data)
{
  g_autofree char *pdf = g_build_filename (fixture->dirs.root, "Rechnung 7.pdf", NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *mime = NULL;
  g_autoptr(JsonNode) answer = NULL;

  if (!mr_test_require_keyring ())
    return;
  mr_test_write_file (pdf, "%PDF-1.4 invoice seven\n");
  write_template (fixture, "exchange");

  /* No password (other tests share the keyring: clear it first): said so, with the way to give one. */
  g_assert_cmpint (mr_test_run_cli (&out, &err, "exchange", "password", "--clear", NULL), ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (mr_test_run_cli (&out, &err, "exchange", "check", "--json", NULL), ==, 78);
  g_assert_nonnull (strstr (out, "\"password-missing\""));
  g_assert_nonnull (strstr (out, "exchange password"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (run_cli_with_input ("Secret-4-EWS", &out, &err, "exchange password --stdin"), ==, 0);
  g_assert_nonnull (strstr (err, "CORP\\alice@localhost"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (mr_test_run_cli (&out, &err, "exchange", "check", "--json", NULL), ==, 0);
  answer = json_from_string (out, NULL);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (answer), "transport"), ==, "ews");
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (answer), "reply"), ==, "NoError");
  g_clear_pointer (&answer, json_node_unref);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* The template says Exchange; the attachment goes with it. */
  g_assert_cmpint (mr_test_run_cli (&out, &err, "send", "--template", "Invoice", "--to", "ann@example.org",
                                    "--var", "name=Ann", "--var", "number=7", "--attach", pdf, "--json", NULL), ==, 0);
  answer = json_from_string (out, NULL);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (answer), "route"), ==, "ews");
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (answer), "state"), ==, "accepted");
  mime = mr_standin_dup_last_mime (fixture->standin);
  g_assert_nonnull (strstr (mime, "Subject: Invoice 7"));
  g_assert_nonnull (strstr (mime, "Rechnung 7.pdf"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* A wrong route is a usage error. */
  g_assert_cmpint (mr_test_run_cli (&out, &err, "send", "--template", "Invoice", "--to", "ann@example.org",
                                    "--var", "name=Ann", "--var", "number=7", "--via", "carrier-pigeon", NULL), ==, 64);
}

static void
test_cli_graph_device_code (Fixture       *fixture,
                            gconstpointer  data)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(JsonNode) answer = NULL;

  if (!mr_test_require_keyring ())
    return;
  mr_test_set_ok (fixture->settings, MR_SCOPE_COMPANY, "exchange.transport", "graph");
  write_template (fixture, "smtp");

  /* Not signed in: sending through Graph says how to sign in. */
  g_assert_cmpint (mr_test_run_cli (&out, &err, "send", "--template", "Invoice", "--to", "ann@example.org",
                                    "--var", "name=Ann", "--var", "number=7", "--via", "exchange", "--json", NULL), ==, 77);
  g_assert_nonnull (strstr (out, "\"failed\""));
  g_assert_nonnull (strstr (out, "exchange login"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  mr_standin_set_token_script (fixture->standin, "pending,ok");
  g_assert_cmpint (mr_test_run_cli (&out, &err, "exchange", "login", "--device-code", "--json", NULL), ==, 0);
  g_assert_nonnull (strstr (err, "FJ7KQ2LXM"));
  g_assert_nonnull (strstr (err, "/devicelogin"));
  answer = json_from_string (out, NULL);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (answer), "account"), ==, "CORP\\alice");
  g_clear_pointer (&answer, json_node_unref);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (mr_test_run_cli (&out, &err, "send", "--template", "Invoice", "--to", "ann@example.org",
                                    "--var", "name=Ann", "--var", "number=7", "--via", "exchange", "--json", NULL), ==, 0);
  answer = json_from_string (out, NULL);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (answer), "route"), ==, "graph");
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (answer), "state"), ==, "accepted");
  g_assert_cmpuint (count_requests (fixture, "/v1.0/me/sendMail"), ==, 1);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* Declined: the exit status and the kind say so. */
  mr_standin_set_token_script (fixture->standin, "declined");
  g_assert_cmpint (mr_test_run_cli (&out, &err, "exchange", "login", "--device-code", "--json", NULL), ==, 77);
  g_assert_nonnull (strstr (out, "\"sign-in-declined\""));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* Without --device-code: the desktop's browser. */
  {
    g_autofree char *log = install_browser (fixture);
    g_autofree char *opened = NULL;

    g_assert_cmpint (mr_test_run_cli (&out, &err, "exchange", "login", "--json", NULL), ==, 0);
    g_assert_nonnull (strstr (err, "browser"));
    opened = mr_test_read_file (log);
    g_assert_nonnull (strstr (opened, "code_challenge="));
  }
}

static void
test_cli_user_login_gmail (Fixture       *fixture,
                           gconstpointer  data)
{
  g_autofree char *pem = mr_test_cert_path ("good.pem");
  g_autofree char *key = mr_test_cert_path ("good.key");
  g_autofree char *ca = mr_test_cert_path ("ca.pem");
  g_autoptr(MrTestServer) server = mr_test_server_start ("smtp-server.py", "--mode", "starttls", "--cert", pem,
                                                         "--key", key, "--auth-required",
                                                         "--token", "ann@gmail.example:tok-google-cli", NULL);
  g_autofree char *port = g_strdup_printf ("%u", server->port);
  g_autofree char *log = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  if (!mr_test_require_keyring ())
    return;
  log = install_browser (fixture);
  mr_test_set_ok (fixture->settings, MR_SCOPE_COMPANY, "smtp.credentials", "per-user");
  mr_test_set_ok (fixture->settings, MR_SCOPE_COMPANY, "smtp.tls_trust_file", ca);
  mr_test_set_ok (fixture->settings, MR_SCOPE_COMPANY, "sender.from_address", "ann@gmail.example");
  set_up_gmail (fixture, port);
  mr_standin_set_token_for_scope (fixture->standin, "https://mail.google.com/", "tok-google-cli");

  g_assert_cmpint (mr_test_run_cli (&out, &err, "user", "login", NULL), ==, 0);
  g_assert_nonnull (strstr (err, "Signed in as ann@gmail.example"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (mr_test_run_cli (&out, &err, "test-email", "--to", "bob@example.org", "--json", NULL), ==, 0);
  g_assert_cmpuint (mr_test_server_count_messages (server), ==, 1);
}

int
main (int    argc,
      char **argv)
{
  mr_test_init (&argc, &argv);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/exchange/ews/send-ntlm", test_ews_send_ntlm);
  ADD ("/exchange/ews/schema-rejects-bad-order", test_ews_schema_rejects_bad_order);
  ADD ("/exchange/ews/wrong-password", test_ews_wrong_password);
  ADD ("/exchange/ews/basic", test_ews_basic);
  ADD ("/exchange/ews/errors", test_ews_errors);
  ADD ("/exchange/ews/busy-backoff", test_ews_busy_backoff);
  ADD ("/exchange/ews/draft-attach-send", test_ews_draft_attach_send);
  ADD ("/exchange/ews/oauth2", test_ews_oauth2);
  ADD ("/exchange/ews/exchange-online-warning", test_ews_exchange_online_warning);
  ADD ("/exchange/ews/check", test_ews_check);
  ADD ("/exchange/autodiscover/steps", test_autodiscover);
  ADD ("/exchange/autodiscover/then-send", test_autodiscover_then_send);
  ADD ("/exchange/oauth/device-code", test_device_code);
  ADD ("/exchange/graph/send", test_graph_send);
  ADD ("/exchange/graph/errors", test_graph_errors);
  ADD ("/exchange/graph/large-message", test_graph_large_message);
  ADD ("/exchange/oauth/browser-sign-in", test_browser_sign_in);
  ADD ("/exchange/smtp-xoauth2", test_smtp_xoauth2);
  ADD ("/exchange/cli/ews", test_cli_ews);
  ADD ("/exchange/cli/graph-device-code", test_cli_graph_device_code);
  ADD ("/exchange/cli/user-login-gmail", test_cli_user_login_gmail);
  return g_test_run ();
}
