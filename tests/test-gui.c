/* test-gui.c: the real window under Xvfb, driven through its widgets
 *
 * Fills the Company Settings page as an admin would, saves, and checks the file and the keyring;
 * types bad values and checks what the page says; reopens the window; checks the read-only page
 * and My Settings. With MAILROOM_SCREENSHOT_DIR set, it also writes a PNG of each page.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "mr-address-completion.h"
#include "mr-domain-row.h"
#include "mr-error.h"
#include "mr-html-clean.h"
#if HAVE_WEBKIT
#include "mr-editor.h"
#endif
#include "mr-key-labels.h"
#include "mr-sent-log.h"
#include "mr-signature-row.h"
#include "mr-source-highlight.h"
#include "mr-standin.h"
#include "mr-test-utils.h"
#include "mr-template.h"
#include "mr-template-editor.h"
#include "mr-test-dialog.h"
#include "mr-window.h"
#if HAVE_WEBKIT
#include <webkit/webkit.h>
#endif

/* ---- Helpers ---------------------------------------------------------------------------------- */

static void
spin (guint milliseconds)
{
  gint64 end = g_get_monotonic_time () + milliseconds * 1000;

  while (g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE);
}

typedef gboolean (*Condition) (gpointer data);

static void
wait_at_most (guint       seconds,
              Condition   condition,
              gpointer    data,
              const char *what)
{
  gint64 end = g_get_monotonic_time () + seconds * G_USEC_PER_SEC;

  while (!condition (data))
    {
      if (g_get_monotonic_time () > end)
        g_error ("Timed out waiting for %s", what);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}

static void
wait_for (Condition   condition,
          gpointer    data,
          const char *what)
{
  wait_at_most (10, condition, data, what);
}

static gboolean
window_idle (gpointer data)
{
  return !mr_window_get_busy (MR_WINDOW (data));
}

static gboolean
subtitle_settled (gpointer data)
{
  const char *subtitle = adw_action_row_get_subtitle (ADW_ACTION_ROW (data));
  return subtitle != NULL && !g_str_has_prefix (subtitle, "Checking");
}

static gboolean
not_signed_in (gpointer data)
{
  const char *subtitle = adw_action_row_get_subtitle (ADW_ACTION_ROW (data));
  return subtitle != NULL && g_str_has_prefix (subtitle, "Not signed in");
}

static GtkWidget *
child (gpointer    widget,
       GType       type,
       const char *name)
{
  GObject *object = gtk_widget_get_template_child (GTK_WIDGET (widget), type, name);

  if (object == NULL)
    g_error ("No template child %s", name);
  return GTK_WIDGET (object);
}

static void
type_text (GtkWidget  *row,
           const char *text)
{
  /* As typing does: focus, then change the text, which emits "changed". */
  gtk_widget_grab_focus (row);
  gtk_editable_set_text (GTK_EDITABLE (row), text);
  spin (20);
}

static void
save_and_wait (MrWindow *window)
{
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.save", NULL));
  wait_for (window_idle, window, "the save to finish");
  spin (50);
}

static MrWindow *
open_window (void)
{
  MrWindow *window = mr_window_new (NULL);

  gtk_window_set_default_size (GTK_WINDOW (window), 1000, 2200);
  /* The last page is remembered across windows; each test starts from the first. */
  mr_window_show_page (window, "company");
  gtk_window_present (GTK_WINDOW (window));
  spin (300);
  return window;
}

static void
close_window (MrWindow *window)
{
  gtk_window_destroy (GTK_WINDOW (window));
  spin (50);
}

static void
screenshot_with_popover (GtkWindow  *window,
                         GtkWidget  *popover,
                         const char *name)
{
  const char *dir = g_getenv ("MAILROOM_SCREENSHOT_DIR");
  g_autoptr(GdkPaintable) paintable = NULL;
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_autofree char *path = NULL;
  GtkSnapshot *snapshot;
  int width, height;

  if (dir == NULL)
    return;

  spin (400);
  width = gtk_widget_get_width (GTK_WIDGET (window));
  height = gtk_widget_get_height (GTK_WIDGET (window));
  paintable = gtk_widget_paintable_new (GTK_WIDGET (window));
  snapshot = gtk_snapshot_new ();
  gdk_paintable_snapshot (paintable, snapshot, width, height);
  /* An open popover is a surface of its own: drawn on top, where it shows. */
  if (popover != NULL && gtk_widget_get_mapped (popover))
    {
      g_autoptr(GdkPaintable) over = gtk_widget_paintable_new (popover);
      graphene_point_t at;

      if (gtk_widget_compute_point (popover, GTK_WIDGET (window), &GRAPHENE_POINT_INIT (0, 0), &at))
        {
          gtk_snapshot_save (snapshot);
          gtk_snapshot_translate (snapshot, &at);
          gdk_paintable_snapshot (over, snapshot, gtk_widget_get_width (popover), gtk_widget_get_height (popover));
          gtk_snapshot_restore (snapshot);
        }
    }
  node = gtk_snapshot_free_to_node (snapshot);
  g_assert_nonnull (node);
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (GTK_NATIVE (window)), node,
                                         &GRAPHENE_RECT_INIT (0, 0, width, height));
  g_mkdir_with_parents (dir, 0755);
  path = g_build_filename (dir, name, NULL);
  g_assert_true (gdk_texture_save_to_png (texture, path));
  g_test_message ("Wrote %s", path);
}

static void
screenshot_window (GtkWindow  *window,
                   const char *name)
{
  screenshot_with_popover (window, NULL, name);
}

static void
screenshot (MrWindow   *window,
            const char *name)
{
  screenshot_window (GTK_WINDOW (window), name);
}

static gboolean
message_under_row_says (GtkWidget  *row,
                        const char *fragment)
{
  GtkWidget *message = gtk_widget_get_next_sibling (row);
  GtkWidget *label;

  if (message == NULL || !gtk_widget_get_visible (message))
    return FALSE;
  label = gtk_widget_get_first_child (gtk_list_box_row_get_child (GTK_LIST_BOX_ROW (message)));
  return GTK_IS_LABEL (label) && strstr (gtk_label_get_text (GTK_LABEL (label)), fragment) != NULL;
}

static char *
lookup_password (MrSecretScope scope,
                 const char   *host,
                 const char   *user)
{
  g_autoptr(MrSecretAccount) account = mr_secret_account_new (scope, host, user, NULL);
  g_autoptr(GError) error = NULL;
  char *password = mr_secrets_lookup_sync (account, NULL, &error);

  g_assert_no_error (error);
  return password;
}

static guint
preset_index (const char *id)
{
  guint n;
  const MrPreset * const *presets = mr_presets_get_all (&n);

  for (guint i = 0; i < n; i++)
    if (g_str_equal (mr_preset_get_id (presets[i]), id))
      return i;
  g_assert_not_reached ();
}


static GtkWidget *
find_widget (GtkWidget  *root,
             gboolean  (*match) (GtkWidget *widget, gconstpointer data),
             gconstpointer data)
{
  if (match (root, data))
    return root;
  for (GtkWidget *c = gtk_widget_get_first_child (root); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_widget (c, match, data);
      if (found != NULL)
        return found;
    }
  return NULL;
}

static gboolean
is_row_with_subtitle_part (GtkWidget     *widget,
                           gconstpointer  part)
{
  return ADW_IS_ACTION_ROW (widget) && adw_action_row_get_subtitle (ADW_ACTION_ROW (widget)) != NULL &&
         strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (widget)), part) != NULL;
}

static gboolean
is_button_with_tooltip (GtkWidget     *widget,
                        gconstpointer  tooltip)
{
  return GTK_IS_BUTTON (widget) && g_strcmp0 (gtk_widget_get_tooltip_text (widget), tooltip) == 0;
}

static gboolean
is_row_titled (GtkWidget     *widget,
               gconstpointer  title)
{
  return ADW_IS_PREFERENCES_ROW (widget) && g_strcmp0 (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (widget)), title) == 0;
}

static gboolean
is_button_with_label (GtkWidget     *widget,
                      gconstpointer  label)
{
  return GTK_IS_BUTTON (widget) && g_strcmp0 (gtk_button_get_label (GTK_BUTTON (widget)), label) == 0;
}

static void
remember_toast (MrSentPage *page,
                AdwToast   *toast,
                AdwToast  **where)
{
  g_clear_object (where);
  *where = g_object_ref (toast);
}

static void
remember_notice (MrSentPage *page,
                 const char *notice,
                 char      **where)
{
  g_free (*where);
  *where = g_strdup (notice);
}

static gboolean
is_set (gpointer data)
{
  return *(char **) data != NULL;
}

static gboolean
is_row_with_title (GtkWidget     *widget,
                   gconstpointer  title)
{
  return ADW_IS_PREFERENCES_ROW (widget) &&
         g_strcmp0 (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (widget)), title) == 0;
}

/* What a file dragged from the file manager and dropped on @widget delivers. */
static void
drop_file (GtkWidget  *widget,
           const char *path)
{
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (widget);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  GSList *files = g_slist_prepend (NULL, file);
  GValue value = G_VALUE_INIT;
  gboolean handled = FALSE;

  g_value_init (&value, GDK_TYPE_FILE_LIST);
  g_value_take_boxed (&value, gdk_file_list_new_from_list (files));
  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr(GObject) controller = g_list_model_get_item (controllers, i);

      if (GTK_IS_DROP_TARGET (controller))
        g_signal_emit_by_name (controller, "drop", &value, 10.0, 10.0, &handled);
    }
  g_value_unset (&value);
  g_slist_free (files);
  g_assert_true (handled);
}

/* The first open window of @type (a dialog), or NULL. */
static gpointer
find_toplevel (GType type)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GObject) window = g_list_model_get_item (toplevels, i);
      if (G_TYPE_CHECK_INSTANCE_TYPE (window, type))
        return window;
    }
  return NULL;
}

static AdwMessageDialog *
find_message_dialog (void)
{
  return find_toplevel (ADW_TYPE_MESSAGE_DIALOG);
}

#if HAVE_WEBKIT
static gboolean
message_dialog_open (gpointer data)
{
  return find_message_dialog () != NULL;
}
#endif

/* ---- Tests ------------------------------------------------------------------------------------ */

static void
test_company_page_fill_and_save (MrTestDirs    *dirs,
                                 gconstpointer  data)
{
  g_autofree char *password = g_strdup_printf ("app-pw-%08x", g_random_int ());
  g_autofree char *saved = NULL;
  g_autofree char *stored = NULL;
  MrWindow *window;
  MrCompanyPage *page;
  GtkWidget *provider, *host, *port, *security, *username, *password_row, *from_name, *from_address, *keyring;

  if (!mr_test_require_keyring ())
    return;

  window = open_window ();
  page = mr_window_get_company_page (window);
  g_assert_nonnull (page);
  g_assert_true (mr_company_page_get_editable (page));
  g_assert_cmpstr (mr_window_get_page_name (window), ==, "company");

  provider = child (page, MR_TYPE_COMPANY_PAGE, "provider_row");
  host = child (page, MR_TYPE_COMPANY_PAGE, "host_row");
  port = child (page, MR_TYPE_COMPANY_PAGE, "port_row");
  security = child (page, MR_TYPE_COMPANY_PAGE, "security_row");
  username = child (page, MR_TYPE_COMPANY_PAGE, "username_row");
  password_row = child (page, MR_TYPE_COMPANY_PAGE, "password_row");
  from_name = child (page, MR_TYPE_COMPANY_PAGE, "from_name_row");
  from_address = child (page, MR_TYPE_COMPANY_PAGE, "from_address_row");
  keyring = child (page, MR_TYPE_COMPANY_PAGE, "keyring_row");

  /* Nothing to save yet. */
  g_assert_false (gtk_widget_is_sensitive (child (window, MR_TYPE_WINDOW, "save_button")));

  /* Picking Gmail fills the server. */
  adw_combo_row_set_selected (ADW_COMBO_ROW (provider), preset_index ("gmail"));
  spin (20);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (host)), ==, "smtp.gmail.com");
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (port)), ==, "587");
  g_assert_cmpuint (adw_combo_row_get_selected (ADW_COMBO_ROW (security)), ==, 1);

  /* Choosing TLS moves Gmail to its TLS port. */
  adw_combo_row_set_selected (ADW_COMBO_ROW (security), 2);
  spin (20);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (port)), ==, "465");

  type_text (username, "office@example.com");
  type_text (password_row, password);
  type_text (from_name, "Example Ltd");
  type_text (from_address, "office@example.com");
  g_assert_true (gtk_widget_is_sensitive (child (window, MR_TYPE_WINDOW, "save_button")));
  screenshot (window, "company.png");

  save_and_wait (window);

  saved = mr_test_read_file (dirs->company_path);
  g_assert_nonnull (saved);
  g_assert_nonnull (strstr (saved, "\"smtp.provider\" : \"gmail\""));
  g_assert_nonnull (strstr (saved, "\"smtp.host\" : \"smtp.gmail.com\""));
  g_assert_nonnull (strstr (saved, "\"smtp.port\" : 465"));
  g_assert_nonnull (strstr (saved, "\"smtp.security\" : \"tls\""));
  g_assert_nonnull (strstr (saved, "\"smtp.username\" : \"office@example.com\""));
  g_assert_nonnull (strstr (saved, "\"sender.from_name\" : \"Example Ltd\""));
  g_assert_null (strstr (saved, password));

  stored = lookup_password (MR_SECRET_SCOPE_COMPANY, "smtp.gmail.com", "office@example.com");
  g_assert_cmpstr (stored, ==, password);
  g_assert_false (mr_test_tree_contains (dirs->root, password));
  g_assert_false (mr_test_tree_contains (g_get_home_dir (), password));

  /* The password row empties and the keyring row says where the password is. */
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (password_row)), ==, "");
  wait_for (subtitle_settled, keyring, "the keyring status");
  g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (keyring)), ==, "Stored in your keyring");
  g_assert_false (gtk_widget_is_sensitive (child (window, MR_TYPE_WINDOW, "save_button")));

  /* Close and reopen: everything is there. */
  close_window (window);
  window = open_window ();
  page = mr_window_get_company_page (window);
  g_assert_cmpuint (adw_combo_row_get_selected (ADW_COMBO_ROW (child (page, MR_TYPE_COMPANY_PAGE, "provider_row"))), ==,
                    preset_index ("gmail"));
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (child (page, MR_TYPE_COMPANY_PAGE, "username_row"))), ==,
                   "office@example.com");
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (child (page, MR_TYPE_COMPANY_PAGE, "port_row"))), ==, "465");
  keyring = child (page, MR_TYPE_COMPANY_PAGE, "keyring_row");
  wait_for (subtitle_settled, keyring, "the keyring status");
  g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (keyring)), ==, "Stored in your keyring");
  close_window (window);
  mr_secrets_clear_sync (mr_secret_account_new (MR_SECRET_SCOPE_COMPANY, "smtp.gmail.com", "office@example.com", NULL), NULL, NULL);
}

static void
test_company_page_validation (MrTestDirs    *dirs,
                              gconstpointer  data)
{
  static const struct { const char *row, *text, *says; } bad[] = {
    { "port_row", "0", "out of range" },
    { "port_row", "70000", "65535" },
    { "port_row", "abc", "not a number" },
    { "host_row", "", "Enter the server" },
    { "host_row", "smtp example.com", "spaces" },
    { "from_address_row", "a@@b", "more than one" },
    { "from_address_row", "\"x\" <>", "angle brackets" },
    { "from_address_row", "no-at-sign", "has no" },
    { "from_name_row", "Eve\r\nBcc: all@example.com", "Line breaks" },
  };
  g_autofree char *before = NULL;
  MrWindow *window;
  MrCompanyPage *page;

  mr_test_write_file (dirs->company_path,
                      "{\"schema_version\": 1, \"settings\": {\"smtp.host\": \"smtp.example.com\", "
                      "\"domains.verified\": [\"example.com\"]}}");
  before = mr_test_read_file (dirs->company_path);

  window = open_window ();
  page = mr_window_get_company_page (window);

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      GtkWidget *row = child (page, MR_TYPE_COMPANY_PAGE, bad[i].row);
      g_autofree char *good = g_strdup (gtk_editable_get_text (GTK_EDITABLE (row)));

      type_text (row, bad[i].text);
      if (!gtk_widget_has_css_class (row, "error"))
        g_error ("%s does not show “%s” as an error", bad[i].row, g_strescape (bad[i].text, NULL));
      if (!message_under_row_says (row, bad[i].says))
        g_error ("No message saying “%s” under %s", bad[i].says, bad[i].row);
      g_assert_false (mr_settings_form_get_valid (mr_company_page_get_form (page)));
      if (i == 1)
        screenshot (window, "company-invalid.png");

      /* Saving now changes nothing on disk. */
      save_and_wait (window);
      mr_assert_file_contents (dirs->company_path, before);

      type_text (row, good);
      g_assert_false (gtk_widget_has_css_class (row, "error"));
    }

  /* A From address outside the verified domains: the admin is offered to add the domain. */
  {
    GtkWidget *from = child (page, MR_TYPE_COMPANY_PAGE, "from_address_row");
    GtkWidget *offer = child (page, MR_TYPE_COMPANY_PAGE, "verify_domain_row");
    GtkWidget *button = child (page, MR_TYPE_COMPANY_PAGE, "verify_domain_button");
    g_autofree char *saved = NULL;

    type_text (from, "bob@example.org");
    g_assert_true (gtk_widget_has_css_class (from, "error"));
    g_assert_true (message_under_row_says (from, "verified"));
    g_assert_true (gtk_widget_get_visible (offer));
    g_assert_cmpstr (gtk_button_get_label (GTK_BUTTON (button)), ==, "Add example.org to Verified Domains");
    /* gtk_widget_activate() would only click after its press animation. */
    g_signal_emit_by_name (button, "clicked");
    spin (20);
    if (gtk_widget_has_css_class (from, "error"))
      g_error ("still an error: %s", mr_settings_form_get_problem (mr_company_page_get_form (page)));
    g_assert_false (gtk_widget_get_visible (offer));
    save_and_wait (window);
    saved = mr_test_read_file (dirs->company_path);
    g_assert_nonnull (strstr (saved, "\"example.org\""));
    g_assert_nonnull (strstr (saved, "\"sender.from_address\" : \"bob@example.org\""));
  }

  /* Revert forgets what was typed. */
  {
    GtkWidget *host = child (page, MR_TYPE_COMPANY_PAGE, "host_row");

    type_text (host, "other.example.com");
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.revert", NULL));
    g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (host)), ==, "smtp.example.com");
  }

  close_window (window);
}

static void
test_relay_and_plaintext (MrTestDirs    *dirs,
                          gconstpointer  data)
{
  MrWindow *window = open_window ();
  MrCompanyPage *page = mr_window_get_company_page (window);
  GtkWidget *provider = child (page, MR_TYPE_COMPANY_PAGE, "provider_row");
  GtkWidget *security = child (page, MR_TYPE_COMPANY_PAGE, "security_row");
  GtkWidget *auth = child (page, MR_TYPE_COMPANY_PAGE, "auth_row");
  GtkWidget *warning = child (page, MR_TYPE_COMPANY_PAGE, "plaintext_warning_row");

  type_text (child (page, MR_TYPE_COMPANY_PAGE, "from_address_row"), "office@example.co.uk");
  adw_combo_row_set_selected (ADW_COMBO_ROW (provider), preset_index ("office365-relay"));
  spin (20);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (child (page, MR_TYPE_COMPANY_PAGE, "host_row"))), ==,
                   "example-co-uk.mail.protection.outlook.com");
  g_assert_false (gtk_widget_is_sensitive (security));
  g_assert_false (gtk_widget_is_sensitive (auth));
  g_assert_true (message_under_row_says (auth, "Office 365 relay"));
  g_assert_false (gtk_widget_get_visible (child (page, MR_TYPE_COMPANY_PAGE, "password_row")));

  /* Other, with a password over an unencrypted connection: a warning row. */
  adw_combo_row_set_selected (ADW_COMBO_ROW (provider), preset_index ("other"));
  spin (20);
  g_assert_true (gtk_widget_is_sensitive (security));
  adw_combo_row_set_selected (ADW_COMBO_ROW (auth), 1);
  adw_combo_row_set_selected (ADW_COMBO_ROW (security), 0);
  spin (20);
  g_assert_true (gtk_widget_get_visible (warning));
  g_assert_nonnull (strstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (warning)), "unencrypted"));
  adw_combo_row_set_selected (ADW_COMBO_ROW (security), 1);
  spin (20);
  g_assert_false (gtk_widget_get_visible (warning));
  close_window (window);
}

/* Amazon SES and Mailgun: a Region row under Provider picks the server; a server typed by hand
 * leaves no region chosen; another provider hides the row. What each provider asks of the DNS. */
static void
test_company_regions (MrTestDirs    *dirs,
                      gconstpointer  data)
{
  MrWindow *window = open_window ();
  MrCompanyPage *page = mr_window_get_company_page (window);
  GtkWidget *provider = child (page, MR_TYPE_COMPANY_PAGE, "provider_row");
  GtkWidget *region = child (page, MR_TYPE_COMPANY_PAGE, "region_row");
  GtkWidget *host = child (page, MR_TYPE_COMPANY_PAGE, "host_row");
  GtkWidget *dns = child (page, MR_TYPE_COMPANY_PAGE, "provider_dns_row");
  GtkWidget *selectors = child (page, MR_TYPE_COMPANY_PAGE, "selectors_row");
  const MrPreset *ses = mr_preset_lookup ("ses");
  const char * const *regions = mr_preset_get_region_ids (ses);
  guint ireland = 0;
  g_autofree char *saved = NULL;

  while (!g_str_equal (regions[ireland], "eu-west-1"))
    ireland++;
  g_assert_false (gtk_widget_get_visible (region));
  adw_combo_row_set_selected (ADW_COMBO_ROW (provider), preset_index ("ses"));
  spin (20);
  g_assert_true (gtk_widget_get_visible (region));
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (host)), ==, "email-smtp.eu-central-1.amazonaws.com");
  g_assert_cmpstr (gtk_string_object_get_string (adw_combo_row_get_selected_item (ADW_COMBO_ROW (region))), ==,
                   "Europe (Frankfurt)");
  /* SES sends with its own return address: DKIM is what the domain needs, nothing to copy for SPF. */
  g_assert_true (gtk_widget_get_visible (dns));
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (dns)), "own return address"));
  g_assert_false (gtk_widget_get_visible (child (page, MR_TYPE_COMPANY_PAGE, "provider_dns_copy")));

  adw_combo_row_set_selected (ADW_COMBO_ROW (region), ireland);
  spin (20);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (host)), ==, "email-smtp.eu-west-1.amazonaws.com");

  /* SES's Easy DKIM selectors, as its console gives the records; one that is no selector is said in a
   * toast and changes nothing. */
  gtk_editable_set_text (GTK_EDITABLE (selectors), "abc123._domainkey.example.com, def456");
  g_signal_emit_by_name (selectors, "apply");
  spin (20);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (selectors)), ==, "abc123, def456");
  gtk_editable_set_text (GTK_EDITABLE (selectors), "not a selector!");
  g_signal_emit_by_name (selectors, "apply");
  spin (20);
  g_assert_true (gtk_widget_has_css_class (selectors, "error"));
  gtk_editable_set_text (GTK_EDITABLE (selectors), "abc123, def456");
  g_signal_emit_by_name (selectors, "apply");
  spin (20);
  g_assert_false (gtk_widget_has_css_class (selectors, "error"));
  screenshot (window, "company-region.png");
  save_and_wait (window);
  saved = mr_test_read_file (dirs->company_path);
  g_assert_nonnull (strstr (saved, "\"smtp.provider\" : \"ses\""));
  g_assert_nonnull (strstr (saved, "\"smtp.host\" : \"email-smtp.eu-west-1.amazonaws.com\""));
  g_assert_nonnull (strstr (saved, "\"abc123\""));
  g_assert_nonnull (strstr (saved, "\"def456\""));

  /* A server of one's own: no region is it. */
  gtk_editable_set_text (GTK_EDITABLE (host), "smtp.relay.example");
  spin (20);
  g_assert_cmpuint (adw_combo_row_get_selected (ADW_COMBO_ROW (region)), ==, GTK_INVALID_LIST_POSITION);

  /* Mailgun's two regions; Fastmail has none, and the SPF term to copy. */
  adw_combo_row_set_selected (ADW_COMBO_ROW (provider), preset_index ("mailgun"));
  spin (20);
  g_assert_cmpuint (g_list_model_get_n_items (adw_combo_row_get_model (ADW_COMBO_ROW (region))), ==, 2);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (host)), ==, "smtp.eu.mailgun.org");
  adw_combo_row_set_selected (ADW_COMBO_ROW (region), 0);
  spin (20);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (host)), ==, "smtp.mailgun.org");
  adw_combo_row_set_selected (ADW_COMBO_ROW (provider), preset_index ("fastmail"));
  spin (20);
  g_assert_false (gtk_widget_get_visible (region));
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (host)), ==, "smtp.fastmail.com");
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (dns)), "include:spf.messagingengine.com"));
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (dns)), "fm1, fm2, fm3"));
  g_assert_true (gtk_widget_get_visible (child (page, MR_TYPE_COMPANY_PAGE, "provider_dns_copy")));
  close_window (window);
}

static void
test_read_only_company (MrTestDirs    *dirs,
                        gconstpointer  data)
{
  g_autofree char *host = NULL;
  g_autofree char *contents = NULL;
  MrWindow *window;
  MrCompanyPage *page;

  if (getuid () == 0)
    {
      g_test_skip ("root writes any file: run as an unprivileged user (make test does)");
      return;
    }

  host = mr_test_unique_host ("read-only");
  contents = g_strdup_printf ("{\"schema_version\": 1, \"settings\": {\"smtp.host\": \"%s\", "
                              "\"smtp.username\": \"office@example.com\"}}", host);
  mr_test_write_file (dirs->company_path, contents);
  g_chmod (dirs->company_path, 0644);
  g_chmod (dirs->etc, 0555);

  window = open_window ();
  page = mr_window_get_company_page (window);
  g_assert_false (mr_company_page_get_editable (page));
  g_assert_true (gtk_widget_get_visible (child (page, MR_TYPE_COMPANY_PAGE, "managed_group")));
  g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (child (page, MR_TYPE_COMPANY_PAGE, "managed_row"))),
                   ==, "Managed by your administrator");
  /* Words, not a file path: the path is behind the tooltip. */
  g_assert_null (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (child (page, MR_TYPE_COMPANY_PAGE, "managed_row"))),
                         dirs->company_path));
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (child (page, MR_TYPE_COMPANY_PAGE, "managed_row"))),
                            "ask them"));
  g_assert_false (gtk_widget_is_sensitive (child (page, MR_TYPE_COMPANY_PAGE, "host_row")));
  g_assert_false (gtk_widget_is_sensitive (child (page, MR_TYPE_COMPANY_PAGE, "add_app_button")));
  g_assert_false (gtk_widget_is_sensitive (child (page, MR_TYPE_COMPANY_PAGE, "add_domain_row")));
  screenshot (window, "company-read-only.png");

  /* Anyone who sends with the company's login keeps its password in their own keyring. */
  if (mr_test_require_keyring ())
    {
      GtkWidget *password_row = child (page, MR_TYPE_COMPANY_PAGE, "password_row");
      g_autofree char *stored = NULL;

      g_assert_true (gtk_widget_is_sensitive (password_row));
      /* The password is the person's own copy, and the row says whose. */
      wait_for (subtitle_settled, child (page, MR_TYPE_COMPANY_PAGE, "keyring_row"), "the keyring status");
      g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (child (page, MR_TYPE_COMPANY_PAGE, "keyring_row"))),
                                "your administrator gave you"));
      type_text (password_row, "read-only-users-copy");
      save_and_wait (window);
      stored = lookup_password (MR_SECRET_SCOPE_COMPANY, host, "office@example.com");
      g_assert_cmpstr (stored, ==, "read-only-users-copy");
    }
  close_window (window);
  g_chmod (dirs->etc, 0755);
}

static void
test_corrupt_company_file (MrTestDirs    *dirs,
                           gconstpointer  data)
{
  const char *truncated = "{\"schema_version\": 1, \"settings\": {\"smtp.ho";
  MrWindow *window;
  GtkWidget *error_page;

  mr_test_write_file (dirs->company_path, truncated);
  window = open_window ();
  g_assert_null (mr_window_get_company_page (window));
  error_page = child (window, MR_TYPE_WINDOW, "error_page");
  g_assert_true (gtk_widget_get_mapped (error_page));
  g_assert_nonnull (strstr (adw_status_page_get_description (ADW_STATUS_PAGE (error_page)), dirs->company_path));
  mr_assert_file_contents (dirs->company_path, truncated);

  /* Fixed on disk, "Try Again" brings the pages back. */
  mr_test_write_file (dirs->company_path, "{\"schema_version\": 1, \"settings\": {}}");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.reload", NULL));
  g_assert_nonnull (mr_window_get_company_page (window));
  close_window (window);
}

static void
test_user_page (MrTestDirs    *dirs,
                gconstpointer  data)
{
  g_autofree char *host = mr_test_unique_host ("gui-user");
  g_autofree char *company = NULL;
  g_autofree char *stored = NULL;
  g_autofree char *saved = NULL;
  MrWindow *window;
  MrUserPage *page;
  GtkWidget *from_name, *username, *password_row;
  struct stat st;

  if (!mr_test_require_keyring ())
    return;

  company = g_strdup_printf ("{\"schema_version\": 1, \"settings\": {\"smtp.host\": \"%s\", "
                             "\"smtp.credentials\": \"per-user\", \"locks\": [\"sender.from_name\"], "
                             "\"domains.verified\": [\"example.com\"]}}", host);
  mr_test_write_file (dirs->company_path, company);

  window = open_window ();
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.show-page", "s", "user"));
  spin (50);
  page = mr_window_get_user_page (window);
  g_assert_cmpstr (mr_window_get_page_name (window), ==, "user");

  /* Locked: insensitive, with the reason under it. */
  from_name = child (page, MR_TYPE_USER_PAGE, "from_name_row");
  g_assert_false (gtk_widget_is_sensitive (from_name));
  g_assert_true (message_under_row_says (from_name, "Locked by your administrator"));

  g_assert_true (gtk_widget_get_visible (child (page, MR_TYPE_USER_PAGE, "login_group")));
  type_text (child (page, MR_TYPE_USER_PAGE, "name_row"), "Ann Example");
  type_text (child (page, MR_TYPE_USER_PAGE, "email_row"), "ann@private.example");
  g_assert_true (gtk_widget_get_visible (child (page, MR_TYPE_USER_PAGE, "email_warning_row")));
  type_text (child (page, MR_TYPE_USER_PAGE, "email_row"), "ann@example.com");
  g_assert_false (gtk_widget_get_visible (child (page, MR_TYPE_USER_PAGE, "email_warning_row")));

  username = child (page, MR_TYPE_USER_PAGE, "username_row");
  password_row = child (page, MR_TYPE_USER_PAGE, "password_row");
  type_text (username, "ann@example.com");
  type_text (password_row, "ann's-own-password");
  screenshot (window, "user.png");
  save_and_wait (window);

  saved = mr_test_read_file (dirs->user_path);
  g_assert_nonnull (strstr (saved, "\"user.name\" : \"Ann Example\""));
  g_assert_nonnull (strstr (saved, "\"smtp.username\" : \"ann@example.com\""));
  g_assert_null (strstr (saved, "ann's-own-password"));
  g_assert_cmpint (g_stat (dirs->user_path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  stored = lookup_password (MR_SECRET_SCOPE_USER, host, "ann@example.com");
  g_assert_cmpstr (stored, ==, "ann's-own-password");
  g_assert_false (mr_test_tree_contains (g_get_home_dir (), "ann's-own-password"));
  close_window (window);
}

static gboolean
mailshots_idle (gpointer data)
{
  return !mr_mailshots_page_get_busy (data);
}

static gboolean
job_accepted_some (gpointer data)
{
  MrMailshotsPage *page = data;
  const MrMailshotStatus *status = mr_mailshots_page_get_status (page);

  return status != NULL && status->accepted >= 5;
}

static gboolean
job_finished (gpointer data)
{
  const MrMailshotStatus *status = mr_mailshots_page_get_status (data);

  return status != NULL && g_str_equal (status->state, "done");
}

/* A whole job: longer than wait_for() allows. */
static void
wait_long_for (Condition   condition,
               gpointer    data,
               const char *what)
{
  wait_at_most (60, condition, data, what);
}

static gboolean
timer_list_hidden (gpointer data)
{
  return !gtk_widget_get_visible (data);
}

static gboolean
timer_list_shown (gpointer data)
{
  return gtk_widget_get_visible (data);
}

/* The systemd timer scheduled mailshots use is shown on the page, and can be removed there. */
static void
test_mailshot_timer_row (MrTestDirs    *dirs,
                         gconstpointer  data)
{
  g_autofree char *units = g_build_filename (g_get_user_config_dir (), "systemd", "user", NULL);
  g_autofree char *timer = g_build_filename (units, "mailroom-mailshots.timer", NULL);
  g_autofree char *fake = g_build_filename (dirs->root, "systemctl", NULL);
  MrMailshotsPage *page;
  MrWindow *window;
  GtkWidget *timer_list;

  mr_test_write_file (fake, "#!/bin/sh\nexit 0\n");
  g_assert_cmpint (g_chmod (fake, 0755), ==, 0);
  g_mkdir_with_parents (units, 0700);
  mr_test_write_file (timer, "[Timer]\n");

  window = open_window ();
  mr_window_show_page (window, "mailshots");
  page = mr_window_get_mailshots_page (window);
  timer_list = child (page, MR_TYPE_MAILSHOTS_PAGE, "timer_list");
  wait_for (timer_list_shown, timer_list, "the timer row");
  g_signal_emit_by_name (child (page, MR_TYPE_MAILSHOTS_PAGE, "remove_timer_button"), "clicked");
  wait_for (timer_list_hidden, timer_list, "the timer row to go");
  g_assert_false (g_file_test (timer, G_FILE_TEST_EXISTS));
  close_window (window);
}


static gboolean
job_created (gpointer data)
{
  return mr_mailshots_page_get_job (data) > 0 && !mr_mailshots_page_get_busy (data);
}

/* "Send via" in the wizard: the template's route to begin with; Exchange (Online, here) brings
 * Office 365's pace, and the job keeps the route chosen. */
/* Picks the mailshot's start in its popover, as a person would: the day in the calendar, the
 * hour and minute, then "Start Then". */
static void
pick_start (MrMailshotsPage *page,
            int              year,
            int              month,
            int              day,
            int              hour,
            int              minute)
{
  g_autoptr(GDateTime) date = g_date_time_new_local (year, month, day, 12, 0, 0);

  gtk_menu_button_popup (GTK_MENU_BUTTON (child (page, MR_TYPE_MAILSHOTS_PAGE, "start_menu_button")));
  spin (50);
  gtk_calendar_select_day (GTK_CALENDAR (child (page, MR_TYPE_MAILSHOTS_PAGE, "start_calendar")), date);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (child (page, MR_TYPE_MAILSHOTS_PAGE, "start_hour_spin")), hour);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (child (page, MR_TYPE_MAILSHOTS_PAGE, "start_minute_spin")), minute);
  g_signal_emit_by_name (child (page, MR_TYPE_MAILSHOTS_PAGE, "start_set_button"), "clicked");
  spin (50);
}

