/* test-spreadsheets.c: recipients straight from .xlsx and .ods files written by real tools
 *
 * tests/make-spreadsheets.py writes the files with python3-openpyxl, python3-odf and Gnumeric's
 * ssconvert, each beside a CSV of the same rows as a person sees them; every file must read as its
 * CSV does. The refused files (password-protected, Excel 97–2003, damaged) are written here with
 * libgsf, as no tool on this machine writes them.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <gsf/gsf.h>
#include <json-glib/json-glib.h>
#include <locale.h>
#include <string.h>
#include <sys/resource.h>

#include "mr-cell-format.h"
#include "mr-recipients.h"
#include "mr-spreadsheet.h"
#include "mr-test-utils.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GsfOutfile, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GsfOutput, g_object_unref)

static char *files;   /* the folder make-spreadsheets.py wrote */

static char *
file (const char *name)
{
  return g_build_filename (files, name, NULL);
}

/* The rows of @path (@sheet of it) as "a|b|c" lines, the header first; "!" for a row refused. */
static char *
read_lines (const char  *path,
            const char  *sheet,
            guint       *hidden)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MrRecipientReader) reader = mr_recipient_reader_open_sheet (path, sheet, &error);
  GString *out = g_string_new (NULL);
  const char * const *fields;
  guint row;

  g_assert_no_error (error);
  {
    g_autofree char *header = g_strjoinv ("|", (char **) mr_recipient_reader_get_columns (reader));

    g_string_append_printf (out, "%s\n", header);
  }
  for (;;)
    {
      if (mr_recipient_reader_next (reader, &fields, &row, &error))
        {
          g_autofree char *line = g_strjoinv ("|", (char **) fields);

          g_string_append_printf (out, "%s\n", line);
        }
      else if (error != NULL)
        {
          g_test_message ("row %u: %s", row, error->message);
          g_string_append (out, "!\n");
          g_clear_error (&error);
        }
      else
        break;
    }
  if (hidden != NULL)
    *hidden = mr_recipient_reader_get_hidden_rows (reader);
  return g_string_free (out, FALSE);
}

static void
assert_same_as_csv (const char *spreadsheet,
                    const char *sheet,
                    const char *csv,
                    guint       expected_hidden)
{
  g_autofree char *path = file (spreadsheet);
  g_autofree char *csv_path = file (csv);
  g_autofree char *expected = read_lines (csv_path, NULL, NULL);
  guint hidden = 0;
  g_autofree char *got = read_lines (path, sheet, &hidden);

  g_test_message ("%s: %u bytes of rows", spreadsheet, (guint) strlen (got));
  g_assert_cmpstr (got, ==, expected);
  g_assert_cmpuint (hidden, ==, expected_hidden);
}

