/*
 * status.c - the lab at a glance: one snapshot for the status page and
 * /metrics (docs/status-api.md), read from what labcd already holds: NVML
 * (gpu_report), its view of LXD (no LXD request while the view follows
 * the event stream), the database (owners, ports, GPUs, the queue, GPU
 * time) and the background doctor's last run. Names are replaced by
 * "member N" and "ct N" when web_show_users is no, here, so that labc-web
 * never holds them.
 */
#include <netdb.h>
#include <poll.h>
#include <pwd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "checkup.h"
#include "clock.h"
#include "config.h"
#include "db-containers.h"
#include "db-gpus.h"
#include "db-users.h"
#include "gpu.h"
#include "health.h"
#include "op.h"
#include "project.h"
#include "proto.h"
#include "status.h"
#include "version.h"
#include "view.h"
#include "xmalloc.h"

/* One number from a file ("123\n"), or -1. */
static long long
file_num(const char *path)
{
	char buf[64];
	FILE *f = fopen(path, "r");
	long long v = -1;

	if (f == NULL)
		return -1;
	if (fgets(buf, sizeof(buf), f) != NULL)
		v = strtoll(buf, NULL, 10);
	fclose(f);
	return v;
}

/* usage_usec of a cgroup v2 cpu.stat, or -1. */
static long long
cpu_stat_usec(const char *path)
{
	char line[128];
	long long v = -1;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "usage_usec %lld", &v) == 1)
			break;
	}
	fclose(f);
	return v;
}

int
status_cgroup_usage(const char *project, const char *name,
    double *cpu_seconds, long long *memory)
{
	char cg[192], path[320];
	long long cpu, mem;

	/* Names are DNS labels and the project labcd's: no '/', no "..". */
	if (strcmp(project, "default") == 0)
		snprintf(cg, sizeof(cg), "lxc.payload.%s", name);
	else
		snprintf(cg, sizeof(cg), "lxc.payload.%s_%s", project, name);
	if (strchr(cg, '/') != NULL || strstr(cg, "..") != NULL)
		return -1;
	snprintf(path, sizeof(path), "/sys/fs/cgroup/%s/cpu.stat", cg);
	if ((cpu = cpu_stat_usec(path)) >= 0) {
		snprintf(path, sizeof(path), "/sys/fs/cgroup/%s/memory.current",
		    cg);
		mem = file_num(path);
		*cpu_seconds = (double)cpu / 1e6;
	} else {
		snprintf(path, sizeof(path), "/sys/fs/cgroup/cpuacct/%s/"
		    "cpuacct.usage", cg);
		if ((cpu = file_num(path)) < 0)
			return -1;
		snprintf(path, sizeof(path), "/sys/fs/cgroup/memory/%s/"
		    "memory.usage_in_bytes", cg);
		mem = file_num(path);
		*cpu_seconds = (double)cpu / 1e9;
	}
	*memory = mem;
	return 0;
}

/* The names the snapshot may show, and what stands for them. */
struct names {
	int		 show;
	json_t		*users;		/* name -> "member N" */
	json_t		*cts;		/* "user/name" -> "ct N" */
};

static const char *
user_shown(struct names *nm, const char *user)
{
	const char *s;

	if (nm->show)
		return user;
	if ((s = json_string_value(json_object_get(nm->users, user))) != NULL)
		return s;
	return "other";
}

static const char *
ct_shown(struct names *nm, const char *user, const char *name)
{
	char key[160];
	const char *s;

	if (nm->show)
		return name;
	snprintf(key, sizeof(key), "%s/%s", user, name);
	if ((s = json_string_value(json_object_get(nm->cts, key))) != NULL)
		return s;
	return "other";
}

/* The 24 h of each GPU's utilisation, as the snapshot's "history". */
static json_t *
history_of(const char *server, int gpu, const struct gpu_util_point *pts,
    size_t npts, long long start)
{
	json_t *util = json_array();
	size_t i, nb = STATUS_HISTORY_SPAN / STATUS_HISTORY_STEP, b;

	for (b = 0; b < nb; b++)
		json_array_append_new(util, json_null());
	for (i = 0; i < npts; i++) {
		if (pts[i].gpu != gpu || strcmp(pts[i].server, server) != 0 ||
		    pts[i].bucket < 0 ||
		    (size_t)pts[i].bucket >= nb)
			continue;
		json_array_set_new(util, (size_t)pts[i].bucket,
		    json_real((double)(long long)(pts[i].util * 10 + 0.5) /
		    10));
	}
	return json_pack("{s:I, s:i, s:o}", "start", (json_int_t)start,
	    "step", STATUS_HISTORY_STEP, "util", util);
}

