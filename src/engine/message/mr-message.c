/* mr-message.c: outgoing messages, built with GMime
 *
 * Over 1,000 lines, and kept whole: the MIME parts, the text part made from the HTML, pictures given
 * as data: URIs made inline parts, and a built message read back as a mail program shows it are one
 * model of a message, kept beside the GMime calls that write and read it.
 */

#include "config.h"

#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <gmime/gmime.h>
#include <libxml/HTMLparser.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>

#include "mr-keys.h"
#include "mr-gmime-private.h"
#include "mr-message.h"
#include "mr-settings.h"

/* GMime 3.2 defines no autoptr cleanups of its own. */

void
mr_gmime_ensure (void)
{
  static gsize initialized = 0;

  if (g_once_init_enter (&initialized))
    {
      g_mime_init ();
      g_once_init_leave (&initialized, 1);
    }
}

static void
attachment_free (MrAttachment *attachment)
{
  g_free (attachment->path);
  g_free (attachment->filename);
  g_free (attachment->content_id);
  g_free (attachment);
}

MrOutgoing *
mr_outgoing_new (void)
{
  MrOutgoing *outgoing = g_new0 (MrOutgoing, 1);

  outgoing->to = g_ptr_array_new_with_free_func (g_free);
  outgoing->cc = g_ptr_array_new_with_free_func (g_free);
  outgoing->bcc = g_ptr_array_new_with_free_func (g_free);
  outgoing->copy_to = g_ptr_array_new_with_free_func (g_free);
  outgoing->attachments = g_ptr_array_new_with_free_func ((GDestroyNotify) attachment_free);
  return outgoing;
}

