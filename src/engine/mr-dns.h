/* mr-dns.h: the DNS questions the deliverability checks ask, through GResolver
 *
 * g_resolver_get_default() answers (tests install their own). An answer is found records,
 * nothing (no such name, or no record of the type: the same to SPF and DMARC), or a failure
 * (a timeout, a server that would not say): "could not check", never "not there".
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum {
  MR_DNS_FOUND,
  MR_DNS_NOTHING,
  MR_DNS_FAILED,
} MrDnsAnswer;

/* Each TXT record of @name, its strings joined (RFC 7208 section 3.3). *@out is always set. */
MrDnsAnswer mr_dns_lookup_txt       (const char     *name,
                                     GPtrArray     **out,
                                     GCancellable   *cancellable);
/* The addresses of @name of one family (G_SOCKET_FAMILY_IPV4 or _IPV6; _INVALID: both). */
MrDnsAnswer mr_dns_lookup_addresses (const char     *name,
                                     GSocketFamily   family,
                                     GList         **out,
                                     GCancellable   *cancellable);
/* The MX hosts of @name, most preferred first. *@out is always set. */
MrDnsAnswer mr_dns_lookup_mx        (const char     *name,
                                     GPtrArray     **out,
                                     GCancellable   *cancellable);

G_END_DECLS
