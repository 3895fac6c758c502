/*
 * ct.c - lab users' containers: names, projects, stable ports, create,
 * start with the container user and the owner's keys, stop, delete.
 * The database holds what labcd promised (name, port); LXD holds what
 * exists. A row is written before LXD is asked and removed if LXD fails,
 * so a port is never given twice and nothing is left half made.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ct.h"
#include "gpu.h"
#include "inert.h"
#include "log.h"
#include "lxd.h"
#include "ports.h"
#include "project.h"
#include "proto.h"
#include "reconcile.h"
#include "sizes.h"
#include "xmalloc.h"

#define STOP_TIMEOUT	30	/* seconds for a clean shutdown */

static char	*authorized_keys(struct ctx *c, long long user_id);
static int	 push_keys(struct ctx *c, const char *project,
		    const char *name, const char *keys, int uid, int gid);
#define SSH_WAIT	30	/* seconds for sshd to answer after start */
#define SSH_POLL_MS	50	/* a try is one loopback connect */

/*
 * Reading a user's keys and writing them into containers is one step per
 * user. Two key changes at once each read the keys and then write them;
 * the older read could be written last, leaving a deleted key in (or an
 * added key out of) a container that the database says is synced.
 */
#define KEY_LOCKS	16
static pthread_mutex_t key_locks[KEY_LOCKS];
static pthread_once_t key_locks_once = PTHREAD_ONCE_INIT;

static void
key_locks_init(void)
{
	int i;

	for (i = 0; i < KEY_LOCKS; i++)
		pthread_mutex_init(&key_locks[i], NULL);
}

static pthread_mutex_t *
key_lock(long long user_id)
{
	pthread_once(&key_locks_once, key_locks_init);
	return &key_locks[(unsigned long long)user_id % KEY_LOCKS];
}

/*
 * LXD 5.0 checks a project's limits, then applies a change: two changes
 * of one user's containers at once can each pass the check and together
 * pass the quota. So set's LXD writes take this, one user at a time.
 * create does not: its POST holds for the image copy (minutes).
 */
static pthread_mutex_t quota_locks[KEY_LOCKS];
static pthread_once_t quota_locks_once = PTHREAD_ONCE_INIT;

static void
quota_locks_init(void)
{
	int i;

	for (i = 0; i < KEY_LOCKS; i++)
		pthread_mutex_init(&quota_locks[i], NULL);
}

void
ct_quota_lock(long long user_id)
{
	pthread_once(&quota_locks_once, quota_locks_init);
	pthread_mutex_lock(&quota_locks[(unsigned long long)user_id %
	    KEY_LOCKS]);
}

void
ct_quota_unlock(long long user_id)
{
	pthread_mutex_unlock(&quota_locks[(unsigned long long)user_id %
	    KEY_LOCKS]);
}

void
ct_project_of(struct ctx *c, long long user_id, const char *user,
    char project[64])
{
	char stored[PROJECT_MAX];

	ctdb_user_project(c->db, user_id, stored);
	project_name(c->srv->cfg.project_prefix, stored, user, project);
}

/*
 * An existing project is the user's only if labcd made it for them (its
 * owner key); it is then brought to what labcd makes (project_mend).
 */
static int
adopt_project(struct ctx *c, const char *project, const char *user,
    json_t *p)
{
	const char *why = project_not_owned(json_object_get(p, "config"), user);
	char reason[400];

	if (why != NULL)
		return ctx_error(c, "LXD has a project %s already, and %s; "
		    "labcd does not take it over for %s. The admin should "
		    "move its instances elsewhere and delete it ('lxc project "
		    "delete %s'), or, if it is %s's, mark it: 'lxc project set "
		    "%s %s %s'", project, why, user, project, user, project,
		    PROJECT_OWNER_KEY, user);
	switch (project_mend(c, project, p, 1, reason, sizeof(reason))) {
	case PROJECT_REFUSED:
		return ctx_error(c, "cannot bring the LXD project %s to what "
		    "labcd makes (restricted, with its own copies of the "
		    "profiles '%s'): %s; the admin should make it fit (no "
		    "privileged, nesting or raw.* containers or profiles, no "
		    "host disks)", project, c->srv->cfg.profiles, reason);
	case PROJECT_MENDED:
		log_info("LXD project %s restricted, its profiles copied",
		    project);
		break;
	default:	/* right, or an older labcd's: reconcile says so */
		break;
	}
	return PROTO_OK;
}

