/* mr-sasl.c: the SMTP AUTH mechanisms */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <nettle/md4.h>
#include <string.h>

#include "mr-sasl.h"
#include "mr-smtp-error.h"

struct _MrSasl
{
  MrSaslMechanism  mechanism;
  char            *user;
  char            *secret;
  guint            step;

  /* SCRAM */
  char            *client_nonce;
  char            *client_first_bare;
  guint8           server_signature[32];
  gboolean         server_verified;

  /* NTLM, for tests */
  gboolean         ntlm_fixed;
  guint64          ntlm_filetime;
  guint8           ntlm_client_challenge[8];
};

static const struct { const char *name; gboolean cleartext; } mechanisms[] = {
  [MR_SASL_XOAUTH2] = { "XOAUTH2", TRUE },
  [MR_SASL_NTLM] = { "NTLM", FALSE },
  [MR_SASL_SCRAM_SHA_256] = { "SCRAM-SHA-256", FALSE },
  [MR_SASL_SCRAM_SHA_1] = { "SCRAM-SHA-1", FALSE },
  [MR_SASL_CRAM_MD5] = { "CRAM-MD5", FALSE },
  [MR_SASL_PLAIN] = { "PLAIN", TRUE },
  [MR_SASL_LOGIN] = { "LOGIN", TRUE },
};

const char *
mr_sasl_mechanism_get_name (MrSaslMechanism mechanism)
{
  return mechanisms[mechanism].name;
}

gboolean
mr_sasl_mechanism_from_name (const char      *name,
                             MrSaslMechanism *mechanism)
{
  for (guint i = 0; i < MR_SASL_N_MECHANISMS; i++)
    if (g_ascii_strcasecmp (mechanisms[i].name, name) == 0)
      {
        *mechanism = i;
        return TRUE;
      }
  return FALSE;
}

gboolean
mr_sasl_mechanism_is_cleartext (MrSaslMechanism mechanism)
{
  return mechanisms[mechanism].cleartext;
}

MrSasl *
mr_sasl_new (MrSaslMechanism  mechanism,
             const char      *user,
             const char      *secret)
{
  MrSasl *sasl = g_new0 (MrSasl, 1);

  sasl->mechanism = mechanism;
  sasl->user = g_strdup (user ? user : "");
  sasl->secret = g_strdup (secret ? secret : "");
  return sasl;
}

static void
wipe_free (char *text)
{
  if (text != NULL)
    {
      explicit_bzero (text, strlen (text));
      g_free (text);
    }
}

void
mr_sasl_free (MrSasl *sasl)
{
  if (sasl == NULL)
    return;
  g_free (sasl->user);
  wipe_free (sasl->secret);
  g_free (sasl->client_nonce);
  g_free (sasl->client_first_bare);
  explicit_bzero (sasl, sizeof *sasl);
  g_free (sasl);
}

MrSaslMechanism
mr_sasl_get_mechanism (MrSasl *sasl)
{
  return sasl->mechanism;
}

void
mr_sasl_set_test_values (MrSasl       *sasl,
                         const char   *scram_nonce,
                         guint64       ntlm_filetime,
                         const guint8 *ntlm_client_challenge)
{
  g_free (sasl->client_nonce);
  sasl->client_nonce = g_strdup (scram_nonce);
  sasl->ntlm_fixed = TRUE;
  sasl->ntlm_filetime = ntlm_filetime;
  if (ntlm_client_challenge != NULL)
    memcpy (sasl->ntlm_client_challenge, ntlm_client_challenge, 8);
}

static gboolean
malformed (GError     **error,
           const char  *what)
{
  g_autofree char *detail = g_strdup_printf (_("Malformed %s challenge from the server."), what);

  mr_smtp_set_error (error, MR_SMTP_ERROR_PROTOCOL, 0, NULL, NULL, detail);
  return FALSE;
}

static GBytes *
bytes_take_string (char *text)
{
  gsize len = strlen (text);
  return g_bytes_new_take (text, len);
}

static void
hmac (GChecksumType  type,
      const guint8  *key,
      gsize          key_len,
      const guint8  *data,
      gsize          data_len,
      guint8        *out,
      gsize          out_len)
{
  GHmac *mac = g_hmac_new (type, key, key_len);
  gsize len = out_len;

  g_hmac_update (mac, data, data_len);
  g_hmac_get_digest (mac, out, &len);
  g_hmac_unref (mac);
}

