/* mr-presets.h: provider presets (Office 365, Gmail, …)
 *
 * The data lives in presets.json in the engine's GResource, not in code. Choosing a provider fills
 * host, port, security, authentication and delivery mode; a preset may lock keys (the Office 365
 * relay accepts mail by IP address and offers no login, so its security and authentication are fixed).
 */
#pragma once

#include "mr-settings-file.h"

G_BEGIN_DECLS

typedef struct _MrPreset MrPreset;

const MrPreset * const *mr_presets_get_all          (guint           *n_presets);
const MrPreset         *mr_preset_lookup            (const char      *id);
/* The provider whose addresses are at @domain (gmail.com is Gmail), or NULL. */
const MrPreset         *mr_preset_lookup_by_domain  (const char      *domain);
/* The provider whose mail exchanger @mx_host is (*.mail.protection.outlook.com is Office 365), or NULL. */
const MrPreset         *mr_preset_lookup_by_mx      (const char      *mx_host);
/* The provider's page of settings, for a person who fills them in by hand; NULL when none. */
const char             *mr_preset_get_help_url      (const MrPreset  *preset);
/* For the deliverability checks (mr-domain-check.h): the SPF domain a customer's record includes,
 * and the DKIM selectors the provider signs with; NULL when Mailroom does not know them. */
const char             *mr_preset_get_spf_include   (const MrPreset  *preset);
const char * const     *mr_preset_get_dkim_selectors (const MrPreset *preset);

/* A login the provider fixes for everyone (SendGrid: "apikey", the password being the API key). */
const char             *mr_preset_get_username      (const MrPreset  *preset);
/* Whether mail goes out with the provider's own envelope sender (Brevo; Amazon SES without a custom
 * MAIL FROM domain): SPF is then the provider's, and DMARC aligns through DKIM alone. */
gboolean                mr_preset_has_own_return_path (const MrPreset *preset);
/* A server per region (Amazon SES: email-smtp.REGION.amazonaws.com; Mailgun: US or EU): the
 * regions' ids, NULL-terminated (NULL without regions); a region's name (translated) and host; the
 * region whose server @host is, or NULL. The preset's host is its default region's. */
const char * const     *mr_preset_get_region_ids    (const MrPreset  *preset);
const char             *mr_preset_get_region_name   (const MrPreset  *preset,
                                                     const char      *region);
const char             *mr_preset_get_region_host   (const MrPreset  *preset,
                                                     const char      *region);
const char             *mr_preset_find_region       (const MrPreset  *preset,
                                                     const char      *host);

const char             *mr_preset_get_id            (const MrPreset  *preset);
const char             *mr_preset_get_name          (const MrPreset  *preset);   /* translated */
const char             *mr_preset_get_host          (const MrPreset  *preset);   /* NULL: none, or derived */
gboolean                mr_preset_derives_host      (const MrPreset  *preset);
guint16                 mr_preset_get_port          (const MrPreset  *preset);   /* 0: none */
const char             *mr_preset_get_security      (const MrPreset  *preset);
const char * const     *mr_preset_get_auth_methods  (const MrPreset  *preset);   /* NULL: any */
const char             *mr_preset_get_delivery_mode (const MrPreset  *preset);
gboolean                mr_preset_locks_key         (const MrPreset  *preset,
                                                     const char      *base_key);
guint16                 mr_preset_get_port_for_security (const MrPreset *preset,
                                                     const char      *security);
/* A mailshot's pace by default with this provider: messages a minute and a day (0: no limit) and
 * connections. @account (the login or From address) tells a personal Gmail account from Workspace.
 * A NULL @preset: no limits, one connection. */
void                    mr_preset_get_mailshot_pace (const MrPreset *preset,
                                                     const char     *account,
                                                     guint          *per_minute,
                                                     guint          *per_day,
                                                     guint          *connections);
char                   *mr_preset_derive_host       (const MrPreset  *preset,
                                                     const char      *sender_domain);

/* Sets smtp.provider and what the preset fills in @file (under apps.@app. when @app is not NULL).
 * The relay's host is derived from the From address's domain; without one it is left empty.
 * Errors: those of mr_settings_file_set(). */
gboolean                mr_preset_apply             (const MrPreset  *preset,
                                                     MrSettingsFile  *file,
                                                     const char      *app,
                                                     GError         **error);

G_END_DECLS