void
mr_outgoing_add_attachment (MrOutgoing *outgoing,
                            const char *path,
                            const char *filename,
                            const char *content_id)
{
  MrAttachment *attachment = g_new0 (MrAttachment, 1);

  attachment->path = g_strdup (path);
  attachment->filename = g_strdup (filename);
  attachment->content_id = g_strdup (content_id);
  g_ptr_array_add (outgoing->attachments, attachment);
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
  g_free (outgoing->html_body);
  g_ptr_array_unref (outgoing->attachments);
  g_free (outgoing->message_id);
  g_free (outgoing->list_unsubscribe);
  g_free (outgoing->to_name);
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
set_mailboxes (InternetAddressList *list,
               GPtrArray           *addresses,
               const char          *first_name)
{
  internet_address_list_clear (list);
  for (guint i = 0; i < addresses->len; i++)
    {
      const char *name = i == 0 && first_name != NULL && *first_name != '\0' ? first_name : NULL;
      InternetAddress *mailbox = internet_address_mailbox_new (name, g_ptr_array_index (addresses, i));
      internet_address_list_add (list, mailbox);
      g_object_unref (mailbox);
    }
}


/* ---- HTML to text ----------------------------------------------------------------------------- */

static gboolean
is_block (const char *name)
{
  static const char *blocks[] = { "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table", "tr",
                                  "blockquote", "pre", "section", "article", "header", "footer", "hr", NULL };
  return g_strv_contains (blocks, name);
}

static void
end_line (GString *out,
          guint    wanted_newlines)
{
  guint have = 0;

  for (gsize i = out->len; i > 0 && out->str[i - 1] == '\n'; i--)
    have++;
  if (out->len == 0)
    return;
  for (; have < wanted_newlines; have++)
    g_string_append_c (out, '\n');
}

static void
append_collapsed (GString    *out,
                  const char *text)
{
  for (const char *p = text; *p; p++)
    {
      gboolean space = *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r';

      if (space)
        {
          if (out->len > 0 && out->str[out->len - 1] != ' ' && out->str[out->len - 1] != '\n')
            g_string_append_c (out, ' ');
        }
      else
        g_string_append_c (out, *p);
    }
}

static void
walk_html (xmlNode *node,
           GString *out)
{
  for (; node != NULL; node = node->next)
    {
      const char *name = (const char *) node->name;

      if (node->type == XML_TEXT_NODE)
        append_collapsed (out, (const char *) node->content);
      else if (node->type == XML_ELEMENT_NODE)
        {
          if (g_str_equal (name, "script") || g_str_equal (name, "style") || g_str_equal (name, "head"))
            continue;
          if (g_str_equal (name, "br"))
            {
              g_string_append_c (out, '\n');
              continue;
            }
          if (is_block (name))
            end_line (out, g_str_equal (name, "p") || name[0] == 'h' ? 2 : 1);
          if (g_str_equal (name, "li"))
            {
              end_line (out, 1);
              g_string_append (out, "• ");
            }
          walk_html (node->children, out);
          if (g_str_equal (name, "a"))
            {
              xmlChar *href = xmlGetProp (node, (const xmlChar *) "href");

              /* Links stay usable in text: the address after the words. */
              if (href != NULL && !g_str_has_prefix ((const char *) href, "#") &&
                  !g_str_has_prefix ((const char *) href, "cid:"))
                g_string_append_printf (out, " <%s>", (const char *) href);
              xmlFree (href);
            }
          if (is_block (name) || g_str_equal (name, "li"))
            end_line (out, g_str_equal (name, "p") || name[0] == 'h' ? 2 : 1);
        }
    }
}

char *
mr_html_to_text (const char *html)
{
  htmlDocPtr doc = htmlReadMemory (html, strlen (html), NULL, "UTF-8",
                                   HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
  GString *out = g_string_new (NULL);

  if (doc != NULL)
    {
      walk_html (xmlDocGetRootElement (doc), out);
      xmlFreeDoc (doc);
    }
  /* Trim trailing white space and end with one newline. */
  while (out->len > 0 && (out->str[out->len - 1] == '\n' || out->str[out->len - 1] == ' '))
    g_string_truncate (out, out->len - 1);
  g_string_append_c (out, '\n');
  return g_string_free (out, FALSE);
}

/* ---- MIME parts ------------------------------------------------------------------------------- */

/* The text as it is, in UTF-8 (us-ascii when it is plain ASCII): GMime's own choice would convert
 * it to a narrower charset first (ISO-8859-1 for most European text), which costs an iconv pass per
 * part and gains nothing today. */
static void
set_text (GMimeTextPart *part,
          const char    *text)
{
  gsize length = strlen (text);
  g_autoptr(GMimeStream) stream = g_mime_stream_mem_new_with_buffer (text, length);
  g_autoptr(GMimeDataWrapper) content = g_mime_data_wrapper_new_with_stream (stream, GMIME_CONTENT_ENCODING_DEFAULT);
  gboolean ascii = TRUE;

  for (gsize i = 0; i < length && ascii; i++)
    ascii = (guchar) text[i] < 0x80;
  g_mime_text_part_set_charset (part, ascii ? "us-ascii" : "utf-8");
  g_mime_part_set_content (GMIME_PART (part), content);
  /* Quoted-printable or base64 as the text needs: 7-bit on the wire, short lines. */
  g_mime_part_set_content_encoding (GMIME_PART (part),
                                    g_mime_part_get_best_content_encoding (GMIME_PART (part), GMIME_ENCODING_CONSTRAINT_7BIT));
}

static GMimeTextPart *
text_part (const char *subtype,
           const char *text)
{
  GMimeTextPart *part = g_mime_text_part_new_with_subtype (subtype);

  set_text (part, text);
  return part;
}

static GMimeObject *
file_part (const MrAttachment  *attachment,
           GError             **error)
{
  g_autofree char *content_type = NULL;
  g_autofree char *mime_type = NULL;
  g_autofree char *basename = g_path_get_basename (attachment->path);
  g_autoptr(GMimeContentType) type = NULL;
  g_autoptr(GMimeDataWrapper) wrapper = NULL;
  g_autoptr(GMimeStream) stream = NULL;
  GMimePart *part;
  int fd;

  fd = g_open (attachment->path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0)
    {
      int saved_errno = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno), _("The attachment %s cannot be read: %s"),
                   attachment->path, g_strerror (saved_errno));
      return NULL;
    }
  stream = g_mime_stream_fs_new (fd);

  content_type = g_content_type_guess (attachment->path, NULL, 0, NULL);
  mime_type = g_content_type_get_mime_type (content_type);
  type = g_mime_content_type_parse (NULL, mime_type ? mime_type : "application/octet-stream");
  part = g_mime_part_new_with_type (g_mime_content_type_get_media_type (type), g_mime_content_type_get_media_subtype (type));
  wrapper = g_mime_data_wrapper_new_with_stream (stream, GMIME_CONTENT_ENCODING_DEFAULT);
  g_mime_part_set_content (part, wrapper);
  g_mime_part_set_content_encoding (part, GMIME_CONTENT_ENCODING_BASE64);
  /* GMime encodes a non-ASCII file name as RFC 2231 asks. */
  g_mime_part_set_filename (part, attachment->filename ? attachment->filename : basename);
  if (attachment->content_id != NULL)
    {
      g_mime_object_set_disposition (GMIME_OBJECT (part), GMIME_DISPOSITION_INLINE);
      g_mime_part_set_content_id (part, attachment->content_id);
    }
  else
    g_mime_object_set_disposition (GMIME_OBJECT (part), GMIME_DISPOSITION_ATTACHMENT);
  return GMIME_OBJECT (part);
}

/* GMime reads /dev/urandom for each boundary it makes up; a mailshot builds thousands of messages,
 * so the boundary comes from GLib's generator (seeded once) instead (2.7% of a mailshot's CPU). */
static void
set_boundary (GMimeMultipart *multipart)
{
  char boundary[40];

  g_snprintf (boundary, sizeof boundary, "=-%08x%08x%08x%08x", g_random_int (), g_random_int (), g_random_int (),
              g_random_int ());
  g_mime_multipart_set_boundary (multipart, boundary);
}

static GMimeMultipart *
new_multipart (const char *subtype)
{
  GMimeMultipart *multipart = g_mime_multipart_new_with_subtype (subtype);

  set_boundary (multipart);
  return multipart;
}

