/* mr-transport.h: one door for every way Mailroom sends a built message
 *
 * An MrTransport takes a message that is already built (the bytes of RFC 5322) and an envelope, and
 * hands it on: to an SMTP server (MrSmtpTransport), to this machine's sendmail program
 * (MrSendmailTransport), to Exchange over EWS or Microsoft Graph (MrExchangeTransport). MrRouter is
 * itself a transport: it holds the transports of a route and falls back from one to the next. Callers
 * (the outbox, the mailshot workers, the samples) ask the router for a transport and use only this
 * interface; they never look at which transport it is or which one failed.
 *
 * A session: mr_transport_open() (connect, secure, log in: optional, send opens on demand), then
 * mr_transport_send() for each message, then mr_transport_close(). One transport serves one thread at
 * a time; a mailshot gives each of its workers its own.
 *
 * Failures share one model (MrTransportFailure), whatever the transport's own error domain: the
 * error keeps its message (the advice a person reads), and mr_transport_error_get_failure() tells what
 * it means for the caller: cannot send at all (not set up, login, unreachable: another transport may),
 * this message for now (temporary, with the seconds the service asked to wait from
 * mr_transport_get_retry_after()), or for good. Recipients refused while others were taken are in
 * the MrTransportResult, not an error.
 */
#pragma once

#include "mr-smtp-client.h"

G_BEGIN_DECLS

/* What a failure means for the caller, whichever transport failed. */
typedef enum {
  MR_TRANSPORT_FAILURE_UNKNOWN,         /* not a transport's failure */
  MR_TRANSPORT_FAILURE_CANCELLED,       /* the caller cancelled before the message went */
  MR_TRANSPORT_FAILURE_NOT_SET_UP,      /* the settings, the keyring, TLS, the program: nothing goes until fixed */
  MR_TRANSPORT_FAILURE_LOGIN,           /* the login or sign-in is missing or refused, or may not send as the sender */
  MR_TRANSPORT_FAILURE_UNREACHABLE,     /* the server cannot be reached now */
  MR_TRANSPORT_FAILURE_TIMEOUT,         /* the server stopped answering */
  MR_TRANSPORT_FAILURE_SENDER_REFUSED,  /* a policy refusal of the sender or the session (5.7.x), for good */
  MR_TRANSPORT_FAILURE_TEMPORARY,       /* this message, refused for now or cut off: try again later */
  MR_TRANSPORT_FAILURE_SLOW_DOWN,       /* refused for now because of the rate: try later, and slower */
  MR_TRANSPORT_FAILURE_BROKEN,          /* the server broke the protocol */
  MR_TRANSPORT_FAILURE_PERMANENT,       /* this message, for good: too big, refused, every recipient refused */
} MrTransportFailure;

/* A transport's own errors in this domain: the code is the MrTransportFailure. Transports may also
 * fail with their protocol's domain (MR_SMTP_ERROR, MR_EXCHANGE_ERROR), which this model reads. */
#define MR_TRANSPORT_ERROR (mr_transport_error_quark ())
GQuark             mr_transport_error_quark              (void);

MrTransportFailure mr_transport_error_get_failure        (const GError       *error);
/* Whether another transport of the route may try (the failing one cannot send at all now); never
 * after a refused recipient or a message too big. */
gboolean           mr_transport_failure_allows_fallback  (MrTransportFailure  failure);
/* Whether the same message may go later (the outbox retries it). */
gboolean           mr_transport_failure_is_temporary     (MrTransportFailure  failure);
/* Whether every message would fail the same way now (a mailshot pauses rather than failing its rows). */
gboolean           mr_transport_failure_stops_all        (MrTransportFailure  failure);
/* Whether the login failed only for want of a password the keyring would have given (none stored,
 * no keyring, a locked one): the caller may ask the person for it, once, and keep it nowhere. */
gboolean           mr_transport_error_needs_password     (const GError       *error);
/* The reply as a log records it ("550 5.1.1 No such user"), or the error's message. */
char              *mr_transport_error_describe_reply     (const GError       *error);
/* Failures that are "the same" for a run of them: the reply code and enhanced code, or the domain and
 * code of an error that has none. */
char              *mr_transport_error_dup_kind           (const GError       *error);

/* What a transport did with a message it sent: which recipients it took, and its last word. */
typedef struct {
  GPtrArray  *accepted;   /* char* addresses the server took the message for */
  GPtrArray  *refused;    /* char* "address: 550 5.1.1 …": refused for good while others were taken */
  GPtrArray  *deferred;   /* char* "address: 450 4.2.1 …": refused for now */
  char       *reply;      /* the server's reply to the message ("250 2.0.0 queued as …", "202 Accepted") */
} MrTransportResult;

MrTransportResult *mr_transport_result_new   (void);
/* A transport that takes a message for all its recipients or for none: every one accepted. */
MrTransportResult *mr_transport_result_new_all_accepted (const MrSmtpEnvelope *envelope);
void               mr_transport_result_free  (MrTransportResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MrTransportResult, mr_transport_result_free)

#define MR_TYPE_TRANSPORT (mr_transport_get_type ())

G_DECLARE_INTERFACE (MrTransport, mr_transport, MR, TRANSPORT, GObject)

struct _MrTransportInterface
{
  GTypeInterface parent_iface;

