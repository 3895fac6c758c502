/*
 * gpu-watch.c - GPUs over time, in a thread of its own. Every second: the
 * leases, whose owners are warned gpu_lease_warn before the end and whose
 * GPUs go back to the pool at it. Every gpu_sample_interval: NVML's
 * reading of each GPU, added to its minute in gpu_usage (held, used, the
 * utilisation while held) for 'usage', and the idle clocks that
 * gpu_idle_reclaim takes GPUs back by. A GPU taken back leaves a running
 * container running: only the gpu device goes (hot-unplug). What the
 * owner is told goes to the audit log (their 'log'), to their next labc
 * command (notices), and to the container's terminals (wall).
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "cluster.h"
#include "config.h"
#include "ct.h"
#include "db-gpus.h"
#include "db-notices.h"
#include "gpu.h"
#include "gpu-queue.h"
#include "gpu-watch.h"
#include "log.h"
#include "lxd.h"
#include "node.h"
#include "nvml.h"
#include "op.h"
#include "view.h"
#include "xmalloc.h"

#define TICK_MS		1000
#define PRUNE_EVERY	86400
#define RETRY_AFTER	60	/* s before a failed take is tried again */
#define WALLS_MAX	8	/* wall messages on their way at once */
#define WALL_TIMEOUT	10	/* s a container's wall may take */
#define STOP_WAIT_MS	40000	/* walls and queue starts, at the end */

static pthread_t thread;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static int started, stopping, kicked;
static atomic_int walls;

/* labcd itself acts: the audit rows' actor, as the reconciler. */
static const struct ident labcd = { .root = 1, .admin = 1,
	.actor = "labcd", .via = "root" };

/* Takes that failed, not tried again before their time. */
#define FAILED_MAX	64
static struct { long long ct_id; int gpu; time_t until; } failed[FAILED_MAX];

static int
failed_recently(long long ct_id, int gpu, time_t now)
{
	int i;

	for (i = 0; i < FAILED_MAX; i++) {
		if (failed[i].ct_id == ct_id && failed[i].gpu == gpu &&
		    failed[i].until > now)
			return 1;
	}
	return 0;
}

static void
failed_note(long long ct_id, int gpu, time_t now)
{
	int i, slot = 0;

	for (i = 0; i < FAILED_MAX; i++) {
		if (failed[i].until <= now) {
			slot = i;
			break;
		}
	}
	failed[slot].ct_id = ct_id;
	failed[slot].gpu = gpu;
	failed[slot].until = now + RETRY_AFTER;
}

/* --- telling the owner --- */

struct wall {
	struct lxd	*l;		/* its own connection, made here */
	char		 project[PROJECT_MAX];
	char		 name[64];
	char		 text[NOTICE_MAX];
};

/*
 * wall(1) in the container, on a connection and thread of its own: what
 * runs there is the member's (they are root inside), so it may take its
 * time or never end; nothing of labcd waits for it.
 */
static void *
wall_main(void *arg)
{
	struct wall *w = arg;
	const char *argv[] = { "wall", w->text, NULL };
	struct lxd *l = w->l;
	int status = 0;

	if (l != NULL) {
		lxd_set_timeout(l, WALL_TIMEOUT);
		lxd_set_op_timeout(l, WALL_TIMEOUT);
		if (lxd_exec(l, w->project, w->name, argv, &status, NULL,
		    NULL) != 0)
			log_debug("%s/%s: no wall: %s", w->project, w->name,
			    lxd_error(l));
		lxd_free(l);
	}
	free(w);
	atomic_fetch_sub(&walls, 1);
	return NULL;
}