/* ---- PLAIN, LOGIN, XOAUTH2, CRAM-MD5 ---------------------------------------------------------- */

static GBytes *
plain_response (MrSasl *sasl)
{
  gsize user_len = strlen (sasl->user), secret_len = strlen (sasl->secret);
  guint8 *data = g_malloc (user_len + secret_len + 2);

  /* authzid (empty) NUL authcid NUL password */
  data[0] = '\0';
  memcpy (data + 1, sasl->user, user_len);
  data[1 + user_len] = '\0';
  memcpy (data + 2 + user_len, sasl->secret, secret_len);
  return g_bytes_new_take (data, user_len + secret_len + 2);
}

static GBytes *
cram_md5_response (MrSasl  *sasl,
                   GBytes  *challenge)
{
  guint8 digest[16];
  gsize len;
  const guint8 *data = g_bytes_get_data (challenge, &len);
  GString *out = g_string_new (sasl->user);

  hmac (G_CHECKSUM_MD5, (const guint8 *) sasl->secret, strlen (sasl->secret), data, len, digest, sizeof digest);
  g_string_append_c (out, ' ');
  for (guint i = 0; i < sizeof digest; i++)
    g_string_append_printf (out, "%02x", digest[i]);
  return bytes_take_string (g_string_free (out, FALSE));
}

/* ---- SCRAM-SHA-256 and SCRAM-SHA-1 ------------------------------------------------------------ */

/* A server chooses the iteration count; more than this would only keep the client busy. */
#define SCRAM_MAX_ITERATIONS 1000000

static gboolean
is_scram (MrSaslMechanism mechanism)
{
  return mechanism == MR_SASL_SCRAM_SHA_256 || mechanism == MR_SASL_SCRAM_SHA_1;
}

static GChecksumType
scram_checksum (const MrSasl *sasl)
{
  return sasl->mechanism == MR_SASL_SCRAM_SHA_1 ? G_CHECKSUM_SHA1 : G_CHECKSUM_SHA256;
}

static gsize
scram_digest_len (const MrSasl *sasl)
{
  return sasl->mechanism == MR_SASL_SCRAM_SHA_1 ? 20 : 32;
}

static char *
scram_escape_name (const char *name)
{
  GString *out = g_string_new (NULL);

  for (const char *p = name; *p; p++)
    {
      if (*p == '=')
        g_string_append (out, "=3D");
      else if (*p == ',')
        g_string_append (out, "=2C");
      else
        g_string_append_c (out, *p);
    }
  return g_string_free (out, FALSE);
}

static char *
random_nonce (void)
{
  guint8 raw[18];

  gnutls_rnd (GNUTLS_RND_NONCE, raw, sizeof raw);
  return g_base64_encode (raw, sizeof raw);
}

static GBytes *
scram_client_first (MrSasl *sasl)
{
  g_autofree char *name = NULL;
  g_autofree char *prepared = g_utf8_normalize (sasl->user, -1, G_NORMALIZE_NFKC);

  if (sasl->client_nonce == NULL)
    sasl->client_nonce = random_nonce ();
  name = scram_escape_name (prepared ? prepared : sasl->user);
  g_free (sasl->client_first_bare);
  sasl->client_first_bare = g_strdup_printf ("n=%s,r=%s", name, sasl->client_nonce);
  return bytes_take_string (g_strconcat ("n,,", sasl->client_first_bare, NULL));
}

static const char *
scram_attribute (char       **parts,
                 const char  *name)
{
  for (guint i = 0; parts[i] != NULL; i++)
    if (parts[i][0] == name[0] && parts[i][1] == '=')
      return parts[i] + 2;
  return NULL;
}

