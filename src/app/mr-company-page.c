/* mr-company-page.c: the Company Settings page */

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "mailroom-common.h"
#include "mailroom-settings.h"
#include "mailroom-transport.h"
#include "mr-company-page-private.h"
#include "mr-company-page.h"
#include "mr-domain-row.h"
#include "mr-key-labels.h"
#include "mr-password-field.h"
#include "mr-signature-row.h"
#include "mr-test-dialog.h"


G_DEFINE_FINAL_TYPE (MrCompanyPage, mr_company_page, ADW_TYPE_BIN)

enum {
  PROP_0,
  PROP_HAS_CHANGES,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static const char * const security_values[] = { "none", "starttls", "tls", NULL };
static const char * const auth_values[] = { "none", "password", "ntlm", "oauth2", NULL };
static const char * const credentials_values[] = { "company", "per-user", NULL };
static const char * const delivery_values[] = { "remote", "local-smtp", "sendmail", NULL };
static const char * const exchange_transport_values[] = { "ews", "graph", NULL };
static const char * const exchange_auth_values[] = { "ntlm", "basic", "negotiate", "oauth2", NULL };
static const char * const exchange_preferred_values[] = { "smtp", "exchange", NULL };

static void reload (MrCompanyPage *self);

/* ---- Trying the settings ---------------------------------------------------------------------- */

static void
on_test_settings_changed (MrCompanyPage *self)
{
  reload (self);
}

static void
open_test (MrCompanyPage *self,
           const char    *app,
           MrTestKind     kind)
{
  MrTestDialog *dialog = mr_test_dialog_new (GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))), self->settings,
                                             app, kind, self->editable);

  g_signal_connect_object (dialog, "settings-changed", G_CALLBACK (on_test_settings_changed), self, G_CONNECT_SWAPPED);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
on_check_clicked (MrCompanyPage *self)
{
  open_test (self, NULL, MR_TEST_CHECK_SERVER);
}

static void
on_test_clicked (MrCompanyPage *self)
{
  open_test (self, NULL, MR_TEST_SEND_EMAIL);
}

static void
on_app_test_clicked (GtkButton     *button,
                     MrCompanyPage *self)
{
  open_test (self, g_object_get_data (G_OBJECT (button), "app"), MR_TEST_SEND_EMAIL);
}

/* ---- Regions (Amazon SES, Mailgun) ------------------------------------------------------------ */

/* A region chosen: its server is the host. */
static void
on_region_selected (MrCompanyPage *self)
{
  g_autofree char *provider = mr_company_page_edited_string (self, "smtp.provider");
  const MrPreset *preset = mr_preset_lookup (provider);
  guint selected = adw_combo_row_get_selected (self->region_row);
  const char * const *regions = preset ? mr_preset_get_region_ids (preset) : NULL;
  g_autoptr(JsonNode) host = NULL;

  if (self->syncing_region || regions == NULL || preset != self->region_preset || selected == GTK_INVALID_LIST_POSITION ||
      selected >= g_strv_length ((char **) regions))
    return;
  host = json_node_init_string (json_node_alloc (), mr_preset_get_region_host (preset, regions[selected]));
  mr_settings_form_set_value (self->form, "smtp.host", host);
}

/* The region row for @preset's regions, on the one whose server @host is (none: a server of the
 * admin's own typing); hidden for a provider without regions. */
static void
update_regions (MrCompanyPage  *self,
                const MrPreset *preset,
                const char     *host)
{
  const char * const *regions = preset ? mr_preset_get_region_ids (preset) : NULL;
  const char *region;
  guint position = GTK_INVALID_LIST_POSITION;

  gtk_widget_set_visible (GTK_WIDGET (self->region_row), regions != NULL);
  if (regions == NULL)
    return;
  self->syncing_region = TRUE;
  if (self->region_preset != preset)
    {
      g_autoptr(GtkStringList) names = gtk_string_list_new (NULL);

      for (guint i = 0; regions[i] != NULL; i++)
        gtk_string_list_append (names, mr_preset_get_region_name (preset, regions[i]));
      adw_combo_row_set_model (self->region_row, G_LIST_MODEL (names));
      self->region_preset = preset;
    }
  region = mr_preset_find_region (preset, host);
  for (guint i = 0; region != NULL && regions[i] != NULL; i++)
    if (g_str_equal (regions[i], region))
      position = i;
  adw_combo_row_set_selected (self->region_row, position);
  self->syncing_region = FALSE;
}

/* ---- Locks ------------------------------------------------------------------------------------ */

static void
on_lock_toggled (GtkSwitch     *toggle,
                 GParamSpec    *pspec,
                 MrCompanyPage *self)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) result = NULL;

  for (guint i = 0; i < self->lock_rows->len; i++)
    {
      GtkWidget *row = g_ptr_array_index (self->lock_rows, i);
      GtkSwitch *row_switch = g_object_get_data (G_OBJECT (row), "switch");

      if (gtk_switch_get_active (row_switch))
        g_strv_builder_add (builder, g_object_get_data (G_OBJECT (row), "key"));
    }
  result = g_strv_builder_end (builder);
  mr_company_page_set_list (self, "locks", (const char * const *) result);
  mr_company_page_update_state (self);
}

