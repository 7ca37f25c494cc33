/* test-recipients.c: recipient lists as spreadsheets save them */

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/resource.h>

#include "mr-recipients.h"
#include "mr-test-utils.h"

static char *
write_bytes (MrTestDirs *dirs,
             const char *name,
             const char *bytes,
             gssize      length)
{
  char *path = g_build_filename (dirs->root, name, NULL);

  g_assert_true (g_file_set_contents (path, bytes, length, NULL));
  return path;
}

/* Every row of @path as "a|b|c" lines, errors as "!ROW", for compact comparisons. */
static char *
read_all (const char *path,
          char       *separator,
          const char **encoding)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MrRecipientReader) reader = mr_recipient_reader_open (path, &error);
  g_autofree char *header = NULL;
  GString *out = g_string_new (NULL);
  const char * const *fields;
  guint row = 0;

  g_assert_no_error (error);
  header = g_strjoinv ("|", (char **) mr_recipient_reader_get_columns (reader));
  g_string_append_printf (out, "%s\n", header);
  for (;;)
    {
      if (mr_recipient_reader_next (reader, &fields, &row, &error))
        {
          g_autofree char *line = g_strjoinv ("|", (char **) fields);
          g_string_append_printf (out, "%u:%s\n", row, line);
        }
      else if (error != NULL)
        {
          g_test_message ("%s", error->message);
          g_string_append_printf (out, "!%u\n", row);
          g_clear_error (&error);
        }
      else
        break;
    }
  if (separator != NULL)
    *separator = mr_recipient_reader_get_separator (reader);
  if (encoding != NULL)
    *encoding = mr_recipient_reader_get_encoding (reader);
  return g_string_free (out, FALSE);
}

static void
test_rfc4180 (MrTestDirs    *dirs,
              gconstpointer  data)
{
  g_autofree char *path = write_bytes (dirs, "a.csv",
                                       "email,name, note \r\n"
                                       "ann@example.org,\"Smith, Ann\",\"She said \"\"hi\"\"\"\r\n"
                                       "\r\n"
                                       "bob@example.org,Bob,\"two\r\nlines\"\r\n"
                                       "carol@example.org,Carol\r\n"
                                       "dan@example.org,Dan,last,\r\n"
                                       "eve@example.org,Eve,no newline at the end", -1);
  g_autofree char *all = NULL;
  char separator = 0;

  all = read_all (path, &separator, NULL);
  g_assert_cmpint (separator, ==, ',');
  /* Row numbers as a spreadsheet shows them: the blank row counts, the quoted line break does not. */
  g_assert_cmpstr (all, ==,
                   "email|name|note\n"
                   "2:ann@example.org|Smith, Ann|She said \"hi\"\n"
                   "4:bob@example.org|Bob|two\r\nlines\n"
                   "5:carol@example.org|Carol|\n"
                   "6:dan@example.org|Dan|last\n"
                   "7:eve@example.org|Eve|no newline at the end\n");
}

static void
test_separators (MrTestDirs    *dirs,
                 gconstpointer  data)
{
  g_autofree char *semicolon = write_bytes (dirs, "semicolon.csv", "email;name\nann@example.org;\"Smith, Ann\"\n", -1);
  g_autofree char *tab = write_bytes (dirs, "tab.csv", "email\tname\nann@example.org\tAnn; Smith\n", -1);
  g_autofree char *excel = write_bytes (dirs, "excel.csv", "\xef\xbb\xbfsep=;\r\nemail;name\r\nann@example.org;Ann, Smith\r\n", -1);
  g_autofree char *single = write_bytes (dirs, "single.csv", "email\nann@example.org\n", -1);
  g_autofree char *all = NULL;
  char separator = 0;

  all = read_all (semicolon, &separator, NULL);
  g_assert_cmpint (separator, ==, ';');
  g_assert_cmpstr (all, ==, "email|name\n2:ann@example.org|Smith, Ann\n");
  g_free (all);
  all = read_all (tab, &separator, NULL);
  g_assert_cmpint (separator, ==, '\t');
  g_assert_cmpstr (all, ==, "email|name\n2:ann@example.org|Ann; Smith\n");
  g_free (all);
  /* The "sep=" line is not a row, and it overrides what the header suggests. */
  all = read_all (excel, &separator, NULL);
  g_assert_cmpint (separator, ==, ';');
  g_assert_cmpstr (all, ==, "email|name\n2:ann@example.org|Ann, Smith\n");
  g_free (all);
  all = read_all (single, &separator, NULL);
  g_assert_cmpstr (all, ==, "email\n2:ann@example.org\n");
}

