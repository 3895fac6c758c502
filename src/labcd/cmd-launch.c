/* cmd-launch.c - launch: create if missing, then start. */
#include <stdlib.h>
#include <string.h>

#include "ct.h"
#include "proto.h"

static int
cmd_launch_exec(struct ctx *c)
{
	const char *name = c->args.argv[0], *why = ct_name_invalid(name);
	struct ct_opts o;
	struct ct ct;
	char *status = NULL;
	int r;

	ctx_target(c, "%.64s", name);
	if (why != NULL)
		return ctx_usage(c, "'%.64s' cannot be a container name: %s",
		    name, why);
	if ((r = ct_opts_from_args(c, &o)) != 0)
		return r;
	o.starting = 1;
	if (ct_get(c, name, &ct) != 0) {
		if ((r = ct_create(c, name, &o, &ct)) != 0)
			return r;
	} else {
		if ((r = ct_check_ready(c, &ct)) != 0)
			return r;
		if (o.gpu != NULL)
			return ctx_error(c, "%s exists already: give it GPUs "
			    "with 'gpu attach %s LIST'", name, name);
		if ((r = ct_status(c, &ct, &status)) != 0)
			return r;
		if (status != NULL && strcmp(status, "Running") == 0) {
			free(status);
			ctx_printf(c, "%s is running already.\n", name);
			ct_say_connect(c, name, ct.port);
			return PROTO_OK;
		}
		free(status);
	}
	return ct_start(c, &ct, 1);
}

const struct cmd_entry cmd_launch_entry = {
	.name = "launch",
	.args = CT_CREATE_ARGS,
	.summary = "create a container if it is missing, and start it",
	.help = "Shows progress, and ends with how to connect: 'ssh NAME.SUFFIX'\n"
	    "once 'ssh-config' is in your ~/.ssh/config (see 'help ssh-config').\n"
	    "A running container is left alone. See 'help create'.\n"
	    "--gpu 2 gives host GPU 2 (as 'gpus' numbers it); inside it is\n"
	    "GPU 0 (cuda:0): a container numbers its GPUs from 0, in the\n"
	    "host's order, and CUDA_VISIBLE_DEVICES inside counts them so.",
	.flags = CMD_USER,
	.min_args = 1, .max_args = 1,
	.opts = { CT_CREATE_OPTS },
	.exec = cmd_launch_exec,
};
