/* mr-source-highlight.c: a mail's HTML source, coloured as an editor colours it */

#include "config.h"

#include <string.h>

#include "mr-source-highlight.h"

static const struct { const char *name; const char *foreground; const char *background; int weight; } kinds[] = {
  [MR_SOURCE_TAG]       = { "mr-tag", "#1c71d8", NULL, 700 },
  [MR_SOURCE_ATTRIBUTE] = { "mr-attribute", "#c64600", NULL, 400 },
  [MR_SOURCE_VALUE]     = { "mr-value", "#26a269", NULL, 400 },
  [MR_SOURCE_COMMENT]   = { "mr-comment", "#77767b", NULL, 400 },
  [MR_SOURCE_FIELD]     = { "mr-field", NULL, "rgba(53,132,228,0.25)", 400 },
};

const char *
mr_source_highlight_tag_name (MrSourceKind kind)
{
  return kinds[kind].name;
}

static gboolean
is_space (char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/* An element from its "<" at @at: its name, attributes and values; returns where it ends. */
static gsize
scan_element (const char   *text,
              gsize         at,
              gsize         length,
              MrSourceFunc  func,
              gpointer      user_data)
{
  gsize i = at + 1;

  if (i < length && text[i] == '/')
    i++;
  while (i < length && !is_space (text[i]) && text[i] != '>' && text[i] != '/' && text[i] != '<')
    i++;
  func (MR_SOURCE_TAG, at, i, user_data);
  while (i < length && text[i] != '>' && text[i] != '<')
    {
      gsize start;

      if (is_space (text[i]))
        {
          i++;
          continue;
        }
      if (text[i] == '/' && i + 1 < length && text[i + 1] == '>')
        {
          func (MR_SOURCE_TAG, i, i + 2, user_data);
          return i + 2;
        }
      start = i;
      while (i < length && !is_space (text[i]) && text[i] != '=' && text[i] != '>' && text[i] != '<' &&
             !(text[i] == '/' && i + 1 < length && text[i + 1] == '>'))
        i++;
      if (i == start)
        i++;   /* a stray "/" */
      else
        func (MR_SOURCE_ATTRIBUTE, start, i, user_data);
      while (i < length && is_space (text[i]))
        i++;
      if (i < length && text[i] == '=')
        {
          i++;
          while (i < length && is_space (text[i]))
            i++;
          start = i;
          if (i < length && (text[i] == '"' || text[i] == '\''))
            {
              const char *close = memchr (text + i + 1, text[i], length - i - 1);

              i = close ? (gsize) (close - text) + 1 : length;
            }
          else
            while (i < length && !is_space (text[i]) && text[i] != '>')
              i++;
          func (MR_SOURCE_VALUE, start, i, user_data);
        }
    }
  if (i < length && text[i] == '>')
    {
      func (MR_SOURCE_TAG, i, i + 1, user_data);
      i++;
    }
  return i;
}

void
mr_source_highlight_scan (const char   *text,
                          MrSourceFunc  func,
                          gpointer      user_data)
{
  gsize length = strlen (text);
  gsize i = 0;

  while (i < length)
    {
      if (strncmp (text + i, "<!--", 4) == 0)
        {
          const char *close = strstr (text + i + 4, "-->");
          gsize end = close ? (gsize) (close - text) + 3 : length;

          func (MR_SOURCE_COMMENT, i, end, user_data);
          i = end;
        }
      else if (strncmp (text + i, "{{", 2) == 0)
        {
          const char *close = strstr (text + i + 2, "}}");
          gsize end = close ? (gsize) (close - text) + 2 : length;

          /* {{{raw}}} too. */
          if (end < length && text[end] == '}')
            end++;
          func (MR_SOURCE_FIELD, i, end, user_data);
          i = end;
        }
      else if (text[i] == '<' && i + 1 < length && (g_ascii_isalpha (text[i + 1]) || text[i + 1] == '/' || text[i + 1] == '!'))
        i = scan_element (text, i, length, func, user_data);
      else
        i++;
    }
}

/* ---- On a text view --------------------------------------------------------------------------- */

typedef struct {
  GtkTextBuffer *buffer;
  const char    *text;
  gsize          last_byte;     /* the offsets counted so far, so that each piece costs its length */
  int            last_char;
} Painting;

static int
char_offset (Painting *painting,
             gsize     byte)
{
  painting->last_char += (int) g_utf8_strlen (painting->text + painting->last_byte, (gssize) (byte - painting->last_byte));
  painting->last_byte = byte;
  return painting->last_char;
}

static void
paint (MrSourceKind kind,
       gsize        start,
       gsize        end,
       gpointer     user_data)
{
  Painting *painting = user_data;
  GtkTextIter from, to;

  gtk_text_buffer_get_iter_at_offset (painting->buffer, &from, char_offset (painting, start));
  gtk_text_buffer_get_iter_at_offset (painting->buffer, &to, char_offset (painting, end));
  gtk_text_buffer_apply_tag_by_name (painting->buffer, kinds[kind].name, &from, &to);
}

static gboolean
repaint (gpointer data)
{
  GtkTextBuffer *buffer = data;
  GtkTextIter start, end;
  g_autofree char *text = NULL;
  Painting painting = { buffer, NULL, 0, 0 };

  g_object_steal_data (G_OBJECT (buffer), "mr-highlight-source");
  gtk_text_buffer_get_bounds (buffer, &start, &end);
  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    gtk_text_buffer_remove_tag_by_name (buffer, kinds[i].name, &start, &end);
  text = gtk_text_buffer_get_text (buffer, &start, &end, TRUE);
  painting.text = text;
  mr_source_highlight_scan (text, paint, &painting);
  return G_SOURCE_REMOVE;
}

static void
remove_source (gpointer id)
{
  g_source_remove (GPOINTER_TO_UINT (id));
}

static void
on_changed (GtkTextBuffer *buffer)
{
  guint id;

  /* A moment after typing stops: a pasted page of HTML is coloured once. */
  if (g_object_get_data (G_OBJECT (buffer), "mr-highlight-source") != NULL)
    return;
  id = g_timeout_add (120, repaint, buffer);
  g_object_set_data_full (G_OBJECT (buffer), "mr-highlight-source", GUINT_TO_POINTER (id), remove_source);
}

void
mr_source_highlight_attach (GtkTextView *view)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (view);

  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      GtkTextTag *tag = gtk_text_buffer_create_tag (buffer, kinds[i].name, "weight", kinds[i].weight, NULL);

      if (kinds[i].foreground != NULL)
        g_object_set (tag, "foreground", kinds[i].foreground, NULL);
      if (kinds[i].background != NULL)
        g_object_set (tag, "background", kinds[i].background, NULL);
    }
  g_signal_connect (buffer, "changed", G_CALLBACK (on_changed), NULL);
  on_changed (buffer);
}
