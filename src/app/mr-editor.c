/* mr-editor.c: writing a mail's formatted body as in a word processor (see the header) */

#include "config.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <webkit/webkit.h>

#include "mailroom-message.h"
#include "mr-a11y.h"
#include "mr-editor.h"
#include "mr-message-view.h"

#define EDITOR_SCRIPT "/io/github/mailroom/Mailroom/mr-editor.js"

/* The page: nothing loads, no script of the page's own runs; the chips look like chips. */
static const char page[] =
  "<!DOCTYPE html><html><head><meta charset=\"utf-8\">"
  "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data: cid:; style-src 'unsafe-inline'\">"
  "<style>"
  "body { font: 11pt sans-serif; margin: 12px; min-height: 160px; outline: none; }"
  "span.mr-field { background: #dbe7f9; color: #1c4f9c; border-radius: 4px; padding: 0 4px; white-space: nowrap; }"
  "@media (prefers-color-scheme: dark) { body { background: #242424; color: #fff; }"
  " span.mr-field { background: #1c3a66; color: #c6dbff; } }"
  /* A picture from the web, where it will go once fetched. */
  "img[src^=\"cid:mailroom-remote-\"] { min-width: 48px; min-height: 32px; outline: 2px dashed #1c71d8; }"
  "</style></head><body></body></html>";

typedef struct {
  const char *name;     /* as mr_editor_format() takes it */
  const char *icon;
  const char *tooltip;
  gboolean    toggle;   /* follows the formatting under the caret */
} Tool;

static const Tool tools[] = {
  { "bold", "format-text-bold-symbolic", N_("Bold (Ctrl+B)"), TRUE },
  { "italic", "format-text-italic-symbolic", N_("Italic (Ctrl+I)"), TRUE },
  { "underline", "format-text-underline-symbolic", N_("Underline (Ctrl+U)"), TRUE },
  { NULL },
  { "ul", "view-list-bullet-symbolic", N_("Bulleted List"), TRUE },
  { "ol", "view-list-ordered-symbolic", N_("Numbered List"), TRUE },
  { NULL },
  { "left", "format-justify-left-symbolic", N_("Align Left"), TRUE },
  { "center", "format-justify-center-symbolic", N_("Center"), TRUE },
  { "right", "format-justify-right-symbolic", N_("Align Right"), TRUE },
  { NULL },
  { "link", "insert-link-symbolic", N_("Link (Ctrl+K)"), FALSE },
  { "image", "insert-image-symbolic", N_("Picture"), FALSE },
  { "hr", "list-remove-symbolic", N_("Horizontal Line"), FALSE },
  { NULL },
  { "undo", "edit-undo-symbolic", N_("Undo (Ctrl+Z)"), FALSE },
  { "redo", "edit-redo-symbolic", N_("Redo (Ctrl+Shift+Z)"), FALSE },
};

struct _MrEditor
{
  GtkBox         parent_instance;

  GtkWidget     *toolbar;
  GtkWidget     *block_dropdown;
  GtkWidget     *fields_button;
  GtkWidget     *fields_box;
  GtkWidget     *frame;
  GtkWidget     *view;           /* made when the editor is first shown */
  GHashTable    *buttons;        /* tool name → GtkWidget */
  GHashTable    *active;         /* tool name → the state under the caret */
  char          *html;           /* as the page last said */
  char          *pending;        /* given before the page was ready */
  guint          sync_asked;     /* mr_editor_sync()'s last number, and the last the page sent back */
  guint          sync_seen;
  gboolean       loaded;
  gboolean       updating;       /* the toolbar follows the page: its signals do nothing */

  /* Pictures from the web a paste held: marked in the page until embedded or left out. */
  GPtrArray     *remote;         /* RemotePicture */
  guint          pastes;
  GCancellable  *fetching;       /* while they are fetched */
  GtkWidget     *remote_bar;     /* GtkRevealer */
  GtkWidget     *remote_label;
  GtkWidget     *embed_button;
  GtkWidget     *leave_out_button;
};

typedef struct {
  char *marker;                  /* the placeholder source in the page */
  char *url;
  char *data_uri;                /* fetched; NULL when it could not be */
  char *error;
} RemotePicture;

static void
remote_picture_free (RemotePicture *picture)
{
  g_free (picture->marker);
  g_free (picture->url);
  g_free (picture->data_uri);
  g_free (picture->error);
  g_free (picture);
}

