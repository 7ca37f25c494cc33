/* mr-dns.c: the DNS questions the deliverability checks ask, and their answers kept for their TTL */

#include "config.h"

#include "mr-dns.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <resolv.h>
#include <string.h>

#include "mr-settings.h"

#define CACHE_FILE "dns.json"
/* An answer is kept at most a day, whatever its TTL says. */
#define LONGEST_KEPT (24 * 60 * 60)
#define LARGEST_ANSWER 65535

/* ---- The answers kept ------------------------------------------------------------------------ */

/* The cache file is read, changed and written whole under this lock (checks run in threads). */
static GMutex cache_lock;

static char *
cache_key (int         type,
           const char *name)
{
  g_autofree char *lower = g_ascii_strdown (name, -1);
  gsize length = strlen (lower);

  if (length > 0 && lower[length - 1] == '.')
    lower[length - 1] = '\0';
  return g_strdup_printf ("%s %s", type == ns_t_txt ? "TXT" : type == ns_t_mx ? "MX" : type == ns_t_a ? "A" : "AAAA",
                          lower);
}

/* The kept answer to (@type, @name): TRUE with the records in @out (none: nothing there) while it
 * is fresh. */
static gboolean
cache_find (int         type,
            const char *name,
            GPtrArray  *out)
{
  g_autofree char *key = cache_key (type, name);
  g_autoptr(JsonObject) cache = NULL;
  JsonObject *entry;
  JsonArray *records;

  g_mutex_lock (&cache_lock);
  cache = mr_cache_read (CACHE_FILE);
  g_mutex_unlock (&cache_lock);
  entry = json_object_get_member (cache, key) != NULL && JSON_NODE_HOLDS_OBJECT (json_object_get_member (cache, key))
            ? json_object_get_object_member (cache, key) : NULL;
  if (entry == NULL || json_object_get_int_member_with_default (entry, "expires", 0) <= g_get_real_time () / G_USEC_PER_SEC)
    return FALSE;
  records = json_object_get_member (entry, "records") != NULL && JSON_NODE_HOLDS_ARRAY (json_object_get_member (entry, "records"))
              ? json_object_get_array_member (entry, "records") : NULL;
  if (records == NULL)
    return FALSE;
  for (guint i = 0; i < json_array_get_length (records); i++)
    {
      const char *record = json_node_get_string (json_array_get_element (records, i));

      if (record == NULL)
        {
          g_ptr_array_set_size (out, 0);
          return FALSE;
        }
      g_ptr_array_add (out, g_strdup (record));
    }
  return TRUE;
}

/* Keeps @records as the answer to (@type, @name) for @ttl seconds, and drops the answers that
 * have expired. */
static void
cache_keep (int         type,
            const char *name,
            GPtrArray  *records,
            guint32     ttl)
{
  g_autofree char *key = cache_key (type, name);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  g_autoptr(JsonObject) cache = NULL;
  g_autoptr(GList) keys = NULL;
  JsonObject *entry;
  JsonArray *kept;

  if (ttl == 0)
    return;
  entry = json_object_new ();
  kept = json_array_new ();
  json_object_set_int_member (entry, "expires", now + MIN (ttl, LONGEST_KEPT));
  for (guint i = 0; i < records->len; i++)
    json_array_add_string_element (kept, g_ptr_array_index (records, i));
  json_object_set_array_member (entry, "records", kept);

  g_mutex_lock (&cache_lock);
  cache = mr_cache_read (CACHE_FILE);
  keys = json_object_get_members (cache);
  for (GList *l = keys; l != NULL; l = l->next)
    {
      JsonNode *node = json_object_get_member (cache, l->data);

      if (!JSON_NODE_HOLDS_OBJECT (node) ||
          json_object_get_int_member_with_default (json_node_get_object (node), "expires", 0) <= now)
        json_object_remove_member (cache, l->data);
    }
  json_object_set_object_member (cache, key, entry);
  mr_cache_write (CACHE_FILE, cache);
  g_mutex_unlock (&cache_lock);
}

void
mr_dns_forget (const char *domain)
{
  g_autofree char *lower = g_ascii_strdown (domain, -1);
  g_autofree char *under = g_strconcat (".", lower, NULL);
  g_autoptr(JsonObject) cache = NULL;
  g_autoptr(GList) keys = NULL;
  gboolean changed = FALSE;

  g_mutex_lock (&cache_lock);
  cache = mr_cache_read (CACHE_FILE);
  keys = json_object_get_members (cache);
  for (GList *l = keys; l != NULL; l = l->next)
    {
      const char *name = strchr (l->data, ' ');

      if (name != NULL && (g_str_equal (name + 1, lower) || g_str_has_suffix (name + 1, under)))
        {
          json_object_remove_member (cache, l->data);
          changed = TRUE;
        }
    }
  if (changed)
    mr_cache_write (CACHE_FILE, cache);
  g_mutex_unlock (&cache_lock);
}

