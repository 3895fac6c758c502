/*
 * cmd-set.c - set: change the CPU, memory and disk limits of one of your
 * containers, within your quota. One PATCH to LXD, so LXD's project
 * limits (the quota) take all of it or none; on a running container LXD
 * applies them at once (cgroups; the root disk's qgroup or quota).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ct.h"
#include "log.h"
#include "lxd.h"
#include "project.h"
#include "proto.h"
#include "run.h"
#include "sizes.h"
#include "xmalloc.h"

/* The quota LXD named in its refusal, as 'quota' words it. */
static const struct {
	const char	*lxd;		/* "limits.memory" */
	const char	*res;		/* project state resource */
	const char	*word;
	const char	*opt;
} kinds[] = {
	{ "limits.cpu", "cpu", "CPUs", "--cpu" },
	{ "limits.memory", "memory", "memory", "--memory" },
	{ "limits.disk", "disk", "disk", "--disk" },
};

/* "3 GiB" or "3" (a count). */
static void
amount(long long v, int bytes, char *out, size_t outsz)
{
	if (bytes)
		config_size_str(v, out, outsz);
	else
		snprintf(out, outsz, "%lld", v);
}

/*
 * LXD refused because the project's limit would be passed: say which
 * quota, what the others use of it, and what this container may have.
 */
static int
over_quota(struct ctx *c, const char *project, const struct ct *ct,
    const char *now, const char *asked, int k)
{
	const char *e = ctx_lxd_error(c);
	json_t *st = NULL, *r;
	long long lim, use, cur, others;
	int bytes = k != 0, rc;
	char l[32], o[32], m[32];

	if (lxd_project_state(ctx_lxd(c), project, &st) != 0)
		return ctx_error(c, "quota: %s %s would pass your %s quota (%s). "
		    "Nothing was changed; 'quota' shows your quota", kinds[k].opt,
		    asked, kinds[k].word, e);
	r = json_object_get(json_object_get(st, "resources"), kinds[k].res);
	lim = json_integer_value(json_object_get(r, "Limit"));
	use = json_integer_value(json_object_get(r, "Usage"));
	cur = bytes ? config_size_bytes(now) : now != NULL ? atoll(now) : 0;
	others = use - (cur > 0 ? cur : 0);
	amount(lim, bytes, l, sizeof(l));
	amount(others, bytes, o, sizeof(o));
	amount(lim - others > 0 ? lim - others : 0, bytes, m, sizeof(m));
	rc = ctx_error(c, "quota: %s cannot have %s %s: your quota is %s %s "
	    "for all your containers together, your other containers have %s "
	    "of it, so %s may have at most %s. Nothing was changed; 'quota' "
	    "shows your quota, and your admin can raise it", ct->name, asked,
	    kinds[k].word, l, kinds[k].word, o, ct->name, m);
	json_decref(st);
	return rc;
}

/*
 * A root disk made smaller (or limited for the first time) must keep
 * what it holds, and room to write. LXD 5.0.2 on btrfs sets the qgroup
 * limit and then fails on the next step when the subvolume holds more:
 * the limit stays while LXD's config says the old size, and every later
 * size change fails the same way (measured; see t0220). LXD's usage of a
 * btrfs volume is its exclusive part, not what the limit counts (the
 * image's shared blocks too), so labcd measures the container's root
 * files itself, on the host: never by a program inside the container
 * (root there may replace du, and LXD keeps an exec's recorded output in
 * files on the host, outside any quota). du on the host reads sizes only,
 * follows no symbolic link and, with -x, stays on the volume; a timeout
 * bounds it. The volume is where LXD mounts every pool, next to its
 * socket: storage-pools/POOL/containers/PROJECT_NAME (a pool's 'source'
 * is the device or image file, not that mount; a snap LXD mounts it in
 * its own namespace, where labcd refuses the shrink rather than guess).
 */
#define DISK_ROOM(used)	((used) / 10 + (256LL << 20))
#define DISK_MAX	(1LL << 56)	/* 64 PiB: more is a lie */
#define DU_SECONDS	"20"

