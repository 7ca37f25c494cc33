/* mr-proofreader.h: a mailshot's recipients checked against its template before anything is sent
 *
 * One pass over the recipient list (mr-recipients.h) that reports, per row: an empty or invalid
 * address, an address that appeared before (sent once), one on the company's suppression list (not
 * sent; mr-suppression.h), a variable of the template that the row
 * leaves empty, a row that cannot be read; and, once for the file, a variable no column provides.
 * Problems are errors (that row is not sent) or warnings (it is sent; look first). With a strict
 * template, a variable without a value is an error.
 *
 * Call order: mr_proofread(), then read the report. Errors (the file as a whole): those of
 * mr_recipient_reader_open(), MR_RECIPIENTS_ERROR_NO_ADDRESS_COLUMN, and the template's own syntax
 * errors (MR_TEMPLATE_ERROR_SYNTAX).
 */
#pragma once

#include "mr-recipients.h"
#include "mr-template.h"

G_BEGIN_DECLS

typedef enum {
  MR_PROBLEM_ERROR,     /* the row is not sent */
  MR_PROBLEM_WARNING,   /* the row is sent (or, for a duplicate, sent once) */
} MrProblemSeverity;

typedef struct {
  guint              row;        /* as a spreadsheet numbers it, the header being 1; 0: the whole file */
  MrProblemSeverity  severity;
  const char        *kind;       /* "no-address", "invalid-address", "duplicate", "suppressed", "unreadable",
                                  * "empty-variable", "missing-column" */
  char              *message;
} MrProblem;

typedef struct {
  char      *address_column;
  guint      rows;               /* data rows read */
  guint      sendable;           /* rows that will be sent: no error, not a duplicate */
  guint      rows_with_errors;
  guint      warnings;
  GPtrArray *problems;           /* MrProblem, in row order */
} MrProofReport;

/* Called for every data row, in order: @fields and @address are NULL for a row that cannot be
 * read; @problem is NULL when the row will be sent, otherwise why not (the first error, or that it
 * repeats an earlier address). */
typedef void (*MrProofRowFunc) (guint               row,
                                const char         *address,
                                const char * const *fields,
                                const char         *problem,
                                gpointer            user_data);

/* @address_column: the column that holds the addresses, or NULL to find it by its name ("email",
 * "e-mail", "email address", "mail"; any case). @row_func may be NULL. */
MrProofReport *mr_proofread              (MrTemplate     *template_,
                                          const char     *recipients,
                                          const char     *address_column,
                                          MrProofRowFunc  row_func,
                                          gpointer        user_data,
                                          GError        **error);
void           mr_proof_report_free      (MrProofReport  *report);
const char    *mr_problem_severity_to_string (MrProblemSeverity severity);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MrProofReport, mr_proof_report_free)

G_END_DECLS
