/* main.c: starts the Mailroom GUI */

#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>

#include "mr-application.h"

int
main (int    argc,
      char **argv)
{
  g_autoptr(MrApplication) app = NULL;

  setlocale (LC_ALL, "");
  /* MAILROOM_LOCALEDIR runs the translations from the build tree (make run, tests). */
  bindtextdomain (GETTEXT_PACKAGE, g_getenv ("MAILROOM_LOCALEDIR") ? g_getenv ("MAILROOM_LOCALEDIR") : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  app = mr_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
