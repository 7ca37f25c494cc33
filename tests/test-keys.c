/* test-keys.c: validation of single values, including every bad input the settings issue names */

#include "config.h"

#include "mr-keys.h"
#include "mr-test-utils.h"

static void
assert_invalid (gboolean    ok,
                GError    **error_slot,
                const char *input,
                const char *expected_fragment)
{
  GError *error = *error_slot;  /* read after the call that set it */

  if (ok)
    g_error ("“%s” was accepted", g_strescape (input, NULL));
  g_assert_error (error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_INVALID_VALUE);
  if (strstr (error->message, expected_fragment) == NULL)
    g_error ("The message for “%s” does not say “%s”: %s", input, expected_fragment, error->message);
}

static void
test_ports (void)
{
  static const struct { const char *text; const char *says; } bad[] = {
    { "0", "out of range" }, { "70000", "out of range" }, { "abc", "not a number" },
    { "", "Enter a port" }, { "-1", "not a number" }, { "25 ", "not a number" },
  };
  guint16 port = 0;

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      assert_invalid (mr_parse_port (bad[i].text, &port, &error), &error, bad[i].text, bad[i].says);
    }

  g_assert_true (mr_parse_port ("1", &port, NULL));
  g_assert_cmpuint (port, ==, 1);
  g_assert_true (mr_parse_port ("65535", &port, NULL));
  g_assert_cmpuint (port, ==, 65535);
}

static void
test_hosts (void)
{
  static const struct { const char *text; const char *says; } bad[] = {
    { "", "Enter the server" },
    { "smtp example.com", "spaces" },
    { " smtp.example.com", "spaces" },
    { "smtp.example.com\r\nRCPT TO:<x@y>", "Line breaks" },
    { "smtp\n", "Line breaks" },
    { "smtp\tx", "Control characters" },
    { "smtp\x01.example.com", "Control characters" },
    { "-bad.example.com", "not a valid server name" },
    { "bad..example.com", "not a valid server name" },
    { "under$score.com", "not a valid server name" },
  };
  static const char *good[] = {
    "smtp.example.com", "localhost", "127.0.0.1", "::1", "smtp.example.com.", "mail.bücher.de", "SMTP.Example.COM",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      assert_invalid (mr_validate_host (bad[i].text, &error), &error, bad[i].text, bad[i].says);
    }
  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr(GError) error = NULL;
      mr_validate_host (good[i], &error);
      g_assert_no_error (error);
    }
}

static void
test_addresses (void)
{
  static const struct { const char *text; const char *says; } bad[] = {
    { "a@@b", "more than one" },
    { "\"x\" <>", "angle brackets" },
    { "Bob <bob@example.com>", "angle brackets" },
    { "no-at-sign", "has no “@”" },
    { "@example.com", "before the “@” is empty" },
    { "bob@", "after the “@” is empty" },
    { "bob smith@example.com", "spaces" },
    { "bob@example.com\r\nBcc: victim@example.org", "Line breaks" },
    { ".bob@example.com", "misplaced dot" },
    { "bo..b@example.com", "misplaced dot" },
    { "bob(x)@example.com", "not allowed" },
    { "bob@exa_mple..com", "not a valid domain" },
    { "\"bob@example.com", "unmatched quotation" },
  };
  static const char *good[] = {
    "bob@example.com", "first.last+tag@sub.example.co.uk", "\"odd name\"@example.com",
    "jürgen@bücher.de", "root@localhost", "x@[127.0.0.1]", "x@[IPv6:::1]",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      assert_invalid (mr_validate_address (bad[i].text, &error), &error, bad[i].text, bad[i].says);
    }
  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr(GError) error = NULL;
      if (!mr_validate_address (good[i], &error))
        g_error ("“%s” was refused: %s", good[i], error->message);
    }
  g_assert_cmpstr (mr_address_get_domain ("a@b.example"), ==, "b.example");
}