/* ---- Application profiles --------------------------------------------------------------------- */

static void
on_remove_app_clicked (GtkButton     *button,
                       MrCompanyPage *self)
{
  const char *app = g_object_get_data (G_OBJECT (button), "app");
  g_autofree char *key = g_strdup_printf ("apps.%s", app);
  g_autofree char *prefix = g_strdup_printf ("apps.%s.", app);

  mr_settings_form_remove_prefix (self->form, prefix);
  mr_settings_file_unset (mr_settings_form_get_edited (self->form), key, NULL);
  mr_company_page_rebuild_lists (self);
  mr_settings_form_changed (self->form);
}

static GtkWidget *
app_entry (MrCompanyPage *self,
           AdwExpanderRow *expander,
           const char    *app,
           const char    *base_key,
           const char    *title)
{
  g_autofree char *key = g_strdup_printf ("apps.%s.%s", app, base_key);
  GtkWidget *row = adw_entry_row_new ();

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_expander_row_add_row (expander, row);
  mr_settings_form_add_entry (self->form, key, ADW_ENTRY_ROW (row), FALSE);
  return row;
}

static GtkWidget *
build_app_row (MrCompanyPage *self,
               const char    *app)
{
  GtkWidget *expander = adw_expander_row_new ();
  GtkWidget *remove = gtk_button_new_from_icon_name ("user-trash-symbolic");
  g_autofree char *remove_label = g_strdup_printf (_("Remove the profile “%s”"), app);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (expander), app);
  adw_expander_row_set_subtitle (ADW_EXPANDER_ROW (expander), _("Empty fields use the company settings"));
  gtk_widget_set_valign (remove, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (remove, "flat");
  gtk_widget_set_tooltip_text (remove, remove_label);
  gtk_accessible_update_property (GTK_ACCESSIBLE (remove), GTK_ACCESSIBLE_PROPERTY_LABEL, remove_label, -1);
  g_object_set_data_full (G_OBJECT (remove), "app", g_strdup (app), g_free);
  g_signal_connect (remove, "clicked", G_CALLBACK (on_remove_app_clicked), self);
  gtk_widget_set_sensitive (remove, self->editable);
  adw_expander_row_add_action (ADW_EXPANDER_ROW (expander), remove);
  adw_preferences_group_add (self->apps_group, expander);

  app_entry (self, ADW_EXPANDER_ROW (expander), app, "smtp.host", _("Server address"));
  app_entry (self, ADW_EXPANDER_ROW (expander), app, "smtp.port", _("Port"));
  app_entry (self, ADW_EXPANDER_ROW (expander), app, "smtp.username", _("Login"));
  app_entry (self, ADW_EXPANDER_ROW (expander), app, "sender.from_name", _("From name"));
  app_entry (self, ADW_EXPANDER_ROW (expander), app, "sender.from_address", _("From address"));
  app_entry (self, ADW_EXPANDER_ROW (expander), app, "sender.reply_to", _("Reply-To"));

  {
    GtkWidget *row = adw_action_row_new ();
    GtkWidget *button = gtk_button_new_with_mnemonic (_("Send _Test Email"));

    adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _("Try this profile"));
    gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
    g_object_set_data_full (G_OBJECT (button), "app", g_strdup (app), g_free);
    g_signal_connect (button, "clicked", G_CALLBACK (on_app_test_clicked), self);
    adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);
    adw_expander_row_add_row (ADW_EXPANDER_ROW (expander), row);
    g_object_set_data (G_OBJECT (expander), "test-button", button);
  }
  return expander;
}

static void
on_app_name_changed (GtkEditable      *entry,
                     AdwMessageDialog *dialog)
{
  MrCompanyPage *self = g_object_get_data (G_OBJECT (dialog), "page");
  const char *name = gtk_editable_get_text (entry);
  gboolean ok = mr_app_name_is_valid (name) &&
                !mr_settings_file_has_app (mr_settings_form_get_edited (self->form), name);

  adw_message_dialog_set_response_enabled (dialog, "add", ok);
  if (ok || *name == '\0')
    gtk_widget_remove_css_class (GTK_WIDGET (entry), "error");
  else
    gtk_widget_add_css_class (GTK_WIDGET (entry), "error");
}

static void
on_add_app_response (AdwMessageDialog *dialog,
                     const char       *response,
                     MrCompanyPage    *self)
{
  GtkEditable *entry = GTK_EDITABLE (adw_message_dialog_get_extra_child (dialog));
  g_autofree char *name = g_strdup (gtk_editable_get_text (entry));

  if (!g_str_equal (response, "add") ||
      !mr_settings_file_add_app (mr_settings_form_get_edited (self->form), name, NULL))
    return;
  mr_company_page_rebuild_lists (self);
  mr_settings_form_changed (self->form);
}

