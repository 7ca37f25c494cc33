/* mr-sign-in.h: a "Sign In…" row and its button, shared by the settings pages
 *
 * Says whether the person is signed in (the refresh token in the keyring, looked up without
 * blocking) and signs them in when the button is pressed: with a device code for Microsoft (a dialog
 * shows the address and the code, and waits), or in the browser for Google (a dialog waits for the
 * loopback redirect). The network and the keyring are used in worker threads only; closing the
 * dialog cancels the sign-in.
 */
#pragma once

#include <adwaita.h>

#include "mailroom-settings.h"

G_BEGIN_DECLS

typedef enum {
  MR_SIGN_IN_EXCHANGE,  /* Microsoft, for Graph or EWS */
  MR_SIGN_IN_SMTP,      /* SMTP's XOAUTH2: Google for Gmail, Microsoft otherwise */
} MrSignInFor;

#define MR_TYPE_SIGN_IN (mr_sign_in_get_type ())

G_DECLARE_FINAL_TYPE (MrSignIn, mr_sign_in, MR, SIGN_IN, GObject)

MrSignIn *mr_sign_in_new     (MrSettings   *settings,
                              MrSignInFor   what,
                              AdwActionRow *row,
                              GtkButton    *button);
/* Looks the sign-in up again (after the settings changed). */
void      mr_sign_in_refresh (MrSignIn     *self);

G_END_DECLS
