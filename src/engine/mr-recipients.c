/* mr-recipients.c: a streaming reader for recipient lists saved by spreadsheets */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "mr-recipients.h"

G_DEFINE_QUARK (mr-recipients-error-quark, mr_recipients_error)

#define BUFFER_SIZE 65536

struct _MrRecipientReader
{
  GInputStream *stream;
  guint8       *buffer;
  gsize         length;
  gsize         position;
  gboolean      at_end;

  const char   *encoding;
  gboolean      from_windows_1252;   /* otherwise the bytes are UTF-8 (UTF-16 is converted on the way in) */
  char          separator;
  GPtrArray    *columns;             /* char*, NULL-terminated */
  GPtrArray    *raw;                 /* GString*, the fields of the record being read */
  GPtrArray    *fields;              /* char*, NULL-terminated, decoded */
  guint         row;                 /* of the last record read, counting the header as 1 */
  gboolean      json;                /* a JSON array of objects rather than CSV */
  gboolean      json_first_pending;  /* the first object, read for its keys, is still to be returned */
  gboolean      json_done;           /* the closing "]" was read, or the structure broke */
  GPtrArray    *json_names;          /* char*, the keys of the object just read */
  GError       *json_first_error;    /* why the first object cannot be used, reported as its row */
};

/* ---- Bytes ------------------------------------------------------------------------------------ */

static gboolean
fill (MrRecipientReader  *self,
      GError            **error)
{
  gssize n;

  if (self->at_end)
    return TRUE;
  if (self->position > 0)
    {
      memmove (self->buffer, self->buffer + self->position, self->length - self->position);
      self->length -= self->position;
      self->position = 0;
    }
  n = g_input_stream_read (self->stream, self->buffer + self->length, BUFFER_SIZE - self->length, NULL, error);
  if (n < 0)
    return FALSE;
  if (n == 0)
    self->at_end = TRUE;
  self->length += n;
  return TRUE;
}

/* The next byte, or -1 at the end of the file; -2 with @error when reading failed. */
static int
next_byte (MrRecipientReader  *self,
           GError            **error)
{
  if (self->position >= self->length)
    {
      if (!fill (self, error))
        return -2;
      if (self->position >= self->length)
        return -1;
    }
  return self->buffer[self->position++];
}

static int
peek_byte (MrRecipientReader  *self,
           GError            **error)
{
  int c = next_byte (self, error);

  if (c >= 0)
    self->position--;
  return c;
}

/* ---- Records ---------------------------------------------------------------------------------- */

static void
free_string (gpointer string)
{
  g_string_free (string, TRUE);
}

static GString *
new_field (MrRecipientReader *self)
{
  GString *field = g_string_new (NULL);

  g_ptr_array_add (self->raw, field);
  return field;
}

/* Reads one record's raw fields (RFC 4180, leniently: text after a closing quote is kept, as
 * spreadsheets do). Returns FALSE at the end of the file with nothing read, or with @error. */
static gboolean
read_record (MrRecipientReader  *self,
             GError            **error)
{
  GString *field;
  gboolean quoted = FALSE;
  gboolean any = FALSE;
  GError *local_error = NULL;
  int c;

  g_ptr_array_set_size (self->raw, 0);
  field = new_field (self);
  for (;;)
    {
      c = next_byte (self, &local_error);
      if (c == -2)
        {
          g_propagate_error (error, local_error);
          return FALSE;
        }
      if (c == -1)
        {
          if (quoted)
            {
              g_set_error (error, MR_RECIPIENTS_ERROR, MR_RECIPIENTS_ERROR_MALFORMED,
                           _("Row %u: a quoted field is not closed before the end of the file"), self->row + 1);
              return FALSE;
            }
          return any;
        }
      any = TRUE;
      if (quoted)
        {
          if (c != '"')
            g_string_append_c (field, (char) c);
          else if (peek_byte (self, NULL) == '"')
            {
              g_string_append_c (field, '"');
              self->position++;
            }
          else
            quoted = FALSE;
        }
      else if (c == '"' && field->len == 0)
        quoted = TRUE;
      else if (c == self->separator)
        field = new_field (self);
      else if (c == '\n')
        return TRUE;
      else if (c == '\r')
        {
          if (peek_byte (self, NULL) == '\n')
            self->position++;
          return TRUE;
        }
      else
        g_string_append_c (field, (char) c);
    }
}