static json_t *
gpus_part(struct op *op, struct names *nm, json_t *errors)
{
	json_t *gpus, *g, *out = json_array();
	struct gpu_util_point *pts;
	long long now = time(NULL), start;
	size_t i, k, npts;

	if (gpu_report(op, &gpus) != 0) {
		json_object_set_new(errors, "gpus", json_string(op->cause));
		return out;
	}
	/* Whole steps, so that the points stay where they are. */
	start = (now - STATUS_HISTORY_SPAN) / STATUS_HISTORY_STEP *
	    STATUS_HISTORY_STEP + STATUS_HISTORY_STEP;
	npts = gpudb_util_history(op->db, start / 60, STATUS_HISTORY_STEP / 60,
	    &pts);
	json_array_foreach(gpus, i, g) {
		json_t *holders = json_array(), *procs = json_array(), *h, *p,
		    *o;
		const char *server = json_string_value(json_object_get(g,
		    "server"));

		json_array_foreach(json_object_get(g, "holders"), k, h) {
			const char *u = json_string_value(json_object_get(h,
			    "user"));

			json_array_append_new(holders, json_pack("{s:s, s:s, "
			    "s:O, s:O, s:O, s:O, s:O}", "user", user_shown(nm,
			    u), "container", ct_shown(nm, u,
			    json_string_value(json_object_get(h, "container"))),
			    "exclusive", json_object_get(h, "exclusive"),
			    "since", json_object_get(h, "since"), "lease_end",
			    json_object_get(h, "lease_end"), "idle_since",
			    json_object_get(h, "idle_since"), "reclaim_at",
			    json_object_get(h, "reclaim_at")));
		}
		json_array_foreach(json_object_get(g, "processes"), k, p) {
			const char *u = json_string_value(json_object_get(p,
			    "user"));
			const char *c = json_string_value(json_object_get(p,
			    "container"));
			int host = c == NULL;

			/* No PID: the page has no use for it. */
			json_array_append_new(procs, json_pack("{s:s, s:s?, "
			    "s:O}", "user", host ? "host" : user_shown(nm, u),
			    "container", host ? NULL : ct_shown(nm, u, c),
			    "memory", json_object_get(p, "memory")));
		}
		o = json_pack("{s:O, s:O, s:O, s:O, s:O, "
		    "s:O, s:O, s:o, s:o, s:o}", "index", json_object_get(g,
		    "index"), "name", json_object_get(g, "name"), "uuid",
		    json_object_get(g, "uuid"), "pci", json_object_get(g, "pci"),
		    "memory_total", json_object_get(g, "memory_total"),
		    "memory_used", json_object_get(g, "memory_used"),
		    "utilization", json_object_get(g, "utilization"), "holders",
		    holders, "processes", procs, "history", history_of(
		    server != NULL ? server : "", (int)json_integer_value(
		    json_object_get(g, "index")), pts, npts, start));
		if (o != NULL && server != NULL)
			json_object_set_new(o, "server", json_string(server));
		json_array_append_new(out, o);
	}
	free(pts);
	json_decref(gpus);
	return out;
}

/* A user's quota part: LXD's limits from the view, and labcd's GPUs. */
static json_t *
quota_of(struct op *op, const struct user_row *u)
{
	static const char *const keys[VIEW_QUOTA_N] = { "containers", "cpu",
	    "memory", "disk" };
	char project[PROJECT_MAX];
	struct view_quota q;
	json_t *o = json_object();
	int used, quota, k;

	project_name(op->srv->cfg.project_prefix, u->project, u->name,
	    project);
	if (view_quota(project, &q) == 0) {
		for (k = 0; k < VIEW_QUOTA_N; k++)
			json_object_set_new(o, keys[k], json_pack("{s:I, s:I}",
			    "used", (json_int_t)q.used[k], "limit",
			    (json_int_t)q.limit[k]));
	}
	if (userdb_gpus(op->db, u->id, &used, &quota) == 0)
		json_object_set_new(o, "gpus", json_pack("{s:i, s:i}", "used",
		    used, "limit", quota < 0 ? -1 : quota));
	return o;
}