static void
on_add_app_clicked (MrCompanyPage *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkWidget *dialog, *entry;

  dialog = adw_message_dialog_new (GTK_WINDOW (root), _("New Application Profile"),
                                   _("Name the application as it names itself to Mailroom, for example "
                                     "“marketing”: lower-case letters, digits, “-” and “_”."));
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "add", _("_Add"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "add", ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_response_enabled (ADW_MESSAGE_DIALOG (dialog), "add", FALSE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "add");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");

  entry = gtk_entry_new ();
  gtk_entry_set_activates_default (GTK_ENTRY (entry), TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (entry), GTK_ACCESSIBLE_PROPERTY_LABEL, _("Application name"), -1);
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), entry);
  g_object_set_data (G_OBJECT (dialog), "page", self);
  g_signal_connect (entry, "changed", G_CALLBACK (on_app_name_changed), dialog);
  g_signal_connect (dialog, "response", G_CALLBACK (on_add_app_response), self);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* ---- Lists built from the working copy -------------------------------------------------------- */

static void
clear_rows (GPtrArray *rows)
{
  for (guint i = 0; i < rows->len; i++)
    {
      GtkWidget *row = g_ptr_array_index (rows, i);
      GtkWidget *parent = gtk_widget_get_parent (row);

      if (GTK_IS_LIST_BOX (parent))
        gtk_list_box_remove (GTK_LIST_BOX (parent), row);
    }
  g_ptr_array_set_size (rows, 0);
}

void
mr_company_page_rebuild_lists (MrCompanyPage *self)
{
  MrSettingsFile *edited = mr_settings_form_get_edited (self->form);
  g_auto(GStrv) apps = mr_settings_file_list_apps (edited);
  g_auto(GStrv) locks = mr_company_page_current_list (self, "locks");
  GtkWidget *domain_list = gtk_widget_get_parent (GTK_WIDGET (self->add_domain_row));
  const MrKeyInfo *keys;
  guint n_keys;

  /* Application profiles: rows and their form fields go together. */
  for (guint i = 0; i < self->app_rows->len; i++)
    {
      GtkWidget *row = g_ptr_array_index (self->app_rows, i);
      g_autofree char *prefix = g_strdup_printf ("apps.%s.", adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)));

      mr_settings_form_remove_prefix (self->form, prefix);
      adw_preferences_group_remove (self->apps_group, row);
    }
  g_ptr_array_set_size (self->app_rows, 0);
  for (guint i = 0; apps[i] != NULL; i++)
    g_ptr_array_add (self->app_rows, build_app_row (self, apps[i]));

  clear_rows (self->domain_rows);
  {
    g_autoptr(GPtrArray) company_domains = mr_company_domains_in (edited);

    for (guint i = 0; i < company_domains->len; i++)
      {
        MrCompanyDomain *domain = g_ptr_array_index (company_domains, i);
        GtkWidget *row = mr_domain_row_new (domain, g_hash_table_lookup (self->domain_reports, domain->domain), self->editable);

        g_signal_connect (row, "remove", G_CALLBACK (mr_company_page_on_domain_remove), self);
        g_signal_connect (row, "verify", G_CALLBACK (mr_company_page_on_domain_verify), self);
        gtk_list_box_insert (GTK_LIST_BOX (domain_list), row,
                             gtk_list_box_row_get_index (GTK_LIST_BOX_ROW (self->add_domain_row)));
        g_ptr_array_add (self->domain_rows, row);
      }
    gtk_widget_set_sensitive (self->check_domains_button, company_domains->len > 0 && !self->checking_domains);
  }

  for (guint i = 0; i < self->lock_rows->len; i++)
    adw_expander_row_remove (self->locks_row, g_ptr_array_index (self->lock_rows, i));
  g_ptr_array_set_size (self->lock_rows, 0);
  keys = mr_key_get_all (&n_keys);
  for (guint i = 0; i < n_keys; i++)
    {
      GtkWidget *row, *toggle;

      if (!keys[i].lockable)
        continue;
      row = adw_action_row_new ();
      toggle = gtk_switch_new ();
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), mr_key_get_label (keys[i].name));
      /* The setting's name in words; its key, for whoever edits the file, only in the tooltip. */
      gtk_widget_set_tooltip_text (row, keys[i].name);
      gtk_widget_set_valign (toggle, GTK_ALIGN_CENTER);
      gtk_switch_set_active (GTK_SWITCH (toggle), g_strv_contains ((const char * const *) locks, keys[i].name));
      gtk_widget_set_sensitive (toggle, self->editable);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), toggle);
      adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), toggle);
      /* A name of its own: GTK 4.8 gives screen readers no name from a labelled-by relation. */
      gtk_accessible_update_property (GTK_ACCESSIBLE (toggle), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      mr_key_get_label (keys[i].name), -1);
      gtk_accessible_update_relation (GTK_ACCESSIBLE (toggle), GTK_ACCESSIBLE_RELATION_LABELLED_BY, row, NULL, -1);
      g_object_set_data (G_OBJECT (row), "key", (gpointer) keys[i].name);
      g_object_set_data (G_OBJECT (row), "switch", toggle);
      g_signal_connect (toggle, "notify::active", G_CALLBACK (on_lock_toggled), self);
      adw_expander_row_add_row (self->locks_row, row);
      g_ptr_array_add (self->lock_rows, row);
    }
  if (locks[0] == NULL)
    adw_expander_row_set_subtitle (self->locks_row, _("Nothing is locked"));
  else
    {
      guint n_locked = g_strv_length (locks);
      g_autofree char *subtitle = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u setting is locked",
                                                                "%u settings are locked", n_locked),
                                                   n_locked);
      adw_expander_row_set_subtitle (self->locks_row, subtitle);
    }
}

