/* mr-mailshots-page.c: the Mailshots page */

#include "config.h"

#include <glib/gi18n.h>

#include "mr-delivery.h"
#include "mr-domain-check.h"
#include "mr-domain-row.h"
#include "mr-key-labels.h"
#include "mr-mailshots-page.h"
#include "mr-message-view.h"
#include "mr-smtp-error.h"
#include "mr-routes.h"
#include "mr-template-editor.h"
#include "mr-recipients.h"
#include "mr-row-model.h"
#include "mr-spreadsheet.h"
#include "mr-timer.h"

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

G_DEFINE_FINAL_TYPE (MrMailshotsPage, mr_mailshots_page, ADW_TYPE_BIN)

enum {
  NOTICE,
  OPEN_SENT,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static const char * const step_names[] = { "setup", "check", "preview", "start" };

static void refresh (MrMailshotsPage *self);
static void run_job (MrMailshotsPage *self, gint64 job);
static void update_next (MrMailshotsPage *self);
static void update_rows (MrMailshotsPage *self);

static void
notice (MrMailshotsPage *self,
        const char      *message)
{
  g_signal_emit (self, signals[NOTICE], 0, message);
}

static void
set_busy (MrMailshotsPage *self,
          gboolean         busy)
{
  self->busy += busy ? 1 : -1;
  gtk_spinner_set_spinning (self->busy_spinner, self->busy > 0);
  gtk_widget_set_sensitive (self->back_button, self->busy == 0);
  update_next (self);
}

gboolean
mr_mailshots_page_get_busy (MrMailshotsPage *self)
{
  return self->busy > 0 || self->refreshing || self->deliverability_cancellable != NULL;
}

const MrProofReport *
mr_mailshots_page_get_report (MrMailshotsPage *self)
{
  return self->report;
}

gint64
mr_mailshots_page_get_job (MrMailshotsPage *self)
{
  return self->job;
}

const MrMailshotStatus *
mr_mailshots_page_get_status (MrMailshotsPage *self)
{
  return self->status;
}

guint
mr_mailshots_page_get_n_recipients_shown (MrMailshotsPage *self)
{
  return g_list_model_get_n_items (G_LIST_MODEL (self->rows_model));
}

const char *
mr_mailshots_page_get_step (MrMailshotsPage *self)
{
  const char *page = gtk_stack_get_visible_child_name (self->stack);

  return g_str_equal (page, "wizard") ? gtk_stack_get_visible_child_name (self->steps) : page;
}

/* A fresh copy of the settings for a worker thread: the window may save new ones meanwhile. */
static MrSettings *
load_settings (GError **error)
{
  g_autoptr(MrSettings) settings = mr_settings_new (NULL, NULL);

  if (!mr_settings_load (settings, error))
    return NULL;
  return g_steal_pointer (&settings);
}

/* ---- What the wizard has chosen ---------------------------------------------------------------- */

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

static void
choice_free (Choice *choice)
{
  g_clear_pointer (&choice->templates, g_ptr_array_unref);
  g_free (choice->recipients);
  g_free (choice->address_column);
  g_free (choice->sheet);
  g_free (choice->attachment_column);
  g_free (choice->name_column);
  g_free (choice->folder);
  g_clear_pointer (&choice->left_out, g_hash_table_unref);
  g_free (choice->to);
  g_free (choice->find);
  g_free (choice);
}

static const char *
selected_column (AdwComboRow *row,
                 gboolean     first_is_none)
{
  GtkStringObject *item = adw_combo_row_get_selected_item (row);
  guint selected = adw_combo_row_get_selected (row);

  if (item == NULL || (first_is_none && selected == 0))
    return NULL;
  return gtk_string_object_get_string (item);
}

static MrTemplate *
selected_template (MrMailshotsPage *self)
{
  guint selected = adw_combo_row_get_selected (self->template_row);

  if (self->templates == NULL || selected >= self->templates->len)
    return NULL;
  return g_ptr_array_index (self->templates, selected);
}

/* ---- The start: a day and a time, picked ------------------------------------------------------- */

static void
show_start_choice (MrMailshotsPage *self)
{
  if (self->start_at == 0)
    adw_action_row_set_subtitle (self->start_row, _("At once"));
  else
    {
      g_autoptr(GDateTime) when = g_date_time_new_from_unix_local (self->start_at);
      /* TRANSLATORS: when a mailshot starts, as strftime() writes it: "Monday 04/01/2099, 08:00" */
      /* xgettext:no-c-format */
      g_autofree char *text = g_date_time_format (when, _("%A %x, %H:%M"));

      adw_action_row_set_subtitle (self->start_row, text);
    }
  gtk_widget_set_visible (self->start_clear_button, self->start_at != 0);
}

/* Opening the picker: the chosen start, or tomorrow at 08:00. */
static void
on_start_popover_show (MrMailshotsPage *self)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autoptr(GDateTime) tomorrow = g_date_time_add_days (now, 1);
  g_autoptr(GDateTime) when = self->start_at ? g_date_time_new_from_unix_local (self->start_at)
                                             : g_date_time_new_local (g_date_time_get_year (tomorrow),
                                                                      g_date_time_get_month (tomorrow),
                                                                      g_date_time_get_day_of_month (tomorrow), 8, 0, 0);

  gtk_calendar_select_day (self->start_calendar, when);
  gtk_spin_button_set_value (self->start_hour_spin, g_date_time_get_hour (when));
  gtk_spin_button_set_value (self->start_minute_spin, g_date_time_get_minute (when));
  gtk_widget_set_visible (GTK_WIDGET (self->start_problem), FALSE);
}

static GDateTime *
picked_start (MrMailshotsPage *self)
{
  g_autoptr(GDateTime) day = gtk_calendar_get_date (self->start_calendar);

  return g_date_time_new_local (g_date_time_get_year (day), g_date_time_get_month (day),
                                g_date_time_get_day_of_month (day), gtk_spin_button_get_value_as_int (self->start_hour_spin),
                                gtk_spin_button_get_value_as_int (self->start_minute_spin), 0);
}

static void
on_start_set (MrMailshotsPage *self)
{
  g_autoptr(GDateTime) when = picked_start (self);
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();

  /* A time gone by cannot be a start: said in the picker, which stays open. */
  if (g_date_time_compare (when, now) <= 0)
    {
      gtk_label_set_text (self->start_problem, _("That time has passed: choose a later one, or start at once"));
      gtk_widget_set_visible (GTK_WIDGET (self->start_problem), TRUE);
      return;
    }
  self->start_at = g_date_time_to_unix (when);
  show_start_choice (self);
  gtk_popover_popdown (self->start_popover);
}

static void
on_start_clear (MrMailshotsPage *self)
{
  self->start_at = 0;
  show_start_choice (self);
}

/* Two digits for the minutes: 08:05, not 8:5. */
static gboolean
on_time_spin_output (GtkSpinButton *spin)
{
  g_autofree char *text = g_strdup_printf ("%02d", gtk_spin_button_get_value_as_int (spin));

  if (g_strcmp0 (text, gtk_editable_get_text (GTK_EDITABLE (spin))) != 0)
    gtk_editable_set_text (GTK_EDITABLE (spin), text);
  return TRUE;
}

gint64
mr_mailshots_page_get_start (MrMailshotsPage *self)
{
  return self->start_at;
}

static Choice *
current_choice (MrMailshotsPage *self)
{
  Choice *choice = g_new0 (Choice, 1);
  MrMailshotOptions defaults = MR_MAILSHOT_OPTIONS_INIT;
  GHashTableIter iter;
  gpointer row;

  choice->template_ = selected_template (self);
  choice->templates = self->templates ? g_ptr_array_ref (self->templates) : NULL;
  choice->recipients = g_strdup (self->recipients_path);
  choice->sheet = g_strdup (self->sheet);
  choice->address_column = g_strdup (selected_column (self->address_row, FALSE));
  choice->attachment_column = g_strdup (selected_column (self->attachment_row, TRUE));
  choice->name_column = g_strdup (selected_column (self->name_row, TRUE));
  choice->folder = choice->attachment_column ? g_strdup (self->folder_path) : NULL;
  choice->left_out = g_hash_table_new (NULL, NULL);
  g_hash_table_iter_init (&iter, self->left_out);
  while (g_hash_table_iter_next (&iter, &row, NULL))
    g_hash_table_add (choice->left_out, row);

  choice->options = defaults;
  choice->options.app = choice->template_ ? choice->template_->app : NULL;
  /* As chosen; the template's route unless changed ("auto": the company's preferred transport). */
  choice->options.route = mr_route_for_row (adw_combo_row_get_selected (self->via_row));
  choice->options.proof.sheet = choice->sheet;
  choice->options.proof.address_column = choice->address_column;
  choice->options.proof.attachment_column = choice->attachment_column;
  choice->options.proof.name_column = choice->name_column;
  choice->options.proof.attachments_dir = choice->folder;
  choice->options.proof.excluded_rows = choice->left_out;
  choice->options.proof.send_duplicates = !gtk_switch_get_active (self->once_switch);
  choice->options.proof.size_limit = mr_delivery_get_known_size_limit (self->settings, choice->options.app);
  choice->options.per_minute = gtk_spin_button_get_value_as_int (self->per_minute_spin);
  choice->options.per_day = gtk_spin_button_get_value_as_int (self->per_day_spin);
  choice->options.connections = gtk_spin_button_get_value_as_int (self->connections_spin);
  choice->options.start_at = self->start_at;
  choice->row = self->preview_row;
  choice->to = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->samples_to_row)));
  choice->count = gtk_spin_button_get_value_as_int (self->samples_spin);
  return choice;
}

/* A task of the wizard: runs in a thread with a Choice and reports to the page. */
static GTask *
wizard_task (MrMailshotsPage     *self,
             gpointer             source_tag,
             GAsyncReadyCallback  callback)
{
  GTask *task = g_task_new (self, self->cancellable, callback, NULL);

  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, current_choice (self), (GDestroyNotify) choice_free);
  set_busy (self, TRUE);
  return task;
}

/* ---- Step 1: template and recipients ---------------------------------------------------------- */

/* What the first step still lacks, in words, or NULL when it is complete. */
static const char *
setup_problem (MrMailshotsPage *self)
{
  MrTemplate *template_ = selected_template (self);

  if (template_ == NULL)
    return _("Choose a template first; templates are made in Compose (Save as Template)");
  /* Nothing could go: said before the list is even read. */
  switch (mr_delivery_check_ready (self->settings, template_->app, mr_route_for_row (adw_combo_row_get_selected (self->via_row)),
                                   template_->from_address))
    {
    case MR_DELIVERY_NO_FROM:
      return _("No From address yet: add the address mail is sent from in the settings first");
    case MR_DELIVERY_NO_EXCHANGE:
      return _("Exchange is not set up: choose SMTP under “Send via”");
    case MR_DELIVERY_NO_SERVER:
      return _("No mail server is set up yet");
    case MR_DELIVERY_READY:
    default:
      break;
    }
  if (self->recipients_path == NULL || self->columns == NULL)
    return _("Choose the recipients: a spreadsheet or a CSV file");
  if (selected_column (self->attachment_row, TRUE) != NULL && self->folder_path == NULL)
    return _("Choose the folder the attachments are in");
  return NULL;
}

/* Next goes only where it can: until the step is complete it is off, and the step says why. */
static void
update_next (MrMailshotsPage *self)
{
  const char *step = gtk_stack_get_visible_child_name (self->steps);
  const char *problem = step != NULL && g_str_equal (step, "setup") ? setup_problem (self) : NULL;

  gtk_widget_set_sensitive (self->next_button, self->busy == 0 && problem == NULL);
  gtk_widget_set_tooltip_text (self->next_button, problem);
  gtk_label_set_text (self->next_reason, problem ? problem : "");
  gtk_widget_set_visible (GTK_WIDGET (self->next_reason), problem != NULL);
}

const char *
mr_mailshots_page_get_next_reason (MrMailshotsPage *self)
{
  return gtk_widget_get_visible (GTK_WIDGET (self->next_reason)) ? gtk_label_get_text (self->next_reason) : NULL;
}

