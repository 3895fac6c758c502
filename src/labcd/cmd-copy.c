/*
 * cmd-copy.c - copy: a new container of yours from one of your containers
 * or one of its snapshots, with its own SSH port and no GPUs unless asked.
 */
#include "ct.h"
#include "proto.h"
#include "sizes.h"

static int
cmd_copy_exec(struct ctx *c)
{
	const char *from = c->args.argv[0], *name = c->args.argv[1];
	const char *snap = cmd_opt(c, "from"), *why = ct_name_invalid(name);
	struct buf lim = BUF_INIT(0);
	struct ct_opts o;
	struct ct src, ct;
	int r, queued;

	ctx_target(c, "%.64s %.64s", from, name);
	if (why != NULL)
		return ctx_usage(c, "'%.64s' cannot be a container name: %s",
		    name, why);
	if (snap != NULL && (why = snap_name_invalid(snap)) != NULL)
		return ctx_usage(c, "'%.64s' is not a snapshot name: %s", snap,
		    why);
	if ((r = ct_opts_from_args(c, &o)) != 0 ||
	    (r = ct_find_ready(c, from, &src)) != 0)
		return r;
	o.copy = &src;
	o.copy_snap = snap;
	if (o.gpu == NULL)
		o.gpu = "none";		/* the source's GPUs stay its own */
	if ((r = ct_create_or_queue(c, name, &o, &ct, 0, &queued)) != 0)
		return ctx_cause(c, r);
	if (queued)
		return PROTO_OK;
	(void)sizes_line_get(ctx_op(c), &ct, &lim);
	ctx_printf(c, "Copied %s%s%s to %s (SSH port %d): %s\nStart it with "
	    "'start %s'.\n", from, snap != NULL ? "/" : "", snap != NULL ?
	    snap : "", name, ct.port, buf_str(&lim), name);
	buf_free(&lim);
	ct_say_connect(c, name, ct.port);
	return PROTO_OK;
}

const struct cmd_entry cmd_copy_entry = {
	.name = "copy",
	.args = "NAME NEWNAME [--from SNAP] [--cpu N] [--memory SIZE] "
	    "[--disk SIZE]\n    [--gpu all|none|any[:N]|LIST [--exclusive] "
	    "[--for DURATION] [--wait]]",
	.summary = "copy a container (or one of its snapshots) to a new one",
	.help = "NEWNAME gets the files, image and limits of NAME (or of its\n"
	    "snapshot SNAP), without its snapshots; an SSH port of its own;\n"
	    "and no GPUs unless --gpu asks (the quota counts it as a new\n"
	    "container). It is made stopped: 'start NEWNAME'.",
	.flags = CMD_USER,
	.min_args = 2, .max_args = 2,
	.target = CMD_TARGET_CT,
	.opts = { { "from", 0, 1, "SNAP" }, { "cpu", 0, 1, "N" },
	    { "memory", 0, 1, "SIZE" }, { "disk", 0, 1, "SIZE" },
	    { "gpu", 0, 1, "all|none|any[:N]|LIST" },
	    { "exclusive", 0, 0, NULL }, { "for", 0, 1, "DURATION" },
	    { "wait", 0, 0, NULL } },
	.exec = cmd_copy_exec,
};
