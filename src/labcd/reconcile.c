/*
 * reconcile.c - the database says what labcd promised, LXD what exists.
 * They drift when labcd dies in the middle of a change, when LXD goes
 * away in the middle of one, or when someone uses lxc behind labcd's
 * back. Reconciliation finds each difference, says it (log, audit, the
 * admin's report) and mends it where the database tells what was meant:
 *
 *   row 'creating', no request on it   creation interrupted: remove what
 *                                      LXD made, release the port
 *   row 'deleting', no request on it   deletion interrupted: finish it
 *   row 'ready', no instance           deleted outside labcd: release
 *                                      the port (and its GPUs)
 *   port device differs from the row   put the row's port back
 *   the user is locked                 take its port device away, never
 *                                      put it back
 *   instance without a row             adopt it if its port is free and
 *                                      it is as labcd makes them (not
 *                                      privileged, no raw.*, no host
 *                                      disk, no other devices, also
 *                                      from profiles; only the
 *                                      configured profiles), else leave
 *                                      it and say so; never while its
 *                                      user is locked, nor when LXD
 *                                      did not list the projects
 *   user's project not labcd's         leave it and its instances alone
 *   user's project unrestricted        restrict it (an older labcd's)
 *
 * It never deletes a container that no row accounts for. doctor shows
 * what it would do, only looking (reconcile_doctor).
 */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "checkup.h"
#include "claim.h"
#include "ct-ssh.h"
#include "db-containers.h"
#include "db-users.h"
#include "isolate.h"
#include "log.h"
#include "lxd.h"
#include "project.h"
#include "proto.h"
#include "reconcile.h"
#include "xmalloc.h"

#define OP_WAIT		30	/* seconds for an operation left running */

/* One run at a time: the background one and 'admin reconcile'. */
static pthread_mutex_t run_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int bg_stopping;

struct finder {
	struct op	*op;
	int		 repair;
	struct findings	*findings;
	json_t		*waited;	/* project -> true: LXD is idle there */
};

/*
 * Say a finding: kind, and what (the action without its "would " or
 * "none yet: "). A repair (FIND_DONE) is a change like any other: one
 * audit row, in the owner's log as well as the admin's.
 */
static void
say(struct finder *f, enum finding_kind kind, const char *user,
    const char *name, const char *problem, const char *what)
{
	struct op *op = f->op;
	char *target;
	struct finding *fd;

	if (user == NULL || name == NULL)
		goto audit;	/* nothing to say it of */
	if (f->findings->n == f->findings->cap) {
		f->findings->cap = f->findings->cap ? f->findings->cap * 2 : 16;
		f->findings->v = xrealloc(f->findings->v, f->findings->cap *
		    sizeof(*f->findings->v));
	}
	fd = &f->findings->v[f->findings->n++];
	memset(fd, 0, sizeof(*fd));
	fd->kind = kind;
	snprintf(fd->user, sizeof(fd->user), "%s", user);
	snprintf(fd->container, sizeof(fd->container), "%s", name);
	snprintf(fd->problem, sizeof(fd->problem), "%s", problem);
	snprintf(fd->what, sizeof(fd->what), "%s", what);
	snprintf(fd->action, sizeof(fd->action), "%s%s", kind == FIND_WOULD ?
	    "would " : kind == FIND_PENDING ? "none yet: " : "", what);
audit:
	if (kind != FIND_DONE)
		return;
	/* The owner's row, in the name of whoever runs the reconciliation. */
	target = xasprintf("%s/%s", user, name);
	audit_row(op->db, op->actor->actor, user, op->command, target, what);
	free(target);
}

void
findings_free(struct findings *fs)
{
	free(fs->v);
	memset(fs, 0, sizeof(*fs));
}

/*
 * Let LXD finish what it was doing in a project: after labcd was killed
 * its last operation may still run, and its outcome decides. 0 when no
 * operation runs there any more, -1 if one still does (or LXD cannot
 * say): the project is left for a later pass.
 */
