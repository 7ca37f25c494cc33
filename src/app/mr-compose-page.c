/* mr-compose-page.c: the compose pane */

#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>

#include "mr-key-labels.h"
#include "mr-exchange.h"
#include "mr-json.h"
#include "mr-address-completion.h"
#include "mr-compose-page.h"
#include "mr-edit-window.h"
#if HAVE_WEBKIT
#include "mr-editor.h"
#endif
#include "mr-message-view.h"
#include "mr-routes.h"
#include "mr-signature.h"
#include "mr-source-highlight.h"
#include "mr-outbox.h"
#include "mr-template.h"

struct _MrComposePage
{
  AdwBin               parent_instance;

  MrSettings          *settings;
  MrSentLog           *log;
  GPtrArray           *templates;      /* MrTemplate, in the combo's order after "Blank" */
  GHashTable          *variable_rows;  /* name → AdwEntryRow */
  GPtrArray           *attachments;    /* char* paths added here */
  GPtrArray           *attachment_rows;
  GCancellable        *cancellable;
  guint                draft_timeout;
  guint64              size_limit;     /* what the server last announced; 0: not known */
  gboolean             loading;
  gboolean             busy;

  AdwComboRow         *template_row;
  AdwComboRow         *via_row;
  AdwPreferencesPage  *preferences_page;
  AdwActionRow        *from_row;
  AdwEntryRow         *to_row;
  AdwEntryRow         *cc_row;
  AdwEntryRow         *bcc_row;
  AdwPreferencesGroup *variables_group;
  AdwEntryRow         *subject_row;
  GtkTextView         *text_view;
  GtkTextView         *html_view;
  AdwPreferencesGroup *text_group;
  GtkSwitch           *own_text_switch;
  gboolean             deriving;       /* the text part is being made from the HTML */
  AdwPreferencesGroup *html_group;
  GtkStack            *html_stack;
  GtkWidget           *source_button;
  GtkWidget           *editor;         /* MrEditor, with WebKitGTK; the source view is html_view */
  gboolean             syncing;        /* the editor and the source view follow each other */
  AdwPreferencesGroup *attachments_group;
  AdwActionRow        *signature_row;
  GtkSwitch           *signature_switch;
  AdwActionRow        *size_row;
  GtkSpinner          *spinner;
  GtkLabel            *status_label;
  GtkWidget           *fix_button;
  gboolean             blocked;       /* the status says why Send is off */
  GtkWidget           *send_button;
  GtkWidget           *cancel_button;
  GtkWidget           *preview_button;
  GtkWidget           *save_template_button;
  GtkWidget           *save_button;     /* the template chosen, changed in place */
};

G_DEFINE_FINAL_TYPE (MrComposePage, mr_compose_page, ADW_TYPE_BIN)

enum {
  SENT,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void schedule_draft (MrComposePage *self);
static void refresh_variables (MrComposePage *self);
static void load_templates (MrComposePage *self);

/* ---- Small helpers ---------------------------------------------------------------------------- */

static void
set_buffer_text (GtkTextView *view,
                 const char  *text)
{
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (view), text ? text : "", -1);
}

/* "a@x, b@y" → addresses; FALSE with the first bad one named. */
static gboolean
parse_addresses (const char  *text,
                 GPtrArray   *into,
                 GError     **error)
{
  g_auto(GStrv) parts = g_strsplit_set (text, ",;", -1);

  for (guint i = 0; parts[i] != NULL; i++)
    {
      g_autofree char *address = g_strstrip (g_strdup (parts[i]));

      if (*address == '\0')
        continue;
      if (!mr_validate_address (address, error))
        return FALSE;
      if (into != NULL)
        g_ptr_array_add (into, g_steal_pointer (&address));
    }
  return TRUE;
}

static void
check_address_row (AdwEntryRow *row)
{
  g_autoptr(GError) error = NULL;
  const char *text = gtk_editable_get_text (GTK_EDITABLE (row));

  if (parse_addresses (text, NULL, &error))
    {
      gtk_widget_remove_css_class (GTK_WIDGET (row), "error");
      gtk_widget_set_tooltip_text (GTK_WIDGET (row), NULL);
      gtk_accessible_reset_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION);
    }
  else
    {
      gtk_widget_add_css_class (GTK_WIDGET (row), "error");
      gtk_widget_set_tooltip_text (GTK_WIDGET (row), error->message);
      gtk_accessible_update_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, error->message, -1);
    }
}

static void
set_status (MrComposePage *self,
            const char    *text)
{
  g_autofree char *words = mr_key_words (text);

  gtk_label_set_text (self->status_label, words ? words : "");
}

const char *
mr_compose_page_get_status (MrComposePage *self)
{
  return gtk_label_get_text (self->status_label);
}

gboolean
mr_compose_page_get_busy (MrComposePage *self)
{
  return self->busy;
}

static MrTemplate *
selected_template (MrComposePage *self)
{
  guint selected = adw_combo_row_get_selected (self->template_row);

  if (selected == 0 || selected == GTK_INVALID_LIST_POSITION || selected > self->templates->len)
    return NULL;
  return g_ptr_array_index (self->templates, selected - 1);
}

/* ---- Attachments ------------------------------------------------------------------------------ */

static void rebuild_attachments (MrComposePage *self);

static void
on_remove_attachment (GtkButton     *button,
                      MrComposePage *self)
{
  const char *path = g_object_get_data (G_OBJECT (button), "path");

  for (guint i = 0; i < self->attachments->len; i++)
    if (g_str_equal (g_ptr_array_index (self->attachments, i), path))
      {
        g_ptr_array_remove_index (self->attachments, i);
        break;
      }
  rebuild_attachments (self);
  schedule_draft (self);
}

