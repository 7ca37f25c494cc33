/* test-html.c: pasted and stored HTML cut down to what a mail should hold (mr-html-clean.h) */

#include "config.h"

#include <string.h>

#include "mr-html-clean.h"
#include "mr-remote-image.h"
#include "mr-template.h"
#include "mr-test-utils.h"

static char *
clean (const char        *html,
       MrHtmlCleanReport *report)
{
  char *once = mr_html_clean (html, report);
  g_autofree char *twice = mr_html_clean (once, NULL);

  /* What comes out goes through again unchanged: the stored HTML is what the editor shows. */
  g_assert_cmpstr (twice, ==, once);
  return once;
}

/* Word's clipboard: a whole document with its styles, conditional comments, Office tags and
 * classes. The text and its formatting stay; Word's machinery goes. */
static void
test_word (void)
{
  MrHtmlCleanReport report;
  g_autofree char *out = clean (
    "<html xmlns:o=\"urn:schemas-microsoft-com:office:office\" xmlns:w=\"urn:schemas-microsoft-com:office:word\">"
    "<head><meta http-equiv=Content-Type content=\"text/html; charset=utf-8\"><style><!-- p.MsoNormal {margin:0cm;} --></style>"
    "<!--[if gte mso 9]><xml><w:WordDocument><w:View>Normal</w:View></w:WordDocument></xml><![endif]--></head>"
    "<body lang=DE style='tab-interval:35.4pt'><!--StartFragment-->"
    "<p class=MsoNormal style='margin:0cm;font-size:11.0pt;font-family:\"Calibri\",sans-serif;mso-fareast-language:EN-US'>"
    "<b>Einladung</b> zur <i>Messe</i><o:p></o:p></p>"
    "<ul style='margin-top:0cm' type=disc><li class=MsoListParagraph>eins</li><li>zwei</li></ul>"
    "<!--EndFragment--></body></html>", &report);

  g_assert_cmpstr (out, ==,
                   "<p style=\"margin: 0cm; font-size: 11.0pt; font-family: &quot;Calibri&quot;,sans-serif\">"
                   "<b>Einladung</b> zur <i>Messe</i></p>"
                   "<ul style=\"margin-top: 0cm\"><li>eins</li><li>zwei</li></ul>");
  g_assert_cmpuint (report.removed_comments, >=, 2);
  mr_html_clean_report_clear (&report);
}

/* LibreOffice's clipboard: font tags unwrapped, its paragraph styles kept where they are text. */
static void
test_libreoffice (void)
{
  g_autofree char *out = clean (
    "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.0 Transitional//EN\"><html><head>"
    "<meta http-equiv=\"content-type\" content=\"text/html; charset=utf-8\"/><title></title>"
    "<style type=\"text/css\">p { line-height: 115%; margin-bottom: 0.25cm; background: transparent }</style></head>"
    "<body lang=\"de-DE\" link=\"#000080\" vlink=\"#800000\" dir=\"ltr\">"
    "<p align=\"center\" style=\"line-height: 100%; margin-bottom: 0cm\"><font face=\"Liberation Serif\">"
    "<font size=\"3\" style=\"font-size: 12pt\"><span style=\"background: #ffff00\">Gelb</span> markiert</font></font></p>"
    "</body></html>", NULL);

  g_assert_cmpstr (out, ==, "<p align=\"center\" style=\"line-height: 100%; margin-bottom: 0cm\"><span>Gelb</span> markiert</p>");
}

/* A web page: scripts, handlers, hidden text, frames, forms, a tracking pixel and a remote logo
 * (listed, to embed instead), links that run code. */
