/*
 * reconcile-watch.c - reconciliation when it is needed: the view
 * (view.c) tells of every instance that changed, and the changes that
 * make the database and LXD disagree wake the background reconciler at
 * once, instead of at its next interval (which stays, as a safety net).
 *
 * A change is drift when nobody in labcd is changing that container
 * (ct_claimed) and it is one of these: a container of a lab user's that
 * the database holds as ready is gone; an instance of a lab user's project
 * that the database does not have changed (made with lxc); a container's ssh
 * device is not the one labcd made for its port (moved, or removed from
 * one that had it). Everything else (a start, a stop, labcd's own work)
 * is not. The reconciler then decides, as always, with LXD's word and
 * the row claimed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claim.h"
#include "ct-ssh.h"
#include "db-containers.h"
#include "db-users.h"
#include "labcd.h"
#include "log.h"
#include "project.h"
#include "reconcile.h"
#include "view.h"

/* The view's thread's own database connection, made when first needed. */
static struct db *watch_db;

/* The lab user whose project is project: 0 and *u, or -1. */
static int
owner(struct server *s, const char *project, struct user_row *u)
{
	struct user_row *us;
	char p[PROJECT_MAX];
	int i, n, r = -1;

	if ((n = userdb_all(watch_db, &us)) < 0)
		return -1;
	for (i = 0; i < n && r != 0; i++) {
		project_name(s->cfg.project_prefix, us[i].project, us[i].name,
		    p);
		if (strcmp(p, project) == 0) {
			*u = us[i];
			r = 0;
		}
	}
	free(us);
	return r;
}

/* Why this change is drift, or NULL if it is not. */
static const char *
drift(struct server *s, const struct view_ct *before,
    const struct view_ct *after)
{
	const struct view_ct *v = after != NULL ? after : before;
	struct user_row u;
	struct ct ct;
	json_t *want;
	const char *why = NULL;
	int have;

	if (owner(s, v->project, &u) != 0 || ct_claimed(u.id, v->name))
		return NULL;
	have = ctdb_get(watch_db, u.id, v->name, &ct) == 0;
	if (after == NULL)
		return have && strcmp(ct.state, "ready") == 0 &&
		    !ct_claimed(u.id, v->name) ? "was deleted" : NULL;
	if (!have)	/* made or changed with lxc: adopted, or said */
		return !ct_claimed(u.id, v->name) ?
		    "is not in the database" : NULL;
	if (strcmp(ct.state, "ready") != 0)
		return NULL;
	want = ct_ssh_device(&s->cfg, ct.port, ct.addr);
	if (after->has_ssh && strcmp(after->ssh_listen, json_string_value(
	    json_object_get(want, "listen")) ?: "") != 0)
		why = "had its SSH port device changed";
	else if (!after->has_ssh && ct.provisioned && !u.disabled &&
	    before != NULL && before->has_ssh)
		why = "lost its SSH port device";
	json_decref(want);
	return why;
}

void
reconcile_on_change(struct server *s, const struct view_ct *before,
    const struct view_ct *after)
{
	const struct view_ct *v = after != NULL ? after : before;
	const char *why;
	char err[512];

	if (!s->cfg.reconcile_on_change)
		return;
	/* Its member is out of reach: nothing of it is known now. */
	if (after != NULL && after->unreachable)
		return;
	if (watch_db == NULL &&
	    (watch_db = db_open(s->db_path, err, sizeof(err))) == NULL) {
		log_error("reconcile: %s", err);
		return;
	}
	if ((why = drift(s, before, after)) != NULL) {
		log_info("reconcile: %s/%s %s, as LXD's events say: comparing "
		    "now", v->project, v->name, why);
		reconcile_soon();
	}
}

void
reconcile_watch_close(void)
{
	db_close(watch_db);
	watch_db = NULL;
}
