/* mr-smtp-error.c: SMTP failures, their class, and the advice for each */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "mr-smtp-error.h"

typedef struct {
  guint  reply_code;
  char  *enhanced_code;
  char  *server_text;
} MrSmtpErrorPrivate;

static void
mr_smtp_error_private_init (MrSmtpErrorPrivate *priv)
{
}

static void
mr_smtp_error_private_copy (const MrSmtpErrorPrivate *src,
                            MrSmtpErrorPrivate       *dest)
{
  dest->reply_code = src->reply_code;
  dest->enhanced_code = g_strdup (src->enhanced_code);
  dest->server_text = g_strdup (src->server_text);
}

static void
mr_smtp_error_private_clear (MrSmtpErrorPrivate *priv)
{
  g_clear_pointer (&priv->enhanced_code, g_free);
  g_clear_pointer (&priv->server_text, g_free);
}

G_DEFINE_EXTENDED_ERROR (MrSmtpError, mr_smtp_error)

/* ---- The advice table ------------------------------------------------------------------------- */

/* First match wins: an error code (or -1 for any), a reply code (0: any), an enhanced code prefix
 * (NULL: any) and a word in the server's text (NULL: any). */
typedef struct {
  int          code;
  guint        reply_code;
  const char  *enhanced;
  const char  *text;
  const char  *advice;
} Advice;

