/* mr-test-dialog.c: "Send Test Email" and "Check Server" */

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "mailroom-dns.h"
#include "mailroom-settings.h"
#include "mailroom-transport.h"
#include "mr-a11y.h"
#include "mr-domain-row.h"
#include "mr-key-labels.h"
#include "mr-test-dialog.h"

struct _MrTestDialog
{
  AdwWindow            parent_instance;

  MrSettings          *settings;
  char                *app;
  MrTestKind           kind;
  gboolean             can_pin;
  MrTransport         *transport;        /* the route being checked or sent through */
  MrTransportResult   *sent;             /* what the server said to the test message */
  GCancellable        *cancellable;
  gboolean             succeeded;
  char                *pin_candidate;
  GPtrArray           *result_rows;

  AdwWindowTitle      *window_title;
  GtkWidget           *cancel_button;
  GtkWidget           *start_button;
  GtkStack            *stack;
  AdwPreferencesGroup *ask_group;
  AdwEntryRow         *recipient_row;
  AdwPasswordEntryRow *password_row;
  AdwStatusPage       *busy_page;
  GtkSpinner          *spinner;
  GtkImage            *result_icon;
  GtkLabel            *result_title;
  GtkLabel            *result_description;
  AdwPreferencesGroup *certificate_group;
  GtkWidget           *pin_button;
  AdwPreferencesGroup *server_group;
  AdwPreferencesGroup *domain_group;
  GPtrArray           *domain_rows;
  GCancellable        *domain_cancellable;
  GtkExpander         *details_expander;
  guint                scroll_tick;     /* keeps the failing line in view as the details open */
  guint                scroll_frames;
  GtkTextView         *transcript_view;
};

G_DEFINE_FINAL_TYPE (MrTestDialog, mr_test_dialog, ADW_TYPE_WINDOW)

enum {
  SETTINGS_CHANGED,
  FINISHED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void start (MrTestDialog *self);

const char *
mr_test_dialog_get_state (MrTestDialog *self)
{
  return gtk_stack_get_visible_child_name (self->stack);
}

gboolean
mr_test_dialog_get_succeeded (MrTestDialog *self)
{
  return self->succeeded;
}

static void
add_row (MrTestDialog        *self,
         AdwPreferencesGroup *group,
         const char          *title,
         const char          *value)
{
  GtkWidget *row = adw_action_row_new ();

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), value ? value : "");
  adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 0);
  adw_preferences_group_add (group, row);
  g_ptr_array_add (self->result_rows, row);
}

static void
clear_result (MrTestDialog *self)
{
  for (guint i = 0; self->domain_rows != NULL && i < self->domain_rows->len; i++)
    adw_preferences_group_remove (self->domain_group, g_ptr_array_index (self->domain_rows, i));
  if (self->domain_rows != NULL)
    g_ptr_array_set_size (self->domain_rows, 0);
  if (self->domain_group != NULL)
    gtk_widget_set_visible (GTK_WIDGET (self->domain_group), FALSE);
  for (guint i = 0; i < self->result_rows->len; i++)
    {
      GtkWidget *row = g_ptr_array_index (self->result_rows, i);
      adw_preferences_group_remove (ADW_PREFERENCES_GROUP (gtk_widget_get_ancestor (row, ADW_TYPE_PREFERENCES_GROUP)), row);
    }
  g_ptr_array_set_size (self->result_rows, 0);
  gtk_widget_set_visible (GTK_WIDGET (self->certificate_group), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->server_group), FALSE);
  gtk_widget_set_visible (self->pin_button, FALSE);
  g_clear_pointer (&self->pin_candidate, g_free);
}