static json_t *
containers_part(struct op *op, struct names *nm, const struct ct_owned *rows,
    size_t n, json_t *errors, json_t *counts, json_t *truncated)
{
	json_t *out = json_array();
	struct view_ct *insts = NULL;
	struct gpu_use *gu;
	size_t i, k, ninsts = 0, ngu;
	char project[PROJECT_MAX];

	if (view_instances(op, NULL, &insts, &ninsts) != 0) {
		json_object_set_new(errors, "containers", json_string(
		    op->cause));
		insts = NULL;
		ninsts = 0;
	}
	ngu = gpudb_all(op->db, &gu);
	for (i = 0; i < n; i++) {
		const struct ct *ct = &rows[i].ct;
		const struct view_ct *v;
		json_t *gpus, *cnt;
		const char *state = "missing";
		double cpu = 0;
		long long mem = -1, limit;
		int running;

		project_name(op->srv->cfg.project_prefix, rows[i].project,
		    rows[i].user, project);
		v = view_lookup(insts, ninsts, project, ct->name);
		if (strcmp(ct->state, "ready") != 0)
			state = ct->state;
		else if (v != NULL && *v->status)
			state = v->status;
		running = strcmp(state, "Running") == 0;
		/* The per-user counts, by the real name. */
		if ((cnt = json_object_get(counts, rows[i].user)) == NULL) {
			cnt = json_pack("{s:i, s:i}", "containers", 0,
			    "running", 0);
			json_object_set_new(counts, rows[i].user, cnt);
		}
		json_object_set_new(cnt, "containers", json_integer(
		    json_integer_value(json_object_get(cnt, "containers")) + 1));
		if (running)
			json_object_set_new(cnt, "running", json_integer(
			    json_integer_value(json_object_get(cnt, "running")) +
			    1));
		if (i >= STATUS_MAX_CONTAINERS)
			continue;	/* counted, not listed */
		gpus = json_array();
		for (k = 0; k < ngu; k++) {
			if (gu[k].ct_id == ct->id)
				json_array_append_new(gpus, json_integer(
				    gu[k].gpu));
		}
		limit = v != NULL && *v->memory ? config_size_bytes(v->memory) :
		    -1;
		if (!running || status_cgroup_usage(project, ct->name, &cpu,
		    &mem) != 0)
			mem = -1;
		json_array_append_new(out, json_pack("{s:s, s:s, s:s, s:o, s:o, "
		    "s:o, s:o, s:i}", "user", user_shown(nm, rows[i].user),
		    "name", ct_shown(nm, rows[i].user, ct->name), "state", state,
		    "gpus", gpus, "cpu_seconds", mem >= 0 ? json_real(cpu) :
		    json_null(), "memory", mem >= 0 ? json_integer(mem) :
		    json_null(), "memory_limit", limit >= 0 ?
		    json_integer(limit) : json_null(), "port", ct->port));
	}
	if (n > STATUS_MAX_CONTAINERS)
		json_object_set_new(truncated, "containers", json_integer(
		    (json_int_t)(n - STATUS_MAX_CONTAINERS)));
	free(gu);
	free(insts);
	return out;
}

static json_t *
users_part(struct op *op, struct names *nm, const struct user_row *us,
    int nus, json_t *counts)
{
	json_t *out = json_array();
	struct gpu_usage_row *tot;
	size_t nt = gpudb_totals(op->db, &tot), k;
	int i;

	for (i = 0; i < nus; i++) {
		json_t *cnt = json_object_get(counts, us[i].name);
		long long held = 0, used = 0;

		for (k = 0; k < nt; k++) {
			if (strcmp(tot[k].user, us[i].name) == 0) {
				held = tot[k].held;
				used = tot[k].used;
			}
		}
		json_array_append_new(out, json_pack("{s:s, s:I, s:I, s:o, s:I, "
		    "s:I}", "name", user_shown(nm, us[i].name), "containers",
		    json_integer_value(json_object_get(cnt, "containers")),
		    "running", json_integer_value(json_object_get(cnt,
		    "running")), "quota", quota_of(op, &us[i]),
		    "gpu_held_seconds", (json_int_t)held, "gpu_used_seconds",
		    (json_int_t)used));
	}
	free(tot);
	return out;
}

