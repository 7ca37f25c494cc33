/* fuzz-common.c: what the fuzz targets share */

#include "config.h"

#include <glib/gstdio.h>

#include "fuzz-common.h"

char *
fuzz_write_input (const char    *name,
                  const uint8_t *data,
                  size_t         size)
{
  static char *dir;
  char *path;

  if (dir == NULL)
    {
      dir = g_dir_make_tmp ("mailroom-fuzz-XXXXXX", NULL);
      g_assert (dir != NULL);
    }
  path = g_build_filename (dir, name, NULL);
  g_assert (g_file_set_contents (path, (const char *) data, (gssize) size, NULL));
  return path;
}
