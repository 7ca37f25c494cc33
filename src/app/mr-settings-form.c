/* mr-settings-form.c: binds the rows of a settings page to a working copy of one layer */

#include "config.h"

#include <glib/gi18n.h>

#include "mr-settings-form.h"

typedef enum {
  FIELD_ENTRY,
  FIELD_COMBO,
  FIELD_SWITCH,
  FIELD_SPIN,     /* a number; empty (-1) is "not set": the default applies */
} FieldKind;

typedef struct {
  char            *key;
  const MrKeyInfo *info;
  FieldKind        kind;
  GtkWidget       *widget;        /* AdwEntryRow, AdwComboRow, GtkSwitch or GtkSpinButton */
  GtkWidget       *row;           /* the row shown (the switch's or spin button's AdwActionRow) */
  GtkWidget       *message_row;   /* under the row: an error or a lock reason */
  GtkLabel        *message_label;
  GStrv            values;        /* combo items' values */
  gboolean         required;
  char            *lock_reason;
  char            *error;         /* what is wrong with the typed value */
} Field;

struct _MrSettingsForm
{
  GObject         parent_instance;

  MrSettings     *settings;
  MrScope         scope;
  MrSettingsFile *edited;
  GPtrArray      *fields;
  GError         *check_error;
  GStrv           warnings;
  gboolean        loading;
  gboolean        editable;
  gboolean        dirty;
};

G_DEFINE_FINAL_TYPE (MrSettingsForm, mr_settings_form, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_DIRTY,
  PROP_VALID,
  PROP_WARNINGS,
  N_PROPS
};

enum {
  VALUE_CHANGED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void
field_free (Field *field)
{
  g_free (field->key);
  g_strfreev (field->values);
  g_free (field->lock_reason);
  g_free (field->error);
  g_free (field);
}

static void
mr_settings_form_dispose (GObject *object)
{
  MrSettingsForm *self = MR_SETTINGS_FORM (object);

  /* The rows outlive nothing here: disconnect before they go. */
  for (guint i = 0; self->fields != NULL && i < self->fields->len; i++)
    {
      Field *field = g_ptr_array_index (self->fields, i);
      g_signal_handlers_disconnect_by_data (field->widget, self);
    }
  g_clear_pointer (&self->fields, g_ptr_array_unref);
  g_clear_object (&self->edited);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (mr_settings_form_parent_class)->dispose (object);
}

static void
mr_settings_form_finalize (GObject *object)
{
  MrSettingsForm *self = MR_SETTINGS_FORM (object);

  g_clear_error (&self->check_error);
  g_strfreev (self->warnings);

  G_OBJECT_CLASS (mr_settings_form_parent_class)->finalize (object);
}

static void
mr_settings_form_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  MrSettingsForm *self = MR_SETTINGS_FORM (object);

