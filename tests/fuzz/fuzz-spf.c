/* fuzz-spf.c: SPF records and macros (mr-spf.h), as a domain's DNS may hold them
 *
 * Whatever the record, reading it ends with a verdict; merging an include into a record receivers
 * accept gives one they accept too, holding the include once; expanding it as a macro string ends
 * with text or a reason. No DNS is asked.
 */

#include "config.h"

#include <string.h>

#include "fuzz-common.h"
#include "mr-spf.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autofree char *record = g_strndup ((const char *) data, size);
  g_autofree char *problem = NULL;
  g_autofree char *merged = NULL;
  g_autofree char *expanded = NULL;
  g_autofree char *why = NULL;
  g_autoptr(GInetAddress) ip = g_inet_address_new_from_string ("2001:db8::cb01");
  gboolean valid = mr_spf_record_is_valid (record, &problem);

  if (!valid && problem == NULL)
    g_error ("refused without a reason");
  merged = mr_spf_merge_include (record, "spf.provider.example");
  {
    /* Domains are the same in any case: one there already is kept as written. */
    g_autofree char *lower = g_ascii_strdown (merged, -1);

    if (strstr (lower, "include:spf.provider.example") == NULL)
      g_error ("the include is not in: %s", merged);
  }
  if (valid)
    {
      g_autofree char *merged_problem = NULL;

      if (!mr_spf_record_is_valid (merged, &merged_problem))
        g_error ("“%s” merged into “%s”, which is refused: %s", record, merged, merged_problem);
    }
  expanded = mr_spf_expand (record, ip, "example.com", "strong-bad@email.example.com", "mx.example.com", &why);
  if (expanded == NULL && why == NULL)
    g_error ("expansion failed without a reason");
  return 0;
}