static json_t *
queue_part(struct op *op, struct names *nm, json_t *truncated)
{
	json_t *out = json_array();
	struct gpu_wait *w;
	size_t i, n = gpuq_list(op->db, &w);

	if (n > STATUS_MAX_QUEUE)
		json_object_set_new(truncated, "queue", json_integer(
		    (json_int_t)(n - STATUS_MAX_QUEUE)));
	for (i = 0; i < n && i < STATUS_MAX_QUEUE; i++)
		json_array_append_new(out, json_pack("{s:I, s:s, s:s, s:s, s:b, "
		    "s:I, s:I}", "position", (json_int_t)(i + 1), "user",
		    user_shown(nm, w[i].user), "container", ct_shown(nm,
		    w[i].user, w[i].name), "gpus", w[i].spec, "exclusive",
		    w[i].exclusive, "lease", (json_int_t)w[i].lease, "since",
		    (json_int_t)w[i].created));
	free(w);
	return out;
}

static int
count_status(json_t *checks, const char *status)
{
	json_t *c;
	size_t i;
	int n = 0;

	json_array_foreach(checks, i, c)
		n += strcmp(json_string_value(json_object_get(c, "status")),
		    status) == 0;
	return n;
}

/*
 * doctor's checks the page may show: the machine's (LXD, storage, GPUs),
 * not those about who may get in (the gateway, sshd, isolation, ports,
 * the database), whose findings would tell anyone who looks where to try.
 */
static const char *const public_checks[] = {
	"lxd", "storage pool", "disk limits", "bridge", "default image",
	"nvidia", "nvidia-uvm", "gpu driver", "driver libraries",
	"nvidia runtime", NULL
};

/* The last background doctor run's public findings that are not ok. */
static json_t *
health_part(struct names *nm)
{
	json_t *h = health_last(), *checks = json_array(), *row, *out;
	size_t i, k;

	if (h == NULL)
		return json_null();
	json_array_foreach(json_object_get(h, "checks"), i, row) {
		const char *st = json_string_value(json_object_get(row,
		    "status"));
		const char *check = json_string_value(json_object_get(row,
		    "check"));

		if (st == NULL || check == NULL || strcmp(st, "ok") == 0)
			continue;
		for (k = 0; public_checks[k] != NULL &&
		    strcmp(public_checks[k], check) != 0; k++)
			;
		if (public_checks[k] == NULL)
			continue;
		/* A detail may name members and containers. */
		json_array_append_new(checks, json_pack("{s:s, s:s, s:s}",
		    "check", check, "status", strcmp(st, "problem") == 0 ?
		    "fail" : "warn", "detail", nm->show ?
		    json_string_value(json_object_get(row, "detail")) ?: "" :
		    ""));
	}
	/* The counts are of what is listed: the rest is for admins. */
	out = json_pack("{s:O, s:i, s:i, s:o}", "time", json_object_get(h,
	    "time"), "problems", count_status(checks, "fail"), "warnings",
	    count_status(checks, "warn"), "checks", checks);
	json_decref(h);
	return out;
}

int
status_snapshot(struct op *op, json_t **out)
{
	const struct config *cfg = &op->srv->cfg;
	struct names nm = { .show = cfg->web_show_users, .users = json_object(),
	    .cts = json_object() };
	json_t *errors = json_object(), *counts = json_object(), *gpus, *cts,
	    *truncated = json_object();
	struct user_row *us;
	struct ct_owned *rows;
	char host[256] = "";
	size_t nrows, k;
	int nus, i;

	nus = userdb_all(op->db, &us);
	/* Aliases from ids: stable while the user or container exists. */
	for (i = 0; i < nus; i++) {
		char alias[40];

		snprintf(alias, sizeof(alias), "member %lld", us[i].id);
		json_object_set_new(nm.users, us[i].name, json_string(alias));
	}
	/* Hidden, they come by id: by name, their order would tell them. */
	ctdb_list_owned(op->db, 1, 0, !nm.show, &rows, &nrows);
	for (k = 0; k < nrows; k++) {
		char key[160], alias[40];

		snprintf(key, sizeof(key), "%s/%s", rows[k].user,
		    rows[k].ct.name);
		snprintf(alias, sizeof(alias), "ct %lld", rows[k].ct.id);
		json_object_set_new(nm.cts, key, json_string(alias));
	}
	gethostname(host, sizeof(host) - 1);
	gpus = gpus_part(op, &nm, errors);
	cts = containers_part(op, &nm, rows, nrows, errors, counts, truncated);
	*out = json_pack("{s:i, s:I, s:s, s:s, s:i, s:s, s:b, s:o, s:o, s:o, "
	    "s:o, s:o, s:o, s:o}", "version", 1, "time", (json_int_t)time(NULL),
	    "host", host, "labc_version", LABC_VERSION, "refresh",
	    cfg->web_refresh, "listen", cfg->web_listen,
	    "show_users", nm.show, "gpus", gpus, "containers", cts, "users",
	    users_part(op, &nm, us, nus, counts), "queue", queue_part(op, &nm,
	    truncated), "health", health_part(&nm), "errors", errors,
	    "truncated", truncated);
	free(rows);
	free(us);
	json_decref(counts);
	json_decref(nm.users);
	json_decref(nm.cts);
	return *out != NULL ? 0 : op_error(op, "cannot make the status "
	    "snapshot");
}

