/*
 * snap.c - snapshots of lab users' containers, through LXD. LXD keeps
 * them (and takes and expires scheduled ones itself); labcd names them,
 * counts them against the owner's snapshot quota, and, on a restore, puts
 * back what labcd decides now rather than what the snapshot remembers:
 * the SSH port device, the GPUs the container holds now (a snapshot taken
 * while it held one must not bring it back), and the owner's keys of now
 * (a key deleted since must not come back in the restored files).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "ct-addr.h"
#include "db-gpus.h"
#include "db-users.h"
#include "gpu.h"
#include "gpu-watch.h"
#include "log.h"
#include "lxd.h"
#include "project.h"
#include "proto.h"
#include "snap.h"
#include "xmalloc.h"

/* What LXD names a scheduled snapshot: "auto-20261202-2305". */
#define SNAP_PATTERN	"auto-{{ creation_date|date:'20060102-1504' }}"
#define CLAIM_WAIT	40	/* seconds, as ct.c waits */

static const struct {
	const char	*word;
	const char	*cron;		/* snapshots.schedule */
	long long	 period;	/* seconds */
} every[] = {
	{ "minutely", "* * * * *", 60 },
	{ "hourly", "@hourly", 3600 },
	{ "daily", "@daily", 86400 },
	{ "weekly", "@weekly", 7 * 86400 },
};
#define NEVERY	(sizeof(every) / sizeof(every[0]))

/* Counting and taking are one step per user: two at once see one count. */
static pthread_mutex_t user_locks[32] = {
#define L PTHREAD_MUTEX_INITIALIZER
	L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L,
	L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L,
#undef L
};

static pthread_mutex_t *
user_lock(long long user_id)
{
	return &user_locks[(unsigned long long)user_id % 32];
}

static void
project_for(struct op *op, const struct ct *ct, char project[64])
{
	project_of(op, ct->user_id, op->actor->user, project);
}

static int
check_name(struct op *op, const char *snap)
{
	const char *why = snap_name_invalid(snap);

	if (why != NULL)
		return op_usage(op, "'%.64s' is not a snapshot name: %s", snap,
		    why);
	return PROTO_OK;
}

const char *
snap_name_of(json_t *snap)
{
	const char *n = json_string_value(json_object_get(snap, "name"));

	/* "box/snap0" in some LXD versions, "snap0" in others. */
	if (n != NULL && strchr(n, '/') != NULL)
		n = strchr(n, '/') + 1;
	return n != NULL ? n : "?";
}

int
snap_find(struct op *op, const char *project, const char *name,
    const char *snap, json_t **out)
{
	json_t *list = NULL, *s;
	size_t i;

	*out = NULL;
	if (lxd_snapshot_list(op_lxd(op), project, name, &list) != 0)
		return op_error(op, "cannot list the snapshots of %s: %s", name,
		    op_lxd_error(op));
	json_array_foreach(list, i, s)
		if (*out == NULL && strcmp(snap_name_of(s), snap) == 0)
			*out = json_incref(s);
	json_decref(list);
	if (*out == NULL)
		return op_error(op, "%s has no snapshot %s (see 'snapshots %s')",
		    name, snap, name);
	return PROTO_OK;
}

int
snap_usage(struct op *op, long long user_id, int *count, long long *quota)
{
	struct user_row u;
	struct ct *cts;
	size_t i, n;
	char project[64];
	int r = PROTO_OK, k;

	*count = 0;
	*quota = userdb_get_id(op->db, user_id, &u) == 0 ? u.snap_quota : -1;
	project_of(op, user_id, u.name, project);
	ctdb_list(op->db, user_id, 1, &cts, &n);
	for (i = 0; i < n && r == PROTO_OK; i++) {
		k = lxd_snapshot_count(op_lxd(op), project, cts[i].name);
		if (k >= 0)
			*count += k;
		else if (k != -ENOENT)
			r = op_error(op, "cannot count the snapshots of %s: %s",
			    cts[i].name, op_lxd_error(op));
	}
	free(cts);
	return r;
}

