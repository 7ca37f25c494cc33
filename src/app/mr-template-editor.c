/* mr-template-editor.c: a template changed where the work is, without leaving it */

#include "config.h"

#include <glib/gi18n.h>

#include "mr-source-highlight.h"
#include "mr-template-editor.h"
#if HAVE_WEBKIT
#include "mr-editor.h"
#endif

struct _MrTemplateEditor
{
  AdwWindow    parent_instance;

  MrTemplate  *template_;     /* as it was given */
  GtkWidget   *subject_row;
  GtkWidget   *editor;        /* MrEditor, or the HTML source in a GtkTextView; NULL: no HTML */
  GtkWidget   *text_view;     /* the text part written by hand; NULL: made from the HTML */
  GtkWidget   *save_button;
  GtkWidget   *save_as_button;
  GtkWidget   *error_label;
};

enum { SAVED, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (MrTemplateEditor, mr_template_editor, ADW_TYPE_WINDOW)

static char *
view_text (GtkWidget *view)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (GTK_TEXT_VIEW (view));
  GtkTextIter start, end;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  return gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
}

MrTemplate *
mr_template_editor_get_edited (MrTemplateEditor *self)
{
  MrTemplate *edited = mr_template_copy (self->template_);

  g_free (edited->subject);
  edited->subject = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->subject_row)));
  if (self->editor != NULL)
    {
      g_free (edited->html);
#if HAVE_WEBKIT
      if (MR_IS_EDITOR (self->editor))
        edited->html = g_strdup (mr_editor_get_html (MR_EDITOR (self->editor)));
      else
#endif
        edited->html = view_text (self->editor);
    }
  if (self->text_view != NULL)
    {
      g_free (edited->text);
      edited->text = view_text (self->text_view);
    }
  return edited;
}

/* Says in the window why it was not saved. */
static gboolean
refused (MrTemplateEditor  *self,
         GError            *why,
         GError           **error)
{
  gtk_label_set_text (GTK_LABEL (self->error_label), why->message);
  gtk_widget_set_visible (self->error_label, TRUE);
  g_propagate_error (error, why);
  return FALSE;
}

static gboolean
store (MrTemplateEditor  *self,
       const char        *name,
       gboolean           replace,
       GError           **error)
{
  g_autoptr(MrTemplate) edited = mr_template_editor_get_edited (self);
  GError *why = NULL;

  if (name != NULL)
    {
      g_free (edited->name);
      edited->name = g_strdup (name);
    }
  if (!mr_template_save_personal (edited, replace, &why))
    return refused (self, why, error);
  g_signal_emit (self, signals[SAVED], 0, edited->name);
  gtk_window_destroy (GTK_WINDOW (self));
  return TRUE;
}

gboolean
mr_template_editor_save (MrTemplateEditor  *self,
                         GError           **error)
{
  if (self->template_->scope != MR_TEMPLATE_SCOPE_PERSONAL)
    return refused (self, g_error_new_literal (MR_TEMPLATE_ERROR, MR_TEMPLATE_ERROR_INVALID,
                                               _("A company template is changed by the administrator: "
                                                 "save yours as a new template")), error);
  return store (self, NULL, TRUE, error);
}

/* Whether one of one's own templates has that name. */
static gboolean
is_own_template (const char *name)
{
  g_autoptr(MrTemplate) found = mr_template_find (name, NULL);

  return found != NULL && found->scope == MR_TEMPLATE_SCOPE_PERSONAL;
}

gboolean
mr_template_editor_save_as (MrTemplateEditor  *self,
                            const char        *name,
                            GError           **error)
{
  g_autofree char *trimmed = g_strstrip (g_strdup (name ? name : ""));

  return store (self, trimmed, *trimmed != '\0' && is_own_template (trimmed), error);
}

static void
on_save_clicked (MrTemplateEditor *self)
{
  g_autoptr(GError) error = NULL;

  /* Not before the editor's page has given what it holds. */
  if (gtk_widget_get_sensitive (self->save_as_button))
    mr_template_editor_save (self, &error);
}

static gboolean
on_save_shortcut (GtkWidget *widget,
                  GVariant  *args,
                  gpointer   data)
{
  on_save_clicked (MR_TEMPLATE_EDITOR (widget));
  return TRUE;
}

/* ---- Save as New: its name ---------------------------------------------------------------------- */

