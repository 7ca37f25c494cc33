/* mr-error.c: every engine error as a stable kind and a sysexits status (docs/cli.md) */

#include "config.h"

#include <gio/gio.h>

#include "mr-domain-proof.h"
#include "mr-error.h"
#include "mr-exchange.h"
#include "mr-mailshot.h"
#include "mr-mustache.h"
#include "mr-outbox.h"
#include "mr-recipients.h"
#include "mr-secrets.h"
#include "mr-sent-log.h"
#include "mr-settings-error.h"
#include "mr-smtp-error.h"

typedef struct {
  GQuark       (*domain) (void);
  int          code;
  const char  *kind;
  MrExitStatus status;
} ErrorRow;

static const ErrorRow rows[] = {
  { mr_settings_error_quark, MR_SETTINGS_ERROR_INVALID_VALUE,   "invalid-value",       MR_EXIT_DATA },
  { mr_settings_error_quark, MR_SETTINGS_ERROR_UNKNOWN_KEY,     "unknown-key",         MR_EXIT_DATA },
  { mr_settings_error_quark, MR_SETTINGS_ERROR_KEY_LOCKED,      "key-locked",          MR_EXIT_NOT_PERMITTED },
  { mr_settings_error_quark, MR_SETTINGS_ERROR_FILE_CORRUPT,    "file-corrupt",        MR_EXIT_DATA },
  { mr_settings_error_quark, MR_SETTINGS_ERROR_FILE_UNREADABLE, "file-unreadable",     MR_EXIT_NO_INPUT },
  { mr_settings_error_quark, MR_SETTINGS_ERROR_FILE_UNWRITABLE, "file-unwritable",     MR_EXIT_NOT_PERMITTED },
  { mr_settings_error_quark, MR_SETTINGS_ERROR_WRITE_FAILED,    "write-failed",        MR_EXIT_CANT_CREATE },
  { mr_secrets_error_quark,  MR_SECRETS_ERROR_UNAVAILABLE,      "keyring-unavailable", MR_EXIT_UNAVAILABLE },
  { mr_secrets_error_quark,  MR_SECRETS_ERROR_LOCKED,           "keyring-locked",      MR_EXIT_UNAVAILABLE },
  { mr_secrets_error_quark,  MR_SECRETS_ERROR_FAILED,           "keyring-failed",      MR_EXIT_SOFTWARE },
  { mr_smtp_error_quark,     MR_SMTP_ERROR_RESOLVE,             "resolve-failed",      MR_EXIT_UNAVAILABLE },
  { mr_domain_error_quark,   MR_DOMAIN_ERROR_NOT_ADDED,         "domain-not-added",    MR_EXIT_DATA },
  { mr_domain_error_quark,   MR_DOMAIN_ERROR_NOT_PUBLISHED,     "domain-not-proved",   MR_EXIT_DATA },
  { mr_domain_error_quark,   MR_DOMAIN_ERROR_UNREACHABLE,       "dns-unreachable",     MR_EXIT_UNAVAILABLE },
  { mr_smtp_error_quark,     MR_SMTP_ERROR_CONNECT,             "connect-failed",      MR_EXIT_UNAVAILABLE },
  { mr_smtp_error_quark,     MR_SMTP_ERROR_TIMEOUT,             "timeout",             MR_EXIT_TEMPFAIL },
  { mr_smtp_error_quark,     MR_SMTP_ERROR_CONNECTION_LOST,     "connection-lost",     MR_EXIT_TEMPFAIL },
  { mr_smtp_error_quark,     MR_SMTP_ERROR_TLS_UNTRUSTED,       "tls-untrusted",       MR_EXIT_CONFIG },
  { mr_smtp_error_quark,     MR_SMTP_ERROR_TLS_FAILED,          "tls-failed",          MR_EXIT_PROTOCOL },
  { mr_smtp_error_quark,     MR_SMTP_ERROR_STARTTLS_MISSING,    "starttls-missing",    MR_EXIT_CONFIG },
  { mr_smtp_error_quark,     MR_SMTP_ERROR_AUTH_UNAVAILABLE,    "auth-unavailable",    MR_EXIT_CONFIG },
  { mr_smtp_error_quark,     MR_SMTP_ERROR_AUTH_INSECURE,       "auth-insecure",       MR_EXIT_CONFIG },
  { mr_smtp_error_quark,     MR_SMTP_ERROR_AUTH_FAILED,         "auth-failed",         MR_EXIT_NOT_PERMITTED },
  { mr_smtp_error_quark,     MR_SMTP_ERROR_PASSWORD_MISSING,    "password-missing",    MR_EXIT_CONFIG },
  { mr_smtp_error_quark,     MR_SMTP_ERROR_TOO_BIG,             "too-big",             MR_EXIT_PROTOCOL },
  { mr_smtp_error_quark,     MR_SMTP_ERROR_TEMPORARY,           "temporary",           MR_EXIT_TEMPFAIL },
  { mr_smtp_error_quark,     MR_SMTP_ERROR_REJECTED,            "rejected",            MR_EXIT_PROTOCOL },
  { mr_smtp_error_quark,     MR_SMTP_ERROR_PROTOCOL,            "protocol",            MR_EXIT_PROTOCOL },
  { mr_smtp_error_quark,     MR_SMTP_ERROR_SENDMAIL,            "sendmail-failed",     MR_EXIT_PROTOCOL },
  { mr_smtp_error_quark,     MR_SMTP_ERROR_INVALID_MESSAGE,     "invalid-message",     MR_EXIT_DATA },
  { mr_template_error_quark, MR_TEMPLATE_ERROR_SYNTAX,          "template-syntax",     MR_EXIT_DATA },
  { mr_template_error_quark, MR_TEMPLATE_ERROR_MISSING_VARIABLE, "missing-variable",   MR_EXIT_DATA },
  { mr_template_error_quark, MR_TEMPLATE_ERROR_TOO_DEEP,        "template-too-deep",   MR_EXIT_DATA },
  { mr_template_error_quark, MR_TEMPLATE_ERROR_INVALID,         "template-invalid",    MR_EXIT_DATA },
  { mr_template_error_quark, MR_TEMPLATE_ERROR_NOT_FOUND,       "template-not-found",  MR_EXIT_NO_INPUT },
  { mr_template_error_quark, MR_TEMPLATE_ERROR_TOO_BIG,         "template-too-big",    MR_EXIT_DATA },
  { mr_sent_log_error_quark, MR_SENT_LOG_ERROR_OPEN,            "log-unavailable",     MR_EXIT_CANT_CREATE },
  { mr_sent_log_error_quark, MR_SENT_LOG_ERROR_WRITE,           "log-write-failed",    MR_EXIT_CANT_CREATE },
  { mr_sent_log_error_quark, MR_SENT_LOG_ERROR_NOT_FOUND,       "no-such-entry",       MR_EXIT_DATA },
  { mr_delivery_error_quark, MR_DELIVERY_ERROR_ROUTE_UNAVAILABLE, "route-unavailable",  MR_EXIT_USAGE },
  { mr_exchange_error_quark, MR_EXCHANGE_ERROR_NOT_SET_UP,      "exchange-not-set-up", MR_EXIT_CONFIG },
  { mr_exchange_error_quark, MR_EXCHANGE_ERROR_UNREACHABLE,     "connect-failed",      MR_EXIT_UNAVAILABLE },
  { mr_exchange_error_quark, MR_EXCHANGE_ERROR_TLS_UNTRUSTED,   "tls-untrusted",       MR_EXIT_CONFIG },
  { mr_exchange_error_quark, MR_EXCHANGE_ERROR_INSECURE,        "auth-insecure",       MR_EXIT_CONFIG },
  { mr_exchange_error_quark, MR_EXCHANGE_ERROR_AUTH_UNAVAILABLE, "auth-unavailable",   MR_EXIT_CONFIG },
  { mr_exchange_error_quark, MR_EXCHANGE_ERROR_AUTH_FAILED,     "auth-failed",         MR_EXIT_NOT_PERMITTED },
  { mr_exchange_error_quark, MR_EXCHANGE_ERROR_PASSWORD_MISSING, "password-missing",   MR_EXIT_CONFIG },
  { mr_exchange_error_quark, MR_EXCHANGE_ERROR_SIGN_IN_REQUIRED, "sign-in-required",   MR_EXIT_NOT_PERMITTED },
  { mr_exchange_error_quark, MR_EXCHANGE_ERROR_SIGN_IN_DECLINED, "sign-in-declined",   MR_EXIT_NOT_PERMITTED },
  { mr_exchange_error_quark, MR_EXCHANGE_ERROR_SIGN_IN_EXPIRED, "sign-in-expired",     MR_EXIT_TEMPFAIL },
  { mr_exchange_error_quark, MR_EXCHANGE_ERROR_SEND_AS_DENIED,  "send-as-denied",      MR_EXIT_NOT_PERMITTED },
  { mr_exchange_error_quark, MR_EXCHANGE_ERROR_RECIPIENT_REFUSED, "rejected",          MR_EXIT_PROTOCOL },
  { mr_exchange_error_quark, MR_EXCHANGE_ERROR_BUSY,            "temporary",           MR_EXIT_TEMPFAIL },
  { mr_exchange_error_quark, MR_EXCHANGE_ERROR_TOO_BIG,         "too-big",             MR_EXIT_PROTOCOL },
  { mr_exchange_error_quark, MR_EXCHANGE_ERROR_REJECTED,        "rejected",            MR_EXIT_PROTOCOL },
  { mr_exchange_error_quark, MR_EXCHANGE_ERROR_PROTOCOL,        "protocol",            MR_EXIT_PROTOCOL },
  { mr_exchange_error_quark, MR_EXCHANGE_ERROR_REDIRECT_UNCONFIRMED, "redirect-unconfirmed", MR_EXIT_NOT_PERMITTED },
  { mr_exchange_error_quark, MR_EXCHANGE_ERROR_DISCOVERY_FAILED, "discovery-failed",   MR_EXIT_UNAVAILABLE },
  { mr_mailshot_error_quark, MR_MAILSHOT_ERROR_JOURNAL,         "journal-failed",      MR_EXIT_CANT_CREATE },
  { mr_mailshot_error_quark, MR_MAILSHOT_ERROR_NOT_FOUND,       "no-such-mailshot",    MR_EXIT_DATA },
  { mr_mailshot_error_quark, MR_MAILSHOT_ERROR_BUSY,            "mailshot-busy",       MR_EXIT_TEMPFAIL },
  { mr_mailshot_error_quark, MR_MAILSHOT_ERROR_NOTHING,         "nothing-to-send",     MR_EXIT_DATA },
  { mr_mailshot_error_quark, MR_MAILSHOT_ERROR_PAUSED,          "mailshot-paused",     MR_EXIT_TEMPFAIL },
  { mr_mailshot_error_quark, MR_MAILSHOT_ERROR_ROWS,            "rows-with-errors",    MR_EXIT_DATA },
  { mr_recipients_error_quark, MR_RECIPIENTS_ERROR_NO_HEADER,   "recipients-no-header", MR_EXIT_DATA },
  { mr_recipients_error_quark, MR_RECIPIENTS_ERROR_ENCODING,    "recipients-encoding", MR_EXIT_DATA },
  { mr_recipients_error_quark, MR_RECIPIENTS_ERROR_MALFORMED,   "recipients-malformed", MR_EXIT_DATA },
  { mr_recipients_error_quark, MR_RECIPIENTS_ERROR_NO_ADDRESS_COLUMN, "no-address-column", MR_EXIT_DATA },
  { mr_recipients_error_quark, MR_RECIPIENTS_ERROR_PROTECTED,   "recipients-protected", MR_EXIT_DATA },
  { mr_recipients_error_quark, MR_RECIPIENTS_ERROR_DAMAGED,     "recipients-damaged", MR_EXIT_DATA },
  { mr_recipients_error_quark, MR_RECIPIENTS_ERROR_UNSUPPORTED, "recipients-unsupported", MR_EXIT_DATA },
  { mr_recipients_error_quark, MR_RECIPIENTS_ERROR_NO_SHEET,    "recipients-no-sheet", MR_EXIT_DATA },
  { g_io_error_quark,        G_IO_ERROR_NOT_FOUND,              "file-not-found",      MR_EXIT_NO_INPUT },
  { g_file_error_quark,      G_FILE_ERROR_ACCES,                "file-unwritable",     MR_EXIT_NOT_PERMITTED },
  { g_file_error_quark,      G_FILE_ERROR_NOENT,                "file-not-found",      MR_EXIT_NO_INPUT },
  { g_io_error_quark,        G_IO_ERROR_PERMISSION_DENIED,      "file-unreadable",     MR_EXIT_NO_INPUT },
};

static const ErrorRow *
find_row (const GError *error)
{
  for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
    if (error->domain == rows[i].domain () && error->code == rows[i].code)
      return &rows[i];
  return NULL;
}

const char *
mr_error_get_kind (const GError *error)
{
  const ErrorRow *row = find_row (error);

  if (row != NULL)
    return row->kind;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return "cancelled";
  return "internal";
}

MrExitStatus
mr_error_get_exit_status (const GError *error)
{
  const ErrorRow *row = find_row (error);

  return row != NULL ? row->status : MR_EXIT_SOFTWARE;
}