/* Room for one more snapshot of the user's? Under user_lock. */
static int
quota_allows(struct op *op, long long user_id)
{
	long long quota;
	int count, r;

	if ((r = snap_usage(op, user_id, &count, &quota)) != 0)
		return r;
	if (quota >= 0 && count >= quota)
		return op_error(op, "quota: you may keep %lld snapshot%s over "
		    "all your containers and have %d; delete one ('snapshots "
		    "NAME', then 'snapshot del NAME SNAP'), or ask your admin "
		    "for more", quota, quota == 1 ? "" : "s", count);
	return PROTO_OK;
}

int
snap_take(struct op *op, const struct ct *ct, const char *snap,
    long long keep, char made[64])
{
	time_t now = time(NULL);
	struct tm tm;
	char project[64];
	int r;

	if (snap == NULL) {
		gmtime_r(&now, &tm);
		strftime(made, 64, "snap-%Y%m%d-%H%M%S", &tm);
	} else if ((r = check_name(op, snap)) != 0)
		return r;
	else
		snprintf(made, 64, "%s", snap);
	if (strncmp(made, "auto-", 5) == 0)
		return op_usage(op, "names that begin with 'auto-' are for "
		    "scheduled snapshots: choose another");
	if (keep < 0 || keep > SNAP_KEEP_MAX)
		return op_usage(op, "--keep takes a time from 1m to 366d");
	project_for(op, ct, project);
	pthread_mutex_lock(user_lock(ct->user_id));
	if ((r = quota_allows(op, ct->user_id)) != 0) {
		pthread_mutex_unlock(user_lock(ct->user_id));
		return r;
	}
	op_progress(op, "Taking the snapshot %s of %s", made, ct->name);
	r = lxd_snapshot_create(op_lxd(op), project, ct->name, made,
	    keep > 0 ? (long long)now + keep : 0);
	pthread_mutex_unlock(user_lock(ct->user_id));
	if (r == -EEXIST)
		return op_error(op, "%s has a snapshot named %s already (see "
		    "'snapshots %s')", ct->name, made, ct->name);
	if (r != 0)
		return op_error(op, "the snapshot of %s failed: %s", ct->name,
		    op_lxd_error(op));
	return PROTO_OK;
}

/* "daily, kept 7d" from the instance's config, or "". */
static char *
schedule_words(json_t *conf)
{
	const char *cron = json_string_value(json_object_get(conf,
	    "snapshots.schedule"));
	const char *exp = json_string_value(json_object_get(conf,
	    "snapshots.expiry"));
	const char *word = cron;
	char kept[32], *end;
	long long min;
	size_t i;

	if (cron == NULL || *cron == '\0')
		return xstrdup("");
	for (i = 0; i < NEVERY; i++)
		if (strcmp(every[i].cron, cron) == 0)
			word = every[i].word;
	/* labcd writes minutes ("180M"); anything else as LXD has it. */
	snprintf(kept, sizeof(kept), "%.24s", exp != NULL && *exp != '\0' ?
	    exp : "until deleted");
	if (exp != NULL && (min = strtoll(exp, &end, 10)) > 0 &&
	    strcmp(end, "M") == 0)
		config_duration_str(min * 60, kept, sizeof(kept));
	return xasprintf("%s, kept %s", word, kept);
}

int
snap_list(struct op *op, const struct ct *ct, json_t **snaps, char **schedule)
{
	json_t *inst = NULL;
	char project[64];

	*snaps = NULL;
	*schedule = NULL;
	project_for(op, ct, project);
	if (lxd_snapshot_list(op_lxd(op), project, ct->name, snaps) != 0 ||
	    lxd_instance_get(op_lxd(op), project, ct->name, &inst) != 0) {
		json_decref(*snaps);
		*snaps = NULL;
		return op_error(op, "cannot list the snapshots of %s: %s",
		    ct->name, op_lxd_error(op));
	}
	*schedule = schedule_words(json_object_get(inst, "config"));
	json_decref(inst);
	return PROTO_OK;
}

int
snap_delete(struct op *op, const struct ct *ct, const char *snap)
{
	char project[64];
	int r;

	if ((r = check_name(op, snap)) != 0)
		return r;
	project_for(op, ct, project);
	op_progress(op, "Deleting the snapshot %s of %s", snap, ct->name);
	r = lxd_snapshot_delete(op_lxd(op), project, ct->name, snap);
	if (r == -ENOENT)
		return op_error(op, "%s has no snapshot %s (see 'snapshots %s')",
		    ct->name, snap, ct->name);
	if (r != 0)
		return op_error(op, "deleting the snapshot %s of %s failed: %s",
		    snap, ct->name, op_lxd_error(op));
	return PROTO_OK;
}

