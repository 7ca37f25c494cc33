/* mr-spreadsheet.c: the rows of one sheet of an .xlsx or .ods file (see mr-spreadsheet.h)
 *
 * Over 1,000 lines, and kept whole: Office Open XML and OpenDocument share the zip container, the
 * streaming XML reader, the row and cell stream, merged header cells and hidden rows. The shared
 * strings are in mr-string-store.c, the number and date formats in mr-cell-format.c.
 */

#include "config.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <gsf/gsf.h>
#include <libxml/xmlreader.h>
#include <string.h>
#include <unistd.h>

#include "mr-cell-format.h"
#include "mr-recipients.h"
#include "mr-spreadsheet.h"
#include "mr-string-store.h"

/* libgsf 1.14.50 (Debian 12) declares no cleanup functions. */
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GsfInput, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GsfInfile, g_object_unref)

#define ODS_MIMETYPE "application/vnd.oasis.opendocument.spreadsheet"
#define MAX_MERGES   100000

/* ---- XML from the container -------------------------------------------------------------------- */

typedef struct {
  GsfInput *input;
  char     *error;      /* libxml2's first complaint, for the message */
} XmlSource;

static int
read_input (void *context,
            char *buffer,
            int   length)
{
  GsfInput *input = context;
  gsf_off_t remaining = gsf_input_remaining (input);
  int n = (int) MIN ((gsf_off_t) length, remaining);

  if (n <= 0)
    return 0;
  if (gsf_input_read (input, n, (guint8 *) buffer) == NULL)
    return -1;
  return n;
}

static void
keep_first_error (void                   *data,
                  const char             *message,
                  xmlParserSeverities     severity,
                  xmlTextReaderLocatorPtr locator)
{
  XmlSource *source = data;

  if (source->error == NULL && (severity == XML_PARSER_SEVERITY_ERROR || severity == XML_PARSER_SEVERITY_VALIDITY_ERROR))
    source->error = g_strchomp (g_strdup (message));
}

static xmlTextReaderPtr
xml_reader_for (XmlSource *source)
{
  xmlTextReaderPtr reader = xmlReaderForIO (read_input, NULL, source->input, NULL, NULL,
                                            XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);

  if (reader != NULL)
    xmlTextReaderSetErrorHandler (reader, keep_first_error, source);
  return reader;
}

static gboolean
is_element (xmlTextReaderPtr reader,
            const char      *local_name)
{
  const xmlChar *name = xmlTextReaderConstLocalName (reader);

  return name != NULL && strcmp ((const char *) name, local_name) == 0;
}

static char *
attribute (xmlTextReaderPtr reader,
           const char      *local_name)
{
  char *value = NULL;

  if (xmlTextReaderMoveToFirstAttribute (reader) != 1)
    return NULL;
  do
    {
      const xmlChar *name = xmlTextReaderConstLocalName (reader);

      if (name != NULL && strcmp ((const char *) name, local_name) == 0)
        {
          value = g_strdup ((const char *) xmlTextReaderConstValue (reader));
          break;
        }
    }
  while (xmlTextReaderMoveToNextAttribute (reader) == 1);
  xmlTextReaderMoveToElement (reader);
  return value;
}

static gboolean
is_text_node (int type)
{
  return type == XML_READER_TYPE_TEXT || type == XML_READER_TYPE_CDATA ||
         type == XML_READER_TYPE_WHITESPACE || type == XML_READER_TYPE_SIGNIFICANT_WHITESPACE;
}

static void
append_text (GString          *out,
             xmlTextReaderPtr  reader)
{
  const char *text = (const char *) xmlTextReaderConstValue (reader);
  gsize length = text ? strlen (text) : 0;

  if (out->len + length > MR_SPREADSHEET_MAX_CELL)
    length = out->len < MR_SPREADSHEET_MAX_CELL ? MR_SPREADSHEET_MAX_CELL - out->len : 0;
  g_string_append_len (out, text, length);
}

/* ---- The container ----------------------------------------------------------------------------- */

typedef enum { KIND_XLSX, KIND_ODS } Kind;

typedef struct {
  guint row, first_column, last_column;
} Merge;

struct _MrSpreadsheet
{
  Kind              kind;
  GsfInfile        *zip;
  char             *sheet_name;
  GsfInput         *sheet_input;
  XmlSource         source;
  xmlTextReaderPtr  reader;
  gboolean          done;

  GPtrArray        *cells;        /* char*: the row being read or just returned */
  GArray           *spans;        /* guint per cell of the row just returned: its merge's width */
  guint             row;          /* of the row just returned */
  guint             hidden_rows;

  /* Office Open XML */
  MrStringStore       strings;
  GArray           *formats;      /* char* per cell style: the number format code */
  gboolean          date1904;
  GArray           *merges;       /* Merge: each merge's first row */

  /* OpenDocument: a row repeated, still to return */
  guint             repeats_left;
};

gboolean
mr_spreadsheet_sniff (const guint8 *start,
                      gsize         length)
{
  return (length >= 4 && memcmp (start, "PK\003\004", 4) == 0) ||
         (length >= 8 && memcmp (start, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8) == 0);
}

static GsfInput *
child (GsfInfile  *zip,
       const char *path)
{
  g_auto(GStrv) names = NULL;
  g_autoptr(GPtrArray) parts = g_ptr_array_new ();

  while (*path == '/')
    path++;
  names = g_strsplit (path, "/", -1);
  for (guint i = 0; names[i] != NULL; i++)
    if (*names[i] != '\0')
      g_ptr_array_add (parts, names[i]);
  g_ptr_array_add (parts, NULL);
  return gsf_infile_child_by_aname (zip, (const char **) parts->pdata);
}

