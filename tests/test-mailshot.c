/* test-mailshot.c: the proof-reader, in the engine and as `mailroom-cli mailshot check` */

#include "config.h"

#include <string.h>

#include "mr-proofreader.h"
#include "mr-test-utils.h"

static MrTemplate *
write_template (MrTestDirs *dirs,
                gboolean    strict)
{
  g_autofree char *path = g_build_filename (dirs->root, strict ? "strict.json" : "invite.json", NULL);
  g_autoptr(GError) error = NULL;
  MrTemplate *template_;

  mr_test_write_file (path, strict
                      ? "{\"schema_version\": 1, \"name\": \"Strict\", \"subject\": \"Hi {{name}}\", \"text\": \"x\", \"strict\": true}"
                      : "{\"schema_version\": 1, \"name\": \"Invite\", \"subject\": \"Invitation for {{name}}\","
                        " \"html\": \"<p>Dear {{name}}, see you in {{city}} on {{date}}.</p>\"}");
  template_ = mr_template_load (path, &error);
  g_assert_no_error (error);
  return template_;
}

static const MrProblem *
problem_at (MrProofReport *report,
            guint          row,
            const char    *kind)
{
  for (guint i = 0; i < report->problems->len; i++)
    {
      MrProblem *problem = g_ptr_array_index (report->problems, i);

      if (problem->row == row && g_str_equal (problem->kind, kind))
        return problem;
    }
  g_error ("No %s problem reported for row %u", kind, row);
}

/* A list saved from a spreadsheet, with a mistake of each kind. */
static const char mistakes[] =
  "sep=;\r\n"
  "Name;E-Mail;City\r\n"
  "Ann;ann@example.org;Bern\r\n"              /* 2: fine */
  "Bob;bob@;Basel\r\n"                         /* 3: not an address */
  "Carol;;Chur\r\n"                            /* 4: no address */
  "Ann again;ANN@example.org ;Bern\r\n"        /* 5: the same address as row 2 */
  "Dan;dan@example.org;\r\n"                   /* 6: city left empty */
  "M\xfcller;mueller@example.org;Z\xfcrich\r\n" /* 7: Windows-1252 in a UTF-8 file: unreadable */
  "Eve;eve@example.org;Genf\r\n";             /* 8: fine */

