/* mr-template.c: mail templates, stored as JSON
 *
 * Over 1,000 lines, and kept whole: reading (with its checks and the HTML cleaner), writing (atomic,
 * with the company's and the person's folders) and rendering (Mustache, signatures, pictures) are
 * the one MrTemplate and its rules, in the order a template lives.
 */

#include "config.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "mr-json.h"
#include "mr-keys.h"
#include "mr-settings.h"
#include "mr-html-clean.h"
#include "mr-signature.h"
#include "mr-template.h"

#define TEMPLATE_SCHEMA_VERSION 1

static gboolean
invalid (GError    **error,
         const char *path,
         const char *format,
         ...) G_GNUC_PRINTF (3, 4);

static gboolean
invalid (GError    **error,
         const char *path,
         const char *format,
         ...)
{
  va_list args;
  g_autofree char *what = NULL;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, MR_TEMPLATE_ERROR, MR_TEMPLATE_ERROR_INVALID, "%s: %s", path, what);
  return FALSE;
}

char *
mr_template_get_company_dir (void)
{
  const char *dir = g_getenv ("MAILROOM_COMPANY_TEMPLATES");

  if (dir != NULL && *dir != '\0')
    return g_strdup (dir);
  return g_strdup ("/etc/xdg/mailroom/templates");
}

char *
mr_template_get_personal_dir (void)
{
  return mr_get_user_data_path ("templates");
}

static void
attachment_free (MrTemplateAttachment *attachment)
{
  g_free (attachment->path);
  g_free (attachment->filename);
  g_free (attachment->content_id);
  g_free (attachment);
}

MrTemplate *
mr_template_new (void)
{
  MrTemplate *template_ = g_new0 (MrTemplate, 1);

  template_->attachments = g_ptr_array_new_with_free_func ((GDestroyNotify) attachment_free);
  template_->partials = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  template_->route = g_strdup ("auto");
  template_->log = g_strdup ("full");
  template_->subject = g_strdup ("");
  template_->signature = TRUE;
  template_->parsed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) mr_mustache_free);
  template_->folder_partials = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_mutex_init (&template_->parsed_lock);
  return template_;
}

MrTemplate *
mr_template_copy (const MrTemplate *template_)
{
  MrTemplate *copy = mr_template_new ();
  GHashTableIter iter;
  gpointer key, value;

  copy->name = g_strdup (template_->name);
  copy->description = g_strdup (template_->description);
  g_free (copy->subject);
  copy->subject = g_strdup (template_->subject);
  copy->text = g_strdup (template_->text);
  copy->html = g_strdup (template_->html);
  for (guint i = 0; i < template_->attachments->len; i++)
    {
      MrTemplateAttachment *from = g_ptr_array_index (template_->attachments, i);
      MrTemplateAttachment *attachment = g_new0 (MrTemplateAttachment, 1);

      attachment->path = g_strdup (from->path);
      attachment->filename = g_strdup (from->filename);
      attachment->content_id = g_strdup (from->content_id);
      g_ptr_array_add (copy->attachments, attachment);
    }
  copy->from_name = g_strdup (template_->from_name);
  copy->from_address = g_strdup (template_->from_address);
  g_free (copy->route);
  copy->route = g_strdup (template_->route);
  copy->app = g_strdup (template_->app);
  g_free (copy->log);
  copy->log = g_strdup (template_->log);
  copy->strict = template_->strict;
  copy->signature = template_->signature;
  g_hash_table_iter_init (&iter, template_->partials);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_hash_table_insert (copy->partials, g_strdup (key), g_strdup (value));
  if (template_->remote_images != NULL)
    copy->remote_images = g_ptr_array_copy (template_->remote_images, (GCopyFunc) g_strdup, NULL);
  copy->path = g_strdup (template_->path);
  copy->scope = template_->scope;
  return copy;
}

void
mr_template_free (MrTemplate *template_)
{
  if (template_ == NULL)
    return;
  g_free (template_->name);
  g_free (template_->description);
  g_free (template_->subject);
  g_free (template_->text);
  g_clear_pointer (&template_->remote_images, g_ptr_array_unref);
  g_free (template_->html);
  g_ptr_array_unref (template_->attachments);
  g_free (template_->from_name);
  g_free (template_->from_address);
  g_free (template_->route);
  g_free (template_->app);
  g_free (template_->log);
  g_hash_table_unref (template_->partials);
  g_free (template_->path);
  g_hash_table_unref (template_->parsed);
  g_hash_table_unref (template_->folder_partials);
  g_mutex_clear (&template_->parsed_lock);
  g_free (template_);
}

void
mr_rendered_free (MrRendered *rendered)
{
  if (rendered == NULL)
    return;
  g_free (rendered->subject);
  g_free (rendered->text);
  g_free (rendered->html);
  g_ptr_array_unref (rendered->missing);
  g_free (rendered);
}