static int
wait_operations(struct finder *f, const char *project)
{
	struct lxd *l = op_lxd(f->op);
	json_t *ops = NULL, *op, *known;
	char *path, *esc;
	size_t i;
	int r = 0, n;

	if ((known = json_object_get(f->waited, project)) != NULL)
		return json_is_true(known) ? 0 : -1;
	esc = lxd_escape(project);
	path = xasprintf("/1.0/operations?project=%s&recursion=1", esc);
	free(esc);
	for (n = 0; n < 2 && r == 0; n++) {
		json_decref(ops);
		ops = NULL;
		if (lxd_call(l, "GET", path, NULL, &ops) != 0) {
			r = -1;
			break;
		}
		if (json_array_size(json_object_get(ops, "running")) == 0)
			break;
		if (n == 1) {		/* waited once, still running */
			r = -1;
			break;
		}
		json_array_foreach(json_object_get(ops, "running"), i, op) {
			const char *id = json_string_value(json_object_get(op,
			    "id"));
			char *opath;

			if (id == NULL || bg_stopping)
				continue;
			opath = xasprintf("/1.0/operations/%s", id);
			log_info("reconcile: waiting for LXD operation %s in %s",
			    id, project);
			(void)lxd_wait(l, opath, OP_WAIT, NULL);
			free(opath);
		}
	}
	json_decref(ops);
	free(path);
	json_object_set_new(f->waited, project, json_boolean(r == 0));
	return r;
}

/* LXD's instance now, or NULL (gone); -1 if LXD cannot say. */
static int
instance_now(struct finder *f, const char *project, const char *name,
    json_t **inst)
{
	int r = lxd_instance_get(op_lxd(f->op), project, name, inst);

	if (r == -ENOENT) {
		*inst = NULL;
		return 0;
	}
	return r == 0 ? 0 : -1;
}

/* Stop and delete an instance that a row says labcd was making or
   removing. 0, or -1 with LXD's reason in the connection's error. */
static int
remove_instance(struct finder *f, const char *project, const char *name,
    json_t *inst)
{
	struct lxd *l = op_lxd(f->op);
	const char *status = json_string_value(json_object_get(inst, "status"));
	int r;

	if (status != NULL && strcmp(status, "Stopped") != 0 &&
	    (r = lxd_instance_set_state(l, project, name, "stop", -1, 1)) !=
	    0 && r != -EALREADY)
		return -1;
	r = lxd_instance_delete(l, project, name);
	return r == 0 || r == -ENOENT ? 0 : -1;
}

static int
forget_row(struct finder *f, long long id)
{
	if (ctdb_delete(f->op->db, id) != 0) {
		log_error("reconcile: %s", f->op->db->err);
		return -1;
	}
	return 0;
}

/* The port of an instance's ssh proxy device, or 0. */
static int
device_port(json_t *inst)
{
	const char *listen = json_string_value(json_object_get(json_object_get(
	    json_object_get(inst, "devices"), "ssh"), "listen"));
	const char *colon;

	if (listen == NULL || (colon = strrchr(listen, ':')) == NULL)
		return 0;
	return atoi(colon + 1);
}

struct row {
	long long	 id, user_id;
	char		 user[64], project[64], name[64], state[16];
	int		 port;
	char		 network[64], addr[16];	/* ssh_port_mode = nat */
	int		 provisioned;	/* started once: has its ssh device */
	int		 locked;	/* its user's: no ssh device meant */
};

/* The row again, now that it is claimed: 0, or -1 if it is gone. */
static int
reread(struct finder *f, struct row *w)
{
	struct ct_owned now;

	if (ctdb_get_owned(f->op->db, w->id, &now) != 0)
		return -1;
	w->port = now.ct.port;
	snprintf(w->network, sizeof(w->network), "%s", now.ct.network);
	snprintf(w->addr, sizeof(w->addr), "%s", now.ct.addr);
	snprintf(w->state, sizeof(w->state), "%s", now.ct.state);
	w->provisioned = now.ct.provisioned;
	w->locked = now.locked;
	return 0;
}

/* A row whose request did not finish: creating or deleting. */
static void
interrupted(struct finder *f, const struct row *w)
{
	int creating = w->state[0] == 'c';
	char problem[160], action[300];
	json_t *inst = NULL;

	snprintf(problem, sizeof(problem), "%s was interrupted", creating ?
	    "creation" : "deletion");
	if (wait_operations(f, w->project) != 0 ||
	    instance_now(f, w->project, w->name, &inst) != 0) {
		say(f, FIND_PENDING, w->user, w->name, problem, "LXD is busy there "
		    "or cannot say; tried again later");
		return;
	}
	if (!f->repair) {
		snprintf(action, sizeof(action), "%s and release port %d",
		    inst == NULL ? "forget it" : creating ? "remove the "
		    "half-made container" : "finish the deletion", w->port);
		say(f, FIND_WOULD, w->user, w->name, problem, action);
		json_decref(inst);
		return;
	}
	if (inst != NULL && remove_instance(f, w->project, w->name, inst) !=
	    0) {
		snprintf(action, sizeof(action), "LXD refused to delete it "
		    "(%.200s); tried again later", op_lxd_error(f->op));
		say(f, FIND_PENDING, w->user, w->name, problem, action);
		json_decref(inst);
		return;
	}
	if (forget_row(f, w->id) != 0)
		say(f, FIND_PENDING, w->user, w->name, problem, "the database "
		    "cannot be written; tried again later");
	else {
		snprintf(action, sizeof(action), "%s; released port %d",
		    inst == NULL ? "nothing was made" : creating ? "removed the "
		    "half-made container" : "finished the deletion", w->port);
		say(f, FIND_DONE, w->user, w->name, problem, action);
	}
	json_decref(inst);
}

