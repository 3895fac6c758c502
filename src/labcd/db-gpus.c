/*
 * db-gpus.c - the gpus table: every query on it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db-gpus.h"
#include "db-sql.h"
#include "xmalloc.h"

/* The columns every gpu_use is read from, and where they come from. */
#define USE_COLS "g.gpu, g.exclusive, u.name, c.name, g.since, " \
	"g.lease_end, g.warned, g.idle_since, c.id, c.user_id, " \
	"u.gpu_idle_exempt OR c.gpu_idle_exempt, g.pci, g.server "
#define USE_FROM "FROM gpus g JOIN containers c ON c.id = " \
	"g.container_id JOIN users u ON u.id = c.user_id "

static void
use_of(sqlite3_stmt *st, struct gpu_use *u)
{
	memset(u, 0, sizeof(*u));
	u->gpu = sqlite3_column_int(st, 0);
	u->exclusive = sqlite3_column_int(st, 1);
	snprintf(u->user, sizeof(u->user), "%s",
	    (const char *)sqlite3_column_text(st, 2));
	snprintf(u->name, sizeof(u->name), "%s",
	    (const char *)sqlite3_column_text(st, 3));
	u->since = sqlite3_column_int64(st, 4);
	u->lease_end = sqlite3_column_int64(st, 5);
	u->warned = sqlite3_column_int(st, 6);
	u->idle_since = sqlite3_column_int64(st, 7);
	u->ct_id = sqlite3_column_int64(st, 8);
	u->user_id = sqlite3_column_int64(st, 9);
	u->exempt = sqlite3_column_int(st, 10);
	snprintf(u->pci, sizeof(u->pci), "%s",
	    (const char *)sqlite3_column_text(st, 11));
	snprintf(u->server, sizeof(u->server), "%s",
	    (const char *)sqlite3_column_text(st, 12));
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
gpudb_holder(struct db *db, long long ct_id, const char *server, int gpu,
    int only_exclusive, struct gpu_use *u)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT " USE_COLS USE_FROM
	    "WHERE g.gpu = ? AND g.container_id != ? AND (g.exclusive OR "
	    "NOT ?) AND (g.server = ?4 OR g.server = '') LIMIT 1");
	int r = -1;

	sqlite3_bind_int(st, 1, gpu);
	sqlite3_bind_int64(st, 2, ct_id);
	sqlite3_bind_int(st, 3, only_exclusive);
	sqlite3_bind_text(st, 4, server, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		use_of(st, u);
		r = 0;
	}
	sqlite3_finalize(st);
	return r;
}

void
gpudb_users(struct db *db, const char *server, int gpu, struct gpu_use **out,
    size_t *n)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT " USE_COLS USE_FROM
	    "WHERE g.gpu = ? AND (g.server = ?2 OR g.server = '') ORDER BY "
	    "u.name, c.name");

	sqlite3_bind_int(st, 1, gpu);
	sqlite3_bind_text(st, 2, server, -1, SQLITE_STATIC);
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
gpudb_count_with(struct db *db, long long user_id, const char *server,
    const char *list)
{
	/* A GPU is its server and number: the same number on two servers
	   is two GPUs. */
	sqlite3_stmt *st = db_prepare(db, "SELECT count(*) FROM (SELECT "
	    "g.server || ':' || g.gpu FROM gpus g JOIN containers c ON c.id = "
	    "g.container_id WHERE c.user_id = ?1 UNION SELECT ?3 || ':' || "
	    "value FROM json_each('[' || ?2 || ']'))");
	int n = 0;

	sqlite3_bind_int64(st, 1, user_id);
	sqlite3_bind_text(st, 2, list, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, server, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

int
gpudb_add(struct db *db, long long ct_id, const char *server, int gpu,
    const char *pci, int exclusive, long long lease_end)
{
	sqlite3_stmt *st = db_prepare(db, "INSERT OR REPLACE INTO gpus "
	    "(container_id, gpu, pci, exclusive, since, lease_end, server) "
	    "VALUES (?, ?, ?, ?, CAST(strftime('%s', 'now') AS INTEGER), ?, "
	    "?)");

	sqlite3_bind_int64(st, 1, ct_id);
	sqlite3_bind_int(st, 2, gpu);
	sqlite3_bind_text(st, 3, pci, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, exclusive);
	sqlite3_bind_int64(st, 5, lease_end);
	sqlite3_bind_text(st, 6, server, -1, SQLITE_STATIC);
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
	sqlite3_stmt *st = db_prepare(db, "SELECT " USE_COLS USE_FROM
	    "WHERE g.container_id = ? ORDER BY g.gpu");

	sqlite3_bind_int64(st, 1, ct_id);
	return uses(st, out);
}

int
gpudb_held_count(struct db *db, const char *server)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT count(DISTINCT gpu) FROM "
	    "gpus WHERE server = ?1 OR server = ''");
	int n = 0;

	sqlite3_bind_text(st, 1, server, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
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

size_t
gpudb_all(struct db *db, struct gpu_use **out)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT " USE_COLS USE_FROM
	    "ORDER BY g.server, g.gpu, u.name, c.name");

	return uses(st, out);
}

