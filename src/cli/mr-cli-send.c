/* mr-cli-send.c: check, test-email, templates, render and send */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "mailroom-common.h"
#include "mailroom-dns.h"
#include "mailroom-log.h"
#include "mailroom-mailshot.h"
#include "mailroom-message.h"
#include "mailroom-settings.h"
#include "mailroom-transport.h"
#include "mr-cli.h"

/* ---- check and test-email --------------------------------------------------------------------- */

static void
add_date (JsonBuilder *builder,
          const char  *name,
          GDateTime   *date)
{
  g_autofree char *text = date ? g_date_time_format_iso8601 (date) : NULL;
  mr_cli_add_string (builder, name, text);
}

static void
add_certificate (JsonBuilder             *builder,
                 const MrCertificateInfo *certificate)
{
  json_builder_set_member_name (builder, "certificate");
  if (certificate == NULL)
    {
      json_builder_add_null_value (builder);
      return;
    }
  json_builder_begin_object (builder);
  mr_cli_add_string (builder, "subject", certificate->subject);
  mr_cli_add_string (builder, "issuer", certificate->issuer);
  add_date (builder, "not_before", certificate->not_before);
  add_date (builder, "not_after", certificate->not_after);
  mr_cli_add_string (builder, "sha256", certificate->sha256);
  mr_cli_add_string (builder, "problems", certificate->problems);
  json_builder_end_object (builder);
}

static void
print_server_info (MrTransport *transport)
{
  const MrSmtpServerInfo *info = mr_transport_get_server_info (transport);
  const MrCertificateInfo *certificate = mr_transport_get_certificate (transport);

  g_print (_("Server: %s\n"), mr_transport_get_label (transport));
  if (info == NULL)
    return;
  if (info->greeting != NULL)
    g_print (_("Greeting: %s\n"), info->greeting);
  if (info->tls)
    g_print (_("Encryption: %s, %s\n"), info->tls_version, info->tls_cipher ? info->tls_cipher : "?");
  else
    g_print (_("Encryption: none\n"));
  if (certificate != NULL)
    {
      g_autofree char *until = certificate->not_after ? g_date_time_format (certificate->not_after, "%Y-%m-%d") : NULL;
      g_print (_("Certificate: %s, issued by %s, valid until %s\n"), certificate->subject, certificate->issuer,
               until ? until : "?");
      g_print (_("Fingerprint (SHA-256): %s\n"), certificate->sha256);
    }
  if (info->extensions != NULL)
    {
      g_autofree char *joined = g_strjoinv (", ", info->extensions);
      g_print (_("Capabilities: %s\n"), joined);
    }
  if (info->auth_mechanisms != NULL && info->auth_mechanisms[0] != NULL)
    {
      g_autofree char *joined = g_strjoinv (" ", info->auth_mechanisms);
      g_print (_("Login methods: %s\n"), joined);
    }
  if (info->size_limit > 0)
    {
      g_autofree char *bytes = g_strdup_printf ("%" G_GUINT64_FORMAT, info->size_limit);
      g_print (_("Largest message: %s bytes\n"), bytes);
    }
  if (info->auth_mechanism != NULL)
    g_print (_("Login: accepted for %s (%s)\n"), info->authenticated_as, info->auth_mechanism);
  else
    g_print (_("Login: none (this server is used without one)\n"));
}

