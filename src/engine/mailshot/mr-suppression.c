/* mr-suppression.c: the company's suppression list */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "mr-keys.h"
#include "mr-settings-error.h"
#include "mr-suppression.h"

char *
mr_suppression_get_path (void)
{
  const char *path = g_getenv ("MAILROOM_SUPPRESSION_LIST");
  const char *company = g_getenv ("MAILROOM_COMPANY_CONFIG");
  g_autofree char *dir = NULL;

  if (path != NULL && *path != '\0')
    return g_strdup (path);
  dir = g_path_get_dirname (company != NULL && *company != '\0' ? company : "/etc/xdg/mailroom/company.json");
  return g_build_filename (dir, "suppression.txt", NULL);
}

gboolean
mr_suppression_foreach (const char         *path,
                        MrSuppressionFunc   func,
                        gpointer            user_data,
                        GError            **error)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GFileInputStream) stream = g_file_read (file, NULL, &local_error);
  g_autoptr(GDataInputStream) lines = NULL;
  char *line;

  if (stream == NULL)
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        return TRUE;
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  lines = g_data_input_stream_new (G_INPUT_STREAM (stream));
  while ((line = g_data_input_stream_read_line_utf8 (lines, NULL, NULL, &local_error)) != NULL)
    {
      char *comment = strchr (line, '#');

      if (comment != NULL)
        *comment = '\0';
      g_strstrip (line);
      if (*line != '\0')
        {
          g_autofree char *lower = g_utf8_strdown (line, -1);
          func (lower, user_data);
        }
      g_free (line);
    }
  if (local_error != NULL)
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error), "%s: ", path);
      return FALSE;
    }
  return TRUE;
}

static void
collect (const char *address,
         gpointer    user_data)
{
  GPtrArray *list = user_data;
  g_ptr_array_add (list, g_strdup (address));
}

/* The list as it is, the change applied, written back in one piece. */
static gboolean
change (const char          *path,
        const char * const  *addresses,
        gboolean             add,
        guint               *changed,
        GError             **error)
{
  g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GHashTable) wanted = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GHashTable) present = g_hash_table_new (g_str_hash, g_str_equal);
  GString *text = g_string_new ("# Mailroom's suppression list: addresses no mailshot sends to, one a line.\n");
  guint count = 0;
  gboolean ok;

  for (guint i = 0; addresses[i] != NULL; i++)
    {
      g_autofree char *trimmed = g_strstrip (g_strdup (addresses[i]));

      if (!mr_validate_address (trimmed, NULL))
        {
          g_set_error (error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_INVALID_VALUE, _("“%s” is not an email address"),
                       addresses[i]);
          g_string_free (text, TRUE);
          return FALSE;
        }
      g_hash_table_add (wanted, g_utf8_strdown (trimmed, -1));
    }
  if (!mr_suppression_foreach (path, collect, list, error))
    {
      g_string_free (text, TRUE);
      return FALSE;
    }

  for (guint i = 0; i < list->len; i++)
    {
      const char *address = g_ptr_array_index (list, i);

      if (!g_hash_table_add (present, (gpointer) address))
        continue;  /* written once */
      if (!add && g_hash_table_contains (wanted, address))
        {
          count++;
          continue;
        }
      g_string_append_printf (text, "%s\n", address);
    }
  if (add)
    {
      GHashTableIter iter;
      gpointer address;

      g_hash_table_iter_init (&iter, wanted);
      while (g_hash_table_iter_next (&iter, &address, NULL))
        if (!g_hash_table_contains (present, address))
          {
            g_string_append_printf (text, "%s\n", (const char *) address);
            count++;
          }
    }
  ok = g_file_set_contents_full (path, text->str, text->len, G_FILE_SET_CONTENTS_CONSISTENT, 0644, error);
  g_string_free (text, TRUE);
  if (ok && changed != NULL)
    *changed = count;
  return ok;
}

gboolean
mr_suppression_add (const char          *path,
                    const char * const  *addresses,
                    guint               *changed,
                    GError             **error)
{
  return change (path, addresses, TRUE, changed, error);
}

gboolean
mr_suppression_remove (const char          *path,
                       const char * const  *addresses,
                       guint               *changed,
                       GError             **error)
{
  return change (path, addresses, FALSE, changed, error);
}