/* ---- Reading ---------------------------------------------------------------------------------- */

static gboolean
optional_string (JsonObject  *object,
                 const char  *member,
                 char       **out,
                 const char  *path,
                 GError     **error)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return invalid (error, path, _("“%s” must be text"), member);
  g_free (*out);
  *out = g_strdup (json_node_get_string (node));
  return TRUE;
}

/* Attachments: "path" relative to the template's folder, or "data" in base64 (exported files). */
static gboolean
read_attachments (MrTemplate  *template_,
                  JsonObject  *root,
                  const char  *path,
                  GPtrArray   *embedded,
                  GError     **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  JsonArray *array;

  if (!json_object_has_member (root, "attachments"))
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (json_object_get_member (root, "attachments")))
    return invalid (error, path, _("“attachments” must be a list"));

  array = json_object_get_array_member (root, "attachments");
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);
      MrTemplateAttachment *attachment;
      JsonObject *object;
      const char *file;

      if (!JSON_NODE_HOLDS_OBJECT (element))
        return invalid (error, path, _("attachment %u must be an object"), i + 1);
      object = json_node_get_object (element);
      file = json_object_get_string_member_with_default (object, "path", NULL);
      if (file == NULL && !json_object_has_member (object, "data"))
        return invalid (error, path, _("attachment %u has no “path”"), i + 1);

      attachment = g_new0 (MrTemplateAttachment, 1);
      attachment->filename = g_strdup (json_object_get_string_member_with_default (object, "name", NULL));
      attachment->content_id = g_strdup (json_object_get_string_member_with_default (object, "content_id", NULL));
      if (attachment->filename != NULL && !mr_validate_single_line (attachment->filename, NULL))
        {
          attachment_free (attachment);
          return invalid (error, path, _("attachment %u has a line break in its name"), i + 1);
        }
      if (file != NULL)
        attachment->path = g_path_is_absolute (file) ? g_strdup (file) : g_build_filename (dir, file, NULL);
      else if (embedded != NULL)
        g_ptr_array_add (embedded, json_node_copy (element));
      g_ptr_array_add (template_->attachments, attachment);
    }
  return TRUE;
}