static void
update_step_controls (MrMailshotsPage *self)
{
  const char *step = gtk_stack_get_visible_child_name (self->steps);
  GtkStackPage *page = gtk_stack_get_page (self->steps, gtk_stack_get_visible_child (self->steps));
  guint index = 0;
  g_autofree char *label = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (step_names); i++)
    if (g_str_equal (step, step_names[i]))
      index = i;
  label = g_strdup_printf (_("Step %u of %u: %s"), index + 1, (guint) G_N_ELEMENTS (step_names),
                           gtk_stack_page_get_title (page));
  gtk_label_set_text (self->step_label, label);
  gtk_widget_set_visible (self->next_button, index + 1 < G_N_ELEMENTS (step_names));
  gtk_button_set_label (GTK_BUTTON (self->back_button), index == 0 ? _("_Cancel") : _("_Back"));
  update_next (self);
}

static void
show_step (MrMailshotsPage *self,
           const char      *step)
{
  gtk_stack_set_visible_child_name (self->stack, "wizard");
  gtk_stack_set_visible_child_name (self->steps, step);
  update_step_controls (self);
}

static void
on_attachment_column_changed (MrMailshotsPage *self)
{
  gtk_widget_set_visible (GTK_WIDGET (self->folder_row), selected_column (self->attachment_row, TRUE) != NULL);
  update_next (self);
}

/* What the recipient list's first row and the workbook say: read in a thread. */
typedef struct {
  GStrv  columns;
  char  *sheet;    /* the sheet read; NULL for CSV and JSON */
  GStrv  sheets;   /* the workbook's sheets shown */
} ListHead;

static void
list_head_free (ListHead *head)
{
  g_strfreev (head->columns);
  g_free (head->sheet);
  g_strfreev (head->sheets);
  g_free (head);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ListHead, list_head_free)

/* The sheet row lists the workbook's sheets when there is a choice, the one read selected. */
static void
show_sheets (MrMailshotsPage *self,
             ListHead        *head)
{
  guint count = head->sheets ? g_strv_length (head->sheets) : 0;
  guint selected = 0;

  gtk_widget_set_visible (GTK_WIDGET (self->sheet_row), count > 1);
  if (count <= 1)
    return;
  for (guint i = 0; i < count; i++)
    if (g_strcmp0 (head->sheets[i], head->sheet) == 0)
      selected = i;
  g_signal_handlers_block_matched (self->sheet_row, G_SIGNAL_MATCH_DATA, 0, 0, NULL, NULL, self);
  {
    g_autoptr(GtkStringList) names = gtk_string_list_new ((const char * const *) head->sheets);

    adw_combo_row_set_model (self->sheet_row, G_LIST_MODEL (names));
  }
  adw_combo_row_set_selected (self->sheet_row, selected);
  g_signal_handlers_unblock_matched (self->sheet_row, G_SIGNAL_MATCH_DATA, 0, 0, NULL, NULL, self);
}

static void
columns_read (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  MrMailshotsPage *self = MR_MAILSHOTS_PAGE (source);
  g_autoptr(GError) error = NULL;
  g_autoptr(ListHead) head = g_task_propagate_pointer (G_TASK (result), &error);
  GStrv columns;
  g_autoptr(GtkStringList) names = NULL;
  g_autoptr(GtkStringList) attachment_names = NULL;
  g_autoptr(GtkStringList) name_names = NULL;
  guint address = 0, name = 0;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  set_busy (self, FALSE);
  if (head == NULL)
    {
      g_autofree char *words = mr_key_words (error->message);

      adw_action_row_set_subtitle (self->recipients_row, words);
      g_clear_pointer (&self->recipients_path, g_free);
      g_clear_pointer (&self->sheet, g_free);
      gtk_widget_set_visible (GTK_WIDGET (self->sheet_row), FALSE);
      update_next (self);
      return;
    }
  columns = head->columns;
  {
    g_autofree char *file_name = g_path_get_basename (self->recipients_path);
    adw_action_row_set_subtitle (self->recipients_row, file_name);
  }
  show_sheets (self, head);
  g_strfreev (self->columns);
  self->columns = g_strdupv (columns);
  names = gtk_string_list_new ((const char * const *) columns);
  attachment_names = gtk_string_list_new (NULL);
  name_names = gtk_string_list_new (NULL);
  gtk_string_list_append (attachment_names, _("None"));
  gtk_string_list_append (name_names, _("None"));
  for (guint i = 0; columns[i] != NULL; i++)
    {
      static const char * const guesses[] = { "email", "e-mail", "email address", "e-mail address", "mail", NULL };
      static const char * const name_guesses[] = { "name", "full name", "fullname", NULL };

      gtk_string_list_append (attachment_names, columns[i]);
      gtk_string_list_append (name_names, columns[i]);
      for (guint g = 0; guesses[g] != NULL; g++)
        if (g_ascii_strcasecmp (columns[i], guesses[g]) == 0 && address == 0)
          address = i + 1;
      for (guint g = 0; name_guesses[g] != NULL; g++)
        if (g_ascii_strcasecmp (columns[i], name_guesses[g]) == 0 && name == 0)
          name = i + 1;
    }
  adw_combo_row_set_model (self->address_row, G_LIST_MODEL (names));
  adw_combo_row_set_selected (self->address_row, address > 0 ? address - 1 : 0);
  adw_combo_row_set_model (self->attachment_row, G_LIST_MODEL (attachment_names));
  adw_combo_row_set_selected (self->attachment_row, 0);
  adw_combo_row_set_model (self->name_row, G_LIST_MODEL (name_names));
  adw_combo_row_set_selected (self->name_row, name);
  gtk_widget_set_sensitive (GTK_WIDGET (self->name_row), TRUE);
  gtk_widget_set_sensitive (GTK_WIDGET (self->address_row), TRUE);
  gtk_widget_set_sensitive (GTK_WIDGET (self->attachment_row), TRUE);
  update_next (self);
}

typedef struct {
  char *path;
  char *sheet;
} ListToRead;

static void
list_to_read_free (gpointer data)
{
  ListToRead *list = data;

  g_free (list->path);
  g_free (list->sheet);
  g_free (list);
}

static void
read_columns_thread (GTask        *task,
                     gpointer      source_object,
                     gpointer      task_data,
                     GCancellable *cancellable)
{
  ListToRead *list = task_data;
  GError *error = NULL;
  g_autoptr(MrRecipientReader) reader = mr_recipient_reader_open_sheet (list->path, list->sheet, &error);
  ListHead *head;

  if (reader == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  head = g_new0 (ListHead, 1);
  head->columns = g_strdupv ((char **) mr_recipient_reader_get_columns (reader));
  head->sheet = g_strdup (mr_recipient_reader_get_sheet (reader));
  if (head->sheet != NULL)
    head->sheets = mr_spreadsheet_list_sheets (list->path, NULL);
  g_task_return_pointer (task, head, (GDestroyNotify) list_head_free);
}

static void
read_columns (MrMailshotsPage *self)
{
  g_autoptr(GTask) task = g_task_new (self, self->cancellable, columns_read, NULL);
  ListToRead *list = g_new0 (ListToRead, 1);

  list->path = g_strdup (self->recipients_path);
  list->sheet = g_strdup (self->sheet);
  g_task_set_source_tag (task, read_columns);
  g_task_set_task_data (task, list, list_to_read_free);
  set_busy (self, TRUE);
  g_task_run_in_thread (task, read_columns_thread);
}

void
mr_mailshots_page_set_recipients (MrMailshotsPage *self,
                                  const char      *path)
{
  g_free (self->recipients_path);
  self->recipients_path = g_strdup (path);
  g_clear_pointer (&self->sheet, g_free);
  g_hash_table_remove_all (self->left_out);
  read_columns (self);
}

/* Another sheet of the workbook: its columns. */
static void
on_sheet_changed (MrMailshotsPage *self)
{
  GtkStringObject *item = adw_combo_row_get_selected_item (self->sheet_row);

  if (item == NULL || self->recipients_path == NULL ||
      g_strcmp0 (self->sheet, gtk_string_object_get_string (item)) == 0)
    return;
  g_free (self->sheet);
  self->sheet = g_strdup (gtk_string_object_get_string (item));
  g_hash_table_remove_all (self->left_out);
  read_columns (self);
}

static gboolean
on_file_dropped (GtkDropTarget   *target,
                 const GValue    *value,
                 double           x,
                 double           y,
                 MrMailshotsPage *self)
{
  GSList *files = gdk_file_list_get_files (g_value_get_boxed (value));
  g_autofree char *path = files ? g_file_get_path (files->data) : NULL;

  g_slist_free (files);
  if (path == NULL || g_file_test (path, G_FILE_TEST_IS_DIR))
    return FALSE;
  /* From the list of mailshots, a new one; in the wizard, the list of the one being set up. */
  if (!g_str_equal (gtk_stack_get_visible_child_name (self->stack), "wizard"))
    mr_mailshots_page_new_mailshot (self);
  else
    show_step (self, "setup");
  mr_mailshots_page_set_recipients (self, path);
  return TRUE;
}

void
mr_mailshots_page_set_sheet (MrMailshotsPage *self,
                             const char      *sheet)
{
  GListModel *model = adw_combo_row_get_model (self->sheet_row);

  for (guint i = 0; model != NULL && i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(GtkStringObject) item = g_list_model_get_item (model, i);

      if (g_str_equal (gtk_string_object_get_string (item), sheet))
        adw_combo_row_set_selected (self->sheet_row, i);
    }
}

void
mr_mailshots_page_set_attachments_folder (MrMailshotsPage *self,
                                          const char      *path)
{
  g_free (self->folder_path);
  self->folder_path = g_strdup (path);
  adw_action_row_set_subtitle (self->folder_row, path);
  update_next (self);
}

/* The file choosers: one response handler, which hands the chosen path to the page. */
typedef void (*PathChosenFunc) (MrMailshotsPage *self,
                                const char      *path);

static void
on_path_chosen (GtkNativeDialog *dialog,
                int              response,
                MrMailshotsPage *self)
{
  PathChosenFunc chosen = (PathChosenFunc) g_object_get_data (G_OBJECT (dialog), "chosen");

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);

      if (path != NULL)
        chosen (self, path);
    }
  g_object_unref (dialog);
}

