/* test-smtp.c: the SMTP engine against real servers (aiosmtpd) and a fault-injecting one
 *
 * Every failure a user can meet is provoked for real, and the test checks the advice the user gets
 * and what crossed the wire: never a password or a message in clear by mistake.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "mr-delivery.h"
#include "mr-error.h"
#include "mr-message.h"
#include "mr-smtp-transport.h"
#include "mr-test-utils.h"

#define SERVER_PASSWORD "correct horse"

/* ---- Helpers ---------------------------------------------------------------------------------- */

static MrSmtpConfig *
plain_config (guint16 port)
{
  MrSmtpConfig *config = mr_smtp_config_new ();

  config->host = g_strdup ("127.0.0.1");
  config->port = port;
  config->security = MR_SMTP_SECURITY_NONE;
  config->auth = MR_SMTP_AUTH_NONE;
  config->timeout_connect_ms = 3000;
  config->timeout_greeting_ms = 3000;
  config->timeout_command_ms = 3000;
  config->timeout_data_ms = 3000;
  return config;
}

/* A login with a password, on the connection plain_config() describes. */
static MrSmtpConfig *
plain_login_config (guint16 port)
{
  MrSmtpConfig *config = plain_config (port);

  config->auth = MR_SMTP_AUTH_PASSWORD;
  config->username = g_strdup ("tim");
  config->secret = g_strdup (SERVER_PASSWORD);
  return config;
}

static MrSmtpConfig *
tls_config (guint16         port,
            MrSmtpSecurity  security,
            const char     *mechanism_user)
{
  MrSmtpConfig *config = plain_config (port);

  g_free (config->host);
  config->host = g_strdup ("localhost");
  config->security = security;
  config->auth = MR_SMTP_AUTH_PASSWORD;
  config->username = g_strdup (mechanism_user);
  config->secret = g_strdup (SERVER_PASSWORD);
  config->trust_file = mr_test_cert_path ("ca.pem");
  return config;
}

static MrTestServer *
starttls_server (const char *cert,
                 ...)
{
  g_autofree char *pem = g_strdup_printf ("%s/%s.pem", mr_test_certs_dir (), cert);
  g_autofree char *key = g_strdup_printf ("%s/%s.key", mr_test_certs_dir (), cert);

  return mr_test_server_start ("smtp-server.py", "--mode", "starttls", "--cert", pem, "--key", key,
                               "--user", "tim:" SERVER_PASSWORD, "--token", "tim:good-token", "--auth-required",
                               NULL);
}

static GBytes *
simple_message (const char *extra_body)
{
  g_autofree char *text = g_strdup_printf ("From: office@example.com\r\nTo: ann@example.org\r\n"
                                           "Subject: hello\r\nMessage-ID: <1@example.com>\r\n"
                                           "Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\nHello.\r\n%s",
                                           extra_body ? extra_body : "");
  return g_bytes_new (text, strlen (text));
}

static MrSmtpEnvelope *
envelope_to (const char *first,
             ...)
{
  MrSmtpEnvelope *envelope = mr_smtp_envelope_new ("office@example.com");
  va_list args;

  va_start (args, first);
  for (const char *rcpt = first; rcpt != NULL; rcpt = va_arg (args, const char *))
    mr_smtp_envelope_add_recipient (envelope, rcpt);
  va_end (args);
  return envelope;
}

static void
assert_smtp_error_at (const GError *error,
                      int           expected_code,
                      const char   *fragment,
                      const char   *file,
                      int           line)
{
  if (error == NULL)
    g_error ("%s:%d: expected an SMTP error, got success", file, line);
  if (!g_error_matches (error, MR_SMTP_ERROR, expected_code))
    g_error ("%s:%d: expected SMTP error %d, got %s %d: %s", file, line, expected_code,
             g_quark_to_string (error->domain), error->code, error->message);
  if (fragment != NULL && strstr (error->message, fragment) == NULL)
    g_error ("%s:%d: the advice does not say “%s”: %s", file, line, fragment, error->message);
}

#define assert_smtp_error(error, code, fragment) assert_smtp_error_at ((error), (code), (fragment), __FILE__, __LINE__)

static void
assert_not_in_log (MrTestServer *server,
                   const char   *what)
{
  g_autofree char *log = mr_test_server_read_log (server);
  g_autofree char *upper = g_ascii_strup (log, -1);

  if (strstr (upper, what) != NULL)
    g_error ("“%s” crossed the wire:\n%s", what, log);
}

/* ---- Security --------------------------------------------------------------------------------- */

static void
test_starttls_each_mechanism (void)
{
  static const char *mechanisms[] = { "SCRAM-SHA-256", "SCRAM-SHA-1", "CRAM-MD5", "PLAIN", "LOGIN" };

  for (guint m = 0; m < G_N_ELEMENTS (mechanisms); m++)
    {
      g_autoptr(GPtrArray) args = g_ptr_array_new ();
      g_autofree char *pem = mr_test_cert_path ("good.pem");
      g_autofree char *key = mr_test_cert_path ("good.key");
      g_autoptr(MrTestServer) server = NULL;
      g_autoptr(MrSmtpConfig) config = NULL;
      g_autoptr(MrSmtpClient) client = NULL;
      g_autoptr(GError) error = NULL;
      const MrSmtpServerInfo *info;

      /* Offer only this mechanism. */
      server = mr_test_server_start ("smtp-server.py", "--mode", "starttls", "--cert", pem, "--key", key,
                                     "--user", "tim:" SERVER_PASSWORD, "--auth-required",
                                     "--only", mechanisms[m], NULL);
      config = tls_config (server->port, MR_SMTP_SECURITY_STARTTLS, "tim");
      client = mr_smtp_client_new (config);
      if (!mr_smtp_client_connect_sync (client, NULL, &error))
        g_error ("%s: %s\n%s", mechanisms[m], error->message, mr_smtp_client_dup_transcript (client));
      info = mr_smtp_client_get_server_info (client);
      g_assert_cmpstr (info->auth_mechanism, ==, mechanisms[m]);
      g_assert_true (info->tls);
      mr_smtp_client_quit_sync (client, NULL, NULL);

      /* The same with a wrong password: the server checked the proof. */
      {
        g_autoptr(MrSmtpConfig) wrong = tls_config (server->port, MR_SMTP_SECURITY_STARTTLS, "tim");
        g_autoptr(MrSmtpClient) refused = NULL;
        g_autofree char *transcript = NULL;

        g_free (wrong->secret);
        wrong->secret = g_strdup ("wrong password");
        refused = mr_smtp_client_new (wrong);
        g_clear_error (&error);
        g_assert_false (mr_smtp_client_connect_sync (refused, NULL, &error));
        transcript = mr_smtp_client_dup_transcript (refused);
        if (!g_error_matches (error, MR_SMTP_ERROR, MR_SMTP_ERROR_AUTH_FAILED))
          g_error ("%s: %s\n%s", mechanisms[m], error->message, transcript);
        assert_smtp_error (error, MR_SMTP_ERROR_AUTH_FAILED, "password is wrong");
        g_assert_cmpuint (mr_smtp_error_get_reply_code (error), ==, 535);
        g_assert_null (strstr (transcript, "wrong password"));
      }
    }
}

