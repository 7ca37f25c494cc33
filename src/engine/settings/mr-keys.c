/* mr-keys.c: the settings keys and their validation */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "mr-keys.h"

G_DEFINE_QUARK (mr-settings-error-quark, mr_settings_error)

/* The ids of presets.json, in its order (tests/test-settings.c checks they agree). */
static const char * const providers[] = { "office365", "office365-relay", "gmail", "zoho", "outlook", "yahoo", "icloud",
                                          "fastmail", "ionos", "strato", "gmx", "webde", "mailbox", "ses", "sendgrid",
                                          "mailgun", "brevo", "other", "local", NULL };
static const char * const securities[] = { "none", "starttls", "tls", NULL };
static const char * const auths[] = { "none", "password", "ntlm", "oauth2", NULL };
static const char * const credentials[] = { "company", "per-user", NULL };
static const char * const delivery_modes[] = { "remote", "local-smtp", "sendmail", NULL };
static const char * const exchange_transports[] = { "ews", "graph", NULL };
static const char * const exchange_auths[] = { "ntlm", "basic", "negotiate", "oauth2", NULL };
static const char * const routes[] = { "smtp", "exchange", NULL };

#define COMPANY_APP_USER (MR_LAYER_COMPANY | MR_LAYER_APP | MR_LAYER_USER)
#define COMPANY_APP      (MR_LAYER_COMPANY | MR_LAYER_APP)

