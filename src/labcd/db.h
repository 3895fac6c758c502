/*
 * db.h - labcd's SQLite database: opening it safely, the schema and its
 * forward migrations, transactions. Queries live in db-*.c by subject,
 * one file per table family (db-users.c, db-sessions.c, db-keys.c,
 * db-audit.c, ...), with typed rows out; no other file holds SQL.
 * One struct db per thread (SQLite connections are not shared).
 */
#ifndef LABCD_DB_H
#define LABCD_DB_H

#include <stddef.h>

#define DB_SCHEMA_VERSION	4

struct sqlite3;

struct db {
	struct sqlite3	*h;	/* for db*.c alone (db-sql.h) */
	char	 err[512];
};

/*
 * Create the file if missing (mode 0600, directory 0700), refuse anything
 * that is not a regular file (symlink, FIFO, ...), migrate the schema.
 * Called once at start-up. 0 or -1 with the reason in err.
 */
int	db_prepare_file(const char *path, char *err, size_t errsz);
/* Open a connection (WAL, foreign keys, busy timeout). NULL + err. */
struct db *db_open(const char *path, char *err, size_t errsz);
void	db_close(struct db *db);
int	db_schema_version(struct db *db);
/* Is the database open read-only (its file system, its mode)? 1 or 0. */
int	db_readonly(struct db *db);

/*
 * PRAGMA integrity_check and foreign_key_check, said rather than aborting
 * on a broken schema. -1 if integrity_check cannot run (*integrity: why);
 * else 0, *integrity NULL when it says ok, or its first three problems.
 * *fk: NULL if foreign_key_check cannot run, else its first three broken
 * references ("table row N -> parent"), *fk_rows of them. Caller frees.
 */
int	db_check(struct db *db, char **integrity, char **fk, int *fk_rows);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. 0 or -1 (db->err). */
int	db_begin(struct db *db);
int	db_commit(struct db *db);
void	db_rollback(struct db *db);

struct checkup;
/* doctor's check of the database (db-doctor.c): integrity and broken
   references, with the commands that mend them. */
void	db_doctor(struct checkup *d);

#endif