static void
show_certificate (MrTestDialog            *self,
                  const MrCertificateInfo *certificate)
{
  g_autofree char *from = NULL;
  g_autofree char *until = NULL;
  g_autofree char *validity = NULL;

  if (certificate == NULL)
    return;
  from = certificate->not_before ? g_date_time_format (certificate->not_before, "%x") : g_strdup ("?");
  until = certificate->not_after ? g_date_time_format (certificate->not_after, "%x") : g_strdup ("?");
  validity = g_strdup_printf (_("%s to %s"), from, until);
  add_row (self, self->certificate_group, _("Issued to"), certificate->subject);
  add_row (self, self->certificate_group, _("Issued by"), certificate->issuer);
  add_row (self, self->certificate_group, _("Valid"), validity);
  add_row (self, self->certificate_group, _("SHA-256 fingerprint"), certificate->sha256);
  /* After a success the problem is not one any more: the certificate is trusted because its
   * fingerprint is pinned. "The Server Works" never stands beside "Problem". */
  if (certificate->problems != NULL && self->succeeded)
    add_row (self, self->certificate_group, _("Trusted"), _("Because its fingerprint is pinned in the settings"));
  else if (certificate->problems != NULL)
    add_row (self, self->certificate_group, _("Problem"), certificate->problems);
  gtk_widget_set_visible (GTK_WIDGET (self->certificate_group), TRUE);
}

static void
show_server (MrTestDialog           *self,
             const MrSmtpServerInfo *info)
{
  g_autofree char *encryption = info->tls ? g_strdup_printf ("%s, %s", info->tls_version, info->tls_cipher ? info->tls_cipher : "?")
                                          : g_strdup (_("None"));
  g_autofree char *extensions = info->extensions ? g_strjoinv (", ", info->extensions) : g_strdup ("");
  g_autofree char *mechanisms = info->auth_mechanisms ? g_strjoinv (" ", info->auth_mechanisms) : g_strdup ("");
  g_autofree char *size = info->size_limit ? g_format_size (info->size_limit) : g_strdup (_("Not announced"));
  g_autofree char *login = info->auth_mechanism ? g_strdup_printf (_("Accepted for %s (%s)"), info->authenticated_as,
                                                                   info->auth_mechanism)
                                                : g_strdup (_("None used"));

  add_row (self, self->server_group, _("Greeting"), info->greeting);
  add_row (self, self->server_group, _("Encryption"), encryption);
  add_row (self, self->server_group, _("Capabilities"), extensions);
  add_row (self, self->server_group, _("Login methods"), mechanisms);
  add_row (self, self->server_group, _("Largest message"), size);
  add_row (self, self->server_group, _("Login"), login);
  gtk_widget_set_visible (GTK_WIDGET (self->server_group), TRUE);
}

/* The line that failed: the server's last 4xx or 5xx reply, else the last line. */
static int
failing_line (const char *transcript)
{
  g_auto(GStrv) lines = g_strsplit (transcript, "\n", -1);
  int reply = -1, last = -1;

  for (int i = 0; lines[i] != NULL; i++)
    {
      if (g_str_has_prefix (lines[i], "S: 4") || g_str_has_prefix (lines[i], "S: 5"))
        reply = i;
      if (lines[i][0] != '\0')
        last = i;
    }
  return reply >= 0 ? reply : last;
}

/* Again when the details open, frame by frame until the line is in view: the view knows its
 * lines' real heights only as it lays them out, and the first scroll goes by estimates. */
static gboolean
keep_failing_line_in_view (GtkWidget     *widget,
                           GdkFrameClock *clock,
                           gpointer       data)
{
  MrTestDialog *self = data;
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->transcript_view);
  GtkTextIter cursor;
  GdkRectangle visible, location;

  gtk_text_buffer_get_iter_at_mark (buffer, &cursor, gtk_text_buffer_get_insert (buffer));
  gtk_text_view_get_visible_rect (self->transcript_view, &visible);
  gtk_text_view_get_iter_location (self->transcript_view, &cursor, &location);
  if (++self->scroll_frames > 60 ||
      (visible.height > 0 && location.y >= visible.y && location.y + location.height <= visible.y + visible.height))
    {
      self->scroll_tick = 0;
      return G_SOURCE_REMOVE;
    }
  gtk_text_view_scroll_to_mark (self->transcript_view, gtk_text_buffer_get_insert (buffer), 0.1, FALSE, 0, 0);
  return G_SOURCE_CONTINUE;
}

