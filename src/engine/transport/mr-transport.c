/* mr-transport.c: one door for every way Mailroom sends a built message */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "mr-exchange.h"
#include "mr-secrets.h"
#include "mr-settings.h"
#include "mr-smtp-error.h"
#include "mr-transport.h"

G_DEFINE_QUARK (mr-transport-error-quark, mr_transport_error)

G_DEFINE_INTERFACE (MrTransport, mr_transport, G_TYPE_OBJECT)

static void
mr_transport_default_init (MrTransportInterface *iface)
{
}

/* ---- The failure model ------------------------------------------------------------------------ */

static MrTransportFailure
smtp_failure (const GError *error)
{
  const char *enhanced;

  switch ((MrSmtpErrorCode) error->code)
    {
    case MR_SMTP_ERROR_RESOLVE:
    case MR_SMTP_ERROR_CONNECT:
      return MR_TRANSPORT_FAILURE_UNREACHABLE;
    case MR_SMTP_ERROR_TIMEOUT:
      return MR_TRANSPORT_FAILURE_TIMEOUT;
    case MR_SMTP_ERROR_CONNECTION_LOST:
      return MR_TRANSPORT_FAILURE_TEMPORARY;
    case MR_SMTP_ERROR_TLS_UNTRUSTED:
    case MR_SMTP_ERROR_TLS_FAILED:
    case MR_SMTP_ERROR_STARTTLS_MISSING:
    case MR_SMTP_ERROR_AUTH_UNAVAILABLE:
    case MR_SMTP_ERROR_AUTH_INSECURE:
    case MR_SMTP_ERROR_SENDMAIL:
      return MR_TRANSPORT_FAILURE_NOT_SET_UP;
    case MR_SMTP_ERROR_AUTH_FAILED:
    case MR_SMTP_ERROR_PASSWORD_MISSING:
      return MR_TRANSPORT_FAILURE_LOGIN;
    case MR_SMTP_ERROR_TOO_BIG:
    case MR_SMTP_ERROR_INVALID_MESSAGE:
      return MR_TRANSPORT_FAILURE_PERMANENT;
    case MR_SMTP_ERROR_TEMPORARY:
      /* 4.7.x: the server asks to slow down (a rate limit). */
      enhanced = mr_smtp_error_get_enhanced_code (error);
      return enhanced != NULL && g_str_has_prefix (enhanced, "4.7.") ? MR_TRANSPORT_FAILURE_SLOW_DOWN
                                                                      : MR_TRANSPORT_FAILURE_TEMPORARY;
    case MR_SMTP_ERROR_REJECTED:
      /* A policy refusal of the sender or the session (5.7.x at MAIL FROM, say 5.7.139 "SMTP AUTH
       * disabled"), never a refused recipient. */
      return mr_smtp_error_is_sender_policy (error) ? MR_TRANSPORT_FAILURE_SENDER_REFUSED
                                                    : MR_TRANSPORT_FAILURE_PERMANENT;
    case MR_SMTP_ERROR_PROTOCOL:
      return MR_TRANSPORT_FAILURE_BROKEN;
    default:
      return MR_TRANSPORT_FAILURE_UNKNOWN;
    }
}

static MrTransportFailure
exchange_failure (const GError *error)
{
  switch ((MrExchangeError) error->code)
    {
    case MR_EXCHANGE_ERROR_UNREACHABLE:
      return MR_TRANSPORT_FAILURE_UNREACHABLE;
    case MR_EXCHANGE_ERROR_AUTH_FAILED:
    case MR_EXCHANGE_ERROR_PASSWORD_MISSING:
    case MR_EXCHANGE_ERROR_SIGN_IN_REQUIRED:
    case MR_EXCHANGE_ERROR_SIGN_IN_DECLINED:
    case MR_EXCHANGE_ERROR_SIGN_IN_EXPIRED:
    case MR_EXCHANGE_ERROR_SEND_AS_DENIED:   /* the mailbox may not send as the From address */
      return MR_TRANSPORT_FAILURE_LOGIN;
    case MR_EXCHANGE_ERROR_BUSY:
      return MR_TRANSPORT_FAILURE_SLOW_DOWN;
    case MR_EXCHANGE_ERROR_RECIPIENT_REFUSED:
    case MR_EXCHANGE_ERROR_TOO_BIG:
    case MR_EXCHANGE_ERROR_REJECTED:
      return MR_TRANSPORT_FAILURE_PERMANENT;
    case MR_EXCHANGE_ERROR_NOT_SET_UP:
    case MR_EXCHANGE_ERROR_TLS_UNTRUSTED:
    case MR_EXCHANGE_ERROR_INSECURE:
    case MR_EXCHANGE_ERROR_AUTH_UNAVAILABLE:
    case MR_EXCHANGE_ERROR_PROTOCOL:
    case MR_EXCHANGE_ERROR_REDIRECT_UNCONFIRMED:
    case MR_EXCHANGE_ERROR_DISCOVERY_FAILED:
    default:
      return MR_TRANSPORT_FAILURE_NOT_SET_UP;
    }
}