static GBytes *
scram_client_final (MrSasl   *sasl,
                    GBytes   *challenge,
                    GError  **error)
{
  gsize len;
  const char *data = g_bytes_get_data (challenge, &len);
  g_autofree char *server_first = g_strndup (data, len);
  g_auto(GStrv) parts = g_strsplit (server_first, ",", -1);
  const char *nonce = scram_attribute (parts, "r");
  const char *salt_b64 = scram_attribute (parts, "s");
  const char *iterations_text = scram_attribute (parts, "i");
  g_autofree guchar *salt = NULL;
  g_autofree char *password = NULL;
  g_autofree char *without_proof = NULL;
  g_autofree char *auth_message = NULL;
  g_autofree char *proof_b64 = NULL;
  guint8 salted[32], client_key[32], stored_key[32], client_signature[32], proof[32], server_key[32];
  gsize n = scram_digest_len (sasl);
  gsize salt_len = 0, stored_len = n;
  guint64 iterations;
  gnutls_datum_t key_datum, salt_datum;
  GChecksum *sha;
  GBytes *result;

  if (nonce == NULL || salt_b64 == NULL || iterations_text == NULL ||
      !g_str_has_prefix (nonce, sasl->client_nonce) || strlen (nonce) == strlen (sasl->client_nonce) ||
      !g_ascii_string_to_unsigned (iterations_text, 10, 1, SCRAM_MAX_ITERATIONS, &iterations, NULL))
    {
      malformed (error, mr_sasl_mechanism_get_name (sasl->mechanism));
      return NULL;
    }
  salt = g_base64_decode (salt_b64, &salt_len);
  if (salt_len == 0)
    {
      malformed (error, mr_sasl_mechanism_get_name (sasl->mechanism));
      return NULL;
    }

  password = g_utf8_normalize (sasl->secret, -1, G_NORMALIZE_NFKC);
  if (password == NULL)
    password = g_strdup (sasl->secret);
  key_datum.data = (unsigned char *) password;
  key_datum.size = strlen (password);
  salt_datum.data = salt;
  salt_datum.size = salt_len;
  if (gnutls_pbkdf2 (sasl->mechanism == MR_SASL_SCRAM_SHA_1 ? GNUTLS_MAC_SHA1 : GNUTLS_MAC_SHA256, &key_datum,
                    &salt_datum, (unsigned) iterations, salted, n) < 0)
    {
      malformed (error, mr_sasl_mechanism_get_name (sasl->mechanism));
      return NULL;
    }
  explicit_bzero (password, strlen (password));

  hmac (scram_checksum (sasl), salted, n, (const guint8 *) "Client Key", 10, client_key, n);
  sha = g_checksum_new (scram_checksum (sasl));
  g_checksum_update (sha, client_key, n);
  g_checksum_get_digest (sha, stored_key, &stored_len);
  g_checksum_free (sha);

  without_proof = g_strdup_printf ("c=biws,r=%s", nonce);
  auth_message = g_strdup_printf ("%s,%s,%s", sasl->client_first_bare, server_first, without_proof);
  hmac (scram_checksum (sasl), stored_key, n, (const guint8 *) auth_message, strlen (auth_message),
        client_signature, n);
  for (guint i = 0; i < n; i++)
    proof[i] = client_key[i] ^ client_signature[i];

  hmac (scram_checksum (sasl), salted, n, (const guint8 *) "Server Key", 10, server_key, n);
  hmac (scram_checksum (sasl), server_key, n, (const guint8 *) auth_message, strlen (auth_message),
        sasl->server_signature, n);

  proof_b64 = g_base64_encode (proof, n);
  result = bytes_take_string (g_strdup_printf ("%s,p=%s", without_proof, proof_b64));
  explicit_bzero (salted, sizeof salted);
  explicit_bzero (client_key, sizeof client_key);
  return result;
}

static GBytes *
scram_check_server_final (MrSasl   *sasl,
                          GBytes   *challenge,
                          GError  **error)
{
  gsize len;
  const char *data = g_bytes_get_data (challenge, &len);
  g_autofree char *server_final = g_strndup (data, len);
  g_autofree char *expected = g_base64_encode (sasl->server_signature, scram_digest_len (sasl));

  if (!g_str_has_prefix (server_final, "v=") || strcmp (server_final + 2, expected) != 0)
    {
      mr_smtp_set_error (error, MR_SMTP_ERROR_AUTH_FAILED, 0, NULL, NULL,
                         _("The server could not prove that it knows the password (SCRAM): it may not be the "
                           "server it claims to be."));
      return NULL;
    }
  sasl->server_verified = TRUE;
  return g_bytes_new (NULL, 0);
}

/* ---- NTLM (NTLMv2 only) ----------------------------------------------------------------------- */

#define NTLM_NEGOTIATE_UNICODE        0x00000001
#define NTLM_REQUEST_TARGET           0x00000004
#define NTLM_NEGOTIATE_NTLM           0x00000200
#define NTLM_NEGOTIATE_ALWAYS_SIGN    0x00008000
#define NTLM_NEGOTIATE_EXTENDED_SEC   0x00080000
#define NTLM_NEGOTIATE_TARGET_INFO    0x00800000
#define NTLM_NEGOTIATE_128            0x20000000
#define NTLM_NEGOTIATE_56             0x80000000

