/* mr-router.c: a route is a transport of its own */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "mr-exchange-transport.h"
#include "mr-router.h"
#include "mr-smtp-transport.h"

typedef struct {
  const char         *route;       /* what callers and settings name */
  const char         *name;        /* as the sent log records a try before the transport exists */
  MrTransportFactory  make;
} Entry;

/* Mailroom's transports: one line each. */
static const Entry builtin[] = {
  { "smtp",     "smtp", mr_smtp_transport_new_for_settings },   /* an SMTP server, or the sendmail program */
  { "exchange", "ews",  mr_exchange_transport_new },            /* EWS or Microsoft Graph */
};

static GMutex registry_lock;
static GPtrArray *registered;   /* Entry, with its strings, added by mr_router_register_transport() */

void
mr_router_register_transport (const char         *name,
                              MrTransportFactory  factory)
{
  Entry *entry = g_new0 (Entry, 1);

  g_return_if_fail (name != NULL && factory != NULL && !mr_router_has_route (name));
  entry->route = g_strdup (name);
  entry->name = entry->route;
  entry->make = factory;
  g_mutex_lock (&registry_lock);
  if (registered == NULL)
    registered = g_ptr_array_new ();
  g_ptr_array_add (registered, entry);
  g_mutex_unlock (&registry_lock);
}

static const Entry *
find_entry (const char *route)
{
  const Entry *found = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (builtin); i++)
    if (g_strcmp0 (builtin[i].route, route) == 0)
      return &builtin[i];
  g_mutex_lock (&registry_lock);
  for (guint i = 0; registered != NULL && i < registered->len && found == NULL; i++)
    if (g_strcmp0 (((Entry *) g_ptr_array_index (registered, i))->route, route) == 0)
      found = g_ptr_array_index (registered, i);
  g_mutex_unlock (&registry_lock);
  return found;
}

gboolean
mr_router_has_route (const char *route)
{
  return g_strcmp0 (route, "auto") == 0 || find_entry (route) != NULL;
}

/* ---- The router ------------------------------------------------------------------------------- */

typedef struct {
  const Entry *entry;
  MrTransport *transport;   /* NULL when it could not be made */
  GError      *error;       /* why not */
} Slot;

struct _MrRouter
{
  GObject               parent_instance;

  GArray               *slots;      /* Slot, in the route's order */
  guint                 current;    /* where the next send starts: moves on after a fallback */
  guint                 last;       /* the slot tried last */
  GPtrArray            *tries;      /* MrRouterTry */
  MrRouterFallbackFunc  fallback;
  gpointer              fallback_data;
};

