/* mr-compose-send.c: the Compose page building and sending its mail, and mailto: links */

#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>
#include "mailroom-common.h"
#include "mailroom-log.h"
#include "mailroom-message.h"
#include "mailroom-transport.h"
#include "mr-address-completion.h"
#include "mr-compose-page-private.h"
#include "mr-compose-page.h"
#include "mr-edit-window.h"
#include "mr-editor.h"
#include "mr-key-labels.h"
#include "mr-message-view.h"
#include "mr-routes.h"
#include "mr-source-highlight.h"

/* ---- Building and sending --------------------------------------------------------------------- */

typedef struct {
  MrSettings   *settings;
  MrSentLog    *log;
  MrOutgoing   *outgoing;
  char         *route;
  char         *app;
  char         *template_name;
  char         *log_option;
} SendJob;

static void
send_job_free (SendJob *job)
{
  g_clear_object (&job->settings);
  g_clear_object (&job->log);
  mr_outgoing_free (job->outgoing);
  g_free (job->route);
  g_free (job->app);
  g_free (job->template_name);
  g_free (job->log_option);
  g_free (job);
}

/* Renders the fields into a message; NULL with the reason shown when something is missing. */
static MrOutgoing *
build_outgoing (MrComposePage  *self,
                MrTemplate    **used,
                GPtrArray     **missing,
                GError        **error)
{
  g_autoptr(MrTemplate) template_ = mr_compose_page_template_from_fields (self);
  g_autoptr(JsonNode) data = mr_compose_page_variables_data (self);
  g_autoptr(MrRendered) rendered = NULL;
  g_autoptr(MrOutgoing) outgoing = mr_outgoing_new ();

  if (!mr_compose_page_parse_addresses (gtk_editable_get_text (GTK_EDITABLE (self->to_row)), outgoing->to, error))
    {
      g_prefix_error (error, _("To: "));
      return NULL;
    }
  if (!mr_compose_page_parse_addresses (gtk_editable_get_text (GTK_EDITABLE (self->cc_row)), outgoing->cc, error))
    {
      g_prefix_error (error, _("Cc: "));
      return NULL;
    }
  if (!mr_compose_page_parse_addresses (gtk_editable_get_text (GTK_EDITABLE (self->bcc_row)), outgoing->bcc, error))
    {
      g_prefix_error (error, _("Bcc: "));
      return NULL;
    }

  {
    /* {{sender.name}}: who it will be from (not set up yet: those fields stay empty, and say so). */
    g_autoptr(MrOutgoing) sender = mr_outgoing_new ();

    mr_settings_fill_sender (self->settings, template_->app, sender, NULL);
    rendered = mr_template_render_as (template_, data, sender, 0, error);
  }
  if (rendered == NULL)
    return NULL;
  if (missing != NULL)
    *missing = g_ptr_array_ref (rendered->missing);
  if (!mr_template_fill_outgoing (template_, rendered, outgoing, error))
    return NULL;
  for (guint i = 0; i < self->attachments->len; i++)
    mr_outgoing_add_attachment (outgoing, g_ptr_array_index (self->attachments, i), NULL, NULL);
  if (used != NULL)
    *used = g_steal_pointer (&template_);
  return g_steal_pointer (&outgoing);
}

static void
send_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  SendJob *job = task_data;
  GError *error = NULL;
  MrSendReport *report = mr_outbox_send_sync (job->settings, job->log, job->app, job->route, job->outgoing,
                                              job->template_name, job->log_option, NULL, cancellable, &error);

  if (report != NULL)
    g_task_return_pointer (task, report, (GDestroyNotify) mr_send_report_free);
  else
    g_task_return_error (task, error);
}

/* Why no mail could go now, in words, and the page that fixes it (NULL when only someone else can):
 * NULL when it can go. */
