/* mr-html-clean.c: a mail's HTML cut down to what a mail should hold (see the header) */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <libxml/HTMLparser.h>
#include <string.h>

#include "mr-html-clean.h"
#include "mr-keys.h"

G_DEFINE_QUARK (mr-html-error-quark, mr_html_error)

/* Deep inside nested markup the rest is dropped: no stack grows without bound. */
#define MAX_DEPTH 256

static const char * const kept_elements[] = {
  "p", "div", "span", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "b", "strong", "i", "em", "u", "s",
  "sub", "sup", "blockquote", "pre", "code", "ul", "ol", "li", "a", "img", "table", "thead", "tbody",
  "tfoot", "tr", "td", "th", "caption", "center", NULL
};

static const char * const dropped_elements[] = {
  "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "form", "input", "button",
  "select", "textarea", "option", "noscript", "template", "head", "title", "meta", "link", "base", "svg",
  "math", "canvas", "audio", "video", "source", "track", "param", "xml", "noembed", "noframes", NULL
};

static const char * const void_elements[] = { "br", "hr", "img", NULL };

static const char * const kept_style_properties[] = {
  "color", "background-color", "font-weight", "font-style", "font-family", "font-size", "text-align",
  "text-decoration", "text-indent", "text-transform", "line-height", "vertical-align", "width", "height",
  "max-width", "min-width", "white-space", "list-style-type", "border-collapse", "border-spacing", NULL
};

static const char * const kept_style_prefixes[] = { "margin", "padding", "border", NULL };

static gboolean
in_list (const char * const *list,
         const char         *name)
{
  return name != NULL && g_strv_contains (list, name);
}

static gboolean
is_merge_field (const char *value)
{
  while (g_ascii_isspace (*value))
    value++;
  return g_str_has_prefix (value, "{{");
}

static gboolean
has_scheme (const char *value,
            const char *scheme)
{
  while (g_ascii_isspace (*value))
    value++;
  return g_ascii_strncasecmp (value, scheme, strlen (scheme)) == 0;
}

/* A size or a count: "600", "100%", "12px". */
static gboolean
is_dimension (const char *value)
{
  const char *p = value;

  if (!g_ascii_isdigit (*p))
    return FALSE;
  while (g_ascii_isdigit (*p))
    p++;
  return *p == '\0' || g_str_equal (p, "%") || g_ascii_strcasecmp (p, "px") == 0;
}

static gboolean
is_colour (const char *value)
{
  if (*value == '#')
    value++;
  if (*value == '\0' || strlen (value) > 20)
    return FALSE;
  for (const char *p = value; *p; p++)
    if (!g_ascii_isalnum (*p))
      return FALSE;
  return TRUE;
}

/* Whether a declaration would hide text or load something. */
static gboolean
declaration_is_bad (const char *property,
                    const char *value)
{
  g_autofree char *folded = g_ascii_strdown (value, -1);
  g_autofree char *compact = g_strdelimit (g_strdup (folded), " \t\r\n", ' ');

  if (strstr (folded, "url(") || strstr (folded, "expression") || strstr (folded, "javascript:") ||
      strchr (folded, '\\') || strstr (folded, "@import") || strchr (folded, '<'))
    return TRUE;
  g_strstrip (compact);
  if (g_str_equal (property, "font-size") || g_str_equal (property, "height") || g_str_equal (property, "line-height"))
    {
      /* 0, 0px, 0pt, 0em, 0.0: text nobody can read. */
      const char *p = compact;

      while (*p == '0' || *p == '.')
        p++;
      if (p != compact && (*p == '\0' || g_ascii_isalpha (*p) || *p == '%'))
        return g_str_equal (property, "font-size") || g_str_equal (property, "line-height");
    }
  if ((g_str_equal (property, "color")) && g_str_equal (compact, "transparent"))
    return TRUE;
  return FALSE;
}

/* Whether a style attribute hides its element: display:none, visibility:hidden or collapse, a font
 * size of 0. Such an element goes with its text: nothing in a mail is there unseen. */
