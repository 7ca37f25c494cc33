/* mr-mustache.c: Mustache templates
 *
 * Parsing goes in three steps: a tokenizer that knows the current delimiters and splits text at line
 * ends; a pass that finds "standalone" lines (a section, comment, partial or delimiter tag alone on
 * its line), which vanish with their line end; and a builder that nests sections into a tree.
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "mr-mustache.h"

G_DEFINE_QUARK (mr-template-error-quark, mr_template_error)

#define MAX_DEPTH 100

typedef enum {
  TOKEN_TEXT,
  TOKEN_VARIABLE,     /* escaped */
  TOKEN_RAW,          /* {{{ }}} and {{& }} */
  TOKEN_SECTION,
  TOKEN_INVERTED,
  TOKEN_CLOSE,
  TOKEN_PARTIAL,
  TOKEN_COMMENT,
  TOKEN_DELIMITERS,
} TokenKind;

typedef struct {
  TokenKind  kind;
  char      *value;     /* text, or the tag's name */
  char      *indent;    /* standalone partials: the whitespace before the tag */
  guint      line;
  guint      column;
  gboolean   removed;
} Token;

typedef struct _Node Node;
struct _Node {
  TokenKind  kind;
  char      *value;
  char      *indent;
  GPtrArray *children;  /* sections */
  guint      line;
  guint      column;
};

struct _MrMustache {
  GPtrArray *nodes;
};

static void
token_free (Token *token)
{
  g_free (token->value);
  g_free (token->indent);
  g_free (token);
}

static void
node_free (Node *node)
{
  g_free (node->value);
  g_free (node->indent);
  g_clear_pointer (&node->children, g_ptr_array_unref);
  g_free (node);
}

void
mr_mustache_free (MrMustache *mustache)
{
  if (mustache == NULL)
    return;
  g_ptr_array_unref (mustache->nodes);
  g_free (mustache);
}

/* ---- Tokenizing ------------------------------------------------------------------------------- */

static gboolean
syntax_error (GError     **error,
              guint        line,
              guint        column,
              const char  *format,
              ...) G_GNUC_PRINTF (4, 5);

static gboolean
syntax_error (GError     **error,
              guint        line,
              guint        column,
              const char  *format,
              ...)
{
  va_list args;
  g_autofree char *what = NULL;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, MR_TEMPLATE_ERROR, MR_TEMPLATE_ERROR_SYNTAX, _("Line %u, column %u: %s"), line, column, what);
  return FALSE;
}

/* Where the tokenizer is: lines and columns are counted on from the last position asked for, so
 * that a template of 100,000 tags is read in linear time (positions only ever move forward). */
typedef struct {
  const char *at;
  guint       line;
  guint       column;
} Cursor;

static void
position_at (Cursor     *cursor,
             const char *at,
             guint      *line,
             guint      *column)
{
  for (const char *p = cursor->at; p < at; p = g_utf8_next_char (p))
    {
      if (*p == '\n')
        {
          cursor->line++;
          cursor->column = 1;
        }
      else
        cursor->column++;
    }
  cursor->at = MAX (cursor->at, at);
  *line = cursor->line;
  *column = cursor->column;
}

static void
add_text (GPtrArray  *tokens,
          Cursor     *cursor,
          const char *start,
          const char *end)
{
  /* One token per line piece, so that standalone lines can be recognised. */
  while (start < end)
    {
      const char *newline = memchr (start, '\n', end - start);
      const char *piece_end = newline ? newline + 1 : end;
      Token *token = g_new0 (Token, 1);

      token->kind = TOKEN_TEXT;
      token->value = g_strndup (start, piece_end - start);
      position_at (cursor, start, &token->line, &token->column);
      g_ptr_array_add (tokens, token);
      start = piece_end;
    }
}