static const char *
blocked_reason (MrComposePage  *self,
                const char    **fix_page)
{
  MrTemplate *template_ = mr_compose_page_selected_template (self);
  const char *route = mr_route_for_row (adw_combo_row_get_selected (self->via_row));
  gboolean admin = mr_settings_can_edit_company (self->settings);

  *fix_page = NULL;
  switch (mr_delivery_check_ready (self->settings, template_ ? template_->app : NULL, route,
                                   template_ ? template_->from_address : NULL))
    {
    case MR_DELIVERY_NO_FROM:
      *fix_page = admin ? "company" : "user";
      return admin ? _("No From address yet: add the address the office’s mail is sent from.")
                   : _("No From address yet: add the address your mail is sent from.");
    case MR_DELIVERY_NO_EXCHANGE:
      *fix_page = admin ? "company" : NULL;
      return admin ? _("Exchange is not set up: set it up in Company Settings, or send through SMTP.")
                   : _("Exchange is not set up: ask your administrator, or send through SMTP.");
    case MR_DELIVERY_NO_SERVER:
      *fix_page = admin ? "company" : NULL;
      return admin ? _("No mail server is set up yet.")
                   : _("No mail server is set up yet: ask your administrator to set up the company’s mail.");
    case MR_DELIVERY_READY:
    default:
      return NULL;
    }
}

/* The sender the mail will show, before it goes: the template's own, or the profile's. */
static void
update_from_row (MrComposePage *self)
{
  MrTemplate *template_ = mr_compose_page_selected_template (self);
  g_autoptr(GError) error = NULL;
  g_autofree char *from = NULL;

  if (template_ != NULL && template_->from_address != NULL)
    from = template_->from_name ? g_strdup_printf ("%s <%s>", template_->from_name, template_->from_address)
                                : g_strdup (template_->from_address);
  else
    from = mr_sender_describe_for (self->settings, template_ ? template_->app : NULL, &error);
  adw_action_row_set_subtitle (self->from_row, from ? from : _("Not set yet"));
}

const char *
mr_compose_page_get_from (MrComposePage *self)
{
  return adw_action_row_get_subtitle (self->from_row);
}

/* Send is insensitive while no mail could go, and the reason stands beside it with the button
 * that leads to the fix. */
void
mr_compose_page_update_send_state (MrComposePage *self)
{
  const char *fix_page = NULL;
  const char *reason = self->settings ? blocked_reason (self, &fix_page) : NULL;

  if (self->settings != NULL)
    update_from_row (self);

  gtk_widget_set_sensitive (self->send_button, !self->busy && reason == NULL);
  gtk_widget_set_tooltip_text (self->send_button, reason);
  if (reason != NULL || self->blocked)
    mr_compose_page_set_status (self, reason);
  self->blocked = reason != NULL;
  gtk_widget_set_visible (self->fix_button, fix_page != NULL);
  if (fix_page != NULL)
    {
      gtk_button_set_label (GTK_BUTTON (self->fix_button), g_str_equal (fix_page, "company") ? _("Open _Company Settings")
                                                                                            : _("Open _My Settings"));
      /* The target first: GTK 4.8 checks the action against the target it has at each step. */
      gtk_actionable_set_action_target_value (GTK_ACTIONABLE (self->fix_button), g_variant_new_string (fix_page));
      gtk_actionable_set_action_name (GTK_ACTIONABLE (self->fix_button), "win.show-page");
    }
}

static void
set_busy (MrComposePage *self,
          gboolean       busy)
{
  self->busy = busy;
  gtk_widget_set_visible (self->cancel_button, busy);
  mr_compose_page_update_send_state (self);
  if (busy)
    gtk_spinner_start (self->spinner);
  else
    gtk_spinner_stop (self->spinner);
}

