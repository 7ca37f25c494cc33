/* mr-message.c: outgoing messages, built with GMime */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <gmime/gmime.h>

#include "mr-keys.h"
#include "mr-message.h"

/* GMime 3.2 defines no autoptr cleanups of its own. */
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeMessage, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeTextPart, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeFormatOptions, g_mime_format_options_free)

static void
ensure_gmime (void)
{
  static gsize initialized = 0;

  if (g_once_init_enter (&initialized))
    {
      g_mime_init ();
      g_once_init_leave (&initialized, 1);
    }
}

MrOutgoing *
mr_outgoing_new (void)
{
  MrOutgoing *outgoing = g_new0 (MrOutgoing, 1);

  outgoing->to = g_ptr_array_new_with_free_func (g_free);
  outgoing->cc = g_ptr_array_new_with_free_func (g_free);
  outgoing->bcc = g_ptr_array_new_with_free_func (g_free);
  outgoing->copy_to = g_ptr_array_new_with_free_func (g_free);
  return outgoing;
}

void
mr_outgoing_free (MrOutgoing *outgoing)
{
  if (outgoing == NULL)
    return;
  g_free (outgoing->from_name);
  g_free (outgoing->from_address);
  g_free (outgoing->reply_to);
  g_ptr_array_unref (outgoing->to);
  g_ptr_array_unref (outgoing->cc);
  g_ptr_array_unref (outgoing->bcc);
  g_ptr_array_unref (outgoing->copy_to);
  g_free (outgoing->subject);
  g_free (outgoing->text_body);
  g_free (outgoing);
}

static gboolean
check_addresses (GPtrArray   *addresses,
                 const char  *field,
                 GError     **error)
{
  for (guint i = 0; i < addresses->len; i++)
    if (!mr_validate_address (g_ptr_array_index (addresses, i), error))
      {
        g_prefix_error (error, "%s: ", field);
        return FALSE;
      }
  return TRUE;
}

static void
add_mailboxes (InternetAddressList *list,
               GPtrArray           *addresses)
{
  for (guint i = 0; i < addresses->len; i++)
    {
      InternetAddress *mailbox = internet_address_mailbox_new (NULL, g_ptr_array_index (addresses, i));
      internet_address_list_add (list, mailbox);
      g_object_unref (mailbox);
    }
}

GBytes *
mr_outgoing_build (const MrOutgoing  *outgoing,
                   char             **message_id,
                   GError           **error)
{
  g_autoptr(GMimeMessage) message = NULL;
  g_autoptr(GMimeTextPart) body = NULL;
  g_autoptr(GMimeFormatOptions) options = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *id = NULL;
  g_autofree char *text = NULL;
  const char *domain;
  InternetAddress *from;

  ensure_gmime ();

  /* Nothing rendered into a header may add a header or a recipient. */
  if (!mr_validate_address (outgoing->from_address, error))
    {
      g_prefix_error (error, "sender.from_address: ");
      return NULL;
    }
  if ((outgoing->from_name != NULL && !mr_validate_single_line (outgoing->from_name, error)) ||
      (outgoing->subject != NULL && !mr_validate_single_line (outgoing->subject, error)))
    {
      g_prefix_error (error, _("Subject or name: "));
      return NULL;
    }
  if ((outgoing->reply_to != NULL && *outgoing->reply_to != '\0' && !mr_validate_address (outgoing->reply_to, error)) ||
      !check_addresses (outgoing->to, "To", error) || !check_addresses (outgoing->cc, "Cc", error) ||
      !check_addresses (outgoing->bcc, "Bcc", error) || !check_addresses (outgoing->copy_to, "sender.copy_to", error))
    return NULL;

  message = g_mime_message_new (TRUE);
  from = internet_address_mailbox_new (outgoing->from_name && *outgoing->from_name ? outgoing->from_name : NULL,
                                       outgoing->from_address);
  internet_address_list_add (g_mime_message_get_from (message), from);
  g_object_unref (from);
  if (outgoing->reply_to != NULL && *outgoing->reply_to != '\0')
    {
      InternetAddress *reply_to = internet_address_mailbox_new (NULL, outgoing->reply_to);
      internet_address_list_add (g_mime_message_get_reply_to (message), reply_to);
      g_object_unref (reply_to);
    }
  add_mailboxes (g_mime_message_get_addresses (message, GMIME_ADDRESS_TYPE_TO), outgoing->to);
  add_mailboxes (g_mime_message_get_addresses (message, GMIME_ADDRESS_TYPE_CC), outgoing->cc);
  /* Bcc and copy_to stay out of the headers on purpose. */

  g_mime_message_set_subject (message, outgoing->subject ? outgoing->subject : "", "utf-8");
  g_mime_message_set_date (message, now);
  domain = mr_address_get_domain (outgoing->from_address);
  id = g_mime_utils_generate_message_id (domain && *domain ? domain : "localhost");
  g_mime_message_set_message_id (message, id);
  g_mime_object_set_header (GMIME_OBJECT (message), "X-Mailer", "Mailroom " MAILROOM_VERSION, NULL);

  body = g_mime_text_part_new_with_subtype ("plain");
  g_mime_text_part_set_text (body, outgoing->text_body ? outgoing->text_body : "");
  /* Quoted-printable or base64 as the text needs: 7-bit on the wire, short lines. */
  g_mime_part_set_content_encoding (GMIME_PART (body),
                                    g_mime_part_get_best_content_encoding (GMIME_PART (body), GMIME_ENCODING_CONSTRAINT_7BIT));
  g_mime_message_set_mime_part (message, GMIME_OBJECT (body));

  options = g_mime_format_options_new ();
  g_mime_format_options_set_newline_format (options, GMIME_NEWLINE_FORMAT_DOS);
  text = g_mime_object_to_string (GMIME_OBJECT (message), options);

  if (message_id != NULL)
    *message_id = g_strdup (id);
  {
    gsize length = strlen (text);
    return g_bytes_new_take (g_steal_pointer (&text), length);
  }
}

MrSmtpEnvelope *
mr_outgoing_get_envelope (const MrOutgoing *outgoing)
{
  MrSmtpEnvelope *envelope = mr_smtp_envelope_new (outgoing->from_address);
  GPtrArray *lists[] = { outgoing->to, outgoing->cc, outgoing->bcc, outgoing->copy_to };

  for (guint l = 0; l < G_N_ELEMENTS (lists); l++)
    for (guint i = 0; i < lists[l]->len; i++)
      mr_smtp_envelope_add_recipient (envelope, g_ptr_array_index (lists[l], i));
  return envelope;
}
