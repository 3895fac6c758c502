/* cmd-gpu-renew.c - gpu renew: a new end for the GPUs of your container. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ct.h"
#include "db-gpus.h"
#include "gpu.h"
#include "proto.h"

static int
gpu_renew(struct ctx *c, const struct ct *ct, const char *list)
{
	struct gpu_use *u;
	struct gpu_req req = { 0 };
	long long secs, end;
	size_t i, j, n, done = 0;
	char until[64], *now;
	int r;

	if ((r = gpu_lease_for(ctx_op(c), cmd_opt(c, "for"), &secs)) != 0)
		return ctx_cause(c, r);
	if (list != NULL && strcmp(list, "all") != 0) {
		if (strncmp(list, "any", 3) == 0)
			return ctx_usage(c, "gpu renew takes the GPU numbers "
			    "%s has (see 'details %s'), or none for all of "
			    "them", ct->name, ct->name);
		char project[64];

		project_of(ctx_op(c), ct->user_id, c->id.user, project);
		if ((r = gpu_request_ct(ctx_op(c), project, ct->name, list, 0,
		    &req)) != 0)
			return ctx_cause(c, r);
	}
	end = secs > 0 ? (long long)time(NULL) + secs : 0;
	n = gpudb_of_container(c->db, ct->id, &u);
	for (i = 0; i < req.n; i++) {
		for (j = 0; j < n && u[j].gpu != req.idx[i]; j++)
			;
		if (j == n) {
			int g = req.idx[i];

			free(u);
			gpu_request_free(&req);
			return ctx_error(c, "%s does not have GPU %d (it has "
			    "what 'details %s' shows)", ct->name, g, ct->name);
		}
	}
	if (n == 0) {
		free(u);
		gpu_request_free(&req);
		return ctx_error(c, "%s has no GPUs to renew: 'gpu attach %s "
		    "any' asks for one", ct->name, ct->name);
	}
	if (db_begin(c->db) != 0) {
		free(u);
		gpu_request_free(&req);
		return ctx_error(c, "database busy: %s", c->db->err);
	}
	for (j = 0; j < n; j++) {
		for (i = 0; i < req.n && req.idx[i] != u[j].gpu; i++)
			;
		if (req.n > 0 && i == req.n)
			continue;
		if (gpudb_set_lease(c->db, ct->id, u[j].gpu, end) != 0) {
			db_rollback(c->db);
			free(u);
			gpu_request_free(&req);
			return ctx_error(c, "cannot record the new end: %s",
			    c->db->err);
		}
		done++;
	}
	free(u);
	gpu_request_free(&req);
	if (db_commit(c->db) != 0)
		return ctx_error(c, "cannot record the new end: %s",
		    c->db->err);
	now = gpu_of_container(ctx_op(c), ct->id);
	if (end > 0) {
		gpu_until("until", end, until, sizeof(until));
		ctx_printf(c, "%s keeps %s GPU%s %s: GPU %s.\n", ct->name,
		    done == 1 ? "its" : "the", done == 1 ? "" : "s", until,
		    now);
	} else
		ctx_printf(c, "%s keeps %s GPU%s without end: GPU %s.\n",
		    ct->name, done == 1 ? "its" : "the", done == 1 ? "" : "s",
		    now);
	free(now);
	return PROTO_OK;
}

static int
cmd_gpu_renew_exec(struct ctx *c)
{
	const char *name = c->args.argv[0];
	const char *list = c->args.argc > 1 ? c->args.argv[1] : NULL;
	struct ct ct;
	int r;

	ctx_target(c, "%.64s %.32s", name, list != NULL ? list : "all");
	if ((r = ct_find_ready(c, name, &ct)) != 0)
		return r;
	/* The lease's end is read and changed by the watch: one at a time
	   with a take at the very end. */
	if (ct_claim_for(ctx_op(c), &ct) != PROTO_OK)
		return ctx_fail(c, ctx_op(c));
	r = gpu_renew(c, &ct, list);
	ct_release(ct.user_id, ct.name);
	return r;
}

const struct cmd_entry cmd_gpu_renew_entry = {
	.name = "gpu renew",
	.args = "NAME [all|LIST] [--for DURATION]",
	.summary = "hold a container's GPUs longer: a new end for their lease",
	.help = "The new end is counted from now: --for 8h (90s, 30m, 2d), or\n"
	    "the server's default lease without it. gpu_lease_max bounds it\n"
	    "for members. LIST: only those of the container's GPUs.",
	.flags = CMD_USER,
	.min_args = 1, .max_args = 2,
	.opts = { { "for", 0, 1, "DURATION" } },
	.exec = cmd_gpu_renew_exec,
};
