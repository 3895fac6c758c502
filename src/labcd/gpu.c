/*
 * gpu.c - GPUs for containers: parsing requests against NVML's list, the
 * exclusive holds and the GPU quota (LXD has none: labcd enforces it),
 * LXD gpu devices by PCI address (on LXD 5.0.2 id= does not isolate
 * NVIDIA cards), and host PID -> container through the cgroup LXC made;
 * doctor's checks of the driver and its way into containers (gpu_doctor).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "checkup.h"
#include "cluster.h"
#include "config.h"
#include "db-gpus.h"
#include "gpu.h"
#include "inert.h"
#include "log.h"
#include "lxd.h"
#include "proto.h"
#include "run.h"
#include "view.h"
#include "xmalloc.h"

static int
cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

void
gpu_request_free(struct gpu_req *req)
{
	nvml_free(req->inv, req->ninv);
	free(req->idx);
	memset(req, 0, sizeof(*req));
}

/*
 * Is pci "dddd:bb:dd.f" in lowercase hex, as LXD wants it? An address
 * LXD cannot match exactly must never reach a gpu device: to LXD an empty
 * pci is no filter, i.e. every GPU of the host.
 */
static int
pci_valid(const char *pci)
{
	static const char form[] = "xxxx:xx:xx.f";
	size_t i;

	if (strlen(pci) != sizeof(form) - 1)
		return 0;
	for (i = 0; form[i] != '\0'; i++) {
		char ch = pci[i];

		if (form[i] == 'x' ? !((ch >= '0' && ch <= '9') ||
		    (ch >= 'a' && ch <= 'f')) : form[i] == 'f' ?
		    !(ch >= '0' && ch <= '7') : ch != form[i])
			return 0;
	}
	return 1;
}

/*
 * Each GPU asked for has a PCI address LXD can match (fail closed): 0,
 * or PROTO_FAILED saying which one has not.
 */
static int
check_pci(struct op *op, const struct gpu_req *req)
{
	size_t i, j;

	for (i = 0; i < req->n; i++) {
		const struct nvml_gpu *g = NULL;

		for (j = 0; j < req->ninv; j++) {
			if (req->inv[j].index == req->idx[i])
				g = &req->inv[j];
		}
		if (g == NULL || !pci_valid(g->pci))
			return op_error(op, "GPU %d has no PCI address that "
			    "labcd can use (NVML says '%.32s'): no GPU is "
			    "given without an exact address (LXD would read "
			    "it as every GPU); nothing changed. The admin "
			    "should check the driver ('nvidia-smi -q -i %d')",
			    req->idx[i], g != NULL ? g->pci : "", req->idx[i]);
	}
	return PROTO_OK;
}

/* Is GPU g of server held by any container? */
static int
held(struct op *op, const char *server, int g)
{
	struct gpu_use u;

	return gpudb_holder(op->db, -1, server, g, 0, &u) == 0;
}

static const struct gpu_req *sort_req;	/* for by_use; under parse only */

/* The least used first: memory, then utilisation, then number. */
static int
by_use(const void *a, const void *b)
{
	const struct nvml_gpu *x = NULL, *y = NULL;
	size_t i;

	for (i = 0; i < sort_req->ninv; i++) {
		if (sort_req->inv[i].index == *(const int *)a)
			x = &sort_req->inv[i];
		if (sort_req->inv[i].index == *(const int *)b)
			y = &sort_req->inv[i];
	}
	if (x->mem_used != y->mem_used)
		return x->mem_used < y->mem_used ? -1 : 1;
	if (x->util != y->util)
		return x->util < y->util ? -1 : 1;
	return x->index - y->index;
}

/* "any" or "any:N": N GPUs nobody holds, the least used. */
static int
parse_any(struct op *op, const char *spec, struct gpu_req *req)
{
	static pthread_mutex_t sort_lock = PTHREAD_MUTEX_INITIALIZER;
	const char *p = spec[3] == ':' ? spec + 4 : "1";
	char *end;
	size_t i, nfree = 0;
	long want;

	errno = 0;
	want = strtol(p, &end, 10);
	if (*p < '0' || *p > '9' || *end != '\0' || errno != 0 || want < 1)
		return op_usage(op, "--gpu any:N takes a number of GPUs from 1, "
		    "such as any:2; not '%.32s'", spec);
	if ((size_t)want > req->ninv)
		return op_usage(op, "--gpu %.32s asks for more GPUs than this "
		    "host has (%zu)", spec, req->ninv);
	req->any = 1;
	req->idx = xcalloc(req->ninv + 1, sizeof(int));
	for (i = 0; i < req->ninv; i++) {
		if (pci_valid(req->inv[i].pci) && !held(op, req->server,
		    req->inv[i].index))
			req->idx[nfree++] = req->inv[i].index;
	}
	if (nfree < (size_t)want) {
		req->busy = 1;
		return op_error(op, "%s free now, and you asked for %ld: "
		    "'gpus' shows who holds them. Ask for fewer, or wait in "
		    "the queue for them (--wait)", nfree == 0 ? "no GPU is" :
		    nfree == 1 ? "only 1 GPU is" : "too few GPUs are", want);
	}
	pthread_mutex_lock(&sort_lock);
	sort_req = req;
	qsort(req->idx, nfree, sizeof(int), by_use);
	sort_req = NULL;
	pthread_mutex_unlock(&sort_lock);
	req->n = (size_t)want;
	qsort(req->idx, req->n, sizeof(int), cmp_int);
	return PROTO_OK;
}