static void
test_mailshot_via (MrTestDirs    *dirs,
                   gconstpointer  data)
{
  g_autofree char *template_path = g_build_filename (dirs->company_templates, "notice.json", NULL);
  g_autofree char *list = g_build_filename (dirs->root, "list.csv", NULL);
  g_autofree char *fake = g_build_filename (dirs->root, "systemctl", NULL);
  g_autoptr(MrMailshotJournal) journal = NULL;
  g_autoptr(MrMailshotStatus) status = NULL;
  g_autoptr(GError) error = NULL;
  AdwComboRow *via;
  MrMailshotsPage *page;
  MrWindow *window;

  g_mkdir_with_parents (dirs->company_templates, 0755);
  mr_test_write_file (template_path, "{\"schema_version\": 1, \"name\": \"Notice\", \"subject\": \"For {{name}}\","
                                     " \"text\": \"Dear {{name}}.\"}");
  mr_test_write_file (dirs->company_path, "{\"schema_version\": 1, \"settings\": {\"smtp.host\": \"127.0.0.1\", "
                                          "\"smtp.port\": 2525, \"smtp.security\": \"none\", \"smtp.auth\": \"none\", "
                                          "\"sender.from_address\": \"office@example.com\", "
                                          "\"exchange.ews_url\": \"https://outlook.office365.com/EWS/Exchange.asmx\"}}");
  mr_test_write_file (list, "email,name\nann@example.org,Ann\nbob@example.org,Bob\n");
  mr_test_write_file (fake, "#!/bin/sh\nexit 0\n");
  g_assert_cmpint (g_chmod (fake, 0755), ==, 0);

  window = open_window ();
  mr_window_show_page (window, "mailshots");
  page = mr_window_get_mailshots_page (window);
  g_signal_emit_by_name (child (page, MR_TYPE_MAILSHOTS_PAGE, "new_button"), "clicked");
  mr_mailshots_page_set_recipients (page, list);
  wait_for (mailshots_idle, page, "the columns");
  via = ADW_COMBO_ROW (child (page, MR_TYPE_MAILSHOTS_PAGE, "via_row"));
  /* The template says "auto", and the company prefers SMTP: its provider's pace (none). */
  g_assert_cmpuint (adw_combo_row_get_selected (via), ==, 2);
  g_assert_cmpint (gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (child (page, MR_TYPE_MAILSHOTS_PAGE, "per_minute_spin"))),
                   ==, 0);
  adw_combo_row_set_selected (via, 1);
  g_assert_cmpint (gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (child (page, MR_TYPE_MAILSHOTS_PAGE, "per_minute_spin"))),
                   ==, 30);
  g_assert_cmpint (gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (child (page, MR_TYPE_MAILSHOTS_PAGE, "per_day_spin"))),
                   ==, 10000);
  pick_start (page, 2099, 1, 4, 8, 0);
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (child (page, MR_TYPE_MAILSHOTS_PAGE, "start_row"))),
                            "08:00"));
  screenshot (window, "mailshot-via.png");

  mr_mailshots_page_next (page);
  wait_for (mailshots_idle, page, "the proof-reader");
  mr_mailshots_page_next (page);
  wait_for (mailshots_idle, page, "the preview");
  mr_mailshots_page_next (page);
  g_assert_cmpstr (mr_mailshots_page_get_step (page), ==, "start");
  g_assert_nonnull (strstr (adw_status_page_get_description (ADW_STATUS_PAGE (child (page, MR_TYPE_MAILSHOTS_PAGE, "start_page"))),
                            "It goes through Exchange."));
  g_signal_emit_by_name (child (page, MR_TYPE_MAILSHOTS_PAGE, "start_button"), "clicked");
  wait_for (job_created, page, "the job");

  journal = mr_mailshot_journal_open (NULL, &error);
  g_assert_no_error (error);
  status = mr_mailshot_get_status (journal, mr_mailshots_page_get_job (page), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (status->route, ==, "exchange");
  g_assert_cmpuint (status->rate, ==, 30);
  g_assert_cmpstr (status->state, ==, "scheduled");
  close_window (window);
}

static const char *wanted_state;

static gboolean
job_in_wanted_state (gpointer data)
{
  const MrMailshotStatus *status = mr_mailshots_page_get_status (data);

  return status != NULL && g_str_equal (status->state, wanted_state) &&
         (!g_str_equal (wanted_state, "running") || status->running);
}

/* Pause, resume and cancel from the job view: the word goes to the journal, the sender obeys it. */
static void
test_mailshot_pause_resume_cancel (MrTestDirs    *dirs,
                                   gconstpointer  data)
{
  g_autoptr(MrTestServer) server = mr_test_server_start ("smtp-server.py", "--mode", "plain", NULL);
  g_autofree char *template_path = g_build_filename (dirs->company_templates, "invite.json", NULL);
  g_autofree char *list = g_build_filename (dirs->root, "list.csv", NULL);
  g_autofree char *company = g_strdup_printf ("{\"schema_version\": 1, \"settings\": {\"smtp.host\": \"127.0.0.1\", "
                                              "\"smtp.port\": %u, \"smtp.security\": \"none\", \"smtp.auth\": \"none\", "
                                              "\"sender.from_address\": \"office@example.com\", "
                                              "\"mailshot.per_minute\": 120}}", server->port);
  g_autoptr(GString) csv = g_string_new ("email,name\n");
  g_autoptr(MrSettings) settings = NULL;
  g_autoptr(MrTemplate) template_ = NULL;
  g_autoptr(MrMailshotJournal) journal = NULL;
  g_autoptr(GError) error = NULL;
  AdwMessageDialog *dialog;
  MrMailshotsPage *page;
  MrWindow *window;
  guint sent;
  gint64 job;

  g_mkdir_with_parents (dirs->company_templates, 0755);
  mr_test_write_file (template_path, "{\"schema_version\": 1, \"name\": \"Invite\", \"subject\": \"Hello {{name}}\", \"text\": \"Hi\"}");
  mr_test_write_file (dirs->company_path, company);
  for (guint i = 0; i < 100; i++)
    g_string_append_printf (csv, "p%u@example.org,P%u\n", i, i);
  mr_test_write_file (list, csv->str);
  settings = mr_settings_new (NULL, NULL);
  g_assert_true (mr_settings_load (settings, NULL));
  template_ = mr_template_load (template_path, &error);
  journal = mr_mailshot_journal_open (NULL, &error);
  job = mr_mailshot_create (journal, settings, template_, list, NULL, NULL, &error);
  g_assert_no_error (error);

  /* The window picks the job up as it opens: two a second. */
  window = open_window ();
  mr_window_show_page (window, "mailshots");
  page = mr_window_get_mailshots_page (window);
  mr_mailshots_page_show_job (page, job);
  wanted_state = "running";
  wait_for (job_in_wanted_state, page, "the job to run");

  g_signal_emit_by_name (child (page, MR_TYPE_MAILSHOTS_PAGE, "pause_button"), "clicked");
  wanted_state = "paused";
  wait_for (job_in_wanted_state, page, "the job to pause");
  spin (1200);
  sent = mr_test_server_count_messages (server);
  spin (1200);
  g_assert_cmpuint (mr_test_server_count_messages (server), ==, sent);   /* nothing while paused */
  g_assert_true (gtk_widget_get_visible (child (page, MR_TYPE_MAILSHOTS_PAGE, "resume_button")));

  g_signal_emit_by_name (child (page, MR_TYPE_MAILSHOTS_PAGE, "resume_button"), "clicked");
  wanted_state = "running";
  wait_for (job_in_wanted_state, page, "the job to go on");

  g_signal_emit_by_name (child (page, MR_TYPE_MAILSHOTS_PAGE, "cancel_button"), "clicked");
  spin (50);
  dialog = find_message_dialog ();
  g_assert_nonnull (dialog);
  adw_message_dialog_response (dialog, "cancel-job");
  gtk_window_destroy (GTK_WINDOW (dialog));
  wanted_state = "cancelled";
  wait_for (job_in_wanted_state, page, "the job to be cancelled");
  g_assert_false (gtk_widget_get_visible (child (page, MR_TYPE_MAILSHOTS_PAGE, "cancel_button")));
  g_assert_cmpuint (mr_test_server_count_messages (server), <, 100);
  close_window (window);
}


/* `make bench` only (MAILROOM_BENCH_STALL_ROWS set): the longest main-loop stall while the window
 * shows a job of that many mails being sent. */
typedef struct {
  gint64 last;
  gint64 longest;
} Stall;

static gboolean
on_stall_tick (gpointer data)
{
  Stall *stall = data;
  gint64 now = g_get_monotonic_time ();

  if (stall->last > 0)
    stall->longest = MAX (stall->longest, now - stall->last);
  stall->last = now;
  return G_SOURCE_CONTINUE;
}

/* Time spent outside poll(): work the main loop did, as opposed to waiting (or being descheduled). */
static GPollFunc default_poll;
static gint64 left_poll, longest_work;

static gint
timed_poll (GPollFD *fds,
            guint    n_fds,
            gint     timeout)
{
  gint result;

  if (left_poll > 0)
    longest_work = MAX (longest_work, g_get_monotonic_time () - left_poll);
  result = default_poll (fds, n_fds, timeout);
  left_poll = g_get_monotonic_time ();
  return result;
}

static void
test_mailshot_stall (MrTestDirs    *dirs,
                     gconstpointer  data)
{
  /* make bench gives the port of its smtp-sink: a server that takes little of the CPU the window shares. */
  const char *sink_port = g_getenv ("MAILROOM_BENCH_SMTP_PORT");
  g_autoptr(MrTestServer) server = sink_port ? NULL : mr_test_server_start ("smtp-server.py", "--mode", "plain", NULL);
  g_autofree char *template_path = g_build_filename (dirs->company_templates, "invite.json", NULL);
  g_autofree char *list = g_build_filename (dirs->root, "list.csv", NULL);
  g_autofree char *company = g_strdup_printf ("{\"schema_version\": 1, \"settings\": {\"smtp.host\": \"127.0.0.1\", "
                                              "\"smtp.port\": %u, \"smtp.security\": \"none\", \"smtp.auth\": \"none\", "
                                              "\"sender.from_address\": \"office@example.com\"}}",
                                              sink_port ? (guint) atoi (sink_port) : server->port);
  guint rows = atoi (g_getenv ("MAILROOM_BENCH_STALL_ROWS"));
  g_autoptr(GString) csv = g_string_new ("email,name,city\n");
  g_autoptr(MrSettings) settings = NULL;
  g_autoptr(MrTemplate) template_ = NULL;
  g_autoptr(MrMailshotJournal) journal = NULL;
  g_autoptr(GError) error = NULL;
  MrMailshotsPage *page;
  MrWindow *window;
  Stall stall = { 0, 0 };
  guint tick;
  gint64 job, started;

  g_mkdir_with_parents (dirs->company_templates, 0755);
  mr_test_write_file (template_path, "{\"schema_version\": 1, \"name\": \"Invite\", \"subject\": \"Hello {{name}}\","
                                     " \"html\": \"<p>Dear {{name}}, see you in {{city}}.</p>\"}");
  mr_test_write_file (dirs->company_path, company);
  for (guint i = 0; i < rows; i++)
    g_string_append_printf (csv, "p%u@example.org,P%u,Bern\n", i, i);
  mr_test_write_file (list, csv->str);
  settings = mr_settings_new (NULL, NULL);
  g_assert_true (mr_settings_load (settings, NULL));
  template_ = mr_template_load (template_path, &error);
  journal = mr_mailshot_journal_open (NULL, &error);
  job = mr_mailshot_create (journal, settings, template_, list, NULL, NULL, &error);
  g_assert_no_error (error);

  /* The window picks the job up when it opens, and shows it while it is sent; at a usual size (the
   * other tests open a tall one, for whole-page screenshots). */
  window = mr_window_new (NULL);
  gtk_window_set_default_size (GTK_WINDOW (window), 1024, 768);
  gtk_window_present (GTK_WINDOW (window));
  spin (300);
  mr_window_show_page (window, "mailshots");
  page = mr_window_get_mailshots_page (window);
  mr_mailshots_page_show_job (page, job);
  started = g_get_monotonic_time ();
  tick = g_timeout_add (5, on_stall_tick, &stall);
  while (mr_mailshots_page_get_n_recipients_shown (page) < rows)
    g_main_context_iteration (NULL, TRUE);
  /* The first frames with the whole list in it are part of opening the job, counted apart. */
  spin (500);
  printf ("STALL opening the job view: its %u rows listed after %.1f s, longest stall %.1f ms\n", rows,
          (g_get_monotonic_time () - started) / 1e6, MAX (stall.longest / 1000.0 - 5, 0));
  stall.longest = 0;
  default_poll = g_main_context_get_poll_func (NULL);
  g_main_context_set_poll_func (NULL, timed_poll);
  while (mr_mailshots_page_get_status (page) == NULL || !g_str_equal (mr_mailshots_page_get_status (page)->state, "done"))
    {
      g_main_context_iteration (NULL, TRUE);
      if (g_get_monotonic_time () - started > 600 * G_USEC_PER_SEC)
        g_error ("The job did not finish");
    }
  g_source_remove (tick);
  g_main_context_set_poll_func (NULL, default_poll);
  printf ("STALL while sending: rows=%u seconds=%.1f longest_stall_ms=%.1f longest_dispatch_ms=%.1f\n", rows,
          (g_get_monotonic_time () - started) / 1e6, MAX (stall.longest / 1000.0 - 5, 0), longest_work / 1000.0);
  close_window (window);
}

/* As a new user would: a list saved from a spreadsheet with a few bad rows, checked, one row left
 * out, a preview, samples to oneself, the job started, the window closed halfway and opened again,
 * and the job finished with a report that accounts for every row. */
#if HAVE_WEBKIT
static int      evaluate_int    (WebKitWebView *view,
                                 const char    *script);
static gboolean web_view_loaded (gpointer       view);
#endif

static guint
count_suggestions (GtkWidget *row)
{
  g_auto(GStrv) offered = mr_address_completion_get_suggestions (ADW_ENTRY_ROW (row));

  return g_strv_length (offered);
}

static gboolean
completion_settled (gpointer row)
{
  return !mr_address_completion_is_busy (ADW_ENTRY_ROW (row));
}

static gboolean
press_key (GtkWidget *row,
           guint      keyval)
{
  GListModel *controllers = gtk_widget_observe_controllers (row);
  gboolean handled = FALSE;
  gboolean found = FALSE;

  for (guint i = 0; i < g_list_model_get_n_items (controllers) && !found; i++)
    {
      g_autoptr(GtkEventController) controller = g_list_model_get_item (controllers, i);

      if (g_strcmp0 (gtk_event_controller_get_name (controller), "address-completion") == 0)
        {
          g_signal_emit_by_name (controller, "key-pressed", keyval, 0, (GdkModifierType) 0, &handled);
          found = TRUE;
        }
    }
  g_object_unref (controllers);
  g_assert_true (found);
  return handled;
}

/* To completes from the sent log as one types: most used first, Down and Enter take one, an
 * address already in the field is not offered again, Escape closes the list. */
static void
test_compose_address_completion (MrTestDirs    *dirs,
                                 gconstpointer  data)
{
  const char *lists[] = { "anna.mueller@example.org", "anna.mueller@example.org bob@example.org",
                          "andreas@example.org", "andreas@example.org", "andreas@example.org" };
  MrWindow *window;
  GtkWidget *to;

  {
    g_autoptr(MrSentLog) log = mr_sent_log_open (NULL, NULL);

    g_assert_nonnull (log);
    for (guint i = 0; i < G_N_ELEMENTS (lists); i++)
      {
        g_auto(GStrv) recipients = g_strsplit (lists[i], " ", -1);
        g_autofree char *message_id = g_strdup_printf ("%u@example.com", i);
        gint64 id = mr_sent_log_add (log, message_id, NULL, NULL, NULL, "office@example.com", "Hello",
                                     (const char * const *) recipients, "headers", NULL, NULL);

        g_assert_true (mr_sent_log_record_attempt (log, id, "smtp", "mx:25", "accepted", "250 ok",
                                                   MR_SENT_STATE_ACCEPTED, 0, NULL));
      }
  }
  window = open_window ();
  mr_window_show_page (window, "compose");
  to = child (mr_window_get_compose_page (window), MR_TYPE_COMPOSE_PAGE, "to_row");
  gtk_widget_grab_focus (to);

  gtk_editable_set_text (GTK_EDITABLE (to), "an");
  wait_for (completion_settled, to, "the addresses starting with “an”");
  {
    g_auto(GStrv) offered = mr_address_completion_get_suggestions (ADW_ENTRY_ROW (to));
    g_autofree char *joined = g_strjoinv (" ", offered);

    g_assert_cmpstr (joined, ==, "andreas@example.org anna.mueller@example.org");
  }
  /* Down to the second, Enter takes it, and the list closes. */
  g_assert_true (press_key (to, GDK_KEY_Down));
  g_assert_true (press_key (to, GDK_KEY_Return));
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (to)), ==, "anna.mueller@example.org, ");
  g_assert_cmpuint (count_suggestions (to), ==, 0);
  g_assert_false (press_key (to, GDK_KEY_Return));   /* Enter is the row's own again */

  /* The next address: Anna is in the field already, and is not offered again. */
  gtk_editable_set_text (GTK_EDITABLE (to), "anna.mueller@example.org, a");
  wait_for (completion_settled, to, "the addresses starting with “a”");
  {
    g_auto(GStrv) offered = mr_address_completion_get_suggestions (ADW_ENTRY_ROW (to));
    g_autofree char *joined = g_strjoinv (" ", offered);

    g_assert_cmpstr (joined, ==, "andreas@example.org");
  }
  g_assert_true (press_key (to, GDK_KEY_Escape));
  g_assert_cmpuint (count_suggestions (to), ==, 0);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (to)), ==, "anna.mueller@example.org, a");

  /* Nothing sent to it before: no list. */
  gtk_editable_set_text (GTK_EDITABLE (to), "zed");
  wait_for (completion_settled, to, "no match");
  g_assert_cmpuint (count_suggestions (to), ==, 0);
  gtk_window_destroy (GTK_WINDOW (window));
}

/* A workbook as Excel users have it, written by openpyxl: the customers on the first sheet (one
 * hidden row, amounts in euros), something else on a second. */
static void
write_workbook (const char *path)
{
  const char *script =
    "import openpyxl, sys\n"
    "book = openpyxl.Workbook()\n"
    "sheet = book.active\n"
    "sheet.title = 'Kunden'\n"
    "sheet.append(['Name', 'Email', 'Betrag'])\n"
    "for i in range(1, 41):\n"
    "    sheet.append([f'Kunde {i}', f'kunde{i}@example.org', None if i == 7 else 1000 + i / 4])\n"
    "    sheet.cell(row=i + 1, column=3).number_format = '#,##0.00 [$€-407]'\n"
    "sheet.row_dimensions[5].hidden = True\n"
    "book.create_sheet('Notizen').append(['Thema', 'Mail'])\n"
    "book['Notizen'].append(['Messe', 'messe@example.org'])\n"
    "book.save(sys.argv[1])\n";
  const char *argv[] = { "/usr/bin/python3", "-c", script, path, NULL };
  g_autoptr(GError) error = NULL;
  int status = 0;

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL, &status, &error));
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
}

static const char *
selected_string (gpointer row)
{
  GtkStringObject *item = adw_combo_row_get_selected_item (ADW_COMBO_ROW (row));

  return item ? gtk_string_object_get_string (item) : NULL;
}

/* A mailshot from a domain whose DNS fails SPF and DMARC: the check says so, with the records to
 * publish, and Start waits for an explicit Send Anyway. */
static void
test_mailshot_deliverability (MrTestDirs    *dirs,
                              gconstpointer  data)
{
  g_autoptr(MrTestServer) server = mr_test_server_start ("smtp-server.py", "--mode", "plain", NULL);
  g_autofree char *template_path = g_build_filename (dirs->company_templates, "news.json", NULL);
  g_autofree char *list = g_build_filename (dirs->root, "list.csv", NULL);
  g_autofree char *company = g_strdup_printf ("{\"schema_version\": 1, \"settings\": {\"smtp.host\": \"127.0.0.1\", "
                                              "\"smtp.port\": %u, \"smtp.security\": \"none\", \"smtp.auth\": \"none\", "
                                              "\"smtp.provider\": \"gmail\", \"smtp.username\": \"news@gmail.com\", "
                                              "\"sender.from_address\": \"news@example.org\"}}", server->port);
  MrMailshotsPage *page;
  MrWindow *window;
  GtkWidget *group, *start, *pace;

  g_mkdir_with_parents (dirs->company_templates, 0755);
  mr_test_write_file (template_path, "{\"schema_version\": 1, \"name\": \"News\", \"subject\": \"News\", \"text\": \"Hello {{name}}\"}");
  mr_test_write_file (list, "email,name\nann@example.net,Ann\nbob@example.net,Bob\n");
  mr_test_write_file (dirs->company_path, company);
  window = open_window ();
  mr_window_show_page (window, "mailshots");
  page = mr_window_get_mailshots_page (window);
  mr_mailshots_page_new_mailshot (page);
  mr_mailshots_page_set_recipients (page, list);
  wait_for (mailshots_idle, page, "the list");
  mr_mailshots_page_next (page);
  wait_for (mailshots_idle, page, "the check");

  /* The check: the From domain's findings, the DMARC record to publish among them. */
  group = child (page, MR_TYPE_MAILSHOTS_PAGE, "deliverability_group");
  g_assert_true (gtk_widget_get_visible (group));
  g_assert_nonnull (find_widget (group, is_row_titled, "DMARC: fails"));
  g_assert_nonnull (find_widget (group, is_row_titled, "SPF: fails"));
  g_assert_nonnull (find_widget (group, is_row_titled, "TXT record at _dmarc.example.org"));
  g_assert_true (gtk_widget_get_visible (child (page, MR_TYPE_MAILSHOTS_PAGE, "send_anyway_list")));
  /* The pace against the provider's daily limit (a personal Gmail account's 500), following the
   * Mails a day field: over it a warning, which does not hold Start back. */
  g_assert_nonnull (find_widget (group, is_row_titled, "Daily limit: passes"));
  gtk_switch_set_active (GTK_SWITCH (child (page, MR_TYPE_MAILSHOTS_PAGE, "send_anyway_switch")), TRUE);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (child (page, MR_TYPE_MAILSHOTS_PAGE, "per_day_spin")), 1000);
  spin (20);
  pace = find_widget (group, is_row_titled, "Daily limit: warning");
  g_assert_nonnull (pace);
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (pace)), "Gmail takes about 500 mails a day"));
  g_assert_null (find_widget (group, is_row_titled, "Daily limit: passes"));
  g_assert_true (gtk_switch_get_active (GTK_SWITCH (child (page, MR_TYPE_MAILSHOTS_PAGE, "send_anyway_switch"))));
  gtk_switch_set_active (GTK_SWITCH (child (page, MR_TYPE_MAILSHOTS_PAGE, "send_anyway_switch")), FALSE);
  screenshot (window, "mailshot-deliverability.png");
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (child (page, MR_TYPE_MAILSHOTS_PAGE, "per_day_spin")), 500);
  spin (20);
  g_assert_nonnull (find_widget (group, is_row_titled, "Daily limit: passes"));

  /* Start waits for Send Anyway, and says why. */
  mr_mailshots_page_next (page);
  wait_for (mailshots_idle, page, "the preview");
  mr_mailshots_page_next (page);
  g_assert_cmpstr (mr_mailshots_page_get_step (page), ==, "start");
  start = child (page, MR_TYPE_MAILSHOTS_PAGE, "start_button");
  g_assert_false (gtk_widget_get_sensitive (start));
  g_assert_nonnull (strstr (adw_status_page_get_description (ADW_STATUS_PAGE (child (page, MR_TYPE_MAILSHOTS_PAGE, "start_page"))),
                            "Send Anyway"));
  gtk_switch_set_active (GTK_SWITCH (child (page, MR_TYPE_MAILSHOTS_PAGE, "send_anyway_switch")), TRUE);
  g_assert_true (gtk_widget_get_sensitive (start));
  g_signal_emit_by_name (start, "clicked");
  wait_long_for (job_finished, page, "the mailshot");
  g_assert_cmpuint (mr_test_server_count_messages (server), ==, 2);
  close_window (window);
}

/* An .xlsx dropped on the mailshots page starts a mailshot from it: the workbook's sheets to
 * choose from, the hidden row left out and said so, amounts as the spreadsheet shows them; the
 * preview steps through the rows (over the hidden one), finds one by its address, marks the
 * field a row leaves empty, sends the shown row to me; then the mailshot goes out. */
static void
test_mailshot_spreadsheet (MrTestDirs    *dirs,
                           gconstpointer  data)
{
  g_autoptr(MrTestServer) server = mr_test_server_start ("smtp-server.py", "--mode", "plain", NULL);
  g_autofree char *company = NULL;
  g_autofree char *template_path = g_build_filename (dirs->company_templates, "invite.json", NULL);
  g_autofree char *workbook = g_build_filename (dirs->root, "Kunden.xlsx", NULL);
  g_autoptr(GFile) file = NULL;
  GValue value = G_VALUE_INIT;
  GtkDropTarget *drop = NULL;
  gboolean dropped = FALSE;
  MrMailshotsPage *page;
  MrWindow *window;
  GtkWidget *sheet_row;

  g_mkdir_with_parents (dirs->company_templates, 0755);
  mr_test_write_file (template_path, "{\"schema_version\": 1, \"name\": \"Rechnung\", \"subject\": \"{{Name}}: {{Betrag}}\","
                                     " \"text\": \"Guten Tag {{Name}}, Ihr Betrag: {{Betrag}}.\","
                                     " \"html\": \"<p>Guten Tag <b>{{Name}}</b>, Ihr Betrag: {{Betrag}}.</p>\"}");
  company = g_strdup_printf ("{\"schema_version\": 1, \"settings\": {\"smtp.host\": \"127.0.0.1\", "
                             "\"smtp.port\": %u, \"smtp.security\": \"none\", \"smtp.auth\": \"none\", "
                             "\"sender.from_address\": \"office@example.com\", \"sender.from_name\": \"Büro\"}}",
                             server->port);
  mr_test_write_file (dirs->company_path, company);
  write_workbook (workbook);

  window = open_window ();
  mr_window_show_page (window, "mailshots");
  page = mr_window_get_mailshots_page (window);
  g_assert_cmpstr (mr_mailshots_page_get_step (page), ==, "jobs");

  /* Dropped from the file manager onto the list of mailshots. */
  for (GListModel *controllers = gtk_widget_observe_controllers (GTK_WIDGET (page)); drop == NULL;)
    {
      for (guint i = 0; i < g_list_model_get_n_items (controllers) && drop == NULL; i++)
        {
          g_autoptr(GObject) controller = g_list_model_get_item (controllers, i);

          if (GTK_IS_DROP_TARGET (controller))
            drop = GTK_DROP_TARGET (controller);
        }
      g_object_unref (controllers);
      g_assert_nonnull (drop);
    }
  file = g_file_new_for_path (workbook);
  g_value_init (&value, GDK_TYPE_FILE_LIST);
  g_value_take_boxed (&value, gdk_file_list_new_from_list (&(GSList) { file, NULL }));
  g_signal_emit_by_name (drop, "drop", &value, 10.0, 10.0, &dropped);
  g_value_unset (&value);
  g_assert_true (dropped);
  g_assert_cmpstr (mr_mailshots_page_get_step (page), ==, "setup");
  wait_for (mailshots_idle, page, "the workbook's columns");

  /* Two sheets: the first is read, the other can be chosen. */
  sheet_row = child (page, MR_TYPE_MAILSHOTS_PAGE, "sheet_row");
  g_assert_true (gtk_widget_get_visible (sheet_row));
  g_assert_cmpstr (selected_string (sheet_row), ==, "Kunden");
  g_assert_cmpstr (selected_string (child (page, MR_TYPE_MAILSHOTS_PAGE, "address_row")), ==, "Email");
  screenshot (window, "mailshot-spreadsheet.png");
  mr_mailshots_page_set_sheet (page, "Notizen");
  wait_for (mailshots_idle, page, "the second sheet's columns");
  g_assert_cmpstr (selected_string (child (page, MR_TYPE_MAILSHOTS_PAGE, "address_row")), ==, "Mail");
  mr_mailshots_page_set_sheet (page, "Kunden");
  wait_for (mailshots_idle, page, "the first sheet again");
  g_assert_cmpstr (selected_string (child (page, MR_TYPE_MAILSHOTS_PAGE, "address_row")), ==, "Email");
  g_assert_true (gtk_widget_get_sensitive (child (page, MR_TYPE_MAILSHOTS_PAGE, "next_button")));

  /* The proof-reader: 39 rows shown, the hidden one said. */
  mr_mailshots_page_next (page);
  wait_for (mailshots_idle, page, "the proof-reader");
  g_assert_cmpstr (mr_mailshots_page_get_step (page), ==, "check");
  g_assert_cmpuint (mr_mailshots_page_get_report (page)->rows, ==, 39);
  g_assert_cmpuint (mr_mailshots_page_get_report (page)->hidden_rows, ==, 1);
  g_assert_nonnull (strstr (gtk_label_get_text (GTK_LABEL (child (page, MR_TYPE_MAILSHOTS_PAGE, "check_summary"))),
                            "1 row the spreadsheet hides is left out"));

  /* The preview of row 2, as a mail program shows it: the amount as Excel shows it. */
  mr_mailshots_page_next (page);
  wait_for (mailshots_idle, page, "the preview");
  {
    MrMessageView *view = mr_mailshots_page_get_preview_view (page);

    g_assert_cmpuint (mr_mailshots_page_get_preview_row (page), ==, 2);
    g_assert_cmpstr (mr_message_view_get_shown (view, "subject"), ==, "Kunde 1: 1,000.25 €");
    g_assert_cmpstr (mr_message_view_get_shown (view, "from"), ==, "Büro <office@example.com>");
    g_assert_cmpstr (mr_message_view_get_shown (view, "to"), ==, "Kunde 1 <kunde1@example.org>");
    g_assert_nonnull (mr_message_view_get_shown (view, "date"));
    g_assert_null (mr_message_view_get_shown (view, "missing"));
    g_assert_cmpstr (mr_message_view_get_body (view), ==, "html");
    g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (child (page, MR_TYPE_MAILSHOTS_PAGE, "preview_position_label"))),
                     ==, "Row 2 · 39 rows");

    /* ▶ and ◀ step over the hidden row 5. */
    g_signal_emit_by_name (child (page, MR_TYPE_MAILSHOTS_PAGE, "preview_next_button"), "clicked");
    wait_for (mailshots_idle, page, "row 3");
    g_assert_cmpuint (mr_mailshots_page_get_preview_row (page), ==, 3);
    mr_mailshots_page_show_preview_row (page, 4);
    wait_for (mailshots_idle, page, "row 4");
    g_signal_emit_by_name (child (page, MR_TYPE_MAILSHOTS_PAGE, "preview_next_button"), "clicked");
    wait_for (mailshots_idle, page, "the row after the hidden one");
    g_assert_cmpuint (mr_mailshots_page_get_preview_row (page), ==, 6);
    g_signal_emit_by_name (child (page, MR_TYPE_MAILSHOTS_PAGE, "preview_previous_button"), "clicked");
    wait_for (mailshots_idle, page, "the row before the hidden one");
    g_assert_cmpuint (mr_mailshots_page_get_preview_row (page), ==, 4);

    /* Row 8 has no amount: the field is named above the mail and marked where the value goes. */
    gtk_editable_set_text (GTK_EDITABLE (child (page, MR_TYPE_MAILSHOTS_PAGE, "preview_search_entry")), "8");
    g_signal_emit_by_name (child (page, MR_TYPE_MAILSHOTS_PAGE, "preview_search_entry"), "activate");
    wait_for (mailshots_idle, page, "row 8");
    g_assert_cmpuint (mr_mailshots_page_get_preview_row (page), ==, 8);
    g_assert_cmpstr (mr_message_view_get_shown (view, "missing"), ==, "Empty in this row, marked below: Betrag");
    g_assert_cmpuint (mr_message_view_count_marks (view), ==, 1);
    g_assert_cmpstr (mr_message_view_get_shown (view, "text"), ==, "Guten Tag Kunde 7, Ihr Betrag: Betrag.");
    g_assert_cmpstr (mr_message_view_get_shown (view, "subject"), ==, "Kunde 7: [Betrag]");