static void
test_encodings (MrTestDirs    *dirs,
                gconstpointer  data)
{
  const char *text = "email;name\r\nj.muller@example.org;Jürgen Müller\r\nzoe@example.org;Zoë “Z” Øst\r\n";
  const char *expected = "email|name\n2:j.muller@example.org|Jürgen Müller\n3:zoe@example.org|Zoë “Z” Øst\n";
  g_autofree char *utf8 = write_bytes (dirs, "utf8.csv", text, -1);
  g_autofree char *bom_text = g_strconcat ("\xef\xbb\xbf", text, NULL);
  g_autofree char *utf8_bom = write_bytes (dirs, "utf8-bom.csv", bom_text, -1);
  gsize length = 0;
  g_autofree char *le = g_convert (text, -1, "UTF-16LE", "UTF-8", NULL, &length, NULL);
  g_autofree char *le_bom = g_malloc (length + 2);
  g_autofree char *be = NULL;
  g_autofree char *be_bom = NULL;
  g_autofree char *cp1252 = g_convert (text, -1, "WINDOWS-1252", "UTF-8", NULL, NULL, NULL);
  g_autofree char *utf16le = NULL;
  g_autofree char *utf16be = NULL;
  g_autofree char *windows = NULL;
  const char *encoding = NULL;
  g_autofree char *all = NULL;
  gsize be_length = 0;

  memcpy (le_bom, "\xff\xfe", 2);
  memcpy (le_bom + 2, le, length);
  utf16le = write_bytes (dirs, "utf16le.csv", le_bom, length + 2);
  be = g_convert (text, -1, "UTF-16BE", "UTF-8", NULL, &be_length, NULL);
  be_bom = g_malloc (be_length + 2);
  memcpy (be_bom, "\xfe\xff", 2);
  memcpy (be_bom + 2, be, be_length);
  utf16be = write_bytes (dirs, "utf16be.csv", be_bom, be_length + 2);
  g_assert_nonnull (cp1252);
  windows = write_bytes (dirs, "cp1252.csv", cp1252, -1);

  all = read_all (utf8, NULL, &encoding);
  g_assert_cmpstr (encoding, ==, "UTF-8");
  g_assert_cmpstr (all, ==, expected);
  g_free (all);
  all = read_all (utf8_bom, NULL, &encoding);
  g_assert_cmpstr (encoding, ==, "UTF-8");
  g_assert_cmpstr (all, ==, expected);
  g_free (all);
  all = read_all (utf16le, NULL, &encoding);
  g_assert_cmpstr (encoding, ==, "UTF-16LE");
  g_assert_cmpstr (all, ==, expected);
  g_free (all);
  all = read_all (utf16be, NULL, &encoding);
  g_assert_cmpstr (encoding, ==, "UTF-16BE");
  g_assert_cmpstr (all, ==, expected);
  g_free (all);
  all = read_all (windows, NULL, &encoding);
  g_assert_cmpstr (encoding, ==, "WINDOWS-1252");
  g_assert_cmpstr (all, ==, expected);
}