/* The local time zone, looked up once: GLib reads /etc/localtime again for each new one (2.2%). */
static GTimeZone *
local_time_zone (void)
{
  static gsize zone;

  if (g_once_init_enter (&zone))
    g_once_init_leave (&zone, (gsize) g_time_zone_new_local ());
  return (GTimeZone *) zone;
}

/* The kept tree of a message: the body's parts are made once per shape (see shape_of()), and
 * each message only sets their text again. */
struct _MrMessageBuilder {
  char               *shape;
  GMimeMessage       *message;
  GMimeTextPart      *text;
  GMimeTextPart      *html;         /* NULL without an HTML body */
  GMimeObject        *body;         /* the message's body, until the first message's headers are set */
  GPtrArray          *multiparts;   /* GMimeMultipart, each with a boundary of its own per message */
  gint64              date;         /* the Date last set, in seconds */
  char               *from;         /* header values as last set, to skip those that stay the same */
  char               *reply_to;
  char               *cc;
  GMimeFormatOptions *options;
};

/* mixed › alternative › (text, related › (html, inline images)), each level only when needed. */
static GMimeObject *
build_body (MrMessageBuilder  *builder,
            const MrOutgoing  *outgoing,
            GError           **error)
{
  g_autoptr(GMimeObject) body = NULL;
  gboolean has_inline = FALSE, has_attached = FALSE;

  for (guint i = 0; i < outgoing->attachments->len; i++)
    {
      MrAttachment *attachment = g_ptr_array_index (outgoing->attachments, i);

      if (attachment->content_id != NULL && outgoing->html_body != NULL)
        has_inline = TRUE;
      else
        has_attached = TRUE;
    }

  builder->text = text_part ("plain", "");
  if (outgoing->html_body != NULL)
    {
      GMimeMultipart *alternative = new_multipart ("alternative");
      g_autoptr(GMimeObject) html = NULL;

      g_ptr_array_add (builder->multiparts, alternative);
      builder->html = text_part ("html", "");
      html = g_object_ref (GMIME_OBJECT (builder->html));
      if (has_inline)
        {
          GMimeMultipart *related = new_multipart ("related");

          g_ptr_array_add (builder->multiparts, related);
          g_mime_multipart_add (related, html);
          for (guint i = 0; i < outgoing->attachments->len; i++)
            {
              MrAttachment *attachment = g_ptr_array_index (outgoing->attachments, i);
              g_autoptr(GMimeObject) image = NULL;

              if (attachment->content_id == NULL)
                continue;
              image = file_part (attachment, error);
              if (image == NULL)
                return NULL;
              g_mime_multipart_add (related, image);
            }
          g_set_object (&html, GMIME_OBJECT (related));
        }
      g_mime_multipart_add (alternative, GMIME_OBJECT (builder->text));
      g_mime_multipart_add (alternative, html);
      body = g_object_ref (GMIME_OBJECT (alternative));
    }
  else
    body = g_object_ref (GMIME_OBJECT (builder->text));

  if (has_attached)
    {
      GMimeMultipart *mixed = new_multipart ("mixed");

      g_ptr_array_add (builder->multiparts, mixed);
      g_mime_multipart_add (mixed, body);
      for (guint i = 0; i < outgoing->attachments->len; i++)
        {
          MrAttachment *attachment = g_ptr_array_index (outgoing->attachments, i);
          g_autoptr(GMimeObject) file = NULL;

          if (attachment->content_id != NULL && outgoing->html_body != NULL)
            continue;
          file = file_part (attachment, error);
          if (file == NULL)
            return NULL;
          g_mime_multipart_add (mixed, file);
        }
      g_set_object (&body, GMIME_OBJECT (mixed));
    }
  return g_steal_pointer (&body);
}

MrMessageBuilder *
mr_message_builder_new (void)
{
  MrMessageBuilder *builder = g_new0 (MrMessageBuilder, 1);

  mr_gmime_ensure ();
  builder->multiparts = g_ptr_array_new_with_free_func (g_object_unref);
  builder->options = g_mime_format_options_new ();
  g_mime_format_options_set_newline_format (builder->options, GMIME_NEWLINE_FORMAT_DOS);
  return builder;
}

static void
forget_tree (MrMessageBuilder *builder)
{
  g_clear_pointer (&builder->shape, g_free);
  g_clear_object (&builder->message);
  g_clear_object (&builder->body);
  builder->date = 0;
  g_clear_pointer (&builder->from, g_free);
  g_clear_pointer (&builder->reply_to, g_free);
  g_clear_pointer (&builder->cc, g_free);
  g_clear_object (&builder->text);
  g_clear_object (&builder->html);
  g_ptr_array_set_size (builder->multiparts, 0);
}

void
mr_message_builder_free (MrMessageBuilder *builder)
{
  if (builder == NULL)
    return;
  forget_tree (builder);
  g_ptr_array_unref (builder->multiparts);
  g_mime_format_options_free (builder->options);
  g_free (builder);
}

/* What decides the tree and the order of the headers; two messages of one shape differ only in
 * header values and texts. A header that comes and goes is part of it, as GMime adds it at the end. */