/* Bytes under the container's root volume, or -1 with why in err. */
static long long
disk_used(struct ctx *c, const char *project, const char *pool,
    const struct ct *ct, char *err, size_t errsz)
{
	char *dir = lxd_pools_dir(ctx_lxd(c), pool);
	char tmo[256], du[256], *vol = NULL, *out = NULL, *end;
	const char *argv[] = { tmo, "-s", "KILL", DU_SECONDS, du, "-sxB1",
	    "--", NULL, NULL };
	struct stat st;
	long long used = -1;
	int r;

	if (dir == NULL || strchr(project, '/') != NULL) {
		snprintf(err, errsz, "LXD's directory is not known");
		free(dir);
		return -1;
	}
	if (!run_find("timeout", tmo, sizeof(tmo)) ||
	    !run_find("du", du, sizeof(du))) {
		snprintf(err, errsz, "labcd finds no 'du' and 'timeout' "
		    "(coreutils) in its PATH");
		free(dir);
		return -1;
	}
	vol = strcmp(project, "default") == 0 ?
	    xasprintf("%s/containers/%s", dir, ct->name) :
	    xasprintf("%s/containers/%s_%s", dir, project, ct->name);
	free(dir);
	if (lstat(vol, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errsz, "its volume is not at %s on this host "
		    "(LXD from a snap keeps it out of sight)", vol);
		goto out;
	}
	argv[7] = vol;
	r = run_cmd(argv, &out);
	if (r == 124 || r == 128 + 9 || r == -1) {
		snprintf(err, errsz, "measuring it took over " DU_SECONDS
		    " seconds");
		goto out;
	}
	errno = 0;
	used = out != NULL ? strtoll(out, &end, 10) : -1;
	if (r != 0 || out == NULL || errno != 0 || end == out || *end != '	' ||
	    used <= 0) {
		snprintf(err, errsz, "du on %s failed", vol);
		used = -1;
	} else if (used > DISK_MAX)
		used = DISK_MAX;
out:
	free(out);
	free(vol);
	return used;
}

static int
disk_fits(struct ctx *c, const char *project, const char *pool,
    const struct ct *ct, const char *now, const char *asked,
    const char *status)
{
	long long want = config_size_bytes(asked), had = config_size_bytes(now), used;
	char held[32], why[320];

	if (now != NULL && had >= 0 && want >= had)
		return PROTO_OK;		/* grows: holds what it holds */
	if (status == NULL || strcmp(status, "Running") != 0)
		return ctx_error(c, "%s is %s: a smaller disk%s is set while it "
		    "runs, so that labcd can see what it holds ('start %s' "
		    "first); nothing was changed", ct->name, status != NULL ?
		    status : "not running", now == NULL ? " (or a first disk "
		    "limit)" : "", ct->name);
	ctx_progress(c, "Measuring what %s holds on its disk", ct->name);
	if ((used = disk_used(c, project, pool, ct, why, sizeof(why))) < 0)
		return ctx_error(c, "cannot tell what %s holds on its disk (%s), "
		    "so its disk is not made smaller; nothing was changed. "
		    "Try again later, or ask the admin", ct->name, why);
	if (want >= used + DISK_ROOM(used))
		return PROTO_OK;
	amount(used, 1, held, sizeof(held));
	return ctx_error(c, "%s holds %s on its disk: --disk %s would leave it "
	    "no room, and LXD could then not change its size again. Give "
	    "--disk %lldMiB or more (or delete files in %s first); nothing "
	    "was changed", ct->name, held, asked,
	    (used + DISK_ROOM(used) + (1LL << 20) - 1) >> 20, ct->name);
}

/*
 * LXD 5.0.0 to 5.0.3 wake their CPU balancer in the middle of an instance
 * update, before the new limits.cpu is in their database: when the balancer
 * reads first, a running container keeps its old CPUs until the next start
 * or stop anywhere on the host (fixed in lxd 5.0.4 and 6.1, commit
 * 01a97bd8b3). So set wakes it again once the first write is in, with the
 * same count spelled with a leading zero (a change, so LXD rebalances; the
 * same count to its parser), then writes it back as asked. The balancer
 * then reads the new count whichever write it sees. A failure here leaves
 * the limit right in LXD and only its use late; it is logged, not an error.
 */