/* A row that is not text in the file's encoding is named, not turned into "�", and the rest is read. */
static void
test_undecodable_rows (MrTestDirs    *dirs,
                       gconstpointer  data)
{
  GString *big = g_string_new ("email,name\n");
  g_autofree char *utf8 = NULL;
  g_autofree char *windows = NULL;
  g_autofree char *all = NULL;
  g_autofree char *tail = NULL;
  const char *encoding = NULL;
  guint rows;

  /* More than the first 64 KB read as UTF-8, so the file is taken as UTF-8; then a broken row. */
  for (rows = 0; big->len < 70000; rows++)
    g_string_append_printf (big, "person%u@example.org,Jürgen %u\n", rows, rows);
  g_string_append (big, "broken@example.org,M\xfcller\nlast@example.org,Last\n");
  utf8 = write_bytes (dirs, "late.csv", big->str, big->len);
  g_string_free (big, TRUE);
  all = read_all (utf8, NULL, &encoding);
  g_assert_cmpstr (encoding, ==, "UTF-8");
  tail = g_strdup_printf ("!%u\n%u:last@example.org|Last\n", rows + 2, rows + 3);
  g_assert_true (g_str_has_suffix (all, tail));
  g_assert_null (strstr (all, "\xef\xbf\xbd"));

  /* UTF-16 with half a surrogate pair: the row is named, and reading ends there. */
  {
    static const char broken16[] = "\xff\xfe" "e\0,\0n\0\n\0" "a\0,\0b\0\n\0" "x\0,\0\x00\xd8y\0\n\0";
    g_autofree char *path = write_bytes (dirs, "broken16.csv", broken16, sizeof broken16 - 1);
    g_autofree char *read = read_all (path, NULL, &encoding);

    g_assert_cmpstr (encoding, ==, "UTF-16LE");
    g_assert_cmpstr (read, ==, "e|n\n2:a|b\n!3\n");
  }

  /* Windows-1252 has bytes that mean nothing: 0x81. */
  windows = write_bytes (dirs, "cp1252-bad.csv", "email,name\nann@example.org,M\xfcller\nbad@example.org,\x81\nok@example.org,Ok\n", -1);
  g_free (all);
  all = read_all (windows, NULL, &encoding);
  g_assert_cmpstr (encoding, ==, "WINDOWS-1252");
  g_assert_cmpstr (all, ==, "email|name\n2:ann@example.org|Müller\n!3\n4:ok@example.org|Ok\n");
}

