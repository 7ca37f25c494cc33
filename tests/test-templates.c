/* test-templates.c: template files, rendering, and the MIME messages they become */

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "mr-error.h"
#include "mr-settings.h"
#include "mr-settings-error.h"
#include "mr-proofreader.h"
#include "mr-signature.h"
#include "mr-template.h"
#include "mr-test-utils.h"

static char *
write_template (const char *dir,
                const char *file,
                const char *json)
{
  char *path = g_build_filename (dir, file, NULL);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  mr_test_write_file (path, json);
  return path;
}

static JsonNode *
data_of (const char *json)
{
  g_autoptr(GError) error = NULL;
  JsonNode *node = json_from_string (json, &error);

  g_assert_no_error (error);
  return node;
}

/* Parses a built message with Python's email package and returns its report. */
static JsonNode *
parse_message (MrTestDirs *dirs,
               GBytes     *message)
{
  g_autofree char *path = g_build_filename (dirs->root, "message.eml", NULL);
  g_autofree char *checker = g_build_filename (g_getenv ("MAILROOM_TOP_SRCDIR"), "tests", "servers", "check-message.py", NULL);
  const char *argv[] = { "/usr/bin/python3", checker, path, NULL };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  int status = 0;
  JsonNode *report;

  g_assert_true (g_file_set_contents (path, g_bytes_get_data (message, NULL), g_bytes_get_size (message), NULL));
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, &error);
  g_assert_no_error (error);
  if (status != 0)
    g_error ("check-message.py: %s", err);
  report = json_from_string (out, &error);
  g_assert_no_error (error);
  return report;
}

static void
assert_clean (JsonNode *report)
{
  JsonObject *r = json_node_get_object (report);

  if (json_array_get_length (json_object_get_array_member (r, "defects")) != 0)
    g_error ("defects: %s", json_to_string (report, TRUE));
  g_assert_cmpint (json_object_get_int_member (r, "longest_line"), <=, 998);
  g_assert_false (json_object_get_boolean_member (r, "bare_lf"));
}