static void
choose_path (MrMailshotsPage       *self,
             GtkFileChooserNative  *chooser,
             PathChosenFunc         chosen)
{
  g_object_set_data (G_OBJECT (chooser), "chosen", (gpointer) chosen);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect (chooser, "response", G_CALLBACK (on_path_chosen), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
on_choose_recipients (MrMailshotsPage *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkFileChooserNative *chooser = gtk_file_chooser_native_new (_("Choose the Recipients"), GTK_WINDOW (root),
                                                               GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"), _("_Cancel"));
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();

  gtk_file_filter_set_name (filter, _("Recipient lists (spreadsheets, CSV, JSON)"));
  gtk_file_filter_add_suffix (filter, "xlsx");
  gtk_file_filter_add_suffix (filter, "ods");
  gtk_file_filter_add_mime_type (filter, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
  gtk_file_filter_add_mime_type (filter, "application/vnd.oasis.opendocument.spreadsheet");
  gtk_file_filter_add_suffix (filter, "csv");
  gtk_file_filter_add_suffix (filter, "txt");
  gtk_file_filter_add_suffix (filter, "json");
  gtk_file_filter_add_mime_type (filter, "text/csv");
  gtk_file_filter_add_mime_type (filter, "application/json");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
  choose_path (self, chooser, mr_mailshots_page_set_recipients);
}

static void
on_choose_folder (MrMailshotsPage *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkFileChooserNative *chooser = gtk_file_chooser_native_new (_("Choose the Attachments Folder"), GTK_WINDOW (root),
                                                               GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, _("_Select"),
                                                               _("_Cancel"));

  choose_path (self, chooser, mr_mailshots_page_set_attachments_folder);
}

/* The pace of the template's application profile through the chosen route, as the company set it
 * (through Exchange Online, Office 365's). */
static void
on_via_changed (MrMailshotsPage *self)
{
  MrTemplate *template_ = selected_template (self);
  guint per_minute, per_day, connections;

  mr_mailshot_get_default_pace (self->settings, template_ ? template_->app : NULL,
                                mr_route_for_row (adw_combo_row_get_selected (self->via_row)),
                                &per_minute, &per_day, &connections);
  gtk_spin_button_set_value (self->per_minute_spin, per_minute);
  gtk_spin_button_set_value (self->per_day_spin, per_day);
  gtk_spin_button_set_value (self->connections_spin, connections);
}

static void
on_template_changed (MrMailshotsPage *self)
{
  MrTemplate *template_ = selected_template (self);
  guint row = mr_route_get_row (template_ ? template_->route : NULL);

  gtk_widget_set_sensitive (self->edit_template_button, template_ != NULL);
  /* The template's route first; the pace follows (the same row: set it here). */
  if (adw_combo_row_get_selected (self->via_row) != row)
    adw_combo_row_set_selected (self->via_row, row);
  else
    on_via_changed (self);
}

/* The templates again, @name chosen (one's own before the company's of that name, as the engine
 * finds them); NULL: the first. */
static void
load_templates (MrMailshotsPage *self,
                const char      *name)
{
  g_autoptr(GtkStringList) names = gtk_string_list_new (NULL);
  guint chosen = 0;

  g_clear_pointer (&self->templates, g_ptr_array_unref);
  self->templates = mr_template_list (NULL);
  if (self->templates == NULL)
    self->templates = g_ptr_array_new_with_free_func ((GDestroyNotify) mr_template_free);
  for (guint i = self->templates->len; i > 0; i--)
    {
      MrTemplate *template_ = g_ptr_array_index (self->templates, i - 1);

      if (g_strcmp0 (template_->name, name) == 0 &&
          (chosen == 0 || template_->scope == MR_TEMPLATE_SCOPE_PERSONAL))
        chosen = i;
    }
  for (guint i = 0; i < self->templates->len; i++)
    gtk_string_list_append (names, ((MrTemplate *) g_ptr_array_index (self->templates, i))->name);
  adw_combo_row_set_model (self->template_row, G_LIST_MODEL (names));
  adw_combo_row_set_selected (self->template_row, chosen > 0 ? chosen - 1 : 0);
  on_template_changed (self);
}

static void
on_template_saved (MrTemplateEditor *editor,
                   const char       *name,
                   MrMailshotsPage  *self)
{
  g_autofree char *said = g_strdup_printf (_("Saved the template “%s”"), name);
  GtkWidget *overlay = gtk_widget_get_ancestor (GTK_WIDGET (self), ADW_TYPE_TOAST_OVERLAY);

  load_templates (self, name);
  if (overlay != NULL)
    {
      g_autofree char *escaped = g_markup_escape_text (said, -1);

      adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (overlay), adw_toast_new (escaped));
    }
}

GtkWindow *
mr_mailshots_page_edit_template (MrMailshotsPage *self)
{
  MrTemplate *template_ = selected_template (self);
  g_autoptr(GPtrArray) fields = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) variables = NULL;
  GtkWidget *window;

  if (template_ == NULL)
    return NULL;
  /* Insert Field: the list's columns, then what the template uses besides, then the sender's own. */
  for (guint i = 0; self->columns != NULL && self->columns[i] != NULL; i++)
    g_ptr_array_add (fields, mr_recipients_field_name (self->columns[i]));
  variables = mr_template_list_variables (template_, NULL);
  for (guint i = 0; variables != NULL && i < variables->len; i++)
    if (!g_ptr_array_find_with_equal_func (fields, g_ptr_array_index (variables, i), g_str_equal, NULL))
      g_ptr_array_add (fields, g_strdup (g_ptr_array_index (variables, i)));
  g_ptr_array_add (fields, g_strdup ("sender.name"));
  g_ptr_array_add (fields, g_strdup ("sender.address"));
  g_ptr_array_add (fields, NULL);
  window = mr_template_editor_new (GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))), template_,
                                   (const char * const *) fields->pdata);
  g_signal_connect_object (window, "saved", G_CALLBACK (on_template_saved), self, 0);
  gtk_window_present (GTK_WINDOW (window));
  return GTK_WINDOW (window);
}

void
mr_mailshots_page_new_mailshot (MrMailshotsPage *self)
{
  g_autofree char *me = mr_settings_dup_effective_string (self->settings, NULL, "user.email");

  load_templates (self, NULL);

  g_clear_pointer (&self->recipients_path, g_free);
  g_clear_pointer (&self->folder_path, g_free);
  g_clear_pointer (&self->report, mr_proof_report_free);
  g_clear_pointer (&self->error_rows, g_hash_table_unref);
  g_hash_table_remove_all (self->left_out);
  adw_action_row_set_subtitle (self->recipients_row, _("A spreadsheet (.xlsx, .ods) or CSV file whose first row names "
                                                       "the columns; or drop one here"));
  g_clear_pointer (&self->sheet, g_free);
  gtk_widget_set_visible (GTK_WIDGET (self->sheet_row), FALSE);
  adw_action_row_set_subtitle (self->folder_row, _("Files are taken from this folder only"));
  adw_combo_row_set_model (self->address_row, NULL);
  adw_combo_row_set_model (self->attachment_row, NULL);
  adw_combo_row_set_model (self->name_row, NULL);
  gtk_widget_set_sensitive (GTK_WIDGET (self->name_row), FALSE);
  gtk_widget_set_sensitive (GTK_WIDGET (self->address_row), FALSE);
  gtk_widget_set_sensitive (GTK_WIDGET (self->attachment_row), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->folder_row), FALSE);
  self->start_at = 0;
  show_start_choice (self);
  if (me == NULL || *me == '\0')
    {
      g_free (me);
      me = mr_settings_dup_effective_string (self->settings, NULL, "sender.from_address");
    }
  gtk_editable_set_text (GTK_EDITABLE (self->samples_to_row), me);
  show_step (self, "setup");
}

static void
on_new_clicked (MrMailshotsPage *self)
{
  mr_mailshots_page_new_mailshot (self);
}

/* ---- Step 2: the proof-reader ----------------------------------------------------------------- */

static guint
count_sendable (MrMailshotsPage *self)
{
  return self->report ? self->report->sendable : 0;
}

/* Whether the proof-reader found an error in @row (one that keeps it from being sent): the rows
 * with one are gathered once per report, as the problems list them in row order. */
static gboolean
row_has_error (MrMailshotsPage *self,
               guint            row)
{
  if (self->error_rows == NULL)
    {
      self->error_rows = g_hash_table_new (NULL, NULL);
      for (guint i = 0; self->report != NULL && i < self->report->problems->len; i++)
        {
          MrProblem *problem = g_ptr_array_index (self->report->problems, i);

          if (problem->severity == MR_PROBLEM_ERROR)
            g_hash_table_add (self->error_rows, GUINT_TO_POINTER (problem->row));
        }
    }
  return g_hash_table_contains (self->error_rows, GUINT_TO_POINTER (row));
}

/* What happens to the row a problem is about, in words: never "sent" beside a ticked Leave out. */
static const char *
row_fate (MrMailshotsPage *self,
          MrProblem       *problem)
{
  if (problem->row == 0)
    return problem->severity == MR_PROBLEM_ERROR ? _("No row is sent until this is fixed") : _("Every row is sent");
  if (g_hash_table_contains (self->left_out, GUINT_TO_POINTER (problem->row)))
    return _("Left out, as you chose");
  if (row_has_error (self, problem->row))
    return _("Not sent: fix it in the spreadsheet and check again, or leave it out");
  if (g_str_equal (problem->kind, "duplicate"))
    return g_str_has_suffix (problem->message, "as you chose") ? _("Sent: a mail of its own, as you chose")
                                                                : _("Not sent again: that address gets one mail");
  if (g_str_equal (problem->kind, "suppressed") || g_str_equal (problem->kind, "over-limit"))
    return _("Not sent");
  return _("Sent as it is");
}

/* The counts add up to the rows: every row is counted once, by what keeps it from being sent. */
static char *
report_summary (MrProofReport *report)
{
  GString *text = g_string_new (NULL);

  g_string_append_printf (text, g_dngettext (GETTEXT_PACKAGE, "%u row: %u to send", "%u rows: %u to send", report->rows),
                          report->rows, report->sendable);
  if (report->rows_with_errors > 0)
    g_string_append_printf (text, g_dngettext (GETTEXT_PACKAGE, ", %u with an error", ", %u with errors",
                                               report->rows_with_errors), report->rows_with_errors);
  if (report->left_out > 0)
    g_string_append_printf (text, _(", %u left out"), report->left_out);
  if (report->repeated > 0)
    g_string_append_printf (text, g_dngettext (GETTEXT_PACKAGE, ", %u repeated address (sent once)",
                                               ", %u repeated addresses (sent once)", report->repeated),
                            report->repeated);
  if (report->suppressed > 0)
    g_string_append_printf (text, _(", %u on the suppression list"), report->suppressed);
  if (report->over_limit > 0)
    g_string_append_printf (text, _(", %u after the limit"), report->over_limit);
  if (report->hidden_rows > 0)
    g_string_append_printf (text, g_dngettext (GETTEXT_PACKAGE, ". %u row the spreadsheet hides is left out",
                                               ". %u rows the spreadsheet hides are left out", report->hidden_rows),
                            report->hidden_rows);
  return g_string_free (text, FALSE);
}

static void
update_fates (MrMailshotsPage *self)
{
  g_autofree char *summary = report_summary (self->report);

  gtk_label_set_text (self->check_summary, summary);
  for (GtkWidget *row = gtk_widget_get_first_child (GTK_WIDGET (self->problems_list)); row != NULL;
       row = gtk_widget_get_next_sibling (row))
    {
      MrProblem *problem = g_object_get_data (G_OBJECT (row), "problem");

      if (problem != NULL)
        adw_action_row_set_subtitle (ADW_ACTION_ROW (row), row_fate (self, problem));
    }
}

static void
on_leave_out_toggled (GtkCheckButton  *check,
                      MrMailshotsPage *self)
{
  guint row = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (check), "row"));

  mr_mailshots_page_set_row_left_out (self, row, gtk_check_button_get_active (check));
}

void
mr_mailshots_page_set_row_left_out (MrMailshotsPage *self,
                                    guint            row,
                                    gboolean         left_out)
{
  gboolean was = g_hash_table_contains (self->left_out, GUINT_TO_POINTER (row));
  int change = left_out ? 1 : -1;

  if (was == left_out)
    return;
  if (left_out)
    g_hash_table_add (self->left_out, GUINT_TO_POINTER (row));
  else
    g_hash_table_remove (self->left_out, GUINT_TO_POINTER (row));
  /* The counts follow at once, and still add up; the report itself is read again on Next. */
  if (self->report == NULL)
    return;
  self->report->left_out += change;
  if (row_has_error (self, row))
    self->report->rows_with_errors -= change;
  else
    self->report->sendable -= change;
  update_fates (self);
}

/* Whether @problem only repeats that its row is left out, beside another problem of the row. */
static gboolean
only_says_left_out (MrProofReport *report,
                    MrProblem     *problem)
{
  if (!g_str_equal (problem->kind, "excluded"))
    return FALSE;
  for (guint i = 0; i < report->problems->len; i++)
    {
      MrProblem *other = g_ptr_array_index (report->problems, i);

      if (other != problem && other->row == problem->row)
        return TRUE;
    }
  return FALSE;
}

static void
show_report (MrMailshotsPage *self)
{
  MrProofReport *report = self->report;
  GtkWidget *child;
  guint shown = 0, listed = 0;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->problems_list))) != NULL)
    gtk_list_box_remove (self->problems_list, child);

  gtk_widget_set_visible (GTK_WIDGET (self->problems_list), report->problems->len > 0);

  for (guint i = 0; i < report->problems->len; i++)
    {
      MrProblem *problem = g_ptr_array_index (report->problems, i);
      GtkWidget *row, *icon;

      if (only_says_left_out (report, problem))
        continue;
      if (++listed > MAX_PROBLEMS_SHOWN)
        continue;
      shown++;
      row = adw_action_row_new ();
      icon = gtk_image_new_from_icon_name (problem->severity == MR_PROBLEM_ERROR ? "dialog-error-symbolic"
                                                                                 : "dialog-warning-symbolic");
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), problem->message);
      g_object_set_data (G_OBJECT (row), "problem", problem);
      gtk_accessible_update_property (GTK_ACCESSIBLE (icon), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      problem->severity == MR_PROBLEM_ERROR ? _("Error") : _("Warning"), -1);
      adw_action_row_add_prefix (ADW_ACTION_ROW (row), icon);
      /* A row with an error or a warning the user may leave out; a repeat is sent once anyway. */
      if (problem->row > 0 && !g_str_equal (problem->kind, "suppressed") && !g_str_equal (problem->kind, "over-limit"))
        {
          GtkWidget *check = gtk_check_button_new_with_mnemonic (_("_Leave out"));

          gtk_widget_set_valign (check, GTK_ALIGN_CENTER);
          gtk_check_button_set_active (GTK_CHECK_BUTTON (check),
                                       g_hash_table_contains (self->left_out, GUINT_TO_POINTER (problem->row)));
          g_object_set_data (G_OBJECT (check), "row", GUINT_TO_POINTER (problem->row));
          g_signal_connect (check, "toggled", G_CALLBACK (on_leave_out_toggled), self);
          adw_action_row_add_suffix (ADW_ACTION_ROW (row), check);
          if (g_str_equal (problem->kind, "duplicate") && !g_str_has_suffix (problem->message, "as you chose"))
            {
              gtk_widget_set_sensitive (check, FALSE);  /* sent once already: nothing to leave out */
              gtk_widget_set_tooltip_text (check, _("The address gets its mail from the earlier row"));
            }
        }
      gtk_list_box_append (self->problems_list, row);
    }
  if (listed > shown)
    {
      g_autofree char *more = g_strdup_printf (_("And %u more: the report of the job, exported as CSV, lists every row"),
                                               listed - shown);
      GtkWidget *row = adw_action_row_new ();

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), more);
      gtk_list_box_append (self->problems_list, row);
    }
  update_fates (self);
}

