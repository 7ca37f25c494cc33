/* mr-message-view.c: a built mail as the recipient's mail program shows it (see the header) */

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "mailroom-mailshot.h"
#include "mailroom-message.h"
#include "mr-message-view.h"

#if HAVE_WEBKIT
#include <webkit/webkit.h>
#endif

struct _MrMessageView
{
  GtkBox          parent_instance;

  GtkWidget      *problem_label;
  GtkWidget      *missing_label;
  GtkWidget      *grid;
  GtkWidget      *values[5];       /* from, to, cc, subject, date: the value labels */
  GtkWidget      *names[5];
  GtkWidget      *attachments_label;
  GtkWidget      *switcher;
  GtkStack       *bodies;
  GtkTextView    *text_view;
  GtkWidget      *html_page;       /* holds html_view once a mail with HTML is shown */
  GtkWidget      *html_view;       /* NULL without WebKit, and until then: WebKit starts its
                                    * processes only when a mail is shown formatted */
  guint           marks;
};

G_DEFINE_FINAL_TYPE (MrMessageView, mr_message_view, GTK_TYPE_BOX)

static const char * const field_names[] = { "from", "to", "cc", "subject", "date" };

#if HAVE_WEBKIT
/* A picture of the mail, not a browser: links do not open, nothing navigates. */
static gboolean
on_decide_policy (WebKitWebView            *view,
                  WebKitPolicyDecision     *decision,
                  WebKitPolicyDecisionType  type)
{
  if (type == WEBKIT_POLICY_DECISION_TYPE_NEW_WINDOW_ACTION ||
      (type == WEBKIT_POLICY_DECISION_TYPE_NAVIGATION_ACTION &&
       webkit_navigation_action_get_navigation_type (webkit_navigation_policy_decision_get_navigation_action (
         WEBKIT_NAVIGATION_POLICY_DECISION (decision))) != WEBKIT_NAVIGATION_TYPE_OTHER))
    {
      webkit_policy_decision_ignore (decision);
      return TRUE;
    }
  return FALSE;
}

GtkWidget *
mr_mail_web_view_new (WebKitUserContentManager *manager,
                      int                       min_height,
                      const char               *label)
{
  g_autoptr(WebKitNetworkSession) session = webkit_network_session_new_ephemeral ();
  GtkWidget *view = manager != NULL
                    ? g_object_new (WEBKIT_TYPE_WEB_VIEW, "network-session", session, "user-content-manager", manager, NULL)
                    : g_object_new (WEBKIT_TYPE_WEB_VIEW, "network-session", session, NULL);
  WebKitSettings *settings = webkit_web_view_get_settings (WEBKIT_WEB_VIEW (view));

  /* Mail programs run no scripts; the page's Content Security Policy blocks remote content. */
  webkit_settings_set_enable_javascript_markup (settings, FALSE);
  webkit_settings_set_enable_page_cache (settings, FALSE);
  g_signal_connect (view, "decide-policy", G_CALLBACK (on_decide_policy), NULL);
  gtk_widget_set_vexpand (view, TRUE);
  gtk_widget_set_size_request (view, -1, min_height);
  gtk_accessible_update_property (GTK_ACCESSIBLE (view), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
  return view;
}
#endif

static void
set_field (MrMessageView *self,
           guint          index,
           const char    *value)
{
  gboolean shown = value != NULL && *value != '\0';

  gtk_label_set_text (GTK_LABEL (self->values[index]), shown ? value : "");
  gtk_widget_set_visible (self->values[index], shown);
  gtk_widget_set_visible (self->names[index], shown);
}

/* @marked's empty fields, between the markers, as highlighted names. */
static void
set_marked_text (MrMessageView *self,
                 const char    *marked)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->text_view);
  const char *p = marked;
  GtkTextIter end;

  gtk_text_buffer_set_text (buffer, "", -1);
  self->marks = 0;
  while (p != NULL && *p != '\0')
    {
      const char *open = strstr (p, MR_MAILSHOT_MISSING_OPEN);
      const char *close = open ? strstr (open, MR_MAILSHOT_MISSING_CLOSE) : NULL;

      gtk_text_buffer_get_end_iter (buffer, &end);
      if (open == NULL || close == NULL)
        {
          gtk_text_buffer_insert (buffer, &end, p, -1);
          break;
        }
      gtk_text_buffer_insert (buffer, &end, p, open - p);
      gtk_text_buffer_get_end_iter (buffer, &end);
      open += strlen (MR_MAILSHOT_MISSING_OPEN);
      gtk_text_buffer_insert_with_tags_by_name (buffer, &end, open, close - open, "missing", NULL);
      self->marks++;
      p = close + strlen (MR_MAILSHOT_MISSING_CLOSE);
    }
}

