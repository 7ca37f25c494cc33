/* test-transport.c: one door for every transport (MrTransport), the router, and the shared failure
 *
 * A transport that only these tests know ("memory": it keeps what it is given) is registered with
 * the router and then used as any route is: the outbox sends and retries through it, a mailshot's
 * workers send a whole list through it, and the asynchronous calls work on it. Nothing outside the
 * engine's interface is touched: this is what adding a transport asks of the code.
 */

#include "config.h"

#include <sqlite3.h>
#include <string.h>

#include "mr-exchange.h"
#include "mr-mailshot.h"
#include "mr-outbox.h"
#include "mr-router.h"
#include "mr-smtp-error.h"
#include "mr-test-utils.h"

/* ---- The memory transport --------------------------------------------------------------------- */

/* What every memory transport of the process was given, and what the next sends are to meet. */
static struct {
  GMutex      lock;
  GPtrArray  *messages;      /* char*: "FROM -> RCPT,RCPT\n" then the message */
  GHashTable *threads;       /* the threads that sent */
  guint       opened, closed, made;
  guint       fail_next;     /* this many sends fail with @failure */
  guint       fail_open;     /* this many opens fail with @failure */
  MrTransportFailure failure;
  char       *refuse;        /* this recipient is refused while the others are taken */
  char       *journal;       /* set: each transport checks there that its last mail is recorded before the next is taken */
  guint       order_checked, order_broken;
  guint       pause_at;      /* taking this many messages pauses job @pause_job in @journal, as the window would */
  gint64      pause_job;
  sqlite3    *blocker;       /* holds @journal's write lock from the pause until the next mail is at its gate */
  guint       held_back;     /* gates that said no */
} memory;

#define TEST_TYPE_MEMORY_TRANSPORT (test_memory_transport_get_type ())
G_DECLARE_FINAL_TYPE (TestMemoryTransport, test_memory_transport, TEST, MEMORY_TRANSPORT, GObject)

struct _TestMemoryTransport
{
  GObject  parent_instance;
  gboolean open;
  char    *last_taken;   /* the recipient of the last message it took */
};

static void test_memory_transport_iface_init (MrTransportInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TestMemoryTransport, test_memory_transport, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (MR_TYPE_TRANSPORT, test_memory_transport_iface_init))

static void
test_memory_transport_finalize (GObject *object)
{
  g_free (TEST_MEMORY_TRANSPORT (object)->last_taken);
  G_OBJECT_CLASS (test_memory_transport_parent_class)->finalize (object);
}

static void
test_memory_transport_class_init (TestMemoryTransportClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = test_memory_transport_finalize;
}

static void
test_memory_transport_init (TestMemoryTransport *self)
{
}

static const char *
memory_get_name (MrTransport *transport)
{
  return "memory";
}

static const char *
memory_get_label (MrTransport *transport)
{
  return "the tests' memory";
}

static gboolean
memory_open (MrTransport   *transport,
             GCancellable  *cancellable,
             GError       **error)
{
  TestMemoryTransport *self = TEST_MEMORY_TRANSPORT (transport);

  if (!self->open)
    {
      g_mutex_lock (&memory.lock);
      if (memory.fail_open > 0 && error != NULL)
        {
          memory.fail_open--;
          g_mutex_unlock (&memory.lock);
          g_set_error (error, MR_TRANSPORT_ERROR, memory.failure, "The memory does not answer");
          return FALSE;
        }
      memory.opened++;
      g_mutex_unlock (&memory.lock);
    }
  self->open = TRUE;
  return TRUE;
}

/* What a mailshot's journal says of @address now, as another process would read it: only what was
 * committed. */
static char *
journal_state_of (const char *address)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *statement = NULL;
  char *state = NULL;

  if (sqlite3_open_v2 (memory.journal, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
      sqlite3_prepare_v2 (db, "SELECT state FROM recipients WHERE address = ?", -1, &statement, NULL) == SQLITE_OK)
    {
      sqlite3_bind_text (statement, 1, address, -1, SQLITE_TRANSIENT);
      if (sqlite3_step (statement) == SQLITE_ROW)
        state = g_strdup ((const char *) sqlite3_column_text (statement, 0));
    }
  sqlite3_finalize (statement);
  sqlite3_close (db);
  return state;
}

