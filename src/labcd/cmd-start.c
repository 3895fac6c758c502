/* cmd-start.c - start: start containers. */
#include "ct.h"
#include "proto.h"

static int
cmd_start_exec(struct ctx *c)
{
	int i, status = PROTO_OK;

	for (i = 0; i < c->args.argc; i++) {
		struct ct ct;
		int up;

		if (ct_find(c, c->args.argv[i], &ct) != 0)
			status = PROTO_FAILED;
		else if (ct_start(ctx_op(c), &ct, &up) != 0)
			status = ctx_fail(c, ctx_op(c));
		else
			ct_say_started(c, &ct, up);
	}
	return status;
}

const struct cmd_entry cmd_start_entry = {
	.name = "start",
	.args = "NAME...",
	.summary = "start containers",
	.flags = CMD_USER,
	.min_args = 1, .max_args = 64,
	.target = CMD_TARGET_CT,	/* the audit row names the first */
	.exec = cmd_start_exec,
};