/* ---- Asking the name servers ----------------------------------------------------------------- */

/* Whether the questions go to the name servers ourselves (with TTLs), not to another resolver. */
/* $MAILROOM_DNS_SERVER, or NULL when it is unset or empty. */
static const char *
server_from_environment (void)
{
  const char *server = g_getenv ("MAILROOM_DNS_SERVER");

  return server != NULL && *server != '\0' ? server : NULL;
}

static gboolean
asks_name_servers (void)
{
  g_autoptr(GResolver) resolver = NULL;

  if (server_from_environment () != NULL)
    return TRUE;
  resolver = g_resolver_get_default ();
  return g_str_equal (G_OBJECT_TYPE_NAME (resolver), "GThreadedResolver");
}

/* $MAILROOM_DNS_SERVER in place of resolv.conf's servers; FALSE when it cannot be read. */
static gboolean
use_server_from_environment (struct __res_state *state)
{
  const char *server = server_from_environment ();
  g_autofree char *address = NULL;
  const char *colon;
  guint64 port = NS_DEFAULTPORT;
  struct sockaddr_in *to = &state->nsaddr_list[0];

  if (server == NULL)
    return TRUE;
  colon = strrchr (server, ':');
  address = colon ? g_strndup (server, colon - server) : g_strdup (server);
  if ((colon != NULL && (!g_ascii_string_to_unsigned (colon + 1, 10, 1, 65535, &port, NULL))) ||
      inet_pton (AF_INET, address, &to->sin_addr) != 1)
    return FALSE;
  to->sin_family = AF_INET;
  to->sin_port = htons ((guint16) port);
  state->nscount = 1;
  return TRUE;
}

/* The TTL of a "no such record" answer: its SOA's, capped by the SOA's minimum (RFC 2308 section
 * 5); 0 (not kept) without one. */
static guint32
negative_ttl (ns_msg *message)
{
  ns_rr rr;

  for (int i = 0; i < ns_msg_count (*message, ns_s_ns); i++)
    {
      const unsigned char *rdata, *end;
      int skipped;

      if (ns_parserr (message, ns_s_ns, i, &rr) < 0 || ns_rr_type (rr) != ns_t_soa)
        continue;
      rdata = ns_rr_rdata (rr);
      end = rdata + ns_rr_rdlen (rr);
      for (int name = 0; name < 2; name++)   /* MNAME, RNAME */
        {
          if ((skipped = dn_skipname (rdata, end)) < 0)
            return 0;
          rdata += skipped;
        }
      if (end - rdata < 20)
        return 0;
      return MIN (ns_rr_ttl (rr), ns_get32 (rdata + 16));   /* after serial, refresh, retry, expire */
    }
  return 0;
}

/* The record @rr of @type as text: a TXT record's strings joined, an MX's "PREFERENCE HOST", an
 * address; NULL when it cannot be read. */
static char *
record_text (ns_msg *message,
             ns_rr  *rr,
             int     type)
{
  const unsigned char *rdata = ns_rr_rdata (*rr);
  guint length = ns_rr_rdlen (*rr);
  char text[INET6_ADDRSTRLEN];
  char host[NS_MAXDNAME];

  switch (type)
    {
    case ns_t_txt:
      {
        GString *joined = g_string_new (NULL);

        for (guint at = 0; at < length; at += 1 + rdata[at])
          {
            if (at + 1 + rdata[at] > length)
              return (g_string_free (joined, TRUE), NULL);
            g_string_append_len (joined, (const char *) rdata + at + 1, rdata[at]);
          }
        /* Bytes are what a record holds: kept as text (a NUL ends it, what is not UTF-8 is marked),
         * so that SPF sees what is not ASCII and the cache file stays JSON. */
        {
          g_autofree char *bytes = g_string_free (joined, FALSE);

          return g_utf8_make_valid (bytes, -1);
        }
      }
    case ns_t_mx:
      if (length < 3 || dn_expand (ns_msg_base (*message), ns_msg_end (*message), rdata + 2, host, sizeof host) < 0)
        return NULL;
      return g_strdup_printf ("%u %s", ns_get16 (rdata), host);
    case ns_t_a:
    case ns_t_aaaa:
      if (length != (type == ns_t_a ? 4u : 16u) || inet_ntop (type == ns_t_a ? AF_INET : AF_INET6, rdata, text, sizeof text) == NULL)
        return NULL;
      return g_strdup (text);
    default:
      return NULL;
    }
}

