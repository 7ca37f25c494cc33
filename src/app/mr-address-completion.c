/* mr-address-completion.c: To, Cc and Bcc offer the addresses mail went to before (see the header) */

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "mailroom-log.h"
#include "mr-address-completion.h"

#define DELAY_MS     120   /* after the last key */
#define SUGGESTIONS  8

typedef struct {
  AdwEntryRow  *row;          /* not a reference: the completion lives as long as the row */
  GtkWidget    *popover;
  GtkListBox   *list;
  GCancellable *cancellable;
  MrSentLog    *log;          /* opened on the first lookup */
  guint         timeout;
  gboolean      setting_text;
  gboolean      busy;         /* a lookup is on its way */
} Completion;

static void
completion_free (gpointer data)
{
  Completion *self = data;

  g_clear_handle_id (&self->timeout, g_source_remove);
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->log);
  g_free (self);
}

static Completion *
completion_of (AdwEntryRow *row)
{
  return g_object_get_data (G_OBJECT (row), "mr-address-completion");
}

/* Where the address being typed starts: after the last comma or semicolon, and its spaces. */
static const char *
typed_part (const char *text)
{
  const char *start = text;

  for (const char *p = text; *p != '\0'; p++)
    if (*p == ',' || *p == ';')
      start = p + 1;
  while (*start == ' ')
    start++;
  return start;
}

/* Whether @address is among those before the one being typed. */
static gboolean
already_listed (const char *text,
                const char *address)
{
  g_auto(GStrv) parts = g_strsplit_set (text, ",;", -1);
  guint n = g_strv_length (parts);

  for (guint i = 0; i + 1 < n; i++)
    if (g_ascii_strcasecmp (g_strstrip (parts[i]), address) == 0)
      return TRUE;
  return FALSE;
}

static void
hide (Completion *self)
{
  GtkWidget *child;

  gtk_popover_popdown (GTK_POPOVER (self->popover));
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->list))) != NULL)
    gtk_list_box_remove (self->list, child);
}

static void
accept (Completion    *self,
        GtkListBoxRow *chosen)
{
  const char *address = g_object_get_data (G_OBJECT (chosen), "address");
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->row));
  g_autofree char *kept = g_strndup (text, typed_part (text) - text);
  g_autofree char *joined = g_strconcat (kept, address, ", ", NULL);

  self->setting_text = TRUE;
  gtk_editable_set_text (GTK_EDITABLE (self->row), joined);
  gtk_editable_set_position (GTK_EDITABLE (self->row), -1);
  self->setting_text = FALSE;
  hide (self);
}

static void
on_row_activated (GtkListBox    *list,
                  GtkListBoxRow *row,
                  Completion    *self)
{
  accept (self, row);
  gtk_widget_grab_focus (GTK_WIDGET (self->row));
}

static void
show_addresses (Completion *self,
                GPtrArray  *addresses)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->row));
  guint shown = 0;

  hide (self);
  for (guint i = 0; i < addresses->len && shown < SUGGESTIONS; i++)
    {
      MrSentAddress *address = g_ptr_array_index (addresses, i);
      GtkWidget *label;
      GtkWidget *row;

      if (already_listed (text, address->address))
        continue;
      label = gtk_label_new (address->address);
      gtk_label_set_xalign (GTK_LABEL (label), 0);
      gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
      gtk_widget_set_margin_start (label, 6);
      gtk_widget_set_margin_end (label, 6);
      gtk_widget_set_margin_top (label, 6);
      gtk_widget_set_margin_bottom (label, 6);
      row = gtk_list_box_row_new ();
      gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), label);
      g_object_set_data_full (G_OBJECT (row), "address", g_strdup (address->address), g_free);
      gtk_list_box_append (self->list, row);
      shown++;
    }
  if (shown == 0)
    return;
  gtk_list_box_select_row (self->list, gtk_list_box_get_row_at_index (self->list, 0));
  gtk_popover_popup (GTK_POPOVER (self->popover));
}

typedef struct {
  MrSentLog *log;
  char      *prefix;
} Lookup;