static gboolean
parse_delimiters (const char  *content,
                  char       **open,
                  char       **close)
{
  g_autofree char *inner = g_strstrip (g_strdup (content));
  g_auto(GStrv) parts = NULL;
  guint n = 0;

  parts = g_strsplit_set (inner, " \t\r\n", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    if (*parts[i] != '\0')
      {
        if (n == 0)
          *open = g_strdup (parts[i]);
        else if (n == 1)
          *close = g_strdup (parts[i]);
        n++;
      }
  if (n != 2 || strchr (*open, '=') != NULL || strchr (*close, '=') != NULL)
    {
      g_clear_pointer (open, g_free);
      g_clear_pointer (close, g_free);
      return FALSE;
    }
  return TRUE;
}

/* strstr() within [@from, @end): the template's end is known, and a search that is bounded by it
 * stays linear in every build (AddressSanitizer's strstr() measures the whole rest each time). */
static const char *
find (const char *from,
      const char *end,
      const char *needle)
{
  gsize length = strlen (needle);

  while (from + length <= end)
    {
      const char *first = memchr (from, needle[0], end - from);

      if (first == NULL || first + length > end)
        return NULL;
      if (memcmp (first, needle, length) == 0)
        return first;
      from = first + 1;
    }
  return NULL;
}

static GPtrArray *
tokenize (const char  *source,
          GError     **error)
{
  g_autoptr(GPtrArray) tokens = g_ptr_array_new_with_free_func ((GDestroyNotify) token_free);
  g_autofree char *open = g_strdup ("{{");
  g_autofree char *close = g_strdup ("}}");
  const char *p = source;
  const char *source_end = source + strlen (source);
  Cursor cursor = { source, 1, 1 };

  while (*p != '\0')
    {
      const char *tag = find (p, source_end, open);
      const char *inner, *end, *after;
      Token *token;
      char sigil;
      guint line, column;

      if (tag == NULL)
        {
          add_text (tokens, &cursor, p, source_end);
          break;
        }
      add_text (tokens, &cursor, p, tag);
      position_at (&cursor, tag, &line, &column);

      inner = tag + strlen (open);
      sigil = *inner;
      if (sigil == '{')
        {
          g_autofree char *triple_close = g_strconcat ("}", close, NULL);

          end = find (inner + 1, source_end, triple_close);
          if (end == NULL)
            {
              syntax_error (error, line, column, _("“%s{” is never closed with “}%s”"), open, close);
              return NULL;
            }
          after = end + strlen (triple_close);
        }
      else
        {
          end = find (inner, source_end, close);
          if (end == NULL)
            {
              syntax_error (error, line, column, _("“%s” is never closed with “%s”"), open, close);
              return NULL;
            }
          after = end + strlen (close);
        }

      token = g_new0 (Token, 1);
      token->line = line;
      token->column = column;
      switch (sigil)
        {
        case '#': token->kind = TOKEN_SECTION; inner++; break;
        case '^': token->kind = TOKEN_INVERTED; inner++; break;
        case '/': token->kind = TOKEN_CLOSE; inner++; break;
        case '>': token->kind = TOKEN_PARTIAL; inner++; break;
        case '!': token->kind = TOKEN_COMMENT; inner++; break;
        case '&': token->kind = TOKEN_RAW; inner++; break;
        case '{': token->kind = TOKEN_RAW; inner++; break;
        case '=': token->kind = TOKEN_DELIMITERS; inner++; break;
        default: token->kind = TOKEN_VARIABLE; break;
        }

      if (token->kind == TOKEN_DELIMITERS)
        {
          g_autofree char *content = NULL;
          char *new_open = NULL, *new_close = NULL;

          if (end <= inner || end[-1] != '=')
            {
              token_free (token);
              syntax_error (error, line, column, _("a delimiter tag must end with “=”"));
              return NULL;
            }
          content = g_strndup (inner, end - 1 - inner);
          if (!parse_delimiters (content, &new_open, &new_close))
            {
              token_free (token);
              syntax_error (error, line, column, _("a delimiter tag needs two delimiters, such as {{=<%% %%>=}}"));
              return NULL;
            }
          g_free (open);
          g_free (close);
          open = new_open;
          close = new_close;
          token->value = g_strdup ("=");
        }
      else
        {
          token->value = g_strstrip (g_strndup (inner, end - inner));
          if (token->kind != TOKEN_COMMENT && *token->value == '\0')
            {
              token_free (token);
              syntax_error (error, line, column, _("a tag has no name"));
              return NULL;
            }
          if (token->kind != TOKEN_COMMENT && strpbrk (token->value, " \t\r\n") != NULL)
            {
              g_autofree char *name = g_strdup (token->value);
              token_free (token);
              syntax_error (error, line, column, _("“%s” is not a valid name"), name);
              return NULL;
            }
        }
      g_ptr_array_add (tokens, token);
      p = after;
    }
  return g_steal_pointer (&tokens);
}

/* ---- Standalone lines ------------------------------------------------------------------------- */

static gboolean
is_blank (const char *text)
{
  for (const char *p = text; *p; p++)
    if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
      return FALSE;
  return TRUE;
}

static gboolean
can_stand_alone (TokenKind kind)
{
  return kind == TOKEN_SECTION || kind == TOKEN_INVERTED || kind == TOKEN_CLOSE || kind == TOKEN_PARTIAL ||
         kind == TOKEN_COMMENT || kind == TOKEN_DELIMITERS;
}

static void
mark_standalone (GPtrArray *tokens)
{
  guint line_start = 0;

  while (line_start < tokens->len)
    {
      guint line_end = line_start;  /* exclusive */
      guint tags = 0, other = 0, tag_index = 0;

      /* A line ends after the text that holds its newline. */
      while (line_end < tokens->len)
        {
          Token *token = g_ptr_array_index (tokens, line_end);

          line_end++;
          if (token->kind == TOKEN_TEXT && g_str_has_suffix (token->value, "\n"))
            break;
        }

      for (guint i = line_start; i < line_end; i++)
        {
          Token *token = g_ptr_array_index (tokens, i);

          if (token->kind == TOKEN_TEXT)
            {
              if (!is_blank (token->value))
                other++;
            }
          else if (can_stand_alone (token->kind))
            {
              tags++;
              tag_index = i;
            }
          else
            other++;
        }

      if (tags == 1 && other == 0)
        {
          Token *tag = g_ptr_array_index (tokens, tag_index);
          GString *indent = g_string_new (NULL);

          for (guint i = line_start; i < line_end; i++)
            {
              Token *token = g_ptr_array_index (tokens, i);

              if (token->kind != TOKEN_TEXT)
                continue;
              if (i < tag_index)
                g_string_append (indent, token->value);
              token->removed = TRUE;
            }
          if (tag->kind == TOKEN_PARTIAL)
            tag->indent = g_string_free (g_steal_pointer (&indent), FALSE);
          else
            g_string_free (indent, TRUE);
        }
      line_start = line_end;
    }
}

/* ---- The tree --------------------------------------------------------------------------------- */

static gboolean
build (GPtrArray  *tokens,
       guint      *position,
       GPtrArray  *into,
       Token      *opener,
       guint       depth,
       GError    **error)
{
  while (*position < tokens->len)
    {
      Token *token = g_ptr_array_index (tokens, (*position)++);
      Node *node;

      if (token->removed || token->kind == TOKEN_COMMENT || token->kind == TOKEN_DELIMITERS)
        continue;

      if (token->kind == TOKEN_CLOSE)
        {
          if (opener == NULL)
            return syntax_error (error, token->line, token->column, _("“{{/%s}}” closes a section that was never opened"),
                                 token->value);
          if (!g_str_equal (opener->value, token->value))
            return syntax_error (error, token->line, token->column, _("“{{/%s}}” closes “%s”, opened on line %u"),
                                 token->value, opener->value, opener->line);
          return TRUE;
        }

      node = g_new0 (Node, 1);
      node->kind = token->kind;
      node->value = g_strdup (token->value);
      node->indent = g_strdup (token->indent);
      node->line = token->line;
      node->column = token->column;
      g_ptr_array_add (into, node);

      if (token->kind == TOKEN_SECTION || token->kind == TOKEN_INVERTED)
        {
          /* Each level is a call here and when rendering: the nesting is limited before it can
           * exhaust the stack. */
          if (depth + 1 > MAX_DEPTH)
            return syntax_error (error, token->line, token->column,
                                 _("sections are nested more than %d levels deep"), MAX_DEPTH);
          node->children = g_ptr_array_new_with_free_func ((GDestroyNotify) node_free);
          if (!build (tokens, position, node->children, token, depth + 1, error))
            return FALSE;
        }
    }

  if (opener != NULL)
    return syntax_error (error, opener->line, opener->column, _("the section “%s” is never closed"), opener->value);
  return TRUE;
}

MrMustache *
mr_mustache_parse (const char  *source,
                   GError     **error)
{
  g_autoptr(GPtrArray) tokens = tokenize (source, error);
  g_autoptr(GPtrArray) nodes = NULL;
  MrMustache *mustache;
  guint position = 0;

  if (tokens == NULL)
    return NULL;
  mark_standalone (tokens);
  nodes = g_ptr_array_new_with_free_func ((GDestroyNotify) node_free);
  if (!build (tokens, &position, nodes, NULL, 0, error))
    return NULL;

  mustache = g_new0 (MrMustache, 1);
  mustache->nodes = g_steal_pointer (&nodes);
  return mustache;
}

/* ---- Rendering -------------------------------------------------------------------------------- */

typedef struct {
  gboolean               escape;
  MrMustachePartialFunc  partials;
  gpointer               partials_data;
  GPtrArray             *missing;
  GHashTable            *missing_set;  /* the names in @missing, to add each once in constant time */
  GHashTable            *parsed;       /* a partial's source (as indented) → its tree, parsed once */
  guint                  depth;        /* sections and partials, as rendered */
  guint64                steps;        /* nodes rendered so far */
  gsize                  max_output;
} RenderState;

/* Partials can multiply the work without adding output (each including the last one twice, 40
 * deep, is 2^40 inclusions of nothing): rendering stops after this many nodes, far more than any
 * real mail takes, so that its time stays linear in the template and the output. */
#define MAX_RENDER_STEPS (4 * 1024 * 1024)

static JsonNode *
lookup (GPtrArray  *stack,
        const char *name)
{
  g_auto(GStrv) parts = NULL;
  JsonNode *node = NULL;

  if (g_str_equal (name, "."))
    return g_ptr_array_index (stack, stack->len - 1);

  parts = g_strsplit (name, ".", -1);
  /* The first part is looked for from the innermost context outwards; the rest only inside it. */
  for (guint i = stack->len; i > 0 && node == NULL; i--)
    {
      JsonNode *context = g_ptr_array_index (stack, i - 1);

      if (JSON_NODE_HOLDS_OBJECT (context) && json_object_has_member (json_node_get_object (context), parts[0]))
        node = json_object_get_member (json_node_get_object (context), parts[0]);
    }
  for (guint p = 1; node != NULL && parts[p] != NULL; p++)
    {
      if (!JSON_NODE_HOLDS_OBJECT (node) || !json_object_has_member (json_node_get_object (node), parts[p]))
        return NULL;
      node = json_object_get_member (json_node_get_object (node), parts[p]);
    }
  return node;
}

static gboolean
is_falsey (JsonNode *node)
{
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (JSON_NODE_HOLDS_ARRAY (node))
    return json_array_get_length (json_node_get_array (node)) == 0;
  if (JSON_NODE_HOLDS_VALUE (node))
    {
      GType type = json_node_get_value_type (node);

      if (type == G_TYPE_BOOLEAN)
        return !json_node_get_boolean (node);
      if (type == G_TYPE_STRING)
        return *json_node_get_string (node) == '\0';
    }
  return FALSE;
}

static void
append_value (GString  *out,
              JsonNode *node,
              gboolean  escape)
{
  g_autofree char *text = NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return;
  switch (json_node_get_value_type (node))
    {
    case G_TYPE_STRING:
      text = g_strdup (json_node_get_string (node));
      break;
    case G_TYPE_INT64:
      text = g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (node));
      break;
    case G_TYPE_DOUBLE:
      {
        char buffer[G_ASCII_DTOSTR_BUF_SIZE];
        text = g_strdup (g_ascii_formatd (buffer, sizeof buffer, "%.15g", json_node_get_double (node)));
        break;
      }
    case G_TYPE_BOOLEAN:
      text = g_strdup (json_node_get_boolean (node) ? "true" : "false");
      break;
    default:
      return;
    }

  if (!escape)
    {
      g_string_append (out, text);
      return;
    }
  for (const char *p = text; *p; p++)
    switch (*p)
      {
      case '&': g_string_append (out, "&amp;"); break;
      case '<': g_string_append (out, "&lt;"); break;
      case '>': g_string_append (out, "&gt;"); break;
      case '"': g_string_append (out, "&quot;"); break;
      case '\'': g_string_append (out, "&#39;"); break;
      default: g_string_append_c (out, *p);
      }
}

