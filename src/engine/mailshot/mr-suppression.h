/* mr-suppression.h: the company's suppression list, which every mailshot honours
 *
 * Addresses that unsubscribed or bounced for good, one per line in a text file beside the company
 * file (suppression.txt, or $MAILROOM_SUPPRESSION_LIST), written by the admin like the company file
 * and read by everyone. Addresses are kept in lower case; "#" starts a comment. The file is
 * replaced atomically, never half-written.
 *
 * Errors: G_FILE_ERROR (the file), MR_SETTINGS_ERROR_INVALID_VALUE (an address that is not one:
 * nothing is written).
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef void (*MrSuppressionFunc) (const char *address,
                                   gpointer    user_data);

char     *mr_suppression_get_path  (void);
/* Every address, as it is read (no file: none). */
gboolean  mr_suppression_foreach   (const char          *path,
                                    MrSuppressionFunc    func,
                                    gpointer             user_data,
                                    GError             **error);
/* @changed: how many addresses were added (not there before) or removed (there before). */
gboolean  mr_suppression_add       (const char          *path,
                                    const char * const  *addresses,
                                    guint               *changed,
                                    GError             **error);
gboolean  mr_suppression_remove    (const char          *path,
                                    const char * const  *addresses,
                                    guint               *changed,
                                    GError             **error);

G_END_DECLS