int
gpudb_set_lease(struct db *db, long long ct_id, int gpu, long long lease_end)
{
	sqlite3_stmt *st = db_prepare(db, "UPDATE gpus SET lease_end = ?3, "
	    "warned = 0 WHERE container_id = ?1 AND gpu = ?2");

	sqlite3_bind_int64(st, 1, ct_id);
	sqlite3_bind_int(st, 2, gpu);
	sqlite3_bind_int64(st, 3, lease_end);
	return db_done(db, st) == 0 && sqlite3_changes(db->h) == 1 ? 0 : -1;
}

int
gpudb_set_warned(struct db *db, long long ct_id, int gpu)
{
	sqlite3_stmt *st = db_prepare(db, "UPDATE gpus SET warned = 1 WHERE "
	    "container_id = ? AND gpu = ?");

	sqlite3_bind_int64(st, 1, ct_id);
	sqlite3_bind_int(st, 2, gpu);
	return db_done(db, st);
}

int
gpudb_set_idle(struct db *db, long long ct_id, int gpu, long long idle_since)
{
	sqlite3_stmt *st = db_prepare(db, "UPDATE gpus SET idle_since = ? "
	    "WHERE container_id = ? AND gpu = ?");

	sqlite3_bind_int64(st, 1, idle_since);
	sqlite3_bind_int64(st, 2, ct_id);
	sqlite3_bind_int(st, 3, gpu);
	return db_done(db, st);
}

int
gpudb_set_exempt(struct db *db, long long user_id, long long ct_id, int on)
{
	sqlite3_stmt *st = ct_id > 0 ?
	    db_prepare(db, "UPDATE containers SET gpu_idle_exempt = ?1 WHERE "
	    "id = ?2 AND user_id = ?3") :
	    db_prepare(db, "UPDATE users SET gpu_idle_exempt = ?1 WHERE "
	    "id = ?3 AND ?2 = ?2");

	sqlite3_bind_int(st, 1, on);
	sqlite3_bind_int64(st, 2, ct_id);
	sqlite3_bind_int64(st, 3, user_id);
	return db_done(db, st) == 0 && sqlite3_changes(db->h) == 1 ? 0 : -1;
}

int
gpudb_usage_add(struct db *db, const struct gpu_sample_row *r)
{
	sqlite3_stmt *st = db_prepare(db, "INSERT INTO gpu_usage (minute, "
	    "gpu, user, container, held, used, util, mem, secs, server) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT "
	    "(minute, server, gpu, user, container) DO UPDATE SET held = "
	    "held + ?5, used = used + ?6, util = util + ?7, mem = max(mem, "
	    "?8), secs = secs + ?9");

	int k;

	for (k = 0; k < 2; k++) {
		if (k == 1)
			st = db_prepare(db, "INSERT INTO gpu_usage_hour (hour, "
			    "gpu, user, container, held, used, util, mem, "
			    "server) VALUES (?1 / 60, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
			    "?10) ON CONFLICT (hour, server, gpu, user, "
			    "container) DO UPDATE SET held = held + ?5, used = "
			    "used + ?6, util = util + ?7, mem = max(mem, ?8)");
		sqlite3_bind_text(st, 10, r->server != NULL ? r->server : "",
		    -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 1, r->minute);
		sqlite3_bind_int(st, 2, r->gpu);
		sqlite3_bind_text(st, 3, r->user, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, r->container, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 5, r->held);
		sqlite3_bind_int(st, 6, r->used);
		sqlite3_bind_int64(st, 7, r->util);
		sqlite3_bind_int64(st, 8, r->mem);
		if (k == 0)
			sqlite3_bind_int(st, 9, r->secs);
		if (db_done(db, st) != 0)
			return -1;
	}
	if (*r->user == '\0' || (r->held == 0 && r->used == 0))
		return 0;
	st = db_prepare(db, "INSERT INTO gpu_totals (user, held, used) VALUES "
	    "(?1, ?2, ?3) ON CONFLICT (user) DO UPDATE SET held = held + ?2, "
	    "used = used + ?3");
	sqlite3_bind_text(st, 1, r->user, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, r->held);
	sqlite3_bind_int(st, 3, r->used);
	return db_done(db, st);
}

