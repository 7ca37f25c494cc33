/* test-mustache.c: the Mustache specification's own test cases, and the errors a person can make */

#include "config.h"

#include <string.h>

#include "mr-mustache.h"
#include "mr-test-utils.h"

static const char *
partial_from_object (const char *name,
                     gpointer    user_data)
{
  JsonObject *partials = user_data;

  if (partials == NULL || !json_object_has_member (partials, name))
    return NULL;
  return json_object_get_string_member (partials, name);
}

static void
run_spec_file (gconstpointer data)
{
  const char *path = data;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonArray *tests;
  guint failures = 0;

  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  tests = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)), "tests");

  for (guint i = 0; i < json_array_get_length (tests); i++)
    {
      JsonObject *test = json_array_get_object_element (tests, i);
      const char *name = json_object_get_string_member (test, "name");
      const char *source = json_object_get_string_member (test, "template");
      const char *expected = json_object_get_string_member (test, "expected");
      JsonObject *partials = json_object_has_member (test, "partials") ? json_object_get_object_member (test, "partials") : NULL;
      g_autoptr(MrMustache) mustache = NULL;
      g_autofree char *output = NULL;
      g_autoptr(GError) render_error = NULL;

      mustache = mr_mustache_parse (source, &render_error);
      if (mustache != NULL)
        output = mr_mustache_render (mustache, json_object_get_member (test, "data"), TRUE, partial_from_object,
                                     partials, NULL, 0, &render_error);
      if (g_strcmp0 (output, expected) != 0)
        {
          g_autofree char *got = output ? g_strescape (output, NULL) : g_strdup (render_error->message);
          g_autofree char *want = g_strescape (expected, NULL);
          g_test_message ("%s: “%s”: expected “%s”, got “%s”", path, name, want, got);
          failures++;
        }
    }
  g_test_message ("%s: %u cases, %u failed", path, json_array_get_length (tests), failures);
  g_assert_cmpuint (failures, ==, 0);
}

static void
test_conformance_present (void)
{
  /* A silent skip would hide a missing conformance folder in CI. */
  if (g_strcmp0 (g_getenv ("MAILROOM_REQUIRE_CONFORMANCE"), "1") == 0)
    g_error ("MAILROOM_REQUIRE_CONFORMANCE=1, but the Mustache conformance cases are missing");
  g_test_skip ("The Mustache conformance cases (../shared/conformance/mustache) are missing");
}