#if HAVE_WEBKIT
    /* The formatted mail marks it too, and keeps its bold name. */
    spin (100);
    wait_for (web_view_loaded, mr_message_view_get_html_view (view), "the formatted preview");
    g_assert_cmpint (evaluate_int (WEBKIT_WEB_VIEW (mr_message_view_get_html_view (view)),
                                   "document.querySelectorAll('mark').length"), ==, 1);
    g_assert_cmpint (evaluate_int (WEBKIT_WEB_VIEW (mr_message_view_get_html_view (view)),
                                   "document.querySelector('b').textContent === 'Kunde 7' ? 1 : 0"), ==, 1);
#endif
    mr_message_view_show_body (view, "text");
    screenshot (window, "mailshot-preview-missing.png");
    mr_message_view_show_body (view, "html");

    /* Row 38 by its address, then the mail shown to me. */
    mr_mailshots_page_find_preview (page, "KUNDE37@");
    wait_for (mailshots_idle, page, "the row of kunde37");
    g_assert_cmpuint (mr_mailshots_page_get_preview_row (page), ==, 38);
    g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (child (page, MR_TYPE_MAILSHOTS_PAGE, "preview_position_label"))),
                     ==, "Row 38 · 39 rows");
    screenshot (window, "mailshot-preview.png");
    gtk_editable_set_text (GTK_EDITABLE (child (page, MR_TYPE_MAILSHOTS_PAGE, "samples_to_row")), "me@example.com");
    g_signal_emit_by_name (child (page, MR_TYPE_MAILSHOTS_PAGE, "sample_row_button"), "clicked");
    wait_for (mailshots_idle, page, "the sample of row 38");
    g_assert_cmpuint (mr_test_server_count_messages (server), ==, 1);
    {
      g_autoptr(JsonNode) sample = mr_test_server_parse_message (server, 1);
      JsonObject *object = json_node_get_object (sample);

      g_assert_cmpstr (json_object_get_string_member (object, "to"), ==, "me@example.com");
      g_assert_nonnull (strstr (json_object_get_string_member (object, "subject"), "Kunde 37: 1,009.25 €"));
    }
  }

  /* Sent: 39 mails, each with its row's values. */
  mr_mailshots_page_next (page);
  g_assert_cmpstr (mr_mailshots_page_get_step (page), ==, "start");
  g_signal_emit_by_name (child (page, MR_TYPE_MAILSHOTS_PAGE, "start_button"), "clicked");
  wait_long_for (job_finished, page, "the mailshot to be sent");
  g_assert_cmpuint (mr_test_server_count_messages (server), ==, 1 + 39);
  {
    g_autoptr(JsonNode) first = mr_test_server_parse_message (server, 2);

    g_assert_cmpstr (json_object_get_string_member (json_node_get_object (first), "subject"), ==, "Kunde 1: 1,000.25 €");
  }
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_mailshot_wizard (MrTestDirs    *dirs,
                      gconstpointer  data)
{
  g_autoptr(MrTestServer) server = mr_test_server_start ("smtp-server.py", "--mode", "plain", NULL);
  g_autofree char *template_path = g_build_filename (dirs->company_templates, "invite.json", NULL);
  g_autofree char *list = g_build_filename (dirs->root, "Kunden.csv", NULL);
  g_autofree char *report_path = g_build_filename (dirs->root, "report.csv", NULL);
  g_autofree char *company = g_strdup_printf ("{\"schema_version\": 1, \"settings\": {\"smtp.host\": \"127.0.0.1\", "
                                              "\"smtp.port\": %u, \"smtp.security\": \"none\", \"smtp.auth\": \"none\", "
                                              "\"sender.from_address\": \"office@example.com\"}}", server->port);
  g_autoptr(GString) csv = g_string_new ("sep=;\r\nName;E-Mail;Stadt\r\n");
  g_autofree char *report = NULL;
  g_auto(GStrv) lines = NULL;
  const MrProofReport *proof;
  const MrMailshotStatus *status;
  MrMailshotsPage *page;
  MrWindow *window;
  GtkWidget *row;
  gint64 job;
  guint rows = 0, samples, before_close, left_out_row = 0;

  g_mkdir_with_parents (dirs->company_templates, 0755);
  mr_test_write_file (template_path, "{\"schema_version\": 1, \"name\": \"Einladung\", \"subject\": \"Einladung für {{Name}}\","
                                     " \"text\": \"Liebe(r) {{Name}}, wir sehen uns in {{Stadt}}.\"}");
  mr_test_write_file (dirs->company_path, company);
  /* Windows-1252, as Excel saves it here: ü is one byte. */
  /* 500 rows, as the issue's user has: 496 good ones, then a mistake of each kind. */
  for (guint i = 0; i < 496; i++)
    g_string_append_printf (csv, "M\xfcller %u;kunde%u@example.org;Z\xfcrich\r\n", i, i);
  g_string_append (csv, "Falsch;kein-at-zeichen;Bern\r\n"      /* 498: not an address */
                        "Leer;;Basel\r\n"                        /* 499: no address */
                        "Doppelt;KUNDE1@example.org;Chur\r\n"    /* 500: repeats row 3 */
                        "Ohne Stadt;ohne@example.org;\r\n");     /* 501: leaves {{Stadt}} empty */
  g_assert_true (g_file_set_contents (list, csv->str, csv->len, NULL));

  window = open_window ();
  mr_window_show_page (window, "mailshots");
  page = mr_window_get_mailshots_page (window);
  g_assert_nonnull (page);
  g_assert_cmpstr (mr_mailshots_page_get_step (page), ==, "jobs");
  screenshot (window, "mailshots-empty.png");

  /* Step 1: the template and the file; the address column is found by its name. */
  g_signal_emit_by_name (child (page, MR_TYPE_MAILSHOTS_PAGE, "new_button"), "clicked");
  g_assert_cmpstr (mr_mailshots_page_get_step (page), ==, "setup");
  /* No file yet: Next is off, and the step says why (no toast over the buttons). */
  g_assert_false (gtk_widget_get_sensitive (child (page, MR_TYPE_MAILSHOTS_PAGE, "next_button")));
  g_assert_cmpstr (mr_mailshots_page_get_next_reason (page), ==,
                   "Choose the recipients: a spreadsheet or a CSV file");
  mr_mailshots_page_next (page);
  g_assert_cmpstr (mr_mailshots_page_get_step (page), ==, "setup");
  screenshot (window, "mailshot-setup-incomplete.png");
  mr_mailshots_page_set_recipients (page, list);
  wait_for (mailshots_idle, page, "the columns");
  g_assert_true (gtk_widget_get_sensitive (child (page, MR_TYPE_MAILSHOTS_PAGE, "next_button")));
  g_assert_null (mr_mailshots_page_get_next_reason (page));
  /* The start is picked, not typed: a day gone by is refused in the picker, which stays open; a
   * later one is shown in words, and the clear button starts at once again. */
  g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (child (page, MR_TYPE_MAILSHOTS_PAGE, "start_row"))),
                   ==, "At once");
  pick_start (page, 2001, 2, 3, 9, 30);
  g_assert_true (gtk_widget_get_visible (child (page, MR_TYPE_MAILSHOTS_PAGE, "start_problem")));
  g_assert_cmpint (mr_mailshots_page_get_start (page), ==, 0);
  screenshot (window, "mailshot-start-picker.png");
  gtk_popover_popdown (GTK_POPOVER (child (page, MR_TYPE_MAILSHOTS_PAGE, "start_popover")));
  pick_start (page, 2099, 1, 4, 8, 5);
  {
    g_autoptr(GDateTime) picked = g_date_time_new_from_unix_local (mr_mailshots_page_get_start (page));

    g_assert_cmpint (g_date_time_get_year (picked), ==, 2099);
    g_assert_cmpint (g_date_time_get_hour (picked), ==, 8);
    g_assert_cmpint (g_date_time_get_minute (picked), ==, 5);
  }
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (child (page, MR_TYPE_MAILSHOTS_PAGE, "start_row"))),
                            "08:05"));
  g_signal_emit_by_name (child (page, MR_TYPE_MAILSHOTS_PAGE, "start_clear_button"), "clicked");
  g_assert_cmpint (mr_mailshots_page_get_start (page), ==, 0);
  g_assert_true (gtk_widget_get_sensitive (child (page, MR_TYPE_MAILSHOTS_PAGE, "next_button")));
  g_assert_cmpstr (gtk_string_object_get_string (adw_combo_row_get_selected_item (
                     ADW_COMBO_ROW (child (page, MR_TYPE_MAILSHOTS_PAGE, "address_row")))), ==, "E-Mail");
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (child (page, MR_TYPE_MAILSHOTS_PAGE, "per_minute_spin")), 3000);
  screenshot (window, "mailshot-setup.png");

  /* Step 2: the proof-reader's report, row by row. */
  g_signal_emit_by_name (child (page, MR_TYPE_MAILSHOTS_PAGE, "next_button"), "clicked");
  wait_for (mailshots_idle, page, "the proof-reader");
  g_assert_cmpstr (mr_mailshots_page_get_step (page), ==, "check");
  proof = mr_mailshots_page_get_report (page);
  g_assert_cmpuint (proof->rows, ==, 500);
  g_assert_cmpuint (proof->rows_with_errors, ==, 2);
  g_assert_cmpuint (proof->sendable, ==, 497);
  g_assert_nonnull (strstr (gtk_label_get_text (GTK_LABEL (child (page, MR_TYPE_MAILSHOTS_PAGE, "check_summary"))),
                            "500 rows: 497 to send, 2 with errors"));
  /* The row that leaves {{Stadt}} empty is left out with its check box. */
  for (row = gtk_widget_get_first_child (child (page, MR_TYPE_MAILSHOTS_PAGE, "problems_list")); row != NULL;
       row = gtk_widget_get_next_sibling (row))
    {
      rows++;
      if (strstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)), "Stadt") != NULL)
        {
          GtkWidget *check = NULL;

          for (GtkWidget *w = gtk_widget_get_first_child (row); w != NULL && check == NULL; w = gtk_widget_get_next_sibling (w))
            for (GtkWidget *box = gtk_widget_get_first_child (w); box != NULL && check == NULL; box = gtk_widget_get_next_sibling (box))
              for (GtkWidget *c = gtk_widget_get_first_child (box); c != NULL; c = gtk_widget_get_next_sibling (c))
                if (GTK_IS_CHECK_BUTTON (c))
                  check = c;
          g_assert_nonnull (check);
          gtk_check_button_set_active (GTK_CHECK_BUTTON (check), TRUE);
          left_out_row = 501;
        }
    }
  g_assert_cmpuint (rows, ==, 4);   /* two errors, the repeat, the empty city */
  g_assert_cmpuint (left_out_row, ==, 501);
  g_assert_cmpuint (mr_mailshots_page_get_report (page)->sendable, ==, 496);
  /* The counts follow at once and add up to the rows; the row says what happens to it. */
  {
    const char *summary = gtk_label_get_text (GTK_LABEL (child (page, MR_TYPE_MAILSHOTS_PAGE, "check_summary")));

    g_test_message ("summary: %s", summary);
    g_assert_nonnull (strstr (summary, "500 rows: 496 to send, 2 with errors, 1 left out, 1 repeated address (sent once)"));
    for (row = gtk_widget_get_first_child (child (page, MR_TYPE_MAILSHOTS_PAGE, "problems_list")); row != NULL;
         row = gtk_widget_get_next_sibling (row))
      {
        const char *fate = adw_action_row_get_subtitle (ADW_ACTION_ROW (row));

        if (strstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)), "Stadt") != NULL)
          g_assert_cmpstr (fate, ==, "Left out, as you chose");
        else if (strstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)), "repeats") != NULL)
          g_assert_cmpstr (fate, ==, "Not sent again: that address gets one mail");
        else
          g_assert_true (g_str_has_prefix (fate, "Not sent: fix it"));
        g_assert_null (strstr (fate, "is sent"));
      }
  }

  /* Row 498 is fixed in the spreadsheet and the list checked again: one error is left, the row
   * left out stays out. */
  {
    char *wrong = strstr (csv->str, "kein-at-zeichen");
    GtkWidget *check_again = adw_preferences_group_get_header_suffix (
      ADW_PREFERENCES_GROUP (child (page, MR_TYPE_MAILSHOTS_PAGE, "check_group")));

    g_string_erase (csv, wrong - csv->str, strlen ("kein-at-zeichen"));
    g_string_insert (csv, wrong - csv->str, "korrigiert@example.org");
    g_assert_true (g_file_set_contents (list, csv->str, csv->len, NULL));
    g_signal_emit_by_name (check_again, "clicked");
    wait_for (mailshots_idle, page, "the second check");
    proof = mr_mailshots_page_get_report (page);
    g_assert_cmpuint (proof->rows_with_errors, ==, 1);
    g_assert_cmpuint (proof->sendable, ==, 497);
    g_assert_cmpuint (proof->left_out, ==, 1);
    /* Left out shows once, on the row's own problem, not as a second row. */
    rows = 0;
    for (row = gtk_widget_get_first_child (child (page, MR_TYPE_MAILSHOTS_PAGE, "problems_list")); row != NULL;
         row = gtk_widget_get_next_sibling (row))
      rows++;
    g_assert_cmpuint (rows, ==, 3);   /* the error left, the repeat, the empty city (left out) */
  }
  screenshot (window, "mailshot-check.png");

  /* Step 3: any row's exact message; samples to oneself. */
  mr_mailshots_page_next (page);
  wait_for (mailshots_idle, page, "the preview");
  g_assert_cmpstr (mr_mailshots_page_get_step (page), ==, "preview");
  g_assert_cmpstr (mr_message_view_get_shown (mr_mailshots_page_get_preview_view (page), "subject"), ==,
                   "Einladung für Müller 0");
  mr_mailshots_page_show_preview_row (page, 12);
  wait_for (mailshots_idle, page, "the preview of row 12");
  g_assert_cmpstr (mr_message_view_get_shown (mr_mailshots_page_get_preview_view (page), "to"), ==,
                   "Müller 10 <kunde10@example.org>");
  gtk_editable_set_text (GTK_EDITABLE (child (page, MR_TYPE_MAILSHOTS_PAGE, "samples_to_row")), "me@example.com");
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (child (page, MR_TYPE_MAILSHOTS_PAGE, "samples_spin")), 2);
  g_signal_emit_by_name (child (page, MR_TYPE_MAILSHOTS_PAGE, "samples_button"), "clicked");
  wait_for (mailshots_idle, page, "the samples");
  samples = mr_test_server_count_messages (server);
  g_assert_cmpuint (samples, ==, 2);
  /* The "Name" column was taken as the name: samples still go to me alone, under my address. */
  {
    g_autoptr(JsonNode) sample = mr_test_server_parse_message (server, 1);
    g_assert_cmpstr (json_object_get_string_member (json_node_get_object (sample), "to"), ==, "me@example.com");
  }
  screenshot (window, "mailshot-preview.png");

  /* Step 4: the estimate, then start. */
  mr_mailshots_page_next (page);
  g_assert_cmpstr (mr_mailshots_page_get_step (page), ==, "start");
  g_assert_nonnull (strstr (adw_status_page_get_description (ADW_STATUS_PAGE (child (page, MR_TYPE_MAILSHOTS_PAGE, "start_page"))),
                            "497 mails"));
  g_assert_nonnull (strstr (adw_status_page_get_description (ADW_STATUS_PAGE (child (page, MR_TYPE_MAILSHOTS_PAGE, "start_page"))),
                            "3 rows of the list are not sent"));
  screenshot (window, "mailshot-start.png");
  g_signal_emit_by_name (child (page, MR_TYPE_MAILSHOTS_PAGE, "start_button"), "clicked");
  wait_long_for (job_accepted_some, page, "the first mails of the job");
  job = mr_mailshots_page_get_job (page);
  g_assert_cmpint (job, >, 0);
  g_assert_cmpstr (mr_mailshots_page_get_step (page), ==, "job");
  screenshot (window, "mailshot-job.png");

  /* Closed halfway: it stops between two mails. */
  close_window (window);
  spin (300);
  before_close = mr_test_server_count_messages (server) - samples;
  g_test_message ("%u mails sent before the window closed", before_close);
  g_assert_cmpuint (before_close, <, 497);

  /* Opened again: the job goes on by itself and finishes. */
  window = open_window ();
  mr_window_show_page (window, "mailshots");
  page = mr_window_get_mailshots_page (window);
  mr_mailshots_page_show_job (page, job);
  wait_long_for (job_finished, page, "the job to finish");
  status = mr_mailshots_page_get_status (page);
  g_assert_cmpuint (status->total, ==, 500);
  g_assert_cmpuint (status->accepted, ==, 497);
  g_assert_cmpuint (status->skipped, ==, 3);
  g_assert_cmpuint (status->pending + status->failed_temporary + status->failed_permanent, ==, 0);
  /* The recipients see their names in To. */
  {
    g_autoptr(JsonNode) first = mr_test_server_parse_message (server, samples + 1);
    g_assert_cmpstr (json_object_get_string_member (json_node_get_object (first), "to"), ==,
                     "Müller 0 <kunde0@example.org>");
  }
  /* Nobody lost; at most the mail in flight at the close twice. */
  g_assert_cmpuint (mr_test_server_count_messages (server) - samples, >=, 497);
  g_assert_cmpuint (mr_test_server_count_messages (server) - samples, <=, 498);
  wait_for (mailshots_idle, page, "the list");
  spin (1200);
  g_assert_cmpuint (mr_mailshots_page_get_n_recipients_shown (page), ==, 500);
  /* Counts that add up, and a summary at the end. */
  g_assert_cmpstr (mr_mailshots_page_get_counts (page), ==,
                   "497 of 497 sent · 3 rows not sent (left out, repeated or with errors)");
  g_assert_true (gtk_widget_get_visible (child (page, MR_TYPE_MAILSHOTS_PAGE, "job_done_group")));
  g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (child (page, MR_TYPE_MAILSHOTS_PAGE, "job_done_row"))),
                   ==, "Finished: 497 of 497 sent");
  screenshot (window, "mailshot-finished.png");
  /* The server's reply in words; its own words behind them. */
  g_assert_cmpstr (mr_mailshots_page_get_cell (page, 0, 3), ==, "Accepted by the server");
  /* Only those not sent: the three rows, each with why. */
  gtk_check_button_set_active (GTK_CHECK_BUTTON (child (page, MR_TYPE_MAILSHOTS_PAGE, "not_sent_check")), TRUE);
  spin (300);
  g_assert_cmpuint (mr_mailshots_page_get_n_recipients_shown (page), ==, 3);
  g_assert_nonnull (strstr (mr_mailshots_page_get_cell (page, 0, 3), "499"));
  screenshot (window, "mailshot-not-sent.png");
  gtk_check_button_set_active (GTK_CHECK_BUTTON (child (page, MR_TYPE_MAILSHOTS_PAGE, "not_sent_check")), FALSE);
  for (gint64 end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
       mr_mailshots_page_get_n_recipients_shown (page) < 500 && g_get_monotonic_time () < end;)
    spin (50);   /* the rows come a few a frame */
  g_assert_cmpuint (mr_mailshots_page_get_n_recipients_shown (page), ==, 500);

  /* Each mail is in the sent log too, linked to its job; Open in Sent shows the job's alone. */
  mr_window_show_page (window, "sent");
  mr_sent_page_refresh (mr_window_get_sent_page (window));
  spin (100);
  g_assert_cmpuint (mr_sent_page_get_n_shown (mr_window_get_sent_page (window)), ==, 497 + 2);   /* and the samples */
  mr_window_show_page (window, "mailshots");
  g_signal_emit_by_name (child (page, MR_TYPE_MAILSHOTS_PAGE, "open_sent_button"), "clicked");
  spin (100);
  g_assert_cmpstr (mr_window_get_page_name (window), ==, "sent");
  g_assert_cmpint (mr_sent_page_get_mailshot (mr_window_get_sent_page (window)), ==, job);
  g_assert_cmpuint (mr_sent_page_get_n_shown (mr_window_get_sent_page (window)), ==, 497);
  g_assert_true (g_str_has_prefix (mr_sent_page_get_subject (mr_window_get_sent_page (window), 0), "Einladung für "));
  screenshot (window, "sent-one-mailshot.png");
  g_signal_emit_by_name (child (mr_window_get_sent_page (window), MR_TYPE_SENT_PAGE, "show_all_button"), "clicked");
  g_assert_cmpuint (mr_sent_page_get_n_shown (mr_window_get_sent_page (window)), ==, 497 + 2);
  mr_window_show_page (window, "mailshots");

  /* The report accounts for every row. */
  mr_mailshots_page_export_report (page, report_path);
  for (gint64 end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
       !g_file_test (report_path, G_FILE_TEST_EXISTS) && g_get_monotonic_time () < end;)
    spin (20);
  report = mr_test_read_file (report_path);
  lines = g_strsplit (report, "\r\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 500 + 2);   /* header, rows, and "" after the last line break */
  g_assert_nonnull (strstr (report, "\r\n501,ohne@example.org,skipped,0,\"Row 501 is left out, as you chose\","));
  g_assert_nonnull (strstr (report, "\r\n499,,skipped,0,"));
  close_window (window);
}

static gboolean
compose_idle (gpointer data)
{
  return !mr_compose_page_get_busy (data);
}

static gboolean
welcome_idle (gpointer data)
{
  return !mr_welcome_page_get_busy (data);
}

/* A first start with nothing set up: the window opens on the welcome, which asks for an email
 * address; at a domain whose MX is Office 365's (the test resolver) it says so and why, and "Use
 * These Settings" writes the company's settings; "Skip for Now" goes on to the Company page. */

/* A page left the window's stack: is the window's focus on a widget that left with it? */
typedef struct {
  GtkWindow *window;
  gboolean   left_behind;
} FocusWatch;

static void
on_page_removed (GListModel *pages,
                 guint       position,
                 guint       removed,
                 guint       added,
                 gpointer    data)
{
  FocusWatch *watch = data;
  GtkWidget *focus = gtk_window_get_focus (watch->window);

  if (removed > 0 && focus != NULL && gtk_widget_get_root (focus) == NULL)
    watch->left_behind = TRUE;
}

static void
test_welcome (MrTestDirs    *dirs,
              gconstpointer  data)
{
  g_autoptr(MrStandin) standin = mr_standin_start ();
  g_autofree char *company = NULL;
  g_autoptr(GtkSelectionModel) pages = NULL;
  FocusWatch watch = { NULL, FALSE };
  MrWelcomePage *welcome;
  MrWindow *window;

  mr_standin_add_dns_record (standin, "MX", "contoso.example.net", "contoso-example-net.mail.protection.outlook.com", 0);
  g_assert_false (g_file_test (dirs->company_path, G_FILE_TEST_EXISTS));
  window = mr_window_new (NULL);
  gtk_window_set_default_size (GTK_WINDOW (window), 1000, 800);
  gtk_window_present (GTK_WINDOW (window));
  spin (300);
  g_assert_cmpstr (mr_window_get_page_name (window), ==, "welcome");
  welcome = mr_window_get_welcome_page (window);
  g_assert_nonnull (welcome);

  /* Find Settings waits for an address, and says so. */
  g_assert_false (gtk_widget_get_sensitive (child (welcome, MR_TYPE_WELCOME_PAGE, "find_button")));
  g_assert_cmpstr (gtk_widget_get_tooltip_text (child (welcome, MR_TYPE_WELCOME_PAGE, "find_button")), ==,
                   "Enter an email address first");
  screenshot (window, "welcome.png");
  type_text (child (welcome, MR_TYPE_WELCOME_PAGE, "address_row"), "admin@contoso.example.net");
  g_assert_true (gtk_widget_get_sensitive (child (welcome, MR_TYPE_WELCOME_PAGE, "find_button")));
  g_signal_emit_by_name (child (welcome, MR_TYPE_WELCOME_PAGE, "find_button"), "clicked");
  wait_for (welcome_idle, welcome, "the search for the settings");
  spin (50);
  if (mr_welcome_page_get_found (welcome) == NULL || strstr (mr_welcome_page_get_found (welcome), "Office 365") == NULL)
    g_error ("Not found: %s", mr_welcome_page_get_found (welcome));
  g_assert_true (gtk_widget_get_visible (child (welcome, MR_TYPE_WELCOME_PAGE, "use_button")));
  screenshot (window, "welcome-found.png");

  /* Use These Settings saves them and asks for the login; the admin may leave that for later. */
  g_signal_emit_by_name (child (welcome, MR_TYPE_WELCOME_PAGE, "use_button"), "clicked");
  spin (100);
  g_assert_cmpstr (mr_welcome_page_get_step (welcome), ==, "login");
  /* The focus is in the password, as after typing one. When the page goes, the focus leaves it:
   * GTK 4.8 left it on the gone page's text, which called into its freed row when the window
   * closed. */
  g_assert_true (gtk_widget_grab_focus (child (welcome, MR_TYPE_WELCOME_PAGE, "password_row")));
  watch.window = GTK_WINDOW (window);
  pages = gtk_stack_get_pages (GTK_STACK (child (window, MR_TYPE_WINDOW, "stack")));
  g_signal_connect (pages, "items-changed", G_CALLBACK (on_page_removed), &watch);
  g_signal_emit_by_name (child (welcome, MR_TYPE_WELCOME_PAGE, "finish_button"), "clicked");
  spin (300);
  g_signal_handlers_disconnect_by_func (pages, on_page_removed, &watch);
  g_assert_false (watch.left_behind);
  g_assert_cmpstr (mr_window_get_page_name (window), ==, "company");
  g_assert_null (mr_window_get_welcome_page (window));
  company = mr_test_read_file (dirs->company_path);
  g_assert_nonnull (strstr (company, "\"smtp.provider\" : \"office365\""));
  g_assert_nonnull (strstr (company, "\"smtp.host\" : \"smtp.office365.com\""));
  g_assert_nonnull (strstr (company, "admin@contoso.example.net"));
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (child (mr_window_get_company_page (window), MR_TYPE_COMPANY_PAGE,
                                                                "host_row"))), ==, "smtp.office365.com");
  screenshot (window, "welcome-done.png");
  close_window (window);
}

static const char *self_path;

/* Runs the test @path again in a process of its own, for a test that needs the environment set
 * before the engine or GLib reads it; @env: NAME, VALUE pairs for that process, NULL-terminated,
 * or NULL. Returns TRUE in the parent, after the child passed; FALSE in the child. */
static gboolean
ran_in_child (const char         *path,
              const char * const *env)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *passed = NULL;

  if (g_strcmp0 (g_getenv ("MAILROOM_TEST_CHILD"), path) == 0)
    return FALSE;
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_subprocess_launcher_setenv (launcher, "MAILROOM_TEST_CHILD", path, TRUE);
  for (guint i = 0; env != NULL && env[i] != NULL; i += 2)
    g_subprocess_launcher_setenv (launcher, env[i], env[i + 1], TRUE);
  process = g_subprocess_launcher_spawn (launcher, &error, self_path, "-p", path, NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &out, NULL, &error);
  g_assert_no_error (error);
  if (!g_subprocess_get_successful (process))
    g_error ("%s failed in its own process:\n%s", path, out);
  passed = g_strdup_printf ("ok 1 %s", path);
  g_assert_nonnull (strstr (out, passed));
  return TRUE;
}

/* The window fits a 1024×600 screen: by default, and every page can be that small without being
 * cut off; each page is kept at 1366×768 and at 1024×600 by make screenshots. */
/* The room for the message: the text part and the formatted editor together. */
static int
compose_body_height (MrComposePage *compose)
{
  GtkWidget *editor = mr_compose_page_get_editor (compose);

  return gtk_widget_get_height (child (compose, MR_TYPE_COMPOSE_PAGE, "text_view")) +
         (editor != NULL ? gtk_widget_get_height (editor) : 0);
}

static int expected_width, expected_height;

static gboolean
window_has_expected_width (gpointer window)
{
  return ABS (gtk_widget_get_width (GTK_WIDGET (window)) - expected_width) <= 24;
}

/* Width and height, less the frame's shadow: a loaded X server takes its time to resize. */
static gboolean
window_has_expected_size (gpointer window)
{
  return window_has_expected_width (window) && ABS (gtk_widget_get_height (GTK_WIDGET (window)) - expected_height) <= 24;
}

static void
resize_and_wait (GtkWindow *window,
                 int        width,
                 int        height)
{
  expected_width = width;
  expected_height = height;
  gtk_window_set_default_size (window, width, height);
  wait_for (window_has_expected_size, window, "the window to take its size");
  spin (50);
}

static void
test_sizes (MrTestDirs    *dirs,
            gconstpointer  data)
{
  static const struct { int width, height; } sizes[] = { { 1366, 768 }, { 1024, 600 } };
  static const char * const pages[] = { "company", "user", "compose", "mailshots", "sent" };
  int body_height[G_N_ELEMENTS (sizes)] = { 0 };
  MrWindow *window;
  int minimum_width, minimum_height, default_width, default_height;

  mr_test_write_file (dirs->company_path, "{\"schema_version\": 1, \"settings\": {\"smtp.provider\": \"office365\", "
                      "\"smtp.host\": \"smtp.office365.com\", \"smtp.username\": \"office@example.com\", "
                      "\"sender.from_address\": \"office@example.com\", \"sender.from_name\": \"Example Office\"}}");
  /* The size a first start gets: the remembered one is what earlier tests left. */
  {
    g_autoptr(GSettings) state = g_settings_new (MAILROOM_APP_ID);

    g_settings_reset (state, "window-width");
    g_settings_reset (state, "window-height");
    g_settings_reset (state, "window-maximized");
  }
  window = mr_window_new (NULL);
  gtk_window_get_default_size (GTK_WINDOW (window), &default_width, &default_height);
  g_test_message ("default size %d×%d", default_width, default_height);
  g_assert_cmpint (default_width, <=, 1024);
  g_assert_cmpint (default_height, <=, 600);
  gtk_window_present (GTK_WINDOW (window));
  spin (300);

  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
    {
      gtk_window_set_default_size (GTK_WINDOW (window), sizes[s].width, sizes[s].height);
      for (guint p = 0; p < G_N_ELEMENTS (pages); p++)
        {
          g_autofree char *name = g_strdup_printf ("size-%dx%d-%s.png", sizes[s].width, sizes[s].height, pages[p]);

          mr_window_show_page (window, pages[p]);
          spin (200);
          /* A loaded X server takes its time to resize. */
          expected_width = sizes[s].width;
          wait_for (window_has_expected_width, window, "the window to take its size");
          /* Nothing on the page asks for more room than the screen has. */
          gtk_widget_measure (GTK_WIDGET (window), GTK_ORIENTATION_HORIZONTAL, -1, &minimum_width, NULL, NULL, NULL);
          gtk_widget_measure (GTK_WIDGET (window), GTK_ORIENTATION_VERTICAL, sizes[s].width, &minimum_height, NULL,
                              NULL, NULL);
          g_test_message ("%s: at least %d×%d", pages[p], minimum_width, minimum_height);
          g_assert_cmpint (minimum_width, <=, 1024);
          g_assert_cmpint (minimum_height, <=, 600);
          /* The window is that size, less the frame's shadow. */
          g_assert_cmpint (ABS (gtk_widget_get_width (GTK_WIDGET (window)) - sizes[s].width), <=, 24);
          if (g_str_equal (pages[p], "compose"))
            body_height[s] = compose_body_height (mr_window_get_compose_page (window));
          screenshot (window, name);
        }
    }
  /* The body grows with the window: once the fields fit, the text and the formatted message take
   * the rest of the height (600 more pixels of window, at least 400 more of body). */
  mr_window_show_page (window, "compose");
  resize_and_wait (GTK_WINDOW (window), 1366, 1400);
  {
    int at_1400 = compose_body_height (mr_window_get_compose_page (window));

    screenshot (window, "size-1366x1400-compose.png");
    resize_and_wait (GTK_WINDOW (window), 1366, 2000);
    g_test_message ("body: %d px at 1366×2000, %d px at 1366×1400, %d px at 1366×768, %d px at 1024×600",
                    compose_body_height (mr_window_get_compose_page (window)), at_1400, body_height[0], body_height[1]);
    g_assert_cmpint (compose_body_height (mr_window_get_compose_page (window)), >, at_1400 + 400);
    resize_and_wait (GTK_WINDOW (window), 1366, 1400);
  }
  /* Compose shows who the mail will be from, before it goes. */
  g_assert_cmpstr (mr_compose_page_get_from (mr_window_get_compose_page (window)), ==,
                   "Example Office <office@example.com>");
  /* The wizard's first step, where the most controls are side by side. */
  mr_window_show_page (window, "mailshots");
  mr_mailshots_page_new_mailshot (mr_window_get_mailshots_page (window));
  spin (200);
  screenshot (window, "size-1024x600-mailshot-setup.png");
  close_window (window);
}

