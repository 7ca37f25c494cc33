/* mr-proofreader.h: a mailshot's recipients checked against its template before anything is sent
 *
 * One pass over the recipient list (mr-recipients.h) that reports, per row: an empty or invalid
 * address, an address that appeared before (sent once), one on the company's suppression list (not
 * sent; mr-suppression.h), a variable of the template that the row
 * leaves empty, a row that cannot be read, a per-recipient attachment that is missing or outside its
 * folder, a message estimated over the server's SIZE limit, a row the user chose to leave out; and,
 * once for the file, a variable no column provides.
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
                                  * "empty-variable", "missing-column", "attachment-missing",
                                  * "attachment-outside", "too-big", "excluded", "over-limit",
                                  * "bad-name" */
  char              *message;
} MrProblem;

typedef struct {
  char      *address_column;
  char      *sheet;              /* the sheet read, for a spreadsheet; NULL for CSV and JSON */
  guint      hidden_rows;        /* rows the spreadsheet hides: passed over, not among the rows */
  guint      rows;               /* data rows read */
  guint      sendable;           /* rows that will be sent: no error, not a duplicate */
  guint      rows_with_errors;   /* not sent, for an error (and not left out) */
  guint      left_out;           /* not sent: left out by the user (MrProofOptions.excluded_rows) */
  guint      repeated;           /* not sent: the address of an earlier row, which gets the mail */
  guint      suppressed;         /* not sent: on the company's suppression list */
  guint      over_limit;         /* not sent: after MrProofOptions.limit */
  /* Every data row is counted once: rows = sendable + rows_with_errors + left_out + repeated +
   * suppressed + over_limit. */
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

typedef struct {
  const char *sheet;             /* the sheet of an .xlsx or .ods file; NULL: the first shown */
  const char *address_column;    /* the column of the addresses; NULL: found by its name ("email",
                                  * "e-mail", "email address", "mail"; any case) */
  const char *name_column;       /* the column of the recipients' names (shown in To), or NULL */
  const char *attachment_column; /* a column naming each row's own attachment, or NULL */
  const char *attachments_dir;   /* the folder those names are in: absolute paths and ".." are refused */
  GHashTable *excluded_rows;     /* rows (GUINT_TO_POINTER) the user left out, or NULL */
  gboolean    send_duplicates;   /* a repeated address gets a mail for each row */
  guint64     size_limit;        /* the server's SIZE in bytes; 0: not known */
  guint       limit;             /* only the first @limit rows that can be sent are; 0: all */
} MrProofOptions;

/* mr_proofread_full() with the address column alone. */
MrProofReport *mr_proofread              (MrTemplate     *template_,
                                          const char     *recipients,
                                          const char     *address_column,
                                          MrProofRowFunc  row_func,
                                          gpointer        user_data,
                                          GError        **error);
/* @options may be NULL. @row_func may be NULL. Errors as above, and G_FILE_ERROR_NOENT when
 * @options names an attachment folder that does not exist. */
MrProofReport *mr_proofread_full         (MrTemplate            *template_,
                                          const char            *recipients,
                                          const MrProofOptions  *options,
                                          MrProofRowFunc         row_func,
                                          gpointer               user_data,
                                          GError               **error);

/* A row's own attachment: @name, relative, inside @dir (after following links). Returns the path,
 * NULL with G_FILE_ERROR_ACCES (outside the folder) or G_FILE_ERROR_NOENT (no such file). */
char          *mr_proof_resolve_attachment (const char *dir,
                                            const char *name,
                                            GError    **error);
void           mr_proof_report_free      (MrProofReport  *report);
const char    *mr_problem_severity_to_string (MrProblemSeverity severity);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MrProofReport, mr_proof_report_free)

G_END_DECLS
