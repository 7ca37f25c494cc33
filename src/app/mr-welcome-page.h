/* mr-welcome-page.h: the first window: set up from an email address
 *
 * Shown on a first start, when neither the company nor the person has any settings yet. It asks one
 * thing, an email address, finds the server from it (mr-discover.h) and says which step found it;
 * "Use These Settings" saves it (the company's settings for someone who may write them, their own
 * otherwise). Where the server takes a password, a second step asks who logs in (the admin chooses:
 * the company with one login, or each person), the login and the password (to the keyring), proves
 * them with Check Server and offers Send Test Email to the address itself. "done" then names the
 * page to show next and what to tell the person there. Someone who may not write the company's settings is told, in plain words,
 * that the company's mail is not set up and whom to ask.
 */
#pragma once

#include <adwaita.h>

#include "mailroom-settings.h"

G_BEGIN_DECLS

#define MR_TYPE_WELCOME_PAGE (mr_welcome_page_get_type ())

G_DECLARE_FINAL_TYPE (MrWelcomePage, mr_welcome_page, MR, WELCOME_PAGE, AdwBin)

MrWelcomePage *mr_welcome_page_new         (MrSettings    *settings);
/* Whether a search is under way (for tests). */
gboolean       mr_welcome_page_get_busy    (MrWelcomePage *self);
/* "address" (the first step) or "login" (who logs in, the password, the check and a test email). */
const char    *mr_welcome_page_get_step    (MrWelcomePage *self);
/* What the last search found, in words, or NULL. */
const char    *mr_welcome_page_get_found   (MrWelcomePage *self);

/* Whether a window should open on the welcome: no company settings, and none of the person's. */
gboolean       mr_welcome_page_is_needed   (MrSettings    *settings);

G_END_DECLS