size_t
gpudb_totals(struct db *db, struct gpu_usage_row **out)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT user, held, used FROM "
	    "gpu_totals ORDER BY user");
	size_t n = 0, cap = 0;

	*out = NULL;
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct gpu_usage_row *r;

		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		r = &(*out)[n++];
		memset(r, 0, sizeof(*r));
		snprintf(r->user, sizeof(r->user), "%s",
		    (const char *)sqlite3_column_text(st, 0));
		r->gpu = -1;
		r->held = sqlite3_column_int64(st, 1);
		r->used = sqlite3_column_int64(st, 2);
	}
	sqlite3_finalize(st);
	return n;
}

size_t
gpudb_util_history(struct db *db, long long since_minute, int step_minutes,
    struct gpu_util_point **out)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT gpu, (minute - ?1) / ?2, "
	    "sum(util) * 1.0 / sum(secs), server FROM gpu_usage WHERE minute "
	    ">= ?1 AND secs > 0 GROUP BY server, 1, 2 ORDER BY server, 1, 2");
	size_t n = 0, cap = 0;

	*out = NULL;
	sqlite3_bind_int64(st, 1, since_minute);
	sqlite3_bind_int(st, 2, step_minutes > 0 ? step_minutes : 1);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		(*out)[n].gpu = sqlite3_column_int(st, 0);
		(*out)[n].bucket = sqlite3_column_int64(st, 1);
		(*out)[n].util = sqlite3_column_double(st, 2);
		snprintf((*out)[n].server, sizeof((*out)[n].server), "%s",
		    (const char *)sqlite3_column_text(st, 3));
		n++;
	}
	sqlite3_finalize(st);
	return n;
}

int
gpudb_usage_prune(struct db *db, long long before_minute)
{
	sqlite3_stmt *st = db_prepare(db, "DELETE FROM gpu_usage WHERE "
	    "minute < ?");
	int n;

	sqlite3_bind_int64(st, 1, before_minute);
	if (db_done(db, st) != 0)
		return -1;
	n = sqlite3_changes(db->h);
	st = db_prepare(db, "DELETE FROM gpu_usage_hour WHERE hour < ?");
	sqlite3_bind_int64(st, 1, before_minute / 60);
	if (db_done(db, st) != 0)
		return -1;
	return n;
}

size_t
gpudb_usage(struct db *db, long long since_minute, enum gpu_usage_by by,
    const char *only_user, struct gpu_usage_row **out)
{
	static const char *const group[] = {
		[GPU_BY_USER] = "user, '', '', -1",
		[GPU_BY_GPU] = "'', '', server, gpu",
		[GPU_BY_CONTAINER] = "user, container, '', -1",
	};
	char sql[1024];
	sqlite3_stmt *st;
	size_t n = 0, cap = 0;

	/* The minutes up to the first whole hour, then whole hours. */
	snprintf(sql, sizeof(sql), "SELECT %s, sum(held), sum(used), "
	    "sum(util), max(mem) FROM (SELECT server, gpu, user, container, "
	    "held, used, util, mem FROM gpu_usage WHERE minute >= ?1 AND "
	    "minute < (?1 + 59) / 60 * 60 UNION ALL SELECT server, gpu, user, "
	    "container, held, used, util, mem FROM gpu_usage_hour WHERE hour "
	    ">= (?1 + 59) / 60) WHERE (?2 IS NULL OR user = ?2) AND (user != "
	    "'' OR ?3) GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4", group[by]);
	st = db_prepare(db, sql);
	sqlite3_bind_int64(st, 1, since_minute);
	if (only_user != NULL)
		sqlite3_bind_text(st, 2, only_user, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, by == GPU_BY_GPU && only_user == NULL);
	*out = NULL;
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct gpu_usage_row *r;

		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		r = &(*out)[n++];
		memset(r, 0, sizeof(*r));
		snprintf(r->user, sizeof(r->user), "%s",
		    (const char *)sqlite3_column_text(st, 0));
		snprintf(r->container, sizeof(r->container), "%s",
		    (const char *)sqlite3_column_text(st, 1));
		snprintf(r->server, sizeof(r->server), "%s",
		    (const char *)sqlite3_column_text(st, 2));
		r->gpu = sqlite3_column_int(st, 3);
		r->held = sqlite3_column_int64(st, 4);
		r->used = sqlite3_column_int64(st, 5);
		r->util = sqlite3_column_int64(st, 6);
		r->mem = sqlite3_column_int64(st, 7);
	}
	sqlite3_finalize(st);
	return n;
}

