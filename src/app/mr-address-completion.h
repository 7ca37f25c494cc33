/* mr-address-completion.h: To, Cc and Bcc offer the addresses mail went to before, as one types
 *
 * Attached to an entry row that holds addresses separated by commas: the address being typed (after
 * the last comma) is looked up in the sent log (mr_sent_log_complete_addresses(), most used first)
 * a moment after the last key, in a thread, and the matches are listed under the row. Down and Up
 * move through them, Enter or Tab takes the one chosen (the typed part is replaced, and ", " added
 * for the next), Escape closes the list; a click takes one too. Addresses already in the field are
 * not offered again.
 */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

void     mr_address_completion_attach          (AdwEntryRow *row);

/* The addresses offered now (none when the list is closed). */
GStrv    mr_address_completion_get_suggestions (AdwEntryRow *row);
/* Whether a lookup is on its way (for tests). */
gboolean mr_address_completion_is_busy         (AdwEntryRow *row);

G_END_DECLS