  switch (prop_id)
    {
    case PROP_DIRTY:
      g_value_set_boolean (value, self->dirty);
      break;
    case PROP_VALID:
      g_value_set_boolean (value, mr_settings_form_get_valid (self));
      break;
    case PROP_WARNINGS:
      g_value_set_boxed (value, self->warnings);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mr_settings_form_class_init (MrSettingsFormClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = mr_settings_form_dispose;
  object_class->finalize = mr_settings_form_finalize;
  object_class->get_property = mr_settings_form_get_property;

  properties[PROP_DIRTY] =
    g_param_spec_boolean ("dirty", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_VALID] =
    g_param_spec_boolean ("valid", NULL, NULL, TRUE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_WARNINGS] =
    g_param_spec_boxed ("warnings", NULL, NULL, G_TYPE_STRV,
                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* A value changed through a row (not through reload or refresh). */
  signals[VALUE_CHANGED] =
    g_signal_new ("value-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
mr_settings_form_init (MrSettingsForm *self)
{
  self->fields = g_ptr_array_new_with_free_func ((GDestroyNotify) field_free);
  self->editable = TRUE;
}

MrSettingsForm *
mr_settings_form_new (MrSettings *settings,
                      MrScope     scope)
{
  MrSettingsForm *self = g_object_new (MR_TYPE_SETTINGS_FORM, NULL);

  self->settings = g_object_ref (settings);
  self->scope = scope;
  self->edited = mr_settings_file_copy (mr_settings_get_layer (settings, scope));
  return self;
}

MrSettings *
mr_settings_form_get_settings (MrSettingsForm *self)
{
  return self->settings;
}

MrSettingsFile *
mr_settings_form_get_edited (MrSettingsForm *self)
{
  return self->edited;
}

static Field *
find_field (MrSettingsForm *self,
            const char     *key)
{
  for (guint i = 0; i < self->fields->len; i++)
    {
      Field *field = g_ptr_array_index (self->fields, i);
      if (g_str_equal (field->key, key))
        return field;
    }
  return NULL;
}

GtkWidget *
mr_settings_form_get_widget (MrSettingsForm *self,
                             const char     *key)
{
  Field *field = find_field (self, key);

  return field ? field->widget : NULL;
}

/* ---- Messages under rows ---------------------------------------------------------------------- */

static void
ensure_message_row (Field *field)
{
  GtkWidget *list = gtk_widget_get_parent (field->row);
  GtkWidget *box, *label;

  if (field->message_row != NULL || !GTK_IS_LIST_BOX (list))
    return;

  label = gtk_label_new (NULL);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_add_css_class (label, "caption");
  box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  gtk_widget_set_margin_top (box, 6);
  gtk_widget_set_margin_bottom (box, 6);
  gtk_box_append (GTK_BOX (box), label);

  field->message_row = adw_preferences_row_new ();
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (field->message_row), box);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (field->message_row), FALSE);
  gtk_list_box_row_set_selectable (GTK_LIST_BOX_ROW (field->message_row), FALSE);
  gtk_widget_set_focusable (field->message_row, FALSE);
  gtk_widget_set_visible (field->message_row, FALSE);
  field->message_label = GTK_LABEL (label);
  gtk_list_box_insert (GTK_LIST_BOX (list), field->message_row,
                       gtk_list_box_row_get_index (GTK_LIST_BOX_ROW (field->row)) + 1);
}

static void
show_message (Field      *field,
              const char *check_error)
{
  const char *message = field->error ? field->error : check_error ? check_error : field->lock_reason;
  gboolean is_error = field->error != NULL || check_error != NULL;

  ensure_message_row (field);

  if (is_error)
    gtk_widget_add_css_class (field->row, "error");
  else
    gtk_widget_remove_css_class (field->row, "error");

  if (field->message_row != NULL)
    {
      gtk_widget_set_visible (field->message_row, message != NULL);
      gtk_label_set_text (field->message_label, message ? message : "");
      if (is_error)
        {
          gtk_widget_add_css_class (GTK_WIDGET (field->message_label), "error");
          gtk_widget_remove_css_class (GTK_WIDGET (field->message_label), "dim-label");
        }
      else
        {
          gtk_widget_add_css_class (GTK_WIDGET (field->message_label), "dim-label");
          gtk_widget_remove_css_class (GTK_WIDGET (field->message_label), "error");
        }
    }

  /* Screen readers hear the same message as the row's description. */
  if (message != NULL)
    gtk_accessible_update_property (GTK_ACCESSIBLE (field->widget), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, message, -1);
  else
    gtk_accessible_reset_property (GTK_ACCESSIBLE (field->widget), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION);
  gtk_accessible_update_state (GTK_ACCESSIBLE (field->widget), GTK_ACCESSIBLE_STATE_INVALID,
                               is_error ? GTK_ACCESSIBLE_INVALID_TRUE : GTK_ACCESSIBLE_INVALID_FALSE, -1);
}

/* The key a cross-key error is about: engine messages start with "KEY: ". */
static char *
check_error_key (const GError *error)
{
  const char *colon;

  if (error == NULL || (colon = strstr (error->message, ": ")) == NULL)
    return NULL;
  return g_strndup (error->message, colon - error->message);
}

static const char *
strip_key (const char *message)
{
  const char *colon = strstr (message, ": ");
  return colon ? colon + 2 : message;
}

static void
update_messages (MrSettingsForm *self)
{
  g_autofree char *error_key = check_error_key (self->check_error);

  for (guint i = 0; i < self->fields->len; i++)
    {
      Field *field = g_ptr_array_index (self->fields, i);
      gboolean about_this = error_key != NULL && g_str_equal (error_key, field->key);

      show_message (field, about_this ? strip_key (self->check_error->message) : NULL);
    }
}

/* ---- State ------------------------------------------------------------------------------------ */

static gboolean
files_equal (MrSettingsFile *a,
             MrSettingsFile *b)
{
  g_autoptr(JsonNode) ja = mr_settings_file_to_json (a);
  g_autoptr(JsonNode) jb = mr_settings_file_to_json (b);
  g_auto(GStrv) apps_a = mr_settings_file_list_apps (a);
  g_auto(GStrv) apps_b = mr_settings_file_list_apps (b);

  return json_node_equal (ja, jb) && g_strv_equal ((const char * const *) apps_a, (const char * const *) apps_b);
}

static void
recheck (MrSettingsForm *self)
{
  g_autoptr(GPtrArray) warnings = NULL;
  gboolean dirty;

  g_clear_error (&self->check_error);
  g_clear_pointer (&self->warnings, g_strfreev);
  mr_settings_check (self->settings, self->edited, &warnings, &self->check_error);
  if (warnings != NULL)
    {
      g_ptr_array_add (warnings, NULL);
      self->warnings = g_strdupv ((char **) warnings->pdata);
    }

  update_messages (self);

  dirty = !files_equal (self->edited, mr_settings_get_layer (self->settings, self->scope));
  if (dirty != self->dirty)
    {
      self->dirty = dirty;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DIRTY]);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_VALID]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_WARNINGS]);
}

