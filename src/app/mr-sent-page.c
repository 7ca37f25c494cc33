/* mr-sent-page.c: the Sent page */

#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "mailroom-log.h"
#include "mailroom-transport.h"
#include "mr-a11y.h"
#include "mr-sent-page.h"

struct _MrSentPage
{
  AdwBin        parent_instance;

  MrSettings   *settings;
  MrSentLog    *log;
  GPtrArray    *entries;     /* MrSentEntry, as shown */
  GCancellable *cancellable;
  GHashTable   *pending_deletes; /* entry ids deleted while their toast still offers Undo */
  gint64        mailshot;    /* only this mailshot's mails are shown; 0: all */

  GtkSearchEntry *search_entry;
  GtkDropDown    *state_filter;
  GtkDropDown    *date_filter;
  GtkStack       *stack;
  GtkListBox     *list;
  AdwStatusPage  *empty_page;
  GtkWidget      *empty_new_button;
  GtkWidget      *mailshot_bar;
  GtkLabel       *mailshot_label;
  GtkWidget      *show_all_button;
};

G_DEFINE_FINAL_TYPE (MrSentPage, mr_sent_page, ADW_TYPE_BIN)

enum {
  NOTICE,
  TOAST,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static const char *
state_label (MrSentState state)
{
  switch (state)
    {
    case MR_SENT_STATE_ACCEPTED: return _("Accepted by the server");
    case MR_SENT_STATE_PARTLY_ACCEPTED: return _("Partly accepted: some recipients refused");
    case MR_SENT_STATE_QUEUED: return _("Waiting in the outbox");
    case MR_SENT_STATE_FAILED: return _("Failed");
    case MR_SENT_STATE_CANCELLED: return _("Cancelled");
    case MR_SENT_STATE_SENDING:
    default: return _("Sending");
    }
}

/* A recipient's outcome in words. */
static const char *
recipient_outcome_label (const char *outcome)
{
  if (g_strcmp0 (outcome, "accepted") == 0)
    return _("accepted");
  if (g_strcmp0 (outcome, "refused") == 0)
    return _("refused");
  if (g_strcmp0 (outcome, "temporary") == 0)
    return _("refused for now, waits in the outbox");
  return _("not tried yet");
}

guint
mr_sent_page_get_n_shown (MrSentPage *self)
{
  return self->entries ? self->entries->len : 0;
}

const char *
mr_sent_page_get_subject (MrSentPage *self,
                          guint       n)
{
  return ((MrSentEntry *) g_ptr_array_index (self->entries, n))->subject;
}

/* ---- Actions on one entry --------------------------------------------------------------------- */

static void
process_done (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(MrSentPage) self = user_data;
  g_autoptr(GPtrArray) reports = g_task_propagate_pointer (G_TASK (result), NULL);

  if (self->list != NULL)
    mr_sent_page_refresh (self);
}

static void
process_thread (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  MrSentLog *log = task_data;
  g_autoptr(MrSettings) settings = mr_settings_new (NULL, NULL);
  GPtrArray *reports = NULL;

  if (mr_settings_load (settings, NULL))
    reports = mr_outbox_process_sync (settings, log, g_get_real_time () / G_USEC_PER_SEC, cancellable, NULL);
  g_task_return_pointer (task, reports, reports ? (GDestroyNotify) g_ptr_array_unref : NULL);
}

static void
run_outbox (MrSentPage *self)
{
  g_autoptr(GTask) task = g_task_new (NULL, self->cancellable, process_done, g_object_ref (self));

  g_task_set_source_tag (task, run_outbox);
  g_task_set_task_data (task, g_object_ref (self->log), g_object_unref);
  g_task_run_in_thread (task, process_thread);
}

void
mr_sent_page_process_outbox (MrSentPage *self)
{
  run_outbox (self);
}

static void
on_retry_clicked (GtkButton  *button,
                  MrSentPage *self)
{
  gint64 id = GPOINTER_TO_SIZE (g_object_get_data (G_OBJECT (button), "id"));

  /* Its time is now; failed mail with a copy goes back to the outbox to be sent again. */
  mr_sent_log_set_state (self->log, id, MR_SENT_STATE_QUEUED, g_get_real_time () / G_USEC_PER_SEC, NULL);
  run_outbox (self);
}

static void
send_again_thread (GTask        *task,
                   gpointer      source_object,
                   gpointer      task_data,
                   GCancellable *cancellable)
{
  MrSentLog *log = g_object_get_data (G_OBJECT (task), "log");
  gint64 id = *(gint64 *) task_data;
  g_autoptr(MrSettings) settings = mr_settings_new (NULL, NULL);
  GError *error = NULL;
  MrSendReport *report = NULL;

  if (mr_settings_load (settings, &error))
    report = mr_outbox_send_again_sync (settings, log, id, cancellable, &error);
  if (report != NULL)
    g_task_return_pointer (task, report, (GDestroyNotify) mr_send_report_free);
  else
    g_task_return_error (task, error);
}

static void
send_again_done (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(MrSentPage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(MrSendReport) report = g_task_propagate_pointer (G_TASK (result), &error);
  g_autofree char *notice = NULL;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || self->list == NULL)
    return;
  if (report == NULL)
    notice = g_strdup (error->message);
  else if (report->state == MR_SENT_STATE_ACCEPTED)
    notice = g_strdup (_("Sent again: accepted by the server"));
  else if (report->state == MR_SENT_STATE_PARTLY_ACCEPTED || (report->state == MR_SENT_STATE_QUEUED && report->failure == NULL))
    notice = g_strdup (_("Sent again: accepted for some recipients; the details say which"));
  else if (report->state == MR_SENT_STATE_QUEUED)
    notice = g_strdup_printf (_("Not sent again yet: %s. It waits in the outbox."), report->failure->message);
  else
    notice = g_strdup_printf (_("Sending again failed: %s"), report->failure->message);
  g_signal_emit (self, signals[NOTICE], 0, notice);
  mr_sent_page_refresh (self);
}

/* An accepted mail sent again is a new mail: its own entry, Message-ID and Date. */
static void
on_send_again_clicked (GtkButton  *button,
                       MrSentPage *self)
{
  g_autoptr(GTask) task = g_task_new (NULL, self->cancellable, send_again_done, g_object_ref (self));
  gint64 *id = g_new (gint64, 1);

  *id = GPOINTER_TO_SIZE (g_object_get_data (G_OBJECT (button), "id"));
  gtk_widget_set_sensitive (GTK_WIDGET (button), FALSE);
  g_task_set_source_tag (task, on_send_again_clicked);
  g_task_set_task_data (task, id, g_free);
  g_object_set_data_full (G_OBJECT (task), "log", g_object_ref (self->log), g_object_unref);
  g_task_run_in_thread (task, send_again_thread);
}

/* The subject of entry @id as shown, for a toast. */
static const char *
subject_of (MrSentPage *self,
            gint64      id)
{
  for (guint i = 0; self->entries != NULL && i < self->entries->len; i++)
    {
      MrSentEntry *entry = g_ptr_array_index (self->entries, i);

      if (entry->id == id)
        return *entry->subject ? entry->subject : _("(no subject)");
    }
  return "";
}

static void
on_cancel_undone (AdwToast   *toast,
                  MrSentPage *self)
{
  gint64 id = GPOINTER_TO_SIZE (g_object_get_data (G_OBJECT (toast), "id"));

  /* Back in the outbox, due now: it goes at the outbox's next turn. */
  if (self->log != NULL)
    mr_sent_log_set_state (self->log, id, MR_SENT_STATE_QUEUED, g_get_real_time () / G_USEC_PER_SEC, NULL);
  if (self->list != NULL)
    mr_sent_page_refresh (self);
}

/* Cancelled at once (the outbox must not send it meanwhile), undone with the toast. */
static void
on_cancel_clicked (GtkButton  *button,
                   MrSentPage *self)
{
  gint64 id = GPOINTER_TO_SIZE (g_object_get_data (G_OBJECT (button), "id"));
  AdwToast *toast = adw_toast_new_format (_("“%s” will not be sent"), subject_of (self, id));

  mr_sent_log_set_state (self->log, id, MR_SENT_STATE_CANCELLED, 0, NULL);
  adw_toast_set_button_label (toast, _("_Undo"));
  g_object_set_data (G_OBJECT (toast), "id", GSIZE_TO_POINTER ((gsize) id));
  g_signal_connect_object (toast, "button-clicked", G_CALLBACK (on_cancel_undone), self, 0);
  mr_sent_page_refresh (self);
  g_signal_emit (self, signals[TOAST], 0, toast);
}

static void
on_delete_undone (AdwToast   *toast,
                  MrSentPage *self)
{
  gint64 id = GPOINTER_TO_SIZE (g_object_get_data (G_OBJECT (toast), "id"));

  g_hash_table_remove (self->pending_deletes, &id);
  if (self->list != NULL)
    mr_sent_page_refresh (self);
}

static void
on_delete_dismissed (AdwToast   *toast,
                     MrSentPage *self)
{
  gint64 id = GPOINTER_TO_SIZE (g_object_get_data (G_OBJECT (toast), "id"));

  /* Gone with the toast, unless Undo took it back first. */
  if (g_hash_table_remove (self->pending_deletes, &id) && self->log != NULL)
    mr_sent_log_delete (self->log, id, NULL);
}

/* The entry leaves the list at once and the log when its toast goes: Undo in between keeps it. */
static void
on_delete_clicked (GtkButton  *button,
                   MrSentPage *self)
{
  gint64 id = GPOINTER_TO_SIZE (g_object_get_data (G_OBJECT (button), "id"));
  AdwToast *toast = adw_toast_new_format (_("“%s” deleted"), subject_of (self, id));

  g_hash_table_add (self->pending_deletes, g_memdup2 (&id, sizeof id));
  adw_toast_set_button_label (toast, _("_Undo"));
  g_object_set_data (G_OBJECT (toast), "id", GSIZE_TO_POINTER ((gsize) id));
  g_signal_connect_object (toast, "button-clicked", G_CALLBACK (on_delete_undone), self, 0);
  g_signal_connect_object (toast, "dismissed", G_CALLBACK (on_delete_dismissed), self, 0);
  mr_sent_page_refresh (self);
  g_signal_emit (self, signals[TOAST], 0, toast);
}

static void
on_details_response (AdwMessageDialog *dialog,
                     const char       *response,
                     MrSentPage       *self)
{
  gint64 id = GPOINTER_TO_SIZE (g_object_get_data (G_OBJECT (dialog), "id"));
  g_autoptr(GBytes) copy = NULL;
  g_autofree char *path = NULL;
  g_autoptr(GFile) file = NULL;
  g_autofree char *name = NULL;

  if (!g_str_equal (response, "open"))
    return;
  copy = mr_sent_log_get_copy (self->log, id, NULL);
  if (copy == NULL)
    return;
  /* A copy in the user's cache, opened with their mail reader. */
  name = g_strdup_printf ("mailroom-%" G_GINT64_FORMAT ".eml", id);
  path = g_build_filename (g_get_user_cache_dir (), name, NULL);
  if (g_file_set_contents_full (path, g_bytes_get_data (copy, NULL), g_bytes_get_size (copy),
                                G_FILE_SET_CONTENTS_CONSISTENT, 0600, NULL))
    {
      file = g_file_new_for_path (path);
      g_app_info_launch_default_for_uri_async (g_file_get_uri (file), NULL, NULL, NULL, NULL);
    }
}

/* "on 6 December 2026 at 14:02", in the person's language. */
static char *
format_when (gint64 unix_time)
{
  g_autoptr(GDateTime) time = g_date_time_new_from_unix_local (unix_time);
  /* TRANSLATORS: a date and time as strftime() writes them: "on 6 December 2026 at 14:02" */
  /* xgettext:no-c-format */
  return g_date_time_format (time, _("on %-d %B %Y at %H:%M"));
}

/* What became of the mail, in words: the last attempt's outcome, where and when. */
static void
append_outcome (GString       *body,
                MrSentEntry   *entry,
                MrSentAttempt *last)
{
  g_autofree char *when = last ? format_when (last->time) : NULL;
  const char *server = last && last->server && *last->server ? last->server : _("the server");
  g_autofree char *words = last ? mr_smtp_reply_in_words (last->reply) : NULL;

  switch (entry->state)
    {
    case MR_SENT_STATE_ACCEPTED:
      if (last != NULL)
        g_string_append_printf (body, _("Accepted by %s %s."), server, when);
      else
        g_string_append (body, _("Accepted by the server."));
      break;
    case MR_SENT_STATE_PARTLY_ACCEPTED:
      g_string_append_printf (body, _("Accepted by %s %s for some recipients only: the others are listed below."),
                              server, when ? when : "");
      break;
    case MR_SENT_STATE_QUEUED:
      g_string_append (body, _("Waiting in the outbox: the server could not take it yet, and Mailroom tries again by "
                               "itself."));
      break;
    case MR_SENT_STATE_FAILED:
      g_string_append_printf (body, _("Not sent: %s"), words ? words : entry->last_error ? entry->last_error : "");
      break;
    default:
      g_string_append (body, state_label (entry->state));
      break;
    }
  g_string_append_c (body, '\n');
}

static void
on_row_activated (MrSentPage    *self,
                  GtkListBoxRow *row)
{
  gint64 id = GPOINTER_TO_SIZE (g_object_get_data (G_OBJECT (row), "id"));
  g_autoptr(MrSentEntry) entry = mr_sent_log_get (self->log, id, NULL);
  g_autoptr(GPtrArray) attempts = mr_sent_log_get_attempts (self->log, id, NULL);
  g_autoptr(GString) body = g_string_new (NULL);
  g_autoptr(GString) technical = g_string_new (NULL);
  g_autofree char *recipients = NULL;
  GtkWidget *dialog, *expander, *label;

  if (entry == NULL)
    return;
  recipients = g_strjoinv (", ", entry->recipients);

  /* Words first: what became of it, to whom. */
  append_outcome (body, entry, attempts && attempts->len ? g_ptr_array_index (attempts, attempts->len - 1) : NULL);
  g_string_append_printf (body, _("To: %s\n"), recipients);
  if (entry->mailshot > 0)
    {
      g_autofree char *number = g_strdup_printf ("%" G_GINT64_FORMAT, entry->mailshot);
      g_string_append_printf (body, _("Part of mailshot %s (its report is on the Mailshots page)\n"), number);
    }
  /* Each recipient's own outcome, when they differ or the server said something about one. */
  if (entry->outcomes != NULL && entry->outcomes->len > 1)
    {
      g_string_append (body, _("\nEach recipient:\n"));
      g_string_append (technical, _("Recipients:\n"));
      for (guint i = 0; i < entry->outcomes->len; i++)
        {
          MrSentRecipient *recipient = g_ptr_array_index (entry->outcomes, i);
          g_autofree char *words = g_strcmp0 (recipient->outcome, "accepted") != 0 ? mr_smtp_reply_in_words (recipient->reply)
                                                                                   : NULL;

          g_string_append_printf (body, "%s: %s%s%s\n", recipient->address, recipient_outcome_label (recipient->outcome),
                                  words ? " — " : "", words ? words : "");
          g_string_append_printf (technical, "%s: %s%s%s\n", recipient->address,
                                  recipient_outcome_label (recipient->outcome), recipient->reply ? " · " : "",
                                  recipient->reply ? recipient->reply : "");
        }
      g_string_append_c (technical, '\n');
    }

  /* The jargon behind an expander: envelope, Message-ID, each attempt as the log has it. */
  g_string_append_printf (technical, _("From: %s\nTo (all envelope recipients): %s\nMessage-ID: %s\nTemplate: %s\nState: %s\n"),
                          entry->from_address, recipients, entry->message_id,
                          entry->template_name ? entry->template_name : _("none"), state_label (entry->state));
  for (guint i = 0; attempts != NULL && i < attempts->len; i++)
    {
      MrSentAttempt *attempt = g_ptr_array_index (attempts, i);
      g_autoptr(GDateTime) time = g_date_time_new_from_unix_local (attempt->time);
      g_autofree char *when = g_date_time_format (time, "%x %X");

      g_string_append_printf (technical, _("\n%s, %s through %s: %s\n%s\n"), when, attempt->outcome, attempt->route,
                              attempt->server ? attempt->server : "", attempt->reply ? attempt->reply : "");
      if (g_strcmp0 (attempt->outcome, "fell-back") == 0)
        g_string_append (technical, _("This route could not send, so the next one took over.\n"));
    }

  dialog = adw_message_dialog_new (GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))), entry->subject, body->str);
  adw_message_dialog_set_body_use_markup (ADW_MESSAGE_DIALOG (dialog), FALSE);
  label = gtk_label_new (technical->str);
  gtk_label_set_selectable (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  /* A long Message-ID or reply breaks anywhere rather than widening the dialog. */
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_max_width_chars (GTK_LABEL (label), 50);
  gtk_widget_add_css_class (label, "caption");
  gtk_widget_set_name (label, "technical-details");
  expander = gtk_expander_new_with_mnemonic (_("_Technical details"));
  gtk_expander_set_child (GTK_EXPANDER (expander), label);
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), expander);
  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _("_Close"));
  if (entry->has_copy)
    adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "open", _("_Open Copy"));
  g_object_set_data (G_OBJECT (dialog), "id", GSIZE_TO_POINTER ((gsize) id));
  g_signal_connect (dialog, "response", G_CALLBACK (on_details_response), self);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* ---- The list --------------------------------------------------------------------------------- */

