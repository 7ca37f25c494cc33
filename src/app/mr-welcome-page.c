/* mr-welcome-page.c: the first window: set up from an email address */

#include "config.h"

#include <glib/gi18n.h>

#include "mr-discover.h"
#include "mr-keys.h"
#include "mr-welcome-page.h"

struct _MrWelcomePage
{
  AdwBin               parent_instance;

  MrSettings          *settings;
  GCancellable        *cancellable;
  MrDiscovery         *discovery;
  char                *address;        /* the one the discovery is for */

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
  return self->cancellable != NULL;
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

static void
on_use_clicked (MrWelcomePage *self)
{
  g_autoptr(GError) error = NULL;
  MrScope scope = mr_settings_can_edit_company (self->settings) ? MR_SCOPE_COMPANY : MR_SCOPE_USER;

  if (self->discovery == NULL)
    return;
  if (!mr_discovery_apply (self->discovery, self->settings, scope, self->address, &error))
    {
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->found_row), error->message);
      return;
    }
  g_signal_emit (self, signals[DONE], 0, next_page (self), self->discovery->found_by);
}

static void
on_manual_clicked (MrWelcomePage *self)
{
  g_signal_emit (self, signals[DONE], 0, next_page (self), NULL);
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
  G_OBJECT_CLASS (mr_welcome_page_parent_class)->dispose (object);
}

static void
mr_welcome_page_class_init (MrWelcomePageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = mr_welcome_page_dispose;

  /* ::done (page, found_by): settings were saved (found_by says how; NULL when the person chose
   * to enter them) and the window goes on to @page. */
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
}

static void
mr_welcome_page_init (MrWelcomePage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect_swapped (self->address_row, "changed", G_CALLBACK (update_find_button), self);
  g_signal_connect_swapped (self->address_row, "entry-activated", G_CALLBACK (on_find_clicked), self);
  g_signal_connect_swapped (self->find_button, "clicked", G_CALLBACK (on_find_clicked), self);
  g_signal_connect_swapped (self->use_button, "clicked", G_CALLBACK (on_use_clicked), self);
  g_signal_connect_swapped (self->manual_button, "clicked", G_CALLBACK (on_manual_clicked), self);
}

MrWelcomePage *
mr_welcome_page_new (MrSettings *settings)
{
  MrWelcomePage *self = g_object_new (MR_TYPE_WELCOME_PAGE, NULL);

  self->settings = g_object_ref (settings);
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