static void
test_syntax_errors (void)
{
  static const struct { const char *source; const char *says; } cases[] = {
    { "Hello {{name", "Line 1, column 7" },
    { "line one\n  {{#items}}\n  {{.}}\n", "Line 2, column 3: the section “items” is never closed" },
    { "{{#a}}x{{/b}}", "closes “a”" },
    { "x\ny {{/a}}", "Line 2, column 3" },
    { "{{=<% %>}}", "must end with" },
    { "{{= only =}}", "two delimiters" },
    { "{{}}", "has no name" },
    { "{{{raw}}", "never closed" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(MrMustache) mustache = mr_mustache_parse (cases[i].source, &error);

      g_assert_null (mustache);
      g_assert_error (error, MR_TEMPLATE_ERROR, MR_TEMPLATE_ERROR_SYNTAX);
      if (strstr (error->message, cases[i].says) == NULL)
        g_error ("“%s”: the message does not say “%s”: %s", cases[i].source, cases[i].says, error->message);
    }
}

static void
test_missing_and_escaping (void)
{
  g_autoptr(MrMustache) mustache = mr_mustache_parse ("Dear {{name}}, {{missing}} {{#none}}{{inside}}{{/none}} {{a.b}}", NULL);
  g_autoptr(JsonNode) data = json_from_string ("{\"name\": \"<Tom & \\\"Jerry\\\">\", \"a\": {}}", NULL);
  g_autoptr(GPtrArray) missing = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *html = mr_mustache_render (mustache, data, TRUE, NULL, NULL, missing, 0, NULL);
  g_autofree char *text = mr_mustache_render (mustache, data, FALSE, NULL, NULL, NULL, 0, NULL);
  g_autoptr(GPtrArray) names = mr_mustache_list_names (mustache);

  g_assert_cmpstr (html, ==, "Dear &lt;Tom &amp; &quot;Jerry&quot;&gt;,   ");
  g_assert_cmpstr (text, ==, "Dear <Tom & \"Jerry\">,   ");
  /* Missing variables are reported; a section over nothing is not missing, just empty. */
  g_assert_cmpuint (missing->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (missing, 0), ==, "missing");
  g_assert_cmpstr (g_ptr_array_index (missing, 1), ==, "a.b");
  g_assert_cmpuint (names->len, ==, 5);
}

static const char *
self_partial (const char *name,
              gpointer    user_data)
{
  return "again {{>loop}}";
}

static void
test_recursion_limit (void)
{
  g_autoptr(MrMustache) mustache = mr_mustache_parse ("{{>loop}}", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *out = mr_mustache_render (mustache, NULL, TRUE, self_partial, NULL, NULL, 0, &error);

  g_assert_null (out);
  g_assert_error (error, MR_TEMPLATE_ERROR, MR_TEMPLATE_ERROR_TOO_DEEP);
}

/* Seconds since @start, for the bounds on hostile templates. */
static double
seconds_since (gint64 start)
{
  return (g_get_monotonic_time () - start) / 1e6;
}

/* 100,000 nested sections: refused at the nesting limit, not by a stack overflow, and quickly. */
static void
test_deep_sections (void)
{
  GString *source = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(MrMustache) mustache = NULL;
  gint64 start = g_get_monotonic_time ();

  for (guint i = 0; i < 100000; i++)
    g_string_append (source, "{{#a}}");
  for (guint i = 0; i < 100000; i++)
    g_string_append (source, "{{/a}}");
  mustache = mr_mustache_parse (source->str, &error);
  g_assert_null (mustache);
  g_assert_error (error, MR_TEMPLATE_ERROR, MR_TEMPLATE_ERROR_SYNTAX);
  g_assert_nonnull (strstr (error->message, "nested more than 100 levels deep"));
  g_assert_cmpfloat (seconds_since (start), <, 2.0 * MR_TEST_TIME_SCALE);
  g_string_free (source, TRUE);
  g_clear_error (&error);

  /* 100 levels are fine, and render. */
  {
    GString *ok = g_string_new (NULL);
    g_autoptr(MrMustache) fine = NULL;
    g_autoptr(JsonNode) data = json_from_string ("{\"a\": true}", NULL);
    g_autofree char *out = NULL;

    for (guint i = 0; i < 100; i++)
      g_string_append (ok, "{{#a}}");
    g_string_append (ok, "x");
    for (guint i = 0; i < 100; i++)
      g_string_append (ok, "{{/a}}");
    fine = mr_mustache_parse (ok->str, &error);
    g_assert_no_error (error);
    out = mr_mustache_render (fine, data, FALSE, NULL, NULL, NULL, 0, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (out, ==, "x");
    g_string_free (ok, TRUE);
  }
}

/* 100,000 tags and 100,000 missing names: linear time (it took 74 s when each tag's position was
 * counted from the start of the template). */
static void
test_many_tags_linear (void)
{
  GString *source = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(MrMustache) mustache = NULL;
  g_autoptr(GPtrArray) missing = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *out = NULL;
  gint64 start = g_get_monotonic_time ();

  for (guint i = 0; i < 100000; i++)
    g_string_append_printf (source, "{{v%u}} ", i);
  mustache = mr_mustache_parse (source->str, &error);
  g_assert_no_error (error);
  out = mr_mustache_render (mustache, NULL, FALSE, NULL, NULL, missing, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (missing->len, ==, 100000);
  g_test_message ("100,000 tags parsed and rendered in %.2f s", seconds_since (start));
  g_assert_cmpfloat (seconds_since (start), <, 3.0 * MR_TEST_TIME_SCALE);
  g_string_free (source, TRUE);
}

typedef struct {
  guint levels;
  const char *leaf;
} Laughs;

/* p0 is the leaf; every other partial includes the one below it twice: 2^40 copies at level 40. */
static const char *
laughing_partial (const char *name,
                  gpointer    user_data)
{
  Laughs *laughs = user_data;
  static char buffer[64];
  guint level = (guint) g_ascii_strtoull (name + 1, NULL, 10);

  if (level == 0)
    return laughs->leaf;
  g_snprintf (buffer, sizeof buffer, "{{>p%u}}{{>p%u}}", level - 1, level - 1);
  return buffer;
}

/* "Billion laughs": the output limit stops a growing render, and the work limit one that grows
 * nothing; both in bounded time, where they ran until killed. */
static void
test_billion_laughs (void)
{
  static const char *leaves[] = { "lol lol lol lol lol lol lol lol lol lol", "" };

  for (guint i = 0; i < G_N_ELEMENTS (leaves); i++)
    {
      Laughs laughs = { 40, leaves[i] };
      g_autoptr(MrMustache) mustache = mr_mustache_parse ("{{>p40}}", NULL);
      g_autoptr(GError) error = NULL;
      g_autofree char *out = NULL;
      gint64 start = g_get_monotonic_time ();

      out = mr_mustache_render (mustache, NULL, FALSE, laughing_partial, &laughs, NULL, 4 * 1024 * 1024, &error);
      g_assert_null (out);
      g_assert_error (error, MR_TEMPLATE_ERROR, MR_TEMPLATE_ERROR_TOO_BIG);
      g_test_message ("%s leaf: stopped after %.2f s: %s", *leaves[i] ? "a text" : "an empty",
                      seconds_since (start), error->message);
      g_assert_cmpfloat (seconds_since (start), <, 20.0 * MR_TEST_TIME_SCALE);
    }
}

/* The limit given is the one that holds, and it is checked while rendering. */
static void
test_output_limit (void)
{
  g_autoptr(MrMustache) mustache = mr_mustache_parse ("{{#rows}}{{text}}{{/rows}}", NULL);
  g_autoptr(JsonNode) data = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *row = g_strnfill (1000, 'x');
  GString *json = g_string_new ("{\"rows\": [");

  for (guint i = 0; i < 1000; i++)
    g_string_append_printf (json, "%s{\"text\": \"%s\"}", i ? "," : "", row);
  g_string_append (json, "]}");
  data = json_from_string (json->str, NULL);
  g_string_free (json, TRUE);

  out = mr_mustache_render (mustache, data, FALSE, NULL, NULL, NULL, 100 * 1000, &error);
  g_assert_null (out);
  g_assert_error (error, MR_TEMPLATE_ERROR, MR_TEMPLATE_ERROR_TOO_BIG);
  g_clear_error (&error);
  out = mr_mustache_render (mustache, data, FALSE, NULL, NULL, NULL, 1000 * 1000, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (strlen (out), ==, 1000 * 1000);
}

int
main (int    argc,
      char **argv)
{
  const char *shared = g_getenv ("MAILROOM_SHARED_DIR");
  g_autofree char *dir = NULL;
  static const char *files[] = { "comments", "delimiters", "interpolation", "inverted", "partials", "sections" };

  mr_test_init (&argc, &argv);

  dir = shared ? g_build_filename (shared, "conformance", "mustache", NULL)
               : g_build_filename (g_getenv ("MAILROOM_TOP_SRCDIR"), "..", "shared", "conformance", "mustache", NULL);
  if (g_file_test (dir, G_FILE_TEST_IS_DIR))
    for (guint i = 0; i < G_N_ELEMENTS (files); i++)
      {
        g_autofree char *test_path = g_strdup_printf ("/mustache/spec/%s", files[i]);
        g_autofree char *name = g_strdup_printf ("%s.json", files[i]);
        char *path = g_build_filename (dir, name, NULL);

        g_test_add_data_func_full (test_path, path, run_spec_file, g_free);
      }
  else
    g_test_add_func ("/mustache/spec/present", test_conformance_present);

  g_test_add_func ("/mustache/syntax-errors", test_syntax_errors);
  g_test_add_func ("/mustache/missing-and-escaping", test_missing_and_escaping);
  g_test_add_func ("/mustache/recursion-limit", test_recursion_limit);
  g_test_add_func ("/mustache/deep-sections", test_deep_sections);
  g_test_add_func ("/mustache/many-tags-linear", test_many_tags_linear);
  g_test_add_func ("/mustache/billion-laughs", test_billion_laughs);
  g_test_add_func ("/mustache/output-limit", test_output_limit);

  return g_test_run ();
}