static void
on_sent (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(MrComposePage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(MrSendReport) report = g_task_propagate_pointer (G_TASK (result), &error);

  if (self->status_label == NULL)  /* disposed */
    return;
  set_busy (self, FALSE);
  /* The connection may have taught us the server's limit. */
  mr_compose_page_refresh_size_limit (self);
  mr_compose_page_rebuild_attachments (self);
  if (report == NULL)
    {
      mr_compose_page_set_status (self, error->message);
      return;
    }

  if (report->state == MR_SENT_STATE_ACCEPTED)
    {
      g_autofree char *status = g_strdup_printf (_("Accepted through %s. The Sent page has it (%s)."),
                                                 mr_compose_page_route_label (report->route), report->message_id);

      mr_compose_page_set_status (self, status);
      /* Sent: the draft has done its work. */
      self->loading = TRUE;
      gtk_editable_set_text (GTK_EDITABLE (self->to_row), "");
      gtk_editable_set_text (GTK_EDITABLE (self->cc_row), "");
      gtk_editable_set_text (GTK_EDITABLE (self->bcc_row), "");
      g_ptr_array_set_size (self->attachments, 0);
      mr_compose_page_rebuild_attachments (self);
      self->loading = FALSE;
      mr_compose_page_forget_draft ();
    }
  else if (report->state == MR_SENT_STATE_PARTLY_ACCEPTED ||
           (report->state == MR_SENT_STATE_QUEUED && report->failure == NULL))
    {
      /* Taken for some recipients: who was refused, for good or for now, in words. */
      GString *status = g_string_new (_("Accepted for some recipients only."));

      for (guint i = 0; report->refused != NULL && report->refused[i] != NULL; i++)
        g_string_append_printf (status, _("\nRefused: %s"), report->refused[i]);
      for (guint i = 0; report->deferred != NULL && report->deferred[i] != NULL; i++)
        g_string_append_printf (status, _("\nRefused for now, waits in the outbox: %s"), report->deferred[i]);
      mr_compose_page_set_status (self, status->str);
      g_string_free (status, TRUE);
      mr_compose_page_forget_draft ();
    }
  else if (report->state == MR_SENT_STATE_QUEUED)
    {
      g_autofree char *status = g_strdup_printf (_("Not sent yet: %s\nIt waits in the outbox and will be tried again."),
                                                 report->failure ? report->failure->message : "");
      mr_compose_page_set_status (self, status);
      mr_compose_page_forget_draft ();
    }
  else
    mr_compose_page_set_status (self, report->failure ? report->failure->message : _("Sending failed."));
  mr_compose_page_emit_sent (self);
}

void
mr_compose_page_on_send_clicked (MrComposePage *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MrTemplate) used = NULL;
  g_autoptr(GTask) task = NULL;
  g_autoptr(MrSettings) snapshot = NULL;
  g_autoptr(MrRouter) smtp = NULL;
  MrTemplate *current = mr_compose_page_selected_template (self);
  MrOutgoing *outgoing;
  SendJob *job;
  g_autofree char *status = NULL;
  const char *route = mr_route_for_row (adw_combo_row_get_selected (self->via_row));

  if (self->busy)
    return;
  {
    const char *fix_page;
    const char *reason = blocked_reason (self, &fix_page);

    if (reason != NULL)
      {
        mr_compose_page_set_status (self, reason);
        return;
      }
  }
  if (*gtk_editable_get_text (GTK_EDITABLE (self->to_row)) == '\0')
    {
      mr_compose_page_set_status (self, _("Enter at least one recipient in To."));
      gtk_widget_grab_focus (GTK_WIDGET (self->to_row));
      return;
    }
  outgoing = build_outgoing (self, &used, NULL, &error);
  if (outgoing == NULL)
    {
      mr_compose_page_set_status (self, error->message);
      return;
    }

  /* The worker reads its own copy of the settings: the window may change them meanwhile. */
  snapshot = mr_settings_new (NULL, NULL);
  if (!mr_settings_load (snapshot, &error))
    {
      mr_outgoing_free (outgoing);
      mr_compose_page_set_status (self, error->message);
      return;
    }
  smtp = mr_router_new (snapshot, current ? current->app : NULL, "smtp", NULL, NULL);

  job = g_new0 (SendJob, 1);
  job->settings = g_steal_pointer (&snapshot);
  job->log = g_object_ref (self->log);
  job->outgoing = outgoing;
  job->route = g_strdup (route);
  job->app = g_strdup (current ? current->app : NULL);
  job->template_name = current ? g_strdup (current->name) : NULL;
  job->log_option = g_strdup (used->log);

  if (g_str_equal (route, "exchange"))
    status = g_strdup (_("Sending via Exchange…"));
  else if (g_str_equal (route, "auto"))
    status = g_strdup (_("Sending…"));
  else
    status = g_strdup_printf (_("Sending via SMTP to %s…"), smtp && mr_router_check (smtp, NULL)
                                                            ? mr_transport_get_label (MR_TRANSPORT (smtp)) : _("the server"));
  mr_compose_page_set_status (self, status);
  set_busy (self, TRUE);

  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  task = g_task_new (NULL, self->cancellable, on_sent, g_object_ref (self));
  g_task_set_source_tag (task, mr_compose_page_on_send_clicked);
  g_task_set_task_data (task, job, (GDestroyNotify) send_job_free);
  g_task_run_in_thread (task, send_thread);
}

