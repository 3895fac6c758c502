/* cmd-launch.c - launch: create if missing, then start. */
#include <stdlib.h>
#include <string.h>

#include "ct.h"
#include "proto.h"
#include "sizes.h"

/*
 * The options that make a container mean nothing to one that exists:
 * refused, rather than silently ignored, saying what changes it.
 */
static int
refuse_options_of_new(struct ctx *c, const char *name, const struct ct_opts *o,
    const struct ct *ct)
{
	if (o->cpu == NULL && o->memory == NULL && o->disk == NULL &&
	    o->image == NULL)
		return PROTO_OK;
	if (o->image != NULL)
		return ctx_error(c, "%s exists already, made from %s: --image "
		    "is for a new container ('set' changes only its CPU, "
		    "memory and disk). Launch another name, or delete %s "
		    "first; nothing was changed", name, ct->image, name);
	return ctx_error(c, "%s exists already: launch does not resize it. "
	    "Change its limits with 'set %s%s%s%s%s%s%s' (within your quota, "
	    "see 'quota'); nothing was changed", name, name,
	    o->cpu ? " --cpu " : "", o->cpu ? o->cpu : "",
	    o->memory ? " --memory " : "", o->memory ? o->memory : "",
	    o->disk ? " --disk " : "", o->disk ? o->disk : "");
}

static int
cmd_launch_exec(struct ctx *c)
{
	const char *name = c->args.argv[0], *why = ct_name_invalid(name);
	struct ct_opts o;
	struct ct ct;
	struct op *op = ctx_op(c);
	char *status = NULL;
	int r, up, queued;

	ctx_target(c, "%.64s", name);
	if (why != NULL)
		return ctx_usage(c, "'%.64s' cannot be a container name: %s",
		    name, why);
	if ((r = ct_opts_from_args(c, &o)) != 0)
		return r;
	o.starting = 1;
	if (ct_get(op, name, &ct) != 0) {
		if ((r = ct_create_or_queue(c, name, &o, &ct, 1,
		    &queued)) != 0)
			return ctx_cause(c, r);
		if (queued)
			return PROTO_OK;	/* it starts with its GPUs */
	} else {
		if (ct_check_ready(op, &ct) != 0)
			return ctx_fail(c, op);
		if (o.gpu != NULL)
			return ctx_error(c, "%s exists already: give it GPUs "
			    "with 'gpu attach %s LIST'", name, name);
		if ((r = refuse_options_of_new(c, name, &o, &ct)) != 0)
			return r;
		if (ct_status(op, &ct, &status) != 0)
			return ctx_fail(c, op);
		if (status != NULL && strcmp(status, "Running") == 0) {
			struct buf lim = BUF_INIT(0);

			free(status);
			(void)sizes_line_get(op, &ct, &lim);
			ctx_printf(c, "%s is running already: %s\n", name,
			    buf_str(&lim));
			buf_free(&lim);
			ct_say_connect(c, name, ct.port);
			return PROTO_OK;
		}
		free(status);
	}
	if (ct_start(op, &ct, &up) != 0)
		return ctx_fail(c, op);
	ct_say_started(c, &ct, up);
	return PROTO_OK;
}

const struct cmd_entry cmd_launch_entry = {
	.name = "launch",
	.args = CT_CREATE_ARGS,
	.summary = "create a container if it is missing, and start it",
	.help = "Shows progress, and ends with the limits the container got\n"
	    "and how to connect: 'ssh NAME.SUFFIX' once 'ssh-config' is in\n"
	    "your ~/.ssh/config (see 'help ssh-config'). A running container\n"
	    "is left alone. Of an existing container, the size options are\n"
	    "refused: 'set' changes its CPU, memory and disk. See 'help\n"
	    "create'.\n"
	    "--gpu 2 gives host GPU 2 (as 'gpus' numbers it); inside it is\n"
	    "GPU 0 (cuda:0): a container numbers its GPUs from 0, in the\n"
	    "host's order, and CUDA_VISIBLE_DEVICES inside counts them so.",
	.flags = CMD_USER,
	.min_args = 1, .max_args = 1,
	.opts = { CT_CREATE_OPTS },
	.exec = cmd_launch_exec,
};
