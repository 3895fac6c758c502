/*
 * db-legacy.c - reading the original tool's SQLite file (admin import).
 * Read-only, and what the file's schema says runs nothing of ours: a
 * view or trigger in it may not call functions with side effects.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sqlite3.h>

#include "db-legacy.h"
#include "db-sql.h"
#include "xmalloc.h"

struct legacydb {
	sqlite3	*h;
};

struct legacydb *
legacydb_open(const char *path, char *err, size_t errsz)
{
	struct legacydb *o = xcalloc(1, sizeof(*o));

	if (sqlite3_open_v2(path, &o->h, SQLITE_OPEN_READONLY,
	    NULL) != SQLITE_OK || sqlite3_db_config(o->h,
	    SQLITE_DBCONFIG_DEFENSIVE, 1, NULL) != SQLITE_OK ||
	    sqlite3_db_config(o->h, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0,
	    NULL) != SQLITE_OK || sqlite3_exec(o->h, "SELECT 1 FROM "
	    "sqlite_master", NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(err, errsz, "%s", o->h ? sqlite3_errmsg(o->h) :
		    "no memory");
		legacydb_close(o);
		return NULL;
	}
	return o;
}

void
legacydb_close(struct legacydb *o)
{
	if (o == NULL)
		return;
	sqlite3_close(o->h);
	free(o);
}

char *
legacydb_column(struct legacydb *o, const char *table,
    const char *const *names)
{
	char *sql = xasprintf("SELECT name FROM pragma_table_info('%s')",
	    table), *found = NULL;
	sqlite3_stmt *st;
	int i;

	for (i = 0; names[i] != NULL && found == NULL; i++) {
		if (sqlite3_prepare_v2(o->h, sql, -1, &st, NULL) != SQLITE_OK)
			break;
		while (sqlite3_step(st) == SQLITE_ROW) {
			const char *n = (const char *)sqlite3_column_text(st, 0);

			if (n != NULL && strcasecmp(n, names[i]) == 0) {
				found = xstrdup(names[i]);
				break;
			}
		}
		sqlite3_finalize(st);
	}
	free(sql);
	return found;
}

int
legacydb_has_user(struct legacydb *o, const char *ucol, const char *name)
{
	char *sql = xasprintf("SELECT 1 FROM lab_users WHERE \"%s\" = ?",
	    ucol);
	sqlite3_stmt *st;
	int found = 0;

	if (sqlite3_prepare_v2(o->h, sql, -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		found = sqlite3_step(st) == SQLITE_ROW;
		sqlite3_finalize(st);
	}
	free(sql);
	return found;
}

/* Prepare sql (freed); NULL with the reason in err. */
static sqlite3_stmt *
prepare(struct legacydb *o, char *sql, char *err, size_t errsz)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(o->h, sql, -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errsz, "%s", sqlite3_errmsg(o->h));
		st = NULL;
	}
	free(sql);
	return st;
}

static const unsigned char *
text_or_null(sqlite3_stmt *st, int col)
{
	return sqlite3_column_type(st, col) == SQLITE_TEXT ?
	    sqlite3_column_text(st, col) : NULL;
}

int
legacydb_users(struct legacydb *o, const char *ucol,
    void (*fn)(void *, const unsigned char *), void *arg, char *err,
    size_t errsz)
{
	sqlite3_stmt *st = prepare(o, xasprintf("SELECT \"%s\" FROM lab_users "
	    "ORDER BY 1", ucol), err, errsz);

	if (st == NULL)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW)
		fn(arg, text_or_null(st, 0));
	sqlite3_finalize(st);
	return 0;
}

int
legacydb_containers(struct legacydb *o, const char *ncol, const char *ocol,
    const char *pcol, int (*fn)(void *, const unsigned char *,
    const unsigned char *, int), void *arg, char *err, size_t errsz)
{
	sqlite3_stmt *st = prepare(o, xasprintf("SELECT \"%s\", \"%s\", "
	    "%s%s%s FROM lab_containers ORDER BY 2, 1", ncol, ocol, pcol ?
	    "\"" : "", pcol ? pcol : "NULL", pcol ? "\"" : ""), err, errsz);

	if (st == NULL)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (fn(arg, text_or_null(st, 0), text_or_null(st, 1),
		    sqlite3_column_int(st, 2)) != 0)
			break;
	}
	sqlite3_finalize(st);
	return 0;
}
