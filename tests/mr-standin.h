/* mr-standin.h: a local HTTPS server in place of Exchange (EWS, autodiscover), Microsoft Graph and
 * the Microsoft identity platform, for the tests
 *
 * It runs in its own thread with its own main context, so that the engine's blocking calls can be
 * tested from the test's thread, and answers with the formats the real services use. Every EWS and
 * autodiscover request body is validated against ../shared/conformance/ews/ when present; a request
 * that fails gets the fault Exchange itself sends (ErrorSchemaValidation) and is counted.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _MrStandin MrStandin;

typedef struct {
  char    *path;
  char    *host;
  char    *authorization;   /* the scheme only ("NTLM", "Basic", "Bearer"), or NULL */
  GBytes  *body;
  gint64   time;            /* monotonic µs */
} MrStandinRequest;

MrStandin  *mr_standin_start             (void);
void        mr_standin_stop              (MrStandin  *standin);
guint16     mr_standin_get_port          (MrStandin  *standin);
/* https://localhost:PORT@path */
char       *mr_standin_url               (MrStandin  *standin,
                                          const char *path);
/* From now on this process resolves names under example.test and example.net to 127.0.0.1, and
 * _autodiscover._tcp.example.test to mail.example.test at this stand-in's port (a GResolver of the
 * tests' own, set with g_resolver_set_default(); other names go to the real one). */
void        mr_standin_use_fake_dns      (MrStandin  *standin);
/* Adds a record to the fake DNS (and turns it on): "MX" with @number its preference, or "SRV" for
 * @name "_service._tcp.domain" with @number its port. A lookup of any other MX or SRV finds none. */
void        mr_standin_add_dns_record    (MrStandin  *standin,
                                          const char *type,
                                          const char *name,
                                          const char *target,
                                          guint16     number);
/* A record for the tests' resolver, no stand-in needed: "TXT", "A", "AAAA", "MX" (@value "10 host"),
 * "PTR" (@name an address) or "FAIL" (every lookup of @name times out). Names under .example
 * have only the records given. */
void        mr_test_dns_add              (const char *type,
                                          const char *name,
                                          const char *value);
/* Every name has only the records given (a test suite's own zone), until mr_test_dns_forget() with
 * the mark returned takes the records added since away and ends it. */
guint       mr_test_dns_strict           (void);
void        mr_test_dns_forget           (guint       mark);
/* From now on, @domain and the names under it have only the records given (no real DNS asked). */
void        mr_test_dns_close            (const char *domain);
gboolean    mr_test_dns_closed           (const char *name);
/* An autoconfig document (or "redirect:URL") at https://@host:PORT@path. */
void        mr_standin_set_autoconfig    (MrStandin  *standin,
                                          const char *host,
                                          const char *path,
                                          const char *document);
/* Whether the EWS schema was found (the validation runs), and how many requests failed it. */
gboolean    mr_standin_validates         (MrStandin  *standin);
guint       mr_standin_count_invalid     (MrStandin  *standin);
char       *mr_standin_dup_invalid_report (MrStandin *standin);

/* EWS answers to CreateItem / GetFolder, taken in turn (the last one repeats): "success",
 * "send-as-denied", "busy:MS" (ErrorServerBusy with BackOffMilliseconds), "fault" (a SOAP fault),
 * "mime-refused" (ErrorMimeContentConversionFailed). A draft (CreateItem SaveOnly), CreateAttachment and
 * SendItem always work, when they name the draft's current ChangeKey. */
void        mr_standin_set_ews_script    (MrStandin  *standin,
                                          const char *script);
/* Who may use EWS: "ntlm", "basic" (with @user and @password), "bearer" (an access token issued
 * here for the EWS scope) or NULL (anyone). */
void        mr_standin_set_ews_auth      (MrStandin  *standin,
                                          const char *scheme,
                                          const char *user,
                                          const char *password);
/* Autodiscover answers by host name, or by "HOST|ADDRESS" for one address: the answer is "ews:URL", "redirect-url:URL",
 * "redirect-addr:ADDRESS" or "http-redirect:URL". */
void        mr_standin_set_autodiscover  (MrStandin  *standin,
                                          const char *host,
                                          const char *answer);
/* Google's endpoints are /google/auth and /google/token (client 123-test.apps.googleusercontent.com,
 * secret GOCSPX-test). Token endpoint answers to device-code polls, in turn: "pending", "slow_down", "declined",
 * "expired", "ok". */
void        mr_standin_set_token_script  (MrStandin  *standin,
                                          const char *script);
/* Graph sendMail answers, in turn: "accepted", "error:400:CODE", "too-large", "throttle:SECONDS". */
void        mr_standin_set_graph_script  (MrStandin  *standin,
                                          const char *script);
/* The sign-in page's answers, in turn: "ok" (signed in) or "declined". It serves
 * /TENANT/oauth2/v2.0/authorize and /google/auth, and checks PKCE (S256) at the token endpoint. */
void        mr_standin_set_authorize_script (MrStandin  *standin,
                                             const char *script);
/* Access tokens asked for with a scope containing @scope_part are @token (for a real server that
 * knows the token: the SMTP server's XOAUTH2). */
void        mr_standin_set_token_for_scope  (MrStandin  *standin,
                                             const char *scope_part,
                                             const char *token);
/* Revokes every refresh token issued so far (invalid_grant on the next refresh). */
void        mr_standin_revoke_tokens     (MrStandin  *standin);

/* The requests so far to @path (NULL: all), oldest first; free with g_ptr_array_unref. */
GPtrArray  *mr_standin_get_requests      (MrStandin  *standin,
                                          const char *path);
/* What came through the last Graph upload session. */
GBytes     *mr_standin_dup_upload        (MrStandin  *standin);
/* The draft-attach-send paths as they went: EWS "draft:SUBJECT;attach:NAME;…send", Graph
 * "graph-draft:SUBJECT;attach:NAME;upload:NAME:SIZE;piece;…send". */
char       *mr_standin_dup_steps         (MrStandin  *standin);
/* The base64 MIME message of the last EWS CreateItem or Graph sendMail, decoded. */
char       *mr_standin_dup_last_mime     (MrStandin  *standin);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MrStandin, mr_standin_stop)

G_END_DECLS
