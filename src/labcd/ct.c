/*
 * ct.c - lab users' containers: create, start, stop, delete, and taking
 * their ssh ports away from a locked user. Their rows are in
 * db-containers.c, who changes one now in claim.c, the owner's keys in
 * ct-keys.c, the ssh device in ct-ssh.c, projects in project.c.
 * The database holds what labcd promised (name, port); LXD holds what
 * exists. A row is written before LXD is asked and removed if LXD fails,
 * so a port is never given twice and nothing is left half made.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ct.h"
#include "db-users.h"
#include "gpu.h"
#include "log.h"
#include "lxd.h"
#include "pool.h"
#include "ports.h"
#include "project.h"
#include "proto.h"
#include "reconcile.h"
#include "sizes.h"
#include "xmalloc.h"

#define STOP_TIMEOUT	30	/* seconds for a clean shutdown */

int
ct_get(struct ctx *c, const char *name, struct ct *ct)
{
	return ctdb_get(c->db, c->id.user_id, name, ct);
}

int
ct_find(struct ctx *c, const char *name, struct ct *ct)
{
	const char *why = ct_name_invalid(name);

	if (why != NULL)
		return ctx_error(c, "'%.64s' is not a container name: %s",
		    name, why);
	if (ct_get(c, name, ct) != 0)
		return ctx_error(c, "you have no container '%s' (see 'list')",
		    name);
	return PROTO_OK;
}

/*
 * Reserve a port and the name in one transaction: the row says
 * 'creating' until LXD has made the container.
 */
static int
reserve(struct ctx *c, const char *name, const char *image, struct ct *ct)
{
	const struct config *cfg = &c->srv->cfg;
	int lo = cfg->ssh_port_min, hi = cfg->ssh_port_max;

	if (db_begin(c->db) != 0)
		return ctx_error(c, "database busy: %s", c->db->err);
	if (ctdb_exists(c->db, c->id.user_id, name)) {
		db_rollback(c->db);
		return ctx_error(c, "you have a container named %s already",
		    name);
	}
	memset(ct, 0, sizeof(*ct));
	if ((ct->port = port_pick(c->db, lo, hi, cfg->ssh_listen)) == 0) {
		db_rollback(c->db);
		return ctx_error(c, "no free SSH port left in %d-%d: the admin "
		    "should widen ssh_ports", lo, hi);
	}
	ct->user_id = c->id.user_id;
	snprintf(ct->name, sizeof(ct->name), "%s", name);
	snprintf(ct->image, sizeof(ct->image), "%s", image);
	snprintf(ct->state, sizeof(ct->state), "creating");
	ct->created = (long long)time(NULL);
	if (ctdb_insert(c->db, ct) != 0 || db_commit(c->db) != 0) {
		db_rollback(c->db);
		return ctx_error(c, "cannot record the container: %s",
		    c->db->err);
	}
	return ct_get(c, name, ct) == 0 ? PROTO_OK :
	    ctx_error(c, "the container's record vanished");
}

static void
forget(struct ctx *c, const struct ct *ct)
{
	if (ctdb_delete(c->db, ct->id) != 0)
		log_error("cannot remove container %s of %s from the database: "
		    "%s", ct->name, c->id.user, c->db->err);
}

/* A count of the user's containers against limits.containers. */
static int
check_count(struct ctx *c, json_t *limits)
{
	const char *max = json_string_value(json_object_get(limits,
	    "limits.containers"));
	int n;

	if (max == NULL || *max == '\0')
		return PROTO_OK;
	n = ctdb_count(c->db, c->id.user_id);
	if (n >= atoi(max))
		return ctx_error(c, "quota: you may have %s container%s and "
		    "have %d; delete one, or ask your admin for more", max,
		    strcmp(max, "1") == 0 ? "" : "s", n);
	return PROTO_OK;
}

