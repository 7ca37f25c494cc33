/* mr-window.c: the main window */

#include "config.h"

#include <glib/gi18n.h>

#include "mailroom-log.h"
#include "mr-app-resources.h"
#include "mr-key-labels.h"
#include "mr-welcome-page.h"
#include "mr-window.h"

struct _MrWindow
{
  AdwApplicationWindow  parent_instance;

  MrSettings           *settings;
  GSettings            *state;          /* window state only; NULL without the schema */
  GCancellable         *cancellable;
  MrCompanyPage        *company_page;
  MrUserPage           *user_page;
  MrComposePage        *compose_page;
  MrSentPage           *sent_page;
  MrMailshotsPage      *mailshots_page;
  MrWelcomePage        *welcome_page;     /* on a first start only */
  MrSentLog            *log;
  guint                 outbox_timer;
  gboolean              busy;
  /* At start-up only the page shown is built; the others follow once the first frame is up, or at
   * once when something asks for them (ensure_pages()). */
  gboolean              pages_deferred;
  guint                 deferred_source;

  AdwToastOverlay      *toast_overlay;
  AdwLeaflet           *leaflet;
  GtkListBox           *sidebar;
  GtkWidget            *company_place;
  GtkWidget            *user_place;
  GtkWidget            *content_box;
  AdwWindowTitle       *content_title;
  GtkWidget            *save_button;
  GtkWidget            *revert_button;
  GtkStack             *stack;
  AdwStatusPage        *error_page;
};

G_DEFINE_FINAL_TYPE (MrWindow, mr_window, ADW_TYPE_APPLICATION_WINDOW)

