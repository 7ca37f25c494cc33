/* mr-user-page.c: the My settings page */

#include "config.h"

#include <glib/gi18n.h>

#include "mr-exchange.h"
#include "mr-password-field.h"
#include "mr-test-dialog.h"
#include "mr-user-page.h"

struct _MrUserPage
{
  AdwBin               parent_instance;

  MrSettings          *settings;
  MrSettingsForm      *form;
  MrPasswordField     *password;

  AdwEntryRow         *name_row;
  AdwEntryRow         *email_row;
  AdwActionRow        *email_warning_row;
  AdwEntryRow         *from_name_row;
  AdwEntryRow         *reply_to_row;
  AdwPreferencesGroup *login_group;
  AdwEntryRow         *username_row;
  AdwPasswordEntryRow *password_row;
  AdwActionRow        *keyring_row;
  GtkWidget           *forget_button;
  AdwPreferencesGroup *exchange_group;
  AdwEntryRow         *exchange_username_row;
  AdwPasswordEntryRow *exchange_password_row;
  AdwActionRow        *exchange_keyring_row;
  GtkWidget           *exchange_forget_button;
  AdwActionRow        *exchange_check_row;
  GtkWidget           *exchange_check_button;
  AdwActionRow        *sign_in_row;
  GtkWidget           *sign_in_button;
  MrPasswordField     *exchange_password;
  GCancellable        *sign_in_cancellable;
  AdwMessageDialog    *sign_in_dialog;
  AdwActionRow        *try_row;
  GtkWidget           *check_button;
  GtkWidget           *test_button;
};

G_DEFINE_FINAL_TYPE (MrUserPage, mr_user_page, ADW_TYPE_BIN)

enum {
  PROP_0,
  PROP_HAS_CHANGES,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* The keys this page edits; each shows its lock when the company has one. */
static const char * const page_keys[] = { "sender.from_name", "sender.reply_to", "smtp.username", "exchange.username",
                                           NULL };

/* What Exchange asks of this person: a password (EWS with NTLM or Basic), a sign-in (Graph, or EWS
 * with OAuth2), or nothing (not set up, Kerberos). */
typedef enum { EXCHANGE_NOTHING, EXCHANGE_PASSWORD, EXCHANGE_SIGN_IN } ExchangeLogin;

static ExchangeLogin
exchange_login (MrUserPage *self)
{
  g_autofree char *transport = mr_settings_dup_effective_string (self->settings, NULL, "exchange.transport");
  g_autofree char *auth = mr_settings_dup_effective_string (self->settings, NULL, "exchange.auth");

  if (!mr_exchange_is_set_up (self->settings, NULL, NULL))
    return EXCHANGE_NOTHING;
  if (g_str_equal (transport, "graph") || g_str_equal (auth, "oauth2"))
    return EXCHANGE_SIGN_IN;
  return g_str_equal (auth, "negotiate") ? EXCHANGE_NOTHING : EXCHANGE_PASSWORD;
}

static gboolean
uses_own_login (MrUserPage *self)
{
  g_autofree char *credentials = mr_settings_dup_effective_string (self->settings, NULL, "smtp.credentials");
  g_autofree char *auth = mr_settings_dup_effective_string (self->settings, NULL, "smtp.auth");

  return g_strcmp0 (credentials, "per-user") == 0 && g_strcmp0 (auth, "none") != 0;
}

static void
open_test (MrUserPage *self,
           MrTestKind  kind)
{
  MrTestDialog *dialog = mr_test_dialog_new (GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))), self->settings,
                                             NULL, kind, mr_settings_can_edit_company (self->settings));

  g_signal_connect_object (dialog, "settings-changed", G_CALLBACK (mr_user_page_revert), self, G_CONNECT_SWAPPED);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
on_check_clicked (MrUserPage *self)
{
  open_test (self, MR_TEST_CHECK_SERVER);
}

static void
on_exchange_check_clicked (MrUserPage *self)
{
  open_test (self, MR_TEST_CHECK_EXCHANGE);
}

static void
on_test_clicked (MrUserPage *self)
{
  open_test (self, MR_TEST_SEND_EMAIL);
}