static MrTransportResult *
memory_send (MrTransport          *transport,
             const MrSmtpEnvelope *envelope,
             GBytes               *message,
             GCancellable         *cancellable,
             GError              **error)
{
  TestMemoryTransport *self = TEST_MEMORY_TRANSPORT (transport);
  g_autoptr(MrTransportResult) result = mr_transport_result_new ();
  g_autoptr(GString) seen = g_string_new (NULL);
  guint taken = 0, kept;

  memory_open (transport, cancellable, NULL);
  /* The mail this session took last is in the journal before this one is taken. */
  if (memory.journal != NULL && self->last_taken != NULL)
    {
      g_autofree char *state = journal_state_of (self->last_taken);

      g_mutex_lock (&memory.lock);
      memory.order_checked++;
      if (g_strcmp0 (state, "accepted") != 0)
        memory.order_broken++;
      g_mutex_unlock (&memory.lock);
    }
  g_mutex_lock (&memory.lock);
  if (memory.fail_next > 0)
    {
      memory.fail_next--;
      g_mutex_unlock (&memory.lock);
      g_set_error (error, MR_TRANSPORT_ERROR, memory.failure, "The memory is busy");
      return NULL;
    }
  g_string_append_printf (seen, "%s ->", envelope->from);
  for (guint i = 0; i < envelope->recipients->len; i++)
    {
      const char *address = g_ptr_array_index (envelope->recipients, i);

      if (g_strcmp0 (address, memory.refuse) == 0)
        g_ptr_array_add (result->refused, g_strdup_printf ("%s: 550 5.1.1 No such user", address));
      else
        {
          g_string_append_printf (seen, "%s%s", taken++ ? "," : " ", address);
          g_ptr_array_add (result->accepted, g_strdup (address));
        }
    }
  if (taken == 0)
    {
      g_mutex_unlock (&memory.lock);
      g_set_error_literal (error, MR_TRANSPORT_ERROR, MR_TRANSPORT_FAILURE_PERMANENT, "Nobody to take it");
      return NULL;
    }
  g_string_append_c (seen, '\n');
  g_string_append_len (seen, g_bytes_get_data (message, NULL), (gssize) g_bytes_get_size (message));
  g_ptr_array_add (memory.messages, g_string_free (g_steal_pointer (&seen), FALSE));
  g_hash_table_add (memory.threads, g_thread_self ());
  kept = memory.messages->len;
  g_mutex_unlock (&memory.lock);
  g_free (self->last_taken);
  self->last_taken = g_strdup (g_ptr_array_index (envelope->recipients, 0));
  if (memory.pause_at > 0 && kept == memory.pause_at)
    {
      g_autoptr(MrMailshotJournal) other = mr_mailshot_journal_open (memory.journal, NULL);

      g_assert_true (mr_mailshot_set_state (other, memory.pause_job, "paused", NULL));
      /* The commit that would see the pause waits (the journal's busy timeout) until the next mail
       * has begun and waits at its gate: the gate, not the check before the send, must stop it. */
      g_assert_cmpint (sqlite3_open_v2 (memory.journal, &memory.blocker, SQLITE_OPEN_READWRITE, NULL), ==, SQLITE_OK);
      g_assert_cmpint (sqlite3_exec (memory.blocker, "BEGIN IMMEDIATE", NULL, NULL, NULL), ==, SQLITE_OK);
    }
  result->reply = g_strdup ("250 kept in memory");
  return g_steal_pointer (&result);
}

/* As SMTP does: the envelope is taken, the gate is asked, and only then does the message go. */
static MrTransportResult *
memory_send_gated (MrTransport          *transport,
                   const MrSmtpEnvelope *envelope,
                   GBytes               *message,
                   MrSendGate            gate,
                   gpointer              gate_data,
                   GCancellable         *cancellable,
                   GError              **error)
{
  if (memory.blocker != NULL)
    {
      sqlite3_exec (memory.blocker, "ROLLBACK", NULL, NULL, NULL);
      sqlite3_close (g_steal_pointer (&memory.blocker));
    }
  if (!gate (gate_data))
    {
      g_mutex_lock (&memory.lock);
      memory.held_back++;
      g_mutex_unlock (&memory.lock);
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "Held back");
      return NULL;
    }
  return memory_send (transport, envelope, message, cancellable, error);
}

static void
memory_close (MrTransport *transport)
{
  TestMemoryTransport *self = TEST_MEMORY_TRANSPORT (transport);

  if (self->open)
    {
      g_mutex_lock (&memory.lock);
      memory.closed++;
      g_mutex_unlock (&memory.lock);
    }
  self->open = FALSE;
}