static char *
shape_of (const MrOutgoing *outgoing)
{
  GString *shape = g_string_new (NULL);

  g_string_append_c (shape, outgoing->html_body != NULL ? 'H' : '-');
  /* An address header once set stays, even when emptied. */
  g_string_append_c (shape, outgoing->reply_to != NULL && *outgoing->reply_to != '\0' ? 'R' : '-');
  g_string_append_c (shape, outgoing->to->len > 0 ? 'T' : '-');
  g_string_append_c (shape, outgoing->cc->len > 0 ? 'C' : '-');
  g_string_append_c (shape, outgoing->list_unsubscribe != NULL ? 'U' : '-');
  g_string_append_c (shape, outgoing->list_unsubscribe != NULL && outgoing->list_unsubscribe_post ? 'P' : '-');
  for (guint i = 0; i < outgoing->attachments->len; i++)
    {
      MrAttachment *attachment = g_ptr_array_index (outgoing->attachments, i);

      g_string_append_printf (shape, "\x1e%s\x1f%s\x1f%s", attachment->path,
                              attachment->filename ? attachment->filename : "",
                              attachment->content_id ? attachment->content_id : "");
    }
  return g_string_free (shape, FALSE);
}

static gboolean
validate_outgoing (const MrOutgoing  *outgoing,
                   GError           **error)
{
  /* Nothing rendered into a header may add a header or a recipient. */
  if (!mr_validate_address (outgoing->from_address, error))
    {
      g_prefix_error (error, "sender.from_address: ");
      return FALSE;
    }
  if ((outgoing->from_name != NULL && !mr_validate_single_line (outgoing->from_name, error)) ||
      (outgoing->to_name != NULL && !mr_validate_single_line (outgoing->to_name, error)) ||
      (outgoing->subject != NULL && !mr_validate_single_line (outgoing->subject, error)))
    {
      g_prefix_error (error, _("Subject or name: "));
      return FALSE;
    }
  if (outgoing->list_unsubscribe != NULL && !mr_validate_single_line (outgoing->list_unsubscribe, error))
    {
      g_prefix_error (error, "List-Unsubscribe: ");
      return FALSE;
    }
  return (outgoing->reply_to == NULL || *outgoing->reply_to == '\0' || mr_validate_address (outgoing->reply_to, error)) &&
         check_addresses (outgoing->to, "To", error) && check_addresses (outgoing->cc, "Cc", error) &&
         check_addresses (outgoing->bcc, "Bcc", error) && check_addresses (outgoing->copy_to, "sender.copy_to", error);
}

/* A new tree for @shape. The headers are added by the first message, in the order every message of
 * the shape then keeps. */
static gboolean
grow_tree (MrMessageBuilder  *builder,
           const MrOutgoing  *outgoing,
           char              *shape,
           GError           **error)
{
  forget_tree (builder);
  builder->body = build_body (builder, outgoing, error);
  if (builder->body == NULL)
    {
      forget_tree (builder);
      g_free (shape);
      return FALSE;
    }
  /* With "pretty headers" GMime places Date, From, Reply-To, To, Cc and Subject where they belong. */
  builder->message = g_mime_message_new (TRUE);
  builder->shape = shape;
  return TRUE;
}

/* Whether @value differs from what @kept holds; @kept takes it. Header values GMime would encode
 * again for nothing (the sender's, most of all) are set only when they change. */
static gboolean
changed (char       **kept,
         const char  *value)
{
  if (*kept != NULL && g_str_equal (*kept, value))
    return FALSE;
  g_free (*kept);
  *kept = g_strdup (value);
  return TRUE;
}

static void
set_mailbox (InternetAddressList *list,
             const char          *name,
             const char          *address)
{
  InternetAddress *mailbox = internet_address_mailbox_new (name && *name ? name : NULL, address);

  internet_address_list_clear (list);
  internet_address_list_add (list, mailbox);
  g_object_unref (mailbox);
}

