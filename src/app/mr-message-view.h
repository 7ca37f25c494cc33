/* mr-message-view.h: a built mail as the recipient's mail program shows it
 *
 * From, To, Cc, Subject and the date; the attachments with their sizes; the HTML body (remote
 * content blocked, links inert, no scripts) with a switch to the text part. Without WebKitGTK at
 * build time, the text part alone. The engine reads the message (mr_message_summarize()).
 *
 * A mailshot's preview can mark the fields its row leaves empty: given the marked subject, text and
 * HTML (MR_MAILSHOT_MISSING_OPEN name MR_MAILSHOT_MISSING_CLOSE), those names are shown highlighted
 * in place of the empty values, and listed above the mail.
 */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define MR_TYPE_MESSAGE_VIEW (mr_message_view_get_type ())
G_DECLARE_FINAL_TYPE (MrMessageView, mr_message_view, MR, MESSAGE_VIEW, GtkBox)

GtkWidget  *mr_message_view_new          (void);

/* Shows @message; the marked texts (or NULL) stand for its subject and bodies; @note (or NULL)
 * is said above the mail: which fields are left empty. */
void        mr_message_view_set_message  (MrMessageView      *self,
                                          GBytes             *message,
                                          const char         *marked_subject,
                                          const char         *marked_text,
                                          const char         *marked_html,
                                          const char         *note);
/* The formatted view, a WebKitWebView; NULL without WebKitGTK. */
GtkWidget  *mr_message_view_get_html_view (MrMessageView     *self);
/* Shows a sentence instead of a mail (a row that makes none, an error). */
void        mr_message_view_set_problem  (MrMessageView      *self,
                                          const char         *problem);
void        mr_message_view_clear        (MrMessageView      *self);

/* What is shown ("from", "to", "cc", "subject", "date", "attachments", "missing", "text"), for
 * tests; NULL when that part is hidden. */
const char *mr_message_view_get_shown    (MrMessageView      *self,
                                          const char         *part);
/* The highlighted empty fields in the text part. */
guint       mr_message_view_count_marks  (MrMessageView      *self);
/* "html" or "text": the part shown. */
const char *mr_message_view_get_body     (MrMessageView      *self);
void        mr_message_view_show_body    (MrMessageView      *self,
                                          const char         *body);

#if HAVE_WEBKIT
#include <webkit/webkit.h>

/* A WebKitWebView that shows a mail as a picture of it, not as a browser: an ephemeral session,
 * no scripts of the page's own, links that do not open, nothing that navigates away. @manager
 * (or NULL) brings the caller's own script; @label names it for screen readers. */
GtkWidget  *mr_mail_web_view_new         (WebKitUserContentManager *manager,
                                          int                       min_height,
                                          const char               *label);
#endif

G_END_DECLS