/* ---- State that follows the values ------------------------------------------------------------ */

char *
mr_company_page_edited_string (MrCompanyPage *self,
                               const char    *key)
{
  JsonNode *node = mr_settings_file_get (mr_settings_form_get_edited (self->form), key);
  g_autoptr(JsonNode) fallback = NULL;

  if (node == NULL)
    node = fallback = mr_key_get_default (mr_key_lookup (key));
  return g_strdup (json_node_get_string (node));
}

gboolean
mr_company_page_edited_boolean (MrCompanyPage *self,
                                const char    *key)
{
  JsonNode *node = mr_settings_file_get (mr_settings_form_get_edited (self->form), key);
  g_autoptr(JsonNode) fallback = NULL;

  if (node == NULL)
    node = fallback = mr_key_get_default (mr_key_lookup (key));
  return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_BOOLEAN && json_node_get_boolean (node);
}

/* ---- What the page shows for the values ------------------------------------------------------- */

/* Empty pace fields mean the provider's limits: the placeholders say which ("30, Office 365’s"). */
static void
update_pace_placeholders (MrCompanyPage  *self,
                          const MrPreset *preset)
{
  g_autofree char *account = mr_company_page_edited_string (self, "smtp.username");
  g_autofree char *minute = NULL;
  g_autofree char *day = NULL;
  g_autofree char *connections = NULL;
  guint per_minute, per_day, n_connections;

  if (account == NULL || *account == '\0')
    {
      g_free (account);
      account = mr_company_page_edited_string (self, "sender.from_address");
    }
  mr_preset_get_mailshot_pace (preset, account, &per_minute, &per_day, &n_connections);
  if (preset != NULL && g_strcmp0 (mr_preset_get_id (preset), "other") != 0)
    {
      /* TRANSLATORS: a number and the provider it is the limit of, "30, Office 365’s" */
      minute = per_minute ? g_strdup_printf (_("%u, %s’s"), per_minute, mr_preset_get_name (preset)) : NULL;
      day = per_day ? g_strdup_printf (_("%u, %s’s"), per_day, mr_preset_get_name (preset)) : NULL;
    }
  connections = g_strdup_printf ("%u", n_connections);
  mr_settings_form_set_placeholder (self->form, "mailshot.per_minute", minute ? minute : _("No limit"));
  mr_settings_form_set_placeholder (self->form, "mailshot.per_day", day ? day : _("No limit"));
  mr_settings_form_set_placeholder (self->form, "mailshot.connections", connections);
}

/* What @preset asks of the company's DNS, in words, with the SPF term to copy. */
static void
update_provider_dns (MrCompanyPage  *self,
                     const MrPreset *preset)
{
  const char *include = preset ? mr_preset_get_spf_include (preset) : NULL;
  const char * const *selectors = preset ? mr_preset_get_dkim_selectors (preset) : NULL;
  gboolean own_return_path = preset != NULL && mr_preset_has_own_return_path (preset);
  g_autofree char *joined = selectors ? g_strjoinv (", ", (char **) selectors) : NULL;
  g_autofree char *subtitle = NULL;
  const char *name = preset ? mr_preset_get_name (preset) : NULL;

  gtk_widget_set_visible (GTK_WIDGET (self->provider_dns_row), include != NULL || joined != NULL || own_return_path);
  gtk_widget_set_visible (self->provider_dns_copy, include != NULL && !own_return_path);
  if (own_return_path && joined != NULL)
    subtitle = g_strdup_printf (_("%s sends with its own return address, so your SPF record need not name it. Turn DKIM on "
                                  "at %s (selectors %s): your domain’s DMARC passes through DKIM alone. Verified domains "
                                  "below says whether your DNS has it."), name, name, joined);
  else if (own_return_path)
    subtitle = g_strdup_printf (_("%s sends with its own return address, so your SPF record need not name it. Turn DKIM on "
                                  "at %s and publish the records it gives: your domain’s DMARC passes through DKIM "
                                  "alone."), name, name);
  else if (include != NULL && joined != NULL)
    subtitle = g_strdup_printf (_("include:%s, so that %s may send as your domain; and DKIM turned on at %s (selectors "
                                  "%s). Verified domains below says whether your DNS has them."), include, name, name, joined);
  else if (include != NULL)
    subtitle = g_strdup_printf (_("include:%s, so that %s may send as your domain"), include, name);
  else if (joined != NULL)
    subtitle = g_strdup_printf (_("DKIM turned on at %s (selectors %s). Verified domains below says whether your DNS has "
                                  "it."), name, joined);
  if (subtitle != NULL)
    adw_action_row_set_subtitle (self->provider_dns_row, subtitle);
}

