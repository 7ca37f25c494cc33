/* mr-template-editor.h: a template changed where the work is, without leaving it
 *
 * A window over the mailshot wizard (and whatever else needs one) with the template's subject, its
 * formatted message in the editor (mr-editor.h; HTML source without WebKitGTK) whose Insert Field
 * lists the fields given (the list's columns, the template's own), and its text part when it has
 * one written by hand, and whether the signatures go below it. Save keeps the changes in the template itself, one's own only (a company
 * template is the administrator's: the button says so); Save as New… keeps them as a new template
 * of one's own. Either emits "saved" with the name it was stored under and closes.
 */
#pragma once

#include <adwaita.h>

#include "mailroom-message.h"

G_BEGIN_DECLS

#define MR_TYPE_TEMPLATE_EDITOR (mr_template_editor_get_type ())
G_DECLARE_FINAL_TYPE (MrTemplateEditor, mr_template_editor, MR, TEMPLATE_EDITOR, AdwWindow)

GtkWidget  *mr_template_editor_new             (GtkWindow          *parent,
                                                const MrTemplate   *template_,
                                                const char * const *fields);
/* The template as the window now has it (a new copy). */
MrTemplate *mr_template_editor_get_edited      (MrTemplateEditor   *self);
/* Save: in place. Errors: MR_TEMPLATE_ERROR_INVALID for a company template, and those of
 * mr_template_save_personal(). */
gboolean    mr_template_editor_save            (MrTemplateEditor   *self,
                                                GError            **error);
/* Save as New: among one's own templates as @name, replacing one's own of that name. */
gboolean    mr_template_editor_save_as         (MrTemplateEditor   *self,
                                                const char         *name,
                                                GError            **error);
GtkWidget  *mr_template_editor_get_editor      (MrTemplateEditor   *self);
GtkWidget  *mr_template_editor_get_subject_row (MrTemplateEditor   *self);
GtkWidget  *mr_template_editor_get_save_button (MrTemplateEditor   *self);
GtkWidget  *mr_template_editor_get_signature_switch (MrTemplateEditor *self);

G_END_DECLS