static void
rebuild_attachments (MrComposePage *self)
{
  MrTemplate *template_ = selected_template (self);
  guint64 total = 0;
  guint count = 0;
  g_autofree char *encoded = NULL;
  g_autofree char *title = NULL;

  for (guint i = 0; i < self->attachment_rows->len; i++)
    adw_preferences_group_remove (self->attachments_group, g_ptr_array_index (self->attachment_rows, i));
  g_ptr_array_set_size (self->attachment_rows, 0);

  for (guint source = 0; source < 2; source++)
    {
      guint n = source == 0 ? (template_ ? template_->attachments->len : 0) : self->attachments->len;

      for (guint i = 0; i < n; i++)
        {
          const char *path = source == 0 ? ((MrTemplateAttachment *) g_ptr_array_index (template_->attachments, i))->path
                                         : g_ptr_array_index (self->attachments, i);
          g_autoptr(GFile) file = g_file_new_for_path (path);
          g_autoptr(GFileInfo) info = g_file_query_info (file, G_FILE_ATTRIBUTE_STANDARD_SIZE, G_FILE_QUERY_INFO_NONE, NULL, NULL);
          g_autofree char *basename = g_path_get_basename (path);
          g_autofree char *size = info ? g_format_size (g_file_info_get_size (info)) : g_strdup (_("missing"));
          GtkWidget *row = adw_action_row_new ();

          g_autofree char *subtitle = source == 0 ? g_strdup_printf (_("%s, from the template"), size) : g_strdup (size);

          adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), basename);
          adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
          if (source == 1)
            {
              GtkWidget *remove = gtk_button_new_from_icon_name ("list-remove-symbolic");
              g_autofree char *label = g_strdup_printf (_("Remove %s"), basename);

              gtk_widget_set_valign (remove, GTK_ALIGN_CENTER);
              gtk_widget_add_css_class (remove, "flat");
              gtk_widget_set_tooltip_text (remove, label);
              gtk_accessible_update_property (GTK_ACCESSIBLE (remove), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
              g_object_set_data_full (G_OBJECT (remove), "path", g_strdup (path), g_free);
              g_signal_connect (remove, "clicked", G_CALLBACK (on_remove_attachment), self);
              adw_action_row_add_suffix (ADW_ACTION_ROW (row), remove);
            }
          adw_preferences_group_add (self->attachments_group, row);
          g_ptr_array_add (self->attachment_rows, row);
          if (info != NULL)
            total += g_file_info_get_size (info);
          count++;
        }
    }

  /* What counts against a server's limit is the encoded size: base64 adds a third. */
  encoded = g_format_size (total * 4 / 3);
  title = count == 0 ? g_strdup (_("No attachments"))
                     : g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u attachment, about %s encoded",
                                                     "%u attachments, about %s encoded", count), count, encoded);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->size_row), title);

  if (self->size_limit > 0)
    {
      g_autofree char *limit = g_format_size (self->size_limit);
      gboolean too_big = total * 4 / 3 > self->size_limit;
      g_autofree char *subtitle = too_big ? g_strdup_printf (_("Too big: the server takes messages up to %s"), limit)
                                          : g_strdup_printf (_("The server takes messages up to %s"), limit);

      adw_action_row_set_subtitle (self->size_row, subtitle);
      if (too_big)
        gtk_widget_add_css_class (GTK_WIDGET (self->size_row), "error");
      else
        gtk_widget_remove_css_class (GTK_WIDGET (self->size_row), "error");
    }
  else
    {
      adw_action_row_set_subtitle (self->size_row, NULL);
      gtk_widget_remove_css_class (GTK_WIDGET (self->size_row), "error");
    }
}

/* The limit of the server the selected template's profile sends through, from the last connection. */
static void
refresh_size_limit (MrComposePage *self)
{
  MrTemplate *template_ = selected_template (self);

  self->size_limit = mr_delivery_get_known_size_limit (self->settings, template_ ? template_->app : NULL);
}

void
mr_compose_page_attach_file (MrComposePage *self,
                             const char    *path)
{
  g_ptr_array_add (self->attachments, g_strdup (path));
  rebuild_attachments (self);
  schedule_draft (self);
}

static void
on_file_chosen (GtkNativeDialog *dialog,
                int              response,
                MrComposePage   *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GListModel) files = gtk_file_chooser_get_files (GTK_FILE_CHOOSER (dialog));

      for (guint i = 0; i < g_list_model_get_n_items (files); i++)
        {
          g_autoptr(GFile) file = g_list_model_get_item (files, i);
          g_autofree char *path = g_file_get_path (file);

          if (path != NULL)
            mr_compose_page_attach_file (self, path);
        }
    }
  g_object_unref (dialog);
}