static const Advice advice_table[] = {
  { MR_SMTP_ERROR_AUTH_FAILED, 535, "5.7.139", NULL,
    N_("Office 365 has SMTP login (“Authenticated SMTP”) turned off for this organisation or mailbox. This blocks "
       "OAuth2 as well as passwords. An Office 365 administrator must turn on Authenticated SMTP for the mailbox, "
       "or send through Exchange (Microsoft Graph) instead.") },
  { MR_SMTP_ERROR_AUTH_FAILED, 534, "5.7.9", NULL,
    N_("Gmail does not accept the account’s normal password here. Create an app password in the Google "
       "account’s security settings (it needs 2-Step Verification) and enter that, or use OAuth2.") },
  { MR_SMTP_ERROR_AUTH_FAILED, 534, "5.7.14", NULL,
    N_("Google wants this sign-in confirmed in a web browser first. Sign in to the account in a browser, "
       "then try again; an app password or OAuth2 avoids this.") },
  { MR_SMTP_ERROR_AUTH_FAILED, 535, "5.7.3", NULL,
    N_("The server refused the login: the login name or the password is wrong. Check both; an account with "
       "two-factor sign-in may need an app password.") },
  { MR_SMTP_ERROR_AUTH_FAILED, 535, "5.7.8", NULL,
    N_("The server refused the login: the login name or the password is wrong. Check both; an account with "
       "two-factor sign-in may need an app password.") },
  { MR_SMTP_ERROR_AUTH_FAILED, 0, NULL, NULL,
    N_("The server refused the login. Check the login name and the password.") },
  { -1, 530, NULL, NULL,
    N_("The server accepts mail only over an encrypted connection from someone logged in. Choose STARTTLS "
       "or TLS, and an authentication method other than “None”.") },
  { MR_SMTP_ERROR_REJECTED, 550, "5.7.68", NULL,
    N_("Office 365 rejects mail sent directly to it from this sender. Send through smtp.office365.com with a "
       "login, or ask the Office 365 administrator to set up a connector for this office’s address.") },
  { MR_SMTP_ERROR_REJECTED, 0, NULL, "relay",
    N_("The server refuses to pass the mail on for you: it does not recognise this computer or this login. "
       "Log in (choose an authentication method), or ask the administrator to allow this office’s address.") },
  { MR_SMTP_ERROR_REJECTED, 550, "5.7.60", NULL,
    N_("This login may not send as the From address. Use the login’s own address as From, or ask the mail "
       "administrator for “Send As” permission on that address.") },
  { MR_SMTP_ERROR_REJECTED, 0, "5.7.1", NULL,
    N_("The server does not allow this login or computer to send this mail, often because the From address "
       "belongs to someone else. Use the login’s own address as From, or ask the mail administrator for "
       "permission to send as it.") },
  { MR_SMTP_ERROR_REJECTED, 552, NULL, NULL,
    N_("The message is larger than the server accepts. Make the attachments smaller, or send them in several "
       "messages.") },
  { MR_SMTP_ERROR_REJECTED, 0, "5.3.4", NULL,
    N_("The message is larger than the server accepts. Make the attachments smaller, or send them in several "
       "messages.") },
  { MR_SMTP_ERROR_TOO_BIG, 0, NULL, NULL,
    N_("The message is larger than the server accepts, so it was not sent. Make the attachments smaller, or "
       "send them in several messages.") },
  { MR_SMTP_ERROR_REJECTED, 0, "5.1.1", NULL,
    N_("The server says this recipient does not exist. Check the address for typing errors.") },
  { MR_SMTP_ERROR_REJECTED, 0, NULL, NULL,
    N_("The server refused the mail. Sending it again unchanged will fail the same way; its answer is below.") },
  { MR_SMTP_ERROR_TEMPORARY, 421, NULL, NULL,
    N_("The server is busy or is limiting how much mail you send, and closed the connection. Try again in a "
       "few minutes.") },
  { MR_SMTP_ERROR_TEMPORARY, 0, "4.7.0", NULL,
    N_("The server is busy or is limiting how much mail you send. Try again in a few minutes.") },
  { MR_SMTP_ERROR_TEMPORARY, 0, NULL, NULL,
    N_("The server cannot take the mail right now. Try again later.") },
  { MR_SMTP_ERROR_RESOLVE, 0, NULL, NULL,
    N_("The server’s name cannot be found. Check its spelling in the settings, and that this computer is "
       "connected to the network.") },
  { MR_SMTP_ERROR_CONNECT, 0, NULL, NULL,
    N_("Mailroom could not connect to the server. Check the server address and the port (587 for STARTTLS, "
       "465 for TLS, 25 only between servers). A firewall, or an internet provider that blocks port 25, can "
       "also stop the connection.") },
  { MR_SMTP_ERROR_TIMEOUT, 0, NULL, NULL,
    N_("The server stopped answering. It may be overloaded, or a firewall may be dropping the connection "
       "silently. Try again later, and check the port.") },
  { MR_SMTP_ERROR_CONNECTION_LOST, 0, NULL, NULL,
    N_("The server closed the connection unexpectedly. Try again; if it keeps happening, the server may be "
       "limiting connections.") },
  { MR_SMTP_ERROR_TLS_UNTRUSTED, 0, NULL, NULL,
    N_("The server’s certificate cannot be trusted, so Mailroom stopped before sending anything. If you are "
       "sure the certificate belongs to your server, an administrator can pin its fingerprint in the "
       "Company Settings (Certificate); otherwise someone may be intercepting the connection.") },
  { MR_SMTP_ERROR_TLS_FAILED, 0, NULL, NULL,
    N_("The encrypted connection could not be set up. Check that the security setting matches the port: "
       "STARTTLS on 587 or 25, TLS on 465.") },
  { MR_SMTP_ERROR_STARTTLS_MISSING, 0, NULL, NULL,
    N_("The server does not offer STARTTLS, so Mailroom stopped: the login and the mail would have crossed "
       "the network unencrypted. If the server uses TLS from the start, choose TLS (usually port 465). If "
       "something between you and the server removes STARTTLS, tell your network administrator.") },
  { MR_SMTP_ERROR_AUTH_UNAVAILABLE, 0, NULL, "ntlm",
    N_("The server wants a Windows login (NTLM), and the authentication chosen is a password. In Company "
       "Settings, set Authentication to “NTLM” and try again: the same login and password are used.") },
  { MR_SMTP_ERROR_AUTH_UNAVAILABLE, 0, NULL, NULL,
    N_("The server offers no login method that Mailroom can use with the chosen authentication, so nothing "
       "was sent. Choose another authentication method, or ask the mail provider which one to use.") },
  { MR_SMTP_ERROR_AUTH_INSECURE, 0, NULL, NULL,
    N_("The password would have crossed the network unencrypted, so Mailroom did not send it. Choose STARTTLS "
       "or TLS. Only on a trusted network may an administrator allow a password without encryption.") },
  { MR_SMTP_ERROR_PASSWORD_MISSING, 0, NULL, NULL,
    N_("There is no password for this login in your keyring. Enter it in the settings and save.") },
  { MR_SMTP_ERROR_PROTOCOL, 0, NULL, NULL,
    N_("The server answered something that breaks the mail protocol, so Mailroom stopped. This can be a fault "
       "in the server, or something on the network tampering with the connection.") },
  { MR_SMTP_ERROR_INVALID_MESSAGE, 0, NULL, NULL,
    N_("The message cannot be sent as it is.") },
  { MR_SMTP_ERROR_SENDMAIL, 0, NULL, NULL,
    N_("The sendmail program did not take the mail. Check that the sendmail program in the Delivery settings "
       "exists and works.") },
};

