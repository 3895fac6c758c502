/*
 * project.c - what makes an LXD project a lab user's. labcd marks each
 * project it makes with the owner key and restricts it, so that LXD
 * itself refuses what labcd never does (privileged or nesting containers,
 * raw.* and other low-level keys, host disks, devices other than the ssh
 * proxy, GPUs and managed disks), whoever asks: a labcd bug, or anyone
 * the admin gives LXD access to a member's project. A project or an
 * instance that does not look like labcd's is not taken over.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ct-addr.h"
#include "db-users.h"
#include "isolate.h"
#include "labcd.h"
#include "log.h"
#include "pool.h"
#include "proto.h"
#include "lxd.h"
#include "project.h"
#include "xmalloc.h"

/*
 * The restrictions, checked on LXD 5.0.2: launch, the ssh proxy device,
 * limits.cpu/memory and root disk sizes, gpu devices and nvidia.runtime
 * all work under them (nvidia.runtime is not a low-level key to LXD).
 * privilege=isolated would also separate members' uid ranges, but needs
 * security.idmap.isolated on every container, which LXD applies only by
 * remapping a stopped container's whole file system: not for old ones.
 */
static const char *const restrictions[][2] = {
	{ "features.profiles", "true" },	/* LXD: needed to restrict */
	{ "restricted", "true" },
	{ "restricted.containers.nesting", "block" },
	{ "restricted.containers.lowlevel", "block" },
	{ "restricted.containers.privilege", "unprivileged" },
	{ "restricted.devices.proxy", "allow" },
	{ "restricted.devices.gpu", "allow" },
	{ "restricted.devices.disk", "managed" },
	{ "restricted.snapshots", "allow" },	/* LXD blocks them otherwise */
	{ "restricted.backups", "allow" },	/* export: LXD makes a backup */
};
#define NRESTRICTIONS	(sizeof(restrictions) / sizeof(restrictions[0]))

void
project_name(const char *prefix, const char *stored, const char *user,
    char project[PROJECT_MAX])
{
	if (stored != NULL && *stored != '\0')
		snprintf(project, PROJECT_MAX, "%s", stored);
	else
		snprintf(project, PROJECT_MAX, "%s%s", prefix, user);
}

const char *
project_not_owned(json_t *config, const char *user)
{
	const char *owner = json_string_value(json_object_get(config,
	    PROJECT_OWNER_KEY));

	if (owner == NULL)
		return "it has no " PROJECT_OWNER_KEY " key: labcd did not "
		    "make it";
	if (strcmp(owner, user) != 0)
		return "its " PROJECT_OWNER_KEY " key names another user";
	return NULL;
}

void
project_restrict(json_t *config)
{
	size_t i;

	for (i = 0; i < NRESTRICTIONS; i++)
		json_object_set_new(config, restrictions[i][0],
		    json_string(restrictions[i][1]));
}

json_t *
project_restrictions_missing(json_t *config)
{
	json_t *m = NULL;
	const char *v;
	size_t i;

	for (i = 0; i < NRESTRICTIONS; i++) {
		v = json_string_value(json_object_get(config,
		    restrictions[i][0]));
		if (v != NULL && strcmp(v, restrictions[i][1]) == 0)
			continue;
		if (m == NULL)
			m = json_object();
		json_object_set_new(m, restrictions[i][0],
		    json_string(restrictions[i][1]));
	}
	return m;
}

/* Config keys labcd never sets: by prefix ('.' ends) or whole. */
static const char *const lowlevel[] = {
	"raw.", "security.syscalls.", "security.idmap.base",
	"security.idmap.size", "security.devlxd.images", "linux.kernel_modules",
	"boot.host_shutdown_timeout",
};

/*
 * Is a security.* flag on? LXD (shared.IsTrue) takes "true", "1", "yes"
 * and "on" in any case; anything but a plain no counts as on here.
 */
static int
flag_on(const char *s)
{
	static const char *const no[] = { "", "false", "0", "no", "off" };
	size_t i;

	if (s == NULL)
		return 1;
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (strcasecmp(s, no[i]) == 0)
			return 0;
	return 1;
}

static const char *
config_untrusted(json_t *conf, char *why, size_t whysz)
{
	const char *k;
	json_t *v;
	size_t i;

	json_object_foreach(conf, k, v) {
		const char *s = json_string_value(v);

		if ((strcmp(k, "security.privileged") == 0 ||
		    strcmp(k, "security.nesting") == 0) && flag_on(s)) {
			snprintf(why, whysz, "it has %s=%.32s", k, s ?: "?");
			return why;
		}
		for (i = 0; i < sizeof(lowlevel) / sizeof(lowlevel[0]); i++) {
			size_t n = strlen(lowlevel[i]);

			if (lowlevel[i][n - 1] == '.' ? strncmp(k, lowlevel[i],
			    n) == 0 : strcmp(k, lowlevel[i]) == 0) {
				snprintf(why, whysz, "it has the low-level key "
				    "%.64s", k);
				return why;
			}
		}
	}
	return NULL;
}

