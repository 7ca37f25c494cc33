/* mr-test-utils.c: shared set-up for Mailroom's tests */

#include "config.h"

#include <execinfo.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>

#include <glib/gstdio.h>
#include <stdarg.h>
#include <locale.h>
#include <string.h>
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <unistd.h>

#include "mr-sender.h"
#include "mr-test-utils.h"

#if defined(__SANITIZE_ADDRESS__)
/* Under LeakSanitizer: GLib's idle worker threads (TLS handshakes, resolver lookups) end before
 * its check at exit, not during it; its tracer crashes on a thread that is exiting ("Tracer caught
 * signal 11"), about one run in two of a suite that used TLS. Registered after LSan's own exit
 * handler, so it runs first. */
static void
let_worker_threads_end (void)
{
  g_thread_pool_stop_unused_threads ();
  g_usleep (300 * 1000);
}
#endif

#if !defined(__SANITIZE_ADDRESS__)
/* A crash in CI leaves no core to read: the crashing thread's name and its stack go to stderr, in
 * the test log, before the signal ends the process as it would have. Only async-signal-safe calls
 * here; backtrace() was called once at start-up so that it does not load libgcc now. */
static void
report_crash (int signal_number)
{
  static const char head[] = "\n*** crashed (signal ";
  void *frames[64];
  char name[17] = { 0 };
  char number[4] = { (char) ('0' + signal_number / 10 % 10), (char) ('0' + signal_number % 10), ')', 0 };
  int n = backtrace (frames, G_N_ELEMENTS (frames));

  prctl (PR_GET_NAME, name, 0, 0, 0);
  (void) !write (STDERR_FILENO, head, sizeof head - 1);
  (void) !write (STDERR_FILENO, number, 3);
  (void) !write (STDERR_FILENO, " in thread ", 11);
  (void) !write (STDERR_FILENO, name, strlen (name));
  (void) !write (STDERR_FILENO, " ***\n", 5);
  backtrace_symbols_fd (frames, n, STDERR_FILENO);
  raise (signal_number);   /* SA_RESETHAND: now the default action, a core where one is kept */
}

static void
catch_crashes (void)
{
  static const int signals[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE };
  struct sigaction action = { 0 };
  void *warm[1];

  backtrace (warm, 1);
  action.sa_handler = report_crash;
  action.sa_flags = SA_RESETHAND | SA_NODEFER;
  sigemptyset (&action.sa_mask);
  for (guint i = 0; i < G_N_ELEMENTS (signals); i++)
    sigaction (signals[i], &action, NULL);
}
#endif

static char *process_root;
static MrTestDirs process_paths;

/* The environment variables tests set and clear while threads run (see mr_test_setenv()). */
static const char * const changed_later[] = {
  "MAILROOM_DNS_SERVER", "RES_OPTIONS", "MAILROOM_PRESETS", "MAILROOM_FAKE_BROWSER_CA", "MAILROOM_FAKE_BROWSER_LOG",
  "MAILROOM_FAKE_BROWSER_DELAY_MS", "FLATPAK_ID", "HOST_XDG_CONFIG_HOME",
};

void
mr_test_setenv (const char *name,
                const char *value)
{
  gboolean known = FALSE;

  for (guint i = 0; i < G_N_ELEMENTS (changed_later) && !known; i++)
    known = g_str_equal (changed_later[i], name);
  if (!known)
    g_error ("%s is not in mr-test-utils.c's changed_later[]: setting it now could move the environment "
             "while another thread reads it", name);
  if (g_strcmp0 (g_getenv (name), value ? value : "") != 0)
    g_setenv (name, value ? value : "", TRUE);
}

/* A case's folders: the same paths for every case of the process, which the environment names. */
static void
case_paths (MrTestDirs *dirs)
{
  dirs->root = g_build_filename (process_root, "case", NULL);
  dirs->etc = g_build_filename (dirs->root, "etc", "mailroom", NULL);
  dirs->company_path = g_build_filename (dirs->etc, "company.json", NULL);
  dirs->config_home = g_build_filename (dirs->root, "config", NULL);
  dirs->user_path = g_build_filename (dirs->config_home, "mailroom", "user.json", NULL);
  dirs->data_home = g_build_filename (dirs->root, "data", NULL);
  dirs->cache_home = g_build_filename (dirs->root, "cache", NULL);
  dirs->company_templates = g_build_filename (dirs->etc, "templates", NULL);
}