static MrTemplate *
load_with_embedded (const char  *path,
                    GPtrArray   *embedded,
                    GError     **error)
{
  g_autoptr(MrTemplate) template_ = mr_template_new ();
  g_autoptr(JsonNode) parsed = NULL;
  g_autoptr(GError) local_error = NULL;
  JsonObject *root;
  JsonNode *version;
  g_autofree char *absolute = g_path_is_absolute (path) ? g_strdup (path) : g_canonicalize_filename (path, NULL);

  parsed = mr_json_parse_file (absolute, &local_error);
  if (parsed == NULL)
    {
      if (local_error->domain == G_FILE_ERROR)
        g_set_error (error, MR_TEMPLATE_ERROR, MR_TEMPLATE_ERROR_NOT_FOUND, "%s", local_error->message);
      else
        invalid (error, absolute, "%s", local_error->message);
      return NULL;
    }
  if (!JSON_NODE_HOLDS_OBJECT (parsed))
    {
      invalid (error, absolute, _("a template file holds a JSON object"));
      return NULL;
    }
  root = json_node_get_object (parsed);
  version = json_object_get_member (root, "schema_version");
  if (version == NULL || !JSON_NODE_HOLDS_VALUE (version) || json_node_get_value_type (version) != G_TYPE_INT64 ||
      json_node_get_int (version) < 1 || json_node_get_int (version) > TEMPLATE_SCHEMA_VERSION)
    {
      invalid (error, absolute, _("“schema_version” must be %d"), TEMPLATE_SCHEMA_VERSION);
      return NULL;
    }

  if (!optional_string (root, "name", &template_->name, absolute, error) ||
      !optional_string (root, "description", &template_->description, absolute, error) ||
      !optional_string (root, "subject", &template_->subject, absolute, error) ||
      !optional_string (root, "text", &template_->text, absolute, error) ||
      !optional_string (root, "html", &template_->html, absolute, error) ||
      !optional_string (root, "from_name", &template_->from_name, absolute, error) ||
      !optional_string (root, "from_address", &template_->from_address, absolute, error) ||
      !optional_string (root, "route", &template_->route, absolute, error) ||
      !optional_string (root, "app", &template_->app, absolute, error) ||
      !optional_string (root, "log", &template_->log, absolute, error))
    return NULL;

  if (template_->name == NULL || *template_->name == '\0' || !mr_validate_single_line (template_->name, NULL))
    {
      invalid (error, absolute, _("a template needs a “name” on one line"));
      return NULL;
    }
  if (template_->text == NULL && template_->html == NULL)
    {
      invalid (error, absolute, _("a template needs a “text” or an “html” body"));
      return NULL;
    }
  /* What is kept is what the editor shows and the recipient gets (mr-html-clean.h). */
  if (template_->html != NULL)
    {
      MrHtmlCleanReport report;
      char *cleaned = mr_html_clean (template_->html, &report);

      g_free (template_->html);
      template_->html = cleaned;
      g_clear_pointer (&template_->remote_images, g_ptr_array_unref);
      template_->remote_images = g_steal_pointer (&report.remote_images);
      mr_html_clean_report_clear (&report);
    }
  if (!g_strv_contains ((const char * const[]) { "smtp", "exchange", "auto", NULL }, template_->route))
    {
      invalid (error, absolute, _("“route” must be smtp, exchange or auto"));
      return NULL;
    }
  if (!g_strv_contains ((const char * const[]) { "full", "headers", NULL }, template_->log))
    {
      invalid (error, absolute, _("“log” must be full or headers"));
      return NULL;
    }
  if (template_->from_address != NULL && !mr_validate_address (template_->from_address, NULL))
    {
      invalid (error, absolute, _("“from_address” is not an email address"));
      return NULL;
    }
  if (template_->from_name != NULL && !mr_validate_single_line (template_->from_name, NULL))
    {
      invalid (error, absolute, _("“from_name” must be on one line"));
      return NULL;
    }
  if (template_->app != NULL && !mr_app_name_is_valid (template_->app))
    {
      invalid (error, absolute, _("“app” is not a valid application name"));
      return NULL;
    }
  for (guint i = 0; i < 2; i++)
    {
      const char *member = i == 0 ? "strict" : "signature";
      JsonNode *node = json_object_get_member (root, member);

      if (node != NULL && (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_BOOLEAN))
        {
          /* TRANSLATORS: %s is a template's setting, “strict” or “signature” */
          invalid (error, absolute, _("“%s” must be true or false"), member);
          return NULL;
        }
    }
  template_->strict = json_object_get_boolean_member_with_default (root, "strict", FALSE);
  template_->signature = json_object_get_boolean_member_with_default (root, "signature", TRUE);

  if (json_object_has_member (root, "partials"))
    {
      JsonNode *node = json_object_get_member (root, "partials");
      GList *names;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        {
          invalid (error, absolute, _("“partials” must be an object of name and text"));
          return NULL;
        }
      names = json_object_get_members (json_node_get_object (node));
      for (GList *l = names; l != NULL; l = l->next)
        {
          const char *source = json_object_get_string_member_with_default (json_node_get_object (node), l->data, NULL);
          if (source != NULL)
            g_hash_table_insert (template_->partials, g_strdup (l->data), g_strdup (source));
        }
      g_list_free (names);
    }

  if (!read_attachments (template_, root, absolute, embedded, error))
    return NULL;

  template_->path = g_steal_pointer (&absolute);
  template_->scope = MR_TEMPLATE_SCOPE_FILE;
  return g_steal_pointer (&template_);
}

MrTemplate *
mr_template_load (const char  *path,
                  GError     **error)
{
  return load_with_embedded (path, NULL, error);
}

static void
collect_from (const char *dir,
              MrTemplateScope scope,
              GPtrArray  *out)
{
  g_autoptr(GDir) handle = g_dir_open (dir, 0, NULL);
  const char *name;

  if (handle == NULL)
    return;
  while ((name = g_dir_read_name (handle)) != NULL)
    {
      g_autofree char *path = NULL;
      MrTemplate *template_;

      if (!g_str_has_suffix (name, ".json"))
        continue;
      path = g_build_filename (dir, name, NULL);
      template_ = mr_template_load (path, NULL);
      if (template_ == NULL)
        continue;
      template_->scope = scope;
      g_ptr_array_add (out, template_);
    }
}

static int
compare_templates (gconstpointer a,
                   gconstpointer b)
{
  const MrTemplate *ta = *(MrTemplate * const *) a;
  const MrTemplate *tb = *(MrTemplate * const *) b;
  int by_name = g_utf8_collate (ta->name, tb->name);

  return by_name != 0 ? by_name : (int) tb->scope - (int) ta->scope;
}

GPtrArray *
mr_template_list (GError **error)
{
  g_autofree char *personal = mr_template_get_personal_dir ();
  g_autofree char *company = mr_template_get_company_dir ();
  GPtrArray *all = g_ptr_array_new_with_free_func ((GDestroyNotify) mr_template_free);

  collect_from (personal, MR_TEMPLATE_SCOPE_PERSONAL, all);
  collect_from (company, MR_TEMPLATE_SCOPE_COMPANY, all);
  g_ptr_array_sort (all, compare_templates);
  return all;
}

