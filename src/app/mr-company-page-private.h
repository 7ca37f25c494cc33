/* mr-company-page-private.h: what the parts of the Company page share
 *
 * mr-company-page.c is the page (the form, the provider, the profiles, the locks, loading and
 * saving); mr-company-domains.c the verified domains, their proofs and checks, and the DKIM
 * selectors the admin names; mr-company-exchange.c finding the EWS address. Each part binds its own
 * callbacks and connects its own signals.
 */
#pragma once

#include <adwaita.h>

#include "mailroom-dns.h"
#include "mr-company-page.h"
#include "mr-domain-row.h"
#include "mr-password-field.h"
#include "mr-settings-form.h"

G_BEGIN_DECLS

struct _MrCompanyPage
{
  AdwBin               parent_instance;

  MrSettings          *settings;
  MrSettingsForm      *form;
  MrPasswordField     *password;
  gboolean             editable;
  GPtrArray           *app_rows;     /* AdwExpanderRow */
  GPtrArray           *domain_rows;  /* MrDomainRow */
  GHashTable          *domain_reports; /* domain → MrDomainReport, from the last Check Again */
  GCancellable        *domain_cancellable;
  GtkWidget           *check_domains_button;
  guint                checking_domains;  /* Check Again's domains not back yet */
  GPtrArray           *lock_rows;    /* AdwActionRow */
  GtkWidget           *domain_error_label;

  /* Template widgets */
  AdwPreferencesGroup *sender_group;
  AdwPreferencesGroup *managed_group;
  AdwActionRow        *managed_row;
  AdwComboRow         *provider_row;
  AdwComboRow         *region_row;
  const MrPreset      *region_preset;   /* whose regions region_row lists */
  gboolean             syncing_region;
  AdwActionRow        *provider_dns_row;
  GtkWidget           *provider_dns_copy;
  AdwEntryRow         *selectors_row;
  AdwEntryRow         *host_row;
  AdwEntryRow         *port_row;
  AdwComboRow         *security_row;
  AdwEntryRow         *trust_file_row;
  AdwEntryRow         *fingerprint_row;
  AdwComboRow         *auth_row;
  AdwComboRow         *credentials_row;
  AdwEntryRow         *username_row;
  AdwPasswordEntryRow *password_row;
  AdwActionRow        *keyring_row;
  GtkWidget           *forget_button;
  AdwActionRow        *per_user_row;
  AdwActionRow        *plaintext_row;
  GtkSwitch           *plaintext_switch;
  AdwActionRow        *plaintext_warning_row;
  AdwEntryRow         *from_name_row;
  AdwEntryRow         *from_address_row;
  AdwActionRow        *verify_domain_row;
  GtkButton           *verify_domain_button;
  AdwEntryRow         *reply_to_row;
  AdwEntryRow         *copy_to_row;
  AdwActionRow        *mailshot_minute_row;
  AdwActionRow        *mailshot_day_row;
  GtkSpinButton       *mailshot_minute_spin;
  GtkSpinButton       *mailshot_day_spin;
  GtkSpinButton       *mailshot_connections_spin;
  AdwActionRow        *mailshot_connections_row;
  AdwComboRow         *exchange_transport_row;
  AdwActionRow        *exchange_guide_row;
  GtkImage            *exchange_guide_icon;
  AdwEntryRow         *exchange_url_row;
  GtkWidget           *exchange_find_button;
  GCancellable        *find_cancellable;
  AdwActionRow        *exchange_autodiscover_row;
  GtkSwitch           *exchange_autodiscover_switch;
  AdwComboRow         *exchange_auth_row;
  AdwEntryRow         *exchange_client_id_row;
  AdwEntryRow         *exchange_tenant_row;
  AdwComboRow         *exchange_preferred_row;
  AdwActionRow        *exchange_fallback_row;
  AdwPreferencesGroup *exchange_group;
  GtkSwitch           *exchange_fallback_switch;
  AdwActionRow        *copy_each_row;
  GtkSwitch           *copy_each_switch;
  AdwEntryRow         *unsubscribe_url_row;
  AdwEntryRow         *unsubscribe_mailto_row;
  AdwActionRow        *send_as_user_row;
  GtkSwitch           *send_as_user_switch;
  AdwComboRow         *delivery_row;
  AdwEntryRow         *sendmail_path_row;
  AdwPreferencesGroup *apps_group;
  GtkWidget           *add_app_button;
  AdwPreferencesGroup *domains_group;
  AdwEntryRow         *add_domain_row;
  AdwExpanderRow      *locks_row;
  AdwActionRow        *try_row;
  GtkWidget           *check_button;
  GtkWidget           *test_button;
};

/* ---- Each part's set-up, and what the parts call of each other ----------------------------- */

/* mr-company-domains.c */
void mr_company_page_domains_class_init (GtkWidgetClass *widget_class);
void mr_company_page_on_domain_verify (MrDomainRow   *row,
                                       const char    *name,
                                       MrCompanyPage *self);
void mr_company_page_set_list (MrCompanyPage      *self,
                               const char         *key,
                               const char * const *items);
void mr_company_page_on_domain_remove (MrDomainRow   *row,
                                       const char    *domain,
                                       MrCompanyPage *self);
GStrv mr_company_page_current_list (MrCompanyPage *self,
                                    const char    *key);
/* The selectors in the edited settings, as the row shows them: "s1, s2". */
void mr_company_page_show_selectors (MrCompanyPage *self);

/* mr-company-exchange.c */
void mr_company_page_exchange_class_init (GtkWidgetClass *widget_class);
/* Which Exchange door fits, with Microsoft's dates where they matter. */
void mr_company_page_update_exchange_guide (MrCompanyPage *self);

/* mr-company-page.c */
void mr_company_page_rebuild_lists (MrCompanyPage *self);
void mr_company_page_update_state (MrCompanyPage *self);
gboolean mr_company_page_edited_boolean (MrCompanyPage *self,
                                         const char    *key);
char *mr_company_page_edited_string (MrCompanyPage *self,
                                     const char    *key);

G_END_DECLS