static void
test_web_page (void)
{
  MrHtmlCleanReport report;
  g_autofree char *out = clean (
    "<div id=\"main\" class=\"card\" onclick=\"steal()\"><h2 onmouseover=\"x()\">Angebot</h2>"
    "<script>document.cookie</script><noscript>no script</noscript>"
    "<p>Sichtbar<span style=\"display:none\">versteckt</span><span style=\"font-size:0px;color:red\">winzig</span>"
    "<span style=\"visibility: hidden\">unsichtbar</span></p>"
    "<p style=\"color: red; position: absolute; background-image: url(https://tracker.example/x.png); "
    "behavior: url(x.htc); opacity: 0\">rot</p>"
    "<img src=\"https://cdn.example.com/logo.png\" alt=\"Logo\" width=\"120\" onerror=\"x()\">"
    "<img src=\"http://tracker.example/pixel.gif\" width=\"1\" height=\"1\">"
    "<img src=\"cid:logo@mailroom\" alt=\"eingebettet\"><img src=\"javascript:alert(1)\">"
    "<img src=\"data:image/png;base64,iVBORw0KGgo=\" alt=\"klein\">"
    "<a href=\"javascript:alert(1)\">Code</a> <a href=\"https://example.com/?a=1&amp;b=2\" target=\"_blank\">Web</a> "
    "<a href=\"mailto:info@example.com\">Mail</a>"
    "<iframe src=\"https://evil.example\"></iframe><form action=\"/x\"><input name=\"q\"><button>Go</button></form>"
    "<svg><script>alert(1)</script></svg><style>p{display:none}</style><!-- hidden note --></div>", &report);

  g_assert_cmpstr (out, ==,
                   "<div><h2>Angebot</h2>"
                   "<p>Sichtbar</p>"
                   "<p style=\"color: red\">rot</p>"
                   "<img src=\"cid:logo@mailroom\" alt=\"eingebettet\">"
                   "<img src=\"data:image/png;base64,iVBORw0KGgo=\" alt=\"klein\">"
                   "Code <a href=\"https://example.com/?a=1&amp;b=2\">Web</a> "
                   "<a href=\"mailto:info@example.com\">Mail</a></div>");
  g_assert_null (strstr (out, "versteckt"));
  g_assert_null (strstr (out, "winzig"));
  g_assert_null (strstr (out, "unsichtbar"));
  g_assert_cmpuint (report.remote_images->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (report.remote_images, 0), ==, "https://cdn.example.com/logo.png");
  g_assert_cmpstr (g_ptr_array_index (report.remote_images, 1), ==, "http://tracker.example/pixel.gif");
  g_assert_cmpuint (report.removed_elements, >=, 8);
  g_assert_cmpuint (report.removed_attributes, >=, 8);
  mr_html_clean_report_clear (&report);
}

/* Merge fields are text to the parser: in text, in links, in sections, as they were written. */
static void
test_merge_fields (void)
{
  const char *html = "<p>Dear {{first_name}},</p><p><a href=\"{{link}}\">{{link_text}}</a></p>"
                     "{{#items}}<p>{{name}}: {{{price}}}</p>{{/items}}<p>{{> signature}}</p>";
  g_autofree char *out = clean (html, NULL);

  g_assert_cmpstr (out, ==, html);
}

/* What a browser makes of broken markup, in bounded time and memory. */
static void
test_malformed (void)
{
  g_autoptr(GString) deep = g_string_new (NULL);
  g_autofree char *out = NULL;

  mr_assert_cmpstr_free (clean ("<p>open <b>bold <i>both</p> after", NULL), ==,
                         "<p>open <b>bold <i>both</i></b></p> after");
  mr_assert_cmpstr_free (clean ("a < b & c > d", NULL), ==, "a &lt; b &amp; c &gt; d");
  mr_assert_cmpstr_free (clean ("", NULL), ==, "");
  mr_assert_cmpstr_free (mr_html_clean (NULL, NULL), ==, "");
  mr_assert_cmpstr_free (clean ("<p>caf\xc3\xa9 &nbsp;&euro;</p>", NULL), ==, "<p>caf\xc3\xa9 \xc2\xa0\xe2\x82\xac</p>");
  for (guint i = 0; i < 20000; i++)
    g_string_append (deep, "<div>");
  g_string_append (deep, "deep");
  out = mr_html_clean (deep->str, NULL);
  g_assert_cmpuint (strlen (out), <, deep->len * 2);
}

