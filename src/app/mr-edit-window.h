/* mr-edit-window.h: the pieces the windows that edit one thing share
 *
 * - The frame: Cancel and Save in the header bar (Save the default, Escape cancels), a line that
 *   says why it could not be saved, and the room below: the signature's window and the template's.
 * - The dialog that asks a template's name (Save as Template in Compose, Save as New in the
 *   template's window): it says when one of one's own templates has that name, and then offers
 *   Replace.
 */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

typedef struct {
  GtkWidget *header;        /* AdwHeaderBar: more buttons go at its end */
  GtkWidget *save_button;
  GtkWidget *error_label;   /* hidden until mr_edit_window_show_error() */
  GtkWidget *content;       /* a vertical GtkBox */
} MrEditWindow;

/* Fills @window (an AdwWindow) with the frame; @parts says where its pieces are. */
void        mr_edit_window_build          (AdwWindow    *window,
                                           MrEditWindow *parts);
void        mr_edit_window_show_error     (MrEditWindow *parts,
                                           const char   *message);

/* A text box for such a window: a wrapping GtkTextView (*@view) holding @text, named @label for
 * screen readers, in a scrolled card. */
GtkWidget  *mr_edit_window_text_box       (GtkWidget   **view,
                                           const char   *text,
                                           const char   *label,
                                           gboolean      monospace);
/* All the text of @view. */
char       *mr_text_view_get_all          (GtkTextView  *view);

/* Whether one of one's own templates is named @name. */
gboolean    mr_is_own_template            (const char   *name);
/* An AdwMessageDialog over @parent with "cancel" and "save" responses and the name typed in it,
 * @name to begin with. */
GtkWidget  *mr_template_name_dialog_new   (GtkWindow    *parent,
                                           const char   *heading,
                                           const char   *name);
const char *mr_template_name_dialog_get_name (GtkWidget *dialog);

G_END_DECLS
