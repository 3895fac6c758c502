/*
 * cmd-usage.c - usage: GPU-hours held and used, and the utilisation while
 * held, from the history sampling keeps (gpu-watch.c). A member sees their
 * own rows and the lab's total; an admin sees everyone's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "db-gpus.h"
#include "labcd.h"
#include "proto.h"

static const char *const cols[] = { "user", "container", "gpu#",
	"held_hours", "used_hours", "util_held_pct#", "held_seconds#",
	"used_seconds#", "max_memory_mib#", "server", NULL };

static void
hours(long long secs, char *out, size_t outsz)
{
	snprintf(out, outsz, "%.2f", (double)secs / 3600.0);
}

/* "2", or "m2:2" on several servers; "" for a row of no GPU. */
static void
gpu_str(const struct gpu_usage_row *r, char *out, size_t outsz)
{
	*out = '\0';
	if (r->gpu >= 0)
		snprintf(out, outsz, "%s%s%d", r->server, *r->server ? ":" : "",
		    r->gpu);
}

static void
add(struct table *t, const struct gpu_usage_row *r, const char *user)
{
	char gpu[16], held[32], used[32], util[16] = "", hs[32], us[32],
	    mem[32];

	*gpu = '\0';
	if (r->gpu >= 0)
		snprintf(gpu, sizeof(gpu), "%d", r->gpu);
	hours(r->held, held, sizeof(held));
	hours(r->used, used, sizeof(used));
	if (r->held > 0)
		snprintf(util, sizeof(util), "%lld", (r->util + r->held / 2) /
		    r->held);
	snprintf(hs, sizeof(hs), "%lld", r->held);
	snprintf(us, sizeof(us), "%lld", r->used);
	snprintf(mem, sizeof(mem), "%lld", r->mem);
	table_add(t, user, r->container, gpu, held, used, util, hs, us, mem,
	    r->server);
}

/* Whose a row is: by gpu, an admin's rows are everyone's together. */
static const char *
label(struct ctx *c, const struct gpu_usage_row *r, enum gpu_usage_by by,
    int admin)
{
	if (by == GPU_BY_GPU)
		return admin ? "(everyone)" : c->id.user;
	return r->user;
}

static int
cmd_usage_exec(struct ctx *c)
{
	const char *since = cmd_opt(c, "since"), *byname = cmd_opt(c, "by");
	enum gpu_usage_by by = GPU_BY_USER;
	struct gpu_usage_row *rows, total;
	long long secs = 30LL * 86400, from;
	struct table *t;
	char when[32], span[32];
	struct tm tm;
	time_t ft;
	size_t i, n;
	int admin = c->id.admin;

	if (since != NULL && (secs = config_duration_secs(since)) <= 0)
		return ctx_usage(c, "--since takes how far back to look, such as "
		    "30d, 12h or 1w; not '%.32s'", since);
	if (byname != NULL) {
		if (strcmp(byname, "user") == 0)
			by = GPU_BY_USER;
		else if (strcmp(byname, "gpu") == 0)
			by = GPU_BY_GPU;
		else if (strcmp(byname, "container") == 0)
			by = GPU_BY_CONTAINER;
		else
			return ctx_usage(c, "--by takes user, gpu or container");
	}
	if (!admin && c->id.user_id <= 0)
		return ctx_error(c, "usage shows a lab user's GPU use: log in "
		    "first");
	if (secs > 86400LL * c->srv->cfg.gpu_history_days)
		secs = 86400LL * c->srv->cfg.gpu_history_days;
	from = ((long long)time(NULL) - secs) / 60;
	n = gpudb_usage(c->db, from, by, admin ? NULL : c->id.user, &rows);
	(void)gpudb_usage_total(c->db, from, &total);
	t = table_new(cols);
	for (i = 0; i < n; i++)
		add(t, &rows[i], label(c, &rows[i], by, admin));
	/* The lab's total: every member may see it, as a sum. */
	add(t, &total, "(lab)");
	free(rows);
	if (c->format != FMT_TABLE) {
		ctx_table(c, "usage", t);
		table_free(t);
		return PROTO_OK;
	}
	table_free(t);
	ft = (time_t)(from * 60);
	localtime_r(&ft, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
	config_duration_str(secs, span, sizeof(span));
	ctx_printf(c, "GPU use since %s (%s), sampled every %ds:\n", when,
	    span, c->srv->cfg.gpu_sample_interval);
	ctx_printf(c, "%-20s %-20s %6s %12s %12s %10s\n", "USER", by ==
	    GPU_BY_CONTAINER ? "CONTAINER" : "", by == GPU_BY_GPU ? "GPU" :
	    "", "HELD GPU-H", "USED GPU-H", "UTIL HELD");
	n = gpudb_usage(c->db, from, by, admin ? NULL : c->id.user, &rows);
	for (i = 0; i <= n; i++) {
		const struct gpu_usage_row *r = i < n ? &rows[i] : &total;
		char gpu[80], util[16] = "-";

		gpu_str(r, gpu, sizeof(gpu));
		if (r->held > 0)
			snprintf(util, sizeof(util), "%lld%%", (r->util +
			    r->held / 2) / r->held);
		ctx_printf(c, "%-20s %-20s %6s %12.2f %12.2f %10s\n", i == n ?
		    "(lab)" : label(c, r, by, admin), r->container,
		    gpu, (double)r->held / 3600.0, (double)r->used / 3600.0,
		    util);
	}
	free(rows);
	if (!admin)
		ctx_printf(c, "(your rows, and the lab's total)\n");
	return PROTO_OK;
}

const struct cmd_entry cmd_usage_entry = {
	.name = "usage",
	.args = "[--since 30d] [--by user|gpu|container]",
	.summary = "GPU-hours held and used, and utilisation while held",
	.help = "Held: a GPU given to a container, counted while it has it.\n"
	    "Used: held with a process of that container on it. The\n"
	    "utilisation is the GPU's, averaged over the time held. --since\n"
	    "30d (default) looks back so far; the history goes back\n"
	    "gpu_history_days. Members see their own rows and the lab's\n"
	    "total; admins see everyone's.",
	.flags = CMD_READONLY | CMD_NOAUDIT | CMD_FORMAT,
	.min_args = 0, .max_args = 0,
	.opts = { { "since", 0, 1, "DURATION" }, { "by", 0, 1,
	    "user|gpu|container" } },
	.exec = cmd_usage_exec,
};
