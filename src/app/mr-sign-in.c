/* mr-sign-in.c: a "Sign In…" row and its button */

#include "config.h"

#include <glib/gi18n.h>

#include "mailroom-transport.h"
#include "mr-sign-in.h"

struct _MrSignIn
{
  GObject           parent_instance;

  MrSettings       *settings;
  MrSignInFor       what;
  AdwActionRow     *row;       /* weak */
  GtkButton        *button;    /* weak */
  GCancellable     *cancellable;
  AdwMessageDialog *dialog;    /* weak */
  GtkWidget        *sign_out;  /* beside the button, when signed in; weak */
};

G_DEFINE_FINAL_TYPE (MrSignIn, mr_sign_in, G_TYPE_OBJECT)

/* What one sign-in needs in its thread; the session is made there. */
typedef struct {
  MrOAuthConfig     *config;
  char              *trust_file;
  const char        *scope;
  gboolean           browser;
  MrOAuthDeviceCode *code;      /* after the first step of a device-code sign-in */
} Job;

static void
job_free (Job *job)
{
  mr_oauth_config_free (job->config);
  g_free (job->trust_file);
  mr_oauth_device_code_free (job->code);
  g_free (job);
}

static void
close_dialog (MrSignIn *self)
{
  if (self->dialog != NULL)
    gtk_window_destroy (GTK_WINDOW (self->dialog));
  g_clear_weak_pointer (&self->dialog);
}

static void
mr_sign_in_dispose (GObject *object)
{
  MrSignIn *self = MR_SIGN_IN (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  close_dialog (self);
  if (self->button != NULL)
    g_signal_handlers_disconnect_by_data (self->button, self);
  g_clear_weak_pointer (&self->row);
  g_clear_weak_pointer (&self->button);
  g_clear_weak_pointer (&self->sign_out);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (mr_sign_in_parent_class)->dispose (object);
}

static void
mr_sign_in_class_init (MrSignInClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = mr_sign_in_dispose;
}

static void
mr_sign_in_init (MrSignIn *self)
{
  self->cancellable = g_cancellable_new ();
}

/* Whose sign-in, for what, from the settings as saved. NULL with @error when there is none to do. */
static Job *
make_job (MrSignIn  *self,
          GError   **error)
{
  Job *job;

  if (self->what == MR_SIGN_IN_EXCHANGE)
    {
      g_autoptr(MrExchange) exchange = mr_exchange_new_for_setup (self->settings, NULL, error);
      const MrOAuthConfig *config;

      if (exchange == NULL)
        return NULL;
      config = mr_exchange_get_oauth_config (exchange);
      job = g_new0 (Job, 1);
      job->config = mr_oauth_config_copy (config);
      job->scope = g_strcmp0 (mr_exchange_get_transport (exchange), "graph") == 0 ? MR_OAUTH_SCOPE_GRAPH_SEND
                                                                                  : MR_OAUTH_SCOPE_EWS;
    }
  else
    {
      g_autoptr(MrDelivery) delivery = mr_delivery_new (self->settings, NULL, error);
      const MrOAuthConfig *config;

      if (delivery == NULL)
        return NULL;
      config = mr_delivery_get_oauth_config (delivery);
      if (config == NULL)
        {
          g_set_error_literal (error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_INVALID_VALUE,
                               _("SMTP logs in with a password here, not with a sign-in"));
          return NULL;
        }
      job = g_new0 (Job, 1);
      job->config = mr_oauth_config_copy (config);
      job->browser = g_strcmp0 (config->provider, "google") == 0;
      job->scope = job->browser ? MR_OAUTH_SCOPE_GOOGLE_MAIL : MR_OAUTH_SCOPE_SMTP_SEND;
    }
  {
    g_autofree char *trust = mr_settings_dup_effective_string (self->settings, NULL, "exchange.trust_file");
    job->trust_file = *trust ? g_steal_pointer (&trust) : NULL;
  }
  return job;
}

static void
sign_in_thread (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  Job *job = task_data;
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autoptr(MrOAuthTokens) tokens = NULL;
  GError *error = NULL;

  if (job->trust_file != NULL)
    {
      g_autoptr(GTlsDatabase) database = g_tls_file_database_new (job->trust_file, &error);

      if (database == NULL)
        {
          g_task_return_error (task, error);
          return;
        }
      soup_session_set_tls_database (session, database);
    }
  if (!job->browser && job->code == NULL)
    {
      /* The first step of a device-code sign-in: the code to show. */
      job->code = mr_oauth_device_start_sync (session, job->config, job->scope, cancellable, &error);
      if (job->code == NULL)
        g_task_return_error (task, error);
      else
        g_task_return_boolean (task, TRUE);
      return;
    }
  tokens = job->browser ? mr_oauth_browser_sign_in_sync (session, job->config, job->scope, NULL, NULL, cancellable, &error)
                        : mr_oauth_device_poll_sync (session, job->config, job->code, cancellable, &error);
  if (tokens != NULL && tokens->refresh_token == NULL)
    g_set_error_literal (&error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_PROTOCOL,
                         _("The sign-in gave no refresh token: the app registration must allow offline access"));
  if (tokens == NULL || error != NULL ||
      !mr_oauth_store_refresh_token_sync (job->config, tokens->refresh_token, cancellable, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
on_signed_in (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(MrSignIn) self = user_data;
  g_autoptr(GError) error = NULL;

  if (self->row == NULL)  /* gone with its page */
    return;
  close_dialog (self);
  gtk_widget_set_sensitive (GTK_WIDGET (self->button), TRUE);
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      adw_action_row_set_subtitle (self->row, g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
                                                ? _("The sign-in was cancelled") : error->message);
      return;
    }
  mr_sign_in_refresh (self);
}

static void
on_dialog_response (MrSignIn   *self,
                    const char *response)
{
  /* The only answer is to give up: the sign-in itself happens in the browser. */
  g_cancellable_cancel (self->cancellable);
}

static void
on_copy_clicked (GtkButton *button,
                 GtkLabel  *done)
{
  gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (button)), g_object_get_data (G_OBJECT (button), "code"));
  gtk_widget_set_visible (GTK_WIDGET (done), TRUE);
}

/* The device code, with a button that copies it (the dialog stays open: it is waiting). */
static GtkWidget *
code_copier (const char *code)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *button = gtk_button_new_with_mnemonic (_("_Copy Code"));
  GtkWidget *done = gtk_label_new (_("Copied"));

  gtk_widget_set_halign (box, GTK_ALIGN_CENTER);
  gtk_widget_set_name (button, "copy-code");
  g_object_set_data_full (G_OBJECT (button), "code", g_strdup (code), g_free);
  gtk_widget_set_visible (done, FALSE);
  gtk_widget_add_css_class (done, "dim-label");
  g_signal_connect (button, "clicked", G_CALLBACK (on_copy_clicked), done);
  gtk_box_append (GTK_BOX (box), button);
  gtk_box_append (GTK_BOX (box), done);
  return box;
}

