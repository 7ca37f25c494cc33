/* mr-exchange-private.h: what the three files of MrExchange share, and nothing else includes
 *
 * mr-exchange.c is the connection to Exchange (the settings, the HTTP session, the login, the
 * transcript, the reading of failures); mr-exchange-ews.c speaks EWS (SOAP, its URL and
 * autodiscover); mr-exchange-graph.c speaks Microsoft Graph.
 */
#pragma once

#include <libsoup/soup.h>

#include "mr-exchange.h"
#include "mr-token-source.h"

G_BEGIN_DECLS

/* Busy answers shorter than this are waited out here; longer ones go back to the outbox. */
#define LONGEST_WAIT_MS 10000
#define BUSY_TRIES 3

struct _MrExchange
{
  GObject          parent_instance;

  char            *transport;        /* "ews" or "graph" */
  char            *ews_url;          /* NULL until set or discovered */
  gboolean         ews_url_kept;     /* found by an earlier autodiscover (see cached_ews_url()) */
  char            *auth;             /* ntlm, basic, negotiate, oauth2 */
  MrSecretAccount *account;          /* the EWS password's; NULL with OAuth2 or Negotiate */
  char            *password;
  char            *from_address;
  char            *mailbox;          /* Graph: a shared mailbox to send from; NULL for "me" */
  gboolean         save_copy;
  char            *trust_file;
  GTlsDatabase    *tls_database;
  guint            timeout_s;
  char            *graph_endpoint;
  MrTokenSource   *tokens;           /* OAuth2: whose sign-in, and its access tokens */
  char            *route;
  char            *warning;

  SoupSession     *session;          /* made in the thread that sends */
  GMutex           lock;             /* guards transcript */
  GString         *transcript;
  char            *reply;
  guint            retry_after;
  /* The last access token, kept for the requests of its lifetime (a mailshot's mails). */
  /* Autodiscover's host rules, for the authenticate handler. */
  char            *trusted_domain;
  char            *allowed_host;
  gboolean         password_refused;
};

/* The connection (mr-exchange.c) */
void         mr_exchange_note                   (MrExchange    *self,
                                                 const char    *format,
                                                 ...) G_GNUC_PRINTF (2, 3);
void         mr_exchange_set_reply              (MrExchange    *self,
                                                 const char    *reply);
/* Sets @body again when libsoup repeats the request (NTLM's handshake). */
void         mr_exchange_set_body               (SoupMessage   *message,
                                                 const char    *type,
                                                 GBytes        *body);
/* Whether a password may go to @host: the admin's URL, or autodiscover's domain (or the person's yes). */
gboolean     mr_exchange_host_is_trusted        (MrExchange    *self,
                                                 const char    *host);
/* The "authenticate" handler of every request that may log in with a password. */
gboolean     mr_exchange_on_authenticate        (SoupMessage   *message,
                                                 SoupAuth      *auth,
                                                 gboolean       retrying,
                                                 MrExchange    *self);
SoupSession *mr_exchange_ensure_session         (MrExchange    *self,
                                                 GError       **error);
gboolean     mr_exchange_find_password          (MrExchange    *self,
                                                 GCancellable  *cancellable,
                                                 GError       **error);
void         mr_exchange_set_unauthorized_error (MrExchange    *self,
                                                 SoupMessage   *message,
                                                 GError       **error);
gboolean     mr_exchange_add_bearer             (MrExchange    *self,
                                                 SoupMessage   *message,
                                                 const char    *scope,
                                                 GCancellable  *cancellable,
                                                 GError       **error);
gboolean     mr_exchange_check_https            (MrExchange    *self,
                                                 const char    *url,
                                                 GError       **error);

/* EWS (mr-exchange-ews.c) */
gboolean     mr_exchange_ews_send               (MrExchange          *self,
                                                 GBytes              *message,
                                                 const char * const  *to,
                                                 const char * const  *cc,
                                                 const char * const  *bcc,
                                                 GCancellable        *cancellable,
                                                 GError             **error);
gboolean     mr_exchange_ews_check              (MrExchange          *self,
                                                 GCancellable        *cancellable,
                                                 GError             **error);

/* Microsoft Graph (mr-exchange-graph.c) */
gboolean     mr_exchange_graph_send             (MrExchange          *self,
                                                 GBytes              *message,
                                                 const char * const  *to,
                                                 const char * const  *cc,
                                                 const char * const  *bcc,
                                                 GCancellable        *cancellable,
                                                 GError             **error);
gboolean     mr_exchange_graph_check            (MrExchange          *self,
                                                 GCancellable        *cancellable,
                                                 GError             **error);

G_END_DECLS
