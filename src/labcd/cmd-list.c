/*
 * cmd-list.c - list: your containers (or everyone's with --all, for
 * admins), from one LXD request whatever their number, plus one for the
 * DHCP leases of each (project, network) among the running ones.
 *
 * Why not the state of the instances (recursion=2), which has their
 * addresses? LXD then reads every running container's cgroups, disk use
 * and interfaces: with 30 containers that one request took 5 times as
 * long as the list without state, and most of 'lxc list'. The address a
 * container got from LXD's DHCP is its lease; a container whose network
 * has no leases (not managed by LXD) falls back to its own state.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct.h"
#include "leases.h"
#include "lxd.h"
#include "proto.h"
#include "xmalloc.h"

/* "running" from "Running"; "missing" when LXD has no such instance. */
static void
state_word(json_t *inst, char *out, size_t outsz)
{
	const char *s = json_string_value(json_object_get(inst, "status"));
	size_t i;

	snprintf(out, outsz, "%s", inst == NULL ? "missing" : s ? s : "?");
	for (i = 0; out[i] != '\0'; i++)
		out[i] = (char)(out[i] >= 'A' && out[i] <= 'Z' ? out[i] + 32 :
		    out[i]);
}

/*
 * The IPv4 address of a running instance (recursion=1 object): LXD's
 * DHCP lease (leases.c). If a NIC's network gives no leases, the
 * instance's own state says (one request): shown, never dialled.
 * Caller frees.
 */
static char *
instance_ipv4(struct leases *ls, struct lxd *l, json_t *inst,
    const char *project)
{
	const char *iname = json_string_value(json_object_get(inst, "name"));
	char *ip;
	json_t *st = NULL;
	int unmanaged;

	if ((ip = leases_ipv4(ls, inst, project, &unmanaged)) != NULL ||
	    !unmanaged)
		return ip;
	if (iname != NULL && lxd_instance_state(l, project, iname, &st) == 0 &&
	    lxd_state_ipv4(st, NULL) != NULL)
		ip = xstrdup(lxd_state_ipv4(st, NULL));
	json_decref(st);
	return ip;
}

/* Index LXD's instances by "project/name". */
static json_t *
index_instances(json_t *list)
{
	json_t *idx = json_object(), *v;
	size_t i;

	json_array_foreach(list, i, v) {
		const char *p = json_string_value(json_object_get(v, "project"));
		const char *n = json_string_value(json_object_get(v, "name"));
		char *key;

		if (n == NULL)
			continue;
		key = xasprintf("%s/%s", p != NULL ? p : "default", n);
		json_object_set(idx, key, v);
		free(key);
	}
	return idx;
}

static int
cmd_list_exec(struct ctx *c)
{
	static const char *const cols[] = { "name", "state", "ipv4", "port#",
	    "image", NULL };
	static const char *const cols_all[] = { "owner", "name", "state",
	    "ipv4", "port#", "image", NULL };
	int all = cmd_opt(c, "all") != NULL;
	struct lxd *l;
	struct table *t;
	sqlite3_stmt *st;
	struct leases *ls;
	json_t *list = NULL, *idx;
	char project[64];
	int r;

	if (!all && c->id.user_id == 0)
		return ctx_error(c, "you have no lab user: log in, use --as "
		    "USER, or (admins) list --all");
	l = ctx_lxd(c);
	if (all)
		r = lxd_instance_list(l, NULL, 0, &list);
	else {
		ct_project_of(c, c->id.user_id, c->id.user, project);
		r = lxd_instance_list(l, project, 0, &list);
		if (r == -ENOENT) {	/* no project yet: no containers */
			list = json_array();
			r = 0;
		}
	}
	if (r != 0)
		return ctx_error(c, "%s", lxd_error(l));
	if (!all) {	/* one project: say which, whatever LXD says */
		json_t *v;
		size_t i;

		json_array_foreach(list, i, v)
			json_object_set_new(v, "project", json_string(project));
	}
	idx = index_instances(list);
	json_decref(list);
	ls = leases_new(l);

	t = table_new(all ? cols_all : cols);
	st = db_prepare(c->db, "SELECT u.name, coalesce(u.project, ? || u.name), "
	    "c.name, c.port, c.image, c.state FROM containers c JOIN users u "
	    "ON u.id = c.user_id WHERE ?2 OR u.id = ?3 ORDER BY u.name, c.name");
	sqlite3_bind_text(st, 1, c->srv->cfg.project_prefix, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, all);
	sqlite3_bind_int64(st, 3, c->id.user_id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *owner = (const char *)sqlite3_column_text(st, 0);
		char *key = xasprintf("%s/%s", sqlite3_column_text(st, 1),
		    sqlite3_column_text(st, 2));
		json_t *inst = json_object_get(idx, key);
		char state[32], port[16], *ip = NULL;

		free(key);
		state_word(inst, state, sizeof(state));
		if (strcmp(state, "running") == 0)
			ip = instance_ipv4(ls, l, inst, (const char *)
			    sqlite3_column_text(st, 1));
		if (strcmp((const char *)sqlite3_column_text(st, 5), "ready") != 0)
			snprintf(state, sizeof(state), "%s",
			    sqlite3_column_text(st, 5));
		snprintf(port, sizeof(port), "%d", sqlite3_column_int(st, 3));
		if (all)
			table_add(t, owner, sqlite3_column_text(st, 2), state,
			    ip ? ip : "-", port, sqlite3_column_text(st, 4));
		else
			table_add(t, sqlite3_column_text(st, 2), state,
			    ip ? ip : "-", port, sqlite3_column_text(st, 4));
		free(ip);
	}
	sqlite3_finalize(st);
	leases_free(ls);
	json_decref(idx);
	ctx_table(c, "containers", t);
	table_free(t);
	return PROTO_OK;
}

const struct cmd_entry cmd_list_entry = {
	.name = "list",
	.args = "[--all]",
	.summary = "list your containers",
	.help = "state is LXD's; 'missing' means the container was deleted\n"
	    "outside labcontainers. ipv4 is the address LXD's DHCP gave a\n"
	    "running container ('details' shows what the container itself\n"
	    "says). Admins see everyone's with --all.",
	.flags = CMD_READONLY | CMD_NOAUDIT | CMD_FORMAT,
	.opts = { { "all", 'a', CMD_ADMIN, NULL } },
	.exec = cmd_list_exec,
};