static void
wall(struct server *s, const char *project, const char *name,
    const char *text)
{
	pthread_attr_t attr;
	pthread_t t;
	struct wall *w;

	if (atomic_fetch_add(&walls, 1) >= WALLS_MAX) {
		atomic_fetch_sub(&walls, 1);
		return;
	}
	w = xcalloc(1, sizeof(*w));
	w->l = lxd_of_config(&s->cfg);
	snprintf(w->project, sizeof(w->project), "%s", project);
	snprintf(w->name, sizeof(w->name), "%s", name);
	snprintf(w->text, sizeof(w->text), "labcontainers: %s", text);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, wall_main, w) != 0) {
		lxd_free(w->l);
		free(w);
		atomic_fetch_sub(&walls, 1);
	}
	pthread_attr_destroy(&attr);
}

void
gpu_watch_tell(struct op *op, long long user_id, const char *user,
    const char *project, const char *name, const char *result,
    const char *text)
{
	op_audit(op, user, name, result);
	if (noticedb_add(op->db, user_id, text) != 0)
		log_warn("%s/%s: cannot keep a notice for %s: %s", user, name,
		    user, op->db->err);
	wall(op->srv, project, name, text);
}

static void
tell(struct op *op, const struct gpu_use *h, const char *project,
    const char *result, const char *text)
{
	gpu_watch_tell(op, h->user_id, h->user, project, h->name, result, text);
}

static void
clock_str(time_t t, char *out, size_t outsz)
{
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(out, outsz, "%H:%M", &tm);
}

/* --- taking GPUs back --- */

enum why { WHY_LEASE, WHY_IDLE, WHY_OUTSIDE };

/* LXD's own word that h's gpu device is not in its container now. */
static int
gone_in_lxd(struct op *op, const struct gpu_use *h)
{
	struct lxd *l = op_lxd(op);
	char project[PROJECT_MAX];
	struct view_ct v;
	json_t *inst = NULL;

	project_of(op, h->user_id, h->user, project);
	if (l == NULL || lxd_instance_get(l, project, h->name, &inst) != 0) {
		json_decref(inst);
		return 0;	/* not known: the hold stays */
	}
	view_ct_parse(inst, project, &v);
	json_decref(inst);
	return !v.unreachable && !(v.gpus & (1ULL << h->gpu));
}

static int
still_due(struct op *op, const struct gpu_use *h, enum why why, time_t now)
{
	struct gpu_use *u;
	size_t i, n = gpudb_of_container(op->db, h->ct_id, &u);
	int due = 0;

	for (i = 0; i < n; i++) {
		if (u[i].gpu != h->gpu)
			continue;
		due = why == WHY_LEASE ? u[i].lease_end > 0 &&
		    u[i].lease_end <= now : why == WHY_IDLE ?
		    u[i].idle_since > 0 && !u[i].exempt : 1;
	}
	free(u);
	if (due && why == WHY_OUTSIDE)
		due = gone_in_lxd(op, h);
	return due;
}

/* "2", or "m2:2" on several servers: as 'gpus' names it. */
static void
label(const struct gpu_use *h, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s%s%d", h->server, *h->server ? ":" : "",
	    h->gpu);
}

/*
 * Take h back for why, the container claimed (by the caller, who
 * releases it): 0 done or not due, -1 failed (tried again later).
 */
