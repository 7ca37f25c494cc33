/* mr-mailshot-samples.c: a mailshot before it goes: the dry run, the preview of a row, the samples */

/* F_OFD_SETLK: the lease is an open file description lock. */
#define _GNU_SOURCE 1

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
#include "mr-mailshot.h"
#include "mr-mailshot-private.h"
#include "mr-sqlite.h"
#include "mr-outbox.h"
#include "mr-presets.h"
#include "mr-secrets.h"
#include "mr-smtp-error.h"



static const MrMailshotOptions default_options = MR_MAILSHOT_OPTIONS_INIT;

/* ---- Dry run, preview, samples ---------------------------------------------------------------- */

/* The rows of a list as a job would send them, without a journal: the job's settings as
 * mr_mailshot_create() would write them, and a visitor called with each row. */
typedef struct _Visit Visit;
typedef gboolean (*RowVisitor) (Visit      *visit,
                                Todo       *todo,
                                const char *problem);

struct _Visit
{
  MrTemplate         *template_;
  MrSender           *sender;
  MrTransport        *transport;          /* the job's route: the samples go through it */
  JobConfig           config;
  const char * const *columns;
  const char         *from_address;
  RowVisitor          visitor;
  gpointer            data;
  gboolean            stopped;
};

static void
visit_row (guint               row,
           const char         *address,
           const char * const *fields,
           const char         *problem,
           gpointer            user_data)
{
  Visit *visit = user_data;
  g_auto(Todo) todo = { 0 };

  if (visit->stopped)
    return;
  todo.row = row;
  todo.address = g_strdup (address);
  todo.data = fields ? mr_mailshot_row_data (visit->columns, fields) : NULL;
  todo.message_id = mr_message_id_new (visit->from_address);
  todo.token = mr_mailshot_new_token ();
  if (!visit->visitor (visit, &todo, problem))
    visit->stopped = TRUE;
}

static gboolean
visit_rows (MrSettings               *settings,
            MrTemplate               *template_,
            const char               *recipients,
            const MrMailshotOptions  *options,
            RowVisitor                visitor,
            gpointer                  data,
            GError                  **error)
{
  g_autoptr(MrRecipientReader) reader = NULL;
  g_autoptr(MrProofReport) report = NULL;
  g_autoptr(MrRouter) router = NULL;
  g_autoptr(MrSender) sender = NULL;
  g_autofree char *url = NULL;
  g_autofree char *mailto = NULL;
  Visit visit = { template_, NULL, NULL, { 0 }, NULL, NULL, visitor, data, FALSE };

  g_autofree char *route = NULL;

  if (options == NULL)
    options = &default_options;
  reader = mr_recipient_reader_open_sheet (recipients, options->proof.sheet, error);
  if (reader == NULL)
    return FALSE;
  route = mr_mailshot_resolve_route (settings, options->app, options->route);
  /* As the job would: the settings must be able to send. */
  router = mr_router_new (settings, options->app, route, NULL, error);
  if (router == NULL || !mr_router_check (router, error))
    return FALSE;
  sender = mr_sender_new (settings, options->app, error);
  if (sender == NULL)
    return FALSE;
  visit.sender = sender;
  visit.transport = MR_TRANSPORT (router);
  visit.columns = mr_recipient_reader_get_columns (reader);
  visit.from_address = template_->from_address ? template_->from_address : mr_sender_get_address (sender);
  visit.config.attachment_column = g_strdup (options->proof.attachment_column);
  visit.config.name_column = g_strdup (options->proof.name_column);
  visit.config.attachments_dir = g_strdup (options->proof.attachments_dir);
  url = mr_settings_dup_effective_string (settings, options->app, "mailshot.unsubscribe_url");
  mailto = mr_settings_dup_effective_string (settings, options->app, "mailshot.unsubscribe_mailto");
  visit.config.unsubscribe_url = *url ? g_strdup (url) : NULL;
  visit.config.unsubscribe_mailto = *mailto ? g_strdup (mailto) : NULL;
  visit.config.copy_each = mr_settings_get_effective_boolean (settings, options->app, "mailshot.copy_each");
  visit.config.size_limit = mr_transport_get_size_limit (visit.transport);
  report = mr_proofread_full (template_, recipients, &options->proof, visit_row, &visit, error);
  mr_transport_close (visit.transport);
  mr_mailshot_job_config_clear (&visit.config);
  return report != NULL;
}

