/*
 * db-keys.c - the keys table: registering, proving, moving and removing
 * SSH public keys, and reading them for 'key list', the gateway's sshd
 * and containers' authorized_keys. No other file has SQL about keys.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db-keys.h"
#include "db-sql.h"
#include "xmalloc.h"

static char *
text(sqlite3_stmt *st, int col)
{
	const unsigned char *s = sqlite3_column_text(st, col);

	return xstrdup(s != NULL ? (const char *)s : "");
}

void
keydb_row_free(struct key_row *k)
{
	free(k->type);
	free(k->blob);
	free(k->fingerprint);
	free(k->comment);
	memset(k, 0, sizeof(*k));
}

void
keydb_free(struct key_row *rows, int n)
{
	int i;

	for (i = 0; i < n; i++)
		keydb_row_free(&rows[i]);
	free(rows);
}

#define KEY_COLS	"k.id, k.user_id, u.name, k.type, k.blob, " \
	"k.fingerprint, k.comment, k.created, k.proven"

static void
key_read(sqlite3_stmt *st, struct key_row *k)
{
	memset(k, 0, sizeof(*k));
	k->id = sqlite3_column_int64(st, 0);
	k->user_id = sqlite3_column_int64(st, 1);
	if (sqlite3_column_text(st, 2) != NULL)
		snprintf(k->user, sizeof(k->user), "%s",
		    (const char *)sqlite3_column_text(st, 2));
	k->type = text(st, 3);
	k->blob = text(st, 4);
	k->fingerprint = text(st, 5);
	k->comment = text(st, 6);
	k->created = sqlite3_column_int64(st, 7);
	k->proven = sqlite3_column_int(st, 8);
}

/* Every row of st into *rows; how many. Finalizes. */
static int
key_rows(sqlite3_stmt *st, struct key_row **rows)
{
	int n = 0, cap = 0;

	*rows = NULL;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			*rows = xrealloc(*rows, (size_t)cap * sizeof(**rows));
		}
		key_read(st, &(*rows)[n++]);
	}
	sqlite3_finalize(st);
	return n;
}

int
keydb_find(struct db *db, const char *fp, struct key_row *k)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT " KEY_COLS " FROM keys k "
	    "JOIN users u ON u.id = k.user_id WHERE k.fingerprint = ?");
	int r = -1;

	memset(k, 0, sizeof(*k));
	sqlite3_bind_text(st, 1, fp, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		key_read(st, k);
		r = 0;
	}
	sqlite3_finalize(st);
	return r;
}

int
keydb_proven(struct db *db, const char *fp, long long user_id)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT 1 FROM keys WHERE "
	    "fingerprint = ?1 AND (?2 = 0 OR user_id = ?2) AND proven = 1");
	int ok;

	sqlite3_bind_text(st, 1, fp, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, user_id);
	ok = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return ok;
}

int
keydb_list(struct db *db, long long user_id, struct key_row **rows)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT " KEY_COLS " FROM keys k "
	    "JOIN users u ON u.id = k.user_id WHERE k.user_id = ? ORDER BY "
	    "k.id");

	sqlite3_bind_int64(st, 1, user_id);
	return key_rows(st, rows);
}

int
keydb_usable(struct db *db, const char *fp, struct key_row **rows)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT " KEY_COLS " FROM keys k "
	    "JOIN users u ON u.id = k.user_id WHERE u.disabled = 0 AND "
	    "k.proven = 1 AND (?1 IS NULL OR k.fingerprint = ?1) "
	    "ORDER BY u.name, k.id");

	if (fp != NULL)
		sqlite3_bind_text(st, 1, fp, -1, SQLITE_STATIC);
	return key_rows(st, rows);
}

int
keydb_count_match(struct db *db, long long user_id, const char *fp,
    const char *comment)
{
	sqlite3_stmt *st = db_prepare(db, "SELECT count(*) FROM keys WHERE "
	    "user_id = ?1 AND (fingerprint = ?2 OR comment = ?3)");
	int n = 0;

	sqlite3_bind_int64(st, 1, user_id);
	sqlite3_bind_text(st, 2, fp, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, comment, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

int
keydb_add(struct db *db, long long user_id, const char *type,
    const char *blob, const char *fp, const char *comment, int proven)
{
	sqlite3_stmt *st = db_prepare(db, "INSERT INTO keys (user_id, type, "
	    "blob, fingerprint, comment, created, proven) VALUES (?, ?, ?, ?, "
	    "?, ?, ?)");

	sqlite3_bind_int64(st, 1, user_id);
	sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, blob, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, fp, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, comment, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, (long long)time(NULL));
	sqlite3_bind_int(st, 7, proven != 0);
	return db_done(db, st);
}

int
keydb_prove(struct db *db, const char *fp, long long user_id)
{
	sqlite3_stmt *st = db_prepare(db, "UPDATE keys SET user_id = ?, "
	    "proven = 1 WHERE fingerprint = ? AND proven = 0");

	sqlite3_bind_int64(st, 1, user_id);
	sqlite3_bind_text(st, 2, fp, -1, SQLITE_STATIC);
	if (db_done(db, st) != 0)
		return -1;
	return sqlite3_changes(db->h);
}

int
keydb_delete_match(struct db *db, long long user_id, const char *fp,
    const char *comment)
{
	sqlite3_stmt *st = db_prepare(db, "DELETE FROM keys WHERE user_id = ?1 "
	    "AND (fingerprint = ?2 OR comment = ?3)");

	sqlite3_bind_int64(st, 1, user_id);
	sqlite3_bind_text(st, 2, fp, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, comment, -1, SQLITE_STATIC);
	return db_done(db, st);
}
