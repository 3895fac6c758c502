/*
 * cmd-gpus.c - gpus: who uses which GPU. Every member sees every GPU's
 * use, each process with its container and lab user (never a command
 * line): NVML's host PID -> /proc/PID/cgroup -> the LXC payload cgroup
 * "<project>_<name>" -> the project's owner.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "db-gpus.h"
#include "db-users.h"
#include "gpu.h"
#include "lxd.h"
#include "project.h"
#include "proto.h"
#include "view.h"
#include "xmalloc.h"

static void
mib(unsigned long long bytes, char *out, size_t outsz)
{
	snprintf(out, outsz, "%.1f GiB", (double)bytes / (1024.0 * 1024 *
	    1024));
}

/* The lab user owning LXD project p ("" if none of ours). */
static void
owner_of(struct ctx *c, const char *p, char user[160])
{
	struct user_row *us;
	char project[PROJECT_MAX];
	int i, n;

	user[0] = '\0';
	n = userdb_all(c->db, &us);
	for (i = 0; i < n && user[0] == '\0'; i++) {
		project_name(c->srv->cfg.project_prefix, us[i].project,
		    us[i].name, project);
		if (strcmp(project, p) == 0)
			snprintf(user, 160, "%s", us[i].name);
	}
	free(us);
}

/*
 * LXD's view, to say which cards LXD can pass to containers: labcd's copy
 * (view.c), else LXD now.
 */
