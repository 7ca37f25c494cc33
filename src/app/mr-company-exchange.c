/* mr-company-exchange.c: the Company page's Exchange: finding the EWS address (autodiscover) */

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

/* ---- Finding the EWS address (autodiscover) --------------------------------------------------- */

typedef struct {
  MrExchange *exchange;
  char       *address;
  char       *allowed_host;
  char       *url;
  char       *unconfirmed;
} FindJob;

static void
find_job_free (FindJob *job)
{
  g_clear_object (&job->exchange);
  g_free (job->address);
  g_free (job->allowed_host);
  g_free (job->url);
  g_free (job->unconfirmed);
  g_free (job);
}

static void
find_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  FindJob *job = task_data;
  GError *error = NULL;

  job->url = mr_exchange_discover_sync (job->exchange, job->address, job->allowed_host, &job->unconfirmed, cancellable,
                                        &error);
  if (job->url != NULL)
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void start_find (MrCompanyPage *self,
                        const char    *allowed_host);

static void
on_redirect_answer (AdwMessageDialog *dialog,
                    const char       *response,
                    MrCompanyPage    *self)
{
  if (g_str_equal (response, "allow"))
    start_find (self, g_object_get_data (G_OBJECT (dialog), "host"));
}

static void
show_find_message (MrCompanyPage *self,
                   const char    *heading,
                   const char    *body)
{
  GtkWidget *dialog = adw_message_dialog_new (GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))), heading, body);

  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _("_Close"));
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
on_found (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(MrCompanyPage) self = user_data;
  FindJob *job = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      if (self->exchange_find_button == NULL || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      gtk_widget_set_sensitive (self->exchange_find_button, self->editable);
      if (g_error_matches (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_REDIRECT_UNCONFIRMED) && job->unconfirmed != NULL)
        {
          /* Out of the domain: the person decides whether their password may go there. */
          GtkWidget *dialog = adw_message_dialog_new (GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))),
                                                      _("Send Your Login Elsewhere?"), error->message);

          adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _("_Cancel"),
                                            "allow", _("_Allow"), NULL);
          adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "allow", ADW_RESPONSE_DESTRUCTIVE);
          adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
          g_object_set_data_full (G_OBJECT (dialog), "host", g_strdup (job->unconfirmed), g_free);
          g_signal_connect_object (dialog, "response", G_CALLBACK (on_redirect_answer), self, 0);
          gtk_window_present (GTK_WINDOW (dialog));
          return;
        }
      show_find_message (self, _("No Exchange Server Found"), error->message);
      return;
    }
  if (self->exchange_find_button == NULL)
    return;
  gtk_widget_set_sensitive (self->exchange_find_button, self->editable);
  {
    g_autoptr(JsonNode) value = json_node_init_string (json_node_alloc (), job->url);
    mr_settings_form_set_value (self->form, "exchange.ews_url", value);
  }
}

static void
start_find (MrCompanyPage *self,
            const char    *allowed_host)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GTask) task = NULL;
  g_autofree char *email = mr_settings_dup_effective_string (self->settings, NULL, "user.email");
  g_autofree char *from = mr_settings_dup_effective_string (self->settings, NULL, "sender.from_address");
  FindJob *job;
  MrExchange *exchange = mr_exchange_new_for_setup (self->settings, NULL, &error);

  if (exchange == NULL)
    {
      show_find_message (self, _("No Exchange Server Found"), error->message);
      return;
    }
  job = g_new0 (FindJob, 1);
  job->exchange = exchange;
  job->address = g_strdup (*email ? email : from);
  job->allowed_host = g_strdup (allowed_host);
  gtk_widget_set_sensitive (self->exchange_find_button, FALSE);
  g_cancellable_cancel (self->find_cancellable);
  g_clear_object (&self->find_cancellable);
  self->find_cancellable = g_cancellable_new ();
  task = g_task_new (NULL, self->find_cancellable, on_found, g_object_ref (self));
  g_task_set_source_tag (task, start_find);
  g_task_set_task_data (task, job, (GDestroyNotify) find_job_free);
  g_task_run_in_thread (task, find_thread);
}

static void
on_exchange_find_clicked (MrCompanyPage *self)
{
  start_find (self, NULL);
}