static gboolean
all_pages_built (gpointer data)
{
  return mr_window_count_built_pages (data) == 5;
}

/* Start-up: the first frame needs only the page it shows; the others (and with them the sent log,
 * the journal and the templates) come once it is up. */
static void
test_startup_builds_one_page (MrTestDirs    *dirs,
                              gconstpointer  data)
{
  g_autofree char *log = mr_sent_log_get_default_path ();
  MrWindow *window;

  mr_test_write_file (dirs->company_path, "{\"schema_version\": 1, \"settings\": {\"smtp.host\": \"smtp.example.com\", "
                      "\"sender.from_address\": \"office@example.com\"}}");
  window = mr_window_new (NULL);
  g_assert_cmpuint (mr_window_count_built_pages (window), ==, 1);
  g_assert_false (g_file_test (log, G_FILE_TEST_EXISTS));   /* not opened yet */
  gtk_window_present (GTK_WINDOW (window));
  wait_for (all_pages_built, window, "the other pages");
  close_window (window);
}

/* Nothing set up: Send is off, the reason stands beside it in words (never a key name), and the
 * button beside it opens the page that fixes it. With a From address but no server, it says that. */
static void
test_compose_nothing_set_up (MrTestDirs    *dirs,
                             gconstpointer  data)
{
  MrWindow *window = open_window ();
  MrComposePage *compose = mr_window_get_compose_page (window);
  GtkWidget *send = child (compose, MR_TYPE_COMPOSE_PAGE, "send_button");
  GtkWidget *fix = child (compose, MR_TYPE_COMPOSE_PAGE, "fix_button");

  mr_window_show_page (window, "compose");
  spin (100);
  g_assert_false (gtk_widget_get_sensitive (send));
  g_assert_nonnull (strstr (mr_compose_page_get_status (compose), "No From address yet"));
  g_assert_cmpstr (mr_compose_page_get_from (compose), ==, "Not set yet");
  g_assert_null (strstr (mr_compose_page_get_status (compose), "sender."));
  g_assert_cmpstr (gtk_widget_get_tooltip_text (send), ==, mr_compose_page_get_status (compose));
  g_assert_true (gtk_widget_get_visible (fix));
  g_assert_cmpstr (gtk_button_get_label (GTK_BUTTON (fix)), ==, "Open _Company Settings");
  screenshot (window, "compose-nothing-set-up.png");
  g_signal_emit_by_name (fix, "clicked");
  spin (100);
  g_assert_cmpstr (mr_window_get_page_name (window), ==, "company");

  /* Empty states: a sentence and the button that starts, and a search that finds nothing says so. */
  {
    MrSentPage *sent = mr_window_get_sent_page (window);
    MrMailshotsPage *mailshots = mr_window_get_mailshots_page (window);
    GtkWidget *empty = child (sent, MR_TYPE_SENT_PAGE, "empty_page");

    mr_window_show_page (window, "sent");
    spin (50);
    g_assert_cmpstr (adw_status_page_get_title (ADW_STATUS_PAGE (empty)), ==, "No Mail Sent Yet");
    g_assert_true (gtk_widget_get_visible (child (sent, MR_TYPE_SENT_PAGE, "empty_new_button")));
    screenshot (window, "sent-empty.png");
    gtk_editable_set_text (GTK_EDITABLE (child (sent, MR_TYPE_SENT_PAGE, "search_entry")), "nothing like this");
    spin (400);
    g_assert_cmpstr (adw_status_page_get_title (ADW_STATUS_PAGE (empty)), ==, "No Matching Mail");
    g_assert_false (gtk_widget_get_visible (child (sent, MR_TYPE_SENT_PAGE, "empty_new_button")));
    mr_window_show_page (window, "mailshots");
    spin (50);
    g_assert_true (gtk_widget_get_visible (child (mailshots, MR_TYPE_MAILSHOTS_PAGE, "no_jobs_label")));
    g_assert_false (gtk_widget_get_visible (child (mailshots, MR_TYPE_MAILSHOTS_PAGE, "new_button")));
    screenshot (window, "mailshots-empty.png");
  }
  close_window (window);

  /* A From address, no server. */
  mr_test_write_file (dirs->company_path, "{\"schema_version\": 1, \"settings\": {\"sender.from_address\": "
                                          "\"office@example.com\"}}");
  window = open_window ();
  compose = mr_window_get_compose_page (window);
  mr_window_show_page (window, "compose");
  spin (100);
  g_assert_false (gtk_widget_get_sensitive (child (compose, MR_TYPE_COMPOSE_PAGE, "send_button")));
  g_assert_cmpstr (mr_compose_page_get_status (compose), ==, "No mail server is set up yet.");
  close_window (window);
}

/* A company without Exchange: its group says it is not used and the fallback to it is off, with
 * the reason; an EWS address makes it a route. */
static void
test_company_exchange_not_used (MrTestDirs    *dirs,
                                gconstpointer  data)
{
  MrWindow *window;
  MrCompanyPage *page;
  GtkWidget *group, *fallback;

  mr_test_write_file (dirs->company_path, "{\"schema_version\": 1, \"settings\": {\"smtp.provider\": \"gmail\", "
                                          "\"smtp.host\": \"smtp.gmail.com\", \"sender.from_address\": \"office@example.com\"}}");
  window = open_window ();
  page = mr_window_get_company_page (window);
  group = child (page, MR_TYPE_COMPANY_PAGE, "exchange_group");
  fallback = child (page, MR_TYPE_COMPANY_PAGE, "exchange_fallback_row");
  g_assert_true (g_str_has_prefix (adw_preferences_group_get_description (ADW_PREFERENCES_GROUP (group)), "Not used"));
  g_assert_false (gtk_widget_get_sensitive (fallback));
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (fallback)), "until Exchange is set up"));
  type_text (child (page, MR_TYPE_COMPANY_PAGE, "exchange_url_row"), "https://mail.example.com/EWS/Exchange.asmx");
  spin (50);
  g_assert_false (g_str_has_prefix (adw_preferences_group_get_description (ADW_PREFERENCES_GROUP (group)), "Not used"));
  g_assert_true (gtk_widget_get_sensitive (fallback));
  close_window (window);
}

/* The action a key combination of the window triggers, as its shortcut controllers hold it. */
static char *
action_for_trigger (GtkWidget  *widget,
                    const char *accelerator)
{
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (widget);
  g_autoptr(GtkShortcutTrigger) wanted = gtk_shortcut_trigger_parse_string (accelerator);

  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr(GObject) controller = g_list_model_get_item (controllers, i);

      if (!GTK_IS_SHORTCUT_CONTROLLER (controller))
        continue;
      for (guint k = 0; k < g_list_model_get_n_items (G_LIST_MODEL (controller)); k++)
        {
          g_autoptr(GtkShortcut) shortcut = g_list_model_get_item (G_LIST_MODEL (controller), k);
          GtkShortcutAction *action = gtk_shortcut_get_action (shortcut);
          GVariant *arguments = gtk_shortcut_get_arguments (shortcut);

          if (!gtk_shortcut_trigger_equal (gtk_shortcut_get_trigger (shortcut), wanted) || !GTK_IS_NAMED_ACTION (action))
            continue;
          return arguments ? g_strdup_printf ("%s %s", gtk_named_action_get_action_name (GTK_NAMED_ACTION (action)),
                                              g_variant_get_string (arguments, NULL))
                           : g_strdup (gtk_named_action_get_action_name (GTK_NAMED_ACTION (action)));
        }
    }
  return NULL;
}

/* The keyboard shortcuts the shortcuts window lists, bound on the window, and what they do. */
static void
test_shortcuts (MrTestDirs    *dirs,
                gconstpointer  data)
{
  static const struct { const char *accelerator; const char *action; } bound[] = {
    { "<Alt>3", "win.show-page compose" }, { "<Alt>4", "win.show-page mailshots" }, { "<Alt>5", "win.show-page sent" },
    { "<Control>n", "win.new-mail" }, { "<Control>Return", "win.send" }, { "<Control><Shift>m", "win.new-mailshot" },
    { "<Control>f", "win.find" }, { "F1", "win.help" },
  };
  MrWindow *window = open_window ();
  GtkWidget *focus;

  for (guint i = 0; i < G_N_ELEMENTS (bound); i++)
    {
      g_autofree char *action = action_for_trigger (GTK_WIDGET (window), bound[i].accelerator);

      if (g_strcmp0 (action, bound[i].action) != 0)
        g_error ("%s does %s, not %s", bound[i].accelerator, action, bound[i].action);
    }

  gtk_widget_activate_action (GTK_WIDGET (window), "win.new-mail", NULL);
  spin (50);
  g_assert_cmpstr (mr_window_get_page_name (window), ==, "compose");
  focus = gtk_root_get_focus (GTK_ROOT (window));
  g_assert_true (focus != NULL && gtk_widget_is_ancestor (focus, child (mr_window_get_compose_page (window),
                                                                        MR_TYPE_COMPOSE_PAGE, "to_row")));
  gtk_widget_activate_action (GTK_WIDGET (window), "win.find", NULL);
  spin (50);
  g_assert_cmpstr (mr_window_get_page_name (window), ==, "sent");
  focus = gtk_root_get_focus (GTK_ROOT (window));
  g_assert_true (focus != NULL && (focus == child (mr_window_get_sent_page (window), MR_TYPE_SENT_PAGE, "search_entry") ||
                                   gtk_widget_is_ancestor (focus, child (mr_window_get_sent_page (window), MR_TYPE_SENT_PAGE,
                                                                         "search_entry"))));
  close_window (window);
}

/* A clerk whose company is set up with a login for each person: the window opens on their own
 * settings, where the login and password go, and says why. */
static void
test_first_start_own_login (MrTestDirs    *dirs,
                            gconstpointer  data)
{
  MrWindow *window;

  mr_test_write_file (dirs->company_path, "{\"schema_version\": 1, \"settings\": {\"smtp.provider\": \"office365\", "
                                          "\"smtp.host\": \"smtp.office365.com\", \"smtp.credentials\": \"per-user\", "
                                          "\"sender.from_address\": \"office@example.com\"}}");
  window = mr_window_new (NULL);
  gtk_window_present (GTK_WINDOW (window));
  spin (300);
  g_assert_null (mr_window_get_welcome_page (window));
  g_assert_cmpstr (mr_window_get_page_name (window), ==, "user");
  screenshot (window, "first-start-own-login.png");
  close_window (window);
}

/* The text behind a Sent details dialog's "Technical details". */
static const char *
technical_details (AdwMessageDialog *dialog)
{
  GtkWidget *expander = adw_message_dialog_get_extra_child (dialog);

  g_assert_true (GTK_IS_EXPANDER (expander));
  return gtk_label_get_text (GTK_LABEL (gtk_expander_get_child (GTK_EXPANDER (expander))));
}

static void
test_compose_and_sent (MrTestDirs    *dirs,
                       gconstpointer  data)
{
  g_autoptr(MrTestServer) server = mr_test_server_start ("smtp-server.py", "--mode", "plain", "--rcpt-perm", "refused",
                                                         NULL);
  g_autofree char *pdf = g_build_filename (dirs->company_templates, "Preisliste.pdf", NULL);
  g_autofree char *template_path = g_build_filename (dirs->company_templates, "invoice.json", NULL);
  g_autofree char *company = g_strdup_printf ("{\"schema_version\": 1, \"settings\": {\"smtp.host\": \"127.0.0.1\", "
                                              "\"smtp.port\": %u, \"smtp.security\": \"none\", \"smtp.auth\": \"none\", "
                                              "\"sender.from_address\": \"office@example.com\"}}", server->port);
  g_autoptr(JsonNode) report = NULL;
  g_autoptr(JsonNode) again = NULL;
  g_autofree char *notice = NULL;
  AdwMessageDialog *dialog;
  MrWindow *window;
  MrComposePage *compose;
  MrSentPage *sent;

  g_mkdir_with_parents (dirs->company_templates, 0755);
  mr_test_write_file (pdf, "%PDF-1.4 prices");
  mr_test_write_file (template_path, "{\"schema_version\": 1, \"name\": \"Invoice\", \"subject\": \"Invoice {{number}}\","
                                     " \"html\": \"<p>Dear {{name}}, invoice {{number}} is attached.</p>\","
                                     " \"attachments\": [{\"path\": \"Preisliste.pdf\"}]}");
  mr_test_write_file (dirs->company_path, company);

  window = open_window ();
  compose = mr_window_get_compose_page (window);
  sent = mr_window_get_sent_page (window);
  g_assert_nonnull (compose);
  mr_window_show_page (window, "compose");

  /* A template: its variables appear, to be filled in. */
  g_assert_true (mr_compose_page_select_template (compose, "Invoice"));
  spin (50);
  mr_compose_page_set_variable (compose, "name", "Ann");
  mr_compose_page_set_variable (compose, "number", "7");
  type_text (child (compose, MR_TYPE_COMPOSE_PAGE, "to_row"), "ann@example.org, not an address");
  g_assert_true (gtk_widget_has_css_class (child (compose, MR_TYPE_COMPOSE_PAGE, "to_row"), "error"));
  type_text (child (compose, MR_TYPE_COMPOSE_PAGE, "to_row"), "ann@example.org");
  g_assert_false (gtk_widget_has_css_class (child (compose, MR_TYPE_COMPOSE_PAGE, "to_row"), "error"));
  screenshot (window, "compose.png");

  g_signal_emit_by_name (child (compose, MR_TYPE_COMPOSE_PAGE, "send_button"), "clicked");
  g_assert_true (mr_compose_page_get_busy (compose));
  wait_for (compose_idle, compose, "the send");
  spin (100);
  if (strstr (mr_compose_page_get_status (compose), "Accepted") == NULL)
    g_error ("Not accepted: %s", mr_compose_page_get_status (compose));
  g_assert_cmpuint (mr_test_server_count_messages (server), ==, 1);
  report = mr_test_server_parse_message (server, 1);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (report), "subject"), ==, "Invoice 7");
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (report), "structure"), ==,
                   "multipart/mixed[multipart/alternative[text/plain,text/html],application/pdf]");

  /* The Sent page shows what went, and finds it by recipient. */
  mr_window_show_page (window, "sent");
  spin (100);
  g_assert_cmpuint (mr_sent_page_get_n_shown (sent), ==, 1);
  g_assert_cmpstr (mr_sent_page_get_subject (sent, 0), ==, "Invoice 7");
  gtk_editable_set_text (GTK_EDITABLE (child (sent, MR_TYPE_SENT_PAGE, "search_entry")), "nobody@");
  spin (400);
  g_assert_cmpuint (mr_sent_page_get_n_shown (sent), ==, 0);
  gtk_editable_set_text (GTK_EDITABLE (child (sent, MR_TYPE_SENT_PAGE, "search_entry")), "ann@example");
  spin (400);
  g_assert_cmpuint (mr_sent_page_get_n_shown (sent), ==, 1);
  screenshot (window, "sent.png");

  /* Sent again: a new mail to the same people, and a second entry. */
  g_signal_connect (sent, "notice", G_CALLBACK (remember_notice), &notice);
  g_signal_emit_by_name (find_widget (GTK_WIDGET (sent), is_button_with_label, "Send _Again"), "clicked");
  wait_for (is_set, &notice, "the mail sent again");
  g_assert_cmpstr (notice, ==, "Sent again: accepted by the server");
  g_assert_cmpuint (mr_test_server_count_messages (server), ==, 2);
  again = mr_test_server_parse_message (server, 2);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (again), "subject"), ==, "Invoice 7");
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (again), "message_id"), !=,
                   json_object_get_string_member (json_node_get_object (report), "message_id"));
  spin (100);
  g_assert_cmpuint (mr_sent_page_get_n_shown (sent), ==, 2);

  /* What was sent, exactly: every envelope recipient and what the server said. */
  g_signal_emit_by_name (child (sent, MR_TYPE_SENT_PAGE, "list"), "row-activated",
                         gtk_list_box_get_row_at_index (GTK_LIST_BOX (child (sent, MR_TYPE_SENT_PAGE, "list")), 1));
  spin (50);
  dialog = find_message_dialog ();
  g_assert_nonnull (dialog);
  g_assert_cmpstr (adw_message_dialog_get_heading (dialog), ==, "Invoice 7");
  g_assert_nonnull (strstr (adw_message_dialog_get_body (dialog), "ann@example.org"));
  /* Words first ("Accepted by 127.0.0.1 on 6 December 2026 at 14:02"); the protocol behind
   * "Technical details". */
  if (!g_str_has_prefix (adw_message_dialog_get_body (dialog), "Accepted by "))
    g_error ("The details say: %s", adw_message_dialog_get_body (dialog));
  g_assert_null (strstr (adw_message_dialog_get_body (dialog), "Message-ID"));
  g_assert_null (strstr (adw_message_dialog_get_body (dialog), "250"));
  g_assert_nonnull (strstr (technical_details (dialog), "accepted through smtp"));
  g_assert_nonnull (strstr (technical_details (dialog), "250"));
  g_assert_nonnull (strstr (technical_details (dialog), "Message-ID: "));
  g_test_message ("details: %s", adw_message_dialog_get_body (dialog));
  g_assert_true (adw_message_dialog_has_response (dialog, "open"));
  screenshot_window (GTK_WINDOW (dialog), "sent-details.png");
  gtk_window_destroy (GTK_WINDOW (dialog));
  spin (50);

  /* Exchange is not set up: it says so, and nothing pretends to send. */
  mr_window_show_page (window, "compose");
  type_text (child (compose, MR_TYPE_COMPOSE_PAGE, "to_row"), "bob@example.org");
  adw_combo_row_set_selected (ADW_COMBO_ROW (child (compose, MR_TYPE_COMPOSE_PAGE, "via_row")), 1);
  g_signal_emit_by_name (child (compose, MR_TYPE_COMPOSE_PAGE, "send_button"), "clicked");
  wait_for (compose_idle, compose, "the Exchange attempt");
  spin (50);
  g_assert_nonnull (strstr (mr_compose_page_get_status (compose), "Exchange is not set up"));
  g_assert_cmpuint (mr_test_server_count_messages (server), ==, 2);

  /* One recipient refused for good, the other taken: compose says who, and the Sent page shows the
   * mail as partly accepted, with each recipient's outcome in its details. */
  adw_combo_row_set_selected (ADW_COMBO_ROW (child (compose, MR_TYPE_COMPOSE_PAGE, "via_row")), 0);
  type_text (child (compose, MR_TYPE_COMPOSE_PAGE, "to_row"), "bob@example.org, refused@example.org");
  g_signal_emit_by_name (child (compose, MR_TYPE_COMPOSE_PAGE, "send_button"), "clicked");
  wait_for (compose_idle, compose, "the partly refused send");
  spin (50);
  if (strstr (mr_compose_page_get_status (compose), "Accepted for some recipients only") == NULL ||
      strstr (mr_compose_page_get_status (compose), "Refused: refused@example.org") == NULL)
    g_error ("Not said: %s", mr_compose_page_get_status (compose));
  mr_window_show_page (window, "sent");
  gtk_editable_set_text (GTK_EDITABLE (child (sent, MR_TYPE_SENT_PAGE, "search_entry")), "refused@");
  spin (400);
  g_assert_cmpuint (mr_sent_page_get_n_shown (sent), ==, 1);
  g_signal_emit_by_name (child (sent, MR_TYPE_SENT_PAGE, "list"), "row-activated",
                         gtk_list_box_get_row_at_index (GTK_LIST_BOX (child (sent, MR_TYPE_SENT_PAGE, "list")), 0));
  spin (50);
  dialog = find_message_dialog ();
  g_assert_nonnull (dialog);
  g_assert_nonnull (strstr (adw_message_dialog_get_body (dialog), "for some recipients only"));
  g_assert_nonnull (strstr (adw_message_dialog_get_body (dialog), "bob@example.org: accepted"));
  g_assert_nonnull (strstr (adw_message_dialog_get_body (dialog), "refused@example.org: refused — "));
  g_assert_nonnull (strstr (technical_details (dialog), "refused@example.org: refused · 550"));
  screenshot_window (GTK_WINDOW (dialog), "sent-partly-accepted.png");
  gtk_window_destroy (GTK_WINDOW (dialog));
  spin (50);

  /* Delete asks nothing: the entry leaves the list, and a toast offers Undo; only when the toast
   * goes does the entry leave the log. */
  {
    AdwToast *toast = NULL;

    g_signal_connect (sent, "toast", G_CALLBACK (remember_toast), &toast);
    g_signal_emit_by_name (find_widget (GTK_WIDGET (sent), is_button_with_tooltip, "Delete this entry and its copy"),
                           "clicked");
    spin (50);
    g_assert_nonnull (toast);
    g_assert_cmpstr (adw_toast_get_title (toast), ==, "“Invoice 7” deleted");
    g_assert_cmpuint (mr_sent_page_get_n_shown (sent), ==, 0);
    g_signal_emit_by_name (toast, "button-clicked");
    spin (50);
    g_assert_cmpuint (mr_sent_page_get_n_shown (sent), ==, 1);

    g_signal_emit_by_name (find_widget (GTK_WIDGET (sent), is_button_with_tooltip, "Delete this entry and its copy"),
                           "clicked");
    spin (50);
    adw_toast_dismiss (toast);
    spin (50);
    mr_sent_page_refresh (sent);
    g_assert_cmpuint (mr_sent_page_get_n_shown (sent), ==, 0);
    g_clear_object (&toast);
  }
  close_window (window);
}

/* A new user's way in: a blank message with two variables, HTML and a PDF becomes their template,
 * which then sends like any other. */
static void
test_compose_save_template (MrTestDirs    *dirs,
                            gconstpointer  data)
{
  g_autoptr(MrTestServer) server = mr_test_server_start ("smtp-server.py", "--mode", "plain", "--size", "4000", NULL);
  g_autofree char *pdf = g_build_filename (dirs->root, "Angebot.pdf", NULL);
  g_autofree char *big = g_build_filename (dirs->root, "Katalog.pdf", NULL);
  g_autofree char *filler = g_strnfill (5000, 'x');
  GtkWidget *size_row;
  g_autofree char *company = g_strdup_printf ("{\"schema_version\": 1, \"settings\": {\"smtp.host\": \"127.0.0.1\", "
                                              "\"smtp.port\": %u, \"smtp.security\": \"none\", \"smtp.auth\": \"none\", "
                                              "\"sender.from_address\": \"office@example.com\"}}", server->port);
  g_autoptr(MrTemplate) saved = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) report = NULL;
  AdwMessageDialog *dialog;
  GtkWidget *entry;
  MrWindow *window;
  MrComposePage *compose;

  mr_test_write_file (pdf, "%PDF-1.4 offer");
  mr_test_write_file (dirs->company_path, company);
  window = open_window ();
  compose = mr_window_get_compose_page (window);
  mr_window_show_page (window, "compose");

  type_text (child (compose, MR_TYPE_COMPOSE_PAGE, "subject_row"), "Quote {{number}}");
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (GTK_TEXT_VIEW (child (compose, MR_TYPE_COMPOSE_PAGE, "html_view"))),
                            "<p>Dear {{name}}, here is quote {{number}}.</p>", -1);
  drop_file (GTK_WIDGET (compose), pdf);
  spin (50);
  g_assert_nonnull (find_widget (GTK_WIDGET (compose), is_row_with_title, "Angebot.pdf"));

  /* The dialog wants a name, and saves. */
  g_signal_emit_by_name (child (compose, MR_TYPE_COMPOSE_PAGE, "save_template_button"), "clicked");
  spin (50);
  dialog = find_message_dialog ();
  g_assert_nonnull (dialog);
  entry = adw_message_dialog_get_extra_child (dialog);
  g_assert_false (adw_message_dialog_get_response_enabled (dialog, "save"));
  gtk_editable_set_text (GTK_EDITABLE (entry), "Quote");
  g_assert_true (adw_message_dialog_get_response_enabled (dialog, "save"));
  g_assert_cmpstr (adw_message_dialog_get_response_label (dialog, "save"), ==, "_Save");
  screenshot_window (GTK_WINDOW (dialog), "save-template.png");
  adw_message_dialog_response (dialog, "save");
  gtk_window_destroy (GTK_WINDOW (dialog));
  spin (50);
  g_assert_nonnull (strstr (mr_compose_page_get_status (compose), "Quote"));

  saved = mr_template_find ("Quote", &error);
  g_assert_no_error (error);
  g_assert_cmpint (saved->scope, ==, MR_TEMPLATE_SCOPE_PERSONAL);
  g_assert_cmpstr (saved->subject, ==, "Quote {{number}}");
  g_assert_cmpuint (saved->attachments->len, ==, 1);
  g_assert_false (g_str_equal (((MrTemplateAttachment *) g_ptr_array_index (saved->attachments, 0))->path, pdf));

  /* Saving again offers to replace it. */
  g_signal_emit_by_name (child (compose, MR_TYPE_COMPOSE_PAGE, "save_template_button"), "clicked");
  spin (50);
  dialog = find_message_dialog ();
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (adw_message_dialog_get_extra_child (dialog))), ==, "Quote");
  g_assert_cmpstr (adw_message_dialog_get_response_label (dialog, "save"), ==, "_Replace");
  adw_message_dialog_response (dialog, "cancel");
  gtk_window_destroy (GTK_WINDOW (dialog));
  spin (50);

  /* It is selected, its two variables are asked for, and it sends with its PDF. */
  g_assert_true (mr_compose_page_set_variable (compose, "name", "Bob"));
  g_assert_true (mr_compose_page_set_variable (compose, "number", "12"));
  type_text (child (compose, MR_TYPE_COMPOSE_PAGE, "to_row"), "bob@example.org");
  g_signal_emit_by_name (child (compose, MR_TYPE_COMPOSE_PAGE, "send_button"), "clicked");
  wait_for (compose_idle, compose, "the send");
  spin (100);
  if (strstr (mr_compose_page_get_status (compose), "Accepted") == NULL)
    g_error ("Not accepted: %s", mr_compose_page_get_status (compose));
  report = mr_test_server_parse_message (server, 1);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (report), "subject"), ==, "Quote 12");
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (report), "structure"), ==,
                   "multipart/mixed[multipart/alternative[text/plain,text/html],application/pdf]");

  /* The connection taught the pane the server's limit: attachments are measured against it. */
  size_row = child (compose, MR_TYPE_COMPOSE_PAGE, "size_row");
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (size_row)), "up to 4.0"));
  g_assert_false (gtk_widget_has_css_class (size_row, "error"));
  mr_test_write_file (big, filler);
  mr_compose_page_attach_file (compose, big);
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (size_row)), "Too big"));
  g_assert_true (gtk_widget_has_css_class (size_row, "error"));
  close_window (window);
}

#if HAVE_WEBKIT
static gboolean
is_web_view (GtkWidget     *widget,
             gconstpointer  data)
{
  return WEBKIT_IS_WEB_VIEW (widget);
}

static gboolean
web_view_loaded (gpointer view)
{
  return !webkit_web_view_is_loading (view);
}

static gboolean
count_connection (GSocketService    *service,
                  GSocketConnection *connection,
                  GObject           *source,
                  guint             *count)
{
  (*count)++;
  return FALSE;
}

typedef struct {
  gboolean done;
  int      value;
} JsResult;

static void
on_evaluated (GObject      *view,
              GAsyncResult *result,
              gpointer      data)
{
  JsResult *js = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JSCValue) value = webkit_web_view_evaluate_javascript_finish (WEBKIT_WEB_VIEW (view), result, &error);

  g_assert_no_error (error);
  js->value = jsc_value_to_int32 (value);
  js->done = TRUE;
}

static gboolean
js_done (gpointer data)
{
  return ((JsResult *) data)->done;
}

static int
evaluate_int (WebKitWebView *view,
              const char    *script)
{
  JsResult js = { FALSE, 0 };

  webkit_web_view_evaluate_javascript (view, script, -1, NULL, NULL, NULL, on_evaluated, &js);
  wait_for (js_done, &js, script);
  return js.value;
}
#endif

#if HAVE_WEBKIT
static gboolean
editor_ready (gpointer editor)
{
  return mr_editor_is_ready (editor) && *mr_editor_get_html (editor) != '\0';
}

typedef struct {
  MrEditor *editor;
  char     *html;
} EditorWait;

static gboolean
editor_html_changed (gpointer data)
{
  EditorWait *wait = data;

  return g_strcmp0 (mr_editor_get_html (wait->editor), wait->html) != 0;
}

static gboolean
block_is_heading (gpointer dropdown)
{
  return gtk_drop_down_get_selected (GTK_DROP_DOWN (dropdown)) == 1;
}

/* Runs @script in the editor's page, as typing or selecting would, and waits for the page to say
 * what changed. */
typedef struct {
  MrEditor *editor;
  guint     sync;
} EditorSync;

static gboolean
editor_synced (gpointer data)
{
  EditorSync *sync = data;

  return mr_editor_is_synced (sync->editor, sync->sync);
}

/* Until the editor has the page's HTML and formatting as they are after what was asked before: a
 * round trip, not a pause that a loaded machine outlasts. */
static void
editor_wait (MrEditor *editor)
{
  EditorSync sync = { editor, mr_editor_sync (editor) };

  wait_for (editor_synced, &sync, "the editor to catch up");
}

static void
editor_do (MrEditor   *editor,
           const char *script)
{
  g_autofree char *wrapped = g_strdup_printf ("(function () { %s; return 1; })()", script);

  g_assert_cmpint (evaluate_int (WEBKIT_WEB_VIEW (mr_editor_get_web_view (editor)), wrapped), ==, 1);
  editor_wait (editor);
}

static void
editor_format (MrEditor   *editor,
               const char *command)
{
  EditorWait wait = { editor, g_strdup (mr_editor_get_html (editor)) };

  g_signal_emit_by_name (mr_editor_get_tool (editor, command), "clicked");
  wait_for (editor_html_changed, &wait, command);
  g_free (wait.html);
  editor_wait (editor);
}

static void
on_notice (MrEditor    *editor,
           const char  *words,
           char       **notice)
{
  g_free (*notice);
  *notice = g_strdup (words);
}
#endif

/* The editor, as a person writes with it: a bold heading, two merge fields without typing a brace,
 * a list, a link checked in its dialog, a page pasted from the web (its script, hidden text and
 * tracking picture gone); then the mail is sent, and the HTML that arrives is read with Python's
 * html.parser. */