static int
take_claimed(struct op *op, const struct gpu_use *h, enum why why, time_t now)
{
	char project[PROJECT_MAX], at[16], idle[32], res[256], text[NOTICE_MAX],
	    lbl[80];

	/* Renewed, detached, used again since it was read: not due now. */
	if (!still_due(op, h, why, now))
		return 0;
	project_of(op, h->user_id, h->user, project);
	label(h, lbl, sizeof(lbl));
	op->command = why == WHY_IDLE ? "gpu reclaim" : "gpu lease";
	if (why != WHY_OUTSIDE &&
	    gpu_take(op, project, h->name, h->ct_id, h->gpu) != PROTO_OK) {
		failed_note(h->ct_id, h->gpu, now);
		log_warn("%s/%s: GPU %s is due back (%s) and stays for now: "
		    "%s; trying again in %d s", h->user, h->name, lbl,
		    why == WHY_IDLE ? "idle" : "its lease ended", op->cause,
		    RETRY_AFTER);
		return -1;
	}
	if (why == WHY_OUTSIDE && gpudb_remove(op->db, h->ct_id,
	    h->gpu) != 0) {
		/* Told once it is so, not at every look until then. */
		failed_note(h->ct_id, h->gpu, now);
		log_warn("%s/%s: GPU %s was taken out outside labcontainers "
		    "and its hold cannot end now: %s; trying again in %d s",
		    h->user, h->name, lbl, op->db->err, RETRY_AFTER);
		return -1;
	}
	clock_str(now, at, sizeof(at));
	config_duration_str(now - h->idle_since, idle, sizeof(idle));
	switch (why) {
	case WHY_LEASE:
		snprintf(res, sizeof(res), "ok: GPU %s taken back: its lease "
		    "ended", lbl);
		snprintf(text, sizeof(text), "GPU %s of %s went back to the "
		    "pool at %s: its lease ended. %s keeps running without "
		    "it; 'labc gpu attach %s any' asks for one again.", lbl,
		    h->name, at, h->name, h->name);
		break;
	case WHY_IDLE:
		snprintf(res, sizeof(res), "ok: GPU %s taken back: idle for %s "
		    "(gpu_idle_reclaim)", lbl, idle);
		snprintf(text, sizeof(text), "GPU %s of %s went back to the "
		    "pool at %s: %s did not use it for %s. %s keeps running "
		    "without it; 'labc gpu attach %s any' asks for one again.",
		    lbl, h->name, at, h->name, idle, h->name, h->name);
		break;
	case WHY_OUTSIDE:
		snprintf(res, sizeof(res), "ok: GPU %s was taken out of the "
		    "container outside labcontainers: its hold ends", lbl);
		snprintf(text, sizeof(text), "GPU %s of %s was taken out of it "
		    "outside labcontainers (at %s); it is no longer yours.",
		    lbl, h->name, at);
		break;
	}
	log_info("%s/%s: %s", h->user, h->name, res + 4);
	tell(op, h, project, res, text);
	gpu_watch_kick();
	return 0;
}

static void
take_back(struct op *op, const struct gpu_use *h, enum why why, time_t now)
{
	if (failed_recently(h->ct_id, h->gpu, now))
		return;
	/* A request changing the container now: at the next tick. */
	if (ct_claim(h->user_id, h->name) != 0)
		return;
	(void)take_claimed(op, h, why, now);
	ct_release(h->user_id, h->name);
}

void
gpu_watch_outside(struct op *op, long long ct_id)
{
	struct gpu_use *u;
	struct op mine;
	size_t i, n = gpudb_of_container(op->db, ct_id, &u);

	/* labcd's act, as the watch's: on the caller's LXD connection. */
	op_init(&mine, op->srv, op->db, op->lxdp, &labcd, "gpu lease");
	for (i = 0; i < n; i++)
		(void)take_claimed(&mine, &u[i], WHY_OUTSIDE, time(NULL));
	op_end(&mine);
	free(u);
}

static void
warn_end(struct op *op, const struct gpu_use *h, time_t now)
{
	char project[PROJECT_MAX], at[16], left[32], text[NOTICE_MAX], res[160],
	    lbl[80];

	if (gpudb_set_warned(op->db, h->ct_id, h->gpu) != 0)
		return;		/* said next tick rather than twice */
	project_of(op, h->user_id, h->user, project);
	label(h, lbl, sizeof(lbl));
	clock_str((time_t)h->lease_end, at, sizeof(at));
	config_duration_str(h->lease_end - now, left, sizeof(left));
	snprintf(text, sizeof(text), "GPU %s of %s goes back to the pool at "
	    "%s (in %s), when its lease ends: save what runs on it, or 'labc "
	    "gpu renew %s' to keep it longer.", lbl, h->name, at, left,
	    h->name);
	snprintf(res, sizeof(res), "ok: GPU %s: its lease ends in %s: owner "
	    "told", lbl, left);
	op->command = "gpu lease";
	tell(op, h, project, res, text);
}

