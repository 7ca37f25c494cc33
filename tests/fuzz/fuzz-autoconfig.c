/* fuzz-autoconfig.c: a domain's autoconfig document (XML from any web server) */

#include "config.h"

#include "fuzz-common.h"
#include "mr-discover.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  MrDiscovery *discovery = mr_discovery_from_autoconfig ((const char *) data, size, "ann@example.test");

  if (discovery != NULL)
    {
      g_assert (discovery->host != NULL && discovery->port > 0);
      mr_discovery_free (discovery);
    }
  return 0;
}
