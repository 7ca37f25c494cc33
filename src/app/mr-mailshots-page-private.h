/* mr-mailshots-page-private.h: what the parts of the Mailshots page share
 *
 * mr-mailshots-page.c is the page (its object, the template, the shared state); the wizard's first
 * step is mr-mailshots-setup.c, its checks, preview and start mr-mailshots-check.c, and the jobs (the
 * list, a job's view, running them) mr-mailshots-jobs.c. Each part binds its own callbacks
 * (mr_mailshots_PART_class_init()) and connects its own signals (mr_mailshots_PART_init()).
 */
#pragma once

#include <adwaita.h>

#include "mailroom-dns.h"
#include "mailroom-mailshot.h"
#include "mr-mailshots-page.h"
#include "mr-message-view.h"
#include "mr-row-model.h"

G_BEGIN_DECLS

/* Long reports: the first problems are listed, the rest counted (the CSV report has every row). */
#define MAX_PROBLEMS_SHOWN 500

struct _MrMailshotsPage
{
  AdwBin             parent_instance;

  MrSettings        *settings;
  GCancellable      *cancellable;    /* the page's reads and checks */
  GHashTable        *running;        /* job → GCancellable, jobs this process sends */
  GPtrArray         *templates;      /* MrTemplate, as the combo row lists them */
  char              *recipients_path;
  char              *sheet;          /* the sheet chosen, for a workbook with more than one; NULL: the first */
  char              *folder_path;
  GStrv              columns;
  GHashTable        *left_out;       /* rows the user chose not to send */
  GHashTable        *error_rows;     /* rows of the report with an error; NULL: not gathered yet */
  MrProofReport     *report;
  guint              busy;
  guint              refresh_source;
  guint              due_source;
  gboolean           refreshing;
  gint64             job;
  MrMailshotStatus  *status;
  GPtrArray         *recipients;     /* MrMailshotRecipient of the job shown */
  MrRowModel        *rows_model;     /* one item a recipient, by position */
  GHashTable        *bound_cells;    /* GtkListItem on screen */
  guint              grow_tick;      /* adds the first rows a few a frame */
  gint64             rate_time;      /* the last progress sample: when, and how many were done */
  guint              rate_done;
  double             rate;           /* mails a minute, smoothed */

  GtkStack          *stack;
  GtkWidget         *no_jobs_label;
  GtkWidget         *new_button;
  GtkListBox        *jobs_list;
  GtkWidget         *timer_list;
  GtkWidget         *remove_timer_button;
  GtkStack          *steps;
  AdwComboRow       *template_row;
  GtkWidget         *edit_template_button;
  AdwPreferencesGroup *deliverability_group;
  GtkListBox        *deliverability_list;
  GtkWidget         *send_anyway_list;
  GtkSwitch         *send_anyway_switch;
  MrDomainReport    *deliverability;
  GPtrArray         *deliverability_rows;
  GCancellable      *deliverability_cancellable;  /* while the From domain's DNS is asked */
  guint              deliverability_sendable;
  gboolean           deliverability_unsubscribe;
  guint              deliverability_limit;      /* the provider's mails a day from one account; 0: not known */
  char              *deliverability_provider;
  AdwComboRow       *via_row;
  AdwActionRow      *recipients_row;
  AdwComboRow       *sheet_row;
  AdwComboRow       *address_row;
  AdwComboRow       *name_row;
  AdwComboRow       *attachment_row;
  AdwActionRow      *folder_row;
  GtkSwitch         *once_switch;
  GtkSpinButton     *per_minute_spin;
  GtkSpinButton     *per_day_spin;
  GtkSpinButton     *connections_spin;
  AdwActionRow      *start_row;
  GtkWidget         *start_clear_button;
  GtkMenuButton     *start_menu_button;
  GtkPopover        *start_popover;
  GtkCalendar       *start_calendar;
  GtkSpinButton     *start_hour_spin;
  GtkSpinButton     *start_minute_spin;
  GtkLabel          *start_problem;
  GtkWidget         *start_set_button;
  gint64             start_at;        /* the chosen start (Unix time), 0: at once */
  AdwPreferencesGroup *check_group;
  GtkLabel          *check_summary;
  GtkListBox        *problems_list;
  GtkWidget         *preview_previous_button;
  GtkLabel          *preview_position_label;
  GtkWidget         *preview_next_button;
  GtkSearchEntry    *preview_search_entry;
  MrMessageView     *preview_view;
  GtkWidget         *sample_row_button;
  guint              preview_row;    /* the row shown; 0: none yet */
  AdwEntryRow       *samples_to_row;
  GtkSpinButton     *samples_spin;
  GtkWidget         *samples_button;
  AdwStatusPage     *start_page;
  GtkWidget         *start_button;
  GtkWidget         *back_button;
  GtkWidget         *next_button;
  GtkLabel          *next_reason;
  GtkLabel          *step_label;
  GtkSpinner        *busy_spinner;
  GtkLabel          *job_title;
  GtkLabel          *job_state;
  GtkProgressBar    *job_progress;
  GtkLabel          *job_counts;
  GtkCheckButton    *not_sent_check;
  AdwPreferencesGroup *job_done_group;
  AdwActionRow      *job_done_row;
  GtkImage          *job_done_icon;
  GtkWidget         *open_sent_button;
  GArray            *shown;           /* with "not sent only": the positions in recipients shown */
  char              *cell_text;       /* the last mr_mailshots_page_get_cell() */
  GtkColumnView     *recipients_view;
  GtkWidget         *pause_button;
  GtkWidget         *resume_button;
  GtkWidget         *cancel_button;
  GtkWidget         *export_button;
};