static void
leases(struct op *op, const struct gpu_use *h, size_t n, time_t now)
{
	long long warn = op->srv->cfg.gpu_lease_warn;
	size_t i;

	for (i = 0; i < n; i++) {
		if (h[i].lease_end <= 0)
			continue;
		if (now >= h[i].lease_end)
			take_back(op, &h[i], WHY_LEASE, now);
		else if (!h[i].warned && now >= h[i].lease_end - warn)
			warn_end(op, &h[i], now);
	}
}

/*
 * GPU devices taken out of a container outside labcontainers ('lxc config
 * device remove'): their holds end. The view names the containers to look
 * at (one that lost a gpu device, one it sees for the first time: it may
 * have lost it before the view saw it), and after each full load of the
 * view every hold is compared (what happened while labcd was down, or
 * while the view was not following LXD). The comparison is of states:
 * the container's holds against its devices, so no removal is missed for
 * having come in the same batch of events as the container's creation.
 * A view behind LXD could show a device labcd just gave as missing:
 * take_back asks LXD itself before anything ends.
 */
#define LOOK_MAX	64
static struct look {
	char		 project[PROJECT_MAX];
	char		 name[64];
} look[LOOK_MAX];
static size_t nlook;
static int look_all;		/* every hold: a load, or look[] was full */

/* Under lock. */
static void
look_at(const char *project, const char *name)
{
	size_t i;

	for (i = 0; i < nlook; i++) {
		if (strcmp(look[i].project, project) == 0 &&
		    strcmp(look[i].name, name) == 0)
			return;
	}
	if (nlook == LOOK_MAX) {
		look_all = 1;
		return;
	}
	snprintf(look[nlook].project, sizeof(look[nlook].project), "%s",
	    project);
	snprintf(look[nlook].name, sizeof(look[nlook].name), "%s", name);
	nlook++;
}

void
gpu_watch_on_change(struct server *s, const struct view_ct *before,
    const struct view_ct *after)
{
	(void)s;
	if (after == NULL ||
	    (before != NULL && (before->gpus & ~after->gpus) == 0))
		return;
	pthread_mutex_lock(&lock);
	look_at(after->project, after->name);
	kicked = 1;
	pthread_cond_signal(&wake);
	pthread_mutex_unlock(&lock);
}

static void
outside(struct op *op, const struct gpu_use *h, size_t n, time_t now)
{
	static unsigned long loads_seen;
	struct look mine[LOOK_MAX];
	char project[PROJECT_MAX];
	struct view_stats st;
	unsigned long long has;
	size_t i, k, nmine;
	int all, r;

	view_stats(&st);
	pthread_mutex_lock(&lock);
	nmine = nlook;
	memcpy(mine, look, nmine * sizeof(mine[0]));
	nlook = 0;
	all = look_all;
	look_all = 0;
	if (st.live && st.reloads != loads_seen) {
		loads_seen = st.reloads;
		all = 1;
	}
	pthread_mutex_unlock(&lock);
	if (!all && nmine == 0)
		return;
	for (i = 0; i < n; i++) {
		if (h[i].gpu < 0 || h[i].gpu >= 64)
			continue;
		project_of(op, h[i].user_id, h[i].user, project);
		for (k = 0; !all && k < nmine; k++) {
			if (strcmp(mine[k].project, project) == 0 &&
			    strcmp(mine[k].name, h[i].name) == 0)
				break;
		}
		if (!all && k == nmine)
			continue;
		/* labcd's own requests change devices while they hold it;
		   the view not following LXD: both looked at again later. */
		if (ct_claimed(h[i].user_id, h[i].name) ||
		    (r = view_gpus_of(project, h[i].name, &has)) == -EAGAIN) {
			pthread_mutex_lock(&lock);
			look_at(project, h[i].name);
			pthread_mutex_unlock(&lock);
			continue;
		}
		if (r == 0 && !(has & (1ULL << h[i].gpu)))
			take_back(op, &h[i], WHY_OUTSIDE, now);
	}
}

