/* mailroom-mailshot.h: the public headers of the engine's mailshot part: recipients and
 * spreadsheets, the proof-reader, the journal and its workers, the timer, suppression
 *
 * The window and mailroom-cli include this, not single headers; the part's *-private.h headers
 * stay inside it. */
#pragma once

#include "mr-cell-format.h"
#include "mr-mailshot.h"
#include "mr-proofreader.h"
#include "mr-recipients.h"
#include "mr-spreadsheet.h"
#include "mr-string-store.h"
#include "mr-suppression.h"
#include "mr-timer.h"