static void
test_implicit_tls_and_transcript (void)
{
  g_autofree char *pem = mr_test_cert_path ("good.pem");
  g_autofree char *key = mr_test_cert_path ("good.key");
  /* PLAIN only, whose initial response carries the password itself. */
  g_autoptr(MrTestServer) server = mr_test_server_start ("smtp-server.py", "--mode", "tls", "--cert", pem, "--key", key,
                                                         "--user", "tim:" SERVER_PASSWORD, "--only", "PLAIN", NULL);
  g_autoptr(MrSmtpConfig) config = tls_config (server->port, MR_SMTP_SECURITY_TLS, "tim");
  g_autoptr(MrSmtpClient) client = mr_smtp_client_new (config);
  g_autoptr(MrSmtpEnvelope) envelope = envelope_to ("ann@example.org", NULL);
  g_autoptr(GBytes) message = simple_message (NULL);
  g_autoptr(MrSmtpSendResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *transcript = NULL;
  g_autofree char *encoded = g_base64_encode ((const guchar *) "\0tim\0" SERVER_PASSWORD, 5 + strlen (SERVER_PASSWORD));

  g_assert_true (mr_smtp_client_connect_sync (client, NULL, &error));
  g_assert_no_error (error);
  g_assert_nonnull (mr_smtp_client_get_server_info (client)->tls_version);
  g_assert_nonnull (mr_smtp_client_get_certificate (client));
  g_assert_null (mr_smtp_client_get_certificate (client)->problems);
  result = mr_smtp_client_send_sync (client, envelope, message, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (result->accepted->len, ==, 1);
  mr_smtp_client_quit_sync (client, NULL, NULL);
  g_assert_cmpuint (mr_test_server_count_messages (server), ==, 1);

  /* The transcript masks the secret, in clear and in base64. */
  transcript = mr_smtp_client_dup_transcript (client);
  g_assert_nonnull (strstr (transcript, "C: AUTH PLAIN ********"));
  g_assert_null (strstr (transcript, SERVER_PASSWORD));
  g_assert_null (strstr (transcript, encoded));
}

static void
expect_untrusted (const char *cert,
                  const char *trust_file,
                  const char *fingerprint,
                  const char *says)
{
  g_autoptr(MrTestServer) server = starttls_server (cert, NULL);
  g_autoptr(MrSmtpConfig) config = tls_config (server->port, MR_SMTP_SECURITY_STARTTLS, "tim");
  g_autoptr(MrSmtpClient) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *transcript = NULL;
  const MrCertificateInfo *certificate;

  g_free (config->trust_file);
  config->trust_file = g_strdup (trust_file);
  config->fingerprint = g_strdup (fingerprint);
  client = mr_smtp_client_new (config);
  g_assert_false (mr_smtp_client_connect_sync (client, NULL, &error));
  assert_smtp_error (error, MR_SMTP_ERROR_TLS_UNTRUSTED, says);
  g_assert_nonnull (strstr (error->message, "SHA-256 fingerprint"));
  g_assert_cmpint (mr_error_get_exit_status (error), ==, 78);
  g_assert_cmpstr (mr_error_get_kind (error), ==, "tls-untrusted");

  certificate = mr_smtp_client_get_certificate (client);
  g_assert_nonnull (certificate);
  g_assert_cmpuint (strlen (certificate->sha256), ==, 95);

  /* Nothing after the failed handshake. */
  transcript = mr_smtp_client_dup_transcript (client);
  g_assert_null (strstr (transcript, "C: AUTH"));
  g_assert_cmpuint (mr_test_server_count_messages (server), ==, 0);
}

static void
test_untrusted_certificates (void)
{
  g_autofree char *ca = mr_test_cert_path ("ca.pem");

  /* The system store does not know the test CA. */
  expect_untrusted ("good", NULL, NULL, "cannot be trusted");
  expect_untrusted ("expired", ca, NULL, "expired");
  expect_untrusted ("wronghost", ca, NULL, "another server name");
  expect_untrusted ("selfsigned", ca, NULL, "not signed by an authority");
  /* A pin that does not match fails even when the authorities vouch for the certificate. */
  expect_untrusted ("good", ca, "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF",
                    "does not match the pinned fingerprint");
}

static void
test_pinned_self_signed (void)
{
  g_autoptr(MrTestServer) server = starttls_server ("selfsigned", NULL);
  g_autoptr(MrSmtpConfig) config = tls_config (server->port, MR_SMTP_SECURITY_STARTTLS, "tim");
  g_autoptr(MrSmtpClient) first = NULL, pinned = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *fingerprint = NULL;

  /* Refused, showing the fingerprint an admin may pin... */
  g_clear_pointer (&config->trust_file, g_free);
  first = mr_smtp_client_new (config);
  g_assert_false (mr_smtp_client_connect_sync (first, NULL, &error));
  assert_smtp_error (error, MR_SMTP_ERROR_TLS_UNTRUSTED, NULL);
  fingerprint = g_strdup (mr_smtp_client_get_certificate (first)->sha256);
  g_assert_nonnull (strstr (error->message, fingerprint));
  g_clear_error (&error);

  /* ...and accepted once it is pinned. */
  config->fingerprint = g_strdup (fingerprint);
  pinned = mr_smtp_client_new (config);
  if (!mr_smtp_client_connect_sync (pinned, NULL, &error))
    g_error ("%s", error->message);
  g_assert_cmpstr (mr_smtp_client_get_server_info (pinned)->auth_mechanism, !=, NULL);
  mr_smtp_client_quit_sync (pinned, NULL, NULL);
}

static void
test_starttls_stripped (void)
{
  g_autoptr(MrTestServer) server = mr_test_server_start ("fault-server.py", "--scenario", "no-starttls", NULL);
  g_autoptr(MrSmtpConfig) config = plain_login_config (server->port);
  g_autoptr(MrSmtpClient) client = NULL;
  g_autoptr(GError) error = NULL;

  config->security = MR_SMTP_SECURITY_STARTTLS;
  client = mr_smtp_client_new (config);
  g_assert_false (mr_smtp_client_connect_sync (client, NULL, &error));
  assert_smtp_error (error, MR_SMTP_ERROR_STARTTLS_MISSING, "does not offer STARTTLS");
  g_assert_cmpint (mr_error_get_exit_status (error), ==, 78);
  assert_not_in_log (server, "AUTH");
  assert_not_in_log (server, "MAIL FROM");
}

/* SCRAM proves the password without sending it, so it is used on an unencrypted connection that
 * allows no cleartext login. */
static void
test_scram_without_tls (void)
{
  static const char *mechanisms[] = { "SCRAM-SHA-256", "SCRAM-SHA-1" };

  for (guint m = 0; m < G_N_ELEMENTS (mechanisms); m++)
    {
      g_autoptr(MrTestServer) server = mr_test_server_start ("smtp-server.py", "--mode", "plain", "--user",
                                                             "tim:" SERVER_PASSWORD, "--auth-required",
                                                             "--only", mechanisms[m], "--only", "PLAIN", NULL);
      g_autoptr(MrSmtpConfig) config = plain_login_config (server->port);
      g_autoptr(MrSmtpClient) client = mr_smtp_client_new (config);
      g_autoptr(GError) error = NULL;

      g_assert_false (config->allow_plaintext_auth);
      if (!mr_smtp_client_connect_sync (client, NULL, &error))
        g_error ("%s: %s\n%s", mechanisms[m], error->message, mr_smtp_client_dup_transcript (client));
      g_assert_cmpstr (mr_smtp_client_get_server_info (client)->auth_mechanism, ==, mechanisms[m]);
      mr_smtp_client_quit_sync (client, NULL, NULL);
    }
}

static void
test_plaintext_auth_refused (void)
{
  g_autoptr(MrTestServer) server = mr_test_server_start ("fault-server.py", "--scenario", "normal", NULL);
  g_autoptr(MrSmtpConfig) config = plain_login_config (server->port);
  g_autoptr(MrSmtpClient) client = NULL, allowed = NULL;
  g_autoptr(GError) error = NULL;

  client = mr_smtp_client_new (config);
  g_assert_false (mr_smtp_client_connect_sync (client, NULL, &error));
  assert_smtp_error (error, MR_SMTP_ERROR_AUTH_INSECURE, "unencrypted");
  assert_not_in_log (server, "AUTH");

  /* Allowed explicitly by the admin, for a trusted network. */
  config->allow_plaintext_auth = TRUE;
  allowed = mr_smtp_client_new (config);
  g_clear_error (&error);
  g_assert_true (mr_smtp_client_connect_sync (allowed, NULL, &error));
  g_assert_no_error (error);
  mr_smtp_client_quit_sync (allowed, NULL, NULL);
}

static void
test_no_usable_mechanism (void)
{
  g_autoptr(MrTestServer) server = mr_test_server_start ("fault-server.py", "--scenario", "normal", NULL);
  g_autoptr(MrSmtpConfig) config = plain_config (server->port);
  g_autoptr(MrSmtpClient) client = NULL;
  g_autoptr(GError) error = NULL;

  /* NTLM is asked for, the server offers PLAIN and LOGIN: never send unauthenticated. */
  config->auth = MR_SMTP_AUTH_NTLM;
  config->username = g_strdup ("DOMAIN\\tim");
  config->secret = g_strdup (SERVER_PASSWORD);
  client = mr_smtp_client_new (config);
  g_assert_false (mr_smtp_client_connect_sync (client, NULL, &error));
  assert_smtp_error (error, MR_SMTP_ERROR_AUTH_UNAVAILABLE, "PLAIN LOGIN");
  assert_not_in_log (server, "MAIL FROM");
}

/* A password login where the server takes only NTLM: the advice names NTLM and says how to choose it. */
static void
test_server_wants_ntlm (void)
{
  g_autoptr(MrTestServer) server = mr_test_server_start ("fault-server.py", "--auth-offer", "NTLM", NULL);
  g_autoptr(MrSmtpConfig) config = plain_login_config (server->port);
  g_autoptr(MrSmtpClient) client = mr_smtp_client_new (config);
  g_autoptr(GError) error = NULL;

  g_assert_false (mr_smtp_client_connect_sync (client, NULL, &error));
  assert_smtp_error (error, MR_SMTP_ERROR_AUTH_UNAVAILABLE, "The server wants a Windows login (NTLM)");
  assert_smtp_error (error, MR_SMTP_ERROR_AUTH_UNAVAILABLE, "set Authentication to “NTLM”");
  g_assert_true (g_str_has_prefix (error->message, "The server wants"));
  assert_not_in_log (server, "AUTH");
}

static void
test_starttls_injection (void)
{
  g_autoptr(MrTestServer) server = mr_test_server_start ("fault-server.py", "--scenario", "starttls-inject", NULL);
  g_autoptr(MrSmtpConfig) config = plain_config (server->port);
  g_autoptr(MrSmtpClient) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *log = NULL;

  config->security = MR_SMTP_SECURITY_STARTTLS;
  client = mr_smtp_client_new (config);
  g_assert_false (mr_smtp_client_connect_sync (client, NULL, &error));
  assert_smtp_error (error, MR_SMTP_ERROR_PROTOCOL, "after agreeing to STARTTLS");
  log = mr_test_server_read_log (server);
  g_assert_true (g_str_has_suffix (log, "STARTTLS\n"));
}

static void
test_xoauth2 (void)
{
  g_autoptr(MrTestServer) server = starttls_server ("good", NULL);
  g_autoptr(MrSmtpConfig) config = tls_config (server->port, MR_SMTP_SECURITY_STARTTLS, "tim");
  g_autoptr(MrSmtpClient) good = NULL, bad = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *transcript = NULL;

  config->auth = MR_SMTP_AUTH_OAUTH2;
  g_free (config->secret);
  config->secret = g_strdup ("good-token");
  good = mr_smtp_client_new (config);
  g_assert_true (mr_smtp_client_connect_sync (good, NULL, &error));
  g_assert_cmpstr (mr_smtp_client_get_server_info (good)->auth_mechanism, ==, "XOAUTH2");
  mr_smtp_client_quit_sync (good, NULL, NULL);

  /* A refused token: 334 with the reason, an empty answer, then the final 535. */
  g_free (config->secret);
  config->secret = g_strdup ("expired-token");
  bad = mr_smtp_client_new (config);
  g_assert_false (mr_smtp_client_connect_sync (bad, NULL, &error));
  assert_smtp_error (error, MR_SMTP_ERROR_AUTH_FAILED, NULL);
  transcript = mr_smtp_client_dup_transcript (bad);
  g_assert_nonnull (strstr (transcript, "S: 334 "));
  g_assert_nonnull (strstr (transcript, "C: \nS: 535"));
  g_assert_null (strstr (transcript, "expired-token"));
}

/* ---- Failures and advice ---------------------------------------------------------------------- */

static void
test_connection_failures (void)
{
  g_autoptr(MrSmtpConfig) config = plain_config (mr_test_closed_port ());
  g_autoptr(MrSmtpClient) client = mr_smtp_client_new (config);
  g_autoptr(GError) error = NULL;

  g_assert_false (mr_smtp_client_connect_sync (client, NULL, &error));
  assert_smtp_error (error, MR_SMTP_ERROR_CONNECT, "the port");
  g_assert_cmpint (mr_smtp_error_get_class (error), ==, MR_SMTP_FAILURE_LOCAL);
  g_assert_cmpint (mr_error_get_exit_status (error), ==, 69);
  g_assert_cmpstr (mr_error_get_kind (error), ==, "connect-failed");
}

static void
test_greeting_421 (void)
{
  g_autoptr(MrTestServer) server = mr_test_server_start ("fault-server.py", "--scenario", "greeting-421", NULL);
  g_autoptr(MrSmtpConfig) config = plain_config (server->port);
  g_autoptr(MrSmtpClient) client = mr_smtp_client_new (config);
  g_autoptr(GError) error = NULL;

  g_assert_false (mr_smtp_client_connect_sync (client, NULL, &error));
  assert_smtp_error (error, MR_SMTP_ERROR_TEMPORARY, "busy");
  g_assert_cmpuint (mr_smtp_error_get_reply_code (error), ==, 421);
  g_assert_cmpstr (mr_smtp_error_get_enhanced_code (error), ==, "4.3.2");
  g_assert_cmpint (mr_smtp_error_get_class (error), ==, MR_SMTP_FAILURE_TRANSIENT);
  g_assert_cmpint (mr_error_get_exit_status (error), ==, 75);
}

static void
test_timeout (void)
{
  g_autoptr(MrTestServer) server = mr_test_server_start ("fault-server.py", "--scenario", "no-answer", NULL);
  g_autoptr(MrSmtpConfig) config = plain_config (server->port);
  g_autoptr(MrSmtpClient) client = NULL;
  g_autoptr(GError) error = NULL;
  gint64 start;

  config->timeout_greeting_ms = 300;
  client = mr_smtp_client_new (config);
  start = g_get_monotonic_time ();
  g_assert_false (mr_smtp_client_connect_sync (client, NULL, &error));
  assert_smtp_error (error, MR_SMTP_ERROR_TIMEOUT, "stopped answering");
  assert_smtp_error (error, MR_SMTP_ERROR_TIMEOUT, "within 300 ms (the greeting timeout)");
  g_assert_cmpint (g_get_monotonic_time () - start, <, 2 * G_USEC_PER_SEC);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 290 * 1000);
}

/* RFC 5321 4.5.3.2.1: the greeting may take 5 minutes, and the connect timeout is over once TCP is
 * up (Postfix's "sleep" restriction delays it on purpose; msmtp waits for it). */
static void
test_greeting_has_its_own_wait (void)
{
  g_autoptr(MrTestServer) server = mr_test_server_start ("fault-server.py", "--greeting-delay-ms", "1600", NULL);
  g_autoptr(MrSmtpConfig) config = plain_config (server->port);
  g_autoptr(GError) error = NULL;

  config->timeout_connect_ms = 400;
  config->timeout_command_ms = 400;
  {
    g_autoptr(MrSmtpClient) client = mr_smtp_client_new (config);

    g_assert_true (mr_smtp_client_connect_sync (client, NULL, &error));
    g_assert_no_error (error);
    g_assert_true (mr_smtp_client_quit_sync (client, NULL, &error));
  }

  /* A greeting timeout shorter than the delay expires, and says it was that one. */
  config->timeout_greeting_ms = 500;
  config->timeout_connect_ms = 20000;
  config->timeout_command_ms = 300000;
  {
    g_autoptr(MrSmtpClient) client = mr_smtp_client_new (config);
    gint64 start = g_get_monotonic_time ();

    g_assert_false (mr_smtp_client_connect_sync (client, NULL, &error));
    assert_smtp_error (error, MR_SMTP_ERROR_TIMEOUT, "did not greet within 500 ms (the greeting timeout)");
    g_assert_null (strstr (error->message, "300000"));
    g_assert_null (strstr (error->message, "20000"));
    g_assert_cmpint (g_get_monotonic_time () - start, <, 1500 * 1000);
  }
}

/* A reply that does not come names the reply timeout, not another. */
static void
test_reply_timeout_named (void)
{
  g_autoptr(MrTestServer) server = mr_test_server_start ("fault-server.py", "--scenario", "slow-ehlo", "--delay-ms", "5000", NULL);
  g_autoptr(MrSmtpConfig) config = plain_config (server->port);
  g_autoptr(MrSmtpClient) client = NULL;
  g_autoptr(GError) error = NULL;

  config->timeout_command_ms = 350;
  config->timeout_connect_ms = 7000;
  client = mr_smtp_client_new (config);
  g_assert_false (mr_smtp_client_connect_sync (client, NULL, &error));
  assert_smtp_error (error, MR_SMTP_ERROR_TIMEOUT, "No answer from 127.0.0.1 within 350 ms (the reply timeout)");
}

/* From the thread that waits for the client (the window's main loop, say): the cancel. */
static gpointer
cancel_soon (gpointer cancellable)
{
  g_usleep (200 * 1000);
  g_cancellable_cancel (cancellable);
  return NULL;
}

/* A cancel from another thread ends a wait for the server at once, not at its timeout. */
static void
test_cancel_slow_reply (void)
{
  g_autoptr(MrTestServer) server = mr_test_server_start ("fault-server.py", "--scenario", "slow-ehlo", "--delay-ms", "5000", NULL);
  g_autoptr(MrSmtpConfig) config = plain_config (server->port);
  g_autoptr(MrSmtpClient) client = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  GThread *canceller;
  gint64 start;

  config->timeout_command_ms = 10000;
  client = mr_smtp_client_new (config);
  start = g_get_monotonic_time ();
  canceller = g_thread_new ("cancel", cancel_soon, cancellable);
  g_assert_false (mr_smtp_client_connect_sync (client, cancellable, &error));
  g_thread_join (canceller);

  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 1500 * 1000);
}

