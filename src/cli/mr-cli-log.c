/* mr-cli-log.c: the sent log, the outbox and resend */

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

static void
add_entry_json (JsonBuilder *builder,
                MrSentEntry *entry)
{
  g_autofree char *created = mr_cli_format_time (entry->created);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_int_value (builder, entry->id);
  mr_cli_add_string (builder, "message_id", entry->message_id);
  mr_cli_add_string (builder, "created", created);
  mr_cli_add_string (builder, "state", mr_sent_state_to_string (entry->state));
  mr_cli_add_string (builder, "from", entry->from_address);
  mr_cli_add_strv (builder, "recipients", (const char * const *) entry->recipients);
  /* Each recipient's own outcome and the server's reply about it. */
  json_builder_set_member_name (builder, "outcomes");
  json_builder_begin_array (builder);
  for (guint i = 0; entry->outcomes != NULL && i < entry->outcomes->len; i++)
    {
      MrSentRecipient *recipient = g_ptr_array_index (entry->outcomes, i);

      json_builder_begin_object (builder);
      mr_cli_add_string (builder, "address", recipient->address);
      mr_cli_add_string (builder, "outcome", recipient->outcome);
      mr_cli_add_string (builder, "reply", recipient->reply);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  mr_cli_add_string (builder, "subject", entry->subject);
  mr_cli_add_string (builder, "template", entry->template_name);
  mr_cli_add_string (builder, "app", entry->app);
  mr_cli_add_string (builder, "route", entry->route);
  if (entry->mailshot > 0)
    {
      json_builder_set_member_name (builder, "mailshot");
      json_builder_add_int_value (builder, entry->mailshot);
    }
  json_builder_set_member_name (builder, "attempts");
  json_builder_add_int_value (builder, entry->attempts);
  mr_cli_add_string (builder, "last_error", entry->last_error);
  json_builder_set_member_name (builder, "copy");
  json_builder_add_boolean_value (builder, entry->has_copy);
  if (entry->state == MR_SENT_STATE_QUEUED)
    {
      g_autofree char *next = mr_cli_format_time (entry->next_attempt);
      mr_cli_add_string (builder, "next_attempt", next);
    }
  json_builder_end_object (builder);
}

static int
print_entries (Invocation *inv,
               GPtrArray  *entries)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_array (builder);
  for (guint i = 0; i < entries->len; i++)
    {
      MrSentEntry *entry = g_ptr_array_index (entries, i);

      if (inv->json)
        add_entry_json (builder, entry);
      else
        {
          g_autofree char *created = mr_cli_format_time (entry->created);
          GString *to = g_string_new (NULL);

          /* A recipient whose outcome is not the mail's own says it: "bob@… (refused)". */
          for (guint r = 0; r < entry->outcomes->len; r++)
            {
              MrSentRecipient *recipient = g_ptr_array_index (entry->outcomes, r);
              gboolean as_mail = (entry->state == MR_SENT_STATE_ACCEPTED && g_str_equal (recipient->outcome, "accepted")) ||
                                 (entry->state == MR_SENT_STATE_FAILED && g_str_equal (recipient->outcome, "refused"));

              g_string_append_printf (to, "%s%s", r ? ", " : "", recipient->address);
              if (!as_mail && entry->state != MR_SENT_STATE_SENDING && entry->state != MR_SENT_STATE_CANCELLED)
                g_string_append_printf (to, " (%s)", recipient->outcome);
            }
          g_print ("%" G_GINT64_FORMAT "\t%s\t%s\t%s\t%s\n", entry->id, created, mr_sent_state_to_string (entry->state),
                   to->str, entry->subject);
          g_string_free (to, TRUE);
        }
    }
  json_builder_end_array (builder);
  if (inv->json)
    {
      root = json_builder_get_root (builder);
      mr_cli_print_json (root);
    }
  return MR_EXIT_OK;
}

/* "log --addresses PREFIX": the addresses mail went to, most used first, as To completes them. */
static int
log_addresses (Invocation *inv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MrSentLog) log = mr_cli_open_log (inv, &error);
  g_autoptr(GPtrArray) addresses = NULL;

  if (log == NULL)
    return mr_cli_fail (inv, error);
  addresses = mr_sent_log_complete_addresses (log, inv->addresses, 20, &error);
  if (addresses == NULL)
    return mr_cli_fail (inv, error);
  if (inv->json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_array (builder);
      for (guint i = 0; i < addresses->len; i++)
        {
          MrSentAddress *address = g_ptr_array_index (addresses, i);

          json_builder_begin_object (builder);
          mr_cli_add_string (builder, "address", address->address);
          json_builder_set_member_name (builder, "count");
          json_builder_add_int_value (builder, address->count);
          json_builder_set_member_name (builder, "last_sent");
          json_builder_add_int_value (builder, address->last_sent);
          json_builder_end_object (builder);
        }
      json_builder_end_array (builder);
      root = json_builder_get_root (builder);
      mr_cli_print_json (root);
    }
  else
    for (guint i = 0; i < addresses->len; i++)
      g_print ("%s\n", ((MrSentAddress *) g_ptr_array_index (addresses, i))->address);
  return MR_EXIT_OK;
}