static void show_start (MrMailshotsPage *self);

static void check_deliverability (MrMailshotsPage *self);

/* The From domain's findings under the report; Start waits for Send Anyway when SPF or DMARC fail. */
static void
show_deliverability (MrMailshotsPage *self)
{
  gboolean blocks = self->deliverability != NULL && mr_domain_report_blocks_bulk (self->deliverability);

  for (guint i = 0; i < self->deliverability_rows->len; i++)
    gtk_list_box_remove (self->deliverability_list, g_ptr_array_index (self->deliverability_rows, i));
  g_ptr_array_set_size (self->deliverability_rows, 0);
  gtk_widget_set_visible (GTK_WIDGET (self->deliverability_group), self->deliverability != NULL);
  if (self->deliverability != NULL)
    {
      g_autoptr(GPtrArray) rows = mr_finding_rows_new (self->deliverability);

      for (guint i = 0; i < rows->len; i++)
        {
          gtk_list_box_append (self->deliverability_list, g_ptr_array_index (rows, i));
          g_ptr_array_add (self->deliverability_rows, g_ptr_array_index (rows, i));
        }
    }
  gtk_widget_set_visible (self->send_anyway_list, blocks);
}

/* Whether the pace chosen fits the provider's daily limit: a finding that follows the Mails a day
 * field. */
static void
update_pace_finding (MrMailshotsPage *self)
{
  if (self->deliverability == NULL)
    return;
  mr_domain_report_set_pace (self->deliverability, self->deliverability_sendable,
                             gtk_spin_button_get_value_as_int (self->per_day_spin), self->deliverability_limit,
                             self->deliverability_provider);
}

static void
on_per_day_changed (MrMailshotsPage *self)
{
  if (self->deliverability == NULL)
    return;
  update_pace_finding (self);
  show_deliverability (self);
}

static void
on_deliverability_checked (GObject      *source,
                           GAsyncResult *result,
                           gpointer      user_data)
{
  g_autoptr(MrMailshotsPage) self = user_data;
  g_autoptr(GError) error = NULL;
  MrDomainReport *report = mr_domain_check_finish (result, &error);

  if (report == NULL)
    return;   /* cancelled: another check, or the page is going */
  g_clear_object (&self->deliverability_cancellable);
  mr_domain_report_add_bulk_rules (report, self->deliverability_sendable, self->deliverability_unsubscribe);
  g_clear_pointer (&self->deliverability, mr_domain_report_free);
  self->deliverability = report;
  update_pace_finding (self);
  gtk_switch_set_active (self->send_anyway_switch, FALSE);   /* a new verdict: asked again */
  show_deliverability (self);
  if (g_strcmp0 (mr_mailshots_page_get_step (self), "start") == 0)
    show_start (self);
}

/* Will it arrive? The From domain's DNS as the bulk-sender rules look at it, asked in a thread
 * once the report is shown: the check step does not wait for DNS. */
static void
check_deliverability (MrMailshotsPage *self)
{
  MrTemplate *template_ = selected_template (self);
  const char *app = template_ ? template_->app : NULL;
  g_autoptr(MrOutgoing) sender = mr_outgoing_new ();
  g_autofree char *url = NULL;
  g_autofree char *mailto = NULL;
  g_auto(MrDomainCheckOptions) options = { 0 };
  const char *from, *at;

  if (self->deliverability_cancellable != NULL)
    g_cancellable_cancel (self->deliverability_cancellable);
  g_clear_object (&self->deliverability_cancellable);
  g_clear_pointer (&self->deliverability, mr_domain_report_free);
  show_deliverability (self);
  if (template_ == NULL)
    return;
  mr_settings_fill_sender (self->settings, app, sender, NULL);
  from = template_->from_address ? template_->from_address : sender->from_address;
  if (from == NULL || (at = strrchr (from, '@')) == NULL)
    return;
  url = mr_settings_dup_effective_string (self->settings, app, "mailshot.unsubscribe_url");
  mailto = mr_settings_dup_effective_string (self->settings, app, "mailshot.unsubscribe_mailto");
  self->deliverability_sendable = self->report ? self->report->sendable : 0;
  self->deliverability_unsubscribe = *url != '\0' || *mailto != '\0';
  g_clear_pointer (&self->deliverability_provider, g_free);
  self->deliverability_limit = mr_mailshot_get_provider_daily_limit (self->settings, app,
                                                                     mr_route_for_row (adw_combo_row_get_selected (self->via_row)),
                                                                     &self->deliverability_provider);
  /* Against the route chosen: through Exchange Online, Office 365's records. */
  {
    g_autofree char *host = NULL;
    g_autofree char *provider = mr_mailshot_route_provider (self->settings, app,
                                                            mr_route_for_row (adw_combo_row_get_selected (self->via_row)),
                                                            &host);
    g_auto(GStrv) named = mr_settings_dup_effective_strv (self->settings, app, "domains.dkim_selectors");

    mr_domain_check_options_init_for_provider (&options, provider, host, at + 1);
    mr_domain_check_options_add_selectors (&options, (const char * const *) named);
  }
  self->deliverability_cancellable = g_cancellable_new ();
  mr_domain_check_async (at + 1, &options, self->deliverability_cancellable, on_deliverability_checked,
                         g_object_ref (self));
}

static void
on_send_anyway_toggled (MrMailshotsPage *self)
{
  if (g_strcmp0 (mr_mailshots_page_get_step (self), "start") == 0)
    show_start (self);
}

static void
proofread_thread (GTask        *task,
                  gpointer      source_object,
                  gpointer      task_data,
                  GCancellable *cancellable)
{
  Choice *choice = task_data;
  GError *error = NULL;
  MrProofReport *report = mr_proofread_full (choice->template_, choice->recipients, &choice->options.proof, NULL, NULL,
                                             &error);

  if (report == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, report, (GDestroyNotify) mr_proof_report_free);
}

static void
proofread_done (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  MrMailshotsPage *self = MR_MAILSHOTS_PAGE (source);
  g_autoptr(GError) error = NULL;
  MrProofReport *report = g_task_propagate_pointer (G_TASK (result), &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  set_busy (self, FALSE);
  if (report == NULL)
    {
      notice (self, error->message);
      return;
    }
  g_clear_pointer (&self->report, mr_proof_report_free);
  g_clear_pointer (&self->error_rows, g_hash_table_unref);
  self->report = report;
  show_report (self);
  check_deliverability (self);
  show_step (self, "check");
}

static void
check_recipients (MrMailshotsPage *self)
{
  g_autoptr(GTask) task = wizard_task (self, check_recipients, proofread_done);

  g_task_run_in_thread (task, proofread_thread);
}

/* ---- Step 3: preview and samples -------------------------------------------------------------- */

/* The row is asked for exactly, as the next or previous one the list has (@choice->direction), or
 * by its address (@choice->find). */
static void
preview_thread (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  Choice *choice = task_data;
  GError *error = NULL;
  g_autoptr(MrSettings) settings = load_settings (&error);
  MrMailshotPreview *preview = NULL;

  if (settings != NULL && choice->find != NULL)
    preview = mr_mailshot_preview_find (settings, choice->template_, choice->recipients, &choice->options, choice->find,
                                        &error);
  else if (settings != NULL)
    preview = mr_mailshot_preview_step (settings, choice->template_, choice->recipients, &choice->options, choice->row,
                                        choice->direction, &error);
  if (preview == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, preview, (GDestroyNotify) mr_mailshot_preview_free);
}

static void
show_preview_position (MrMailshotsPage *self)
{
  g_autofree char *position = NULL;

  if (self->report != NULL)
    position = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Row %u · %u row", "Row %u · %u rows", self->report->rows),
                                self->preview_row, self->report->rows);
  else
    position = g_strdup_printf (_("Row %u"), self->preview_row);
  gtk_label_set_text (self->preview_position_label, position);
}

