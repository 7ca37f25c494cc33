/* test-cli.c: mailroom-cli as scripts use it: exit statuses, JSON errors, files and keyring */

#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <unistd.h>

#include "mr-test-utils.h"

typedef struct {
  int        status;
  char      *out;
  char      *err;
  JsonNode  *json;   /* stdout parsed, when it is JSON */
} CliResult;

static void
cli_result_free (CliResult *result)
{
  g_free (result->out);
  g_free (result->err);
  g_clear_pointer (&result->json, json_node_unref);
  g_free (result);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CliResult, cli_result_free)

static void
detach_from_terminal (gpointer user_data)
{
  /* No controlling terminal: the password prompt must not find one. */
  setsid ();
}

static void
unlink_and_free (char *path)
{
  g_unlink (path);
  g_free (path);
}

static CliResult *
run_cli_env (const char         *stdin_text,
             const char * const *extra_env,
             const char         *first,
             ...)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  CliResult *result = g_new0 (CliResult, 1);
  const char *cli = g_getenv ("MAILROOM_CLI");
  va_list args;

  g_assert_nonnull (cli);
  g_ptr_array_add (argv, (gpointer) cli);
  va_start (args, first);
  for (const char *arg = first; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  /* Standard input from a file: a command that fails before reading it must not break a pipe. */
  {
    g_autofree char *input_path = NULL;
    int fd = g_file_open_tmp ("mailroom-cli-stdin-XXXXXX", &input_path, &error);

    g_assert_no_error (error);
    g_assert_true (g_file_set_contents (input_path, stdin_text ? stdin_text : "", -1, NULL));
    close (fd);
    g_subprocess_launcher_set_stdin_file_path (launcher, input_path);
    g_object_set_data_full (G_OBJECT (launcher), "stdin-path", g_strdup (input_path), (GDestroyNotify) unlink_and_free);
  }
  g_subprocess_launcher_set_child_setup (launcher, detach_from_terminal, NULL, NULL);
  for (guint i = 0; extra_env != NULL && extra_env[i] != NULL; i += 2)
    g_subprocess_launcher_setenv (launcher, extra_env[i], extra_env[i + 1], TRUE);

  process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &result->out, &result->err, &error);
  g_assert_no_error (error);
  result->status = g_subprocess_get_exit_status (process);
  result->json = json_from_string (result->out, NULL);
  return result;
}

#define run_cli(stdin_text, ...) run_cli_env (stdin_text, NULL, __VA_ARGS__, NULL)

static const char *
error_kind (CliResult *result)
{
  JsonObject *error;

  if (result->json == NULL || !JSON_NODE_HOLDS_OBJECT (result->json))
    g_error ("No JSON error in: %s / %s", result->out, result->err);
  error = json_object_get_object_member (json_node_get_object (result->json), "error");
  return json_object_get_string_member (error, "kind");
}

static const char *
error_message (CliResult *result)
{
  JsonObject *error = json_object_get_object_member (json_node_get_object (result->json), "error");

  return json_object_get_string_member (error, "message");
}

#define assert_status(result, expected) G_STMT_START {                                   \
    if ((result)->status != (expected))                                                  \
      g_error ("%s:%d: exit status %d, expected %d\nstdout: %s\nstderr: %s", __FILE__, __LINE__, \
               (result)->status, (expected), (result)->out, (result)->err);              \
  } G_STMT_END

