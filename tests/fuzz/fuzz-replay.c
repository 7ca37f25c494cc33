/* fuzz-replay.c: a main() for a fuzz target without libFuzzer
 *
 * Runs LLVMFuzzerTestOneInput() on every file in the folders (or the files) on the command line:
 * the seed corpus and the crashes found so far, as regression tests in `make test` and under the
 * sanitizers in `make test-sanitize`. Prints TAP, one test per folder.
 */

#include "config.h"

#include <stdio.h>

#include "fuzz-common.h"

static int
by_name (gconstpointer a,
         gconstpointer b)
{
  return g_strcmp0 (*(const char * const *) a, *(const char * const *) b);
}

static guint
replay (const char *path)
{
  g_autofree char *contents = NULL;
  gsize length = 0;
  g_autoptr(GError) error = NULL;

  if (!g_file_get_contents (path, &contents, &length, &error))
    g_error ("%s", error->message);
  LLVMFuzzerTestOneInput ((const uint8_t *) contents, length);
  return 1;
}

int
main (int    argc,
      char **argv)
{
  printf ("1..%d\n", argc - 1);
  for (int i = 1; i < argc; i++)
    {
      guint count = 0;

      if (g_file_test (argv[i], G_FILE_TEST_IS_DIR))
        {
          g_autoptr(GDir) dir = g_dir_open (argv[i], 0, NULL);
          g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
          const char *name;

          while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
            if (name[0] != '.')
              g_ptr_array_add (names, g_build_filename (argv[i], name, NULL));
          g_ptr_array_sort (names, by_name);
          for (guint k = 0; k < names->len; k++)
            count += replay (g_ptr_array_index (names, k));
        }
      else if (g_file_test (argv[i], G_FILE_TEST_EXISTS))
        count += replay (argv[i]);
      printf ("ok %d %s: %u inputs\n", i, argv[i], count);
      fflush (stdout);
    }
  return 0;
}