/* Say a failure of LXD's in the user's terms. */
static int
lxd_refused(struct ctx *c, const char *what, const char *name)
{
	const char *e = ctx_lxd_error(c);

	switch (lxd_refusal(ctx_lxd(c))) {
	case LXD_REFUSED_DNS_NAME:
		return ctx_error(c, "%s %s failed: another container named %s "
		    "is running on the same LXD network, which puts names in "
		    "DNS; the admin should run 'lxc network set NETWORK "
		    "dns.mode none' (%s)", what, name, name, e);
	case LXD_REFUSED_INSTANCES:
		return ctx_error(c, "quota: you may not have more containers "
		    "(%s)", e);
	case LXD_REFUSED_LIMITS:
		return ctx_error(c, "quota: %s %s would pass your limits: %s",
		    what, name, e);
	default:
		return ctx_error(c, "%s %s failed: %s", what, name, e);
	}
}

/*
 * LXD did not say how it ended: it went away, or the operation vanished.
 * Whatever it did is for reconciliation to find.
 */
static int
outcome_unknown(int r)
{
	return r == -ECONNREFUSED || r == -ECONNRESET || r == -ETIMEDOUT ||
	    r == -ESTALE || r == -EPROTO;
}

/* Start, stop and the like need a container that was made whole. */
int
ct_check_ready(struct ctx *c, const struct ct *ct)
{
	if (strcmp(ct->state, "creating") == 0)
		return ctx_error(c, "%s is still being created, or its creation "
		    "failed and labcd removes what was made once LXD answers; "
		    "see 'list', or 'delete %s'", ct->name, ct->name);
	if (strcmp(ct->state, "deleting") == 0)
		return ctx_error(c, "%s is being deleted; labcd finishes that "
		    "once LXD answers", ct->name);
	return PROTO_OK;
}

static int
delete_failed(struct ctx *c, struct ct *ct, int r, const char *what)
{
	if (outcome_unknown(r)) {
		/* The row stays 'deleting': reconciliation finishes it. */
		reconcile_soon();
		return ctx_error(c, "%s %s failed: %s; labcd finishes the "
		    "deletion once LXD answers again", what, ct->name,
		    ctx_lxd_error(c));
	}
	(void)ctdb_set_state(c->db, ct->id, "ready");
	return lxd_refused(c, what, ct->name);
}

/*
 * --disk, or default_disk, on a pool that cannot keep a root disk to its
 * size (dir) is refused: it would promise a limit nobody enforces.
 */
static int
disk_enforced(struct ctx *c, const struct ct_opts *o, const char *quota)
{
	char *pool = pool_root(ctx_op(c)), what[128];
	int r;

	if (pool == NULL)
		return PROTO_OK;	/* said below, where it matters */
	if (o->disk != NULL)
		snprintf(what, sizeof(what), "--disk %s", o->disk);
	else if (quota != NULL)
		snprintf(what, sizeof(what), "your disk quota (%s, which gives "
		    "each container a 10GiB disk)", quota);
	else
		snprintf(what, sizeof(what), "default_disk = %s (labcd.conf)",
		    c->srv->cfg.default_disk);
	r = sizes_disk_refused(c, pool, what, o->disk != NULL ?
	    "Leave --disk out, or ask the admin to " SIZES_POOL_FIX "." :
	    quota != NULL ? "The admin should remove the disk quota "
	    "('admin quota set USER disk=' and quota_disk in labcd.conf), "
	    "or " SIZES_POOL_FIX "." :
	    "The admin should remove default_disk, or " SIZES_POOL_FIX ".");
	free(pool);
	return r;
}

/* What a new container is made with, worked out before its row. */
struct make {
	const char	*image, *cpu, *mem, *disk;
	const char	*quota;		/* the project's limits.disk, if used */
	char		*fp;		/* the image's fingerprint */
	char		 project[64];
};