void
mr_company_page_update_state (MrCompanyPage *self)
{
  g_autofree char *provider = mr_company_page_edited_string (self, "smtp.provider");
  g_autofree char *auth = mr_company_page_edited_string (self, "smtp.auth");
  g_autofree char *credentials = mr_company_page_edited_string (self, "smtp.credentials");
  g_autofree char *delivery = mr_company_page_edited_string (self, "delivery.mode");
  const MrPreset *preset = mr_preset_lookup (provider);
  const char * const *warnings = mr_settings_form_get_warnings (self->form);
  const GError *check_error = mr_settings_form_get_check_error (self->form);
  gboolean needs_login = g_strcmp0 (auth, "none") != 0;
  gboolean per_user = g_strcmp0 (credentials, "per-user") == 0;
  gboolean remote = g_strcmp0 (delivery, "sendmail") != 0;

  /* What the provider asks of the company's domain: its SPF term, and the DKIM selectors it signs with. */
  update_regions (self, preset, mr_settings_file_get_string (mr_settings_form_get_edited (self->form), "smtp.host"));
  update_provider_dns (self, preset);

  /* A preset's locks bind the admin too: the relay has no login. */
  for (guint i = 0; i < 2; i++)
    {
      const char *key = i == 0 ? "smtp.security" : "smtp.auth";
      g_autofree char *reason = NULL;

      if (preset != NULL && mr_preset_locks_key (preset, key))
        reason = g_strdup_printf (_("Fixed by the %s provider preset"), mr_preset_get_name (preset));
      mr_settings_form_set_locked (self->form, key, reason);
    }

  gtk_widget_set_visible (GTK_WIDGET (self->credentials_row), needs_login && remote);
  gtk_widget_set_visible (GTK_WIDGET (self->username_row), needs_login && remote && !per_user);
  gtk_widget_set_visible (GTK_WIDGET (self->password_row), needs_login && remote && !per_user &&
                          g_strcmp0 (auth, "oauth2") != 0);
  gtk_widget_set_visible (GTK_WIDGET (self->keyring_row), needs_login && remote && !per_user &&
                          g_strcmp0 (auth, "oauth2") != 0);
  gtk_widget_set_visible (GTK_WIDGET (self->per_user_row), needs_login && remote && per_user);
  gtk_widget_set_visible (GTK_WIDGET (self->plaintext_row), needs_login && remote);
  gtk_widget_set_visible (GTK_WIDGET (self->sendmail_path_row), !remote);

  mr_company_page_update_exchange_guide (self);
  update_pace_placeholders (self, preset);

  gtk_widget_set_visible (GTK_WIDGET (self->plaintext_warning_row), warnings != NULL && warnings[0] != NULL);
  if (warnings != NULL && warnings[0] != NULL)
    adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->plaintext_warning_row), warnings[0]);

  /* Trying needs the settings as saved: the test uses what is on disk, not what is typed. */
  {
    gboolean saved = !mr_settings_form_get_dirty (self->form) && mr_settings_form_get_valid (self->form);

    gtk_widget_set_sensitive (self->check_button, saved);
    gtk_widget_set_sensitive (self->test_button, saved);
    adw_action_row_set_subtitle (self->try_row, saved ? _("Uses the settings as saved")
                                                      : _("Save the changes first"));
    for (guint i = 0; i < self->app_rows->len; i++)
      gtk_widget_set_sensitive (g_object_get_data (g_ptr_array_index (self->app_rows, i), "test-button"), saved);
  }

  /* Offer to verify the From address's domain, to the admin only. */
  if (self->editable && check_error != NULL && g_str_has_prefix (check_error->message, "sender.from_address: "))
    {
      const char *domain = mr_address_get_domain (gtk_editable_get_text (GTK_EDITABLE (self->from_address_row)));
      g_autofree char *title = g_strdup_printf (_("%s is not a verified domain"), domain);
      g_autofree char *label = g_strdup_printf (_("Add %s to Verified Domains"), domain);

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->verify_domain_row), title);
      gtk_button_set_label (self->verify_domain_button, label);
      gtk_widget_set_visible (GTK_WIDGET (self->verify_domain_row), domain != NULL);
    }
  else
    gtk_widget_set_visible (GTK_WIDGET (self->verify_domain_row), FALSE);
}

