/* mailroom-log.h: the public headers of the engine's log part: the sent log and the outbox
 *
 * The window and mailroom-cli include this, not single headers; the part's *-private.h headers
 * stay inside it. */
#pragma once

#include "mr-outbox.h"
#include "mr-sent-log.h"