void
mr_settings_form_changed (MrSettingsForm *self)
{
  recheck (self);
}

gboolean
mr_settings_form_get_dirty (MrSettingsForm *self)
{
  return self->dirty;
}

const char *
mr_settings_form_get_problem (MrSettingsForm *self)
{
  for (guint i = 0; i < self->fields->len; i++)
    {
      Field *field = g_ptr_array_index (self->fields, i);
      if (field->error != NULL)
        return field->error;
    }
  return self->check_error ? self->check_error->message : NULL;
}

gboolean
mr_settings_form_get_valid (MrSettingsForm *self)
{
  return mr_settings_form_get_problem (self) == NULL;
}

const GError *
mr_settings_form_get_check_error (MrSettingsForm *self)
{
  return self->check_error;
}

const char * const *
mr_settings_form_get_warnings (MrSettingsForm *self)
{
  return (const char * const *) self->warnings;
}

/* ---- From rows to the working copy ------------------------------------------------------------ */

static void
field_take_value (MrSettingsForm *self,
                  Field          *field,
                  JsonNode       *value,  /* NULL: unset */
                  GError         *error)
{
  g_clear_pointer (&field->error, g_free);
  if (error != NULL)
    field->error = g_strdup (error->message);
  else if (value == NULL)
    mr_settings_file_unset (self->edited, field->key, NULL);
  else if (!mr_settings_file_set (self->edited, field->key, value, &error))
    field->error = g_strdup (strip_key (error->message));

  recheck (self);
  g_signal_emit (self, signals[VALUE_CHANGED], 0, field->key);
}

