/* mr-application.c: the Mailroom application */

#include "config.h"

#include <glib/gi18n.h>

#include "mr-application.h"
#include "mr-window.h"

struct _MrApplication
{
  AdwApplication parent_instance;
};

G_DEFINE_FINAL_TYPE (MrApplication, mr_application, ADW_TYPE_APPLICATION)

static void
about_action (GSimpleAction *action,
              GVariant      *parameter,
              gpointer       user_data)
{
  GtkApplication *app = user_data;
  static const char *developers[] = { "The Mailroom developers", NULL };

  adw_show_about_window (gtk_application_get_active_window (app),
                         "application-name", _("Mailroom"),
                         "application-icon", MAILROOM_APP_ID,
                         "version", MAILROOM_VERSION,
                         "comments", _("Send an office’s mail properly"),
                         "developers", developers,
                         "license-type", GTK_LICENSE_GPL_3_0,
                         "translator-credits", _("translator-credits"),
                         NULL);
}

static void
quit_action (GSimpleAction *action,
             GVariant      *parameter,
             gpointer       user_data)
{
  g_application_quit (G_APPLICATION (user_data));
}

static const GActionEntry app_actions[] = {
  { "about", about_action },
  { "quit", quit_action },
};

static void
mr_application_activate (GApplication *application)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (application));

  if (window == NULL)
    window = GTK_WINDOW (mr_window_new (GTK_APPLICATION (application)));
  gtk_window_present (window);
}

/* mailto: links open the compose pane. */
static void
mr_application_open (GApplication  *application,
                     GFile        **files,
                     int            n_files,
                     const char    *hint)
{
  GtkWindow *window;

  mr_application_activate (application);
  window = gtk_application_get_active_window (GTK_APPLICATION (application));
  for (int i = 0; i < n_files; i++)
    {
      g_autofree char *uri = g_file_get_uri (files[i]);

      if (g_ascii_strncasecmp (uri, "mailto:", 7) == 0)
        mr_window_open_mailto (MR_WINDOW (window), uri);
    }
}

static void
mr_application_startup (GApplication *application)
{
  static const char *quit_accels[] = { "<Control>q", NULL };

  G_APPLICATION_CLASS (mr_application_parent_class)->startup (application);

  g_action_map_add_action_entries (G_ACTION_MAP (application), app_actions, G_N_ELEMENTS (app_actions), application);
  gtk_application_set_accels_for_action (GTK_APPLICATION (application), "app.quit", quit_accels);
}

static void
mr_application_class_init (MrApplicationClass *klass)
{
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  app_class->activate = mr_application_activate;
  app_class->open = mr_application_open;
  app_class->startup = mr_application_startup;
}

static void
mr_application_init (MrApplication *self)
{
}

MrApplication *
mr_application_new (void)
{
  return g_object_new (MR_TYPE_APPLICATION,
                       "application-id", MAILROOM_APP_ID,
                       "flags", G_APPLICATION_HANDLES_OPEN,
                       "resource-base-path", "/io/github/mailroom/Mailroom",
                       NULL);
}
