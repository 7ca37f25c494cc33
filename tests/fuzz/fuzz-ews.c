/* fuzz-ews.c: what Exchange answers: EWS responses, SOAP faults and autodiscover */

#include "config.h"

#include "fuzz-common.h"
#include "mr-ews.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GBytes) body = g_bytes_new (data, size);
  g_autoptr(MrEwsResponse) response = mr_ews_parse_response (body, NULL);
  g_autofree char *ews_url = NULL;
  g_autofree char *redirect_address = NULL;
  g_autofree char *redirect_url = NULL;

  mr_ews_parse_autodiscover (body, &ews_url, &redirect_address, &redirect_url, NULL);
  return 0;
}