enum {
  PROP_0,
  PROP_BUSY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void ensure_pages (MrWindow *self);

MrCompanyPage *
mr_window_get_company_page (MrWindow *self)
{
  ensure_pages (self);
  return self->company_page;
}

MrWelcomePage *
mr_window_get_welcome_page (MrWindow *self)
{
  return self->welcome_page;
}

MrUserPage *
mr_window_get_user_page (MrWindow *self)
{
  ensure_pages (self);
  return self->user_page;
}

MrComposePage *
mr_window_get_compose_page (MrWindow *self)
{
  ensure_pages (self);
  return self->compose_page;
}

MrSentPage *
mr_window_get_sent_page (MrWindow *self)
{
  ensure_pages (self);
  return self->sent_page;
}

MrMailshotsPage *
mr_window_get_mailshots_page (MrWindow *self)
{
  ensure_pages (self);
  return self->mailshots_page;
}

gboolean
mr_window_get_busy (MrWindow *self)
{
  return self->busy;
}

static void
set_busy (MrWindow *self,
          gboolean  busy)
{
  self->busy = busy;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
  _mr_window_update_actions (self);
}

void
mr_window_toast (MrWindow   *self,
                 const char *message)
{
  g_autofree char *words = mr_key_words (message);
  g_autofree char *escaped = g_markup_escape_text (words, -1);   /* a toast's title is markup */
  AdwToast *toast = adw_toast_new (escaped);

  adw_toast_set_timeout (toast, 6);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

const char *
mr_window_get_page_name (MrWindow *self)
{
  const char *name = gtk_stack_get_visible_child_name (self->stack);

  /* With the settings unreadable both settings places show the error page. */
  if (g_strcmp0 (name, "error") == 0)
    {
      GtkListBoxRow *row = gtk_list_box_get_selected_row (self->sidebar);
      return row ? gtk_widget_get_name (GTK_WIDGET (row)) : "company";
    }
  return name;
}

static gboolean
current_has_changes (MrWindow *self)
{
  const char *name = gtk_stack_get_visible_child_name (self->stack);

  if (g_strcmp0 (name, "company") == 0 && self->company_page != NULL)
    return mr_company_page_get_has_changes (self->company_page);
  if (g_strcmp0 (name, "user") == 0 && self->user_page != NULL)
    return mr_user_page_get_has_changes (self->user_page);
  return FALSE;
}

void
_mr_window_update_actions (MrWindow *self)
{
  const char *name = gtk_stack_get_visible_child_name (self->stack);
  gboolean settings_page = g_strcmp0 (name, "company") == 0 || g_strcmp0 (name, "user") == 0;
  gboolean changes = !self->busy && current_has_changes (self);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.save", changes);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.revert", changes);
  /* Save and Revert belong to the settings pages only. */
  gtk_widget_set_visible (self->save_button, settings_page);
  gtk_widget_set_visible (self->revert_button, settings_page);
}

/* How many of the five pages exist (for tests of the start-up). */
guint
mr_window_count_built_pages (MrWindow *self)
{
  return (self->company_page != NULL) + (self->user_page != NULL) + (self->compose_page != NULL) +
         (self->sent_page != NULL) + (self->mailshots_page != NULL);
}

/* The sidebar's places; the welcome is a page of its own, no place. */
static const char * const places[] = { "company", "user", "compose", "mailshots", "sent", NULL };

static gboolean
page_is_built (MrWindow   *self,
               const char *name)
{
  return (g_str_equal (name, "company") && self->company_page != NULL) ||
         (g_str_equal (name, "user") && self->user_page != NULL) ||
         (g_str_equal (name, "compose") && self->compose_page != NULL) ||
         (g_str_equal (name, "mailshots") && self->mailshots_page != NULL) ||
         (g_str_equal (name, "sent") && self->sent_page != NULL);
}

void
mr_window_show_page (MrWindow   *self,
                     const char *name)
{
  GtkWidget *child;
  GtkStackPage *page;

  g_return_if_fail (g_strv_contains (places, name) || g_str_equal (name, "welcome"));
  if (g_str_equal (name, "welcome") && self->welcome_page == NULL)
    name = "company";
  if (!g_str_equal (name, "welcome") && !page_is_built (self, name))
    ensure_pages (self);
  /* The welcome is no place of the sidebar's. */
  if (g_str_equal (name, "welcome"))
    gtk_list_box_unselect_all (self->sidebar);

  for (GtkWidget *row = gtk_widget_get_first_child (GTK_WIDGET (self->sidebar)); row != NULL;
       row = gtk_widget_get_next_sibling (row))
    if (g_strcmp0 (gtk_widget_get_name (row), name) == 0)
      gtk_list_box_select_row (self->sidebar, GTK_LIST_BOX_ROW (row));

  /* A page that could not be built (the settings or the sent log unreadable): the error page. */
  if (!g_str_equal (name, "welcome") && !page_is_built (self, name))
    gtk_stack_set_visible_child_name (self->stack, "error");
  else
    gtk_stack_set_visible_child_name (self->stack, name);

  child = gtk_stack_get_visible_child (self->stack);
  page = gtk_stack_get_page (self->stack, child);
  adw_window_title_set_title (self->content_title, gtk_stack_page_get_title (page));
  adw_leaflet_navigate (self->leaflet, ADW_NAVIGATION_DIRECTION_FORWARD);

  if (self->state != NULL && !g_str_equal (name, "welcome"))
    g_settings_set_string (self->state, "last-page", name);
  _mr_window_update_actions (self);
}

static void
on_sidebar_row_activated (MrWindow      *self,
                          GtkListBoxRow *row)
{
  mr_window_show_page (self, gtk_widget_get_name (GTK_WIDGET (row)));
}

static void
on_page_changes (MrWindow *self)
{
  _mr_window_update_actions (self);
}

static void
on_compose_sent (MrWindow *self)
{
  if (self->sent_page != NULL)
    mr_sent_page_refresh (self->sent_page);
}

static void on_welcome_done (MrWindow *self, const char *page, const char *message);

/* Takes @page out of the stack, and the window's focus with it: GTK 4.8 leaves the focus on the
 * widget it was on (a password row's text, say), which then calls into its freed row when the
 * window closes. */
static void
remove_page (MrWindow  *self,
             GtkWidget *page)
{
  GtkWidget *focus = gtk_window_get_focus (GTK_WINDOW (self));

  if (focus != NULL && (focus == page || gtk_widget_is_ancestor (focus, page)))
    gtk_window_set_focus (GTK_WINDOW (self), NULL);
  g_signal_handlers_disconnect_by_data (page, self);
  gtk_stack_remove (self->stack, page);
}

static void
remove_welcome (MrWindow *self)
{
  if (self->welcome_page == NULL)
    return;
  remove_page (self, GTK_WIDGET (self->welcome_page));
  self->welcome_page = NULL;
}

static void
remove_settings_pages (MrWindow *self)
{
  remove_welcome (self);
  if (self->compose_page != NULL)
    remove_page (self, GTK_WIDGET (g_steal_pointer (&self->compose_page)));
  if (self->sent_page != NULL)
    remove_page (self, GTK_WIDGET (g_steal_pointer (&self->sent_page)));
  if (self->mailshots_page != NULL)
    {
      mr_mailshots_page_stop (self->mailshots_page);
      remove_page (self, GTK_WIDGET (g_steal_pointer (&self->mailshots_page)));
    }
  if (self->company_page != NULL)
    remove_page (self, GTK_WIDGET (g_steal_pointer (&self->company_page)));
  if (self->user_page != NULL)
    remove_page (self, GTK_WIDGET (g_steal_pointer (&self->user_page)));
}

/* The welcome saved what it found (or the person chose to enter it): the pages read it again, and
 * the next one says what to do. */
typedef struct {
  MrWindow *window;
  char     *page;
  char     *toast;
} WelcomeDone;

static gboolean
finish_welcome (gpointer data)
{
  WelcomeDone *done = data;

  mr_window_reload (done->window);
  /* Entered by hand: the welcome is not shown again in this window. */
  remove_welcome (done->window);
  mr_window_show_page (done->window, done->page);
  if (done->toast != NULL)
    mr_window_toast (done->window, done->toast);
  g_object_unref (done->window);
  g_free (done->page);
  g_free (done->toast);
  g_free (done);
  return G_SOURCE_REMOVE;
}

static void
on_welcome_done (MrWindow   *self,
                 const char *page,
                 const char *message)
{
  WelcomeDone *done = g_new0 (WelcomeDone, 1);

  /* After the welcome's own signal: the reload removes the welcome. */
  done->window = g_object_ref (self);
  done->page = g_strdup (page);
  done->toast = g_strdup (message);
  g_idle_add (finish_welcome, done);
}

/* A finished mailshot's "Open in Sent": its mails alone on the Sent page. */
static void
on_open_sent (MrWindow *self,
              gint64    job)
{
  mr_window_show_page (self, "sent");
  if (self->sent_page != NULL)
    mr_sent_page_show_mailshot (self->sent_page, job);
}

static void
add_toast (MrWindow *self,
           AdwToast *toast)
{
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

static gboolean on_outbox_timer (gpointer user_data);
static gboolean needs_own_login (MrWindow *self);

/* The outbox is tried once the sent log is open, and every minute after. */
static void
on_outbox_timer_first (MrWindow *self)
{
  if (self->outbox_timer != 0)
    return;
  on_outbox_timer (self);
  self->outbox_timer = g_timeout_add_seconds (60, on_outbox_timer, self);
}

/* The page a new window opens on: the welcome on a first start; a clerk's own login when each
 * person logs in and theirs is missing; else the page last shown. */
static const char *
first_page (MrWindow *self)
{
  g_autofree char *last = self->state ? g_settings_get_string (self->state, "last-page") : NULL;

  if (mr_welcome_page_is_needed (self->settings))
    return "welcome";
  if (needs_own_login (self))
    return "user";
  if (last != NULL && g_strv_contains (places, last))
    return g_intern_string (last);
  return "company";
}

static void
build_company_page (MrWindow *self)
{
  GtkStackPage *stack_page;

  self->company_page = mr_company_page_new (self->settings);
  stack_page = gtk_stack_add_named (self->stack, GTK_WIDGET (self->company_page), "company");
  gtk_stack_page_set_title (stack_page, _("Company Settings"));
  g_signal_connect_swapped (self->company_page, "notify::has-changes", G_CALLBACK (on_page_changes), self);
}

static void
build_user_page (MrWindow *self)
{
  GtkStackPage *stack_page;

  self->user_page = mr_user_page_new (self->settings);
  stack_page = gtk_stack_add_named (self->stack, GTK_WIDGET (self->user_page), "user");
  gtk_stack_page_set_title (stack_page, _("My Settings"));
  g_signal_connect_swapped (self->user_page, "notify::has-changes", G_CALLBACK (on_page_changes), self);
}

/* The sent log: Compose records into it, Sent shows it. FALSE when it cannot be opened (said on the
 * error page). */
static gboolean
build_log_pages (MrWindow *self)
{
  g_autoptr(GError) error = NULL;
  GtkStackPage *stack_page;

  g_clear_object (&self->log);
  self->log = mr_outbox_open_log (self->settings, NULL, &error);
  if (self->log == NULL)
    {
      adw_status_page_set_description (self->error_page, error->message);
      return FALSE;
    }
  self->compose_page = mr_compose_page_new (self->settings, self->log);
  stack_page = gtk_stack_add_named (self->stack, GTK_WIDGET (self->compose_page), "compose");
  gtk_stack_page_set_title (stack_page, _("Compose"));
  self->sent_page = mr_sent_page_new (self->settings, self->log);
  stack_page = gtk_stack_add_named (self->stack, GTK_WIDGET (self->sent_page), "sent");
  gtk_stack_page_set_title (stack_page, _("Sent"));
  g_signal_connect_swapped (self->compose_page, "sent", G_CALLBACK (on_compose_sent), self);
  g_signal_connect_swapped (self->sent_page, "notice", G_CALLBACK (mr_window_toast), self);
  g_signal_connect_swapped (self->sent_page, "toast", G_CALLBACK (add_toast), self);
  /* Mail left in the outbox when Mailroom last closed goes now if its time has come. */
  on_outbox_timer_first (self);
  return TRUE;
}

static void
build_mailshots_page (MrWindow *self)
{
  GtkStackPage *stack_page;

  self->mailshots_page = mr_mailshots_page_new (self->settings);
  stack_page = gtk_stack_add_named (self->stack, GTK_WIDGET (self->mailshots_page), "mailshots");
  gtk_stack_page_set_title (stack_page, _("Mailshots"));
  g_signal_connect_swapped (self->mailshots_page, "notice", G_CALLBACK (mr_window_toast), self);
  g_signal_connect_swapped (self->mailshots_page, "open-sent", G_CALLBACK (on_open_sent), self);
}

/* Builds the pages not built yet; @only: that page alone (the first one shown), NULL: all. */
static void
build_pages (MrWindow   *self,
             const char *only)
{
  if (self->settings == NULL)
    return;
  if (self->company_page == NULL && (only == NULL || g_str_equal (only, "company")))
    build_company_page (self);
  if (self->user_page == NULL && (only == NULL || g_str_equal (only, "user")))
    build_user_page (self);
  if (self->compose_page == NULL && (only == NULL || g_str_equal (only, "compose") || g_str_equal (only, "sent")))
    if (!build_log_pages (self))
      return;
  if (self->mailshots_page == NULL && (only == NULL || g_str_equal (only, "mailshots")))
    build_mailshots_page (self);
}

static void
ensure_pages (MrWindow *self)
{
  if (!self->pages_deferred)
    return;
  self->pages_deferred = FALSE;
  g_clear_handle_id (&self->deferred_source, g_source_remove);
  build_pages (self, NULL);
}

static gboolean
build_deferred_pages (gpointer data)
{
  MrWindow *self = data;

  self->deferred_source = 0;
  ensure_pages (self);
  return G_SOURCE_REMOVE;
}

/* The first frame is being drawn: the other pages are built once it is on the screen. */
static gboolean
on_first_tick (GtkWidget     *widget,
               GdkFrameClock *clock,
               gpointer       data)
{
  MrWindow *self = MR_WINDOW (widget);

  if (self->pages_deferred && self->deferred_source == 0)
    self->deferred_source = g_idle_add_full (G_PRIORITY_LOW, build_deferred_pages, self, NULL);
  return G_SOURCE_REMOVE;
}

void
mr_window_reload (MrWindow *self)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *page = g_strdup (mr_window_get_page_name (self));
  const char *first = NULL;
  GtkStackPage *stack_page;

  remove_settings_pages (self);
  g_clear_object (&self->settings);
  self->settings = mr_settings_new (NULL, NULL);

  if (!mr_settings_load (self->settings, &error))
    {
      /* No pages to build later either: the error page stands until the settings can be read. */
      self->pages_deferred = FALSE;
      g_clear_handle_id (&self->deferred_source, g_source_remove);
      adw_status_page_set_description (self->error_page, error->message);
      mr_window_show_page (self, page ? page : "company");
      return;
    }

  first = self->pages_deferred ? first_page (self) : NULL;
  build_pages (self, first);

  /* A first start: the welcome, which asks for an email address. */
  if (mr_welcome_page_is_needed (self->settings))
    {
      self->welcome_page = mr_welcome_page_new (self->settings);
      stack_page = gtk_stack_add_named (self->stack, GTK_WIDGET (self->welcome_page), "welcome");
      gtk_stack_page_set_title (stack_page, _("Welcome"));
      g_signal_connect_swapped (self->welcome_page, "done", G_CALLBACK (on_welcome_done), self);
    }

  mr_window_show_page (self, first != NULL ? first : page ? page : "company");
}

/* ---- Save and revert -------------------------------------------------------------------------- */

static void
on_saved (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(MrWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  gboolean ok;

  if (MR_IS_COMPANY_PAGE (source))
    ok = mr_company_page_save_finish (MR_COMPANY_PAGE (source), result, &error);
  else
    ok = mr_user_page_save_finish (MR_USER_PAGE (source), result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  set_busy (self, FALSE);
  if (ok)
    {
      /* What the company locks or requires may have changed what My Settings shows. */
      if (MR_IS_COMPANY_PAGE (source) && self->user_page != NULL && !mr_user_page_get_has_changes (self->user_page))
        mr_user_page_revert (self->user_page);
      mr_window_toast (self, _("Settings saved"));
    }
  else
    mr_window_toast (self, error->message);
}

void
mr_window_save (MrWindow *self)
{
  const char *name = gtk_stack_get_visible_child_name (self->stack);

  if (self->busy || !current_has_changes (self))
    return;

  set_busy (self, TRUE);
  if (g_strcmp0 (name, "company") == 0)
    mr_company_page_save_async (self->company_page, self->cancellable, on_saved, g_object_ref (self));
  else if (g_strcmp0 (name, "user") == 0)
    mr_user_page_save_async (self->user_page, self->cancellable, on_saved, g_object_ref (self));
  else
    set_busy (self, FALSE);
}

void
mr_window_revert (MrWindow *self)
{
  const char *name = gtk_stack_get_visible_child_name (self->stack);

  if (g_strcmp0 (name, "company") == 0)
    mr_company_page_revert (self->company_page);
  else if (g_strcmp0 (name, "user") == 0)
    mr_user_page_revert (self->user_page);
  _mr_window_update_actions (self);
}

void
mr_window_go_back (MrWindow *self)
{
  adw_leaflet_navigate (self->leaflet, ADW_NAVIGATION_DIRECTION_BACK);
}

/* ---- GObject ---------------------------------------------------------------------------------- */

static void
mr_window_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  MrWindow *self = MR_WINDOW (object);

  switch (prop_id)
    {
    case PROP_BUSY:
      g_value_set_boolean (value, self->busy);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mr_window_dispose (GObject *object)
{
  MrWindow *self = MR_WINDOW (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->state);
  g_clear_handle_id (&self->outbox_timer, g_source_remove);
  g_clear_handle_id (&self->deferred_source, g_source_remove);
  self->pages_deferred = FALSE;
  self->company_page = NULL;
  self->user_page = NULL;
  self->compose_page = NULL;
  self->sent_page = NULL;
  /* A job's thread may keep the page alive a moment longer than the window: it must not call back. */
  if (self->mailshots_page != NULL)
    {
      mr_mailshots_page_stop (self->mailshots_page);
      g_signal_handlers_disconnect_by_data (self->mailshots_page, self);
    }
  self->mailshots_page = NULL;

  gtk_widget_dispose_template (GTK_WIDGET (self), MR_TYPE_WINDOW);

  g_clear_object (&self->settings);
  g_clear_object (&self->log);

  G_OBJECT_CLASS (mr_window_parent_class)->dispose (object);
}

static void
mr_window_class_init (MrWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = mr_window_dispose;
  object_class->get_property = mr_window_get_property;

  properties[PROP_BUSY] =
    g_param_spec_boolean ("busy", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* Referencing the resource keeps its registering object in the link. */
  g_assert (mr_app_get_resource () != NULL);
  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/mailroom/Mailroom/mr-window.ui");
  gtk_widget_class_bind_template_child (widget_class, MrWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, MrWindow, leaflet);
  gtk_widget_class_bind_template_child (widget_class, MrWindow, sidebar);
  gtk_widget_class_bind_template_child (widget_class, MrWindow, company_place);
  gtk_widget_class_bind_template_child (widget_class, MrWindow, user_place);
  gtk_widget_class_bind_template_child (widget_class, MrWindow, content_box);
  gtk_widget_class_bind_template_child (widget_class, MrWindow, content_title);
  gtk_widget_class_bind_template_child (widget_class, MrWindow, save_button);
  gtk_widget_class_bind_template_child (widget_class, MrWindow, revert_button);
  gtk_widget_class_bind_template_child (widget_class, MrWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, MrWindow, error_page);
  gtk_widget_class_bind_template_callback (widget_class, on_sidebar_row_activated);

  _mr_window_class_actions_init (widget_class);
}

static void
mr_window_init (MrWindow *self)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = NULL;

  gtk_widget_init_template (GTK_WIDGET (self));
  self->cancellable = g_cancellable_new ();

  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, MAILROOM_APP_ID, TRUE);
  if (schema != NULL)
    {
      self->state = g_settings_new (MAILROOM_APP_ID);
      g_settings_bind (self->state, "window-width", self, "default-width", G_SETTINGS_BIND_DEFAULT);
      g_settings_bind (self->state, "window-height", self, "default-height", G_SETTINGS_BIND_DEFAULT);
      g_settings_bind (self->state, "window-maximized", self, "maximized", G_SETTINGS_BIND_DEFAULT);
    }
  else
    g_message ("The GSettings schema %s is not installed: the window size is not remembered", MAILROOM_APP_ID);
}

/* The outbox is tried when the window opens and every minute while it is open. */
static gboolean
on_outbox_timer (gpointer user_data)
{
  MrWindow *self = user_data;

  if (self->sent_page != NULL)
    mr_sent_page_process_outbox (self->sent_page);
  return G_SOURCE_CONTINUE;
}

void
mr_window_open_mailto (MrWindow   *self,
                       const char *uri)
{
  if (mr_window_get_compose_page (self) == NULL)
    return;
  mr_compose_page_open_mailto (self->compose_page, uri);
  mr_window_show_page (self, "compose");
}

/* A person whose company asks for per-user logins and who has not given theirs yet. */
static gboolean
needs_own_login (MrWindow *self)
{
  g_autofree char *credentials = NULL;
  g_autofree char *auth = NULL;
  g_autofree char *username = NULL;

  if (self->settings == NULL || !mr_settings_file_get_exists (mr_settings_get_company (self->settings)))
    return FALSE;
  credentials = mr_settings_dup_effective_string (self->settings, NULL, "smtp.credentials");
  auth = mr_settings_dup_effective_string (self->settings, NULL, "smtp.auth");
  username = mr_settings_dup_effective_string (self->settings, NULL, "smtp.username");
  return g_str_equal (credentials, "per-user") && !g_str_equal (auth, "none") && *username == '\0';
}

MrWindow *
mr_window_new (GtkApplication *application)
{
  MrWindow *self = g_object_new (MR_TYPE_WINDOW, "application", application, NULL);

  /* The first frame as soon as can be: only the page it shows is built before it (reload()), the
   * others when it is up. */
  self->pages_deferred = TRUE;
  gtk_widget_add_tick_callback (GTK_WIDGET (self), on_first_tick, NULL, NULL);
  mr_window_reload (self);
  /* The company is set up and each person logs in: a clerk's first step is their own login. */
  if (self->welcome_page == NULL && needs_own_login (self))
    mr_window_toast (self, _("Your company has each person log in to send: enter your login and password here, "
                             "then save."));
  return self;
}
