/* mr-password-field.c: a password row and its keyring row, shared by the settings pages */

#include "config.h"

#include <glib/gi18n.h>

#include "mailroom-transport.h"
#include "mr-a11y.h"
#include "mr-password-field.h"

struct _MrPasswordField
{
  GObject              parent_instance;

  MrSettings          *settings;
  MrScope              scope;
  gboolean             exchange;       /* the person's Exchange (EWS) password, not an SMTP one */
  AdwPasswordEntryRow *password_row;   /* weak */
  AdwActionRow        *keyring_row;    /* weak */
  GtkWidget           *forget_button;  /* weak */
  GCancellable        *cancellable;
  char                *not_stored;     /* what the keyring row says when nothing is stored, or NULL */
};

G_DEFINE_FINAL_TYPE (MrPasswordField, mr_password_field, G_TYPE_OBJECT)

static const char *not_stored_text (MrPasswordField *self);

static void
mr_password_field_dispose (GObject *object)
{
  MrPasswordField *self = MR_PASSWORD_FIELD (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->forget_button != NULL)
    g_signal_handlers_disconnect_by_data (self->forget_button, self);
  g_clear_weak_pointer (&self->password_row);
  g_clear_weak_pointer (&self->keyring_row);
  g_clear_weak_pointer (&self->forget_button);
  g_clear_object (&self->settings);
  g_clear_pointer (&self->not_stored, g_free);

  G_OBJECT_CLASS (mr_password_field_parent_class)->dispose (object);
}

static void
mr_password_field_class_init (MrPasswordFieldClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = mr_password_field_dispose;
}

static void
mr_password_field_init (MrPasswordField *self)
{
  self->cancellable = g_cancellable_new ();
}

/* The keyring account the password belongs to. */
static MrSecretAccount *
get_account (MrPasswordField  *self,
             GError          **error)
{
  g_autoptr(MrExchange) exchange = NULL;
  const MrSecretAccount *account;

  if (!self->exchange)
    return mr_settings_get_account (self->settings, self->scope, NULL, error);
  exchange = mr_exchange_new_for_setup (self->settings, NULL, error);
  if (exchange == NULL)
    return NULL;
  account = mr_exchange_get_account (exchange);
  if (account == NULL)
    {
      g_set_error_literal (error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_INVALID_VALUE,
                           _("Exchange logs in without a password here: use Sign In"));
      return NULL;
    }
  return mr_secret_account_copy (account);
}

static void
on_lookup_done (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(MrPasswordField) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(MrSecret) password = mr_secrets_lookup_finish (result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || self->keyring_row == NULL)
    return;

  if (error != NULL)
    adw_action_row_set_subtitle (self->keyring_row, error->message);
  else if (password != NULL)
    adw_action_row_set_subtitle (self->keyring_row, _("Stored in your keyring"));
  else
    adw_action_row_set_subtitle (self->keyring_row, not_stored_text (self));
  if (self->forget_button != NULL)
    gtk_widget_set_visible (self->forget_button, password != NULL);
}

static const char *
not_stored_text (MrPasswordField *self)
{
  return self->not_stored ? self->not_stored : _("Not stored yet: type it above and save");
}

void
mr_password_field_set_not_stored_text (MrPasswordField *self,
                                       const char      *text)
{
  g_free (self->not_stored);
  self->not_stored = g_strdup (text);
}

void
mr_password_field_refresh (MrPasswordField *self)
{
  g_autoptr(MrSecretAccount) account = NULL;

  if (self->settings == NULL || self->keyring_row == NULL)  /* disposed */
    return;
  account = get_account (self, NULL);
  gtk_widget_set_visible (self->forget_button, FALSE);
  if (account == NULL)
    {
      adw_action_row_set_subtitle (self->keyring_row, not_stored_text (self));
      return;
    }
  adw_action_row_set_subtitle (self->keyring_row, _("Checking the keyring…"));
  mr_secrets_lookup_async (account, self->cancellable, on_lookup_done, g_object_ref (self));
}

static void
on_forget_done (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(MrPasswordField) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!mr_secrets_clear_finish (result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) && self->keyring_row != NULL)
        adw_action_row_set_subtitle (self->keyring_row, error->message);
      return;
    }
  mr_password_field_refresh (self);
}

static void
on_forget_clicked (MrPasswordField *self)
{
  g_autoptr(MrSecretAccount) account = get_account (self, NULL);

  if (account != NULL)
    mr_secrets_clear_async (account, self->cancellable, on_forget_done, g_object_ref (self));
}

MrPasswordField *
mr_password_field_new (MrSettings          *settings,
                       MrScope              scope,
                       AdwPasswordEntryRow *password_row,
                       AdwActionRow        *keyring_row,
                       GtkWidget           *forget_button)
{
  MrPasswordField *self = g_object_new (MR_TYPE_PASSWORD_FIELD, NULL);

  self->settings = g_object_ref (settings);
  self->scope = scope;
  g_set_weak_pointer (&self->password_row, password_row);
  mr_a11y_name_password_row (password_row);
  g_set_weak_pointer (&self->keyring_row, keyring_row);
  g_set_weak_pointer (&self->forget_button, forget_button);
  g_signal_connect_swapped (forget_button, "clicked", G_CALLBACK (on_forget_clicked), self);
  return self;
}

MrPasswordField *
mr_password_field_new_for_exchange (MrSettings          *settings,
                                    AdwPasswordEntryRow *password_row,
                                    AdwActionRow        *keyring_row,
                                    GtkWidget           *forget_button)
{
  MrPasswordField *self = mr_password_field_new (settings, MR_SCOPE_USER, password_row, keyring_row, forget_button);

  self->exchange = TRUE;
  return self;
}

gboolean
mr_password_field_get_pending (MrPasswordField *self)
{
  return self->password_row != NULL &&
         gtk_widget_get_visible (GTK_WIDGET (self->password_row)) &&
         *gtk_editable_get_text (GTK_EDITABLE (self->password_row)) != '\0';
}

void
mr_password_field_clear (MrPasswordField *self)
{
  if (self->password_row != NULL)
    gtk_editable_set_text (GTK_EDITABLE (self->password_row), "");
}

static void
on_stored (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  MrPasswordField *self = g_task_get_source_object (task);
  GError *error = NULL;

  if (!mr_secrets_store_finish (result, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  mr_password_field_clear (self);
  mr_password_field_refresh (self);
  g_task_return_boolean (task, TRUE);
}

void
mr_password_field_store_async (MrPasswordField     *self,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_autoptr(MrSecretAccount) account = NULL;
  GError *error = NULL;

  g_task_set_source_tag (task, mr_password_field_store_async);

  if (!mr_password_field_get_pending (self))
    {
      mr_password_field_refresh (self);
      g_task_return_boolean (task, TRUE);
      return;
    }

  account = get_account (self, &error);
  if (account == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  mr_secrets_store_async (account, gtk_editable_get_text (GTK_EDITABLE (self->password_row)), cancellable,
                          on_stored, g_steal_pointer (&task));
}

gboolean
mr_password_field_store_finish (MrPasswordField  *self,
                                GAsyncResult     *result,
                                GError          **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == mr_password_field_store_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
on_stored_for_task (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (mr_password_field_store_finish (MR_PASSWORD_FIELD (source), result, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
mr_password_field_store_for_task (MrPasswordField *self,
                                  GTask           *task)
{
  mr_password_field_store_async (self, g_task_get_cancellable (task), on_stored_for_task, g_object_ref (task));
}
