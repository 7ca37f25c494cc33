/* mr-mailshots-check.c: the Mailshots page, the wizard's checks: the proof-reader's report, Will It Arrive?, the preview and samples, the start */

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
    mr_mailshots_show_start (self);
}

/* Will it arrive? The From domain's DNS as the bulk-sender rules look at it, asked in a thread
 * once the report is shown: the check step does not wait for DNS. */
static void
check_deliverability (MrMailshotsPage *self)
{
  MrTemplate *template_ = mr_mailshots_selected_template (self);
  const char *app = template_ ? template_->app : NULL;
  g_autoptr(MrSender) sender = NULL;
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
  sender = mr_sender_new (self->settings, app, NULL);
  from = template_->from_address ? template_->from_address : sender ? mr_sender_get_address (sender) : NULL;
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
  mr_domain_check_options_init_for (&options, self->settings, app,
                                    mr_route_for_row (adw_combo_row_get_selected (self->via_row)), at + 1);
  self->deliverability_cancellable = g_cancellable_new ();
  mr_domain_check_async (at + 1, &options, self->deliverability_cancellable, on_deliverability_checked,
                         g_object_ref (self));
}

static void
on_send_anyway_toggled (MrMailshotsPage *self)
{
  if (g_strcmp0 (mr_mailshots_page_get_step (self), "start") == 0)
    mr_mailshots_show_start (self);
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
  mr_mailshots_set_busy (self, FALSE);
  if (report == NULL)
    {
      mr_mailshots_notice (self, error->message);
      return;
    }
  g_clear_pointer (&self->report, mr_proof_report_free);
  g_clear_pointer (&self->error_rows, g_hash_table_unref);
  self->report = report;
  show_report (self);
  check_deliverability (self);
  mr_mailshots_show_step (self, "check");
}

void
mr_mailshots_check_recipients (MrMailshotsPage *self)
{
  g_autoptr(GTask) task = mr_mailshots_wizard_task (self, mr_mailshots_check_recipients, proofread_done);

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
  g_autoptr(MrSettings) settings = mr_mailshots_load_settings (&error);
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
  mr_mailshots_set_busy (self, FALSE);
  if (preview == NULL)
    {
      /* Past an end, or an address no row has: the mail shown stays, and the reason is said. */
      if (g_error_matches (error, MR_MAILSHOT_ERROR, MR_MAILSHOT_ERROR_NOT_FOUND) && self->preview_row != 0)
        {
          if (choice->direction != 0 && choice->find == NULL)
            gtk_widget_set_sensitive (choice->direction > 0 ? self->preview_next_button : self->preview_previous_button,
                                      FALSE);
          mr_mailshots_notice (self, error->message);
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

      mr_mailshots_notice (self, why);
    }
}

void
mr_mailshots_load_preview (MrMailshotsPage *self,
                           guint            row,
                           int              direction,
                           const char      *find)
{
  g_autoptr(GTask) task = mr_mailshots_wizard_task (self, mr_mailshots_load_preview, preview_done);
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
  mr_mailshots_load_preview (self, row, 0, NULL);
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
    mr_mailshots_load_preview (self, self->preview_row - 1, -1, NULL);
}

static void
on_preview_next (MrMailshotsPage *self)
{
  mr_mailshots_load_preview (self, self->preview_row + 1, 1, NULL);
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
    mr_mailshots_load_preview (self, (guint) row, 0, NULL);
  else
    mr_mailshots_load_preview (self, 0, 0, wanted);
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
  g_autoptr(MrSettings) settings = mr_mailshots_load_settings (&error);

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
  mr_mailshots_set_busy (self, FALSE);
  gtk_widget_set_sensitive (self->sample_row_button, TRUE);
  if (error != NULL)
    message = g_strdup_printf (_("The sample was not sent: %s"), error->message);
  else
    message = g_strdup_printf (_("Row %u’s mail sent to %s as a sample"), choice->row, choice->to);
  mr_mailshots_notice (self, message);
}

void
mr_mailshots_page_send_shown_sample (MrMailshotsPage *self)
{
  g_autoptr(GTask) task = mr_mailshots_wizard_task (self, mr_mailshots_page_send_shown_sample, sample_row_done);
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
  g_autoptr(MrSettings) settings = mr_mailshots_load_settings (&error);
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
  mr_mailshots_set_busy (self, FALSE);
  gtk_widget_set_sensitive (self->samples_button, TRUE);
  if (sent < 0)
    message = g_strdup_printf (_("The samples were not sent: %s"), error->message);
  else
    message = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%d sample sent to %s", "%d samples sent to %s", sent),
                               (int) sent, choice->to);
  mr_mailshots_notice (self, message);
}