/* Is dev the same device as want (every key alike)? */
static int
same_device(json_t *dev, json_t *want)
{
	return dev != NULL && want != NULL && json_equal(dev, want);
}

/* The schedule keys, as LXD would take them back ("" for none). */
static const char *const sched_keys[] = {
	"snapshots.schedule", "snapshots.expiry", "snapshots.pattern",
};

/* The instance's schedule now: {key: value or ""}, or NULL. */
static json_t *
schedule_now(struct op *op, const char *project, const char *name)
{
	json_t *inst = NULL, *conf, *out;
	size_t i;

	if (lxd_instance_get(op_lxd(op), project, name, &inst) != 0)
		return NULL;
	conf = json_object_get(inst, "config");
	out = json_object();
	for (i = 0; i < sizeof(sched_keys) / sizeof(sched_keys[0]); i++)
		json_object_set_new(out, sched_keys[i], json_string(
		    json_string_value(json_object_get(conf, sched_keys[i])) ?:
		    ""));
	json_decref(inst);
	return out;
}

/*
 * After a restore: the ssh device (none for a locked user), the GPU
 * devices as labcd has them now, and the snapshot schedule of before the
 * restore (sched: checked against the quota when it was set), whatever
 * the snapshot said.
 */
static int
devices_mend(struct op *op, const char *project, const struct ct *ct,
    json_t *sched)
{
	struct lxd *l = op_lxd(op);
	json_t *inst = NULL, *devs, *want, *patch, *d;
	const char *k;
	void *tmp;
	int r, locked = userdb_locked(op->db, ct->user_id);

	if ((r = lxd_instance_get(l, project, ct->name, &inst)) != 0)
		return r;
	devs = json_object_get(inst, "devices");
	want = gpu_devices_held(op, ct->id);
	if (!locked)
		json_object_set_new(want, "ssh", ct_ssh_device(&op->srv->cfg,
		    ct->port, ct->addr));
	/* With LXD's NAT, the eth0 that holds the port's address. */
	if (ct_port_nat(&op->srv->cfg, ct))
		json_object_set_new(want, "eth0", ct_nic_device(ct->network,
		    ct->addr));
	/* Any GPU, or ssh device, that labcd would not give now goes. */
	json_object_foreach_safe(devs, tmp, k, d) {
		const char *type = json_string_value(json_object_get(d,
		    "type"));
		/*
		 * An eth0 of its own is a NAT port's (want has it) or
		 * came with an imported snapshot: the profile's then.
		 */
		int ours = type != NULL && (strcmp(type, "gpu") == 0 ||
		    strcmp(k, "ssh") == 0 || (strcmp(k, "eth0") == 0 &&
		    strcmp(type, "nic") == 0));

		if (!ours || same_device(d, json_object_get(want, k)))
			continue;
		if ((r = lxd_instance_remove_device(l, project, ct->name,
		    k)) != 0 && r != -ENOENT)
			goto out;
	}
	patch = json_object();
	json_object_foreach(want, k, d)
		if (!same_device(json_object_get(devs, k), d))
			json_object_set(patch, k, d);
	r = 0;
	if (json_object_size(patch) > 0 || sched != NULL) {
		json_t *body = json_pack("{s:o}", "devices", patch);

		if (sched != NULL)
			json_object_set(body, "config", sched);
		r = lxd_instance_patch(l, project, ct->name, body);
		json_decref(body);
	} else
		json_decref(patch);
out:
	json_decref(want);
	json_decref(inst);
	return r;
}