/* openpyxl's workbook: formats, dates, booleans, empty cells, a merged header, a hidden row. */
static void
test_xlsx (void)
{
  g_autofree char *path = file ("people.xlsx");
  g_autoptr(GError) error = NULL;
  g_autoptr(MrRecipientReader) reader = NULL;
  const char * const *fields;
  guint row = 0;

  assert_same_as_csv ("people.xlsx", NULL, "people.csv", 1);
  /* The rows keep the sheet's numbers: the fourth is hidden. */
  reader = mr_recipient_reader_open (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (mr_recipient_reader_get_sheet (reader), ==, "Customers");
  g_assert_cmpint (mr_recipient_reader_get_separator (reader), ==, 0);
  for (guint i = 0; i < 3; i++)
    g_assert_true (mr_recipient_reader_next (reader, &fields, &row, &error));
  g_assert_cmpstr (fields[0], ==, "王小明");
  g_assert_cmpuint (row, ==, 5);
}

/* odfpy's document: the same rows, with covered cells, a comment, and the empty rows and cells a
 * spreadsheet program repeats to the end of the sheet. */
static void
test_ods (void)
{
  assert_same_as_csv ("people.ods", NULL, "people.csv", 1);
}

static void
test_sheets (void)
{
  const char *names[] = { "people.xlsx", "people.ods" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = file (names[i]);
      g_autoptr(GError) error = NULL;
      g_auto(GStrv) sheets = mr_spreadsheet_list_sheets (path, &error);
      g_autoptr(MrRecipientReader) reader = NULL;

      g_assert_no_error (error);
      g_assert_cmpuint (g_strv_length (sheets), ==, 2);
      g_assert_cmpstr (sheets[0], ==, "Customers");
      g_assert_cmpstr (sheets[1], ==, "Other");
      assert_same_as_csv (names[i], "Other", "other.csv", 0);
      reader = mr_recipient_reader_open_sheet (path, "Missing", &error);
      g_assert_null (reader);
      g_assert_error (error, MR_RECIPIENTS_ERROR, MR_RECIPIENTS_ERROR_NO_SHEET);
      g_assert_nonnull (strstr (error->message, "Missing"));
    }
  {
    g_autofree char *csv = file ("other.csv");
    g_autoptr(GError) error = NULL;

    g_assert_null (mr_recipient_reader_open_sheet (csv, "Other", &error));
    g_assert_error (error, MR_RECIPIENTS_ERROR, MR_RECIPIENTS_ERROR_NO_SHEET);
  }
}

/* Gnumeric's files: shared strings, formulas with their results, its own number formats; its CSV
 * export is what they must read as. A script's file holds formulas without results: empty. */
static void
test_gnumeric (void)
{
  g_autofree char *openpyxl = file ("formulas.xlsx");
  g_autofree char *lines = NULL;

  assert_same_as_csv ("gnumeric.xlsx", NULL, "gnumeric.csv", 0);
  assert_same_as_csv ("gnumeric.ods", NULL, "gnumeric.csv", 0);
  lines = read_lines (openpyxl, NULL, NULL);
  g_assert_nonnull (strstr (lines, "Customer 1|c1@example.com|10.99|1||12/01/2026|Paris\n"));
}

static glong
peak_kilobytes (void)
{
  struct rusage usage;

  g_assert_cmpint (getrusage (RUSAGE_SELF, &usage), ==, 0);
  return usage.ru_maxrss;
}

/* 100,000 rows (10,000 under the sanitizers) from openpyxl, from Gnumeric, and with every text
 * shared (more than the reader keeps in memory), read in constant memory. */
static void
test_big (void)
{
  glong before = peak_kilobytes ();

  assert_same_as_csv ("big.xlsx", NULL, "big.csv", 0);
  assert_same_as_csv ("big.ods", NULL, "big.csv", 0);
  assert_same_as_csv ("shared.xlsx", NULL, "big.csv", 0);
  g_test_message ("peak memory before %ld kB, after %ld kB", before, peak_kilobytes ());
}

/* ---- Refused files ------------------------------------------------------------------------------ */

static void
write_ole2 (const char *path,
            const char *stream)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GsfOutput) output = gsf_output_stdio_new (path, &error);
  g_autoptr(GsfOutfile) ole = NULL;
  g_autoptr(GsfOutput) child = NULL;
  static const char bytes[] = "\x04\x00\x04\x00\x40\x00\x00\x00<?xml version=\"1.0\"?><encryption/>";

  g_assert_no_error (error);
  ole = gsf_outfile_msole_new (output);
  child = gsf_outfile_new_child (ole, stream, FALSE);
  g_assert_true (gsf_output_write (child, sizeof bytes - 1, (const guint8 *) bytes));
  g_assert_true (gsf_output_close (child));
  g_assert_true (gsf_output_close (GSF_OUTPUT (ole)));
}

/* A zip with @parts (name, content, …, NULL). */
static void
write_zip (const char *path,
           ...)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GsfOutput) output = gsf_output_stdio_new (path, &error);
  g_autoptr(GsfOutfile) zip = NULL;
  va_list args;
  const char *name;

  g_assert_no_error (error);
  zip = gsf_outfile_zip_new (output, &error);
  g_assert_no_error (error);
  va_start (args, path);
  while ((name = va_arg (args, const char *)) != NULL)
    {
      const char *content = va_arg (args, const char *);
      g_auto(GStrv) parts = g_strsplit (name, "/", -1);
      g_autoptr(GPtrArray) opened = g_ptr_array_new_with_free_func (g_object_unref);
      GsfOutfile *parent = zip;

      for (guint i = 0; parts[i + 1] != NULL; i++)
        {
          GsfOutput *folder = gsf_outfile_new_child (parent, parts[i], TRUE);

          g_ptr_array_add (opened, folder);
          parent = GSF_OUTFILE (folder);
        }
      {
        g_autoptr(GsfOutput) part = gsf_outfile_new_child (parent, parts[g_strv_length (parts) - 1], FALSE);

        g_assert_true (gsf_output_write (part, strlen (content), (const guint8 *) content));
        g_assert_true (gsf_output_close (part));
      }
      for (guint i = opened->len; i-- > 0;)
        gsf_output_close (g_ptr_array_index (opened, i));
    }
  va_end (args);
  g_assert_true (gsf_output_close (GSF_OUTPUT (zip)));
}