static void
scroll_to_failing_line (MrTestDialog *self)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->transcript_view);
  GtkTextTag *failing = gtk_text_tag_table_lookup (gtk_text_buffer_get_tag_table (buffer), "failing");
  GtkTextIter cursor;

  gtk_text_buffer_get_iter_at_mark (buffer, &cursor, gtk_text_buffer_get_insert (buffer));
  if (failing == NULL || !gtk_expander_get_expanded (self->details_expander) || !gtk_text_iter_has_tag (&cursor, failing))
    return;
  self->scroll_frames = 0;
  if (self->scroll_tick == 0)
    self->scroll_tick = gtk_widget_add_tick_callback (GTK_WIDGET (self->transcript_view), keep_failing_line_in_view,
                                                      self, NULL);
}

/* After a failure the failing line is marked and scrolled into view when the details open. */
static void
show_transcript (MrTestDialog *self,
                 gboolean      failed)
{
  g_autofree char *transcript = self->transport ? mr_transport_dup_transcript (self->transport) : g_strdup ("");
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->transcript_view);
  int line = failed ? failing_line (transcript) : -1;

  gtk_text_buffer_set_text (buffer, transcript, -1);
  gtk_widget_set_visible (GTK_WIDGET (self->details_expander), *transcript != '\0');
  if (gtk_text_tag_table_lookup (gtk_text_buffer_get_tag_table (buffer), "failing") == NULL)
    gtk_text_buffer_create_tag (buffer, "failing", "weight", PANGO_WEIGHT_BOLD, "underline", PANGO_UNDERLINE_ERROR, NULL);
  if (line >= 0)
    {
      GtkTextIter start, end;

      gtk_text_buffer_get_iter_at_line (buffer, &start, line);
      end = start;
      gtk_text_iter_forward_to_line_end (&end);
      gtk_text_buffer_apply_tag_by_name (buffer, "failing", &start, &end);
      gtk_text_buffer_place_cursor (buffer, &start);
      /* Done once the view has its size, when the details are first opened. */
      gtk_text_view_scroll_to_mark (self->transcript_view, gtk_text_buffer_get_insert (buffer), 0.1, FALSE, 0, 0);
    }
}

const char *
mr_test_dialog_get_recipient (MrTestDialog *self)
{
  return gtk_editable_get_text (GTK_EDITABLE (self->recipient_row));
}

int
mr_test_dialog_get_failing_line (MrTestDialog *self)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->transcript_view);
  GtkTextIter iter;

  gtk_text_buffer_get_iter_at_mark (buffer, &iter, gtk_text_buffer_get_insert (buffer));
  return gtk_text_iter_get_line (&iter);
}

static void
set_state (MrTestDialog *self,
           const char   *state)
{
  gboolean busy = g_str_equal (state, "busy");

  gtk_stack_set_visible_child_name (self->stack, state);
  gtk_button_set_label (GTK_BUTTON (self->cancel_button), g_str_equal (state, "result") ? _("_Close") : _("_Cancel"));
  gtk_widget_set_visible (self->start_button, !busy);
  if (g_str_equal (state, "result"))
    gtk_button_set_label (GTK_BUTTON (self->start_button), _("_Try Again"));
  else
    gtk_button_set_label (GTK_BUTTON (self->start_button), self->kind == MR_TEST_SEND_EMAIL ? _("_Send") : _("_Check"));
  if (busy)
    gtk_spinner_start (self->spinner);
  else
    gtk_spinner_stop (self->spinner);
  /* The result takes the focus, so that a screen reader reads it first; a selectable label selects
   * all its text when focused, which a new user would take for something to act on. */
  if (g_str_equal (state, "result"))
    {
      gtk_widget_grab_focus (GTK_WIDGET (self->result_description));
      gtk_label_select_region (self->result_description, 0, 0);
    }
}

/* Success and failure look different, not only read differently: the icon and the heading take
 * libadwaita's "success" or "error" colour. */
static void
set_outcome_style (MrTestDialog *self,
                   const char   *style)
{
  static const char *styles[] = { "success", "error" };

  for (guint i = 0; i < G_N_ELEMENTS (styles); i++)
    {
      gtk_widget_remove_css_class (GTK_WIDGET (self->result_icon), styles[i]);
      gtk_widget_remove_css_class (GTK_WIDGET (self->result_title), styles[i]);
    }
  if (style != NULL)
    {
      gtk_widget_add_css_class (GTK_WIDGET (self->result_icon), style);
      gtk_widget_add_css_class (GTK_WIDGET (self->result_title), style);
    }
}