static void
update_state (MrUserPage *self)
{
  const char * const *warnings = mr_settings_form_get_warnings (self->form);
  gboolean saved = !mr_settings_form_get_dirty (self->form) && mr_settings_form_get_valid (self->form);

  gtk_widget_set_sensitive (self->check_button, saved);
  gtk_widget_set_sensitive (self->test_button, saved);
  adw_action_row_set_subtitle (self->try_row, saved ? _("Uses the settings as saved") : _("Save the changes first"));

  gtk_widget_set_visible (GTK_WIDGET (self->email_warning_row), warnings != NULL && warnings[0] != NULL);
  if (warnings != NULL && warnings[0] != NULL)
    adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->email_warning_row), warnings[0]);
  gtk_widget_set_visible (GTK_WIDGET (self->login_group), uses_own_login (self));
  {
    ExchangeLogin login = exchange_login (self);

    gtk_widget_set_visible (GTK_WIDGET (self->exchange_group), mr_exchange_is_set_up (self->settings, NULL, NULL));
    gtk_widget_set_visible (GTK_WIDGET (self->exchange_password_row), login == EXCHANGE_PASSWORD);
    gtk_widget_set_visible (GTK_WIDGET (self->exchange_keyring_row), login == EXCHANGE_PASSWORD);
    gtk_widget_set_visible (GTK_WIDGET (self->sign_in_row), login == EXCHANGE_SIGN_IN);
    /* Checking uses what is saved. */
    gtk_widget_set_sensitive (GTK_WIDGET (self->exchange_check_row), saved);
  }
}

/* ---- The Microsoft sign-in (device code) ------------------------------------------------------ */

static void
refresh_sign_in (MrUserPage *self);

static void
sign_in_thread (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  MrExchange *exchange = task_data;
  MrOAuthDeviceCode *code = g_object_get_data (G_OBJECT (task), "code");
  const MrOAuthConfig *config = mr_exchange_get_oauth_config (exchange);
  GError *error = NULL;

  if (code == NULL)
    {
      const char *scope = g_strcmp0 (mr_exchange_get_transport (exchange), "graph") == 0 ? MR_OAUTH_SCOPE_GRAPH_SEND
                                                                                          : MR_OAUTH_SCOPE_EWS;
      code = mr_oauth_device_start_sync (mr_exchange_get_session (exchange), config, scope, cancellable, &error);
      if (code == NULL)
        g_task_return_error (task, error);
      else
        g_task_return_pointer (task, code, (GDestroyNotify) mr_oauth_device_code_free);
      return;
    }
  {
    g_autoptr(MrOAuthTokens) tokens = mr_oauth_device_poll_sync (mr_exchange_get_session (exchange), config, code,
                                                                 cancellable, &error);

    if (tokens == NULL || !mr_oauth_store_refresh_token_sync (config, tokens->refresh_token ? tokens->refresh_token : "",
                                                              cancellable, &error))
      g_task_return_error (task, error);
    else
      g_task_return_boolean (task, TRUE);
  }
}

static void
close_sign_in_dialog (MrUserPage *self)
{
  if (self->sign_in_dialog != NULL)
    gtk_window_destroy (GTK_WINDOW (self->sign_in_dialog));
  g_clear_weak_pointer (&self->sign_in_dialog);
}

static void
on_signed_in (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(MrUserPage) self = user_data;
  g_autoptr(GError) error = NULL;

  if (self->sign_in_row == NULL)  /* disposed */
    return;
  close_sign_in_dialog (self);
  gtk_widget_set_sensitive (self->sign_in_button, TRUE);
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      adw_action_row_set_subtitle (self->sign_in_row, g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
                                                        ? _("The sign-in was cancelled") : error->message);
      return;
    }
  refresh_sign_in (self);
}

static void
on_sign_in_dialog_response (MrUserPage *self,
                            const char *response)
{
  g_cancellable_cancel (self->sign_in_cancellable);
}

