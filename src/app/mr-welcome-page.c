/* mr-welcome-page.c: the first window: set up from an email address */

#include "config.h"

#include <glib/gi18n.h>

#include "mailroom-settings.h"
#include "mr-a11y.h"
#include "mr-key-labels.h"
#include "mr-test-dialog.h"
#include "mr-welcome-page.h"

struct _MrWelcomePage
{
  AdwBin               parent_instance;

  MrSettings          *settings;
  GCancellable        *cancellable;
  MrDiscovery         *discovery;
  char                *address;        /* the one the discovery is for */
  MrScope              scope;          /* the settings layer the welcome writes */
  gboolean             storing;        /* the password is on its way to the keyring */
  gboolean             stored;         /* a password went to the keyring (or the check asks for it) */
  gboolean             checked;        /* the server check succeeded */
  char                *sent_to;        /* where a test email went */

  AdwStatusPage       *status_page;
  AdwEntryRow         *address_row;
  GtkWidget           *find_button;
  GtkSpinner          *spinner;
  AdwPreferencesGroup *result_group;
  AdwActionRow        *found_row;
  AdwExpanderRow      *details_row;
  GtkLabel            *details_label;
  GtkWidget           *use_button;
  GtkWidget           *manual_button;

  /* The second step: who logs in, the login, the check and the test email. */
  GtkStack            *steps;
  AdwStatusPage       *login_page;
  AdwPreferencesGroup *who_group;
  GtkCheckButton      *per_user_login_check;
  AdwPreferencesGroup *login_group;
  AdwEntryRow         *username_row;
  AdwPasswordEntryRow *password_row;
  AdwPreferencesGroup *outcome_group;
  AdwActionRow        *outcome_row;
  GtkImage            *outcome_icon;
  GtkWidget           *check_button;
  GtkWidget           *test_button;
  GtkWidget           *finish_button;
};

G_DEFINE_FINAL_TYPE (MrWelcomePage, mr_welcome_page, ADW_TYPE_BIN)

enum {
  DONE,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

gboolean
mr_welcome_page_is_needed (MrSettings *settings)
{
  g_autofree char *email = mr_settings_dup_effective_string (settings, NULL, "user.email");

  return !mr_settings_file_get_exists (mr_settings_get_company (settings)) &&
         !mr_settings_file_get_exists (mr_settings_get_user (settings)) && *email == '\0';
}

gboolean
mr_welcome_page_get_busy (MrWelcomePage *self)
{
  return self->cancellable != NULL || self->storing;
}

const char *
mr_welcome_page_get_step (MrWelcomePage *self)
{
  return gtk_stack_get_visible_child_name (self->steps);
}

const char *
mr_welcome_page_get_found (MrWelcomePage *self)
{
  return self->discovery ? self->discovery->found_by : NULL;
}

/* The page the person goes on with: the company's settings for the admin, their own otherwise. */
static const char *
next_page (MrWelcomePage *self)
{
  return mr_settings_can_edit_company (self->settings) ? "company" : "user";
}

static void
update_find_button (MrWelcomePage *self)
{
  const char *address = gtk_editable_get_text (GTK_EDITABLE (self->address_row));
  gboolean valid = mr_validate_address (address, NULL);
  gboolean busy = self->cancellable != NULL;

  gtk_widget_set_sensitive (self->find_button, valid && !busy);
  /* An action that cannot work says why. */
  gtk_widget_set_tooltip_text (self->find_button, busy ? _("Looking for the settings…")
                                                  : valid ? NULL : _("Enter an email address first"));
  if (*address != '\0' && !valid)
    gtk_widget_add_css_class (GTK_WIDGET (self->address_row), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->address_row), "error");
}

static char *
describe_server (const MrDiscovery *discovery)
{
  if (discovery->host == NULL)
    return g_strdup (_("Enter the server yourself, as your email provider gives it."));
  return g_strdup_printf (_("%s · server %s, port %u, %s"), discovery->provider_name, discovery->host, discovery->port,
                          g_strcmp0 (discovery->security, "none") == 0 ? _("not encrypted") : _("encrypted"));
}