GBytes *
mr_message_builder_build (MrMessageBuilder  *builder,
                          const MrOutgoing  *outgoing,
                          char             **message_id,
                          GError           **error)
{
  GMimeMessage *message;
  gint64 second = g_get_real_time () / G_USEC_PER_SEC;
  g_autofree char *id = NULL;
  g_autofree char *derived = NULL;
  g_autoptr(GMimeStream) stream = NULL;
  g_autofree char *from_key = NULL;
  g_autofree char *cc_key = NULL;
  GByteArray *text;
  char *shape;

  if (!validate_outgoing (outgoing, error))
    return NULL;
  shape = shape_of (outgoing);
  if (builder->shape == NULL || !g_str_equal (shape, builder->shape))
    {
      if (!grow_tree (builder, outgoing, shape, error))
        return NULL;
    }
  else
    g_free (shape);
  message = builder->message;

  from_key = g_strconcat (outgoing->from_name ? outgoing->from_name : "", "\n", outgoing->from_address, NULL);
  if (changed (&builder->from, from_key))
    set_mailbox (g_mime_message_get_from (message), outgoing->from_name, outgoing->from_address);
  if (outgoing->reply_to != NULL && *outgoing->reply_to != '\0' && changed (&builder->reply_to, outgoing->reply_to))
    set_mailbox (g_mime_message_get_reply_to (message), NULL, outgoing->reply_to);
  if (outgoing->to->len > 0)
    set_mailboxes (g_mime_message_get_addresses (message, GMIME_ADDRESS_TYPE_TO), outgoing->to, outgoing->to_name);
  if (outgoing->cc->len > 0)
    {
      g_ptr_array_add (outgoing->cc, NULL);
      cc_key = g_strjoinv ("\n", (char **) outgoing->cc->pdata);
      g_ptr_array_remove_index (outgoing->cc, outgoing->cc->len - 1);
      if (changed (&builder->cc, cc_key))
        set_mailboxes (g_mime_message_get_addresses (message, GMIME_ADDRESS_TYPE_CC), outgoing->cc, NULL);
    }
  /* Bcc and copy_to stay out of the headers on purpose. */

  g_mime_message_set_subject (message, outgoing->subject ? outgoing->subject : "", "utf-8");
  if (second != builder->date)
    {
      g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc (second);
      g_autoptr(GDateTime) now = g_date_time_to_timezone (utc, local_time_zone ());

      g_mime_message_set_date (message, now);
      builder->date = second;
    }
  id = outgoing->message_id ? g_strdup (outgoing->message_id) : mr_message_id_new (outgoing->from_address);
  g_mime_message_set_message_id (message, id);
  if (builder->body != NULL)
    g_mime_object_set_header (GMIME_OBJECT (message), "X-Mailer", "Mailroom " MAILROOM_VERSION, NULL);
  if (outgoing->list_unsubscribe != NULL)
    g_mime_object_set_header (GMIME_OBJECT (message), "List-Unsubscribe", outgoing->list_unsubscribe, NULL);
  if (builder->body != NULL)
    {
      /* One-click only with an HTTPS URL to post to (RFC 8058 §3.1). */
      if (outgoing->list_unsubscribe != NULL && outgoing->list_unsubscribe_post)
        g_mime_object_set_header (GMIME_OBJECT (message), "List-Unsubscribe-Post", "List-Unsubscribe=One-Click", NULL);
      g_mime_message_set_mime_part (message, builder->body);
      g_clear_object (&builder->body);
    }

  if (outgoing->text_body == NULL && outgoing->html_body != NULL)
    derived = mr_html_to_text (outgoing->html_body);
  set_text (builder->text, outgoing->text_body ? outgoing->text_body : derived ? derived : "");
  if (builder->html != NULL)
    set_text (builder->html, outgoing->html_body);
  for (guint i = 0; i < builder->multiparts->len; i++)
    set_boundary (g_ptr_array_index (builder->multiparts, i));

  text = g_byte_array_sized_new (4096);
  stream = g_mime_stream_mem_new_with_byte_array (text);
  g_mime_stream_mem_set_owner (GMIME_STREAM_MEM (stream), FALSE);
  if (g_mime_object_write_to_stream (GMIME_OBJECT (message), builder->options, stream) < 0)
    {
      /* The only stream read is an attachment's, opened when the tree grew. */
      g_byte_array_unref (text);
      forget_tree (builder);
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("An attachment could not be read again"));
      return NULL;
    }
  if (message_id != NULL)
    *message_id = g_steal_pointer (&id);
  return g_byte_array_free_to_bytes (text);
}

GBytes *
mr_outgoing_build (const MrOutgoing  *outgoing,
                   char             **message_id,
                   GError           **error)
{
  MrMessageBuilder *builder = mr_message_builder_new ();
  GBytes *message = mr_message_builder_build (builder, outgoing, message_id, error);

  mr_message_builder_free (builder);
  return message;
}

char *
mr_format_body_date (GDateTime *when)
{
  return g_strdup_printf ("%04d-%02d-%02d %02d:%02d %c%02d%02d", g_date_time_get_year (when),
                          g_date_time_get_month (when), g_date_time_get_day_of_month (when),
                          g_date_time_get_hour (when), g_date_time_get_minute (when),
                          g_date_time_get_utc_offset (when) < 0 ? '-' : '+',
                          (int) (ABS (g_date_time_get_utc_offset (when)) / G_TIME_SPAN_HOUR),
                          (int) (ABS (g_date_time_get_utc_offset (when)) % G_TIME_SPAN_HOUR / G_TIME_SPAN_MINUTE));
}

char *
mr_message_id_new (const char *from_address)
{
  const char *domain = from_address ? mr_address_get_domain (from_address) : NULL;
  g_autofree char *unique = g_uuid_string_random ();

  /* GMime's g_mime_utils_generate_message_id() reads /dev/urandom anew for each one, and a
   * mailshot fixes one per row before it starts; a random UUID is as unique. */
  return g_strdup_printf ("%s@%s", unique, domain && *domain ? domain : "localhost");
}

