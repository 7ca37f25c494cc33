/* mr-a11y.c: names for the parts GTK 4.8 and libadwaita 1.2 leave without one */

#include "config.h"

#include <glib/gi18n.h>

#include "mr-a11y.h"

/* The first descendant of @widget that is a @type, depth first. */
static GtkWidget *
find_descendant (GtkWidget *widget,
                 GType      type)
{
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL; child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found;

      if (G_TYPE_CHECK_INSTANCE_TYPE (child, type))
        return child;
      if ((found = find_descendant (child, type)) != NULL)
        return found;
    }
  return NULL;
}

void
mr_a11y_name_drop_down (GtkDropDown *drop_down,
                        const char  *name)
{
  GtkWidget *button = find_descendant (GTK_WIDGET (drop_down), GTK_TYPE_BUTTON);

  gtk_accessible_update_property (GTK_ACCESSIBLE (drop_down), GTK_ACCESSIBLE_PROPERTY_LABEL, name, -1);
  if (button != NULL)
    gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL, name, -1);
}

/* The show-password button is the one with the eye icon; the row holds other buttons (Apply). */
static GtkWidget *
find_peek_button (GtkWidget *widget)
{
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL; child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found;

      if (GTK_IS_BUTTON (child) && gtk_button_get_icon_name (GTK_BUTTON (child)) != NULL &&
          g_str_has_prefix (gtk_button_get_icon_name (GTK_BUTTON (child)), "view-"))
        return child;
      if ((found = find_peek_button (child)) != NULL)
        return found;
    }
  return NULL;
}

void
mr_a11y_name_password_row (AdwPasswordEntryRow *row)
{
  GtkWidget *button = find_peek_button (GTK_WIDGET (row));

  g_return_if_fail (button != NULL);
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL, _("Show password"), -1);
}