/*
 * Is LXD a cluster? The view's members, else LXD's own word (read at
 * connect, no request of its own), and once seen, for labcd's life: a
 * view not live (start-up, LXD restarting) must not make the lab look
 * like one server, whose GPU numbers are this machine's NVML indexes.
 * Only where LXD does not answer at all does it say 0 (nothing is given
 * then: giving needs LXD).
 */
int
gpu_on_cluster(struct op *op)
{
	static atomic_int seen;
	struct cluster_member *m;
	size_t n;
	int r;

	if (seen)
		return 1;
	if (view_members(&m, &n) == 0) {
		free(m);
		r = n > 0;
	} else
		r = op != NULL && op->lxdp != NULL &&
		    lxd_clustered(op_lxd(op)) > 0;
	if (r)
		seen = 1;
	return r;
}

static int
parse(struct op *op, const char *server, const char *spec, int exclusive,
    struct gpu_req *req)
{
	char err[768], *copy, *tok, *save, *end;
	size_t i;
	int r = 0;

	memset(req, 0, sizeof(*req));
	snprintf(req->server, sizeof(req->server), "%s", server != NULL ?
	    server : "");
	req->exclusive = exclusive;
	if (strcmp(spec, "none") == 0) {
		if (exclusive)
			return op_usage(op, "--exclusive needs GPUs (--gpu)");
		return PROTO_OK;
	}
	/* A cluster's GPU numbers mean nothing without their member. */
	if (*req->server == '\0' && gpu_on_cluster(op))
		return op_usage(op, "this lab has several servers: name the "
		    "GPUs' server, --gpu SERVER:N (see 'gpus')");
	if (*req->server != '\0' ? cluster_gpu_inventory(op, req->server,
	    &req->inv, &req->ninv, err, sizeof(err)) != 0 :
	    nvml_query(op->srv->cfg.nvml_library, &req->inv, &req->ninv, err,
	    sizeof(err)) != 0)
		return op_error(op, "%s", err);
	if (strncmp(spec, "any", 3) == 0 && (spec[3] == '\0' ||
	    spec[3] == ':'))
		return parse_any(op, spec, req);
	if (strcmp(spec, "all") == 0) {
		req->idx = xcalloc(req->ninv + 1, sizeof(int));
		for (i = 0; i < req->ninv; i++)
			req->idx[req->n++] = req->inv[i].index;
		return check_pci(op, req);
	}
	req->idx = xcalloc(strlen(spec) + 1, sizeof(int));
	copy = xstrdup(spec);
	/* Split at each ',' (strtok would skip an empty item). */
	for (tok = copy; tok != NULL && r == 0; tok = save) {
		long v;

		if ((save = strchr(tok, ',')) != NULL)
			*save++ = '\0';

		errno = 0;
		v = strtol(tok, &end, 10);
		/* Digits only: strtol would also take " 1", "+1", "-0". */
		if (*tok < '0' || *tok > '9' || *end != '\0' || errno != 0)
			r = op_usage(op, "--gpu takes all, none, any, any:N, or "
			    "GPU numbers as nvidia-smi shows them, such as 0,2; "
			    "not '%.32s'", tok);
		else if ((size_t)v >= req->ninv)
			r = op_usage(op, "there is no GPU %ld: this host has "
			    "%zu (0 to %zu; see 'gpus')", v, req->ninv,
			    req->ninv ? req->ninv - 1 : 0);
		for (i = 0; r == 0 && i < req->n; i++) {
			if (req->idx[i] == (int)v)
				r = op_usage(op, "GPU %ld is named twice in --gpu "
				    "%.64s", v, spec);
		}
		if (r == 0)
			req->idx[req->n++] = (int)v;
	}
	free(copy);
	if (r != 0)
		return r;
	if (req->n == 0)
		return op_usage(op, "--gpu takes all, none, or a list such as "
		    "0,2");
	qsort(req->idx, req->n, sizeof(int), cmp_int);
	return check_pci(op, req);
}

/* Is name one of the comma-separated names of list? */
static int
listed(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p;

	for (p = list; *p != '\0'; p += strcspn(p, ",") + (p[strcspn(p,
	    ",")] == ',')) {
		if (n > 0 && strncmp(p, name, n) == 0 &&
		    (p[n] == ',' || p[n] == '\0'))
			return 1;
	}
	return 0;
}

/* Is the actor one of who (a C_WHO key): admins, everyone, or names? */
static int
who_may(struct op *op, const char *who)
{
	/* Admins, and root acting for a member (it vouches). */
	return op->actor->admin || op->actor->root ||
	    strcmp(who, "everyone") == 0 || (strcmp(who, "admins") != 0 &&
	    listed(who, op->actor->user));
}

int
gpu_exclusive_allowed(struct op *op)
{
	const char *who = op->srv->cfg.gpu_exclusive;

	if (who_may(op, who))
		return PROTO_OK;
	return op_error(op, "--exclusive is not yours to use here: on this "
	    "server only %s may hold GPUs so that nobody else can use them "
	    "(gpu_exclusive in labcd.conf). Leave out --exclusive to share "
	    "the GPUs, or ask your admin (to run it for you, or to add %s to "
	    "gpu_exclusive)", strcmp(who, "admins") == 0 ? "admins" :
	    "admins and the lab users listed", op->actor->user[0] ?
	    op->actor->user : "you");
}

