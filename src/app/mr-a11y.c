/* mr-a11y.c: names for the parts GTK 4.8 and libadwaita 1.2 leave without one */

#include "config.h"

#include <glib/gi18n.h>

#include "mr-a11y.h"

typedef gboolean (*Match) (GtkWidget *widget);

/* The first descendant of @widget that @match takes, depth first. */
static GtkWidget *
find_descendant (GtkWidget *widget,
                 Match      match)
{
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL; child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found;

      if (match (child))
        return child;
      if ((found = find_descendant (child, match)) != NULL)
        return found;
    }
  return NULL;
}

static gboolean
is_button (GtkWidget *widget)
{
  return GTK_IS_BUTTON (widget);
}

/* The show-password button is the one with the eye icon; the row holds other buttons (Apply). */
static gboolean
is_peek_button (GtkWidget *widget)
{
  return GTK_IS_BUTTON (widget) && gtk_button_get_icon_name (GTK_BUTTON (widget)) != NULL &&
         g_str_has_prefix (gtk_button_get_icon_name (GTK_BUTTON (widget)), "view-");
}

void
mr_a11y_name_drop_down (GtkDropDown *drop_down,
                        const char  *name)
{
  GtkWidget *button = find_descendant (GTK_WIDGET (drop_down), is_button);

  gtk_accessible_update_property (GTK_ACCESSIBLE (drop_down), GTK_ACCESSIBLE_PROPERTY_LABEL, name, -1);
  if (button != NULL)
    gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL, name, -1);
}

void
mr_a11y_name_password_row (AdwPasswordEntryRow *row)
{
  GtkWidget *button = find_descendant (GTK_WIDGET (row), is_peek_button);

  g_return_if_fail (button != NULL);
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL, _("Show password"), -1);
}
