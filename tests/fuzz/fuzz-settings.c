/* fuzz-settings.c: the settings file reader (the company's and a person's), and mr_json_parse() */

#include "config.h"

#include "fuzz-common.h"
#include "mr-json.h"
#include "mr-settings-file.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autofree char *path = fuzz_write_input ("settings.json", data, size);
  g_autoptr(MrSettingsFile) company = mr_settings_file_new (path, MR_SCOPE_COMPANY);
  g_autoptr(MrSettingsFile) user = mr_settings_file_new (path, MR_SCOPE_USER);
  g_autoptr(JsonNode) node = mr_json_parse ((const char *) data, (gssize) size, NULL);

  if (mr_settings_file_load (company, NULL))
    {
      g_autoptr(JsonNode) json = mr_settings_file_to_json (company);
      g_auto(GStrv) keys = mr_settings_file_list_keys (company);
    }
  mr_settings_file_load (user, NULL);
  return 0;
}
