/* mr-mustache.h: Mustache templates (https://mustache.github.io/mustache.5.html)
 *
 * Variables (HTML-escaped or not, as the caller says: HTML bodies escape, text bodies and headers do
 * not), {{{raw}}} and {{& raw}}, sections, inverted sections, comments, dotted names, the implicit
 * iterator, partials with standalone indentation, and set-delimiter tags. Passes every case of the
 * Mustache specification's comments, delimiters, interpolation, inverted, partials and sections.
 *
 * Call order: mr_mustache_parse() once → mr_mustache_render() as often as needed.
 * Errors: MR_TEMPLATE_ERROR_SYNTAX, with the line and column, when parsing; when rendering,
 * MR_TEMPLATE_ERROR_SYNTAX for a broken partial, _TOO_DEEP for sections and partials nested past
 * 100 levels (partials that include themselves without end), and _TOO_BIG past the size limit.
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define MR_TEMPLATE_ERROR (mr_template_error_quark ())

typedef enum {
  MR_TEMPLATE_ERROR_SYNTAX,            /* the message names the line and column */
  MR_TEMPLATE_ERROR_MISSING_VARIABLE,  /* a strict template used a variable with no value */
  MR_TEMPLATE_ERROR_TOO_DEEP,          /* partials nested beyond reason */
  MR_TEMPLATE_ERROR_INVALID,           /* a template file that cannot be used: the message says why */
  MR_TEMPLATE_ERROR_NOT_FOUND,         /* no template of that name */
  MR_TEMPLATE_ERROR_TOO_BIG,           /* the rendered text passed its size limit, or took far too much work */
} MrTemplateError;

GQuark mr_template_error_quark (void);

typedef struct _MrMustache MrMustache;

/* Returns the partial's source text, or NULL when there is none (it renders as nothing). */
typedef const char *(*MrMustachePartialFunc) (const char *name,
                                              gpointer    user_data);

MrMustache *mr_mustache_parse    (const char             *source,
                                  GError                **error);
void        mr_mustache_free     (MrMustache             *mustache);

/* The largest text a render makes unless told otherwise (mr_mustache_render()'s @max_output). */
#define MR_MUSTACHE_DEFAULT_MAX_OUTPUT (50 * 1024 * 1024)

/* @missing (optional) collects the names of variables that had no value, once each.
 * @max_output: the longest text allowed, checked while rendering (MR_TEMPLATE_ERROR_TOO_BIG past
 * it); 0 for MR_MUSTACHE_DEFAULT_MAX_OUTPUT. Sections and partials nest at most 100 deep
 * (MR_TEMPLATE_ERROR_TOO_DEEP), and the work a render may do is bounded too, so that its time is
 * linear in the template and the output whatever the partials do. */
char       *mr_mustache_render   (MrMustache             *mustache,
                                  JsonNode               *data,
                                  gboolean                escape_html,
                                  MrMustachePartialFunc   partials,
                                  gpointer                partials_data,
                                  GPtrArray              *missing,
                                  gsize                   max_output,
                                  GError                **error);

/* The same, with @outer (optional) around @data: what @data lacks is looked up there. */
char       *mr_mustache_render_in (MrMustache           *mustache,
                                  JsonNode               *outer,
                                  JsonNode               *data,
                                  gboolean                escape_html,
                                  MrMustachePartialFunc   partials,
                                  gpointer                partials_data,
                                  GPtrArray              *missing,
                                  gsize                   max_output,
                                  GError                **error);

/* The variable and section names a template uses, for the compose pane's list. */
GPtrArray  *mr_mustache_list_names (MrMustache           *mustache);
/* The partials it includes by name ({{> name}}), once each; not those the partials include. */
GPtrArray  *mr_mustache_list_partials (MrMustache        *mustache);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MrMustache, mr_mustache_free)

G_END_DECLS