static json_t *
lxd_cards(struct ctx *c)
{
	json_t *res = NULL, *cards;

	if ((cards = view_gpu_cards()) != NULL)
		return cards;
	if (lxd_resources(ctx_lxd(c), &res) != 0)
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

/* When the idle clock takes it back (0: never), for a hold. */
static long long
reclaim_at(struct ctx *c, const struct gpu_use *u)
{
	long long after = c->srv->cfg.gpu_idle_reclaim;

	if (after <= 0 || u->exempt || u->idle_since <= 0)
		return 0;
	return u->idle_since + after;
}

/* " (until 15:04, in 7h59; idle 2h05, back at 17:00)", or "". */
static void
hold_when(struct ctx *c, const struct gpu_use *u, char *out, size_t outsz)
{
	char until[64] = "", idle[32], back[64] = "";
	long long r = reclaim_at(c, u);

	if (u->lease_end > 0)
		gpu_until("until", u->lease_end, until, sizeof(until));
	if (u->idle_since > 0)
		config_duration_str(time(NULL) - u->idle_since, idle,
		    sizeof(idle));
	if (r > 0 && (u->lease_end == 0 || r < u->lease_end)) {
		gpu_until("back at", r, back, sizeof(back));
	}
	snprintf(out, outsz, "%s%s%s%s%s%s%s%s", *until || u->idle_since > 0 ?
	    " (" : "", until, *until && u->idle_since > 0 ? "; " : "",
	    u->idle_since > 0 ? "idle " : "", u->idle_since > 0 ? idle : "",
	    *back ? ", " : "", back, *until || u->idle_since > 0 ? ")" : "");
}

static json_t *
hold_json(struct ctx *c, const struct gpu_use *u)
{
	long long r = reclaim_at(c, u);

	return json_pack("{s:s, s:s, s:b, s:I, s:o, s:o, s:o, s:b}", "user",
	    u->user, "container", u->name, "exclusive", u->exclusive,
	    "since", (json_int_t)u->since, "lease_end", u->lease_end > 0 ?
	    json_integer(u->lease_end) : json_null(), "idle_since",
	    u->idle_since > 0 ? json_integer(u->idle_since) : json_null(),
	    "reclaim_at", r > 0 ? json_integer(r) : json_null(),
	    "reclaim_exempt", u->exempt);
}

static int
cmd_gpus_exec(struct ctx *c)
{
	struct nvml_gpu *gpus = NULL;
	json_t *out = json_array(), *cards;
	char err[512];
	size_t n = 0, i, k;

	if (nvml_query(c->srv->cfg.nvml_library, &gpus, &n, err,
	    sizeof(err)) != 0) {
		json_decref(out);
		return ctx_error(c, "%s", err);
	}
	cards = lxd_cards(c);
	for (i = 0; i < n; i++) {
		const struct nvml_gpu *g = &gpus[i];
		json_t *procs = json_array(), *gj;
		char used[32], total[32], holder[160] = "";
		struct buf users = BUF_INIT(0), held_by = BUF_INIT(0);
		json_t *holders = json_array();
		struct gpu_use *u;
		size_t nu;

		gpudb_users(c->db, g->index, &u, &nu);
		for (k = 0; k < nu; k++) {
			char when[256];

			hold_when(c, &u[k], when, sizeof(when));
			buf_printf(&users, "%s%s/%s%s", users.len ? ", " : "",
			    u[k].user, u[k].name, when);
			if (u[k].exclusive) {
				snprintf(holder, sizeof(holder), "%s/%s",
				    u[k].user, u[k].name);
				buf_printf(&held_by, "%s/%s%s", u[k].user,
				    u[k].name, when);
			}
			json_array_append_new(holders, hold_json(c, &u[k]));
		}
		free(u);
		mib(g->mem_used, used, sizeof(used));
		mib(g->mem_total, total, sizeof(total));
		if (c->format == FMT_TABLE) {
			ctx_printf(c, "%sGPU %d  %s  %s  %s / %s", i ? "\n" : "",
			    g->index, g->name, g->pci, used, total);
			if (g->util >= 0)
				ctx_printf(c, "  %d%%", g->util);
			if (held_by.len > 0)
				ctx_printf(c, "  held by %s", buf_str(&held_by));
			else if (users.len > 0)
				ctx_printf(c, "  given to %s", buf_str(&users));
			if (cards != NULL && !lxd_knows(cards, g))
				ctx_printf(c, "  (LXD does not see it)");
			ctx_printf(c, "\n");
			if (g->nprocs > 0)
				ctx_printf(c, "  %-8s %-10s %-20s %s\n", "PID",
				    "MEMORY", "CONTAINER", "USER");
		}
		buf_free(&users);
		buf_free(&held_by);
		for (k = 0; k < g->nprocs; k++) {
			char project[128], name[64], user[160] = "", mem[32];
			int w = gpu_pid_container(g->procs[k].pid, project,
			    name);

			if (w < 0)
				continue;	/* ended since NVML said so */
			if (w == 0)
				snprintf(name, sizeof(name), "-");
			else
				owner_of(c, project, user);
			if (w == 1 && *user == '\0')
				snprintf(user, sizeof(user), "(LXD project %s)",
				    project);
			mib(g->procs[k].mem, mem, sizeof(mem));
			if (c->format == FMT_TABLE)
				ctx_printf(c, "  %-8u %-10s %-20s %s\n",
				    g->procs[k].pid, mem, name,
				    w == 0 ? "host" : user);
			json_array_append_new(procs, json_pack("{s:i, s:I, s:s?, "
			    "s:s}", "pid", (int)g->procs[k].pid, "memory",
			    (json_int_t)g->procs[k].mem, "container", w == 1 ?
			    name : NULL, "user", w == 0 ? "host" : user));
		}
		gj = json_pack("{s:i, s:s, s:s, s:s, s:I, s:I, s:i, s:s?, s:o, "
		    "s:o}", "index", g->index, "name", g->name, "pci", g->pci,
		    "uuid", g->uuid, "memory_total", (json_int_t)g->mem_total,
		    "memory_used", (json_int_t)g->mem_used, "utilization",
		    g->util, "exclusive_holder", *holder ? holder : NULL,
		    "holders", holders, "processes", procs);
		json_array_append_new(out, gj);
	}
	if (n == 0 && c->format == FMT_TABLE)
		ctx_printf(c, "NVML reports no GPUs on this host.\n");
	json_decref(cards);
	nvml_free(gpus, n);
	c->data = json_pack("{s:o}", "gpus", out);
	if (c->format == FMT_JSON) {
		char *s = json_dumps(c->data, JSON_INDENT(2));

		ctx_printf(c, "%s\n", s);
		free(s);
	} else if (c->format == FMT_CSV)
		return ctx_usage(c, "gpus has no CSV form: use --format json");
	return PROTO_OK;
}

const struct cmd_entry cmd_gpus_entry = {
	.name = "gpus",
	.args = "",
	.summary = "show every GPU: memory, use, and whose processes run on it",
	.flags = CMD_READONLY | CMD_NOAUDIT | CMD_FORMAT | CMD_NOCSV,
	.exec = cmd_gpus_exec,
};