static gboolean
set_damaged (GError    **error,
             const char *path,
             const char *detail)
{
  g_autofree char *name = g_filename_display_basename (path);

  if (detail != NULL)
    g_set_error (error, MR_RECIPIENTS_ERROR, MR_RECIPIENTS_ERROR_DAMAGED,
                 _("“%s” is damaged and cannot be read as a spreadsheet (%s)"), name, detail);
  else
    g_set_error (error, MR_RECIPIENTS_ERROR, MR_RECIPIENTS_ERROR_DAMAGED,
                 _("“%s” is damaged and cannot be read as a spreadsheet"), name);
  return FALSE;
}

static gboolean
set_protected (GError    **error,
               const char *path)
{
  g_autofree char *name = g_filename_display_basename (path);

  g_set_error (error, MR_RECIPIENTS_ERROR, MR_RECIPIENTS_ERROR_PROTECTED,
               _("“%s” is protected with a password. Open it in your spreadsheet program, save a copy "
                 "without the password, and choose that copy"), name);
  return FALSE;
}

/* The OLE2 container: a password-protected Office file, or an Excel 97–2003 one. */
static gboolean
refuse_ole2 (GsfInput    *input,
             const char  *path,
             GError     **error)
{
  g_autoptr(GsfInfile) ole = gsf_infile_msole_new (input, NULL);
  g_autofree char *name = g_filename_display_basename (path);
  g_autoptr(GsfInput) encrypted = NULL;
  g_autoptr(GsfInput) workbook = NULL;

  if (ole == NULL)
    return set_damaged (error, path, NULL);
  encrypted = gsf_infile_child_by_name (ole, "EncryptionInfo");
  if (encrypted != NULL)
    return set_protected (error, path);
  workbook = gsf_infile_child_by_name (ole, "Workbook");
  if (workbook == NULL)
    workbook = gsf_infile_child_by_name (ole, "Book");
  if (workbook != NULL)
    {
      g_set_error (error, MR_RECIPIENTS_ERROR, MR_RECIPIENTS_ERROR_UNSUPPORTED,
                   _("“%s” is an old Excel 97–2003 file. Save it as an Excel workbook (.xlsx), an "
                     "OpenDocument spreadsheet (.ods) or CSV, and choose that"), name);
      return FALSE;
    }
  return set_damaged (error, path, _("it is an Office file, but not a spreadsheet"));
}

/* The file's container, and which kind of spreadsheet is in it. */
static GsfInfile *
open_container (const char  *path,
                Kind        *kind,
                GError     **error)
{
  g_autoptr(GsfInput) input = gsf_input_stdio_new (path, error);
  g_autoptr(GsfInfile) zip = NULL;
  g_autoptr(GsfInput) mimetype = NULL;
  g_autoptr(GsfInput) workbook_types = NULL;
  guint8 magic[8] = { 0 };
  gsf_off_t size;

  if (input == NULL)
    return NULL;
  size = gsf_input_size (input);
  if (size < 8 || gsf_input_read (input, 8, magic) == NULL)
    {
      set_damaged (error, path, NULL);
      return NULL;
    }
  gsf_input_seek (input, 0, G_SEEK_SET);
  if (memcmp (magic, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8) == 0)
    {
      refuse_ole2 (input, path, error);
      return NULL;
    }
  zip = gsf_infile_zip_new (input, NULL);
  if (zip == NULL)
    {
      set_damaged (error, path, _("the zip container is broken"));
      return NULL;
    }
  mimetype = gsf_infile_child_by_name (zip, "mimetype");
  if (mimetype != NULL)
    {
      gsf_off_t length = gsf_input_size (mimetype);
      const guint8 *bytes = length > 0 && length < 200 ? gsf_input_read (mimetype, length, NULL) : NULL;

      if (bytes != NULL && (gsize) length == strlen (ODS_MIMETYPE) && memcmp (bytes, ODS_MIMETYPE, length) == 0)
        {
          *kind = KIND_ODS;
          return g_steal_pointer (&zip);
        }
    }
  workbook_types = gsf_infile_child_by_name (zip, "[Content_Types].xml");
  if (workbook_types != NULL)
    {
      *kind = KIND_XLSX;
      return g_steal_pointer (&zip);
    }
  {
    g_autofree char *name = g_filename_display_basename (path);

    g_set_error (error, MR_RECIPIENTS_ERROR, MR_RECIPIENTS_ERROR_DAMAGED,
                 _("“%s” is a zip file, but not a spreadsheet: choose an .xlsx, .ods or .csv file"), name);
  }
  return NULL;
}

/* Reads a small part of the package whole (the manifest, relations, the workbook), bounded. */
static xmlTextReaderPtr
open_part (GsfInfile   *zip,
           const char  *part,
           XmlSource   *source)
{
  source->input = child (zip, part);
  if (source->input == NULL)
    return NULL;
  return xml_reader_for (source);
}

static void
close_part (xmlTextReaderPtr  reader,
            XmlSource        *source)
{
  if (reader != NULL)
    xmlFreeTextReader (reader);
  g_clear_object (&source->input);
  g_clear_pointer (&source->error, g_free);
}

/* ---- Office Open XML: the workbook ----------------------------------------------------------------- */

typedef struct {
  char *name;
  char *part;        /* the sheet's part in the package */
  gboolean hidden;
} SheetEntry;

static void
sheet_entry_clear (gpointer data)
{
  SheetEntry *entry = data;

  g_free (entry->name);
  g_free (entry->part);
}

