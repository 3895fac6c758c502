/*
 * db-notices.c - the notices table: every query on it.
 */
#include <stdio.h>
#include <time.h>

#include "db-notices.h"
#include "db-sql.h"

int
noticedb_add(struct db *db, long long user_id, const char *text)
{
	sqlite3_stmt *st = db_prepare(db, "INSERT INTO notices (user_id, "
	    "time, text) VALUES (?, ?, substr(?, 1, 500))");

	sqlite3_bind_int64(st, 1, user_id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
	sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
	if (db_done(db, st) != 0)
		return -1;
	/* A member away for months does not grow the table without end. */
	st = db_prepare(db, "DELETE FROM notices WHERE user_id = ?1 AND id "
	    "NOT IN (SELECT id FROM notices WHERE user_id = ?1 ORDER BY id "
	    "DESC LIMIT ?2)");
	sqlite3_bind_int64(st, 1, user_id);
	sqlite3_bind_int(st, 2, NOTICES_KEPT);
	return db_done(db, st);
}

int
noticedb_any(struct db *db, long long user_id)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT 1 FROM notices WHERE "
	    "user_id = ? LIMIT 1");
	int any;

	sqlite3_bind_int64(st, 1, user_id);
	any = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return any;
}

size_t
noticedb_take(struct db *db, long long user_id, char (*out)[NOTICE_MAX],
    size_t max)
{
	sqlite3_stmt *st;
	long long last = 0;
	size_t n = 0;

	/* In one transaction: two commands at once show each notice once. */
	if (db_begin(db) != 0)
		return 0;
	st = db_prepare(db, "SELECT id, text FROM notices WHERE user_id = ? "
	    "ORDER BY id LIMIT ?");
	sqlite3_bind_int64(st, 1, user_id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
	while (n < max && sqlite3_step(st) == SQLITE_ROW) {
		last = sqlite3_column_int64(st, 0);
		snprintf(out[n++], NOTICE_MAX, "%s",
		    (const char *)sqlite3_column_text(st, 1));
	}
	sqlite3_finalize(st);
	st = db_prepare(db, "DELETE FROM notices WHERE user_id = ? AND id <= ?");
	sqlite3_bind_int64(st, 1, user_id);
	sqlite3_bind_int64(st, 2, last);
	if (db_done(db, st) != 0 || db_commit(db) != 0) {
		db_rollback(db);
		return 0;
	}
	return n;
}