static void
on_entry_changed (GtkEditable    *editable,
                  MrSettingsForm *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) value = NULL;
  Field *field;
  const char *text;

  if (self->loading)
    return;
  field = g_object_get_data (G_OBJECT (editable), "mr-field");
  text = gtk_editable_get_text (editable);

  if (*text == '\0' && !field->required)
    field_take_value (self, field, NULL, NULL);
  else
    {
      value = mr_key_parse (field->info, text, &error);
      field_take_value (self, field, value, error);
    }
}

static void
on_combo_selected (AdwComboRow    *row,
                   GParamSpec     *pspec,
                   MrSettingsForm *self)
{
  Field *field;
  guint selected;
  g_autoptr(JsonNode) value = NULL;

  if (self->loading)
    return;
  field = g_object_get_data (G_OBJECT (row), "mr-field");
  selected = adw_combo_row_get_selected (row);
  if (selected >= g_strv_length (field->values))
    return;
  value = json_node_init_string (json_node_alloc (), field->values[selected]);
  field_take_value (self, field, value, NULL);
}

static void
on_switch_active (GtkSwitch      *toggle,
                  GParamSpec     *pspec,
                  MrSettingsForm *self)
{
  Field *field;
  g_autoptr(JsonNode) value = NULL;

  if (self->loading)
    return;
  field = g_object_get_data (G_OBJECT (toggle), "mr-field");
  value = json_node_init_boolean (json_node_alloc (), gtk_switch_get_active (toggle));
  field_take_value (self, field, value, NULL);
}

static void
on_spin_value (GtkSpinButton  *spin,
               MrSettingsForm *self)
{
  Field *field;
  g_autoptr(JsonNode) value = NULL;
  double number = gtk_spin_button_get_value (spin);

  if (self->loading)
    return;
  field = g_object_get_data (G_OBJECT (spin), "mr-field");
  if (number >= 0)
    value = json_node_init_int (json_node_alloc (), (gint64) number);
  field_take_value (self, field, value, NULL);
}

/* An empty spin button is "not set", shown by its placeholder. */
static int
on_spin_input (GtkSpinButton *spin,
               double        *new_value,
               gpointer       user_data)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (spin));

  for (const char *c = text; *c != '\0'; c++)
    if (!g_ascii_isspace (*c))
      return FALSE;   /* GtkSpinButton reads the number */
  *new_value = -1;
  return TRUE;
}

static gboolean
on_spin_output (GtkSpinButton *spin,
                gpointer       user_data)
{
  if (gtk_spin_button_get_value (spin) >= 0)
    return FALSE;
  if (*gtk_editable_get_text (GTK_EDITABLE (spin)) != '\0')
    gtk_editable_set_text (GTK_EDITABLE (spin), "");
  return TRUE;
}

/* ---- From the working copy to rows ------------------------------------------------------------ */

static JsonNode *
shown_value (MrSettingsForm *self,
             Field          *field)
{
  JsonNode *value = mr_settings_file_get (self->edited, field->key);

  if (value != NULL)
    return json_node_ref (value);
  return mr_key_get_default (field->info);
}

static void
show_field (MrSettingsForm *self,
            Field          *field)
{
  g_autoptr(JsonNode) value = shown_value (self, field);

  switch (field->kind)
    {
    case FIELD_ENTRY:
      {
        g_autofree char *text = mr_key_format (field->info, value);

        /* Keep what the user typed while it is invalid; otherwise show the stored value. */
        if (field->error == NULL && g_strcmp0 (text, gtk_editable_get_text (GTK_EDITABLE (field->widget))) != 0)
          gtk_editable_set_text (GTK_EDITABLE (field->widget), text);
        break;
      }
    case FIELD_COMBO:
      for (guint i = 0; field->values[i] != NULL; i++)
        if (g_strcmp0 (field->values[i], json_node_get_string (value)) == 0)
          adw_combo_row_set_selected (ADW_COMBO_ROW (field->widget), i);
      break;
    case FIELD_SWITCH:
      gtk_switch_set_active (GTK_SWITCH (field->widget), json_node_get_boolean (value));
      break;
    case FIELD_SPIN:
      gtk_spin_button_set_value (GTK_SPIN_BUTTON (field->widget), (double) json_node_get_int (value));
      break;
    default:
      g_assert_not_reached ();
    }

  gtk_widget_set_sensitive (field->widget, self->editable && field->lock_reason == NULL);
}

