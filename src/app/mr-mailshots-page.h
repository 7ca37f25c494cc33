/* mr-mailshots-page.h: the Mailshots page: a wizard that checks a list before it is sent, and each
 * job's progress, recipients and report
 *
 * The page is a view over mr-mailshot.h: it creates jobs, runs them in a worker thread (one per
 * job, with its own journal connection) and watches the journal, so that it shows a job sent by
 * mailroom-cli or the timer just as well. Closing the window stops a job between two mails; it goes
 * on when the window opens again (or with the systemd timer).
 */
#pragma once

#include <adwaita.h>

#include "mr-message-view.h"

#include "mailroom-mailshot.h"
#include "mailroom-settings.h"

G_BEGIN_DECLS

#define MR_TYPE_MAILSHOTS_PAGE (mr_mailshots_page_get_type ())

G_DECLARE_FINAL_TYPE (MrMailshotsPage, mr_mailshots_page, MR, MAILSHOTS_PAGE, AdwBin)

MrMailshotsPage     *mr_mailshots_page_new              (MrSettings      *settings);

/* The wizard, step by step, as the buttons and file choosers drive it (and tests). */
void                 mr_mailshots_page_new_mailshot     (MrMailshotsPage *self);
/* The chosen template in its editor window, over the wizard, as Edit does (mr-template-editor.h);
 * once saved, the wizard goes on with it. NULL without a template. */
GtkWindow           *mr_mailshots_page_edit_template    (MrMailshotsPage *self);
void                 mr_mailshots_page_set_recipients   (MrMailshotsPage *self,
                                                         const char      *path);
/* The sheet of a workbook with more than one, as the sheet row chooses it. */
void                 mr_mailshots_page_set_sheet        (MrMailshotsPage *self,
                                                         const char      *sheet);
void                 mr_mailshots_page_set_attachments_folder (MrMailshotsPage *self,
                                                         const char      *path);
void                 mr_mailshots_page_set_row_left_out (MrMailshotsPage *self,
                                                         guint            row,
                                                         gboolean         left_out);
void                 mr_mailshots_page_next             (MrMailshotsPage *self);
/* The preview step: a row by its number, or the row with an address (or a number typed); the row
 * shown; its view; the shown row's mail to the samples address. */
void                 mr_mailshots_page_show_preview_row (MrMailshotsPage *self,
                                                         guint            row);
void                 mr_mailshots_page_find_preview     (MrMailshotsPage *self,
                                                         const char      *text);
guint                mr_mailshots_page_get_preview_row  (MrMailshotsPage *self);
MrMessageView       *mr_mailshots_page_get_preview_view (MrMailshotsPage *self);
void                 mr_mailshots_page_send_shown_sample (MrMailshotsPage *self);
/* "setup", "check", "preview", "start" in the wizard; "jobs" or "job" otherwise. */
const char          *mr_mailshots_page_get_step         (MrMailshotsPage *self);
/* The job's counts as shown ("497 of 497 sent · 3 rows not sent …"). */
const char      *mr_mailshots_page_get_counts (MrMailshotsPage *self);
/* The start chosen in the picker (Unix time), 0 for at once. */
gint64           mr_mailshots_page_get_start (MrMailshotsPage *self);
/* Why Next is off on the first step, in words; NULL when it is on. */
const char      *mr_mailshots_page_get_next_reason (MrMailshotsPage *self);
gboolean             mr_mailshots_page_get_busy         (MrMailshotsPage *self);
const MrProofReport *mr_mailshots_page_get_report       (MrMailshotsPage *self);
/* The job the job view shows, 0 for none; its last status read, or NULL. */
gint64               mr_mailshots_page_get_job          (MrMailshotsPage *self);
const MrMailshotStatus *mr_mailshots_page_get_status    (MrMailshotsPage *self);
guint                mr_mailshots_page_get_n_recipients_shown (MrMailshotsPage *self);
/* The text of a cell of the job's list (columns: row, address, state, the reply in words). */
const char          *mr_mailshots_page_get_cell (MrMailshotsPage *self,
                                                 guint            position,
                                                 guint            column);
void                 mr_mailshots_page_export_report    (MrMailshotsPage *self,
                                                         const char      *path);
/* Stops the jobs this window sends, between two mails (they go on when a window opens again), and
 * the page's timers: the window is closing. */
void                 mr_mailshots_page_stop             (MrMailshotsPage *self);
void                 mr_mailshots_page_show_job         (MrMailshotsPage *self,
                                                         gint64           job);

G_END_DECLS
