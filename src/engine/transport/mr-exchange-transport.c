/* mr-exchange-transport.c: MrTransport over Exchange, by EWS or Microsoft Graph */

#include "config.h"

#include "mr-exchange-transport.h"

struct _MrExchangeTransport
{
  GObject     parent_instance;

  MrExchange *exchange;
  gboolean    checked;   /* logged in once: a session has nothing else to open */
};

static void mr_exchange_transport_iface_init (MrTransportInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (MrExchangeTransport, mr_exchange_transport, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (MR_TYPE_TRANSPORT, mr_exchange_transport_iface_init))

static void
mr_exchange_transport_finalize (GObject *object)
{
  g_clear_object (&MR_EXCHANGE_TRANSPORT (object)->exchange);
  G_OBJECT_CLASS (mr_exchange_transport_parent_class)->finalize (object);
}

static void
mr_exchange_transport_class_init (MrExchangeTransportClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mr_exchange_transport_finalize;
}

static void
mr_exchange_transport_init (MrExchangeTransport *self)
{
}

static const char *
exchange_get_name (MrTransport *transport)
{
  return mr_exchange_get_transport (MR_EXCHANGE_TRANSPORT (transport)->exchange);
}

static const char *
exchange_get_label (MrTransport *transport)
{
  return mr_exchange_get_route (MR_EXCHANGE_TRANSPORT (transport)->exchange);
}

static guint
exchange_get_retry_after (MrTransport *transport)
{
  return mr_exchange_get_retry_after (MR_EXCHANGE_TRANSPORT (transport)->exchange);
}

static char *
exchange_dup_transcript (MrTransport *transport)
{
  return mr_exchange_dup_transcript (MR_EXCHANGE_TRANSPORT (transport)->exchange);
}

static const char *
exchange_get_warning (MrTransport *transport)
{
  return mr_exchange_get_warning (MR_EXCHANGE_TRANSPORT (transport)->exchange);
}

static const char *
exchange_get_reply (MrTransport *transport)
{
  return mr_exchange_get_reply (MR_EXCHANGE_TRANSPORT (transport)->exchange);
}

/* Logs in and reads Sent Items (EWS) or the mailbox (Graph), once a session. */
static gboolean
exchange_open (MrTransport   *transport,
               GCancellable  *cancellable,
               GError       **error)
{
  MrExchangeTransport *self = MR_EXCHANGE_TRANSPORT (transport);

  if (!self->checked)
    self->checked = mr_exchange_check_sync (self->exchange, cancellable, error);
  return self->checked;
}

static void
exchange_close (MrTransport *transport)
{
  MR_EXCHANGE_TRANSPORT (transport)->checked = FALSE;
}

static MrTransportResult *
exchange_send (MrTransport          *transport,
               const MrSmtpEnvelope *envelope,
               GBytes               *message,
               GCancellable         *cancellable,
               GError              **error)
{
  MrExchange *exchange = MR_EXCHANGE_TRANSPORT (transport)->exchange;
  MrTransportResult *result;

  /* Exchange takes a message for every recipient or refuses it. */
  if (!mr_exchange_send_sync (exchange, envelope, message, cancellable, error))
    return NULL;
  result = mr_transport_result_new_all_accepted (envelope);
  result->reply = g_strdup (mr_exchange_get_reply (exchange));
  return result;
}

static void
mr_exchange_transport_iface_init (MrTransportInterface *iface)
{
  iface->get_name = exchange_get_name;
  iface->get_label = exchange_get_label;
  iface->get_retry_after = exchange_get_retry_after;
  iface->dup_transcript = exchange_dup_transcript;
  iface->get_warning = exchange_get_warning;
  iface->get_reply = exchange_get_reply;
  iface->open = exchange_open;
  iface->send = exchange_send;
  iface->close = exchange_close;
}

MrTransport *
mr_exchange_transport_new (MrSettings  *settings,
                           const char  *app,
                           const char  *password,
                           GError     **error)
{
  MrExchange *exchange = mr_exchange_new (settings, app, error);
  MrExchangeTransport *self;

  if (exchange == NULL)
    return NULL;
  /* One the person typed when the keyring had none: for this login only, kept nowhere. */
  if (password != NULL)
    mr_exchange_set_password (exchange, password);
  self = g_object_new (MR_TYPE_EXCHANGE_TRANSPORT, NULL);
  self->exchange = exchange;
  return MR_TRANSPORT (self);
}
