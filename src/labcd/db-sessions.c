/*
 * db-sessions.c - the sessions table: a login adds one, logout and a new
 * password end them, expired ones go at the next login; a request's
 * token is looked up here. No other file has SQL about sessions.
 */
#include <stdio.h>

#include "db-sessions.h"
#include "db-sql.h"

int
sessdb_add(struct db *db, const char *token_hash, long long user_id,
    uid_t uid, long long created, long long expires)
{
	sqlite3_stmt *st = db_prepare(db, "INSERT INTO sessions (token_hash, "
	    "user_id, uid, created, expires) VALUES (?, ?, ?, ?, ?)");

	sqlite3_bind_text(st, 1, token_hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, user_id);
	sqlite3_bind_int64(st, 3, (long long)uid);
	sqlite3_bind_int64(st, 4, created);
	sqlite3_bind_int64(st, 5, expires);
	return db_done(db, st);
}

int
sessdb_prune(struct db *db, long long now)
{
	sqlite3_stmt *st = db_prepare(db, "DELETE FROM sessions WHERE "
	    "expires <= ?");

	sqlite3_bind_int64(st, 1, now);
	return db_done(db, st);
}

int
sessdb_delete(struct db *db, const char *token_hash)
{
	sqlite3_stmt *st = db_prepare(db, "DELETE FROM sessions WHERE "
	    "token_hash = ?");

	sqlite3_bind_text(st, 1, token_hash, -1, SQLITE_STATIC);
	return db_done(db, st);
}

int
sessdb_end_user(struct db *db, long long user_id, const char *keep_hash)
{
	sqlite3_stmt *st = db_prepare(db, "DELETE FROM sessions WHERE "
	    "user_id = ? AND token_hash IS NOT ?");

	sqlite3_bind_int64(st, 1, user_id);
	if (keep_hash != NULL)
		sqlite3_bind_text(st, 2, keep_hash, -1, SQLITE_TRANSIENT);
	return db_done(db, st);
}

int
sessdb_find(struct db *db, const char *token_hash, long long now,
    char user[33], long long *uid)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT u.name, s.uid FROM sessions "
	    "s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ? AND "
	    "s.expires > ?");
	int r = -1;

	sqlite3_bind_text(st, 1, token_hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*uid = sqlite3_column_int64(st, 1);
		snprintf(user, 33, "%s", (const char *)sqlite3_column_text(st,
		    0));
		r = 0;
	}
	sqlite3_finalize(st);
	return r;
}

int
sessdb_known(struct db *db, const char *name, uid_t uid, long long now)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT 1 FROM sessions JOIN users "
	    "ON users.id = sessions.user_id WHERE users.name = ? AND "
	    "sessions.uid = ? AND sessions.expires > ?");
	int r;

	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (long long)uid);
	sqlite3_bind_int64(st, 3, now);
	r = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return r;
}
