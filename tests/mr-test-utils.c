/* mr-test-utils.c: shared set-up for Mailroom's tests */

#include "config.h"

#include <glib/gstdio.h>
#include <locale.h>
#include <string.h>
#include <unistd.h>

#include "mr-test-utils.h"

void
mr_test_init (int    *argc,
              char ***argv)
{
  setlocale (LC_ALL, "C.UTF-8");
  g_setenv ("LANGUAGE", "en", TRUE);
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  g_unsetenv ("MAILROOM_COMPANY_CONFIG");
  /* tests/isolated.sh gives the whole run its own HOME, XDG folders and keyring; the MrTestDirs
   * fixture gives each case its own settings files. */
  g_test_init (argc, argv, NULL);
}

void
mr_test_dirs_setup (MrTestDirs    *dirs,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  dirs->root = g_dir_make_tmp ("mailroom-XXXXXX", &error);
  g_assert_no_error (error);
  dirs->etc = g_build_filename (dirs->root, "etc", "mailroom", NULL);
  g_assert_cmpint (g_mkdir_with_parents (dirs->etc, 0755), ==, 0);
  dirs->company_path = g_build_filename (dirs->etc, "company.json", NULL);
  dirs->config_home = g_build_filename (dirs->root, "config", NULL);
  dirs->user_path = g_build_filename (dirs->config_home, "mailroom", "user.json", NULL);

  g_setenv ("MAILROOM_COMPANY_CONFIG", dirs->company_path, TRUE);
  g_setenv ("XDG_CONFIG_HOME", dirs->config_home, TRUE);
}

static void
remove_tree (const char *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    {
      g_chmod (path, 0700);
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          remove_tree (child);
        }
      g_dir_close (dir);
      g_rmdir (path);
    }
  else
    g_unlink (path);
}

void
mr_test_dirs_teardown (MrTestDirs    *dirs,
                       gconstpointer  data)
{
  remove_tree (dirs->root);
  g_free (dirs->root);
  g_free (dirs->etc);
  g_free (dirs->company_path);
  g_free (dirs->config_home);
  g_free (dirs->user_path);
  g_unsetenv ("MAILROOM_COMPANY_CONFIG");
}

gboolean
mr_test_require_keyring (void)
{
  g_autoptr(GDBusConnection) bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, NULL);
  g_autoptr(GVariant) reply = NULL;
  gboolean has_owner = FALSE;

  if (bus != NULL)
    reply = g_dbus_connection_call_sync (bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                         "org.freedesktop.DBus", "NameHasOwner",
                                         g_variant_new ("(s)", "org.freedesktop.secrets"),
                                         G_VARIANT_TYPE ("(b)"), 0, 2000, NULL, NULL);
  if (reply != NULL)
    g_variant_get (reply, "(b)", &has_owner);
  if (has_owner)
    return TRUE;

  if (g_strcmp0 (g_getenv ("MAILROOM_TEST_KEYRING"), "1") == 0)
    g_error ("No Secret Service on the session bus, but tests/isolated.sh should have started one");
  g_test_skip ("No Secret Service: run the suite with `make test` (tests/isolated.sh)");
  return FALSE;
}

void
mr_test_write_file (const char *path,
                    const char *contents)
{
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
}

char *
mr_test_read_file (const char *path)
{
  char *contents = NULL;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return NULL;
  return contents;
}

gboolean
mr_test_tree_contains (const char *path,
                       const char *needle)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const char *name;
  gboolean found = FALSE;

  if (dir == NULL)
    {
      g_autofree char *contents = NULL;
      gsize length;

      if (!g_file_test (path, G_FILE_TEST_IS_REGULAR) || !g_file_get_contents (path, &contents, &length, NULL))
        return FALSE;
      return g_strstr_len (contents, length, needle) != NULL;
    }

  while (!found && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (!g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        found = mr_test_tree_contains (child, needle);
    }
  g_dir_close (dir);
  return found;
}

/* A host name no other test uses, so that tests sharing one keyring do not see each other. */
char *
mr_test_unique_host (const char *stem)
{
  return g_strdup_printf ("%s-%d-%u.test.example", stem, (int) getpid (), g_random_int ());
}
