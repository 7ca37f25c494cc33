/* mr-mailshots-setup.c: the Mailshots page, the wizard's first step: the template, the recipients, the pace and the start */

#include "config.h"

#include <glib/gi18n.h>

#include <glib/gi18n.h>
#include "mailroom-dns.h"
#include "mailroom-mailshot.h"
#include "mailroom-transport.h"
#include "mr-domain-row.h"
#include "mr-key-labels.h"
#include "mr-mailshots-page-private.h"
#include "mr-mailshots-page.h"
#include "mr-message-view.h"
#include "mr-routes.h"
#include "mr-row-model.h"
#include "mr-template-editor.h"

/* ---- What the wizard has chosen ---------------------------------------------------------------- */

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

MrTemplate *
mr_mailshots_selected_template (MrMailshotsPage *self)
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

  choice->template_ = mr_mailshots_selected_template (self);
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
GTask *
mr_mailshots_wizard_task (MrMailshotsPage     *self,
                          gpointer             source_tag,
                          GAsyncReadyCallback  callback)
{
  GTask *task = g_task_new (self, self->cancellable, callback, NULL);

  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, current_choice (self), (GDestroyNotify) choice_free);
  mr_mailshots_set_busy (self, TRUE);
  return task;
}

/* ---- Step 1: template and recipients ---------------------------------------------------------- */

/* What the first step still lacks, in words, or NULL when it is complete. */
const char *
mr_mailshots_setup_problem (MrMailshotsPage *self)
{
  MrTemplate *template_ = mr_mailshots_selected_template (self);

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
void
mr_mailshots_update_next (MrMailshotsPage *self)
{
  const char *step = gtk_stack_get_visible_child_name (self->steps);
  const char *problem = step != NULL && g_str_equal (step, "setup") ? mr_mailshots_setup_problem (self) : NULL;

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

void
mr_mailshots_update_step_controls (MrMailshotsPage *self)
{
  const char *step = gtk_stack_get_visible_child_name (self->steps);
  GtkStackPage *page = gtk_stack_get_page (self->steps, gtk_stack_get_visible_child (self->steps));
  guint index = 0;
  g_autofree char *label = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (mr_mailshots_step_names); i++)
    if (g_str_equal (step, mr_mailshots_step_names[i]))
      index = i;
  label = g_strdup_printf (_("Step %u of %u: %s"), index + 1, (guint) G_N_ELEMENTS (mr_mailshots_step_names),
                           gtk_stack_page_get_title (page));
  gtk_label_set_text (self->step_label, label);
  gtk_widget_set_visible (self->next_button, index + 1 < G_N_ELEMENTS (mr_mailshots_step_names));
  gtk_button_set_label (GTK_BUTTON (self->back_button), index == 0 ? _("_Cancel") : _("_Back"));
  mr_mailshots_update_next (self);
}

void
mr_mailshots_show_step (MrMailshotsPage *self,
                        const char      *step)
{
  gtk_stack_set_visible_child_name (self->stack, "wizard");
  gtk_stack_set_visible_child_name (self->steps, step);
  mr_mailshots_update_step_controls (self);
}

static void
on_attachment_column_changed (MrMailshotsPage *self)
{
  gtk_widget_set_visible (GTK_WIDGET (self->folder_row), selected_column (self->attachment_row, TRUE) != NULL);
  mr_mailshots_update_next (self);
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
  mr_mailshots_set_busy (self, FALSE);
  if (head == NULL)
    {
      g_autofree char *words = mr_key_words (error->message);

      adw_action_row_set_subtitle (self->recipients_row, words);
      g_clear_pointer (&self->recipients_path, g_free);
      g_clear_pointer (&self->sheet, g_free);
      gtk_widget_set_visible (GTK_WIDGET (self->sheet_row), FALSE);
      mr_mailshots_update_next (self);
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
  mr_mailshots_update_next (self);
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
  mr_mailshots_set_busy (self, TRUE);
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
    mr_mailshots_show_step (self, "setup");
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
  mr_mailshots_update_next (self);
}


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

void
mr_mailshots_choose_path (MrMailshotsPage       *self,
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
  mr_mailshots_choose_path (self, chooser, mr_mailshots_page_set_recipients);
}

static void
on_choose_folder (MrMailshotsPage *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkFileChooserNative *chooser = gtk_file_chooser_native_new (_("Choose the Attachments Folder"), GTK_WINDOW (root),
                                                               GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, _("_Select"),
                                                               _("_Cancel"));

  mr_mailshots_choose_path (self, chooser, mr_mailshots_page_set_attachments_folder);
}

/* The pace of the template's application profile through the chosen route, as the company set it
 * (through Exchange Online, Office 365's). */
static void
on_via_changed (MrMailshotsPage *self)
{
  MrTemplate *template_ = mr_mailshots_selected_template (self);
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
  MrTemplate *template_ = mr_mailshots_selected_template (self);
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
  MrTemplate *template_ = mr_mailshots_selected_template (self);
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
  mr_mailshots_show_step (self, "setup");
}

static void
on_new_clicked (MrMailshotsPage *self)
{
  mr_mailshots_page_new_mailshot (self);
}

/* ---- Set-up -------------------------------------------------------------------------------- */

void
mr_mailshots_setup_class_init (GtkWidgetClass *widget_class)
{
  gtk_widget_class_bind_template_callback (widget_class, on_new_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_choose_recipients);
  gtk_widget_class_bind_template_callback (widget_class, on_choose_folder);
}

void
mr_mailshots_setup_init (MrMailshotsPage *self)
{
  g_signal_connect_swapped (self->template_row, "notify::selected", G_CALLBACK (on_template_changed), self);
  g_signal_connect_swapped (self->sheet_row, "notify::selected", G_CALLBACK (on_sheet_changed), self);
  {
    /* A recipient list dropped anywhere on the page starts from it. */
    GtkDropTarget *drop = gtk_drop_target_new (GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);

    g_signal_connect (drop, "drop", G_CALLBACK (on_file_dropped), self);
    gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drop));
  }
  g_signal_connect_swapped (self->via_row, "notify::selected", G_CALLBACK (on_via_changed), self);
  g_signal_connect_swapped (self->attachment_row, "notify::selected", G_CALLBACK (on_attachment_column_changed), self);
  g_signal_connect_swapped (self->template_row, "notify::selected", G_CALLBACK (mr_mailshots_update_next), self);
  g_signal_connect_swapped (self->via_row, "notify::selected", G_CALLBACK (mr_mailshots_update_next), self);
  g_signal_connect_swapped (self->start_popover, "show", G_CALLBACK (on_start_popover_show), self);
  g_signal_connect_swapped (self->start_set_button, "clicked", G_CALLBACK (on_start_set), self);
  g_signal_connect_swapped (self->start_clear_button, "clicked", G_CALLBACK (on_start_clear), self);
  g_signal_connect (self->start_hour_spin, "output", G_CALLBACK (on_time_spin_output), NULL);
  g_signal_connect (self->start_minute_spin, "output", G_CALLBACK (on_time_spin_output), NULL);
}