int
gpudb_usage_total(struct db *db, long long since_minute,
    struct gpu_usage_row *t)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT sum(held), sum(used), "
	    "sum(util), max(mem) FROM (SELECT user, held, used, util, mem FROM "
	    "gpu_usage WHERE minute >= ?1 AND minute < (?1 + 59) / 60 * 60 "
	    "UNION ALL SELECT user, held, used, util, mem FROM gpu_usage_hour "
	    "WHERE hour >= (?1 + 59) / 60) WHERE user != ''");

	memset(t, 0, sizeof(*t));
	t->gpu = -1;
	sqlite3_bind_int64(st, 1, since_minute);
	if (sqlite3_step(st) == SQLITE_ROW) {
		t->held = sqlite3_column_int64(st, 0);
		t->used = sqlite3_column_int64(st, 1);
		t->util = sqlite3_column_int64(st, 2);
		t->mem = sqlite3_column_int64(st, 3);
	}
	sqlite3_finalize(st);
	return 0;
}

long long
gpuq_add(struct db *db, long long ct_id, const char *spec, int exclusive,
    long long lease, int start)
{
	sqlite3_stmt *st = db_prepare(db, "INSERT INTO gpu_queue (container_id, "
	    "spec, exclusive, lease, start, created) VALUES (?, ?, ?, ?, ?, "
	    "CAST(strftime('%s', 'now') AS INTEGER))");

	sqlite3_bind_int64(st, 1, ct_id);
	sqlite3_bind_text(st, 2, spec, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, exclusive);
	sqlite3_bind_int64(st, 4, lease);
	sqlite3_bind_int(st, 5, start);
	if (db_done(db, st) != 0)
		return -1;
	return sqlite3_last_insert_rowid(db->h);
}

size_t
gpuq_list(struct db *db, struct gpu_wait **out)
{
	/*
	 * Each request's rank within its user (first come first), then the
	 * users in turn: rank 1 of every user before rank 2 of any, and
	 * within a rank the user served longest ago (then waiting longest).
	 */
	sqlite3_stmt *st = db_prepare(db, "SELECT q.id, c.id, u.id, u.name, "
	    "c.name, q.spec, q.exclusive, q.start, q.lease, q.created, "
	    "u.gpu_served, row_number() OVER (PARTITION BY u.id ORDER BY q.id) "
	    "AS rank, min(q.id) OVER (PARTITION BY u.id) AS first FROM "
	    "gpu_queue q JOIN containers c ON c.id = q.container_id JOIN "
	    "users u ON u.id = c.user_id ORDER BY rank, u.gpu_served, first");
	size_t n = 0, cap = 0;

	*out = NULL;
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct gpu_wait *w;

		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		w = &(*out)[n++];
		memset(w, 0, sizeof(*w));
		w->id = sqlite3_column_int64(st, 0);
		w->ct_id = sqlite3_column_int64(st, 1);
		w->user_id = sqlite3_column_int64(st, 2);
		snprintf(w->user, sizeof(w->user), "%s",
		    (const char *)sqlite3_column_text(st, 3));
		snprintf(w->name, sizeof(w->name), "%s",
		    (const char *)sqlite3_column_text(st, 4));
		snprintf(w->spec, sizeof(w->spec), "%s",
		    (const char *)sqlite3_column_text(st, 5));
		w->exclusive = sqlite3_column_int(st, 6);
		w->start = sqlite3_column_int(st, 7);
		w->lease = sqlite3_column_int64(st, 8);
		w->created = sqlite3_column_int64(st, 9);
		w->served = sqlite3_column_int64(st, 10);
	}
	sqlite3_finalize(st);
	return n;
}

int
gpuq_remove(struct db *db, long long id)
{
	sqlite3_stmt *st = db_prepare(db, "DELETE FROM gpu_queue WHERE id = ?");

	sqlite3_bind_int64(st, 1, id);
	return db_done(db, st);
}

int
gpuq_cancel(struct db *db, long long ct_id)
{
	sqlite3_stmt *st = db_prepare(db, "DELETE FROM gpu_queue WHERE "
	    "container_id = ?");

	sqlite3_bind_int64(st, 1, ct_id);
	if (db_done(db, st) != 0)
		return -1;
	return sqlite3_changes(db->h);
}

int
gpuq_served(struct db *db, long long user_id)
{
	sqlite3_stmt *st = db_prepare(db, "UPDATE users SET gpu_served = "
	    "(SELECT max(gpu_served) + 1 FROM users) WHERE id = ?");

	sqlite3_bind_int64(st, 1, user_id);
	return db_done(db, st);
}