static gboolean
record_is_blank (MrRecipientReader *self)
{
  for (guint i = 0; i < self->raw->len; i++)
    if (((GString *) g_ptr_array_index (self->raw, i))->len > 0)
      return FALSE;
  return self->raw->len <= 1;
}

static char *
decode (MrRecipientReader  *self,
        GString            *raw,
        GError            **error)
{
  if (self->from_windows_1252)
    return g_convert (raw->str, raw->len, "UTF-8", "WINDOWS-1252", NULL, NULL, error);
  if (!g_utf8_validate_len (raw->str, raw->len, NULL) || memchr (raw->str, '\0', raw->len) != NULL)
    {
      g_set_error_literal (error, G_CONVERT_ERROR, G_CONVERT_ERROR_ILLEGAL_SEQUENCE, "");
      return NULL;
    }
  return g_strndup (raw->str, raw->len);
}

/* ---- Opening: encoding, "sep=", separator, header --------------------------------------------- */

static gboolean
starts_with (MrRecipientReader *self,
             const char        *bytes,
             gsize              length)
{
  return self->length - self->position >= length && memcmp (self->buffer + self->position, bytes, length) == 0;
}

/* UTF-16 files are turned into UTF-8 as they are read: the file again, after its byte-order mark. */
static gboolean
convert_from (MrRecipientReader  *self,
              GFile              *file,
              const char         *encoding,
              GError            **error)
{
  g_autoptr(GCharsetConverter) converter = g_charset_converter_new ("UTF-8", encoding, error);
  g_autoptr(GFileInputStream) raw = NULL;

  if (converter == NULL)
    return FALSE;
  raw = g_file_read (file, NULL, error);
  if (raw == NULL || g_input_stream_skip (G_INPUT_STREAM (raw), 2, NULL, error) != 2)
    return FALSE;
  g_clear_object (&self->stream);
  self->stream = g_converter_input_stream_new (G_INPUT_STREAM (raw), G_CONVERTER (converter));
  self->length = self->position = 0;
  self->at_end = FALSE;
  self->encoding = encoding;
  return fill (self, error);
}

static char
detect_separator (MrRecipientReader *self)
{
  static const char candidates[] = { ',', ';', '\t' };
  guint counts[G_N_ELEMENTS (candidates)] = { 0 };
  gboolean quoted = FALSE;
  char best = ',';
  guint best_count = 0;

  for (gsize i = self->position; i < self->length; i++)
    {
      guint8 c = self->buffer[i];

      if (c == '"')
        quoted = !quoted;
      else if (!quoted && (c == '\n' || c == '\r'))
        break;
      else if (!quoted)
        for (guint k = 0; k < G_N_ELEMENTS (candidates); k++)
          if (c == (guint8) candidates[k])
            counts[k]++;
    }
  for (guint k = 0; k < G_N_ELEMENTS (candidates); k++)
    if (counts[k] > best_count)
      {
        best = candidates[k];
        best_count = counts[k];
      }
  return best;
}

/* ---- JSON: an array of flat objects ----------------------------------------------------------- */

static int
json_skip_space (MrRecipientReader  *self,
                 GError            **error)
{
  int c;

  while ((c = peek_byte (self, error)) == ' ' || c == '\t' || c == '\r' || c == '\n')
    self->position++;
  return c;
}

static gboolean
json_broken (MrRecipientReader  *self,
             const char         *what,
             GError            **error)
{
  self->json_done = TRUE;
  self->row++;
  g_set_error (error, MR_RECIPIENTS_ERROR, MR_RECIPIENTS_ERROR_MALFORMED,
               _("Row %u: the JSON is broken here (%s), and nothing after it can be read"), self->row, what);
  return FALSE;
}

static void
append_unichar (GString  *out,
                gunichar  c)
{
  char utf8[6];
  g_string_append_len (out, utf8, g_unichar_to_utf8 (c, utf8));
}

static int
json_hex4 (MrRecipientReader *self)
{
  int value = 0;

  for (int i = 0; i < 4; i++)
    {
      int c = next_byte (self, NULL);
      int digit = c >= 0 ? g_ascii_xdigit_value ((char) c) : -1;

      if (digit < 0)
        return -1;
      value = value * 16 + digit;
    }
  return value;
}

