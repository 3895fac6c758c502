/*
 * cmd-import.c - import: a new container of yours from a tarball on
 * standard input ('ssh lab@SERVER import box2 < box.tar.gz').
 */
#include <unistd.h>

#include "config.h"
#include "ct.h"
#include "proto.h"

static int
cmd_import_exec(struct ctx *c)
{
	const char *name = c->args.argv[0], *why = ct_name_invalid(name);
	char size[32];
	long long bytes;
	struct ct ct;
	int r, fd;

	ctx_target(c, "%.64s", name);
	if (why != NULL)
		return ctx_usage(c, "'%.64s' cannot be a container name: %s",
		    name, why);
	if (c->tty)
		return ctx_usage(c, "import reads a tarball from standard "
		    "input, which is a terminal here: 'import %s < FILE'", name);
	if (ct_get(ctx_op(c), name, &ct) == 0)
		return ctx_error(c, "you have a container named %s already: "
		    "import under another name", name);
	if ((fd = ctx_stream_data(c, 'i')) < 0)
		return PROTO_FAILED;	/* the client is gone */
	r = ct_import(ctx_op(c), name, fd, &ct, &bytes);
	close(fd);
	if (r != 0)
		return ctx_cause(c, r);
	config_size_str(bytes, size, sizeof(size));
	ctx_printf(c, "Imported %s from %s (SSH port %d). Start it with "
	    "'start %s': your keys go in then.\n", name, size, ct.port, name);
	ct_say_connect(c, name, ct.port);
	return PROTO_OK;
}

const struct cmd_entry cmd_import_entry = {
	.name = "import",
	.args = "NAME < FILE",
	.summary = "a new container from a tarball on standard input",
	.help = "FILE is LXD's backup format, as 'export' (here or on another\n"
	    "lab server) or 'lxc export' write it. The container gets an SSH\n"
	    "port of its own, no GPUs (ask with 'gpu attach'), and your keys\n"
	    "at its first start. A tarball asking for what your containers\n"
	    "may not have (privileged, nesting, raw settings, host disks,\n"
	    "proxy devices) is refused, and nothing is kept. Quotas apply;\n"
	    "the tarball may be at most your disk quota (or import_max).",
	.flags = CMD_USER,
	.min_args = 1, .max_args = 1,
	.exec = cmd_import_exec,
};