G_DEFINE_FINAL_TYPE (MrEditor, mr_editor, GTK_TYPE_BOX)

enum { CHANGED, NOTICE, N_SIGNALS };
static guint signals[N_SIGNALS];

/* A string as a JavaScript literal. */
static char *
js_string (const char *text)
{
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_VALUE);

  json_node_set_string (node, text ? text : "");
  return json_to_string (node, FALSE);
}

static void ensure_view (MrEditor *self);

static void
run (MrEditor   *self,
     const char *script)
{
  ensure_view (self);
  if (self->view == NULL)
    return;
  webkit_web_view_evaluate_javascript (WEBKIT_WEB_VIEW (self->view), script, -1, NULL, NULL, NULL, NULL, NULL);
}

static void
run_with_string (MrEditor   *self,
                 const char *function,
                 const char *argument)
{
  g_autofree char *literal = js_string (argument);
  g_autofree char *script = g_strdup_printf ("mailroom.%s(%s)", function, literal);

  run (self, script);
}

static void update_remote_bar (MrEditor *self);

void
mr_editor_set_html (MrEditor   *self,
                    const char *html)
{
  g_autofree char *cleaned = mr_html_clean (html ? html : "", NULL);

  /* Another message: the pictures an earlier paste held are not in it. */
  if (self->fetching != NULL)
    g_cancellable_cancel (self->fetching);
  g_clear_object (&self->fetching);
  g_ptr_array_set_size (self->remote, 0);
  update_remote_bar (self);

  if (!self->loaded)
    {
      g_free (self->pending);
      self->pending = g_steal_pointer (&cleaned);
      return;
    }
  run_with_string (self, "setHTML", cleaned);
}

guint
mr_editor_sync (MrEditor *self)
{
  g_autofree char *script = g_strdup_printf ("mailroom.sync(%u)", ++self->sync_asked);

  run (self, script);
  return self->sync_asked;
}

gboolean
mr_editor_is_synced (MrEditor *self,
                     guint     sync)
{
  return self->sync_seen >= sync;
}

const char *
mr_editor_get_html (MrEditor *self)
{
  return self->html ? self->html : "";
}

gboolean
mr_editor_is_ready (MrEditor *self)
{
  return self->loaded && self->pending == NULL;
}

void
mr_editor_insert_field (MrEditor   *self,
                        const char *name)
{
  run_with_string (self, "insertField", name);
}

void
mr_editor_format (MrEditor   *self,
                  const char *command)
{
  static const struct { const char *name; const char *command; const char *argument; } commands[] = {
    { "bold", "bold", NULL }, { "italic", "italic", NULL }, { "underline", "underline", NULL },
    { "p", "formatBlock", "p" }, { "h1", "formatBlock", "h1" }, { "h2", "formatBlock", "h2" },
    { "h3", "formatBlock", "h3" }, { "ul", "insertUnorderedList", NULL }, { "ol", "insertOrderedList", NULL },
    { "left", "justifyLeft", NULL }, { "center", "justifyCenter", NULL }, { "right", "justifyRight", NULL },
    { "hr", "insertHorizontalRule", NULL }, { "undo", "undo", NULL }, { "redo", "redo", NULL },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (command, commands[i].name))
      {
        g_autofree char *argument = commands[i].argument ? js_string (commands[i].argument) : g_strdup ("undefined");
        g_autofree char *script = g_strdup_printf ("mailroom.command('%s', %s)", commands[i].command, argument);

        run (self, script);
        return;
      }
  g_warn_if_reached ();
}

gboolean
mr_editor_add_link (MrEditor    *self,
                    const char  *address,
                    GError     **error)
{
  g_autofree char *href = mr_html_link_target (address, error);
  g_autofree char *literal = NULL;
  g_autofree char *script = NULL;

  if (href == NULL)
    return FALSE;
  literal = js_string (href);
  script = g_strdup_printf ("mailroom.link(%s, null)", literal);
  run (self, script);
  return TRUE;
}

#define MAX_PICTURE (5 * 1024 * 1024)

