/* mr-string-store.c: an .xlsx workbook's shared strings, in memory and past a size in a temporary file */

#include "config.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "mr-string-store.h"

#define STRINGS_IN_MEMORY (4 * 1024 * 1024) /* shared strings past this go to a temporary file */

#define SPILL_BLOCK (64 * 1024)


void
mr_string_store_init (MrStringStore *store)
{
  guint64 zero = 0;

  store->text = g_string_new (NULL);
  store->offsets = g_array_new (FALSE, FALSE, sizeof (guint64));
  store->text_fd = store->offsets_fd = -1;
  g_array_append_val (store->offsets, zero);
}

void
mr_string_store_clear (MrStringStore *store)
{
  if (store->text != NULL)
    g_string_free (store->text, TRUE);
  if (store->offsets != NULL)
    g_array_unref (store->offsets);
  if (store->text_out != NULL)
    g_string_free (store->text_out, TRUE);
  if (store->offsets_out != NULL)
    g_string_free (store->offsets_out, TRUE);
  if (store->text_fd >= 0)
    close (store->text_fd);
  if (store->offsets_fd >= 0)
    close (store->offsets_fd);
  g_free (store->scratch);
  for (guint i = 0; i < MR_STRING_STORE_CACHE_BLOCKS; i++)
    {
      g_free (store->text_cache.data[i]);
      g_free (store->offsets_cache.data[i]);
    }
  memset (store, 0, sizeof *store);
  store->text_fd = store->offsets_fd = -1;
}

static int
open_unlinked (GError **error)
{
  g_autofree char *name = NULL;
  int fd = g_file_open_tmp ("mailroom-strings-XXXXXX", &name, error);

  if (fd >= 0)
    g_unlink (name);
  return fd;
}

static gboolean
write_all (int           fd,
           const void   *data,
           gsize         length,
           GError      **error)
{
  const char *p = data;

  while (length > 0)
    {
      gssize n = write (fd, p, length);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          int saved = errno;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                       _("The spreadsheet’s texts could not be set aside in a temporary file: %s"),
                       g_strerror (saved));
          return FALSE;
        }
      p += n;
      length -= n;
    }
  return TRUE;
}

/* Appends to a file through its buffer; @flush writes what is buffered. */
static gboolean
buffered_write (int          fd,
                GString     *buffer,
                const void  *data,
                gsize        length,
                gboolean     flush,
                GError     **error)
{
  g_string_append_len (buffer, data, length);
  if (buffer->len < SPILL_BLOCK && !flush)
    return TRUE;
  if (!write_all (fd, buffer->str, buffer->len, error))
    return FALSE;
  g_string_truncate (buffer, 0);
  return TRUE;
}

/* The shared strings kept in memory before the rest goes to a file: 4 MB, or what
 * MAILROOM_STRINGS_IN_MEMORY says (bytes; for the tests, which read smaller files the same way). */
static gsize
strings_in_memory (void)
{
  static gsize limit;

  if (g_once_init_enter (&limit))
    {
      const char *set = g_getenv ("MAILROOM_STRINGS_IN_MEMORY");
      guint64 value = STRINGS_IN_MEMORY;

      if (set != NULL && !g_ascii_string_to_unsigned (set, 10, 1024, G_MAXSIZE, &value, NULL))
        value = STRINGS_IN_MEMORY;
      g_once_init_leave (&limit, (gsize) value);
    }
  return limit;
}

gboolean
mr_string_store_add (MrStringStore  *store,
                     const char     *text,
                     gsize           length,
                     GError        **error)
{
  guint64 end;

  if (store->text_fd < 0 && store->text->len + length + store->offsets->len * sizeof (guint64) > strings_in_memory ())
    {
      /* Too many for memory: what there is goes to the files, and what comes after too. */
      store->text_fd = open_unlinked (error);
      if (store->text_fd < 0)
        return FALSE;
      store->offsets_fd = open_unlinked (error);
      if (store->offsets_fd < 0)
        return FALSE;
      if (!write_all (store->text_fd, store->text->str, store->text->len, error) ||
          !write_all (store->offsets_fd, store->offsets->data, store->offsets->len * sizeof (guint64), error))
        return FALSE;
      store->text_length = store->text->len;
      g_string_free (store->text, TRUE);
      store->text = NULL;
      g_array_unref (store->offsets);
      store->offsets = NULL;
      store->text_out = g_string_sized_new (SPILL_BLOCK + 4096);
      store->offsets_out = g_string_sized_new (SPILL_BLOCK + 4096);
    }
  store->count++;
  if (store->text_fd < 0)
    {
      g_string_append_len (store->text, text, length);
      end = store->text->len;
      g_array_append_val (store->offsets, end);
      return TRUE;
    }
  store->text_length += length;
  end = store->text_length;
  return buffered_write (store->text_fd, store->text_out, text, length, FALSE, error) &&
         buffered_write (store->offsets_fd, store->offsets_out, &end, sizeof end, FALSE, error);
}