/* Keep in step with docs/settings.md. */
static const MrKeyInfo keys[] = {
  { "smtp.provider",             MR_KEY_TYPE_CHOICE,  "\"other\"",   COMPANY_APP,      FALSE, MR_CHECK_TEXT, providers },
  { "smtp.host",                 MR_KEY_TYPE_STRING,  "\"\"",        COMPANY_APP_USER, TRUE,  MR_CHECK_HOST },
  { "smtp.port",                 MR_KEY_TYPE_INT,     "587",         COMPANY_APP_USER, TRUE,  MR_CHECK_TEXT, NULL, 1, 65535 },
  { "smtp.security",             MR_KEY_TYPE_CHOICE,  "\"starttls\"", COMPANY_APP_USER, TRUE, MR_CHECK_TEXT, securities },
  { "smtp.auth",                 MR_KEY_TYPE_CHOICE,  "\"password\"", COMPANY_APP_USER, TRUE, MR_CHECK_TEXT, auths },
  { "smtp.username",             MR_KEY_TYPE_STRING,  "\"\"",        COMPANY_APP_USER, TRUE,  MR_CHECK_TEXT },
  { "smtp.credentials",          MR_KEY_TYPE_CHOICE,  "\"company\"", COMPANY_APP,      FALSE, MR_CHECK_TEXT, credentials },
  { "smtp.allow_plaintext_auth", MR_KEY_TYPE_BOOLEAN, "false",       COMPANY_APP,      FALSE, MR_CHECK_TEXT },
  { "smtp.tls_trust_file",       MR_KEY_TYPE_STRING,  "\"\"",        COMPANY_APP,      FALSE, MR_CHECK_ABSOLUTE_PATH },
  { "smtp.tls_fingerprint",      MR_KEY_TYPE_STRING,  "\"\"",        COMPANY_APP,      FALSE, MR_CHECK_FINGERPRINT },
  { "smtp.timeout_connect_ms",    MR_KEY_TYPE_INT,     "60000",       COMPANY_APP,      FALSE, MR_CHECK_TEXT, NULL, 1, 3600000 },
  { "smtp.timeout_greeting_ms",   MR_KEY_TYPE_INT,     "300000",      COMPANY_APP,      FALSE, MR_CHECK_TEXT, NULL, 1, 3600000 },
  { "smtp.timeout_command_ms",    MR_KEY_TYPE_INT,     "300000",      COMPANY_APP,      FALSE, MR_CHECK_TEXT, NULL, 1, 3600000 },
  { "smtp.timeout_data_ms",       MR_KEY_TYPE_INT,     "600000",      COMPANY_APP,      FALSE, MR_CHECK_TEXT, NULL, 1, 3600000 },
  { "delivery.mode",             MR_KEY_TYPE_CHOICE,  "\"remote\"",  COMPANY_APP_USER, TRUE,  MR_CHECK_TEXT, delivery_modes },
  { "delivery.sendmail_path",    MR_KEY_TYPE_STRING,  "\"/usr/sbin/sendmail\"", COMPANY_APP, FALSE, MR_CHECK_ABSOLUTE_PATH },
  { "sender.from_name",          MR_KEY_TYPE_STRING,  "\"\"",        COMPANY_APP_USER, TRUE,  MR_CHECK_TEXT },
  { "sender.from_address",       MR_KEY_TYPE_STRING,  "\"\"",        COMPANY_APP_USER, TRUE,  MR_CHECK_ADDRESS },
  { "sender.reply_to",           MR_KEY_TYPE_STRING,  "\"\"",        COMPANY_APP_USER, TRUE,  MR_CHECK_ADDRESS },
  { "sender.copy_to",            MR_KEY_TYPE_STRING,  "\"\"",        COMPANY_APP_USER, TRUE,  MR_CHECK_ADDRESS },
  { "sender.send_as_user",       MR_KEY_TYPE_BOOLEAN, "false",       COMPANY_APP_USER, TRUE,  MR_CHECK_TEXT },
  { "log.retention_days",        MR_KEY_TYPE_INT,     "365",         COMPANY_APP_USER, TRUE,  MR_CHECK_TEXT, NULL, 0, 36500 },
  /* -1: the provider preset's pace (none for Other); 0: no limit. */
  { "mailshot.per_minute",       MR_KEY_TYPE_INT,     "-1",          COMPANY_APP,      FALSE, MR_CHECK_TEXT, NULL, -1, 100000 },
  { "mailshot.per_day",          MR_KEY_TYPE_INT,     "-1",          COMPANY_APP,      FALSE, MR_CHECK_TEXT, NULL, -1, 10000000 },
  { "mailshot.connections",      MR_KEY_TYPE_INT,     "-1",          COMPANY_APP,      FALSE, MR_CHECK_TEXT, NULL, -1, 20 },
  { "mailshot.copy_each",        MR_KEY_TYPE_BOOLEAN, "false",       COMPANY_APP,      FALSE, MR_CHECK_TEXT },
  { "mailshot.unsubscribe_url",  MR_KEY_TYPE_STRING,  "\"\"",        COMPANY_APP,      FALSE, MR_CHECK_HTTPS_URL },
  { "mailshot.unsubscribe_mailto", MR_KEY_TYPE_STRING, "\"\"",       COMPANY_APP,      FALSE, MR_CHECK_ADDRESS },
  { "exchange.transport",        MR_KEY_TYPE_CHOICE,  "\"ews\"",     COMPANY_APP,      FALSE, MR_CHECK_TEXT, exchange_transports },
  { "exchange.ews_url",          MR_KEY_TYPE_STRING,  "\"\"",        COMPANY_APP,      FALSE, MR_CHECK_HTTPS_SERVICE },
  /* Without an EWS URL: find it from the person's address when sending. */
  { "exchange.autodiscover",     MR_KEY_TYPE_BOOLEAN, "false",       COMPANY_APP,      FALSE, MR_CHECK_TEXT },
  { "exchange.auth",             MR_KEY_TYPE_CHOICE,  "\"ntlm\"",    COMPANY_APP,      FALSE, MR_CHECK_TEXT, exchange_auths },
  /* Empty: the person's own address (user.email). */
  { "exchange.username",         MR_KEY_TYPE_STRING,  "\"\"",        COMPANY_APP_USER, TRUE,  MR_CHECK_TEXT },
  { "exchange.mailbox",          MR_KEY_TYPE_STRING,  "\"\"",        COMPANY_APP_USER, TRUE,  MR_CHECK_ADDRESS },
  { "exchange.save_copy",        MR_KEY_TYPE_BOOLEAN, "true",        COMPANY_APP_USER, TRUE,  MR_CHECK_TEXT },
  { "exchange.trust_file",       MR_KEY_TYPE_STRING,  "\"\"",        COMPANY_APP,      FALSE, MR_CHECK_ABSOLUTE_PATH },
  { "exchange.tenant",           MR_KEY_TYPE_STRING,  "\"organizations\"", COMPANY_APP, FALSE, MR_CHECK_TEXT },
  { "exchange.client_id",        MR_KEY_TYPE_STRING,  "\"\"",        COMPANY_APP,      FALSE, MR_CHECK_TEXT },
  { "exchange.authority",        MR_KEY_TYPE_STRING,  "\"https://login.microsoftonline.com\"", COMPANY_APP, FALSE, MR_CHECK_HTTPS_SERVICE },
  { "exchange.graph_endpoint",   MR_KEY_TYPE_STRING,  "\"https://graph.microsoft.com\"", COMPANY_APP, FALSE, MR_CHECK_HTTPS_SERVICE },
  { "exchange.timeout_ms",       MR_KEY_TYPE_INT,     "60000",       COMPANY_APP,      FALSE, MR_CHECK_TEXT, NULL, 1, 3600000 },
  /* What the route "auto" means: the transport tried first, and whether the other may follow. */
  { "exchange.preferred",          MR_KEY_TYPE_CHOICE,  "\"smtp\"",    COMPANY_APP,      FALSE, MR_CHECK_TEXT, routes },
  { "exchange.fallback",          MR_KEY_TYPE_BOOLEAN, "true",        COMPANY_APP,      FALSE, MR_CHECK_TEXT },
  /* Google's OAuth client for XOAUTH2 to Gmail (a "Desktop app" client; its secret is not one). */
  { "google.client_id",          MR_KEY_TYPE_STRING,  "\"\"",        COMPANY_APP,      FALSE, MR_CHECK_TEXT },
  { "google.client_secret",      MR_KEY_TYPE_STRING,  "\"\"",        COMPANY_APP,      FALSE, MR_CHECK_TEXT },
  { "google.authorize_url",      MR_KEY_TYPE_STRING,  "\"https://accounts.google.com/o/oauth2/v2/auth\"", COMPANY_APP, FALSE, MR_CHECK_HTTPS_SERVICE },
  { "google.token_url",          MR_KEY_TYPE_STRING,  "\"https://oauth2.googleapis.com/token\"", COMPANY_APP, FALSE, MR_CHECK_HTTPS_SERVICE },
  { "domains.verified",          MR_KEY_TYPE_STRING_LIST, "[]",      MR_LAYER_COMPANY, FALSE, MR_CHECK_DOMAINS },
  { "domains.pending",           MR_KEY_TYPE_STRING_LIST, "[]",      MR_LAYER_COMPANY, FALSE, MR_CHECK_DOMAIN_ENTRIES },
  { "domains.proved",            MR_KEY_TYPE_STRING_LIST, "[]",      MR_LAYER_COMPANY, FALSE, MR_CHECK_DOMAIN_ENTRIES },
  { "domains.dkim_selectors",    MR_KEY_TYPE_STRING_LIST, "[]",      MR_LAYER_COMPANY, FALSE, MR_CHECK_SELECTORS },
  { "locks",                     MR_KEY_TYPE_STRING_LIST, "[]",      MR_LAYER_COMPANY, FALSE, MR_CHECK_KEYS },
  { "user.name",                 MR_KEY_TYPE_STRING,  "\"\"",        MR_LAYER_USER,    FALSE, MR_CHECK_TEXT },
  { "user.email",                MR_KEY_TYPE_STRING,  "\"\"",        MR_LAYER_USER,    FALSE, MR_CHECK_ADDRESS },
};