static void mr_router_iface_init (MrTransportInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (MrRouter, mr_router, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (MR_TYPE_TRANSPORT, mr_router_iface_init))

static void
slot_clear (Slot *slot)
{
  g_clear_object (&slot->transport);
  g_clear_error (&slot->error);
}

static void
router_try_free (MrRouterTry *try)
{
  g_free (try->name);
  g_free (try->server);
  g_clear_error (&try->error);
  g_free (try);
}

static void
mr_router_finalize (GObject *object)
{
  MrRouter *self = MR_ROUTER (object);

  g_array_unref (self->slots);
  g_ptr_array_unref (self->tries);
  G_OBJECT_CLASS (mr_router_parent_class)->finalize (object);
}

static void
mr_router_class_init (MrRouterClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mr_router_finalize;
}

static void
mr_router_init (MrRouter *self)
{
  self->slots = g_array_new (FALSE, TRUE, sizeof (Slot));
  g_array_set_clear_func (self->slots, (GDestroyNotify) slot_clear);
  self->tries = g_ptr_array_new_with_free_func ((GDestroyNotify) router_try_free);
}

/* Made here, on the caller's thread, since transports read the settings as they are made. */
static void
add_slot (MrRouter    *self,
          const Entry *entry,
          MrSettings  *settings,
          const char  *app,
          const char  *password)
{
  Slot slot = { entry, NULL, NULL };

  slot.transport = entry->make (settings, app, password, &slot.error);
  g_array_append_val (self->slots, slot);
}

MrRouter *
mr_router_new (MrSettings  *settings,
               const char  *app,
               const char  *route,
               const char  *password,
               GError     **error)
{
  g_autoptr(MrRouter) self = NULL;
  const Entry *entry;

  if (route == NULL)
    route = "smtp";
  if (!mr_router_has_route (route))
    {
      g_set_error (error, MR_TRANSPORT_ERROR, MR_TRANSPORT_FAILURE_NOT_SET_UP,
                   _("There is no route “%s”: choose smtp, exchange or auto"), route);
      return NULL;
    }
  self = g_object_new (MR_TYPE_ROUTER, NULL);
  if (g_str_equal (route, "auto"))
    {
      g_autofree char *preferred = mr_settings_dup_effective_string (settings, app, "exchange.preferred");
      const char *other = g_str_equal (preferred, "exchange") ? "smtp" : "exchange";
      const char *first = g_str_equal (preferred, "exchange") ? "exchange" : "smtp";

      /* A password the person typed is the SMTP login's (the one the outbox and the CLI ask for):
       * on the route "auto" it never goes to Exchange. */
      add_slot (self, find_entry (first), settings, app, g_str_equal (first, "smtp") ? password : NULL);
      /* The other one, when the company allows it; Exchange only once it is set up. */
      if (mr_settings_get_effective_boolean (settings, app, "exchange.fallback") &&
          (!g_str_equal (other, "exchange") || mr_exchange_is_set_up (settings, app, NULL)))
        add_slot (self, find_entry (other), settings, app, g_str_equal (other, "smtp") ? password : NULL);
    }
  else
    {
      entry = find_entry (route);
      add_slot (self, entry, settings, app, password);
    }
  return g_steal_pointer (&self);
}

gboolean
mr_router_check (MrRouter  *self,
                 GError   **error)
{
  for (guint i = 0; i < self->slots->len; i++)
    if (g_array_index (self->slots, Slot, i).transport != NULL)
      return TRUE;
  g_propagate_error (error, g_error_copy (g_array_index (self->slots, Slot, 0).error));
  return FALSE;
}

void
mr_router_set_fallback_func (MrRouter             *self,
                             MrRouterFallbackFunc  func,
                             gpointer              user_data)
{
  self->fallback = func;
  self->fallback_data = user_data;
}

GPtrArray *
mr_router_get_tries (MrRouter *self)
{
  return self->tries;
}

static Slot *
slot_at (MrRouter *self,
         guint     i)
{
  return &g_array_index (self->slots, Slot, i);
}

/* What the router works on: a transport's session (open) or a message (send), and the caller's
 * gate, passed once: a transport tried after another that passed it does not ask again. */
typedef struct {
  const MrSmtpEnvelope *envelope;   /* NULL: open */
  GBytes               *message;
  MrSendGate            gate;
  gpointer              gate_data;
  gboolean              gate_asked;
  gboolean              gate_verdict;
  MrTransportResult    *result;
} Work;

static gboolean
gate_once (gpointer data)
{
  Work *work = data;

  if (!work->gate_asked)
    {
      work->gate_asked = TRUE;
      work->gate_verdict = work->gate (work->gate_data);
    }
  return work->gate_verdict;
}

static gboolean
work_on (MrRouter      *self,
         Work          *work,
         GCancellable  *cancellable,
         GError       **error)
{
  g_ptr_array_set_size (self->tries, 0);
  for (guint i = self->current; i < self->slots->len; i++)
    {
      Slot *slot = slot_at (self, i);
      MrRouterTry *try = g_new0 (MrRouterTry, 1);
      MrTransportFailure failure;

      self->last = i;
      if (slot->transport == NULL)
        {
          try->name = g_strdup (slot->entry->name);
          try->error = g_error_copy (slot->error);
        }
      else
        {
          gboolean done;

          if (work->envelope == NULL)
            done = mr_transport_open_sync (slot->transport, cancellable, &try->error);
          else
            done = (work->result = mr_transport_send_gated_sync (slot->transport, work->envelope, work->message,
                                                                 work->gate ? gate_once : NULL, work, cancellable,
                                                                 &try->error)) != NULL;
          try->name = g_strdup (mr_transport_get_name (slot->transport));
          try->server = g_strdup (mr_transport_get_server (slot->transport));
          if (done)
            {
              g_ptr_array_add (self->tries, try);
              self->current = i;
              return TRUE;
            }
        }
      g_ptr_array_add (self->tries, try);
      failure = mr_transport_error_get_failure (try->error);
      if (i + 1 < self->slots->len && mr_transport_failure_allows_fallback (failure))
        {
          if (self->fallback != NULL && !self->fallback (self, try, self->fallback_data, error))
            return FALSE;
          continue;
        }
      g_propagate_error (error, g_error_copy (try->error));
      return FALSE;
    }
  g_assert_not_reached ();
}

static Slot *
last_slot (MrRouter *self)
{
  return slot_at (self, MIN (self->last, self->slots->len - 1));
}

static const char *
router_get_name (MrTransport *transport)
{
  Slot *slot = last_slot (MR_ROUTER (transport));

  return slot->transport ? mr_transport_get_name (slot->transport) : slot->entry->name;
}

static const char *
router_get_label (MrTransport *transport)
{
  Slot *slot = last_slot (MR_ROUTER (transport));

  return slot->transport ? mr_transport_get_label (slot->transport) : slot->entry->name;
}

static const char *
router_get_server (MrTransport *transport)
{
  Slot *slot = last_slot (MR_ROUTER (transport));

  return slot->transport ? mr_transport_get_server (slot->transport) : NULL;
}

static guint64
router_get_size_limit (MrTransport *transport)
{
  Slot *slot = last_slot (MR_ROUTER (transport));

  return slot->transport ? mr_transport_get_size_limit (slot->transport) : 0;
}

static guint
router_get_retry_after (MrTransport *transport)
{
  Slot *slot = last_slot (MR_ROUTER (transport));

  return slot->transport ? mr_transport_get_retry_after (slot->transport) : 0;
}

static char *
router_dup_transcript (MrTransport *transport)
{
  Slot *slot = last_slot (MR_ROUTER (transport));

  return slot->transport ? mr_transport_dup_transcript (slot->transport) : g_strdup ("");
}

static const char *
router_get_warning (MrTransport *transport)
{
  Slot *slot = last_slot (MR_ROUTER (transport));

  return slot->transport ? mr_transport_get_warning (slot->transport) : NULL;
}

static const char *
router_get_reply (MrTransport *transport)
{
  Slot *slot = last_slot (MR_ROUTER (transport));

  return slot->transport ? mr_transport_get_reply (slot->transport) : NULL;
}

static const MrCertificateInfo *
router_get_certificate (MrTransport *transport)
{
  Slot *slot = last_slot (MR_ROUTER (transport));

  return slot->transport ? mr_transport_get_certificate (slot->transport) : NULL;
}

static const MrSmtpServerInfo *
router_get_server_info (MrTransport *transport)
{
  Slot *slot = last_slot (MR_ROUTER (transport));

  return slot->transport ? mr_transport_get_server_info (slot->transport) : NULL;
}

static gboolean
router_open (MrTransport   *transport,
             GCancellable  *cancellable,
             GError       **error)
{
  Work work = { NULL };

  return work_on (MR_ROUTER (transport), &work, cancellable, error);
}

static MrTransportResult *
router_send_gated (MrTransport          *transport,
                   const MrSmtpEnvelope *envelope,
                   GBytes               *message,
                   MrSendGate            gate,
                   gpointer              gate_data,
                   GCancellable         *cancellable,
                   GError              **error)
{
  Work work = { envelope, message, gate, gate_data, FALSE, FALSE, NULL };

  if (!work_on (MR_ROUTER (transport), &work, cancellable, error))
    return NULL;
  return work.result;
}

static MrTransportResult *
router_send (MrTransport          *transport,
             const MrSmtpEnvelope *envelope,
             GBytes               *message,
             GCancellable         *cancellable,
             GError              **error)
{
  return router_send_gated (transport, envelope, message, NULL, NULL, cancellable, error);
}

static void
router_close (MrTransport *transport)
{
  MrRouter *self = MR_ROUTER (transport);

  for (guint i = 0; i < self->slots->len; i++)
    if (slot_at (self, i)->transport != NULL)
      mr_transport_close (slot_at (self, i)->transport);
}

static void
mr_router_iface_init (MrTransportInterface *iface)
{
  iface->get_name = router_get_name;
  iface->get_label = router_get_label;
  iface->get_server = router_get_server;
  iface->get_size_limit = router_get_size_limit;
  iface->get_retry_after = router_get_retry_after;
  iface->dup_transcript = router_dup_transcript;
  iface->get_warning = router_get_warning;
  iface->get_reply = router_get_reply;
  iface->get_certificate = router_get_certificate;
  iface->get_server_info = router_get_server_info;
  iface->open = router_open;
  iface->send = router_send;
  iface->send_gated = router_send_gated;
  iface->close = router_close;
}