MrTransportFailure
mr_transport_error_get_failure (const GError *error)
{
  if (error == NULL)
    return MR_TRANSPORT_FAILURE_UNKNOWN;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return MR_TRANSPORT_FAILURE_CANCELLED;
  if (error->domain == MR_TRANSPORT_ERROR)
    return (MrTransportFailure) error->code;
  if (error->domain == MR_SMTP_ERROR)
    return smtp_failure (error);
  if (error->domain == MR_EXCHANGE_ERROR)
    return exchange_failure (error);
  /* No server, no From address, no password in the keyring: a transport that could not be made. */
  if (error->domain == MR_SECRETS_ERROR || error->domain == MR_SETTINGS_ERROR)
    return MR_TRANSPORT_FAILURE_NOT_SET_UP;
  return MR_TRANSPORT_FAILURE_UNKNOWN;
}

gboolean
mr_transport_failure_allows_fallback (MrTransportFailure failure)
{
  switch (failure)
    {
    case MR_TRANSPORT_FAILURE_NOT_SET_UP:
    case MR_TRANSPORT_FAILURE_LOGIN:
    case MR_TRANSPORT_FAILURE_UNREACHABLE:
    case MR_TRANSPORT_FAILURE_TIMEOUT:
    case MR_TRANSPORT_FAILURE_SENDER_REFUSED:
      return TRUE;
    default:
      return FALSE;
    }
}

gboolean
mr_transport_failure_is_temporary (MrTransportFailure failure)
{
  switch (failure)
    {
    case MR_TRANSPORT_FAILURE_UNREACHABLE:
    case MR_TRANSPORT_FAILURE_TIMEOUT:
    case MR_TRANSPORT_FAILURE_TEMPORARY:
    case MR_TRANSPORT_FAILURE_SLOW_DOWN:
    case MR_TRANSPORT_FAILURE_BROKEN:
      return TRUE;
    default:
      return FALSE;
    }
}

gboolean
mr_transport_failure_stops_all (MrTransportFailure failure)
{
  switch (failure)
    {
    case MR_TRANSPORT_FAILURE_TIMEOUT:
    case MR_TRANSPORT_FAILURE_SENDER_REFUSED:
    case MR_TRANSPORT_FAILURE_TEMPORARY:
    case MR_TRANSPORT_FAILURE_SLOW_DOWN:
    case MR_TRANSPORT_FAILURE_PERMANENT:
      return FALSE;
    default:
      return TRUE;
    }
}

gboolean
mr_transport_error_needs_password (const GError *error)
{
  return g_error_matches (error, MR_SMTP_ERROR, MR_SMTP_ERROR_PASSWORD_MISSING) ||
         g_error_matches (error, MR_EXCHANGE_ERROR, MR_EXCHANGE_ERROR_PASSWORD_MISSING) ||
         g_error_matches (error, MR_SECRETS_ERROR, MR_SECRETS_ERROR_UNAVAILABLE) ||
         g_error_matches (error, MR_SECRETS_ERROR, MR_SECRETS_ERROR_LOCKED);
}

char *
mr_transport_error_describe_reply (const GError *error)
{
  return mr_smtp_error_describe_reply (error);
}

char *
mr_transport_error_dup_kind (const GError *error)
{
  const char *enhanced;

  if (error->domain != MR_SMTP_ERROR || mr_smtp_error_get_reply_code (error) == 0)
    return g_strdup_printf ("%s %d", g_quark_to_string (error->domain), error->code);
  enhanced = mr_smtp_error_get_enhanced_code (error);
  return g_strdup_printf ("%u %s", mr_smtp_error_get_reply_code (error), enhanced ? enhanced : "");
}

/* ---- Results ---------------------------------------------------------------------------------- */

MrTransportResult *
mr_transport_result_new (void)
{
  MrTransportResult *result = g_new0 (MrTransportResult, 1);

  result->accepted = g_ptr_array_new_with_free_func (g_free);
  result->refused = g_ptr_array_new_with_free_func (g_free);
  result->deferred = g_ptr_array_new_with_free_func (g_free);
  return result;
}