static void
assert_refused (const char        *path,
                int                code,
                const char        *words)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MrRecipientReader) reader = mr_recipient_reader_open (path, &error);

  g_assert_null (reader);
  g_assert_error (error, MR_RECIPIENTS_ERROR, code);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, words));
}

static void
test_refused (MrTestDirs    *dirs,
              gconstpointer  data)
{
  g_autofree char *protected = g_build_filename (dirs->root, "protected.xlsx", NULL);
  g_autofree char *old = g_build_filename (dirs->root, "old.xls", NULL);
  g_autofree char *odf_protected = g_build_filename (dirs->root, "protected.ods", NULL);
  g_autofree char *not_sheet = g_build_filename (dirs->root, "letter.docx", NULL);
  g_autofree char *bad_xml = g_build_filename (dirs->root, "bad.ods", NULL);
  g_autofree char *cut = g_build_filename (dirs->root, "cut.xlsx", NULL);
  g_autofree char *people = file ("big.xlsx");
  g_autofree char *bytes = NULL;
  gsize length;

  write_ole2 (protected, "EncryptionInfo");
  assert_refused (protected, MR_RECIPIENTS_ERROR_PROTECTED, "password");
  write_ole2 (old, "Workbook");
  assert_refused (old, MR_RECIPIENTS_ERROR_UNSUPPORTED, "97–2003");
  write_zip (odf_protected, "mimetype", "application/vnd.oasis.opendocument.spreadsheet",
             "META-INF/manifest.xml", "<manifest><file-entry><encryption-data/></file-entry></manifest>",
             "content.xml", "\x8f\x11 not text", NULL);
  assert_refused (odf_protected, MR_RECIPIENTS_ERROR_PROTECTED, "password");
  write_zip (not_sheet, "word/document.xml", "<document/>", NULL);
  assert_refused (not_sheet, MR_RECIPIENTS_ERROR_DAMAGED, "not a spreadsheet");
  write_zip (bad_xml, "mimetype", "application/vnd.oasis.opendocument.spreadsheet",
             "content.xml", "<document><spreadsheet><table name=\"S\"><table-row>", NULL);
  assert_refused (bad_xml, MR_RECIPIENTS_ERROR_DAMAGED, "damaged");

  /* Cut short: the header reads, and the reading stops at the damage with an error, once. */
  g_assert_true (g_file_get_contents (people, &bytes, &length, NULL));
  g_assert_true (g_file_set_contents (cut, bytes, length / 4, NULL));
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(MrRecipientReader) reader = mr_recipient_reader_open (cut, &error);

    if (reader == NULL)
      g_assert_error (error, MR_RECIPIENTS_ERROR, MR_RECIPIENTS_ERROR_DAMAGED);
    else
      {
        const char * const *fields;
        guint row = 0, rows = 0;

        while (mr_recipient_reader_next (reader, &fields, &row, &error))
          rows++;
        g_assert_error (error, MR_RECIPIENTS_ERROR, MR_RECIPIENTS_ERROR_DAMAGED);
        g_clear_error (&error);
        g_assert_false (mr_recipient_reader_next (reader, &fields, &row, &error));
        g_assert_no_error (error);
      }
  }
}

/* ---- Number formats ----------------------------------------------------------------------------- */