/* --- sampling --- */

/*
 * A GPU as one sample reads it, with its server ("" on one server): a
 * reading (node_reading's) of this machine's NVML, or of a member's
 * labcd --node on a cluster (another machine: what it says is checked as
 * it is read), as gpu_reading_parse gives it.
 */
struct seen {
	char		 server[MEMBER_NAME_MAX];
	struct nvml_gpu	 g;
};

static void
seen_free(struct seen *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i].g.procs);
	free(v);
}

/* The GPUs of a reading, added to *out as server's: 0, or -1 with err. */
static int
seen_add(json_t *reading, const char *server, struct seen **out, size_t *n,
    char *err, size_t errsz)
{
	struct nvml_gpu *gpus;
	size_t ng, i;

	if (gpu_reading_parse(reading, &gpus, &ng, err, errsz) != 0)
		return -1;
	*out = xrealloc(*out, (*n + ng + 1) * sizeof(**out));
	for (i = 0; i < ng; i++) {
		struct seen *v = &(*out)[(*n)++];

		snprintf(v->server, sizeof(v->server), "%s", server);
		v->g = gpus[i];		/* its procs move with it */
	}
	free(gpus);
	return 0;
}

/* This machine's GPUs: 0, or -1 (said once while NVML does not answer). */
static int
seen_local(const struct config *cfg, struct seen **out, size_t *n)
{
	static int nvml_failing;
	json_t *reading = node_reading(cfg->nvml_library);
	char err[512];
	int r = seen_add(reading, "", out, n, err, sizeof(err));

	json_decref(reading);
	if (r != 0) {
		if (!nvml_failing)
			log_info("GPU sampling: %s; nothing is sampled until "
			    "NVML answers", err);
		nvml_failing = 1;
		return -1;
	}
	nvml_failing = 0;
	return 0;
}

/* Member m's GPUs, added to *out: 0, or -1 (no reading of it). */
static int
seen_member(struct op *op, const struct cluster_member *m, struct seen **out,
    size_t *n)
{
	json_t *reading;
	char why[640];
	int r;

	if (cluster_node_reading(op, m, &reading, why, sizeof(why)) != 0)
		return -1;
	r = seen_add(reading, m->name, out, n, why, sizeof(why));
	json_decref(reading);
	return r;	/* -1: NVML there does not answer */
}

/*
 * Every member's GPUs. A member that gave no reading (down, its node not
 * answering, its NVML failing) is said once in the log; its holds are
 * not seen, which sample() takes care of.
 */
static void
seen_cluster(struct op *op, struct seen **out, size_t *n)
{
	static char failing[16][MEMBER_NAME_MAX];
	struct cluster_member *m;
	size_t nm, i, f;

	*out = xcalloc(1, sizeof(**out));
	*n = 0;
	if (cluster_members(op, &m, &nm) != 0)
		nm = 0, m = NULL;
	/* Members no longer there leave the table. */
	for (f = 0; f < 16; f++) {
		if (failing[f][0] != '\0' &&
		    cluster_find(m, nm, failing[f]) == NULL)
			failing[f][0] = '\0';
	}
	cluster_read_nodes(op, m, nm);
	for (i = 0; i < nm; i++) {
		int ok = seen_member(op, &m[i], out, n) == 0, was = 0;

		for (f = 0; f < 16; f++) {
			if (strcmp(failing[f], m[i].name) == 0) {
				was = 1;
				if (ok)
					failing[f][0] = '\0';
			}
		}
		if (ok || was)
			continue;
		log_info("GPU sampling: server %s gave no reading; its GPUs "
		    "are not sampled and their idle clocks wait until it "
		    "does", m[i].name);
		for (f = 0; f < 16 && failing[f][0] != '\0'; f++)
			;
		if (f < 16)
			snprintf(failing[f], sizeof(failing[f]), "%s",
			    m[i].name);
	}
	free(m);
}

