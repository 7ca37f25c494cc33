/* mr-user-page.c: the My Settings page */

#include "config.h"

#include <glib/gi18n.h>

#include "mailroom-transport.h"
#include "mr-password-field.h"
#include "mr-sign-in.h"
#include "mr-signature-row.h"
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
  AdwPreferencesGroup *sending_group;
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
  MrSignIn            *exchange_sign_in;
  AdwPreferencesGroup *smtp_sign_in_group;
  AdwActionRow        *smtp_sign_in_row;
  GtkWidget           *smtp_sign_in_button;
  MrSignIn            *smtp_sign_in;
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
  g_autofree char *own_login = mr_settings_dup_effective_string (self->settings, NULL, "smtp.username");
  /* Each person logs in, and this one has not saved a login yet: nothing to try with. */
  gboolean no_login = uses_own_login (self) && *own_login == '\0';

  gtk_widget_set_sensitive (self->check_button, saved && !no_login);
  gtk_widget_set_sensitive (self->test_button, saved && !no_login);
  adw_action_row_set_subtitle (self->try_row, !saved ? _("Save the changes first")
                                              : no_login ? _("Enter your login and password above, then save")
                                                         : _("Uses the settings as saved"));

  gtk_widget_set_visible (GTK_WIDGET (self->email_warning_row), warnings != NULL && warnings[0] != NULL);
  if (warnings != NULL && warnings[0] != NULL)
    adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->email_warning_row), warnings[0]);
  gtk_widget_set_visible (GTK_WIDGET (self->login_group), uses_own_login (self));
  {
    g_autofree char *auth = mr_settings_dup_effective_string (self->settings, NULL, "smtp.auth");
    gboolean oauth2 = g_strcmp0 (auth, "oauth2") == 0;

    /* SMTP with OAuth2: a sign-in, not a password. */
    gtk_widget_set_visible (GTK_WIDGET (self->smtp_sign_in_group), oauth2);
    gtk_widget_set_visible (GTK_WIDGET (self->password_row), !oauth2);
    gtk_widget_set_visible (GTK_WIDGET (self->keyring_row), !oauth2);
  }
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
  mr_sign_in_refresh (self->exchange_sign_in);
  mr_sign_in_refresh (self->smtp_sign_in);
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
  if (self->exchange_sign_in != NULL)
    g_object_run_dispose (G_OBJECT (self->exchange_sign_in));
  g_clear_object (&self->exchange_sign_in);
  if (self->smtp_sign_in != NULL)
    g_object_run_dispose (G_OBJECT (self->smtp_sign_in));
  g_clear_object (&self->smtp_sign_in);
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
  gtk_widget_class_bind_template_child (widget_class, MrUserPage, sending_group);
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
  gtk_widget_class_bind_template_child (widget_class, MrUserPage, smtp_sign_in_group);
  gtk_widget_class_bind_template_child (widget_class, MrUserPage, smtp_sign_in_row);
  gtk_widget_class_bind_template_child (widget_class, MrUserPage, smtp_sign_in_button);
  gtk_widget_class_bind_template_child (widget_class, MrUserPage, try_row);
  gtk_widget_class_bind_template_child (widget_class, MrUserPage, check_button);
  gtk_widget_class_bind_template_child (widget_class, MrUserPage, test_button);
  gtk_widget_class_bind_template_callback (widget_class, on_check_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_test_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_exchange_check_clicked);
}

static void
mr_user_page_init (MrUserPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  adw_preferences_group_add (self->sending_group, mr_signature_row_new (MR_SIGNATURE_PERSONAL));
  g_signal_connect_swapped (self->password_row, "changed", G_CALLBACK (on_changes), self);
  g_signal_connect_swapped (self->exchange_password_row, "changed", G_CALLBACK (on_changes), self);
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
  self->exchange_sign_in = mr_sign_in_new (settings, MR_SIGN_IN_EXCHANGE, self->sign_in_row,
                                           GTK_BUTTON (self->sign_in_button));
  self->smtp_sign_in = mr_sign_in_new (settings, MR_SIGN_IN_SMTP, self->smtp_sign_in_row,
                                       GTK_BUTTON (self->smtp_sign_in_button));
  g_signal_connect_swapped (self->form, "notify::dirty", G_CALLBACK (on_changes), self);
  g_signal_connect_swapped (self->form, "notify::warnings", G_CALLBACK (update_state), self);

  mr_user_page_revert (self);
  return self;
}
