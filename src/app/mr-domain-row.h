/* mr-domain-row.h: one of the company's sender domains on the Company page
 *
 * An expander row: the domain, its state in words (waiting for its proof, proved on a date, added
 * without proof) and, once checked, its SPF, DKIM and DMARC verdicts at a glance. Open, it shows
 * the TXT record that proves it (with Copy and Verify) while pending, and each finding of the
 * deliverability check (mr-domain-check.h) in words, with the record to publish and a Copy button.
 * Remove and Verify are asked of the page ("remove", "verify"), which owns the settings.
 */
#pragma once

#include <adwaita.h>

#include "mailroom-dns.h"

G_BEGIN_DECLS

#define MR_TYPE_DOMAIN_ROW (mr_domain_row_get_type ())
G_DECLARE_FINAL_TYPE (MrDomainRow, mr_domain_row, MR, DOMAIN_ROW, AdwExpanderRow)

/* @report may be NULL (not checked yet). */
GtkWidget  *mr_domain_row_new          (const MrCompanyDomain *domain,
                                        const MrDomainReport  *report,
                                        gboolean               editable);
const char *mr_domain_row_get_domain   (MrDomainRow           *self);
/* Why Verify did not prove it, shown under the record; NULL clears it. */
void        mr_domain_row_set_problem  (MrDomainRow           *self,
                                        const char            *problem);
/* The text of the Copy button's record for @what ("proof", or a finding's check: "spf", "dmarc"),
 * or NULL: what Copy puts on the clipboard. */
const char *mr_domain_row_get_record   (MrDomainRow           *self,
                                        const char            *what);
GtkWidget  *mr_domain_row_get_verify_button (MrDomainRow      *self);

/* The pieces, for other places that show findings (the mailshot wizard): a finding in words with
 * its level, and a record to publish with a Copy button (@copy_label names it for screen readers). */
GtkWidget  *mr_finding_row_new         (const MrFinding       *finding);
GtkWidget  *mr_record_row_new          (const char            *title,
                                        const char            *text,
                                        const char            *copy_label);

/* The rows of a report's findings: each finding, and the record it asks for with Copy (the record's
 * row carries the finding's check and the record as object data "check" and "record"). */
GPtrArray  *mr_finding_rows_new        (const MrDomainReport  *report);

G_END_DECLS
