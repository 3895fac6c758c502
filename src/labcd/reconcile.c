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
 *   instance without a row             adopt it if its port is free,
 *                                      else leave it and say so
 *
 * It never deletes a container that no row accounts for.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ct.h"
#include "log.h"
#include "lxd.h"
#include "proto.h"
#include "reconcile.h"
#include "xmalloc.h"

#define OP_WAIT		120	/* seconds for an operation left running */

/* One run at a time: the background one and 'admin reconcile'. */
static pthread_mutex_t run_lock = PTHREAD_MUTEX_INITIALIZER;

struct finder {
	struct ctx	*c;
	int		 repair;
	json_t		*findings;
	json_t		*waited;	/* projects whose operations ended */
};

static void
say(struct finder *f, const char *user, const char *name,
    const char *problem, const char *action)
{
	struct ctx *c = f->c;

	json_array_append_new(f->findings, json_pack("{s:s, s:s, s:s, s:s}",
	    "user", user, "container", name, "problem", problem,
	    "action", action));
	if (f->repair) {
		/* Each repair is a change: one audit row each. */
		ctx_target(c, "%s/%s", user, name);
		audit(c, action);
	}
}

/*
 * Let LXD finish what it was doing in a project: after labcd was killed
 * its last operation may still run, and its outcome decides.
 */