/*
 * The project (made if need be), the image, the count quota, and the
 * sizes: LXD wants each instance to set what its project limits; a size
 * asked for, configured or the quota's, that the pool would not keep is
 * refused. 0, or a PROTO_* status said (m->fp freed).
 */
static int
create_prepare(struct ctx *c, const struct ct_opts *o, struct make *m)
{
	const struct config *cfg = &c->srv->cfg;
	struct lxd *l = ctx_lxd(c);
	json_t *limits;
	int r;

	memset(m, 0, sizeof(*m));
	m->image = o->image != NULL ? o->image : cfg->default_image;
	m->cpu = o->cpu != NULL ? o->cpu : cfg->default_cpu;
	m->mem = o->memory != NULL ? o->memory : cfg->default_memory;
	m->disk = o->disk != NULL ? o->disk : cfg->default_disk;
	/* The project's limits: what each instance must then set itself. */
	if (project_ensure(ctx_op(c), c->id.user_id, c->id.user, &limits) != 0)
		return ctx_fail(c, ctx_op(c));
	project_of(ctx_op(c), c->id.user_id, c->id.user, m->project);
	if (lxd_image_resolve(l, m->project, m->image, &m->fp) != 0) {
		r = ctx_error(c, "%s", lxd_error(l));
		goto out;
	}
	if ((r = check_count(c, limits)) != 0)
		goto out;
	if ((m->cpu == NULL || *m->cpu == '\0') &&
	    json_object_get(limits, "limits.cpu") != NULL)
		m->cpu = "1";
	if ((m->mem == NULL || *m->mem == '\0') &&
	    json_object_get(limits, "limits.memory") != NULL)
		m->mem = "1GiB";
	if ((m->disk == NULL || *m->disk == '\0') &&
	    json_object_get(limits, "limits.disk") != NULL) {
		m->disk = "10GiB";
		m->quota = json_string_value(json_object_get(limits,
		    "limits.disk"));
	}
	if (m->disk != NULL && *m->disk != '\0')
		r = disk_enforced(c, o, m->quota);
out:
	json_decref(limits);
	if (r != 0) {
		free(m->fp);
		m->fp = NULL;
	}
	return r;
}

/*
 * The new instance's config and devices (caller decrefs both, also on
 * failure). 0, or PROTO_FAILED said.
 */
static int
create_spec(struct ctx *c, const struct ct_opts *o, const struct make *m,
    const struct gpu_req *gpus, const struct ct *ct, json_t **conf,
    json_t **devs)
{
	const struct config *cfg = &c->srv->cfg;
	json_t *drv;
	char *pool;

	*conf = json_pack("{s:s}", PROJECT_OWNER_KEY, c->id.user);
	if (m->cpu != NULL && *m->cpu != '\0')
		json_object_set_new(*conf, "limits.cpu", json_string(m->cpu));
	if (m->mem != NULL && *m->mem != '\0')
		json_object_set_new(*conf, "limits.memory",
		    json_string(m->mem));
	/*
	 * The ssh device. Not for a launch: its start adds it while the
	 * container boots (ssh_dev_start), a second saved; should labcd
	 * die before, reconciliation adds it (reconcile.c).
	 */
	*devs = gpu_devices(gpus);
	if (!o->starting)
		json_object_set_new(*devs, "ssh", ct_ssh_device(cfg, ct->port));
	if (gpus->n > 0 && (drv = gpu_driver_config(cfg)) != NULL) {
		json_object_update(*conf, drv);
		json_decref(drv);
	}
	if ((m->disk == NULL || *m->disk == '\0') && *cfg->storage_pool ==
	    '\0')
		return PROTO_OK;
	if ((pool = pool_root(ctx_op(c))) == NULL)
		return ctx_error(c, "no storage pool for the root disk: set "
		    "storage_pool, or a root disk in the profiles");
	json_object_set_new(*devs, "root", json_pack("{s:s, s:s, s:s}",
	    "type", "disk", "path", "/", "pool", pool));
	if (m->disk != NULL && *m->disk != '\0')
		json_object_set_new(json_object_get(*devs, "root"), "size",
		    json_string(m->disk));
	free(pool);
	return PROTO_OK;
}

