/* mr-settings-file.c: one layer of settings in one JSON file */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mr-json.h"
#include "mr-settings-file.h"

struct _MrSettingsFile
{
  GObject     parent_instance;

  char       *path;
  MrScope     scope;
  gboolean    exists;
  GHashTable *values;  /* full key name → JsonNode */
  GHashTable *apps;    /* application profile names (a set) */
};

G_DEFINE_FINAL_TYPE (MrSettingsFile, mr_settings_file, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_PATH,
  PROP_SCOPE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
mr_settings_file_finalize (GObject *object)
{
  MrSettingsFile *self = MR_SETTINGS_FILE (object);

  g_clear_pointer (&self->path, g_free);
  g_clear_pointer (&self->values, g_hash_table_unref);
  g_clear_pointer (&self->apps, g_hash_table_unref);

  G_OBJECT_CLASS (mr_settings_file_parent_class)->finalize (object);
}

static void
mr_settings_file_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  MrSettingsFile *self = MR_SETTINGS_FILE (object);

  switch (prop_id)
    {
    case PROP_PATH:
      g_value_set_string (value, self->path);
      break;
    case PROP_SCOPE:
      g_value_set_int (value, self->scope);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mr_settings_file_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  MrSettingsFile *self = MR_SETTINGS_FILE (object);

  switch (prop_id)
    {
    case PROP_PATH:
      self->path = g_value_dup_string (value);
      break;
    case PROP_SCOPE:
      self->scope = g_value_get_int (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mr_settings_file_class_init (MrSettingsFileClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = mr_settings_file_finalize;
  object_class->get_property = mr_settings_file_get_property;
  object_class->set_property = mr_settings_file_set_property;

  properties[PROP_PATH] =
    g_param_spec_string ("path", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SCOPE] =
    g_param_spec_int ("scope", NULL, NULL, MR_SCOPE_COMPANY, MR_SCOPE_USER, MR_SCOPE_COMPANY,
                      G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
mr_settings_file_init (MrSettingsFile *self)
{
  self->values = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) json_node_unref);
  self->apps = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

MrSettingsFile *
mr_settings_file_new (const char *path,
                      MrScope     scope)
{
  g_return_val_if_fail (path != NULL, NULL);

  return g_object_new (MR_TYPE_SETTINGS_FILE, "path", path, "scope", scope, NULL);
}

MrSettingsFile *
mr_settings_file_copy (MrSettingsFile *self)
{
  MrSettingsFile *copy = mr_settings_file_new (self->path, self->scope);
  GHashTableIter iter;
  gpointer key, value;

  copy->exists = self->exists;
  g_hash_table_iter_init (&iter, self->values);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_hash_table_insert (copy->values, g_strdup (key), json_node_copy (value));
  g_hash_table_iter_init (&iter, self->apps);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_hash_table_add (copy->apps, g_strdup (key));
  return copy;
}

const char *
mr_settings_file_get_path (MrSettingsFile *self)
{
  return self->path;
}

MrScope
mr_settings_file_get_scope (MrSettingsFile *self)
{
  return self->scope;
}

gboolean
mr_settings_file_get_exists (MrSettingsFile *self)
{
  return self->exists;
}

const MrKeyInfo *
mr_settings_file_resolve_key (MrSettingsFile  *self,
                              const char      *key,
                              GError         **error)
{
  g_autofree char *app = NULL;
  const char *base;
  const MrKeyInfo *info;
  MrLayerFlags wanted;

  if (!mr_key_split (key, &app, &base))
    {
      g_set_error (error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_UNKNOWN_KEY,
                   _("“%s” is not a valid key: application keys look like apps.NAME.smtp.host, "
                     "where NAME has lower-case letters, digits, “-” and “_”"), key);
      return NULL;
    }

  info = mr_key_lookup (base);
  if (info == NULL)
    {
      g_set_error (error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_UNKNOWN_KEY,
                   _("Unknown key “%s” (docs/settings.md lists the keys)"), key);
      return NULL;
    }

  if (app != NULL)
    wanted = self->scope == MR_SCOPE_COMPANY ? MR_LAYER_APP : 0;
  else
    wanted = self->scope == MR_SCOPE_COMPANY ? MR_LAYER_COMPANY : MR_LAYER_USER;

  if ((info->layers & wanted) == 0)
    {
      if (app != NULL && self->scope == MR_SCOPE_COMPANY)
        g_set_error (error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_UNKNOWN_KEY,
                     _("“%s” cannot be set per application"), base);
      else if (self->scope == MR_SCOPE_COMPANY)
        g_set_error (error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_UNKNOWN_KEY,
                     _("“%s” is a personal setting, not a company setting"), key);
      else
        g_set_error (error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_UNKNOWN_KEY,
                     _("“%s” is a company setting and cannot be set in your own settings"), key);
      return NULL;
    }

  return info;
}

JsonNode *
mr_settings_file_get (MrSettingsFile *self,
                      const char     *key)
{
  return g_hash_table_lookup (self->values, key);
}

const char *
mr_settings_file_get_string (MrSettingsFile *self,
                             const char     *key)
{
  JsonNode *node = g_hash_table_lookup (self->values, key);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

static JsonNode *
checked_value (MrSettingsFile  *self,
               const char      *key,
               JsonNode        *value,
               GError         **error)
{
  const MrKeyInfo *info = mr_settings_file_resolve_key (self, key, error);
  JsonNode *normalized;

  if (info == NULL)
    return NULL;

  normalized = mr_key_normalize (info, value, error);
  if (normalized == NULL)
    g_prefix_error (error, "%s: ", key);
  return normalized;
}

static void
remember_app (MrSettingsFile *self,
              const char     *key)
{
  g_autofree char *app = NULL;
  const char *base;

  if (mr_key_split (key, &app, &base) && app != NULL)
    g_hash_table_add (self->apps, g_steal_pointer (&app));
}

gboolean
mr_settings_file_set (MrSettingsFile  *self,
                      const char      *key,
                      JsonNode        *value,
                      GError         **error)
{
  JsonNode *normalized = checked_value (self, key, value, error);

  if (normalized == NULL)
    return FALSE;

  g_hash_table_replace (self->values, g_strdup (key), normalized);
  remember_app (self, key);
  return TRUE;
}

gboolean
mr_settings_file_set_from_text (MrSettingsFile  *self,
                                const char      *key,
                                const char      *text,
                                GError         **error)
{
  const MrKeyInfo *info = mr_settings_file_resolve_key (self, key, error);
  g_autoptr(JsonNode) value = NULL;

  if (info == NULL)
    return FALSE;

  value = mr_key_parse (info, text, error);
  if (value == NULL)
    {
      g_prefix_error (error, "%s: ", key);
      return FALSE;
    }

  g_hash_table_replace (self->values, g_strdup (key), g_steal_pointer (&value));
  remember_app (self, key);
  return TRUE;
}

gboolean
mr_settings_file_add_app (MrSettingsFile  *self,
                          const char      *app,
                          GError         **error)
{
  if (self->scope != MR_SCOPE_COMPANY)
    {
      g_set_error (error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_UNKNOWN_KEY,
                   _("Application profiles are company settings"));
      return FALSE;
    }
  if (!mr_app_name_is_valid (app))
    {
      g_set_error (error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_INVALID_VALUE,
                   _("“%s” is not a valid application name: use lower-case letters, digits, “-” and “_”"), app);
      return FALSE;
    }
  g_hash_table_add (self->apps, g_strdup (app));
  return TRUE;
}

gboolean
mr_settings_file_has_app (MrSettingsFile *self,
                          const char     *app)
{
  return g_hash_table_contains (self->apps, app);
}

gboolean
mr_settings_file_unset (MrSettingsFile  *self,
                        const char      *key,
                        GError         **error)
{
  /* "apps.NAME" names a whole profile. */
  if (g_str_has_prefix (key, "apps.") && strchr (key + 5, '.') == NULL)
    {
      const char *app = key + 5;
      g_autofree char *prefix = g_strdup_printf ("apps.%s.", app);
      GHashTableIter iter;
      gpointer name;

      if (self->scope != MR_SCOPE_COMPANY || !mr_app_name_is_valid (app))
        {
          g_set_error (error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_UNKNOWN_KEY, _("Unknown key “%s”"), key);
          return FALSE;
        }
      g_hash_table_iter_init (&iter, self->values);
      while (g_hash_table_iter_next (&iter, &name, NULL))
        if (g_str_has_prefix (name, prefix))
          g_hash_table_iter_remove (&iter);
      g_hash_table_remove (self->apps, app);
      return TRUE;
    }

  if (mr_settings_file_resolve_key (self, key, error) == NULL)
    return FALSE;
  g_hash_table_remove (self->values, key);
  return TRUE;
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return g_strcmp0 (*(const char * const *) a, *(const char * const *) b);
}

static GStrv
sorted_keys (GHashTable *table)
{
  guint n;
  GStrv keys = (GStrv) g_hash_table_get_keys_as_array (table, &n);
  GStrv copy;

  qsort (keys, n, sizeof (char *), compare_strings);
  copy = g_strdupv (keys);
  g_free (keys);
  return copy;
}

GStrv
mr_settings_file_list_apps (MrSettingsFile *self)
{
  return sorted_keys (self->apps);
}

GStrv
mr_settings_file_list_keys (MrSettingsFile *self)
{
  return sorted_keys (self->values);
}

JsonNode *
mr_settings_file_to_json (MrSettingsFile *self)
{
  g_autoptr(JsonObject) object = json_object_new ();
  g_auto(GStrv) keys = mr_settings_file_list_keys (self);
  JsonNode *node;

  for (guint i = 0; keys[i] != NULL; i++)
    json_object_set_member (object, keys[i], json_node_copy (g_hash_table_lookup (self->values, keys[i])));

  node = json_node_new (JSON_NODE_OBJECT);
  json_node_set_object (node, object);
  return node;
}

/* ---- Loading ---------------------------------------------------------------------------------- */

static gboolean
corrupt (GError     **error,
         const char  *path,
         const char  *reason)
{
  g_set_error (error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_FILE_CORRUPT,
               _("%s cannot be used: %s. Mailroom leaves it as it is: correct or remove it."), path, reason);
  return FALSE;
}

/* json-glib says "<data>:LINE:COLUMN: Parse error: REASON"; say it with the file's name. */
static char *
describe_parse_error (const GError *parse_error)
{
  int line = 0, column = 0, consumed = 0;

  if (sscanf (parse_error->message, "<data>:%d:%d: Parse error: %n", &line, &column, &consumed) == 2 && consumed > 0)
    return g_strdup_printf (_("line %d: %s"), line, parse_error->message + consumed);
  return g_strdup (parse_error->message);
}

static gboolean
load_member (GHashTable      *values,
             MrSettingsFile  *self,
             const char      *key,
             JsonNode        *value,
             GError         **error)
{
  g_autoptr(GError) local_error = NULL;
  JsonNode *normalized = checked_value (self, key, value, &local_error);

  if (normalized == NULL)
    return corrupt (error, self->path, local_error->message);
  g_hash_table_replace (values, g_strdup (key), normalized);
  return TRUE;
}

gboolean
mr_settings_file_load (MrSettingsFile  *self,
                       GError         **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(JsonNode) parsed = NULL;
  g_autoptr(GHashTable) values = NULL;
  g_autoptr(GHashTable) apps = NULL;
  g_autofree char *contents = NULL;
  JsonObject *root, *settings, *apps_object;
  JsonNode *version;
  gsize length;
  GList *members;

  if (!g_file_get_contents (self->path, &contents, &length, &local_error))
    {
      if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        {
          g_hash_table_remove_all (self->values);
          g_hash_table_remove_all (self->apps);
          self->exists = FALSE;
          return TRUE;
        }
      if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_ACCES))
        g_set_error (error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_FILE_UNREADABLE,
                     _("Cannot read %s: permission denied. Ask your administrator to make it readable."),
                     self->path);
      else
        g_set_error (error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_FILE_UNREADABLE,
                     _("Cannot read %s: %s"), self->path, local_error->message);
      return FALSE;
    }

  if (length == 0)
    return corrupt (error, self->path, _("the file is empty"));
  if (!g_utf8_validate (contents, length, NULL))
    return corrupt (error, self->path, _("the file is not UTF-8 text"));

  parsed = mr_json_parse (contents, (gssize) length, &local_error);
  if (parsed == NULL)
    {
      g_autofree char *reason = describe_parse_error (local_error);
      return corrupt (error, self->path, reason);
    }

  if (!JSON_NODE_HOLDS_OBJECT (parsed))
    return corrupt (error, self->path, _("it does not hold a JSON object"));
  root = json_node_get_object (parsed);

  version = json_object_get_member (root, "schema_version");
  if (version == NULL || !JSON_NODE_HOLDS_VALUE (version) || json_node_get_value_type (version) != G_TYPE_INT64)
    return corrupt (error, self->path, _("“schema_version” is missing"));
  if (json_node_get_int (version) > MR_SETTINGS_SCHEMA_VERSION)
    {
      g_autofree char *number = g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (version));
      g_autofree char *reason = g_strdup_printf (_("it was written by a newer Mailroom (schema version %s)"), number);
      return corrupt (error, self->path, reason);
    }
  if (json_node_get_int (version) < 1)
    return corrupt (error, self->path, _("“schema_version” must be 1 or more"));

  values = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) json_node_unref);
  apps = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  if (json_object_has_member (root, "settings"))
    {
      if (!JSON_NODE_HOLDS_OBJECT (json_object_get_member (root, "settings")))
        return corrupt (error, self->path, _("“settings” must be a JSON object"));
      settings = json_object_get_object_member (root, "settings");
      members = json_object_get_members (settings);
      for (GList *l = members; l != NULL; l = l->next)
        {
          if (g_str_has_prefix (l->data, "apps."))
            {
              g_list_free (members);
              return corrupt (error, self->path, _("application profiles belong under “apps”"));
            }
          if (!load_member (values, self, l->data, json_object_get_member (settings, l->data), error))
            {
              g_list_free (members);
              return FALSE;
            }
        }
      g_list_free (members);
    }

  if (json_object_has_member (root, "apps"))
    {
      if (self->scope != MR_SCOPE_COMPANY || !JSON_NODE_HOLDS_OBJECT (json_object_get_member (root, "apps")))
        return corrupt (error, self->path, _("“apps” must be a JSON object in the company file"));
      apps_object = json_object_get_object_member (root, "apps");
      members = json_object_get_members (apps_object);
      for (GList *l = members; l != NULL; l = l->next)
        {
          const char *app = l->data;
          JsonNode *profile = json_object_get_member (apps_object, app);
          GList *profile_members;
          gboolean ok = TRUE;

          if (!mr_app_name_is_valid (app) || !JSON_NODE_HOLDS_OBJECT (profile))
            {
              g_autofree char *reason = g_strdup_printf (_("application profile “%s” is not valid"), app);
              g_list_free (members);
              return corrupt (error, self->path, reason);
            }
          g_hash_table_add (apps, g_strdup (app));
          profile_members = json_object_get_members (json_node_get_object (profile));
          for (GList *m = profile_members; ok && m != NULL; m = m->next)
            {
              g_autofree char *key = g_strdup_printf ("apps.%s.%s", app, (const char *) m->data);
              ok = load_member (values, self, key, json_object_get_member (json_node_get_object (profile), m->data), error);
            }
          g_list_free (profile_members);
          if (!ok)
            {
              g_list_free (members);
              return FALSE;
            }
        }
      g_list_free (members);
    }

  g_clear_pointer (&self->values, g_hash_table_unref);
  g_clear_pointer (&self->apps, g_hash_table_unref);
  self->values = g_steal_pointer (&values);
  self->apps = g_steal_pointer (&apps);
  self->exists = TRUE;
  return TRUE;
}

/* ---- Saving ----------------------------------------------------------------------------------- */

static char *
serialize (MrSettingsFile *self)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_auto(GStrv) keys = mr_settings_file_list_keys (self);
  g_auto(GStrv) apps = mr_settings_file_list_apps (self);
  g_autofree char *text = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "schema_version");
  json_builder_add_int_value (builder, MR_SETTINGS_SCHEMA_VERSION);

  json_builder_set_member_name (builder, "settings");
  json_builder_begin_object (builder);
  for (guint i = 0; keys[i] != NULL; i++)
    {
      if (g_str_has_prefix (keys[i], "apps."))
        continue;
      json_builder_set_member_name (builder, keys[i]);
      json_builder_add_value (builder, json_node_copy (g_hash_table_lookup (self->values, keys[i])));
    }
  json_builder_end_object (builder);

  if (apps[0] != NULL)
    {
      json_builder_set_member_name (builder, "apps");
      json_builder_begin_object (builder);
      for (guint a = 0; apps[a] != NULL; a++)
        {
          g_autofree char *prefix = g_strdup_printf ("apps.%s.", apps[a]);

          json_builder_set_member_name (builder, apps[a]);
          json_builder_begin_object (builder);
          for (guint i = 0; keys[i] != NULL; i++)
            {
              if (!g_str_has_prefix (keys[i], prefix))
                continue;
              json_builder_set_member_name (builder, keys[i] + strlen (prefix));
              json_builder_add_value (builder, json_node_copy (g_hash_table_lookup (self->values, keys[i])));
            }
          json_builder_end_object (builder);
        }
      json_builder_end_object (builder);
    }
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);
  json_generator_set_indent (generator, 2);
  text = json_generator_to_data (generator, NULL);
  return g_strconcat (text, "\n", NULL);
}

