/* mr-discover.h: finding the outgoing server from an email address, as Thunderbird's account
 * setup does
 *
 * From the address's domain, in this order, and the first that answers wins:
 *   1. the bundled presets by domain (gmail.com is Gmail, outlook.com is Office 365, …);
 *   2. the domain's MX records: a provider's mail exchangers name it
 *      (*.mail.protection.outlook.com is Office 365, aspmx.l.google.com is Google Workspace,
 *      mx.zoho.* is Zoho, inbound-smtp.REGION.amazonaws.com is Amazon SES in that region);
 *   3. RFC 6186 SRV records: _submissions._tcp (TLS), then _submission._tcp (STARTTLS);
 *   4. the domain's autoconfig document, over https only and never with a password:
 *      https://autoconfig.DOMAIN/mail/config-v1.1.xml, then
 *      https://DOMAIN/.well-known/autoconfig/mail/config-v1.1.xml;
 *   5. otherwise "Other": the person fills in the server, with the provider's help page if known.
 * Each step says in words what it found or why not (MrDiscovery.steps), for the person and for
 * `mailroom-cli setup --json`. A lookup that fails or times out moves on to the next step.
 *
 * Call order: mr_discover_sync() (or _async/_finish) → mr_discovery_apply() to save it.
 * Errors: MR_SETTINGS_ERROR_INVALID_VALUE for an address that is not one; G_IO_ERROR_CANCELLED.
 */
#pragma once

#include <gio/gio.h>

#include "mr-settings.h"

G_BEGIN_DECLS

typedef enum {
  MR_DISCOVER_PRESET,       /* the domain is a provider's */
  MR_DISCOVER_MX,           /* the domain's mail exchangers are a provider's */
  MR_DISCOVER_SRV,          /* RFC 6186 */
  MR_DISCOVER_AUTOCONFIG,   /* the domain's autoconfig document */
  MR_DISCOVER_NONE,         /* nothing found: "Other" */
} MrDiscoverSource;

typedef struct {
  MrDiscoverSource  source;
  char             *found_by;    /* which step found it, in words ("The domain's mail goes to Office 365 (MX …)") */
  char             *provider;    /* a preset's id, or "other" */
  char             *provider_name; /* for people: "Office 365", "Amazon SES (eu-west-1)", "Other" */
  char             *host;        /* NULL when not found */
  guint16           port;
  char             *security;    /* "starttls", "tls" or "none" */
  char             *auth;        /* "password", "oauth2" or "none" */
  char             *username;    /* the login to suggest (often the address itself), or NULL */
  char             *help_url;    /* where the provider explains its settings, or NULL */
  GPtrArray        *steps;       /* char*, each step tried and what came of it, in order */
} MrDiscovery;

typedef struct {
  /* The port autoconfig documents are fetched from: 0 for https's 443. Tests and a local proxy
   * set another. */
  guint16       https_port;
  /* The authorities to trust for autoconfig over https: NULL for the system's. */
  GTlsDatabase *tls_database;
} MrDiscoverOptions;

MrDiscovery *mr_discover_sync    (const char               *address,
                                  const MrDiscoverOptions  *options,
                                  GCancellable             *cancellable,
                                  GError                  **error);
void         mr_discover_async   (const char               *address,
                                  const MrDiscoverOptions  *options,
                                  GCancellable             *cancellable,
                                  GAsyncReadyCallback       callback,
                                  gpointer                  user_data);
MrDiscovery *mr_discover_finish  (GAsyncResult             *result,
                                  GError                  **error);
void         mr_discovery_free   (MrDiscovery              *discovery);

const char  *mr_discover_source_to_string (MrDiscoverSource source);

/* What an autoconfig document (Thunderbird's clientConfig format, as fetched) says for @address:
 * its SMTP server, TLS before STARTTLS before none; NULL when it names none or is not one. */
MrDiscovery *mr_discovery_from_autoconfig (const char *document,
                                           gsize       length,
                                           const char *address);

/* Saves what was found in the @scope layer: for MR_SCOPE_COMPANY the provider (with its preset),
 * the server, security, authentication, the login and the company's From address; for
 * MR_SCOPE_USER the person's address (user.email), their login and, where no lock forbids it, the
 * server. Errors: those of mr_settings_commit() (a company file the caller may not write, a lock). */
gboolean     mr_discovery_apply  (const MrDiscovery        *discovery,
                                  MrSettings               *settings,
                                  MrScope                   scope,
                                  const char               *address,
                                  GError                  **error);

/* Who logs in to the server mr_discovery_apply() saved, and with which login name: for
 * MR_SCOPE_COMPANY with @per_user FALSE the company's one login (smtp.credentials = company);
 * with @per_user TRUE each person logs in with their own (smtp.credentials = per-user, the
 * company's login name is removed, and @username becomes the admin's own, with user.email set to
 * @address). For MR_SCOPE_USER the person's own login. @password_scope: where the password for
 * @username then belongs (mr_settings_get_account()). Errors: those of mr_settings_commit(). */
gboolean     mr_discovery_apply_login (MrSettings  *settings,
                                       MrScope      scope,
                                       gboolean     per_user,
                                       const char  *address,
                                       const char  *username,
                                       MrScope     *password_scope,
                                       GError     **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MrDiscovery, mr_discovery_free)

G_END_DECLS
