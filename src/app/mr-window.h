/* mr-window.h: the main window: a sidebar of places and the page for each */
#pragma once

#include <adwaita.h>

#include "mr-company-page.h"
#include "mr-compose-page.h"
#include "mr-mailshots-page.h"
#include "mr-sent-page.h"
#include "mr-welcome-page.h"
#include "mr-user-page.h"

G_BEGIN_DECLS

#define MR_TYPE_WINDOW (mr_window_get_type ())

G_DECLARE_FINAL_TYPE (MrWindow, mr_window, MR, WINDOW, AdwApplicationWindow)

MrWindow       *mr_window_new              (GtkApplication *application);

/* NULL while the settings cannot be read (the window then shows why). */
MrCompanyPage  *mr_window_get_company_page (MrWindow       *self);
MrUserPage     *mr_window_get_user_page    (MrWindow       *self);
MrComposePage  *mr_window_get_compose_page (MrWindow       *self);
MrSentPage     *mr_window_get_sent_page    (MrWindow       *self);
MrMailshotsPage *mr_window_get_mailshots_page (MrWindow     *self);
/* How many of the five pages exist: at start-up only the one shown, the others once the first
 * frame is up (or at once when asked for with the getters above). */
guint            mr_window_count_built_pages (MrWindow *self);
/* The welcome of a first start, or NULL once settings exist. */
MrWelcomePage  *mr_window_get_welcome_page (MrWindow       *self);
/* Shows the compose pane filled from a mailto: link. */
void            mr_window_open_mailto      (MrWindow       *self,
                                            const char     *uri);

/* "company", "user", "compose", "mailshots", "sent", or "welcome" (the company page when there is
 * no welcome). */
void            mr_window_show_page        (MrWindow       *self,
                                            const char     *name);
const char     *mr_window_get_page_name    (MrWindow       *self);
gboolean        mr_window_get_busy         (MrWindow       *self);
void            mr_window_toast            (MrWindow       *self,
                                            const char     *message);

/* Reads the settings files again and rebuilds the settings pages. */
void            mr_window_reload           (MrWindow       *self);

/* For mr-window-actions.c */
void            mr_window_save             (MrWindow       *self);
void            mr_window_revert           (MrWindow       *self);
void            mr_window_go_back          (MrWindow       *self);
void            _mr_window_class_actions_init (GtkWidgetClass *widget_class);
void            _mr_window_update_actions  (MrWindow       *self);

G_END_DECLS