#define LEASE_LONGEST	(86400LL * 366)

int
gpu_lease_for(struct op *op, const char *opt, long long *secs)
{
	const struct config *cfg = &op->srv->cfg;
	int unlimited = who_may(op, cfg->gpu_lease_unlimited);
	char max[32];
	long long v;

	config_duration_str(cfg->gpu_lease_max, max, sizeof(max));
	if (opt == NULL) {
		*secs = cfg->gpu_lease_default;
		if (cfg->gpu_lease_max > 0 && !unlimited && (*secs == 0 ||
		    *secs > cfg->gpu_lease_max))
			*secs = cfg->gpu_lease_max;
		return PROTO_OK;
	}
	if ((v = config_duration_secs(opt)) < 0)
		return op_usage(op, "--for takes how long to hold the GPUs, "
		    "such as 90s, 30m, 8h, 2d or 1d12h; not '%.32s'", opt);
	if (v == 0)
		return op_usage(op, "--for %.32s would end the lease before it "
		    "begins: give a time from 1s, such as 8h", opt);
	if (cfg->gpu_lease_max > 0 && v > cfg->gpu_lease_max && !unlimited)
		return op_error(op, "--for %.32s is longer than GPUs are lent "
		    "here (gpu_lease_max %s): ask for %s or less, and 'gpu "
		    "renew' before it ends if you still need them", opt, max,
		    max);
	if (v > LEASE_LONGEST)
		return op_usage(op, "--for %.32s is longer than a lease can be "
		    "(366d); leave --for out for GPUs without end%s", opt,
		    unlimited ? "" : ", if this server allows it");
	*secs = v;
	return PROTO_OK;
}

int
gpu_take(struct op *op, const char *project, const char *name,
    long long ct_id, int gpu)
{
	struct lxd *l = op_lxd(op);
	char dev[16];
	int r;

	snprintf(dev, sizeof(dev), "gpu%d", gpu);
	r = lxd_instance_remove_device(l, project, name, dev);
	if (r != 0 && r != -ENOENT)
		return op_error(op, "LXD refused to take GPU %d from %s: %s",
		    gpu, name, lxd_error(l));
	if (gpudb_remove(op->db, ct_id, gpu) != 0)
		return op_error(op, "GPU %d is out of %s, and the database "
		    "could not say so: %s", gpu, name, op->db->err);
	return PROTO_OK;
}

int
gpu_request(struct op *op, const char *server, const char *spec,
    int exclusive, struct gpu_req *req)
{
	int r = parse(op, server, spec, exclusive, req), busy;

	if (r != 0) {
		busy = req->busy;
		gpu_request_free(req);	/* nothing half-made for the caller */
		req->busy = busy;
	}
	return r;
}

static const struct nvml_gpu *
inv_gpu(const struct gpu_req *req, int index)
{
	size_t i;

	for (i = 0; i < req->ninv; i++) {
		if (req->inv[i].index == index)
			return &req->inv[i];
	}
	return NULL;
}

/* Who else has GPU g: "alice/box", exclusive or not; NULL if nobody. */
static char *
holder(struct op *op, long long ct_id, const char *server, int g,
    int only_exclusive)
{
	struct gpu_use u;

	if (gpudb_holder(op->db, ct_id, server, g, only_exclusive, &u) != 0)
		return NULL;
	return xasprintf("%s/%s%s", u.user, u.name, u.exclusive ?
	    " (exclusively)" : "");
}

int
gpu_reserve(struct op *op, long long user_id, long long ct_id,
    struct gpu_req *req)
{
	long long quota;
	size_t i;
	int used = 0, r;

	if (req->n == 0)
		return PROTO_OK;
	if (db_begin(op->db) != 0)
		return op_error(op, "database busy: %s", op->db->err);
	for (i = 0; i < req->n; i++) {
		/* any chose GPUs nobody held: still so? */
		char *who = holder(op, ct_id, req->server, req->idx[i],
		    !req->exclusive && !req->any);

		if (who != NULL) {
			db_rollback(op->db);
			req->busy = 1;
			r = op_error(op, req->any ? "GPU %d was given to "
			    "%s a moment ago: try again" : req->exclusive ?
			    "GPU %d is in use by %s: it cannot be given "
			    "exclusively" : "GPU %d is held by %s", req->idx[i],
			    who);
			free(who);
			return r;
		}
	}
	/* The quota counts distinct GPUs over all the user's containers. */
	quota = gpudb_user_quota(op->db, user_id);
	if (quota >= 0) {
		struct buf list = BUF_INIT(0);

		for (i = 0; i < req->n; i++)
			buf_printf(&list, "%s%d", i ? "," : "", req->idx[i]);
		used = gpudb_count_with(op->db, user_id, req->server,
		    buf_str(&list));
		buf_free(&list);
		if (used > quota) {
			db_rollback(op->db);
			return op_error(op, "quota: you may use %lld GPU%s and "
			    "this would make it %d; detach some, or ask your "
			    "admin for more", quota, quota == 1 ? "" : "s",
			    used);
		}
	}
	for (i = 0; i < req->n; i++) {
		const struct nvml_gpu *g = inv_gpu(req, req->idx[i]);

		if (gpudb_add(op->db, ct_id, req->server, req->idx[i], g !=
		    NULL ? g->pci : "", req->exclusive, req->lease > 0 ? (long long)time(NULL)
		    + req->lease : 0) != 0) {
			db_rollback(op->db);
			return op_error(op, "cannot record the GPUs: %s",
			    op->db->err);
		}
	}
	if (db_commit(op->db) != 0)
		return op_error(op, "cannot record the GPUs: %s", op->db->err);
	return PROTO_OK;
}