/* A row 'ready' whose instance LXD did not list. */
static void
missing(struct finder *f, const struct row *w)
{
	char action[160];
	json_t *inst = NULL;

	/* Listed a moment ago without it: is it really gone? */
	if (instance_now(f, w->project, w->name, &inst) != 0 || inst != NULL) {
		json_decref(inst);
		return;
	}
	if (!f->repair) {
		snprintf(action, sizeof(action), "release port %d", w->port);
		say(f, FIND_WOULD, w->user, w->name, "deleted outside "
		    "labcontainers", action);
	} else if (forget_row(f, w->id) == 0) {
		snprintf(action, sizeof(action), "released port %d and its "
		    "GPUs", w->port);
		say(f, FIND_DONE, w->user, w->name, "deleted outside "
		    "labcontainers", action);
	} else
		say(f, FIND_PENDING, w->user, w->name, "deleted outside "
		    "labcontainers", "the database cannot be written; tried "
		    "again later");
}

/*
 * Is the instance's ssh device the one labcd makes for the row's port
 * (listen address and all), and with LXD's NAT its eth0 the one that
 * holds the address? 1 yes; else 0, and the device's listen in have.
 */
static int
device_right(const struct config *cfg, json_t *inst, const struct row *w,
    char *have, size_t havesz)
{
	json_t *want = ct_ssh_patch(cfg, w->port, w->network, w->addr), *k_v;
	json_t *devs = json_object_get(inst, "devices");
	json_t *dev = json_object_get(devs, "ssh");
	const char *k;
	int right = 1;

	json_object_foreach(json_object_get(want, "devices"), k, k_v)
		right = right && json_equal(json_object_get(devs, k), k_v);
	snprintf(have, havesz, "%s", json_string_value(json_object_get(dev,
	    "listen")) ?: "");
	json_decref(want);
	return right;
}

/*
 * Its ssh device is missing, on another port, or on another address
 * (ssh_listen changed since it was made): put labcd's back.
 */
static void
wrong_port(struct finder *f, const struct row *w, json_t *seen)
{
	const struct config *cfg = &f->op->srv->cfg;
	char problem[400], action[300], listen[160], want[160];
	json_t *patch, *dev, *inst = NULL;
	int ok, have, quiet, nic_only;

	if (device_right(cfg, seen, w, listen, sizeof(listen)))
		return;
	/*
	 * The pass listed LXD before it held this row: a first start may
	 * have added the device since.
	 */
	if (instance_now(f, w->project, w->name, &inst) != 0 || inst == NULL ||
	    device_right(cfg, inst, w, listen, sizeof(listen))) {
		json_decref(inst);
		return;
	}
	have = device_port(inst);
	/*
	 * A launch adds the device at the first start (ct_start); one that
	 * did not get there is no drift, but gets its device now.
	 */
	quiet = have == 0 && !w->provisioned;
	dev = ct_ssh_device(cfg, w->port, w->addr);
	snprintf(want, sizeof(want), "%s", json_string_value(json_object_get(
	    dev, "listen")));
	nic_only = json_equal(json_object_get(json_object_get(inst,
	    "devices"), "ssh"), dev);
	if (nic_only)
		snprintf(problem, sizeof(problem), "its eth0 is not the one "
		    "that holds its address %s on %.64s alone (the port "
		    "forwards there)", w->addr, w->network);
	else if (have == w->port)
		snprintf(problem, sizeof(problem), "its SSH port device "
		    "listens on %.100s, ssh_listen says %.100s", listen, want);
	else
		snprintf(problem, sizeof(problem), "its SSH port device %s "
		    "port %d, the database %d", have ? "has" : "is missing:",
		    have, w->port);
	json_decref(dev);
	if (!f->repair && quiet) {
		json_decref(inst);
		return;
	}
	if (!f->repair) {
		if (nic_only)
			snprintf(action, sizeof(action), "give it back");
		else if (have == w->port)
			snprintf(action, sizeof(action), "move the device to "
			    "%.100s", want);
		else
			snprintf(action, sizeof(action), "set the device to port "
			    "%d", w->port);
		say(f, FIND_WOULD, w->user, w->name, problem, action);
		json_decref(inst);
		return;
	}
	patch = ct_ssh_patch(cfg, w->port, w->network, w->addr);
	/* A start left running by a labcd that died: lxd_call waits. */
	ok = lxd_instance_patch(op_lxd(f->op), w->project, w->name, patch) ==
	    0;
	if (ok && nic_only)
		snprintf(action, sizeof(action), "gave it back");
	else if (ok && have == w->port)
		snprintf(action, sizeof(action), "moved the device to %.100s",
		    want);
	else if (ok)
		snprintf(action, sizeof(action), "set the device to port %d",
		    w->port);
	else
		snprintf(action, sizeof(action), "LXD refused (%.200s)",
		    op_lxd_error(f->op));
	json_decref(patch);
	json_decref(inst);
	if (quiet && ok)
		log_info("%s/%s: ssh device on port %d added (a launch ended "
		    "before its start)", w->project, w->name, w->port);
	else
		say(f, ok ? FIND_DONE : FIND_PENDING, w->user, w->name, problem,
		    action);
}

