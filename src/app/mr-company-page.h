/* mr-company-page.h: the Company Settings page (the admin's "SMTP tab") */
#pragma once

#include <adwaita.h>

#include "mr-settings-form.h"

G_BEGIN_DECLS

#define MR_TYPE_COMPANY_PAGE (mr_company_page_get_type ())

G_DECLARE_FINAL_TYPE (MrCompanyPage, mr_company_page, MR, COMPANY_PAGE, AdwBin)

MrCompanyPage  *mr_company_page_new          (MrSettings          *settings);
MrSettingsForm *mr_company_page_get_form     (MrCompanyPage       *self);
gboolean        mr_company_page_get_editable (MrCompanyPage       *self);
void            mr_company_page_revert       (MrCompanyPage       *self);
gboolean        mr_company_page_get_has_changes (MrCompanyPage    *self);

/* Writes the company file, then stores a typed password in the keyring.
 * Errors: those of mr_settings_form_commit() and of mr_secrets_store_finish(); when the
 * keyring fails the settings are saved and the password stays in its row. */
void            mr_company_page_save_async   (MrCompanyPage       *self,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
gboolean        mr_company_page_save_finish  (MrCompanyPage       *self,
                                              GAsyncResult        *result,
                                              GError             **error);

/* Check Again on the verified domains, as its button does; whether it is still at it. */
void            mr_company_page_check_domains        (MrCompanyPage *self);
gboolean        mr_company_page_get_checking_domains (MrCompanyPage *self);

G_END_DECLS