static void
on_attach_clicked (MrComposePage *self)
{
  GtkFileChooserNative *chooser = gtk_file_chooser_native_new (_("Attach Files"),
                                                               GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))),
                                                               GTK_FILE_CHOOSER_ACTION_OPEN, _("_Attach"), _("_Cancel"));

  gtk_file_chooser_set_select_multiple (GTK_FILE_CHOOSER (chooser), TRUE);
  g_signal_connect (chooser, "response", G_CALLBACK (on_file_chosen), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

/* Files dropped on the pane are attached. */
static gboolean
on_drop (GtkDropTarget *target,
         const GValue  *value,
         double         x,
         double         y,
         MrComposePage *self)
{
  GSList *files = g_value_get_boxed (value);

  for (GSList *l = files; l != NULL; l = l->next)
    {
      g_autofree char *path = g_file_get_path (l->data);

      if (path != NULL)
        mr_compose_page_attach_file (self, path);
    }
  return TRUE;
}

/* ---- Variables -------------------------------------------------------------------------------- */

/* ---- The text part: written by hand, or made from the formatted message ---------------------------- */

static gboolean
own_text (MrComposePage *self)
{
  return gtk_switch_get_active (self->own_text_switch);
}

/* Off, the text part is the formatted message's, shown as it will be sent and not edited. */
static void
show_derived_text (MrComposePage *self)
{
  g_autofree char *html = NULL;
  g_autofree char *text = NULL;

  if (own_text (self))
    return;
  html = mr_text_view_get_all (self->html_view);
  text = mr_html_to_text (html);
  self->deriving = TRUE;
  set_buffer_text (self->text_view, text);
  self->deriving = FALSE;
}

static void
on_own_text_changed (MrComposePage *self)
{
  gboolean own = own_text (self);

  gtk_text_view_set_editable (self->text_view, own);
  gtk_text_view_set_cursor_visible (self->text_view, own);
  adw_preferences_group_set_description (self->text_group, own ? NULL
                                         : _("Made from the formatted message, as it will be sent"));
  show_derived_text (self);
}

/* After the bodies were set from a template, a draft or a link: the text is one's own when it has
 * anything in it, or when there is nothing formatted to make it from. */
static void
settle_own_text (MrComposePage *self)
{
  g_autofree char *text = mr_text_view_get_all (self->text_view);
  g_autofree char *html = mr_text_view_get_all (self->html_view);

  gtk_switch_set_active (self->own_text_switch, *text != '\0' || *html == '\0');
  on_own_text_changed (self);
}

static MrTemplate *
template_from_fields (MrComposePage *self)
{
  MrTemplate *current = selected_template (self);
  MrTemplate *template_ = current ? mr_template_copy (current) : mr_template_new ();
  g_autofree char *text = mr_text_view_get_all (self->text_view);
  g_autofree char *html = mr_text_view_get_all (self->html_view);

  if (current == NULL)
    template_->name = g_strdup (_("Blank message"));
  g_free (template_->subject);
  template_->subject = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->subject_row)));
  /* Made from the HTML when sent, unless written by hand. */
  g_free (template_->text);
  template_->text = own_text (self) && (*text || !*html) ? g_steal_pointer (&text) : NULL;
  g_free (template_->html);
  template_->html = *html ? g_steal_pointer (&html) : NULL;
  template_->signature = gtk_switch_get_active (self->signature_switch);
  return template_;
}

static void
on_variable_changed (MrComposePage *self)
{
  schedule_draft (self);
}

static void
refresh_variables (MrComposePage *self)
{
  g_autoptr(MrTemplate) template_ = template_from_fields (self);
  g_autoptr(GPtrArray) names = mr_template_list_variables (template_, NULL);
  GHashTableIter iter;
  gpointer key, row;

  if (names == NULL)  /* a syntax error while typing: keep what is there */
    return;
#if HAVE_WEBKIT
  {
    g_autoptr(GPtrArray) offered = g_ptr_array_new ();

    /* Insert Field: the template's, then the sender's own. */
    g_ptr_array_extend (offered, names, NULL, NULL);
    g_ptr_array_add (offered, (gpointer) "sender.name");
    g_ptr_array_add (offered, (gpointer) "sender.address");
    g_ptr_array_add (offered, NULL);
    mr_editor_set_fields (MR_EDITOR (self->editor), (const char * const *) offered->pdata);
  }
#endif

  /* Rows for names no longer used go; new names get rows; typed values stay. */
  g_hash_table_iter_init (&iter, self->variable_rows);
  while (g_hash_table_iter_next (&iter, &key, &row))
    {
      gboolean used = FALSE;

      for (guint i = 0; i < names->len; i++)
        used = used || g_str_equal (g_ptr_array_index (names, i), key);
      if (!used)
        {
          adw_preferences_group_remove (self->variables_group, row);
          g_hash_table_iter_remove (&iter);
        }
    }
  for (guint i = 0; i < names->len; i++)
    {
      const char *name = g_ptr_array_index (names, i);
      GtkWidget *entry;

      if (g_hash_table_contains (self->variable_rows, name))
        continue;
      entry = adw_entry_row_new ();
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (entry), name);
      g_signal_connect_swapped (entry, "changed", G_CALLBACK (on_variable_changed), self);
      adw_preferences_group_add (self->variables_group, entry);
      g_hash_table_insert (self->variable_rows, g_strdup (name), entry);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->variables_group), g_hash_table_size (self->variable_rows) > 0);
}

gboolean
mr_compose_page_set_variable (MrComposePage *self,
                              const char    *name,
                              const char    *value)
{
  GtkWidget *row = g_hash_table_lookup (self->variable_rows, name);

  if (row == NULL)
    return FALSE;
  gtk_editable_set_text (GTK_EDITABLE (row), value);
  return TRUE;
}

/* The typed values as data; dotted names make nested objects. */
static JsonNode *
variables_data (MrComposePage *self)
{
  JsonObject *root = json_object_new ();
  GHashTableIter iter;
  gpointer key, row;

  g_hash_table_iter_init (&iter, self->variable_rows);
  while (g_hash_table_iter_next (&iter, &key, &row))
    {
      const char *value = gtk_editable_get_text (GTK_EDITABLE (row));
      g_auto(GStrv) parts = g_strsplit (key, ".", -1);
      JsonObject *object = root;

      if (*value == '\0')
        continue;
      for (guint p = 0; parts[p + 1] != NULL; p++)
        {
          if (!json_object_has_member (object, parts[p]) || !JSON_NODE_HOLDS_OBJECT (json_object_get_member (object, parts[p])))
            json_object_set_object_member (object, parts[p], json_object_new ());
          object = json_object_get_object_member (object, parts[p]);
        }
      json_object_set_string_member (object, parts[g_strv_length (parts) - 1], value);
    }
  {
    JsonNode *node = json_node_new (JSON_NODE_OBJECT);

    json_node_take_object (node, root);
    return node;
  }
}

/* ---- Drafts ----------------------------------------------------------------------------------- */

static char *
draft_path (void)
{
  return mr_get_user_data_path ("draft.json");
}