static void
show_failure (MrTestDialog *self,
              const GError *error)
{
  const MrCertificateInfo *certificate = self->transport ? mr_transport_get_certificate (self->transport) : NULL;

  clear_result (self);
  set_outcome_style (self, "error");
  gtk_image_set_from_icon_name (self->result_icon, "dialog-error-symbolic");
  gtk_label_set_text (self->result_title, self->kind == MR_TEST_SEND_EMAIL ? _("The Test Email Was Not Sent")
                                          : self->kind == MR_TEST_CHECK_EXCHANGE ? _("The Exchange Check Failed")
                                                                                  : _("The Server Check Failed"));
  {
    g_autofree char *words = mr_key_words (error->message);

    gtk_label_set_text (self->result_description, words);
  }
  /* The certificate matters when it was the problem. */
  if (g_error_matches (error, MR_SMTP_ERROR, MR_SMTP_ERROR_TLS_UNTRUSTED) ||
      g_error_matches (error, MR_SMTP_ERROR, MR_SMTP_ERROR_TLS_FAILED))
    show_certificate (self, certificate);
  if (g_error_matches (error, MR_SMTP_ERROR, MR_SMTP_ERROR_TLS_UNTRUSTED) && certificate != NULL)
    {
      self->pin_candidate = g_strdup (certificate->sha256);
      gtk_widget_set_visible (self->pin_button, self->can_pin);
    }
  show_transcript (self, TRUE);
  set_state (self, "result");
  g_signal_emit (self, signals[FINISHED], 0, FALSE);
}

/* ---- The From domain: will receivers trust it? (advice for a single mail) ------------------------ */

static void
on_domain_checked (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(MrTestDialog) self = user_data;
  g_autoptr(MrDomainReport) report = mr_domain_check_finish (result, NULL);

  if (report == NULL || self->domain_group == NULL)
    return;
  {
    g_autoptr(GPtrArray) rows = mr_finding_rows_new (report);

    for (guint i = 0; i < rows->len; i++)
      {
        adw_preferences_group_add (self->domain_group, g_ptr_array_index (rows, i));
        g_ptr_array_add (self->domain_rows, g_ptr_array_index (rows, i));
      }
  }
  gtk_widget_set_visible (GTK_WIDGET (self->domain_group), TRUE);
}

static void
check_from_domain (MrTestDialog *self)
{
  g_autoptr(MrSender) sender = mr_sender_new (self->settings, self->app, NULL);
  g_auto(MrDomainCheckOptions) options = { 0 };
  const char *at;

  if (sender == NULL || (at = strrchr (mr_sender_get_address (sender), '@')) == NULL)
    return;
  mr_domain_check_options_init_for (&options, self->settings, self->app, "smtp", at + 1);
  mr_domain_check_async (at + 1, &options, self->domain_cancellable, on_domain_checked, g_object_ref (self));
}

