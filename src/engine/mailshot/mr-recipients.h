/* mr-recipients.h: reading a mailshot's recipients from a CSV file, as spreadsheets save them, or
 * from a JSON array of objects, as other systems export them
 *
 * CSV per RFC 4180 (quoted fields with commas, quotes and line breaks in them), the first row naming
 * the columns. The separator (",", ";" or tab) is detected from the header row, or taken from Excel's
 * "sep=X" first line. The encoding is detected: UTF-8 with or without a byte-order mark, UTF-16 with
 * one, otherwise Windows-1252 when the start of the file is not UTF-8. A row that cannot be decoded
 * is an error naming that row, never replacement characters; reading can go on past it.
 *
 * JSON (a file whose first character, after a byte-order mark and spaces, is "["): an array of
 * flat objects. The first object's keys name the columns; a later object with another key, or with
 * a list or object as a value, is an error for its row; a missing key is empty; numbers, true and
 * false are kept as written, null is empty. The first object is row 2, as if a header row came
 * first, so that a list reads the same from CSV and JSON. A broken structure ends the reading,
 * with an error naming its row.
 *
 * The file is read as a stream: memory does not grow with the number of rows. Limits, generous for
 * real spreadsheets (Excel and LibreOffice hold 32,767 characters in a cell and 16,384 columns): a
 * field is at most 256 KB, a row 1 MB, and a row has at most 16,384 fields. A row past a limit is
 * an error for that row (MR_RECIPIENTS_ERROR_MALFORMED) and the reading goes on; a header row past
 * one refuses the file. What is past a limit is read but not kept, so memory stays constant.
 * Bytes that a UTF-16 file's converter refuses end the reading with MR_RECIPIENTS_ERROR_ENCODING
 * naming the row, once.
 *
 * Spreadsheets (an .xlsx or .ods file, recognised by its content, not its name): one sheet, the
 * first shown unless one is named, read as mr-spreadsheet.h says: cells as the spreadsheet shows
 * them, hidden rows passed over and counted. The first row with anything in it names the columns;
 * a header cell merged over several columns names each ("Address", "Address 2"). Rows keep the
 * sheet's numbers. A password-protected, damaged or Excel 97–2003 file is refused, saying which.
 *
 * Call order: mr_recipient_reader_open() → mr_recipient_reader_next() until it returns FALSE with no
 * error → free. Errors: MR_RECIPIENTS_ERROR (below), G_IO_ERROR when the file cannot be read.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define MR_RECIPIENTS_ERROR (mr_recipients_error_quark ())

typedef enum {
  MR_RECIPIENTS_ERROR_NO_HEADER,   /* an empty file, or a header row without names */
  MR_RECIPIENTS_ERROR_ENCODING,    /* a row that is not text in the file's encoding: the message names it */
  MR_RECIPIENTS_ERROR_MALFORMED,   /* a quoted field that never ends, or a field with the wrong count */
  MR_RECIPIENTS_ERROR_NO_ADDRESS_COLUMN, /* no column holds the addresses */
  MR_RECIPIENTS_ERROR_PROTECTED,   /* a spreadsheet with a password */
  MR_RECIPIENTS_ERROR_DAMAGED,     /* a file that looks like a spreadsheet and cannot be read as one */
  MR_RECIPIENTS_ERROR_UNSUPPORTED, /* an Excel 97–2003 (.xls) file */
  MR_RECIPIENTS_ERROR_NO_SHEET,    /* the sheet named is not in the file, or the file has no sheets */
} MrRecipientsError;

GQuark mr_recipients_error_quark (void);

typedef struct _MrRecipientReader MrRecipientReader;

MrRecipientReader  *mr_recipient_reader_open          (const char         *path,
                                                       GError            **error);
/* @sheet: the sheet of a spreadsheet to read (NULL: the first shown); naming one for a CSV or JSON
 * file is an error (MR_RECIPIENTS_ERROR_NO_SHEET). */
MrRecipientReader  *mr_recipient_reader_open_sheet    (const char         *path,
                                                       const char         *sheet,
                                                       GError            **error);
void                mr_recipient_reader_free          (MrRecipientReader  *reader);

/* The sheet being read, or NULL for a CSV or JSON file. */
const char         *mr_recipient_reader_get_sheet     (MrRecipientReader  *reader);
/* Rows the spreadsheet hides that were passed over so far (0 for CSV and JSON). */
guint               mr_recipient_reader_get_hidden_rows (MrRecipientReader *reader);

/* The header row's names, trimmed, in file order. */
const char * const *mr_recipient_reader_get_columns   (MrRecipientReader  *reader);
/* ",", ";" or "\t"; 0 for JSON and spreadsheets. */
char                mr_recipient_reader_get_separator (MrRecipientReader  *reader);
/* "UTF-8", "UTF-16LE", "UTF-16BE" or "WINDOWS-1252". */
const char         *mr_recipient_reader_get_encoding  (MrRecipientReader  *reader);

/* The next data row: @fields (as many as there are columns; a short row is padded with empty
 * fields) stays valid until the next call. @row is the row's number counting the header as 1, as a
 * spreadsheet numbers it. Returns FALSE at the end (no error) or for a row it cannot use (with
 * @error, and @row set): the next call goes on with the row after it. Blank lines are skipped. */
gboolean            mr_recipient_reader_next          (MrRecipientReader  *reader,
                                                       const char * const **fields,
                                                       guint               *row,
                                                       GError            **error);

/* The name a template uses for @column: white space as underscores, since a merge field's name has
 * none ("First Name" → "First_Name"). A row's values are known by both names. */
char               *mr_recipients_field_name          (const char         *column);

/* The column names for a message, short whatever the file holds: the first 20, each cut at 40
 * characters, and how many more there are. */
char               *mr_recipients_describe_columns    (const char * const *columns);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MrRecipientReader, mr_recipient_reader_free)

G_END_DECLS