static void
sample(struct op *op, struct gpu_use *h, size_t nh, int secs, time_t now)
{
	const struct config *cfg = &op->srv->cfg;
	struct seen *seen = NULL;
	size_t nseen = 0, i, j, k;
	char (*proj)[PROJECT_MAX], *matched;

	if (!gpu_on_cluster(op))
		(void)seen_local(cfg, &seen, &nseen);
	else
		seen_cluster(op, &seen, &nseen);
	matched = xcalloc(nh + 1, sizeof(*matched));
	proj = xcalloc(nh + 1, sizeof(*proj));
	for (j = 0; j < nh; j++)
		project_of(op, h[j].user_id, h[j].user, proj[j]);
	if (db_begin(op->db) != 0) {
		free(proj);
		free(matched);
		seen_free(seen, nseen);
		return;
	}
	for (i = 0; i < nseen; i++) {
		const struct nvml_gpu *g = &seen[i].g;
		const char *server = seen[i].server;
		struct gpu_sample_row row = { .minute = now / 60,
		    .server = server, .gpu = g->index, .user = "",
		    .container = "" };
		int nheld = 0;

		for (j = 0; j < nh; j++) {
			unsigned long long mem = 0;
			int used = 0, busy;

			/* A row of no server on a cluster may be any
			   member's GPU of that number: not sampled. */
			if (h[j].gpu != g->index ||
			    strcmp(h[j].server, server) != 0)
				continue;
			nheld++;
			matched[j] = 1;
			for (k = 0; k < g->nprocs; k++) {
				if (strcmp(g->procs[k].container, h[j].name) == 0 &&
				    strcmp(g->procs[k].project, proj[j]) == 0) {
					used = 1;
					mem += g->procs[k].mem;
				}
			}
			row.user = h[j].user;
			row.container = h[j].name;
			row.held = row.secs = secs;
			row.used = used ? secs : 0;
			row.util = g->util > 0 ? (long long)g->util * secs : 0;
			row.mem = (long long)(mem >> 20);
			(void)gpudb_usage_add(op->db, &row);
			/* Idle: no process of its own on it, or too little. */
			busy = used && (g->util < 0 || g->util >=
			    cfg->gpu_idle_util);
			if (busy && h[j].idle_since != 0)
				h[j].idle_since = 0;
			else if (!busy && h[j].idle_since == 0)
				h[j].idle_since = now - secs;
			else
				continue;
			(void)gpudb_set_idle(op->db, h[j].ct_id, h[j].gpu,
			    h[j].idle_since);
		}
		if (nheld == 0) {
			row.held = 0;
			row.secs = secs;
			row.used = g->nprocs > 0 ? secs : 0;
			row.util = g->util > 0 ? (long long)g->util * secs : 0;
			row.mem = (long long)(g->mem_used >> 20);
			(void)gpudb_usage_add(op->db, &row);
		}
	}
	/*
	 * A hold whose GPU was not in the reading (its member gave none,
	 * NVML failed or lost the GPU, a row of no server on a cluster):
	 * its idle clock waits, moved on by the time not seen. Not known is
	 * not idle, and what it was idle before still counts.
	 */
	for (j = 0; j < nh; j++) {
		if (matched[j] || h[j].idle_since == 0)
			continue;
		h[j].idle_since += secs;
		(void)gpudb_set_idle(op->db, h[j].ct_id, h[j].gpu,
		    h[j].idle_since);
	}
	if (db_commit(op->db) != 0) {
		log_warn("GPU sampling: cannot record it: %s", op->db->err);
		db_rollback(op->db);
	}
	free(proj);
	free(matched);
	seen_free(seen, nseen);
}

/* Idle clocks come from sample(): every member's on a cluster. */
static void
reclaim(struct op *op, const struct gpu_use *h, size_t n, time_t now)
{
	long long after = op->srv->cfg.gpu_idle_reclaim;
	size_t i;

	if (after <= 0)
		return;
	for (i = 0; i < n; i++) {
		if (!h[i].exempt && h[i].idle_since > 0 &&
		    now - h[i].idle_since >= after)
			take_back(op, &h[i], WHY_IDLE, now);
	}
}