#if HAVE_WEBKIT
/* In the HTML, the names between the markers are <mark>ed. */
static char *
marked_html (const char *html)
{
  g_autoptr(GString) out = g_string_new (html);

  g_string_replace (out, MR_MAILSHOT_MISSING_OPEN, "<mark style=\"background: #f6d32d; color: #000\">", 0);
  g_string_replace (out, MR_MAILSHOT_MISSING_CLOSE, "</mark>", 0);
  return g_string_free (g_steal_pointer (&out), FALSE);
}
#endif

static char *
attachments_text (GPtrArray *attachments)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < attachments->len; i++)
    {
      MrMessageAttachment *attachment = g_ptr_array_index (attachments, i);
      g_autofree char *size = g_format_size (attachment->size);

      if (attachment->inline_image)
        continue;
      g_string_append_printf (out, "%s%s (%s)", out->len ? ", " : "", attachment->filename, size);
    }
  if (out->len == 0)
    {
      g_string_free (out, TRUE);
      return NULL;
    }
  return g_string_free (out, FALSE);
}

/* Everything but the formatted view, which the next mail replaces (two loads in a row may leave
 * the first). */
static void
clear_fields (MrMessageView *self)
{
  for (guint i = 0; i < G_N_ELEMENTS (field_names); i++)
    set_field (self, i, NULL);
  gtk_widget_set_visible (self->problem_label, FALSE);
  gtk_widget_set_visible (self->missing_label, FALSE);
  gtk_widget_set_visible (self->attachments_label, FALSE);
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->text_view), "", -1);
  self->marks = 0;
}

void
mr_message_view_clear (MrMessageView *self)
{
  clear_fields (self);
#if HAVE_WEBKIT
  if (self->html_view != NULL)
    webkit_web_view_load_html (WEBKIT_WEB_VIEW (self->html_view), "", NULL);
#endif
}

void
mr_message_view_set_problem (MrMessageView *self,
                             const char    *problem)
{
  mr_message_view_clear (self);
  gtk_label_set_text (GTK_LABEL (self->problem_label), problem);
  gtk_widget_set_visible (self->problem_label, TRUE);
}

void
mr_message_view_set_message (MrMessageView      *self,
                             GBytes             *message,
                             const char         *marked_subject,
                             const char         *marked_text,
                             const char         *marked_html_body,
                             const char         *note)
{
  g_autoptr(MrMessageSummary) summary = message ? mr_message_summarize (message) : NULL;
  g_autofree char *date = NULL;
  g_autofree char *attachments = NULL;
  g_autofree char *subject = NULL;
  gboolean has_html;

  clear_fields (self);
  if (summary == NULL)
    return;
  /* xgettext:no-c-format */
  date = summary->date ? g_date_time_format (summary->date, _("%A, %-d %B %Y, %H:%M")) : NULL;
  if (marked_subject != NULL)
    {
      g_autoptr(GString) shown = g_string_new (marked_subject);

      g_string_replace (shown, MR_MAILSHOT_MISSING_OPEN, "[", 0);
      g_string_replace (shown, MR_MAILSHOT_MISSING_CLOSE, "]", 0);
      subject = g_string_free (g_steal_pointer (&shown), FALSE);
    }
  set_field (self, 0, summary->from);
  set_field (self, 1, summary->to);
  set_field (self, 2, summary->cc);
  set_field (self, 3, subject ? subject : summary->subject ? summary->subject : "");
  gtk_widget_set_visible (self->values[3], TRUE);
  gtk_widget_set_visible (self->names[3], TRUE);
  set_field (self, 4, date);
  attachments = attachments_text (summary->attachments);
  if (attachments != NULL)
    {
      g_autofree char *line = g_strdup_printf (_("Attached: %s"), attachments);

      gtk_label_set_text (GTK_LABEL (self->attachments_label), line);
    }
  gtk_widget_set_visible (self->attachments_label, attachments != NULL);
  if (note != NULL && *note != '\0')
    {
      gtk_label_set_text (GTK_LABEL (self->missing_label), note);
      gtk_widget_set_visible (self->missing_label, TRUE);
    }
  set_marked_text (self, marked_text ? marked_text : summary->text ? summary->text : "");

  has_html = summary->html != NULL;
#if HAVE_WEBKIT
  if (has_html)
    {
      g_autofree char *html = NULL;

      if (marked_html_body != NULL)
        {
          g_autofree char *marked = marked_html (marked_html_body);
          g_autoptr(GString) page = g_string_new (summary->html);
          const char *csp_end = strstr (summary->html, ">\n");

          /* The summary's HTML has the images inlined; the marked one is the template's: the
           * policy line of the one, the body of the other. */
          g_string_truncate (page, csp_end ? (gsize) (csp_end - summary->html) + 2 : 0);
          g_string_append (page, marked);
          html = g_string_free (g_steal_pointer (&page), FALSE);
        }
      if (self->html_view == NULL)
        {
          self->html_view = mr_mail_web_view_new (NULL, 240, _("The mail, formatted"));
          gtk_box_append (GTK_BOX (self->html_page), self->html_view);
        }
      webkit_web_view_load_html (WEBKIT_WEB_VIEW (self->html_view), html ? html : summary->html, NULL);
    }
#else
  has_html = FALSE;
#endif
  gtk_widget_set_visible (self->switcher, has_html);
  if (!has_html)
    gtk_stack_set_visible_child_name (self->bodies, "text");
}

