/*
 * quota.c - a lab user's quota is their LXD project's limits, so LXD
 * enforces them itself; this reads limits and usage from labcd's view of
 * LXD (view.c), counted as LXD counts them, else from LXD in one request.
 */
#include <errno.h>
#include <stdio.h>

#include "ct.h"
#include "db-users.h"
#include "lxd.h"
#include "proto.h"
#include "quota.h"
#include "view.h"

const char *const quota_cols[] = { "user", "containers", "cpu", "memory",
    "disk", "gpus", "snapshots", NULL };

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

/* "USAGE/LIMIT", or "USAGE/-" without a limit (lim < 0). */
static void
cell(long long use, long long lim, int bytes, char *out, size_t outsz)
{
	char u[32], l[32] = "-";

	human(use, bytes, u, sizeof(u));
	if (lim >= 0)
		human(lim, bytes, l, sizeof(l));
	snprintf(out, outsz, "%s/%s", u, l);
}

/* LXD's project state as the view's numbers (no "Limit": none). */
static void
from_state(json_t *st, struct view_quota *q)
{
	static const char *const keys[VIEW_QUOTA_N] = { "containers", "cpu",
	    "memory", "disk" };
	json_t *res = json_object_get(st, "resources");
	size_t k;

	for (k = 0; k < VIEW_QUOTA_N; k++) {
		json_t *r = json_object_get(res, keys[k]);
		json_t *lim = json_object_get(r, "Limit");

		q->used[k] = json_integer_value(json_object_get(r, "Usage"));
		q->limit[k] = lim != NULL ? json_integer_value(lim) : -1;
	}
}

int
quota_row(struct ctx *c, struct table *t, long long user_id, const char *user)
{
	struct lxd *l = ctx_lxd(c);
	char project[64], n[48], cpu[48], mem[48], disk[48], gpus[32] = "0/-";
	char snaps[32] = "-";
	struct user_row u;
	struct view_quota q;
	json_t *st = NULL;
	int r, used, quota;

	project_of(ctx_op(c), user_id, user, project);
	if (view_quota(project, &q) != 0) {
		/* Not in labcd's view: LXD's word, making the project. */
		r = lxd_project_state(l, project, &st);
		if (r == -ENOENT) {
			if (project_ensure(ctx_op(c), user_id, user, NULL) != 0)
				return ctx_fail(c, ctx_op(c));
			r = lxd_project_state(l, project, &st);
		}
		if (r != 0)
			return ctx_error(c, "%s", lxd_error(l));
		from_state(st, &q);
		json_decref(st);
	}
	cell(q.used[VIEW_QUOTA_CONTAINERS], q.limit[VIEW_QUOTA_CONTAINERS], 0,
	    n, sizeof(n));
	cell(q.used[VIEW_QUOTA_CPU], q.limit[VIEW_QUOTA_CPU], 0, cpu,
	    sizeof(cpu));
	cell(q.used[VIEW_QUOTA_MEMORY], q.limit[VIEW_QUOTA_MEMORY], 1, mem,
	    sizeof(mem));
	cell(q.used[VIEW_QUOTA_DISK], q.limit[VIEW_QUOTA_DISK], 1, disk,
	    sizeof(disk));
	if (userdb_gpus(c->db, user_id, &used, &quota) == 0) {
		if (quota < 0)
			snprintf(gpus, sizeof(gpus), "%d/-", used);
		else
			snprintf(gpus, sizeof(gpus), "%d/%d", used, quota);
	}
	/* The limit only: counting needs LXD (see 'snapshots NAME'). */
	if (userdb_get_id(c->db, user_id, &u) == 0 && u.snap_quota >= 0)
		snprintf(snaps, sizeof(snaps), "%lld", u.snap_quota);
	table_add(t, user, n, cpu, mem, disk, gpus, snaps);
	return PROTO_OK;
}
