/* mr-smtp-transport.c: MrTransport over an SMTP server, and over this machine's sendmail program */

#include "config.h"

#include "mr-smtp-transport.h"

/* The SMTP server's result as the transport's: the same lists, taken over. */
static MrTransportResult *
result_of (MrSmtpSendResult *sent)
{
  MrTransportResult *result = g_new0 (MrTransportResult, 1);

  result->accepted = g_steal_pointer (&sent->accepted);
  result->refused = g_steal_pointer (&sent->refused);
  result->deferred = g_steal_pointer (&sent->deferred);
  result->reply = g_steal_pointer (&sent->final_reply);
  if (result->accepted == NULL)
    result->accepted = g_ptr_array_new_with_free_func (g_free);
  if (result->refused == NULL)
    result->refused = g_ptr_array_new_with_free_func (g_free);
  if (result->deferred == NULL)
    result->deferred = g_ptr_array_new_with_free_func (g_free);
  g_free (sent);
  return result;
}

/* ---- MrSmtpTransport -------------------------------------------------------------------------- */

struct _MrSmtpTransport
{
  GObject       parent_instance;

  MrDelivery   *delivery;
  MrSmtpClient *client;       /* the session, while it is up */
  char         *server;       /* host:port */
  guint64       size_limit;
};

static void mr_smtp_transport_iface_init (MrTransportInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (MrSmtpTransport, mr_smtp_transport, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (MR_TYPE_TRANSPORT, mr_smtp_transport_iface_init))

static void
mr_smtp_transport_finalize (GObject *object)
{
  MrSmtpTransport *self = MR_SMTP_TRANSPORT (object);

  g_clear_object (&self->client);
  g_clear_object (&self->delivery);
  g_free (self->server);
  G_OBJECT_CLASS (mr_smtp_transport_parent_class)->finalize (object);
}

static void
mr_smtp_transport_class_init (MrSmtpTransportClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mr_smtp_transport_finalize;
}

static void
mr_smtp_transport_init (MrSmtpTransport *self)
{
}

static const char *
smtp_get_name (MrTransport *transport)
{
  return "smtp";
}

static const char *
smtp_get_label (MrTransport *transport)
{
  return mr_delivery_get_route (MR_SMTP_TRANSPORT (transport)->delivery);
}

static const char *
smtp_get_server (MrTransport *transport)
{
  return MR_SMTP_TRANSPORT (transport)->server;
}

static guint64
smtp_get_size_limit (MrTransport *transport)
{
  return MR_SMTP_TRANSPORT (transport)->size_limit;
}

static char *
smtp_dup_transcript (MrTransport *transport)
{
  return mr_delivery_dup_transcript (MR_SMTP_TRANSPORT (transport)->delivery);
}

static const MrCertificateInfo *
smtp_get_certificate (MrTransport *transport)
{
  MrSmtpClient *client = mr_delivery_get_client (MR_SMTP_TRANSPORT (transport)->delivery);

  return client ? mr_smtp_client_get_certificate (client) : NULL;
}

static const MrSmtpServerInfo *
smtp_get_server_info (MrTransport *transport)
{
  MrSmtpClient *client = mr_delivery_get_client (MR_SMTP_TRANSPORT (transport)->delivery);

  return client ? mr_smtp_client_get_server_info (client) : NULL;
}

static gboolean
smtp_open (MrTransport   *transport,
           GCancellable  *cancellable,
           GError       **error)
{
  MrSmtpTransport *self = MR_SMTP_TRANSPORT (transport);

  if (self->client != NULL && mr_smtp_client_is_connected (self->client))
    return TRUE;
  g_clear_object (&self->client);
  self->client = mr_delivery_connect_sync (self->delivery, cancellable, error);
  if (self->client == NULL)
    return FALSE;
  if (mr_smtp_client_get_server_info (self->client)->size_limit > 0)
    self->size_limit = mr_smtp_client_get_server_info (self->client)->size_limit;
  return TRUE;
}

static MrTransportResult *
smtp_send_gated (MrTransport          *transport,
                 const MrSmtpEnvelope *envelope,
                 GBytes               *message,
                 MrSendGate            gate,
                 gpointer              gate_data,
                 GCancellable         *cancellable,
                 GError              **error)
{
  MrSmtpTransport *self = MR_SMTP_TRANSPORT (transport);
  MrSmtpSendResult *sent;

  if (!smtp_open (transport, cancellable, error))
    return NULL;
  sent = mr_smtp_client_send_gated_sync (self->client, envelope, message, gate, gate_data, cancellable, error);
  /* A broken connection is not used again; one still up is (the next mail begins with RSET). */
  if (!mr_smtp_client_is_connected (self->client))
    g_clear_object (&self->client);
  return sent ? result_of (sent) : NULL;
}

static MrTransportResult *
smtp_send (MrTransport          *transport,
           const MrSmtpEnvelope *envelope,
           GBytes               *message,
           GCancellable         *cancellable,
           GError              **error)
{
  return smtp_send_gated (transport, envelope, message, NULL, NULL, cancellable, error);
}

static void
smtp_close (MrTransport *transport)
{
  MrSmtpTransport *self = MR_SMTP_TRANSPORT (transport);

  if (self->client != NULL)
    mr_smtp_client_quit_sync (self->client, NULL, NULL);
  g_clear_object (&self->client);
}

static void
mr_smtp_transport_iface_init (MrTransportInterface *iface)
{
  iface->get_name = smtp_get_name;
  iface->get_label = smtp_get_label;
  iface->get_server = smtp_get_server;
  iface->get_size_limit = smtp_get_size_limit;
  iface->dup_transcript = smtp_dup_transcript;
  iface->get_certificate = smtp_get_certificate;
  iface->get_server_info = smtp_get_server_info;
  iface->open = smtp_open;
  iface->send = smtp_send;
  iface->send_gated = smtp_send_gated;
  iface->close = smtp_close;
}

/* ---- MrSendmailTransport ---------------------------------------------------------------------- */

struct _MrSendmailTransport
{
  GObject     parent_instance;

  MrDelivery *delivery;
  gboolean    checked;
};

static void mr_sendmail_transport_iface_init (MrTransportInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (MrSendmailTransport, mr_sendmail_transport, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (MR_TYPE_TRANSPORT, mr_sendmail_transport_iface_init))

static void
mr_sendmail_transport_finalize (GObject *object)
{
  g_clear_object (&MR_SENDMAIL_TRANSPORT (object)->delivery);
  G_OBJECT_CLASS (mr_sendmail_transport_parent_class)->finalize (object);
}

static void
mr_sendmail_transport_class_init (MrSendmailTransportClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mr_sendmail_transport_finalize;
}

static void
mr_sendmail_transport_init (MrSendmailTransport *self)
{
}

static const char *
sendmail_get_name (MrTransport *transport)
{
  return "sendmail";
}

static const char *
sendmail_get_label (MrTransport *transport)
{
  return mr_delivery_get_route (MR_SENDMAIL_TRANSPORT (transport)->delivery);
}

static const char *
sendmail_get_server (MrTransport *transport)
{
  return "sendmail";
}

static char *
sendmail_dup_transcript (MrTransport *transport)
{
  return mr_delivery_dup_transcript (MR_SENDMAIL_TRANSPORT (transport)->delivery);
}

/* The program is there to be run: nothing else can be known before a mail goes. */
static gboolean
sendmail_open (MrTransport   *transport,
               GCancellable  *cancellable,
               GError       **error)
{
  MrSendmailTransport *self = MR_SENDMAIL_TRANSPORT (transport);

  if (!self->checked)
    self->checked = mr_delivery_check_sendmail (self->delivery, error);
  return self->checked;
}

static void
sendmail_close (MrTransport *transport)
{
  MR_SENDMAIL_TRANSPORT (transport)->checked = FALSE;
}

static MrTransportResult *
sendmail_send (MrTransport          *transport,
               const MrSmtpEnvelope *envelope,
               GBytes               *message,
               GCancellable         *cancellable,
               GError              **error)
{
  MrSendmailTransport *self = MR_SENDMAIL_TRANSPORT (transport);

  if (!mr_delivery_run_sendmail_sync (self->delivery, envelope, message, cancellable, error))
    return NULL;
  /* The program takes the message for every recipient or for none, and says nothing more. */
  return mr_transport_result_new_all_accepted (envelope);
}

static void
mr_sendmail_transport_iface_init (MrTransportInterface *iface)
{
  iface->get_name = sendmail_get_name;
  iface->get_label = sendmail_get_label;
  iface->get_server = sendmail_get_server;
  iface->dup_transcript = sendmail_dup_transcript;
  iface->open = sendmail_open;
  iface->send = sendmail_send;
  iface->close = sendmail_close;
}

/* ---- From the settings ------------------------------------------------------------------------ */

MrTransport *
mr_smtp_transport_new_for_settings (MrSettings  *settings,
                                    const char  *app,
                                    const char  *password,
                                    GError     **error)
{
  g_autoptr(MrDelivery) delivery = mr_delivery_new (settings, app, error);
  const MrSmtpConfig *config;

  if (delivery == NULL)
    return NULL;
  if (password != NULL)
    mr_delivery_set_password (delivery, password);
  if (mr_delivery_uses_sendmail (delivery))
    {
      MrSendmailTransport *self = g_object_new (MR_TYPE_SENDMAIL_TRANSPORT, NULL);

      self->delivery = g_steal_pointer (&delivery);
      return MR_TRANSPORT (self);
    }
  else
    {
      MrSmtpTransport *self = g_object_new (MR_TYPE_SMTP_TRANSPORT, NULL);

      config = mr_delivery_get_config (delivery);
      self->server = g_strdup_printf ("%s:%u", config->host, config->port);
      self->size_limit = mr_delivery_get_known_size_limit (settings, app);
      self->delivery = g_steal_pointer (&delivery);
      return MR_TRANSPORT (self);
    }
}
