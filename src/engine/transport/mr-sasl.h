/* mr-sasl.h: the SMTP AUTH mechanisms (RFC 4954)
 *
 * PLAIN (RFC 4616), LOGIN, CRAM-MD5 (RFC 2195), SCRAM-SHA-256 (RFC 7677) and
 * SCRAM-SHA-1 (RFC 5802), both without channel binding,
 * XOAUTH2 (Google and Microsoft) and NTLM (NTLMv2, MS-NLMP). A mechanism turns server challenges into
 * client responses; the SMTP client does the base64 and the 334 exchanges.
 *
 * Call order: mr_sasl_new() → mr_sasl_get_initial_response() (sent with AUTH when not NULL) →
 * mr_sasl_respond() for each 334 → mr_sasl_finish() once the server said 235, which fails for
 * SCRAM when the server never proved that it knows the password.
 * Errors: MR_SMTP_ERROR_PROTOCOL for a malformed challenge, MR_SMTP_ERROR_AUTH_FAILED when the
 * server's SCRAM signature is wrong.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  MR_SASL_XOAUTH2,
  MR_SASL_NTLM,
  MR_SASL_SCRAM_SHA_256,
  MR_SASL_SCRAM_SHA_1,
  MR_SASL_CRAM_MD5,
  MR_SASL_PLAIN,
  MR_SASL_LOGIN,
  MR_SASL_N_MECHANISMS,
} MrSaslMechanism;

typedef struct _MrSasl MrSasl;

const char *mr_sasl_mechanism_get_name       (MrSaslMechanism  mechanism);
gboolean    mr_sasl_mechanism_from_name      (const char      *name,
                                              MrSaslMechanism *mechanism);
/* Whether the mechanism gives the secret itself to anyone who can read the connection. */
gboolean    mr_sasl_mechanism_is_cleartext   (MrSaslMechanism  mechanism);

/* @secret is the password, or the access token for XOAUTH2. */
MrSasl     *mr_sasl_new                      (MrSaslMechanism  mechanism,
                                              const char      *user,
                                              const char      *secret);
void        mr_sasl_free                     (MrSasl          *sasl);
MrSaslMechanism mr_sasl_get_mechanism        (MrSasl          *sasl);

/* NULL when the mechanism waits for the server to speak first (LOGIN, CRAM-MD5). */
GBytes     *mr_sasl_get_initial_response     (MrSasl          *sasl,
                                              GError         **error);
GBytes     *mr_sasl_respond                  (MrSasl          *sasl,
                                              GBytes          *challenge,
                                              GError         **error);
gboolean    mr_sasl_finish                   (MrSasl          *sasl,
                                              GError         **error);

/* Tests only: fix the random parts so that published examples can be reproduced. */
void        mr_sasl_set_test_values          (MrSasl          *sasl,
                                              const char      *scram_nonce,
                                              guint64          ntlm_filetime,
                                              const guint8    *ntlm_client_challenge);

/* The NTLMv2 pieces, exposed for the MS-NLMP test vectors. */
void        mr_ntlm_v2_hash                  (const char      *user,
                                              const char      *domain,
                                              const char      *password,
                                              guint8           out[16]);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MrSasl, mr_sasl_free)

G_END_DECLS