/* After the opening quote: the string, unescaped. */
static gboolean
json_read_string (MrRecipientReader  *self,
                  GString            *out,
                  GError            **error)
{
  for (;;)
    {
      int c = next_byte (self, error);

      if (c < 0)
        return c == -2 ? FALSE : json_broken (self, _("a string never ends"), error);
      if (c == '"')
        return TRUE;
      if (c < 0x20)
        return json_broken (self, _("a control character in a string"), error);
      if (c != '\\')
        {
          g_string_append_c (out, (char) c);
          continue;
        }
      c = next_byte (self, error);
      switch (c)
        {
        case '"': case '\\': case '/': g_string_append_c (out, (char) c); break;
        case 'b': g_string_append_c (out, '\b'); break;
        case 'f': g_string_append_c (out, '\f'); break;
        case 'n': g_string_append_c (out, '\n'); break;
        case 'r': g_string_append_c (out, '\r'); break;
        case 't': g_string_append_c (out, '\t'); break;
        case 'u':
          {
            int high = json_hex4 (self);

            if (high < 0)
              return json_broken (self, _("a bad \\u escape"), error);
            if (high >= 0xd800 && high < 0xdc00)
              {
                int low = next_byte (self, NULL) == '\\' && next_byte (self, NULL) == 'u' ? json_hex4 (self) : -1;

                if (low < 0xdc00 || low >= 0xe000)
                  return json_broken (self, _("half of a surrogate pair"), error);
                append_unichar (out, 0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00));
              }
            else if (high >= 0xdc00 && high < 0xe000)
              return json_broken (self, _("half of a surrogate pair"), error);
            else
              append_unichar (out, (gunichar) high);
          }
          break;
        default:
          return json_broken (self, _("a bad escape in a string"), error);
        }
    }
}

/* A value other than a string: a number, true, false or null, as its text ("" for null). Nested
 * arrays and objects are skipped whole and reported by the caller. */
static gboolean
json_read_bare (MrRecipientReader  *self,
                GString            *out,
                gboolean           *nested,
                GError            **error)
{
  int c = peek_byte (self, error);

  *nested = c == '{' || c == '[';
  if (*nested)
    {
      int depth = 0;
      g_autoptr(GString) ignored = g_string_new (NULL);

      do
        {
          c = next_byte (self, error);
          if (c == '"')
            {
              if (!json_read_string (self, ignored, error))
                return FALSE;
            }
          else if (c == '{' || c == '[')
            depth++;
          else if (c == '}' || c == ']')
            depth--;
          else if (c < 0)
            return json_broken (self, _("a nested value never ends"), error);
        }
      while (depth > 0);
      return TRUE;
    }
  while ((c = peek_byte (self, error)) >= 0 && (g_ascii_isalnum ((char) c) || c == '-' || c == '+' || c == '.'))
    g_string_append_c (out, (char) next_byte (self, NULL));
  if (g_str_equal (out->str, "null"))
    g_string_truncate (out, 0);
  else if (out->len == 0 || (!g_str_equal (out->str, "true") && !g_str_equal (out->str, "false") &&
                             !g_ascii_isdigit (out->str[out->len - 1])))
    return json_broken (self, _("a value that is not a string, number, true, false or null"), error);
  return TRUE;
}

/* One object: its keys into json_names and its values into raw. @nested_key names a key whose value
 * was an array or object (the row cannot be used). */
static gboolean
json_read_object (MrRecipientReader  *self,
                  char              **nested_key,
                  GError            **error)
{
  int c;

  g_ptr_array_set_size (self->json_names, 0);
  g_ptr_array_set_size (self->raw, 0);
  if (json_skip_space (self, error) != '{')
    return json_broken (self, _("each item of the array must be an object"), error);
  self->position++;
  if (json_skip_space (self, error) == '}')
    {
      self->position++;
      return TRUE;
    }
  for (;;)
    {
      g_autoptr(GString) name = g_string_new (NULL);
      GString *value = new_field (self);
      gboolean nested = FALSE;

      if (json_skip_space (self, error) != '"')
        return json_broken (self, _("a key must be a string"), error);
      self->position++;
      if (!json_read_string (self, name, error))
        return FALSE;
      if (json_skip_space (self, error) != ':')
        return json_broken (self, _("a key without a value"), error);
      self->position++;
      c = json_skip_space (self, error);
      if (c == '"')
        {
          self->position++;
          if (!json_read_string (self, value, error))
            return FALSE;
        }
      else if (!json_read_bare (self, value, &nested, error))
        return FALSE;
      if (nested && *nested_key == NULL)
        *nested_key = g_strdup (name->str);
      g_ptr_array_add (self->json_names, g_string_free (g_steal_pointer (&name), FALSE));
      c = json_skip_space (self, error);
      self->position++;
      if (c == '}')
        return TRUE;
      if (c != ',')
        return json_broken (self, _("a missing comma or closing brace"), error);
    }
}

