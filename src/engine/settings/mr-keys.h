/* mr-keys.h: the settings keys, their types, defaults, layers and validation
 *
 * The key names are the CLI's contract (docs/settings.md lists them all). A key is given either by its
 * base name ("smtp.host") or, in the company layer, inside an application profile
 * ("apps.marketing.smtp.host"). Values are JsonNodes: strings, integers, booleans or arrays of strings.
 *
 * Validation functions return FALSE and set MR_SETTINGS_ERROR_INVALID_VALUE with a message that says
 * what is wrong in words a user understands; they do not name the key, so that the GUI can show the
 * message under the row. Callers that need the key in the message (the CLI) prefix it.
 */
#pragma once

#include <json-glib/json-glib.h>

#include "mr-settings-error.h"

G_BEGIN_DECLS

typedef enum {
  MR_KEY_TYPE_STRING,
  MR_KEY_TYPE_INT,
  MR_KEY_TYPE_BOOLEAN,
  MR_KEY_TYPE_CHOICE,
  MR_KEY_TYPE_STRING_LIST,
} MrKeyType;

/* Which layers may hold a key. */
typedef enum {
  MR_LAYER_COMPANY = 1 << 0,
  MR_LAYER_USER    = 1 << 1,
  MR_LAYER_APP     = 1 << 2,   /* inside apps.<name>. in the company file */
} MrLayerFlags;

/* What a string value must look like. */
typedef enum {
  MR_CHECK_TEXT,          /* one line of text */
  MR_CHECK_HOST,          /* host name or IP address, required */
  MR_CHECK_ADDRESS,       /* an e-mail address (addr-spec) or empty */
  MR_CHECK_ABSOLUTE_PATH, /* an absolute path or empty */
  MR_CHECK_FINGERPRINT,   /* SHA-256, 64 hex digits, colons allowed, or empty */
  MR_CHECK_DOMAINS,       /* list of domain names */
  MR_CHECK_DOMAIN_ENTRIES, /* list of "DOMAIN TOKEN" or "DOMAIN YYYY-MM-DD" */
  MR_CHECK_SELECTORS,     /* list of DKIM selectors (the labels before ._domainkey) */
  MR_CHECK_KEYS,          /* list of lockable key names */
  MR_CHECK_HTTPS_URL,     /* an https:// URL or empty */
  MR_CHECK_HTTPS_SERVICE, /* the same, for a service Mailroom logs in to */
} MrCheck;

typedef struct {
  const char          *name;
  MrKeyType            type;
  const char          *default_json;  /* the default, as a JSON literal */
  MrLayerFlags         layers;
  gboolean             lockable;      /* a user may override it unless the company locks it */
  MrCheck              check;
  const char * const  *choices;       /* MR_KEY_TYPE_CHOICE only, NULL-terminated */
  int                  min, max;      /* MR_KEY_TYPE_INT only */
} MrKeyInfo;

const MrKeyInfo  *mr_key_lookup               (const char       *base_name);
const MrKeyInfo  *mr_key_get_all              (guint            *n_keys);

gboolean          mr_key_split                (const char       *full_name,
                                               char            **app_name,
                                               const char      **base_name);
gboolean          mr_app_name_is_valid        (const char       *app_name);

JsonNode         *mr_key_get_default          (const MrKeyInfo  *key);
JsonNode         *mr_key_parse                (const MrKeyInfo  *key,
                                               const char       *text,
                                               GError          **error);
JsonNode         *mr_key_normalize            (const MrKeyInfo  *key,
                                               JsonNode         *value,
                                               GError          **error);
char             *mr_key_format               (const MrKeyInfo  *key,
                                               JsonNode         *value);

gboolean          mr_validate_single_line     (const char       *text,
                                               GError          **error);
gboolean          mr_validate_host            (const char       *text,
                                               GError          **error);
gboolean          mr_validate_address         (const char       *text,
                                               GError          **error);
gboolean          mr_validate_domain          (const char       *text,
                                               GError          **error);
gboolean          mr_parse_port               (const char       *text,
                                               guint16          *port,
                                               GError          **error);
const char       *mr_address_get_domain       (const char       *address);

G_END_DECLS