const MrKeyInfo *
mr_key_get_all (guint *n_keys)
{
  *n_keys = G_N_ELEMENTS (keys);
  return keys;
}

const MrKeyInfo *
mr_key_lookup (const char *base_name)
{
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    if (g_strcmp0 (keys[i].name, base_name) == 0)
      return &keys[i];
  return NULL;
}

gboolean
mr_app_name_is_valid (const char *app_name)
{
  if (app_name == NULL || !g_ascii_isalnum (app_name[0]) || strlen (app_name) > 64)
    return FALSE;
  for (const char *p = app_name; *p; p++)
    if (!g_ascii_islower (*p) && !g_ascii_isdigit (*p) && *p != '-' && *p != '_')
      return FALSE;
  return TRUE;
}

/* "apps.marketing.smtp.host" → app "marketing", base "smtp.host"; "smtp.host" → app NULL.
 * Returns FALSE for an "apps." key without a valid application name or key. */
gboolean
mr_key_split (const char  *full_name,
              char       **app_name,
              const char **base_name)
{
  const char *dot;

  *app_name = NULL;
  *base_name = full_name;

  if (!g_str_has_prefix (full_name, "apps."))
    return TRUE;

  dot = strchr (full_name + 5, '.');
  if (dot == NULL || dot[1] == '\0')
    return FALSE;

  *app_name = g_strndup (full_name + 5, dot - (full_name + 5));
  *base_name = dot + 1;
  if (!mr_app_name_is_valid (*app_name))
    {
      g_clear_pointer (app_name, g_free);
      return FALSE;
    }
  return TRUE;
}