static void
print_server_json (MrTransport *transport)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  const MrSmtpServerInfo *info = mr_transport_get_server_info (transport);
  const char *server = mr_transport_get_server (transport);
  const char *colon = server ? strrchr (server, ':') : NULL;

  json_builder_begin_object (builder);
  mr_cli_add_string (builder, "route", mr_transport_get_label (transport));
  /* An SMTP server's host:port; the sendmail program has none. */
  if (g_strcmp0 (mr_transport_get_name (transport), "smtp") == 0 && colon != NULL)
    {
      g_autofree char *host = g_strndup (server, (gsize) (colon - server));

      mr_cli_add_string (builder, "host", host);
      json_builder_set_member_name (builder, "port");
      json_builder_add_int_value (builder, g_ascii_strtoll (colon + 1, NULL, 10));
    }
  if (info != NULL)
    {
      mr_cli_add_string (builder, "greeting", info->greeting);
      json_builder_set_member_name (builder, "tls");
      if (info->tls)
        {
          json_builder_begin_object (builder);
          mr_cli_add_string (builder, "version", info->tls_version);
          mr_cli_add_string (builder, "cipher", info->tls_cipher);
          json_builder_end_object (builder);
        }
      else
        json_builder_add_null_value (builder);
      add_certificate (builder, mr_transport_get_certificate (transport));
      mr_cli_add_strv (builder, "extensions", (const char * const *) info->extensions);
      mr_cli_add_strv (builder, "auth_mechanisms", (const char * const *) info->auth_mechanisms);
      json_builder_set_member_name (builder, "size_limit");
      json_builder_add_int_value (builder, (gint64) info->size_limit);
      json_builder_set_member_name (builder, "pipelining");
      json_builder_add_boolean_value (builder, info->pipelining);
      json_builder_set_member_name (builder, "login");
      if (info->auth_mechanism != NULL)
        {
          json_builder_begin_object (builder);
          mr_cli_add_string (builder, "user", info->authenticated_as);
          mr_cli_add_string (builder, "mechanism", info->auth_mechanism);
          json_builder_end_object (builder);
        }
      else
        json_builder_add_null_value (builder);
    }
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  mr_cli_print_json (root);
}

int
cmd_check (Invocation *inv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MrTransport) transport = NULL;
  gboolean ok;

  if (inv->args->len != 0)
    return mr_cli_usage_error (inv, _("“check” takes no arguments"));

  ok = mr_cli_check_route (inv, "smtp", &transport, &error);
  if (!ok)
    return mr_cli_fail (inv, error);

  if (inv->json)
    print_server_json (transport);
  else
    print_server_info (transport);
  return MR_EXIT_OK;
}

/* The test message through @transport; NULL with @error when it did not go. */
static MrTransportResult *
send_test_message (Invocation   *inv,
                   MrTransport  *transport,
                   char        **message_id,
                   GError      **error)
{
  g_autoptr(MrSender) sender = mr_sender_new (inv->settings, inv->app, error);
  g_autoptr(MrSmtpEnvelope) envelope = NULL;
  g_autoptr(GBytes) message = NULL;
  MrTransportResult *result;

  g_clear_pointer (message_id, g_free);
  if (sender != NULL)
    message = mr_sender_build_test_message (sender, inv->to, mr_transport_get_label (transport), &envelope, message_id,
                                            error);
  if (message == NULL)
    return NULL;
  result = mr_transport_send_sync (transport, envelope, message, NULL, error);
  mr_transport_close (transport);
  return result;
}