static MrDnsAnswer
unreadable (GPtrArray *out,
            guint32   *ttl)
{
  g_ptr_array_set_size (out, 0);
  *ttl = 0;
  return MR_DNS_FAILED;
}

MrDnsAnswer
mr_dns_parse_answer (const guint8 *message_bytes,
                     gsize         length,
                     int           type,
                     GPtrArray    *out,
                     guint32      *ttl)
{
  ns_msg message;
  int rcode;

  *ttl = 0;
  if (length > LARGEST_ANSWER || ns_initparse (message_bytes, (int) length, &message) < 0)
    return MR_DNS_FAILED;   /* no answer that can be read */
  rcode = ns_msg_getflag (message, ns_f_rcode);
  if (rcode == ns_r_nxdomain)
    {
      *ttl = negative_ttl (&message);
      return MR_DNS_NOTHING;
    }
  if (rcode != ns_r_noerror)
    return MR_DNS_FAILED;   /* SERVFAIL, REFUSED: the server would not say */

  *ttl = G_MAXUINT32;
  for (int i = 0; i < ns_msg_count (message, ns_s_an); i++)
    {
      ns_rr rr;
      char *text;

      if (ns_parserr (&message, ns_s_an, i, &rr) < 0)
        return unreadable (out, ttl);
      if ((int) ns_rr_type (rr) != type || ns_rr_class (rr) != ns_c_in)
        continue;   /* the CNAMEs on the way */
      if ((text = record_text (&message, &rr, type)) == NULL)
        return unreadable (out, ttl);
      g_ptr_array_add (out, text);
      *ttl = MIN (*ttl, ns_rr_ttl (rr));
    }
  if (out->len == 0)
    {
      *ttl = negative_ttl (&message);
      return MR_DNS_NOTHING;
    }
  return MR_DNS_FOUND;
}

/* Asks the name servers for the records of @type at @name, into @out, with the TTL to keep the
 * answer for. */
static MrDnsAnswer
ask_name_servers (int          type,
                  const char  *name,
                  GPtrArray   *out,
                  guint32     *ttl)
{
  struct __res_state state;
  unsigned char query[NS_PACKETSZ];
  g_autofree unsigned char *answer = g_malloc (LARGEST_ANSWER);
  int query_length, answer_length;

  *ttl = 0;
  memset (&state, 0, sizeof state);
  if (res_ninit (&state) != 0)
    return MR_DNS_FAILED;
  if (!use_server_from_environment (&state))
    {
      res_nclose (&state);
      return MR_DNS_FAILED;
    }
  query_length = res_nmkquery (&state, ns_o_query, name, ns_c_in, type, NULL, 0, NULL, query, sizeof query);
  answer_length = query_length < 0 ? -1 : res_nsend (&state, query, query_length, answer, LARGEST_ANSWER);
  res_nclose (&state);
  if (answer_length < 0)
    return MR_DNS_FAILED;   /* no answer in time */
  return mr_dns_parse_answer (answer, (gsize) answer_length, type, out, ttl);
}

/* The records of @type at @name as text (record_text()), kept or asked for. */
static MrDnsAnswer
lookup (int           type,
        const char   *name,
        GPtrArray    *out,
        GCancellable *cancellable)
{
  MrDnsAnswer answer;
  guint32 ttl;

  if (g_cancellable_is_cancelled (cancellable))
    return MR_DNS_FAILED;
  if (cache_find (type, name, out))
    return out->len > 0 ? MR_DNS_FOUND : MR_DNS_NOTHING;
  answer = ask_name_servers (type, name, out, &ttl);
  if (answer != MR_DNS_FAILED)
    cache_keep (type, name, out, ttl);
  return answer;
}

/* ---- Through another resolver (no TTL) ------------------------------------------------------- */

static MrDnsAnswer
classify (GError *error)
{
  if (error == NULL)
    return MR_DNS_FOUND;
  if (g_error_matches (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND))
    return MR_DNS_NOTHING;
  return MR_DNS_FAILED;
}

