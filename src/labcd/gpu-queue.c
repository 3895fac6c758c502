/*
 * gpu-queue.c - the GPU queue. A request that cannot be given now and
 * says --wait is kept in gpu_queue; the watch thread (gpu-watch.c) walks
 * the queue every second in its order (db-gpus.c: round-robin over users,
 * first come within a user) and gives each request that can be given now,
 * as gpu attach would, for the owner. A request that can never be given
 * (over the owner's quota, a GPU gone from the host) is dropped, and its
 * owner told why. A container that was to start with its GPUs is started
 * then, on a thread of its own.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "config.h"
#include "ct.h"
#include "db-gpus.h"
#include "gpu.h"
#include "gpu-queue.h"
#include "gpu-watch.h"
#include "log.h"
#include "lxd.h"
#include "op.h"
#include "xmalloc.h"

int
gpu_queue_add(struct op *op, const struct ct *ct, const char *spec,
    int exclusive, long long lease, int start, size_t *position,
    size_t *total)
{
	struct gpu_wait *w;
	long long id;
	size_t i, n;

	/* One request per container: the queue is as long as the lab's
	   containers at most, not as a member's patience. */
	n = gpuq_list(op->db, &w);
	for (i = 0; i < n && w[i].ct_id != ct->id; i++)
		;
	if (i < n) {
		char spec_then[64];

		snprintf(spec_then, sizeof(spec_then), "%s", w[i].spec);
		free(w);
		return op_error(op, "%s already waits for GPUs (%s, number %zu "
		    "in the queue): one request per container; 'gpu cancel "
		    "%s' takes it out", ct->name, spec_then, i + 1, ct->name);
	}
	free(w);
	if ((id = gpuq_add(op->db, ct->id, spec, exclusive, lease, start)) < 0)
		return op_error(op, "cannot queue the request: %s",
		    op->db->err);
	n = gpuq_list(op->db, &w);
	*position = n;
	for (i = 0; i < n; i++) {
		if (w[i].id == id)
			*position = i + 1;
	}
	*total = n;
	free(w);
	return PROTO_OK;
}

/* The member ct is on: "" on one server, or where it cannot be told. */
static void
ct_server(struct op *op, const struct ct *ct, char out[MEMBER_NAME_MAX])
{
	char project[PROJECT_MAX];

	out[0] = '\0';
	if (!gpu_on_cluster(op))
		return;
	/* As attach and detach name it: the caller is the owner. */
	project_of(op, ct->user_id, op->actor->user, project);
	if (cluster_ct_location(op, project, ct->name, out) != 0)
		out[0] = '\0';
}

int
gpu_queue_or_refuse(struct ctx *c, const struct ct *ct, const char *spec,
    int exclusive, long long lease, int start, int busy, int r)
{
	char server[MEMBER_NAME_MAX];
	int wait = cmd_opt(c, "wait") != NULL ||
	    strcmp(c->cmd->name, "gpu request") == 0;
	size_t pos, total;
	char span[32];

	if (!busy)
		return ctx_cause(c, r);
	if (!wait) {
		const char *why = ctx_op(c)->cause;

		if (strstr(why, "--wait") != NULL)
			return ctx_cause(c, r);
		return ctx_error(c, "%s: add --wait to wait for it in the queue "
		    "('gpu queue' shows who waits)", why);
	}
	ct_server(ctx_op(c), ct, server);
	if (gpu_quota_allows(ctx_op(c), ct->user_id, server, spec) != 0 ||
	    gpu_queue_add(ctx_op(c), ct, spec, exclusive, lease, start, &pos,
	    &total) != 0)
		return ctx_fail(c, ctx_op(c));
	config_duration_str(lease, span, sizeof(span));
	ctx_printf(c, "%s waits for GPU %s in the queue: position %zu of %zu "
	    "('gpu queue').\nIt gets them as they free up%s%s%s; you are "
	    "told then. 'gpu cancel %s' leaves the queue.\n", ct->name, spec,
	    pos, total, lease > 0 ? ", for " : "", lease > 0 ? span : "",
	    start ? ", and starts" : "", ct->name);
	return PROTO_OK;
}

/* --- serving --- */

static atomic_int starting;	/* start_main threads on their way */

int
gpu_queue_starting(void)
{
	return atomic_load(&starting);
}

struct starter {
	struct server	*srv;
	long long	 ct_id;
	struct ident	 owner;
};