/* Once every string is in: what is buffered goes to the files. */
gboolean
mr_string_store_finish (MrStringStore  *store,
                        GError        **error)
{
  if (store->text_fd < 0)
    return TRUE;
  return buffered_write (store->text_fd, store->text_out, NULL, 0, TRUE, error) &&
         buffered_write (store->offsets_fd, store->offsets_out, NULL, 0, TRUE, error);
}

/* Reads up to @length bytes at @offset; returns how many, or -1. */
static gssize
read_at (int     fd,
         void   *buffer,
         gsize   length,
         guint64 offset)
{
  char *p = buffer;
  gsize done = 0;

  while (done < length)
    {
      gssize n = pread (fd, p + done, length - done, offset + done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return -1;
      if (n == 0)
        break;
      done += n;
    }
  return done;
}

/* @length bytes at @offset of the cache's file into @out; FALSE past its end or at an error. */
static gboolean
cache_read (MrBlockCache *cache,
            guint64     offset,
            gsize       length,
            char       *out)
{
  while (length > 0)
    {
      guint64 block = offset / SPILL_BLOCK;
      guint slot = MR_STRING_STORE_CACHE_BLOCKS, oldest = 0;
      gsize within, n;

      for (guint i = 0; i < MR_STRING_STORE_CACHE_BLOCKS; i++)
        {
          if (cache->data[i] != NULL && cache->block[i] == block)
            slot = i;
          if (cache->used[i] < cache->used[oldest])
            oldest = i;
        }
      if (slot == MR_STRING_STORE_CACHE_BLOCKS)
        {
          gssize got;

          slot = oldest;
          if (cache->data[slot] == NULL)
            cache->data[slot] = g_malloc (SPILL_BLOCK);
          got = read_at (cache->fd, cache->data[slot], SPILL_BLOCK, block * SPILL_BLOCK);
          if (got < 0)
            {
              g_clear_pointer (&cache->data[slot], g_free);
              return FALSE;
            }
          cache->block[slot] = block;
          cache->length[slot] = got;
        }
      cache->used[slot] = ++cache->clock;
      within = offset - block * SPILL_BLOCK;
      if (within >= cache->length[slot])
        return FALSE;
      n = MIN (length, cache->length[slot] - within);
      memcpy (out, cache->data[slot] + within, n);
      out += n;
      offset += n;
      length -= n;
    }
  return TRUE;
}

/* String @index, or NULL when there is none. Valid until the next lookup. */
const char *
mr_string_store_get (MrStringStore *store,
                     guint64        index)
{
  guint64 start, end;

  if (index >= store->count)
    return NULL;
  if (store->text_fd < 0)
    {
      start = g_array_index (store->offsets, guint64, index);
      end = g_array_index (store->offsets, guint64, index + 1);
      g_free (store->scratch);
      store->scratch = g_strndup (store->text->str + start, end - start);
      return store->scratch;
    }
  store->text_cache.fd = store->text_fd;
  store->offsets_cache.fd = store->offsets_fd;
  if (!cache_read (&store->offsets_cache, index * sizeof (guint64), sizeof start, (char *) &start) ||
      !cache_read (&store->offsets_cache, (index + 1) * sizeof (guint64), sizeof end, (char *) &end) ||
      end < start || end - start > MR_SPREADSHEET_MAX_CELL)
    return NULL;
  g_free (store->scratch);
  store->scratch = g_malloc (end - start + 1);
  if (!cache_read (&store->text_cache, start, end - start, store->scratch))
    return NULL;
  store->scratch[end - start] = '\0';
  return store->scratch;
}
