/* cmd-stop.c - stop: shut containers down (cleanly, or at once with -f). */
#include "ct.h"
#include "proto.h"

static int
cmd_stop_exec(struct ctx *c)
{
	int i, status = PROTO_OK, force = cmd_opt(c, "force") != NULL;

	for (i = 0; i < c->args.argc; i++) {
		struct ct ct;

		if (ct_find(c, c->args.argv[i], &ct) != 0)
			status = PROTO_FAILED;
		else if (ct_stop(ctx_op(c), &ct, force) != 0)
			status = ctx_fail(c, ctx_op(c));
		else
			ctx_printf(c, "Stopped %s.\n", ct.name);
	}
	return status;
}

const struct cmd_entry cmd_stop_entry = {
	.name = "stop",
	.args = "NAME... [-f]",
	.summary = "stop containers",
	.help = "Waits up to 30 s for a clean shutdown; -f stops at once.",
	.flags = CMD_USER,
	.min_args = 1, .max_args = 64,
	.target = CMD_TARGET_CT,	/* the audit row names the first */
	.opts = { { "force", 'f', 0, NULL } },
	.exec = cmd_stop_exec,
};
