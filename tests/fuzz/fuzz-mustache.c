/* fuzz-mustache.c: the Mustache parser and renderer
 *
 * The input is the template, then optionally "\0" and JSON data, then optionally "\0" and the
 * source of every partial (any name).
 */

#include "config.h"

#include <string.h>

#include "fuzz-common.h"
#include "mr-json.h"
#include "mr-mustache.h"

static const char *
any_partial (const char *name,
             gpointer    user_data)
{
  return user_data;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autofree char *text = g_strndup ((const char *) data, size);
  const char *end = (const char *) data + size;
  const char *json = memchr (data, '\0', size) ? (const char *) memchr (data, '\0', size) + 1 : NULL;
  const char *partial = json && json < end && memchr (json, '\0', end - json) ? (const char *) memchr (json, '\0', end - json) + 1 : NULL;
  g_autofree char *partial_text = partial ? g_strndup (partial, end - partial) : NULL;
  g_autoptr(JsonNode) values = json && json < end ? mr_json_parse (json, (gssize) strnlen (json, end - json), NULL) : NULL;
  g_autoptr(MrMustache) mustache = NULL;
  g_autoptr(GPtrArray) missing = g_ptr_array_new_with_free_func (g_free);

  if (!g_utf8_validate (text, -1, NULL))
    return 0;
  mustache = mr_mustache_parse (text, NULL);
  if (mustache == NULL)
    return 0;
  g_ptr_array_unref (mr_mustache_list_names (mustache));
  /* A small output limit, so that each run stays quick whatever the partials do. */
  g_free (mr_mustache_render (mustache, values, TRUE, partial_text ? any_partial : NULL, partial_text, missing,
                              1024 * 1024, NULL));
  g_free (mr_mustache_render (mustache, values, FALSE, NULL, NULL, NULL, 1024 * 1024, NULL));
  return 0;
}
