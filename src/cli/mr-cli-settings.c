/* mr-cli-settings.c: the company and user settings: show, get, set, unset, password, signature, settings effective, setup */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "mailroom-common.h"
#include "mailroom-dns.h"
#include "mailroom-log.h"
#include "mailroom-mailshot.h"
#include "mailroom-message.h"
#include "mailroom-settings.h"
#include "mailroom-transport.h"
#include "mr-cli.h"

/* ---- show / get / set / unset ----------------------------------------------------------------- */

int
cmd_show (Invocation *inv,
          MrScope     scope)
{
  MrSettingsFile *file = mr_settings_get_layer (inv->settings, scope);
  g_autoptr(JsonNode) values = mr_settings_file_to_json (file);

  if (inv->json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;
      g_auto(GStrv) apps = mr_settings_file_list_apps (file);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "path");
      json_builder_add_string_value (builder, mr_settings_file_get_path (file));
      json_builder_set_member_name (builder, "writable");
      json_builder_add_boolean_value (builder, mr_settings_file_can_write (file));
      json_builder_set_member_name (builder, "settings");
      json_builder_add_value (builder, json_node_copy (values));
      if (scope == MR_SCOPE_COMPANY)
        {
          json_builder_set_member_name (builder, "apps");
          json_builder_begin_array (builder);
          for (guint i = 0; apps[i] != NULL; i++)
            json_builder_add_string_value (builder, apps[i]);
          json_builder_end_array (builder);
        }
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      mr_cli_print_json (root);
    }
  else
    {
      g_auto(GStrv) keys = mr_settings_file_list_keys (file);

      for (guint i = 0; keys[i] != NULL; i++)
        {
          const MrKeyInfo *info = mr_settings_file_resolve_key (file, keys[i], NULL);
          g_autofree char *text = mr_key_format (info, mr_settings_file_get (file, keys[i]));

          g_print ("%s = %s\n", keys[i], text);
        }
    }
  return MR_EXIT_OK;
}

int
cmd_get (Invocation *inv,
         MrScope     scope)
{
  MrSettingsFile *file = mr_settings_get_layer (inv->settings, scope);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) fallback = NULL;
  const MrKeyInfo *info;
  const char *key;
  JsonNode *value;
  g_autofree char *text = NULL;

  if (inv->args->len != 1)
    return mr_cli_usage_error (inv, _("“get” takes one key"));
  key = g_ptr_array_index (inv->args, 0);

  info = mr_settings_file_resolve_key (file, key, &error);
  if (info == NULL)
    return mr_cli_fail (inv, error);

  value = mr_settings_file_get (file, key);
  if (value == NULL)
    value = fallback = mr_key_get_default (info);

  if (inv->json)
    mr_cli_print_json (value);
  else
    {
      text = mr_key_format (info, value);
      g_print ("%s\n", text);
    }
  return MR_EXIT_OK;
}

int
cmd_set (Invocation *inv,
         MrScope     scope)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) warnings = NULL;

  if (inv->args->len != 2)
    return mr_cli_usage_error (inv, _("“set” takes a key and a value"));

  if (!mr_settings_set_and_commit (inv->settings, scope, g_ptr_array_index (inv->args, 0),
                                   g_ptr_array_index (inv->args, 1), &warnings, &error))
    return mr_cli_fail (inv, error);
  mr_cli_print_warnings (warnings);
  return MR_EXIT_OK;
}

int
cmd_unset (Invocation *inv,
           MrScope     scope)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) warnings = NULL;

  if (inv->args->len != 1)
    return mr_cli_usage_error (inv, _("“unset” takes one key"));

  if (!mr_settings_unset_and_commit (inv->settings, scope, g_ptr_array_index (inv->args, 0), &warnings, &error))
    return mr_cli_fail (inv, error);
  mr_cli_print_warnings (warnings);
  return MR_EXIT_OK;
}

/* ---- password --------------------------------------------------------------------------------- */

int
cmd_password (Invocation *inv,
              MrScope     scope)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MrSecretAccount) account = NULL;

  if (inv->args->len != 0)
    return mr_cli_usage_error (inv, _("“password” takes no value: it reads the password from the terminal or, with --stdin, from standard input"));
  if (scope == MR_SCOPE_USER && inv->app != NULL)
    return mr_cli_usage_error (inv, _("--app belongs to “company password”"));

  account = mr_settings_get_account (inv->settings, scope, inv->app, &error);
  if (account == NULL)
    return mr_cli_fail (inv, error);
  return mr_cli_store_password (inv, account, FALSE);
}