static void
on_finished (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(MrTestDialog) self = user_data;
  g_autoptr(GError) error = NULL;
  gboolean ok;

  if (self->kind == MR_TEST_SEND_EMAIL)
    {
      g_clear_pointer (&self->sent, mr_transport_result_free);
      self->sent = mr_transport_send_one_finish (MR_TRANSPORT (source), result, &error);
      ok = self->sent != NULL;
    }
  else
    ok = mr_transport_check_finish (MR_TRANSPORT (source), result, &error);

  if (self->stack == NULL)  /* closed meanwhile */
    return;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      clear_result (self);
      set_outcome_style (self, NULL);
      gtk_image_set_from_icon_name (self->result_icon, "process-stop-symbolic");
      gtk_label_set_text (self->result_title, _("Cancelled"));
      gtk_label_set_text (self->result_description, "");
      show_transcript (self, FALSE);
      set_state (self, "result");
      return;
    }

  /* No password to be had from the keyring: ask for it, once, and keep it nowhere. */
  if (!ok && mr_transport_error_needs_password (error) &&
      !gtk_widget_get_visible (GTK_WIDGET (self->password_row)))
    {
      g_autofree char *words = mr_key_words (error->message);

      adw_preferences_group_set_description (self->ask_group, words);
      gtk_widget_set_visible (GTK_WIDGET (self->password_row), TRUE);
      gtk_widget_set_visible (GTK_WIDGET (self->recipient_row), self->kind == MR_TEST_SEND_EMAIL);
      set_state (self, "ask");
      gtk_widget_grab_focus (GTK_WIDGET (self->password_row));
      return;
    }

  if (!ok)
    {
      show_failure (self, error);
      return;
    }

  self->succeeded = TRUE;
  clear_result (self);
  set_outcome_style (self, "success");
  gtk_image_set_from_icon_name (self->result_icon, "emblem-ok-symbolic");
  if (self->kind == MR_TEST_CHECK_EXCHANGE)
    {
      const char *warning = mr_transport_get_warning (self->transport);
      g_autofree char *description = g_strdup_printf (_("Mailroom logged in to %s and read Sent Items. Nothing was "
                                                        "sent.%s%s"), mr_transport_get_label (self->transport),
                                                      warning ? "\n\n" : "", warning ? warning : "");

      gtk_label_set_text (self->result_title, _("Exchange Works"));
      gtk_label_set_text (self->result_description, description);
    }
  else if (self->kind == MR_TEST_SEND_EMAIL)
    {
      const MrTransportResult *sent = self->sent;
      g_autofree char *description = g_strdup_printf (_("Sent to %s through %s.%s%s"),
                                                      gtk_editable_get_text (GTK_EDITABLE (self->recipient_row)),
                                                      mr_transport_get_label (self->transport),
                                                      sent && sent->reply ? _("\nThe server said: ") : "",
                                                      sent && sent->reply ? sent->reply : "");
      gtk_label_set_text (self->result_title, _("Test Email Sent"));
      gtk_label_set_text (self->result_description, description);
    }
  else
    {
      g_autofree char *description = g_strdup_printf (_("Mailroom connected to %s and logged in. Nothing was sent."),
                                                      mr_transport_get_label (self->transport));
      gtk_label_set_text (self->result_title, _("The Server Works"));
      gtk_label_set_text (self->result_description, description);
      if (mr_transport_get_server_info (self->transport) != NULL)
        show_server (self, mr_transport_get_server_info (self->transport));
      show_certificate (self, mr_transport_get_certificate (self->transport));
    }
  show_transcript (self, FALSE);
  set_state (self, "result");
  check_from_domain (self);
  g_signal_emit (self, signals[FINISHED], 0, TRUE);
}

static void
start (MrTestDialog *self)
{
  g_autoptr(GError) error = NULL;
  const char *password = gtk_editable_get_text (GTK_EDITABLE (self->password_row));
  g_autofree char *description = NULL;

  g_clear_object (&self->transport);
  /* Check Exchange goes through Exchange; Check Server and Send Test Email through the SMTP server
   * (or the sendmail program) of the settings. */
  self->transport = MR_TRANSPORT (mr_router_new (self->settings, self->app,
                                                 self->kind == MR_TEST_CHECK_EXCHANGE ? "exchange" : "smtp",
                                                 gtk_widget_get_visible (GTK_WIDGET (self->password_row)) &&
                                                 *password != '\0' ? password : NULL, &error));
  if (self->transport == NULL || !mr_router_check (MR_ROUTER (self->transport), &error))
    {
      show_failure (self, error);
      return;
    }

  if (self->kind == MR_TEST_CHECK_EXCHANGE)
    adw_status_page_set_title (self->busy_page, _("Checking Exchange"));
  else
    adw_status_page_set_title (self->busy_page, self->kind == MR_TEST_SEND_EMAIL ? _("Sending") : _("Checking the Server"));
  description = g_strdup_printf (self->kind == MR_TEST_SEND_EMAIL ? _("Sending through %s…") : _("Connecting to %s…"),
                                 mr_transport_get_label (self->transport));
  adw_status_page_set_description (self->busy_page, description);
  set_state (self, "busy");

  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  if (self->kind == MR_TEST_SEND_EMAIL)
    {
      g_autoptr(MrSender) sender = mr_sender_new (self->settings, self->app, &error);
      g_autoptr(MrSmtpEnvelope) envelope = NULL;
      g_autoptr(GBytes) message = NULL;

      if (sender != NULL)
        message = mr_sender_build_test_message (sender, gtk_editable_get_text (GTK_EDITABLE (self->recipient_row)),
                                                mr_transport_get_label (self->transport), &envelope, NULL, &error);
      if (message == NULL)
        {
          show_failure (self, error);
          return;
        }
      mr_transport_send_one_async (self->transport, envelope, message, self->cancellable, on_finished,
                                   g_object_ref (self));
    }
  else
    mr_transport_check_async (self->transport, self->cancellable, on_finished, g_object_ref (self));
}