/* --- the thread --- */

static void *
watch_main(void *arg)
{
	struct server *s = arg;
	struct lxd *l = NULL;
	struct db *db = NULL;
	long long next_sample = mono_ms(), last_sample = 0;
	time_t next_prune = time(NULL) + 60;
	char err[512];
	int db_failing = 0;

	pthread_mutex_lock(&lock);
	while (!stopping) {
		struct gpu_use *h = NULL;
		struct timespec ts;
		struct op op;
		size_t n;
		time_t now;

		if (!kicked) {
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += TICK_MS * 1000000L;
			ts.tv_sec += ts.tv_nsec / 1000000000L;
			ts.tv_nsec %= 1000000000L;
			pthread_cond_timedwait(&wake, &lock, &ts);
			if (stopping)
				break;
		}
		kicked = 0;
		pthread_mutex_unlock(&lock);
		if (db == NULL &&
		    (db = db_open(s->db_path, err, sizeof(err))) == NULL) {
			if (!db_failing)
				log_error("GPU leases and sampling: %s", err);
			db_failing = 1;
			goto next;
		}
		db_failing = 0;
		now = time(NULL);
		op_init(&op, s, db, &l, &labcd, "gpu lease");
		n = gpudb_all(db, &h);
		leases(&op, h, n, now);
		gpu_queue_serve(s, db, &l);
		if (mono_ms() >= next_sample) {
			long long t = mono_ms();
			/* A stall (suspend, a stopped labcd) is not use. */
			long long dt = last_sample == 0 ? 0 : t - last_sample;
			long long most = 2000LL * s->cfg.gpu_sample_interval;

			free(h);
			n = gpudb_all(db, &h);
			if (dt > 0)
				sample(&op, h, n, (int)(((dt < most ? dt :
				    most) + 500) / 1000), now);
			last_sample = t;
			next_sample = t + 1000LL * s->cfg.gpu_sample_interval;
			reclaim(&op, h, n, now);
		}
		outside(&op, h, n, now);
		if (now >= next_prune) {
			int pruned = gpudb_usage_prune(db, now / 60 -
			    (long long)s->cfg.gpu_history_days * 1440);

			if (pruned > 0)
				log_info("GPU history: %d minute rows older "
				    "than %d days removed", pruned,
				    s->cfg.gpu_history_days);
			next_prune = now + PRUNE_EVERY;
		}
		free(h);
		op_end(&op);
next:
		pthread_mutex_lock(&lock);
	}
	pthread_mutex_unlock(&lock);
	db_close(db);
	lxd_free(l);
	return NULL;
}

void
gpu_watch_start(struct server *s)
{
	if (pthread_create(&thread, NULL, watch_main, s) != 0) {
		log_error("cannot start the GPU watch: no lease ends, no "
		    "sampling");
		return;
	}
	started = 1;
}

void
gpu_watch_stop(void)
{
	int i;

	if (!started)
		return;
	pthread_mutex_lock(&lock);
	stopping = 1;
	pthread_cond_signal(&wake);
	pthread_mutex_unlock(&lock);
	pthread_join(thread, NULL);
	started = 0;
	/* Walls and starts on their way use labcd's configuration: let
	   them end before it goes (a wall is bounded by WALL_TIMEOUT). */
	for (i = 0; i < STOP_WAIT_MS / 50 && (atomic_load(&walls) > 0 ||
	    gpu_queue_starting() > 0); i++)
		usleep(50 * 1000);
	if (gpu_queue_starting() > 0)
		log_warn("stopping with a container still starting after the "
		    "GPU queue: it may lack its user or keys until its next "
		    "start");
}

void
gpu_watch_kick(void)
{
	pthread_mutex_lock(&lock);
	kicked = 1;
	pthread_cond_signal(&wake);
	pthread_mutex_unlock(&lock);
}