/*
 * A locked user's container with an ssh device: locking takes it away
 * (cmd-admin-user-lock.c); here when LXD was away then, or the device
 * came back since.
 */
static void
locked_port(struct finder *f, const struct row *w)
{
	const char *problem = "its user is locked, and it has an SSH port";
	char action[300];
	int r;

	if (!f->repair) {
		say(f, FIND_WOULD, w->user, w->name, problem, "take the port away");
		return;
	}
	r = lxd_instance_remove_device(op_lxd(f->op), w->project, w->name,
	    "ssh");
	if (r == 0 || r == -ENOENT)
		say(f, FIND_DONE, w->user, w->name, problem, "took the port away");
	else {
		snprintf(action, sizeof(action), "LXD refused (%.200s)",
		    op_lxd_error(f->op));
		say(f, FIND_PENDING, w->user, w->name, problem, action);
	}
}

/* Does the instance have GPU devices of its own? */
static int
has_gpus(json_t *inst)
{
	const char *k;
	json_t *d;

	json_object_foreach(json_object_get(inst, "devices"), k, d) {
		if (json_string_value(json_object_get(d, "type")) != NULL &&
		    strcmp(json_string_value(json_object_get(d, "type")),
		    "gpu") == 0)
			return 1;
	}
	return 0;
}

/* With isolate_members: is it in force for the project? Says if not. */
static void
isolation(struct finder *f, const char *user, const char *project)
{
	char why[300], problem[400], what[64], br[ISOLATE_NAME_MAX];
	int r;

	if (!f->op->srv->cfg.isolate_members ||
	    (r = isolate_check(f->op, project, why, sizeof(why))) == 0)
		return;
	isolate_bridge_name(project, br);
	snprintf(what, sizeof(what), "network %s", br);
	snprintf(problem, sizeof(problem), "members are to be kept apart "
	    "(isolate_members), but %s", why);
	if (r < 0 && !f->repair)
		say(f, FIND_WOULD, user, what, problem, "make the bridge and its "
		    "ACL");
	else
		say(f, FIND_OK, user, what, problem, r < 0 ? "could not make it "
		    "so (see labcd's log)" : r == 2 ? "left as it is while a "
		    "container of the member runs (its ACL still rejects all "
		    "of member_subnets); it gets a /24 of member_subnets at "
		    "their next start" : "left running: LXD would swap the nic "
		    "of a running container, leaving it without an address; "
		    "it joins its own bridge at its next start once none of "
		    "the member's containers runs");
}

/*
 * This labcd's bridges whose project is gone (a user deleted while LXD
 * failed, or by an older labcd): labcd made them, so it removes them.
 */
static void
orphans(struct finder *f, json_t *users)
{
	json_t *list = isolate_orphans(f->op), *n;
	const char *owner;
	char what[64], problem[160];
	size_t i;
	int ok;

	json_array_foreach(list, i, n) {
		owner = json_string_value(json_object_get(n, "owner"));
		if (json_object_get(users, owner) != NULL)
			continue;	/* its user's project is made again */
		snprintf(what, sizeof(what), "network %s",
		    json_string_value(json_object_get(n, "name")));
		snprintf(problem, sizeof(problem), "the bridge of project %s, "
		    "which LXD no longer has (its user was deleted)", owner);
		if (!f->repair) {
			say(f, FIND_WOULD, owner, what, problem, "delete it and its "
			    "network ACL");
			continue;
		}
		ok = isolate_remove(f->op, owner) == 0;
		say(f, ok ? FIND_DONE : FIND_PENDING, owner, what, problem, ok ?
		    "deleted it and its network ACL" : "LXD refused (see 'lxc "
		    "network delete')");
	}
	json_decref(list);
}