static void
on_discovered (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(MrWelcomePage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) details = g_string_new (NULL);
  g_autofree char *server = NULL;
  MrDiscovery *discovery = mr_discover_finish (result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  g_clear_object (&self->cancellable);
  gtk_spinner_stop (self->spinner);
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), FALSE);
  update_find_button (self);
  if (discovery == NULL)
    {
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->found_row), error->message);
      adw_action_row_set_subtitle (self->found_row, "");
      gtk_widget_set_visible (GTK_WIDGET (self->result_group), TRUE);
      gtk_widget_set_visible (self->use_button, FALSE);
      return;
    }
  g_clear_pointer (&self->discovery, mr_discovery_free);
  self->discovery = discovery;
  server = describe_server (discovery);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->found_row), discovery->found_by);
  adw_action_row_set_subtitle (self->found_row, server);
  for (guint i = 0; i < discovery->steps->len; i++)
    g_string_append_printf (details, "%s%s", i ? "\n" : "", (const char *) g_ptr_array_index (discovery->steps, i));
  gtk_label_set_text (self->details_label, details->str);
  gtk_widget_set_visible (GTK_WIDGET (self->result_group), TRUE);
  /* Nothing found: the person enters it, on the page that has the fields. One suggested action at a
   * time: once something is found, using it. */
  gtk_widget_set_visible (self->use_button, discovery->host != NULL);
  if (discovery->host != NULL)
    gtk_widget_remove_css_class (self->find_button, "suggested-action");
  gtk_widget_grab_focus (discovery->host != NULL ? self->use_button : self->manual_button);
}

static void
on_find_clicked (MrWelcomePage *self)
{
  const char *address = gtk_editable_get_text (GTK_EDITABLE (self->address_row));

  if (!mr_validate_address (address, NULL) || self->cancellable != NULL)
    return;
  g_free (self->address);
  self->address = g_strdup (address);
  self->cancellable = g_cancellable_new ();
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), TRUE);
  gtk_spinner_start (self->spinner);
  gtk_widget_set_visible (GTK_WIDGET (self->result_group), FALSE);
  gtk_widget_set_visible (self->use_button, FALSE);
  update_find_button (self);
  mr_discover_async (address, NULL, self->cancellable, on_discovered, g_object_ref (self));
}

/* The server found needs a password: the login step asks for it. */
static gboolean
needs_password (MrWelcomePage *self)
{
  return self->discovery != NULL && g_strcmp0 (self->discovery->auth, "password") == 0;
}

static void
update_check_button (MrWelcomePage *self)
{
  const char *reason = NULL;

  if (self->storing)
    reason = _("Saving the password…");
  else if (needs_password (self) && *gtk_editable_get_text (GTK_EDITABLE (self->username_row)) == '\0')
    reason = _("Enter the login name first");
  else if (needs_password (self) && !self->stored && *gtk_editable_get_text (GTK_EDITABLE (self->password_row)) == '\0')
    reason = _("Enter the password first");
  gtk_widget_set_sensitive (self->check_button, reason == NULL);
  gtk_widget_set_tooltip_text (self->check_button, reason);
}

static void
show_outcome (MrWelcomePage *self,
              gboolean       good,
              const char    *title,
              const char    *subtitle)
{
  g_autofree char *words = mr_key_words (subtitle);

  gtk_image_set_from_icon_name (self->outcome_icon, good ? "emblem-ok-symbolic" : "dialog-error-symbolic");
  gtk_widget_remove_css_class (GTK_WIDGET (self->outcome_icon), good ? "error" : "success");
  gtk_widget_add_css_class (GTK_WIDGET (self->outcome_icon), good ? "success" : "error");

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->outcome_row), title);
  adw_action_row_set_subtitle (self->outcome_row, words);
  gtk_widget_set_visible (GTK_WIDGET (self->outcome_group), TRUE);
}

/* One suggested action at a time: the next thing to do. */
static void
suggest (MrWelcomePage *self,
         GtkWidget     *button)
{
  GtkWidget *buttons[] = { self->check_button, self->test_button, self->finish_button };

  for (guint i = 0; i < G_N_ELEMENTS (buttons); i++)
    if (buttons[i] == button)
      gtk_widget_add_css_class (buttons[i], "suggested-action");
    else
      gtk_widget_remove_css_class (buttons[i], "suggested-action");
}