int
snap_restore(struct op *op, struct ct *ct, const char *snap, int force,
    int *ran, int *ssh_up)
{
	char project[64], *status = NULL;
	json_t *found, *sched = NULL;
	int r;

	*ran = 0;
	*ssh_up = 0;
	if ((r = check_name(op, snap)) != 0 ||
	    (r = ct_check_ready(op, ct)) != 0)
		return r;
	project_for(op, ct, project);
	if ((r = ct_claim_wait(op, ct, CLAIM_WAIT)) != 0)
		return r;
	/* The restore puts back the GPUs held: not one taken out with lxc. */
	gpu_watch_outside(op, ct->id);
	if ((r = snap_find(op, project, ct->name, snap, &found)) != 0)
		goto out;
	json_decref(found);
	if ((r = ct_status(op, ct, &status)) != 0)
		goto out;
	*ran = status != NULL && strcmp(status, "Stopped") != 0;
	if (*ran) {
		op_progress(op, "Stopping %s", ct->name);
		if ((r = ct_stop(op, ct, force)) != 0)
			goto out;
	}
	if ((sched = schedule_now(op, project, ct->name)) == NULL) {
		r = op_error(op, "cannot read %s before the restore: %s%s",
		    ct->name, op_lxd_error(op), *ran ? "; it was stopped: "
		    "'start' starts it" : "");
		goto out;
	}
	op_progress(op, "Restoring %s to %s", ct->name, snap);
	r = lxd_snapshot_restore(op_lxd(op), project, ct->name, snap);
	if (r == -ENOENT) {
		r = op_error(op, "%s has no snapshot %s (see 'snapshots %s')%s",
		    ct->name, snap, ct->name, *ran ? "; it was stopped: "
		    "'start' starts it" : "");
		goto out;
	}
	if (r != 0) {
		r = op_error(op, "restoring %s to %s failed: %s%s", ct->name,
		    snap, op_lxd_error(op), *ran ? "; it was stopped: "
		    "'start' starts it" : "");
		goto out;
	}
	/* From here on, the snapshot's files are there: labcd's now too. */
	if ((r = devices_mend(op, project, ct, sched)) != 0) {
		log_error("restored %s/%s: cannot put back its devices: %s "
		    "(reconciliation mends the ssh device)", project,
		    ct->name, op_lxd_error(op));
		r = op_error(op, "%s was restored to %s, but its SSH port and "
		    "GPUs could not be put back: %s; ask your admin",
		    ct->name, snap, op_lxd_error(op));
		goto out;
	}
	(void)ctdb_set_unprovisioned(op->db, ct->id);
	ct->provisioned = ct->keys_synced = 0;
out:
	json_decref(sched);
	free(status);
	ct_release(ct->user_id, ct->name);
	if (r == 0 && *ran)
		r = ct_start(op, ct, ssh_up);
	return r;
}

int
snap_schedule(struct op *op, const struct ct *ct, const char *word,
    long long keep)
{
	json_t *conf, *body;
	char project[64], exp[32], kept[32];
	long long quota, most;
	struct user_row u;
	size_t i;
	int r, off = word == NULL || strcmp(word, "off") == 0;

	for (i = 0; !off && i < NEVERY; i++)
		if (strcmp(every[i].word, word) == 0)
			break;
	if (!off && i == NEVERY)
		return op_usage(op, "'%.32s': say minutely, hourly, daily, weekly "
		    "or off", word);
	if (!off && (keep <= 0 || keep > SNAP_KEEP_MAX))
		return op_usage(op, "a schedule needs --keep, how long each "
		    "snapshot stays: from 1m to 366d, such as 7d");
	quota = userdb_get_id(op->db, ct->user_id, &u) == 0 ? u.snap_quota : -1;
	if (!off && quota >= 0 &&
	    (most = (keep + every[i].period - 1) / every[i].period + 1) >
	    quota)
	{
		config_duration_str(keep, kept, sizeof(kept));
		return op_error(op, "quota: %s snapshots kept %s would be up "
		    "to %lld at once, and you may keep %lld over all your "
		    "containers; keep them for less, take them less often, or "
		    "ask your admin for more", every[i].word, kept, most,
		    quota);
	}
	/* LXD's expiry: M is minutes to LXD. */
	snprintf(exp, sizeof(exp), "%lldM", (keep + 59) / 60);
	conf = off ? json_pack("{s:s, s:s, s:s}", "snapshots.schedule", "",
	    "snapshots.expiry", "", "snapshots.pattern", "") :
	    json_pack("{s:s, s:s, s:s}", "snapshots.schedule", every[i].cron,
	    "snapshots.expiry", exp, "snapshots.pattern", SNAP_PATTERN);
	body = json_pack("{s:o}", "config", conf);
	project_for(op, ct, project);
	r = lxd_instance_patch(op_lxd(op), project, ct->name, body);
	json_decref(body);
	if (r != 0)
		return op_error(op, "setting the snapshot schedule of %s failed: "
		    "%s", ct->name, op_lxd_error(op));
	return PROTO_OK;
}
