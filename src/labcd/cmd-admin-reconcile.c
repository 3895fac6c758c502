/*
 * cmd-admin-reconcile.c - admin reconcile: compare the database with LXD
 * now, say every difference and mend it (or, with --dry-run, only say).
 */
#include <stdio.h>

#include "labcd.h"
#include "proto.h"
#include "reconcile.h"

static int
cmd_admin_reconcile_exec(struct ctx *c)
{
	static const char *const cols[] = { "user", "container", "problem",
	    "action", NULL };
	int dry = cmd_opt(c, "dry-run") != NULL, r;
	struct findings findings = { 0 };
	struct table *t;
	size_t i;

	if ((r = reconcile_run(ctx_op(c), !dry, &findings)) != 0) {
		findings_free(&findings);
		return ctx_fail(c, ctx_op(c));
	}
	if (findings.n == 0 && c->format == FMT_TABLE)
		ctx_printf(c, "The database and LXD agree.\n");
	else {
		t = table_new(cols);
		for (i = 0; i < findings.n; i++)
			table_add(t, findings.v[i].user, findings.v[i].container,
			    findings.v[i].problem, findings.v[i].action);
		ctx_table(c, "findings", t);
		table_free(t);
	}
	findings_free(&findings);
	return PROTO_OK;
}

const struct cmd_entry cmd_admin_reconcile_entry = {
	.name = "admin reconcile",
	.args = "[--dry-run]",
	.summary = "compare the database with LXD and mend the differences",
	.help = "labcd does this at start-up, when LXD failed in the middle of\n"
	    "a change, and every reconcile_interval seconds. It finishes\n"
	    "interrupted creations and deletions, releases the ports of\n"
	    "containers deleted with lxc behind its back, and adopts a\n"
	    "container of a user's project that it has no record of when its\n"
	    "port is free. It never deletes a container it has no record of.\n"
	    "--dry-run only says what it would do.",
	/*
	 * Audited: it repairs (each repair also has its row, in its owner's
	 * log). --dry-run changes nothing: a read, not audited.
	 */
	.flags = CMD_ADMIN | CMD_FORMAT,
	.opts = { { "dry-run", 'n', CMD_NOAUDIT, NULL } },
	.exec = cmd_admin_reconcile_exec,
};