/* Ask LXD to make it, with the configured profiles. LXD's errno. */
static int
create_instance(struct ctx *c, const char *name, const struct make *m,
    json_t *conf, json_t *devs)
{
	struct lxd_create lc = { .name = name };
	char *plist = xstrdup(c->srv->cfg.profiles), *save = NULL, *p;
	char **profiles = xcalloc(strlen(plist) / 2 + 2, sizeof(char *));
	size_t np = 0;
	int r;

	for (p = strtok_r(plist, ", ", &save); p != NULL;
	    p = strtok_r(NULL, ", ", &save))
		profiles[np++] = p;
	lc.image_fingerprint = m->fp;
	lc.profiles = (const char *const *)profiles;
	lc.config = conf;
	lc.devices = devs;
	ctx_progress(c, "Creating %s", name);
	r = lxd_instance_create(ctx_lxd(c), m->project, &lc);
	free(profiles);
	free(plist);
	return r;
}

static int
create(struct ctx *c, const char *name, const struct ct_opts *o,
    struct ct *ct)
{
	const struct config *cfg = &c->srv->cfg;
	struct gpu_req gpus;
	struct make m;
	json_t *conf = NULL, *devs = NULL;
	int r;

	if ((r = create_prepare(c, o, &m)) != 0)
		return r;
	if ((r = gpu_request(c, o->gpu != NULL ? o->gpu : cfg->gpu_default,
	    o->exclusive, &gpus)) != 0) {
		free(m.fp);
		return r;
	}
	if ((r = reserve(c, name, m.image, ct)) != 0)
		goto keep;
	if ((r = gpu_reserve(c, c->id.user_id, ct->id, &gpus)) != 0 ||
	    (r = create_spec(c, o, &m, &gpus, ct, &conf, &devs)) != 0)
		goto fail;
	r = create_instance(c, name, &m, conf, devs);
	if (r != 0 && outcome_unknown(r)) {
		/*
		 * LXD went away mid-way: it may have made the container or
		 * part of it. The row stays 'creating', its port reserved,
		 * until reconciliation removes what was made.
		 */
		r = ctx_error(c, "creating %s failed: %s; labcd removes what "
		    "was made once LXD answers again", name, ctx_lxd_error(c));
		reconcile_soon();
		goto keep;
	}
	if (r != 0) {
		r = lxd_refused(c, "creating", name);
		goto fail;
	}
	if (ctdb_set_state(c->db, ct->id, "ready") != 0) {
		/* Still 'creating': reconciliation removes it, as said. */
		r = ctx_error(c, "creating %s: LXD made it, but labcd cannot "
		    "record that (%s); it will be removed", name, c->db->err);
		reconcile_soon();
		goto keep;
	}
	snprintf(ct->state, sizeof(ct->state), "ready");
	/* The keys go in with the container user, at the first start. */
	r = PROTO_OK;
	goto keep;
fail:
	forget(c, ct);		/* its GPU rows go with it */
keep:
	json_decref(conf);
	json_decref(devs);
	gpu_request_free(&gpus);
	free(m.fp);
	return r;
}