/*
 * One device: the instance's own (ssh as said), or one a profile adds
 * (profile: then also a nic on a managed network, never an ssh device).
 */
static const char *
device_untrusted(const char *k, json_t *d, json_t *ssh, json_t *nic,
    int profile, char *why, size_t whysz)
{
	const char *type = json_string_value(json_object_get(d, "type"));

	if (type == NULL)
		type = "?";
	if (strcmp(type, "gpu") == 0)
		return NULL;	/* the caller decides about GPUs */
	if (strcmp(type, "disk") == 0 &&
	    json_object_get(d, "source") == NULL &&
	    json_string_value(json_object_get(d, "pool")) != NULL &&
	    strcmp(json_string_value(json_object_get(d, "path")) ?: "",
	    "/") == 0)
		return NULL;	/* the root disk, on a pool */
	if (!profile && strcmp(k, "ssh") == 0 && strcmp(type, "proxy") == 0 &&
	    (ssh == NULL || json_equal(d, ssh)))
		return NULL;
	if (!profile && strcmp(k, "eth0") == 0 && ct_nic_ours(d, nic))
		return NULL;	/* ssh_port_mode = nat (ct-addr.c) */
	if (profile && strcmp(type, "nic") == 0 &&
	    *(json_string_value(json_object_get(d, "network")) ?: "") != '\0')
		return NULL;	/* LXD: restricted.devices.nic=managed */
	snprintf(why, whysz, "its device %.32s (%.32s)%s is not one labcd "
	    "makes", k, type, profile ? ", from a profile," : "");
	return why;
}

const char *
project_instance_untrusted(json_t *inst, json_t *ssh, json_t *nic,
    const char *profiles,
    char *why, size_t whysz)
{
	json_t *own = json_object_get(inst, "devices"), *d, *v;
	char *list, *save = NULL, *p;
	const char *k, *name;
	size_t i;
	int found;

	/* The expanded ones too: a profile can add privilege or a disk. */
	if (config_untrusted(json_object_get(inst, "config"), why,
	    whysz) != NULL || config_untrusted(json_object_get(inst,
	    "expanded_config"), why, whysz) != NULL)
		return why;
	json_object_foreach(own, k, d) {
		if (device_untrusted(k, d, ssh, nic, 0, why, whysz) != NULL)
			return why;
	}
	json_object_foreach(json_object_get(inst, "expanded_devices"), k, d) {
		if (json_equal(d, json_object_get(own, k)))
			continue;	/* its own, seen above */
		if (device_untrusted(k, d, ssh, NULL, 1, why, whysz) != NULL)
			return why;
	}
	/* Only the configured profiles (the project's copies of them). */
	json_array_foreach(json_object_get(inst, "profiles"), i, v) {
		name = json_string_value(v);
		list = xstrdup(profiles);
		found = 0;
		for (p = strtok_r(list, ", ", &save); p != NULL && !found;
		    p = strtok_r(NULL, ", ", &save))
			found = name != NULL && strcmp(p, name) == 0;
		free(list);
		if (!found) {
			snprintf(why, whysz, "its profile %.64s is not one of "
			    "the configured profiles", name ?: "?");
			return why;
		}
	}
	return NULL;
}

/*
 * The configured profiles of the default project, copied into project
 * where they differ (or, without repair, counted). With isolate_members
 * their nics point at the project's own bridge (isolate.c), made here;
 * a copy that would move a running container's nic is left for a later
 * pass (then *waiting). 0 and *changed, or -1 with LXD's reason.
 */
