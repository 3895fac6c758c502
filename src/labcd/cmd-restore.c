/* cmd-restore.c - restore: bring a container back to one of its snapshots. */
#include "proto.h"
#include "snap.h"

static int
cmd_restore_exec(struct ctx *c)
{
	const char *name = c->args.argv[0], *snap = c->args.argv[1];
	struct ct ct;
	int r, ran, up;

	ctx_target(c, "%.64s %.64s", name, snap);
	if ((r = ct_find_ready(c, name, &ct)) != 0)
		return r;
	r = snap_restore(ctx_op(c), &ct, snap, cmd_opt(c, "force") != NULL,
	    &ran, &up);
	if (r != 0)
		return ctx_cause(c, r);
	if (!ran) {
		ctx_printf(c, "%s restored to %s. It is stopped: 'start %s' "
		    "starts it.\n", name, snap, name);
		return PROTO_OK;
	}
	ctx_printf(c, "%s was running: stopped, restored to %s, and started "
	    "again.\n", name, snap);
	ct_say_started(c, &ct, up);
	return PROTO_OK;
}

const struct cmd_entry cmd_restore_entry = {
	.name = "restore",
	.args = "NAME SNAP [-f]",
	.summary = "bring a container back to one of its snapshots",
	.help = "Its files and settings become the snapshot's; what was\n"
	    "changed since is lost (take a snapshot first to keep it). A\n"
	    "running container is stopped (cleanly, up to 30 s, or at once\n"
	    "with -f) and started again. It keeps its SSH port, the GPUs it\n"
	    "holds now and your keys of now, whatever the snapshot had.",
	.flags = CMD_USER,
	.min_args = 2, .max_args = 2,
	.target = CMD_TARGET_CT,
	.opts = { { "force", 'f', 0, NULL } },
	.exec = cmd_restore_exec,
};