static void
lookup_free (gpointer data)
{
  Lookup *lookup = data;

  g_clear_object (&lookup->log);
  g_free (lookup->prefix);
  g_free (lookup);
}

static void
lookup_thread (GTask        *task,
               gpointer      source,
               gpointer      task_data,
               GCancellable *cancellable)
{
  Lookup *lookup = task_data;
  GError *error = NULL;
  GPtrArray *addresses = mr_sent_log_complete_addresses (lookup->log, lookup->prefix, SUGGESTIONS * 2, &error);

  if (addresses == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, addresses, (GDestroyNotify) g_ptr_array_unref);
}

static gboolean
row_has_focus (Completion *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self->row));
  GtkWidget *focus = root ? gtk_root_get_focus (root) : NULL;

  return focus != NULL && (focus == GTK_WIDGET (self->row) || gtk_widget_is_ancestor (focus, GTK_WIDGET (self->row)));
}

static void
lookup_done (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GPtrArray) addresses = g_task_propagate_pointer (G_TASK (result), NULL);
  Completion *self;

  if (g_cancellable_is_cancelled (g_task_get_cancellable (G_TASK (result))))
    return;
  self = completion_of (ADW_ENTRY_ROW (source));
  self->busy = FALSE;
  /* Only while the row is being typed in; a sent log that cannot be read offers nothing. */
  if (addresses != NULL && row_has_focus (self))
    show_addresses (self, addresses);
}

static gboolean
look_up (gpointer data)
{
  Completion *self = data;
  const char *prefix = typed_part (gtk_editable_get_text (GTK_EDITABLE (self->row)));
  g_autoptr(GTask) task = NULL;
  Lookup *lookup;

  self->timeout = 0;
  if (*prefix == '\0')
    {
      hide (self);
      return G_SOURCE_REMOVE;
    }
  if (self->log == NULL)
    self->log = mr_sent_log_open (NULL, NULL);
  if (self->log == NULL)
    return G_SOURCE_REMOVE;
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  lookup = g_new0 (Lookup, 1);
  lookup->log = g_object_ref (self->log);
  lookup->prefix = g_strdup (prefix);
  task = g_task_new (self->row, self->cancellable, lookup_done, NULL);
  g_task_set_source_tag (task, look_up);
  g_task_set_task_data (task, lookup, lookup_free);
  self->busy = TRUE;
  g_task_run_in_thread (task, lookup_thread);
  return G_SOURCE_REMOVE;
}

static void
on_changed (Completion *self)
{
  if (self->setting_text)
    return;
  g_clear_handle_id (&self->timeout, g_source_remove);
  if (*typed_part (gtk_editable_get_text (GTK_EDITABLE (self->row))) == '\0')
    {
      hide (self);
      return;
    }
  self->timeout = g_timeout_add (DELAY_MS, look_up, self);
}

static gboolean
on_key_pressed (GtkEventControllerKey *controller,
                guint                  keyval,
                guint                  keycode,
                GdkModifierType        state,
                Completion            *self)
{
  GtkListBoxRow *selected;
  int index;

  if (!gtk_widget_get_visible (self->popover))
    return FALSE;
  selected = gtk_list_box_get_selected_row (self->list);
  index = selected ? gtk_list_box_row_get_index (selected) : -1;
  switch (keyval)
    {
    case GDK_KEY_Down:
    case GDK_KEY_KP_Down:
    case GDK_KEY_Up:
    case GDK_KEY_KP_Up:
      {
        gboolean down = keyval == GDK_KEY_Down || keyval == GDK_KEY_KP_Down;
        GtkListBoxRow *next = gtk_list_box_get_row_at_index (self->list, down ? index + 1 : MAX (index - 1, 0));

        if (next != NULL)
          gtk_list_box_select_row (self->list, next);
        return TRUE;
      }
    case GDK_KEY_Return:
    case GDK_KEY_KP_Enter:
    case GDK_KEY_ISO_Enter:
    case GDK_KEY_Tab:
      if (selected == NULL)
        return FALSE;
      accept (self, selected);
      return TRUE;
    case GDK_KEY_Escape:
      hide (self);
      return TRUE;
    default:
      return FALSE;
    }
}

