/* mr-string-store.h: an .xlsx workbook's shared strings, in memory and past a size in a temporary
 * file (private to the spreadsheet reader)
 *
 * A workbook may hold millions of distinct texts (an address a row); the reader keeps memory flat by
 * moving them, past STRINGS_IN_MEMORY (4 MB, or $MAILROOM_STRINGS_IN_MEMORY), and their offsets to two
 * unlinked files, and reads them back through a small cache of blocks.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Kept of a cell's text; past it the rest is dropped. */
#define MR_SPREADSHEET_MAX_CELL (1024 * 1024)

/* The last blocks read of a file, the least recently used given up first: the sheet refers to the
 * strings mostly in order, with a few (the repeated ones) again and again. */
#define MR_STRING_STORE_CACHE_BLOCKS 8

typedef struct {
  int      fd;
  char    *data[MR_STRING_STORE_CACHE_BLOCKS];
  guint64  block[MR_STRING_STORE_CACHE_BLOCKS];
  gsize    length[MR_STRING_STORE_CACHE_BLOCKS];
  guint64  used[MR_STRING_STORE_CACHE_BLOCKS];
  guint64  clock;
} MrBlockCache;

typedef struct {
  GString *text;        /* the strings, one after the other */
  GArray  *offsets;     /* guint64: where each starts; one more at the end */
  int      text_fd;     /* past STRINGS_IN_MEMORY: both moved to unlinked files */
  int      offsets_fd;
  GString *text_out;    /* written to the files in blocks */
  GString *offsets_out;
  guint64  text_length;
  guint64  count;
  char    *scratch;     /* the last string looked up */
  MrBlockCache text_cache;
  MrBlockCache offsets_cache;
} MrStringStore;

void        mr_string_store_init   (MrStringStore  *store);
void        mr_string_store_clear  (MrStringStore  *store);
/* Adds the next string (@length bytes of @text). */
gboolean    mr_string_store_add    (MrStringStore  *store,
                                    const char     *text,
                                    gsize           length,
                                    GError        **error);
/* After the last one: what is still buffered goes to the files. */
gboolean    mr_string_store_finish (MrStringStore  *store,
                                    GError        **error);
/* String @index, or NULL when there is none. Valid until the next lookup. */
const char *mr_string_store_get    (MrStringStore  *store,
                                    guint64         index);

G_END_DECLS