/* The next object, as a row; FALSE at the "]" or with @error (for that row, or for the rest). */
static gboolean
json_next (MrRecipientReader  *self,
           GError            **error)
{
  g_autofree char *nested_key = NULL;
  int c;

  if (self->json_first_pending)
    {
      self->json_first_pending = FALSE;
      if (self->json_first_error != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&self->json_first_error));
          return FALSE;
        }
      return TRUE;
    }
  if (self->json_done)
    return FALSE;
  c = json_skip_space (self, error);
  if (c == ']')
    {
      self->json_done = TRUE;
      return FALSE;
    }
  if (c < 0)
    return c == -2 ? FALSE : json_broken (self, _("the array never ends: “]” is missing"), error);
  if (self->row > 1)
    {
      if (c != ',')
        return json_broken (self, _("a missing comma between objects"), error);
      self->position++;
    }
  if (!json_read_object (self, &nested_key, error))
    return FALSE;
  self->row++;
  if (nested_key != NULL)
    {
      g_set_error (error, MR_RECIPIENTS_ERROR, MR_RECIPIENTS_ERROR_MALFORMED,
                   _("Row %u: “%s” holds a list or an object; each value must be text, a number, true, false or null"),
                   self->row, nested_key);
      return FALSE;
    }
  return TRUE;
}

/* The object just read, in column order: a key the first object did not have is an error, a
 * missing one is empty. */
static gboolean
json_fields (MrRecipientReader  *self,
             GError            **error)
{
  guint n_columns = self->columns->len - 1;

  g_ptr_array_set_size (self->fields, 0);
  for (guint c = 0; c < n_columns; c++)
    g_ptr_array_add (self->fields, g_strdup (""));
  for (guint i = 0; i < self->json_names->len; i++)
    {
      const char *name = g_ptr_array_index (self->json_names, i);
      GString *value = g_ptr_array_index (self->raw, i);
      guint c;

      for (c = 0; c < n_columns && !g_str_equal (g_ptr_array_index (self->columns, c), name); c++)
        ;
      if (c == n_columns)
        {
          g_set_error (error, MR_RECIPIENTS_ERROR, MR_RECIPIENTS_ERROR_MALFORMED,
                       _("Row %u has “%s”, which the first object does not have: the first object names the columns"),
                       self->row, name);
          return FALSE;
        }
      if (!g_utf8_validate_len (value->str, value->len, NULL))
        {
          g_set_error (error, MR_RECIPIENTS_ERROR, MR_RECIPIENTS_ERROR_ENCODING,
                       _("Row %u, column “%s”, is not valid %s text"), self->row, name, self->encoding);
          return FALSE;
        }
      g_free (g_ptr_array_index (self->fields, c));
      g_ptr_array_index (self->fields, c) = g_strndup (value->str, value->len);
    }
  g_ptr_array_add (self->fields, NULL);
  return TRUE;
}