/* ---- Each part's set-up ------------------------------------------------------------------------ */

void mr_mailshots_setup_class_init (GtkWidgetClass  *widget_class);
void mr_mailshots_setup_init       (MrMailshotsPage *self);
void mr_mailshots_check_class_init (GtkWidgetClass  *widget_class);
void mr_mailshots_check_init       (MrMailshotsPage *self);
void mr_mailshots_jobs_class_init  (GtkWidgetClass  *widget_class);
void mr_mailshots_jobs_init        (MrMailshotsPage *self);

/* ---- What the parts call of each other --------------------------------------------------------- */

/* The wizard's steps by name: "setup", "check", "preview", "start". */
#define MR_MAILSHOTS_N_STEPS 4
extern const char * const mr_mailshots_step_names[MR_MAILSHOTS_N_STEPS];

/* A file chooser's answer: the path chosen, handed to the page. */
typedef void (*PathChosenFunc) (MrMailshotsPage *self,
                                const char      *path);

typedef struct {
  MrTemplate        *template_;      /* in @templates, which the choice keeps alive for its thread */
  GPtrArray         *templates;
  char              *recipients;
  char              *sheet;
  char              *address_column;
  char              *attachment_column;
  char              *name_column;
  char              *folder;
  GHashTable        *left_out;
  MrMailshotOptions  options;
  guint              row;
  int                direction;      /* the preview: 0 that row, 1 the next the list has, -1 the previous */
  char              *find;           /* the preview: the row with this address */
  char              *to;
  guint              count;
} Choice;

typedef struct {
  gint64     job;
  gboolean   want_recipients;
  gboolean   timer;            /* the systemd timer is installed */
  GPtrArray *jobs;
  MrMailshotStatus *status;
  GPtrArray *recipients;
} Refresh;

/* mr-mailshots-page.c */
void mr_mailshots_open_sent (MrMailshotsPage *self,
                             gint64           job);
/* A fresh copy of the settings for a worker thread: the window may save new ones meanwhile. */
MrSettings *mr_mailshots_load_settings (GError **error);
void mr_mailshots_notice (MrMailshotsPage *self,
                          const char      *message);
void mr_mailshots_set_busy (MrMailshotsPage *self,
                            gboolean         busy);

/* mr-mailshots-setup.c */
void mr_mailshots_choose_path (MrMailshotsPage       *self,
                               GtkFileChooserNative  *chooser,
                               PathChosenFunc         chosen);
MrTemplate *mr_mailshots_selected_template (MrMailshotsPage *self);
/* What the first step still lacks, in words, or NULL when it is complete. */
const char *mr_mailshots_setup_problem (MrMailshotsPage *self);
void mr_mailshots_show_step (MrMailshotsPage *self,
                             const char      *step);
/* Next goes only where it can: until the step is complete it is off, and the step says why. */
void mr_mailshots_update_next (MrMailshotsPage *self);
void mr_mailshots_update_step_controls (MrMailshotsPage *self);
/* A task of the wizard: runs in a thread with a Choice and reports to the page. */
GTask *mr_mailshots_wizard_task (MrMailshotsPage     *self,
                                 gpointer             source_tag,
                                 GAsyncReadyCallback  callback);

/* mr-mailshots-check.c */
void mr_mailshots_check_recipients (MrMailshotsPage *self);
char *mr_mailshots_format_duration (gint64 seconds);
void mr_mailshots_load_preview (MrMailshotsPage *self,
                                guint            row,
                                int              direction,
                                const char      *find);
void mr_mailshots_show_start (MrMailshotsPage *self);

/* mr-mailshots-jobs.c */
gboolean mr_mailshots_on_refresh_timer (gpointer user_data);
void mr_mailshots_refresh (MrMailshotsPage *self);
void mr_mailshots_refresh_free (Refresh *data);
void mr_mailshots_refresh_thread (GTask        *task,
                                  gpointer      source_object,
                                  gpointer      task_data,
                                  GCancellable *cancellable);
void mr_mailshots_refreshed (GObject      *source,
                             GAsyncResult *result,
                             gpointer      user_data);
/* Jobs whose time has come, when the window opens and every minute: cut off when it last closed,
 * scheduled, or with retries due. Paused and finished jobs are left alone. */
void mr_mailshots_resume_due_jobs (MrMailshotsPage *self,
                                   GPtrArray       *jobs);
void mr_mailshots_run_job (MrMailshotsPage *self,
                           gint64           job);
void mr_mailshots_update_rows (MrMailshotsPage *self);

G_END_DECLS