static gboolean
contains_word (const char *text,
               const char *word)
{
  g_autofree char *lower = NULL;

  if (text == NULL)
    return FALSE;
  lower = g_ascii_strdown (text, -1);
  return strstr (lower, word) != NULL;
}

char *
mr_smtp_advise (MrSmtpErrorCode code,
                guint           reply_code,
                const char     *enhanced_code,
                const char     *server_text)
{
  for (guint i = 0; i < G_N_ELEMENTS (advice_table); i++)
    {
      const Advice *row = &advice_table[i];

      if (row->code != -1 && row->code != (int) code)
        continue;
      if (row->reply_code != 0 && row->reply_code != reply_code)
        continue;
      if (row->enhanced != NULL && (enhanced_code == NULL || !g_str_has_prefix (enhanced_code, row->enhanced)))
        continue;
      if (row->text != NULL && !contains_word (server_text, row->text))
        continue;
      return g_strdup (_(row->advice));
    }
  return g_strdup (_("Sending failed."));
}

char *
mr_smtp_reply_in_words (const char *reply)
{
  g_autofree char *enhanced = NULL;
  const char *text;
  guint code;

  if (reply == NULL || !g_ascii_isdigit (reply[0]) || !g_ascii_isdigit (reply[1]) || !g_ascii_isdigit (reply[2]) ||
      (reply[3] != ' ' && reply[3] != '-' && reply[3] != '\0'))
    return NULL;
  code = (guint) g_ascii_strtoull (reply, NULL, 10);
  text = reply[3] ? reply + 4 : reply + 3;
  /* An enhanced status code (RFC 3463) after the reply code: class.subject.detail. */
  if ((text[0] == '2' || text[0] == '4' || text[0] == '5') && text[1] == '.')
    {
      const char *end = text + 2;

      while (g_ascii_isdigit (*end) || *end == '.')
        end++;
      enhanced = g_strndup (text, end - text);
      text = *end == ' ' ? end + 1 : end;
    }
  switch (code / 100)
    {
    case 2:
      return g_strdup (_("Accepted by the server"));
    case 4:
      return mr_smtp_advise (MR_SMTP_ERROR_TEMPORARY, code, enhanced, text);
    case 5:
      if (enhanced != NULL && g_str_has_prefix (enhanced, "5.1."))
        return mr_smtp_advise (MR_SMTP_ERROR_REJECTED, code, "5.1.1", text);
      if (enhanced != NULL && g_str_has_prefix (enhanced, "5.2.2"))
        return g_strdup (_("The recipient’s mailbox is full. Try again in a few days, or reach them another way."));
      if (enhanced != NULL && g_str_has_prefix (enhanced, "5.7."))
        return g_strdup (_("Refused by the server’s rules for senders or content. Sending it again unchanged will "
                           "fail the same way."));
      return g_strdup (_("Refused by the server. Sending it again unchanged will fail the same way."));
    default:
      return NULL;
    }
}