static const guint32 ntlm_client_flags = NTLM_NEGOTIATE_UNICODE | NTLM_REQUEST_TARGET | NTLM_NEGOTIATE_NTLM |
                                         NTLM_NEGOTIATE_ALWAYS_SIGN | NTLM_NEGOTIATE_EXTENDED_SEC |
                                         NTLM_NEGOTIATE_128 | NTLM_NEGOTIATE_56;

static void
put_le16 (guint8 *p, guint16 v) { p[0] = v & 0xff; p[1] = v >> 8; }
static void
put_le32 (guint8 *p, guint32 v) { for (guint i = 0; i < 4; i++) p[i] = (v >> (8 * i)) & 0xff; }
static guint16
get_le16 (const guint8 *p) { return p[0] | (p[1] << 8); }
static guint32
get_le32 (const guint8 *p) { return p[0] | (p[1] << 8) | (p[2] << 16) | ((guint32) p[3] << 24); }

static GByteArray *
utf16le (const char *text,
         gboolean    upper)
{
  g_autofree char *cased = upper ? g_utf8_strup (text, -1) : g_strdup (text);
  g_autofree gunichar2 *units = NULL;
  glong n = 0;
  GByteArray *out = g_byte_array_new ();

  units = g_utf8_to_utf16 (cased, -1, NULL, &n, NULL);
  for (glong i = 0; units != NULL && i < n; i++)
    {
      guint8 pair[2];
      put_le16 (pair, units[i]);
      g_byte_array_append (out, pair, 2);
    }
  return out;
}

void
mr_ntlm_v2_hash (const char *user,
                 const char *domain,
                 const char *password,
                 guint8      out[16])
{
  g_autoptr(GByteArray) password16 = utf16le (password, FALSE);
  g_autoptr(GByteArray) identity = utf16le (user, TRUE);
  g_autoptr(GByteArray) domain16 = utf16le (domain, FALSE);
  struct md4_ctx md4;
  guint8 nt_hash[16];

  md4_init (&md4);
  md4_update (&md4, password16->len, password16->data);
  md4_digest (&md4, sizeof nt_hash, nt_hash);
  explicit_bzero (password16->data, password16->len);

  g_byte_array_append (identity, domain16->data, domain16->len);
  hmac (G_CHECKSUM_MD5, nt_hash, sizeof nt_hash, identity->data, identity->len, out, 16);
  explicit_bzero (nt_hash, sizeof nt_hash);
}

static GBytes *
ntlm_negotiate (void)
{
  guint8 *msg = g_malloc0 (32);

  memcpy (msg, "NTLMSSP", 8);
  put_le32 (msg + 8, 1);
  put_le32 (msg + 12, ntlm_client_flags);
  /* Empty domain and workstation fields, pointing at the end of the message. */
  put_le32 (msg + 20, 32);
  put_le32 (msg + 28, 32);
  return g_bytes_new_take (msg, 32);
}

/* "DOMAIN\user" or "user@domain" (a UPN: the domain stays empty). */
static void
ntlm_split_user (const char  *login,
                 char       **user,
                 char       **domain)
{
  const char *backslash = strchr (login, '\\');

  if (backslash != NULL)
    {
      *domain = g_strndup (login, backslash - login);
      *user = g_strdup (backslash + 1);
    }
  else
    {
      *domain = g_strdup ("");
      *user = g_strdup (login);
    }
}

static void
append_field (GByteArray       *message,
              guint             field_offset,
              const GByteArray *value)
{
  put_le16 (message->data + field_offset, value->len);
  put_le16 (message->data + field_offset + 2, value->len);
  put_le32 (message->data + field_offset + 4, message->len);
  g_byte_array_append (message, value->data, value->len);
}