static void
on_send_samples (MrMailshotsPage *self)
{
  g_autoptr(GTask) task = mr_mailshots_wizard_task (self, on_send_samples, samples_done);

  gtk_widget_set_sensitive (self->samples_button, FALSE);
  g_task_run_in_thread (task, samples_thread);
}

/* ---- Step 4: start ---------------------------------------------------------------------------- */

char *
mr_mailshots_format_duration (gint64 seconds)
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

void
mr_mailshots_show_start (MrMailshotsPage *self)
{
  guint sendable = count_sendable (self);
  guint per_minute = gtk_spin_button_get_value_as_int (self->per_minute_spin);
  guint per_day = gtk_spin_button_get_value_as_int (self->per_day_spin);
  guint connections = gtk_spin_button_get_value_as_int (self->connections_spin);
  gint64 start = self->start_at;
  g_autofree char *duration = mr_mailshots_format_duration (mr_mailshot_estimate_seconds (sendable, per_minute, per_day, connections));
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
    MrTemplate *template_ = mr_mailshots_selected_template (self);
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
  g_autoptr(MrSettings) settings = mr_mailshots_load_settings (&error);
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
  mr_mailshots_set_busy (self, FALSE);
  gtk_widget_set_sensitive (self->start_button, TRUE);
  if (job == NULL)
    {
      mr_mailshots_notice (self, error->message);
      return;
    }
  /* Without the timer the job still goes on, while a window is open: say so. */
  if (g_object_get_data (G_OBJECT (result), "timer-error") != NULL)
    mr_mailshots_notice (self, g_object_get_data (G_OBJECT (result), "timer-error"));
  mr_mailshots_page_show_job (self, *job);
  mr_mailshots_run_job (self, *job);
}

static void
on_start_clicked (MrMailshotsPage *self)
{
  g_autoptr(GTask) task = mr_mailshots_wizard_task (self, on_start_clicked, created);

  gtk_widget_set_sensitive (self->start_button, FALSE);
  g_task_run_in_thread (task, create_thread);
}

/* ---- Set-up -------------------------------------------------------------------------------- */

void
mr_mailshots_check_class_init (GtkWidgetClass *widget_class)
{
  gtk_widget_class_bind_template_callback (widget_class, on_per_day_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_send_samples);
  gtk_widget_class_bind_template_callback (widget_class, on_start_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_send_anyway_toggled);
}

void
mr_mailshots_check_init (MrMailshotsPage *self)
{
  GtkWidget *check_again = gtk_button_new_with_mnemonic (_("Check _Again"));
  gtk_widget_set_valign (check_again, GTK_ALIGN_CENTER);
  g_signal_connect_swapped (check_again, "clicked", G_CALLBACK (mr_mailshots_check_recipients), self);
  adw_preferences_group_set_header_suffix (self->check_group, check_again);
  g_signal_connect_swapped (self->preview_previous_button, "clicked", G_CALLBACK (on_preview_previous), self);
  g_signal_connect_swapped (self->preview_next_button, "clicked", G_CALLBACK (on_preview_next), self);
  g_signal_connect (self->preview_search_entry, "activate", G_CALLBACK (on_preview_search), self);
}
