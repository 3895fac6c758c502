/*
 * db-gpus.c - the gpus table: every query on it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db-gpus.h"
#include "db-sql.h"
#include "xmalloc.h"

static void
use_of(sqlite3_stmt *st, struct gpu_use *u)
{
	memset(u, 0, sizeof(*u));
	u->gpu = sqlite3_column_int(st, 0);
	u->exclusive = sqlite3_column_int(st, 1);
	if (sqlite3_column_count(st) > 2) {
		snprintf(u->user, sizeof(u->user), "%s",
		    (const char *)sqlite3_column_text(st, 2));
		snprintf(u->name, sizeof(u->name), "%s",
		    (const char *)sqlite3_column_text(st, 3));
	}
}

/* Every row of st as a gpu_use. Finalizes. */
static size_t
uses(sqlite3_stmt *st, struct gpu_use **out)
{
	size_t n = 0, cap = 0;

	*out = NULL;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		use_of(st, &(*out)[n++]);
	}
	sqlite3_finalize(st);
	return n;
}

int
gpudb_holder(struct db *db, long long ct_id, int gpu, int only_exclusive,
    struct gpu_use *u)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT g.gpu, g.exclusive, u.name, "
	    "c.name FROM gpus g JOIN containers c ON c.id = g.container_id "
	    "JOIN users u ON u.id = c.user_id WHERE g.gpu = ? AND "
	    "g.container_id != ? AND (g.exclusive OR NOT ?) LIMIT 1");
	int r = -1;

	sqlite3_bind_int(st, 1, gpu);
	sqlite3_bind_int64(st, 2, ct_id);
	sqlite3_bind_int(st, 3, only_exclusive);
	if (sqlite3_step(st) == SQLITE_ROW) {
		use_of(st, u);
		r = 0;
	}
	sqlite3_finalize(st);
	return r;
}

void
gpudb_users(struct db *db, int gpu, struct gpu_use **out, size_t *n)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT g.gpu, g.exclusive, u.name, "
	    "c.name FROM gpus g JOIN containers c ON c.id = g.container_id "
	    "JOIN users u ON u.id = c.user_id WHERE g.gpu = ? ORDER BY "
	    "u.name, c.name");

	sqlite3_bind_int(st, 1, gpu);
	*n = uses(st, out);
}

long long
gpudb_user_quota(struct db *db, long long user_id)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT gpu_quota FROM users WHERE "
	    "id = ?");
	long long quota = -1;

	sqlite3_bind_int64(st, 1, user_id);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) != SQLITE_NULL)
		quota = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return quota;
}

int
gpudb_count_with(struct db *db, long long user_id, const char *list)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT count(*) FROM (SELECT g.gpu "
	    "FROM gpus g JOIN containers c ON c.id = g.container_id WHERE "
	    "c.user_id = ?1 UNION SELECT value FROM json_each('[' || ?2 || "
	    "']'))");
	int n = 0;

	sqlite3_bind_int64(st, 1, user_id);
	sqlite3_bind_text(st, 2, list, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

int
gpudb_add(struct db *db, long long ct_id, int gpu, const char *pci,
    int exclusive)
{
	sqlite3_stmt *st = db_prepare(db, "INSERT OR REPLACE INTO gpus "
	    "(container_id, gpu, pci, exclusive) VALUES (?, ?, ?, ?)");

	sqlite3_bind_int64(st, 1, ct_id);
	sqlite3_bind_int(st, 2, gpu);
	sqlite3_bind_text(st, 3, pci, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, exclusive);
	return db_done(db, st);
}

int
gpudb_remove(struct db *db, long long ct_id, int gpu)
{
	sqlite3_stmt *st = db_prepare(db, "DELETE FROM gpus WHERE "
	    "container_id = ?1 AND (?2 < 0 OR gpu = ?2)");

	sqlite3_bind_int64(st, 1, ct_id);
	sqlite3_bind_int(st, 2, gpu);
	return db_done(db, st);
}

int
gpudb_has(struct db *db, long long ct_id, int gpu)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT 1 FROM gpus WHERE "
	    "container_id = ?1 AND (?2 < 0 OR gpu = ?2)");
	int has;

	sqlite3_bind_int64(st, 1, ct_id);
	sqlite3_bind_int(st, 2, gpu);
	has = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return has;
}

size_t
gpudb_of_container(struct db *db, long long ct_id, struct gpu_use **out)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT gpu, exclusive FROM gpus "
	    "WHERE container_id = ? ORDER BY gpu");

	sqlite3_bind_int64(st, 1, ct_id);
	return uses(st, out);
}

int
gpudb_count_all(struct db *db)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT count(*) FROM gpus");
	int n = 0;

	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}