/* A new folder under this process's own, removed with it when the process ends (or under /tmp for
 * a program without mr_test_init()). */
static char *
make_process_dir (const char *stem)
{
  g_autofree char *name = g_strdup_printf ("%s-XXXXXX", stem);
  g_autoptr(GError) error = NULL;
  char *dir;

  if (process_root == NULL)
    {
      g_autofree char *tmp_name = g_strdup_printf ("mailroom-%s", name);

      dir = g_dir_make_tmp (tmp_name, &error);
      g_assert_no_error (error);
      return dir;
    }
  dir = g_build_filename (process_root, name, NULL);
  g_assert_nonnull (g_mkdtemp (dir));
  return dir;
}

static void
remove_process_root (void)
{
  mr_test_remove_tree (process_root);
}

void
mr_test_init (int    *argc,
              char ***argv)
{
#if defined(__SANITIZE_ADDRESS__)
  atexit (let_worker_threads_end);
#else
  catch_crashes ();
#endif
  setlocale (LC_ALL, "C.UTF-8");
  g_setenv ("LANGUAGE", "en", TRUE);
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  /* tests/isolated.sh gives the whole run its own HOME, XDG folders and keyring; the MrTestDirs
   * fixture gives each case its own settings files, always at the same paths under this process's
   * folder. The environment is set here once, before any thread: setenv() in one thread while
   * another reads the environment (a resolver, a TLS handshake, libproxy) can read freed memory. */
  {
    g_autoptr(GError) error = NULL;

    process_root = g_dir_make_tmp ("mailroom-XXXXXX", &error);
    g_assert_no_error (error);
    atexit (remove_process_root);
    case_paths (&process_paths);
    g_setenv ("MAILROOM_COMPANY_CONFIG", process_paths.company_path, TRUE);
    g_setenv ("XDG_CONFIG_HOME", process_paths.config_home, TRUE);
    g_setenv ("XDG_DATA_HOME", process_paths.data_home, TRUE);
    g_setenv ("XDG_CACHE_HOME", process_paths.cache_home, TRUE);
    g_setenv ("MAILROOM_COMPANY_TEMPLATES", process_paths.company_templates, TRUE);
    /* Before the first case, too, a program may write its cache (Mesa's shaders when GTK starts). */
    g_mkdir_with_parents (process_paths.cache_home, 0700);
    /* Every variable a test changes later is there from now on, empty (which the engine and the
     * test servers read as unset): mr_test_setenv() then replaces a value, which never moves the
     * environment another thread may be reading. */
    for (guint i = 0; i < G_N_ELEMENTS (changed_later); i++)
      g_setenv (changed_later[i], "", FALSE);
    /* The tests that need systemctl write a fake one here; the others find none, as in a sandbox. */
    {
      g_autofree char *systemctl = g_build_filename (process_paths.root, "systemctl", NULL);

      g_setenv ("MAILROOM_SYSTEMCTL", systemctl, TRUE);
    }
  }
  g_test_init (argc, argv, NULL);
}

void
mr_test_dirs_setup (MrTestDirs    *dirs,
                    gconstpointer  data)
{
  case_paths (dirs);
  /* A case never sees another's files: the last case's teardown removed them, and what was written
   * between two cases (GTK's caches, say) goes now. */
  mr_test_remove_tree (dirs->root);
  g_assert_cmpint (g_mkdir_with_parents (dirs->etc, 0755), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (dirs->cache_home, 0700), ==, 0);
}

void
mr_test_remove_tree (const char *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    {
      g_chmod (path, 0700);
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          mr_test_remove_tree (child);
        }
      g_dir_close (dir);
      g_rmdir (path);
    }
  else
    g_unlink (path);
}

void
mr_test_dirs_teardown (MrTestDirs    *dirs,
                       gconstpointer  data)
{
  mr_test_remove_tree (dirs->root);
  g_free (dirs->root);
  g_free (dirs->etc);
  g_free (dirs->company_path);
  g_free (dirs->config_home);
  g_free (dirs->user_path);
  g_free (dirs->data_home);
  g_free (dirs->cache_home);
  g_free (dirs->company_templates);
}