static void
test_broken_servers (void)
{
  static const struct { const char *scenario; MrSmtpErrorCode code; } cases[] = {
    { "malformed", MR_SMTP_ERROR_PROTOCOL },
    { "changing-multiline", MR_SMTP_ERROR_PROTOCOL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(MrTestServer) server = mr_test_server_start ("fault-server.py", "--scenario", cases[i].scenario, NULL);
      g_autoptr(MrSmtpConfig) config = plain_config (server->port);
      g_autoptr(MrSmtpClient) client = mr_smtp_client_new (config);
      g_autoptr(GError) error = NULL;

      g_assert_false (mr_smtp_client_connect_sync (client, NULL, &error));
      assert_smtp_error (error, cases[i].code, "breaks the mail protocol");
    }
}

/* A hostile server cannot make the client grow without bound or think for long: a reply of endless
 * 250- lines is refused at a line limit, and 60,000 AUTH mechanisms are read in linear time. */
static void
test_hostile_replies_bounded (void)
{
  {
    g_autoptr(MrTestServer) server = mr_test_server_start ("fault-server.py", "--scenario", "endless-multiline", NULL);
    g_autoptr(MrSmtpConfig) config = plain_config (server->port);
    g_autoptr(MrSmtpClient) client = mr_smtp_client_new (config);
    g_autoptr(GError) error = NULL;
    gint64 start = g_get_monotonic_time ();

    g_assert_false (mr_smtp_client_connect_sync (client, NULL, &error));
    assert_smtp_error (error, MR_SMTP_ERROR_PROTOCOL, "far too long");
    g_assert_cmpint (g_get_monotonic_time () - start, <, 2 * G_USEC_PER_SEC);
  }
  {
    g_autoptr(MrTestServer) server = mr_test_server_start ("fault-server.py", "--scenario", "many-auth", NULL);
    g_autoptr(MrSmtpConfig) config = plain_config (server->port);
    g_autoptr(MrSmtpClient) client = mr_smtp_client_new (config);
    g_autoptr(GError) error = NULL;
    const MrSmtpServerInfo *info;
    gint64 start = g_get_monotonic_time ();

    g_assert_true (mr_smtp_client_connect_sync (client, NULL, &error));
    g_assert_no_error (error);
    g_assert_cmpint (g_get_monotonic_time () - start, <, 3 * G_USEC_PER_SEC * MR_TEST_TIME_SCALE);
    info = mr_smtp_client_get_server_info (client);
    g_assert_cmpuint (g_strv_length (info->auth_mechanisms), ==, 60001);
    g_assert_cmpstr (info->auth_mechanisms[0], ==, "X-M0-0");
    g_assert_cmpstr (info->auth_mechanisms[60000], ==, "PLAIN");
  }
}

/* A date in a mail's body is ASCII in every locale: on the 6th, GLib's %c pads the day with
 * U+2007 in the C.UTF-8 locale the tests run in. */
static void
test_body_date_ascii (void)
{
  g_autoptr(GTimeZone) zone = g_time_zone_new_offset (3600);
  g_autoptr(GDateTime) when = g_date_time_new (zone, 2026, 12, 6, 9, 5, 0);
  g_autoptr(GTimeZone) west = g_time_zone_new_offset (-(5 * 3600 + 1800));
  g_autoptr(GDateTime) there = g_date_time_new (west, 2026, 1, 31, 23, 59, 0);
  g_autofree char *text = mr_format_body_date (when);
  g_autofree char *text_west = mr_format_body_date (there);

  g_assert_cmpstr (text, ==, "2026-12-06 09:05 +0100");
  g_assert_cmpstr (text_west, ==, "2026-01-31 23:59 -0530");
}

static void
test_dropped_in_data (void)
{
  g_autoptr(MrTestServer) server = mr_test_server_start ("fault-server.py", "--scenario", "drop-in-data", NULL);
  g_autoptr(MrSmtpConfig) config = plain_config (server->port);
  g_autoptr(MrSmtpClient) client = mr_smtp_client_new (config);
  g_autoptr(MrSmtpEnvelope) envelope = envelope_to ("ann@example.org", NULL);
  g_autofree char *big = g_strnfill (200000, 'x');
  g_autofree char *lines = NULL;
  g_autoptr(GBytes) message = NULL;
  g_autoptr(GError) error = NULL;

  /* Enough data that the server hangs up in the middle of it. */
  {
    GString *body = g_string_new (NULL);
    for (guint i = 0; i < 2000; i++)
      g_string_append_printf (body, "%.*s\r\n", 100, big);
    lines = g_string_free (body, FALSE);
  }
  message = simple_message (lines);
  g_assert_true (mr_smtp_client_connect_sync (client, NULL, &error));
  g_assert_null (mr_smtp_client_send_sync (client, envelope, message, NULL, &error));
  assert_smtp_error (error, MR_SMTP_ERROR_CONNECTION_LOST, "closed the connection");
  g_assert_cmpint (mr_smtp_error_get_class (error), ==, MR_SMTP_FAILURE_TRANSIENT);
}

static void
test_recipient_replies (void)
{
  for (guint pipelining = 0; pipelining < 2; pipelining++)
    {
      g_autoptr(MrTestServer) server = mr_test_server_start ("fault-server.py", "--scenario", "normal",
                                                             "--rcpt-temp", "later", "--rcpt-perm", "nobody",
                                                             pipelining ? "--size" : "--no-pipelining",
                                                             pipelining ? "100000" : NULL, NULL);
      g_autoptr(MrSmtpConfig) config = plain_config (server->port);
      g_autoptr(MrSmtpClient) client = mr_smtp_client_new (config);
      g_autoptr(MrSmtpEnvelope) some = envelope_to ("ann@example.org", "nobody@example.org", "later@example.org", NULL);
      g_autoptr(MrSmtpEnvelope) none = envelope_to ("nobody@example.org", NULL);
      g_autoptr(MrSmtpEnvelope) temp = envelope_to ("later@example.org", NULL);
      g_autoptr(GBytes) message = simple_message (NULL);
      g_autoptr(MrSmtpSendResult) result = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *transcript = NULL;

      g_assert_true (mr_smtp_client_connect_sync (client, NULL, &error));
      g_assert_cmpint (mr_smtp_client_get_server_info (client)->pipelining, ==, pipelining);

      /* Some refused: the others still get it, and the result says who did not, for good (5xx) or
       * for now (4xx: to try again). */
      result = mr_smtp_client_send_sync (client, some, message, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (result->accepted->len, ==, 1);
      g_assert_cmpuint (result->refused->len, ==, 1);
      g_assert_cmpuint (result->deferred->len, ==, 1);
      g_assert_nonnull (strstr (g_ptr_array_index (result->refused, 0), "nobody@example.org: 550 5.1.1"));
      g_assert_nonnull (strstr (g_ptr_array_index (result->deferred, 0), "later@example.org: 451 4.2.0"));

      /* Everyone refused: no DATA, and the error says why. */
      g_assert_null (mr_smtp_client_send_sync (client, none, message, NULL, &error));
      assert_smtp_error (error, MR_SMTP_ERROR_REJECTED, "does not exist");
      g_clear_error (&error);
      g_assert_null (mr_smtp_client_send_sync (client, temp, message, NULL, &error));
      assert_smtp_error (error, MR_SMTP_ERROR_TEMPORARY, NULL);
      mr_smtp_client_quit_sync (client, NULL, NULL);

      /* One connection, RSET between messages, QUIT at the end. */
      transcript = mr_smtp_client_dup_transcript (client);
      g_assert_nonnull (strstr (transcript, "C: RSET"));
      g_assert_nonnull (strstr (transcript, "C: QUIT"));
      if (pipelining)
        {
          /* The whole group is written before any reply is read. */
          const char *mail = strstr (transcript, "C: MAIL FROM");
          const char *data = strstr (mail, "C: DATA");
          const char *first_reply = strstr (mail, "S: ");
          g_assert_true (data < first_reply);
        }
    }
}

static void
test_reply_advice (void)
{
  static const struct {
    const char *option, *reply;
    MrSmtpErrorCode code;
    const char *says;
  } cases[] = {
    { "--auth-reply", "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.",
      MR_SMTP_ERROR_AUTH_FAILED, "Authenticated SMTP" },
    { "--auth-reply", "535 5.7.3 Authentication unsuccessful", MR_SMTP_ERROR_AUTH_FAILED, "password is wrong" },
    { "--auth-reply", "534 5.7.9 Application-specific password required.", MR_SMTP_ERROR_AUTH_FAILED, "app password" },
    { "--mail-reply", "530 5.7.0 Must issue a STARTTLS command first", MR_SMTP_ERROR_REJECTED, "encrypted connection" },
    { "--mail-reply", "550 5.7.60 SMTP; Client does not have permissions to send as this sender",
      MR_SMTP_ERROR_REJECTED, "Send As" },
    { "--mail-reply", "550 5.7.68 TenantInboundAttribution; Direct Send not allowed for this organization",
      MR_SMTP_ERROR_REJECTED, "connector" },
    { "--mail-reply", "554 5.7.1 <ann@example.org>: Relay access denied", MR_SMTP_ERROR_REJECTED, "pass the mail on" },
    { "--data-reply", "552 5.3.4 Message size exceeds fixed maximum message size", MR_SMTP_ERROR_REJECTED, "larger" },
    { "--mail-reply", "421 4.7.0 Too many messages, slow down", MR_SMTP_ERROR_TEMPORARY, "limiting" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(MrTestServer) server = mr_test_server_start ("fault-server.py", "--scenario", "normal",
                                                             cases[i].option, cases[i].reply, NULL);
      g_autoptr(MrSmtpConfig) config = plain_login_config (server->port);
      g_autoptr(MrSmtpClient) client = NULL;
      g_autoptr(MrSmtpEnvelope) envelope = envelope_to ("ann@example.org", NULL);
      g_autoptr(GBytes) message = simple_message (NULL);
      g_autoptr(MrSmtpSendResult) result = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *code = g_strndup (cases[i].reply, 3);
      g_autofree char *enhanced = g_strndup (cases[i].reply + 4, strchr (cases[i].reply + 4, ' ') - (cases[i].reply + 4));

      config->allow_plaintext_auth = TRUE;
      client = mr_smtp_client_new (config);
      if (mr_smtp_client_connect_sync (client, NULL, &error))
        result = mr_smtp_client_send_sync (client, envelope, message, NULL, &error);
      g_assert_null (result);
      assert_smtp_error (error, cases[i].code, cases[i].says);
      g_assert_cmpuint (mr_smtp_error_get_reply_code (error), ==, g_ascii_strtoull (code, NULL, 10));
      g_assert_cmpstr (mr_smtp_error_get_enhanced_code (error), ==, enhanced);
      g_assert_nonnull (strstr (error->message, cases[i].reply + 4 + strlen (enhanced) + 1));
    }
}

static void
test_size_limit (void)
{
  g_autoptr(MrTestServer) server = mr_test_server_start ("fault-server.py", "--scenario", "normal", "--size", "300", NULL);
  g_autoptr(MrSmtpConfig) config = plain_config (server->port);
  g_autoptr(MrSmtpClient) client = mr_smtp_client_new (config);
  g_autoptr(MrSmtpEnvelope) envelope = envelope_to ("ann@example.org", NULL);
  g_autofree char *filler = g_strnfill (400, 'y');
  g_autoptr(GBytes) message = simple_message (filler);
  g_autoptr(GError) error = NULL;

  g_assert_true (mr_smtp_client_connect_sync (client, NULL, &error));
  g_assert_cmpuint (mr_smtp_client_get_server_info (client)->size_limit, ==, 300);
  g_assert_null (mr_smtp_client_send_sync (client, envelope, message, NULL, &error));
  assert_smtp_error (error, MR_SMTP_ERROR_TOO_BIG, "larger than the server accepts");
  assert_not_in_log (server, "MAIL FROM");
}

static void
test_dsn_and_line_limit (void)
{
  g_autoptr(MrTestServer) server = mr_test_server_start ("fault-server.py", "--scenario", "normal", NULL);
  g_autoptr(MrSmtpConfig) config = plain_config (server->port);
  g_autoptr(MrSmtpClient) client = mr_smtp_client_new (config);
  g_autoptr(MrSmtpEnvelope) envelope = envelope_to ("ann@example.org", NULL);
  g_autoptr(GBytes) message = simple_message (NULL);
  g_autofree char *long_line = g_strnfill (999, 'z');
  g_autoptr(GBytes) too_long = simple_message (long_line);
  g_autoptr(MrSmtpSendResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *log = NULL;

  envelope->dsn_notify = g_strdup ("SUCCESS,FAILURE");
  envelope->dsn_envid = g_strdup ("job-42");
  g_assert_true (mr_smtp_client_connect_sync (client, NULL, &error));
  result = mr_smtp_client_send_sync (client, envelope, message, NULL, &error);
  g_assert_no_error (error);
  log = mr_test_server_read_log (server);
  g_assert_nonnull (strstr (log, "RET=HDRS ENVID=job-42"));
  g_assert_nonnull (strstr (log, "RCPT TO:<ann@example.org> NOTIFY=SUCCESS,FAILURE"));

  /* A line over 998 octets never goes out. */
  g_assert_null (mr_smtp_client_send_sync (client, envelope, too_long, NULL, &error));
  assert_smtp_error (error, MR_SMTP_ERROR_INVALID_MESSAGE, NULL);
  g_assert_cmpint (mr_error_get_exit_status (error), ==, 65);
}

/* ---- Messages that arrive intact -------------------------------------------------------------- */

static void
test_message_round_trip (void)
{
  g_autoptr(MrTestServer) server = starttls_server ("good", NULL);
  g_autoptr(MrSmtpConfig) config = tls_config (server->port, MR_SMTP_SECURITY_STARTTLS, "tim");
  g_autoptr(MrSmtpClient) client = mr_smtp_client_new (config);
  g_autoptr(MrOutgoing) outgoing = mr_outgoing_new ();
  g_autoptr(MrSmtpEnvelope) envelope = NULL;
  g_autoptr(GBytes) message = NULL;
  g_autoptr(MrSmtpSendResult) result = NULL;
  g_autoptr(JsonNode) report = NULL, env = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *long_line = g_strnfill (5000, 'L');
  g_autofree char *body = g_strdup_printf ("First line\n.a line that starts with a dot\n..two dots\n%s\nÄrger über Öl — ünïcödé\n.\nend\n",
                                           long_line);
  g_autofree char *message_id = NULL;
  JsonObject *r;
  JsonArray *rcpts;
  const char *text;
  g_autofree char *normalized = NULL;

  outgoing->from_name = g_strdup ("Jürgen Müller, Büro");
  outgoing->from_address = g_strdup ("office@example.com");
  outgoing->reply_to = g_strdup ("replies@example.com");
  g_ptr_array_add (outgoing->to, g_strdup ("ann@example.org"));
  g_ptr_array_add (outgoing->cc, g_strdup ("bob@example.org"));
  g_ptr_array_add (outgoing->bcc, g_strdup ("hidden@example.org"));
  g_ptr_array_add (outgoing->copy_to, g_strdup ("archive@example.com"));
  outgoing->subject = g_strdup ("Grüße aus dem Büro: Rechnung №42 — fällig");
  outgoing->text_body = g_strdup (body);

  message = mr_outgoing_build (outgoing, &message_id, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_suffix (message_id, "@example.com"));
  envelope = mr_outgoing_get_envelope (outgoing);

  g_assert_true (mr_smtp_client_connect_sync (client, NULL, &error));
  result = mr_smtp_client_send_sync (client, envelope, message, NULL, &error);
  g_assert_no_error (error);
  mr_smtp_client_quit_sync (client, NULL, NULL);

  report = mr_test_server_parse_message (server, 1);
  r = json_node_get_object (report);
  if (json_array_get_length (json_object_get_array_member (r, "defects")) != 0)
    g_error ("defects: %s", json_to_string (report, TRUE));
  g_assert_cmpint (json_object_get_int_member (r, "longest_line"), <=, 998);
  g_assert_false (json_object_get_boolean_member (r, "bare_lf"));
  g_assert_cmpstr (json_object_get_string_member (r, "subject"), ==, "Grüße aus dem Büro: Rechnung №42 — fällig");
  g_assert_cmpstr (json_object_get_string_member (r, "from_display"), ==, "Jürgen Müller, Büro");
  g_assert_cmpstr (json_object_get_string_member (r, "reply_to"), ==, "replies@example.com");
  g_assert_false (json_object_get_boolean_member (r, "has_bcc"));
  g_assert_nonnull (json_object_get_string_member (r, "date"));
  g_assert_nonnull (strstr (json_object_get_string_member (r, "message_id"), "@example.com>"));

  /* The body, with its dots and its 5,000-character line, arrives intact. */
  text = json_object_get_string_member (json_array_get_object_element (json_object_get_array_member (r, "parts"), 0), "text");
  normalized = g_strdup (text);
  {
    /* The email package gives CRLF back as it came; compare line ends as LF. */
    g_auto(GStrv) parts = g_strsplit (normalized, "\r\n", -1);
    g_free (normalized);
    normalized = g_strjoinv ("\n", parts);
  }
  g_assert_cmpstr (normalized, ==, body);

  /* Bcc and the copy address are envelope recipients, and nowhere in the headers. */
  env = mr_test_server_read_envelope (server, 1);
  rcpts = json_object_get_array_member (json_node_get_object (env), "rcpt_tos");
  g_assert_cmpuint (json_array_get_length (rcpts), ==, 4);
  g_assert_cmpstr (json_array_get_string_element (rcpts, 2), ==, "hidden@example.org");
  g_assert_cmpstr (json_array_get_string_element (rcpts, 3), ==, "archive@example.com");
  {
    g_autofree char *path = g_build_filename (server->maildir, "1.eml", NULL);
    g_autofree char *raw = mr_test_read_file (path);
    g_assert_null (strstr (raw, "hidden@example.org"));
    g_assert_null (strstr (raw, "archive@example.com"));
  }
}

static void
test_header_injection_refused (void)
{
  g_autoptr(MrOutgoing) outgoing = mr_outgoing_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) message = NULL;

  outgoing->from_address = g_strdup ("office@example.com");
  g_ptr_array_add (outgoing->to, g_strdup ("ann@example.org"));
  outgoing->subject = g_strdup ("Hello\r\nBcc: everyone@example.org");
  message = mr_outgoing_build (outgoing, NULL, &error);
  g_assert_null (message);
  g_assert_error (error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_INVALID_VALUE);
  g_clear_error (&error);

  g_free (outgoing->subject);
  outgoing->subject = g_strdup ("Hello");
  g_ptr_array_add (outgoing->to, g_strdup ("x@example.org>, <victim@example.org"));
  g_assert_null (mr_outgoing_build (outgoing, NULL, &error));
  g_assert_error (error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_INVALID_VALUE);
}

static void
test_smtputf8_only_when_needed (void)
{
  g_autoptr(MrTestServer) server = starttls_server ("good", NULL);
  g_autoptr(MrSmtpConfig) config = tls_config (server->port, MR_SMTP_SECURITY_STARTTLS, "tim");
  g_autoptr(MrSmtpClient) client = mr_smtp_client_new (config);
  g_autoptr(MrSmtpEnvelope) ascii = envelope_to ("ann@example.org", NULL);
  g_autoptr(MrSmtpEnvelope) utf8 = envelope_to ("jürgen@bücher.example", NULL);
  g_autoptr(GBytes) message = simple_message (NULL);
  g_autoptr(MrSmtpSendResult) r1 = NULL, r2 = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) e1 = NULL, e2 = NULL;

  g_assert_true (mr_smtp_client_connect_sync (client, NULL, &error));
  r1 = mr_smtp_client_send_sync (client, ascii, message, NULL, &error);
  g_assert_no_error (error);
  r2 = mr_smtp_client_send_sync (client, utf8, message, NULL, &error);
  g_assert_no_error (error);
  e1 = mr_test_server_read_envelope (server, 1);
  e2 = mr_test_server_read_envelope (server, 2);
  g_assert_false (json_object_get_boolean_member (json_node_get_object (e1), "smtp_utf8"));
  g_assert_true (json_object_get_boolean_member (json_node_get_object (e2), "smtp_utf8"));
}

/* ---- Delivery from the settings, sendmail, and the CLI ---------------------------------------- */


static void
test_sendmail (MrTestDirs    *dirs,
               gconstpointer  data)
{
  g_autofree char *script = g_build_filename (dirs->root, "fake-sendmail", NULL);
  g_autofree char *args_file = g_build_filename (dirs->root, "args", NULL);
  g_autofree char *input_file = g_build_filename (dirs->root, "input", NULL);
  g_autofree char *status_file = g_build_filename (dirs->root, "status", NULL);
  g_autofree char *says_file = g_build_filename (dirs->root, "says", NULL);
  /* What it answers is in files, not in the environment: setenv() is unsafe once threads run. */
  g_autofree char *contents = g_strdup_printf ("#!/bin/sh\nprintf '%%s\\n' \"$@\" > '%s'\ncat > '%s'\n"
                                               "cat '%s' >&2 2>/dev/null\nexit $(cat '%s' 2>/dev/null || echo 0)\n",
                                               args_file, input_file, says_file, status_file);
  g_autoptr(MrSettings) settings = mr_settings_new (NULL, NULL);
  g_autoptr(MrTransport) transport = NULL;
  g_autoptr(MrTransportResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *args = NULL;
  g_autofree char *input = NULL;

  mr_test_write_file (script, contents);
  g_chmod (script, 0755);
  g_assert_true (mr_settings_load (settings, NULL));
  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "delivery.mode", "sendmail");
  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "delivery.sendmail_path", script);
  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "sender.from_address", "office@example.com");
  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "sender.copy_to", "archive@example.com");

  transport = mr_smtp_transport_new_for_settings (settings, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (mr_transport_get_name (transport), ==, "sendmail");
  g_assert_true (mr_transport_check_sync (transport, NULL, &error));
  result = mr_test_send_test_email (transport, settings, "ann@example.org", &error);
  g_assert_no_error (error);
  g_assert_nonnull (result);

  /* The envelope on the command line, never -t. */
  args = mr_test_read_file (args_file);
  g_assert_cmpstr (args, ==, "-i\n-f\noffice@example.com\n--\nann@example.org\narchive@example.com\n");
  input = mr_test_read_file (input_file);
  g_assert_nonnull (strstr (input, "To: ann@example.org"));
  /* The test message is plain ASCII, whatever the date and locale: no UTF-8 from a date's padding. */
  for (const char *p = input; *p; p++)
    if ((guchar) *p >= 0x80)
      g_error ("The test message is not ASCII at “%.40s”", p);
  g_assert_null (strstr (input, "quoted-printable"));
  g_assert_null (strstr (input, "archive@example.com"));

  /* EX_TEMPFAIL is a temporary failure; anything else says what the program said. */
  mr_test_write_file (status_file, "75\n");
  g_assert_null (mr_test_send_test_email (transport, settings, "ann@example.org", &error));
  assert_smtp_error (error, MR_SMTP_ERROR_TEMPORARY, NULL);
  g_clear_error (&error);
  mr_test_write_file (status_file, "1\n");
  mr_test_write_file (says_file, "mail queue full\n");
  g_assert_null (mr_test_send_test_email (transport, settings, "ann@example.org", &error));
  assert_smtp_error (error, MR_SMTP_ERROR_SENDMAIL, "mail queue full");
}

