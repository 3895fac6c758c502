/* cmd-quota.c - quota: your limits and what you use of them. */
#include "labcd.h"
#include "proto.h"
#include "quota.h"

static int
cmd_quota_exec(struct ctx *c)
{
	struct table *t = table_new(quota_cols);
	int r = quota_row(c, t, c->id.user_id, c->id.user);

	if (r == 0) {
		ctx_table(c, "quota", t);
		if (c->format == FMT_TABLE)
			ctx_printf(c, "(used/limit; '-' is no limit)\n");
	}
	table_free(t);
	return r;
}

const struct cmd_entry cmd_quota_entry = {
	.name = "quota",
	.args = "",
	.summary = "show your quota: used/limit of containers, CPU, memory, disk",
	.flags = CMD_USER | CMD_READONLY | CMD_NOAUDIT | CMD_FORMAT,
	.exec = cmd_quota_exec,
};