static void
on_start_clicked (MrTestDialog *self)
{
  if (g_str_equal (mr_test_dialog_get_state (self), "result") && self->kind == MR_TEST_SEND_EMAIL &&
      !gtk_widget_get_visible (GTK_WIDGET (self->password_row)))
    {
      /* "Try Again" after a send: the recipient may want a change first. */
      set_state (self, "ask");
      return;
    }
  start (self);
}

static void
on_cancel_clicked (MrTestDialog *self)
{
  if (g_str_equal (mr_test_dialog_get_state (self), "busy"))
    g_cancellable_cancel (self->cancellable);
  else
    gtk_window_close (GTK_WINDOW (self));
}

static void
on_recipient_changed (MrTestDialog *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->recipient_row));
  gboolean valid = mr_validate_address (text, NULL);

  gtk_widget_set_sensitive (self->start_button, valid);
  if (valid || *text == '\0')
    gtk_widget_remove_css_class (GTK_WIDGET (self->recipient_row), "error");
  else
    gtk_widget_add_css_class (GTK_WIDGET (self->recipient_row), "error");
}

/* The admin accepts this certificate from now on: its fingerprint goes into the settings. */
static void
on_pin_clicked (MrTestDialog *self)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *key = NULL;

  if (self->pin_candidate == NULL)
    return;
  if (self->app != NULL)
    {
      g_autofree char *host_key = g_strdup_printf ("apps.%s.smtp.host", self->app);
      gboolean own_server = mr_settings_file_get (mr_settings_get_company (self->settings), host_key) != NULL;

      key = own_server ? g_strdup_printf ("apps.%s.smtp.tls_fingerprint", self->app) : g_strdup ("smtp.tls_fingerprint");
    }
  else
    key = g_strdup ("smtp.tls_fingerprint");

  if (!mr_settings_set_and_commit (self->settings, MR_SCOPE_COMPANY, key, self->pin_candidate, NULL, &error))
    {
      gtk_label_set_text (self->result_description, error->message);
      return;
    }
  g_signal_emit (self, signals[SETTINGS_CHANGED], 0);
  start (self);
}

