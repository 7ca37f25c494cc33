/* mr-cell-format.h: a spreadsheet number as the spreadsheet shows it, from the cell's number format
 *
 * Office Open XML stores a number and the index of a format; the text a person sees (and a CSV
 * export holds) is the number put through the format. This renders the common formats:
 *
 * - General: whole numbers without ".0", others with up to 15 significant digits ("3.25").
 * - Digit placeholders 0, # and ?, the thousands separator, decimal places, "%", scientific
 *   ("0.00E+00"), text in quotes or after a backslash, currency tokens ("[$€-407]" gives "€"),
 *   up to four sections (positive; negative; zero; text). Colours and conditions are ignored;
 *   padding ("_)") is a space, fills ("*-") are left out.
 * - Dates and times (y, m, d, h, s, AM/PM, elapsed [h]) from Excel's day numbers, 1900 or 1904
 *   based: "dd.mm.yyyy" gives "06.12.2026". Month and day names are in the user's language.
 * - The built-in formats by number (mr_cell_format_builtin()). Number 14, the short date that each
 *   Excel shows in its own country's order, comes out as "2026-12-06", which nobody misreads.
 *
 * The decimal and thousands separators are the user's locale's, as in the spreadsheet program.
 * What is not rendered: fractions ("# ?/?") and digits with text between them ("000-0000") fall
 * back to General; conditions ("[>100]") choose no section.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The format code of built-in format @id, or NULL for an id with none (General is used). */
const char *mr_cell_format_builtin (guint id);

/* Whether @code shows a date or a time. */
gboolean    mr_cell_format_is_date (const char *code);

/* @value put through @code (NULL or "General": General). @date1904: the workbook counts days from
 * 1904 rather than 1900. */
char       *mr_cell_format_number  (double      value,
                                    const char *code,
                                    gboolean    date1904);

G_END_DECLS