static void
on_value_changed (MrSettingsForm *form,
                  const char     *key,
                  MrCompanyPage  *self)
{
  MrSettingsFile *edited = mr_settings_form_get_edited (form);
  g_autofree char *provider = mr_company_page_edited_string (self, "smtp.provider");
  const MrPreset *preset = mr_preset_lookup (provider);

  if (g_str_equal (key, "smtp.provider") && preset != NULL)
    {
      mr_preset_apply (preset, edited, NULL, NULL);
      mr_settings_form_refresh (form);
    }
  else if (g_str_equal (key, "smtp.security") && preset != NULL)
    {
      g_autofree char *security = mr_company_page_edited_string (self, "smtp.security");
      guint16 port = mr_preset_get_port_for_security (preset, security);

      if (port != 0)
        {
          g_autoptr(JsonNode) node = json_node_init_int (json_node_alloc (), port);
          mr_settings_form_set_value (form, "smtp.port", node);
        }
    }
  else if (g_str_equal (key, "sender.from_address") && preset != NULL && mr_preset_derives_host (preset))
    {
      g_autofree char *from = mr_company_page_edited_string (self, "sender.from_address");
      g_autofree char *host = mr_preset_derive_host (preset, mr_address_get_domain (from));

      if (host != NULL)
        {
          g_autoptr(JsonNode) node = json_node_init_string (json_node_alloc (), host);
          mr_settings_form_set_value (form, "smtp.host", node);
        }
    }

  mr_company_page_update_state (self);
}

/* ---- Loading and saving ----------------------------------------------------------------------- */

static void
reload (MrCompanyPage *self)
{
  g_autofree char *managed = NULL;

  self->editable = mr_settings_can_edit_company (self->settings);
  /* Words first; where the file is, only for who asks (the tooltip). */
  managed = g_strdup_printf (_("Kept in %s"), mr_settings_file_get_path (mr_settings_get_company (self->settings)));
  adw_action_row_set_subtitle (self->managed_row, _("Only your administrator can change these settings: ask them "
                                                    "if something here is wrong."));
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->managed_row), managed);
  gtk_widget_set_visible (GTK_WIDGET (self->managed_group), !self->editable);
  gtk_widget_set_sensitive (self->add_app_button, self->editable);
  gtk_widget_set_sensitive (GTK_WIDGET (self->add_domain_row), self->editable);
  gtk_widget_set_sensitive (self->exchange_find_button, self->editable);

  /* Read-only: the password is still each sender's own copy in their keyring, so it may be typed;
   * the row says so, and Save takes it. */
  if (self->password != NULL)
    mr_password_field_set_not_stored_text (self->password,
                                           self->editable ? NULL
                                                          : _("Not in your keyring yet: type the password your "
                                                              "administrator gave you, then save"));
  mr_settings_form_set_editable (self->form, self->editable);
  mr_settings_form_reload (self->form);
  mr_company_page_show_selectors (self);
  mr_company_page_rebuild_lists (self);
  mr_company_page_update_state (self);
  mr_password_field_clear (self->password);
  mr_password_field_refresh (self->password);
}

void
mr_company_page_revert (MrCompanyPage *self)
{
  g_return_if_fail (MR_IS_COMPANY_PAGE (self));

  reload (self);
}

void
mr_company_page_save_async (MrCompanyPage       *self,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  GError *error = NULL;

  g_return_if_fail (MR_IS_COMPANY_PAGE (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, mr_company_page_save_async);

  /* Anyone may keep the company password in their own keyring; only the admin writes the file. */
  if (self->editable && mr_settings_form_get_dirty (self->form))
    {
      if (!mr_settings_form_commit (self->form, &error))
        {
          mr_company_page_update_state (self);
          g_task_return_error (task, error);
          return;
        }
      mr_company_page_rebuild_lists (self);
      mr_company_page_update_state (self);
    }

  mr_password_field_store_for_task (self->password, task);
}

gboolean
mr_company_page_save_finish (MrCompanyPage  *self,
                             GAsyncResult   *result,
                             GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == mr_company_page_save_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

MrSettingsForm *
mr_company_page_get_form (MrCompanyPage *self)
{
  return self->form;
}

gboolean
mr_company_page_get_editable (MrCompanyPage *self)
{
  return self->editable;
}

/* A typed password is a change to save even when no setting changed. */
gboolean
mr_company_page_get_has_changes (MrCompanyPage *self)
{
  return mr_settings_form_get_dirty (self->form) || mr_password_field_get_pending (self->password);
}

static void
on_password_changed (MrCompanyPage *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HAS_CHANGES]);
}

static void
on_dirty_changed (MrCompanyPage *self)
{
  mr_company_page_update_state (self);
  on_password_changed (self);
}

