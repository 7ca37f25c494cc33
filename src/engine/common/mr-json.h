/* mr-json.h: JSON from files and servers, read safely
 *
 * json-glib's parser recurses once per level of nesting, so a file nested 100,000 levels deep
 * overflows the stack and kills the program. Everything Mailroom reads from outside (settings,
 * templates, render data, caches, sign-in and Graph answers) goes through mr_json_parse(), which
 * counts the nesting first in one pass that does not recurse, and refuses it past
 * MR_JSON_MAX_DEPTH with an error that names the limit. Text with no value at all (only
 * whitespace or a comment), for which json-glib gives a NULL root and no error, is an error too, and
 * so is a top-level value that is not an object or an array (nothing Mailroom reads is one), and
 * anything but spaces and comments after it (json-glib 1.6 reads a second value, fails, and leaks
 * the first).
 *
 * Errors: JSON_PARSER_ERROR (JSON_PARSER_ERROR_INVALID_DATA for nesting and empty text, the
 * parser's own codes otherwise); mr_json_parse_file() also G_FILE_ERROR.
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Deeper than any settings file, template or list needs (they use 3 or 4 levels). */
#define MR_JSON_MAX_DEPTH 64

/* @length: -1 for a NUL-terminated @data. */
JsonNode *mr_json_parse         (const char  *data,
                                 gssize       length,
                                 GError     **error);
JsonNode *mr_json_parse_bytes   (GBytes      *bytes,
                                 GError     **error);
JsonNode *mr_json_parse_file    (const char  *path,
                                 GError     **error);
/* The strings of @node, an array of strings (anything else in it left out), NULL-terminated; an
 * empty vector for NULL or a node that is no array. */
GStrv     mr_json_dup_strv      (JsonNode    *node);
/* Whether @data nests arrays and objects at most @max_depth deep (strings are skipped, escapes
 * and all). The error names the line where the limit is passed. */
gboolean  mr_json_check_depth   (const char  *data,
                                 gsize        length,
                                 guint        max_depth,
                                 GError     **error);

G_END_DECLS
