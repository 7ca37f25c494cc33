/* mr-proofreader.c: a mailshot's recipients checked before anything is sent */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "mr-keys.h"
#include "mr-proofreader.h"
#include "mr-suppression.h"

static void
problem_free (MrProblem *problem)
{
  g_free (problem->message);
  g_free (problem);
}

void
mr_proof_report_free (MrProofReport *report)
{
  if (report == NULL)
    return;
  g_free (report->address_column);
  g_free (report->sheet);
  g_ptr_array_unref (report->problems);
  g_free (report);
}

const char *
mr_problem_severity_to_string (MrProblemSeverity severity)
{
  return severity == MR_PROBLEM_ERROR ? "error" : "warning";
}

static void
add_problem (MrProofReport     *report,
             guint              row,
             MrProblemSeverity  severity,
             const char        *kind,
             char              *message)
{
  MrProblem *problem = g_new0 (MrProblem, 1);

  problem->row = row;
  problem->severity = severity;
  problem->kind = kind;
  problem->message = message;
  g_ptr_array_add (report->problems, problem);
  if (severity == MR_PROBLEM_WARNING)
    report->warnings++;
}

/* The addresses seen so far, to find repeats: in a private temporary SQLite database on disk, so
 * that a list of a million rows does not hold a million strings in memory. */
typedef struct {
  sqlite3      *db;
  sqlite3_stmt *insert;
  sqlite3_stmt *lookup;
  sqlite3_stmt *suppress;
  sqlite3_stmt *suppressed;
} SeenSet;

static void
seen_close (SeenSet *seen)
{
  sqlite3_finalize (seen->insert);
  sqlite3_finalize (seen->lookup);
  sqlite3_finalize (seen->suppress);
  sqlite3_finalize (seen->suppressed);
  sqlite3_close (seen->db);
}

static void
add_suppressed (const char *address,
                gpointer    user_data)
{
  SeenSet *seen = user_data;

  sqlite3_reset (seen->suppress);
  sqlite3_bind_text (seen->suppress, 1, address, -1, SQLITE_TRANSIENT);
  sqlite3_step (seen->suppress);
}

static gboolean
is_suppressed (SeenSet    *seen,
               const char *address)
{
  sqlite3_reset (seen->suppressed);
  sqlite3_bind_text (seen->suppressed, 1, address, -1, SQLITE_STATIC);
  return sqlite3_step (seen->suppressed) == SQLITE_ROW;
}

static gboolean
seen_open (SeenSet  *seen,
           GError  **error)
{
  /* "": a temporary database of this connection's own, deleted when it closes. */
  if (sqlite3_open ("", &seen->db) != SQLITE_OK ||
      sqlite3_exec (seen->db, "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -2048;"
                              "CREATE TABLE seen (address TEXT PRIMARY KEY, row INTEGER) WITHOUT ROWID;"
                              "CREATE TABLE suppressed (address TEXT PRIMARY KEY) WITHOUT ROWID; BEGIN;",
                    NULL, NULL, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2 (seen->db, "INSERT OR IGNORE INTO seen VALUES (?, ?)", -1, &seen->insert, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2 (seen->db, "SELECT row FROM seen WHERE address = ?", -1, &seen->lookup, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2 (seen->db, "INSERT OR IGNORE INTO suppressed VALUES (?)", -1, &seen->suppress, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2 (seen->db, "SELECT 1 FROM suppressed WHERE address = ?", -1, &seen->suppressed, NULL) != SQLITE_OK)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("Cannot keep track of the addresses: %s"),
                   sqlite3_errmsg (seen->db));
      return FALSE;
    }
  return TRUE;
}

/* 0 for a new address; otherwise the row where it was first seen. */
static guint
seen_add (SeenSet    *seen,
          const char *address,
          guint       row)
{
  guint first = 0;

  sqlite3_reset (seen->insert);
  sqlite3_bind_text (seen->insert, 1, address, -1, SQLITE_STATIC);
  sqlite3_bind_int (seen->insert, 2, row);
  if (sqlite3_step (seen->insert) == SQLITE_DONE && sqlite3_changes (seen->db) == 1)
    return 0;
  sqlite3_reset (seen->lookup);
  sqlite3_bind_text (seen->lookup, 1, address, -1, SQLITE_STATIC);
  if (sqlite3_step (seen->lookup) == SQLITE_ROW)
    first = sqlite3_column_int (seen->lookup, 0);
  return first;
}

static int
find_column (const char * const *columns,
             const char         *name)
{
  for (int i = 0; columns[i] != NULL; i++)
    if (g_ascii_strcasecmp (columns[i], name) == 0)
      return i;
  /* A column with spaces, by its merge field's name ("First_Name" for "First Name"). */
  for (int i = 0; columns[i] != NULL; i++)
    {
      g_autofree char *field = mr_recipients_field_name (columns[i]);

      if (g_ascii_strcasecmp (field, name) == 0)
        return i;
    }
  return -1;
}

static int
find_address_column (const char * const *columns)
{
  static const char * const names[] = { "email", "e-mail", "email address", "e-mail address", "mail", "address" };

  for (guint n = 0; n < G_N_ELEMENTS (names); n++)
    {
      int found = find_column (columns, names[n]);
      if (found >= 0)
        return found;
    }
  return -1;
}

char *
mr_proof_resolve_attachment (const char  *dir,
                             const char  *name,
                             GError     **error)
{
  g_autofree char *joined = NULL;
  g_autofree char *real_dir = NULL;
  g_autofree char *real = NULL;
  g_auto(GStrv) parts = NULL;
  GStatBuf info;

  if (g_path_is_absolute (name) || *name == '~')
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_ACCES,
                   _("“%s” is a full path: give the file’s name inside the attachments folder"), name);
      return NULL;
    }
  parts = g_strsplit_set (name, "/\\", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    if (g_str_equal (parts[i], ".."))
      {
        g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_ACCES,
                     _("“%s” points outside the attachments folder (“..”)"), name);
        return NULL;
      }
  joined = g_build_filename (dir, name, NULL);
  real_dir = realpath (dir, NULL);
  real = realpath (joined, NULL);
  if (real_dir == NULL || real == NULL || g_stat (real, &info) != 0 || !S_ISREG (info.st_mode))
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT, _("There is no file “%s” in %s"), name, dir);
      return NULL;
    }
  /* A link inside the folder must not lead out of it. */
  if (!g_str_has_prefix (real, real_dir) || real[strlen (real_dir)] != '/')
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_ACCES, _("“%s” leads outside the attachments folder"), name);
      return NULL;
    }
  return g_steal_pointer (&real);
}

