/* cmd-snapshot.c - snapshot: take a snapshot of one of your containers. */
#include <stdlib.h>

#include "config.h"
#include "proto.h"
#include "snap.h"

static int
cmd_snapshot_exec(struct ctx *c)
{
	const char *name = c->args.argv[0];
	const char *snap = c->args.argc > 1 ? c->args.argv[1] : NULL;
	const char *keep = cmd_opt(c, "keep");
	long long secs = 0;
	char made[64], until[32];
	struct ct ct;
	int r;

	ctx_target(c, "%.64s %.64s", name, snap != NULL ? snap : "");
	if (keep != NULL && ((secs = config_duration_secs(keep)) < 60 ||
	    secs > SNAP_KEEP_MAX))
		return ctx_usage(c, "--keep takes how long the snapshot stays, "
		    "from 1m to 366d, such as 12h or 7d; not '%.32s'", keep);
	if ((r = ct_find_ready(c, name, &ct)) != 0)
		return r;
	if ((r = snap_take(ctx_op(c), &ct, snap, secs, made)) != 0)
		return ctx_cause(c, r);
	ctx_target(c, "%.64s %.64s", name, made);
	if (secs > 0) {
		config_duration_str(secs, until, sizeof(until));
		ctx_printf(c, "Snapshot %s of %s taken; LXD deletes it in %s.\n",
		    made, name, until);
	} else
		ctx_printf(c, "Snapshot %s of %s taken.\n", made, name);
	return PROTO_OK;
}

const struct cmd_entry cmd_snapshot_entry = {
	.name = "snapshot",
	.args = "NAME [SNAP] [--keep DURATION]",
	.summary = "take a snapshot of a container",
	.help = "SNAP names it (letters, digits, '-', '_', '.'); without it,\n"
	    "snap-YYYYMMDD-HHMMSS (UTC). --keep: LXD deletes it after that\n"
	    "long (12h, 7d...); without it, it stays until 'snapshot del'.\n"
	    "Your snapshots over all your containers count against your\n"
	    "quota ('quota'). 'restore NAME SNAP' brings the container back\n"
	    "to it; 'snapshots NAME' lists them.",
	.flags = CMD_USER,
	.min_args = 1, .max_args = 2,
	.target = CMD_TARGET_CT,
	.opts = { { "keep", 0, 1, "DURATION" } },
	.exec = cmd_snapshot_exec,
};
