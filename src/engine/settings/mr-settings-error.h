/* mr-settings-error.h: the settings subsystem's error domain */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MR_SETTINGS_ERROR (mr_settings_error_quark ())

typedef enum {
  MR_SETTINGS_ERROR_INVALID_VALUE,    /* a value a key does not accept; the message names key and reason */
  MR_SETTINGS_ERROR_UNKNOWN_KEY,      /* no such key, or not in this layer */
  MR_SETTINGS_ERROR_KEY_LOCKED,       /* the company locked the key, or a preset fixes it */
  MR_SETTINGS_ERROR_FILE_CORRUPT,     /* a settings file that cannot be parsed: path and line in the message */
  MR_SETTINGS_ERROR_FILE_UNREADABLE,  /* the file exists but cannot be read */
  MR_SETTINGS_ERROR_FILE_UNWRITABLE,  /* this user may not write the file (for example the company file) */
  MR_SETTINGS_ERROR_WRITE_FAILED,     /* writing failed for another reason (disk full, missing folder) */
} MrSettingsError;

GQuark mr_settings_error_quark (void);

G_END_DECLS
