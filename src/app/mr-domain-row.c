/* mr-domain-row.c: one of the company's sender domains on the Company page */

#include "config.h"

#include <glib/gi18n.h>

#include "mr-domain-row.h"

struct _MrDomainRow
{
  AdwExpanderRow  parent_instance;

  char           *domain;
  GHashTable     *records;       /* "proof" or a check → the record's text */
  GtkWidget      *proof_row;
  GtkWidget      *verify_button;
};

enum { REMOVE, VERIFY, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (MrDomainRow, mr_domain_row, ADW_TYPE_EXPANDER_ROW)

static void
on_copy_clicked (GtkButton *button)
{
  const char *text = g_object_get_data (G_OBJECT (button), "text");
  GtkWidget *overlay = gtk_widget_get_ancestor (GTK_WIDGET (button), ADW_TYPE_TOAST_OVERLAY);

  gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (button)), text);
  if (overlay != NULL)
    adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (overlay), adw_toast_new (_("Copied")));
}

GtkWidget *
mr_record_row_new (const char *title,
                   const char *text,
                   const char *copy_label)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *copy = gtk_button_new_from_icon_name ("edit-copy-symbolic");

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), text);
  adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 0);
  gtk_widget_set_valign (copy, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (copy, "flat");
  gtk_widget_set_tooltip_text (copy, _("Copy"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (copy), GTK_ACCESSIBLE_PROPERTY_LABEL, copy_label, -1);
  g_object_set_data_full (G_OBJECT (copy), "text", g_strdup (text), g_free);
  g_signal_connect (copy, "clicked", G_CALLBACK (on_copy_clicked), NULL);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), copy);
  return row;
}

/* A row with @text to publish for the domain, remembered as @what's record. */
static GtkWidget *
record_row (MrDomainRow *self,
            const char  *what,
            const char  *title,
            const char  *text)
{
  g_autofree char *label = g_strdup_printf (_("Copy the record for %s"), self->domain);

  g_hash_table_insert (self->records, g_strdup (what), g_strdup (text));
  return mr_record_row_new (title, text, label);
}

static const char *
check_name (const char *check)
{
  return g_str_equal (check, "spf") ? "SPF" : g_str_equal (check, "dkim") ? "DKIM" : g_str_equal (check, "dmarc") ? "DMARC"
         : g_str_equal (check, "mx") ? _("Receiving mail (MX)") : g_str_equal (check, "bulk") ? _("Unsubscribe")
         : g_str_equal (check, "pace") ? _("Daily limit") : check;
}

static const char *
level_words (MrFindingLevel level)
{
  switch (level)
    {
    case MR_FINDING_PASS: return _("passes");
    case MR_FINDING_INFO: return _("note");
    case MR_FINDING_WARNING: return _("warning");
    case MR_FINDING_FAIL: return _("fails");
    case MR_FINDING_UNKNOWN:
    default: return _("could not check");
    }
}

static const char *
level_icon (MrFindingLevel level)
{
  switch (level)
    {
    case MR_FINDING_PASS: return "emblem-ok-symbolic";
    case MR_FINDING_FAIL: return "dialog-error-symbolic";
    case MR_FINDING_UNKNOWN: return "dialog-question-symbolic";
    case MR_FINDING_INFO:
    case MR_FINDING_WARNING:
    default: return "dialog-warning-symbolic";
    }
}

/* The worst level of one check's findings. */
static MrFindingLevel
check_level (const MrDomainReport *report,
             const char           *check)
{
  MrFindingLevel worst = MR_FINDING_PASS;
  gboolean any = FALSE;

  for (guint i = 0; i < report->findings->len; i++)
    {
      MrFinding *finding = g_ptr_array_index (report->findings, i);

      if (!g_str_equal (finding->check, check))
        continue;
      any = TRUE;
      if (finding->level == MR_FINDING_FAIL || (finding->level == MR_FINDING_UNKNOWN && worst != MR_FINDING_FAIL) ||
          (finding->level == MR_FINDING_WARNING && worst < MR_FINDING_WARNING) ||
          (finding->level == MR_FINDING_INFO && worst < MR_FINDING_INFO))
        worst = finding->level;
    }
  return any ? worst : MR_FINDING_INFO;
}