static void
test_set_get_show (MrTestDirs    *dirs,
                   gconstpointer  data)
{
  g_autoptr(CliResult) set = run_cli (NULL, "company", "set", "smtp.provider", "gmail");
  g_autoptr(CliResult) get = NULL, show = NULL, user = NULL, plain = NULL, effective = NULL, help = NULL;
  JsonObject *settings;

  assert_status (set, 0);
  get = run_cli (NULL, "company", "get", "smtp.host");
  assert_status (get, 0);
  g_assert_cmpstr (get->out, ==, "smtp.gmail.com\n");

  show = run_cli (NULL, "company", "show", "--json");
  assert_status (show, 0);
  settings = json_object_get_object_member (json_node_get_object (show->json), "settings");
  g_assert_cmpint (json_object_get_int_member (settings, "smtp.port"), ==, 587);
  g_assert_cmpstr (json_object_get_string_member (settings, "smtp.security"), ==, "starttls");
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (show->json), "path"), ==, dirs->company_path);

  plain = run_cli (NULL, "company", "show");
  g_assert_nonnull (strstr (plain->out, "smtp.host = smtp.gmail.com\n"));

  user = run_cli (NULL, "user", "set", "user.email", "ann@example.com");
  assert_status (user, 0);
  g_clear_pointer (&get, cli_result_free);
  get = run_cli (NULL, "user", "get", "user.email");
  g_assert_cmpstr (get->out, ==, "ann@example.com\n");
  g_clear_pointer (&get, cli_result_free);
  /* An unset key reads as its default. */
  get = run_cli (NULL, "company", "get", "delivery.sendmail_path");
  g_assert_cmpstr (get->out, ==, "/usr/sbin/sendmail\n");

  effective = run_cli (NULL, "settings", "effective", "--json");
  assert_status (effective, 0);
  settings = json_object_get_object_member (json_node_get_object (effective->json), "settings");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (settings, "smtp.host"), "origin"), ==, "company");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (settings, "user.email"), "origin"), ==, "user");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (settings, "sender.reply_to"), "origin"), ==, "default");

  help = run_cli (NULL, "--help");
  assert_status (help, 0);
  g_assert_nonnull (strstr (help->out, "settings effective"));
}

static void
test_bad_input (MrTestDirs    *dirs,
                gconstpointer  data)
{
  static const struct { const char *scope, *key, *value; int status; const char *kind; } cases[] = {
    { "company", "smtp.port", "0", 65, "invalid-value" },
    { "company", "smtp.port", "70000", 65, "invalid-value" },
    { "company", "smtp.port", "abc", 65, "invalid-value" },
    { "company", "smtp.host", "", 65, "invalid-value" },
    { "company", "smtp.host", "smtp example.com", 65, "invalid-value" },
    { "company", "smtp.host", "smtp\x1b.example.com", 65, "invalid-value" },
    { "company", "sender.from_name", "Eve\r\nBcc: everyone@example.com", 65, "invalid-value" },
    { "company", "sender.from_address", "a@@b", 65, "invalid-value" },
    { "company", "sender.from_address", "\"x\" <>", 65, "invalid-value" },
    { "company", "sender.from_address", "no-at-sign", 65, "invalid-value" },
    { "company", "sender.from_address", "bob@unverified.example", 65, "invalid-value" },
    { "company", "smtp.turbo", "on", 65, "unknown-key" },
    { "user", "smtp.host", "mine.example.com", 77, "key-locked" },
    { "user", "domains.verified", "[]", 65, "unknown-key" },
  };
  g_autoptr(CliResult) a = run_cli (NULL, "company", "set", "domains.verified", "[\"example.com\"]");
  g_autoptr(CliResult) b = run_cli (NULL, "company", "set", "locks", "[\"smtp.host\"]");
  g_autoptr(CliResult) c = run_cli (NULL, "user", "set", "user.name", "Ann");
  g_autofree char *company_before = mr_test_read_file (dirs->company_path);
  g_autofree char *user_before = mr_test_read_file (dirs->user_path);

  assert_status (a, 0);
  assert_status (b, 0);
  assert_status (c, 0);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(CliResult) result = run_cli (NULL, "--json", cases[i].scope, "set", cases[i].key, cases[i].value);

      assert_status (result, cases[i].status);
      g_assert_cmpstr (error_kind (result), ==, cases[i].kind);
      if (strstr (error_message (result), cases[i].key) == NULL)
        g_error ("The message does not name %s: %s", cases[i].key, error_message (result));
      mr_assert_file_contents (dirs->company_path, company_before);
      mr_assert_file_contents (dirs->user_path, user_before);
    }

  /* Without --json the message goes to stderr, named. */
  {
    g_autoptr(CliResult) result = run_cli (NULL, "company", "set", "smtp.port", "70000");
    assert_status (result, 65);
    g_assert_nonnull (strstr (result->err, "smtp.port"));
    g_assert_nonnull (strstr (result->err, "65535"));
  }
}