/* Each line of a standalone partial's source gets the indentation of its tag. */
static char *
indent_source (const char *source,
               const char *indent)
{
  GString *out = g_string_new (indent);

  for (const char *p = source; *p; p++)
    {
      g_string_append_c (out, *p);
      if (*p == '\n' && p[1] != '\0')
        g_string_append (out, indent);
    }
  return g_string_free (out, FALSE);
}

static void
note_missing (RenderState *state,
              const char  *name)
{
  if (state->missing == NULL || !g_hash_table_add (state->missing_set, (gpointer) name))
    return;
  g_ptr_array_add (state->missing, g_strdup (name));
}

/* The output's size and the work done, checked as rendering goes rather than after. */
static gboolean
within_budget (RenderState *state,
               GString     *out,
               GError     **error)
{
  if (out->len > state->max_output)
    {
      g_autofree char *limit = g_format_size_full (state->max_output, G_FORMAT_SIZE_LONG_FORMAT);

      g_set_error (error, MR_TEMPLATE_ERROR, MR_TEMPLATE_ERROR_TOO_BIG,
                   _("The rendered text grows past the limit of %s: check the sections and partials that repeat"),
                   limit);
      return FALSE;
    }
  if (++state->steps > MAX_RENDER_STEPS)
    {
      g_set_error (error, MR_TEMPLATE_ERROR, MR_TEMPLATE_ERROR_TOO_BIG,
                   _("Rendering takes far too many steps (over %d million): partials or sections repeat "
                     "each other too often"), MAX_RENDER_STEPS / (1024 * 1024));
      return FALSE;
    }
  return TRUE;
}

