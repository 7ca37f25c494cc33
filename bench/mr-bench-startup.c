/* mr-bench-startup: the time from exec to a window's first frame, and its memory then.
 *
 * `mr-bench-startup mailroom` opens Mailroom's window as the application does (settings read,
 * first page shown); `mr-bench-startup bare` opens a bare libadwaita window with twenty entry rows,
 * the reference the issue names. When the first frame has been painted it prints
 * "FRAME <monotonic µs> <resident kB>" and exits; bench/startup.py subtracts the time it started
 * the process, so that loading the libraries counts too.
 */

#include "config.h"

#include <adwaita.h>
#include <stdio.h>
#include <stdlib.h>

#include "mr-window.h"

static long
resident_kb (void)
{
  g_autofree char *status = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL) || (line = strstr (status, "VmRSS:")) == NULL)
    return 0;
  return strtol (line + 6, NULL, 10);
}

static void
on_after_paint (GdkFrameClock *clock,
                gpointer       data)
{
  printf ("FRAME %" G_GINT64_FORMAT " %ld\n", g_get_monotonic_time (), resident_kb ());
  fflush (stdout);
  exit (0);
}

static void
on_realize (GtkWidget *window)
{
  g_signal_connect (gtk_widget_get_frame_clock (window), "after-paint", G_CALLBACK (on_after_paint), NULL);
}

static GtkWidget *
bare_window (void)
{
  GtkWidget *window = adw_window_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *page = adw_preferences_page_new ();
  GtkWidget *group = adw_preferences_group_new ();

  gtk_box_append (GTK_BOX (box), adw_header_bar_new ());
  for (int i = 0; i < 20; i++)
    {
      GtkWidget *row = adw_entry_row_new ();
      g_autofree char *title = g_strdup_printf ("Field %d", i + 1);

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
      adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), row);
    }
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (group));
  gtk_widget_set_vexpand (page, TRUE);
  gtk_box_append (GTK_BOX (box), page);
  adw_window_set_content (ADW_WINDOW (window), box);
  gtk_window_set_default_size (GTK_WINDOW (window), 960, 560);
  return window;
}

int
main (int    argc,
      char **argv)
{
  GtkWidget *window;

  if (argc != 2 || (g_strcmp0 (argv[1], "mailroom") != 0 && g_strcmp0 (argv[1], "bare") != 0))
    {
      fprintf (stderr, "usage: mr-bench-startup mailroom|bare\n");
      return 2;
    }
  adw_init ();
  window = g_str_equal (argv[1], "bare") ? bare_window () : GTK_WIDGET (mr_window_new (NULL));
  g_signal_connect (window, "realize", G_CALLBACK (on_realize), NULL);
  gtk_window_present (GTK_WINDOW (window));
  for (;;)
    g_main_context_iteration (NULL, TRUE);
}