static void
wait_operations(struct finder *f, const char *project)
{
	struct lxd *l = ctx_lxd(f->c);
	json_t *ops = NULL, *op;
	char *path, *esc;
	size_t i;

	if (json_object_get(f->waited, project) != NULL)
		return;
	json_object_set_new(f->waited, project, json_true());
	esc = lxd_escape(project);
	path = xasprintf("/1.0/operations?project=%s&recursion=1", esc);
	free(esc);
	if (lxd_call(l, "GET", path, NULL, &ops) == 0) {
		json_array_foreach(json_object_get(ops, "running"), i, op) {
			const char *id = json_string_value(json_object_get(op,
			    "id"));
			char *opath;

			if (id == NULL)
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
}

/* LXD's instance now, or NULL (gone); -1 if LXD cannot say. */
static int
instance_now(struct finder *f, const char *project, const char *name,
    json_t **inst)
{
	int r = lxd_instance_get(ctx_lxd(f->c), project, name, inst);

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
	struct lxd *l = ctx_lxd(f->c);
	const char *status = json_string_value(json_object_get(inst, "status"));
	int r;

	if (status != NULL && strcmp(status, "Stopped") != 0 &&
	    lxd_instance_set_state(l, project, name, "stop", -1, 1) != 0 &&
	    strstr(lxd_error(l), "already stopped") == NULL)
		return -1;
	r = lxd_instance_delete(l, project, name);
	return r == 0 || r == -ENOENT ? 0 : -1;
}

static void
forget_row(struct finder *f, long long id)
{
	sqlite3_stmt *st = db_prepare(f->c->db,
	    "DELETE FROM containers WHERE id = ?");

	sqlite3_bind_int64(st, 1, id);
	if (db_done(f->c->db, st) != 0)
		log_error("reconcile: %s", f->c->db->err);
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

/* A row whose request did not finish: creating or deleting. */
static void
interrupted(struct finder *f, long long id, const char *user,
    const char *project, const char *name, int port, int creating)
{
	char problem[160], action[200];
	json_t *inst = NULL;

	snprintf(problem, sizeof(problem), "%s was interrupted", creating ?
	    "creation" : "deletion");
	wait_operations(f, project);
	if (instance_now(f, project, name, &inst) != 0) {
		say(f, user, name, problem, "none: LXD cannot say whether the "
		    "container exists; tried again later");
		return;
	}
	if (!f->repair) {
		snprintf(action, sizeof(action), "would %s and release port %d",
		    inst == NULL ? "forget it" : creating ? "remove the "
		    "half-made container" : "finish the deletion", port);
		say(f, user, name, problem, action);
		json_decref(inst);
		return;
	}
	if (inst != NULL && remove_instance(f, project, name, inst) != 0) {
		snprintf(action, sizeof(action), "none: LXD refused to delete "
		    "it (%s); tried again later", ctx_lxd_error(f->c));
		say(f, user, name, problem, action);
		json_decref(inst);
		reconcile_soon();
		return;
	}
	forget_row(f, id);
	snprintf(action, sizeof(action), "%s; released port %d", inst == NULL ?
	    "nothing was made" : creating ? "removed the half-made container" :
	    "finished the deletion", port);
	say(f, user, name, problem, action);
	json_decref(inst);
}

/* A row 'ready' whose instance LXD did not list. */
static void
missing(struct finder *f, long long id, const char *user,
    const char *project, const char *name, int port)
{
	char action[160];
	json_t *inst = NULL;

	/* Listed a moment ago without it: is it really gone? */
	if (instance_now(f, project, name, &inst) != 0 || inst != NULL) {
		json_decref(inst);
		return;
	}
	if (f->repair) {
		forget_row(f, id);
		snprintf(action, sizeof(action), "released port %d and its "
		    "GPUs", port);
	} else
		snprintf(action, sizeof(action), "would release port %d",
		    port);
	say(f, user, name, "deleted outside labcontainers", action);
}

static void
wrong_port(struct finder *f, const char *user, const char *project,
    const char *name, int have, int want)
{
	const struct config *cfg = &f->c->srv->cfg;
	char problem[160], action[160], listen[96];
	json_t *patch;

	snprintf(problem, sizeof(problem), "its SSH port device %s port %d, "
	    "the database %d", have ? "has" : "is missing:", have, want);
	if (!f->repair) {
		snprintf(action, sizeof(action), "would set the device to port "
		    "%d", want);
		say(f, user, name, problem, action);
		return;
	}
	snprintf(listen, sizeof(listen), "tcp:%s:%d", cfg->ssh_listen, want);
	patch = json_pack("{s:{s:{s:s, s:s, s:s}}}", "devices", "ssh", "type",
	    "proxy", "listen", listen, "connect", "tcp:127.0.0.1:22");
	if (lxd_instance_patch(ctx_lxd(f->c), project, name, patch) == 0)
		snprintf(action, sizeof(action), "set the device to port %d",
		    want);
	else
		snprintf(action, sizeof(action), "none: LXD refused (%s)",
		    ctx_lxd_error(f->c));
	json_decref(patch);
	say(f, user, name, problem, action);
}

/* An instance in a user's project that no row accounts for. */
static void
stray(struct finder *f, long long user_id, const char *user,
    const char *project, const char *name, json_t *inst)
{
	const struct config *cfg = &f->c->srv->cfg;
	const char *image = json_string_value(json_object_get(json_object_get(
	    inst, "config"), "image.description"));
	int port = device_port(inst), taken = 1;
	char action[300];
	sqlite3_stmt *st;

	if (ct_busy(user_id, name))
		return;
	/* A request may have written the row since the listing. */
	st = db_prepare(f->c->db, "SELECT 1 FROM containers WHERE "
	    "user_id = ? AND name = ?");
	sqlite3_bind_int64(st, 1, user_id);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		sqlite3_finalize(st);
		return;
	}
	sqlite3_finalize(st);
	if (port >= cfg->ssh_port_min && port <= cfg->ssh_port_max) {
		st = db_prepare(f->c->db, "SELECT 1 FROM containers WHERE "
		    "port = ?");
		sqlite3_bind_int(st, 1, port);
		taken = sqlite3_step(st) == SQLITE_ROW;
		sqlite3_finalize(st);
	}
	if (taken) {
		snprintf(action, sizeof(action), "left alone: %s; the admin "
		    "may delete it with 'lxc delete -f --project %s %s'",
		    port == 0 ? "it has no SSH port device" :
		    port < cfg->ssh_port_min || port > cfg->ssh_port_max ?
		    "its SSH port is outside ssh_ports" :
		    "its SSH port belongs to another container", project, name);
		say(f, user, name, "not in the database", action);
		return;
	}
	if (!f->repair) {
		snprintf(action, sizeof(action), "would adopt it with port %d",
		    port);
		say(f, user, name, "not in the database", action);
		return;
	}
	st = db_prepare(f->c->db, "INSERT INTO containers (user_id, name, "
	    "port, image, state, created) VALUES (?, ?, ?, ?, 'ready', ?)");
	sqlite3_bind_int64(st, 1, user_id);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, port);
	sqlite3_bind_text(st, 4, image != NULL ? image : "?", -1,
	    SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (long long)time(NULL));
	if (db_done(f->c->db, st) != 0)
		snprintf(action, sizeof(action), "none: %.200s", f->c->db->err);
	else
		snprintf(action, sizeof(action), "adopted it with port %d; "
		    "its user and keys are set up at its next start", port);
	say(f, user, name, "not in the database", action);
}

int
reconcile_run(struct ctx *c, int repair, json_t *findings)
{
	struct finder f = { .c = c, .repair = repair, .findings = findings };
	struct lxd *l = ctx_lxd(c);
	json_t *list = NULL, *idx, *inst, *users;
	sqlite3_stmt *st;
	const char *key;
	size_t i;
	void *tmp;

	pthread_mutex_lock(&run_lock);
	if (lxd_instance_list(l, NULL, 0, &list) != 0) {
		pthread_mutex_unlock(&run_lock);
		return ctx_error(c, "cannot compare with LXD: %s", lxd_error(l));
	}
	f.waited = json_object();

	/* The users' projects: "project" -> [user id, name]. */
	users = json_object();
	st = db_prepare(c->db, "SELECT id, name, coalesce(project, ? || name) "
	    "FROM users");
	sqlite3_bind_text(st, 1, c->srv->cfg.project_prefix, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW)
		json_object_set_new(users, (const char *)sqlite3_column_text(st,
		    2), json_pack("[I, s]", (json_int_t)sqlite3_column_int64(st,
		    0), sqlite3_column_text(st, 1)));
	sqlite3_finalize(st);

	/* Their instances by "project/name". */
	idx = json_object();
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
	json_decref(list);

	st = db_prepare(c->db, "SELECT c.id, c.user_id, u.name, "
	    "coalesce(u.project, ? || u.name), c.name, c.port, c.state "
	    "FROM containers c JOIN users u ON u.id = c.user_id ORDER BY c.id");
	sqlite3_bind_text(st, 1, c->srv->cfg.project_prefix, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		long long id = sqlite3_column_int64(st, 0);
		long long uid = sqlite3_column_int64(st, 1);
		char user[64], project[64], name[64], state[16], *k;
		int port = sqlite3_column_int(st, 5), have;

		snprintf(user, sizeof(user), "%s", sqlite3_column_text(st, 2));
		snprintf(project, sizeof(project), "%s",
		    sqlite3_column_text(st, 3));
		snprintf(name, sizeof(name), "%s", sqlite3_column_text(st, 4));
		snprintf(state, sizeof(state), "%s", sqlite3_column_text(st, 6));
		k = xasprintf("%s/%s", project, name);
		inst = json_incref(json_object_get(idx, k));
		json_object_del(idx, k);
		free(k);
		if (ct_busy(uid, name)) {
			json_decref(inst);
			continue;
		}
		if (strcmp(state, "creating") == 0 ||
		    strcmp(state, "deleting") == 0)
			interrupted(&f, id, user, project, name, port,
			    state[0] == 'c');
		else if (inst == NULL)
			missing(&f, id, user, project, name, port);
		else if ((have = device_port(inst)) != port)
			wrong_port(&f, user, project, name, have, port);
		json_decref(inst);
	}
	sqlite3_finalize(st);

	json_object_foreach_safe(idx, tmp, key, inst) {
		const char *slash = strchr(key, '/');
		char project[64];
		json_t *u;

		snprintf(project, sizeof(project), "%.*s", (int)(slash - key),
		    key);
		u = json_object_get(users, project);
		stray(&f, (long long)json_integer_value(json_array_get(u, 0)),
		    json_string_value(json_array_get(u, 1)), project, slash + 1,
		    inst);
	}
	json_decref(idx);
	json_decref(users);
	json_decref(f.waited);
	pthread_mutex_unlock(&run_lock);
	return PROTO_OK;
}

/* ---- the background reconciler ----------------------------------------- */

static pthread_mutex_t	 bg_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 bg_wake = PTHREAD_COND_INITIALIZER;
static int		 bg_pending = 1;	/* at start-up */
static int		 bg_stopping;
static int		 bg_started;
static pthread_t	 bg_thread;

static const struct cmd_entry bg_cmd = { .name = "reconcile" };

void
reconcile_soon(void)
{
	pthread_mutex_lock(&bg_lock);
	bg_pending = 1;
	pthread_cond_signal(&bg_wake);
	pthread_mutex_unlock(&bg_lock);
}

/* One background run: 0 done, -1 LXD or the database did not answer. */
static int
bg_run(struct server *s, struct db **db, struct lxd **l)
{
	struct ctx c;
	json_t *findings, *fd;
	char err[512];
	size_t i;
	int r;

	if (*db == NULL && (*db = db_open(s->db_path, err, sizeof(err))) ==
	    NULL) {
		log_error("reconcile: %s", err);
		return -1;
	}
	memset(&c, 0, sizeof(c));
	c.srv = s;
	c.fd = -1;
	c.dead = 1;		/* no client to tell */
	c.db = *db;
	c.lxdp = l;
	c.cmd = &bg_cmd;
	c.id.root = c.id.admin = 1;
	snprintf(c.id.actor, sizeof(c.id.actor), "labcd");
	snprintf(c.id.via, sizeof(c.id.via), "root");
	buf_init(&c.out, 64 * 1024);
	buf_init(&c.err, 64 * 1024);
	findings = json_array();
	r = reconcile_run(&c, 1, findings);
	if (r != 0)
		log_debug("reconcile: %s", buf_str(&c.err));
	json_array_foreach(findings, i, fd)
		log_warn("reconcile: %s/%s: %s: %s",
		    json_string_value(json_object_get(fd, "user")),
		    json_string_value(json_object_get(fd, "container")),
		    json_string_value(json_object_get(fd, "problem")),
		    json_string_value(json_object_get(fd, "action")));
	if (r == 0)
		log_info("reconcile: database and LXD compared, %zu "
		    "difference%s", json_array_size(findings),
		    json_array_size(findings) == 1 ? "" : "s");
	json_decref(findings);
	buf_free(&c.out);
	buf_free(&c.err);
	return r == 0 ? 0 : -1;
}

static void *
bg_main(void *arg)
{
	struct server *s = arg;
	struct db *db = NULL;
	struct lxd *l = NULL;
	time_t next = 0;
	int failing = 0;

	pthread_mutex_lock(&bg_lock);
	while (!bg_stopping) {
		struct timespec ts;
		time_t now = time(NULL);
		int due = bg_pending || (s->cfg.reconcile_interval > 0 &&
		    now >= next);

		if (!due) {
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 2;
			pthread_cond_timedwait(&bg_wake, &bg_lock, &ts);
			continue;
		}
		bg_pending = 0;
		pthread_mutex_unlock(&bg_lock);
		if (bg_run(s, &db, &l) != 0) {
			if (!failing)
				log_warn("reconcile: LXD does not answer; "
				    "trying again every 5 s");
			failing = 1;
			pthread_mutex_lock(&bg_lock);
			bg_pending = 1;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 5;
			if (!bg_stopping)
				pthread_cond_timedwait(&bg_wake, &bg_lock, &ts);
			continue;
		}
		failing = 0;
		next = time(NULL) + s->cfg.reconcile_interval;
		pthread_mutex_lock(&bg_lock);
	}
	pthread_mutex_unlock(&bg_lock);
	db_close(db);
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