static void
test_proofreader (MrTestDirs    *dirs,
                  gconstpointer  data)
{
  g_autofree char *path = g_build_filename (dirs->root, "list.csv", NULL);
  g_autoptr(MrTemplate) template_ = write_template (dirs, FALSE);
  g_autoptr(MrProofReport) report = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *padded = NULL;

  /* More than 64 KB of good rows first, so that the file is taken as UTF-8. */
  {
    GString *text = g_string_new ("sep=;\r\nName;E-Mail;City\r\n");
    guint i;

    for (i = 0; text->len < 70000; i++)
      g_string_append_printf (text, "Person %u;person%u@example.org;Zürich\r\n", i, i);
    g_string_append (text, strchr (strchr (mistakes, '\n') + 1, '\n') + 1);
    g_assert_true (g_file_set_contents (path, text->str, text->len, NULL));
    g_test_message ("%u good rows first", i);
    report = mr_proofread (template_, path, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (report->address_column, ==, "E-Mail");
    /* The template's {{date}} has no column: a warning for the file, once. */
    g_assert_cmpint (problem_at (report, 0, "missing-column")->severity, ==, MR_PROBLEM_WARNING);
    g_assert_nonnull (strstr (problem_at (report, 0, "missing-column")->message, "date"));
    /* Rows after the good ones: 2 + i is the first mistake row ("Ann"). */
    g_assert_cmpint (problem_at (report, i + 3, "invalid-address")->severity, ==, MR_PROBLEM_ERROR);
    g_assert_nonnull (strstr (problem_at (report, i + 3, "invalid-address")->message, "bob@"));
    g_assert_cmpint (problem_at (report, i + 4, "no-address")->severity, ==, MR_PROBLEM_ERROR);
    padded = g_strdup_printf ("row %u", i + 2);
    g_assert_nonnull (strstr (problem_at (report, i + 5, "duplicate")->message, padded));
    g_assert_cmpint (problem_at (report, i + 6, "empty-variable")->severity, ==, MR_PROBLEM_WARNING);
    g_assert_cmpint (problem_at (report, i + 7, "unreadable")->severity, ==, MR_PROBLEM_ERROR);
    g_assert_cmpuint (report->rows, ==, i + 7);
    g_assert_cmpuint (report->rows_with_errors, ==, 3);
    g_assert_cmpuint (report->sendable, ==, i + 3);   /* the good ones, Ann, Dan and Eve */
    g_string_free (text, TRUE);
  }

  /* No column for the addresses: said for the file, with the columns there are. */
  mr_test_write_file (path, "Name,Phone\nAnn,123\n");
  g_clear_pointer (&report, mr_proof_report_free);
  g_assert_null (mr_proofread (template_, path, NULL, &error));
  g_assert_error (error, MR_RECIPIENTS_ERROR, MR_RECIPIENTS_ERROR_NO_ADDRESS_COLUMN);
  g_assert_nonnull (strstr (error->message, "Name, Phone"));
  g_clear_error (&error);
  mr_test_write_file (path, "Name,Work\nAnn,ann@example.org\n");
  report = mr_proofread (template_, path, "work", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (report->sendable, ==, 1);
}

/* A strict template: a variable without a value stops the row. */
static void
test_strict (MrTestDirs    *dirs,
             gconstpointer  data)
{
  g_autofree char *path = g_build_filename (dirs->root, "list.csv", NULL);
  g_autoptr(MrTemplate) template_ = write_template (dirs, TRUE);
  g_autoptr(MrProofReport) report = NULL;
  g_autoptr(GError) error = NULL;

  mr_test_write_file (path, "email,name\nann@example.org,Ann\nbob@example.org,\n");
  report = mr_proofread (template_, path, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (problem_at (report, 3, "empty-variable")->severity, ==, MR_PROBLEM_ERROR);
  g_assert_cmpuint (report->sendable, ==, 1);
  g_assert_cmpuint (report->rows_with_errors, ==, 1);
}

static void
test_cli (MrTestDirs    *dirs,
          gconstpointer  data)
{
  g_autofree char *template_path = g_build_filename (dirs->root, "invite.json", NULL);
  g_autofree char *bad = g_build_filename (dirs->root, "bad.csv", NULL);
  g_autofree char *good = g_build_filename (dirs->root, "good.csv", NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(MrTemplate) template_ = write_template (dirs, FALSE);
  g_autoptr(JsonNode) report = NULL;
  JsonObject *object;

  g_assert_true (g_file_set_contents (bad, mistakes, -1, NULL));
  /* Short, and so Windows-1252 throughout: row 7 reads as "Müller". */
  g_assert_cmpint (mr_test_run_cli (&out, &err, "mailshot", "check", "--template", template_path, "--recipients", bad,
                                    "--json", NULL), ==, 65);
  report = json_from_string (out, NULL);
  g_assert_nonnull (report);
  object = json_node_get_object (report);
  g_assert_cmpint (json_object_get_int_member (object, "rows"), ==, 7);
  g_assert_cmpint (json_object_get_int_member (object, "rows_with_errors"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (object, "sendable"), ==, 4);
  g_assert_cmpstr (json_object_get_string_member (object, "address_column"), ==, "E-Mail");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (mr_test_run_cli (&out, &err, "mailshot", "check", "--template", template_path, "--recipients", bad, NULL),
                   ==, 65);
  g_assert_nonnull (strstr (out, "“bob@” is not an email address"));
  g_assert_nonnull (strstr (out, "7 rows: 4 to send, 2 with errors"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  mr_test_write_file (good, "email,name,city,date\nann@example.org,Ann,Bern,1 May\n");
  g_assert_cmpint (mr_test_run_cli (&out, &err, "mailshot", "check", "--template", template_path, "--recipients", good, NULL),
                   ==, 0);
  g_assert_nonnull (strstr (out, "1 row: 1 to send, 0 with errors, 0 warnings"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (mr_test_run_cli (&out, &err, "mailshot", "check", "--template", template_path, NULL), ==, 64);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (mr_test_run_cli (&out, &err, "mailshot", "check", "--template", template_path, "--recipients",
                                    "/nonexistent.csv", NULL), ==, 66);
}

int
main (int    argc,
      char **argv)
{
  mr_test_init (&argc, &argv);

#define ADD(path, func) g_test_add (path, MrTestDirs, NULL, mr_test_dirs_setup, func, mr_test_dirs_teardown)
  ADD ("/mailshot/proofreader", test_proofreader);
  ADD ("/mailshot/strict", test_strict);
  ADD ("/mailshot/cli-check", test_cli);
#undef ADD

  return g_test_run ();
}