int
ct_ssh_lock(struct ctx *c, long long user_id, const char *user, int locked)
{
	struct lxd *l = ctx_lxd(c);
	char project[64];
	struct ct *cts;
	json_t *patch;
	size_t i, n;
	int left = 0, r;

	project_of(ctx_op(c), user_id, user, project);
	ctdb_list(c->db, user_id, 1, &cts, &n);
	for (i = 0; i < n; i++) {
		const char *name = cts[i].name;
		int port = cts[i].port;

		/* A request on it: reconciliation does it afterwards. */
		if (ct_claim(user_id, name) != 0) {
			log_warn("%s/%s is busy: its ssh port is %s by "
			    "reconciliation", project, name, locked ?
			    "taken away" : "given back");
			left++;
			continue;
		}
		if (locked)
			r = lxd_instance_remove_device(l, project, name, "ssh");
		else {
			patch = ct_ssh_patch(&c->srv->cfg, port);
			r = lxd_instance_patch(l, project, name, patch);
			json_decref(patch);
		}
		ct_release(user_id, name);
		if (r != 0 && r != -ENOENT) {
			log_warn("%s/%s: ssh port %d not %s: %s", project, name,
			    port, locked ? "taken away" : "given back",
			    lxd_error(l));
			left++;
		}
	}
	free(cts);
	if (left > 0)
		reconcile_soon();
	return left;
}

int
ct_status(struct ctx *c, const struct ct *ct, char **status)
{
	char project[64];
	json_t *st = NULL;
	int r;

	*status = NULL;
	project_of(ctx_op(c), ct->user_id, c->id.user, project);
	r = lxd_instance_state(ctx_lxd(c), project, ct->name, &st);
	if (r == 0 && lxd_state_status(st) != NULL)
		*status = xstrdup(lxd_state_status(st));
	json_decref(st);
	if (r != 0 && r != -ENOENT)
		return ctx_error(c, "%s", ctx_lxd_error(c));
	return PROTO_OK;
}

/*
 * Adding the ssh device to a running container, on a connection of its
 * own. LXD starts a proxy device's forkproxy and then sleeps a whole
 * second before it looks whether it came up (LXD 5.0, device/proxy.go),
 * so a start with the device in the config takes a second longer. At
 * the first start the device is added beside the container's boot and
 * the making of the user, which take that long anyway.
 */
struct ssh_dev {
	pthread_t	 t;
	const char	*socket;
	const char	*project;
	const char	*name;
	json_t		*patch;
	int		 skipped;	/* its user is locked: no thread */
	int		 r;
	char		 err[512];
};

static void *
ssh_dev_main(void *arg)
{
	struct ssh_dev *d = arg;
	struct lxd *l = lxd_new(*d->socket != '\0' ? d->socket : NULL);

	if (l == NULL) {
		d->r = -ENOMEM;
		snprintf(d->err, sizeof(d->err), "out of memory");
		return NULL;
	}
	/* Idempotent: a container made by an older labcd has it already. */
	d->r = lxd_instance_patch(l, d->project, d->name, d->patch);
	if (d->r != 0)
		snprintf(d->err, sizeof(d->err), "%s", lxd_error(l));
	lxd_free(l);
	return NULL;
}

static int
ssh_dev_start(struct ctx *c, struct ssh_dev *d, const char *project,
    const struct ct *ct)
{
	memset(d, 0, sizeof(*d));
	/*
	 * Locked while the launch ran: no port (admin user lock took the
	 * others away, and left this one busy to reconciliation).
	 */
	if (userdb_locked(c->db, ct->user_id)) {
		log_warn("%s/%s: its user is locked: no ssh device added",
		    project, ct->name);
		d->skipped = 1;
		return 0;
	}
	d->socket = c->srv->cfg.lxd_socket;
	d->project = project;
	d->name = ct->name;
	d->patch = ct_ssh_patch(&c->srv->cfg, ct->port);
	if (pthread_create(&d->t, NULL, ssh_dev_main, d) != 0) {
		json_decref(d->patch);
		return -1;
	}
	return 0;
}

static int
ssh_dev_wait(struct ssh_dev *d)
{
	if (d->skipped)
		return 0;
	pthread_join(d->t, NULL);
	json_decref(d->patch);
	return d->r;
}

