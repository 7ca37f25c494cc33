/* mr-editor.h: writing a mail's formatted body as in a word processor
 *
 * A WebKitWebView in editing mode (as Evolution's composer is) under a toolbar: bold, italic,
 * underline, paragraph and headings, bulleted and numbered lists, alignment, a link (a dialog that
 * checks the address), a horizontal rule, undo and redo, and Insert Field. The toolbar follows the
 * formatting under the caret. Ctrl+B, Ctrl+I, Ctrl+U, Ctrl+Z and Ctrl+Shift+Z are WebKit's own;
 * Ctrl+K opens the link dialog.
 *
 * Merge fields are chips that cannot be edited inside; the HTML the editor gives has them as
 * {{name}}. Sections ({{#items}}) stay text. What is pasted or dropped is cleaned first
 * (mr-html-clean.h); pictures from the web are offered to be embedded.
 *
 * The page runs no script of its own and loads nothing (its Content Security Policy), and links in
 * it do not open. Only built with WebKitGTK: without it, the HTML is edited as source.
 */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define MR_TYPE_EDITOR (mr_editor_get_type ())
G_DECLARE_FINAL_TYPE (MrEditor, mr_editor, MR, EDITOR, GtkBox)

GtkWidget  *mr_editor_new              (void);

/* The body to edit (cleaned first). "changed" follows, as after every edit. */
void        mr_editor_set_html         (MrEditor           *self,
                                        const char         *html);
/* The body as edited, merge fields as {{name}}: "" before the page has loaded. */
const char *mr_editor_get_html         (MrEditor           *self);
/* Whether the page is ready and the HTML given has reached it. */
gboolean    mr_editor_is_ready         (MrEditor           *self);
/* Asks the page for its HTML and formatting as they are now, after everything asked of it before;
 * mr_editor_is_synced() says when they are in. For whoever reads the editor right after changing
 * it. */
guint       mr_editor_sync             (MrEditor           *self);
gboolean    mr_editor_is_synced        (MrEditor           *self,
                                        guint               sync);

/* The fields Insert Field lists (the template's, the list's columns); NULL: none. */
void        mr_editor_set_fields       (MrEditor           *self,
                                        const char * const *fields);
void        mr_editor_insert_field     (MrEditor           *self,
                                        const char         *name);

/* A formatting command as the toolbar gives it: "bold", "italic", "underline", "p", "h1", "h2",
 * "h3", "ul", "ol", "left", "center", "right", "hr", "undo", "redo". */
void        mr_editor_format           (MrEditor           *self,
                                        const char         *command);
/* A link to @address on the selection (or the address itself as the text). Returns FALSE, with
 * why in @error, for an address that is not a web or mail address. */
gboolean    mr_editor_add_link         (MrEditor           *self,
                                        const char         *address,
                                        GError            **error);
/* A picture from @path (PNG, JPEG, GIF or WebP, at most 5 MB) at the caret, in the mail itself:
 * shown from a data: URI here, sent as an inline part (mr_outgoing_embed_images()). FALSE with
 * why in @error. */
gboolean    mr_editor_insert_image     (MrEditor           *self,
                                        const char         *path,
                                        GError            **error);
/* Pastes @html (or @text when @html is NULL) as the clipboard would, cleaned. */
void        mr_editor_paste            (MrEditor           *self,
                                        const char         *html,
                                        const char         *text);

/* Pictures from the web that a paste held (mr-remote-image.h): shown where they were, marked, with
 * a bar that offers to embed them. Embed fetches them in a thread and puts each in its place as a
 * data: URI (one that cannot be fetched is left out, and "notice" says why); Leave Out takes them
 * out. Until then they are not in the HTML the editor gives. */
guint       mr_editor_get_n_remote_pictures (MrEditor        *self);
gboolean    mr_editor_get_fetching     (MrEditor           *self);
void        mr_editor_embed_pictures   (MrEditor           *self);
void        mr_editor_leave_out_pictures (MrEditor         *self);

/* Whether the toolbar shows @command ("bold", …, "ul", "center") as on under the caret. */
gboolean    mr_editor_get_active       (MrEditor           *self,
                                        const char         *command);
GtkWidget  *mr_editor_get_web_view     (MrEditor           *self);
/* A toolbar button by its command ("bold", …, "link"), or "fields" for Insert Field. */
GtkWidget  *mr_editor_get_tool         (MrEditor           *self,
                                        const char         *name);

G_END_DECLS