static _Atomic long long web_asked;	/* when web_user last asked, or 0 */

void
status_asked_by_web(void)
{
	atomic_store(&web_asked, (long long)time(NULL));
}

/*
 * GET /healthz of labc-web at addr ("host:port", "[v6]:port"), 2 s at
 * most: 1 it answered "ok", 0 something else answered, -1 nothing.
 */
static int
web_answers(const char *addr)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags =
	    AI_NUMERICHOST | AI_NUMERICSERV }, *res;
	struct timeval tv = { .tv_sec = 2 };
	char host[128], reply[256] = "";
	const char *colon = strrchr(addr, ':');
	const char req[] = "GET /healthz HTTP/1.0\r\n\r\n";
	ssize_t n, got = 0;
	int fd, r = -1;

	if (colon == NULL || colon == addr)
		return -1;
	if (*addr == '[' && colon[-1] == ']')
		snprintf(host, sizeof(host), "%.*s", (int)(colon - addr - 2),
		    addr + 1);
	else
		snprintf(host, sizeof(host), "%.*s", (int)(colon - addr), addr);
	if (getaddrinfo(host, colon + 1, &hints, &res) != 0)
		return -1;
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, res->ai_addr, res->ai_addrlen) == 0 &&
		    send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) ==
		    (ssize_t)sizeof(req) - 1) {
			long long end = mono_ms() + 2000, left;
			struct pollfd pfd = { .fd = fd, .events = POLLIN };

			r = 0;
			/* 2 s in all, however slowly the bytes come. */
			while (got < (ssize_t)sizeof(reply) - 1 &&
			    (left = end - mono_ms()) > 0 &&
			    poll(&pfd, 1, (int)left) == 1 && (n = recv(fd,
			    reply + got, sizeof(reply) - 1 - (size_t)got, 0)) >
			    0)
				got += n;
			reply[got] = '\0';
			if (strncmp(reply, "HTTP/1.", 7) == 0 &&
			    strstr(reply, " 200 ") != NULL &&
			    strstr(reply, "\r\n\r\nok\n") != NULL)
				r = 1;
		}
		close(fd);
	}
	freeaddrinfo(res);
	return r;
}

void
status_doctor(struct checkup *d)
{
	const struct config *cfg = &checkup_op(d)->srv->cfg;
	long long asked = atomic_load(&web_asked);
	char when[48] = "not since labcd started";
	struct passwd pw, *p = NULL;
	char pwbuf[1024];
	int r;

	if (*cfg->web_listen == '\0') {
		checkup_row(d, "status page", "ok", NULL, "not served "
		    "(web_listen is empty)");
		return;
	}
	if (getpwnam_r(cfg->web_user, &pw, pwbuf, sizeof(pwbuf), &p) != 0 ||
	    p == NULL) {
		checkup_row(d, "status page", "warn", "run setup.sh, which "
		    "makes it and starts labc-web", "web_user %s, labc-web's "
		    "account, does not exist", cfg->web_user);
		return;
	}
	if (asked > 0) {
		char ago[32];

		config_duration_str(time(NULL) - asked, ago, sizeof(ago));
		snprintf(when, sizeof(when), "%s ago", ago);
	}
	r = web_answers(cfg->web_listen);
	if (r == 1)
		checkup_row(d, "status page", "ok", NULL, "labc-web serves "
		    "http://%s/ (it last asked labcd for the status: %s)",
		    cfg->web_listen, when);
	else if (r == 0)
		checkup_row(d, "status page", "warn", "see what listens there "
		    "(ss -ltnp) and stop it, or move web_listen", "something "
		    "that is not labc-web answers on %s", cfg->web_listen);
	else
		checkup_row(d, "status page", "warn", "start it: systemctl "
		    "start labc-web, or run setup.sh (without systemd)",
		    "labc-web does not answer on %s (it last asked labcd for "
		    "the status: %s)", cfg->web_listen, when);
}