static gboolean
style_hides (const char *style)
{
  g_auto(GStrv) declarations = g_strsplit (style, ";", -1);

  for (guint i = 0; declarations[i] != NULL; i++)
    {
      char *colon = strchr (declarations[i], ':');
      g_autofree char *property = NULL;
      g_autofree char *value = NULL;

      if (colon == NULL)
        continue;
      *colon = '\0';
      property = g_ascii_strdown (g_strstrip (declarations[i]), -1);
      value = g_ascii_strdown (g_strstrip (colon + 1), -1);
      if ((g_str_equal (property, "display") && g_str_has_prefix (value, "none")) ||
          (g_str_equal (property, "visibility") && (g_str_has_prefix (value, "hidden") || g_str_has_prefix (value, "collapse"))) ||
          (g_str_equal (property, "font-size") && declaration_is_bad (property, value)))
        return TRUE;
    }
  return FALSE;
}

/* The declarations of a style attribute that are kept, or NULL for none. */
static char *
clean_style (const char *style,
             guint      *removed)
{
  g_auto(GStrv) declarations = g_strsplit (style, ";", -1);
  GString *out = g_string_new (NULL);

  for (guint i = 0; declarations[i] != NULL; i++)
    {
      char *colon;
      g_autofree char *property = NULL;
      g_autofree char *value = NULL;
      gboolean kept;

      if (g_strstrip (declarations[i])[0] == '\0')
        continue;
      colon = strchr (declarations[i], ':');
      if (colon == NULL)
        {
          (*removed)++;
          continue;
        }
      *colon = '\0';
      property = g_ascii_strdown (g_strstrip (declarations[i]), -1);
      value = g_strstrip (g_strdup (colon + 1));
      kept = in_list (kept_style_properties, property);
      for (guint k = 0; kept_style_prefixes[k] != NULL && !kept; k++)
        kept = g_str_has_prefix (property, kept_style_prefixes[k]);
      if (!kept || *value == '\0' || declaration_is_bad (property, value))
        {
          (*removed)++;
          continue;
        }
      g_string_append_printf (out, "%s%s: %s", out->len ? "; " : "", property, value);
    }
  if (out->len == 0)
    {
      g_string_free (out, TRUE);
      return NULL;
    }
  return g_string_free (out, FALSE);
}

/* Whether @name="@value" stays on element @element. */
static gboolean
attribute_is_kept (const char *element,
                   const char *name,
                   const char *value)
{
  if (g_str_equal (name, "title") || g_str_equal (name, "dir"))
    return TRUE;
  if (g_str_equal (name, "align") || g_str_equal (name, "valign"))
    return TRUE;
  if (g_str_equal (name, "width") || g_str_equal (name, "height"))
    return is_dimension (value);
  if (g_str_equal (name, "bgcolor"))
    return is_colour (value);
  if (g_str_equal (element, "a") && g_str_equal (name, "href"))
    return has_scheme (value, "http:") || has_scheme (value, "https:") || has_scheme (value, "mailto:") ||
           has_scheme (value, "tel:") || is_merge_field (value);
  if (g_str_equal (element, "img") && g_str_equal (name, "alt"))
    return TRUE;
  if ((g_str_equal (element, "td") || g_str_equal (element, "th")) &&
      (g_str_equal (name, "colspan") || g_str_equal (name, "rowspan")))
    return is_dimension (value);
  if (g_str_equal (element, "table") &&
      (g_str_equal (name, "border") || g_str_equal (name, "cellpadding") || g_str_equal (name, "cellspacing")))
    return is_dimension (value);
  return FALSE;
}

/* An image's source: kept, remote (listed, and the image taken out), or not an image at all. */
typedef enum { SOURCE_KEPT, SOURCE_REMOTE, SOURCE_BAD } Source;

static Source
judge_source (const char *src)
{
  if (src == NULL)
    return SOURCE_BAD;
  if (has_scheme (src, "cid:") || is_merge_field (src))
    return SOURCE_KEPT;
  if (has_scheme (src, "data:image/png") || has_scheme (src, "data:image/jpeg") || has_scheme (src, "data:image/gif") ||
      has_scheme (src, "data:image/webp"))
    return SOURCE_KEPT;
  if (has_scheme (src, "http:") || has_scheme (src, "https:"))
    return SOURCE_REMOTE;
  return SOURCE_BAD;
}