void
mr_smtp_set_error (GError        **error,
                   MrSmtpErrorCode code,
                   guint           reply_code,
                   const char     *enhanced_code,
                   const char     *server_text,
                   const char     *detail)
{
  g_autofree char *advice = NULL;
  g_autofree char *valid_text = NULL;
  g_autofree char *valid_detail = NULL;
  GString *message;
  MrSmtpErrorPrivate *priv;

  if (error == NULL)
    return;

  /* A server's words are whatever bytes it sent: made valid UTF-8 here, as a message must be. */
  valid_text = server_text ? g_utf8_make_valid (server_text, -1) : NULL;
  valid_detail = detail ? g_utf8_make_valid (detail, -1) : NULL;
  server_text = valid_text;
  detail = valid_detail;
  advice = mr_smtp_advise (code, reply_code, enhanced_code, server_text);
  message = g_string_new (advice);
  if (detail != NULL && *detail != '\0')
    g_string_append_printf (message, "\n%s", detail);
  if (reply_code != 0)
    g_string_append_printf (message, _("\nThe server said: %u %s%s%s"), reply_code,
                            enhanced_code ? enhanced_code : "", enhanced_code ? " " : "",
                            server_text ? server_text : "");

  g_set_error_literal (error, MR_SMTP_ERROR, code, message->str);
  g_string_free (message, TRUE);

  priv = mr_smtp_error_get_private (*error);
  priv->reply_code = reply_code;
  priv->enhanced_code = g_strdup (enhanced_code);
  priv->server_text = g_strdup (server_text);
}

guint
mr_smtp_error_get_reply_code (const GError *error)
{
  MrSmtpErrorPrivate *priv = mr_smtp_error_get_private (error);
  return priv ? priv->reply_code : 0;
}

const char *
mr_smtp_error_get_enhanced_code (const GError *error)
{
  MrSmtpErrorPrivate *priv = mr_smtp_error_get_private (error);
  return priv ? priv->enhanced_code : NULL;
}

const char *
mr_smtp_error_get_server_text (const GError *error)
{
  MrSmtpErrorPrivate *priv = mr_smtp_error_get_private (error);
  return priv ? priv->server_text : NULL;
}

MrSmtpFailureClass
mr_smtp_error_get_class (const GError *error)
{
  if (error->domain != MR_SMTP_ERROR)
    return MR_SMTP_FAILURE_LOCAL;

  switch ((MrSmtpErrorCode) error->code)
    {
    case MR_SMTP_ERROR_TIMEOUT:
    case MR_SMTP_ERROR_CONNECTION_LOST:
    case MR_SMTP_ERROR_TEMPORARY:
    case MR_SMTP_ERROR_PROTOCOL:
      return MR_SMTP_FAILURE_TRANSIENT;
    case MR_SMTP_ERROR_AUTH_FAILED:
    case MR_SMTP_ERROR_TOO_BIG:
    case MR_SMTP_ERROR_REJECTED:
      return MR_SMTP_FAILURE_PERMANENT;
    case MR_SMTP_ERROR_RESOLVE:
    case MR_SMTP_ERROR_CONNECT:
    case MR_SMTP_ERROR_TLS_UNTRUSTED:
    case MR_SMTP_ERROR_TLS_FAILED:
    case MR_SMTP_ERROR_STARTTLS_MISSING:
    case MR_SMTP_ERROR_AUTH_UNAVAILABLE:
    case MR_SMTP_ERROR_AUTH_INSECURE:
    case MR_SMTP_ERROR_PASSWORD_MISSING:
    case MR_SMTP_ERROR_SENDMAIL:
    case MR_SMTP_ERROR_INVALID_MESSAGE:
    default:
      return MR_SMTP_FAILURE_LOCAL;
    }
}

char *
mr_smtp_error_describe_reply (const GError *error)
{
  const char *enhanced;

  if (error->domain != MR_SMTP_ERROR || mr_smtp_error_get_reply_code (error) == 0)
    return g_strdup (error->message);
  enhanced = mr_smtp_error_get_enhanced_code (error);
  return g_strdup_printf ("%u %s%s%s", mr_smtp_error_get_reply_code (error), enhanced ? enhanced : "",
                          enhanced ? " " : "", mr_smtp_error_get_server_text (error));
}

gboolean
mr_smtp_error_is_sender_policy (const GError *error)
{
  const char *enhanced = error->domain == MR_SMTP_ERROR ? mr_smtp_error_get_enhanced_code (error) : NULL;

  return enhanced != NULL && g_str_has_prefix (enhanced, "5.7.");
}
