/* mr-html-clean.h: a mail's HTML cut down to what a mail should hold
 *
 * Run on what is pasted into the editor (from LibreOffice, Word, a web page) and on every
 * template's HTML when it is loaded, so that what is stored is what the editor shows and what the
 * recipient gets. libxml2's HTML parser reads the fragment as a browser would; what is kept is an
 * allow-list:
 *
 * - elements of text and layout: p, div, span, br, hr, h1–h6, b, strong, i, em, u, s, sub, sup,
 *   blockquote, pre, code, ul, ol, li, a, img, table, thead, tbody, tfoot, tr, td, th, caption,
 *   center. Others (font, Word's o:p, section, …) are unwrapped: their text stays. Scripts,
 *   styles, frames, forms, media, head parts and comments (Word's conditional ones too) go with
 *   what is in them.
 * - attributes: a href (http, https, mailto, tel, or a merge field), img src (cid:, data:image/…,
 *   or a merge field), alt, title, width, height, colspan, rowspan, align, valign, dir, and the
 *   table layout ones (border, cellpadding, cellspacing, bgcolor). Event handlers, classes, ids
 *   and everything else go.
 * - style: only text and box properties (color, background-color, font-*, text-*, line-height,
 *   margin*, padding*, border*, width, height, vertical-align); a declaration that would hide text
 *   (display:none, visibility:hidden, font-size 0, opacity, color the same as the background is not
 *   judged) or load something (url(), expression()) goes.
 * - a remote image (src http: or https:) is taken out and its address listed, for the person to
 *   embed it instead: mail programs block remote images, and they tell the sender who opened.
 *
 * Merge fields ({{name}}, sections) are text to the parser and come out as they went in.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  guint      removed_elements;    /* dropped with what was in them */
  guint      removed_attributes;  /* attributes and style declarations dropped */
  guint      removed_comments;
  GPtrArray *remote_images;       /* char*: the addresses of remote images taken out */
  /* private: mr_html_clean_marking_remote()'s prefix */
  const char *remote_prefix;
} MrHtmlCleanReport;

/* The cleaned fragment (the body's content, without <html> or <body>). @report may be NULL; when
 * given, it is filled (and must be cleared with mr_html_clean_report_clear()). */
/* What a person typed as a link's address, as the href to write: "https://…" and "http://…" as
 * they are, "www.example.com" as https://, "name@example.com" and "mailto:…" as mailto:, "tel:…",
 * or a merge field ("{{link}}"). NULL, with MR_HTML_ERROR_LINK saying why, for anything else. */
#define MR_HTML_ERROR (mr_html_error_quark ())
typedef enum { MR_HTML_ERROR_LINK, MR_HTML_ERROR_IMAGE } MrHtmlError;
GQuark mr_html_error_quark (void);
char *mr_html_link_target        (const char        *typed,
                                  GError           **error);

char *mr_html_clean              (const char        *html,
                                  MrHtmlCleanReport *report);
void  mr_html_clean_report_clear (MrHtmlCleanReport *report);

/* The same, but a remote image stays where it was, its source @prefix followed by its index in
 * @report->remote_images ("cid:pending-0"): for the editor to put the picture there once it has
 * fetched it (mr-remote-image.h), or to take it out. @report is required. */
char *mr_html_clean_marking_remote (const char        *html,
                                    const char        *prefix,
                                    MrHtmlCleanReport *report);

G_END_DECLS
