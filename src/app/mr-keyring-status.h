/* mr-keyring-status.h: shows on a row whether a password is in the keyring, without blocking */
#pragma once

#include <adwaita.h>

#include "mr-secrets.h"

G_BEGIN_DECLS

/* Looks the account up asynchronously and sets @row's subtitle (and shows @forget_button when
 * something is stored). @account NULL says what is missing instead (@missing_reason). */
void mr_keyring_status_update (AdwActionRow          *row,
                               GtkWidget             *forget_button,
                               const MrSecretAccount *account,
                               const char            *missing_reason,
                               GCancellable          *cancellable);

G_END_DECLS