void
mr_settings_form_refresh (MrSettingsForm *self)
{
  self->loading = TRUE;
  for (guint i = 0; i < self->fields->len; i++)
    show_field (self, g_ptr_array_index (self->fields, i));
  self->loading = FALSE;
  recheck (self);
}

void
mr_settings_form_reload (MrSettingsForm *self)
{
  g_set_object (&self->edited, NULL);
  self->edited = mr_settings_file_copy (mr_settings_get_layer (self->settings, self->scope));
  for (guint i = 0; i < self->fields->len; i++)
    {
      Field *field = g_ptr_array_index (self->fields, i);
      g_clear_pointer (&field->error, g_free);
    }
  mr_settings_form_refresh (self);
}

/* After code changed a value in the working copy: show it in its row, if it has one. */
static void
show_changed_value (MrSettingsForm *self,
                    const char     *key)
{
  Field *field = find_field (self, key);

  if (field != NULL)
    {
      g_clear_pointer (&field->error, g_free);
      self->loading = TRUE;
      show_field (self, field);
      self->loading = FALSE;
    }
  recheck (self);
}

void
mr_settings_form_set_value (MrSettingsForm *self,
                            const char     *key,
                            JsonNode       *value)
{
  mr_settings_file_set (self->edited, key, value, NULL);
  show_changed_value (self, key);
}

void
mr_settings_form_unset_value (MrSettingsForm *self,
                              const char     *key)
{
  mr_settings_file_unset (self->edited, key, NULL);
  show_changed_value (self, key);
}

void
mr_settings_form_set_editable (MrSettingsForm *self,
                               gboolean        editable)
{
  self->editable = editable;
  for (guint i = 0; i < self->fields->len; i++)
    {
      Field *field = g_ptr_array_index (self->fields, i);
      gtk_widget_set_sensitive (field->widget, editable && field->lock_reason == NULL);
    }
}

void
mr_settings_form_set_locked (MrSettingsForm *self,
                             const char     *key,
                             const char     *reason)
{
  Field *field = find_field (self, key);

  if (field == NULL)
    return;
  g_free (field->lock_reason);
  field->lock_reason = g_strdup (reason);
  gtk_widget_set_sensitive (field->widget, self->editable && reason == NULL);
  gtk_widget_set_tooltip_text (field->row, reason);
  show_message (field, NULL);
}

/* ---- Registering rows ------------------------------------------------------------------------- */

static Field *
add_field (MrSettingsForm *self,
           const char     *key,
           FieldKind       kind,
           GtkWidget      *widget,
           GtkWidget      *row)
{
  Field *field = g_new0 (Field, 1);
  g_autoptr(GError) error = NULL;

  field->key = g_strdup (key);
  field->info = mr_settings_file_resolve_key (self->edited, key, &error);
  g_assert_no_error (error);  /* a page that names a wrong key is a programming error */
  field->kind = kind;
  field->widget = widget;
  field->row = row;
  g_object_set_data (G_OBJECT (widget), "mr-field", field);
  g_ptr_array_add (self->fields, field);
  return field;
}

void
mr_settings_form_add_entry (MrSettingsForm *self,
                            const char     *key,
                            AdwEntryRow    *row,
                            gboolean        required)
{
  Field *field = add_field (self, key, FIELD_ENTRY, GTK_WIDGET (row), GTK_WIDGET (row));

  field->required = required;
  g_signal_connect (row, "changed", G_CALLBACK (on_entry_changed), self);
}

