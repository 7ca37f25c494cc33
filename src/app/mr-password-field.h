/* mr-password-field.h: a password row and its keyring row, shared by the settings pages
 *
 * The password typed in @password_row goes to the keyring when the page saves, for the account
 * mr_settings_get_account() names for @scope; @keyring_row says whether one is stored (looked up
 * without blocking) and @forget_button removes it. The password itself is never kept anywhere else.
 */
#pragma once

#include <adwaita.h>

#include "mailroom-settings.h"

G_BEGIN_DECLS

#define MR_TYPE_PASSWORD_FIELD (mr_password_field_get_type ())

G_DECLARE_FINAL_TYPE (MrPasswordField, mr_password_field, MR, PASSWORD_FIELD, GObject)

MrPasswordField *mr_password_field_new          (MrSettings          *settings,
                                                 MrScope              scope,
                                                 AdwPasswordEntryRow *password_row,
                                                 AdwActionRow        *keyring_row,
                                                 GtkWidget           *forget_button);
/* The same for the person's own Exchange (EWS) password (service "exchange"). */
MrPasswordField *mr_password_field_new_for_exchange (MrSettings          *settings,
                                                     AdwPasswordEntryRow *password_row,
                                                     AdwActionRow        *keyring_row,
                                                     GtkWidget           *forget_button);
/* Whether a password was typed and waits to be saved. */
gboolean         mr_password_field_get_pending  (MrPasswordField     *self);
void             mr_password_field_clear        (MrPasswordField     *self);
void             mr_password_field_refresh      (MrPasswordField     *self);
/* What the keyring row says while no password is stored (NULL: "Not stored yet: type it above and
 * save"); the read-only Company page says whose password it is. */
void             mr_password_field_set_not_stored_text (MrPasswordField *self,
                                                        const char      *text);

/* Stores the typed password, if any, then empties the row. Returns TRUE at once when nothing was
 * typed. Errors: those of mr_settings_get_account() and mr_secrets_store_finish(); the password
 * then stays in its row. */
void             mr_password_field_store_async  (MrPasswordField     *self,
                                                 GCancellable        *cancellable,
                                                 GAsyncReadyCallback  callback,
                                                 gpointer             user_data);
gboolean         mr_password_field_store_finish (MrPasswordField     *self,
                                                 GAsyncResult        *result,
                                                 GError             **error);

/* Stores the typed password and completes @task (a page's save) with the outcome. */
void             mr_password_field_store_for_task (MrPasswordField   *self,
                                                 GTask               *task);

G_END_DECLS