static void
test_editor (MrTestDirs    *dirs,
             gconstpointer  data)
{
#if HAVE_WEBKIT
  g_autoptr(MrTestServer) server = mr_test_server_start ("smtp-server.py", "--mode", "plain", NULL);
  g_autofree char *template_path = g_build_filename (dirs->root, "invitation.json", NULL);
  g_autofree char *company = g_strdup_printf ("{\"schema_version\": 1, \"settings\": {\"smtp.host\": \"127.0.0.1\", "
                                              "\"smtp.port\": %u, \"smtp.security\": \"none\", \"smtp.auth\": \"none\", "
                                              "\"sender.from_address\": \"office@example.com\"}}", server->port);
  g_autofree char *notice = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) received = NULL;
  const char *fields[] = { "first_name", "city", NULL };
  GtkWidget *window = gtk_window_new ();
  MrEditor *editor = MR_EDITOR (mr_editor_new ());
  GtkWidget *dialog = NULL;
  JsonObject *report;

  mr_test_write_file (dirs->company_path, company);
  gtk_window_set_default_size (GTK_WINDOW (window), 900, 600);
  gtk_window_set_child (GTK_WINDOW (window), GTK_WIDGET (editor));
  g_signal_connect (editor, "notice", G_CALLBACK (on_notice), &notice);
  mr_editor_set_fields (editor, fields);
  gtk_window_present (GTK_WINDOW (window));
  mr_editor_set_html (editor, "<p>Spring fair</p>");
  wait_for (editor_ready, editor, "the editor's page");

  /* The heading: the line selected, Heading 1, bold; the toolbar follows. */
  editor_do (editor, "const r = document.createRange(); r.selectNodeContents(document.body.firstChild);"
                     "getSelection().removeAllRanges(); getSelection().addRange(r)");
  {
    EditorWait wait = { editor, g_strdup (mr_editor_get_html (editor)) };

    gtk_drop_down_set_selected (GTK_DROP_DOWN (mr_editor_get_tool (editor, "block")), 1);
    wait_for (editor_html_changed, &wait, "the heading");
    g_free (wait.html);
  }
  /* The page says what is under the caret after it says what changed: a message later. */
  wait_for (block_is_heading, mr_editor_get_tool (editor, "block"), "the toolbar to follow");
  g_assert_nonnull (strstr (mr_editor_get_html (editor), "<h1>Spring fair</h1>"));

  /* A paragraph with two fields, chosen from Insert Field: chips in the page, {{…}} in the HTML. */
  editor_do (editor, "const r = document.createRange(); r.selectNodeContents(document.body); r.collapse(false);"
                     "getSelection().removeAllRanges(); getSelection().addRange(r);"
                     "document.execCommand('insertParagraph'); document.execCommand('formatBlock', false, 'p');"
                     "document.execCommand('insertText', false, 'Dear ')");
  mr_editor_insert_field (editor, "first_name");
  editor_wait (editor);
  editor_do (editor, "document.execCommand('insertText', false, ', see you in ')");
  mr_editor_insert_field (editor, "city");
  editor_wait (editor);
  g_assert_cmpint (evaluate_int (WEBKIT_WEB_VIEW (mr_editor_get_web_view (editor)),
                                 "document.querySelectorAll('span.mr-field[contenteditable=false]').length"), ==, 2);
  g_test_message ("html: %s", mr_editor_get_html (editor));
  g_assert_nonnull (strstr (mr_editor_get_html (editor), "Dear {{first_name}}, see you in {{city}}"));

  /* “Dear” in bold; the toolbar follows the caret. */
  editor_do (editor, "const p = document.querySelector('p'); const r = document.createRange();"
                     "r.setStart(p.firstChild, 0); r.setEnd(p.firstChild, 4);"
                     "getSelection().removeAllRanges(); getSelection().addRange(r)");
  g_assert_false (mr_editor_get_active (editor, "bold"));
  editor_format (editor, "bold");
  g_assert_true (mr_editor_get_active (editor, "bold"));
  g_assert_true (gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (mr_editor_get_tool (editor, "bold"))));
  g_test_message ("html: %s", mr_editor_get_html (editor));
  g_assert_nonnull (strstr (mr_editor_get_html (editor), "<b>Dear</b> {{first_name}}"));
  editor_do (editor, "const r = document.createRange(); r.selectNodeContents(document.body); r.collapse(false);"
                     "getSelection().removeAllRanges(); getSelection().addRange(r)");
  g_assert_false (mr_editor_get_active (editor, "bold"));

  /* A bulleted list of two. */
  editor_do (editor, "document.execCommand('insertParagraph'); document.execCommand('insertText', false, 'Talks')");
  editor_format (editor, "ul");
  g_assert_true (mr_editor_get_active (editor, "ul"));
  editor_do (editor, "document.execCommand('insertParagraph'); document.execCommand('insertText', false, 'Food')");
  g_test_message ("html: %s", mr_editor_get_html (editor));
  g_assert_nonnull (strstr (mr_editor_get_html (editor), "<ul><li>Talks</li><li>Food</li></ul>"));

  /* A link on a word, through its dialog: a wrong address is refused, a bare one made whole. */
  editor_do (editor, "document.execCommand('insertParagraph'); document.execCommand('insertParagraph');"
                     "document.execCommand('insertText', false, 'Programme');"
                     "const t = getSelection().anchorNode; const r = document.createRange(); r.selectNodeContents(t);"
                     "getSelection().removeAllRanges(); getSelection().addRange(r)");
  g_signal_emit_by_name (mr_editor_get_tool (editor, "link"), "clicked");
  wait_for (message_dialog_open, NULL, "the link dialog");
  dialog = GTK_WIDGET (find_message_dialog ());
  g_assert_nonnull (dialog);
  gtk_editable_set_text (GTK_EDITABLE (g_object_get_data (G_OBJECT (dialog), "entry")), "not a link");
  g_assert_false (adw_message_dialog_get_response_enabled (ADW_MESSAGE_DIALOG (dialog), "add"));
  gtk_editable_set_text (GTK_EDITABLE (g_object_get_data (G_OBJECT (dialog), "entry")), "example.com/fair");
  g_assert_true (adw_message_dialog_get_response_enabled (ADW_MESSAGE_DIALOG (dialog), "add"));
  screenshot_window (GTK_WINDOW (dialog), "editor-link.png");
  adw_message_dialog_response (ADW_MESSAGE_DIALOG (dialog), "add");
  gtk_window_destroy (GTK_WINDOW (dialog));
  editor_wait (editor);
  g_assert_nonnull (strstr (mr_editor_get_html (editor), "<a href=\"https://example.com/fair\">Programme</a>"));
  g_assert_false (mr_editor_add_link (editor, "javascript:alert(1)", &error));
  g_assert_error (error, MR_HTML_ERROR, MR_HTML_ERROR_LINK);

  /* A logo from a file, in the mail itself. */
  {
    static const char png_base64[] = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
    g_autofree char *logo = g_build_filename (dirs->root, "logo.png", NULL);
    g_autofree char *not_picture = g_build_filename (dirs->root, "notes.txt", NULL);
    g_autofree guchar *png = NULL;
    gsize png_length = 0;
    g_autoptr(GError) picture_error = NULL;

    png = g_base64_decode (png_base64, &png_length);
    g_assert_true (g_file_set_contents (logo, (const char *) png, png_length, NULL));
    mr_test_write_file (not_picture, "just text");
    g_assert_false (mr_editor_insert_image (editor, not_picture, &picture_error));
    g_assert_error (picture_error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
    editor_do (editor, "const r = document.createRange(); r.selectNodeContents(document.body); r.collapse(false);"
                       "getSelection().removeAllRanges(); getSelection().addRange(r)");
    g_assert_true (mr_editor_insert_image (editor, logo, NULL));
    editor_wait (editor);
    g_assert_nonnull (strstr (mr_editor_get_html (editor), "<img src=\"data:image/png;base64,"));
    g_assert_cmpint (evaluate_int (WEBKIT_WEB_VIEW (mr_editor_get_web_view (editor)),
                                   "document.images.length === 1 && document.images[0].naturalWidth === 1 ? 1 : 0"), ==, 1);
  }

  /* Pasted from a web page: the text stays, the rest goes, and the picture is said. */
  editor_do (editor, "const r = document.createRange(); r.selectNodeContents(document.body); r.collapse(false);"
                     "getSelection().removeAllRanges(); getSelection().addRange(r)");
  mr_editor_paste (editor, "<div class=\"post\" onclick=\"steal()\"><p>Pasted <i>words</i></p><script>alert(1)</script>"
                           "<span style=\"display:none\">hidden</span><img src=\"https://tracker.example/p.gif\"></div>", NULL);
  editor_wait (editor);
  g_test_message ("html: %s", mr_editor_get_html (editor));
  g_assert_nonnull (strstr (mr_editor_get_html (editor), "Pasted <i>words</i>"));
  g_assert_null (strstr (mr_editor_get_html (editor), "script"));
  g_assert_null (strstr (mr_editor_get_html (editor), "hidden"));
  g_assert_null (strstr (mr_editor_get_html (editor), "tracker"));
  g_assert_null (strstr (mr_editor_get_html (editor), "onclick"));
  /* The picture from the web: marked where it was and offered to be embedded, not in the HTML;
   * left out here (fetching it is /gui/editor-remote-pictures). */
  g_assert_cmpuint (mr_editor_get_n_remote_pictures (editor), ==, 1);
  g_assert_cmpint (evaluate_int (WEBKIT_WEB_VIEW (mr_editor_get_web_view (editor)),
                                 "document.querySelectorAll('img[src^=\"cid:mailroom-remote-\"]').length"), ==, 1);
  screenshot_window (GTK_WINDOW (window), "editor.png");
  mr_editor_leave_out_pictures (editor);
  editor_wait (editor);
  g_assert_cmpuint (mr_editor_get_n_remote_pictures (editor), ==, 0);
  g_assert_cmpint (evaluate_int (WEBKIT_WEB_VIEW (mr_editor_get_web_view (editor)),
                                 "document.querySelectorAll('img[src^=\"cid:mailroom-remote-\"]').length"), ==, 0);

  /* Sent as a template's HTML: what arrives has the formatting and each field's value. */
  {
    g_autoptr(JsonBuilder) builder = json_builder_new ();
    g_autoptr(JsonNode) root = NULL;
    g_autofree char *json = NULL;

    json_builder_begin_object (builder);
    json_builder_set_member_name (builder, "schema_version");
    json_builder_add_int_value (builder, 1);
    json_builder_set_member_name (builder, "name");
    json_builder_add_string_value (builder, "Invitation");
    json_builder_set_member_name (builder, "subject");
    json_builder_add_string_value (builder, "Spring fair");
    json_builder_set_member_name (builder, "html");
    json_builder_add_string_value (builder, mr_editor_get_html (editor));
    json_builder_end_object (builder);
    root = json_builder_get_root (builder);
    json = json_to_string (root, TRUE);
    mr_test_write_file (template_path, json);
  }
  g_assert_cmpint (mr_test_run_cli (&out, &err, "send", "--template", template_path, "--to", "ann@example.org",
                                    "--var", "first_name=Ann", "--var", "city=Bern", NULL), ==, 0);
  received = mr_test_server_parse_message (server, 1);
  report = json_node_get_object (received);
  {
    JsonArray *tags = json_object_get_array_member (report, "html_tags");
    g_autoptr(GString) joined = g_string_new (NULL);
    const char *text = json_object_get_string_member (report, "html_text");

    for (guint i = 0; i < json_array_get_length (tags); i++)
      g_string_append_printf (joined, "%s ", json_array_get_string_element (tags, i));
    g_test_message ("tags: %s; text: %s", joined->str, text);
    g_assert_nonnull (strstr (joined->str, "h1 p b "));
    g_assert_nonnull (strstr (joined->str, "ul li li "));
    g_assert_nonnull (strstr (joined->str, "a "));
    g_assert_nonnull (strstr (joined->str, "img "));
    g_assert_null (strstr (joined->str, "script"));
    g_assert_null (strstr (joined->str, "span"));
    g_assert_nonnull (strstr (text, "Dear Ann, see you in Bern"));
    g_assert_nonnull (strstr (text, "Spring fair"));
    g_assert_cmpstr (json_array_get_string_element (json_object_get_array_member (report, "html_links"), 0), ==,
                     "https://example.com/fair");
    /* The logo went as an inline part, the HTML pointing at it. */
    {
      JsonArray *images = json_object_get_array_member (report, "html_images");
      JsonArray *attachments = json_object_get_array_member (report, "attachments");
      JsonObject *part;
      g_autofree char *cid = NULL;

      g_assert_cmpuint (json_array_get_length (images), ==, 1);
      g_assert_true (g_str_has_prefix (json_array_get_string_element (images, 0), "cid:"));
      g_assert_cmpuint (json_array_get_length (attachments), ==, 1);
      part = json_array_get_object_element (attachments, 0);
      cid = g_strdup_printf ("<%s>", json_array_get_string_element (images, 0) + 4);
      g_assert_cmpstr (json_object_get_string_member (part, "content_id"), ==, cid);
      g_assert_cmpstr (json_object_get_string_member (part, "type"), ==, "image/png");
    }
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (report, "defects")), ==, 0);
  }
  gtk_window_destroy (GTK_WINDOW (window));
#else
  g_test_skip ("Built without WebKitGTK (html_preview=disabled): the HTML is edited as source");
#endif
}

#if HAVE_WEBKIT
static gboolean
server_has_a_mail (gpointer server)
{
  return mr_test_server_count_messages (server) >= 1;
}

static gboolean
compose_accepted (gpointer compose)
{
  return g_str_has_prefix (gtk_label_get_text (GTK_LABEL (child (compose, MR_TYPE_COMPOSE_PAGE, "status_label"))),
                           "Accepted");
}

static gboolean
server_has_two (gpointer server)
{
  return mr_test_server_count_messages (server) >= 2;
}

typedef struct {
  MrEditor   *editor;
  const char *wanted;
} EditorHas;

static gboolean
editor_has (gpointer data)
{
  EditorHas *has = data;

  return strstr (mr_editor_get_html (has->editor), has->wanted) != NULL;
}
#endif

#if HAVE_WEBKIT
static gboolean
is_signature_row (GtkWidget     *widget,
                  gconstpointer  data)
{
  return MR_IS_SIGNATURE_ROW (widget);
}

static gboolean
is_editor (GtkWidget     *widget,
           gconstpointer  data)
{
  return MR_IS_EDITOR (widget);
}

static gboolean
editor_loaded (gpointer editor)
{
  return mr_editor_is_ready (editor);
}

static const char *
row_subtitle (gpointer row)
{
  return adw_action_row_get_subtitle (ADW_ACTION_ROW (row));
}
#endif

/* Signatures: written in My Settings with the editor, saved, undone and removed from the row; the
 * company's beside it; Compose adds both below the message, or neither when switched off. */
static void
test_signatures (MrTestDirs    *dirs,
                 gconstpointer  data)
{
#if HAVE_WEBKIT
  g_autoptr(MrTestServer) server = mr_test_server_start ("smtp-server.py", "--mode", "plain", NULL);
  g_autofree char *template_path = g_build_filename (dirs->company_templates, "notice.json", NULL);
  g_autofree char *company = g_strdup_printf ("{\"schema_version\": 1, \"settings\": {\"smtp.host\": \"127.0.0.1\", "
                                              "\"smtp.port\": %u, \"smtp.security\": \"none\", \"smtp.auth\": \"none\", "
                                              "\"sender.from_address\": \"office@example.com\"}}", server->port);
  g_autofree char *stored = NULL;
  MrComposePage *compose;
  GtkWidget *row, *company_row;
  GtkWindow *edit;
  MrEditor *editor;
  MrWindow *window;

  g_mkdir_with_parents (dirs->company_templates, 0755);
  mr_test_write_file (template_path, "{\"schema_version\": 1, \"name\": \"Notice\", \"subject\": \"Opening hours\","
                                     " \"html\": \"<p>Dear {{name}},</p><p>we open at nine.</p>\"}");
  mr_test_write_file (dirs->company_path, company);
  window = open_window ();
  mr_window_show_page (window, "user");
  row = find_widget (GTK_WIDGET (mr_window_get_user_page (window)), is_signature_row, NULL);
  g_assert_nonnull (row);
  g_assert_true (g_str_has_prefix (row_subtitle (row), "None."));
  g_assert_true (gtk_widget_get_sensitive (row));

  /* Written in the editor: Save waits for the page, then keeps it. */
  edit = mr_signature_row_edit (MR_SIGNATURE_ROW (row));
  editor = MR_EDITOR (find_widget (GTK_WIDGET (edit), is_editor, NULL));
  wait_for (editor_loaded, editor, "the signature editor");
  spin (100);
  editor_do (editor, "document.body.focus(); document.execCommand('insertText', false, 'Anna Müller')");
  editor_do (editor, "const r = document.createRange(); r.selectNodeContents(document.body);"
                     "getSelection().removeAllRanges(); getSelection().addRange(r)");
  editor_format (editor, "bold");
  editor_do (editor, "const r = document.createRange(); r.selectNodeContents(document.body); r.collapse(false);"
                     "getSelection().removeAllRanges(); getSelection().addRange(r);"
                     "document.execCommand('insertParagraph'); document.execCommand('bold');"
                     "document.execCommand('insertText', false, 'Sales')");
  {
    EditorHas has = { editor, "Sales" };

    wait_for (editor_has, &has, "the second line");
  }
  screenshot_window (edit, "signature-editor.png");
  g_assert_true (mr_signature_row_save_edited (MR_SIGNATURE_ROW (row)));
  spin (50);
  stored = mr_signature_load (MR_SIGNATURE_PERSONAL, NULL);
  g_test_message ("stored: %s", stored);
  g_assert_nonnull (strstr (stored, "<b>Anna Müller</b>"));
  g_assert_cmpstr (row_subtitle (row), ==, "Anna Müller · Sales");

  /* Undone, as the toast's button does; then removed, and that undone too. */
  mr_signature_row_undo (MR_SIGNATURE_ROW (row));
  g_assert_null (mr_signature_load (MR_SIGNATURE_PERSONAL, NULL));
  g_assert_true (g_str_has_prefix (row_subtitle (row), "None."));
  g_assert_true (mr_signature_save (MR_SIGNATURE_PERSONAL, stored, NULL));
  mr_signature_row_reload (MR_SIGNATURE_ROW (row));
  g_assert_cmpstr (row_subtitle (row), ==, "Anna Müller · Sales");
  mr_signature_row_remove (MR_SIGNATURE_ROW (row));
  g_assert_null (mr_signature_load (MR_SIGNATURE_PERSONAL, NULL));
  mr_signature_row_undo (MR_SIGNATURE_ROW (row));
  mr_assert_cmpstr_free (mr_signature_load (MR_SIGNATURE_PERSONAL, NULL), ==, stored);

  /* The company's, on the Company page. */
  mr_window_show_page (window, "company");
  company_row = find_widget (GTK_WIDGET (mr_window_get_company_page (window)), is_signature_row, NULL);
  g_assert_nonnull (company_row);
  g_assert_true (mr_signature_save (MR_SIGNATURE_COMPANY, "<p>Example Ltd · Registered in Berlin</p>", NULL));
  mr_signature_row_reload (MR_SIGNATURE_ROW (company_row));
  g_assert_cmpstr (row_subtitle (company_row), ==, "Example Ltd · Registered in Berlin");
  if (getuid () != 0)
    {
      /* Not writable for this user: insensitive, and it says why. */
      g_autofree char *partials = g_build_filename (dirs->company_templates, "partials", NULL);

      g_assert_cmpint (g_chmod (partials, 0555), ==, 0);
      mr_signature_row_reload (MR_SIGNATURE_ROW (company_row));
      g_assert_false (gtk_widget_get_sensitive (mr_signature_row_get_edit_button (MR_SIGNATURE_ROW (company_row))));
      g_assert_nonnull (strstr (row_subtitle (company_row), "administrator"));
      g_assert_cmpint (g_chmod (partials, 0755), ==, 0);
    }

  /* Compose: both go below the message, the person's first, in both parts. */
  mr_window_show_page (window, "compose");
  compose = mr_window_get_compose_page (window);
  spin (50);
  g_assert_cmpstr (row_subtitle (child (compose, MR_TYPE_COMPOSE_PAGE, "signature_row")), ==,
                   "Yours, then the company’s, below the message");
  g_assert_true (mr_compose_page_select_template (compose, "Notice"));
  g_assert_true (gtk_switch_get_active (GTK_SWITCH (child (compose, MR_TYPE_COMPOSE_PAGE, "signature_switch"))));
  screenshot (window, "compose-signature.png");
  g_assert_true (mr_compose_page_set_variable (compose, "name", "Ann"));
  type_text (child (compose, MR_TYPE_COMPOSE_PAGE, "to_row"), "ann@example.org");
  g_signal_emit_by_name (child (compose, MR_TYPE_COMPOSE_PAGE, "send_button"), "clicked");
  wait_for (server_has_a_mail, server, "the mail");
  {
    g_autoptr(JsonNode) received = mr_test_server_parse_message (server, 1);
    JsonObject *report = json_node_get_object (received);
    const char *html_text = json_object_get_string_member (report, "html_text");
    const char *text = json_object_get_string_member (json_array_get_object_element (
                                                        json_object_get_array_member (report, "parts"), 0), "text");

    g_test_message ("html text: %s\ntext: %s", html_text, text);
    g_assert_nonnull (strstr (html_text, "we open at nine."));
    g_assert_true (strstr (html_text, "Anna Müller") < strstr (html_text, "Example Ltd"));
    g_assert_true (strstr (html_text, "we open at nine.") < strstr (html_text, "Anna Müller"));
    g_assert_nonnull (strstr (text, "Anna Müller"));
    g_assert_nonnull (strstr (text, "Example Ltd"));
  }

  /* Switched off for this message: neither. */
  wait_for (compose_accepted, compose, "the first mail to be done");
  gtk_switch_set_active (GTK_SWITCH (child (compose, MR_TYPE_COMPOSE_PAGE, "signature_switch")), FALSE);
  g_assert_cmpstr (row_subtitle (child (compose, MR_TYPE_COMPOSE_PAGE, "signature_row")), ==, "Not added to this message");
  g_assert_true (mr_compose_page_set_variable (compose, "name", "Ann"));
  type_text (child (compose, MR_TYPE_COMPOSE_PAGE, "to_row"), "ann@example.org");
  g_signal_emit_by_name (child (compose, MR_TYPE_COMPOSE_PAGE, "send_button"), "clicked");
  wait_for (server_has_two, server, "the second mail");
  {
    g_autoptr(JsonNode) received = mr_test_server_parse_message (server, 2);
    JsonObject *report = json_node_get_object (received);

    g_assert_nonnull (strstr (json_object_get_string_member (report, "html_text"), "we open at nine."));
    g_assert_null (strstr (json_object_get_string_member (report, "html_text"), "Anna Müller"));
    g_assert_null (strstr (json_object_get_string_member (report, "html_text"), "Example Ltd"));
  }
  close_window (window);
#else
  g_test_skip ("Built without WebKitGTK: the signature is written as text");
#endif
}

#if HAVE_WEBKIT
/* The names Insert Field offers, joined by spaces. */
static char *
insert_field_names (MrEditor *editor)
{
  GtkWidget *popover = GTK_WIDGET (gtk_menu_button_get_popover (GTK_MENU_BUTTON (mr_editor_get_tool (editor, "fields"))));
  GtkWidget *box = gtk_popover_get_child (GTK_POPOVER (popover));
  GString *names = g_string_new (NULL);

  for (GtkWidget *button = gtk_widget_get_first_child (box); button != NULL; button = gtk_widget_get_next_sibling (button))
    if (GTK_IS_BUTTON (button))
      g_string_append_printf (names, "%s%s", names->len ? " " : "", (const char *) g_object_get_data (G_OBJECT (button), "field"));
  return g_string_free (names, FALSE);
}
#endif

/* The mailshot wizard changes its template in place: Insert Field offers the list's columns; a
 * company template is saved as one's own new template, which the wizard then uses; one's own is
 * saved in place; the preview shows the change. */
static void
test_mailshot_edit_template (MrTestDirs    *dirs,
                             gconstpointer  data)
{
#if HAVE_WEBKIT
  g_autoptr(MrTestServer) server = mr_test_server_start ("smtp-server.py", "--mode", "plain", NULL);
  g_autofree char *template_path = g_build_filename (dirs->company_templates, "invite.json", NULL);
  g_autofree char *list = g_build_filename (dirs->root, "guests.csv", NULL);
  g_autofree char *company = g_strdup_printf ("{\"schema_version\": 1, \"settings\": {\"smtp.host\": \"127.0.0.1\", "
                                              "\"smtp.port\": %u, \"smtp.security\": \"none\", \"smtp.auth\": \"none\", "
                                              "\"sender.from_address\": \"office@example.com\", \"sender.from_name\": \"Example Office\"}}", server->port);
  g_autofree char *names = NULL;
  MrTemplateEditor *edit;
  MrMailshotsPage *page;
  MrEditor *editor;
  MrWindow *window;
  GtkWidget *template_row;

  g_mkdir_with_parents (dirs->company_templates, 0755);
  mr_test_write_file (template_path, "{\"schema_version\": 1, \"name\": \"Invitation\", \"subject\": \"Spring fair\","
                                     " \"html\": \"<p>Dear {{First_Name}},</p><p>see you.</p>\"}");
  mr_test_write_file (list, "Email,First Name,City\nann@example.org,Ann,Berlin\nbob@example.org,Bob,Hamburg\n");
  mr_test_write_file (dirs->company_path, company);
  window = open_window ();
  mr_window_show_page (window, "mailshots");
  page = mr_window_get_mailshots_page (window);
  mr_mailshots_page_new_mailshot (page);
  mr_mailshots_page_set_recipients (page, list);
  wait_for (mailshots_idle, page, "the list's columns");
  template_row = child (page, MR_TYPE_MAILSHOTS_PAGE, "template_row");
  g_assert_cmpstr (selected_string (template_row), ==, "Invitation");

  /* The company's template: Insert Field lists the columns; Save is the administrator's. */
  edit = MR_TEMPLATE_EDITOR (mr_mailshots_page_edit_template (page));
  g_assert_nonnull (edit);
  editor = MR_EDITOR (mr_template_editor_get_editor (edit));
  wait_for (editor_ready, editor, "the template in the editor");
  spin (100);
  names = insert_field_names (editor);
  g_assert_cmpstr (names, ==, "Email First_Name City sender.name sender.address");
  g_assert_false (gtk_widget_get_sensitive (mr_template_editor_get_save_button (edit)));
  g_assert_nonnull (strstr (gtk_widget_get_tooltip_text (mr_template_editor_get_save_button (edit)), "administrator"));

  /* A field at the end, without typing a brace; saved as one's own new template. */
  editor_do (editor, "const p = document.querySelectorAll('p')[1]; const r = document.createRange();"
                     "r.selectNodeContents(p); r.collapse(false); getSelection().removeAllRanges(); getSelection().addRange(r);"
                     "document.execCommand('insertText', false, ' in ')");
  mr_editor_insert_field (editor, "City");
  {
    EditorHas has = { editor, "{{City}}" };

    wait_for (editor_has, &has, "the field");
  }
  /* The sender's own field: in words in its chip, {{sender.name}} in the template. */
  editor_do (editor, "document.execCommand('insertText', false, ', from ')");
  mr_editor_insert_field (editor, "sender.name");
  {
    EditorHas has = { editor, "{{sender.name}}" };

    wait_for (editor_has, &has, "the sender's field");
  }
  g_assert_cmpint (evaluate_int (WEBKIT_WEB_VIEW (mr_editor_get_web_view (editor)),
                                 "document.querySelector('span.mr-field[data-field=\"sender.name\"]').textContent === 'Your name' ? 1 : 0"),
                   ==, 1);
  gtk_editable_set_text (GTK_EDITABLE (mr_template_editor_get_subject_row (edit)), "Spring fair, {{First_Name}}");
  screenshot_window (GTK_WINDOW (edit), "mailshot-edit-template.png");
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(MrTemplate) mine = NULL;

    g_assert_true (mr_template_editor_save_as (edit, "Invitation", &error));
    g_assert_no_error (error);
    spin (50);
    mine = mr_template_find ("Invitation", &error);
    g_assert_no_error (error);
    g_assert_cmpint (mine->scope, ==, MR_TEMPLATE_SCOPE_PERSONAL);
    g_assert_nonnull (strstr (mine->html, "see you. in {{City}}, from {{sender.name}}"));
  }
  /* The wizard goes on with it: one's own is chosen, and its Save is on. */
  g_assert_cmpuint (adw_combo_row_get_selected (ADW_COMBO_ROW (template_row)), <,
                    g_list_model_get_n_items (adw_combo_row_get_model (ADW_COMBO_ROW (template_row))));
  edit = MR_TEMPLATE_EDITOR (mr_mailshots_page_edit_template (page));
  editor = MR_EDITOR (mr_template_editor_get_editor (edit));
  wait_for (editor_ready, editor, "my template in the editor");
  spin (100);
  g_assert_true (gtk_widget_get_sensitive (mr_template_editor_get_save_button (edit)));
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (mr_template_editor_get_subject_row (edit))), ==,
                   "Spring fair, {{First_Name}}");
  gtk_editable_set_text (GTK_EDITABLE (mr_template_editor_get_subject_row (edit)), "Our spring fair, {{First_Name}}");
  /* "No signature" for this one. */
  g_assert_true (gtk_switch_get_active (GTK_SWITCH (mr_template_editor_get_signature_switch (edit))));
  gtk_switch_set_active (GTK_SWITCH (mr_template_editor_get_signature_switch (edit)), FALSE);
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(MrTemplate) saved = NULL;

    g_assert_true (mr_template_editor_save (edit, &error));
    g_assert_no_error (error);
    saved = mr_template_find ("Invitation", &error);
    g_assert_no_error (error);
    g_assert_false (saved->signature);
  }
  spin (50);

  /* The preview has the change and the row's values. */
  mr_mailshots_page_next (page);
  wait_for (mailshots_idle, page, "the proof-reader");
  mr_mailshots_page_next (page);
  wait_for (mailshots_idle, page, "the preview");
  {
    MrMessageView *view = mr_mailshots_page_get_preview_view (page);

    g_assert_cmpstr (mr_message_view_get_shown (view, "subject"), ==, "Our spring fair, Ann");
    g_assert_nonnull (strstr (mr_message_view_get_shown (view, "text"), "see you. in Berlin, from Example Office"));
    g_assert_null (mr_message_view_get_shown (view, "missing"));
  }
  close_window (window);
#else
  g_test_skip ("Built without WebKitGTK");
#endif
}

#if HAVE_WEBKIT
static gboolean
editor_not_fetching (gpointer editor)
{
  return !mr_editor_get_fetching (editor);
}
#endif

/* Pasted from a web page, a picture from the web is offered to be embedded: fetched, it goes where
 * it was, as a picture of the mail itself; one that cannot be fetched is left out, and said why. */
static void
test_editor_remote_pictures (MrTestDirs    *dirs,
                             gconstpointer  data)
{
#if HAVE_WEBKIT
  static const char png_base64[] = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
  g_autoptr(MrTestServer) web = mr_test_server_start ("http-files.py", NULL);
  g_autofree char *logo = g_build_filename (web->maildir, "logo.png", NULL);
  g_autofree char *pasted = g_strdup_printf ("<p>Our logo: <img src=\"http://127.0.0.1:%u/logo.png\" alt=\"Logo\"> and "
                                             "<img src=\"http://127.0.0.1:%u/gone.png\"> the end</p>", web->port, web->port);
  g_autofree char *notice = NULL;
  g_autofree guchar *png = NULL;
  gsize png_length = 0;
  GtkWidget *window = gtk_window_new ();
  MrEditor *editor = MR_EDITOR (mr_editor_new ());

  png = g_base64_decode (png_base64, &png_length);
  g_assert_true (g_file_set_contents (logo, (const char *) png, png_length, NULL));
  gtk_window_set_default_size (GTK_WINDOW (window), 900, 600);
  gtk_window_set_child (GTK_WINDOW (window), GTK_WIDGET (editor));
  g_signal_connect (editor, "notice", G_CALLBACK (on_notice), &notice);
  gtk_window_present (GTK_WINDOW (window));
  mr_editor_set_html (editor, "<p>Hello</p>");
  wait_for (editor_ready, editor, "the editor's page");
  editor_do (editor, "const r = document.createRange(); r.selectNodeContents(document.body); r.collapse(false);"
                     "getSelection().removeAllRanges(); getSelection().addRange(r)");
  mr_editor_paste (editor, pasted, NULL);
  spin (200);
  g_assert_cmpuint (mr_editor_get_n_remote_pictures (editor), ==, 2);
  g_assert_null (strstr (mr_editor_get_html (editor), "<img"));
  g_assert_nonnull (strstr (mr_editor_get_html (editor), "Our logo:"));

  mr_editor_embed_pictures (editor);
  g_assert_true (mr_editor_get_fetching (editor));
  wait_for (editor_not_fetching, editor, "the pictures");
  spin (200);
  g_test_message ("html: %s", mr_editor_get_html (editor));
  g_assert_cmpuint (mr_editor_get_n_remote_pictures (editor), ==, 0);
  {
    const char *html = mr_editor_get_html (editor);
    const char *picture = strstr (html, "<img src=\"data:image/png;base64,");

    g_assert_nonnull (picture);
    g_assert_true (strstr (html, "Our logo:") < picture && picture < strstr (html, "the end"));
    g_assert_nonnull (strstr (picture, "alt=\"Logo\""));
    g_assert_null (strstr (html, "127.0.0.1"));
    g_assert_null (strstr (html, "cid:"));
  }
  g_assert_nonnull (notice);
  g_assert_nonnull (strstr (notice, "1 picture was left out"));
  g_assert_nonnull (strstr (notice, "404"));
  gtk_window_destroy (GTK_WINDOW (window));
  spin (50);
#else
  g_test_skip ("Built without WebKitGTK");
#endif
}

static void
collect_piece (MrSourceKind kind,
               gsize        start,
               gsize        end,
               gpointer     user_data)
{
  static const char *names[] = { "tag", "attribute", "value", "comment", "field" };
  GString *out = ((gpointer *) user_data)[0];
  const char *text = ((gpointer *) user_data)[1];

  g_string_append_printf (out, "%s%s[%.*s]", out->len ? " " : "", names[kind], (int) (end - start), text + start);
}

