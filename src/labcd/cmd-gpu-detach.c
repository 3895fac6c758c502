/* cmd-gpu-detach.c - gpu detach: take GPUs from one of your containers. */
#include <stdlib.h>
#include <string.h>

#include "ct.h"
#include "db-gpus.h"
#include "gpu.h"
#include "gpu-watch.h"
#include "lxd.h"
#include "project.h"
#include "proto.h"

static int
gpu_detach(struct ctx *c, const struct ct *ctp, const char *list)
{
	struct ct ct = *ctp;
	struct gpu_req req;
	char project[64], *now;
	size_t i;
	int r;

	if (strncmp(list, "any", 3) == 0)
		return ctx_usage(c, "gpu detach takes all or the GPU numbers "
		    "the container has (see 'details %s')", ct.name);
	project_of(ctx_op(c), ct.user_id, c->id.user, project);
	if ((r = gpu_request_ct(ctx_op(c), project, ct.name, list, 0,
	    &req)) != 0)
		return ctx_cause(c, r);
	for (i = 0; i < req.n; i++) {
		int g = req.idx[i];

		if (!gpudb_has(c->db, ct.id, g)) {
			if (strcmp(list, "all") == 0)
				continue;
			gpu_request_free(&req);
			return ctx_error(c, "%s does not have GPU %d", ct.name, g);
		}
		if (gpu_take(ctx_op(c), project, ct.name, ct.id, g) != 0) {
			gpu_request_free(&req);
			return ctx_fail(c, ctx_op(c));
		}
	}
	gpu_request_free(&req);
	now = gpu_of_container(ctx_op(c), ct.id);
	ctx_printf(c, "%s has %s%s.\n", ct.name, *now ? "GPU " : "no GPUs",
	    now);
	free(now);
	gpu_watch_kick();
	return PROTO_OK;
}

static int
cmd_gpu_detach_exec(struct ctx *c)
{
	const char *name = c->args.argv[0], *list = c->args.argv[1];
	struct ct ct;
	int r;

	ctx_target(c, "%.64s %.32s", name, list);
	if ((r = ct_find_ready(c, name, &ct)) != 0)
		return r;
	/* Serialised with set, create and delete of this container: a
	   plain PATCH of one would otherwise undo the other's devices. */
	if (ct_claim_for(ctx_op(c), &ct) != PROTO_OK)
		return ctx_fail(c, ctx_op(c));
	r = gpu_detach(c, &ct, list);
	ct_release(ct.user_id, ct.name);
	return r;
}

const struct cmd_entry cmd_gpu_detach_entry = {
	.name = "gpu detach",
	.args = "NAME all|LIST",
	.summary = "take GPUs from a container (an exclusive hold ends)",
	.flags = CMD_USER,
	.min_args = 2, .max_args = 2,
	.exec = cmd_gpu_detach_exec,
};