static void
preview_done (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  MrMailshotsPage *self = MR_MAILSHOTS_PAGE (source);
  Choice *choice = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;
  g_autoptr(MrMailshotPreview) preview = g_task_propagate_pointer (G_TASK (result), &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  set_busy (self, FALSE);
  if (preview == NULL)
    {
      /* Past an end, or an address no row has: the mail shown stays, and the reason is said. */
      if (g_error_matches (error, MR_MAILSHOT_ERROR, MR_MAILSHOT_ERROR_NOT_FOUND) && self->preview_row != 0)
        {
          if (choice->direction != 0 && choice->find == NULL)
            gtk_widget_set_sensitive (choice->direction > 0 ? self->preview_next_button : self->preview_previous_button,
                                      FALSE);
          notice (self, error->message);
          return;
        }
      mr_message_view_set_problem (self->preview_view, error->message);
      return;
    }
  self->preview_row = preview->row;
  gtk_widget_set_sensitive (self->preview_previous_button, TRUE);
  gtk_widget_set_sensitive (self->preview_next_button, TRUE);
  show_preview_position (self);
  if (preview->message == NULL)
    {
      g_autofree char *why = g_strdup_printf (_("Row %u makes no mail: %s"), preview->row,
                                              preview->problem ? preview->problem : "");
      mr_message_view_set_problem (self->preview_view, why);
      return;
    }
  {
    g_autoptr(GString) names = g_string_new (NULL);
    g_autofree char *note = NULL;

    for (guint i = 0; preview->missing != NULL && i < preview->missing->len; i++)
      g_string_append_printf (names, "%s%s", i ? ", " : "", (const char *) g_ptr_array_index (preview->missing, i));
    if (names->len > 0)
      note = g_strdup_printf (_("Empty in this row, marked below: %s"), names->str);
    mr_message_view_set_message (self->preview_view, preview->message, preview->marked_subject, preview->marked_text,
                                 preview->marked_html, note);
  }
  if (preview->problem != NULL)
    {
      g_autofree char *why = g_strdup_printf (_("This row is not sent: %s"), preview->problem);

      notice (self, why);
    }
}

static void
load_preview (MrMailshotsPage *self,
              guint            row,
              int              direction,
              const char      *find)
{
  g_autoptr(GTask) task = wizard_task (self, load_preview, preview_done);
  Choice *choice = g_task_get_task_data (task);

  choice->row = row;
  choice->direction = direction;
  choice->find = g_strdup (find);
  g_task_run_in_thread (task, preview_thread);
}

void
mr_mailshots_page_show_preview_row (MrMailshotsPage *self,
                                    guint            row)
{
  load_preview (self, row, 0, NULL);
}

guint
mr_mailshots_page_get_preview_row (MrMailshotsPage *self)
{
  return self->preview_row;
}

static void
on_preview_previous (MrMailshotsPage *self)
{
  if (self->preview_row > 1)
    load_preview (self, self->preview_row - 1, -1, NULL);
}

static void
on_preview_next (MrMailshotsPage *self)
{
  load_preview (self, self->preview_row + 1, 1, NULL);
}

/* A number is a row; anything else an address, or its start. */
void
mr_mailshots_page_find_preview (MrMailshotsPage *self,
                                const char      *text)
{
  g_autofree char *wanted = g_strstrip (g_strdup (text));
  guint64 row;

  if (*wanted == '\0')
    return;
  if (g_ascii_string_to_unsigned (wanted, 10, 1, G_MAXUINT, &row, NULL))
    load_preview (self, (guint) row, 0, NULL);
  else
    load_preview (self, 0, 0, wanted);
}

static void
on_preview_search (GtkSearchEntry  *entry,
                   MrMailshotsPage *self)
{
  mr_mailshots_page_find_preview (self, gtk_editable_get_text (GTK_EDITABLE (entry)));
}

MrMessageView *
mr_mailshots_page_get_preview_view (MrMailshotsPage *self)
{
  return self->preview_view;
}

static void
sample_row_thread (GTask        *task,
                   gpointer      source_object,
                   gpointer      task_data,
                   GCancellable *cancellable)
{
  Choice *choice = task_data;
  GError *error = NULL;
  g_autoptr(MrSettings) settings = load_settings (&error);

  if (settings != NULL &&
      mr_mailshot_send_sample_row_sync (settings, choice->template_, choice->recipients, &choice->options, choice->to,
                                        choice->row, cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
sample_row_done (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  MrMailshotsPage *self = MR_MAILSHOTS_PAGE (source);
  Choice *choice = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;
  g_autofree char *message = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error) && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  set_busy (self, FALSE);
  gtk_widget_set_sensitive (self->sample_row_button, TRUE);
  if (error != NULL)
    message = g_strdup_printf (_("The sample was not sent: %s"), error->message);
  else
    message = g_strdup_printf (_("Row %u’s mail sent to %s as a sample"), choice->row, choice->to);
  notice (self, message);
}

void
mr_mailshots_page_send_shown_sample (MrMailshotsPage *self)
{
  g_autoptr(GTask) task = wizard_task (self, mr_mailshots_page_send_shown_sample, sample_row_done);
  Choice *choice = g_task_get_task_data (task);

  choice->row = self->preview_row;
  gtk_widget_set_sensitive (self->sample_row_button, FALSE);
  g_task_run_in_thread (task, sample_row_thread);
}

static void
samples_thread (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  Choice *choice = task_data;
  GError *error = NULL;
  g_autoptr(MrSettings) settings = load_settings (&error);
  int sent = settings ? mr_mailshot_send_samples_sync (settings, choice->template_, choice->recipients, &choice->options,
                                                       choice->to, choice->count, cancellable, &error)
                      : -1;

  if (sent < 0)
    g_task_return_error (task, error);
  else
    g_task_return_int (task, sent);
}

static void
samples_done (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  MrMailshotsPage *self = MR_MAILSHOTS_PAGE (source);
  Choice *choice = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;
  gssize sent = g_task_propagate_int (G_TASK (result), &error);
  g_autofree char *message = NULL;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  set_busy (self, FALSE);
  gtk_widget_set_sensitive (self->samples_button, TRUE);
  if (sent < 0)
    message = g_strdup_printf (_("The samples were not sent: %s"), error->message);
  else
    message = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%d sample sent to %s", "%d samples sent to %s", sent),
                               (int) sent, choice->to);
  notice (self, message);
}

static void
on_send_samples (MrMailshotsPage *self)
{
  g_autoptr(GTask) task = wizard_task (self, on_send_samples, samples_done);

  gtk_widget_set_sensitive (self->samples_button, FALSE);
  g_task_run_in_thread (task, samples_thread);
}

/* ---- Step 4: start ---------------------------------------------------------------------------- */

static char *
format_duration (gint64 seconds)
{
  if (seconds >= 2 * 24 * 3600)
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u day", "%u days", (gulong) (seconds / 86400 + 1)),
                            (guint) (seconds / 86400 + 1));
  if (seconds >= 3600)
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "about %u hour", "about %u hours", (gulong) ((seconds + 1800) / 3600)),
                            (guint) ((seconds + 1800) / 3600));
  if (seconds >= 60)
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "about %u minute", "about %u minutes", (gulong) ((seconds + 30) / 60)),
                            (guint) ((seconds + 30) / 60));
  return g_strdup (_("less than a minute"));
}

static void
show_start (MrMailshotsPage *self)
{
  guint sendable = count_sendable (self);
  guint per_minute = gtk_spin_button_get_value_as_int (self->per_minute_spin);
  guint per_day = gtk_spin_button_get_value_as_int (self->per_day_spin);
  guint connections = gtk_spin_button_get_value_as_int (self->connections_spin);
  gint64 start = self->start_at;
  g_autofree char *duration = format_duration (mr_mailshot_estimate_seconds (sendable, per_minute, per_day, connections));
  g_autoptr(GString) text = g_string_new (NULL);

  g_string_append_printf (text, g_dngettext (GETTEXT_PACKAGE, "%u mail, one per recipient: %s.",
                                             "%u mails, one per recipient: %s.", sendable), sendable, duration);
  /* The rows with errors, left out or repeated go nowhere: said once more before the start. */
  if (self->report != NULL && self->report->rows > sendable)
    {
      guint not_sent = self->report->rows - sendable;

      g_string_append_c (text, ' ');
      g_string_append_printf (text, g_dngettext (GETTEXT_PACKAGE, "%u row of the list is not sent (see the check).",
                                                 "%u rows of the list are not sent (see the check).", not_sent),
                              not_sent);
    }
  /* Which way it goes. */
  {
    MrTemplate *template_ = selected_template (self);
    g_autofree char *route = mr_mailshot_resolve_route (self->settings, template_ ? template_->app : NULL,
                                                        mr_route_for_row (adw_combo_row_get_selected (self->via_row)));

    if (g_str_equal (route, "exchange"))
      g_string_append_printf (text, " %s", _("It goes through Exchange."));
  }
  if (per_day > 0 && sendable > per_day)
    g_string_append_printf (text, " %s", _("More than a day’s limit: the job is spread over several days and goes on "
                                           "while Mailroom is closed (a systemd timer is installed for it)."));
  if (start > 0)
    {
      g_autoptr(GDateTime) when = g_date_time_new_from_unix_local (start);
      g_autofree char *formatted = g_date_time_format (when, "%x %H:%M");
      g_string_append_printf (text, " ");
      g_string_append_printf (text, _("It starts at %s."), formatted);
    }
  else
    g_string_append_printf (text, " %s", _("Closing Mailroom stops it between two mails; it goes on when Mailroom opens again."));
  /* SPF or DMARC failing: mailshots are refused or spam-foldered; only an explicit Send Anyway. */
  if (self->deliverability_cancellable != NULL)
    {
      g_string_append_printf (text, "\n\n%s", _("Still checking the From domain’s DNS…"));
      gtk_widget_set_tooltip_text (self->start_button, _("The From domain’s DNS is still being checked"));
      sendable = 0;
    }
  else if (self->deliverability != NULL && mr_domain_report_blocks_bulk (self->deliverability) &&
      !gtk_switch_get_active (self->send_anyway_switch))
    {
      g_string_append_printf (text, "\n\n%s", _("The From domain fails SPF or DMARC (see the check), so receivers may "
                                                 "refuse these mails. Fix its DNS records first, or go back and turn on "
                                                 "Send Anyway."));
      gtk_widget_set_tooltip_text (self->start_button, _("The From domain fails SPF or DMARC: see the check"));
      sendable = 0;
    }
  else
    gtk_widget_set_tooltip_text (self->start_button, NULL);
  adw_status_page_set_description (self->start_page, text->str);
  gtk_widget_set_sensitive (self->start_button, sendable > 0);
}

static void
create_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  Choice *choice = task_data;
  GError *error = NULL;
  g_autoptr(MrSettings) settings = load_settings (&error);
  g_autoptr(MrMailshotJournal) journal = settings ? mr_mailshot_journal_open (NULL, &error) : NULL;
  g_autoptr(MrProofReport) report = NULL;
  g_autoptr(MrMailshotStatus) status = NULL;
  gint64 job = journal ? mr_mailshot_create (journal, settings, choice->template_, choice->recipients, &choice->options,
                                             &report, &error)
                       : 0;

  if (job == 0)
    {
      g_task_return_error (task, error);
      return;
    }
  /* Later, or over several days: the timer goes on with it while no window is open. */
  status = mr_mailshot_get_status (journal, job, NULL);
  if (choice->options.start_at > 0 || (status != NULL && status->per_day > 0 && report->sendable > status->per_day))
    {
      g_autoptr(GError) timer_error = NULL;

      if (!mr_timer_install (&timer_error))
        g_object_set_data_full (G_OBJECT (task), "timer-error", g_strdup (timer_error->message), g_free);
    }
  g_task_return_pointer (task, g_memdup2 (&job, sizeof job), g_free);
}