gboolean
mr_editor_insert_image (MrEditor    *self,
                        const char  *path,
                        GError     **error)
{
  g_autofree char *contents = NULL;
  g_autofree char *type = NULL;
  g_autofree char *mime_type = NULL;
  g_autofree char *encoded = NULL;
  g_autofree char *name = g_filename_display_basename (path);
  g_autofree char *alt = NULL;
  g_autofree char *html = NULL;
  gsize length = 0;

  if (!g_file_get_contents (path, &contents, &length, error))
    return FALSE;
  type = g_content_type_guess (path, (const guchar *) contents, length, NULL);
  mime_type = g_content_type_get_mime_type (type);
  if (mime_type == NULL || !g_strv_contains ((const char * const[]) { "image/png", "image/jpeg", "image/gif", "image/webp", NULL },
                                             mime_type))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   _("“%s” is not a picture a mail can show: choose a PNG, JPEG, GIF or WebP file"), name);
      return FALSE;
    }
  if (length > MAX_PICTURE)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                   _("“%s” is larger than 5 MB: make it smaller first, as it goes with every mail"), name);
      return FALSE;
    }
  encoded = g_base64_encode ((const guchar *) contents, length);
  alt = g_markup_escape_text (name, -1);
  html = g_strdup_printf ("<img src=\"data:%s;base64,%s\" alt=\"%s\">", mime_type, encoded, alt);
  run_with_string (self, "insertHTML", html);
  return TRUE;
}

static void
on_picture_chosen (GtkNativeDialog *dialog,
                   int              response,
                   MrEditor        *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);
      g_autoptr(GError) error = NULL;

      if (path != NULL && !mr_editor_insert_image (self, path, &error))
        g_signal_emit (self, signals[NOTICE], 0, error->message);
    }
  g_object_unref (dialog);
}

static void
choose_picture (MrEditor *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkFileChooserNative *chooser = gtk_file_chooser_native_new (_("Insert a Picture"),
                                                               GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                                               GTK_FILE_CHOOSER_ACTION_OPEN, _("_Insert"), _("_Cancel"));
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();

  gtk_file_filter_set_name (filter, _("Pictures (PNG, JPEG, GIF, WebP)"));
  gtk_file_filter_add_mime_type (filter, "image/png");
  gtk_file_filter_add_mime_type (filter, "image/jpeg");
  gtk_file_filter_add_mime_type (filter, "image/gif");
  gtk_file_filter_add_mime_type (filter, "image/webp");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
  run (self, "mailroom.saveSelection()");
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect (chooser, "response", G_CALLBACK (on_picture_chosen), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

/* ---- Pictures from the web ------------------------------------------------------------------- */

static void
update_remote_bar (MrEditor *self)
{
  g_autofree char *words = NULL;

  if (self->fetching != NULL)
    words = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Fetching %u picture from the web…",
                                          "Fetching %u pictures from the web…", self->remote->len), self->remote->len);
  else
    words = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                          "%u picture from the web: mail programs do not show them. Embed it in the mail?",
                                          "%u pictures from the web: mail programs do not show them. Embed them in the mail?",
                                          self->remote->len), self->remote->len);
  gtk_label_set_text (GTK_LABEL (self->remote_label), words);
  gtk_widget_set_sensitive (self->embed_button, self->fetching == NULL);
  gtk_widget_set_sensitive (self->leave_out_button, self->fetching == NULL);
  gtk_revealer_set_reveal_child (GTK_REVEALER (self->remote_bar), self->remote->len > 0);
}

guint
mr_editor_get_n_remote_pictures (MrEditor *self)
{
  return self->remote->len;
}

gboolean
mr_editor_get_fetching (MrEditor *self)
{
  return self->fetching != NULL;
}

static void
set_picture (MrEditor   *self,
             const char *marker,
             const char *data_uri)
{
  g_autofree char *marker_literal = js_string (marker);
  g_autofree char *uri_literal = data_uri ? js_string (data_uri) : g_strdup ("null");
  g_autofree char *script = g_strdup_printf ("mailroom.setPicture(%s, %s)", marker_literal, uri_literal);

  run (self, script);
}

void
mr_editor_leave_out_pictures (MrEditor *self)
{
  if (self->fetching != NULL)
    return;
  for (guint i = 0; i < self->remote->len; i++)
    set_picture (self, ((RemotePicture *) g_ptr_array_index (self->remote, i))->marker, NULL);
  g_ptr_array_set_size (self->remote, 0);
  update_remote_bar (self);
}