static void
on_name_changed (GtkEditable      *entry,
                 AdwMessageDialog *dialog)
{
  g_autofree char *name = g_strstrip (g_strdup (gtk_editable_get_text (entry)));
  gboolean exists = *name != '\0' && is_own_template (name);
  g_autofree char *body = exists ? g_strdup_printf (_("You have a template named “%s”: saving replaces it."), name)
                                 : g_strdup (_("It is saved among your own templates, with copies of its attachments."));

  adw_message_dialog_set_body (dialog, body);
  adw_message_dialog_set_response_label (dialog, "save", exists ? _("_Replace") : _("_Save"));
  adw_message_dialog_set_response_appearance (dialog, "save", exists ? ADW_RESPONSE_DESTRUCTIVE : ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_response_enabled (dialog, "save", *name != '\0');
}

static void
on_name_response (AdwMessageDialog *dialog,
                  const char       *response,
                  MrTemplateEditor *self)
{
  g_autoptr(GError) error = NULL;
  GtkEditable *entry = GTK_EDITABLE (adw_message_dialog_get_extra_child (dialog));

  if (g_str_equal (response, "save"))
    mr_template_editor_save_as (self, gtk_editable_get_text (entry), &error);
}

static void
on_save_as_clicked (MrTemplateEditor *self)
{
  GtkWidget *dialog = adw_message_dialog_new (GTK_WINDOW (self), _("Save as New Template"), NULL);
  GtkWidget *entry = gtk_entry_new ();
  g_autofree char *suggested = g_strdup_printf (_("%s (copy)"), self->template_->name);

  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _("_Cancel"), "save", _("_Save"), NULL);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "save");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  gtk_entry_set_activates_default (GTK_ENTRY (entry), TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (entry), GTK_ACCESSIBLE_PROPERTY_LABEL, _("Template name"), -1);
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), entry);
  g_signal_connect (entry, "changed", G_CALLBACK (on_name_changed), dialog);
  gtk_editable_set_text (GTK_EDITABLE (entry), suggested);
  on_name_changed (GTK_EDITABLE (entry), ADW_MESSAGE_DIALOG (dialog));
  g_signal_connect_object (dialog, "response", G_CALLBACK (on_name_response), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* ---- The window ------------------------------------------------------------------------------- */

#if HAVE_WEBKIT
/* Saving waits for the page: before it has loaded, the editor has nothing to give. */
static void
on_editor_changed (MrTemplateEditor *self)
{
  gboolean ready = mr_editor_is_ready (MR_EDITOR (self->editor));

  gtk_widget_set_sensitive (self->save_as_button, ready);
  gtk_widget_set_sensitive (self->save_button, ready && self->template_->scope == MR_TEMPLATE_SCOPE_PERSONAL);
}
#endif

static GtkWidget *
text_box (GtkWidget  **view_out,
          const char  *text,
          const char  *label,
          gboolean     monospace)
{
  GtkWidget *scrolled = gtk_scrolled_window_new ();
  GtkWidget *view = gtk_text_view_new ();

  gtk_text_view_set_wrap_mode (GTK_TEXT_VIEW (view), GTK_WRAP_WORD_CHAR);
  gtk_text_view_set_monospace (GTK_TEXT_VIEW (view), monospace);
  gtk_text_view_set_left_margin (GTK_TEXT_VIEW (view), 12);
  gtk_text_view_set_right_margin (GTK_TEXT_VIEW (view), 12);
  gtk_text_view_set_top_margin (GTK_TEXT_VIEW (view), 12);
  gtk_text_view_set_bottom_margin (GTK_TEXT_VIEW (view), 12);
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (GTK_TEXT_VIEW (view)), text ? text : "", -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (view), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), view);
  gtk_scrolled_window_set_min_content_height (GTK_SCROLLED_WINDOW (scrolled), 100);
  gtk_widget_add_css_class (scrolled, "card");
  *view_out = view;
  return scrolled;
}

static GtkWidget *
heading (const char *text)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_add_css_class (label, "heading");
  gtk_widget_set_margin_top (label, 6);
  return label;
}

static void
mr_template_editor_finalize (GObject *object)
{
  MrTemplateEditor *self = MR_TEMPLATE_EDITOR (object);

  mr_template_free (self->template_);
  G_OBJECT_CLASS (mr_template_editor_parent_class)->finalize (object);
}

static void
mr_template_editor_class_init (MrTemplateEditorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = mr_template_editor_finalize;
  signals[SAVED] = g_signal_new ("saved", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                 G_TYPE_NONE, 1, G_TYPE_STRING);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
  gtk_widget_class_add_binding (widget_class, GDK_KEY_s, GDK_CONTROL_MASK, on_save_shortcut, NULL);
}

static void
mr_template_editor_init (MrTemplateEditor *self)
{
}