static void
created (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  MrMailshotsPage *self = MR_MAILSHOTS_PAGE (source);
  g_autoptr(GError) error = NULL;
  g_autofree gint64 *job = g_task_propagate_pointer (G_TASK (result), &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  set_busy (self, FALSE);
  gtk_widget_set_sensitive (self->start_button, TRUE);
  if (job == NULL)
    {
      notice (self, error->message);
      return;
    }
  /* Without the timer the job still goes on, while a window is open: say so. */
  if (g_object_get_data (G_OBJECT (result), "timer-error") != NULL)
    notice (self, g_object_get_data (G_OBJECT (result), "timer-error"));
  mr_mailshots_page_show_job (self, *job);
  run_job (self, *job);
}

static void
on_start_clicked (MrMailshotsPage *self)
{
  g_autoptr(GTask) task = wizard_task (self, on_start_clicked, created);

  gtk_widget_set_sensitive (self->start_button, FALSE);
  g_task_run_in_thread (task, create_thread);
}

/* ---- Wizard navigation ------------------------------------------------------------------------ */

void
mr_mailshots_page_next (MrMailshotsPage *self)
{
  const char *step = gtk_stack_get_visible_child_name (self->steps);

  if (self->busy > 0)
    return;
  if (g_str_equal (step, "setup"))
    {
      /* Next is off meanwhile, with the reason beside it. */
      if (setup_problem (self) == NULL)
        check_recipients (self);
    }
  else if (g_str_equal (step, "check"))
    {
      guint first = 2;

      /* The first row that is sent, to preview. */
      for (guint i = 0; self->report && i < self->report->problems->len; i++)
        {
          MrProblem *problem = g_ptr_array_index (self->report->problems, i);
          if (problem->row == first && problem->severity == MR_PROBLEM_ERROR)
            first++;
        }
      show_step (self, "preview");
      self->preview_row = 0;
      gtk_label_set_text (self->preview_position_label, "");
      mr_message_view_clear (self->preview_view);
      load_preview (self, first, 1, NULL);
    }
  else if (g_str_equal (step, "preview"))
    {
      show_step (self, "start");
      show_start (self);
    }
}

static void
on_next_clicked (MrMailshotsPage *self)
{
  mr_mailshots_page_next (self);
}

static void
on_back_clicked (MrMailshotsPage *self)
{
  const char *step = gtk_stack_get_visible_child_name (self->steps);

  for (guint i = 1; i < G_N_ELEMENTS (step_names); i++)
    if (g_str_equal (step, step_names[i]))
      {
        show_step (self, step_names[i - 1]);
        return;
      }
  gtk_stack_set_visible_child_name (self->stack, "jobs");
  refresh (self);
}

/* ---- Running jobs ----------------------------------------------------------------------------- */

static void
run_thread (GTask        *task,
            gpointer      source_object,
            gpointer      task_data,
            GCancellable *cancellable)
{
  gint64 job = *(gint64 *) task_data;
  GError *error = NULL;
  g_autoptr(MrSettings) settings = load_settings (&error);
  g_autoptr(MrMailshotJournal) journal = settings ? mr_mailshot_journal_open (NULL, &error) : NULL;

  if (journal != NULL && mr_mailshot_run_sync (journal, settings, job, NULL, NULL, cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
run_done (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(MrMailshotsPage) self = user_data;
  gint64 job = *(gint64 *) g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;

  GApplication *application = g_object_get_data (G_OBJECT (result), "application");

  if (application != NULL)
    g_application_release (application);
  if (self->running != NULL)
    g_hash_table_remove (self->running, &job);
  if (!g_task_propagate_boolean (G_TASK (result), &error) && self->running != NULL &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) &&
      !g_error_matches (error, MR_MAILSHOT_ERROR, MR_MAILSHOT_ERROR_BUSY))
    notice (self, error->message);
  if (self->running != NULL)
    refresh (self);
}

static void
run_job (MrMailshotsPage *self,
         gint64           job)
{
  g_autoptr(GTask) task = NULL;
  GCancellable *cancellable;
  gint64 *key;

  if (g_hash_table_contains (self->running, &job))
    return;
  cancellable = g_cancellable_new ();
  key = g_memdup2 (&job, sizeof job);
  g_hash_table_insert (self->running, key, cancellable);
  task = g_task_new (NULL, cancellable, run_done, g_object_ref (self));
  g_task_set_source_tag (task, run_job);
  g_task_set_task_data (task, g_memdup2 (&job, sizeof job), g_free);
  /* Closing the window stops the job between two mails; the app waits for that, briefly. */
  if (g_application_get_default () != NULL)
    {
      g_application_hold (g_application_get_default ());
      g_object_set_data_full (G_OBJECT (task), "application", g_object_ref (g_application_get_default ()), g_object_unref);
    }
  g_task_run_in_thread (task, run_thread);
}

/* Jobs whose time has come, when the window opens and every minute: cut off when it last closed,
 * scheduled, or with retries due. Paused and finished jobs are left alone. */
static void
resume_due_jobs (MrMailshotsPage *self,
                 GPtrArray       *jobs)
{
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  for (guint i = 0; i < jobs->len; i++)
    {
      MrMailshotStatus *status = g_ptr_array_index (jobs, i);
      gboolean due = g_str_equal (status->state, "ready") ||
                     (g_str_equal (status->state, "running") && !status->running) ||
                     (g_str_equal (status->state, "scheduled") && status->not_before <= now);

      if (due && (status->pending > 0 || status->failed_temporary > 0))
        run_job (self, status->id);
    }
}

/* ---- The job view and the list ---------------------------------------------------------------- */

static const char *
state_label (const MrMailshotStatus *status)
{
  if (g_str_equal (status->state, "running"))
    return status->running ? _("Sending") : _("Interrupted: it goes on when Mailroom opens or the timer runs");
  if (g_str_equal (status->state, "ready"))
    return status->pending > 0 ? _("Waiting to go on") : _("Some recipients are to be tried again later");
  if (g_str_equal (status->state, "scheduled"))
    return _("Scheduled");
  if (g_str_equal (status->state, "paused"))
    return _("Paused");
  if (g_str_equal (status->state, "cancelled"))
    return _("Cancelled");
  return _("Finished");
}

static const char *
recipient_state_label (const char *state)
{
  static const struct { const char *state; const char *label; } labels[] = {
    { "pending", N_("To send") },
    { "sending", N_("Sending") },
    { "accepted", N_("Accepted") },
    { "queued-locally", N_("Queued on this computer") },
    { "failed-temporary", N_("To try again") },
    { "failed-permanent", N_("Failed") },
    { "skipped", N_("Not sent") },
  };

  for (guint i = 0; i < G_N_ELEMENTS (labels); i++)
    if (g_str_equal (state, labels[i].state))
      return _(labels[i].label);
  return state;
}

/* The mails meant to go (the rows not left out, repeated or with errors), and those gone. */
static guint
mails_meant (const MrMailshotStatus *status)
{
  return status->total - status->skipped;
}

static guint
mails_sent (const MrMailshotStatus *status)
{
  return status->accepted + status->queued_locally;
}

/* Counts that add up: of the mails meant to go (the rows not left out), how many went, and what
 * became of the others. */
static char *
counts_text (const MrMailshotStatus *status)
{
  GString *text = g_string_new (NULL);

  g_string_append_printf (text, _("%u of %u sent"), mails_sent (status), mails_meant (status));
  if (status->pending > 0)
    g_string_append_printf (text, _(" · %u to send"), status->pending);
  if (status->failed_temporary > 0)
    g_string_append_printf (text, _(" · %u to try again"), status->failed_temporary);
  if (status->failed_permanent > 0)
    g_string_append_printf (text, _(" · %u refused"), status->failed_permanent);
  if (status->skipped > 0)
    g_string_append_printf (text, g_dngettext (GETTEXT_PACKAGE, " · %u row not sent (left out, repeated or with an error)",
                                               " · %u rows not sent (left out, repeated or with errors)", status->skipped),
                            status->skipped);
  return g_string_free (text, FALSE);
}

const char *
mr_mailshots_page_get_counts (MrMailshotsPage *self)
{
  return gtk_label_get_text (self->job_counts);
}

/* When the job is over: what it came to, and the way to its mails in Sent. */
static void
show_job_done (MrMailshotsPage        *self,
               const MrMailshotStatus *status)
{
  gboolean done = g_str_equal (status->state, "done");
  gboolean over = done || g_str_equal (status->state, "cancelled");
  guint sent = mails_sent (status);
  guint meant = mails_meant (status);
  g_autofree char *title = NULL;

  gtk_widget_set_visible (GTK_WIDGET (self->job_done_group), over);
  if (!over)
    return;
  title = g_strdup_printf (done ? _("Finished: %u of %u sent") : _("Cancelled: %u of %u sent"), sent, meant);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->job_done_row), title);
  adw_action_row_set_subtitle (self->job_done_row,
                               status->failed_permanent > 0 ? _("Some recipients’ servers refused the mail: “Only those not sent” lists them, with why")
                               : sent == meant ? _("Every recipient’s server took the mail")
                                               : _("“Only those not sent” lists the others, with why"));
  gtk_image_set_from_icon_name (self->job_done_icon, done && sent == meant ? "emblem-ok-symbolic" : "dialog-warning-symbolic");
  gtk_widget_remove_css_class (GTK_WIDGET (self->job_done_icon), done && sent == meant ? "warning" : "success");
  gtk_widget_add_css_class (GTK_WIDGET (self->job_done_icon), done && sent == meant ? "success" : "warning");
}

static void
on_not_sent_toggled (MrMailshotsPage *self)
{
  /* Positions stand for other rows now: the list starts again. */
  mr_row_model_set_n_items (self->rows_model, 0);
  if (self->recipients != NULL)
    update_rows (self);
}

static void
on_open_sent_clicked (MrMailshotsPage *self)
{
  g_signal_emit (self, signals[OPEN_SENT], 0, self->job);
}

static void
update_job_view (MrMailshotsPage *self)
{
  MrMailshotStatus *status = self->status;
  guint done = status->total - status->pending - status->failed_temporary;
  g_autofree char *counts = counts_text (status);
  g_autofree char *number = g_strdup_printf ("%" G_GINT64_FORMAT, status->id);
  g_autofree char *title = g_strdup_printf (_("%s, mailshot %s"), status->template_name, number);
  g_autoptr(GString) line = g_string_new (state_label (status));
  gint64 now = g_get_monotonic_time ();
  gboolean finished = g_str_equal (status->state, "done") || g_str_equal (status->state, "cancelled");
  gboolean sending = g_str_equal (status->state, "running") && status->running;

  gtk_label_set_text (self->job_title, title);
  /* The rate over the last samples, and the time left at that rate. */
  if (sending && self->rate_time > 0 && now > self->rate_time && done >= self->rate_done)
    {
      double current = (done - self->rate_done) * 60.0 * G_USEC_PER_SEC / (now - self->rate_time);
      self->rate = self->rate > 0 ? 0.7 * self->rate + 0.3 * current : current;
    }
  else if (!sending)
    self->rate = 0;
  self->rate_time = now;
  self->rate_done = done;
  if (status->reason != NULL)
    g_string_append_printf (line, ": %s", status->reason);
  if (sending && self->rate >= 1)
    {
      g_autofree char *left = format_duration ((gint64) (status->pending / self->rate * 60));
      g_string_append (line, " · ");
      g_string_append_printf (line, _("%.0f a minute, %s left"), self->rate, left);
    }
  gtk_label_set_text (self->job_state, line->str);
  {
    /* The bar counts the mails meant to go, as the counts below do. */
    guint meant = mails_meant (status);
    guint over = meant - MIN (meant, status->pending + status->failed_temporary);
    g_autofree char *fraction = g_strdup_printf (_("%u of %u"), over, meant);

    gtk_progress_bar_set_fraction (self->job_progress, meant ? (double) over / meant : 1);
    gtk_progress_bar_set_text (self->job_progress, fraction);
  }
  gtk_label_set_text (self->job_counts, counts);
  show_job_done (self, status);
  gtk_widget_set_visible (self->pause_button, !finished && !g_str_equal (status->state, "paused"));
  gtk_widget_set_visible (self->resume_button, g_str_equal (status->state, "paused") ||
                                               (!finished && !status->running && !g_str_equal (status->state, "scheduled")));
  gtk_widget_set_visible (self->cancel_button, !finished);
}

static void fill_cell (MrMailshotsPage *self, GtkListItem *item);

static gboolean
is_not_sent (const MrMailshotRecipient *recipient)
{
  return g_str_equal (recipient->state, "failed-permanent") || g_str_equal (recipient->state, "failed-temporary") ||
         g_str_equal (recipient->state, "skipped");
}

/* "Only those not sent": the list shows the positions in @shown; otherwise every recipient. */
static void
update_shown (MrMailshotsPage *self)
{
  g_clear_pointer (&self->shown, g_array_unref);
  g_clear_pointer (&self->cell_text, g_free);
  if (self->recipients == NULL || !gtk_check_button_get_active (self->not_sent_check))
    return;
  self->shown = g_array_new (FALSE, FALSE, sizeof (guint));
  for (guint i = 0; i < self->recipients->len; i++)
    if (is_not_sent (g_ptr_array_index (self->recipients, i)))
      g_array_append_val (self->shown, i);
}

static guint
n_shown (MrMailshotsPage *self)
{
  if (self->shown != NULL)
    return self->shown->len;
  return self->recipients != NULL ? self->recipients->len : 0;
}

static MrMailshotRecipient *
shown_recipient (MrMailshotsPage *self,
                 guint            position)
{
  if (position >= n_shown (self))
    return NULL;
  return g_ptr_array_index (self->recipients, self->shown ? g_array_index (self->shown, guint, position) : position);
}

/* The list's items stand for rows by position and never change while a job is shown: the cells on
 * screen (a few dozen) are filled again from the new data. Replacing changed items instead made
 * the column view redo work for the whole list, which stalled the window on long jobs. */
/* GTK 4.8's column view makes the widgets of up to about 200 rows as soon as they exist, which
 * stalled the window for 100–190 ms when a long job's view opened: those rows come a few a frame. */
#define ROWS_MADE_AT_ONCE 200
#define ROWS_PER_FRAME 10

static gboolean
grow_rows (GtkWidget     *widget,
           GdkFrameClock *clock,
           gpointer       data)
{
  MrMailshotsPage *self = data;
  guint n = n_shown (self);
  guint have = g_list_model_get_n_items (G_LIST_MODEL (self->rows_model));
  guint next = have < ROWS_MADE_AT_ONCE ? MIN (n, have + ROWS_PER_FRAME) : n;

  mr_row_model_set_n_items (self->rows_model, next);
  if (next < n)
    return G_SOURCE_CONTINUE;
  self->grow_tick = 0;
  return G_SOURCE_REMOVE;
}

static void
update_rows (MrMailshotsPage *self)
{
  guint n, old = g_list_model_get_n_items (G_LIST_MODEL (self->rows_model));
  GHashTableIter iter;
  gpointer item;

  update_shown (self);
  n = n_shown (self);

  if (n > old && old < ROWS_MADE_AT_ONCE)
    {
      if (self->grow_tick == 0)
        self->grow_tick = gtk_widget_add_tick_callback (GTK_WIDGET (self->recipients_view), grow_rows, self, NULL);
      return;
    }
  /* The rows on screen are filled again too: with a filter, a position may stand for another row. */
  if (n != old)
    mr_row_model_set_n_items (self->rows_model, n);
  g_hash_table_iter_init (&iter, self->bound_cells);
  while (g_hash_table_iter_next (&iter, &item, NULL))
    fill_cell (self, item);
}

static void
on_job_activated (MrMailshotsPage *self,
                  GtkListBoxRow   *row)
{
  gint64 *job = g_object_get_data (G_OBJECT (row), "job");

  mr_mailshots_page_show_job (self, *job);
}

static void
update_jobs_list (MrMailshotsPage *self,
                  GPtrArray       *jobs)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->jobs_list))) != NULL)
    gtk_list_box_remove (self->jobs_list, child);
  /* With no job, the empty state's own button starts one: one suggested action at a time. */
  gtk_widget_set_visible (self->no_jobs_label, jobs->len == 0);
  gtk_widget_set_visible (self->new_button, jobs->len > 0);
  gtk_widget_set_visible (GTK_WIDGET (self->jobs_list), jobs->len > 0);
  for (guint i = 0; i < jobs->len; i++)
    {
      MrMailshotStatus *status = g_ptr_array_index (jobs, i);
      GtkWidget *row = adw_action_row_new ();
      g_autofree char *number = g_strdup_printf ("%" G_GINT64_FORMAT, status->id);
      g_autofree char *title = g_strdup_printf (_("%s, mailshot %s"), status->template_name, number);
      g_autofree char *counts = counts_text (status);
      g_autofree char *subtitle = g_strdup_printf ("%s · %s", state_label (status), counts);
      GtkWidget *arrow = gtk_image_new_from_icon_name ("go-next-symbolic");

      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), arrow);
      gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
      g_object_set_data_full (G_OBJECT (row), "job", g_memdup2 (&status->id, sizeof status->id), g_free);
      gtk_list_box_append (self->jobs_list, row);
    }
}