GBytes *
mr_message_renew (GBytes      *message,
                  const char  *from_address,
                  char       **message_id,
                  GError     **error)
{
  g_autoptr(GMimeStream) stream = NULL;
  g_autoptr(GMimeParser) parser = NULL;
  g_autoptr(GMimeMessage) parsed = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now (local_time_zone ());
  g_autoptr(GMimeFormatOptions) options = NULL;
  g_autofree char *id = NULL;
  char *text;
  gsize length;

  mr_gmime_ensure ();
  stream = g_mime_stream_mem_new_with_buffer (g_bytes_get_data (message, NULL),
                                              g_bytes_get_size (message));
  parser = g_mime_parser_new_with_stream (stream);
  parsed = g_mime_parser_construct_message (parser, NULL);

  if (parsed == NULL || g_mime_message_get_mime_part (parsed) == NULL)
    {
      g_set_error_literal (error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_INVALID_VALUE,
                           _("The kept copy is not a readable message"));
      return NULL;
    }
  id = mr_message_id_new (from_address);
  g_mime_message_set_message_id (parsed, id);
  g_mime_message_set_date (parsed, now);

  options = g_mime_format_options_new ();
  g_mime_format_options_set_newline_format (options, GMIME_NEWLINE_FORMAT_DOS);
  text = g_mime_object_to_string (GMIME_OBJECT (parsed), options);
  length = strlen (text);
  if (message_id != NULL)
    *message_id = g_steal_pointer (&id);
  return g_bytes_new_take (text, length);
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

GMimeMessage *
mr_gmime_parse (GBytes *message)
{
  g_autoptr(GMimeStream) stream = NULL;
  g_autoptr(GMimeParser) parser = NULL;

  mr_gmime_ensure ();
  stream = g_mime_stream_mem_new_with_buffer (g_bytes_get_data (message, NULL), g_bytes_get_size (message));
  parser = g_mime_parser_new_with_stream (stream);
  return g_mime_parser_construct_message (parser, NULL);
}

static gboolean
list_has_address (InternetAddressList *list,
                  const char          *address)
{
  for (int i = 0; list != NULL && i < internet_address_list_length (list); i++)
    {
      InternetAddress *item = internet_address_list_get_address (list, i);

      if (INTERNET_ADDRESS_IS_MAILBOX (item) &&
          g_ascii_strcasecmp (internet_address_mailbox_get_addr (INTERNET_ADDRESS_MAILBOX (item)), address) == 0)
        return TRUE;
    }
  return FALSE;
}

void
mr_message_split_recipients (GBytes               *message,
                             const MrSmtpEnvelope *envelope,
                             GStrv                *to,
                             GStrv                *cc,
                             GStrv                *bcc)
{
  g_autoptr(GMimeMessage) parsed = mr_gmime_parse (message);
  InternetAddressList *to_list = parsed ? g_mime_message_get_addresses (parsed, GMIME_ADDRESS_TYPE_TO) : NULL;
  InternetAddressList *cc_list = parsed ? g_mime_message_get_addresses (parsed, GMIME_ADDRESS_TYPE_CC) : NULL;
  g_autoptr(GStrvBuilder) to_builder = g_strv_builder_new ();
  g_autoptr(GStrvBuilder) cc_builder = g_strv_builder_new ();
  g_autoptr(GStrvBuilder) bcc_builder = g_strv_builder_new ();

  for (guint i = 0; i < envelope->recipients->len; i++)
    {
      const char *address = g_ptr_array_index (envelope->recipients, i);

      if (list_has_address (to_list, address))
        g_strv_builder_add (to_builder, address);
      else if (list_has_address (cc_list, address))
        g_strv_builder_add (cc_builder, address);
      else
        g_strv_builder_add (bcc_builder, address);
    }
  *to = g_strv_builder_end (to_builder);
  *cc = g_strv_builder_end (cc_builder);
  *bcc = g_strv_builder_end (bcc_builder);
}

GBytes *
mr_message_add_bcc (GBytes             *message,
                    const char * const *bcc)
{
  g_autoptr(GMimeMessage) parsed = NULL;
  g_autoptr(GMimeFormatOptions) options = NULL;
  InternetAddressList *list;
  char *text;

  if (bcc == NULL || bcc[0] == NULL)
    return g_bytes_ref (message);
  parsed = mr_gmime_parse (message);
  if (parsed == NULL)
    return g_bytes_ref (message);
  list = g_mime_message_get_addresses (parsed, GMIME_ADDRESS_TYPE_BCC);
  for (guint i = 0; bcc[i] != NULL; i++)
    {
      InternetAddress *mailbox = internet_address_mailbox_new (NULL, bcc[i]);

      internet_address_list_add (list, mailbox);
      g_object_unref (mailbox);
    }
  options = g_mime_format_options_new ();
  g_mime_format_options_set_newline_format (options, GMIME_NEWLINE_FORMAT_DOS);
  text = g_mime_object_to_string (GMIME_OBJECT (parsed), options);
  return g_bytes_new_take (text, strlen (text));
}

/* ---- A built message, as a mail program shows it ------------------------------------------------ */

void
mr_message_summary_free (MrMessageSummary *summary)
{
  if (summary == NULL)
    return;
  g_free (summary->from);
  g_free (summary->to);
  g_free (summary->cc);
  g_free (summary->subject);
  g_clear_pointer (&summary->date, g_date_time_unref);
  g_free (summary->text);
  g_free (summary->html);
  g_clear_pointer (&summary->attachments, g_ptr_array_unref);
  g_free (summary);
}

static void
attachment_summary_free (MrMessageAttachment *attachment)
{
  g_free (attachment->filename);
  g_free (attachment->content_type);
  g_free (attachment);
}

static GBytes *
part_content (GMimePart *part)
{
  GMimeDataWrapper *content = g_mime_part_get_content (part);
  g_autoptr(GMimeStream) stream = g_mime_stream_mem_new ();
  GByteArray *bytes;

  if (content == NULL)
    return g_bytes_new (NULL, 0);
  g_mime_data_wrapper_write_to_stream (content, stream);
  bytes = g_mime_stream_mem_get_byte_array (GMIME_STREAM_MEM (stream));
  return g_bytes_new (bytes->data, bytes->len);
}

static char *
part_text (GMimePart *part)
{
  g_autoptr(GBytes) bytes = part_content (part);
  const char *charset = g_mime_object_get_content_type_parameter (GMIME_OBJECT (part), "charset");
  gsize length;
  const char *data = g_bytes_get_data (bytes, &length);

  if (charset != NULL && g_ascii_strcasecmp (charset, "utf-8") != 0 && g_ascii_strcasecmp (charset, "us-ascii") != 0)
    {
      char *converted = g_convert (data, length, "UTF-8", charset, NULL, NULL, NULL);

      if (converted != NULL)
        return converted;
    }
  return g_utf8_make_valid (data ? data : "", length);
}

typedef struct {
  MrMessageSummary *summary;
  GPtrArray        *images;   /* GMimePart with a Content-ID */
} Walk;

static void
summarize_part (GMimeObject *parent,
                GMimeObject *part,
                gpointer     user_data)
{
  Walk *walk = user_data;
  GMimeContentType *type = g_mime_object_get_content_type (part);
  const char *disposition = g_mime_object_get_disposition (part);
  gboolean attached = disposition != NULL && g_ascii_strcasecmp (disposition, "attachment") == 0;

  if (!GMIME_IS_PART (part))
    return;
  if (!attached && g_mime_content_type_is_type (type, "text", "plain") && walk->summary->text == NULL)
    walk->summary->text = part_text (GMIME_PART (part));
  else if (!attached && g_mime_content_type_is_type (type, "text", "html") && walk->summary->html == NULL)
    walk->summary->html = part_text (GMIME_PART (part));
  else
    {
      MrMessageAttachment *attachment = g_new0 (MrMessageAttachment, 1);
      g_autoptr(GBytes) content = part_content (GMIME_PART (part));
      const char *filename = g_mime_part_get_filename (GMIME_PART (part));

      attachment->filename = g_strdup (filename ? filename : _("Untitled"));
      attachment->content_type = g_mime_content_type_get_mime_type (type);
      attachment->size = g_bytes_get_size (content);
      attachment->inline_image = g_mime_object_get_content_id (part) != NULL &&
                                 g_mime_content_type_is_type (type, "image", "*");
      if (attachment->inline_image)
        g_ptr_array_add (walk->images, part);
      g_ptr_array_add (walk->summary->attachments, attachment);
    }
}

static char *
address_list (InternetAddressList *list)
{
  if (list == NULL || internet_address_list_length (list) == 0)
    return NULL;
  return internet_address_list_to_string (list, NULL, FALSE);
}

MrMessageSummary *
mr_message_summarize (GBytes *message)
{
  g_autoptr(GMimeMessage) parsed = mr_gmime_parse (message);
  MrMessageSummary *summary;
  g_autoptr(GPtrArray) images = g_ptr_array_new ();
  Walk walk;

  if (parsed == NULL)
    return NULL;
  summary = g_new0 (MrMessageSummary, 1);
  summary->attachments = g_ptr_array_new_with_free_func ((GDestroyNotify) attachment_summary_free);
  summary->from = address_list (g_mime_message_get_from (parsed));
  summary->to = address_list (g_mime_message_get_to (parsed));
  summary->cc = address_list (g_mime_message_get_cc (parsed));
  summary->subject = g_strdup (g_mime_message_get_subject (parsed));
  if (g_mime_message_get_date (parsed) != NULL)
    summary->date = g_date_time_ref (g_mime_message_get_date (parsed));
  walk.summary = summary;
  walk.images = images;
  if (GMIME_IS_MULTIPART (g_mime_message_get_mime_part (parsed)))
    g_mime_multipart_foreach (GMIME_MULTIPART (g_mime_message_get_mime_part (parsed)), summarize_part, &walk);
  else if (g_mime_message_get_mime_part (parsed) != NULL)
    summarize_part (NULL, g_mime_message_get_mime_part (parsed), &walk);
  if (summary->html != NULL)
    {
      /* As a careful mail program shows it: a policy first that lets nothing load (no remote
       * images, scripts, fonts or frames) but the images inlined here. */
      GString *html = g_string_new ("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                                    "img-src data:; style-src 'unsafe-inline'\">\n");

      g_string_append (html, summary->html);
      for (guint i = 0; i < images->len; i++)
        {
          GMimeObject *part = g_ptr_array_index (images, i);
          g_autoptr(GBytes) content = part_content (GMIME_PART (part));
          g_autofree char *type = g_mime_content_type_get_mime_type (g_mime_object_get_content_type (part));
          g_autofree char *encoded = g_base64_encode (g_bytes_get_data (content, NULL), g_bytes_get_size (content));
          g_autofree char *reference = g_strdup_printf ("cid:%s", g_mime_object_get_content_id (part));
          g_autofree char *data_uri = g_strdup_printf ("data:%s;base64,%s", type, encoded);

          g_string_replace (html, reference, data_uri, 0);
        }
      g_free (summary->html);
      summary->html = g_string_free (html, FALSE);
    }
  return summary;
}

/* ---- Pictures given as data: URIs --------------------------------------------------------------- */

#define MAX_EMBEDDED (10 * 1024 * 1024)

static const char *
picture_extension (const char *mime_type)
{
  static const char * const types[][2] = {
    { "image/png", "png" }, { "image/jpeg", "jpg" }, { "image/gif", "gif" }, { "image/webp", "webp" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (types); i++)
    if (g_ascii_strcasecmp (mime_type, types[i][0]) == 0)
      return types[i][1];
  return NULL;
}

char *
mr_embed_data_pictures (const char           *html_in,
                        MrEmbedPictureFunc    add,
                        gpointer              user_data,
                        GError              **error)
{
  static const char prefix[] = "data:image/";
  g_autoptr(GString) html = NULL;
  g_autoptr(GHashTable) done = NULL;   /* checksum → content id */
  g_autofree char *folder = NULL;
  gsize at = 0;

  if (html_in == NULL || strstr (html_in, prefix) == NULL)
    return g_strdup (html_in);
  html = g_string_new (html_in);
  done = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  folder = mr_get_user_cache_path ("inline");
  for (;;)
    {
      const char *found = strstr (html->str + at, prefix);
      gsize start, length;
      g_autofree char *uri = NULL;
      g_autofree char *mime_type = NULL;
      g_autofree char *checksum = NULL;
      g_autofree char *reference = NULL;
      const char *extension;
      const char *content_id;
      char *comma, *semicolon;

      if (found == NULL)
        break;
      start = found - html->str;
      length = strcspn (found, "\"' >");
      at = start + length;
      uri = g_strndup (found, length);
      comma = strchr (uri, ',');
      semicolon = strchr (uri, ';');
      if (comma == NULL || semicolon == NULL || semicolon > comma || !g_str_has_prefix (semicolon, ";base64,") ||
          length > MAX_EMBEDDED / 3 * 4 + 64)
        continue;
      mime_type = g_strndup (uri + 5, semicolon - uri - 5);
      extension = picture_extension (mime_type);
      if (extension == NULL)
        continue;
      checksum = g_compute_checksum_for_string (G_CHECKSUM_SHA256, uri, -1);
      content_id = g_hash_table_lookup (done, checksum);
      if (content_id == NULL)
        {
          g_autofree char *name = g_strdup_printf ("%s.%s", checksum, extension);
          g_autofree char *path = g_build_filename (folder, name, NULL);
          g_autofree char *filename = g_strdup_printf ("picture-%.8s.%s", checksum, extension);

          if (!g_file_test (path, G_FILE_TEST_EXISTS))
            {
              gsize size = 0;
              g_autofree guchar *bytes = g_base64_decode (comma + 1, &size);

              if (size == 0 || size > MAX_EMBEDDED)
                continue;
              if (g_mkdir_with_parents (folder, 0700) != 0)
                {
                  int saved = errno;

                  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), _("The picture cannot be kept in %s: %s"),
                               folder, g_strerror (saved));
                  return NULL;
                }
              if (!g_file_set_contents_full (path, (const char *) bytes, size, G_FILE_SET_CONTENTS_CONSISTENT, 0600, error))
                return NULL;
            }
          g_hash_table_insert (done, g_strdup (checksum), g_strdup_printf ("%.16s@mailroom", checksum));
          content_id = g_hash_table_lookup (done, checksum);
          add (path, filename, content_id, user_data);
        }
      reference = g_strconcat ("cid:", content_id, NULL);
      g_string_erase (html, start, length);
      g_string_insert (html, start, reference);
      at = start + strlen (reference);
    }
  return g_string_free (g_steal_pointer (&html), FALSE);
}

static void
add_to_outgoing (const char *path,
                 const char *filename,
                 const char *content_id,
                 gpointer    outgoing)
{
  mr_outgoing_add_attachment (outgoing, path, filename, content_id);
}

gboolean
mr_outgoing_embed_images (MrOutgoing  *outgoing,
                          GError     **error)
{
  char *html;

  if (outgoing->html_body == NULL || strstr (outgoing->html_body, "data:image/") == NULL)
    return TRUE;
  html = mr_embed_data_pictures (outgoing->html_body, add_to_outgoing, outgoing, error);
  if (html == NULL)
    return FALSE;
  g_free (outgoing->html_body);
  outgoing->html_body = html;
  return TRUE;
}