static void
test_render (MrTestDirs    *dirs,
             gconstpointer  data)
{
  g_autofree char *personal = g_build_filename (dirs->data_home, "mailroom", "templates", NULL);
  g_autofree char *shared_partials = g_build_filename (dirs->company_templates, "partials", NULL);
  g_autofree char *signature = g_build_filename (shared_partials, "signature.mustache", NULL);
  g_autofree char *path = NULL;
  g_autoptr(MrTemplate) template_ = NULL;
  g_autoptr(JsonNode) values = data_of ("{\"number\": 42, \"customer\": {\"name\": \"Müller & Söhne <GmbH>\"}, "
                                        "\"items\": [{\"what\": \"Desk\"}, {\"what\": \"Chair\"}]}");
  g_autoptr(MrRendered) rendered = NULL;
  g_autoptr(GPtrArray) variables = NULL;
  g_autoptr(GError) error = NULL;

  g_mkdir_with_parents (shared_partials, 0755);
  mr_test_write_file (signature, "-- \nExample Ltd");
  path = write_template (personal, "quote.json",
                         "{\"schema_version\": 1, \"name\": \"Quote\", \"subject\": \"Quote {{number}} for {{customer.name}}\","
                         " \"text\": \"Dear {{customer.name}},\\n{{#items}}- {{what}}\\n{{/items}}{{missing}}\\n{{> signature}}\","
                         " \"html\": \"<p>Dear {{customer.name}}</p><p>{{> thanks}}</p>\","
                         " \"partials\": {\"thanks\": \"Thank you, {{customer.name}}!\"}}");

  template_ = mr_template_find ("Quote", &error);
  g_assert_no_error (error);
  g_assert_cmpint (template_->scope, ==, MR_TEMPLATE_SCOPE_PERSONAL);
  g_assert_cmpstr (template_->route, ==, "auto");

  rendered = mr_template_render (template_, values, &error);
  g_assert_no_error (error);
  /* The subject and the text verbatim, the HTML escaped; partials from the template and the company. */
  g_assert_cmpstr (rendered->subject, ==, "Quote 42 for Müller & Söhne <GmbH>");
  g_assert_cmpstr (rendered->text, ==, "Dear Müller & Söhne <GmbH>,\n- Desk\n- Chair\n\n-- \nExample Ltd");
  g_assert_cmpstr (rendered->html, ==, "<p>Dear Müller &amp; Söhne &lt;GmbH&gt;</p><p>Thank you, Müller &amp; Söhne &lt;GmbH&gt;!</p>");
  g_assert_cmpuint (rendered->missing->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (rendered->missing, 0), ==, "missing");

  variables = mr_template_list_variables (template_, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (variables->len, ==, 5);

  /* Strict: the same data is refused. */
  template_->strict = TRUE;
  g_clear_pointer (&rendered, mr_rendered_free);
  g_assert_null (mr_template_render (template_, values, &error));
  g_assert_error (error, MR_TEMPLATE_ERROR, MR_TEMPLATE_ERROR_MISSING_VARIABLE);
  g_assert_nonnull (strstr (error->message, "missing"));
}

static void
test_errors (MrTestDirs    *dirs,
             gconstpointer  data)
{
  static const struct { const char *json; const char *says; int code; } cases[] = {
    { "{\"schema_version\": 1, \"name\": \"Broken\", \"subject\": \"x\", \"html\": \"<p>\\n<ul>\\n  {{#items}}<li>\\n</ul>\"}",
      "Broken, HTML: Line 3, column 3: the section “items” is never closed", MR_TEMPLATE_ERROR_SYNTAX },
    { "{\"schema_version\": 1, \"name\": \"Bad subject\", \"subject\": \"{{#a}}\", \"text\": \"x\"}",
      "Bad subject, subject: Line 1, column 1", MR_TEMPLATE_ERROR_SYNTAX },
  };
  static const struct { const char *json; const char *says; } invalid[] = {
    { "{\"schema_version\": 1, \"subject\": \"x\", \"text\": \"x\"}", "needs a “name”" },
    { "{\"schema_version\": 1, \"name\": \"No body\"}", "“text” or an “html” body" },
    { "{\"schema_version\": 1, \"name\": \"x\", \"text\": \"x\", \"route\": \"pigeon\"}", "smtp, exchange or auto" },
    { "{\"schema_version\": 7, \"name\": \"x\", \"text\": \"x\"}", "schema_version" },
    { "{\"schema_version\": 1, \"name\": \"x\", \"text\": \"x\", \"attachments\": [{\"name\": \"a\\nb\", \"path\": \"f\"}]}", "line break" },
    { "{\"schema_version\": 1, \"name\": \"x\", ", "" },
    { "{\"schema_version\": 1, \"name\": \"x\", \"text\": \"x\", \"signature\": \"no\"}", "“signature” must be true or false" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = write_template (dirs->root, "t.json", cases[i].json);
      g_autoptr(MrTemplate) template_ = mr_template_load (path, NULL);
      g_autoptr(GError) error = NULL;

      g_assert_nonnull (template_);
      g_assert_null (mr_template_render (template_, NULL, &error));
      g_assert_error (error, MR_TEMPLATE_ERROR, cases[i].code);
      if (strstr (error->message, cases[i].says) == NULL)
        g_error ("The message does not say “%s”: %s", cases[i].says, error->message);
      g_assert_cmpint (mr_error_get_exit_status (error), ==, 65);
    }

  /* Whitespace or a comment only, and nesting 100,000 deep: said plainly, never a crash or a
   * critical. */
  {
    GString *deep = g_string_new ("{\"schema_version\": 1, \"name\": \"x\", \"partials\": ");
    const char *says[] = { "empty", "empty", "nested more than 64 levels deep" };
    char *odd[3];

    for (guint i = 0; i < 100000; i++)
      g_string_append (deep, "{\"a\": ");
    g_string_append (deep, "1");
    for (guint i = 0; i < 100001; i++)
      g_string_append_c (deep, '}');
    odd[0] = g_strdup ("  \n\n ");
    odd[1] = g_strdup ("/* a template to come */\n");
    odd[2] = g_string_free (deep, FALSE);
    for (guint i = 0; i < G_N_ELEMENTS (odd); i++)
      {
        g_autofree char *path = write_template (dirs->root, "odd.json", odd[i]);
        g_autoptr(GError) error = NULL;

        g_assert_null (mr_template_load (path, &error));
        g_assert_error (error, MR_TEMPLATE_ERROR, MR_TEMPLATE_ERROR_INVALID);
        if (strstr (error->message, says[i]) == NULL)
          g_error ("Odd template %u: the message does not say “%s”: %s", i, says[i], error->message);
        g_free (odd[i]);
      }
  }

  for (guint i = 0; i < G_N_ELEMENTS (invalid); i++)
    {
      g_autofree char *path = write_template (dirs->root, "t.json", invalid[i].json);
      g_autoptr(GError) error = NULL;

      g_assert_null (mr_template_load (path, &error));
      g_assert_error (error, MR_TEMPLATE_ERROR, MR_TEMPLATE_ERROR_INVALID);
      g_assert_nonnull (strstr (error->message, path));
      if (strstr (error->message, invalid[i].says) == NULL)
        g_error ("The message does not say “%s”: %s", invalid[i].says, error->message);
    }

  {
    g_autoptr(GError) error = NULL;
    g_assert_null (mr_template_find ("No such template", &error));
    g_assert_error (error, MR_TEMPLATE_ERROR, MR_TEMPLATE_ERROR_NOT_FOUND);
    g_assert_cmpint (mr_error_get_exit_status (error), ==, 66);
  }
}

static void
test_header_injection (MrTestDirs    *dirs,
                       gconstpointer  data)
{
  g_autofree char *path = write_template (dirs->root, "t.json",
                                          "{\"schema_version\": 1, \"name\": \"Inject\", \"subject\": \"Hello {{name}}\", \"text\": \"x\"}");
  g_autoptr(MrTemplate) template_ = mr_template_load (path, NULL);
  g_autoptr(JsonNode) values = data_of ("{\"name\": \"Bob\\r\\nBcc: everyone@example.org\"}");
  g_autoptr(GError) error = NULL;

  g_assert_null (mr_template_render (template_, values, &error));
  g_assert_error (error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_INVALID_VALUE);
}

static MrOutgoing *
outgoing_for (MrTemplate *template_,
              JsonNode   *values)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MrRendered) rendered = mr_template_render (template_, values, &error);
  MrOutgoing *outgoing = mr_outgoing_new ();

  g_assert_no_error (error);
  outgoing->from_name = g_strdup ("Büro Müller");
  outgoing->from_address = g_strdup ("office@example.com");
  g_ptr_array_add (outgoing->to, g_strdup ("ann@example.org"));
  g_assert_true (mr_template_fill_outgoing (template_, rendered, outgoing, &error));
  g_assert_no_error (error);
  return outgoing;
}

