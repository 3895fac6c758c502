/*
 * gpu-report.c - every GPU as 'gpus' and the status page show it: NVML's
 * reading, who was given it (with lease and idle clocks), and each process
 * with its container and lab user (never a command line): NVML's host PID
 * -> /proc/PID/cgroup -> the LXC payload cgroup "<project>_<name>" -> the
 * project's owner. One reading, one JSON form; the table is drawn from it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cluster.h"
#include "config.h"
#include "db-gpus.h"
#include "db-users.h"
#include "gpu.h"
#include "lxd.h"
#include "node.h"
#include "nvml.h"
#include "op.h"
#include "project.h"
#include "proto.h"
#include "view.h"

/* The lab user owning LXD project p ("" if none of ours). */
static void
owner_of(struct op *op, const struct user_row *us, int n, const char *p,
    char user[160])
{
	char project[PROJECT_MAX];
	int i;

	user[0] = '\0';
	for (i = 0; i < n && user[0] == '\0'; i++) {
		project_name(op->srv->cfg.project_prefix, us[i].project,
		    us[i].name, project);
		if (strcmp(project, p) == 0)
			snprintf(user, 160, "%s", us[i].name);
	}
}

/*
 * LXD's view, to say which cards LXD can pass to containers: labcd's copy
 * (view.c), else LXD now; NULL if neither answers.
 */
static json_t *
lxd_cards(struct op *op)
{
	json_t *res = NULL, *cards;

	if ((cards = view_gpu_cards()) != NULL)
		return cards;
	if (lxd_resources(op_lxd(op), &res) != 0)
		return NULL;
	cards = json_incref(json_object_get(json_object_get(res, "gpu"),
	    "cards"));
	json_decref(res);
	return cards;
}

static int
lxd_knows(json_t *cards, const struct nvml_gpu *g)
{
	json_t *card;
	size_t i;

	json_array_foreach(cards, i, card) {
		const char *pci = json_string_value(json_object_get(card,
		    "pci_address"));
		const char *uuid = json_string_value(json_object_get(
		    json_object_get(card, "nvidia"), "uuid"));

		if ((pci != NULL && strcasecmp(pci, g->pci) == 0) ||
		    (uuid != NULL && strcmp(uuid, g->uuid) == 0))
			return 1;
	}
	return 0;
}

long long
gpu_reclaim_at(const struct config *cfg, const struct gpu_use *u)
{
	long long after = cfg->gpu_idle_reclaim;

	if (after <= 0 || u->exempt || u->idle_since <= 0)
		return 0;
	return u->idle_since + after;
}

static json_t *
hold_json(const struct config *cfg, const struct gpu_use *u)
{
	long long r = gpu_reclaim_at(cfg, u);

	return json_pack("{s:s, s:s, s:b, s:I, s:o, s:o, s:o, s:b}", "user",
	    u->user, "container", u->name, "exclusive", u->exclusive,
	    "since", (json_int_t)u->since, "lease_end", u->lease_end > 0 ?
	    json_integer(u->lease_end) : json_null(), "idle_since",
	    u->idle_since > 0 ? json_integer(u->idle_since) : json_null(),
	    "reclaim_at", r > 0 ? json_integer(r) : json_null(),
	    "reclaim_exempt", u->exempt);
}

/* Who was given GPU gpu of server; holder: the exclusive one, or "". */
static json_t *
holders_json(struct op *op, const char *server, int gpu, char holder[160])
{
	json_t *holders = json_array();
	struct gpu_use *u;
	size_t nu, k;

	holder[0] = '\0';
	gpudb_users(op->db, server, gpu, &u, &nu);
	for (k = 0; k < nu; k++) {
		if (u[k].exclusive)
			snprintf(holder, 160, "%s/%s", u[k].user, u[k].name);
		json_array_append_new(holders, hold_json(&op->srv->cfg, &u[k]));
	}
	free(u);
	return holders;
}

