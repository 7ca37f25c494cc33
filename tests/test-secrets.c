/* test-secrets.c: passwords in a real gnome-keyring-daemon (tests/isolated.sh starts one) */

#include "config.h"

#include <unistd.h>

#include "mr-error.h"
#include "mr-secrets.h"
#include "mr-test-utils.h"

static void
test_store_lookup_clear (void)
{
  g_autofree char *host = mr_test_unique_host ("store");
  g_autoptr(MrSecretAccount) account = mr_secret_account_new (MR_SECRET_SCOPE_COMPANY, host, "office@example.com", NULL);
  g_autoptr(MrSecretAccount) other = mr_secret_account_new (MR_SECRET_SCOPE_USER, host, "office@example.com", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(MrSecret) password = NULL;

  if (!mr_test_require_keyring ())
    return;

  g_assert_null (mr_secrets_lookup_sync (account, NULL, &error));
  g_assert_no_error (error);

  g_assert_true (mr_secrets_store_sync (account, "s3cret pass", NULL, &error));
  g_assert_no_error (error);
  password = mr_secrets_lookup_sync (account, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (password, ==, "s3cret pass");

  /* The scope is part of the account. */
  g_assert_null (mr_secrets_lookup_sync (other, NULL, &error));
  g_assert_no_error (error);

  /* Storing again replaces, also when an application profile stores it. */
  {
    g_autoptr(MrSecretAccount) from_app = mr_secret_account_new (MR_SECRET_SCOPE_COMPANY, host, "office@example.com", "marketing");
    g_autoptr(MrSecret) replaced = NULL;

    g_autofree char *command = g_strdup_printf ("secret-tool search --all service smtp host %s", host);
    g_autofree char *listing = NULL;
    guint n_items = 0;

    g_assert_true (mr_secrets_store_sync (from_app, "new pass", NULL, &error));
    replaced = mr_secrets_lookup_sync (account, NULL, &error);
    g_assert_cmpstr (replaced, ==, "new pass");

    /* Exactly one item is left for the account. */
    g_spawn_command_line_sync (command, &listing, NULL, NULL, &error);
    g_assert_no_error (error);
    for (const char *p = listing; (p = strstr (p, "label = ")) != NULL; p++)
      n_items++;
    g_assert_cmpuint (n_items, ==, 1);
  }

  g_assert_true (mr_secrets_clear_sync (account, NULL, &error));
  g_assert_no_error (error);
  g_assert_null (mr_secrets_lookup_sync (account, NULL, &error));
  g_assert_no_error (error);
  /* Clearing nothing is fine. */
  g_assert_true (mr_secrets_clear_sync (account, NULL, &error));
}

static void
test_secret_tool_finds_it (void)
{
  g_autofree char *host = mr_test_unique_host ("readable");
  g_autoptr(MrSecretAccount) account = mr_secret_account_new (MR_SECRET_SCOPE_USER, host, "ann@example.com", "reports");
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *lookup = NULL;
  g_autofree char *argv_host = NULL;
  int status;

  if (!mr_test_require_keyring ())
    return;

  g_assert_true (mr_secrets_store_sync (account, "tool-visible", NULL, &error));
  g_assert_no_error (error);

  /* The attributes a person would type. */
  argv_host = g_strdup_printf ("secret-tool search --all service smtp host %s", host);
  g_spawn_command_line_sync (argv_host, &out, &err, &status, &error);
  g_assert_no_error (error);
  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (strstr (err, "attribute.user = ann@example.com"));
  g_assert_nonnull (strstr (err, "attribute.scope = user"));
  g_assert_nonnull (strstr (err, "attribute.app = reports"));
  g_assert_nonnull (strstr (err, "attribute.service = smtp"));

  g_clear_pointer (&argv_host, g_free);
  argv_host = g_strdup_printf ("secret-tool lookup service smtp host %s user ann@example.com scope user", host);
  g_spawn_command_line_sync (argv_host, &lookup, NULL, &status, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (lookup, ==, "tool-visible");
}

typedef struct {
  GMainLoop *loop;
  GError    *error;
  gboolean   ok;
  char      *password;
} AsyncState;

static void
store_done (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  AsyncState *state = user_data;

  state->ok = mr_secrets_store_finish (result, &state->error);
  g_main_loop_quit (state->loop);
}

static void
lookup_done (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  AsyncState *state = user_data;

  state->password = mr_secrets_lookup_finish (result, &state->error);
  g_main_loop_quit (state->loop);
}

static void
clear_done (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  AsyncState *state = user_data;

  state->ok = mr_secrets_clear_finish (result, &state->error);
  g_main_loop_quit (state->loop);
}

static void
test_async (void)
{
  g_autofree char *host = mr_test_unique_host ("async");
  g_autoptr(MrSecretAccount) account = mr_secret_account_new (MR_SECRET_SCOPE_COMPANY, host, "u", NULL);
  AsyncState state = { g_main_loop_new (NULL, FALSE) };

  if (!mr_test_require_keyring ())
    {
      g_main_loop_unref (state.loop);
      return;
    }

  mr_secrets_store_async (account, "async pass", NULL, store_done, &state);
  g_main_loop_run (state.loop);
  g_assert_no_error (state.error);
  g_assert_true (state.ok);

  mr_secrets_lookup_async (account, NULL, lookup_done, &state);
  g_main_loop_run (state.loop);
  g_assert_no_error (state.error);
  g_assert_cmpstr (state.password, ==, "async pass");
  mr_secret_free (state.password);

  mr_secrets_clear_async (account, NULL, clear_done, &state);
  g_main_loop_run (state.loop);
  g_assert_no_error (state.error);
  g_assert_true (state.ok);

  g_main_loop_unref (state.loop);
}

static void
test_no_keyring (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(MrSecretAccount) account = mr_secret_account_new (MR_SECRET_SCOPE_COMPANY, "h.example", "u", NULL);
      g_autoptr(GError) error = NULL;

      /* A session bus that is not there: libsecret has not connected yet in this process. */
      g_setenv ("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/mailroom-bus", TRUE);
      g_unsetenv ("DISPLAY");
      g_assert_false (mr_secrets_store_sync (account, "never stored", NULL, &error));
      mr_assert_error_kind (error, "keyring-unavailable");
      g_assert_cmpint (mr_error_get_exit_status (error), ==, 69);
      g_assert_nonnull (strstr (error->message, "No keyring is available"));
      g_clear_error (&error);
      g_assert_null (mr_secrets_lookup_sync (account, NULL, &error));
      mr_assert_error_kind (error, "keyring-unavailable");
      return;
    }

  g_test_trap_subprocess (NULL, 20 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

int
main (int    argc,
      char **argv)
{
  mr_test_init (&argc, &argv);

  g_test_add_func ("/secrets/store-lookup-clear", test_store_lookup_clear);
  g_test_add_func ("/secrets/secret-tool", test_secret_tool_finds_it);
  g_test_add_func ("/secrets/async", test_async);
  g_test_add_func ("/secrets/no-keyring", test_no_keyring);

  return g_test_run ();
}