static void
on_use_clicked (MrWelcomePage *self)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *description = NULL;
  g_autofree char *lock = NULL;

  if (self->discovery == NULL)
    return;
  if (!mr_discovery_apply (self->discovery, self->settings, self->scope, self->address, &error))
    {
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->found_row), error->message);
      return;
    }
  /* Signing in with a Microsoft or Google account happens on the settings page, which has the
   * sign-in; a password is asked for here, and proved at once. */
  if (self->scope == MR_SCOPE_USER && needs_password (self) &&
      (lock = mr_settings_get_lock_reason (self->settings, NULL, "smtp.username")) != NULL)
    {
      /* Until the company is set up for per-person logins, the login is the administrator's. */
      g_autofree char *message = g_strdup_printf (_("%s. The login itself is up to your administrator: ask them to "
                                                    "finish setting up Mailroom."), self->discovery->found_by);
      g_signal_emit (self, signals[DONE], 0, next_page (self), message);
      return;
    }
  if (g_strcmp0 (self->discovery->auth, "oauth2") == 0)
    {
      g_autofree char *message = g_strdup_printf (_("%s. Now sign in, save, and send yourself a test email."),
                                                  self->discovery->found_by);
      g_signal_emit (self, signals[DONE], 0, next_page (self), message);
      return;
    }
  description = g_strdup_printf (_("Mailroom sends as %s through %s (server %s)."), self->address,
                                 self->discovery->provider_name, self->discovery->host);
  adw_status_page_set_description (self->login_page, description);
  gtk_widget_set_visible (GTK_WIDGET (self->who_group), self->scope == MR_SCOPE_COMPANY && needs_password (self));
  gtk_widget_set_visible (GTK_WIDGET (self->login_group), needs_password (self));
  gtk_editable_set_text (GTK_EDITABLE (self->username_row),
                         self->discovery->username ? self->discovery->username : self->address);
  update_check_button (self);
  gtk_stack_set_visible_child_name (self->steps, "login");
  gtk_widget_grab_focus (needs_password (self) ? GTK_WIDGET (self->password_row) : self->check_button);
}

static void
on_check_finished (MrWelcomePage *self,
                   gboolean       succeeded)
{
  self->checked = succeeded;
  if (succeeded)
    {
      show_outcome (self, TRUE, _("The server works"),
                    _("Mailroom logged in. Now send yourself a test email, to see that mail arrives."));
      gtk_widget_set_visible (self->test_button, TRUE);
      gtk_button_set_label (GTK_BUTTON (self->check_button), _("_Check Again"));
      suggest (self, self->test_button);
      /* The next step has the focus when the dialog closes. */
      gtk_widget_grab_focus (self->test_button);
    }
  else
    {
      show_outcome (self, FALSE, _("The server check failed"),
                    _("The check window says what went wrong. Correct the login name or password, then check "
                      "again."));
      suggest (self, self->check_button);
    }
}

static void
on_test_finished (MrTestDialog  *dialog,
                  gboolean       succeeded,
                  MrWelcomePage *self)
{
  g_autofree char *title = NULL;

  if (!succeeded)
    {
      show_outcome (self, FALSE, _("The test email was not sent"),
                    _("The test window says what went wrong and what to do."));
      return;
    }
  g_free (self->sent_to);
  self->sent_to = g_strdup (mr_test_dialog_get_recipient (dialog));
  title = g_strdup_printf (_("Test email sent to %s"), self->sent_to);
  show_outcome (self, TRUE, title, _("Look for it in that inbox. Mailroom is ready to send."));
  gtk_button_set_label (GTK_BUTTON (self->finish_button), _("_Done"));
  suggest (self, self->finish_button);
  gtk_widget_grab_focus (self->finish_button);
}