GtkWidget *
mr_template_editor_new (GtkWindow          *parent,
                        const MrTemplate   *template_,
                        const char * const *fields)
{
  MrTemplateEditor *self = g_object_new (MR_TYPE_TEMPLATE_EDITOR, "modal", TRUE, "transient-for", parent,
                                         "default-width", 800, "default-height", 600, NULL);
  GtkWidget *box, *header, *cancel, *content, *list;
  g_autofree char *title = g_strdup_printf (_("Template “%s”"), template_->name);
  gboolean own = template_->scope == MR_TEMPLATE_SCOPE_PERSONAL;

  self->template_ = mr_template_copy (template_);
  gtk_window_set_title (GTK_WINDOW (self), title);

  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  header = adw_header_bar_new ();
  adw_header_bar_set_show_end_title_buttons (ADW_HEADER_BAR (header), FALSE);
  cancel = gtk_button_new_with_mnemonic (_("_Cancel"));
  g_signal_connect_swapped (cancel, "clicked", G_CALLBACK (gtk_window_destroy), self);
  adw_header_bar_pack_start (ADW_HEADER_BAR (header), cancel);
  self->save_button = gtk_button_new_with_mnemonic (_("_Save"));
  gtk_widget_add_css_class (self->save_button, "suggested-action");
  gtk_widget_set_sensitive (self->save_button, own);
  gtk_widget_set_tooltip_text (self->save_button, own ? _("Keep the changes in this template")
                                                      : _("A company template is changed by the administrator: "
                                                          "save yours as a new template"));
  g_signal_connect_swapped (self->save_button, "clicked", G_CALLBACK (on_save_clicked), self);
  adw_header_bar_pack_end (ADW_HEADER_BAR (header), self->save_button);
  self->save_as_button = gtk_button_new_with_mnemonic (_("Save as _New…"));
  gtk_widget_set_tooltip_text (self->save_as_button, _("Keep the changes as a new template of your own"));
  g_signal_connect_swapped (self->save_as_button, "clicked", G_CALLBACK (on_save_as_clicked), self);
  adw_header_bar_pack_end (ADW_HEADER_BAR (header), self->save_as_button);
  gtk_box_append (GTK_BOX (box), header);

  content = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  gtk_widget_set_margin_start (content, 12);
  gtk_widget_set_margin_end (content, 12);
  gtk_widget_set_margin_top (content, 12);
  gtk_widget_set_margin_bottom (content, 12);
  gtk_widget_set_vexpand (content, TRUE);

  self->error_label = gtk_label_new (NULL);
  gtk_label_set_wrap (GTK_LABEL (self->error_label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (self->error_label), 0);
  gtk_widget_add_css_class (self->error_label, "error");
  gtk_widget_set_visible (self->error_label, FALSE);
  gtk_box_append (GTK_BOX (content), self->error_label);

  list = gtk_list_box_new ();
  gtk_list_box_set_selection_mode (GTK_LIST_BOX (list), GTK_SELECTION_NONE);
  gtk_widget_add_css_class (list, "boxed-list");
  self->subject_row = adw_entry_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->subject_row), _("Subject"));
  gtk_editable_set_text (GTK_EDITABLE (self->subject_row), template_->subject ? template_->subject : "");
  gtk_list_box_append (GTK_LIST_BOX (list), self->subject_row);
  gtk_box_append (GTK_BOX (content), list);

  if (template_->html != NULL)
    {
      GtkWidget *body;

#if HAVE_WEBKIT
      body = self->editor = mr_editor_new ();
      mr_editor_set_fields (MR_EDITOR (self->editor), fields);
      mr_editor_set_html (MR_EDITOR (self->editor), template_->html);
      g_signal_connect_object (self->editor, "changed", G_CALLBACK (on_editor_changed), self, G_CONNECT_SWAPPED);
      gtk_widget_set_sensitive (self->save_button, FALSE);
      gtk_widget_set_sensitive (self->save_as_button, FALSE);
#else
      body = text_box (&self->editor, template_->html, _("HTML body"), TRUE);
      mr_source_highlight_attach (GTK_TEXT_VIEW (self->editor));
#endif
      gtk_box_append (GTK_BOX (content), heading (_("Message")));
      gtk_widget_set_vexpand (body, TRUE);
      gtk_box_append (GTK_BOX (content), body);
    }
  if (template_->text != NULL)
    {
      GtkWidget *body = text_box (&self->text_view, template_->text, _("Text body"), FALSE);

      /* Alone, it is the message; beside the formatted one, its plain-text part written by hand. */
      gtk_box_append (GTK_BOX (content), heading (template_->html ? _("Plain text, as written") : _("Message")));
      gtk_widget_set_vexpand (body, template_->html == NULL);
      gtk_box_append (GTK_BOX (content), body);
    }
  gtk_box_append (GTK_BOX (box), content);
  adw_window_set_content (ADW_WINDOW (self), box);
  return GTK_WIDGET (self);
}

GtkWidget *
mr_template_editor_get_editor (MrTemplateEditor *self)
{
  return self->editor;
}

GtkWidget *
mr_template_editor_get_subject_row (MrTemplateEditor *self)
{
  return self->subject_row;
}

GtkWidget *
mr_template_editor_get_save_button (MrTemplateEditor *self)
{
  return self->save_button;
}
