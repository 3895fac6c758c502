/* cmd-snapshot-del.c - snapshot del: delete snapshots of a container. */
#include "proto.h"
#include "snap.h"

static int
cmd_snapshot_del_exec(struct ctx *c)
{
	const char *name = c->args.argv[0];
	struct ct ct;
	int i, r, status = PROTO_OK;

	ctx_target(c, "%.64s %.64s", name, c->args.argv[1]);
	if ((r = ct_find_ready(c, name, &ct)) != 0)
		return r;
	for (i = 1; i < c->args.argc; i++) {
		if ((r = snap_delete(ctx_op(c), &ct, c->args.argv[i])) != 0)
			status = ctx_cause(c, r);
		else
			ctx_printf(c, "Snapshot %s of %s deleted.\n",
			    c->args.argv[i], name);
	}
	return status;
}

const struct cmd_entry cmd_snapshot_del_entry = {
	.name = "snapshot del",
	.args = "NAME SNAP...",
	.summary = "delete snapshots of a container",
	.help = "Scheduled snapshots (auto-...) can be deleted too; LXD deletes\n"
	    "them itself once their time is up.",
	.flags = CMD_USER,
	.min_args = 2, .max_args = 65,
	.target = CMD_TARGET_CT,
	.exec = cmd_snapshot_del_exec,
};