static void
open_dialog (MrWelcomePage *self,
             MrTestKind     kind)
{
  MrTestDialog *dialog = mr_test_dialog_new (GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))), self->settings,
                                             NULL, kind, mr_settings_can_edit_company (self->settings));

  if (kind == MR_TEST_CHECK_SERVER)
    g_signal_connect_object (dialog, "finished", G_CALLBACK (on_check_finished), self, G_CONNECT_SWAPPED);
  else
    g_signal_connect_object (dialog, "finished", G_CALLBACK (on_test_finished), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
on_password_stored (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(MrWelcomePage) self = user_data;
  g_autoptr(GError) error = NULL;

  self->storing = FALSE;
  if (gtk_widget_get_root (GTK_WIDGET (self)) == NULL)   /* the window went meanwhile */
    return;
  update_check_button (self);
  /* Without a keyring the check asks for the password itself, and keeps it nowhere. */
  if (!mr_secrets_store_finish (result, &error) && !g_error_matches (error, MR_SECRETS_ERROR, MR_SECRETS_ERROR_UNAVAILABLE) &&
      !g_error_matches (error, MR_SECRETS_ERROR, MR_SECRETS_ERROR_LOCKED))
    {
      show_outcome (self, FALSE, _("The password was not saved"), error->message);
      return;
    }
  self->stored = TRUE;
  gtk_editable_set_text (GTK_EDITABLE (self->password_row), "");
  open_dialog (self, MR_TEST_CHECK_SERVER);
}

static void
on_check_clicked (MrWelcomePage *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MrSecretAccount) account = NULL;
  MrScope password_scope;

  if (self->discovery == NULL || self->storing)
    return;
  if (!needs_password (self) || *gtk_editable_get_text (GTK_EDITABLE (self->password_row)) == '\0')
    {
      /* No password, or one already saved: the check reads it from the keyring. */
      open_dialog (self, MR_TEST_CHECK_SERVER);
      return;
    }
  if (!mr_discovery_apply_login (self->settings, self->scope, gtk_check_button_get_active (self->per_user_login_check),
                                 self->address, gtk_editable_get_text (GTK_EDITABLE (self->username_row)),
                                 &password_scope, &error) ||
      (account = mr_settings_get_account (self->settings, password_scope, NULL, &error)) == NULL)
    {
      show_outcome (self, FALSE, _("The login was not saved"), error->message);
      return;
    }
  self->storing = TRUE;
  update_check_button (self);
  mr_secrets_store_async (account, gtk_editable_get_text (GTK_EDITABLE (self->password_row)), NULL,
                          on_password_stored, g_object_ref (self));
}

static void
on_test_clicked (MrWelcomePage *self)
{
  open_dialog (self, MR_TEST_SEND_EMAIL);
}

static void
on_finish_clicked (MrWelcomePage *self)
{
  g_autofree char *message = NULL;

  if (self->sent_to != NULL)
    message = g_strdup (_("Mailroom is set up. Here are the rest of the settings."));
  else if (self->checked)
    message = g_strdup (_("The server works. Send yourself a test email from here when you like."));
  else
    message = g_strdup_printf (_("%s. Now enter the password, save, and send yourself a test email."),
                               self->discovery->found_by);
  g_signal_emit (self, signals[DONE], 0, next_page (self), message);
}

static void
on_manual_clicked (MrWelcomePage *self)
{
  g_signal_emit (self, signals[DONE], 0, next_page (self), NULL);
}

/* A keyboard user starts typing the address at once. */
static void
on_map (MrWelcomePage *self)
{
  GtkWidget *focus = gtk_root_get_focus (gtk_widget_get_root (GTK_WIDGET (self)));

  if (focus == NULL || !gtk_widget_is_ancestor (focus, GTK_WIDGET (self)))
    gtk_widget_grab_focus (g_str_equal (gtk_stack_get_visible_child_name (self->steps), "address")
                             ? GTK_WIDGET (self->address_row) : GTK_WIDGET (self->password_row));
}

static void
mr_welcome_page_dispose (GObject *object)
{
  MrWelcomePage *self = MR_WELCOME_PAGE (object);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->settings);
  g_clear_pointer (&self->discovery, mr_discovery_free);
  g_clear_pointer (&self->address, g_free);
  g_clear_pointer (&self->sent_to, g_free);
  G_OBJECT_CLASS (mr_welcome_page_parent_class)->dispose (object);
}