static int
sync_profiles(struct op *op, const char *project, int repair, int *changed,
    int *waiting, char *err, size_t errsz)
{
	struct lxd *l = op_lxd(op);
	char *list = xstrdup(op->srv->cfg.profiles), *save = NULL, *name;
	char br[ISOLATE_NAME_MAX], why[300], who[160] = "?", bad[120];
	json_t *src, *dst, *want;
	int r = 0, iso = op->srv->cfg.isolate_members;

	*changed = *waiting = 0;
	/* Fails closed: no member joins a shared bridge by accident. */
	if (iso && repair && isolate_ensure(op, project, br, why,
	    sizeof(why)) != 0) {
		snprintf(err, errsz, "members are to be kept apart "
		    "(isolate_members) and %s", why);
		free(list);
		return -1;
	} else if (iso)
		isolate_bridge_name(project, br);
	for (name = strtok_r(list, ", ", &save); name != NULL && r == 0;
	    name = strtok_r(NULL, ", ", &save)) {
		src = dst = NULL;
		if ((r = lxd_profile_get(l, name, &src)) != 0)
			break;
		want = json_deep_copy(json_object_get(src, "devices"));
		if (want == NULL)
			want = json_object();
		/* Fails closed too: a nic that cannot be moved stops it. */
		if (iso && isolate_devices(want, br, bad, sizeof(bad)) != 0) {
			snprintf(err, errsz, "members are to be kept apart "
			    "(isolate_members), but profile %s has nic %s, which "
			    "cannot be moved to the member's own bridge: make it "
			    "a bridged nic, or set isolate_members = no", name,
			    bad);
			json_decref(want);
			json_decref(src);
			free(list);
			return -1;
		}
		r = lxd_profile_get_in(l, project, name, &dst);
		if (r == 0 && json_equal(json_object_get(src, "config"),
		    json_object_get(dst, "config")) &&
		    json_equal(want, json_object_get(dst, "devices"))) {
			json_decref(want);
			json_decref(src);
			json_decref(dst);
			continue;
		}
		r = r == 0 || r == -ENOENT ? 0 : r;
		/* Not listed (-1): not known to be safe either. */
		if (r == 0 && isolate_blocked(op, project, want, who,
		    sizeof(who)) != 0) {
			(*waiting)++;
			if (repair)
				log_info("project %s: profile %s keeps its "
				    "network while %s runs", project, name,
				    who);
		} else {
			(*changed)++;
			if (r == 0 && repair)
				r = lxd_profile_put(l, project, name,
				    json_object_get(src, "config"), want,
				    json_string_value(json_object_get(src,
				    "description")));
		}
		json_decref(want);
		json_decref(src);
		json_decref(dst);
	}
	free(list);
	if (r != 0)
		snprintf(err, errsz, "LXD refused: %s", op_lxd_error(op));
	return r == 0 ? 0 : -1;
}

int
project_sync_profiles(struct op *op, const char *project, char *why,
    size_t whysz)
{
	int changed, waiting;

	return sync_profiles(op, project, 1, &changed, &waiting, why, whysz);
}

/* Does LXD's project object list instances in it? */
static int
has_instances(json_t *p)
{
	json_t *v;
	size_t i;

	json_array_foreach(json_object_get(p, "used_by"), i, v) {
		if (strncmp(json_string_value(v) ?: "", "/1.0/instances/",
		    15) == 0)
			return 1;
	}
	return 0;
}

/*
 * Would every instance of the project pass the restrictions? LXD 5.0.2
 * does not check when a project becomes restricted=true, and then
 * refuses every change to any instance of it while one does not pass.
 * 0, or -1 with why.
 */
static int
instances_fit(struct op *op, const char *project, char *why, size_t whysz)
{
	json_t *list = NULL, *inst, *nic;
	char reason[300];
	size_t i;
	int r = 0;

	if (lxd_instance_list(op_lxd(op), project, 0, &list) != 0) {
		snprintf(why, whysz, "%s", op_lxd_error(op));
		return -1;
	}
	/* Its NAT ports' own eth0s are labcd's (none without the profile). */
	nic = ct_addr_nic(op, project, reason, sizeof(reason));
	json_array_foreach(list, i, inst) {
		if (project_instance_untrusted(inst, NULL, nic,
		    op->srv->cfg.profiles, reason, sizeof(reason)) != NULL) {
			snprintf(why, whysz, "its container %s stands in the "
			    "way: %s", json_string_value(json_object_get(inst,
			    "name")) ?: "?", reason);
			r = -1;
			break;
		}
	}
	json_decref(list);
	json_decref(nic);
	return r;
}