typedef struct {
  const char *dir;
  gint64      written;
  GPtrArray  *failed;
  GError     *error;
} DryRun;

static gboolean
write_row (Visit      *visit,
           Todo       *todo,
           const char *problem)
{
  DryRun *dry = visit->data;
  g_autoptr(MrSmtpEnvelope) envelope = NULL;
  g_autoptr(GBytes) message = NULL;
  g_autofree char *name = NULL;
  g_autofree char *path = NULL;

  if (problem != NULL)
    return TRUE;
  message = mr_mailshot_build_message (NULL, NULL, visit->template_, visit->sender, &visit->config, todo, &envelope, NULL, &dry->error);
  /* A row whose own values make no mail (a line break in the subject, say) fails that row in a real
   * run, and the job goes on: so does the dry run, which names it. */
  if (message == NULL && mr_mailshot_failure_scope (dry->error) == FAILURE_PERMANENT)
    {
      g_ptr_array_add (dry->failed, g_strdup_printf (_("Row %u (%s): %s"), todo->row, todo->address,
                                                     dry->error->message));
      g_clear_error (&dry->error);
      return TRUE;
    }
  if (message == NULL)
    return FALSE;
  name = g_strdup_printf ("%06u.eml", todo->row);
  path = g_build_filename (dry->dir, name, NULL);
  if (!g_file_set_contents_full (path, g_bytes_get_data (message, NULL), g_bytes_get_size (message),
                                 G_FILE_SET_CONTENTS_CONSISTENT, 0644, &dry->error))
    return FALSE;
  dry->written++;
  return TRUE;
}

gint64
mr_mailshot_dry_run (MrSettings               *settings,
                     MrTemplate               *template_,
                     const char               *recipients,
                     const MrMailshotOptions  *options,
                     const char               *dir,
                     GPtrArray               **failed,
                     GError                  **error)
{
  g_autoptr(GPtrArray) failed_rows = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(MrTemplate) embedded = mr_template_copy (template_);
  DryRun dry = { dir, 0, failed_rows, NULL };

  /* As the worker does: the pictures made inline parts once, for every mail. */
  if (!mr_template_embed_images (embedded, error))
    return -1;
  template_ = embedded;
  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno), _("Cannot create %s: %s"), dir,
                   g_strerror (saved_errno));
      return -1;
    }
  if (!visit_rows (settings, template_, recipients, options, write_row, &dry, error))
    {
      g_clear_error (&dry.error);
      return -1;
    }
  if (dry.error != NULL)
    {
      g_propagate_error (error, dry.error);
      return -1;
    }
  if (failed != NULL)
    *failed = g_steal_pointer (&failed_rows);
  return dry.written;
}

void
mr_mailshot_preview_free (MrMailshotPreview *preview)
{
  if (preview == NULL)
    return;
  g_free (preview->address);
  g_free (preview->problem);
  g_free (preview->subject);
  g_free (preview->text);
  g_free (preview->html);
  g_clear_pointer (&preview->message, g_bytes_unref);
  g_clear_pointer (&preview->missing, g_ptr_array_unref);
  g_free (preview->marked_subject);
  g_free (preview->marked_text);
  g_free (preview->marked_html);
  g_free (preview);
}

typedef struct {
  guint              row;
  const char        *address;   /* or the first row with this address, or starting with it */
  MrMailshotPreview *preview;
  GError            *error;
  int                direction; /* 1: the first row from @row on; -1: only look for the last up to it */
  guint              found;     /* -1: that row */
} PreviewRow;

/* The row rendered again with each empty field as its marked name, for the preview to show where
 * the value is missing. */