/* After "[": the first object names the columns, and is kept as the first row. */
static gboolean
json_open (MrRecipientReader  *self,
           GError            **error)
{
  GError *local_error = NULL;

  self->json = TRUE;
  self->json_names = g_ptr_array_new_with_free_func (g_free);
  self->position++;
  self->row = 1;
  if (json_skip_space (self, error) == ']' || !json_next (self, &local_error))
    {
      /* A first object with a nested value still names the columns; its row reports the error. */
      if (local_error != NULL && !self->json_done)
        self->json_first_error = g_steal_pointer (&local_error);
      if (local_error != NULL)
        {
          g_propagate_error (error, local_error);
          return FALSE;
        }
      if (self->json_names->len == 0)
        {
          g_set_error_literal (error, MR_RECIPIENTS_ERROR, MR_RECIPIENTS_ERROR_NO_HEADER,
                               _("The JSON array is empty: it should hold one object per recipient"));
          return FALSE;
        }
    }
  for (guint i = 0; i < self->json_names->len; i++)
    g_ptr_array_add (self->columns, g_strdup (g_ptr_array_index (self->json_names, i)));
  if (self->columns->len == 0)
    {
      g_set_error_literal (error, MR_RECIPIENTS_ERROR, MR_RECIPIENTS_ERROR_NO_HEADER,
                           _("The first object of the JSON array is empty: its keys name the columns"));
      return FALSE;
    }
  g_ptr_array_add (self->columns, NULL);
  g_ptr_array_add (self->fields, NULL);
  self->json_first_pending = TRUE;
  return TRUE;
}

MrRecipientReader *
mr_recipient_reader_open (const char  *path,
                          GError     **error)
{
  g_autoptr(MrRecipientReader) self = g_new0 (MrRecipientReader, 1);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GError) local_error = NULL;
  gboolean has_sep_line = FALSE;
  const char *invalid_end = NULL;

  self->buffer = g_malloc (BUFFER_SIZE);
  self->raw = g_ptr_array_new_with_free_func (free_string);
  self->columns = g_ptr_array_new_with_free_func (g_free);
  self->fields = g_ptr_array_new_with_free_func (g_free);
  self->stream = G_INPUT_STREAM (g_file_read (file, NULL, error));
  if (self->stream == NULL || !fill (self, error))
    return NULL;

  /* The encoding: a byte-order mark says it; otherwise UTF-8 if the start reads as UTF-8. */
  self->encoding = "UTF-8";
  if (starts_with (self, "\xef\xbb\xbf", 3))
    self->position += 3;
  else if (starts_with (self, "\xff\xfe", 2) && !convert_from (self, file, "UTF-16LE", error))
    return NULL;
  else if (starts_with (self, "\xfe\xff", 2) && !convert_from (self, file, "UTF-16BE", error))
    return NULL;
  else if (!g_utf8_validate_len ((const char *) self->buffer, self->length, &invalid_end) &&
           /* a character cut in two by the end of the buffer is not a reason to doubt */
           !(!self->at_end && (const guint8 *) invalid_end >= self->buffer + self->length - 3))
    {
      self->encoding = "WINDOWS-1252";
      self->from_windows_1252 = TRUE;
    }

  /* JSON: an array of objects, the first object's keys naming the columns. */
  {
    int c;

    while ((c = peek_byte (self, NULL)) == ' ' || c == '\t' || c == '\r' || c == '\n')
      self->position++;
    if (c == '[')
      return json_open (self, error) ? g_steal_pointer (&self) : NULL;
  }

  /* Excel's first line "sep=;" names the separator. */
  if (starts_with (self, "sep=", 4) && self->length - self->position >= 5)
    {
      self->separator = (char) self->buffer[self->position + 4];
      self->position += 5;
      while (peek_byte (self, NULL) == '\r' || peek_byte (self, NULL) == '\n')
        self->position++;
      has_sep_line = TRUE;
    }
  if (!has_sep_line)
    self->separator = detect_separator (self);

  /* The header row: skipped blank lines do not count as rows here, as in a spreadsheet. */
  do
    {
      if (!read_record (self, &local_error))
        {
          if (local_error != NULL)
            g_propagate_error (error, g_steal_pointer (&local_error));
          else
            g_set_error_literal (error, MR_RECIPIENTS_ERROR, MR_RECIPIENTS_ERROR_NO_HEADER,
                                 _("The file is empty: its first row should name the columns"));
          return NULL;
        }
    }
  while (record_is_blank (self));
  self->row = 1;
  for (guint i = 0; i < self->raw->len; i++)
    {
      char *name = decode (self, g_ptr_array_index (self->raw, i), NULL);

      if (name == NULL)
        {
          g_set_error (error, MR_RECIPIENTS_ERROR, MR_RECIPIENTS_ERROR_ENCODING,
                       _("Row 1 (the column names) is not valid %s text"), self->encoding);
          return NULL;
        }
      g_ptr_array_add (self->columns, g_strstrip (name));
    }
  /* Spreadsheets add empty columns at the end: they name nothing. */
  while (self->columns->len > 0 && *(char *) g_ptr_array_index (self->columns, self->columns->len - 1) == '\0')
    g_ptr_array_remove_index (self->columns, self->columns->len - 1);
  if (self->columns->len == 0)
    {
      g_set_error_literal (error, MR_RECIPIENTS_ERROR, MR_RECIPIENTS_ERROR_NO_HEADER,
                           _("The first row should name the columns, and it is empty"));
      return NULL;
    }
  g_ptr_array_add (self->columns, NULL);
  g_ptr_array_add (self->fields, NULL);
  return g_steal_pointer (&self);
}

