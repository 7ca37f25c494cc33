/* mr-user-page.h: the My Settings page (each person's name, address and own login) */
#pragma once

#include <adwaita.h>

#include "mr-settings-form.h"

G_BEGIN_DECLS

#define MR_TYPE_USER_PAGE (mr_user_page_get_type ())

G_DECLARE_FINAL_TYPE (MrUserPage, mr_user_page, MR, USER_PAGE, AdwBin)

MrUserPage     *mr_user_page_new             (MrSettings          *settings);
MrSettingsForm *mr_user_page_get_form        (MrUserPage          *self);
gboolean        mr_user_page_get_has_changes (MrUserPage          *self);
/* Reads the settings again: after a revert, or when the company changed what is locked. */
void            mr_user_page_revert          (MrUserPage          *self);

/* Writes the user file, then stores a typed password in the keyring.
 * Errors: those of mr_settings_form_commit() and of mr_secrets_store_finish(). */
void            mr_user_page_save_async      (MrUserPage          *self,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
gboolean        mr_user_page_save_finish     (MrUserPage          *self,
                                              GAsyncResult        *result,
                                              GError             **error);

G_END_DECLS