/*
 * The users' LXD projects: one that is not labcd's for that user is left
 * alone (its instances are not adopted: into *foreign); one an older
 * labcd made without restrictions gets them if it can (project_mend), and
 * every one gets the default project's profiles again where they changed.
 * -1 if LXD did not list them: then whose they are is not known.
 */
static int
projects(struct finder *f, json_t *users, json_t *foreign)
{
	struct lxd *l = op_lxd(f->op);
	json_t *list = NULL, *p, *u;
	const char *name, *user, *why;
	char problem[160], action[400], what[64], reason[300];
	size_t i;

	if (lxd_project_list(l, &list) != 0)
		return -1;	/* the instances say LXD is there; next pass */
	json_array_foreach(list, i, p) {
		name = json_string_value(json_object_get(p, "name"));
		if (name == NULL || (u = json_object_get(users, name)) == NULL)
			continue;
		user = json_string_value(json_array_get(u, 1));
		snprintf(what, sizeof(what), "project %s", name);
		if ((why = project_not_owned(json_object_get(p, "config"),
		    user)) != NULL) {
			json_object_set_new(foreign, name, json_true());
			snprintf(problem, sizeof(problem), "not labcd's: %s",
			    why);
			snprintf(action, sizeof(action), "left alone, its "
			    "containers not adopted; the admin should move them "
			    "and delete it, or mark it: 'lxc project set %s %s "
			    "%s'", name, PROJECT_OWNER_KEY, user);
			say(f, FIND_OK, user, what, problem, action);
			continue;
		}
		switch (project_mend(f->op, name, p, f->repair, reason,
		    sizeof(reason))) {
		case PROJECT_RIGHT:
			break;
		case PROJECT_MENDED:
			say(f, f->repair ? FIND_DONE : FIND_WOULD, user, what, "not "
			    "restricted as labcd makes projects, or its profiles "
			    "differ from the default project's", f->repair ?
			    "restricted it, copied the profiles" : "restrict it, "
			    "copy the profiles");
			break;
		case PROJECT_OLD:
			/* Not "none yet": trying again changes nothing. */
			say(f, FIND_OK, user, what, "unrestricted: an older labcd "
			    "made it without profiles of its own, which LXD adds "
			    "only to an empty project", "left unrestricted while "
			    "it holds containers");
			break;
		case PROJECT_REFUSED:
			snprintf(action, sizeof(action), "left as it is: %.250s; "
			    "the admin should make it fit", reason);
			say(f, FIND_OK, user, what, "not restricted as labcd makes "
			    "projects, or its profiles differ", action);
			break;
		}
		isolation(f, user, name);
	}
	json_decref(list);
	return 0;
}