MrTemplate *
mr_template_find (const char  *name_or_path,
                  GError     **error)
{
  g_autoptr(GPtrArray) all = NULL;

  if (strchr (name_or_path, '/') != NULL || g_str_has_suffix (name_or_path, ".json"))
    return mr_template_load (name_or_path, error);

  /* Personal first: a person's own version of a company template wins for them. */
  all = mr_template_list (NULL);
  for (guint scope = MR_TEMPLATE_SCOPE_PERSONAL + 1; scope-- > 0;)
    for (guint i = 0; i < all->len; i++)
      {
        MrTemplate *template_ = g_ptr_array_index (all, i);

        if (template_->scope == scope && g_utf8_collate (template_->name, name_or_path) == 0)
          return g_ptr_array_steal_index (all, i);
      }

  g_set_error (error, MR_TEMPLATE_ERROR, MR_TEMPLATE_ERROR_NOT_FOUND,
               _("There is no template “%s” (mailroom-cli templates list shows them)"), name_or_path);
  return NULL;
}

/* ---- Writing ---------------------------------------------------------------------------------- */

static JsonNode *
to_json (MrTemplate *template_,
         const char *dir,
         gboolean    embed)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  GHashTableIter iter;
  gpointer key, value;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "schema_version");
  json_builder_add_int_value (builder, TEMPLATE_SCHEMA_VERSION);
#define STRING(member, field) if (field != NULL) { json_builder_set_member_name (builder, member); json_builder_add_string_value (builder, field); }
  STRING ("name", template_->name);
  STRING ("description", template_->description);
  STRING ("subject", template_->subject);
  STRING ("text", template_->text);
  STRING ("html", template_->html);
  STRING ("from_name", template_->from_name);
  STRING ("from_address", template_->from_address);
  STRING ("route", template_->route);
  STRING ("app", template_->app);
  STRING ("log", template_->log);
#undef STRING
  json_builder_set_member_name (builder, "strict");
  json_builder_add_boolean_value (builder, template_->strict);
  if (!template_->signature)
    {
      json_builder_set_member_name (builder, "signature");
      json_builder_add_boolean_value (builder, FALSE);
    }

  if (g_hash_table_size (template_->partials) > 0)
    {
      json_builder_set_member_name (builder, "partials");
      json_builder_begin_object (builder);
      g_hash_table_iter_init (&iter, template_->partials);
      while (g_hash_table_iter_next (&iter, &key, &value))
        {
          json_builder_set_member_name (builder, key);
          json_builder_add_string_value (builder, value);
        }
      json_builder_end_object (builder);
    }

  json_builder_set_member_name (builder, "attachments");
  json_builder_begin_array (builder);
  for (guint i = 0; i < template_->attachments->len; i++)
    {
      MrTemplateAttachment *attachment = g_ptr_array_index (template_->attachments, i);
      g_autofree char *basename = g_path_get_basename (attachment->path);

      json_builder_begin_object (builder);
      if (embed)
        {
          g_autofree char *contents = NULL;
          g_autofree char *encoded = NULL;
          gsize length = 0;

          g_file_get_contents (attachment->path, &contents, &length, NULL);
          encoded = g_base64_encode ((const guchar *) (contents ? contents : ""), length);
          json_builder_set_member_name (builder, "data");
          json_builder_add_string_value (builder, encoded);
          json_builder_set_member_name (builder, "name");
          json_builder_add_string_value (builder, attachment->filename ? attachment->filename : basename);
        }
      else
        {
          g_autofree char *prefix = g_strconcat (dir, G_DIR_SEPARATOR_S, NULL);

          json_builder_set_member_name (builder, "path");
          json_builder_add_string_value (builder, g_str_has_prefix (attachment->path, prefix)
                                                    ? attachment->path + strlen (prefix) : attachment->path);
          if (attachment->filename != NULL)
            {
              json_builder_set_member_name (builder, "name");
              json_builder_add_string_value (builder, attachment->filename);
            }
        }
      if (attachment->content_id != NULL)
        {
          json_builder_set_member_name (builder, "content_id");
          json_builder_add_string_value (builder, attachment->content_id);
        }
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

static gboolean
write_json (JsonNode    *root,
            const char  *path,
            GError     **error)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autofree char *text = NULL;
  g_autofree char *dir = g_path_get_dirname (path);

  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno), _("Cannot create %s: %s"), dir,
                   g_strerror (saved_errno));
      return FALSE;
    }
  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);
  text = json_generator_to_data (generator, NULL);
  /* Atomic: a temporary file and a rename. */
  return g_file_set_contents_full (path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644, error);
}

gboolean
mr_template_save (MrTemplate  *template_,
                  const char  *path,
                  GError     **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autoptr(JsonNode) root = to_json (template_, dir, FALSE);

  return write_json (root, path, error);
}

