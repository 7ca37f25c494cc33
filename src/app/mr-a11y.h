/* mr-a11y.h: names for the parts GTK 4.8 and libadwaita 1.2 leave without one
 *
 * A screen reader says the name of what has the focus. Some widgets take the focus on an inner
 * part that has no name of its own: a GtkDropDown's button, the show-password button of an
 * AdwPasswordEntryRow. These give those parts a name; tests/a11y.py checks that nothing a person
 * can focus and act on is left without one.
 */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

/* Names @drop_down and the button inside it that takes the focus. */
void mr_a11y_name_drop_down     (GtkDropDown         *drop_down,
                                 const char          *name);
/* Names the row's button that shows or hides the password. */
void mr_a11y_name_password_row  (AdwPasswordEntryRow *row);

G_END_DECLS