int
cmd_test_email (Invocation *inv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MrTransport) transport = NULL;
  g_autoptr(MrTransportResult) result = NULL;
  g_autofree char *message_id = NULL;

  if (inv->args->len != 0)
    return mr_cli_usage_error (inv, _("“test-email” takes no arguments besides --to ADDRESS"));
  if (inv->to == NULL)
    return mr_cli_usage_error (inv, _("“test-email” needs --to ADDRESS"));
  if (!mr_validate_address (inv->to, &error))
    {
      g_prefix_error (&error, "--to: ");
      return mr_cli_fail (inv, error);
    }

  transport = mr_cli_route (inv, "smtp", NULL, &error);
  if (transport == NULL)
    return mr_cli_fail (inv, error);

  result = send_test_message (inv, transport, &message_id, &error);
  if (result == NULL)
    {
      MrTransport *again = mr_cli_route_with_password (inv, "smtp", transport, error);

      if (again != NULL)
        {
          g_clear_error (&error);
          g_object_unref (transport);
          transport = again;
          result = send_test_message (inv, transport, &message_id, &error);
        }
    }
  mr_cli_print_transcript (inv, transport);
  if (result == NULL)
    return mr_cli_fail (inv, error);

  if (inv->json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;
      json_builder_begin_object (builder);
      mr_cli_add_string (builder, "route", mr_transport_get_label (transport));
      mr_cli_add_string (builder, "message_id", message_id);
      mr_cli_add_string_array (builder, "accepted", result->accepted);
      mr_cli_add_string (builder, "reply", result->reply);
      mr_cli_add_string_array (builder, "refused", result->refused);
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      mr_cli_print_json (root);
    }
  else
    {
      g_print (_("Sent a test message to %s through %s.\n"), inv->to, mr_transport_get_label (transport));
      if (result->reply != NULL)
        g_print (_("The server said: %s\n"), result->reply);
      for (guint i = 0; i < result->refused->len; i++)
        g_print (_("Refused: %s\n"), (const char *) g_ptr_array_index (result->refused, i));
    }
  return MR_EXIT_OK;
}


/* ---- templates and render --------------------------------------------------------------------- */

static const char *
scope_name (MrTemplateScope scope)
{
  switch (scope)
    {
    case MR_TEMPLATE_SCOPE_COMPANY: return "company";
    case MR_TEMPLATE_SCOPE_PERSONAL: return "personal";
    case MR_TEMPLATE_SCOPE_FILE:
    default: return "file";
    }
}

static void
add_template_json (JsonBuilder *builder,
                   MrTemplate  *template_,
                   gboolean     full)
{
  json_builder_begin_object (builder);
  mr_cli_add_string (builder, "name", template_->name);
  mr_cli_add_string (builder, "scope", scope_name (template_->scope));
  mr_cli_add_string (builder, "path", template_->path);
  mr_cli_add_string (builder, "description", template_->description);
  if (full)
    {
      g_autoptr(GPtrArray) variables = mr_template_list_variables (template_, NULL);

      mr_cli_add_string (builder, "subject", template_->subject);
      mr_cli_add_string (builder, "text", template_->text);
      mr_cli_add_string (builder, "html", template_->html);
      mr_cli_add_string (builder, "from_name", template_->from_name);
      mr_cli_add_string (builder, "from_address", template_->from_address);
      mr_cli_add_string (builder, "route", template_->route);
      mr_cli_add_string (builder, "app", template_->app);
      mr_cli_add_string (builder, "log", template_->log);
      json_builder_set_member_name (builder, "strict");
      json_builder_add_boolean_value (builder, template_->strict);
      mr_cli_add_string_array (builder, "variables", variables);
      if (template_->remote_images != NULL && template_->remote_images->len > 0)
        mr_cli_add_string_array (builder, "remote_images_removed", template_->remote_images);
      json_builder_set_member_name (builder, "attachments");
      json_builder_begin_array (builder);
      for (guint i = 0; i < template_->attachments->len; i++)
        json_builder_add_string_value (builder, ((MrTemplateAttachment *) g_ptr_array_index (template_->attachments, i))->path);
      json_builder_end_array (builder);
    }
  json_builder_end_object (builder);
}