int
ct_start(struct ctx *c, struct ct *ct, int say_ready)
{
	struct lxd *l = ctx_lxd(c);
	struct ssh_dev dev;
	char project[64];
	char why[400];
	int r, dr, stopped;

	if ((r = ct_check_ready(c, ct)) != 0)
		return r;
	project_of(ctx_op(c), ct->user_id, c->id.user, project);
	/* Its own bridge, once none of the member's containers runs. */
	if (c->srv->cfg.isolate_members &&
	    project_sync_profiles(ctx_op(c), project, why, sizeof(why)) != 0)
		return ctx_error(c, "cannot start %s: %s", ct->name, why);
	gpu_driver_ensure(c, project, ct->name, ct->id);
	ctx_progress(c, "Starting %s", ct->name);
	r = lxd_instance_set_state(l, project, ct->name, "start", -1, 0);
	if (r != 0 && r != -EALREADY)
		return lxd_refused(c, "starting", ct->name);
	if (!ct->provisioned) {
		if (ssh_dev_start(c, &dev, project, ct) != 0)
			return ctx_error(c, "cannot start a thread to add the "
			    "ssh device of %s", ct->name);
		ctx_progress(c, "Making the user %s",
		    c->srv->cfg.container_user);
		r = ct_provision(c, project, ct, &stopped);
		/*
		 * Seen under load: LXD says started, and the container's init
		 * is gone a moment later. One more start, then say so.
		 */
		if (r != 0 && stopped) {
			buf_reset(&c->err);
			log_warn("%s/%s stopped right after starting; starting "
			    "it again", project, ct->name);
			(void)ssh_dev_wait(&dev);
			sleep(1);
			if ((r = lxd_instance_set_state(l, project, ct->name,
			    "start", -1, 0)) != 0 && r != -EALREADY)
				return lxd_refused(c, "starting", ct->name);
			if (ssh_dev_start(c, &dev, project, ct) != 0)
				return ctx_error(c, "cannot start a thread to "
				    "add the ssh device of %s", ct->name);
			r = ct_provision(c, project, ct, &stopped);
		}
		dr = ssh_dev_wait(&dev);
		if (r != 0)
			return r;
		if (dr != 0)
			return ctx_error(c, "adding the ssh port %d to %s "
			    "failed: %s", ct->port, ct->name, dev.err);
		/* Only now: a failure above is mended at the next start. */
		(void)ctdb_set_provisioned(c->db, ct->id);
		ct->provisioned = 1;
	} else if (!ct->keys_synced)
		ct_keys_refresh(c, project, ct);
	if (!say_ready)
		return PROTO_OK;
	ctx_progress(c, "Waiting for ssh on port %d", ct->port);
	{
		struct buf lim = BUF_INIT(0);

		(void)sizes_line_get(c, ct, &lim);
		if (ct_ssh_answers(c->srv->cfg.ssh_listen, ct->port))
			ctx_printf(c, "%s is running: %s\n", ct->name,
			    buf_str(&lim));
		else
			ctx_printf(c, "%s is running: %s\nIts sshd did not "
			    "answer within %d s; try later.\n", ct->name,
			    buf_str(&lim), SSH_WAIT);
		buf_free(&lim);
	}
	ct_say_connect(c, ct->name, ct->port);
	return PROTO_OK;
}

int
ct_stop(struct ctx *c, struct ct *ct, int force)
{
	struct lxd *l = ctx_lxd(c);
	char project[64];
	int r;

	if (ct_check_ready(c, ct) != 0)
		return PROTO_FAILED;
	project_of(ctx_op(c), ct->user_id, c->id.user, project);
	r = lxd_instance_set_state(l, project, ct->name, "stop",
	    force ? -1 : STOP_TIMEOUT, force);
	if (r == 0 || r == -EALREADY)
		return PROTO_OK;
	if (!force)
		return ctx_error(c, "%s did not shut down cleanly within %d s "
		    "(%s): 'stop -f %s' stops it at once", ct->name,
		    STOP_TIMEOUT, lxd_error(l), ct->name);
	return lxd_refused(c, "stopping", ct->name);
}