/* @target, relative to the folder of @base (a part), or absolute in the package. */
static char *
resolve_target (const char *base,
                const char *target)
{
  g_autofree char *folder = NULL;
  g_auto(GStrv) pieces = NULL;
  g_autoptr(GPtrArray) path = g_ptr_array_new ();
  g_autofree char *joined = NULL;

  if (target[0] == '/')
    return g_strdup (target + 1);
  folder = g_path_get_dirname (base);
  joined = g_str_equal (folder, ".") ? g_strdup (target) : g_strconcat (folder, "/", target, NULL);
  pieces = g_strsplit (joined, "/", -1);
  for (guint i = 0; pieces[i] != NULL; i++)
    {
      if (g_str_equal (pieces[i], "..") && path->len > 0)
        g_ptr_array_remove_index (path, path->len - 1);
      else if (*pieces[i] != '\0' && !g_str_equal (pieces[i], ".") && !g_str_equal (pieces[i], ".."))
        g_ptr_array_add (path, pieces[i]);
    }
  g_ptr_array_add (path, NULL);
  return g_strjoinv ("/", (char **) path->pdata);
}

/* The relationships of @part: Id → target part, and the first target of each type's last word. */
static GHashTable *
read_relationships (GsfInfile  *zip,
                    const char *part,
                    GHashTable *by_type)
{
  g_autofree char *folder = g_path_get_dirname (part);
  g_autofree char *base = g_path_get_basename (part);
  g_autofree char *rels = *part == '\0' ? g_strdup ("_rels/.rels")
                         : g_str_equal (folder, ".") ? g_strconcat ("_rels/", base, ".rels", NULL)
                         : g_strconcat (folder, "/_rels/", base, ".rels", NULL);
  GHashTable *by_id = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  XmlSource source = { 0 };
  xmlTextReaderPtr reader = open_part (zip, rels, &source);

  while (reader != NULL && xmlTextReaderRead (reader) == 1)
    {
      g_autofree char *id = NULL;
      g_autofree char *target = NULL;
      g_autofree char *type = NULL;
      g_autofree char *mode = NULL;

      if (xmlTextReaderNodeType (reader) != XML_READER_TYPE_ELEMENT || !is_element (reader, "Relationship"))
        continue;
      id = attribute (reader, "Id");
      target = attribute (reader, "Target");
      type = attribute (reader, "Type");
      mode = attribute (reader, "TargetMode");
      if (id == NULL || target == NULL || g_strcmp0 (mode, "External") == 0)
        continue;
      if (by_type != NULL && type != NULL && strrchr (type, '/') != NULL &&
          !g_hash_table_contains (by_type, strrchr (type, '/') + 1))
        g_hash_table_insert (by_type, g_strdup (strrchr (type, '/') + 1), resolve_target (part, target));
      g_hash_table_insert (by_id, g_steal_pointer (&id), resolve_target (part, target));
    }
  close_part (reader, &source);
  return by_id;
}

/* The workbook's part, its sheets in order, and where its shared strings and styles are. */
static gboolean
read_workbook (GsfInfile   *zip,
               const char  *path,
               GArray     **sheets_out,
               GHashTable **parts_out,
               gboolean    *date1904,
               GError     **error)
{
  g_autoptr(GHashTable) package = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GHashTable) package_ids = read_relationships (zip, "", package);
  g_autoptr(GHashTable) parts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GHashTable) by_id = NULL;
  g_autoptr(GArray) sheets = g_array_new (FALSE, TRUE, sizeof (SheetEntry));
  const char *workbook = g_hash_table_lookup (package, "officeDocument");
  XmlSource source = { 0 };
  xmlTextReaderPtr reader;
  int status;

  g_array_set_clear_func (sheets, sheet_entry_clear);
  if (workbook == NULL)
    workbook = "xl/workbook.xml";
  by_id = read_relationships (zip, workbook, parts);
  reader = open_part (zip, workbook, &source);
  if (reader == NULL)
    return set_damaged (error, path, _("it has no workbook"));
  while ((status = xmlTextReaderRead (reader)) == 1)
    {
      if (xmlTextReaderNodeType (reader) != XML_READER_TYPE_ELEMENT)
        continue;
      if (is_element (reader, "workbookPr"))
        {
          g_autofree char *value = attribute (reader, "date1904");

          *date1904 = value != NULL && (g_str_equal (value, "1") || g_str_equal (value, "true"));
        }
      else if (is_element (reader, "sheet"))
        {
          g_autofree char *name = attribute (reader, "name");
          g_autofree char *id = attribute (reader, "id");
          g_autofree char *state = attribute (reader, "state");
          const char *part = id ? g_hash_table_lookup (by_id, id) : NULL;

          if (name != NULL && part != NULL)
            g_array_append_val (sheets, ((SheetEntry) { g_steal_pointer (&name), g_strdup (part),
                                                        state != NULL && !g_str_equal (state, "visible") }));
        }
    }
  if (status < 0)
    {
      g_autofree char *detail = g_strdup (source.error);

      close_part (reader, &source);
      return set_damaged (error, path, detail);
    }
  close_part (reader, &source);
  if (sheets->len == 0)
    return set_damaged (error, path, _("it has no sheets"));
  *sheets_out = g_steal_pointer (&sheets);
  *parts_out = g_steal_pointer (&parts);
  return TRUE;
}

static void
free_format (gpointer data)
{
  g_free (*(char **) data);
}