/* ---- signature ------------------------------------------------------------------------------- */

/* Standard input whole, at most @limit bytes; NULL with the reason past it. */
static char *
read_all_stdin (gsize    limit,
                GError **error)
{
  GString *text = g_string_new (NULL);
  char block[8192];
  size_t got;

  while ((got = fread (block, 1, sizeof block, stdin)) > 0)
    {
      g_string_append_len (text, block, (gssize) got);
      if (text->len > limit)
        {
          g_autofree char *size = g_format_size (limit);

          g_string_free (text, TRUE);
          g_set_error (error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_INVALID_VALUE,
                       _("Standard input holds more than %s: nothing was stored"), size);
          return NULL;
        }
    }
  return g_string_free (text, FALSE);
}

/* `company signature` and `user signature`: show it; set it from standard input (HTML, or text
 * whose lines are kept) with --stdin; remove it with --clear. */
int
cmd_signature (Invocation *inv,
               MrScope     scope)
{
  MrSignatureScope which = scope == MR_SCOPE_COMPANY ? MR_SIGNATURE_COMPANY : MR_SIGNATURE_PERSONAL;
  g_autoptr(GError) error = NULL;
  g_autofree char *html = NULL;

  if (inv->args->len != 0)
    return mr_cli_usage_error (inv, _("“signature” takes no value: give the new one on standard input with --stdin"));
  if (inv->use_stdin || inv->clear)
    {
      g_autofree char *input = inv->clear ? g_strdup ("") : read_all_stdin (16 * 1024 * 1024, &error);
      g_autofree char *given = NULL;

      if (input == NULL)
        return mr_cli_fail (inv, error);
      given = mr_signature_from_text (input);
      if (!mr_signature_save (which, given, &error))
        return mr_cli_fail (inv, error);
    }
  html = mr_signature_load (which, &error);
  if (error != NULL)
    return mr_cli_fail (inv, error);
  if (inv->json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autofree char *path = mr_signature_get_path (which);
      g_autofree char *text = html ? mr_html_to_text (html) : NULL;
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "html");
      json_builder_add_string_value (builder, html);
      json_builder_set_member_name (builder, "text");
      json_builder_add_string_value (builder, text);
      json_builder_set_member_name (builder, "path");
      json_builder_add_string_value (builder, path);
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      mr_cli_print_json (root);
    }
  else if (inv->use_stdin || inv->clear)
    g_printerr (html ? _("Stored the signature.\n") : _("There is no signature now.\n"));
  else if (html != NULL)
    g_print ("%s\n", html);
  else
    g_printerr (scope == MR_SCOPE_COMPANY ? _("The company has no signature.\n") : _("You have no signature.\n"));
  return MR_EXIT_OK;
}

/* ---- settings effective ----------------------------------------------------------------------- */

static const char *
password_state (MrSettings *settings,
                const char *app)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *credentials = mr_settings_dup_effective_string (settings, app, "smtp.credentials");
  g_autofree char *auth = mr_settings_dup_effective_string (settings, app, "smtp.auth");
  MrScope scope = g_strcmp0 (credentials, "per-user") == 0 ? MR_SCOPE_USER : MR_SCOPE_COMPANY;
  g_autoptr(MrSecretAccount) account = NULL;
  g_autoptr(MrSecret) password = NULL;

  if (g_strcmp0 (auth, "password") != 0 && g_strcmp0 (auth, "ntlm") != 0)
    return "not-needed";
  account = mr_settings_get_account (settings, scope, app, NULL);
  if (account == NULL)
    return "no-account";
  password = mr_secrets_lookup_sync (account, NULL, &error);
  if (error != NULL)
    return mr_error_get_kind (error);
  return password != NULL ? "stored" : "missing";
}