MrTransportResult *
mr_transport_result_new_all_accepted (const MrSmtpEnvelope *envelope)
{
  MrTransportResult *result = mr_transport_result_new ();

  for (guint i = 0; i < envelope->recipients->len; i++)
    g_ptr_array_add (result->accepted, g_strdup (g_ptr_array_index (envelope->recipients, i)));
  return result;
}

void
mr_transport_result_free (MrTransportResult *result)
{
  if (result == NULL)
    return;
  g_ptr_array_unref (result->accepted);
  g_ptr_array_unref (result->refused);
  g_ptr_array_unref (result->deferred);
  g_free (result->reply);
  g_free (result);
}

/* ---- The interface ---------------------------------------------------------------------------- */

const char *
mr_transport_get_name (MrTransport *self)
{
  g_return_val_if_fail (MR_IS_TRANSPORT (self), NULL);
  return MR_TRANSPORT_GET_IFACE (self)->get_name (self);
}

const char *
mr_transport_get_label (MrTransport *self)
{
  g_return_val_if_fail (MR_IS_TRANSPORT (self), NULL);
  return MR_TRANSPORT_GET_IFACE (self)->get_label (self);
}

const char *
mr_transport_get_server (MrTransport *self)
{
  MrTransportInterface *iface;

  g_return_val_if_fail (MR_IS_TRANSPORT (self), NULL);
  iface = MR_TRANSPORT_GET_IFACE (self);
  return iface->get_server ? iface->get_server (self) : iface->get_label (self);
}

guint64
mr_transport_get_size_limit (MrTransport *self)
{
  MrTransportInterface *iface;

  g_return_val_if_fail (MR_IS_TRANSPORT (self), 0);
  iface = MR_TRANSPORT_GET_IFACE (self);
  return iface->get_size_limit ? iface->get_size_limit (self) : 0;
}

guint
mr_transport_get_retry_after (MrTransport *self)
{
  MrTransportInterface *iface;

  g_return_val_if_fail (MR_IS_TRANSPORT (self), 0);
  iface = MR_TRANSPORT_GET_IFACE (self);
  return iface->get_retry_after ? iface->get_retry_after (self) : 0;
}

char *
mr_transport_dup_transcript (MrTransport *self)
{
  MrTransportInterface *iface;

  g_return_val_if_fail (MR_IS_TRANSPORT (self), NULL);
  iface = MR_TRANSPORT_GET_IFACE (self);
  return iface->dup_transcript ? iface->dup_transcript (self) : g_strdup ("");
}

const char *
mr_transport_get_reply (MrTransport *self)
{
  MrTransportInterface *iface;

  g_return_val_if_fail (MR_IS_TRANSPORT (self), NULL);
  iface = MR_TRANSPORT_GET_IFACE (self);
  return iface->get_reply ? iface->get_reply (self) : NULL;
}

const char *
mr_transport_get_warning (MrTransport *self)
{
  MrTransportInterface *iface;

  g_return_val_if_fail (MR_IS_TRANSPORT (self), NULL);
  iface = MR_TRANSPORT_GET_IFACE (self);
  return iface->get_warning ? iface->get_warning (self) : NULL;
}

const MrCertificateInfo *
mr_transport_get_certificate (MrTransport *self)
{
  MrTransportInterface *iface;

  g_return_val_if_fail (MR_IS_TRANSPORT (self), NULL);
  iface = MR_TRANSPORT_GET_IFACE (self);
  return iface->get_certificate ? iface->get_certificate (self) : NULL;
}

const MrSmtpServerInfo *
mr_transport_get_server_info (MrTransport *self)
{
  MrTransportInterface *iface;

  g_return_val_if_fail (MR_IS_TRANSPORT (self), NULL);
  iface = MR_TRANSPORT_GET_IFACE (self);
  return iface->get_server_info ? iface->get_server_info (self) : NULL;
}

gboolean
mr_transport_open_sync (MrTransport   *self,
                        GCancellable  *cancellable,
                        GError       **error)
{
  MrTransportInterface *iface;

  g_return_val_if_fail (MR_IS_TRANSPORT (self), FALSE);
  iface = MR_TRANSPORT_GET_IFACE (self);
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  return iface->open ? iface->open (self, cancellable, error) : TRUE;
}

MrTransportResult *
mr_transport_send_sync (MrTransport          *self,
                        const MrSmtpEnvelope *envelope,
                        GBytes               *message,
                        GCancellable         *cancellable,
                        GError              **error)
{
  g_return_val_if_fail (MR_IS_TRANSPORT (self), NULL);
  g_return_val_if_fail (envelope != NULL && message != NULL, NULL);
  /* Cancelled before it went: nothing goes. */
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;
  return MR_TRANSPORT_GET_IFACE (self)->send (self, envelope, message, cancellable, error);
}