static void
show_dialog (MrSignIn   *self,
             const char *heading,
             const char *body,
             const char *code)
{
  AdwMessageDialog *dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (
    GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self->row))), heading, NULL));

  if (code != NULL)
    adw_message_dialog_set_extra_child (dialog, code_copier (code));
  adw_message_dialog_set_body_use_markup (dialog, TRUE);
  adw_message_dialog_set_body (dialog, body);
  adw_message_dialog_add_responses (dialog, "cancel", _("_Cancel"), NULL);
  adw_message_dialog_set_close_response (dialog, "cancel");
  g_signal_connect_object (dialog, "response", G_CALLBACK (on_dialog_response), self, G_CONNECT_SWAPPED);
  g_set_weak_pointer (&self->dialog, dialog);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
run_job (MrSignIn            *self,
         Job                 *job,
         GAsyncReadyCallback  callback)
{
  g_autoptr(GTask) task = g_task_new (NULL, self->cancellable, callback, g_object_ref (self));

  g_task_set_source_tag (task, run_job);
  g_task_set_task_data (task, job, (GDestroyNotify) job_free);
  g_task_run_in_thread (task, sign_in_thread);
}

static void
on_code_received (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(MrSignIn) self = user_data;
  g_autoptr(GError) error = NULL;
  Job *job = g_task_get_task_data (G_TASK (result));
  Job *next;
  g_autofree char *body = NULL;

  if (self->row == NULL)
    return;
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      gtk_widget_set_sensitive (GTK_WIDGET (self->button), TRUE);
      adw_action_row_set_subtitle (self->row, error->message);
      return;
    }
  body = g_markup_printf_escaped (_("Open <a href=\"%s\">%s</a> in a browser, sign in with your Microsoft account, and "
                                    "enter this code:\n\n<span size=\"x-large\" weight=\"bold\">%s</span>\n\n"
                                    "Mailroom waits here until you have signed in."),
                                  job->code->verification_uri, job->code->verification_uri, job->code->user_code);
  show_dialog (self, _("Sign In to Microsoft"), body, job->code->user_code);

  /* The second step, polling, with the same sign-in. */
  next = g_new0 (Job, 1);
  next->config = mr_oauth_config_copy (job->config);
  next->trust_file = g_strdup (job->trust_file);
  next->scope = job->scope;
  next->code = g_steal_pointer (&job->code);
  run_job (self, next, on_signed_in);
}

