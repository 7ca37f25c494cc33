/* mr-compose-page-private.h: what the parts of the Compose page share
 *
 * mr-compose-page.c is the page (the fields, attachments, the text part, the formatted message);
 * mr-compose-templates.c its drafts, templates and Save as Template; mr-compose-send.c building
 * and sending the mail, and mailto: links. Each part binds its own callbacks.
 */
#pragma once

#include <adwaita.h>

#include "mailroom-message.h"
#include "mr-compose-page.h"

G_BEGIN_DECLS

struct _MrComposePage
{
  AdwBin               parent_instance;

  MrSettings          *settings;
  MrSentLog           *log;
  GPtrArray           *templates;      /* MrTemplate, in the combo's order after "Blank" */
  GHashTable          *variable_rows;  /* name → AdwEntryRow */
  GPtrArray           *attachments;    /* char* paths added here */
  GPtrArray           *attachment_rows;
  GCancellable        *cancellable;
  guint                draft_timeout;
  guint64              size_limit;     /* what the server last announced; 0: not known */
  gboolean             loading;
  gboolean             busy;

  AdwComboRow         *template_row;
  AdwComboRow         *via_row;
  AdwPreferencesPage  *preferences_page;
  AdwActionRow        *from_row;
  AdwEntryRow         *to_row;
  AdwEntryRow         *cc_row;
  AdwEntryRow         *bcc_row;
  AdwPreferencesGroup *variables_group;
  AdwEntryRow         *subject_row;
  GtkTextView         *text_view;
  GtkTextView         *html_view;
  AdwPreferencesGroup *text_group;
  GtkSwitch           *own_text_switch;
  gboolean             deriving;       /* the text part is being made from the HTML */
  AdwPreferencesGroup *html_group;
  GtkStack            *html_stack;
  GtkWidget           *source_button;
  GtkWidget           *editor;         /* MrEditor, with WebKitGTK; the source view is html_view */
  gboolean             syncing;        /* the editor and the source view follow each other */
  AdwPreferencesGroup *attachments_group;
  AdwActionRow        *signature_row;
  GtkSwitch           *signature_switch;
  AdwActionRow        *size_row;
  GtkSpinner          *spinner;
  GtkLabel            *status_label;
  GtkWidget           *fix_button;
  gboolean             blocked;       /* the status says why Send is off */
  GtkWidget           *send_button;
  GtkWidget           *cancel_button;
  GtkWidget           *preview_button;
  GtkWidget           *save_template_button;
  GtkWidget           *save_button;     /* the template chosen, changed in place */
};

/* ---- Each part's set-up, and what the parts call of each other ----------------------------- */

/* mr-compose-templates.c */
void mr_compose_page_templates_class_init (GtkWidgetClass *widget_class);
void mr_compose_page_templates_init (MrComposePage *self);
gboolean mr_compose_page_save_draft (gpointer user_data);
void mr_compose_page_restore_draft (MrComposePage *self);
/* Save: the template chosen, as it now is, in place; one's own templates only (the company's are
 * the administrator's, in a folder others cannot write). */
void mr_compose_page_update_save_state (MrComposePage *self);
void mr_compose_page_on_template_selected (MrComposePage *self);
void mr_compose_page_load_templates (MrComposePage *self);
void mr_compose_page_forget_draft (void);
/* How a logged route reads in a sentence. */
const char *mr_compose_page_route_label (const char *route);
void mr_compose_page_schedule_draft (MrComposePage *self);

/* mr-compose-send.c */
void mr_compose_page_send_class_init (GtkWidgetClass *widget_class);
void mr_compose_page_on_send_clicked (MrComposePage *self);
/* Send is insensitive while no mail could go, and the reason stands beside it with the button
 * that leads to the fix. */
void mr_compose_page_update_send_state (MrComposePage *self);

/* mr-compose-page.c */
/* ::sent: a mail went, or failed to. */
void mr_compose_page_emit_sent (MrComposePage *self);
void mr_compose_page_refresh_variables (MrComposePage *self);
/* After the bodies were set from a template, a draft or a link: the text is one's own when it has
 * anything in it, or when there is nothing formatted to make it from. */
void mr_compose_page_settle_own_text (MrComposePage *self);
void mr_compose_page_check_address_row (AdwEntryRow *row);
void mr_compose_page_set_buffer_text (GtkTextView *view,
                                      const char  *text);
/* The typed values as data; dotted names make nested objects. */
JsonNode *mr_compose_page_variables_data (MrComposePage *self);
/* "a@x, b@y" → addresses; FALSE with the first bad one named. */
gboolean mr_compose_page_parse_addresses (const char  *text,
                                          GPtrArray   *into,
                                          GError     **error);
/* The limit of the server the selected template's profile sends through, from the last connection. */
void mr_compose_page_refresh_size_limit (MrComposePage *self);
void mr_compose_page_set_status (MrComposePage *self,
                                 const char    *text);
MrTemplate *mr_compose_page_selected_template (MrComposePage *self);
MrTemplate *mr_compose_page_template_from_fields (MrComposePage *self);
void mr_compose_page_rebuild_attachments (MrComposePage *self);
gboolean mr_compose_page_own_text (MrComposePage *self);

G_END_DECLS
