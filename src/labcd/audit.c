/*
 * audit.c - one audit row for every change: time, actor, lab user,
 * command, target and result; and the removal of rows past
 * audit_retention_days. (The lab user name rule is in names.c.)
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "health.h"
#include "inert.h"
#include "labcd.h"
#include "log.h"

void
audit(struct ctx *c, const char *result)
{
	/*
	 * The target and result come from the request (names not yet
	 * checked, argv in error messages): stored inert, so neither the
	 * log nor 'admin log' on an admin's terminal runs what they carry.
	 */
	char target[sizeof(c->target)], res[400];

	sqlite3_stmt *st = db_prepare(c->db, "INSERT INTO audit (time, actor, "
	    "user, command, target, result) VALUES (?, ?, ?, ?, ?, ?)");

	inert_copy(target, sizeof(target), c->target);
	inert_copy(res, sizeof(res), result);
	sqlite3_bind_int64(st, 1, (long long)time(NULL));
	sqlite3_bind_text(st, 2, c->id.actor, -1, SQLITE_STATIC);
	if (c->id.user[0] != '\0')
		sqlite3_bind_text(st, 3, c->id.user, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, c->cmd->name, -1, SQLITE_STATIC);
	if (target[0] != '\0')
		sqlite3_bind_text(st, 5, target, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, res, -1, SQLITE_STATIC);
	if (db_done(c->db, st) != 0)
		log_error("audit log: %s (%s by %s)", c->db->err, c->cmd->name,
		    c->id.actor);
	log_info("%s: %s %s: %s", c->id.actor, c->cmd->name, target, res);
}

int
audit_prune(struct db *db, int days, long long now)
{
	struct timespec pause = { 0, 20 * 1000000 };
	sqlite3_stmt *st;
	int n = 0, k;

	if (days <= 0)
		return 0;
	/*
	 * In batches, each its own transaction, with a pause between: one
	 * DELETE of a year of rows held the write lock past the busy
	 * timeout of the requests waiting for it.
	 */
	do {
		st = db_prepare(db, "DELETE FROM audit WHERE id IN (SELECT id "
		    "FROM audit WHERE time < ? ORDER BY id LIMIT "
		    AUDIT_PRUNE_BATCH_S ")");
		sqlite3_bind_int64(st, 1, now - (long long)days * 86400);
		if (db_done(db, st) != 0)
			return -1;
		n += k = sqlite3_changes(db->h);
		if (k > 0)
			nanosleep(&pause, NULL);
	} while (k == AUDIT_PRUNE_BATCH);
	return n;
}