void
mr_recipient_reader_free (MrRecipientReader *self)
{
  if (self == NULL)
    return;
  g_clear_object (&self->stream);
  g_free (self->buffer);
  g_clear_pointer (&self->raw, g_ptr_array_unref);
  g_clear_pointer (&self->columns, g_ptr_array_unref);
  g_clear_pointer (&self->fields, g_ptr_array_unref);
  g_clear_pointer (&self->json_names, g_ptr_array_unref);
  g_clear_error (&self->json_first_error);
  g_free (self);
}

const char * const *
mr_recipient_reader_get_columns (MrRecipientReader *self)
{
  return (const char * const *) self->columns->pdata;
}

char
mr_recipient_reader_get_separator (MrRecipientReader *self)
{
  return self->separator;
}

const char *
mr_recipient_reader_get_encoding (MrRecipientReader *self)
{
  return self->encoding;
}

gboolean
mr_recipient_reader_next (MrRecipientReader    *self,
                          const char * const  **fields,
                          guint                *row,
                          GError              **error)
{
  guint n_columns = self->columns->len - 1;
  GError *local_error = NULL;

  if (self->json)
    {
      gboolean ok = json_next (self, error) && json_fields (self, error);

      if (row != NULL)
        *row = self->row;
      if (ok)
        *fields = (const char * const *) self->fields->pdata;
      return ok;
    }
  do
    {
      if (!read_record (self, &local_error))
        {
          if (local_error != NULL)
            {
              /* Unreadable from here (a quote never closed, bytes the converter refuses, a read
               * error): the end. */
              if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA) ||
                  g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT) || local_error->domain == G_CONVERT_ERROR)
                {
                  GError *converted = g_error_new (MR_RECIPIENTS_ERROR, MR_RECIPIENTS_ERROR_ENCODING,
                                                   _("Row %u is not valid %s text, and nothing after it can be read (%s)"),
                                                   self->row + 1, self->encoding, local_error->message);
                  g_error_free (local_error);
                  local_error = converted;
                }
              self->at_end = TRUE;
              self->length = self->position = 0;
              if (row != NULL)
                *row = self->row + 1;
              g_propagate_error (error, local_error);
            }
          return FALSE;
        }
      self->row++;
    }
  while (record_is_blank (self));

  if (row != NULL)
    *row = self->row;
  g_ptr_array_set_size (self->fields, 0);
  for (guint i = 0; i < self->raw->len; i++)
    {
      GString *raw = g_ptr_array_index (self->raw, i);
      char *value;

      if (i >= n_columns)
        {
          if (raw->len == 0)
            continue;
          g_set_error (error, MR_RECIPIENTS_ERROR, MR_RECIPIENTS_ERROR_MALFORMED,
                       _("Row %u has %u fields, but the first row names %u columns"), self->row, self->raw->len,
                       n_columns);
          return FALSE;
        }
      value = decode (self, raw, NULL);
      if (value == NULL)
        {
          g_set_error (error, MR_RECIPIENTS_ERROR, MR_RECIPIENTS_ERROR_ENCODING,
                       _("Row %u, column “%s”, is not valid %s text"), self->row,
                       (const char *) g_ptr_array_index (self->columns, i), self->encoding);
          return FALSE;
        }
      g_ptr_array_add (self->fields, value);
    }
  while (self->fields->len < n_columns)
    g_ptr_array_add (self->fields, g_strdup (""));
  g_ptr_array_add (self->fields, NULL);
  *fields = (const char * const *) self->fields->pdata;
  return TRUE;
}