/* What a file adds to a message in base64: 4 bytes for 3, and a line break every 76. */
static guint64
encoded_size (guint64 bytes)
{
  guint64 base64 = (bytes + 2) / 3 * 4;
  return base64 + base64 / 76 * 2 + 200;
}

static guint64
file_size (const char *path)
{
  GStatBuf info;
  return g_stat (path, &info) == 0 ? (guint64) info.st_size : 0;
}

/* The part of every mail that does not depend on the row: the bodies (HTML with its text part) and the
 * template's own attachments, as the built message holds them. */
static guint64
template_size (MrTemplate *template_)
{
  guint64 size = 2048;   /* headers and MIME boundaries */

  size += template_->text ? strlen (template_->text) * 11 / 10 : 0;
  size += template_->html ? strlen (template_->html) * 11 / 10 * 2 : 0;
  for (guint i = 0; i < template_->attachments->len; i++)
    size += encoded_size (file_size (((MrTemplateAttachment *) g_ptr_array_index (template_->attachments, i))->path));
  return size;
}

MrProofReport *
mr_proofread (MrTemplate      *template_,
              const char      *recipients,
              const char      *address_column,
              MrProofRowFunc   row_func,
              gpointer         user_data,
              GError         **error)
{
  MrProofOptions options = { .address_column = address_column };

  return mr_proofread_full (template_, recipients, &options, row_func, user_data, error);
}

