/* mr-routes.h: the rows of a "Send via" choice (compose, mailshots)
 *
 * The rows are SMTP, Exchange and Automatic (as the company prefers), in that order, as the .ui
 * files list them; these map a row to the engine's route ("smtp", "exchange", "auto") and back.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The route of row @index; out of range: "smtp". */
const char *mr_route_for_row (guint       index);
/* The row of @route; NULL or unknown: the SMTP row. */
guint       mr_route_get_row (const char *route);

G_END_DECLS
