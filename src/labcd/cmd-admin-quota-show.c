/* cmd-admin-quota-show.c - admin quota show: quotas of every lab user, or one. */
#include <stdlib.h>

#include "db-users.h"
#include "labcd.h"
#include "proto.h"
#include "quota.h"

static int
cmd_admin_quota_show_exec(struct ctx *c)
{
	struct table *t = table_new(quota_cols);
	const char *only = c->args.argc ? c->args.argv[0] : NULL;
	struct user_row u, *rows;
	int i, n, r = 0;

	if (only != NULL && userdb_get(c->db, only, &u) != 0) {
		table_free(t);
		return ctx_error(c, "no lab user '%.64s'", only);
	}
	n = userdb_list(c->db, only, &rows);
	for (i = 0; r == 0 && i < n; i++)
		r = quota_row(c, t, rows[i].id, rows[i].name);
	free(rows);
	if (r == 0)
		ctx_table(c, "quota", t);
	table_free(t);
	return r;
}

const struct cmd_entry cmd_admin_quota_show_entry = {
	.name = "admin quota show",
	.args = "[USER]",
	.summary = "show lab users' quotas (used/limit)",
	.flags = CMD_ADMIN | CMD_READONLY | CMD_NOAUDIT | CMD_FORMAT,
	.min_args = 0, .max_args = 1,
	.exec = cmd_admin_quota_show_exec,
};