static MrDnsAnswer
resolver_txt (const char   *name,
              GPtrArray    *out,
              GCancellable *cancellable)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GResolver) resolver = g_resolver_get_default ();
  GList *records = g_resolver_lookup_records (resolver, name, G_RESOLVER_RECORD_TXT, cancellable, &error);

  for (GList *l = records; l != NULL; l = l->next)
    {
      g_autofree const char **strings = NULL;
      GString *joined = g_string_new (NULL);

      g_variant_get (l->data, "(^a&s)", &strings);
      for (guint i = 0; strings != NULL && strings[i] != NULL; i++)
        g_string_append (joined, strings[i]);
      g_ptr_array_add (out, g_string_free (joined, FALSE));
    }
  g_list_free_full (records, (GDestroyNotify) g_variant_unref);
  return classify (error);
}

static MrDnsAnswer
resolver_mx (const char   *name,
             GPtrArray    *out,
             GCancellable *cancellable)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GResolver) resolver = g_resolver_get_default ();
  GList *records = g_resolver_lookup_records (resolver, name, G_RESOLVER_RECORD_MX, cancellable, &error);

  for (GList *l = records; l != NULL; l = l->next)
    {
      guint16 preference;
      const char *host = NULL;

      g_variant_get (l->data, "(q&s)", &preference, &host);
      g_ptr_array_add (out, g_strdup_printf ("%u %s", preference, host));
    }
  g_list_free_full (records, (GDestroyNotify) g_variant_unref);
  return classify (error);
}

/* ---- The questions --------------------------------------------------------------------------- */

MrDnsAnswer
mr_dns_lookup_txt (const char    *name,
                   GPtrArray    **out,
                   GCancellable  *cancellable)
{
  *out = g_ptr_array_new_with_free_func (g_free);
  return asks_name_servers () ? lookup (ns_t_txt, name, *out, cancellable) : resolver_txt (name, *out, cancellable);
}

static gint
by_preference (gconstpointer a,
               gconstpointer b)
{
  return (gint) g_ascii_strtoull (*(const char **) a, NULL, 10) - (gint) g_ascii_strtoull (*(const char **) b, NULL, 10);
}

MrDnsAnswer
mr_dns_lookup_mx (const char    *name,
                  GPtrArray    **out,
                  GCancellable  *cancellable)
{
  g_autoptr(GPtrArray) records = g_ptr_array_new_with_free_func (g_free);
  MrDnsAnswer answer = asks_name_servers () ? lookup (ns_t_mx, name, records, cancellable)
                                            : resolver_mx (name, records, cancellable);

  g_ptr_array_sort (records, by_preference);
  *out = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < records->len; i++)
    {
      const char *host = strchr (g_ptr_array_index (records, i), ' ');

      g_ptr_array_add (*out, g_strdup (host != NULL ? host + 1 : ""));
    }
  return answer;
}

MrDnsAnswer
mr_dns_lookup_addresses (const char     *name,
                         GSocketFamily   family,
                         GList         **out,
                         GCancellable   *cancellable)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GResolver) resolver = NULL;
  GResolverNameLookupFlags flags = family == G_SOCKET_FAMILY_IPV6 ? G_RESOLVER_NAME_LOOKUP_FLAGS_IPV6_ONLY
                                   : family == G_SOCKET_FAMILY_IPV4 ? G_RESOLVER_NAME_LOOKUP_FLAGS_IPV4_ONLY
                                   : G_RESOLVER_NAME_LOOKUP_FLAGS_DEFAULT;

  *out = NULL;
  if (asks_name_servers ())
    {
      MrDnsAnswer answer = MR_DNS_NOTHING;

      /* SPF's "a" and "mx" ask the DNS (RFC 7208 section 5.3), not /etc/hosts: one question a
       * family, found when either finds, failed when one fails and the other finds nothing. */
      for (int pass = 0; pass < 2; pass++)
        {
          int type = pass == 0 ? ns_t_a : ns_t_aaaa;
          g_autoptr(GPtrArray) records = NULL;
          MrDnsAnswer this;

          if ((type == ns_t_a && family == G_SOCKET_FAMILY_IPV6) || (type == ns_t_aaaa && family == G_SOCKET_FAMILY_IPV4))
            continue;
          records = g_ptr_array_new_with_free_func (g_free);
          this = lookup (type, name, records, cancellable);
          for (guint i = 0; i < records->len; i++)
            *out = g_list_append (*out, g_inet_address_new_from_string (g_ptr_array_index (records, i)));
          if (this == MR_DNS_FOUND || (this == MR_DNS_FAILED && answer == MR_DNS_NOTHING))
            answer = this;
        }
      return *out != NULL ? MR_DNS_FOUND : answer;
    }
  resolver = g_resolver_get_default ();
  *out = g_resolver_lookup_by_name_with_flags (resolver, name, flags, cancellable, &error);
  return classify (error);
}
