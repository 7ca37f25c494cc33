/* mr-smtp-error.h: what can go wrong while sending, and what a person should do about it
 *
 * MR_SMTP_ERROR is an extended GError domain: besides its code, an error carries the server's reply
 * code, its enhanced status code (RFC 3463) and its text, when a server said something. The error's
 * message is the advice a user can act on (one table, mr_smtp_advise()), followed by what the
 * server said. mr_smtp_error_get_class() tells a local failure from a transient or permanent one.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define MR_SMTP_ERROR (mr_smtp_error_quark ())

typedef enum {
  MR_SMTP_ERROR_RESOLVE,            /* the server's name does not resolve */
  MR_SMTP_ERROR_CONNECT,            /* refused, unreachable, or no answer to the connection */
  MR_SMTP_ERROR_TIMEOUT,            /* connected, then the server stopped answering */
  MR_SMTP_ERROR_CONNECTION_LOST,    /* the server closed the connection in the middle */
  MR_SMTP_ERROR_TLS_UNTRUSTED,      /* the certificate failed verification or the pinned fingerprint */
  MR_SMTP_ERROR_TLS_FAILED,         /* the TLS handshake failed for another reason */
  MR_SMTP_ERROR_STARTTLS_MISSING,   /* security = starttls, and the server does not offer it */
  MR_SMTP_ERROR_AUTH_UNAVAILABLE,   /* no mechanism both sides support (after TLS) */
  MR_SMTP_ERROR_AUTH_INSECURE,      /* a cleartext mechanism would cross an unencrypted connection */
  MR_SMTP_ERROR_AUTH_FAILED,        /* the server refused the login */
  MR_SMTP_ERROR_PASSWORD_MISSING,   /* no password or token to log in with */
  MR_SMTP_ERROR_TOO_BIG,            /* the message is over the server's SIZE limit */
  MR_SMTP_ERROR_TEMPORARY,          /* a 4xx reply: try again later */
  MR_SMTP_ERROR_REJECTED,           /* a 5xx reply */
  MR_SMTP_ERROR_PROTOCOL,           /* a reply that breaks the protocol */
  MR_SMTP_ERROR_SENDMAIL,           /* the sendmail program failed */
  MR_SMTP_ERROR_INVALID_MESSAGE,    /* the message cannot go out as it is (a line over 998 octets) */
} MrSmtpErrorCode;

typedef enum {
  MR_SMTP_FAILURE_LOCAL,      /* DNS, connection, TLS, configuration: nothing reached a server's queue */
  MR_SMTP_FAILURE_TRANSIENT,  /* retry later */
  MR_SMTP_FAILURE_PERMANENT,  /* retrying the same will fail the same */
} MrSmtpFailureClass;

GQuark              mr_smtp_error_quark               (void);

/* Sets @error with the advice for @code (and the reply, when @reply_code is not 0). */
void                mr_smtp_set_error                 (GError     **error,
                                                       MrSmtpErrorCode code,
                                                       guint        reply_code,
                                                       const char  *enhanced_code,
                                                       const char  *server_text,
                                                       const char  *detail);

guint               mr_smtp_error_get_reply_code      (const GError *error);
const char         *mr_smtp_error_get_enhanced_code   (const GError *error);
const char         *mr_smtp_error_get_server_text     (const GError *error);
/* The server's reply as a log records it ("550 5.1.1 No such user"), or the message when the error
 * carries no reply. */
char               *mr_smtp_error_describe_reply      (const GError *error);
MrSmtpFailureClass  mr_smtp_error_get_class           (const GError *error);
/* Whether a refusal is a security or policy decision about the sender or the session (enhanced
 * code 5.7.x: Send As denied, relay denied, SMTP AUTH turned off), not about a recipient (5.1.x). */
gboolean            mr_smtp_error_is_sender_policy    (const GError *error);

/* A recipient's reply as a log or a job records it ("550 5.1.1 No such user") in words, for a
 * person to read first: accepted, to be tried again, or refused and why (the advice). NULL when
 * @reply is no server reply (a reason Mailroom gave, already in words). */
char               *mr_smtp_reply_in_words            (const char     *reply);

/* The advice for a failure, translated. @reply_code 0 when no server reply is involved. */
char               *mr_smtp_advise                    (MrSmtpErrorCode code,
                                                       guint           reply_code,
                                                       const char     *enhanced_code,
                                                       const char     *server_text);

G_END_DECLS