static void
cpu_rebalance(struct ctx *c, long long user_id, const char *project,
    const char *name, const char *cpu)
{
	struct lxd *l = ctx_lxd(c);
	char canon[24], spelled[32];
	const char *steps[2];
	int i;

	snprintf(canon, sizeof(canon), "%ld", strtol(cpu, NULL, 10));
	snprintf(spelled, sizeof(spelled), "0%s", canon);
	steps[0] = strcmp(cpu, canon) == 0 ? spelled : canon;
	steps[1] = canon;
	for (i = 0; i < 2; i++) {
		json_t *p;
		int r;

		if (i == 1 && steps[0] == canon)
			break;
		p = json_pack("{s:{s:s}}", "config", "limits.cpu", steps[i]);
		ct_quota_lock(user_id);
		r = lxd_instance_patch(l, project, name, p);
		ct_quota_unlock(user_id);
		json_decref(p);
		if (r != 0) {
			log_warn("set %s/%s: could not ask LXD "
			    "to rebalance CPUs (limits.cpu=%s): %s", project,
			    name, steps[i], ctx_lxd_error(c));
			return;
		}
	}
}

static int
set_limits(struct ctx *c, const struct ct *ct, const struct ct_opts *o)
{
	struct lxd *l = ctx_lxd(c);
	const char *status;
	char project[64];
	json_t *inst = NULL, *patch = json_object(), *conf, *root = NULL;
	const char *now[3];
	struct buf lim = BUF_INIT(0);
	int r, k;

	project_of(ctx_op(c), ct->user_id, c->id.user, project);
	if ((r = lxd_instance_get(l, project, ct->name, &inst)) != 0) {
		r = ctx_error(c, "%s: %s", ct->name, r == -ENOENT ? "LXD has "
		    "no such container (deleted outside labcontainers?)" :
		    ctx_lxd_error(c));
		goto out;
	}
	conf = json_object_get(inst, "expanded_config");
	now[0] = json_string_value(json_object_get(conf, "limits.cpu"));
	now[1] = json_string_value(json_object_get(conf, "limits.memory"));
	now[2] = NULL;
	if (o->disk != NULL) {
		const char *pool;
		char what[96];

		/* Its own root disk, else the profile's made its own. */
		root = json_object_get(json_object_get(inst, "devices"), "root");
		if (root == NULL)
			root = json_object_get(json_object_get(inst,
			    "expanded_devices"), "root");
		pool = json_string_value(json_object_get(root, "pool"));
		if (pool == NULL) {
			r = ctx_error(c, "%s has no root disk on a storage pool "
			    "that LXD shows; the admin should look at it "
			    "('lxc config show %s --project %s -e')", ct->name,
			    ct->name, project);
			goto out;
		}
		snprintf(what, sizeof(what), "--disk %s", o->disk);
		if (sizes_disk_refused(ctx_op(c), pool, what, "Leave --disk "
		    "out, or ask the admin to " SIZES_POOL_FIX ".") != 0) {
			r = ctx_fail(c, ctx_op(c));
			goto out;
		}
		now[2] = json_string_value(json_object_get(root, "size"));
		if ((r = disk_fits(c, project, pool, ct, now[2], o->disk,
		    json_string_value(json_object_get(inst, "status")))) != 0)
			goto out;
		root = json_deep_copy(root);
		json_object_set_new(root, "size", json_string(o->disk));
		json_object_set_new(patch, "devices", json_pack("{s:o}", "root",
		    root));
	}
	if (o->cpu != NULL || o->memory != NULL) {
		json_t *cf = json_object();

		if (o->cpu != NULL)
			json_object_set_new(cf, "limits.cpu",
			    json_string(o->cpu));
		if (o->memory != NULL)
			json_object_set_new(cf, "limits.memory",
			    json_string(o->memory));
		json_object_set_new(patch, "config", cf);
	}
	/* One request: LXD takes all of it or, over a quota, none. */
	ct_quota_lock(ct->user_id);
	r = lxd_instance_patch(l, project, ct->name, patch);
	ct_quota_unlock(ct->user_id);
	if (r != 0) {
		const char *e = ctx_lxd_error(c);
		const char *asked[3] = { o->cpu, o->memory, o->disk };

		/* One this request changes: a quota already passed (lowered
		   since) is LXD's to say as it is. */
		for (k = 0; k < 3; k++) {
			if (asked[k] != NULL && r == -EDQUOT &&
			    lxd_refused_aggregate(l, kinds[k].lxd))
				break;
		}
		if (k < 3)
			r = over_quota(c, project, ct, now[k], asked[k], k);
		else
			r = ctx_error(c, "LXD refused the new limits of %s: %s "
			    "('details %s' shows what it has)", ct->name, e,
			    ct->name);
		goto out;
	}
	if (o->cpu != NULL && (now[0] == NULL || strcmp(now[0], o->cpu) != 0) &&
	    strcmp(json_string_value(json_object_get(inst, "status")) ?: "",
	    "Running") == 0)
		cpu_rebalance(c, ct->user_id, project, ct->name, o->cpu);
	json_decref(inst);
	inst = NULL;
	if (lxd_instance_get(l, project, ct->name, &inst) == 0)
		sizes_line(ctx_op(c), ct, inst, &lim);
	else
		buf_printf(&lim, "limits unknown (%s)", ctx_lxd_error(c));
	status = json_string_value(json_object_get(inst, "status"));
	ctx_printf(c, "%s: %s\n", ct->name, buf_str(&lim));
	if (status != NULL && strcmp(status, "Running") == 0)
		ctx_printf(c, "Applied now, while %s runs: no restart needed.\n",
		    ct->name);
	else
		ctx_printf(c, "%s is %s: the limits hold from its next start.\n",
		    ct->name, status != NULL ? status : "not running");
	r = PROTO_OK;
out:
	buf_free(&lim);
	json_decref(patch);
	json_decref(inst);
	return r;
}

