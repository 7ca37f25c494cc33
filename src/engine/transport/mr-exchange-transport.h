/* mr-exchange-transport.h: MrTransport over Exchange, by EWS or Microsoft Graph
 *
 * Each message is one request (EWS CreateItem, Graph sendMail, or a draft and its attachments when
 * it is over Graph's 4 MB a request), made by MrExchange with exchange.transport's protocol. The
 * transport's name is "ews" or "graph", as the sent log records it.
 */
#pragma once

#include "mr-exchange.h"
#include "mr-transport.h"

G_BEGIN_DECLS

#define MR_TYPE_EXCHANGE_TRANSPORT (mr_exchange_transport_get_type ())
G_DECLARE_FINAL_TYPE (MrExchangeTransport, mr_exchange_transport, MR, EXCHANGE_TRANSPORT, GObject)

/* @password: one the person typed when the keyring had none, or NULL. Errors: those of mr_exchange_new(). */
MrTransport *mr_exchange_transport_new (MrSettings  *settings,
                                        const char  *app,
                                        const char  *password,
                                        GError     **error);

G_END_DECLS