int
cmd_log (Invocation *inv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MrSentLog) log = NULL;
  g_autoptr(GPtrArray) entries = NULL;
  MrSentQuery query = { NULL, inv->to, 0, 0, -1, 0 };

  if (inv->args->len != 0)
    return mr_cli_usage_error (inv, _("“log” takes no arguments"));
  if (inv->addresses != NULL)
    return log_addresses (inv);
  if (inv->since != NULL)
    {
      g_autofree char *iso = g_strdup_printf ("%sT00:00:00", inv->since);
      g_autoptr(GTimeZone) zone = g_time_zone_new_local ();
      g_autoptr(GDateTime) since = g_date_time_new_from_iso8601 (iso, zone);

      if (since == NULL)
        return mr_cli_usage_error (inv, _("--since takes a date as YYYY-MM-DD"));
      query.since = g_date_time_to_unix (since);
    }
  if (inv->status != NULL)
    {
      MrSentState state;

      if (!mr_sent_state_from_string (inv->status, &state))
        return mr_cli_usage_error (inv, _("--status takes accepted, partly-accepted, failed, queued, sending or cancelled"));
      query.state = state;
    }

  log = mr_cli_open_log (inv, &error);
  if (log == NULL)
    return mr_cli_fail (inv, error);
  entries = mr_sent_log_search (log, &query, &error);
  if (entries == NULL)
    return mr_cli_fail (inv, error);
  return print_entries (inv, entries);
}

/* "outbox retry" and "outbox cancel" act on mail that waits in the outbox, and nothing else. */
static gboolean
is_queued (Invocation  *inv,
           MrSentLog   *log,
           gint64       id,
           GError     **error)
{
  g_autoptr(MrSentEntry) entry = mr_sent_log_get (log, id, error);

  if (entry == NULL)
    return FALSE;
  if (entry->state != MR_SENT_STATE_QUEUED)
    {
      g_set_error (error, MR_SENT_LOG_ERROR, MR_SENT_LOG_ERROR_NOT_FOUND, _("Entry %s is not in the outbox (it is %s)"),
                   (const char *) g_ptr_array_index (inv->args, 0), mr_sent_state_to_string (entry->state));
      return FALSE;
    }
  return TRUE;
}

int
cmd_outbox (Invocation *inv,
            const char *command)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MrSentLog) log = mr_sent_log_open (NULL, &error);
  gint64 id = 0;

  if (log == NULL)
    return mr_cli_fail (inv, error);

  if (command == NULL)
    {
      MrSentQuery query = { NULL, NULL, 0, 0, MR_SENT_STATE_QUEUED, 0 };
      g_autoptr(GPtrArray) entries = mr_sent_log_search (log, &query, &error);

      if (entries == NULL)
        return mr_cli_fail (inv, error);
      return print_entries (inv, entries);
    }

  if ((g_str_equal (command, "retry") || g_str_equal (command, "cancel")) &&
      (inv->args->len != 1 || !g_ascii_string_to_signed (g_ptr_array_index (inv->args, 0), 10, 1, G_MAXINT64, &id, NULL)))
    return mr_cli_usage_error (inv, _("“outbox retry” and “outbox cancel” take an entry number"));

  if (g_str_equal (command, "cancel"))
    {
      if (!is_queued (inv, log, id, &error) || !mr_sent_log_set_state (log, id, MR_SENT_STATE_CANCELLED, 0, &error))
        return mr_cli_fail (inv, error);
      return MR_EXIT_OK;
    }

  if (g_str_equal (command, "retry") || g_str_equal (command, "run"))
    {
      g_autoptr(GPtrArray) reports = NULL;
      int status = MR_EXIT_OK;

      /* Its time is now. */
      if (g_str_equal (command, "retry") &&
          (!is_queued (inv, log, id, &error) ||
           !mr_sent_log_set_state (log, id, MR_SENT_STATE_QUEUED, g_get_real_time () / G_USEC_PER_SEC, &error)))
        return mr_cli_fail (inv, error);
      reports = mr_outbox_process_sync (inv->settings, log, g_get_real_time () / G_USEC_PER_SEC, NULL, &error);
      if (reports == NULL)
        return mr_cli_fail (inv, error);
      for (guint i = 0; i < reports->len; i++)
        {
          MrSendReport *report = g_ptr_array_index (reports, i);
          int one = mr_cli_print_report (inv, report);

          if (one != MR_EXIT_OK && status == MR_EXIT_OK)
            status = one;
        }
      return status;
    }

  {
    g_autofree char *message = g_strdup_printf (_("Unknown command “outbox %s”"), command);
    return mr_cli_usage_error (inv, message);
  }
}

/* A kept copy sent again as a new mail: "Send again" on the Sent page. */
int
cmd_resend (Invocation *inv,
            const char *number)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MrSentLog) log = NULL;
  g_autoptr(MrSendReport) report = NULL;
  gint64 id = 0;

  if (number == NULL || inv->args->len != 0 || !g_ascii_string_to_signed (number, 10, 1, G_MAXINT64, &id, NULL))
    return mr_cli_usage_error (inv, _("“resend” takes an entry number"));
  log = mr_cli_open_log (inv, &error);
  if (log == NULL)
    return mr_cli_fail (inv, error);
  report = mr_outbox_send_again_sync (inv->settings, log, id, NULL, &error);
  if (report == NULL)
    return mr_cli_fail (inv, error);
  return mr_cli_print_report (inv, report);
}