static gboolean
read_styles (MrSpreadsheet *self,
             const char    *part)
{
  g_autoptr(GHashTable) codes = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_free);
  XmlSource source = { 0 };
  xmlTextReaderPtr reader = part ? open_part (self->zip, part, &source) : NULL;
  gboolean in_cell_xfs = FALSE;
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (guint));

  while (reader != NULL && xmlTextReaderRead (reader) == 1)
    {
      int type = xmlTextReaderNodeType (reader);

      if (type == XML_READER_TYPE_END_ELEMENT && is_element (reader, "cellXfs"))
        in_cell_xfs = FALSE;
      if (type != XML_READER_TYPE_ELEMENT)
        continue;
      if (is_element (reader, "cellXfs"))
        in_cell_xfs = !xmlTextReaderIsEmptyElement (reader);
      else if (is_element (reader, "numFmt"))
        {
          g_autofree char *id = attribute (reader, "numFmtId");
          char *code = attribute (reader, "formatCode");

          if (id != NULL && code != NULL)
            g_hash_table_replace (codes, GUINT_TO_POINTER ((guint) g_ascii_strtoull (id, NULL, 10)), code);
          else
            g_free (code);
        }
      else if (in_cell_xfs && is_element (reader, "xf") && ids->len < 65536)
        {
          g_autofree char *id = attribute (reader, "numFmtId");
          guint number = id ? (guint) g_ascii_strtoull (id, NULL, 10) : 0;

          g_array_append_val (ids, number);
        }
    }
  close_part (reader, &source);
  self->formats = g_array_new (FALSE, TRUE, sizeof (char *));
  g_array_set_clear_func (self->formats, free_format);
  for (guint i = 0; i < ids->len; i++)
    {
      guint id = g_array_index (ids, guint, i);
      const char *code = g_hash_table_lookup (codes, GUINT_TO_POINTER (id));
      char *copy = g_strdup (code ? code : mr_cell_format_builtin (id));

      g_array_append_val (self->formats, copy);
    }
  g_array_unref (ids);
  return TRUE;
}

static gboolean
read_shared_strings (MrSpreadsheet  *self,
                     const char     *path,
                     const char     *part,
                     GError        **error)
{
  XmlSource source = { 0 };
  xmlTextReaderPtr reader = part ? open_part (self->zip, part, &source) : NULL;
  g_autoptr(GString) text = g_string_new (NULL);
  gboolean in_t = FALSE;
  guint skip_depth = 0;   /* inside a phonetic guide (rPh) */
  int status = 0;

  while (reader != NULL && (status = xmlTextReaderRead (reader)) == 1)
    {
      int type = xmlTextReaderNodeType (reader);

      if (type == XML_READER_TYPE_ELEMENT)
        {
          gboolean empty = xmlTextReaderIsEmptyElement (reader);

          if (is_element (reader, "si"))
            {
              g_string_truncate (text, 0);
              if (empty && !mr_string_store_add (&self->strings, "", 0, error))
                break;
            }
          else if (is_element (reader, "rPh") && !empty)
            skip_depth++;
          else if (is_element (reader, "t") && !empty)
            in_t = TRUE;
        }
      else if (type == XML_READER_TYPE_END_ELEMENT)
        {
          if (is_element (reader, "si"))
            {
              if (!mr_string_store_add (&self->strings, text->str, text->len, error))
                break;
            }
          else if (is_element (reader, "rPh") && skip_depth > 0)
            skip_depth--;
          else if (is_element (reader, "t"))
            in_t = FALSE;
        }
      else if (in_t && skip_depth == 0 && is_text_node (type))
        append_text (text, reader);
    }
  if (status == 1)   /* stopped by an error of the temporary file */
    {
      close_part (reader, &source);
      return FALSE;
    }
  if (status < 0)
    {
      g_autofree char *detail = g_strdup (source.error);

      close_part (reader, &source);
      return set_damaged (error, path, detail);
    }
  close_part (reader, &source);
  return mr_string_store_finish (&self->strings, error);
}

/* "AB12" → column 27 (0-based), row 12. Returns FALSE for a reference that is not one. */
static gboolean
parse_reference (const char *reference,
                 guint      *column,
                 guint      *row)
{
  guint64 c = 0, r = 0;
  const char *p = reference;

  while (g_ascii_isalpha (*p) && p - reference < 4)
    c = c * 26 + (g_ascii_toupper (*p++) - 'A' + 1);
  if (c == 0)
    return FALSE;
  while (*p == '$')
    p++;
  while (g_ascii_isdigit (*p) && r < G_MAXUINT / 10)
    r = r * 10 + (*p++ - '0');
  *column = (guint) (c - 1);
  if (row != NULL)
    *row = (guint) r;
  return TRUE;
}

/* The merges of a sheet, which Office Open XML lists after the rows: one pass over the part for
 * them alone, reading the bytes (no XML parsing). */
static void
read_merges (MrSpreadsheet *self,
             const char    *part)
{
  g_autoptr(GsfInput) input = child (self->zip, part);
  static const char needle[] = "mergeCell ";
  char carry[512];
  gsize carried = 0;

  self->merges = g_array_new (FALSE, FALSE, sizeof (Merge));
  if (input == NULL)
    return;
  while (gsf_input_remaining (input) > 0 && self->merges->len < MAX_MERGES)
    {
      gsize n = MIN ((gsize) gsf_input_remaining (input), 65536);
      const guint8 *bytes = gsf_input_read (input, n, NULL);
      g_autofree char *window = NULL;
      gsize length;
      const char *p, *end;

      if (bytes == NULL)
        return;
      window = g_malloc (carried + n + 1);
      memcpy (window, carry, carried);
      memcpy (window + carried, bytes, n);
      length = carried + n;
      window[length] = '\0';
      p = window;
      end = window + length;
      carried = 0;
      while ((p = g_strstr_len (p, end - p, needle)) != NULL)
        {
          const char *close = memchr (p, '>', end - p);
          const char *ref;

          if (close == NULL)
            break;   /* cut by the window: carried over */
          ref = g_strstr_len (p, close - p, "ref=\"");
          if (ref != NULL)
            {
              g_autofree char *range = g_strndup (ref + 5, strcspn (ref + 5, "\""));
              char *colon = strchr (range, ':');
              guint c1, r1, c2, r2;

              if (colon != NULL && parse_reference (range, &c1, &r1) && parse_reference (colon + 1, &c2, &r2) &&
                  c2 > c1 && self->merges->len < MAX_MERGES)
                g_array_append_val (self->merges, ((Merge) { r1, c1, c2 }));
            }
          p = close + 1;
        }
      /* Keep the tail, which may hold the start of a merge cut by the window. */
      {
        gsize keep = MIN (length, sizeof carry);

        memcpy (carry, window + length - keep, keep);
        carried = keep;
        /* A merge already read must not be read twice: keep only from after the last ">". */
        {
          const char *last = NULL;

          for (const char *q = carry; q < carry + carried; q++)
            if (*q == '>')
              last = q;
          if (last != NULL)
            {
              carried -= (last + 1 - carry);
              memmove (carry, last + 1, carried);
            }
        }
      }
    }
}

