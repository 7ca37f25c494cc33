/* mr-dns.c: the DNS questions the deliverability checks ask, through GResolver */

#include "config.h"

#include "mr-dns.h"

static MrDnsAnswer
classify (GError *error)
{
  if (error == NULL)
    return MR_DNS_FOUND;
  if (g_error_matches (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND))
    return MR_DNS_NOTHING;
  return MR_DNS_FAILED;
}

MrDnsAnswer
mr_dns_lookup_txt (const char    *name,
                   GPtrArray    **out,
                   GCancellable  *cancellable)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GResolver) resolver = g_resolver_get_default ();
  GList *records = g_resolver_lookup_records (resolver, name, G_RESOLVER_RECORD_TXT, cancellable, &error);

  *out = g_ptr_array_new_with_free_func (g_free);
  for (GList *l = records; l != NULL; l = l->next)
    {
      g_autofree const char **strings = NULL;
      GString *joined = g_string_new (NULL);

      g_variant_get (l->data, "(^a&s)", &strings);
      for (guint i = 0; strings != NULL && strings[i] != NULL; i++)
        g_string_append (joined, strings[i]);
      g_ptr_array_add (*out, g_string_free (joined, FALSE));
    }
  g_list_free_full (records, (GDestroyNotify) g_variant_unref);
  return classify (error);
}

MrDnsAnswer
mr_dns_lookup_addresses (const char     *name,
                         GSocketFamily   family,
                         GList         **out,
                         GCancellable   *cancellable)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GResolver) resolver = g_resolver_get_default ();
  GResolverNameLookupFlags flags = family == G_SOCKET_FAMILY_IPV6 ? G_RESOLVER_NAME_LOOKUP_FLAGS_IPV6_ONLY
                                   : family == G_SOCKET_FAMILY_IPV4 ? G_RESOLVER_NAME_LOOKUP_FLAGS_IPV4_ONLY
                                   : G_RESOLVER_NAME_LOOKUP_FLAGS_DEFAULT;

  *out = g_resolver_lookup_by_name_with_flags (resolver, name, flags, cancellable, &error);
  return classify (error);
}

static gint
by_preference (gconstpointer a,
               gconstpointer b)
{
  guint16 pa, pb;

  g_variant_get (*(GVariant **) a, "(q&s)", &pa, NULL);
  g_variant_get (*(GVariant **) b, "(q&s)", &pb, NULL);
  return (gint) pa - (gint) pb;
}

MrDnsAnswer
mr_dns_lookup_mx (const char    *name,
                  GPtrArray    **out,
                  GCancellable  *cancellable)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GResolver) resolver = g_resolver_get_default ();
  GList *records = g_resolver_lookup_records (resolver, name, G_RESOLVER_RECORD_MX, cancellable, &error);
  g_autoptr(GPtrArray) sorted = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);

  for (GList *l = records; l != NULL; l = l->next)
    g_ptr_array_add (sorted, l->data);
  g_list_free (records);
  g_ptr_array_sort (sorted, by_preference);
  *out = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < sorted->len; i++)
    {
      const char *host = NULL;

      g_variant_get (g_ptr_array_index (sorted, i), "(q&s)", NULL, &host);
      g_ptr_array_add (*out, g_strdup (host));
    }
  return classify (error);
}