int
cmd_templates (Invocation *inv,
               const char *command)
{
  g_autoptr(GError) error = NULL;

  if (g_str_equal (command, "list") && inv->args->len == 0)
    {
      g_autoptr(GPtrArray) all = mr_template_list (&error);
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_array (builder);
      for (guint i = 0; i < all->len; i++)
        {
          MrTemplate *template_ = g_ptr_array_index (all, i);

          if (inv->json)
            add_template_json (builder, template_, FALSE);
          else
            g_print ("%s\t%s\t%s\n", template_->name, scope_name (template_->scope),
                     template_->description ? template_->description : "");
        }
      json_builder_end_array (builder);
      if (inv->json)
        {
          root = json_builder_get_root (builder);
          mr_cli_print_json (root);
        }
      return MR_EXIT_OK;
    }

  if (g_str_equal (command, "show") && inv->args->len == 1)
    {
      g_autoptr(MrTemplate) template_ = mr_template_find (g_ptr_array_index (inv->args, 0), &error);
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;
      g_autoptr(GPtrArray) variables = NULL;

      if (template_ == NULL)
        return mr_cli_fail (inv, error);
      variables = mr_template_list_variables (template_, &error);
      if (variables == NULL)
        return mr_cli_fail (inv, error);
      if (inv->json)
        {
          add_template_json (builder, template_, TRUE);
          root = json_builder_get_root (builder);
          mr_cli_print_json (root);
          return MR_EXIT_OK;
        }
      g_print (_("Name: %s (%s)\nFile: %s\nSubject: %s\n"), template_->name, scope_name (template_->scope),
               template_->path, template_->subject);
      g_print (_("Bodies: %s%s%s\n"), template_->text ? "text" : "", template_->text && template_->html ? ", " : "",
               template_->html ? "HTML" : "");
      g_ptr_array_add (variables, NULL);
      {
        g_autofree char *joined = g_strjoinv (", ", (char **) variables->pdata);
        g_print (_("Variables: %s\n"), joined);
      }
      if (template_->from_address != NULL)
        g_print (_("From: %s <%s>\n"), template_->from_name ? template_->from_name : "", template_->from_address);
      for (guint i = 0; i < template_->attachments->len; i++)
        g_print (_("Attachment: %s\n"), ((MrTemplateAttachment *) g_ptr_array_index (template_->attachments, i))->path);
      g_print (_("Sent via: %s; log: %s%s\n"), template_->route, template_->log, template_->strict ? _("; strict") : "");
      for (guint i = 0; template_->remote_images != NULL && i < template_->remote_images->len; i++)
        g_print (_("Left out: the image at %s, which mail programs would not show (embed it instead)\n"),
                 (const char *) g_ptr_array_index (template_->remote_images, i));
      return MR_EXIT_OK;
    }

  if (g_str_equal (command, "import") && inv->args->len == 1)
    {
      g_autoptr(MrTemplate) template_ = mr_template_import (g_ptr_array_index (inv->args, 0), &error);

      if (template_ == NULL)
        return mr_cli_fail (inv, error);
      g_printerr (_("Imported “%s” into %s\n"), template_->name, template_->path);
      return MR_EXIT_OK;
    }

  if (g_str_equal (command, "export") && inv->args->len == 2)
    {
      g_autoptr(MrTemplate) template_ = mr_template_find (g_ptr_array_index (inv->args, 0), &error);

      if (template_ == NULL)
        return mr_cli_fail (inv, error);
      if (!mr_template_export (template_, g_ptr_array_index (inv->args, 1), &error))
        return mr_cli_fail (inv, error);
      return MR_EXIT_OK;
    }

  {
    g_autofree char *message = g_strdup_printf (_("Unknown command “templates %s” or wrong arguments"), command);
    return mr_cli_usage_error (inv, message);
  }
}