gboolean
mr_test_require_keyring (void)
{
  g_autoptr(GDBusConnection) bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, NULL);
  g_autoptr(GVariant) reply = NULL;
  gboolean has_owner = FALSE;

  if (bus != NULL)
    reply = g_dbus_connection_call_sync (bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                         "org.freedesktop.DBus", "NameHasOwner",
                                         g_variant_new ("(s)", "org.freedesktop.secrets"),
                                         G_VARIANT_TYPE ("(b)"), 0, 2000, NULL, NULL);
  if (reply != NULL)
    g_variant_get (reply, "(b)", &has_owner);
  if (has_owner)
    return TRUE;

  if (g_strcmp0 (g_getenv ("MAILROOM_TEST_KEYRING"), "1") == 0)
    g_error ("No Secret Service on the session bus, but tests/isolated.sh should have started one");
  g_test_skip ("No Secret Service: run the suite with `make test` (tests/isolated.sh)");
  return FALSE;
}

void
mr_test_write_file (const char *path,
                    const char *contents)
{
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
}

char *
mr_test_read_file (const char *path)
{
  char *contents = NULL;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return NULL;
  return contents;
}

gboolean
mr_test_tree_contains (const char *path,
                       const char *needle)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const char *name;
  gboolean found = FALSE;

  if (dir == NULL)
    {
      g_autofree char *contents = NULL;
      gsize length;

      if (!g_file_test (path, G_FILE_TEST_IS_REGULAR) || !g_file_get_contents (path, &contents, &length, NULL))
        return FALSE;
      return g_strstr_len (contents, length, needle) != NULL;
    }

  while (!found && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (!g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        found = mr_test_tree_contains (child, needle);
    }
  g_dir_close (dir);
  return found;
}

/* A host name no other test uses, so that tests sharing one keyring do not see each other. */
char *
mr_test_unique_host (const char *stem)
{
  return g_strdup_printf ("%s-%d-%u.test.example", stem, (int) getpid (), g_random_int ());
}

/* ---- Test servers ----------------------------------------------------------------------------- */

static char *
servers_dir (void)
{
  const char *top = g_getenv ("MAILROOM_TOP_SRCDIR");

  g_assert_nonnull (top);
  return g_build_filename (top, "tests", "servers", NULL);
}

MrTestServer *
mr_test_server_start (const char *script,
                      ...)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  va_list list;

  va_start (list, script);
  for (const char *arg = va_arg (list, const char *); arg != NULL; arg = va_arg (list, const char *))
    g_ptr_array_add (args, (gpointer) arg);
  va_end (list);
  g_ptr_array_add (args, NULL);
  return mr_test_server_start_argv (script, (const char * const *) args->pdata);
}

MrTestServer *
mr_test_server_start_argv (const char         *script,
                           const char * const *args)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  g_autofree char *dir = servers_dir ();
  g_autofree char *line = NULL;
  MrTestServer *server = g_new0 (MrTestServer, 1);
  gboolean fault = g_str_equal (script, "fault-server.py");

  server->dir = make_process_dir ("server");
  server->maildir = g_build_filename (server->dir, "mail", NULL);
  server->log = g_build_filename (server->dir, "log", NULL);
  g_mkdir (server->maildir, 0700);

  g_ptr_array_add (argv, g_strdup ("/usr/bin/python3"));
  g_ptr_array_add (argv, g_build_filename (dir, script, NULL));
  g_ptr_array_add (argv, g_strdup (fault ? "--log" : "--maildir"));
  g_ptr_array_add (argv, g_strdup (fault ? server->log : server->maildir));
  for (guint i = 0; args != NULL && args[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup (args[i]));
  g_ptr_array_add (argv, NULL);

  {
    /* The server's own complaints (a client that aborted a handshake, say) go to a file, not the test log. */
    g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                                                         G_SUBPROCESS_FLAGS_STDOUT_PIPE);
    g_autofree char *stderr_path = g_build_filename (server->dir, "stderr", NULL);

    g_subprocess_launcher_set_stderr_file_path (launcher, stderr_path);
    server->process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  }
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (server->process));
  g_filter_input_stream_set_close_base_stream (G_FILTER_INPUT_STREAM (out), FALSE);
  line = g_data_input_stream_read_line (out, NULL, NULL, &error);
  g_assert_no_error (error);
  if (line == NULL || !g_str_has_prefix (line, "PORT "))
    g_error ("%s did not start (it said: %s)", script, line ? line : "nothing");
  server->port = (guint16) g_ascii_strtoull (line + 5, NULL, 10);
  g_assert_cmpuint (server->port, >, 0);
  return server;
}