static gboolean
save_draft (gpointer user_data)
{
  MrComposePage *self = user_data;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *text = mr_text_view_get_all (self->text_view);
  g_autofree char *html = mr_text_view_get_all (self->html_view);
  g_autofree char *path = draft_path ();
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *json = NULL;
  MrTemplate *template_ = selected_template (self);
  GHashTableIter iter;
  gpointer key, row;

  self->draft_timeout = 0;
  json_builder_begin_object (builder);
#define MEMBER(name, value) json_builder_set_member_name (builder, name); json_builder_add_string_value (builder, value)
  MEMBER ("template", template_ ? template_->name : "");
  MEMBER ("to", gtk_editable_get_text (GTK_EDITABLE (self->to_row)));
  MEMBER ("cc", gtk_editable_get_text (GTK_EDITABLE (self->cc_row)));
  MEMBER ("bcc", gtk_editable_get_text (GTK_EDITABLE (self->bcc_row)));
  MEMBER ("subject", gtk_editable_get_text (GTK_EDITABLE (self->subject_row)));
  MEMBER ("text", own_text (self) ? text : "");
  MEMBER ("html", html);
#undef MEMBER
  json_builder_set_member_name (builder, "signature");
  json_builder_add_boolean_value (builder, gtk_switch_get_active (self->signature_switch));
  json_builder_set_member_name (builder, "variables");
  json_builder_begin_object (builder);
  g_hash_table_iter_init (&iter, self->variable_rows);
  while (g_hash_table_iter_next (&iter, &key, &row))
    {
      json_builder_set_member_name (builder, key);
      json_builder_add_string_value (builder, gtk_editable_get_text (GTK_EDITABLE (row)));
    }
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "attachments");
  json_builder_begin_array (builder);
  for (guint i = 0; i < self->attachments->len; i++)
    json_builder_add_string_value (builder, g_ptr_array_index (self->attachments, i));
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  json = json_to_string (root, TRUE);

  /* Written atomically: a crash leaves the previous draft, never half of one. */
  g_mkdir_with_parents (dir, 0700);
  g_file_set_contents_full (path, json, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, NULL);
  return G_SOURCE_REMOVE;
}

static void
schedule_draft (MrComposePage *self)
{
  if (self->loading)
    return;
  if (self->draft_timeout != 0)
    g_source_remove (self->draft_timeout);
  self->draft_timeout = g_timeout_add (500, save_draft, self);
}

static void
forget_draft (void)
{
  g_autofree char *path = draft_path ();
  g_unlink (path);
}

static void
restore_draft (MrComposePage *self)
{
  g_autofree char *path = draft_path ();
  g_autoptr(JsonNode) root = mr_json_parse_file (path, NULL);
  JsonObject *draft;
  const char *template_name;

  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return;
  draft = json_node_get_object (root);

  self->loading = TRUE;
  template_name = json_object_get_string_member_with_default (draft, "template", "");
  if (*template_name != '\0')
    mr_compose_page_select_template (self, template_name);
  gtk_editable_set_text (GTK_EDITABLE (self->to_row), json_object_get_string_member_with_default (draft, "to", ""));
  gtk_editable_set_text (GTK_EDITABLE (self->cc_row), json_object_get_string_member_with_default (draft, "cc", ""));
  gtk_editable_set_text (GTK_EDITABLE (self->bcc_row), json_object_get_string_member_with_default (draft, "bcc", ""));
  gtk_editable_set_text (GTK_EDITABLE (self->subject_row), json_object_get_string_member_with_default (draft, "subject", ""));
  set_buffer_text (self->text_view, json_object_get_string_member_with_default (draft, "text", ""));
  set_buffer_text (self->html_view, json_object_get_string_member_with_default (draft, "html", ""));
  settle_own_text (self);
  gtk_switch_set_active (self->signature_switch, json_object_get_boolean_member_with_default (draft, "signature", TRUE));
  if (json_object_has_member (draft, "attachments"))
    {
      JsonArray *files = json_object_get_array_member (draft, "attachments");
      for (guint i = 0; i < json_array_get_length (files); i++)
        g_ptr_array_add (self->attachments, g_strdup (json_array_get_string_element (files, i)));
    }
  refresh_variables (self);
  if (json_object_has_member (draft, "variables"))
    {
      JsonObject *values = json_object_get_object_member (draft, "variables");
      GList *names = json_object_get_members (values);

      for (GList *l = names; l != NULL; l = l->next)
        mr_compose_page_set_variable (self, l->data, json_object_get_string_member (values, l->data));
      g_list_free (names);
    }
  rebuild_attachments (self);
  self->loading = FALSE;
}

/* ---- Templates -------------------------------------------------------------------------------- */

/* How a logged route reads in a sentence. */
static const char *
route_label (const char *route)
{
  if (g_strcmp0 (route, "ews") == 0)
    return _("Exchange (EWS)");
  if (g_strcmp0 (route, "graph") == 0)
    return _("Microsoft Graph");
  if (g_strcmp0 (route, "sendmail") == 0)
    return _("the sendmail program");
  return _("SMTP");
}

static void update_send_state (MrComposePage *self);
static void update_save_state (MrComposePage *self);

static void
on_template_selected (MrComposePage *self)
{
  MrTemplate *template_ = selected_template (self);
  gboolean was_loading = self->loading;

  self->loading = TRUE;
  if (template_ != NULL)
    {
      gtk_editable_set_text (GTK_EDITABLE (self->subject_row), template_->subject ? template_->subject : "");
      set_buffer_text (self->text_view, template_->text);
      set_buffer_text (self->html_view, template_->html);
      settle_own_text (self);
      adw_combo_row_set_selected (self->via_row, mr_route_get_row (template_->route));
    }
  gtk_switch_set_active (self->signature_switch, template_ == NULL || template_->signature);
  refresh_variables (self);
  refresh_size_limit (self);
  rebuild_attachments (self);
  update_send_state (self);
  update_save_state (self);
  self->loading = was_loading;
  schedule_draft (self);
}

