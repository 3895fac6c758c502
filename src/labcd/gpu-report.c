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

static json_t *
procs_json(struct op *op, const struct nvml_gpu *g, const struct user_row *us,
    int nus)
{
	json_t *procs = json_array();
	size_t k;

	for (k = 0; k < g->nprocs; k++) {
		char project[128], name[64], user[160] = "";
		int w = gpu_pid_container(g->procs[k].pid, project, name);

		if (w < 0)
			continue;	/* ended since NVML said so */
		if (w == 1)
			owner_of(op, us, nus, project, user);
		if (w == 1 && *user == '\0')
			snprintf(user, sizeof(user), "(LXD project %s)",
			    project);
		json_array_append_new(procs, json_pack("{s:i, s:I, s:s?, "
		    "s:s}", "pid", (int)g->procs[k].pid, "memory",
		    (json_int_t)g->procs[k].mem, "container", w == 1 ? name :
		    NULL, "user", w == 0 ? "host" : user));
	}
	return procs;
}

/* The GPUs of labcd's own host (one LXD, not a cluster). */
static int
report_local(struct op *op, json_t **out)
{
	const struct config *cfg = &op->srv->cfg;
	struct nvml_gpu *gpus = NULL;
	struct user_row *us;
	json_t *cards;
	char err[512];
	size_t n = 0, i;
	int nus;

	*out = NULL;
	if (nvml_query(cfg->nvml_library, &gpus, &n, err, sizeof(err)) != 0)
		return op_error(op, "%s", err);
	cards = lxd_cards(op);
	nus = userdb_all(op->db, &us);
	*out = json_array();
	for (i = 0; i < n; i++) {
		const struct nvml_gpu *g = &gpus[i];
		char holder[160];
		json_t *holders = holders_json(op, "", g->index, holder);

		json_array_append_new(*out, json_pack("{s:i, s:s, s:s, s:s, s:I, "
		    "s:I, s:i, s:s?, s:o, s:o, s:o}", "index", g->index, "name",
		    g->name, "pci", g->pci, "uuid", g->uuid, "memory_total",
		    (json_int_t)g->mem_total, "memory_used",
		    (json_int_t)g->mem_used, "utilization", g->util,
		    "exclusive_holder", *holder ? holder : NULL, "lxd_sees",
		    cards == NULL ? json_null() : json_boolean(lxd_knows(cards,
		    g)), "holders", holders, "processes", procs_json(op, g, us,
		    nus)));
	}
	free(us);
	json_decref(cards);
	nvml_free(gpus, n);
	return 0;
}

/*
 * A cluster member's GPUs, as its labcd --node read them: the processes'
 * projects named by their owners here, who was given each (the database).
 */
static void
report_member(struct op *op, const char *server, json_t *reading,
    const struct user_row *us, int nus, json_t *out)
{
	json_t *g, *p;
	size_t i, k;

	json_array_foreach(json_object_get(reading, "gpus"), i, g) {
		json_t *procs = json_array(), *holders;
		char holder[160];

		json_array_foreach(json_object_get(g, "processes"), k, p) {
			const char *project = json_string_value(
			    json_object_get(p, "project"));
			const char *ct = json_string_value(json_object_get(p,
			    "container"));
			char user[160] = "";

			if (project != NULL)
				owner_of(op, us, nus, project, user);
			if (project != NULL && *user == '\0')
				snprintf(user, sizeof(user), "(LXD project %s)",
				    project);
			json_array_append_new(procs, json_pack("{s:O, s:O, "
			    "s:s?, s:s}", "pid", json_object_get(p, "pid"),
			    "memory", json_object_get(p, "memory"), "container",
			    project != NULL ? ct : NULL, "user", project ==
			    NULL ? "host" : user));
		}
		holders = holders_json(op, server, (int)json_integer_value(
		    json_object_get(g, "index")), holder);
		json_array_append_new(out, json_pack("{s:s, s:O, s:O, s:O, "
		    "s:O, s:O, s:O, s:O, s:s?, s:n, s:o, s:o}", "server", server,
		    "index", json_object_get(g, "index"), "name",
		    json_object_get(g, "name"), "pci", json_object_get(g,
		    "pci"), "uuid", json_object_get(g, "uuid"), "memory_total",
		    json_object_get(g, "memory_total"), "memory_used",
		    json_object_get(g, "memory_used"), "utilization",
		    json_object_get(g, "utilization"), "exclusive_holder",
		    *holder ? holder : NULL, "lxd_sees", "holders", holders,
		    "processes", procs));
	}
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
		json_t *reading;
		char why[640];
		const char *err;

		if (cluster_node_reading(op, &m[i], &reading, why,
		    sizeof(why)) != 0) {
			json_array_append_new(*unread, json_pack("{s:s, s:s}",
			    "server", m[i].name, "why", why));
			continue;
		}
		if ((err = json_string_value(json_object_get(reading,
		    "error"))) != NULL)
			json_array_append_new(*unread, json_pack("{s:s, s:s}",
			    "server", m[i].name, "why", err));
		report_member(op, m[i].name, reading, us, nus, *out);
		json_decref(reading);
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
