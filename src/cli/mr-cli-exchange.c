/* mr-cli-exchange.c: Exchange and the sign-ins: exchange check|discover|password|login|logout, user login */

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

/* ---- exchange --------------------------------------------------------------------------------- */

static int
cmd_exchange_check (Invocation *inv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MrTransport) transport = NULL;
  gboolean ok = mr_cli_check_route (inv, "exchange", &transport, &error);

  if (!ok)
    return mr_cli_fail (inv, error);
  if (inv->json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (builder);
      mr_cli_add_string (builder, "transport", mr_transport_get_name (transport));
      mr_cli_add_string (builder, "route", mr_transport_get_label (transport));
      mr_cli_add_string (builder, "reply", mr_transport_get_reply (transport));
      mr_cli_add_string (builder, "warning", mr_transport_get_warning (transport));
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      mr_cli_print_json (root);
    }
  else
    {
      g_print (_("Exchange: %s\n"), mr_transport_get_label (transport));
      g_print (_("Login: accepted (%s)\n"), mr_transport_get_reply (transport));
    }
  return MR_EXIT_OK;
}

static gboolean
ask_yes (const char *question)
{
  FILE *tty = fopen ("/dev/tty", "r+");
  char line[16] = "";

  if (tty == NULL)
    return FALSE;
  fputs (question, tty);
  fflush (tty);
  if (fgets (line, sizeof line, tty) == NULL)
    line[0] = '\0';
  fclose (tty);
  return line[0] == 'y' || line[0] == 'Y';
}

static int
cmd_exchange_discover (Invocation *inv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MrExchange) exchange = NULL;
  g_autofree char *url = NULL;
  g_autofree char *unconfirmed = NULL;
  const char *address;

  if (inv->args->len != 1)
    return mr_cli_usage_error (inv, _("“exchange discover” needs the e-mail address to look up"));
  address = g_ptr_array_index (inv->args, 0);
  exchange = mr_exchange_new_for_setup (inv->settings, inv->app, &error);
  if (exchange == NULL)
    return mr_cli_fail (inv, error);
  url = mr_exchange_discover_sync (exchange, address, inv->allow_host, &unconfirmed, NULL, &error);
  if (url == NULL && unconfirmed != NULL && !inv->json)
    {
      g_autofree char *question = g_strdup_printf (_("%s\nSend your login to %s? [y/N] "), error->message, unconfirmed);

      if (ask_yes (question))
        {
          g_clear_error (&error);
          url = mr_exchange_discover_sync (exchange, address, unconfirmed, NULL, NULL, &error);
        }
    }
  if (inv->verbose)
    {
      g_autofree char *transcript = mr_exchange_dup_transcript (exchange);

      g_printerr ("%s", transcript);
    }
  if (url == NULL)
    return mr_cli_fail (inv, error);
  if (inv->json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (builder);
      mr_cli_add_string (builder, "address", address);
      mr_cli_add_string (builder, "ews_url", url);
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      mr_cli_print_json (root);
    }
  else
    {
      g_print ("%s\n", url);
      g_printerr (_("To use it: mailroom-cli company set exchange.ews_url %s\n"), url);
    }
  return MR_EXIT_OK;
}

static int
cmd_exchange_password (Invocation *inv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MrExchange) exchange = mr_exchange_new_for_setup (inv->settings, inv->app, &error);
  const MrSecretAccount *account;

  if (exchange == NULL)
    return mr_cli_fail (inv, error);
  account = mr_exchange_get_account (exchange);
  if (account == NULL)
    {
      g_set_error_literal (&error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_INVALID_VALUE,
                           _("Exchange logs in without a password here (exchange.auth is oauth2 or negotiate, or the "
                             "transport is Microsoft Graph): use “mailroom-cli exchange login”"));
      return mr_cli_fail (inv, error);
    }
  return mr_cli_store_password (inv, account, TRUE);
}