static void
on_row_destroy (GtkWidget  *row,
                Completion *self)
{
  g_clear_handle_id (&self->timeout, g_source_remove);
  g_cancellable_cancel (self->cancellable);
  if (self->popover != NULL && gtk_widget_get_parent (self->popover) == row)
    gtk_widget_unparent (self->popover);
  self->popover = NULL;
}

static void
on_focus_leave (Completion *self)
{
  if (self->popover != NULL)
    hide (self);
}

void
mr_address_completion_attach (AdwEntryRow *row)
{
  Completion *self = g_new0 (Completion, 1);
  GtkEventController *keys = gtk_event_controller_key_new ();
  GtkEventController *focus = gtk_event_controller_focus_new ();
  GtkWidget *scroller = gtk_scrolled_window_new ();

  gtk_event_controller_set_name (keys, "address-completion");
  self->row = row;
  self->cancellable = g_cancellable_new ();
  self->list = GTK_LIST_BOX (gtk_list_box_new ());
  gtk_list_box_set_selection_mode (self->list, GTK_SELECTION_BROWSE);
  gtk_list_box_set_activate_on_single_click (self->list, TRUE);
  gtk_widget_add_css_class (GTK_WIDGET (self->list), "navigation-sidebar");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->list), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Addresses mail was sent to before"), -1);
  g_signal_connect (self->list, "row-activated", G_CALLBACK (on_row_activated), self);
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scroller), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_propagate_natural_height (GTK_SCROLLED_WINDOW (scroller), TRUE);
  gtk_scrolled_window_set_max_content_height (GTK_SCROLLED_WINDOW (scroller), 320);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), GTK_WIDGET (self->list));

  /* The typing stays in the row: the list does not take the focus, nor close on a click outside
   * (the row closes it when it loses the focus). */
  self->popover = gtk_popover_new ();
  gtk_popover_set_child (GTK_POPOVER (self->popover), scroller);
  gtk_popover_set_autohide (GTK_POPOVER (self->popover), FALSE);
  gtk_popover_set_has_arrow (GTK_POPOVER (self->popover), FALSE);
  gtk_popover_set_position (GTK_POPOVER (self->popover), GTK_POS_BOTTOM);
  gtk_widget_set_halign (self->popover, GTK_ALIGN_START);
  gtk_widget_set_size_request (scroller, 320, -1);
  gtk_widget_set_parent (self->popover, GTK_WIDGET (row));

  gtk_accessible_update_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_AUTOCOMPLETE,
                                  GTK_ACCESSIBLE_AUTOCOMPLETE_LIST, -1);
  gtk_event_controller_set_propagation_phase (keys, GTK_PHASE_CAPTURE);
  g_signal_connect (keys, "key-pressed", G_CALLBACK (on_key_pressed), self);
  gtk_widget_add_controller (GTK_WIDGET (row), keys);
  g_signal_connect_swapped (focus, "leave", G_CALLBACK (on_focus_leave), self);
  gtk_widget_add_controller (GTK_WIDGET (row), focus);
  g_signal_connect_swapped (row, "changed", G_CALLBACK (on_changed), self);
  g_signal_connect (row, "destroy", G_CALLBACK (on_row_destroy), self);
  g_object_set_data_full (G_OBJECT (row), "mr-address-completion", self, completion_free);
}

GStrv
mr_address_completion_get_suggestions (AdwEntryRow *row)
{
  Completion *self = completion_of (row);
  GStrvBuilder *builder = g_strv_builder_new ();
  GStrv suggestions;

  if (self->popover != NULL && gtk_widget_get_visible (self->popover))
    for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->list)); child != NULL;
         child = gtk_widget_get_next_sibling (child))
      g_strv_builder_add (builder, g_object_get_data (G_OBJECT (child), "address"));
  suggestions = g_strv_builder_end (builder);
  g_strv_builder_unref (builder);
  return suggestions;
}

gboolean
mr_address_completion_is_busy (AdwEntryRow *row)
{
  Completion *self = completion_of (row);

  return self->timeout != 0 || self->busy;
}