static gboolean render_nodes (GPtrArray *nodes, GPtrArray *stack, RenderState *state, GString *out, GError **error);

/* One level deeper, counted with the partials: the caller leaves it with state->depth--. */
static gboolean
enter_section (RenderState *state,
               Node        *node,
               GError     **error)
{
  if (state->depth >= MAX_DEPTH)
    {
      g_set_error (error, MR_TEMPLATE_ERROR, MR_TEMPLATE_ERROR_TOO_DEEP,
                   _("The section “%s” is nested too deeply (more than %d levels of sections and partials)"),
                   node->value, MAX_DEPTH);
      return FALSE;
    }
  state->depth++;
  return TRUE;
}

static gboolean
render_partial (Node        *node,
                GPtrArray   *stack,
                RenderState *state,
                GString     *out,
                GError     **error)
{
  const char *source = state->partials ? state->partials (node->value, state->partials_data) : NULL;
  g_autofree char *indented = NULL;
  MrMustache *partial;
  gboolean ok;

  if (source == NULL)
    return TRUE;
  if (state->depth >= MAX_DEPTH)
    {
      g_set_error (error, MR_TEMPLATE_ERROR, MR_TEMPLATE_ERROR_TOO_DEEP,
                   _("The partial “%s” is nested too deeply (more than %d levels of sections and partials)"),
                   node->value, MAX_DEPTH);
      return FALSE;
    }

  /* Looked up by its text, copied only the first time. */
  if (node->indent && *node->indent)
    source = indented = indent_source (source, node->indent);
  partial = g_hash_table_lookup (state->parsed, source);
  if (partial == NULL)
    {
      partial = mr_mustache_parse (source, error);
      if (partial == NULL)
        {
          g_prefix_error (error, _("In the partial “%s”: "), node->value);
          return FALSE;
        }
      g_hash_table_insert (state->parsed, g_strdup (source), partial);
    }
  state->depth++;
  ok = render_nodes (partial->nodes, stack, state, out, error);
  state->depth--;
  return ok;
}