static void
mark_missing (MrMailshotPreview *preview,
              MrTemplate        *template_,
              MrSender          *sender,
              const char        *data,
              GPtrArray         *missing)
{
  g_autoptr(JsonNode) root = json_from_string (data, NULL);
  g_autoptr(MrOutgoing) outgoing = mr_outgoing_new ();
  g_autoptr(MrRendered) marked = NULL;
  g_autoptr(GPtrArray) variables = mr_template_list_variables (template_, NULL);
  JsonObject *object = root && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;

  /* The template's fields with no value in this row: not a column, or an empty cell. */
  preview->missing = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; variables != NULL && object != NULL && i < variables->len; i++)
    {
      const char *name = g_ptr_array_index (variables, i);
      JsonNode *value = json_object_get_member (object, name);

      if (value == NULL || (JSON_NODE_HOLDS_VALUE (value) && json_node_get_value_type (value) == G_TYPE_STRING &&
                            *json_node_get_string (value) == '\0'))
        g_ptr_array_add (preview->missing, g_strdup (name));
    }
  for (guint i = 0; missing != NULL && i < missing->len; i++)
    if (!g_ptr_array_find_with_equal_func (preview->missing, g_ptr_array_index (missing, i), g_str_equal, NULL))
      g_ptr_array_add (preview->missing, g_strdup (g_ptr_array_index (missing, i)));
  if (preview->missing->len == 0 || object == NULL)
    return;
  for (guint i = 0; i < preview->missing->len; i++)
    {
      const char *name = g_ptr_array_index (preview->missing, i);

      g_autofree char *shown = g_strconcat (MR_MAILSHOT_MISSING_OPEN, name, MR_MAILSHOT_MISSING_CLOSE, NULL);

      json_object_set_string_member (object, name, shown);
    }
  mr_sender_fill (sender, outgoing);
  marked = mr_template_render_as (template_, root, outgoing, 0, NULL);
  if (marked == NULL)
    return;
  preview->marked_subject = g_strdup (marked->subject);
  preview->marked_text = g_strdup (marked->text);
  preview->marked_html = g_strdup (marked->html);
}

static gboolean
preview_row (Visit      *visit,
             Todo       *todo,
             const char *problem)
{
  PreviewRow *wanted = visit->data;
  g_autoptr(MrSmtpEnvelope) envelope = NULL;
  g_autoptr(MrRendered) rendered = NULL;
  GBytes *message;

  if (wanted->direction < 0)
    {
      if (todo->row > wanted->row)
        return FALSE;
      wanted->found = todo->row;
      return TRUE;
    }
  if (wanted->address != NULL
      ? todo->address == NULL || g_ascii_strncasecmp (todo->address, wanted->address, strlen (wanted->address)) != 0
      : wanted->direction > 0 ? todo->row < wanted->row : todo->row != wanted->row)
    return TRUE;
  if (todo->data == NULL)
    {
      g_set_error_literal (&wanted->error, MR_MAILSHOT_ERROR, MR_MAILSHOT_ERROR_NOT_FOUND, problem);
      return FALSE;
    }
  message = mr_mailshot_build_message (NULL, NULL, visit->template_, visit->sender, &visit->config, todo, &envelope, &rendered, &wanted->error);
  /* A row the proof-reader rejected may not make a message at all: its problem says why. */
  if (message == NULL && problem != NULL)
    {
      g_clear_error (&wanted->error);
      wanted->preview = g_new0 (MrMailshotPreview, 1);
      wanted->preview->row = todo->row;
      wanted->preview->address = g_strdup (todo->address);
      wanted->preview->problem = g_strdup (problem);
      return FALSE;
    }
  if (message == NULL)
    return FALSE;
  wanted->preview = g_new0 (MrMailshotPreview, 1);
  wanted->preview->row = todo->row;
  wanted->preview->address = g_strdup (todo->address);
  wanted->preview->problem = g_strdup (problem);
  wanted->preview->subject = g_strdup (rendered->subject);
  wanted->preview->text = g_strdup (rendered->text);
  wanted->preview->html = g_strdup (rendered->html);
  wanted->preview->message = message;
  mark_missing (wanted->preview, visit->template_, visit->sender, todo->data, rendered->missing);
  return FALSE;
}

