/* mr-template.h: mail templates, stored as JSON (docs/templates.md)
 *
 * Company templates live in a shared, admin-managed folder (/etc/xdg/mailroom/templates/, or
 * $MAILROOM_COMPANY_TEMPLATES), personal ones under $XDG_DATA_HOME/mailroom/templates/. Each folder
 * may hold shared blocks in partials/NAME.mustache (the company signature, a footer), used as
 * {{> NAME}}; a template's own "partials" come first, then the personal ones, then the company's.
 *
 * Call order: mr_template_find() or mr_template_load() → mr_template_render() → the caller builds the
 * message (mr_template_fill_outgoing()). Errors: MR_TEMPLATE_ERROR (mr-mustache.h).
 */
#pragma once

#include "mr-message.h"
#include "mr-mustache.h"

G_BEGIN_DECLS

typedef enum {
  MR_TEMPLATE_SCOPE_COMPANY,
  MR_TEMPLATE_SCOPE_PERSONAL,
  MR_TEMPLATE_SCOPE_FILE,      /* loaded from a path given by the user */
} MrTemplateScope;

typedef struct {
  char     *path;         /* absolute */
  char     *filename;     /* as the recipient sees it; NULL: the file's own name */
  char     *content_id;   /* inline images: referenced as cid:CONTENT_ID from the HTML */
} MrTemplateAttachment;

typedef struct {
  char            *name;
  char            *description;
  char            *subject;
  char            *text;
  char            *html;
  GPtrArray       *attachments;  /* MrTemplateAttachment */
  char            *from_name;    /* the template's own sender, or NULL for the profile's; */
  char            *from_address; /* its domain must be one of domains.verified */
  char            *route;        /* "smtp", "exchange" or "auto" */
  char            *app;          /* default application profile, or NULL */
  char            *log;          /* "full" (keep a copy of each mail) or "headers" */
  gboolean         strict;       /* a variable with no value stops the mail */
  gboolean         signature;    /* the signatures go below the body (mr-signature.h); FALSE: none */
  GHashTable      *partials;     /* name → source */
  GPtrArray       *remote_images; /* char*: images the HTML loaded from the web, taken out when it was
                                  * loaded (mr-html-clean.h); embed them instead */
  char            *path;
  MrTemplateScope  scope;
  /* private: each source parsed once (a mailshot renders the template thousands of times, from
   * several threads); keyed by the source text, so a changed field is parsed again */
  GHashTable      *parsed;
  GHashTable      *folder_partials; /* name → source read from a partials folder, or NULL: none */
  GMutex           parsed_lock;
} MrTemplate;

typedef struct {
  char      *subject;
  char      *text;               /* NULL when the template has only HTML */
  char      *html;
  GPtrArray *missing;            /* variables that had no value */
} MrRendered;

char        *mr_template_get_company_dir   (void);
char        *mr_template_get_personal_dir  (void);

MrTemplate  *mr_template_new               (void);
/* Everything the template says, its path and scope too; nothing parsed or read while rendering. */
MrTemplate  *mr_template_copy              (const MrTemplate *template_);
void         mr_template_free              (MrTemplate   *template_);
MrTemplate  *mr_template_load              (const char   *path,
                                            GError      **error);
/* A name (personal first, then company) or a path to a template file. */
MrTemplate  *mr_template_find              (const char   *name_or_path,
                                            GError      **error);
/* Every template, personal and company, sorted by name. */
GPtrArray   *mr_template_list              (GError      **error);
/* Writes atomically; attachments are written as paths relative to the file when inside its folder. */
gboolean     mr_template_save              (MrTemplate   *template_,
                                            const char   *path,
                                            GError      **error);

/* One self-contained file: attachments embedded in base64, for moving a template elsewhere. */
gboolean     mr_template_export            (MrTemplate   *template_,
                                            const char   *path,
                                            GError      **error);
/* Reads an exported (or plain) template file into the personal folder; returns the stored one.
 * Errors: MR_TEMPLATE_ERROR_INVALID, also when a template of that name exists already. */
MrTemplate  *mr_template_import            (const char   *path,
                                            GError      **error);

/* Stores @template_ (its name trimmed) in the personal folder, with copies of its attachments next to
 * it; sets its path and scope. Errors: MR_TEMPLATE_ERROR_INVALID (no name, a personal template of
 * that name exists and @replace is FALSE, two attachments of one name), G_FILE_ERROR. */
gboolean     mr_template_save_personal     (MrTemplate   *template_,
                                            gboolean      replace,
                                            GError      **error);

/* The names the template's subject and bodies use, once each; not the sender's own
 * (mr_template_is_sender_field()), which the settings fill. */
GPtrArray   *mr_template_list_variables    (MrTemplate   *template_,
                                            GError      **error);

/* Errors: MR_TEMPLATE_ERROR_SYNTAX (which part, line, column), _MISSING_VARIABLE for a strict
 * template, MR_SETTINGS_ERROR_INVALID_VALUE when the subject would break its header. */
MrRendered  *mr_template_render            (MrTemplate   *template_,
                                            JsonNode     *data,
                                            GError      **error);
/* The same, with @max_bytes for subject, text and HTML together, checked while rendering
 * (MR_TEMPLATE_ERROR_TOO_BIG past it): the server's SIZE where it is known. 0: 50 MB
 * (MR_MUSTACHE_DEFAULT_MAX_OUTPUT), which mr_template_render() uses. */
MrRendered  *mr_template_render_limited    (MrTemplate   *template_,
                                            JsonNode     *data,
                                            guint64       max_bytes,
                                            GError      **error);
/* The same, with the sender's own fields, {{sender.name}} and {{sender.address}}: the template's
 * own From, else @sender's (from_name, from_address; as mr_settings_fill_sender() or
 * mr_delivery_fill_sender() give them). A row's own "sender" comes first. @sender may be NULL. */
MrRendered  *mr_template_render_as         (MrTemplate       *template_,
                                            JsonNode         *data,
                                            const MrOutgoing *sender,
                                            guint64           max_bytes,
                                            GError          **error);
/* Whether @name is one of the sender's fields, which the settings fill, not the data. */
gboolean     mr_template_is_sender_field   (const char   *name);
void         mr_rendered_free              (MrRendered   *rendered);

/* Puts the rendered subject and bodies, the template's attachments and its own From (when it has
 * one) into @outgoing; pictures in the HTML as data: URIs become inline parts
 * (mr_outgoing_embed_images(), whose errors these are). */
gboolean     mr_template_fill_outgoing     (MrTemplate   *template_,
                                            MrRendered   *rendered,
                                            MrOutgoing   *outgoing,
                                            GError      **error);

/* Its HTML's pictures given as data: URIs as inline attachments of the template (cid:), once:
 * a mailshot's worker does this before its thousands of mails rather than for each of them.
 * Errors: those of mr_outgoing_embed_images(). */
gboolean     mr_template_embed_images      (MrTemplate   *template_,
                                            GError      **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MrTemplate, mr_template_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MrRendered, mr_rendered_free)

G_END_DECLS
