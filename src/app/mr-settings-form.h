/* mr-settings-form.h: binds the rows of a settings page to a working copy of one layer
 *
 * A page registers its rows (entry, combo, switch) with the keys they edit. The form loads the
 * layer's values into them, validates each change as it is typed with the engine's own checks
 * (the same ones the CLI uses), shows the message under the row, keeps the working copy, and
 * commits it with mr_settings_commit(). Nothing here writes files itself.
 *
 * Call order: mr_settings_form_new() → add rows → mr_settings_form_reload() → (user edits) →
 * mr_settings_form_commit() or mr_settings_form_reload() to revert.
 */
#pragma once

#include <adwaita.h>

#include "mailroom-settings.h"

G_BEGIN_DECLS

#define MR_TYPE_SETTINGS_FORM (mr_settings_form_get_type ())

G_DECLARE_FINAL_TYPE (MrSettingsForm, mr_settings_form, MR, SETTINGS_FORM, GObject)

MrSettingsForm *mr_settings_form_new            (MrSettings         *settings,
                                                 MrScope             scope);
MrSettings     *mr_settings_form_get_settings   (MrSettingsForm     *self);
MrSettingsFile *mr_settings_form_get_edited     (MrSettingsForm     *self);

/* @required: an empty entry is an error rather than "not set". */
void            mr_settings_form_add_entry      (MrSettingsForm     *self,
                                                 const char         *key,
                                                 AdwEntryRow        *row,
                                                 gboolean            required);
/* @values: the key's value for each item of the row's model, in order. */
void            mr_settings_form_add_combo      (MrSettingsForm     *self,
                                                 const char         *key,
                                                 AdwComboRow        *row,
                                                 const char * const *values);
void            mr_settings_form_add_switch     (MrSettingsForm     *self,
                                                 const char         *key,
                                                 AdwActionRow       *row,
                                                 GtkSwitch          *toggle);
/* A number in a spin button; emptied (or stepped below 0) it is not set, and the placeholder says
 * what applies then. */
void            mr_settings_form_add_spin       (MrSettingsForm     *self,
                                                 const char         *key,
                                                 AdwActionRow       *row,
                                                 GtkSpinButton      *spin);
void            mr_settings_form_set_placeholder (MrSettingsForm    *self,
                                                 const char         *key,
                                                 const char         *placeholder);
/* Forgets every row whose key starts with @prefix (used when an application profile goes). */
void            mr_settings_form_remove_prefix  (MrSettingsForm     *self,
                                                 const char         *prefix);
GtkWidget      *mr_settings_form_get_widget     (MrSettingsForm     *self,
                                                 const char         *key);

/* Starts again from the layer as stored (Revert), and after the settings were reloaded. */
void            mr_settings_form_reload         (MrSettingsForm     *self);
/* Shows the working copy's values again, after the page changed it (a preset, say). */
void            mr_settings_form_refresh        (MrSettingsForm     *self);
/* Sets a value in the working copy from code and refreshes its row. */
void            mr_settings_form_set_value      (MrSettingsForm     *self,
                                                 const char         *key,
                                                 JsonNode           *value);
void            mr_settings_form_unset_value    (MrSettingsForm     *self,
                                                 const char         *key);
void            mr_settings_form_changed        (MrSettingsForm     *self);

void            mr_settings_form_set_editable   (MrSettingsForm     *self,
                                                 gboolean            editable);
/* Makes a row read-only with the reason under it, or (NULL) editable again. */
void            mr_settings_form_set_locked     (MrSettingsForm     *self,
                                                 const char         *key,
                                                 const char         *reason);

gboolean        mr_settings_form_get_dirty      (MrSettingsForm     *self);
gboolean        mr_settings_form_get_valid      (MrSettingsForm     *self);
/* The first problem that stops saving, translated, or NULL. */
const char     *mr_settings_form_get_problem    (MrSettingsForm     *self);
/* The rule between keys that fails now (verified domains, say), or NULL. */
const GError   *mr_settings_form_get_check_error (MrSettingsForm    *self);
const char * const *mr_settings_form_get_warnings (MrSettingsForm    *self);

/* Errors: those of mr_settings_commit(); MR_SETTINGS_ERROR_INVALID_VALUE when a row is invalid. */
gboolean        mr_settings_form_commit         (MrSettingsForm     *self,
                                                 GError            **error);

G_END_DECLS
