/*
 * ct.c - lab users' containers: create, start, stop, delete, and taking
 * their ssh ports away from a locked user. Their rows are in
 * db-containers.c, who changes one now in claim.c, the owner's keys in
 * ct-keys.c, the ssh device in ct-ssh.c, projects in project.c.
 * The database holds what labcd promised (name, port); LXD holds what
 * exists. A row is written before LXD is asked and removed if LXD fails,
 * so a port is never given twice and nothing is left half made.
 * Every function takes the operation context (op.h), not the request:
 * a failure returns PROTO_FAILED with its reason in op->cause, which the
 * command says (ct-cmd.c holds the command layer's side).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ct-addr.h"
#include "cluster.h"
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
#include "seed.h"
#include "sizes.h"
#include "snap.h"
#include "xmalloc.h"

#define STOP_TIMEOUT	30	/* seconds for a clean shutdown */
#define CLAIM_WAIT	40	/* seconds for reconciliation to let go */

int
ct_get(struct op *op, const char *name, struct ct *ct)
{
	return ctdb_get(op->db, op->actor->user_id, name, ct);
}

/*
 * Reserve a port and the name in one transaction: the row says
 * 'creating' until LXD has made the container.
 */
static int
reserve(struct op *op, const char *name, const char *image, struct ct *ct)
{
	const struct config *cfg = &op->srv->cfg;
	int lo = cfg->ssh_port_min, hi = cfg->ssh_port_max;

	if (db_begin(op->db) != 0)
		return op_error(op, "database busy: %s", op->db->err);
	if (ctdb_exists(op->db, op->actor->user_id, name)) {
		db_rollback(op->db);
		return op_error(op, "you have a container named %s already",
		    name);
	}
	memset(ct, 0, sizeof(*ct));
	if ((ct->port = port_pick(op->db, lo, hi, config_lxd_local(cfg) ?
	    cfg->ssh_listen : NULL, NULL)) == 0) {
		db_rollback(op->db);
		return op_error(op, "no free SSH port left in %d-%d: the admin "
		    "should widen ssh_ports", lo, hi);
	}
	ct->user_id = op->actor->user_id;
	snprintf(ct->name, sizeof(ct->name), "%s", name);
	snprintf(ct->image, sizeof(ct->image), "%s", image);
	snprintf(ct->state, sizeof(ct->state), "creating");
	ct->created = (long long)time(NULL);
	if (ctdb_insert(op->db, ct) != 0 || db_commit(op->db) != 0) {
		db_rollback(op->db);
		return op_error(op, "cannot record the container: %s",
		    op->db->err);
	}
	return ct_get(op, name, ct) == 0 ? PROTO_OK :
	    op_error(op, "the container's record vanished");
}

static void
forget(struct op *op, const struct ct *ct)
{
	if (ctdb_delete(op->db, ct->id) != 0)
		log_error("cannot remove container %s of %s from the database: "
		    "%s", ct->name, op->actor->user, op->db->err);
}

/* A count of the user's containers against limits.containers. */
static int
check_count(struct op *op, json_t *limits)
{
	const char *max = json_string_value(json_object_get(limits,
	    "limits.containers"));
	int n;

	if (max == NULL || *max == '\0')
		return PROTO_OK;
	n = ctdb_count(op->db, op->actor->user_id);
	if (n >= atoi(max))
		return op_error(op, "quota: you may have %s container%s and "
		    "have %d; delete one, or ask your admin for more", max,
		    strcmp(max, "1") == 0 ? "" : "s", n);
	return PROTO_OK;
}

