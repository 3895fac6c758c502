/*
 * cmd-gpu-queue.c - gpu queue: who waits for which GPUs, in the order they
 * will be served (round-robin over the members, first come within one);
 * gpu cancel: a container's requests leave it. The queue is the lab's, as
 * 'gpus' is: every member sees who waits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "config.h"
#include "ct.h"
#include "db-gpus.h"
#include "proto.h"

static const char *const cols[] = { "position#", "user", "container",
	"gpus", "exclusive", "for", "then", "waiting_since", NULL };

static int
cmd_gpu_queue_exec(struct ctx *c)
{
	struct gpu_wait *w;
	struct table *t;
	size_t i, n = gpuq_list(c->db, &w);

	if (n == 0 && c->format == FMT_TABLE) {
		free(w);
		ctx_printf(c, "Nobody waits for GPUs.\n");
		return PROTO_OK;
	}
	t = table_new(cols);

	for (i = 0; i < n; i++) {
		char pos[24], span[32] = "", since[32];
		struct tm tm;
		time_t ft;

		snprintf(pos, sizeof(pos), "%zu", i + 1);
		if (w[i].lease > 0)
			config_duration_str(w[i].lease, span, sizeof(span));
		ft = (time_t)w[i].created;
		localtime_r(&ft, &tm);
		strftime(since, sizeof(since), "%Y-%m-%d %H:%M", &tm);
		table_add(t, pos, w[i].user, w[i].name, w[i].spec,
		    w[i].exclusive ? "yes" : "no", w[i].lease > 0 ? span :
		    "no end", w[i].start ? "start" : "-", since);
	}
	free(w);
	ctx_table(c, "queue", t);
	table_free(t);
	return PROTO_OK;
}

const struct cmd_entry cmd_gpu_queue_entry = {
	.name = "gpu queue",
	.args = "",
	.summary = "who waits for GPUs, in the order they will get them",
	.flags = CMD_READONLY | CMD_NOAUDIT | CMD_FORMAT,
	.exec = cmd_gpu_queue_exec,
};

static int
cmd_gpu_cancel_exec(struct ctx *c)
{
	const char *name = c->args.argv[0];
	struct ct ct;
	int r, n;

	ctx_target(c, "%.64s", name);
	if ((r = ct_find(c, name, &ct)) != 0)
		return r;
	if ((n = gpuq_cancel(c->db, ct.id)) < 0)
		return ctx_error(c, "cannot leave the queue: %s", c->db->err);
	if (n == 0)
		return ctx_error(c, "%s waits for no GPUs ('gpu queue' shows "
		    "who waits)", ct.name);
	ctx_printf(c, "%s left the GPU queue (%d request%s).\n", ct.name, n,
	    n == 1 ? "" : "s");
	return PROTO_OK;
}

const struct cmd_entry cmd_gpu_cancel_entry = {
	.name = "gpu cancel",
	.args = "NAME",
	.summary = "take a container's requests out of the GPU queue",
	.flags = CMD_USER,
	.min_args = 1, .max_args = 1,
	.exec = cmd_gpu_cancel_exec,
};