static void
on_cancel_clicked (MrComposePage *self)
{
  g_cancellable_cancel (self->cancellable);
}

/* The preview: the mail built as it will be sent, shown as the recipient's mail program shows it
 * (mr-message-view.h). */
static void
present_preview (MrComposePage *self,
                 GBytes        *message,
                 const char    *note,
                 const char    *problem)
{
  GtkWidget *dialog;
  GtkWidget *view = mr_message_view_new ();

  dialog = adw_message_dialog_new (GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))), _("Preview"),
                                   _("As the recipients will see it; remote images are not loaded"));
  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _("_Close"));
  gtk_widget_set_size_request (view, 560, 420);
  if (message != NULL)
    mr_message_view_set_message (MR_MESSAGE_VIEW (view), message, NULL, NULL, NULL, note);
  else
    mr_message_view_set_problem (MR_MESSAGE_VIEW (view), problem);
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), view);
  gtk_window_present (GTK_WINDOW (dialog));
}

typedef struct {
  MrOutgoing *outgoing;
  char       *note;
} PreviewJob;

static void
preview_job_free (PreviewJob *job)
{
  mr_outgoing_free (job->outgoing);
  g_free (job->note);
  g_free (job);
}

/* Attachments and inline images are read from disk: off the main thread. */
static void
preview_thread (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  PreviewJob *job = task_data;
  GError *error = NULL;
  GBytes *message = mr_outgoing_build (job->outgoing, NULL, &error);

  if (message != NULL)
    g_task_return_pointer (task, message, (GDestroyNotify) g_bytes_unref);
  else
    g_task_return_error (task, error);
}

static void
on_preview_built (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  MrComposePage *self = MR_COMPOSE_PAGE (source);
  PreviewJob *job = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) message = g_task_propagate_pointer (G_TASK (result), &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || self->status_label == NULL /* disposed */)
    return;
  present_preview (self, message, job->note, error ? error->message : NULL);
}

static void
on_preview_clicked (MrComposePage *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) missing = NULL;
  g_autoptr(MrTemplate) template_ = NULL;
  g_autoptr(MrOutgoing) outgoing = build_outgoing (self, &template_, &missing, &error);
  g_autoptr(GTask) task = NULL;
  PreviewJob *job;

  /* From as it will be sent: the template's own, or the settings'. */
  if (outgoing == NULL || !mr_settings_fill_sender (self->settings, template_ ? template_->app : NULL, outgoing, &error))
    {
      g_autofree char *words = mr_key_words (error->message);

      present_preview (self, NULL, NULL, words);
      return;
    }
  job = g_new0 (PreviewJob, 1);
  if (missing != NULL && missing->len > 0)
    {
      g_autoptr(GString) names = g_string_new (NULL);

      for (guint i = 0; i < missing->len; i++)
        g_string_append_printf (names, "%s“%s”", i ? ", " : "", (const char *) g_ptr_array_index (missing, i));
      job->note = g_strdup_printf (_("No value yet for %s"), names->str);
    }
  job->outgoing = g_steal_pointer (&outgoing);
  task = g_task_new (self, self->cancellable, on_preview_built, NULL);
  g_task_set_source_tag (task, on_preview_clicked);
  g_task_set_task_data (task, job, (GDestroyNotify) preview_job_free);
  g_task_run_in_thread (task, preview_thread);
}