static gboolean
has_tag_at (GtkTextView *view,
            int          offset,
            const char  *tag)
{
  GtkTextIter iter;

  gtk_text_buffer_get_iter_at_offset (gtk_text_view_get_buffer (view), &iter, offset);
  return gtk_text_iter_has_tag (&iter, gtk_text_tag_table_lookup (gtk_text_buffer_get_tag_table (gtk_text_view_get_buffer (view)), tag));
}

static gboolean
source_coloured (gpointer view)
{
  return has_tag_at (view, 1, mr_source_highlight_tag_name (MR_SOURCE_TAG));
}

/* Edit as HTML colours the source: elements, attributes, values, comments and merge fields; after
 * a change, again (the offsets counted in characters, past a "ü"). */
static void
test_source_highlight (void)
{
  const char *source = "<p class=\"x\" data-a='1' hidden>Grüße {{name}}<!-- note --><br/></p>{{#items}}<li>{{.}}</li>{{/items}}";
  g_autoptr(GString) pieces = g_string_new (NULL);
  gpointer data[] = { pieces, (gpointer) source };
  GtkWidget *window = gtk_window_new ();
  GtkTextView *view = GTK_TEXT_VIEW (gtk_text_view_new ());

  mr_source_highlight_scan (source, collect_piece, data);
  g_assert_cmpstr (pieces->str, ==, "tag[<p] attribute[class] value[\"x\"] attribute[data-a] value['1'] attribute[hidden] tag[>] "
                                    "field[{{name}}] comment[<!-- note -->] tag[<br] tag[/>] tag[</p] tag[>] field[{{#items}}] "
                                    "tag[<li] tag[>] field[{{.}}] tag[</li] tag[>] field[{{/items}}]");
  /* Broken source ends, without running past it. */
  g_string_truncate (pieces, 0);
  data[1] = (gpointer) "<a href=\"x";
  mr_source_highlight_scan ("<a href=\"x", collect_piece, data);
  g_assert_cmpstr (pieces->str, ==, "tag[<a] attribute[href] value[\"x]");

  gtk_window_set_child (GTK_WINDOW (window), GTK_WIDGET (view));
  mr_source_highlight_attach (view);
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (view), source, -1);
  gtk_window_present (GTK_WINDOW (window));
  wait_for (source_coloured, view, "the colours");
  /* "Grüße {{name}}": the field starts at character 37. */
  g_assert_true (has_tag_at (view, 3, mr_source_highlight_tag_name (MR_SOURCE_ATTRIBUTE)));
  g_assert_true (has_tag_at (view, 10, mr_source_highlight_tag_name (MR_SOURCE_VALUE)));
  g_assert_false (has_tag_at (view, 32, mr_source_highlight_tag_name (MR_SOURCE_TAG)));
  g_assert_true (has_tag_at (view, 38, mr_source_highlight_tag_name (MR_SOURCE_FIELD)));
  g_assert_true (has_tag_at (view, 47, mr_source_highlight_tag_name (MR_SOURCE_COMMENT)));
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (view), "plain <b>words</b>", -1);
  spin (300);
  g_assert_false (has_tag_at (view, 1, mr_source_highlight_tag_name (MR_SOURCE_TAG)));
  g_assert_true (has_tag_at (view, 7, mr_source_highlight_tag_name (MR_SOURCE_TAG)));
  g_assert_false (has_tag_at (view, 10, mr_source_highlight_tag_name (MR_SOURCE_TAG)));
  gtk_window_destroy (GTK_WINDOW (window));
  spin (50);
}

#if HAVE_WEBKIT
/* Puts the caret at the end of the first paragraph holding @text. */
static void
caret_after (MrEditor   *editor,
             const char *text)
{
  g_autofree char *script = g_strdup_printf ("const p = [...document.querySelectorAll('p')].find((e) => e.textContent.includes('%s'));"
                                             "const r = document.createRange(); r.selectNodeContents(p); r.collapse(false);"
                                             "getSelection().removeAllRanges(); getSelection().addRange(r)", text);

  editor_do (editor, script);
}

static void
wait_html_has (MrEditor   *editor,
               const char *wanted)
{
  EditorHas has = { editor, wanted };

  wait_for (editor_has, &has, wanted);
}
#endif

/* The issue's "done when", as a new user goes: an invitation written in Compose with a bold heading,
 * a list, a link and an inline logo, saved as a template; a workbook of 500 customers chosen for a
 * mailshot; two merge fields put in from Insert Field in the wizard, without typing a brace; the
 * preview stepped to row 37; a sample to oneself; the mailshot sent; and every mail checked as it
 * arrived, formatting and values, by Python's email and html.parser. */
static void
test_first_mailshot (MrTestDirs    *dirs,
                     gconstpointer  data)
{
#if HAVE_WEBKIT
  static const char png_base64[] = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
  static const char make_book[] =
    "import openpyxl, sys\n"
    "book = openpyxl.Workbook()\n"
    "sheet = book.active\n"
    "sheet.title = 'Customers'\n"
    "sheet.append(['Email', 'First Name', 'City'])\n"
    "cities = ['Berlin', 'Hamburg', 'München', 'Köln', 'Zürich']\n"
    "for i in range(1, 501):\n"
    "    sheet.append([f'customer{i}@example.org', f'Kundin{i}', cities[i % 5]])\n"
    "book.save(sys.argv[1])\n";
  static const char check_mails[] =
    "import email, email.policy, glob, html.parser, json, sys\n"
    "class Page(html.parser.HTMLParser):\n"
    "    def __init__(self):\n"
    "        super().__init__(); self.tags = []; self.links = []; self.images = []; self.text = ''\n"
    "    def handle_starttag(self, tag, attrs):\n"
    "        self.tags.append(tag); a = dict(attrs)\n"
    "        if tag == 'a': self.links.append(a.get('href'))\n"
    "        if tag == 'img': self.images.append(a.get('src'))\n"
    "    def handle_data(self, data): self.text += data\n"
    "cities = ['Berlin', 'Hamburg', 'München', 'Köln', 'Zürich']\n"
    "problems, checked = [], 0\n"
    "for path in sorted(glob.glob(sys.argv[1] + '/*.eml')):\n"
    "    msg = email.message_from_binary_file(open(path, 'rb'), policy=email.policy.default)\n"
    "    to = msg['To'].addresses[0].addr_spec\n"
    "    if not to.startswith('customer'): continue\n"
    "    i = int(to[8:].split('@')[0]); checked += 1\n"
    "    page = Page(); page.feed(msg.get_body(('html',)).get_content())\n"
    "    text = msg.get_body(('plain',)).get_content()\n"
    "    cids = ['cid:' + p['Content-ID'].strip('<>') for p in msg.walk() if p['Content-ID']]\n"
    "    want = f'Dear Kundin{i}, see you in {cities[i % 5]}'\n"
    "    for what, ok in (('heading', 'h1' in page.tags and 'b' in page.tags), ('list', page.tags.count('li') == 2),\n"
    "                     ('link', 'https://www.example.com/fair' in page.links),\n"
    "                     ('logo', len(page.images) == 1 and page.images[0] in cids),\n"
    "                     ('values', want in page.text), ('text part', want in text), ('no braces', '{{' not in page.text + text),\n"
    "                     ('from', msg['From'].addresses[0].addr_spec == 'office@example.com')):\n"
    "        if not ok: problems.append(f'{to}: {what}')\n"
    "print(json.dumps({'checked': checked, 'problems': problems[:10]}))\n";
  g_autoptr(MrTestServer) server = mr_test_server_start ("smtp-server.py", "--mode", "plain", NULL);
  g_autofree char *company = g_strdup_printf ("{\"schema_version\": 1, \"settings\": {\"smtp.host\": \"127.0.0.1\", "
                                              "\"smtp.port\": %u, \"smtp.security\": \"none\", \"smtp.auth\": \"none\", "
                                              "\"sender.from_address\": \"office@example.com\", \"sender.from_name\": \"Example Office\"}}",
                                              server->port);
  g_autofree char *book = g_build_filename (dirs->root, "Customers.xlsx", NULL);
  g_autofree char *logo = g_build_filename (dirs->root, "logo.png", NULL);
  g_autofree guchar *png = NULL;
  gsize png_length = 0;
  MrComposePage *compose;
  MrMailshotsPage *page;
  MrTemplateEditor *edit;
  MrEditor *editor;
  MrWindow *window;

  mr_test_write_file (dirs->company_path, company);
  png = g_base64_decode (png_base64, &png_length);
  g_assert_true (g_file_set_contents (logo, (const char *) png, png_length, NULL));
  {
    const char *argv[] = { "/usr/bin/python3", "-c", make_book, book, NULL };
    int status = 0;

    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL, &status, NULL));
    g_assert_true (g_spawn_check_wait_status (status, NULL));
  }

  /* Written in Compose as in a word processor, and kept as a template. */
  window = open_window ();
  mr_window_show_page (window, "compose");
  compose = mr_window_get_compose_page (window);
  editor = MR_EDITOR (mr_compose_page_get_editor (compose));
  wait_for (editor_loaded, editor, "the editor");
  spin (100);
  editor_do (editor, "document.body.focus(); document.execCommand('insertText', false, 'Spring fair')");
  editor_do (editor, "const r = document.createRange(); r.selectNodeContents(document.body.firstChild);"
                     "getSelection().removeAllRanges(); getSelection().addRange(r)");
  gtk_drop_down_set_selected (GTK_DROP_DOWN (mr_editor_get_tool (editor, "block")), 1);
  /* A heading is bold as it is (Bold on it would make it plain); the greeting is made bold. */
  wait_html_has (editor, "<h1>Spring fair</h1>");
  editor_do (editor, "const r = document.createRange(); r.selectNodeContents(document.body); r.collapse(false);"
                     "getSelection().removeAllRanges(); getSelection().addRange(r);"
                     "document.execCommand('insertParagraph'); document.execCommand('formatBlock', false, 'p');"
                     "document.execCommand('bold'); document.execCommand('insertText', false, 'Dear');"
                     "document.execCommand('bold'); document.execCommand('insertText', false, ' ')");
  wait_html_has (editor, "<b>Dear</b>");
  editor_do (editor, "document.execCommand('insertParagraph'); document.execCommand('insertText', false, 'There will be:')");
  editor_do (editor, "document.execCommand('insertParagraph')");
  editor_format (editor, "ul");
  /* Enter on an empty item ends the list, as in a word processor. */
  editor_do (editor, "document.execCommand('insertText', false, 'Music'); document.execCommand('insertParagraph');"
                     "document.execCommand('insertText', false, 'Food'); document.execCommand('insertParagraph');"
                     "document.execCommand('insertParagraph'); document.execCommand('insertText', false, 'Details: ')");
  wait_html_has (editor, "<li>Food</li></ul>");
  g_assert_true (mr_editor_add_link (editor, "www.example.com/fair", NULL));
  editor_do (editor, "document.execCommand('insertParagraph')");
  g_assert_true (mr_editor_insert_image (editor, logo, NULL));
  wait_html_has (editor, "data:image/png");
  type_text (child (compose, MR_TYPE_COMPOSE_PAGE, "subject_row"), "Spring fair");
  g_test_message ("written: %s", mr_editor_get_html (editor));
  {
    g_autoptr(GError) error = NULL;

    g_assert_true (mr_compose_page_save_as_template (compose, "Invitation", &error));
    g_assert_no_error (error);
  }

  /* The workbook as it is, its columns read. */
  mr_window_show_page (window, "mailshots");
  page = mr_window_get_mailshots_page (window);
  mr_mailshots_page_new_mailshot (page);
  g_assert_cmpstr (selected_string (child (page, MR_TYPE_MAILSHOTS_PAGE, "template_row")), ==, "Invitation");
  mr_mailshots_page_set_recipients (page, book);
  wait_for (mailshots_idle, page, "the workbook's columns");

  /* Two fields from Insert Field, in the template, from the mailshot. */
  edit = MR_TEMPLATE_EDITOR (mr_mailshots_page_edit_template (page));
  editor = MR_EDITOR (mr_template_editor_get_editor (edit));
  wait_for (editor_ready, editor, "the template in the wizard");
  spin (100);
  caret_after (editor, "Dear");
  mr_editor_insert_field (editor, "First_Name");
  wait_html_has (editor, "{{First_Name}}");
  editor_do (editor, "document.execCommand('insertText', false, ', see you in ')");
  mr_editor_insert_field (editor, "City");
  wait_html_has (editor, "{{City}}");
  screenshot_window (GTK_WINDOW (edit), "mailshot-template-fields.png");
  {
    g_autoptr(GError) error = NULL;

    g_assert_true (mr_template_editor_save (edit, &error));
    g_assert_no_error (error);
  }
  spin (100);

  /* Checked, then looked through to row 37, and one sent to me. */
  mr_mailshots_page_next (page);
  wait_for (mailshots_idle, page, "the proof-reader");
  g_assert_cmpuint (mr_mailshots_page_get_report (page)->rows, ==, 500);
  mr_mailshots_page_next (page);
  wait_for (mailshots_idle, page, "the preview");
  for (guint i = 0; i < 35; i++)
    {
      g_signal_emit_by_name (child (page, MR_TYPE_MAILSHOTS_PAGE, "preview_next_button"), "clicked");
      wait_for (mailshots_idle, page, "the next row");
    }
  g_assert_cmpuint (mr_mailshots_page_get_preview_row (page), ==, 37);
  g_test_message ("row 37: %s", mr_message_view_get_shown (mr_mailshots_page_get_preview_view (page), "text"));
  g_assert_nonnull (strstr (mr_message_view_get_shown (mr_mailshots_page_get_preview_view (page), "text"),
                            "Dear Kundin36, see you in Hamburg"));
  screenshot (window, "first-mailshot-preview.png");
  gtk_editable_set_text (GTK_EDITABLE (child (page, MR_TYPE_MAILSHOTS_PAGE, "samples_to_row")), "me@example.com");
  g_signal_emit_by_name (child (page, MR_TYPE_MAILSHOTS_PAGE, "sample_row_button"), "clicked");
  wait_for (mailshots_idle, page, "the sample");
  g_assert_cmpuint (mr_test_server_count_messages (server), ==, 1);

  /* Sent, and every mail as it should be. */
  mr_mailshots_page_next (page);
  g_signal_emit_by_name (child (page, MR_TYPE_MAILSHOTS_PAGE, "start_button"), "clicked");
  wait_long_for (job_finished, page, "the 500 mails");
  g_assert_cmpuint (mr_test_server_count_messages (server), ==, 1 + 500);
  {
    const char *argv[] = { "/usr/bin/python3", "-c", check_mails, server->maildir, NULL };
    g_autofree char *out = NULL;
    g_autoptr(JsonNode) result = NULL;
    int status = 0;

    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, NULL, &status, NULL));
    g_assert_true (g_spawn_check_wait_status (status, NULL));
    g_test_message ("checked: %s", out);
    result = json_from_string (out, NULL);
    g_assert_cmpint (json_object_get_int_member (json_node_get_object (result), "checked"), ==, 500);
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (json_node_get_object (result), "problems")), ==, 0);
  }
  close_window (window);
#else
  g_test_skip ("Built without WebKitGTK");
#endif
}

/* Compose writes the formatted message in the editor: a template's HTML comes in with its fields
 * as chips, what is written goes to the HTML the mail is built from, Edit as HTML shows that source
 * and the editor reads it back, and the mail sent has it. */
static void
test_compose_editor (MrTestDirs    *dirs,
                     gconstpointer  data)
{
#if HAVE_WEBKIT
  g_autoptr(MrTestServer) server = mr_test_server_start ("smtp-server.py", "--mode", "plain", NULL);
  g_autofree char *template_path = g_build_filename (dirs->company_templates, "thanks.json", NULL);
  g_autofree char *company = g_strdup_printf ("{\"schema_version\": 1, \"settings\": {\"smtp.host\": \"127.0.0.1\", "
                                              "\"smtp.port\": %u, \"smtp.security\": \"none\", \"smtp.auth\": \"none\", "
                                              "\"sender.from_address\": \"office@example.com\"}}", server->port);
  g_autoptr(JsonNode) received = NULL;
  GtkTextBuffer *source;
  MrComposePage *compose;
  MrEditor *editor;
  MrWindow *window;

  g_mkdir_with_parents (dirs->company_templates, 0755);
  mr_test_write_file (template_path, "{\"schema_version\": 1, \"name\": \"Thanks\", \"subject\": \"Thank you\","
                                     " \"html\": \"<p>Dear {{name}},</p><p>thank you.</p>\"}");
  mr_test_write_file (dirs->company_path, company);
  window = open_window ();
  compose = mr_window_get_compose_page (window);
  mr_window_show_page (window, "compose");
  editor = MR_EDITOR (mr_compose_page_get_editor (compose));
  g_assert_nonnull (editor);
  g_assert_true (mr_compose_page_select_template (compose, "Thanks"));
  {
    EditorHas has = { editor, "<p>Dear {{name}},</p>" };

    wait_for (editor_has, &has, "the template in the editor");
  }
  g_assert_cmpint (evaluate_int (WEBKIT_WEB_VIEW (mr_editor_get_web_view (editor)),
                                 "document.querySelectorAll('span.mr-field').length"), ==, 1);
  /* Insert Field offers the template's field. */
  g_assert_true (gtk_widget_get_sensitive (mr_editor_get_tool (editor, "fields")));
  source = gtk_text_view_get_buffer (GTK_TEXT_VIEW (child (compose, MR_TYPE_COMPOSE_PAGE, "html_view")));

  /* “thank you” in bold: the source follows. */
  editor_do (editor, "const p = document.querySelectorAll('p')[1]; const r = document.createRange();"
                     "r.selectNodeContents(p); getSelection().removeAllRanges(); getSelection().addRange(r)");
  editor_format (editor, "bold");
  {
    GtkTextIter start, end;
    g_autofree char *html = NULL;

    spin (100);
    gtk_text_buffer_get_bounds (source, &start, &end);
    html = gtk_text_buffer_get_text (source, &start, &end, FALSE);
    g_assert_cmpstr (html, ==, "<p>Dear {{name}},</p><p><b>thank you.</b></p>");
  }
  screenshot (window, "compose-editor.png");
  {
    GtkWidget *fields = mr_editor_get_tool (editor, "fields");

    gtk_menu_button_popup (GTK_MENU_BUTTON (fields));
    spin (200);
    screenshot_with_popover (GTK_WINDOW (window), GTK_WIDGET (gtk_menu_button_get_popover (GTK_MENU_BUTTON (fields))),
                             "compose-insert-field.png");
    gtk_menu_button_popdown (GTK_MENU_BUTTON (fields));
    spin (100);
  }

  /* Edit as HTML, a heading added there, and back: the editor shows it. */
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (child (compose, MR_TYPE_COMPOSE_PAGE, "source_button")), TRUE);
  g_assert_true (gtk_widget_get_visible (child (compose, MR_TYPE_COMPOSE_PAGE, "html_view")));
  gtk_text_buffer_set_text (source, "<h2>Our thanks</h2><p>Dear {{name}},</p><p><b>thank you.</b></p>", -1);
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (child (compose, MR_TYPE_COMPOSE_PAGE, "source_button")), FALSE);
  editor_wait (editor);
  {
    EditorHas has = { editor, "<h2>Our thanks</h2>" };

    wait_for (editor_has, &has, "the source in the editor");
  }

  /* The text part is made from the formatted message, shown as it will go, not edited... */
  g_assert_false (gtk_switch_get_active (GTK_SWITCH (child (compose, MR_TYPE_COMPOSE_PAGE, "own_text_switch"))));
  g_assert_false (gtk_text_view_get_editable (GTK_TEXT_VIEW (child (compose, MR_TYPE_COMPOSE_PAGE, "text_view"))));
  {
    GtkTextBuffer *text = gtk_text_view_get_buffer (GTK_TEXT_VIEW (child (compose, MR_TYPE_COMPOSE_PAGE, "text_view")));
    GtkTextIter start, end;
    g_autofree char *shown = NULL;

    gtk_text_buffer_get_bounds (text, &start, &end);
    shown = gtk_text_buffer_get_text (text, &start, &end, FALSE);
    g_assert_nonnull (strstr (shown, "Our thanks"));
    g_assert_nonnull (strstr (shown, "Dear {{name}},"));
  }

  /* Sent: the heading, the bold words and the field's value arrive. */
  g_assert_true (mr_compose_page_set_variable (compose, "name", "Ann"));
  type_text (child (compose, MR_TYPE_COMPOSE_PAGE, "to_row"), "ann@example.org");
  g_signal_emit_by_name (child (compose, MR_TYPE_COMPOSE_PAGE, "send_button"), "clicked");
  wait_for (server_has_a_mail, server, "the mail");
  received = mr_test_server_parse_message (server, 1);
  {
    JsonObject *report = json_node_get_object (received);
    JsonArray *tags = json_object_get_array_member (report, "html_tags");
    g_autoptr(GString) joined = g_string_new (NULL);

    for (guint i = 0; i < json_array_get_length (tags); i++)
      g_string_append_printf (joined, "%s ", json_array_get_string_element (tags, i));
    g_assert_cmpstr (joined->str, ==, "h2 p p b ");
    g_assert_nonnull (strstr (json_object_get_string_member (report, "html_text"), "Dear Ann,"));
    /* ...and goes made from it. */
    g_assert_nonnull (strstr (json_object_get_string_member (json_array_get_object_element (
                                json_object_get_array_member (report, "parts"), 0), "text"), "Dear Ann,"));
  }

  /* Written by hand, it goes as written (once the first is done: its To is emptied). */
  wait_for (compose_accepted, compose, "the first mail to be done");
  gtk_switch_set_active (GTK_SWITCH (child (compose, MR_TYPE_COMPOSE_PAGE, "own_text_switch")), TRUE);
  g_assert_true (gtk_text_view_get_editable (GTK_TEXT_VIEW (child (compose, MR_TYPE_COMPOSE_PAGE, "text_view"))));
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (GTK_TEXT_VIEW (child (compose, MR_TYPE_COMPOSE_PAGE, "text_view"))),
                            "Thanks, {{name}}, in plain words.", -1);
  g_assert_true (mr_compose_page_set_variable (compose, "name", "Ann"));
  type_text (child (compose, MR_TYPE_COMPOSE_PAGE, "to_row"), "ann@example.org");
  spin (100);
  g_signal_emit_by_name (child (compose, MR_TYPE_COMPOSE_PAGE, "send_button"), "clicked");
  wait_for (server_has_two, server, "the second mail");
  {
    g_autoptr(JsonNode) second = mr_test_server_parse_message (server, 2);
    JsonObject *report = json_node_get_object (second);

    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (
                       json_object_get_array_member (report, "parts"), 0), "text"), ==,
                     "Thanks, Ann, in plain words.");
  }

  /* In place: a company template is not one's own to change; one's own is saved as it now is. */
  g_assert_false (gtk_widget_get_sensitive (child (compose, MR_TYPE_COMPOSE_PAGE, "save_button")));
  g_assert_nonnull (strstr (gtk_widget_get_tooltip_text (child (compose, MR_TYPE_COMPOSE_PAGE, "save_button")),
                            "administrator"));
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(MrTemplate) saved = NULL;
    EditorHas has = { editor, "<h2>Our thanks</h2>" };

    g_assert_true (mr_compose_page_save_as_template (compose, "My thanks", &error));
    g_assert_no_error (error);
    wait_for (editor_has, &has, "my template in the editor");
    g_assert_true (gtk_widget_get_sensitive (child (compose, MR_TYPE_COMPOSE_PAGE, "save_button")));
    editor_do (editor, "const h = document.querySelector('h2'); const r = document.createRange();"
                       "r.selectNodeContents(h); getSelection().removeAllRanges(); getSelection().addRange(r)");
    editor_format (editor, "center");
    g_signal_emit_by_name (child (compose, MR_TYPE_COMPOSE_PAGE, "save_button"), "clicked");
    spin (100);
    saved = mr_template_find ("My thanks", &error);
    g_assert_no_error (error);
    g_assert_cmpint (saved->scope, ==, MR_TEMPLATE_SCOPE_PERSONAL);
    g_test_message ("saved: %s", saved->html);
    g_assert_nonnull (strstr (saved->html, "text-align: center"));
    g_assert_nonnull (strstr (saved->html, "Our thanks"));
  }
  close_window (window);
#else
  g_test_skip ("Built without WebKitGTK (html_preview=disabled): the HTML is edited as source");
#endif
}

/* The HTML preview shows the mail as a careful client does: inline images, nothing remote. */
static void
test_compose_html_preview (MrTestDirs    *dirs,
                           gconstpointer  data)
{
#if HAVE_WEBKIT
  /* A 1×1 PNG. */
  static const char png_base64[] = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
  g_autoptr(GSocketService) tracker = g_socket_service_new ();
  g_autofree char *logo = g_build_filename (dirs->company_templates, "logo.png", NULL);
  g_autofree char *template_path = g_build_filename (dirs->company_templates, "letter.json", NULL);
  g_autofree char *template_json = NULL;
  g_autofree guchar *png = NULL;
  g_autoptr(GError) error = NULL;
  gsize png_length = 0;
  guint16 port;
  guint connections = 0;
  AdwMessageDialog *dialog;
  GtkWidget *view;
  MrWindow *window;
  MrComposePage *compose;

  port = g_socket_listener_add_any_inet_port (G_SOCKET_LISTENER (tracker), NULL, &error);
  g_assert_no_error (error);
  g_signal_connect (tracker, "incoming", G_CALLBACK (count_connection), &connections);
  g_socket_service_start (tracker);

  g_mkdir_with_parents (dirs->company_templates, 0755);
  png = g_base64_decode (png_base64, &png_length);
  g_assert_true (g_file_set_contents (logo, (const char *) png, png_length, NULL));
  template_json = g_strdup_printf ("{\"schema_version\": 1, \"name\": \"Letter\", \"subject\": \"Hello\","
                                   " \"html\": \"<p>Dear <b>{{name}}</b>,</p><img id='logo' src='cid:logo'>"
                                   "<img id='remote' src='http://127.0.0.1:%u/track.png'>"
                                   "<link rel='stylesheet' href='http://127.0.0.1:%u/style.css'>\","
                                   " \"attachments\": [{\"path\": \"logo.png\", \"content_id\": \"logo\"}]}", port, port);
  mr_test_write_file (template_path, template_json);
  /* The preview is the mail as it will be built: from the company's sender. */
  mr_test_write_file (dirs->company_path, "{\"schema_version\": 1, \"settings\": {\"smtp.host\": \"127.0.0.1\", "
                                          "\"smtp.security\": \"none\", \"smtp.auth\": \"none\", "
                                          "\"sender.from_address\": \"office@example.com\"}}");

  window = open_window ();
  compose = mr_window_get_compose_page (window);
  mr_window_show_page (window, "compose");
  g_assert_true (mr_compose_page_select_template (compose, "Letter"));
  spin (50);
  g_assert_true (mr_compose_page_set_variable (compose, "name", "Ann"));

  g_signal_emit_by_name (child (compose, MR_TYPE_COMPOSE_PAGE, "preview_button"), "clicked");
  wait_for ((Condition) find_message_dialog, NULL, "the preview");
  dialog = find_message_dialog ();
  view = find_widget (GTK_WIDGET (dialog), is_web_view, NULL);
  g_assert_nonnull (view);
  {
    GtkWidget *message_view = gtk_widget_get_ancestor (view, MR_TYPE_MESSAGE_VIEW);

    g_assert_nonnull (message_view);
    g_assert_null (mr_message_view_get_shown (MR_MESSAGE_VIEW (message_view), "problem"));
    g_assert_cmpstr (mr_message_view_get_shown (MR_MESSAGE_VIEW (message_view), "subject"), ==, "Hello");
  }
  wait_for (web_view_loaded, view, "the HTML preview to load");
  spin (200);

  g_assert_cmpint (evaluate_int (WEBKIT_WEB_VIEW (view), "document.querySelector('b').textContent === 'Ann' ? 1 : 0"), ==, 1);
  /* The inline logo shows; the remote image was taken out when the template was loaded
   * (mr-html-clean.h), and the stylesheet link too: nothing asks the tracker. */
  g_assert_cmpint (evaluate_int (WEBKIT_WEB_VIEW (view), "document.images.length"), ==, 1);
  g_assert_cmpint (evaluate_int (WEBKIT_WEB_VIEW (view), "document.images[0].naturalWidth"), ==, 1);
  g_assert_cmpint (evaluate_int (WEBKIT_WEB_VIEW (view), "document.querySelectorAll('link').length"), ==, 0);
  spin (200);
  g_assert_cmpuint (connections, ==, 0);
  screenshot_window (GTK_WINDOW (dialog), "preview.png");

  gtk_window_destroy (GTK_WINDOW (dialog));
  g_socket_service_stop (tracker);
  close_window (window);
#else
  g_test_skip ("Built without WebKitGTK (html_preview=disabled): the preview shows the text part only");
#endif
}

static gboolean
server_has_one (gpointer server)
{
  return mr_test_server_count_messages (server) == 1;
}

static void
test_compose_draft_mailto_outbox (MrTestDirs    *dirs,
                                  gconstpointer  data)
{
  guint16 closed = mr_test_closed_port ();
  g_autoptr(MrTestServer) server = NULL;
  g_autoptr(MrSentLog) log = NULL;
  g_autoptr(GPtrArray) queued = NULL;
  MrSentQuery outbox = { NULL, NULL, 0, 0, MR_SENT_STATE_QUEUED, 0 };
  g_autofree char *company = g_strdup_printf ("{\"schema_version\": 1, \"settings\": {\"smtp.host\": \"127.0.0.1\", "
                                              "\"smtp.port\": %u, \"smtp.security\": \"none\", \"smtp.auth\": \"none\", "
                                              "\"sender.from_address\": \"office@example.com\"}}", closed);
  MrWindow *window;
  MrComposePage *compose;
  GtkTextBuffer *buffer;
  GtkTextIter start, end;
  g_autofree char *body = NULL;

  mr_test_write_file (dirs->company_path, company);

  /* A mailto: link fills the pane; its header values cannot carry line breaks. */
  window = open_window ();
  mr_window_open_mailto (window, "mailto:bob@example.org?subject=Hello%20there%0D%0ABcc:%20x@evil.example&cc=carol@example.org&body=Line%201%0ALine%202");
  compose = mr_window_get_compose_page (window);
  g_assert_cmpstr (mr_window_get_page_name (window), ==, "compose");
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (child (compose, MR_TYPE_COMPOSE_PAGE, "to_row"))), ==, "bob@example.org");
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (child (compose, MR_TYPE_COMPOSE_PAGE, "cc_row"))), ==, "carol@example.org");
  g_assert_null (strchr (gtk_editable_get_text (GTK_EDITABLE (child (compose, MR_TYPE_COMPOSE_PAGE, "subject_row"))), '\n'));
  buffer = gtk_text_view_get_buffer (GTK_TEXT_VIEW (child (compose, MR_TYPE_COMPOSE_PAGE, "text_view")));
  gtk_text_buffer_get_bounds (buffer, &start, &end);
  body = gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
  g_assert_cmpstr (body, ==, "Line 1\nLine 2");

  /* The draft survives a closed window. */
  spin (700);
  close_window (window);
  window = open_window ();
  compose = mr_window_get_compose_page (window);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (child (compose, MR_TYPE_COMPOSE_PAGE, "to_row"))), ==, "bob@example.org");

  /* Nobody listening: the mail waits in the outbox, and the Sent page offers to retry or cancel it. */
  mr_window_show_page (window, "compose");
  g_signal_emit_by_name (child (compose, MR_TYPE_COMPOSE_PAGE, "send_button"), "clicked");
  wait_for (compose_idle, compose, "the send");
  spin (100);
  g_assert_nonnull (strstr (mr_compose_page_get_status (compose), "outbox"));
  gtk_drop_down_set_selected (GTK_DROP_DOWN (child (mr_window_get_sent_page (window), MR_TYPE_SENT_PAGE, "state_filter")), 2);
  spin (100);
  g_assert_cmpuint (mr_sent_page_get_n_shown (mr_window_get_sent_page (window)), ==, 1);
  mr_window_show_page (window, "sent");
  screenshot (window, "outbox.png");
  close_window (window);

  /* Later the server is back, the retry is due, and Mailroom starts: the mail goes by itself. */
  server = mr_test_server_start ("smtp-server.py", "--mode", "plain", NULL);
  g_free (company);
  company = g_strdup_printf ("{\"schema_version\": 1, \"settings\": {\"smtp.host\": \"127.0.0.1\", "
                             "\"smtp.port\": %u, \"smtp.security\": \"none\", \"smtp.auth\": \"none\", "
                             "\"sender.from_address\": \"office@example.com\"}}", server->port);
  mr_test_write_file (dirs->company_path, company);
  log = mr_sent_log_open (NULL, NULL);
  queued = mr_sent_log_search (log, &outbox, NULL);
  g_assert_cmpuint (queued->len, ==, 1);
  g_assert_true (mr_sent_log_set_state (log, ((MrSentEntry *) g_ptr_array_index (queued, 0))->id,
                                        MR_SENT_STATE_QUEUED, 0, NULL));
  window = open_window ();
  wait_for (server_has_one, server, "the outbox to send at start");
  spin (200);
  g_clear_pointer (&queued, g_ptr_array_unref);
  queued = mr_sent_log_search (log, &outbox, NULL);
  g_assert_cmpuint (queued->len, ==, 0);
  close_window (window);
}

