/*
 * db-users.c - the users table: reading accounts (one, or all by name),
 * adding and deleting them, and the columns that change later: password
 * hash, admin lock, LXD project and GPU quota. No other file has SQL
 * about users.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db-sql.h"
#include "db-users.h"
#include "xmalloc.h"

#define USER_COLS	"u.id, u.name, u.is_admin, u.pwhash IS NOT NULL, " \
	"u.failures, u.locked_until, u.created, u.disabled, u.project, " \
	"u.gpu_quota, u.snap_quota"
#define USER_NCOLS	11	/* a query's own columns come after these */

static void
user_read(sqlite3_stmt *st, struct user_row *u)
{
	memset(u, 0, sizeof(*u));
	u->id = sqlite3_column_int64(st, 0);
	snprintf(u->name, sizeof(u->name), "%s",
	    (const char *)sqlite3_column_text(st, 1));
	u->is_admin = sqlite3_column_int(st, 2);
	u->has_password = sqlite3_column_int(st, 3);
	u->failures = sqlite3_column_int(st, 4);
	u->locked_until = sqlite3_column_int64(st, 5);
	u->created = sqlite3_column_int64(st, 6);
	u->disabled = sqlite3_column_int(st, 7);
	if (sqlite3_column_text(st, 8) != NULL)
		snprintf(u->project, sizeof(u->project), "%s",
		    (const char *)sqlite3_column_text(st, 8));
	u->gpu_quota = sqlite3_column_type(st, 9) == SQLITE_NULL ? -1 :
	    sqlite3_column_int64(st, 9);
	u->snap_quota = sqlite3_column_type(st, 10) == SQLITE_NULL ? -1 :
	    sqlite3_column_int64(st, 10);
}

/* Step st for one row into u; 0 found, -1 not. Finalizes. */
static int
user_one(sqlite3_stmt *st, struct user_row *u)
{
	int r = -1;

	memset(u, 0, sizeof(*u));
	if (sqlite3_step(st) == SQLITE_ROW) {
		user_read(st, u);
		r = 0;
	}
	sqlite3_finalize(st);
	return r;
}

int
userdb_get(struct db *db, const char *name, struct user_row *u)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT " USER_COLS " FROM users u "
	    "WHERE u.name = ?");

	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	return user_one(st, u);
}

int
userdb_get_id(struct db *db, long long id, struct user_row *u)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT " USER_COLS " FROM users u "
	    "WHERE u.id = ?");

	sqlite3_bind_int64(st, 1, id);
	return user_one(st, u);
}

int
userdb_locked(struct db *db, long long id)
{
	struct user_row u;

	return userdb_get_id(db, id, &u) != 0 || u.disabled != 0;
}

int
userdb_list(struct db *db, const char *only, struct user_row **rows)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT " USER_COLS ", (SELECT "
	    "count(*) FROM keys k WHERE k.user_id = u.id) FROM users u WHERE "
	    "?1 IS NULL OR u.name = ?1 ORDER BY u.name");
	int n = 0, cap = 0;

	*rows = NULL;
	if (only != NULL)
		sqlite3_bind_text(st, 1, only, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			*rows = xrealloc(*rows, (size_t)cap * sizeof(**rows));
		}
		user_read(st, &(*rows)[n]);
		(*rows)[n++].nkeys = sqlite3_column_int(st, USER_NCOLS);
	}
	sqlite3_finalize(st);
	return n;
}

int
userdb_all(struct db *db, struct user_row **rows)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT " USER_COLS " FROM users u "
	    "ORDER BY u.id");
	int n = 0, cap = 0;

	*rows = NULL;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			*rows = xrealloc(*rows, (size_t)cap * sizeof(**rows));
		}
		user_read(st, &(*rows)[n++]);
	}
	sqlite3_finalize(st);
	return n;
}

char *
userdb_pwhash(struct db *db, long long id)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT pwhash FROM users WHERE "
	    "id = ?");
	char *hash = NULL;

	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_text(st, 0) != NULL)
		hash = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return hash;
}

