/* mr-exchange-error.h: what can go wrong with Microsoft's services (Exchange over EWS or Graph, and
 * the Microsoft or Google sign-in): shared by MrExchange, the HTTP helpers and MrTokenSource */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MR_EXCHANGE_ERROR (mr_exchange_error_quark ())

typedef enum {
  MR_EXCHANGE_ERROR_NOT_SET_UP,           /* no EWS URL and none found, no client ID … */
  MR_EXCHANGE_ERROR_UNREACHABLE,          /* name not found, connection refused, timed out */
  MR_EXCHANGE_ERROR_TLS_UNTRUSTED,        /* the certificate is not trusted */
  MR_EXCHANGE_ERROR_INSECURE,             /* a login over http:// is refused */
  MR_EXCHANGE_ERROR_AUTH_UNAVAILABLE,     /* the server does not offer the configured method */
  MR_EXCHANGE_ERROR_AUTH_FAILED,          /* the login was refused */
  MR_EXCHANGE_ERROR_PASSWORD_MISSING,     /* the keyring has no password for the account */
  MR_EXCHANGE_ERROR_SIGN_IN_REQUIRED,     /* no sign-in (refresh token), or it was revoked */
  MR_EXCHANGE_ERROR_SIGN_IN_DECLINED,     /* the person said no at the sign-in page */
  MR_EXCHANGE_ERROR_SIGN_IN_EXPIRED,      /* the device code expired before the sign-in */
  MR_EXCHANGE_ERROR_SEND_AS_DENIED,       /* the mailbox may not send as the From address */
  MR_EXCHANGE_ERROR_RECIPIENT_REFUSED,    /* a recipient address was refused */
  MR_EXCHANGE_ERROR_BUSY,                 /* throttled: try again later */
  MR_EXCHANGE_ERROR_TOO_BIG,              /* over the request size limit */
  MR_EXCHANGE_ERROR_REJECTED,             /* any other refusal, with the service's code */
  MR_EXCHANGE_ERROR_PROTOCOL,             /* the answer is not what the protocol says */
  MR_EXCHANGE_ERROR_REDIRECT_UNCONFIRMED, /* autodiscover leads out of the domain: ask the person */
  MR_EXCHANGE_ERROR_DISCOVERY_FAILED,     /* autodiscover found nothing */
} MrExchangeError;

GQuark mr_exchange_error_quark (void);

G_END_DECLS
