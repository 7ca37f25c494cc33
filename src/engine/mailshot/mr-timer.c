/* mr-timer.c: the systemd user timer for due mailshots */

#include "config.h"

#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <errno.h>
#include <string.h>
#include <glib/gstdio.h>

#include "mr-timer.h"

#define UNIT "mailroom-mailshots"

/* Inside a Flatpak sandbox: the app's ID, else NULL. */
static const char *
flatpak_id (void)
{
  const char *id = g_getenv ("FLATPAK_ID");

  return id != NULL && *id != '\0' ? id : NULL;
}

/* The units go where the user's systemd reads them: in a sandbox that is the host's config folder
 * (--filesystem=xdg-config/systemd/user:create), not the app's own. */
static char *
unit_path (const char *suffix)
{
  g_autofree char *name = g_strconcat (UNIT ".", suffix, NULL);
  const char *host_config = g_getenv ("HOST_XDG_CONFIG_HOME");

  if (flatpak_id () != NULL)
    {
      g_autofree char *config = host_config && *host_config ? g_strdup (host_config)
                                                            : g_build_filename (g_get_home_dir (), ".config", NULL);

      return g_build_filename (config, "systemd", "user", name, NULL);
    }
  return g_build_filename (g_get_user_config_dir (), "systemd", "user", name, NULL);
}

/* The CLI beside this program when there is one (a build tree, a prefix), else the installed one. */
static char *
find_cli (void)
{
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *dir = self ? g_path_get_dirname (self) : NULL;
  g_autofree char *beside = dir ? g_build_filename (dir, "mailroom-cli", NULL) : NULL;
  g_autofree char *sibling = dir ? g_build_filename (dir, "..", "cli", "mailroom-cli", NULL) : NULL;

  if (beside != NULL && g_file_test (beside, G_FILE_TEST_IS_EXECUTABLE))
    return g_steal_pointer (&beside);
  if (sibling != NULL && g_file_test (sibling, G_FILE_TEST_IS_EXECUTABLE))
    return g_canonicalize_filename (sibling, NULL);
  return g_build_filename (MAILROOM_BINDIR, "mailroom-cli", NULL);
}

/* In a sandbox systemctl is not there: the user's systemd is asked over the session bus
 * (--talk-name=org.freedesktop.systemd1). */
static gboolean
systemd_call (const char  *method,
              GVariant    *parameters,
              GError     **error)
{
  g_autoptr(GDBusConnection) bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, error);
  g_autoptr(GVariant) reply = NULL;

  if (bus == NULL)
    {
      g_variant_unref (g_variant_ref_sink (parameters));
      return FALSE;
    }
  reply = g_dbus_connection_call_sync (bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                       "org.freedesktop.systemd1.Manager", method, parameters, NULL,
                                       G_DBUS_CALL_FLAGS_NONE, 10000, NULL, error);
  if (reply == NULL)
    {
      g_dbus_error_strip_remote_error (*error);
      g_prefix_error (error, _("systemd’s %s failed: "), method);
      return FALSE;
    }
  return TRUE;
}

/* "daemon-reload", "enable --now" and "disable --now" of the timer, by systemctl or over D-Bus. */
static gboolean
systemctl (const char * const  *args,
           GError             **error)
{
  const char *program = g_getenv ("MAILROOM_SYSTEMCTL") ? g_getenv ("MAILROOM_SYSTEMCTL") : "systemctl";
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) process = NULL;
  g_autofree char *errors = NULL;

  if (flatpak_id () != NULL)
    {
      const char *units[] = { UNIT ".timer", NULL };

      if (g_str_equal (args[0], "daemon-reload"))
        return systemd_call ("Reload", g_variant_new ("()"), error);
      if (g_str_equal (args[0], "enable"))
        return systemd_call ("EnableUnitFiles", g_variant_new ("(^asbb)", units, FALSE, TRUE), error) &&
               systemd_call ("StartUnit", g_variant_new ("(ss)", units[0], "replace"), error);
      /* A timer systemd has not loaded cannot be stopped; it is disabled all the same. */
      systemd_call ("StopUnit", g_variant_new ("(ss)", units[0], "replace"), NULL);
      return systemd_call ("DisableUnitFiles", g_variant_new ("(^asb)", units, FALSE), error);
    }
  g_ptr_array_add (argv, (gpointer) program);
  g_ptr_array_add (argv, (gpointer) "--user");
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  process = g_subprocess_newv ((const char * const *) argv->pdata, G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                               G_SUBPROCESS_FLAGS_STDERR_PIPE, error);
  if (process == NULL || !g_subprocess_communicate_utf8 (process, NULL, NULL, NULL, &errors, error))
    return FALSE;
  if (!g_subprocess_get_successful (process))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("systemctl --user %s failed: %s"), args[0],
                   errors && *errors ? g_strstrip (errors) : _("no reason given"));
      return FALSE;
    }
  return TRUE;
}