int
cmd_effective (Invocation *inv)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  const MrKeyInfo *keys;
  guint n_keys;

  if (inv->args->len != 0)
    return mr_cli_usage_error (inv, _("“settings effective” takes no arguments"));
  if (inv->app != NULL && !mr_settings_file_has_app (mr_settings_get_company (inv->settings), inv->app))
    {
      g_autoptr(GError) error = g_error_new (MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_UNKNOWN_KEY,
                                             _("There is no application profile “%s”"), inv->app);
      return mr_cli_fail (inv, error);
    }

  keys = mr_key_get_all (&n_keys);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "app");
  if (inv->app)
    json_builder_add_string_value (builder, inv->app);
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "settings");
  json_builder_begin_object (builder);
  for (guint i = 0; i < n_keys; i++)
    {
      MrOrigin origin;
      JsonNode *value = mr_settings_get_effective (inv->settings, inv->app, keys[i].name, &origin);
      g_autofree char *lock = mr_settings_get_lock_reason (inv->settings, inv->app, keys[i].name);

      if (!inv->json)
        {
          g_autofree char *text = mr_key_format (&keys[i], value);

          g_print ("%s = %s  (%s%s%s)\n", keys[i].name, text, mr_origin_to_string (origin),
                   lock ? ", locked: " : "", lock ? lock : "");
          continue;
        }
      json_builder_set_member_name (builder, keys[i].name);
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "value");
      json_builder_add_value (builder, json_node_copy (value));
      json_builder_set_member_name (builder, "origin");
      json_builder_add_string_value (builder, mr_origin_to_string (origin));
      if (lock != NULL)
        {
          json_builder_set_member_name (builder, "locked");
          json_builder_add_string_value (builder, lock);
        }
      json_builder_end_object (builder);
    }
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "password");
  json_builder_add_string_value (builder, password_state (inv->settings, inv->app));
  json_builder_end_object (builder);

  if (inv->json)
    {
      root = json_builder_get_root (builder);
      mr_cli_print_json (root);
    }
  else
    g_print ("password: %s\n", password_state (inv->settings, inv->app));
  return MR_EXIT_OK;
}


/* ---- setup ------------------------------------------------------------------------------------ */

/* Finds the outgoing server from an address (mr-discover.h) and says what was found and from where;
 * with --save it writes it: the company's settings when this user may, otherwise their own. */
int
cmd_setup (Invocation *inv,
           const char *address)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MrDiscovery) discovery = mr_discover_sync (address, NULL, NULL, &error);
  const char *saved = NULL;

  if (discovery == NULL)
    return mr_cli_fail (inv, error);
  if (inv->save)
    {
      MrScope scope = mr_settings_can_edit_company (inv->settings) ? MR_SCOPE_COMPANY : MR_SCOPE_USER;

      if (!mr_discovery_apply (discovery, inv->settings, scope, address, &error))
        return mr_cli_fail (inv, error);
      saved = scope == MR_SCOPE_COMPANY ? "company" : "user";
    }

  if (inv->json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (builder);
      mr_cli_add_string (builder, "address", address);
      mr_cli_add_string (builder, "source", mr_discover_source_to_string (discovery->source));
      mr_cli_add_string (builder, "found_by", discovery->found_by);
      mr_cli_add_string (builder, "provider", discovery->provider);
      mr_cli_add_string (builder, "provider_name", discovery->provider_name);
      mr_cli_add_string (builder, "host", discovery->host);
      json_builder_set_member_name (builder, "port");
      json_builder_add_int_value (builder, discovery->port);
      mr_cli_add_string (builder, "security", discovery->security);
      mr_cli_add_string (builder, "auth", discovery->auth);
      mr_cli_add_string (builder, "username", discovery->username);
      mr_cli_add_string (builder, "help_url", discovery->help_url);
      mr_cli_add_string_array (builder, "steps", discovery->steps);
      mr_cli_add_string (builder, "saved", saved);
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      mr_cli_print_json (root);
      return MR_EXIT_OK;
    }

  g_print ("%s\n", discovery->found_by);
  if (discovery->host != NULL)
    g_print (_("Server: %s, port %u, %s\n"), discovery->host, discovery->port,
             g_strcmp0 (discovery->security, "tls") == 0 ? _("encrypted (TLS)")
             : g_strcmp0 (discovery->security, "starttls") == 0 ? _("encrypted (STARTTLS)") : _("not encrypted"));
  if (discovery->username != NULL)
    g_print (_("Login: %s\n"), discovery->username);
  if (discovery->help_url != NULL && discovery->source == MR_DISCOVER_NONE)
    g_print (_("Your provider’s settings: %s\n"), discovery->help_url);
  if (inv->verbose)
    for (guint i = 0; i < discovery->steps->len; i++)
      g_printerr ("* %s\n", (const char *) g_ptr_array_index (discovery->steps, i));
  if (saved != NULL)
    g_print (g_str_equal (saved, "company") ? _("Saved in the company settings. Next: mailroom-cli company password, "
                                                "then mailroom-cli check.\n")
                                            : _("Saved in your own settings. Next: mailroom-cli user password, "
                                                "then mailroom-cli check.\n"));
  else
    g_print (_("Nothing was saved: run it again with --save to keep it.\n"));
  return MR_EXIT_OK;
}
