/* mr-compose-templates.c: the Compose page's drafts, its templates and Save as Template */

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
#include "mr-editor.h"
#include "mr-key-labels.h"
#include "mr-message-view.h"
#include "mr-routes.h"
#include "mr-source-highlight.h"

/* ---- Drafts ----------------------------------------------------------------------------------- */

static char *
draft_path (void)
{
  return mr_get_user_data_path ("draft.json");
}

gboolean
mr_compose_page_save_draft (gpointer user_data)
{
  MrComposePage *self = user_data;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *text = mr_text_view_get_all (self->text_view);
  g_autofree char *html = mr_text_view_get_all (self->html_view);
  g_autofree char *path = draft_path ();
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *json = NULL;
  MrTemplate *template_ = mr_compose_page_selected_template (self);
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
  MEMBER ("text", mr_compose_page_own_text (self) ? text : "");
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

void
mr_compose_page_schedule_draft (MrComposePage *self)
{
  if (self->loading)
    return;
  if (self->draft_timeout != 0)
    g_source_remove (self->draft_timeout);
  self->draft_timeout = g_timeout_add (500, mr_compose_page_save_draft, self);
}

void
mr_compose_page_forget_draft (void)
{
  g_autofree char *path = draft_path ();
  g_unlink (path);
}

void
mr_compose_page_restore_draft (MrComposePage *self)
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
  mr_compose_page_set_buffer_text (self->text_view, json_object_get_string_member_with_default (draft, "text", ""));
  mr_compose_page_set_buffer_text (self->html_view, json_object_get_string_member_with_default (draft, "html", ""));
  mr_compose_page_settle_own_text (self);
  gtk_switch_set_active (self->signature_switch, json_object_get_boolean_member_with_default (draft, "signature", TRUE));
  if (json_object_has_member (draft, "attachments"))
    {
      JsonArray *files = json_object_get_array_member (draft, "attachments");
      for (guint i = 0; i < json_array_get_length (files); i++)
        g_ptr_array_add (self->attachments, g_strdup (json_array_get_string_element (files, i)));
    }
  mr_compose_page_refresh_variables (self);
  if (json_object_has_member (draft, "variables"))
    {
      JsonObject *values = json_object_get_object_member (draft, "variables");
      GList *names = json_object_get_members (values);

      for (GList *l = names; l != NULL; l = l->next)
        mr_compose_page_set_variable (self, l->data, json_object_get_string_member (values, l->data));
      g_list_free (names);
    }
  mr_compose_page_rebuild_attachments (self);
  self->loading = FALSE;
}

/* ---- Templates -------------------------------------------------------------------------------- */

/* How a logged route reads in a sentence. */
const char *
mr_compose_page_route_label (const char *route)
{
  if (g_strcmp0 (route, "ews") == 0)
    return _("Exchange (EWS)");
  if (g_strcmp0 (route, "graph") == 0)
    return _("Microsoft Graph");
  if (g_strcmp0 (route, "sendmail") == 0)
    return _("the sendmail program");
  return _("SMTP");
}


void
mr_compose_page_on_template_selected (MrComposePage *self)
{
  MrTemplate *template_ = mr_compose_page_selected_template (self);
  gboolean was_loading = self->loading;

  self->loading = TRUE;
  if (template_ != NULL)
    {
      gtk_editable_set_text (GTK_EDITABLE (self->subject_row), template_->subject ? template_->subject : "");
      mr_compose_page_set_buffer_text (self->text_view, template_->text);
      mr_compose_page_set_buffer_text (self->html_view, template_->html);
      mr_compose_page_settle_own_text (self);
      adw_combo_row_set_selected (self->via_row, mr_route_get_row (template_->route));
    }
  gtk_switch_set_active (self->signature_switch, template_ == NULL || template_->signature);
  mr_compose_page_refresh_variables (self);
  mr_compose_page_refresh_size_limit (self);
  mr_compose_page_rebuild_attachments (self);
  mr_compose_page_update_send_state (self);
  mr_compose_page_update_save_state (self);
  self->loading = was_loading;
  mr_compose_page_schedule_draft (self);
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
  g_autoptr(MrTemplate) template_ = mr_compose_page_template_from_fields (self);
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
  mr_compose_page_load_templates (self);
  self->loading = FALSE;
  mr_compose_page_select_template (self, template_->name);
  status = g_strdup_printf (_("Saved as your template “%s”."), template_->name);
  mr_compose_page_set_status (self, status);
  return TRUE;
}

/* Save: the template chosen, as it now is, in place; one's own templates only (the company's are
 * the administrator's, in a folder others cannot write). */
void
mr_compose_page_update_save_state (MrComposePage *self)
{
  MrTemplate *current = mr_compose_page_selected_template (self);
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
  MrTemplate *current = mr_compose_page_selected_template (self);
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
    mr_compose_page_set_status (self, error->message);
}

static void
on_save_template_response (AdwMessageDialog *dialog,
                           const char       *response,
                           MrComposePage    *self)
{
  g_autoptr(GError) error = NULL;

  if (g_str_equal (response, "save") &&
      !mr_compose_page_save_as_template (self, mr_template_name_dialog_get_name (GTK_WIDGET (dialog)), &error))
    mr_compose_page_set_status (self, error->message);
}

static void
on_save_template_clicked (MrComposePage *self)
{
  MrTemplate *current = mr_compose_page_selected_template (self);
  /* A personal template is offered under its own name, to update it; anything else starts empty. */
  GtkWidget *dialog = mr_template_name_dialog_new (GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))),
                                                   _("Save as Template"),
                                                   current != NULL && current->scope == MR_TEMPLATE_SCOPE_PERSONAL
                                                     ? current->name : "");

  g_signal_connect_object (dialog, "response", G_CALLBACK (on_save_template_response), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

void
mr_compose_page_load_templates (MrComposePage *self)
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

void
mr_compose_page_templates_class_init (GtkWidgetClass *widget_class)
{
  gtk_widget_class_bind_template_callback (widget_class, on_save_template_clicked);
}

void
mr_compose_page_templates_init (MrComposePage *self)
{
  g_signal_connect_swapped (self->save_button, "clicked", G_CALLBACK (on_save_clicked), self);
}