static void
test_malformed (MrTestDirs    *dirs,
                gconstpointer  data)
{
  g_autofree char *extra = write_bytes (dirs, "extra.csv", "email,name\nann@example.org,Ann,surplus\nbob@example.org,Bob\n", -1);
  g_autofree char *unclosed = write_bytes (dirs, "unclosed.csv", "email,name\nann@example.org,\"Ann\nbob@example.org,Bob\n", -1);
  g_autofree char *empty = write_bytes (dirs, "empty.csv", "\n\n", -1);
  g_autofree char *nameless = write_bytes (dirs, "nameless.csv", ",,\nann@example.org,,\n", -1);
  g_autofree char *all = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(MrRecipientReader) reader = NULL;
  const char * const *fields;
  guint row = 0;

  all = read_all (extra, NULL, NULL);
  g_assert_cmpstr (all, ==, "email|name\n!2\n3:bob@example.org|Bob\n");

  reader = mr_recipient_reader_open (unclosed, &error);
  g_assert_no_error (error);
  g_assert_false (mr_recipient_reader_next (reader, &fields, &row, &error));
  g_assert_error (error, MR_RECIPIENTS_ERROR, MR_RECIPIENTS_ERROR_MALFORMED);
  g_assert_nonnull (strstr (error->message, "Row 2"));
  g_clear_error (&error);
  g_assert_false (mr_recipient_reader_next (reader, &fields, &row, &error));
  g_assert_no_error (error);
  g_clear_pointer (&reader, mr_recipient_reader_free);

  g_assert_null (mr_recipient_reader_open (empty, &error));
  g_assert_error (error, MR_RECIPIENTS_ERROR, MR_RECIPIENTS_ERROR_NO_HEADER);
  g_clear_error (&error);
  g_assert_null (mr_recipient_reader_open (nameless, &error));
  g_assert_error (error, MR_RECIPIENTS_ERROR, MR_RECIPIENTS_ERROR_NO_HEADER);
  g_clear_error (&error);
  g_assert_null (mr_recipient_reader_open ("/nonexistent/list.csv", &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
}

static glong
peak_kilobytes (void)
{
  struct rusage usage;

  g_assert_cmpint (getrusage (RUSAGE_SELF, &usage), ==, 0);
  return usage.ru_maxrss;
}

/* Read as a stream: 400,000 rows (about 20 MB) leave the peak memory where it was. */
static void
test_streaming (MrTestDirs    *dirs,
                gconstpointer  data)
{
  g_autofree char *path = g_build_filename (dirs->root, "big.csv", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFileOutputStream) out = g_file_replace (file, NULL, FALSE, G_FILE_CREATE_NONE, NULL, NULL);
  g_autoptr(MrRecipientReader) reader = NULL;
  g_autoptr(GError) error = NULL;
  const char * const *fields;
  guint rows = 0, row = 0;
  glong before;

  g_assert_nonnull (out);
  g_assert_true (g_output_stream_write_all (G_OUTPUT_STREAM (out), "email,name,city\n", 16, NULL, NULL, NULL));
  for (guint i = 0; i < 400000; i++)
    {
      char line[128];
      int length = g_snprintf (line, sizeof line, "person%u@example.org,\"Person, %u\",Zürich\n", i, i);

      g_assert_true (g_output_stream_write_all (G_OUTPUT_STREAM (out), line, length, NULL, NULL, NULL));
    }
  g_assert_true (g_output_stream_close (G_OUTPUT_STREAM (out), NULL, NULL));

  before = peak_kilobytes ();
  reader = mr_recipient_reader_open (path, &error);
  g_assert_no_error (error);
  while (mr_recipient_reader_next (reader, &fields, &row, &error))
    rows++;
  g_assert_no_error (error);
  g_assert_cmpuint (rows, ==, 400000);
  g_assert_cmpuint (row, ==, 400001);
  g_test_message ("peak memory before %ld kB, after %ld kB", before, peak_kilobytes ());
  mr_assert_memory_growth (peak_kilobytes () - before, 2048);
}

/* Writes @head, then @fill repeated @count times, then @tail, to @path without holding it all. */
static void
write_repeated (const char *path,
                const char *head,
                const char *fill,
                gsize       count,
                const char *tail)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFileOutputStream) out = g_file_replace (file, NULL, FALSE, G_FILE_CREATE_NONE, NULL, NULL);
  GOutputStream *stream = G_OUTPUT_STREAM (out);
  gsize fill_length = strlen (fill);
  g_autoptr(GString) chunk = g_string_new (NULL);

  g_assert_true (g_output_stream_write_all (stream, head, strlen (head), NULL, NULL, NULL));
  while (count > 0)
    {
      gsize n = MIN (count, 65536 / MAX (fill_length, 1));

      g_string_truncate (chunk, 0);
      for (gsize i = 0; i < n; i++)
        g_string_append_len (chunk, fill, fill_length);
      g_assert_true (g_output_stream_write_all (stream, chunk->str, chunk->len, NULL, NULL, NULL));
      count -= n;
    }
  g_assert_true (g_output_stream_write_all (stream, tail, strlen (tail), NULL, NULL, NULL));
  g_assert_true (g_output_stream_close (stream, NULL, NULL));
}

/* Hostile lists: a 20 MB row with no line break, a 20 MB field, a row of 100,000 fields, a header
 * of 100,000 columns. Each is refused with its row in constant memory, and the reading goes on. */