static void
test_memory_transport_iface_init (MrTransportInterface *iface)
{
  iface->get_name = memory_get_name;
  iface->get_label = memory_get_label;
  iface->open = memory_open;
  iface->send = memory_send;
  iface->send_gated = memory_send_gated;
  iface->close = memory_close;
}

static MrTransport *
memory_new (MrSettings  *settings,
            const char  *app,
            const char  *password,
            GError     **error)
{
  g_mutex_lock (&memory.lock);
  memory.made++;
  g_mutex_unlock (&memory.lock);
  return g_object_new (TEST_TYPE_MEMORY_TRANSPORT, NULL);
}

static void
memory_reset (void)
{
  g_mutex_lock (&memory.lock);
  g_ptr_array_set_size (memory.messages, 0);
  g_hash_table_remove_all (memory.threads);
  memory.opened = memory.closed = memory.made = memory.fail_next = memory.fail_open = 0;
  g_clear_pointer (&memory.refuse, g_free);
  g_clear_pointer (&memory.journal, g_free);
  memory.order_checked = memory.order_broken = memory.pause_at = memory.held_back = 0;
  memory.pause_job = 0;
  g_mutex_unlock (&memory.lock);
}

static MrSettings *
settings_from (void)
{
  MrSettings *settings = mr_settings_new (NULL, NULL);

  g_assert_true (mr_settings_load (settings, NULL));
  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "sender.from_address", "office@example.com");
  mr_test_set_ok (settings, MR_SCOPE_COMPANY, "sender.from_name", "Example Office");
  return settings;
}

/* ---- The failure model ------------------------------------------------------------------------ */

