/* mr-test-utils.h: shared set-up for Mailroom's tests, after libsoup's test-utils
 *
 * mr_test_init() isolates the environment of the whole program; MrTestDirs is a fixture that gives
 * each test case fresh company and user files, with MAILROOM_COMPANY_CONFIG and XDG_CONFIG_HOME
 * pointing at them.
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "mr-settings.h"
#include "mr-transport.h"

G_BEGIN_DECLS

void      mr_test_init              (int          *argc,
                                     char       ***argv);

typedef struct {
  char *root;
  char *etc;           /* folder of the company file */
  char *company_path;
  char *config_home;
  char *user_path;
  char *data_home;           /* XDG_DATA_HOME: personal templates, the sent log */
  char *cache_home;          /* XDG_CACHE_HOME: what servers announced */
  char *company_templates;   /* MAILROOM_COMPANY_TEMPLATES */
} MrTestDirs;

void      mr_test_dirs_setup        (MrTestDirs    *dirs,
                                     gconstpointer  data);
/* Sets @name to @value, or clears it (NULL), for a variable listed in mr-test-utils.c's
 * changed_later[]: it never grows or shrinks the environment, which another thread may be reading
 * (setenv() that adds a variable frees the array getenv() walks). */
void      mr_test_setenv            (const char    *name,
                                     const char    *value);
/* Removes @path and everything under it. */
void      mr_test_remove_tree       (const char    *path);
void      mr_test_dirs_teardown     (MrTestDirs    *dirs,
                                     gconstpointer  data);

/* Fails (under `make test`) or skips (elsewhere) when no Secret Service runs. */
gboolean  mr_test_require_keyring   (void);

/* Sets @key to @value in @scope and saves it, or fails the test saying why. */
void      mr_test_set_ok            (MrSettings    *settings,
                                     MrScope        scope,
                                     const char    *key,
                                     const char    *value);
void      mr_test_write_file        (const char    *path,
                                     const char    *contents);
char     *mr_test_read_file         (const char    *path);
/* Whether any regular file below @dir contains @needle. */
gboolean  mr_test_tree_contains     (const char    *dir,
                                     const char    *needle);
char     *mr_test_unique_host       (const char    *stem);

#define mr_assert_file_contents(path, expected) G_STMT_START {                         \
    g_autofree char *mr__actual = mr_test_read_file (path);                            \
    if (g_strcmp0 (mr__actual, (expected)) != 0)                                       \
      g_error ("%s:%d: %s changed:\n--- expected\n%s\n--- actual\n%s", __FILE__, __LINE__, \
               (path), (expected) ? (expected) : "(no file)", mr__actual ? mr__actual : "(no file)"); \
  } G_STMT_END

#define mr_assert_error_kind(error, kind) G_STMT_START {                               \
    const GError *mr__e = (error);                                                     \
    if (mr__e == NULL)                                                                 \
      g_error ("%s:%d: expected an error of kind %s, got none", __FILE__, __LINE__, (kind)); \
    if (g_strcmp0 (mr_error_get_kind (mr__e), (kind)) != 0)                            \
      g_error ("%s:%d: expected an error of kind %s, got %s: %s", __FILE__, __LINE__,  \
               (kind), mr_error_get_kind (mr__e), mr__e->message);                     \
  } G_STMT_END

/* Memory budgets (growth of the resident set) mean nothing under AddressSanitizer, whose shadow
 * memory and quarantine grow with every allocation: there the budget checks are left out, and the
 * sanitizer checks the same code for leaks and overflows instead. */
#if defined(__SANITIZE_ADDRESS__)
#define MR_TEST_MEMORY_BUDGETS 0
#else
#define MR_TEST_MEMORY_BUDGETS 1
#endif
/* Time bounds on work that must stay linear are checked with room for the sanitizers' own cost. */
#if defined(__SANITIZE_ADDRESS__)
#define MR_TEST_TIME_SCALE 10
#else
#define MR_TEST_TIME_SCALE 1
#endif

#define mr_assert_memory_growth(kilobytes, budget)                                      \
  G_STMT_START {                                                                         \
    if (MR_TEST_MEMORY_BUDGETS)                                                          \
      g_assert_cmpint ((kilobytes), <, (budget));                                        \
  } G_STMT_END

/* g_assert_cmpstr() for a string the test owns: it is freed after the comparison, so that the
 * suite runs clean under LeakSanitizer. */
#define mr_assert_cmpstr_free(owned, cmp, expected)                                      \
  G_STMT_START {                                                                         \
    g_autofree char *mr__owned = (owned);                                                \
    g_assert_cmpstr (mr__owned, cmp, (expected));                                        \
  } G_STMT_END

/* A test server from tests/servers/, listening on 127.0.0.1 at a port it chose. */
typedef struct {
  GSubprocess *process;
  guint16      port;
  char        *dir;       /* its own folder: maildir/ and log */
  char        *maildir;
  char        *log;
} MrTestServer;

/* @script: "smtp-server.py" or "fault-server.py"; @args end with NULL. --maildir or --log are added. */
MrTestServer *mr_test_server_start         (const char    *script,
                                            ...) G_GNUC_NULL_TERMINATED;
/* The same with the arguments in a NULL-terminated array. */
MrTestServer *mr_test_server_start_argv    (const char    *script,
                                            const char * const *args);
void          mr_test_server_stop          (MrTestServer  *server);
guint         mr_test_server_count_messages (MrTestServer *server);
/* What Python's email package makes of message N (check-message.py's report). */
JsonNode     *mr_test_server_parse_message (MrTestServer  *server,
                                            guint          n);
JsonNode     *mr_test_server_read_envelope (MrTestServer  *server,
                                            guint          n);
char         *mr_test_server_read_log      (MrTestServer  *server);
/* The throwaway CA and certificates (make-certs.py), made once per test program. */
const char   *mr_test_certs_dir            (void);
char         *mr_test_cert_path            (const char    *name);
/* A port nothing listens on. */
guint16       mr_test_closed_port          (void);

/* Registers tests/servers/fake-browser.py as the desktop's browser for http(s) in @data_dir (a .desktop
 * file) and @config_dir (mimeapps.list); it trusts the tests' CA and logs each address to @log. */
void          mr_test_install_fake_browser (const char    *data_dir,
                                            const char    *config_dir,
                                            const char    *log);

/* Runs $MAILROOM_CLI with the arguments (NULL-terminated); returns its exit status, -1 if it died. */
int           mr_test_run_cli              (char         **out,
                                            char         **err,
                                            const char    *first,
                                            ...) G_GNUC_NULL_TERMINATED;

/* The same with @input on its standard input. */
int           mr_test_run_cli_with_input   (const char    *input,
                                            char         **out,
                                            char         **err,
                                            const char    *first,
                                            ...) G_GNUC_NULL_TERMINATED;
/* "v=DKIM1; k=rsa; p=…" with a fresh RSA key of @bits (GnuTLS), for a DKIM record. */
char         *mr_test_dkim_record          (unsigned int   bits);
/* How often @needle is in @text (overlapping ones too). */
guint         mr_test_count                (const char    *text,
                                            const char    *needle);

/* Send Test Email as the window and mailroom-cli send it: the test message MrSender builds for
 * @settings, through @transport, the session ended after it. */
MrTransportResult *mr_test_send_test_email (MrTransport  *transport,
                                            MrSettings   *settings,
                                            const char   *to,
                                            GError      **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MrTestServer, mr_test_server_stop)

G_END_DECLS
