/* mr-compose-page.h: the compose pane: a template or a blank mail, recipients, variables, attachments */
#pragma once

#include <adwaita.h>

#include "mailroom-log.h"
#include "mailroom-settings.h"

G_BEGIN_DECLS

#define MR_TYPE_COMPOSE_PAGE (mr_compose_page_get_type ())

G_DECLARE_FINAL_TYPE (MrComposePage, mr_compose_page, MR, COMPOSE_PAGE, AdwBin)

MrComposePage *mr_compose_page_new            (MrSettings    *settings,
                                               MrSentLog     *log);
/* Fills the pane from a mailto: link (RFC 6068): addresses, subject, body, cc, bcc. */
gboolean       mr_compose_page_open_mailto    (MrComposePage *self,
                                               const char    *uri);
/* Selects a template by name; FALSE when there is none. */
gboolean       mr_compose_page_select_template (MrComposePage *self,
                                               const char    *name);
gboolean       mr_compose_page_set_variable   (MrComposePage *self,
                                               const char    *name,
                                               const char    *value);
/* Stores what the pane holds (bodies, subject, attachments) as the person's own template @name,
 * replacing theirs of that name, and selects it. Errors: those of mr_template_save_personal(). */
gboolean       mr_compose_page_save_as_template (MrComposePage *self,
                                                 const char    *name,
                                                 GError       **error);
/* What the file chooser and a drop do. */
/* Keyboard: focus on To (Ctrl+N); Send as the button does, when it can go (Ctrl+Enter). */
void           mr_compose_page_focus_recipients (MrComposePage *self);
void           mr_compose_page_send           (MrComposePage *self);
void           mr_compose_page_attach_file    (MrComposePage *self,
                                               const char    *path);
gboolean       mr_compose_page_get_busy       (MrComposePage *self);
const char    *mr_compose_page_get_status     (MrComposePage *self);
/* The sender the mail will show ("Example Office <office@example.com>"), or "Not set yet". */
const char    *mr_compose_page_get_from   (MrComposePage *self);

/* The formatted-message editor (MrEditor), or NULL without WebKitGTK. */
GtkWidget      *mr_compose_page_get_editor       (MrComposePage *self);

/* Saves the chosen template as it now is, in place: one's own templates only. */
gboolean        mr_compose_page_save_template    (MrComposePage  *self,
                                                  GError        **error);

G_END_DECLS