const char *
mr_message_view_get_shown (MrMessageView *self,
                           const char    *part)
{
  for (guint i = 0; i < G_N_ELEMENTS (field_names); i++)
    if (g_str_equal (part, field_names[i]))
      return gtk_widget_get_visible (self->values[i]) ? gtk_label_get_text (GTK_LABEL (self->values[i])) : NULL;
  if (g_str_equal (part, "attachments"))
    return gtk_widget_get_visible (self->attachments_label) ? gtk_label_get_text (GTK_LABEL (self->attachments_label)) : NULL;
  if (g_str_equal (part, "missing"))
    return gtk_widget_get_visible (self->missing_label) ? gtk_label_get_text (GTK_LABEL (self->missing_label)) : NULL;
  if (g_str_equal (part, "problem"))
    return gtk_widget_get_visible (self->problem_label) ? gtk_label_get_text (GTK_LABEL (self->problem_label)) : NULL;
  if (g_str_equal (part, "text"))
    {
      GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->text_view);
      GtkTextIter start, end;
      char *text;

      gtk_text_buffer_get_bounds (buffer, &start, &end);
      text = gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
      g_object_set_data_full (G_OBJECT (self), "shown-text", text, g_free);
      return text;
    }
  return NULL;
}

GtkWidget *
mr_message_view_get_html_view (MrMessageView *self)
{
  return self->html_view;
}

guint
mr_message_view_count_marks (MrMessageView *self)
{
  return self->marks;
}

const char *
mr_message_view_get_body (MrMessageView *self)
{
  return gtk_stack_get_visible_child_name (self->bodies);
}

void
mr_message_view_show_body (MrMessageView *self,
                           const char    *body)
{
  if (g_str_equal (body, "html") && self->html_page == NULL)
    return;
  gtk_stack_set_visible_child_name (self->bodies, body);
}