/* Say a failure of LXD's in the user's terms. */
static int
lxd_refused(struct op *op, const char *what, const char *name)
{
	const char *e = op_lxd_error(op);

	switch (lxd_refusal(op_lxd(op))) {
	case LXD_REFUSED_DNS_NAME:
		return op_error(op, "%s %s failed: another container named %s "
		    "is running on the same LXD network, which puts names in "
		    "DNS; the admin should run 'lxc network set NETWORK "
		    "dns.mode none' (%s)", what, name, name, e);
	case LXD_REFUSED_INSTANCES:
		return op_error(op, "quota: you may not have more containers "
		    "(%s)", e);
	case LXD_REFUSED_LIMITS:
		return op_error(op, "quota: %s %s would pass your limits: %s",
		    what, name, e);
	case LXD_REFUSED_DISK_FULL:
		return op_error(op, "%s %s failed: its disk is full (%s): make "
		    "room inside it, give it more with 'set %s --disk SIZE' "
		    "within your quota, or 'delete -f %s'", what, name, e,
		    name, name);
	default:
		return op_error(op, "%s %s failed: %s", what, name, e);
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
ct_check_ready(struct op *op, const struct ct *ct)
{
	if (strcmp(ct->state, "creating") == 0)
		return op_error(op, "%s is still being created, or its creation "
		    "failed and labcd removes what was made once LXD answers; "
		    "see 'list', or 'delete %s'", ct->name, ct->name);
	if (strcmp(ct->state, "deleting") == 0)
		return op_error(op, "%s is being deleted; labcd finishes that "
		    "once LXD answers", ct->name);
	/* On a cluster member that is down, LXD would wait and then fail. */
	if (op->actor != NULL && op->actor->user_id == ct->user_id) {
		char project[64], why[400];

		project_of(op, ct->user_id, op->actor->user, project);
		if (cluster_ct_down(project, ct->name, why, sizeof(why)))
			return op_error(op, "%s", why);
	}
	return PROTO_OK;
}

static int
delete_failed(struct op *op, struct ct *ct, int r, const char *what)
{
	if (outcome_unknown(r)) {
		/* The row stays 'deleting': reconciliation finishes it. */
		reconcile_soon();
		return op_error(op, "%s %s failed: %s; labcd finishes the "
		    "deletion once LXD answers again", what, ct->name,
		    op_lxd_error(op));
	}
	(void)ctdb_set_state(op->db, ct->id, "ready");
	return lxd_refused(op, what, ct->name);
}

/*
 * --disk, or default_disk, on a pool that cannot keep a root disk to its
 * size (dir) is refused: it would promise a limit nobody enforces.
 */
static int
disk_enforced(struct op *op, const struct ct_opts *o, const char *quota)
{
	char *pool = pool_root(op), what[128];
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
		    op->srv->cfg.default_disk);
	r = sizes_disk_refused(op, pool, what, o->disk != NULL ?
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
	char		 copy_of[130];	/* a copy's source: NAME[/SNAP] */
	json_t		*masked;	/* a copy's source's GPU devices, for
					   devices of type none over them */
	char		 server[MEMBER_NAME_MAX];	/* the cluster member,
					   "" not a cluster */
};

/*
 * A copy's source: NAME or NAME/SNAP, and the names of its GPU devices,
 * which the copy must not have (it asks for GPUs of its own). 0, or
 * PROTO_FAILED said.
 */
static int
copy_source(struct op *op, const struct ct_opts *o, struct make *m)
{
	json_t *src = NULL, *d;
	const char *k;
	int r;

	snprintf(m->copy_of, sizeof(m->copy_of), "%s%s%s", o->copy->name,
	    o->copy_snap != NULL ? "/" : "", o->copy_snap != NULL ?
	    o->copy_snap : "");
	if (o->copy_snap == NULL)
		r = lxd_instance_get(op_lxd(op), m->project, o->copy->name, &src);
	else if ((r = snap_find(op, m->project, o->copy->name, o->copy_snap,
	    &src)) != 0)
		return r;
	if (r != 0)
		return op_error(op, "cannot read %s: %s", m->copy_of,
		    op_lxd_error(op));
	m->masked = json_array();
	json_object_foreach(json_object_get(src, "devices"), k, d) {
		const char *type = json_string_value(json_object_get(d, "type"));

		if (type != NULL && strcmp(type, "gpu") == 0)
			json_array_append_new(m->masked, json_string(k));
	}
	json_decref(src);
	return PROTO_OK;
}

/*
 * The project (made if need be), the image, the count quota, and the
 * sizes: LXD wants each instance to set what its project limits; a size
 * asked for, configured or the quota's, that the pool would not keep is
 * refused. 0, or a PROTO_* status said (m->fp freed).
 */
static int
create_prepare(struct op *op, const struct ct_opts *o, struct make *m)
{
	const struct config *cfg = &op->srv->cfg;
	struct lxd *l = op_lxd(op);
	json_t *limits;
	int r = 0;

	memset(m, 0, sizeof(*m));
	m->image = o->image != NULL ? o->image : cfg->default_image;
	m->cpu = o->cpu != NULL ? o->cpu : cfg->default_cpu;
	m->mem = o->memory != NULL ? o->memory : cfg->default_memory;
	m->disk = o->disk != NULL ? o->disk : cfg->default_disk;
	if (o->copy != NULL) {
		/* The source's image and sizes, unless asked otherwise. */
		m->image = o->copy->image;
		m->cpu = o->cpu;
		m->mem = o->memory;
		m->disk = o->disk;
	}
	/* The project's limits: what each instance must then set itself. */
	if (project_ensure(op, op->actor->user_id, op->actor->user,
	    &limits) != 0)
		return PROTO_FAILED;
	project_of(op, op->actor->user_id, op->actor->user, m->project);
	if (o->copy != NULL)
		r = copy_source(op, o, m);
	else if (lxd_image_resolve(l, m->project, m->image, &m->fp) != 0)
		r = op_error(op, "%s", lxd_error(l));
	if (r != 0 || (r = check_count(op, limits)) != 0)
		goto out;
	if (o->copy != NULL) {
		/* Its source set what the project's limits ask for. */
		if (m->disk != NULL)
			r = disk_enforced(op, o, NULL);
		goto out;
	}
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
		r = disk_enforced(op, o, m->quota);
out:
	json_decref(limits);
	if (r != 0) {
		free(m->fp);
		m->fp = NULL;
		json_decref(m->masked);
		m->masked = NULL;
	}
	return r;
}

/*
 * The new instance's config and devices (caller decrefs both, also on
 * failure). 0, or PROTO_FAILED said.
 */
static int
create_spec(struct op *op, const struct ct_opts *o, const struct make *m,
    const struct gpu_req *gpus, const struct ct *ct, json_t **conf,
    json_t **devs)
{
	const struct config *cfg = &op->srv->cfg;
	json_t *drv, *v;
	char *pool;
	size_t i;

	*conf = json_pack("{s:s}", PROJECT_OWNER_KEY, op->actor->user);
	if (m->cpu != NULL && *m->cpu != '\0')
		json_object_set_new(*conf, "limits.cpu", json_string(m->cpu));
	if (m->mem != NULL && *m->mem != '\0')
		json_object_set_new(*conf, "limits.memory",
		    json_string(m->mem));
	/*
	 * The ssh device. Not for a launch: its start adds it while the
	 * container boots (ssh_dev_start), a second saved; should labcd
	 * die before, reconciliation adds it (reconcile.c). LXD's NAT has
	 * no such second: it comes with the NIC that holds its address.
	 */
	*devs = gpu_devices(gpus);
	if (!o->starting || ct_port_nat(cfg, ct))
		json_object_set_new(*devs, "ssh", ct_ssh_device(cfg, ct->port,
		    ct->addr));
	if (ct_port_nat(cfg, ct))
		json_object_set_new(*devs, "eth0", ct_nic_device(ct->network,
		    ct->addr));
	/* A copy has none of its source's GPUs, but those it asked for. */
	json_array_foreach(m->masked, i, v)
		if (json_object_get(*devs, json_string_value(v)) == NULL)
			json_object_set_new(*devs, json_string_value(v),
			    json_pack("{s:s}", "type", "none"));
	if (gpus->n > 0 && (drv = gpu_driver_config(cfg)) != NULL) {
		json_object_update(*conf, drv);
		json_decref(drv);
	}
	if ((m->disk == NULL || *m->disk == '\0') && *cfg->storage_pool ==
	    '\0')
		return PROTO_OK;
	if ((pool = pool_root(op)) == NULL)
		return op_error(op, "no storage pool for the root disk: set "
		    "storage_pool, or a root disk in the profiles");
	json_object_set_new(*devs, "root", json_pack("{s:s, s:s, s:s}",
	    "type", "disk", "path", "/", "pool", pool));
	if (m->disk != NULL && *m->disk != '\0')
		json_object_set_new(json_object_get(*devs, "root"), "size",
		    json_string(m->disk));
	free(pool);
	return PROTO_OK;
}

/* LXD refused the NAT address: another NIC has it as a static entry. */
static int
addr_taken(struct op *op)
{
	return strstr(op_lxd_error(op), "IP address") != NULL &&
	    strstr(op_lxd_error(op), "already defined on another NIC") != NULL;
}

/*
 * The seed to copy for a new container of image m->fp (seed.c), with
 * the root device the copy is to have in *seed_devs (devs and the
 * profiles' root: else the copy would keep the seed's); 0 if none.
 */
static int
seed_of(struct op *op, const struct make *m, json_t *devs,
    char project[PROJECT_MAX], char seed[SEED_NAME_MAX], json_t **seed_devs)
{
	json_t *root = json_object_get(devs, "root");
	const char *pool;
	int r;

	if (!op->srv->cfg.seed_containers || *m->copy_of != '\0' ||
	    *m->server != '\0' || m->fp == NULL)
		return 0;	/* not on a cluster: a seed per member */
	root = root != NULL ? json_incref(root) : pool_profile_root(op);
	pool = json_string_value(json_object_get(root, "pool"));
	if ((r = seed_find(op, m->fp, pool, project, seed)) == 1) {
		*seed_devs = json_deep_copy(devs);
		json_object_set(*seed_devs, "root", root);
	}
	json_decref(root);
	return r;
}

/*
 * Ask LXD to make it, with the configured profiles: a copy of its seed
 * where there is one, else (or if the copy fails) from the image. LXD's
 * errno.
 */
static int
create_instance(struct op *op, const char *name, const struct make *m,
    json_t *conf, json_t *devs)
{
	struct lxd_create lc = { .name = name };
	char *plist = xstrdup(op->srv->cfg.profiles), *save = NULL, *p;
	char **profiles = xcalloc(strlen(plist) / 2 + 2, sizeof(char *));
	char sproject[PROJECT_MAX], seed[SEED_NAME_MAX];
	json_t *sdevs = NULL;
	size_t np = 0;
	int r;

	for (p = strtok_r(plist, ", ", &save); p != NULL;
	    p = strtok_r(NULL, ", ", &save))
		profiles[np++] = p;
	lc.profiles = (const char *const *)profiles;
	lc.config = conf;
	lc.target = m->server;
	if (seed_of(op, m, devs, sproject, seed, &sdevs) == 1) {
		lc.copy_of = seed;
		lc.copy_project = sproject;
		lc.devices = sdevs;
		op_progress(op, "Creating %s", name);
		r = lxd_instance_create(op_lxd(op), m->project, &lc);
		if (r == 0 || outcome_unknown(r) || r == -EEXIST ||
		    r == -EDQUOT || addr_taken(op)) {
			if (r == 0)
				log_info("%s/%s: a copy of seed %s/%s",
				    m->project, name, sproject, seed);
			json_decref(sdevs);
			goto out;	/* as it would be from the image */
		}
		log_warn("%s/%s: a copy of seed %s/%s failed (%s); made from "
		    "the image", m->project, name, sproject, seed,
		    op_lxd_error(op));
		seed_forget(m->fp, json_string_value(json_object_get(
		    json_object_get(sdevs, "root"), "pool")));
		json_decref(sdevs);
	}
	lc.copy_of = NULL;
	lc.copy_project = NULL;
	lc.devices = devs;
	if (*m->copy_of != '\0')
		lc.copy_of = m->copy_of;
	else
		lc.image_fingerprint = m->fp;
	if (*m->copy_of != '\0')
		op_progress(op, "Copying %s to %s", m->copy_of, name);
	else
		op_progress(op, "Creating %s", name);
	r = lxd_instance_create(op_lxd(op), m->project, &lc);
out:
	free(profiles);
	free(plist);
	return r;
}

static void
make_free(struct make *m)
{
	free(m->fp);
	json_decref(m->masked);
}

/* A copy's devices of type none are for its making only: gone after. */
static void
unmask(struct op *op, const struct make *m, const char *name)
{
	json_t *v;
	size_t i;

	json_array_foreach(m->masked, i, v)
		if (lxd_instance_remove_device(op_lxd(op), m->project, name,
		    json_string_value(v)) != 0)
			log_warn("copy %s/%s: device %s of type none left: %s",
			    m->project, name, json_string_value(v),
			    op_lxd_error(op));
}

static int
create(struct op *op, const char *name, const struct ct_opts *o,
    struct ct *ct)
{
	const struct config *cfg = &op->srv->cfg;
	struct gpu_req gpus;
	struct make m;
	json_t *conf = NULL, *devs = NULL;
	char taken[CT_ADDR_TRIES][16], why[320], srv[64], gwhy[160], *plain;
	const char *avoid[CT_ADDR_TRIES];
	int r, tries, busy = 0;

	if ((r = create_prepare(op, o, &m)) != 0)
		return r;
	/* On a cluster the GPUs asked for may choose the member. */
	snprintf(srv, sizeof(srv), "%s", o->server != NULL ? o->server : "");
	if ((r = gpu_spec_server(op, o->gpu != NULL ? o->gpu :
	    cfg->gpu_default, srv, &plain, gwhy, sizeof(gwhy), &busy)) != 0) {
		if (busy && o->gpu_busy != NULL)
			*o->gpu_busy = 1;
		make_free(&m);
		return r;
	}
	if ((r = cluster_place(op, *srv != '\0' ? srv : NULL, m.server, why,
	    sizeof(why))) != 0) {
		free(plain);
		make_free(&m);
		return r;
	}
	if (*gwhy != '\0')
		snprintf(why, sizeof(why), "%s", gwhy);
	else if (o->server == NULL && *srv != '\0')
		snprintf(why, sizeof(why), "on %s, where the GPUs asked for "
		    "are", srv);
	if (*why != '\0')
		op_progress(op, "Placing %s %s", name, why);
	r = gpu_request(op, m.server, plain, o->exclusive, &gpus);
	free(plain);
	if (r != 0) {
		if (gpus.busy && o->gpu_busy != NULL)
			*o->gpu_busy = 1;
		make_free(&m);
		return r;
	}
	if (gpus.n > 0 && (r = gpu_lease_for(op, o->gpu_for,
	    &gpus.lease)) != 0) {
		gpu_request_free(&gpus);
		make_free(&m);
		return r;
	}
	if ((r = reserve(op, name, m.image, ct)) != 0)
		goto keep;
	if (cfg->ssh_port_nat &&
	    (r = ct_addr_pick(op, m.project, ct, NULL, 0)) != 0)
		goto fail;
	if ((r = gpu_reserve(op, op->actor->user_id, ct->id, &gpus)) != 0 ||
	    (r = create_spec(op, o, &m, &gpus, ct, &conf, &devs)) != 0) {
		if (gpus.busy && o->gpu_busy != NULL)
			*o->gpu_busy = 1;
		goto fail;
	}
	r = create_instance(op, name, &m, conf, devs);
	/*
	 * Another NIC on the bridge has the address as LXD's static entry
	 * (one labcd did not make, or does not know yet): the next one.
	 */
	for (tries = 1; r != 0 && tries < CT_ADDR_TRIES &&
	    ct_port_nat(cfg, ct) && addr_taken(op); tries++) {
		snprintf(taken[tries - 1], sizeof(taken[0]), "%s", ct->addr);
		avoid[tries - 1] = taken[tries - 1];
		log_info("%s/%s: LXD says %s is another NIC's; picking again",
		    m.project, name, ct->addr);
		if ((r = ct_addr_pick(op, m.project, ct, avoid, tries)) != 0)
			goto fail;
		json_object_set_new(devs, "ssh", ct_ssh_device(cfg, ct->port,
		    ct->addr));
		json_object_set_new(devs, "eth0", ct_nic_device(ct->network,
		    ct->addr));
		r = create_instance(op, name, &m, conf, devs);
	}
	if (r != 0 && outcome_unknown(r)) {
		/*
		 * LXD went away mid-way: it may have made the container or
		 * part of it. The row stays 'creating', its port reserved,
		 * until reconciliation removes what was made.
		 */
		r = op_error(op, "creating %s failed: %s; labcd removes what "
		    "was made once LXD answers again", name, op_lxd_error(op));
		reconcile_soon();
		goto keep;
	}
	if (r != 0) {
		r = lxd_refused(op, "creating", name);
		goto fail;
	}
	if (ctdb_set_state(op->db, ct->id, "ready") != 0) {
		/* Still 'creating': reconciliation removes it, as said. */
		r = op_error(op, "creating %s: LXD made it, but labcd cannot "
		    "record that (%s); it will be removed", name, op->db->err);
		reconcile_soon();
		goto keep;
	}
	snprintf(ct->state, sizeof(ct->state), "ready");
	unmask(op, &m, name);
	/* The keys go in with the container user, at the first start. */
	r = PROTO_OK;
	goto keep;
fail:
	forget(op, ct);		/* its GPU rows go with it */
keep:
	json_decref(conf);
	json_decref(devs);
	gpu_request_free(&gpus);
	make_free(&m);
	return r;
}

int
ct_ssh_lock(struct op *op, long long user_id, const char *user, int locked)
{
	struct lxd *l = op_lxd(op);
	char project[64];
	struct ct *cts;
	json_t *patch;
	size_t i, n;
	int left = 0, r;

	project_of(op, user_id, user, project);
	ctdb_list(op->db, user_id, 1, &cts, &n);
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
			patch = ct_ssh_patch(&op->srv->cfg, port,
			    cts[i].network, cts[i].addr);
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
ct_status(struct op *op, const struct ct *ct, char **status)
{
	char project[64];
	json_t *st = NULL;
	int r;

	*status = NULL;
	project_of(op, ct->user_id, op->actor->user, project);
	r = lxd_instance_state(op_lxd(op), project, ct->name, &st);
	if (r == 0 && lxd_state_status(st) != NULL)
		*status = xstrdup(lxd_state_status(st));
	json_decref(st);
	if (r != 0 && r != -ENOENT)
		return op_error(op, "%s", op_lxd_error(op));
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
	struct lxd	*l;		/* its own connection, made here */
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
	struct lxd *l = d->l;

	/* Idempotent: a container made by an older labcd has it already. */
	d->r = lxd_instance_patch(l, d->project, d->name, d->patch);
	if (d->r != 0)
		snprintf(d->err, sizeof(d->err), "%s", lxd_error(l));
	return NULL;
}

static int
ssh_dev_start(struct op *op, struct ssh_dev *d, const char *project,
    const struct ct *ct)
{
	memset(d, 0, sizeof(*d));
	/*
	 * Locked while the launch ran: no port (admin user lock took the
	 * others away, and left this one busy to reconciliation).
	 */
	if (userdb_locked(op->db, ct->user_id)) {
		log_warn("%s/%s: its user is locked: no ssh device added",
		    project, ct->name);
		d->skipped = 1;
		return 0;
	}
	/* LXD's NAT: the create had it already (create_spec). */
	if (ct_port_nat(&op->srv->cfg, ct)) {
		d->skipped = 1;
		return 0;
	}
	d->l = lxd_of_config(&op->srv->cfg);
	d->project = project;
	d->name = ct->name;
	d->patch = ct_ssh_patch(&op->srv->cfg, ct->port, ct->network,
	    ct->addr);
	if (pthread_create(&d->t, NULL, ssh_dev_main, d) != 0) {
		json_decref(d->patch);
		lxd_free(d->l);
		d->l = NULL;
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
	lxd_free(d->l);
	return d->r;
}

/*
 * The first start's work, under the container's claim: the ssh device
 * (beside) and the container user with the keys.
 */
static int
first_start(struct op *op, struct ct *ct, const char *project)
{
	struct lxd *l = op_lxd(op);
	struct ssh_dev dev;
	int r, dr, stopped;

	if (ssh_dev_start(op, &dev, project, ct) != 0)
		return op_error(op, "cannot start a thread to add the ssh "
		    "device of %s", ct->name);
	op_progress(op, "Making the user %s", op->srv->cfg.container_user);
	r = ct_provision(op, project, ct, &stopped);
	/*
	 * Seen under load: LXD says started, and the container's init is
	 * gone a moment later. One more start, then say so.
	 */
	if (r != 0 && stopped) {
		log_warn("%s/%s stopped right after starting; starting it "
		    "again", project, ct->name);
		(void)ssh_dev_wait(&dev);
		sleep(1);
		if ((r = lxd_instance_set_state(l, project, ct->name, "start",
		    -1, 0)) != 0 && r != -EALREADY)
			return lxd_refused(op, "starting", ct->name);
		if (ssh_dev_start(op, &dev, project, ct) != 0)
			return op_error(op, "cannot start a thread to add the "
			    "ssh device of %s", ct->name);
		r = ct_provision(op, project, ct, &stopped);
	}
	dr = ssh_dev_wait(&dev);
	if (r != 0)
		return r;
	if (dr != 0)
		return op_error(op, "adding the ssh port %d to %s failed: %s",
		    ct->port, ct->name, dev.err);
	/* Only now: a failure above is mended at the next start. */
	(void)ctdb_set_provisioned(op->db, ct->id);
	ct->provisioned = 1;
	return PROTO_OK;
}

int
ct_start(struct op *op, struct ct *ct, int *ssh_up)
{
	struct lxd *l = op_lxd(op);
	char project[64], addr[64];
	char why[400];
	int r;

	if ((r = ct_check_ready(op, ct)) != 0)
		return r;
	project_of(op, ct->user_id, op->actor->user, project);
	/* Its own bridge, once none of the member's containers runs. */
	if (op->srv->cfg.isolate_members &&
	    project_sync_profiles(op, project, why, sizeof(why)) != 0)
		return op_error(op, "cannot start %s: %s", ct->name, why);
	if (ct_port_nat(&op->srv->cfg, ct) &&
	    (r = ct_addr_check(op, project, ct)) != PROTO_OK)
		return r;
	gpu_driver_ensure(op, project, ct->name, ct->id);
	op_progress(op, "Starting %s", ct->name);
	r = lxd_instance_set_state(l, project, ct->name, "start", -1, 0);
	if (r != 0 && r != -EALREADY)
		return lxd_refused(op, "starting", ct->name);
	if (!ct->provisioned) {
		/*
		 * Reconciliation adds the ssh device of a container never
		 * started too: two such PATCHes at once both start the device,
		 * and the second finds its port taken by the first.
		 */
		if ((r = ct_claim_wait(op, ct, CLAIM_WAIT)) != PROTO_OK)
			return r;
		r = first_start(op, ct, project);
		ct_release(ct->user_id, ct->name);
		if (r != 0)
			return r;
	} else if (!ct->keys_synced)
		ct_keys_refresh(op, project, ct);
	op_progress(op, "Waiting for ssh on port %d", ct->port);
	(void)cluster_ct_addr(op, project, ct->name, addr, sizeof(addr));
	*ssh_up = ct_ssh_answers(addr, ct->port);
	return PROTO_OK;
}

int
ct_stop(struct op *op, struct ct *ct, int force)
{
	struct lxd *l = op_lxd(op);
	char project[64];
	int r;

	if (ct_check_ready(op, ct) != 0)
		return PROTO_FAILED;
	project_of(op, ct->user_id, op->actor->user, project);
	r = force ? lxd_instance_set_state(l, project, ct->name, "stop", -1,
	    1) : lxd_instance_shutdown(l, project, ct->name, STOP_TIMEOUT);
	if (r == 0 || r == -EALREADY)
		return PROTO_OK;
	if (!force)
		return op_error(op, "%s did not shut down cleanly within %d s "
		    "(%s): 'stop -f %s' stops it at once", ct->name,
		    STOP_TIMEOUT, lxd_error(l), ct->name);
	return lxd_refused(op, "stopping", ct->name);
}

/*
 * A container whose root disk is full cannot stop: LXD's stop writes to
 * its volume (btrfs: "Failed clearing ownership: chown ...: disk quota
 * exceeded"). On its way out it may have 512 MiB more for that. 0 if
 * its disk was grown, else -1.
 */
static int
grow_to_die(struct op *op, const char *project, const struct ct *ct)
{
	struct lxd *l = op_lxd(op);
	const char *size;
	json_t *inst = NULL, *root, *patch;
	char bigger[32];
	long long bytes;
	int r = -1;

	if (lxd_refusal(l) != LXD_REFUSED_DISK_FULL)
		return -1;
	if (lxd_instance_get(l, project, ct->name, &inst) != 0)
		return -1;
	root = json_object_get(json_object_get(inst, "devices"), "root");
	size = json_string_value(json_object_get(root, "size"));
	if (size != NULL && (bytes = config_size_bytes(size)) > 0) {
		config_size_str(bytes + 512LL * 1024 * 1024, bigger,
		    sizeof(bigger));
		patch = json_pack("{s:{s:O}}", "devices", "root", root);
		json_object_set_new(json_object_get(json_object_get(patch,
		    "devices"), "root"), "size", json_string(bigger));
		if (lxd_instance_patch(l, project, ct->name, patch) == 0) {
			log_info("%s/%s: its full root disk (%s) grown to %s "
			    "so that it can stop, to be deleted", project,
			    ct->name, size, bigger);
			r = 0;
		}
		json_decref(patch);
	}
	json_decref(inst);
	return r;
}

static int
delete(struct op *op, struct ct *ct, int force)
{
	struct lxd *l = op_lxd(op);
	char project[64], *status;
	int r;

	if ((r = ct_status(op, ct, &status)) != 0)
		return r;
	project_of(op, ct->user_id, op->actor->user, project);
	if (status != NULL && strcmp(status, "Stopped") != 0 && !force) {
		r = op_error(op, "%s is %s: stop it first, or 'delete -f %s'",
		    ct->name, status, ct->name);
		free(status);
		return r;
	}
	(void)ctdb_set_state(op->db, ct->id, "deleting");
	if (status != NULL && strcmp(status, "Stopped") != 0 &&
	    (r = lxd_instance_set_state(l, project, ct->name, "stop", -1,
	    1)) != 0 && r != -EALREADY && (grow_to_die(op, project, ct) != 0 ||
	    ((r = lxd_instance_set_state(l, project, ct->name, "stop", -1,
	    1)) != 0 && r != -EALREADY))) {
		free(status);
		return delete_failed(op, ct, r, "stopping");
	}
	r = status != NULL ? lxd_instance_delete(l, project, ct->name) : 0;
	free(status);
	if (r != 0 && r != -ENOENT)
		return delete_failed(op, ct, r, "deleting");
	forget(op, ct);
	return PROTO_OK;
}

int
ct_create(struct op *op, const char *name, const struct ct_opts *o,
    struct ct *ct)
{
	int r;

	if ((r = ct_claim_name(op, op->actor->user_id, name)) != 0)
		return r;
	r = create(op, name, o, ct);
	ct_release(op->actor->user_id, name);
	return r;
}

/* The most import reads: the disk quota, else import_max; 0: no cap. */
static long long
import_cap(struct op *op, json_t *limits)
{
	const char *q = json_string_value(json_object_get(limits,
	    "limits.disk"));
	long long quota = q != NULL && *q != '\0' ? config_size_bytes(q) : -1;
	long long max = *op->srv->cfg.import_max != '\0' ?
	    config_size_bytes(op->srv->cfg.import_max) : -1;

	if (quota > 0 && (max <= 0 || quota < max))
		return quota;
	return max > 0 ? max : 0;
}

/* Make an imported instance one of labcd's, or say why it cannot be. */
static int
import_mend(struct op *op, const char *project, struct ct *ct)
{
	struct lxd *l = op_lxd(op);
	json_t *inst = NULL, *snaps = NULL, *d, *patch, *nic;
	const char *k, *bad;
	char why[300];
	size_t i;
	int r;

	if ((r = lxd_instance_get(l, project, ct->name, &inst)) != 0)
		return op_error(op, "cannot read the imported %s: %s", ct->name,
		    op_lxd_error(op));
	/*
	 * An export of a container with a NAT port has its eth0: trusted
	 * on the bridge the profiles give, and taken away below (the
	 * address was another container's, another time's).
	 */
	nic = ct_addr_nic(op, project, why, sizeof(why));
	if ((bad = project_instance_untrusted(inst, NULL, nic,
	    op->srv->cfg.profiles, why, sizeof(why))) != NULL) {
		r = op_error(op, "the tarball's container asks for what yours "
		    "may not have (%s): refused, nothing kept", bad);
		goto out;
	}
	/*
	 * Its snapshots too: LXD 5.0 checks no project restriction on an
	 * import, and a restore brings a snapshot's config back. Their ssh
	 * and GPU devices are mended after a restore (snap.c).
	 */
	if ((r = lxd_snapshot_list(l, project, ct->name, &snaps)) != 0) {
		r = op_error(op, "cannot read the snapshots of the imported "
		    "%s: %s", ct->name, op_lxd_error(op));
		goto out;
	}
	json_array_foreach(snaps, i, d) {
		if ((bad = project_instance_untrusted(d, NULL, nic,
		    op->srv->cfg.profiles, why, sizeof(why))) != NULL) {
			r = op_error(op, "the tarball's snapshot %.64s asks for "
			    "what your containers may not have (%s): refused, "
			    "nothing kept", json_string_value(json_object_get(d,
			    "name")) ?: "?", bad);
			goto out;
		}
	}
	/* Its GPUs were another server's, or another time's; and so was
	   the address its own eth0 held. */
	json_object_foreach(json_object_get(inst, "devices"), k, d) {
		const char *type = json_string_value(json_object_get(d, "type"));

		if (type != NULL && (strcmp(type, "gpu") == 0 ||
		    strcmp(k, "eth0") == 0) &&
		    lxd_instance_remove_device(l, project, ct->name, k) != 0) {
			r = op_error(op, "cannot remove the device %s of the "
			    "imported %s: %s", k, ct->name, op_lxd_error(op));
			goto out;
		}
	}
	patch = json_pack("{s:{s:s}, s:{s:o}}", "config", PROJECT_OWNER_KEY,
	    op->actor->user, "devices", "ssh", ct_ssh_device(&op->srv->cfg,
	    ct->port, NULL));
	if ((r = lxd_instance_patch(l, project, ct->name, patch)) != 0)
		r = op_error(op, "cannot give the imported %s its SSH port: %s",
		    ct->name, op_lxd_error(op));
	json_decref(patch);
out:
	json_decref(nic);
	json_decref(snaps);
	json_decref(inst);
	return r;
}

static int
import(struct op *op, const char *name, int fd, struct ct *ct,
    long long *bytes)
{
	struct lxd *l = op_lxd(op);
	json_t *limits = NULL;
	char project[64], *pool, cap[32];
	long long max;
	int r;

	if (project_ensure(op, op->actor->user_id, op->actor->user,
	    &limits) != 0)
		return PROTO_FAILED;
	project_of(op, op->actor->user_id, op->actor->user, project);
	max = import_cap(op, limits);
	r = check_count(op, limits);
	json_decref(limits);
	if (r != 0 || (r = reserve(op, name, "imported", ct)) != 0)
		return r;
	pool = pool_root(op);
	op_progress(op, "Importing %s", name);
	r = lxd_backup_import(l, project, name, pool, fd, max, bytes);
	free(pool);
	if (r != 0 && outcome_unknown(r)) {
		reconcile_soon();
		return op_error(op, "importing %s failed: %s; labcd removes what "
		    "was made once LXD answers again", name, op_lxd_error(op));
	}
	if (r == -EFBIG) {
		forget(op, ct);
		config_size_str(max, cap, sizeof(cap));
		return op_error(op, "the tarball is larger than %s, the most "
		    "an import may be here, packed or unpacked (your disk "
		    "quota, or import_max): nothing kept", cap);
	}
	if (r == -ENOEXEC) {
		forget(op, ct);
		return op_error(op, "that is not a gzip tarball (what export "
		    "and lxc export write) nor a plain tar: nothing kept. "
		    "Another compression: unpack it, and gzip it");
	}
	if (r == -EBADMSG) {
		forget(op, ct);
		return op_error(op, "the tarball's gzip stream is broken: "
		    "nothing kept");
	}
	if (r == -EAGAIN) {
		forget(op, ct);
		return op_error(op, "nothing came on standard input for %d s "
		    "(transfer_stall): the import of %s is given up, nothing "
		    "kept", op->srv->cfg.transfer_stall, name);
	}
	if (r != 0) {
		forget(op, ct);
		return op_error(op, "LXD could not import %s: %s; nothing kept",
		    name, op_lxd_error(op));
	}
	if ((r = import_mend(op, project, ct)) != 0) {
		if (lxd_instance_delete(l, project, name) != 0) {
			/* The row stays 'creating': reconciliation deletes. */
			log_error("import %s/%s: cannot delete it: %s", project,
			    name, op_lxd_error(op));
			reconcile_soon();
		} else
			forget(op, ct);
		return r;
	}
	if (ctdb_set_state(op->db, ct->id, "ready") != 0) {
		reconcile_soon();
		return op_error(op, "importing %s: LXD made it, but labcd cannot "
		    "record that (%s); it will be removed", name, op->db->err);
	}
	snprintf(ct->state, sizeof(ct->state), "ready");
	return PROTO_OK;
}

int
ct_import(struct op *op, const char *name, int fd, struct ct *ct,
    long long *bytes)
{
	int r;

	*bytes = 0;
	if ((r = ct_claim_name(op, op->actor->user_id, name)) != 0)
		return r;
	r = import(op, name, fd, ct, bytes);
	ct_release(op->actor->user_id, name);
	return r;
}

int
ct_delete(struct op *op, struct ct *ct, int force)
{
	char name[64];
	long long user_id = ct->user_id;
	int r;

	snprintf(name, sizeof(name), "%s", ct->name);
	/* labcd may be mending it (reconcile-watch.c acts at once). */
	if ((r = ct_claim_wait(op, ct, CLAIM_WAIT)) != 0)
		return r;
	/* The row may have changed while another request held it. */
	if (ctdb_get_by_id(op->db, ct->id, ct) != 0) {
		ct_release(user_id, name);
		return op_error(op, "%s is gone already", name);
	}
	r = delete(op, ct, force);
	ct_release(user_id, name);
	return r;
}
