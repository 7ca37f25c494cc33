/* mr-window-actions.c: the window's actions (win.save, win.revert, …) */

#include "config.h"

#include "mr-window.h"

static void
save_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  mr_window_save (MR_WINDOW (widget));
}

static void
revert_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  mr_window_revert (MR_WINDOW (widget));
}

static void
reload_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  mr_window_reload (MR_WINDOW (widget));
}

static void
go_back_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  mr_window_go_back (MR_WINDOW (widget));
}

/* Ctrl+N: a new mail, starting at To. */
static void
new_mail_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  MrWindow *self = MR_WINDOW (widget);

  if (mr_window_get_compose_page (self) == NULL)
    return;
  mr_window_show_page (self, "compose");
  mr_compose_page_focus_recipients (mr_window_get_compose_page (self));
}

/* Ctrl+Enter: Send, on the compose page, when it can go. */
static void
send_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  MrWindow *self = MR_WINDOW (widget);

  if (g_strcmp0 (mr_window_get_page_name (self), "compose") == 0 && mr_window_get_compose_page (self) != NULL)
    mr_compose_page_send (mr_window_get_compose_page (self));
}

/* Ctrl+Shift+M: a new mailshot. */
static void
new_mailshot_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  MrWindow *self = MR_WINDOW (widget);

  if (mr_window_get_mailshots_page (self) == NULL)
    return;
  mr_window_show_page (self, "mailshots");
  mr_mailshots_page_new_mailshot (mr_window_get_mailshots_page (self));
}

/* Ctrl+F: search the Sent page. */
static void
find_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  MrWindow *self = MR_WINDOW (widget);

  if (mr_window_get_sent_page (self) == NULL)
    return;
  mr_window_show_page (self, "sent");
  mr_sent_page_focus_search (mr_window_get_sent_page (self));
}

/* F1: the user guide, in the desktop's help viewer. */
static void
help_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  gtk_show_uri (GTK_WINDOW (widget), "help:mailroom", GDK_CURRENT_TIME);
}

static void
show_page_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  mr_window_show_page (MR_WINDOW (widget), g_variant_get_string (parameter, NULL));
}

void
_mr_window_class_actions_init (GtkWidgetClass *widget_class)
{
  gtk_widget_class_install_action (widget_class, "win.save", NULL, save_action);
  gtk_widget_class_install_action (widget_class, "win.revert", NULL, revert_action);
  gtk_widget_class_install_action (widget_class, "win.reload", NULL, reload_action);
  gtk_widget_class_install_action (widget_class, "win.go-back", NULL, go_back_action);
  gtk_widget_class_install_action (widget_class, "win.show-page", "s", show_page_action);
  gtk_widget_class_install_action (widget_class, "win.new-mail", NULL, new_mail_action);
  gtk_widget_class_install_action (widget_class, "win.send", NULL, send_action);
  gtk_widget_class_install_action (widget_class, "win.new-mailshot", NULL, new_mailshot_action);
  gtk_widget_class_install_action (widget_class, "win.find", NULL, find_action);
  gtk_widget_class_install_action (widget_class, "win.help", NULL, help_action);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_s, GDK_CONTROL_MASK, "win.save", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_1, GDK_ALT_MASK, "win.show-page", "s", "company");
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_2, GDK_ALT_MASK, "win.show-page", "s", "user");
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_3, GDK_ALT_MASK, "win.show-page", "s", "compose");
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_4, GDK_ALT_MASK, "win.show-page", "s", "mailshots");
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_5, GDK_ALT_MASK, "win.show-page", "s", "sent");
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_n, GDK_CONTROL_MASK, "win.new-mail", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Return, GDK_CONTROL_MASK, "win.send", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_Enter, GDK_CONTROL_MASK, "win.send", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_m, GDK_CONTROL_MASK | GDK_SHIFT_MASK, "win.new-mailshot", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_f, GDK_CONTROL_MASK, "win.find", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F1, 0, "win.help", NULL);
}