static void
test_usage (MrTestDirs    *dirs,
            gconstpointer  data)
{
  g_autoptr(CliResult) none = run_cli (NULL, "--json");
  g_autoptr(CliResult) unknown = run_cli (NULL, "company", "frobnicate");
  g_autoptr(CliResult) missing = run_cli (NULL, "company", "set", "smtp.host");
  g_autoptr(CliResult) option = run_cli (NULL, "company", "show", "--colour");
  g_autoptr(CliResult) stdin_elsewhere = run_cli (NULL, "company", "set", "smtp.host", "x.example", "--stdin");

  assert_status (none, 64);
  g_assert_cmpstr (error_kind (none), ==, "usage");
  assert_status (unknown, 64);
  assert_status (missing, 64);
  assert_status (option, 64);
  assert_status (stdin_elsewhere, 64);
  g_assert_false (g_file_test (dirs->company_path, G_FILE_TEST_EXISTS));
}

static void
test_file_errors (MrTestDirs    *dirs,
                  gconstpointer  data)
{
  const char *truncated = "{\n  \"schema_version\": 1,\n  \"settings\": {\n    \"smtp.host\": \"smtp.ex";
  g_autoptr(CliResult) corrupt = NULL, unreadable = NULL, unwritable = NULL, user_ok = NULL;

  mr_test_write_file (dirs->company_path, truncated);
  corrupt = run_cli (NULL, "--json", "company", "set", "smtp.port", "25");
  assert_status (corrupt, 65);
  g_assert_cmpstr (error_kind (corrupt), ==, "file-corrupt");
  g_assert_nonnull (strstr (error_message (corrupt), dirs->company_path));
  g_assert_nonnull (strstr (error_message (corrupt), "line 4"));
  mr_assert_file_contents (dirs->company_path, truncated);

  if (getuid () == 0)
    {
      g_test_skip ("root ignores file modes: run as an unprivileged user (make test does)");
      return;
    }

  mr_test_write_file (dirs->company_path, "{\"schema_version\": 1, \"settings\": {\"smtp.host\": \"smtp.example.com\"}}");
  g_chmod (dirs->company_path, 0000);
  unreadable = run_cli (NULL, "--json", "settings", "effective");
  assert_status (unreadable, 66);
  g_assert_cmpstr (error_kind (unreadable), ==, "file-unreadable");

  g_chmod (dirs->company_path, 0644);
  g_chmod (dirs->etc, 0555);
  unwritable = run_cli (NULL, "--json", "company", "set", "smtp.port", "25");
  assert_status (unwritable, 77);
  g_assert_cmpstr (error_kind (unwritable), ==, "file-unwritable");
  mr_assert_file_contents (dirs->company_path, "{\"schema_version\": 1, \"settings\": {\"smtp.host\": \"smtp.example.com\"}}");

  /* The user's own settings still work. */
  user_ok = run_cli (NULL, "user", "set", "user.name", "Ann");
  assert_status (user_ok, 0);
  g_chmod (dirs->etc, 0755);
}