JsonNode *
mr_key_get_default (const MrKeyInfo *key)
{
  return json_from_string (key->default_json, NULL);
}

static gboolean
invalid (GError **error, const char *format, ...) G_GNUC_PRINTF (2, 3);

static gboolean
invalid (GError     **error,
         const char  *format,
         ...)
{
  va_list args;
  char *message;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_INVALID_VALUE, message);
  g_free (message);
  return FALSE;
}

gboolean
mr_validate_single_line (const char  *text,
                         GError     **error)
{
  if (!g_utf8_validate (text, -1, NULL))
    return invalid (error, _("The text is not valid UTF-8"));

  for (const char *p = text; *p; p++)
    {
      if (*p == '\r' || *p == '\n')
        return invalid (error, _("Line breaks are not allowed here"));
      if ((guchar) *p < 0x20 || *p == 0x7f)
        return invalid (error, _("Control characters are not allowed here"));
    }
  return TRUE;
}

static gboolean
label_is_valid (const char *label,
                gsize       len)
{
  if (len == 0 || len > 63 || label[0] == '-' || label[len - 1] == '-')
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isalnum (label[i]) && label[i] != '-' && label[i] != '_')
      return FALSE;
  return TRUE;
}

/* A DNS name in its ASCII (punycode) form, or a non-ASCII name that IDNA can encode. */
static gboolean
dns_name_is_valid (const char *name)
{
  g_autofree char *ascii = NULL;
  g_auto(GStrv) labels = NULL;
  gsize len;

  if (g_hostname_is_non_ascii (name))
    {
      ascii = g_hostname_to_ascii (name);
      if (ascii == NULL)
        return FALSE;
    }
  else
    ascii = g_strdup (name);

  len = strlen (ascii);
  if (len > 0 && ascii[len - 1] == '.')   /* the root dot of a fully qualified name */
    ascii[--len] = '\0';
  if (len == 0 || len > 253)
    return FALSE;

  labels = g_strsplit (ascii, ".", -1);
  for (guint i = 0; labels[i] != NULL; i++)
    if (!label_is_valid (labels[i], strlen (labels[i])))
      return FALSE;
  return TRUE;
}

gboolean
mr_validate_host (const char  *text,
                  GError     **error)
{
  if (text == NULL || *text == '\0')
    return invalid (error, _("Enter the server’s address, for example smtp.example.com"));
  if (!mr_validate_single_line (text, error))
    return FALSE;
  if (strpbrk (text, " \t") != NULL)
    return invalid (error, _("A server address cannot contain spaces"));
  if (g_hostname_is_ip_address (text))
    return TRUE;
  if (!dns_name_is_valid (text))
    return invalid (error, _("“%s” is not a valid server name"), text);
  return TRUE;
}

gboolean
mr_validate_domain (const char  *text,
                    GError     **error)
{
  if (text == NULL || *text == '\0')
    return invalid (error, _("Enter a domain, for example example.com"));
  if (!mr_validate_single_line (text, error))
    return FALSE;
  if (strpbrk (text, " \t") != NULL)
    return invalid (error, _("A domain cannot contain spaces"));
  if (strchr (text, '@') != NULL)
    return invalid (error, _("Enter only the domain (the part after the “@”)"));
  if (!dns_name_is_valid (text) || strchr (text, '.') == NULL)
    return invalid (error, _("“%s” is not a valid domain"), text);
  return TRUE;
}