static void
clean_attributes (xmlNodePtr         node,
                  MrHtmlCleanReport *report)
{
  const char *element = (const char *) node->name;
  xmlAttrPtr attribute = node->properties;

  while (attribute != NULL)
    {
      xmlAttrPtr next = attribute->next;
      g_autofree char *name = g_ascii_strdown ((const char *) attribute->name, -1);
      xmlChar *value = xmlNodeGetContent ((xmlNodePtr) attribute);
      const char *text = value ? (const char *) value : "";

      if (g_str_equal (name, "style"))
        {
          g_autofree char *kept = clean_style (text, &report->removed_attributes);

          if (kept != NULL)
            xmlSetProp (node, attribute->name, (const xmlChar *) kept);
          else
            xmlRemoveProp (attribute);
        }
      else if (g_str_equal (element, "img") && g_str_equal (name, "src"))
        ;   /* judged with the element */
      else if (!attribute_is_kept (element, name, text))
        {
          report->removed_attributes++;
          xmlRemoveProp (attribute);
        }
      xmlFree (value);
      attribute = next;
    }
}

static void clean_children (xmlNodePtr node, MrHtmlCleanReport *report, guint depth);

static void
drop (xmlNodePtr node)
{
  xmlUnlinkNode (node);
  xmlFreeNode (node);
}

/* @node's children take its place. */
static void
unwrap (xmlNodePtr node)
{
  xmlNodePtr child;

  while ((child = node->children) != NULL)
    {
      xmlUnlinkNode (child);
      xmlAddPrevSibling (node, child);
    }
  drop (node);
}

/* Cleans @node, which may be replaced by its children or removed. */
static void
clean_node (xmlNodePtr         node,
            MrHtmlCleanReport *report,
            guint              depth)
{
  switch (node->type)
    {
    case XML_TEXT_NODE:
      return;
    case XML_ELEMENT_NODE:
      break;
    case XML_COMMENT_NODE:
      report->removed_comments++;
      drop (node);
      return;
    default:
      drop (node);
      return;
    }
  {
    g_autofree char *name = g_ascii_strdown ((const char *) node->name, -1);

    if (depth > MAX_DEPTH || in_list (dropped_elements, name))
      {
        report->removed_elements++;
        drop (node);
        return;
      }
    if (!in_list (kept_elements, name) || (node->ns != NULL && node->ns->prefix != NULL) ||
        strchr ((const char *) node->name, ':') != NULL)
      {
        /* Unwrapped: its cleaned children take its place. */
        clean_children (node, report, depth + 1);
        unwrap (node);
        return;
      }
    {
      xmlChar *style = xmlGetProp (node, (const xmlChar *) "style");
      gboolean hidden = style != NULL && style_hides ((const char *) style);

      xmlFree (style);
      if (hidden)
        {
          report->removed_elements++;
          drop (node);
          return;
        }
    }
    if (g_str_equal (name, "img"))
      {
        xmlChar *src = xmlGetProp (node, (const xmlChar *) "src");
        Source source = judge_source ((const char *) src);

        if (source == SOURCE_REMOTE)
          {
            g_autofree char *address = g_strstrip (g_strdup ((const char *) src));

            g_ptr_array_add (report->remote_images, g_steal_pointer (&address));
            if (report->remote_prefix != NULL)
              {
                g_autofree char *marked = g_strdup_printf ("%s%u", report->remote_prefix, report->remote_images->len - 1);

                xmlSetProp (node, (const xmlChar *) "src", (const xmlChar *) marked);
                source = SOURCE_KEPT;
              }
          }
        else if (source == SOURCE_BAD)
          report->removed_elements++;
        xmlFree (src);
        if (source != SOURCE_KEPT)
          {
            drop (node);
            return;
          }
      }
    clean_attributes (node, report);
    clean_children (node, report, depth + 1);
    /* A link that goes nowhere it may is its text. */
    if (g_str_equal (name, "a") && !xmlHasProp (node, (const xmlChar *) "href"))
      unwrap (node);
  }
}

