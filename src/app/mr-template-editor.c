/* mr-template-editor.c: a template changed where the work is, without leaving it */

#include "config.h"

#include <glib/gi18n.h>

#include "mr-edit-window.h"
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
  GtkWidget   *signature_switch;
  MrEditWindow parts;
  GtkWidget   *save_as_button;
};

enum { SAVED, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (MrTemplateEditor, mr_template_editor, ADW_TYPE_WINDOW)

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
        edited->html = mr_text_view_get_all (GTK_TEXT_VIEW (self->editor));
    }
  if (self->text_view != NULL)
    {
      g_free (edited->text);
      edited->text = mr_text_view_get_all (GTK_TEXT_VIEW (self->text_view));
    }
  edited->signature = gtk_switch_get_active (GTK_SWITCH (self->signature_switch));
  return edited;
}

/* Says in the window why it was not saved. */
static gboolean
refused (MrTemplateEditor  *self,
         GError            *why,
         GError           **error)
{
  mr_edit_window_show_error (&self->parts, why->message);
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

gboolean
mr_template_editor_save_as (MrTemplateEditor  *self,
                            const char        *name,
                            GError           **error)
{
  g_autofree char *trimmed = g_strstrip (g_strdup (name ? name : ""));

  return store (self, trimmed, *trimmed != '\0' && mr_is_own_template (trimmed), error);
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
on_name_response (AdwMessageDialog *dialog,
                  const char       *response,
                  MrTemplateEditor *self)
{
  g_autoptr(GError) error = NULL;

  if (g_str_equal (response, "save"))
    mr_template_editor_save_as (self, mr_template_name_dialog_get_name (GTK_WIDGET (dialog)), &error);
}

static void
on_save_as_clicked (MrTemplateEditor *self)
{
  g_autofree char *suggested = g_strdup_printf (_("%s (copy)"), self->template_->name);
  GtkWidget *dialog = mr_template_name_dialog_new (GTK_WINDOW (self), _("Save as New Template"), suggested);

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
  gtk_widget_set_sensitive (self->parts.save_button, ready && self->template_->scope == MR_TEMPLATE_SCOPE_PERSONAL);
}
#endif

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
  GtkWidget *content, *list;
  g_autofree char *title = g_strdup_printf (_("Template “%s”"), template_->name);
  gboolean own = template_->scope == MR_TEMPLATE_SCOPE_PERSONAL;

  self->template_ = mr_template_copy (template_);
  gtk_window_set_title (GTK_WINDOW (self), title);
  mr_edit_window_build (ADW_WINDOW (self), &self->parts);
  content = self->parts.content;
  gtk_widget_set_sensitive (self->parts.save_button, own);
  gtk_widget_set_tooltip_text (self->parts.save_button, own ? _("Keep the changes in this template")
                                                            : _("A company template is changed by the administrator: "
                                                                "save yours as a new template"));
  g_signal_connect_swapped (self->parts.save_button, "clicked", G_CALLBACK (on_save_clicked), self);
  self->save_as_button = gtk_button_new_with_mnemonic (_("Save as _New…"));
  gtk_widget_set_tooltip_text (self->save_as_button, _("Keep the changes as a new template of your own"));
  g_signal_connect_swapped (self->save_as_button, "clicked", G_CALLBACK (on_save_as_clicked), self);
  adw_header_bar_pack_end (ADW_HEADER_BAR (self->parts.header), self->save_as_button);

  list = gtk_list_box_new ();
  gtk_list_box_set_selection_mode (GTK_LIST_BOX (list), GTK_SELECTION_NONE);
  gtk_widget_add_css_class (list, "boxed-list");
  self->subject_row = adw_entry_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->subject_row), _("Subject"));
  gtk_editable_set_text (GTK_EDITABLE (self->subject_row), template_->subject ? template_->subject : "");
  gtk_list_box_append (GTK_LIST_BOX (list), self->subject_row);
  {
    /* "No signature" for this template: a mailing from the company, say, under its own footer. */
    GtkWidget *row = adw_action_row_new ();

    adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _("_Signatures below the message"));
    adw_preferences_row_set_use_underline (ADW_PREFERENCES_ROW (row), TRUE);
    adw_action_row_set_subtitle (ADW_ACTION_ROW (row), _("Yours and the company’s, as My Settings and Company Settings have them"));
    self->signature_switch = gtk_switch_new ();
    gtk_switch_set_active (GTK_SWITCH (self->signature_switch), template_->signature);
    gtk_widget_set_valign (self->signature_switch, GTK_ALIGN_CENTER);
    gtk_accessible_update_property (GTK_ACCESSIBLE (self->signature_switch), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                    _("Add the signatures below the message"), -1);
    adw_action_row_add_suffix (ADW_ACTION_ROW (row), self->signature_switch);
    adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), self->signature_switch);
    gtk_list_box_append (GTK_LIST_BOX (list), row);
  }
  gtk_box_append (GTK_BOX (content), list);

  if (template_->html != NULL)
    {
      GtkWidget *body;

#if HAVE_WEBKIT
      body = self->editor = mr_editor_new ();
      mr_editor_set_fields (MR_EDITOR (self->editor), fields);
      mr_editor_set_html (MR_EDITOR (self->editor), template_->html);
      g_signal_connect_object (self->editor, "changed", G_CALLBACK (on_editor_changed), self, G_CONNECT_SWAPPED);
      gtk_widget_set_sensitive (self->parts.save_button, FALSE);
      gtk_widget_set_sensitive (self->save_as_button, FALSE);
#else
      body = mr_edit_window_text_box (&self->editor, template_->html, _("HTML body"), TRUE);
      mr_source_highlight_attach (GTK_TEXT_VIEW (self->editor));
#endif
      gtk_box_append (GTK_BOX (content), heading (_("Message")));
      gtk_widget_set_vexpand (body, TRUE);
      gtk_box_append (GTK_BOX (content), body);
    }
  if (template_->text != NULL)
    {
      GtkWidget *body = mr_edit_window_text_box (&self->text_view, template_->text, _("Text body"), FALSE);

      /* Alone, it is the message; beside the formatted one, its plain-text part written by hand. */
      gtk_box_append (GTK_BOX (content), heading (template_->html ? _("Plain text, as written") : _("Message")));
      gtk_widget_set_vexpand (body, template_->html == NULL);
      gtk_box_append (GTK_BOX (content), body);
    }
  return GTK_WIDGET (self);
}

GtkWidget *
mr_template_editor_get_editor (MrTemplateEditor *self)
{
  return self->editor;
}

GtkWidget *
mr_template_editor_get_signature_switch (MrTemplateEditor *self)
{
  return self->signature_switch;
}

GtkWidget *
mr_template_editor_get_subject_row (MrTemplateEditor *self)
{
  return self->subject_row;
}

GtkWidget *
mr_template_editor_get_save_button (MrTemplateEditor *self)
{
  return self->parts.save_button;
}