static gboolean
open_xlsx (MrSpreadsheet  *self,
           const char     *path,
           const char     *sheet,
           GError        **error)
{
  g_autoptr(GArray) sheets = NULL;
  g_autoptr(GHashTable) parts = NULL;
  const SheetEntry *chosen = NULL;

  if (!read_workbook (self->zip, path, &sheets, &parts, &self->date1904, error))
    return FALSE;
  for (guint i = 0; i < sheets->len && chosen == NULL; i++)
    {
      const SheetEntry *entry = &g_array_index (sheets, SheetEntry, i);

      if (sheet != NULL ? g_str_equal (entry->name, sheet) : !entry->hidden)
        chosen = entry;
    }
  if (chosen == NULL && sheet == NULL)
    chosen = &g_array_index (sheets, SheetEntry, 0);
  if (chosen == NULL)
    {
      g_autofree char *name = g_filename_display_basename (path);

      g_set_error (error, MR_RECIPIENTS_ERROR, MR_RECIPIENTS_ERROR_NO_SHEET,
                   _("“%s” has no sheet called “%s”"), name, sheet);
      return FALSE;
    }
  self->sheet_name = g_strdup (chosen->name);
  read_styles (self, g_hash_table_lookup (parts, "styles"));
  if (!read_shared_strings (self, path, g_hash_table_lookup (parts, "sharedStrings"), error))
    return FALSE;
  read_merges (self, chosen->part);
  self->source.input = child (self->zip, chosen->part);
  if (self->source.input == NULL)
    return set_damaged (error, path, _("a sheet is missing"));
  self->reader = xml_reader_for (&self->source);
  return self->reader != NULL || set_damaged (error, path, NULL);
}

/* ---- OpenDocument --------------------------------------------------------------------------------- */

static gboolean
ods_is_encrypted (GsfInfile *zip)
{
  g_autoptr(GsfInput) manifest = child (zip, "META-INF/manifest.xml");
  gsf_off_t size = manifest ? gsf_input_size (manifest) : 0;
  const guint8 *bytes;

  if (size <= 0 || size > 4 * 1024 * 1024)
    return FALSE;
  bytes = gsf_input_read (manifest, size, NULL);
  return bytes != NULL && g_strstr_len ((const char *) bytes, size, "encryption-data") != NULL;
}

/* Moves the reader to the start of table @sheet (the first when NULL); returns its name. */
static char *
ods_find_table (xmlTextReaderPtr  reader,
                const char       *sheet,
                GPtrArray        *names)
{
  int status = xmlTextReaderRead (reader);

  while (status == 1)
    {
      if (xmlTextReaderNodeType (reader) == XML_READER_TYPE_ELEMENT && is_element (reader, "table"))
        {
          g_autofree char *name = attribute (reader, "name");

          if (names != NULL)
            g_ptr_array_add (names, g_strdup (name ? name : ""));
          else if (sheet == NULL || g_strcmp0 (name, sheet) == 0)
            return g_steal_pointer (&name);
          status = xmlTextReaderNext (reader);
          continue;
        }
      status = xmlTextReaderRead (reader);
    }
  return NULL;
}

static gboolean
open_ods (MrSpreadsheet  *self,
          const char     *path,
          const char     *sheet,
          GError        **error)
{
  if (ods_is_encrypted (self->zip))
    return set_protected (error, path);
  self->source.input = child (self->zip, "content.xml");
  if (self->source.input == NULL)
    return set_damaged (error, path, _("it has no contents"));
  self->reader = xml_reader_for (&self->source);
  if (self->reader == NULL)
    return set_damaged (error, path, NULL);
  self->sheet_name = ods_find_table (self->reader, sheet, NULL);
  if (self->sheet_name == NULL)
    {
      g_autofree char *name = g_filename_display_basename (path);

      if (self->source.error != NULL)
        return set_damaged (error, path, self->source.error);
      if (sheet == NULL)
        return set_damaged (error, path, _("it has no sheets"));
      g_set_error (error, MR_RECIPIENTS_ERROR, MR_RECIPIENTS_ERROR_NO_SHEET,
                   _("“%s” has no sheet called “%s”"), name, sheet);
      return FALSE;
    }
  return TRUE;
}

/* ---- Public ------------------------------------------------------------------------------------- */