static void
fetch_thread (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  GPtrArray *pictures = task_data;

  for (guint i = 0; i < pictures->len && !g_cancellable_is_cancelled (cancellable); i++)
    {
      RemotePicture *picture = g_ptr_array_index (pictures, i);
      g_autoptr(GError) error = NULL;

      picture->data_uri = mr_remote_image_fetch (picture->url, cancellable, &error);
      if (picture->data_uri == NULL)
        picture->error = g_strdup (error->message);
    }
  g_task_return_boolean (task, TRUE);
}

static void
on_fetched (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  MrEditor *self;
  GPtrArray *pictures = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;
  const char *first_error = NULL;
  guint failed = 0;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    return;   /* cancelled: the editor is going */
  self = MR_EDITOR (source);
  g_clear_object (&self->fetching);
  for (guint i = 0; i < pictures->len; i++)
    {
      RemotePicture *picture = g_ptr_array_index (pictures, i);

      set_picture (self, picture->marker, picture->data_uri);
      if (picture->data_uri == NULL)
        {
          failed++;
          first_error = first_error ? first_error : picture->error;
        }
    }
  g_ptr_array_set_size (self->remote, 0);
  update_remote_bar (self);
  if (failed > 0)
    {
      g_autofree char *words = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u picture was left out. %s",
                                                             "%u pictures were left out. %s", failed),
                                                failed, first_error ? first_error : "");

      g_signal_emit (self, signals[NOTICE], 0, words);
    }
}

void
mr_editor_embed_pictures (MrEditor *self)
{
  g_autoptr(GTask) task = NULL;
  GPtrArray *pictures;

  if (self->fetching != NULL || self->remote->len == 0)
    return;
  /* The thread works on its own copies; the page is changed when they are back. */
  pictures = g_ptr_array_new_with_free_func ((GDestroyNotify) remote_picture_free);
  for (guint i = 0; i < self->remote->len; i++)
    {
      RemotePicture *from = g_ptr_array_index (self->remote, i);
      RemotePicture *copy = g_new0 (RemotePicture, 1);

      copy->marker = g_strdup (from->marker);
      copy->url = g_strdup (from->url);
      g_ptr_array_add (pictures, copy);
    }
  self->fetching = g_cancellable_new ();
  task = g_task_new (self, self->fetching, on_fetched, NULL);
  g_task_set_source_tag (task, mr_editor_embed_pictures);
  g_task_set_task_data (task, pictures, (GDestroyNotify) g_ptr_array_unref);
  g_task_run_in_thread (task, fetch_thread);
  update_remote_bar (self);
}

void
mr_editor_paste (MrEditor   *self,
                 const char *html,
                 const char *text)
{
  MrHtmlCleanReport report;
  g_autofree char *cleaned = NULL;

  g_autofree char *prefix = g_strdup_printf ("cid:mailroom-remote-%u-", ++self->pastes);

  if (html != NULL && *html != '\0')
    cleaned = mr_html_clean_marking_remote (html, prefix, &report);
  else
    {
      /* Plain text: its lines are paragraphs' lines, as typed. */
      GString *escaped = g_string_new (NULL);
      g_autofree char *markup = g_markup_escape_text (text ? text : "", -1);

      for (const char *p = markup; *p != '\0'; p++)
        {
          if (*p == '\n')
            g_string_append (escaped, "<br>");
          else if (*p != '\r')
            g_string_append_c (escaped, *p);
        }
      cleaned = mr_html_clean (escaped->str, &report);
      g_string_free (escaped, TRUE);
    }
  run_with_string (self, "insertHTML", cleaned);
  /* Offered to be embedded: mail programs do not show pictures from the web. */
  for (guint i = 0; i < report.remote_images->len; i++)
    {
      RemotePicture *picture = g_new0 (RemotePicture, 1);

      picture->marker = g_strdup_printf ("%s%u", prefix, i);
      picture->url = g_strdup (g_ptr_array_index (report.remote_images, i));
      g_ptr_array_add (self->remote, picture);
    }
  update_remote_bar (self);
  mr_html_clean_report_clear (&report);
}

gboolean
mr_editor_get_active (MrEditor   *self,
                      const char *command)
{
  return GPOINTER_TO_INT (g_hash_table_lookup (self->active, command));
}

GtkWidget *
mr_editor_get_web_view (MrEditor *self)
{
  ensure_view (self);
  return self->view;
}

GtkWidget *
mr_editor_get_tool (MrEditor   *self,
                    const char *name)
{
  if (g_str_equal (name, "fields"))
    return self->fields_button;
  if (g_str_equal (name, "block"))
    return self->block_dropdown;
  return g_hash_table_lookup (self->buttons, name);
}

