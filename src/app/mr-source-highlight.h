/* mr-source-highlight.h: a mail's HTML source, coloured as an editor colours it
 *
 * For "Edit as HTML": element names and their brackets, attribute names, values, comments and
 * merge fields ({{name}}, sections) each get a GtkTextTag, again a moment after each change. A few
 * rules, not a parser: what a mail's HTML holds, not every corner of the language.
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

typedef enum {
  MR_SOURCE_TAG,         /* <p, </p>, >, /> */
  MR_SOURCE_ATTRIBUTE,
  MR_SOURCE_VALUE,
  MR_SOURCE_COMMENT,
  MR_SOURCE_FIELD,
} MrSourceKind;

/* Calls @func for each piece of @text to colour: @start and @end are byte offsets. */
typedef void (*MrSourceFunc) (MrSourceKind kind,
                              gsize        start,
                              gsize        end,
                              gpointer     user_data);
void        mr_source_highlight_scan   (const char    *text,
                                        MrSourceFunc   func,
                                        gpointer       user_data);

/* Colours @view's buffer from now on. */
void        mr_source_highlight_attach (GtkTextView   *view);
/* The tag name a kind is coloured with ("mr-tag", "mr-attribute", …), for tests. */
const char *mr_source_highlight_tag_name (MrSourceKind kind);

G_END_DECLS