static void
mr_test_dialog_dispose (GObject *object)
{
  MrTestDialog *self = MR_TEST_DIALOG (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_cancellable_cancel (self->domain_cancellable);
  g_clear_object (&self->domain_cancellable);
  g_clear_pointer (&self->domain_rows, g_ptr_array_unref);
  g_clear_object (&self->transport);
  g_clear_pointer (&self->sent, mr_transport_result_free);
  g_clear_object (&self->settings);
  g_clear_pointer (&self->app, g_free);
  g_clear_pointer (&self->pin_candidate, g_free);
  g_clear_pointer (&self->result_rows, g_ptr_array_unref);
  if (self->scroll_tick != 0 && self->transcript_view != NULL)
    gtk_widget_remove_tick_callback (GTK_WIDGET (self->transcript_view), self->scroll_tick);
  self->scroll_tick = 0;

  gtk_widget_dispose_template (GTK_WIDGET (self), MR_TYPE_TEST_DIALOG);
  self->stack = NULL;
  self->domain_group = NULL;

  G_OBJECT_CLASS (mr_test_dialog_parent_class)->dispose (object);
}

static void
mr_test_dialog_class_init (MrTestDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = mr_test_dialog_dispose;

  /* The company settings changed here (a pinned certificate): pages should read them again. */
  signals[SETTINGS_CHANGED] =
    g_signal_new ("settings-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  /* ::finished (succeeded): the check or the test email ended, with a success or a failure shown. */
  signals[FINISHED] =
    g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 1,
                  G_TYPE_BOOLEAN);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/mailroom/Mailroom/mr-test-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, MrTestDialog, window_title);
  gtk_widget_class_bind_template_child (widget_class, MrTestDialog, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, MrTestDialog, start_button);
  gtk_widget_class_bind_template_child (widget_class, MrTestDialog, stack);
  gtk_widget_class_bind_template_child (widget_class, MrTestDialog, ask_group);
  gtk_widget_class_bind_template_child (widget_class, MrTestDialog, recipient_row);
  gtk_widget_class_bind_template_child (widget_class, MrTestDialog, password_row);
  gtk_widget_class_bind_template_child (widget_class, MrTestDialog, busy_page);
  gtk_widget_class_bind_template_child (widget_class, MrTestDialog, spinner);
  gtk_widget_class_bind_template_child (widget_class, MrTestDialog, result_icon);
  gtk_widget_class_bind_template_child (widget_class, MrTestDialog, result_title);
  gtk_widget_class_bind_template_child (widget_class, MrTestDialog, result_description);
  gtk_widget_class_bind_template_child (widget_class, MrTestDialog, certificate_group);
  gtk_widget_class_bind_template_child (widget_class, MrTestDialog, pin_button);
  gtk_widget_class_bind_template_child (widget_class, MrTestDialog, server_group);
  gtk_widget_class_bind_template_child (widget_class, MrTestDialog, domain_group);
  gtk_widget_class_bind_template_child (widget_class, MrTestDialog, details_expander);
  gtk_widget_class_bind_template_child (widget_class, MrTestDialog, transcript_view);
  gtk_widget_class_bind_template_callback (widget_class, on_start_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_cancel_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_recipient_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_pin_clicked);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
mr_test_dialog_init (MrTestDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  mr_a11y_name_password_row (self->password_row);
  self->result_rows = g_ptr_array_new ();
  self->domain_rows = g_ptr_array_new ();
  self->domain_cancellable = g_cancellable_new ();
  g_signal_connect_swapped (self->details_expander, "notify::expanded", G_CALLBACK (scroll_to_failing_line), self);
}

MrTestDialog *
mr_test_dialog_new (GtkWindow  *parent,
                    MrSettings *settings,
                    const char *app,
                    MrTestKind  kind,
                    gboolean    can_pin)
{
  MrTestDialog *self = g_object_new (MR_TYPE_TEST_DIALOG, "transient-for", parent, NULL);
  g_autofree char *subtitle = app ? g_strdup_printf (_("Application “%s”"), app) : NULL;

  self->settings = g_object_ref (settings);
  self->app = g_strdup (app);
  self->kind = kind;
  self->can_pin = can_pin;

  adw_window_title_set_title (self->window_title, kind == MR_TEST_SEND_EMAIL ? _("Send Test Email")
                                                  : kind == MR_TEST_CHECK_EXCHANGE ? _("Check Exchange") : _("Check Server"));
  adw_window_title_set_subtitle (self->window_title, subtitle);
  gtk_window_set_default_widget (GTK_WINDOW (self), self->start_button);

  if (kind == MR_TEST_SEND_EMAIL)
    {
      /* By default to the person's own address, else back to the sender. */
      g_autofree char *own = mr_settings_dup_effective_string (settings, app, "user.email");
      g_autofree char *from = mr_settings_dup_effective_string (settings, app, "sender.from_address");

      gtk_editable_set_text (GTK_EDITABLE (self->recipient_row), *own ? own : from);
      on_recipient_changed (self);
      set_state (self, "ask");
      /* Return sends: the address has the focus, not the Cancel button that comes first. */
      gtk_widget_grab_focus (GTK_WIDGET (self->recipient_row));
    }
  else
    {
      gtk_widget_set_visible (GTK_WIDGET (self->recipient_row), FALSE);
      start (self);
    }
  return self;
}
