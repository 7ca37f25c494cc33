/* mr-company-domains.c: the Company page's verified domains: their proofs, their checks, and the DKIM selectors the admin names */

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>
#include "mailroom-common.h"
#include "mailroom-settings.h"
#include "mailroom-transport.h"
#include "mr-company-page-private.h"
#include "mr-company-page.h"
#include "mr-domain-row.h"
#include "mr-key-labels.h"
#include "mr-password-field.h"
#include "mr-signature-row.h"
#include "mr-test-dialog.h"

/* ---- Verified domains ------------------------------------------------------------------------- */

/* A toast on the window: what was done, or why not. */
static void
toast (MrCompanyPage *self,
       const char    *text)
{
  GtkWidget *overlay = gtk_widget_get_ancestor (GTK_WIDGET (self), ADW_TYPE_TOAST_OVERLAY);
  g_autofree char *escaped = g_markup_escape_text (text, -1);

  if (overlay != NULL)
    adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (overlay), adw_toast_new (escaped));
}

GStrv
mr_company_page_current_list (MrCompanyPage *self,
                              const char    *key)
{
  return mr_json_dup_strv (mr_settings_file_get (mr_settings_form_get_edited (self->form), key));
}

void
mr_company_page_set_list (MrCompanyPage      *self,
                          const char         *key,
                          const char * const *items)
{
  g_autoptr(JsonArray) array = json_array_new ();
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_ARRAY);

  for (guint i = 0; items[i] != NULL; i++)
    json_array_add_string_element (array, items[i]);
  json_node_set_array (node, array);
  mr_settings_form_set_value (self->form, key, node);
}

static void
add_domain (MrCompanyPage *self,
            const char    *domain)
{
  g_auto(GStrv) domains = mr_company_page_current_list (self, "domains.verified");
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_autofree char *lower = g_utf8_strdown (domain, -1);
  g_auto(GStrv) result = NULL;

  if (g_strv_contains ((const char * const *) domains, lower))
    return;
  g_strv_builder_addv (builder, (const char **) domains);
  g_strv_builder_add (builder, lower);
  result = g_strv_builder_end (builder);
  mr_company_page_set_list (self, "domains.verified", (const char * const *) result);
  mr_company_page_rebuild_lists (self);
  mr_company_page_update_state (self);
}

static gboolean
check_new_domain (MrCompanyPage *self)
{
  g_autoptr(GError) error = NULL;
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->add_domain_row));
  gboolean ok = *text == '\0' || mr_validate_domain (text, &error);

  if (ok)
    gtk_widget_remove_css_class (GTK_WIDGET (self->add_domain_row), "error");
  else
    gtk_widget_add_css_class (GTK_WIDGET (self->add_domain_row), "error");
  gtk_label_set_text (GTK_LABEL (self->domain_error_label), error ? error->message : "");
  gtk_widget_set_visible (self->domain_error_label, error != NULL);
  return ok && *text != '\0';
}

static void
on_add_domain_changed (MrCompanyPage *self)
{
  check_new_domain (self);
}

/* A domain typed in waits for its proof: the record to publish is in its row. */
static void
on_add_domain_apply (MrCompanyPage *self)
{
  g_autoptr(MrCompanyDomain) domain = NULL;

  if (!check_new_domain (self))
    return;
  domain = mr_company_domain_add_to (mr_settings_form_get_edited (self->form),
                                     gtk_editable_get_text (GTK_EDITABLE (self->add_domain_row)), NULL);
  gtk_editable_set_text (GTK_EDITABLE (self->add_domain_row), "");
  mr_settings_form_changed (self->form);
  mr_company_page_rebuild_lists (self);
  mr_company_page_update_state (self);
  /* Its row open, the record in sight. */
  for (guint i = 0; domain != NULL && i < self->domain_rows->len; i++)
    if (g_str_equal (mr_domain_row_get_domain (g_ptr_array_index (self->domain_rows, i)), domain->domain))
      adw_expander_row_set_expanded (g_ptr_array_index (self->domain_rows, i), TRUE);
}