static void
on_code_received (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(MrUserPage) self = user_data;
  g_autoptr(GError) error = NULL;
  MrOAuthDeviceCode *code = g_task_propagate_pointer (G_TASK (result), &error);
  MrExchange *exchange = g_task_get_task_data (G_TASK (result));
  g_autoptr(GTask) poll = NULL;
  g_autofree char *body = NULL;
  AdwMessageDialog *dialog;

  if (self->sign_in_row == NULL)
    {
      mr_oauth_device_code_free (code);
      return;
    }
  if (code == NULL)
    {
      gtk_widget_set_sensitive (self->sign_in_button, TRUE);
      adw_action_row_set_subtitle (self->sign_in_row, error->message);
      return;
    }
  body = g_markup_printf_escaped (_("Open <a href=\"%s\">%s</a> in a browser, sign in with your Microsoft account, and "
                                    "enter this code:\n\n<span size=\"x-large\" weight=\"bold\">%s</span>\n\n"
                                    "Mailroom waits here until you have signed in."),
                                  code->verification_uri, code->verification_uri, code->user_code);
  dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))),
                                                       _("Sign In to Microsoft"), NULL));
  adw_message_dialog_set_body_use_markup (dialog, TRUE);
  adw_message_dialog_set_body (dialog, body);
  /* The link in the body opens the browser; the only answer is to give up. */
  adw_message_dialog_add_responses (dialog, "cancel", _("_Cancel"), NULL);
  adw_message_dialog_set_close_response (dialog, "cancel");
  g_object_set_data_full (G_OBJECT (dialog), "uri", g_strdup (code->verification_uri), g_free);
  g_object_set_data_full (G_OBJECT (dialog), "code", g_strdup (code->user_code), g_free);
  g_signal_connect_object (dialog, "response", G_CALLBACK (on_sign_in_dialog_response), self, G_CONNECT_SWAPPED);
  g_set_weak_pointer (&self->sign_in_dialog, dialog);
  gtk_window_present (GTK_WINDOW (dialog));

  poll = g_task_new (NULL, self->sign_in_cancellable, on_signed_in, g_object_ref (self));
  g_task_set_source_tag (poll, on_code_received);
  g_task_set_task_data (poll, g_object_ref (exchange), g_object_unref);
  g_object_set_data_full (G_OBJECT (poll), "code", code, (GDestroyNotify) mr_oauth_device_code_free);
  g_task_run_in_thread (poll, sign_in_thread);
}

static void
on_sign_in_clicked (MrUserPage *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MrExchange) exchange = mr_exchange_new_for_setup (self->settings, NULL, &error);
  g_autoptr(GTask) task = NULL;

  if (exchange == NULL)
    {
      adw_action_row_set_subtitle (self->sign_in_row, error->message);
      return;
    }
  g_cancellable_cancel (self->sign_in_cancellable);
  g_clear_object (&self->sign_in_cancellable);
  self->sign_in_cancellable = g_cancellable_new ();
  gtk_widget_set_sensitive (self->sign_in_button, FALSE);
  adw_action_row_set_subtitle (self->sign_in_row, _("Asking Microsoft for a sign-in code…"));
  task = g_task_new (NULL, self->sign_in_cancellable, on_code_received, g_object_ref (self));
  g_task_set_source_tag (task, on_sign_in_clicked);
  g_task_set_task_data (task, g_steal_pointer (&exchange), g_object_unref);
  g_task_run_in_thread (task, sign_in_thread);
}

