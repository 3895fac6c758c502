/*
 * cmd-admin-quota-set.c - admin quota set: a lab user's limits, set as
 * LXD project limits so that LXD enforces them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct.h"
#include "pool.h"
#include "lxd.h"
#include "project.h"
#include "proto.h"
#include "sizes.h"
#include "users.h"

static const struct {
	const char	*key;		/* as the admin types it */
	const char	*lxd;		/* the project limit */
	int		 size;		/* a size, else a count */
} limits[] = {
	{ "containers", "limits.containers", 0 },
	{ "cpu", "limits.cpu", 0 },
	{ "memory", "limits.memory", 1 },
	{ "disk", "limits.disk", 1 },
};

/*
 * A disk quota counts root disk sizes; on a pool that ignores them (dir)
 * it would promise what nobody enforces: refused before anything changes.
 */
static int
disk_enforced(struct ctx *c, json_t *conf)
{
	const char *v = json_string_value(json_object_get(conf, "limits.disk"));
	char *pool, what[64];
	int r;

	if (v == NULL || *v == '\0' || (pool = pool_root(ctx_op(c))) == NULL)
		return PROTO_OK;
	snprintf(what, sizeof(what), "disk=%.32s", v);
	r = sizes_disk_refused(ctx_op(c), pool, what, "To limit disks, first "
	    SIZES_POOL_FIX "; 'disk=none' removes a disk quota.");
	free(pool);
	return r != 0 ? ctx_fail(c, ctx_op(c)) : PROTO_OK;
}

static int
cmd_admin_quota_set_exec(struct ctx *c)
{
	const char *name = c->args.argv[0];
	struct lxd *l = ctx_lxd(c);
	struct user_row u;
	char project[64];
	json_t *conf = json_object();
	long long gpus = -1, snaps = -1;
	int i, k, r, set_gpus = 0, set_snaps = 0;

	ctx_target(c, "%.64s", name);
	if (userdb_get(c->db, name, &u) != 0) {
		json_decref(conf);
		return ctx_error(c, "no lab user '%.64s'", name);
	}
	for (i = 1; i < c->args.argc; i++) {
		const char *a = c->args.argv[i], *eq = strchr(a, '='), *v;
		char *end;

		/* GPUs: LXD has no such limit; labcd keeps and enforces it. */
		if (strncmp(a, "gpus=", 5) == 0) {
			long n = strtol(a + 5, &end, 10);

			if (strcmp(a + 5, "none") == 0)
				gpus = -1;
			else if (a[5] == '\0' || *end != '\0' || n < 0 ||
			    n > 4096) {
				json_decref(conf);
				return ctx_usage(c, "gpus=%.32s: give a number, or "
				    "'none'", a + 5);
			} else
				gpus = n;
			set_gpus = 1;
			continue;
		}
		/* Snapshots: the same, labcd's (snap.c counts them). */
		if (strncmp(a, "snapshots=", 10) == 0) {
			long n = strtol(a + 10, &end, 10);

			if (strcmp(a + 10, "none") == 0)
				snaps = -1;
			else if (a[10] == '\0' || *end != '\0' || n < 0 ||
			    n > 100000) {
				json_decref(conf);
				return ctx_usage(c, "snapshots=%.32s: give a "
				    "number, or 'none'", a + 10);
			} else
				snaps = n;
			set_snaps = 1;
			continue;
		}
		for (k = 0; eq != NULL && k < 4; k++) {
			if (strlen(limits[k].key) == (size_t)(eq - a) &&
			    strncmp(a, limits[k].key, (size_t)(eq - a)) == 0)
				break;
		}
		if (eq == NULL || k == 4) {
			json_decref(conf);
			return ctx_usage(c, "'%.64s': expected KEY=VALUE with KEY "
			    "one of containers, cpu, memory, disk, gpus, snapshots", a);
		}
		v = eq + 1;
		if (strcmp(v, "none") == 0 || strcmp(v, "unlimited") == 0)
			v = "";
		else if (limits[k].size ? !config_size_valid(v) :
		    (strtol(v, &end, 10) < 0 || *end != '\0' || *v == '\0')) {
			json_decref(conf);
			return ctx_usage(c, "%s=%.32s: give %s, or 'none'",
			    limits[k].key, v, limits[k].size ?
			    "a size such as 16GiB" : "a number");
		}
		json_object_set_new(conf, limits[k].lxd, json_string(v));
	}
	if ((r = disk_enforced(c, conf)) != 0) {
		json_decref(conf);
		return r;
	}
	if ((set_gpus && userdb_set_gpu_quota(c->db, u.id, gpus) != 0) ||
	    (set_snaps && userdb_set_snap_quota(c->db, u.id, snaps) != 0)) {
		json_decref(conf);
		return ctx_error(c, "%s", c->db->err);
	}
	if (json_object_size(conf) == 0) {
		json_decref(conf);
		ctx_printf(c, "Quota of %s set.\n", u.name);
		return PROTO_OK;
	}
	if ((r = project_ensure(ctx_op(c), u.id, u.name, NULL)) != 0) {
		json_decref(conf);
		return ctx_fail(c, ctx_op(c));
	}
	project_of(ctx_op(c), u.id, u.name, project);
	r = lxd_project_set_config(l, project, conf);
	json_decref(conf);
	if (r != 0 && lxd_refused_unset_limit(l))
		return ctx_error(c, "LXD refused the quota: %s\n(a container "
		    "made before the quota has no such limit of its own: set "
		    "quotas before %s makes containers, or recreate them)",
		    lxd_error(l), u.name);
	if (r != 0)
		return ctx_error(c, "LXD refused the quota: %s", lxd_error(l));
	ctx_printf(c, "Quota of %s set.\n", u.name);
	return PROTO_OK;
}

const struct cmd_entry cmd_admin_quota_set_entry = {
	.name = "admin quota set",
	.args = "USER KEY=VALUE...",
	.summary = "set a lab user's quota (containers, cpu, memory, disk, "
	    "gpus, snapshots)",
	.help = "For example: admin quota set alice containers=3 cpu=8\n"
	    "memory=32GiB disk=200GiB gpus=2 snapshots=10. 'none' removes a\n"
	    "limit. gpus counts distinct GPUs over all the user's containers,\n"
	    "snapshots all their snapshots, scheduled ones too (labcd\n"
	    "enforces both); LXD enforces the others; each container must\n"
	    "then have its own CPU, memory and disk limits (labcd uses\n"
	    "--cpu/--memory/--disk, the configured defaults, or 1 CPU, 1GiB\n"
	    "and 10GiB).",
	.flags = CMD_ADMIN,
	.min_args = 2, .max_args = 7,
	.exec = cmd_admin_quota_set_exec,
};