int
gpu_quota_allows(struct op *op, long long user_id, const char *server,
    const char *spec)
{
	long long quota = gpudb_user_quota(op->db, user_id);
	int would;

	if (quota < 0 || strcmp(spec, "all") == 0)
		return PROTO_OK;
	if (strncmp(spec, "any", 3) == 0)
		would = gpudb_count_with(op->db, user_id, "", "") +
		    (spec[3] == ':' ? atoi(spec + 4) : 1);
	else {
		/* Numbers of one server: SERVER:N,..., or plain ones of the
		   server given (on one server, spec as it is). */
		char srv[64], *plain = NULL;
		int busy = 0;

		snprintf(srv, sizeof(srv), "%s", server != NULL ? server : "");
		if (gpu_spec_server(op, spec, srv, &plain, NULL, 0,
		    &busy) != 0 || strspn(plain, "0123456789,") !=
		    strlen(plain)) {
			free(plain);
			return PROTO_OK;	/* said when it is asked for */
		}
		would = gpudb_count_with(op->db, user_id, srv, plain);
		free(plain);
	}
	if (would > quota)
		return op_error(op, "quota: you may use %lld GPU%s and these "
		    "would make it %d once given: waiting for them cannot "
		    "help; detach some, or ask your admin for more", quota,
		    quota == 1 ? "" : "s", would);
	return PROTO_OK;
}

int
gpu_give(struct op *op, long long user_id, const char *project,
    const char *name, long long ct_id, struct gpu_req *req, int *running,
    int *driver_added, int *had_driver)
{
	json_t *patch, *inst = NULL, *drv;
	const char *v;
	int r;

	*running = *driver_added = *had_driver = 0;
	if ((r = gpu_reserve(op, user_id, ct_id, req)) != 0)
		return r;
	/*
	 * LXD plugs a gpu device into a running container at once, but
	 * nvidia.runtime (the host's driver) takes effect at a start only.
	 */
	if (lxd_instance_get(op_lxd(op), project, name, &inst) != 0) {
		gpu_release(op, ct_id, req);
		return op_error(op, "cannot read %s from LXD: %s", name,
		    op_lxd_error(op));
	}
	v = json_string_value(json_object_get(inst, "status"));
	*running = v != NULL && strcmp(v, "Running") == 0;
	v = json_string_value(json_object_get(json_object_get(inst,
	    "expanded_config"), "nvidia.runtime"));
	*had_driver = v != NULL && strcmp(v, "true") == 0;
	json_decref(inst);
	patch = json_pack("{s:o}", "devices", gpu_devices(req));
	if ((drv = gpu_driver_config(&op->srv->cfg)) != NULL && !*had_driver) {
		json_object_set(patch, "config", drv);
		*driver_added = 1;
	}
	json_decref(drv);
	r = lxd_instance_patch(op_lxd(op), project, name, patch);
	json_decref(patch);
	if (r != 0) {
		gpu_release(op, ct_id, req);
		*driver_added = 0;
		return op_error(op, "LXD refused the GPUs for %s: %s", name,
		    op_lxd_error(op));
	}
	return PROTO_OK;
}

void
gpu_release(struct op *op, long long ct_id, const struct gpu_req *req)
{
	size_t i;

	if (req == NULL) {
		(void)gpudb_remove(op->db, ct_id, -1);
		return;
	}
	for (i = 0; i < req->n; i++)
		(void)gpudb_remove(op->db, ct_id, req->idx[i]);
}

/* The one shape of a GPU device labcd gives (its PCI address checked). */
static json_t *
gpu_device(const char *pci)
{
	return json_pack("{s:s, s:s, s:s, s:s}", "type", "gpu", "gputype",
	    "physical", "pci", pci, "mode", "0666");
}

json_t *
gpu_devices_held(struct op *op, long long ct_id)
{
	json_t *devs = json_object();
	struct gpu_use *u;
	size_t i, n = gpudb_of_container(op->db, ct_id, &u);
	char name[16];

	for (i = 0; i < n; i++) {
		if (!pci_valid(u[i].pci))
			continue;	/* never so: gpu_reserve checked it */
		snprintf(name, sizeof(name), "gpu%d", u[i].gpu);
		json_object_set_new(devs, name, gpu_device(u[i].pci));
	}
	free(u);
	return devs;
}

json_t *
gpu_devices(const struct gpu_req *req)
{
	json_t *devs = json_object();
	size_t i;

	for (i = 0; i < req->n; i++) {
		const struct nvml_gpu *g = inv_gpu(req, req->idx[i]);
		char name[16];

		snprintf(name, sizeof(name), "gpu%d", req->idx[i]);
		/* gpu_request checked every address (check_pci). */
		if (g == NULL || !pci_valid(g->pci))
			abort();
		json_object_set_new(devs, name, gpu_device(g->pci));
	}
	return devs;
}