static void
test_delivery_from_settings (MrTestDirs    *dirs,
                             gconstpointer  data)
{
  g_autoptr(MrTestServer) server = starttls_server ("good", NULL);
  g_autoptr(MrSettings) settings = mr_settings_new (NULL, NULL);
  g_autoptr(MrDelivery) delivery = NULL;
  g_autoptr(MrDelivery) unverified = NULL;
  g_autoptr(MrTransport) transport = NULL;
  g_autoptr(MrTransportResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *port = g_strdup_printf ("%u", server->port);
  g_autofree char *ca = mr_test_cert_path ("ca.pem");
  g_autoptr(JsonNode) env = NULL;

  g_assert_true (mr_settings_load (settings, NULL));
  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "smtp.host", "localhost");
  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "smtp.port", port);
  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "smtp.username", "tim");
  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "smtp.tls_trust_file", ca);
  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "sender.from_address", "office@example.com");
  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "sender.send_as_user", "true");
  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "smtp.timeout_command_ms", "5000");
  mr_test_set_ok (settings, MR_SCOPE_USER, "user.email", "ann@example.com");
  mr_test_set_ok (settings, MR_SCOPE_USER, "user.name", "Ann Example");

  delivery = mr_delivery_new (settings, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mr_delivery_get_config (delivery)->timeout_command_ms, ==, 5000);
  transport = mr_smtp_transport_new_for_settings (settings, NULL, SERVER_PASSWORD, &error);
  g_assert_no_error (error);
  result = mr_test_send_test_email (transport, settings, "bob@example.org", &error);
  g_assert_no_error (error);
  g_assert_nonnull (result);

  /* send_as_user: the person's own address. */
  env = mr_test_server_read_envelope (server, 1);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (env), "mail_from"), ==, "ann@example.com");
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (env), "login"), ==, "tim");

  /* A user address outside the verified domains is refused at send time. */
  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "domains.verified", "[\"example.com\"]");
  mr_test_set_ok (settings, MR_SCOPE_USER, "user.email", "ann@private.example");
  unverified = mr_delivery_new (settings, NULL, &error);
  g_assert_null (unverified);
  g_assert_error (error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_INVALID_VALUE);
  g_assert_nonnull (strstr (error->message, "private.example"));
}

