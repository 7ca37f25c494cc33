/* mr-sender.c: who a mail is from, resolved from the settings */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "mr-sender.h"

struct _MrSender
{
  GObject  parent_instance;

  char    *name;
  char    *address;
  char    *reply_to;
  char    *copy_to;
};

G_DEFINE_FINAL_TYPE (MrSender, mr_sender, G_TYPE_OBJECT)

static void
mr_sender_finalize (GObject *object)
{
  MrSender *self = MR_SENDER (object);

  g_free (self->name);
  g_free (self->address);
  g_free (self->reply_to);
  g_free (self->copy_to);
  G_OBJECT_CLASS (mr_sender_parent_class)->finalize (object);
}

static void
mr_sender_class_init (MrSenderClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mr_sender_finalize;
}

static void
mr_sender_init (MrSender *self)
{
}

MrSender *
mr_sender_new (MrSettings  *settings,
               const char  *app,
               GError     **error)
{
  g_autoptr(MrSender) self = g_object_new (MR_TYPE_SENDER, NULL);

  /* The company's, or the person's own with send_as_user. */
  if (mr_settings_get_effective_boolean (settings, app, "sender.send_as_user"))
    {
      self->address = mr_settings_dup_effective_string (settings, app, "user.email");
      self->name = mr_settings_dup_effective_string (settings, app, "user.name");
      if (*self->address == '\0')
        {
          g_set_error_literal (error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_INVALID_VALUE,
                               _("user.email: the company sends as each person’s own address, and yours is not set: "
                                 "enter it in My Settings"));
          return NULL;
        }
    }
  else
    {
      self->address = mr_settings_dup_effective_string (settings, app, "sender.from_address");
      self->name = mr_settings_dup_effective_string (settings, app, "sender.from_name");
    }
  if (*self->address == '\0')
    {
      g_set_error_literal (error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_INVALID_VALUE,
                           _("No From address yet: the settings need the address mail is sent from "
                             "(the From address in Company Settings or My Settings)"));
      return NULL;
    }
  if (!mr_settings_domain_is_verified (settings, mr_address_get_domain (self->address)))
    {
      g_set_error (error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_INVALID_VALUE,
                   _("sender.from_address: %s is not one of the company’s verified domains, so Mailroom does not send "
                     "from %s"), mr_address_get_domain (self->address), self->address);
      return NULL;
    }
  self->reply_to = mr_settings_dup_effective_string (settings, app, "sender.reply_to");
  self->copy_to = mr_settings_dup_effective_string (settings, app, "sender.copy_to");
  return g_steal_pointer (&self);
}

const char *
mr_sender_get_name (MrSender *self)
{
  return self->name;
}

const char *
mr_sender_get_address (MrSender *self)
{
  return self->address;
}

const char *
mr_sender_get_reply_to (MrSender *self)
{
  return *self->reply_to ? self->reply_to : NULL;
}

const char *
mr_sender_get_copy_to (MrSender *self)
{
  return *self->copy_to ? self->copy_to : NULL;
}

char *
mr_sender_describe (MrSender *self)
{
  if (*self->name == '\0')
    return g_strdup (self->address);
  return g_strdup_printf ("%s <%s>", self->name, self->address);
}

void
mr_sender_fill (MrSender   *self,
                MrOutgoing *outgoing)
{
  /* A From the caller set (a template's own) stays; mr_outbox_send_sync() has checked its domain. */
  if (outgoing->from_address == NULL)
    {
      g_free (outgoing->from_name);
      outgoing->from_name = *self->name ? g_strdup (self->name) : NULL;
      outgoing->from_address = g_strdup (self->address);
    }
  g_free (outgoing->reply_to);
  outgoing->reply_to = g_strdup (mr_sender_get_reply_to (self));
  if (mr_sender_get_copy_to (self) != NULL)
    g_ptr_array_add (outgoing->copy_to, g_strdup (self->copy_to));
}

GBytes *
mr_sender_build_test_message (MrSender        *self,
                              const char      *to,
                              const char      *through,
                              MrSmtpEnvelope **envelope,
                              char           **message_id,
                              GError         **error)
{
  g_autoptr(MrOutgoing) outgoing = mr_outgoing_new ();
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *when = mr_format_body_date (now);
  GBytes *bytes;

  mr_sender_fill (self, outgoing);
  g_ptr_array_add (outgoing->to, g_strdup (to));
  outgoing->subject = g_strdup (_("Mailroom test message"));
  outgoing->text_body = g_strdup_printf (_("This is a test message from Mailroom, sent on %s through %s.\n\n"
                                           "If you can read it, sending mail with these settings works.\n"),
                                         when, through);
  bytes = mr_outgoing_build (outgoing, message_id, error);
  if (bytes != NULL)
    *envelope = mr_outgoing_get_envelope (outgoing);
  return bytes;
}

gboolean
mr_settings_fill_sender (MrSettings  *settings,
                         const char  *app,
                         MrOutgoing  *outgoing,
                         GError     **error)
{
  g_autoptr(MrSender) sender = mr_sender_new (settings, app, error);

  if (sender == NULL)
    return FALSE;
  mr_sender_fill (sender, outgoing);
  return TRUE;
}

char *
mr_sender_describe_for (MrSettings  *settings,
                        const char  *app,
                        GError     **error)
{
  g_autoptr(MrSender) sender = mr_sender_new (settings, app, error);

  return sender ? mr_sender_describe (sender) : NULL;
}