void
mr_company_page_on_domain_remove (MrDomainRow   *row,
                                  const char    *domain,
                                  MrCompanyPage *self)
{
  g_autofree char *name = g_strdup (domain);

  mr_company_domain_remove_from (mr_settings_form_get_edited (self->form), name, NULL);
  g_hash_table_remove (self->domain_reports, name);
  mr_settings_form_changed (self->form);
  mr_company_page_rebuild_lists (self);
  mr_company_page_update_state (self);
}

/* Verify: the DNS asked in a thread; found, the domain is proved in the page's edit (Save keeps it). */
static void
find_proof_thread (GTask        *task,
                   gpointer      source_object,
                   gpointer      task_data,
                   GCancellable *cancellable)
{
  GError *error = NULL;

  if (mr_company_domain_find_proof (task_data, cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
on_proof_found (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(MrCompanyPage) self = user_data;
  MrCompanyDomain *domain = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || self->form == NULL)
        return;
      for (guint i = 0; i < self->domain_rows->len; i++)
        if (g_str_equal (mr_domain_row_get_domain (g_ptr_array_index (self->domain_rows, i)), domain->domain))
          mr_domain_row_set_problem (g_ptr_array_index (self->domain_rows, i), error->message);
      return;
    }
  if (self->form == NULL)
    return;
  mr_company_domain_mark_proved (mr_settings_form_get_edited (self->form), domain->domain, NULL);
  mr_settings_form_changed (self->form);
  mr_company_page_rebuild_lists (self);
  mr_company_page_update_state (self);
  {
    g_autofree char *said = g_strdup_printf (_("%s is proved: save to keep it"), domain->domain);

    toast (self, said);
  }
}

void
mr_company_page_on_domain_verify (MrDomainRow   *row,
                                  const char    *name,
                                  MrCompanyPage *self)
{
  g_autoptr(GPtrArray) domains = mr_company_domains_in (mr_settings_form_get_edited (self->form));
  g_autoptr(GTask) task = NULL;

  for (guint i = 0; i < domains->len; i++)
    {
      MrCompanyDomain *domain = g_ptr_array_index (domains, i);

      if (!g_str_equal (domain->domain, name))
        continue;
      task = g_task_new (NULL, self->domain_cancellable, on_proof_found, g_object_ref (self));
      g_task_set_source_tag (task, mr_company_page_on_domain_verify);
      g_task_set_task_data (task, g_ptr_array_steal_index (domains, i), (GDestroyNotify) mr_company_domain_free);
      g_task_run_in_thread (task, find_proof_thread);
      mr_domain_row_set_problem (row, _("Looking for the record…"));
      return;
    }
}

/* Check Again: every domain's SPF, DKIM, DMARC and MX, for the way the settings send; the rows
 * again once every one is back. */
static void
on_domain_checked (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(MrCompanyPage) self = user_data;
  MrDomainReport *report = mr_domain_check_finish (result, NULL);

  if (self->form == NULL)
    {
      mr_domain_report_free (report);
      return;
    }
  if (report != NULL)
    g_hash_table_insert (self->domain_reports, g_strdup (report->domain), report);
  if (--self->checking_domains == 0)
    mr_company_page_rebuild_lists (self);
}

void
mr_company_page_check_domains (MrCompanyPage *self)
{
  MrSettingsFile *edited = mr_settings_form_get_edited (self->form);
  g_autoptr(GPtrArray) domains = mr_company_domains_in (edited);
  g_auto(MrDomainCheckOptions) options = { 0 };

  if (self->checking_domains > 0 || domains->len == 0)
    return;
  mr_domain_check_options_init_for_provider (&options, mr_settings_file_get_string (edited, "smtp.provider"),
                                             mr_settings_file_get_string (edited, "smtp.host"), NULL);
  {
    g_auto(GStrv) named = mr_company_page_current_list (self, "domains.dkim_selectors");

    mr_domain_check_options_add_selectors (&options, (const char * const *) named);
  }
  /* Check Again, after a record was published perhaps: the DNS is asked, not the answers kept. */
  options.fresh = TRUE;
  self->checking_domains = domains->len;
  gtk_widget_set_sensitive (self->check_domains_button, FALSE);
  for (guint i = 0; i < domains->len; i++)
    mr_domain_check_async (((MrCompanyDomain *) g_ptr_array_index (domains, i))->domain, &options,
                           self->domain_cancellable, on_domain_checked, g_object_ref (self));
}

gboolean
mr_company_page_get_checking_domains (MrCompanyPage *self)
{
  return self->checking_domains > 0;
}


static void
on_verify_domain_clicked (MrCompanyPage *self)
{
  const char *from = gtk_editable_get_text (GTK_EDITABLE (self->from_address_row));
  const char *domain = mr_address_get_domain (from);

  if (domain != NULL)
    add_domain (self, domain);
}

static void
on_provider_dns_copy (MrCompanyPage *self)
{
  g_autofree char *provider = mr_company_page_edited_string (self, "smtp.provider");
  const MrPreset *preset = mr_preset_lookup (provider);
  g_autofree char *term = NULL;

  if (preset == NULL || mr_preset_get_spf_include (preset) == NULL)
    return;
  term = g_strconcat ("include:", mr_preset_get_spf_include (preset), NULL);
  gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (self)), term);
}