static GtkWidget *
entry_button (MrSentPage  *self,
              MrSentEntry *entry,
              const char  *label,
              GCallback    callback)
{
  GtkWidget *button = gtk_button_new_with_mnemonic (label);

  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  g_object_set_data (G_OBJECT (button), "id", GSIZE_TO_POINTER ((gsize) entry->id));
  g_signal_connect (button, "clicked", callback, self);
  return button;
}

/* Open in Sent, from a mailshot: its mails alone, until Show All Mail. */
void
mr_sent_page_show_mailshot (MrSentPage *self,
                            gint64      job)
{
  g_autofree char *number = g_strdup_printf ("%" G_GINT64_FORMAT, job);
  g_autofree char *title = g_strdup_printf (_("The mails of mailshot %s"), number);

  self->mailshot = job;
  gtk_label_set_text (self->mailshot_label, title);
  gtk_widget_set_visible (self->mailshot_bar, job > 0);
  mr_sent_page_refresh (self);
}

gint64
mr_sent_page_get_mailshot (MrSentPage *self)
{
  return self->mailshot;
}

static void
on_show_all_clicked (MrSentPage *self)
{
  mr_sent_page_show_mailshot (self, 0);
}

void
mr_sent_page_refresh (MrSentPage *self)
{
  g_autofree char *text = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->search_entry)));
  MrSentQuery query = { *text ? text : NULL, NULL, 0, 0, -1, 500, self->mailshot };
  GtkWidget *child;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  switch (gtk_drop_down_get_selected (self->state_filter))
    {
    case 1: query.state = MR_SENT_STATE_ACCEPTED; break;
    case 2: query.state = MR_SENT_STATE_QUEUED; break;
    case 3: query.state = MR_SENT_STATE_FAILED; break;
    case 4: query.state = MR_SENT_STATE_PARTLY_ACCEPTED; break;
    default: break;
    }
  switch (gtk_drop_down_get_selected (self->date_filter))
    {
    case 1:
      {
        g_autoptr(GDateTime) today = g_date_time_new_now_local ();
        g_autoptr(GDateTime) midnight = g_date_time_new_local (g_date_time_get_year (today), g_date_time_get_month (today),
                                                               g_date_time_get_day_of_month (today), 0, 0, 0);
        query.since = g_date_time_to_unix (midnight);
        break;
      }
    case 2: query.since = now - 7 * 86400; break;
    case 3: query.since = now - 30 * 86400; break;
    default: break;
    }

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->list))) != NULL)
    gtk_list_box_remove (self->list, child);
  g_clear_pointer (&self->entries, g_ptr_array_unref);
  self->entries = mr_sent_log_search (self->log, &query, NULL);
  if (self->entries == NULL)
    self->entries = g_ptr_array_new_with_free_func ((GDestroyNotify) mr_sent_entry_free);
  /* Deleted, with Undo still offered: not shown. */
  for (guint i = self->entries->len; i > 0; i--)
    if (g_hash_table_contains (self->pending_deletes, &((MrSentEntry *) g_ptr_array_index (self->entries, i - 1))->id))
      g_ptr_array_remove_index (self->entries, i - 1);

  for (guint i = 0; i < self->entries->len; i++)
    {
      MrSentEntry *entry = g_ptr_array_index (self->entries, i);
      GtkWidget *row = adw_action_row_new ();
      g_autoptr(GDateTime) time = g_date_time_new_from_unix_local (entry->created);
      g_autofree char *when = g_date_time_format (time, "%x %H:%M");
      g_autofree char *to = g_strjoinv (", ", entry->recipients);
      g_autofree char *subtitle = g_strdup_printf ("%s · %s · %s", to, when, state_label (entry->state));
      g_autofree char *number = g_strdup_printf ("%" G_GINT64_FORMAT, entry->mailshot);

      /* Exchange says so, and a mail that needed more than one try too. */
      if (g_strcmp0 (entry->route, "ews") == 0 || g_strcmp0 (entry->route, "graph") == 0)
        {
          g_autofree char *through = g_strdup_printf (_("%s · through %s"), subtitle,
                                                      g_str_equal (entry->route, "ews") ? _("Exchange (EWS)")
                                                                                        : _("Microsoft Graph"));
          g_free (subtitle);
          subtitle = g_steal_pointer (&through);
        }
      if (entry->attempts > 1)
        {
          g_autofree char *tries = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s · %u attempt", "%s · %u attempts",
                                                                 entry->attempts), subtitle, entry->attempts);
          g_free (subtitle);
          subtitle = g_steal_pointer (&tries);
        }

      /* A mail of a mailshot says which. */
      if (entry->mailshot > 0)
        {
          g_autofree char *linked = g_strdup_printf (_("%s · mailshot %s"), subtitle, number);
          g_free (subtitle);
          subtitle = g_steal_pointer (&linked);
        }

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), *entry->subject ? entry->subject : _("(no subject)"));
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
      adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 2);
      gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
      g_object_set_data (G_OBJECT (row), "id", GSIZE_TO_POINTER ((gsize) entry->id));
      if (entry->state == MR_SENT_STATE_QUEUED)
        {
          adw_action_row_add_suffix (ADW_ACTION_ROW (row), entry_button (self, entry, _("_Retry Now"), G_CALLBACK (on_retry_clicked)));
          adw_action_row_add_suffix (ADW_ACTION_ROW (row), entry_button (self, entry, _("_Cancel"), G_CALLBACK (on_cancel_clicked)));
        }
      else if ((entry->state == MR_SENT_STATE_FAILED || entry->state == MR_SENT_STATE_CANCELLED) && entry->has_copy)
        adw_action_row_add_suffix (ADW_ACTION_ROW (row), entry_button (self, entry, _("Send _Again"), G_CALLBACK (on_retry_clicked)));
      else if (entry->state == MR_SENT_STATE_ACCEPTED && entry->has_copy)
        adw_action_row_add_suffix (ADW_ACTION_ROW (row), entry_button (self, entry, _("Send _Again"), G_CALLBACK (on_send_again_clicked)));
      if (entry->state != MR_SENT_STATE_QUEUED && entry->state != MR_SENT_STATE_SENDING)
        {
          GtkWidget *remove = entry_button (self, entry, NULL, G_CALLBACK (on_delete_clicked));

          gtk_button_set_icon_name (GTK_BUTTON (remove), "user-trash-symbolic");
          gtk_widget_add_css_class (remove, "flat");
          gtk_widget_set_tooltip_text (remove, _("Delete this entry and its copy"));
          gtk_accessible_update_property (GTK_ACCESSIBLE (remove), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                          _("Delete this entry and its copy"), -1);
          adw_action_row_add_suffix (ADW_ACTION_ROW (row), remove);
        }
      gtk_list_box_append (self->list, row);
    }
  /* Empty because nothing was sent, or because nothing matches the search: each says which. */
  {
    gboolean filtered = *text != '\0' || gtk_drop_down_get_selected (self->state_filter) != 0 ||
                        gtk_drop_down_get_selected (self->date_filter) != 0;

    adw_status_page_set_title (self->empty_page, filtered ? _("No Matching Mail") : _("No Mail Sent Yet"));
    adw_status_page_set_description (self->empty_page,
                                     filtered ? _("Try other words, or another state or date.")
                                              : _("Mail you send appears here, with what the server said."));
    gtk_widget_set_visible (self->empty_new_button, !filtered);
  }
  gtk_stack_set_visible_child_name (self->stack, self->entries->len > 0 ? "list" : "empty");
}