/* ---- The page's messages ---------------------------------------------------------------------- */

static void
follow_state (MrEditor   *self,
              JsonObject *state)
{
  static const char * const blocks[] = { "p", "h1", "h2", "h3", NULL };
  const char *block = json_object_get_string_member_with_default (state, "block", "p");
  GHashTableIter iter;
  gpointer name, button;

  self->updating = TRUE;
  g_hash_table_iter_init (&iter, self->buttons);
  while (g_hash_table_iter_next (&iter, &name, &button))
    {
      gboolean on = json_object_get_boolean_member_with_default (state, name, FALSE);

      if (g_str_equal (name, "left"))
        on = !json_object_get_boolean_member_with_default (state, "center", FALSE) &&
             !json_object_get_boolean_member_with_default (state, "right", FALSE);
      g_hash_table_insert (self->active, g_strdup (name), GINT_TO_POINTER (on));
      if (GTK_IS_TOGGLE_BUTTON (button))
        gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (button), on);
    }
  gtk_widget_set_sensitive (g_hash_table_lookup (self->buttons, "undo"),
                            json_object_get_boolean_member_with_default (state, "undo", TRUE));
  gtk_widget_set_sensitive (g_hash_table_lookup (self->buttons, "redo"),
                            json_object_get_boolean_member_with_default (state, "redo", TRUE));
  for (guint i = 0; blocks[i] != NULL; i++)
    if (g_str_equal (block, blocks[i]))
      gtk_drop_down_set_selected (GTK_DROP_DOWN (self->block_dropdown), i);
  self->updating = FALSE;
}

static void
on_message (WebKitUserContentManager *manager,
            JSCValue                 *value,
            MrEditor                 *self)
{
  g_autofree char *text = jsc_value_to_string (value);
  g_autoptr(JsonNode) root = json_from_string (text, NULL);
  JsonObject *message = root && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;

  if (message == NULL || self->buttons == NULL)
    return;
  if (json_object_has_member (message, "html"))
    {
      g_free (self->html);
      self->html = g_strdup (json_object_get_string_member_with_default (message, "html", ""));
      if (self->pending == NULL)
        g_signal_emit (self, signals[CHANGED], 0);
    }
  if (json_object_has_member (message, "state") && JSON_NODE_HOLDS_OBJECT (json_object_get_member (message, "state")))
    follow_state (self, json_object_get_object_member (message, "state"));
  if (json_object_has_member (message, "sync"))
    self->sync_seen = MAX (self->sync_seen, (guint) json_object_get_int_member_with_default (message, "sync", 0));
  if (json_object_has_member (message, "paste"))
    {
      JsonNode *html = json_object_get_member (message, "paste");

      mr_editor_paste (self, JSON_NODE_HOLDS_VALUE (html) ? json_node_get_string (html) : NULL,
                       json_object_get_string_member_with_default (message, "text", ""));
    }
}

static void
on_load_changed (WebKitWebView   *view,
                 WebKitLoadEvent  event,
                 MrEditor        *self)
{
  if (event != WEBKIT_LOAD_FINISHED)
    return;
  self->loaded = TRUE;
  /* The sender's fields read as words in their chips, in the reader's language. */
  {
    g_autofree char *name = js_string (_("Your name"));
    g_autofree char *address = js_string (_("Your address"));
    g_autofree char *script = g_strdup_printf ("mailroom.setLabels({'sender.name': %s, 'sender.address': %s})",
                                               name, address);

    run (self, script);
  }
  if (self->pending != NULL)
    {
      g_autofree char *html = g_steal_pointer (&self->pending);

      run_with_string (self, "setHTML", html);
    }
}

/* ---- The toolbar ------------------------------------------------------------------------------- */

static void
on_link_response (AdwMessageDialog *dialog,
                  const char       *response,
                  MrEditor         *self)
{
  GtkEditable *entry = g_object_get_data (G_OBJECT (dialog), "entry");
  g_autoptr(GError) error = NULL;

  if (g_strcmp0 (response, "add") != 0)
    return;
  if (!mr_editor_add_link (self, gtk_editable_get_text (entry), &error))
    g_signal_emit (self, signals[NOTICE], 0, error->message);
}