char **
mr_spreadsheet_list_sheets (const char  *path,
                            GError     **error)
{
  Kind kind;
  g_autoptr(GsfInfile) zip = open_container (path, &kind, error);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);

  if (zip == NULL)
    return NULL;
  if (kind == KIND_XLSX)
    {
      g_autoptr(GArray) sheets = NULL;
      g_autoptr(GHashTable) parts = NULL;
      gboolean date1904 = FALSE;

      if (!read_workbook (zip, path, &sheets, &parts, &date1904, error))
        return NULL;
      for (guint i = 0; i < sheets->len; i++)
        if (!g_array_index (sheets, SheetEntry, i).hidden)
          g_ptr_array_add (names, g_strdup (g_array_index (sheets, SheetEntry, i).name));
    }
  else
    {
      XmlSource source = { 0 };
      xmlTextReaderPtr reader;

      if (ods_is_encrypted (zip))
        {
          set_protected (error, path);
          return NULL;
        }
      reader = open_part (zip, "content.xml", &source);
      if (reader == NULL)
        {
          set_damaged (error, path, _("it has no contents"));
          return NULL;
        }
      ods_find_table (reader, NULL, names);
      if (source.error != NULL)
        {
          set_damaged (error, path, source.error);
          close_part (reader, &source);
          return NULL;
        }
      close_part (reader, &source);
    }
  g_ptr_array_add (names, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&names), FALSE);
}

MrSpreadsheet *
mr_spreadsheet_open (const char  *path,
                     const char  *sheet,
                     GError     **error)
{
  g_autoptr(MrSpreadsheet) self = g_new0 (MrSpreadsheet, 1);
  GError *local_error = NULL;
  Kind kind;

  mr_string_store_init (&self->strings);
  self->cells = g_ptr_array_new_with_free_func (g_free);
  self->spans = g_array_new (FALSE, TRUE, sizeof (guint));
  self->zip = open_container (path, &kind, error);
  if (self->zip == NULL)
    return NULL;
  self->kind = kind;
  if (!(kind == KIND_XLSX ? open_xlsx (self, path, sheet, &local_error) : open_ods (self, path, sheet, &local_error)))
    {
      /* A sheet that is not there: say which are. */
      if (g_error_matches (local_error, MR_RECIPIENTS_ERROR, MR_RECIPIENTS_ERROR_NO_SHEET))
        {
          g_auto(GStrv) sheets = mr_spreadsheet_list_sheets (path, NULL);

          if (sheets != NULL && sheets[0] != NULL)
            {
              g_autofree char *listed = g_strjoinv (_("”, “"), sheets);
              g_autofree char *name = g_filename_display_basename (path);

              g_free (local_error->message);
              local_error->message = g_strdup_printf (_("“%s” has no sheet called “%s”; its sheets are “%s”"),
                                                      name, sheet, listed);
            }
        }
      g_propagate_error (error, local_error);
      return NULL;
    }
  return g_steal_pointer (&self);
}

void
mr_spreadsheet_free (MrSpreadsheet *self)
{
  if (self == NULL)
    return;
  if (self->reader != NULL)
    xmlFreeTextReader (self->reader);
  g_clear_object (&self->source.input);
  g_free (self->source.error);
  g_clear_object (&self->zip);
  g_free (self->sheet_name);
  g_clear_pointer (&self->cells, g_ptr_array_unref);
  g_clear_pointer (&self->spans, g_array_unref);
  g_clear_pointer (&self->formats, g_array_unref);
  g_clear_pointer (&self->merges, g_array_unref);
  mr_string_store_clear (&self->strings);
  g_free (self);
}

const char *
mr_spreadsheet_get_sheet (MrSpreadsheet *self)
{
  return self->sheet_name;
}

guint
mr_spreadsheet_get_hidden_rows (MrSpreadsheet *self)
{
  return self->hidden_rows;
}

guint
mr_spreadsheet_get_merged_span (MrSpreadsheet *self,
                                guint          column)
{
  return column < self->spans->len ? MAX (g_array_index (self->spans, guint, column), 1u) : 1;
}

/* Puts @text at @column of the row being read, with empty cells before it; past @max_columns + 1
 * nothing more is kept. */
static void
put_cell (MrSpreadsheet *self,
          guint          column,
          const char    *text,
          guint          span,
          guint          max_columns)
{
  if (column > max_columns)
    column = max_columns;
  if (column < self->cells->len)
    return;   /* out of order, or past the limit already */
  while (self->cells->len < column)
    {
      guint one = 1;

      g_ptr_array_add (self->cells, g_strdup (""));
      g_array_append_val (self->spans, one);
    }
  g_ptr_array_add (self->cells, g_strdup (text));
  g_array_append_val (self->spans, span);
}

static gboolean
row_is_blank (GPtrArray *cells)
{
  for (guint i = 0; i < cells->len; i++)
    if (*(const char *) g_ptr_array_index (cells, i) != '\0')
      return FALSE;
  return TRUE;
}

static void
start_row (MrSpreadsheet *self)
{
  g_ptr_array_set_size (self->cells, 0);
  g_array_set_size (self->spans, 0);
}

static gboolean
reader_failed (MrSpreadsheet  *self,
               GError        **error)
{
  g_autofree char *detail = self->source.error ? g_strdup (self->source.error) : NULL;

  self->done = TRUE;
  if (self->row == 0)
    g_set_error (error, MR_RECIPIENTS_ERROR, MR_RECIPIENTS_ERROR_DAMAGED,
                 _("The sheet “%s” is damaged and cannot be read (%s)"), self->sheet_name,
                 detail ? detail : _("its rows are not readable"));
  else
    g_set_error (error, MR_RECIPIENTS_ERROR, MR_RECIPIENTS_ERROR_DAMAGED,
                 _("The sheet “%s” is damaged after row %u and cannot be read on (%s)"), self->sheet_name,
                 self->row, detail ? detail : _("its rows are not readable"));
  return FALSE;
}

