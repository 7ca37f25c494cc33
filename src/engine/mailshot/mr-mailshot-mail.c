/* mr-mailshot-mail.c: a row of a mailshot as the mail it becomes: rendered, addressed, with its own
 * attachment and the one-click unsubscribe headers, then built */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <sqlite3.h>
#include <unistd.h>

#include <string.h>

#include "mr-keys.h"
#include "mr-exchange.h"
#include "mr-mailshot.h"
#include "mr-mailshot-private.h"
#include "mr-sqlite.h"
#include "mr-outbox.h"
#include "mr-presets.h"
#include "mr-secrets.h"
#include "mr-smtp-error.h"

void
mr_mailshot_todo_clear (Todo *todo)
{
  g_clear_pointer (&todo->address, g_free);
  g_clear_pointer (&todo->data, g_free);
  g_clear_pointer (&todo->message_id, g_free);
  g_clear_pointer (&todo->token, g_free);
}

/* "<https://…?token=T>, <mailto:…?subject=unsubscribe%20T>" (RFC 2369), the URL first. */
static char *
list_unsubscribe (const JobConfig *config,
                  const char      *token)
{
  g_autoptr(GString) value = g_string_new (NULL);

  if (config->unsubscribe_url != NULL)
    {
      g_autoptr(GString) url = g_string_new (config->unsubscribe_url);

      if (g_string_replace (url, "{token}", token, 0) == 0)
        g_string_append_printf (url, "%stoken=%s", strchr (url->str, '?') ? "&" : "?", token);
      g_string_append_printf (value, "<%s>", url->str);
    }
  if (config->unsubscribe_mailto != NULL)
    g_string_append_printf (value, "%s<mailto:%s?subject=unsubscribe%%20%s>", value->len ? ", " : "",
                            config->unsubscribe_mailto, token);
  return g_string_free (g_steal_pointer (&value), FALSE);
}

/* What a mailshot adds to a row's mail: its own attachment, found again inside the folder, and its
 * unsubscribe headers. Errors: those of mr_proof_resolve_attachment(). */
static gboolean
add_row_extras (const JobConfig  *config,
                const Todo       *todo,
                JsonNode         *data,
                MrOutgoing       *outgoing,
                GError          **error)
{
  if (config->name_column != NULL)
    {
      const char *name = json_object_get_string_member_with_default (json_node_get_object (data), config->name_column, "");
      outgoing->to_name = *name ? g_strdup (name) : NULL;
    }
  if (config->attachment_column != NULL)
    {
      JsonObject *row = json_node_get_object (data);
      const char *name = json_object_get_string_member_with_default (row, config->attachment_column, "");

      if (*name != '\0')
        {
          g_autofree char *path = mr_proof_resolve_attachment (config->attachments_dir, name, error);

          if (path == NULL)
            return FALSE;
          mr_outgoing_add_attachment (outgoing, path, NULL, NULL);
        }
    }
  if (todo->token != NULL && (config->unsubscribe_url != NULL || config->unsubscribe_mailto != NULL))
    {
      outgoing->list_unsubscribe = list_unsubscribe (config, todo->token);
      outgoing->list_unsubscribe_post = config->unsubscribe_url != NULL;
    }
  return TRUE;
}

/* A row's mail as the job sends it, not yet built: rendered, addressed, with its own attachment and
 * unsubscribe headers. */
MrOutgoing *
mr_mailshot_row_outgoing (JsonParser       *parser,
                          MrTemplate       *template_,
                          MrSender         *sender,
                          const JobConfig  *config,
                          Todo             *todo,
                          MrRendered      **rendered_out,
                          GError          **error)
{
  /* A worker parses every row with one parser: making one each time cost as much as the parse. */
  g_autoptr(JsonNode) data = parser == NULL ? json_from_string (todo->data, error)
                             : json_parser_load_from_data (parser, todo->data, -1, error) ? json_parser_steal_root (parser)
                             : NULL;
  g_autoptr(MrRendered) rendered = NULL;
  g_autoptr(MrOutgoing) outgoing = mr_outgoing_new ();

  if (data == NULL)
    return NULL;
  /* The sender first: {{sender.name}} is theirs (the template's own From, set below, comes first). */
  mr_sender_fill (sender, outgoing);
  rendered = mr_template_render_as (template_, data, outgoing, config->size_limit, error);
  if (rendered == NULL)
    return NULL;
  g_ptr_array_add (outgoing->to, g_strdup (todo->address));
  if (!mr_template_fill_outgoing (template_, rendered, outgoing, error))
    return NULL;
  /* One mail per recipient; the company's copy address gets one copy of the job, unless the admin
   * chose one of each (mailshot.copy_each). */
  if (!config->copy_each)
    g_ptr_array_set_size (outgoing->copy_to, 0);
  outgoing->message_id = g_strdup (todo->message_id);
  if (!add_row_extras (config, todo, data, outgoing, error))
    return NULL;
  if (rendered_out != NULL)
    *rendered_out = g_steal_pointer (&rendered);
  return g_steal_pointer (&outgoing);
}

/* @builder and @parser: a worker's own, or NULL for one message alone. */
GBytes *
mr_mailshot_build_message (MrMessageBuilder *builder,
                           JsonParser       *parser,
                           MrTemplate       *template_,
                           MrSender         *sender,
                           const JobConfig  *config,
                           Todo             *todo,
                           MrSmtpEnvelope  **envelope,
                           MrRendered      **rendered_out,
                           GError          **error)
{
  g_autoptr(MrRendered) rendered = NULL;
  g_autoptr(MrOutgoing) outgoing = mr_mailshot_row_outgoing (parser, template_, sender, config, todo, &rendered, error);
  GBytes *message;

  if (outgoing == NULL)
    return NULL;
  *envelope = mr_outgoing_get_envelope (outgoing);
  message = builder ? mr_message_builder_build (builder, outgoing, NULL, error) : mr_outgoing_build (outgoing, NULL, error);
  if (message != NULL && rendered_out != NULL)
    *rendered_out = g_steal_pointer (&rendered);
  return message;
}
