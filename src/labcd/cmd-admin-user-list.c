/* cmd-admin-user-list.c - admin user list: every lab user. */
#include <stdio.h>
#include <time.h>

#include "labcd.h"
#include "proto.h"
#include "users.h"

static int
cmd_admin_user_list_exec(struct ctx *c)
{
	static const char *const cols[] = { "name", "admin", "keys#", "state",
	    "created", NULL };
	struct table *t = table_new(cols);
	sqlite3_stmt *st = db_prepare(c->db, "SELECT u.name, u.is_admin, "
	    "(SELECT count(*) FROM keys k WHERE k.user_id = u.id), "
	    "u.locked_until, u.created, u.disabled FROM users u ORDER BY u.name");
	long long now = (long long)time(NULL);

	while (sqlite3_step(st) == SQLITE_ROW) {
		char keys[16], created[32], state[48];
		long long until = sqlite3_column_int64(st, 3);

		snprintf(keys, sizeof(keys), "%d", sqlite3_column_int(st, 2));
		users_time(sqlite3_column_int64(st, 4), created);
		if (sqlite3_column_int(st, 5))
			snprintf(state, sizeof(state), "locked by admin");
		else if (until > now)
			snprintf(state, sizeof(state), "locked (%llds)",
			    until - now);
		else
			snprintf(state, sizeof(state), "active");
		table_add(t, (const char *)sqlite3_column_text(st, 0),
		    sqlite3_column_int(st, 1) ? "yes" : "no", keys, state,
		    created);
	}
	sqlite3_finalize(st);
	ctx_table(c, "users", t);
	table_free(t);
	return PROTO_OK;
}

const struct cmd_entry cmd_admin_user_list_entry = {
	.name = "admin user list",
	.args = "",
	.summary = "list the lab users",
	.flags = CMD_ADMIN | CMD_READONLY | CMD_NOAUDIT | CMD_FORMAT,
	.exec = cmd_admin_user_list_exec,
};