static void
test_passwords (MrTestDirs    *dirs,
                gconstpointer  data)
{
  g_autofree char *host = mr_test_unique_host ("cli");
  g_autofree char *password = g_strdup_printf ("pw-%08x-never-in-a-file", g_random_int ());
  g_autofree char *stdin_text = g_strdup_printf ("%s\n", password);
  g_autoptr(CliResult) r1 = NULL, r2 = NULL, r3 = NULL, r4 = NULL, r5 = NULL, r6 = NULL, r7 = NULL, r8 = NULL;
  JsonObject *effective;

  if (!mr_test_require_keyring ())
    return;

  r1 = run_cli (NULL, "company", "set", "smtp.host", host);
  assert_status (r1, 0);

  /* No login yet: the password has no account. */
  r2 = run_cli (stdin_text, "--json", "company", "password", "--stdin");
  assert_status (r2, 65);
  g_assert_nonnull (strstr (error_message (r2), "smtp.username"));

  g_clear_pointer (&r1, cli_result_free);
  r1 = run_cli (NULL, "company", "set", "smtp.username", "office@example.com");
  assert_status (r1, 0);
  r3 = run_cli (stdin_text, "company", "password", "--stdin");
  assert_status (r3, 0);

  r4 = run_cli (NULL, "settings", "effective", "--json");
  effective = json_node_get_object (r4->json);
  g_assert_cmpstr (json_object_get_string_member (effective, "password"), ==, "stored");
  g_assert_null (strstr (r4->out, password));

  /* Nowhere on disk: not in HOME, the config folders or the company folder. */
  g_assert_false (mr_test_tree_contains (dirs->root, password));
  g_assert_false (mr_test_tree_contains (g_get_home_dir (), password));

  /* A person finds it with secret-tool. */
  {
    g_autofree char *command = g_strdup_printf ("secret-tool lookup service smtp host %s user office@example.com scope company", host);
    g_autofree char *found = NULL;
    g_autoptr(GError) error = NULL;

    g_spawn_command_line_sync (command, &found, NULL, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (found, ==, password);
  }

  /* Company credentials: a user has no personal password to store. */
  r5 = run_cli (stdin_text, "--json", "user", "password", "--stdin");
  assert_status (r5, 77);
  g_assert_cmpstr (error_kind (r5), ==, "key-locked");

  /* No terminal and no --stdin: a usage error, never a hang. */
  r6 = run_cli (NULL, "company", "password");
  assert_status (r6, 64);
  g_assert_nonnull (strstr (r6->err, "--stdin"));

  /* An application profile with its own login keeps its own password, marked with its name. */
  {
    g_autoptr(CliResult) a1 = run_cli (NULL, "company", "set", "apps.marketing.smtp.username", "news@example.com");
    g_autoptr(CliResult) a2 = run_cli ("marketing-pw\n", "company", "password", "--app", "marketing", "--stdin");
    g_autoptr(CliResult) a3 = run_cli (NULL, "settings", "effective", "--app", "marketing", "--json");
    g_autoptr(CliResult) a4 = run_cli ("x\n", "--json", "company", "password", "--app", "nosuch", "--stdin");
    g_autofree char *command = g_strdup_printf ("secret-tool search --all service smtp host %s user news@example.com", host);
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    g_autoptr(GError) error = NULL;

    assert_status (a1, 0);
    assert_status (a2, 0);
    g_assert_cmpstr (json_object_get_string_member (json_node_get_object (a3->json), "password"), ==, "stored");
    assert_status (a4, 65);
    g_assert_cmpstr (error_kind (a4), ==, "unknown-key");
    /* Caught, not let through: secret-tool writes the item to standard output, the TAP stream. */
    g_spawn_command_line_sync (command, &out, &err, NULL, &error);
    g_assert_no_error (error);
    g_assert_nonnull (strstr (out, "secret = marketing-pw"));
    g_assert_nonnull (strstr (err, "attribute.app = marketing"));
  }

  r7 = run_cli (NULL, "company", "password", "--clear");
  assert_status (r7, 0);
  r8 = run_cli (NULL, "settings", "effective", "--json");
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (r8->json), "password"), ==, "missing");
}