/* Types @text into a spin button and leaves it, as Tab would. */
static void
set_spin_text (GtkWidget  *button,
               const char *text)
{
  gtk_editable_set_text (GTK_EDITABLE (button), text);
  gtk_spin_button_update (GTK_SPIN_BUTTON (button));
  spin (20);
}

static const char *
spin_placeholder (GtkWidget *spin)
{
  return gtk_text_get_placeholder_text (GTK_TEXT (gtk_editable_get_delegate (GTK_EDITABLE (spin))));
}

/* The pace is spin rows: empty means the provider's limits, and the placeholder names them
 * ("30, Office 365’s"), never "-1". A number is kept; emptied, the key goes again. */
static void
test_company_pace (MrTestDirs    *dirs,
                   gconstpointer  data)
{
  MrWindow *window;
  MrCompanyPage *page;
  GtkWidget *minute, *day, *connections;
  g_autofree char *saved = NULL;

  mr_test_write_file (dirs->company_path, "{\"schema_version\": 1, \"settings\": {\"smtp.provider\": \"office365\", "
                      "\"smtp.host\": \"smtp.office365.com\", \"smtp.username\": \"office@example.com\"}}");
  window = open_window ();
  page = mr_window_get_company_page (window);
  minute = child (page, MR_TYPE_COMPANY_PAGE, "mailshot_minute_spin");
  day = child (page, MR_TYPE_COMPANY_PAGE, "mailshot_day_spin");
  connections = child (page, MR_TYPE_COMPANY_PAGE, "mailshot_connections_spin");
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (minute)), ==, "");
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (day)), ==, "");
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (connections)), ==, "");
  g_assert_cmpstr (spin_placeholder (minute), ==, "30, Office 365’s");
  g_assert_cmpstr (spin_placeholder (day), ==, "10000, Office 365’s");
  g_assert_cmpstr (spin_placeholder (connections), ==, "3");
  screenshot (window, "company-pace.png");

  set_spin_text (minute, "12");
  g_assert_cmpfloat (gtk_spin_button_get_value (GTK_SPIN_BUTTON (minute)), ==, 12);
  save_and_wait (window);
  saved = mr_test_read_file (dirs->company_path);
  g_assert_nonnull (strstr (saved, "\"mailshot.per_minute\" : 12"));
  g_assert_null (strstr (saved, "mailshot.per_day"));

  /* Emptied: the provider's limit again, and the key leaves the file. */
  set_spin_text (minute, "");
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (minute)), ==, "");
  save_and_wait (window);
  g_clear_pointer (&saved, g_free);
  saved = mr_test_read_file (dirs->company_path);
  g_assert_null (strstr (saved, "mailshot.per_minute"));
  close_window (window);
}

static gboolean
is_domain_row (GtkWidget     *widget,
               gconstpointer  data)
{
  return MR_IS_DOMAIN_ROW (widget) && g_str_equal (mr_domain_row_get_domain (MR_DOMAIN_ROW (widget)), data);
}

static gboolean
domains_checked (gpointer page)
{
  return !mr_company_page_get_checking_domains (page);
}

static const char *
domain_subtitle (MrCompanyPage *page,
                 const char    *domain)
{
  GtkWidget *row = find_widget (GTK_WIDGET (page), is_domain_row, domain);

  g_assert_nonnull (row);
  return adw_expander_row_get_subtitle (ADW_EXPANDER_ROW (row));
}

static gboolean
domain_proved (gpointer page)
{
  return g_str_has_prefix (domain_subtitle (page, "new.example"), "Proved on");
}

/* The Company page's sender domains: each one's state, Check Again with a passing and a failing
 * domain (its findings and the record to publish, copied), and a new domain proved by Verify. */
static void
test_company_domains (MrTestDirs    *dirs,
                      gconstpointer  data)
{
  g_autofree char *key = mr_test_dkim_record (2048);
  g_autofree char *saved = NULL;
  MrCompanyPage *page;
  MrWindow *window;
  GtkWidget *row;

  mr_test_write_file (dirs->company_path,
                      "{\"schema_version\": 1, \"settings\": {\"smtp.provider\": \"office365\", "
                      "\"smtp.host\": \"smtp.office365.com\", \"smtp.username\": \"office@good.example\", "
                      "\"sender.from_address\": \"office@good.example\", "
                      "\"domains.verified\": [\"good.example\", \"bad.example\"], "
                      "\"domains.proved\": [\"good.example 2026-11-30\"], "
                      "\"domains.pending\": [\"new.example 0123456789abcdef0123456789abcdef\"]}}");
  mr_test_dns_add ("TXT", "good.example", "v=spf1 include:spf.protection.outlook.com -all");
  mr_test_dns_add ("TXT", "selector1._domainkey.good.example", key);
  mr_test_dns_add ("TXT", "_dmarc.good.example", "v=DMARC1; p=reject");
  mr_test_dns_add ("MX", "good.example", "0 good-example.mail.protection.outlook.com");
  mr_test_dns_add ("A", "bad.example", "192.0.2.1");

  window = open_window ();
  mr_window_show_page (window, "company");
  page = mr_window_get_company_page (window);
  spin (50);
  /* The provider step says what the domain's SPF record must hold for Office 365. */
  g_assert_true (gtk_widget_get_visible (child (page, MR_TYPE_COMPANY_PAGE, "provider_dns_row")));
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (child (page, MR_TYPE_COMPANY_PAGE, "provider_dns_row"))),
                            "include:spf.protection.outlook.com"));
  g_assert_true (g_str_has_prefix (domain_subtitle (page, "good.example"), "Proved on"));
  g_assert_cmpstr (domain_subtitle (page, "bad.example"), ==, "Added without proof");
  g_assert_true (g_str_has_prefix (domain_subtitle (page, "new.example"), "Waiting for its proof"));

  /* Check Again: the verdicts at a glance, the findings and records inside. */
  mr_company_page_check_domains (page);
  wait_for (domains_checked, page, "the domains to be checked");
  spin (50);
  g_test_message ("good: %s; bad: %s", domain_subtitle (page, "good.example"), domain_subtitle (page, "bad.example"));
  g_assert_nonnull (strstr (domain_subtitle (page, "good.example"), "SPF passes · DKIM passes · DMARC passes"));
  g_assert_nonnull (strstr (domain_subtitle (page, "bad.example"), "SPF fails · DKIM fails · DMARC fails"));
  row = find_widget (GTK_WIDGET (page), is_domain_row, "bad.example");
  g_assert_cmpstr (mr_domain_row_get_record (MR_DOMAIN_ROW (row), "spf"), ==, "v=spf1 include:spf.protection.outlook.com ~all");
  g_assert_cmpstr (mr_domain_row_get_record (MR_DOMAIN_ROW (row), "dmarc"), ==,
                   "v=DMARC1; p=none; rua=mailto:postmaster@bad.example");
  adw_expander_row_set_expanded (ADW_EXPANDER_ROW (row), TRUE);
  {
    GtkWidget *copy = find_widget (row, is_button_with_tooltip, "Copy");
    GdkContentProvider *content;
    GValue value = G_VALUE_INIT;

    g_assert_nonnull (copy);
    g_signal_emit_by_name (copy, "clicked");
    content = gdk_clipboard_get_content (gtk_widget_get_clipboard (copy));
    g_value_init (&value, G_TYPE_STRING);
    g_assert_true (gdk_content_provider_get_value (content, &value, NULL));
    g_assert_cmpstr (g_value_get_string (&value), ==, "v=spf1 include:spf.protection.outlook.com ~all");
    g_value_unset (&value);
  }
  {
    GtkWidget *scrolled = gtk_widget_get_ancestor (row, GTK_TYPE_SCROLLED_WINDOW);
    graphene_point_t at;

    /* The domains in sight for the screenshot. */
    if (scrolled != NULL && gtk_widget_compute_point (row, scrolled, &GRAPHENE_POINT_INIT (0, 0), &at))
      {
        GtkAdjustment *adjustment = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (scrolled));

        gtk_adjustment_set_value (adjustment, gtk_adjustment_get_value (adjustment) + at.y - 120);
      }
  }
  screenshot (window, "company-domains.png");

  /* Not published yet: said under the record; published: proved, and Save keeps it. */
  row = find_widget (GTK_WIDGET (page), is_domain_row, "new.example");
  g_signal_emit_by_name (mr_domain_row_get_verify_button (MR_DOMAIN_ROW (row)), "clicked");
  wait_for (domains_checked, page, "nothing");
  spin (300);
  mr_test_dns_add ("TXT", "new.example", "mailroom-domain-verification=0123456789abcdef0123456789abcdef");
  row = find_widget (GTK_WIDGET (page), is_domain_row, "new.example");
  g_signal_emit_by_name (mr_domain_row_get_verify_button (MR_DOMAIN_ROW (row)), "clicked");
  wait_for (domain_proved, page, "new.example to be proved");
  save_and_wait (window);
  saved = mr_test_read_file (dirs->company_path);
  g_assert_nonnull (strstr (saved, "\"new.example\""));
  g_assert_null (strstr (saved, "0123456789abcdef0123456789abcdef"));
  close_window (window);
}

static void
test_company_lists (MrTestDirs    *dirs,
                    gconstpointer  data)
{
  MrWindow *window;
  MrCompanyPage *page;
  MrSettingsForm *form;
  AdwMessageDialog *dialog;
  GtkWidget *entry, *app_host, *add_domain, *lock_row, *remove;
  g_autofree char *saved = NULL;

  mr_test_write_file (dirs->company_path, "{\"schema_version\": 1, \"settings\": {\"smtp.host\": \"smtp.example.com\"}}");
  window = open_window ();
  page = mr_window_get_company_page (window);
  form = mr_company_page_get_form (page);

  /* Add an application profile through its dialog. */
  g_signal_emit_by_name (child (page, MR_TYPE_COMPANY_PAGE, "add_app_button"), "clicked");
  spin (50);
  dialog = find_message_dialog ();
  g_assert_nonnull (dialog);
  entry = adw_message_dialog_get_extra_child (dialog);
  gtk_editable_set_text (GTK_EDITABLE (entry), "Bad Name");
  g_assert_false (adw_message_dialog_get_response_enabled (dialog, "add"));
  gtk_editable_set_text (GTK_EDITABLE (entry), "marketing");
  g_assert_true (adw_message_dialog_get_response_enabled (dialog, "add"));
  adw_message_dialog_response (dialog, "add");
  gtk_window_destroy (GTK_WINDOW (dialog));
  spin (50);

  app_host = mr_settings_form_get_widget (form, "apps.marketing.smtp.host");
  g_assert_nonnull (app_host);
  type_text (app_host, "bulk example");
  g_assert_true (gtk_widget_has_css_class (app_host, "error"));
  type_text (app_host, "bulk.example.com");
  g_assert_false (gtk_widget_has_css_class (app_host, "error"));

  /* A verified domain, refused while it is not a domain. */
  add_domain = child (page, MR_TYPE_COMPANY_PAGE, "add_domain_row");
  type_text (add_domain, "not a domain");
  g_assert_true (gtk_widget_has_css_class (add_domain, "error"));
  g_signal_emit_by_name (add_domain, "apply");
  type_text (add_domain, "Example.com");
  g_assert_false (gtk_widget_has_css_class (add_domain, "error"));
  g_signal_emit_by_name (add_domain, "apply");
  spin (20);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (add_domain)), ==, "");

  /* The mailshot pace (a spin row) and the unsubscribe page, checked as typed like every key. */
  set_spin_text (child (page, MR_TYPE_COMPANY_PAGE, "mailshot_day_spin"), "5000");
  type_text (child (page, MR_TYPE_COMPANY_PAGE, "unsubscribe_url_row"), "http://example.com/u");
  g_assert_true (gtk_widget_has_css_class (child (page, MR_TYPE_COMPANY_PAGE, "unsubscribe_url_row"), "error"));
  type_text (child (page, MR_TYPE_COMPANY_PAGE, "unsubscribe_url_row"), "https://example.com/u?t={token}");
  g_assert_false (gtk_widget_has_css_class (child (page, MR_TYPE_COMPANY_PAGE, "unsubscribe_url_row"), "error"));

  /* Lock the server for users. */
  lock_row = find_widget (child (page, MR_TYPE_COMPANY_PAGE, "locks_row"), is_row_titled, "Server");
  g_assert_nonnull (lock_row);
  /* No key name to read: the setting's name is the row's title. */
  g_assert_true (adw_action_row_get_subtitle (ADW_ACTION_ROW (lock_row)) == NULL ||
                 *adw_action_row_get_subtitle (ADW_ACTION_ROW (lock_row)) == '\0');
  g_assert_nonnull (lock_row);
  gtk_switch_set_active (GTK_SWITCH (adw_action_row_get_activatable_widget (ADW_ACTION_ROW (lock_row))), TRUE);
  spin (20);
  screenshot (window, "company-lists.png");

  save_and_wait (window);
  saved = mr_test_read_file (dirs->company_path);
  if (strstr (saved, "\"marketing\" : {") == NULL)
    g_error ("saved: %s", saved);
  g_assert_nonnull (strstr (saved, "\"smtp.host\" : \"bulk.example.com\""));
  /* A domain typed in waits for its proof: pending, with its token. */
  g_assert_nonnull (strstr (saved, "\"domains.pending\""));
  g_assert_nonnull (strstr (saved, "\"example.com "));
  g_assert_null (strstr (saved, "not a domain"));
  g_assert_nonnull (strstr (saved, "\"locks\" : [\n      \"smtp.host\""));
  g_assert_nonnull (strstr (saved, "\"mailshot.per_day\" : 5000"));
  g_assert_nonnull (strstr (saved, "\"mailshot.unsubscribe_url\" : \"https://example.com/u?t={token}\""));

  /* Remove the profile. */
  remove = find_widget (GTK_WIDGET (page), is_button_with_tooltip, "Remove the profile “marketing”");
  g_assert_nonnull (remove);
  g_signal_emit_by_name (remove, "clicked");
  spin (20);
  g_assert_null (mr_settings_form_get_widget (form, "apps.marketing.smtp.host"));
  save_and_wait (window);
  g_clear_pointer (&saved, g_free);
  saved = mr_test_read_file (dirs->company_path);
  g_assert_null (strstr (saved, "marketing"));
  close_window (window);
}

static void
test_keyboard_reaches_rows (MrTestDirs    *dirs,
                            gconstpointer  data)
{
  MrWindow *window = open_window ();
  MrCompanyPage *page = mr_window_get_company_page (window);
  const char *wanted[] = { "provider_row", "host_row", "port_row", "security_row", "auth_row", "from_address_row" };
  gboolean reached[G_N_ELEMENTS (wanted)] = { FALSE };
  guint n_reached = 0;

  gtk_widget_grab_focus (child (window, MR_TYPE_WINDOW, "sidebar"));
  for (guint step = 0; step < 300 && n_reached < G_N_ELEMENTS (wanted); step++)
    {
      GtkWidget *focus;

      if (!gtk_widget_child_focus (GTK_WIDGET (window), GTK_DIR_TAB_FORWARD))
        gtk_widget_child_focus (GTK_WIDGET (window), GTK_DIR_TAB_FORWARD);  /* wrapped around */
      focus = gtk_root_get_focus (GTK_ROOT (window));
      for (guint i = 0; i < G_N_ELEMENTS (wanted); i++)
        if (!reached[i] && focus != NULL &&
            (focus == child (page, MR_TYPE_COMPANY_PAGE, wanted[i]) ||
             gtk_widget_is_ancestor (focus, child (page, MR_TYPE_COMPANY_PAGE, wanted[i]))))
          {
            reached[i] = TRUE;
            n_reached++;
          }
    }
  for (guint i = 0; i < G_N_ELEMENTS (wanted); i++)
    if (!reached[i])
      g_error ("Tab never reaches %s", wanted[i]);
  close_window (window);
}

static void
test_required_host (MrTestDirs    *dirs,
                    gconstpointer  data)
{
  MrWindow *window = open_window ();
  MrCompanyPage *page = mr_window_get_company_page (window);
  GtkWidget *host = child (page, MR_TYPE_COMPANY_PAGE, "host_row");

  /* A new company: the server is required, the port has its default. */
  type_text (child (page, MR_TYPE_COMPANY_PAGE, "from_name_row"), "Example Ltd");
  save_and_wait (window);
  g_assert_false (g_file_test (dirs->company_path, G_FILE_TEST_EXISTS));
  g_assert_true (gtk_widget_has_css_class (host, "error"));
  g_assert_true (message_under_row_says (host, "Enter the server"));

  type_text (host, "smtp.example.com");
  save_and_wait (window);
  g_assert_true (g_file_test (dirs->company_path, G_FILE_TEST_EXISTS));
  close_window (window);
}

static void
test_no_keyring (MrTestDirs    *dirs,
                 gconstpointer  data)
{
  /* A process whose session bus has no keyring from its very start. */
  static const char * const no_bus[] = { "DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/mailroom-bus", NULL };

  if (ran_in_child ("/gui/no-keyring", no_bus))
    return;

  {
    MrWindow *window;
    MrCompanyPage *page;
    GtkWidget *keyring, *password_row;

    mr_test_write_file (dirs->company_path,
                        "{\"schema_version\": 1, \"settings\": {\"smtp.host\": \"smtp.example.com\", "
                        "\"smtp.username\": \"office@example.com\"}}");
    window = open_window ();
    page = mr_window_get_company_page (window);
    keyring = child (page, MR_TYPE_COMPANY_PAGE, "keyring_row");
    wait_for (subtitle_settled, keyring, "the keyring status");
    g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (keyring)), "No keyring is available"));

    password_row = child (page, MR_TYPE_COMPANY_PAGE, "password_row");
    type_text (password_row, "no-keyring-password");
    save_and_wait (window);
    /* Nothing stored anywhere, and the password stays where the user typed it. */
    g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (password_row)), ==, "no-keyring-password");
    g_assert_false (mr_test_tree_contains (dirs->root, "no-keyring-password"));
    g_assert_false (mr_test_tree_contains (g_get_home_dir (), "no-keyring-password"));
    close_window (window);
  }
}

static gboolean
widget_visible (gpointer widget)
{
  return gtk_widget_get_visible (widget);
}

static MrTestDialog *
find_test_dialog (void)
{
  return find_toplevel (MR_TYPE_TEST_DIALOG);
}

static gboolean
dialog_has_result (gpointer data)
{
  return g_str_equal (mr_test_dialog_get_state (data), "result");
}

static gboolean
failing_line_in_view (gpointer data)
{
  GtkTextView *view = GTK_TEXT_VIEW (child (data, MR_TYPE_TEST_DIALOG, "transcript_view"));
  GtkTextIter line;
  GdkRectangle visible, location;

  gtk_text_buffer_get_iter_at_line (gtk_text_view_get_buffer (view), &line, mr_test_dialog_get_failing_line (data));
  gtk_text_view_get_visible_rect (view, &visible);
  gtk_text_view_get_iter_location (view, &line, &location);
  return visible.y > 0 && location.y >= visible.y && location.y + location.height <= visible.y + visible.height;
}

static MrTestDialog *
run_test_dialog (MrCompanyPage *page,
                 const char    *button,
                 const char    *recipient)
{
  MrTestDialog *dialog;

  g_assert_true (gtk_widget_is_sensitive (child (page, MR_TYPE_COMPANY_PAGE, button)));
  g_signal_emit_by_name (child (page, MR_TYPE_COMPANY_PAGE, button), "clicked");
  spin (50);
  dialog = find_test_dialog ();
  g_assert_nonnull (dialog);
  if (recipient != NULL)
    {
      g_assert_cmpstr (mr_test_dialog_get_state (dialog), ==, "ask");
      gtk_editable_set_text (GTK_EDITABLE (child (dialog, MR_TYPE_TEST_DIALOG, "recipient_row")), recipient);
      g_signal_emit_by_name (child (dialog, MR_TYPE_TEST_DIALOG, "start_button"), "clicked");
    }
  wait_for (dialog_has_result, dialog, "the test to finish");
  spin (100);
  return dialog;
}

/* The result has the focus, so that a screen reader reads it first, and none of its text is
 * selected: a new user would take selected text for something to act on. */
static void
assert_result_focused (MrTestDialog *dialog)
{
  GtkWidget *result = child (dialog, MR_TYPE_TEST_DIALOG, "result_description");
  int start = -1, end = -1;

  g_assert_true (gtk_window_get_focus (GTK_WINDOW (dialog)) == result);
  g_assert_false (gtk_label_get_selection_bounds (GTK_LABEL (result), &start, &end));
}

/* A login no other test uses: the suite shares one keyring. */
static const char *
test_login (void)
{
  static char *login;

  if (login == NULL)
    login = g_strdup_printf ("gui-%d-%u", (int) getpid (), g_random_int ());
  return login;
}

static void
store_company_password (const char *host,
                        const char *password)
{
  g_autoptr(MrSecretAccount) account = mr_secret_account_new (MR_SECRET_SCOPE_COMPANY, host, test_login (), NULL);
  g_autoptr(GError) error = NULL;

  g_assert_true (mr_secrets_store_sync (account, password, NULL, &error));
  g_assert_no_error (error);
}

static void
write_company_for (MrTestDirs *dirs,
                   guint16     port,
                   gboolean    trust_test_ca)
{
  g_autofree char *ca = mr_test_cert_path ("ca.pem");
  g_autofree char *contents = g_strdup_printf ("{\"schema_version\": 1, \"settings\": {\"smtp.host\": \"localhost\", "
                                               "\"smtp.port\": %u, \"smtp.username\": \"%s\", %s%s%s"
                                               "\"sender.from_address\": \"office@example.com\", "
                                               "\"smtp.timeout_command_ms\": 5000}}",
                                               port, test_login (), trust_test_ca ? "\"smtp.tls_trust_file\": \"" : "",
                                               trust_test_ca ? ca : "", trust_test_ca ? "\", " : "");
  mr_test_write_file (dirs->company_path, contents);
}

static void
test_send_test_email (MrTestDirs    *dirs,
                      gconstpointer  data)
{
  g_autofree char *pem = mr_test_cert_path ("good.pem");
  g_autofree char *key = mr_test_cert_path ("good.key");
  g_autofree char *user_arg = g_strdup_printf ("%s:gui-secret", test_login ());
  g_autoptr(MrTestServer) server = NULL;
  MrWindow *window;
  MrCompanyPage *page;
  MrTestDialog *dialog;
  GtkWidget *result;
  GtkTextBuffer *buffer;
  g_autofree char *transcript = NULL;
  GtkTextIter start, end;

  if (!mr_test_require_keyring ())
    return;

  server = mr_test_server_start ("smtp-server.py", "--mode", "starttls", "--cert", pem, "--key", key,
                                 "--user", user_arg, "--auth-required", NULL);
  write_company_for (dirs, server->port, TRUE);
  store_company_password ("localhost", "gui-secret");

  window = open_window ();
  page = mr_window_get_company_page (window);

  /* The mail arrives. */
  dialog = run_test_dialog (page, "test_button", "ann@example.org");
  g_assert_true (mr_test_dialog_get_succeeded (dialog));
  g_assert_cmpuint (mr_test_server_count_messages (server), ==, 1);
  result = child (dialog, MR_TYPE_TEST_DIALOG, "result_description");
  g_assert_nonnull (strstr (gtk_label_get_text (GTK_LABEL (result)), "ann@example.org"));
  assert_result_focused (dialog);
  screenshot_window (GTK_WINDOW (dialog), "test-email-sent.png");
  gtk_window_destroy (GTK_WINDOW (dialog));

  /* A wrong password: the advice, and the transcript under Details without the password. */
  store_company_password ("localhost", "not-the-password");
  dialog = run_test_dialog (page, "test_button", "ann@example.org");
  g_assert_false (mr_test_dialog_get_succeeded (dialog));
  result = child (dialog, MR_TYPE_TEST_DIALOG, "result_description");
  g_assert_nonnull (strstr (gtk_label_get_text (GTK_LABEL (result)), "password is wrong"));
  assert_result_focused (dialog);
  g_assert_true (gtk_widget_get_visible (child (dialog, MR_TYPE_TEST_DIALOG, "details_expander")));
  buffer = gtk_text_view_get_buffer (GTK_TEXT_VIEW (child (dialog, MR_TYPE_TEST_DIALOG, "transcript_view")));
  gtk_text_buffer_get_bounds (buffer, &start, &end);
  transcript = gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
  g_assert_nonnull (strstr (transcript, "S: 535"));
  g_assert_null (strstr (transcript, "not-the-password"));
  /* The failing reply is marked, and in view when the details open: the transcript is longer
   * than its box, so the box has scrolled down to it. */
  {
    GtkTextView *view = GTK_TEXT_VIEW (child (dialog, MR_TYPE_TEST_DIALOG, "transcript_view"));
    GtkTextIter line_start, line_end;
    GdkRectangle visible, location;
    g_autofree char *failing = NULL;

    gtk_text_buffer_get_iter_at_line (buffer, &line_start, mr_test_dialog_get_failing_line (dialog));
    line_end = line_start;
    gtk_text_iter_forward_to_line_end (&line_end);
    failing = gtk_text_buffer_get_text (buffer, &line_start, &line_end, FALSE);
    g_assert_true (g_str_has_prefix (failing, "S: 535"));
    gtk_expander_set_expanded (GTK_EXPANDER (child (dialog, MR_TYPE_TEST_DIALOG, "details_expander")), TRUE);
    /* The text view lays its lines out in idle time: a loaded machine takes longer. */
    wait_for (failing_line_in_view, dialog, "the failing reply to scroll into view");
    gtk_text_view_get_visible_rect (view, &visible);
    gtk_text_view_get_iter_location (view, &line_start, &location);
    g_test_message ("transcript: visible %d..%d, failing line at %d", visible.y, visible.y + visible.height, location.y);
    g_assert_cmpint (visible.y, >, 0);
    g_assert_cmpint (location.y, >=, visible.y);
    g_assert_cmpint (location.y + location.height, <=, visible.y + visible.height);
  }
  screenshot_window (GTK_WINDOW (dialog), "test-email-failed.png");
  gtk_window_destroy (GTK_WINDOW (dialog));
  g_assert_cmpuint (mr_test_server_count_messages (server), ==, 1);

  /* Unsaved changes: the buttons wait for Save. */
  type_text (child (page, MR_TYPE_COMPANY_PAGE, "from_name_row"), "Changed");
  g_assert_false (gtk_widget_is_sensitive (child (page, MR_TYPE_COMPANY_PAGE, "test_button")));
  g_assert_false (gtk_widget_is_sensitive (child (page, MR_TYPE_COMPANY_PAGE, "check_button")));
  close_window (window);
}

/* Office 365 as the presets know it, but at a test server on this machine: the test resolver
 * answers for example.test, and the port is the server's. */
static void
use_presets_with_office365_at (MrTestDirs *dirs,
                               guint16     port)
{
  g_autofree char *source = g_build_filename (g_getenv ("MAILROOM_TOP_SRCDIR"), "src", "engine", "settings", "presets.json", NULL);
  g_autofree char *path = g_build_filename (dirs->root, "presets.json", NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(GError) error = NULL;
  JsonArray *providers;

  g_assert_true (json_parser_load_from_file (parser, source, &error));
  providers = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)), "providers");
  for (guint i = 0; i < json_array_get_length (providers); i++)
    {
      JsonObject *provider = json_array_get_object_element (providers, i);

      if (g_str_equal (json_object_get_string_member (provider, "id"), "office365"))
        {
          json_object_set_string_member (provider, "host", "smtp.office365.example.test");
          json_object_set_int_member (provider, "port", port);
        }
    }
  json_generator_set_root (generator, json_parser_get_root (parser));
  g_assert_true (json_generator_to_file (generator, path, &error));
  mr_test_setenv ("MAILROOM_PRESETS", path);
}

static gboolean
test_dialog_has_result (gpointer data)
{
  MrTestDialog *dialog = find_test_dialog ();

  return dialog != NULL && g_str_equal (mr_test_dialog_get_state (dialog), "result");
}

static const char *
outcome_title (MrWelcomePage *welcome)
{
  return adw_preferences_row_get_title (ADW_PREFERENCES_ROW (child (welcome, MR_TYPE_WELCOME_PAGE, "outcome_row")));
}

/* The admin's first hour, as the issue tells it: an empty home, only an address at a domain whose
 * MX is Office 365's. The welcome finds the server, asks who logs in and the password, proves them
 * with Check Server (trusting this server's own certificate, as an admin may), sends a test email
 * to the address itself, and ends on the Company page with everything saved. */
static void
test_welcome_to_test_email (MrTestDirs    *dirs,
                            gconstpointer  data)
{
  g_autofree char *pem = NULL;
  g_autofree char *key = NULL;
  g_autofree char *user_arg = NULL;
  g_autoptr(MrTestServer) server = NULL;
  g_autoptr(MrStandin) standin = NULL;
  g_autoptr(JsonNode) sent = NULL;
  g_autofree char *envelope = NULL;
  g_autofree char *company = NULL;
  MrWelcomePage *welcome;
  MrTestDialog *dialog;
  MrWindow *window;
  GtkWidget *check;

  if (!mr_test_require_keyring () || ran_in_child ("/gui/welcome-to-test-email", NULL))
    return;

  pem = mr_test_cert_path ("selfsigned.pem");
  key = mr_test_cert_path ("selfsigned.key");
  user_arg = g_strdup_printf ("%s:welcome-secret", test_login ());
  server = mr_test_server_start ("smtp-server.py", "--mode", "starttls", "--cert", pem, "--key", key,
                                 "--user", user_arg, "--auth-required", NULL);
  use_presets_with_office365_at (dirs, server->port);
  standin = mr_standin_start ();
  mr_standin_add_dns_record (standin, "MX", "contoso.example.net", "contoso-example-net.mail.protection.outlook.com", 0);

  window = mr_window_new (NULL);
  gtk_window_set_default_size (GTK_WINDOW (window), 1000, 800);
  gtk_window_present (GTK_WINDOW (window));
  spin (300);
  welcome = mr_window_get_welcome_page (window);
  g_assert_nonnull (welcome);
  type_text (child (welcome, MR_TYPE_WELCOME_PAGE, "address_row"), "admin@contoso.example.net");
  g_signal_emit_by_name (child (welcome, MR_TYPE_WELCOME_PAGE, "find_button"), "clicked");
  wait_for (welcome_idle, welcome, "the search for the settings");
  g_assert_nonnull (strstr (mr_welcome_page_get_found (welcome), "Office 365"));
  g_signal_emit_by_name (child (welcome, MR_TYPE_WELCOME_PAGE, "use_button"), "clicked");
  spin (100);

  /* The login step: who logs in (the admin's choice), the login, the password. Check Server waits
   * for the password and says so. */
  g_assert_cmpstr (mr_welcome_page_get_step (welcome), ==, "login");
  g_assert_true (gtk_widget_get_visible (child (welcome, MR_TYPE_WELCOME_PAGE, "who_group")));
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (child (welcome, MR_TYPE_WELCOME_PAGE, "username_row"))), ==,
                   "admin@contoso.example.net");
  check = child (welcome, MR_TYPE_WELCOME_PAGE, "check_button");
  g_assert_false (gtk_widget_get_sensitive (check));
  g_assert_cmpstr (gtk_widget_get_tooltip_text (check), ==, "Enter the password first");
  gtk_editable_set_text (GTK_EDITABLE (child (welcome, MR_TYPE_WELCOME_PAGE, "username_row")), test_login ());
  type_text (child (welcome, MR_TYPE_WELCOME_PAGE, "password_row"), "welcome-secret");
  g_assert_true (gtk_widget_get_sensitive (check));
  screenshot (window, "welcome-login.png");

  /* Check Server: this server's certificate is its own, and the admin trusts it from the dialog. */
  g_signal_emit_by_name (check, "clicked");
  wait_for (test_dialog_has_result, NULL, "the server check");
  spin (100);
  dialog = find_test_dialog ();
  g_assert_false (mr_test_dialog_get_succeeded (dialog));
  g_assert_cmpstr (outcome_title (welcome), ==, "The server check failed");
  g_signal_emit_by_name (child (dialog, MR_TYPE_TEST_DIALOG, "pin_button"), "clicked");
  wait_for (dialog_has_result, dialog, "the check after trusting the certificate");
  spin (100);
  g_assert_true (mr_test_dialog_get_succeeded (dialog));
  gtk_window_destroy (GTK_WINDOW (dialog));
  spin (50);
  g_assert_cmpstr (outcome_title (welcome), ==, "The server works");
  g_assert_true (gtk_widget_get_visible (child (welcome, MR_TYPE_WELCOME_PAGE, "test_button")));
  g_assert_true (gtk_widget_has_css_class (child (welcome, MR_TYPE_WELCOME_PAGE, "test_button"), "suggested-action"));
  g_assert_false (gtk_widget_has_css_class (check, "suggested-action"));
  g_assert_true (gtk_widget_get_sensitive (check));   /* Check Again, with the saved password */
  /* The password went to the keyring, nowhere else. */
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (child (welcome, MR_TYPE_WELCOME_PAGE, "password_row"))), ==, "");
  g_assert_false (mr_test_tree_contains (dirs->root, "welcome-secret"));

  /* Send Test Email, to the address itself. */
  g_signal_emit_by_name (child (welcome, MR_TYPE_WELCOME_PAGE, "test_button"), "clicked");
  spin (50);
  dialog = find_test_dialog ();
  g_assert_nonnull (dialog);
  g_assert_cmpstr (mr_test_dialog_get_recipient (dialog), ==, "admin@contoso.example.net");
  g_signal_emit_by_name (child (dialog, MR_TYPE_TEST_DIALOG, "start_button"), "clicked");
  wait_for (dialog_has_result, dialog, "the test email");
  spin (100);
  g_assert_true (mr_test_dialog_get_succeeded (dialog));
  gtk_window_destroy (GTK_WINDOW (dialog));
  spin (50);
  g_assert_cmpuint (mr_test_server_count_messages (server), ==, 1);
  sent = mr_test_server_read_envelope (server, 1);
  envelope = json_to_string (sent, FALSE);
  g_assert_nonnull (strstr (envelope, "admin@contoso.example.net"));
  g_assert_cmpstr (outcome_title (welcome), ==, "Test email sent to admin@contoso.example.net");
  g_assert_true (gtk_widget_has_css_class (child (welcome, MR_TYPE_WELCOME_PAGE, "finish_button"), "suggested-action"));
  screenshot (window, "welcome-test-sent.png");

  g_signal_emit_by_name (child (welcome, MR_TYPE_WELCOME_PAGE, "finish_button"), "clicked");
  spin (300);
  g_assert_cmpstr (mr_window_get_page_name (window), ==, "company");
  company = mr_test_read_file (dirs->company_path);
  g_assert_nonnull (strstr (company, "\"smtp.provider\" : \"office365\""));
  g_assert_nonnull (strstr (company, "\"smtp.credentials\" : \"company\""));
  g_assert_nonnull (strstr (company, test_login ()));
  g_assert_nonnull (strstr (company, "\"smtp.tls_fingerprint\""));
  close_window (window);
}

