/* fuzz-html.c: the HTML cleaner (mr-html-clean.h), on what is pasted and what templates hold
 *
 * Whatever comes in, what comes out is valid UTF-8 when the input was, and cleaning it again
 * changes nothing.
 */

#include "config.h"

#include <string.h>

#include "fuzz-common.h"
#include "mr-html-clean.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autofree char *html = g_strndup ((const char *) data, size);
  MrHtmlCleanReport report;
  g_autofree char *once = mr_html_clean (html, &report);
  g_autofree char *twice = mr_html_clean (once, NULL);

  if (g_utf8_validate (html, -1, NULL) && !g_utf8_validate (once, -1, NULL))
    g_error ("the cleaned HTML is not UTF-8");
  if (g_utf8_validate (html, -1, NULL) && strcmp (once, twice) != 0)
    g_error ("cleaning twice changed it:\n%s\n%s", once, twice);
  mr_html_clean_report_clear (&report);
  return 0;
}