static gboolean
is_atext (gunichar c)
{
  /* RFC 5322 atext, plus any non-ASCII character (RFC 6532). */
  return c >= 0x80 || g_ascii_isalnum (c) || strchr ("!#$%&'*+-/=?^_`{|}~", (int) c) != NULL;
}

const char *
mr_address_get_domain (const char *address)
{
  const char *at;

  if (address == NULL)
    return NULL;
  at = strrchr (address, '@');
  return at ? at + 1 : NULL;
}

gboolean
mr_validate_address (const char  *text,
                     GError     **error)
{
  const char *at = NULL;
  gboolean in_quotes = FALSE;
  gboolean has_space = FALSE;
  guint n_at = 0;
  const char *p;

  if (text == NULL || *text == '\0')
    return invalid (error, _("Enter an address, for example name@example.com"));
  if (!mr_validate_single_line (text, error))
    return FALSE;
  if (strlen (text) > 254)
    return invalid (error, _("The address is longer than 254 characters"));

  for (p = text; *p; p++)
    {
      if (*p == '"')
        in_quotes = !in_quotes;
      else if (*p == '\\' && in_quotes && p[1] != '\0')
        p++;
      else if (!in_quotes && (*p == '<' || *p == '>'))
        return invalid (error, _("Enter the address alone, without a name or angle brackets, for example name@example.com"));
      else if (!in_quotes && (*p == ' ' || *p == '\t'))
        has_space = TRUE;
      else if (!in_quotes && *p == '@')
        {
          n_at++;
          at = p;
        }
    }

  if (in_quotes)
    return invalid (error, _("The address has an unmatched quotation mark"));
  if (has_space)
    return invalid (error, _("An address cannot contain spaces"));
  if (n_at == 0)
    return invalid (error, _("“%s” has no “@”: an address looks like name@example.com"), text);
  if (n_at > 1)
    return invalid (error, _("“%s” has more than one “@”"), text);
  if (at == text)
    return invalid (error, _("The part before the “@” is empty"));
  if (at[1] == '\0')
    return invalid (error, _("The domain after the “@” is empty"));

  /* Local part: dot-atom or a quoted string. */
  if (text[0] != '"')
    {
      gboolean previous_dot = TRUE;

      for (p = text; p < at; p = g_utf8_next_char (p))
        {
          gunichar c = g_utf8_get_char (p);

          if (c == '.')
            {
              if (previous_dot)
                return invalid (error, _("The part before the “@” has a misplaced dot"));
              previous_dot = TRUE;
            }
          else if (!is_atext (c))
            {
              char character[8] = { 0 };

              g_unichar_to_utf8 (c, character);
              return invalid (error, _("The part before the “@” contains “%s”, which is not allowed"), character);
            }
          else
            previous_dot = FALSE;
        }
      if (previous_dot)
        return invalid (error, _("The part before the “@” has a misplaced dot"));
    }
  else if (at[-1] != '"')
    return invalid (error, _("The quoted part before the “@” must end with a quotation mark"));

  /* Domain: a DNS name or an address literal. */
  if (at[1] == '[')
    {
      g_autofree char *literal = NULL;
      gsize len = strlen (at + 1);
      const char *inner;

      if (at[len] != ']')
        return invalid (error, _("The address literal after the “@” is not closed"));
      literal = g_strndup (at + 2, len - 2);
      inner = g_str_has_prefix (literal, "IPv6:") ? literal + 5 : literal;
      if (!g_hostname_is_ip_address (inner))
        return invalid (error, _("“%s” is not an IP address"), literal);
      return TRUE;
    }

  if (!dns_name_is_valid (at + 1))
    return invalid (error, _("“%s” is not a valid domain"), at + 1);
  return TRUE;
}