typedef struct {
  gint64     job;
  gboolean   want_recipients;
  gboolean   timer;            /* the systemd timer is installed */
  GPtrArray *jobs;
  MrMailshotStatus *status;
  GPtrArray *recipients;
} Refresh;

static void
refresh_free (Refresh *data)
{
  g_clear_pointer (&data->jobs, g_ptr_array_unref);
  g_clear_pointer (&data->status, mr_mailshot_status_free);
  g_clear_pointer (&data->recipients, g_ptr_array_unref);
  g_free (data);
}

static void
refresh_thread (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  Refresh *data = task_data;
  GError *error = NULL;
  g_autoptr(MrMailshotJournal) journal = mr_mailshot_journal_open (NULL, &error);

  if (journal == NULL || (data->jobs = mr_mailshot_list (journal, &error)) == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  data->timer = mr_timer_is_installed ();
  if (data->job != 0)
    {
      data->status = mr_mailshot_get_status (journal, data->job, NULL);
      if (data->want_recipients)
        data->recipients = mr_mailshot_get_recipients (journal, data->job, NULL);
    }
  g_task_return_boolean (task, TRUE);
}

static void
refreshed (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  MrMailshotsPage *self = MR_MAILSHOTS_PAGE (source);
  Refresh *data = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          self->refreshing = FALSE;
          notice (self, error->message);
        }
      return;
    }
  self->refreshing = FALSE;
  update_jobs_list (self, data->jobs);
  gtk_widget_set_visible (self->timer_list, data->timer);
  if (data->job == self->job && data->status != NULL)
    {
      g_clear_pointer (&self->status, mr_mailshot_status_free);
      self->status = g_steal_pointer (&data->status);
      if (data->recipients != NULL)
        {
          g_clear_pointer (&self->recipients, g_ptr_array_unref);
          self->recipients = g_steal_pointer (&data->recipients);
          update_rows (self);
        }
      update_job_view (self);
    }
}

static void
refresh (MrMailshotsPage *self)
{
  g_autoptr(GTask) task = NULL;
  Refresh *data;

  if (self->refreshing)
    return;
  self->refreshing = TRUE;
  data = g_new0 (Refresh, 1);
  data->job = self->job;
  data->want_recipients = g_str_equal (gtk_stack_get_visible_child_name (self->stack), "job");
  task = g_task_new (self, self->cancellable, refreshed, NULL);
  g_task_set_source_tag (task, refresh);
  g_task_set_task_data (task, data, (GDestroyNotify) refresh_free);
  g_task_run_in_thread (task, refresh_thread);
}

static gboolean
on_refresh_timer (gpointer user_data)
{
  MrMailshotsPage *self = user_data;
  const char *shown = gtk_stack_get_visible_child_name (self->stack);

  if (g_str_equal (shown, "job") || (g_str_equal (shown, "jobs") && g_hash_table_size (self->running) > 0))
    refresh (self);
  return G_SOURCE_CONTINUE;
}

void
mr_mailshots_page_show_job (MrMailshotsPage *self,
                            gint64           job)
{
  if (self->job != job)
    {
      g_clear_pointer (&self->status, mr_mailshot_status_free);
      g_clear_pointer (&self->recipients, g_ptr_array_unref);
      mr_row_model_set_n_items (self->rows_model, 0);
      self->rate = 0;
      self->rate_time = 0;
    }
  self->job = job;
  gtk_label_set_text (self->job_title, "");
  gtk_stack_set_visible_child_name (self->stack, "job");
  refresh (self);
}

static void
on_show_jobs (MrMailshotsPage *self)
{
  gtk_stack_set_visible_child_name (self->stack, "jobs");
  refresh (self);
}

/* A small write to the journal (a job's state, its report) in a worker thread, then a word to the
 * user: one pair of functions for each such job. */
typedef gboolean (*JournalWork) (MrMailshotJournal  *journal,
                                 gint64              job,
                                 const char         *argument,
                                 GError            **error);

static void
journal_work_thread (GTask        *task,
                     gpointer      source_object,
                     gpointer      task_data,
                     GCancellable *cancellable)
{
  JournalWork work = (JournalWork) g_object_get_data (G_OBJECT (task), "work");
  gint64 job = GPOINTER_TO_SIZE (g_object_get_data (G_OBJECT (task), "job"));
  GError *error = NULL;
  g_autoptr(MrMailshotJournal) journal = mr_mailshot_journal_open (NULL, &error);

  if (journal != NULL && work (journal, job, task_data, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
journal_work_done (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  MrMailshotsPage *self = MR_MAILSHOTS_PAGE (source);
  const char *done = g_object_get_data (G_OBJECT (result), "done");
  g_autoptr(GError) error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        notice (self, error->message);
      return;
    }
  if (done != NULL)
    notice (self, done);
  refresh (self);
}

/* @done: what to tell the user when it worked, or NULL. */
static void
run_journal_work (MrMailshotsPage *self,
                  JournalWork      work,
                  const char      *argument,
                  const char      *done)
{
  g_autoptr(GTask) task = g_task_new (self, self->cancellable, journal_work_done, NULL);

  g_task_set_source_tag (task, run_journal_work);
  g_task_set_task_data (task, g_strdup (argument), g_free);
  g_object_set_data (G_OBJECT (task), "work", (gpointer) work);
  g_object_set_data (G_OBJECT (task), "job", GSIZE_TO_POINTER ((gsize) self->job));
  g_object_set_data_full (G_OBJECT (task), "done", g_strdup (done), g_free);
  g_task_run_in_thread (task, journal_work_thread);
}

/* Pausing and cancelling are a word in the journal, which the process sending the job (this one,
 * the CLI or the timer's) reads before each mail. */
static void
set_job_state (MrMailshotsPage *self,
               const char      *state)
{
  run_journal_work (self, mr_mailshot_set_state, state, NULL);
}

static void
on_pause_clicked (MrMailshotsPage *self)
{
  set_job_state (self, "paused");
}

static void
on_resume_clicked (MrMailshotsPage *self)
{
  /* Running a paused job is what resumes it. */
  run_job (self, self->job);
  refresh (self);
}

static void
on_cancel_response (AdwMessageDialog *dialog,
                    const char       *response,
                    MrMailshotsPage  *self)
{
  if (g_str_equal (response, "cancel-job"))
    set_job_state (self, "cancelled");
}

static void
on_cancel_clicked (MrMailshotsPage *self)
{
  GtkWidget *dialog = adw_message_dialog_new (GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))),
                                              _("Cancel This Mailshot?"),
                                              _("Recipients not sent to yet will not get it. Those who did are listed "
                                                "in its report."));

  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "keep", _("_Keep Sending"),
                                    "cancel-job", _("_Cancel Mailshot"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "cancel-job", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "keep");
  g_signal_connect (dialog, "response", G_CALLBACK (on_cancel_response), self);
  gtk_window_present (GTK_WINDOW (dialog));
}

void
mr_mailshots_page_export_report (MrMailshotsPage *self,
                                 const char      *path)
{
  g_autofree char *done = g_strdup_printf (_("Report saved as %s"), path);

  run_journal_work (self, mr_mailshot_export_csv, path, done);
}

static void
on_export_clicked (MrMailshotsPage *self)
{
  GtkFileChooserNative *chooser = gtk_file_chooser_native_new (_("Export the Report"),
                                                               GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))),
                                                               GTK_FILE_CHOOSER_ACTION_SAVE, _("_Save"), _("_Cancel"));
  g_autofree char *name = g_strdup_printf ("mailshot-%" G_GINT64_FORMAT ".csv", self->job);

  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), name);
  choose_path (self, chooser, mr_mailshots_page_export_report);
}

static void
remove_timer_thread (GTask        *task,
                     gpointer      source_object,
                     gpointer      task_data,
                     GCancellable *cancellable)
{
  GError *error = NULL;

  if (mr_timer_remove (&error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
timer_removed (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  MrMailshotsPage *self = MR_MAILSHOTS_PAGE (source);
  g_autoptr(GError) error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        notice (self, error->message);
      return;
    }
  notice (self, _("The timer is removed: scheduled mailshots go on only while Mailroom is open"));
  refresh (self);
}

static void
on_remove_timer_clicked (MrMailshotsPage *self)
{
  g_autoptr(GTask) task = g_task_new (self, self->cancellable, timer_removed, NULL);

  g_task_set_source_tag (task, on_remove_timer_clicked);
  g_task_run_in_thread (task, remove_timer_thread);
}

/* ---- The recipients' columns ------------------------------------------------------------------ */

enum { COLUMN_ROW, COLUMN_ADDRESS, COLUMN_STATE, COLUMN_REPLY };

static void
setup_cell (GtkSignalListItemFactory *factory,
            GtkListItem              *item,
            gpointer                  user_data)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  gtk_list_item_set_child (item, label);
}

/* Only a changed text is set: setting a label, even to the same text, makes GTK measure it again. */
static void
set_cell_text (GtkLabel   *label,
               const char *text)
{
  if (g_strcmp0 (gtk_label_get_text (label), text ? text : "") != 0)
    gtk_label_set_text (label, text ? text : "");
}

/* What a cell of the job's list says; @tooltip gets the server's own reply behind the words. */
static char *
cell_text (MrMailshotsPage *self,
           guint            position,
           guint            column,
           const char     **tooltip)
{
  MrMailshotRecipient *recipient = self->recipients != NULL ? shown_recipient (self, position) : NULL;

  if (tooltip != NULL)
    *tooltip = NULL;
  if (recipient == NULL)
    return g_strdup ("");
  switch (column)
    {
    case COLUMN_ROW:
      return g_strdup_printf ("%u", recipient->row);
    case COLUMN_ADDRESS:
      return g_strdup (recipient->address);
    case COLUMN_STATE:
      return g_strdup (recipient_state_label (recipient->state));
    default:
      {
        /* Words first; the server's own reply behind them, in the tooltip and the exported report. */
        char *words = mr_smtp_reply_in_words (recipient->reply);

        if (tooltip != NULL)
          *tooltip = recipient->reply;
        return words ? words : g_strdup (recipient->reply ? recipient->reply : "");
      }
    }
}

const char *
mr_mailshots_page_get_cell (MrMailshotsPage *self,
                            guint            position,
                            guint            column)
{
  g_free (self->cell_text);
  self->cell_text = cell_text (self, position, column, NULL);
  return self->cell_text;
}

static void
fill_cell (MrMailshotsPage *self,
           GtkListItem     *item)
{
  guint column = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (item), "column"));
  GtkLabel *label = GTK_LABEL (gtk_list_item_get_child (item));
  const char *tooltip;
  g_autofree char *text = cell_text (self, gtk_list_item_get_position (item), column, &tooltip);

  if (column <= COLUMN_STATE)
    set_cell_text (label, text);
  else if (g_strcmp0 (gtk_label_get_text (label), text) != 0)
    {
      gtk_label_set_text (label, text);
      gtk_widget_set_tooltip_text (GTK_WIDGET (label), tooltip);
    }
}

static void
bind_cell (GtkSignalListItemFactory *factory,
           GtkListItem              *item,
           MrMailshotsPage          *self)
{
  g_object_set_data (G_OBJECT (item), "column", g_object_get_data (G_OBJECT (factory), "column"));
  g_hash_table_add (self->bound_cells, item);
  fill_cell (self, item);
}

