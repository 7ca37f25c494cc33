/* mr-recipients.c: a streaming reader for recipient lists saved by spreadsheets
 *
 * Over 1,000 lines, and kept whole: CSV (its encodings, separators and quoting), JSON and the rows of
 * a spreadsheet (mr-spreadsheet.c) all become one stream of records with one header, one set of
 * limits and one way of saying what is wrong with a row.
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "mr-recipients.h"
#include "mr-spreadsheet.h"

G_DEFINE_QUARK (mr-recipients-error-quark, mr_recipients_error)

#define BUFFER_SIZE 65536

/* A field, a row and a header longer than any spreadsheet writes are refused with their row, and
 * the reader goes on reading in constant memory: what is past a limit is read but not kept. Excel
 * and LibreOffice hold at most 32,767 characters in a cell and 16,384 columns. */
#define MAX_FIELD   (256 * 1024)
#define MAX_RECORD  (1024 * 1024)
#define MAX_COLUMNS 16384

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
  GHashTable   *column_index;        /* JSON: a column's name → its index + 1 */
  GError       *read_error;          /* the stream failed (bytes the converter refused, say): the end */
  gsize         record_bytes;        /* kept of the record being read */
  const char   *too_long;            /* why the record being read is not kept whole, or NULL */
  MrSpreadsheet *spreadsheet;        /* an .xlsx or .ods file's sheet, read instead of the bytes */
};

/* ---- Bytes ------------------------------------------------------------------------------------ */

/* A read error is kept in the reader, once, and reading ends there: the public functions report
 * it with the row it stopped at, whatever the parsing made of the missing bytes. */
static gboolean
fill (MrRecipientReader *self)
{
  gssize n;
  GError *local_error = NULL;

  if (self->at_end)
    return TRUE;
  if (self->position > 0)
    {
      memmove (self->buffer, self->buffer + self->position, self->length - self->position);
      self->length -= self->position;
      self->position = 0;
    }
  n = g_input_stream_read (self->stream, self->buffer + self->length, BUFFER_SIZE - self->length, NULL, &local_error);
  if (n < 0)
    {
      if (self->read_error == NULL)
        self->read_error = local_error;
      else
        g_error_free (local_error);
      self->at_end = TRUE;
      return FALSE;
    }
  if (n == 0)
    self->at_end = TRUE;
  self->length += n;
  return TRUE;
}

/* The next byte, or -1 at the end of the file; -2 when reading failed (self->read_error). */
static int
next_byte (MrRecipientReader *self)
{
  if (self->read_error != NULL)
    return -2;
  if (self->position >= self->length)
    {
      if (!fill (self))
        return -2;
      if (self->position >= self->length)
        return -1;
    }
  return self->buffer[self->position++];
}

