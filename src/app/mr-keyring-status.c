/* mr-keyring-status.c: shows on a row whether a password is in the keyring, without blocking */

#include "config.h"

#include <glib/gi18n.h>

#include "mr-keyring-status.h"

typedef struct {
  AdwActionRow *row;
  GtkWidget    *forget_button;
} StatusData;

static void
status_data_free (StatusData *data)
{
  g_clear_weak_pointer (&data->row);
  g_clear_weak_pointer (&data->forget_button);
  g_free (data);
}

static void
on_lookup_done (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  StatusData *data = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(MrSecret) password = mr_secrets_lookup_finish (result, &error);

  if (data->row == NULL || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      status_data_free (data);
      return;
    }

  if (error != NULL)
    adw_action_row_set_subtitle (data->row, error->message);
  else if (password != NULL)
    adw_action_row_set_subtitle (data->row, _("Stored in your keyring"));
  else
    adw_action_row_set_subtitle (data->row, _("Not stored yet: type it above and save"));
  if (data->forget_button != NULL)
    gtk_widget_set_visible (data->forget_button, password != NULL);
  status_data_free (data);
}

void
mr_keyring_status_update (AdwActionRow          *row,
                          GtkWidget             *forget_button,
                          const MrSecretAccount *account,
                          const char            *missing_reason,
                          GCancellable          *cancellable)
{
  StatusData *data;

  gtk_widget_set_visible (forget_button, FALSE);
  if (account == NULL)
    {
      adw_action_row_set_subtitle (row, missing_reason);
      return;
    }

  adw_action_row_set_subtitle (row, _("Checking the keyring…"));
  data = g_new0 (StatusData, 1);
  g_set_weak_pointer (&data->row, row);
  g_set_weak_pointer (&data->forget_button, forget_button);
  mr_secrets_lookup_async (account, cancellable, on_lookup_done, data);
}