gboolean
mr_template_export (MrTemplate  *template_,
                    const char  *path,
                    GError     **error)
{
  g_autoptr(JsonNode) root = NULL;

  for (guint i = 0; i < template_->attachments->len; i++)
    {
      MrTemplateAttachment *attachment = g_ptr_array_index (template_->attachments, i);

      if (!g_file_test (attachment->path, G_FILE_TEST_IS_REGULAR))
        {
          g_set_error (error, MR_TEMPLATE_ERROR, MR_TEMPLATE_ERROR_INVALID,
                       _("The attachment %s is missing, so the template cannot be exported"), attachment->path);
          return FALSE;
        }
    }
  root = to_json (template_, "", TRUE);
  return write_json (root, path, error);
}

static char *
file_name_for (const char *name)
{
  g_autofree char *lower = g_utf8_strdown (name, -1);
  GString *out = g_string_new (NULL);

  for (const char *p = lower; *p; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_isalnum (c))
        g_string_append_unichar (out, c);
      else if (out->len > 0 && out->str[out->len - 1] != '-')
        g_string_append_c (out, '-');
    }
  while (out->len > 0 && out->str[out->len - 1] == '-')
    g_string_truncate (out, out->len - 1);
  if (out->len == 0)
    g_string_append (out, "template");
  return g_string_free (out, FALSE);
}

/* Stores @template_ in the personal folder, its attachments copied next to it (so that it keeps
 * working when the source goes); @embedded holds the data of attachments that have no path. */
static MrTemplate *
store_personal (MrTemplate  *template_,
                GPtrArray   *embedded,
                gboolean     replace,
                GError     **error)
{
  g_autofree char *dir = mr_template_get_personal_dir ();
  g_autofree char *stem = NULL;
  g_autofree char *target = NULL;
  g_autofree char *files_dir = NULL;
  g_autoptr(GPtrArray) existing = mr_template_list (NULL);
  g_autoptr(GHashTable) kept = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GDir) listing = NULL;
  guint next_embedded = 0;
  const char *entry;

  for (guint i = 0; i < existing->len; i++)
    {
      MrTemplate *other = g_ptr_array_index (existing, i);

      if (other->scope != MR_TEMPLATE_SCOPE_PERSONAL || g_utf8_collate (other->name, template_->name) != 0)
        continue;
      if (!replace)
        {
          g_set_error (error, MR_TEMPLATE_ERROR, MR_TEMPLATE_ERROR_INVALID,
                       _("You already have a template named “%s”; rename or delete it first"), template_->name);
          return NULL;
        }
      target = g_strdup (other->path);
    }

  if (target != NULL)
    {
      g_autofree char *basename = g_path_get_basename (target);
      stem = g_strndup (basename, strlen (basename) - (g_str_has_suffix (basename, ".json") ? 5 : 0));
    }
  else
    {
      /* Names that differ only in punctuation share a stem: the second gets a number. */
      g_autofree char *base = file_name_for (template_->name);

      for (guint n = 1; target == NULL || g_file_test (target, G_FILE_TEST_EXISTS); n++)
        {
          g_free (stem);
          g_free (target);
          stem = n == 1 ? g_strdup (base) : g_strdup_printf ("%s-%u", base, n);
          target = g_strdup_printf ("%s/%s.json", dir, stem);
        }
    }
  files_dir = g_strdup_printf ("%s/%s.files", dir, stem);

  for (guint i = 0; i < template_->attachments->len; i++)
    {
      MrTemplateAttachment *attachment = g_ptr_array_index (template_->attachments, i);
      g_autofree char *contents = NULL;
      g_autofree char *basename = NULL;
      g_autofree char *copy = NULL;
      gsize length = 0;

      if (attachment->path == NULL && embedded != NULL && next_embedded < embedded->len)
        {
          JsonObject *object = json_node_get_object (g_ptr_array_index (embedded, next_embedded++));
          contents = (char *) g_base64_decode (json_object_get_string_member_with_default (object, "data", ""), &length);
        }
      else if (attachment->path == NULL)
        {
          g_set_error (error, MR_TEMPLATE_ERROR, MR_TEMPLATE_ERROR_INVALID, _("An attachment has no file"));
          return NULL;
        }
      else if (!g_file_get_contents (attachment->path, &contents, &length, error))
        return NULL;

      basename = attachment->path ? g_path_get_basename (attachment->path)
                                  : g_strdup (attachment->filename ? attachment->filename : "attachment");
      if (strchr (basename, '/') != NULL || g_str_equal (basename, "..") || g_str_equal (basename, "."))
        {
          g_set_error (error, MR_TEMPLATE_ERROR, MR_TEMPLATE_ERROR_INVALID, _("An attachment has an unusable name"));
          return NULL;
        }
      if (g_hash_table_contains (kept, basename))
        {
          g_set_error (error, MR_TEMPLATE_ERROR, MR_TEMPLATE_ERROR_INVALID,
                       _("Two attachments are named “%s”; rename one of them"), basename);
          return NULL;
        }
      if (g_mkdir_with_parents (files_dir, 0700) != 0)
        {
          int saved_errno = errno;
          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno), _("Cannot create %s: %s"),
                       files_dir, g_strerror (saved_errno));
          return NULL;
        }
      copy = g_build_filename (files_dir, basename, NULL);
      if (!g_file_set_contents_full (copy, contents ? contents : "", length, G_FILE_SET_CONTENTS_CONSISTENT, 0600, error))
        return NULL;
      g_hash_table_add (kept, g_strdup (basename));
      g_free (attachment->path);
      attachment->path = g_steal_pointer (&copy);
    }

  if (!mr_template_save (template_, target, error))
    return NULL;

  /* A replaced template's old attachments go once the new file is in place. */
  listing = g_dir_open (files_dir, 0, NULL);
  while (listing != NULL && (entry = g_dir_read_name (listing)) != NULL)
    if (!g_hash_table_contains (kept, entry))
      {
        g_autofree char *old = g_build_filename (files_dir, entry, NULL);
        g_remove (old);
      }

  g_free (template_->path);
  template_->path = g_steal_pointer (&target);
  template_->scope = MR_TEMPLATE_SCOPE_PERSONAL;
  return template_;
}