/* Which Exchange door fits, with Microsoft's dates where they matter. */
void
mr_company_page_update_exchange_guide (MrCompanyPage *self)
{
  g_autofree char *transport = mr_company_page_edited_string (self, "exchange.transport");
  g_autofree char *ews_url = mr_company_page_edited_string (self, "exchange.ews_url");
  g_autofree char *exchange_auth = mr_company_page_edited_string (self, "exchange.auth");
  g_autofree char *provider = mr_company_page_edited_string (self, "smtp.provider");
  g_autofree char *smtp_auth = mr_company_page_edited_string (self, "smtp.auth");
  gboolean graph = g_strcmp0 (transport, "graph") == 0;
  gboolean online_ews = !graph && ews_url != NULL &&
                        (strstr (ews_url, "outlook.office365.com") != NULL || strstr (ews_url, "outlook.office.com") != NULL);
  gboolean basic_smtp_at_office365 = g_strcmp0 (provider, "office365") == 0 && g_strcmp0 (smtp_auth, "password") == 0;
  const char *guide;
  gboolean warn = online_ews || basic_smtp_at_office365;

  if (online_ews)
    guide = _("This EWS address is Exchange Online. Microsoft turned EWS off there by default on 1 October 2026 "
              "(only allow-listed apps) and shuts it down on 1 April 2027: choose Exchange Online (Microsoft Graph).");
  else if (basic_smtp_at_office365)
    guide = _("Office 365 turns off password (Basic) login for SMTP by default at the end of December 2026. Choose "
              "OAuth2 for SMTP, or send through Exchange Online (Microsoft Graph) with each person’s sign-in.");
  else if (graph)
    guide = _("Register Mailroom in Microsoft Entra ID: a public client that allows the device-code flow, with the "
              "delegated permission Mail.Send. Enter its client ID below; each person then signs in once in My "
              "Settings.");
  else
    guide = _("For Exchange Server in your own network, which keeps EWS. Enter its EWS address, or let autodiscover "
              "find it; each person stores their Exchange password in My Settings.");
  adw_action_row_set_subtitle (self->exchange_guide_row, guide);
  gtk_image_set_from_icon_name (self->exchange_guide_icon, warn ? "dialog-warning-symbolic" : "dialog-information-symbolic");
  if (warn)
    gtk_widget_add_css_class (GTK_WIDGET (self->exchange_guide_row), "warning");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->exchange_guide_row), "warning");

  /* Until Exchange is set up it is not used, and says so; falling back to it could not work. */
  {
    g_autofree char *client_id = mr_company_page_edited_string (self, "exchange.client_id");
    gboolean set_up = (ews_url != NULL && *ews_url != '\0') || mr_company_page_edited_boolean (self, "exchange.autodiscover") ||
                      (graph && client_id != NULL && *client_id != '\0');

    adw_preferences_group_set_description (self->exchange_group,
                                           set_up ? _("Sending through Microsoft Exchange instead of SMTP, or when SMTP "
                                                      "cannot send.")
                                                  : _("Not used: mail goes through SMTP. To send through Microsoft "
                                                      "Exchange, fill in what it needs below."));
    gtk_widget_set_sensitive (GTK_WIDGET (self->exchange_fallback_row), set_up);
    adw_action_row_set_subtitle (self->exchange_fallback_row,
                                 set_up ? _("Server unreachable, login refused, not set up. Never when a recipient is "
                                            "refused.")
                                        : _("Off until Exchange is set up: there is nothing to fall back to."));
  }

  gtk_widget_set_visible (GTK_WIDGET (self->exchange_url_row), !graph);
  gtk_widget_set_visible (GTK_WIDGET (self->exchange_autodiscover_row), !graph);
  gtk_widget_set_visible (GTK_WIDGET (self->exchange_auth_row), !graph);
  gtk_widget_set_visible (GTK_WIDGET (self->exchange_client_id_row), graph || g_strcmp0 (exchange_auth, "oauth2") == 0);
  gtk_widget_set_visible (GTK_WIDGET (self->exchange_tenant_row), graph || g_strcmp0 (exchange_auth, "oauth2") == 0);
}

void
mr_company_page_exchange_class_init (GtkWidgetClass *widget_class)
{
  gtk_widget_class_bind_template_callback (widget_class, on_exchange_find_clicked);
}