gboolean
mr_parse_port (const char  *text,
               guint16     *port,
               GError     **error)
{
  guint64 value;

  if (text == NULL || *text == '\0')
    return invalid (error, _("Enter a port number from 1 to 65535"));
  if (!g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT64, &value, NULL))
    return invalid (error, _("“%s” is not a number: enter a port from 1 to 65535"), text);
  if (value < 1 || value > 65535)
    return invalid (error, _("Port %s is out of range: enter a number from 1 to 65535"), text);
  *port = (guint16) value;
  return TRUE;
}

static char *
normalize_fingerprint (const char  *text,
                       GError     **error)
{
  GString *hex = g_string_new (NULL);
  GString *out;

  for (const char *p = text; *p; p++)
    {
      if (g_ascii_isxdigit (*p))
        g_string_append_c (hex, g_ascii_toupper (*p));
      else if (*p != ':' && *p != ' ')
        {
          g_string_free (hex, TRUE);
          invalid (error, _("A fingerprint has only hexadecimal digits (0–9, A–F), optionally separated by colons"));
          return NULL;
        }
    }
  if (hex->len != 64)
    {
      invalid (error, _("A SHA-256 fingerprint has 64 hexadecimal digits; this one has %u"), (guint) hex->len);
      g_string_free (hex, TRUE);
      return NULL;
    }

  out = g_string_new (NULL);
  for (gsize i = 0; i < hex->len; i += 2)
    {
      if (i > 0)
        g_string_append_c (out, ':');
      g_string_append_len (out, hex->str + i, 2);
    }
  g_string_free (hex, TRUE);
  return g_string_free (out, FALSE);
}

static gboolean
is_https_url (const char *text)
{
  g_autoptr(GUri) uri = g_uri_parse (text, G_URI_FLAGS_NONE, NULL);

  return uri != NULL && g_strcmp0 (g_uri_get_scheme (uri), "https") == 0 && g_uri_get_host (uri) != NULL &&
         *g_uri_get_host (uri) != '\0';
}

static gboolean
check_string (const MrKeyInfo  *key,
              const char       *text,
              char            **normalized,
              GError          **error)
{
  *normalized = NULL;

  if (!mr_validate_single_line (text, error))
    return FALSE;

  switch (key->check)
    {
    case MR_CHECK_HOST:
      /* Required: to clear it, unset the key. */
      if (!mr_validate_host (text, error))
        return FALSE;
      *normalized = g_ascii_strdown (text, -1);
      return TRUE;

    case MR_CHECK_ADDRESS:
      return *text == '\0' || mr_validate_address (text, error);

    case MR_CHECK_ABSOLUTE_PATH:
      if (*text != '\0' && !g_path_is_absolute (text))
        return invalid (error, _("“%s” is not an absolute path (it must start with “/”)"), text);
      return TRUE;

    case MR_CHECK_FINGERPRINT:
      if (*text == '\0')
        return TRUE;
      *normalized = normalize_fingerprint (text, error);
      return *normalized != NULL;

    case MR_CHECK_HTTPS_SERVICE:
    case MR_CHECK_HTTPS_URL:
      if (*text == '\0' || is_https_url (text))
        return TRUE;
      return invalid (error, key->check == MR_CHECK_HTTPS_SERVICE
                               ? _("Enter an address that starts with https://: passwords and tokens go only over "
                                   "an encrypted connection")
                               : _("Enter an address that starts with https://, for example "
                                   "https://example.com/unsubscribe?token={token}"));

    case MR_CHECK_TEXT:
    case MR_CHECK_DOMAINS:
    case MR_CHECK_DOMAIN_ENTRIES:
    case MR_CHECK_SELECTORS:
    case MR_CHECK_KEYS:
    default:
      if (strlen (text) > 1000)
        return invalid (error, _("The text is longer than 1000 characters"));
      return TRUE;
    }
}

