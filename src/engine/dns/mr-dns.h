/* mr-dns.h: the DNS questions the deliverability checks ask, and their answers kept for their TTL
 *
 * With the system's resolver, TXT, MX, A and AAAA questions go to the name servers of
 * /etc/resolv.conf through libresolv (GLib's own resolver asks the same way but drops the TTL),
 * or to $MAILROOM_DNS_SERVER ("ADDRESS" or "ADDRESS:PORT", IPv4) when it is set; glibc's
 * $RES_OPTIONS ("timeout:1 attempts:1") applies. Each answer, found or not, is kept in
 * $XDG_CACHE_HOME/mailroom/dns.json for its TTL (a "no such record" for its zone's SOA minimum,
 * RFC 2308), so that a check repeated in a mailshot, Check Server and the Company page asks the
 * network once. A failure (a timeout, a server that would not say) is never kept.
 *
 * When another resolver is the default (g_resolver_set_default(): tests install their own), it is
 * asked instead, and nothing is kept: it gives no TTL.
 *
 * An answer is found records, nothing (no such name, or no record of the type: the same to SPF
 * and DMARC), or a failure: "could not check", never "not there".
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

/* A name server's reply to a question of @type (ns_t_txt, ns_t_mx, ns_t_a, ns_t_aaaa): the records
 * of that type as text into @out (an MX as "PREFERENCE HOST"), and the seconds the answer may be
 * kept (a "no such record" for its SOA's minimum; 0: not to keep). A reply that cannot be read is
 * MR_DNS_FAILED with nothing in @out. For the lookups and the fuzzer (tests/fuzz/fuzz-dns.c). */
MrDnsAnswer mr_dns_parse_answer     (const guint8   *message,
                                     gsize           length,
                                     int             type,
                                     GPtrArray      *out,
                                     guint32        *ttl);

/* Forgets the kept answers for @domain and every name under it (_dmarc.@domain,
 * selector._domainkey.@domain): the next questions go to the network. For "Check Again" after a
 * record was published, and a proof's check. */
void        mr_dns_forget           (const char     *domain);

G_END_DECLS
