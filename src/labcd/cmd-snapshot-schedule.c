/*
 * cmd-snapshot-schedule.c - snapshot schedule: LXD takes snapshots of a
 * container on a schedule and deletes each after --keep.
 */
#include <string.h>

#include "config.h"
#include "proto.h"
#include "snap.h"

static int
cmd_snapshot_schedule_exec(struct ctx *c)
{
	const char *name = c->args.argv[0], *every = c->args.argv[1];
	const char *keep = cmd_opt(c, "keep");
	long long secs = 0;
	char kept[32];
	struct ct ct;
	int r;

	ctx_target(c, "%.64s %.32s", name, every);
	if (keep != NULL && ((secs = config_duration_secs(keep)) < 60 ||
	    secs > SNAP_KEEP_MAX))
		return ctx_usage(c, "--keep takes how long each snapshot stays, "
		    "from 1m to 366d, such as 7d; not '%.32s'", keep);
	if ((r = ct_find_ready(c, name, &ct)) != 0)
		return r;
	if ((r = snap_schedule(ctx_op(c), &ct, every, secs)) != 0)
		return ctx_cause(c, r);
	if (strcmp(every, "off") == 0) {
		ctx_printf(c, "No more scheduled snapshots of %s; those taken "
		    "stay until their time is up.\n", name);
		return PROTO_OK;
	}
	config_duration_str(secs, kept, sizeof(kept));
	ctx_printf(c, "LXD takes a snapshot of %s %s while it runs (named "
	    "auto-DATE-TIME, UTC), and deletes each after %s.\n", name, every,
	    kept);
	return PROTO_OK;
}

const struct cmd_entry cmd_snapshot_schedule_entry = {
	.name = "snapshot schedule",
	.args = "NAME minutely|hourly|daily|weekly|off [--keep DURATION]",
	.summary = "take snapshots of a container on a schedule",
	.help = "For example: snapshot schedule box daily --keep 7d. LXD takes\n"
	    "them while the container runs, and deletes each when its time is\n"
	    "up. They count against your snapshot quota: a schedule that\n"
	    "could keep more than the quota at once is refused. 'off' stops\n"
	    "the schedule.",
	.flags = CMD_USER,
	.min_args = 2, .max_args = 2,
	.target = CMD_TARGET_CT,
	.opts = { { "keep", 0, 1, "DURATION" } },
	.exec = cmd_snapshot_schedule_exec,
};