json_t *
gpu_driver_config(const struct config *cfg)
{
	if (cfg->nvidia_runtime != 1)
		return NULL;
	/* compute: CUDA; utility: nvidia-smi and NVML. */
	return json_pack("{s:s, s:s}", "nvidia.runtime", "true",
	    "nvidia.driver.capabilities", "compute,utility");
}

void
gpu_driver_ensure(struct op *op, const char *project, const char *name,
    long long ct_id)
{
	json_t *drv = gpu_driver_config(&op->srv->cfg), *inst = NULL, *patch;
	struct lxd *l = op_lxd(op);
	const char *v;

	if (drv == NULL)
		return;
	if (!gpudb_has(op->db, ct_id, -1) || lxd_instance_get(l, project, name, &inst) != 0)
		goto out;
	v = json_string_value(json_object_get(json_object_get(inst,
	    "expanded_config"), "nvidia.runtime"));
	if (v != NULL && strcmp(v, "true") == 0)
		goto out;
	patch = json_pack("{s:O}", "config", drv);
	if (lxd_instance_patch(l, project, name, patch) != 0)
		log_warn("%s/%s has GPUs but no nvidia.runtime, and LXD refused "
		    "it: %s", project, name, lxd_error(l));
	else
		log_info("%s/%s: nvidia.runtime set before its start (given "
		    "GPUs while nvidia_runtime was off)", project, name);
	json_decref(patch);
out:
	json_decref(inst);
	json_decref(drv);
}

void
gpu_inside(size_t n, char *out, size_t outsz)
{
	if (n <= 1)
		snprintf(out, outsz, "GPU 0 inside");
	else if (n == 2)
		snprintf(out, outsz, "GPU 0 and 1 inside");
	else
		snprintf(out, outsz, "GPU 0 to %zu inside", n - 1);
}

void
gpu_until(const char *word, long long end, char *out, size_t outsz)
{
	time_t now = time(NULL), t = (time_t)end;
	struct tm tm, today;
	char at[32], left[32];

	localtime_r(&t, &tm);
	localtime_r(&now, &today);
	strftime(at, sizeof(at), tm.tm_yday == today.tm_yday && tm.tm_year ==
	    today.tm_year ? "%H:%M" : "%Y-%m-%d %H:%M", &tm);
	config_duration_str(end - now, left, sizeof(left));
	snprintf(out, outsz, "%s %s, in %s", word, at, left);
}

char *
gpu_of_container(struct op *op, long long ct_id)
{
	struct buf b = BUF_INIT(0);
	struct gpu_use *u;
	size_t i, n = gpudb_of_container(op->db, ct_id, &u);
	char until[64];

	for (i = 0; i < n; i++) {
		/* On several servers as 'gpus' names them: m2:0. */
		buf_printf(&b, "%s%s%s%d", b.len ? "," : "", u[i].server,
		    *u[i].server ? ":" : "", u[i].gpu);
		if (u[i].lease_end > 0)
			gpu_until("until", u[i].lease_end, until, sizeof(until));
		if (u[i].exclusive || u[i].lease_end > 0)
			buf_printf(&b, " (%s%s%s)", u[i].exclusive ?
			    "exclusive" : "", u[i].exclusive &&
			    u[i].lease_end > 0 ? ", " : "", u[i].lease_end > 0 ?
			    until : "");
	}
	free(u);
	return buf_steal(&b);
}

int
gpu_pid_container(unsigned int pid, char project[128], char name[64])
{
	char path[64], *line = NULL;
	size_t cap = 0;
	int found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/cgroup", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	/*
	 * Any line: "N:ctrl:/lxc.payload.<project>_<name>/...", the payload
	 * cgroup at the top of the hierarchy, where LXC makes it. Not one
	 * further down: a local account may make "lxc.payload.x_y" in a
	 * cgroup tree delegated to it (its systemd user instance) and run a
	 * process there to pass it off as another member's.
	 */
	while (!found && getline(&line, &cap, f) > 0) {
		char *p = strchr(line, ':'), *end, *us;

		if (p == NULL || (p = strchr(p + 1, ':')) == NULL ||
		    strncmp(p + 1, "/lxc.payload.", 13) != 0)
			continue;
		p++;
		p += strlen("/lxc.payload.");
		end = p + strcspn(p, "/\n");
		*end = '\0';
		/* Instance names have no '_': the last one splits. */
		if ((us = strrchr(p, '_')) != NULL) {
			*us = '\0';
			snprintf(project, 128, "%s", p);
			snprintf(name, 64, "%s", us + 1);
		} else {
			snprintf(project, 128, "default");
			snprintf(name, 64, "%s", p);
		}
		found = 1;
	}
	free(line);
	fclose(f);
	return found;
}

#define GPU_CTS_SHOWN	8	/* containers named in the detail */
/* Are GPUs expected on this host? */
static int
gpus_expected(struct checkup *d)
{
	struct op *op = checkup_op(d);
	int n = gpudb_count_all(op->db);

	/* nvidia_runtime = auto asks for nothing: it follows the host. */
	return n > 0 || strcmp(op->srv->cfg.gpu_default, "none") != 0 ||
	    (op->srv->cfg.nvidia_runtime &&
	    !op->srv->cfg.nvidia_runtime_auto);
}

/*
 * The mechanism that delivers the host's driver: nvidia_runtime (yes, or
 * auto and nvidia-container-cli found at labcd's start) and the program
 * LXD then runs at every start of a container given GPUs.
 */