static void
test_limits (MrTestDirs    *dirs,
             gconstpointer  data)
{
  g_autofree char *path = g_build_filename (dirs->root, "hostile.csv", NULL);
  const char * const *fields;
  guint row = 0;
  glong before = peak_kilobytes ();

  {
    static const char *fills[] = { "x", "\"xxxxxxx", ",", };
    static const char *says[] = { "longer than 256 KB", "longer than 256 KB", "more than 16,384 fields" };

    for (guint i = 0; i < G_N_ELEMENTS (fills); i++)
      {
        g_autoptr(MrRecipientReader) reader = NULL;
        g_autoptr(GError) error = NULL;

        /* Row 2 is the hostile one; row 3 is fine and still read. */
        write_repeated (path, "email,name\nann@example.org,", fills[i], i == 2 ? 100000 : 20 * 1024 * 1024 / strlen (fills[i]),
                        i == 1 ? "\"\nbob@example.org,Bob\n" : "\nbob@example.org,Bob\n");
        reader = mr_recipient_reader_open (path, &error);
        g_assert_no_error (error);
        g_assert_false (mr_recipient_reader_next (reader, &fields, &row, &error));
        g_assert_error (error, MR_RECIPIENTS_ERROR, MR_RECIPIENTS_ERROR_MALFORMED);
        g_assert_cmpuint (row, ==, 2);
        if (strstr (error->message, says[i]) == NULL || strstr (error->message, "Row 2") == NULL)
          g_error ("Case %u does not say “%s”: %s", i, says[i], error->message);
        g_assert_cmpuint (strlen (error->message), <, 200);
        g_clear_error (&error);
        g_assert_true (mr_recipient_reader_next (reader, &fields, &row, &error));
        g_assert_no_error (error);
        g_assert_cmpuint (row, ==, 3);
        g_assert_cmpstr (fields[0], ==, "bob@example.org");
      }
  }
  {
    /* A header of 100,000 columns is refused whole, and the message does not repeat it. */
    g_autoptr(GError) error = NULL;

    write_repeated (path, "email", ",name", 100000, "\nann@example.org\n");
    g_assert_null (mr_recipient_reader_open (path, &error));
    g_assert_error (error, MR_RECIPIENTS_ERROR, MR_RECIPIENTS_ERROR_MALFORMED);
    g_assert_nonnull (strstr (error->message, "Row 1"));
    g_assert_cmpuint (strlen (error->message), <, 200);
  }
  g_test_message ("peak memory before %ld kB, after %ld kB", before, peak_kilobytes ());
  mr_assert_memory_growth (peak_kilobytes () - before, 8192);
}

/* A JSON object with 100,000 keys is refused for its row at once, and 10,000 keys in each of many
 * objects are read in linear time (checking each key against the columns one by one took 26 s). */
static void
test_json_many_keys (MrTestDirs    *dirs,
                     gconstpointer  data)
{
  g_autofree char *path = g_build_filename (dirs->root, "keys.json", NULL);
  g_autoptr(MrRecipientReader) reader = NULL;
  g_autoptr(GError) error = NULL;
  const char * const *fields;
  guint row = 0, rows = 0;
  gint64 start;
  GString *object = g_string_new ("{\"email\": \"a@example.org\"");
  GString *text = g_string_new ("[");

  for (guint k = 0; k < 10000; k++)
    g_string_append_printf (object, ", \"k%u\": \"v\"", k);
  g_string_append (object, "}");
  for (guint r = 0; r < 20; r++)
    g_string_append_printf (text, "%s%s", r ? ",\n" : "", object->str);
  g_string_append (text, ",\n{");
  for (guint k = 0; k < 100000; k++)
    g_string_append_printf (text, "%s\"x%u\": 1", k ? ", " : "", k);
  g_string_append (text, "},\n");
  g_string_append (text, object->str);
  g_string_append (text, "]");
  g_assert_true (g_file_set_contents (path, text->str, text->len, NULL));
  g_string_free (object, TRUE);
  g_string_free (text, TRUE);

  start = g_get_monotonic_time ();
  reader = mr_recipient_reader_open (path, &error);
  g_assert_no_error (error);
  while (TRUE)
    {
      if (mr_recipient_reader_next (reader, &fields, &row, &error))
        {
          rows++;
          continue;
        }
      if (error == NULL)
        break;
      g_assert_error (error, MR_RECIPIENTS_ERROR, MR_RECIPIENTS_ERROR_MALFORMED);
      g_assert_cmpuint (row, ==, 22);
      if (strstr (error->message, "too long") == NULL)
        g_error ("%s", error->message);
      g_clear_error (&error);
    }
  g_assert_cmpuint (rows, ==, 21);
  g_test_message ("21 objects of 10,001 keys and one of 100,000: %.2f s", (g_get_monotonic_time () - start) / 1e6);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC * MR_TEST_TIME_SCALE);
}

/* A UTF-16 file whose bytes break (a lone surrogate) in the header row, or just after the "[" of a
 * JSON list: an encoding error naming the row, once, never an internal error. */
