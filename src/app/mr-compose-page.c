/* mr-compose-page.c: the compose pane */

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
#include "mr-key-labels.h"
#if HAVE_WEBKIT
#include "mr-editor.h"
#endif
#include "mr-message-view.h"
#include "mr-routes.h"
#include "mr-source-highlight.h"


G_DEFINE_FINAL_TYPE (MrComposePage, mr_compose_page, ADW_TYPE_BIN)

enum {
  SENT,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* ::sent: a mail went, or failed to (the sent log has it either way). */
void
mr_compose_page_emit_sent (MrComposePage *self)
{
  g_signal_emit (self, signals[SENT], 0);
}


/* ---- Small helpers ---------------------------------------------------------------------------- */

void
mr_compose_page_set_buffer_text (GtkTextView *view,
                                 const char  *text)
{
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (view), text ? text : "", -1);
}

/* "a@x, b@y" → addresses; FALSE with the first bad one named. */
gboolean
mr_compose_page_parse_addresses (const char  *text,
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

void
mr_compose_page_check_address_row (AdwEntryRow *row)
{
  g_autoptr(GError) error = NULL;
  const char *text = gtk_editable_get_text (GTK_EDITABLE (row));

  if (mr_compose_page_parse_addresses (text, NULL, &error))
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

void
mr_compose_page_set_status (MrComposePage *self,
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

MrTemplate *
mr_compose_page_selected_template (MrComposePage *self)
{
  guint selected = adw_combo_row_get_selected (self->template_row);

  if (selected == 0 || selected == GTK_INVALID_LIST_POSITION || selected > self->templates->len)
    return NULL;
  return g_ptr_array_index (self->templates, selected - 1);
}

/* ---- Attachments ------------------------------------------------------------------------------ */


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
  mr_compose_page_rebuild_attachments (self);
  mr_compose_page_schedule_draft (self);
}

void
mr_compose_page_rebuild_attachments (MrComposePage *self)
{
  MrTemplate *template_ = mr_compose_page_selected_template (self);
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
void
mr_compose_page_refresh_size_limit (MrComposePage *self)
{
  MrTemplate *template_ = mr_compose_page_selected_template (self);

  self->size_limit = mr_delivery_get_known_size_limit (self->settings, template_ ? template_->app : NULL);
}

void
mr_compose_page_attach_file (MrComposePage *self,
                             const char    *path)
{
  g_ptr_array_add (self->attachments, g_strdup (path));
  mr_compose_page_rebuild_attachments (self);
  mr_compose_page_schedule_draft (self);
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

gboolean
mr_compose_page_own_text (MrComposePage *self)
{
  return gtk_switch_get_active (self->own_text_switch);
}

/* Off, the text part is the formatted message's, shown as it will be sent and not edited. */
static void
show_derived_text (MrComposePage *self)
{
  g_autofree char *html = NULL;
  g_autofree char *text = NULL;

  if (mr_compose_page_own_text (self))
    return;
  html = mr_text_view_get_all (self->html_view);
  text = mr_html_to_text (html);
  self->deriving = TRUE;
  mr_compose_page_set_buffer_text (self->text_view, text);
  self->deriving = FALSE;
}

static void
on_own_text_changed (MrComposePage *self)
{
  gboolean own = mr_compose_page_own_text (self);

  gtk_text_view_set_editable (self->text_view, own);
  gtk_text_view_set_cursor_visible (self->text_view, own);
  adw_preferences_group_set_description (self->text_group, own ? NULL
                                         : _("Made from the formatted message, as it will be sent"));
  show_derived_text (self);
}

/* After the bodies were set from a template, a draft or a link: the text is one's own when it has
 * anything in it, or when there is nothing formatted to make it from. */
void
mr_compose_page_settle_own_text (MrComposePage *self)
{
  g_autofree char *text = mr_text_view_get_all (self->text_view);
  g_autofree char *html = mr_text_view_get_all (self->html_view);

  gtk_switch_set_active (self->own_text_switch, *text != '\0' || *html == '\0');
  on_own_text_changed (self);
}

MrTemplate *
mr_compose_page_template_from_fields (MrComposePage *self)
{
  MrTemplate *current = mr_compose_page_selected_template (self);
  MrTemplate *template_ = current ? mr_template_copy (current) : mr_template_new ();
  g_autofree char *text = mr_text_view_get_all (self->text_view);
  g_autofree char *html = mr_text_view_get_all (self->html_view);

  if (current == NULL)
    template_->name = g_strdup (_("Blank message"));
  g_free (template_->subject);
  template_->subject = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->subject_row)));
  /* Made from the HTML when sent, unless written by hand. */
  g_free (template_->text);
  template_->text = mr_compose_page_own_text (self) && (*text || !*html) ? g_steal_pointer (&text) : NULL;
  g_free (template_->html);
  template_->html = *html ? g_steal_pointer (&html) : NULL;
  template_->signature = gtk_switch_get_active (self->signature_switch);
  return template_;
}

static void
on_variable_changed (MrComposePage *self)
{
  mr_compose_page_schedule_draft (self);
}

void
mr_compose_page_refresh_variables (MrComposePage *self)
{
  g_autoptr(MrTemplate) template_ = mr_compose_page_template_from_fields (self);
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
JsonNode *
mr_compose_page_variables_data (MrComposePage *self)
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

/* ---- GObject ---------------------------------------------------------------------------------- */

static void
on_address_changed (GtkEditable   *editable,
                    MrComposePage *self)
{
  mr_compose_page_check_address_row (ADW_ENTRY_ROW (editable));
  mr_compose_page_schedule_draft (self);
}

static void
on_content_changed (MrComposePage *self)
{
  if (self->deriving)
    return;
  if (!self->loading)
    mr_compose_page_refresh_variables (self);
  mr_compose_page_schedule_draft (self);
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
  mr_compose_page_schedule_draft (self);
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
  mr_compose_page_set_buffer_text (self->html_view, mr_editor_get_html (MR_EDITOR (self->editor)));
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
  mr_compose_page_set_status (self, words);
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
      mr_compose_page_save_draft (self);
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
  gtk_widget_class_bind_template_callback (widget_class, on_attach_clicked);
  mr_compose_page_templates_class_init (widget_class);
  mr_compose_page_send_class_init (widget_class);
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
  g_signal_connect (self, "map", G_CALLBACK (refresh_signature), NULL);
  mr_source_highlight_attach (self->html_view);
  mr_compose_page_update_save_state (self);
  set_up_editor (self);
  refresh_signature (self);
  mr_compose_page_templates_init (self);
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
    mr_compose_page_on_send_clicked (self);
}

MrComposePage *
mr_compose_page_new (MrSettings *settings,
                     MrSentLog  *log)
{
  MrComposePage *self = g_object_new (MR_TYPE_COMPOSE_PAGE, NULL);

  self->settings = g_object_ref (settings);
  self->log = g_object_ref (log);
  self->loading = TRUE;
  mr_compose_page_load_templates (self);
  g_signal_connect_swapped (self->template_row, "notify::selected", G_CALLBACK (mr_compose_page_on_template_selected), self);
  g_signal_connect_swapped (self->via_row, "notify::selected", G_CALLBACK (mr_compose_page_update_send_state), self);
  mr_compose_page_refresh_size_limit (self);
  self->loading = FALSE;
  mr_compose_page_restore_draft (self);
  mr_compose_page_update_send_state (self);
  return self;
}