static void
on_link_entry_changed (GtkEditable      *entry,
                       AdwMessageDialog *dialog)
{
  g_autofree char *href = mr_html_link_target (gtk_editable_get_text (entry), NULL);

  adw_message_dialog_set_response_enabled (dialog, "add", href != NULL);
}

static void
open_link_dialog (MrEditor *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkWidget *dialog = adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, _("Add a Link"),
                                              _("A web address (https://…) or an email address"));
  GtkWidget *entry = gtk_entry_new ();

  run (self, "mailroom.saveSelection()");
  gtk_entry_set_activates_default (GTK_ENTRY (entry), TRUE);
  gtk_entry_set_input_purpose (GTK_ENTRY (entry), GTK_INPUT_PURPOSE_URL);
  gtk_accessible_update_property (GTK_ACCESSIBLE (entry), GTK_ACCESSIBLE_PROPERTY_LABEL, _("Address"), -1);
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), entry);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _("_Cancel"), "add", _("_Add Link"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "add", ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "add");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_response_enabled (ADW_MESSAGE_DIALOG (dialog), "add", FALSE);
  g_object_set_data (G_OBJECT (dialog), "entry", entry);
  g_signal_connect (entry, "changed", G_CALLBACK (on_link_entry_changed), dialog);
  g_signal_connect (dialog, "response", G_CALLBACK (on_link_response), self);
  gtk_window_present (GTK_WINDOW (dialog));
  gtk_widget_grab_focus (entry);
}

static void
on_tool (GtkWidget *button,
         MrEditor  *self)
{
  const char *name = g_object_get_data (G_OBJECT (button), "tool");

  if (self->updating)
    return;
  if (g_str_equal (name, "link"))
    open_link_dialog (self);
  else if (g_str_equal (name, "image"))
    choose_picture (self);
  else
    mr_editor_format (self, name);
}

static void
on_block_selected (GtkDropDown *dropdown,
                   GParamSpec  *pspec,
                   MrEditor    *self)
{
  static const char * const blocks[] = { "p", "h1", "h2", "h3" };
  guint selected = gtk_drop_down_get_selected (dropdown);

  if (!self->updating && selected < G_N_ELEMENTS (blocks))
    mr_editor_format (self, blocks[selected]);
}

static void
on_field_clicked (GtkButton *button,
                  MrEditor  *self)
{
  gtk_menu_button_popdown (GTK_MENU_BUTTON (self->fields_button));
  mr_editor_insert_field (self, g_object_get_data (G_OBJECT (button), "field"));
}

void
mr_editor_set_fields (MrEditor           *self,
                      const char * const *fields)
{
  GtkWidget *child;
  guint count = 0;

  while ((child = gtk_widget_get_first_child (self->fields_box)) != NULL)
    gtk_box_remove (GTK_BOX (self->fields_box), child);
  for (guint i = 0; fields != NULL && fields[i] != NULL; i++)
    {
      /* The sender's own in words; a column or a template's field by its name, as written. */
      const char *label = g_str_equal (fields[i], "sender.name") ? _("Your name, as the mail is from")
                          : g_str_equal (fields[i], "sender.address") ? _("Your address, as the mail is from")
                          : fields[i];
      GtkWidget *button = gtk_button_new_with_label (label);

      if (label != fields[i])
        {
          g_autofree char *written = g_strdup_printf ("{{%s}}", fields[i]);

          gtk_widget_set_tooltip_text (button, written);
        }
      gtk_widget_add_css_class (button, "flat");
      gtk_widget_set_halign (gtk_button_get_child (GTK_BUTTON (button)), GTK_ALIGN_START);
      g_object_set_data_full (G_OBJECT (button), "field", g_strdup (fields[i]), g_free);
      g_signal_connect (button, "clicked", G_CALLBACK (on_field_clicked), self);
      /* The sender's fields after a line, below those of the message. */
      if (label != fields[i] && g_str_equal (fields[i], "sender.name") && count > 0)
        gtk_box_append (GTK_BOX (self->fields_box), gtk_separator_new (GTK_ORIENTATION_HORIZONTAL));
      gtk_box_append (GTK_BOX (self->fields_box), button);
      count++;
    }
  gtk_widget_set_sensitive (self->fields_button, count > 0);
  gtk_widget_set_tooltip_text (self->fields_button, count > 0 ? _("Insert a field filled in for each recipient")
                                                               : _("The template has no fields yet"));
}

