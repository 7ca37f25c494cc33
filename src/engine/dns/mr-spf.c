/* mr-spf.c: a domain's SPF record (RFC 7208) read, judged and evaluated
 *
 * Just over 1,000 lines, and kept whole: reading a record, judging it and evaluating it share the
 * terms' grammar, the macro expansion and the limits on lookups (section 4.6.4); apart, each half
 * would need the other's insides. */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "mr-dns.h"
#include "mr-spf.h"

#define MAX_LOOKUPS 10       /* section 4.6.4 */
#define MAX_VOID_LOOKUPS 2
#define MAX_NAMES 10         /* MX or PTR names looked at */
#define MAX_DEPTH 20         /* includes within includes, beyond what the lookup limit allows anyway */

const char *
mr_spf_result_to_string (MrSpfResult result)
{
  static const char * const names[] = { "none", "neutral", "pass", "fail", "softfail", "temperror", "permerror" };

  return result <= MR_SPF_PERMERROR ? names[result] : "permerror";
}

void
mr_spf_verdict_free (MrSpfVerdict *verdict)
{
  if (verdict == NULL)
    return;
  g_free (verdict->record);
  g_free (verdict->matched);
  g_free (verdict->problem);
  g_free (verdict);
}

/* ---- DNS -------------------------------------------------------------------------------------- */

static gboolean
is_spf_record (const char *text)
{
  return g_ascii_strncasecmp (text, "v=spf1", 6) == 0 && (text[6] == '\0' || text[6] == ' ');
}

char *
mr_spf_lookup_record (const char    *domain,
                      gboolean      *temporary,
                      char         **problem,
                      GCancellable  *cancellable)
{
  g_autoptr(GPtrArray) records = NULL;
  char *found = NULL;
  guint count = 0;

  *temporary = FALSE;
  *problem = NULL;
  switch (mr_dns_lookup_txt (domain, &records, cancellable))
    {
    case MR_DNS_FAILED:
      *temporary = TRUE;
      *problem = g_strdup_printf (_("the DNS of %s could not be asked"), domain);
      return NULL;
    case MR_DNS_NOTHING:
      return NULL;
    case MR_DNS_FOUND:
    default:
      break;
    }
  for (guint i = 0; i < records->len; i++)
    if (is_spf_record (g_ptr_array_index (records, i)))
      {
        count++;
        if (found == NULL)
          found = g_strdup (g_ptr_array_index (records, i));
      }
  if (count > 1)
    {
      g_free (found);
      *problem = g_strdup_printf (_("%s has %u SPF records, and receivers treat more than one as an error: "
                                    "they must be merged into one"), domain, count);
      return NULL;
    }
  return found;
}

/* ---- Macros (section 7) ----------------------------------------------------------------------- */

static char *
ip_macro (GInetAddress *ip)
{
  const guint8 *bytes = g_inet_address_to_bytes (ip);
  GString *out = g_string_new (NULL);

  if (g_inet_address_get_family (ip) == G_SOCKET_FAMILY_IPV4)
    g_string_printf (out, "%u.%u.%u.%u", bytes[0], bytes[1], bytes[2], bytes[3]);
  else
    for (guint i = 0; i < 16; i++)
      g_string_append_printf (out, "%s%x.%x", i ? "." : "", bytes[i] >> 4, bytes[i] & 0xf);
  return g_string_free (out, FALSE);
}

static gboolean
is_unreserved (char c)
{
  return g_ascii_isalnum (c) || c == '-' || c == '.' || c == '_' || c == '~';
}

