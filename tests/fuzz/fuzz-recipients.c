/* fuzz-recipients.c: the recipient list reader (CSV and JSON, every encoding it detects) */

#include "config.h"

#include "fuzz-common.h"
#include "mr-recipients.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autofree char *path = fuzz_write_input ("list.csv", data, size);
  g_autoptr(MrRecipientReader) reader = mr_recipient_reader_open (path, NULL);
  const char * const *fields;
  guint row = 0;

  if (reader == NULL)
    return 0;
  g_free (mr_recipients_describe_columns (mr_recipient_reader_get_columns (reader)));
  /* Every row, good or not, until the end: a row's error never stops the reading by itself. */
  for (guint i = 0; i < 100000; i++)
    {
      g_autoptr(GError) error = NULL;

      if (mr_recipient_reader_next (reader, &fields, &row, &error))
        {
          for (guint c = 0; fields[c] != NULL; c++)
            g_assert (g_utf8_validate (fields[c], -1, NULL));
          continue;
        }
      if (error == NULL)
        break;
    }
  return 0;
}