static void
check_runtime(struct checkup *d)
{
	struct op *op = checkup_op(d);
	const struct config *cfg = &op->srv->cfg;
	const char *how = cfg->nvidia_runtime_auto ? "auto" : "yes";
	char path[4096];
	int found = run_find("nvidia-container-cli", path, sizeof(path));

	if (cfg->nvidia_runtime && !found)
		checkup_row(d, "nvidia runtime", "problem", "install NVIDIA's "
		    "container toolkit (nvidia-container-cli, see "
		    "docs/admin.md), or set nvidia_runtime = no",
		    "nvidia_runtime is on, but nvidia-container-cli is not in "
		    "PATH: containers with GPUs will not start (nvidia_runtime "
		    "= %s)", how);
	else if (cfg->nvidia_runtime)
		checkup_row(d, "nvidia runtime", "ok", NULL, "on "
		    "(nvidia_runtime = %s, %s): containers given GPUs get the "
		    "host's driver at their start", how, path);
	else if (cfg->nvidia_runtime_auto && found)
		checkup_row(d, "nvidia runtime", "warn", "restart labcd "
		    "(systemctl restart labcd, or sudo ./setup.sh): "
		    "nvidia_runtime = auto then turns it on", "%s is there, "
		    "but was not when labcd started: containers given GPUs get "
		    "no driver", path);
}

static void
check_nvidia(struct checkup *d, char *driver, size_t driversz)
{
	struct op *op = checkup_op(d);
	const struct config *cfg = &op->srv->cfg;
	struct nvml_gpu *g = NULL;
	size_t n = 0;
	char err[512];

	if (nvml_query(cfg->nvml_library, &g, &n, err, sizeof(err)) != 0) {
		int nodriver = strncmp(err, "no NVIDIA driver", 16) == 0;

		if (nodriver && !gpus_expected(d))
			checkup_row(d, "nvidia", "ok", NULL, "no NVIDIA GPU "
			    "(%s); none expected (gpu_default none, no GPU "
			    "given out)", err);
		else
			checkup_row(d, "nvidia", "problem", "install or load "
			    "the NVIDIA driver (nvidia-smi must work), or set "
			    "nvml_library in labcd.conf", "NVML: %s", err);
		return;
	}
	if (nvml_driver_version(cfg->nvml_library, driver, driversz, err,
	    sizeof(err)) != 0)
		driver[0] = '\0';
	checkup_row(d, "nvidia", "ok", NULL, "%zu GPU%s, driver %s (NVML from "
	    "%s)", n, n == 1 ? "" : "s", driver[0] ? driver : "unknown",
	    cfg->nvml_library);
	nvml_free(g, n);
	if (n > 0) {
		if (access("/dev/nvidia-uvm", F_OK) != 0)
			checkup_row(d, "nvidia-uvm", "problem",
			    "nvidia-modprobe -u -c=0 (or modprobe nvidia-uvm "
			    "and make the node)", "/dev/nvidia-uvm is missing: "
			    "CUDA in the containers cannot start");
		else
			checkup_row(d, "nvidia-uvm", "ok", NULL,
			    "/dev/nvidia-uvm present");
	}
	check_runtime(d);
}

/* "libnvidia-ml.so.550.54.15" in a directory listing: its version. */
static const char *
nvml_lib_version(json_t *names)
{
	static const char pre[] = "libnvidia-ml.so.";
	json_t *v;
	size_t i;

	json_array_foreach(names, i, v) {
		const char *s = json_string_value(v);

		if (s != NULL && strncmp(s, pre, sizeof(pre) - 1) == 0 &&
		    strchr(s + sizeof(pre) - 1, '.') != NULL)
			return s + sizeof(pre) - 1;
	}
	return NULL;
}

/*
 * Running containers of lab users that carry NVIDIA driver libraries
 * (their own, or the host's put in by nvidia.runtime at start) of another
 * version than the host's driver: after a driver upgrade, NVML in them
 * says "Driver/library version mismatch" until they restart.
 */
static void
check_driver_libs(struct checkup *d, json_t *list, const char *driver)
{
	struct op *op = checkup_op(d);
	struct lxd *l = checkup_lxd(d);
	const char *prefix = op->srv->cfg.project_prefix;
	json_t *inst;
	size_t i;
	int seen = 0, bad = 0;

	if (driver[0] == '\0')
		return;
	json_array_foreach(list, i, inst) {
		const char *proj = json_string_value(json_object_get(inst,
		    "project")), *name = json_string_value(json_object_get(
		    inst, "name")), *status = json_string_value(json_object_get(
		    inst, "status")), *ver;
		char *data = NULL, *fix, vbuf[64];
		json_t *env;

		if (proj == NULL || name == NULL || status == NULL ||
		    strncmp(proj, prefix, strlen(prefix)) != 0 ||
		    strcmp(status, "Running") != 0)
			continue;
		if (lxd_file_get(l, proj, name, "/usr/lib/x86_64-linux-gnu",
		    1 << 20, &data, NULL) != 0) {
			free(data);
			continue;
		}
		env = json_loads(data, 0, NULL);
		free(data);
		/* A file name in a member's container: shown inert. */
		ver = nvml_lib_version(json_object_get(env, "metadata"));
		if (ver != NULL) {
			inert_copy(vbuf, sizeof(vbuf), ver);
			ver = vbuf;
			seen++;
			if (strcmp(ver, driver) != 0) {
				bad++;
				fix = xasprintf("labc --as %s restart %s (the "
				    "host's libraries come in at start with "
				    "nvidia_runtime), or install the %s driver "
				    "libraries inside it",
				    proj + strlen(prefix), name, driver);
				checkup_row(d, "driver libraries", "problem",
				    fix, "%s/%s has libnvidia-ml.so.%s, the "
				    "host's driver is %s",
				    proj + strlen(prefix), name, ver, driver);
				free(fix);
			}
		}
		json_decref(env);
	}
	if (bad == 0)
		checkup_row(d, "driver libraries", "ok", NULL, "%d running "
		    "container%s with NVIDIA libraries, all %s", seen,
		    seen == 1 ? "" : "s", driver);
}