typedef struct {
  int        status;
  char      *out;
  char      *err;
  JsonNode  *json;
} Cli;

static void
cli_free (Cli *cli)
{
  g_free (cli->out);
  g_free (cli->err);
  g_clear_pointer (&cli->json, json_node_unref);
  g_free (cli);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Cli, cli_free)

static Cli *
run_cli (const char *first,
         ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  Cli *cli = g_new0 (Cli, 1);
  va_list args;

  g_ptr_array_add (argv, (gpointer) g_getenv ("MAILROOM_CLI"));
  va_start (args, first);
  for (const char *arg = first; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);
  g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_STDIN_FROM_DEV_NULL, NULL, NULL, &cli->out, &cli->err,
                &cli->status, &error);
  g_assert_no_error (error);
  cli->status = WIFEXITED (cli->status) ? WEXITSTATUS (cli->status) : -1;
  cli->json = json_from_string (cli->out, NULL);
  return cli;
}

static const char *
cli_kind (Cli *cli)
{
  if (cli->json == NULL)
    g_error ("No JSON: %s / %s", cli->out, cli->err);
  return json_object_get_string_member (json_object_get_object_member (json_node_get_object (cli->json), "error"), "kind");
}

static void
test_cli_check_and_test_email (MrTestDirs    *dirs,
                               gconstpointer  data)
{
  /* A login no other test uses: the suite shares one keyring. */
  g_autofree char *login = g_strdup_printf ("cli-%d-%u", (int) getpid (), g_random_int ());
  g_autofree char *user_arg = g_strdup_printf ("%s:%s", login, SERVER_PASSWORD);
  g_autofree char *pem = mr_test_cert_path ("good.pem");
  g_autofree char *key = mr_test_cert_path ("good.key");
  g_autoptr(MrTestServer) server = mr_test_server_start ("smtp-server.py", "--mode", "starttls", "--cert", pem,
                                                         "--key", key, "--user", user_arg, "--auth-required", NULL);
  g_autoptr(MrTestServer) stripped = mr_test_server_start ("fault-server.py", "--scenario", "no-starttls", NULL);
  g_autofree char *port = g_strdup_printf ("%u", server->port);
  g_autofree char *stripped_port = g_strdup_printf ("%u", stripped->port);
  g_autofree char *closed_port = g_strdup_printf ("%u", mr_test_closed_port ());
  g_autofree char *ca = mr_test_cert_path ("ca.pem");
  g_autoptr(Cli) c1 = NULL, c2 = NULL, c3 = NULL, c4 = NULL, c5 = NULL, check = NULL, sent = NULL, verbose = NULL;
  g_autoptr(Cli) wrong = NULL, untrusted = NULL, starttls = NULL, refused = NULL, missing = NULL, usage = NULL;
  JsonObject *info;
  const char *password_file;

  if (!mr_test_require_keyring ())
    return;

  c1 = run_cli ("company", "set", "smtp.host", "localhost", NULL);
  c2 = run_cli ("company", "set", "smtp.port", port, NULL);
  c3 = run_cli ("company", "set", "smtp.username", login, NULL);
  c4 = run_cli ("company", "set", "smtp.tls_trust_file", ca, NULL);
  c5 = run_cli ("company", "set", "sender.from_address", "office@example.com", NULL);
  g_assert_cmpint (c5->status, ==, 0);

  /* No password in the keyring yet: a clear error, not a hang. */
  missing = run_cli ("--json", "check", NULL);
  g_assert_cmpint (missing->status, ==, 78);
  g_assert_cmpstr (cli_kind (missing), ==, "password-missing");

  {
    g_autofree char *store = g_strdup_printf ("sh -c 'printf \"%%s\\n\" \"%s\" | \"%s\" company password --stdin'",
                                              SERVER_PASSWORD, g_getenv ("MAILROOM_CLI"));
    int status = 0;
    g_spawn_command_line_sync (store, NULL, NULL, &status, NULL);
    g_assert_cmpint (status, ==, 0);
  }

  check = run_cli ("check", "--json", NULL);
  if (check->status != 0)
    g_error ("check failed: %s %s", check->out, check->err);
  info = json_node_get_object (check->json);
  g_assert_nonnull (json_object_get_string_member (json_object_get_object_member (info, "tls"), "version"));
  g_assert_cmpuint (strlen (json_object_get_string_member (json_object_get_object_member (info, "certificate"), "sha256")), ==, 95);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (info, "login"), "user"), ==, login);
  g_assert_cmpint (json_object_get_int_member (info, "size_limit"), >, 0);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (info, "auth_mechanisms")), >=, 2);

  sent = run_cli ("test-email", "--to", "ann@example.org", "--json", NULL);
  g_assert_cmpint (sent->status, ==, 0);
  g_assert_cmpuint (mr_test_server_count_messages (server), ==, 1);
  verbose = run_cli ("test-email", "--to", "ann@example.org", "--verbose", NULL);
  g_assert_cmpint (verbose->status, ==, 0);
  g_assert_nonnull (strstr (verbose->err, "C: AUTH "));
  g_assert_null (strstr (verbose->err, SERVER_PASSWORD));

  /* Wrong password: 77. */
  {
    int status = 0;
    g_autofree char *store = g_strdup_printf ("sh -c 'echo wrong | \"%s\" company password --stdin'", g_getenv ("MAILROOM_CLI"));
    g_spawn_command_line_sync (store, NULL, NULL, &status, NULL);
  }
  wrong = run_cli ("--json", "test-email", "--to", "ann@example.org", NULL);
  g_assert_cmpint (wrong->status, ==, 77);
  g_assert_cmpstr (cli_kind (wrong), ==, "auth-failed");

  /* Untrusted certificate: 78. */
  {
    g_autoptr(Cli) unset = run_cli ("company", "unset", "smtp.tls_trust_file", NULL);
    untrusted = run_cli ("--json", "check", NULL);
    g_assert_cmpint (untrusted->status, ==, 78);
    g_assert_cmpstr (cli_kind (untrusted), ==, "tls-untrusted");
  }

  /* A server that strips STARTTLS: 78, and no AUTH crossed. */
  {
    g_autoptr(Cli) p = run_cli ("company", "set", "smtp.port", stripped_port, NULL);
    starttls = run_cli ("--json", "test-email", "--to", "ann@example.org", NULL);
    g_assert_cmpint (starttls->status, ==, 78);
    g_assert_cmpstr (cli_kind (starttls), ==, "starttls-missing");
    assert_not_in_log (stripped, "AUTH");
  }

  /* Nothing listening: 69. */
  {
    g_autoptr(Cli) p = run_cli ("company", "set", "smtp.port", closed_port, NULL);
    refused = run_cli ("--json", "check", NULL);
    g_assert_cmpint (refused->status, ==, 69);
    g_assert_cmpstr (cli_kind (refused), ==, "connect-failed");
  }

  usage = run_cli ("test-email", NULL);
  g_assert_cmpint (usage->status, ==, 64);
  password_file = NULL;
  (void) password_file;
}