char *
mr_spf_expand (const char    *spec,
               GInetAddress  *ip,
               const char    *domain,
               const char    *sender,
               const char    *helo,
               char         **problem)
{
  g_autoptr(GString) out = g_string_new (NULL);
  const char *at = sender ? strrchr (sender, '@') : NULL;

  for (const char *p = spec; *p != '\0'; p++)
    {
      g_autofree char *value = NULL;
      g_auto(GStrv) parts = NULL;
      g_autoptr(GPtrArray) kept = NULL;
      const char *close;
      const char *q;
      char letter;
      guint keep = 0;
      gboolean reverse = FALSE;
      g_autofree char *delimiters = NULL;
      g_autofree char *joined = NULL;

      if (*p != '%')
        {
          g_string_append_c (out, *p);
          continue;
        }
      p++;
      if (*p == '%')
        {
          g_string_append_c (out, '%');
          continue;
        }
      if (*p == '_')
        {
          g_string_append_c (out, ' ');
          continue;
        }
      if (*p == '-')
        {
          g_string_append (out, "%20");
          continue;
        }
      if (*p != '{' || (close = strchr (p, '}')) == NULL)
        {
          *problem = g_strdup_printf (_("“%s” has a “%%” that starts no macro"), spec);
          return NULL;
        }
      q = p + 1;
      letter = *q++;
      switch (g_ascii_tolower (letter))
        {
        case 's': value = g_strdup (sender ? sender : ""); break;
        case 'l': value = at ? g_strndup (sender, at - sender) : g_strdup ("postmaster"); break;
        case 'o': value = g_strdup (at ? at + 1 : domain); break;
        case 'd': value = g_strdup (domain); break;
        case 'i': value = ip ? ip_macro (ip) : g_strdup (""); break;
        case 'p': value = g_strdup ("unknown"); break;
        case 'v': value = g_strdup (ip && g_inet_address_get_family (ip) == G_SOCKET_FAMILY_IPV6 ? "ip6" : "in-addr"); break;
        case 'h': value = g_strdup (helo ? helo : "unknown"); break;
        default:
          *problem = g_strdup_printf (_("“%s” has an unknown macro letter “%c”"), spec, letter);
          return NULL;
        }
      while (q < close && g_ascii_isdigit (*q))
        keep = keep * 10 + (guint) (*q++ - '0');
      if (q > p + 2 && keep == 0)
        {
          *problem = g_strdup_printf (_("“%s” keeps 0 parts of a macro"), spec);
          return NULL;
        }
      if (q < close && (*q == 'r' || *q == 'R'))
        {
          reverse = TRUE;
          q++;
        }
      delimiters = g_strndup (q, close - q);
      for (const char *d = delimiters; *d != '\0'; d++)
        if (strchr (".-+,/_=", *d) == NULL)
          {
            *problem = g_strdup_printf (_("“%s” has an unknown macro delimiter “%c”"), spec, *d);
            return NULL;
          }
      /* Split on the delimiters, reverse, keep the rightmost parts, join with ".". */
      parts = g_strsplit_set (value, *delimiters ? delimiters : ".", -1);
      kept = g_ptr_array_new ();
      for (guint i = 0; parts[i] != NULL; i++)
        g_ptr_array_add (kept, parts[i]);
      if (reverse)
        for (guint i = 0; i < kept->len / 2; i++)
          {
            gpointer swap = kept->pdata[i];
            kept->pdata[i] = kept->pdata[kept->len - 1 - i];
            kept->pdata[kept->len - 1 - i] = swap;
          }
      if (keep > 0 && keep < kept->len)
        g_ptr_array_remove_range (kept, 0, kept->len - keep);
      g_ptr_array_add (kept, NULL);
      joined = g_strjoinv (".", (char **) kept->pdata);
      if (g_ascii_isupper (letter))
        for (const char *c = joined; *c != '\0'; c++)
          {
            if (is_unreserved (*c))
              g_string_append_c (out, *c);
            else
              g_string_append_printf (out, "%%%02X", (guchar) *c);
          }
      else
        g_string_append (out, joined);
      p = close;
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* A domain-spec ready for DNS (section 4.8): a trailing dot gone, too long a name cut from the
 * left, a last label that is a name. FALSE when it is none. */
static gboolean
fit_domain (char *name)
{
  gsize length = strlen (name);
  const char *last;

  if (length > 0 && name[length - 1] == '.')
    name[--length] = '\0';
  while (length > 253)
    {
      char *dot = strchr (name, '.');

      if (dot == NULL)
        return FALSE;
      memmove (name, dot + 1, strlen (dot + 1) + 1);
      length = strlen (name);
    }
  last = strrchr (name, '.');
  if (last == NULL || last[1] == '\0')
    return FALSE;
  last++;
  /* toplabel: alphanumerics with a letter, or with a hyphen inside. */
  {
    gboolean letter = FALSE;

    for (const char *c = last; *c != '\0'; c++)
      {
        if (!g_ascii_isalnum (*c) && *c != '-')
          return FALSE;
        letter = letter || g_ascii_isalpha (*c);
      }
    return letter && last[0] != '-' && last[strlen (last) - 1] != '-';
  }
}

/* ---- Terms ------------------------------------------------------------------------------------ */

typedef enum { M_ALL, M_INCLUDE, M_A, M_MX, M_PTR, M_IP4, M_IP6, M_EXISTS } Mechanism;

typedef struct {
  char        qualifier;     /* '+', '-', '~', '?' */
  Mechanism   mechanism;
  char       *spec;          /* domain-spec or address; NULL: the current domain */
  int         cidr4, cidr6;  /* -1: the whole address */
  char       *text;          /* as written */
} Term;

static void
term_free (Term *term)
{
  g_free (term->spec);
  g_free (term->text);
  g_free (term);
}

typedef struct {
  GPtrArray *terms;      /* Term */
  char      *redirect;
  char      *exp;
} Record;

static void
record_clear (Record *record)
{
  g_clear_pointer (&record->terms, g_ptr_array_unref);
  g_clear_pointer (&record->redirect, g_free);
  g_clear_pointer (&record->exp, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Record, record_clear)

static gboolean
parse_cidr (const char *text,
            int         maximum,
            int        *out)
{
  char *end;
  guint64 value;

  if (!g_ascii_isdigit (*text))
    return FALSE;
  value = g_ascii_strtoull (text, &end, 10);
  if (*end != '\0' || value > (guint64) maximum || (text[0] == '0' && text[1] != '\0'))
    return FALSE;
  *out = (int) value;
  return TRUE;
}

/* "domain/24//64" into its parts: the lengths are what ends in "/DIGITS" ("//DIGITS" for IPv6); a
 * "/" before them belongs to the domain-spec. FALSE for a length out of range. */
static gboolean
split_dual_cidr (const char *argument,
                 char      **spec,
                 int        *cidr4,
                 int        *cidr6)
{
  g_autofree char *rest = g_strdup (argument);
  char *slash;

  *cidr4 = *cidr6 = -1;
  for (guint i = 0; i < 2; i++)
    {
      gboolean six;
      char *digits;

      slash = strrchr (rest, '/');
      if (slash == NULL)
        break;
      digits = slash + 1;
      six = slash > rest && slash[-1] == '/';
      if (*digits == '\0')
        return FALSE;
      for (const char *c = digits; *c != '\0'; c++)
        if (!g_ascii_isdigit (*c))
          goto done;
      if (six ? (*cidr6 >= 0 || !parse_cidr (digits, 128, cidr6)) : (*cidr4 >= 0 || !parse_cidr (digits, 32, cidr4)))
        return FALSE;
      *(six ? slash - 1 : slash) = '\0';
      if (!six)
        break;   /* "/24" comes before "//64", never after */
    }
done:
  *spec = g_strdup (rest);
  return TRUE;
}

static gboolean
valid_macro_string (const char *spec)
{
  g_autofree char *problem = NULL;
  g_autofree char *expanded = mr_spf_expand (spec, NULL, "example.com", "a@example.com", NULL, &problem);

  return expanded != NULL;
}

static gboolean
parse_record (const char  *text,
              Record      *record,
              char       **problem)
{
  g_auto(GStrv) words = g_strsplit (text + 6, " ", -1);

  record->terms = g_ptr_array_new_with_free_func ((GDestroyNotify) term_free);
  /* Section 3.1: records are 7-bit ASCII; and terms are separated by spaces alone. */
  for (const char *c = text; *c != '\0'; c++)
    if ((guchar) *c >= 0x80 || ((guchar) *c < 0x20))
      {
        *problem = g_strdup (_("it holds a character that is not plain ASCII text"));
        return FALSE;
      }
  for (guint i = 0; words[i] != NULL; i++)
    {
      const char *word = words[i];
      const char *equals = strchr (word, '=');
      const char *colon = strchr (word, ':');
      const char *slash = strchr (word, '/');
      g_autoptr(GString) name = g_string_new (NULL);
      Term *term;
      const char *rest;

      if (*word == '\0')
        continue;
      /* A modifier: name=value, the name before any ":" or "/". */
      if (equals != NULL && (colon == NULL || equals < colon) && (slash == NULL || equals < slash) &&
          g_ascii_isalpha (*word))
        {
          g_autofree char *key = g_ascii_strdown (word, equals - word);

          for (const char *c = key; *c != '\0'; c++)
            if (!g_ascii_isalnum (*c) && *c != '-' && *c != '_' && *c != '.')
              goto bad;
          if (!valid_macro_string (equals + 1) ||
              ((g_str_equal (key, "redirect") || g_str_equal (key, "exp")) && equals[1] == '\0'))
            goto bad;
          if (g_str_equal (key, "redirect") || g_str_equal (key, "exp"))
            {
              char **slot = g_str_equal (key, "redirect") ? &record->redirect : &record->exp;

              if (*slot != NULL)
                {
                  *problem = g_strdup_printf (_("the modifier “%s” is there twice"), key);
                  return FALSE;
                }
              *slot = g_strdup (equals + 1);
            }
          continue;
        }
      term = g_new0 (Term, 1);
      term->text = g_strdup (word);
      term->cidr4 = term->cidr6 = -1;
      g_ptr_array_add (record->terms, term);
      term->qualifier = strchr ("+-~?", *word) ? *word++ : '+';
      rest = word;
      while (*rest != '\0' && *rest != ':' && *rest != '/')
        g_string_append_c (name, g_ascii_tolower (*rest++));
      if (g_str_equal (name->str, "all") && *rest == '\0')
        term->mechanism = M_ALL;
      else if ((g_str_equal (name->str, "include") || g_str_equal (name->str, "exists")) && *rest == ':' && rest[1])
        {
          term->mechanism = g_str_equal (name->str, "include") ? M_INCLUDE : M_EXISTS;
          term->spec = g_strdup (rest + 1);
        }
      else if (g_str_equal (name->str, "a") || g_str_equal (name->str, "mx"))
        {
          term->mechanism = g_str_equal (name->str, "a") ? M_A : M_MX;
          if (*rest == ':' && rest[1] == '\0')
            goto bad;
          if (!split_dual_cidr (*rest == ':' ? rest + 1 : rest, &term->spec, &term->cidr4, &term->cidr6))
            goto bad;
          if (*term->spec == '\0')
            g_clear_pointer (&term->spec, g_free);
        }
      else if (g_str_equal (name->str, "ptr") && (*rest == '\0' || (*rest == ':' && rest[1])))
        {
          term->mechanism = M_PTR;
          term->spec = *rest ? g_strdup (rest + 1) : NULL;
        }
      else if ((g_str_equal (name->str, "ip4") || g_str_equal (name->str, "ip6")) && *rest == ':')
        {
          gboolean six = g_str_equal (name->str, "ip6");
          const char *cidr = strrchr (rest + 1, '/');
          g_autoptr(GInetAddress) address = NULL;

          term->mechanism = six ? M_IP6 : M_IP4;
          term->spec = cidr ? g_strndup (rest + 1, cidr - rest - 1) : g_strdup (rest + 1);
          address = g_inet_address_new_from_string (term->spec);
          if (address == NULL || g_inet_address_get_family (address) != (six ? G_SOCKET_FAMILY_IPV6 : G_SOCKET_FAMILY_IPV4))
            goto bad;
          if (cidr != NULL && !parse_cidr (cidr + 1, six ? 128 : 32, six ? &term->cidr6 : &term->cidr4))
            goto bad;
        }
      else
        goto bad;
      if (term->spec != NULL && term->mechanism != M_IP4 && term->mechanism != M_IP6 && !valid_macro_string (term->spec))
        goto bad;
      continue;

    bad:
      *problem = g_strdup_printf (_("“%s” is not a term SPF knows"), words[i]);
      return FALSE;
    }
  return TRUE;
}

gboolean
mr_spf_record_is_valid (const char  *record,
                        char       **problem)
{
  g_auto(Record) parsed = { NULL };

  if (record == NULL || !is_spf_record (record))
    {
      *problem = g_strdup (_("it does not start with “v=spf1”"));
      return FALSE;
    }
  return parse_record (record, &parsed, problem);
}

/* ---- check_host() (section 4) ----------------------------------------------------------------- */

typedef struct {
  GCancellable *cancellable;
  GInetAddress *ip;
  const char   *sender;
  const char   *helo;
  guint         lookups;
  guint         voids;
  guint         depth;
  char         *problem;
  char         *matched;
  char         *record;      /* the first domain's */
} Check;

/* An error result, with what went wrong said once (the first reason is the one to fix). */
static MrSpfResult
stop (Check       *check,
      MrSpfResult  result,
      char        *problem)
{
  if (check->problem == NULL)
    check->problem = problem;
  else
    g_free (problem);
  return result;
}

/* One more term that queries DNS: FALSE, the permerror said, past the limit (section 4.6.4). */
static gboolean
count_lookup (Check *check)
{
  if (++check->lookups <= MAX_LOOKUPS)
    return TRUE;
  stop (check, MR_SPF_PERMERROR,
        g_strdup (_("the record needs more than 10 DNS lookups (include, a, mx, ptr, exists, redirect); "
                    "receivers stop there and treat it as an error")));
  return FALSE;
}

/* What a mechanism's lookup of @target gave: FALSE, with *@result, when it ends the evaluation
 * (DNS could not be asked: temperror; one lookup too many that found nothing: permerror). */
static gboolean
judge_answer (Check       *check,
              MrDnsAnswer  answer,
              const char  *target,
              MrSpfResult *result)
{
  if (answer == MR_DNS_FAILED)
    {
      *result = stop (check, MR_SPF_TEMPERROR, g_strdup_printf (_("the DNS of %s could not be asked"), target));
      return FALSE;
    }
  if (answer == MR_DNS_NOTHING && ++check->voids > MAX_VOID_LOOKUPS)
    {
      *result = stop (check, MR_SPF_PERMERROR,
                      g_strdup (_("more than 2 of the record's lookups find nothing; receivers treat that as an error")));
      return FALSE;
    }
  return TRUE;
}

/* Whether the first @length bits of @a and @b are the same (the whole address for -1). A listed
 * address may have bits past its prefix ("a/24" of 192.0.2.50), so no GInetAddressMask. */
static gboolean
same_prefix (GInetAddress *a,
             GInetAddress *b,
             int           length)
{
  const guint8 *x = g_inet_address_to_bytes (a);
  const guint8 *y = g_inet_address_to_bytes (b);
  guint bits = length < 0 ? g_inet_address_get_native_size (a) * 8 : (guint) length;
  guint whole = bits / 8;

  if (memcmp (x, y, whole) != 0)
    return FALSE;
  if (bits % 8 != 0)
    {
      guint8 mask = (guint8) (0xff << (8 - bits % 8));

      return (x[whole] & mask) == (y[whole] & mask);
    }
  return TRUE;
}

static gboolean
addresses_match (GList        *addresses,
                 GInetAddress *ip,
                 int           length)
{
  for (GList *l = addresses; l != NULL; l = l->next)
    if (g_inet_address_get_family (l->data) == g_inet_address_get_family (ip) && same_prefix (l->data, ip, length))
      return TRUE;
  return FALSE;
}

/* A redirect= or an include that leads to a domain without a record: a permerror of its own. */
static MrSpfResult
no_record_there (Check      *check,
                 const char *term,
                 const char *target,
                 gboolean    redirect)
{
  return stop (check, MR_SPF_PERMERROR,
               redirect ? g_strdup_printf (_("the record redirects to %s, which has no SPF record"), target)
                        : g_strdup_printf (_("“%s” includes %s, which has no SPF record"), term, target));
}

static MrSpfResult check_host (Check *check, const char *domain);

/* -1: an error (in *result), 0: no match, 1: a match. */
static int
match_term (Check       *check,
            Term        *term,
            const char  *domain,
            MrSpfResult *result)
{
  gboolean six = g_inet_address_get_family (check->ip) == G_SOCKET_FAMILY_IPV6;
  int length = six ? term->cidr6 : term->cidr4;
  g_autofree char *target = NULL;

  if (term->mechanism == M_IP4 || term->mechanism == M_IP6)
    {
      g_autoptr(GInetAddress) network = g_inet_address_new_from_string (term->spec);
      GList one = { network, NULL, NULL };

      if ((term->mechanism == M_IP6) != six)
        return 0;
      return addresses_match (&one, check->ip, six ? term->cidr6 : term->cidr4);
    }
  if (term->mechanism == M_ALL)
    return 1;

  /* What is left queries DNS. */
  if (!count_lookup (check))
    {
      *result = MR_SPF_PERMERROR;
      return -1;
    }
  if (term->spec != NULL)
    {
      g_autofree char *problem = NULL;

      target = mr_spf_expand (term->spec, check->ip, domain, check->sender, check->helo, &problem);
      if (target == NULL || !fit_domain (target))
        {
          *result = stop (check, MR_SPF_PERMERROR,
                          g_strdup_printf (_("“%s” does not name a domain"), term->text));
          return -1;
        }
    }
  else
    target = g_strdup (domain);

  switch (term->mechanism)
    {
    case M_INCLUDE:
      {
        MrSpfResult inner = check_host (check, target);

        switch (inner)
          {
          case MR_SPF_PASS:
            return 1;
          case MR_SPF_FAIL:
          case MR_SPF_SOFTFAIL:
          case MR_SPF_NEUTRAL:
            return 0;
          case MR_SPF_TEMPERROR:
            *result = MR_SPF_TEMPERROR;
            return -1;
          case MR_SPF_NONE:
            *result = no_record_there (check, term->text, target, FALSE);
            return -1;
          case MR_SPF_PERMERROR:
          default:
            *result = MR_SPF_PERMERROR;
            return -1;
          }
      }

    case M_A:
    case M_EXISTS:
      {
        GList *addresses = NULL;
        MrDnsAnswer answer = mr_dns_lookup_addresses (target, term->mechanism == M_EXISTS ? G_SOCKET_FAMILY_IPV4
                                                                              : g_inet_address_get_family (check->ip),
                                          &addresses, check->cancellable);
        int matched;

        if (!judge_answer (check, answer, target, result))
          {
            g_resolver_free_addresses (addresses);
            return -1;
          }
        matched = term->mechanism == M_EXISTS ? addresses != NULL : addresses_match (addresses, check->ip, length);
        g_resolver_free_addresses (addresses);
        return matched;
      }

    case M_MX:
      {
        g_autoptr(GPtrArray) hosts = NULL;
        MrDnsAnswer answer = mr_dns_lookup_mx (target, &hosts, check->cancellable);
        int matched = 0;

        if (!judge_answer (check, answer, target, result))
          return -1;
        if (hosts->len > MAX_NAMES)
          {
            *result = stop (check, MR_SPF_PERMERROR, g_strdup_printf (_("%s has more than 10 MX hosts"), target));
            return -1;
          }
        for (guint i = 0; i < hosts->len && matched == 0; i++)
          {
            GList *addresses = NULL;

            if (mr_dns_lookup_addresses (g_ptr_array_index (hosts, i), g_inet_address_get_family (check->ip),
                                         &addresses, check->cancellable) == MR_DNS_FOUND)
              matched = addresses_match (addresses, check->ip, length);
            g_resolver_free_addresses (addresses);
          }
        return matched;
      }

    case M_PTR:
      {
        /* Section 5.5: the names the address has whose addresses include it, and end in the target. */
        g_autoptr(GResolver) resolver = g_resolver_get_default ();
        g_autoptr(GError) error = NULL;
        g_autofree char *name = g_resolver_lookup_by_address (resolver, check->ip, check->cancellable, &error);
        GList *addresses = NULL;
        int matched = 0;

        /* Any other failure of the PTR lookup is no match (section 5.5), not a temperror. */
        if (name == NULL)
          return g_error_matches (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND) &&
                 !judge_answer (check, MR_DNS_NOTHING, target, result) ? -1 : 0;
        if (mr_dns_lookup_addresses (name, g_inet_address_get_family (check->ip), &addresses, check->cancellable) == MR_DNS_FOUND &&
            addresses_match (addresses, check->ip, -1))
          {
            g_autofree char *suffix = g_strconcat (".", target, NULL);

            matched = g_ascii_strcasecmp (name, target) == 0 ||
                      (strlen (name) > strlen (suffix) &&
                       g_ascii_strcasecmp (name + strlen (name) - strlen (suffix), suffix) == 0);
          }
        g_resolver_free_addresses (addresses);
        return matched;
      }

    case M_ALL:
    case M_IP4:
    case M_IP6:
    default:
      return 0;
    }
}

static MrSpfResult
qualifier_result (char qualifier)
{
  switch (qualifier)
    {
    case '-': return MR_SPF_FAIL;
    case '~': return MR_SPF_SOFTFAIL;
    case '?': return MR_SPF_NEUTRAL;
    default: return MR_SPF_PASS;
    }
}

/* @domain's record, read and parsed for an evaluation or a walk: FALSE, with *@result (none,
 * permerror or temperror, the reason said), when there is none to go by. The first domain's is
 * kept for the verdict. */
static gboolean
read_record (Check       *check,
             const char  *domain,
             Record      *record,
             MrSpfResult *result)
{
  g_autofree char *text = NULL;
  g_autofree char *problem = NULL;
  gboolean temporary;

  if (check->depth > MAX_DEPTH)
    {
      *result = stop (check, MR_SPF_PERMERROR, g_strdup (_("the record includes itself")));
      return FALSE;
    }
  text = mr_spf_lookup_record (domain, &temporary, &problem, check->cancellable);
  if (text == NULL)
    {
      *result = problem == NULL ? MR_SPF_NONE
                : stop (check, temporary ? MR_SPF_TEMPERROR : MR_SPF_PERMERROR, g_steal_pointer (&problem));
      return FALSE;
    }
  if (check->depth == 1 && check->record == NULL)
    check->record = g_strdup (text);
  if (!parse_record (text, record, &problem))
    {
      *result = stop (check, MR_SPF_PERMERROR,
                      g_strdup_printf (_("the SPF record of %s has an error: %s"), domain, problem));
      return FALSE;
    }
  return TRUE;
}

static MrSpfResult
evaluate (Check      *check,
          const char *domain)
{
  g_autofree char *problem = NULL;
  g_auto(Record) record = { NULL };
  MrSpfResult result = MR_SPF_NEUTRAL;

  if (!read_record (check, domain, &record, &result))
    return result;
  for (guint i = 0; i < record.terms->len; i++)
    {
      Term *term = g_ptr_array_index (record.terms, i);
      int matched = match_term (check, term, domain, &result);

      if (matched < 0)
        return result;
      if (matched > 0)
        {
          /* What decided is said as the first domain's record has it. */
          if (check->matched == NULL || check->depth == 1)
            {
              g_free (check->matched);
              check->matched = g_strdup (term->text);
            }
          return qualifier_result (term->qualifier);
        }
    }
  if (record.redirect != NULL)
    {
      g_autofree char *target = mr_spf_expand (record.redirect, check->ip, domain, check->sender, check->helo, &problem);

      if (!count_lookup (check))
        return MR_SPF_PERMERROR;
      if (target == NULL || !fit_domain (target))
        return stop (check, MR_SPF_PERMERROR, g_strdup_printf (_("“redirect=%s” does not name a domain"), record.redirect));
      result = check_host (check, target);
      return result == MR_SPF_NONE ? no_record_there (check, NULL, target, TRUE) : result;
    }
  return MR_SPF_NEUTRAL;
}

/* One level of includes deeper for the evaluation. */
static MrSpfResult
check_host (Check      *check,
            const char *domain)
{
  MrSpfResult result;

  check->depth++;
  result = evaluate (check, domain);
  check->depth--;
  return result;
}

MrSpfVerdict *
mr_spf_check_host (GInetAddress  *ip,
                   const char    *domain,
                   const char    *sender,
                   const char    *helo,
                   GCancellable  *cancellable)
{
  g_autofree char *postmaster = g_strconcat ("postmaster@", domain, NULL);
  g_autofree char *name = g_strdup (domain);
  Check check = { cancellable, ip, sender ? sender : postmaster, helo, 0, 0, 0, NULL, NULL, NULL };
  MrSpfVerdict *verdict = g_new0 (MrSpfVerdict, 1);
  g_autoptr(GInetAddress) four = NULL;

  /* An IPv4 address in IPv6 form (::ffff:a.b.c.d) is the IPv4 address (section 5). */
  if (g_inet_address_get_family (ip) == G_SOCKET_FAMILY_IPV6)
    {
      const guint8 *bytes = g_inet_address_to_bytes (ip);
      static const guint8 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

      if (memcmp (bytes, mapped, sizeof mapped) == 0)
        check.ip = four = g_inet_address_new_from_bytes (bytes + 12, G_SOCKET_FAMILY_IPV4);
    }
  if (!fit_domain (name))
    return verdict;   /* none: not a domain (section 4.3) */
  verdict->result = check_host (&check, name);
  verdict->record = check.record;
  verdict->matched = check.matched;
  verdict->problem = check.problem;
  verdict->lookups = check.lookups;
  verdict->void_lookups = check.voids;
  return verdict;
}

/* ---- A provider's include --------------------------------------------------------------------- */

static gboolean
same_domain (const char *a,
             const char *b)
{
  gsize la = strlen (a), lb = strlen (b);

  if (la > 0 && a[la - 1] == '.')
    la--;
  if (lb > 0 && b[lb - 1] == '.')
    lb--;
  return la == lb && g_ascii_strncasecmp (a, b, la) == 0;
}

static MrSpfResult find_include (Check *check, const char *domain, const char *wanted);

/* Walks the includes and the redirect as an evaluation would reach them, counting the lookups. */
static MrSpfResult
walk_includes (Check      *check,
               const char *domain,
               const char *wanted)
{
  g_autofree char *problem = NULL;
  g_auto(Record) record = { NULL };
  MrSpfResult result = MR_SPF_NONE;
  gboolean ended = FALSE;

  if (!read_record (check, domain, &record, &result))
    return result;
  for (guint i = 0; i < record.terms->len && !ended; i++)
    {
      Term *term = g_ptr_array_index (record.terms, i);
      g_autofree char *target = NULL;

      if (term->mechanism == M_ALL)
        ended = TRUE;
      if (term->mechanism == M_ALL || term->mechanism == M_IP4 || term->mechanism == M_IP6)
        continue;
      if (!count_lookup (check))
        return MR_SPF_PERMERROR;
      if (term->mechanism != M_INCLUDE)
        continue;
      target = mr_spf_expand (term->spec, NULL, domain, check->sender, NULL, &problem);
      if (target == NULL || !fit_domain (target))
        continue;
      if (same_domain (target, wanted))
        {
          g_free (check->matched);
          check->matched = g_strdup (term->text);
          return MR_SPF_PASS;
        }
      result = find_include (check, target, wanted);
      if (result == MR_SPF_PASS || result == MR_SPF_PERMERROR || result == MR_SPF_TEMPERROR)
        return result;
      if (result == MR_SPF_NONE)
        return no_record_there (check, term->text, target, FALSE);
    }
  if (!ended && record.redirect != NULL)
    {
      g_autofree char *target = mr_spf_expand (record.redirect, NULL, domain, check->sender, NULL, &problem);

      if (!count_lookup (check))
        return MR_SPF_PERMERROR;
      if (target == NULL || !fit_domain (target))
        return stop (check, MR_SPF_PERMERROR, g_strdup_printf (_("“redirect=%s” does not name a domain"), record.redirect));
      if (same_domain (target, wanted))
        {
          g_free (check->matched);
          check->matched = g_strconcat ("redirect=", record.redirect, NULL);
          return MR_SPF_PASS;
        }
      result = find_include (check, target, wanted);
      return result == MR_SPF_NONE ? no_record_there (check, NULL, target, TRUE) : result;
    }
  return MR_SPF_FAIL;
}

static MrSpfResult
find_include (Check      *check,
              const char *domain,
              const char *wanted)
{
  MrSpfResult result;

  check->depth++;
  result = walk_includes (check, domain, wanted);
  check->depth--;
  return result;
}

MrSpfVerdict *
mr_spf_check_include (const char    *domain,
                      const char    *include_domain,
                      GCancellable  *cancellable)
{
  g_autofree char *postmaster = g_strconcat ("postmaster@", domain, NULL);
  Check check = { cancellable, NULL, postmaster, NULL, 0, 0, 0, NULL, NULL, NULL };
  MrSpfVerdict *verdict = g_new0 (MrSpfVerdict, 1);

  verdict->result = find_include (&check, domain, include_domain);
  verdict->record = check.record;
  verdict->matched = check.matched;
  verdict->problem = check.problem;
  verdict->lookups = check.lookups;
  return verdict;
}

/* ---- The record to publish -------------------------------------------------------------------- */

char *
mr_spf_merge_term (const char *record,
                   const char *term)
{
  g_auto(GStrv) words = NULL;
  g_autoptr(GPtrArray) out = NULL;
  gboolean placed = FALSE;

  if (record == NULL)
    return g_strdup_printf ("v=spf1 %s ~all", term);
  words = g_strsplit (record, " ", -1);
  out = g_ptr_array_new ();
  for (guint i = 0; words[i] != NULL; i++)
    {
      const char *word = words[i];
      const char *bare = *word && strchr ("+-~?", *word) ? word + 1 : word;

      if (g_ascii_strcasecmp (bare, term) == 0)
        return g_strdup (record);
      if (*word == '\0')
        continue;
      if (!placed && i > 0 && (g_ascii_strcasecmp (bare, "all") == 0 || g_ascii_strncasecmp (word, "redirect=", 9) == 0))
        {
          g_ptr_array_add (out, (gpointer) term);
          placed = TRUE;
        }
      g_ptr_array_add (out, (gpointer) word);
    }
  if (!placed)
    g_ptr_array_add (out, (gpointer) term);
  g_ptr_array_add (out, NULL);
  return g_strjoinv (" ", (char **) out->pdata);
}

char *
mr_spf_merge_include (const char *record,
                      const char *include_domain)
{
  g_autofree char *term = g_strconcat ("include:", include_domain, NULL);

  return mr_spf_merge_term (record, term);
}