/* A template's HTML is cleaned when it is loaded: what is stored is what the editor shows. */
static void
test_template_load (MrTestDirs    *dirs,
                    gconstpointer  data)
{
  g_autofree char *path = g_build_filename (dirs->root, "t.json", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(MrTemplate) template_ = NULL;

  mr_test_write_file (path, "{\"schema_version\": 1, \"name\": \"T\", \"subject\": \"S\","
                            " \"html\": \"<p onclick=\\\"x()\\\">Hi {{name}}</p><script>x()</script>\"}");
  template_ = mr_template_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (template_->html, ==, "<p>Hi {{name}}</p>");
  g_clear_pointer (&template_, mr_template_free);

  /* A remote logo is left out, and the template says which, for the person to embed it. */
  mr_test_write_file (path, "{\"schema_version\": 1, \"name\": \"T\", \"subject\": \"S\","
                            " \"html\": \"<p>Hi</p><img src=\\\"https://example.com/logo.png\\\">\"}");
  template_ = mr_template_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (template_->html, ==, "<p>Hi</p>");
  g_assert_cmpuint (template_->remote_images->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (template_->remote_images, 0), ==, "https://example.com/logo.png");
  {
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;

    g_assert_cmpint (mr_test_run_cli (&out, &err, "templates", "show", path, NULL), ==, 0);
    g_assert_nonnull (strstr (out, "Left out: the image at https://example.com/logo.png"));
  }
}

/* What a person types in the link dialog, as the link to write, or why not. */
static void
test_link_target (void)
{
  static const struct { const char *typed; const char *href; } cases[] = {
    { "https://example.com/fair?x=1", "https://example.com/fair?x=1" }, { " http://example.com ", "http://example.com" },
    { "example.com/fair", "https://example.com/fair" }, { "www.example.org", "https://www.example.org" },
    { "ann@example.org", "mailto:ann@example.org" }, { "mailto:ann@example.org", "mailto:ann@example.org" },
    { "tel:+41 44 123 45 67", "tel:+41 44 123 45 67" }, { "{{link}}", "{{link}}" },
    { "javascript:alert(1)", NULL }, { "not a link", NULL }, { "", NULL }, { "localhost", NULL },
    { "mailto:not-an-address", NULL }, { "ftp://example.com", NULL }, { "tel:call me", NULL },
    { "https://exa mple.com", NULL }, { "data:text/html,<script>", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *href = mr_html_link_target (cases[i].typed, &error);

      g_test_message ("“%s” → %s", cases[i].typed, href ? href : error->message);
      g_assert_cmpstr (href, ==, cases[i].href);
      if (href == NULL)
        g_assert_error (error, MR_HTML_ERROR, MR_HTML_ERROR_LINK);
    }
}

/* A picture from the web stays where it was, marked, for the editor to embed it once fetched. */
static void
test_marking_remote (void)
{
  MrHtmlCleanReport report;
  g_autofree char *cleaned = mr_html_clean_marking_remote ("<p>Our logo <img src=\"https://example.com/logo.png\" alt=\"Logo\" "
                                                           "onerror=\"x()\"> and <img src=\"http://example.com/b.gif\"></p>",
                                                           "cid:pending-7-", &report);

  g_assert_cmpstr (cleaned, ==, "<p>Our logo <img src=\"cid:pending-7-0\" alt=\"Logo\"> and <img src=\"cid:pending-7-1\"></p>");
  g_assert_cmpuint (report.remote_images->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (report.remote_images, 0), ==, "https://example.com/logo.png");
  g_assert_cmpstr (g_ptr_array_index (report.remote_images, 1), ==, "http://example.com/b.gif");
  mr_html_clean_report_clear (&report);
}

/* Fetched from a web server: a picture by its first bytes, whatever it is called; not a page, not
 * a missing one, not one too large, not from another kind of address. */
static void
test_remote_image (void)
{
  g_autoptr(MrTestServer) server = mr_test_server_start ("http-files.py", NULL);
  static const guint8 png[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R' };
  g_autofree char *png_path = g_build_filename (server->maildir, "logo.png", NULL);
  g_autofree char *gif_path = g_build_filename (server->maildir, "logo", NULL);
  g_autofree char *page_path = g_build_filename (server->maildir, "fake.png", NULL);
  g_autofree char *big_path = g_build_filename (server->maildir, "big.png", NULL);
  g_autofree char *big = g_malloc0 (MR_REMOTE_IMAGE_MAX_BYTES + 100);
  static const struct { const char *name; const char *says; } refused[] = {
    { "fake.png", "it is not a PNG, JPEG, GIF or WebP picture" },
    { "missing.png", "the server answered 404" },
    { "big.png", "it is larger than" },
  };

  memcpy (big, png, sizeof png);
  g_assert_true (g_file_set_contents (png_path, (const char *) png, sizeof png, NULL));
  g_assert_true (g_file_set_contents (gif_path, "GIF89a\x01\x00\x01\x00", 10, NULL));
  g_assert_true (g_file_set_contents (page_path, "<html><body>Not found</body></html>", -1, NULL));
  g_assert_true (g_file_set_contents (big_path, big, MR_REMOTE_IMAGE_MAX_BYTES + 100, NULL));

  {
    g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u/logo.png", server->port);
    g_autofree char *expected = g_base64_encode (png, sizeof png);
    g_autofree char *uri = NULL;
    g_autoptr(GError) error = NULL;

    uri = mr_remote_image_fetch (url, NULL, &error);
    g_assert_no_error (error);
    g_assert_true (g_str_has_prefix (uri, "data:image/png;base64,"));
    g_assert_cmpstr (uri + strlen ("data:image/png;base64,"), ==, expected);
  }
  {
    g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u/logo", server->port);
    g_autofree char *uri = mr_remote_image_fetch (url, NULL, NULL);

    g_assert_true (g_str_has_prefix (uri, "data:image/gif;base64,"));
  }
  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autofree char *url = g_strdup_printf ("http://127.0.0.1:%u/%s", server->port, refused[i].name);
      g_autoptr(GError) error = NULL;

      g_assert_null (mr_remote_image_fetch (url, NULL, &error));
      g_assert_error (error, MR_HTML_ERROR, MR_HTML_ERROR_IMAGE);
      if (strstr (error->message, refused[i].says) == NULL || strstr (error->message, url) == NULL)
        g_error ("%s: %s", refused[i].name, error->message);
    }
  {
    g_autoptr(GError) error = NULL;

    g_assert_null (mr_remote_image_fetch ("file:///etc/passwd", NULL, &error));
    g_assert_error (error, MR_HTML_ERROR, MR_HTML_ERROR_IMAGE);
    g_assert_nonnull (strstr (error->message, "http://"));
  }
}

int
main (int    argc,
      char **argv)
{
  mr_test_init (&argc, &argv);

  g_test_add_func ("/html/word", test_word);
  g_test_add_func ("/html/libreoffice", test_libreoffice);
  g_test_add_func ("/html/web-page", test_web_page);
  g_test_add_func ("/html/merge-fields", test_merge_fields);
  g_test_add_func ("/html/malformed", test_malformed);
  g_test_add_func ("/html/link-target", test_link_target);
  g_test_add_func ("/html/marking-remote", test_marking_remote);
  g_test_add_func ("/html/remote-image", test_remote_image);
  g_test_add ("/html/template-load", MrTestDirs, NULL, mr_test_dirs_setup, test_template_load, mr_test_dirs_teardown);
  return g_test_run ();
}