static void
test_plain_without_login (void)
{
  g_autoptr(MrTestServer) server = mr_test_server_start ("smtp-server.py", "--mode", "plain", NULL);
  g_autoptr(MrSmtpConfig) config = plain_config (server->port);
  g_autoptr(MrSmtpClient) client = mr_smtp_client_new (config);
  g_autoptr(MrSmtpEnvelope) envelope = envelope_to ("ann@example.org", NULL);
  g_autoptr(GBytes) message = simple_message (NULL);
  g_autoptr(MrSmtpSendResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *transcript = NULL;

  /* auth = none: no AUTH at all, on an unencrypted connection to a relay that takes it. */
  g_assert_true (mr_smtp_client_connect_sync (client, NULL, &error));
  g_assert_no_error (error);
  result = mr_smtp_client_send_sync (client, envelope, message, NULL, &error);
  g_assert_no_error (error);
  mr_smtp_client_quit_sync (client, NULL, NULL);
  g_assert_cmpuint (mr_test_server_count_messages (server), ==, 1);
  transcript = mr_smtp_client_dup_transcript (client);
  g_assert_null (strstr (transcript, "C: AUTH"));
  g_assert_false (mr_smtp_client_get_server_info (client)->tls);
}

/* A gated send: the gate runs once, when the server has the envelope and is ready for the message,
 * before the message goes; a gate that says no leaves the server without the message; a send that fails before never
 * asks it. */
typedef struct {
  MrSmtpClient *client;
  gsize         from;      /* the transcript up to this send */
  guint         calls;
  gboolean      verdict;
} GateCheck;

static void
gate_check_start (GateCheck *check)
{
  g_autofree char *transcript = mr_smtp_client_dup_transcript (check->client);

  check->from = strlen (transcript);
}

static gboolean
check_gate (gpointer data)
{
  GateCheck *check = data;
  g_autofree char *all = mr_smtp_client_dup_transcript (check->client);
  const char *transcript = all + check->from;

  check->calls++;
  /* DATA was answered, and the message not yet sent, nor its end. */
  g_assert_nonnull (strstr (transcript, "S: 354"));
  g_assert_null (strstr (transcript, "C: <message:"));
  g_assert_null (strstr (transcript, "C: .\n"));
  g_assert_null (strstr (transcript, "OK queued"));
  return check->verdict;
}

static guint
count_ends (MrTestServer *server)
{
  g_autofree char *log = mr_test_server_read_log (server);
  g_auto(GStrv) lines = g_strsplit (log, "\n", -1);
  guint ends = 0;

  for (guint i = 0; lines[i] != NULL; i++)
    ends += g_str_equal (g_strchomp (lines[i]), "<end of data>");
  return ends;
}

static void
test_gated_send (void)
{
  for (guint pipelining = 0; pipelining < 2; pipelining++)
    {
      g_autoptr(MrTestServer) server = mr_test_server_start ("fault-server.py", "--scenario", "normal", "--rcpt-perm", "nobody",
                                                             pipelining ? NULL : "--no-pipelining", NULL);
      g_autoptr(MrSmtpConfig) config = plain_config (server->port);
      g_autoptr(MrSmtpClient) client = mr_smtp_client_new (config);
      g_autoptr(MrSmtpEnvelope) envelope = envelope_to ("ann@example.org", NULL);
      g_autoptr(MrSmtpEnvelope) refused = envelope_to ("nobody@example.org", NULL);
      g_autoptr(GBytes) message = simple_message (NULL);
      g_autoptr(MrSmtpSendResult) result = NULL;
      g_autoptr(GError) error = NULL;
      GateCheck check = { client, 0, 0, TRUE };
      guint ends;

      g_assert_true (mr_smtp_client_connect_sync (client, NULL, &error));
      gate_check_start (&check);
      result = mr_smtp_client_send_gated_sync (client, envelope, message, check_gate, &check, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (check.calls, ==, 1);
      g_assert_cmpuint (count_ends (server), ==, 1);
      g_clear_pointer (&result, mr_smtp_send_result_free);

      /* Refused before the message: the gate is not asked, the connection stays up. */
      g_assert_null (mr_smtp_client_send_gated_sync (client, refused, message, check_gate, &check, NULL, &error));
      assert_smtp_error (error, MR_SMTP_ERROR_REJECTED, NULL);
      g_clear_error (&error);
      g_assert_cmpuint (check.calls, ==, 1);
      g_assert_true (mr_smtp_client_is_connected (client));

      /* Held back: the connection closes before the end, and the server never gets it. (A pipelining
       * server said 354 to the refused one, which got an empty end.) */
      ends = count_ends (server);
      check.verdict = FALSE;
      gate_check_start (&check);
      g_assert_null (mr_smtp_client_send_gated_sync (client, envelope, message, check_gate, &check, NULL, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_clear_error (&error);
      g_assert_cmpuint (check.calls, ==, 2);
      g_assert_false (mr_smtp_client_is_connected (client));
      g_assert_cmpuint (count_ends (server), ==, ends);
    }
}

/* A recipient's reply in words, the raw reply kept for the details. */
static void
test_reply_in_words (void)
{
  g_autofree char *refused = mr_smtp_reply_in_words ("554 Transaction failed");

  mr_assert_cmpstr_free (mr_smtp_reply_in_words ("250 2.0.0 OK queued as 3"), ==, "Accepted by the server");
  mr_assert_cmpstr_free (mr_smtp_reply_in_words ("550 5.1.1 <bob@example.org>: No such user"), ==,
                         "The server says this recipient does not exist. Check the address for typing errors.");
  mr_assert_cmpstr_free (mr_smtp_reply_in_words ("451 4.7.0 Try again later"), ==,
                         "The server is busy or is limiting how much mail you send. Try again in a few minutes.");
  mr_assert_cmpstr_free (mr_smtp_reply_in_words ("552 5.2.2 Mailbox full"), ==,
                         "The recipient’s mailbox is full. Try again in a few days, or reach them another way.");
  g_assert_nonnull (strstr (refused, "Refused by the server"));
  /* Mailroom's own reasons are words already. */
  g_assert_null (mr_smtp_reply_in_words ("Row 499 has no address in “E-Mail”"));
  g_assert_null (mr_smtp_reply_in_words (NULL));
  g_assert_null (mr_smtp_reply_in_words ("12"));
}

int
main (int    argc,
      char **argv)
{
  mr_test_init (&argc, &argv);

  g_test_add_func ("/smtp/reply-in-words", test_reply_in_words);
  g_test_add_func ("/smtp/gated-send", test_gated_send);
  g_test_add_func ("/smtp/starttls-each-mechanism", test_starttls_each_mechanism);
  g_test_add_func ("/smtp/implicit-tls", test_implicit_tls_and_transcript);
  g_test_add_func ("/smtp/plain-without-login", test_plain_without_login);
  g_test_add_func ("/smtp/untrusted-certificates", test_untrusted_certificates);
  g_test_add_func ("/smtp/pinned-self-signed", test_pinned_self_signed);
  g_test_add_func ("/smtp/starttls-stripped", test_starttls_stripped);
  g_test_add_func ("/smtp/plaintext-auth-refused", test_plaintext_auth_refused);
  g_test_add_func ("/smtp/scram-without-tls", test_scram_without_tls);
  g_test_add_func ("/smtp/no-usable-mechanism", test_no_usable_mechanism);
  g_test_add_func ("/smtp/server-wants-ntlm", test_server_wants_ntlm);
  g_test_add_func ("/smtp/starttls-injection", test_starttls_injection);
  g_test_add_func ("/smtp/xoauth2", test_xoauth2);
  g_test_add_func ("/smtp/connection-refused", test_connection_failures);
  g_test_add_func ("/smtp/greeting-421", test_greeting_421);
  g_test_add_func ("/smtp/timeout", test_timeout);
  g_test_add_func ("/smtp/greeting-own-wait", test_greeting_has_its_own_wait);
  g_test_add_func ("/smtp/reply-timeout-named", test_reply_timeout_named);
  g_test_add_func ("/smtp/cancel", test_cancel_slow_reply);
  g_test_add_func ("/smtp/broken-servers", test_broken_servers);
  g_test_add_func ("/smtp/dropped-in-data", test_dropped_in_data);
  g_test_add_func ("/smtp/hostile-replies-bounded", test_hostile_replies_bounded);
  g_test_add_func ("/smtp/body-date-ascii", test_body_date_ascii);
  g_test_add_func ("/smtp/recipient-replies", test_recipient_replies);
  g_test_add_func ("/smtp/reply-advice", test_reply_advice);
  g_test_add_func ("/smtp/size-limit", test_size_limit);
  g_test_add_func ("/smtp/dsn-and-line-limit", test_dsn_and_line_limit);
  g_test_add_func ("/smtp/message-round-trip", test_message_round_trip);
  g_test_add_func ("/smtp/header-injection", test_header_injection_refused);
  g_test_add_func ("/smtp/smtputf8", test_smtputf8_only_when_needed);
#define ADD(path, func) g_test_add (path, MrTestDirs, NULL, mr_test_dirs_setup, func, mr_test_dirs_teardown)
  ADD ("/smtp/sendmail", test_sendmail);
  ADD ("/smtp/delivery-from-settings", test_delivery_from_settings);
  ADD ("/smtp/cli", test_cli_check_and_test_email);
#undef ADD

  return g_test_run ();
}