/*
 * ct_ensure_project, and the project's config in *limits if wanted (what
 * LXD has, or what was just made): create needs it for the limits, and
 * reading the project once is enough.
 */
static int
ensure_project(struct ctx *c, long long user_id, const char *user,
    json_t **limits)
{
	struct lxd *l = ctx_lxd(c);
	const struct config *cfg = &c->srv->cfg;
	char project[64];
	json_t *conf, *p = NULL;
	int r;

	ct_project_of(c, user_id, user, project);
	if ((r = lxd_project_get(l, project, &p)) == 0) {
		r = adopt_project(c, project, user, p);
		if (r == 0 && limits != NULL) {
			*limits = json_incref(json_object_get(p, "config"));
			if (*limits == NULL)
				*limits = json_object();
		}
		json_decref(p);
		if (r != 0)
			return r;
		goto record;
	}
	if (r != -ENOENT)
		return ctx_error(c, "%s", lxd_error(l));
	/*
	 * Images come from the default project; profiles are copied from
	 * there (project_mend), as LXD restricts only projects with their
	 * own.
	 */
	conf = json_pack("{s:s, s:s}", "features.images", "false",
	    PROJECT_OWNER_KEY, user);
	project_restrict(conf);
	if (*cfg->quota_containers != '\0')
		json_object_set_new(conf, "limits.containers",
		    json_string(cfg->quota_containers));
	if (*cfg->quota_cpu != '\0')
		json_object_set_new(conf, "limits.cpu",
		    json_string(cfg->quota_cpu));
	if (*cfg->quota_memory != '\0')
		json_object_set_new(conf, "limits.memory",
		    json_string(cfg->quota_memory));
	/* Not on a pool that would not keep it (dir): every create would
	   then be refused; doctor tells the admin of quota_disk. */
	if (*cfg->quota_disk != '\0') {
		char *pool = ct_root_pool(c);

		if (pool == NULL || sizes_pool_enforces(l, pool, NULL, 0) != 0)
			json_object_set_new(conf, "limits.disk",
			    json_string(cfg->quota_disk));
		free(pool);
	}
	r = lxd_project_create(l, project, conf, "labcontainers: lab user");
	if (r == -EEXIST && lxd_project_get(l, project, &p) == 0) {
		/* Made meanwhile: by whom? */
		r = adopt_project(c, project, user, p);
		json_decref(p);
		if (r != 0) {
			json_decref(conf);
			return r;
		}
	} else if (r != 0) {
		json_decref(conf);
		return ctx_error(c, "cannot make the LXD project %s: %s",
		    project, lxd_error(l));
	} else {
		/* New: its own copies of the profiles. */
		char reason[400];

		p = NULL;
		snprintf(reason, sizeof(reason), "%s", ctx_lxd_error(c));
		if (lxd_project_get(l, project, &p) != 0 ||
		    project_mend(c, project, p, 1, reason, sizeof(reason)) ==
		    PROJECT_REFUSED) {
			json_decref(p);
			json_decref(conf);
			return ctx_error(c, "the LXD project %s is made, but "
			    "the profiles '%s' cannot be copied into it: %s",
			    project, c->srv->cfg.profiles, reason);
		}
		json_decref(p);
	}
	if (limits != NULL)
		*limits = conf;
	else
		json_decref(conf);
	log_info("LXD project %s made for %s", project, user);
record:
	(void)ctdb_user_project_set(c->db, user_id, project);
	return PROTO_OK;
}

int
ct_ensure_project(struct ctx *c, long long user_id, const char *user)
{
	return ensure_project(c, user_id, user, NULL);
}

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