static void
mr_company_page_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  MrCompanyPage *self = MR_COMPANY_PAGE (object);

  switch (prop_id)
    {
    case PROP_HAS_CHANGES:
      g_value_set_boolean (value, self->form != NULL && mr_company_page_get_has_changes (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

/* ---- GObject ---------------------------------------------------------------------------------- */

static void
mr_company_page_dispose (GObject *object)
{
  MrCompanyPage *self = MR_COMPANY_PAGE (object);

  if (self->form != NULL)
    g_signal_handlers_disconnect_by_data (self->form, self);
  g_clear_object (&self->form);
  g_cancellable_cancel (self->find_cancellable);
  g_clear_object (&self->find_cancellable);
  g_cancellable_cancel (self->domain_cancellable);
  g_clear_object (&self->domain_cancellable);
  g_clear_pointer (&self->domain_reports, g_hash_table_unref);
  /* Cancels a keyring call in flight even while its callback holds a reference. */
  if (self->password != NULL)
    g_object_run_dispose (G_OBJECT (self->password));
  g_clear_object (&self->password);
  g_clear_object (&self->settings);
  g_clear_pointer (&self->app_rows, g_ptr_array_unref);
  g_clear_pointer (&self->domain_rows, g_ptr_array_unref);
  g_clear_pointer (&self->lock_rows, g_ptr_array_unref);

  gtk_widget_dispose_template (GTK_WIDGET (self), MR_TYPE_COMPANY_PAGE);

  G_OBJECT_CLASS (mr_company_page_parent_class)->dispose (object);
}

static void
mr_company_page_class_init (MrCompanyPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = mr_company_page_dispose;
  object_class->get_property = mr_company_page_get_property;

  properties[PROP_HAS_CHANGES] =
    g_param_spec_boolean ("has-changes", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/mailroom/Mailroom/mr-company-page.ui");
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, managed_group);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, managed_row);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, provider_row);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, provider_dns_row);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, region_row);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, provider_dns_copy);
  gtk_widget_class_bind_template_callback (widget_class, on_region_selected);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, selectors_row);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, host_row);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, port_row);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, security_row);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, trust_file_row);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, fingerprint_row);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, auth_row);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, credentials_row);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, username_row);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, password_row);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, keyring_row);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, forget_button);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, per_user_row);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, plaintext_row);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, plaintext_switch);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, plaintext_warning_row);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, from_name_row);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, sender_group);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, from_address_row);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, verify_domain_row);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, verify_domain_button);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, reply_to_row);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, copy_to_row);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, mailshot_minute_row);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, mailshot_day_row);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, mailshot_connections_row);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, mailshot_minute_spin);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, mailshot_day_spin);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, mailshot_connections_spin);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, exchange_transport_row);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, exchange_guide_row);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, exchange_guide_icon);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, exchange_url_row);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, exchange_find_button);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, exchange_autodiscover_row);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, exchange_autodiscover_switch);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, exchange_auth_row);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, exchange_client_id_row);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, exchange_tenant_row);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, exchange_preferred_row);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, exchange_fallback_row);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, exchange_group);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, exchange_fallback_switch);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, copy_each_row);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, copy_each_switch);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, unsubscribe_url_row);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, unsubscribe_mailto_row);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, send_as_user_row);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, send_as_user_switch);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, delivery_row);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, sendmail_path_row);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, apps_group);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, add_app_button);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, domains_group);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, add_domain_row);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, locks_row);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, try_row);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, check_button);
  gtk_widget_class_bind_template_child (widget_class, MrCompanyPage, test_button);
  gtk_widget_class_bind_template_callback (widget_class, on_check_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_test_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_add_app_clicked);
  mr_company_page_domains_class_init (widget_class);
  mr_company_page_exchange_class_init (widget_class);
}

static void
mr_company_page_init (MrCompanyPage *self)
{
  g_autoptr(GtkStringList) providers = gtk_string_list_new (NULL);
  guint n_presets;
  const MrPreset * const *presets = mr_presets_get_all (&n_presets);

  gtk_widget_init_template (GTK_WIDGET (self));
  adw_preferences_group_add (self->sender_group, mr_signature_row_new (MR_SIGNATURE_COMPANY));

  self->app_rows = g_ptr_array_new ();
  self->domain_rows = g_ptr_array_new ();
  self->domain_reports = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) mr_domain_report_free);
  self->domain_cancellable = g_cancellable_new ();
  self->check_domains_button = gtk_button_new_with_mnemonic (_("C_heck Again"));
  gtk_widget_set_valign (self->check_domains_button, GTK_ALIGN_CENTER);
  gtk_widget_set_tooltip_text (self->check_domains_button,
                               _("Check each domain’s SPF, DKIM and DMARC records for the server these settings send through"));
  g_signal_connect_swapped (self->check_domains_button, "clicked", G_CALLBACK (mr_company_page_check_domains), self);
  adw_preferences_group_set_header_suffix (self->domains_group, self->check_domains_button);
  self->lock_rows = g_ptr_array_new ();

  for (guint i = 0; i < n_presets; i++)
    gtk_string_list_append (providers, mr_preset_get_name (presets[i]));
  adw_combo_row_set_model (self->provider_row, G_LIST_MODEL (providers));

  self->domain_error_label = gtk_label_new (NULL);
  gtk_widget_add_css_class (self->domain_error_label, "error");
  gtk_widget_add_css_class (self->domain_error_label, "caption");
  gtk_label_set_xalign (GTK_LABEL (self->domain_error_label), 0);
  gtk_widget_set_margin_top (self->domain_error_label, 6);
  gtk_widget_set_visible (self->domain_error_label, FALSE);
  adw_preferences_group_add (self->domains_group, self->domain_error_label);

  g_signal_connect_swapped (self->password_row, "changed", G_CALLBACK (on_password_changed), self);

}

