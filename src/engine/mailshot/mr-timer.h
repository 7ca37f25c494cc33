/* mr-timer.h: the systemd user timer that runs due mailshots while no window is open
 *
 * Scheduled jobs, and jobs spread over several days, go on without Mailroom's window: a systemd
 * user timer starts "mailroom-cli mailshot run-due" every 5 minutes (and 2 minutes after login).
 * The units are mailroom-mailshots.service and .timer in $XDG_CONFIG_HOME/systemd/user, which a
 * person can read, stop ("systemctl --user disable --now mailroom-mailshots.timer") or remove with
 * mr_timer_remove() ("mailroom-cli mailshot timer remove").
 *
 * systemctl is run as "systemctl --user"; MAILROOM_SYSTEMCTL names another program (tests).
 *
 * In a Flatpak sandbox (FLATPAK_ID set) the units go to the host's config folder
 * ($HOST_XDG_CONFIG_HOME, else ~/.config: --filesystem=xdg-config/systemd/user:create), the service
 * starts "flatpak run --command=mailroom-cli APP-ID mailshot run-due", and systemd's user manager is
 * asked over the session bus (--talk-name=org.freedesktop.systemd1): Reload, EnableUnitFiles and
 * StartUnit; StopUnit and DisableUnitFiles to remove.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Writes the units and enables the timer. Errors: G_FILE_ERROR when a unit cannot be written;
 * G_SPAWN_ERROR / G_IO_ERROR_FAILED when systemctl is missing or refuses, a G_DBUS_ERROR in a sandbox
 * (the files are left, and the message says so: without a systemd user session, jobs go on when
 * Mailroom next opens). */
gboolean mr_timer_install      (GError **error);
/* Disables the timer and deletes the units; not installed is not an error. */
gboolean mr_timer_remove       (GError **error);
gboolean mr_timer_is_installed (void);

G_END_DECLS