/* A person's own template comes before the company's of the same name, as in the engine. */
gboolean
mr_compose_page_select_template (MrComposePage *self,
                                 const char    *name)
{
  guint found = 0;

  for (guint i = 0; i < self->templates->len; i++)
    {
      MrTemplate *template_ = g_ptr_array_index (self->templates, i);

      if (g_strcmp0 (template_->name, name) != 0)
        continue;
      if (found == 0 || template_->scope == MR_TEMPLATE_SCOPE_PERSONAL)
        found = i + 1;
    }
  if (found == 0)
    return FALSE;
  adw_combo_row_set_selected (self->template_row, found);
  return TRUE;
}

/* ---- Save as template ------------------------------------------------------------------------- */

static gboolean
has_personal_template (MrComposePage *self,
                       const char    *name)
{
  for (guint i = 0; i < self->templates->len; i++)
    {
      MrTemplate *template_ = g_ptr_array_index (self->templates, i);

      if (template_->scope == MR_TEMPLATE_SCOPE_PERSONAL && g_utf8_collate (template_->name, name) == 0)
        return TRUE;
    }
  return FALSE;
}

gboolean
mr_compose_page_save_as_template (MrComposePage  *self,
                                  const char     *name,
                                  GError        **error)
{
  g_autoptr(MrTemplate) template_ = template_from_fields (self);
  g_autofree char *status = NULL;
  gboolean replace;

  g_free (template_->name);
  template_->name = g_strstrip (g_strdup (name));
  replace = has_personal_template (self, template_->name);
  /* What was attached here becomes part of the template. */
  for (guint i = 0; i < self->attachments->len; i++)
    {
      MrTemplateAttachment *attachment = g_new0 (MrTemplateAttachment, 1);

      attachment->path = g_strdup (g_ptr_array_index (self->attachments, i));
      g_ptr_array_add (template_->attachments, attachment);
    }
  if (!mr_template_save_personal (template_, replace, error))
    return FALSE;

  g_ptr_array_set_size (self->attachments, 0);
  self->loading = TRUE;
  load_templates (self);
  self->loading = FALSE;
  mr_compose_page_select_template (self, template_->name);
  status = g_strdup_printf (_("Saved as your template “%s”."), template_->name);
  set_status (self, status);
  return TRUE;
}

/* Save: the template chosen, as it now is, in place; one's own templates only (the company's are
 * the administrator's, in a folder others cannot write). */
static void
update_save_state (MrComposePage *self)
{
  MrTemplate *current = selected_template (self);
  const char *why = current == NULL ? _("Choose one of your templates first, or save this as a new one")
                    : current->scope != MR_TEMPLATE_SCOPE_PERSONAL ? _("A company template is changed by the administrator: "
                                                                        "save yours as a new template")
                    : NULL;

  gtk_widget_set_sensitive (self->save_button, why == NULL);
  gtk_widget_set_tooltip_text (self->save_button, why ? why : _("Save the changes to this template"));
}

gboolean
mr_compose_page_save_template (MrComposePage  *self,
                               GError        **error)
{
  MrTemplate *current = selected_template (self);
  g_autofree char *name = NULL;

  if (current == NULL || current->scope != MR_TEMPLATE_SCOPE_PERSONAL)
    {
      g_set_error_literal (error, MR_TEMPLATE_ERROR, MR_TEMPLATE_ERROR_INVALID,
                           _("Only your own templates can be saved in place"));
      return FALSE;
    }
  name = g_strdup (current->name);
  return mr_compose_page_save_as_template (self, name, error);
}

static void
on_save_clicked (MrComposePage *self)
{
  g_autoptr(GError) error = NULL;

  if (!mr_compose_page_save_template (self, &error))
    set_status (self, error->message);
}

static void
on_save_template_response (AdwMessageDialog *dialog,
                           const char       *response,
                           MrComposePage    *self)
{
  g_autoptr(GError) error = NULL;

  if (g_str_equal (response, "save") &&
      !mr_compose_page_save_as_template (self, mr_template_name_dialog_get_name (GTK_WIDGET (dialog)), &error))
    set_status (self, error->message);
}

static void
on_save_template_clicked (MrComposePage *self)
{
  MrTemplate *current = selected_template (self);
  /* A personal template is offered under its own name, to update it; anything else starts empty. */
  GtkWidget *dialog = mr_template_name_dialog_new (GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))),
                                                   _("Save as Template"),
                                                   current != NULL && current->scope == MR_TEMPLATE_SCOPE_PERSONAL
                                                     ? current->name : "");

  g_signal_connect_object (dialog, "response", G_CALLBACK (on_save_template_response), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
load_templates (MrComposePage *self)
{
  g_autoptr(GtkStringList) names = gtk_string_list_new (NULL);

  g_clear_pointer (&self->templates, g_ptr_array_unref);
  self->templates = mr_template_list (NULL);
  gtk_string_list_append (names, _("Blank message"));
  for (guint i = 0; i < self->templates->len; i++)
    {
      MrTemplate *template_ = g_ptr_array_index (self->templates, i);
      g_autofree char *label = template_->scope == MR_TEMPLATE_SCOPE_COMPANY
                                 ? g_strdup_printf (_("%s (company)"), template_->name) : g_strdup (template_->name);
      gtk_string_list_append (names, label);
    }
  adw_combo_row_set_model (self->template_row, G_LIST_MODEL (names));
}

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
  g_autoptr(MrTemplate) template_ = template_from_fields (self);
  g_autoptr(JsonNode) data = variables_data (self);
  g_autoptr(MrRendered) rendered = NULL;
  g_autoptr(MrOutgoing) outgoing = mr_outgoing_new ();

  if (!parse_addresses (gtk_editable_get_text (GTK_EDITABLE (self->to_row)), outgoing->to, error))
    {
      g_prefix_error (error, _("To: "));
      return NULL;
    }
  if (!parse_addresses (gtk_editable_get_text (GTK_EDITABLE (self->cc_row)), outgoing->cc, error))
    {
      g_prefix_error (error, _("Cc: "));
      return NULL;
    }
  if (!parse_addresses (gtk_editable_get_text (GTK_EDITABLE (self->bcc_row)), outgoing->bcc, error))
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
  MrTemplate *template_ = selected_template (self);
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
  MrTemplate *template_ = selected_template (self);
  g_autoptr(GError) error = NULL;
  g_autofree char *from = NULL;

  if (template_ != NULL && template_->from_address != NULL)
    from = template_->from_name ? g_strdup_printf ("%s <%s>", template_->from_name, template_->from_address)
                                : g_strdup (template_->from_address);
  else
    from = mr_delivery_describe_sender (self->settings, template_ ? template_->app : NULL, &error);
  adw_action_row_set_subtitle (self->from_row, from ? from : _("Not set yet"));
}