static void
on_clicked (MrSignIn *self)
{
  g_autoptr(GError) error = NULL;
  Job *job = make_job (self, &error);

  if (job == NULL)
    {
      adw_action_row_set_subtitle (self->row, error->message);
      return;
    }
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  gtk_widget_set_sensitive (GTK_WIDGET (self->button), FALSE);
  if (job->browser)
    {
      show_dialog (self, _("Sign In to Google"),
                   _("The sign-in page opens in your browser. Sign in there and allow Mailroom to send mail as you; "
                     "Mailroom waits here until you have."), NULL);
      run_job (self, job, on_signed_in);
    }
  else
    {
      adw_action_row_set_subtitle (self->row, _("Asking Microsoft for a sign-in code…"));
      run_job (self, job, on_code_received);
    }
}

static void
on_lookup_done (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(MrSignIn) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(MrSecret) token = mr_secrets_lookup_finish (result, &error);
  g_autofree char *who = NULL;

  if (self->row == NULL || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  who = g_object_steal_data (G_OBJECT (self->row), "account");
  if (error != NULL)
    adw_action_row_set_subtitle (self->row, error->message);
  else if (token != NULL)
    {
      g_autofree char *subtitle = g_strdup_printf (_("Signed in as %s"), who);

      adw_action_row_set_subtitle (self->row, subtitle);
      gtk_button_set_label (self->button, _("_Sign In Again…"));
    }
  else
    {
      adw_action_row_set_subtitle (self->row, _("Not signed in yet: sign in once, and Mailroom keeps the sign-in in "
                                                "your keyring"));
      gtk_button_set_label (self->button, _("_Sign In…"));
    }
  if (self->sign_out != NULL)
    gtk_widget_set_visible (self->sign_out, token != NULL);
}

void
mr_sign_in_refresh (MrSignIn *self)
{
  g_autoptr(GError) error = NULL;
  Job *job;
  g_autoptr(MrSecretAccount) account = NULL;

  if (self->row == NULL || !gtk_widget_get_visible (GTK_WIDGET (self->row)))
    return;
  job = make_job (self, &error);
  if (job == NULL)
    {
      adw_action_row_set_subtitle (self->row, error->message);
      return;
    }
  account = mr_oauth_config_get_account (job->config);
  g_object_set_data_full (G_OBJECT (self->row), "account", g_strdup (account->user), g_free);
  mr_secrets_lookup_async (account, self->cancellable, on_lookup_done, g_object_ref (self));
  job_free (job);
}

static void
on_signed_out (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(MrSignIn) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!mr_secrets_clear_finish (result, &error) && self->row != NULL &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    adw_action_row_set_subtitle (self->row, error->message);
  mr_sign_in_refresh (self);
}

/* Sign Out forgets the sign-in (its refresh token in the keyring); the service keeps nothing. */
static void
on_sign_out_clicked (MrSignIn *self)
{
  g_autoptr(GError) error = NULL;
  Job *job = make_job (self, &error);
  g_autoptr(MrSecretAccount) account = NULL;

  if (job == NULL)
    {
      adw_action_row_set_subtitle (self->row, error->message);
      return;
    }
  account = mr_oauth_config_get_account (job->config);
  mr_secrets_clear_async (account, self->cancellable, on_signed_out, g_object_ref (self));
  job_free (job);
}

MrSignIn *
mr_sign_in_new (MrSettings   *settings,
                MrSignInFor   what,
                AdwActionRow *row,
                GtkButton    *button)
{
  MrSignIn *self = g_object_new (MR_TYPE_SIGN_IN, NULL);

  self->settings = g_object_ref (settings);
  self->what = what;
  g_set_weak_pointer (&self->row, row);
  g_set_weak_pointer (&self->button, button);
  g_signal_connect_swapped (button, "clicked", G_CALLBACK (on_clicked), self);
  /* Sign Out stands beside Sign In Again, once signed in. */
  {
    GtkWidget *sign_out = gtk_button_new_with_mnemonic (_("Sign _Out"));

    gtk_widget_set_valign (sign_out, GTK_ALIGN_CENTER);
    gtk_widget_set_visible (sign_out, FALSE);
    gtk_widget_set_name (sign_out, "sign-out");
    g_signal_connect_object (sign_out, "clicked", G_CALLBACK (on_sign_out_clicked), self, G_CONNECT_SWAPPED);
    adw_action_row_add_suffix (row, sign_out);
    g_set_weak_pointer (&self->sign_out, sign_out);
  }
  return self;
}
