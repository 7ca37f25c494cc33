/* mr-error.h: one place that turns any engine error into a stable kind and an exit status
 *
 * Every subsystem has its own GError domain (settings, secrets, …). Scripts and the GUI need
 * one vocabulary for all of them, so this maps a GError to:
 *   - a stable kind string, used in `--json` output ({"error": {"kind": …}}) and in tests;
 *   - a sysexits(3) status, used by mailroom-cli.
 * The table is documented in docs/cli.md; keep the two in step.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* sysexits(3) values, without depending on <sysexits.h> being present. */
typedef enum {
  MR_EXIT_OK = 0,
  MR_EXIT_USAGE = 64,
  MR_EXIT_DATA = 65,
  MR_EXIT_NO_INPUT = 66,
  MR_EXIT_UNAVAILABLE = 69,
  MR_EXIT_SOFTWARE = 70,
  MR_EXIT_CANT_CREATE = 73,
  MR_EXIT_TEMPFAIL = 75,
  MR_EXIT_PROTOCOL = 76,
  MR_EXIT_NOT_PERMITTED = 77,
  MR_EXIT_CONFIG = 78,
} MrExitStatus;

const char   *mr_error_get_kind      (const GError *error);
MrExitStatus  mr_error_get_exit_status (const GError *error);

G_END_DECLS
