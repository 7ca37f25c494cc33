/* mr-key-labels.c: what each settings key is called on screen */

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "mr-key-labels.h"

static const struct { const char *key; const char *label; } labels[] = {
  { "smtp.provider", N_("Provider") },
  { "smtp.host", N_("Server") },
  { "smtp.port", N_("Port") },
  { "smtp.security", N_("Security") },
  { "smtp.auth", N_("Authentication") },
  { "smtp.username", N_("Login") },
  { "smtp.credentials", N_("Whose login") },
  { "smtp.allow_plaintext_auth", N_("Allow password without encryption") },
  { "smtp.tls_trust_file", N_("Trusted certificate authority file") },
  { "smtp.tls_fingerprint", N_("Pinned certificate fingerprint") },
  { "delivery.mode", N_("Delivery") },
  { "delivery.sendmail_path", N_("Sendmail program") },
  { "sender.from_name", N_("From name") },
  { "sender.from_address", N_("From address") },
  { "sender.reply_to", N_("Reply-To") },
  { "sender.copy_to", N_("Send a copy of all emails to") },
  { "sender.send_as_user", N_("Send as the user’s own address") },
  { "log.retention_days", N_("Keep the sent log for (days)") },
  { "mailshot.per_minute", N_("Mailshot mails a minute") },
  { "mailshot.per_day", N_("Mailshot mails a day") },
  { "mailshot.connections", N_("Mailshot connections") },
  { "mailshot.copy_each", N_("Copy every mailshot mail") },
  { "mailshot.unsubscribe_url", N_("Unsubscribe page") },
  { "mailshot.unsubscribe_mailto", N_("Unsubscribe address") },
  { "exchange.transport", N_("Exchange") },
  { "exchange.ews_url", N_("EWS address") },
  { "exchange.autodiscover", N_("Find the EWS address by autodiscover") },
  { "exchange.auth", N_("EWS login") },
  { "exchange.username", N_("Exchange login") },
  { "exchange.mailbox", N_("Send from the shared mailbox") },
  { "exchange.save_copy", N_("Keep a copy in Sent Items") },
  { "exchange.trust_file", N_("Exchange certificate authority file") },
  { "exchange.tenant", N_("Tenant") },
  { "exchange.client_id", N_("Application (client) ID") },
  { "exchange.authority", N_("Sign-in service") },
  { "exchange.graph_endpoint", N_("Microsoft Graph address") },
  { "exchange.timeout_ms", N_("Exchange timeout (ms)") },
  { "exchange.preferred", N_("“Automatic” sends through") },
  { "exchange.fallback", N_("Fall back to the other transport") },
  { "smtp.timeout_connect_ms", N_("Connection timeout (ms)") },
  { "smtp.timeout_greeting_ms", N_("Greeting timeout (ms)") },
  { "smtp.timeout_command_ms", N_("Reply timeout (ms)") },
  { "smtp.timeout_data_ms", N_("End-of-message timeout (ms)") },
  { "domains.verified", N_("Verified domains") },
  { "domains.pending", N_("Domains waiting for their proof") },
  { "domains.proved", N_("Domains proved by DNS") },
  { "locks", N_("Locked settings") },
  { "user.name", N_("Your name") },
  { "user.email", N_("Your email address") },
};

const char *
mr_key_get_label (const char *base_key)
{
  for (guint i = 0; i < G_N_ELEMENTS (labels); i++)
    if (g_strcmp0 (labels[i].key, base_key) == 0)
      return _(labels[i].label);
  return base_key;
}

static gboolean
is_key_char (char c)
{
  return g_ascii_islower (c) || g_ascii_isdigit (c) || c == '_' || c == '.';
}

/* The label of @key (a base key, or apps.NAME.KEY), or NULL when it is no key. */
static char *
label_of (const char *key)
{
  if (g_str_has_prefix (key, "apps."))
    {
      const char *dot = strchr (key + 5, '.');
      g_autofree char *app = dot ? g_strndup (key + 5, dot - key - 5) : NULL;

      if (dot == NULL || mr_key_get_label (dot + 1) == dot + 1)
        return NULL;
      return g_strdup_printf (_("%s (application “%s”)"), mr_key_get_label (dot + 1), app);
    }
  if (mr_key_get_label (key) == key)
    return NULL;
  return g_strdup (mr_key_get_label (key));
}

char *
mr_key_words (const char *message)
{
  GString *words;
  const char *p;

  if (message == NULL)
    return NULL;
  words = g_string_new (NULL);
  p = message;
  while (*p != '\0')
    {
      const char *end = p;
      g_autofree char *token = NULL;
      g_autofree char *label = NULL;

      /* A key is a run of lower-case words joined by dots, standing on its own. */
      if ((p != message && is_key_char (p[-1])) || !g_ascii_islower (*p))
        {
          g_string_append_c (words, *p++);
          continue;
        }
      while (is_key_char (*end))
        end++;
      while (end > p && end[-1] == '.')   /* a full stop after the key is not part of it */
        end--;
      token = g_strndup (p, end - p);
      if (strchr (token, '.') == NULL || (label = label_of (token)) == NULL)
        {
          g_string_append_len (words, p, end - p);
          p = end;
          continue;
        }
      /* The key the message starts with is its subject; one in the text is quoted. */
      if (p == message && g_str_has_prefix (end, ": "))
        g_string_append (words, label);
      else
        /* TRANSLATORS: a setting's name quoted in a sentence */
        g_string_append_printf (words, _("“%s”"), label);
      p = end;
    }
  return g_string_free (words, FALSE);
}