MrTemplate *
mr_template_import (const char  *path,
                    GError     **error)
{
  g_autoptr(GPtrArray) embedded = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  g_autoptr(MrTemplate) template_ = load_with_embedded (path, embedded, error);

  if (template_ == NULL || store_personal (template_, embedded, FALSE, error) == NULL)
    return NULL;
  return g_steal_pointer (&template_);
}

gboolean
mr_template_save_personal (MrTemplate  *template_,
                           gboolean     replace,
                           GError     **error)
{
  g_autofree char *name = g_strstrip (g_strdup (template_->name ? template_->name : ""));

  if (*name == '\0')
    {
      g_set_error (error, MR_TEMPLATE_ERROR, MR_TEMPLATE_ERROR_INVALID, _("A template needs a name"));
      return FALSE;
    }
  g_free (template_->name);
  template_->name = g_steal_pointer (&name);
  return store_personal (template_, NULL, replace, error) != NULL;
}

/* ---- Rendering -------------------------------------------------------------------------------- */

typedef struct {
  MrTemplate *template_;
  JsonNode   *outer;      /* {"sender": {"name", "address"}}, or NULL */
} PartialLookup;

/* A partial's source: the template's own, else the personal folder's, else the company's. A
 * folder's are read once for the template's life (a mailshot renders thousands of mails, each with
 * the signatures: they are what they were when it started) and never replaced, so that what is
 * returned stays valid while other threads render. */
static const char *
find_partial (const char *name,
              gpointer    user_data)
{
  PartialLookup *lookup = user_data;
  MrTemplate *template_ = lookup->template_;
  const char *own = g_hash_table_lookup (template_->partials, name);
  g_autofree char *personal = NULL;
  g_autofree char *company = NULL;
  char *contents = NULL;
  gpointer found;

  if (own != NULL)
    return own;
  /* A name that could leave the folder is no partial. */
  if (strchr (name, '/') != NULL || g_str_has_prefix (name, "."))
    return NULL;

  g_mutex_lock (&template_->parsed_lock);
  if (g_hash_table_lookup_extended (template_->folder_partials, name, NULL, &found))
    {
      g_mutex_unlock (&template_->parsed_lock);
      return found;
    }
  personal = mr_template_get_personal_dir ();
  company = mr_template_get_company_dir ();
  for (guint i = 0; i < 2 && contents == NULL; i++)
    {
      g_autofree char *file = g_strdup_printf ("%s.mustache", name);
      g_autofree char *path = g_build_filename (i == 0 ? personal : company, "partials", file, NULL);

      if (!g_file_get_contents (path, &contents, NULL, NULL))
        contents = NULL;
    }
  g_hash_table_insert (template_->folder_partials, g_strdup (name), contents);
  g_mutex_unlock (&template_->parsed_lock);
  return contents;
}

/* The source's tree, parsed once: a mailshot renders the same sources thousands of times. */
static MrMustache *
parsed_source (MrTemplate  *template_,
               const char  *source,
               GError     **error)
{
  MrMustache *mustache;

  /* Parsed trees are only read while rendering: one may serve several threads at once. */
  g_mutex_lock (&template_->parsed_lock);
  mustache = g_hash_table_lookup (template_->parsed, source);
  if (mustache == NULL && (mustache = mr_mustache_parse (source, error)) != NULL)
    g_hash_table_insert (template_->parsed, g_strdup (source), mustache);
  g_mutex_unlock (&template_->parsed_lock);
  return mustache;
}