/*
 * Lab users' containers given GPUs (gpu devices, in LXD's expanded view:
 * the profiles count) without nvidia.runtime: they have the devices but
 * not the host's driver, so nvidia-smi and CUDA work in them only with a
 * driver of their own image, of the host's version.
 */
static void
check_gpu_driver(struct checkup *d, json_t *list)
{
	struct op *op = checkup_op(d);
	const struct config *cfg = &op->srv->cfg;
	const char *prefix = cfg->project_prefix;
	struct buf names = BUF_INIT(0);
	json_t *inst, *dev;
	size_t i;
	int given = 0, bare = 0;
	char *fix;

	json_array_foreach(list, i, inst) {
		const char *proj = json_string_value(json_object_get(inst,
		    "project")), *name = json_string_value(json_object_get(
		    inst, "name")), *k, *v;
		int gpu = 0;

		if (proj == NULL || name == NULL ||
		    strncmp(proj, prefix, strlen(prefix)) != 0)
			continue;
		json_object_foreach(json_object_get(inst, "expanded_devices"),
		    k, dev) {
			v = json_string_value(json_object_get(dev, "type"));
			gpu |= v != NULL && strcmp(v, "gpu") == 0;
		}
		if (!gpu)
			continue;
		given++;
		v = json_string_value(json_object_get(json_object_get(inst,
		    "expanded_config"), "nvidia.runtime"));
		if (v != NULL && strcmp(v, "true") == 0)
			continue;
		if (bare++ < GPU_CTS_SHOWN) {
			char shown[160];

			/* Names LXD holds: shown inert all the same. */
			snprintf(shown, sizeof(shown), "%s/%s",
			    proj + strlen(prefix), name);
			inert_copy(shown, sizeof(shown), shown);
			buf_printf(&names, "%s%s", names.len ? ", " : "", shown);
		}
	}
	if (bare == 0) {
		if (given > 0)
			checkup_row(d, "gpu driver", "ok", NULL, "%d "
			    "container%s with GPUs, all given the host's "
			    "driver (nvidia.runtime)", given,
			    given == 1 ? "" : "s");
		goto out;
	}
	if (cfg->nvidia_runtime)
		fix = xstrdup("restart them (labc --as USER restart NAME): "
		    "labcd gives a container with GPUs the host's driver at "
		    "its start");
	else if (cfg->nvidia_runtime_auto)
		fix = xstrdup("install NVIDIA's container toolkit "
		    "(nvidia-container-cli, see docs/admin.md), restart labcd "
		    "(nvidia_runtime = auto then turns on), then restart these "
		    "containers");
	else
		fix = xstrdup("set nvidia_runtime = auto in labcd.conf, "
		    "install NVIDIA's container toolkit (nvidia-container-cli, "
		    "see docs/admin.md), restart labcd, then restart these "
		    "containers");
	checkup_row(d, "gpu driver", "warn", fix, "%d container%s given GPUs "
	    "(of %d) get%s no driver from the host (%s): nvidia-smi and CUDA "
	    "work in them only with a driver of their image, of the host's "
	    "version: %s%s", bare, bare == 1 ? "" : "s", given,
	    bare == 1 ? "s" : "", cfg->nvidia_runtime ? "given GPUs before "
	    "nvidia_runtime was on" :
	    cfg->nvidia_runtime_auto ? "nvidia_runtime = auto found no "
	    "nvidia-container-cli when labcd started, and no profile sets "
	    "nvidia.runtime" : "nvidia_runtime = no, and no profile sets "
	    "nvidia.runtime", buf_str(&names), bare > GPU_CTS_SHOWN ? ", ..." :
	    "");
	free(fix);
out:
	buf_free(&names);
}

void
gpu_doctor(struct checkup *d)
{
	char driver[80] = "";		/* host NVIDIA driver, "" if none */

	struct lxd *l = checkup_lxd(d);
	json_t *list = NULL;

	check_nvidia(d, driver, sizeof(driver));
	if (l == NULL)
		return;
	/* One list for both (recursion 1: devices, config and status). */
	if (lxd_instance_list(l, NULL, 0, &list) != 0) {
		checkup_row(d, "gpu driver", "warn", NULL, "cannot list "
		    "instances: %s", lxd_error(l));
		return;
	}
	check_gpu_driver(d, list);
	check_driver_libs(d, list, driver);
	json_decref(list);
}

/* --- several servers: whose GPUs a --gpu names ------------------------- */