static void
test_mime_structures (MrTestDirs    *dirs,
                      gconstpointer  data)
{
  static const struct { const char *body; const char *attachments; const char *structure; } cases[] = {
    { "\"text\": \"Hello\"", "[]", "text/plain" },
    { "\"html\": \"<p>Hello <a href=\\\"https://example.com\\\">there</a></p><ul><li>one</li></ul>\"", "[]",
      "multipart/alternative[text/plain,text/html]" },
    { "\"text\": \"Hello\", \"html\": \"<p>Hello <img src=\\\"cid:logo\\\"></p>\"",
      "[{\"path\": \"logo.png\", \"content_id\": \"logo\"}]",
      "multipart/alternative[text/plain,multipart/related[text/html,image/png]]" },
    { "\"text\": \"Hello\", \"html\": \"<p>Hi <img src=\\\"cid:logo\\\"></p>\"",
      "[{\"path\": \"logo.png\", \"content_id\": \"logo\"}, {\"path\": \"Prüfbericht März.pdf\"}]",
      "multipart/mixed[multipart/alternative[text/plain,multipart/related[text/html,image/png]],application/pdf]" },
    { "\"text\": \"Hello\"", "[{\"path\": \"Prüfbericht März.pdf\", \"name\": \"Bericht für Sie.pdf\"}]",
      "multipart/mixed[text/plain,application/pdf]" },
  };
  g_autofree char *logo = g_build_filename (dirs->root, "logo.png", NULL);
  g_autofree char *pdf = g_build_filename (dirs->root, "Prüfbericht März.pdf", NULL);

  mr_test_write_file (logo, "\x89PNG\r\n\x1a\nnot really a picture");
  mr_test_write_file (pdf, "%PDF-1.4\n% a test document\n");

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *json = g_strdup_printf ("{\"schema_version\": 1, \"name\": \"Case %u\", \"subject\": \"Grüße, {{who}}\", %s, "
                                               "\"attachments\": %s}", i, cases[i].body, cases[i].attachments);
      g_autofree char *path = write_template (dirs->root, "t.json", json);
      g_autoptr(MrTemplate) template_ = mr_template_load (path, NULL);
      g_autoptr(JsonNode) values = data_of ("{\"who\": \"Jürgen\"}");
      g_autoptr(MrOutgoing) outgoing = outgoing_for (template_, values);
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) message = mr_outgoing_build (outgoing, NULL, &error);
      g_autoptr(JsonNode) report = NULL;
      JsonObject *r;

      g_assert_no_error (error);
      report = parse_message (dirs, message);
      assert_clean (report);
      r = json_node_get_object (report);
      g_assert_cmpstr (json_object_get_string_member (r, "structure"), ==, cases[i].structure);
      g_assert_cmpstr (json_object_get_string_member (r, "subject"), ==, "Grüße, Jürgen");
      g_assert_cmpstr (json_object_get_string_member (r, "from_display"), ==, "Büro Müller");

      if (i == 1)
        {
          /* The text part derived from the HTML keeps the link and the list. */
          const char *text = json_object_get_string_member (json_array_get_object_element (json_object_get_array_member (r, "parts"), 0), "text");
          g_assert_nonnull (strstr (text, "Hello there <https://example.com>"));
          g_assert_nonnull (strstr (text, "• one"));
        }
      if (i == 3 || i == 4)
        {
          JsonArray *attached = json_object_get_array_member (r, "attachments");
          JsonObject *last = json_array_get_object_element (attached, json_array_get_length (attached) - 1);

          g_assert_cmpstr (json_object_get_string_member (last, "filename"), ==, i == 3 ? "Prüfbericht März.pdf" : "Bericht für Sie.pdf");
          g_assert_cmpstr (json_object_get_string_member (last, "disposition"), ==, "attachment");
          g_assert_cmpint (json_object_get_int_member (last, "size"), ==, 27);
        }
      if (i == 2)
        {
          JsonObject *image = json_array_get_object_element (json_object_get_array_member (r, "attachments"), 0);
          g_assert_cmpstr (json_object_get_string_member (image, "content_id"), ==, "<logo>");
          g_assert_cmpstr (json_object_get_string_member (image, "disposition"), ==, "inline");
        }
    }
}

static void
test_big_attachment (MrTestDirs    *dirs,
                     gconstpointer  data)
{
  g_autofree char *big = g_build_filename (dirs->root, "big.bin", NULL);
  g_autoptr(MrOutgoing) outgoing = mr_outgoing_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) message = NULL;
  g_autoptr(JsonNode) report = NULL;
  g_autofree guint8 *content = g_malloc (10 * 1024 * 1024);
  JsonObject *attachment;

  for (gsize i = 0; i < 10 * 1024 * 1024; i++)
    content[i] = (guint8) (i * 2654435761u >> 13);
  g_assert_true (g_file_set_contents (big, (const char *) content, 10 * 1024 * 1024, NULL));

  outgoing->from_address = g_strdup ("office@example.com");
  g_ptr_array_add (outgoing->to, g_strdup ("ann@example.org"));
  outgoing->subject = g_strdup ("Ten megabytes");
  outgoing->text_body = g_strdup ("See the attachment.\n");
  mr_outgoing_add_attachment (outgoing, big, NULL, NULL);
  message = mr_outgoing_build (outgoing, NULL, &error);
  g_assert_no_error (error);
  /* base64: a third more than the file, which is what SIZE compares. */
  g_assert_cmpuint (g_bytes_get_size (message), >, 13 * 1024 * 1024);

  report = parse_message (dirs, message);
  assert_clean (report);
  attachment = json_array_get_object_element (json_object_get_array_member (json_node_get_object (report), "attachments"), 0);
  g_assert_cmpint (json_object_get_int_member (attachment, "size"), ==, 10 * 1024 * 1024);
}

/* The Date and the boundaries are each message's own; the rest must be the same bytes. */
static char *
comparable (GBytes *message)
{
  g_autoptr(GRegex) date = g_regex_new ("^Date: [^\r]*\r\n", G_REGEX_MULTILINE, 0, NULL);
  g_autoptr(GRegex) boundary = g_regex_new ("=-[0-9a-f]{32}", 0, 0, NULL);
  g_autofree char *text = g_strndup (g_bytes_get_data (message, NULL), g_bytes_get_size (message));
  g_autofree char *no_date = g_regex_replace_literal (date, text, -1, 0, "", 0, NULL);

  return g_regex_replace_literal (boundary, no_date, -1, 0, "BOUNDARY", 0, NULL);
}

