/* mr-json.c: JSON from files and servers, read safely */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "mr-json.h"

gboolean
mr_json_check_depth (const char  *data,
                     gsize        length,
                     guint        max_depth,
                     GError     **error)
{
  guint depth = 0, line = 1;
  gboolean in_string = FALSE, ended = FALSE, started = FALSE;

  for (gsize i = 0; i < length; i++)
    {
      char c = data[i];

      if (c == '\n')
        line++;
      /* Before the top-level value and after it, only spaces and comments; and that value is an object
       * or an array, as everything Mailroom reads is. json-glib reads a second value after the first
       * and then leaks the first when it fails. */
      if ((ended || !started) && !in_string)
        {
          if (c == '/' && i + 1 < length && data[i + 1] == '*')
            {
              const char *end = g_strstr_len (data + i + 2, length - i - 2, "*/");

              if (end != NULL)
                {
                  i = end + 1 - data;
                  continue;
                }
            }
          if (!ended && (c == '{' || c == '['))
            started = TRUE;
          else if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
            {
              g_set_error (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_INVALID_DATA,
                           ended ? _("line %u: there is more after the end of the JSON value")
                                 : _("line %u: it is not a JSON object or array"), line);
              return FALSE;
            }
          else
            continue;
        }
      if (in_string)
        {
          if (c == '\\')
            i++;
          else if (c == '"')
            in_string = FALSE;
          continue;
        }
      if (c == '"')
        in_string = TRUE;
      else if (c == '[' || c == '{')
        {
          if (++depth > max_depth)
            {
              g_set_error (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_INVALID_DATA,
                           _("line %u: it is nested more than %u levels deep"), line, max_depth);
              return FALSE;
            }
        }
      else if ((c == ']' || c == '}') && depth > 0)
        ended = --depth == 0;
    }
  return TRUE;
}

JsonNode *
mr_json_parse (const char  *data,
               gssize       length,
               GError     **error)
{
  g_autoptr(JsonParser) parser = NULL;
  gsize len = length < 0 ? strlen (data) : (gsize) length;

  if (!mr_json_check_depth (data, len, MR_JSON_MAX_DEPTH, error))
    return NULL;
  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, data, (gssize) len, error))
    return NULL;
  if (json_parser_get_root (parser) == NULL)
    {
      g_set_error_literal (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_INVALID_DATA, _("it is empty"));
      return NULL;
    }
  return json_parser_steal_root (parser);
}

JsonNode *
mr_json_parse_bytes (GBytes  *bytes,
                     GError **error)
{
  gsize length = 0;
  const char *data = g_bytes_get_data (bytes, &length);

  return mr_json_parse (data != NULL ? data : "", (gssize) length, error);
}

JsonNode *
mr_json_parse_file (const char  *path,
                    GError     **error)
{
  g_autofree char *contents = NULL;
  gsize length = 0;

  if (!g_file_get_contents (path, &contents, &length, error))
    return NULL;
  return mr_json_parse (contents, (gssize) length, error);
}

GStrv
mr_json_dup_strv (JsonNode *node)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  for (guint i = 0; node != NULL && JSON_NODE_HOLDS_ARRAY (node) && i < json_array_get_length (json_node_get_array (node)); i++)
    {
      JsonNode *element = json_array_get_element (json_node_get_array (node), i);

      if (JSON_NODE_HOLDS_VALUE (element) && json_node_get_value_type (element) == G_TYPE_STRING)
        g_strv_builder_add (builder, json_node_get_string (element));
    }
  return g_strv_builder_end (builder);
}