/* No key name is the first thing a person reads: the engine's "user.email: …" is "Your email
 * address: …" on screen, and a key named in the text is the row's name in quotes. */
static void
test_errors_in_words (MrTestDirs    *dirs,
                      gconstpointer  data)
{
  g_autofree char *company = g_strdup_printf ("{\"schema_version\": 1, \"settings\": {\"smtp.host\": \"127.0.0.1\", "
                                              "\"smtp.port\": %u, \"smtp.security\": \"none\", \"smtp.auth\": \"none\", "
                                              "\"sender.from_address\": \"office@example.com\", "
                                              "\"sender.send_as_user\": true}}", mr_test_closed_port ());
  MrTestDialog *dialog;
  MrWindow *window;
  const char *said;

  mr_assert_cmpstr_free (mr_key_words ("sender.from_address: x@example.net is not one of the company’s verified "
                                       "domains; add it to domains.verified first"), ==,
                         "From address: x@example.net is not one of the company’s verified domains; add it to "
                         "“Verified domains” first");
  mr_assert_cmpstr_free (mr_key_words ("apps.billing.smtp.host: no server is set"), ==,
                         "Server (application “billing”): no server is set");
  /* Server names, addresses and plain words stay as they are. */
  mr_assert_cmpstr_free (mr_key_words ("Could not reach smtp.example.com for office@example.com."), ==,
                         "Could not reach smtp.example.com for office@example.com.");
  mr_assert_cmpstr_free (mr_key_words ("Set smtp.host."), ==, "Set “Server”.");

  mr_test_write_file (dirs->company_path, company);
  window = open_window ();
  dialog = run_test_dialog (mr_window_get_company_page (window), "test_button", "ann@example.org");
  g_assert_false (mr_test_dialog_get_succeeded (dialog));
  said = gtk_label_get_text (GTK_LABEL (child (dialog, MR_TYPE_TEST_DIALOG, "result_description")));
  g_test_message ("the dialog says: %s", said);
  g_assert_true (g_str_has_prefix (said, "Your email address: "));
  g_assert_null (strstr (said, "user.email"));
  gtk_window_destroy (GTK_WINDOW (dialog));
  close_window (window);
}

/* The clerk's first hour, as the issue tells it: the company is set up and has each person log in.
 * The window opens on My Settings, where the clerk enters their own login and password, saves, and
 * sends themselves a test email, which the server receives with their login. */
static void
test_clerk_own_login_to_test_email (MrTestDirs    *dirs,
                                    gconstpointer  data)
{
  g_autofree char *login = NULL;
  g_autofree char *user_arg = NULL;
  g_autoptr(MrTestServer) server = NULL;
  g_autofree char *company = NULL;
  g_autoptr(JsonNode) envelope = NULL;
  MrTestDialog *dialog;
  MrUserPage *page;
  MrWindow *window;

  if (!mr_test_require_keyring ())
    return;
  login = g_strdup_printf ("clerk-%s", test_login ());
  user_arg = g_strdup_printf ("%s:clerk-secret", login);
  server = mr_test_server_start ("smtp-server.py", "--mode", "plain", "--user", user_arg, "--auth-required", NULL);
  company = g_strdup_printf ("{\"schema_version\": 1, \"settings\": {\"smtp.host\": \"127.0.0.1\", \"smtp.port\": %u, "
                             "\"smtp.security\": \"none\", \"smtp.allow_plaintext_auth\": true, "
                             "\"smtp.credentials\": \"per-user\", \"sender.from_address\": \"office@example.com\"}}",
                             server->port);
  mr_test_write_file (dirs->company_path, company);
  window = mr_window_new (NULL);
  gtk_window_set_default_size (GTK_WINDOW (window), 1000, 2200);
  gtk_window_present (GTK_WINDOW (window));
  spin (300);
  g_assert_cmpstr (mr_window_get_page_name (window), ==, "user");
  page = mr_window_get_user_page (window);

  /* Test Email waits for the login to be saved, and says so. */
  g_assert_false (gtk_widget_is_sensitive (child (page, MR_TYPE_USER_PAGE, "test_button")));
  type_text (child (page, MR_TYPE_USER_PAGE, "email_row"), "clerk@example.com");
  type_text (child (page, MR_TYPE_USER_PAGE, "username_row"), login);
  type_text (child (page, MR_TYPE_USER_PAGE, "password_row"), "clerk-secret");
  save_and_wait (window);
  g_assert_true (gtk_widget_is_sensitive (child (page, MR_TYPE_USER_PAGE, "test_button")));

  g_signal_emit_by_name (child (page, MR_TYPE_USER_PAGE, "test_button"), "clicked");
  spin (50);
  dialog = find_test_dialog ();
  g_assert_nonnull (dialog);
  g_assert_cmpstr (mr_test_dialog_get_recipient (dialog), ==, "clerk@example.com");
  g_signal_emit_by_name (child (dialog, MR_TYPE_TEST_DIALOG, "start_button"), "clicked");
  wait_for (dialog_has_result, dialog, "the test email");
  spin (100);
  if (!mr_test_dialog_get_succeeded (dialog))
    g_error ("Not sent: %s", gtk_label_get_text (GTK_LABEL (child (dialog, MR_TYPE_TEST_DIALOG, "result_description"))));
  screenshot_window (GTK_WINDOW (dialog), "clerk-test-email-sent.png");
  gtk_window_destroy (GTK_WINDOW (dialog));
  g_assert_cmpuint (mr_test_server_count_messages (server), ==, 1);
  envelope = mr_test_server_read_envelope (server, 1);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (envelope), "login"), ==, login);
  close_window (window);
}

static void
test_check_server_and_pin (MrTestDirs    *dirs,
                           gconstpointer  data)
{
  g_autofree char *pem = mr_test_cert_path ("selfsigned.pem");
  g_autofree char *key = mr_test_cert_path ("selfsigned.key");
  g_autofree char *user_arg = g_strdup_printf ("%s:gui-secret", test_login ());
  g_autoptr(MrTestServer) server = NULL;
  g_autofree char *saved = NULL;
  MrWindow *window;
  MrCompanyPage *page;
  MrTestDialog *dialog;

  if (!mr_test_require_keyring ())
    return;

  server = mr_test_server_start ("smtp-server.py", "--mode", "starttls", "--cert", pem, "--key", key,
                                 "--user", user_arg, "--auth-required", NULL);
  write_company_for (dirs, server->port, FALSE);
  store_company_password ("localhost", "gui-secret");

  window = open_window ();
  page = mr_window_get_company_page (window);

  /* Not trusted: the certificate is shown, and the admin may trust it. */
  dialog = run_test_dialog (page, "check_button", NULL);
  g_assert_false (mr_test_dialog_get_succeeded (dialog));
  g_assert_true (gtk_widget_has_css_class (child (dialog, MR_TYPE_TEST_DIALOG, "result_icon"), "error"));
  g_assert_true (gtk_widget_get_visible (child (dialog, MR_TYPE_TEST_DIALOG, "certificate_group")));
  g_assert_true (gtk_widget_get_visible (child (dialog, MR_TYPE_TEST_DIALOG, "pin_button")));
  g_assert_nonnull (strstr (gtk_label_get_text (GTK_LABEL (child (dialog, MR_TYPE_TEST_DIALOG, "result_description"))),
                            "cannot be trusted"));
  screenshot_window (GTK_WINDOW (dialog), "check-untrusted.png");

  g_signal_emit_by_name (child (dialog, MR_TYPE_TEST_DIALOG, "pin_button"), "clicked");
  wait_for (dialog_has_result, dialog, "the check after pinning");
  spin (100);
  g_assert_true (mr_test_dialog_get_succeeded (dialog));
  g_assert_true (gtk_widget_get_visible (child (dialog, MR_TYPE_TEST_DIALOG, "server_group")));
  /* Success looks like it, and its certificate is trusted, not a problem beside "The Server Works". */
  g_assert_true (gtk_widget_has_css_class (child (dialog, MR_TYPE_TEST_DIALOG, "result_icon"), "success"));
  g_assert_null (find_widget (child (dialog, MR_TYPE_TEST_DIALOG, "certificate_group"), is_row_titled, "Problem"));
  g_assert_nonnull (find_widget (child (dialog, MR_TYPE_TEST_DIALOG, "certificate_group"), is_row_titled, "Trusted"));
  saved = mr_test_read_file (dirs->company_path);
  g_assert_nonnull (strstr (saved, "\"smtp.tls_fingerprint\""));
  /* The From domain's DNS beside it: advice, in its own section. */
  wait_for (widget_visible, child (dialog, MR_TYPE_TEST_DIALOG, "domain_group"), "the From domain's check");
  g_assert_nonnull (find_widget (child (dialog, MR_TYPE_TEST_DIALOG, "domain_group"), is_row_titled, "DMARC: note"));
  screenshot_window (GTK_WINDOW (dialog), "check-server.png");
  gtk_window_destroy (GTK_WINDOW (dialog));

  /* The page shows the pinned fingerprint after the dialog changed the settings. */
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (child (page, MR_TYPE_COMPANY_PAGE, "fingerprint_row"))), !=, "");
  close_window (window);
}

static gboolean
sign_in_dialog_open (gpointer data)
{
  return find_message_dialog () != NULL;
}

static gboolean
url_found (gpointer data)
{
  return g_str_has_prefix (gtk_editable_get_text (GTK_EDITABLE (data)), "https://");
}

static gboolean
signed_in (gpointer data)
{
  const char *subtitle = adw_action_row_get_subtitle (ADW_ACTION_ROW (data));
  return subtitle != NULL && g_str_has_prefix (subtitle, "Signed in as");
}

static void
send_from_compose (MrWindow   *window,
                   guint       via,
                   const char *expected_status)
{
  MrComposePage *compose = mr_window_get_compose_page (window);

  mr_window_show_page (window, "compose");
  spin (50);
  g_assert_true (mr_compose_page_select_template (compose, "Invoice"));
  spin (50);
  mr_compose_page_set_variable (compose, "name", "Ann");
  mr_compose_page_set_variable (compose, "number", "7");
  type_text (child (compose, MR_TYPE_COMPOSE_PAGE, "to_row"), "ann@example.org");
  adw_combo_row_set_selected (ADW_COMBO_ROW (child (compose, MR_TYPE_COMPOSE_PAGE, "via_row")), via);
  g_signal_emit_by_name (child (compose, MR_TYPE_COMPOSE_PAGE, "send_button"), "clicked");
  wait_for (compose_idle, compose, "the send");
  spin (100);
  if (strstr (mr_compose_page_get_status (compose), expected_status) == NULL)
    g_error ("Expected “%s”, the status says: %s", expected_status, mr_compose_page_get_status (compose));
}

/* The done-when of Exchange: the EWS stand-in takes a template with an attachment from the compose
 * pane; with SMTP down, "Automatic" still sends, and the Sent page shows how; the Graph stand-in
 * after a device-code sign-in on My Settings. */
static void
test_exchange (MrTestDirs    *dirs,
               gconstpointer  data)
{
  g_autoptr(MrStandin) standin = NULL;
  g_autofree char *pdf = g_build_filename (dirs->company_templates, "Preisliste.pdf", NULL);
  g_autofree char *template_path = g_build_filename (dirs->company_templates, "invoice.json", NULL);
  g_autofree char *ews_url = NULL;
  g_autofree char *base_url = NULL;
  g_autofree char *ca = mr_test_cert_path ("ca.pem");
  g_autofree char *company = NULL;
  g_autofree char *mime = NULL;
  AdwMessageDialog *dialog;
  MrWindow *window;
  MrUserPage *user;
  MrCompanyPage *company_page;
  MrSentPage *sent;

  if (!mr_test_require_keyring ())
    return;
  standin = mr_standin_start ();
  mr_standin_set_ews_auth (standin, "ntlm", "CORP\\ann", "Exchange-Pw-7");
  ews_url = mr_standin_url (standin, "/EWS/Exchange.asmx");
  base_url = mr_standin_url (standin, "");
  g_mkdir_with_parents (dirs->company_templates, 0755);
  mr_test_write_file (pdf, "%PDF-1.4 prices");
  mr_test_write_file (template_path, "{\"schema_version\": 1, \"name\": \"Invoice\", \"subject\": \"Invoice {{number}}\","
                                     " \"route\": \"exchange\", \"html\": \"<p>Dear {{name}}, invoice {{number}}.</p>\","
                                     " \"attachments\": [{\"path\": \"Preisliste.pdf\"}]}");
  /* SMTP is down: nothing listens on its port. */
  company = g_strdup_printf ("{\"schema_version\": 1, \"settings\": {\"smtp.host\": \"127.0.0.1\", "
                             "\"smtp.port\": %u, \"smtp.security\": \"none\", \"smtp.auth\": \"none\", "
                             "\"sender.from_address\": \"office@example.com\", \"exchange.ews_url\": \"%s\", "
                             "\"exchange.trust_file\": \"%s\", \"exchange.client_id\": "
                             "\"11111111-2222-3333-4444-555555555555\", \"exchange.tenant\": \"example.com\", "
                             "\"exchange.authority\": \"%s\", \"exchange.graph_endpoint\": \"%s\"}}",
                             mr_test_closed_port (), ews_url, ca, base_url, base_url);
  mr_test_write_file (dirs->company_path, company);
  {
    g_autofree char *user_dir = g_path_get_dirname (dirs->user_path);
    g_mkdir_with_parents (user_dir, 0700);
  }
  mr_test_write_file (dirs->user_path, "{\"schema_version\": 1, \"settings\": {\"user.email\": \"ann@example.test\"}}");

  window = open_window ();
  company_page = mr_window_get_company_page (window);
  /* The admin's guide: EWS for Exchange Server. */
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (child (company_page, MR_TYPE_COMPANY_PAGE,
                                                                                "exchange_guide_row"))),
                            "Exchange Server"));
  gtk_widget_grab_focus (child (company_page, MR_TYPE_COMPANY_PAGE, "exchange_url_row"));
  spin (100);
  screenshot (window, "company-exchange.png");

  /* Find…: autodiscover from ann@example.test leads out of the domain, and asks before going on. */
  {
    g_autofree char *elsewhere = g_strdup_printf ("redirect-url:https://hosted.example.net:%u/autodiscover/autodiscover.xml",
                                                  mr_standin_get_port (standin));
    g_autofree char *found = g_strdup_printf ("ews:%s", ews_url);
    GtkWidget *url_row = child (company_page, MR_TYPE_COMPANY_PAGE, "exchange_url_row");
    AdwMessageDialog *ask;

    mr_standin_use_fake_dns (standin);
    mr_standin_set_autodiscover (standin, "mail.example.test", elsewhere);
    mr_standin_set_autodiscover (standin, "hosted.example.net", found);
    gtk_editable_set_text (GTK_EDITABLE (url_row), "");
    spin (20);
    g_signal_emit_by_name (child (company_page, MR_TYPE_COMPANY_PAGE, "exchange_find_button"), "clicked");
    wait_for (sign_in_dialog_open, NULL, "the question about the redirect");
    ask = find_message_dialog ();
    g_assert_nonnull (strstr (adw_message_dialog_get_body (ask), "hosted.example.net"));
    screenshot_window (GTK_WINDOW (ask), "autodiscover-redirect.png");
    /* As the button does: the answer, then the dialog closes. */
    adw_message_dialog_response (ask, "allow");
    gtk_window_destroy (GTK_WINDOW (ask));
    spin (50);
    wait_for (url_found, url_row, "the EWS address found");
    g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (url_row)), ==, ews_url);
    g_assert_true (gtk_widget_get_sensitive (child (company_page, MR_TYPE_COMPANY_PAGE, "exchange_find_button")));
  }

  /* My Settings: the Exchange login and password, to the keyring. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.show-page", "s", "user"));
  spin (50);
  user = mr_window_get_user_page (window);
  g_assert_true (gtk_widget_get_visible (child (user, MR_TYPE_USER_PAGE, "exchange_group")));
  g_assert_true (gtk_widget_get_visible (child (user, MR_TYPE_USER_PAGE, "exchange_password_row")));
  g_assert_false (gtk_widget_get_visible (child (user, MR_TYPE_USER_PAGE, "sign_in_row")));
  type_text (child (user, MR_TYPE_USER_PAGE, "exchange_username_row"), "CORP\\ann");
  type_text (child (user, MR_TYPE_USER_PAGE, "exchange_password_row"), "Exchange-Pw-7");
  save_and_wait (window);
  wait_for (subtitle_settled, child (user, MR_TYPE_USER_PAGE, "exchange_keyring_row"), "the keyring row");
  g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (child (user, MR_TYPE_USER_PAGE, "exchange_keyring_row"))),
                   ==, "Stored in your keyring");
  screenshot (window, "user-exchange.png");

  /* Check Exchange: logs in and reads Sent Items, sending nothing. */
  {
    MrTestDialog *check;

    g_signal_emit_by_name (child (user, MR_TYPE_USER_PAGE, "exchange_check_button"), "clicked");
    spin (50);
    check = find_test_dialog ();
    g_assert_nonnull (check);
    wait_for (dialog_has_result, check, "the Exchange check");
    spin (100);
    if (!mr_test_dialog_get_succeeded (check))
      g_error ("Check Exchange failed: %s",
               gtk_label_get_text (GTK_LABEL (child (check, MR_TYPE_TEST_DIALOG, "result_description"))));
    g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (child (check, MR_TYPE_TEST_DIALOG, "result_title"))), ==,
                     "Exchange Works");
    screenshot_window (GTK_WINDOW (check), "check-exchange.png");
    gtk_window_destroy (GTK_WINDOW (check));
    spin (50);
  }

  /* The template's route is Exchange: the compose pane sends it there, attachment and all. */
  send_from_compose (window, 1, "Accepted through Exchange (EWS)");
  mime = mr_standin_dup_last_mime (standin);
  g_assert_nonnull (strstr (mime, "Subject: Invoice 7"));
  g_assert_nonnull (strstr (mime, "Preisliste.pdf"));

  /* Automatic, SMTP first: SMTP cannot connect, Exchange takes over. */
  send_from_compose (window, 2, "Accepted through Exchange (EWS)");
  mr_window_show_page (window, "sent");
  sent = mr_window_get_sent_page (window);
  mr_sent_page_refresh (sent);
  spin (100);
  g_assert_cmpuint (mr_sent_page_get_n_shown (sent), ==, 2);
  g_assert_nonnull (find_widget (GTK_WIDGET (sent), is_row_with_subtitle_part, " · through Exchange (EWS) · 2 attempts"));
  g_signal_emit_by_name (child (sent, MR_TYPE_SENT_PAGE, "list"), "row-activated",
                         gtk_list_box_get_row_at_index (GTK_LIST_BOX (child (sent, MR_TYPE_SENT_PAGE, "list")), 0));
  spin (50);
  dialog = find_message_dialog ();
  g_assert_nonnull (dialog);
  g_assert_nonnull (strstr (technical_details (dialog), "fell-back through smtp"));
  g_assert_nonnull (strstr (technical_details (dialog), "accepted through ews"));
  screenshot_window (GTK_WINDOW (dialog), "sent-fallback.png");
  gtk_window_destroy (GTK_WINDOW (dialog));
  spin (50);
  if (mr_standin_validates (standin))
    g_assert_cmpuint (mr_standin_count_invalid (standin), ==, 0);

  /* Exchange Online: Microsoft Graph, after a device-code sign-in on My Settings. */
  {
    g_autoptr(MrSettings) settings = mr_settings_new (NULL, NULL);
    g_autoptr(GError) error = NULL;

    g_assert_true (mr_settings_load (settings, &error));
    g_assert_true (mr_settings_set_and_commit (settings, MR_SCOPE_COMPANY, "exchange.transport", "graph", NULL, &error));
    g_assert_no_error (error);
  }
  close_window (window);
  window = open_window ();
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (child (mr_window_get_company_page (window),
                                                                                MR_TYPE_COMPANY_PAGE,
                                                                                "exchange_guide_row"))),
                            "Entra ID"));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.show-page", "s", "user"));
  spin (50);
  user = mr_window_get_user_page (window);
  g_assert_true (gtk_widget_get_visible (child (user, MR_TYPE_USER_PAGE, "sign_in_row")));
  g_assert_false (gtk_widget_get_visible (child (user, MR_TYPE_USER_PAGE, "exchange_password_row")));
  mr_standin_set_token_script (standin, "pending,ok");
  g_signal_emit_by_name (child (user, MR_TYPE_USER_PAGE, "sign_in_button"), "clicked");
  wait_for (sign_in_dialog_open, NULL, "the sign-in dialog");
  dialog = find_message_dialog ();
  g_assert_nonnull (strstr (adw_message_dialog_get_body (dialog), "FJ7KQ2LXM"));
  g_assert_nonnull (strstr (adw_message_dialog_get_body (dialog), "/devicelogin"));
  /* The code can be copied: the dialog stays, waiting. */
  {
    GtkWidget *copy = find_widget (adw_message_dialog_get_extra_child (dialog), is_button_with_label, "_Copy Code");

    g_assert_nonnull (copy);
    g_signal_emit_by_name (copy, "clicked");
    spin (50);
    g_assert_true (find_message_dialog () == dialog);
  }
  screenshot_window (GTK_WINDOW (dialog), "sign-in.png");
  wait_at_most (20, signed_in, child (user, MR_TYPE_USER_PAGE, "sign_in_row"), "the sign-in");
  g_assert_null (find_message_dialog ());
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (child (user, MR_TYPE_USER_PAGE, "sign_in_row"))),
                            "CORP\\ann"));

  send_from_compose (window, 1, "Accepted through Microsoft Graph");
  {
    g_autoptr(GPtrArray) sends = mr_standin_get_requests (standin, "/v1.0/me/sendMail");
    g_assert_cmpuint (sends->len, ==, 1);
  }
  close_window (window);
}

/* Gmail with OAuth2: My Settings signs in in the browser (PKCE, loopback redirect), and the compose
 * pane then sends by XOAUTH2 with a token from that sign-in. */
static void
test_gmail_sign_in (MrTestDirs    *dirs,
                    gconstpointer  data)
{
  g_autofree char *pem = mr_test_cert_path ("good.pem");
  g_autofree char *key = mr_test_cert_path ("good.key");
  g_autofree char *ca = mr_test_cert_path ("ca.pem");
  g_autoptr(MrTestServer) server = mr_test_server_start ("smtp-server.py", "--mode", "starttls", "--cert", pem,
                                                         "--key", key, "--auth-required",
                                                         "--token", "ann.gui@gmail.example:tok-gui-google", NULL);
  g_autoptr(MrStandin) standin = mr_standin_start ();
  g_autofree char *auth_url = mr_standin_url (standin, "/google/auth");
  g_autofree char *token_url = mr_standin_url (standin, "/google/token");
  g_autofree char *template_path = g_build_filename (dirs->company_templates, "invoice.json", NULL);
  g_autofree char *log = g_build_filename (dirs->root, "browser.log", NULL);
  g_autofree char *company = NULL;
  g_autofree char *opened = NULL;
  GtkWidget *row;
  MrWindow *window;
  MrUserPage *user;

  /* A login no other test signs in with: the suite shares one keyring. */
  if (!mr_test_require_keyring ())
    return;
  mr_test_install_fake_browser (g_get_user_data_dir (), g_get_user_config_dir (), log);
  mr_standin_set_token_for_scope (standin, "https://mail.google.com/", "tok-gui-google");
  company = g_strdup_printf ("{\"schema_version\": 1, \"settings\": {\"smtp.provider\": \"gmail\", "
                             "\"smtp.host\": \"localhost\", \"smtp.port\": %u, \"smtp.security\": \"starttls\", "
                             "\"smtp.auth\": \"oauth2\", \"smtp.credentials\": \"per-user\", "
                             "\"smtp.tls_trust_file\": \"%s\", \"exchange.trust_file\": \"%s\", "
                             "\"google.client_id\": \"123-test.apps.googleusercontent.com\", "
                             "\"google.client_secret\": \"GOCSPX-test\", \"google.authorize_url\": \"%s\", "
                             "\"google.token_url\": \"%s\", \"sender.from_address\": \"ann.gui@gmail.example\"}}",
                             server->port, ca, ca, auth_url, token_url);
  mr_test_write_file (dirs->company_path, company);
  {
    g_autofree char *user_dir = g_path_get_dirname (dirs->user_path);
    g_mkdir_with_parents (user_dir, 0700);
  }
  mr_test_write_file (dirs->user_path, "{\"schema_version\": 1, \"settings\": {\"smtp.username\": \"ann.gui@gmail.example\"}}");
  g_mkdir_with_parents (dirs->company_templates, 0755);
  mr_test_write_file (template_path, "{\"schema_version\": 1, \"name\": \"Invoice\", \"subject\": \"Invoice {{number}}\","
                                     " \"text\": \"Dear {{name}}, invoice {{number}}.\"}");

  window = open_window ();
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.show-page", "s", "user"));
  spin (50);
  user = mr_window_get_user_page (window);
  row = child (user, MR_TYPE_USER_PAGE, "smtp_sign_in_row");
  g_assert_true (gtk_widget_get_visible (child (user, MR_TYPE_USER_PAGE, "smtp_sign_in_group")));
  g_assert_false (gtk_widget_get_visible (child (user, MR_TYPE_USER_PAGE, "password_row")));
  wait_for (subtitle_settled, row, "the sign-in row");
  g_assert_true (g_str_has_prefix (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), "Not signed in"));

  /* The person takes a moment in the browser, long enough to see the dialog that waits. */
  mr_test_setenv ("MAILROOM_FAKE_BROWSER_DELAY_MS", "1500");
  g_signal_emit_by_name (child (user, MR_TYPE_USER_PAGE, "smtp_sign_in_button"), "clicked");
  spin (50);
  g_assert_nonnull (find_message_dialog ());
  screenshot_window (GTK_WINDOW (find_message_dialog ()), "sign-in-google.png");
  wait_at_most (20, signed_in, row, "the browser sign-in");
  mr_test_setenv ("MAILROOM_FAKE_BROWSER_DELAY_MS", NULL);
  g_assert_null (find_message_dialog ());
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), "ann.gui@gmail.example"));
  opened = mr_test_read_file (log);
  g_assert_nonnull (strstr (opened, "/google/auth?"));
  screenshot (window, "user-sign-in.png");

  send_from_compose (window, 0, "Accepted through SMTP");
  g_assert_cmpuint (mr_test_server_count_messages (server), ==, 1);

  /* Sign Out, beside Sign In Again, forgets the sign-in. */
  mr_window_show_page (window, "user");
  spin (50);
  {
    GtkWidget *sign_out = find_widget (row, is_button_with_label, "Sign _Out");

    g_assert_nonnull (sign_out);
    g_assert_true (gtk_widget_get_visible (sign_out));
    g_signal_emit_by_name (sign_out, "clicked");
    wait_for (not_signed_in, row, "the sign-out");
    g_assert_false (gtk_widget_get_visible (sign_out));
  }
  close_window (window);
}

int
main (int    argc,
      char **argv)
{
  self_path = argv[0];
  mr_test_init (&argc, &argv);
  /* The domains the tests send from are the tests' own: what their DNS says is set here, and
   * nothing is asked of the real one (the mailshot wizard checks the From domain's DNS). */
  mr_test_dns_close ("example.com");
  mr_test_dns_close ("example.org");
  mr_test_dns_add ("TXT", "example.com", "v=spf1 ip4:127.0.0.1 ip6:::1 -all");
  mr_test_dns_add ("TXT", "_dmarc.example.com", "v=DMARC1; p=none");
  mr_test_dns_add ("MX", "example.com", "10 mx.example.com");
  gtk_init ();
  adw_init ();

#define ADD(path, func) g_test_add (path, MrTestDirs, NULL, mr_test_dirs_setup, func, mr_test_dirs_teardown)
  ADD ("/gui/company/fill-and-save", test_company_page_fill_and_save);
  ADD ("/gui/company/validation", test_company_page_validation);
  ADD ("/gui/company/relay-and-plaintext", test_relay_and_plaintext);
  ADD ("/gui/company/regions", test_company_regions);
  ADD ("/gui/company/read-only", test_read_only_company);
  ADD ("/gui/company/corrupt-file", test_corrupt_company_file);
  ADD ("/gui/user", test_user_page);
  ADD ("/gui/welcome", test_welcome);
  ADD ("/gui/welcome-to-test-email", test_welcome_to_test_email);
  ADD ("/gui/errors-in-words", test_errors_in_words);
  ADD ("/gui/clerk-own-login-to-test-email", test_clerk_own_login_to_test_email);
  ADD ("/gui/sizes", test_sizes);
  ADD ("/gui/startup-builds-one-page", test_startup_builds_one_page);
  ADD ("/gui/first-start-own-login", test_first_start_own_login);
  ADD ("/gui/compose-nothing-set-up", test_compose_nothing_set_up);
  ADD ("/gui/shortcuts", test_shortcuts);
  ADD ("/gui/company/exchange-not-used", test_company_exchange_not_used);
  ADD ("/gui/mailshot-wizard", test_mailshot_wizard);
  ADD ("/gui/mailshot-spreadsheet", test_mailshot_spreadsheet);
  ADD ("/gui/compose-address-completion", test_compose_address_completion);
  ADD ("/gui/editor", test_editor);
  ADD ("/gui/compose-editor", test_compose_editor);
  ADD ("/gui/signatures", test_signatures);
  g_test_add_func ("/gui/source-highlight", test_source_highlight);
  ADD ("/gui/editor-remote-pictures", test_editor_remote_pictures);
  ADD ("/gui/mailshot-edit-template", test_mailshot_edit_template);
  ADD ("/gui/first-mailshot", test_first_mailshot);
  ADD ("/gui/mailshot-deliverability", test_mailshot_deliverability);
  ADD ("/gui/mailshot-timer", test_mailshot_timer_row);
  ADD ("/gui/mailshot-via", test_mailshot_via);
  ADD ("/gui/mailshot-pause-resume-cancel", test_mailshot_pause_resume_cancel);
  if (g_getenv ("MAILROOM_BENCH_STALL_ROWS") != NULL)
    ADD ("/gui/mailshot-stall", test_mailshot_stall);
  ADD ("/gui/company/lists", test_company_lists);
  ADD ("/gui/company/domains", test_company_domains);
  ADD ("/gui/company/pace", test_company_pace);
  ADD ("/gui/company/required-host", test_required_host);
  ADD ("/gui/keyboard", test_keyboard_reaches_rows);
  ADD ("/gui/no-keyring", test_no_keyring);
  ADD ("/gui/compose-and-sent", test_compose_and_sent);
  ADD ("/gui/exchange", test_exchange);
  ADD ("/gui/gmail-sign-in", test_gmail_sign_in);
  ADD ("/gui/compose-draft-mailto-outbox", test_compose_draft_mailto_outbox);
  ADD ("/gui/compose-save-template", test_compose_save_template);
  ADD ("/gui/compose-html-preview", test_compose_html_preview);
  ADD ("/gui/send-test-email", test_send_test_email);
  ADD ("/gui/check-server-and-pin", test_check_server_and_pin);
#undef ADD

  return g_test_run ();
}
