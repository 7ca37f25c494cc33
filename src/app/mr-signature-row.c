/* mr-signature-row.c: a signature in My Settings or Company Settings, and its editor */

#include "config.h"

#include <glib/gi18n.h>

#include <string.h>

#include "mailroom-message.h"
#include "mr-edit-window.h"
#include "mr-signature-row.h"
#if HAVE_WEBKIT
#include "mr-editor.h"
#endif

struct _MrSignatureRow
{
  AdwActionRow      parent_instance;

  MrSignatureScope  scope;
  char             *html;          /* as stored; NULL: none */
  gboolean          can_save;
  GtkWidget        *edit_button;
  GtkWidget        *remove_button;

  GtkWindow        *window;        /* the editor window while open */
  GtkWidget        *editor;        /* MrEditor, or a GtkTextView without WebKitGTK */
  MrEditWindow      parts;

  gboolean          can_undo;
  char             *before;        /* what Undo puts back; NULL: none */
};

G_DEFINE_FINAL_TYPE (MrSignatureRow, mr_signature_row, ADW_TYPE_ACTION_ROW)

static void
update (MrSignatureRow *self)
{
  g_autofree char *summary = mr_signature_summarize (self->html);
  const char *subtitle = summary;

  if (*summary == '\0')
    subtitle = self->scope == MR_SIGNATURE_COMPANY ? _("None. It would go below every mail, after each person’s own.")
                                                   : _("None. It would go below every mail you send.");
  if (!self->can_save)
    subtitle = _("Only the administrator can change the company’s signature: its folder is not writable for you.");
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self), subtitle);
  gtk_widget_set_sensitive (self->edit_button, self->can_save);
  gtk_widget_set_visible (self->remove_button, self->html != NULL);
  gtk_widget_set_sensitive (self->remove_button, self->can_save);
}

void
mr_signature_row_reload (MrSignatureRow *self)
{
  g_autoptr(GError) error = NULL;

  g_clear_pointer (&self->html, g_free);
  self->html = mr_signature_load (self->scope, &error);
  if (error != NULL)
    g_warning ("Cannot read the signature: %s", error->message);
  self->can_save = mr_signature_can_save (self->scope);
  update (self);
}

/* ---- Save, Remove and Undo -------------------------------------------------------------------- */

static void
on_toast_undo (AdwToast       *toast,
               MrSignatureRow *self)
{
  mr_signature_row_undo (self);
}

/* Stores @html; remembers what was there for Undo and says so in a toast. */
static gboolean
store (MrSignatureRow  *self,
       const char      *html,
       const char      *said,
       GError         **error)
{
  g_autofree char *before = g_strdup (self->html);
  GtkWidget *overlay;

  if (!mr_signature_save (self->scope, html, error))
    return FALSE;
  g_free (self->before);
  self->before = g_steal_pointer (&before);
  self->can_undo = TRUE;
  mr_signature_row_reload (self);

  overlay = gtk_widget_get_ancestor (GTK_WIDGET (self), ADW_TYPE_TOAST_OVERLAY);
  if (overlay != NULL)
    {
      AdwToast *toast = adw_toast_new (said);

      adw_toast_set_button_label (toast, _("_Undo"));
      g_signal_connect_object (toast, "button-clicked", G_CALLBACK (on_toast_undo), self, 0);
      adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (overlay), toast);
    }
  return TRUE;
}

void
mr_signature_row_undo (MrSignatureRow *self)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *before = g_steal_pointer (&self->before);

  if (!self->can_undo)
    return;
  self->can_undo = FALSE;
  if (!mr_signature_save (self->scope, before ? before : "", &error))
    g_warning ("Cannot put the signature back: %s", error->message);
  mr_signature_row_reload (self);
}

void
mr_signature_row_remove (MrSignatureRow *self)
{
  g_autoptr(GError) error = NULL;

  if (self->html == NULL || !self->can_save)
    return;
  if (!store (self, "", _("Signature removed"), &error))
    {
      GtkWidget *overlay = gtk_widget_get_ancestor (GTK_WIDGET (self), ADW_TYPE_TOAST_OVERLAY);
      g_autofree char *escaped = g_markup_escape_text (error->message, -1);

      if (overlay != NULL)
        adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (overlay), adw_toast_new (escaped));
    }
}

/* ---- The editor window ------------------------------------------------------------------------ */

char *
mr_signature_row_get_edited (MrSignatureRow *self)
{
  g_return_val_if_fail (self->editor != NULL, NULL);
#if HAVE_WEBKIT
  if (MR_IS_EDITOR (self->editor))
    return g_strdup (mr_editor_get_html (MR_EDITOR (self->editor)));
#endif
  {
    g_autofree char *text = mr_text_view_get_all (GTK_TEXT_VIEW (self->editor));

    return mr_signature_from_text (text);
  }
}

gboolean
mr_signature_row_save_edited (MrSignatureRow *self)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *html = NULL;

  if (self->window == NULL || !gtk_widget_get_sensitive (self->parts.save_button))
    return FALSE;
  html = mr_signature_row_get_edited (self);
  if (!store (self, html, _("Signature saved"), &error))
    {
      g_autofree char *shown = g_strdup_printf (_("The signature could not be saved: %s"), error->message);

      mr_edit_window_show_error (&self->parts, shown);
      return FALSE;
    }
  gtk_window_destroy (self->window);
  return TRUE;
}

#if HAVE_WEBKIT
/* Save waits for the page: before it has loaded, the editor has nothing to give. */
static void
on_editor_changed (MrSignatureRow *self)
{
  if (self->parts.save_button != NULL)
    gtk_widget_set_sensitive (self->parts.save_button, mr_editor_is_ready (MR_EDITOR (self->editor)));
}
#endif

