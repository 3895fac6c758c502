/*
 * quota.c - a lab user's quota is their LXD project's limits, so LXD
 * enforces them itself; this reads limits and usage in one request.
 */
#include <errno.h>
#include <stdio.h>

#include "ct.h"
#include "db-users.h"
#include "lxd.h"
#include "proto.h"
#include "quota.h"

const char *const quota_cols[] = { "user", "containers", "cpu", "memory",
    "disk", "gpus", NULL };

static void
human(long long v, int bytes, char *out, size_t outsz)
{
	const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double d = (double)v;
	int u = 0;

	if (!bytes) {
		snprintf(out, outsz, "%lld", v);
		return;
	}
	while (d >= 1024 && u < 4) {
		d /= 1024;
		u++;
	}
	snprintf(out, outsz, d == (long long)d ? "%.0f%s" : "%.1f%s", d,
	    units[u]);
}

/* "USAGE/LIMIT", or "USAGE/-" without a limit. */
static void
cell(json_t *res, const char *key, int bytes, char *out, size_t outsz)
{
	json_t *r = json_object_get(res, key);
	long long lim = json_integer_value(json_object_get(r, "Limit"));
	long long use = json_integer_value(json_object_get(r, "Usage"));
	char u[32], l[32] = "-";

	human(use, bytes, u, sizeof(u));
	if (lim >= 0 && json_object_get(r, "Limit") != NULL)
		human(lim, bytes, l, sizeof(l));
	snprintf(out, outsz, "%s/%s", u, l);
}

int
quota_row(struct ctx *c, struct table *t, long long user_id, const char *user)
{
	struct lxd *l = ctx_lxd(c);
	char project[64], n[48], cpu[48], mem[48], disk[48], gpus[32] = "0/-";
	json_t *st = NULL, *res;
	int r, used, quota;

	project_of(ctx_op(c), user_id, user, project);
	r = lxd_project_state(l, project, &st);
	if (r == -ENOENT) {
		if (project_ensure(ctx_op(c), user_id, user, NULL) != 0)
			return ctx_fail(c, ctx_op(c));
		r = lxd_project_state(l, project, &st);
	}
	if (r != 0)
		return ctx_error(c, "%s", lxd_error(l));
	res = json_object_get(st, "resources");
	cell(res, "containers", 0, n, sizeof(n));
	cell(res, "cpu", 0, cpu, sizeof(cpu));
	cell(res, "memory", 1, mem, sizeof(mem));
	cell(res, "disk", 1, disk, sizeof(disk));
	if (userdb_gpus(c->db, user_id, &used, &quota) == 0) {
		if (quota < 0)
			snprintf(gpus, sizeof(gpus), "%d/-", used);
		else
			snprintf(gpus, sizeof(gpus), "%d/%d", used, quota);
	}
	table_add(t, user, n, cpu, mem, disk, gpus);
	json_decref(st);
	return PROTO_OK;
}