/* The text of an Office Open XML cell of type @type and style @style holding @value. */
static char *
xlsx_cell_text (MrSpreadsheet *self,
                const char    *type,
                const char    *style,
                const char    *value,
                gboolean      *bad_string)
{
  if (g_strcmp0 (type, "s") == 0)
    {
      char *end = NULL;
      guint64 index = g_ascii_strtoull (value, &end, 10);
      const char *text = end != value ? mr_string_store_get (&self->strings, index) : NULL;

      if (text == NULL && *value != '\0')
        *bad_string = TRUE;
      return g_strdup (text ? text : "");
    }
  if (g_strcmp0 (type, "b") == 0)
    return g_strdup (*value == '\0' ? "" : g_str_equal (value, "0") ? "FALSE" : "TRUE");
  if (type == NULL || g_str_equal (type, "n"))
    {
      char *end = NULL;
      double number;
      guint index = style ? (guint) g_ascii_strtoull (style, NULL, 10) : 0;
      const char *code = NULL;

      if (*value == '\0')
        return g_strdup ("");
      number = g_ascii_strtod (value, &end);
      if (end == value || *end != '\0')
        return g_strdup (value);
      if (self->formats != NULL && index < self->formats->len)
        code = g_array_index (self->formats, char *, index);
      return mr_cell_format_number (number, code, self->date1904);
    }
  /* inlineStr, str (a formula's text), e (an error, "#DIV/0!"), d (an ISO date) */
  return g_strdup (value);
}

static gboolean
next_row_xlsx (MrSpreadsheet  *self,
               guint           max_columns,
               GError        **error)
{
  g_autoptr(GString) value = g_string_new (NULL);
  g_autofree char *type = NULL;
  g_autofree char *style = NULL;
  gboolean in_value = FALSE, in_row = FALSE, row_hidden = FALSE;
  guint skip_depth = 0;
  guint column = 0, next_column = 0, row = self->row;
  int status;

  while ((status = xmlTextReaderRead (self->reader)) == 1)
    {
      int node = xmlTextReaderNodeType (self->reader);

      if (node == XML_READER_TYPE_ELEMENT)
        {
          gboolean empty = xmlTextReaderIsEmptyElement (self->reader);

          if (is_element (self->reader, "row"))
            {
              g_autofree char *r = attribute (self->reader, "r");
              g_autofree char *hidden = attribute (self->reader, "hidden");

              row = r ? (guint) g_ascii_strtoull (r, NULL, 10) : row + 1;
              row_hidden = hidden && (g_str_equal (hidden, "1") || g_str_equal (hidden, "true"));
              start_row (self);
              next_column = 0;
              in_row = !empty;
              if (empty)
                self->row = row;
            }
          else if (in_row && is_element (self->reader, "c"))
            {
              g_autofree char *r = attribute (self->reader, "r");

              g_free (type);
              type = attribute (self->reader, "t");
              g_free (style);
              style = attribute (self->reader, "s");
              if (r == NULL || !parse_reference (r, &column, NULL))
                column = next_column;
              if (column > max_columns)
                column = max_columns;
              next_column = column + 1;
              g_string_truncate (value, 0);
            }
          else if (in_row && (is_element (self->reader, "v") || is_element (self->reader, "t")) && !empty)
            in_value = TRUE;
          else if (in_row && is_element (self->reader, "rPh") && !empty)
            skip_depth++;
        }
      else if (node == XML_READER_TYPE_END_ELEMENT)
        {
          if (is_element (self->reader, "v") || is_element (self->reader, "t"))
            in_value = FALSE;
          else if (is_element (self->reader, "rPh") && skip_depth > 0)
            skip_depth--;
          else if (in_row && is_element (self->reader, "c"))
            {
              gboolean bad_string = FALSE;
              g_autofree char *text = xlsx_cell_text (self, type, style, value->str, &bad_string);
              guint span = 1;

              if (bad_string)
                {
                  self->row = row;
                  return reader_failed (self, error);
                }
              for (guint i = 0; self->merges != NULL && i < self->merges->len; i++)
                {
                  Merge *merge = &g_array_index (self->merges, Merge, i);

                  if (merge->row == row && merge->first_column == column)
                    span = merge->last_column - merge->first_column + 1;
                }
              if (*text != '\0' || span > 1)
                put_cell (self, column, text, span, max_columns);
            }
          else if (in_row && is_element (self->reader, "row"))
            {
              in_row = FALSE;
              self->row = row;
              if (row_hidden && !row_is_blank (self->cells))
                {
                  self->hidden_rows++;
                  continue;
                }
              if (self->cells->len > 0)
                return TRUE;
            }
          else if (is_element (self->reader, "sheetData"))
            {
              self->done = TRUE;
              return FALSE;
            }
        }
      else if (in_value && skip_depth == 0 && is_text_node (node))
        append_text (value, self->reader);
    }
  if (status < 0)
    return reader_failed (self, error);
  self->done = TRUE;
  return FALSE;
}

