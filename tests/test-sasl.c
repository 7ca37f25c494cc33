/* test-sasl.c: the SMTP AUTH mechanisms against their published examples */

#include "config.h"

#include <string.h>

#include "mr-error.h"
#include "mr-sasl.h"
#include "mr-smtp-error.h"
#include "mr-test-utils.h"

static GBytes *
text_bytes (const char *text)
{
  return g_bytes_new (text, strlen (text));
}

static char *
bytes_text (GBytes *bytes)
{
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);
  return g_strndup (data, len);
}

static void
test_plain (void)
{
  g_autoptr(MrSasl) sasl = mr_sasl_new (MR_SASL_PLAIN, "tim", "tanstaaftanstaaf");
  g_autoptr(GBytes) initial = mr_sasl_get_initial_response (sasl, NULL);
  gsize len;
  const char *data = g_bytes_get_data (initial, &len);

  g_assert_cmpuint (len, ==, 1 + 3 + 1 + 16);
  g_assert_cmpmem (data, len, "\0tim\0tanstaaftanstaaf", 21);
  g_assert_true (mr_sasl_mechanism_is_cleartext (MR_SASL_PLAIN));
  g_assert_false (mr_sasl_mechanism_is_cleartext (MR_SASL_CRAM_MD5));
}

static void
test_login (void)
{
  g_autoptr(MrSasl) sasl = mr_sasl_new (MR_SASL_LOGIN, "tim", "secret");
  g_autoptr(GBytes) c1 = text_bytes ("Username:");
  g_autoptr(GBytes) c2 = text_bytes ("Password:");
  g_autoptr(GBytes) r1 = NULL, r2 = NULL;
  g_autofree char *t1 = NULL, *t2 = NULL;

  g_assert_null (mr_sasl_get_initial_response (sasl, NULL));
  r1 = mr_sasl_respond (sasl, c1, NULL);
  r2 = mr_sasl_respond (sasl, c2, NULL);
  t1 = bytes_text (r1);
  t2 = bytes_text (r2);
  g_assert_cmpstr (t1, ==, "tim");
  g_assert_cmpstr (t2, ==, "secret");
}

/* RFC 2195, section 2. */
static void
test_cram_md5_rfc2195 (void)
{
  g_autoptr(MrSasl) sasl = mr_sasl_new (MR_SASL_CRAM_MD5, "tim", "tanstaaftanstaaf");
  g_autoptr(GBytes) challenge = text_bytes ("<1896.697170952@postoffice.reston.mci.net>");
  g_autoptr(GBytes) response = NULL;
  g_autofree char *text = NULL;

  g_assert_null (mr_sasl_get_initial_response (sasl, NULL));
  response = mr_sasl_respond (sasl, challenge, NULL);
  text = bytes_text (response);
  g_assert_cmpstr (text, ==, "tim b913a602c7eda7a495b4e6e7334d3890");
}

