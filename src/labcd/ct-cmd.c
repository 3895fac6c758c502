/*
 * ct-cmd.c - the command layer's side of containers, between a request
 * and the domain (ct.c): the container a command's argument names (or
 * the reply saying why not), create's and launch's options read from
 * argv, and the lines a start ends with. Reply code: it takes the
 * request; what decides, stores or asks LXD is in ct.c.
 */
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "ct.h"
#include "gpu.h"
#include "gpu-queue.h"
#include "proto.h"
#include "sizes.h"

int
ct_find(struct ctx *c, const char *name, struct ct *ct)
{
	const char *why = ct_name_invalid(name);

	if (why != NULL)
		return ctx_error(c, "'%.64s' is not a container name: %s",
		    name, why);
	if (ct_get(ctx_op(c), name, ct) != 0)
		return ctx_error(c, "you have no container '%s' (see 'list')",
		    name);
	return PROTO_OK;
}

int
ct_find_ready(struct ctx *c, const char *name, struct ct *ct)
{
	int r;

	if ((r = ct_find(c, name, ct)) != 0)
		return r;
	if (ct_check_ready(ctx_op(c), ct) != 0)
		return ctx_fail(c, ctx_op(c));
	return PROTO_OK;
}

void
ct_say_started(struct ctx *c, const struct ct *ct, int ssh_up)
{
	struct buf lim = BUF_INIT(0);

	(void)sizes_line_get(ctx_op(c), ct, &lim);
	if (ssh_up)
		ctx_printf(c, "%s is running: %s\n", ct->name, buf_str(&lim));
	else
		ctx_printf(c, "%s is running: %s\nIts sshd did not answer "
		    "within %d s; try later.\n", ct->name, buf_str(&lim),
		    SSH_WAIT);
	buf_free(&lim);
	ct_say_connect(c, ct->name, ct->port);
}

int
ct_opts_from_args(struct ctx *c, struct ct_opts *o)
{
	const char *v;
	char *end;
	long n;

	memset(o, 0, sizeof(*o));
	o->image = cmd_opt(c, "image");
	if (o->image != NULL && (*o->image == '\0' || strlen(o->image) > 128))
		return ctx_usage(c, "--image needs an image alias or "
		    "fingerprint (see 'images')");
	if ((v = cmd_opt(c, "cpu")) != NULL) {
		/* Digits only: strtol would take " 4" and "+4", and LXD
		   gets the text as it is. */
		n = strtol(v, &end, 10);
		if (*v == '\0' || strspn(v, "0123456789") != strlen(v) ||
		    strlen(v) > 4 || n < 1 || n > 1024)
			return ctx_usage(c, "--cpu needs a number of CPUs from "
			    "1 to 1024, in digits only (such as 4), not "
			    "'%.32s'", v);
		o->cpu = v;
	}
	if ((v = cmd_opt(c, "memory")) != NULL) {
		if (!config_size_valid(v) || *v == '0')
			return ctx_usage(c, "--memory needs a size such as "
			    "512MiB or 8GiB (at most 15 digits)");
		o->memory = v;
	}
	o->gpu = cmd_opt(c, "gpu");
	o->exclusive = cmd_opt(c, "exclusive") != NULL;
	if (o->exclusive && o->gpu == NULL)
		return ctx_usage(c, "--exclusive goes with --gpu LIST");
	if (o->exclusive && gpu_exclusive_allowed(ctx_op(c)) != 0)
		return ctx_fail(c, ctx_op(c));
	o->gpu_for = cmd_opt(c, "for");
	o->wait = cmd_opt(c, "wait") != NULL;
	if (o->wait && (o->gpu == NULL || strcmp(o->gpu, "none") == 0))
		return ctx_usage(c, "--wait waits for GPUs: it goes with --gpu");
	if (o->gpu_for != NULL && (o->gpu == NULL || strcmp(o->gpu,
	    "none") == 0))
		return ctx_usage(c, "--for is how long GPUs are held: it goes "
		    "with --gpu");
	if (o->gpu_for != NULL) {
		long long secs;
		int r;

		if ((r = gpu_lease_for(ctx_op(c), o->gpu_for, &secs)) != 0)
			return ctx_cause(c, r);
	}
	if ((v = cmd_opt(c, "disk")) != NULL) {
		if (!config_size_valid(v) || *v == '0')
			return ctx_usage(c, "--disk needs a size such as 10GiB "
			    "(at most 15 digits)");
		o->disk = v;
	}
	if ((v = cmd_opt(c, "server")) != NULL) {
		int r;

		if ((r = cluster_server_opt(ctx_op(c), v)) != 0)
			return ctx_cause(c, r);
		o->server = v;
	}
	return PROTO_OK;
}

int
ct_create_or_queue(struct ctx *c, const char *name, struct ct_opts *o,
    struct ct *ct, int start, int *queued)
{
	struct op *op = ctx_op(c);
	int r, busy = 0;
	long long lease = 0;
	size_t pos, total;
	char cause[OP_CAUSE_MAX];

	*queued = 0;
	o->gpu_busy = &busy;
	if ((r = ct_create(op, name, o, ct)) == 0 || !busy || !o->wait)
		return r;
	/* Made without them; the GPUs wait in the queue. */
	snprintf(cause, sizeof(cause), "%s", op->cause);
	if (gpu_lease_for(op, o->gpu_for, &lease) != 0 ||
	    gpu_quota_allows(op, op->actor->user_id, o->server, o->gpu) != 0)
		return PROTO_FAILED;
	{
		struct ct_opts bare = *o;

		bare.gpu = "none";
		bare.exclusive = 0;
		bare.gpu_for = NULL;
		bare.gpu_busy = NULL;
		if ((r = ct_create(op, name, &bare, ct)) != 0)
			return r;
	}
	if ((r = gpu_queue_add(op, ct, o->gpu, o->exclusive, lease, start,
	    &pos, &total)) != 0)
		return r;
	*queued = 1;
	ctx_printf(c, "%s is made, without GPUs for now (%s).\nIt waits for "
	    "GPU %s in the queue: position %zu of %zu ('gpu queue'); it gets "
	    "them as they free up%s, and you are told then. 'gpu cancel %s' "
	    "leaves the queue.\n", name, cause, o->gpu, pos, total, start ?
	    " and starts" : "", name);
	return PROTO_OK;
}