static int
peek_byte (MrRecipientReader *self)
{
  int c = next_byte (self);

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

/* Appends to a field what fits within the limits, and notes why the rest does not. */
static void
append_limited (MrRecipientReader *self,
                GString           *field,
                const char        *bytes,
                gsize              length)
{
  if (field->len + length > MAX_FIELD)
    self->too_long = self->too_long ? self->too_long : _("a field is longer than 256 KB");
  else if (self->record_bytes + length > MAX_RECORD)
    self->too_long = self->too_long ? self->too_long : _("it is longer than 1 MB");
  if (self->too_long != NULL)
    return;
  g_string_append_len (field, bytes, length);
  self->record_bytes += length;
}

/* The record's next field, or NULL past MAX_COLUMNS (the rest of the record is read, not kept). */
static GString *
next_field (MrRecipientReader *self)
{
  if (self->raw->len >= MAX_COLUMNS)
    {
      self->too_long = self->too_long ? self->too_long : _("it has more than 16,384 fields");
      return NULL;
    }
  return new_field (self);
}

/* Reads one record's raw fields (RFC 4180, leniently: text after a closing quote is kept, as
 * spreadsheets do). Returns FALSE at the end of the file with nothing read, at a read error
 * (self->read_error), or with @error. A record past a limit is read to its end in constant memory,
 * with self->too_long saying why it is not whole. */
static gboolean
read_record (MrRecipientReader  *self,
             GError            **error)
{
  GString *field;
  gsize field_length = 0;   /* counted also when not kept */
  gboolean quoted = FALSE;
  gboolean any = FALSE;
  int c;

  g_ptr_array_set_size (self->raw, 0);
  self->record_bytes = 0;
  self->too_long = NULL;
  field = new_field (self);
  for (;;)
    {
      c = next_byte (self);
      if (c == -2)
        return FALSE;
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
          char ch = (char) c;

          if (c == '"')
            {
              if (peek_byte (self) != '"')
                {
                  quoted = FALSE;
                  continue;
                }
              self->position++;
            }
          field_length++;
          if (field != NULL)
            append_limited (self, field, &ch, 1);
        }
      else if (c == '"' && field_length == 0)
        quoted = TRUE;
      else if (c == self->separator)
        {
          field = next_field (self);
          field_length = 0;
        }
      else if (c == '\n')
        return TRUE;
      else if (c == '\r')
        {
          if (peek_byte (self) == '\n')
            self->position++;
          return TRUE;
        }
      else
        {
          char ch = (char) c;

          field_length++;
          if (field != NULL)
            append_limited (self, field, &ch, 1);
        }
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

/* The read error that ended the reading, for the caller: bytes the converter refused (a broken
 * UTF-16 file) are an encoding error of @row, which exits 65 like every other fault of the list;
 * a failing disk stays a G_IO_ERROR. Any error the parsing made of the missing bytes is dropped. */
static gboolean
take_read_error (MrRecipientReader  *self,
                 guint               row,
                 GError            **error)
{
  GError *read_error = g_steal_pointer (&self->read_error);

  if (g_error_matches (read_error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA) ||
      g_error_matches (read_error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT) || read_error->domain == G_CONVERT_ERROR)
    {
      g_set_error (error, MR_RECIPIENTS_ERROR, MR_RECIPIENTS_ERROR_ENCODING,
                   _("Row %u is not valid %s text, and nothing after it can be read (%s)"), row, self->encoding,
                   read_error->message);
      g_error_free (read_error);
    }
  else
    g_propagate_error (error, read_error);
  /* Nothing more comes from this reader. */
  self->read_error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CLOSED, "");
  self->json_done = TRUE;
  self->at_end = TRUE;
  self->length = self->position = 0;
  return FALSE;
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
  fill (self);
  return TRUE;
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
json_skip_space (MrRecipientReader *self)
{
  int c;

  while ((c = peek_byte (self)) == ' ' || c == '\t' || c == '\r' || c == '\n')
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
append_unichar (MrRecipientReader *self,
                GString           *out,
                gunichar           c)
{
  char utf8[6];

  append_limited (self, out, utf8, g_unichar_to_utf8 (c, utf8));
}

static void
append_byte (MrRecipientReader *self,
             GString           *out,
             char               c)
{
  append_limited (self, out, &c, 1);
}

static int
json_hex4 (MrRecipientReader *self)
{
  int value = 0;

  for (int i = 0; i < 4; i++)
    {
      int c = next_byte (self);
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
      int c = next_byte (self);

      if (c < 0)
        return json_broken (self, _("a string never ends"), error);
      if (c == '"')
        return TRUE;
      if (c < 0x20)
        return json_broken (self, _("a control character in a string"), error);
      if (c != '\\')
        {
          append_byte (self, out, (char) c);
          continue;
        }
      c = next_byte (self);
      switch (c)
        {
        case '"': case '\\': case '/': append_byte (self, out, (char) c); break;
        case 'b': append_byte (self, out, '\b'); break;
        case 'f': append_byte (self, out, '\f'); break;
        case 'n': append_byte (self, out, '\n'); break;
        case 'r': append_byte (self, out, '\r'); break;
        case 't': append_byte (self, out, '\t'); break;
        case 'u':
          {
            int high = json_hex4 (self);

            if (high < 0)
              return json_broken (self, _("a bad \\u escape"), error);
            if (high >= 0xd800 && high < 0xdc00)
              {
                int low = next_byte (self) == '\\' && next_byte (self) == 'u' ? json_hex4 (self) : -1;

                if (low < 0xdc00 || low >= 0xe000)
                  return json_broken (self, _("half of a surrogate pair"), error);
                append_unichar (self, out, 0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00));
              }
            else if (high >= 0xdc00 && high < 0xe000)
              return json_broken (self, _("half of a surrogate pair"), error);
            else
              append_unichar (self, out, (gunichar) high);
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
  int c = peek_byte (self);

  *nested = c == '{' || c == '[';
  if (*nested)
    {
      int depth = 0;
      g_autoptr(GString) ignored = g_string_new (NULL);

      do
        {
          c = next_byte (self);
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
  {
    /* Judged by what was read, not by what was kept: past a limit nothing is kept. */
    char word[6] = "";
    char last = '\0';
    gsize length = 0;

    while ((c = peek_byte (self)) >= 0 && (g_ascii_isalnum ((char) c) || c == '-' || c == '+' || c == '.'))
      {
        last = (char) next_byte (self);
        if (length < 5)
          word[length] = last;
        length++;
        append_byte (self, out, last);
      }
    word[MIN (length, 5)] = '\0';
    if (length == 4 && g_str_equal (word, "null"))
      g_string_truncate (out, 0);
    else if (length == 0 || (!(length == 4 && g_str_equal (word, "true")) &&
                             !(length == 5 && g_str_equal (word, "false")) && !g_ascii_isdigit (last)))
      return json_broken (self, _("a value that is not a string, number, true, false or null"), error);
    return TRUE;
  }
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
  self->record_bytes = 0;
  self->too_long = NULL;
  if (json_skip_space (self) != '{')
    return json_broken (self, _("each item of the array must be an object"), error);
  self->position++;
  if (json_skip_space (self) == '}')
    {
      self->position++;
      return TRUE;
    }
  for (;;)
    {
      g_autoptr(GString) name = g_string_new (NULL);
      g_autoptr(GString) dropped = NULL;
      GString *value = next_field (self);
      gboolean nested = FALSE;

      /* Past MAX_COLUMNS keys the values are read but not kept (too_long says so). */
      if (value == NULL)
        value = dropped = g_string_new (NULL);
      if (json_skip_space (self) != '"')
        return json_broken (self, _("a key must be a string"), error);
      self->position++;
      if (!json_read_string (self, name, error))
        return FALSE;
      if (json_skip_space (self) != ':')
        return json_broken (self, _("a key without a value"), error);
      self->position++;
      c = json_skip_space (self);
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
      if (dropped == NULL)
        g_ptr_array_add (self->json_names, g_string_free (g_steal_pointer (&name), FALSE));
      c = json_skip_space (self);
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
  c = json_skip_space (self);
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
  if (self->too_long != NULL)
    {
      g_set_error (error, MR_RECIPIENTS_ERROR, MR_RECIPIENTS_ERROR_MALFORMED,
                   _("Row %u is too long to be a recipient (%s): it is left out"), self->row, self->too_long);
      return FALSE;
    }
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
      /* A set, not a search of the columns for each key: 100,000 keys took 26 s. */
      guint c = GPOINTER_TO_UINT (g_hash_table_lookup (self->column_index, name));

      if (c-- == 0)
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
  if (json_skip_space (self) == ']' || !json_next (self, &local_error))
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
  self->column_index = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < self->json_names->len; i++)
    {
      char *name = g_strdup (g_ptr_array_index (self->json_names, i));

      g_ptr_array_add (self->columns, name);
      g_hash_table_insert (self->column_index, name, GUINT_TO_POINTER (self->columns->len));
    }
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

char *
mr_recipients_field_name (const char *column)
{
  GString *name = g_string_new (NULL);

  for (const char *p = column; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_isspace (c))
        g_string_append_c (name, '_');
      else
        g_string_append_unichar (name, c);
    }
  return g_string_free (name, FALSE);
}

char *
mr_recipients_describe_columns (const char * const *columns)
{
  GString *out = g_string_new (NULL);
  guint n = columns ? g_strv_length ((char **) columns) : 0;

  for (guint i = 0; i < MIN (n, 20); i++)
    {
      const char *name = columns[i];

      if (i > 0)
        g_string_append (out, ", ");
      if (g_utf8_strlen (name, -1) > 40)
        {
          g_string_append_len (out, name, g_utf8_offset_to_pointer (name, 39) - name);
          g_string_append (out, "…");
        }
      else
        g_string_append (out, name);
    }
  if (n > 20)
    g_string_append_printf (out, g_dngettext (GETTEXT_PACKAGE, " and %u more", " and %u more", n - 20), n - 20);
  return g_string_free (out, FALSE);
}

/* ---- Spreadsheets ------------------------------------------------------------------------------- */

/* The header: the first row with anything in it. A cell merged over the columns after it names
 * them too, numbered ("Address", "Address 2"), so that each can be chosen. */
static gboolean
spreadsheet_open (MrRecipientReader  *self,
                  const char         *path,
                  const char         *sheet,
                  GError            **error)
{
  GPtrArray *cells = NULL;
  guint row = 0;
  GError *local_error = NULL;

  self->spreadsheet = mr_spreadsheet_open (path, sheet, error);
  if (self->spreadsheet == NULL)
    return FALSE;
  self->encoding = "UTF-8";
  if (!mr_spreadsheet_next_row (self->spreadsheet, MAX_COLUMNS, &cells, &row, &local_error))
    {
      if (local_error != NULL)
        g_propagate_error (error, local_error);
      else
        g_set_error (error, MR_RECIPIENTS_ERROR, MR_RECIPIENTS_ERROR_NO_HEADER,
                     _("The sheet “%s” is empty: its first row should name the columns"),
                     mr_spreadsheet_get_sheet (self->spreadsheet));
      return FALSE;
    }
  if (cells->len > MAX_COLUMNS)
    {
      g_set_error (error, MR_RECIPIENTS_ERROR, MR_RECIPIENTS_ERROR_MALFORMED,
                   _("Row %u (the column names) is too long to be a spreadsheet’s header (%s)"), row,
                   _("it has more than 16,384 fields"));
      return FALSE;
    }
  for (guint i = 0; i < cells->len; i++)
    g_ptr_array_add (self->columns, g_strstrip (g_strdup (g_ptr_array_index (cells, i))));
  for (guint i = 0; i < cells->len; i++)
    {
      guint span = mr_spreadsheet_get_merged_span (self->spreadsheet, i);
      const char *name = g_ptr_array_index (self->columns, i);

      for (guint k = 1; k < span && i + k < MAX_COLUMNS && *name != '\0'; k++)
        if (i + k >= self->columns->len)
          g_ptr_array_add (self->columns, g_strdup_printf ("%s %u", name, k + 1));
        else if (*(char *) g_ptr_array_index (self->columns, i + k) == '\0')
          {
            g_free (self->columns->pdata[i + k]);
            self->columns->pdata[i + k] = g_strdup_printf ("%s %u", name, k + 1);
          }
    }
  while (self->columns->len > 0 && *(char *) g_ptr_array_index (self->columns, self->columns->len - 1) == '\0')
    g_ptr_array_remove_index (self->columns, self->columns->len - 1);
  if (self->columns->len == 0)
    {
      g_set_error_literal (error, MR_RECIPIENTS_ERROR, MR_RECIPIENTS_ERROR_NO_HEADER,
                           _("The first row should name the columns, and it is empty"));
      return FALSE;
    }
  self->row = row;
  g_ptr_array_add (self->columns, NULL);
  g_ptr_array_add (self->fields, NULL);
  return TRUE;
}

static gboolean
spreadsheet_next (MrRecipientReader    *self,
                  const char * const  **fields,
                  guint                *row,
                  GError              **error)
{
  guint n_columns = self->columns->len - 1;
  GPtrArray *cells = NULL;
  guint number = 0;

  if (!mr_spreadsheet_next_row (self->spreadsheet, MAX_COLUMNS, &cells, &number, error))
    {
      if (row != NULL)
        *row = self->row + 1;
      return FALSE;
    }
  self->row = number;
  if (row != NULL)
    *row = number;
  g_ptr_array_set_size (self->fields, 0);
  for (guint i = 0; i < cells->len; i++)
    {
      const char *cell = g_ptr_array_index (cells, i);

      if (i >= n_columns)
        {
          if (*cell == '\0')
            continue;
          g_set_error (error, MR_RECIPIENTS_ERROR, MR_RECIPIENTS_ERROR_MALFORMED,
                       _("Row %u has a value in column %u, but the first row names %u columns"), number, i + 1,
                       n_columns);
          return FALSE;
        }
      if (strlen (cell) > MAX_FIELD)
        {
          g_set_error (error, MR_RECIPIENTS_ERROR, MR_RECIPIENTS_ERROR_MALFORMED,
                       _("Row %u is too long to be a recipient (%s): it is left out"), number,
                       _("a field is longer than 256 KB"));
          return FALSE;
        }
      g_ptr_array_add (self->fields, g_strdup (cell));
    }
  while (self->fields->len < n_columns)
    g_ptr_array_add (self->fields, g_strdup (""));
  g_ptr_array_add (self->fields, NULL);
  *fields = (const char * const *) self->fields->pdata;
  return TRUE;
}

MrRecipientReader *
mr_recipient_reader_open (const char  *path,
                          GError     **error)
{
  return mr_recipient_reader_open_sheet (path, NULL, error);
}

MrRecipientReader *
mr_recipient_reader_open_sheet (const char  *path,
                                const char  *sheet,
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
  if (self->stream == NULL)
    return NULL;
  if (!fill (self))
    {
      g_propagate_error (error, g_steal_pointer (&self->read_error));
      return NULL;
    }
  if (mr_spreadsheet_sniff (self->buffer, self->length))
    {
      g_clear_object (&self->stream);
      if (!spreadsheet_open (self, path, sheet, error))
        return NULL;
      return g_steal_pointer (&self);
    }
  if (sheet != NULL)
    {
      g_autofree char *name = g_filename_display_basename (path);

      g_set_error (error, MR_RECIPIENTS_ERROR, MR_RECIPIENTS_ERROR_NO_SHEET,
                   _("“%s” is not a spreadsheet, so it has no sheet “%s”: choose an .xlsx or .ods file, or no sheet"),
                   name, sheet);
      return NULL;
    }

  /* The encoding: a byte-order mark says it; otherwise UTF-8 if the start reads as UTF-8. */
  self->encoding = "UTF-8";
  if (starts_with (self, "\xef\xbb\xbf", 3))
    self->position += 3;
  else if (starts_with (self, "\xff\xfe", 2) && !convert_from (self, file, "UTF-16LE", error))
    return NULL;
  else if (starts_with (self, "\xfe\xff", 2) && !convert_from (self, file, "UTF-16BE", error))
    return NULL;
  if (self->read_error != NULL)
    {
      take_read_error (self, 1, error);
      return NULL;
    }
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

    while ((c = peek_byte (self)) == ' ' || c == '\t' || c == '\r' || c == '\n')
      self->position++;
    if (c == '[')
      {
        if (json_open (self, &local_error) && self->read_error == NULL)
          return g_steal_pointer (&self);
        if (self->read_error != NULL)
          take_read_error (self, self->row + 1, error);
        else
          g_propagate_error (error, g_steal_pointer (&local_error));
        return NULL;
      }
  }

  /* Excel's first line "sep=;" names the separator. */
  if (starts_with (self, "sep=", 4) && self->length - self->position >= 5)
    {
      self->separator = (char) self->buffer[self->position + 4];
      self->position += 5;
      while (peek_byte (self) == '\r' || peek_byte (self) == '\n')
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
          if (self->read_error != NULL)
            take_read_error (self, 1, error);
          else if (local_error != NULL)
            g_propagate_error (error, g_steal_pointer (&local_error));
          else
            g_set_error_literal (error, MR_RECIPIENTS_ERROR, MR_RECIPIENTS_ERROR_NO_HEADER,
                                 _("The file is empty: its first row should name the columns"));
          return NULL;
        }
    }
  while (record_is_blank (self));
  if (self->too_long != NULL)
    {
      g_set_error (error, MR_RECIPIENTS_ERROR, MR_RECIPIENTS_ERROR_MALFORMED,
                   _("Row 1 (the column names) is too long to be a spreadsheet’s header (%s)"), self->too_long);
      return NULL;
    }
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
  g_clear_pointer (&self->column_index, g_hash_table_unref);
  g_clear_error (&self->read_error);
  g_clear_pointer (&self->spreadsheet, mr_spreadsheet_free);
  g_free (self);
}

const char *
mr_recipient_reader_get_sheet (MrRecipientReader *self)
{
  return self->spreadsheet ? mr_spreadsheet_get_sheet (self->spreadsheet) : NULL;
}

guint
mr_recipient_reader_get_hidden_rows (MrRecipientReader *self)
{
  return self->spreadsheet ? mr_spreadsheet_get_hidden_rows (self->spreadsheet) : 0;
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

  if (self->spreadsheet != NULL)
    return spreadsheet_next (self, fields, row, error);
  if (self->json)
    {
      gboolean ok = json_next (self, &local_error) && json_fields (self, &local_error);

      if (self->read_error != NULL)
        {
          g_clear_error (&local_error);
          if (row != NULL)
            *row = self->row + 1;
          /* Said once: after it, the reader is at its end. */
          if (!g_error_matches (self->read_error, G_IO_ERROR, G_IO_ERROR_CLOSED))
            take_read_error (self, self->row + 1, error);
          return FALSE;
        }
      if (row != NULL)
        *row = self->row;
      if (ok)
        *fields = (const char * const *) self->fields->pdata;
      else if (local_error != NULL)
        g_propagate_error (error, local_error);
      return ok;
    }
  do
    {
      if (!read_record (self, &local_error))
        {
          /* Unreadable from here (a quote never closed, bytes the converter refuses, a read
           * error): the end. */
          if (row != NULL && (local_error != NULL || self->read_error != NULL))
            *row = self->row + 1;
          if (self->read_error != NULL)
            {
              g_clear_error (&local_error);
              if (!g_error_matches (self->read_error, G_IO_ERROR, G_IO_ERROR_CLOSED))
                take_read_error (self, self->row + 1, error);
              return FALSE;
            }
          if (local_error != NULL)
            {
              self->at_end = TRUE;
              self->length = self->position = 0;
              g_propagate_error (error, local_error);
            }
          return FALSE;
        }
      self->row++;
    }
  while (record_is_blank (self));

  if (row != NULL)
    *row = self->row;
  if (self->too_long != NULL)
    {
      g_set_error (error, MR_RECIPIENTS_ERROR, MR_RECIPIENTS_ERROR_MALFORMED,
                   _("Row %u is too long to be a recipient (%s): it is left out"), self->row, self->too_long);
      return FALSE;
    }
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