static void
on_filter_changed (MrSentPage *self)
{
  if (self->log != NULL)
    mr_sent_page_refresh (self);
}

static void
mr_sent_page_dispose (GObject *object)
{
  MrSentPage *self = MR_SENT_PAGE (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  /* Deletions whose toast is still up are what the person chose: they happen now. */
  if (self->pending_deletes != NULL && self->log != NULL)
    {
      GHashTableIter iter;
      gpointer key;

      g_hash_table_iter_init (&iter, self->pending_deletes);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        mr_sent_log_delete (self->log, *(gint64 *) key, NULL);
    }
  g_clear_pointer (&self->pending_deletes, g_hash_table_unref);
  g_clear_object (&self->settings);
  g_clear_object (&self->log);
  g_clear_pointer (&self->entries, g_ptr_array_unref);
  gtk_widget_dispose_template (GTK_WIDGET (self), MR_TYPE_SENT_PAGE);
  self->list = NULL;

  G_OBJECT_CLASS (mr_sent_page_parent_class)->dispose (object);
}

static void
mr_sent_page_class_init (MrSentPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = mr_sent_page_dispose;

  /* Something to tell the person (the result of sending again): the window shows it as a toast. */
  signals[NOTICE] = g_signal_new ("notice", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                  G_TYPE_NONE, 1, G_TYPE_STRING);
  /* A toast with Undo (a deletion, a cancelled mail): the window shows it. */
  signals[TOAST] = g_signal_new ("toast", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                 G_TYPE_NONE, 1, ADW_TYPE_TOAST);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/mailroom/Mailroom/mr-sent-page.ui");
  gtk_widget_class_bind_template_child (widget_class, MrSentPage, search_entry);
  gtk_widget_class_bind_template_child (widget_class, MrSentPage, empty_page);
  gtk_widget_class_bind_template_child (widget_class, MrSentPage, empty_new_button);
  gtk_widget_class_bind_template_child (widget_class, MrSentPage, state_filter);
  gtk_widget_class_bind_template_child (widget_class, MrSentPage, date_filter);
  gtk_widget_class_bind_template_child (widget_class, MrSentPage, stack);
  gtk_widget_class_bind_template_child (widget_class, MrSentPage, list);
  gtk_widget_class_bind_template_callback (widget_class, on_filter_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_show_all_clicked);
  gtk_widget_class_bind_template_child (widget_class, MrSentPage, mailshot_bar);
  gtk_widget_class_bind_template_child (widget_class, MrSentPage, mailshot_label);
  gtk_widget_class_bind_template_child (widget_class, MrSentPage, show_all_button);
  gtk_widget_class_bind_template_callback (widget_class, on_row_activated);
}

static void
mr_sent_page_init (MrSentPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  mr_a11y_name_drop_down (self->state_filter, _("Show by state"));
  mr_a11y_name_drop_down (self->date_filter, _("Show by date"));
  self->cancellable = g_cancellable_new ();
  self->pending_deletes = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
}

MrSentPage *
mr_sent_page_new (MrSettings *settings,
                  MrSentLog  *log)
{
  MrSentPage *self = g_object_new (MR_TYPE_SENT_PAGE, NULL);

  self->settings = g_object_ref (settings);
  self->log = g_object_ref (log);
  mr_sent_page_refresh (self);
  /* Mail that waited while the app was closed goes now. */
  run_outbox (self);
  return self;
}

void
mr_sent_page_focus_search (MrSentPage *self)
{
  gtk_widget_grab_focus (GTK_WIDGET (self->search_entry));
}
