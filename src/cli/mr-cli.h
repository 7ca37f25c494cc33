/* mr-cli.h: what the command groups of mailroom-cli share
 *
 * mailroom-cli.c reads the arguments into an Invocation and hands it to a command; each group of
 * commands is a file of its own (mr-cli-settings.c, -domains, -send, -log, -mailshot, -exchange),
 * and all print through mr-cli-output.c, so that every command says things, and exits, alike.
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "mailroom-log.h"
#include "mailroom-settings.h"
#include "mailroom-transport.h"

G_BEGIN_DECLS

typedef struct {
  gboolean    json;
  gboolean    use_stdin;
  gboolean    clear;
  gboolean    verbose;
  gboolean    fresh;
  char       *app;
  char       *to;
  char       *data_file;
  GPtrArray  *vars;      /* "KEY=VALUE" */
  gboolean    mime;
  GPtrArray  *to_list;
  GPtrArray  *cc_list;
  GPtrArray  *bcc_list;
  GPtrArray  *attach_list;
  GPtrArray  *selector_list;
  char       *spf_include;
  char       *server;
  char       *template_name;
  char       *via;
  char       *since;
  char       *status;
  char       *recipients;
  char       *address_column;
  char       *rate;
  char       *dry_run;
  char       *per_day;
  char       *connections;
  char       *limit;
  char       *start;
  char       *attachments_dir;
  char       *attachment_column;
  char       *name_column;
  char       *sheet;
  char       *addresses;
  char       *exclude_rows;
  char       *count;
  char       *row;
  char       *output;
  char       *allow_host;
  gboolean    device_code;
  gboolean    send_duplicates;
  gboolean    skip_invalid;
  gboolean    save;
  GPtrArray  *args;      /* positional arguments after the command words */
  MrSettings *settings;
} Invocation;

/* ---- Output (mr-cli-output.c) ---------------------------------------------------------------- */

void mr_cli_print_json       (JsonNode     *node);
void mr_cli_print_json_error (const char   *kind,
                              const char   *message);
/* @error as the command's failure (JSON with --json), and its exit status. */
int  mr_cli_fail             (Invocation   *inv,
                              const GError *error);
/* A usage error: the message, a pointer to --help, MR_EXIT_USAGE. */
int  mr_cli_usage_error      (Invocation   *inv,
                              const char   *message);
void mr_cli_print_warnings   (GPtrArray    *warnings);
/* A JSON member @name with @value (null when NULL); with an array of strings (NULL: empty). */
void mr_cli_add_string       (JsonBuilder     *builder,
                              const char      *name,
                              const char      *value);
void mr_cli_add_string_array (JsonBuilder     *builder,
                              const char      *name,
                              const GPtrArray *items);
/* A password from standard input (--stdin): its first line. */
MrSecret *mr_cli_read_password_stdin (void);
/* Asks for a password on the terminal with echo off; NULL when there is no terminal. */
MrSecret *mr_cli_read_password (const char *prompt);

/* The transport of @route ("smtp", "exchange") for the invocation's settings and application, as
 * the router makes it; NULL with why when it cannot be made. @password: one the person typed. */
MrTransport *mr_cli_route               (Invocation            *inv,
                                         const char            *route,
                                         const char            *password,
                                         GError               **error);
/* After a failure for want of a password the keyring would have given: asks for it on the
 * terminal (not with --json) and returns the route again with it, or NULL. */
MrTransport *mr_cli_route_with_password (Invocation            *inv,
                                         const char            *route,
                                         MrTransport           *transport,
                                         const GError          *error);
/* Opens and closes a session on @route (nothing sent), asking once for a password the keyring did
 * not have, and prints the transcript with --verbose. @transport: the route as checked (NULL when it
 * could not be made). A warning about the set-up goes to standard error first. */
gboolean     mr_cli_check_route         (Invocation            *inv,
                                         const char            *route,
                                         MrTransport          **transport,
                                         GError               **error);
/* With --verbose: what was said, without secrets, on standard error. */
void         mr_cli_print_transcript    (Invocation            *inv,
                                         MrTransport           *transport);

/* The sent log, with what is older than log.retention_days removed: it holds personal data. */
MrSentLog *mr_cli_open_log             (Invocation            *inv,
                                        GError               **error);
/* What a send did, as text or JSON (--json), and its exit status. */
int        mr_cli_print_report         (Invocation            *inv,
                                        MrSendReport          *report);
void       mr_cli_add_report_json      (JsonBuilder           *builder,
                                        MrSendReport          *report);
void       mr_cli_add_strv             (JsonBuilder           *builder,
                                        const char            *name,
                                        const char * const    *items);
/* "YYYY-MM-DD HH:MM", local time. */
char      *mr_cli_format_time          (gint64                 unix_time);
/* `password` for SMTP and Exchange alike: read it (terminal or --stdin) and store it, or --clear. */
int        mr_cli_store_password       (Invocation            *inv,
                                        const MrSecretAccount *account,
                                        gboolean               exchange);

/* ---- The commands, by group ------------------------------------------------------------------ */

/* mr-cli-settings.c */
int cmd_show           (Invocation *inv, MrScope scope);
int cmd_get            (Invocation *inv, MrScope scope);
int cmd_set            (Invocation *inv, MrScope scope);
int cmd_unset          (Invocation *inv, MrScope scope);
int cmd_password       (Invocation *inv, MrScope scope);
int cmd_signature      (Invocation *inv, MrScope scope);
int cmd_effective      (Invocation *inv);
int cmd_setup          (Invocation *inv, const char *address);
/* mr-cli-domains.c */
int cmd_company_domain (Invocation *inv);
int cmd_check_domain   (Invocation *inv, const char *domain);
/* mr-cli-send.c */
int cmd_check          (Invocation *inv);
int cmd_test_email     (Invocation *inv);
int cmd_templates      (Invocation *inv, const char *command);
int cmd_render         (Invocation *inv, const char *name);
int cmd_send           (Invocation *inv);
/* mr-cli-log.c */
int cmd_log            (Invocation *inv);
int cmd_outbox         (Invocation *inv, const char *command);
int cmd_resend         (Invocation *inv, const char *number);
/* mr-cli-mailshot.c */
int cmd_mailshot       (Invocation *inv, const char *command);
int cmd_suppression    (Invocation *inv, const char *command);
/* mr-cli-exchange.c */
int cmd_exchange       (Invocation *inv, const char *command);
int cmd_user_login     (Invocation *inv);

G_END_DECLS