static char *
render_part (MrTemplate     *template_,
             const char     *part,
             const char     *source,
             JsonNode       *data,
             gboolean        html,
             PartialLookup  *lookup,
             GPtrArray      *missing,
             guint64        *budget,
             GError        **error)
{
  MrMustache *mustache;
  char *out;

  if (source == NULL)
    return NULL;
  mustache = parsed_source (template_, source, error);
  if (mustache == NULL)
    {
      g_prefix_error (error, _("%s, %s: "), template_->name, part);
      return NULL;
    }
  out = mr_mustache_render_in (mustache, lookup->outer, data, html, find_partial, lookup, missing,
                               (gsize) MAX (*budget, 1), error);
  if (out == NULL)
    g_prefix_error (error, _("%s, %s: "), template_->name, part);
  else
    *budget -= MIN (*budget, strlen (out));
  return out;
}

/* Whether the template puts a signature where it wants it ({{> signature}} in a body). */
static gboolean
places_signature (MrTemplate *template_)
{
  const char *parts[] = { template_->text, template_->html };

  for (guint i = 0; i < G_N_ELEMENTS (parts); i++)
    {
      MrMustache *mustache = parts[i] ? parsed_source (template_, parts[i], NULL) : NULL;
      g_autoptr(GPtrArray) names = mustache ? mr_mustache_list_partials (mustache) : NULL;

      for (guint k = 0; names != NULL && k < names->len; k++)
        if (g_str_equal (g_ptr_array_index (names, k), MR_SIGNATURE_PARTIAL_PERSONAL) ||
            g_str_equal (g_ptr_array_index (names, k), MR_SIGNATURE_PARTIAL_COMPANY))
          return TRUE;
    }
  return FALSE;
}

/* The person's signature and the company's below the body (mr-signature.h): in the HTML as they
 * are, in a text body as text under "-- ". */
static gboolean
add_signatures (MrTemplate     *template_,
                JsonNode       *data,
                PartialLookup  *lookup,
                MrRendered     *rendered,
                guint64        *budget,
                GError        **error)
{
  const char *names[] = { MR_SIGNATURE_PARTIAL_PERSONAL, MR_SIGNATURE_PARTIAL_COMPANY };
  g_autoptr(GString) html = g_string_new (NULL);
  g_autoptr(GString) text = g_string_new (NULL);

  if (!template_->signature || places_signature (template_))
    return TRUE;
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      const char *source = find_partial (names[i], lookup);
      g_autofree char *out = NULL;
      g_autofree char *as_text = NULL;

      if (source == NULL || *source == '\0')
        continue;
      out = render_part (template_, _("signature"), source, data, TRUE, lookup, rendered->missing, budget, error);
      if (out == NULL)
        return FALSE;
      g_string_append_printf (html, "\n<div>%s</div>", out);
      as_text = mr_html_to_text (out);
      g_string_append_printf (text, "%s%s", text->len > 0 ? "\n" : "", g_strstrip (as_text));
    }
  if (html->len == 0)
    return TRUE;
  if (rendered->html != NULL)
    {
      char *with = g_strconcat (rendered->html, "\n<br>", html->str, NULL);

      g_free (rendered->html);
      rendered->html = with;
    }
  if (rendered->text != NULL)
    {
      char *with = g_strconcat (g_strchomp (rendered->text), "\n\n-- \n", text->str, "\n", NULL);

      g_free (rendered->text);
      rendered->text = with;
    }
  return TRUE;
}

MrRendered *
mr_template_render (MrTemplate  *template_,
                    JsonNode    *data,
                    GError     **error)
{
  return mr_template_render_limited (template_, data, 0, error);
}

MrRendered *
mr_template_render_limited (MrTemplate  *template_,
                            JsonNode    *data,
                            guint64      max_bytes,
                            GError     **error)
{
  return mr_template_render_as (template_, data, NULL, max_bytes, error);
}

gboolean
mr_template_is_sender_field (const char *name)
{
  return g_str_equal (name, "sender.name") || g_str_equal (name, "sender.address");
}

/* {"sender": {"name": …, "address": …}}: the template's own From, else @sender's. */
static JsonNode *
sender_context (MrTemplate       *template_,
                const MrOutgoing *sender)
{
  const char *name = template_->from_address ? template_->from_name : sender ? sender->from_name : NULL;
  const char *address = template_->from_address ? template_->from_address : sender ? sender->from_address : NULL;
  g_autoptr(JsonBuilder) builder = NULL;

  if (address == NULL)
    return NULL;
  builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "sender");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "name");
  json_builder_add_string_value (builder, name ? name : "");
  json_builder_set_member_name (builder, "address");
  json_builder_add_string_value (builder, address);
  json_builder_end_object (builder);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