int
userdb_add(struct db *db, const char *name, int is_admin,
    const char *gpu_quota, const char *snap_quota, long long *id)
{
	sqlite3_stmt *st = db_prepare(db, "INSERT INTO users (name, is_admin, "
	    "created, gpu_quota, snap_quota) VALUES (?, ?, ?, nullif(?, ''), "
	    "nullif(?, ''))");

	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, is_admin != 0);
	sqlite3_bind_int64(st, 3, (long long)time(NULL));
	sqlite3_bind_text(st, 4, gpu_quota, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, snap_quota, -1, SQLITE_STATIC);
	if (db_done(db, st) != 0)
		return -1;
	if (id != NULL)
		*id = sqlite3_last_insert_rowid(db->h);
	return 0;
}

int
userdb_delete(struct db *db, long long id)
{
	/* Their all-time GPU seconds go too: a new user of the same name
	   starts from nothing (the per-minute history stays, by name). */
	sqlite3_stmt *st = db_prepare(db, "DELETE FROM gpu_totals WHERE user = "
	    "(SELECT name FROM users WHERE id = ?)");

	sqlite3_bind_int64(st, 1, id);
	if (db_done(db, st) != 0)
		return -1;
	st = db_prepare(db, "DELETE FROM users WHERE id = ?");
	sqlite3_bind_int64(st, 1, id);
	return db_done(db, st);
}

int
userdb_set_pwhash(struct db *db, long long id, const char *hash)
{
	sqlite3_stmt *st = db_prepare(db, "UPDATE users SET pwhash = ?, "
	    "failures = 0, locked_until = 0 WHERE id = ?");

	sqlite3_bind_text(st, 1, hash, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, id);
	return db_done(db, st);
}

int
userdb_lock(struct db *db, long long id, int lock)
{
	sqlite3_stmt *st = db_prepare(db, lock ? "UPDATE users SET disabled = "
	    "1 WHERE id = ?" : "UPDATE users SET disabled = 0, failures = 0, "
	    "locked_until = 0 WHERE id = ?");

	sqlite3_bind_int64(st, 1, id);
	return db_done(db, st);
}

int
userdb_set_gpu_quota(struct db *db, long long id, long long quota)
{
	sqlite3_stmt *st = db_prepare(db, "UPDATE users SET gpu_quota = ? "
	    "WHERE id = ?");

	if (quota >= 0)
		sqlite3_bind_int64(st, 1, quota);
	sqlite3_bind_int64(st, 2, id);
	return db_done(db, st);
}

int
userdb_set_snap_quota(struct db *db, long long id, long long quota)
{
	sqlite3_stmt *st = db_prepare(db, "UPDATE users SET snap_quota = ? "
	    "WHERE id = ?");

	if (quota >= 0)
		sqlite3_bind_int64(st, 1, quota);
	sqlite3_bind_int64(st, 2, id);
	return db_done(db, st);
}

int
userdb_set_project(struct db *db, long long id, const char *project)
{
	sqlite3_stmt *st = db_prepare(db, "UPDATE users SET project = ? WHERE "
	    "id = ? AND project IS NULL");

	sqlite3_bind_text(st, 1, project, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, id);
	return db_done(db, st);
}

int
userdb_gpus(struct db *db, long long id, int *used, int *quota)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT (SELECT count(DISTINCT "
	    "g.gpu) FROM gpus g JOIN containers ct ON ct.id = g.container_id "
	    "WHERE ct.user_id = ?1), (SELECT gpu_quota FROM users WHERE "
	    "id = ?1)");
	int r = -1;

	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*used = sqlite3_column_int(st, 0);
		*quota = sqlite3_column_type(st, 1) == SQLITE_NULL ? -1 :
		    sqlite3_column_int(st, 1);
		r = 0;
	}
	sqlite3_finalize(st);
	return r;
}