/* ---- mailto: ---------------------------------------------------------------------------------- */

gboolean
mr_compose_page_open_mailto (MrComposePage *self,
                             const char    *uri)
{
  g_autofree char *rest = NULL;
  g_autofree char *to = NULL;
  char *query;

  if (g_ascii_strncasecmp (uri, "mailto:", 7) != 0)
    return FALSE;
  rest = g_strdup (uri + 7);
  query = strchr (rest, '?');
  if (query != NULL)
    *query++ = '\0';
  to = g_uri_unescape_string (rest, NULL);

  self->loading = TRUE;
  adw_combo_row_set_selected (self->template_row, 0);
  gtk_editable_set_text (GTK_EDITABLE (self->to_row), to ? to : "");
  gtk_editable_set_text (GTK_EDITABLE (self->cc_row), "");
  gtk_editable_set_text (GTK_EDITABLE (self->bcc_row), "");
  gtk_editable_set_text (GTK_EDITABLE (self->subject_row), "");
  mr_compose_page_set_buffer_text (self->text_view, "");
  mr_compose_page_set_buffer_text (self->html_view, "");
  if (query != NULL)
    {
      g_auto(GStrv) pairs = g_strsplit (query, "&", -1);

      for (guint i = 0; pairs[i] != NULL; i++)
        {
          char *equals = strchr (pairs[i], '=');
          g_autofree char *value = NULL;

          if (equals == NULL)
            continue;
          *equals = '\0';
          value = g_uri_unescape_string (equals + 1, NULL);
          if (value == NULL)
            continue;
          /* A link can never add a header: line breaks go, except in the body. */
          if (g_ascii_strcasecmp (pairs[i], "body") == 0)
            mr_compose_page_set_buffer_text (self->text_view, value);
          else
            {
              g_strdelimit (value, "\r\n", ' ');
              if (g_ascii_strcasecmp (pairs[i], "subject") == 0)
                gtk_editable_set_text (GTK_EDITABLE (self->subject_row), value);
              else if (g_ascii_strcasecmp (pairs[i], "cc") == 0)
                gtk_editable_set_text (GTK_EDITABLE (self->cc_row), value);
              else if (g_ascii_strcasecmp (pairs[i], "bcc") == 0)
                gtk_editable_set_text (GTK_EDITABLE (self->bcc_row), value);
              else if (g_ascii_strcasecmp (pairs[i], "to") == 0)
                {
                  const char *current = gtk_editable_get_text (GTK_EDITABLE (self->to_row));
                  g_autofree char *joined = *current ? g_strdup_printf ("%s, %s", current, value) : g_strdup (value);
                  gtk_editable_set_text (GTK_EDITABLE (self->to_row), joined);
                }
            }
        }
    }
  mr_compose_page_settle_own_text (self);
  self->loading = FALSE;
  mr_compose_page_check_address_row (self->to_row);
  mr_compose_page_check_address_row (self->cc_row);
  mr_compose_page_check_address_row (self->bcc_row);
  mr_compose_page_refresh_variables (self);
  mr_compose_page_schedule_draft (self);
  return TRUE;
}

void
mr_compose_page_send_class_init (GtkWidgetClass *widget_class)
{
  gtk_widget_class_bind_template_callback_full (widget_class, "on_send_clicked", G_CALLBACK (mr_compose_page_on_send_clicked));
  gtk_widget_class_bind_template_callback (widget_class, on_cancel_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_preview_clicked);
}