void
mr_settings_form_add_combo (MrSettingsForm     *self,
                            const char         *key,
                            AdwComboRow        *row,
                            const char * const *values)
{
  Field *field = add_field (self, key, FIELD_COMBO, GTK_WIDGET (row), GTK_WIDGET (row));

  field->values = g_strdupv ((char **) values);
  g_signal_connect (row, "notify::selected", G_CALLBACK (on_combo_selected), self);
}

void
mr_settings_form_add_switch (MrSettingsForm *self,
                             const char     *key,
                             AdwActionRow   *row,
                             GtkSwitch      *toggle)
{
  add_field (self, key, FIELD_SWITCH, GTK_WIDGET (toggle), GTK_WIDGET (row));
  g_signal_connect (toggle, "notify::active", G_CALLBACK (on_switch_active), self);
}

void
mr_settings_form_add_spin (MrSettingsForm *self,
                           const char     *key,
                           AdwActionRow   *row,
                           GtkSpinButton  *spin)
{
  Field *field = add_field (self, key, FIELD_SPIN, GTK_WIDGET (spin), GTK_WIDGET (row));

  gtk_spin_button_set_range (spin, -1, field->info->max);
  gtk_spin_button_set_numeric (spin, TRUE);
  g_signal_connect (spin, "input", G_CALLBACK (on_spin_input), NULL);
  g_signal_connect (spin, "output", G_CALLBACK (on_spin_output), NULL);
  g_signal_connect (spin, "value-changed", G_CALLBACK (on_spin_value), self);
}

void
mr_settings_form_set_placeholder (MrSettingsForm *self,
                                  const char     *key,
                                  const char     *placeholder)
{
  Field *field = find_field (self, key);
  GtkEditable *delegate;

  g_return_if_fail (field != NULL && field->kind == FIELD_SPIN);
  delegate = gtk_editable_get_delegate (GTK_EDITABLE (field->widget));
  if (GTK_IS_TEXT (delegate))
    gtk_text_set_placeholder_text (GTK_TEXT (delegate), placeholder);
  gtk_accessible_update_property (GTK_ACCESSIBLE (field->widget), GTK_ACCESSIBLE_PROPERTY_PLACEHOLDER, placeholder, -1);
}

void
mr_settings_form_remove_prefix (MrSettingsForm *self,
                                const char     *prefix)
{
  for (guint i = self->fields->len; i > 0; i--)
    {
      Field *field = g_ptr_array_index (self->fields, i - 1);

      if (g_str_has_prefix (field->key, prefix))
        {
          g_signal_handlers_disconnect_by_data (field->widget, self);
          g_ptr_array_remove_index (self->fields, i - 1);
        }
    }
}

gboolean
mr_settings_form_commit (MrSettingsForm  *self,
                         GError         **error)
{
  const char *problem;

  /* Required rows left empty say so now, under the row. */
  for (guint i = 0; i < self->fields->len; i++)
    {
      Field *field = g_ptr_array_index (self->fields, i);
      g_autoptr(GError) missing = NULL;

      g_autoptr(JsonNode) fallback = NULL;
      g_autofree char *shown = NULL;

      if (!field->required || field->error != NULL || field->lock_reason != NULL ||
          mr_settings_file_get (self->edited, field->key) != NULL)
        continue;
      /* Unset but with a default to show (the port's 587) is fine; an empty one is not. */
      fallback = mr_key_get_default (field->info);
      shown = mr_key_format (field->info, fallback);
      if (*shown == '\0' && mr_key_parse (field->info, "", &missing) == NULL)
        field->error = g_strdup (missing->message);
    }
  update_messages (self);

  problem = mr_settings_form_get_problem (self);

  if (problem != NULL)
    {
      g_set_error (error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_INVALID_VALUE,
                   _("Correct the highlighted settings first: %s"), problem);
      return FALSE;
    }
  if (!mr_settings_commit (self->settings, self->edited, NULL, error))
    return FALSE;
  mr_settings_form_reload (self);
  return TRUE;
}