/* Start a container that waited for its GPUs, off the watch's thread. */
static void *
start_main(void *arg)
{
	struct starter *st = arg;
	struct lxd *l = NULL;
	struct db *db;
	struct op op;
	struct ct ct;
	char err[512], project[PROJECT_MAX], text[512], res[256];
	int up = 0;

	if ((db = db_open(st->srv->db_path, err, sizeof(err))) == NULL) {
		log_warn("gpu queue: cannot start a container: %s", err);
		free(st);
		atomic_fetch_sub(&starting, 1);
		return NULL;
	}
	op_init(&op, st->srv, db, &l, &st->owner, "gpu queue");
	if (ctdb_get_by_id(db, st->ct_id, &ct) == 0) {
		project_of(&op, ct.user_id, st->owner.user, project);
		if (ct_start(&op, &ct, &up) != PROTO_OK) {
			snprintf(text, sizeof(text), "%s got its GPUs from the "
			    "queue but did not start: %.300s", ct.name,
			    op.cause);
			snprintf(res, sizeof(res), "failed: start after the "
			    "queue: %.200s", op.cause);
		} else {
			snprintf(text, sizeof(text), "%s got its GPUs from the "
			    "queue and is running: 'ssh %s.SUFFIX' as always.",
			    ct.name, ct.name);
			snprintf(res, sizeof(res), "ok: started with its GPUs "
			    "from the queue");
		}
		gpu_watch_tell(&op, ct.user_id, st->owner.user, project,
		    ct.name, res, text);
	}
	op_end(&op);
	db_close(db);
	lxd_free(l);
	free(st);
	atomic_fetch_sub(&starting, 1);
	return NULL;
}

static void
start_later(struct server *s, const struct gpu_wait *w)
{
	struct starter *st = xcalloc(1, sizeof(*st));
	pthread_attr_t attr;
	pthread_t t;

	st->srv = s;
	st->ct_id = w->ct_id;
	st->owner.user_id = w->user_id;
	snprintf(st->owner.user, sizeof(st->owner.user), "%.32s", w->user);
	snprintf(st->owner.actor, sizeof(st->owner.actor), "labcd");
	snprintf(st->owner.via, sizeof(st->owner.via), "queue");
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	atomic_fetch_add(&starting, 1);
	if (pthread_create(&t, &attr, start_main, st) != 0) {
		log_warn("gpu queue: cannot start %s/%s now: start it by hand",
		    w->user, w->name);
		free(st);
		atomic_fetch_sub(&starting, 1);
	}
	pthread_attr_destroy(&attr);
}

/* Try to give one request now: 1 given, 0 not now, -1 dropped. */
static int
serve_one(struct server *s, struct db *db, struct lxd **lxdp,
    const struct gpu_wait *w)
{
	struct ident owner = { .user_id = w->user_id, .via = "queue",
	    .actor = "labcd" };
	struct gpu_req req;
	struct op op;
	char project[PROJECT_MAX], text[512], res[600], *now;
	int r, running, drv, had;

	snprintf(owner.user, sizeof(owner.user), "%.32s", w->user);
	if (ct_claim(w->user_id, w->name) != 0)
		return 0;		/* being changed: at the next pass */
	op_init(&op, s, db, lxdp, &owner, "gpu queue");
	project_of(&op, w->user_id, w->user, project);
	if ((r = gpu_request_ct(&op, project, w->name, w->spec, w->exclusive,
	    &req)) == 0) {
		req.lease = w->lease;
		r = gpu_give(&op, w->user_id, project, w->name, w->ct_id, &req,
		    &running, &drv, &had);
		if (r != 0 && req.busy) {
			gpu_request_free(&req);
			r = -2;
		} else
			gpu_request_free(&req);
	} else if (req.busy)
		r = -2;
	ct_release(w->user_id, w->name);
	if (r == -2) {
		op_end(&op);
		return 0;
	}
	(void)gpuq_remove(db, w->id);
	if (r != 0) {
		snprintf(text, sizeof(text), "%s's request for GPU %s left the "
		    "queue: it cannot be given (%.300s).", w->name, w->spec,
		    op.cause);
		snprintf(res, sizeof(res), "failed: GPU %s from the queue: "
		    "%.500s", w->spec, op.cause);
		gpu_watch_tell(&op, w->user_id, w->user, project, w->name, res,
		    text);
		op_end(&op);
		return -1;
	}
	(void)gpuq_served(db, w->user_id);
	now = gpu_of_container(&op, w->ct_id);
	snprintf(text, sizeof(text), "%s got GPU %s from the queue%s", w->name,
	    now, w->start ? "; it is starting." : running ? (drv ?
	    "; restart it to get the host's driver inside." : ", now.") :
	    "; it has them from its next start.");
	snprintf(res, sizeof(res), "ok: GPU %.200s given from the queue", now);
	free(now);
	log_info("%s/%s: %s", w->user, w->name, res + 4);
	gpu_watch_tell(&op, w->user_id, w->user, project, w->name, res, text);
	op_end(&op);
	if (w->start && !running)
		start_later(s, w);
	return 1;
}

void
gpu_queue_serve(struct server *s, struct db *db, struct lxd **lxdp)
{
	struct gpu_wait *w;
	size_t i, n;
	int again = 1, rounds = 0;

	/* Each gift changes who is next: walk the queue again after one. */
	while (again && rounds++ < 64) {
		again = 0;
		n = gpuq_list(db, &w);
		for (i = 0; i < n && !again; i++)
			again = serve_one(s, db, lxdp, &w[i]) != 0;
		free(w);
	}
}
