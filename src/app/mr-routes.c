/* mr-routes.c: the rows of a "Send via" choice */

#include "config.h"

#include "mr-routes.h"

static const char * const routes[] = { "smtp", "exchange", "auto" };

const char *
mr_route_for_row (guint index)
{
  return index < G_N_ELEMENTS (routes) ? routes[index] : routes[0];
}

guint
mr_route_get_row (const char *route)
{
  for (guint i = 0; i < G_N_ELEMENTS (routes); i++)
    if (g_strcmp0 (route, routes[i]) == 0)
      return i;
  return 0;
}
