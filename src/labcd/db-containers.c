/*
 * db-containers.c - the containers table: every query on it (rows with
 * their owner's name join users; the users' own queries are db-users.c's).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "db-containers.h"
#include "db-sql.h"
#include "xmalloc.h"

#define CT_COLUMNS "c.id, c.user_id, c.name, c.port, c.image, c.state, " \
	"c.provisioned, c.keys_synced, c.created, c.network, c.addr"

static void
text(sqlite3_stmt *st, int col, char *out, size_t outsz)
{
	const unsigned char *s = sqlite3_column_text(st, col);

	snprintf(out, outsz, "%s", s != NULL ? (const char *)s : "");
}

/* The CT_COLUMNS of a row, from column 0. */
static void
row_to_ct(sqlite3_stmt *st, struct ct *ct)
{
	memset(ct, 0, sizeof(*ct));
	ct->id = sqlite3_column_int64(st, 0);
	ct->user_id = sqlite3_column_int64(st, 1);
	text(st, 2, ct->name, sizeof(ct->name));
	ct->port = sqlite3_column_int(st, 3);
	text(st, 4, ct->image, sizeof(ct->image));
	text(st, 5, ct->state, sizeof(ct->state));
	ct->provisioned = sqlite3_column_int(st, 6);
	ct->keys_synced = sqlite3_column_int(st, 7);
	ct->created = sqlite3_column_int64(st, 8);
	text(st, 9, ct->network, sizeof(ct->network));
	text(st, 10, ct->addr, sizeof(ct->addr));
}

/* Step st once into *ct: 0, or -1 if no row. Finalizes. */
static int
one_ct(sqlite3_stmt *st, struct ct *ct)
{
	int r = -1;

	if (sqlite3_step(st) == SQLITE_ROW) {
		row_to_ct(st, ct);
		r = 0;
	}
	sqlite3_finalize(st);
	return r;
}

int
ctdb_get(struct db *db, long long user_id, const char *name, struct ct *ct)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT " CT_COLUMNS
	    " FROM containers c WHERE user_id = ? AND name = ?");

	sqlite3_bind_int64(st, 1, user_id);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	return one_ct(st, ct);
}

int
ctdb_get_by_id(struct db *db, long long id, struct ct *ct)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT " CT_COLUMNS
	    " FROM containers c WHERE id = ?");

	sqlite3_bind_int64(st, 1, id);
	return one_ct(st, ct);
}

/* Does st give a row? Finalizes. */
static int
any_row(sqlite3_stmt *st)
{
	int found = sqlite3_step(st) == SQLITE_ROW;

	sqlite3_finalize(st);
	return found;
}

/* The first column of st's first row as a number, else 0. Finalizes. */
static long long
one_int(sqlite3_stmt *st)
{
	long long v = 0;

	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

int
ctdb_exists(struct db *db, long long user_id, const char *name)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT 1 FROM containers WHERE "
	    "user_id = ? AND name = ?");

	sqlite3_bind_int64(st, 1, user_id);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	return any_row(st);
}

int
ctdb_port_taken(struct db *db, int port)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT 1 FROM containers WHERE "
	    "port = ?");

	sqlite3_bind_int(st, 1, port);
	return any_row(st);
}

void
ctdb_ports_used(struct db *db, int lo, int hi, unsigned char *used)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT port FROM containers");
	int p;

	while (sqlite3_step(st) == SQLITE_ROW) {
		p = sqlite3_column_int(st, 0);
		if (p >= lo && p <= hi)
			used[p - lo] = 1;
	}
	sqlite3_finalize(st);
}

int
ctdb_insert(struct db *db, struct ct *ct)
{
	sqlite3_stmt *st = db_prepare(db, "INSERT INTO containers (user_id, "
	    "name, port, image, state, provisioned, keys_synced, created, "
	    "network, addr) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");

	sqlite3_bind_int64(st, 1, ct->user_id);
	sqlite3_bind_text(st, 2, ct->name, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, ct->port);
	sqlite3_bind_text(st, 4, ct->image, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, ct->state, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 6, ct->provisioned);
	sqlite3_bind_int(st, 7, ct->keys_synced);
	sqlite3_bind_int64(st, 8, ct->created);
	if (*ct->addr != '\0') {
		sqlite3_bind_text(st, 9, ct->network, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 10, ct->addr, -1, SQLITE_STATIC);
	}
	if (db_done(db, st) != 0)
		return -1;
	ct->id = sqlite3_last_insert_rowid(db->h);
	return 0;
}