/* ---- DKIM selectors the admin names ----------------------------------------------------------- */

/* The selectors in the edited settings, as the row shows them: "s1, s2". */
void
mr_company_page_show_selectors (MrCompanyPage *self)
{
  g_auto(GStrv) named = mr_company_page_current_list (self, "domains.dkim_selectors");
  g_autofree char *text = g_strjoinv (", ", named);

  gtk_editable_set_text (GTK_EDITABLE (self->selectors_row), text);
  gtk_widget_remove_css_class (GTK_WIDGET (self->selectors_row), "error");
}

/* Apply: the selectors typed (commas or spaces between them) go into the edited settings; one that
 * is not a selector is said in a toast, and nothing changes. */
static void
on_selectors_apply (MrCompanyPage *self)
{
  g_auto(GStrv) words = g_regex_split_simple ("[\\s,;]+", gtk_editable_get_text (GTK_EDITABLE (self->selectors_row)), 0, 0);
  g_autoptr(JsonArray) array = json_array_new ();
  g_autoptr(JsonNode) typed = NULL;
  g_autoptr(JsonNode) normal = NULL;
  g_autoptr(GError) error = NULL;

  for (guint i = 0; words[i] != NULL; i++)
    if (*words[i] != '\0')
      json_array_add_string_element (array, words[i]);
  typed = json_node_init_array (json_node_alloc (), array);
  normal = mr_key_normalize (mr_key_lookup ("domains.dkim_selectors"), typed, &error);
  if (normal == NULL)
    {
      gtk_widget_add_css_class (GTK_WIDGET (self->selectors_row), "error");
      toast (self, error->message);
      return;
    }
  if (json_array_get_length (json_node_get_array (normal)) == 0)
    mr_settings_form_unset_value (self->form, "domains.dkim_selectors");
  else
    mr_settings_form_set_value (self->form, "domains.dkim_selectors", normal);
  mr_company_page_show_selectors (self);
  mr_company_page_update_state (self);
}

void
mr_company_page_domains_class_init (GtkWidgetClass *widget_class)
{
  gtk_widget_class_bind_template_callback (widget_class, on_provider_dns_copy);
  gtk_widget_class_bind_template_callback (widget_class, on_selectors_apply);
  gtk_widget_class_bind_template_callback (widget_class, on_verify_domain_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_add_domain_apply);
  gtk_widget_class_bind_template_callback (widget_class, on_add_domain_changed);
}
