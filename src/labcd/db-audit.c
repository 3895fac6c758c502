/*
 * db-audit.c - the audit table: adding a row, reading the newest for
 * 'log' and 'admin log', and the retention's count and removal. No other
 * file has SQL about the audit log.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db-audit.h"
#include "db-sql.h"
#include "xmalloc.h"

#define STR(x)		#x
#define XSTR(x)		STR(x)

int
auditdb_add(struct db *db, long long when, const char *actor,
    const char *user, const char *command, const char *target,
    const char *result)
{
	sqlite3_stmt *st = db_prepare(db, "INSERT INTO audit (time, actor, "
	    "user, command, target, result) VALUES (?, ?, ?, ?, ?, ?)");

	sqlite3_bind_int64(st, 1, when);
	sqlite3_bind_text(st, 2, actor, -1, SQLITE_STATIC);
	if (user != NULL)
		sqlite3_bind_text(st, 3, user, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, command, -1, SQLITE_STATIC);
	if (target != NULL)
		sqlite3_bind_text(st, 5, target, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, result, -1, SQLITE_STATIC);
	return db_done(db, st);
}

static char *
text_or_null(sqlite3_stmt *st, int col)
{
	const unsigned char *s = sqlite3_column_text(st, col);

	return s != NULL ? xstrdup((const char *)s) : NULL;
}

int
auditdb_list(struct db *db, const char *user, long limit,
    struct audit_row **rows)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT time, actor, user, command, "
	    "target, result FROM (SELECT * FROM audit WHERE ?1 IS NULL OR "
	    "user = ?1 ORDER BY id DESC LIMIT ?2) ORDER BY id");
	struct audit_row *r;
	int n = 0, cap = 0;

	*rows = NULL;
	if (user != NULL)
		sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, limit);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			*rows = xrealloc(*rows, (size_t)cap * sizeof(**rows));
		}
		r = &(*rows)[n++];
		r->time = sqlite3_column_int64(st, 0);
		r->actor = text_or_null(st, 1);
		r->user = text_or_null(st, 2);
		r->command = text_or_null(st, 3);
		r->target = text_or_null(st, 4);
		r->result = text_or_null(st, 5);
	}
	sqlite3_finalize(st);
	return n;
}

void
auditdb_free(struct audit_row *rows, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		free(rows[i].actor);
		free(rows[i].user);
		free(rows[i].command);
		free(rows[i].target);
		free(rows[i].result);
	}
	free(rows);
}

int
auditdb_count_before(struct db *db, long long before)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT count(*) FROM audit WHERE "
	    "time < ?");
	int n = 0;

	sqlite3_bind_int64(st, 1, before);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

long long
auditdb_first(struct db *db, const char *actor, const char *command)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT min(time) FROM audit WHERE "
	    "actor = ? AND command = ?");
	long long t = 0;

	sqlite3_bind_text(st, 1, actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, command, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		t = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return t;
}

int
auditdb_prune(struct db *db, long long before)
{
	struct timespec pause = { 0, 20 * 1000000 };
	sqlite3_stmt *st;
	int n = 0, k;

	/*
	 * In batches, each its own transaction, with a pause between: one
	 * DELETE of a year of rows held the write lock past the busy
	 * timeout of the requests waiting for it.
	 */
	do {
		st = db_prepare(db, "DELETE FROM audit WHERE id IN (SELECT id "
		    "FROM audit WHERE time < ? ORDER BY id LIMIT "
		    XSTR(AUDIT_PRUNE_BATCH) ")");
		sqlite3_bind_int64(st, 1, before);
		if (db_done(db, st) != 0)
			return -1;
		n += k = sqlite3_changes(db->h);
		if (k > 0)
			nanosleep(&pause, NULL);
	} while (k == AUDIT_PRUNE_BATCH);
	return n;
}
