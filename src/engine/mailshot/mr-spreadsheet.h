/* mr-spreadsheet.h: the rows of one sheet of an .xlsx or .ods file, as the spreadsheet shows them
 *
 * Without a spreadsheet program: libgsf opens the zip container (and recognises the OLE2 one that
 * password-protected and old Excel files use), libxml2's reader streams the sheet, so memory does
 * not grow with the rows. Office Open XML's shared strings are kept in memory up to 4 MB
 * ($MAILROOM_STRINGS_IN_MEMORY bytes, for tests) and in an unlinked temporary file past that.
 *
 * What a cell gives, as text:
 * - text as written (shared, inline and rich text alike; phonetic guides are left out);
 * - a number through its cell's number format (mr-cell-format.h): "42", "3.25", "1,234.50 €",
 *   "06.12.2026"; OpenDocument files hold that text themselves, and it is taken from them;
 * - booleans as "TRUE" and "FALSE"; an error as the spreadsheet shows it ("#DIV/0!");
 * - a formula: the result the file holds; a file written by a program that does not calculate
 *   (a script's library) may hold none, and then the cell is empty.
 * Rows the spreadsheet hides (hidden or filtered out) are not returned: they are counted
 * (mr_spreadsheet_get_hidden_rows()). Merged cells: the value is in the first cell of the
 * merge, the others are empty, as in a CSV export; mr_spreadsheet_get_merged_span() says how far
 * a cell's merge reaches, so that a merged header can name the columns under it.
 *
 * Errors (MR_RECIPIENTS_ERROR): _PROTECTED for a file with a password, _DAMAGED for one that is
 * not a readable spreadsheet, _UNSUPPORTED for an Excel 97–2003 file, _NO_SHEET when the named
 * sheet is not in the file.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _MrSpreadsheet MrSpreadsheet;

/* Whether the first bytes of a file are a zip or an OLE2 container (an .xlsx, an .ods, an .xls or
 * a protected file). */
gboolean       mr_spreadsheet_sniff            (const guint8  *start,
                                                gsize          length);

/* The sheets' names in the file's order; the hidden ones are left out. */
char         **mr_spreadsheet_list_sheets      (const char    *path,
                                                GError       **error);

/* Opens @sheet, or the first sheet shown when NULL. */
MrSpreadsheet *mr_spreadsheet_open             (const char    *path,
                                                const char    *sheet,
                                                GError       **error);
void           mr_spreadsheet_free             (MrSpreadsheet *self);

const char    *mr_spreadsheet_get_sheet        (MrSpreadsheet *self);

/* The next row shown: @cells (char*, "" for an empty cell; trailing empty cells left out) stays
 * valid until the next call, @row is the spreadsheet's row number. FALSE at the end, or with
 * @error when the sheet cannot be read on (the end too). A row with more than @max_columns cells
 * is returned cut at @max_columns + 1. */
gboolean       mr_spreadsheet_next_row         (MrSpreadsheet *self,
                                                guint          max_columns,
                                                GPtrArray    **cells,
                                                guint         *row,
                                                GError       **error);

/* How many columns the merged cell at @column (0-based) of the row just returned spans; 1 when
 * the cell is not merged. */
guint          mr_spreadsheet_get_merged_span  (MrSpreadsheet *self,
                                                guint          column);

/* The rows hidden by the spreadsheet that were passed over so far. */
guint          mr_spreadsheet_get_hidden_rows  (MrSpreadsheet *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MrSpreadsheet, mr_spreadsheet_free)

G_END_DECLS