const char *
mr_compose_page_get_from (MrComposePage *self)
{
  return adw_action_row_get_subtitle (self->from_row);
}

/* Send is insensitive while no mail could go, and the reason stands beside it with the button
 * that leads to the fix. */
static void
update_send_state (MrComposePage *self)
{
  const char *fix_page = NULL;
  const char *reason = self->settings ? blocked_reason (self, &fix_page) : NULL;

  if (self->settings != NULL)
    update_from_row (self);

  gtk_widget_set_sensitive (self->send_button, !self->busy && reason == NULL);
  gtk_widget_set_tooltip_text (self->send_button, reason);
  if (reason != NULL || self->blocked)
    set_status (self, reason);
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
  update_send_state (self);
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
  refresh_size_limit (self);
  rebuild_attachments (self);
  if (report == NULL)
    {
      set_status (self, error->message);
      return;
    }

  if (report->state == MR_SENT_STATE_ACCEPTED)
    {
      g_autofree char *status = g_strdup_printf (_("Accepted through %s. The Sent page has it (%s)."),
                                                 route_label (report->route), report->message_id);

      set_status (self, status);
      /* Sent: the draft has done its work. */
      self->loading = TRUE;
      gtk_editable_set_text (GTK_EDITABLE (self->to_row), "");
      gtk_editable_set_text (GTK_EDITABLE (self->cc_row), "");
      gtk_editable_set_text (GTK_EDITABLE (self->bcc_row), "");
      g_ptr_array_set_size (self->attachments, 0);
      rebuild_attachments (self);
      self->loading = FALSE;
      forget_draft ();
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
      set_status (self, status->str);
      g_string_free (status, TRUE);
      forget_draft ();
    }
  else if (report->state == MR_SENT_STATE_QUEUED)
    {
      g_autofree char *status = g_strdup_printf (_("Not sent yet: %s\nIt waits in the outbox and will be tried again."),
                                                 report->failure ? report->failure->message : "");
      set_status (self, status);
      forget_draft ();
    }
  else
    set_status (self, report->failure ? report->failure->message : _("Sending failed."));
  g_signal_emit (self, signals[SENT], 0);
}

static void
on_send_clicked (MrComposePage *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MrTemplate) used = NULL;
  g_autoptr(GTask) task = NULL;
  g_autoptr(MrSettings) snapshot = NULL;
  g_autoptr(MrDelivery) delivery = NULL;
  MrTemplate *current = selected_template (self);
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
        set_status (self, reason);
        return;
      }
  }
  if (*gtk_editable_get_text (GTK_EDITABLE (self->to_row)) == '\0')
    {
      set_status (self, _("Enter at least one recipient in To."));
      gtk_widget_grab_focus (GTK_WIDGET (self->to_row));
      return;
    }
  outgoing = build_outgoing (self, &used, NULL, &error);
  if (outgoing == NULL)
    {
      set_status (self, error->message);
      return;
    }

  /* The worker reads its own copy of the settings: the window may change them meanwhile. */
  snapshot = mr_settings_new (NULL, NULL);
  if (!mr_settings_load (snapshot, &error))
    {
      mr_outgoing_free (outgoing);
      set_status (self, error->message);
      return;
    }
  delivery = mr_delivery_new (snapshot, current ? current->app : NULL, NULL);

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
    status = g_strdup_printf (_("Sending via SMTP to %s…"), delivery ? mr_delivery_get_route (delivery) : _("the server"));
  set_status (self, status);
  set_busy (self, TRUE);

  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  task = g_task_new (NULL, self->cancellable, on_sent, g_object_ref (self));
  g_task_set_source_tag (task, on_send_clicked);
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
  set_buffer_text (self->text_view, "");
  set_buffer_text (self->html_view, "");
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
            set_buffer_text (self->text_view, value);
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
  settle_own_text (self);
  self->loading = FALSE;
  check_address_row (self->to_row);
  check_address_row (self->cc_row);
  check_address_row (self->bcc_row);
  refresh_variables (self);
  schedule_draft (self);
  return TRUE;
}

/* ---- GObject ---------------------------------------------------------------------------------- */

static void
on_address_changed (GtkEditable   *editable,
                    MrComposePage *self)
{
  check_address_row (ADW_ENTRY_ROW (editable));
  schedule_draft (self);
}

static void
on_content_changed (MrComposePage *self)
{
  if (self->deriving)
    return;
  if (!self->loading)
    refresh_variables (self);
  schedule_draft (self);
}

/* What the Signatures switch would add, read again when the page is shown: My Settings may have
 * changed it. Off, and saying why, when there is none to add. */
