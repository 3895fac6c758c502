/* cmd-admin-user-list.c - admin user list: every lab user. */
#include <stdio.h>
#include <stdlib.h>
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
	struct user_row *u;
	long long now = (long long)time(NULL);
	int i, n = userdb_list(c->db, NULL, &u);

	for (i = 0; i < n; i++) {
		char keys[16], created[32], state[48];

		snprintf(keys, sizeof(keys), "%d", u[i].nkeys);
		users_time(u[i].created, created);
		if (u[i].disabled)
			snprintf(state, sizeof(state), "locked by admin");
		else if (u[i].locked_until > now)
			snprintf(state, sizeof(state), "locked (%llds)",
			    u[i].locked_until - now);
		else
			snprintf(state, sizeof(state), "active");
		table_add(t, u[i].name, u[i].is_admin ? "yes" : "no", keys,
		    state, created);
	}
	free(u);
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