static void
unbind_cell (GtkSignalListItemFactory *factory,
             GtkListItem              *item,
             MrMailshotsPage          *self)
{
  if (self->bound_cells != NULL)
    g_hash_table_remove (self->bound_cells, item);
}

static void
add_column (MrMailshotsPage *self,
            const char      *title,
            guint            column,
            gboolean         expand)
{
  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();
  GtkColumnViewColumn *view_column;

  g_object_set_data (G_OBJECT (factory), "column", GUINT_TO_POINTER (column));
  g_signal_connect (factory, "setup", G_CALLBACK (setup_cell), NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_cell), self);
  g_signal_connect (factory, "unbind", G_CALLBACK (unbind_cell), self);
  view_column = gtk_column_view_column_new (title, factory);
  gtk_column_view_column_set_expand (view_column, expand);
  gtk_column_view_column_set_resizable (view_column, TRUE);
  gtk_column_view_append_column (self->recipients_view, view_column);
  g_object_unref (view_column);
}

/* ---- GObject ---------------------------------------------------------------------------------- */

static void
jobs_listed (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  MrMailshotsPage *self = MR_MAILSHOTS_PAGE (source);
  Refresh *data = g_task_get_task_data (G_TASK (result));

  refreshed (source, result, user_data);
  if (data->jobs != NULL && self->running != NULL)
    resume_due_jobs (self, data->jobs);
}

static gboolean
on_due_timer (gpointer user_data)
{
  MrMailshotsPage *self = user_data;
  g_autoptr(GTask) task = g_task_new (self, self->cancellable, jobs_listed, NULL);

  g_task_set_source_tag (task, on_due_timer);
  g_task_set_task_data (task, g_new0 (Refresh, 1), (GDestroyNotify) refresh_free);
  g_task_run_in_thread (task, refresh_thread);
  return G_SOURCE_CONTINUE;
}

void
mr_mailshots_page_stop (MrMailshotsPage *self)
{
  GHashTableIter iter;
  gpointer cancellable;

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->refresh_source, g_source_remove);
  g_clear_handle_id (&self->due_source, g_source_remove);
  if (self->running == NULL)
    return;
  g_hash_table_iter_init (&iter, self->running);
  while (g_hash_table_iter_next (&iter, NULL, &cancellable))
    g_cancellable_cancel (cancellable);
}

static void
mr_mailshots_page_dispose (GObject *object)
{
  MrMailshotsPage *self = MR_MAILSHOTS_PAGE (object);

  /* Jobs stop between two mails and are left to go on next time. */
  mr_mailshots_page_stop (self);
  if (self->grow_tick != 0 && self->recipients_view != NULL)
    gtk_widget_remove_tick_callback (GTK_WIDGET (self->recipients_view), self->grow_tick);
  self->grow_tick = 0;
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->running, g_hash_table_unref);
  g_clear_handle_id (&self->refresh_source, g_source_remove);
  g_clear_handle_id (&self->due_source, g_source_remove);
  g_clear_object (&self->settings);
  g_clear_pointer (&self->templates, g_ptr_array_unref);
  if (self->deliverability_cancellable != NULL)
    g_cancellable_cancel (self->deliverability_cancellable);
  g_clear_object (&self->deliverability_cancellable);
  g_clear_pointer (&self->deliverability_provider, g_free);
  g_clear_pointer (&self->deliverability, mr_domain_report_free);
  g_clear_pointer (&self->deliverability_rows, g_ptr_array_unref);
  g_clear_pointer (&self->recipients_path, g_free);
  g_clear_pointer (&self->folder_path, g_free);
  g_clear_pointer (&self->columns, g_strfreev);
  g_clear_pointer (&self->left_out, g_hash_table_unref);
  g_clear_pointer (&self->report, mr_proof_report_free);
  g_clear_pointer (&self->error_rows, g_hash_table_unref);
  g_clear_pointer (&self->status, mr_mailshot_status_free);
  g_clear_pointer (&self->recipients, g_ptr_array_unref);
  g_clear_object (&self->rows_model);
  g_clear_pointer (&self->shown, g_array_unref);
  g_clear_pointer (&self->bound_cells, g_hash_table_unref);
  /* The bin's child is a template child too: the bin lets go of it first, or both would unparent it. */
  adw_bin_set_child (ADW_BIN (self), NULL);
  gtk_widget_dispose_template (GTK_WIDGET (self), MR_TYPE_MAILSHOTS_PAGE);

  G_OBJECT_CLASS (mr_mailshots_page_parent_class)->dispose (object);
}

static void
mr_mailshots_page_class_init (MrMailshotsPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = mr_mailshots_page_dispose;

  signals[NOTICE] = g_signal_new ("notice", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                  G_TYPE_NONE, 1, G_TYPE_STRING);
  /* ::open-sent (job): the person wants the job's mails in the sent log. */
  signals[OPEN_SENT] = g_signal_new ("open-sent", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                     G_TYPE_NONE, 1, G_TYPE_INT64);

  g_type_ensure (MR_TYPE_MESSAGE_VIEW);
  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/mailroom/Mailroom/mr-mailshots-page.ui");
#define BIND(name) gtk_widget_class_bind_template_child (widget_class, MrMailshotsPage, name)
  BIND (stack);
  BIND (no_jobs_label);
  BIND (new_button);
  BIND (jobs_list);
  BIND (timer_list);
  BIND (remove_timer_button);
  BIND (steps);
  BIND (template_row);
  BIND (deliverability_group);
  BIND (deliverability_list);
  BIND (send_anyway_list);
  BIND (send_anyway_switch);
  BIND (via_row);
  BIND (recipients_row);
  BIND (sheet_row);
  BIND (address_row);
  BIND (name_row);
  BIND (attachment_row);
  BIND (folder_row);
  BIND (once_switch);
  BIND (per_minute_spin);
  BIND (per_day_spin);
  gtk_widget_class_bind_template_callback (widget_class, on_per_day_changed);
  BIND (connections_spin);
  BIND (start_row);
  BIND (start_clear_button);
  BIND (start_menu_button);
  BIND (start_popover);
  BIND (start_calendar);
  BIND (start_hour_spin);
  BIND (start_minute_spin);
  BIND (start_problem);
  BIND (start_set_button);
  BIND (check_group);
  BIND (check_summary);
  BIND (problems_list);
  BIND (preview_previous_button);
  BIND (preview_position_label);
  BIND (preview_next_button);
  BIND (preview_search_entry);
  BIND (preview_view);
  BIND (sample_row_button);
  BIND (samples_to_row);
  BIND (samples_spin);
  BIND (samples_button);
  BIND (start_page);
  BIND (start_button);
  BIND (back_button);
  BIND (next_button);
  BIND (next_reason);
  BIND (step_label);
  BIND (busy_spinner);
  BIND (job_title);
  BIND (job_state);
  BIND (job_progress);
  BIND (job_counts);
  BIND (not_sent_check);
  BIND (job_done_group);
  BIND (job_done_row);
  BIND (job_done_icon);
  BIND (open_sent_button);
  BIND (recipients_view);
  BIND (pause_button);
  BIND (resume_button);
  BIND (cancel_button);
  BIND (export_button);
#undef BIND
  gtk_widget_class_bind_template_callback (widget_class, on_new_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_job_activated);
  gtk_widget_class_bind_template_callback (widget_class, on_choose_recipients);
  gtk_widget_class_bind_template_callback (widget_class, on_choose_folder);
  gtk_widget_class_bind_template_callback (widget_class, on_send_samples);
  gtk_widget_class_bind_template_callback (widget_class, on_start_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_send_anyway_toggled);
  gtk_widget_class_bind_template_callback (widget_class, on_back_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_next_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_not_sent_toggled);
  gtk_widget_class_bind_template_callback (widget_class, on_open_sent_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_show_jobs);
  gtk_widget_class_bind_template_callback (widget_class, on_pause_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_resume_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_cancel_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_export_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_remove_timer_clicked);
}

static void
mr_mailshots_page_init (MrMailshotsPage *self)
{
  GtkWidget *check_again = gtk_button_new_with_mnemonic (_("Check _Again"));
  g_autoptr(GtkNoSelection) selection = NULL;

  self->deliverability_rows = g_ptr_array_new ();
  gtk_widget_init_template (GTK_WIDGET (self));
  /* The template is changed where the mailshot is made, not in another page. */
  self->edit_template_button = gtk_button_new_with_mnemonic (_("_Edit…"));
  gtk_widget_set_valign (self->edit_template_button, GTK_ALIGN_CENTER);
  gtk_widget_set_tooltip_text (self->edit_template_button, _("Change the template without leaving the mailshot"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->edit_template_button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Edit the template"), -1);
  g_signal_connect_swapped (self->edit_template_button, "clicked", G_CALLBACK (mr_mailshots_page_edit_template), self);
  adw_action_row_add_suffix (ADW_ACTION_ROW (self->template_row), self->edit_template_button);
  self->cancellable = g_cancellable_new ();
  self->running = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_object_unref);
  self->left_out = g_hash_table_new (NULL, NULL);
  self->rows_model = mr_row_model_new ();
  self->bound_cells = g_hash_table_new (NULL, NULL);
  selection = gtk_no_selection_new (G_LIST_MODEL (g_object_ref (self->rows_model)));
  gtk_column_view_set_model (self->recipients_view, GTK_SELECTION_MODEL (selection));
  add_column (self, _("Row"), COLUMN_ROW, FALSE);
  add_column (self, _("Address"), COLUMN_ADDRESS, TRUE);
  add_column (self, _("State"), COLUMN_STATE, FALSE);
  add_column (self, _("Server’s reply, or why not sent"), COLUMN_REPLY, TRUE);

  gtk_widget_set_valign (check_again, GTK_ALIGN_CENTER);
  g_signal_connect_swapped (check_again, "clicked", G_CALLBACK (check_recipients), self);
  adw_preferences_group_set_header_suffix (self->check_group, check_again);
  g_signal_connect_swapped (self->template_row, "notify::selected", G_CALLBACK (on_template_changed), self);
  g_signal_connect_swapped (self->sheet_row, "notify::selected", G_CALLBACK (on_sheet_changed), self);
  g_signal_connect_swapped (self->preview_previous_button, "clicked", G_CALLBACK (on_preview_previous), self);
  g_signal_connect_swapped (self->preview_next_button, "clicked", G_CALLBACK (on_preview_next), self);
  g_signal_connect (self->preview_search_entry, "activate", G_CALLBACK (on_preview_search), self);
  g_signal_connect_swapped (self->sample_row_button, "clicked", G_CALLBACK (mr_mailshots_page_send_shown_sample), self);
  {
    /* A recipient list dropped anywhere on the page starts from it. */
    GtkDropTarget *drop = gtk_drop_target_new (GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);

    g_signal_connect (drop, "drop", G_CALLBACK (on_file_dropped), self);
    gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drop));
  }
  g_signal_connect_swapped (self->via_row, "notify::selected", G_CALLBACK (on_via_changed), self);
  g_signal_connect_swapped (self->attachment_row, "notify::selected", G_CALLBACK (on_attachment_column_changed), self);
  g_signal_connect_swapped (self->template_row, "notify::selected", G_CALLBACK (update_next), self);
  g_signal_connect_swapped (self->via_row, "notify::selected", G_CALLBACK (update_next), self);
  g_signal_connect_swapped (self->start_popover, "show", G_CALLBACK (on_start_popover_show), self);
  g_signal_connect_swapped (self->start_set_button, "clicked", G_CALLBACK (on_start_set), self);
  g_signal_connect_swapped (self->start_clear_button, "clicked", G_CALLBACK (on_start_clear), self);
  g_signal_connect (self->start_hour_spin, "output", G_CALLBACK (on_time_spin_output), NULL);
  g_signal_connect (self->start_minute_spin, "output", G_CALLBACK (on_time_spin_output), NULL);
  update_step_controls (self);
}

MrMailshotsPage *
mr_mailshots_page_new (MrSettings *settings)
{
  MrMailshotsPage *self = g_object_new (MR_TYPE_MAILSHOTS_PAGE, NULL);

  self->settings = g_object_ref (settings);
  gtk_stack_set_visible_child_name (self->stack, "jobs");
  /* Jobs cut off when the window last closed, and those due, go on now; then every minute. */
  on_due_timer (self);
  self->due_source = g_timeout_add_seconds (60, on_due_timer, self);
  self->refresh_source = g_timeout_add (1000, on_refresh_timer, self);
  return self;
}
