/* cmd-restart.c - restart: stop then start containers. */
#include "ct.h"
#include "proto.h"

static int
cmd_restart_exec(struct ctx *c)
{
	int i, status = PROTO_OK, force = cmd_opt(c, "force") != NULL;

	for (i = 0; i < c->args.argc; i++) {
		struct ct ct;
		int up;

		if (ct_find(c, c->args.argv[i], &ct) != 0)
			status = PROTO_FAILED;
		else if (ct_stop(ctx_op(c), &ct, force) != 0 ||
		    ct_start(ctx_op(c), &ct, &up) != 0)
			status = ctx_fail(c, ctx_op(c));
		else
			ct_say_started(c, &ct, up);
	}
	return status;
}

const struct cmd_entry cmd_restart_entry = {
	.name = "restart",
	.args = "NAME... [-f]",
	.summary = "restart containers",
	.help = "A clean shutdown (up to 30 s, or at once with -f), then a\n"
	    "start; the SSH port stays the same.",
	.flags = CMD_USER,
	.min_args = 1, .max_args = 64,
	.target = CMD_TARGET_CT,	/* the audit row names the first */
	.opts = { { "force", 'f', 0, NULL } },
	.exec = cmd_restart_exec,
};
