/* mr-signature-row.h: a signature in My Settings or Company Settings, and its editor
 *
 * A row that shows the signature in a line ("Anna Müller · Sales") with Edit and Remove. Edit opens
 * a window with the formatted-text editor (mr-editor.h; a text box without WebKitGTK); Save keeps it
 * (mr-signature.h) and Remove takes it away, each with a toast that can undo it. When this user may
 * not write it (the company's folder is the admin's), the row is insensitive and says why.
 */
#pragma once

#include <adwaita.h>

#include "mailroom-message.h"

G_BEGIN_DECLS

#define MR_TYPE_SIGNATURE_ROW (mr_signature_row_get_type ())
G_DECLARE_FINAL_TYPE (MrSignatureRow, mr_signature_row, MR, SIGNATURE_ROW, AdwActionRow)

GtkWidget *mr_signature_row_new    (MrSignatureScope  scope);
/* Reads the signature again (another program may have changed it). */
void       mr_signature_row_reload (MrSignatureRow   *self);
/* Opens the editor window, as Edit does; returns it. */
GtkWindow *mr_signature_row_edit   (MrSignatureRow   *self);
/* What the editor window holds now: HTML, or the text box's text as HTML. */
char      *mr_signature_row_get_edited (MrSignatureRow *self);
/* The editor window's Save: FALSE, the reason shown in the window, when it could not be stored. */
gboolean   mr_signature_row_save_edited (MrSignatureRow *self);
/* Remove, as its button does: gone at once, with Undo in a toast. */
void       mr_signature_row_remove (MrSignatureRow   *self);
GtkWidget *mr_signature_row_get_edit_button (MrSignatureRow *self);
/* Undo of the last Save or Remove, as the toast's button does. */
void       mr_signature_row_undo   (MrSignatureRow   *self);

G_END_DECLS
