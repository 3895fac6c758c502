/*
 * db-sql.h - what the store's files (db*.c) share and no other file
 * sees: SQLite itself, and preparing and finishing statements (db.c).
 */
#ifndef LABCD_DB_SQL_H
#define LABCD_DB_SQL_H

#include <sqlite3.h>

struct db;

/* Prepare a statement; aborts on a bug in the SQL text itself. */
sqlite3_stmt *db_prepare(struct db *db, const char *sql);
/* Step a statement expected to finish (no rows); 0 or -1. Finalizes. */
int	db_done(struct db *db, sqlite3_stmt *st);

#endif