static void
test_broken_utf16 (MrTestDirs    *dirs,
                   gconstpointer  data)
{
  g_autofree char *path = g_build_filename (dirs->root, "broken.csv", NULL);
  static const struct { const char *text; guint row; } cases[] = {
    { "em\x01" "ail,name\nann@example.org,Ann\n", 1 },
    { "[\x01{\"email\": \"ann@example.org\"}]", 2 },
    { "email,name\nann@example.org,Ann\nbob@exam\x01ple.org,Bob\n", 3 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GByteArray) bytes = g_byte_array_new ();
      g_autoptr(MrRecipientReader) reader = NULL;
      g_autoptr(GError) error = NULL;
      const char * const *fields;
      guint row = 0;

      /* UTF-16LE with its byte-order mark; "\x01" stands for a lone high surrogate. */
      g_byte_array_append (bytes, (const guint8 *) "\xff\xfe", 2);
      for (const char *p = cases[i].text; *p; p++)
        {
          guint8 unit[2] = { (guint8) *p, 0 };

          if (*p == '\x01')
            {
              unit[0] = 0x00;
              unit[1] = 0xd8;
            }
          g_byte_array_append (bytes, unit, 2);
        }
      g_assert_true (g_file_set_contents (path, (const char *) bytes->data, bytes->len, NULL));

      reader = mr_recipient_reader_open (path, &error);
      while (reader != NULL && mr_recipient_reader_next (reader, &fields, &row, &error))
        ;
      if (reader == NULL)
        row = 1 + (cases[i].row == 2);
      g_assert_error (error, MR_RECIPIENTS_ERROR, MR_RECIPIENTS_ERROR_ENCODING);
      if (strstr (error->message, "UTF-16LE") == NULL)
        g_error ("Case %u: %s", i, error->message);
      g_assert_cmpuint (row, ==, cases[i].row);
      g_test_message ("case %u: %s", i, error->message);
      /* After it, the reader is at its end, and says nothing more. */
      g_clear_error (&error);
      if (reader != NULL)
        {
          g_assert_false (mr_recipient_reader_next (reader, &fields, &row, &error));
          g_assert_no_error (error);
        }
    }
}

/* JSON: an array of objects, the first object's keys naming the columns; rows numbered as if a
 * header row came first, so that a list reads the same from CSV and from JSON. */
static void
test_json (MrTestDirs    *dirs,
           gconstpointer  data)
{
  g_autofree char *good = write_bytes (dirs, "good.json",
    "\xef\xbb\xbf  [\n"
    "  {\"email\": \"ann@example.org\", \"name\": \"Ann \\\"A\\\" M\\u00fcller\", \"seat\": 12, \"vip\": true},\n"
    "  {\"name\": \"Bob\\nSmith\", \"email\": \"bob@example.org\", \"seat\": null, \"vip\": false},\n"
    "  {\"email\": \"emoji@example.org\", \"name\": \"\\ud83d\\ude00 \\/ caf\xc3\xa9\"},\n"
    "  {\"email\": \"x@example.org\", \"phone\": \"123\"},\n"
    "  {\"email\": \"y@example.org\", \"name\": {\"first\": \"Y\", \"list\": [1, \"]\"]}},\n"
    "  {\"email\": \"z@example.org\", \"seat\": -1.5e3}\n"
    "]\n", -1);
  g_autofree char *broken = write_bytes (dirs, "broken.json",
    "[{\"email\": \"a@example.org\"},\n {\"email\": \"b@example.org\" \"name\": \"B\"},\n {\"email\": \"c@example.org\"}]", -1);
  g_autofree char *unterminated = write_bytes (dirs, "open.json", "[{\"email\": \"a@example.org\"}", -1);
  g_autofree char *empty = write_bytes (dirs, "empty.json", "[ ]", -1);
  g_autofree char *not_objects = write_bytes (dirs, "numbers.json", "[1, 2]", -1);
  g_autofree char *text = read_all (good, NULL, NULL);
  g_autoptr(GError) error = NULL;
  MrRecipientReader *reader;

  g_assert_cmpstr (text, ==,
                   "email|name|seat|vip\n"
                   "2:ann@example.org|Ann \"A\" Müller|12|true\n"
                   "3:bob@example.org|Bob\nSmith||false\n"
                   "4:emoji@example.org|😀 / café||\n"
                   "!5\n"                                 /* "phone": not a column */
                   "!6\n"                                 /* a nested object */
                   "7:z@example.org||-1.5e3|\n");
  g_free (text);
  /* A broken structure: said with its row, and nothing after it is read. */
  text = read_all (broken, NULL, NULL);
  g_assert_cmpstr (text, ==, "email\n2:a@example.org\n!3\n");
  g_free (text);
  text = read_all (unterminated, NULL, NULL);
  g_assert_cmpstr (text, ==, "email\n2:a@example.org\n!3\n");

  reader = mr_recipient_reader_open (empty, &error);
  g_assert_null (reader);
  g_assert_error (error, MR_RECIPIENTS_ERROR, MR_RECIPIENTS_ERROR_NO_HEADER);
  g_clear_error (&error);
  reader = mr_recipient_reader_open (not_objects, &error);
  g_assert_null (reader);
  g_assert_error (error, MR_RECIPIENTS_ERROR, MR_RECIPIENTS_ERROR_MALFORMED);
  g_assert_nonnull (strstr (error->message, "must be an object"));
}

