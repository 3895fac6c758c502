/* cmd-admin-log.c - admin log: everyone's audit log, or one user's. */
#include "labcd.h"
#include "log-table.h"

static int
cmd_admin_log_exec(struct ctx *c)
{
	return log_table(c, c->args.argc ? c->args.argv[0] : NULL,
	    cmd_opt(c, "n"));
}

const struct cmd_entry cmd_admin_log_entry = {
	.name = "admin log",
	.args = "[USER] [-n COUNT]",
	.summary = "show the audit log of everyone, or of one user",
	.flags = CMD_ADMIN | CMD_READONLY | CMD_NOAUDIT | CMD_FORMAT,
	.min_args = 0, .max_args = 1,
	.opts = { { "n", 'n', 1, "COUNT" } },
	.exec = cmd_admin_log_exec,
};