/* Goes through the rows for @wanted's; @not_found when none is it. */
static MrMailshotPreview *
find_preview (MrSettings               *settings,
              MrTemplate               *template_,
              const char               *recipients,
              const MrMailshotOptions  *options,
              PreviewRow               *wanted,
              const char               *not_found,
              GError                  **error)
{
  if (!visit_rows (settings, template_, recipients, options, preview_row, wanted, error))
    {
      g_clear_error (&wanted->error);
      return NULL;
    }
  if (wanted->error != NULL)
    {
      g_propagate_error (error, wanted->error);
      return NULL;
    }
  if (wanted->preview == NULL)
    g_set_error_literal (error, MR_MAILSHOT_ERROR, MR_MAILSHOT_ERROR_NOT_FOUND, not_found);
  return wanted->preview;
}

MrMailshotPreview *
mr_mailshot_preview (MrSettings               *settings,
                     MrTemplate               *template_,
                     const char               *recipients,
                     const MrMailshotOptions  *options,
                     guint                     row,
                     GError                  **error)
{
  PreviewRow wanted = { row, NULL, NULL, NULL, 0, 0 };
  g_autofree char *not_found = g_strdup_printf (_("The list has no row %u"), row);

  return find_preview (settings, template_, recipients, options, &wanted, not_found, error);
}

MrMailshotPreview *
mr_mailshot_preview_step (MrSettings               *settings,
                          MrTemplate               *template_,
                          const char               *recipients,
                          const MrMailshotOptions  *options,
                          guint                     row,
                          int                       direction,
                          GError                  **error)
{
  PreviewRow wanted = { row, NULL, NULL, NULL, direction, 0 };

  if (direction < 0)
    {
      /* First the row's number, cheaply; then its mail. */
      if (!visit_rows (settings, template_, recipients, options, preview_row, &wanted, error))
        return NULL;
      if (wanted.found == 0)
        {
          g_set_error_literal (error, MR_MAILSHOT_ERROR, MR_MAILSHOT_ERROR_NOT_FOUND, _("This is the first row"));
          return NULL;
        }
      return mr_mailshot_preview (settings, template_, recipients, options, wanted.found, error);
    }
  return find_preview (settings, template_, recipients, options, &wanted,
                       direction > 0 ? _("This is the last row") : _("The list has no such row"), error);
}

MrMailshotPreview *
mr_mailshot_preview_find (MrSettings               *settings,
                          MrTemplate               *template_,
                          const char               *recipients,
                          const MrMailshotOptions  *options,
                          const char               *address,
                          GError                  **error)
{
  g_autofree char *wanted_address = g_strstrip (g_strdup (address));
  g_autofree char *not_found = NULL;
  PreviewRow wanted = { 0, wanted_address, NULL, NULL, 0, 0 };

  if (*wanted_address == '\0')
    {
      g_set_error_literal (error, MR_MAILSHOT_ERROR, MR_MAILSHOT_ERROR_NOT_FOUND, _("Type an address to look for"));
      return NULL;
    }
  not_found = g_strdup_printf (_("No row has the address “%s”"), wanted_address);
  return find_preview (settings, template_, recipients, options, &wanted, not_found, error);
}

typedef struct {
  const char   *to;
  guint         count;
  guint         row;           /* only this row; 0: the first @count */
  gint          sent;
  MrSentLog    *log;           /* samples are sends too: recorded like any mail */
  const char   *app;
  GCancellable *cancellable;
  GError       *error;
} Samples;