/* --data FILE.json, then each --var KEY=VALUE on top (dotted keys make nested objects). */
static JsonNode *
load_render_data (Invocation  *inv,
                  GError     **error)
{
  g_autoptr(JsonNode) data = NULL;
  JsonObject *root;

  if (inv->data_file != NULL)
    {
      data = mr_json_parse_file (inv->data_file, error);
      if (data == NULL)
        {
          g_prefix_error (error, "%s: ", inv->data_file);
          if ((*error)->domain != G_FILE_ERROR)
            {
              g_autofree char *message = g_strdup ((*error)->message);
              g_clear_error (error);
              g_set_error_literal (error, MR_TEMPLATE_ERROR, MR_TEMPLATE_ERROR_INVALID, message);
            }
          else
            {
              g_autofree char *message = g_strdup ((*error)->message);
              g_clear_error (error);
              g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, message);
            }
          return NULL;
        }
      if (!JSON_NODE_HOLDS_OBJECT (data))
        {
          g_set_error (error, MR_TEMPLATE_ERROR, MR_TEMPLATE_ERROR_INVALID, _("%s: the data must be a JSON object"),
                       inv->data_file);
          return NULL;
        }
    }
  else
    {
      data = json_node_new (JSON_NODE_OBJECT);
      json_node_take_object (data, json_object_new ());
    }

  root = json_node_get_object (data);
  for (guint i = 0; i < inv->vars->len; i++)
    {
      const char *assignment = g_ptr_array_index (inv->vars, i);
      g_autofree char *key = g_strndup (assignment, strchr (assignment, '=') - assignment);
      g_auto(GStrv) parts = g_strsplit (key, ".", -1);
      JsonObject *object = root;

      for (guint p = 0; parts[p + 1] != NULL; p++)
        {
          if (!json_object_has_member (object, parts[p]) ||
              !JSON_NODE_HOLDS_OBJECT (json_object_get_member (object, parts[p])))
            json_object_set_object_member (object, parts[p], json_object_new ());
          object = json_object_get_object_member (object, parts[p]);
        }
      json_object_set_string_member (object, parts[g_strv_length (parts) - 1], strchr (assignment, '=') + 1);
    }
  return g_steal_pointer (&data);
}

/* The template @name rendered with --data and --var; a variable with no value is warned about. */
static MrRendered *
render_for_cli (Invocation  *inv,
                const char  *name,
                MrTemplate **template_out,
                GError     **error)
{
  g_autoptr(MrTemplate) template_ = mr_template_find (name, error);
  g_autoptr(JsonNode) data = NULL;
  MrRendered *rendered;

  g_autoptr(MrOutgoing) sender = mr_outgoing_new ();

  if (template_ == NULL || (data = load_render_data (inv, error)) == NULL)
    return NULL;
  /* {{sender.name}}: who it will be from (no sender set up yet: those fields stay empty, and say so). */
  mr_settings_fill_sender (inv->settings, template_->app, sender, NULL);
  rendered = mr_template_render_as (template_, data, sender, 0, error);
  if (rendered == NULL)
    return NULL;
  for (guint i = 0; i < rendered->missing->len; i++)
    g_printerr (_("mailroom-cli: warning: the variable “%s” has no value\n"), (const char *) g_ptr_array_index (rendered->missing, i));
  *template_out = g_steal_pointer (&template_);
  return rendered;
}

int
cmd_render (Invocation *inv,
            const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MrTemplate) template_ = NULL;
  g_autoptr(MrRendered) rendered = NULL;

  if (inv->args->len != 0)
    return mr_cli_usage_error (inv, _("“render” takes one template"));
  rendered = render_for_cli (inv, name, &template_, &error);
  if (rendered == NULL)
    return mr_cli_fail (inv, error);

  if (inv->mime)
    {
      g_autoptr(MrOutgoing) outgoing = mr_outgoing_new ();
      g_autoptr(GBytes) message = NULL;
      g_autofree char *from = mr_settings_dup_effective_string (inv->settings, template_->app, "sender.from_address");
      g_autofree char *from_name = mr_settings_dup_effective_string (inv->settings, template_->app, "sender.from_name");

      outgoing->from_address = g_strdup (*from ? from : "sender@example.invalid");
      outgoing->from_name = *from_name ? g_strdup (from_name) : NULL;
      g_ptr_array_add (outgoing->to, g_strdup (inv->to ? inv->to : "recipient@example.invalid"));
      if (!mr_template_fill_outgoing (template_, rendered, outgoing, &error))
        return mr_cli_fail (inv, error);
      message = mr_outgoing_build (outgoing, NULL, &error);
      if (message == NULL)
        return mr_cli_fail (inv, error);
      fwrite (g_bytes_get_data (message, NULL), 1, g_bytes_get_size (message), stdout);
      return MR_EXIT_OK;
    }

  if (inv->json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (builder);
      mr_cli_add_string (builder, "subject", rendered->subject);
      mr_cli_add_string (builder, "text", rendered->text);
      mr_cli_add_string (builder, "html", rendered->html);
      mr_cli_add_string_array (builder, "missing", rendered->missing);
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      mr_cli_print_json (root);
      return MR_EXIT_OK;
    }

  g_print ("Subject: %s\n", rendered->subject);
  if (rendered->text != NULL)
    g_print ("\n-- text --\n%s", rendered->text);
  if (rendered->html != NULL)
    g_print ("\n-- HTML --\n%s", rendered->html);
  return MR_EXIT_OK;
}