static int
cmd_set_exec(struct ctx *c)
{
	const char *name = c->args.argv[0];
	struct ct_opts o;
	struct ct ct;
	int r;

	ctx_target(c, "%.64s%s%.16s%s%.24s%s%.24s", name,
	    cmd_opt(c, "cpu") ? " --cpu " : "", cmd_opt(c, "cpu") ?: "",
	    cmd_opt(c, "memory") ? " --memory " : "",
	    cmd_opt(c, "memory") ?: "", cmd_opt(c, "disk") ? " --disk " : "",
	    cmd_opt(c, "disk") ?: "");
	if ((r = ct_find_ready(c, name, &ct)) != 0)
		return r;
	if ((r = ct_opts_from_args(c, &o)) != 0)
		return r;
	if (o.cpu == NULL && o.memory == NULL && o.disk == NULL)
		return ctx_usage(c, "set needs what to change: --cpu N, "
		    "--memory SIZE and/or --disk SIZE (see 'details %s' for "
		    "what %s has now)", name, name);
	/* Not while a create, delete or reconciliation works on it. */
	if (ct_claim_for(ctx_op(c), &ct) != PROTO_OK)
		return ctx_fail(c, ctx_op(c));
	r = set_limits(c, &ct, &o);
	ct_release(ct.user_id, ct.name);
	return r;
}

const struct cmd_entry cmd_set_entry = {
	.name = "set",
	.args = "NAME [--cpu N] [--memory SIZE] [--disk SIZE]",
	.summary = "change a container's CPU, memory or disk limit",
	.help = "Within your quota (see 'quota'): beyond it, nothing changes.\n"
	    "A running container gets the new limits at once, without a\n"
	    "restart. --cpu is a number of CPUs; sizes are like 8GiB or\n"
	    "500MiB. A disk size needs a storage pool that enforces it.\n"
	    "Shows the limits the container has then.",
	.flags = CMD_USER,
	.min_args = 1, .max_args = 1,
	.opts = { { "cpu", 0, 1, "N" }, { "memory", 0, 1, "SIZE" },
	    { "disk", 0, 1, "SIZE" } },
	.exec = cmd_set_exec,
};