  const char        *(*get_name)        (MrTransport          *self);
  const char        *(*get_label)       (MrTransport          *self);
  const char        *(*get_server)      (MrTransport          *self);
  guint64            (*get_size_limit)  (MrTransport          *self);
  guint              (*get_retry_after) (MrTransport          *self);
  char              *(*dup_transcript)  (MrTransport          *self);
  const char        *(*get_warning)     (MrTransport          *self);
  const char        *(*get_reply)       (MrTransport          *self);
  const MrCertificateInfo *(*get_certificate) (MrTransport    *self);
  const MrSmtpServerInfo  *(*get_server_info) (MrTransport    *self);
  gboolean           (*open)            (MrTransport          *self,
                                         GCancellable         *cancellable,
                                         GError              **error);
  MrTransportResult *(*send)            (MrTransport          *self,
                                         const MrSmtpEnvelope *envelope,
                                         GBytes               *message,
                                         GCancellable         *cancellable,
                                         GError              **error);
  void               (*close)           (MrTransport          *self);
  /* Optional: a send that calls @gate at its last moment (see mr_transport_send_gated_sync()); a
   * transport without it has @gate called before send. */
  MrTransportResult *(*send_gated)      (MrTransport          *self,
                                         const MrSmtpEnvelope *envelope,
                                         GBytes               *message,
                                         MrSendGate            gate,
                                         gpointer              gate_data,
                                         GCancellable         *cancellable,
                                         GError              **error);
};

/* The transport as the sent log records it: "smtp", "sendmail", "ews", "graph" (a router: the one
 * that sent last). */
const char        *mr_transport_get_name        (MrTransport          *self);
/* Where mail goes, for a person: "smtp.example.com port 587 (STARTTLS)", "EWS at https://…". */
const char        *mr_transport_get_label       (MrTransport          *self);
/* Where mail goes, as the sent log records it: "smtp.example.com:587", "sendmail", "EWS at …". */
const char        *mr_transport_get_server      (MrTransport          *self);
/* The largest message this transport takes, in bytes, when known (0: not known). */
guint64            mr_transport_get_size_limit  (MrTransport          *self);
/* Seconds the service asked to wait after the last failure (0: not said). */
guint              mr_transport_get_retry_after (MrTransport          *self);
/* What was said, without secrets. */
char              *mr_transport_dup_transcript  (MrTransport          *self);
/* The service's word on the last request of a session (Exchange: "NoError"), or NULL. */
const char        *mr_transport_get_reply       (MrTransport          *self);
/* A translated warning about this set-up that does not stop it (EWS at Exchange Online), or NULL. */
const char        *mr_transport_get_warning     (MrTransport          *self);
/* The certificate the server showed in the last session (also when it was not trusted: the person
 * may pin it), or NULL. */
const MrCertificateInfo *mr_transport_get_certificate (MrTransport    *self);
/* What an SMTP server said of itself in the last session (its greeting, encryption, capabilities,
 * login): the details of Check Server and `mailroom-cli check`; NULL for transports that are not
 * SMTP or before a session. */
const MrSmtpServerInfo  *mr_transport_get_server_info (MrTransport    *self);

/* In a worker thread: connects, secures and logs in, so that the first message does not wait for
 * it. Sending opens on demand too. */
gboolean           mr_transport_open_sync       (MrTransport          *self,
                                                 GCancellable         *cancellable,
                                                 GError              **error);
/* In a worker thread: sends @message to the recipients of @envelope. NULL with @error when no
 * recipient took it. */
MrTransportResult *mr_transport_send_sync       (MrTransport          *self,
                                                 const MrSmtpEnvelope *envelope,
                                                 GBytes               *message,
                                                 GCancellable         *cancellable,
                                                 GError              **error);
/* The same, calling @gate once at the last moment the message can be held back (MrSendGate): SMTP
 * has had the envelope taken and the server's 354, and has sent nothing of the message; a transport
 * that cannot hold a message half-sent has sent nothing yet. FALSE from @gate abandons the message, which nobody takes, and the
 * send fails with MR_TRANSPORT_FAILURE_CANCELLED. @gate is not called when the send fails before
 * that moment, and a router calls it once whichever of its transports sends. */
MrTransportResult *mr_transport_send_gated_sync (MrTransport          *self,
                                                 const MrSmtpEnvelope *envelope,
                                                 GBytes               *message,
                                                 MrSendGate            gate,
                                                 gpointer              gate_data,
                                                 GCancellable         *cancellable,
                                                 GError              **error);
/* Ends the session politely (QUIT); the transport may be opened again. */
void               mr_transport_close           (MrTransport          *self);

/* Opens and closes a session: connects, secures and logs in without sending anything (Check Server,
 * Check Exchange, `mailroom-cli check`). */
gboolean           mr_transport_check_sync      (MrTransport          *self,
                                                 GCancellable         *cancellable,
                                                 GError              **error);

/* The same from the main loop, the work in a thread. */
void               mr_transport_check_async     (MrTransport          *self,
                                                 GCancellable         *cancellable,
                                                 GAsyncReadyCallback   callback,
                                                 gpointer              user_data);
gboolean           mr_transport_check_finish    (MrTransport          *self,
                                                 GAsyncResult         *result,
                                                 GError              **error);
void               mr_transport_send_async      (MrTransport          *self,
                                                 const MrSmtpEnvelope *envelope,
                                                 GBytes               *message,
                                                 GCancellable         *cancellable,
                                                 GAsyncReadyCallback   callback,
                                                 gpointer              user_data);
MrTransportResult *mr_transport_send_finish     (MrTransport          *self,
                                                 GAsyncResult         *result,
                                                 GError              **error);
/* One message on its own (a test): sends it and ends the session, both in the thread, so that the
 * main loop never waits for the server's goodbye. */
void               mr_transport_send_one_async  (MrTransport          *self,
                                                 const MrSmtpEnvelope *envelope,
                                                 GBytes               *message,
                                                 GCancellable         *cancellable,
                                                 GAsyncReadyCallback   callback,
                                                 gpointer              user_data);
MrTransportResult *mr_transport_send_one_finish (MrTransport          *self,
                                                 GAsyncResult         *result,
                                                 GError              **error);

G_END_DECLS
