/* fuzz-dns.c: a name server's reply (mr_dns_parse_answer()), as the network may bring it
 *
 * Whatever the bytes, each question type ends with found records, nothing or a failure: found
 * means records, and nothing or a failure none; every record is UTF-8 text, an MX "PREFERENCE
 * HOST", an address one GLib reads back. No DNS is asked.
 */

#include "config.h"

#include <arpa/nameser.h>
#include <string.h>

#include "fuzz-common.h"
#include "mr-dns.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  const int types[] = { ns_t_txt, ns_t_mx, ns_t_a, ns_t_aaaa };

  for (guint t = 0; t < G_N_ELEMENTS (types); t++)
    {
      g_autoptr(GPtrArray) records = g_ptr_array_new_with_free_func (g_free);
      guint32 ttl = 12345;
      MrDnsAnswer answer = mr_dns_parse_answer (data, size, types[t], records, &ttl);

      if ((answer == MR_DNS_FOUND) != (records->len > 0))
        g_error ("answer %d with %u records", answer, records->len);
      if (answer == MR_DNS_FAILED && ttl != 0)
        g_error ("a failure to be kept for %u s", ttl);
      for (guint i = 0; i < records->len; i++)
        {
          const char *record = g_ptr_array_index (records, i);

          if (!g_utf8_validate (record, -1, NULL))
            g_error ("a record that is not UTF-8");
          if (types[t] == ns_t_mx && (!g_ascii_isdigit (record[0]) || strchr (record, ' ') == NULL))
            g_error ("an MX record that is not “PREFERENCE HOST”: %s", record);
          if (types[t] == ns_t_a || types[t] == ns_t_aaaa)
            {
              g_autoptr(GInetAddress) address = g_inet_address_new_from_string (record);

              if (address == NULL || g_inet_address_get_family (address) != (types[t] == ns_t_a ? G_SOCKET_FAMILY_IPV4
                                                                                                 : G_SOCKET_FAMILY_IPV6))
                g_error ("an address GLib cannot read: %s", record);
            }
        }
    }
  return 0;
}
