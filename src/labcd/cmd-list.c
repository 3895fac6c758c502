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
#include "project.h"
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
	struct leases *ls;
	struct ct_owned *rows;
	json_t *list = NULL, *idx;
	char project[64];
	size_t i, n;
	int r;

	if (!all && c->id.user_id == 0)
		return ctx_error(c, "you have no lab user: log in, use --as "
		    "USER, or (admins) list --all");
	l = ctx_lxd(c);
	if (all)
		r = lxd_instance_list(l, NULL, 0, &list);
	else {
		project_of(ctx_op(c), c->id.user_id, c->id.user, project);
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

		json_array_foreach(list, i, v)
			json_object_set_new(v, "project", json_string(project));
	}
	idx = index_instances(list);
	json_decref(list);
	ls = leases_new(l);

	t = table_new(all ? cols_all : cols);
	ctdb_list_owned(c->db, all, c->id.user_id, 0, &rows, &n);
	for (i = 0; i < n; i++) {
		const struct ct *ct = &rows[i].ct;
		const char *owner = rows[i].user;
		char *key, state[32], port[16], *ip = NULL;
		json_t *inst;

		project_name(c->srv->cfg.project_prefix, rows[i].project, owner,
		    project);
		key = xasprintf("%s/%s", project, ct->name);
		inst = json_object_get(idx, key);
		free(key);
		state_word(inst, state, sizeof(state));
		if (strcmp(state, "running") == 0)
			ip = instance_ipv4(ls, l, inst, project);
		if (strcmp(ct->state, "ready") != 0)
			snprintf(state, sizeof(state), "%s", ct->state);
		snprintf(port, sizeof(port), "%d", ct->port);
		if (all)
			table_add(t, owner, ct->name, state, ip ? ip : "-", port,
			    ct->image);
		else
			table_add(t, ct->name, state, ip ? ip : "-", port,
			    ct->image);
		free(ip);
	}
	free(rows);
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
