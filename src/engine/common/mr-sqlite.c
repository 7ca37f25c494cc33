/* mr-sqlite.c: what the engine's SQLite files share */

#include "config.h"

#include <glib.h>

#include "mr-sqlite.h"

int
mr_sqlite_use_wal (sqlite3 *db)
{
  int result = SQLITE_BUSY;

  /* Up to 5 s, as the busy timeout the files use. */
  for (guint attempt = 0; attempt < 500; attempt++)
    {
      sqlite3_stmt *statement = NULL;

      result = sqlite3_prepare_v2 (db, "PRAGMA journal_mode = WAL", -1, &statement, NULL);
      if (result == SQLITE_OK)
        {
          result = sqlite3_step (statement);
          if (result == SQLITE_ROW)
            result = g_ascii_strcasecmp ((const char *) sqlite3_column_text (statement, 0), "wal") == 0 ? SQLITE_OK
                                                                                                        : SQLITE_ERROR;
        }
      sqlite3_finalize (statement);
      if (result != SQLITE_BUSY && result != SQLITE_LOCKED)
        return result;
      g_usleep (10 * 1000);
    }
  return result;
}
