/* mr-sqlite.h: what the engine's SQLite files (the sent log, the mailshot journal) share */
#pragma once

#include <sqlite3.h>

/* Switches @db to WAL. A new database opened by two processes at once (a window watching, the CLI
 * starting a job) has both ask; the one that comes second waits for the first rather than failing
 * with SQLITE_BUSY, which SQLite returns here without its busy handler. Returns SQLITE_OK or the
 * error. */
int mr_sqlite_use_wal (sqlite3 *db);
