/*
 * store/sqlerr.h — one way to turn SQLite failures into the one-line
 * messages store/ reports (the writer in store.c and the reader in export.c
 * share it). Internal to store/.
 */
#ifndef WN_STORE_SQLERR_H
#define WN_STORE_SQLERR_H

#include <stddef.h>
#include <sqlite3.h>

/* SQLite's message, plus the OS reason when SQLite had one (opening a
 * directory says "unable to open database file (Is a directory)"). */
void wn_store_db_err(sqlite3 *db, char *err, size_t errlen);

/* Open an existing database for reading only (never created, never
 * written; a write-protected WAL database is read as immutable when no WAL
 * content waits beside it): 0, or -1 with the reason in err (*db may then
 * need sqlite3_close_v2). store/export.c. */
int wn_store_open_read(const char *path, sqlite3 **db, char *err, size_t errlen);

#endif
