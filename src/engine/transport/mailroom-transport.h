/* mailroom-transport.h: the public headers of the engine's transport part: one interface for
 * sending (MrTransport), the router, SMTP, sendmail, Exchange, OAuth 2.0
 *
 * The window and mailroom-cli include this, not single headers; the part's *-private.h headers
 * stay inside it. */
#pragma once

#include "mr-delivery.h"
#include "mr-ews.h"
#include "mr-exchange-error.h"
#include "mr-exchange-transport.h"
#include "mr-exchange.h"
#include "mr-http.h"
#include "mr-oauth.h"
#include "mr-router.h"
#include "mr-sasl.h"
#include "mr-smtp-client.h"
#include "mr-smtp-error.h"
#include "mr-smtp-transport.h"
#include "mr-token-source.h"
#include "mr-transport.h"