/* Is ssh_listen an address only this host reaches? */
static int
listen_loopback(const char *a)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (inet_pton(AF_INET, a, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, a, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return strcmp(a, "localhost") == 0;
}

void
ct_connect(struct ctx *c, const char *name, int port, char *route,
    size_t routesz, char *direct, size_t directsz)
{
	const struct config *cfg = &c->srv->cfg;
	const char *host = cfg->ssh_listen;
	char server[256], suffix[256];

	config_server_name(cfg, server, sizeof(server));
	config_server_suffix(cfg, suffix, sizeof(suffix));
	snprintf(route, routesz, "ssh %s.%s", name, suffix);
	if (listen_loopback(host)) {
		*direct = '\0';
		return;
	}
	/* Every address of this host: the one members know it by. */
	if (*host == '\0' || strcmp(host, "0.0.0.0") == 0 ||
	    strcmp(host, "::") == 0)
		host = server;
	snprintf(direct, directsz, "ssh -p %d %s@%s", port,
	    cfg->container_user, host);
}

void
ct_say_connect(struct ctx *c, const char *name, int port)
{
	const struct config *cfg = &c->srv->cfg;
	char route[160], direct[400], server[256], gwport[16] = "";

	ct_connect(c, name, port, route, sizeof(route), direct,
	    sizeof(direct));
	config_server_name(cfg, server, sizeof(server));
	if (cfg->gateway_port != 22)
		snprintf(gwport, sizeof(gwport), "-p %d ", cfg->gateway_port);
	ctx_printf(c, "Connect with: %s    (once: ssh %s%s@%s ssh-config >> "
	    "~/.ssh/config, see 'help ssh-config')\n", route, gwport,
	    cfg->gateway_user, server);
	if (*direct != '\0')
		ctx_printf(c, "Or by its own port: %s\n", direct);
}

json_t *
ct_ssh_device(const struct config *cfg, int port)
{
	char listen[96];

	snprintf(listen, sizeof(listen), "tcp:%s:%d", cfg->ssh_listen, port);
	return json_pack("{s:s, s:s, s:s}", "type", "proxy", "listen", listen,
	    "connect", "tcp:127.0.0.1:22");
}

json_t *
ct_ssh_patch(const struct config *cfg, int port)
{
	return json_pack("{s:{s:o}}", "devices", "ssh", ct_ssh_device(cfg,
	    port));
}

void
ct_ssh_device_words(const struct config *cfg, int port, char *out,
    size_t outsz)
{
	json_t *dev = ct_ssh_device(cfg, port);

	snprintf(out, outsz, "listen=%s connect=%s",
	    json_string_value(json_object_get(dev, "listen")),
	    json_string_value(json_object_get(dev, "connect")));
	json_decref(dev);
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

char *
ct_root_pool(struct ctx *c)
{
	const struct config *cfg = &c->srv->cfg;
	char *profiles = xstrdup(cfg->profiles), *save = NULL, *p, *pool = NULL;

	if (*cfg->storage_pool != '\0') {
		free(profiles);
		return xstrdup(cfg->storage_pool);
	}
	for (p = strtok_r(profiles, ",", &save); p != NULL;
	    p = strtok_r(NULL, ",", &save)) {
		json_t *prof = NULL;
		const char *v;

		if (lxd_profile_get(ctx_lxd(c), p, &prof) == 0 &&
		    (v = json_string_value(json_object_get(json_object_get(
		    json_object_get(prof, "devices"), "root"), "pool"))) !=
		    NULL) {
			free(pool);
			pool = xstrdup(v);
		}
		json_decref(prof);
	}
	free(profiles);
	return pool;
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

/*
 * Containers that a request is creating or deleting right now, by owner
 * and name: reconciliation leaves their rows alone.
 */
static pthread_mutex_t	 busy_lock = PTHREAD_MUTEX_INITIALIZER;
static struct busy {
	long long	 user_id;
	char		 name[64];
} *busy;
static size_t		 nbusy, busy_cap;

/* Its index in busy, or nbusy. Under busy_lock. */
static size_t
busy_find(long long user_id, const char *name)
{
	size_t i;

	for (i = 0; i < nbusy; i++) {
		if (busy[i].user_id == user_id && strcmp(busy[i].name, name) == 0)
			break;
	}
	return i;
}

/* Claim a container for one request (or reconciliation): 0, or -1 if
   someone holds it. */
int
ct_claim(long long user_id, const char *name)
{
	pthread_mutex_lock(&busy_lock);
	if (busy_find(user_id, name) < nbusy) {
		pthread_mutex_unlock(&busy_lock);
		return -1;
	}
	if (nbusy == busy_cap) {
		busy_cap = busy_cap ? busy_cap * 2 : 16;
		busy = xrealloc(busy, busy_cap * sizeof(*busy));
	}
	busy[nbusy].user_id = user_id;
	snprintf(busy[nbusy].name, sizeof(busy[nbusy].name), "%s", name);
	nbusy++;
	pthread_mutex_unlock(&busy_lock);
	return 0;
}

void
ct_release(long long user_id, const char *name)
{
	size_t i;

	pthread_mutex_lock(&busy_lock);
	if ((i = busy_find(user_id, name)) < nbusy)
		busy[i] = busy[--nbusy];
	if (nbusy == 0) {
		free(busy);
		busy = NULL;
		busy_cap = 0;
	}
	pthread_mutex_unlock(&busy_lock);
}

static int
busy_error(struct ctx *c, const char *name)
{
	return ctx_error(c, "%s is being changed by another request, or by "
	    "labcd putting its records right; try again in a moment", name);
}

int
ct_claim_for(struct ctx *c, const struct ct *ct)
{
	if (ct_claim(ct->user_id, ct->name) != 0)
		return busy_error(c, ct->name);
	return PROTO_OK;
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
	char *pool = ct_root_pool(c), what[128];
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

static int
create(struct ctx *c, const char *name, const struct ct_opts *o,
    struct ct *ct)
{
	const struct config *cfg = &c->srv->cfg;
	const char *image = o->image != NULL ? o->image : cfg->default_image;
	const char *cpu = o->cpu != NULL ? o->cpu : cfg->default_cpu;
	const char *mem = o->memory != NULL ? o->memory : cfg->default_memory;
	const char *disk = o->disk != NULL ? o->disk : cfg->default_disk;
	const char *quota = NULL;
	struct lxd *l = ctx_lxd(c);
	struct lxd_create lc = { .name = name };
	struct gpu_req gpus;
	char project[64], **profiles = NULL, *fp = NULL, *pool;
	char *plist, *save = NULL, *p;
	json_t *limits, *conf, *devs, *drv;
	size_t np = 0;
	int r;

	/* The project's limits: what each instance must then set itself. */
	if ((r = ensure_project(c, c->id.user_id, c->id.user, &limits)) != 0)
		return r;
	ct_project_of(c, c->id.user_id, c->id.user, project);
	if (lxd_image_resolve(l, project, image, &fp) != 0) {
		json_decref(limits);
		return ctx_error(c, "%s", lxd_error(l));
	}
	if ((r = check_count(c, limits)) != 0) {
		json_decref(limits);
		free(fp);
		return r;
	}
	/* LXD wants each instance to set what its project limits. */
	if ((cpu == NULL || *cpu == '\0') &&
	    json_object_get(limits, "limits.cpu") != NULL)
		cpu = "1";
	if ((mem == NULL || *mem == '\0') &&
	    json_object_get(limits, "limits.memory") != NULL)
		mem = "1GiB";
	if ((disk == NULL || *disk == '\0') &&
	    json_object_get(limits, "limits.disk") != NULL) {
		disk = "10GiB";
		quota = json_string_value(json_object_get(limits,
		    "limits.disk"));
	}
	/* A size asked for, configured or the quota's, that the pool would
	   not keep. */
	if (disk != NULL && *disk != '\0' &&
	    (r = disk_enforced(c, o, quota)) != 0) {
		json_decref(limits);
		free(fp);
		return r;
	}
	json_decref(limits);

	if ((r = gpu_request(c, o->gpu != NULL ? o->gpu : cfg->gpu_default,
	    o->exclusive, &gpus)) != 0) {
		free(fp);
		return r;
	}
	if ((r = reserve(c, name, image, ct)) != 0) {
		gpu_request_free(&gpus);
		free(fp);
		return r;
	}
	if ((r = gpu_reserve(c, c->id.user_id, ct->id, &gpus)) != 0) {
		forget(c, ct);
		gpu_request_free(&gpus);
		free(fp);
		return r;
	}
	conf = json_pack("{s:s}", PROJECT_OWNER_KEY, c->id.user);
	if (cpu != NULL && *cpu != '\0')
		json_object_set_new(conf, "limits.cpu", json_string(cpu));
	if (mem != NULL && *mem != '\0')
		json_object_set_new(conf, "limits.memory", json_string(mem));
	/*
	 * The ssh device. Not for a launch: its start adds it while the
	 * container boots (ssh_dev_start), a second saved; should labcd
	 * die before, reconciliation adds it (reconcile.c).
	 */
	devs = gpu_devices(&gpus);
	if (!o->starting)
		json_object_set_new(devs, "ssh", ct_ssh_device(cfg, ct->port));
	if (gpus.n > 0 && (drv = gpu_driver_config(cfg)) != NULL) {
		json_object_update(conf, drv);
		json_decref(drv);
	}
	if ((disk != NULL && *disk != '\0') || *cfg->storage_pool != '\0') {
		if ((pool = ct_root_pool(c)) == NULL) {
			r = ctx_error(c, "no storage pool for the root disk: "
			    "set storage_pool, or a root disk in the profiles");
			goto fail;
		}
		json_object_set_new(devs, "root", json_pack("{s:s, s:s, s:s}",
		    "type", "disk", "path", "/", "pool", pool));
		if (disk != NULL && *disk != '\0')
			json_object_set_new(json_object_get(devs, "root"),
			    "size", json_string(disk));
		free(pool);
	}
	plist = xstrdup(cfg->profiles);
	profiles = xcalloc(strlen(plist) / 2 + 2, sizeof(char *));
	for (p = strtok_r(plist, ", ", &save); p != NULL;
	    p = strtok_r(NULL, ", ", &save))
		profiles[np++] = p;
	lc.image_fingerprint = fp;
	lc.profiles = (const char *const *)profiles;
	lc.config = conf;
	lc.devices = devs;
	ctx_progress(c, "Creating %s", name);
	r = lxd_instance_create(l, project, &lc);
	free(profiles);
	free(plist);
	if (r != 0 && outcome_unknown(r)) {
		/*
		 * LXD went away mid-way: it may have made the container or
		 * part of it. The row stays 'creating', its port reserved,
		 * until reconciliation removes what was made.
		 */
		r = ctx_error(c, "creating %s failed: %s; labcd removes what "
		    "was made once LXD answers again", name, lxd_error(l));
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
	json_decref(conf);
	json_decref(devs);
	gpu_request_free(&gpus);
	free(fp);
	/* The keys go in with the container user, at the first start. */
	return PROTO_OK;
fail:
	forget(c, ct);		/* its GPU rows go with it */
keep:
	json_decref(conf);
	json_decref(devs);
	gpu_request_free(&gpus);
	free(fp);
	return r;
}

/*
 * ~/.ssh/authorized_keys in a container holds the owner's registered keys
 * in a block between these markers, and whatever else its owner put there
 * around it, which labcd keeps. A file without the markers was written by
 * an older labcd, which wrote only the registered keys (every time, the
 * whole file): it is replaced, so that a key deleted since goes too.
 */
#define KEYS_BEGIN	"# labcontainers: keys of "
#define KEYS_END	"# labcontainers: end"
#define KEYS_READ_MAX	(256 * 1024)	/* bigger: the block alone */

/* The user's registered keys as the managed block. */
static char *
authorized_keys(struct ctx *c, long long user_id)
{
	struct buf f = BUF_INIT(0);
	char user[64], *lines = ctdb_user_keys(c->db, user_id);

	ctdb_user_name(c->db, user_id, user);
	buf_printf(&f, KEYS_BEGIN "%s (labcd writes this block at every 'key "
	    "add' and 'key del': add your own lines outside it)\n%s" KEYS_END
	    " of %s's keys\n", user, lines, user);
	free(lines);
	return buf_steal(&f);
}

static int
starts(const char *line, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);

	return n >= k && memcmp(line, prefix, k) == 0;
}

/*
 * The file the container has (old, len bytes: its owner's words, any
 * bytes) with its block(s) replaced by block, where the first one was;
 * every other line kept as it is. A begin marker without an end runs to
 * the end of the file. No marker at all: block alone (an older labcd's).
 */
static char *
keys_merge(const char *old, size_t len, const char *block, size_t *outlen)
{
	struct buf b = BUF_INIT(0);
	const char *p = old, *end = old + len, *nl;
	int inside = 0, placed = 0, marked = 0;
	size_t n;

	for (p = old; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		if (starts(p, (size_t)(nl - p), KEYS_BEGIN)) {
			marked = 1;
			break;
		}
	}
	if (!marked) {
		*outlen = strlen(block);
		return xstrdup(block);
	}
	for (p = old; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		n = (size_t)(nl - p);
		if (!inside && starts(p, n, KEYS_BEGIN)) {
			inside = 1;
			if (!placed++)
				buf_adds(&b, block);
			continue;
		}
		if (inside) {
			if (starts(p, n, KEYS_END))
				inside = 0;
			continue;
		}
		buf_add(&b, p, n);
		buf_adds(&b, "\n");
	}
	*outlen = b.len;
	return buf_steal(&b);
}

static void
home_of(struct ctx *c, char *out, size_t outsz)
{
	const char *u = c->srv->cfg.container_user;

	snprintf(out, outsz, strcmp(u, "root") == 0 ? "/root" : "/home/%s", u);
}

/*
 * What is at path inside the container, told by exit status, without
 * opening it: LXD's files GET opens whatever is there and says "file" of
 * a FIFO, and blocks on it. Anything but a regular file or a directory
 * is removed (a symlink too: LXD would write through it).
 */
static const char keys_type_sh[] =
    "f=$1\n"
    "if [ -L \"$f\" ]; then t=3\n"
    "elif [ ! -e \"$f\" ]; then exit 2\n"
    "elif [ -f \"$f\" ]; then exit 0\n"
    "elif [ -d \"$f\" ]; then exit 4\n"
    "elif [ -p \"$f\" ]; then t=5\n"
    "elif [ -S \"$f\" ]; then t=6\n"
    "else t=7; fi\n"
    "rm -f -- \"$f\" || exit 1\n"
    "exit $t\n";

/*
 * Write the block of keys into one container's authorized_keys, keeping
 * its owner's other lines; 0, -EAGAIN (the container is not running: the
 * keys go in at its next start) or -1 (logged). What the file holds is
 * the owner's (root inside): it is read only when it is a regular file
 * (keys_type_sh says so first), at most KEYS_READ_MAX bytes; anything
 * else goes, and the block is written in its place. The owner can still
 * swap the file between the check and the read or the write; that costs
 * them their own request (LXD's timeout), nobody else's.
 * LXD's file API acts inside the container, as its root.
 */
static int
push_keys(struct ctx *c, const char *project, const char *name,
    const char *keys, int uid, int gid)
{
	static const char *const what[] = { [3] = "a symlink",
	    [5] = "a FIFO", [6] = "a socket", [7] = "not a regular file" };
	struct lxd *l = ctx_lxd(c);
	char home[128], path[160], type[16];
	const char *argv[] = { "sh", "-c", keys_type_sh, "labc-keys", NULL,
	    NULL };
	char *old = NULL, *merged = NULL;
	size_t len = 0, mlen = 0;
	json_t *st = NULL;
	int r, status = -1;

	home_of(c, home, sizeof(home));
	snprintf(path, sizeof(path), "%s/.ssh/authorized_keys", home);
	argv[4] = path;
	if ((r = lxd_exec(l, project, name, argv, &status, NULL, NULL)) != 0) {
		/* A stopped one has its keys pushed when it starts. */
		if (lxd_instance_state(l, project, name, &st) == 0 &&
		    lxd_state_status(st) != NULL &&
		    strcmp(lxd_state_status(st), "Running") != 0) {
			json_decref(st);
			return -EAGAIN;
		}
		json_decref(st);
		goto fail;
	}
	switch (status) {
	case 0:
		r = lxd_file_read(l, project, name, path, KEYS_READ_MAX, &old,
		    &len, type, sizeof(type));
		break;
	case 2:
		r = -ENOENT;
		break;
	case 3:
	case 5:
	case 6:
	case 7:
		log_warn("%s/%s: %s is %s: replaced by a file with the keys "
		    "of %s", project, name, path, what[status], c->id.user);
		r = -ENOENT;
		break;
	case 4:
		log_warn("keys of %s not written into %s/%s: %s is a "
		    "directory, not a file", c->id.user, project, name, path);
		return -1;
	default:
		log_warn("keys of %s not written into %s/%s: checking %s "
		    "failed (exit status %d)", c->id.user, project, name,
		    path, status);
		return -1;
	}
	if (r == 0 && *type != '\0' && strcmp(type, "file") != 0) {
		/* Swapped since the check. */
		log_warn("keys of %s not written into %s/%s: %s is a %s, not "
		    "a file", c->id.user, project, name, path, type);
		free(old);
		return -1;
	} else if (r == 0)
		merged = keys_merge(old, len, keys, &mlen);
	else if (r == -E2BIG)
		log_warn("%s/%s: %s is larger than %d bytes: replaced by the "
		    "keys of %s alone", project, name, path, KEYS_READ_MAX,
		    c->id.user);
	else if (r != -ENOENT)
		goto fail;
	if (merged == NULL) {
		merged = xstrdup(keys);
		mlen = strlen(keys);
	}
	free(old);
	old = NULL;
	if (lxd_file_push(l, project, name, path, merged, mlen,
	    uid, gid, 0600, LXD_FILE_MKDIRS) != 0)
		goto fail;
	free(merged);
	return 0;
fail:
	log_warn("keys of %s not written into %s/%s: %s", c->id.user,
	    project, name, ctx_lxd_error(c));
	free(old);
	free(merged);
	return -1;
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

	ct_project_of(c, user_id, user, project);
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
ct_sync_keys(struct ctx *c, long long user_id, const char *user)
{
	pthread_mutex_t *lock = key_lock(user_id);
	char project[64], *keys;
	struct ct *cts;
	size_t i, n;
	int failed = 0;

	pthread_mutex_lock(lock);
	keys = authorized_keys(c, user_id);
	ct_project_of(c, user_id, user, project);
	/*
	 * The list first, then the pushes: an update of keys_synced made
	 * while this SELECT still read (an older snapshot, once another
	 * request wrote) failed with SQLITE_BUSY_SNAPSHOT, unseen, and a
	 * container LXD did not take the keys into stayed marked synced.
	 */
	ctdb_list(c->db, user_id, 1, &cts, &n);
	for (i = 0; i < n; i++) {
		const char *name = cts[i].name;
		int ok;

		/* uid 1000 is the container user: ct_start makes it so. */
		ok = push_keys(c, project, name, keys, 1000, 1000) == 0;
		failed += !ok;
		if (ctdb_set_keys_synced(c->db, cts[i].id, ok) != 0) {
			log_error("keys of %s: cannot record whether %s has "
			    "them: %s", user, name, c->db->err);
			failed++;
		}
	}
	pthread_mutex_unlock(lock);
	free(cts);
	free(keys);
	return failed ? -1 : 0;
}

int
ct_status(struct ctx *c, const struct ct *ct, char **status)
{
	char project[64];
	json_t *st = NULL;
	int r;

	*status = NULL;
	ct_project_of(c, ct->user_id, c->id.user, project);
	r = lxd_instance_state(ctx_lxd(c), project, ct->name, &st);
	if (r == 0 && lxd_state_status(st) != NULL)
		*status = xstrdup(lxd_state_status(st));
	json_decref(st);
	if (r != 0 && r != -ENOENT)
		return ctx_error(c, "%s", ctx_lxd_error(c));
	return PROTO_OK;
}

/*
 * Make the container user with sudo (uid 1000 where free), own its home,
 * and write the keys ($2) as its authorized_keys. Runs once per
 * container, as root inside; its errors go to ERRLOG, read on failure
 * only (recording the output would cost four more LXD requests).
 */
#define PROVISION_ERRLOG "/run/labc-provision.err"
static const char provision_sh[] =
    "exec 2>" PROVISION_ERRLOG "\n"
    "u=\"$1\"; set -e\n"
    "if ! id -u \"$u\" >/dev/null 2>&1; then\n"
    "  useradd -m -s /bin/bash -u 1000 \"$u\" 2>/dev/null ||"
    " useradd -m -s /bin/bash \"$u\"\n"
    "fi\n"
    "# a locked password would keep sshd from taking keys\n"
    "if passwd -S \"$u\" 2>/dev/null | grep -q \" L \"; then"
    " usermod -p '*' \"$u\"; fi\n"
    "if getent group sudo >/dev/null; then usermod -aG sudo \"$u\"; fi\n"
    "if [ -d /etc/sudoers.d ]; then\n"
    "  echo \"$u ALL=(ALL) NOPASSWD:ALL\" > /etc/sudoers.d/90-labc\n"
    "  chmod 0440 /etc/sudoers.d/90-labc\n"
    "fi\n"
    "h=$(getent passwd \"$u\" | cut -d: -f6)\n"
    "mkdir -p \"$h/.ssh\"; chmod 700 \"$h/.ssh\"\n"
    "f=\"$h/.ssh/authorized_keys\"\n"
    "if [ \"$2\" != - ]; then\n"
    "  # lines outside labcd's block are kept (a file without it is an\n"
    "  # older labcd's: replaced)\n"
    "  (umask 077; { if [ -f \"$f\" ] && [ ! -L \"$f\" ] && grep -q '^"
    KEYS_BEGIN "' \"$f\"; then sed '/^" KEYS_BEGIN "/,/^" KEYS_END "/d'"
    " \"$f\"; fi; printf '%s' \"$2\"; } > \"$f.labc\"; mv -f \"$f.labc\""
    " \"$f\")\n"
    "fi\n"
    "chown \"$u:\" \"$h\"; chown -R \"$u:\" \"$h/.ssh\"\n"
    "rm -f " PROVISION_ERRLOG "\n";

/* Keys longer than this go by the files API (argv has its limits). */
#define PROVISION_KEYS_MAX	(64 * 1024)

/*
 * The container user and its keys; the caller records provisioned. The
 * user's key lock is held from reading the keys to writing them, as for
 * every push (a key added meanwhile is not overwritten by older ones).
 * *stopped: it failed because the container is not running.
 */
static int
provision(struct ctx *c, const char *project, struct ct *ct, int *stopped)
{
	char *keys, *err = NULL;
	const char *argv[] = { "sh", "-c", provision_sh, "labc-provision",
	    c->srv->cfg.container_user, "-", NULL };
	int status = -1, inline_keys, r;

	pthread_mutex_lock(key_lock(ct->user_id));
	keys = authorized_keys(c, ct->user_id);
	if ((inline_keys = strlen(keys) < PROVISION_KEYS_MAX))
		argv[5] = keys;
	r = lxd_exec(ctx_lxd(c), project, ct->name, argv, &status, NULL, NULL);
	*stopped = r == -ESRCH;
	if (r != 0 || status != 0) {
		pthread_mutex_unlock(key_lock(ct->user_id));
		if (r == 0)
			(void)lxd_file_get(ctx_lxd(c), project, ct->name,
			    PROVISION_ERRLOG, 4096, &err, NULL);
		if (err != NULL) {
			/* The container's own words: shown inert. */
			struct buf b = BUF_INIT(0);

			inert_add(&b, err, strlen(err), INERT_LINES);
			free(err);
			err = buf_steal(&b);
		}
		r = ctx_error(c, "making the user %s in %s failed: %s",
		    c->srv->cfg.container_user, ct->name, r != 0 ?
		    ctx_lxd_error(c) : err != NULL && *err != '\0' ? err :
		    "the script failed");
		free(err);
		free(keys);
		return r;
	}
	/* uid 1000 is the container user, as provision_sh makes it. */
	r = inline_keys ? 0 : push_keys(c, project, ct->name, keys, 1000, 1000);
	/* Under the lock: a key change after it marks it unsynced again. */
	if (r == 0)
		(void)ctdb_set_keys_synced(c->db, ct->id, 1);
	pthread_mutex_unlock(key_lock(ct->user_id));
	free(keys);
	ct->keys_synced = r == 0;
	return PROTO_OK;
}

/* Wait until sshd answers on the container's port: "SSH-" comes first. */
static int
ssh_answers(const char *listen_addr, int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	double until = (double)time(NULL) + SSH_WAIT;

	sin.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, listen_addr, &sin.sin_addr) != 1 ||
	    sin.sin_addr.s_addr == htonl(INADDR_ANY))
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	while ((double)time(NULL) < until) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		char banner[4];

		if (fd >= 0 && connect(fd, (struct sockaddr *)&sin,
		    sizeof(sin)) == 0 && poll(&pfd, 1, 2000) == 1 &&
		    read(fd, banner, 4) == 4 && memcmp(banner, "SSH-", 4) == 0) {
			close(fd);
			return 1;
		}
		if (fd >= 0)
			close(fd);
		usleep(SSH_POLL_MS * 1000);
	}
	return 0;
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
	if (ctdb_user_locked(c->db, ct->user_id)) {
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
	ct_project_of(c, ct->user_id, c->id.user, project);
	/* Its own bridge, once none of the member's containers runs. */
	if (c->srv->cfg.isolate_members &&
	    project_sync_profiles(c, project, why, sizeof(why)) != 0)
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
		r = provision(c, project, ct, &stopped);
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
			r = provision(c, project, ct, &stopped);
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
	} else if (!ct->keys_synced) {
		char *keys;

		pthread_mutex_lock(key_lock(ct->user_id));
		keys = authorized_keys(c, ct->user_id);
		if (push_keys(c, project, ct->name, keys, 1000, 1000) == 0)
			(void)ctdb_set_keys_synced(c->db, ct->id, 1);
		pthread_mutex_unlock(key_lock(ct->user_id));
		free(keys);
	}
	if (!say_ready)
		return PROTO_OK;
	ctx_progress(c, "Waiting for ssh on port %d", ct->port);
	{
		struct buf lim = BUF_INIT(0);

		(void)sizes_line_get(c, ct, &lim);
		if (ssh_answers(c->srv->cfg.ssh_listen, ct->port))
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
	ct_project_of(c, ct->user_id, c->id.user, project);
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
	ct_project_of(c, ct->user_id, c->id.user, project);
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

	if (ct_claim(c->id.user_id, name) != 0)
		return busy_error(c, name);
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
	if (ct_claim(user_id, name) != 0)
		return busy_error(c, name);
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
