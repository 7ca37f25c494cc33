/* mr-settings.h: the company and user layers, resolved into effective settings
 *
 * Resolution for a key and an optional application, first match wins:
 *   1. the user's own value, unless the key is locked (company "locks", a preset's lock, or
 *      smtp.username while the company's credentials are used for everyone);
 *   2. the application profile (apps.NAME.KEY in the company file);
 *   3. the company value;
 *   4. the key's built-in default.
 *
 * Call order: mr_settings_new() → mr_settings_load() → read with mr_settings_get_effective(), change
 * a copy of a layer (mr_settings_file_copy(), set/unset) and write it with mr_settings_commit(),
 * which validates the rules that span keys and layers and writes nothing when one is broken.
 */
#pragma once

#include "mr-presets.h"
#include "mr-secrets.h"
#include "mr-settings-file.h"

G_BEGIN_DECLS

#define MR_TYPE_SETTINGS (mr_settings_get_type ())

G_DECLARE_FINAL_TYPE (MrSettings, mr_settings, MR, SETTINGS, GObject)

typedef enum {
  MR_ORIGIN_DEFAULT,
  MR_ORIGIN_COMPANY,
  MR_ORIGIN_APP,
  MR_ORIGIN_USER,
} MrOrigin;

char            *mr_settings_get_default_company_path (void);
char            *mr_settings_get_default_user_path    (void);
/* $XDG_DATA_HOME/mailroom/@name: the sent log, drafts, personal templates, mailshot journals. */
char            *mr_get_user_data_path                (const char *name);
/* $XDG_CACHE_HOME/mailroom/@name: what is only worth keeping to save a lookup (servers' SIZE,
 * autodiscover's answers). */
char            *mr_get_user_cache_path               (const char *name);
/* The JSON object in the cache file @name; missing or unreadable, an empty one. Callers that write
 * the file serialise their read-change-write themselves. */
JsonObject      *mr_cache_read                        (const char *name);
/* Replaces the cache file @name with @object, whole or not at all (mode 0600); a cache that cannot
 * be written only costs a lookup later. */
void             mr_cache_write                       (const char *name,
                                                       JsonObject *object);

/* NULL paths mean the defaults: $MAILROOM_COMPANY_CONFIG or /etc/xdg/mailroom/company.json, and
 * $XDG_CONFIG_HOME/mailroom/user.json. */
MrSettings      *mr_settings_new               (const char       *company_path,
                                                const char       *user_path);

/* Errors: those of mr_settings_file_load(). Both files are read; the first error is returned. */
gboolean         mr_settings_load              (MrSettings       *self,
                                                GError          **error);

MrSettingsFile  *mr_settings_get_company       (MrSettings       *self);
MrSettingsFile  *mr_settings_get_user          (MrSettings       *self);
MrSettingsFile  *mr_settings_get_layer         (MrSettings       *self,
                                                MrScope           scope);

/* Whether this user may change the company file (the Company page is read-only otherwise). */
gboolean         mr_settings_can_edit_company  (MrSettings       *self);

/* Returns the reason, translated, when a user may not override @base_key; NULL otherwise. */
char            *mr_settings_get_lock_reason   (MrSettings       *self,
                                                const char       *app,
                                                const char       *base_key);

/* The value in force and where it came from; never NULL for a known key. */
JsonNode        *mr_settings_get_effective     (MrSettings       *self,
                                                const char       *app,
                                                const char       *base_key,
                                                MrOrigin         *origin);
char            *mr_settings_dup_effective_string (MrSettings    *self,
                                                const char       *app,
                                                const char       *base_key);
/* A list key's strings, NULL-terminated (empty when the list is). */
GStrv            mr_settings_dup_effective_strv (MrSettings      *self,
                                                const char       *app,
                                                const char       *base_key);
gint64           mr_settings_get_effective_int (MrSettings       *self,
                                                const char       *app,
                                                const char       *base_key);
gboolean         mr_settings_get_effective_boolean (MrSettings   *self,
                                                const char       *app,
                                                const char       *base_key);
const char      *mr_origin_to_string           (MrOrigin          origin);

/* Checks @edited as the new content of its layer and, when every rule holds, writes it and makes
 * it current. @warnings (optional) receives translated warnings that do not stop the save.
 * Errors: MR_SETTINGS_ERROR_FILE_UNWRITABLE (company file not writable by this user),
 * _KEY_LOCKED (a user value for a locked key was added or changed), _INVALID_VALUE (a rule between
 * keys: verified domains, preset locks), and those of mr_settings_file_save(). */
gboolean         mr_settings_commit            (MrSettings       *self,
                                                MrSettingsFile   *edited,
                                                GPtrArray       **warnings,
                                                GError          **error);

/* The checks of mr_settings_commit() without writing anything: for inline validation. */
gboolean         mr_settings_check             (MrSettings       *self,
                                                MrSettingsFile   *edited,
                                                GPtrArray       **warnings,
                                                GError          **error);

/* Sets one key from text in one layer and commits it, applying the provider preset when the key
 * is smtp.provider. This is what `mailroom-cli company|user set` does. */
gboolean         mr_settings_set_and_commit    (MrSettings       *self,
                                                MrScope           scope,
                                                const char       *key,
                                                const char       *text,
                                                GPtrArray       **warnings,
                                                GError          **error);
gboolean         mr_settings_unset_and_commit  (MrSettings       *self,
                                                MrScope           scope,
                                                const char       *key,
                                                GPtrArray       **warnings,
                                                GError          **error);

/* Whether a domain is allowed as a sender domain (an empty verified list allows any). */
gboolean         mr_settings_domain_is_verified (MrSettings      *self,
                                                const char       *domain);

/* The keyring account that holds the password for sending: for MR_SCOPE_COMPANY the company's
 * (or the application profile's) login, for MR_SCOPE_USER the user's own login, which needs
 * smtp.credentials = per-user. Errors: MR_SETTINGS_ERROR_INVALID_VALUE when the server or login
 * is not set, _KEY_LOCKED when a user asks for their own login while the company's is used. */
MrSecretAccount *mr_settings_get_account       (MrSettings       *self,
                                                MrScope           scope,
                                                const char       *app,
                                                GError          **error);

G_END_DECLS
