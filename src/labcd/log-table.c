/* log-table.c - render audit rows for 'log' and 'admin log'. */
#include <errno.h>
#include <stdlib.h>

#include "log-table.h"
#include "proto.h"
#include "users.h"

int
log_table(struct ctx *c, const char *user, const char *limit)
{
	static const char *const cols[] = { "time", "actor", "user", "command",
	    "target", "result", NULL };
	struct table *t;
	sqlite3_stmt *st;
	long n = 50;
	char *end;

	if (limit != NULL) {
		errno = 0;
		n = strtol(limit, &end, 10);
		if (errno != 0 || *end != '\0' || n < 1 || n > 100000)
			return ctx_usage(c, "-n needs a number from 1 to 100000");
	}
	/* The newest n, shown oldest first. */
	st = db_prepare(c->db, "SELECT time, actor, user, command, target, "
	    "result FROM (SELECT * FROM audit WHERE ?1 IS NULL OR user = ?1 "
	    "ORDER BY id DESC LIMIT ?2) ORDER BY id");
	if (user != NULL)
		sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, n);
	t = table_new(cols);
	while (sqlite3_step(st) == SQLITE_ROW) {
		char when[32];

		users_time(sqlite3_column_int64(st, 0), when);
		table_add(t, when, (const char *)sqlite3_column_text(st, 1),
		    (const char *)sqlite3_column_text(st, 2),
		    (const char *)sqlite3_column_text(st, 3),
		    (const char *)sqlite3_column_text(st, 4),
		    (const char *)sqlite3_column_text(st, 5));
	}
	sqlite3_finalize(st);
	ctx_table(c, "log", t);
	table_free(t);
	return PROTO_OK;
}
