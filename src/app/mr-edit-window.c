/* mr-edit-window.c: the pieces the windows that edit one thing share */

#include "config.h"

#include <glib/gi18n.h>

#include "mailroom-message.h"
#include "mr-edit-window.h"

void
mr_edit_window_build (AdwWindow    *window,
                      MrEditWindow *parts)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *cancel = gtk_button_new_with_mnemonic (_("_Cancel"));
  GtkEventController *keys = GTK_EVENT_CONTROLLER (gtk_shortcut_controller_new ());

  gtk_window_set_modal (GTK_WINDOW (window), TRUE);
  parts->header = adw_header_bar_new ();
  adw_header_bar_set_show_end_title_buttons (ADW_HEADER_BAR (parts->header), FALSE);
  g_signal_connect_swapped (cancel, "clicked", G_CALLBACK (gtk_window_destroy), window);
  adw_header_bar_pack_start (ADW_HEADER_BAR (parts->header), cancel);
  parts->save_button = gtk_button_new_with_mnemonic (_("_Save"));
  gtk_widget_add_css_class (parts->save_button, "suggested-action");
  adw_header_bar_pack_end (ADW_HEADER_BAR (parts->header), parts->save_button);
  gtk_window_set_default_widget (GTK_WINDOW (window), parts->save_button);
  gtk_box_append (GTK_BOX (box), parts->header);

  parts->content = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  gtk_widget_set_margin_start (parts->content, 12);
  gtk_widget_set_margin_end (parts->content, 12);
  gtk_widget_set_margin_top (parts->content, 12);
  gtk_widget_set_margin_bottom (parts->content, 12);
  gtk_widget_set_vexpand (parts->content, TRUE);
  parts->error_label = gtk_label_new (NULL);
  gtk_label_set_wrap (GTK_LABEL (parts->error_label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (parts->error_label), 0);
  gtk_widget_add_css_class (parts->error_label, "error");
  gtk_widget_set_visible (parts->error_label, FALSE);
  gtk_box_append (GTK_BOX (parts->content), parts->error_label);
  gtk_box_append (GTK_BOX (box), parts->content);
  adw_window_set_content (window, box);

  /* Escape cancels, as in every dialog. */
  gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (keys),
                                        gtk_shortcut_new (gtk_keyval_trigger_new (GDK_KEY_Escape, 0),
                                                          gtk_named_action_new ("window.close")));
  gtk_widget_add_controller (GTK_WIDGET (window), keys);
}

void
mr_edit_window_show_error (MrEditWindow *parts,
                           const char   *message)
{
  gtk_label_set_text (GTK_LABEL (parts->error_label), message);
  gtk_widget_set_visible (parts->error_label, TRUE);
}

GtkWidget *
mr_edit_window_text_box (GtkWidget  **view_out,
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

char *
mr_text_view_get_all (GtkTextView *view)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (view);
  GtkTextIter start, end;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  return gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
}

/* ---- A template's name ------------------------------------------------------------------------ */

gboolean
mr_is_own_template (const char *name)
{
  g_autoptr(MrTemplate) found = mr_template_find (name, NULL);

  return found != NULL && found->scope == MR_TEMPLATE_SCOPE_PERSONAL;
}

static void
on_name_changed (GtkEditable      *entry,
                 AdwMessageDialog *dialog)
{
  g_autofree char *name = g_strstrip (g_strdup (gtk_editable_get_text (entry)));
  gboolean exists = *name != '\0' && mr_is_own_template (name);
  g_autofree char *body = exists ? g_strdup_printf (_("You have a template named “%s”: saving replaces it."), name)
                                 : g_strdup (_("It is saved among your own templates, with copies of its attachments."));

  adw_message_dialog_set_body (dialog, body);
  adw_message_dialog_set_response_label (dialog, "save", exists ? _("_Replace") : _("_Save"));
  adw_message_dialog_set_response_appearance (dialog, "save", exists ? ADW_RESPONSE_DESTRUCTIVE : ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_response_enabled (dialog, "save", *name != '\0');
}

GtkWidget *
mr_template_name_dialog_new (GtkWindow  *parent,
                             const char *heading,
                             const char *name)
{
  GtkWidget *dialog = adw_message_dialog_new (parent, heading, NULL);
  GtkWidget *entry = gtk_entry_new ();

  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _("_Cancel"), "save", _("_Save"), NULL);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "save");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  gtk_entry_set_activates_default (GTK_ENTRY (entry), TRUE);
  gtk_entry_set_placeholder_text (GTK_ENTRY (entry), _("Template name"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (entry), GTK_ACCESSIBLE_PROPERTY_LABEL, _("Template name"), -1);
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), entry);
  g_signal_connect (entry, "changed", G_CALLBACK (on_name_changed), dialog);
  gtk_editable_set_text (GTK_EDITABLE (entry), name ? name : "");
  on_name_changed (GTK_EDITABLE (entry), ADW_MESSAGE_DIALOG (dialog));
  return dialog;
}

const char *
mr_template_name_dialog_get_name (GtkWidget *dialog)
{
  return gtk_editable_get_text (GTK_EDITABLE (adw_message_dialog_get_extra_child (ADW_MESSAGE_DIALOG (dialog))));
}