static JsonNode *
normalize_list (const MrKeyInfo  *key,
                JsonArray        *array,
                GError          **error)
{
  g_autoptr(JsonArray) out = json_array_new ();
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  JsonNode *node;

  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);
      g_autofree char *item = NULL;

      if (!JSON_NODE_HOLDS_VALUE (element) || json_node_get_value_type (element) != G_TYPE_STRING)
        {
          invalid (error, _("Every item of the list must be a string"));
          return NULL;
        }
      item = g_strdup (json_node_get_string (element));

      if (key->check == MR_CHECK_DOMAINS)
        {
          g_autofree char *lower = NULL;

          if (!mr_validate_domain (item, error))
            return NULL;
          lower = g_utf8_strdown (item, -1);
          g_free (item);
          item = g_steal_pointer (&lower);
        }
      else if (key->check == MR_CHECK_DOMAIN_ENTRIES)
        {
          /* "DOMAIN WORD": a token (letters, digits) or a date. */
          const char *space = strchr (item, ' ');
          g_autofree char *domain = space ? g_strndup (item, space - item) : NULL;
          g_autofree char *lower = NULL;

          if (domain == NULL || !mr_validate_domain (domain, error))
            {
              if (domain == NULL)
                invalid (error, _("“%s” is not a domain followed by a token or a date"), item);
              return NULL;
            }
          for (const char *c = space + 1; *c != '\0'; c++)
            if (!g_ascii_isalnum (*c) && *c != '-')
              {
                invalid (error, _("“%s” is not a domain followed by a token or a date"), item);
                return NULL;
              }
          if (space[1] == '\0' || strlen (space + 1) > 64)
            {
              invalid (error, _("“%s” is not a domain followed by a token or a date"), item);
              return NULL;
            }
          {
            g_autofree char *down = g_ascii_strdown (domain, -1);

            lower = g_strdup_printf ("%s %s", down, space + 1);
          }
          g_free (item);
          item = g_steal_pointer (&lower);
        }
      else if (key->check == MR_CHECK_SELECTORS)
        {
          /* The selector alone: "s1" of "s1._domainkey.example.com", as a provider's page gives it. */
          char *cut = strstr (item, "._domainkey");
          g_auto(GStrv) labels = NULL;

          if (cut != NULL)
            *cut = '\0';
          g_strstrip (item);
          labels = g_strsplit (item, ".", -1);
          for (guint l = 0; *item == '\0' || labels[l] != NULL; l++)
            {
              gboolean ok = *item != '\0' && *labels[l] != '\0' && strlen (labels[l]) <= 63 && labels[l][0] != '-';

              for (const char *c = ok ? labels[l] : ""; *c != '\0'; c++)
                ok = ok && (g_ascii_isalnum (*c) || *c == '-' || *c == '_');
              if (!ok)
                {
                  invalid (error, _("“%s” is not a DKIM selector: that is the name before “._domainkey”, in letters, "
                                    "digits and hyphens"), json_node_get_string (element));
                  return NULL;
                }
            }
        }
      else if (key->check == MR_CHECK_KEYS)
        {
          const MrKeyInfo *locked = mr_key_lookup (item);

          if (locked == NULL)
            {
              invalid (error, _("“%s” is not a settings key"), item);
              return NULL;
            }
          if (!locked->lockable)
            {
              invalid (error, _("“%s” cannot be locked: users cannot change it anyway"), item);
              return NULL;
            }
        }

      if (g_hash_table_contains (seen, item))
        continue;
      json_array_add_string_element (out, item);
      g_hash_table_add (seen, g_steal_pointer (&item));
    }

  node = json_node_new (JSON_NODE_ARRAY);
  json_node_set_array (node, out);
  return node;
}

/* Checks a value given as JSON and returns it in canonical form (lower-case host and domains,
 * fingerprint as colon-separated upper-case pairs, lists without duplicates). */