void
mr_test_server_stop (MrTestServer *server)
{
  if (server == NULL)
    return;
  /* The servers stop when their standard input closes. */
  g_output_stream_close (g_subprocess_get_stdin_pipe (server->process), NULL, NULL);
  g_subprocess_wait (server->process, NULL, NULL);
  g_object_unref (server->process);
  g_free (server->maildir);
  g_free (server->log);
  g_free (server->dir);
  g_free (server);
}

guint
mr_test_server_count_messages (MrTestServer *server)
{
  guint n = 0;

  while (TRUE)
    {
      g_autofree char *name = g_strdup_printf ("%u.eml", n + 1);
      g_autofree char *path = g_build_filename (server->maildir, name, NULL);

      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        return n;
      n++;
    }
}

JsonNode *
mr_test_server_parse_message (MrTestServer *server,
                              guint         n)
{
  g_autofree char *dir = servers_dir ();
  g_autofree char *checker = g_build_filename (dir, "check-message.py", NULL);
  g_autofree char *name = g_strdup_printf ("%u.eml", n);
  g_autofree char *path = g_build_filename (server->maildir, name, NULL);
  const char *argv[] = { "/usr/bin/python3", checker, path, NULL };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  int status = 0;
  JsonNode *report;

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, &error);
  g_assert_no_error (error);
  if (status != 0)
    g_error ("check-message.py failed: %s", err);
  report = json_from_string (out, &error);
  g_assert_no_error (error);
  return report;
}

JsonNode *
mr_test_server_read_envelope (MrTestServer *server,
                              guint         n)
{
  g_autofree char *name = g_strdup_printf ("%u.json", n);
  g_autofree char *path = g_build_filename (server->maildir, name, NULL);
  g_autofree char *text = mr_test_read_file (path);
  g_autoptr(GError) error = NULL;
  JsonNode *node;

  g_assert_nonnull (text);
  node = json_from_string (text, &error);
  g_assert_no_error (error);
  return node;
}

char *
mr_test_server_read_log (MrTestServer *server)
{
  char *text = mr_test_read_file (server->log);
  return text ? text : g_strdup ("");
}

const char *
mr_test_certs_dir (void)
{
  static char *certs;

  if (certs == NULL)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *dir = servers_dir ();
      g_autofree char *maker = g_build_filename (dir, "make-certs.py", NULL);
      int status = 0;

      certs = make_process_dir ("certs");
      {
        const char *argv[] = { "/usr/bin/python3", maker, certs, NULL };
        g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL, &status, &error);
      }
      g_assert_no_error (error);
      g_assert_cmpint (status, ==, 0);
    }
  return certs;
}

char *
mr_test_cert_path (const char *name)
{
  return g_build_filename (mr_test_certs_dir (), name, NULL);
}

guint16
mr_test_closed_port (void)
{
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  guint16 port;

  g_assert_true (g_socket_bind (socket, any, FALSE, NULL));
  bound = g_socket_get_local_address (socket, NULL);
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_socket_close (socket, NULL);
  return port;
}

int
mr_test_run_cli (char       **out,
                 char       **err,
                 const char  *first,
                 ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  va_list args;
  int status = 0;

  g_ptr_array_add (argv, (gpointer) g_getenv ("MAILROOM_CLI"));
  va_start (args, first);
  for (const char *arg = first; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);
  g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_STDIN_FROM_DEV_NULL, NULL, NULL, out, err, &status, NULL);
  return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

int
mr_test_run_cli_with_input (const char  *input,
                            char       **out,
                            char       **err,
                            const char  *first,
                            ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  va_list args;

  g_ptr_array_add (argv, (gpointer) g_getenv ("MAILROOM_CLI"));
  va_start (args, first);
  for (const char *arg = first; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);
  process = g_subprocess_newv ((const char * const *) argv->pdata,
                               G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                               G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, input, NULL, out, err, &error);
  g_assert_no_error (error);
  return g_subprocess_get_exit_status (process);
}