static void
on_sign_in_lookup_done (GObject      *source,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  g_autoptr(MrUserPage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(MrSecret) token = mr_secrets_lookup_finish (result, &error);
  g_autofree char *who = NULL;

  if (self->sign_in_row == NULL || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  who = g_object_steal_data (G_OBJECT (self->sign_in_row), "account");
  if (error != NULL)
    adw_action_row_set_subtitle (self->sign_in_row, error->message);
  else if (token != NULL)
    {
      g_autofree char *subtitle = g_strdup_printf (_("Signed in as %s"), who);

      adw_action_row_set_subtitle (self->sign_in_row, subtitle);
      gtk_button_set_label (GTK_BUTTON (self->sign_in_button), _("_Sign In Again…"));
    }
  else
    {
      adw_action_row_set_subtitle (self->sign_in_row, _("Not signed in yet: sign in once, and Mailroom keeps the sign-in "
                                                        "in your keyring"));
      gtk_button_set_label (GTK_BUTTON (self->sign_in_button), _("_Sign In…"));
    }
}

static void
refresh_sign_in (MrUserPage *self)
{
  g_autoptr(MrExchange) exchange = NULL;
  g_autoptr(MrSecretAccount) account = NULL;

  if (exchange_login (self) != EXCHANGE_SIGN_IN)
    return;
  exchange = mr_exchange_new_for_setup (self->settings, NULL, NULL);
  if (exchange == NULL)
    return;
  account = mr_oauth_config_get_account (mr_exchange_get_oauth_config (exchange));
  g_object_set_data_full (G_OBJECT (self->sign_in_row), "account", g_strdup (account->user), g_free);
  mr_secrets_lookup_async (account, self->sign_in_cancellable, on_sign_in_lookup_done, g_object_ref (self));
}

void
mr_user_page_revert (MrUserPage *self)
{
  g_return_if_fail (MR_IS_USER_PAGE (self));

  for (guint i = 0; page_keys[i] != NULL; i++)
    {
      g_autofree char *reason = mr_settings_get_lock_reason (self->settings, NULL, page_keys[i]);
      mr_settings_form_set_locked (self->form, page_keys[i], reason);
    }
  mr_settings_form_reload (self->form);
  update_state (self);
  mr_password_field_clear (self->password);
  if (uses_own_login (self))
    mr_password_field_refresh (self->password);
  mr_password_field_clear (self->exchange_password);
  if (exchange_login (self) == EXCHANGE_PASSWORD)
    mr_password_field_refresh (self->exchange_password);
  refresh_sign_in (self);
}

gboolean
mr_user_page_get_has_changes (MrUserPage *self)
{
  return mr_settings_form_get_dirty (self->form) || mr_password_field_get_pending (self->password) ||
         mr_password_field_get_pending (self->exchange_password);
}

static void
on_changes (MrUserPage *self)
{
  update_state (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HAS_CHANGES]);
}

static void
on_exchange_password_stored (GObject      *source,
                             GAsyncResult *result,
                             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  MrUserPage *self = g_task_get_source_object (task);
  GError *error = NULL;

  if (!mr_password_field_store_finish (MR_PASSWORD_FIELD (source), result, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  if (!uses_own_login (self))
    {
      g_task_return_boolean (task, TRUE);
      return;
    }
  mr_password_field_store_for_task (self->password, task);
}

void
mr_user_page_save_async (MrUserPage          *self,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  GError *error = NULL;

  g_return_if_fail (MR_IS_USER_PAGE (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, mr_user_page_save_async);

  if (mr_settings_form_get_dirty (self->form) && !mr_settings_form_commit (self->form, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  update_state (self);

  if (!uses_own_login (self))
    mr_password_field_clear (self->password);
  if (exchange_login (self) != EXCHANGE_PASSWORD)
    mr_password_field_clear (self->exchange_password);
  /* The Exchange password first; then the SMTP one completes the save. */
  mr_password_field_store_async (self->exchange_password, cancellable, on_exchange_password_stored,
                                 g_steal_pointer (&task));
}

gboolean
mr_user_page_save_finish (MrUserPage    *self,
                          GAsyncResult  *result,
                          GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == mr_user_page_save_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

MrSettingsForm *
mr_user_page_get_form (MrUserPage *self)
{
  return self->form;
}

static void
mr_user_page_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  MrUserPage *self = MR_USER_PAGE (object);

  switch (prop_id)
    {
    case PROP_HAS_CHANGES:
      g_value_set_boolean (value, self->form != NULL && mr_user_page_get_has_changes (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mr_user_page_dispose (GObject *object)
{
  MrUserPage *self = MR_USER_PAGE (object);

  if (self->form != NULL)
    g_signal_handlers_disconnect_by_data (self->form, self);
  g_clear_object (&self->form);
  /* Cancels a keyring call in flight even while its callback holds a reference. */
  if (self->password != NULL)
    g_object_run_dispose (G_OBJECT (self->password));
  g_clear_object (&self->password);
  if (self->exchange_password != NULL)
    g_object_run_dispose (G_OBJECT (self->exchange_password));
  g_clear_object (&self->exchange_password);
  g_cancellable_cancel (self->sign_in_cancellable);
  g_clear_object (&self->sign_in_cancellable);
  close_sign_in_dialog (self);
  g_clear_object (&self->settings);

  gtk_widget_dispose_template (GTK_WIDGET (self), MR_TYPE_USER_PAGE);

  G_OBJECT_CLASS (mr_user_page_parent_class)->dispose (object);
}

static void
mr_user_page_class_init (MrUserPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = mr_user_page_dispose;
  object_class->get_property = mr_user_page_get_property;

  properties[PROP_HAS_CHANGES] =
    g_param_spec_boolean ("has-changes", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/mailroom/Mailroom/mr-user-page.ui");
  gtk_widget_class_bind_template_child (widget_class, MrUserPage, name_row);
  gtk_widget_class_bind_template_child (widget_class, MrUserPage, email_row);
  gtk_widget_class_bind_template_child (widget_class, MrUserPage, email_warning_row);
  gtk_widget_class_bind_template_child (widget_class, MrUserPage, from_name_row);
  gtk_widget_class_bind_template_child (widget_class, MrUserPage, reply_to_row);
  gtk_widget_class_bind_template_child (widget_class, MrUserPage, login_group);
  gtk_widget_class_bind_template_child (widget_class, MrUserPage, username_row);
  gtk_widget_class_bind_template_child (widget_class, MrUserPage, password_row);
  gtk_widget_class_bind_template_child (widget_class, MrUserPage, keyring_row);
  gtk_widget_class_bind_template_child (widget_class, MrUserPage, forget_button);
  gtk_widget_class_bind_template_child (widget_class, MrUserPage, exchange_group);
  gtk_widget_class_bind_template_child (widget_class, MrUserPage, exchange_username_row);
  gtk_widget_class_bind_template_child (widget_class, MrUserPage, exchange_password_row);
  gtk_widget_class_bind_template_child (widget_class, MrUserPage, exchange_keyring_row);
  gtk_widget_class_bind_template_child (widget_class, MrUserPage, exchange_forget_button);
  gtk_widget_class_bind_template_child (widget_class, MrUserPage, exchange_check_row);
  gtk_widget_class_bind_template_child (widget_class, MrUserPage, exchange_check_button);
  gtk_widget_class_bind_template_child (widget_class, MrUserPage, sign_in_row);
  gtk_widget_class_bind_template_child (widget_class, MrUserPage, sign_in_button);
  gtk_widget_class_bind_template_child (widget_class, MrUserPage, try_row);
  gtk_widget_class_bind_template_child (widget_class, MrUserPage, check_button);
  gtk_widget_class_bind_template_child (widget_class, MrUserPage, test_button);
  gtk_widget_class_bind_template_callback (widget_class, on_check_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_test_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_sign_in_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_exchange_check_clicked);
}

static void
mr_user_page_init (MrUserPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect_swapped (self->password_row, "changed", G_CALLBACK (on_changes), self);
  g_signal_connect_swapped (self->exchange_password_row, "changed", G_CALLBACK (on_changes), self);
  self->sign_in_cancellable = g_cancellable_new ();
}

MrUserPage *
mr_user_page_new (MrSettings *settings)
{
  MrUserPage *self = g_object_new (MR_TYPE_USER_PAGE, NULL);

  self->settings = g_object_ref (settings);
  self->form = mr_settings_form_new (settings, MR_SCOPE_USER);
  self->password = mr_password_field_new (settings, MR_SCOPE_USER, self->password_row, self->keyring_row,
                                          self->forget_button);
  mr_settings_form_add_entry (self->form, "user.name", self->name_row, FALSE);
  mr_settings_form_add_entry (self->form, "user.email", self->email_row, FALSE);
  mr_settings_form_add_entry (self->form, "sender.from_name", self->from_name_row, FALSE);
  mr_settings_form_add_entry (self->form, "sender.reply_to", self->reply_to_row, FALSE);
  mr_settings_form_add_entry (self->form, "smtp.username", self->username_row, FALSE);
  mr_settings_form_add_entry (self->form, "exchange.username", self->exchange_username_row, FALSE);
  self->exchange_password = mr_password_field_new_for_exchange (settings, self->exchange_password_row,
                                                                self->exchange_keyring_row, self->exchange_forget_button);
  g_signal_connect_swapped (self->form, "notify::dirty", G_CALLBACK (on_changes), self);
  g_signal_connect_swapped (self->form, "notify::warnings", G_CALLBACK (update_state), self);

  mr_user_page_revert (self);
  return self;
}