MrCompanyPage *
mr_company_page_new (MrSettings *settings)
{
  MrCompanyPage *self = g_object_new (MR_TYPE_COMPANY_PAGE, NULL);
  g_autoptr(GPtrArray) provider_ids = g_ptr_array_new ();
  guint n_presets;
  const MrPreset * const *presets = mr_presets_get_all (&n_presets);

  self->settings = g_object_ref (settings);
  self->form = mr_settings_form_new (settings, MR_SCOPE_COMPANY);
  self->password = mr_password_field_new (settings, MR_SCOPE_COMPANY, self->password_row, self->keyring_row,
                                          self->forget_button);

  for (guint i = 0; i < n_presets; i++)
    g_ptr_array_add (provider_ids, (gpointer) mr_preset_get_id (presets[i]));
  g_ptr_array_add (provider_ids, NULL);

  mr_settings_form_add_combo (self->form, "smtp.provider", self->provider_row, (const char * const *) provider_ids->pdata);
  mr_settings_form_add_entry (self->form, "smtp.host", self->host_row, TRUE);
  mr_settings_form_add_entry (self->form, "smtp.port", self->port_row, TRUE);
  mr_settings_form_add_combo (self->form, "smtp.security", self->security_row, security_values);
  mr_settings_form_add_entry (self->form, "smtp.tls_trust_file", self->trust_file_row, FALSE);
  mr_settings_form_add_entry (self->form, "smtp.tls_fingerprint", self->fingerprint_row, FALSE);
  mr_settings_form_add_combo (self->form, "smtp.auth", self->auth_row, auth_values);
  mr_settings_form_add_combo (self->form, "smtp.credentials", self->credentials_row, credentials_values);
  mr_settings_form_add_entry (self->form, "smtp.username", self->username_row, FALSE);
  mr_settings_form_add_switch (self->form, "smtp.allow_plaintext_auth", self->plaintext_row, self->plaintext_switch);
  mr_settings_form_add_entry (self->form, "sender.from_name", self->from_name_row, FALSE);
  mr_settings_form_add_entry (self->form, "sender.from_address", self->from_address_row, FALSE);
  mr_settings_form_add_entry (self->form, "sender.reply_to", self->reply_to_row, FALSE);
  mr_settings_form_add_entry (self->form, "sender.copy_to", self->copy_to_row, FALSE);
  mr_settings_form_add_switch (self->form, "sender.send_as_user", self->send_as_user_row, self->send_as_user_switch);
  mr_settings_form_add_combo (self->form, "delivery.mode", self->delivery_row, delivery_values);
  mr_settings_form_add_entry (self->form, "delivery.sendmail_path", self->sendmail_path_row, FALSE);
  mr_settings_form_add_spin (self->form, "mailshot.per_minute", self->mailshot_minute_row, self->mailshot_minute_spin);
  mr_settings_form_add_spin (self->form, "mailshot.per_day", self->mailshot_day_row, self->mailshot_day_spin);
  mr_settings_form_add_spin (self->form, "mailshot.connections", self->mailshot_connections_row,
                             self->mailshot_connections_spin);
  mr_settings_form_add_switch (self->form, "mailshot.copy_each", self->copy_each_row, self->copy_each_switch);
  mr_settings_form_add_entry (self->form, "mailshot.unsubscribe_url", self->unsubscribe_url_row, FALSE);
  mr_settings_form_add_entry (self->form, "mailshot.unsubscribe_mailto", self->unsubscribe_mailto_row, FALSE);
  mr_settings_form_add_combo (self->form, "exchange.transport", self->exchange_transport_row, exchange_transport_values);
  mr_settings_form_add_entry (self->form, "exchange.ews_url", self->exchange_url_row, FALSE);
  mr_settings_form_add_switch (self->form, "exchange.autodiscover", self->exchange_autodiscover_row,
                               self->exchange_autodiscover_switch);
  mr_settings_form_add_combo (self->form, "exchange.auth", self->exchange_auth_row, exchange_auth_values);
  mr_settings_form_add_entry (self->form, "exchange.client_id", self->exchange_client_id_row, FALSE);
  mr_settings_form_add_entry (self->form, "exchange.tenant", self->exchange_tenant_row, FALSE);
  mr_settings_form_add_combo (self->form, "exchange.preferred", self->exchange_preferred_row, exchange_preferred_values);
  mr_settings_form_add_switch (self->form, "exchange.fallback", self->exchange_fallback_row, self->exchange_fallback_switch);

  g_signal_connect (self->form, "value-changed", G_CALLBACK (on_value_changed), self);
  g_signal_connect_swapped (self->form, "notify::dirty", G_CALLBACK (on_dirty_changed), self);
  reload (self);
  return self;
}