GtkWidget *
mr_finding_row_new (const MrFinding *finding)
{
  GtkWidget *row = adw_action_row_new ();
  g_autofree char *title = g_strdup_printf ("%s: %s", check_name (finding->check), level_words (finding->level));
  GtkWidget *level = gtk_image_new_from_icon_name (level_icon (finding->level));

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), finding->words);
  adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 0);
  gtk_accessible_update_property (GTK_ACCESSIBLE (level), GTK_ACCESSIBLE_PROPERTY_LABEL, level_words (finding->level), -1);
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), level);
  if (finding->detail != NULL)
    gtk_widget_set_tooltip_text (row, finding->detail);
  return row;
}

GPtrArray *
mr_finding_rows_new (const MrDomainReport *report)
{
  GPtrArray *rows = g_ptr_array_new ();

  for (guint i = 0; i < report->findings->len; i++)
    {
      MrFinding *finding = g_ptr_array_index (report->findings, i);

      g_ptr_array_add (rows, mr_finding_row_new (finding));
      if (finding->record_value != NULL)
        {
          g_autofree char *title = g_strdup_printf (_("TXT record at %s"), finding->record_name);
          g_autofree char *label = g_strdup_printf (_("Copy the record for %s"), finding->record_name);
          GtkWidget *row = mr_record_row_new (title, finding->record_value, label);

          g_object_set_data_full (G_OBJECT (row), "check", g_strdup (finding->check), g_free);
          g_object_set_data_full (G_OBJECT (row), "record", g_strdup (finding->record_value), g_free);
          g_ptr_array_add (rows, row);
        }
    }
  return rows;
}

static void
on_remove_clicked (MrDomainRow *self)
{
  g_signal_emit (self, signals[REMOVE], 0, self->domain);
}

static void
on_verify_clicked (MrDomainRow *self)
{
  g_signal_emit (self, signals[VERIFY], 0, self->domain);
}

