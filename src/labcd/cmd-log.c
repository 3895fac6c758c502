/* cmd-log.c - log: your own entries of the audit log. */
#include "labcd.h"
#include "log-table.h"

static int
cmd_log_exec(struct ctx *c)
{
	return log_table(c, c->id.user, cmd_opt(c, "n"));
}

const struct cmd_entry cmd_log_entry = {
	.name = "log",
	.args = "[-n COUNT]",
	.summary = "show what you did (the audit log of your actions)",
	.flags = CMD_USER | CMD_READONLY | CMD_NOAUDIT | CMD_FORMAT,
	.opts = { { "n", 'n', 1, "COUNT" } },
	.exec = cmd_log_exec,
};
