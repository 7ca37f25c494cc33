/* mr-error.c: every engine error as a stable kind and a sysexits status (docs/cli.md) */

#include "config.h"

#include <gio/gio.h>

#include "mr-error.h"
#include "mr-secrets.h"
#include "mr-settings-error.h"

typedef struct {
  GQuark       (*domain) (void);
  int          code;
  const char  *kind;
  MrExitStatus status;
} ErrorRow;

static const ErrorRow rows[] = {
  { mr_settings_error_quark, MR_SETTINGS_ERROR_INVALID_VALUE,   "invalid-value",       MR_EXIT_DATA },
  { mr_settings_error_quark, MR_SETTINGS_ERROR_UNKNOWN_KEY,     "unknown-key",         MR_EXIT_DATA },
  { mr_settings_error_quark, MR_SETTINGS_ERROR_KEY_LOCKED,      "key-locked",          MR_EXIT_NOT_PERMITTED },
  { mr_settings_error_quark, MR_SETTINGS_ERROR_FILE_CORRUPT,    "file-corrupt",        MR_EXIT_DATA },
  { mr_settings_error_quark, MR_SETTINGS_ERROR_FILE_UNREADABLE, "file-unreadable",     MR_EXIT_NO_INPUT },
  { mr_settings_error_quark, MR_SETTINGS_ERROR_FILE_UNWRITABLE, "file-unwritable",     MR_EXIT_NOT_PERMITTED },
  { mr_settings_error_quark, MR_SETTINGS_ERROR_WRITE_FAILED,    "write-failed",        MR_EXIT_CANT_CREATE },
  { mr_secrets_error_quark,  MR_SECRETS_ERROR_UNAVAILABLE,      "keyring-unavailable", MR_EXIT_UNAVAILABLE },
  { mr_secrets_error_quark,  MR_SECRETS_ERROR_LOCKED,           "keyring-locked",      MR_EXIT_UNAVAILABLE },
  { mr_secrets_error_quark,  MR_SECRETS_ERROR_FAILED,           "keyring-failed",      MR_EXIT_SOFTWARE },
};

static const ErrorRow *
find_row (const GError *error)
{
  for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
    if (error->domain == rows[i].domain () && error->code == rows[i].code)
      return &rows[i];
  return NULL;
}

const char *
mr_error_get_kind (const GError *error)
{
  const ErrorRow *row = find_row (error);

  if (row != NULL)
    return row->kind;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return "cancelled";
  return "internal";
}

MrExitStatus
mr_error_get_exit_status (const GError *error)
{
  const ErrorRow *row = find_row (error);

  return row != NULL ? row->status : MR_EXIT_SOFTWARE;
}
