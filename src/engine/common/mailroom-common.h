/* mailroom-common.h: the public headers of the engine's common part: errors and their exit
 * statuses, JSON, SQLite
 *
 * The window and mailroom-cli include this, not single headers; the part's *-private.h headers
 * stay inside it. */
#pragma once

#include "mr-error.h"
#include "mr-json.h"
#include "mr-sqlite.h"