static gboolean
on_link_shortcut (GtkWidget *widget,
                  GVariant  *args,
                  gpointer   data)
{
  open_link_dialog (MR_EDITOR (widget));
  return TRUE;
}

static void
ensure_view (MrEditor *self)
{
  g_autoptr(WebKitUserContentManager) manager = NULL;
  g_autoptr(GBytes) script = NULL;
  g_autoptr(WebKitUserScript) user_script = NULL;

  if (self->view != NULL || self->buttons == NULL /* disposed */)
    return;
  manager = webkit_user_content_manager_new ();
  script = g_resources_lookup_data (EDITOR_SCRIPT, G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
  webkit_user_content_manager_register_script_message_handler (manager, "mailroom", NULL);
  g_signal_connect (manager, "script-message-received::mailroom", G_CALLBACK (on_message), self);
  if (script != NULL)
    {
      user_script = webkit_user_script_new ((const char *) g_bytes_get_data (script, NULL),
                                            WEBKIT_USER_CONTENT_INJECT_TOP_FRAME, WEBKIT_USER_SCRIPT_INJECT_AT_DOCUMENT_END,
                                            NULL, NULL);
      webkit_user_content_manager_add_script (manager, user_script);
    }
  self->view = mr_mail_web_view_new (manager, 200, _("Message"));
  g_signal_connect (self->view, "load-changed", G_CALLBACK (on_load_changed), self);
  webkit_web_view_load_html (WEBKIT_WEB_VIEW (self->view), page, "about:blank");
  gtk_frame_set_child (GTK_FRAME (self->frame), self->view);
}

static void
mr_editor_dispose (GObject *object)
{
  MrEditor *self = MR_EDITOR (object);

  /* The page may still have something to say while WebKit winds down: nobody is listening. */
  if (self->view != NULL)
    {
      g_signal_handlers_disconnect_by_data (webkit_web_view_get_user_content_manager (WEBKIT_WEB_VIEW (self->view)), self);
      g_signal_handlers_disconnect_by_data (self->view, self);
      self->view = NULL;
    }
  g_clear_pointer (&self->buttons, g_hash_table_unref);
  g_clear_pointer (&self->active, g_hash_table_unref);
  g_clear_pointer (&self->html, g_free);
  g_clear_pointer (&self->pending, g_free);
  if (self->fetching != NULL)
    g_cancellable_cancel (self->fetching);
  g_clear_object (&self->fetching);
  g_clear_pointer (&self->remote, g_ptr_array_unref);
  G_OBJECT_CLASS (mr_editor_parent_class)->dispose (object);
}

static void
mr_editor_class_init (MrEditorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = mr_editor_dispose;
  /* After every edit, and after mr_editor_set_html() has reached the page. */
  signals[CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                   G_TYPE_NONE, 0);
  /* Something to say in a toast: what a paste left out, a link that is not one. */
  signals[NOTICE] = g_signal_new ("notice", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                  G_TYPE_NONE, 1, G_TYPE_STRING);
  gtk_widget_class_add_binding (widget_class, GDK_KEY_k, GDK_CONTROL_MASK, on_link_shortcut, NULL);
}

static void
mr_editor_init (MrEditor *self)
{
  const char *blocks[] = { N_("Paragraph"), N_("Heading 1"), N_("Heading 2"), N_("Heading 3"), NULL };
  const char *translated[G_N_ELEMENTS (blocks)];
  GtkWidget *popover;
  GtkWidget *group = NULL;

  gtk_orientable_set_orientation (GTK_ORIENTABLE (self), GTK_ORIENTATION_VERTICAL);
  self->buttons = g_hash_table_new (g_str_hash, g_str_equal);
  self->active = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  /* The toolbar. */
  self->toolbar = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_widget_add_css_class (self->toolbar, "toolbar");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->toolbar), GTK_ACCESSIBLE_PROPERTY_LABEL, _("Formatting"), -1);
  for (guint i = 0; i < G_N_ELEMENTS (blocks); i++)
    translated[i] = blocks[i] ? _(blocks[i]) : NULL;
  self->block_dropdown = gtk_drop_down_new_from_strings (translated);
  gtk_widget_set_tooltip_text (self->block_dropdown, _("Paragraph or heading"));
  mr_a11y_name_drop_down (GTK_DROP_DOWN (self->block_dropdown), _("Paragraph or heading"));
  g_signal_connect (self->block_dropdown, "notify::selected", G_CALLBACK (on_block_selected), self);
  gtk_box_append (GTK_BOX (self->toolbar), self->block_dropdown);
  for (guint i = 0; i < G_N_ELEMENTS (tools); i++)
    {
      GtkWidget *button;

      if (tools[i].name == NULL)
        {
          group = NULL;
          continue;
        }
      if (group == NULL)
        {
          group = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);
          gtk_widget_add_css_class (group, "linked");
          gtk_box_append (GTK_BOX (self->toolbar), group);
        }
      button = tools[i].toggle ? gtk_toggle_button_new () : gtk_button_new ();
      gtk_button_set_icon_name (GTK_BUTTON (button), tools[i].icon);
      gtk_widget_set_tooltip_text (button, _(tools[i].tooltip));
      gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL, _(tools[i].tooltip), -1);
      gtk_widget_set_focus_on_click (button, FALSE);
      g_object_set_data (G_OBJECT (button), "tool", (gpointer) tools[i].name);
      g_signal_connect (button, "clicked", G_CALLBACK (on_tool), self);
      g_hash_table_insert (self->buttons, (gpointer) tools[i].name, button);
      gtk_box_append (GTK_BOX (group), button);
    }
  /* Insert Field: the fields the context knows. */
  self->fields_box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  popover = gtk_popover_new ();
  gtk_popover_set_child (GTK_POPOVER (popover), self->fields_box);
  self->fields_button = gtk_menu_button_new ();
  gtk_menu_button_set_label (GTK_MENU_BUTTON (self->fields_button), _("Insert Field"));
  gtk_menu_button_set_popover (GTK_MENU_BUTTON (self->fields_button), popover);
  gtk_widget_set_hexpand (self->fields_button, TRUE);
  gtk_widget_set_halign (self->fields_button, GTK_ALIGN_END);
  gtk_box_append (GTK_BOX (self->toolbar), self->fields_button);
  mr_editor_set_fields (self, NULL);
  /* All of the toolbar shows: the page is as wide as it needs (about 800 pixels with the sidebar). */
  gtk_box_append (GTK_BOX (self), self->toolbar);

  /* Pictures from the web a paste held: embed them, or leave them out. */
  self->remote = g_ptr_array_new_with_free_func ((GDestroyNotify) remote_picture_free);
  {
    GtkWidget *bar = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);

    gtk_widget_add_css_class (bar, "toolbar");
    self->remote_label = gtk_label_new (NULL);
    gtk_label_set_wrap (GTK_LABEL (self->remote_label), TRUE);
    gtk_label_set_xalign (GTK_LABEL (self->remote_label), 0);
    gtk_widget_set_hexpand (self->remote_label, TRUE);
    gtk_box_append (GTK_BOX (bar), self->remote_label);
    self->leave_out_button = gtk_button_new_with_mnemonic (_("_Leave Out"));
    gtk_widget_set_valign (self->leave_out_button, GTK_ALIGN_CENTER);
    g_signal_connect_swapped (self->leave_out_button, "clicked", G_CALLBACK (mr_editor_leave_out_pictures), self);
    gtk_box_append (GTK_BOX (bar), self->leave_out_button);
    self->embed_button = gtk_button_new_with_mnemonic (_("_Embed"));
    gtk_widget_set_valign (self->embed_button, GTK_ALIGN_CENTER);
    gtk_widget_add_css_class (self->embed_button, "suggested-action");
    g_signal_connect_swapped (self->embed_button, "clicked", G_CALLBACK (mr_editor_embed_pictures), self);
    gtk_box_append (GTK_BOX (bar), self->embed_button);
    self->remote_bar = gtk_revealer_new ();
    gtk_revealer_set_child (GTK_REVEALER (self->remote_bar), bar);
    gtk_box_append (GTK_BOX (self), self->remote_bar);
  }

  /* The page: made when the editor is first shown (WebKit starts its processes then). */
  self->frame = gtk_frame_new (NULL);
  gtk_widget_set_vexpand (self->frame, TRUE);
  gtk_widget_set_size_request (self->frame, -1, 200);
  gtk_box_append (GTK_BOX (self), self->frame);
  g_signal_connect (self, "map", G_CALLBACK (ensure_view), NULL);
}

GtkWidget *
mr_editor_new (void)
{
  return g_object_new (MR_TYPE_EDITOR, NULL);
}