static void
test_failure_model (void)
{
  static const struct {
    GQuark            (*domain) (void);
    int               code;
    guint             reply_code;
    const char       *enhanced;
    MrTransportFailure failure;
    gboolean          fallback, temporary, stops_all;
  } cases[] = {
    { mr_smtp_error_quark, MR_SMTP_ERROR_CONNECT, 0, NULL, MR_TRANSPORT_FAILURE_UNREACHABLE, TRUE, TRUE, TRUE },
    { mr_smtp_error_quark, MR_SMTP_ERROR_RESOLVE, 0, NULL, MR_TRANSPORT_FAILURE_UNREACHABLE, TRUE, TRUE, TRUE },
    { mr_smtp_error_quark, MR_SMTP_ERROR_TIMEOUT, 0, NULL, MR_TRANSPORT_FAILURE_TIMEOUT, TRUE, TRUE, FALSE },
    { mr_smtp_error_quark, MR_SMTP_ERROR_CONNECTION_LOST, 0, NULL, MR_TRANSPORT_FAILURE_TEMPORARY, FALSE, TRUE, FALSE },
    { mr_smtp_error_quark, MR_SMTP_ERROR_TLS_UNTRUSTED, 0, NULL, MR_TRANSPORT_FAILURE_NOT_SET_UP, TRUE, FALSE, TRUE },
    { mr_smtp_error_quark, MR_SMTP_ERROR_SENDMAIL, 0, NULL, MR_TRANSPORT_FAILURE_NOT_SET_UP, TRUE, FALSE, TRUE },
    { mr_smtp_error_quark, MR_SMTP_ERROR_AUTH_FAILED, 535, "5.7.8", MR_TRANSPORT_FAILURE_LOGIN, TRUE, FALSE, TRUE },
    { mr_smtp_error_quark, MR_SMTP_ERROR_PASSWORD_MISSING, 0, NULL, MR_TRANSPORT_FAILURE_LOGIN, TRUE, FALSE, TRUE },
    { mr_smtp_error_quark, MR_SMTP_ERROR_TEMPORARY, 451, "4.3.0", MR_TRANSPORT_FAILURE_TEMPORARY, FALSE, TRUE, FALSE },
    { mr_smtp_error_quark, MR_SMTP_ERROR_TEMPORARY, 421, "4.7.0", MR_TRANSPORT_FAILURE_SLOW_DOWN, FALSE, TRUE, FALSE },
    { mr_smtp_error_quark, MR_SMTP_ERROR_REJECTED, 550, "5.7.139", MR_TRANSPORT_FAILURE_SENDER_REFUSED, TRUE, FALSE, FALSE },
    { mr_smtp_error_quark, MR_SMTP_ERROR_REJECTED, 550, "5.1.1", MR_TRANSPORT_FAILURE_PERMANENT, FALSE, FALSE, FALSE },
    { mr_smtp_error_quark, MR_SMTP_ERROR_TOO_BIG, 552, "5.3.4", MR_TRANSPORT_FAILURE_PERMANENT, FALSE, FALSE, FALSE },
    { mr_smtp_error_quark, MR_SMTP_ERROR_PROTOCOL, 0, NULL, MR_TRANSPORT_FAILURE_BROKEN, FALSE, TRUE, TRUE },
    { mr_exchange_error_quark, MR_EXCHANGE_ERROR_UNREACHABLE, 0, NULL, MR_TRANSPORT_FAILURE_UNREACHABLE, TRUE, TRUE, TRUE },
    { mr_exchange_error_quark, MR_EXCHANGE_ERROR_BUSY, 0, NULL, MR_TRANSPORT_FAILURE_SLOW_DOWN, FALSE, TRUE, FALSE },
    { mr_exchange_error_quark, MR_EXCHANGE_ERROR_SIGN_IN_REQUIRED, 0, NULL, MR_TRANSPORT_FAILURE_LOGIN, TRUE, FALSE, TRUE },
    { mr_exchange_error_quark, MR_EXCHANGE_ERROR_SEND_AS_DENIED, 0, NULL, MR_TRANSPORT_FAILURE_LOGIN, TRUE, FALSE, TRUE },
    { mr_exchange_error_quark, MR_EXCHANGE_ERROR_RECIPIENT_REFUSED, 0, NULL, MR_TRANSPORT_FAILURE_PERMANENT, FALSE, FALSE, FALSE },
    { mr_exchange_error_quark, MR_EXCHANGE_ERROR_NOT_SET_UP, 0, NULL, MR_TRANSPORT_FAILURE_NOT_SET_UP, TRUE, FALSE, TRUE },
    { mr_settings_error_quark, MR_SETTINGS_ERROR_INVALID_VALUE, 0, NULL, MR_TRANSPORT_FAILURE_NOT_SET_UP, TRUE, FALSE, TRUE },
    { mr_transport_error_quark, MR_TRANSPORT_FAILURE_TEMPORARY, 0, NULL, MR_TRANSPORT_FAILURE_TEMPORARY, FALSE, TRUE, FALSE },
    { g_io_error_quark, G_IO_ERROR_CANCELLED, 0, NULL, MR_TRANSPORT_FAILURE_CANCELLED, FALSE, FALSE, TRUE },
    { g_io_error_quark, G_IO_ERROR_FAILED, 0, NULL, MR_TRANSPORT_FAILURE_UNKNOWN, FALSE, FALSE, TRUE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      MrTransportFailure failure;

      if (cases[i].domain == mr_smtp_error_quark)
        mr_smtp_set_error (&error, cases[i].code, cases[i].reply_code, cases[i].enhanced,
                           cases[i].reply_code ? "said the server" : NULL, NULL);
      else
        error = g_error_new_literal (cases[i].domain (), cases[i].code, "failed");
      failure = mr_transport_error_get_failure (error);
      g_test_message ("case %u: %s", i, error->message);
      g_assert_cmpint (failure, ==, cases[i].failure);
      g_assert_cmpint (mr_transport_failure_allows_fallback (failure), ==, cases[i].fallback);
      g_assert_cmpint (mr_transport_failure_is_temporary (failure), ==, cases[i].temporary);
      g_assert_cmpint (mr_transport_failure_stops_all (failure), ==, cases[i].stops_all);
    }

  /* Failures alike in a run: the server's codes, not its words. */
  {
    g_autoptr(GError) one = NULL;
    g_autoptr(GError) two = NULL;
    g_autofree char *kind_one = NULL;
    g_autofree char *kind_two = NULL;

    mr_smtp_set_error (&one, MR_SMTP_ERROR_REJECTED, 550, "5.1.1", "No such user: ann@example.org", NULL);
    mr_smtp_set_error (&two, MR_SMTP_ERROR_REJECTED, 550, "5.1.1", "No such user: bob@example.org", NULL);
    kind_one = mr_transport_error_dup_kind (one);
    kind_two = mr_transport_error_dup_kind (two);
    g_assert_cmpstr (kind_one, ==, kind_two);
    g_assert_cmpstr (kind_one, ==, "550 5.1.1");
  }
}

/* ---- Routes ----------------------------------------------------------------------------------- */

static void
test_routes (MrTestDirs    *dirs,
             gconstpointer  data)
{
  g_autoptr(MrSettings) settings = settings_from ();
  g_autoptr(GError) error = NULL;
  g_autoptr(MrRouter) router = NULL;

  g_assert_true (mr_router_has_route ("smtp"));
  g_assert_true (mr_router_has_route ("exchange"));
  g_assert_true (mr_router_has_route ("auto"));
  g_assert_true (mr_router_has_route ("memory"));
  g_assert_false (mr_router_has_route ("carrier-pigeon"));
  g_assert_null (mr_router_new (settings, NULL, "carrier-pigeon", NULL, &error));
  g_assert_error (error, MR_TRANSPORT_ERROR, MR_TRANSPORT_FAILURE_NOT_SET_UP);
  g_assert_nonnull (strstr (error->message, "carrier-pigeon"));
  g_clear_error (&error);

  /* No SMTP server yet: the route is made, and says why it cannot send when asked. */
  router = mr_router_new (settings, NULL, "smtp", NULL, &error);
  g_assert_no_error (error);
  g_assert_false (mr_router_check (router, &error));
  g_assert_error (error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_INVALID_VALUE);
  g_assert_cmpint (mr_transport_error_get_failure (error), ==, MR_TRANSPORT_FAILURE_NOT_SET_UP);
  g_assert_cmpstr (mr_transport_get_name (MR_TRANSPORT (router)), ==, "smtp");
  g_clear_error (&error);
  g_clear_object (&router);

  router = mr_router_new (settings, NULL, "memory", NULL, &error);
  g_assert_no_error (error);
  g_assert_true (mr_router_check (router, NULL));
  g_assert_cmpstr (mr_transport_get_name (MR_TRANSPORT (router)), ==, "memory");
  g_assert_cmpstr (mr_transport_get_label (MR_TRANSPORT (router)), ==, "the tests' memory");
}

/* ---- The outbox through a transport of the tests' own ----------------------------------------- */

static MrOutgoing *
letter_to (const char *first,
           const char *second)
{
  MrOutgoing *outgoing = mr_outgoing_new ();

  g_ptr_array_add (outgoing->to, g_strdup (first));
  if (second != NULL)
    g_ptr_array_add (outgoing->to, g_strdup (second));
  outgoing->subject = g_strdup ("Your invoice");
  outgoing->text_body = g_strdup ("Dear Ann,\nyour invoice is attached.\n");
  return outgoing;
}

static void
test_outbox (MrTestDirs    *dirs,
             gconstpointer  data)
{
  g_autoptr(MrSettings) settings = settings_from ();
  g_autoptr(MrSentLog) log = mr_sent_log_open (NULL, NULL);
  g_autoptr(MrOutgoing) first = letter_to ("ann@example.org", NULL);
  g_autoptr(MrOutgoing) second = letter_to ("bob@example.org", "nobody@example.org");
  g_autoptr(MrOutgoing) third = letter_to ("cid@example.org", NULL);
  g_autoptr(MrSendReport) report = NULL;
  g_autoptr(MrSentEntry) entry = NULL;
  g_autoptr(GPtrArray) attempts = NULL;
  g_autoptr(GPtrArray) reports = NULL;
  g_autoptr(GError) error = NULL;
  const char *kept;

  memory_reset ();
  report = mr_outbox_send_sync (settings, log, NULL, "memory", first, "Invoice", "full", NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (report->state, ==, MR_SENT_STATE_ACCEPTED);
  g_assert_cmpstr (report->route, ==, "memory");
  g_assert_cmpstr (report->reply, ==, "250 kept in memory");
  g_assert_cmpuint (memory.messages->len, ==, 1);
  kept = g_ptr_array_index (memory.messages, 0);
  g_assert_true (g_str_has_prefix (kept, "office@example.com -> ann@example.org\n"));
  g_assert_nonnull (strstr (kept, "From: Example Office <office@example.com>"));
  g_assert_nonnull (strstr (kept, "Subject: Your invoice"));
  /* The session the outbox opened for the mail is closed after it. */
  g_assert_cmpuint (memory.opened, ==, 1);
  g_assert_cmpuint (memory.closed, ==, 1);
  entry = mr_sent_log_get (log, report->id, &error);
  g_assert_cmpstr (entry->route, ==, "memory");
  g_clear_pointer (&report, mr_send_report_free);
  g_clear_pointer (&entry, mr_sent_entry_free);

  /* One recipient refused while the other is taken: partly accepted, the refusal in words. */
  memory.refuse = g_strdup ("nobody@example.org");
  report = mr_outbox_send_sync (settings, log, NULL, "memory", second, NULL, "full", NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (report->state, ==, MR_SENT_STATE_PARTLY_ACCEPTED);
  g_assert_cmpuint (g_strv_length (report->refused), ==, 1);
  g_assert_true (g_str_has_prefix (report->refused[0], "nobody@example.org"));
  g_clear_pointer (&report, mr_send_report_free);

  /* Refused for now: it waits in the outbox, and goes through the same transport when due. */
  memory.fail_next = 1;
  memory.failure = MR_TRANSPORT_FAILURE_TEMPORARY;
  report = mr_outbox_send_sync (settings, log, NULL, "memory", third, NULL, "full", NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (report->state, ==, MR_SENT_STATE_QUEUED);
  g_assert_cmpstr (report->reply, ==, "The memory is busy");
  reports = mr_outbox_process_sync (settings, log, G_MAXINT64, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (reports->len, ==, 1);
  g_assert_cmpint (((MrSendReport *) g_ptr_array_index (reports, 0))->state, ==, MR_SENT_STATE_ACCEPTED);
  g_assert_cmpstr (((MrSendReport *) g_ptr_array_index (reports, 0))->route, ==, "memory");
  attempts = mr_sent_log_get_attempts (log, report->id, NULL);
  g_assert_cmpuint (attempts->len, ==, 2);
  g_assert_cmpstr (((MrSentAttempt *) g_ptr_array_index (attempts, 0))->outcome, ==, "temporary");
  g_assert_cmpstr (((MrSentAttempt *) g_ptr_array_index (attempts, 1))->outcome, ==, "accepted");
  g_assert_cmpuint (memory.messages->len, ==, 3);
}

/* ---- A mailshot through it -------------------------------------------------------------------- */

/* A job of @rows recipients (p0@example.org, …) through the memory route over @connections, in
 * @journal; its template and list are written in the test's folder. */
static gint64
memory_job (MrTestDirs        *dirs,
            MrSettings        *settings,
            MrMailshotJournal *journal,
            guint              rows,
            guint              connections)
{
  g_autofree char *template_path = g_build_filename (dirs->root, "invite.json", NULL);
  g_autofree char *list = g_build_filename (dirs->root, "list.csv", NULL);
  g_autoptr(MrTemplate) template_ = NULL;
  g_autoptr(GString) csv = g_string_new ("email,name\n");
  MrMailshotOptions options = MR_MAILSHOT_OPTIONS_INIT;
  g_autoptr(GError) error = NULL;
  gint64 job;

  mr_test_write_file (template_path, "{\"schema_version\": 1, \"name\": \"Invite\", \"subject\": \"For {{name}}\","
                                     " \"text\": \"Dear {{name}}, see you.\"}");
  template_ = mr_template_load (template_path, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < rows; i++)
    g_string_append_printf (csv, "p%u@example.org,P%u\n", i, i);
  mr_test_write_file (list, csv->str);
  options.route = "memory";
  options.connections = connections;
  options.per_minute = 0;
  options.per_day = 0;
  job = mr_mailshot_create (journal, settings, template_, list, &options, NULL, &error);
  g_assert_no_error (error);
  return job;
}

static void
test_mailshot (MrTestDirs    *dirs,
               gconstpointer  data)
{
  g_autoptr(MrSettings) settings = settings_from ();
  g_autoptr(MrMailshotJournal) journal = mr_mailshot_journal_open (NULL, NULL);
  g_autoptr(MrMailshotStatus) status = NULL;
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GError) error = NULL;
  gint64 job;

  memory_reset ();
  job = memory_job (dirs, settings, journal, 60, 3);
  g_assert_true (mr_mailshot_run_sync (journal, settings, job, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  status = mr_mailshot_get_status (journal, job, NULL);
  g_assert_cmpstr (status->state, ==, "done");
  g_assert_cmpuint (status->accepted, ==, 60);
  g_assert_cmpuint (status->pending, ==, 0);

  /* Each once, over one transport a worker, each opened and closed. */
  g_assert_cmpuint (memory.messages->len, ==, 60);
  for (guint i = 0; i < memory.messages->len; i++)
    {
      const char *kept = g_ptr_array_index (memory.messages, i);
      const char *arrow = strstr (kept, "-> ");

      g_assert_nonnull (arrow);
      g_assert_true (g_hash_table_add (seen, g_strndup (arrow + 3, strcspn (arrow + 3, "\n"))));
    }
  g_assert_cmpuint (memory.made, >=, 3);
  g_assert_cmpuint (memory.opened, ==, 3);
  g_assert_cmpuint (memory.closed, ==, 3);
  g_assert_cmpuint (g_hash_table_size (memory.threads), ==, 3);
}

/* No transport takes a mail before the outcome of the one it took before is committed to the journal
 * (so a crash duplicates at most one mail a connection), though the workers no longer wait for that
 * commit before they begin the next mail: the gate holds its end. */
static void
test_mailshot_commit_order (MrTestDirs    *dirs,
                            gconstpointer  data)
{
  g_autoptr(MrSettings) settings = settings_from ();

  for (guint connections = 1; connections <= 3; connections += 2)
    {
      g_autofree char *name = g_strdup_printf ("journal-%u.db", connections);
      g_autofree char *path = g_build_filename (dirs->root, name, NULL);
      g_autoptr(GError) error = NULL;
      g_autoptr(MrMailshotJournal) journal = mr_mailshot_journal_open (path, &error);
      g_autoptr(MrMailshotStatus) status = NULL;
      gint64 job;

      g_assert_no_error (error);
      memory_reset ();
      memory.journal = g_strdup (path);
      job = memory_job (dirs, settings, journal, 40, connections);
      g_assert_true (mr_mailshot_run_sync (journal, settings, job, NULL, NULL, NULL, &error));
      g_assert_no_error (error);
      status = mr_mailshot_get_status (journal, job, NULL);
      g_assert_cmpuint (status->accepted, ==, 40);
      g_assert_cmpuint (memory.messages->len, ==, 40);
      g_assert_cmpuint (memory.order_checked, >=, 40 - connections);
      g_assert_cmpuint (memory.order_broken, ==, 0);
    }
}

/* Paused from elsewhere while a mail waits at the gate: the mail is held back, not taken, and waits
 * for the resume with the others; nobody is left "sending". */
static void
test_mailshot_held_back (MrTestDirs    *dirs,
                         gconstpointer  data)
{
  g_autoptr(MrSettings) settings = settings_from ();
  g_autofree char *path = g_build_filename (dirs->root, "journal.db", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(MrMailshotJournal) journal = mr_mailshot_journal_open (path, &error);
  g_autoptr(MrMailshotStatus) status = NULL;
  gint64 job;

  g_assert_no_error (error);
  memory_reset ();
  job = memory_job (dirs, settings, journal, 20, 1);

  /* Taking the fifth pauses the job: the commit of its outcome sees it, and the sixth, already
   * begun, is held at the gate. */
  memory.journal = g_strdup (path);
  memory.pause_job = job;
  memory.pause_at = 5;
  g_assert_false (mr_mailshot_run_sync (journal, settings, job, NULL, NULL, NULL, &error));
  g_assert_error (error, MR_MAILSHOT_ERROR, MR_MAILSHOT_ERROR_PAUSED);
  g_clear_error (&error);
  g_assert_cmpuint (memory.messages->len, ==, 5);
  g_assert_cmpuint (memory.held_back, ==, 1);
  status = mr_mailshot_get_status (journal, job, NULL);
  g_assert_cmpstr (status->state, ==, "paused");
  g_assert_cmpuint (status->accepted, ==, 5);
  g_assert_cmpuint (status->pending, ==, 15);

  /* Resumed: the other fifteen go, each once. */
  memory.pause_at = 0;
  g_assert_true (mr_mailshot_run_sync (journal, settings, job, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_clear_pointer (&status, mr_mailshot_status_free);
  status = mr_mailshot_get_status (journal, job, NULL);
  g_assert_cmpstr (status->state, ==, "done");
  g_assert_cmpuint (status->accepted, ==, 20);
  g_assert_cmpuint (memory.messages->len, ==, 20);
}

/* A transport that cannot open a session, mail after mail, for a reason that is not the rows': after
 * ten in a row the job pauses, and those ten wait for the resume, rather than the whole list failing
 * one by one. */
static void
test_mailshot_open_failures (MrTestDirs    *dirs,
                             gconstpointer  data)
{
  g_autoptr(MrSettings) settings = settings_from ();
  g_autoptr(MrMailshotJournal) journal = mr_mailshot_journal_open (NULL, NULL);
  g_autoptr(MrMailshotStatus) status = NULL;
  g_autoptr(GError) error = NULL;
  gint64 job;

  memory_reset ();
  memory.fail_open = 1000;
  memory.failure = MR_TRANSPORT_FAILURE_TIMEOUT;
  job = memory_job (dirs, settings, journal, 15, 1);
  g_assert_false (mr_mailshot_run_sync (journal, settings, job, NULL, NULL, NULL, &error));
  g_assert_error (error, MR_MAILSHOT_ERROR, MR_MAILSHOT_ERROR_PAUSED);
  g_assert_nonnull (strstr (error->message, "10 mails in a row"));
  status = mr_mailshot_get_status (journal, job, NULL);
  g_assert_cmpstr (status->state, ==, "paused");
  g_assert_cmpuint (status->pending, ==, 15);
  g_assert_cmpuint (memory.messages->len, ==, 0);
}

/* ---- From the main loop ----------------------------------------------------------------------- */

/* The result of mr_transport_send_async() or of mr_transport_send_one_async(), by the call's tag. */
static void
got_result (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  MrTransportResult **out = user_data;
  g_autoptr(GError) error = NULL;

  if (g_async_result_is_tagged (result, mr_transport_send_one_async))
    *out = mr_transport_send_one_finish (MR_TRANSPORT (source), result, &error);
  else
    *out = mr_transport_send_finish (MR_TRANSPORT (source), result, &error);
  g_assert_no_error (error);
}

static void
got_failure (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  GError **out = user_data;

  g_assert_null (mr_transport_send_finish (MR_TRANSPORT (source), result, out));
}

static void
test_async (MrTestDirs    *dirs,
            gconstpointer  data)
{
  g_autoptr(MrSettings) settings = settings_from ();
  g_autoptr(MrRouter) router = mr_router_new (settings, NULL, "memory", NULL, NULL);
  g_autoptr(MrSmtpEnvelope) envelope = mr_smtp_envelope_new ("office@example.com");
  g_autoptr(GBytes) message = g_bytes_new_static ("Subject: hi\r\n\r\nhi\r\n", 19);
  g_autoptr(MrTransportResult) result = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  GError *error = NULL;

  memory_reset ();
  mr_smtp_envelope_add_recipient (envelope, "ann@example.org");
  mr_transport_send_async (MR_TRANSPORT (router), envelope, message, NULL, got_result, &result);
  /* The envelope is the caller's again at once. */
  g_ptr_array_set_size (envelope->recipients, 0);
  mr_smtp_envelope_add_recipient (envelope, "bob@example.org");
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpstr (result->reply, ==, "250 kept in memory");
  g_assert_cmpuint (result->accepted->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (result->accepted, 0), ==, "ann@example.org");
  g_assert_true (g_str_has_prefix (g_ptr_array_index (memory.messages, 0), "office@example.com -> ann@example.org\n"));
  g_assert_false (g_hash_table_contains (memory.threads, g_thread_self ()));

  /* One message on its own: sent, and the session ended, in the thread. */
  g_clear_pointer (&result, mr_transport_result_free);
  g_assert_cmpuint (memory.closed, ==, 0);
  mr_transport_send_one_async (MR_TRANSPORT (router), envelope, message, NULL, got_result, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (memory.closed, ==, 1);
  g_assert_cmpuint (memory.messages->len, ==, 2);
  g_assert_true (g_str_has_prefix (g_ptr_array_index (memory.messages, 1), "office@example.com -> bob@example.org\n"));

  /* Cancelled before it goes: nothing sent, and the failure says so. */
  g_cancellable_cancel (cancellable);
  mr_transport_send_async (MR_TRANSPORT (router), envelope, message, cancellable, got_failure, &error);
  while (error == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (mr_transport_error_get_failure (error), ==, MR_TRANSPORT_FAILURE_CANCELLED);
  g_clear_error (&error);
  g_assert_cmpuint (memory.messages->len, ==, 2);
}

int
main (int    argc,
      char **argv)
{
  mr_test_init (&argc, &argv);
  g_mutex_init (&memory.lock);
  memory.messages = g_ptr_array_new_with_free_func (g_free);
  memory.threads = g_hash_table_new (NULL, NULL);
  /* The one line a transport asks of the router, here from outside the engine. */
  mr_router_register_transport ("memory", memory_new);

#define ADD(path, func) g_test_add (path, MrTestDirs, NULL, mr_test_dirs_setup, func, mr_test_dirs_teardown)
  g_test_add_func ("/transport/failure-model", test_failure_model);
  ADD ("/transport/routes", test_routes);
  ADD ("/transport/outbox", test_outbox);
  ADD ("/transport/mailshot", test_mailshot);
  ADD ("/transport/mailshot-open-failures", test_mailshot_open_failures);
  ADD ("/transport/mailshot-commit-order", test_mailshot_commit_order);
  ADD ("/transport/mailshot-held-back", test_mailshot_held_back);
  ADD ("/transport/async", test_async);
  return g_test_run ();
}