/* Run sql with ?1 the row's id (and ?2 a text or a number). */
static int
by_id(struct db *db, const char *sql, long long id, const char *s, int n)
{
	sqlite3_stmt *st = db_prepare(db, sql);

	sqlite3_bind_int64(st, 1, id);
	if (s != NULL)
		sqlite3_bind_text(st, 2, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_int(st, 2, n);
	return db_done(db, st);
}

int
ctdb_set_addr(struct db *db, long long id, const char *network,
    const char *addr)
{
	sqlite3_stmt *st = db_prepare(db, "UPDATE containers SET network = ?, "
	    "addr = ? WHERE id = ?");

	if (network != NULL) {
		sqlite3_bind_text(st, 1, network, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, addr, -1, SQLITE_STATIC);
	}
	sqlite3_bind_int64(st, 3, id);
	if (db_done(db, st) == 0)
		return 0;
	return sqlite3_extended_errcode(db->h) == SQLITE_CONSTRAINT_UNIQUE ?
	    1 : -1;
}

int
ctdb_addr_taken(struct db *db, const char *network, const char *addr)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT 1 FROM containers WHERE "
	    "network = ? AND addr = ?");

	sqlite3_bind_text(st, 1, network, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, addr, -1, SQLITE_STATIC);
	return any_row(st);
}

int
ctdb_delete(struct db *db, long long id)
{
	return by_id(db, "DELETE FROM containers WHERE id = ?1", id, NULL, 0);
}

int
ctdb_set_state(struct db *db, long long id, const char *state)
{
	return by_id(db, "UPDATE containers SET state = ?2 WHERE id = ?1", id,
	    state, 0);
}

int
ctdb_set_provisioned(struct db *db, long long id)
{
	return by_id(db, "UPDATE containers SET provisioned = 1 WHERE id = ?1",
	    id, NULL, 0);
}

int
ctdb_set_unprovisioned(struct db *db, long long id)
{
	return by_id(db, "UPDATE containers SET provisioned = 0, keys_synced "
	    "= 0 WHERE id = ?1", id, NULL, 0);
}

int
ctdb_set_keys_synced(struct db *db, long long id, int synced)
{
	return by_id(db, "UPDATE containers SET keys_synced = ?2 WHERE id = ?1",
	    id, NULL, synced);
}

int
ctdb_count(struct db *db, long long user_id)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT count(*) FROM containers "
	    "WHERE user_id = ?");

	sqlite3_bind_int64(st, 1, user_id);
	return (int)one_int(st);
}

void
ctdb_list(struct db *db, long long user_id, int ready_only, struct ct **out,
    size_t *n)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT " CT_COLUMNS " FROM "
	    "containers c WHERE user_id = ? AND (state = 'ready' OR NOT ?) "
	    "ORDER BY name");
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	sqlite3_bind_int64(st, 1, user_id);
	sqlite3_bind_int(st, 2, ready_only);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		row_to_ct(st, &(*out)[(*n)++]);
	}
	sqlite3_finalize(st);
}

#define OWNED_COLUMNS CT_COLUMNS ", u.name, u.project, u.disabled"

static void
row_to_owned(sqlite3_stmt *st, struct ct_owned *w)
{
	memset(w, 0, sizeof(*w));
	row_to_ct(st, &w->ct);
	text(st, 11, w->user, sizeof(w->user));
	text(st, 12, w->project, sizeof(w->project));
	w->locked = sqlite3_column_int(st, 13);
}

void
ctdb_list_owned(struct db *db, int all, long long user_id, int by_id,
    struct ct_owned **out, size_t *n)
{
	sqlite3_stmt *st = db_prepare(db, by_id ? "SELECT " OWNED_COLUMNS
	    " FROM containers c JOIN users u ON u.id = c.user_id WHERE ?1 OR "
	    "u.id = ?2 ORDER BY c.id" : "SELECT " OWNED_COLUMNS " FROM "
	    "containers c JOIN users u ON u.id = c.user_id WHERE ?1 OR u.id = "
	    "?2 ORDER BY u.name, c.name");
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	sqlite3_bind_int(st, 1, all);
	sqlite3_bind_int64(st, 2, user_id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		row_to_owned(st, &(*out)[(*n)++]);
	}
	sqlite3_finalize(st);
}

int
ctdb_get_owned(struct db *db, long long id, struct ct_owned *w)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT " OWNED_COLUMNS " FROM "
	    "containers c JOIN users u ON u.id = c.user_id WHERE c.id = ?");
	int r = -1;

	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		row_to_owned(st, w);
		r = 0;
	}
	sqlite3_finalize(st);
	return r;
}