/* RFC 7677, section 3. */
static void
test_scram_sha_256_rfc7677 (void)
{
  g_autoptr(MrSasl) sasl = mr_sasl_new (MR_SASL_SCRAM_SHA_256, "user", "pencil");
  g_autoptr(GBytes) first = NULL, final = NULL, last = NULL;
  g_autoptr(GBytes) server_first = text_bytes ("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                                               "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
  g_autoptr(GBytes) server_final = text_bytes ("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
  g_autoptr(GError) error = NULL;
  g_autofree char *first_text = NULL, *final_text = NULL;

  mr_sasl_set_test_values (sasl, "rOprNGfwEbeRWgbNEkqO", 0, NULL);
  first = mr_sasl_get_initial_response (sasl, &error);
  g_assert_no_error (error);
  first_text = bytes_text (first);
  g_assert_cmpstr (first_text, ==, "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");

  final = mr_sasl_respond (sasl, server_first, &error);
  g_assert_no_error (error);
  final_text = bytes_text (final);
  g_assert_cmpstr (final_text, ==, "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                                   "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");

  /* Finishing before the server proved itself is refused. */
  g_assert_false (mr_sasl_finish (sasl, &error));
  g_assert_error (error, MR_SMTP_ERROR, MR_SMTP_ERROR_AUTH_FAILED);
  g_clear_error (&error);

  last = mr_sasl_respond (sasl, server_final, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (last), ==, 0);
  g_assert_true (mr_sasl_finish (sasl, &error));
}

static void
test_scram_bad_server (void)
{
  g_autoptr(MrSasl) sasl = mr_sasl_new (MR_SASL_SCRAM_SHA_256, "user", "pencil");
  g_autoptr(GBytes) first = NULL, final = NULL, last = NULL, bad = NULL;
  g_autoptr(GBytes) server_first = text_bytes ("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                                               "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
  g_autoptr(GBytes) wrong_final = text_bytes ("v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
  g_autoptr(GError) error = NULL;

  mr_sasl_set_test_values (sasl, "rOprNGfwEbeRWgbNEkqO", 0, NULL);
  first = mr_sasl_get_initial_response (sasl, NULL);
  final = mr_sasl_respond (sasl, server_first, NULL);
  last = mr_sasl_respond (sasl, wrong_final, &error);
  g_assert_null (last);
  g_assert_error (error, MR_SMTP_ERROR, MR_SMTP_ERROR_AUTH_FAILED);
  g_clear_error (&error);

  /* A server nonce that does not extend ours is malformed. */
  {
    g_autoptr(MrSasl) other = mr_sasl_new (MR_SASL_SCRAM_SHA_256, "user", "pencil");
    g_autoptr(GBytes) o1 = NULL;
    g_autoptr(GBytes) forged = text_bytes ("r=somebodyelse,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");

    mr_sasl_set_test_values (other, "rOprNGfwEbeRWgbNEkqO", 0, NULL);
    o1 = mr_sasl_get_initial_response (other, NULL);
    bad = mr_sasl_respond (other, forged, &error);
    g_assert_null (bad);
    g_assert_error (error, MR_SMTP_ERROR, MR_SMTP_ERROR_PROTOCOL);
  }
}

static void
test_xoauth2 (void)
{
  g_autoptr(MrSasl) sasl = mr_sasl_new (MR_SASL_XOAUTH2, "someuser@example.com", "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg");
  g_autoptr(GBytes) initial = mr_sasl_get_initial_response (sasl, NULL);
  g_autoptr(GBytes) error_json = text_bytes ("{\"status\":\"401\",\"schemes\":\"bearer\",\"scope\":\"https://mail.google.com/\"}");
  g_autoptr(GBytes) answer = NULL;
  g_autofree char *text = bytes_text (initial);

  /* Google's documented example. */
  g_assert_cmpstr (text, ==, "user=someuser@example.com\001auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\001\001");
  answer = mr_sasl_respond (sasl, error_json, NULL);
  g_assert_cmpuint (g_bytes_get_size (answer), ==, 0);
}

/* MS-NLMP 4.2.4: user "User", domain "Domain", password "Password", server challenge
 * 0123456789abcdef, client challenge aaaaaaaaaaaaaaaa, time 0, target info Domain/Server. */
static const guint8 ntlm_target_info[] = {
  0x02, 0x00, 0x0c, 0x00, 'D', 0, 'o', 0, 'm', 0, 'a', 0, 'i', 0, 'n', 0,
  0x01, 0x00, 0x0c, 0x00, 'S', 0, 'e', 0, 'r', 0, 'v', 0, 'e', 0, 'r', 0,
  0x00, 0x00, 0x00, 0x00,
};

static void
test_ntlm_v2_hash (void)
{
  static const guint8 expected[16] = { 0x0c, 0x86, 0x8a, 0x40, 0x3b, 0xfd, 0x7a, 0x93,
                                       0xa3, 0x00, 0x1e, 0xf2, 0x2e, 0xf0, 0x2e, 0x3f };
  guint8 hash[16];

  mr_ntlm_v2_hash ("User", "Domain", "Password", hash);
  g_assert_cmpmem (hash, 16, expected, 16);
}

static guint32
le32 (const guint8 *p)
{
  return p[0] | (p[1] << 8) | (p[2] << 16) | ((guint32) p[3] << 24);
}

static void
test_ntlm_authenticate_ms_nlmp (void)
{
  static const guint8 client_challenge[8] = { 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa };
  static const guint8 nt_proof[16] = { 0x68, 0xcd, 0x0a, 0xb8, 0x51, 0xe5, 0x1c, 0x96,
                                       0xaa, 0xbc, 0x92, 0x7b, 0xeb, 0xef, 0x6a, 0x1c };
  static const guint8 lm_response[24] = { 0x86, 0xc3, 0x50, 0x97, 0xac, 0x9c, 0xec, 0x10,
                                          0x25, 0x54, 0x76, 0x4a, 0x57, 0xcc, 0xcc, 0x19,
                                          0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa };
  g_autoptr(MrSasl) sasl = mr_sasl_new (MR_SASL_NTLM, "Domain\\User", "Password");
  g_autoptr(GBytes) negotiate = mr_sasl_get_initial_response (sasl, NULL);
  g_autoptr(GByteArray) challenge = g_byte_array_new ();
  g_autoptr(GBytes) challenge_bytes = NULL;
  g_autoptr(GBytes) authenticate = NULL;
  g_autoptr(GError) error = NULL;
  guint8 header[48] = { 'N', 'T', 'L', 'M', 'S', 'S', 'P', 0, 2, 0, 0, 0 };
  const guint8 *msg;
  gsize len;
  guint32 nt_len, nt_offset, lm_len, lm_offset;

  g_assert_cmpmem (g_bytes_get_data (negotiate, NULL), 8, "NTLMSSP", 8);
  g_assert_cmpuint (le32 ((const guint8 *) g_bytes_get_data (negotiate, NULL) + 8), ==, 1);

  /* CHALLENGE_MESSAGE with the spec's server challenge and target info. */
  header[20] = 0x33; header[21] = 0x82; header[22] = 0x8a; header[23] = 0xe2;   /* flags */
  memcpy (header + 24, "\x01\x23\x45\x67\x89\xab\xcd\xef", 8);
  header[40] = sizeof ntlm_target_info; header[42] = sizeof ntlm_target_info;
  header[44] = 48;
  g_byte_array_append (challenge, header, sizeof header);
  g_byte_array_append (challenge, ntlm_target_info, sizeof ntlm_target_info);
  challenge_bytes = g_bytes_new (challenge->data, challenge->len);

  mr_sasl_set_test_values (sasl, NULL, 0, client_challenge);
  authenticate = mr_sasl_respond (sasl, challenge_bytes, &error);
  g_assert_no_error (error);
  msg = g_bytes_get_data (authenticate, &len);
  g_assert_cmpmem (msg, 8, "NTLMSSP", 8);
  g_assert_cmpuint (le32 (msg + 8), ==, 3);

  lm_len = msg[12] | (msg[13] << 8);
  lm_offset = le32 (msg + 16);
  nt_len = msg[20] | (msg[21] << 8);
  nt_offset = le32 (msg + 24);
  g_assert_cmpuint (lm_offset + lm_len, <=, len);
  g_assert_cmpuint (nt_offset + nt_len, <=, len);
  g_assert_cmpmem (msg + lm_offset, lm_len, lm_response, sizeof lm_response);
  /* NTProofStr, then the blob: 0x0101, reserved, time 0, client challenge, 0, target info, 0. */
  g_assert_cmpuint (nt_len, ==, 16 + 28 + sizeof ntlm_target_info + 4);
  g_assert_cmpmem (msg + nt_offset, 16, nt_proof, sizeof nt_proof);
  g_assert_cmpmem (msg + nt_offset + 16 + 28, sizeof ntlm_target_info, ntlm_target_info, sizeof ntlm_target_info);

  /* The user and domain go as UTF-16LE. */
  {
    guint32 user_len = msg[36] | (msg[37] << 8), user_offset = le32 (msg + 40);
    g_assert_cmpmem (msg + user_offset, user_len, "U\0s\0e\0r\0", 8);
  }
}

static void
test_malformed_challenges (void)
{
  g_autoptr(MrSasl) ntlm = mr_sasl_new (MR_SASL_NTLM, "u", "p");
  g_autoptr(GBytes) junk = text_bytes ("not an ntlm message at all, no no no");
  g_autoptr(GBytes) initial = mr_sasl_get_initial_response (ntlm, NULL);
  g_autoptr(GError) error = NULL;

  g_assert_null (mr_sasl_respond (ntlm, junk, &error));
  g_assert_error (error, MR_SMTP_ERROR, MR_SMTP_ERROR_PROTOCOL);
}

int
main (int    argc,
      char **argv)
{
  mr_test_init (&argc, &argv);

  g_test_add_func ("/sasl/plain", test_plain);
  g_test_add_func ("/sasl/login", test_login);
  g_test_add_func ("/sasl/cram-md5-rfc2195", test_cram_md5_rfc2195);
  g_test_add_func ("/sasl/scram-sha-256-rfc7677", test_scram_sha_256_rfc7677);
  g_test_add_func ("/sasl/scram-bad-server", test_scram_bad_server);
  g_test_add_func ("/sasl/xoauth2", test_xoauth2);
  g_test_add_func ("/sasl/ntlm-v2-hash", test_ntlm_v2_hash);
  g_test_add_func ("/sasl/ntlm-authenticate", test_ntlm_authenticate_ms_nlmp);
  g_test_add_func ("/sasl/malformed", test_malformed_challenges);

  return g_test_run ();
}
