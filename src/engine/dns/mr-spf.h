/* mr-spf.h: a domain's SPF record (RFC 7208) read, judged and evaluated
 *
 * check_host() as section 4 has it, through GResolver (g_resolver_get_default(), which tests
 * replace): the record chosen from the TXT records ("v=spf1"; two are a permerror), its terms
 * parsed, mechanisms all, include, a, mx, ptr, ip4, ip6 and exists, modifiers redirect and exp,
 * macros (section 7) in domain-specs, at most 10 terms that query DNS and 2 that find nothing
 * (sections 4.6.4), at most 10 MX or PTR names each. A DNS failure that is not "no such name" is
 * a temperror: "could not check", never a fail.
 *
 * Beside the evaluation: whether a record includes a provider's SPF domain (the question for a
 * company that sends through Office 365 or Google), and the record to publish with one more
 * include merged in before the final "all" or "redirect", not a second record.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum {
  MR_SPF_NONE,
  MR_SPF_NEUTRAL,
  MR_SPF_PASS,
  MR_SPF_FAIL,
  MR_SPF_SOFTFAIL,
  MR_SPF_TEMPERROR,
  MR_SPF_PERMERROR,
} MrSpfResult;

typedef struct {
  MrSpfResult  result;
  char        *record;      /* the domain's own SPF record; NULL: none */
  char        *matched;     /* the term that decided ("include:spf.protection.outlook.com"), or NULL */
  char        *problem;     /* for a permerror or temperror: what, in words */
  guint        lookups;     /* terms that queried DNS, includes and redirects counted in */
  guint        void_lookups;
} MrSpfVerdict;

/* "pass", "fail", … as RFC 7208 names them. */
const char   *mr_spf_result_to_string (MrSpfResult   result);

/* check_host (ip, domain, sender); @sender "postmaster@DOMAIN" when NULL, @helo may be NULL. */
MrSpfVerdict *mr_spf_check_host       (GInetAddress  *ip,
                                       const char    *domain,
                                       const char    *sender,
                                       const char    *helo,
                                       GCancellable  *cancellable);
void          mr_spf_verdict_free     (MrSpfVerdict  *verdict);

/* The SPF record of @domain: NULL with *@problem NULL when it has none, NULL with *@problem set
 * (two records, DNS failed: @temporary TRUE) when it cannot be told. */
char         *mr_spf_lookup_record    (const char    *domain,
                                       gboolean      *temporary,
                                       char         **problem,
                                       GCancellable  *cancellable);

/* Whether @domain's SPF (through its includes and redirect, within the limits) includes
 * @include_domain. MR_SPF_PASS when it does, MR_SPF_FAIL when it does not, MR_SPF_NONE without a
 * record, MR_SPF_PERMERROR/_TEMPERROR (with the verdict's problem) when it cannot be told. */
MrSpfVerdict *mr_spf_check_include    (const char    *domain,
                                       const char    *include_domain,
                                       GCancellable  *cancellable);

/* @record with "include:@include_domain" added before its "all" or "redirect" (or at its end);
 * "v=spf1 include:@include_domain ~all" when @record is NULL. A record that has it already
 * comes back as it is. */
char         *mr_spf_merge_include    (const char    *record,
                                       const char    *include_domain);

/* Whether @record is an SPF record receivers can read (section 4.6: its terms, their syntax, no
 * modifier twice); why not in @problem. No DNS is asked. */
gboolean      mr_spf_record_is_valid  (const char    *record,
                                       char         **problem);

/* The same for any term ("ip4:192.0.2.1", "a:smtp.example.com"). */
char         *mr_spf_merge_term       (const char    *record,
                                       const char    *term);

/* Macro expansion (RFC 7208 section 7) of @spec for @ip, @domain, @sender and @helo; NULL (with
 * why in @problem) for a syntax error. */
char         *mr_spf_expand           (const char    *spec,
                                       GInetAddress  *ip,
                                       const char    *domain,
                                       const char    *sender,
                                       const char    *helo,
                                       char         **problem);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MrSpfVerdict, mr_spf_verdict_free)

G_END_DECLS
