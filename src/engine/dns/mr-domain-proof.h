/* mr-domain-proof.h: the company's sender domains, proved by DNS
 *
 * As the business systems Mailroom mirrors do: adding a domain gives a token, the admin publishes
 * "mailroom-domain-verification=TOKEN" as a TXT record at the domain, and Verify finds it. The
 * company file keeps each domain's state: pending ("domains.pending": "DOMAIN TOKEN"), proved on a
 * date ("domains.proved": "DOMAIN YYYY-MM-DD", and in "domains.verified"), or added by the admin
 * without proof (in "domains.verified" alone, as before; the window marks it). Only a proved or
 * added domain may be a sender's (mr_settings_domain_is_verified()).
 */
#pragma once

#include "mr-settings.h"

G_BEGIN_DECLS

#define MR_DOMAIN_ERROR (mr_domain_error_quark ())
typedef enum {
  MR_DOMAIN_ERROR_NOT_ADDED,       /* no such domain in the company's list */
  MR_DOMAIN_ERROR_NOT_PUBLISHED,   /* its TXT record is not there (yet) */
  MR_DOMAIN_ERROR_UNREACHABLE,     /* DNS could not be asked */
} MrDomainError;
GQuark mr_domain_error_quark (void);

#define MR_DOMAIN_PROOF_PREFIX "mailroom-domain-verification="

typedef enum {
  MR_DOMAIN_PENDING,
  MR_DOMAIN_PROVED,
  MR_DOMAIN_ADDED,                 /* by the admin, without proof */
} MrDomainState;

typedef struct {
  char          *domain;
  MrDomainState  state;
  char          *token;            /* while pending */
  char          *proved_on;        /* YYYY-MM-DD, when proved */
} MrCompanyDomain;

const char      *mr_domain_state_to_string  (MrDomainState    state);   /* "pending", "proved", "added" */
/* Every domain of the company's list, sorted. */
GPtrArray       *mr_company_domains_list    (MrSettings      *settings);
/* The TXT record's text that proves @domain: "mailroom-domain-verification=TOKEN". */
char            *mr_company_domain_record   (const MrCompanyDomain *domain);
/* Adds @domain as pending with a new token (one there already stays as it is) and saves the company
 * file. Errors: MR_SETTINGS_ERROR_INVALID_VALUE (not a domain), those of mr_settings_commit(). */
MrCompanyDomain *mr_company_domain_add      (MrSettings      *settings,
                                             const char      *domain,
                                             GError         **error);
/* Looks for the token at @domain; found, the domain is proved today and may send. Errors:
 * MR_DOMAIN_ERROR (what was found instead, in words), those of mr_settings_commit(). */
MrCompanyDomain *mr_company_domain_verify   (MrSettings      *settings,
                                             const char      *domain,
                                             GCancellable    *cancellable,
                                             GError         **error);
gboolean         mr_company_domain_remove   (MrSettings      *settings,
                                             const char      *domain,
                                             GError         **error);
void             mr_company_domain_free     (MrCompanyDomain *domain);

/* The same on a copy of the company's layer, not saved: for a settings page whose Save writes it.
 * mr_company_domain_find_proof() only asks DNS (no settings: any thread); then
 * mr_company_domain_mark_proved() records it. */
GPtrArray       *mr_company_domains_in      (MrSettingsFile  *file);
MrCompanyDomain *mr_company_domain_add_to   (MrSettingsFile  *file,
                                             const char      *domain,
                                             GError         **error);
gboolean         mr_company_domain_find_proof (const MrCompanyDomain *domain,
                                             GCancellable    *cancellable,
                                             GError         **error);
gboolean         mr_company_domain_mark_proved (MrSettingsFile *file,
                                             const char      *domain,
                                             GError         **error);
gboolean         mr_company_domain_remove_from (MrSettingsFile *file,
                                             const char      *domain,
                                             GError         **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MrCompanyDomain, mr_company_domain_free)

G_END_DECLS
