/* mr-mailshots-page.c: the Mailshots page */

#include "config.h"

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


G_DEFINE_FINAL_TYPE (MrMailshotsPage, mr_mailshots_page, ADW_TYPE_BIN)

enum {
  NOTICE,
  OPEN_SENT,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

const char * const mr_mailshots_step_names[MR_MAILSHOTS_N_STEPS] = { "setup", "check", "preview", "start" };


/* ::open-sent: the job's mails in the sent log, for the window to show. */
void
mr_mailshots_open_sent (MrMailshotsPage *self,
                        gint64           job)
{
  g_signal_emit (self, signals[OPEN_SENT], 0, job);
}

void
mr_mailshots_notice (MrMailshotsPage *self,
                     const char      *message)
{
  g_signal_emit (self, signals[NOTICE], 0, message);
}

void
mr_mailshots_set_busy (MrMailshotsPage *self,
                       gboolean         busy)
{
  self->busy += busy ? 1 : -1;
  gtk_spinner_set_spinning (self->busy_spinner, self->busy > 0);
  gtk_widget_set_sensitive (self->back_button, self->busy == 0);
  mr_mailshots_update_next (self);
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
MrSettings *
mr_mailshots_load_settings (GError **error)
{
  g_autoptr(MrSettings) settings = mr_settings_new (NULL, NULL);

  if (!mr_settings_load (settings, error))
    return NULL;
  return g_steal_pointer (&settings);
}

/* ---- GObject ---------------------------------------------------------------------------------- */

static void
jobs_listed (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  MrMailshotsPage *self = MR_MAILSHOTS_PAGE (source);
  Refresh *data = g_task_get_task_data (G_TASK (result));

  mr_mailshots_refreshed (source, result, user_data);
  if (data->jobs != NULL && self->running != NULL)
    mr_mailshots_resume_due_jobs (self, data->jobs);
}

static gboolean
on_due_timer (gpointer user_data)
{
  MrMailshotsPage *self = user_data;
  g_autoptr(GTask) task = g_task_new (self, self->cancellable, jobs_listed, NULL);

  g_task_set_source_tag (task, on_due_timer);
  g_task_set_task_data (task, g_new0 (Refresh, 1), (GDestroyNotify) mr_mailshots_refresh_free);
  g_task_run_in_thread (task, mr_mailshots_refresh_thread);
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
  mr_mailshots_setup_class_init (widget_class);
  mr_mailshots_check_class_init (widget_class);
  mr_mailshots_jobs_class_init (widget_class);
}

static void
mr_mailshots_page_init (MrMailshotsPage *self)
{
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

  g_signal_connect_swapped (self->sample_row_button, "clicked", G_CALLBACK (mr_mailshots_page_send_shown_sample), self);
  mr_mailshots_setup_init (self);
  mr_mailshots_check_init (self);
  mr_mailshots_jobs_init (self);
  mr_mailshots_update_step_controls (self);
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
  self->refresh_source = g_timeout_add (1000, mr_mailshots_on_refresh_timer, self);
  return self;
}
