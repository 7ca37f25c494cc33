/* mr-domain-check.h: will mail from a domain arrive? SPF, DKIM, DMARC and MX, judged in words
 *
 * What Gmail, Yahoo and Outlook.com have asked of bulk senders since 2024 and 2025, checked
 * against the DNS (mr-dns.h) for the way Mailroom actually sends:
 *
 * - SPF (mr-spf.h): for a provider, whether the record includes the provider's SPF domain; for
 *   another server, whether each of its addresses passes. Two records, a syntax error, "+all"
 *   and more than 10 lookups are findings of their own. Where the record is missing or wrong,
 *   the record to publish: the one there is with the include merged in.
 * - DKIM: a key at each selector the provider signs with; an RSA key under 1024 bits is a finding.
 * - DMARC (RFC 7489): _dmarc.DOMAIN, else the organisational domain's (the last two labels: no
 *   public suffix list here), its policy and pct, and whether SPF or DKIM would align with the
 *   From domain as Mailroom sends (the envelope sender is the From address).
 * - MX: the domain receives mail, so that replies and bounces have somewhere to go.
 *
 * A lookup that times out is "could not check" (MR_FINDING_UNKNOWN), never a failure. Answers are
 * kept for their TTL (mr-dns.h) unless the options ask for fresh ones.
 */
#pragma once

#include <gio/gio.h>

#include <json-glib/json-glib.h>

#include "mr-settings.h"

G_BEGIN_DECLS

typedef enum {
  MR_FINDING_PASS,
  MR_FINDING_INFO,
  MR_FINDING_WARNING,
  MR_FINDING_FAIL,
  MR_FINDING_UNKNOWN,     /* could not check */
} MrFindingLevel;

typedef struct {
  char           *check;         /* "spf", "dkim", "dmarc", "mx" */
  MrFindingLevel  level;
  char           *code;          /* "spf-missing", "dmarc-none", … (docs/cli.md) */
  char           *words;         /* what it means and what to do, for a person */
  char           *detail;        /* the record as read, for the expander; or NULL */
  char           *record_name;   /* the TXT record to publish: its name … */
  char           *record_value;  /* … and its text; both NULL when there is nothing to publish */
} MrFinding;

typedef struct {
  const char         *spf_include;     /* the provider's SPF domain, or NULL */
  const char         *server;          /* else the host Mailroom sends through, or NULL */
  const char * const *dkim_selectors;  /* the provider's, or those named; NULL: none known */
  gboolean            fresh;           /* ask the DNS again, not the answers kept (mr-dns.h) */
  const char         *return_path_owner; /* the provider whose envelope sender the mail has (Brevo),
                                          * so SPF is theirs and DMARC aligns through DKIM; or NULL */
} MrDomainCheckOptions;

typedef struct {
  char      *domain;
  GPtrArray *findings;        /* MrFinding, SPF first, then DKIM, DMARC, MX */
} MrDomainReport;

const char     *mr_finding_level_to_string   (MrFindingLevel             level);
MrDomainReport *mr_domain_check              (const char                *domain,
                                              const MrDomainCheckOptions *options,
                                              GCancellable              *cancellable);
/* The same in a thread: @options (copied) may go when this returns. The report is
 * mr_domain_check_finish()'s; G_IO_ERROR_CANCELLED when @cancellable was. */
void            mr_domain_check_async        (const char                *domain,
                                              const MrDomainCheckOptions *options,
                                              GCancellable              *cancellable,
                                              GAsyncReadyCallback        callback,
                                              gpointer                   user_data);
MrDomainReport *mr_domain_check_finish       (GAsyncResult              *result,
                                              GError                   **error);
/* The worst level of the report's findings (UNKNOWN counted worse than FAIL only when nothing
 * failed: a failure found is a failure whatever could not be checked). */
/* Forgets the DNS answers kept for @domain (mr_dns_forget()) and its organisational domain's DMARC
 * record: the next check asks again. What options->fresh does. */
void            mr_domain_forget_answers     (const char                *domain);
MrFindingLevel  mr_domain_report_get_level   (const MrDomainReport      *report);
/* The report as JSON: {"domain", "level", "findings": [{"check", "level", "code", "words",
 * "detail", "record": {"name", "type", "value"} | null}]}. */
char           *mr_domain_report_to_json     (const MrDomainReport      *report);
void            mr_domain_report_free        (MrDomainReport            *report);
/* A TXT record to publish as JSON, {"name", "type": "TXT", "value"}, or null without @value: the
 * form the command line prints (check-domain, company domain). */
void            mr_json_add_txt_record       (JsonBuilder               *builder,
                                              const char                *name,
                                              const char                *value);

/* The check for the way @settings send (profile @app, or NULL): the provider preset's SPF domain
 * and DKIM selectors, else the SMTP server's addresses; for @from_address's domain (a whole
 * address, or a domain). What the command line, the test dialog and the mailshot wizard ask. */
MrDomainReport *mr_domain_check_for_sending  (MrSettings                *settings,
                                              const char                *app,
                                              const char                *from_address,
                                              GCancellable              *cancellable);
/* The options for the way @provider (a preset's id) and @host send, for mail from @from_domain (or
 * NULL): the provider's SPF domain and DKIM selectors, or the server's addresses; none of it for
 * the provider's own domains (gmail.com through Gmail), which it looks after itself. The strings
 * are the options' own: mr_domain_check_options_clear() frees them. */
void            mr_domain_check_options_init_for_provider (MrDomainCheckOptions *options,
                                                           const char           *provider,
                                                           const char           *host,
                                                           const char           *from_domain);
/* The same for the way the settings send for @app through @route ("smtp", "exchange" or "auto",
 * as for mr_mailshot_resolve_route(): through Exchange Online, Office 365's records), with the
 * DKIM selectors the admin named (domains.dkim_selectors). */
void            mr_domain_check_options_init_for (MrDomainCheckOptions *options,
                                                  MrSettings           *settings,
                                                  const char           *app,
                                                  const char           *route,
                                                  const char           *from_domain);
/* Adds the selectors the admin named (domains.dkim_selectors) to the options' own. */
void            mr_domain_check_options_add_selectors (MrDomainCheckOptions *options,
                                                       const char * const   *selectors);
void            mr_domain_check_options_clear (MrDomainCheckOptions *options);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (MrDomainCheckOptions, mr_domain_check_options_clear)

/* For a mailshot to @recipients people: the bulk-sender rule Mailroom can check beside DNS, one-click
 * unsubscribe (RFC 8058, written when mailshot.unsubscribe_url or _mailto is set), asked of those
 * who send 5,000 mails or more a day. */
#define MR_BULK_SENDER_THRESHOLD 5000
void            mr_domain_report_add_bulk_rules (MrDomainReport         *report,
                                              guint                      recipients,
                                              gboolean                   unsubscribe);
/* Whether the report is one a mailshot should not go out with unless asked to: SPF or DMARC
 * fails (a missing DMARC record included: the bulk-sender rules require one). */
gboolean        mr_domain_report_blocks_bulk (const MrDomainReport      *report);
/* Whether a job to @recipients at @per_day a day (0: no limit) fits the provider's daily limit
 * (@provider_limit from one account, 0: not known, @provider its name): a warning when the pace
 * passes it, else how many days the job takes. Replaces the report's earlier "pace" finding, so
 * that it follows the pace as the person changes it. Never blocks. */
void            mr_domain_report_set_pace    (MrDomainReport            *report,
                                              guint                      recipients,
                                              guint                      per_day,
                                              guint                      provider_limit,
                                              const char                *provider);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MrDomainReport, mr_domain_report_free)

G_END_DECLS