static void
clean_children (xmlNodePtr         node,
                MrHtmlCleanReport *report,
                guint              depth)
{
  xmlNodePtr child = node->children;

  while (child != NULL)
    {
      xmlNodePtr next = child->next;

      clean_node (child, report, depth);
      child = next;
    }
}

/* ---- Output: our own, so that merge fields in links stay as written ------------------------------- */

/* Text or an attribute value as HTML; a merge field ({{> partial}}, {{& raw}}) as it was written. */
static void
append_escaped (GString    *out,
                const char *text,
                gboolean    attribute)
{
  gboolean in_tag = FALSE;

  for (const char *p = text; *p != '\0'; p++)
    {
      if (!in_tag && p[0] == '{' && p[1] == '{')
        in_tag = TRUE;
      else if (in_tag && p[0] == '}' && p[1] == '}')
        in_tag = FALSE;
      if (*p == '"' && attribute)
        g_string_append (out, "&quot;");
      else if (in_tag)
        g_string_append_c (out, *p);
      else if (*p == '&')
        g_string_append (out, "&amp;");
      else if (*p == '<')
        g_string_append (out, "&lt;");
      else if (*p == '>')
        g_string_append (out, "&gt;");
      else
        g_string_append_c (out, *p);
    }
}

static void
write_node (GString    *out,
            xmlNodePtr  node)
{
  if (node->type == XML_TEXT_NODE)
    {
      append_escaped (out, (const char *) node->content, FALSE);
      return;
    }
  if (node->type != XML_ELEMENT_NODE)
    return;
  g_string_append_printf (out, "<%s", (const char *) node->name);
  for (xmlAttrPtr attribute = node->properties; attribute != NULL; attribute = attribute->next)
    {
      xmlChar *value = xmlNodeGetContent ((xmlNodePtr) attribute);

      g_string_append_printf (out, " %s=\"", (const char *) attribute->name);
      append_escaped (out, value ? (const char *) value : "", TRUE);
      g_string_append_c (out, '"');
      xmlFree (value);
    }
  g_string_append_c (out, '>');
  if (in_list (void_elements, (const char *) node->name))
    return;
  for (xmlNodePtr child = node->children; child != NULL; child = child->next)
    write_node (out, child);
  g_string_append_printf (out, "</%s>", (const char *) node->name);
}

static xmlNodePtr
find_element (xmlNodePtr  node,
              const char *name)
{
  for (; node != NULL; node = node->next)
    {
      if (node->type == XML_ELEMENT_NODE && g_ascii_strcasecmp ((const char *) node->name, name) == 0)
        return node;
    }
  return NULL;
}

static char *clean_once (const char *html, const char *remote_prefix, MrHtmlCleanReport *report);

/* Cleaned until another pass changes nothing: what the parser makes of nested blocks it does not
 * allow (a <p> inside a <p>) is what the editor and the recipient's program will make of it too. */
char *
mr_html_clean (const char        *html,
               MrHtmlCleanReport *report)
{
  return mr_html_clean_marking_remote (html, NULL, report);
}

char *
mr_html_clean_marking_remote (const char        *html,
                              const char        *prefix,
                              MrHtmlCleanReport *report)
{
  char *cleaned = clean_once (html, prefix, report);

  for (guint pass = 0; pass < 4; pass++)
    {
      char *again = clean_once (cleaned, NULL, NULL);

      if (g_str_equal (again, cleaned))
        {
          g_free (again);
          break;
        }
      g_free (cleaned);
      cleaned = again;
    }
  return cleaned;
}