static gboolean
render_nodes (GPtrArray   *nodes,
              GPtrArray   *stack,
              RenderState *state,
              GString     *out,
              GError     **error)
{
  for (guint i = 0; i < nodes->len; i++)
    {
      Node *node = g_ptr_array_index (nodes, i);
      JsonNode *value;

      if (!within_budget (state, out, error))
        return FALSE;
      switch (node->kind)
        {
        case TOKEN_TEXT:
          g_string_append (out, node->value);
          break;

        case TOKEN_VARIABLE:
        case TOKEN_RAW:
          value = lookup (stack, node->value);
          if (value == NULL || JSON_NODE_HOLDS_NULL (value))
            note_missing (state, node->value);
          append_value (out, value, node->kind == TOKEN_VARIABLE && state->escape);
          break;

        case TOKEN_SECTION:
          value = lookup (stack, node->value);
          if (is_falsey (value))
            break;
          if (!enter_section (state, node, error))
            return FALSE;
          if (JSON_NODE_HOLDS_ARRAY (value))
            {
              JsonArray *array = json_node_get_array (value);

              for (guint k = 0; k < json_array_get_length (array); k++)
                {
                  gboolean ok;

                  g_ptr_array_add (stack, json_array_get_element (array, k));
                  ok = render_nodes (node->children, stack, state, out, error);
                  g_ptr_array_remove_index (stack, stack->len - 1);
                  if (!ok)
                    return FALSE;
                }
            }
          else
            {
              gboolean ok;

              g_ptr_array_add (stack, value);
              ok = render_nodes (node->children, stack, state, out, error);
              g_ptr_array_remove_index (stack, stack->len - 1);
              if (!ok)
                return FALSE;
            }
          state->depth--;
          break;

        case TOKEN_INVERTED:
          value = lookup (stack, node->value);
          if (!is_falsey (value))
            break;
          if (!enter_section (state, node, error))
            return FALSE;
          if (!render_nodes (node->children, stack, state, out, error))
            return FALSE;
          state->depth--;
          break;

        case TOKEN_PARTIAL:
          if (!render_partial (node, stack, state, out, error))
            return FALSE;
          break;

        case TOKEN_CLOSE:
        case TOKEN_COMMENT:
        case TOKEN_DELIMITERS:
        default:
          break;
        }
    }
  return TRUE;
}

