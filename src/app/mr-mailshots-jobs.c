/* mr-mailshots-jobs.c: the Mailshots page, the jobs: running them, the list, a job's view and its recipients */

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
      if (mr_mailshots_setup_problem (self) == NULL)
        mr_mailshots_check_recipients (self);
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
      mr_mailshots_show_step (self, "preview");
      self->preview_row = 0;
      gtk_label_set_text (self->preview_position_label, "");
      mr_message_view_clear (self->preview_view);
      mr_mailshots_load_preview (self, first, 1, NULL);
    }
  else if (g_str_equal (step, "preview"))
    {
      mr_mailshots_show_step (self, "start");
      mr_mailshots_show_start (self);
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

  for (guint i = 1; i < G_N_ELEMENTS (mr_mailshots_step_names); i++)
    if (g_str_equal (step, mr_mailshots_step_names[i]))
      {
        mr_mailshots_show_step (self, mr_mailshots_step_names[i - 1]);
        return;
      }
  gtk_stack_set_visible_child_name (self->stack, "jobs");
  mr_mailshots_refresh (self);
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
  g_autoptr(MrSettings) settings = mr_mailshots_load_settings (&error);
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
    mr_mailshots_notice (self, error->message);
  if (self->running != NULL)
    mr_mailshots_refresh (self);
}

void
mr_mailshots_run_job (MrMailshotsPage *self,
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
  g_task_set_source_tag (task, mr_mailshots_run_job);
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
void
mr_mailshots_resume_due_jobs (MrMailshotsPage *self,
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
        mr_mailshots_run_job (self, status->id);
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
    mr_mailshots_update_rows (self);
}

static void
on_open_sent_clicked (MrMailshotsPage *self)
{
  mr_mailshots_open_sent (self, self->job);
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
      g_autofree char *left = mr_mailshots_format_duration ((gint64) (status->pending / self->rate * 60));
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

void
mr_mailshots_update_rows (MrMailshotsPage *self)
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

void
mr_mailshots_refresh_free (Refresh *data)
{
  g_clear_pointer (&data->jobs, g_ptr_array_unref);
  g_clear_pointer (&data->status, mr_mailshot_status_free);
  g_clear_pointer (&data->recipients, g_ptr_array_unref);
  g_free (data);
}

void
mr_mailshots_refresh_thread (GTask        *task,
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

void
mr_mailshots_refreshed (GObject      *source,
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
          mr_mailshots_notice (self, error->message);
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
          mr_mailshots_update_rows (self);
        }
      update_job_view (self);
    }
}

void
mr_mailshots_refresh (MrMailshotsPage *self)
{
  g_autoptr(GTask) task = NULL;
  Refresh *data;

  if (self->refreshing)
    return;
  self->refreshing = TRUE;
  data = g_new0 (Refresh, 1);
  data->job = self->job;
  data->want_recipients = g_str_equal (gtk_stack_get_visible_child_name (self->stack), "job");
  task = g_task_new (self, self->cancellable, mr_mailshots_refreshed, NULL);
  g_task_set_source_tag (task, mr_mailshots_refresh);
  g_task_set_task_data (task, data, (GDestroyNotify) mr_mailshots_refresh_free);
  g_task_run_in_thread (task, mr_mailshots_refresh_thread);
}

gboolean
mr_mailshots_on_refresh_timer (gpointer user_data)
{
  MrMailshotsPage *self = user_data;
  const char *shown = gtk_stack_get_visible_child_name (self->stack);

  if (g_str_equal (shown, "job") || (g_str_equal (shown, "jobs") && g_hash_table_size (self->running) > 0))
    mr_mailshots_refresh (self);
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
  mr_mailshots_refresh (self);
}

static void
on_show_jobs (MrMailshotsPage *self)
{
  gtk_stack_set_visible_child_name (self->stack, "jobs");
  mr_mailshots_refresh (self);
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
        mr_mailshots_notice (self, error->message);
      return;
    }
  if (done != NULL)
    mr_mailshots_notice (self, done);
  mr_mailshots_refresh (self);
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
  mr_mailshots_run_job (self, self->job);
  mr_mailshots_refresh (self);
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
  mr_mailshots_choose_path (self, chooser, mr_mailshots_page_export_report);
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
        mr_mailshots_notice (self, error->message);
      return;
    }
  mr_mailshots_notice (self, _("The timer is removed: scheduled mailshots go on only while Mailroom is open"));
  mr_mailshots_refresh (self);
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

/* ---- Set-up -------------------------------------------------------------------------------- */

void
mr_mailshots_jobs_class_init (GtkWidgetClass *widget_class)
{
  gtk_widget_class_bind_template_callback (widget_class, on_job_activated);
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

void
mr_mailshots_jobs_init (MrMailshotsPage *self)
{
  add_column (self, _("Row"), COLUMN_ROW, FALSE);
  add_column (self, _("Address"), COLUMN_ADDRESS, TRUE);
  add_column (self, _("State"), COLUMN_STATE, FALSE);
  add_column (self, _("Server’s reply, or why not sent"), COLUMN_REPLY, TRUE);
}