JsonNode *
mr_key_normalize (const MrKeyInfo  *key,
                  JsonNode         *value,
                  GError          **error)
{
  g_autofree char *normalized = NULL;

  switch (key->type)
    {
    case MR_KEY_TYPE_STRING:
      if (!JSON_NODE_HOLDS_VALUE (value) || json_node_get_value_type (value) != G_TYPE_STRING)
        {
          invalid (error, _("The value must be text"));
          return NULL;
        }
      if (!check_string (key, json_node_get_string (value), &normalized, error))
        return NULL;
      return normalized ? json_node_init_string (json_node_alloc (), normalized) : json_node_copy (value);

    case MR_KEY_TYPE_INT:
      {
        gint64 number;

        if (!JSON_NODE_HOLDS_VALUE (value) || json_node_get_value_type (value) != G_TYPE_INT64)
          {
            invalid (error, _("The value must be a whole number"));
            return NULL;
          }
        number = json_node_get_int (value);
        if (number < key->min || number > key->max)
          {
            g_autofree char *text = g_strdup_printf ("%" G_GINT64_FORMAT, number);

            invalid (error, _("%s is out of range: enter a number from %d to %d"), text, key->min, key->max);
            return NULL;
          }
        return json_node_copy (value);
      }

    case MR_KEY_TYPE_BOOLEAN:
      if (!JSON_NODE_HOLDS_VALUE (value) || json_node_get_value_type (value) != G_TYPE_BOOLEAN)
        {
          invalid (error, _("The value must be true or false"));
          return NULL;
        }
      return json_node_copy (value);

    case MR_KEY_TYPE_CHOICE:
      if (!JSON_NODE_HOLDS_VALUE (value) || json_node_get_value_type (value) != G_TYPE_STRING ||
          !g_strv_contains ((const char * const *) key->choices, json_node_get_string (value)))
        {
          g_autofree char *choices = g_strjoinv (", ", (char **) key->choices);
          invalid (error, _("The value must be one of: %s"), choices);
          return NULL;
        }
      return json_node_copy (value);

    case MR_KEY_TYPE_STRING_LIST:
      if (!JSON_NODE_HOLDS_ARRAY (value))
        {
          invalid (error, _("The value must be a list, written as a JSON array such as [\"example.com\"]"));
          return NULL;
        }
      return normalize_list (key, json_node_get_array (value), error);

    default:
      g_assert_not_reached ();
    }
}

/* Parses a value as typed on the command line or in an entry: plain text for strings and choices,
 * decimal for numbers, true/false, and JSON arrays for lists. */
JsonNode *
mr_key_parse (const MrKeyInfo  *key,
              const char       *text,
              GError          **error)
{
  g_autoptr(JsonNode) node = NULL;

  switch (key->type)
    {
    case MR_KEY_TYPE_STRING:
    case MR_KEY_TYPE_CHOICE:
      node = json_node_init_string (json_node_alloc (), text);
      break;

    case MR_KEY_TYPE_INT:
      {
        guint64 number;

        if (key->min == 1 && key->max == 65535)
          {
            guint16 port;

            if (!mr_parse_port (text, &port, error))
              return NULL;
          }
        if (!g_ascii_string_to_unsigned (text, 10, 0, G_MAXINT32, &number, NULL))
          {
            invalid (error, _("“%s” is not a whole number"), text);
            return NULL;
          }
        node = json_node_init_int (json_node_alloc (), (gint64) number);
        break;
      }

    case MR_KEY_TYPE_BOOLEAN:
      if (g_strcmp0 (text, "true") == 0)
        node = json_node_init_boolean (json_node_alloc (), TRUE);
      else if (g_strcmp0 (text, "false") == 0)
        node = json_node_init_boolean (json_node_alloc (), FALSE);
      else
        {
          invalid (error, _("“%s” is not true or false"), text);
          return NULL;
        }
      break;

    case MR_KEY_TYPE_STRING_LIST:
      {
        g_autoptr(GError) local_error = NULL;

        node = json_from_string (text, &local_error);
        if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
          {
            invalid (error, _("“%s” is not a list: write it as a JSON array, such as [\"example.com\"]"), text);
            return NULL;
          }
        break;
      }

    default:
      g_assert_not_reached ();
    }

  return mr_key_normalize (key, node, error);
}

/* A value as plain text: strings as they are, lists as JSON. */
char *
mr_key_format (const MrKeyInfo *key,
               JsonNode        *value)
{
  switch (key->type)
    {
    case MR_KEY_TYPE_STRING:
    case MR_KEY_TYPE_CHOICE:
      return g_strdup (json_node_get_string (value));
    case MR_KEY_TYPE_INT:
      return g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (value));
    case MR_KEY_TYPE_BOOLEAN:
      return g_strdup (json_node_get_boolean (value) ? "true" : "false");
    case MR_KEY_TYPE_STRING_LIST:
    default:
      return json_to_string (value, FALSE);
    }
}