/* Its processes, each named by the lab user whose project it runs in. */
static json_t *
procs_json(struct op *op, const struct nvml_gpu *g, const struct user_row *us,
    int nus)
{
	json_t *procs = json_array();
	size_t k;

	for (k = 0; k < g->nprocs; k++) {
		const struct nvml_proc *p = &g->procs[k];
		char user[160] = "";

		if (*p->project != '\0') {
			owner_of(op, us, nus, p->project, user);
			if (*user == '\0')
				snprintf(user, sizeof(user), "(LXD project %s)",
				    p->project);
		}
		json_array_append_new(procs, json_pack("{s:i, s:I, s:s?, "
		    "s:s}", "pid", (int)p->pid, "memory", (json_int_t)p->mem,
		    "container", *p->project != '\0' ? p->container : NULL,
		    "user", *p->project != '\0' ? user : "host"));
	}
	return procs;
}

/*
 * The GPUs of a reading as gpus shows them: server's (NULL: this host,
 * one LXD), who was given each (the database), whose each process is,
 * and on this host whether LXD sees the card (cards; null elsewhere).
 */
static void
report_gpus(struct op *op, const char *server, const struct nvml_gpu *gpus,
    size_t n, json_t *cards, const struct user_row *us, int nus, json_t *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const struct nvml_gpu *g = &gpus[i];
		char holder[160];
		json_t *holders = holders_json(op, server != NULL ? server : "",
		    g->index, holder), *o;

		o = json_pack("{s:i, s:s, s:s, s:s, s:I, s:I, s:i, s:s?, s:o, "
		    "s:o, s:o}", "index", g->index, "name", g->name, "pci",
		    g->pci, "uuid", g->uuid, "memory_total",
		    (json_int_t)g->mem_total, "memory_used",
		    (json_int_t)g->mem_used, "utilization", g->util,
		    "exclusive_holder", *holder ? holder : NULL, "lxd_sees",
		    server == NULL && cards != NULL ?
		    json_boolean(lxd_knows(cards, g)) : json_null(), "holders",
		    holders, "processes", procs_json(op, g, us, nus));
		if (o == NULL)
			continue;
		if (server != NULL)
			json_object_set_new(o, "server", json_string(server));
		json_array_append_new(out, o);
	}
}

/* The GPUs of labcd's own host (one LXD, not a cluster). */
static int
report_local(struct op *op, json_t **out)
{
	struct nvml_gpu *gpus = NULL;
	struct user_row *us;
	json_t *cards, *reading;
	char err[512];
	size_t n = 0;
	int nus, r;

	*out = NULL;
	reading = node_reading(op->srv->cfg.nvml_library);
	r = gpu_reading_parse(reading, &gpus, &n, err, sizeof(err));
	json_decref(reading);
	if (r != 0)
		return op_error(op, "%s", err);
	cards = lxd_cards(op);
	nus = userdb_all(op->db, &us);
	*out = json_array();
	report_gpus(op, NULL, gpus, n, cards, us, nus, *out);
	free(us);
	json_decref(cards);
	nvml_free(gpus, n);
	return 0;
}

int
gpu_report_all(struct op *op, json_t **out, json_t **unread)
{
	struct cluster_member *m;
	struct user_row *us;
	size_t n, i;
	int nus;

	*out = NULL;
	*unread = json_array();
	if (cluster_members(op, &m, &n) != 0)
		return PROTO_FAILED;
	if (n == 0) {
		free(m);
		return report_local(op, out);
	}
	nus = userdb_all(op->db, &us);
	*out = json_array();
	cluster_read_nodes(op, m, n);
	for (i = 0; i < n; i++) {
		struct nvml_gpu *gpus;
		json_t *reading;
		char why[640];
		size_t ng;
		int r;

		if (cluster_node_reading(op, &m[i], &reading, why,
		    sizeof(why)) != 0) {
			json_array_append_new(*unread, json_pack("{s:s, s:s}",
			    "server", m[i].name, "why", why));
			continue;
		}
		r = gpu_reading_parse(reading, &gpus, &ng, why, sizeof(why));
		json_decref(reading);
		if (r != 0) {
			json_array_append_new(*unread, json_pack("{s:s, s:s}",
			    "server", m[i].name, "why", why));
			continue;
		}
		report_gpus(op, m[i].name, gpus, ng, NULL, us, nus, *out);
		nvml_free(gpus, ng);
	}
	free(us);
	free(m);
	return PROTO_OK;
}

int
gpu_report(struct op *op, json_t **out)
{
	json_t *unread;
	int r = gpu_report_all(op, out, &unread);

	json_decref(unread);
	return r;
}