static void
test_parse_typed (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) port = NULL, fingerprint = NULL, domains = NULL, locks = NULL, host = NULL, flag = NULL;
  g_autofree char *domains_text = NULL;

  port = mr_key_parse (mr_key_lookup ("smtp.port"), "465", &error);
  g_assert_no_error (error);
  g_assert_cmpint (json_node_get_int (port), ==, 465);

  host = mr_key_parse (mr_key_lookup ("smtp.host"), "SMTP.Example.com", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_node_get_string (host), ==, "smtp.example.com");

  fingerprint = mr_key_parse (mr_key_lookup ("smtp.tls_fingerprint"),
                              "ab01ab01ab01ab01ab01ab01ab01ab01ab01ab01ab01ab01ab01ab01ab01ab01", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_node_get_string (fingerprint), ==,
                   "AB:01:AB:01:AB:01:AB:01:AB:01:AB:01:AB:01:AB:01:AB:01:AB:01:AB:01:AB:01:AB:01:AB:01:AB:01:AB:01");
  g_assert_null (mr_key_parse (mr_key_lookup ("smtp.tls_fingerprint"), "AB:01", &error));
  g_assert_error (error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_INVALID_VALUE);
  g_assert_nonnull (strstr (error->message, "64 hexadecimal digits"));
  g_clear_error (&error);

  domains = mr_key_parse (mr_key_lookup ("domains.verified"), "[\"Example.COM\", \"example.com\", \"b.example\"]", &error);
  g_assert_no_error (error);
  domains_text = json_to_string (domains, FALSE);
  g_assert_cmpstr (domains_text, ==, "[\"example.com\",\"b.example\"]");

  g_assert_null (mr_key_parse (mr_key_lookup ("domains.verified"), "example.com", &error));
  g_assert_nonnull (strstr (error->message, "JSON array"));
  g_clear_error (&error);
  g_assert_null (mr_key_parse (mr_key_lookup ("domains.verified"), "[\"bob@example.com\"]", &error));
  g_assert_nonnull (strstr (error->message, "only the domain"));
  g_clear_error (&error);

  locks = mr_key_parse (mr_key_lookup ("locks"), "[\"smtp.host\", \"sender.from_address\"]", &error);
  g_assert_no_error (error);
  g_assert_null (mr_key_parse (mr_key_lookup ("locks"), "[\"smtp.nonsense\"]", &error));
  g_assert_nonnull (strstr (error->message, "not a settings key"));
  g_clear_error (&error);
  g_assert_null (mr_key_parse (mr_key_lookup ("locks"), "[\"domains.verified\"]", &error));
  g_assert_nonnull (strstr (error->message, "cannot be locked"));
  g_clear_error (&error);

  flag = mr_key_parse (mr_key_lookup ("sender.send_as_user"), "true", &error);
  g_assert_no_error (error);
  g_assert_true (json_node_get_boolean (flag));
  g_assert_null (mr_key_parse (mr_key_lookup ("sender.send_as_user"), "yes please", &error));
  g_assert_nonnull (strstr (error->message, "not true or false"));
  g_clear_error (&error);

  g_assert_null (mr_key_parse (mr_key_lookup ("smtp.security"), "ssl", &error));
  g_assert_nonnull (strstr (error->message, "none, starttls, tls"));
  g_clear_error (&error);

  g_assert_null (mr_key_parse (mr_key_lookup ("smtp.tls_trust_file"), "certs/ca.pem", &error));
  g_assert_nonnull (strstr (error->message, "absolute path"));
  g_clear_error (&error);

  /* Every text field refuses CR and LF. */
  {
    guint n;
    const MrKeyInfo *keys = mr_key_get_all (&n);

    for (guint i = 0; i < n; i++)
      {
        g_autoptr(GError) line_error = NULL;
        g_autoptr(JsonNode) value = NULL;

        if (keys[i].type != MR_KEY_TYPE_STRING)
          continue;
        value = mr_key_parse (&keys[i], "x\r\nBcc: victim@example.org", &line_error);
        if (value != NULL)
          g_error ("%s accepted a line break", keys[i].name);
        g_assert_error (line_error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_INVALID_VALUE);
      }
  }
}

static void
test_key_names (void)
{
  g_autofree char *app = NULL;
  const char *base;

  g_assert_true (mr_key_split ("apps.marketing.smtp.host", &app, &base));
  g_assert_cmpstr (app, ==, "marketing");
  g_assert_cmpstr (base, ==, "smtp.host");
  g_clear_pointer (&app, g_free);
  g_assert_false (mr_key_split ("apps.Bad Name.smtp.host", &app, &base));
  g_assert_false (mr_key_split ("apps.marketing", &app, &base));
  g_assert_true (mr_key_split ("smtp.host", &app, &base));
  g_assert_null (app);
  g_assert_null (mr_key_lookup ("smtp.nonsense"));
}

int
main (int    argc,
      char **argv)
{
  mr_test_init (&argc, &argv);

  g_test_add_func ("/keys/ports", test_ports);
  g_test_add_func ("/keys/hosts", test_hosts);
  g_test_add_func ("/keys/addresses", test_addresses);
  g_test_add_func ("/keys/parse-typed", test_parse_typed);
  g_test_add_func ("/keys/names", test_key_names);

  return g_test_run ();
}