static char *
clean_once (const char        *html,
            const char        *remote_prefix,
            MrHtmlCleanReport *report)
{
  MrHtmlCleanReport local = { 0 };
  g_autofree char *document = NULL;
  g_autofree char *renamed = NULL;
  htmlDocPtr doc;
  xmlNodePtr root, body;
  GString *out = g_string_new (NULL);

  if (report == NULL)
    report = &local;
  memset (report, 0, sizeof *report);
  report->remote_images = g_ptr_array_new_with_free_func (g_free);
  report->remote_prefix = remote_prefix;
  if (html == NULL || *html == '\0')
    {
      mr_html_clean_report_clear (&local);
      return g_string_free (out, FALSE);
    }
  /* Office's own tags (<o:p>, <w:Sdt>) would be read as the HTML tag after the colon: renamed to
   * one nobody knows, they are unwrapped. */
  {
    static gsize once;
    static GRegex *prefixed;

    if (g_once_init_enter (&once))
      {
        prefixed = g_regex_new ("<(/?)[A-Za-z][A-Za-z0-9]*:", G_REGEX_OPTIMIZE, 0, NULL);
        g_once_init_leave (&once, 1);
      }
    renamed = g_regex_replace (prefixed, html, -1, 0, "<\\1office-", 0, NULL);
  }
  /* A fragment is read as a body; a whole document (Word's clipboard) as it is. */
  if (strstr (renamed, "<html") || strstr (renamed, "<HTML") || strstr (renamed, "<body") || strstr (renamed, "<BODY"))
    document = g_strdup (renamed);
  else
    document = g_strconcat ("<html><head><meta charset=\"utf-8\"></head><body>", renamed, "</body></html>", NULL);
  doc = htmlReadMemory (document, (int) MIN (strlen (document), (gsize) G_MAXINT), NULL, "UTF-8",
                        HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
  root = doc ? xmlDocGetRootElement (doc) : NULL;
  body = root ? find_element (root->children, "body") : NULL;
  if (body != NULL)
    {
      clean_children (body, report, 0);
      for (xmlNodePtr child = body->children; child != NULL; child = child->next)
        write_node (out, child);
    }
  if (doc != NULL)
    xmlFreeDoc (doc);
  mr_html_clean_report_clear (&local);
  return g_string_free (out, FALSE);
}

void
mr_html_clean_report_clear (MrHtmlCleanReport *report)
{
  g_clear_pointer (&report->remote_images, g_ptr_array_unref);
}

char *
mr_html_link_target (const char  *typed,
                     GError     **error)
{
  g_autofree char *address = g_strstrip (g_strdup (typed ? typed : ""));
  g_autoptr(GUri) uri = NULL;

  if (*address == '\0')
    {
      g_set_error_literal (error, MR_HTML_ERROR, MR_HTML_ERROR_LINK, _("Type the address the link goes to"));
      return NULL;
    }
  if (is_merge_field (address) && g_str_has_suffix (address, "}}"))
    return g_steal_pointer (&address);
  if (has_scheme (address, "mailto:"))
    {
      if (mr_validate_address (address + 7, NULL))
        return g_steal_pointer (&address);
    }
  else if (has_scheme (address, "tel:"))
    {
      for (const char *p = address + 4; *p != '\0'; p++)
        if (!g_ascii_isdigit (*p) && !strchr ("+-() ", *p))
          goto refused;
      if (address[4] != '\0')
        return g_steal_pointer (&address);
    }
  else if (strchr (address, '@') != NULL && strchr (address, '/') == NULL)
    {
      if (mr_validate_address (address, NULL))
        return g_strconcat ("mailto:", address, NULL);
    }
  else
    {
      g_autofree char *full = has_scheme (address, "http://") || has_scheme (address, "https://")
                              ? g_strdup (address) : g_strconcat ("https://", address, NULL);

      uri = g_uri_parse (full, G_URI_FLAGS_NONE, NULL);
      /* A host with a dot in it, and nothing that is not a URL's. */
      if (uri != NULL && (g_str_equal (g_uri_get_scheme (uri), "http") || g_str_equal (g_uri_get_scheme (uri), "https")) &&
          g_uri_get_host (uri) != NULL && strchr (g_uri_get_host (uri), '.') != NULL &&
          strpbrk (full, " <>\"") == NULL)
        return g_steal_pointer (&full);
    }
refused:
  g_set_error (error, MR_HTML_ERROR, MR_HTML_ERROR_LINK,
               _("“%s” is not a web address (https://example.com) or an email address"), address);
  return NULL;
}