static void
test_per_user_password (MrTestDirs    *dirs,
                        gconstpointer  data)
{
  g_autofree char *host = mr_test_unique_host ("peruser");
  g_autoptr(CliResult) r1 = NULL, r2 = NULL, r3 = NULL, r4 = NULL, r5 = NULL;

  if (!mr_test_require_keyring ())
    return;

  r1 = run_cli (NULL, "company", "set", "smtp.host", host);
  r2 = run_cli (NULL, "company", "set", "smtp.credentials", "per-user");
  r3 = run_cli (NULL, "user", "set", "smtp.username", "ann@example.com");
  assert_status (r3, 0);
  r4 = run_cli ("ann's pass\n", "user", "password", "--stdin");
  assert_status (r4, 0);
  r5 = run_cli (NULL, "settings", "effective", "--json");
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (r5->json), "password"), ==, "stored");
}

static void
test_no_keyring (MrTestDirs    *dirs,
                 gconstpointer  data)
{
  static const char * const no_bus[] = { "DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/mailroom-bus", NULL };
  g_autoptr(CliResult) r1 = run_cli (NULL, "company", "set", "smtp.host", "smtp.example.com");
  g_autoptr(CliResult) r2 = run_cli (NULL, "company", "set", "smtp.username", "office@example.com");
  g_autoptr(CliResult) store = run_cli_env ("nokeyring-secret\n", no_bus, "--json", "company", "password", "--stdin", NULL);
  g_autoptr(CliResult) effective = run_cli_env (NULL, no_bus, "settings", "effective", "--json", NULL);

  assert_status (store, 69);
  g_assert_cmpstr (error_kind (store), ==, "keyring-unavailable");
  g_assert_nonnull (strstr (error_message (store), "No keyring"));
  g_assert_false (mr_test_tree_contains (dirs->root, "nokeyring-secret"));
  g_assert_false (mr_test_tree_contains (g_get_home_dir (), "nokeyring-secret"));

  /* Reading the settings still works and says why the password state is unknown. */
  assert_status (effective, 0);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (effective->json), "password"), ==,
                   "keyring-unavailable");
}

static void
test_effective_app (MrTestDirs    *dirs,
                    gconstpointer  data)
{
  g_autoptr(CliResult) r1 = run_cli (NULL, "company", "set", "sender.from_name", "Example Ltd");
  g_autoptr(CliResult) r2 = run_cli (NULL, "company", "set", "apps.marketing.sender.from_name", "Example News");
  g_autoptr(CliResult) app = run_cli (NULL, "settings", "effective", "--app", "marketing", "--json");
  g_autoptr(CliResult) other = run_cli (NULL, "settings", "effective", "--app=reports", "--json");
  JsonObject *from_name;

  assert_status (app, 0);
  from_name = json_object_get_object_member (json_object_get_object_member (json_node_get_object (app->json), "settings"),
                                             "sender.from_name");
  g_assert_cmpstr (json_object_get_string_member (from_name, "value"), ==, "Example News");
  g_assert_cmpstr (json_object_get_string_member (from_name, "origin"), ==, "app");

  assert_status (other, 65);
  g_assert_cmpstr (error_kind (other), ==, "unknown-key");
}

int
main (int    argc,
      char **argv)
{
  mr_test_init (&argc, &argv);

#define ADD(path, func) g_test_add (path, MrTestDirs, NULL, mr_test_dirs_setup, func, mr_test_dirs_teardown)
  ADD ("/cli/set-get-show", test_set_get_show);
  ADD ("/cli/bad-input", test_bad_input);
  ADD ("/cli/usage", test_usage);
  ADD ("/cli/file-errors", test_file_errors);
  ADD ("/cli/passwords", test_passwords);
  ADD ("/cli/per-user-password", test_per_user_password);
  ADD ("/cli/no-keyring", test_no_keyring);
  ADD ("/cli/effective-app", test_effective_app);
#undef ADD

  return g_test_run ();
}