static void
mr_welcome_page_class_init (MrWelcomePageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = mr_welcome_page_dispose;

  /* ::done (page, message): the welcome is over and the window goes on to @page, showing
   * @message (what was done and what is left; NULL when the person chose to enter it all). */
  signals[DONE] = g_signal_new ("done", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/mailroom/Mailroom/mr-welcome-page.ui");
  gtk_widget_class_bind_template_child (widget_class, MrWelcomePage, status_page);
  gtk_widget_class_bind_template_child (widget_class, MrWelcomePage, address_row);
  gtk_widget_class_bind_template_child (widget_class, MrWelcomePage, find_button);
  gtk_widget_class_bind_template_child (widget_class, MrWelcomePage, spinner);
  gtk_widget_class_bind_template_child (widget_class, MrWelcomePage, result_group);
  gtk_widget_class_bind_template_child (widget_class, MrWelcomePage, found_row);
  gtk_widget_class_bind_template_child (widget_class, MrWelcomePage, details_row);
  gtk_widget_class_bind_template_child (widget_class, MrWelcomePage, details_label);
  gtk_widget_class_bind_template_child (widget_class, MrWelcomePage, use_button);
  gtk_widget_class_bind_template_child (widget_class, MrWelcomePage, manual_button);
  gtk_widget_class_bind_template_child (widget_class, MrWelcomePage, steps);
  gtk_widget_class_bind_template_child (widget_class, MrWelcomePage, login_page);
  gtk_widget_class_bind_template_child (widget_class, MrWelcomePage, who_group);
  gtk_widget_class_bind_template_child (widget_class, MrWelcomePage, per_user_login_check);
  gtk_widget_class_bind_template_child (widget_class, MrWelcomePage, login_group);
  gtk_widget_class_bind_template_child (widget_class, MrWelcomePage, username_row);
  gtk_widget_class_bind_template_child (widget_class, MrWelcomePage, password_row);
  gtk_widget_class_bind_template_child (widget_class, MrWelcomePage, outcome_group);
  gtk_widget_class_bind_template_child (widget_class, MrWelcomePage, outcome_row);
  gtk_widget_class_bind_template_child (widget_class, MrWelcomePage, outcome_icon);
  gtk_widget_class_bind_template_child (widget_class, MrWelcomePage, check_button);
  gtk_widget_class_bind_template_child (widget_class, MrWelcomePage, test_button);
  gtk_widget_class_bind_template_child (widget_class, MrWelcomePage, finish_button);
}

static void
mr_welcome_page_init (MrWelcomePage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  mr_a11y_name_password_row (self->password_row);
  g_signal_connect (self, "map", G_CALLBACK (on_map), NULL);
  g_signal_connect_swapped (self->address_row, "changed", G_CALLBACK (update_find_button), self);
  g_signal_connect_swapped (self->address_row, "entry-activated", G_CALLBACK (on_find_clicked), self);
  g_signal_connect_swapped (self->find_button, "clicked", G_CALLBACK (on_find_clicked), self);
  g_signal_connect_swapped (self->use_button, "clicked", G_CALLBACK (on_use_clicked), self);
  g_signal_connect_swapped (self->manual_button, "clicked", G_CALLBACK (on_manual_clicked), self);
  g_signal_connect_swapped (self->username_row, "changed", G_CALLBACK (update_check_button), self);
  g_signal_connect_swapped (self->password_row, "changed", G_CALLBACK (update_check_button), self);
  g_signal_connect_swapped (self->password_row, "entry-activated", G_CALLBACK (on_check_clicked), self);
  g_signal_connect_swapped (self->check_button, "clicked", G_CALLBACK (on_check_clicked), self);
  g_signal_connect_swapped (self->test_button, "clicked", G_CALLBACK (on_test_clicked), self);
  g_signal_connect_swapped (self->finish_button, "clicked", G_CALLBACK (on_finish_clicked), self);
}

MrWelcomePage *
mr_welcome_page_new (MrSettings *settings)
{
  MrWelcomePage *self = g_object_new (MR_TYPE_WELCOME_PAGE, NULL);

  self->settings = g_object_ref (settings);
  self->scope = mr_settings_can_edit_company (settings) ? MR_SCOPE_COMPANY : MR_SCOPE_USER;
  /* Who sees what: the admin sets up the company; someone who may not is told whom to ask. */
  if (mr_settings_can_edit_company (settings))
    adw_status_page_set_description (self->status_page,
                                     _("Enter the email address your office sends from. Mailroom finds its mail "
                                       "server; then you add the password and send yourself a test email."));
  else
    adw_status_page_set_description (self->status_page,
                                     _("Your company’s mail is not set up in Mailroom yet: ask whoever looks after "
                                       "the office’s computers to set it up. Meanwhile you can set up your own "
                                       "address."));
  return self;
}
