/* cmd-delete.c - delete: remove containers and release their ports. */
#include "ct.h"
#include "proto.h"
#include "sizes.h"

static int
cmd_delete_exec(struct ctx *c)
{
	int i, status = PROTO_OK, force = cmd_opt(c, "force") != NULL;
	int deleted = 0;

	for (i = 0; i < c->args.argc; i++) {
		struct ct ct;

		if (ct_find(c, c->args.argv[i], &ct) != 0)
			status = PROTO_FAILED;
		else if (ct_delete(ctx_op(c), &ct, force) != 0)
			status = ctx_fail(c, ctx_op(c));
		else {
			ctx_printf(c, "Deleted %s (port %d released).\n",
			    ct.name, ct.port);
			deleted++;
		}
	}
	/* A delete can leave btrfs enforcing no size (sizes.h). */
	if (deleted > 0)
		sizes_btrfs_mend(ctx_lxd(c));
	return status;
}

const struct cmd_entry cmd_delete_entry = {
	.name = "delete",
	.args = "NAME... [-f]",
	.summary = "delete containers",
	.help = "A running container is refused unless -f, which stops it\n"
	    "first. Everything in the container is lost.",
	.flags = CMD_USER,
	.min_args = 1, .max_args = 64,
	.target = CMD_TARGET_CT,	/* the audit row names the first */
	.opts = { { "force", 'f', 0, NULL } },
	.exec = cmd_delete_exec,
};