static gboolean
send_sample (Visit      *visit,
             Todo       *todo,
             const char *problem)
{
  Samples *samples = visit->data;
  g_autoptr(GBytes) message = NULL;
  g_autoptr(MrSmtpEnvelope) to_self = NULL;
  g_autoptr(MrOutgoing) outgoing = NULL;
  g_autoptr(MrTransportResult) result = NULL;
  g_autofree char *subject = NULL;
  g_autofree char *message_id = NULL;

  if (samples->row != 0 && todo->row != samples->row)
    return TRUE;
  if (problem != NULL && samples->row != 0)
    {
      g_set_error (&samples->error, MR_MAILSHOT_ERROR, MR_MAILSHOT_ERROR_NOT_FOUND, _("Row %u is not sent: %s"),
                   todo->row, problem);
      return FALSE;
    }
  if (problem != NULL)
    return TRUE;
  /* The row's mail, to the sender alone: To, the subject and the Message-ID differ, and no copy. */
  outgoing = mr_mailshot_row_outgoing (NULL, visit->template_, visit->sender, &visit->config, todo, NULL, &samples->error);
  if (outgoing == NULL)
    return FALSE;
  g_free (g_ptr_array_index (outgoing->to, 0));
  g_ptr_array_index (outgoing->to, 0) = g_strdup (samples->to);
  g_clear_pointer (&outgoing->to_name, g_free);
  g_ptr_array_set_size (outgoing->copy_to, 0);
  g_clear_pointer (&outgoing->message_id, g_free);
  subject = g_strdup_printf (_("[Sample, row %u, for %s] %s"), todo->row, todo->address,
                             outgoing->subject ? outgoing->subject : "");
  g_free (outgoing->subject);
  outgoing->subject = g_steal_pointer (&subject);
  to_self = mr_outgoing_get_envelope (outgoing);
  message = mr_outgoing_build (outgoing, &message_id, &samples->error);
  if (message == NULL)
    return FALSE;
  result = mr_transport_send_sync (visit->transport, to_self, message, samples->cancellable, &samples->error);
  if (result == NULL)
    return FALSE;
  if (samples->log != NULL)
    {
      MrSentMailshotMail mail = { message_id, samples->to, outgoing->from_address, outgoing->subject, samples->app,
                                  visit->template_->name,
                                  mr_transport_get_label (visit->transport), result->reply, MR_SENT_STATE_ACCEPTED, 1,
                                  g_get_real_time () / G_USEC_PER_SEC };
      g_autoptr(GError) log_error = NULL;

      if (!mr_sent_log_add_mailshot_mails (samples->log, 0, &mail, 1, &log_error))
        g_message ("A sample is not in the sent log: %s", log_error->message);
    }
  return ++samples->sent < (gint) samples->count;
}

static gint
send_samples (MrSettings               *settings,
              MrTemplate               *template_,
              const char               *recipients,
              const MrMailshotOptions  *options,
              const char               *to,
              guint                     count,
              guint                     row,
              GCancellable             *cancellable,
              GError                  **error)
{
  Samples samples = { to, count, row, 0, NULL, options ? options->app : NULL, cancellable, NULL };
  g_autoptr(MrSentLog) log = NULL;
  gboolean read;

  if (!mr_validate_address (to, error))
    return -1;
  if (count == 0)
    return 0;
  log = mr_outbox_open_log (settings, NULL, error);
  if (log == NULL)
    return -1;
  samples.log = log;
  read = visit_rows (settings, template_, recipients, options, send_sample, &samples, error);
  if (!read)
    {
      g_clear_error (&samples.error);
      return -1;
    }
  if (samples.error != NULL)
    {
      g_propagate_error (error, samples.error);
      return -1;
    }
  return samples.sent;
}

gint
mr_mailshot_send_samples_sync (MrSettings               *settings,
                               MrTemplate               *template_,
                               const char               *recipients,
                               const MrMailshotOptions  *options,
                               const char               *to,
                               guint                     count,
                               GCancellable             *cancellable,
                               GError                  **error)
{
  return send_samples (settings, template_, recipients, options, to, count, 0, cancellable, error);
}

gboolean
mr_mailshot_send_sample_row_sync (MrSettings               *settings,
                                  MrTemplate               *template_,
                                  const char               *recipients,
                                  const MrMailshotOptions  *options,
                                  const char               *to,
                                  guint                     row,
                                  GCancellable             *cancellable,
                                  GError                  **error)
{
  gint sent = send_samples (settings, template_, recipients, options, to, 1, row, cancellable, error);

  if (sent == 0)
    g_set_error (error, MR_MAILSHOT_ERROR, MR_MAILSHOT_ERROR_NOT_FOUND, _("The list has no row %u"), row);
  return sent > 0;
}