static void
refresh_signature (MrComposePage *self)
{
  g_autofree char *mine = mr_signature_load (MR_SIGNATURE_PERSONAL, NULL);
  g_autofree char *company = mr_signature_load (MR_SIGNATURE_COMPANY, NULL);
  const char *subtitle;

  if (mine == NULL && company == NULL)
    subtitle = _("None to add: write yours in My Settings");
  else if (!gtk_switch_get_active (self->signature_switch))
    subtitle = _("Not added to this message");
  else if (mine != NULL && company != NULL)
    subtitle = _("Yours, then the company’s, below the message");
  else if (mine != NULL)
    subtitle = _("Yours, below the message");
  else
    subtitle = _("The company’s, below the message");
  adw_action_row_set_subtitle (self->signature_row, subtitle);
  gtk_widget_set_sensitive (GTK_WIDGET (self->signature_switch), mine != NULL || company != NULL);
}

static void
on_signature_switched (MrComposePage *self)
{
  refresh_signature (self);
  schedule_draft (self);
}

/* The formatted message changed: so does the text made from it. */
static void
on_html_changed (MrComposePage *self)
{
  show_derived_text (self);
}

/* ---- The formatted message: the editor, or its HTML source -------------------------------------- */

#if HAVE_WEBKIT
static gboolean
editing_formatted (MrComposePage *self)
{
  return g_strcmp0 (gtk_stack_get_visible_child_name (self->html_stack), "editor") == 0;
}

/* The source view holds what the editor shows: the HTML the message is built from. */
static void
on_editor_changed (MrComposePage *self)
{
  g_autofree char *source = mr_text_view_get_all (self->html_view);

  if (self->syncing || !editing_formatted (self) || g_str_equal (mr_editor_get_html (MR_EDITOR (self->editor)), source))
    return;
  self->syncing = TRUE;
  set_buffer_text (self->html_view, mr_editor_get_html (MR_EDITOR (self->editor)));
  self->syncing = FALSE;
}

/* HTML set from elsewhere (a template chosen, a draft restored) goes into the editor. */
static void
on_source_changed (MrComposePage *self)
{
  g_autofree char *html = NULL;

  if (self->syncing || !editing_formatted (self))
    return;
  html = mr_text_view_get_all (self->html_view);
  self->syncing = TRUE;
  mr_editor_set_html (MR_EDITOR (self->editor), html);
  self->syncing = FALSE;
}

/* Edit as HTML: the source; back, the editor reads the source again. */
static void
on_source_toggled (MrComposePage *self)
{
  gboolean source = gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (self->source_button));

  gtk_stack_set_visible_child_name (self->html_stack, source ? "source" : "editor");
  if (!source)
    on_source_changed (self);
  gtk_widget_grab_focus (source ? GTK_WIDGET (self->html_view) : mr_editor_get_web_view (MR_EDITOR (self->editor)));
}

static void
on_editor_notice (MrComposePage *self,
                  const char    *words)
{
  set_status (self, words);
}
#endif

static void
set_up_editor (MrComposePage *self)
{
#if HAVE_WEBKIT
  self->editor = mr_editor_new ();
  gtk_stack_add_named (self->html_stack, self->editor, "editor");
  gtk_stack_set_visible_child_name (self->html_stack, "editor");
  gtk_widget_set_visible (self->source_button, TRUE);
  /* The formatted message is the body and takes the height; its text part follows the signatures. */
  g_object_ref (self->text_group);
  g_object_ref (self->attachments_group);
  adw_preferences_page_remove (self->preferences_page, self->text_group);
  adw_preferences_page_remove (self->preferences_page, self->attachments_group);
  adw_preferences_page_add (self->preferences_page, self->text_group);
  adw_preferences_page_add (self->preferences_page, self->attachments_group);
  g_object_unref (self->text_group);
  g_object_unref (self->attachments_group);
  gtk_widget_set_vexpand (gtk_widget_get_parent (GTK_WIDGET (self->text_view)), FALSE);
  g_signal_connect_swapped (self->editor, "changed", G_CALLBACK (on_editor_changed), self);
  g_signal_connect_swapped (self->editor, "notice", G_CALLBACK (on_editor_notice), self);
  g_signal_connect_swapped (gtk_text_view_get_buffer (self->html_view), "changed", G_CALLBACK (on_source_changed), self);
  g_signal_connect_swapped (self->source_button, "toggled", G_CALLBACK (on_source_toggled), self);
#else
  /* Without WebKitGTK the formatted message is written as HTML. */
  adw_preferences_group_set_title (self->html_group, _("HTML"));
#endif
}

GtkWidget *
mr_compose_page_get_editor (MrComposePage *self)
{
  return self->editor;
}