/* JSON is read as a stream too. */
static void
test_json_streaming (MrTestDirs    *dirs,
                     gconstpointer  data)
{
  g_autofree char *path = g_build_filename (dirs->root, "big.json", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFileOutputStream) out = g_file_replace (file, NULL, FALSE, G_FILE_CREATE_NONE, NULL, NULL);
  g_autoptr(MrRecipientReader) reader = NULL;
  g_autoptr(GError) error = NULL;
  const char * const *fields;
  guint rows = 0, row = 0;
  glong before;

  g_assert_true (g_output_stream_write_all (G_OUTPUT_STREAM (out), "[", 1, NULL, NULL, NULL));
  for (guint i = 0; i < 300000; i++)
    {
      char line[160];
      int length = g_snprintf (line, sizeof line, "%s{\"email\": \"person%u@example.org\", \"name\": \"Person, %u\", "
                               "\"city\": \"Z\\u00fcrich\"}\n", i ? "," : "", i, i);

      g_assert_true (g_output_stream_write_all (G_OUTPUT_STREAM (out), line, length, NULL, NULL, NULL));
    }
  g_assert_true (g_output_stream_write_all (G_OUTPUT_STREAM (out), "]", 1, NULL, NULL, NULL));
  g_assert_true (g_output_stream_close (G_OUTPUT_STREAM (out), NULL, NULL));

  before = peak_kilobytes ();
  reader = mr_recipient_reader_open (path, &error);
  g_assert_no_error (error);
  while (mr_recipient_reader_next (reader, &fields, &row, &error))
    {
      if (rows == 299999)
        g_assert_cmpstr (fields[2], ==, "Zürich");
      rows++;
    }
  g_assert_no_error (error);
  g_assert_cmpuint (rows, ==, 300000);
  g_assert_cmpuint (row, ==, 300001);
  g_test_message ("peak memory before %ld kB, after %ld kB", before, peak_kilobytes ());
  mr_assert_memory_growth (peak_kilobytes () - before, 2048);
}

int
main (int    argc,
      char **argv)
{
  mr_test_init (&argc, &argv);

#define ADD(path, func) g_test_add (path, MrTestDirs, NULL, mr_test_dirs_setup, func, mr_test_dirs_teardown)
  ADD ("/recipients/rfc4180", test_rfc4180);
  ADD ("/recipients/separators", test_separators);
  ADD ("/recipients/encodings", test_encodings);
  ADD ("/recipients/undecodable-rows", test_undecodable_rows);
  ADD ("/recipients/malformed", test_malformed);
  ADD ("/recipients/streaming", test_streaming);
  ADD ("/recipients/json", test_json);
  ADD ("/recipients/json-streaming", test_json_streaming);
  ADD ("/recipients/limits", test_limits);
  ADD ("/recipients/json-many-keys", test_json_many_keys);
  ADD ("/recipients/broken-utf16", test_broken_utf16);
#undef ADD

  return g_test_run ();
}