static void
on_window_destroy (MrSignatureRow *self)
{
  self->window = NULL;
  self->editor = NULL;
  memset (&self->parts, 0, sizeof self->parts);
}

static GtkWidget *
make_editor (MrSignatureRow *self)
{
#if HAVE_WEBKIT
  GtkWidget *editor = mr_editor_new ();

  self->editor = editor;
  mr_editor_set_fields (MR_EDITOR (editor), (const char * const[]) { "sender.name", "sender.address", NULL });
  mr_editor_set_html (MR_EDITOR (editor), self->html ? self->html : "");
  g_signal_connect_object (editor, "changed", G_CALLBACK (on_editor_changed), self, G_CONNECT_SWAPPED);
  gtk_widget_set_sensitive (self->parts.save_button, FALSE);
  gtk_widget_set_vexpand (editor, TRUE);
  return editor;
#else
  g_autofree char *text = self->html ? mr_html_to_text (self->html) : g_strdup ("");
  GtkWidget *box = mr_edit_window_text_box (&self->editor, g_strchomp (text),
                                            adw_preferences_row_get_title (ADW_PREFERENCES_ROW (self)), FALSE);

  gtk_widget_set_vexpand (box, TRUE);
  return box;
#endif
}

GtkWindow *
mr_signature_row_edit (MrSignatureRow *self)
{
  GtkWidget *window, *hint;
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  if (self->window != NULL)
    {
      gtk_window_present (self->window);
      return self->window;
    }
  window = adw_window_new ();
  self->window = GTK_WINDOW (window);
  gtk_window_set_title (self->window, adw_preferences_row_get_title (ADW_PREFERENCES_ROW (self)));
  gtk_window_set_default_size (self->window, 720, 420);
  if (GTK_IS_WINDOW (root))
    gtk_window_set_transient_for (self->window, GTK_WINDOW (root));
  g_signal_connect_object (window, "destroy", G_CALLBACK (on_window_destroy), self, G_CONNECT_SWAPPED);
  mr_edit_window_build (ADW_WINDOW (window), &self->parts);
  g_signal_connect_swapped (self->parts.save_button, "clicked", G_CALLBACK (mr_signature_row_save_edited), self);

  hint = gtk_label_new (self->scope == MR_SIGNATURE_COMPANY
                          ? _("Goes below every mail the company sends, after each person’s own signature. A template can leave it out.")
                          : _("Goes below every mail you send, before the company’s signature. A template can leave it out."));
  gtk_label_set_wrap (GTK_LABEL (hint), TRUE);
  gtk_label_set_xalign (GTK_LABEL (hint), 0);
  gtk_widget_add_css_class (hint, "dim-label");
  gtk_box_prepend (GTK_BOX (self->parts.content), hint);
  gtk_box_append (GTK_BOX (self->parts.content), make_editor (self));

  gtk_window_present (self->window);
  return self->window;
}

GtkWidget *
mr_signature_row_get_edit_button (MrSignatureRow *self)
{
  return self->edit_button;
}

/* ---- The row ---------------------------------------------------------------------------------- */

static void
mr_signature_row_dispose (GObject *object)
{
  MrSignatureRow *self = MR_SIGNATURE_ROW (object);

  if (self->window != NULL)
    gtk_window_destroy (self->window);
  G_OBJECT_CLASS (mr_signature_row_parent_class)->dispose (object);
}

static void
mr_signature_row_finalize (GObject *object)
{
  MrSignatureRow *self = MR_SIGNATURE_ROW (object);

  g_free (self->html);
  g_free (self->before);
  G_OBJECT_CLASS (mr_signature_row_parent_class)->finalize (object);
}

static void
mr_signature_row_class_init (MrSignatureRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = mr_signature_row_dispose;
  object_class->finalize = mr_signature_row_finalize;
}

static void
mr_signature_row_init (MrSignatureRow *self)
{
}

GtkWidget *
mr_signature_row_new (MrSignatureScope scope)
{
  MrSignatureRow *self = g_object_new (MR_TYPE_SIGNATURE_ROW, NULL);
  const char *title = scope == MR_SIGNATURE_COMPANY ? _("Company signature") : _("Your signature");
  const char *edit_label = scope == MR_SIGNATURE_COMPANY ? _("Edit the company’s signature") : _("Edit your signature");
  const char *remove_label = scope == MR_SIGNATURE_COMPANY ? _("Remove the company’s signature") : _("Remove your signature");

  self->scope = scope;
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self), title);
  adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (self), 2);

  self->remove_button = gtk_button_new_from_icon_name ("user-trash-symbolic");
  gtk_widget_set_valign (self->remove_button, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (self->remove_button, "flat");
  gtk_widget_set_tooltip_text (self->remove_button, remove_label);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->remove_button), GTK_ACCESSIBLE_PROPERTY_LABEL, remove_label, -1);
  g_signal_connect_swapped (self->remove_button, "clicked", G_CALLBACK (mr_signature_row_remove), self);
  adw_action_row_add_suffix (ADW_ACTION_ROW (self), self->remove_button);

  self->edit_button = gtk_button_new_with_mnemonic (_("_Edit…"));
  gtk_widget_set_valign (self->edit_button, GTK_ALIGN_CENTER);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->edit_button), GTK_ACCESSIBLE_PROPERTY_LABEL, edit_label, -1);
  g_signal_connect_swapped (self->edit_button, "clicked", G_CALLBACK (mr_signature_row_edit), self);
  adw_action_row_add_suffix (ADW_ACTION_ROW (self), self->edit_button);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (self), self->edit_button);

  mr_signature_row_reload (self);
  return GTK_WIDGET (self);
}