static gboolean
write_failed (GError     **error,
              const char  *path,
              int          saved_errno)
{
  if (saved_errno == EACCES || saved_errno == EPERM || saved_errno == EROFS)
    g_set_error (error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_FILE_UNWRITABLE,
                 _("You may not change %s: %s"), path, g_strerror (saved_errno));
  else
    g_set_error (error, MR_SETTINGS_ERROR, MR_SETTINGS_ERROR_WRITE_FAILED,
                 _("Could not write %s: %s"), path, g_strerror (saved_errno));
  return FALSE;
}

gboolean
mr_settings_file_can_write (MrSettingsFile *self)
{
  g_autofree char *dir = g_path_get_dirname (self->path);

  /* Replacing the file atomically needs the folder too. */
  if (g_access (self->path, F_OK) == 0 && g_access (self->path, W_OK) != 0)
    return FALSE;

  /* A folder that does not exist yet is created by whoever may write its nearest existing parent. */
  while (g_access (dir, F_OK) != 0)
    {
      char *parent = g_path_get_dirname (dir);

      if (g_str_equal (parent, dir))
        {
          g_free (parent);
          return FALSE;
        }
      g_free (dir);
      dir = parent;
    }
  return g_access (dir, W_OK) == 0;
}

gboolean
mr_settings_file_save (MrSettingsFile  *self,
                       GError         **error)
{
  g_autofree char *dir = g_path_get_dirname (self->path);
  g_autofree char *contents = serialize (self);
  g_autofree char *temp_path = NULL;
  struct stat existing;
  gboolean have_existing;
  mode_t mode;
  gsize length = strlen (contents);
  gsize written = 0;
  int fd;

  /* The user's folder is private; the company's is readable by everyone. */
  if (g_mkdir_with_parents (dir, self->scope == MR_SCOPE_USER ? 0700 : 0755) != 0)
    return write_failed (error, dir, errno);

  have_existing = g_stat (self->path, &existing) == 0;
  if (have_existing && g_access (self->path, W_OK) != 0)
    return write_failed (error, self->path, EACCES);

  if (self->scope == MR_SCOPE_USER)
    mode = 0600;
  else
    mode = have_existing ? (existing.st_mode & 07777) : 0644;

  temp_path = g_build_filename (dir, ".mailroom-XXXXXX", NULL);
  fd = g_mkstemp_full (temp_path, O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0)
    return write_failed (error, self->path, errno);

  while (written < length)
    {
      gssize n = write (fd, contents + written, length - written);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved_errno = errno;
          close (fd);
          g_unlink (temp_path);
          return write_failed (error, self->path, saved_errno);
        }
      written += n;
    }

  /* Keep the admin group and mode of the company file; a failed chown (not a member) is harmless. */
  if (have_existing && self->scope == MR_SCOPE_COMPANY && fchown (fd, (uid_t) -1, existing.st_gid) != 0)
    g_debug ("Could not keep the group of %s: %s", self->path, g_strerror (errno));

  if (fchmod (fd, mode) != 0 || fsync (fd) != 0)
    {
      int saved_errno = errno;
      close (fd);
      g_unlink (temp_path);
      return write_failed (error, self->path, saved_errno);
    }
  close (fd);

  if (g_rename (temp_path, self->path) != 0)
    {
      int saved_errno = errno;
      g_unlink (temp_path);
      return write_failed (error, self->path, saved_errno);
    }

  self->exists = TRUE;
  return TRUE;
}