/* "v=DKIM1; k=rsa; p=…" with a fresh RSA key of @bits. */
char *
mr_test_dkim_record (unsigned int bits)
{
  gnutls_x509_privkey_t x509 = NULL;
  gnutls_privkey_t private_key = NULL;
  gnutls_pubkey_t public_key = NULL;
  gnutls_datum_t der = { NULL, 0 };
  g_autofree char *encoded = NULL;

  g_assert_cmpint (gnutls_x509_privkey_init (&x509), ==, 0);
  g_assert_cmpint (gnutls_x509_privkey_generate (x509, GNUTLS_PK_RSA, bits, 0), ==, 0);
  g_assert_cmpint (gnutls_privkey_init (&private_key), ==, 0);
  g_assert_cmpint (gnutls_privkey_import_x509 (private_key, x509, GNUTLS_PRIVKEY_IMPORT_AUTO_RELEASE), ==, 0);
  g_assert_cmpint (gnutls_pubkey_init (&public_key), ==, 0);
  g_assert_cmpint (gnutls_pubkey_import_privkey (public_key, private_key, 0, 0), ==, 0);
  g_assert_cmpint (gnutls_pubkey_export2 (public_key, GNUTLS_X509_FMT_DER, &der), ==, 0);
  encoded = g_base64_encode (der.data, der.size);
  gnutls_free (der.data);
  gnutls_pubkey_deinit (public_key);
  gnutls_privkey_deinit (private_key);
  return g_strdup_printf ("v=DKIM1; k=rsa; p=%s", encoded);
}

guint
mr_test_count (const char *text,
               const char *needle)
{
  guint n = 0;

  for (const char *at = strstr (text, needle); at != NULL; at = strstr (at + 1, needle))
    n++;
  return n;
}

void
mr_test_install_fake_browser (const char *data_dir,
                              const char *config_dir,
                              const char *log)
{
  g_autofree char *servers = servers_dir ();
  g_autofree char *applications = g_build_filename (data_dir, "applications", NULL);
  g_autofree char *desktop_path = g_build_filename (applications, "mailroom-fake-browser.desktop", NULL);
  g_autofree char *mimeapps = g_build_filename (config_dir, "mimeapps.list", NULL);
  g_autofree char *desktop = g_strdup_printf ("[Desktop Entry]\nType=Application\nName=Fake Browser\nNoDisplay=true\n"
                                              "Exec=/usr/bin/python3 %s/fake-browser.py %%u\n"
                                              "MimeType=x-scheme-handler/https;x-scheme-handler/http;\n", servers);
  g_autofree char *ca = mr_test_cert_path ("ca.pem");

  g_assert_cmpint (g_mkdir_with_parents (applications, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (config_dir, 0700), ==, 0);
  mr_test_write_file (desktop_path, desktop);
  mr_test_write_file (mimeapps, "[Default Applications]\nx-scheme-handler/https=mailroom-fake-browser.desktop\n"
                                "x-scheme-handler/http=mailroom-fake-browser.desktop\n");
  mr_test_setenv ("MAILROOM_FAKE_BROWSER_CA", ca);
  mr_test_setenv ("MAILROOM_FAKE_BROWSER_LOG", log);
}

void
mr_test_set_ok (MrSettings *settings,
                MrScope     scope,
                const char *key,
                const char *value)
{
  g_autoptr(GError) error = NULL;

  if (!mr_settings_set_and_commit (settings, scope, key, value, NULL, &error))
    g_error ("Setting %s to %s failed: %s", key, value, error->message);
}

MrTransportResult *
mr_test_send_test_email (MrTransport  *transport,
                         MrSettings   *settings,
                         const char   *to,
                         GError      **error)
{
  g_autoptr(MrSender) sender = mr_sender_new (settings, NULL, error);
  g_autoptr(MrSmtpEnvelope) envelope = NULL;
  g_autoptr(GBytes) message = NULL;
  MrTransportResult *result;

  if (sender == NULL)
    return NULL;
  message = mr_sender_build_test_message (sender, to, mr_transport_get_label (transport), &envelope, NULL, error);
  if (message == NULL)
    return NULL;
  result = mr_transport_send_sync (transport, envelope, message, NULL, error);
  mr_transport_close (transport);
  return result;
}