/* An instance in a user's project that no row accounts for. */
static void
stray(struct finder *f, long long user_id, const char *user,
    const char *project, const char *name, int foreign)
{
	const struct config *cfg = &f->op->srv->cfg;
	int port, taken = 1, locked;
	char action[400], untrusted[128];
	const char *image, *why = NULL;
	json_t *inst = NULL, *ssh;
	struct ct row;

	if (ct_claim(user_id, name) != 0)
		return;		/* a request is on it */
	/* A request may have written the row, or deleted the instance,
	   since the listing. */
	taken = ctdb_exists(f->op->db, user_id, name);
	/* A locked user's: adopting it would give its port back. */
	locked = userdb_locked(f->op->db, user_id);
	if (!taken && locked)
		say(f, FIND_OK, user, name, "not in the database", "left alone "
		    "while its user is locked; adopted after 'admin user "
		    "unlock'");
	if (taken || locked || instance_now(f, project, name, &inst) != 0 ||
	    inst == NULL) {
		json_decref(inst);
		ct_release(user_id, name);
		return;
	}
	port = device_port(inst);
	if (port >= cfg->ssh_port_min && port <= cfg->ssh_port_max)
		taken = ctdb_port_taken(f->op->db, port);
	else
		taken = 1;
	/* Only what labcd could have made; never privileged, raw, ... */
	ssh = ct_ssh_device(cfg, port, NULL);
	if (foreign)
		why = "its project is not labcd's";
	else if (has_gpus(inst))
		why = "it has GPUs that labcd did not give";
	else
		why = project_instance_untrusted(inst, ssh, NULL,
		    cfg->profiles,
		    untrusted, sizeof(untrusted));
	json_decref(ssh);
	if (taken || why != NULL) {
		snprintf(action, sizeof(action), "left alone: %s; the admin "
		    "may delete it with 'lxc delete -f --project %s %s'",
		    why != NULL ? why : port == 0 ? "it has no SSH port device" :
		    port < cfg->ssh_port_min || port > cfg->ssh_port_max ?
		    "its SSH port is outside ssh_ports" :
		    "its SSH port belongs to another container", project, name);
		say(f, FIND_OK, user, name, "not in the database", action);
	} else if (!f->repair) {
		snprintf(action, sizeof(action), "adopt it with port %d", port);
		say(f, FIND_WOULD, user, name, "not in the database", action);
	} else {
		image = json_string_value(json_object_get(json_object_get(inst,
		    "config"), "image.description"));
		memset(&row, 0, sizeof(row));
		row.user_id = user_id;
		snprintf(row.name, sizeof(row.name), "%s", name);
		row.port = port;
		snprintf(row.image, sizeof(row.image), "%s", image != NULL ?
		    image : "?");
		snprintf(row.state, sizeof(row.state), "ready");
		row.created = (long long)time(NULL);
		if (ctdb_insert(f->op->db, &row) != 0) {
			snprintf(action, sizeof(action), "%.200s",
			    f->op->db->err);
			say(f, FIND_PENDING, user, name, "not in the database",
			    action);
		} else {
			snprintf(action, sizeof(action), "adopted it with port "
			    "%d; its user and keys are set up at its next start",
			    port);
			say(f, FIND_DONE, user, name, "not in the database",
			    action);
		}
	}
	json_decref(inst);
	ct_release(user_id, name);
}

/* The users' projects: "project" -> [user id, name]. */
static json_t *
users_by_project(struct op *op)
{
	json_t *users = json_object();
	struct user_row *us;
	int i, nus;

	nus = userdb_all(op->db, &us);
	for (i = 0; i < nus; i++) {
		char project[PROJECT_MAX];

		project_name(op->srv->cfg.project_prefix, us[i].project,
		    us[i].name, project);
		json_object_set_new(users, project, json_pack("[I, s]",
		    (json_int_t)us[i].id, us[i].name));
	}
	free(us);
	return users;
}

/* The instances of list in users' projects, by "project/name". */
static json_t *
index_instances(json_t *list, json_t *users)
{
	json_t *idx = json_object(), *inst;
	size_t i;

	json_array_foreach(list, i, inst) {
		const char *p = json_string_value(json_object_get(inst,
		    "project"));
		const char *n = json_string_value(json_object_get(inst, "name"));
		char *k;

		if (p == NULL || n == NULL || json_object_get(users, p) == NULL)
			continue;
		k = xasprintf("%s/%s", p, n);
		json_object_set(idx, k, inst);
		free(k);
	}
	return idx;
}

/*
 * The rows, read whole before anything is written: a statement kept
 * open would pin a snapshot that later writes of others make stale.
 */
static struct row *
read_rows(struct op *op, size_t *nrows)
{
	struct ct_owned *owned;
	struct row *rows = NULL;
	size_t i;

	ctdb_list_owned(op->db, 1, 0, 1, &owned, nrows);
	if (*nrows > 0)
		rows = xcalloc(*nrows, sizeof(*rows));
	for (i = 0; i < *nrows; i++) {
		struct row *w = &rows[i];

		w->id = owned[i].ct.id;
		w->user_id = owned[i].ct.user_id;
		snprintf(w->user, sizeof(w->user), "%s", owned[i].user);
		project_name(op->srv->cfg.project_prefix, owned[i].project,
		    owned[i].user, w->project);
		snprintf(w->name, sizeof(w->name), "%s", owned[i].ct.name);
	}
	free(owned);
	return rows;
}

/* What to say of an instance on a member LXD cannot reach. */
static const char *
unreachable_why(json_t *inst)
{
	static _Thread_local char why[160];

	snprintf(why, sizeof(why), "its server %s does not answer: compared "
	    "again when it does", json_string_value(json_object_get(inst,
	    "location")) ?: "?");
	return why;
}