static MrOutgoing *
builder_case (const char *pdf,
              guint       variant)
{
  MrOutgoing *outgoing = mr_outgoing_new ();

  outgoing->from_address = g_strdup ("office@example.com");
  outgoing->from_name = g_strdup (variant % 2 ? "Büro Müller" : "Office");
  g_ptr_array_add (outgoing->to, g_strdup_printf ("person%u@example.org", variant));
  outgoing->to_name = variant % 3 ? g_strdup_printf ("Jürgen %u", variant) : NULL;
  outgoing->subject = g_strdup_printf ("Grüße, Nummer %u", variant);
  outgoing->text_body = variant == 4 ? NULL : g_strdup_printf ("Hello %u,\nsee the file.\n", variant);
  outgoing->html_body = variant == 2 ? NULL : g_strdup_printf ("<p>Hallo %u, <b>Zürich</b></p>", variant);
  outgoing->message_id = g_strdup_printf ("case%u@example.com", variant);
  if (variant != 2)
    {
      g_ptr_array_add (outgoing->cc, g_strdup (variant == 1 ? "boss@example.com" : "team@example.com"));
      outgoing->reply_to = g_strdup ("replies@example.com");
      outgoing->list_unsubscribe = g_strdup_printf ("<https://example.com/u/%u>", variant);
      outgoing->list_unsubscribe_post = TRUE;
      mr_outgoing_add_attachment (outgoing, pdf, NULL, NULL);
    }
  return outgoing;
}

static void
test_builder_reuse (MrTestDirs    *dirs,
                    gconstpointer  data)
{
  g_autofree char *pdf = g_build_filename (dirs->root, "terms.pdf", NULL);
  g_autoptr(MrMessageBuilder) builder = mr_message_builder_new ();
  /* One shape twice, another, a derived text, the first again: each as a fresh build gives it. */
  static const guint variants[] = { 0, 1, 2, 3, 4, 1 };

  mr_test_write_file (pdf, "%PDF-1.4\n% terms and conditions\n");
  for (guint i = 0; i < G_N_ELEMENTS (variants); i++)
    {
      g_autoptr(MrOutgoing) outgoing = builder_case (pdf, variants[i]);
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) kept = mr_message_builder_build (builder, outgoing, NULL, &error);
      g_autoptr(GBytes) fresh = NULL;
      g_autofree char *kept_text = NULL;
      g_autofree char *fresh_text = NULL;
      g_autoptr(JsonNode) report = NULL;

      g_assert_no_error (error);
      fresh = mr_outgoing_build (outgoing, NULL, &error);
      g_assert_no_error (error);
      kept_text = comparable (kept);
      fresh_text = comparable (fresh);
      g_assert_cmpstr (kept_text, ==, fresh_text);
      report = parse_message (dirs, kept);
      assert_clean (report);
    }

  /* A failed message leaves the builder usable. */
  {
    g_autoptr(MrOutgoing) bad = builder_case (pdf, 0);
    g_autoptr(MrOutgoing) good = builder_case (pdf, 3);
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) message = NULL;
    g_autofree char *text = NULL;

    g_ptr_array_add (bad->to, g_strdup ("not an address"));
    g_assert_null (mr_message_builder_build (builder, bad, NULL, &error));
    g_assert_error (error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_INVALID_VALUE);
    g_clear_error (&error);
    g_free (((MrAttachment *) g_ptr_array_index (bad->attachments, 0))->path);
    ((MrAttachment *) g_ptr_array_index (bad->attachments, 0))->path = g_strdup ("/nonexistent/terms.pdf");
    g_ptr_array_remove_index (bad->to, 1);
    g_assert_null (mr_message_builder_build (builder, bad, NULL, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
    g_clear_error (&error);

    message = mr_message_builder_build (builder, good, NULL, &error);
    g_assert_no_error (error);
    text = comparable (message);
    g_assert_nonnull (strstr (text, "To: person3@example.org\r\n"));
    g_assert_nonnull (strstr (text, "Hello 3,"));
    g_assert_null (strstr (text, "person0"));
  }
}

static void
test_missing_attachment (MrTestDirs    *dirs,
                         gconstpointer  data)
{
  g_autoptr(MrOutgoing) outgoing = mr_outgoing_new ();
  g_autoptr(GError) error = NULL;

  outgoing->from_address = g_strdup ("office@example.com");
  g_ptr_array_add (outgoing->to, g_strdup ("ann@example.org"));
  outgoing->text_body = g_strdup ("x");
  mr_outgoing_add_attachment (outgoing, "/nonexistent/invoice.pdf", NULL, NULL);
  g_assert_null (mr_outgoing_build (outgoing, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "/nonexistent/invoice.pdf"));
}