MrTransportResult *
mr_transport_send_gated_sync (MrTransport          *self,
                              const MrSmtpEnvelope *envelope,
                              GBytes               *message,
                              MrSendGate            gate,
                              gpointer              gate_data,
                              GCancellable         *cancellable,
                              GError              **error)
{
  MrTransportInterface *iface;

  g_return_val_if_fail (MR_IS_TRANSPORT (self), NULL);
  g_return_val_if_fail (envelope != NULL && message != NULL, NULL);
  if (gate == NULL)
    return mr_transport_send_sync (self, envelope, message, cancellable, error);
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;
  iface = MR_TRANSPORT_GET_IFACE (self);
  if (iface->send_gated != NULL)
    return iface->send_gated (self, envelope, message, gate, gate_data, cancellable, error);
  /* Nothing half-sent to hold back: the gate first, then the whole send. */
  if (!gate (gate_data))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("The message was held back before it went."));
      return NULL;
    }
  return iface->send (self, envelope, message, cancellable, error);
}

void
mr_transport_close (MrTransport *self)
{
  MrTransportInterface *iface;

  g_return_if_fail (MR_IS_TRANSPORT (self));
  iface = MR_TRANSPORT_GET_IFACE (self);
  if (iface->close != NULL)
    iface->close (self);
}

gboolean
mr_transport_check_sync (MrTransport   *self,
                         GCancellable  *cancellable,
                         GError       **error)
{
  if (!mr_transport_open_sync (self, cancellable, error))
    return FALSE;
  mr_transport_close (self);
  return TRUE;
}

/* ---- Asynchronous versions -------------------------------------------------------------------- */

static void
check_thread (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  GError *error = NULL;

  if (mr_transport_check_sync (source_object, cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
mr_transport_check_async (MrTransport         *self,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, mr_transport_check_async);
  g_task_run_in_thread (task, check_thread);
}

gboolean
mr_transport_check_finish (MrTransport   *self,
                           GAsyncResult  *result,
                           GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == mr_transport_check_async, FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

typedef struct {
  MrSmtpEnvelope *envelope;
  GBytes         *message;
  gboolean        close_after;
} SendData;

static void
send_data_free (SendData *data)
{
  mr_smtp_envelope_free (data->envelope);
  g_bytes_unref (data->message);
  g_free (data);
}

static void
send_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  SendData *data = task_data;
  GError *error = NULL;
  MrTransportResult *result = mr_transport_send_sync (source_object, data->envelope, data->message, cancellable, &error);

  if (data->close_after)
    mr_transport_close (source_object);
  if (result != NULL)
    g_task_return_pointer (task, result, (GDestroyNotify) mr_transport_result_free);
  else
    g_task_return_error (task, error);
}

static void
send_in_thread (MrTransport          *self,
                const MrSmtpEnvelope *envelope,
                GBytes               *message,
                gboolean              close_after,
                gpointer              source_tag,
                GCancellable         *cancellable,
                GAsyncReadyCallback   callback,
                gpointer              user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  SendData *data = g_new0 (SendData, 1);

  data->envelope = mr_smtp_envelope_copy (envelope);
  data->message = g_bytes_ref (message);
  data->close_after = close_after;
  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, data, (GDestroyNotify) send_data_free);
  g_task_run_in_thread (task, send_thread);
}

void
mr_transport_send_async (MrTransport          *self,
                         const MrSmtpEnvelope *envelope,
                         GBytes               *message,
                         GCancellable         *cancellable,
                         GAsyncReadyCallback   callback,
                         gpointer              user_data)
{
  send_in_thread (self, envelope, message, FALSE, mr_transport_send_async, cancellable, callback, user_data);
}

void
mr_transport_send_one_async (MrTransport          *self,
                             const MrSmtpEnvelope *envelope,
                             GBytes               *message,
                             GCancellable         *cancellable,
                             GAsyncReadyCallback   callback,
                             gpointer              user_data)
{
  send_in_thread (self, envelope, message, TRUE, mr_transport_send_one_async, cancellable, callback, user_data);
}

MrTransportResult *
mr_transport_send_one_finish (MrTransport   *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == mr_transport_send_one_async, NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

MrTransportResult *
mr_transport_send_finish (MrTransport   *self,
                          GAsyncResult  *result,
                          GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == mr_transport_send_async, NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