gboolean
mr_timer_install (GError **error)
{
  g_autofree char *service = unit_path ("service");
  g_autofree char *timer = unit_path ("timer");
  g_autofree char *dir = g_path_get_dirname (service);
  g_autofree char *cli = find_cli ();
  /* systemd splits ExecStart= at spaces; a path with none needs no quotes. From a sandbox, the host
   * starts the app's CLI through flatpak (systemd finds "flatpak" in its own PATH). */
  g_autofree char *quoted = flatpak_id () != NULL ? g_strdup_printf ("flatpak run --command=mailroom-cli %s", flatpak_id ())
                            : strpbrk (cli, " \t\"'\\") ? g_shell_quote (cli) : g_strdup (cli);
  g_autofree char *service_text = NULL;
  static const char timer_text[] =
    "# Written by Mailroom: runs due mailshots. Remove with “mailroom-cli mailshot timer remove”.\n"
    "[Unit]\n"
    "Description=Mailroom: send mailshots that are due\n"
    "\n"
    "[Timer]\n"
    "OnStartupSec=2min\n"
    "OnUnitActiveSec=5min\n"
    "Persistent=true\n"
    "\n"
    "[Install]\n"
    "WantedBy=timers.target\n";
  static const char * const reload[] = { "daemon-reload", NULL };
  static const char * const enable[] = { "enable", "--now", UNIT ".timer", NULL };

  service_text = g_strdup_printf ("# Written by Mailroom: runs due mailshots. Remove with “mailroom-cli mailshot timer remove”.\n"
                                  "[Unit]\n"
                                  "Description=Mailroom: send mailshots that are due\n"
                                  "\n"
                                  "[Service]\n"
                                  "Type=oneshot\n"
                                  "ExecStart=%s mailshot run-due\n", quoted);
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno), _("Cannot create %s: %s"), dir,
                   g_strerror (saved_errno));
      return FALSE;
    }
  if (!g_file_set_contents_full (service, service_text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644, error) ||
      !g_file_set_contents_full (timer, timer_text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644, error))
    return FALSE;
  if (!systemctl (reload, error) || !systemctl (enable, error))
    {
      g_prefix_error (error, _("The timer is written to %s, but systemd did not start it; mailshots that are due go "
                               "on when Mailroom next opens. "), dir);
      return FALSE;
    }
  return TRUE;
}

gboolean
mr_timer_remove (GError **error)
{
  g_autofree char *service = unit_path ("service");
  g_autofree char *timer = unit_path ("timer");
  static const char * const disable[] = { "disable", "--now", UNIT ".timer", NULL };
  static const char * const reload[] = { "daemon-reload", NULL };
  g_autoptr(GError) local_error = NULL;

  if (!mr_timer_is_installed ())
    return TRUE;
  /* Without systemd the files still go: that is what removing means. */
  systemctl (disable, &local_error);
  if ((g_unlink (timer) != 0 && errno != ENOENT) || (g_unlink (service) != 0 && errno != ENOENT))
    {
      int saved_errno = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno), _("Cannot remove %s: %s"), timer,
                   g_strerror (saved_errno));
      return FALSE;
    }
  systemctl (reload, NULL);
  return TRUE;
}

gboolean
mr_timer_is_installed (void)
{
  g_autofree char *timer = unit_path ("timer");

  return g_file_test (timer, G_FILE_TEST_EXISTS);
}
