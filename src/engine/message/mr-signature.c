/* mr-signature.c: the signatures under every mail, a person's own and the company's */

#include "config.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "mr-html-clean.h"
#include "mr-message.h"
#include "mr-signature.h"
#include "mr-template.h"

char *
mr_signature_get_path (MrSignatureScope scope)
{
  g_autofree char *dir = scope == MR_SIGNATURE_COMPANY ? mr_template_get_company_dir ()
                                                       : mr_template_get_personal_dir ();
  g_autofree char *file = g_strdup_printf ("%s.mustache", scope == MR_SIGNATURE_COMPANY
                                                            ? MR_SIGNATURE_PARTIAL_COMPANY
                                                            : MR_SIGNATURE_PARTIAL_PERSONAL);

  return g_build_filename (dir, "partials", file, NULL);
}

char *
mr_signature_load (MrSignatureScope   scope,
                   GError           **error)
{
  g_autofree char *path = mr_signature_get_path (scope);
  g_autoptr(GError) local_error = NULL;
  char *contents = NULL;

  if (!g_file_get_contents (path, &contents, NULL, &local_error))
    {
      if (!g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  return contents;
}

gboolean
mr_signature_can_save (MrSignatureScope scope)
{
  g_autofree char *path = mr_signature_get_path (scope);
  g_autofree char *dir = g_path_get_dirname (path);

  if (g_file_test (path, G_FILE_TEST_EXISTS))
    return g_access (path, W_OK) == 0 && g_access (dir, W_OK) == 0;
  /* Not there yet: the nearest folder that is must let it be made. */
  while (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      char *parent = g_path_get_dirname (dir);

      if (g_str_equal (parent, dir))
        {
          g_free (parent);
          return FALSE;
        }
      g_free (dir);
      dir = parent;
    }
  return g_access (dir, W_OK) == 0;
}

/* Nothing to read and nothing to see: no signature. */
static gboolean
is_empty (const char *html)
{
  g_autofree char *text = mr_html_to_text (html);

  return *g_strstrip (text) == '\0' && strstr (html, "<img") == NULL && strstr (html, "<hr") == NULL;
}

gboolean
mr_signature_save (MrSignatureScope   scope,
                   const char        *html,
                   GError           **error)
{
  g_autofree char *path = mr_signature_get_path (scope);
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *cleaned = mr_html_clean (html ? html : "", NULL);

  if (is_empty (cleaned))
    {
      if (g_unlink (path) != 0 && errno != ENOENT)
        {
          int saved_errno = errno;

          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                       _("Cannot remove the signature %s: %s"), path, g_strerror (saved_errno));
          return FALSE;
        }
      return TRUE;
    }
  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno), _("Cannot create %s: %s"), dir,
                   g_strerror (saved_errno));
      return FALSE;
    }
  /* Atomic: a temporary file and a rename, so a crash leaves the old one or the new one. */
  return g_file_set_contents_full (path, cleaned, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644, error);
}

char *
mr_signature_summarize (const char *html)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  GString *out = g_string_new (NULL);

  if (html == NULL)
    return g_string_free (out, FALSE);
  text = mr_html_to_text (html);
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_strstrip (lines[i]);
      if (*lines[i] == '\0')
        continue;
      if (out->len > 0)
        g_string_append (out, " · ");
      g_string_append (out, lines[i]);
    }
  if (out->len == 0 && strstr (html, "<img") != NULL)
    g_string_append (out, _("A picture"));
  return g_string_free (out, FALSE);
}

char *
mr_signature_from_text (const char *text)
{
  g_autofree char *escaped = NULL;
  g_auto(GStrv) lines = NULL;
  g_autofree char *joined = NULL;

  if (text == NULL)
    return g_strdup ("");
  if (strchr (text, '<') != NULL && strchr (text, '>') != NULL)
    return g_strdup (text);
  escaped = g_markup_escape_text (text, -1);
  lines = g_strsplit (g_strchomp (escaped), "\n", -1);
  joined = g_strjoinv ("<br>", lines);
  return *joined ? g_strdup_printf ("<p>%s</p>", joined) : g_strdup ("");
}