/* ---- send, outbox and log --------------------------------------------------------------------- */

static gboolean
add_addresses (GPtrArray   *into,
               GPtrArray   *from,
               const char  *option,
               GError     **error)
{
  for (guint i = 0; i < from->len; i++)
    {
      if (!mr_validate_address (g_ptr_array_index (from, i), error))
        {
          g_prefix_error (error, "%s: ", option);
          return FALSE;
        }
      g_ptr_array_add (into, g_strdup (g_ptr_array_index (from, i)));
    }
  return TRUE;
}

int
cmd_send (Invocation *inv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MrTemplate) template_ = NULL;
  g_autoptr(MrRendered) rendered = NULL;
  g_autoptr(MrOutgoing) outgoing = mr_outgoing_new ();
  g_autoptr(MrSentLog) log = NULL;
  g_autoptr(MrSendReport) report = NULL;
  const char *route;
  const char *app;

  if (inv->template_name == NULL)
    return mr_cli_usage_error (inv, _("“send” needs --template TEMPLATE"));
  if (inv->to_list->len == 0)
    return mr_cli_usage_error (inv, _("“send” needs at least one --to ADDRESS"));
  if (inv->via != NULL && !g_strv_contains ((const char * const[]) { "smtp", "exchange", "auto", NULL }, inv->via))
    return mr_cli_usage_error (inv, _("--via takes smtp, exchange or auto"));

  rendered = render_for_cli (inv, inv->template_name, &template_, &error);
  if (rendered == NULL)
    return mr_cli_fail (inv, error);

  if (!add_addresses (outgoing->to, inv->to_list, "--to", &error) ||
      !add_addresses (outgoing->cc, inv->cc_list, "--cc", &error) ||
      !add_addresses (outgoing->bcc, inv->bcc_list, "--bcc", &error))
    return mr_cli_fail (inv, error);
  if (!mr_template_fill_outgoing (template_, rendered, outgoing, &error))
    return mr_cli_fail (inv, error);
  for (guint i = 0; i < inv->attach_list->len; i++)
    {
      const char *file = g_ptr_array_index (inv->attach_list, i);

      if (!g_file_test (file, G_FILE_TEST_IS_REGULAR))
        {
          g_set_error (&error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, _("--attach: %s is not a file"), file);
          return mr_cli_fail (inv, error);
        }
      mr_outgoing_add_attachment (outgoing, file, NULL, NULL);
    }

  log = mr_cli_open_log (inv, &error);
  if (log == NULL)
    return mr_cli_fail (inv, error);
  route = inv->via ? inv->via : template_->route;
  app = inv->app ? inv->app : template_->app;
  report = mr_outbox_send_sync (inv->settings, log, app, route, outgoing, template_->name, template_->log, NULL, NULL, &error);
  if (report == NULL)
    return mr_cli_fail (inv, error);
  return mr_cli_print_report (inv, report);
}