/* OpenDocument: a table's rows, each maybe repeated, and cells, each maybe repeated. */
static gboolean
next_row_ods (MrSpreadsheet  *self,
              guint           max_columns,
              GError        **error)
{
  g_autoptr(GString) text = g_string_new (NULL);
  g_autofree char *fallback = NULL;
  gboolean in_row = FALSE, in_cell = FALSE, row_hidden = FALSE, in_annotation = FALSE;
  guint paragraphs = 0, text_depth = 0;
  guint column = 0, cell_repeats = 1, cell_span = 1, row_repeats = 1;
  int status;

  if (self->repeats_left > 0)
    {
      self->repeats_left--;
      self->row++;
      return TRUE;
    }
  while ((status = xmlTextReaderRead (self->reader)) == 1)
    {
      int node = xmlTextReaderNodeType (self->reader);

      if (node == XML_READER_TYPE_ELEMENT)
        {
          gboolean empty = xmlTextReaderIsEmptyElement (self->reader);

          if (is_element (self->reader, "table-row"))
            {
              g_autofree char *repeated = attribute (self->reader, "number-rows-repeated");
              g_autofree char *visibility = attribute (self->reader, "visibility");

              row_repeats = repeated ? (guint) CLAMP (g_ascii_strtoull (repeated, NULL, 10), 1, 1048576) : 1;
              row_hidden = visibility != NULL && !g_str_equal (visibility, "visible");
              start_row (self);
              column = 0;
              in_row = !empty;
              if (empty)
                self->row += row_repeats;
            }
          else if (in_row && (is_element (self->reader, "table-cell") || is_element (self->reader, "covered-table-cell")))
            {
              g_autofree char *repeated = attribute (self->reader, "number-columns-repeated");
              g_autofree char *spanned = attribute (self->reader, "number-columns-spanned");
              g_autofree char *value_type = attribute (self->reader, "value-type");

              cell_repeats = repeated ? (guint) CLAMP (g_ascii_strtoull (repeated, NULL, 10), 1, 16384) : 1;
              cell_span = spanned ? (guint) CLAMP (g_ascii_strtoull (spanned, NULL, 10), 1, 16384) : 1;
              g_string_truncate (text, 0);
              paragraphs = 0;
              g_clear_pointer (&fallback, g_free);
              if (value_type != NULL && g_str_equal (value_type, "boolean"))
                {
                  g_autofree char *b = attribute (self->reader, "boolean-value");

                  fallback = g_strdup (g_strcmp0 (b, "true") == 0 ? "TRUE" : "FALSE");
                }
              else if (value_type != NULL && g_str_equal (value_type, "date"))
                fallback = attribute (self->reader, "date-value");
              else if (value_type != NULL && g_str_equal (value_type, "time"))
                fallback = attribute (self->reader, "time-value");
              else if (value_type != NULL && !g_str_equal (value_type, "string"))
                {
                  g_autofree char *number = attribute (self->reader, "value");
                  char *end = NULL;
                  double parsed = number ? g_ascii_strtod (number, &end) : 0;

                  if (number != NULL && end != number)
                    fallback = mr_cell_format_number (parsed, NULL, FALSE);
                }
              in_cell = !empty;
              if (empty)
                goto cell_done;
            }
          else if (in_cell && is_element (self->reader, "annotation"))
            in_annotation = !empty;   /* a comment on the cell: not its text */
          else if (in_cell && !in_annotation && is_element (self->reader, "p"))
            {
              if (paragraphs++ > 0)
                g_string_append_c (text, '\n');
              if (!empty)
                text_depth++;
            }
          else if (text_depth > 0 && is_element (self->reader, "s"))
            {
              g_autofree char *count = attribute (self->reader, "c");
              guint n = count ? (guint) CLAMP (g_ascii_strtoull (count, NULL, 10), 1, 1000) : 1;

              for (guint i = 0; i < n && text->len < MR_SPREADSHEET_MAX_CELL; i++)
                g_string_append_c (text, ' ');
            }
          else if (text_depth > 0 && is_element (self->reader, "tab"))
            g_string_append_c (text, '\t');
          else if (text_depth > 0 && is_element (self->reader, "line-break"))
            g_string_append_c (text, '\n');
        }
      else if (node == XML_READER_TYPE_END_ELEMENT)
        {
          if (in_annotation && is_element (self->reader, "annotation"))
            in_annotation = FALSE;
          else if (text_depth > 0 && is_element (self->reader, "p"))
            text_depth--;
          else if (in_cell && (is_element (self->reader, "table-cell") || is_element (self->reader, "covered-table-cell")))
            {
              in_cell = FALSE;
            cell_done:
              {
                const char *shown = paragraphs > 0 ? text->str : fallback ? fallback : "";

                if (*shown != '\0' || cell_span > 1)
                  for (guint i = 0; i < cell_repeats && column + i <= max_columns; i++)
                    put_cell (self, column + i, shown, cell_span, max_columns);
                column = column + cell_repeats > max_columns + 1 ? max_columns + 1 : column + cell_repeats;
              }
            }
          else if (in_row && is_element (self->reader, "table-row"))
            {
              in_row = FALSE;
              if (row_is_blank (self->cells))
                {
                  self->row += row_repeats;
                  continue;
                }
              if (row_hidden)
                {
                  self->row += row_repeats;
                  self->hidden_rows += row_repeats;
                  continue;
                }
              self->row++;
              self->repeats_left = row_repeats - 1;
              return TRUE;
            }
          else if (is_element (self->reader, "table"))
            {
              self->done = TRUE;
              return FALSE;
            }
        }
      else if (text_depth > 0 && is_text_node (node))
        append_text (text, self->reader);
    }
  if (status < 0)
    return reader_failed (self, error);
  self->done = TRUE;
  return FALSE;
}

gboolean
mr_spreadsheet_next_row (MrSpreadsheet  *self,
                         guint           max_columns,
                         GPtrArray     **cells,
                         guint          *row,
                         GError        **error)
{
  gboolean ok;

  if (self->done)
    return FALSE;
  ok = self->kind == KIND_XLSX ? next_row_xlsx (self, max_columns, error) : next_row_ods (self, max_columns, error);
  if (!ok)
    return FALSE;
  *cells = self->cells;
  *row = self->row;
  return TRUE;
}
