/* cmd-create.c - create: a new container, stopped, with its SSH port. */
#include "ct.h"
#include "proto.h"
#include "sizes.h"

static int
cmd_create_exec(struct ctx *c)
{
	const char *name = c->args.argv[0], *why = ct_name_invalid(name);
	struct ct_opts o;
	struct ct ct;
	struct buf lim = BUF_INIT(0);
	int r, queued;

	ctx_target(c, "%.64s", name);
	if (why != NULL)
		return ctx_usage(c, "'%.64s' cannot be a container name: %s",
		    name, why);
	if ((r = ct_opts_from_args(c, &o)) != 0)
		return r;
	if ((r = ct_create_or_queue(c, name, &o, &ct, 0, &queued)) != 0)
		return ctx_cause(c, r);
	if (queued)
		return PROTO_OK;
	(void)sizes_line_get(ctx_op(c), &ct, &lim);
	ctx_printf(c, "Created %s (SSH port %d): %s\nStart it with 'start "
	    "%s'.\n", name, ct.port, buf_str(&lim), name);
	buf_free(&lim);
	ct_say_connect(c, name, ct.port);
	return PROTO_OK;
}

const struct cmd_entry cmd_create_entry = {
	.name = "create",
	.args = CT_CREATE_ARGS,
	.summary = "create a container (stopped)",
	.help = "NAME: 1 to 63 lowercase letters, digits or '-', starting with\n"
	    "a letter. The image is the admin's default unless --image names\n"
	    "an alias or fingerprint (see 'images'). The container gets an\n"
	    "SSH port of its own, kept for good. --gpu gives GPUs by their\n"
	    "nvidia-smi number (see 'gpus'); --exclusive keeps them for this\n"
	    "container alone. Inside, the container numbers its GPUs from 0\n"
	    "in the host's order: --gpu 2 is GPU 0 inside (cuda:0), --gpu 0,2\n"
	    "is GPU 0 and 1; CUDA_VISIBLE_DEVICES inside counts them so.",
	.flags = CMD_USER,
	.min_args = 1, .max_args = 1,
	.opts = { CT_CREATE_OPTS },
	.exec = cmd_create_exec,
};