/* Each row against its instance (taken out of idx). */
static void
check_rows(struct finder *f, struct row *rows, size_t nrows, json_t *idx)
{
	json_t *inst;
	size_t i;

	for (i = 0; i < nrows && !bg_stopping; i++) {
		struct row *w = &rows[i];
		char *k = xasprintf("%s/%s", w->project, w->name);

		inst = json_incref(json_object_get(idx, k));
		json_object_del(idx, k);
		free(k);
		/* A request holds it: its outcome is its own to record. */
		if (ct_claim(w->user_id, w->name) != 0) {
			json_decref(inst);
			continue;
		}
		if (reread(f, w) == 0) {
			if (inst != NULL && lxd_instance_unreachable(inst))
				say(f, FIND_PENDING, w->user, w->name,
				    "on a server LXD cannot reach now",
				    unreachable_why(inst));
			else if (strcmp(w->state, "creating") == 0 ||
			    strcmp(w->state, "deleting") == 0)
				interrupted(f, w);
			else if (inst == NULL)
				missing(f, w);
			else if (w->locked) {
				/* Meant to have no port: never given back. */
				if (json_object_get(json_object_get(inst,
				    "devices"), "ssh") != NULL)
					locked_port(f, w);
			} else
				wrong_port(f, w, inst);
		}
		ct_release(w->user_id, w->name);
		json_decref(inst);
	}
}

/*
 * The instances left in idx: no row accounts for them. owners: whether
 * projects() could tell whose each project is (0 yes).
 */
static void
check_strays(struct finder *f, json_t *idx, json_t *users, json_t *foreign,
    int owners)
{
	const char *key;
	json_t *inst;
	void *tmp;

	json_object_foreach_safe(idx, tmp, key, inst) {
		const char *slash = strchr(key, '/');
		char project[64];
		json_t *u;

		if (bg_stopping)
			break;
		if (lxd_instance_unreachable(inst))
			continue;	/* nothing known of it but its name */
		snprintf(project, sizeof(project), "%.*s", (int)(slash - key),
		    key);
		u = json_object_get(users, project);
		/* Without the owner keys, no project is known to be labcd's. */
		if (owners != 0) {
			say(f, FIND_PENDING, json_string_value(json_array_get(u,
			    1)), slash + 1, "not in the database", "LXD did not "
			    "list the projects, so whose it is is not known; "
			    "tried again later");
			continue;
		}
		stray(f, (long long)json_integer_value(json_array_get(u, 0)),
		    json_string_value(json_array_get(u, 1)), project, slash + 1,
		    json_object_get(foreign, project) != NULL);
	}
}

int
reconcile_run(struct op *op, int repair, struct findings *findings)
{
	struct finder f = { .op = op, .repair = repair, .findings = findings };
	struct lxd *l = op_lxd(op);
	json_t *list = NULL, *idx, *users, *foreign;
	struct row *rows;
	size_t nrows = 0;
	int owners;

	if (repair && db_readonly(op->db))
		return op_fail(op, PROTO_FAILED, "the database is read-only: "
		    "nothing can be mended; use --dry-run to see the "
		    "differences");
	pthread_mutex_lock(&run_lock);
	if (lxd_instance_list(l, NULL, 0, &list) != 0) {
		pthread_mutex_unlock(&run_lock);
		return op_fail(op, PROTO_FAILED, "cannot compare with LXD: %s",
		    lxd_error(l));
	}
	f.waited = json_object();
	users = users_by_project(op);
	idx = index_instances(list, users);
	json_decref(list);
	foreign = json_object();
	owners = projects(&f, users, foreign);
	orphans(&f, users);
	rows = read_rows(op, &nrows);
	check_rows(&f, rows, nrows, idx);
	free(rows);
	check_strays(&f, idx, users, foreign, owners);
	json_decref(foreign);
	json_decref(idx);
	json_decref(users);
	json_decref(f.waited);
	pthread_mutex_unlock(&run_lock);
	return PROTO_OK;
}

/* ---- the background reconciler ----------------------------------------- */

#define RETRY_LXD	5	/* seconds, while LXD does not answer */
#define RETRY_LEFT	30	/* seconds, while something is left to mend */

static pthread_mutex_t	 bg_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 bg_wake = PTHREAD_COND_INITIALIZER;
static int		 bg_pending = 1;	/* at start-up */
static int		 bg_started;
static pthread_t	 bg_thread;

void
reconcile_soon(void)
{
	pthread_mutex_lock(&bg_lock);
	bg_pending = 1;
	pthread_cond_signal(&bg_wake);
	pthread_mutex_unlock(&bg_lock);
}

/*
 * One background pass, on a database connection of its own made for it
 * (so a file system turned writable again is seen as such). Seconds
 * until the next pass, or 0 for the configured interval.
 */