MrProofReport *
mr_proofread_full (MrTemplate            *template_,
                   const char            *recipients,
                   const MrProofOptions  *options,
                   MrProofRowFunc         row_func,
                   gpointer               user_data,
                   GError               **error)
{
  static const MrProofOptions defaults = { NULL };
  const char *address_column;
  int attachment = -1;
  int name_column = -1;
  guint64 base_size;
  g_autoptr(MrRecipientReader) reader = NULL;
  g_autoptr(GPtrArray) variables = NULL;
  SeenSet seen = { NULL, NULL, NULL, NULL, NULL };
  g_autofree char *suppression = mr_suppression_get_path ();
  g_autoptr(GArray) variable_columns = g_array_new (FALSE, FALSE, sizeof (int));
  g_autoptr(MrProofReport) report = NULL;
  MrProblemSeverity unfilled = template_->strict ? MR_PROBLEM_ERROR : MR_PROBLEM_WARNING;
  const char * const *columns;
  const char * const *fields;
  GError *row_error = NULL;
  int address;
  guint row = 0;

  if (options == NULL)
    options = &defaults;
  address_column = options->address_column;
  variables = mr_template_list_variables (template_, error);
  if (variables == NULL)
    return NULL;
  reader = mr_recipient_reader_open_sheet (recipients, options->sheet, error);
  if (reader == NULL)
    return NULL;
  columns = mr_recipient_reader_get_columns (reader);

  address = address_column ? find_column (columns, address_column) : find_address_column (columns);
  if (address < 0)
    {
      g_autofree char *listed = mr_recipients_describe_columns (columns);

      if (address_column != NULL)
        g_set_error (error, MR_RECIPIENTS_ERROR, MR_RECIPIENTS_ERROR_NO_ADDRESS_COLUMN,
                     _("There is no column “%s”; the columns are: %s"), address_column, listed);
      else
        g_set_error (error, MR_RECIPIENTS_ERROR, MR_RECIPIENTS_ERROR_NO_ADDRESS_COLUMN,
                     _("No column is named for the addresses (“email”, say); the columns are: %s. "
                       "Choose the column that holds them"), listed);
      return NULL;
    }

  if (options->name_column != NULL)
    {
      name_column = find_column (columns, options->name_column);
      if (name_column < 0)
        {
          g_autofree char *listed = mr_recipients_describe_columns (columns);
          g_set_error (error, MR_RECIPIENTS_ERROR, MR_RECIPIENTS_ERROR_NO_ADDRESS_COLUMN,
                       _("There is no column “%s” for the names; the columns are: %s"), options->name_column, listed);
          return NULL;
        }
    }
  if (options->attachment_column != NULL)
    {
      attachment = find_column (columns, options->attachment_column);
      if (attachment < 0)
        {
          g_autofree char *listed = mr_recipients_describe_columns (columns);
          g_set_error (error, MR_RECIPIENTS_ERROR, MR_RECIPIENTS_ERROR_NO_ADDRESS_COLUMN,
                       _("There is no column “%s” for the attachments; the columns are: %s"),
                       options->attachment_column, listed);
          return NULL;
        }
      if (options->attachments_dir == NULL || !g_file_test (options->attachments_dir, G_FILE_TEST_IS_DIR))
        {
          g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT, _("The attachments folder %s does not exist"),
                       options->attachments_dir ? options->attachments_dir : "");
          return NULL;
        }
    }
  base_size = template_size (template_);

  /* The company's suppression list: every mailshot honours it. */
  if (!seen_open (&seen, error) || !mr_suppression_foreach (suppression, add_suppressed, &seen, error))
    {
      seen_close (&seen);
      return NULL;
    }
  report = g_new0 (MrProofReport, 1);
  report->problems = g_ptr_array_new_with_free_func ((GDestroyNotify) problem_free);
  report->address_column = g_strdup (columns[address]);
  report->sheet = g_strdup (mr_recipient_reader_get_sheet (reader));

  /* Variables no column provides: empty in every mail. */
  for (guint v = 0; v < variables->len; v++)
    {
      const char *name = g_ptr_array_index (variables, v);
      int column = find_column (columns, name);

      g_array_append_val (variable_columns, column);
      if (column < 0)
        add_problem (report, 0, unfilled, "missing-column",
                     g_strdup_printf (_("The template uses “%s”, and no column has that name: it would be empty in every mail"),
                                      name));
    }

  for (;;)
    {
      gboolean has_error = FALSE;
      guint first_problem = report->problems->len;
      const char *why_not = NULL;
      g_autofree char *trimmed = NULL;
      g_autofree char *key = NULL;
      const char *value;
      guint first = 0;

      if (!mr_recipient_reader_next (reader, &fields, &row, &row_error))
        {
          if (row_error == NULL)
            break;
          report->rows++;
          report->rows_with_errors++;
          add_problem (report, row, MR_PROBLEM_ERROR, "unreadable", g_strdup (row_error->message));
          if (row_func != NULL)
            row_func (row, NULL, NULL, row_error->message, user_data);
          g_clear_error (&row_error);
          continue;
        }
      report->rows++;

      value = fields[address];
      trimmed = g_strstrip (g_strdup (value));
      key = g_utf8_strdown (trimmed, -1);
      if (*key == '\0')
        {
          add_problem (report, row, MR_PROBLEM_ERROR, "no-address",
                       g_strdup_printf (_("Row %u has no address in “%s”"), row, columns[address]));
          has_error = TRUE;
        }
      else if (!mr_validate_address (key, NULL))
        {
          add_problem (report, row, MR_PROBLEM_ERROR, "invalid-address",
                       g_strdup_printf (_("Row %u: “%s” is not an email address"), row, value));
          has_error = TRUE;
        }

      for (guint v = 0; v < variables->len; v++)
        {
          int column = g_array_index (variable_columns, int, v);

          if (column >= 0 && *fields[column] == '\0')
            {
              add_problem (report, row, unfilled, "empty-variable",
                           g_strdup_printf (_("Row %u leaves “%s” empty"), row,
                                            (const char *) g_ptr_array_index (variables, v)));
              has_error = has_error || unfilled == MR_PROBLEM_ERROR;
            }
        }

      /* The name goes into the To header: one line. */
      if (name_column >= 0 && strpbrk (fields[name_column], "\r\n") != NULL)
        {
          add_problem (report, row, MR_PROBLEM_ERROR, "bad-name",
                       g_strdup_printf (_("Row %u: the name in “%s” has a line break"), row, columns[name_column]));
          has_error = TRUE;
        }
      {
        guint64 size = base_size;

        for (guint c = 0; columns[c] != NULL; c++)
          size += strlen (fields[c]);
        if (attachment >= 0 && *fields[attachment] != '\0')
          {
            g_autoptr(GError) attach_error = NULL;
            g_autofree char *path = mr_proof_resolve_attachment (options->attachments_dir, fields[attachment],
                                                                 &attach_error);
            if (path == NULL)
              {
                add_problem (report, row, MR_PROBLEM_ERROR,
                             g_error_matches (attach_error, G_FILE_ERROR, G_FILE_ERROR_ACCES) ? "attachment-outside"
                                                                                               : "attachment-missing",
                             g_strdup_printf (_("Row %u: %s"), row, attach_error->message));
                has_error = TRUE;
              }
            else
              size += encoded_size (file_size (path));
          }
        if (options->size_limit > 0 && size > options->size_limit)
          {
            g_autofree char *estimate = g_format_size (size);
            g_autofree char *limit = g_format_size (options->size_limit);

            add_problem (report, row, MR_PROBLEM_ERROR, "too-big",
                         g_strdup_printf (_("Row %u: the mail would be about %s, over the server’s limit of %s"),
                                          row, estimate, limit));
            has_error = TRUE;
          }
      }
      /* Left out by the user: not sent, and an error of the row no longer stops the job. */
      if (options->excluded_rows != NULL && g_hash_table_contains (options->excluded_rows, GUINT_TO_POINTER (row)))
        {
          report->left_out++;
          add_problem (report, row, MR_PROBLEM_WARNING, "excluded",
                       g_strdup_printf (_("Row %u is left out, as you chose"), row));
          why_not = ((MrProblem *) g_ptr_array_index (report->problems, report->problems->len - 1))->message;
        }
      else if (has_error)
        {
          report->rows_with_errors++;
          for (guint p = first_problem; p < report->problems->len && why_not == NULL; p++)
            if (((MrProblem *) g_ptr_array_index (report->problems, p))->severity == MR_PROBLEM_ERROR)
              why_not = ((MrProblem *) g_ptr_array_index (report->problems, p))->message;
        }
      else if (options->limit > 0 && report->sendable >= options->limit)
        {
          report->over_limit++;
          add_problem (report, row, MR_PROBLEM_WARNING, "over-limit",
                       g_strdup_printf (_("Row %u is after the first %u, the limit chosen: it is not sent"), row,
                                        options->limit));
          why_not = ((MrProblem *) g_ptr_array_index (report->problems, report->problems->len - 1))->message;
        }
      else if (is_suppressed (&seen, key))
        {
          report->suppressed++;
          add_problem (report, row, MR_PROBLEM_WARNING, "suppressed",
                       g_strdup_printf (_("Row %u: %s is on the company’s suppression list (unsubscribed or bounced): "
                                          "it is not sent"), row, value));
          why_not = ((MrProblem *) g_ptr_array_index (report->problems, report->problems->len - 1))->message;
        }
      else if ((first = seen_add (&seen, key, row)) != 0 && !options->send_duplicates)
        {
          report->repeated++;
          add_problem (report, row, MR_PROBLEM_WARNING, "duplicate",
                       g_strdup_printf (_("Row %u repeats the address of row %u: it is sent once"), row, first));
          why_not = ((MrProblem *) g_ptr_array_index (report->problems, report->problems->len - 1))->message;
        }
      else
        {
          if (first != 0)
            add_problem (report, row, MR_PROBLEM_WARNING, "duplicate",
                         g_strdup_printf (_("Row %u repeats the address of row %u: it is sent a mail of its own, "
                                            "as you chose"), row, first));
          report->sendable++;
        }
      if (row_func != NULL)
        row_func (row, key, fields, why_not, user_data);
    }
  seen_close (&seen);
  report->hidden_rows = mr_recipient_reader_get_hidden_rows (reader);
  /* A strict template's missing column stops every row. */
  if (template_->strict)
    for (guint v = 0; v < variable_columns->len; v++)
      if (g_array_index (variable_columns, int, v) < 0)
        {
          report->rows_with_errors = report->rows;
          report->sendable = report->left_out = report->repeated = report->suppressed = report->over_limit = 0;
          break;
        }
  return g_steal_pointer (&report);
}