static int
delete(struct ctx *c, struct ct *ct, int force)
{
	struct lxd *l = ctx_lxd(c);
	char project[64], *status;
	int r;

	if ((r = ct_status(c, ct, &status)) != 0)
		return r;
	project_of(ctx_op(c), ct->user_id, c->id.user, project);
	if (status != NULL && strcmp(status, "Stopped") != 0 && !force) {
		r = ctx_error(c, "%s is %s: stop it first, or 'delete -f %s'",
		    ct->name, status, ct->name);
		free(status);
		return r;
	}
	(void)ctdb_set_state(c->db, ct->id, "deleting");
	if (status != NULL && strcmp(status, "Stopped") != 0 &&
	    (r = lxd_instance_set_state(l, project, ct->name, "stop", -1,
	    1)) != 0 && r != -EALREADY) {
		free(status);
		return delete_failed(c, ct, r, "stopping");
	}
	r = status != NULL ? lxd_instance_delete(l, project, ct->name) : 0;
	free(status);
	if (r != 0 && r != -ENOENT)
		return delete_failed(c, ct, r, "deleting");
	forget(c, ct);
	return PROTO_OK;
}

int
ct_create(struct ctx *c, const char *name, const struct ct_opts *o,
    struct ct *ct)
{
	int r;

	if ((r = ct_claim_name(c, c->id.user_id, name)) != 0)
		return r;
	r = create(c, name, o, ct);
	ct_release(c->id.user_id, name);
	return r;
}

int
ct_delete(struct ctx *c, struct ct *ct, int force)
{
	char name[64];
	long long user_id = ct->user_id;
	int r;

	snprintf(name, sizeof(name), "%s", ct->name);
	if ((r = ct_claim_name(c, user_id, name)) != 0)
		return r;
	/* The row may have changed while another request held it. */
	if (ctdb_get_by_id(c->db, ct->id, ct) != 0) {
		ct_release(user_id, name);
		return ctx_error(c, "%s is gone already", name);
	}
	r = delete(c, ct, force);
	ct_release(user_id, name);
	return r;
}

int
ct_opts_from_args(struct ctx *c, struct ct_opts *o)
{
	const char *v;
	char *end;
	long n;

	memset(o, 0, sizeof(*o));
	o->image = cmd_opt(c, "image");
	if (o->image != NULL && (*o->image == '\0' || strlen(o->image) > 128))
		return ctx_usage(c, "--image needs an image alias or "
		    "fingerprint (see 'images')");
	if ((v = cmd_opt(c, "cpu")) != NULL) {
		/* Digits only: strtol would take " 4" and "+4", and LXD
		   gets the text as it is. */
		n = strtol(v, &end, 10);
		if (*v == '\0' || strspn(v, "0123456789") != strlen(v) ||
		    strlen(v) > 4 || n < 1 || n > 1024)
			return ctx_usage(c, "--cpu needs a number of CPUs from "
			    "1 to 1024, in digits only (such as 4), not "
			    "'%.32s'", v);
		o->cpu = v;
	}
	if ((v = cmd_opt(c, "memory")) != NULL) {
		if (!config_size_valid(v) || *v == '0')
			return ctx_usage(c, "--memory needs a size such as "
			    "512MiB or 8GiB (at most 15 digits)");
		o->memory = v;
	}
	o->gpu = cmd_opt(c, "gpu");
	o->exclusive = cmd_opt(c, "exclusive") != NULL;
	if (o->exclusive && o->gpu == NULL)
		return ctx_usage(c, "--exclusive goes with --gpu LIST");
	if (o->exclusive && gpu_exclusive_allowed(c) != 0)
		return PROTO_FAILED;
	if ((v = cmd_opt(c, "disk")) != NULL) {
		if (!config_size_valid(v) || *v == '0')
			return ctx_usage(c, "--disk needs a size such as 10GiB "
			    "(at most 15 digits)");
		o->disk = v;
	}
	return PROTO_OK;
}