static int
bg_run(struct server *s, struct lxd **l, int *failing)
{
	/* labcd itself acts: the audit rows' actor, as root would. */
	static const struct ident labcd = { .root = 1, .admin = 1,
	    .actor = "labcd", .via = "root" };
	struct op op;
	struct db *db;
	struct findings findings = { 0 };
	const struct finding *fd;
	char err[512];
	size_t i, left = 0;
	int r;

	if ((db = db_open(s->db_path, err, sizeof(err))) == NULL) {
		if (!*failing)
			log_error("reconcile: %s", err);
		*failing = 1;
		return RETRY_LEFT;
	}
	op_init(&op, s, db, l, &labcd, "reconcile");
	/* Read-only database: say what differs, mend nothing. */
	r = reconcile_run(&op, !db_readonly(db), &findings);
	if (r == PROTO_FAILED) {
		if (!*failing)
			log_warn("reconcile: %s; trying again every %d s",
			    op.cause, RETRY_LXD);
		*failing = 1;
	} else {
		*failing = 0;
		for (i = 0; i < findings.n; i++) {
			fd = &findings.v[i];
			if (fd->kind == FIND_PENDING)
				left++;
			log_warn("reconcile: %s/%s: %s: %s", fd->user,
			    fd->container, fd->problem, fd->action);
		}
		log_info("reconcile: database and LXD compared, %zu "
		    "difference%s", findings.n, findings.n == 1 ? "" : "s");
	}
	findings_free(&findings);
	op_end(&op);
	db_close(db);
	/*
	 * A pass holds every instance of labcd's projects as JSON at once
	 * (some MiB with hundreds): give back the pages it freed, or they
	 * stay labcd's between passes.
	 */
	malloc_trim(0);
	return r == PROTO_FAILED ? RETRY_LXD : left > 0 ? RETRY_LEFT : 0;
}

static void *
bg_main(void *arg)
{
	struct server *s = arg;
	struct lxd *l = NULL;
	time_t next = 0;
	int failing = 0, again;

	pthread_mutex_lock(&bg_lock);
	while (!bg_stopping) {
		time_t now = time(NULL);

		if (!bg_pending && (next == 0 || now < next)) {
			struct timespec ts;

			if (next == 0)		/* nothing planned: when asked */
				pthread_cond_wait(&bg_wake, &bg_lock);
			else {
				clock_gettime(CLOCK_REALTIME, &ts);
				ts.tv_sec += next - now;
				pthread_cond_timedwait(&bg_wake, &bg_lock, &ts);
			}
			continue;
		}
		bg_pending = 0;
		pthread_mutex_unlock(&bg_lock);
		again = bg_run(s, &l, &failing);
		next = again > 0 ? time(NULL) + again :
		    s->cfg.reconcile_interval > 0 ?
		    time(NULL) + s->cfg.reconcile_interval : 0;
		pthread_mutex_lock(&bg_lock);
	}
	pthread_mutex_unlock(&bg_lock);
	lxd_free(l);
	return NULL;
}

void
reconcile_start(struct server *s)
{
	if (pthread_create(&bg_thread, NULL, bg_main, s) != 0) {
		log_error("cannot start the reconciler: run 'labc admin "
		    "reconcile' by hand");
		return;
	}
	bg_started = 1;
}

void
reconcile_stop(void)
{
	if (!bg_started)
		return;
	pthread_mutex_lock(&bg_lock);
	bg_stopping = 1;
	pthread_cond_signal(&bg_wake);
	pthread_mutex_unlock(&bg_lock);
	pthread_join(bg_thread, NULL);
	bg_started = 0;
}

/* What reconcile_run (only looking) finds, as rows: LXD is the truth. */
void
reconcile_doctor(struct checkup *d)
{
	struct op *op = checkup_op(d);
	struct findings found = { 0 };
	size_t i;

	if (reconcile_run(op, 0, &found) != 0) {
		checkup_row(d, "drift", "warn", NULL, "could not compare the "
		    "database with LXD: %s", op->cause);
		findings_free(&found);
		return;
	}
	for (i = 0; i < found.n; i++) {
		const struct finding *f = &found.v[i];
		char *fix = f->kind == FIND_WOULD ?
		    xasprintf("labc admin reconcile (it will %s)", f->what) :
		    xstrdup(f->action);

		checkup_row(d, "drift", "problem", fix, "%s/%s: %s", f->user,
		    f->container, f->problem);
		free(fix);
	}
	if (found.n == 0)
		checkup_row(d, "drift", "ok", NULL, "the database and LXD "
		    "agree");
	findings_free(&found);
}
