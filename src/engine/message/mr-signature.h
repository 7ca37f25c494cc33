/* mr-signature.h: the signatures under every mail, a person's own and the company's
 *
 * Each is formatted text (HTML, cleaned as a template's is: mr-html-clean.h) kept as a partial of
 * the template folders (mr-template.h), so that a template can also place it itself:
 *
 * - the person's own: partials/my-signature.mustache in the personal folder ({{> my-signature}});
 * - the company's: partials/signature.mustache in the company folder ({{> signature}}), which the
 *   admin sets. A personal partials/signature.mustache would take its place, as partials do.
 *
 * Rendering a template (mr_template_render()) adds them below the body, the person's first, unless
 * the template says "signature": false or places one of them itself. Both may hold merge fields.
 * The text part gets them as text under the usual "-- " line, which mail programs recognise.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  MR_SIGNATURE_PERSONAL,
  MR_SIGNATURE_COMPANY,
} MrSignatureScope;

#define MR_SIGNATURE_PARTIAL_PERSONAL "my-signature"
#define MR_SIGNATURE_PARTIAL_COMPANY  "signature"

/* The partial's file for @scope. */
char     *mr_signature_get_path  (MrSignatureScope   scope);
/* The signature's HTML, or NULL (and no error) when there is none. Errors: G_FILE_ERROR other
 * than a missing file. */
char     *mr_signature_load      (MrSignatureScope   scope,
                                  GError           **error);
/* Whether this user may write @scope's signature: the company folder is the admin's. */
gboolean  mr_signature_can_save  (MrSignatureScope   scope);
/* Stores @html cleaned, atomically; an empty one (no text, no picture) removes the signature.
 * Errors: G_IO_ERROR or G_FILE_ERROR (the company folder is the admin's: often not writable). */
gboolean  mr_signature_save      (MrSignatureScope   scope,
                                  const char        *html,
                                  GError           **error);
/* Text as a signature's HTML: escaped, its lines kept. Text that holds a tag is taken as HTML. */
char     *mr_signature_from_text (const char        *text);
/* The signature as readable text, on one line, for a row's subtitle: "" when there is none. */
char     *mr_signature_summarize (const char        *html);

G_END_DECLS