static void
mr_message_view_class_init (MrMessageViewClass *klass)
{
  gtk_widget_class_set_accessible_role (GTK_WIDGET_CLASS (klass), GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
mr_message_view_init (MrMessageView *self)
{
  const char *labels[] = { N_("From"), N_("To"), N_("Cc"), N_("Subject"), N_("Date") };
  GtkWidget *scrolled = gtk_scrolled_window_new ();
  GtkWidget *frame = gtk_frame_new (NULL);
  GtkTextBuffer *buffer;

  gtk_orientable_set_orientation (GTK_ORIENTABLE (self), GTK_ORIENTATION_VERTICAL);
  gtk_box_set_spacing (GTK_BOX (self), 8);

  self->problem_label = gtk_label_new (NULL);
  gtk_label_set_wrap (GTK_LABEL (self->problem_label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (self->problem_label), 0);
  gtk_widget_add_css_class (self->problem_label, "warning");
  gtk_widget_set_visible (self->problem_label, FALSE);
  gtk_box_append (GTK_BOX (self), self->problem_label);

  self->missing_label = gtk_label_new (NULL);
  gtk_label_set_wrap (GTK_LABEL (self->missing_label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (self->missing_label), 0);
  gtk_widget_add_css_class (self->missing_label, "warning");
  gtk_widget_set_visible (self->missing_label, FALSE);
  gtk_box_append (GTK_BOX (self), self->missing_label);

  self->grid = gtk_grid_new ();
  gtk_grid_set_column_spacing (GTK_GRID (self->grid), 12);
  gtk_grid_set_row_spacing (GTK_GRID (self->grid), 4);
  for (guint i = 0; i < G_N_ELEMENTS (field_names); i++)
    {
      self->names[i] = gtk_label_new (_(labels[i]));
      gtk_label_set_xalign (GTK_LABEL (self->names[i]), 1);
      gtk_widget_set_valign (self->names[i], GTK_ALIGN_START);
      gtk_widget_add_css_class (self->names[i], "dim-label");
      self->values[i] = gtk_label_new (NULL);
      gtk_label_set_xalign (GTK_LABEL (self->values[i]), 0);
      gtk_label_set_wrap (GTK_LABEL (self->values[i]), TRUE);
      gtk_label_set_wrap_mode (GTK_LABEL (self->values[i]), PANGO_WRAP_WORD_CHAR);
      gtk_label_set_selectable (GTK_LABEL (self->values[i]), TRUE);
      gtk_widget_set_hexpand (self->values[i], TRUE);
      gtk_accessible_update_relation (GTK_ACCESSIBLE (self->values[i]), GTK_ACCESSIBLE_RELATION_LABELLED_BY,
                                      self->names[i], NULL, -1);
      if (i == 3)
        gtk_widget_add_css_class (self->values[i], "heading");
      gtk_grid_attach (GTK_GRID (self->grid), self->names[i], 0, i, 1, 1);
      gtk_grid_attach (GTK_GRID (self->grid), self->values[i], 1, i, 1, 1);
    }
  gtk_box_append (GTK_BOX (self), self->grid);

  self->attachments_label = gtk_label_new (NULL);
  gtk_label_set_wrap (GTK_LABEL (self->attachments_label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (self->attachments_label), 0);
  gtk_widget_set_visible (self->attachments_label, FALSE);
  gtk_box_append (GTK_BOX (self), self->attachments_label);

  self->bodies = GTK_STACK (gtk_stack_new ());
  gtk_widget_set_vexpand (GTK_WIDGET (self->bodies), TRUE);
  self->text_view = GTK_TEXT_VIEW (gtk_text_view_new ());
  gtk_text_view_set_editable (self->text_view, FALSE);
  gtk_text_view_set_cursor_visible (self->text_view, FALSE);
  gtk_text_view_set_wrap_mode (self->text_view, GTK_WRAP_WORD_CHAR);
  gtk_text_view_set_left_margin (self->text_view, 12);
  gtk_text_view_set_right_margin (self->text_view, 12);
  gtk_text_view_set_top_margin (self->text_view, 12);
  gtk_text_view_set_bottom_margin (self->text_view, 12);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->text_view), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("The mail’s text part"), -1);
  buffer = gtk_text_view_get_buffer (self->text_view);
  gtk_text_buffer_create_tag (buffer, "missing", "background", "#f6d32d", "foreground", "#000000",
                              "weight", PANGO_WEIGHT_BOLD, NULL);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), GTK_WIDGET (self->text_view));
  gtk_scrolled_window_set_min_content_height (GTK_SCROLLED_WINDOW (scrolled), 200);
#if HAVE_WEBKIT
  self->html_page = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_stack_add_titled (self->bodies, self->html_page, "html", _("Formatted"));
#endif
  gtk_stack_add_titled (self->bodies, scrolled, "text", _("Plain Text"));
  self->switcher = gtk_stack_switcher_new ();
  gtk_stack_switcher_set_stack (GTK_STACK_SWITCHER (self->switcher), self->bodies);
  gtk_widget_set_halign (self->switcher, GTK_ALIGN_START);
  gtk_widget_set_visible (self->switcher, FALSE);
  gtk_box_append (GTK_BOX (self), self->switcher);
  gtk_frame_set_child (GTK_FRAME (frame), GTK_WIDGET (self->bodies));
  gtk_widget_set_vexpand (frame, TRUE);
  gtk_box_append (GTK_BOX (self), frame);
}

GtkWidget *
mr_message_view_new (void)
{
  return g_object_new (MR_TYPE_MESSAGE_VIEW, NULL);
}