GtkWidget *
mr_domain_row_new (const MrCompanyDomain *domain,
                   const MrDomainReport  *report,
                   gboolean               editable)
{
  MrDomainRow *self = g_object_new (MR_TYPE_DOMAIN_ROW, NULL);
  g_autoptr(GString) subtitle = g_string_new (NULL);
  GtkWidget *remove = gtk_button_new_from_icon_name ("list-remove-symbolic");
  g_autofree char *remove_label = g_strdup_printf (_("Remove %s"), domain->domain);
  GtkWidget *icon;

  self->domain = g_strdup (domain->domain);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self), domain->domain);

  switch (domain->state)
    {
    case MR_DOMAIN_PENDING:
      g_string_append (subtitle, _("Waiting for its proof: publish the record below, then Verify"));
      break;
    case MR_DOMAIN_PROVED:
      {
        g_autoptr(GDateTime) date = NULL;
        g_autofree char *iso = g_strdup_printf ("%sT00:00:00Z", domain->proved_on);
        g_autofree char *shown = NULL;

        date = g_date_time_new_from_iso8601 (iso, NULL);
        shown = date ? g_date_time_format (date, "%x") : g_strdup (domain->proved_on);
        g_string_append_printf (subtitle, _("Proved on %s"), shown);
      }
      break;
    case MR_DOMAIN_ADDED:
    default:
      g_string_append (subtitle, _("Added without proof"));
      break;
    }
  icon = gtk_image_new_from_icon_name (domain->state == MR_DOMAIN_PROVED ? "emblem-ok-symbolic"
                                       : "dialog-warning-symbolic");
  gtk_accessible_update_property (GTK_ACCESSIBLE (icon), GTK_ACCESSIBLE_PROPERTY_LABEL, subtitle->str, -1);
  adw_expander_row_add_prefix (ADW_EXPANDER_ROW (self), icon);

  /* The verdicts at a glance: "SPF passes · DKIM fails · DMARC fails". */
  if (report != NULL)
    {
      const char *checks[] = { "spf", "dkim", "dmarc" };

      for (guint i = 0; i < G_N_ELEMENTS (checks); i++)
        g_string_append_printf (subtitle, "%s%s %s", i == 0 ? "\n" : " · ", check_name (checks[i]),
                                level_words (check_level (report, checks[i])));
    }
  adw_expander_row_set_subtitle (ADW_EXPANDER_ROW (self), subtitle->str);

  gtk_widget_set_valign (remove, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (remove, "flat");
  gtk_widget_set_tooltip_text (remove, remove_label);
  gtk_accessible_update_property (GTK_ACCESSIBLE (remove), GTK_ACCESSIBLE_PROPERTY_LABEL, remove_label, -1);
  gtk_widget_set_sensitive (remove, editable);
  g_signal_connect_swapped (remove, "clicked", G_CALLBACK (on_remove_clicked), self);
  adw_expander_row_add_action (ADW_EXPANDER_ROW (self), remove);

  if (domain->state == MR_DOMAIN_PENDING)
    {
      g_autofree char *record = mr_company_domain_record (domain);
      g_autofree char *title = g_strdup_printf (_("Publish this TXT record at %s"), domain->domain);
      g_autofree char *verify_label = g_strdup_printf (_("Verify %s"), domain->domain);

      self->proof_row = record_row (self, "proof", title, record);
      self->verify_button = gtk_button_new_with_mnemonic (_("_Verify"));
      gtk_widget_set_valign (self->verify_button, GTK_ALIGN_CENTER);
      gtk_widget_set_tooltip_text (self->verify_button, _("Look for the record in the domain’s DNS"));
      gtk_accessible_update_property (GTK_ACCESSIBLE (self->verify_button), GTK_ACCESSIBLE_PROPERTY_LABEL, verify_label, -1);
      gtk_widget_set_sensitive (self->verify_button, editable);
      g_signal_connect_swapped (self->verify_button, "clicked", G_CALLBACK (on_verify_clicked), self);
      adw_action_row_add_suffix (ADW_ACTION_ROW (self->proof_row), self->verify_button);
      adw_expander_row_add_row (ADW_EXPANDER_ROW (self), self->proof_row);
    }

  if (report != NULL)
    {
      g_autoptr(GPtrArray) rows = mr_finding_rows_new (report);

      for (guint i = 0; i < rows->len; i++)
        {
          GtkWidget *row = g_ptr_array_index (rows, i);
          const char *check = g_object_get_data (G_OBJECT (row), "check");

          if (check != NULL)
            g_hash_table_insert (self->records, g_strdup (check), g_strdup (g_object_get_data (G_OBJECT (row), "record")));
          adw_expander_row_add_row (ADW_EXPANDER_ROW (self), row);
        }
    }
  return GTK_WIDGET (self);
}

const char *
mr_domain_row_get_domain (MrDomainRow *self)
{
  return self->domain;
}

void
mr_domain_row_set_problem (MrDomainRow *self,
                           const char  *problem)
{
  if (self->proof_row == NULL)
    return;
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->proof_row),
                               problem ? problem : g_hash_table_lookup (self->records, "proof"));
  if (problem != NULL)
    adw_expander_row_set_expanded (ADW_EXPANDER_ROW (self), TRUE);
}

const char *
mr_domain_row_get_record (MrDomainRow *self,
                          const char  *what)
{
  return g_hash_table_lookup (self->records, what);
}

GtkWidget *
mr_domain_row_get_verify_button (MrDomainRow *self)
{
  return self->verify_button;
}

static void
mr_domain_row_finalize (GObject *object)
{
  MrDomainRow *self = MR_DOMAIN_ROW (object);

  g_free (self->domain);
  g_hash_table_unref (self->records);
  G_OBJECT_CLASS (mr_domain_row_parent_class)->finalize (object);
}

static void
mr_domain_row_class_init (MrDomainRowClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mr_domain_row_finalize;
  signals[REMOVE] = g_signal_new ("remove", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                  G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[VERIFY] = g_signal_new ("verify", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                  G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
mr_domain_row_init (MrDomainRow *self)
{
  self->records = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}