static void
mr_compose_page_dispose (GObject *object)
{
  MrComposePage *self = MR_COMPOSE_PAGE (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  /* Whatever was typed last is kept. */
  if (self->draft_timeout != 0)
    {
      g_source_remove (self->draft_timeout);
      save_draft (self);
    }
  g_clear_object (&self->settings);
  g_clear_object (&self->log);
  g_clear_pointer (&self->templates, g_ptr_array_unref);
  g_clear_pointer (&self->variable_rows, g_hash_table_unref);
  g_clear_pointer (&self->attachments, g_ptr_array_unref);
  g_clear_pointer (&self->attachment_rows, g_ptr_array_unref);

  gtk_widget_dispose_template (GTK_WIDGET (self), MR_TYPE_COMPOSE_PAGE);
  self->status_label = NULL;

  G_OBJECT_CLASS (mr_compose_page_parent_class)->dispose (object);
}

static void
mr_compose_page_class_init (MrComposePageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = mr_compose_page_dispose;

  /* A send finished (accepted, queued or failed): the Sent page has something new. */
  signals[SENT] = g_signal_new ("sent", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/mailroom/Mailroom/mr-compose-page.ui");
  gtk_widget_class_bind_template_child (widget_class, MrComposePage, template_row);
  gtk_widget_class_bind_template_child (widget_class, MrComposePage, via_row);
  gtk_widget_class_bind_template_child (widget_class, MrComposePage, preferences_page);
  gtk_widget_class_bind_template_child (widget_class, MrComposePage, from_row);
  gtk_widget_class_bind_template_child (widget_class, MrComposePage, fix_button);
  gtk_widget_class_bind_template_child (widget_class, MrComposePage, to_row);
  gtk_widget_class_bind_template_child (widget_class, MrComposePage, cc_row);
  gtk_widget_class_bind_template_child (widget_class, MrComposePage, bcc_row);
  gtk_widget_class_bind_template_child (widget_class, MrComposePage, variables_group);
  gtk_widget_class_bind_template_child (widget_class, MrComposePage, subject_row);
  gtk_widget_class_bind_template_child (widget_class, MrComposePage, text_view);
  gtk_widget_class_bind_template_child (widget_class, MrComposePage, html_view);
  gtk_widget_class_bind_template_child (widget_class, MrComposePage, html_group);
  gtk_widget_class_bind_template_child (widget_class, MrComposePage, text_group);
  gtk_widget_class_bind_template_child (widget_class, MrComposePage, own_text_switch);
  gtk_widget_class_bind_template_child (widget_class, MrComposePage, html_stack);
  gtk_widget_class_bind_template_child (widget_class, MrComposePage, source_button);
  gtk_widget_class_bind_template_child (widget_class, MrComposePage, attachments_group);
  gtk_widget_class_bind_template_child (widget_class, MrComposePage, signature_row);
  gtk_widget_class_bind_template_child (widget_class, MrComposePage, signature_switch);
  gtk_widget_class_bind_template_callback (widget_class, on_signature_switched);
  gtk_widget_class_bind_template_child (widget_class, MrComposePage, size_row);
  gtk_widget_class_bind_template_child (widget_class, MrComposePage, spinner);
  gtk_widget_class_bind_template_child (widget_class, MrComposePage, status_label);
  gtk_widget_class_bind_template_child (widget_class, MrComposePage, send_button);
  gtk_widget_class_bind_template_child (widget_class, MrComposePage, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, MrComposePage, preview_button);
  gtk_widget_class_bind_template_child (widget_class, MrComposePage, save_template_button);
  gtk_widget_class_bind_template_child (widget_class, MrComposePage, save_button);
  gtk_widget_class_bind_template_callback (widget_class, on_send_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_cancel_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_preview_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_attach_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_save_template_clicked);
}

static void
mr_compose_page_init (MrComposePage *self)
{
  GtkDropTarget *drop = gtk_drop_target_new (GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);

  gtk_widget_init_template (GTK_WIDGET (self));
  mr_address_completion_attach (self->to_row);
  mr_address_completion_attach (self->cc_row);
  mr_address_completion_attach (self->bcc_row);
  /* libadwaita 1.2's preferences page keeps its groups at their natural height, at the top: down its
   * first children (scrolled window, viewport, clamp, box) every one fills, so that the body takes
   * the height the window gives once the fields fit. */
  for (GtkWidget *inner = gtk_widget_get_first_child (GTK_WIDGET (self->preferences_page)); inner != NULL;
       inner = gtk_widget_get_first_child (inner))
    {
      gtk_widget_set_valign (inner, GTK_ALIGN_FILL);
      if (GTK_IS_BOX (inner))
        break;
    }
  self->variable_rows = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->attachments = g_ptr_array_new_with_free_func (g_free);
  self->attachment_rows = g_ptr_array_new ();
  self->templates = g_ptr_array_new ();

  g_signal_connect (drop, "drop", G_CALLBACK (on_drop), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drop));
  g_signal_connect (self->to_row, "changed", G_CALLBACK (on_address_changed), self);
  g_signal_connect (self->cc_row, "changed", G_CALLBACK (on_address_changed), self);
  g_signal_connect (self->bcc_row, "changed", G_CALLBACK (on_address_changed), self);
  g_signal_connect_swapped (self->subject_row, "changed", G_CALLBACK (on_content_changed), self);
  g_signal_connect_swapped (gtk_text_view_get_buffer (self->text_view), "changed", G_CALLBACK (on_content_changed), self);
  g_signal_connect_swapped (gtk_text_view_get_buffer (self->html_view), "changed", G_CALLBACK (on_content_changed), self);
  g_signal_connect_swapped (gtk_text_view_get_buffer (self->html_view), "changed", G_CALLBACK (on_html_changed), self);
  g_signal_connect_swapped (self->own_text_switch, "notify::active", G_CALLBACK (on_own_text_changed), self);
  g_signal_connect_swapped (self->save_button, "clicked", G_CALLBACK (on_save_clicked), self);
  g_signal_connect (self, "map", G_CALLBACK (refresh_signature), NULL);
  mr_source_highlight_attach (self->html_view);
  update_save_state (self);
  set_up_editor (self);
  refresh_signature (self);
}

void
mr_compose_page_focus_recipients (MrComposePage *self)
{
  gtk_widget_grab_focus (GTK_WIDGET (self->to_row));
}

void
mr_compose_page_send (MrComposePage *self)
{
  if (gtk_widget_get_sensitive (self->send_button))
    on_send_clicked (self);
}

MrComposePage *
mr_compose_page_new (MrSettings *settings,
                     MrSentLog  *log)
{
  MrComposePage *self = g_object_new (MR_TYPE_COMPOSE_PAGE, NULL);

  self->settings = g_object_ref (settings);
  self->log = g_object_ref (log);
  self->loading = TRUE;
  load_templates (self);
  g_signal_connect_swapped (self->template_row, "notify::selected", G_CALLBACK (on_template_selected), self);
  g_signal_connect_swapped (self->via_row, "notify::selected", G_CALLBACK (update_send_state), self);
  refresh_size_limit (self);
  self->loading = FALSE;
  restore_draft (self);
  update_send_state (self);
  return self;
}
