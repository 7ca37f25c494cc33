/* mr-settings-file.h: one layer of settings, as stored in one JSON file
 *
 * The company file (admin-managed, readable by everyone) and each user's file
 * ($XDG_CONFIG_HOME/mailroom/user.json, mode 0600) are both MrSettingsFile objects. The file format
 * (docs/settings.md):
 *
 *   { "schema_version": 1,
 *     "settings": { "smtp.host": "smtp.example.com", "smtp.port": 587, … },
 *     "apps": { "marketing": { "sender.from_address": "news@example.com" } } }
 *
 * Call order: mr_settings_file_new() → mr_settings_file_load() → get/set/unset in memory →
 * mr_settings_file_save(). Setting a value only validates that key on its own; rules that span
 * keys and layers (locks, verified domains, presets) are MrSettings' job (mr_settings_commit()).
 */
#pragma once

#include <json-glib/json-glib.h>

#include "mr-keys.h"

G_BEGIN_DECLS

#define MR_TYPE_SETTINGS_FILE (mr_settings_file_get_type ())

G_DECLARE_FINAL_TYPE (MrSettingsFile, mr_settings_file, MR, SETTINGS_FILE, GObject)

typedef enum {
  MR_SCOPE_COMPANY,
  MR_SCOPE_USER,
} MrScope;

#define MR_SETTINGS_SCHEMA_VERSION 1

MrSettingsFile  *mr_settings_file_new            (const char      *path,
                                                  MrScope          scope);
MrSettingsFile  *mr_settings_file_copy           (MrSettingsFile  *self);
const char      *mr_settings_file_get_path       (MrSettingsFile  *self);
MrScope          mr_settings_file_get_scope      (MrSettingsFile  *self);
gboolean         mr_settings_file_get_exists     (MrSettingsFile  *self);

/* Errors: MR_SETTINGS_ERROR_FILE_UNREADABLE, _FILE_CORRUPT. A missing file is an empty layer.
 * On error the values held before are kept. */
gboolean         mr_settings_file_load           (MrSettingsFile  *self,
                                                  GError         **error);

/* Writes atomically (temporary file in the same folder, fsync, rename), keeping the mode and
 * group of an existing company file; a user file is always 0600 in a 0700 folder.
 * Errors: MR_SETTINGS_ERROR_FILE_UNWRITABLE (permission), _WRITE_FAILED (anything else). */
gboolean         mr_settings_file_save           (MrSettingsFile  *self,
                                                  GError         **error);

/* Whether this process may replace the file (the file and its folder are writable). */
gboolean         mr_settings_file_can_write      (MrSettingsFile  *self);

/* Values are owned by the file; NULL when unset. */
JsonNode        *mr_settings_file_get            (MrSettingsFile  *self,
                                                  const char      *key);
const char      *mr_settings_file_get_string     (MrSettingsFile  *self,
                                                  const char      *key);

/* Errors: MR_SETTINGS_ERROR_UNKNOWN_KEY (no such key in this layer), _INVALID_VALUE (the message
 * starts with the key). A rejected value leaves the file unchanged. */
gboolean         mr_settings_file_set            (MrSettingsFile  *self,
                                                  const char      *key,
                                                  JsonNode        *value,
                                                  GError         **error);
gboolean         mr_settings_file_set_from_text  (MrSettingsFile  *self,
                                                  const char      *key,
                                                  const char      *text,
                                                  GError         **error);
/* "apps.NAME" removes a whole application profile. */
gboolean         mr_settings_file_unset          (MrSettingsFile  *self,
                                                  const char      *key,
                                                  GError         **error);

gboolean         mr_settings_file_add_app        (MrSettingsFile  *self,
                                                  const char      *app,
                                                  GError         **error);
gboolean         mr_settings_file_has_app        (MrSettingsFile  *self,
                                                  const char      *app);
GStrv            mr_settings_file_list_apps      (MrSettingsFile  *self);
GStrv            mr_settings_file_list_keys      (MrSettingsFile  *self);

/* The whole layer as { key: value }, with apps.NAME.key names. */
JsonNode        *mr_settings_file_to_json        (MrSettingsFile  *self);

/* Checks a key name for this layer and returns its description. */
const MrKeyInfo *mr_settings_file_resolve_key    (MrSettingsFile  *self,
                                                  const char      *key,
                                                  GError         **error);

G_END_DECLS