MrRendered *
mr_template_render_as (MrTemplate        *template_,
                       JsonNode          *data,
                       const MrOutgoing  *sender,
                       guint64            max_bytes,
                       GError           **error)
{
  guint64 budget = max_bytes > 0 ? max_bytes : MR_MUSTACHE_DEFAULT_MAX_OUTPUT;
  g_autoptr(MrRendered) rendered = g_new0 (MrRendered, 1);
  g_autoptr(JsonNode) outer = sender_context (template_, sender);
  PartialLookup lookup = { template_, outer };

  rendered->missing = g_ptr_array_new_with_free_func (g_free);
  /* Headers and text verbatim, HTML escaped. */
  rendered->subject = render_part (template_, _("subject"), template_->subject, data, FALSE, &lookup, rendered->missing, &budget, error);
  if (rendered->subject == NULL)
    return NULL;
  if (template_->text != NULL &&
      (rendered->text = render_part (template_, _("text"), template_->text, data, FALSE, &lookup, rendered->missing, &budget, error)) == NULL)
    return NULL;
  if (template_->html != NULL &&
      (rendered->html = render_part (template_, _("HTML"), template_->html, data, TRUE, &lookup, rendered->missing, &budget, error)) == NULL)
    return NULL;
  if (!add_signatures (template_, data, &lookup, rendered, &budget, error))
    return NULL;

  /* A value may not add a header: the subject stays one line. */
  if (!mr_validate_single_line (rendered->subject, error))
    {
      g_prefix_error (error, _("The rendered subject: "));
      return NULL;
    }

  if (template_->strict && rendered->missing->len > 0)
    {
      g_ptr_array_add (rendered->missing, NULL);
      {
        g_autofree char *names = g_strjoinv (", ", (char **) rendered->missing->pdata);
        g_set_error (error, MR_TEMPLATE_ERROR, MR_TEMPLATE_ERROR_MISSING_VARIABLE,
                     _("%s is strict, and these variables have no value: %s"), template_->name, names);
      }
      return NULL;
    }
  return g_steal_pointer (&rendered);
}

GPtrArray *
mr_template_list_variables (MrTemplate  *template_,
                            GError     **error)
{
  const char *parts[] = { template_->subject, template_->text, template_->html };
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < G_N_ELEMENTS (parts); i++)
    {
      g_autoptr(MrMustache) mustache = NULL;
      g_autoptr(GPtrArray) found = NULL;

      if (parts[i] == NULL)
        continue;
      mustache = mr_mustache_parse (parts[i], error);
      if (mustache == NULL)
        {
          g_ptr_array_unref (names);
          return NULL;
        }
      found = mr_mustache_list_names (mustache);
      for (guint k = 0; k < found->len; k++)
        {
          gboolean seen = FALSE;

          for (guint n = 0; n < names->len; n++)
            seen = seen || g_str_equal (g_ptr_array_index (names, n), g_ptr_array_index (found, k));
          if (!seen && !mr_template_is_sender_field (g_ptr_array_index (found, k)))
            g_ptr_array_add (names, g_strdup (g_ptr_array_index (found, k)));
        }
    }
  return names;
}

static void
add_to_template (const char *path,
                 const char *filename,
                 const char *content_id,
                 gpointer    template_)
{
  GPtrArray *attachments = ((MrTemplate *) template_)->attachments;
  MrTemplateAttachment *attachment;

  for (guint i = 0; i < attachments->len; i++)
    if (g_strcmp0 (((MrTemplateAttachment *) g_ptr_array_index (attachments, i))->content_id, content_id) == 0)
      return;
  attachment = g_new0 (MrTemplateAttachment, 1);
  attachment->path = g_strdup (path);
  attachment->filename = g_strdup (filename);
  attachment->content_id = g_strdup (content_id);
  g_ptr_array_add (attachments, attachment);
}

gboolean
mr_template_embed_images (MrTemplate  *template_,
                          GError     **error)
{
  char *html;

  if (template_->html == NULL || strstr (template_->html, "data:image/") == NULL)
    return TRUE;
  html = mr_embed_data_pictures (template_->html, add_to_template, template_, error);
  if (html == NULL)
    return FALSE;
  g_free (template_->html);
  template_->html = html;
  return TRUE;
}

gboolean
mr_template_fill_outgoing (MrTemplate  *template_,
                           MrRendered  *rendered,
                           MrOutgoing  *outgoing,
                           GError     **error)
{
  g_free (outgoing->subject);
  outgoing->subject = g_strdup (rendered->subject);
  g_free (outgoing->text_body);
  outgoing->text_body = g_strdup (rendered->text);
  g_free (outgoing->html_body);
  outgoing->html_body = g_strdup (rendered->html);
  if (template_->from_address != NULL)
    {
      g_free (outgoing->from_address);
      outgoing->from_address = g_strdup (template_->from_address);
      g_free (outgoing->from_name);
      outgoing->from_name = g_strdup (template_->from_name);
    }
  for (guint i = 0; i < template_->attachments->len; i++)
    {
      MrTemplateAttachment *attachment = g_ptr_array_index (template_->attachments, i);
      mr_outgoing_add_attachment (outgoing, attachment->path, attachment->filename, attachment->content_id);
    }
  return mr_outgoing_embed_images (outgoing, error);
}