enum project_mend
project_mend(struct op *op, const char *project, json_t *p, int repair,
    char *why, size_t whysz)
{
	json_t *conf = json_object_get(p, "config"), *missing, *own;
	const char *fp = json_string_value(json_object_get(conf,
	    "features.profiles"));
	int changed = 0, waiting = 0, r = 0;

	snprintf(why, whysz, "?");
	missing = project_restrictions_missing(conf);
	if ((fp == NULL || strcmp(fp, "true") != 0) && has_instances(p)) {
		json_decref(missing);
		return PROJECT_OLD;
	}
	if (missing != NULL && has_instances(p) &&
	    instances_fit(op, project, why, whysz) != 0) {
		json_decref(missing);
		return PROJECT_REFUSED;
	}
	/* Profiles of its own first (it is empty), then their copies. */
	if (repair && json_object_get(missing, "features.profiles") != NULL) {
		own = json_pack("{s:s}", "features.profiles", "true");
		r = lxd_project_set_config(op_lxd(op), project, own);
		json_decref(own);
	}
	if (r != 0)
		snprintf(why, whysz, "LXD refused: %s", op_lxd_error(op));
	else if ((r = sync_profiles(op, project, repair, &changed, &waiting,
	    why, whysz)) == 0 && repair && missing != NULL &&
	    (r = lxd_project_set_config(op_lxd(op), project, missing)) != 0)
		snprintf(why, whysz, "LXD refused: %s", op_lxd_error(op));
	changed += missing != NULL;
	json_decref(missing);
	if (r != 0)
		return PROJECT_REFUSED;
	return changed > 0 ? PROJECT_MENDED : PROJECT_RIGHT;
}

void
project_of(struct op *op, long long user_id, const char *user,
    char project[PROJECT_MAX])
{
	struct user_row u;

	/* No such user, or no project recorded: "" (u is zeroed). */
	(void)userdb_get_id(op->db, user_id, &u);
	project_name(op->srv->cfg.project_prefix, u.project, user, project);
}

/*
 * An existing project is the user's only if labcd made it for them (its
 * owner key); it is then brought to what labcd makes (project_mend).
 */
static int
adopt_project(struct op *op, const char *project, const char *user,
    json_t *p)
{
	const char *why = project_not_owned(json_object_get(p, "config"), user);
	char reason[400];

	if (why != NULL)
		return op_error(op, "LXD has a project %s already, and %s; "
		    "labcd does not take it over for %s. The admin should "
		    "move its instances elsewhere and delete it ('lxc project "
		    "delete %s'), or, if it is %s's, mark it: 'lxc project set "
		    "%s %s %s'", project, why, user, project, user, project,
		    PROJECT_OWNER_KEY, user);
	switch (project_mend(op, project, p, 1, reason, sizeof(reason))) {
	case PROJECT_REFUSED:
		return op_error(op, "cannot bring the LXD project %s to what "
		    "labcd makes (restricted, with its own copies of the "
		    "profiles '%s'): %s; the admin should make it fit (no "
		    "privileged, nesting or raw.* containers or profiles, no "
		    "host disks)", project, op->srv->cfg.profiles, reason);
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
 * The project's config in *limits if wanted (what LXD has, or what was
 * just made): create needs it for the limits, and reading the project
 * once is enough.
 */
int
project_ensure(struct op *op, long long user_id, const char *user,
    json_t **limits)
{
	struct lxd *l = op_lxd(op);
	const struct config *cfg = &op->srv->cfg;
	char project[64];
	json_t *conf, *p = NULL;
	int r;

	project_of(op, user_id, user, project);
	if ((r = lxd_project_get(l, project, &p)) == 0) {
		r = adopt_project(op, project, user, p);
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
		return op_error(op, "%s", lxd_error(l));
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
		char *pool = pool_root(op);

		if (pool == NULL || pool_enforces(l, pool, NULL, 0) != 0)
			json_object_set_new(conf, "limits.disk",
			    json_string(cfg->quota_disk));
		free(pool);
	}
	r = lxd_project_create(l, project, conf, "labcontainers: lab user");
	if (r == -EEXIST && lxd_project_get(l, project, &p) == 0) {
		/* Made meanwhile: by whom? */
		r = adopt_project(op, project, user, p);
		json_decref(p);
		if (r != 0) {
			json_decref(conf);
			return r;
		}
	} else if (r != 0) {
		json_decref(conf);
		return op_error(op, "cannot make the LXD project %s: %s",
		    project, lxd_error(l));
	} else {
		/* New: its own copies of the profiles. */
		char reason[400];

		p = NULL;
		snprintf(reason, sizeof(reason), "%s", op_lxd_error(op));
		if (lxd_project_get(l, project, &p) != 0 ||
		    project_mend(op, project, p, 1, reason, sizeof(reason)) ==
		    PROJECT_REFUSED) {
			json_decref(p);
			json_decref(conf);
			return op_error(op, "the LXD project %s is made, but "
			    "the profiles '%s' cannot be copied into it: %s",
			    project, op->srv->cfg.profiles, reason);
		}
		json_decref(p);
	}
	if (limits != NULL)
		*limits = conf;
	else
		json_decref(conf);
	log_info("LXD project %s made for %s", project, user);
record:
	(void)userdb_set_project(op->db, user_id, project);
	return PROTO_OK;
}
