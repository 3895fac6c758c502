/* log-table.c - render audit rows (db-audit.c) for 'log' and 'admin log'. */
#include <errno.h>
#include <stdlib.h>

#include "db-audit.h"
#include "log-table.h"
#include "proto.h"
#include "users.h"

int
log_table(struct ctx *c, const char *user, const char *limit)
{
	static const char *const cols[] = { "time", "actor", "user", "command",
	    "target", "result", NULL };
	struct audit_row *rows;
	struct table *t;
	long n = 50;
	int i, nrows;
	char *end;

	if (limit != NULL) {
		errno = 0;
		n = strtol(limit, &end, 10);
		if (errno != 0 || *end != '\0' || n < 1 || n > 100000)
			return ctx_usage(c, "-n needs a number from 1 to 100000");
	}
	/* The newest n, shown oldest first. */
	nrows = auditdb_list(c->db, user, n, &rows);
	t = table_new(cols);
	for (i = 0; i < nrows; i++) {
		char when[32];

		users_time(rows[i].time, when);
		table_add(t, when, rows[i].actor, rows[i].user,
		    rows[i].command, rows[i].target, rows[i].result);
	}
	auditdb_free(rows, nrows);
	ctx_table(c, "log", t);
	table_free(t);
	return PROTO_OK;
}