static void
test_import_export_and_scopes (MrTestDirs    *dirs,
                               gconstpointer  data)
{
  g_autofree char *source_dir = g_build_filename (dirs->root, "source", NULL);
  g_autofree char *pdf = g_build_filename (source_dir, "terms.pdf", NULL);
  g_autofree char *exported = g_build_filename (dirs->root, "exported.json", NULL);
  g_autofree char *path = NULL;
  g_autoptr(MrTemplate) original = NULL;
  g_autoptr(MrTemplate) imported = NULL;
  g_autoptr(MrTemplate) again = NULL;
  g_autoptr(MrTemplate) found = NULL;
  g_autoptr(GPtrArray) all = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *copied = NULL;

  g_mkdir_with_parents (source_dir, 0755);
  mr_test_write_file (pdf, "%PDF-1.4 terms");
  path = write_template (source_dir, "offer.json",
                         "{\"schema_version\": 1, \"name\": \"Offer\", \"subject\": \"Offer\", \"text\": \"See the terms.\","
                         " \"attachments\": [{\"path\": \"terms.pdf\", \"name\": \"Terms.pdf\"}]}");
  original = mr_template_load (path, &error);
  g_assert_no_error (error);
  g_assert_true (mr_template_export (original, exported, &error));
  g_assert_no_error (error);

  /* The export stands alone: the source folder can go. */
  g_unlink (pdf);
  g_unlink (path);
  g_rmdir (source_dir);

  imported = mr_template_import (exported, &error);
  g_assert_no_error (error);
  g_assert_cmpint (imported->scope, ==, MR_TEMPLATE_SCOPE_PERSONAL);
  copied = mr_test_read_file (((MrTemplateAttachment *) g_ptr_array_index (imported->attachments, 0))->path);
  g_assert_cmpstr (copied, ==, "%PDF-1.4 terms");

  g_assert_null (mr_template_import (exported, &error));
  g_assert_error (error, MR_TEMPLATE_ERROR, MR_TEMPLATE_ERROR_INVALID);
  g_clear_error (&error);

  /* A company template of the same name: the person's own wins for them, both are listed. */
  g_free (write_template (dirs->company_templates, "offer.json",
                          "{\"schema_version\": 1, \"name\": \"Offer\", \"subject\": \"Company offer\", \"text\": \"x\"}"));
  g_free (write_template (dirs->company_templates, "agenda.json",
                          "{\"schema_version\": 1, \"name\": \"Agenda\", \"subject\": \"Agenda\", \"text\": \"x\"}"));
  found = mr_template_find ("Offer", &error);
  g_assert_no_error (error);
  g_assert_cmpint (found->scope, ==, MR_TEMPLATE_SCOPE_PERSONAL);
  all = mr_template_list (&error);
  g_assert_cmpuint (all->len, ==, 3);
  g_assert_cmpstr (((MrTemplate *) g_ptr_array_index (all, 0))->name, ==, "Agenda");

  /* Found again by its file, too. */
  again = mr_template_find (imported->path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (again->name, ==, "Offer");
}

static MrTemplateAttachment *
attachment_at (MrTemplate *template_,
               guint       index)
{
  g_assert_cmpuint (index, <, template_->attachments->len);
  return g_ptr_array_index (template_->attachments, index);
}

/* What "Save as Template" in the compose pane does: a personal template with copies of its files. */
static void
test_save_personal (MrTestDirs    *dirs,
                    gconstpointer  data)
{
  g_autofree char *pdf = g_build_filename (dirs->root, "Preisliste.pdf", NULL);
  g_autofree char *other = g_build_filename (dirs->root, "agb.pdf", NULL);
  g_autofree char *personal = mr_template_get_personal_dir ();
  g_autofree char *copied = NULL;
  g_autoptr(MrTemplate) template_ = mr_template_new ();
  g_autoptr(MrTemplate) twin = mr_template_new ();
  g_autoptr(MrTemplate) found = NULL;
  g_autoptr(MrTemplate) nameless = mr_template_new ();
  g_autoptr(MrRendered) rendered = NULL;
  g_autoptr(JsonNode) values = data_of ("{\"name\": \"Ann\", \"number\": 7}");
  g_autoptr(GPtrArray) variables = NULL;
  g_autoptr(GError) error = NULL;
  MrTemplateAttachment *attachment = g_new0 (MrTemplateAttachment, 1);
  g_autofree char *first_path = NULL;

  mr_test_write_file (pdf, "%PDF-1.4 prices");
  mr_test_write_file (other, "%PDF-1.4 terms");
  template_->name = g_strdup ("  Invoice 7  ");
  g_free (template_->subject);
  template_->subject = g_strdup ("Invoice {{number}}");
  template_->html = g_strdup ("<p>Dear {{name}}, invoice {{number}} is attached.</p>");
  attachment->path = g_strdup (pdf);
  g_ptr_array_add (template_->attachments, attachment);

  g_assert_true (mr_template_save_personal (template_, FALSE, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (template_->name, ==, "Invoice 7");
  g_assert_cmpint (template_->scope, ==, MR_TEMPLATE_SCOPE_PERSONAL);
  g_assert_true (g_str_has_prefix (template_->path, personal));
  first_path = g_strdup (template_->path);

  /* The template keeps working when the file it was made from goes. */
  g_unlink (pdf);
  found = mr_template_find ("Invoice 7", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (found->html, ==, "<p>Dear {{name}}, invoice {{number}} is attached.</p>");
  copied = mr_test_read_file (attachment_at (found, 0)->path);
  g_assert_cmpstr (copied, ==, "%PDF-1.4 prices");
  variables = mr_template_list_variables (found, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (variables->len, ==, 2);
  rendered = mr_template_render (found, values, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (rendered->subject, ==, "Invoice 7");

  /* Saving over it needs consent; replacing swaps the attachments and drops the old copy. */
  g_assert_false (mr_template_save_personal (found, FALSE, &error));
  g_assert_error (error, MR_TEMPLATE_ERROR, MR_TEMPLATE_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "Invoice 7"));
  g_clear_error (&error);
  g_clear_pointer (&copied, g_free);
  copied = g_strdup (attachment_at (found, 0)->path);
  g_free (attachment_at (found, 0)->path);
  attachment_at (found, 0)->path = g_strdup (other);
  g_assert_true (mr_template_save_personal (found, TRUE, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (found->path, ==, first_path);
  g_assert_false (g_file_test (copied, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (attachment_at (found, 0)->path, G_FILE_TEST_EXISTS));

  /* A name that differs only in punctuation gets its own file, not the other's. */
  twin->name = g_strdup ("invoice-7");
  twin->text = g_strdup ("x");
  g_assert_true (mr_template_save_personal (twin, FALSE, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (twin->path, !=, first_path);
  g_clear_pointer (&found, mr_template_free);
  found = mr_template_find ("Invoice 7", &error);
  g_assert_no_error (error);
  g_assert_nonnull (found->html);

  /* No name, no template. */
  nameless->name = g_strdup ("   ");
  g_assert_false (mr_template_save_personal (nameless, FALSE, &error));
  g_assert_error (error, MR_TEMPLATE_ERROR, MR_TEMPLATE_ERROR_INVALID);
}

static void
test_cli (MrTestDirs    *dirs,
          gconstpointer  data)
{
  g_autofree char *path = write_template (dirs->company_templates, "invite.json",
                                          "{\"schema_version\": 1, \"name\": \"Invite\", \"subject\": \"Invitation for {{name}}\","
                                          " \"html\": \"<p>Dear {{name}}, see you on {{date}}.</p>\", \"strict\": true}");
  g_autofree char *data_file = g_build_filename (dirs->root, "data.json", NULL);
  const char *cli = g_getenv ("MAILROOM_CLI");
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = 0;

  mr_test_write_file (data_file, "{\"name\": \"Ann\"}");

  {
    const char *argv[] = { cli, "templates", "list", NULL };
    g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, NULL);
    g_assert_true (g_spawn_check_wait_status (status, NULL));
    g_assert_nonnull (strstr (out, "Invite\tcompany"));
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
  }
  {
    /* Strict, and "date" is missing: 65, naming it. */
    const char *argv[] = { cli, "--json", "render", "Invite", "--data", data_file, NULL };
    g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, NULL);
    g_assert_cmpint (WEXITSTATUS (status), ==, 65);
    g_assert_nonnull (strstr (out, "missing-variable"));
    g_assert_nonnull (strstr (out, "date"));
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
  }
  {
    const char *argv[] = { cli, "render", "Invite", "--data", data_file, "--var", "date=Friday", "--mime", "--to", "ann@example.org", NULL };
    g_autoptr(GBytes) message = NULL;
    g_autoptr(JsonNode) report = NULL;

    g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, NULL);
    g_assert_true (g_spawn_check_wait_status (status, NULL));
    message = g_bytes_new (out, strlen (out));
    report = parse_message (dirs, message);
    assert_clean (report);
    g_assert_cmpstr (json_object_get_string_member (json_node_get_object (report), "subject"), ==, "Invitation for Ann");
    g_assert_cmpstr (json_object_get_string_member (json_node_get_object (report), "structure"), ==,
                     "multipart/alternative[text/plain,text/html]");
  }
  {
    const char *argv[] = { cli, "render", "Nope", NULL };
    g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL, &status, NULL);
    g_assert_cmpint (WEXITSTATUS (status), ==, 66);
  }
  {
    /* Data nested 100,000 deep: 65 and the limit named, where the parser's recursion crashed. */
    GString *deep = g_string_new ("{\"name\": ");
    const char *argv[] = { cli, "--json", "render", "Invite", "--data", data_file, "--var", "date=Friday", NULL };

    for (guint i = 0; i < 100000; i++)
      g_string_append (deep, "{\"a\": ");
    g_string_append (deep, "1");
    for (guint i = 0; i < 100001; i++)
      g_string_append_c (deep, '}');
    mr_test_write_file (data_file, deep->str);
    g_string_free (deep, TRUE);
    g_clear_pointer (&out, g_free);
    g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, NULL, &status, NULL);
    g_assert_true (WIFEXITED (status));
    g_assert_cmpint (WEXITSTATUS (status), ==, 65);
    g_assert_nonnull (strstr (out, "nested more than 64 levels deep"));
  }
}

/* Pictures the editor puts in as data: URIs go as inline parts: each once however often it is
 * shown, kept under its checksum in the cache folder, the HTML pointing at it by cid:. */
static void
test_embed_images (MrTestDirs    *dirs,
                   gconstpointer  data)
{
  static const char png[] = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
  g_autofree char *path = g_build_filename (dirs->root, "logo.json", NULL);
  g_autofree char *json = g_strdup_printf ("{\"schema_version\": 1, \"name\": \"Logo\", \"subject\": \"S\","
                                           " \"html\": \"<p><img src=\\\"data:image/png;base64,%s\\\" alt=\\\"Logo\\\"></p>"
                                           "<p>{{name}}</p><p><img src=\\\"data:image/png;base64,%s\\\"></p>\"}", png, png);
  g_autoptr(MrTemplate) template_ = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(MrOutgoing) outgoing = NULL;
  g_autoptr(GBytes) message = NULL;
  g_autoptr(MrMessageSummary) summary = NULL;
  g_autoptr(JsonNode) values = NULL;
  g_autofree char *cache = NULL;
  MrAttachment *inline_part;
  const char *first, *second;

  mr_test_write_file (path, json);
  template_ = mr_template_load (path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (template_->html, "data:image/png;base64,"));
  values = data_of ("{\"name\": \"Ann\"}");
  outgoing = outgoing_for (template_, values);
  g_assert_null (strstr (outgoing->html_body, "data:"));
  g_assert_cmpuint (outgoing->attachments->len, ==, 1);
  inline_part = g_ptr_array_index (outgoing->attachments, 0);
  g_assert_true (g_str_has_suffix (inline_part->content_id, "@mailroom"));
  first = strstr (outgoing->html_body, "cid:");
  g_assert_nonnull (first);
  second = strstr (first + 4, "cid:");
  g_assert_nonnull (second);
  g_assert_cmpint (strncmp (first, second, 4 + strlen (inline_part->content_id)), ==, 0);
  cache = mr_get_user_cache_path ("inline");
  g_assert_true (g_str_has_prefix (inline_part->path, cache));
  g_assert_true (g_file_test (inline_part->path, G_FILE_TEST_IS_REGULAR));

  /* As a mail program shows it: one inline picture, not an attachment to list. */
  message = mr_outgoing_build (outgoing, NULL, &error);
  g_assert_no_error (error);
  summary = mr_message_summarize (message);
  g_assert_cmpuint (summary->attachments->len, ==, 1);
  g_assert_true (((MrMessageAttachment *) g_ptr_array_index (summary->attachments, 0))->inline_image);
  g_assert_cmpuint (((MrMessageAttachment *) g_ptr_array_index (summary->attachments, 0))->size, ==, 70);
  g_assert_nonnull (strstr (summary->html, "data:image/png;base64,"));

  /* Made inline parts of the template once (as a mailshot's worker does): its mails need nothing
   * more, and come out the same. */
  g_assert_true (mr_template_embed_images (template_, &error));
  g_assert_no_error (error);
  g_assert_null (strstr (template_->html, "data:"));
  g_assert_cmpuint (template_->attachments->len, ==, 1);
  g_assert_cmpstr (((MrTemplateAttachment *) g_ptr_array_index (template_->attachments, 0))->content_id, ==,
                   inline_part->content_id);
  g_assert_true (mr_template_embed_images (template_, &error));
  g_assert_cmpuint (template_->attachments->len, ==, 1);
  {
    g_autoptr(MrOutgoing) again = outgoing_for (template_, values);

    g_assert_cmpstr (again->html_body, ==, outgoing->html_body);
    g_assert_cmpuint (again->attachments->len, ==, 1);
    g_assert_cmpstr (((MrAttachment *) g_ptr_array_index (again->attachments, 0))->path, ==, inline_part->path);
  }
}

/* `user signature` and `company signature`: shown, set from standard input (text or HTML), removed. */
static void
test_signature_cli (MrTestDirs    *dirs,
                    gconstpointer  data)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(JsonNode) json = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (mr_test_run_cli (&out, &err, "user", "signature", NULL), ==, 0);
  g_assert_cmpstr (out, ==, "");
  g_assert_nonnull (strstr (err, "You have no signature"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* Text keeps its lines and is escaped; HTML is cleaned. */
  g_assert_cmpint (mr_test_run_cli_with_input ("Anna Müller\nSales & Support\n", &out, &err, "user", "signature", "--stdin", NULL), ==, 0);
  mr_assert_cmpstr_free (mr_signature_load (MR_SIGNATURE_PERSONAL, NULL), ==, "<p>Anna Müller<br>Sales &amp; Support</p>");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (mr_test_run_cli_with_input ("<p>Example Ltd<img src=\"https://tracker.example/x.png\"></p>", &out, &err,
                                       "company", "signature", "--stdin", NULL), ==, 0);
  mr_assert_cmpstr_free (mr_signature_load (MR_SIGNATURE_COMPANY, NULL), ==, "<p>Example Ltd</p>");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (mr_test_run_cli (&out, &err, "--json", "user", "signature", NULL), ==, 0);
  json = json_from_string (out, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (json), "text"), ==, "Anna Müller\nSales & Support\n");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* What render shows has both, the person's first. */
  {
    g_autofree char *personal = g_build_filename (dirs->data_home, "mailroom", "templates", NULL);
    g_autofree char *path = write_template (personal, "hello.json",
                                            "{\"schema_version\": 1, \"name\": \"Hello\", \"subject\": \"Hi\", \"text\": \"Hello\"}");

    g_assert_cmpint (mr_test_run_cli (&out, &err, "render", "Hello", NULL), ==, 0);
    g_assert_nonnull (strstr (out, "Hello\n\n-- \nAnna Müller\nSales & Support\nExample Ltd\n"));
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
  }

  g_assert_cmpint (mr_test_run_cli (&out, &err, "user", "signature", "--clear", NULL), ==, 0);
  g_assert_null (mr_signature_load (MR_SIGNATURE_PERSONAL, NULL));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (mr_test_run_cli (&out, &err, "user", "signature", "Anna", NULL), ==, 64);
  g_assert_nonnull (strstr (err, "--stdin"));
}

static MrTemplate *
note_template (void)
{
  MrTemplate *template_ = mr_template_new ();

  template_->name = g_strdup ("Note");
  template_->text = g_strdup ("Hello\n");
  template_->html = g_strdup ("<p>Hello</p>");
  return template_;
}

/* The person's signature and the company's go below every mail, the person's first, as HTML and
 * as text under "-- "; a template may say "no signature" or place one itself. */
static void
test_signatures (MrTestDirs    *dirs,
                 gconstpointer  data)
{
  g_autoptr(JsonNode) values = data_of ("{\"office\": \"Berlin\"}");
  g_autoptr(MrTemplate) template_ = note_template ();
  g_autoptr(MrRendered) rendered = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *stored = NULL;
  g_autofree char *path = NULL;

  /* None yet: nothing is added, and loading one is no error. */
  g_assert_null (mr_signature_load (MR_SIGNATURE_PERSONAL, &error));
  g_assert_no_error (error);
  rendered = mr_template_render (template_, values, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (rendered->text, ==, "Hello\n");
  g_assert_cmpstr (rendered->html, ==, "<p>Hello</p>");
  g_clear_pointer (&rendered, mr_rendered_free);

  /* Stored cleaned, where {{> my-signature}} and {{> signature}} find them. */
  g_assert_true (mr_signature_save (MR_SIGNATURE_PERSONAL, "<p onclick=\"x()\"><b>Anna Müller</b><br>Sales</p><script>alert(1)</script>", &error));
  g_assert_no_error (error);
  g_assert_true (mr_signature_save (MR_SIGNATURE_COMPANY, "<p>Example Ltd · {{office}}</p>", &error));
  g_assert_no_error (error);
  stored = mr_signature_load (MR_SIGNATURE_PERSONAL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (stored, ==, "<p><b>Anna Müller</b><br>Sales</p>");
  path = mr_signature_get_path (MR_SIGNATURE_COMPANY);
  g_assert_true (g_str_has_prefix (path, dirs->company_templates));
  g_assert_true (g_str_has_suffix (path, "/partials/signature.mustache"));
  mr_assert_cmpstr_free (mr_signature_summarize (stored), ==, "Anna Müller · Sales");
  mr_assert_cmpstr_free (mr_signature_summarize (NULL), ==, "");

  /* A template reads them once: a mailshot's mails all have those it started with. */
  rendered = mr_template_render (template_, values, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (rendered->html, ==, "<p>Hello</p>");
  g_clear_pointer (&rendered, mr_rendered_free);
  g_clear_pointer (&template_, mr_template_free);
  template_ = note_template ();

  /* Below the body, the person's first; the company's merge field filled. */
  rendered = mr_template_render (template_, values, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (rendered->text, ==, "Hello\n\n-- \nAnna Müller\nSales\nExample Ltd · Berlin\n");
  g_assert_cmpstr (rendered->html, ==, "<p>Hello</p>\n<br>\n<div><p><b>Anna Müller</b><br>Sales</p></div>\n<div><p>Example Ltd · Berlin</p></div>");
  g_clear_pointer (&rendered, mr_rendered_free);

  /* A field the row lacks is named as missing, as in the body. */
  rendered = mr_template_render (template_, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rendered->missing->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (rendered->missing, 0), ==, "office");
  g_clear_pointer (&rendered, mr_rendered_free);

  /* Placed by the template itself: there, and only there. */
  g_free (template_->html);
  template_->html = g_strdup ("<p>Hello</p>{{> my-signature}}<p>P.S. See you</p>");
  rendered = mr_template_render (template_, values, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mr_test_count (rendered->html, "Anna Müller"), ==, 1);
  g_assert_cmpuint (mr_test_count (rendered->html, "Example Ltd"), ==, 0);
  g_assert_true (g_str_has_suffix (rendered->html, "<p>P.S. See you</p>"));
  g_assert_cmpstr (rendered->text, ==, "Hello\n");
  g_clear_pointer (&rendered, mr_rendered_free);

  /* "No signature": kept through saving and loading, and nothing is added. */
  g_free (template_->html);
  template_->html = g_strdup ("<p>Hello</p>");
  template_->signature = FALSE;
  g_assert_true (mr_template_save_personal (template_, FALSE, &error));
  g_assert_no_error (error);
  {
    g_autoptr(MrTemplate) loaded = mr_template_find ("Note", &error);

    g_assert_no_error (error);
    g_assert_false (loaded->signature);
    rendered = mr_template_render (loaded, values, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (rendered->html, ==, "<p>Hello</p>");
    g_clear_pointer (&rendered, mr_rendered_free);
  }

  /* Emptied: removed, and gone from the mail. */
  g_assert_true (mr_signature_save (MR_SIGNATURE_PERSONAL, "<p> <br></p>", &error));
  g_assert_no_error (error);
  g_assert_null (mr_signature_load (MR_SIGNATURE_PERSONAL, &error));
  g_assert_no_error (error);
  g_clear_pointer (&template_, mr_template_free);
  template_ = note_template ();
  rendered = mr_template_render (template_, values, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (rendered->text, ==, "Hello\n\n-- \nExample Ltd · Berlin\n");
}

/* {{sender.name}} and {{sender.address}} are who the mail is from: the template's own From, else
 * the settings'; a row's own "sender" comes first; they are no column the list must have. */
static void
test_sender_fields (MrTestDirs    *dirs,
                    gconstpointer  data)
{
  g_autoptr(MrTemplate) template_ = mr_template_new ();
  g_autoptr(MrOutgoing) sender = mr_outgoing_new ();
  g_autoptr(JsonNode) values = data_of ("{\"first\": \"Ann\"}");
  g_autoptr(JsonNode) own = data_of ("{\"first\": \"Ann\", \"sender\": {\"name\": \"The row's\"}}");
  g_autoptr(MrRendered) rendered = NULL;
  g_autoptr(GPtrArray) variables = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *list = g_build_filename (dirs->root, "list.csv", NULL);

  template_->name = g_strdup ("Hello");
  g_free (template_->subject);
  template_->subject = g_strdup ("From {{sender.name}}");
  template_->html = g_strdup ("<p>Dear {{first}}, write to {{sender.address}}.</p>");
  sender->from_name = g_strdup ("Anna Müller");
  sender->from_address = g_strdup ("anna@example.com");

  rendered = mr_template_render_as (template_, values, sender, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (rendered->subject, ==, "From Anna Müller");
  g_assert_cmpstr (rendered->html, ==, "<p>Dear Ann, write to anna@example.com.</p>");
  g_assert_cmpuint (rendered->missing->len, ==, 0);
  g_clear_pointer (&rendered, mr_rendered_free);

  /* Without a sender they are empty, and named as missing. */
  rendered = mr_template_render (template_, values, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (rendered->subject, ==, "From ");
  g_assert_cmpuint (rendered->missing->len, ==, 2);
  g_clear_pointer (&rendered, mr_rendered_free);

  /* The row's own "sender" first; the template's own From before the settings'. */
  rendered = mr_template_render_as (template_, own, sender, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (rendered->subject, ==, "From The row's");
  g_clear_pointer (&rendered, mr_rendered_free);
  template_->from_name = g_strdup ("Billing");
  template_->from_address = g_strdup ("billing@example.com");
  rendered = mr_template_render_as (template_, values, sender, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (rendered->subject, ==, "From Billing");
  g_assert_cmpstr (rendered->html, ==, "<p>Dear Ann, write to billing@example.com.</p>");

  /* Not the template's variables, nor a column the proof-reader misses. */
  variables = mr_template_list_variables (template_, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (variables->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (variables, 0), ==, "first");
  mr_test_write_file (list, "email,first\nann@example.org,Ann\n");
  {
    g_autoptr(MrProofReport) report = mr_proofread (template_, list, NULL, NULL, NULL, &error);

    g_assert_no_error (error);
    for (guint i = 0; i < report->problems->len; i++)
      g_assert_cmpstr (((MrProblem *) g_ptr_array_index (report->problems, i))->kind, !=, "missing-column");
  }
}

int
main (int    argc,
      char **argv)
{
  mr_test_init (&argc, &argv);

#define ADD(path, func) g_test_add (path, MrTestDirs, NULL, mr_test_dirs_setup, func, mr_test_dirs_teardown)
  ADD ("/templates/render", test_render);
  ADD ("/templates/errors", test_errors);
  ADD ("/templates/header-injection", test_header_injection);
  ADD ("/templates/mime-structures", test_mime_structures);
  ADD ("/templates/big-attachment", test_big_attachment);
  ADD ("/templates/missing-attachment", test_missing_attachment);
  ADD ("/templates/builder-reuse", test_builder_reuse);
  ADD ("/templates/import-export-scopes", test_import_export_and_scopes);
  ADD ("/templates/save-personal", test_save_personal);
  ADD ("/templates/cli", test_cli);
  ADD ("/templates/embed-images", test_embed_images);
  ADD ("/templates/signatures", test_signatures);
  ADD ("/templates/signature-cli", test_signature_cli);
  ADD ("/templates/sender-fields", test_sender_fields);
#undef ADD

  return g_test_run ();
}
