/*
 * cmd-export.c - export: one of your containers as a tarball on standard
 * output, for 'ssh lab@SERVER export box > box.tar.gz' on a laptop.
 */
#include <unistd.h>

#include "backup.h"
#include "config.h"
#include "proto.h"

static int
cmd_export_exec(struct ctx *c)
{
	const char *name = c->args.argv[0];
	char size[32];
	long long bytes;
	struct ct ct;
	int r, fd;

	ctx_target(c, "%.64s", name);
	if (c->otty)
		return ctx_usage(c, "export writes a tarball to standard "
		    "output, which is a terminal here: send it to a file, as in "
		    "'export %s > %s.tar.gz'", name, name);
	if ((r = ct_find_ready(c, name, &ct)) != 0)
		return r;
	if ((fd = ctx_stream_data(c, 'o')) < 0)
		return PROTO_FAILED;	/* the client is gone */
	r = backup_export(ctx_op(c), &ct, cmd_opt(c, "snapshots") != NULL,
	    cmd_opt(c, "optimized") != NULL, fd, &bytes);
	close(fd);
	if (r != 0)
		return ctx_cause(c, r);
	config_size_str(bytes, size, sizeof(size));
	ctx_progress(c, "Exported %s: %s.", name, size);
	return PROTO_OK;
}

const struct cmd_entry cmd_export_entry = {
	.name = "export",
	.args = "NAME [--snapshots] [--optimized] > FILE",
	.summary = "write a container as a tarball to standard output",
	.help = "LXD's backup format (gzip), which 'import' (here or on\n"
	    "another lab server) and 'lxc import' read. --snapshots takes\n"
	    "its snapshots too; --optimized the storage pool's own format\n"
	    "(smaller and quicker, but only for a pool of the same kind).\n"
	    "Refused when standard output is a terminal. Through the\n"
	    "gateway: ssh lab@SERVER export box > box.tar.gz",
	.flags = CMD_USER | CMD_STREAM,	/* stdout is the tarball */
	.min_args = 1, .max_args = 1,
	.target = CMD_TARGET_CT,
	.opts = { { "snapshots", 0, 0, NULL }, { "optimized", 0, 0, NULL } },
	.exec = cmd_export_exec,
};
