/* cmd-admin-quota-show.c - admin quota show: quotas of every lab user, or one. */
#include "labcd.h"
#include "proto.h"
#include "quota.h"
#include "users.h"

static int
cmd_admin_quota_show_exec(struct ctx *c)
{
	struct table *t = table_new(quota_cols);
	const char *only = c->args.argc ? c->args.argv[0] : NULL;
	sqlite3_stmt *st;
	struct user_row u;
	int r = 0;

	if (only != NULL && users_get(c->db, only, &u) != 0) {
		table_free(t);
		return ctx_error(c, "no lab user '%.64s'", only);
	}
	st = db_prepare(c->db, "SELECT id, name FROM users WHERE ?1 IS NULL OR "
	    "name = ?1 ORDER BY name");
	if (only != NULL)
		sqlite3_bind_text(st, 1, only, -1, SQLITE_STATIC);
	while (r == 0 && sqlite3_step(st) == SQLITE_ROW)
		r = quota_row(c, t, sqlite3_column_int64(st, 0),
		    (const char *)sqlite3_column_text(st, 1));
	sqlite3_finalize(st);
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
