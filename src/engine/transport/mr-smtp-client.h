/* mr-smtp-client.h: an SMTP client (RFC 5321) on GIO, secure by default
 *
 * Call order: mr_smtp_client_new() → mr_smtp_client_connect_sync() (TCP, TLS or STARTTLS, EHLO,
 * AUTH) → mr_smtp_client_send_sync() for each message (RSET between them) →
 * mr_smtp_client_quit_sync(). One operation at a time, blocking: callers use it from a worker
 * thread, through MrSmtpTransport (whose _async calls run it in one); every call takes a
 * GCancellable.
 *
 * Security: certificates are verified (system store, or smtp.tls_trust_file) and never accepted
 * silently; a pinned SHA-256 fingerprint is checked after every handshake and, when it matches,
 * is the one way to accept a certificate the authorities do not vouch for. With STARTTLS the
 * client never continues in clear, and a cleartext mechanism never crosses an unencrypted
 * connection unless allow_plaintext_auth is set.
 *
 * Errors: MR_SMTP_ERROR (mr-smtp-error.h), G_IO_ERROR_CANCELLED.
 */
#pragma once

#include <gio/gio.h>

#include "mr-smtp-error.h"

G_BEGIN_DECLS

typedef enum {
  MR_SMTP_SECURITY_NONE,
  MR_SMTP_SECURITY_STARTTLS,
  MR_SMTP_SECURITY_TLS,
} MrSmtpSecurity;

typedef enum {
  MR_SMTP_AUTH_NONE,
  MR_SMTP_AUTH_PASSWORD,
  MR_SMTP_AUTH_NTLM,
  MR_SMTP_AUTH_OAUTH2,
} MrSmtpAuth;

typedef struct {
  char            *host;
  guint16          port;
  MrSmtpSecurity   security;
  MrSmtpAuth       auth;
  char            *username;
  char            *secret;               /* password or OAuth2 access token; wiped on free */
  gboolean         allow_plaintext_auth;
  char            *trust_file;           /* CA file (absolute), or NULL for the system store */
  char            *fingerprint;          /* "AB:CD:…" SHA-256 pin, or NULL */
  char            *helo_name;            /* NULL: this machine's name */
  guint            timeout_connect_ms;   /* TCP, and for implicit TLS the handshake */
  guint            timeout_greeting_ms;  /* the server's 220, once connected */
  guint            timeout_command_ms;
  guint            timeout_data_ms;      /* the reply to the end of DATA */
} MrSmtpConfig;

MrSmtpConfig *mr_smtp_config_new        (void);
MrSmtpConfig *mr_smtp_config_copy       (const MrSmtpConfig *config);
void          mr_smtp_config_free       (MrSmtpConfig       *config);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MrSmtpConfig, mr_smtp_config_free)

/* What the server is and offers; filled by connect. */
typedef struct {
  char       *greeting;
  char       *ehlo_domain;
  GStrv       extensions;         /* EHLO keywords with their parameters, as offered */
  GStrv       auth_mechanisms;    /* as offered after TLS */
  guint64     size_limit;         /* 0: none announced */
  gboolean    pipelining;
  gboolean    eight_bit_mime;
  gboolean    smtputf8;
  gboolean    enhanced_status_codes;
  gboolean    dsn;
  gboolean    tls;                /* the connection is encrypted */
  char       *tls_version;
  char       *tls_cipher;
  char       *auth_mechanism;     /* the one used, or NULL */
  char       *authenticated_as;
} MrSmtpServerInfo;

/* The peer certificate, for showing it and for pinning. */
typedef struct {
  char       *subject;
  char       *issuer;
  GDateTime  *not_before;
  GDateTime  *not_after;
  char       *sha256;             /* "AB:CD:…" */
  char       *problems;           /* translated, NULL when trusted */
} MrCertificateInfo;

/* One transaction. Recipients are the envelope's: To, Cc, Bcc and copies alike. */
typedef struct {
  char       *from;
  GPtrArray  *recipients;         /* char* */
  char       *dsn_notify;         /* "SUCCESS,FAILURE" …, or NULL: no DSN asked */
  char       *dsn_envid;
} MrSmtpEnvelope;

MrSmtpEnvelope *mr_smtp_envelope_new    (const char *from);
void            mr_smtp_envelope_add_recipient (MrSmtpEnvelope *envelope,
                                         const char     *address);
