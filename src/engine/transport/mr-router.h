/* mr-router.h: a route is a transport of its own
 *
 * An MrRouter is the MrTransport a caller asks for: built from the settings of a person and an
 * application for a route, it holds the transports the route names and sends through them:
 *
 *   "smtp"      the SMTP server of the settings, or the sendmail program (delivery.mode);
 *   "exchange"  Exchange, by EWS or Microsoft Graph (exchange.transport);
 *   "auto"      the company's exchange.preferred transport, then the other one when exchange.fallback
 *               allows it and the first cannot send at all (mr_transport_failure_allows_fallback():
 *               unreachable, TLS, login, not set up, a 5.7.x policy refusal of the sender); never
 *               after a refused recipient.
 *
 * Transports are made when first needed, so that one that cannot even be made (no server, not set
 * up) is a failed try like any other. Each try is recorded (mr_router_get_tries()), and a caller may
 * be told of each fallback as it happens (the outbox writes it in the sent log). After a fallback the
 * router stays on the transport that works for the rest of its session.
 *
 * A new transport is one file and one line in this router's table (mr-router.c); transports made
 * outside the engine (the tests') are added with mr_router_register_transport().
 */
#pragma once

#include "mr-settings.h"
#include "mr-transport.h"

G_BEGIN_DECLS

/* Makes a transport for @app's settings. @password: one the caller asked for when the keyring has
 * none, or NULL; a transport without passwords ignores it. */
typedef MrTransport *(*MrTransportFactory) (MrSettings  *settings,
                                            const char  *app,
                                            const char  *password,
                                            GError     **error);

/* Adds a transport under @name, which then is a route of its own ("smtp", "exchange" and "auto" are
 * taken). For transports that are not Mailroom's own: the tests register theirs. */
void         mr_router_register_transport (const char          *name,
                                           MrTransportFactory   factory);

/* Whether @route names a route: smtp, exchange, auto, or a registered transport. */
gboolean     mr_router_has_route          (const char          *route);

/* One try of a message on one transport of the route. */
typedef struct {
  char       *name;     /* as the sent log records it: smtp, sendmail, ews, graph … */
  char       *server;   /* or NULL when the transport could not be made */
  GError     *error;    /* NULL for the try that sent */
} MrRouterTry;

#define MR_TYPE_ROUTER (mr_router_get_type ())
G_DECLARE_FINAL_TYPE (MrRouter, mr_router, MR, ROUTER, GObject)

/* @route: see above; NULL is "smtp". Errors: MR_TRANSPORT_FAILURE_NOT_SET_UP for an unknown route.
 * A transport of the route that cannot be made is a failed try when it is reached (see
 * mr_router_check()). */
MrRouter    *mr_router_new                (MrSettings          *settings,
                                           const char          *app,
                                           const char          *route,
                                           const char          *password,
                                           GError             **error);

/* Whether a transport of the route could be made from the settings; FALSE with why the first could
 * not when none could (no server, no From address, Exchange not set up). */
gboolean     mr_router_check              (MrRouter            *self,
                                           GError             **error);

/* Called before the router moves on to the next transport after @failed_try: FALSE (with @error)
 * stops the send with that error. */
typedef gboolean (*MrRouterFallbackFunc) (MrRouter          *router,
                                          const MrRouterTry *failed_try,
                                          gpointer           user_data,
                                          GError           **error);

void         mr_router_set_fallback_func  (MrRouter            *self,
                                           MrRouterFallbackFunc func,
                                           gpointer             user_data);

/* The tries of the last mr_transport_open_sync() or mr_transport_send_sync(), in order
 * (MrRouterTry). */
GPtrArray   *mr_router_get_tries          (MrRouter            *self);

G_END_DECLS