int
gpu_free_on(struct op *op, const char *server, int *total)
{
	struct nvml_gpu *inv;
	size_t n, i;
	char err[768];
	int nfree = 0;

	*total = 0;
	if (cluster_gpu_inventory(op, server, &inv, &n, err, sizeof(err)) != 0)
		return -1;
	for (i = 0; i < n; i++)
		nfree += pci_valid(inv[i].pci) && !held(op, server,
		    inv[i].index);
	*total = (int)n;
	nvml_free(inv, n);
	return nfree;
}

/* any[:N] without a server: the member up with the most GPUs free. */
static int
any_server(struct op *op, const char *spec, char server[64], char *why,
    size_t whysz, int *busy)
{
	struct cluster_member *m;
	size_t n, i;
	long want = spec[3] == ':' ? strtol(spec + 4, NULL, 10) : 1;
	int best = -1, best_total = 0, f, total;

	if (cluster_members(op, &m, &n) != 0)
		return PROTO_FAILED;
	cluster_read_nodes(op, m, n);
	for (i = 0; i < n; i++) {
		if (!m[i].up || (f = gpu_free_on(op, m[i].name, &total)) < 0)
			continue;
		if (f > best) {
			best = f;
			best_total = total;
			snprintf(server, 64, "%s", m[i].name);
		}
	}
	free(m);
	if (best < (want > 0 ? want : 1)) {
		*busy = best >= 0;
		server[0] = '\0';
		return op_error(op, "no server has %ld GPU%s free now (%d at "
		    "most): 'gpus' shows who holds them. Ask for fewer, or "
		    "wait in the queue for them (--wait)", want, want == 1 ?
		    "" : "s", best < 0 ? 0 : best);
	}
	if (why != NULL)
		snprintf(why, whysz, "on %s: the server with the most GPUs "
		    "free (%d of %d)", server, best, best_total);
	return PROTO_OK;
}

int
gpu_spec_server(struct op *op, const char *spec, char server[64],
    char **plain, char *why, size_t whysz, int *busy)
{
	struct buf b = BUF_INIT(0);
	char *copy, *tok, *save, named[64] = "";
	int cluster = gpu_on_cluster(op), r = PROTO_OK;

	*plain = NULL;
	*busy = 0;
	if (why != NULL && whysz > 0)
		why[0] = '\0';
	if (strcmp(spec, "none") == 0 || strcmp(spec, "all") == 0 ||
	    (strncmp(spec, "any", 3) == 0 && (spec[3] == '\0' ||
	    spec[3] == ':'))) {
		if (cluster && *server == '\0' && strcmp(spec, "all") == 0)
			return op_usage(op, "this lab has several servers: "
			    "--gpu all needs the server, --server NAME");
		if (cluster && *server == '\0' && strcmp(spec, "none") != 0 &&
		    (r = any_server(op, spec, server, why, whysz, busy)) != 0)
			return r;
		*plain = xstrdup(spec);
		return PROTO_OK;
	}
	/* A list: each item N, or SERVER:N on a cluster. */
	copy = xstrdup(spec);
	for (tok = copy; tok != NULL && r == 0; tok = save) {
		char *colon;

		if ((save = strchr(tok, ',')) != NULL)
			*save++ = '\0';
		if ((colon = strchr(tok, ':')) != NULL) {
			*colon = '\0';
			if (!cluster)
				r = op_usage(op, "this lab has one server: "
				    "--gpu takes GPU numbers alone, such as "
				    "0,2; not '%.32s:...'", tok);
			else if (cluster_name_invalid(tok) != NULL)
				r = op_usage(op, "--gpu SERVER:N: '%.32s' is "
				    "no server name ('servers' lists them)",
				    tok);
			else if (*named != '\0' && strcmp(named, tok) != 0)
				r = op_usage(op, "--gpu names GPUs of one "
				    "server only (%s and %.32s): a container "
				    "is on one server", named, tok);
			else
				snprintf(named, sizeof(named), "%s", tok);
			tok = colon + 1;
		}
		buf_printf(&b, "%s%s", b.len ? "," : "", tok);
	}
	free(copy);
	if (r == 0 && cluster && *named == '\0' && *server == '\0')
		r = op_usage(op, "this lab has several servers: name the GPUs' "
		    "server, --gpu SERVER:N,... (see 'gpus'), or --server");
	if (r == 0 && *named != '\0' && *server != '\0' &&
	    strcmp(named, server) != 0)
		r = op_error(op, "GPUs of %s cannot go to a container on %s: "
		    "a container has the GPUs of its own server", named,
		    server);
	if (r != 0) {
		buf_free(&b);
		return r;
	}
	if (*named != '\0')
		snprintf(server, 64, "%s", named);
	*plain = buf_steal(&b);
	return PROTO_OK;
}

int
gpu_request_ct(struct op *op, const char *project, const char *name,
    const char *spec, int exclusive, struct gpu_req *req)
{
	char server[64] = "", *plain;
	int r, busy = 0;

	memset(req, 0, sizeof(*req));
	if (gpu_on_cluster(op) && cluster_ct_location(op, project, name,
	    server) != 0)
		return op_error(op, "where %s is cannot be told now: %s", name,
		    op_lxd_error(op));
	if ((r = gpu_spec_server(op, spec, server, &plain, NULL, 0,
	    &busy)) != 0) {
		req->busy = busy;
		return r;
	}
	r = gpu_request(op, server, plain, exclusive, req);
	free(plain);
	return r;
}