/* A sign-in in the browser, or with a device code, whose refresh token goes to the keyring. */
static int
sign_in_and_store (Invocation          *inv,
                   SoupSession         *session,
                   const MrOAuthConfig *config,
                   const char          *scope,
                   const char          *transport)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MrOAuthDeviceCode) code = NULL;
  g_autoptr(MrOAuthTokens) tokens = NULL;

  if (inv->device_code)
    {
      code = mr_oauth_device_start_sync (session, config, scope, NULL, &error);
      if (code == NULL)
        return mr_cli_fail (inv, error);
      /* The code goes to stderr, so that --json output stays one document. */
      g_printerr (_("To sign in, open %s in a browser and enter the code %s\n"), code->verification_uri,
                  code->user_code);
      tokens = mr_oauth_device_poll_sync (session, config, code, NULL, &error);
    }
  else
    {
      g_printerr (_("Opening the sign-in page in your browser… (on a machine without one, use --device-code)\n"));
      tokens = mr_oauth_browser_sign_in_sync (session, config, scope, NULL, NULL, NULL, &error);
    }
  if (tokens == NULL)
    return mr_cli_fail (inv, error);
  if (tokens->refresh_token == NULL)
    {
      g_set_error_literal (&error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_PROTOCOL,
                           _("The sign-in gave no refresh token: the app registration must allow offline_access"));
      return mr_cli_fail (inv, error);
    }
  if (!mr_oauth_store_refresh_token_sync (config, tokens->refresh_token, NULL, &error))
    return mr_cli_fail (inv, error);
  if (inv->json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (builder);
      mr_cli_add_string (builder, "account", config->account);
      mr_cli_add_string (builder, "transport", transport);
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      mr_cli_print_json (root);
    }
  else
    g_printerr (_("Signed in as %s. The sign-in is kept in the keyring.\n"), config->account);
  return MR_EXIT_OK;
}

static int
cmd_exchange_login (Invocation *inv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MrExchange) exchange = mr_exchange_new_for_setup (inv->settings, inv->app, &error);
  const char *transport;

  if (exchange == NULL)
    return mr_cli_fail (inv, error);
  transport = mr_exchange_get_transport (exchange);
  return sign_in_and_store (inv, mr_exchange_get_session (exchange), mr_exchange_get_oauth_config (exchange),
                            g_strcmp0 (transport, "graph") == 0 ? MR_OAUTH_SCOPE_GRAPH_SEND : MR_OAUTH_SCOPE_EWS,
                            transport);
}

/* `user login`: the sign-in SMTP's OAuth2 uses (Microsoft for Office 365, Google for Gmail). */
int
cmd_user_login (Invocation *inv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MrDelivery) delivery = mr_delivery_new (inv->settings, inv->app, &error);
  g_autoptr(SoupSession) session = NULL;
  const MrOAuthConfig *config;

  if (delivery == NULL)
    return mr_cli_fail (inv, error);
  config = mr_delivery_get_oauth_config (delivery);
  if (config == NULL)
    {
      g_set_error_literal (&error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_INVALID_VALUE,
                           _("smtp.auth: SMTP logs in with a password here, not with a sign-in (oauth2)"));
      return mr_cli_fail (inv, error);
    }
  session = mr_delivery_new_oauth_session (delivery);
  return sign_in_and_store (inv, session, config, g_strcmp0 (config->provider, "google") == 0
                                                    ? MR_OAUTH_SCOPE_GOOGLE_MAIL : MR_OAUTH_SCOPE_SMTP_SEND, "smtp");
}

static int
cmd_exchange_logout (Invocation *inv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MrExchange) exchange = mr_exchange_new_for_setup (inv->settings, inv->app, &error);
  g_autoptr(MrSecretAccount) account = NULL;

  if (exchange == NULL)
    return mr_cli_fail (inv, error);
  account = mr_oauth_config_get_account (mr_exchange_get_oauth_config (exchange));
  if (!mr_secrets_clear_sync (account, NULL, &error))
    return mr_cli_fail (inv, error);
  if (!inv->json)
    g_printerr (_("Signed out: the sign-in of %s is removed from the keyring.\n"), account->user);
  return MR_EXIT_OK;
}

int
cmd_exchange (Invocation *inv,
              const char *command)
{
  if (g_strcmp0 (command, "check") == 0 && inv->args->len == 0)
    return cmd_exchange_check (inv);
  if (g_strcmp0 (command, "discover") == 0)
    return cmd_exchange_discover (inv);
  if (g_strcmp0 (command, "password") == 0 && inv->args->len == 0)
    return cmd_exchange_password (inv);
  if (g_strcmp0 (command, "login") == 0 && inv->args->len == 0)
    return cmd_exchange_login (inv);
  if (g_strcmp0 (command, "logout") == 0 && inv->args->len == 0)
    return cmd_exchange_logout (inv);
  return mr_cli_usage_error (inv, _("“exchange” takes check, discover ADDRESS, password, login or logout"));
}