MrSmtpEnvelope *mr_smtp_envelope_copy   (const MrSmtpEnvelope *envelope);
void            mr_smtp_envelope_free   (MrSmtpEnvelope *envelope);

/* @message as it goes after DATA: CRLF line ends, dot-stuffed, with its end (".\r\n"); sets
 * @eight_bit when a byte is over 127. Errors: MR_SMTP_ERROR_INVALID_MESSAGE for a line over the
 * 998 octets mail allows (RFC 5321 4.5.2, 4.5.3.1.6). */
GByteArray     *mr_smtp_prepare_data    (GBytes         *message,
                                         gboolean       *eight_bit,
                                         GError        **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MrSmtpEnvelope, mr_smtp_envelope_free)

/* What happened to a message that the server took (for at least one recipient). */
typedef struct {
  GPtrArray  *accepted;           /* char* addresses */
  GPtrArray  *refused;            /* char* "address: 550 5.1.1 …": refused for good (5xx) */
  GPtrArray  *deferred;           /* char* "address: 450 4.2.1 …": refused for now (4xx), to try again */
  char       *final_reply;        /* the reply to the end of DATA, often with a queue id */
} MrSmtpSendResult;

/* Splits a refused or deferred entry into its address and the server's reply. */
void            mr_smtp_split_refusal   (const char  *entry,
                                         char       **address,
                                         char       **reply);

void            mr_smtp_send_result_free (MrSmtpSendResult *result);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MrSmtpSendResult, mr_smtp_send_result_free)

#define MR_TYPE_SMTP_CLIENT (mr_smtp_client_get_type ())

G_DECLARE_FINAL_TYPE (MrSmtpClient, mr_smtp_client, MR, SMTP_CLIENT, GObject)

MrSmtpClient           *mr_smtp_client_new              (const MrSmtpConfig  *config);

/* The last moment a message can still be held back: called once by a gated send, when the server
 * has the envelope and is ready for the message (SMTP's 354). TRUE lets the message go; FALSE
 * abandons it (the server never takes it) and the send fails as cancelled. A
 * mailshot waits here for the journal to hold the last mail's outcome, so that writing it overlaps
 * this mail's transaction without a server ever taking a mail before the last one is recorded. */
typedef gboolean (*MrSendGate) (gpointer user_data);

/* @message: the whole message, with CRLF or LF line ends; it is dot-stuffed here.
 * Errors also: MR_SMTP_ERROR_TOO_BIG before MAIL when the server's SIZE is smaller;
 * MR_SMTP_ERROR_REJECTED / _TEMPORARY when every recipient was refused. */
gboolean                mr_smtp_client_connect_sync     (MrSmtpClient        *self,
                                                         GCancellable        *cancellable,
                                                         GError             **error);
MrSmtpSendResult       *mr_smtp_client_send_sync        (MrSmtpClient        *self,
                                                         const MrSmtpEnvelope *envelope,
                                                         GBytes              *message,
                                                         GCancellable        *cancellable,
                                                         GError             **error);
/* The same, calling @gate (when not NULL) after the server's 354, before the message (see
 * MrSendGate); not called when the transaction fails before it. */
MrSmtpSendResult       *mr_smtp_client_send_gated_sync  (MrSmtpClient        *self,
                                                         const MrSmtpEnvelope *envelope,
                                                         GBytes              *message,
                                                         MrSendGate           gate,
                                                         gpointer             gate_data,
                                                         GCancellable        *cancellable,
                                                         GError             **error);
gboolean                mr_smtp_client_quit_sync        (MrSmtpClient        *self,
                                                         GCancellable        *cancellable,
                                                         GError             **error);

/* Whether the connection is up and may carry another message: FALSE once it was closed, lost, timed
 * out or ended by the server (421). A refused recipient or message leaves it up. */
gboolean                mr_smtp_client_is_connected     (MrSmtpClient        *self);

/* The protocol log so far, secrets masked ("C: AUTH PLAIN ********"). */
char                   *mr_smtp_client_dup_transcript   (MrSmtpClient        *self);
const MrSmtpServerInfo *mr_smtp_client_get_server_info  (MrSmtpClient        *self);
/* The server's certificate, also after a failed verification; NULL without TLS. */
const MrCertificateInfo *mr_smtp_client_get_certificate (MrSmtpClient        *self);

G_END_DECLS