static GBytes *
ntlm_authenticate (MrSasl   *sasl,
                   GBytes   *challenge,
                   GError  **error)
{
  gsize len;
  const guint8 *msg = g_bytes_get_data (challenge, &len);
  g_autofree char *user = NULL;
  g_autofree char *domain = NULL;
  g_autoptr(GByteArray) blob = g_byte_array_new ();
  g_autoptr(GByteArray) nt_response = g_byte_array_new ();
  g_autoptr(GByteArray) lm_response = g_byte_array_new ();
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_autoptr(GByteArray) domain16 = NULL;
  g_autoptr(GByteArray) user16 = NULL;
  g_autoptr(GByteArray) workstation16 = NULL;
  g_autoptr(GByteArray) session_key = g_byte_array_new ();
  guint8 v2_hash[16], proof[16], header[8] = { 1, 1, 0, 0, 0, 0, 0, 0 }, zero4[4] = { 0 }, timestamp[8];
  guint8 client_challenge[8];
  const guint8 *server_challenge, *target_info = NULL;
  guint16 target_info_len = 0;
  guint32 flags, target_info_offset;
  guint64 filetime;
  gboolean server_timestamp = FALSE;

  if (len < 32 || memcmp (msg, "NTLMSSP", 8) != 0 || get_le32 (msg + 8) != 2)
    {
      malformed (error, "NTLM");
      return NULL;
    }
  flags = get_le32 (msg + 20);
  server_challenge = msg + 24;
  if (len >= 48)
    {
      target_info_len = get_le16 (msg + 40);
      target_info_offset = get_le32 (msg + 44);
      if ((gsize) target_info_offset + target_info_len > len)
        {
          malformed (error, "NTLM");
          return NULL;
        }
      target_info = msg + target_info_offset;
    }

  if (sasl->ntlm_fixed)
    {
      filetime = sasl->ntlm_filetime;
      memcpy (client_challenge, sasl->ntlm_client_challenge, 8);
    }
  else
    {
      filetime = ((guint64) g_get_real_time () / 1000000 + G_GUINT64_CONSTANT (11644473600)) * 10000000 +
                 (guint64) (g_get_real_time () % 1000000) * 10;
      gnutls_rnd (GNUTLS_RND_NONCE, client_challenge, sizeof client_challenge);
    }

  /* A server timestamp (MsvAvTimestamp) replaces ours, and then the LMv2 response is zeros. */
  for (guint16 pos = 0; target_info != NULL && pos + 4 <= target_info_len;)
    {
      guint16 id = get_le16 (target_info + pos), av_len = get_le16 (target_info + pos + 2);

      if (id == 0 || pos + 4 + av_len > target_info_len)
        break;
      if (id == 7 && av_len == 8)
        {
          filetime = 0;
          for (guint i = 0; i < 8; i++)
            filetime |= (guint64) target_info[pos + 4 + i] << (8 * i);
          server_timestamp = TRUE;
        }
      pos += 4 + av_len;
    }
  for (guint i = 0; i < 8; i++)
    timestamp[i] = (filetime >> (8 * i)) & 0xff;

  ntlm_split_user (sasl->user, &user, &domain);
  mr_ntlm_v2_hash (user, domain, sasl->secret, v2_hash);

  /* NTLMv2 client challenge blob: header, time, client challenge, target info (MS-NLMP 2.2.2.7) */
  g_byte_array_append (blob, header, sizeof header);
  g_byte_array_append (blob, timestamp, sizeof timestamp);
  g_byte_array_append (blob, client_challenge, sizeof client_challenge);
  g_byte_array_append (blob, zero4, sizeof zero4);
  if (target_info != NULL)
    g_byte_array_append (blob, target_info, target_info_len);
  g_byte_array_append (blob, zero4, sizeof zero4);

  {
    g_autoptr(GByteArray) to_sign = g_byte_array_new ();

    g_byte_array_append (to_sign, server_challenge, 8);
    g_byte_array_append (to_sign, blob->data, blob->len);
    hmac (G_CHECKSUM_MD5, v2_hash, sizeof v2_hash, to_sign->data, to_sign->len, proof, sizeof proof);
  }
  g_byte_array_append (nt_response, proof, sizeof proof);
  g_byte_array_append (nt_response, blob->data, blob->len);

  if (server_timestamp)
    {
      guint8 zeros[24] = { 0 };
      g_byte_array_append (lm_response, zeros, sizeof zeros);
    }
  else
    {
      guint8 both[16], lm_proof[16];

      memcpy (both, server_challenge, 8);
      memcpy (both + 8, client_challenge, 8);
      hmac (G_CHECKSUM_MD5, v2_hash, sizeof v2_hash, both, sizeof both, lm_proof, sizeof lm_proof);
      g_byte_array_append (lm_response, lm_proof, sizeof lm_proof);
      g_byte_array_append (lm_response, client_challenge, sizeof client_challenge);
    }
  explicit_bzero (v2_hash, sizeof v2_hash);

  domain16 = utf16le (domain, FALSE);
  user16 = utf16le (user, FALSE);
  workstation16 = utf16le ("MAILROOM", FALSE);

  /* AUTHENTICATE_MESSAGE: 64 bytes of fixed fields, then the payload (MS-NLMP 2.2.1.3). */
  g_byte_array_set_size (out, 64);
  memset (out->data, 0, 64);
  memcpy (out->data, "NTLMSSP", 8);
  put_le32 (out->data + 8, 3);
  append_field (out, 28, domain16);
  append_field (out, 36, user16);
  append_field (out, 44, workstation16);
  append_field (out, 12, lm_response);
  append_field (out, 20, nt_response);
  append_field (out, 52, session_key);
  put_le32 (out->data + 60, (flags & ntlm_client_flags) | NTLM_NEGOTIATE_UNICODE | NTLM_NEGOTIATE_NTLM |
                            (flags & NTLM_NEGOTIATE_TARGET_INFO));
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

/* ---- Dispatch --------------------------------------------------------------------------------- */

GBytes *
mr_sasl_get_initial_response (MrSasl  *sasl,
                              GError **error)
{
  switch (sasl->mechanism)
    {
    case MR_SASL_PLAIN:
      sasl->step = 1;
      return plain_response (sasl);
    case MR_SASL_XOAUTH2:
      sasl->step = 1;
      return bytes_take_string (g_strdup_printf ("user=%s\001auth=Bearer %s\001\001", sasl->user, sasl->secret));
    case MR_SASL_SCRAM_SHA_256:
    case MR_SASL_SCRAM_SHA_1:
      sasl->step = 1;
      return scram_client_first (sasl);
    case MR_SASL_NTLM:
      sasl->step = 1;
      return ntlm_negotiate ();
    case MR_SASL_LOGIN:
    case MR_SASL_CRAM_MD5:
    default:
      return NULL;
    }
}

GBytes *
mr_sasl_respond (MrSasl  *sasl,
                 GBytes  *challenge,
                 GError **error)
{
  guint step = sasl->step++;

  switch (sasl->mechanism)
    {
    case MR_SASL_PLAIN:
      /* An empty challenge asks for the initial response (when AUTH PLAIN came without one). */
      if (step == 0)
        return plain_response (sasl);
      malformed (error, "PLAIN");
      return NULL;

    case MR_SASL_LOGIN:
      {
        gsize len = 0;
        const char *data = g_bytes_get_data (challenge, &len);
        g_autofree char *prompt = g_ascii_strdown (data ? data : "", data ? (gssize) len : 0);
        gboolean wants_password = strstr (prompt, "pass") != NULL || (step == 1 && strstr (prompt, "user") == NULL);

        if (step > 1)
          {
            malformed (error, "LOGIN");
            return NULL;
          }
        return wants_password ? g_bytes_new (sasl->secret, strlen (sasl->secret))
                              : g_bytes_new (sasl->user, strlen (sasl->user));
      }

    case MR_SASL_CRAM_MD5:
      if (step == 0 && g_bytes_get_size (challenge) > 0)
        return cram_md5_response (sasl, challenge);
      malformed (error, "CRAM-MD5");
      return NULL;

    case MR_SASL_SCRAM_SHA_256:
    case MR_SASL_SCRAM_SHA_1:
      if (step == 0)
        return scram_client_first (sasl);
      if (step == 1)
        return scram_client_final (sasl, challenge, error);
      if (step == 2)
        return scram_check_server_final (sasl, challenge, error);
      malformed (error, mr_sasl_mechanism_get_name (sasl->mechanism));
      return NULL;

    case MR_SASL_XOAUTH2:
      /* The server explains a refused token as base64 JSON; the client answers with an empty line and
       * then reads the final 535. */
      return g_bytes_new (NULL, 0);

    case MR_SASL_NTLM:
      if (step == 0)
        return ntlm_negotiate ();
      if (step == 1)
        return ntlm_authenticate (sasl, challenge, error);
      malformed (error, "NTLM");
      return NULL;

    default:
      g_assert_not_reached ();
    }
}

gboolean
mr_sasl_finish (MrSasl  *sasl,
                GError **error)
{
  if (is_scram (sasl->mechanism) && !sasl->server_verified)
    {
      mr_smtp_set_error (error, MR_SMTP_ERROR_AUTH_FAILED, 0, NULL, NULL,
                         _("The server accepted the login without proving that it knows the password (SCRAM)."));
      return FALSE;
    }
  return TRUE;
}
