/* cmd-gpu-attach.c - gpu attach: give GPUs to one of your containers. */
#include <stdlib.h>
#include <string.h>

#include "ct.h"
#include "db-gpus.h"
#include "gpu.h"
#include "gpu-queue.h"
#include "lxd.h"
#include "project.h"
#include "proto.h"

/* How many GPUs the container has now. */
static size_t
gpu_count(struct ctx *c, long long ct_id)
{
	struct gpu_use *u;
	size_t n = gpudb_of_container(c->db, ct_id, &u);

	free(u);
	return n;
}

static int
gpu_attach(struct ctx *c, const struct ct *ctp, const char *list)
{
	struct ct ct = *ctp;
	struct gpu_req req;
	char project[64], inside[48], *now;
	int r, running, driver_added, had_driver;

	int excl = cmd_opt(c, "exclusive") != NULL;
	long long lease;

	if (strcmp(list, "none") == 0)
		return ctx_usage(c, "gpu attach needs GPUs: all, any or a list");
	if ((r = gpu_lease_for(ctx_op(c), cmd_opt(c, "for"), &lease)) != 0)
		return ctx_cause(c, r);
	project_of(ctx_op(c), ct.user_id, c->id.user, project);
	if ((r = gpu_request_ct(ctx_op(c), project, ct.name, list, excl,
	    &req)) != 0)
		return gpu_queue_or_refuse(c, &ct, list, excl, lease, 0,
		    req.busy, r);
	req.lease = lease;
	r = gpu_give(ctx_op(c), ct.user_id, project, ct.name, ct.id, &req,
	    &running, &driver_added, &had_driver);
	if (r != 0) {
		r = gpu_queue_or_refuse(c, &ct, list, excl, lease, 0,
		    req.busy, r);
		gpu_request_free(&req);
		return r;
	}
	gpu_request_free(&req);
	now = gpu_of_container(ctx_op(c), ct.id);
	gpu_inside(gpu_count(c, ct.id), inside, sizeof(inside));
	ctx_printf(c, "%s has GPU %s (%s: a container numbers its GPUs from 0, "
	    "in the host's order;\nCUDA_VISIBLE_DEVICES inside counts them "
	    "so).\n", ct.name, now, inside);
	free(now);
	if (!running)
		ctx_printf(c, "It has them from its next start ('start %s').\n",
		    ct.name);
	else if (driver_added)
		ctx_printf(c, "%s is running: restart %s to get the host's "
		    "driver inside ('restart %s').\n", ct.name, ct.name,
		    ct.name);
	else if (had_driver)
		ctx_printf(c, "%s is running and has them now, with the host's "
		    "driver: no restart needed.\n", ct.name);
	else
		ctx_printf(c, "%s is running and has them now. This server "
		    "does not put the host's driver\ninto containers "
		    "(nvidia_runtime): the image needs its own, of the host's "
		    "version.\n", ct.name);
	return PROTO_OK;
}

static int
cmd_gpu_attach_exec(struct ctx *c)
{
	const char *name = c->args.argv[0], *list = c->args.argv[1];
	struct ct ct;
	int r;

	ctx_target(c, "%.64s %.32s", name, list);
	if (cmd_opt(c, "exclusive") != NULL &&
	    gpu_exclusive_allowed(ctx_op(c)) != 0)
		return ctx_fail(c, ctx_op(c));
	if (cmd_opt(c, "for") != NULL) {
		long long secs;

		/* Checked before anything is looked up or held. */
		if ((r = gpu_lease_for(ctx_op(c), cmd_opt(c, "for"),
		    &secs)) != 0)
			return ctx_cause(c, r);
	}
	if ((r = ct_find_ready(c, name, &ct)) != 0)
		return r;
	/* Serialised with set, create and delete of this container: a
	   plain PATCH of one would otherwise undo the other's devices. */
	if (ct_claim_for(ctx_op(c), &ct) != PROTO_OK)
		return ctx_fail(c, ctx_op(c));
	r = gpu_attach(c, &ct, list);
	ct_release(ct.user_id, ct.name);
	return r;
}

const struct cmd_entry cmd_gpu_attach_entry = {
	.name = "gpu attach",
	.args = "NAME all|any[:N]|LIST [--exclusive] [--for DURATION] [--wait]",
	.summary = "give GPUs (nvidia-smi numbers, e.g. 0,2) to a container",
	.help = "any: one GPU nobody holds, the least used; any:2: two.\n"
	    "LIST: host GPU numbers, as 'gpus' and nvidia-smi on the host\n"
	    "show them. Inside, a container numbers its own GPUs from 0, in\n"
	    "that order: host GPU 2 alone is GPU 0 inside (cuda:0); host GPUs\n"
	    "0 and 2 are GPU 0 and 1. CUDA_VISIBLE_DEVICES inside counts the\n"
	    "container's GPUs, not the host's.\n"
	    "A running container gets the device at once; the host's driver\n"
	    "(nvidia-smi, CUDA's libraries) comes in at a start, so it says\n"
	    "when a restart is needed.\n"
	    "--exclusive: nobody else may have them until you detach\n"
	    "them or delete the container.\n"
	    "--for 8h: they go back to the pool after 8 hours (90s, 30m, 2d;\n"
	    "'gpu renew' extends it); you are told an hour before. Without\n"
	    "it, the server's default lease (gpu_lease_default) applies.\n"
	    "--wait: GPUs that cannot be given now are waited for in the\n"
	    "queue (as 'gpu request').",
	.flags = CMD_USER,
	.min_args = 2, .max_args = 2,
	.opts = { { "exclusive", 0, 0, NULL }, { "for", 0, 1, "DURATION" },
	    { "wait", 0, 0, NULL } },
	.exec = cmd_gpu_attach_exec,
};

const struct cmd_entry cmd_gpu_request_entry = {
	.name = "gpu request",
	.args = "NAME any[:N]|LIST [--exclusive] [--for DURATION]",
	.summary = "gpu attach, or wait in the queue until the GPUs free up",
	.help = "As 'gpu attach', but GPUs that cannot be given now (none\n"
	    "free, held by others) are waited for: the request joins the\n"
	    "queue ('gpu queue'), served in turn over the members, and you\n"
	    "are told when the container gets them. 'gpu cancel' leaves it.",
	.flags = CMD_USER,
	.min_args = 2, .max_args = 2,
	.opts = { { "exclusive", 0, 0, NULL }, { "for", 0, 1, "DURATION" } },
	.exec = cmd_gpu_attach_exec,
};