char *
mr_mustache_render (MrMustache             *mustache,
                    JsonNode               *data,
                    gboolean                escape_html,
                    MrMustachePartialFunc   partials,
                    gpointer                partials_data,
                    GPtrArray              *missing,
                    gsize                   max_output,
                    GError                **error)
{
  return mr_mustache_render_in (mustache, NULL, data, escape_html, partials, partials_data, missing, max_output, error);
}

char *
mr_mustache_render_in (MrMustache             *mustache,
                       JsonNode               *outer,
                       JsonNode               *data,
                       gboolean                escape_html,
                       MrMustachePartialFunc   partials,
                       gpointer                partials_data,
                       GPtrArray              *missing,
                       gsize                   max_output,
                       GError                **error)
{
  g_autoptr(GPtrArray) stack = g_ptr_array_new ();
  g_autoptr(JsonNode) empty = NULL;
  g_autoptr(GHashTable) missing_set = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) parsed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                        (GDestroyNotify) mr_mustache_free);
  RenderState state = { escape_html, partials, partials_data, missing, missing_set, parsed, 0, 0,
                        max_output > 0 ? max_output : MR_MUSTACHE_DEFAULT_MAX_OUTPUT };
  GString *out = g_string_new (NULL);

  for (guint i = 0; missing != NULL && i < missing->len; i++)
    g_hash_table_add (missing_set, g_ptr_array_index (missing, i));

  if (data == NULL)
    {
      g_autoptr(JsonObject) object = json_object_new ();

      /* json_node_init_object() takes its own reference. */
      data = empty = json_node_init_object (json_node_alloc (), object);
    }
  /* A name @data does not have is looked up in @outer, as in an enclosing section. */
  if (outer != NULL)
    g_ptr_array_add (stack, outer);
  g_ptr_array_add (stack, data);
  if (!render_nodes (mustache->nodes, stack, &state, out, error) || !within_budget (&state, out, error))
    {
      g_string_free (out, TRUE);
      return NULL;
    }
  return g_string_free (out, FALSE);
}

/* The names of the nodes of the kinds @partials asks for: partials, or variables and sections. */
static void
collect_names (GPtrArray *nodes,
               gboolean   partials,
               GPtrArray *names)
{
  for (guint i = 0; i < nodes->len; i++)
    {
      Node *node = g_ptr_array_index (nodes, i);
      gboolean seen = FALSE;
      gboolean wanted = partials ? node->kind == TOKEN_PARTIAL
                                 : (node->kind == TOKEN_VARIABLE || node->kind == TOKEN_RAW ||
                                    node->kind == TOKEN_SECTION || node->kind == TOKEN_INVERTED);

      if (wanted)
        {
          for (guint k = 0; k < names->len; k++)
            seen = seen || g_str_equal (g_ptr_array_index (names, k), node->value);
          if (!seen && !g_str_equal (node->value, "."))
            g_ptr_array_add (names, g_strdup (node->value));
        }
      if (node->children != NULL)
        collect_names (node->children, partials, names);
    }
}

GPtrArray *
mr_mustache_list_names (MrMustache *mustache)
{
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);

  collect_names (mustache->nodes, FALSE, names);
  return names;
}

GPtrArray *
mr_mustache_list_partials (MrMustache *mustache)
{
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);

  collect_names (mustache->nodes, TRUE, names);
  return names;
}