static void
test_cell_formats (void)
{
  static const struct { double value; const char *code; const char *shown; } cases[] = {
    { 42, NULL, "42" }, { 3.25, "General", "3.25" }, { -0.5, NULL, "-0.5" }, { 1e20, NULL, "1E+20" },
    { 0.1 + 0.2, NULL, "0.3" }, { 4930123456, NULL, "4930123456" },
    { 1234.5, "#,##0.00", "1,234.50" }, { 1234.5, "0", "1235" }, { 0.5, "#.##", ".5" },
    { 7, "0.00", "7.00" }, { 1234.5, "#,##0.00 [$€-407]", "1,234.50 €" },
    { 1234.5, "[$$-409]#,##0.00", "$1,234.50" }, { -7.25, "\"$\"#,##0.00;(\"$\"#,##0.00)", "($7.25)" },
    { -7.25, "#,##0.00", "-7.25" }, { 0, "0.00;-0.00;\"nil\"", "nil" }, { 0.125, "0.0%", "12.5%" },
    { 1, "0%", "100%" }, { 12345.678, "0.00E+00", "1.23E+04" }, { 0.000123, "0.0E+00", "1.2E-04" },
    { 1234567, "#,##0,", "1,235" }, { 5, "[Red]0.0;[Blue]-0.0", "5.0" }, { 3, "0 \"pcs\"", "3 pcs" },
    { 3, "_(* #,##0_);_(* (#,##0);_(* \"-\"_);_(@_)", " 3 " }, { 0, "_(* #,##0_);_(* (#,##0);_(* \"-\"_);_(@_)", " - " },
    { 46362, "dd.mm.yyyy", "06.12.2026" }, { 46362, "yyyy-mm-dd", "2026-12-06" }, { 46362, "d/m/yy", "6/12/26" },
    { 46362.6041666667, "yyyy-mm-dd hh:mm", "2026-12-06 14:30" }, { 46362.6041666667, "h:mm AM/PM", "2:30 PM" },
    { 46362.6041666667, "hh:mm:ss", "14:30:00" }, { 1.5, "[h]:mm", "36:00" }, { 0.0625, "mm:ss", "30:00" },
    { 46362, "d mmm yyyy", "6 Dec 2026" }, { 46362, "dddd d mmmm", "Sunday 6 December" },
    { 45000, "m/d/yyyy", "3/15/2023" }, { 1, "yyyy-mm-dd", "1900-01-01" }, { 61, "yyyy-mm-dd", "1900-03-01" },
    { 0, "yyyy-mm-dd", "1899-12-31" }, { 44900, "yyyy-mm-dd", "2022-12-05" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *shown = mr_cell_format_number (cases[i].value, cases[i].code, FALSE);

      g_test_message ("%.10g with “%s”: “%s”", cases[i].value, cases[i].code, shown);
      g_assert_cmpstr (shown, ==, cases[i].shown);
    }
  /* 1904-based workbooks (old Excel for the Mac). */
  mr_assert_cmpstr_free (mr_cell_format_number (0, "yyyy-mm-dd", TRUE), ==, "1904-01-01");
  mr_assert_cmpstr_free (mr_cell_format_number (44900, "yyyy-mm-dd", TRUE), ==, "2026-12-06");
  /* Out of range: General, never a crash. */
  mr_assert_cmpstr_free (mr_cell_format_number (-3, "yyyy-mm-dd", FALSE), ==, "-3");
  mr_assert_cmpstr_free (mr_cell_format_number (1e12, "yyyy-mm-dd", FALSE), ==, "1000000000000");
  g_assert_true (mr_cell_format_is_date ("dd.mm.yyyy"));
  g_assert_true (mr_cell_format_is_date ("[$-409]h:mm AM/PM"));
  g_assert_false (mr_cell_format_is_date ("#,##0.00 [$€-407]"));
  g_assert_false (mr_cell_format_is_date ("0.00E+00"));
  g_assert_cmpstr (mr_cell_format_builtin (14), ==, "yyyy-mm-dd");
  g_assert_null (mr_cell_format_builtin (200));
}

/* mailroom-cli reads the same files: the first sheet shown, or --sheet; the sheets listed when the
 * one named is not there; a row's values rendered as the spreadsheet shows them. */
static void
test_cli (MrTestDirs    *dirs,
          gconstpointer  data)
{
  g_autofree char *template_path = g_build_filename (dirs->root, "invite.json", NULL);
  g_autofree char *people = file ("people.xlsx");
  g_autofree char *people_ods = file ("people.ods");
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(JsonNode) report = NULL;

  mr_test_write_file (template_path,
                      "{\"schema_version\": 1, \"name\": \"Invite\", \"subject\": \"For {{Name}}\","
                      " \"text\": \"Dear {{Name}}, you owe {{Amount}} since {{Since}}; {{Address}}, {{Address_2}}.\"}");
  g_assert_cmpint (mr_test_run_cli (&out, &err, "mailshot", "check", "--template", template_path, "--recipients", people,
                                    NULL), ==, 0);
  g_assert_nonnull (strstr (out, "Sheet “Customers”"));
  g_assert_nonnull (strstr (out, "1 row the spreadsheet hides was left out"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (mr_test_run_cli (&out, &err, "mailshot", "check", "--template", template_path, "--recipients",
                                    people_ods, "--json", NULL), ==, 0);
  report = json_from_string (out, NULL);
  g_assert_nonnull (report);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (report), "sheet"), ==, "Customers");
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (report), "hidden_rows"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (report), "rows"), ==, 4);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (mr_test_run_cli (&out, &err, "mailshot", "check", "--template", template_path, "--recipients", people,
                                    "--sheet", "Other", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "Sheet “Other”"));
  g_assert_nonnull (strstr (out, "2 rows: 2 to send"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (mr_test_run_cli (&out, &err, "mailshot", "check", "--template", template_path, "--recipients", people,
                                    "--sheet", "Orders", NULL), ==, 65);
  g_assert_nonnull (strstr (err, "has no sheet called “Orders”; its sheets are “Customers”, “Other”"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* The mail of row 2 (quoted-printable: its soft line breaks joined). */
  g_assert_cmpint (mr_test_run_cli (&out, &err, "company", "set", "sender.from_address", "office@example.com", NULL), ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (mr_test_run_cli (&out, &err, "company", "set", "smtp.host", "smtp.example.com", NULL), ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (mr_test_run_cli (&out, &err, "company", "set", "smtp.auth", "none", NULL), ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (mr_test_run_cli (&out, &err, "mailshot", "preview", "--template", template_path, "--recipients",
                                    people, "--row", "2", NULL), ==, 0);
  {
    g_autoptr(GString) joined = g_string_new (out);

    g_string_replace (joined, "=\r\n", "", 0);
    g_string_replace (joined, "=\n", "", 0);
    g_assert_nonnull (strstr (joined->str, "Dear Anna M=C3=BCller, you owe 1,234.50 =E2=82=AC since 06.12.2026; "
                                           "Hauptstra=C3=9Fe 1, Berlin."));
  }
}

static void
make_files (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *script = g_build_filename (g_getenv ("MAILROOM_TOP_SRCDIR"), "tests", "make-spreadsheets.py", NULL);
  /* Under the sanitizers a tenth of the rows: the same code, in the time CI gives. */
#if defined(__SANITIZE_ADDRESS__)
  const char *rows = "10000";
#else
  const char *rows = "100000";
#endif
  const char *argv[] = { "/usr/bin/python3", script, NULL, rows, NULL };
  int status = 0;

  files = g_dir_make_tmp ("mailroom-sheets-XXXXXX", &error);
  g_assert_no_error (error);
  argv[2] = files;
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL, &status, &error));
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
}

int
main (int    argc,
      char **argv)
{
  int result;

  mr_test_init (&argc, &argv);
  setlocale (LC_ALL, "C.UTF-8");
  /* The shared strings of shared.xlsx (several MB at 100,000 rows) go to a file past 64 KB here,
   * so that the sanitizers' smaller file takes that way too. */
  g_setenv ("MAILROOM_STRINGS_IN_MEMORY", "65536", TRUE);
  make_files ();

  g_test_add_func ("/spreadsheets/cell-formats", test_cell_formats);
  g_test_add_func ("/spreadsheets/xlsx", test_xlsx);
  g_test_add_func ("/spreadsheets/ods", test_ods);
  g_test_add_func ("/spreadsheets/sheets", test_sheets);
  g_test_add_func ("/spreadsheets/gnumeric", test_gnumeric);
  g_test_add_func ("/spreadsheets/big", test_big);
  g_test_add ("/spreadsheets/cli", MrTestDirs, NULL, mr_test_dirs_setup, test_cli, mr_test_dirs_teardown);
  g_test_add ("/spreadsheets/refused", MrTestDirs, NULL, mr_test_dirs_setup, test_refused, mr_test_dirs_teardown);

  result = g_test_run ();
  mr_test_remove_tree (files);
  g_free (files);
  return result;
}
